package operator

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/record"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	"github.com/stretchctl/stretchctl/advise"
	v1 "github.com/stretchctl/stretchctl/api/v1alpha1"
	"github.com/stretchctl/stretchctl/config"
	"github.com/stretchctl/stretchctl/probe"
	"github.com/stretchctl/stretchctl/rules"
	"github.com/stretchctl/stretchctl/topology"
)

// Defaults of a StretchCluster.
const (
	DefaultCheckInterval = 5 * time.Minute
	// checkTimeout bounds one check (reading the cluster, the agents'
	// topic and evaluating): a reconcile never runs longer.
	checkTimeout = 2 * time.Minute
	// retryUnreachable is the wait after a failed check, when shorter
	// than the interval.
	retryUnreachable = time.Minute
	// topFindings is how many findings the status lists.
	topFindings = 5
	// maxConfigMapData keeps the report's ConfigMap under the API
	// server's 1 MiB object limit; a larger report is gzipped.
	maxConfigMapData = 900 << 10
)

// Gatherer reads what a check evaluates: advise.Gather on the live
// cluster; tests give a snapshot file.
type Gatherer func(ctx context.Context, cfg *config.Config, opts advise.Options) (*advise.Inputs, error)

// StretchClusterReconciler checks a StretchCluster periodically with the
// engine's check pipeline and writes the summary to its status, the full
// report to a ConfigMap, events on verdict changes and metrics.
type StretchClusterReconciler struct {
	Client   client.Client
	Reader   client.Reader
	Recorder record.EventRecorder
	Log      *slog.Logger
	// Gather is the check pipeline's input side (advise.Gather when nil).
	Gather Gatherer
	// SecretDir holds the TLS and SASL material the Kafka clients read.
	SecretDir string
	Metrics   *Metrics
	Now       func() time.Time
}

// +kubebuilder:rbac:groups=stretchctl.io,resources=stretchclusters,verbs=get;list;watch
// +kubebuilder:rbac:groups=stretchctl.io,resources=stretchclusters/status,verbs=get;update;patch
// +kubebuilder:rbac:groups="",resources=configmaps,verbs=get;list;watch;create;update;patch
// Secrets are read directly (never cached), one by one:
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get
// +kubebuilder:rbac:groups="",resources=events,verbs=create;patch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile runs one check of the cluster when it is due.
func (r *StretchClusterReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var sc v1.StretchCluster
	if err := r.Client.Get(ctx, req.NamespacedName, &sc); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !sc.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil
	}
	interval := DefaultCheckInterval
	if d := sc.Spec.CheckInterval; d != nil && d.Duration > 0 {
		interval = d.Duration
	}
	now := r.now()
	// Not due yet (an operator restart, a watch event on the report):
	// the next check stays on the interval.
	if last := sc.Status.LastCheckTime; last != nil && sc.Status.ObservedGeneration == sc.Generation {
		if next := last.Add(interval); next.After(now) {
			return ctrl.Result{RequeueAfter: next.Sub(now)}, nil
		}
	}
	before := sc.DeepCopy()
	cctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	report, in, err := r.check(cctx, &sc)
	sc.Status.ObservedGeneration = sc.Generation
	var specErr *SpecError
	switch {
	case errors.As(err, &specErr):
		r.setFailed(&sc, "InvalidSpec", specErr.Error())
		r.Recorder.Event(&sc, corev1.EventTypeWarning, "InvalidSpec", specErr.Error())
	case err != nil && ctx.Err() != nil:
		return ctrl.Result{}, ctx.Err()
	case err != nil:
		r.setFailed(&sc, "Unreachable", err.Error())
		r.Recorder.Event(&sc, corev1.EventTypeWarning, "CheckFailed", err.Error())
	default:
		name, err := r.writeReport(ctx, &sc, report)
		if err != nil {
			return ctrl.Result{}, err
		}
		summarise(&sc, report, in, name, now)
		if prev := before.Status.Verdict; prev != sc.Status.Verdict {
			typ := corev1.EventTypeNormal
			if sc.Status.Verdict != v1.VerdictPass {
				typ = corev1.EventTypeWarning
			}
			from := string(prev)
			if from == "" {
				from = "none"
			}
			r.Recorder.Eventf(&sc, typ, "VerdictChanged", "verdict %s → %s: %d critical, %d high", from, sc.Status.Verdict, sc.Status.Findings.Critical, sc.Status.Findings.High)
		}
		r.Metrics.observeCheck(&sc, report, in)
	}
	sc.Status.LastCheckTime = &metav1.Time{Time: now}
	if err := r.Client.Status().Patch(ctx, &sc, client.MergeFrom(before)); err != nil {
		return ctrl.Result{}, fmt.Errorf("status of %s: %w", req.NamespacedName, err)
	}
	next := interval
	if err != nil && specErr == nil {
		next = min(interval, retryUnreachable)
	}
	return ctrl.Result{RequeueAfter: next}, nil
}

