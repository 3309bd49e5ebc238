package operator_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	cm "github.com/chaos-mesh/chaos-mesh/api/v1alpha1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/stretchctl/stretchctl/advise"
	v1 "github.com/stretchctl/stretchctl/api/v1alpha1"
	"github.com/stretchctl/stretchctl/chaos"
	"github.com/stretchctl/stretchctl/chaos/chaosmesh"
	"github.com/stretchctl/stretchctl/chaos/chaostest"
	"github.com/stretchctl/stretchctl/clients"
	"github.com/stretchctl/stretchctl/config"
	"github.com/stretchctl/stretchctl/drill"
	"github.com/stretchctl/stretchctl/internal/golden"
	"github.com/stretchctl/stretchctl/internal/kubetest"
	"github.com/stretchctl/stretchctl/operator"
	"github.com/stretchctl/stretchctl/rules"
	"github.com/stretchctl/stretchctl/topology"
)

// operatorUser is who the operator runs as in these tests: bound to the
// generated ClusterRole and Role only, never an admin.
const operatorUser = "stretchctl-operator"

// world is one API server shared by the subtests: the CRDs (ours, Chaos
// Mesh's, stand-ins for Strimzi's), the generated RBAC bound to the
// operator's user, and a fake Chaos Mesh that marks the objects the
// operator creates injected, as Chaos Mesh's controllers would.
type world struct {
	t     *testing.T
	env   *kubetest.Env
	admin client.Client
	user  *rest.Config
	mu    sync.Mutex
	// faulted are the StretchClusters with a Chaos Mesh object reported
	// injected and not yet deleted: the fake workload's writes to them
	// fail.
	faulted map[string]bool
	// seen records every Chaos Mesh object created, by name.
	seen map[string]client.Object
	// readers is the drills' fake consumer group.
	readers chaostest.Readers
}

func newWorld(t *testing.T) *world {
	scheme, err := operator.Scheme()
	if err != nil {
		t.Fatal(err)
	}
	root := kubetest.ModuleRoot(t)
	env := kubetest.Start(t, scheme, filepath.Join(root, "manifests", "crd"),
		kubetest.ChaosMeshCRD(t, "podchaos"), kubetest.ChaosMeshCRD(t, "networkchaos"), filepath.Join("testdata", "strimzi-crds.yaml"))
	w := &world{t: t, env: env, admin: env.Client, seen: map[string]client.Object{}}
	ctx := context.Background()
	for _, ns := range []string{"stretchctl-system", "kafka"} {
		if err := w.admin.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
			t.Fatal(err)
		}
	}
	// The generated role, bound to the operator's user.
	for _, obj := range decodeYAML(t, filepath.Join(root, "manifests", "rbac", "role.yaml")) {
		if err := w.admin.Create(ctx, obj); err != nil {
			t.Fatalf("create %s: %v", obj.GetName(), err)
		}
	}
	subject := []rbacv1.Subject{{Kind: rbacv1.UserKind, Name: operatorUser, APIGroup: rbacv1.GroupName}}
	must(t, w.admin.Create(ctx, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "stretchctl-operator"}, Subjects: subject,
		RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "stretchctl-operator"}}))
	must(t, w.admin.Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "stretchctl-operator", Namespace: "stretchctl-system"}, Subjects: subject,
		RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "stretchctl-operator"}}))
	w.user = env.User(t, operatorUser)

	fctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go w.fakeChaosMesh(fctx, done)
	t.Cleanup(func() { cancel(); <-done })
	return w
}

// fakeChaosMesh marks every PodChaos and NetworkChaos injected (the
// AllInjected condition Chaos Mesh's controllers set) and counts those
// in place.
func (w *world) fakeChaosMesh(ctx context.Context, done chan struct{}) {
	defer close(done)
	for ctx.Err() == nil {
		var objs []client.Object
		var pods cm.PodChaosList
		var nets cm.NetworkChaosList
		if w.admin.List(ctx, &pods) == nil && w.admin.List(ctx, &nets) == nil {
			for i := range pods.Items {
				objs = append(objs, &pods.Items[i])
			}
			for i := range nets.Items {
				objs = append(objs, &nets.Items[i])
			}
		}
		var drills v1.FailoverDrillList
		_ = w.admin.List(ctx, &drills)
		faulted := map[string]bool{}
		for _, o := range objs {
			st := o.(interface{ GetStatus() *cm.ChaosStatus }).GetStatus()
			w.mu.Lock()
			w.seen[o.GetName()] = o.DeepCopyObject().(client.Object)
			w.mu.Unlock()
			if len(st.Conditions) == 0 {
				st.Conditions = []cm.ChaosCondition{{Type: cm.ConditionAllInjected, Status: corev1.ConditionTrue}}
				_ = w.admin.Update(ctx, o)
			}
			id := o.GetLabels()[chaosmesh.LabelDrill]
			// The restart test's dead drills are named after their
			// cluster, with "-dead".
			cluster := strings.TrimSuffix(id, "-dead")
			for _, d := range drills.Items {
				if d.Status.DrillID == id {
					cluster = d.Spec.ClusterRef.Name
				}
			}
			faulted[cluster] = true
		}
		w.mu.Lock()
		w.faulted = faulted
		w.mu.Unlock()
		select {
		case <-ctx.Done():
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// run starts the operator as its user; the returned function stops it
// (gracefully: drills heal) and waits.
func (w *world) run(t *testing.T, gather operator.Gatherer) (*operator.Operator, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan *operator.Operator, 1)
	errc := make(chan error, 1)
	go func() {
		errc <- operator.Run(ctx, operator.Options{
			Config: w.user, MetricsAddr: "0", ProbeAddr: "0",
			LeaderElection: true, LeaderElectionNamespace: "stretchctl-system",
			SecretDir: t.TempDir(), Log: testLog(t), Tool: "stretchctl", Version: "test", Gather: gather,
			Seams: operator.DrillSeams{
				Kafka: func(cfg *config.Config) chaos.Kafka { return &chaostest.Kafka{Snap: chaostest.Snapshot(), Config: cfg} },
				Workload: func(cfg *config.Config) chaos.Workload {
					return chaostest.Workload{Failing: func() bool {
						w.mu.Lock()
						defer w.mu.Unlock()
						return w.faulted[cfg.Cluster.Name]
					}}
				},
				Readers: func(*config.Config) chaos.Readers { return &w.readers },
			},
			Steady: 300 * time.Millisecond, Tail: 300 * time.Millisecond, DeleteWait: 2 * time.Second,
			Started: func(o *operator.Operator) { started <- o },
		})
	}()
	var op *operator.Operator
	select {
	case op = <-started:
	case err := <-errc:
		t.Fatalf("operator: %v", err)
	}
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-errc; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("operator: %v", err)
		}
	}
	t.Cleanup(stop)
	return op, stop
}

