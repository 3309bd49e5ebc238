package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchctl/stretchctl/drill"
)

var drillStart = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

// at is the drill's start plus s seconds.
func at(s float64) time.Time {
	return drillStart.Add(time.Duration(s * float64(time.Second)))
}

// timeline builds n seconds from a function of the second.
func timeline(n int, f func(t int) drill.Second) []drill.Second {
	tl := make([]drill.Second, n)
	for t := range n {
		tl[t] = f(t)
		tl[t].T = t
	}
	return tl
}

// totals fills Sent, Acked and Failed from the timeline.
func totals(o *drill.Observed, tl []drill.Second) {
	for _, s := range tl {
		o.Acked += s.Successes
		o.Failed += s.Errors
	}
	o.Sent = o.Acked + o.Failed
}

// passResult is a drill that kills dc-a: writes to the partitions dc-a
// led stop for 6.2s, nothing is lost, everything heals, and the
// prediction (≈ 9.5s, no loss) agrees.
func passResult() *drill.Result {
	tl := timeline(100, func(t int) drill.Second {
		s := drill.Second{Successes: 500, P50Ms: 4, P99Ms: 12}
		switch {
		case t >= 20 && t < 26: // 2 of 6 partitions are without a leader
			s = drill.Second{Successes: 333, Errors: 12, P50Ms: 5, P99Ms: 40}
		case t == 26: // the backlog drains to the new leaders in dc-b
			s = drill.Second{Successes: 1160, P50Ms: 380, P99Ms: 6150}
		case t >= 80 && t < 82: // dc-a returns, leaders move back
			s = drill.Second{Successes: 470, Errors: 3, P50Ms: 6, P99Ms: 210}
		}
		return s
	})
	gap := func(ms float64) *float64 { return &ms }
	obs := drill.Observed{
		RTOSeconds:   ptr(6.2),
		ResolutionMs: 40,
		Partitions: []drill.PartitionObservation{
			{Partition: 0, LongestGapMs: gap(6200), FirstSuccessMs: gap(6180), Acked: 8300, Failed: 36},
			{Partition: 1, LongestGapMs: gap(45), FirstSuccessMs: gap(3), Acked: 8310},
			{Partition: 2, LongestGapMs: gap(44), FirstSuccessMs: gap(5), Acked: 8305},
			{Partition: 3, LongestGapMs: gap(6140), FirstSuccessMs: gap(6120), Acked: 8290, Failed: 36},
			{Partition: 4, LongestGapMs: gap(46), FirstSuccessMs: gap(2), Acked: 8300},
			{Partition: 5, LongestGapMs: gap(43), FirstSuccessMs: gap(4), Acked: 8311},
		},
		UnackedPresent: 4,
		ReadBack:       "from the earliest offsets, isolation read_committed",
	}
	totals(&obs, tl)
	return &drill.Result{
		Tool: "stretchctl", Version: "v0.4.0",
		ClusterID: "MkU3OEVBNTcwNTJENDM2Qk",
		Config:    "stretch.yaml",
		Backend:   "lab",
		Fault:     drill.Fault{Kind: drill.Crash, DC: "dc-a", Duration: 60 * time.Second},
		Scenario:  "crash dc-a",
		Workload: drill.Workload{
			Topic: "drill-ledger", Partitions: 6, ProducerDC: "dc-b", Producers: 2, RatePerSecond: 500,
			Library: "java", LibraryVersion: "4.3.1", VersionNote: "no version given: java 4.3.1, the newest this stretchctl supports",
			Settings: []drill.Setting{
				{Name: "acks", Value: "all", Origin: "file"},
				{Name: "enable.idempotence", Value: "true", Origin: "default"},
				{Name: "delivery.timeout.ms", Value: "120000", Origin: "default"},
				{Name: "request.timeout.ms", Value: "30000", Origin: "default"},
				{Name: "linger.ms", Value: "5", Origin: "flag"},
			},
			Source: "clients/producer.properties",
		},
		Phases: drill.Phases{
			Started: drillStart, Injected: at(20), Healed: at(80), Recovered: at(93.4),
			Stopped: at(100), Finished: at(104.2),
		},
		Observed: obs,
		Timeline: tl,
		Goals:    drill.Goals{RPO: 0, RTOSeconds: 30},
		GoalsMet: true,
		Predicted: &drill.Prediction{
			Scenario: "crash dc-a", QuorumSurvives: true, RTOSeconds: ptr(9.5), GoalsMet: true,
			Why: []string{
				"KRaft voters are placed 1/1/1: the quorum survives",
				"2 of 6 leaders of drill-ledger are in dc-a: they move to dc-b after broker.session.timeout.ms",
			},
		},
		Comparison: drill.Comparison{
			Agree: true,
			Points: []drill.Point{
				{What: "RTO", Predicted: "≈ 9.5s", Observed: "6.2s", Agree: true},
				{What: "acked records lost", Predicted: "none", Observed: "0", Agree: true},
				{What: "write-unavailable partitions", Predicted: "0", Observed: "0", Agree: true},
			},
			Notes: []string{"observed RTO is below the prediction: the controller fenced dc-a's brokers before broker.session.timeout.ms (the kill closed their connections)"},
		},
		Healed:  true,
		Verdict: "pass",
	}
}

