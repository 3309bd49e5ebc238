package report

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"image/color"
	"math"
	"strconv"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/stretchctl/stretchctl/drill"
)

// Colours of the timeline chart; the page's caption uses the same ones.
const (
	chartSuccess = 0x1f77b4
	chartError   = 0xd62728
	chartISR     = 0x2ca02c
	chartRead    = 0x9467bd
	chartFirst   = 0xff7f0e
	chartP50     = 0x595959
	chartP99     = 0x9467bd
)

// rgb turns 0xRRGGBB into a colour with the given opacity.
func rgb(v uint32, alpha uint8) color.NRGBA {
	return color.NRGBA{R: uint8(v >> 16), G: uint8(v >> 8), B: uint8(v), A: alpha}
}

func cssColor(v uint32) string { return fmt.Sprintf("#%06x", v) }

// chartMarks are the moments drawn on the timeline, in seconds since the
// start; the ok flags say which were reached.
type chartMarks struct {
	injected, healed, recovered, first         float64
	hasInjected, hasHealed, hasRecovered, hasF bool
}

func marksOf(r *drill.Result) chartMarks {
	var m chartMarks
	m.injected, m.hasInjected = since(r, r.Phases.Injected)
	m.healed, m.hasHealed = since(r, r.Phases.Healed)
	m.recovered, m.hasRecovered = since(r, r.Phases.Recovered)
	m.first, m.hasF = firstSuccess(r)
	return m
}

// faultBand shades the fault window from injection to heal (to xmax
// when the fault was never healed) over [ymin, ymax].
func faultBand(m chartMarks, xmax, ymin, ymax float64) (*plotter.Polygon, error) {
	end := xmax
	if m.hasHealed {
		end = m.healed
	}
	band, err := plotter.NewPolygon(plotter.XYs{
		{X: m.injected, Y: ymin}, {X: end, Y: ymin}, {X: end, Y: ymax}, {X: m.injected, Y: ymax},
	})
	if err != nil {
		return nil, err
	}
	band.Color = rgb(chartError, 0x2e)
	band.LineStyle.Width = 0
	return band, nil
}

// vline is a vertical line at x over [ymin, ymax].
func vline(x, ymin, ymax float64, c uint32, dashes ...vg.Length) (*plotter.Line, error) {
	l, err := plotter.NewLine(plotter.XYs{{X: x, Y: ymin}, {X: x, Y: ymax}})
	if err != nil {
		return nil, err
	}
	l.Color = rgb(c, 0xff)
	l.Width = vg.Points(1.5)
	l.Dashes = dashes
	return l, nil
}

// stepSeries is one value per second drawn as steps: the value of second
// T holds from T to T+1.
func stepSeries(tl []drill.Second, v func(drill.Second) float64, c uint32) (*plotter.Line, error) {
	xys := make(plotter.XYs, 0, len(tl)+1)
	for _, s := range tl {
		xys = append(xys, plotter.XY{X: float64(s.T), Y: v(s)})
	}
	last := tl[len(tl)-1]
	xys = append(xys, plotter.XY{X: float64(last.T + 1), Y: v(last)})
	l, err := plotter.NewLine(xys)
	if err != nil {
		return nil, err
	}
	l.StepStyle = plotter.PostStep
	l.Color = rgb(c, 0xff)
	l.Width = vg.Points(1.2)
	return l, nil
}

// latencyRuns splits a latency series into runs of seconds that had
// successes (a second without one has no latency, and must not be drawn
// as 0 ms).
func latencyRuns(tl []drill.Second, v func(drill.Second) float64) []plotter.XYs {
	var runs []plotter.XYs
	var cur plotter.XYs
	for i, s := range tl {
		if s.Successes == 0 || v(s) <= 0 || (i > 0 && s.T != tl[i-1].T+1) {
			if len(cur) > 0 {
				runs = append(runs, cur)
			}
			cur = nil
			if s.Successes == 0 || v(s) <= 0 {
				continue
			}
		}
		cur = append(cur, plotter.XY{X: float64(s.T) + 0.5, Y: v(s)})
	}
	if len(cur) > 0 {
		runs = append(runs, cur)
	}
	return runs
}

