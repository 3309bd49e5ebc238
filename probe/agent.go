package probe

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"time"

	"github.com/IBM/sarama"

	"github.com/stretchctl/stretchctl/config"
)

// Defaults of AgentOptions.
const (
	// DefaultResultsTopic is the compacted topic agents publish to.
	DefaultResultsTopic = "__stretchctl_latency"
	// DefaultWindow is how long one agent round samples.
	DefaultWindow = 10 * time.Second
	// reportVersion is the schema version of a published Report.
	reportVersion = 1
)

// AgentOptions chooses what an agent does. Measure carries the vantage
// DC (From), the sampling interval, the request timeout, the probe topic
// and the rack → DC map; its Duration is ignored: the agent samples in
// rounds of Window.
type AgentOptions struct {
	Measure MeasureOptions
	// Window is the length of one round (DefaultWindow when zero): each
	// round is one Measure whose percentiles are published.
	Window time.Duration
	// ResultsTopic receives one record per round, keyed by Key
	// (DefaultResultsTopic when empty).
	ResultsTopic string
	// Name tells agents of one DC apart (the host name when empty).
	Name string
	// Metrics, when set, is updated after every round.
	Metrics *Metrics
	// OnRound, when set, is called after every round with its report
	// and the error of the round (nil when the cluster was reached).
	OnRound func(Report, error)
}

// Report is the record an agent publishes after each round: what its
// vantage DC saw of every broker during Window. It is the unit the matrix
// is built from; the newest record per key wins (the topic is compacted).
type Report struct {
	// Version of this schema.
	Version int `json:"v"`
	// Agent is "from/name", also the record key.
	Agent string `json:"agent"`
	From  string `json:"from"`
	// At is when the round ended.
	At         time.Time `json:"at"`
	WindowMs   float64   `json:"windowMs"`
	IntervalMs float64   `json:"intervalMs"`
	// Error is why the round measured nothing (no broker reachable);
	// Brokers and Matrix are then those of the last good round with every
	// count zero, so that the matrix shows the cells as failing.
	Error   string          `json:"error,omitempty"`
	Brokers []BrokerLatency `json:"brokers"`
	Matrix  []Cell          `json:"matrix"`
}

// Key is the record key of an agent: its DC and name.
func Key(from, name string) string { return from + "/" + name }

// Agent measures continuously from one DC, in rounds, and publishes each
// round. It is what `stretchctl probe agent` runs; the Kubernetes
// operator runs the same loop in a pod per zone.
type Agent struct {
	cluster config.Cluster
	opts    AgentOptions
	log     *slog.Logger
	key     string

	pub  *publisher
	last *Result // last good round, the shape of a failed round
}

// NewAgent checks the options; Run starts the work.
func NewAgent(cluster config.Cluster, opts AgentOptions) (*Agent, error) {
	if opts.Window == 0 {
		opts.Window = DefaultWindow
	}
	if opts.Window < 0 {
		return nil, errors.New("agent window must be positive")
	}
	m, err := opts.Measure.withDefaults(cluster)
	if err != nil {
		return nil, err
	}
	if m.Interval > opts.Window {
		return nil, fmt.Errorf("agent interval %v is longer than its window %v", m.Interval, opts.Window)
	}
	m.Duration = opts.Window
	opts.Measure = m
	if opts.ResultsTopic == "" {
		opts.ResultsTopic = DefaultResultsTopic
	}
	if opts.ResultsTopic == m.Topic {
		return nil, fmt.Errorf("results topic and probe topic must differ (both %q)", m.Topic)
	}
	if opts.Name == "" {
		h, err := os.Hostname()
		if err != nil || h == "" {
			h = "agent"
		}
		opts.Name = h
	}
	a := &Agent{cluster: cluster, opts: opts, log: m.log(), key: Key(m.From, opts.Name)}
	a.pub = &publisher{cluster: cluster, opts: m.Options, topic: opts.ResultsTopic, dc: m.DC, log: a.log, timeout: m.Timeout}
	return a, nil
}

// Run measures round after round until ctx ends; it returns nil then. A
// round that reaches no broker is reported (to OnRound and the metrics,
// and published when the cluster takes it) and the next one starts after
// one interval: the agent never gives up on a cluster that comes back.
//
// Publishing runs beside the rounds, newest report first: a results
// topic whose leader was just lost must not hold up the measuring (a
// report that could not be sent is replaced by the next one).
func (a *Agent) Run(ctx context.Context) error {
	queue := make(chan Report, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer a.pub.close()
		for rep := range queue {
			if err := a.pub.publish(ctx, a.key, rep); err != nil && ctx.Err() == nil {
				a.log.Warn("could not publish a probe round", "topic", a.opts.ResultsTopic, "error", err)
				if a.opts.Metrics != nil {
					a.opts.Metrics.publishFailed()
				}
			}
		}
	}()
	defer func() { close(queue); <-done }()
	for ctx.Err() == nil {
		res, err := Measure(ctx, a.cluster, a.opts.Measure)
		if ctx.Err() != nil {
			return nil
		}
		rep := a.report(res, err)
		if a.opts.Metrics != nil {
			a.opts.Metrics.observe(rep, err == nil)
		}
		select { // drop the unsent report, if any, for this newer one
		case <-queue:
		default:
		}
		queue <- rep
		if a.opts.OnRound != nil {
			a.opts.OnRound(rep, err)
		}
		if err != nil {
			a.log.Warn("probe round failed", "error", err)
			if !sleepUntil(ctx, time.Now().Add(a.opts.Measure.Interval)) {
				return nil
			}
		}
	}
	return nil
}