// readsResult is the pass drill with a consumer group of 4 members, 2 of
// them in dc-a: they die with it, the group rebalances after their
// session, 230 records are read again.
func readsResult() *drill.Result {
	r := passResult()
	for i := range r.Timeline {
		r.Timeline[i].Read = r.Timeline[i].Successes
		if i >= 20 && i < 31 {
			r.Timeline[i].Read /= 2
		}
	}
	r.Workload.Consumers = &drill.ConsumerWorkload{Group: "stretchctl-d1-7", StandsFor: "payments", CoordinatorPartition: 13, CoordinatorDC: "dc-c",
		Members: []drill.MembersIn{{DC: "dc-a", Members: 2}, {DC: "dc-b", Members: 2}}, Commits: "auto every 5000 ms", Source: "clients/consumer.properties",
		Library: "java", LibraryVersion: "4.3.1", Settings: []drill.Setting{{Name: "session.timeout.ms", Value: "10000", Origin: "clients/consumer.properties:1"}},
		Rejected: []string{"group.id: the drill reads in its own group, with the same coordinator"}}
	stall := func(ms float64) *float64 { return &ms }
	r.Observed.Read = &drill.ReadObserved{RTOSeconds: ptr(10.9), ResolutionMs: 25,
		Partitions: []drill.ReadPartitionObserved{{Partition: 0, LongestStallMs: stall(10900), Redelivered: 115}, {Partition: 3, LongestStallMs: stall(10700), Redelivered: 115}},
		Delivered:  49800, Redelivered: 230, RedeliveredFromCommits: 230, Rebalances: []drill.Rebalance{{Generation: 3, StartedSeconds: 10.5, StableSeconds: 10.7, Members: 2}},
		MembersKilled: 2, Commits: 72, CommitPauseSeconds: 5.1, P99EndToEndMs: 10362.9, MaxEndToEndMs: 11337.7}
	r.Goals.ReadRTOSeconds = 30
	r.Predicted.Read = &drill.ReadPrediction{RTOSeconds: ptr(11.0), Rebalance: true,
		RTOBreakdown: []drill.RTOTerm{{Name: "consumer group", Seconds: 11, Note: "members in dc-a are replaced after the session timeout 10s + heartbeat 1s"}},
		Why:          []string{"members in dc-a are replaced after the session timeout 10s + heartbeat 1s"}}
	r.Comparison.Points = append(r.Comparison.Points, drill.Point{What: "read RTO", Predicted: "11.0s", Observed: "10.900s (error +0.1s, tolerance ±2.7s)", Agree: true},
		drill.Point{What: "group rebalances", Predicted: "yes: members die with the DC", Observed: "1", Agree: true})
	return r
}

