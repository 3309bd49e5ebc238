package probe

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzReport: whatever another writer put into the results topic, a
// report that decodes never crashes the matrix, and no round trip taken
// from it is negative or beyond the probes' range.
func FuzzReport(f *testing.F) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	good, _ := json.Marshal(report("dc-a/x", "dc-a", now.Add(-time.Second), cellMs("dc-a", "dc-b", 20)))
	f.Add(good)
	f.Add([]byte(`{"v":1,"agent":"dc-a/x","from":"dc-a","at":"2026-11-30T12:00:00Z","matrix":[{"from":"dc-a","to":"dc-b","connect":{"count":1,"p50Ms":-5}}]}`))
	f.Add([]byte(`{"v":1,"at":"9999-01-01T00:00:00Z","windowMs":1e300,"matrix":[{"connect":{"p50Ms":9.2e12}}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var r Report
		if json.Unmarshal(b, &r) != nil {
			return
		}
		m := BuildMatrix([]Report{r}, now, "fuzz")
		rtt, _ := m.RTT()
		for k, v := range rtt {
			if v < 0 || v > 10*time.Minute {
				t.Errorf("%s: round trip %v from %q", k, v, b)
			}
		}
	})
}

// FuzzLoadMatrix: a matrix file of any content is refused or loaded,
// never a crash, never an impossible round trip.
func FuzzLoadMatrix(f *testing.F) {
	now := time.Now()
	m := BuildMatrix([]Report{report("dc-a/x", "dc-a", now.Add(-time.Second), cellMs("dc-a", "dc-b", 20))}, now, "agents")
	b, _ := json.Marshal(m)
	f.Add(b)
	f.Add([]byte(`{"matrix":[{"from":"dc-a","to":"dc-b","connect":{"count":1,"p50Ms":1e30}}],"durationMs":-1}`))
	f.Add([]byte(`{"cells":[],"reports":[{"at":"0001-01-01T00:00:00Z"}]}`))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		p := filepath.Join(dir, "m.json")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		m, err := LoadMatrix(p, now)
		if err != nil {
			return
		}
		rtt, _ := m.RTT()
		for k, v := range rtt {
			if v < 0 || v > 10*time.Minute {
				t.Errorf("%s: round trip %v from %q", k, v, b)
			}
		}
	})
}

// FuzzLedgerKey: records read back from the drill topic may be anyone's;
// decoding them never crashes.
func FuzzLedgerKey(f *testing.F) {
	v := make([]byte, ledgerHeader)
	encodeRecord(v, 7, 1, 2, 3, time.Unix(1_800_000_000, 0))
	f.Add(v)
	f.Add([]byte("STL1"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if k, ok := DecodeLedgerKey(b); ok && len(b) < ledgerHeader {
			t.Errorf("decoded %+v from %d bytes", k, len(b))
		}
		_ = sentNanos(b)
	})
}
