package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/stretchctl/stretchctl/lab"
	"github.com/stretchctl/stretchctl/probe"
	"github.com/stretchctl/stretchctl/rules"
)

// Agent settings for the test: short rounds so that the lab test stays
// short. A change of the network is in the matrix within two rounds, a
// round being at most window + 2 × request timeout + one interval
// (MeasureOptions.Slots waits for the wall clock), plus the publish and
// read of the report.
const (
	agentWindow   = 5 * time.Second
	agentInterval = time.Second
	followBound   = 2*(agentWindow+2*probe.MaxRequestTimeout+agentInterval) + 5*time.Second
)

// TestAgentsAgainstLab runs a probe agent in every DC of a 3-DC lab
// (one broker per DC) with latency a–b 20 ms, a–c 35 ms and b–c 50 ms
// made of one-way delays of 30 ms (b→c) and 20 ms (c→b), and checks the
// matrix built from what they publish, its Prometheus metrics, check's use
// of it, and how it follows a latency change, an isolated DC and its heal.
func TestAgentsAgainstLab(t *testing.T) {
	requireLab(t)
	bin := buildStretchctl(t)
	l := startLab(t, bin, "--topology", "3dc", "--brokers-per-dc", "1",
		"--latency", "dc-a/dc-b=20ms,dc-a/dc-c=35ms,dc-b>dc-c=30ms,dc-c>dc-b=20ms")
	st, err := l.State()
	if err != nil {
		t.Fatal(err)
	}
	dcs := []string{"dc-a", "dc-b", "dc-c"}
	for _, dc := range dcs {
		startAgent(t, bin, l, dc)
	}
	want := map[string]time.Duration{"dc-a/dc-b": 20 * time.Millisecond, "dc-a/dc-c": 35 * time.Millisecond, "dc-b/dc-c": 50 * time.Millisecond}
	rttOf := func(a, b string) time.Duration {
		if a == b {
			return 0
		}
		if b < a {
			a, b = b, a
		}
		return want[a+"/"+b]
	}
	readMatrix := func(t *testing.T) *probe.Matrix {
		t.Helper()
		out, errOut, code := run(t, bin, "probe", "matrix", "--config", l.ConfigPath(), "--format", "json")
		if code != 0 {
			t.Logf("probe matrix: exit %d: %s", code, errOut)
			return nil
		}
		var m probe.Matrix
		if err := json.Unmarshal([]byte(out), &m); err != nil {
			t.Fatalf("probe matrix json: %v\n%s", err, out)
		}
		return &m
	}
	// fresh: a cell measured after since, with samples.
	fresh := func(c probe.MatrixCell, since time.Time) bool {
		return c.At.After(since) && !c.Stale
	}
	// cellOK says whether a cell is within max(1 ms, 5%) of rtt.
	cellOK := func(c probe.MatrixCell, rtt time.Duration) (bool, string) {
		if c.RoundTripMs == nil {
			return false, fmt.Sprintf("%s→%s not measured (failures %d, %s)", c.From, c.To, c.Connect.Failed(), c.Connect.LastError)
		}
		got := time.Duration(*c.RoundTripMs * float64(time.Millisecond))
		tol := linkTolerance(rtt)
		if rtt == 0 {
			tol = time.Millisecond
		}
		if d := got - rtt; d > tol || d < -tol {
			return false, fmt.Sprintf("%s→%s round trip %v, want %v ± %v", c.From, c.To, got, rtt, tol)
		}
		return true, ""
	}
	// waitMatrix polls the matrix until every cell measured after since
	// satisfies ok, or the bound passes; it returns the matrix and how
	// long that took.
	waitMatrix := func(t *testing.T, since time.Time, bound time.Duration, ok func(m *probe.Matrix) (bool, string)) (*probe.Matrix, time.Duration) {
		t.Helper()
		deadline := time.Now().Add(bound)
		last := "no matrix yet"
		for {
			if m := readMatrix(t); m != nil {
				good, why := ok(m)
				if good {
					return m, time.Since(since)
				}
				last = why
			}
			if time.Now().After(deadline) {
				t.Fatalf("matrix not as expected %v after the change: %s", time.Since(since).Round(time.Second), last)
			}
			time.Sleep(time.Second)
		}
	}
	allFresh := func(since time.Time, check func(c probe.MatrixCell) (bool, string)) func(m *probe.Matrix) (bool, string) {
		return func(m *probe.Matrix) (bool, string) {
			for _, from := range dcs {
				for _, to := range dcs {
					c, ok := m.Cell(from, to)
					if !ok || !fresh(c, since) {
						return false, fmt.Sprintf("no fresh cell %s→%s yet", from, to)
					}
					if good, why := check(c); !good {
						return false, why
					}
				}
			}
			return true, ""
		}
	}
	logMatrix := func(t *testing.T, m *probe.Matrix) {
		for _, c := range m.Cells {
			if c.RoundTripMs != nil {
				t.Logf("%s→%s: round trip %.2f ms (configured %v), replication p50 %s", c.From, c.To, *c.RoundTripMs, rttOf(c.From, c.To), fmtP50(c.Replication))
			} else {
				t.Logf("%s→%s: not measured: %s", c.From, c.To, c.Connect.LastError)
			}
		}
	}

	start := time.Now()
	t.Run("matrix", func(t *testing.T) {
		// From the fourth round on: the first ones run while the probe
		// topic is made and the JVMs warm up.
		since := start.Add(3 * agentWindow)
		m, took := waitMatrix(t, since, 2*followBound, allFresh(since, func(c probe.MatrixCell) (bool, string) {
			return cellOK(c, rttOf(c.From, c.To))
		}))
		t.Logf("full matrix %v after the agents started", (took + 3*agentWindow).Round(time.Second))
		logMatrix(t, m)
		// Replication: acks=all − acks=1 waits for the farthest in-sync
		// follower. The probe topic has RF 3 over the three DCs, so the
		// farthest follower of a leader in dc-a is in dc-c (35 ms) and
		// of leaders in dc-b and dc-c 50 ms away.
		farthest := map[string]time.Duration{"dc-a": 35 * time.Millisecond, "dc-b": 50 * time.Millisecond, "dc-c": 50 * time.Millisecond}
		// Per leader DC, the median over the three vantage points: each
		// agent measures the same replication, one agent's round can be
		// disturbed by a results-topic publish beside its probe write.
		for _, to := range dcs {
			var ps []time.Duration
			for _, from := range dcs {
				c, _ := m.Cell(from, to)
				if p, ok := c.Replication.P50(); ok {
					ps = append(ps, p)
				}
			}
			if len(ps) != 3 {
				t.Errorf("replication to leaders in %s measured by %d agents, want 3", to, len(ps))
				continue
			}
			slices.Sort(ps)
			p, f := ps[1], farthest[to]
			// Above the farthest link, and well under a second follower
			// round trip (what probes colliding on one leader would give).
			slack := max(12*time.Millisecond, f/4)
			if p < f-linkTolerance(f) || p > f+slack {
				t.Errorf("leaders in %s: replication p50 (median of agents %v) = %v, want the farthest follower's round trip %v (+ handling under %v)", to, ps, p, f, slack)
			}
		}
	})

	t.Run("metrics", func(t *testing.T) {
		fams := scrape(t, l, "dc-b")
		lat, ok := fams["stretchctl_probe_latency_seconds"]
		if !ok || lat.GetType() != dto.MetricType_SUMMARY {
			t.Fatalf("stretchctl_probe_latency_seconds missing or not a summary: %v", lat)
		}
		seen := map[string]bool{}
		for _, m := range lat.GetMetric() {
			labels := map[string]string{}
			for _, lp := range m.GetLabel() {
				labels[lp.GetName()] = lp.GetValue()
			}
			for _, n := range []string{"from_dc", "to_dc", "broker", "kind"} {
				if labels[n] == "" {
					t.Errorf("latency series without %s: %v", n, labels)
				}
			}
			if labels["from_dc"] != "dc-b" {
				t.Errorf("agent in dc-b exports from_dc=%q", labels["from_dc"])
			}
			if labels["kind"] != "connect" {
				continue
			}
			seen[labels["to_dc"]] = true
			for _, q := range m.GetSummary().GetQuantile() {
				if q.GetQuantile() != 0.5 {
					continue
				}
				got := time.Duration(q.GetValue() * float64(time.Second))
				if w := rttOf("dc-b", labels["to_dc"]); got-w > max(linkTolerance(w), time.Millisecond) || w-got > max(linkTolerance(w), time.Millisecond) {
					t.Errorf("metrics: connect p50 dc-b→%s (broker %s) = %v, want %v", labels["to_dc"], labels["broker"], got, w)
				}
			}
		}
		if len(seen) != 3 {
			t.Errorf("connect latency for broker DCs %v, want all three", seen)
		}
		for _, name := range []string{"stretchctl_probe_samples_total", "stretchctl_probe_failures_total", "stretchctl_probe_round_trip_seconds",
			"stretchctl_probe_broker_up", "stretchctl_probe_rounds_total", "process_cpu_seconds_total", "process_resident_memory_bytes"} {
			if _, ok := fams[name]; !ok && name != "stretchctl_probe_failures_total" {
				t.Errorf("metric %s missing", name)
			}
		}
		if rt := fams["stretchctl_probe_round_trip_seconds"]; rt != nil && len(rt.GetMetric()) != 3 {
			t.Errorf("round trip gauges: %d, want one per broker DC", len(rt.GetMetric()))
		}
	})

	t.Run("check uses the matrix", func(t *testing.T) {
		// Budgets: a–b warn 15 ms, others warn 30 / fail 45 ms: a–b (20)
		// and a–c (35) over warn, b–c (50) over fail.
		cfg := filepath.Join(t.TempDir(), "budget.yaml")
		body, err := os.ReadFile(l.ConfigPath())
		if err != nil {
			t.Fatal(err)
		}
		budget := strings.Replace(string(body), "    warn: 50ms\n    fail: 100ms\n",
			"    warn: 30ms\n    fail: 45ms\n    pairs:\n      dc-a/dc-b: {warn: 15ms}\n", 1)
		if budget == string(body) {
			t.Fatalf("lab stretch.yaml has no latency budget to replace:\n%s", body)
		}
		writeFile(t, cfg, budget)
		wantSev := map[string]rules.Severity{"link:dc-a/dc-b": rules.Medium, "link:dc-a/dc-c": rules.Medium, "link:dc-b/dc-c": rules.High}
		checkTOP008 := func(t *testing.T, rep *rules.Report, source string) {
			t.Helper()
			got := map[string]rules.Severity{}
			for _, f := range rep.Findings {
				if f.ID == "TOP-008" {
					got[f.Subject] = f.Severity
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(wantSev) {
				t.Errorf("TOP-008 findings %v, want %v", got, wantSev)
			}
			if !strings.Contains(strings.Join(rep.Notes, "\n"), source) {
				t.Errorf("notes %q do not name the latency source %q", rep.Notes, source)
			}
		}
		out, errOut, code := run(t, bin, "check", "--config", cfg, "--format", "json")
		if code != 0 && code != 1 {
			t.Fatalf("check: exit %d: %s", code, errOut)
		}
		var rep rules.Report
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatal(err)
		}
		checkTOP008(t, &rep, "probe agents (topic __stretchctl_latency)")

		// The same from a saved matrix file.
		file := filepath.Join(t.TempDir(), "matrix.json")
		writeFile(t, file, mustRun(t, bin, "probe", "matrix", "--config", l.ConfigPath(), "--format", "json"))
		out, errOut, code = run(t, bin, "check", "--config", cfg, "--latency-matrix", file, "--format", "json")
		if code != 0 && code != 1 {
			t.Fatalf("check --latency-matrix: exit %d: %s", code, errOut)
		}
		rep = rules.Report{}
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatal(err)
		}
		checkTOP008(t, &rep, "file "+file)

		// A bad matrix file is an error naming it, exit 2.
		bad := filepath.Join(t.TempDir(), "bad.json")
		writeFile(t, bad, `{"cells": [}`)
		_, errOut, code = run(t, bin, "check", "--config", cfg, "--latency-matrix", bad)
		if code != 2 || !strings.Contains(errOut, bad) {
			t.Errorf("check with a broken matrix file: exit %d, stderr %q; want 2 naming the file", code, errOut)
		}
	})

	t.Run("latency change", func(t *testing.T) {
		mustRun(t, bin, "lab", "fault", "latency", "dc-a/dc-b=40ms", "--dir", l.Dir)
		since := time.Now()
		want["dc-a/dc-b"] = 40 * time.Millisecond
		m, took := waitMatrix(t, since, followBound, allFresh(since, func(c probe.MatrixCell) (bool, string) {
			return cellOK(c, rttOf(c.From, c.To))
		}))
		t.Logf("a–b 20 → 40 ms: matrix followed in %v (stated bound %v)", took.Round(100*time.Millisecond), followBound)
		logMatrix(t, m)
		healLab(t, bin, l)
		want["dc-a/dc-b"] = 20 * time.Millisecond
	})

	t.Run("isolate and heal", func(t *testing.T) {
		mustRun(t, bin, "lab", "fault", "isolate", "dc-a", "--dir", l.Dir)
		since := time.Now()
		healed := false
		defer func() {
			if !healed {
				healLab(t, bin, l)
			}
		}()
		// dc-a's column turns to failures; the cells between dc-b and
		// dc-c stay correct. dc-a's own agent cannot publish: its row
		// ages (stale after 30 s), it is not checked here.
		m, took := waitMatrix(t, since, followBound, func(m *probe.Matrix) (bool, string) {
			for _, from := range []string{"dc-b", "dc-c"} {
				for _, to := range dcs {
					c, ok := m.Cell(from, to)
					if !ok || !c.At.After(since.Add(agentWindow)) {
						return false, fmt.Sprintf("no cell %s→%s from a round after the cut yet", from, to)
					}
					if to == "dc-a" {
						if c.RoundTripMs != nil || c.Connect.Failed() == 0 {
							return false, fmt.Sprintf("%s→dc-a still measured after the cut (connect %d ok, %d failed)", from, c.Connect.Count, c.Connect.Failed())
						}
						continue
					}
					if good, why := cellOK(c, rttOf(from, to)); !good {
						return false, why
					}
				}
			}
			return true, ""
		})
		t.Logf("isolate dc-a: its column failed in %v", took.Round(100*time.Millisecond))
		for _, from := range []string{"dc-b", "dc-c"} {
			c, _ := m.Cell(from, "dc-a")
			t.Logf("%s→dc-a: %d timeouts, %d errors: %s", from, c.Connect.Timeouts, c.Connect.Errors, c.Connect.LastError)
		}
		healLab(t, bin, l)
		healed = true
		since = time.Now()
		_, took = waitMatrix(t, since, followBound, allFresh(since, func(c probe.MatrixCell) (bool, string) {
			return cellOK(c, rttOf(c.From, c.To))
		}))
		t.Logf("heal: every cell correct again in %v", took.Round(100*time.Millisecond))
	})

	// The TUI on the same lab, agents still running (e2e/tui_test.go).
	t.Run("tui", func(t *testing.T) { testTUI(t, bin, l, st, want["dc-a/dc-b"]) })
}

