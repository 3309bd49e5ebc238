package config

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/stretchctl/stretchctl/internal/golden"
	"github.com/stretchctl/stretchctl/internal/kubetest"
)

// controllerGen runs the controller-gen that scripts/envtest.sh built, in
// the module root.
func controllerGen(t *testing.T, args ...string) {
	t.Helper()
	cmd := exec.Command(kubetest.ControllerGen(t), args...)
	cmd.Dir = kubetest.ModuleRoot(t)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("controller-gen %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// TestDeepCopyIsGenerated: the committed DeepCopy methods are what
// controller-gen makes of the types today (make generate rewrites them).
func TestDeepCopyIsGenerated(t *testing.T) {
	out := t.TempDir()
	controllerGen(t, "object", "paths=./config", "output:object:dir="+out)
	want, err := os.ReadFile(filepath.Join(out, "zz_generated.deepcopy.go"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("zz_generated.deepcopy.go")
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Errorf("config/zz_generated.deepcopy.go is stale: run make generate")
	}

	c := mustLoad(t, "../testdata/config/full.yaml")
	cp := c.DeepCopy()
	if !reflect.DeepEqual(c, cp) {
		t.Fatalf("DeepCopy differs:\n%+v\n%+v", c, cp)
	}
	cp.Topology.Controllers["1"] = "dc-z"
	cp.Cluster.Bootstrap[0] = "elsewhere:9092"
	cp.Goals.Latency.Pairs["dc-a/dc-c"] = LatencyPair{}
	if c.Topology.Controllers["1"] != "dc-a" || c.Cluster.Bootstrap[0] == "elsewhere:9092" || c.Goals.Latency.Pairs["dc-a/dc-c"].Fail.Duration == 0 {
		t.Error("changing the copy changed the original")
	}
}

// TestConfigIsCRDSafe generates a CRD whose spec is Config (the fixture
// package testdata/crd), installs it into a real API server and stores
// every field of the full example: the API server keeps all of it (a
// field the schema lacked would be pruned), and refuses what the schema
// forbids.
func TestConfigIsCRDSafe(t *testing.T) {
	crds := t.TempDir()
	controllerGen(t, "crd", "paths=./testdata/crd", "output:crd:dir="+crds)
	env := kubetest.Start(t, runtime.NewScheme(), crds)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	c := mustLoad(t, golden.Path("config", "full.yaml"))
	spec := toMap(t, c)
	obj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "test.stretchctl.io/v1alpha1", "kind": "StretchConfig",
		"metadata": map[string]any{"name": "full", "namespace": "default"},
		"spec":     spec,
	}}
	if err := env.Client.Create(ctx, obj); err != nil {
		t.Fatalf("create a StretchConfig with the full example: %v", err)
	}
	got := &unstructured.Unstructured{}
	got.SetGroupVersionKind(schema.GroupVersionKind{Group: "test.stretchctl.io", Version: "v1alpha1", Kind: "StretchConfig"})
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: "default", Name: "full"}, got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Object["spec"], spec) {
		t.Errorf("the API server changed the spec (a field missing from the schema is pruned):\ngot  %v\nwant %v", got.Object["spec"], spec)
	}
	var back Config
	b, _ := json.Marshal(got.Object["spec"])
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Topology.Controllers["5"] != "dc-c" || back.Goals.RTO != c.Goals.RTO || back.Cluster.SASL.Mechanism != MechanismSCRAMSHA512 {
		t.Errorf("decoded back: controllers %v, rto %v, mechanism %s", back.Topology.Controllers, back.Goals.RTO, back.Cluster.SASL.Mechanism)
	}

	for name, bad := range map[string]func(map[string]any){
		"duration without a unit": func(s map[string]any) { s["goals"].(map[string]any)["rto"] = "30" },
		"unknown SASL mechanism":  func(s map[string]any) { s["cluster"].(map[string]any)["sasl"].(map[string]any)["mechanism"] = "GSSAPI" },
		"unknown client library":  func(s map[string]any) { s["clients"].([]any)[0].(map[string]any)["library"] = "kafkajs" },
	} {
		s := toMap(t, c)
		bad(s)
		o := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "test.stretchctl.io/v1alpha1", "kind": "StretchConfig",
			"metadata": map[string]any{"name": "bad", "namespace": "default"}, "spec": s,
		}}
		if err := env.Client.Create(ctx, o); !apierrors.IsInvalid(err) {
			t.Errorf("%s: create returned %v, want the schema to refuse it", name, err)
		}
	}
}

func toMap(t *testing.T, c *Config) map[string]any {
	t.Helper()
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}
