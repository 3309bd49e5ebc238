package probe

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/stretchctl/stretchctl/config"
)

// statsMs builds Stats with n samples whose percentiles are all ms.
func statsMs(n int64, ms float64) Stats {
	return Stats{Count: n, Percentiles: &Percentiles{MinMs: ms, MeanMs: ms, P50Ms: ms, P99Ms: ms, MaxMs: ms}}
}

func cellMs(from, to string, ms float64) Cell {
	return Cell{From: from, To: to, Brokers: []int32{1}, Connect: statsMs(5, ms), Request: statsMs(5, ms+0.5)}
}

func report(agent, from string, at time.Time, cells ...Cell) Report {
	return Report{Version: reportVersion, Agent: agent, From: from, At: at, WindowMs: 10000, IntervalMs: 1000, Matrix: cells}
}

func TestBuildMatrixNewestWinsAndStale(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	reps := []Report{
		report("dc-a/x", "dc-a", now.Add(-20*time.Second), cellMs("dc-a", "dc-b", 99)),
		report("dc-a/x", "dc-a", now.Add(-5*time.Second), cellMs("dc-a", "dc-a", 0.2), cellMs("dc-a", "dc-b", 20.3)),
		// A second agent of dc-a, newer, with only dc-b: it wins dc-a→dc-b.
		report("dc-a/y", "dc-a", now.Add(-2*time.Second), cellMs("dc-a", "dc-b", 21)),
		report("dc-b/x", "dc-b", now.Add(-4*time.Second), cellMs("dc-b", "dc-a", 22), cellMs("dc-b", "dc-c", 50.2)),
		// dc-c's agent stopped a minute ago: stale, shown, not used.
		report("dc-c/x", "dc-c", now.Add(-time.Minute), cellMs("dc-c", "dc-a", 35), cellMs("dc-c", "dc-b", 50)),
	}
	m := BuildMatrix(reps, now, "test")
	if got := strings.Join(m.DCs, ","); got != "dc-a,dc-b,dc-c" {
		t.Errorf("DCs = %s", got)
	}
	if len(m.Reports) != 4 {
		t.Errorf("reports = %d, want the newest of each of 4 agents", len(m.Reports))
	}
	c, ok := m.Cell("dc-a", "dc-b")
	if !ok || c.Agent != "dc-a/y" || *c.RoundTripMs != 21 || c.AgeMs != 2000 {
		t.Errorf("dc-a→dc-b = %+v, want agent dc-a/y's 21 ms, 2 s old", c)
	}
	if c, _ := m.Cell("dc-c", "dc-a"); !c.Stale {
		t.Errorf("dc-c→dc-a not stale at 60 s with 10 s windows (stale after %v ms)", m.StaleAfterMs)
	}
	rtt, src := m.RTT()
	want := map[string]time.Duration{
		"dc-a/dc-b": 22 * time.Millisecond, // the larger direction (b→a 22 over a→b 21)
		"dc-b/dc-c": 50200 * time.Microsecond,
	}
	if len(rtt) != len(want) {
		t.Errorf("RTT = %v, want %v (stale dc-c row and same-DC cells left out)", rtt, want)
	}
	for k, v := range want {
		if rtt[k] != v {
			t.Errorf("RTT[%s] = %v, want %v", k, rtt[k], v)
		}
	}
	for _, part := range []string{"test", "measured at most 4s before", "stale, not used: dc-c→dc-a, dc-c→dc-b"} {
		if !strings.Contains(src, part) {
			t.Errorf("RTT source %q does not say %q", src, part)
		}
	}
}

