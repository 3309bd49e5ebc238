package chaos_test

import (
	"context"
	"errors"
	"github.com/stretchctl/stretchctl/chaos"
	"github.com/stretchctl/stretchctl/chaos/chaostest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchctl/stretchctl/drill"
)

// The drill's phase machine, tested above the wire: a fake cluster, a fake
// workload whose writes fail while the fake backend's fault is in place,
// and a backend that records what it was asked and what the state file
// said at that moment. The real lab runs the same machine in e2e.

// fakeBackend is a fault backend that remembers its calls.
type fakeBackend struct {
	stateDir string
	id       string
	mu       sync.Mutex
	calls    []string
	// phaseAtCall is the phase the state file recorded when Apply or
	// Recover ran.
	phaseAtCall map[string]drill.Phase
	applyErr    error
	recoverErr  error
	// failover is how long writes fail after Apply before the cluster
	// fails over by itself; 0: until Recover.
	failover time.Duration
	// failing ends when writes succeed again (zero: they do).
	failing atomic.Int64
}

// writesFail says whether a write now fails.
func (b *fakeBackend) writesFail() bool {
	until := b.failing.Load()
	return until != 0 && time.Now().UnixNano() < until
}

func (b *fakeBackend) Name() string { return "fake" }

func (b *fakeBackend) Spec() drill.Spec {
	return drill.Spec{Exec: &drill.ExecSpec{Inject: map[drill.Kind]string{drill.Crash: "fake", drill.Isolate: "fake", drill.Latency: "fake"}}}
}

func (b *fakeBackend) record(call string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.calls = append(b.calls, call)
	if b.phaseAtCall == nil {
		b.phaseAtCall = map[string]drill.Phase{}
	}
	sts, _ := chaos.LoadStates(b.stateDir)
	for _, s := range sts {
		if s.ID == b.id {
			b.phaseAtCall[call] = s.Phase
		}
	}
}

func (b *fakeBackend) Apply(ctx context.Context, f drill.Fault) error {
	b.record("apply")
	if b.applyErr != nil {
		return b.applyErr
	}
	until := time.Now().Add(time.Hour)
	if b.failover > 0 {
		until = time.Now().Add(b.failover)
	}
	b.failing.Store(until.UnixNano())
	return nil
}

func (b *fakeBackend) Recover(ctx context.Context, f drill.Fault) error {
	b.record("recover")
	if b.recoverErr != nil {
		return b.recoverErr
	}
	b.failing.Store(0)
	return nil
}

func (b *fakeBackend) PlaceIn(dc string) (drill.Placement, error) { return drill.Placement{}, nil }

func (b *fakeBackend) Calls() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.calls)
}

type harness struct {
	t       *testing.T
	b       *fakeBackend
	k       *chaostest.Kafka
	dir     string
	mu      sync.Mutex
	events  []drill.Event
	onPhase func(drill.Phase)
}

func newHarness(t *testing.T) *harness {
	dir := t.TempDir()
	return &harness{t: t, b: &fakeBackend{stateDir: dir, id: "d1"}, k: &chaostest.Kafka{Snap: chaostest.Snapshot(), Config: chaostest.Config()}, dir: dir}
}

func (h *harness) options(f drill.Fault) chaos.Options {
	return chaos.Options{
		Config: chaostest.Config(), ID: "d1", Backend: h.b, Fault: f, Topic: "t", Steady: 100 * time.Millisecond, Tail: 10 * time.Millisecond,
		StateDir: h.dir, Kafka: h.k, Workload: chaostest.Workload{Failing: h.b.writesFail}, Tool: "stretchctl", Version: "test",
		Events: func(e drill.Event) {
			h.mu.Lock()
			first := len(h.events) == 0 || h.events[len(h.events)-1].Phase != e.Phase
			h.events = append(h.events, e)
			h.mu.Unlock()
			if first && h.onPhase != nil {
				h.onPhase(e.Phase)
			}
		},
	}
}

// phases are the distinct phases the events went through, in order.
func (h *harness) phases() []drill.Phase {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []drill.Phase
	for _, e := range h.events {
		if len(out) == 0 || out[len(out)-1] != e.Phase {
			out = append(out, e.Phase)
		}
	}
	return out
}

func (h *harness) stateFiles() []*chaos.State {
	h.t.Helper()
	sts, err := chaos.LoadStates(h.dir)
	if err != nil {
		h.t.Fatal(err)
	}
	return sts
}

