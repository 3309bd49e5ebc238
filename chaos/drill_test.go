package chaos

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchctl/stretchctl/chaos/execbackend"
	"github.com/stretchctl/stretchctl/drill"
	"github.com/stretchctl/stretchctl/probe"
)

// ledgerOf builds a ledger: every partition gets one record per step,
// acknowledged ack after it was sent unless gone(partition, t) says the
// write failed (not acknowledged) at send time t.
func ledgerOf(start time.Time, parts []int32, until, step, ack time.Duration, gone func(p int32, t time.Duration) bool) *probe.Ledger {
	l := &probe.Ledger{Topic: "t", Start: start, Parts: parts, StartOffsets: map[int32]int64{}}
	seq := map[int32]int64{}
	for t := time.Duration(0); t < until; t += step {
		for _, p := range parts {
			r := probe.LedgerRecord{Partition: p, Seq: seq[p], Sent: t, Offset: seq[p]}
			seq[p]++
			if gone != nil && gone(p, t) {
				r.State, r.Done, r.Offset = probe.Failed, t+ack, -1
			} else {
				r.State, r.Done = probe.Acked, t+ack
			}
			l.Records = append(l.Records, r)
		}
	}
	return l
}

func foundAll(l *probe.Ledger, skip func(r probe.LedgerRecord) bool) map[probe.RecordKey][]int64 {
	f := map[probe.RecordKey][]int64{}
	for _, r := range l.Records {
		if r.State == probe.Acked && (skip == nil || !skip(r)) {
			k := probe.RecordKey{Producer: r.Producer, Partition: r.Partition, Seq: r.Seq}
			f[k] = append(f[k], r.Offset)
		}
	}
	return f
}

func TestObserveOutagesAndReconciliation(t *testing.T) {
	start := time.Unix(1_800_000_000, 0)
	inj, heal := start.Add(10*time.Second), start.Add(20*time.Second)
	// Partition 0 fails over: nothing succeeds from 10 s to 13.5 s.
	// Partition 1 stops until the heal (20 s) and comes back at 21 s.
	// Partition 2 is never touched.
	l := ledgerOf(start, []int32{0, 1, 2}, 30*time.Second, 5*time.Millisecond, 2*time.Millisecond, func(p int32, t time.Duration) bool {
		switch p {
		case 0:
			return t >= 10*time.Second && t < 13500*time.Millisecond
		case 1:
			return t >= 10*time.Second && t < 21*time.Second
		}
		return false
	})
	found := foundAll(l, func(r probe.LedgerRecord) bool {
		// Three acknowledged records of partition 2 are missing.
		return r.Partition == 2 && r.Seq >= 100 && r.Seq < 103
	})
	// One duplicate, and one failed record that is in the log after all.
	found[probe.RecordKey{Partition: 2, Seq: 7}] = append(found[probe.RecordKey{Partition: 2, Seq: 7}], 9999)
	for _, r := range l.Records {
		if r.Partition == 0 && r.State == probe.Failed {
			found[probe.RecordKey{Partition: 0, Seq: r.Seq}] = []int64{5000}
			break
		}
	}
	obs, tl := Observe(l, found, inj, heal)
	if obs.RTOSeconds != nil {
		t.Errorf("RTO = %v, want null: partition 1 resumed only after the heal", *obs.RTOSeconds)
	}
	byP := map[int32]drill.PartitionObservation{}
	for _, p := range obs.Partitions {
		byP[p.Partition] = p
	}
	if g := byP[0].LongestGapMs; g == nil || *g < 3500 || *g > 3506 {
		t.Errorf("partition 0 outage = %v ms, want 3.5 s (+ one step)", g)
	}
	if byP[1].LongestGapMs != nil {
		t.Errorf("partition 1 outage = %v, want null (unbounded)", *byP[1].LongestGapMs)
	}
	if g := byP[2].LongestGapMs; g == nil || *g > 5.01 {
		t.Errorf("partition 2 outage = %v ms, want one step (5 ms)", g)
	}
	if f := byP[0].FirstSuccessMs; f == nil || *f < 3500 || *f > 3510 {
		t.Errorf("partition 0 first success after injection = %v ms, want ~3502", f)
	}
	if obs.AckedLost != 3 || len(obs.Lost) != 3 || obs.Lost[0].Seq != 100 || byP[2].AckedLost != 3 {
		t.Errorf("lost = %d %+v, want partition 2 seqs 100-102", obs.AckedLost, obs.Lost)
	}
	if obs.Duplicates != 1 || obs.UnackedPresent != 1 {
		t.Errorf("duplicates %d, unacked-present %d; want 1 and 1", obs.Duplicates, obs.UnackedPresent)
	}
	if obs.ResolutionMs != 5 {
		t.Errorf("resolution %v ms, want the 5 ms step", obs.ResolutionMs)
	}
	if obs.Sent != obs.Acked+obs.Failed {
		t.Errorf("sent %d != acked %d + failed %d", obs.Sent, obs.Acked, obs.Failed)
	}
	// Second 12: partitions 0 and 1 fail (200 each), partition 2 succeeds.
	if s := tl[12]; s.Successes != 200 || s.Errors != 400 || s.P50Ms != 2 {
		t.Errorf("timeline second 12 = %+v, want 200 successes, 400 errors, p50 2 ms", s)
	}

	// Records sent before the fault and acknowledged late (the ISR shrank
	// under them) do not make writes "resume".
	late := ledgerOf(start, []int32{0}, 30*time.Second, 5*time.Millisecond, 2*time.Millisecond, func(p int32, t time.Duration) bool {
		return t >= 9900*time.Millisecond && t < 21*time.Second
	})
	for i, r := range late.Records {
		if r.Sent >= 9900*time.Millisecond && r.Sent < 10*time.Second {
			late.Records[i].State, late.Records[i].Done = probe.Acked, 18*time.Second
		}
	}
	obs, _ = Observe(late, foundAll(late, nil), inj, heal)
	if obs.RTOSeconds != nil || obs.Partitions[0].FirstSuccessMs != nil {
		t.Errorf("late acknowledgements of pre-fault records: RTO %v, first success %v; want unbounded, none", *obs.RTOSeconds, obs.Partitions[0].FirstSuccessMs)
	}

	// With partition 1 resuming at 15 s (before the heal), the RTO is
	// partition 1's 5 s outage.
	l = ledgerOf(start, []int32{0, 1}, 30*time.Second, 5*time.Millisecond, 2*time.Millisecond, func(p int32, t time.Duration) bool {
		return p == 1 && t >= 10*time.Second && t < 15*time.Second
	})
	obs, _ = Observe(l, foundAll(l, nil), inj, heal)
	if obs.RTOSeconds == nil || *obs.RTOSeconds < 5 || *obs.RTOSeconds > 5.006 || obs.AckedLost != 0 {
		t.Errorf("RTO %v, lost %d; want 5 s and none", obs.RTOSeconds, obs.AckedLost)
	}
}

