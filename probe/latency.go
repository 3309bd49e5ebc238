package probe

import (
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/IBM/sarama"

	"github.com/stretchctl/stretchctl/topology"
)

// Result is what one Measure run saw from its vantage point: a row per
// broker and the DC×DC matrix row(s) aggregated from them. Latencies are in
// milliseconds; a kind without a single sample has no percentiles, only its
// error and timeout counts and, when it could not be measured at all, the
// reason in Unknown.
type Result struct {
	// From is the DC of the vantage point; empty when unknown.
	From string `json:"from"`
	// Source is the bootstrap list the cluster was reached through.
	Source string `json:"source"`
	// Topic is the probe topic written to.
	Topic   string    `json:"topic"`
	Started time.Time `json:"started"`
	// DurationMs is how long samples were taken, IntervalMs the pause
	// between two samples of one kind to one broker, TimeoutMs the bound of
	// every request.
	DurationMs float64 `json:"durationMs"`
	IntervalMs float64 `json:"intervalMs"`
	TimeoutMs  float64 `json:"timeoutMs"`
	// Brokers holds one row per broker, by id, fenced brokers included.
	Brokers []BrokerLatency `json:"brokers"`
	// Matrix aggregates the rows per broker DC: one cell per (From, DC).
	Matrix []Cell `json:"matrix"`
	// Errors lists what went wrong outside the samples: a fenced broker,
	// a probe topic that could not be created, a leader that could not be
	// moved.
	Errors []topology.ItemError `json:"errors,omitempty"`
}

// BrokerLatency is what was measured to one broker.
type BrokerLatency struct {
	ID   int32  `json:"id"`
	Addr string `json:"addr"`
	Rack string `json:"rack,omitempty"`
	// DC is the broker's data center, from its rack; empty when unknown.
	DC string `json:"dc,omitempty"`
	// Fenced brokers are registered with the controller but not serving
	// (down or cut off); they are probed all the same.
	Fenced bool `json:"fenced,omitempty"`
	// Partition is the probe topic partition this broker led when the run
	// started, -1 when it led none (see ProduceAcks1.Unknown for why).
	Partition int32 `json:"partition"`
	// Connect is the TCP handshake on a fresh connection (no TLS, no SASL).
	Connect Stats `json:"connect"`
	// Request is an ApiVersions round trip on a long-lived connection: the
	// network round trip plus the broker's cheapest request handling.
	Request Stats `json:"request"`
	// ProduceAcks1 and ProduceAcksAll are one-record produce requests to
	// Partition with acks=1 and acks=all, each on its own connection.
	ProduceAcks1   Stats `json:"produceAcks1"`
	ProduceAcksAll Stats `json:"produceAcksAll"`
	// Replication is acks=all minus acks=1 of the same interval: the time
	// the leader waits for its slowest in-sync follower to fetch the
	// record and ask for the next, that is one round trip to the farthest
	// follower's DC plus the follower's and the leader's handling (a few
	// ms; measure it on a topic whose replicas share a DC to subtract it).
	Replication Stats `json:"replication"`
	// EndToEnd is from sending a record to reading it back from Partition's
	// leader. A record becomes readable once every in-sync replica has it
	// (the high watermark), whatever the producer's acks, so it includes
	// the replication round trip.
	EndToEnd Stats `json:"endToEnd"`
}

// Cell is one vantage DC → broker DC cell of the matrix: the samples of
// every broker of To, merged.
type Cell struct {
	From    string  `json:"from"`
	To      string  `json:"to"`
	Brokers []int32 `json:"brokers"`
	// The kinds are those of BrokerLatency. Replication and EndToEnd are
	// those of partitions led in To.
	Connect        Stats `json:"connect"`
	Request        Stats `json:"request"`
	ProduceAcks1   Stats `json:"produceAcks1"`
	ProduceAcksAll Stats `json:"produceAcksAll"`
	Replication    Stats `json:"replication"`
	EndToEnd       Stats `json:"endToEnd"`
}

