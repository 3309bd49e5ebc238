package report

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/owenrumney/go-sarif/v3/pkg/report/v210/sarif"

	"github.com/stretchctl/stretchctl/internal/golden"
	"github.com/stretchctl/stretchctl/rules"
)

func ptr[T any](v T) *T { return &v }

// sampleReport is a report with every part filled in: findings of every
// severity, one with a Location, one suppressed, one unknown, characters
// Markdown and XML must escape; four scenarios with and without a
// predicted RTO; notes.
func sampleReport() *rules.Report {
	return &rules.Report{
		Verdict: rules.VerdictFail,
		FailOn:  rules.High,
		Goals:   rules.Goals{RPO: 0, RTOSeconds: 30},
		Cluster: "prod-stretch",
		TakenAt: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC),
		Findings: []rules.Finding{
			{
				ID: "RPO-001", Severity: rules.High, Subject: "file:producer.properties",
				Message:     "acks=1 acknowledges a write once the leader has it. A leader lost with its DC takes those records along.",
				Remediation: "Set acks=all (sarama: Producer.RequiredAcks = WaitForAll).",
				Evidence:    []rules.Evidence{{Name: "acks", Value: "1"}, {Name: "library", Value: "sarama"}},
				Location:    &rules.Location{File: "clients/producer.properties", Line: 7},
			},
			{
				ID: "TOP-004", Severity: rules.Critical, Subject: "quorum",
				Message:     "KRaft voters are placed 2/1/0: losing dc-a leaves 1 of 3 voters, below the majority of 2. Metadata freezes: no leader elections, no ISR shrink.",
				Remediation: "Place voters 1/1/1 across dc-a, dc-b and dc-c (kafka-metadata-quorum add-controller/remove-controller on a dynamic quorum, KIP-853).",
				Evidence:    []rules.Evidence{{Name: "voters", Value: "3"}, {Name: "voters.dc-a", Value: "2"}, {Name: "majority", Value: "2"}},
			},
			{
				ID: "RPO-002", Severity: rules.Critical, Subject: "topic:orders (partitions 0-11)",
				Message:     "min.insync.replicas=2 equals the replicas dc-a holds: when the ISR has shrunk to dc-a, acks=all acknowledges writes dc-b never saw.",
				Remediation: "Raise min.insync.replicas to 3 or spread replicas 1/1/1 over three DCs.",
				Evidence:    []rules.Evidence{{Name: "rf", Value: "3"}, {Name: "min.insync.replicas", Value: "2"}, {Name: "replicas in dc-a", Value: "2 of 3"}},
			},
			{
				ID: "RTO-005", Severity: rules.High, Subject: "file:payments-producer.properties", Unknown: true,
				Message:     "request.timeout.ms could not be read: the file is missing, so the producer's failover time is unknown.",
				Remediation: "Add the file to clients in stretch.yaml, or remove the client.",
			},
			{
				ID: "RPO-008", Severity: rules.Medium, Subject: "topic:__consumer_offsets",
				Message:     "RF=3 | m=1 < 2: offset commits are acknowledged by one replica; losing its DC rewinds consumers to <auto.offset.reset>.",
				Remediation: "Set min.insync.replicas=2 on __consumer_offsets & check the broker default.",
				Evidence:    []rules.Evidence{{Name: "rf", Value: "3"}, {Name: "min.insync.replicas", Value: "1"}},
			},
			{
				ID: "TOP-003", Severity: rules.Low, Subject: "cluster",
				Message:     "Brokers per DC are 3/2: racks with fewer brokers get more replicas.",
				Remediation: "Add a broker to dc-b.",
				Evidence:    []rules.Evidence{{Name: "dc-a", Value: "3"}, {Name: "dc-b", Value: "2"}},
			},
			{
				ID: "RTO-013", Severity: rules.Info, Subject: "cluster",
				Message:     "auto.leader.rebalance.enable=true moves leaders back when a DC returns, e.g. after a drill.",
				Remediation: "Nothing to do; expect brief client retries.",
			},
			{
				ID: "RPO-011", Severity: rules.High, Subject: "file:consumer.properties",
				Message:     "auto.offset.reset=latest skips records when committed offsets are lost.",
				Remediation: "Set auto.offset.reset=earliest.",
				Suppressed:  "legacy consumer, tracked in JIRA-123",
			},
		},
		Scenarios: []rules.Scenario{
			{
				Name: "lose dc-a", Kind: rules.Lose, DC: "dc-a",
				WriteUnavailable: 12, ReadUnavailable: 0, AckedLossPossible: 4,
				QuorumSurvives: false,
				Why: []string{
					"2 of 3 KRaft voters are in dc-a: the quorum is lost",
					"topic orders keeps 2 of 3 replicas in dc-a with min.insync.replicas=2",
				},
				Topics: []rules.TopicImpact{
					{Topic: "orders", Partitions: 12, WriteUnavailable: 12, AckedLossPossible: 4},
				},
			},
			{
				Name: "isolate dc-a", Kind: rules.Isolate, DC: "dc-a",
				WriteUnavailable: 12, ReadUnavailable: 12, AckedLossPossible: 0,
				QuorumSurvives: false,
				Why:            []string{"the majority side (dc-a) is cut off from the brokers of dc-b"},
			},
			{
				Name: "lose dc-b", Kind: rules.Lose, DC: "dc-b",
				QuorumSurvives:      true,
				PredictedRTOSeconds: ptr(12.5),
				RTOBreakdown: []rules.RTOTerm{
					{Name: "broker.session.timeout.ms", Seconds: 9, Note: "controller fences dc-b's brokers"},
					{Name: "leader election", Seconds: 0.5},
					{Name: "retry.backoff.max.ms", Seconds: 3},
				},
				GoalsMet: true,
			},
			{
				Name: "isolate dc-c", Kind: rules.Isolate, DC: "dc-c",
				QuorumSurvives:      true,
				PredictedRTOSeconds: ptr(0.0),
				RTOBreakdown:        []rules.RTOTerm{},
				GoalsMet:            true,
			},
		},
		Counts: map[string]int{"critical": 2, "high": 2, "medium": 1, "low": 1, "info": 1},
		Notes: []string{
			"inter-DC latency not measured: run stretchctl probe to include it",
			"snapshot is partial: broker 5 did not answer DescribeConfigs",
		},
	}
}

