// Package chaosmesh injects a drill's faults on Kubernetes by creating
// Chaos Mesh objects: PodChaos (pod-kill, pod-failure) and NetworkChaos
// (partition, delay, loss) selecting the Kafka pods of a DC by their zone
// label. Every object carries the drill's id and expires by itself a
// grace period after the fault's duration, so a fault ends even if
// stretchctl dies; Recover deletes every object of the drill and waits
// until Chaos Mesh has removed them.
//
// It talks only to the Kubernetes API (never to Kafka, the lab or the
// network stack), writes nothing to the terminal (API warnings go to the
// logger it is given) and creates no other kind of object.
package chaosmesh

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	cm "github.com/chaos-mesh/chaos-mesh/api/v1alpha1"
	"github.com/stretchctl/stretchctl/drill"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Labels and annotation on every Chaos Mesh object stretchctl creates.
const (
	LabelManagedBy = "app.kubernetes.io/managed-by"
	ManagedBy      = "stretchctl"
	LabelDrill     = "stretchctl.io/drill"
	LabelFault     = "stretchctl.io/fault"
	LabelDC        = "stretchctl.io/dc"
	LabelPeer      = "stretchctl.io/peer"
	// AnnotationFault holds the Fault (JSON) an object was made for: Apply
	// compares it to tell a repeated Apply from a different fault.
	AnnotationFault = "stretchctl.io/fault"

	// DefaultZoneLabel is the pod label holding the DC.
	DefaultZoneLabel = "topology.kubernetes.io/zone"
)

var _ drill.Backend = (*Backend)(nil)

// Backend injects faults by creating Chaos Mesh PodChaos and NetworkChaos
// objects. Every object expires by itself drill.Grace after the fault's
// duration, so that a fault ends even if stretchctl dies.
type Backend struct {
	spec drill.ChaosMeshSpec
	c    client.Client
	// poll is how often Recover checks that the objects are gone.
	poll time.Duration
	// WaitInjected, when positive, makes Apply wait up to this long for
	// Chaos Mesh to report every object injected (the AllInjected
	// condition its controllers set): a created object is not yet a
	// fault in place. Zero returns once the objects are created.
	WaitInjected time.Duration
}

// New returns a backend that creates its objects through c, whose scheme
// must know the Chaos Mesh types (see Scheme). The spec is checked by
// Apply and Recover.
func New(spec drill.ChaosMeshSpec, c client.Client) *Backend {
	return &Backend{spec: spec, c: c, poll: 250 * time.Millisecond}
}

// Scheme returns a scheme with the Chaos Mesh v1alpha1 types.
func Scheme() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	if err := cm.AddToScheme(s); err != nil {
		return nil, fmt.Errorf("chaos mesh scheme: %w", err)
	}
	return s, nil
}

// NewFromKubeconfig connects to the cluster spec.Kubeconfig names; when
// it is empty, $KUBECONFIG, then the in-cluster config, then
// ~/.kube/config. The API server's warnings (deprecations) go to log.
func NewFromKubeconfig(spec drill.ChaosMeshSpec, log *slog.Logger) (*Backend, error) {
	if err := checkSpec(spec); err != nil {
		return nil, err
	}
	cfg, err := RESTConfig(spec.Kubeconfig)
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg.WarningHandlerWithContext = warningLogger{log}
	s, err := Scheme()
	if err != nil {
		return nil, err
	}
	c, err := client.New(cfg, client.Options{Scheme: s})
	if err != nil {
		return nil, fmt.Errorf("kubernetes client: %w", err)
	}
	return New(spec, c), nil
}

// warningLogger sends the API server's warnings to the logger.
type warningLogger struct{ log *slog.Logger }

func (w warningLogger) HandleWarningHeaderWithContext(ctx context.Context, code int, agent, text string) {
	if code == 299 && text != "" {
		w.log.WarnContext(ctx, "kubernetes API warning", "warning", text)
	}
}