// Stats summarises the samples of one kind of measurement. Count is the
// number of successful samples; Errors and Timeouts count the attempts
// that failed, which never enter the percentiles.
type Stats struct {
	Count    int64 `json:"count"`
	Errors   int64 `json:"errors"`
	Timeouts int64 `json:"timeouts"`
	// Percentiles is nil when there is no sample.
	*Percentiles
	// LastError is the most recent failure, phrased for a person.
	LastError string `json:"lastError,omitempty"`
	// Unknown says why this kind was not measured at all.
	Unknown string `json:"unknown,omitempty"`
}

// Percentiles of the samples in milliseconds, from an HDR histogram with
// three significant digits (0.1% resolution).
type Percentiles struct {
	MinMs  float64 `json:"minMs"`
	MeanMs float64 `json:"meanMs"`
	P50Ms  float64 `json:"p50Ms"`
	P99Ms  float64 `json:"p99Ms"`
	MaxMs  float64 `json:"maxMs"`
}

// P50 returns the median and whether there was a sample.
func (s Stats) P50() (time.Duration, bool) {
	if s.Percentiles == nil {
		return 0, false
	}
	return msDuration(s.P50Ms), true
}

// Failed is the number of attempts that failed (errors and timeouts).
func (s Stats) Failed() int64 { return s.Errors + s.Timeouts }

// Cell returns the matrix cell from → to, or false.
func (r *Result) Cell(from, to string) (Cell, bool) {
	for _, c := range r.Matrix {
		if c.From == from && c.To == to {
			return c, true
		}
	}
	return Cell{}, false
}

// Broker returns the row of broker id, or false.
func (r *Result) Broker(id int32) (BrokerLatency, bool) {
	for _, b := range r.Brokers {
		if b.ID == id {
			return b, true
		}
	}
	return BrokerLatency{}, false
}

func msDuration(ms float64) time.Duration { return time.Duration(ms * float64(time.Millisecond)) }

func durationMs(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// Histogram range: 1 µs to 10 min in microseconds, three significant
// digits. Longer samples (a request bound raised that far) are clamped.
const (
	histLowest  = 1
	histHighest = int64(10 * time.Minute / time.Microsecond)
	histDigits  = 3
)

// series collects the samples of one kind to one broker. Samples and
// failures come from the worker goroutines; it is safe for concurrent use.
type series struct {
	mu       sync.Mutex
	h        *hdrhistogram.Histogram
	errors   int64
	timeouts int64
	lastErr  string
	unknown  string
}

func newSeries() *series {
	return &series{h: hdrhistogram.New(histLowest, histHighest, histDigits)}
}

// ok records a sample.
func (s *series) ok(d time.Duration) {
	us := min(max(d.Microseconds(), histLowest), histHighest)
	s.mu.Lock()
	defer s.mu.Unlock()
	_ = s.h.RecordValue(us) // in range by construction
}

// fail records a failed attempt: a timeout when err is one (a network
// timeout, or Kafka's REQUEST_TIMED_OUT), else an error. why phrases it.
func (s *series) fail(err error, why string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if isTimeout(err) || errors.Is(err, sarama.ErrRequestTimedOut) {
		s.timeouts++
	} else {
		s.errors++
	}
	s.lastErr = why
}

// expired counts n records that never came back as timeouts.
func (s *series) expired(n int, why string) {
	if n == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.timeouts += int64(n)
	s.lastErr = why
}

// setUnknown says why this kind is not measured.
func (s *series) setUnknown(why string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.unknown = why
}

// stats summarises the series.
func (s *series) stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return summarize(s.h, s.errors, s.timeouts, s.lastErr, s.unknown)
}