func TestOperator(t *testing.T) {
	w := newWorld(t)
	t.Run("schema", w.testSchema)
	t.Run("rbac", w.testRBAC)
	t.Run("check", w.testCheck)
	t.Run("strimzi", w.testStrimzi)
	t.Run("drill", w.testDrill)
	t.Run("drill with a consumer group", w.testDrillWithGroup)
	t.Run("refused", w.testRefused)
	t.Run("restart in every phase", w.testRestart)
	t.Run("delete mid-drill", w.testDelete)
	t.Run("orphaned fault", w.testOrphaned)
}

// testSchema: the CRDs refuse what the API forbids.
func (w *world) testSchema(t *testing.T) {
	ctx := context.Background()
	good := func() *v1.FailoverDrill {
		return &v1.FailoverDrill{ObjectMeta: metav1.ObjectMeta{Name: "schema", Namespace: "kafka"}, Spec: v1.FailoverDrillSpec{
			ClusterRef: v1.LocalRef{Name: "x"}, ClusterID: "id", Fault: "crash", DC: "dc-a", Duration: dur("30s"), Topic: "t"}}
	}
	for name, bad := range map[string]func(*v1.FailoverDrill){
		"unknown fault":                        func(d *v1.FailoverDrill) { d.Spec.Fault = "meltdown" },
		"duration without unit":                func(d *v1.FailoverDrill) { d.Spec.Duration = config.Duration{} },
		"latency without delay":                func(d *v1.FailoverDrill) { d.Spec.Fault = "latency" },
		"peer on a crash":                      func(d *v1.FailoverDrill) { d.Spec.Peer = "dc-b" },
		"no cluster id":                        func(d *v1.FailoverDrill) { d.Spec.ClusterID = "" },
		"rate 0 is the default, -1 is refused": func(d *v1.FailoverDrill) { d.Spec.Producer.Rate = -1 },
		"loss over 100%":                       func(d *v1.FailoverDrill) { d.Spec.Fault = "loss"; d.Spec.LossPercent = ptr(int32(101)) },
	} {
		d := good()
		bad(d)
		obj := toUnstructured(t, d)
		if name == "duration without unit" {
			unstructured.SetNestedField(obj.Object, "30", "spec", "duration")
		}
		if err := w.admin.Create(ctx, obj); !apierrors.IsInvalid(err) {
			t.Errorf("%s: create returned %v, want Invalid", name, err)
		}
	}
	d := good()
	must(t, w.admin.Create(ctx, d))
	d.Spec.DC = "dc-b"
	if err := w.admin.Update(ctx, d); !apierrors.IsInvalid(err) {
		t.Errorf("changing a drill's spec: %v, want Invalid", err)
	}
	must(t, w.admin.Delete(ctx, d))

	sc := &v1.StretchCluster{ObjectMeta: metav1.ObjectMeta{Name: "schema", Namespace: "kafka"}}
	if err := w.admin.Create(ctx, sc); !apierrors.IsInvalid(err) {
		t.Errorf("a StretchCluster without connection or strimziRef: %v, want Invalid", err)
	}
	sc.Spec.Connection = &v1.Connection{Bootstrap: []string{"a:9092"}}
	sc.Spec.StrimziRef = &v1.StrimziRef{Name: "k"}
	if err := w.admin.Create(ctx, sc); !apierrors.IsInvalid(err) {
		t.Errorf("a StretchCluster with both: %v, want Invalid", err)
	}
}

// testRBAC: the operator's user gets what the generated role grants and
// nothing else.
func (w *world) testRBAC(t *testing.T) {
	scheme, _ := operator.Scheme()
	c, err := client.New(w.user, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var cms corev1.ConfigMapList
	if err := c.List(ctx, &cms, client.InNamespace("kafka")); err != nil {
		t.Errorf("list configmaps (granted): %v", err)
	}
	var secrets corev1.SecretList
	if err := c.List(ctx, &secrets, client.InNamespace("kafka")); !apierrors.IsForbidden(err) {
		t.Errorf("list secrets: %v, want Forbidden (get only)", err)
	}
	dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "x", Namespace: "kafka"}}
	if err := c.Create(ctx, dep); !apierrors.IsForbidden(err) {
		t.Errorf("create a deployment: %v, want Forbidden", err)
	}
	pc := &cm.PodChaos{ObjectMeta: metav1.ObjectMeta{Name: "x", Namespace: "kafka"}}
	if err := c.Update(ctx, pc); !apierrors.IsForbidden(err) {
		t.Errorf("update a PodChaos: %v, want Forbidden (create and delete only)", err)
	}
	k := &unstructured.Unstructured{}
	k.SetAPIVersion("kafka.strimzi.io/v1beta2")
	k.SetKind("Kafka")
	k.SetName("x")
	k.SetNamespace("kafka")
	if err := c.Create(ctx, k); !apierrors.IsForbidden(err) {
		t.Errorf("create a Strimzi Kafka: %v, want Forbidden (read-only)", err)
	}
}