// RESTConfig reaches the API server: the kubeconfig file named, else
// $KUBECONFIG, else the in-cluster config, else ~/.kube/config.
func RESTConfig(kubeconfig string) (*rest.Config, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	switch {
	case kubeconfig != "":
		rules.ExplicitPath = kubeconfig
	case os.Getenv(clientcmd.RecommendedConfigPathEnvVar) == "":
		if cfg, err := rest.InClusterConfig(); err == nil {
			return cfg, nil
		}
	}
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, nil).ClientConfig()
	if err != nil {
		where := kubeconfig
		if where == "" {
			where = "$KUBECONFIG, in-cluster or ~/.kube/config"
		}
		return nil, fmt.Errorf("kubernetes config (%s): %w", where, err)
	}
	return cfg, nil
}

func checkSpec(s drill.ChaosMeshSpec) error {
	if s.Namespace == "" {
		return errors.New("chaos mesh: the namespace for its objects is not set")
	}
	if s.DrillID == "" {
		return errors.New("chaos mesh: the drill id is not set")
	}
	if errs := validation.IsValidLabelValue(s.DrillID); len(errs) > 0 {
		return fmt.Errorf("chaos mesh: drill id %q is not a valid label value: %s", s.DrillID, strings.Join(errs, "; "))
	}
	return nil
}

// Name implements Backend.
func (b *Backend) Name() string { return "chaos-mesh" }

// Spec implements Backend.
func (b *Backend) Spec() drill.Spec {
	s := b.spec
	s.TargetNamespaces = slices.Clone(s.TargetNamespaces)
	s.PodLabels = maps.Clone(s.PodLabels)
	return drill.Spec{ChaosMesh: &s}
}

// Objects returns the Chaos Mesh objects that inject f, in the order
// they are created, without creating them: one for most faults; for lose,
// a NetworkChaos partition first (so that no connection reset escapes)
// and then a PodChaos pod-failure.
func (b *Backend) Objects(f drill.Fault) ([]client.Object, error) {
	if err := checkSpec(b.spec); err != nil {
		return nil, err
	}
	if err := f.Validate(); err != nil {
		return nil, err
	}
	var objs []chaosObject
	switch f.Kind {
	case drill.Crash:
		objs = append(objs, b.podChaos(f, cm.PodKillAction))
	case drill.Freeze:
		objs = append(objs, b.podChaos(f, cm.PodFailureAction))
	case drill.Lose:
		objs = append(objs, b.networkChaos(f), b.podChaos(f, cm.PodFailureAction))
	case drill.Isolate, drill.Latency, drill.Loss:
		objs = append(objs, b.networkChaos(f))
	default:
		return nil, fmt.Errorf("chaos mesh: no object for fault %s", f.Kind)
	}
	out := make([]client.Object, 0, len(objs))
	for _, obj := range objs {
		// What Chaos Mesh's admission webhooks do (default, then
		// validate), on a copy: a mistake shows here rather than as a
		// rejection from the cluster.
		check := obj.DeepCopyObject().(chaosObject)
		if err := check.Default(context.Background(), check); err != nil {
			return nil, fmt.Errorf("chaos mesh: %s %s: %w", kindOf(obj), obj.GetName(), err)
		}
		if _, err := check.Validate(); err != nil {
			return nil, fmt.Errorf("chaos mesh: %s %s: %w", kindOf(obj), obj.GetName(), err)
		}
		out = append(out, obj)
	}
	return out, nil
}

// chaosObject is a Chaos Mesh object with its webhooks' default and
// validation.
type chaosObject interface {
	client.Object
	Default(context.Context, runtime.Object) error
	Validate() ([]string, error)
}

// podChaos is the PodChaos of f with action.
func (b *Backend) podChaos(f drill.Fault, action cm.PodChaosAction) chaosObject {
	duration := durationString(f.Duration + drill.Grace)
	return &cm.PodChaos{
		ObjectMeta: b.objectMeta(f),
		Spec: cm.PodChaosSpec{
			ContainerSelector: cm.ContainerSelector{PodSelector: b.pods(f.DC, false)},
			Action:            action,
			Duration:          &duration,
		},
	}
}

