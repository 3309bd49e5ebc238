package tui

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/stretchctl/stretchctl/advise"
	"github.com/stretchctl/stretchctl/rules"
)

// scenarioState is the scenarios screen: the selected scenario and the
// what-if applied to every scenario at once.
type scenarioState struct {
	cursor int
	whatIf advise.WhatIf
	// err is why the last what-if answer was refused.
	err string
}

func (s *scenarioState) key(m *Model, msg tea.KeyMsg) tea.Cmd {
	n := 0
	if m.report != nil {
		n = len(m.report.Scenarios)
	}
	switch {
	case key.Matches(msg, m.keys.Up):
		s.cursor = max(s.cursor-1, 0)
	case key.Matches(msg, m.keys.Down):
		s.cursor = min(s.cursor+1, max(n-1, 0))
	case msg.String() == "d":
		s.cycleDC(m)
	case msg.String() == "b":
		return m.ask(promptBrokers, joinIDs(s.whatIf.DownBrokers))
	case msg.String() == "m":
		return m.ask(promptClient, "")
	case msg.String() == "g":
		return m.ask(promptGoals, s.goalsText(m))
	case msg.String() == "x":
		s.whatIf, s.err = advise.WhatIf{}, ""
		m.reevaluate()
	}
	return nil
}

// cycleDC marks the next DC down: none, each DC in turn, none.
func (s *scenarioState) cycleDC(m *Model) {
	dcs := m.inputs.Config.Topology.DCs
	next := 0
	if len(s.whatIf.DownDCs) > 0 {
		for i, dc := range dcs {
			if dc == s.whatIf.DownDCs[0] {
				next = i + 1
			}
		}
	}
	if next >= len(dcs) {
		s.whatIf.DownDCs = nil
	} else {
		s.whatIf.DownDCs = []string{dcs[next]}
	}
	s.apply(m, s.whatIf)
}

// apply re-evaluates with w, or keeps the last what-if and says why not.
func (s *scenarioState) apply(m *Model, w advise.WhatIf) {
	if _, err := m.inputs.WhatIf(w); err != nil && !w.Empty() {
		s.err = err.Error()
		return
	}
	s.whatIf, s.err = w, ""
	m.reevaluate()
}

// answer reads what the prompt asked for.
func (s *scenarioState) answer(m *Model, k promptKind, v string) {
	w := s.whatIf
	switch k {
	case promptBrokers:
		w.DownBrokers = nil
		for _, f := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' }) {
			id, err := strconv.ParseInt(f, 10, 32)
			if err != nil {
				s.err = fmt.Sprintf("brokers down: %q is not a node id", f)
				return
			}
			w.DownBrokers = append(w.DownBrokers, int32(id))
		}
	case promptClient:
		if v == "" {
			w.ClientDC = nil
			break
		}
		file, dc, ok := strings.Cut(v, "=")
		if !ok {
			s.err = fmt.Sprintf("move client: %q: want FILE=DC", v)
			return
		}
		moved := map[string]string{}
		for f, d := range w.ClientDC {
			moved[f] = d
		}
		moved[strings.TrimSpace(file)] = strings.TrimSpace(dc)
		w.ClientDC = moved
	case promptGoals:
		w.RTO, w.RPO = nil, nil
		for _, f := range strings.Fields(v) {
			name, val, _ := strings.Cut(f, "=")
			switch strings.ToLower(name) {
			case "rto":
				d, err := time.ParseDuration(val)
				if err != nil {
					s.err = fmt.Sprintf("goals: rto %q: %v", val, err)
					return
				}
				w.RTO = &d
			case "rpo":
				n, err := strconv.ParseInt(val, 10, 64)
				if err != nil {
					s.err = fmt.Sprintf("goals: rpo %q: want a number of records", val)
					return
				}
				w.RPO = &n
			default:
				s.err = fmt.Sprintf("goals: %q: want rto=DURATION or rpo=RECORDS", f)
				return
			}
		}
	}
	s.apply(m, w)
}

