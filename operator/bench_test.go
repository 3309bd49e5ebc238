package operator_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/record"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/stretchctl/stretchctl/advise"
	v1 "github.com/stretchctl/stretchctl/api/v1alpha1"
	"github.com/stretchctl/stretchctl/config"
	"github.com/stretchctl/stretchctl/internal/kubetest"
	"github.com/stretchctl/stretchctl/internal/synth"
	"github.com/stretchctl/stretchctl/lab/labtest"
	"github.com/stretchctl/stretchctl/operator"
)

// BenchmarkReconcile5000 is one StretchCluster reconcile of a 5,000
// partition cluster (100 topics × 50): the check pipeline on the
// snapshot, the report ConfigMap, the status (target: under 2 s). The
// API server is controller-runtime's fake client; reading the cluster
// over the network is left out (it is Kafka's time, not ours).
func BenchmarkReconcile5000(b *testing.B) {
	scheme, err := operator.Scheme()
	if err != nil {
		b.Fatal(err)
	}
	snap := synth.Snapshot(100, 50)
	sc := &v1.StretchCluster{ObjectMeta: metav1.ObjectMeta{Name: "big", Namespace: "kafka", Generation: 1}, Spec: v1.StretchClusterSpec{
		Connection: &v1.Connection{Bootstrap: []string{"b1:9092"}}, Topology: config.Topology{DCs: synth.DCs}, Probe: v1.ProbeSpec{Topic: "-"}}}
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(sc).WithStatusSubresource(&v1.StretchCluster{}).Build()
	now := time.Now()
	r := &operator.StretchClusterReconciler{Client: c, Reader: c, Recorder: &record.FakeRecorder{}, SecretDir: b.TempDir(),
		Metrics: operator.NewMetrics(nil),
		// Every reconcile is due: the clock moves a day each time.
		Now: func() time.Time { now = now.Add(24 * time.Hour); return now },
		Gather: func(ctx context.Context, cfg *config.Config, opts advise.Options) (*advise.Inputs, error) {
			opts.Snapshot = snap
			return advise.Gather(ctx, cfg, opts)
		}}
	req := ctrl.Request{NamespacedName: client.ObjectKeyFromObject(sc)}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Reconcile(context.Background(), req); err != nil {
			b.Fatal(err)
		}
	}
	var got v1.StretchCluster
	if err := c.Get(context.Background(), req.NamespacedName, &got); err != nil || got.Status.Verdict == "" {
		b.Fatalf("no check recorded: %v %+v", err, got.Status)
	}
}

// BenchmarkOperatorIdleRSS runs `stretchctl operator` against a real API
// server with one StretchCluster checked every 30 s (its Kafka does not
// answer) and reports the process's resident memory after a minute
// (target: under 64 MiB).
func BenchmarkOperatorIdleRSS(b *testing.B) {
	scheme, err := operator.Scheme()
	if err != nil {
		b.Fatal(err)
	}
	env := kubetest.Start(b, scheme, filepath.Join(kubetest.ModuleRoot(b), "manifests", "crd"))
	bin := labtest.BuildStretchctl(b)
	ctx := context.Background()
	must(b, env.Client.Create(ctx, namespace("kafka")))
	must(b, env.Client.Create(ctx, &v1.StretchCluster{ObjectMeta: metav1.ObjectMeta{Name: "idle", Namespace: "kafka"}, Spec: v1.StretchClusterSpec{
		Connection: &v1.Connection{Bootstrap: []string{"127.0.0.1:1"}, Timeout: ptr(dur("2s"))}, Topology: config.Topology{DCs: synth.DCs},
		CheckInterval: ptr(dur("30s"))}}))
	for b.Loop() {
		cmd := exec.Command(bin, "operator", "--kubeconfig", env.AdminKubeconfig(b), "--metrics-bind-address", "127.0.0.1:0", "--health-probe-bind-address", "0")
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		time.Sleep(time.Minute)
		rss := vmRSS(b, cmd.Process.Pid)
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
		b.ReportMetric(float64(rss)/1024, "idle-RSS-MiB")
	}
}

// vmRSS reads a process's resident set in KiB.
func vmRSS(b *testing.B, pid int) int {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kib, _ := strconv.Atoi(f[1])
			return kib
		}
	}
	b.Fatal("no VmRSS")
	return 0
}
