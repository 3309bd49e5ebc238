package report

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"io"
	"slices"
	"strings"

	"github.com/stretchctl/stretchctl/drill"
)

// WriteCampaign renders a campaign in format f (text, json, markdown or
// html): the matrix of scenarios × predicted, observed and agreement, the
// truth score, and in HTML the timeline of every drill as small
// multiples. Rendered in full before anything is written.
func WriteCampaign(w io.Writer, c *drill.Campaign, f Format, o Options) error {
	if c == nil {
		return errors.New("render campaign: no campaign")
	}
	if o.Tool == "" {
		o.Tool = c.Tool
	}
	if o.Version == "" {
		o.Version = c.Version
	}
	var (
		b   []byte
		err error
	)
	switch f {
	case Text:
		b = renderCampaignText(c, o)
	case JSON:
		b, err = encodeJSON(c)
	case Markdown:
		b = renderCampaignMarkdown(c, o)
	case HTML:
		b, err = renderCampaignHTML(c, o)
	default:
		return fmt.Errorf("render campaign: %w", unknownDrillFormat(string(f)))
	}
	if err != nil {
		return fmt.Errorf("render %s campaign: %w", f, err)
	}
	_, err = w.Write(b)
	return err
}

// campaignRow is one drill of the matrix.
type campaignRow struct {
	Scenario, PredictedRTO, ObservedRTO, RTOAgree, Loss, LossAgree, Verdict, Healed string
	// ReadRTO is the group's read RTO, predicted / observed, and
	// ReadAgree its agreement ("—" without a group).
	ReadRTO, ReadAgree string
	Agree              bool
}

// hasReads says whether some drill of the campaign ran a consumer group:
// the matrix then has the read side's columns.
func hasReads(c *drill.Campaign) bool {
	return slices.ContainsFunc(c.Entries, func(e drill.CampaignEntry) bool { return e.Result != nil && e.Result.Workload.Consumers != nil })
}

// readCells are the read side's cells of a row.
func readCells(r campaignRow) []string { return []string{r.ReadRTO, r.ReadAgree} }

// point finds a compared point by its name's prefix.
func point(r *drill.Result, prefix string) (drill.Point, bool) {
	for _, p := range r.Comparison.Points {
		if strings.HasPrefix(p.What, prefix) {
			return p, true
		}
	}
	return drill.Point{}, false
}

func campaignRows(c *drill.Campaign) []campaignRow {
	var rows []campaignRow
	for _, e := range c.Entries {
		row := campaignRow{Scenario: e.Fault.String(), PredictedRTO: "—", ObservedRTO: "—", RTOAgree: "—", Loss: "—", LossAgree: "—", Healed: "—",
			ReadRTO: "—", ReadAgree: "—"}
		r := e.Result
		if r == nil {
			row.Verdict = "not run: " + e.Error
			rows = append(rows, row)
			continue
		}
		row.Verdict = string(r.Verdict)
		if e.Resumed {
			row.Verdict += " (earlier run)"
		}
		row.Healed = yesNo(r.Healed)
		if p := r.Predicted; p != nil && p.Error == "" {
			row.PredictedRTO = "unbounded"
			if p.RTOSeconds != nil {
				row.PredictedRTO = seconds(*p.RTOSeconds)
			}
		}
		if !r.Phases.Injected.IsZero() {
			row.ObservedRTO = "did not resume"
			if r.Observed.RTOSeconds != nil {
				row.ObservedRTO = seconds(*r.Observed.RTOSeconds)
			}
		}
		if p, ok := point(r, "RTO"); ok {
			row.RTOAgree = yesNo(p.Agree)
		}
		// "acknowledged records lost" (older results: "acked ...").
		if p, ok := point(r, "ack"); ok {
			row.Loss = p.Predicted + " / " + p.Observed
			row.LossAgree = yesNo(p.Agree)
		}
		if p, ok := point(r, "read RTO"); ok {
			row.ReadRTO, row.ReadAgree = p.Predicted+" / "+strings.Fields(p.Observed)[0], yesNo(p.Agree)
		} else if p, ok := point(r, "reads"); ok {
			row.ReadRTO, row.ReadAgree = p.Predicted+" / "+p.Observed, yesNo(p.Agree)
		}
		row.Agree = r.Comparison.Agree
		rows = append(rows, row)
	}
	return rows
}

