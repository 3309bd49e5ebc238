package probe

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/IBM/sarama"

	"github.com/stretchctl/stretchctl/config"
	"github.com/stretchctl/stretchctl/topology"
)

// Defaults of MeasureOptions.
const (
	DefaultDuration = 10 * time.Second
	DefaultInterval = time.Second
	// MaxRequestTimeout bounds every request of a probe unless
	// MeasureOptions.Timeout says otherwise: cluster.timeout (10s by
	// default) suits reading a cluster, but a probe must report a silent
	// broker quickly and go on.
	MaxRequestTimeout = 3 * time.Second
	// setupWait bounds the wait for the probe topic's leaders.
	setupWait = 10 * time.Second
)

// MeasureOptions chooses what Measure does.
type MeasureOptions struct {
	// Options places connections (Dial) and receives logs (Log).
	Options
	// From is the DC of the vantage point ("" when unknown): the row of
	// the matrix.
	From string
	// Duration of the sampling (DefaultDuration when zero).
	Duration time.Duration
	// Interval between two samples of one kind to one broker
	// (DefaultInterval when zero).
	Interval time.Duration
	// Timeout bounds every request; zero means min(cluster.Timeout,
	// MaxRequestTimeout).
	Timeout time.Duration
	// Topic is the probe topic (DefaultTopic when empty).
	Topic string
	// DC maps a broker.rack to its DC; nil means the rack is the DC.
	DC func(rack string) string
	// Slot of Slots, when Slots > 0, shares the interval between probes
	// running at once in different DCs (the agents): sampling starts on a
	// wall-clock multiple of Interval and this probe sends only in its
	// slot, the Slot-th 1/Slots of every interval. Two probes writing to
	// one leader at once would make each other's acks=all wait for a
	// second follower fetch (a follower fetches all of a leader's
	// partitions in one request), inflating replication up to twice the
	// round trip. Clocks synchronised to a few ms (NTP) are enough.
	Slot, Slots int
}

// Measure measures, from where it runs, the latency to every broker of the
// cluster as Kafka clients feel it, for opts.Duration:
//
//   - connect: a TCP handshake on a fresh connection, once per interval;
//   - request: an ApiVersions round trip on a dedicated long-lived
//     connection (the cheapest request a broker answers);
//   - produce with acks=1 and with acks=all, one record each per interval,
//     to a partition of the probe topic that the broker leads, each on its
//     own connection (a broker handles one request per connection at a
//     time, so a slow acks=all must not delay acks=1); their difference
//     in the same interval is the replication time;
//   - end to end: a consumer of that partition on another connection,
//     from the latest offset, times each probe record from send to read.
//
// Before sampling it makes sure the probe topic exists and that every live
// broker leads one of its partitions (see ensureTopic); this is the only
// change Measure makes to a cluster. The timed requests to all brokers are
// spread over the interval, each in a slot of its own, so that in a
// healthy cluster none waits behind another (or for the CPU).
//
// Every request is bounded by the timeout; a broker that does not answer
// (down, frozen, cut off) shows as timeouts or errors in its row, and the
// run goes on. Measure returns within setup + Duration + 2×timeout (+ one
// interval with Slots, waiting for the wall-clock start), where
// setup is two timeouts at most (bootstrap, DescribeCluster) plus, only
// when it must create the topic or move a leader, up to 20 s more (10 s
// for the leaders, 10 s for them to take writes). It
// fails only when no bootstrap server answers (a *ConnectError), on
// invalid options, or when ctx ends.
func Measure(ctx context.Context, cluster config.Cluster, opts MeasureOptions) (*Result, error) {
	o, err := opts.withDefaults(cluster)
	if err != nil {
		return nil, err
	}
	s, err := resolve(cluster, o.Options)
	if err != nil {
		return nil, err
	}
	s.timeout = o.Timeout
	if len(s.bootstrap) == 0 {
		return nil, &ConnectError{Timeout: s.timeout}
	}
	log := o.log()

	setupCtx, cancelSetup := context.WithCancel(ctx)
	defer cancelSetup()
	r, err := newReader(setupCtx, s, log)
	if err != nil {
		return nil, err
	}
	defer r.close()
	start := time.Now()
	boot, md, err := r.bootstrap(setupCtx, []string{o.Topic})
	if err != nil {
		return nil, err
	}
	snap := &topology.Snapshot{}
	readMetadata(snap, md)
	r.describeCluster(setupCtx, boot, snap)
	brokers, live := probeBrokers(snap, md)
	dcOf := func(rack string) string {
		if rack == "" {
			return ""
		}
		return o.DC(rack)
	}
	byID := map[int32]topology.Broker{}
	for _, b := range brokers {
		byID[b.ID] = b
	}
	spread := func(id int32) string {
		b := byID[id]
		if dc := dcOf(b.Rack); dc != "" {
			return dc
		}
		return b.Rack
	}
	plan := r.ensureTopic(setupCtx, boot, md, o.Topic, live, spread, setupWait)
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("probe: %w", err)
	}
	log.Debug("probe set up", "brokers", len(brokers), "live", len(live), "elapsed", time.Since(start))

	targets := make([]*target, 0, len(brokers))
	for _, b := range brokers {
		t := newTarget(b, dcOf(b.Rack), !slices.Contains(live, b.ID))
		if p, ok := plan.lead[b.ID]; ok {
			t.partition = p
		} else {
			why := plan.unknown[b.ID]
			if t.fenced {
				why = "fenced: leads no partition (down, or cut off from the controller)"
			}
			for _, k := range []kind{kindAcks1, kindAcksAll, kindReplication, kindEndToEnd} {
				t.s[k].setUnknown(why)
			}
		}
		targets = append(targets, t)
	}

	sampler := &run{s: s, opts: o, log: log, targets: targets, id: runID()}
	started := time.Now()
	if err := sampler.sample(ctx); err != nil {
		return nil, err
	}
	res := &Result{
		From:       o.From,
		Source:     strings.Join(s.bootstrap, ","),
		Topic:      o.Topic,
		Started:    started.UTC(),
		DurationMs: durationMs(o.Duration),
		IntervalMs: durationMs(o.Interval),
		TimeoutMs:  durationMs(o.Timeout),
		Brokers:    make([]BrokerLatency, 0, len(targets)),
		Matrix:     matrix(o.From, targets),
		Errors:     r.sortedErrors(),
	}
	for _, t := range targets {
		res.Brokers = append(res.Brokers, t.row())
	}
	return res, nil
}