// chartFont sets a text style in Liberation Sans, which the page's CSS
// maps to Arial or Helvetica (same metrics) where the reader lacks it:
// the SVG names its fonts and does not embed them.
func chartFont(st *text.Style, size vg.Length) {
	st.Font.Variant = "Sans"
	st.Font.Size = size
}

// plainTicks are the default ticks labelled without trailing zeros
// ("7500", not "7500.00").
func plainTicks(lo, hi float64) []plot.Tick {
	ticks := plot.DefaultTicks{}.Ticks(lo, hi)
	for i, t := range ticks {
		if t.Label != "" {
			ticks[i].Label = strconv.FormatFloat(math.Round(t.Value*1e6)/1e6, 'f', -1, 64)
		}
	}
	return ticks
}

// chartPanel is one plot of the chart and its legend, drawn beside it.
type chartPanel struct {
	plot   *plot.Plot
	legend plot.Legend
}

func newChartPanel(title, ylabel string) chartPanel {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "seconds since start"
	p.Y.Label.Text = ylabel
	chartFont(&p.Title.TextStyle, 12)
	chartFont(&p.X.Label.TextStyle, 11)
	chartFont(&p.Y.Label.TextStyle, 11)
	chartFont(&p.X.Tick.Label, 10)
	chartFont(&p.Y.Tick.Label, 10)
	p.X.Tick.Marker = plot.TickerFunc(plainTicks)
	p.Y.Tick.Marker = plot.TickerFunc(plainTicks)
	p.Add(plotter.NewGrid())
	l := plot.NewLegend()
	chartFont(&l.TextStyle, 10)
	l.Top, l.Left = true, true
	l.ThumbnailWidth = vg.Points(22)
	l.Padding = vg.Points(2)
	return chartPanel{plot: p, legend: l}
}

// throughputPanel draws successes and errors per second with the fault
// window, ISR full and the first success after injection.
func throughputPanel(r *drill.Result, m chartMarks, xmax float64) (chartPanel, error) {
	tl := r.Timeline
	ymax := 1.0
	reads := false
	for _, s := range tl {
		ymax = max(ymax, float64(s.Successes), float64(s.Errors), float64(s.Read))
		reads = reads || s.Read > 0
	}
	ymax *= 1.05
	title := "Writes per second"
	if reads {
		title = "Writes and reads per second"
	}
	cp := newChartPanel(title, "records/s")
	p := cp.plot
	if m.hasInjected {
		band, err := faultBand(m, xmax, 0, ymax)
		if err != nil {
			return cp, err
		}
		p.Add(band)
		cp.legend.Add("fault: "+singleLine(r.Fault.String()), band)
	}
	ok, err := stepSeries(tl, func(s drill.Second) float64 { return float64(s.Successes) }, chartSuccess)
	if err != nil {
		return cp, err
	}
	bad, err := stepSeries(tl, func(s drill.Second) float64 { return float64(s.Errors) }, chartError)
	if err != nil {
		return cp, err
	}
	p.Add(ok, bad)
	cp.legend.Add("successes/s", ok)
	cp.legend.Add("errors/s", bad)
	if reads {
		rd, err := stepSeries(tl, func(s drill.Second) float64 { return float64(s.Read) }, chartRead)
		if err != nil {
			return cp, err
		}
		rd.Dashes = []vg.Length{vg.Points(4), vg.Points(2)}
		p.Add(rd)
		cp.legend.Add("read by the group/s", rd)
	}
	if m.hasF {
		l, err := vline(m.first, 0, ymax, chartFirst, vg.Points(2), vg.Points(2))
		if err != nil {
			return cp, err
		}
		p.Add(l)
		cp.legend.Add("first write OK after injection", l)
	}
	if m.hasRecovered {
		l, err := vline(m.recovered, 0, ymax, chartISR, vg.Points(6), vg.Points(3))
		if err != nil {
			return cp, err
		}
		p.Add(l)
		cp.legend.Add("ISR full (recovered)", l)
	}
	p.X.Min, p.X.Max = 0, xmax
	p.Y.Min, p.Y.Max = 0, ymax
	return cp, nil
}