// failResult is a drill that isolates dc-a with an acks=1 producer in
// dc-a: 37 acknowledged records are lost, writes do not resume before
// the heal, the prediction agrees on the loss but not on the RTO, and a
// link stays cut.
func failResult() *drill.Result {
	lostPerSecond := []int64{12, 9, 6, 4, 3, 2, 1} // acked by dc-a leaders, then truncated
	tl := timeline(110, func(t int) drill.Second {
		s := drill.Second{Successes: 400, P50Ms: 3, P99Ms: 9}
		switch {
		case t >= 20 && t < 27:
			s = drill.Second{Successes: lostPerSecond[t-20], Errors: 100 * int64(t-19), P50Ms: 2, P99Ms: 8}
		case t >= 27 && t < 80:
			s = drill.Second{Errors: 400}
		case t == 80:
			s = drill.Second{Successes: 40, Errors: 120, P50Ms: 800, P99Ms: 2500}
		case t == 81:
			s = drill.Second{Successes: 1100, P50Ms: 95, P99Ms: 640}
		}
		return s
	})
	var lost []drill.LedgerEntry
	for i := range 24 {
		sent := at(20 + float64(i)*0.3)
		lost = append(lost, drill.LedgerEntry{
			Producer: i % 2, Partition: int32(2 * (i % 3)), Seq: 8000 + int64(i)*7,
			Offset: 2650 + int64(i), Sent: sent, Acked: sent.Add(2 * time.Millisecond),
		})
	}
	ms := func(v float64) *float64 { return &v }
	obs := drill.Observed{
		RTOSeconds:   nil,
		ResolutionMs: 250,
		Partitions: []drill.PartitionObservation{
			{Partition: 0, FirstSuccessMs: ms(12), Acked: 6700, Failed: 3500, AckedLost: 13},
			{Partition: 1, Acked: 6600, Failed: 3600},
			{Partition: 2, FirstSuccessMs: ms(15), Acked: 6700, Failed: 3500, AckedLost: 12},
			{Partition: 3, Acked: 6610, Failed: 3590},
			{Partition: 4, FirstSuccessMs: ms(14), Acked: 6690, Failed: 3510, AckedLost: 12},
			{Partition: 5, Acked: 6600, Failed: 3600},
		},
		AckedLost:      37,
		Lost:           lost,
		Duplicates:     2,
		UnackedPresent: 11,
		ReadBack:       "from the earliest offsets, isolation read_uncommitted",
	}
	totals(&obs, tl)
	return &drill.Result{
		Tool: "stretchctl", Version: "v0.4.0",
		ClusterID: "MkU3OEVBNTcwNTJENDM2Qk",
		Backend:   "chaos-mesh",
		Fault:     drill.Fault{Kind: drill.Isolate, DC: "dc-a", Duration: 60 * time.Second},
		Scenario:  "isolate dc-a",
		Workload: drill.Workload{
			Topic: "drill-ledger", Partitions: 6, ProducerDC: "dc-a", Producers: 2, RatePerSecond: 400,
			Library: "sarama", LibraryVersion: "1.61.1", Rejected: []string{"delivery.timeout.ms=30000: sarama has no equivalent setting"},
			Settings: []drill.Setting{
				{Name: "acks", Value: "1", Origin: "file"},
				{Name: "enable.idempotence", Value: "false", Origin: "file"},
				{Name: "delivery.timeout.ms", Value: "120000", Origin: "default"},
			},
			Source: "clients/payments-producer.properties",
		},
		Phases: drill.Phases{
			Started: drillStart, Injected: at(20), Healed: at(80), Recovered: at(96.75),
			Stopped: at(110), Finished: at(131.5),
		},
		Observed: obs,
		Timeline: tl,
		Goals:    drill.Goals{RPO: 0, RTOSeconds: 30},
		GoalsMet: false,
		Predicted: &drill.Prediction{
			Scenario: "isolate dc-a", AckedLossPossible: 3, QuorumSurvives: true, RTOSeconds: ptr(12.0),
			Why: []string{
				"acks=1 in clients/payments-producer.properties: a leader in dc-a acknowledges alone",
				"3 of 6 leaders of drill-ledger are in dc-a: their acks=1 writes during the isolation are truncated",
			},
		},
		Comparison: drill.Comparison{
			Agree: false,
			Points: []drill.Point{
				{What: "acked records lost", Predicted: "possible on 3 partitions", Observed: "37 on 3 partitions", Agree: true},
				{What: "RTO", Predicted: "≈ 12s", Observed: "writes did not resume before heal", Agree: false},
			},
			Notes: []string{"the prediction assumes producers reach dc-b and dc-c; this producer ran in dc-a and was cut off with it"},
		},
		Healed:   false,
		Leftover: []string{"link dc-a/dc-b still cut"},
		Verdict:  "fail",
		Notes: []string{
			"heal of NetworkChaos drill-7f3a-isolate-dc-a-b failed: context deadline exceeded; run stretchctl drill recover",
		},
	}
}