func truthLine(c *drill.Campaign) string {
	if c.Truth.Points == 0 {
		return "truth score: no point compared"
	}
	return fmt.Sprintf("truth score: %d of %d compared points agree (%.0f%%)", c.Truth.Agree, c.Truth.Points, 100*c.Truth.Score)
}

// baselineLine lists the latency gate's baseline round trips.
func baselineLine(c *drill.Campaign) string {
	pairs := make([]string, 0, len(c.Baseline))
	for p := range c.Baseline {
		pairs = append(pairs, p)
	}
	slices.Sort(pairs)
	for i, p := range pairs {
		pairs[i] = fmt.Sprintf("%s %.1f ms", p, c.Baseline[p])
	}
	return strings.Join(pairs, ", ")
}

func campaignHeadline(c *drill.Campaign) string {
	switch c.ExitCode() {
	case drill.ExitNotHealed:
		return "FAULT LEFT IN PLACE"
	case drill.ExitNotRun:
		return "INCOMPLETE"
	case drill.ExitGoalsMissed:
		return "GOALS MISSED"
	}
	return "GOALS MET"
}

func renderCampaignText(c *drill.Campaign, o Options) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s · campaign on %s · %d drills · backend %s\n", singleLine(o.toolVersion()), singleLine(c.Topic), len(c.Entries), singleLine(c.Backend))
	fmt.Fprintf(&b, "%s · %s\n\n", campaignHeadline(c), truthLine(c))
	reads := hasReads(c)
	head := []string{"SCENARIO", "PREDICTED RTO", "OBSERVED RTO", "RTO AGREES", "LOSS PREDICTED / OBSERVED", "AGREES"}
	if reads {
		head = append(head, "READ RTO PREDICTED / OBSERVED", "AGREES")
	}
	rows := []row{{cells: append(head, "VERDICT", "HEALED")}}
	for _, r := range campaignRows(c) {
		cells := []string{r.Scenario, r.PredictedRTO, r.ObservedRTO, r.RTOAgree, r.Loss, r.LossAgree}
		if reads {
			cells = append(cells, readCells(r)...)
		}
		rows = append(rows, row{cells: append(cells, r.Verdict, r.Healed)})
	}
	writeTable(&b, rows)
	if c.Stopped != "" {
		fmt.Fprintf(&b, "\nstopped: %s\n", singleLine(c.Stopped))
	}
	if base := baselineLine(c); base != "" {
		fmt.Fprintf(&b, "\nlatency baseline: %s\n", base)
	}
	for _, n := range c.Notes {
		fmt.Fprintf(&b, "note: %s\n", singleLine(n))
	}
	return b.Bytes()
}

func renderCampaignMarkdown(c *drill.Campaign, o Options) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Campaign on %s: %s\n\n", mdText(c.Topic), campaignHeadline(c))
	fmt.Fprintf(&b, "%s · %d drills · backend %s · %s\n\n", mdText(o.toolVersion()), len(c.Entries), mdText(c.Backend), mdText(truthLine(c)))
	reads := hasReads(c)
	if reads {
		b.WriteString("| scenario | predicted RTO | observed RTO | RTO agrees | loss predicted / observed | agrees | read RTO predicted / observed | agrees | verdict | healed |\n")
		b.WriteString("|---|---|---|---|---|---|---|---|---|---|\n")
	} else {
		b.WriteString("| scenario | predicted RTO | observed RTO | RTO agrees | loss predicted / observed | agrees | verdict | healed |\n")
		b.WriteString("|---|---|---|---|---|---|---|---|\n")
	}
	for _, r := range campaignRows(c) {
		read := ""
		if reads {
			read = fmt.Sprintf(" %s | %s |", mdText(r.ReadRTO), r.ReadAgree)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |%s %s | %s |\n", mdText(r.Scenario), mdText(r.PredictedRTO), mdText(r.ObservedRTO),
			r.RTOAgree, mdText(r.Loss), r.LossAgree, read, mdText(r.Verdict), r.Healed)
	}
	if c.Stopped != "" {
		fmt.Fprintf(&b, "\n**Stopped:** %s\n", mdText(c.Stopped))
	}
	if base := baselineLine(c); base != "" {
		fmt.Fprintf(&b, "\nLatency baseline: %s\n", mdText(base))
	}
	for _, n := range c.Notes {
		fmt.Fprintf(&b, "\n- %s", mdText(n))
	}
	if len(c.Notes) > 0 {
		b.WriteByte('\n')
	}
	return b.Bytes()
}