// report turns a round into its record.
func (a *Agent) report(res *Result, err error) Report {
	rep := Report{
		Version:    reportVersion,
		Agent:      a.key,
		From:       a.opts.Measure.From,
		At:         time.Now().UTC(),
		WindowMs:   durationMs(a.opts.Window),
		IntervalMs: durationMs(a.opts.Measure.Interval),
	}
	if err == nil {
		a.last = res
		rep.Brokers, rep.Matrix = res.Brokers, res.Matrix
		return rep
	}
	rep.Error = err.Error()
	if a.last != nil {
		// The cells stay, emptied and marked: a DC whose agent cannot
		// reach any broker shows as failing, not as missing.
		for _, b := range a.last.Brokers {
			rep.Brokers = append(rep.Brokers, BrokerLatency{ID: b.ID, Addr: b.Addr, Rack: b.Rack, DC: b.DC, Partition: -1,
				Connect: failedStats(rep.Error), Request: failedStats(rep.Error)})
		}
		for _, c := range a.last.Matrix {
			rep.Matrix = append(rep.Matrix, Cell{From: c.From, To: c.To, Brokers: slices.Clone(c.Brokers),
				Connect: failedStats(rep.Error), Request: failedStats(rep.Error)})
		}
	}
	return rep
}

func failedStats(why string) Stats { return Stats{Errors: 1, LastError: why} }

// publisher writes reports to the results topic, creating it on first
// use: compacted, one partition, replicas spread over DCs,
// min.insync.replicas=1 so that agents keep publishing through a DC loss.
type publisher struct {
	cluster config.Cluster
	opts    Options
	topic   string
	dc      func(rack string) string
	log     *slog.Logger
	timeout time.Duration // of every request, as the probe's

	client   sarama.Client
	producer sarama.SyncProducer
}

func (p *publisher) publish(ctx context.Context, key string, rep Report) error {
	if p.producer == nil {
		if err := p.open(ctx); err != nil {
			return err
		}
	}
	v, err := json.Marshal(rep)
	if err != nil {
		return err
	}
	_, _, err = p.producer.SendMessage(&sarama.ProducerMessage{Topic: p.topic, Key: sarama.StringEncoder(key), Value: sarama.ByteEncoder(v)})
	if err != nil {
		p.close() // reopen next round: the cluster may have moved on
	}
	return err
}

func (p *publisher) open(ctx context.Context) error {
	cfg, err := SaramaConfig(p.cluster, p.opts)
	if err != nil {
		return err
	}
	cfg.Net.DialTimeout, cfg.Net.ReadTimeout, cfg.Net.WriteTimeout = p.timeout, p.timeout, p.timeout
	cfg.Producer.RequiredAcks = sarama.WaitForLocal
	cfg.Producer.Return.Successes = true
	cfg.Producer.Retry.Max = 3
	cfg.Producer.Retry.Backoff = time.Second // a new leader is elected within seconds
	cfg.Producer.Timeout = p.timeout
	cfg.Producer.Compression = sarama.CompressionNone
	c, err := sarama.NewClient(p.cluster.Bootstrap, cfg)
	if err != nil {
		return err
	}
	if err := ensureResultsTopic(ctx, c, p.topic, p.dc); err != nil {
		_ = c.Close()
		return err
	}
	prod, err := sarama.NewSyncProducerFromClient(c)
	if err != nil {
		_ = c.Close()
		return err
	}
	p.client, p.producer = c, prod
	return nil
}

func (p *publisher) close() {
	if p.producer != nil {
		_ = p.producer.Close()
	}
	if p.client != nil {
		_ = p.client.Close()
	}
	p.client, p.producer = nil, nil
}

// ensureResultsTopic creates the results topic when it is missing.
func ensureResultsTopic(ctx context.Context, c sarama.Client, topic string, dc func(string) string) error {
	topics, err := c.Topics()
	if err != nil {
		return err
	}
	if slices.Contains(topics, topic) {
		return nil
	}
	admin, err := sarama.NewClusterAdminFromClient(c)
	if err != nil {
		return err
	}
	// Not admin.Close: it would close the shared client.
	brokers := c.Brokers()
	if len(brokers) == 0 {
		return errors.New("no broker in the metadata")
	}
	ids := make([]int32, 0, len(brokers))
	rackOf := map[int32]string{}
	for _, b := range brokers {
		ids = append(ids, b.ID())
		rackOf[b.ID()] = b.Rack()
	}
	slices.Sort(ids)
	spread := func(id int32) string {
		if r := rackOf[id]; r != "" && dc != nil {
			return dc(r)
		}
		return rackOf[id]
	}
	one, compact, retain := "1", "compact", "604800000"
	detail := &sarama.TopicDetail{
		NumPartitions: -1, ReplicationFactor: -1,
		ReplicaAssignment: map[int32][]int32{0: replicasFor(ids, 0, ids[0], spread, min(3, len(ids)))},
		ConfigEntries: map[string]*string{
			"cleanup.policy":      &compact,
			"min.insync.replicas": &one,
			"retention.ms":        &retain,
		},
	}
	err = admin.CreateTopic(topic, detail, false)
	if err != nil && !errors.Is(err, sarama.ErrTopicAlreadyExists) {
		var te *sarama.TopicError
		if !errors.As(err, &te) || !errors.Is(te.Err, sarama.ErrTopicAlreadyExists) {
			return fmt.Errorf("create results topic %s: %w", topic, err)
		}
	}
	// Wait for its leader so that the first publish does not fail.
	deadline := time.Now().Add(setupWait)
	for {
		if err := c.RefreshMetadata(topic); err == nil {
			if l, err := c.Leader(topic, 0); err == nil && l != nil {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("results topic %s has no leader after %v", topic, setupWait)
		}
		if !sleepUntil(ctx, time.Now().Add(200*time.Millisecond)) {
			return ctx.Err()
		}
	}
}
