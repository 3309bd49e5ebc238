package tui

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/stretchctl/stretchctl/drill"
)

// drillStage is where the drill screen is.
type drillStage int

const (
	stageForm    drillStage = iota // picking fault, DC, topic, ...
	stageConfirm                   // typing the cluster id
	stageRunning                   // the drill runs: its events draw the view
	stageResult                    // the result of the last drill
)

// The form's fields, top to bottom.
const (
	fieldFault = iota
	fieldDC
	fieldTopic
	fieldDuration
	fieldProducerDC
	fieldAmount // latency: delay; loss: percent
	fieldCount
)

var (
	durations = []time.Duration{10 * time.Second, 20 * time.Second, 30 * time.Second, time.Minute, 2 * time.Minute, 5 * time.Second}
	delays    = []time.Duration{20 * time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond, 200 * time.Millisecond}
	losses    = []float64{5, 10, 25, 50}
)

// sample is one second of the running drill's workload.
type sample struct {
	writes, errors float64
	// waitMs is the longest a write waited that second: the last
	// acknowledgement's wait, or the oldest pending record's age.
	waitMs  float64
	fault   bool
	isrFull bool
}

// drillState is the drill screen: the form, then the running drill fed by
// its events, then its result. The drill runs in a goroutine; its events
// come through a channel read by a tea.Cmd (next), one message each.
type drillState struct {
	stage drillStage
	field int
	// choice is the index chosen in each field's values.
	choice  [fieldCount]int
	confirm textinput.Model
	err     string

	running   bool
	quitAfter bool
	cancel    context.CancelFunc
	events    *eventQueue
	done      chan DrillDoneMsg
	finished  chan struct{}

	fault    drill.Fault
	topic    string
	started  time.Time
	phase    drill.Phase
	phaseAt  map[drill.Phase]time.Time
	figures  drill.Figures
	last     drill.Figures
	samples  []sample
	messages []string
	result   *drill.Result
	runErr   error
}

func newDrillState(o Options) drillState {
	c := textinput.New()
	c.Prompt = "cluster id: "
	return drillState{confirm: c, choice: [fieldCount]int{fieldDuration: 0}}
}

// capturesKeys: while the cluster id is typed, every key is the drill's.
func (d *drillState) capturesKeys() bool { return d.stage == stageConfirm }

// values are a field's choices, as text.
func (d *drillState) values(m *Model, field int) []string {
	switch field {
	case fieldFault:
		var out []string
		for _, k := range drill.Kinds() {
			out = append(out, string(k))
		}
		return out
	case fieldDC:
		return m.inputs.Config.Topology.DCs
	case fieldTopic:
		var out []string
		for _, t := range m.inputs.Snapshot.Topics {
			if !t.Internal && !strings.HasPrefix(t.Name, "__") {
				out = append(out, t.Name)
			}
		}
		slices.Sort(out)
		return out
	case fieldDuration:
		out := make([]string, len(durations))
		for i, x := range durations {
			out[i] = x.String()
		}
		return out
	case fieldProducerDC:
		return append([]string{"here"}, m.inputs.Config.Topology.DCs...)
	case fieldAmount:
		switch d.kind() {
		case drill.Latency:
			out := make([]string, len(delays))
			for i, x := range delays {
				out[i] = "+" + x.String()
			}
			return out
		case drill.Loss:
			out := make([]string, len(losses))
			for i, x := range losses {
				out[i] = fmt.Sprintf("%g%%", x)
			}
			return out
		}
	}
	return nil
}

func (d *drillState) kind() drill.Kind { return drill.Kinds()[d.choice[fieldFault]] }

// value is a field's chosen value, "" when it has none.
func (d *drillState) value(m *Model, field int) string {
	vs := d.values(m, field)
	if len(vs) == 0 {
		return ""
	}
	return vs[min(d.choice[field], len(vs)-1)]
}