// exampleGather serves the worked examples: bootstrap example-NN:9092
// reads testdata/examples/NN-*/snapshot.json.
func exampleGather(t *testing.T) operator.Gatherer {
	return func(ctx context.Context, cfg *config.Config, opts advise.Options) (*advise.Inputs, error) {
		if cfg.Cluster.Bootstrap[0] == "fake:9092" {
			opts.Snapshot = chaostest.Snapshot()
		} else {
			opts.SnapshotFile = exampleSnapshot(t, cfg.Cluster.Bootstrap[0])
		}
		opts.LatencyTopic = ""
		return advise.Gather(ctx, cfg, opts)
	}
}

func exampleSnapshot(t *testing.T, bootstrap string) string {
	nn := strings.TrimSuffix(strings.TrimPrefix(bootstrap, "example-"), ":9092")
	m, _ := filepath.Glob(golden.Path("examples", nn+"-*", "snapshot.json"))
	if len(m) != 1 {
		t.Errorf("no worked example %s", nn)
		return "missing"
	}
	return m[0]
}

const producerProps = "acks=1\nenable.idempotence=false\n"

// testCheck: a StretchCluster reports what `stretchctl check` reports for
// the same cluster and config; a missing Secret is a spec error.
func (w *world) testCheck(t *testing.T) {
	ctx := context.Background()
	_, stop := w.run(t, exampleGather(t))
	defer stop()

	ex, err := config.Load(golden.Path("examples", "21-misconfigured", "stretch.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	must(t, w.admin.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "clients", Namespace: "kafka"}, Data: map[string]string{"producer.properties": producerProps}}))
	sc := &v1.StretchCluster{ObjectMeta: metav1.ObjectMeta{Name: "misconfigured", Namespace: "kafka"}, Spec: v1.StretchClusterSpec{
		Connection: &v1.Connection{Bootstrap: []string{"example-21:9092"}}, Topology: ex.Topology, Goals: ex.Goals,
		Clients: []v1.ClientRef{{Name: "orders", Kind: config.KindProducer, Library: config.LibraryJava, DC: "dc-b",
			ConfigMapRef: v1.ConfigMapKeyRef{Name: "clients", Key: "producer.properties"}}}}}
	must(t, w.admin.Create(ctx, sc))
	got := waitCluster(t, w.admin, sc, func(s *v1.StretchCluster) bool { return s.Status.LastCheckTime != nil })

	// What `stretchctl check` says with the same config, snapshot and
	// client file.
	cc, err := clients.Parse("configmap/clients/producer.properties", []byte(producerProps), topology.Producer, "java", "dc-b", config.DefaultKafkaVersion)
	if err != nil {
		t.Fatal(err)
	}
	cc.Version, cc.VersionAssumed = config.DefaultKafkaVersion, true
	ex.Cluster.Bootstrap = []string{"example-21:9092"}
	want, err := advise.Check(ctx, ex, advise.Options{SnapshotFile: exampleSnapshot(t, "example-21"), Clients: []topology.ClientConfig{cc}, FailOn: rules.High})
	if err != nil {
		t.Fatal(err)
	}
	if got.Status.Verdict != v1.VerdictFail || want.Verdict != rules.VerdictFail {
		t.Errorf("verdict %s, check says %s", got.Status.Verdict, want.Verdict)
	}
	if c := want.Counts; int(got.Status.Findings.Critical) != c["critical"] || int(got.Status.Findings.High) != c["high"] || int(got.Status.Findings.Medium) != c["medium"] {
		t.Errorf("findings %+v, check counts %v", got.Status.Findings, c)
	}
	if len(got.Status.TopFindings) != 5 || got.Status.TopFindings[0].Severity != "critical" {
		t.Errorf("top findings: %+v", got.Status.TopFindings)
	}
	if len(got.Status.Scenarios) != len(want.Scenarios) {
		t.Errorf("%d scenarios, check has %d", len(got.Status.Scenarios), len(want.Scenarios))
	}
	var report corev1.ConfigMap
	must(t, w.admin.Get(ctx, client.ObjectKey{Namespace: "kafka", Name: got.Status.ReportConfigMap}, &report))
	var stored rules.Report
	if err := json.Unmarshal([]byte(report.Data["report.json"]), &stored); err != nil {
		t.Fatalf("report configmap: %v", err)
	}
	if ids(stored.Findings) != ids(want.Findings) {
		t.Errorf("the stored report's findings differ from check's:\n%s\n%s", ids(stored.Findings), ids(want.Findings))
	}
	if !strings.Contains(ids(stored.Findings), "configmap/clients/producer.properties") {
		t.Errorf("no finding on the ConfigMap's producer (acks=1): %s", ids(stored.Findings))
	}
	if c := cond(got.Status.Conditions, v1.ConditionGoalsMet); c == nil || c.Status != metav1.ConditionFalse || c.ObservedGeneration != got.Generation {
		t.Errorf("GoalsMet: %+v", c)
	}
	if c := cond(got.Status.Conditions, v1.ConditionReady); c == nil || c.Status == metav1.ConditionTrue {
		// Example 21 has two voters out of the three DCs' worth; its
		// quorum findings make it not ready.
		t.Logf("Ready: %+v", c)
	}
	if v := metric(t, "stretchctl_findings", map[string]string{"namespace": "kafka", "cluster": "misconfigured", "severity": "critical"}); int(v) != want.Counts["critical"] {
		t.Errorf("stretchctl_findings{severity=critical} = %v, want %d", v, want.Counts["critical"])
	}
	waitEvent(t, w.admin, "kafka", "misconfigured", "VerdictChanged")

	// A Secret that is not there: the spec is refused with the name.
	well, err := config.Load(golden.Path("examples", "20-well-configured", "stretch.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	bad := &v1.StretchCluster{ObjectMeta: metav1.ObjectMeta{Name: "nosecret", Namespace: "kafka"}, Spec: v1.StretchClusterSpec{
		Connection: &v1.Connection{Bootstrap: []string{"example-20:9092"}, SASL: &v1.SASL{Mechanism: config.MechanismSCRAMSHA512, Username: "u",
			PasswordSecretRef: v1.SecretKeyRef{Name: "kafka-user", Key: "password"}}}, Topology: well.Topology, Goals: well.Goals}}
	must(t, w.admin.Create(ctx, bad))
	b := waitCluster(t, w.admin, bad, func(s *v1.StretchCluster) bool { return cond(s.Status.Conditions, v1.ConditionReady) != nil })
	if c := cond(b.Status.Conditions, v1.ConditionReady); c.Reason != "InvalidSpec" || !strings.Contains(c.Message, "kafka-user") {
		t.Errorf("Ready for a missing secret: %+v", c)
	}
	// Once the Secret is there and the spec touched, the check runs.
	must(t, w.admin.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "kafka-user", Namespace: "kafka"}, Data: map[string][]byte{"password": []byte("pw")}}))
	b.Spec.CheckInterval = ptr(dur("1m"))
	must(t, w.admin.Update(ctx, b))
	b = waitCluster(t, w.admin, bad, func(s *v1.StretchCluster) bool {
		return s.Status.ObservedGeneration == 2 && s.Status.Verdict != v1.VerdictUnknown
	})
	if b.Status.Verdict != v1.VerdictPass {
		t.Errorf("the well-configured example: verdict %s, %+v", b.Status.Verdict, b.Status.TopFindings)
	}
	if c := cond(b.Status.Conditions, v1.ConditionReady); c.Status != metav1.ConditionTrue {
		t.Errorf("Ready of the well-configured example: %+v", c)
	}
}