func renderDrill(t *testing.T, r *drill.Result, f Format, o Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteDrill(&buf, r, f, o); err != nil {
		t.Fatalf("WriteDrill(%s): %v", f, err)
	}
	return buf.Bytes()
}

func TestDrillGolden(t *testing.T) {
	results := []struct {
		name string
		r    func() *drill.Result
	}{
		{"pass", passResult},
		{"fail", failResult},
		{"reads", readsResult},
	}
	formats := []struct {
		f   Format
		ext string
	}{
		{Text, "txt"},
		{Markdown, "md"},
		{HTML, "html"},
	}
	for _, rr := range results {
		for _, ff := range formats {
			t.Run(rr.name+"/"+string(ff.f), func(t *testing.T) {
				assertGolden(t, fmt.Sprintf("drill.%s.%s", rr.name, ff.ext), renderDrill(t, rr.r(), ff.f, Options{}))
			})
		}
	}
}

func TestDrillTextOrder(t *testing.T) {
	out := string(renderDrill(t, failResult(), Text, Options{}))
	marks := []string{
		"FAIL: goals missed — isolate dc-a for 60s",
		"injected at +20.0s, healed at +80.0s, ISR full at +96.8s",
		"Workload", "acks=1", "Phases",
		"Observed vs predicted vs goals", "writes did not resume before heal",
		"Comparison with the prediction: prediction disagrees on 1 of 2 points", "✗  RTO",
		"Acknowledged records lost (37)", "and 17 more",
		"NOT HEALED", "link dc-a/dc-b still cut", "Notes",
	}
	last := -1
	for _, m := range marks {
		i := strings.Index(out, m)
		if i < 0 {
			t.Fatalf("text has no %q:\n%s", m, out)
		}
		if i < last {
			t.Errorf("%q comes before the part preceding it:\n%s", m, out)
		}
		last = i
	}
	for i, line := range strings.Split(out, "\n") {
		// Only free text in bullets (notes, why) may be longer.
		if n := len([]rune(line)); n > 100 && !strings.HasPrefix(strings.TrimSpace(line), "- ") {
			t.Errorf("line %d is %d columns wide: %q", i+1, n, line)
		}
	}
}