func (o MeasureOptions) withDefaults(cluster config.Cluster) (MeasureOptions, error) {
	if o.Duration == 0 {
		o.Duration = DefaultDuration
	}
	if o.Interval == 0 {
		o.Interval = DefaultInterval
	}
	if o.Duration < 0 || o.Interval < 0 || o.Timeout < 0 {
		return o, errors.New("probe duration, interval and timeout must not be negative")
	}
	if o.Timeout == 0 {
		o.Timeout = MaxRequestTimeout
		if t := cluster.Timeout.Duration; t > 0 && t < o.Timeout {
			o.Timeout = t
		}
	}
	if o.Topic == "" {
		o.Topic = DefaultTopic
	}
	if o.Slots < 0 || o.Slot < 0 || (o.Slots > 0 && o.Slot >= o.Slots) {
		return o, fmt.Errorf("probe slot %d of %d: want 0 <= slot < slots", o.Slot, o.Slots)
	}
	if o.DC == nil {
		o.DC = func(rack string) string { return rack }
	}
	return o, nil
}

// runID tells this run's probe records from any other's.
func runID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}

// run is one sampling phase.
type run struct {
	s       *settings
	opts    MeasureOptions
	log     *slog.Logger
	targets []*target
	id      string

	cfg  *sarama.Config
	end  time.Time // no request starts after end
	stop time.Time // every connection is closed at stop
}