func TestCompare(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	tests := []struct {
		name   string
		pred   *drill.Prediction
		obs    drill.Observed
		agree  bool
		status drill.Agreement
	}{
		{"no prediction", nil, drill.Observed{}, true, drill.NoPrediction},
		{"failed prediction", &drill.Prediction{Error: "no scenario"}, drill.Observed{}, true, drill.NoPrediction},
		{"loss not foreseen", &drill.Prediction{QuorumSurvives: true, RTOSeconds: f(10)}, drill.Observed{AckedLost: 3, RTOSeconds: f(2)}, false, drill.Disagrees},
		{"loss foreseen", &drill.Prediction{QuorumSurvives: true, AckedLossPossible: 2, RTOSeconds: f(10)}, drill.Observed{AckedLost: 3, RTOSeconds: f(9)}, true, drill.Agrees},
		{"possible loss did not happen", &drill.Prediction{QuorumSurvives: true, AckedLossPossible: 2, RTOSeconds: f(10)}, drill.Observed{RTOSeconds: f(9)}, true, drill.Agrees},
		{"writes stop as predicted", &drill.Prediction{QuorumSurvives: true, WriteUnavailable: 3}, drill.Observed{}, true, drill.Agrees},
		{"writes stop, not predicted", &drill.Prediction{QuorumSurvives: true, RTOSeconds: f(10)}, drill.Observed{}, false, drill.Disagrees},
		{"writes resume, predicted to stop", &drill.Prediction{QuorumSurvives: true, WriteUnavailable: 1}, drill.Observed{RTOSeconds: f(4)}, false, drill.Disagrees},
		{"RTO within bound and slack", &drill.Prediction{QuorumSurvives: true, RTOSeconds: f(10)}, drill.Observed{RTOSeconds: f(11.9)}, true, drill.Agrees},
		{"RTO under-predicted", &drill.Prediction{QuorumSurvives: true, RTOSeconds: f(10)}, drill.Observed{RTOSeconds: f(13.5)}, false, drill.Disagrees},
		// A 3x over-prediction is a disagreement too (kill of a DC with
		// only followers: observed 11.4 s, an old model said 31 s).
		{"RTO over-predicted", &drill.Prediction{QuorumSurvives: true, RTOSeconds: f(31)}, drill.Observed{RTOSeconds: f(11.4)}, false, drill.Disagrees},
		{"short RTO within 2 s", &drill.Prediction{QuorumSurvives: true, RTOSeconds: f(0)}, drill.Observed{RTOSeconds: f(1.9)}, true, drill.Agrees},
		{"quorum lost: writes stop", &drill.Prediction{QuorumSurvives: false}, drill.Observed{}, true, drill.Agrees},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := &drill.Result{Fault: drill.Fault{Kind: drill.Crash, DC: "dc-a", Duration: 30 * time.Second}, Predicted: tt.pred, Observed: tt.obs}
			c := compare(res, nil)
			if c.Agree != tt.agree || c.Status != tt.status {
				t.Errorf("agree = %v, status %s; want %v, %s: %+v", c.Agree, c.Status, tt.agree, tt.status, c)
			}
			if tt.pred != nil && tt.pred.Error == "" && len(c.Points) < 2 {
				t.Errorf("points %+v, want at least loss and writes", c.Points)
			}
		})
	}
}

