// Package chaos runs drills, the same way for every front end (the CLI,
// the TUI, the operator): preflight, the prediction of the check pipeline
// for the fault's scenario, a ledger workload in steady state, inject,
// hold, heal, wait for the ISR, read back, and the observed RTO and RPO
// beside the goals and the prediction.
//
// A drill emits typed events (drill.Event) for each phase and, while the
// workload runs, its figures every second. Before it injects anything it
// writes a state file, and it records every later phase there before
// acting on it, so that another process — `stretchctl drill recover`, or
// the operator restarted after a crash — can heal or resume it (Resume,
// RecoverAll). Whatever happens once the injection starts (an error,
// cancellation by Ctrl-C or SIGTERM), the fault is healed before Run
// returns.
//
// The package talks to Kafka only through the Kafka and Workload seams
// (probe and advise by default) and to faults only through a
// drill.Backend. It never prints, never reads flags or the environment,
// and never names a command or flag in its errors: front ends do that.
package chaos

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/stretchctl/stretchctl/advise"
	"github.com/stretchctl/stretchctl/config"
	"github.com/stretchctl/stretchctl/drill"
	"github.com/stretchctl/stretchctl/probe"
	"github.com/stretchctl/stretchctl/topology"
)

// Options are everything a drill needs. Front ends fill them from their
// input; the runner fills in the rest.
type Options struct {
	Config *config.Config
	// ID names the drill (state file, Chaos Mesh labels); empty: NewID.
	ID string
	// Backend injects the fault; when nil it is opened from BackendSpec
	// (with the drill's id for Chaos Mesh).
	Backend     drill.Backend
	BackendSpec drill.Spec
	// Fault to inject; its Duration is how long it is held.
	Fault drill.Fault
	// Topic the ledger writes to; it must exist (the drill never creates
	// or changes topics). Make it like the production topics it stands
	// for (replicas, placement, min.insync.replicas).
	Topic string
	// Producer says how the workload's producers are configured.
	Producer ProducerSpec
	// ProducerDC runs the producers inside this DC ("": here); the
	// backend must be a drill.Placer unless it is HereDC.
	ProducerDC string
	// HereDC is the DC this process runs in, when known (the operator's
	// pod): producers there need no placement, and the prediction
	// places them there.
	HereDC    string
	Producers int
	Rate      int
	// Steady is how long the workload runs before the fault (default
	// 10 s), Tail how long after the ISR is full again (default 5 s),
	// RecoverWait the bound on waiting for the ISR (default 3 min).
	Steady, Tail, RecoverWait time.Duration
	// Force runs on an unhealthy cluster; otherwise the drill waits up to
	// PreflightWait (default 1 min) for it to become healthy.
	Force         bool
	PreflightWait time.Duration
	// StateDir holds the state file (DefaultStateDir when empty); Store,
	// when set, records the drill instead (the operator: in the
	// FailoverDrill's status).
	StateDir string
	Store    Store
	// LatencyMatrixFile and LatencyTopic are where the prediction's
	// inter-DC round trips come from, as for a check (advise.Options).
	LatencyMatrixFile string
	LatencyTopic      string
	// Confirm is asked after the preflight and the prediction, with the
	// cluster id; false stops the drill before anything is injected. Nil
	// means yes.
	Confirm func(clusterID string) bool
	// Events receives every event, from one goroutine at a time (nil:
	// none). It must not block.
	Events func(drill.Event)
	Log    *slog.Logger
	// Tool and Version name stretchctl in the result.
	Tool, Version string

	// Consumers is the drill's consumer group (Members 0: none).
	Consumers ConsumerSpec
	// Transactional writes the ledger in transactions (the Java client);
	// the group, if any, reads it read_committed.
	Transactional bool

	// Kafka, Workload and Readers are the drill's seams to Kafka; nil
	// means the real cluster of Config (probe, advise) and the ledger on
	// the real client libraries.
	Kafka    Kafka
	Workload Workload
	Readers  Readers
	// Now is the clock (nil: time.Now); tests move it.
	Now func() time.Time
}