// networkChaos is the NetworkChaos of f: a partition (isolate, lose), a
// delay or a loss between the DC's pods and the others (or the peer's).
func (b *Backend) networkChaos(f drill.Fault) chaosObject {
	duration := durationString(f.Duration + drill.Grace)
	target := b.pods(f.DC, true)
	if f.Peer != "" {
		target = b.pods(f.Peer, false)
	}
	spec := cm.NetworkChaosSpec{
		PodSelector: b.pods(f.DC, false),
		Duration:    &duration,
		Direction:   cm.Both,
		Target:      &target,
	}
	switch f.Kind {
	case drill.Isolate, drill.Lose:
		spec.Action = cm.PartitionAction
	case drill.Latency:
		// Both directions get half of the round trip.
		spec.Action = cm.DelayAction
		spec.Delay = &cm.DelaySpec{
			Latency:     latencyString(f.Delay / 2),
			Jitter:      cm.DefaultJitter,
			Correlation: cm.DefaultCorrelation,
		}
	case drill.Loss:
		spec.Action = cm.LossAction
		spec.Loss = &cm.LossSpec{
			Loss:        strconv.FormatFloat(f.LossPercent, 'f', -1, 64),
			Correlation: cm.DefaultCorrelation,
		}
	}
	return &cm.NetworkChaos{ObjectMeta: b.objectMeta(f), Spec: spec}
}

// pods selects the Kafka pods of dc, or with others those of every DC but
// dc, in all mode.
func (b *Backend) pods(dc string, others bool) cm.PodSelector {
	zone := b.spec.ZoneLabel
	if zone == "" {
		zone = DefaultZoneLabel
	}
	ns := slices.Clone(b.spec.TargetNamespaces)
	if len(ns) == 0 {
		ns = []string{b.spec.Namespace}
	}
	labels := maps.Clone(b.spec.PodLabels)
	var exprs cm.LabelSelectorRequirements
	if others {
		exprs = cm.LabelSelectorRequirements{
			{Key: zone, Operator: metav1.LabelSelectorOpExists},
			{Key: zone, Operator: metav1.LabelSelectorOpNotIn, Values: []string{dc}},
		}
	} else {
		if labels == nil {
			labels = map[string]string{}
		}
		labels[zone] = dc
	}
	return cm.PodSelector{
		Mode: cm.AllMode,
		Selector: cm.PodSelectorSpec{GenericSelectorSpec: cm.GenericSelectorSpec{
			Namespaces:          ns,
			LabelSelectors:      labels,
			ExpressionSelectors: exprs,
		}},
	}
}

func (b *Backend) objectMeta(f drill.Fault) metav1.ObjectMeta {
	parts := []string{"stretchctl", b.spec.DrillID, string(f.Kind), f.DC}
	labels := map[string]string{
		LabelManagedBy: ManagedBy,
		LabelDrill:     b.spec.DrillID,
		LabelFault:     string(f.Kind),
		LabelDC:        f.DC,
	}
	if f.Peer != "" {
		parts = append(parts, f.Peer)
		labels[LabelPeer] = f.Peer
	}
	js, _ := json.Marshal(f)
	return metav1.ObjectMeta{
		Name:        dnsName(parts...),
		Namespace:   b.spec.Namespace,
		Labels:      labels,
		Annotations: map[string]string{AnnotationFault: string(js)},
	}
}