// healLab heals every fault of the lab.
func healLab(t *testing.T, bin string, l *lab.Lab) {
	t.Helper()
	mustRun(t, bin, "lab", "heal", "--dir", l.Dir)
}

// startAgent runs `stretchctl probe agent` inside dc until the test ends,
// then stops it with SIGTERM and expects exit 0. It returns the path of
// the agent's log.
func startAgent(t *testing.T, bin string, l *lab.Lab, dc string) string {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), "agent-"+dc+".log")
	f, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "lab", "exec", dc, "--dir", l.Dir, "--",
		bin, "probe", "agent", "--config", l.ConfigPath(), "--window", agentWindow.String(),
		"--interval", agentInterval.String(), "--listen", "127.0.0.1:9464")
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		defer f.Close()
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("agent in %s: %v on SIGTERM, want exit 0", dc, err)
			}
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-done
			t.Errorf("agent in %s did not stop within 15 s of SIGTERM", dc)
		}
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("agent in %s:\n%s", dc, tail(string(b), 40))
		}
	})
	return logPath
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// scrape reads the agent's /metrics inside dc and parses it with the
// Prometheus text-format parser.
func scrape(t *testing.T, l *lab.Lab, dc string) map[string]*dto.MetricFamily {
	t.Helper()
	dial, err := l.DialContext(dc)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) { return dial(ctx, network, addr) },
	}}
	resp, err := client.Get("http://127.0.0.1:9464/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("metrics content type %q, want the text format", ct)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("metrics do not parse as Prometheus text format: %v", err)
	}
	return fams
}

func fmtP50(s probe.Stats) string {
	if d, ok := s.P50(); ok {
		return d.Round(10 * time.Microsecond).String()
	}
	return fmt.Sprintf("none (%d failed: %s)", s.Failed(), s.LastError)
}
