package tui

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/stretchctl/stretchctl/advise"
	"github.com/stretchctl/stretchctl/drill"
	"github.com/stretchctl/stretchctl/probe"
	"github.com/stretchctl/stretchctl/rules"
)

// Screen names a screen.
type Screen int

// The screens, in tab order.
const (
	Overview Screen = iota
	Latency
	Findings
	Scenarios
	Drill
)

var screenNames = [...]string{"overview", "latency", "findings", "scenarios", "drill"}

func (s Screen) String() string { return screenNames[s] }

// Messages: every piece of I/O comes back as one of these.
type (
	// InputsMsg carries the check pipeline's inputs (or why not).
	InputsMsg struct {
		Inputs *advise.Inputs
		Err    error
		At     time.Time
	}
	// MatrixMsg carries the agents' matrix.
	MatrixMsg struct {
		Matrix *probe.Matrix
		Err    error
		// OneShot: measured once from here, not the agents'.
		OneShot bool
	}
	// TickMsg asks for fresh live data.
	TickMsg struct{ At time.Time }
	// DrillEventMsg is one event of the running drill.
	DrillEventMsg struct{ Event drill.Event }
	// DrillDoneMsg ends a drill.
	DrillDoneMsg struct {
		Result *drill.Result
		Err    error
	}
)

// keys of every screen.
type keyMap struct {
	Quit, Help, Jump, Filter, Back, Refresh, Next, Prev, Up, Down, Left, Right, Enter key.Binding
}

func newKeys() keyMap {
	return keyMap{
		Quit:    key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit (a drill heals first)")),
		Help:    key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		Jump:    key.NewBinding(key.WithKeys(":"), key.WithHelp(":", "jump to a screen by name")),
		Filter:  key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter the list")),
		Back:    key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back, close")),
		Refresh: key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "read the cluster again")),
		Next:    key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "next screen")),
		Prev:    key.NewBinding(key.WithKeys("shift+tab"), key.WithHelp("shift+tab", "previous screen")),
		Up:      key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:    key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		Left:    key.NewBinding(key.WithKeys("left", "h"), key.WithHelp("←/h", "left, previous value")),
		Right:   key.NewBinding(key.WithKeys("right", "l"), key.WithHelp("→/l", "right, next value")),
		Enter:   key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "open, confirm")),
	}
}

// Model is the TUI's state. It is a pointer: bubbletea keeps the one
// value, so a drill's cancel and done channel outlive the program.
type Model struct {
	ctx    context.Context
	o      Options
	st     styles
	keys   keyMap
	now    func() time.Time
	width  int
	height int
	screen Screen
	help   bool
	// input is the one-line prompt at the bottom, prompt its kind.
	input  textinput.Model
	prompt promptKind

	// Data: the inputs read, the report evaluated from them (with the
	// what-if changes), the baseline report without them, the matrix and
	// its history.
	inputs    *advise.Inputs
	readAt    time.Time
	readErr   error
	report    *rules.Report
	baseline  *rules.Report
	evalErr   error
	matrix    *probe.Matrix
	matrixErr error
	history   map[[2]string][]float64
	// historyAt is when each cell's last recorded round was measured.
	historyAt map[[2]string]time.Time
	// loading: a read of the cluster is in flight; reading: one of the
	// matrix. One of each at a time, so a slow cluster does not pile them
	// up and an old answer never replaces a newer one.
	loading, reading bool
	// oneShot: the matrix is a one-shot probe's, kept over reads of the
	// cluster (which find no agents' matrix).
	oneShot bool
	probing bool
	// ticks counts refresh ticks: the matrix is read on every one, the
	// cluster on every gatherEvery-th.
	ticks int

	latency   latencyState
	findings  findingsState
	scenarios scenarioState
	drill     drillState
}

// New builds the model; Init starts reading.
func New(ctx context.Context, o Options) *Model {
	if o.Now == nil {
		o.Now = time.Now
	}
	m := &Model{ctx: ctx, o: o, st: newStyles(o.Profile), keys: newKeys(), now: o.Now, width: 100, height: 30,
		history: map[[2]string][]float64{}, historyAt: map[[2]string]time.Time{}}
	m.input = textinput.New()
	m.drill = newDrillState(o)
	return m
}