// testStrimzi: the bootstrap, the DCs and the voters come from a Strimzi
// Kafka, its node pools, their pods and the nodes' zones.
func (w *world) testStrimzi(t *testing.T) {
	ctx := context.Background()
	var seen []string
	var mu sync.Mutex
	gather := func(ctx context.Context, cfg *config.Config, opts advise.Options) (*advise.Inputs, error) {
		mu.Lock()
		seen = append(seen, strings.Join(cfg.Cluster.Bootstrap, ","))
		mu.Unlock()
		opts.SnapshotFile = exampleSnapshot(t, "example-05")
		opts.LatencyTopic = ""
		return advise.Gather(ctx, cfg, opts)
	}
	_, stop := w.run(t, gather)
	defer stop()

	zones := map[string]string{"node-a": "dc-a", "node-b": "dc-b", "node-c": "dc-c"}
	for n, z := range zones {
		must(t, w.admin.Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: n, Labels: map[string]string{corev1.LabelTopologyZone: z}}}))
	}
	kafka := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "kafka.strimzi.io/v1beta2", "kind": "Kafka",
		"metadata": map[string]any{"name": "stretch", "namespace": "kafka"},
		"spec": map[string]any{"kafka": map[string]any{"listeners": []any{
			map[string]any{"name": "plain", "port": int64(9092), "type": "internal", "tls": false},
			map[string]any{"name": "tls", "port": int64(9093), "type": "internal", "tls": true, "authentication": map[string]any{"type": "tls"}},
		}}}}}
	must(t, w.admin.Create(ctx, kafka))
	kafka.Object["status"] = map[string]any{"listeners": []any{
		map[string]any{"name": "plain", "bootstrapServers": "stretch-kafka-bootstrap.kafka.svc:9092"},
		map[string]any{"name": "tls", "bootstrapServers": "stretch-kafka-bootstrap.kafka.svc:9093"},
	}}
	must(t, w.admin.Status().Update(ctx, kafka))
	for _, pool := range []struct {
		name  string
		roles []any
		ids   []int
	}{{"controllers", []any{"controller"}, []int{10, 11, 12}}, {"brokers", []any{"broker"}, []int{1, 2, 3}}} {
		p := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "kafka.strimzi.io/v1beta2", "kind": "KafkaNodePool",
			"metadata": map[string]any{"name": pool.name, "namespace": "kafka", "labels": map[string]any{"strimzi.io/cluster": "stretch"}},
			"spec":     map[string]any{"roles": pool.roles, "replicas": int64(3)}}}
		must(t, w.admin.Create(ctx, p))
		for i, id := range pool.ids {
			node := []string{"node-a", "node-b", "node-c"}[i]
			if pool.name == "brokers" && id == 3 {
				// Kafka says broker 3 is in dc-c (broker.rack); its pod
				// runs in dc-a: the cross-check must say so.
				node = "node-a"
			}
			must(t, w.admin.Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("stretch-%s-%d", pool.name, id), Namespace: "kafka",
				Labels: map[string]string{"strimzi.io/cluster": "stretch", "strimzi.io/pool-name": pool.name}},
				Spec: corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{Name: "kafka", Image: "kafka"}}}}))
		}
	}
	sc := &v1.StretchCluster{ObjectMeta: metav1.ObjectMeta{Name: "strimzi", Namespace: "kafka"}, Spec: v1.StretchClusterSpec{StrimziRef: &v1.StrimziRef{Name: "stretch"}}}
	must(t, w.admin.Create(ctx, sc))
	got := waitCluster(t, w.admin, sc, func(s *v1.StretchCluster) bool { return s.Status.LastCheckTime != nil })
	if got.Status.Verdict == v1.VerdictUnknown {
		t.Fatalf("no check: %+v", got.Status.Conditions)
	}
	topo := got.Status.Topology
	if topo == nil || !slices.Equal(topo.DCs, []string{"dc-a", "dc-b", "dc-c"}) || topo.Controllers["10"] != "dc-a" || topo.Controllers["12"] != "dc-c" || len(topo.Controllers) != 3 {
		t.Errorf("derived topology: %+v", topo)
	}
	if !slices.Equal(got.Status.Bootstrap, []string{"stretch-kafka-bootstrap.kafka.svc:9092"}) {
		t.Errorf("bootstrap %v: want the plain internal listener's", got.Status.Bootstrap)
	}
	var report corev1.ConfigMap
	must(t, w.admin.Get(ctx, client.ObjectKey{Namespace: "kafka", Name: got.Status.ReportConfigMap}, &report))
	if !strings.Contains(report.Data["report.json"], "broker 3 has broker.rack dc-c (DC dc-c) but its pod runs in zone dc-a") {
		t.Errorf("the report does not name broker 3's zone mismatch:\n%.3000s", report.Data["report.json"])
	}
	waitEvent(t, w.admin, "kafka", "strimzi", "TopologyMismatch")
	mu.Lock()
	defer mu.Unlock()
	if len(seen) == 0 || seen[0] != "stretch-kafka-bootstrap.kafka.svc:9092" {
		t.Errorf("the check was given bootstrap %v", seen)
	}
}

