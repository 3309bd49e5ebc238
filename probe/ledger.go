package probe

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"os/exec"
	"sync"
	"time"

	"github.com/IBM/sarama"

	"github.com/stretchctl/stretchctl/config"
)

// The ledger workload of a drill: producers on the team's own client
// library (Java kafka-clients, librdkafka, franz-go or sarama) number every
// record per producer and partition; the ledger remembers every
// acknowledgement with its offset and time, and every failure. A reader
// independent of that library (sarama, ReadBack) finds the records again
// after the fault is healed, so that a library's bug cannot hide its own
// loss.

// ClientSpec says which client library the ledger's producers run on and
// how they are configured.
type ClientSpec struct {
	// Library is java, librdkafka, franz-go or sarama.
	Library config.Library
	// Version is the library version asked for ("": the newest this
	// stretchctl supports). The Java client of that version is fetched
	// from Maven Central; the others are linked in, and LibraryInfo says
	// which version ran.
	Version string
	// Settings are the producer settings of the client file (and the
	// drill's overrides), and nothing else: each library applies them by
	// its own names and keeps its own defaults for the rest.
	Settings []ClientSetting
}

// ClientSetting is one producer setting to apply.
type ClientSetting struct {
	// Name is the Java name (librdkafka aliases resolved), which the Go
	// libraries' mappings use; Key is the key as written, which Java and
	// librdkafka read themselves.
	Name, Key, Value string
}

// LibraryInfo says which library and version produced a ledger, and what
// it made of the settings.
type LibraryInfo struct {
	Library config.Library
	// Version is the version that ran; Requested the one asked for ("":
	// none was, and the newest supported was used).
	Version, Requested string
	// Applied are the settings the library took (with the mapping, for
	// the Go libraries: "acks → Producer.RequiredAcks").
	Applied []string
	// Rejected are the settings it did not take, each with why.
	Rejected []string
}

// LedgerOptions chooses what the ledger workload does.
type LedgerOptions struct {
	// Options places the in-process libraries' connections (Dial: in the
	// producers' DC) and logs.
	Options
	// RunID marks the run's records (0: a random one), for a consumer
	// group started before the producers.
	RunID uint64
	Topic string
	// Producers is how many producers run (each its own client).
	Producers int
	// Rate is the target number of records per second, all producers
	// together, spread round-robin over the topic's partitions.
	Rate int
	// RecordSize is the value size in bytes (at least the 40-byte header).
	RecordSize int
	// Client is the library and its settings (default: java).
	Client ClientSpec
	// StartProcess starts the process of a library that runs as one
	// (java, librdkafka) where the producers belong (a DC's network
	// namespace); nil starts it here.
	StartProcess func(*exec.Cmd) error
	// Helper is the librdkafka helper binary (stretchctl-rdkafka); ""
	// looks next to the running executable, then on the PATH.
	Helper string
	// Progress reports long first-use work (fetching the Java client,
	// compiling its program); nil: none.
	Progress func(format string, args ...any)
	// MaxRecords stops sending after that many records (0: until Stop),
	// for a ledger of known size in tests and benchmarks.
	MaxRecords int
	// TransactionalIDs, when set, make the producers write in
	// transactions, producer i with id i (the Java client only): a record
	// is acknowledged when its transaction commits and fails when it is
	// aborted.
	TransactionalIDs []string
}

// LedgerCounts are a running ledger's records so far.
type LedgerCounts struct {
	Sent, Acked, Failed int64
	// LastAck is how long the latest acknowledged record waited for its
	// acknowledgement; OldestPending how long the oldest record still
	// waiting has waited so far (0: none waits). During an outage the
	// first stops moving and the second grows.
	LastAck, OldestPending time.Duration
}

// RecordState is where a ledger record stands.
type RecordState uint8

// States of a record.
const (
	Pending RecordState = iota // sent, no answer yet
	Acked                      // acknowledged by the cluster
	Failed                     // the producer gave up on it
)

// LedgerRecord is one record sent by the workload.
type LedgerRecord struct {
	Producer  int
	Partition int32
	Seq       int64
	// Sent and Done are times since Ledger.Start; Done is zero while
	// Pending.
	Sent, Done time.Duration
	Offset     int64 // acknowledged offset, -1 when not acknowledged
	State      RecordState
}