// Init implements tea.Model: the first read (the inputs carry the
// matrix of their time).
func (m *Model) Init() tea.Cmd { return tea.Batch(m.gather(), m.tick()) }

// screenKeys reports whether the screens take keys: not before the first
// read, nor without a report.
func (m *Model) screenKeys() bool { return m.inputs != nil && m.report != nil }

// gatherEvery is how many refresh ticks pass between two reads of the
// cluster; the agents' matrix is read on every tick.
const gatherEvery = 6

// gather reads the inputs in a command (none while one is in flight).
func (m *Model) gather() tea.Cmd {
	if m.loading {
		return nil
	}
	m.loading = true
	eng, ctx, now := m.o.Engine, m.ctx, m.now
	return func() tea.Msg {
		in, err := eng.Gather(ctx)
		return InputsMsg{Inputs: in, Err: err, At: now()}
	}
}

// readMatrix reads the agents' matrix (none while one is in flight, or
// while the matrix is a one-shot probe's).
func (m *Model) readMatrix() tea.Cmd {
	if m.reading || m.oneShot {
		return nil
	}
	m.reading = true
	eng, ctx := m.o.Engine, m.ctx
	return func() tea.Msg {
		mx, err := eng.Matrix(ctx)
		return MatrixMsg{Matrix: mx, Err: err}
	}
}

// probeOnce measures once from here (no agent reports).
func (m *Model) probeOnce() tea.Cmd {
	eng, ctx := m.o.Engine, m.ctx
	m.probing = true
	return func() tea.Msg {
		mx, err := eng.Probe(ctx)
		return MatrixMsg{Matrix: mx, Err: err, OneShot: true}
	}
}

func (m *Model) tick() tea.Cmd {
	if m.o.Refresh <= 0 {
		return nil
	}
	return tea.Tick(m.o.Refresh, func(t time.Time) tea.Msg { return TickMsg{At: t} })
}

// screens lists the screens shown (no drill screen when read-only).
func (m *Model) screens() []Screen {
	if m.o.ReadOnly {
		return []Screen{Overview, Latency, Findings, Scenarios}
	}
	return []Screen{Overview, Latency, Findings, Scenarios, Drill}
}

// Update implements tea.Model.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		return m, nil
	case InputsMsg:
		m.loading = false
		m.readAt, m.readErr = msg.At, msg.Err
		if msg.Err == nil {
			m.inputs = msg.Inputs
			switch {
			case msg.Inputs.Matrix != nil:
				m.oneShot = false
				m.setMatrix(msg.Inputs.Matrix)
			case m.oneShot && m.matrix != nil:
				m.inputs.SetMatrix(m.matrix) // no agents: keep the probe's
			}
			m.reevaluate()
		}
		return m, nil
	case MatrixMsg:
		if msg.OneShot {
			m.probing = false
		} else {
			m.reading = false
		}
		if msg.Err != nil {
			m.matrixErr = msg.Err
			return m, nil
		}
		m.matrixErr = nil
		if msg.Matrix != nil && m.inputs != nil {
			m.oneShot = msg.OneShot
			m.inputs.SetMatrix(msg.Matrix)
			m.setMatrix(msg.Matrix)
			m.reevaluate()
		}
		return m, nil
	case TickMsg:
		m.ticks++
		next := m.tick()
		if m.drill.running {
			return m, next // the cluster is busy being broken
		}
		if m.ticks%gatherEvery == 0 {
			return m, tea.Batch(next, m.gather())
		}
		return m, tea.Batch(next, m.readMatrix())
	case DrillEventMsg:
		m.drill.event(msg.Event)
		return m, m.drill.next()
	case DrillDoneMsg:
		m.drill.finish(msg.Result, msg.Err)
		if m.drill.quitAfter {
			return m, tea.Quit
		}
		return m, m.gather()
	case tea.MouseMsg:
		return m, m.mouse(msg)
	case tea.KeyMsg:
		return m, m.key(msg)
	}
	return m, nil
}