// dnsName joins parts with dashes into a DNS label (RFC 1123, at most 63
// characters): lower case, other characters become dashes, and a long
// name is cut and ends with a hash of the whole.
func dnsName(parts ...string) string {
	full := strings.Join(parts, "-")
	var sb strings.Builder
	dash := false
	for _, r := range strings.ToLower(full) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			sb.WriteRune(r)
			dash = false
		} else if !dash {
			sb.WriteByte('-')
			dash = true
		}
	}
	name := strings.Trim(sb.String(), "-")
	if name == full && len(name) <= validation.DNS1123LabelMaxLength {
		return name
	}
	// Changed or cut: a hash of the original keeps distinct inputs apart.
	sum := sha256.Sum256([]byte(full))
	suffix := hex.EncodeToString(sum[:])[:8]
	if max := validation.DNS1123LabelMaxLength - len(suffix) - 1; len(name) > max {
		name = strings.TrimRight(name[:max], "-")
	}
	return name + "-" + suffix
}

// durationString rounds d up to whole seconds: "150s".
func durationString(d time.Duration) string {
	return strconv.FormatInt(int64(math.Ceil(d.Seconds())), 10) + "s"
}

// latencyString writes d in the one unit Chaos Mesh's pattern
// (^[0-9]+(\.[0-9]+)?(ns|us|ms|s|m|h)$) takes: "25ms", "1500us".
func latencyString(d time.Duration) string {
	switch {
	case d%time.Millisecond == 0:
		return strconv.FormatInt(d.Milliseconds(), 10) + "ms"
	case d%time.Microsecond == 0:
		return strconv.FormatInt(d.Microseconds(), 10) + "us"
	}
	return strconv.FormatInt(d.Nanoseconds(), 10) + "ns"
}

func kindOf(o client.Object) string {
	switch o.(type) {
	case *cm.PodChaos:
		return cm.KindPodChaos
	case *cm.NetworkChaos:
		return cm.KindNetworkChaos
	}
	return fmt.Sprintf("%T", o)
}

// Apply implements Backend: it creates the objects for f, in order. An
// object of the same name made for the same fault is fine; one made for
// another fault, or one being deleted, is an error.
func (b *Backend) Apply(ctx context.Context, f drill.Fault) error {
	objs, err := b.Objects(f)
	if err != nil {
		return err
	}
	for _, obj := range objs {
		if err := b.create(ctx, obj); err != nil {
			return err
		}
		if b.WaitInjected > 0 {
			if err := b.waitInjected(ctx, obj); err != nil {
				return err
			}
		}
	}
	return nil
}

// Injected reports whether Chaos Mesh says every object of the drill is
// injected (condition AllInjected True), and names those that are not.
func (b *Backend) Injected(ctx context.Context) (bool, []string, error) {
	objs, err := b.list(ctx)
	if err != nil {
		return false, nil, err
	}
	var not []string
	for _, o := range objs {
		if !allInjected(o) {
			not = append(not, objectRef(o))
		}
	}
	return len(objs) > 0 && len(not) == 0, not, nil
}

// allInjected: Chaos Mesh's controllers set the AllInjected condition
// once the fault is in place on every selected pod (api/v1alpha1
// common_types.go, ConditionAllInjected).
func allInjected(o client.Object) bool {
	st, ok := o.(interface{ GetStatus() *cm.ChaosStatus })
	if !ok || st.GetStatus() == nil {
		return false
	}
	for _, c := range st.GetStatus().Conditions {
		if c.Type == cm.ConditionAllInjected {
			return c.Status == "True"
		}
	}
	return false
}

// waitInjected polls obj until Chaos Mesh reports it injected, bounded
// by WaitInjected.
func (b *Backend) waitInjected(ctx context.Context, obj client.Object) error {
	ctx, cancel := context.WithTimeout(ctx, b.WaitInjected)
	defer cancel()
	cur := obj.DeepCopyObject().(client.Object)
	for {
		if err := b.c.Get(ctx, client.ObjectKeyFromObject(obj), cur); err == nil && allInjected(cur) {
			return nil
		}
		t := time.NewTimer(b.poll)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("chaos mesh: %s was created but Chaos Mesh did not report it injected within %v (is Chaos Mesh running, and does it select any pod?)", objectRef(obj), b.WaitInjected)
		case <-t.C:
		}
	}
}

