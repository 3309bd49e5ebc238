// Package chaostest fakes what a drill asks of Kafka and of its workload,
// above the wire, for tests of what sits on the drill runner (the runner
// itself, the operator): a healthy three-DC cluster whose check
// pipeline is the real one on a fixed snapshot, and a ledger workload
// whose writes fail while the test says the fault is in place. It is
// imported by tests only; the real cluster runs the same runner in e2e.
package chaostest

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stretchctl/stretchctl/advise"
	"github.com/stretchctl/stretchctl/chaos"
	"github.com/stretchctl/stretchctl/config"
	"github.com/stretchctl/stretchctl/probe"
	"github.com/stretchctl/stretchctl/topology"
)

// Config is a three-DC stretch.yaml, one voter per DC.
func Config() *config.Config {
	c := config.Default()
	c.Path = "stretch.yaml"
	c.Cluster.Bootstrap = []string{"fake:9092"}
	c.Topology.DCs = []string{"dc-a", "dc-b", "dc-c"}
	c.Topology.Controllers = map[string]string{"1": "dc-a", "2": "dc-b", "3": "dc-c"}
	return c
}

// ClusterID is the id of Snapshot's cluster.
const ClusterID = "fake-cluster"

// Snapshot is a healthy cluster: a broker and a voter per DC, topic "t"
// with two partitions of three replicas, min.insync.replicas 2.
func Snapshot() *topology.Snapshot {
	now := time.Now()
	snap := &topology.Snapshot{SchemaVersion: topology.SchemaVersion, TakenAt: now, ClusterID: ClusterID, KafkaVersion: "4.3.1", Mode: "kraft", ControllerID: 1,
		Quorum: &topology.Quorum{LeaderID: 1}}
	for i, dc := range []string{"dc-a", "dc-b", "dc-c"} {
		id := int32(i + 1)
		snap.Brokers = append(snap.Brokers, topology.Broker{ID: id, Host: "b", Port: 9092, Rack: dc})
		snap.Quorum.Voters = append(snap.Quorum.Voters, topology.QuorumReplica{ID: id, LastCaughtUpMs: now.UnixMilli()})
	}
	snap.Topics = []topology.Topic{{Name: "t", Configs: topology.Configs{"min.insync.replicas": {Value: "2", Source: topology.SourceTopic}},
		Partitions: []topology.Partition{
			{ID: 0, Leader: 1, Replicas: []int32{1, 2, 3}, ISR: []int32{1, 2, 3}},
			{ID: 1, Leader: 2, Replicas: []int32{2, 3, 1}, ISR: []int32{2, 3, 1}},
		}}}
	return snap
}

// Kafka serves Snap, predicts with the real check pipeline on it and
// Config, and reads back what the workload acknowledged.
type Kafka struct {
	Snap   *topology.Snapshot
	Config *config.Config
	// GatherErr makes the prediction fail.
	GatherErr error
	// RTT, when set, gives the live round trips Gather reports when asked
	// for the agents' topic (called on every Gather).
	RTT   func() map[string]time.Duration
	waits atomic.Int32
}

var _ chaos.Kafka = (*Kafka)(nil)

// Snapshot implements chaos.Kafka.
func (k *Kafka) Snapshot(ctx context.Context) (*topology.Snapshot, error) {
	return k.Snap, ctx.Err()
}

// Gather implements chaos.Kafka.
func (k *Kafka) Gather(ctx context.Context, opts advise.Options) (*advise.Inputs, error) {
	if k.GatherErr != nil {
		return nil, k.GatherErr
	}
	opts.Snapshot = k.Snap
	topic := opts.LatencyTopic
	if k.RTT != nil {
		opts.LatencyTopic = ""
	}
	in, err := advise.Gather(ctx, k.Config, opts)
	if err == nil && k.RTT != nil && topic != "" {
		in.RTT, in.RTTSource = k.RTT(), "the fake agents' topic"
	}
	return in, err
}

// WaitISRFull implements chaos.Kafka: at once.
func (k *Kafka) WaitISRFull(ctx context.Context, topic string) error {
	k.waits.Add(1)
	return ctx.Err()
}

// Waits counts the calls of WaitISRFull.
func (k *Kafka) Waits() int { return int(k.waits.Load()) }

// ReadBack implements chaos.Kafka: every acknowledged record is found.
func (k *Kafka) ReadBack(ctx context.Context, l *probe.Ledger) (map[probe.RecordKey][]int64, error) {
	found := map[probe.RecordKey][]int64{}
	for _, r := range l.Records {
		if r.State == probe.Acked {
			k := probe.RecordKey{Producer: r.Producer, Partition: r.Partition, Seq: r.Seq}
			found[k] = append(found[k], r.Offset)
		}
	}
	return found, nil
}