func (r *StretchClusterReconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// check resolves the spec and runs the engine's check.
func (r *StretchClusterReconciler) check(ctx context.Context, sc *v1.StretchCluster) (*rules.Report, *advise.Inputs, error) {
	conn, topo := sc.Spec.Connection, sc.Spec.Topology
	var strimzi *derived
	if sc.Spec.StrimziRef != nil {
		d, err := deriveStrimzi(ctx, r.Reader, sc)
		if err != nil {
			return nil, nil, err
		}
		strimzi = d
		conn, topo = d.conn, d.merge(sc.Spec.Topology)
		sc.Status.Topology = &topo
	}
	res, err := resolve(ctx, r.Reader, sc, conn, topo, r.SecretDir)
	if err != nil {
		return nil, nil, err
	}
	sc.Status.Bootstrap = res.cfg.Cluster.Bootstrap
	gather := r.Gather
	if gather == nil {
		gather = advise.Gather
	}
	in, err := gather(ctx, res.cfg, advise.Options{LatencyTopic: latencyTopic(sc), Clients: res.clients, Log: r.Log})
	if err != nil {
		return nil, nil, err
	}
	failOn := rules.High
	if sc.Spec.FailOn != "" {
		if failOn, err = rules.ParseSeverity(sc.Spec.FailOn); err != nil {
			return nil, nil, &SpecError{fmt.Errorf("spec.failOn: %w", err)}
		}
	}
	report, err := in.Evaluate(failOn)
	if err != nil {
		return nil, nil, err
	}
	if strimzi != nil {
		if m := strimzi.crossCheck(in.Snapshot, topo); len(m) > 0 {
			report.Notes = append(report.Notes, m...)
			r.Recorder.Event(sc, corev1.EventTypeWarning, "TopologyMismatch", strings.Join(m, "; "))
		}
	}
	return report, in, nil
}

// setFailed marks a check that could not run.
func (r *StretchClusterReconciler) setFailed(sc *v1.StretchCluster, reason, msg string) {
	sc.Status.Verdict = v1.VerdictUnknown
	setCondition(&sc.Status.Conditions, sc.Generation, v1.ConditionReady, metav1.ConditionFalse, reason, msg)
	setCondition(&sc.Status.Conditions, sc.Generation, v1.ConditionGoalsMet, metav1.ConditionUnknown, reason, "no check: "+msg)
}

// writeReport stores the full report in the ConfigMap <name>-report,
// owned by the StretchCluster.
func (r *StretchClusterReconciler) writeReport(ctx context.Context, sc *v1.StretchCluster, report *rules.Report) (string, error) {
	js, err := report.JSON()
	if err != nil {
		return "", err
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: sc.Name + "-report", Namespace: sc.Namespace}}
	_, err = controllerutil.CreateOrUpdate(ctx, r.Client, cm, func() error {
		cm.Labels = map[string]string{labelCluster: sc.Name, "app.kubernetes.io/managed-by": "stretchctl"}
		if len(js) <= maxConfigMapData {
			cm.Data = map[string]string{"report.json": string(js)}
			cm.BinaryData = nil
		} else {
			var buf bytes.Buffer
			zw := gzip.NewWriter(&buf)
			_, _ = zw.Write(js)
			_ = zw.Close()
			cm.Data = map[string]string{"note": "report.json.gz holds the report, gzipped: it is larger than a ConfigMap holds"}
			cm.BinaryData = map[string][]byte{"report.json.gz": buf.Bytes()}
		}
		return controllerutil.SetControllerReference(sc, cm, r.Client.Scheme())
	})
	if err != nil {
		return "", fmt.Errorf("report configmap %s: %w", cm.Name, err)
	}
	return cm.Name, nil
}