func summarize(h *hdrhistogram.Histogram, errs, timeouts int64, lastErr, unknown string) Stats {
	st := Stats{Count: h.TotalCount(), Errors: errs, Timeouts: timeouts, LastError: lastErr, Unknown: unknown}
	if st.Count > 0 {
		us := func(v int64) float64 { return float64(v) / 1000 }
		st.Percentiles = &Percentiles{
			MinMs:  us(h.Min()),
			MeanMs: h.Mean() / 1000,
			P50Ms:  us(h.ValueAtQuantile(50)),
			P99Ms:  us(h.ValueAtQuantile(99)),
			MaxMs:  us(h.Max()),
		}
	}
	return st
}

// merge sums series (of the brokers of one DC) into one Stats.
func merge(all []*series) Stats {
	h := hdrhistogram.New(histLowest, histHighest, histDigits)
	var errs, timeouts int64
	var lastErr, unknown string
	known := false
	for _, s := range all {
		s.mu.Lock()
		h.Merge(s.h)
		errs += s.errors
		timeouts += s.timeouts
		if s.lastErr != "" {
			lastErr = s.lastErr
		}
		if s.unknown == "" {
			known = true
		} else if unknown == "" {
			unknown = s.unknown
		}
		s.mu.Unlock()
	}
	if known {
		unknown = ""
	}
	return summarize(h, errs, timeouts, lastErr, unknown)
}

// kinds of measurement, in BrokerLatency's field order.
type kind int

const (
	kindConnect kind = iota
	kindRequest
	kindAcks1
	kindAcksAll
	kindReplication
	kindEndToEnd
	numKinds
)

// target is one broker under probe and its series.
type target struct {
	id     int32
	addr   string
	rack   string
	dc     string
	fenced bool
	// partition of the probe topic it leads, -1 for none.
	partition int32
	s         [numKinds]*series
}

func newTarget(b topology.Broker, dc string, fenced bool) *target {
	t := &target{id: b.ID, addr: b.Addr(), rack: b.Rack, dc: dc, fenced: fenced, partition: -1}
	for k := range t.s {
		t.s[k] = newSeries()
	}
	return t
}

func (t *target) row() BrokerLatency {
	return BrokerLatency{
		ID: t.id, Addr: t.addr, Rack: t.rack, DC: t.dc, Fenced: t.fenced, Partition: t.partition,
		Connect:        t.s[kindConnect].stats(),
		Request:        t.s[kindRequest].stats(),
		ProduceAcks1:   t.s[kindAcks1].stats(),
		ProduceAcksAll: t.s[kindAcksAll].stats(),
		Replication:    t.s[kindReplication].stats(),
		EndToEnd:       t.s[kindEndToEnd].stats(),
	}
}

// matrix aggregates the targets per DC into the cells from → DC, in DC
// order (an unknown DC last).
func matrix(from string, targets []*target) []Cell {
	byDC := map[string][]*target{}
	var dcs []string
	for _, t := range targets {
		if _, ok := byDC[t.dc]; !ok {
			dcs = append(dcs, t.dc)
		}
		byDC[t.dc] = append(byDC[t.dc], t)
	}
	slices.SortFunc(dcs, func(a, b string) int {
		switch {
		case a == b:
			return 0
		case a == "":
			return 1
		case b == "":
			return -1
		case a < b:
			return -1
		}
		return 1
	})
	cells := make([]Cell, 0, len(dcs))
	for _, dc := range dcs {
		ts := byDC[dc]
		c := Cell{From: from, To: dc}
		var per [numKinds][]*series
		for _, t := range ts {
			c.Brokers = append(c.Brokers, t.id)
			for k := range per {
				per[k] = append(per[k], t.s[k])
			}
		}
		c.Connect = merge(per[kindConnect])
		c.Request = merge(per[kindRequest])
		c.ProduceAcks1 = merge(per[kindAcks1])
		c.ProduceAcksAll = merge(per[kindAcksAll])
		c.Replication = merge(per[kindReplication])
		c.EndToEnd = merge(per[kindEndToEnd])
		cells = append(cells, c)
	}
	return cells
}
