package tui

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/exp/teatest"
	"github.com/muesli/termenv"

	"github.com/stretchctl/stretchctl/advise"
	"github.com/stretchctl/stretchctl/chaos"
	"github.com/stretchctl/stretchctl/config"
	"github.com/stretchctl/stretchctl/drill"
	"github.com/stretchctl/stretchctl/internal/golden"
	"github.com/stretchctl/stretchctl/probe"
	"github.com/stretchctl/stretchctl/rules"
	"github.com/stretchctl/stretchctl/topology"
)

// matrixAt is when the agents of testdata/matrix/agents-3dc.json
// reported; the tests' clock is a few seconds later, so its cells are fresh.
var (
	matrixAt = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	testNow  = matrixAt.Add(5 * time.Second)
)

func TestMain(m *testing.M) {
	time.Local = time.UTC // frames show local times
	os.Exit(m.Run())
}

// matrixFile is the agents' matrix, relative: its path is in the frames.
var matrixFile = filepath.Join("..", "testdata", "matrix", "agents-3dc.json")

// fakeEngine reads an example of testdata/examples through the real
// check pipeline (advise) and runs drills with drillFn.
type fakeEngine struct {
	dir, matrix string
	offline     bool
	drillFn     func(ctx context.Context, o chaos.Options) (*drill.Result, error)
	// gathers counts the reads.
	mu      sync.Mutex
	gathers int
}

func (f *fakeEngine) Gather(ctx context.Context) (*advise.Inputs, error) {
	f.mu.Lock()
	f.gathers++
	f.mu.Unlock()
	cfg, err := config.Load(golden.Path("examples", f.dir, "stretch.yaml"))
	if err != nil {
		return nil, err
	}
	in, err := advise.Gather(ctx, cfg, advise.Options{SnapshotFile: golden.Path("examples", f.dir, "snapshot.json"),
		LatencyMatrixFile: f.matrix, Now: func() time.Time { return testNow }, Clients: []topology.ClientConfig{}})
	if err != nil {
		return nil, err
	}
	if b, err := os.ReadFile(golden.Path("examples", f.dir, "clients.json")); err == nil {
		if err := json.Unmarshal(b, &in.Clients); err != nil {
			return nil, err
		}
	}
	return in, nil
}

func (f *fakeEngine) Matrix(context.Context) (*probe.Matrix, error) { return nil, nil }

func (f *fakeEngine) Probe(context.Context) (*probe.Matrix, error) {
	return probe.LoadMatrix(golden.Path("matrix", "agents-3dc.json"), testNow)
}

func (f *fakeEngine) Drill(ctx context.Context, o chaos.Options) (*drill.Result, error) {
	return f.drillFn(ctx, o)
}

func (f *fakeEngine) DrillsAllowed() (bool, string) {
	if f.offline {
		return false, "offline on a snapshot file"
	}
	return true, ""
}

// loaded is a model of an example at w×h, with its inputs read (no
// program: messages go straight to Update).
func loaded(t *testing.T, eng *fakeEngine, w, h int, opts ...func(*Options)) *Model {
	t.Helper()
	o := Options{Engine: eng, Profile: termenv.Ascii, Now: func() time.Time { return testNow }}
	for _, f := range opts {
		f(&o)
	}
	m := New(context.Background(), o)
	m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	in, err := eng.Gather(context.Background())
	m.Update(InputsMsg{Inputs: in, Err: err, At: testNow.Add(-2 * time.Second)})
	if m.inputs == nil {
		t.Fatalf("inputs not read: %v", err)
	}
	return m
}

