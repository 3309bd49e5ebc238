// Package report renders a rules.Report for people and for CI: aligned
// text for a terminal, the report's own JSON, JUnit XML and SARIF 2.1.0
// for CI systems, and Markdown for a pull-request comment; and a
// drill.Result as text, JSON, Markdown or self-contained HTML.
//
// It imports only the nouns it renders (rules, drill), never Kafka,
// Kubernetes or netlink packages. It only formats: it evaluates nothing (the verdict, counts and goals
// come from the report as rules made it) and does no I/O besides writing
// to the writer it is given. It never inspects the terminal either; the
// caller decides whether text is coloured (Options.Color).
package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/stretchctl/stretchctl/rules"
)

// Format names an output format, as given to --format.
type Format string

// Output formats.
const (
	// Text is for people at a terminal: scenario summary, verdict,
	// findings by severity, suppressed findings, notes.
	Text Format = "text"
	// JSON is the rules.Report itself, with its documented field names.
	JSON Format = "json"
	// JUnit is JUnit XML, one test suite per rule category plus one for
	// the scenarios, as GitHub, GitLab and Jenkins render it.
	JUnit Format = "junit"
	// SARIF is SARIF 2.1.0, for code scanning (one rule per finding ID).
	SARIF Format = "sarif"
	// Markdown is fit for a pull-request comment.
	Markdown Format = "markdown"
)

// Formats lists the formats Write accepts, in the order help texts show them.
func Formats() []Format { return []Format{Text, JSON, JUnit, SARIF, Markdown} }

// ParseFormat reads a format name (case-insensitive, surrounding spaces
// ignored); the error lists the valid ones.
func ParseFormat(s string) (Format, error) { return parseIn(s, Formats(), "") }

func unknownFormat(s string) error { return unknownIn(s, Formats(), "") }

// parseIn finds s among formats; kind names the report in the error.
func parseIn(s string, formats []Format, kind string) (Format, error) {
	want := strings.ToLower(strings.TrimSpace(s))
	for _, f := range formats {
		if string(f) == want {
			return f, nil
		}
	}
	return "", unknownIn(s, formats, kind)
}

// unknownIn reads e.g. `unknown format "xml" (want text, json or junit)`.
func unknownIn(s string, formats []Format, kind string) error {
	names := make([]string, len(formats))
	for i, f := range formats {
		names[i] = string(f)
	}
	list := names[len(names)-1]
	if len(names) > 1 {
		list = strings.Join(names[:len(names)-1], ", ") + " or " + list
	}
	return fmt.Errorf("unknown %sformat %q (want %s)", kind, s, list)
}

// Options tune the rendering.
type Options struct {
	// Color styles the text format with ANSI colours (lipgloss). Leave it
	// false when the output is not a terminal: plain text is stable.
	// Other formats ignore it.
	Color bool
	// Tool names the tool in JUnit, SARIF and Markdown; "stretchctl" when
	// empty.
	Tool string
	// Version is the tool's version, shown when set.
	Version string
	// ConfigFile is the stretch.yaml the check read. SARIF points findings
	// without a Location at it, because code scanning (GitHub) needs a
	// file for every result; leave it empty and those results carry only
	// a logical location named by the subject.
	ConfigFile string
}

func (o Options) tool() string {
	if o.Tool == "" {
		return "stretchctl"
	}
	return o.Tool
}

// toolVersion is "stretchctl v1.2.3", or just the tool without a version.
func (o Options) toolVersion() string {
	if o.Version == "" {
		return o.tool()
	}
	return o.tool() + " " + o.Version
}

// Write renders r in format f (one of the constants; ParseFormat reads a
// user's name for one) to w. The output is rendered in full before it is
// written, so nothing is written when rendering fails; a write error is
// returned as is.
func Write(w io.Writer, r *rules.Report, f Format, o Options) error {
	if r == nil {
		return errors.New("render report: no report")
	}
	var (
		b   []byte
		err error
	)
	switch f {
	case Text:
		b = renderText(r, o)
	case JSON:
		b, err = renderJSON(r)
	case JUnit:
		b, err = renderJUnit(r, o)
	case SARIF:
		b, err = renderSARIF(r, o)
	case Markdown:
		b = renderMarkdown(r, o)
	default:
		return fmt.Errorf("render report: %w", unknownFormat(string(f)))
	}
	if err != nil {
		return fmt.Errorf("render %s report: %w", f, err)
	}
	_, err = w.Write(b)
	return err
}

