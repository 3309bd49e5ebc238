package probe

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/IBM/sarama"

	"github.com/stretchctl/stretchctl/config"
	"github.com/stretchctl/stretchctl/internal/boundedfile"
)

// Matrix is the DC×DC latency matrix built from agents' reports (or from
// one one-shot probe): per vantage DC → broker DC the newest fresh cell,
// with where and when it was measured.
type Matrix struct {
	// Generated is when the matrix was built.
	Generated time.Time `json:"generated"`
	// Source says where the reports came from (a topic and its cluster,
	// or a file).
	Source string `json:"source"`
	// StaleAfterMs: a report older than this is shown but not used.
	StaleAfterMs float64 `json:"staleAfterMs"`
	// DCs in order, vantage and broker DCs alike.
	DCs   []string     `json:"dcs"`
	Cells []MatrixCell `json:"cells"`
	// Reports are the newest report of every agent, with per-broker detail.
	Reports []Report `json:"reports"`
	// Invalid are the reports left out because a figure in them is
	// impossible (a negative or overflowing latency, a time in the
	// future), each with the field.
	Invalid []string `json:"invalid,omitempty"`
}

// MatrixCell is one vantage DC → broker DC cell and its provenance.
type MatrixCell struct {
	Cell
	Agent string    `json:"agent"`
	At    time.Time `json:"at"`
	// AgeMs is Generated minus At.
	AgeMs float64 `json:"ageMs"`
	// Stale cells are older than StaleAfterMs (an agent stopped, or cut
	// off from the cluster it publishes to) and not used for RTT.
	Stale bool `json:"stale,omitempty"`
	// RoundTripMs is the network round-trip estimate (Cell.RoundTrip),
	// nil when not measured.
	RoundTripMs *float64 `json:"roundTripMs"`
}

// StaleAfter is how old a report may be before the matrix stops using it:
// three windows, at least 30 s.
func StaleAfter(window time.Duration) time.Duration { return max(3*window, 30*time.Second) }

// BuildMatrix keeps the newest report per agent and, per (from, to), the
// cell of the newest report that has one.
//
// A report with an impossible figure is left out (Invalid names it and
// the field): another writer's data never enters the round trips.
func BuildMatrix(reports []Report, now time.Time, source string) *Matrix {
	newest := map[string]Report{}
	var invalid []string
	for _, r := range reports {
		if p := r.problem("", now); p != "" {
			invalid = append(invalid, fmt.Sprintf("report of agent %q: %s", r.Agent, p))
			continue
		}
		if cur, ok := newest[r.Agent]; !ok || r.At.After(cur.At) {
			newest[r.Agent] = r
		}
	}
	m := &Matrix{Generated: now.UTC(), Source: source, Invalid: invalid}
	var window time.Duration
	for _, r := range newest {
		m.Reports = append(m.Reports, r)
		window = max(window, msDuration(r.WindowMs))
	}
	slices.SortFunc(m.Reports, func(a, b Report) int { return cmp.Compare(a.Agent, b.Agent) })
	stale := StaleAfter(window)
	m.StaleAfterMs = durationMs(stale)

	type ft struct{ from, to string }
	best := map[ft]MatrixCell{}
	dcs := map[string]bool{}
	for _, r := range m.Reports {
		dcs[r.From] = true
		for _, c := range r.Matrix {
			dcs[c.To] = true
			k := ft{c.From, c.To}
			if cur, ok := best[k]; ok && !r.At.After(cur.At) {
				continue
			}
			mc := MatrixCell{Cell: c, Agent: r.Agent, At: r.At, AgeMs: durationMs(now.Sub(r.At))}
			mc.Stale = now.Sub(r.At) > stale
			if rtt, ok := c.RoundTrip(); ok {
				ms := durationMs(rtt)
				mc.RoundTripMs = &ms
			}
			best[k] = mc
		}
	}
	for dc := range dcs {
		m.DCs = append(m.DCs, dc)
	}
	slices.Sort(m.DCs)
	for _, c := range best {
		m.Cells = append(m.Cells, c)
	}
	slices.SortFunc(m.Cells, func(a, b MatrixCell) int {
		return cmp.Or(cmp.Compare(a.From, b.From), cmp.Compare(a.To, b.To))
	})
	return m
}