// Workload writes a record to partitions 0 and 1 every 5 ms; a write
// fails while Failing says so.
type Workload struct{ Failing func() bool }

var _ chaos.Workload = Workload{}

// Start implements chaos.Workload.
func (w Workload) Start(ctx context.Context, s chaos.WorkloadSpec) (chaos.LedgerRun, error) {
	r := &run{l: &probe.Ledger{Topic: s.Topic, Parts: []int32{0, 1}, StartOffsets: map[int32]int64{}, Errors: map[string]int64{}, Start: time.Now()},
		stop: make(chan struct{}), done: make(chan struct{})}
	failing := w.Failing
	if failing == nil {
		failing = func() bool { return false }
	}
	go r.write(failing)
	return r, nil
}

type run struct {
	mu   sync.Mutex
	l    *probe.Ledger
	c    probe.LedgerCounts
	stop chan struct{}
	done chan struct{}
}

func (r *run) write(failing func() bool) {
	defer close(r.done)
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	seq := int64(0)
	for {
		select {
		case <-r.stop:
			r.mu.Lock()
			r.l.Stop = time.Now()
			r.mu.Unlock()
			return
		case <-t.C:
		}
		r.mu.Lock()
		at := time.Since(r.l.Start)
		fail := failing()
		for _, p := range r.l.Parts {
			rec := probe.LedgerRecord{Partition: p, Seq: seq, Sent: at, Done: at, Offset: -1, State: probe.Failed}
			if !fail {
				rec.State, rec.Offset = probe.Acked, seq
				r.c.Acked++
			} else {
				r.c.Failed++
				r.l.Errors["NOT_ENOUGH_REPLICAS"]++
			}
			r.c.Sent++
			r.l.Records = append(r.l.Records, rec)
		}
		seq++
		r.mu.Unlock()
	}
}

func (r *run) Ledger() *probe.Ledger { return r.l }

func (r *run) Info() probe.LibraryInfo {
	return probe.LibraryInfo{Library: config.LibraryJava, Version: "4.3.1", Applied: []string{"acks=all"}}
}

func (r *run) Counts() probe.LedgerCounts {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.c
}

func (r *run) Stop(time.Duration) *probe.Ledger {
	select {
	case <-r.stop:
	default:
		close(r.stop)
	}
	<-r.done
	return r.l
}

// Readers is a consumer group that reads nothing: it records what the
// drill asked of it, in order.
type Readers struct {
	mu    sync.Mutex
	calls []string
	// OnCall, when set, is told each call as it is made.
	OnCall func(call string)
}

var _ chaos.Readers = (*Readers)(nil)

// Calls are the calls so far ("start", "kill dc-a", "caught up", "stop",
// "find coordinator").
func (r *Readers) Calls() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.calls)
}

func (r *Readers) record(call string) {
	r.mu.Lock()
	r.calls = append(r.calls, call)
	r.mu.Unlock()
	if r.OnCall != nil {
		r.OnCall(call)
	}
}

// Start implements chaos.Readers.
func (r *Readers) Start(ctx context.Context, s chaos.ReadersSpec) (chaos.ReaderRun, error) {
	r.record("start")
	return &readerRun{r: r, l: &probe.ConsumerLedger{Topic: s.Topic, Group: s.Group, RunID: s.RunID, Start: time.Now(), Ready: time.Now(),
		StartOffsets: map[int32]int64{}, Errors: map[string]int64{}}}, nil
}

// FindCoordinator implements chaos.Readers.
func (r *Readers) FindCoordinator(ctx context.Context, key string, txn bool) error {
	r.record("find coordinator")
	return nil
}

type readerRun struct {
	r *Readers
	l *probe.ConsumerLedger
}

func (x *readerRun) Info() probe.LibraryInfo {
	return probe.LibraryInfo{Library: config.LibraryJava, Version: "4.3.1"}
}
func (x *readerRun) Kill(dc string) int {
	x.r.record("kill " + dc)
	return 1
}
func (x *readerRun) CaughtUp(ctx context.Context, targets map[int32]int64) error {
	x.r.record("caught up")
	return nil
}
func (x *readerRun) Stop(wait time.Duration) *probe.ConsumerLedger {
	x.r.record("stop")
	x.l.Stop = time.Now()
	return x.l
}