// renderJSON writes the report with its own JSON field names, indented
// as rules.Report.JSON does, but without escaping <, > and & (messages
// hold comparisons such as "m < 2"): the same JSON value, readable raw.
func renderJSON(r *rules.Report) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// severitiesDesc lists the severities, most severe first: the order
// findings and counts are shown in.
func severitiesDesc() []rules.Severity {
	return []rules.Severity{rules.Critical, rules.High, rules.Medium, rules.Low, rules.Info}
}

// bySeverity returns the findings most severe first, keeping the report's
// order within a severity.
func bySeverity(fs []rules.Finding) []rules.Finding {
	out := slices.Clone(fs)
	slices.SortStableFunc(out, func(a, b rules.Finding) int { return int(b.Severity) - int(a.Severity) })
	return out
}

// suppressed returns the findings the config's ignore list suppressed.
func suppressed(r *rules.Report) []rules.Finding {
	var out []rules.Finding
	for _, f := range r.Findings {
		if f.Suppressed != "" {
			out = append(out, f)
		}
	}
	return out
}

// counts returns the unsuppressed findings per severity name: the
// report's Counts when rules filled them in, else counted here.
func counts(r *rules.Report) map[string]int {
	if r.Counts != nil {
		return r.Counts
	}
	c := map[string]int{}
	for _, f := range r.Active() {
		c[f.Severity.String()]++
	}
	return c
}

// countsLine is "2 critical, 1 high, 0 medium, 3 low, 1 info".
func countsLine(r *rules.Report) string {
	c := counts(r)
	parts := make([]string, 0, 5)
	for _, s := range severitiesDesc() {
		parts = append(parts, fmt.Sprintf("%d %s", c[s.String()], s))
	}
	return strings.Join(parts, ", ")
}

// fails reports whether an unsuppressed finding fails the verdict.
func fails(r *rules.Report, f rules.Finding) bool {
	return f.Suppressed == "" && f.Severity >= r.FailOn
}

// category is the rule family of a finding ID: "topology" (TOP-), "rpo"
// (RPO-), "rto" (RTO-), else "other".
func category(id string) string {
	prefix, _, _ := strings.Cut(id, "-")
	switch strings.ToUpper(prefix) {
	case "TOP":
		return "topology"
	case "RPO":
		return "rpo"
	case "RTO":
		return "rto"
	}
	return "other"
}

// seconds renders a duration in seconds the way goals are written: "30s",
// "12.5s".
func seconds(v float64) string {
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return "unbounded"
	}
	return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64) + "s"
}