// RecordKey identifies a record across the ledger and the log.
type RecordKey struct {
	Producer  int
	Partition int32
	Seq       int64
}

// Ledger is what the workload sent and heard back.
type Ledger struct {
	Topic  string
	RunID  uint64
	Start  time.Time
	Stop   time.Time
	Parts  []int32
	Target int // target rate
	// StartOffsets are the partitions' end offsets before the first send:
	// the read-back starts there.
	StartOffsets map[int32]int64
	Records      []LedgerRecord
	// Errors counts the producer errors by message.
	Errors map[string]int64
	// Transactional: the records were written in transactions (the
	// read-back is read_committed).
	Transactional bool
}

// Ledger record values: magic, run id, producer, partition, seq, send
// time; then padding to RecordSize.
const (
	ledgerMagic  = 0x53544c31 // "STL1"
	ledgerHeader = 4 + 8 + 4 + 4 + 8 + 8
)

func encodeRecord(buf []byte, run uint64, producer int, partition int32, seq int64, sent time.Time) {
	binary.BigEndian.PutUint32(buf[0:], ledgerMagic)
	binary.BigEndian.PutUint64(buf[4:], run)
	binary.BigEndian.PutUint32(buf[12:], uint32(producer))
	binary.BigEndian.PutUint32(buf[16:], uint32(partition))
	binary.BigEndian.PutUint64(buf[20:], uint64(seq))
	binary.BigEndian.PutUint64(buf[28:], uint64(sent.UnixNano()))
}

func decodeRecord(v []byte, run uint64) (RecordKey, bool) {
	if len(v) < ledgerHeader || binary.BigEndian.Uint32(v) != ledgerMagic || binary.BigEndian.Uint64(v[4:]) != run {
		return RecordKey{}, false
	}
	return RecordKey{Producer: int(binary.BigEndian.Uint32(v[12:])), Partition: int32(binary.BigEndian.Uint32(v[16:])),
		Seq: int64(binary.BigEndian.Uint64(v[20:]))}, true
}

// producers are one client library's producers as the ledger drives them.
type producers interface {
	// send hands record idx to producer p. It may block while the library
	// takes no more (as an application's send does), until ctx ends.
	send(ctx context.Context, p, idx int, partition int32, value []byte) error
	// flush hands over what send buffered (a process's pipe), giving up
	// when ctx ends.
	flush(ctx context.Context) error
	// close stops every producer; records in flight get up to wait to be
	// answered. It returns within wait plus a few seconds.
	close(wait time.Duration)
}

// LedgerRun is a running workload; Stop ends it and returns the ledger.
type LedgerRun struct {
	l      *Ledger
	info   LibraryInfo
	cancel context.CancelFunc
	done   chan struct{}
	// mu guards l.Records, l.Errors, the counts and wait.
	mu            sync.Mutex
	acked, failed int64
	lastAck       time.Duration
	// firstPending is at or before the oldest record still pending.
	firstPending int
	wait         time.Duration // for answers in flight after Stop
	// closed is set once the ledger is returned: later answers (a
	// producer that did not close in time) are dropped.
	closed bool
}

