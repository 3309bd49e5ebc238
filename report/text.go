package report

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"github.com/stretchctl/stretchctl/rules"
)

// textStyles colour parts of the text report; without colour every style
// returns its input unchanged, so plain output has no escape sequences.
type textStyles struct {
	fail, pass, bold, faint func(string) string
	severity                func(rules.Severity, string) string
}

func plainStyle(s string) string { return s }

// newTextStyles builds the styles. Colour uses a lipgloss renderer with a
// fixed 16-colour profile over io.Discard: the caller already decided on
// colour, so nothing probes the terminal or the environment.
func newTextStyles(color bool) textStyles {
	if !color {
		return textStyles{
			fail: plainStyle, pass: plainStyle, bold: plainStyle, faint: plainStyle,
			severity: func(_ rules.Severity, s string) string { return s },
		}
	}
	re := lipgloss.NewRenderer(io.Discard, termenv.WithProfile(termenv.ANSI))
	re.SetColorProfile(termenv.ANSI)
	re.SetHasDarkBackground(true)
	red := re.NewStyle().Foreground(lipgloss.Color("1"))
	green := re.NewStyle().Foreground(lipgloss.Color("2"))
	yellow := re.NewStyle().Foreground(lipgloss.Color("3"))
	blue := re.NewStyle().Foreground(lipgloss.Color("4"))
	bold := re.NewStyle().Bold(true)
	faint := re.NewStyle().Faint(true)
	fn := func(st lipgloss.Style) func(string) string {
		return func(s string) string { return st.Render(s) }
	}
	return textStyles{
		fail:  fn(red.Bold(true)),
		pass:  fn(green.Bold(true)),
		bold:  fn(bold),
		faint: fn(faint),
		severity: func(sev rules.Severity, s string) string {
			switch {
			case sev >= rules.Critical:
				return red.Bold(true).Render(s)
			case sev == rules.High:
				return red.Render(s)
			case sev == rules.Medium:
				return yellow.Render(s)
			case sev == rules.Low:
				return blue.Render(s)
			}
			return faint.Render(s)
		},
	}
}

// row is one line of an aligned table and the style of the whole line.
type row struct {
	cells []string
	style func(string) string
}

// writeTable aligns rows with text/tabwriter, indents them by two spaces,
// then styles each line as a whole, so escape sequences never skew the
// column widths.
func writeTable(b *bytes.Buffer, rows []row) {
	var plain bytes.Buffer
	tw := tabwriter.NewWriter(&plain, 0, 0, 2, ' ', 0)
	for _, r := range rows {
		cells := make([]string, len(r.cells))
		for i, c := range r.cells {
			cells[i] = singleLine(c)
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	_ = tw.Flush() // writes to a bytes.Buffer, which does not fail
	lines := strings.Split(strings.TrimSuffix(plain.String(), "\n"), "\n")
	for i, line := range lines {
		style := plainStyle
		if i < len(rows) && rows[i].style != nil {
			style = rows[i].style
		}
		b.WriteString("  " + style(line))
		b.WriteByte('\n')
	}
}

// renderText writes the report for people: header, one line per
// scenario, verdict with counts, findings by severity, suppressed
// findings, notes.
func renderText(r *rules.Report, o Options) []byte {
	st := newTextStyles(o.Color)
	var b bytes.Buffer

	head := singleLine(o.toolVersion())
	if r.Cluster != "" {
		head += " · cluster " + singleLine(r.Cluster)
	}
	if !r.TakenAt.IsZero() {
		head += " · snapshot " + r.TakenAt.UTC().Format(time.RFC3339)
	}
	b.WriteString(st.bold(head) + "\n")
	fmt.Fprintf(&b, "goals: %s · fail-on: %s\n\n", goalsLine(r.Goals), r.FailOn)

	b.WriteString(st.bold("Scenarios") + "\n")
	if len(r.Scenarios) == 0 {
		b.WriteString("  none evaluated\n")
	} else {
		rows := make([]row, 0, len(r.Scenarios))
		for _, s := range r.Scenarios {
			mark, style := "✓", st.pass
			if !s.GoalsMet {
				mark, style = "✗", st.fail
			}
			rows = append(rows, row{cells: []string{mark, s.Name, scenarioSummary(s, r.Goals)}, style: style})
		}
		writeTable(&b, rows)
	}
	b.WriteString("\n")

	switch r.Verdict {
	case rules.VerdictPass:
		b.WriteString(st.pass("PASS: goals met"))
	case rules.VerdictFail:
		b.WriteString(st.fail("FAIL: goals violated"))
	default:
		b.WriteString(st.bold(fmt.Sprintf("verdict %q", r.Verdict))) // %q escapes control characters
	}
	fmt.Fprintf(&b, " — %s\n", countsLine(r))

	active := bySeverity(r.Active())
	if len(active) == 0 {
		b.WriteString("\nNo findings.\n")
	}
	for i := 0; i < len(active); {
		sev := active[i].Severity
		j := i
		for j < len(active) && active[j].Severity == sev {
			j++
		}
		title := fmt.Sprintf("%s (%d)", strings.ToUpper(sev.String()), j-i)
		if sev >= r.FailOn {
			title += " — fails the check"
		}
		b.WriteString("\n" + st.severity(sev, title) + "\n")
		for k, f := range active[i:j] {
			if k > 0 {
				b.WriteString("\n")
			}
			writeTextFinding(&b, f, st)
		}
		i = j
	}

	if sup := suppressed(r); len(sup) > 0 {
		fmt.Fprintf(&b, "\n%s\n", st.faint(fmt.Sprintf("Suppressed (%d)", len(sup))))
		rows := make([]row, 0, len(sup))
		for _, f := range sup {
			rows = append(rows, row{cells: []string{f.ID, f.Subject, f.Suppressed}, style: st.faint})
		}
		writeTable(&b, rows)
	}

	if len(r.Notes) > 0 {
		b.WriteString("\n" + st.bold("Notes") + "\n")
		for _, n := range r.Notes {
			fmt.Fprintf(&b, "  - %s\n", singleLine(n))
		}
	}
	return b.Bytes()
}

// writeTextFinding writes one finding: ID and subject, the message, then
// fix, evidence and location under aligned labels.
func writeTextFinding(b *bytes.Buffer, f rules.Finding, st textStyles) {
	head := "  " + st.bold(singleLine(f.ID)) + "  " + singleLine(f.Subject)
	if f.Unknown {
		head += "  [unknown: the rule lacked the data to decide]"
	}
	b.WriteString(head + "\n")
	fmt.Fprintf(b, "    %s\n", singleLine(f.Message))
	label := func(name, value string) { fmt.Fprintf(b, "    %-10s%s\n", name+":", singleLine(value)) }
	if f.Remediation != "" {
		label("fix", f.Remediation)
	}
	if len(f.Evidence) > 0 {
		label("evidence", evidenceLine(f.Evidence))
	}
	if f.Location != nil {
		label("at", locationString(f.Location))
	}
}