// lab3 is a StretchCluster the drills run on (chaostest's cluster).
func (w *world) cluster(t *testing.T, name string) *v1.StretchCluster {
	c := chaostest.Config()
	sc := &v1.StretchCluster{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "kafka"}, Spec: v1.StretchClusterSpec{
		Connection: &v1.Connection{Bootstrap: []string{"fake:9092"}}, Topology: c.Topology, CheckInterval: ptr(dur("1h")),
		Chaos: v1.ChaosTarget{Namespaces: []string{"kafka"}, PodLabels: map[string]string{"app": "kafka"}}, Probe: v1.ProbeSpec{Topic: "-"}}}
	must(t, w.admin.Create(context.Background(), sc))
	return sc
}

func newDrill(name, cluster string, hold string) *v1.FailoverDrill {
	return &v1.FailoverDrill{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "kafka"}, Spec: v1.FailoverDrillSpec{
		ClusterRef: v1.LocalRef{Name: cluster}, ClusterID: chaostest.ClusterID, Fault: "crash", DC: "dc-a", Duration: dur(hold), Topic: "t"}}
}

// testDrill: a drill runs to Succeeded through Chaos Mesh objects with a
// duration, verified by Kafka; a second drill of the cluster waits.
func (w *world) testDrill(t *testing.T) {
	ctx := context.Background()
	_, stop := w.run(t, exampleGather(t))
	defer stop()
	w.cluster(t, "lab3")
	first, second := newDrill("first", "lab3", "2s"), newDrill("second", "lab3", "1s")
	must(t, w.admin.Create(ctx, first))
	waitDrill(t, w.admin, first, func(d *v1.FailoverDrill) bool { return d.Status.Phase == v1.DrillPhase(drill.Holding) })
	must(t, w.admin.Create(ctx, second))
	s := waitDrill(t, w.admin, second, func(d *v1.FailoverDrill) bool { return d.Status.Phase == v1.DrillPhasePending })
	if c := cond(s.Status.Conditions, v1.ConditionSucceeded); c == nil || c.Reason != "WaitingForDrill" || !strings.Contains(c.Message, "first") {
		t.Errorf("the second drill: %+v", c)
	}
	f := waitDrill(t, w.admin, first, func(d *v1.FailoverDrill) bool { return d.Status.Verdict != "" })
	for _, typ := range []string{v1.ConditionSucceeded, v1.ConditionPreflightPassed, v1.ConditionFaultInjected, v1.ConditionRecoveryVerified} {
		if c := cond(f.Status.Conditions, typ); c == nil || c.Status != metav1.ConditionTrue {
			t.Errorf("%s: %+v (status %+v)", typ, c, f.Status)
		}
	}
	if f.Status.Verdict != v1.DrillPass || f.Status.Observed == nil || f.Status.Observed.AckedLost != 0 || f.Status.Observed.RTO == "" {
		t.Errorf("verdict %s observed %+v message %s", f.Status.Verdict, f.Status.Observed, f.Status.Message)
	}
	if rto, err := time.ParseDuration(f.Status.Observed.RTO); err != nil || rto < 1500*time.Millisecond || rto > 4*time.Second {
		t.Errorf("observed RTO %s: want about the 2 s hold", f.Status.Observed.RTO)
	}
	if f.Status.Predicted == nil || f.Status.Predicted.RTO == "" || f.Status.Agreement == "" {
		t.Errorf("prediction %+v agreement %q", f.Status.Predicted, f.Status.Agreement)
	}
	if len(f.Status.ChaosObjects) != 1 || !strings.HasPrefix(f.Status.ChaosObjects[0], "PodChaos kafka/") {
		t.Errorf("chaos objects: %v", f.Status.ChaosObjects)
	}
	w.mu.Lock()
	for _, o := range w.seen {
		if o.GetLabels()[chaosmesh.LabelDrill] == f.Status.DrillID {
			pc := o.(*cm.PodChaos)
			if pc.Spec.Duration == nil || *pc.Spec.Duration == "" || pc.Spec.Action != cm.PodKillAction || pc.Spec.Selector.LabelSelectors["app"] != "kafka" {
				t.Errorf("PodChaos %s: %+v", pc.Name, pc.Spec)
			}
		}
	}
	w.mu.Unlock()
	w.noChaosLeft(t, f.Status.DrillID)
	var res corev1.ConfigMap
	must(t, w.admin.Get(ctx, client.ObjectKey{Namespace: "kafka", Name: f.Status.ResultConfigMap}, &res))
	var r drill.Result
	if err := json.Unmarshal([]byte(res.Data["result.json"]), &r); err != nil || r.Verdict != drill.Pass || r.Backend != "chaos-mesh" {
		t.Errorf("result configmap: %v %+v", err, r.Verdict)
	}
	if v := metric(t, "stretchctl_drill_observed_rto_seconds", map[string]string{"cluster": "lab3", "fault": "crash", "dc": "dc-a"}); v <= 0 {
		t.Errorf("stretchctl_drill_observed_rto_seconds = %v", v)
	}
	sec := waitDrill(t, w.admin, second, func(d *v1.FailoverDrill) bool { return d.Status.Verdict != "" })
	if sec.Status.Verdict != v1.DrillPass || sec.Status.StartTime.Before(f.Status.CompletionTime) {
		t.Errorf("second drill: verdict %s, started %v, first completed %v", sec.Status.Verdict, sec.Status.StartTime, f.Status.CompletionTime)
	}
}