// TestCompareShortHold: held 5 s with an RTO of 9.4 s predicted (a TUI
// drill on the lab), no resumption before the heal is what was
// predicted; a resumption within the hold is compared as an RTO.
func TestCompareShortHold(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	for _, tt := range []struct {
		name  string
		pred  float64
		obs   *float64
		agree bool
		hold  time.Duration
	}{
		{"hold shorter than the RTO", 9.4, nil, true, 0},
		{"hold shorter, resumed within tolerance", 5.5, f(4.8), true, 0},
		// An RTO of at least the 5 s hold is within ±2 s of 4 s.
		{"hold a little longer than the RTO, no resumption", 4, nil, true, 0},
		// ... but not of 2.5 s: writes should have resumed by 4.5 s.
		{"hold longer than the RTO, no resumption", 2.5, nil, false, 0},
		// 15 s: the tolerance is 25% of the observed (≥ 15 s): 3.75 s.
		{"15 s hold, 12 s predicted, no resumption", 12, nil, true, 15 * time.Second},
		{"15 s hold, 10 s predicted, no resumption", 10, nil, false, 15 * time.Second},
	} {
		if tt.hold == 0 {
			tt.hold = 5 * time.Second
		}
		res := &drill.Result{Fault: drill.Fault{Kind: drill.Crash, DC: "dc-a", Duration: tt.hold},
			Predicted: &drill.Prediction{QuorumSurvives: true, RTOSeconds: f(tt.pred)}, Observed: drill.Observed{RTOSeconds: tt.obs}}
		c := compare(res, nil)
		if c.Agree != tt.agree {
			t.Errorf("%s: agree %v, want %v: %+v", tt.name, c.Agree, tt.agree, c)
		}
		if tt.obs == nil && tt.agree && !strings.Contains(strings.Join(c.Notes, " "), "hold it longer") {
			t.Errorf("%s: notes %q do not say to hold it longer", tt.name, c.Notes)
		}
	}
}

