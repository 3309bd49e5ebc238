package tui

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/stretchctl/stretchctl/probe"
)

// latencyState is the latency screen's cursor in the matrix and whether
// the per-broker detail of the cell is open.
type latencyState struct {
	row, col int
	detail   bool
}

func (l *latencyState) key(m *Model, msg tea.KeyMsg) tea.Cmd {
	n := len(m.matrixDCs())
	switch {
	case key.Matches(msg, m.keys.Up):
		l.row = max(l.row-1, 0)
	case key.Matches(msg, m.keys.Down):
		l.row = min(l.row+1, max(n-1, 0))
	case key.Matches(msg, m.keys.Left):
		l.col = max(l.col-1, 0)
	case key.Matches(msg, m.keys.Right):
		l.col = min(l.col+1, max(n-1, 0))
	case key.Matches(msg, m.keys.Enter):
		l.detail = !l.detail
	case key.Matches(msg, m.keys.Back):
		l.detail = false
	case msg.String() == "p" && !m.probing:
		return m.probeOnce()
	}
	return nil
}

// matrixDCs are the matrix's rows and columns: the config's DCs, then
// any other the agents named.
func (m *Model) matrixDCs() []string {
	dcs := append([]string(nil), m.inputs.Config.Topology.DCs...)
	if m.matrix != nil {
		for _, dc := range m.matrix.DCs {
			if dc != "" && !slices.Contains(dcs, dc) {
				dcs = append(dcs, dc)
			}
		}
	}
	return dcs
}