// keys sends keys to the model: names of special keys, else runes.
func keys(m *Model, ks ...string) {
	special := map[string]tea.KeyType{"enter": tea.KeyEnter, "esc": tea.KeyEsc, "up": tea.KeyUp, "down": tea.KeyDown,
		"left": tea.KeyLeft, "right": tea.KeyRight, "tab": tea.KeyTab, "shift+tab": tea.KeyShiftTab, "ctrl+c": tea.KeyCtrlC,
		"backspace": tea.KeyBackspace, "ctrl+u": tea.KeyCtrlU}
	for _, k := range ks {
		if t, ok := special[k]; ok {
			m.Update(tea.KeyMsg{Type: t})
			continue
		}
		for _, r := range k {
			m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
		}
	}
}

func frame(t *testing.T, name string, m *Model) {
	t.Helper()
	view := m.View()
	for i, l := range strings.Split(view, "\n") {
		if w := len([]rune(l)); w > m.width {
			t.Errorf("%s: line %d is %d cells wide, the terminal %d: %q", name, i, w, m.width, l)
		}
	}
	if n := strings.Count(view, "\n") + 1; n != m.height {
		t.Errorf("%s: %d lines, the terminal has %d", name, n, m.height)
	}
	golden.Assert(t, "tui/"+name+".golden", []byte(view))
}

// TestFrames pins every screen at 100×30 and the overview at 80×24.
func TestFrames(t *testing.T) {
	well := &fakeEngine{dir: "20-well-configured", matrix: matrixFile}
	m := loaded(t, well, 100, 30)
	frame(t, "overview", m)
	keys(m, "2")
	frame(t, "latency", m)
	keys(m, "right", "right", "enter")
	frame(t, "latency-detail", m)
	keys(m, "?")
	frame(t, "help", m)
	keys(m, "esc", "4", "d")
	frame(t, "scenarios-whatif", m)
	keys(m, "5")
	frame(t, "drill-form", m)

	bad := loaded(t, &fakeEngine{dir: "21-misconfigured"}, 100, 30)
	keys(bad, "3")
	frame(t, "findings", bad)
	keys(bad, "/", "RTO-0", "enter")
	frame(t, "findings-filtered", bad)
	keys(bad, "enter")
	frame(t, "finding-detail", bad)

	small := loaded(t, &fakeEngine{dir: "21-misconfigured"}, 80, 24)
	frame(t, "overview-80x24", small)
	keys(small, "4")
	frame(t, "scenarios-80x24", small)

	offline := loaded(t, &fakeEngine{dir: "20-well-configured", offline: true}, 100, 30)
	keys(offline, "5")
	frame(t, "drill-offline", offline)
	keys(offline, "2")
	frame(t, "latency-none", offline)
}

// TestColourPinned: colour comes from the profile the CLI passes, not
// from the environment (CI=true turns colour detection off in termenv).
func TestColourPinned(t *testing.T) {
	t.Setenv("CI", "true")
	t.Setenv("NO_COLOR", "")
	eng := &fakeEngine{dir: "20-well-configured", matrix: matrixFile}
	colour := loaded(t, eng, 100, 30, func(o *Options) { o.Profile = termenv.ANSI256 })
	keys(colour, "2")
	if v := colour.View(); !strings.Contains(v, "\x1b[") {
		t.Error("ANSI256 profile with CI=true: no colour in the latency screen")
	}
	plain := loaded(t, eng, 100, 30)
	keys(plain, "2")
	if v := plain.View(); strings.Contains(v, "\x1b[") {
		t.Error("Ascii profile: escape codes in the latency screen")
	}
}