// sample runs the workers of every target until the run ends. Requests
// do not start after Duration; one in flight then is allowed its timeout,
// twice (an acks=1 and an acks=all in a row), after which every
// connection is closed and what is still unanswered counts as a timeout.
func (r *run) sample(ctx context.Context) error {
	start, span := time.Now(), r.opts.Interval
	if n := r.opts.Slots; n > 0 {
		span = r.opts.Interval / time.Duration(n)
		start = start.Truncate(r.opts.Interval).Add(r.opts.Interval + span*time.Duration(r.opts.Slot))
	}
	r.end = start.Add(r.opts.Duration)
	r.stop = r.end.Add(2 * r.opts.Timeout)
	wctx, cancel := context.WithDeadline(ctx, r.stop)
	defer cancel()
	d := &dialer{ctx: wctx, dial: r.s.dial, timeout: r.s.timeout, tls: r.s.tls, dropOnTimeout: true}
	cfg := r.s.sarama()
	cfg.Net.TLS.Enable = false
	cfg.Net.TLS.Config = nil
	cfg.Net.Proxy.Enable = true
	cfg.Net.Proxy.Dialer = d
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("sarama config: %w", err)
	}
	r.cfg = cfg

	// Three periodic tasks per broker, each in its own slot of the
	// interval (of this probe's span of it), so that the probe's own
	// requests do not queue behind one another (or compete for a small
	// machine's CPU).
	const tasks = 3
	slots := time.Duration(len(r.targets) * tasks)
	slot := func(i, j int) time.Duration {
		return span * time.Duration(i*tasks+j) / max(slots, 1)
	}
	var wg sync.WaitGroup
	for i, t := range r.targets {
		wg.Go(func() { r.every(wctx, start.Add(slot(i, 0)), func() { r.connect(wctx, t) }) })
		wg.Go(func() { r.requests(wctx, t, start.Add(slot(i, 1))) })
		if t.partition >= 0 {
			wg.Go(func() { r.produceAndConsume(wctx, t, start.Add(slot(i, 2))) })
		}
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("probe: %w", err)
	}
	return nil
}

// every calls f at first, first+interval, ... while before r.end,
// skipping the times already past when f returns (like time.Ticker).
func (r *run) every(ctx context.Context, first time.Time, f func()) {
	next := first
	for next.Before(r.end) {
		if !sleepUntil(ctx, next) {
			return
		}
		f()
		now := time.Now()
		for !next.After(now) {
			next = next.Add(r.opts.Interval)
		}
	}
}

// sleepUntil waits for t; false when ctx ended first.
func sleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-tm.C:
		return true
	}
}

// failure records err on a series unless it only says that the run was
// over (the context closed the connection).
func (r *run) failure(ctx context.Context, s *series, err error) {
	if ctx.Err() != nil {
		// Cut at the end of the run, after its timeout: a timeout.
		err = context.DeadlineExceeded
	}
	s.fail(err, reason(err, r.s.timeout))
}

// connect times a TCP handshake on a fresh connection.
func (r *run) connect(ctx context.Context, t *target) {
	cctx, cancel := context.WithTimeout(ctx, r.s.timeout)
	defer cancel()
	start := time.Now()
	c, err := r.s.dial(cctx, "tcp", t.addr)
	d := time.Since(start)
	if err != nil {
		r.failure(ctx, t.s[kindConnect], err)
		return
	}
	_ = c.Close()
	t.s[kindConnect].ok(d)
}

// conn is a long-lived sarama connection to one broker, opened on first
// use and again after a failure.
type conn struct {
	r    *run
	addr string
	b    *sarama.Broker
}

// get returns the open connection, opening it (dial, ApiVersions, SASL)
// if needed.
func (c *conn) get() (*sarama.Broker, error) {
	if c.b != nil {
		return c.b, nil
	}
	b := sarama.NewBroker(c.addr)
	if err := b.Open(c.r.cfg); err != nil {
		return nil, err
	}
	ok, err := b.Connected() // waits for the connection and its login
	if !ok || err != nil {
		_ = b.Close()
		if err == nil {
			err = errors.New("not connected")
		}
		if isAuth(err) {
			err = &AuthError{Mechanism: c.mechanism(), User: c.user(), Err: err}
		}
		return nil, err
	}
	c.b = b
	return b, nil
}

func (c *conn) mechanism() string {
	if a := c.r.s.sasl; a != nil {
		return string(a.mechanism)
	}
	return ""
}

func (c *conn) user() string {
	if a := c.r.s.sasl; a != nil {
		return a.user
	}
	return ""
}

// reset drops the connection after a failure; the next get reopens it.
func (c *conn) reset() {
	if c.b != nil {
		_ = c.b.Close()
		c.b = nil
	}
}

// requests times an ApiVersions round trip once per interval.
func (r *run) requests(ctx context.Context, t *target, first time.Time) {
	c := &conn{r: r, addr: t.addr}
	defer c.reset()
	r.every(ctx, first, func() {
		b, err := c.get()
		if err != nil {
			r.failure(ctx, t.s[kindRequest], err)
			return
		}
		req := &sarama.ApiVersionsRequest{Version: 3, ClientSoftwareName: clientID, ClientSoftwareVersion: "probe"}
		start := time.Now()
		_, err = b.ApiVersions(req)
		d := time.Since(start)
		if err != nil {
			r.failure(ctx, t.s[kindRequest], err)
			c.reset()
			return
		}
		t.s[kindRequest].ok(d)
	})
}

