package probe

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Impossible figures are refused in a matrix file, with the file and the
// field named, and left out of a matrix built from the agents' topic
// (issue 15: a negative or overflowing latency, or a report from the
// future, turned a failing check into a pass).
func TestImpossibleLatencyFigures(t *testing.T) {
	now := time.Now()
	dir := t.TempDir()
	good := report("dc-a/x", "dc-a", now.Add(-time.Second), cellMs("dc-a", "dc-b", 20))
	for _, tt := range []struct {
		name  string
		r     Report
		field string
	}{
		{"negative", report("dc-a/x", "dc-a", now.Add(-time.Second), cellMs("dc-a", "dc-b", -5)), "reports[0].matrix[0].connect.minMs: -5"},
		{"overflowing", report("dc-a/x", "dc-a", now.Add(-time.Second), cellMs("dc-a", "dc-b", 9.2e12)), "reports[0].matrix[0].connect.minMs: 9.2e+12"},
		{"from the future", report("dc-a/x", "dc-a", now.Add(time.Hour), cellMs("dc-a", "dc-b", 20)), "reports[0].at: "},
		{"negative count", report("dc-a/x", "dc-a", now, Cell{From: "dc-a", To: "dc-b", Connect: Stats{Count: -1}}), "reports[0].matrix[0].connect.count: -1"},
		{"negative window", func() Report { r := good; r.WindowMs = -1; return r }(), "reports[0].windowMs: -1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			// In a file: refused, file and field named.
			b, _ := json.Marshal(&Matrix{Source: "agents", Cells: []MatrixCell{}, Reports: []Report{tt.r}})
			p := filepath.Join(dir, tt.name+".json")
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Fatal(err)
			}
			if _, err := LoadMatrix(p, now); err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), tt.field) {
				t.Errorf("LoadMatrix: %v, want the file and %q", err, tt.field)
			}
			// From the topic: left out and named, the good report kept.
			other := good
			other.Agent, other.From, other.Matrix = "dc-b/x", "dc-b", []Cell{cellMs("dc-b", "dc-a", 21)}
			m := BuildMatrix([]Report{tt.r, other}, now, "topic")
			rtt, src := m.RTT()
			if len(m.Invalid) != 1 || rtt["dc-a/dc-b"] != 21*time.Millisecond || !strings.Contains(src, "invalid, not used") {
				t.Errorf("matrix from the topic: invalid %q, RTT %v, source %q; want the bad report out and named", m.Invalid, rtt, src)
			}
		})
	}
	// A one-shot probe file with a negative latency is refused too.
	res := &Result{From: "dc-b", Started: now.Add(-11 * time.Second), DurationMs: 10000, Matrix: []Cell{cellMs("dc-b", "dc-a", -3)}}
	b, _ := json.Marshal(res)
	p := filepath.Join(dir, "probe.json")
	_ = os.WriteFile(p, b, 0o644)
	if _, err := LoadMatrix(p, now); err == nil || !strings.Contains(err.Error(), "matrix[0].connect.") {
		t.Errorf("one-shot probe file with a negative latency: %v", err)
	}
}
