package probe

import (
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics exposes an agent's rounds to Prometheus: per broker and kind the
// latency of the last round as a summary (p50, p99, max), cumulative
// sample and failure counters, the round-trip estimate per DC pair, and
// the agent's own health. Every latency series carries from_dc (the
// vantage DC), to_dc (the broker's DC) and broker labels.
type Metrics struct {
	reg *prometheus.Registry

	mu       sync.Mutex
	last     Report
	have     bool
	samples  map[seriesKey]float64
	failures map[failureKey]float64
	rounds   map[bool]float64
	lastOK   float64
	pubFails float64
}

type seriesKey struct{ from, to, broker, kind string }

type failureKey struct {
	seriesKey
	reason string
}

var (
	descLatency = prometheus.NewDesc("stretchctl_probe_latency_seconds",
		"Latency of the last probe round per broker and kind (connect, request, produce_acks1, produce_acks_all, replication, end_to_end).",
		[]string{"from_dc", "to_dc", "broker", "kind"}, nil)
	descSamples = prometheus.NewDesc("stretchctl_probe_samples_total",
		"Successful probe samples.", []string{"from_dc", "to_dc", "broker", "kind"}, nil)
	descFailures = prometheus.NewDesc("stretchctl_probe_failures_total",
		"Failed probe attempts, by reason (error or timeout).", []string{"from_dc", "to_dc", "broker", "kind", "reason"}, nil)
	descRTT = prometheus.NewDesc("stretchctl_probe_round_trip_seconds",
		"Network round trip from the vantage DC to a broker DC in the last round (median TCP handshake).",
		[]string{"from_dc", "to_dc"}, nil)
	descUp = prometheus.NewDesc("stretchctl_probe_broker_up",
		"1 when the broker answered requests in the last round, else 0.", []string{"from_dc", "to_dc", "broker"}, nil)
	descRounds = prometheus.NewDesc("stretchctl_probe_rounds_total",
		"Probe rounds, by result (ok: the cluster was reached; failed: no broker answered).", []string{"from_dc", "result"}, nil)
	descLastRound = prometheus.NewDesc("stretchctl_probe_last_success_timestamp_seconds",
		"Unix time of the end of the last round that reached the cluster.", []string{"from_dc"}, nil)
	descPublish = prometheus.NewDesc("stretchctl_probe_publish_failures_total",
		"Rounds that could not be written to the results topic.", []string{"from_dc"}, nil)
)

// NewMetrics makes the agent's metrics, with the Go runtime and process
// collectors (CPU seconds and resident memory of the agent itself).
func NewMetrics() *Metrics {
	m := &Metrics{
		reg:      prometheus.NewRegistry(),
		samples:  map[seriesKey]float64{},
		failures: map[failureKey]float64{},
		rounds:   map[bool]float64{},
	}
	m.reg.MustRegister(m, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registry is what an HTTP handler serves (promhttp.HandlerFor).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// kindsOf lists a broker row's kinds with their metric label.
func kindsOf(b *BrokerLatency) []struct {
	name string
	s    *Stats
} {
	return []struct {
		name string
		s    *Stats
	}{
		{"connect", &b.Connect}, {"request", &b.Request}, {"produce_acks1", &b.ProduceAcks1},
		{"produce_acks_all", &b.ProduceAcksAll}, {"replication", &b.Replication}, {"end_to_end", &b.EndToEnd},
	}
}

func (m *Metrics) observe(rep Report, ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.last, m.have = rep, true
	m.rounds[ok]++
	if ok {
		m.lastOK = float64(rep.At.UnixNano()) / 1e9
	}
	for i := range rep.Brokers {
		b := &rep.Brokers[i]
		for _, k := range kindsOf(b) {
			sk := seriesKey{rep.From, b.DC, strconv.Itoa(int(b.ID)), k.name}
			m.samples[sk] += float64(k.s.Count)
			if k.s.Errors > 0 {
				m.failures[failureKey{sk, "error"}] += float64(k.s.Errors)
			}
			if k.s.Timeouts > 0 {
				m.failures[failureKey{sk, "timeout"}] += float64(k.s.Timeouts)
			}
		}
	}
}

func (m *Metrics) publishFailed() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.pubFails++
}

// Describe implements prometheus.Collector.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descLatency, descSamples, descFailures, descRTT, descUp, descRounds, descLastRound, descPublish} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.have {
		return
	}
	from := m.last.From
	for i := range m.last.Brokers {
		b := &m.last.Brokers[i]
		id := strconv.Itoa(int(b.ID))
		up := 0.0
		if b.Request.Count > 0 {
			up = 1
		}
		ch <- prometheus.MustNewConstMetric(descUp, prometheus.GaugeValue, up, from, b.DC, id)
		for _, k := range kindsOf(b) {
			p := k.s.Percentiles
			if p == nil {
				continue
			}
			q := map[float64]float64{0.5: p.P50Ms / 1e3, 0.99: p.P99Ms / 1e3, 1: p.MaxMs / 1e3}
			ch <- prometheus.MustNewConstSummary(descLatency, uint64(k.s.Count), p.MeanMs*float64(k.s.Count)/1e3, q, from, b.DC, id, k.name)
		}
	}
	for k, v := range m.samples {
		ch <- prometheus.MustNewConstMetric(descSamples, prometheus.CounterValue, v, k.from, k.to, k.broker, k.kind)
	}
	for k, v := range m.failures {
		ch <- prometheus.MustNewConstMetric(descFailures, prometheus.CounterValue, v, k.from, k.to, k.broker, k.kind, k.reason)
	}
	for _, c := range m.last.Matrix {
		if rtt, ok := c.RoundTrip(); ok {
			ch <- prometheus.MustNewConstMetric(descRTT, prometheus.GaugeValue, rtt.Seconds(), from, c.To)
		}
	}
	ch <- prometheus.MustNewConstMetric(descRounds, prometheus.CounterValue, m.rounds[true], from, "ok")
	ch <- prometheus.MustNewConstMetric(descRounds, prometheus.CounterValue, m.rounds[false], from, "failed")
	if m.lastOK > 0 {
		ch <- prometheus.MustNewConstMetric(descLastRound, prometheus.GaugeValue, m.lastOK, from)
	}
	ch <- prometheus.MustNewConstMetric(descPublish, prometheus.CounterValue, m.pubFails, from)
}

// RoundTrip is the cell's network round-trip estimate: the median TCP
// handshake (SYN → SYN-ACK, answered by the broker host's kernel, so no
// Kafka request handling is in it). False when nothing was measured.
func (c Cell) RoundTrip() (time.Duration, bool) { return c.Connect.P50() }
