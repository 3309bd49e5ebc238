package report

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/stretchctl/stretchctl/drill"
)

// HTML is a self-contained HTML page (no scripts, stylesheets or fonts
// fetched from anywhere) with the drill's timeline drawn as inline SVG.
// Only WriteDrill renders it: check reports have no timeline.
const HTML Format = "html"

// DrillFormats lists the formats WriteDrill accepts, in the order help
// texts show them.
func DrillFormats() []Format { return []Format{Text, JSON, Markdown, HTML} }

// ParseDrillFormat reads a drill --format name (case-insensitive,
// surrounding spaces ignored); the error lists the valid ones.
func ParseDrillFormat(s string) (Format, error) { return parseIn(s, DrillFormats(), "drill ") }

func unknownDrillFormat(s string) error { return unknownIn(s, DrillFormats(), "drill ") }

// maxLostShown bounds the lost records listed by text and Markdown; the
// JSON lists every one the drill kept and HTML lists them collapsed.
const maxLostShown = 20

// WriteDrill renders the result of a drill in format f (text, json,
// markdown or html) to w. Like Write, it renders in full before writing,
// so nothing is written when rendering fails. o.Tool and o.Version
// default to the result's own.
func WriteDrill(w io.Writer, r *drill.Result, f Format, o Options) error {
	if r == nil {
		return errors.New("render drill: no result")
	}
	if o.Tool == "" {
		o.Tool = r.Tool
	}
	if o.Version == "" {
		o.Version = r.Version
	}
	var (
		b   []byte
		err error
	)
	switch f {
	case Text:
		b = renderDrillText(r, o)
	case JSON:
		b, err = encodeJSON(r)
	case Markdown:
		b = renderDrillMarkdown(r, o)
	case HTML:
		b, err = renderDrillHTML(r, o)
	default:
		return fmt.Errorf("render drill: %w", unknownDrillFormat(string(f)))
	}
	if err != nil {
		return fmt.Errorf("render %s drill: %w", f, err)
	}
	_, err = w.Write(b)
	return err
}

// encodeJSON indents v with its own field names, without escaping <, >
// and & (notes hold comparisons), as renderJSON does for a check report.
func encodeJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// drillHeadline is the verdict in words: "PASS: goals met".
func drillHeadline(verdict drill.Verdict) string {
	switch verdict {
	case drill.Pass:
		return "PASS: goals met"
	case drill.Fail:
		return "FAIL: goals missed"
	case drill.Error:
		return "ERROR: the drill did not complete"
	case drill.Inconclusive:
		return "INCONCLUSIVE: resumed by another process, nothing observed"
	}
	return fmt.Sprintf("verdict %q", verdict) // %q escapes control characters
}

// faultLine is "isolate dc-a for 60s (scenario isolate dc-a)".
func faultLine(r *drill.Result) string {
	s := r.Fault.String()
	if r.Fault.Duration > 0 {
		s += " for " + seconds(r.Fault.Duration.Seconds())
	}
	if r.Scenario != "" && r.Scenario != r.Fault.String() {
		s += " (scenario " + r.Scenario + ")"
	}
	return singleLine(s)
}

// agreementLine is "prediction agrees", "prediction disagrees on 1 of 3
// points", "no scenario for this fault" and the like.
func agreementLine(r *drill.Result) string {
	switch r.Comparison.Status {
	case drill.NoScenario:
		return "no scenario for this fault: compared with the latency budget"
	case drill.NoPrediction:
		if r.Predicted != nil && r.Predicted.Error != "" {
			return "no prediction: " + singleLine(r.Predicted.Error)
		}
		return "no prediction for this fault"
	case drill.NotObserved:
		return "nothing observed to compare"
	}
	if r.Predicted == nil {
		return "no prediction for this fault"
	}
	if r.Comparison.Agree {
		return "prediction agrees"
	}
	n := 0
	for _, p := range r.Comparison.Points {
		if !p.Agree {
			n++
		}
	}
	if n == 0 {
		return "prediction disagrees"
	}
	return fmt.Sprintf("prediction disagrees on %d of %d %s", n, len(r.Comparison.Points),
		plural(len(r.Comparison.Points), "point", "points"))
}