// StartLedger checks the topic, records its end offsets (with sarama,
// whatever the library: the read-back starts there) and starts the
// producers on the chosen library. It fails when the topic is missing, the
// cluster cannot be reached or the library cannot start.
func StartLedger(ctx context.Context, cluster config.Cluster, opts LedgerOptions) (*LedgerRun, error) {
	if opts.Topic == "" {
		return nil, errors.New("ledger: no topic")
	}
	opts.Producers = max(opts.Producers, 1)
	if opts.Rate <= 0 {
		opts.Rate = 1000
	}
	if opts.Client.Library == "" {
		opts.Client.Library = config.LibraryJava
	}
	if len(opts.TransactionalIDs) > 0 && opts.Client.Library != config.LibraryJava {
		return nil, fmt.Errorf("the transactional ledger runs on the Java client, not %s", opts.Client.Library)
	}
	l, err := newLedger(ctx, cluster, opts)
	if err != nil {
		return nil, err
	}
	run := &LedgerRun{l: l, done: make(chan struct{})}
	var prods producers
	switch opts.Client.Library {
	case config.LibrarySarama:
		prods, run.info, err = openSarama(cluster, opts, run)
	case config.LibraryFranzGo:
		prods, run.info, err = openFranz(cluster, opts, run)
	case config.LibraryJava:
		prods, run.info, err = openJava(ctx, cluster, opts, run)
	case config.LibraryLibrdkafka:
		prods, run.info, err = openLibrdkafka(ctx, cluster, opts, run)
	default:
		err = fmt.Errorf("unknown client library %q: want java, librdkafka, franz-go or sarama", opts.Client.Library)
	}
	if err != nil {
		return nil, fmt.Errorf("ledger on %s: %w", opts.Client.Library, err)
	}
	run.info.Library, run.info.Requested = opts.Client.Library, opts.Client.Version
	run.start(ctx, opts, prods)
	return run, nil
}

// newLedger reads the topic's partitions and their end offsets.
func newLedger(ctx context.Context, cluster config.Cluster, opts LedgerOptions) (*Ledger, error) {
	base, err := SaramaConfig(cluster, opts.Options)
	if err != nil {
		return nil, err
	}
	client, err := sarama.NewClient(cluster.Bootstrap, base)
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	defer client.Close()
	parts, err := client.Partitions(opts.Topic)
	if err != nil {
		return nil, fmt.Errorf("ledger: topic %s: %w", opts.Topic, err)
	}
	l := &Ledger{Topic: opts.Topic, Parts: parts, Target: opts.Rate, StartOffsets: map[int32]int64{}, Errors: map[string]int64{},
		Transactional: len(opts.TransactionalIDs) > 0}
	for _, p := range parts {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		off, err := client.GetOffset(opts.Topic, p, sarama.OffsetNewest)
		if err != nil {
			return nil, fmt.Errorf("ledger: end offset of %s/%d: %w", opts.Topic, p, err)
		}
		l.StartOffsets[p] = off
	}
	l.RunID = opts.RunID
	if l.RunID == 0 {
		l.RunID = NewRunID()
	}
	return l, nil
}

// NewRunID is a random run id for a ledger.
func NewRunID() uint64 {
	var id [8]byte
	_, _ = rand.Read(id[:])
	return binary.BigEndian.Uint64(id[:]) | 1
}

// start begins writing the ledger with prods.
func (r *LedgerRun) start(ctx context.Context, opts LedgerOptions, prods producers) {
	opts.Rate = max(opts.Rate, 1)
	opts.RecordSize = max(opts.RecordSize, ledgerHeader)
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	r.cancel = cancel
	r.l.Start = time.Now()
	go r.produce(rctx, opts, prods)
}

// Ledger returns the ledger so far (valid after Stop).
func (r *LedgerRun) Ledger() *Ledger { return r.l }

// Info says which library and version produce the ledger.
func (r *LedgerRun) Info() LibraryInfo { return r.info }

// Counts returns the records sent, acknowledged and failed so far.
func (r *LedgerRun) Counts() LedgerCounts {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := LedgerCounts{Sent: int64(len(r.l.Records)), Acked: r.acked, Failed: r.failed, LastAck: r.lastAck}
	for r.firstPending < len(r.l.Records) && r.l.Records[r.firstPending].State != Pending {
		r.firstPending++
	}
	if r.firstPending < len(r.l.Records) {
		c.OldestPending = max(time.Since(r.l.Start)-r.l.Records[r.firstPending].Sent, 0)
	}
	return c
}

// Stop stops sending, waits up to wait for the answers of records in
// flight (they stay Pending after that), and returns the ledger.
func (r *LedgerRun) Stop(wait time.Duration) *Ledger {
	r.mu.Lock()
	r.wait = wait
	r.mu.Unlock()
	r.cancel()
	<-r.done
	return r.l
}

