package report

import (
	"bytes"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/owenrumney/go-sarif/v3/pkg/report/v210/sarif"

	"github.com/stretchctl/stretchctl/rules"
)

// sarifLevel maps a severity to a SARIF result level: critical and high
// are errors, medium a warning, low and info notes.
func sarifLevel(s rules.Severity) string {
	switch {
	case s >= rules.High:
		return sarif.LevelError
	case s == rules.Medium:
		return sarif.LevelWarning
	}
	return sarif.LevelNote
}

// artifactURI turns a file path into a SARIF artifact URI: a relative
// reference for relative paths (code scanning resolves it against the
// repository root), a file URI for absolute ones.
func artifactURI(path string) string {
	u := url.URL{Path: filepath.ToSlash(path)}
	if filepath.IsAbs(path) {
		u.Scheme = "file"
		if !strings.HasPrefix(u.Path, "/") {
			u.Path = "/" + u.Path // C:/x on Windows
		}
	}
	return u.String()
}

// renderSARIF writes a SARIF 2.1.0 log with one run: one rule per finding
// ID (short description: the first sentence of its first finding's
// message; help: the remediation), one result per finding. A result is
// located at the finding's Location when set, else at a logical location
// named by the subject, plus Options.ConfigFile when given. Suppressed
// findings carry an external suppression with the config's reason.
// Scenarios are not results; SARIF has no place for them.
func renderSARIF(r *rules.Report, o Options) ([]byte, error) {
	driver := sarif.NewToolComponent().WithName(o.tool())
	if o.Version != "" {
		driver.WithVersion(o.Version)
	}
	run := sarif.NewRun().WithTool(sarif.NewTool().WithDriver(driver))

	for _, f := range r.Findings {
		if run.GetRuleIndex(f.ID) >= 0 {
			continue
		}
		rule := run.AddRule(f.ID).WithDescription(firstSentence(f.Message))
		if f.Remediation != "" {
			rule.WithHelp(sarif.NewMultiformatMessageString().WithText(f.Remediation))
		}
		rule.WithProperties(sarif.NewPropertyBag().AddTag(category(f.ID)))
	}

	for _, f := range r.Findings {
		text := f.Subject + ": " + f.Message
		if f.Unknown {
			text += " (unknown: the rule lacked the data to decide)"
		}
		res := run.CreateResultForRule(f.ID).
			WithLevel(sarifLevel(f.Severity)).
			WithMessage(sarif.NewTextMessage(text))

		props := sarif.NewPropertyBag().Add("severity", f.Severity.String()).Add("subject", f.Subject)
		if f.Unknown {
			props.Add("unknown", true)
		}
		if len(f.Evidence) > 0 {
			ev := make(map[string]string, len(f.Evidence))
			for _, e := range f.Evidence {
				ev[e.Name] = e.Value
			}
			props.Add("evidence", ev)
		}
		res.WithProperties(props)

		switch {
		case f.Location != nil:
			phys := sarif.NewPhysicalLocation().
				WithArtifactLocation(sarif.NewSimpleArtifactLocation(artifactURI(f.Location.File)))
			if f.Location.Line > 0 {
				phys.WithRegion(sarif.NewRegion().WithStartLine(f.Location.Line))
			}
			res.AddLocation(sarif.NewLocationWithPhysicalLocation(phys))
		default:
			loc := sarif.NewLocation().AddLogicalLocation(
				sarif.NewLogicalLocation().WithName(f.Subject).WithKind("resource"))
			if o.ConfigFile != "" {
				loc.WithPhysicalLocation(sarif.NewPhysicalLocation().
					WithArtifactLocation(sarif.NewSimpleArtifactLocation(artifactURI(o.ConfigFile))))
			}
			res.AddLocation(loc)
		}

		if f.Suppressed != "" {
			res.AddSuppression(sarif.NewSuppression().
				WithKind("external").
				WithStatus("accepted").
				WithJustification(f.Suppressed))
		}
	}

	log := sarif.NewReport().AddRun(run)
	var b bytes.Buffer
	if err := log.PrettyWrite(&b); err != nil {
		return nil, err
	}
	b.WriteByte('\n')
	return b.Bytes(), nil
}