func TestRunPhasesInOrder(t *testing.T) {
	h := newHarness(t)
	h.b.failover = 150 * time.Millisecond
	kill := drill.Fault{Kind: drill.Crash, DC: "dc-c", Duration: 400 * time.Millisecond}
	res, err := chaos.Run(context.Background(), h.options(kill))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := h.phases(), drill.AllPhases(); !slices.Equal(got, want) {
		t.Errorf("phases %v, want %v", got, want)
	}
	if calls := h.b.Calls(); !slices.Equal(calls, []string{"apply", "recover"}) {
		t.Errorf("backend calls %v, want apply then recover", calls)
	}
	// The state file said what the drill was about to do before it did it.
	if h.b.phaseAtCall["apply"] != drill.Injecting || h.b.phaseAtCall["recover"] != drill.Healing {
		t.Errorf("state file at apply %q, at recover %q; want Injecting, Healing", h.b.phaseAtCall["apply"], h.b.phaseAtCall["recover"])
	}
	if left := h.stateFiles(); len(left) != 0 {
		t.Errorf("state files left after a clean drill: %d", len(left))
	}
	if res.ID != "d1" || res.Phase != drill.Done || !res.Healed || res.ExitCode() != drill.ExitGoalsMissed && res.ExitCode() != drill.ExitGoalsMet {
		t.Errorf("result id %s phase %s healed %v exit %d", res.ID, res.Phase, res.Healed, res.ExitCode())
	}
	if res.Observed.Acked == 0 || res.Observed.Failed == 0 || res.Observed.AckedLost != 0 {
		t.Errorf("observed acked %d failed %d lost %d; want writes failing only during the fault, none lost", res.Observed.Acked, res.Observed.Failed, res.Observed.AckedLost)
	}
	// Writes failed for the fake failover (0.15 s): that is the observed
	// RTO.
	if r := res.Observed.RTOSeconds; r == nil || *r < 0.14 || *r > 1 {
		t.Errorf("observed RTO %v, want about the 0.15 s failover", r)
	}
	// The prediction is check's scenario for the fault performed (a crash)
	// and the topic: dc-c holds only followers of t, so the topic's RTO is
	// the ISR shrink, and the RTT term says it was not measured.
	p := res.Predicted
	if p == nil || p.Scenario != "crash dc-c" || p.Error != "" || p.RTOSeconds == nil || len(p.RTOBreakdown) == 0 {
		t.Fatalf("prediction %+v, want crash dc-c with the topic's RTO and its breakdown", p)
	}
	if p.RTOBreakdown[0].Name != "inter-DC round trip" {
		t.Errorf("first RTO term %+v, want the inter-DC round trip", p.RTOBreakdown[0])
	}
	// Events carry the workload's figures once it runs.
	h.mu.Lock()
	last := h.events[len(h.events)-1]
	h.mu.Unlock()
	if last.Phase != drill.Done || last.Figures.Sent == 0 || last.Figures.Acked == 0 {
		t.Errorf("last event %+v, want Done with the workload's figures", last)
	}
}