// Existing lists the drill's objects that exist now, as "Kind namespace/name".
func (b *Backend) Existing(ctx context.Context) ([]string, error) {
	objs, err := b.list(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(objs))
	for i, o := range objs {
		out[i] = objectRef(o)
	}
	return out, nil
}

func (b *Backend) create(ctx context.Context, obj client.Object) error {
	ref := objectRef(obj)
	err := b.c.Create(ctx, obj)
	if err == nil {
		return nil
	}
	if !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("chaos mesh: create %s: %w", ref, err)
	}
	// Already there: from an earlier Apply of this fault?
	existing := obj.DeepCopyObject().(client.Object)
	if err := b.c.Get(ctx, client.ObjectKeyFromObject(obj), existing); err != nil {
		return fmt.Errorf("chaos mesh: %s exists but cannot be read: %w", ref, err)
	}
	if existing.GetDeletionTimestamp() != nil {
		return fmt.Errorf("chaos mesh: %s is being deleted; wait until it is gone", ref)
	}
	if got, want := existing.GetAnnotations()[AnnotationFault], obj.GetAnnotations()[AnnotationFault]; got != want {
		return fmt.Errorf("chaos mesh: %s already exists for another fault (%s, want %s); recover the drill first", ref, got, want)
	}
	return nil
}

// Recover implements Backend: it deletes every PodChaos and NetworkChaos
// of the drill (f is only used in messages: a recover after a crash heals
// all of the drill), then waits, bounded by ctx, until they are gone. Its
// error names the objects left.
func (b *Backend) Recover(ctx context.Context, f drill.Fault) error {
	if err := checkSpec(b.spec); err != nil {
		return err
	}
	left, err := b.list(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, o := range left {
		if o.GetDeletionTimestamp() != nil {
			continue
		}
		err := b.c.Delete(ctx, o, client.PropagationPolicy(metav1.DeletePropagationBackground))
		if err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("delete %s: %w", objectRef(o), err))
		}
	}
	// Wait for them to go (finalizers: Chaos Mesh heals first), unless a
	// delete failed: what it refused will not go by waiting.
	for len(left) > 0 && len(errs) == 0 {
		t := time.NewTimer(b.poll)
		select {
		case <-ctx.Done():
			t.Stop()
			errs = append(errs, ctx.Err())
			continue
		case <-t.C:
		}
		l, err := b.list(ctx)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		left = l
	}
	if len(left) == 0 {
		return nil
	}
	names := make([]string, len(left))
	for i, o := range left {
		names[i] = objectRef(o)
		if fin := o.GetFinalizers(); len(fin) > 0 {
			names[i] += " (finalizers " + strings.Join(fin, ", ") + ")"
		}
	}
	what := "drill " + b.spec.DrillID
	if f.Kind != "" {
		what += " (" + f.String() + ")"
	}
	return fmt.Errorf("chaos mesh: %s not healed, left: %s: %w", what, strings.Join(names, "; "), errors.Join(errs...))
}

// list returns the drill's objects, PodChaos first, each sorted by name.
func (b *Backend) list(ctx context.Context) ([]client.Object, error) {
	sel := client.MatchingLabels{LabelDrill: b.spec.DrillID, LabelManagedBy: ManagedBy}
	in := client.InNamespace(b.spec.Namespace)
	var out []client.Object
	var pods cm.PodChaosList
	if err := b.c.List(ctx, &pods, in, sel); err != nil {
		return nil, fmt.Errorf("chaos mesh: list PodChaos in %s: %w", b.spec.Namespace, err)
	}
	for i := range pods.Items {
		out = append(out, &pods.Items[i])
	}
	var nets cm.NetworkChaosList
	if err := b.c.List(ctx, &nets, in, sel); err != nil {
		return nil, fmt.Errorf("chaos mesh: list NetworkChaos in %s: %w", b.spec.Namespace, err)
	}
	for i := range nets.Items {
		out = append(out, &nets.Items[i])
	}
	return out, nil
}

func objectRef(o client.Object) string {
	return kindOf(o) + " " + o.GetNamespace() + "/" + o.GetName()
}