// Kafka is what a drill asks of the cluster.
type Kafka interface {
	// Snapshot reads the cluster (the preflight).
	Snapshot(ctx context.Context) (*topology.Snapshot, error)
	// Gather collects the check pipeline's inputs for the prediction.
	Gather(ctx context.Context, opts advise.Options) (*advise.Inputs, error)
	// WaitISRFull returns once every partition of topic has a leader and
	// its whole replica set in sync.
	WaitISRFull(ctx context.Context, topic string) error
	// ReadBack reads the topic from the ledger's start offsets and returns
	// where each of its records was found. It must not depend on the
	// workload's client library, so that a library's bug cannot hide its
	// own loss.
	ReadBack(ctx context.Context, l *probe.Ledger) (map[probe.RecordKey][]int64, error)
}

// Workload writes the ledger.
type Workload interface {
	Start(ctx context.Context, spec WorkloadSpec) (LedgerRun, error)
}

// WorkloadSpec is what the workload writes and how.
type WorkloadSpec struct {
	// RunID marks the run's records (0: a random one).
	RunID uint64
	// TransactionalIDs make the producers write in transactions.
	TransactionalIDs []string
	Topic            string
	Producers        int
	Rate             int
	// Client is the library the producers run on, its version and the
	// settings it is given.
	Client probe.ClientSpec
	// Place puts the producers in their DC (nil: here).
	Place drill.Placement
	// Progress reports first-use work (fetching the Java client).
	Progress func(format string, args ...any)
}

// LedgerRun is a running workload (probe.LedgerRun).
type LedgerRun interface {
	// Ledger is the ledger so far (complete after Stop).
	Ledger() *probe.Ledger
	// Info says which library and version write it.
	Info() probe.LibraryInfo
	Counts() probe.LedgerCounts
	// Stop ends sending, waits up to wait for answers in flight and
	// returns the ledger.
	Stop(wait time.Duration) *probe.Ledger
}

// Readers runs the drill's consumer group.
type Readers interface {
	// Start commits the topic's end offsets for the group, starts its
	// members and returns once every partition is assigned.
	Start(ctx context.Context, spec ReadersSpec) (ReaderRun, error)
	// FindCoordinator looks up a group's (txn: a transactional id's)
	// coordinator, which creates the offsets (transaction state) topic
	// on a cluster that never had one.
	FindCoordinator(ctx context.Context, key string, txn bool) error
}

// ReadersSpec is what the group reads and how.
type ReadersSpec struct {
	Topic, Group string
	// RunID is the producers' run: only its records are the ledger's.
	RunID    uint64
	Places   []probe.ConsumerPlace
	Client   probe.ClientSpec
	Progress func(format string, args ...any)
}

// ReaderRun is a running group (probe.ConsumerRun).
type ReaderRun interface {
	Info() probe.LibraryInfo
	// Kill makes the members in a DC die at once, as with their DC.
	Kill(dc string) int
	// CaughtUp waits until the group has read every partition up to
	// targets (the offset after its newest acknowledged record).
	CaughtUp(ctx context.Context, targets map[int32]int64) error
	// Stop closes the members and returns the group's ledger.
	Stop(wait time.Duration) *probe.ConsumerLedger
}

// LiveKafka is the real cluster of cfg, as a drill sees it (what Run
// uses when Options.Kafka is nil).
func LiveKafka(cfg *config.Config, log *slog.Logger) Kafka {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return liveKafka{cfg: cfg, log: log}
}

// liveKafka is the real cluster of a config.
type liveKafka struct {
	cfg *config.Config
	log *slog.Logger
}

func (k liveKafka) opts() probe.Options { return probe.Options{Log: k.log} }

func (k liveKafka) Snapshot(ctx context.Context) (*topology.Snapshot, error) {
	return advise.ReadCluster(ctx, k.cfg, k.log)
}