// fields are the form's fields shown for the chosen fault.
func (d *drillState) fields() []int {
	if d.kind().Link() {
		return []int{fieldFault, fieldDC, fieldTopic, fieldDuration, fieldProducerDC, fieldAmount}
	}
	return []int{fieldFault, fieldDC, fieldTopic, fieldDuration, fieldProducerDC}
}

func (d *drillState) key(m *Model, msg tea.KeyMsg) tea.Cmd {
	if ok, _ := m.o.Engine.DrillsAllowed(); !ok {
		return nil
	}
	switch d.stage {
	case stageForm:
		fs := d.fields()
		i := max(slices.Index(fs, d.field), 0)
		switch {
		case key.Matches(msg, m.keys.Up):
			d.field = fs[max(i-1, 0)]
		case key.Matches(msg, m.keys.Down):
			d.field = fs[min(i+1, len(fs)-1)]
		case key.Matches(msg, m.keys.Left), key.Matches(msg, m.keys.Right):
			n := len(d.values(m, d.field))
			if n == 0 {
				return nil
			}
			step := 1
			if key.Matches(msg, m.keys.Left) {
				step = n - 1
			}
			d.choice[d.field] = (d.choice[d.field] + step) % n
		case key.Matches(msg, m.keys.Enter):
			if d.value(m, fieldTopic) == "" {
				d.err = "no topic to write to: create one like your production topics (replicas, placement, min.insync.replicas)"
				return nil
			}
			d.err = ""
			d.stage = stageConfirm
			d.confirm.SetValue("")
			return d.confirm.Focus()
		}
	case stageConfirm:
		switch msg.Type {
		case tea.KeyEsc:
			d.stage = stageForm
			d.confirm.Blur()
			return nil
		case tea.KeyEnter:
			typed := strings.TrimSpace(d.confirm.Value())
			d.confirm.Blur()
			if m.inputs.Snapshot.ClusterID == "" {
				d.stage, d.err = stageForm, "the cluster's id could not be read: no drill can be confirmed (use `stretchctl drill`)"
				return nil
			}
			if typed != m.inputs.Snapshot.ClusterID {
				d.stage, d.err = stageForm, fmt.Sprintf("%q is not the cluster id: nothing was injected", typed)
				return nil
			}
			return d.start(m, typed)
		}
		var cmd tea.Cmd
		d.confirm, cmd = d.confirm.Update(msg)
		return cmd
	case stageRunning:
		if msg.String() == "c" && d.cancel != nil {
			d.cancel()
			d.messages = append(d.messages, "stopping: healing first")
		}
	case stageResult:
		if key.Matches(msg, m.keys.Enter) || key.Matches(msg, m.keys.Back) {
			d.stage = stageForm
		}
	}
	return nil
}

// start runs the drill in a goroutine.
func (d *drillState) start(m *Model, clusterID string) tea.Cmd {
	o := m.o.DrillDefaults
	kind := d.kind()
	d.fault = drill.Fault{Kind: kind, DC: d.value(m, fieldDC), Duration: durations[d.choice[fieldDuration]%len(durations)]}
	switch kind {
	case drill.Latency:
		d.fault.Delay = delays[d.choice[fieldAmount]%len(delays)]
	case drill.Loss:
		d.fault.LossPercent = losses[d.choice[fieldAmount]%len(losses)]
	}
	d.topic = d.value(m, fieldTopic)
	o.Fault, o.Topic = d.fault, d.topic
	if p := d.value(m, fieldProducerDC); p != "here" {
		o.ProducerDC = p
	}
	// The id typed is checked again against what the drill's preflight
	// reads: a cluster that changed under the TUI is not broken.
	o.Confirm = func(id string) bool { return id == clusterID }
	events := newEventQueue()
	o.Events = events.push
	ctx, cancel := context.WithCancel(m.ctx)
	d.cancel, d.events, d.done, d.finished = cancel, events, make(chan DrillDoneMsg, 1), make(chan struct{})
	d.running, d.stage, d.started = true, stageRunning, m.now()
	d.phase, d.phaseAt, d.samples, d.messages, d.result, d.runErr = drill.Preflight, map[drill.Phase]time.Time{}, nil, nil, nil, nil
	d.figures, d.last = drill.Figures{}, drill.Figures{}
	eng, done, finished := m.o.Engine, d.done, d.finished
	go func() {
		defer close(finished)
		var res *drill.Result
		var err error
		func() {
			// The runner heals as it unwinds; a panic still ends the drill
			// with an error on the screen rather than a dead process.
			defer func() {
				if r := recover(); r != nil {
					err = fmt.Errorf("the drill failed: %v", r)
				}
			}()
			res, err = eng.Drill(ctx, o)
		}()
		events.close()
		done <- DrillDoneMsg{Result: res, Err: err}
	}()
	return d.next()
}