// versionStep maps the lowest protocol version spoken to a request version.
type versionStep struct {
	from sarama.KafkaVersion
	ver  int16
}

// pickVersion returns the request version of the first step the spoken
// version reaches (steps newest first), else fallback. It mirrors how
// sarama's own clients choose request versions; sarama lowers them further
// to what the broker supports.
func pickVersion(v sarama.KafkaVersion, fallback int16, steps ...versionStep) int16 {
	for _, s := range steps {
		if v.IsAtLeast(s.from) {
			return s.ver
		}
	}
	return fallback
}

// produceVersion is the Produce version sarama's producer would use.
func produceVersion(v sarama.KafkaVersion) int16 {
	return pickVersion(v, 3, versionStep{sarama.V3_7_0_0, 10}, versionStep{sarama.V2_8_0_0, 9}, versionStep{sarama.V2_4_0_0, 8},
		versionStep{sarama.V2_1_0_0, 7}, versionStep{sarama.V2_0_0_0, 6}, versionStep{sarama.V1_0_0_0, 5})
}

// fetchVersion is the Fetch version sarama's consumer would use.
func fetchVersion(v sarama.KafkaVersion) int16 {
	return pickVersion(v, 5, versionStep{sarama.V2_7_0_0, 12}, versionStep{sarama.V2_3_0_0, 11}, versionStep{sarama.V2_1_0_0, 10},
		versionStep{sarama.V2_0_0_0, 8}, versionStep{sarama.V1_1_0_0, 7}, versionStep{sarama.V1_0_0_0, 6})
}

// pending holds the probe records of one partition that were sent and not
// yet read back.
type pending struct {
	mu   sync.Mutex
	sent map[string]*inFlight
	// ready is set once the consumer knows where to read from: records
	// sent before are not waited for.
	ready bool
}

type inFlight struct {
	at    time.Time
	acked bool
}

func (p *pending) add(key string, at time.Time) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.ready {
		return false
	}
	p.sent[key] = &inFlight{at: at}
	return true
}

func (p *pending) ack(key string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if f := p.sent[key]; f != nil {
		f.acked = true
	}
}

func (p *pending) drop(key string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.sent, key)
}

// take removes a record read back and returns when it was sent.
func (p *pending) take(key string) (time.Time, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f, ok := p.sent[key]
	if !ok {
		return time.Time{}, false
	}
	delete(p.sent, key)
	return f.at, true
}

// expire removes the acknowledged records sent before cutoff (all with a
// zero cutoff) and returns how many.
func (p *pending) expire(cutoff time.Time) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for k, f := range p.sent {
		if f.acked && (cutoff.IsZero() || f.at.Before(cutoff)) {
			delete(p.sent, k)
			n++
		}
	}
	return n
}

func (p *pending) empty() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.sent) == 0
}

// produceAndConsume sends an acks=1 and an acks=all record to the
// target's partition once per interval and reads them back.
func (r *run) produceAndConsume(ctx context.Context, t *target, first time.Time) {
	p := &pending{sent: map[string]*inFlight{}}
	produced := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { r.consume(ctx, t, p, produced) })
	defer wg.Wait()
	defer close(produced)

	acks1 := &conn{r: r, addr: t.addr}
	acksAll := &conn{r: r, addr: t.addr}
	defer acks1.reset()
	defer acksAll.reset()
	seq := 0
	r.every(ctx, first, func() {
		seq++
		// acks=all first: sent right after an acks=1 record, it would
		// find the followers still busy fetching that one and wait for a
		// second follower round trip. acks=1 does not wait for them.
		dAll, okAll := r.produce(ctx, t, acksAll, sarama.WaitForAll, p, fmt.Sprintf("%d-all", seq))
		d1, ok1 := r.produce(ctx, t, acks1, sarama.WaitForLocal, p, fmt.Sprintf("%d-1", seq))
		if ok1 && okAll {
			t.s[kindReplication].ok(max(dAll-d1, 0))
		}
		r.log.Debug("produce sample", "broker", t.id, "partition", t.partition, "acksAll", dAll, "acks1", d1)
	})
}

