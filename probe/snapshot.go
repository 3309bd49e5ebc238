package probe

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/IBM/sarama"

	"github.com/stretchctl/stretchctl/config"
	"github.com/stretchctl/stretchctl/topology"
)

// Bounds of the parallel reads. Broker configs are read from each broker
// itself; topic configs are read from the broker that answered first,
// topicsPerRequest at a time over up to topicConns connections (a sarama
// connection carries one request at a time).
const (
	brokerParallel   = 8
	topicsPerRequest = 100
	topicConns       = 4
)

// Snapshot reads everything the advisor needs from a cluster, best effort,
// with every request bounded by cluster.Timeout.
//
// It asks all bootstrap servers at once for the metadata of every topic
// and continues with the first that answers; when none does it returns a
// *ConnectError. Then it reads the cluster id and fenced brokers
// (DescribeCluster), the configs of every broker (each from that broker)
// and of every topic, the KRaft quorum (DescribeQuorum, which brokers
// forward to the active controller), the finalized feature levels
// (ApiVersions) and eligible leader replicas (DescribeTopicPartitions,
// Kafka 3.8+). Whatever fails is recorded in Snapshot.Errors under a
// subject such as "broker:3", "topic:orders", "quorum", "features" or
// "elr", and reading goes on. Any error returned means the cluster could
// not be assessed; the context's error is returned when ctx ends first.
//
// Topics, partitions and brokers are the first answering broker's view.
// Brokers apply metadata changes at their own pace, so right after a
// burst of changes (hundreds of new partitions) that view may lag the
// controller's by seconds.
func Snapshot(ctx context.Context, cluster config.Cluster, opts Options) (*topology.Snapshot, error) {
	s, err := resolve(cluster, opts)
	if err != nil {
		return nil, err
	}
	if len(s.bootstrap) == 0 {
		return nil, &ConnectError{Timeout: s.timeout}
	}
	ctx, cancel := context.WithCancel(ctx)
	r, err := newReader(ctx, s, opts.log())
	if err != nil {
		cancel()
		return nil, err
	}
	defer func() {
		cancel() // closes every connection the dialer made, so nothing waits
		r.close()
	}()
	snap, err := r.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("read cluster: %w", err)
	}
	return snap, nil
}

// reader holds the connections and per-item errors of one Snapshot.
type reader struct {
	s   *settings
	cfg *sarama.Config
	d   *dialer
	log *slog.Logger

	mu    sync.Mutex
	conns map[string]*sarama.Broker // one per broker address, reused
	extra []*sarama.Broker          // more connections to the first broker
	errs  []topology.ItemError
}

func newReader(ctx context.Context, s *settings, log *slog.Logger) (*reader, error) {
	d := &dialer{ctx: ctx, dial: s.dial, timeout: s.timeout, tls: s.tls, dropOnTimeout: true}
	cfg := s.sarama()
	// The dialer does the TLS handshake, so that its failure is told
	// apart from a later EOF.
	cfg.Net.TLS.Enable = false
	cfg.Net.TLS.Config = nil
	cfg.Net.Proxy.Enable = true
	cfg.Net.Proxy.Dialer = d
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("sarama config: %w", err)
	}
	return &reader{s: s, cfg: cfg, d: d, log: log, conns: map[string]*sarama.Broker{}}, nil
}

// conn returns the connection to addr, opening it on first use. A failed
// connection is not retried within one snapshot: its error is returned
// by every request on it.
func (r *reader) conn(addr string) *sarama.Broker {
	r.mu.Lock()
	defer r.mu.Unlock()
	if b, ok := r.conns[addr]; ok {
		return b
	}
	b := r.newConn(addr)
	r.conns[addr] = b
	return b
}

// newConn opens a connection; its outcome comes with the first request.
func (r *reader) newConn(addr string) *sarama.Broker {
	b := sarama.NewBroker(addr)
	_ = b.Open(r.cfg) // only fails on an invalid config, checked in newReader
	return b
}