// TestRunCancelledInEveryPhase: Ctrl-C in any phase leaves nothing
// behind: before the injection nothing is injected and no state file is
// left; from the injection on the fault is healed before chaos.Run returns.
func TestRunCancelledInEveryPhase(t *testing.T) {
	for _, phase := range drill.AllPhases() {
		if phase == drill.Done {
			continue
		}
		t.Run(string(phase), func(t *testing.T) {
			h := newHarness(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			h.onPhase = func(p drill.Phase) {
				if p == phase {
					cancel()
				}
			}
			f := drill.Fault{Kind: drill.Isolate, DC: "dc-a", Duration: 300 * time.Millisecond}
			res, err := chaos.Run(ctx, h.options(f))
			calls := h.b.Calls()
			injected := phase.Index() >= drill.Injecting.Index()
			switch {
			case !injected:
				if res != nil || err == nil || len(calls) != 0 {
					t.Errorf("cancelled in %s: result %v, err %v, backend calls %v; want no result, an error, nothing injected", phase, res, err, calls)
				}
			default:
				if res == nil || !res.Healed || !slices.Contains(calls, "recover") {
					t.Fatalf("cancelled in %s: result %+v, err %v, calls %v; want healed", phase, res, err, calls)
				}
				if res.ExitCode() == drill.ExitNotHealed {
					t.Errorf("exit %d after a heal", res.ExitCode())
				}
				if phase == drill.Holding && (res.Verdict != drill.Error || err == nil) {
					t.Errorf("cancelled while holding: verdict %s, err %v; want error and the interruption", res.Verdict, err)
				}
			}
			if left := h.stateFiles(); len(left) != 0 {
				t.Errorf("state files left: %+v", left[0])
			}
		})
	}
}

// TestRunFailingHeal: a heal that fails keeps the state file (phase
// Healing) and says what is left; chaos.Resume from it heals once the backend
// works again.
func TestRunFailingHeal(t *testing.T) {
	h := newHarness(t)
	h.b.recoverErr = errors.New("firewall API unreachable")
	f := drill.Fault{Kind: drill.Isolate, DC: "dc-a", Duration: 50 * time.Millisecond}
	res, err := chaos.Run(context.Background(), h.options(f))
	var nh *chaos.NotHealedError
	if !errors.As(err, &nh) || res == nil || res.Healed || res.ExitCode() != drill.ExitNotHealed || len(res.Leftover) == 0 {
		t.Fatalf("result %+v, err %v; want not healed, exit 3, the leftover named", res, err)
	}
	left := h.stateFiles()
	if len(left) != 1 || left[0].Phase != drill.Healing {
		t.Fatalf("%d state files (first: %+v), want the drill's, in phase Healing", len(left), left)
	}
	h.b.recoverErr = nil
	res, err = chaos.Resume(context.Background(), left[0], chaos.ResumeOptions{StateDir: h.dir, Open: func(drill.Spec) (drill.Backend, error) { return h.b, nil }})
	if err != nil || !res.Healed || res.Verdict != drill.Inconclusive {
		t.Errorf("resume: %+v, %v; want healed, inconclusive", res, err)
	}
	if n := len(h.stateFiles()); n != 0 {
		t.Errorf("%d state files after the resume healed", n)
	}
}

// TestRunApplyFails: an injection that fails is still healed (it may have
// half happened), and the drill is an error.
func TestRunApplyFails(t *testing.T) {
	h := newHarness(t)
	h.b.applyErr = errors.New("permission denied")
	res, err := chaos.Run(context.Background(), h.options(drill.Fault{Kind: drill.Crash, DC: "dc-a", Duration: time.Second}))
	if err != nil || res.Verdict != drill.Error || !res.Healed || res.ExitCode() != drill.ExitNotRun {
		t.Errorf("result %+v, err %v; want an error verdict, healed, exit 2", res, err)
	}
	if calls := h.b.Calls(); !slices.Equal(calls, []string{"apply", "recover"}) {
		t.Errorf("calls %v", calls)
	}
}

// TestRunProducersHere: producers in another DC need a backend that can
// place them, unless this process runs in that DC (the operator's pod).
func TestRunProducersHere(t *testing.T) {
	h := newHarness(t)
	o := h.options(drill.Fault{Kind: drill.Crash, DC: "dc-a", Duration: 100 * time.Millisecond})
	o.Backend = noPlacer{h.b}
	o.ProducerDC = "dc-b"
	var optErr *chaos.OptionError
	if _, err := chaos.Run(context.Background(), o); !errors.As(err, &optErr) || optErr.Option != chaos.OptProducerDC {
		t.Fatalf("producers in dc-b with a backend that cannot place them: %v, want a producer DC option error", err)
	}
	o.HereDC = "dc-b"
	res, err := chaos.Run(context.Background(), o)
	if err != nil || res.Workload.ProducerDC != "dc-b" || !res.Healed {
		t.Fatalf("producers here, in dc-b: %v, %+v", err, res)
	}
}

// noPlacer hides the fake backend's PlaceIn.
type noPlacer struct{ drill.Backend }

// TestRunPredictionFails: a prediction that cannot be made is reported in
// the result, and the comparison says so rather than agreeing.
func TestRunPredictionFails(t *testing.T) {
	h := newHarness(t)
	h.k.GatherErr = errors.New("no route to the cluster")
	res, err := chaos.Run(context.Background(), h.options(drill.Fault{Kind: drill.Crash, DC: "dc-a", Duration: 100 * time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	if res.Predicted == nil || res.Predicted.Error == "" || res.Comparison.Status != drill.NoPrediction {
		t.Errorf("prediction %+v, comparison %+v; want the failure reported", res.Predicted, res.Comparison)
	}
}

// TestRunLatencyHasNoScenario: a latency fault is compared with the
// latency budget, not with a scenario.
func TestRunLatencyHasNoScenario(t *testing.T) {
	h := newHarness(t)
	res, err := chaos.Run(context.Background(), h.options(drill.Fault{Kind: drill.Latency, DC: "dc-a", Peer: "dc-b", Delay: 200 * time.Millisecond, Duration: 100 * time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	c := res.Comparison
	if res.Predicted != nil || c.Status != drill.NoScenario || !c.Agree || len(c.Points) != 1 {
		t.Fatalf("predicted %+v, comparison %+v; want no scenario and one latency point", res.Predicted, c)
	}
	if p := c.Points[0]; p.What != "latency dc-a/dc-b" || !strings.Contains(p.Predicted, "over the fail budget 100ms") {
		t.Errorf("point %+v, want dc-a/dc-b over the fail budget", p)
	}
}

// TestResumeFromEveryPhase: another process takes a drill over from the
// phase its state file recorded: it heals only a fault that may be in
// place, waits for the ISR once the fault is gone, and removes the file.
func TestResumeFromEveryPhase(t *testing.T) {
	for _, phase := range append(drill.AllPhases(), "") {
		name := string(phase)
		if name == "" {
			name = "older file without a phase"
		}
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			st := &chaos.State{ID: "d1", PID: 999999, Started: time.Now(), Backend: h.b.Spec(), Topic: "t",
				Fault: drill.Fault{Kind: drill.Crash, DC: "dc-a", Duration: time.Minute}, Phase: phase, Injected: time.Now()}
			if err := st.Save(h.dir); err != nil {
				t.Fatal(err)
			}
			var events []drill.Phase
			res, err := chaos.Resume(context.Background(), st, chaos.ResumeOptions{StateDir: h.dir, Kafka: h.k,
				Open:   func(drill.Spec) (drill.Backend, error) { return h.b, nil },
				Events: func(e drill.Event) { events = append(events, e.Phase) }})
			if err != nil {
				t.Fatal(err)
			}
			healsFault := phase == "" || phase == drill.Injecting || phase == drill.Holding || phase == drill.Healing
			if got := slices.Contains(h.b.Calls(), "recover"); got != healsFault {
				t.Errorf("recover called %v, want %v", got, healsFault)
			}
			// A drill that got as far as reading back had healed and
			// verified; the one taking over verifies again, for its own
			// result (the operator's RecoveryVerified).
			waits := healsFault || phase == drill.WaitingISR || phase == drill.ReadingBack
			if got := h.k.Waits() > 0; got != waits {
				t.Errorf("waited for the ISR %v, want %v", got, waits)
			}
			if res.Verdict != drill.Inconclusive || !res.Healed || res.Phase != drill.Done || len(res.Notes) == 0 {
				t.Errorf("result verdict %s healed %v phase %s notes %v", res.Verdict, res.Healed, res.Phase, res.Notes)
			}
			if events[len(events)-1] != drill.Done {
				t.Errorf("events %v, want Done last", events)
			}
			if n := len(h.stateFiles()); n != 0 {
				t.Errorf("%d state files left", n)
			}
		})
	}
}

// TestResumeContinuesTheHold: an operator that resumes a drill in its
// hold keeps the fault until the planned end, then heals.
func TestResumeContinuesTheHold(t *testing.T) {
	h := newHarness(t)
	injected := time.Now().Add(-200 * time.Millisecond)
	st := &chaos.State{ID: "d1", Backend: h.b.Spec(), Fault: drill.Fault{Kind: drill.Crash, DC: "dc-a", Duration: 500 * time.Millisecond},
		Phase: drill.Holding, Injected: injected}
	if err := st.Save(h.dir); err != nil {
		t.Fatal(err)
	}
	_, err := chaos.Resume(context.Background(), st, chaos.ResumeOptions{StateDir: h.dir, Continue: true, Open: func(drill.Spec) (drill.Backend, error) { return h.b, nil }})
	if err != nil {
		t.Fatal(err)
	}
	if healed := time.Since(injected); healed < 500*time.Millisecond {
		t.Errorf("healed %v after the injection, before the planned 500ms", healed)
	}
}

// Members started here (no --consumer-dc) run in none of the DCs: the
// drill never kills them, and the prediction must not expect the session
// expiry of members lost with the DC (it did: a rebalance predicted, none
// observed, on the SASL_SSL lab).
func TestRunWithConsumersHere(t *testing.T) {
	h := newHarness(t)
	h.b.failover = 150 * time.Millisecond
	o := h.options(drill.Fault{Kind: drill.Crash, DC: "dc-c", Duration: 300 * time.Millisecond})
	o.Readers = &chaostest.Readers{}
	o.Consumers = chaos.ConsumerSpec{Members: 2}
	res, err := chaos.Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Predicted == nil || res.Predicted.Read == nil {
		t.Fatalf("no read prediction: %+v", res.Predicted)
	}
	if res.Predicted.Read.Rebalance {
		t.Errorf("a rebalance predicted for members outside the crashed DC: %+v", res.Predicted.Read)
	}
}

// A drill with a consumer group: the group starts before the producers,
// its members in the crashed DC die right after the fault is applied, it
// reads to the end after the producers stop and is stopped before the
// read-back; the result has the read side and its comparison.
func TestRunWithConsumerGroup(t *testing.T) {
	h := newHarness(t)
	h.b.failover = 150 * time.Millisecond
	readers := &chaostest.Readers{}
	var atKill []string
	readers.OnCall = func(call string) {
		if strings.HasPrefix(call, "kill") {
			atKill = h.b.Calls()
		}
	}
	o := h.options(drill.Fault{Kind: drill.Crash, DC: "dc-c", Duration: 300 * time.Millisecond})
	o.Readers = readers
	o.Consumers = chaos.ConsumerSpec{Members: 2, DCs: []string{"dc-a", "dc-c"}}
	res, err := chaos.Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := readers.Calls(), []string{"find coordinator", "start", "kill dc-c", "caught up", "stop"}; !slices.Equal(got, want) {
		t.Errorf("group calls %v, want %v", got, want)
	}
	if !slices.Equal(atKill, []string{"apply"}) {
		t.Errorf("backend calls when the members died: %v, want after apply, before recover", atKill)
	}
	w := res.Workload.Consumers
	if w == nil || !strings.HasPrefix(w.Group, "stretchctl-d1") || len(w.Members) != 2 || w.Library != "java" || w.LibraryVersion != "4.3.1" {
		t.Fatalf("consumer workload %+v", w)
	}
	if res.Observed.Read == nil || res.Predicted == nil || res.Predicted.Read == nil || !res.Predicted.Read.Rebalance {
		t.Fatalf("read observed %+v, predicted %+v: want both, a rebalance predicted (members in dc-c)", res.Observed.Read, res.Predicted)
	}
	if res.Goals.ReadRTOSeconds != res.Goals.RTOSeconds {
		t.Errorf("read RTO goal %v, want the RTO goal %v when goals.readRTO is not set", res.Goals.ReadRTOSeconds, res.Goals.RTOSeconds)
	}
	// The fake group read nothing: acknowledged records waited, so the
	// read goals are missed, and the comparison has the group's points.
	if res.GoalsMet || res.ExitCode() != drill.ExitGoalsMissed {
		t.Errorf("goals met %v, exit %d; want missed: the group read nothing", res.GoalsMet, res.ExitCode())
	}
	if !slices.ContainsFunc(res.Comparison.Points, func(p drill.Point) bool { return p.What == "group rebalances" }) {
		t.Errorf("comparison %+v has no group point", res.Comparison.Points)
	}

	// Interrupted in the steady state: the group is stopped too.
	h = newHarness(t)
	readers = &chaostest.Readers{}
	ctx, cancel := context.WithCancel(context.Background())
	h.onPhase = func(p drill.Phase) {
		if p == drill.Steady {
			time.AfterFunc(20*time.Millisecond, cancel)
		}
	}
	o = h.options(drill.Fault{Kind: drill.Crash, DC: "dc-c", Duration: time.Second})
	o.Readers, o.Consumers = readers, chaos.ConsumerSpec{Members: 1}
	o.Steady = time.Second
	if _, err := chaos.Run(ctx, o); err == nil {
		t.Fatal("an interrupted drill returned no error")
	}
	if got := readers.Calls(); !slices.Equal(got, []string{"find coordinator", "start", "stop"}) {
		t.Errorf("group calls after Ctrl-C %v, want started then stopped", got)
	}

	// A DC that is not the topology's is refused before anything starts.
	o = h.options(drill.Fault{Kind: drill.Crash, DC: "dc-c", Duration: time.Second})
	o.Readers, o.Consumers = &chaostest.Readers{}, chaos.ConsumerSpec{Members: 1, DCs: []string{"dc-z"}}
	var oe *chaos.OptionError
	if _, err := chaos.Run(context.Background(), o); !errors.As(err, &oe) || oe.Option != chaos.OptConsumerDC {
		t.Errorf("consumers in dc-z: %v, want an OptionError on the consumer DC", err)
	}
}