// recordPrefix starts every probe record's value.
const recordPrefix = "stretchctl-probe "

// produce sends one record with the given acks and returns how long the
// broker took to acknowledge it.
func (r *run) produce(ctx context.Context, t *target, c *conn, acks sarama.RequiredAcks, p *pending, seq string) (time.Duration, bool) {
	k := kindAcks1
	if acks == sarama.WaitForAll {
		k = kindAcksAll
	}
	if time.Now().After(r.end) {
		return 0, false // the run is over
	}
	b, err := c.get()
	if err != nil {
		r.failure(ctx, t.s[k], err)
		return 0, false
	}
	key := recordPrefix + r.id + " " + brokerKey(t.id) + " " + seq
	now := time.Now()
	req := &sarama.ProduceRequest{RequiredAcks: acks, Timeout: int32(r.ackTimeout() / time.Millisecond), Version: produceVersion(r.s.version)}
	req.AddBatch(r.opts.Topic, t.partition, &sarama.RecordBatch{
		Version:        2,
		FirstTimestamp: now,
		MaxTimestamp:   now,
		ProducerID:     -1,
		ProducerEpoch:  -1,
		FirstSequence:  -1,
		Records:        []*sarama.Record{{Value: []byte(key)}},
	})
	waited := p.add(key, now)
	start := time.Now()
	resp, err := b.Produce(req)
	d := time.Since(start)
	if err == nil {
		err = produceError(resp, r.opts.Topic, t.partition)
		if err == nil {
			if waited {
				p.ack(key)
			}
			t.s[k].ok(d)
			return d, true
		}
		p.drop(key)
		t.s[k].fail(err, kafkaReason(err, t.id, t.partition, r.ackTimeout()))
		return 0, false
	}
	p.drop(key)
	r.failure(ctx, t.s[k], err)
	c.reset()
	return 0, false
}

func brokerKey(id int32) string { return fmt.Sprintf("b%d", id) }

// produceError is the partition's error in a Produce answer.
func produceError(resp *sarama.ProduceResponse, topic string, partition int32) error {
	blk := resp.GetBlock(topic, partition)
	if blk == nil {
		return errors.New("the produce answer does not hold the partition")
	}
	if errors.Is(blk.Err, sarama.ErrNoError) {
		return nil
	}
	return blk.Err
}

// ackTimeout is the produce request's own timeout: how long the leader
// waits for its in-sync followers before answering REQUEST_TIMED_OUT. It
// is shorter than the client's bound, so that a leader waiting for a
// silent follower is told apart from a leader that does not answer.
func (r *run) ackTimeout() time.Duration {
	return r.s.timeout - min(r.s.timeout/5, 500*time.Millisecond)
}

// kafkaReason phrases an error a broker returned for a partition.
func kafkaReason(err error, broker, partition int32, ackTimeout time.Duration) string {
	switch {
	case errors.Is(err, sarama.ErrNotLeaderForPartition):
		return fmt.Sprintf("broker %d no longer leads partition %d (leadership moved during the probe)", broker, partition)
	case errors.Is(err, sarama.ErrRequestTimedOut):
		return fmt.Sprintf("the leader's in-sync followers did not all acknowledge within %v "+
			"(a follower that is down or cut off stays in the ISR until replica.lag.time.max.ms passes or its broker is fenced)", ackTimeout)
	}
	return err.Error()
}