func TestLoadMatrixFiles(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	m := BuildMatrix([]Report{report("dc-a/x", "dc-a", now.Add(-3*time.Second), cellMs("dc-a", "dc-b", 20))}, now, "agents")
	b, _ := json.Marshal(m)
	matrixFile := filepath.Join(dir, "matrix.json")
	if err := os.WriteFile(matrixFile, b, 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := LoadMatrix(matrixFile, now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if c, ok := got.Cell("dc-a", "dc-b"); !ok || !c.Stale || !strings.Contains(got.Source, matrixFile) {
		t.Errorf("an hour-old matrix file: cell %+v, source %q; want it stale and the file named", c, got.Source)
	}

	res := &Result{From: "dc-b", Started: now, DurationMs: 10000, IntervalMs: 1000, Matrix: []Cell{cellMs("dc-b", "dc-a", 20.4)}}
	b, _ = json.Marshal(res)
	probeFile := filepath.Join(dir, "probe.json")
	if err := os.WriteFile(probeFile, b, 0o644); err != nil {
		t.Fatal(err)
	}
	got, err = LoadMatrix(probeFile, now.Add(11*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if rtt, _ := got.RTT(); rtt["dc-a/dc-b"] != 20400*time.Microsecond {
		t.Errorf("one-shot probe file: RTT %v, want dc-a/dc-b 20.4ms", rtt)
	}

	for name, body := range map[string]string{"broken.json": `{"cells": [`, "other.json": `{"brokers": []}`, "list.json": `[1,2]`} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadMatrix(p, now); err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("LoadMatrix(%s) = %v, want an error naming the file", name, err)
		}
	}
	if _, err := LoadMatrix(filepath.Join(dir, "missing.json"), now); err == nil {
		t.Error("missing file: no error")
	}
}

// TestMetricsExposition checks the metrics of two rounds through the
// registry and the official text-format parser.
func TestMetricsExposition(t *testing.T) {
	m := NewMetrics()
	b := BrokerLatency{ID: 3, DC: "dc-b", Partition: 2,
		Connect: statsMs(10, 20.3), Request: statsMs(10, 20.9), ProduceAcks1: statsMs(9, 21), ProduceAcksAll: statsMs(9, 41),
		Replication: statsMs(9, 20), EndToEnd: Stats{Timeouts: 2, Errors: 1, LastError: "no answer within 3s"}}
	rep := report("dc-a/x", "dc-a", time.Unix(1_800_000_000, 0), cellMs("dc-a", "dc-b", 20.3))
	rep.Brokers = []BrokerLatency{b}
	m.observe(rep, true)
	m.observe(rep, true)
	m.observe(Report{From: "dc-a"}, false)
	m.publishFailed()

	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	for _, f := range fams {
		if _, err := expfmt.MetricFamilyToText(&buf, f); err != nil {
			t.Fatal(err)
		}
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	parsed, err := parser.TextToMetricFamilies(&buf)
	if err != nil {
		t.Fatalf("exposition does not parse: %v", err)
	}
	find := func(name string, labels map[string]string) *dto.Metric {
		t.Helper()
		f, ok := parsed[name]
		if !ok {
			t.Fatalf("metric %s missing", name)
		}
	next:
		for _, mt := range f.GetMetric() {
			have := map[string]string{}
			for _, l := range mt.GetLabel() {
				have[l.GetName()] = l.GetValue()
			}
			for k, v := range labels {
				if have[k] != v {
					continue next
				}
			}
			return mt
		}
		t.Fatalf("%s%v missing", name, labels)
		return nil
	}
	// Latency is that of the last round, which reached no broker: none.
	if f := parsed["stretchctl_probe_latency_seconds"]; f != nil {
		t.Errorf("latency of a failed round with no broker rows: %d series, want none", len(f.GetMetric()))
	}
	m.observe(rep, true)
	fams, _ = m.Registry().Gather()
	buf.Reset()
	for _, f := range fams {
		_, _ = expfmt.MetricFamilyToText(&buf, f)
	}
	parsed, err = parser.TextToMetricFamilies(&buf)
	if err != nil {
		t.Fatal(err)
	}
	lat := find("stretchctl_probe_latency_seconds", map[string]string{"from_dc": "dc-a", "to_dc": "dc-b", "broker": "3", "kind": "connect"})
	if parsed["stretchctl_probe_latency_seconds"].GetType() != dto.MetricType_SUMMARY {
		t.Error("latency is not a summary")
	}
	qs := map[float64]float64{}
	for _, q := range lat.GetSummary().GetQuantile() {
		qs[q.GetQuantile()] = q.GetValue()
	}
	if len(qs) != 3 || qs[0.5] < 0.0202 || qs[0.5] > 0.0204 || lat.GetSummary().GetSampleCount() != 10 {
		t.Errorf("connect summary = %v count %d, want p50/p99/max of 20.3 ms over 10 samples", qs, lat.GetSummary().GetSampleCount())
	}
	if v := find("stretchctl_probe_samples_total", map[string]string{"kind": "request", "broker": "3"}).GetCounter().GetValue(); v != 30 {
		t.Errorf("request samples = %v, want 30 (three rounds of 10)", v)
	}
	if v := find("stretchctl_probe_failures_total", map[string]string{"kind": "end_to_end", "reason": "timeout"}).GetCounter().GetValue(); v != 6 {
		t.Errorf("end-to-end timeouts = %v, want 6", v)
	}
	if v := find("stretchctl_probe_rounds_total", map[string]string{"result": "failed"}).GetCounter().GetValue(); v != 1 {
		t.Errorf("failed rounds = %v, want 1", v)
	}
	if v := find("stretchctl_probe_round_trip_seconds", map[string]string{"from_dc": "dc-a", "to_dc": "dc-b"}).GetGauge().GetValue(); v < 0.0202 || v > 0.0204 {
		t.Errorf("round trip gauge = %v, want 0.0203", v)
	}
	if v := find("stretchctl_probe_publish_failures_total", nil).GetCounter().GetValue(); v != 1 {
		t.Errorf("publish failures = %v, want 1", v)
	}
	if v := find("stretchctl_probe_broker_up", map[string]string{"broker": "3"}).GetGauge().GetValue(); v != 1 {
		t.Errorf("broker_up = %v, want 1", v)
	}
	find("process_resident_memory_bytes", nil)
}

// TestAgentReportOfFailedRound: a round that reached no broker keeps the
// cells of the last good round, as failures, so that the matrix shows them
// failing rather than missing.
func TestAgentReportOfFailedRound(t *testing.T) {
	a, err := NewAgent(config.Cluster{Bootstrap: []string{"127.0.0.1:1"}}, AgentOptions{Measure: MeasureOptions{From: "dc-a"}, Name: "n"})
	if err != nil {
		t.Fatal(err)
	}
	if rep := a.report(nil, errors.New("could not connect")); rep.Error == "" || len(rep.Matrix) != 0 {
		t.Errorf("failed first round: %+v, want the error and no cells", rep)
	}
	good := &Result{From: "dc-a", Brokers: []BrokerLatency{{ID: 1, DC: "dc-b", Connect: statsMs(3, 20)}}, Matrix: []Cell{cellMs("dc-a", "dc-b", 20)}}
	if rep := a.report(good, nil); rep.Agent != "dc-a/n" || len(rep.Matrix) != 1 || rep.Error != "" {
		t.Errorf("good round: %+v", rep)
	}
	rep := a.report(nil, errors.New("could not connect to 198.18.1.11:9092"))
	if len(rep.Matrix) != 1 || rep.Matrix[0].Connect.Failed() == 0 || rep.Matrix[0].Connect.Percentiles != nil ||
		!strings.Contains(rep.Matrix[0].Connect.LastError, "198.18.1.11") {
		t.Errorf("failed round after a good one: %+v, want dc-a→dc-b kept as a failure with the reason", rep.Matrix)
	}
	if _, ok := BuildMatrix([]Report{rep}, rep.At, "t").Cells[0].RoundTrip(); ok {
		t.Error("a failed cell has a round trip")
	}
	for _, o := range []AgentOptions{
		{Window: -time.Second},
		{Window: time.Second, Measure: MeasureOptions{Interval: 2 * time.Second}},
		{ResultsTopic: DefaultTopic},
		{Measure: MeasureOptions{Slot: 3, Slots: 3}},
	} {
		if _, err := NewAgent(config.Cluster{Bootstrap: []string{"x:1"}}, o); err == nil {
			t.Errorf("NewAgent(%+v): no error", o)
		}
	}
}