func (r *reader) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, b := range r.conns {
		_ = b.Close()
	}
	for _, b := range r.extra {
		_ = b.Close()
	}
}

// fail records what could not be read.
func (r *reader) fail(subject, format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, topology.ItemError{Subject: subject, Error: fmt.Sprintf(format, args...)})
}

// why phrases err for Snapshot.Errors.
func (r *reader) why(err error) string { return reason(r.classify(err), r.s.timeout) }

// classify turns SASL failures into *AuthError.
func (r *reader) classify(err error) error {
	if !isAuth(err) {
		return err
	}
	ae := &AuthError{Err: err}
	if a := r.s.sasl; a != nil {
		ae.Mechanism, ae.User = string(a.mechanism), a.user
	}
	return ae
}

func (r *reader) snapshot(ctx context.Context) (*topology.Snapshot, error) {
	start := time.Now()
	snap := &topology.Snapshot{
		SchemaVersion: topology.SchemaVersion,
		TakenAt:       start.UTC(),
		Source:        strings.Join(r.s.bootstrap, ","),
		KafkaVersion:  r.s.version.String(),
		ControllerID:  -1,
		Brokers:       []topology.Broker{},
		Topics:        []topology.Topic{},
	}
	boot, md, err := r.bootstrap(ctx, nil)
	if err != nil {
		return nil, err
	}
	r.log.Debug("metadata read", "broker", boot.Addr(), "brokers", len(md.Brokers), "topics", len(md.Topics), "elapsed", time.Since(start))
	md = r.everyBroker(ctx, boot, md)
	readMetadata(snap, md)
	r.topicErrors(md)
	r.describeCluster(ctx, boot, snap)
	if ctx.Err() != nil {
		return nil, fmt.Errorf("read cluster: %w", ctx.Err())
	}

	var (
		wg      sync.WaitGroup
		brokers map[int32]topology.Configs
		topics  map[string]topology.Configs
		kr      kraftResult
		ctrl    map[string]topology.Configs
	)
	names := make([]string, len(snap.Topics))
	for i, t := range snap.Topics {
		names[i] = t.Name
	}
	phase := time.Now()
	wg.Go(func() {
		brokers = r.brokerConfigs(ctx, snap.Brokers)
		r.log.Debug("broker configs read", "brokers", len(brokers), "elapsed", time.Since(phase))
	})
	wg.Go(func() {
		topics = r.topicConfigs(ctx, boot, names)
		r.log.Debug("topic configs read", "topics", len(topics), "elapsed", time.Since(phase))
	})
	if len(r.s.controllers) > 0 {
		wg.Go(func() {
			var err error
			if ctrl, err = r.controllerConfigs(ctx, r.s.controllers); err != nil && ctx.Err() == nil {
				r.fail("controllers", "cluster.controllers: %v", err)
			}
		})
	}
	wg.Go(func() { r.hiddenTopics(ctx, snap) })
	wg.Go(func() {
		kr = r.kraft(ctx, boot.Addr())
		r.log.Debug("quorum, features and eligible leaders read", "elapsed", time.Since(phase))
	})
	wg.Wait()

	for i, b := range snap.Brokers {
		snap.Brokers[i].Configs = brokers[b.ID]
	}
	for i, t := range snap.Topics {
		snap.Topics[i].Configs = topics[t.Name]
		for j, p := range t.Partitions {
			snap.Topics[i].Partitions[j].ELR = kr.elr[t.Name][p.ID]
		}
	}
	snap.Quorum = kr.quorum
	snap.Features = kr.features
	snap.ControllerConfigs = ctrl
	snap.Mode = mode(snap)
	if kr.quorumErr != nil && snap.Mode != "zookeeper" && ctx.Err() == nil {
		// A ZooKeeper cluster has no quorum to describe: not an error.
		r.fail("quorum", "describe quorum (which %s forwards to the active controller): %s", boot.Addr(), r.why(needACL(kr.quorumErr, "Describe on the cluster")))
	}
	r.checkReplicaBrokers(snap)

	snap.SortTopics()
	snap.Errors = r.sortedErrors()
	r.log.Debug("snapshot taken", "brokers", len(snap.Brokers), "topics", len(snap.Topics), "errors", len(snap.Errors), "elapsed", time.Since(start))
	return snap, nil
}