func sampleOptions() Options {
	return Options{Tool: "stretchctl", Version: "v0.3.0", ConfigFile: "stretch.yaml"}
}

func render(t *testing.T, r *rules.Report, f Format, o Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, r, f, o); err != nil {
		t.Fatalf("Write(%s): %v", f, err)
	}
	return buf.Bytes()
}

func assertGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	golden.Assert(t, "report/"+name+".golden", got)
}

func TestGolden(t *testing.T) {
	colored := sampleOptions()
	colored.Color = true
	tests := []struct {
		name   string
		format Format
		opts   Options
		file   string
	}{
		{"text", Text, sampleOptions(), "sample.txt"},
		{"text in colour", Text, colored, "sample.color.txt"},
		{"json", JSON, sampleOptions(), "sample.json"},
		{"junit", JUnit, sampleOptions(), "sample.junit.xml"},
		{"sarif", SARIF, sampleOptions(), "sample.sarif"},
		{"markdown", Markdown, sampleOptions(), "sample.md"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertGolden(t, tt.file, render(t, sampleReport(), tt.format, tt.opts))
		})
	}
}

// emptyReport has nothing to report: every format must still render, and
// SARIF must still be valid.
func emptyReport() *rules.Report {
	return &rules.Report{Verdict: rules.VerdictPass, FailOn: rules.High, Goals: rules.Goals{RTOSeconds: 30}}
}

func TestGoldenEmpty(t *testing.T) {
	for _, f := range Formats() {
		t.Run(string(f), func(t *testing.T) {
			ext := map[Format]string{Text: "txt", JSON: "json", JUnit: "junit.xml", SARIF: "sarif", Markdown: "md"}[f]
			assertGolden(t, "empty."+ext, render(t, emptyReport(), f, Options{}))
		})
	}
}