// eventQueue hands the drill's events to the TUI in order, none dropped:
// the runner's Events must not block, the TUI reads one per message.
type eventQueue struct {
	mu     sync.Mutex
	items  []drill.Event
	closed bool
	signal chan struct{}
}

func newEventQueue() *eventQueue { return &eventQueue{signal: make(chan struct{}, 1)} }

func (q *eventQueue) push(e drill.Event) {
	q.mu.Lock()
	q.items = append(q.items, e)
	q.mu.Unlock()
	q.wake()
}

func (q *eventQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.wake()
}

func (q *eventQueue) wake() {
	select {
	case q.signal <- struct{}{}:
	default:
	}
}

// pop waits for the next event; false once the queue is closed and empty.
func (q *eventQueue) pop() (drill.Event, bool) {
	for {
		q.mu.Lock()
		if len(q.items) > 0 {
			e := q.items[0]
			q.items = q.items[1:]
			q.mu.Unlock()
			return e, true
		}
		if q.closed {
			q.mu.Unlock()
			return drill.Event{}, false
		}
		q.mu.Unlock()
		<-q.signal
	}
}

// next waits for the drill's next event, then for its end.
func (d *drillState) next() tea.Cmd {
	events, done := d.events, d.done
	if events == nil {
		return nil
	}
	return func() tea.Msg {
		if e, ok := events.pop(); ok {
			return DrillEventMsg{Event: e}
		}
		return <-done
	}
}

// event draws one event: the phase, the message, one second of figures.
func (d *drillState) event(e drill.Event) {
	if e.Phase != d.phase || d.phaseAt[e.Phase].IsZero() {
		if d.phase == drill.WaitingISR && e.Phase != drill.WaitingISR && len(d.samples) > 0 {
			d.samples[len(d.samples)-1].isrFull = true
		}
		d.phase = e.Phase
		if d.phaseAt[e.Phase].IsZero() {
			d.phaseAt[e.Phase] = e.At
		}
	}
	if e.Message != "" {
		d.messages = append(d.messages, e.At.Local().Format("15:04:05")+" "+e.Message)
		return
	}
	f := e.Figures
	if f.Elapsed <= d.last.Elapsed {
		d.figures = f
		return
	}
	secs := (f.Elapsed - d.last.Elapsed).Seconds()
	d.samples = append(d.samples, sample{
		writes: float64(f.Acked-d.last.Acked) / secs,
		errors: float64(f.Failed-d.last.Failed) / secs,
		waitMs: float64(max(f.LastAck, f.OldestPending)) / float64(time.Millisecond),
		fault:  e.Phase.FaultMayBeInPlace(),
	})
	d.figures, d.last = f, f
}

// finish ends the running drill.
func (d *drillState) finish(res *drill.Result, err error) {
	if d.cancel != nil {
		d.cancel()
	}
	d.running, d.cancel, d.events = false, nil, nil
	d.result, d.runErr, d.stage = res, err, stageResult
}