// latencyPanel draws p50 and p99 write latency per second on a log scale
// (a p99 of seconds next to a p50 of milliseconds) with the fault window;
// false when the timeline has no latency.
func latencyPanel(r *drill.Result, m chartMarks, xmax float64) (chartPanel, bool, error) {
	p50 := latencyRuns(r.Timeline, func(s drill.Second) float64 { return s.P50Ms })
	p99 := latencyRuns(r.Timeline, func(s drill.Second) float64 { return s.P99Ms })
	if len(p50) == 0 && len(p99) == 0 {
		return chartPanel{}, false, nil
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, runs := range [][]plotter.XYs{p50, p99} {
		for _, run := range runs {
			for _, xy := range run {
				lo, hi = min(lo, xy.Y), max(hi, xy.Y)
			}
		}
	}
	ymin := math.Pow(10, math.Floor(math.Log10(lo)))
	ymax := math.Pow(10, math.Ceil(math.Log10(hi)))
	if ymax <= ymin {
		ymax = ymin * 10
	}
	cp := newChartPanel("Write latency", "ms (log scale)")
	p := cp.plot
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	if m.hasInjected {
		band, err := faultBand(m, xmax, ymin, ymax)
		if err != nil {
			return cp, false, err
		}
		p.Add(band)
		cp.legend.Add("fault", band)
	}
	for _, s := range []struct {
		name   string
		runs   []plotter.XYs
		c      uint32
		dashes []vg.Length
	}{
		{"p50", p50, chartP50, nil},
		{"p99", p99, chartP99, []vg.Length{vg.Points(4), vg.Points(2)}},
	} {
		for i, run := range s.runs {
			l, err := plotter.NewLine(run)
			if err != nil {
				return cp, false, err
			}
			l.Color, l.Width, l.Dashes = rgb(s.c, 0xff), vg.Points(1.2), s.dashes
			p.Add(l)
			if i == 0 {
				cp.legend.Add(s.name, l)
			}
		}
	}
	p.X.Min, p.X.Max = 0, xmax
	p.Y.Min, p.Y.Max = ymin, ymax
	return cp, true, nil
}

// drillChart builds the timeline panels (writes per second, and write
// latency when the timeline has any) and the height they need; nil when
// the drill has no timeline.
func drillChart(r *drill.Result) ([]chartPanel, vg.Length, error) {
	if len(r.Timeline) == 0 {
		return nil, 0, nil
	}
	m := marksOf(r)
	xmax := float64(r.Timeline[len(r.Timeline)-1].T + 1)
	for _, x := range []struct {
		v  float64
		ok bool
	}{{m.injected, m.hasInjected}, {m.healed, m.hasHealed}, {m.recovered, m.hasRecovered}} {
		if x.ok {
			xmax = max(xmax, x.v)
		}
	}
	tp, err := throughputPanel(r, m, xmax)
	if err != nil {
		return nil, 0, err
	}
	lp, ok, err := latencyPanel(r, m, xmax)
	if err != nil {
		return nil, 0, err
	}
	if !ok {
		return []chartPanel{tp}, 3 * vg.Inch, nil
	}
	return []chartPanel{tp, lp}, 5.4 * vg.Inch, nil
}

// The chart's size: the page scales it to fit, legends take the right.
const (
	chartWidth  = 9 * vg.Inch
	legendWidth = 2.3 * vg.Inch
)

// drawChart draws the panels one above the other with aligned axes, each
// with its legend on its right.
func drawChart(panels []chartPanel, c vg.CanvasSizer) {
	dc := draw.New(c)
	area := draw.Crop(dc, 0, -legendWidth, 0, 0)
	plots := make([][]*plot.Plot, len(panels))
	for i, p := range panels {
		plots[i] = []*plot.Plot{p.plot}
	}
	tiles := draw.Tiles{
		Rows: len(plots), Cols: 1,
		PadTop: vg.Points(4), PadBottom: vg.Points(4), PadLeft: vg.Points(4), PadRight: vg.Points(8),
		PadY: vg.Points(14),
	}
	canvases := plot.Align(plots, tiles, area)
	for i, p := range panels {
		tile := canvases[i][0]
		p.plot.Draw(tile)
		legend := draw.Canvas{Canvas: dc.Canvas, Rectangle: vg.Rectangle{
			Min: vg.Point{X: area.Max.X + vg.Points(6), Y: tile.Min.Y},
			Max: vg.Point{X: dc.Max.X, Y: tile.Max.Y - vg.Points(22)}, // below the title
		}}
		p.legend.Draw(legend)
	}
}

// drillChartSVG draws the timeline as an SVG element fit for inlining in
// HTML, or nothing when the drill has no timeline.
func drillChartSVG(r *drill.Result) ([]byte, error) {
	panels, height, err := drillChart(r)
	if err != nil || panels == nil {
		return nil, err
	}
	c := vgsvg.New(chartWidth, height)
	drawChart(panels, c)
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return nil, err
	}
	return inlineSVG(buf.Bytes())
}