// labelCluster names the StretchCluster an object belongs to.
const labelCluster = "stretchctl.io/cluster"

// summarise writes the report's summary into the status.
func summarise(sc *v1.StretchCluster, report *rules.Report, in *advise.Inputs, reportCM string, now time.Time) {
	st := &sc.Status
	gen := sc.Generation
	st.ReportConfigMap = reportCM
	st.ClusterID = in.Snapshot.ClusterID
	st.Brokers = int32(len(in.Snapshot.Brokers))
	if report.Verdict == rules.VerdictPass {
		st.Verdict = v1.VerdictPass
	} else {
		st.Verdict = v1.VerdictFail
	}
	active := report.Active()
	st.Findings = &v1.FindingCounts{}
	for _, f := range active {
		switch f.Severity {
		case rules.Critical:
			st.Findings.Critical++
		case rules.High:
			st.Findings.High++
		case rules.Medium:
			st.Findings.Medium++
		case rules.Low:
			st.Findings.Low++
		default:
			st.Findings.Info++
		}
	}
	sorted := slices.Clone(active)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Severity > sorted[j].Severity })
	st.TopFindings = nil
	for _, f := range sorted[:min(topFindings, len(sorted))] {
		st.TopFindings = append(st.TopFindings, v1.FindingSummary{Rule: f.ID, Severity: f.Severity.String(), Subject: f.Subject, Message: f.Message})
	}
	st.Scenarios = nil
	for _, s := range report.Scenarios {
		line := v1.ScenarioSummary{Name: s.Name, WriteUnavailable: int32(s.WriteUnavailable), AckedLossPossible: int32(s.AckedLossPossible),
			QuorumSurvives: s.QuorumSurvives, GoalsMet: s.GoalsMet}
		if s.PredictedRTOSeconds != nil {
			line.PredictedRTO = seconds(*s.PredictedRTOSeconds)
		}
		st.Scenarios = append(st.Scenarios, line)
	}
	st.Latency = latencySummary(in)

	// Ready: Kafka answered and its quorum is healthy — a leader, every
	// voter caught up (the quorum rule's own findings decide).
	ready, why := metav1.ConditionTrue, "the cluster answered; the quorum has a leader and its voters are caught up"
	reason := "QuorumHealthy"
	var quorumProblems []string
	for _, f := range active {
		if strings.HasPrefix(f.Subject, "quorum") && f.Severity >= rules.High && !f.Unknown {
			quorumProblems = append(quorumProblems, f.Message)
		}
	}
	switch {
	case in.Snapshot.Quorum == nil && in.Snapshot.Mode == "kraft":
		ready, reason, why = metav1.ConditionUnknown, "QuorumNotRead", "the cluster answered but its quorum could not be read"
	case len(quorumProblems) > 0:
		ready, reason, why = metav1.ConditionFalse, "QuorumUnhealthy", strings.Join(quorumProblems, "; ")
	}
	setCondition(&st.Conditions, gen, v1.ConditionReady, ready, reason, why)

	if st.Verdict == v1.VerdictPass {
		setCondition(&st.Conditions, gen, v1.ConditionGoalsMet, metav1.ConditionTrue, "Pass", fmt.Sprintf("every goal met (%d findings below %s)", len(active), report.FailOn))
	} else {
		msg := fmt.Sprintf("%d critical, %d high", st.Findings.Critical, st.Findings.High)
		if len(sorted) > 0 {
			msg += ": " + sorted[0].ID + " " + sorted[0].Subject + ": " + sorted[0].Message
		}
		setCondition(&st.Conditions, gen, v1.ConditionGoalsMet, metav1.ConditionFalse, "Fail", msg)
	}

	if d := degraded(in.Snapshot); len(d) > 0 {
		setCondition(&st.Conditions, gen, v1.ConditionDegraded, metav1.ConditionTrue, "Degraded", strings.Join(d, "; "))
	} else {
		setCondition(&st.Conditions, gen, v1.ConditionDegraded, metav1.ConditionFalse, "Healthy", "every broker serves and every partition has its full ISR")
	}
}