// TestNavigation: numbers, tab, shift+tab, ":" with a name, a click on a
// tab, help; read-only has no drill screen.
func TestNavigation(t *testing.T) {
	m := loaded(t, &fakeEngine{dir: "20-well-configured"}, 100, 30)
	steps := []struct {
		keys []string
		want Screen
	}{
		{[]string{"3"}, Findings},
		{[]string{"tab"}, Scenarios},
		{[]string{"tab", "tab"}, Overview},
		{[]string{"shift+tab"}, Drill},
		{[]string{":", "lat", "enter"}, Latency},
		{[]string{":", "nothing", "enter"}, Latency},
		{[]string{":", "sc", "esc"}, Latency},
	}
	for _, s := range steps {
		keys(m, s.keys...)
		if m.screen != s.want {
			t.Errorf("after %v: screen %s, want %s", s.keys, m.screen, s.want)
		}
	}
	m.Update(tea.MouseMsg{X: 31, Y: 0, Action: tea.MouseActionPress, Button: tea.MouseButtonLeft})
	if m.screen != Findings {
		t.Errorf("a click at x=31 on the tab bar (on %q): screen %s, want findings", m.tabBar()[31:40], m.screen)
	}
	keys(m, "?")
	if !m.help || !strings.Contains(m.View(), "q, ctrl+c") {
		t.Error("? does not open the help with every key")
	}
	keys(m, "esc")
	if m.help {
		t.Error("esc does not close the help")
	}

	ro := loaded(t, &fakeEngine{dir: "20-well-configured"}, 100, 30, func(o *Options) { o.ReadOnly = true })
	keys(ro, "5", ":", "drill", "enter", "shift+tab")
	if ro.screen == Drill || strings.Contains(ro.View(), "drill") && strings.Contains(ro.tabBar(), "drill") {
		t.Errorf("read-only: screen %s, tab bar %q; want no drill screen", ro.screen, ro.tabBar())
	}
	if _, cmd := ro.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{'q'}}); cmd == nil || cmd() != tea.Quit() {
		t.Error("q does not quit")
	}
}

// TestFindingsKeys: severity order, filter, suppressed on demand.
func TestFindingsKeys(t *testing.T) {
	m := loaded(t, &fakeEngine{dir: "21-misconfigured"}, 100, 30)
	keys(m, "3")
	f := &m.findings
	f.build(m.report)
	all := len(f.list)
	if all != len(m.report.Active()) || all < 5 {
		t.Fatalf("%d findings listed, the report has %d active", all, len(m.report.Active()))
	}
	for i := 1; i < all; i++ {
		if f.list[i].Severity > f.list[i-1].Severity {
			t.Fatalf("finding %d (%s) after a %s one: not by severity", i, f.list[i].Severity, f.list[i-1].Severity)
		}
	}
	keys(m, "down", "down")
	if f.cursor != 2 {
		t.Errorf("cursor %d after two downs", f.cursor)
	}
	keys(m, "/", "topic:orders")
	f.build(m.report)
	for _, x := range f.list {
		if !strings.Contains(strings.ToLower(x.Subject+x.Message+x.ID), "topic:orders") {
			t.Errorf("filter topic:orders shows %s %s", x.ID, x.Subject)
		}
	}
	if len(f.list) == 0 || len(f.list) == all {
		t.Errorf("filter topic:orders shows %d of %d", len(f.list), all)
	}
	keys(m, "esc")
	f.build(m.report)
	if f.filter != "" || len(f.list) != all {
		t.Errorf("esc in the filter prompt: filter %q, %d shown, want none and %d", f.filter, len(f.list), all)
	}
	// Suppress a finding through the config's ignore list, then ask for it.
	m.inputs.Config.Ignore = append(m.inputs.Config.Ignore, config.Ignore{Rule: f.list[0].ID, Reason: "accepted"})
	m.reevaluate()
	f.build(m.report)
	hidden := len(m.report.Findings) - len(m.report.Active())
	if hidden == 0 || len(f.list) != all-hidden {
		t.Fatalf("%d suppressed, %d shown of %d", hidden, len(f.list), all)
	}
	keys(m, "s")
	f.build(m.report)
	if len(f.list) != all {
		t.Errorf("s: %d shown, want all %d", len(f.list), all)
	}
	keys(m, "enter")
	if !f.detail || !strings.Contains(m.View(), "why this rule") {
		t.Error("enter does not open the detail with the rule's explanation")
	}
}