var campaignPage = template.Must(template.New("campaign").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left}
.no{color:#b00020;font-weight:bold}.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(420px,1fr));gap:1em}
.cell{border:1px solid #ddd;padding:.5em}.cell svg{width:100%;height:auto}
</style></head><body>
<h1>{{.Title}}</h1>
<p>{{.Tool}} · {{.Count}} drills · backend {{.Backend}} · <strong>{{.Truth}}</strong></p>
{{if .Stopped}}<p class="no">Stopped: {{.Stopped}}</p>{{end}}
{{if .Baseline}}<p>Latency baseline: {{.Baseline}}</p>{{end}}
{{range .Notes}}<p>Note: {{.}}</p>{{end}}
<table><tr><th>scenario</th><th>predicted RTO</th><th>observed RTO</th><th>RTO agrees</th><th>loss predicted / observed</th><th>agrees</th>{{if .Reads}}<th>read RTO predicted / observed</th><th>agrees</th>{{end}}<th>verdict</th><th>healed</th></tr>
{{range .Rows}}<tr><td>{{.Scenario}}</td><td>{{.PredictedRTO}}</td><td>{{.ObservedRTO}}</td><td{{if eq .RTOAgree "no"}} class="no"{{end}}>{{.RTOAgree}}</td><td>{{.Loss}}</td><td{{if eq .LossAgree "no"}} class="no"{{end}}>{{.LossAgree}}</td>{{if $.Reads}}<td>{{.ReadRTO}}</td><td{{if eq .ReadAgree "no"}} class="no"{{end}}>{{.ReadAgree}}</td>{{end}}<td>{{.Verdict}}</td><td>{{.Healed}}</td></tr>
{{end}}</table>
<h2>Timelines</h2>
<div class="grid">{{range .Charts}}<div class="cell"><h3>{{.Scenario}}</h3>{{.SVG}}</div>{{end}}</div>
</body></html>
`))

type campaignChart struct {
	Scenario string
	SVG      template.HTML
}

func renderCampaignHTML(c *drill.Campaign, o Options) ([]byte, error) {
	v := struct {
		Title, Tool, Backend, Truth, Stopped, Baseline string
		Notes                                          []string
		Count                                          int
		Reads                                          bool
		Rows                                           []campaignRow
		Charts                                         []campaignChart
	}{Title: fmt.Sprintf("Campaign on %s: %s", c.Topic, campaignHeadline(c)), Tool: o.toolVersion(), Backend: c.Backend,
		Truth: truthLine(c), Stopped: c.Stopped, Baseline: baselineLine(c), Notes: c.Notes, Count: len(c.Entries), Reads: hasReads(c), Rows: campaignRows(c)}
	for _, e := range c.Entries {
		if e.Result == nil || len(e.Result.Timeline) == 0 {
			continue
		}
		svg, err := drillChartSVG(e.Result)
		if err != nil {
			return nil, err
		}
		// Drawn here from numbers and fixed labels, like the drill page.
		v.Charts = append(v.Charts, campaignChart{Scenario: e.Fault.String(), SVG: template.HTML(svg)})
	}
	var b bytes.Buffer
	if err := campaignPage.Execute(&b, v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