// key handles a key: a prompt first, then the global keys, then the
// screen's.
func (m *Model) key(msg tea.KeyMsg) tea.Cmd {
	if m.prompt != promptNone {
		return m.promptKey(msg)
	}
	if m.screen == Drill && m.drill.capturesKeys() && m.screenKeys() {
		if key.Matches(msg, m.keys.Quit) && msg.String() == "ctrl+c" {
			return m.quit()
		}
		return m.drill.key(m, msg)
	}
	switch {
	case key.Matches(msg, m.keys.Quit):
		return m.quit()
	case key.Matches(msg, m.keys.Help):
		m.help = !m.help
		return nil
	case key.Matches(msg, m.keys.Back):
		if m.help {
			m.help = false
			return nil
		}
	case key.Matches(msg, m.keys.Jump):
		return m.ask(promptJump, "")
	case key.Matches(msg, m.keys.Filter) && m.screen == Findings && m.screenKeys():
		return m.ask(promptFilter, m.findings.filter)
	case key.Matches(msg, m.keys.Refresh):
		m.oneShot = false
		return tea.Batch(m.gather(), m.readMatrix())
	case key.Matches(msg, m.keys.Next), key.Matches(msg, m.keys.Prev):
		ss := m.screens()
		i := indexOf(ss, m.screen)
		if key.Matches(msg, m.keys.Next) {
			i = (i + 1) % len(ss)
		} else {
			i = (i + len(ss) - 1) % len(ss)
		}
		m.screen = ss[i]
		return nil
	}
	if s := msg.String(); len(s) == 1 && s[0] >= '1' && s[0] <= '9' {
		if i := int(s[0] - '1'); i < len(m.screens()) {
			m.screen = m.screens()[i]
			return nil
		}
	}
	if !m.screenKeys() {
		return nil
	}
	switch m.screen {
	case Latency:
		return m.latency.key(m, msg)
	case Findings:
		m.findings.key(m, msg)
	case Scenarios:
		return m.scenarios.key(m, msg)
	case Drill:
		return m.drill.key(m, msg)
	case Overview:
	}
	return nil
}

// stopDrill heals a drill still running and waits for it.
func (m *Model) stopDrill() { m.drill.stopDrill() }

// quit leaves, healing a running drill first.
func (m *Model) quit() tea.Cmd {
	if m.drill.running {
		m.drill.quitAfter = true
		m.drill.cancel()
		return nil
	}
	return tea.Quit
}

// promptKind says what the bottom prompt asks for.
type promptKind int

const (
	promptNone promptKind = iota
	promptJump
	promptFilter
	promptBrokers
	promptClient
	promptGoals
)

var promptSigns = map[promptKind]string{
	promptJump: ":", promptFilter: "/", promptBrokers: "brokers down: ", promptClient: "move client FILE=DC: ", promptGoals: "goals: ",
}

// ask opens the prompt with a value.
func (m *Model) ask(k promptKind, value string) tea.Cmd {
	m.prompt = k
	m.input.Prompt = promptSigns[k]
	m.input.SetValue(value)
	m.input.CursorEnd()
	return m.input.Focus()
}

func (m *Model) promptKey(msg tea.KeyMsg) tea.Cmd {
	switch msg.Type {
	case tea.KeyCtrlC:
		m.prompt = promptNone
		m.input.Blur()
		return m.quit()
	case tea.KeyEsc:
		if m.prompt == promptFilter {
			m.findings.setFilter("")
		}
		m.prompt = promptNone
		m.input.Blur()
		return nil
	case tea.KeyEnter:
		v := strings.TrimSpace(m.input.Value())
		k := m.prompt
		m.prompt = promptNone
		m.input.Blur()
		switch k {
		case promptJump:
			for _, s := range m.screens() {
				if v != "" && strings.HasPrefix(s.String(), strings.ToLower(v)) {
					m.screen = s
					break
				}
			}
		case promptBrokers, promptClient, promptGoals:
			m.scenarios.answer(m, k, v)
		}
		return nil
	}
	var cmd tea.Cmd
	m.input, cmd = m.input.Update(msg)
	if m.prompt == promptFilter {
		m.findings.setFilter(m.input.Value())
	}
	return cmd
}