// TestWhatIfMatchesRules: every what-if key gives exactly the report the
// rules give for the same change applied with advise.WhatIf, and x goes
// back to the report as read.
func TestWhatIfMatchesRules(t *testing.T) {
	m := loaded(t, &fakeEngine{dir: "34-minority-keeps-acking"}, 100, 30)
	base := asJSON(t, m.report)
	rto := 10 * time.Second
	var rpo int64 = 3
	cases := []struct {
		keys []string
		want advise.WhatIf
	}{
		{[]string{"d"}, advise.WhatIf{DownDCs: []string{"dc-a"}}},
		{[]string{"d"}, advise.WhatIf{DownDCs: []string{"dc-b"}}},
		{[]string{"d", "d"}, advise.WhatIf{}},
		{[]string{"b", "1,3", "enter"}, advise.WhatIf{DownBrokers: []int32{1, 3}}},
		{[]string{"b", "backspace", "backspace", "backspace", "enter", "m", m.inputs.Clients[0].File + "=dc-c", "enter"},
			advise.WhatIf{ClientDC: map[string]string{m.inputs.Clients[0].File: "dc-c"}}},
		{[]string{"m", "enter", "g", "ctrl+u", "rto=10s rpo=3", "enter"}, advise.WhatIf{RTO: &rto, RPO: &rpo}},
	}
	keys(m, "4")
	for _, c := range cases {
		keys(m, c.keys...)
		if m.scenarios.err != "" {
			t.Fatalf("%v: %s", c.keys, m.scenarios.err)
		}
		if got, want := m.scenarios.whatIf.String(), c.want.String(); got != want {
			t.Fatalf("%v: what-if %q, want %q", c.keys, got, want)
		}
		want := base
		if !c.want.Empty() {
			in, err := m.inputs.WhatIf(c.want)
			if err != nil {
				t.Fatal(err)
			}
			rep, err := in.Evaluate(rules.High)
			if err != nil {
				t.Fatal(err)
			}
			want = asJSON(t, rep)
		}
		if got := asJSON(t, m.report); got != want {
			t.Errorf("%v: the TUI's report differs from the rules' for %q", c.keys, c.want)
		}
	}
	if asJSON(t, m.report) == base {
		t.Error("rto=10s rpo=3 changed nothing: the test proves nothing")
	}
	keys(m, "x")
	if !m.scenarios.whatIf.Empty() || asJSON(t, m.report) != base {
		t.Error("x does not go back to the report as read")
	}
	keys(m, "b", "banana", "enter")
	if !strings.Contains(m.scenarios.err, `"banana" is not a node id`) || !m.scenarios.whatIf.Empty() {
		t.Errorf("brokers down: banana: error %q, what-if %q", m.scenarios.err, m.scenarios.whatIf)
	}
	keys(m, "b", "ctrl+u", "77", "enter")
	if !strings.Contains(m.scenarios.err, "no broker 77") {
		t.Errorf("brokers down: 77: error %q", m.scenarios.err)
	}
}

func asJSON(t *testing.T, r *rules.Report) string {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestReadFailure: an unreadable cluster says so and r reads again.
func TestReadFailure(t *testing.T) {
	eng := &fakeEngine{dir: "no-such-example"}
	m := New(context.Background(), Options{Engine: eng, Profile: termenv.Ascii, Now: func() time.Time { return testNow }})
	m.Update(tea.WindowSizeMsg{Width: 100, Height: 30})
	_, err := eng.Gather(context.Background())
	m.Update(InputsMsg{Err: err, At: testNow})
	if v := m.View(); !strings.Contains(v, "could not read the cluster") || !strings.Contains(v, "r to try again") {
		t.Errorf("view after a failed read:\n%s", v)
	}
	_, cmd := m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{'r'}})
	if cmd == nil {
		t.Fatal("r reads nothing")
	}
	msgs := []tea.Msg{cmd()}
	if b, ok := msgs[0].(tea.BatchMsg); ok {
		msgs = nil
		for _, c := range b {
			if c != nil {
				msgs = append(msgs, c())
			}
		}
	}
	read := false
	for _, msg := range msgs {
		if in, ok := msg.(InputsMsg); ok && in.Err != nil {
			read = true
		}
	}
	if !read {
		t.Errorf("r: %v, want another read of the cluster", msgs)
	}
}