// workloadLine is "topic orders · 12 partitions · 2 producers in dc-a ·
// 1000 records/s".
func workloadLine(wl drill.Workload) string {
	var parts []string
	if wl.Topic != "" {
		parts = append(parts, "topic "+wl.Topic)
	}
	parts = append(parts, partitions(wl.Partitions))
	prod := fmt.Sprintf("%d %s", wl.Producers, plural(wl.Producers, "producer", "producers"))
	if wl.ProducerDC != "" {
		prod += " in " + wl.ProducerDC
	} else {
		prod += " at the operator's site"
	}
	parts = append(parts, prod, fmt.Sprintf("%d records/s", wl.RatePerSecond))
	if wl.Library != "" {
		parts = append(parts, strings.TrimSpace("on "+wl.Library+" "+wl.LibraryVersion))
	}
	return singleLine(strings.Join(parts, " · "))
}

// since is t in seconds since the drill started, false when t (or the
// start) was not reached.
func since(r *drill.Result, t time.Time) (float64, bool) {
	if t.IsZero() || r.Phases.Started.IsZero() {
		return 0, false
	}
	return t.Sub(r.Phases.Started).Seconds(), true
}

// sinceString is "+30.0s", the UTC time when there is no start, or "–"
// when t was not reached.
func sinceString(r *drill.Result, t time.Time, decimals int) string {
	if t.IsZero() {
		return "–"
	}
	s, ok := since(r, t)
	if !ok {
		return t.UTC().Format(time.RFC3339Nano)
	}
	return "+" + strconv.FormatFloat(s, 'f', decimals, 64) + "s"
}

// phase is one moment of the drill.
type phase struct{ Name, At string }

// drillPhases lists the moments after the start, relative to it.
func drillPhases(r *drill.Result) []phase {
	p := r.Phases
	return []phase{
		{"injected", sinceString(r, p.Injected, 1)},
		{"healed", sinceString(r, p.Healed, 1)},
		{"ISR full", sinceString(r, p.Recovered, 1)},
		{"workload stopped", sinceString(r, p.Stopped, 1)},
		{"finished", sinceString(r, p.Finished, 1)},
	}
}

// phasesLine is "injected at +20.0s, healed at +80.0s, ISR full at
// +95.5s": the fault's own moments in one line.
func phasesLine(r *drill.Result) string {
	var parts []string
	for _, ph := range drillPhases(r)[:3] {
		if ph.At == "–" {
			parts = append(parts, ph.Name+" never")
			continue
		}
		parts = append(parts, ph.Name+" at "+ph.At)
	}
	return strings.Join(parts, ", ")
}

// millis is "250ms", or seconds from 1s on.
func millis(v float64) string {
	if v >= 1000 {
		return seconds(v / 1000)
	}
	return strconv.FormatFloat(math.Round(v), 'f', -1, 64) + "ms"
}

// observedRTO is "6.2s (resolution 120ms)", or says writes did not
// resume (or that nothing was injected, so nothing was measured).
func observedRTO(r *drill.Result) string {
	o := r.Observed
	if r.Phases.Injected.IsZero() {
		return "not measured (no fault injected)"
	}
	if o.RTOSeconds == nil {
		return "writes did not resume before heal"
	}
	s := seconds(*o.RTOSeconds)
	if o.ResolutionMs > 0 {
		s += " (resolution " + millis(o.ResolutionMs) + ")"
	}
	return s
}

// writeUnavailable counts the partitions whose writes did not resume
// before the heal: the observed side of the prediction's
// WriteUnavailable. False when the drill has no per-partition detail.
func writeUnavailable(o drill.Observed) (int, bool) {
	if len(o.Partitions) == 0 {
		return 0, false
	}
	n := 0
	for _, p := range o.Partitions {
		if p.LongestGapMs == nil {
			n++
		}
	}
	return n, true
}