// stopDrill cancels a running drill and waits until it has healed; its
// result is kept (NotHealed reads it).
func (d *drillState) stopDrill() {
	if d.cancel != nil {
		d.cancel()
	}
	if d.finished == nil {
		return
	}
	<-d.finished
	select {
	case msg := <-d.done:
		d.finish(msg.Result, msg.Err)
	default: // the program read it already
	}
}

// notHealed is the error of the last drill when it left its fault.
func (d *drillState) notHealed() error {
	if d.result == nil || d.result.Healed {
		return nil
	}
	return &NotHealedError{Result: d.result}
}

func (m *Model) drillView() string {
	d := &m.drill
	if ok, why := m.o.Engine.DrillsAllowed(); !ok {
		return m.st.title.Render("Drill") + "\n\n" + m.st.warn.Render("no drill here: ") + why + "\n"
	}
	switch d.stage {
	case stageRunning:
		return m.drillRunningView()
	case stageResult:
		return m.drillResultView()
	}
	var b strings.Builder
	b.WriteString(m.st.title.Render("Drill") + ": break a DC on purpose, watch the writes, always heal\n\n")
	labels := map[int]string{fieldFault: "fault", fieldDC: "DC", fieldTopic: "topic", fieldDuration: "held for", fieldProducerDC: "producers in", fieldAmount: "amount"}
	for _, f := range d.fields() {
		v := d.value(m, f)
		if v == "" {
			v = m.st.faint.Render("(none)")
		}
		line := fmt.Sprintf("%s ‹ %s ›", pad(labels[f], 14), v)
		if f == d.field && d.stage == stageForm {
			line = m.st.selected.Render(line)
		}
		b.WriteString("  " + line + "\n")
	}
	b.WriteString("\n" + m.st.faint.Render(wrap(kindHelp[d.kind()], m.width-4, "")) + "\n")
	if d.err != "" {
		b.WriteString("\n" + m.st.bad.Render(d.err) + "\n")
	}
	if d.stage == stageConfirm {
		fmt.Fprintf(&b, "\nAbout to inject %s into cluster %s. Type the cluster id to go on (esc: back):\n%s\n",
			m.st.bold.Render(d.formFault(m)), m.st.bold.Render(m.inputs.Snapshot.ClusterID), d.confirm.View())
	} else {
		b.WriteString("\n" + m.st.faint.Render("↑/↓ field · ←/→ value · enter: start (you confirm with the cluster id)") + "\n")
	}
	return b.String()
}

func (d *drillState) formFault(m *Model) string {
	f := drill.Fault{Kind: d.kind(), DC: d.value(m, fieldDC)}
	switch f.Kind {
	case drill.Latency:
		f.Delay = delays[d.choice[fieldAmount]%len(delays)]
	case drill.Loss:
		f.LossPercent = losses[d.choice[fieldAmount]%len(losses)]
	}
	return fmt.Sprintf("%s for %s on topic %s", f, d.value(m, fieldDuration), d.value(m, fieldTopic))
}

var kindHelp = map[drill.Kind]string{
	drill.Crash:   "crash: every Kafka process of the DC dies at once; its hosts answer, so clients see refused connections at once.",
	drill.Lose:    "lose: the DC's links are cut, then its processes stopped: silent, as a power or network loss; clients wait out their timeouts.",
	drill.Freeze:  "freeze: the DC's processes stop (SIGSTOP) while their sockets stay open.",
	drill.Isolate: "isolate: every link to and from the DC is cut while it runs on: a split; the side with the controller majority goes on.",
	drill.Latency: "latency: the round trip of the DC's links grows by the amount.",
	drill.Loss:    "loss: the DC's links drop that share of packets.",
}

