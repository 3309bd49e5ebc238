package probe

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/IBM/sarama"

	"github.com/stretchctl/stretchctl/config"
	"github.com/stretchctl/stretchctl/topology"
)

// The ledger workload of a drill: producers that number every record per
// partition, remember every acknowledgement with its offset and time, and
// a reader that finds them again after the fault is healed.

// Producer is how the ledger's producers behave: the settings of the
// user's producer file (with that library's defaults), mapped onto
// sarama. The names are Java's; see ProducerFrom.
type Producer struct {
	// Acks is sarama's RequiredAcks: -1 (all), 1 or 0.
	Acks sarama.RequiredAcks
	// Idempotent turns on the idempotent producer (which needs acks=all
	// and one request in flight per connection in sarama).
	Idempotent bool
	// Retries is how often one record is retried.
	Retries int
	// RetryBackoff and RetryBackoffMax: the wait before a retry grows
	// from the first to the second (doubling).
	RetryBackoff, RetryBackoffMax time.Duration
	// RequestTimeout bounds one produce request (client side, and the
	// broker's wait for acks).
	RequestTimeout time.Duration
	// DeliveryTimeout bounds a record's whole life; sarama has no such
	// bound, so Retries is cut to what fits in it.
	DeliveryTimeout time.Duration
	// MaxInFlight requests per connection.
	MaxInFlight int
	// Linger before a batch is sent.
	Linger time.Duration
	// Origins says where each setting came from, by Java name.
	Origins map[string]string
}

// DefaultProducer is the Java client's defaults: acks=all, idempotent.
func DefaultProducer() Producer {
	return Producer{Acks: sarama.WaitForAll, Idempotent: true, Retries: math.MaxInt32, RetryBackoff: 100 * time.Millisecond,
		RetryBackoffMax: time.Second, RequestTimeout: 30 * time.Second, DeliveryTimeout: 120 * time.Second, MaxInFlight: 5,
		Origins: map[string]string{}}
}

// ProducerFrom maps effective producer settings (clients.Load: the
// user's file over the library's defaults, Java names) onto a Producer.
// origin names the file for settings written in it.
func ProducerFrom(s topology.Settings, origin string) (Producer, error) {
	p := DefaultProducer()
	p.Idempotent = false
	get := func(name string) (string, bool) {
		v, ok := s[name]
		if !ok {
			return "", false
		}
		if v.Explicit() {
			p.Origins[name] = fmt.Sprintf("%s:%d", origin, v.Line)
		} else {
			p.Origins[name] = v.Default
		}
		return strings.TrimSpace(v.Value), true
	}
	ms := func(name string, into *time.Duration) error {
		v, ok := get(name)
		if !ok {
			return nil
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return fmt.Errorf("%s=%q: want milliseconds", name, v)
		}
		*into = time.Duration(min(n, math.MaxInt64/int64(time.Millisecond))) * time.Millisecond
		return nil
	}
	if v, ok := get("acks"); ok {
		switch strings.ToLower(v) {
		case "all", "-1":
			p.Acks = sarama.WaitForAll
		case "1":
			p.Acks = sarama.WaitForLocal
		case "0":
			p.Acks = sarama.NoResponse
		default:
			return p, fmt.Errorf("acks=%q: want all, -1, 1 or 0", v)
		}
	}
	if v, ok := get("enable.idempotence"); ok {
		p.Idempotent = strings.EqualFold(v, "true")
	}
	if v, ok := get("retries"); ok {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return p, fmt.Errorf("retries=%q: want a count", v)
		}
		p.Retries = int(min(n, math.MaxInt32))
	}
	if v, ok := get("max.in.flight.requests.per.connection"); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return p, fmt.Errorf("max.in.flight.requests.per.connection=%q: want 1 or more", v)
		}
		p.MaxInFlight = n
	}
	for name, into := range map[string]*time.Duration{
		"retry.backoff.ms": &p.RetryBackoff, "retry.backoff.max.ms": &p.RetryBackoffMax, "request.timeout.ms": &p.RequestTimeout,
		"delivery.timeout.ms": &p.DeliveryTimeout, "linger.ms": &p.Linger,
	} {
		if err := ms(name, into); err != nil {
			return p, err
		}
	}
	if p.Idempotent && p.Acks != sarama.WaitForAll {
		// The Java client refuses this; follow the effective value the
		// clients package computed and say so.
		p.Idempotent = false
	}
	return p, nil
}