// mouse: a click on the tab bar switches screens; the wheel scrolls.
func (m *Model) mouse(msg tea.MouseMsg) tea.Cmd {
	if msg.Action == tea.MouseActionPress && msg.Button == tea.MouseButtonLeft && msg.Y == 0 {
		x := 0
		for i, s := range m.screens() {
			w := lipgloss.Width(m.st.tab.Render(tabLabel(i, s)))
			if msg.X >= x && msg.X < x+w {
				m.screen = s
				return nil
			}
			x += w
		}
	}
	if msg.Button == tea.MouseButtonWheelDown {
		return m.key(tea.KeyMsg{Type: tea.KeyDown})
	}
	if msg.Button == tea.MouseButtonWheelUp {
		return m.key(tea.KeyMsg{Type: tea.KeyUp})
	}
	return nil
}

// failOn is the severity the TUI's verdicts fail at (check's default).
const failOn = rules.High

// reevaluate runs the rules over the inputs, and again with the what-if:
// pure, no round trip to the cluster.
func (m *Model) reevaluate() {
	if m.inputs == nil {
		return
	}
	base, err := m.inputs.Evaluate(failOn)
	if err != nil {
		m.baseline, m.report, m.evalErr = nil, nil, err
		m.findings.invalidate()
		return
	}
	m.baseline, m.report, m.evalErr = base, base, nil
	if w := m.scenarios.whatIf; !w.Empty() {
		in, err := m.inputs.WhatIf(w)
		if err == nil {
			m.report, err = in.Evaluate(failOn)
		}
		if err != nil {
			m.report, m.evalErr = base, err
		}
	}
	m.findings.invalidate()
}

// setMatrix keeps the matrix and the history of its cells.
func (m *Model) setMatrix(mx *probe.Matrix) {
	m.matrix = mx
	m.recordHistory()
}

// recordHistory keeps the last round trips of every cell (sparklines),
// each measured round once.
func (m *Model) recordHistory() {
	for _, c := range m.matrix.Cells {
		k := [2]string{c.From, c.To}
		if c.RoundTripMs == nil || c.Stale || !c.At.After(m.historyAt[k]) {
			continue
		}
		m.historyAt[k] = c.At
		h := append(m.history[k], *c.RoundTripMs)
		if len(h) > 30 {
			h = h[len(h)-30:]
		}
		m.history[k] = h
	}
}

// View implements tea.Model.
func (m *Model) View() string {
	if m.height < 3 || m.width < 10 {
		return clip("stretchctl: the terminal is too small", m.width, max(m.height, 1))
	}
	var b strings.Builder
	b.WriteString(truncate(m.tabBar(), m.width))
	b.WriteString("\n")
	h := m.height - 2
	var body string
	switch {
	case m.help:
		body = m.helpView()
	case m.inputs == nil && m.readErr != nil:
		body = m.st.bad.Render("could not read the cluster: ") + m.readErr.Error() + "\n\n" + m.st.faint.Render("r to try again, q to quit")
	case m.inputs == nil:
		body = m.st.faint.Render("reading the cluster…")
	case m.report == nil:
		body = m.st.bad.Render("could not evaluate the cluster: ") + fmt.Sprint(m.evalErr)
	default:
		switch m.screen {
		case Overview:
			body = m.overviewView()
		case Latency:
			body = m.latencyView()
		case Findings:
			body = m.findingsView()
		case Scenarios:
			body = m.scenariosView()
		case Drill:
			body = m.drillView()
		}
	}
	b.WriteString(clip(body, m.width, h))
	b.WriteString("\n")
	b.WriteString(truncate(m.statusLine(), m.width))
	return b.String()
}