// bootstrap asks every bootstrap server at once for the metadata of
// topics (nil: all topics) and returns the first answer.
func (r *reader) bootstrap(ctx context.Context, topics []string) (*sarama.Broker, *sarama.MetadataResponse, error) {
	addrs := r.s.bootstrap
	type answer struct {
		i   int
		b   *sarama.Broker
		md  *sarama.MetadataResponse
		err error
	}
	answers := make(chan answer, len(addrs))
	for i, addr := range addrs {
		go func() {
			b := r.conn(addr)
			md, err := b.GetMetadata(sarama.NewMetadataRequest(r.s.version, topics))
			answers <- answer{i, b, md, err}
		}()
	}
	errs := make([]error, len(addrs))
	for range addrs {
		select {
		case a := <-answers:
			if a.err == nil {
				return a.b, a.md, nil
			}
			errs[a.i] = r.classify(a.err)
			r.log.Debug("bootstrap server did not answer", "broker", addrs[a.i], "err", reason(errs[a.i], r.s.timeout))
		case <-ctx.Done():
			return nil, nil, fmt.Errorf("read cluster: %w", ctx.Err())
		}
	}
	return nil, nil, &ConnectError{Addrs: slices.Clone(addrs), Errs: errs, Timeout: r.s.timeout}
}

// everyBroker asks every broker that first answer lists for its metadata
// and merges the answers: brokers apply metadata changes at their own
// pace, so right after a change (a topic just created, a leader just
// moved) the first broker to answer may not know it yet. Every topic some
// broker serves is kept, each partition as the broker with the highest
// leader epoch sees it (Metadata v7+, KIP-320), and a broker whose view
// lags is named in Errors (subject "metadata").
func (r *reader) everyBroker(ctx context.Context, boot *sarama.Broker, first *sarama.MetadataResponse) *sarama.MetadataResponse {
	type answer struct {
		id int32
		md *sarama.MetadataResponse
	}
	var others []*sarama.Broker
	for _, b := range first.Brokers {
		if b.Addr() != boot.Addr() {
			others = append(others, b)
		}
	}
	if len(others) == 0 {
		return first
	}
	answers := make(chan answer, len(others))
	for _, b := range others {
		go func() {
			md, err := r.conn(b.Addr()).GetMetadata(sarama.NewMetadataRequest(r.s.version, nil))
			if err != nil {
				r.log.Debug("metadata of one broker not read", "broker", b.ID(), "err", err)
				md = nil
			}
			answers <- answer{b.ID(), md}
		}()
	}
	views := map[int32]*sarama.MetadataResponse{}
	if bootID := brokerID(first, boot.Addr()); bootID >= 0 {
		views[bootID] = first
	}
	for range others {
		select {
		case a := <-answers:
			if a.md != nil {
				views[a.id] = a.md
			}
		case <-ctx.Done():
			return first
		}
	}
	merged, lag := mergeMetadata(first, views)
	for _, l := range lag {
		r.fail("metadata", "%s", l)
	}
	return merged
}

// brokerID finds the id of the broker at addr in a metadata answer.
func brokerID(md *sarama.MetadataResponse, addr string) int32 {
	for _, b := range md.Brokers {
		if b.Addr() == addr {
			return b.ID()
		}
	}
	return -1
}