// inlineSVG strips what a standalone SVG file needs and inline SVG in
// HTML does not: the XML declaration, the generator comment and the
// namespace declarations (the HTML parser puts <svg> in the SVG
// namespace by itself).
func inlineSVG(b []byte) ([]byte, error) {
	start := bytes.Index(b, []byte("<svg"))
	if start < 0 {
		return nil, errors.New("chart: no <svg> element in the rendered chart")
	}
	end := bytes.IndexByte(b[start:], '>')
	if end < 0 {
		return nil, errors.New("chart: unterminated <svg> element in the rendered chart")
	}
	end += start
	attrs := []string{"<svg", `role="img"`, `aria-label="drill timeline"`}
	for _, a := range strings.Fields(string(b[start+len("<svg") : end])) {
		if !strings.HasPrefix(a, "xmlns") {
			attrs = append(attrs, a)
		}
	}
	var out bytes.Buffer
	out.WriteString(strings.Join(attrs, " "))
	out.Write(b[end:])
	return out.Bytes(), nil
}

// htmlMeasure is one row of the comparison table for the template.
type htmlMeasure struct {
	What, Observed, Predicted, Goal string
	Class                           string // "ok", "bad" or ""
}

// htmlPoint is one comparison point for the template.
type htmlPoint struct {
	What, Predicted, Observed string
	Agree                     bool
}

// htmlView is what the page template shows.
type htmlView struct {
	Title, Tool                        string
	Verdict, VerdictClass              string
	Fault, Agreement, Phases, Counts   string
	Disagree                           bool
	ClusterID, Backend, Started        string
	Config, ReadBack, Source           string
	Measures                           []htmlMeasure
	Points                             []htmlPoint
	CompNotes                          []string
	WhyScenario                        string
	Why                                []string
	Chart                              template.HTML
	Workload                           string
	Settings                           []drill.Setting
	VersionNote                        string
	Rejected                           []string
	Consumers                          []string
	PhaseRows                          []phase
	LostHeader                         []string
	Lost                               [][]string
	LostCount, LostMore                int64
	Healed                             bool
	HealedLine, LeftoverHead           string
	Leftover, Notes                    []string
	SuccessColor, ErrorColor, ISRColor string
}

