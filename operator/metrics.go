package operator

import (
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stretchctl/stretchctl/advise"
	v1 "github.com/stretchctl/stretchctl/api/v1alpha1"
	"github.com/stretchctl/stretchctl/drill"
	"github.com/stretchctl/stretchctl/rules"
)

// Metrics are the operator's own Prometheus metrics, all prefixed
// stretchctl_, served beside controller-runtime's.
type Metrics struct {
	findings     *prometheus.GaugeVec
	verdict      *prometheus.GaugeVec
	latency      *prometheus.GaugeVec
	checkSeconds *prometheus.GaugeVec
	drillRTO     *prometheus.GaugeVec
	drillLost    *prometheus.GaugeVec
	drillAgree   *prometheus.GaugeVec
	drillStart   *prometheus.GaugeVec
}

// NewMetrics creates the metrics and registers them with reg (nil: not
// registered, for tests that read them directly).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	cluster := []string{"namespace", "cluster"}
	m := &Metrics{
		findings: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "stretchctl_findings",
			Help: "Active findings of the last check, by severity."}, append(cluster, "severity")),
		verdict: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "stretchctl_goals_met",
			Help: "1 when the last check met every goal, 0 when not."}, cluster),
		latency: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "stretchctl_latency_rtt_seconds",
			Help: "Inter-DC round trip (p99 of the probe agents) of the last check, by DC pair."}, append(cluster, "pair")),
		checkSeconds: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "stretchctl_last_check_timestamp_seconds",
			Help: "When the last check completed, as a Unix time."}, cluster),
		drillRTO: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "stretchctl_drill_observed_rto_seconds",
			Help: "Observed RTO of the last completed drill of the cluster (-1: writes did not resume)."}, append(cluster, "fault", "dc")),
		drillLost: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "stretchctl_drill_acked_lost_records",
			Help: "Acknowledged records the last completed drill lost."}, append(cluster, "fault", "dc")),
		drillAgree: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "stretchctl_drill_prediction_agrees",
			Help: "1 when the last completed drill agreed with its prediction, 0 when not."}, append(cluster, "fault", "dc")),
		drillStart: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "stretchctl_drill_in_progress_start_timestamp_seconds",
			Help: "Start time of the drill in progress (absent when none): alert when it is old."}, append(cluster, "drill")),
	}
	if reg != nil {
		reg.MustRegister(m.findings, m.verdict, m.latency, m.checkSeconds, m.drillRTO, m.drillLost, m.drillAgree, m.drillStart)
	}
	return m
}

func (m *Metrics) observeCheck(sc *v1.StretchCluster, report *rules.Report, in *advise.Inputs) {
	if m == nil {
		return
	}
	ns, name := sc.Namespace, sc.Name
	counts := map[rules.Severity]int{}
	for _, f := range report.Active() {
		counts[f.Severity]++
	}
	for s := rules.Info; s <= rules.Critical; s++ {
		m.findings.WithLabelValues(ns, name, s.String()).Set(float64(counts[s]))
	}
	goals := 0.0
	if report.Verdict == rules.VerdictPass {
		goals = 1
	}
	m.verdict.WithLabelValues(ns, name).Set(goals)
	m.latency.DeletePartialMatch(prometheus.Labels{"namespace": ns, "cluster": name})
	for pair, d := range in.RTT {
		m.latency.WithLabelValues(ns, name, strings.ReplaceAll(pair, "/", "-")).Set(d.Seconds())
	}
	m.checkSeconds.WithLabelValues(ns, name).Set(float64(report.TakenAt.Unix()))
}

func (m *Metrics) drillStarted(fd *v1.FailoverDrill) {
	if m == nil || fd.Status.StartTime == nil {
		return
	}
	m.drillStart.WithLabelValues(fd.Namespace, fd.Spec.ClusterRef.Name, fd.Name).Set(float64(fd.Status.StartTime.Unix()))
}

func (m *Metrics) drillEnded(fd *v1.FailoverDrill, res *drill.Result) {
	if m == nil {
		return
	}
	m.drillStart.DeleteLabelValues(fd.Namespace, fd.Spec.ClusterRef.Name, fd.Name)
	if res == nil || res.Verdict == drill.Error || res.Verdict == drill.Inconclusive {
		return
	}
	l := []string{fd.Namespace, fd.Spec.ClusterRef.Name, string(fd.Spec.Fault), fd.Spec.DC}
	rto := -1.0
	if res.Observed.RTOSeconds != nil {
		rto = *res.Observed.RTOSeconds
	}
	m.drillRTO.WithLabelValues(l...).Set(rto)
	m.drillLost.WithLabelValues(l...).Set(float64(res.Observed.AckedLost))
	agree := 0.0
	if res.Comparison.Agree {
		agree = 1
	}
	m.drillAgree.WithLabelValues(l...).Set(agree)
}

// forget drops a deleted cluster's series.
func (m *Metrics) forget(ns, name string) {
	if m == nil {
		return
	}
	l := prometheus.Labels{"namespace": ns, "cluster": name}
	for _, v := range []*prometheus.GaugeVec{m.findings, m.verdict, m.latency, m.checkSeconds, m.drillRTO, m.drillLost, m.drillAgree, m.drillStart} {
		v.DeletePartialMatch(l)
	}
}
