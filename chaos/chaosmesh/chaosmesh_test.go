package chaosmesh

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	cm "github.com/chaos-mesh/chaos-mesh/api/v1alpha1"
	"github.com/stretchctl/stretchctl/drill"
	"github.com/stretchctl/stretchctl/internal/kubetest"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

const zone = DefaultZoneLabel

func TestSpecErrors(t *testing.T) {
	f := drill.Fault{Kind: drill.Crash, DC: "dc-a", Duration: time.Minute}
	for _, tc := range []struct {
		spec drill.ChaosMeshSpec
		want string
	}{
		{drill.ChaosMeshSpec{DrillID: "d1"}, "namespace"},
		{drill.ChaosMeshSpec{Namespace: "chaos"}, "drill id"},
		{drill.ChaosMeshSpec{Namespace: "chaos", DrillID: "2026-11-24T10:00:00Z"}, "not a valid label value"},
	} {
		b := New(tc.spec, nil)
		if err := b.Apply(context.Background(), f); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Apply with %+v: %v, want an error about %s", tc.spec, err, tc.want)
		}
		if err := b.Recover(context.Background(), f); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Recover with %+v: %v, want an error about %s", tc.spec, err, tc.want)
		}
		if _, err := NewFromKubeconfig(tc.spec, nil); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("NewFromKubeconfig with %+v: %v, want an error about %s", tc.spec, err, tc.want)
		}
	}
	b := New(drill.ChaosMeshSpec{Namespace: "chaos", DrillID: "d1"}, nil)
	if _, err := b.Objects(drill.Fault{Kind: drill.Latency, DC: "dc-a"}); err == nil {
		t.Error("a latency fault without a delay was accepted")
	}
}

func TestNames(t *testing.T) {
	for _, tc := range []struct {
		parts []string
		want  string
	}{
		{[]string{"stretchctl", "d1", "kill", "dc-a"}, "stretchctl-d1-kill-dc-a"},
		{[]string{"stretchctl", "d1", "latency", "dc-a", "dc-b"}, "stretchctl-d1-latency-dc-a-dc-b"},
	} {
		if got := dnsName(tc.parts...); got != tc.want {
			t.Errorf("dnsName(%q) = %s, want %s", tc.parts, got, tc.want)
		}
	}
	long := strings.Repeat("x", 60)
	seen := map[string]bool{}
	for _, parts := range [][]string{
		{"stretchctl", long, "isolate", "eu-west-1a"},
		{"stretchctl", long, "isolate", "eu-west-1b"},
		{"stretchctl", "D1", "kill", "Zone_A"},
		{"stretchctl", "d1", "kill", "zone.a"},
		{"stretchctl", "d1", "kill", "zone-a"},
	} {
		name := dnsName(parts...)
		if errs := validation.IsDNS1123Label(name); len(errs) > 0 {
			t.Errorf("dnsName(%q) = %s: %v", parts, name, errs)
		}
		if seen[name] {
			t.Errorf("dnsName(%q) = %s, the name of another input", parts, name)
		}
		seen[name] = true
	}
	for d, want := range map[time.Duration]string{
		25 * time.Millisecond:   "25ms",
		1500 * time.Microsecond: "1500us",
		2 * time.Second:         "2000ms",
		7:                       "7ns",
	} {
		if got := latencyString(d); got != want {
			t.Errorf("latencyString(%v) = %s, want %s", d, got, want)
		}
	}
	if got := durationString(30*time.Second + drill.Grace + time.Millisecond); got != "151s" {
		t.Errorf("durationString = %s, want 151s", got)
	}
}

// startEnvtest starts a kube-apiserver and etcd with the Chaos Mesh CRDs
// of the kinds the backend creates (all 23 take 2-5 s longer).
func startEnvtest(t *testing.T) (*envtest.Environment, client.Client) {
	t.Helper()
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, cm.AddToScheme} {
		if err := add(scheme); err != nil {
			t.Fatal(err)
		}
	}
	env := kubetest.Start(t, scheme, kubetest.ChaosMeshCRD(t, "podchaos"), kubetest.ChaosMeshCRD(t, "networkchaos"))
	return env.Environment, env.Client
}

