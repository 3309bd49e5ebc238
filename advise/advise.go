// Package advise is the check pipeline that every front end calls — the
// `check` and `snapshot` commands, the drill's prediction, the TUI and the
// operator — so that they all judge a cluster the same way.
//
// A check has two steps. Gather reads what is evaluated: the cluster
// snapshot (live, or a snapshot file), the inter-DC round trips (a matrix
// file, or what the probe agents published to their results topic, with
// stale rounds left out and the source named) and the client files
// declared in stretch.yaml with their library's defaults. Evaluate runs the
// rules over it. The rules are pure, so Inputs can be evaluated again with
// other goals or a changed topology (what-if) without reading the cluster.
//
// The package never prints, never reads flags or the environment, never
// decides exit codes and never changes the cluster: it only reads. What it
// could not read but could go on without is returned in Inputs.Warnings and
// said in the report's notes; an error means the cluster could not be
// assessed at all.
package advise

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/stretchctl/stretchctl/clients"
	"github.com/stretchctl/stretchctl/config"
	"github.com/stretchctl/stretchctl/probe"
	"github.com/stretchctl/stretchctl/rules"
	"github.com/stretchctl/stretchctl/topology"
)

// Options say where a check's inputs come from.
type Options struct {
	// Snapshot is a snapshot already taken (a drill's preflight); when
	// set, the cluster is not read again.
	Snapshot *topology.Snapshot
	// SnapshotFile is a saved snapshot (`stretchctl snapshot`) to evaluate
	// instead of the live cluster.
	SnapshotFile string
	// LatencyMatrixFile is a latency matrix file (the JSON of `stretchctl
	// probe matrix` or of a one-shot `stretchctl probe`). It wins over
	// LatencyTopic.
	LatencyMatrixFile string
	// LatencyTopic is the probe agents' results topic, read from the live
	// cluster when no matrix file is given; "" reads no latency. It is not
	// read for a snapshot file (offline checks stay offline).
	LatencyTopic string
	// Clients, when not nil, replace the client files of the config (a
	// drill predicts for its own workload, not for the team's files).
	Clients []topology.ClientConfig
	// Log receives the Kafka readers' debug lines; nil discards them.
	Log *slog.Logger
	// Now is the clock matrix ages are measured against (nil: time.Now).
	Now func() time.Time
	// FailOn is the lowest severity that fails the verdict (Check only).
	FailOn rules.Severity
}

// Source names an input of a check, for errors that front ends turn into
// a flag or field name.
type Source string

// The inputs of a check.
const (
	SourceCluster       Source = "cluster"
	SourceSnapshotFile  Source = "snapshot file"
	SourceLatencyMatrix Source = "latency matrix file"
	SourceClientFile    Source = "client file"
)

// InputError says which input of a check could not be read.
type InputError struct {
	Source Source
	Err    error
}

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

// Inputs are everything a check evaluates, read once.
type Inputs struct {
	Config   *config.Config
	Snapshot *topology.Snapshot
	// Matrix is the latency matrix the round trips come from; nil when
	// latency was not measured.
	Matrix *probe.Matrix
	// RTT holds the fresh inter-DC round trips by sorted pair key "a/b";
	// nil when not measured. RTTSource says where they come from and how
	// old they are, or why there are none.
	RTT       map[string]time.Duration
	RTTSource string
	Clients   []topology.ClientConfig
	// Warnings say what could not be read but did not stop the check
	// (a broker's configs, the agents' topic).
	Warnings []string
}

// Check gathers the inputs and evaluates them: what `stretchctl check`
// and the operator's periodic check do. The warnings of Gather are in the
// report's notes.
func Check(ctx context.Context, cfg *config.Config, opts Options) (*rules.Report, error) {
	in, err := Gather(ctx, cfg, opts)
	if err != nil {
		return nil, err
	}
	return in.Evaluate(opts.FailOn)
}