// mergeMetadata keeps every topic of any view and, per partition, the
// view with the highest leader epoch; it says which brokers lag.
func mergeMetadata(first *sarama.MetadataResponse, views map[int32]*sarama.MetadataResponse) (*sarama.MetadataResponse, []string) {
	type key struct {
		topic string
		part  int32
	}
	best := map[key]*sarama.PartitionMetadata{}
	topics := map[string]*sarama.TopicMetadata{}
	var order []string
	ids := make([]int32, 0, len(views))
	for id := range views {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		for _, t := range views[id].Topics {
			if _, ok := topics[t.Name]; !ok {
				tc := *t
				tc.Partitions = nil
				topics[t.Name] = &tc
				order = append(order, t.Name)
			}
			for _, p := range t.Partitions {
				k := key{t.Name, p.ID}
				if cur, ok := best[k]; !ok || p.LeaderEpoch > cur.LeaderEpoch {
					best[k] = p
				}
			}
		}
	}
	var lag []string
	for _, id := range ids {
		seen := map[key]int32{}
		for _, t := range views[id].Topics {
			for _, p := range t.Partitions {
				seen[key{t.Name, p.ID}] = p.LeaderEpoch
			}
		}
		missingTopics, older := map[string]bool{}, 0
		for k, p := range best {
			e, ok := seen[k]
			switch {
			case !ok:
				missingTopics[k.topic] = true
			case e < p.LeaderEpoch:
				older++
			}
		}
		if len(missingTopics) > 0 || older > 0 {
			names := make([]string, 0, len(missingTopics))
			for n := range missingTopics {
				names = append(names, n)
			}
			slices.Sort(names)
			if len(names) > 5 {
				names = append(names[:5], "…")
			}
			msg := fmt.Sprintf("broker %d's metadata lags the others'", id)
			if len(names) > 0 {
				msg += "; it does not know topics " + strings.Join(names, ", ")
			}
			if older > 0 {
				msg += fmt.Sprintf("; it has an older leader for %d partitions", older)
			}
			lag = append(lag, msg)
		}
	}
	for k, p := range best {
		topics[k.topic].Partitions = append(topics[k.topic].Partitions, p)
	}
	out := *first
	out.Topics = nil
	for _, n := range order {
		t := topics[n]
		slices.SortFunc(t.Partitions, func(a, b *sarama.PartitionMetadata) int { return int(a.ID - b.ID) })
		out.Topics = append(out.Topics, t)
	}
	return &out, lag
}

// readMetadata fills brokers, topics and partitions from a Metadata answer.
func readMetadata(snap *topology.Snapshot, md *sarama.MetadataResponse) {
	snap.ControllerID = md.ControllerID
	if md.ClusterID != nil {
		snap.ClusterID = *md.ClusterID
	}
	for _, b := range md.Brokers {
		host, port := splitAddr(b.Addr())
		// Metadata lists the brokers that serve: registered, unfenced.
		snap.Brokers = append(snap.Brokers, topology.Broker{ID: b.ID(), Host: host, Port: port, Rack: b.Rack(), State: topology.BrokerUp})
	}
	for _, t := range md.Topics {
		if !errors.Is(t.Err, sarama.ErrNoError) && len(t.Partitions) == 0 {
			continue // recorded by topicErrors
		}
		topic := topology.Topic{Name: t.Name, Internal: t.IsInternal, Partitions: []topology.Partition{}}
		for _, p := range t.Partitions {
			// A partition error (e.g. LEADER_NOT_AVAILABLE) is part of
			// the state read, shown by Leader -1; the replicas still come.
			topic.Partitions = append(topic.Partitions, topology.Partition{
				ID:       p.ID,
				Leader:   p.Leader,
				Replicas: append([]int32{}, p.Replicas...),
				ISR:      append([]int32{}, p.Isr...),
				Offline:  slices.Clone(p.OfflineReplicas),
			})
		}
		snap.Topics = append(snap.Topics, topic)
	}
}