// TestRefreshCadence: the matrix every tick, the cluster every
// gatherEvery-th, nothing while a drill runs; a snapshot never ticks.
func TestRefreshCadence(t *testing.T) {
	eng := &fakeEngine{dir: "20-well-configured"}
	m := loaded(t, eng, 100, 30, func(o *Options) { o.Refresh = time.Hour })
	before := eng.gathers
	for i := 0; i < gatherEvery; i++ {
		_, cmd := m.Update(TickMsg{At: testNow})
		runBatch(cmd)
	}
	if got := eng.gathers - before; got != 1 {
		t.Errorf("%d ticks: %d reads of the cluster, want 1", gatherEvery, got)
	}
	m.drill.running = true
	before = eng.gathers
	for i := 0; i < 2*gatherEvery; i++ {
		_, cmd := m.Update(TickMsg{At: testNow})
		runBatch(cmd)
	}
	if eng.gathers != before {
		t.Error("the cluster was read while a drill runs")
	}
	offline := loaded(t, eng, 100, 30)
	if offline.tick() != nil {
		t.Error("no refresh period: a tick is scheduled all the same")
	}
}

// runBatch runs a command and the commands of a batch, except ticks.
func runBatch(cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	done := make(chan tea.Msg, 1)
	go func() { done <- cmd() }()
	select {
	case msg := <-done:
		if b, ok := msg.(tea.BatchMsg); ok {
			for _, c := range b {
				runBatch(c)
			}
		}
	case <-time.After(100 * time.Millisecond): // a tick: not run
	}
}

// TestProbeOnce: p on the latency screen measures from here when no
// agent reports.
func TestProbeOnce(t *testing.T) {
	m := loaded(t, &fakeEngine{dir: "20-well-configured"}, 100, 30)
	keys(m, "2")
	if !strings.Contains(m.View(), "no latency measured") {
		t.Fatal("no matrix: the latency screen does not say so")
	}
	_, cmd := m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{'p'}})
	if cmd == nil || !m.probing {
		t.Fatal("p starts no probe")
	}
	m.Update(cmd())
	if m.matrix == nil || m.inputs.RTT == nil || !strings.Contains(m.View(), "120.0 ms ✗") {
		t.Errorf("after the probe: matrix %v, RTT %v\n%s", m.matrix != nil, m.inputs.RTT, m.View())
	}
	if !hasFinding(m.report, "TOP-008") {
		t.Error("the probe's 120 ms link did not re-evaluate the rules (TOP-008)")
	}
}

func hasFinding(r *rules.Report, id string) bool {
	for _, f := range r.Findings {
		if f.ID == id {
			return true
		}
	}
	return false
}

// fakeResult is what a drill of fault returns.
func fakeResult(o chaos.Options, healed bool) *drill.Result {
	rto, pred := 11.0, 13.2
	readRTO, readMin, readMax, held := 9.5, 2.0, 13.0, true
	return &drill.Result{ClusterID: "ex-20", Fault: o.Fault, Backend: "fake", Workload: drill.Workload{Topic: o.Topic},
		Observed: drill.Observed{RTOSeconds: &rto, Sent: 1000, Acked: 990, Failed: 10,
			Read:         &drill.ReadObserved{RTOSeconds: &readRTO, Redelivered: 42, Rebalances: []drill.Rebalance{{Generation: 2}}},
			Transactions: &drill.TxnObserved{AbortedRecords: 7, ExactlyOnce: &held}},
		Predicted: &drill.Prediction{Scenario: "crash dc-a", RTOSeconds: &pred, Read: &drill.ReadPrediction{RTOSeconds: &readMax, MinRTOSeconds: &readMin}},
		Comparison: drill.Comparison{Status: drill.Agrees, Agree: true, Points: []drill.Point{
			{What: "RTO", Predicted: "13.2 s", Observed: "11.0 s", Agree: true}}},
		Goals: drill.Goals{RTOSeconds: 60}, GoalsMet: true, Healed: healed, Verdict: drill.Pass, Phase: drill.Done}
}