// consume reads the target's partition from its latest offset, on its own
// connection, and records the end-to-end latency of each probe record of
// this run. Fetch failures count as errors, probe records acknowledged but
// not read back within the timeout as timeouts. It returns once produced
// is closed and every record is read back or expired, or when ctx ends.
func (r *run) consume(ctx context.Context, t *target, p *pending, produced <-chan struct{}) {
	e2e := t.s[kindEndToEnd]
	c := &conn{r: r, addr: t.addr}
	defer c.reset()
	defer func() {
		e2e.expired(p.expire(time.Time{}), "probe records acknowledged but not read back by the end of the run")
	}()
	prefix := []byte(recordPrefix + r.id + " " + brokerKey(t.id) + " ")
	offset := int64(-1)
	done := false
	var lastFail time.Time
	for ctx.Err() == nil {
		select {
		case <-produced:
			done = true
		default:
		}
		if done && p.empty() {
			return
		}
		e2e.expired(p.expire(time.Now().Add(-r.s.timeout)), fmt.Sprintf("probe records acknowledged but not read back within %v", r.s.timeout))
		if !lastFail.IsZero() {
			// After a failure, try again in the next interval.
			if !sleepUntil(ctx, lastFail.Add(r.opts.Interval)) {
				return
			}
			lastFail = time.Time{}
		}
		if offset < 0 && (done || time.Now().After(r.end)) {
			return
		}
		b, err := c.get()
		if err != nil {
			r.failure(ctx, e2e, err)
			lastFail = time.Now()
			continue
		}
		if offset < 0 {
			if offset, err = r.latest(b, t.partition); err != nil {
				r.failure(ctx, e2e, err)
				c.reset()
				offset, lastFail = -1, time.Now()
				continue
			}
			p.mu.Lock()
			p.ready = true
			p.mu.Unlock()
		}
		next, err := r.fetch(b, t.partition, offset, func(value []byte) {
			if !bytes.HasPrefix(value, prefix) {
				return
			}
			if at, ok := p.take(string(value)); ok {
				e2e.ok(time.Since(at))
			}
		})
		switch {
		case errors.Is(err, sarama.ErrOffsetOutOfRange):
			offset = -1 // the log was truncated or deleted: start again from its end
		case err != nil:
			r.failure(ctx, e2e, err)
			if !isKafkaError(err) {
				c.reset()
			}
			lastFail = time.Now()
		default:
			offset = next
		}
	}
}

func isKafkaError(err error) bool {
	var k sarama.KError
	return errors.As(err, &k)
}

// latest returns the partition's end offset (its high watermark).
func (r *run) latest(b *sarama.Broker, partition int32) (int64, error) {
	req := sarama.NewOffsetRequest(r.s.version)
	req.AddBlock(r.opts.Topic, partition, sarama.OffsetNewest, 1)
	resp, err := b.GetAvailableOffsets(req)
	if err != nil {
		return 0, err
	}
	blk := resp.GetBlock(r.opts.Topic, partition)
	if blk == nil {
		return 0, errors.New("the list offsets answer does not hold the partition")
	}
	if !errors.Is(blk.Err, sarama.ErrNoError) {
		return 0, blk.Err
	}
	if blk.Offset == 0 && len(blk.Offsets) > 0 {
		return blk.Offsets[0], nil // ListOffsets v0
	}
	return blk.Offset, nil
}

// fetch long-polls the partition from offset, hands every record's value
// to f and returns the next offset. The broker answers as soon as the high
// watermark passes offset, so the wait (ackTimeout, just under the
// client's bound) only decides how often an idle consumer wakes the
// broker up, never how soon a record is seen.
func (r *run) fetch(b *sarama.Broker, partition int32, offset int64, f func([]byte)) (int64, error) {
	const maxBytes = 1 << 20
	req := &sarama.FetchRequest{
		Version:      fetchVersion(r.s.version),
		MaxWaitTime:  int32(r.ackTimeout() / time.Millisecond),
		MinBytes:     1,
		MaxBytes:     maxBytes,
		Isolation:    sarama.ReadUncommitted,
		SessionID:    0,
		SessionEpoch: -1, // no fetch session (KIP-227)
	}
	req.AddBlock(r.opts.Topic, partition, offset, maxBytes, -1)
	resp, err := b.Fetch(req)
	if err != nil {
		return offset, err
	}
	blk := resp.GetBlock(r.opts.Topic, partition)
	if blk == nil {
		return offset, errors.New("the fetch answer does not hold the partition")
	}
	if !errors.Is(blk.Err, sarama.ErrNoError) {
		return offset, blk.Err
	}
	next := offset
	for _, rs := range blk.RecordsSet {
		if rs == nil {
			continue
		}
		if batch := rs.RecordBatch; batch != nil {
			for _, rec := range batch.Records {
				if o := batch.FirstOffset + rec.OffsetDelta; o >= offset {
					f(rec.Value)
					next = max(next, o+1)
				}
			}
			if !batch.PartialTrailingRecord && len(batch.Records) > 0 {
				next = max(next, batch.LastOffset()+1)
			}
		}
		if set := rs.MsgSet; set != nil {
			for _, m := range set.Messages {
				if m.Offset >= offset && m.Msg != nil {
					f(m.Msg.Value)
					next = max(next, m.Offset+1)
				}
			}
		}
	}
	return next, nil
}
