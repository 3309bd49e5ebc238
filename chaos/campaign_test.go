package chaos_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchctl/stretchctl/chaos"
	"github.com/stretchctl/stretchctl/drill"
)

func campaignFaults() []drill.Fault {
	return chaos.DefaultFaults([]string{"dc-a", "dc-b"}, func(k drill.Kind) bool { return k != drill.Lose }, 100*time.Millisecond)
}

// TestCampaignRunsEveryDrill: every drill after the gate, one record, a
// truth score over every compared point; run again, it keeps what
// finished and runs nothing more.
func TestCampaignRunsEveryDrill(t *testing.T) {
	h := newHarness(t)
	dir := t.TempDir()
	faults := campaignFaults()
	if len(faults) != 4 || faults[0].String() != (drill.Fault{Kind: drill.Crash, DC: "dc-a", Duration: 100 * time.Millisecond}).String() {
		t.Fatalf("default faults without lose: %v", faults)
	}
	var events []string
	o := chaos.CampaignOptions{Drill: h.options(drill.Fault{}), Faults: faults, Dir: dir, GateWait: 5 * time.Second,
		Events: func(e chaos.CampaignEvent) { events = append(events, e.Message) }}
	o.Drill.ID = ""
	c, err := chaos.RunCampaign(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	// The fake cluster fails writes until the heal: every drill misses
	// its RTO goal (exit 1), none fails to run or heal.
	if len(c.Entries) != 4 || c.Stopped != "" || c.ExitCode() != drill.ExitGoalsMissed {
		t.Fatalf("entries %d, stopped %q, exit %d", len(c.Entries), c.Stopped, c.ExitCode())
	}
	ids := map[string]bool{}
	for _, e := range c.Entries {
		if e.Result == nil || !e.Result.Healed || e.Result.Fault.String() != e.Fault.String() {
			t.Errorf("%s: %+v %s", e.Fault, e.Result, e.Error)
			continue
		}
		ids[e.Result.ID] = true
	}
	if len(ids) != 4 {
		t.Errorf("drill ids %v: want one per drill", ids)
	}
	if c.Truth.Points == 0 || c.Truth.Score < 0 || c.Truth.Score > 1 || c.Truth.Agree > c.Truth.Points {
		t.Errorf("truth %+v", c.Truth)
	}
	if n := strings.Count(strings.Join(events, "\n"), "health gate"); n != 4 {
		t.Errorf("%d health gates, want one per drill: %v", n, events)
	}
	applies := slices.Index(h.b.Calls(), "apply")
	if applies < 0 {
		t.Fatal("nothing applied")
	}
	stored, err := chaos.LoadCampaign(dir)
	if err != nil || stored == nil || len(stored.Entries) != 4 {
		t.Fatalf("record: %v %+v", err, stored)
	}

	before := len(h.b.Calls())
	again, err := chaos.RunCampaign(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if len(h.b.Calls()) != before {
		t.Errorf("the resumed campaign injected again: %v", h.b.Calls()[before:])
	}
	for _, e := range again.Entries {
		if !e.Resumed {
			t.Errorf("%s not kept from the first run", e.Fault)
		}
	}
}

// TestCampaignStopsWhenNotHealed: a fault left in place stops the
// campaign; what ran is recorded and the exit code says not healed.
func TestCampaignStopsWhenNotHealed(t *testing.T) {
	h := newHarness(t)
	h.b.recoverErr = errors.New("chaos controller down")
	o := chaos.CampaignOptions{Drill: h.options(drill.Fault{}), Faults: campaignFaults(), Dir: t.TempDir(), GateWait: 5 * time.Second}
	o.Drill.ID = ""
	c, err := chaos.RunCampaign(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Entries) != 1 || !strings.Contains(c.Stopped, "not healed") || c.ExitCode() != drill.ExitNotHealed {
		t.Fatalf("entries %d, stopped %q, exit %d", len(c.Entries), c.Stopped, c.ExitCode())
	}
	if n := strings.Count(strings.Join(h.b.Calls(), " "), "apply"); n != 1 {
		t.Errorf("%d faults applied after one was left in place: %v", n, h.b.Calls())
	}
}

// TestCampaignGate: a cluster that stays unhealthy stops the campaign
// before anything is injected.
func TestCampaignGate(t *testing.T) {
	h := newHarness(t)
	h.k.Snap.Quorum.LeaderID = -1
	o := chaos.CampaignOptions{Drill: h.options(drill.Fault{}), Faults: campaignFaults(), Dir: t.TempDir(), GateWait: 100 * time.Millisecond}
	c, err := chaos.RunCampaign(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Entries) != 1 || c.Entries[0].Result != nil || !strings.Contains(c.Entries[0].Error, "no leader") || len(h.b.Calls()) != 0 {
		t.Errorf("entries %+v, calls %v", c.Entries, h.b.Calls())
	}
	if c.ExitCode() != drill.ExitNotRun {
		t.Errorf("exit %d", c.ExitCode())
	}
}

// TestCampaignLatencyGate: with live latency, each drill waits for the
// round trips to come back to the baseline read before the first one.
func TestCampaignLatencyGate(t *testing.T) {
	h := newHarness(t)
	var calls atomic.Int32
	// The baseline 10 ms; then 40 ms once (a fault's latency still
	// there), then back.
	h.k.RTT = func() map[string]time.Duration {
		rtt := 10 * time.Millisecond
		if calls.Add(1) == 2 {
			rtt = 40 * time.Millisecond
		}
		return map[string]time.Duration{"dc-a/dc-b": rtt}
	}
	o := chaos.CampaignOptions{Drill: h.options(drill.Fault{}), Faults: campaignFaults()[:1], Dir: t.TempDir(), GateWait: 10 * time.Second}
	o.Drill.LatencyTopic = "__stretchctl_latency"
	c, err := chaos.RunCampaign(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if c.Baseline["dc-a/dc-b"] != 10 || len(c.Entries) != 1 || c.Entries[0].Result == nil || calls.Load() < 3 {
		t.Fatalf("baseline %v, entries %+v, latency read %d times", c.Baseline, c.Entries, calls.Load())
	}

	// Latency that stays off its baseline keeps the drill from running.
	h2 := newHarness(t)
	n := 0
	h2.k.RTT = func() map[string]time.Duration {
		n++
		if n == 1 {
			return map[string]time.Duration{"dc-a/dc-b": 10 * time.Millisecond}
		}
		return map[string]time.Duration{"dc-a/dc-b": 40 * time.Millisecond}
	}
	o = chaos.CampaignOptions{Drill: h2.options(drill.Fault{}), Faults: campaignFaults()[:1], Dir: t.TempDir(), GateWait: 500 * time.Millisecond}
	o.Drill.LatencyTopic = "__stretchctl_latency"
	c, err = chaos.RunCampaign(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Entries) != 1 || c.Entries[0].Result != nil || !strings.Contains(c.Entries[0].Error, "dc-a/dc-b: 40ms, baseline 10ms") || len(h2.b.Calls()) != 0 {
		t.Errorf("entries %+v, calls %v", c.Entries, h2.b.Calls())
	}

	// Without live latency the gate says it is off.
	h3 := newHarness(t)
	o = chaos.CampaignOptions{Drill: h3.options(drill.Fault{}), Faults: campaignFaults()[:1], Dir: t.TempDir()}
	c, err = chaos.RunCampaign(context.Background(), o)
	if err != nil || len(c.Notes) != 1 || !strings.Contains(c.Notes[0], "latency gate off") {
		t.Errorf("notes %v, err %v", c.Notes, err)
	}
}