// MatrixOf turns a one-shot probe result into a matrix of one row.
func MatrixOf(r *Result, source string, now time.Time) *Matrix {
	rep := Report{Version: reportVersion, Agent: Key(r.From, "probe"), From: r.From,
		At: r.Started.Add(msDuration(r.DurationMs)), WindowMs: r.DurationMs, IntervalMs: r.IntervalMs,
		Brokers: r.Brokers, Matrix: r.Matrix}
	return BuildMatrix([]Report{rep}, now, source)
}

// Cell returns the cell from → to, or false.
func (m *Matrix) Cell(from, to string) (MatrixCell, bool) {
	for _, c := range m.Cells {
		if c.From == from && c.To == to {
			return c, true
		}
	}
	return MatrixCell{}, false
}

// RTT returns the round trip per unordered DC pair ("a/b", sorted), the
// larger of the two directions, from fresh cells only, and a sentence
// saying where the figures come from and how old they are. Cells within
// one DC and cells of unknown DCs are left out.
func (m *Matrix) RTT() (map[string]time.Duration, string) {
	rtt := map[string]time.Duration{}
	oldest := time.Duration(0)
	var stale []string
	for _, c := range m.Cells {
		if c.From == "" || c.To == "" || c.From == c.To || c.RoundTripMs == nil {
			continue
		}
		if c.Stale {
			stale = append(stale, c.From+"→"+c.To)
			continue
		}
		a, b := c.From, c.To
		if b < a {
			a, b = b, a
		}
		k := config.PairKey(a, b)
		rtt[k] = max(rtt[k], msDuration(*c.RoundTripMs))
		oldest = max(oldest, msDuration(c.AgeMs))
	}
	src := fmt.Sprintf("%s, measured at most %v before %s (median TCP handshake per DC pair)",
		m.Source, oldest.Round(time.Second), m.Generated.Format(time.RFC3339))
	if len(stale) > 0 {
		src += fmt.Sprintf("; stale, not used: %s", strings.Join(stale, ", "))
	}
	if len(m.Invalid) > 0 {
		src += fmt.Sprintf("; invalid, not used: %s", strings.Join(m.Invalid, "; "))
	}
	return rtt, src
}

// maxMatrixFile bounds a matrix file (a few kilobytes per DC pair).
const maxMatrixFile = 16 << 20

// LoadMatrix reads a matrix file: the JSON of `stretchctl probe matrix`
// or of a one-shot `stretchctl probe`. Cells are aged against now.
func LoadMatrix(path string, now time.Time) (*Matrix, error) {
	b, err := boundedfile.Read(path, maxMatrixFile)
	if err != nil {
		return nil, err
	}
	var probe struct {
		Cells  json.RawMessage `json:"cells"`
		Matrix json.RawMessage `json:"matrix"`
	}
	if err := json.Unmarshal(b, &probe); err != nil {
		return nil, fmt.Errorf("%s: not a latency matrix (JSON of stretchctl probe matrix or probe): %w", path, err)
	}
	switch {
	case probe.Cells != nil:
		var m Matrix
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		// A file with an impossible figure is refused, the field named.
		for i, r := range m.Reports {
			if p := r.problem(fmt.Sprintf("reports[%d].", i), now); p != "" {
				return nil, fmt.Errorf("%s: %s", path, p)
			}
		}
		// Re-age every report against now: the file may be old.
		return BuildMatrix(m.Reports, now, "file "+path+" (from "+m.Source+")"), nil
	case probe.Matrix != nil:
		var r Result
		if err := json.Unmarshal(b, &r); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		m := MatrixOf(&r, "file "+path+" (one-shot probe)", now)
		if len(m.Invalid) > 0 {
			return nil, fmt.Errorf("%s: %s", path, strings.TrimPrefix(m.Invalid[0], `report of agent "`+Key(r.From, "probe")+`": `))
		}
		return m, nil
	}
	return nil, fmt.Errorf("%s: not a latency matrix: no \"cells\" (probe matrix) or \"matrix\" (probe) field", path)
}