func (m *Model) drillRunningView() string {
	d := &m.drill
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s on %s · %s\n", m.st.bad.Render("DRILL"), m.st.bold.Render(d.fault.String()), d.topic, m.phaseNote())
	var ph []string
	for _, p := range drill.AllPhases() {
		switch {
		case p == d.phase:
			ph = append(ph, m.st.selected.Render("["+string(p)+"]"))
		case p.Index() < d.phase.Index():
			ph = append(ph, m.st.faint.Render(string(p)))
		default:
			ph = append(ph, string(p))
		}
	}
	b.WriteString(strings.Join(ph, " ") + "\n\n")
	b.WriteString(m.drillChart(d.samples, m.width-22))
	f := d.figures
	fmt.Fprintf(&b, "\nsent %d · acked %d · failed %d · last ack took %s · oldest waiting %s\n", f.Sent, f.Acked, f.Failed,
		f.LastAck.Round(time.Millisecond), f.OldestPending.Round(100*time.Millisecond))
	if d.quitAfter {
		b.WriteString(m.st.warn.Render("quitting: the fault is being healed first") + "\n")
	}
	b.WriteString("\n")
	for _, msg := range d.messages[max(0, len(d.messages)-5):] {
		b.WriteString("• " + msg + "\n")
	}
	b.WriteString(m.st.faint.Render("c: stop (heals) · q, ctrl+c: heal and quit · other screens stay live") + "\n")
	return b.String()
}

// phaseNote says how long the current phase has lasted (and of how long,
// for the held fault).
func (m *Model) phaseNote() string {
	d := &m.drill
	at := d.phaseAt[d.phase]
	if at.IsZero() {
		return string(d.phase)
	}
	s := fmt.Sprintf("%s for %s", d.phase, ago(m.now().Sub(at)))
	if d.phase == drill.Holding {
		s += " of " + d.fault.Duration.String()
	}
	return s
}