func (k liveKafka) Gather(ctx context.Context, opts advise.Options) (*advise.Inputs, error) {
	opts.Log = k.log
	return advise.Gather(ctx, k.cfg, opts)
}

func (k liveKafka) WaitISRFull(ctx context.Context, topic string) error {
	return probe.WaitISRFull(ctx, k.cfg.Cluster, k.opts(), topic)
}

func (k liveKafka) ReadBack(ctx context.Context, l *probe.Ledger) (map[probe.RecordKey][]int64, error) {
	return probe.ReadBack(ctx, k.cfg.Cluster, k.opts(), l, time.Minute)
}

// libraryReaders is the consumer group on the real client library.
type libraryReaders struct {
	cluster config.Cluster
	log     *slog.Logger
}

func (w libraryReaders) Start(ctx context.Context, s ReadersSpec) (ReaderRun, error) {
	run, err := probe.StartConsumers(ctx, w.cluster, s.RunID, probe.ConsumerOptions{Log: w.log, Topic: s.Topic, Group: s.Group,
		Places: s.Places, Client: s.Client, Progress: s.Progress})
	if err != nil {
		return nil, err
	}
	return run, nil
}

func (w libraryReaders) FindCoordinator(ctx context.Context, key string, txn bool) error {
	return probe.FindCoordinator(ctx, w.cluster, probe.Options{Log: w.log}, key, txn)
}

// libraryWorkload is the ledger on the real client library (probe).
type libraryWorkload struct {
	cluster config.Cluster
	log     *slog.Logger
}

func (w libraryWorkload) Start(ctx context.Context, s WorkloadSpec) (LedgerRun, error) {
	run, err := probe.StartLedger(ctx, w.cluster, probe.LedgerOptions{
		Options: probe.Options{Log: w.log, Dial: s.Place.Dial}, RunID: s.RunID, TransactionalIDs: s.TransactionalIDs, Topic: s.Topic, Producers: s.Producers, Rate: s.Rate,
		Client: s.Client, StartProcess: s.Place.Start, Progress: s.Progress,
	})
	if err != nil {
		return nil, err
	}
	return run, nil
}

// Option names a drill option whose value is wrong, for front ends to
// turn into a flag or field name.
type Option string

// The options an OptionError can name.
const (
	OptConfig          Option = "config"
	OptFault           Option = "fault"
	OptTopic           Option = "topic"
	OptBackend         Option = "backend"
	OptProducerFile    Option = "producer file"
	OptProducerLibrary Option = "producer library"
	OptProducerDC      Option = "producer DC"
	OptLatencyMatrix   Option = "latency matrix"
	OptCampaignDir     Option = "campaign directory"
	OptConsumers       Option = "consumers"
	OptConsumerFile    Option = "consumer file"
	OptConsumerLibrary Option = "consumer library"
	OptConsumerDC      Option = "consumer DC"
)

// OptionError says which option of a drill is wrong; nothing was
// injected.
type OptionError struct {
	Option Option
	Err    error
}

func (e *OptionError) Error() string { return e.Err.Error() }
func (e *OptionError) Unwrap() error { return e.Err }

// PreflightError says why a drill refused to start; nothing was injected.
type PreflightError struct{ Problems []string }

func (e *PreflightError) Error() string {
	return "the cluster is not ready for a drill:\n  - " + strings.Join(e.Problems, "\n  - ")
}

// ErrAborted: the confirmation was declined.
var ErrAborted = errors.New("drill aborted: not confirmed")

// NotHealedError is returned with the result when a fault could not be
// healed: the cluster still has it, and the state file that lets another
// process heal it is kept.
type NotHealedError struct {
	ID    string
	Fault drill.Fault
	Err   error
	// Where the drill's state is kept ("state file in DIR").
	Where string
}

func (e *NotHealedError) Error() string {
	return fmt.Sprintf("FAULT STILL IN PLACE: %s could not be healed: %v (drill %s, %s)", e.Fault, e.Err, e.ID, e.Where)
}

func (e *NotHealedError) Unwrap() error { return e.Err }