// Settings lists the producer's settings with their origins, Java names.
func (p Producer) Settings() [][3]string {
	acks := map[sarama.RequiredAcks]string{sarama.WaitForAll: "all", sarama.WaitForLocal: "1", sarama.NoResponse: "0"}[p.Acks]
	row := func(name, v string) [3]string {
		o := p.Origins[name]
		if o == "" {
			o = "drill default"
		}
		return [3]string{name, v, o}
	}
	ms := func(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) }
	return [][3]string{
		row("acks", acks),
		row("enable.idempotence", strconv.FormatBool(p.Idempotent)),
		row("retries", strconv.Itoa(p.Retries)),
		row("delivery.timeout.ms", ms(p.DeliveryTimeout)),
		row("request.timeout.ms", ms(p.RequestTimeout)),
		row("retry.backoff.ms", ms(p.RetryBackoff)),
		row("max.in.flight.requests.per.connection", strconv.Itoa(p.MaxInFlight)),
		row("linger.ms", ms(p.Linger)),
	}
}

// sarama builds the sarama producer config.
func (p Producer) sarama(base *sarama.Config) *sarama.Config {
	cfg := base
	cfg.Producer.RequiredAcks = p.Acks
	cfg.Producer.Idempotent = p.Idempotent
	cfg.Producer.Return.Successes = true
	cfg.Producer.Return.Errors = true
	cfg.Producer.Partitioner = sarama.NewManualPartitioner
	cfg.Producer.Compression = sarama.CompressionNone
	cfg.Producer.Flush.Frequency = p.Linger
	cfg.Producer.Flush.MaxMessages = 0
	cfg.Producer.Timeout = max(p.RequestTimeout, time.Millisecond)
	cfg.Net.ReadTimeout = max(p.RequestTimeout, time.Second) + time.Second
	cfg.Net.MaxOpenRequests = p.MaxInFlight
	if p.Idempotent {
		cfg.Net.MaxOpenRequests = 1
	}
	// sarama retries a record Retry.Max times with no overall deadline:
	// keep the retries that fit in delivery.timeout.ms, at the backoff
	// cap, so that a record gives up about when the Java client would.
	retries := p.Retries
	if p.DeliveryTimeout > 0 {
		step := max(p.RetryBackoffMax, p.RetryBackoff, 10*time.Millisecond)
		retries = min(retries, int(p.DeliveryTimeout/step)+1)
	}
	cfg.Producer.Retry.Max = retries
	lo, hi := p.RetryBackoff, max(p.RetryBackoffMax, p.RetryBackoff)
	cfg.Producer.Retry.BackoffFunc = func(n, _ int) time.Duration {
		d := lo
		for i := 1; i < n && d < hi; i++ {
			d *= 2
		}
		return min(d, hi)
	}
	cfg.Metadata.Retry.Max = 10
	cfg.Metadata.Retry.Backoff = 250 * time.Millisecond
	cfg.Metadata.RefreshFrequency = 10 * time.Second
	cfg.ChannelBufferSize = 1024
	return cfg
}

// LedgerOptions chooses what the ledger workload does.
type LedgerOptions struct {
	// Options places connections (Dial: in the producers' DC) and logs.
	Options
	Topic string
	// Producers is how many producers run (each its own client).
	Producers int
	// Rate is the target number of records per second, all producers
	// together, spread round-robin over the topic's partitions.
	Rate int
	// RecordSize is the value size in bytes (at least the 40-byte header).
	RecordSize int
	Producer   Producer
	// MaxRecords stops sending after that many records (0: until Stop),
	// for a ledger of known size in tests and benchmarks.
	MaxRecords int
}