// ack records the acknowledgement of record idx at offset, at a time.
func (r *LedgerRun) ack(idx int, offset int64, at time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed || idx < 0 || idx >= len(r.l.Records) || r.l.Records[idx].State != Pending {
		return
	}
	rec := &r.l.Records[idx]
	rec.State, rec.Done, rec.Offset = Acked, max(at.Sub(r.l.Start), rec.Sent), offset
	r.acked++
	r.lastAck = rec.Done - rec.Sent
}

// fail records that the library gave up on record idx.
func (r *LedgerRun) fail(idx int, err string, at time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed || idx < 0 || idx >= len(r.l.Records) || r.l.Records[idx].State != Pending {
		return
	}
	rec := &r.l.Records[idx]
	rec.State, rec.Done = Failed, max(at.Sub(r.l.Start), rec.Sent)
	r.failed++
	if len(err) > 200 {
		err = err[:200]
	}
	r.l.Errors[err]++
}

func (r *LedgerRun) produce(ctx context.Context, opts LedgerOptions, prods producers) {
	defer close(r.done)
	l := r.l
	nprod := max(opts.Producers, 1)
	seq := map[[2]int]int64{}
	// Pace by the clock, not by ticks: a tick the scheduler delays (or
	// drops, on a busy machine) is made up at the next one, so the rate
	// is the target rate whenever the producers keep up.
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	began := time.Now()
	var due int64
	i := 0
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-tick.C:
		}
		target := int64(time.Since(began).Seconds() * float64(opts.Rate))
		if opts.MaxRecords > 0 {
			target = min(target, int64(opts.MaxRecords))
		}
		batch := int(target - due)
		due = target
		for range batch {
			pi := i % len(l.Parts)
			prod := (i / len(l.Parts)) % nprod
			i++
			part := l.Parts[pi]
			k := [2]int{prod, pi}
			s := seq[k]
			seq[k] = s + 1
			val := make([]byte, opts.RecordSize)
			sent := time.Now()
			encodeRecord(val, l.RunID, prod, part, s, sent)
			r.mu.Lock()
			idx := len(l.Records)
			l.Records = append(l.Records, LedgerRecord{Producer: prod, Partition: part, Seq: s, Sent: sent.Sub(l.Start), Offset: -1})
			r.mu.Unlock()
			if err := prods.send(ctx, prod, idx, part, val); err != nil {
				if ctx.Err() != nil {
					r.mu.Lock()
					l.Records = l.Records[:idx]
					r.mu.Unlock()
					break loop
				}
				r.fail(idx, err.Error(), time.Now())
			}
		}
		if batch > 0 {
			if err := prods.flush(ctx); err != nil && ctx.Err() == nil {
				opts.log().Warn("ledger: handing records to the producers failed", "error", err)
			}
		}
	}
	r.mu.Lock()
	l.Stop = time.Now()
	wait := r.wait
	r.mu.Unlock()
	// Wait for the answers in flight, then close: records still
	// unanswered stay Pending.
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) {
		r.mu.Lock()
		pending := int64(len(l.Records)) - r.acked - r.failed
		r.mu.Unlock()
		if pending == 0 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	prods.close(time.Until(deadline))
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	recs := make([]LedgerRecord, len(l.Records))
	copy(recs, l.Records)
	l.Records = recs
}