// testDrillWithGroup: spec.consumers runs the drill's group (here the
// fake one) with the properties of the ConfigMap, and the read side is in
// the status and the result.
func (w *world) testDrillWithGroup(t *testing.T) {
	ctx := context.Background()
	_, stop := w.run(t, exampleGather(t))
	defer stop()
	w.cluster(t, "group")
	must(t, w.admin.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "readers", Namespace: "kafka"},
		Data: map[string]string{"consumer.properties": "session.timeout.ms=10000\n"}}))
	d := newDrill("reads", "group", "1s")
	d.Spec.Consumers = &v1.ConsumerSpec{Members: 2, ConfigMapRef: &v1.ConfigMapKeyRef{Name: "readers", Key: "consumer.properties"}}
	must(t, w.admin.Create(ctx, d))
	got := waitDrill(t, w.admin, d, func(d *v1.FailoverDrill) bool { return d.Status.Verdict != "" })
	if got.Status.Predicted == nil || got.Status.Predicted.ReadRTO == "" || got.Status.Observed == nil {
		t.Errorf("status without the read side: predicted %+v observed %+v (%s)", got.Status.Predicted, got.Status.Observed, got.Status.Message)
	}
	var res corev1.ConfigMap
	must(t, w.admin.Get(ctx, client.ObjectKey{Namespace: "kafka", Name: got.Status.ResultConfigMap}, &res))
	var r drill.Result
	if err := json.Unmarshal([]byte(res.Data["result.json"]), &r); err != nil {
		t.Fatal(err)
	}
	c := r.Workload.Consumers
	if c == nil || len(c.Members) != 1 || c.Members[0].Members != 2 || c.Library != string(config.LibraryFranzGo) || !strings.HasSuffix(c.Source, "consumer.properties") || r.Observed.Read == nil {
		t.Errorf("result: consumers %+v, read %+v", c, r.Observed.Read)
	}
	if calls := w.readers.Calls(); !slices.Contains(calls, "start") || !slices.Contains(calls, "stop") {
		t.Errorf("the group was not started and stopped: %v", calls)
	}
}