// LedgerCounts are a running ledger's records so far.
type LedgerCounts struct {
	Sent, Acked, Failed int64
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

// LedgerRun is a running workload; Stop ends it and returns the ledger.
type LedgerRun struct {
	l      *Ledger
	cancel context.CancelFunc
	done   chan struct{}
	// mu guards l.Records, l.Errors, the counts and wait.
	mu            sync.Mutex
	acked, failed int64
	wait          time.Duration // for answers in flight after Stop
}

// StartLedger checks the topic, records its end offsets and starts the
// producers. It fails when the topic is missing or the cluster cannot be
// reached.
func StartLedger(ctx context.Context, cluster config.Cluster, opts LedgerOptions) (*LedgerRun, error) {
	if opts.Topic == "" {
		return nil, errors.New("ledger: no topic")
	}
	opts.Producers = max(opts.Producers, 1)
	if opts.Rate <= 0 {
		opts.Rate = 1000
	}
	opts.RecordSize = max(opts.RecordSize, ledgerHeader)
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
	l := &Ledger{Topic: opts.Topic, Parts: parts, Target: opts.Rate, StartOffsets: map[int32]int64{}, Errors: map[string]int64{}}
	for _, p := range parts {
		off, err := client.GetOffset(opts.Topic, p, sarama.OffsetNewest)
		if err != nil {
			return nil, fmt.Errorf("ledger: end offset of %s/%d: %w", opts.Topic, p, err)
		}
		l.StartOffsets[p] = off
	}
	var id [8]byte
	_, _ = rand.Read(id[:])
	l.RunID = binary.BigEndian.Uint64(id[:])

	producers := make([]sarama.AsyncProducer, 0, opts.Producers)
	for range opts.Producers {
		cfg, err := SaramaConfig(cluster, opts.Options)
		if err != nil {
			return nil, err
		}
		pr, err := sarama.NewAsyncProducer(cluster.Bootstrap, opts.Producer.sarama(cfg))
		if err != nil {
			for _, p := range producers {
				p.AsyncClose()
			}
			return nil, fmt.Errorf("ledger: producer: %w", err)
		}
		producers = append(producers, pr)
	}
	return startLedger(ctx, l, opts, producers), nil
}

// startLedger starts writing the ledger l with producers (the topic's
// partitions and start offsets already in l).
func startLedger(ctx context.Context, l *Ledger, opts LedgerOptions, producers []sarama.AsyncProducer) *LedgerRun {
	opts.Rate = max(opts.Rate, 1)
	opts.RecordSize = max(opts.RecordSize, ledgerHeader)
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	run := &LedgerRun{l: l, cancel: cancel, done: make(chan struct{})}
	l.Start = time.Now()
	go run.produce(rctx, opts, producers)
	return run
}

// Ledger returns the ledger so far (valid after Stop).
func (r *LedgerRun) Ledger() *Ledger { return r.l }

// Counts returns the records sent, acknowledged and failed so far.
func (r *LedgerRun) Counts() LedgerCounts {
	r.mu.Lock()
	defer r.mu.Unlock()
	return LedgerCounts{Sent: int64(len(r.l.Records)), Acked: r.acked, Failed: r.failed}
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

func (r *LedgerRun) produce(ctx context.Context, opts LedgerOptions, producers []sarama.AsyncProducer) {
	defer close(r.done)
	l := r.l
	mu := &r.mu

	var wg sync.WaitGroup
	for _, pr := range producers {
		wg.Go(func() {
			for m := range pr.Successes() {
				now := time.Since(l.Start)
				mu.Lock()
				rec := &l.Records[m.Metadata.(int)]
				rec.State, rec.Done, rec.Offset = Acked, now, m.Offset
				r.acked++
				mu.Unlock()
			}
		})
		wg.Go(func() {
			for e := range pr.Errors() {
				now := time.Since(l.Start)
				mu.Lock()
				rec := &l.Records[e.Msg.Metadata.(int)]
				rec.State, rec.Done = Failed, now
				r.failed++
				l.Errors[errorText(e.Err)]++
				mu.Unlock()
			}
		})
	}

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
			prod := (i / len(l.Parts)) % len(producers)
			i++
			part := l.Parts[pi]
			k := [2]int{prod, pi}
			s := seq[k]
			seq[k] = s + 1
			val := make([]byte, opts.RecordSize)
			sent := time.Now()
			encodeRecord(val, l.RunID, prod, part, s, sent)
			mu.Lock()
			idx := len(l.Records)
			l.Records = append(l.Records, LedgerRecord{Producer: prod, Partition: part, Seq: s, Sent: sent.Sub(l.Start), Offset: -1})
			mu.Unlock()
			msg := &sarama.ProducerMessage{Topic: l.Topic, Partition: part, Value: sarama.ByteEncoder(val), Metadata: idx}
			select {
			case producers[prod].Input() <- msg:
			case <-ctx.Done():
				mu.Lock()
				l.Records = l.Records[:idx]
				mu.Unlock()
				break loop
			}
		}
	}
	mu.Lock()
	l.Stop = time.Now()
	wait := r.wait
	mu.Unlock()
	// Wait for the answers in flight, then close: records still
	// unanswered stay Pending.
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) {
		mu.Lock()
		pending := int64(len(l.Records)) - r.acked - r.failed
		mu.Unlock()
		if pending == 0 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	closed := make(chan struct{})
	go func() {
		for _, pr := range producers {
			pr.AsyncClose()
		}
		wg.Wait()
		close(closed)
	}()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		// A producer stuck on a dead broker: leave it; its records stay
		// Pending and the ledger is complete for what was answered.
	}
	mu.Lock()
	defer mu.Unlock()
	recs := make([]LedgerRecord, len(l.Records))
	copy(recs, l.Records)
	l.Records = recs
}

func errorText(err error) string {
	var pe sarama.ProducerErrors
	if errors.As(err, &pe) && len(pe) > 0 {
		err = pe[0].Err
	}
	s := err.Error()
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}

// ReadBack reads the topic's partitions from the ledger's start offsets
// to their current end and returns, per record of this run, the offsets
// it was found at. It reads what any consumer would (read_uncommitted:
// the ledger does not use transactions) and is bounded by timeout per
// partition.
func ReadBack(ctx context.Context, cluster config.Cluster, opts Options, l *Ledger, timeout time.Duration) (map[RecordKey][]int64, error) {
	cfg, err := SaramaConfig(cluster, opts)
	if err != nil {
		return nil, err
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
	for _, p := range l.Parts {
		end, err := client.GetOffset(l.Topic, p, sarama.OffsetNewest)
		if err != nil {
			return nil, fmt.Errorf("read back %s/%d: %w", l.Topic, p, err)
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