// predictedRTO is "≈ 31s", or "unbounded" when writes do not resume on
// their own.
func predictedRTO(s rules.Scenario) string {
	if s.PredictedRTOSeconds == nil {
		return "unbounded"
	}
	return "≈ " + seconds(*s.PredictedRTOSeconds)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// scenarioSummary says in one line what a scenario does: "writes stop on
// 12 partitions, acked data at risk on 4, quorum lost, RTO unbounded
// (goal 30s)".
func scenarioSummary(s rules.Scenario, g rules.Goals) string {
	var parts []string
	if s.WriteUnavailable > 0 {
		parts = append(parts, fmt.Sprintf("writes stop on %d %s", s.WriteUnavailable, plural(s.WriteUnavailable, "partition", "partitions")))
	} else {
		parts = append(parts, "writes continue")
	}
	if s.ReadUnavailable > 0 {
		parts = append(parts, fmt.Sprintf("reads stop on %d", s.ReadUnavailable))
	}
	if s.AckedLossPossible > 0 {
		parts = append(parts, fmt.Sprintf("acked data at risk on %d", s.AckedLossPossible))
	} else {
		parts = append(parts, "no acked data at risk")
	}
	if s.QuorumSurvives {
		parts = append(parts, "quorum survives")
	} else {
		parts = append(parts, "quorum lost")
	}
	parts = append(parts, fmt.Sprintf("RTO %s (goal %s)", predictedRTO(s), seconds(g.RTOSeconds)))
	return strings.Join(parts, ", ")
}

// goalsLine is "RPO 0 acked records, RTO 30s".
func goalsLine(g rules.Goals) string {
	records := "records"
	if g.RPO == 1 {
		records = "record"
	}
	return fmt.Sprintf("RPO %d acked %s, RTO %s", g.RPO, records, seconds(g.RTOSeconds))
}

// evidencePair renders evidence as name=value, quoting a value that is
// empty, has surrounding spaces, or holds a character that would make the
// list ambiguous (',', '=', '"', a line break).
func evidencePair(e rules.Evidence) string {
	v := e.Value
	if v == "" || v != strings.TrimSpace(v) || strings.ContainsAny(v, ",=\"\n\r") {
		v = strconv.Quote(v)
	}
	return e.Name + "=" + v
}

// evidenceLine renders evidence as name=value pairs separated by ", "
// (names and values may hold spaces: "max replicas in one DC=2").
func evidenceLine(ev []rules.Evidence) string {
	parts := make([]string, 0, len(ev))
	for _, e := range ev {
		parts = append(parts, evidencePair(e))
	}
	return strings.Join(parts, ", ")
}

// locationString is "file:line", or "file" without a line.
func locationString(l *rules.Location) string {
	if l.Line > 0 {
		return fmt.Sprintf("%s:%d", l.File, l.Line)
	}
	return l.File
}

// firstSentence returns a message up to the end of its first sentence: a
// '.', '!' or '?' followed by the end or by a space and an upper-case
// letter, so "min.insync.replicas" and "e.g. a" do not end it.
func firstSentence(msg string) string {
	msg = strings.TrimSpace(msg)
	if line, _, ok := strings.Cut(msg, "\n"); ok {
		msg = strings.TrimSpace(line)
	}
	rs := []rune(msg)
	for i, c := range rs {
		if c != '.' && c != '!' && c != '?' {
			continue
		}
		if i == len(rs)-1 {
			break
		}
		if unicode.IsSpace(rs[i+1]) && i+2 < len(rs) && unicode.IsUpper(rs[i+2]) {
			return string(rs[:i+1])
		}
	}
	return msg
}

// singleLine folds text onto one line (for table cells, labels and
// attributes that must not break) and replaces control characters with
// U+FFFD, so text from a snapshot or a client file cannot carry terminal
// escape sequences into the output.
func singleLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	return strings.Map(func(r rune) rune {
		// Bidirectional controls (U+202E and the others) are invisible
		// and reorder what follows on a terminal: a name could make a
		// report line read backwards.
		if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) {
			return '\uFFFD'
		}
		return r
	}, s)
}

// findingDetails is the plain-text body of a finding, shared by JUnit.
func findingDetails(f rules.Finding) string {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s on %s\n", f.Severity, f.ID, f.Subject)
	if f.Unknown {
		b.WriteString("Unknown: the rule lacked the data to decide.\n")
	}
	fmt.Fprintf(&b, "%s\n", f.Message)
	if f.Remediation != "" {
		fmt.Fprintf(&b, "Fix: %s\n", f.Remediation)
	}
	if len(f.Evidence) > 0 {
		fmt.Fprintf(&b, "Evidence: %s\n", evidenceLine(f.Evidence))
	}
	if f.Location != nil {
		fmt.Fprintf(&b, "Location: %s\n", locationString(f.Location))
	}
	if f.Suppressed != "" {
		fmt.Fprintf(&b, "Suppressed: %s\n", f.Suppressed)
	}
	return b.String()
}

// scenarioDetails is the plain-text body of a scenario: the summary, why,
// the RTO breakdown and the impact per topic.
func scenarioDetails(s rules.Scenario, g rules.Goals) string {
	var b bytes.Buffer
	verdict := "goals met"
	if !s.GoalsMet {
		verdict = "goals violated"
	}
	fmt.Fprintf(&b, "%s: %s\n%s\n", s.Name, verdict, scenarioSummary(s, g))
	if len(s.Why) > 0 {
		b.WriteString("Why:\n")
		for _, w := range s.Why {
			fmt.Fprintf(&b, "  - %s\n", w)
		}
	}
	if len(s.RTOBreakdown) > 0 {
		b.WriteString("RTO breakdown:\n")
		for _, t := range s.RTOBreakdown {
			fmt.Fprintf(&b, "  - %s: %s", t.Name, seconds(t.Seconds))
			if t.Note != "" {
				fmt.Fprintf(&b, " (%s)", t.Note)
			}
			b.WriteString("\n")
		}
	}
	if len(s.Topics) > 0 {
		b.WriteString("Topics (partitions: total, writes stop, reads stop, acked data at risk):\n")
		for _, t := range s.Topics {
			fmt.Fprintf(&b, "  - %s: %d, %d, %d, %d\n", t.Topic, t.Partitions, t.WriteUnavailable, t.ReadUnavailable, t.AckedLossPossible)
		}
	}
	return b.String()
}