// scriptedDrill emits the phases with a second of figures each, then
// either returns, or holds the fault until cancelled and heals.
func scriptedDrill(hold bool, healed *bool) func(ctx context.Context, o chaos.Options) (*drill.Result, error) {
	return func(ctx context.Context, o chaos.Options) (*drill.Result, error) {
		if !o.Confirm("ex-20") {
			return nil, chaos.ErrAborted
		}
		start := testNow
		acked := int64(0)
		for i, p := range drill.AllPhases()[:len(drill.AllPhases())-1] {
			o.Events(drill.Event{Phase: p, At: start.Add(time.Duration(i) * time.Second), Fault: o.Fault, Message: "phase " + string(p)})
			if i >= 2 {
				if p != drill.Holding && p != drill.Injecting {
					acked += 100
				}
				wait := 20 * time.Millisecond
				if p == drill.Holding || p == drill.Injecting {
					wait = time.Duration(i) * 900 * time.Millisecond
				}
				o.Events(drill.Event{Phase: p, At: start.Add(time.Duration(i) * time.Second), Fault: o.Fault,
					Figures: drill.Figures{Sent: int64(i) * 100, Acked: acked, Elapsed: time.Duration(i-1) * time.Second, LastAck: 20 * time.Millisecond, OldestPending: wait}})
			}
			if p == drill.Holding && hold {
				<-ctx.Done()
				*healed = true
				o.Events(drill.Event{Phase: drill.Healing, At: start, Fault: o.Fault, Message: "heal"})
				return fakeResult(o, true), ctx.Err()
			}
		}
		o.Events(drill.Event{Phase: drill.Done, At: start.Add(10 * time.Second), Fault: o.Fault, Message: "done"})
		return fakeResult(o, true), nil
	}
}