func TestEnvtest(t *testing.T) {
	env, c := startEnvtest(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for _, ns := range []string{"chaos", "kafka"} {
		if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
			t.Fatal(err)
		}
	}
	spec := drill.ChaosMeshSpec{
		Namespace:        "chaos",
		TargetNamespaces: []string{"kafka"},
		PodLabels:        map[string]string{"app": "kafka"},
		DrillID:          "d1",
	}
	b := New(spec, c)
	b.poll = 50 * time.Millisecond
	hold := 30 * time.Second
	wantDuration := "150s" // hold + Grace

	pods := func(dc string) cm.PodSelector {
		return cm.PodSelector{Mode: cm.AllMode, Selector: cm.PodSelectorSpec{GenericSelectorSpec: cm.GenericSelectorSpec{
			Namespaces:     []string{"kafka"},
			LabelSelectors: map[string]string{"app": "kafka", zone: dc},
		}}}
	}
	others := func(dc string) *cm.PodSelector {
		return &cm.PodSelector{Mode: cm.AllMode, Selector: cm.PodSelectorSpec{GenericSelectorSpec: cm.GenericSelectorSpec{
			Namespaces:     []string{"kafka"},
			LabelSelectors: map[string]string{"app": "kafka"},
			ExpressionSelectors: cm.LabelSelectorRequirements{
				{Key: zone, Operator: metav1.LabelSelectorOpExists},
				{Key: zone, Operator: metav1.LabelSelectorOpNotIn, Values: []string{dc}},
			},
		}}}
	}
	peer := func(dc string) *cm.PodSelector { p := pods(dc); return &p }
	checkMeta := func(t *testing.T, o metav1.Object, name string, f drill.Fault) {
		t.Helper()
		if o.GetName() != name || o.GetNamespace() != "chaos" {
			t.Errorf("object %s/%s, want chaos/%s", o.GetNamespace(), o.GetName(), name)
		}
		want := map[string]string{LabelManagedBy: "stretchctl", LabelDrill: "d1", LabelFault: string(f.Kind), LabelDC: f.DC}
		if f.Peer != "" {
			want[LabelPeer] = f.Peer
		}
		if !reflect.DeepEqual(o.GetLabels(), want) {
			t.Errorf("%s: labels %v, want %v", name, o.GetLabels(), want)
		}
	}

	t.Run("pod faults", func(t *testing.T) {
		for _, tc := range []struct {
			f      drill.Fault
			name   string
			action cm.PodChaosAction
		}{
			{drill.Fault{Kind: drill.Crash, DC: "dc-a", Duration: hold}, "stretchctl-d1-crash-dc-a", cm.PodKillAction},
			{drill.Fault{Kind: drill.Freeze, DC: "dc-b", Duration: hold}, "stretchctl-d1-freeze-dc-b", cm.PodFailureAction},
			// lose: the partition comes first (checked below), then the pods fail.
			{drill.Fault{Kind: drill.Lose, DC: "dc-c", Duration: hold}, "stretchctl-d1-lose-dc-c", cm.PodFailureAction},
		} {
			for range 2 { // the second Apply finds it there
				if err := b.Apply(ctx, tc.f); err != nil {
					t.Fatalf("Apply %s: %v", tc.f, err)
				}
			}
			var got cm.PodChaos
			if err := c.Get(ctx, client.ObjectKey{Namespace: "chaos", Name: tc.name}, &got); err != nil {
				t.Fatalf("%s: %v", tc.f, err)
			}
			checkMeta(t, &got, tc.name, tc.f)
			if got.Spec.Action != tc.action {
				t.Errorf("%s: action %s, want %s", tc.f, got.Spec.Action, tc.action)
			}
			if !reflect.DeepEqual(got.Spec.PodSelector, pods(tc.f.DC)) {
				t.Errorf("%s: selector %+v, want %+v", tc.f, got.Spec.PodSelector, pods(tc.f.DC))
			}
			if got.Spec.Duration == nil || *got.Spec.Duration != wantDuration {
				t.Errorf("%s: duration %v, want %s", tc.f, got.Spec.Duration, wantDuration)
			}
		}
	})

	t.Run("network faults", func(t *testing.T) {
		for _, tc := range []struct {
			f       drill.Fault
			name    string
			action  cm.NetworkChaosAction
			target  *cm.PodSelector
			latency string
			loss    string
		}{
			{drill.Fault{Kind: drill.Isolate, DC: "dc-c", Duration: hold}, "stretchctl-d1-isolate-dc-c", cm.PartitionAction, others("dc-c"), "", ""},
			{drill.Fault{Kind: drill.Lose, DC: "dc-c", Duration: hold}, "stretchctl-d1-lose-dc-c", cm.PartitionAction, others("dc-c"), "", ""},
			{drill.Fault{Kind: drill.Latency, DC: "dc-a", Peer: "dc-b", Delay: 50 * time.Millisecond, Duration: hold},
				"stretchctl-d1-latency-dc-a-dc-b", cm.DelayAction, peer("dc-b"), "25ms", ""},
			{drill.Fault{Kind: drill.Latency, DC: "dc-c", Delay: 3 * time.Millisecond, Duration: hold},
				"stretchctl-d1-latency-dc-c", cm.DelayAction, others("dc-c"), "1500us", ""},
			{drill.Fault{Kind: drill.Loss, DC: "dc-b", LossPercent: 12.5, Duration: hold}, "stretchctl-d1-loss-dc-b", cm.LossAction, others("dc-b"), "", "12.5"},
			{drill.Fault{Kind: drill.Loss, DC: "dc-a", Peer: "dc-c", LossPercent: 100, Duration: hold}, "stretchctl-d1-loss-dc-a-dc-c", cm.LossAction, peer("dc-c"), "", "100"},
		} {
			for range 2 {
				if err := b.Apply(ctx, tc.f); err != nil {
					t.Fatalf("Apply %s: %v", tc.f, err)
				}
			}
			var got cm.NetworkChaos
			if err := c.Get(ctx, client.ObjectKey{Namespace: "chaos", Name: tc.name}, &got); err != nil {
				t.Fatalf("%s: %v", tc.f, err)
			}
			checkMeta(t, &got, tc.name, tc.f)
			s := got.Spec
			if s.Action != tc.action || s.Direction != cm.Both {
				t.Errorf("%s: action %s direction %s, want %s both", tc.f, s.Action, s.Direction, tc.action)
			}
			if !reflect.DeepEqual(s.PodSelector, pods(tc.f.DC)) {
				t.Errorf("%s: selector %+v, want %+v", tc.f, s.PodSelector, pods(tc.f.DC))
			}
			if !reflect.DeepEqual(s.Target, tc.target) {
				t.Errorf("%s: target %+v, want %+v", tc.f, s.Target, tc.target)
			}
			if s.Duration == nil || *s.Duration != wantDuration {
				t.Errorf("%s: duration %v, want %s", tc.f, s.Duration, wantDuration)
			}
			if (s.Delay == nil) != (tc.latency == "") || s.Delay != nil && s.Delay.Latency != tc.latency {
				t.Errorf("%s: delay %+v, want latency %q", tc.f, s.Delay, tc.latency)
			}
			if (s.Loss == nil) != (tc.loss == "") || s.Loss != nil && s.Loss.Loss != tc.loss {
				t.Errorf("%s: loss %+v, want %q", tc.f, s.Loss, tc.loss)
			}
		}
		// Another fault under a name already taken is refused.
		err := b.Apply(ctx, drill.Fault{Kind: drill.Latency, DC: "dc-a", Peer: "dc-b", Delay: 80 * time.Millisecond, Duration: hold})
		if err == nil || !strings.Contains(err.Error(), "another fault") {
			t.Errorf("a different latency under the same name: %v, want an error", err)
		}
	})

	t.Run("recover", func(t *testing.T) {
		other := New(drill.ChaosMeshSpec{Namespace: "chaos", DrillID: "d2"}, c)
		if err := other.Apply(ctx, drill.Fault{Kind: drill.Crash, DC: "dc-a", Duration: hold}); err != nil {
			t.Fatal(err)
		}
		if n := count(ctx, t, c, "d1"); n != 9 {
			t.Fatalf("drill d1 has %d objects before recover, want 9", n)
		}
		start := time.Now()
		if err := b.Recover(ctx, drill.Fault{Kind: drill.Crash, DC: "dc-a"}); err != nil {
			t.Fatal(err)
		}
		t.Logf("recovered 9 objects in %v", time.Since(start).Round(time.Millisecond))
		if n := count(ctx, t, c, "d1"); n != 0 {
			t.Errorf("drill d1 has %d objects after recover", n)
		}
		if n := count(ctx, t, c, "d2"); n != 1 {
			t.Errorf("drill d2 has %d objects after d1's recover, want 1", n)
		}
		if err := b.Recover(ctx, drill.Fault{}); err != nil {
			t.Errorf("recover of nothing: %v", err)
		}

		// An object that does not go (Chaos Mesh's finalizer while it
		// heals) is named in the error once ctx ends.
		key := client.ObjectKey{Namespace: "chaos", Name: "stretchctl-d2-crash-dc-a"}
		var pc cm.PodChaos
		if err := c.Get(ctx, key, &pc); err != nil {
			t.Fatal(err)
		}
		pc.Finalizers = []string{"chaos-mesh/records"}
		if err := c.Update(ctx, &pc); err != nil {
			t.Fatal(err)
		}
		short, cancelShort := context.WithTimeout(ctx, 500*time.Millisecond)
		err := other.Recover(short, drill.Fault{Kind: drill.Crash, DC: "dc-a"})
		cancelShort()
		if err == nil || !strings.Contains(err.Error(), "left: PodChaos chaos/stretchctl-d2-crash-dc-a (finalizers chaos-mesh/records)") {
			t.Errorf("recover with a stuck object: %v", err)
		}
		// Apply refuses it while it is being deleted.
		if err := other.Apply(ctx, drill.Fault{Kind: drill.Crash, DC: "dc-a", Duration: hold}); err == nil || !strings.Contains(err.Error(), "being deleted") {
			t.Errorf("Apply while the object is deleted: %v", err)
		}
		if err := c.Get(ctx, key, &pc); err != nil {
			t.Fatal(err)
		}
		pc.Finalizers = nil
		if err := c.Update(ctx, &pc); err != nil {
			t.Fatal(err)
		}
		if err := other.Recover(ctx, drill.Fault{}); err != nil {
			t.Errorf("recover after the finalizer went: %v", err)
		}
		if n := count(ctx, t, c, "d2"); n != 0 {
			t.Errorf("drill d2 has %d objects after recover", n)
		}
	})

	t.Run("from a kubeconfig", func(t *testing.T) {
		user, err := env.AddUser(envtest.User{Name: "stretchctl", Groups: []string{"system:masters"}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		kc, err := user.KubeConfig()
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "kubeconfig")
		if err := os.WriteFile(path, kc, 0o600); err != nil {
			t.Fatal(err)
		}
		s := spec
		s.Kubeconfig, s.DrillID = path, "d3"
		r, err := NewFromKubeconfig(s, nil)
		if err != nil {
			t.Fatal(err)
		}
		if r.Name() != "chaos-mesh" || !reflect.DeepEqual(r.Spec(), drill.Spec{ChaosMesh: &s}) {
			t.Errorf("restored %s with %+v, want chaos-mesh with %+v", r.Name(), r.Spec().ChaosMesh, s)
		}
		f := drill.Fault{Kind: drill.Isolate, DC: "dc-a", Duration: hold}
		if err := r.Apply(ctx, f); err != nil {
			t.Fatal(err)
		}
		var got cm.NetworkChaos
		if err := c.Get(ctx, client.ObjectKey{Namespace: "chaos", Name: "stretchctl-d3-isolate-dc-a"}, &got); err != nil {
			t.Fatal(err)
		}
		if got.Spec.Action != cm.PartitionAction || got.Labels[LabelDrill] != "d3" {
			t.Errorf("restored backend made %s labelled %v", got.Spec.Action, got.Labels)
		}
		if err := r.Recover(ctx, f); err != nil {
			t.Fatal(err)
		}
		if n := count(ctx, t, c, "d3"); n != 0 {
			t.Errorf("drill d3 has %d objects after recover", n)
		}
	})
}

// count returns how many Chaos Mesh objects carry the drill's label.
func count(ctx context.Context, t *testing.T, c client.Client, drill string) int {
	t.Helper()
	var pods cm.PodChaosList
	var nets cm.NetworkChaosList
	for _, l := range []client.ObjectList{&pods, &nets} {
		if err := c.List(ctx, l, client.MatchingLabels{LabelDrill: drill}); err != nil {
			t.Fatal(err)
		}
	}
	return len(pods.Items) + len(nets.Items)
}