// hiddenTopics names the topics that hold replicas on the brokers but
// that Metadata left out: a principal without Describe on a topic does
// not see it at all (KafkaApis.handleTopicMetadataRequest filters the
// unauthorized topics out of an all-topics request), so the placement
// check would pass over it in silence. The brokers' log directories
// (DescribeLogDirs, which needs only Describe on the cluster, and lists
// every partition a broker holds) show them.
func (r *reader) hiddenTopics(ctx context.Context, snap *topology.Snapshot) {
	seen := map[string]bool{}
	for _, t := range snap.Topics {
		seen[t.Name] = true
	}
	var mu sync.Mutex
	hidden := map[string]bool{}
	var wg sync.WaitGroup
	for _, b := range snap.Brokers {
		if b.State != "" && b.State != topology.BrokerUp {
			continue
		}
		wg.Go(func() {
			resp, err := r.conn(b.Addr()).DescribeLogDirs(&sarama.DescribeLogDirsRequest{Version: logDirsVersion(r.s.version)})
			if err == nil && resp.ErrorCode != sarama.ErrNoError {
				err = resp.ErrorCode
			}
			if err != nil {
				if ctx.Err() == nil {
					r.fail(brokerSubject(b.ID), "describe log dirs: %s", r.why(needACL(err, "Describe on the cluster")))
				}
				return
			}
			mu.Lock()
			defer mu.Unlock()
			for _, d := range resp.LogDirs {
				for _, t := range d.Topics {
					if !seen[t.Topic] {
						hidden[t.Topic] = true
					}
				}
			}
		})
	}
	wg.Wait()
	if len(hidden) == 0 {
		return
	}
	names := slices.Sorted(maps.Keys(hidden))
	shown := names
	if len(shown) > 10 {
		shown = shown[:10]
	}
	more := ""
	if len(names) > len(shown) {
		more = fmt.Sprintf(" and %d more", len(names)-len(shown))
	}
	r.fail("topics", "%d topics hold replicas on the brokers but are not visible to this principal (%s%s), so their placement is not checked: %v",
		len(names), strings.Join(shown, ", "), more, needACL(sarama.ErrTopicAuthorizationFailed, "Describe and DescribeConfigs on every topic (topic '*')"))
}

// logDirsVersion is the DescribeLogDirs version for the cluster's
// release: v1 from 2.0 (v0 and v1 are the same request).
func logDirsVersion(v sarama.KafkaVersion) int16 {
	if v.IsAtLeast(sarama.V2_0_0_0) {
		return 1
	}
	return 0
}

// topicErrors records topics whose metadata the broker refused.
func (r *reader) topicErrors(md *sarama.MetadataResponse) {
	for _, t := range md.Topics {
		if !errors.Is(t.Err, sarama.ErrNoError) {
			r.fail("topic:"+t.Name, "metadata: %v", needACL(t.Err, "Describe on topic "+t.Name))
		}
	}
}

func splitAddr(addr string) (string, int32) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return addr, 0
	}
	port, _ := strconv.ParseInt(p, 10, 32)
	return host, int32(port)
}

// describeCluster reads the cluster id and, on Kafka 4.0+ (KIP-1073),
// the brokers that are registered but fenced. Metadata lists only
// unfenced brokers; a fenced one (down, or cut off from the controller)
// still holds replicas, and the advisor needs its rack to know which DC
// those replicas are in, so it is added to Brokers and its state recorded
// in Errors.
func (r *reader) describeCluster(ctx context.Context, boot *sarama.Broker, snap *topology.Snapshot) {
	resp, err := boot.DescribeCluster(sarama.NewDescribeClusterRequest(r.s.version))
	if err == nil && !errors.Is(resp.Err, sarama.ErrNoError) {
		err = resp.Err
		if resp.ErrorMessage != nil && *resp.ErrorMessage != "" {
			err = fmt.Errorf("%w: %s", resp.Err, *resp.ErrorMessage)
		}
	}
	if err != nil {
		if ctx.Err() == nil && !errors.Is(err, sarama.ErrUnsupportedVersion) {
			r.fail("cluster", "describe cluster: %s", r.why(needACL(err, "Describe on the cluster")))
		}
		return
	}
	if snap.ClusterID == "" {
		snap.ClusterID = resp.ClusterID
	}
	for _, b := range resp.Brokers {
		if _, ok := snap.Broker(b.BrokerID); ok {
			continue
		}
		rack := ""
		if b.Rack != nil {
			rack = *b.Rack
		}
		state := topology.BrokerUp
		if b.IsFenced {
			state = topology.BrokerFenced
		}
		snap.Brokers = append(snap.Brokers, topology.Broker{ID: b.BrokerID, Host: b.Host, Port: b.Port, Rack: rack, State: state})
		if b.IsFenced {
			r.fail(brokerSubject(b.BrokerID), "fenced: registered with the controller but not serving clients (down, or cut off from the controller)")
		}
	}
}