// degraded lists what is wrong with the cluster as it is now.
func degraded(s *topology.Snapshot) []string {
	var out []string
	var down []string
	for _, b := range s.Brokers {
		if !b.Serving() {
			down = append(down, fmt.Sprintf("broker %d %s", b.ID, b.State))
		}
	}
	if len(down) > 0 {
		out = append(out, strings.Join(down, ", "))
	}
	offline, under := 0, 0
	for _, t := range s.Topics {
		for _, p := range t.Partitions {
			switch {
			case p.Leader < 0:
				offline++
			case len(p.ISR) < len(p.Replicas):
				under++
			}
		}
	}
	if offline > 0 {
		out = append(out, fmt.Sprintf("%d partitions offline", offline))
	}
	if under > 0 {
		out = append(out, fmt.Sprintf("%d partitions under-replicated", under))
	}
	return out
}

// latencySummary is the worst fresh inter-DC round trip.
func latencySummary(in *advise.Inputs) *v1.LatencySummary {
	ls := &v1.LatencySummary{Source: in.RTTSource}
	if ls.Source == "" {
		ls.Source = "not measured"
	}
	keys := make([]string, 0, len(in.RTT))
	for k := range in.RTT {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var worst time.Duration
	for _, k := range keys {
		d := in.RTT[k]
		ls.Pairs = append(ls.Pairs, v1.LatencyPair{Pair: k, RTT: d.Round(10 * time.Microsecond).String()})
		if d > worst {
			worst, ls.WorstPair = d, k
		}
	}
	if ls.WorstPair != "" {
		ls.WorstRTT = worst.Round(10 * time.Microsecond).String()
	}
	return ls
}

// latencyTopic is where the probe agents' results are read: the
// default topic, or none for "-".
func latencyTopic(sc *v1.StretchCluster) string {
	switch t := sc.Spec.Probe.Topic; t {
	case "":
		return probe.DefaultResultsTopic
	case "-":
		return ""
	default:
		return t
	}
}

func seconds(s float64) string {
	return (time.Duration(s * float64(time.Second))).Round(100 * time.Millisecond).String()
}

// setCondition sets a condition, keeping its transition time when the
// status did not change.
func setCondition(conds *[]metav1.Condition, gen int64, typ string, status metav1.ConditionStatus, reason, msg string) {
	if len(msg) > 1000 {
		msg = msg[:997] + "..."
	}
	meta.SetStatusCondition(conds, metav1.Condition{Type: typ, Status: status, Reason: reason, Message: msg, ObservedGeneration: gen})
}

// SetupWithManager registers the reconciler: StretchClusters (spec
// changes only: the status this reconciler writes does not trigger it)
// and the report ConfigMaps it owns.
func (r *StretchClusterReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1.StretchCluster{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Named("stretchcluster").
		Complete(r)
}