// TestExecBackendAndRecoverAll: the exec backend runs the user's commands
// with the placeholders filled; a state file left by a dead drill is
// healed by RecoverAll and removed; a failing heal keeps it and says so.
func TestExecBackendAndRecoverAll(t *testing.T) {
	dir := t.TempDir()
	marker := filepath.Join(dir, "fault")
	spec := drill.ExecSpec{
		Inject: map[drill.Kind]string{drill.Latency: "echo {kind} {dc} {peer} {delay_ms} $STRETCHCTL_DC > " + marker},
		Heal:   map[drill.Kind]string{drill.Latency: "rm -f " + marker},
	}
	b, err := execbackend.New(spec)
	if err != nil {
		t.Fatal(err)
	}
	f := drill.Fault{Kind: drill.Latency, DC: "dc-a", Peer: "dc-b", Delay: 40 * time.Millisecond, Duration: time.Minute}
	if err := b.Apply(context.Background(), f); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(marker); strings.TrimSpace(string(got)) != "latency dc-a dc-b 40 dc-a" {
		t.Errorf("inject command wrote %q", got)
	}
	states := filepath.Join(dir, "drills")
	st := &State{ID: "d1", PID: 999999, Started: time.Now(), Backend: b.Spec(), Fault: f, Phase: drill.Holding}
	if err := st.Save(states); err != nil {
		t.Fatal(err)
	}
	got, err := RecoverAll(context.Background(), states, false, nil)
	if err != nil || len(got) != 1 || got[0].Err != nil {
		t.Fatalf("RecoverAll = %+v, %v", got, err)
	}
	if _, err := os.Stat(marker); !os.IsNotExist(err) {
		t.Errorf("the heal command did not run: %v", err)
	}
	if left, _ := LoadStates(states); len(left) != 0 {
		t.Errorf("state files left: %d", len(left))
	}

	// A heal that fails keeps the state file and names the command.
	spec.Heal[drill.Latency] = "echo cannot reach the firewall >&2; exit 7"
	b, _ = execbackend.New(spec)
	st = &State{ID: "d2", Started: time.Now(), Backend: b.Spec(), Fault: f}
	if err := st.Save(states); err != nil {
		t.Fatal(err)
	}
	got, _ = RecoverAll(context.Background(), states, false, nil)
	if len(got) != 1 || got[0].Err == nil || !strings.Contains(got[0].Err.Error(), "cannot reach the firewall") {
		t.Errorf("failing heal: %+v", got)
	}
	if left, _ := LoadStates(states); len(left) != 1 {
		t.Errorf("state file of an unhealed fault removed")
	}
	// A state file of this very process (a TUI or operator healing its
	// own drill) is not "another drill still running".
	good, _ := execbackend.New(drill.ExecSpec{Inject: map[drill.Kind]string{drill.Latency: "true"}, Heal: map[drill.Kind]string{drill.Latency: "true"}})
	st = &State{ID: "d3", PID: os.Getpid(), Started: time.Now(), Backend: good.Spec(), Fault: f}
	_ = st.Save(states)
	got, _ = RecoverAll(context.Background(), states, false, nil)
	for _, r := range got {
		if r.State.ID == "d3" && r.Err != nil {
			t.Errorf("own state file: %v", r.Err)
		}
	}

	// Unreadable state files (garbage, a FIFO, a file whose id is not its
	// name) do not stop the drills beside them from being healed; each is
	// reported (issue 15: one bad file stopped drill recover).
	mixed := filepath.Join(dir, "mixed")
	healMarker := filepath.Join(dir, "healed")
	healing, _ := execbackend.New(drill.ExecSpec{Inject: map[drill.Kind]string{drill.Latency: "true"}, Heal: map[drill.Kind]string{drill.Latency: "touch " + healMarker}})
	st = &State{ID: "d4", Started: time.Now(), Backend: healing.Spec(), Fault: f}
	if err := st.Save(mixed); err != nil {
		t.Fatal(err)
	}
	_ = os.WriteFile(filepath.Join(mixed, "garbage.json"), []byte("{not json"), 0o644)
	_ = os.WriteFile(filepath.Join(mixed, "renamed.json"), []byte(`{"id":"d9","fault":{"kind":"crash","dc":"dc-a","duration":60000000000}}`), 0o644)
	if err := syscall.Mkfifo(filepath.Join(mixed, "fifo.json"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err = RecoverAll(context.Background(), mixed, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	unread := 0
	for _, r := range got {
		switch {
		case r.State == nil:
			unread++
			if r.Err == nil || r.File == "" {
				t.Errorf("unreadable file reported without its name or error: %+v", r)
			}
		case r.State.ID == "d4" && r.Err != nil:
			t.Errorf("the readable drill beside bad files: %v", r.Err)
		}
	}
	if _, err := os.Stat(healMarker); err != nil || unread != 3 {
		t.Errorf("healed %v, %d unreadable files reported; want healed and 3", err == nil, unread)
	}

	if _, err := execbackend.New(drill.ExecSpec{Inject: map[drill.Kind]string{drill.Crash: "true"}}); err == nil {
		t.Error("exec backend without a heal command accepted")
	}
	if _, err := OpenBackend(drill.Spec{}, "d", nil); err == nil {
		t.Error("empty spec opened")
	}
}