// firstSuccess is the earliest write after injection that succeeded, on
// any partition, in seconds since the start.
func firstSuccess(r *drill.Result) (float64, bool) {
	inj, ok := since(r, r.Phases.Injected)
	if !ok {
		return 0, false
	}
	first, found := math.Inf(1), false
	for _, p := range r.Observed.Partitions {
		if p.FirstSuccessMs != nil && *p.FirstSuccessMs < first {
			first, found = *p.FirstSuccessMs, true
		}
	}
	return inj + first/1000, found
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func partitions(n int) string {
	return fmt.Sprintf("%d %s", n, plural(n, "partition", "partitions"))
}

// measure is one row of "observed vs predicted vs goals"; met is nil
// where there is no goal.
type measure struct {
	what, observed, predicted, goal string
	met                             *bool
}

// goalCell is "≤ 30s ✓" (or ✗), or "–" without a goal.
func (m measure) goalCell() string {
	if m.met == nil {
		return m.goal
	}
	if *m.met {
		return m.goal + " ✓"
	}
	return m.goal + " ✗"
}

// measures lists what the drill observed beside the prediction and the
// goals: RTO, acked records lost, duplicates, unacked but present,
// write-unavailable partitions, goals met.
func measures(r *drill.Result) []measure {
	o, p := r.Observed, r.Predicted
	none := "–"
	pred := func(f func(*drill.Prediction) string) string {
		switch {
		case p == nil:
			return none
		case p.Error != "":
			return "failed"
		}
		return f(p)
	}
	var rtoMet *bool
	if !r.Phases.Injected.IsZero() {
		rtoMet = new(o.RTOSeconds != nil && *o.RTOSeconds <= r.Goals.RTOSeconds)
	}
	lossMet := o.AckedLost <= r.Goals.RPO
	unavail := none
	if n, ok := writeUnavailable(o); ok {
		unavail = partitions(n)
	}
	out := []measure{
		{
			what: "RTO", observed: observedRTO(r),
			predicted: pred(func(p *drill.Prediction) string {
				if p.RTOSeconds == nil {
					return "unbounded"
				}
				return "≈ " + seconds(*p.RTOSeconds)
			}),
			goal: "≤ " + seconds(r.Goals.RTOSeconds), met: rtoMet,
		},
		{
			what: "acked records lost", observed: strconv.FormatInt(o.AckedLost, 10),
			predicted: pred(func(p *drill.Prediction) string {
				if p.AckedLossPossible == 0 {
					return "none"
				}
				return "possible on " + partitions(p.AckedLossPossible)
			}),
			goal: "≤ " + strconv.FormatInt(r.Goals.RPO, 10), met: &lossMet,
		},
		{what: "duplicates", observed: strconv.FormatInt(o.Duplicates, 10), predicted: none, goal: none},
		{what: "unacked but present", observed: strconv.FormatInt(o.UnackedPresent, 10), predicted: none, goal: none},
		{
			what: "write-unavailable", observed: unavail,
			predicted: pred(func(p *drill.Prediction) string { return partitions(p.WriteUnavailable) }),
			goal:      none,
		},
	}
	if r.Workload.Consumers != nil {
		out = append(out, readMeasures(r, pred)...)
	}
	return append(out, measure{
		what: "goals met", observed: yesNo(r.GoalsMet),
		predicted: pred(func(p *drill.Prediction) string { return yesNo(p.GoalsMet) }),
		goal:      none,
	})
}

// readMeasures are the consumer group's rows: read RTO, rebalances,
// records read again, skipped and unread.
func readMeasures(r *drill.Result, pred func(func(*drill.Prediction) string) string) []measure {
	none := "–"
	o := r.Observed.Read
	obs := func(f func(*drill.ReadObserved) string) string {
		if o == nil {
			return none
		}
		return f(o)
	}
	readPred := func(f func(*drill.ReadPrediction) string) string {
		return pred(func(p *drill.Prediction) string {
			if p.Read == nil {
				return none
			}
			return f(p.Read)
		})
	}
	var rtoMet, skipMet *bool
	if o != nil {
		rtoMet = new(o.RTOSeconds != nil && *o.RTOSeconds <= r.Goals.ReadRTOSeconds)
		skipMet = new(o.Skipped == 0)
	}
	return []measure{
		{
			what: "read RTO",
			observed: obs(func(o *drill.ReadObserved) string {
				if o.RTOSeconds == nil {
					return "unbounded"
				}
				return seconds(*o.RTOSeconds)
			}),
			predicted: readPred(func(p *drill.ReadPrediction) string {
				switch {
				case p.RTOSeconds == nil:
					return "unbounded"
				case p.MinRTOSeconds != nil:
					return seconds(*p.MinRTOSeconds) + "–" + seconds(*p.RTOSeconds)
				}
				return "≈ " + seconds(*p.RTOSeconds)
			}),
			goal: "≤ " + seconds(r.Goals.ReadRTOSeconds), met: rtoMet,
		},
		{
			what:     "group rebalances",
			observed: obs(func(o *drill.ReadObserved) string { return strconv.Itoa(len(o.Rebalances)) }),
			predicted: readPred(func(p *drill.ReadPrediction) string {
				if p.Rebalance {
					return "yes"
				}
				return "none"
			}),
			goal: none,
		},
		{
			what: "records read again",
			observed: obs(func(o *drill.ReadObserved) string {
				return fmt.Sprintf("%d (%d from commits)", o.Redelivered, o.RedeliveredFromCommits)
			}),
			predicted: none, goal: none,
		},
		{what: "records skipped", observed: obs(func(o *drill.ReadObserved) string { return strconv.FormatInt(o.Skipped, 10) }), predicted: "none", goal: "0", met: skipMet},
	}
}

// txnLines describe the transactional ledger and what it went through.
func txnLines(r *drill.Result) []string {
	w := r.Workload.Transactions
	if w == nil {
		return nil
	}
	coord := fmt.Sprintf("transactions: %d producers with ids of the drill's own, coordinator __transaction_state partition %d", len(w.IDs), w.CoordinatorPartition)
	if w.CoordinatorDC != "" {
		coord += " led in " + w.CoordinatorDC
	}
	if w.StandsFor != "" {
		coord += fmt.Sprintf(" (the partition of the file's transactional.id %s, which the drill does not use)", w.StandsFor)
	}
	out := []string{coord}
	if t := r.Observed.Transactions; t != nil {
		line := fmt.Sprintf("records of aborted transactions %d · of fenced producers %d · aborted records read %d", t.AbortedRecords, t.FencedRecords, t.AbortedRead)
		if t.ExactlyOnce != nil {
			line += " · exactly-once " + map[bool]string{true: "held", false: "BROKEN"}[*t.ExactlyOnce]
		}
		out = append(out, line)
	}
	return out
}

// consumerLines describe the drill's consumer group and what it went
// through, one fact per line.
func consumerLines(r *drill.Result) []string {
	out := txnLines(r)
	c := r.Workload.Consumers
	if c == nil {
		return out
	}
	var where []string
	for _, m := range c.Members {
		where = append(where, fmt.Sprintf("%d in %s", m.Members, cmp.Or(m.DC, "the operator's site")))
	}
	lib := strings.TrimSpace(c.Library + " " + c.LibraryVersion)
	out = append(out, fmt.Sprintf("group %s · members %s · on %s · commits %s", c.Group, strings.Join(where, ", "), lib, c.Commits))
	coord := fmt.Sprintf("coordinator: %s partition %d", "__consumer_offsets", c.CoordinatorPartition)
	if c.CoordinatorDC != "" {
		coord += " led in " + c.CoordinatorDC
	}
	if c.StandsFor != "" {
		coord += fmt.Sprintf(" (the partition of the file's group.id %s, which the drill does not join)", c.StandsFor)
	}
	out = append(out, coord, "settings from "+c.Source)
	for _, s := range c.Rejected {
		out = append(out, "not applied: "+s)
	}
	o := r.Observed.Read
	if o == nil {
		return out
	}
	out = append(out, fmt.Sprintf("delivered %d · read again %d (from the committed offsets: %d) · skipped %d · unread at the end %d · commits %d · members killed with the DC %d",
		o.Delivered, o.Redelivered, o.RedeliveredFromCommits, o.Skipped, o.Unread, o.Commits, o.MembersKilled))
	out = append(out, fmt.Sprintf("end-to-end latency p99 %s · max %s · longest time without a commit %s", millis(o.P99EndToEndMs), millis(o.MaxEndToEndMs), seconds(o.CommitPauseSeconds)))
	for _, rb := range o.Rebalances {
		out = append(out, fmt.Sprintf("rebalance to generation %d: %+.1fs → %+.1fs after the injection (%.1fs), %d members",
			rb.Generation, rb.StartedSeconds, rb.StableSeconds, rb.StableSeconds-rb.StartedSeconds, rb.Members))
	}
	out = append(out, o.Resets...)
	for _, e := range o.Errors {
		out = append(out, "member error "+e)
	}
	return out
}

// rtoTerms are the predicted RTO's terms: name, seconds, note.
func rtoTerms(p *drill.Prediction) [][3]string {
	if p == nil {
		return nil
	}
	out := make([][3]string, 0, len(p.RTOBreakdown))
	for _, t := range p.RTOBreakdown {
		out = append(out, [3]string{t.Name, strconv.FormatFloat(t.Seconds, 'f', 3, 64), t.Note})
	}
	return out
}

// readTerms are the predicted read RTO's terms, like rtoTerms.
func readTerms(p *drill.Prediction) [][3]string {
	if p == nil || p.Read == nil {
		return nil
	}
	return rtoTerms(&drill.Prediction{RTOBreakdown: p.Read.RTOBreakdown})
}

// countsLineDrill is "sent 60000 · acked 58000 · failed 2000".
func countsLineDrill(o drill.Observed) string {
	return fmt.Sprintf("sent %d · acked %d · failed %d", o.Sent, o.Acked, o.Failed)
}

// shownLost is the lost records to list and how many more were lost.
func shownLost(o drill.Observed, limit int) ([]drill.LedgerEntry, int64) {
	shown := o.Lost
	if limit >= 0 && len(shown) > limit {
		shown = shown[:limit]
	}
	total := max(o.AckedLost, int64(len(o.Lost)))
	return shown, total - int64(len(shown))
}

// lostCells are producer, partition, seq, offset, sent, acked.
func lostCells(r *drill.Result, e drill.LedgerEntry) []string {
	return []string{
		strconv.Itoa(e.Producer),
		strconv.Itoa(int(e.Partition)),
		strconv.FormatInt(e.Seq, 10),
		strconv.FormatInt(e.Offset, 10),
		sinceString(r, e.Sent, 3),
		sinceString(r, e.Acked, 3),
	}
}

// lostHeader names the columns of lostCells.
func lostHeader() []string {
	return []string{"producer", "partition", "seq", "offset", "sent", "acked"}
}

// leftoverHeadline introduces what was not healed.
func leftoverHeadline(r *drill.Result) string {
	if len(r.Leftover) == 1 {
		return "NOT HEALED: a fault is still in place"
	}
	return "NOT HEALED: faults are still in place"
}

// healedLine says the cluster is back.
const healedLine = "Healed: every fault removed, ISR full again."

// renderDrillText writes the result for people at a terminal.
func renderDrillText(r *drill.Result, o Options) []byte {
	st := newTextStyles(o.Color)
	var b bytes.Buffer

	head := singleLine(o.toolVersion()) + " drill"
	if r.ClusterID != "" {
		head += " · cluster " + singleLine(r.ClusterID)
	}
	if r.Backend != "" {
		head += " · backend " + singleLine(r.Backend)
	}
	b.WriteString(st.bold(head) + "\n\n")

	verdict := drillHeadline(r.Verdict)
	switch r.Verdict {
	case drill.Pass:
		verdict = st.pass(verdict)
	case drill.Fail, drill.Error, drill.Inconclusive:
		verdict = st.fail(verdict)
	default:
		verdict = st.bold(verdict)
	}
	fmt.Fprintf(&b, "%s — %s · %s\n", verdict, faultLine(r), agreementLine(r))
	fmt.Fprintf(&b, "%s\n", phasesLine(r))
	if r.Config != "" {
		fmt.Fprintf(&b, "config %s\n", singleLine(r.Config))
	}

	b.WriteString("\n" + st.bold("Workload") + "\n")
	fmt.Fprintf(&b, "  %s\n", workloadLine(r.Workload))
	if r.Workload.Source != "" {
		fmt.Fprintf(&b, "  settings from %s:\n", singleLine(r.Workload.Source))
	}
	if len(r.Workload.Settings) > 0 {
		rows := make([]row, 0, len(r.Workload.Settings))
		for _, s := range r.Workload.Settings {
			rows = append(rows, row{cells: []string{s.Name + "=" + s.Value, "(" + s.Origin + ")"}})
		}
		// Indented under "settings from": two more spaces on each line.
		var t bytes.Buffer
		writeTable(&t, rows)
		for line := range strings.Lines(t.String()) {
			b.WriteString("  " + line)
		}
	}
	if n := r.Workload.VersionNote; n != "" {
		fmt.Fprintf(&b, "  version: %s\n", singleLine(n))
	}
	for _, s := range r.Workload.Rejected {
		fmt.Fprintf(&b, "  not applied: %s\n", singleLine(s))
	}
	if lines := consumerLines(r); len(lines) > 0 {
		b.WriteString("\n" + st.bold("Read side") + "\n")
		for _, l := range lines {
			fmt.Fprintf(&b, "  %s\n", singleLine(l))
		}
	}

	phases := "Phases"
	if !r.Phases.Started.IsZero() {
		phases += " (since the start, " + r.Phases.Started.UTC().Format(time.RFC3339) + ")"
	}
	b.WriteString("\n" + st.bold(phases) + "\n")
	rows := []row{}
	for _, ph := range drillPhases(r) {
		rows = append(rows, row{cells: []string{ph.Name, ph.At}})
	}
	writeTable(&b, rows)

	b.WriteString("\n" + st.bold("Observed vs predicted vs goals") + "\n")
	rows = []row{{cells: []string{"", "observed", "predicted", "goal"}, style: st.faint}}
	for _, m := range measures(r) {
		style := plainStyle
		if m.met != nil && !*m.met {
			style = st.fail
		}
		rows = append(rows, row{cells: []string{m.what, m.observed, m.predicted, m.goalCell()}, style: style})
	}
	writeTable(&b, rows)
	fmt.Fprintf(&b, "  %s\n", countsLineDrill(r.Observed))
	if r.Observed.ReadBack != "" {
		fmt.Fprintf(&b, "  read back %s\n", singleLine(r.Observed.ReadBack))
	}

	b.WriteString("\n" + st.bold("Comparison with the prediction: "+agreementLine(r)) + "\n")
	if len(r.Comparison.Points) > 0 {
		rows = []row{{cells: []string{"", "point", "predicted", "observed"}, style: st.faint}}
		for _, p := range r.Comparison.Points {
			mark, style := "✓", plainStyle
			if !p.Agree {
				mark, style = "✗", st.fail
			}
			rows = append(rows, row{cells: []string{mark, p.What, p.Predicted, p.Observed}, style: style})
		}
		writeTable(&b, rows)
	}
	for _, n := range r.Comparison.Notes {
		fmt.Fprintf(&b, "  - %s\n", singleLine(n))
	}
	if r.Predicted != nil && len(r.Predicted.Why) > 0 {
		fmt.Fprintf(&b, "  predicted for %s because:\n", singleLine(r.Predicted.Scenario))
		for _, w := range r.Predicted.Why {
			fmt.Fprintf(&b, "    - %s\n", singleLine(w))
		}
	}
	if terms := rtoTerms(r.Predicted); len(terms) > 0 {
		fmt.Fprintf(&b, "  predicted RTO of %s:\n", singleLine(r.Workload.Topic))
		rows = nil
		for _, t := range terms {
			rows = append(rows, row{cells: []string{"  " + t[0], t[1], t[2]}})
		}
		writeTable(&b, rows)
	}
	if terms := readTerms(r.Predicted); len(terms) > 0 {
		b.WriteString("  predicted read RTO of the group:\n")
		rows = nil
		for _, t := range terms {
			rows = append(rows, row{cells: []string{"  " + t[0], t[1], t[2]}})
		}
		writeTable(&b, rows)
		for _, w := range r.Predicted.Read.Why {
			fmt.Fprintf(&b, "    - %s\n", singleLine(w))
		}
	}

	if shown, more := shownLost(r.Observed, maxLostShown); len(shown) > 0 || more > 0 {
		b.WriteString("\n" + st.bold(fmt.Sprintf("Acknowledged records lost (%d)", r.Observed.AckedLost)) + "\n")
		if len(shown) > 0 {
			rows = []row{{cells: lostHeader(), style: st.faint}}
			for _, e := range shown {
				rows = append(rows, row{cells: lostCells(r, e)})
			}
			writeTable(&b, rows)
		}
		if more > 0 {
			fmt.Fprintf(&b, "  and %d more\n", more)
		}
	}

	b.WriteString("\n")
	if r.Healed {
		b.WriteString(st.pass(healedLine) + "\n")
	} else {
		b.WriteString(st.fail(leftoverHeadline(r)) + "\n")
		for _, l := range r.Leftover {
			fmt.Fprintf(&b, "  - %s\n", st.fail(singleLine(l)))
		}
		if len(r.Leftover) == 0 {
			fmt.Fprintf(&b, "  - %s\n", st.fail("unknown: see the notes, then run stretchctl drill recover"))
		}
	}

	if len(r.Notes) > 0 {
		b.WriteString("\n" + st.bold("Notes") + "\n")
		for _, n := range r.Notes {
			fmt.Fprintf(&b, "  - %s\n", singleLine(n))
		}
	}
	return b.Bytes()
}

// renderDrillMarkdown writes the result for a CI job summary or a
// pull-request comment.
func renderDrillMarkdown(r *drill.Result, o Options) []byte {
	var b bytes.Buffer
	switch r.Verdict {
	case drill.Pass:
		fmt.Fprintf(&b, "## ✅ %s drill: goals met\n\n", mdText(o.tool()))
	case drill.Fail:
		fmt.Fprintf(&b, "## ❌ %s drill: goals missed\n\n", mdText(o.tool()))
	case drill.Error, drill.Inconclusive:
		fmt.Fprintf(&b, "## ⚠️ %s drill: did not complete\n\n", mdText(o.tool()))
	default:
		fmt.Fprintf(&b, "## ❔ %s drill: verdict %s\n\n", mdText(o.tool()), mdCode(string(r.Verdict)))
	}

	meta := []string{mdCode(r.Fault.String())}
	if r.Fault.Duration > 0 {
		meta[0] += " for " + seconds(r.Fault.Duration.Seconds())
	}
	if r.Scenario != "" {
		meta = append(meta, "scenario "+mdText(r.Scenario))
	}
	if r.ClusterID != "" {
		meta = append(meta, "cluster "+mdCode(r.ClusterID))
	}
	if r.Backend != "" {
		meta = append(meta, "backend "+mdText(r.Backend))
	}
	if r.Config != "" {
		meta = append(meta, "config "+mdCode(r.Config))
	}
	if !r.Phases.Started.IsZero() {
		meta = append(meta, "started "+r.Phases.Started.UTC().Format(time.RFC3339))
	}
	fmt.Fprintf(&b, "%s\n\n", strings.Join(meta, " · "))
	agree := agreementLine(r)
	if r.Predicted != nil && !r.Comparison.Agree {
		agree = "⚠️ " + agree
	}
	fmt.Fprintf(&b, "**%s** · %s\n\n", mdText(agree), mdText(phasesLine(r)))

	if !r.Healed {
		fmt.Fprintf(&b, "> [!CAUTION]\n> **%s**\n", mdText(leftoverHeadline(r)))
		for _, l := range r.Leftover {
			fmt.Fprintf(&b, "> - %s\n", mdText(l))
		}
		if len(r.Leftover) == 0 {
			b.WriteString("> - unknown: see the notes, then run `stretchctl drill recover`\n")
		}
		b.WriteString("\n")
	}

	b.WriteString("### Observed vs predicted vs goals\n\n")
	b.WriteString("| | observed | predicted | goal |\n|:--|:--|:--|:--|\n")
	for _, m := range measures(r) {
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", mdText(m.what), mdText(m.observed), mdText(m.predicted), mdGoal(m))
	}
	fmt.Fprintf(&b, "\n%s", mdText(countsLineDrill(r.Observed)))
	if r.Observed.ReadBack != "" {
		fmt.Fprintf(&b, " · read back %s", mdText(r.Observed.ReadBack))
	}
	b.WriteString("\n\n")

	fmt.Fprintf(&b, "### Comparison with the prediction\n\n")
	if len(r.Comparison.Points) > 0 {
		b.WriteString("| | point | predicted | observed |\n|:--|:--|:--|:--|\n")
		for _, p := range r.Comparison.Points {
			mark := "✅ agree"
			if !p.Agree {
				mark = "❌ disagree"
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", mark, mdText(p.What), mdText(p.Predicted), mdText(p.Observed))
		}
		b.WriteString("\n")
	} else {
		fmt.Fprintf(&b, "%s.\n\n", mdText(agreementLine(r)))
	}
	for _, n := range r.Comparison.Notes {
		fmt.Fprintf(&b, "- %s\n", mdText(n))
	}
	if len(r.Comparison.Notes) > 0 {
		b.WriteString("\n")
	}
	if r.Predicted != nil && len(r.Predicted.Why) > 0 {
		fmt.Fprintf(&b, "<details>\n<summary>Why the prediction for %s</summary>\n\n", mdText(r.Predicted.Scenario))
		for _, w := range r.Predicted.Why {
			fmt.Fprintf(&b, "- %s\n", mdText(w))
		}
		b.WriteString("\n</details>\n\n")
	}
	if terms := rtoTerms(r.Predicted); len(terms) > 0 {
		fmt.Fprintf(&b, "<details>\n<summary>Predicted RTO of %s</summary>\n\n| term | seconds | why |\n|:--|--:|:--|\n", mdText(r.Workload.Topic))
		for _, t := range terms {
			fmt.Fprintf(&b, "| %s | %s | %s |\n", mdText(t[0]), mdText(t[1]), mdText(t[2]))
		}
		b.WriteString("\n</details>\n\n")
	}
	if terms := readTerms(r.Predicted); len(terms) > 0 {
		b.WriteString("<details>\n<summary>Predicted read RTO of the group</summary>\n\n| term | seconds | why |\n|:--|--:|:--|\n")
		for _, t := range terms {
			fmt.Fprintf(&b, "| %s | %s | %s |\n", mdText(t[0]), mdText(t[1]), mdText(t[2]))
		}
		b.WriteString("\n</details>\n\n")
	}

	b.WriteString("### Workload\n\n")
	fmt.Fprintf(&b, "%s", mdText(workloadLine(r.Workload)))
	if r.Workload.Source != "" {
		fmt.Fprintf(&b, " · settings from %s", mdCode(r.Workload.Source))
	}
	b.WriteString("\n\n")
	if len(r.Workload.Settings) > 0 {
		b.WriteString("| setting | value | origin |\n|:--|:--|:--|\n")
		for _, s := range r.Workload.Settings {
			fmt.Fprintf(&b, "| %s | %s | %s |\n", mdCode(s.Name), mdCode(s.Value), mdText(s.Origin))
		}
		b.WriteString("\n")
	}
	if n := r.Workload.VersionNote; n != "" {
		fmt.Fprintf(&b, "Version: %s\n\n", mdText(n))
	}
	for _, s := range r.Workload.Rejected {
		fmt.Fprintf(&b, "- not applied: %s\n", mdText(s))
	}
	if len(r.Workload.Rejected) > 0 {
		b.WriteString("\n")
	}
	if lines := consumerLines(r); len(lines) > 0 {
		b.WriteString("### Read side\n\n")
		for _, l := range lines {
			fmt.Fprintf(&b, "- %s\n", mdText(l))
		}
		b.WriteString("\n")
	}

	b.WriteString("### Phases\n\n| phase | since start |\n|:--|--:|\n")
	for _, ph := range drillPhases(r) {
		fmt.Fprintf(&b, "| %s | %s |\n", ph.Name, ph.At)
	}
	b.WriteString("\n")

	if shown, more := shownLost(r.Observed, maxLostShown); len(shown) > 0 || more > 0 {
		fmt.Fprintf(&b, "<details>\n<summary>%d acknowledged %s lost</summary>\n\n",
			r.Observed.AckedLost, plural(int(r.Observed.AckedLost), "record", "records"))
		if len(shown) > 0 {
			fmt.Fprintf(&b, "| %s |\n|--:|--:|--:|--:|--:|--:|\n", strings.Join(lostHeader(), " | "))
			for _, e := range shown {
				fmt.Fprintf(&b, "| %s |\n", strings.Join(lostCells(r, e), " | "))
			}
		}
		if more > 0 {
			fmt.Fprintf(&b, "\nand %d more\n", more)
		}
		b.WriteString("\n</details>\n\n")
	}

	if r.Healed {
		fmt.Fprintf(&b, "✅ %s\n\n", healedLine)
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

// mdGoal is the goal cell with ✅ or ❌.
func mdGoal(m measure) string {
	if m.met == nil {
		return mdText(m.goal)
	}
	if *m.met {
		return mdText(m.goal) + " ✅"
	}
	return mdText(m.goal) + " ❌"
}