func TestTextPlainHasNoEscapes(t *testing.T) {
	plain := render(t, sampleReport(), Text, sampleOptions())
	if i := bytes.IndexByte(plain, 0x1b); i >= 0 {
		t.Errorf("text with Color=false has an ESC byte at offset %d:\n%s", i, plain)
	}
	o := sampleOptions()
	o.Color = true
	if colored := render(t, sampleReport(), Text, o); !bytes.ContainsRune(colored, 0x1b) {
		t.Errorf("text with Color=true has no ESC byte:\n%s", colored)
	}
}

func TestTextHostileTextHasNoEscapes(t *testing.T) {
	r := sampleReport()
	r.Cluster = "prod\x1b[2J"
	r.Findings[0].ID = "RPO-001\x1b[31m"
	r.Findings[0].Message = "acks=1 \x1b]0;owned\x07 here"
	r.Findings[0].Evidence = []rules.Evidence{{Name: "acks", Value: "1\x1b[0m"}}
	r.Scenarios[0].Name = "lose \x1bdc-a"
	r.Notes = append(r.Notes, "note \x9b with a C1 CSI")
	for _, f := range []Format{Text, Markdown} {
		out := render(t, r, f, sampleOptions())
		if i := bytes.IndexAny(out, "\x1b\x07\u009b"); i >= 0 {
			t.Errorf("%s: control character at offset %d:\n%q", f, i, out)
		}
	}
}

// TestTextColorKeepsLayout strips the escape sequences from coloured text
// and wants the plain text back: colour must not move a column.
func TestTextColorKeepsLayout(t *testing.T) {
	o := sampleOptions()
	plain := render(t, sampleReport(), Text, o)
	o.Color = true
	colored := render(t, sampleReport(), Text, o)
	stripped := stripANSI(string(colored))
	if stripped != string(plain) {
		t.Errorf("coloured text without escapes differs from plain text\ngot:\n%s\nwant:\n%s", stripped, plain)
	}
}