// testRefused: a DC the cluster does not have, and another cluster's id,
// inject nothing.
func (w *world) testRefused(t *testing.T) {
	ctx := context.Background()
	_, stop := w.run(t, exampleGather(t))
	defer stop()
	w.cluster(t, "refused")
	d := newDrill("unknown-dc", "refused", "1s")
	d.Spec.DC = "dc-z"
	must(t, w.admin.Create(ctx, d))
	got := waitDrill(t, w.admin, d, func(d *v1.FailoverDrill) bool { return d.Status.Verdict != "" })
	if c := cond(got.Status.Conditions, v1.ConditionSucceeded); got.Status.Verdict != v1.DrillAborted || c.Reason != "UnknownDC" || !strings.Contains(c.Message, "dc-z") {
		t.Errorf("unknown DC: %s %+v", got.Status.Verdict, c)
	}
	placed := newDrill("producer-elsewhere", "refused", "1s")
	placed.Spec.Producer.DC = "dc-b"
	must(t, w.admin.Create(ctx, placed))
	got = waitDrill(t, w.admin, placed, func(d *v1.FailoverDrill) bool { return d.Status.Verdict != "" })
	if c := cond(got.Status.Conditions, v1.ConditionSucceeded); got.Status.Verdict != v1.DrillAborted || c.Reason != "ProducerPlacement" {
		t.Errorf("producers in another DC than the operator: %s %+v", got.Status.Verdict, c)
	}
	other := newDrill("other-cluster", "refused", "1s")
	other.Spec.ClusterID = "production-cluster"
	must(t, w.admin.Create(ctx, other))
	got = waitDrill(t, w.admin, other, func(d *v1.FailoverDrill) bool { return d.Status.Verdict != "" })
	if c := cond(got.Status.Conditions, v1.ConditionPreflightPassed); got.Status.Verdict != v1.DrillAborted || c == nil || c.Reason != "WrongCluster" {
		t.Errorf("another cluster's id: %s %+v", got.Status.Verdict, got.Status.Conditions)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, o := range w.seen {
		if id := o.GetLabels()[chaosmesh.LabelDrill]; id == got.Status.DrillID {
			t.Errorf("a refused drill created %s", o.GetName())
		}
	}
}

// testRestart: an operator that died in any phase is replaced by one
// that heals from the recorded phase; a drill that had injected nothing
// starts again.
func (w *world) testRestart(t *testing.T) {
	ctx := context.Background()
	type tc struct {
		phase drill.Phase
		d     *v1.FailoverDrill
	}
	var cases []tc
	for _, p := range drill.AllPhases()[:drill.Done.Index()] {
		name := "restart-" + strings.ToLower(string(p))
		w.cluster(t, name)
		d := newDrill(name, name, "1s")
		must(t, w.admin.Create(ctx, d))
		// What the dead operator had recorded.
		id := name + "-dead"
		injected := metav1.NewTime(time.Now().Add(-2 * time.Second))
		d.Status = v1.FailoverDrillStatus{Phase: v1.DrillPhase(p), DrillID: id, StartTime: &injected}
		if p.Index() >= drill.Injecting.Index() {
			d.Status.InjectedTime = &injected
		}
		must(t, w.admin.Status().Update(ctx, d))
		if p.FaultMayBeInPlace() {
			b := chaosmesh.New(drill.ChaosMeshSpec{Namespace: "kafka", DrillID: id, ZoneLabel: corev1.LabelTopologyZone}, w.admin)
			must(t, b.Apply(ctx, drill.Fault{Kind: drill.Crash, DC: "dc-a", Duration: time.Second}))
		}
		cases = append(cases, tc{p, d})
	}
	_, stop := w.run(t, exampleGather(t))
	defer stop()
	for _, c := range cases {
		got := waitDrill(t, w.admin, c.d, func(d *v1.FailoverDrill) bool { return d.Status.Verdict != "" })
		w.noChaosLeft(t, c.d.Name+"-dead")
		switch {
		case c.phase.Index() < drill.Injecting.Index():
			if got.Status.Verdict != v1.DrillPass || got.Status.DrillID == c.d.Name+"-dead" {
				t.Errorf("%s: nothing was injected, the drill should run again: %s (%s)", c.phase, got.Status.Verdict, got.Status.Message)
			}
		default:
			if got.Status.Verdict != v1.DrillInconclusive {
				t.Errorf("%s: verdict %s, want Inconclusive (%s)", c.phase, got.Status.Verdict, got.Status.Message)
			}
			if rc := cond(got.Status.Conditions, v1.ConditionRecoveryVerified); rc == nil || rc.Status != metav1.ConditionTrue {
				t.Errorf("%s: RecoveryVerified %+v", c.phase, rc)
			}
		}
	}
}

// testDelete: deleting a drill mid-fault heals it before the object goes.
func (w *world) testDelete(t *testing.T) {
	ctx := context.Background()
	_, stop := w.run(t, exampleGather(t))
	defer stop()
	w.cluster(t, "deleted")
	d := newDrill("deleted", "deleted", "5m")
	must(t, w.admin.Create(ctx, d))
	got := waitDrill(t, w.admin, d, func(d *v1.FailoverDrill) bool { return d.Status.Phase == v1.DrillPhase(drill.Holding) })
	if !slices.Contains(got.Finalizers, operator.Finalizer) {
		t.Errorf("finalizers %v", got.Finalizers)
	}
	must(t, w.admin.Delete(ctx, got))
	deadline := time.Now().Add(time.Minute)
	for {
		err := w.admin.Get(ctx, client.ObjectKeyFromObject(d), &v1.FailoverDrill{})
		if apierrors.IsNotFound(err) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the deleted drill is still there: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	w.noChaosLeft(t, got.Status.DrillID)
}

// testOrphaned: a deleted drill whose Chaos Mesh object does not go
// (another finalizer holds it) keeps its finalizer and names the object;
// once the object can go, the drill goes.
func (w *world) testOrphaned(t *testing.T) {
	ctx := context.Background()
	w.cluster(t, "orphaned")
	d := newDrill("orphaned", "orphaned", "1s")
	d.Finalizers = []string{operator.Finalizer}
	must(t, w.admin.Create(ctx, d))
	done := metav1.Now()
	d.Status = v1.FailoverDrillStatus{Phase: v1.DrillPhase(drill.Done), DrillID: "orphaned-1", Verdict: v1.DrillPass, CompletionTime: &done}
	must(t, w.admin.Status().Update(ctx, d))
	// A PodChaos of the drill that another finalizer holds.
	b := chaosmesh.New(drill.ChaosMeshSpec{Namespace: "kafka", DrillID: "orphaned-1"}, w.admin)
	objs, err := b.Objects(drill.Fault{Kind: drill.Crash, DC: "dc-a", Duration: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	stuck := objs[0].(*cm.PodChaos)
	stuck.Finalizers = []string{"example.com/stuck"}
	must(t, w.admin.Create(ctx, stuck))

	_, stop := w.run(t, exampleGather(t))
	defer stop()
	must(t, w.admin.Delete(ctx, d))
	got := waitDrill(t, w.admin, d, func(d *v1.FailoverDrill) bool { return len(d.Status.Orphaned) > 0 })
	if !slices.Contains(got.Finalizers, operator.Finalizer) || !strings.Contains(got.Status.Orphaned[0], stuck.Name) {
		t.Errorf("finalizers %v, orphaned %v: want the finalizer kept and %s named", got.Finalizers, got.Status.Orphaned, stuck.Name)
	}
	waitEvent(t, w.admin, "kafka", "orphaned", "NotHealed")
	// The other finalizer goes: so does the object, then the drill.
	for {
		must(t, w.admin.Get(ctx, client.ObjectKeyFromObject(stuck), stuck))
		stuck.Finalizers = nil
		err := w.admin.Update(ctx, stuck)
		if err == nil {
			break
		}
		if !apierrors.IsConflict(err) {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(time.Minute)
	for !apierrors.IsNotFound(w.admin.Get(ctx, client.ObjectKeyFromObject(d), &v1.FailoverDrill{})) {
		if time.Now().After(deadline) {
			t.Fatal("the drill stayed after its Chaos Mesh object went")
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// noChaosLeft: no PodChaos or NetworkChaos of the drill remains.
func (w *world) noChaosLeft(t *testing.T, id string) {
	t.Helper()
	var pods cm.PodChaosList
	var nets cm.NetworkChaosList
	sel := client.MatchingLabels{chaosmesh.LabelDrill: id}
	must(t, w.admin.List(context.Background(), &pods, sel))
	must(t, w.admin.List(context.Background(), &nets, sel))
	if len(pods.Items)+len(nets.Items) > 0 {
		t.Errorf("drill %s left %d PodChaos and %d NetworkChaos", id, len(pods.Items), len(nets.Items))
	}
}

func waitCluster(t *testing.T, c client.Client, sc *v1.StretchCluster, ok func(*v1.StretchCluster) bool) *v1.StretchCluster {
	t.Helper()
	return waitFor(t, c, sc, &v1.StretchCluster{}, ok)
}

func waitDrill(t *testing.T, c client.Client, d *v1.FailoverDrill, ok func(*v1.FailoverDrill) bool) *v1.FailoverDrill {
	t.Helper()
	return waitFor(t, c, d, &v1.FailoverDrill{}, ok)
}

func waitFor[T client.Object](t *testing.T, c client.Client, key, into T, ok func(T) bool) T {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		err := c.Get(context.Background(), client.ObjectKeyFromObject(key), into)
		if err == nil && ok(into) {
			return into
		}
		if time.Now().After(deadline) {
			b, _ := json.MarshalIndent(into, "", "  ")
			t.Fatalf("%s: condition not reached within a minute (%v):\n%s", key.GetName(), err, b)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func waitEvent(t *testing.T, c client.Client, ns, object, reason string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		var evs corev1.EventList
		if err := c.List(context.Background(), &evs, client.InNamespace(ns)); err == nil {
			for _, e := range evs.Items {
				if e.InvolvedObject.Name == object && e.Reason == reason {
					return
				}
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Errorf("no %s event on %s", reason, object)
}

// metric reads a gauge of the controller-runtime registry the operator
// serves on /metrics: the sum over series whose labels include want.
func metric(t *testing.T, name string, want map[string]string) float64 {
	t.Helper()
	fams, err := ctrlmetrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum, found := 0.0, false
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
	series:
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			for k, v := range want {
				if labels[k] != v {
					continue series
				}
			}
			sum, found = sum+m.GetGauge().GetValue(), true
		}
	}
	if !found {
		t.Errorf("no %s%v on /metrics", name, want)
	}
	return sum
}

func cond(conds []metav1.Condition, typ string) *metav1.Condition {
	return meta.FindStatusCondition(conds, typ)
}

func ids(fs []rules.Finding) string {
	var out []string
	for _, f := range fs {
		out = append(out, f.ID+" "+f.Subject)
	}
	slices.Sort(out)
	return strings.Join(out, "\n")
}

func dur(s string) config.Duration {
	d, err := config.ParseDuration(s)
	if err != nil {
		panic(err)
	}
	return d
}

func ptr[T any](v T) *T { return &v }

func namespace(name string) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func toUnstructured(t *testing.T, o runtime.Object) *unstructured.Unstructured {
	t.Helper()
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(o)
	if err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{Object: m}
	u.SetAPIVersion(v1.GroupVersion.String())
	u.SetKind(strings.TrimPrefix(fmt.Sprintf("%T", o), "*v1alpha1."))
	return u
}

// decodeYAML reads the objects of a multi-document YAML file.
func decodeYAML(t *testing.T, path string) []client.Object {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := yaml.NewYAMLOrJSONDecoder(f, 4096)
	var out []client.Object
	for {
		u := &unstructured.Unstructured{}
		if err := dec.Decode(&u.Object); err != nil {
			if errors.Is(err, io.EOF) {
				return out
			}
			t.Fatal(err)
		}
		if len(u.Object) > 0 {
			out = append(out, u)
		}
	}
}

// testLog sends the operator's log to the test's, when -v.
func testLog(t *testing.T) *slog.Logger {
	if !testing.Verbose() {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}