// ReadBack reads the topic's partitions from the ledger's start offsets
// to their current end and returns, per record of this run, the offsets
// it was found at. It reads what any consumer would: read_uncommitted,
// or read_committed when the ledger was written in transactions (records
// of aborted transactions are then not found). It is bounded by timeout
// per partition.
func ReadBack(ctx context.Context, cluster config.Cluster, opts Options, l *Ledger, timeout time.Duration) (map[RecordKey][]int64, error) {
	cfg, err := SaramaConfig(cluster, opts)
	if err != nil {
		return nil, err
	}
	if l.Transactional {
		cfg.Consumer.IsolationLevel = sarama.ReadCommitted
		if !cfg.Version.IsAtLeast(sarama.V0_11_0_0) {
			cfg.Version = sarama.V0_11_0_0
		}
	}
	cfg.Consumer.Return.Errors = true
	cfg.Consumer.Fetch.Default = 4 << 20
	client, err := sarama.NewClient(cluster.Bootstrap, cfg)
	if err != nil {
		return nil, fmt.Errorf("read back: %w", err)
	}
	defer client.Close()
	cons, err := sarama.NewConsumerFromClient(client)
	if err != nil {
		return nil, err
	}
	defer cons.Close()
	found := map[RecordKey][]int64{}
	// Read committed, the last offsets of a partition are transaction
	// markers, which no consumer is handed: the read ends at the newest
	// committed record of the run instead.
	lastCommitted := map[int32]int64{}
	for _, r := range l.Records {
		if l.Transactional && r.State == Acked {
			lastCommitted[r.Partition] = max(lastCommitted[r.Partition], r.Offset+1)
		}
	}
	for _, p := range l.Parts {
		end, err := client.GetOffset(l.Topic, p, sarama.OffsetNewest)
		if err != nil {
			return nil, fmt.Errorf("read back %s/%d: %w", l.Topic, p, err)
		}
		if l.Transactional {
			end = min(end, lastCommitted[p])
		}
		from := l.StartOffsets[p]
		if end <= from {
			continue
		}
		oldest, err := client.GetOffset(l.Topic, p, sarama.OffsetOldest)
		if err == nil && oldest > from {
			return nil, fmt.Errorf("read back %s/%d: offsets from %d were deleted (log start %d): retention is too short for the drill", l.Topic, p, from, oldest)
		}
		pc, err := cons.ConsumePartition(l.Topic, p, from)
		if err != nil {
			return nil, fmt.Errorf("read back %s/%d: %w", l.Topic, p, err)
		}
		err = func() error {
			defer pc.Close()
			tm := time.NewTimer(timeout)
			defer tm.Stop()
			for {
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-tm.C:
					return fmt.Errorf("read back %s/%d: timed out before offset %d", l.Topic, p, end)
				case e := <-pc.Errors():
					return fmt.Errorf("read back %s/%d: %w", l.Topic, p, e)
				case m := <-pc.Messages():
					if k, ok := decodeRecord(m.Value, l.RunID); ok {
						found[k] = append(found[k], m.Offset)
					}
					if m.Offset >= end-1 {
						return nil
					}
				}
			}
		}()
		if err != nil {
			return nil, err
		}
	}
	return found, nil
}

// WaitISRFull returns once every partition of topic has a leader and its
// full replica set in sync, polling the metadata; it fails when ctx ends.
func WaitISRFull(ctx context.Context, cluster config.Cluster, opts Options, topic string) error {
	cfg, err := SaramaConfig(cluster, opts)
	if err != nil {
		return err
	}
	var last string
	for {
		if err := func() error {
			c, err := sarama.NewClient(cluster.Bootstrap, cfg)
			if err != nil {
				return err
			}
			defer c.Close()
			parts, err := c.Partitions(topic)
			if err != nil {
				return err
			}
			for _, p := range parts {
				rs, err := c.Replicas(topic, p)
				if err != nil {
					return err
				}
				isr, err := c.InSyncReplicas(topic, p)
				if err != nil {
					return err
				}
				if len(isr) < len(rs) {
					return fmt.Errorf("partition %d: ISR %v of replicas %v", p, isr, rs)
				}
				if l, err := c.Leader(topic, p); err != nil || l == nil {
					return fmt.Errorf("partition %d has no leader", p)
				}
			}
			return nil
		}(); err == nil {
			return nil
		} else {
			last = err.Error()
		}
		if !sleepUntil(ctx, time.Now().Add(500*time.Millisecond)) {
			return fmt.Errorf("%w (last: %s)", ctx.Err(), last)
		}
	}
}

// DecodeLedgerKey reads the identity of a ledger record from its value,
// whatever its run (for independent checks of a drill's read-back).
func DecodeLedgerKey(v []byte) (RecordKey, bool) {
	if len(v) < ledgerHeader {
		return RecordKey{}, false
	}
	return decodeRecord(v, binary.BigEndian.Uint64(v[4:]))
}

// sentNanos is the send time (epoch nanoseconds) in a ledger record's
// header.
func sentNanos(v []byte) int64 {
	if len(v) < ledgerHeader {
		return 0
	}
	return int64(binary.BigEndian.Uint64(v[28:]))
}