// renderDrillHTML writes one self-contained page: verdict and comparison
// first, then the timeline chart, workload, phases, lost records, heal
// status and notes. html/template escapes every text; the chart is SVG
// this package drew from numbers and fixed labels.
func renderDrillHTML(r *drill.Result, o Options) ([]byte, error) {
	svg, err := drillChartSVG(r)
	if err != nil {
		return nil, err
	}
	v := htmlView{
		Title:        fmt.Sprintf("%s drill: %s — %s", o.tool(), drillHeadline(r.Verdict), r.Fault.String()),
		Tool:         o.toolVersion(),
		Verdict:      drillHeadline(r.Verdict),
		VerdictClass: "other",
		Fault:        faultLine(r),
		Agreement:    agreementLine(r),
		Disagree:     r.Predicted != nil && !r.Comparison.Agree,
		Phases:       phasesLine(r),
		Counts:       countsLineDrill(r.Observed),
		ClusterID:    r.ClusterID,
		Backend:      r.Backend,
		Config:       r.Config,
		ReadBack:     r.Observed.ReadBack,
		Source:       r.Workload.Source,
		CompNotes:    r.Comparison.Notes,
		Chart:        template.HTML(svg), // drawn here from numbers and fixed labels
		Workload:     workloadLine(r.Workload),
		Settings:     r.Workload.Settings,
		VersionNote:  r.Workload.VersionNote,
		Rejected:     r.Workload.Rejected,
		Consumers:    consumerLines(r),
		PhaseRows:    drillPhases(r),
		LostHeader:   lostHeader(),
		LostCount:    r.Observed.AckedLost,
		Healed:       r.Healed,
		HealedLine:   healedLine,
		LeftoverHead: leftoverHeadline(r),
		Leftover:     r.Leftover,
		Notes:        r.Notes,
		SuccessColor: cssColor(chartSuccess),
		ErrorColor:   cssColor(chartError),
		ISRColor:     cssColor(chartISR),
	}
	switch r.Verdict {
	case drill.Pass, drill.Fail, drill.Error:
		v.VerdictClass = string(r.Verdict)
	}
	if !r.Phases.Started.IsZero() {
		v.Started = r.Phases.Started.UTC().Format(time.RFC3339)
	}
	for _, m := range measures(r) {
		hm := htmlMeasure{What: m.what, Observed: m.observed, Predicted: m.predicted, Goal: m.goalCell()}
		if m.met != nil {
			hm.Class = "ok"
			if !*m.met {
				hm.Class = "bad"
			}
		}
		v.Measures = append(v.Measures, hm)
	}
	for _, p := range r.Comparison.Points {
		v.Points = append(v.Points, htmlPoint{What: p.What, Predicted: p.Predicted, Observed: p.Observed, Agree: p.Agree})
	}
	if r.Predicted != nil {
		v.WhyScenario, v.Why = r.Predicted.Scenario, r.Predicted.Why
	}
	shown, more := shownLost(r.Observed, -1)
	for _, e := range shown {
		v.Lost = append(v.Lost, lostCells(r, e))
	}
	v.LostMore = more

	page, err := template.New("drill").Parse(drillPageTemplate)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := page.Execute(&b, v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

const drillPageTemplate = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2328;
  max-width: 62rem; margin: 1.5rem auto; padding: 0 1rem; line-height: 1.45; }
h1 { font-size: 1.6rem; margin: 0 0 .3rem; }
h2 { font-size: 1.15rem; margin: 1.8rem 0 .5rem; border-bottom: 1px solid #d0d7de; padding-bottom: .2rem; }
header { border-left: .4rem solid #8c959f; padding: .6rem 1rem; background: #f6f8fa; }
header.pass { border-color: #1a7f37; } header.pass h1 { color: #1a7f37; }
header.fail, header.error { border-color: #cf222e; } header.fail h1, header.error h1 { color: #cf222e; }
header p { margin: .2rem 0; }
.meta, .muted, footer { color: #656d76; font-size: .9rem; }
.warn { color: #9a6700; font-weight: 600; }
table { border-collapse: collapse; margin: .4rem 0; }
th, td { border: 1px solid #d0d7de; padding: .25rem .6rem; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.bad td, td.bad { color: #cf222e; font-weight: 600; }
tr.ok td.goal, td.ok { color: #1a7f37; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .9em; }
.leftover { border: 2px solid #cf222e; background: #ffebe9; padding: .5rem 1rem; color: #82071e; }
.leftover strong { font-size: 1.1rem; }
.healed { color: #1a7f37; font-weight: 600; }
figure { margin: .5rem 0; }
figure svg { width: 100%; height: auto; max-width: 100%; }
figure svg text { font-family: "Liberation Sans", Arial, Helvetica, sans-serif !important; }
figcaption { color: #656d76; font-size: .9rem; }
</style>
</head>
<body>
<header class="{{.VerdictClass}}">
<h1>{{.Verdict}}</h1>
<p><strong>{{.Fault}}</strong> · {{if .Disagree}}<span class="warn">{{.Agreement}}</span>{{else}}{{.Agreement}}{{end}}</p>
<p>{{.Phases}}</p>
<p class="meta">{{if .ClusterID}}cluster <code>{{.ClusterID}}</code> · {{end}}{{if .Backend}}backend {{.Backend}} · {{end}}{{if .Started}}started {{.Started}} · {{end}}{{.Tool}}{{if .Config}} · config <code>{{.Config}}</code>{{end}}</p>
</header>
{{if not .Healed}}
<section class="leftover">
<p><strong>{{.LeftoverHead}}</strong></p>
<ul>{{range .Leftover}}<li>{{.}}</li>{{else}}<li>unknown: see the notes, then run <code>stretchctl drill recover</code></li>{{end}}</ul>
</section>
{{end}}
<section>
<h2>Observed vs predicted vs goals</h2>
<table>
<tr><th></th><th>observed</th><th>predicted</th><th>goal</th></tr>
{{range .Measures}}<tr{{if .Class}} class="{{.Class}}"{{end}}><th>{{.What}}</th><td>{{.Observed}}</td><td>{{.Predicted}}</td><td class="goal">{{.Goal}}</td></tr>
{{end}}</table>
<p class="muted">{{.Counts}}{{if .ReadBack}} · read back {{.ReadBack}}{{end}}</p>
</section>
<section>
<h2>Comparison with the prediction</h2>
{{if .Points}}<table>
<tr><th></th><th>point</th><th>predicted</th><th>observed</th></tr>
{{range .Points}}<tr{{if not .Agree}} class="bad"{{end}}><td>{{if .Agree}}✓ agree{{else}}✗ disagree{{end}}</td><td>{{.What}}</td><td>{{.Predicted}}</td><td>{{.Observed}}</td></tr>
{{end}}</table>
{{else}}<p>{{.Agreement}}.</p>
{{end}}{{if .CompNotes}}<ul>{{range .CompNotes}}<li>{{.}}</li>{{end}}</ul>
{{end}}{{if .Why}}<details><summary>Why the prediction for {{.WhyScenario}}</summary>
<ul>{{range .Why}}<li>{{.}}</li>{{end}}</ul>
</details>
{{end}}</section>
<section>
<h2>Timeline</h2>
{{if .Chart}}<figure>
{{.Chart}}<figcaption>Successful and failed writes per second (<span style="color:{{.SuccessColor}}">successes</span>, <span style="color:{{.ErrorColor}}">errors</span>); the shaded band is the fault, from injection to heal; the <span style="color:{{.ISRColor}}">green dashed line</span> is when every partition had its full ISR again.</figcaption>
</figure>
{{else}}<p class="muted">No timeline was recorded.</p>
{{end}}</section>
<section>
<h2>Workload</h2>
<p>{{.Workload}}{{if .Source}} · settings from <code>{{.Source}}</code>{{end}}</p>
{{if .Settings}}<table>
<tr><th>setting</th><th>value</th><th>origin</th></tr>
{{range .Settings}}<tr><td><code>{{.Name}}</code></td><td><code>{{.Value}}</code></td><td>{{.Origin}}</td></tr>
{{end}}</table>
{{end}}{{with .VersionNote}}<p>Version: {{.}}</p>
{{end}}{{if .Rejected}}<ul>{{range .Rejected}}<li>not applied: {{.}}</li>{{end}}</ul>
{{end}}{{if .Consumers}}<h3>Read side</h3>
<ul>{{range .Consumers}}<li>{{.}}</li>{{end}}</ul>
{{end}}</section>
<section>
<h2>Phases</h2>
<table>
<tr><th>phase</th><th>since start</th></tr>
{{range .PhaseRows}}<tr><td>{{.Name}}</td><td class="num">{{.At}}</td></tr>
{{end}}</table>
</section>
{{if or .Lost .LostMore}}<section>
<h2>Acknowledged records lost ({{.LostCount}})</h2>
<details{{if le (len .Lost) 20}} open{{end}}><summary>{{len .Lost}} listed</summary>
<table>
<tr>{{range .LostHeader}}<th>{{.}}</th>{{end}}</tr>
{{range .Lost}}<tr>{{range .}}<td class="num">{{.}}</td>{{end}}</tr>
{{end}}</table>
{{if .LostMore}}<p>and {{.LostMore}} more</p>{{end}}
</details>
</section>
{{end}}{{if .Healed}}<p class="healed">✓ {{.HealedLine}}</p>
{{end}}{{if .Notes}}<section>
<h2>Notes</h2>
<ul>{{range .Notes}}<li>{{.}}</li>{{end}}</ul>
</section>
{{end}}<footer><p>{{.Tool}}</p></footer>
</body>
</html>
`