// drillChart draws writes and errors per second, the fault band and the
// moment the ISR was full again, the last w seconds.
func (m *Model) drillChart(ss []sample, w int) string {
	if w < 10 {
		w = 10
	}
	ss = ss[max(0, len(ss)-w):]
	writes, errs, waits := make([]float64, len(ss)), make([]float64, len(ss)), make([]float64, len(ss))
	var band, isr strings.Builder
	topW, topE, topL := 0.0, 0.0, 0.0
	for i, s := range ss {
		writes[i], errs[i], waits[i] = s.writes, s.errors, s.waitMs
		topW, topE, topL = math.Max(topW, s.writes), math.Max(topE, s.errors), math.Max(topL, s.waitMs)
		switch {
		case s.fault:
			band.WriteRune('█')
		default:
			band.WriteRune(' ')
		}
		if s.isrFull {
			isr.WriteRune('▲')
		} else {
			isr.WriteRune(' ')
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s%s %s\n", pad("writes/s", 10), m.st.good.Render(sparkline(writes, topW)), m.st.faint.Render(fmt.Sprintf("max %.0f", topW)))
	fmt.Fprintf(&b, "%s%s %s\n", pad("errors/s", 10), m.st.bad.Render(sparkline(errs, topE)), m.st.faint.Render(fmt.Sprintf("max %.0f", topE)))
	fmt.Fprintf(&b, "%s%s %s\n", pad("wait", 10), m.st.warn.Render(sparkline(waits, topL)), m.st.faint.Render(fmt.Sprintf("max %.0f ms", topL)))
	fmt.Fprintf(&b, "%s%s\n", pad("fault", 10), m.st.fault.Render(band.String()))
	fmt.Fprintf(&b, "%s%s\n", pad("ISR full", 10), m.st.isr.Render(isr.String()))
	return b.String()
}

func (m *Model) drillResultView() string {
	d := &m.drill
	res := d.result
	var b strings.Builder
	if res == nil {
		b.WriteString(m.st.bad.Render("the drill did not run: ") + fmt.Sprint(d.runErr) + "\n")
		b.WriteString(m.st.faint.Render("enter: back to the form") + "\n")
		return b.String()
	}
	verdict := m.st.good.Render(string(res.Verdict))
	if res.Verdict != drill.Pass {
		verdict = m.st.bad.Render(string(res.Verdict))
	}
	fmt.Fprintf(&b, "%s %s on %s: %s (exit code %d)\n", m.st.title.Render("Drill result"), res.Fault, res.Workload.Topic, verdict, res.ExitCode())
	healed := m.st.good.Render("healed")
	if !res.Healed {
		healed = m.st.bad.Render("NOT HEALED: "+strings.Join(res.Leftover, "; ")) + " — run `stretchctl drill recover`"
	}
	b.WriteString(healed + "\n\n")
	o := res.Observed
	pred := res.Predicted
	b.WriteString(m.st.bold.Render(pad("", 22)+pad("observed", 14)+"predicted") + "\n")
	prto, ploss := "–", "–"
	if pred != nil && pred.Error == "" {
		prto, ploss = seconds(pred.RTOSeconds), fmt.Sprintf("%d partitions at risk", pred.AckedLossPossible)
	}
	fmt.Fprintf(&b, "%s%s%s\n", pad("RTO", 22), pad(seconds(o.RTOSeconds), 14), prto)
	fmt.Fprintf(&b, "%s%s%s\n", pad("acknowledged lost", 22), pad(fmt.Sprint(o.AckedLost), 14), ploss)
	if r := o.Read; r != nil {
		pr := "–"
		if pred != nil && pred.Read != nil {
			pr = seconds(pred.Read.RTOSeconds)
			if pred.Read.MinRTOSeconds != nil && pred.Read.RTOSeconds != nil {
				pr = seconds(pred.Read.MinRTOSeconds) + "–" + pr
			}
		}
		fmt.Fprintf(&b, "%s%s%s\n", pad("read RTO", 22), pad(seconds(r.RTOSeconds), 14), pr)
		fmt.Fprintf(&b, "%s%d rebalances, %d read again, %d skipped, %d unread\n", pad("consumer group", 22), len(r.Rebalances), r.Redelivered, r.Skipped, r.Unread)
	}
	if t := o.Transactions; t != nil {
		held := "not judged (no group read the ledger)"
		switch {
		case t.ExactlyOnce == nil:
		case *t.ExactlyOnce:
			held = "held"
		default:
			held = m.st.bad.Render("BROKEN")
		}
		fmt.Fprintf(&b, "%s%s: %d aborted records, %d read\n", pad("exactly-once", 22), held, t.AbortedRecords, t.AbortedRead)
	}
	fmt.Fprintf(&b, "%s%s\n", pad("goals", 22), fmt.Sprintf("RTO %gs, RPO %d: met %v", res.Goals.RTOSeconds, res.Goals.RPO, res.GoalsMet))
	fmt.Fprintf(&b, "%s%d sent, %d acked, %d failed, %d duplicates, max latency %.0f ms\n", pad("workload", 22), o.Sent, o.Acked, o.Failed, o.Duplicates, o.MaxLatencyMs)
	fmt.Fprintf(&b, "\n%s %s\n", m.st.bold.Render("predicted vs observed:"), res.Comparison.Status)
	for _, p := range res.Comparison.Points {
		mark := m.st.good.Render("agree")
		if !p.Agree {
			mark = m.st.bad.Render("DISAGREE")
		}
		fmt.Fprintf(&b, "  %s %s predicted %s, observed %s\n", pad(p.What, 26), mark, p.Predicted, p.Observed)
	}
	for _, n := range append(res.Comparison.Notes, res.Notes...) {
		b.WriteString("• " + wrap(n, m.width-4, "  ") + "\n")
	}
	if d.runErr != nil {
		b.WriteString(m.st.warn.Render("error: ") + d.runErr.Error() + "\n")
	}
	b.WriteString(m.st.faint.Render("enter: a new drill") + "\n")
	return b.String()
}