// stripANSI removes CSI sequences (ESC [ ... final byte).
func stripANSI(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == 0x1b && i+1 < len(s) && s[i+1] == '[' {
			j := i + 2
			for j < len(s) && (s[j] < 0x40 || s[j] > 0x7e) {
				j++
			}
			i = j
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func TestTextOrder(t *testing.T) {
	out := string(render(t, sampleReport(), Text, sampleOptions()))
	// Summary first, then the verdict, findings most severe first,
	// suppressed findings, notes last.
	marks := []string{"✗  lose dc-a", "✓  lose dc-b", "FAIL: goals violated", "CRITICAL (2)", "HIGH (2)", "MEDIUM (1)", "LOW (1)", "INFO (1)", "Suppressed (1)", "Notes"}
	last := -1
	for _, m := range marks {
		i := strings.Index(out, m)
		if i < 0 {
			t.Fatalf("text has no %q:\n%s", m, out)
		}
		if i < last {
			t.Errorf("%q comes before the part preceding it:\n%s", m, out)
		}
		last = i
	}
	if !strings.Contains(out, "at:       clients/producer.properties:7") {
		t.Errorf("text lacks the location of RPO-001:\n%s", out)
	}
	if !strings.Contains(out, `evidence: rf=3, min.insync.replicas=2, replicas in dc-a=2 of 3`) {
		t.Errorf("text lacks quoted evidence:\n%s", out)
	}
}

func TestJSONRoundTrip(t *testing.T) {
	want := sampleReport()
	out := render(t, want, JSON, sampleOptions())
	var got rules.Report
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("unmarshal: %v\n%s", err, out)
	}
	if !reflect.DeepEqual(&got, want) {
		t.Errorf("report after a JSON round trip differs\ngot:  %+v\nwant: %+v", got, *want)
	}
	var raw struct {
		Scenarios []map[string]json.RawMessage `json:"scenarios"`
	}
	if err := json.Unmarshal(out, &raw); err != nil {
		t.Fatal(err)
	}
	for i, s := range raw.Scenarios {
		v, ok := s["predictedRTOSeconds"]
		if !ok {
			t.Errorf("scenario %d: no predictedRTOSeconds field", i)
			continue
		}
		if isNull := string(v) == "null"; isNull != (want.Scenarios[i].PredictedRTOSeconds == nil) {
			t.Errorf("scenario %d: predictedRTOSeconds = %s, want null exactly when nil", i, v)
		}
	}
}

// Test-side JUnit shape, independent of the renderer's structs.
type xSuites struct {
	Tests    int      `xml:"tests,attr"`
	Failures int      `xml:"failures,attr"`
	Skipped  int      `xml:"skipped,attr"`
	Suites   []xSuite `xml:"testsuite"`
}

type xSuite struct {
	Name     string  `xml:"name,attr"`
	Tests    int     `xml:"tests,attr"`
	Failures int     `xml:"failures,attr"`
	Skipped  int     `xml:"skipped,attr"`
	Cases    []xCase `xml:"testcase"`
}

type xCase struct {
	Name    string `xml:"name,attr"`
	Failure *struct {
		Message string `xml:"message,attr"`
		Body    string `xml:",chardata"`
	} `xml:"failure"`
	Skipped *struct {
		Message string `xml:"message,attr"`
	} `xml:"skipped"`
	SystemOut string `xml:"system-out"`
}

func TestJUnit(t *testing.T) {
	out := render(t, sampleReport(), JUnit, sampleOptions())
	var doc xSuites
	if err := xml.Unmarshal(out, &doc); err != nil {
		t.Fatalf("unmarshal: %v\n%s", err, out)
	}

	var names []string
	for _, s := range doc.Suites {
		names = append(names, s.Name)
	}
	if want := []string{"topology", "rpo", "rto", "scenarios"}; !slices.Equal(names, want) {
		t.Errorf("suites = %v, want %v", names, want)
	}

	// failures: TOP-004, RPO-002 (critical), RPO-001 and RTO-005 (high),
	// lose dc-a and isolate dc-a; RPO-011 is high but suppressed.
	wantFail := map[string]bool{
		"TOP-004 quorum": true, "RPO-002 topic:orders (partitions 0-11)": true,
		"RPO-001 file:producer.properties": true, "RTO-005 file:payments-producer.properties": true,
		"lose dc-a": true, "isolate dc-a": true,
	}
	wantSkip := map[string]bool{"RPO-011 file:consumer.properties": true}
	tests, failures, skipped := 0, 0, 0
	for _, s := range doc.Suites {
		sf, ss := 0, 0
		for _, c := range s.Cases {
			if got := c.Failure != nil; got != wantFail[c.Name] {
				t.Errorf("%s/%s: failure %v, want %v", s.Name, c.Name, got, wantFail[c.Name])
			}
			if got := c.Skipped != nil; got != wantSkip[c.Name] {
				t.Errorf("%s/%s: skipped %v, want %v", s.Name, c.Name, got, wantSkip[c.Name])
			}
			if c.Failure != nil {
				sf++
				if !strings.Contains(c.Failure.Body, "\n") || c.Failure.Message == "" {
					t.Errorf("%s/%s: failure without message or body: %+v", s.Name, c.Name, c.Failure)
				}
			}
			if c.Skipped != nil {
				ss++
				if !strings.Contains(c.Skipped.Message, "JIRA-123") {
					t.Errorf("%s/%s: skipped message %q lacks the reason", s.Name, c.Name, c.Skipped.Message)
				}
			}
			if c.Failure == nil && c.SystemOut == "" {
				t.Errorf("%s/%s: passing or skipped case without system-out", s.Name, c.Name)
			}
		}
		if s.Tests != len(s.Cases) || s.Failures != sf || s.Skipped != ss {
			t.Errorf("suite %s: tests/failures/skipped = %d/%d/%d, want %d/%d/%d", s.Name, s.Tests, s.Failures, s.Skipped, len(s.Cases), sf, ss)
		}
		tests += len(s.Cases)
		failures += sf
		skipped += ss
	}
	if failures != len(wantFail) || skipped != len(wantSkip) {
		t.Errorf("failures/skipped = %d/%d, want %d/%d", failures, skipped, len(wantFail), len(wantSkip))
	}
	if doc.Tests != tests || doc.Failures != failures || doc.Skipped != skipped {
		t.Errorf("testsuites tests/failures/skipped = %d/%d/%d, want %d/%d/%d", doc.Tests, doc.Failures, doc.Skipped, tests, failures, skipped)
	}

	body := ""
	for _, s := range doc.Suites {
		for _, c := range s.Cases {
			if c.Name == "RPO-002 topic:orders (partitions 0-11)" {
				body = c.Failure.Body
			}
		}
	}
	for _, want := range []string{"acks=all acknowledges", "Fix: Raise min.insync.replicas", `Evidence: rf=3, min.insync.replicas=2, replicas in dc-a=2 of 3`} {
		if !strings.Contains(body, want) {
			t.Errorf("RPO-002 failure body lacks %q:\n%s", want, body)
		}
	}
}

func TestJUnitHostileText(t *testing.T) {
	r := emptyReport()
	r.Findings = []rules.Finding{{
		ID: "RPO-001", Severity: rules.Critical, Subject: "file:a]]>b.properties",
		Message: "bad \x00 byte, \x1b escape, ]]> end of CDATA, <tag> & \"quotes\"\nsecond line",
	}}
	out := render(t, r, JUnit, Options{})
	var doc xSuites
	if err := xml.Unmarshal(out, &doc); err != nil {
		t.Fatalf("unmarshal: %v\n%s", err, out)
	}
	c := doc.Suites[1].Cases[0]
	if c.Name != "RPO-001 file:a]]>b.properties" {
		t.Errorf("name = %q", c.Name)
	}
	if c.Failure == nil {
		t.Fatalf("no failure: %s", out)
	}
	for _, want := range []string{"bad \uFFFD byte, \uFFFD escape, ]]> end of CDATA, <tag> & \"quotes\"\nsecond line"} {
		if !strings.Contains(c.Failure.Body, want) {
			t.Errorf("failure body %q lacks %q", c.Failure.Body, want)
		}
	}
}

func TestJUnitOtherCategory(t *testing.T) {
	r := emptyReport()
	r.Findings = []rules.Finding{{ID: "MRC-001", Severity: rules.Critical, Subject: "topic:orders", Message: "m"}}
	var doc xSuites
	if err := xml.Unmarshal(render(t, r, JUnit, Options{}), &doc); err != nil {
		t.Fatal(err)
	}
	var other *xSuite
	for i := range doc.Suites {
		if doc.Suites[i].Name == "other" {
			other = &doc.Suites[i]
		}
	}
	if other == nil || other.Failures != 1 {
		t.Errorf("MRC-001 is not a failure in suite other: %+v", doc.Suites)
	}
}

func TestSARIF(t *testing.T) {
	r := sampleReport()
	out := render(t, r, SARIF, sampleOptions())

	log, err := sarif.FromBytes(out)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	if err := log.Validate(); err != nil {
		t.Errorf("SARIF does not validate against the 2.1.0 schema: %v", err)
	}

	var doc struct {
		Version string `json:"version"`
		Runs    []struct {
			Tool struct {
				Driver struct {
					Name  string `json:"name"`
					Rules []struct {
						ID               string `json:"id"`
						ShortDescription struct {
							Text string `json:"text"`
						} `json:"shortDescription"`
						Help struct {
							Text string `json:"text"`
						} `json:"help"`
					} `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Results []struct {
				RuleID    string `json:"ruleId"`
				RuleIndex int    `json:"ruleIndex"`
				Level     string `json:"level"`
				Locations []struct {
					PhysicalLocation *struct {
						ArtifactLocation struct {
							URI string `json:"uri"`
						} `json:"artifactLocation"`
						Region *struct {
							StartLine int `json:"startLine"`
						} `json:"region"`
					} `json:"physicalLocation"`
					LogicalLocations []struct {
						Name string `json:"name"`
					} `json:"logicalLocations"`
				} `json:"locations"`
				Suppressions []struct {
					Kind          string `json:"kind"`
					Justification string `json:"justification"`
				} `json:"suppressions"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatalf("unmarshal: %v", err)
	}
	if doc.Version != "2.1.0" {
		t.Errorf("version = %q, want 2.1.0", doc.Version)
	}
	if len(doc.Runs) != 1 {
		t.Fatalf("runs = %d, want 1", len(doc.Runs))
	}
	run := doc.Runs[0]
	if run.Tool.Driver.Name != "stretchctl" {
		t.Errorf("driver name = %q", run.Tool.Driver.Name)
	}

	var ids []string
	for _, ru := range run.Tool.Driver.Rules {
		ids = append(ids, ru.ID)
	}
	wantIDs := []string{"RPO-001", "TOP-004", "RPO-002", "RTO-005", "RPO-008", "TOP-003", "RTO-013", "RPO-011"}
	if !slices.Equal(ids, wantIDs) {
		t.Errorf("rule ids = %v, want %v", ids, wantIDs)
	}
	if got := run.Tool.Driver.Rules[1].ShortDescription.Text; got != "KRaft voters are placed 2/1/0: losing dc-a leaves 1 of 3 voters, below the majority of 2." {
		t.Errorf("TOP-004 short description = %q, want the first sentence", got)
	}
	if got := run.Tool.Driver.Rules[1].Help.Text; !strings.HasPrefix(got, "Place voters 1/1/1") {
		t.Errorf("TOP-004 help = %q, want the remediation", got)
	}

	wantLevel := map[string]string{
		"RPO-001": "error", "TOP-004": "error", "RPO-002": "error", "RTO-005": "error",
		"RPO-008": "warning", "TOP-003": "note", "RTO-013": "note", "RPO-011": "error",
	}
	if len(run.Results) != len(r.Findings) {
		t.Fatalf("results = %d, want %d", len(run.Results), len(r.Findings))
	}
	for i, res := range run.Results {
		f := r.Findings[i]
		if res.RuleID != f.ID || res.RuleIndex != slices.Index(wantIDs, f.ID) {
			t.Errorf("result %d: rule %s #%d, want %s #%d", i, res.RuleID, res.RuleIndex, f.ID, slices.Index(wantIDs, f.ID))
		}
		if res.Level != wantLevel[f.ID] {
			t.Errorf("%s: level %q, want %q", f.ID, res.Level, wantLevel[f.ID])
		}
		if len(res.Locations) != 1 || res.Locations[0].PhysicalLocation == nil {
			t.Errorf("%s: want one location with a file, got %+v", f.ID, res.Locations)
			continue
		}
		loc := res.Locations[0]
		switch {
		case f.Location != nil:
			if loc.PhysicalLocation.ArtifactLocation.URI != f.Location.File || loc.PhysicalLocation.Region == nil || loc.PhysicalLocation.Region.StartLine != f.Location.Line {
				t.Errorf("%s: location %+v, want %s:%d", f.ID, loc.PhysicalLocation, f.Location.File, f.Location.Line)
			}
		default:
			if loc.PhysicalLocation.ArtifactLocation.URI != "stretch.yaml" || len(loc.LogicalLocations) != 1 || loc.LogicalLocations[0].Name != f.Subject {
				t.Errorf("%s: location %+v, want stretch.yaml and logical %q", f.ID, loc, f.Subject)
			}
		}
		wantSup := f.Suppressed != ""
		if got := len(res.Suppressions) == 1 && res.Suppressions[0].Justification == f.Suppressed && res.Suppressions[0].Kind == "external"; got != wantSup {
			t.Errorf("%s: suppressions %+v, want one external with %q: %v", f.ID, res.Suppressions, f.Suppressed, wantSup)
		}
	}
}

func TestSARIFEmptyValidates(t *testing.T) {
	log, err := sarif.FromBytes(render(t, emptyReport(), SARIF, Options{}))
	if err != nil {
		t.Fatal(err)
	}
	if err := log.Validate(); err != nil {
		t.Errorf("empty SARIF does not validate: %v", err)
	}
}

func TestMarkdownEscapes(t *testing.T) {
	out := string(render(t, sampleReport(), Markdown, sampleOptions()))
	for _, want := range []string{
		"## ❌ stretchctl: goals violated",
		"| lose dc-a | 12 | 0 | 4 | ❌ lost | unbounded | ❌ violated |",
		"| lose dc-b | 0 | 0 | 0 | ✅ survives | ≈ 12.5s | ✅ met |",
		`RF=3 \| m=1 \< 2`,
		`\_\_consumer\_offsets \& check`,
		"<summary>2 low and info findings</summary>",
		"<summary>1 suppressed finding</summary>",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("markdown lacks %q:\n%s", want, out)
		}
	}
	// Low and info findings are inside the details block, not above it.
	if i, j := strings.Index(out, "TOP-003"), strings.Index(out, "<summary>2 low"); i < j {
		t.Errorf("TOP-003 is shown outside the collapsed low/info block:\n%s", out)
	}
}

// TestParseFormat covers both parsers: check's formats and the drill's.
func TestParseFormat(t *testing.T) {
	check := struct {
		name    string
		parse   func(string) (Format, error)
		formats []Format
	}{"ParseFormat", ParseFormat, Formats()}
	drill := check
	drill.name, drill.parse, drill.formats = "ParseDrillFormat", ParseDrillFormat, DrillFormats()
	tests := []struct {
		name    string
		parser  int // 0 check, 1 drill
		in      string
		want    Format
		wantErr bool
	}{
		{"text", 0, "text", Text, false},
		{"json", 0, "json", JSON, false},
		{"junit", 0, "junit", JUnit, false},
		{"sarif", 0, "sarif", SARIF, false},
		{"markdown", 0, "markdown", Markdown, false},
		{"upper case", 0, "SARIF", SARIF, false},
		{"surrounding spaces", 0, " json ", JSON, false},
		{"empty", 0, "", "", true},
		{"html is for drills", 0, "html", "", true},
		{"abbreviation", 0, "md", "", true},
		{"drill text", 1, "text", Text, false},
		{"drill json", 1, "json", JSON, false},
		{"drill markdown", 1, "markdown", Markdown, false},
		{"drill html", 1, "html", HTML, false},
		{"drill upper case and spaces", 1, " HTML ", HTML, false},
		{"drill: sarif is for checks", 1, "sarif", "", true},
		{"drill empty", 1, "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := check
			if tt.parser == 1 {
				p = drill
			}
			got, err := p.parse(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("%s(%q) error = %v, want error %v", p.name, tt.in, err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("%s(%q) = %q, want %q", p.name, tt.in, got, tt.want)
			}
			if err != nil {
				for _, f := range p.formats {
					if !strings.Contains(err.Error(), string(f)) {
						t.Errorf("error %q does not list %q", err, f)
					}
				}
			}
		})
	}
}

func TestWriteErrors(t *testing.T) {
	tests := []struct {
		name   string
		report *rules.Report
		format Format
		want   string
	}{
		{"nil report", nil, Text, "no report"},
		{"unknown format", sampleReport(), Format("html"), `unknown format "html"`},
		{"unparsed name", sampleReport(), Format("TEXT"), `unknown format "TEXT"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := Write(&buf, tt.report, tt.format, Options{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Write error = %v, want it to contain %q", err, tt.want)
			}
			if buf.Len() != 0 {
				t.Errorf("Write wrote %d bytes on error", buf.Len())
			}
		})
	}
}

func TestFirstSentence(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"two sentences", "Writes stop. Data is safe.", "Writes stop."},
		{"dotted config names", "min.insync.replicas=2 is too low. Raise it.", "min.insync.replicas=2 is too low."},
		{"abbreviation", "Use e.g. acks=all here. Then retry.", "Use e.g. acks=all here."},
		{"one sentence", "Only one sentence.", "Only one sentence."},
		{"no period", "no period at all", "no period at all"},
		{"first line", "Line one\nLine two.", "Line one"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := firstSentence(tt.in); got != tt.want {
				t.Errorf("firstSentence(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestCategory(t *testing.T) {
	tests := []struct{ id, want string }{
		{"TOP-004", "topology"},
		{"RPO-002", "rpo"},
		{"RTO-001", "rto"},
		{"MRC-001", "other"},
		{"", "other"},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			if got := category(tt.id); got != tt.want {
				t.Errorf("category(%q) = %q, want %q", tt.id, got, tt.want)
			}
		})
	}
}

func TestArtifactURI(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"relative", "clients/producer.properties", "clients/producer.properties"},
		{"space", "my clients/p.properties", "my%20clients/p.properties"},
		{"absolute", "/etc/stretch/stretch.yaml", "file:///etc/stretch/stretch.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := artifactURI(tt.in); got != tt.want {
				t.Errorf("artifactURI(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
