// Package kubetest starts a real Kubernetes API server for tests: envtest
// with the kube-apiserver and etcd that scripts/envtest.sh builds from Go
// modules (no binary downloads), and the CRDs a test installs. It fails in
// CI and skips elsewhere when the binaries are not built. It is imported
// by tests only.
package kubetest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
)

// build says how to make what is missing.
const build = "bash scripts/envtest.sh (builds kube-apiserver, etcd, controller-gen and the Chaos Mesh CRDs, ~7 min once on 2 cores)"

// ModuleRoot is the directory of this module's go.mod, found from the
// test's working directory upwards.
func ModuleRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			if _, err := os.Stat(filepath.Join(dir, "hack", "envtest", "go.mod")); err == nil {
				return dir
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("kubetest: the module root (with hack/envtest/go.mod) is not above the working directory")
		}
		dir = parent
	}
}

// Dir is where scripts/envtest.sh puts its results: the same name, from
// the versions in the tools module hack/envtest/go.mod.
func Dir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("STRETCHCTL_ENVTEST_DIR"); d != "" {
		return d
	}
	gomod, err := os.ReadFile(filepath.Join(ModuleRoot(t), "hack", "envtest", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	ver := func(mod string) string {
		for _, line := range strings.Split(string(gomod), "\n") {
			f := strings.Fields(line)
			if len(f) > 0 && f[0] == "require" {
				f = f[1:]
			}
			if len(f) >= 2 && f[0] == mod && strings.HasPrefix(f[1], "v") {
				return f[1]
			}
		}
		return ""
	}
	kube, etcd, cgen, chaosMesh := ver("k8s.io/kubernetes"), ver("go.etcd.io/etcd/server/v3"),
		ver("sigs.k8s.io/controller-tools"), ver("github.com/chaos-mesh/chaos-mesh/api")
	if kube == "" || etcd == "" || cgen == "" || chaosMesh == "" {
		t.Fatal("kubetest: hack/envtest/go.mod lacks a version")
	}
	cache := os.Getenv("XDG_CACHE_HOME")
	if cache == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			t.Fatal(err)
		}
		cache = filepath.Join(home, ".cache")
	}
	return filepath.Join(cache, "stretchctl", "envtest", fmt.Sprintf("kube-%s_etcd-%s_controller-gen-%s_chaos-mesh-%s",
		kube[1:], etcd[1:], cgen[1:], chaosMesh[strings.LastIndex(chaosMesh, "-")+1:]))
}

// Require fails in CI and skips elsewhere unless every path exists; with
// -short (outside CI) it skips.
func Require(t testing.TB, paths ...string) {
	t.Helper()
	if testing.Short() && os.Getenv("CI") == "" {
		t.Skip("envtest: starts a kube-apiserver and etcd; run without -short")
	}
	for _, p := range paths {
		if _, err := os.Stat(p); err != nil {
			msg := fmt.Sprintf("envtest: %s is missing; run %s", p, build)
			if os.Getenv("CI") != "" {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
	}
}

// Bin is the directory holding kube-apiserver, etcd and controller-gen
// (KUBEBUILDER_ASSETS when set).
func Bin(t testing.TB) string {
	t.Helper()
	if a := os.Getenv("KUBEBUILDER_ASSETS"); a != "" {
		return a
	}
	return filepath.Join(Dir(t), "bin")
}

// ControllerGen returns the controller-gen binary scripts/envtest.sh built.
func ControllerGen(t testing.TB) string {
	t.Helper()
	p := filepath.Join(Bin(t), "controller-gen")
	Require(t, p)
	return p
}

// ChaosMeshCRD returns the generated CRD file of a Chaos Mesh kind, e.g.
// "podchaos".
func ChaosMeshCRD(t testing.TB, plural string) string {
	t.Helper()
	p := filepath.Join(Dir(t), "crds", "chaos-mesh.org_"+plural+".yaml")
	Require(t, p)
	return p
}

// Env is a running API server.
type Env struct {
	*envtest.Environment
	Config *rest.Config
	Client client.Client
}

// Start starts kube-apiserver and etcd with the CRDs of crdPaths (files
// or directories) installed, and a client with scheme; both stop when the
// test ends.
func Start(t testing.TB, scheme *runtime.Scheme, crdPaths ...string) *Env {
	t.Helper()
	bin := Bin(t)
	Require(t, filepath.Join(bin, "kube-apiserver"), filepath.Join(bin, "etcd"))
	// controller-runtime's own log (envtest, the manager's internals) is
	// discarded: it takes one logger per process, and the code under
	// test writes to its own.
	logf.SetLogger(logr.Discard())
	no := false
	env := &envtest.Environment{
		BinaryAssetsDirectory: bin,
		CRDDirectoryPaths:     crdPaths,
		ErrorIfCRDPathMissing: true,
		UseExistingCluster:    &no,
		Scheme:                scheme,
	}
	start := time.Now()
	cfg, err := env.Start()
	if err != nil {
		t.Fatalf("envtest start (binaries in %s): %v", bin, err)
	}
	t.Cleanup(func() {
		if err := env.Stop(); err != nil {
			t.Errorf("envtest stop: %v", err)
		}
	})
	t.Logf("envtest: kube-apiserver, etcd and %d CRDs up in %v", len(env.CRDs), time.Since(start).Round(time.Millisecond))
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	return &Env{Environment: env, Config: cfg, Client: c}
}

// User returns a client configuration for a user of the API server that
// belongs to no group: RBAC (on in envtest) grants it only what the
// test binds to it, unlike Env.Config (system:masters).
func (e *Env) User(t testing.TB, name string) *rest.Config {
	t.Helper()
	u, err := e.AddUser(envtest.User{Name: name}, nil)
	if err != nil {
		t.Fatalf("envtest user %s: %v", name, err)
	}
	return u.Config()
}

// AdminKubeconfig writes a kubeconfig file of a system:masters user, for
// a process started by the test (`stretchctl operator --kubeconfig`).
func (e *Env) AdminKubeconfig(t testing.TB) string {
	t.Helper()
	u, err := e.AddUser(envtest.User{Name: "admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := u.KubeConfig()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
