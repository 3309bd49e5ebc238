package probe

import (
	"fmt"
	"math"
	"time"
)

// Reports and matrix files are written by others (agents of other
// versions, anyone who can write to the results topic, a hand-edited
// file): their figures are checked before any enters a matrix. A negative
// latency, one too large for a duration (9.2e12 ms wraps to 0), or a
// report from the future (always fresh) would turn a failing check into
// a pass.

// maxLatencyMs is the largest latency a report may hold: the probes'
// histogram range (10 minutes).
const maxLatencyMs = float64(histHighest) / 1000

// maxWindowMs bounds a report's window and interval (a day).
const maxWindowMs = float64(24 * time.Hour / time.Millisecond)

// clockSkew is how far in the future a report's time may be (clocks of
// different hosts disagree a little).
const clockSkew = time.Minute

// problem says what is impossible in the report, with the JSON path of
// the field under prefix ("" when nothing is).
func (r Report) problem(prefix string, now time.Time) string {
	switch {
	case r.At.IsZero():
		return prefix + "at: missing"
	case r.At.After(now.Add(clockSkew)):
		return fmt.Sprintf("%sat: %s is in the future (now %s)", prefix, r.At.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	for _, f := range []named[float64]{{"windowMs", r.WindowMs}, {"intervalMs", r.IntervalMs}} {
		if math.IsNaN(f.v) || f.v < 0 || f.v > maxWindowMs {
			return fmt.Sprintf("%s%s: %v is not a duration in milliseconds (0 to %g)", prefix, f.name, f.v, maxWindowMs)
		}
	}
	for i, c := range r.Matrix {
		for _, k := range []named[Stats]{{"connect", c.Connect}, {"request", c.Request}, {"produceAcks1", c.ProduceAcks1},
			{"produceAcksAll", c.ProduceAcksAll}, {"replication", c.Replication}, {"endToEnd", c.EndToEnd}} {
			if p := k.v.problem(); p != "" {
				return fmt.Sprintf("%smatrix[%d].%s.%s", prefix, i, k.name, p)
			}
		}
	}
	return ""
}

// named is a field and its JSON name, checked in the file's order.
type named[T any] struct {
	name string
	v    T
}

// problem says which figure of the stats is impossible ("" when none).
func (s Stats) problem() string {
	for _, f := range []named[int64]{{"count", s.Count}, {"errors", s.Errors}, {"timeouts", s.Timeouts}} {
		if f.v < 0 {
			return fmt.Sprintf("%s: %d is negative", f.name, f.v)
		}
	}
	if s.Percentiles == nil {
		return ""
	}
	for _, f := range []named[float64]{{"minMs", s.MinMs}, {"meanMs", s.MeanMs}, {"p50Ms", s.P50Ms}, {"p99Ms", s.P99Ms}, {"maxMs", s.MaxMs}} {
		if math.IsNaN(f.v) || f.v < 0 || f.v > maxLatencyMs {
			return fmt.Sprintf("%s: %v is not a latency in milliseconds (0 to %g)", f.name, f.v, maxLatencyMs)
		}
	}
	return ""
}