func TestDrillTextColor(t *testing.T) {
	for _, r := range []*drill.Result{passResult(), failResult()} {
		plain := renderDrill(t, r, Text, Options{})
		if bytes.ContainsRune(plain, 0x1b) {
			t.Errorf("%s: text with Color=false has an ESC byte:\n%s", r.Verdict, plain)
		}
		colored := renderDrill(t, r, Text, Options{Color: true})
		if !bytes.ContainsRune(colored, 0x1b) {
			t.Errorf("%s: text with Color=true has no ESC byte", r.Verdict)
		}
		if got := stripANSI(string(colored)); got != string(plain) {
			t.Errorf("%s: coloured text without escapes differs from plain text\ngot:\n%s\nwant:\n%s", r.Verdict, got, plain)
		}
	}
	// The leftover fault is red and bold: "\x1b[1;31m" or "\x1b[31;1m".
	colored := string(renderDrill(t, failResult(), Text, Options{Color: true}))
	i := strings.Index(colored, "link dc-a/dc-b still cut")
	if i < 0 {
		t.Fatalf("no leftover in:\n%s", colored)
	}
	if pre := colored[max(0, i-12):i]; !strings.Contains(pre, "1;31") && !strings.Contains(pre, "31;1") {
		t.Errorf("leftover is not red and bold: %q", colored[max(0, i-12):i+24])
	}
}

func TestDrillHTML(t *testing.T) {
	tests := []struct {
		name    string
		r       *drill.Result
		verdict string
		want    []string
	}{
		{"pass", passResult(), "PASS: goals met", []string{"prediction agrees", "Healed: every fault removed"}},
		{"fail", failResult(), "FAIL: goals missed", []string{
			"NOT HEALED: a fault is still in place", "link dc-a/dc-b still cut",
			"writes did not resume before heal", "and 13 more",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := string(renderDrill(t, tt.r, HTML, Options{}))
			for _, w := range append([]string{"<!DOCTYPE html>", "<svg", "</svg>", tt.verdict}, tt.want...) {
				if !strings.Contains(out, w) {
					t.Errorf("html lacks %q", w)
				}
			}
			// One file, readable offline: nothing fetched from anywhere.
			for _, bad := range []string{"<script", "<link", "http://", "https://", "@import", "url(", "<img", "<iframe", "<?xml"} {
				if strings.Contains(out, bad) {
					t.Errorf("html contains %q", bad)
				}
			}
		})
	}
}

func TestDrillChartDeterministic(t *testing.T) {
	for _, r := range []*drill.Result{passResult(), failResult()} {
		a, err := drillChartSVG(r)
		if err != nil {
			t.Fatal(err)
		}
		b, err := drillChartSVG(r)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s: two renderings of the chart differ", r.Verdict)
		}
		for _, w := range []string{"successes/s", "errors/s", "ISR full (recovered)", "first write OK after injection", "p99"} {
			if !bytes.Contains(a, []byte(w)) {
				t.Errorf("%s: chart lacks %q", r.Verdict, w)
			}
		}
	}
}

func TestDrillWithoutTimeline(t *testing.T) {
	r := failResult()
	r.Timeline = nil
	r.Phases = drill.Phases{}
	r.Predicted = nil
	r.Comparison = drill.Comparison{}
	for _, f := range DrillFormats() {
		out := string(renderDrill(t, r, f, Options{}))
		if f == HTML {
			if strings.Contains(out, "<svg") || !strings.Contains(out, "No timeline was recorded.") {
				t.Errorf("html without timeline:\n%s", out)
			}
		}
		if f != JSON && !strings.Contains(out, "no prediction for this fault") {
			t.Errorf("%s does not say there is no prediction:\n%s", f, out)
		}
	}
}

// TestDrillError renders a drill that stopped before injecting: every
// format renders, nothing claims a measured RTO.
func TestDrillError(t *testing.T) {
	r := &drill.Result{
		Fault:   drill.Fault{Kind: drill.Freeze, DC: "dc-c"},
		Healed:  true,
		Verdict: "error",
		Notes:   []string{"steady state not reached: no write succeeded in 30s"},
	}
	for _, f := range DrillFormats() {
		out := string(renderDrill(t, r, f, Options{}))
		if f == JSON {
			continue
		}
		for _, w := range []string{"not measured (no fault injected)", "steady state not reached"} {
			if !strings.Contains(out, w) {
				t.Errorf("%s lacks %q:\n%s", f, w, out)
			}
		}
		if f != Markdown && !strings.Contains(out, "ERROR: the drill did not complete") {
			t.Errorf("%s lacks the verdict:\n%s", f, out)
		}
	}
}