// TestDrillFlow: the form, a wrong cluster id (nothing runs), the right
// one, the events drawn, the result; then quitting in the middle of a
// second drill heals before the program ends.
func TestDrillFlow(t *testing.T) {
	var healed bool
	var got chaos.Options
	eng := &fakeEngine{dir: "20-well-configured"}
	eng.drillFn = func(ctx context.Context, o chaos.Options) (*drill.Result, error) {
		got = o
		return scriptedDrill(false, &healed)(ctx, o)
	}
	m := loaded(t, eng, 100, 30, func(o *Options) { o.DrillDefaults = chaos.Options{Rate: 500, StateDir: "/state"} })
	keys(m, "5", "down", "right", "down", "down", "right", "right", "down", "right")
	frame(t, "drill-form-chosen", m)
	keys(m, "enter", "not-it", "enter")
	if m.drill.stage != stageForm || !strings.Contains(m.drill.err, "nothing was injected") || m.drill.running {
		t.Fatalf("a wrong cluster id: stage %d, error %q", m.drill.stage, m.drill.err)
	}
	keys(m, "enter", "ex-20")
	frame(t, "drill-confirm", m)
	_, cmd := m.Update(tea.KeyMsg{Type: tea.KeyEnter})
	if !m.drill.running || cmd == nil {
		t.Fatal("the right cluster id starts no drill")
	}
	for cmd != nil {
		msg := cmd()
		_, cmd = m.Update(msg)
		if e, ok := msg.(DrillEventMsg); ok && m.drill.phase == drill.WaitingISR && e.Event.Message == "" {
			frame(t, "drill-running", m)
		}
		if _, ok := msg.(DrillDoneMsg); ok {
			runBatch(cmd)
			break
		}
	}
	if got.Fault.Kind != drill.Crash || got.Fault.DC != "dc-b" || got.Fault.Duration != 30*time.Second || got.Topic != "orders" ||
		got.ProducerDC != "dc-a" || got.Rate != 500 || got.StateDir != "/state" {
		t.Errorf("drill options: fault %+v topic %q producer DC %q rate %d state %q", got.Fault, got.Topic, got.ProducerDC, got.Rate, got.StateDir)
	}
	if m.drill.running || m.drill.stage != stageResult {
		t.Fatalf("after the drill: running %v, stage %d", m.drill.running, m.drill.stage)
	}
	if n := len(m.drill.samples); n < 5 || m.drill.samples[2].writes != 0 || m.drill.samples[0].writes != 100 || !m.drill.samples[2].fault ||
		m.drill.samples[2].waitMs != 3600 || m.drill.samples[0].waitMs != 20 {
		t.Errorf("samples %+v: want a second per figures event, no write while held", m.drill.samples)
	}
	frame(t, "drill-result", m)

	// A second drill, held until the program quits.
	healed = false
	eng.drillFn = scriptedDrill(true, &healed)
	keys(m, "enter", "enter", "ex-20")
	_, cmd = m.Update(tea.KeyMsg{Type: tea.KeyEnter})
	for m.drill.phase != drill.Holding {
		_, cmd = m.Update(cmd())
	}
	_, quit := m.Update(tea.KeyMsg{Type: tea.KeyCtrlC})
	if quit != nil {
		t.Fatal("ctrl+c during a drill quits before healing")
	}
	if !strings.Contains(m.View(), "quitting: the fault is being healed first") {
		t.Error("the view does not say the fault is healed first")
	}
	var last tea.Cmd
	for cmd != nil {
		msg := cmd()
		_, last = m.Update(msg)
		cmd = last
		if _, ok := msg.(DrillDoneMsg); ok {
			break
		}
	}
	if !healed || last == nil || last() != tea.Quit() {
		t.Errorf("healed %v, then quit %v", healed, last != nil)
	}
}

// TestQuitMidDrillProgram runs the program (teatest) and quits in the
// middle of a drill: Run returns only once the drill has healed.
func TestQuitMidDrillProgram(t *testing.T) {
	var healed bool
	eng := &fakeEngine{dir: "20-well-configured", drillFn: scriptedDrill(true, &healed)}
	m := New(context.Background(), Options{Engine: eng, Profile: termenv.Ascii, Now: func() time.Time { return testNow }})
	tm := newTestModel(t, m)
	waitFor(t, tm, "1 overview")
	tm.Type("5")
	waitFor(t, tm, "held for")
	tm.Send(tea.KeyMsg{Type: tea.KeyEnter})
	waitFor(t, tm, "Type the cluster id")
	tm.Type("ex-20")
	tm.Send(tea.KeyMsg{Type: tea.KeyEnter})
	waitFor(t, tm, "Holding")
	tm.Type("q")
	tm.WaitFinished(t, teatest.WithFinalTimeout(finalTimeout))
	if !healed {
		t.Error("the program ended before the drill healed")
	}
}

// errFake is a drill that cannot start.
var errFake = errors.New("preflight: 2 under-replicated partitions")

