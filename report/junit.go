package report

import (
	"encoding/xml"
	"strings"

	"github.com/stretchctl/stretchctl/rules"
)

// The JUnit XML shape that GitHub (test reporters), GitLab and Jenkins
// read: testsuites > testsuite > testcase with failure, skipped and
// system-out.

type junitTestsuites struct {
	XMLName  xml.Name         `xml:"testsuites"`
	Name     string           `xml:"name,attr"`
	Tests    int              `xml:"tests,attr"`
	Failures int              `xml:"failures,attr"`
	Errors   int              `xml:"errors,attr"`
	Skipped  int              `xml:"skipped,attr"`
	Time     string           `xml:"time,attr"`
	Suites   []junitTestsuite `xml:"testsuite"`
}

type junitTestsuite struct {
	Name      string          `xml:"name,attr"`
	Tests     int             `xml:"tests,attr"`
	Failures  int             `xml:"failures,attr"`
	Errors    int             `xml:"errors,attr"`
	Skipped   int             `xml:"skipped,attr"`
	Time      string          `xml:"time,attr"`
	Timestamp string          `xml:"timestamp,attr,omitempty"`
	Cases     []junitTestcase `xml:"testcase"`
}

type junitTestcase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	Skipped   *junitSkipped `xml:"skipped,omitempty"`
	SystemOut *junitText    `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Body    string `xml:",cdata"`
}

// junitText is element text kept in CDATA, so multi-line bodies stay
// readable in the raw file.
type junitText struct {
	Text string `xml:",cdata"`
}

// cdata makes text safe for a CDATA section: encoding/xml splits "]]>"
// but writes other characters as they are, so the ones XML 1.0 forbids
// (control characters, invalid UTF-8) become U+FFFD.
func cdata(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\t' || r == '\n' || r == '\r',
			r >= 0x20 && r <= 0xD7FF,
			r >= 0xE000 && r <= 0xFFFD,
			r >= 0x10000 && r <= 0x10FFFF:
			return r
		}
		return '\uFFFD'
	}, s)
}

// systemOut wraps text for a system-out element.
func systemOut(s string) *junitText { return &junitText{Text: cdata(s)} }

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

// renderJUnit writes one test suite per rule category (topology, rpo, rto,
// and other for IDs outside those families) and one "scenarios" suite. A
// finding is a test case that fails when it is unsuppressed and at least
// as severe as the report's FailOn, is skipped when suppressed, and
// passes otherwise; a scenario fails when its goals are not met. The
// fixed suites are always present, so a clean run still shows them.
func renderJUnit(r *rules.Report, o Options) ([]byte, error) {
	tool := o.tool()
	order := []string{"topology", "rpo", "rto", "other", "scenarios"}
	suites := map[string]*junitTestsuite{}
	for _, name := range order {
		suites[name] = &junitTestsuite{Name: name, Time: "0"}
	}
	if !r.TakenAt.IsZero() {
		// Jenkins' schema wants a timestamp without a zone.
		ts := r.TakenAt.UTC().Format("2006-01-02T15:04:05")
		for _, s := range suites {
			s.Timestamp = ts
		}
	}

	for _, f := range r.Findings {
		cat := category(f.ID)
		tc := junitTestcase{
			Name:      f.ID + " " + f.Subject,
			Classname: tool + "." + cat,
			Time:      "0",
		}
		details := findingDetails(f)
		switch {
		case f.Suppressed != "":
			tc.Skipped = &junitSkipped{Message: "suppressed: " + singleLine(f.Suppressed)}
			tc.SystemOut = systemOut(details)
		case fails(r, f):
			msg := f.Severity.String() + ": " + singleLine(f.Message)
			if f.Unknown {
				msg = f.Severity.String() + " (unknown): " + singleLine(f.Message)
			}
			tc.Failure = &junitFailure{Message: msg, Type: f.Severity.String(), Body: cdata(details)}
		default:
			tc.SystemOut = systemOut(details)
		}
		suites[cat].Cases = append(suites[cat].Cases, tc)
	}

	for _, s := range r.Scenarios {
		tc := junitTestcase{Name: s.Name, Classname: tool + ".scenarios", Time: "0"}
		details := scenarioDetails(s, r.Goals)
		if s.GoalsMet {
			tc.SystemOut = systemOut(details)
		} else {
			tc.Failure = &junitFailure{Message: "goals violated: " + scenarioSummary(s, r.Goals), Type: "scenario", Body: cdata(details)}
		}
		suites["scenarios"].Cases = append(suites["scenarios"].Cases, tc)
	}

	name := tool + " check"
	if r.Cluster != "" {
		name += " " + r.Cluster
	}
	doc := junitTestsuites{Name: name, Time: "0"}
	for _, n := range order {
		s := suites[n]
		if n == "other" && len(s.Cases) == 0 {
			continue
		}
		for _, c := range s.Cases {
			s.Tests++
			if c.Failure != nil {
				s.Failures++
			}
			if c.Skipped != nil {
				s.Skipped++
			}
		}
		doc.Tests += s.Tests
		doc.Failures += s.Failures
		doc.Skipped += s.Skipped
		doc.Suites = append(doc.Suites, *s)
	}

	out, err := xml.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(append([]byte(xml.Header), out...), '\n'), nil
}