// Gather reads the snapshot, the latency and the client files. The
// cluster is read first: an unreachable cluster fails within its own
// cluster.timeout, before the optional read of the agents' topic (which
// would wait on the same unreachable brokers).
func Gather(ctx context.Context, cfg *config.Config, opts Options) (*Inputs, error) {
	if cfg == nil {
		return nil, errors.New("advise: no configuration")
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	in := &Inputs{Config: cfg}
	switch {
	case opts.Snapshot != nil:
		in.Snapshot = opts.Snapshot
	case opts.SnapshotFile != "":
		snap, err := topology.LoadSnapshot(opts.SnapshotFile)
		if err != nil {
			return nil, &InputError{SourceSnapshotFile, err}
		}
		in.Snapshot = snap
	default:
		snap, err := ReadCluster(ctx, cfg, opts.Log)
		if err != nil {
			return nil, err
		}
		in.Snapshot = snap
	}
	if err := in.latency(ctx, cfg, opts); err != nil {
		return nil, err
	}
	for _, e := range in.Snapshot.Errors {
		in.Warnings = append(in.Warnings, fmt.Sprintf("could not read %s: %s", e.Subject, e.Error))
	}
	if opts.Clients != nil {
		in.Clients = opts.Clients
		return in, nil
	}
	cls, err := LoadClients(cfg, in.Snapshot)
	if err != nil {
		return nil, err
	}
	in.Clients = cls
	return in, nil
}

// ReadCluster takes a snapshot of the live cluster.
func ReadCluster(ctx context.Context, cfg *config.Config, log *slog.Logger) (*topology.Snapshot, error) {
	snap, err := probe.Snapshot(ctx, cfg.Cluster, probe.Options{Log: log})
	if err != nil {
		return nil, &InputError{SourceCluster, fmt.Errorf("could not read the cluster: %w", err)}
	}
	return snap, nil
}

// LoadClients reads the client files of the config with the defaults of
// their library, for the Kafka version the snapshot reports (the config's
// when the snapshot does not say).
func LoadClients(cfg *config.Config, snap *topology.Snapshot) ([]topology.ClientConfig, error) {
	version := cfg.Cluster.KafkaVersion
	if snap != nil && snap.KafkaVersion != "" {
		version = snap.KafkaVersion
	}
	out := make([]topology.ClientConfig, 0, len(cfg.Clients))
	for _, cl := range cfg.Clients {
		cc, err := clients.Load(cl, version)
		if err != nil {
			return nil, &InputError{SourceClientFile, fmt.Errorf("client file: %w", err)}
		}
		out = append(out, cc)
	}
	return out, nil
}

// latency finds the inter-DC round trips: from the matrix file, else from
// the agents' topic on the live cluster. A missing or unreadable topic is
// not an error (the source says latency was not measured, and why); a bad
// file is.
func (in *Inputs) latency(ctx context.Context, cfg *config.Config, opts Options) error {
	var m *probe.Matrix
	switch {
	case opts.LatencyMatrixFile != "":
		var err error
		if m, err = probe.LoadMatrix(opts.LatencyMatrixFile, opts.Now()); err != nil {
			return &InputError{SourceLatencyMatrix, err}
		}
	case opts.Snapshot == nil && opts.SnapshotFile != "" || opts.LatencyTopic == "":
		return nil
	default:
		var err error
		m, err = probe.ReadMatrix(ctx, cfg.Cluster, probe.Options{Log: opts.Log}, opts.LatencyTopic)
		if errors.Is(err, probe.ErrNoReports) {
			in.RTTSource = err.Error() + "; run a probe agent in every DC or give a latency matrix file"
			return nil
		}
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			in.Warnings = append(in.Warnings, fmt.Sprintf("could not read latency reports from topic %s: %v", opts.LatencyTopic, err))
			in.RTTSource = fmt.Sprintf("reading topic %s failed: %v", opts.LatencyTopic, err)
			return nil
		}
	}
	in.SetMatrix(m)
	return nil
}

// SetMatrix replaces the latency matrix and the round trips taken from
// it: a front end that follows the agents' topic re-evaluates with fresh
// figures without reading the cluster again.
func (in *Inputs) SetMatrix(m *probe.Matrix) {
	in.Matrix = m
	rtt, src := m.RTT()
	if len(rtt) == 0 {
		in.RTT, in.RTTSource = nil, src+"; no fresh inter-DC cell"
		return
	}
	in.RTT, in.RTTSource = rtt, src
}

// Evaluate runs the rules over the inputs. It does no I/O: call it again
// after changing the inputs (what-if) as often as wanted.
func (in *Inputs) Evaluate(failOn rules.Severity) (*rules.Report, error) {
	return rules.Evaluate(&rules.Input{Snapshot: in.Snapshot, Config: in.Config, Clients: in.Clients,
		FailOn: failOn, RTT: in.RTT, RTTSource: in.RTTSource})
}