// TestDrillError: a drill that does not run says why and goes back.
func TestDrillError(t *testing.T) {
	eng := &fakeEngine{dir: "20-well-configured", drillFn: func(context.Context, chaos.Options) (*drill.Result, error) { return nil, errFake }}
	m := loaded(t, eng, 100, 30)
	keys(m, "5", "enter", "ex-20")
	_, cmd := m.Update(tea.KeyMsg{Type: tea.KeyEnter})
	for cmd != nil {
		msg := cmd()
		_, cmd = m.Update(msg)
		if _, ok := msg.(DrillDoneMsg); ok {
			break
		}
	}
	if v := m.View(); !strings.Contains(v, "the drill did not run: "+errFake.Error()) {
		t.Errorf("view:\n%s", v)
	}
	keys(m, "enter")
	if m.drill.stage != stageForm {
		t.Error("enter after the error does not go back to the form")
	}
}

func TestAgo(t *testing.T) {
	for d, want := range map[time.Duration]string{0: "<1s", 5 * time.Second: "5s", 65 * time.Second: "1m05s", 3*time.Hour + 2*time.Minute: "3h02m", 100 * time.Hour: "4d"} {
		if got := ago(d); got != want {
			t.Errorf("ago(%v) = %q, want %q", d, got, want)
		}
	}
}

const finalTimeout = 10 * time.Second

func newTestModel(t *testing.T, m *Model) *teatest.TestModel {
	t.Helper()
	return teatest.NewTestModel(t, m, teatest.WithInitialTermSize(100, 30))
}

// waitFor waits until the program's output holds s.
func waitFor(t *testing.T, tm *teatest.TestModel, s string) {
	t.Helper()
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return strings.Contains(string(b), s) },
		teatest.WithDuration(finalTimeout), teatest.WithCheckInterval(20*time.Millisecond))
}

// TestNoPanicAnywhere: every key on every screen before the first read,
// after it, and at sizes down to nothing; nothing wider than the screen.
func TestNoPanicAnywhere(t *testing.T) {
	all := []string{"1", "2", "3", "4", "5", "up", "down", "left", "right", "enter", "d", "b", "enter", "g", "enter", "m", "enter",
		"x", "s", "p", "/", "x", "esc", "?", "esc", ":", "esc", "tab", "shift+tab", "r"}
	eng := &fakeEngine{dir: "20-well-configured", drillFn: func(context.Context, chaos.Options) (*drill.Result, error) { return nil, errFake }}
	before := New(context.Background(), Options{Engine: eng, Profile: termenv.Ascii, Now: func() time.Time { return testNow }})
	after := loaded(t, eng, 100, 30)
	for _, m := range []*Model{before, after} {
		for _, size := range [][2]int{{0, 0}, {20, 5}, {80, 24}, {200, 60}} {
			m.Update(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
			for _, k := range all {
				keys(m, k)
				for i, l := range strings.Split(m.View(), "\n") {
					if w := lipgloss.Width(l); w > max(size[0], 40) {
						t.Fatalf("%dx%d after %q: line %d is %d wide", size[0], size[1], k, i, w)
					}
				}
			}
		}
	}
}

// TestNotHealedIsReported: a drill stopped by a signal (Run's path:
// stopDrill) that leaves its fault is an error naming what is left.
func TestNotHealedIsReported(t *testing.T) {
	var healed bool
	eng := &fakeEngine{dir: "20-well-configured"}
	eng.drillFn = func(ctx context.Context, o chaos.Options) (*drill.Result, error) {
		res, err := scriptedDrill(true, &healed)(ctx, o)
		res.Healed, res.Leftover = false, []string{"dc-a still cut off"}
		return res, err
	}
	m := loaded(t, eng, 100, 30)
	keys(m, "5", "enter", "ex-20")
	_, cmd := m.Update(tea.KeyMsg{Type: tea.KeyEnter})
	for m.drill.phase != drill.Holding {
		_, cmd = m.Update(cmd())
	}
	m.stopDrill()
	err := m.drill.notHealed()
	var nh *NotHealedError
	if !errors.As(err, &nh) || !strings.Contains(err.Error(), "dc-a still cut off") || !healed {
		t.Errorf("after stopDrill: %v (the runner was cancelled: %v)", err, healed)
	}
}