func (m *Model) latencyView() string {
	var b strings.Builder
	g := m.inputs.Config.Goals
	b.WriteString(m.st.title.Render("Latency") + fmt.Sprintf(": round trip, vantage DC (row) → broker DC (column); budget warn %v, fail %v\n",
		g.Latency.Warn.Duration, g.Latency.Fail.Duration))
	mx := m.matrix
	if mx == nil {
		src := m.inputs.RTTSource
		if src == "" {
			src = "no matrix file and no agents' topic to read"
		}
		b.WriteString("\n" + m.st.warn.Render("no latency measured: ") + src + "\n")
		if m.probing {
			b.WriteString("probing from here…\n")
		} else {
			b.WriteString(m.st.faint.Render("run `stretchctl probe agent` in every DC, or press p to probe once from here") + "\n")
		}
		if m.matrixErr != nil {
			b.WriteString(m.st.bad.Render("last read: ") + m.matrixErr.Error() + "\n")
		}
		return b.String()
	}
	fmt.Fprintf(&b, "%s, built %s ago\n\n", mx.Source, ago(m.now().Sub(mx.Generated)))
	dcs := m.matrixDCs()
	l := &m.latency
	l.row, l.col = min(l.row, len(dcs)-1), min(l.col, len(dcs)-1)
	const cw = 12
	b.WriteString(m.st.bold.Render(pad("from \\ to", 12)))
	for _, to := range dcs {
		b.WriteString(m.st.bold.Render(pad(to, cw)))
	}
	b.WriteString("\n")
	for i, from := range dcs {
		b.WriteString(pad(from, 12))
		for j, to := range dcs {
			text, level := m.cellText(from, to)
			cell := m.st.heat[level].Render(pad(text, cw-1))
			if i == l.row && j == l.col {
				cell = m.st.selected.Render(pad(text, cw-1))
			}
			b.WriteString(cell + " ")
		}
		b.WriteString("\n")
	}
	b.WriteString(fmt.Sprintf("  %s within  %s over warn  %s over fail  – not measured  * stale (older than %s, not used)\n\n",
		m.st.heat[1].Render(" ✓ "), m.st.heat[2].Render(" ! "), m.st.heat[3].Render(" ✗ "), time.Duration(mx.StaleAfterMs*float64(time.Millisecond))))
	from, to := dcs[l.row], dcs[l.col]
	if h := m.history[[2]string{from, to}]; len(h) > 0 {
		lo, hi := h[0], h[0]
		for _, v := range h {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
		fmt.Fprintf(&b, "%s → %s  %s  last %d rounds: now %.1f ms, min %.1f, max %.1f\n", from, to, sparkline(h, 0), len(h), h[len(h)-1], lo, hi)
	} else {
		fmt.Fprintf(&b, "%s → %s  no fresh round yet\n", from, to)
	}
	if !l.detail {
		b.WriteString(m.st.faint.Render("←↑↓→ pick a cell · enter: per-broker figures · p: probe once from here") + "\n")
		return b.String()
	}
	b.WriteString("\n" + m.brokerTable(from, to))
	return b.String()
}

// cellText is a cell's round trip and its heat level (0 none, 1 within
// the budget, 2 over warn, 3 over fail).
func (m *Model) cellText(from, to string) (string, int) {
	c, ok := m.matrix.Cell(from, to)
	switch {
	case !ok:
		return "–", 0
	case c.RoundTripMs == nil:
		if c.Connect.Failed() > 0 {
			return "failing ✗", 3
		}
		return "–", 0
	case c.Stale:
		return fmt.Sprintf("%.1f ms*", *c.RoundTripMs), 0
	}
	rtt := time.Duration(*c.RoundTripMs * float64(time.Millisecond))
	warn, fail := m.inputs.Config.Goals.LatencyBudget(from, to)
	level := 1
	switch {
	case fail > 0 && rtt >= fail:
		level = 3
	case warn > 0 && rtt >= warn:
		level = 2
	}
	// A mark as well as a colour: NO_COLOR terminals and colour-blind
	// readers see the level too.
	return fmt.Sprintf("%.1f ms", *c.RoundTripMs) + [4]string{"", "", " !", " ✗"}[level], level
}

// brokerTable is the per-broker figures behind a cell, from the newest
// report of the vantage DC's agents.
func (m *Model) brokerTable(from, to string) string {
	var b strings.Builder
	c, _ := m.matrix.Cell(from, to)
	fmt.Fprintf(&b, "%s → %s measured by %s, %s ago\n", from, to, orNone(c.Agent), ago(time.Duration(c.AgeMs*float64(time.Millisecond))))
	b.WriteString(m.st.bold.Render(pad("broker", 8)+pad("rtt", 8)+pad("request", 9)+pad("acks=1", 8)+pad("acks=all", 10)+pad("replic.", 9)+pad("e2e", 8)+"failures") + "\n")
	var rows []probe.BrokerLatency
	for _, r := range m.matrix.Reports {
		if r.Agent != c.Agent {
			continue
		}
		for _, br := range r.Brokers {
			if br.DC == to {
				rows = append(rows, br)
			}
		}
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].ID < rows[j].ID })
	if len(rows) == 0 {
		b.WriteString(m.st.faint.Render("no broker figures in the report") + "\n")
	}
	for _, br := range rows {
		failures := br.Connect.Failed() + br.Request.Failed() + br.ProduceAcks1.Failed() + br.ProduceAcksAll.Failed() + br.EndToEnd.Failed()
		fail := fmt.Sprint(failures)
		if failures > 0 {
			fail = m.st.bad.Render(fail)
		}
		id := fmt.Sprint(br.ID)
		if br.Fenced {
			id += " fenced"
		}
		fmt.Fprintf(&b, "%s%s%s%s%s%s%s%s\n", pad(id, 8), pad(p50(br.Connect), 8), pad(p50(br.Request), 9), pad(p50(br.ProduceAcks1), 8),
			pad(p50(br.ProduceAcksAll), 10), pad(p50(br.Replication), 9), pad(p50(br.EndToEnd), 8), fail)
	}
	b.WriteString(m.st.faint.Render("p50 in ms; failures: errors and timeouts of every kind") + "\n")
	return b.String()
}

// p50 is a stats' median in ms, "–" without samples.
func p50(s probe.Stats) string {
	if s.Percentiles == nil {
		return "–"
	}
	return fmt.Sprintf("%.1f", s.P50Ms)
}