// ErrNoReports says that no agent has published to the results topic.
var ErrNoReports = errors.New("no probe agent has published yet")

// ReadReports reads every report in the results topic, from the oldest
// offset to the end (the topic is compacted: about one record per agent).
// It fails with ErrNoReports when the topic is missing or empty.
//
// Each request is bounded like a probe's (3 s at most); a partition whose
// leader does not answer is tried again with fresh metadata until
// cluster.timeout has passed twice, so that a matrix can be read while a
// DC is lost, as soon as its partition has a new leader.
func ReadReports(ctx context.Context, cluster config.Cluster, opts Options, topic string) ([]Report, error) {
	if topic == "" {
		topic = DefaultResultsTopic
	}
	cfg, err := SaramaConfig(cluster, opts)
	if err != nil {
		return nil, err
	}
	overall := 2 * cfg.Net.ReadTimeout
	timeout := min(cfg.Net.ReadTimeout, MaxRequestTimeout)
	cfg.Net.DialTimeout, cfg.Net.ReadTimeout, cfg.Net.WriteTimeout = timeout, timeout, timeout
	cfg.Consumer.Return.Errors = true
	c, err := sarama.NewClient(cluster.Bootstrap, cfg)
	if err != nil {
		errs := make([]error, len(cluster.Bootstrap))
		for i := range errs {
			errs[i] = err
		}
		return nil, &ConnectError{Addrs: cluster.Bootstrap, Errs: errs, Timeout: timeout}
	}
	defer c.Close()
	topics, err := c.Topics()
	if err != nil {
		return nil, err
	}
	if !slices.Contains(topics, topic) {
		return nil, fmt.Errorf("%w: topic %s does not exist", ErrNoReports, topic)
	}
	parts, err := c.Partitions(topic)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(overall)
	var out []Report
	for _, p := range parts {
		for {
			reps, err := readPartition(ctx, c, topic, p, deadline)
			if err == nil {
				out = append(out, reps...)
				break
			}
			if ctx.Err() != nil || time.Now().After(deadline) {
				return nil, fmt.Errorf("partition %d of %s: %w", p, topic, err)
			}
			_ = c.RefreshMetadata(topic)
			if !sleepUntil(ctx, time.Now().Add(500*time.Millisecond)) {
				return nil, ctx.Err()
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: topic %s is empty", ErrNoReports, topic)
	}
	return out, nil
}

// readPartition reads one partition from its oldest to its newest offset.
func readPartition(ctx context.Context, c sarama.Client, topic string, p int32, deadline time.Time) ([]Report, error) {
	oldest, err := c.GetOffset(topic, p, sarama.OffsetOldest)
	if err != nil {
		return nil, err
	}
	newest, err := c.GetOffset(topic, p, sarama.OffsetNewest)
	if err != nil {
		return nil, err
	}
	if newest <= oldest {
		return nil, nil
	}
	cons, err := sarama.NewConsumerFromClient(c)
	if err != nil {
		return nil, err
	}
	defer cons.Close()
	pc, err := cons.ConsumePartition(topic, p, oldest)
	if err != nil {
		return nil, err
	}
	defer pc.Close()
	tm := time.NewTimer(time.Until(deadline))
	defer tm.Stop()
	var out []Report
	for {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-tm.C:
			return nil, fmt.Errorf("timed out reading up to offset %d", newest)
		case e := <-pc.Errors():
			return nil, e
		case msg := <-pc.Messages():
			var r Report
			if msg.Value != nil && json.Unmarshal(msg.Value, &r) == nil && r.Version == reportVersion {
				out = append(out, r)
			}
			if msg.Offset >= newest-1 {
				return out, nil
			}
		}
	}
}

// ReadMatrix reads the results topic and builds the matrix from it.
func ReadMatrix(ctx context.Context, cluster config.Cluster, opts Options, topic string) (*Matrix, error) {
	if topic == "" {
		topic = DefaultResultsTopic
	}
	reps, err := ReadReports(ctx, cluster, opts, topic)
	if err != nil {
		return nil, err
	}
	return BuildMatrix(reps, time.Now(), "probe agents (topic "+topic+")"), nil
}