func brokerSubject(id int32) string { return "broker:" + strconv.Itoa(int(id)) }

// checkReplicaBrokers records replicas on brokers nobody described
// (older clusters do not report fenced brokers).
func (r *reader) checkReplicaBrokers(snap *topology.Snapshot) {
	missing := map[int32]int{}
	for _, t := range snap.Topics {
		for _, p := range t.Partitions {
			for _, id := range p.Replicas {
				if _, ok := snap.Broker(id); !ok {
					missing[id]++
				}
			}
		}
	}
	for id, n := range missing {
		r.fail(brokerSubject(id), "not in metadata (down or fenced) but holds %d replicas", n)
		// Its replicas do not serve; where it ran is unknown (no rack).
		snap.Brokers = append(snap.Brokers, topology.Broker{ID: id, State: topology.BrokerAbsent})
	}
}

// describeConfigsVersion is the DescribeConfigs version sarama's
// ClusterAdmin would use.
func (r *reader) describeConfigsVersion() int16 {
	return pickVersion(r.s.version, 0, versionStep{sarama.V2_8_0_0, 4}, versionStep{sarama.V2_6_0_0, 3},
		versionStep{sarama.V2_0_0_0, 2}, versionStep{sarama.V1_1_0_0, 1})
}

func (r *reader) describeConfigs(b *sarama.Broker, typ sarama.ConfigResourceType, names []string) ([]*sarama.ResourceResponse, error) {
	req := &sarama.DescribeConfigsRequest{Version: r.describeConfigsVersion()}
	for _, n := range names {
		req.Resources = append(req.Resources, &sarama.ConfigResource{Type: typ, Name: n})
	}
	resp, err := b.DescribeConfigs(req)
	if err != nil {
		return nil, err
	}
	return resp.Resources, nil
}

// resourceError is the error a DescribeConfigs answer carries for one
// resource, or nil.
func resourceError(res *sarama.ResourceResponse) error {
	if res.ErrorCode == 0 {
		return nil
	}
	err := error(sarama.KError(res.ErrorCode))
	if res.ErrorMsg != "" {
		err = fmt.Errorf("%w: %s", err, res.ErrorMsg)
	}
	return err
}

// brokerConfigs reads every broker's configs from that broker (static
// configs are known only to the broker itself), a few brokers at a time.
func (r *reader) brokerConfigs(ctx context.Context, brokers []topology.Broker) map[int32]topology.Configs {
	out := map[int32]topology.Configs{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, brokerParallel)
	for _, b := range brokers {
		wg.Go(func() {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			defer func() { <-sem }()
			subject := brokerSubject(b.ID)
			res, err := r.describeConfigs(r.conn(b.Addr()), sarama.BrokerResource, []string{strconv.Itoa(int(b.ID))})
			if err == nil && len(res) != 1 {
				err = fmt.Errorf("answer holds %d resources, want 1", len(res))
			}
			if err == nil {
				err = resourceError(res[0])
			}
			if err != nil {
				if ctx.Err() == nil {
					r.fail(subject, "describe configs at %s: %s", b.Addr(), r.why(needACL(err, "DescribeConfigs on the cluster")))
				}
				return
			}
			mu.Lock()
			out[b.ID] = configs(res[0].Configs)
			mu.Unlock()
		})
	}
	wg.Wait()
	return out
}