func (m *Model) tabBar() string {
	var parts []string
	for i, s := range m.screens() {
		label := tabLabel(i, s)
		if s == m.screen {
			parts = append(parts, m.st.activeTab.Render(label))
		} else {
			parts = append(parts, m.st.tab.Render(label))
		}
	}
	return lipgloss.JoinHorizontal(lipgloss.Top, parts...)
}

// tabLabel is the i-th tab's text.
func tabLabel(i int, s Screen) string { return fmt.Sprintf("%d %s", i+1, s) }

func (m *Model) statusLine() string {
	hints := map[promptKind]string{
		promptJump:    "overview, latency, findings, scenarios, drill; enter, esc",
		promptFilter:  "rule, topic, text; enter keeps it, esc clears",
		promptBrokers: "node ids, e.g. 1,4; empty: none",
		promptClient:  "e.g. producer.properties=dc-b; empty: back where they run",
		promptGoals:   "e.g. rto=45s rpo=0; empty: stretch.yaml's",
	}
	if m.prompt != promptNone {
		return m.input.View() + m.st.faint.Render("  ("+hints[m.prompt]+")")
	}
	var parts []string
	if m.report != nil {
		parts = append(parts, "cluster "+m.report.Cluster)
	}
	if !m.readAt.IsZero() {
		parts = append(parts, "read "+ago(m.now().Sub(m.readAt))+" ago")
	}
	if m.loading {
		parts = append(parts, "reading…")
	}
	if m.readErr != nil && m.inputs != nil {
		parts = append(parts, m.st.bad.Render("last read failed: ")+m.readErr.Error())
	}
	if w := m.scenarios.whatIf; !w.Empty() {
		parts = append(parts, m.st.warn.Render("WHAT-IF: "+w.String()))
	}
	if m.drill.running {
		parts = append(parts, m.st.bad.Render("DRILL "+string(m.drill.phase)))
	}
	parts = append(parts, m.st.faint.Render("? help · : jump · q quit"))
	return strings.Join(parts, " · ")
}

func (m *Model) helpView() string {
	rows := [][2]string{
		{"1-5, tab, shift+tab", "switch screens; : then a name jumps to one; a click on a tab too"},
		{"↑/↓ (k/j), wheel", "move in a list"},
		{"←/→ (h/l)", "latency: move in the matrix; drill: change a value"},
		{"enter", "open the detail, confirm"},
		{"/", "findings: filter by rule, topic or text (esc clears)"},
		{"s", "findings: show or hide suppressed findings"},
		{"d, b, m, g, x", "scenarios, what-if: a DC down (cycles), brokers down, move a client, goals, reset"},
		{"p", "latency: probe once from here (when no agent reports)"},
		{"enter on the form", "drill: start (you confirm by typing the cluster id)"},
		{"r", "read the cluster and the agents' matrix again"},
		{"esc", "close help, a prompt, a detail"},
		{"?", "this help"},
		{"q, ctrl+c", "quit; a running drill is healed first"},
	}
	var b strings.Builder
	b.WriteString(m.st.title.Render("Keys") + "\n\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "  %-22s %s\n", r[0], r[1])
	}
	if m.o.ReadOnly {
		b.WriteString("\n" + m.st.faint.Render("read-only: the drill screen is hidden") + "\n")
	}
	return b.String()
}

// clip cuts a view to w columns and h lines.
func clip(s string, w, h int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if h > 0 && len(lines) > h {
		lines = append(lines[:h-1], "…")
	}
	for i, l := range lines {
		if lipgloss.Width(l) > w {
			lines[i] = truncate(l, w)
		}
	}
	for len(lines) < h {
		lines = append(lines, "")
	}
	return strings.Join(lines, "\n")
}

func ago(d time.Duration) string {
	switch {
	case d < time.Second:
		return "<1s"
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}

func indexOf(ss []Screen, s Screen) int {
	for i, x := range ss {
		if x == s {
			return i
		}
	}
	return 0
}
