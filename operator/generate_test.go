package operator_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchctl/stretchctl/internal/kubetest"
)

// TestGeneratedFilesCurrent: the committed DeepCopy methods, CRDs and
// RBAC role are what controller-gen makes of the markers today (`make
// generate` rewrites them).
func TestGeneratedFilesCurrent(t *testing.T) {
	cg := kubetest.ControllerGen(t)
	root := kubetest.ModuleRoot(t)
	out := t.TempDir()
	for _, args := range [][]string{
		{"object", "paths=./api/...", "output:object:dir=" + filepath.Join(out, "api")},
		{"crd", "paths=./api/...", "output:crd:dir=" + filepath.Join(out, "crd")},
		{"rbac:roleName=stretchctl-operator", "paths=./operator/...", "output:rbac:dir=" + filepath.Join(out, "rbac")},
	} {
		cmd := exec.Command(cg, args...)
		cmd.Dir = root
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("controller-gen %s: %v\n%s", strings.Join(args, " "), err, b)
		}
	}
	for gen, committed := range map[string]string{
		"api/zz_generated.deepcopy.go":           "api/v1alpha1/zz_generated.deepcopy.go",
		"crd/stretchctl.io_stretchclusters.yaml": "manifests/crd/stretchctl.io_stretchclusters.yaml",
		"crd/stretchctl.io_failoverdrills.yaml":  "manifests/crd/stretchctl.io_failoverdrills.yaml",
		"rbac/role.yaml":                         "manifests/rbac/role.yaml",
	} {
		want, err := os.ReadFile(filepath.Join(out, gen))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(root, committed))
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("%s is stale: run make generate", committed)
		}
	}
}
