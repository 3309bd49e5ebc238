package tui

import (
	"fmt"
	"sort"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/stretchctl/stretchctl/rules"
)

// findingsState is the findings screen: the list (most severe first,
// filtered), the cursor in it, and whether the detail of the selected
// finding is open. The list is built when the report or the filter
// changes, not on every frame.
type findingsState struct {
	filter     string
	suppressed bool
	detail     bool
	cursor     int
	// list is the findings shown; built says list is current.
	list  []rules.Finding
	built bool
}

func (f *findingsState) invalidate() { f.built = false }

func (f *findingsState) setFilter(s string) {
	f.filter, f.cursor, f.built = s, 0, false
}

func (f *findingsState) key(m *Model, msg tea.KeyMsg) {
	f.build(m.report)
	switch {
	case key.Matches(msg, m.keys.Up):
		f.cursor = max(f.cursor-1, 0)
	case key.Matches(msg, m.keys.Down):
		f.cursor = min(f.cursor+1, max(len(f.list)-1, 0))
	case msg.String() == "pgdown", msg.String() == " ":
		f.cursor = min(f.cursor+m.height/2, max(len(f.list)-1, 0))
	case msg.String() == "pgup":
		f.cursor = max(f.cursor-m.height/2, 0)
	case msg.String() == "home", msg.String() == "g":
		f.cursor = 0
	case msg.String() == "end", msg.String() == "G":
		f.cursor = max(len(f.list)-1, 0)
	case key.Matches(msg, m.keys.Enter):
		f.detail = len(f.list) > 0 && !f.detail
	case key.Matches(msg, m.keys.Back):
		if f.detail {
			f.detail = false
		} else if f.filter != "" {
			f.setFilter("")
		}
	case msg.String() == "s":
		f.suppressed, f.cursor, f.built = !f.suppressed, 0, false
	}
}

// build sorts and filters the report's findings.
func (f *findingsState) build(rep *rules.Report) {
	if f.built || rep == nil {
		return
	}
	f.built = true
	f.list = f.list[:0]
	words := strings.Fields(strings.ToLower(f.filter))
	for _, x := range rep.Findings {
		if x.Suppressed != "" && !f.suppressed {
			continue
		}
		if matches(x, words) {
			f.list = append(f.list, x)
		}
	}
	sort.SliceStable(f.list, func(i, j int) bool { return f.list[i].Severity > f.list[j].Severity })
	f.cursor = min(f.cursor, max(len(f.list)-1, 0))
}

// matches reports whether every word of the filter is in the finding's
// rule id, subject (the topic is there), message or evidence.
func matches(x rules.Finding, words []string) bool {
	if len(words) == 0 {
		return true
	}
	hay := strings.ToLower(x.ID + " " + x.Subject + " " + x.Message + " " + x.Severity.String())
	for _, w := range words {
		if !strings.Contains(hay, w) {
			return false
		}
	}
	return true
}

func (m *Model) findingsView() string {
	f := &m.findings
	f.build(m.report)
	var b strings.Builder
	head := m.st.title.Render("Findings") + fmt.Sprintf(": %d shown", len(f.list))
	if f.filter != "" {
		head += fmt.Sprintf(" matching %q", f.filter)
	}
	if f.suppressed {
		head += ", suppressed ones included (s hides them)"
	} else if n := len(m.report.Findings) - len(m.report.Active()); n > 0 {
		head += fmt.Sprintf(", %d suppressed hidden (s shows them)", n)
	}
	b.WriteString(head + "\n")
	if m.evalErr != nil {
		b.WriteString(m.st.bad.Render("what-if not applied: ") + m.evalErr.Error() + "\n")
	}
	if len(f.list) == 0 {
		b.WriteString("\n" + m.st.good.Render("nothing to show") + "\n")
		return b.String()
	}
	if f.detail {
		return b.String() + m.findingDetail(f.list[f.cursor])
	}
	// The window of rows around the cursor: group headers take a row.
	rows := m.height - 5
	type row struct {
		text string
		idx  int // -1: a header
	}
	var all []row
	cursorRow := 0
	for i, x := range f.list {
		if i == 0 || f.list[i-1].Severity != x.Severity {
			all = append(all, row{m.severityStyle(x.Severity).Render(fmt.Sprintf("── %s (%d)", x.Severity, countSeverity(f.list[i:], x.Severity))), -1})
		}
		if i == f.cursor {
			cursorRow = len(all)
		}
		all = append(all, row{idx: i})
	}
	start := max(0, min(cursorRow-rows/2, len(all)-rows))
	for r := start; r < min(len(all), start+rows); r++ {
		x := all[r]
		if x.idx < 0 {
			b.WriteString(x.text + "\n")
			continue
		}
		fd := f.list[x.idx]
		line := pad(fd.ID, 9) + pad(fd.Subject, min(max(m.width/3, 20), 44)) + fd.Message
		if fd.Suppressed != "" {
			line = "(suppressed) " + line
		}
		line = truncate(line, m.width-2)
		if x.idx == f.cursor {
			b.WriteString(m.st.selected.Render("›"+line) + "\n")
		} else {
			b.WriteString(" " + line + "\n")
		}
	}
	return b.String()
}

func countSeverity(l []rules.Finding, s rules.Severity) int {
	n := 0
	for _, x := range l {
		if x.Severity != s {
			break
		}
		n++
	}
	return n
}

func (m *Model) severityStyle(s rules.Severity) lipgloss.Style {
	switch s {
	case rules.Critical, rules.High:
		return m.st.bad
	case rules.Medium:
		return m.st.warn
	}
	return m.st.faint
}

// findingDetail: the finding, its evidence and fix, and the rule's
// explanation.
func (m *Model) findingDetail(x rules.Finding) string {
	var b strings.Builder
	w := m.width - 4
	rule, _ := rules.Lookup(x.ID)
	b.WriteString("\n" + m.severityStyle(x.Severity).Render(x.Severity.String()) + " " + m.st.bold.Render(x.ID) + " " + rule.Title + "\n")
	fmt.Fprintf(&b, "subject   %s\n", x.Subject)
	if x.Location != nil {
		loc := x.Location.File
		if x.Location.Line > 0 {
			loc += fmt.Sprintf(":%d", x.Location.Line)
		}
		fmt.Fprintf(&b, "where     %s\n", loc)
	}
	fmt.Fprintf(&b, "finding   %s\n", wrap(x.Message, w, "          "))
	if x.Unknown {
		b.WriteString("          " + m.st.warn.Render("unknown: the rule lacked the data to decide") + "\n")
	}
	for i, e := range x.Evidence {
		label := ""
		if i == 0 {
			label = "evidence"
		}
		fmt.Fprintf(&b, "%s%s = %s\n", pad(label, 10), e.Name, e.Value)
	}
	if x.Remediation != "" {
		fmt.Fprintf(&b, "fix       %s\n", wrap(x.Remediation, w, "          "))
	}
	if x.Suppressed != "" {
		fmt.Fprintf(&b, "%s\n", m.st.faint.Render("suppressed: "+x.Suppressed))
	}
	if rule.Explain != "" {
		fmt.Fprintf(&b, "\n%s\n%s\n", m.st.bold.Render("why this rule"), wrap(rule.Explain, w, ""))
	}
	b.WriteString("\n" + m.st.faint.Render("esc: back to the list · ↑/↓: previous, next finding"))
	return b.String()
}
