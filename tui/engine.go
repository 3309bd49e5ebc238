package tui

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/stretchctl/stretchctl/advise"
	"github.com/stretchctl/stretchctl/chaos"
	"github.com/stretchctl/stretchctl/config"
	"github.com/stretchctl/stretchctl/drill"
	"github.com/stretchctl/stretchctl/probe"
)

// Live is the Engine of a real cluster, or of a snapshot file (offline:
// no live matrix, no drill). It only forwards to the engine's packages:
// advise for the check pipeline, probe for latency, chaos for drills.
type Live struct {
	Config *config.Config
	// SnapshotFile, when set, is evaluated instead of the live cluster.
	SnapshotFile string
	// LatencyMatrixFile and LatencyTopic are where latency comes from, as
	// for a check; the topic is followed live.
	LatencyMatrixFile string
	LatencyTopic      string
	// From is the DC the TUI runs in: the row of a one-shot probe.
	From string
	// ProbeDuration is how long a one-shot probe samples (default 10 s).
	ProbeDuration time.Duration
	Log           *slog.Logger
}

// Gather reads the check pipeline's inputs.
func (l *Live) Gather(ctx context.Context) (*advise.Inputs, error) {
	return advise.Gather(ctx, l.Config, advise.Options{SnapshotFile: l.SnapshotFile, LatencyMatrixFile: l.LatencyMatrixFile,
		LatencyTopic: l.LatencyTopic, Log: l.Log})
}

// Matrix reads the agents' newest matrix; nil when offline, when a
// matrix file is the source, or when no agent has reported.
func (l *Live) Matrix(ctx context.Context) (*probe.Matrix, error) {
	if l.SnapshotFile != "" || l.LatencyMatrixFile != "" || l.LatencyTopic == "" {
		return nil, nil
	}
	m, err := probe.ReadMatrix(ctx, l.Config.Cluster, probe.Options{Log: l.Log}, l.LatencyTopic)
	if errors.Is(err, probe.ErrNoReports) {
		return nil, nil
	}
	return m, err
}

// Probe measures once from here.
func (l *Live) Probe(ctx context.Context) (*probe.Matrix, error) {
	if l.SnapshotFile != "" {
		return nil, errors.New("offline on a snapshot file: nothing to probe")
	}
	d := l.ProbeDuration
	if d <= 0 {
		d = 10 * time.Second
	}
	res, err := probe.Measure(ctx, l.Config.Cluster, probe.MeasureOptions{Options: probe.Options{Log: l.Log}, From: l.From, Duration: d,
		DC: l.Config.Topology.DCOfRack})
	if err != nil {
		return nil, err
	}
	return probe.MatrixOf(res, "one-shot probe from "+orNone(l.From), time.Now()), nil
}

// Drill runs a drill with chaos.Run.
func (l *Live) Drill(ctx context.Context, o chaos.Options) (*drill.Result, error) {
	return chaos.Run(ctx, o)
}

// DrillsAllowed: not on a snapshot.
func (l *Live) DrillsAllowed() (bool, string) {
	if l.SnapshotFile != "" {
		return false, "this TUI runs offline on a snapshot file; a drill needs the live cluster (start it with --config and without --snapshot)"
	}
	return true, ""
}