// goalsText is the goals prompt's starting value.
func (s *scenarioState) goalsText(m *Model) string {
	g := m.inputs.Config.Goals
	rto, rpo := g.RTO.Duration, g.RPO
	if s.whatIf.RTO != nil {
		rto = *s.whatIf.RTO
	}
	if s.whatIf.RPO != nil {
		rpo = *s.whatIf.RPO
	}
	return fmt.Sprintf("rto=%v rpo=%d", rto, rpo)
}

func (m *Model) scenariosView() string {
	s := &m.scenarios
	rep := m.report
	var b strings.Builder
	b.WriteString(m.st.title.Render("Scenarios") + ": what losing, crashing or cutting off each DC does")
	if s.whatIf.Empty() {
		b.WriteString(" (as read)\n")
	} else {
		b.WriteString(" — " + m.st.warn.Render("what-if: "+s.whatIf.String()) + "\n")
	}
	if s.err != "" {
		b.WriteString(m.st.bad.Render(s.err) + "\n")
	}
	if m.evalErr != nil {
		b.WriteString(m.st.bad.Render("what-if not applied: "+m.evalErr.Error()) + "\n")
	}
	b.WriteString(m.verdictLine(rep) + "\n\n")
	if len(rep.Scenarios) == 0 {
		b.WriteString(m.st.faint.Render("no scenario: topology.dcs lists no DC with brokers") + "\n")
		return b.String()
	}
	s.cursor = min(s.cursor, len(rep.Scenarios)-1)
	var base []rules.Scenario
	if !s.whatIf.Empty() && m.baseline != nil {
		base = m.baseline.Scenarios
	}
	b.WriteString(m.scenarioTable(rep.Scenarios, s.cursor, base))
	b.WriteString("\n" + m.scenarioDetail(rep.Scenarios[s.cursor], base))
	b.WriteString("\n" + m.st.faint.Render("what-if: d a DC down · b brokers down · m move a client · g goals · x reset") + "\n")
	return b.String()
}

// scenarioDetail: why, the RTO's breakdown, the topics it hits.
func (m *Model) scenarioDetail(sc rules.Scenario, base []rules.Scenario) string {
	var b strings.Builder
	w := m.width - 4
	b.WriteString(m.st.bold.Render(sc.Name) + fmt.Sprintf(": predicted RTO %s", seconds(sc.PredictedRTOSeconds)))
	for _, x := range base {
		if x.Name == sc.Name && changed(x, sc) {
			b.WriteString(m.st.warn.Render(fmt.Sprintf(" (as read: RTO %s, goals met %v, %d without writes, %d at risk of loss)",
				seconds(x.PredictedRTOSeconds), x.GoalsMet, x.WriteUnavailable, x.AckedLossPossible)))
		}
	}
	b.WriteString("\n")
	for _, why := range sc.Why {
		b.WriteString("• " + wrap(why, w, "  ") + "\n")
	}
	if len(sc.RTOBreakdown) > 0 {
		b.WriteString(m.st.bold.Render("RTO breakdown") + "\n")
		for _, t := range sc.RTOBreakdown {
			fmt.Fprintf(&b, "  %s %6.1fs  %s\n", pad(t.Name, 26), t.Seconds, m.st.faint.Render(t.Note))
		}
	}
	hit := 0
	for _, t := range sc.Topics {
		if t.WriteUnavailable+t.ReadUnavailable+t.AckedLossPossible > 0 {
			hit++
		}
	}
	if len(sc.Topics) > 0 {
		b.WriteString(m.st.bold.Render(fmt.Sprintf("topics with replicas in %s: %d, %d hit", sc.DC, len(sc.Topics), hit)) + "\n")
		shown := 0
		for _, t := range sc.Topics {
			if t.WriteUnavailable+t.ReadUnavailable+t.AckedLossPossible == 0 || shown == 8 {
				continue
			}
			shown++
			fmt.Fprintf(&b, "  %s %d/%d without writes, %d without reads, %d at risk of loss, RTO %s\n", pad(t.Topic, 24),
				t.WriteUnavailable, t.Partitions, t.ReadUnavailable, t.AckedLossPossible, seconds(t.PredictedRTOSeconds))
		}
		if hit > shown {
			fmt.Fprintf(&b, "  … %d more\n", hit-shown)
		}
	}
	return b.String()
}

func joinIDs(ids []int32) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.Itoa(int(id))
	}
	return strings.Join(s, ",")
}