func TestDrillHostileText(t *testing.T) {
	r := failResult()
	r.ClusterID = "prod\x1b[2J"
	r.Fault.DC = "dc-a<script>x</script>"
	r.Workload.Topic = "<script>alert(1)</script>"
	r.Leftover = []string{"link \x1b]0;owned\x07 <b>cut</b>"}
	r.Notes = append(r.Notes, "note \x9b with a C1 CSI", `"><img src=x onerror=alert(1)>`, "txt.exe\u202Efdp.annual-report", "a \u2066isolate\u2069 b")
	r.Comparison.Points[0].What = "loss | <i>x</i>"
	for _, f := range []Format{Text, Markdown} {
		out := renderDrill(t, r, f, Options{})
		if i := bytes.IndexAny(out, "\x1b\x07\u009b\u202e\u2066\u2069"); i >= 0 {
			t.Errorf("%s: control character at offset %d:\n%q", f, i, out)
		}
	}
	out := string(renderDrill(t, r, HTML, Options{}))
	for _, bad := range []string{"<script>", "<b>cut", "<img", "<i>x"} {
		if strings.Contains(out, bad) {
			t.Errorf("html holds unescaped %q", bad)
		}
	}
	if !strings.Contains(out, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Errorf("html lacks the escaped topic")
	}
}

func TestDrillJSON(t *testing.T) {
	for _, want := range []*drill.Result{passResult(), failResult()} {
		t.Run(string(want.Verdict), func(t *testing.T) {
			out := renderDrill(t, want, JSON, Options{})
			var got drill.Result
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatalf("unmarshal: %v\n%s", err, out)
			}
			if !reflect.DeepEqual(&got, want) {
				t.Errorf("round trip differs\ngot:  %+v\nwant: %+v", got, *want)
			}
			// The contract of drill's JSON (PRODUCT.md).
			var m map[string]any
			if err := json.Unmarshal(out, &m); err != nil {
				t.Fatal(err)
			}
			observed, ok := m["observed"].(map[string]any)
			if !ok {
				t.Fatalf("no observed object in:\n%s", out)
			}
			for _, k := range []string{"rtoSeconds", "ackedLost"} {
				if _, ok := observed[k]; !ok {
					t.Errorf("observed has no %q", k)
				}
			}
			for _, k := range []string{"predicted", "goalsMet", "healed"} {
				if _, ok := m[k]; !ok {
					t.Errorf("no %q", k)
				}
			}
			if rto := observed["rtoSeconds"]; (want.Observed.RTOSeconds == nil) != (rto == nil) {
				t.Errorf("observed.rtoSeconds = %v, want %v", rto, want.Observed.RTOSeconds)
			}
			if bytes.Contains(out, []byte(`\u003c`)) || !bytes.HasSuffix(out, []byte("}\n")) {
				t.Errorf("json is escaped or not a full document:\n%s", out)
			}
		})
	}
}

func TestWriteDrillErrors(t *testing.T) {
	tests := []struct {
		name   string
		r      *drill.Result
		format Format
		want   string
	}{
		{"nil result", nil, Text, "no result"},
		{"check format", passResult(), JUnit, `unknown drill format "junit"`},
		{"unparsed name", passResult(), Format("HTML"), `unknown drill format "HTML"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := WriteDrill(&buf, tt.r, tt.format, Options{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("WriteDrill error = %v, want it to contain %q", err, tt.want)
			}
			if buf.Len() != 0 {
				t.Errorf("WriteDrill wrote %d bytes on error", buf.Len())
			}
		})
	}
}

// TestWriteRejectsHTML: check reports have no HTML form; Write says so
// instead of rendering something else.
func TestWriteRejectsHTML(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, sampleReport(), HTML, Options{}); err == nil || !strings.Contains(err.Error(), `"html"`) {
		t.Errorf("Write(html) error = %v, want an error naming html", err)
	}
}
