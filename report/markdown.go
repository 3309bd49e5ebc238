package report

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"github.com/stretchctl/stretchctl/rules"
)

// mdText escapes text for a Markdown table cell or list item (GitHub
// flavour): one line, with the characters that would start emphasis,
// code, links, HTML or a new cell backslash-escaped ("__consumer_offsets"
// must not turn bold).
func mdText(s string) string {
	var b strings.Builder
	for _, c := range singleLine(s) {
		if strings.ContainsRune("\\`*_[]<>|~&", c) {
			b.WriteByte('\\')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// mdCode renders s as inline code, escaping only the cell separator, or
// as escaped text when it holds a backtick.
func mdCode(s string) string {
	s = singleLine(s)
	if s == "" || strings.Contains(s, "`") {
		return mdText(s)
	}
	return "`" + strings.ReplaceAll(s, "|", `\|`) + "`"
}

// severityBadge is the severity with a coloured dot GitHub shows as emoji.
func severityBadge(s rules.Severity) string {
	dot := "⚪"
	switch {
	case s >= rules.Critical:
		dot = "🔴"
	case s == rules.High:
		dot = "🟠"
	case s == rules.Medium:
		dot = "🟡"
	case s == rules.Low:
		dot = "🔵"
	}
	return dot + " " + s.String()
}

// renderMarkdown writes a pull-request comment: a heading with the
// verdict, the scenarios table, findings by severity (low and info
// collapsed), the suppressed findings collapsed, and the notes.
func renderMarkdown(r *rules.Report, o Options) []byte {
	var b bytes.Buffer
	switch r.Verdict {
	case rules.VerdictPass:
		fmt.Fprintf(&b, "## ✅ %s: goals met\n\n", mdText(o.tool()))
	case rules.VerdictFail:
		fmt.Fprintf(&b, "## ❌ %s: goals violated\n\n", mdText(o.tool()))
	default:
		fmt.Fprintf(&b, "## ❔ %s: verdict %s\n\n", mdText(o.tool()), mdCode(r.Verdict))
	}

	var meta []string
	if r.Cluster != "" {
		meta = append(meta, "cluster "+mdCode(r.Cluster))
	}
	if !r.TakenAt.IsZero() {
		meta = append(meta, "snapshot "+r.TakenAt.UTC().Format(time.RFC3339))
	}
	meta = append(meta, "goals "+goalsLine(r.Goals), "fail-on "+r.FailOn.String())
	fmt.Fprintf(&b, "%s\n\n", strings.Join(meta, " · "))
	c := counts(r)
	var cs []string
	for _, s := range severitiesDesc() {
		cs = append(cs, fmt.Sprintf("%d %s", c[s.String()], s))
	}
	fmt.Fprintf(&b, "**%s**\n\n", strings.Join(cs, " · "))

	b.WriteString("### Scenarios\n\n")
	if len(r.Scenarios) == 0 {
		b.WriteString("No scenarios evaluated.\n\n")
	} else {
		b.WriteString("| scenario | writes stop | reads stop | acked data at risk | quorum | predicted RTO | goal |\n")
		b.WriteString("|:--|--:|--:|--:|:--|--:|:--|\n")
		for _, s := range r.Scenarios {
			quorum := "✅ survives"
			if !s.QuorumSurvives {
				quorum = "❌ lost"
			}
			goal := "✅ met"
			if !s.GoalsMet {
				goal = "❌ violated"
			}
			fmt.Fprintf(&b, "| %s | %d | %d | %d | %s | %s | %s |\n",
				mdText(s.Name), s.WriteUnavailable, s.ReadUnavailable, s.AckedLossPossible,
				quorum, predictedRTO(s), goal)
		}
		fmt.Fprintf(&b, "\nCounts are partitions; the RTO goal is %s.\n\n", seconds(r.Goals.RTOSeconds))
	}

	b.WriteString("### Findings\n\n")
	var major, minor []rules.Finding
	for _, f := range bySeverity(r.Active()) {
		if f.Severity >= rules.Medium {
			major = append(major, f)
		} else {
			minor = append(minor, f)
		}
	}
	if len(major)+len(minor) == 0 {
		b.WriteString("No findings.\n\n")
	}
	if len(major) > 0 {
		writeMarkdownFindings(&b, major)
		b.WriteString("\n")
	}
	if len(minor) > 0 {
		fmt.Fprintf(&b, "<details>\n<summary>%d low and info %s</summary>\n\n", len(minor), plural(len(minor), "finding", "findings"))
		writeMarkdownFindings(&b, minor)
		b.WriteString("\n</details>\n\n")
	}

	if sup := suppressed(r); len(sup) > 0 {
		fmt.Fprintf(&b, "<details>\n<summary>%d suppressed %s</summary>\n\n", len(sup), plural(len(sup), "finding", "findings"))
		b.WriteString("| rule | subject | reason |\n|:--|:--|:--|\n")
		for _, f := range sup {
			fmt.Fprintf(&b, "| %s | %s | %s |\n", mdCode(f.ID), mdCode(f.Subject), mdText(f.Suppressed))
		}
		b.WriteString("\n</details>\n\n")
	}

	if len(r.Notes) > 0 {
		b.WriteString("### Notes\n\n")
		for _, n := range r.Notes {
			fmt.Fprintf(&b, "- %s\n", mdText(n))
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "<sub>%s</sub>\n", mdText(o.toolVersion()))
	return b.Bytes()
}

// writeMarkdownFindings writes a findings table: severity, rule, subject,
// the finding with its evidence and location, and the fix.
func writeMarkdownFindings(b *bytes.Buffer, fs []rules.Finding) {
	b.WriteString("| severity | rule | subject | finding | fix |\n|:--|:--|:--|:--|:--|\n")
	for _, f := range fs {
		finding := mdText(f.Message)
		if f.Unknown {
			finding += " _(unknown: the rule lacked the data to decide)_"
		}
		if len(f.Evidence) > 0 {
			ev := make([]string, 0, len(f.Evidence))
			for _, e := range f.Evidence {
				ev = append(ev, mdCode(evidencePair(e)))
			}
			finding += "<br>evidence: " + strings.Join(ev, " ")
		}
		if f.Location != nil {
			finding += "<br>at " + mdCode(locationString(f.Location))
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s |\n",
			severityBadge(f.Severity), mdCode(f.ID), mdCode(f.Subject), finding, mdText(f.Remediation))
	}
}