// topicConfigs reads the configs of every topic from the first broker,
// topicsPerRequest topics per request over up to topicConns connections.
func (r *reader) topicConfigs(ctx context.Context, boot *sarama.Broker, names []string) map[string]topology.Configs {
	out := map[string]topology.Configs{}
	var chunks [][]string
	for c := range slices.Chunk(names, topicsPerRequest) {
		chunks = append(chunks, c)
	}
	jobs := make(chan []string)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range min(len(chunks), topicConns) {
		b := boot
		if i > 0 {
			b = r.newConn(boot.Addr())
			r.mu.Lock()
			r.extra = append(r.extra, b)
			r.mu.Unlock()
		}
		wg.Go(func() {
			for chunk := range jobs {
				res, err := r.describeConfigs(b, sarama.TopicResource, chunk)
				if err != nil {
					if ctx.Err() == nil {
						for _, n := range chunk {
							r.fail("topic:"+n, "describe configs: %s", r.why(needACL(err, "DescribeConfigs on topic "+n)))
						}
					}
					continue
				}
				got := map[string]bool{}
				for _, rr := range res {
					got[rr.Name] = true
					if err := resourceError(rr); err != nil {
						r.fail("topic:"+rr.Name, "describe configs: %v", needACL(err, "DescribeConfigs on topic "+rr.Name))
						continue
					}
					c := configs(rr.Configs)
					mu.Lock()
					out[rr.Name] = c
					mu.Unlock()
				}
				for _, n := range chunk {
					if !got[n] {
						r.fail("topic:"+n, "describe configs: not in the broker's answer")
					}
				}
			}
		})
	}
	for _, c := range chunks {
		select {
		case jobs <- c:
		case <-ctx.Done():
		}
	}
	close(jobs)
	wg.Wait()
	return out
}

// configs converts DescribeConfigs entries, leaving sensitive values out.
func configs(entries []*sarama.ConfigEntry) topology.Configs {
	c := make(topology.Configs, len(entries))
	for _, e := range entries {
		v := topology.ConfigValue{Value: e.Value, Source: source(e), Sensitive: e.Sensitive}
		if e.Sensitive {
			v.Value = ""
		}
		c[e.Name] = v
	}
	return c
}

// source maps DescribeConfigs' config source (v1+; v0 only says whether
// a value is the default).
func source(e *sarama.ConfigEntry) topology.ConfigSource {
	if s := sourceOf(e.Source); s != topology.SourceUnknown || !e.Default {
		return s
	}
	return topology.SourceDefault
}

// sourceOf maps a config source code of DescribeConfigs (KIP-226: the
// same numbers in sarama and franz-go's kmsg).
func sourceOf(code sarama.ConfigSource) topology.ConfigSource {
	switch code {
	case sarama.SourceTopic:
		return topology.SourceTopic
	case sarama.SourceDynamicBroker:
		return topology.SourceDynamicBroker
	case sarama.SourceDynamicDefaultBroker:
		return topology.SourceDynamicDefault
	case sarama.SourceStaticBroker:
		return topology.SourceStaticBroker
	case sarama.SourceDefault:
		return topology.SourceDefault
	}
	return topology.SourceUnknown
}

// mode tells ZooKeeper from KRaft: a broker configured with
// zookeeper.connect runs on ZooKeeper (in a migration too); a broker with
// process.roles, or an answering quorum, means KRaft.
func mode(snap *topology.Snapshot) string {
	kraft := snap.Quorum != nil
	for _, b := range snap.Brokers {
		if v, _ := b.Configs.Get("zookeeper.connect"); v != "" {
			return "zookeeper"
		}
		if v, _ := b.Configs.Get("process.roles"); v != "" {
			kraft = true
		}
	}
	if kraft {
		return "kraft"
	}
	return ""
}

func (r *reader) sortedErrors() []topology.ItemError {
	r.mu.Lock()
	defer r.mu.Unlock()
	errs := slices.Clone(r.errs)
	sort.SliceStable(errs, func(i, j int) bool {
		if errs[i].Subject != errs[j].Subject {
			return errs[i].Subject < errs[j].Subject
		}
		return errs[i].Error < errs[j].Error
	})
	return errs
}
