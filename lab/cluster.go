package lab

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/stretchctl/stretchctl/probe"
)

// ClusterView is what the lab's Kafka cluster says about itself, read from
// the operator's site (or a DC, for tests).
type ClusterView struct {
	// Brokers lists the ids of registered, unfenced brokers.
	Brokers []int32 `json:"brokers"`
	// Racks maps broker id to broker.rack.
	Racks map[int32]string `json:"racks,omitempty"`
	// QuorumLeader is the active controller, -1 when there is none.
	QuorumLeader int32 `json:"quorumLeader"`
	// Voters lists the quorum's voter ids.
	Voters []int32 `json:"voters,omitempty"`
	// Unreachable lists broker addresses that did not answer.
	Unreachable []string `json:"unreachable,omitempty"`
	// Error is set when the cluster could not be read.
	Error string `json:"error,omitempty"`
}

// nsDialer adapts a namespace dial function to sarama's proxy.Dialer.
type nsDialer struct {
	dial    func(ctx context.Context, network, addr string) (net.Conn, error)
	timeout time.Duration
}

func (d nsDialer) Dial(network, addr string) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), d.timeout)
	defer cancel()
	return d.dial(ctx, network, addr)
}

// SaramaConfig returns a sarama configuration for the lab's cluster whose
// connections start in the given DC's namespace (OpsSite or "" for the
// operator's site).
//
// It is package probe's configuration (the protocol version of the lab's
// Kafka; on a secured lab TLS and SCRAM as the nodes' own, super, user)
// with the lab's shorter waits.
func (st *State) SaramaConfig(dc string) (*sarama.Config, error) {
	cfg, err := probe.SaramaConfig(st.clusterAs(asNodes, st.Dir), probe.Options{})
	if err != nil {
		return nil, err
	}
	cfg.ClientID = "stretchctl-lab"
	cfg.Net.DialTimeout = 3 * time.Second
	cfg.Net.ReadTimeout = 5 * time.Second
	cfg.Net.WriteTimeout = 5 * time.Second
	cfg.Metadata.Retry.Max = 1
	cfg.Metadata.Retry.Backoff = 100 * time.Millisecond
	path, err := st.namespacePath(dc)
	if err != nil {
		return nil, err
	}
	if path != "" {
		cfg.Net.Proxy.Enable = true
		cfg.Net.Proxy.Dialer = nsDialer{dial: dialerIn(path), timeout: cfg.Net.DialTimeout}
	}
	return cfg, nil
}

// BootstrapServers lists every broker's address.
func (st *State) BootstrapServers() []string {
	var out []string
	for _, n := range st.Layout.Brokers() {
		out = append(out, n.BrokerAddr())
	}
	return out
}

// namespacePath returns the namespace file of a site; "" for the operator's
// site or when the lab runs without namespaces.
func (st *State) namespacePath(site string) (string, error) {
	if site == "" || site == OpsSite {
		return "", nil
	}
	if err := st.checkDC(site); err != nil {
		return "", err
	}
	if st.Network != NetworkNamespaces {
		return "", nil
	}
	return nsPath(nsName(st.Slot, site)), nil
}

// checkDC returns a clear error for a DC the lab does not have.
func (st *State) checkDC(dc string) error {
	if !slices.Contains(st.Layout.DCs, dc) {
		return fmt.Errorf("unknown DC %q (known: %s)", dc, strings.Join(st.Layout.DCs, ", "))
	}
	return nil
}

// readCluster reads brokers and the quorum from site within timeout.
//
// Every broker is asked for its own metadata, in parallel, and a broker
// counts as registered only when every broker that answers lists it: a
// broker cut off from the controller keeps serving its stale view, which
// would otherwise report fenced brokers as alive.
func (st *State) readCluster(ctx context.Context, site string, timeout time.Duration) ClusterView {
	// Half the time for the brokers' metadata, half for the quorum: a
	// frozen broker accepts connections and never answers, and must not
	// use up the quorum's share.
	mdCtx, cancel := context.WithTimeout(ctx, timeout/2)
	defer cancel()
	view := ClusterView{QuorumLeader: -1, Racks: map[int32]string{}}
	cfg, err := st.SaramaConfig(site)
	if err != nil {
		view.Error = err.Error()
		return view
	}
	// The lab's links add at most a few hundred milliseconds; a broker that
	// does not accept a connection within a second is cut off or frozen.
	cfg.Net.DialTimeout = time.Second
	cfg.Net.ReadTimeout = 2 * time.Second
	type answer struct {
		addr string
		md   *sarama.MetadataResponse
		err  error
	}
	addrs := st.BootstrapServers()
	answers := make(chan answer, len(addrs))
	for _, addr := range addrs {
		go func() {
			b := sarama.NewBroker(addr)
			if err := b.Open(cfg); err != nil {
				answers <- answer{addr: addr, err: err}
				return
			}
			defer b.Close()
			md, err := b.GetMetadata(sarama.NewMetadataRequest(cfg.Version, []string{}))
			answers <- answer{addr: addr, md: md, err: err}
		}()
	}
	count := map[int32]int{}
	answered := 0
	pending := slices.Clone(addrs)
	for range addrs {
		var a answer
		select {
		case a = <-answers:
		case <-mdCtx.Done():
			view.Unreachable = append(view.Unreachable, pending...)
			pending = nil
		}
		if pending == nil {
			break
		}
		pending = slices.DeleteFunc(pending, func(p string) bool { return p == a.addr })
		if a.err != nil {
			view.Unreachable = append(view.Unreachable, a.addr)
			continue
		}
		answered++
		for _, b := range a.md.Brokers {
			count[b.ID()]++
			view.Racks[b.ID()] = b.Rack()
		}
	}
	for id, n := range count {
		if n == answered {
			view.Brokers = append(view.Brokers, id)
		}
	}
	slices.Sort(view.Brokers)
	slices.Sort(view.Unreachable)
	if answered == 0 {
		view.Error = "metadata: no broker answers"
		return view
	}
	qCtx, cancel := context.WithTimeout(ctx, timeout/2)
	defer cancel()
	leader, voters, err := st.describeQuorum(qCtx, site)
	if err != nil {
		view.Error = "describe quorum: " + err.Error()
		return view
	}
	view.QuorumLeader, view.Voters = leader, voters
	return view
}

// describeQuorum asks every voter, on its controller listener, for the
// KRaft quorum state and believes the answer with the newest leader epoch.
// Asking the controllers directly (as kafka-metadata-quorum.sh does with
// --bootstrap-controller) avoids brokers, whose forwarding channel can hang
// on a controller that was just cut off. Sarama has no DescribeQuorum
// request, so this one request goes through franz-go.
func (st *State) describeQuorum(ctx context.Context, site string) (int32, []int32, error) {
	path, err := st.namespacePath(site)
	if err != nil {
		return -1, nil, err
	}
	type answer struct {
		part *kmsg.DescribeQuorumResponseTopicPartition
		err  error
	}
	voters := st.Layout.Voters()
	answers := make(chan answer, len(voters))
	for _, v := range voters {
		go func() {
			part, err := st.describeQuorumAt(ctx, v.ControllerAddr(), dialerIn(path))
			answers <- answer{part, err}
		}()
	}
	var best *kmsg.DescribeQuorumResponseTopicPartition
	var errs []error
	for range voters {
		a := <-answers
		switch {
		case a.err != nil:
			errs = append(errs, a.err)
		case a.part.LeaderID >= 0 && (best == nil || a.part.LeaderEpoch > best.LeaderEpoch):
			best = a.part
		}
	}
	if best == nil {
		if len(errs) > 0 {
			return -1, nil, errs[0]
		}
		return -1, nil, nil // the voters answered: no leader
	}
	var ids []int32
	for _, v := range best.CurrentVoters {
		ids = append(ids, v.ReplicaID)
	}
	slices.Sort(ids)
	return best.LeaderID, ids, nil
}

func (st *State) describeQuorumAt(ctx context.Context, addr string, dial func(context.Context, string, string) (net.Conn, error)) (*kmsg.DescribeQuorumResponseTopicPartition, error) {
	cluster := st.clusterAs(asNodesToControllers, st.Dir)
	cluster.Bootstrap = []string{addr}
	cluster.Timeout.Duration = time.Second
	opts, err := probe.FranzConnection(cluster, probe.Options{Dial: dial})
	if err != nil {
		return nil, err
	}
	cl, err := kgo.NewClient(append(opts, kgo.DialTimeout(time.Second), kgo.RequestRetries(1))...)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	req := kmsg.NewPtrDescribeQuorumRequest()
	t := kmsg.NewDescribeQuorumRequestTopic()
	t.Topic = "__cluster_metadata"
	t.Partitions = append(t.Partitions, kmsg.NewDescribeQuorumRequestTopicPartition())
	req.Topics = append(req.Topics, t)
	raw, err := cl.SeedBrokers()[0].RetriableRequest(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", addr, err)
	}
	resp := raw.(*kmsg.DescribeQuorumResponse)
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
		return nil, fmt.Errorf("%s: %w", addr, err)
	}
	if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
		return nil, fmt.Errorf("%s: unexpected DescribeQuorum response shape", addr)
	}
	part := &resp.Topics[0].Partitions[0]
	if err := kerr.ErrorForCode(part.ErrorCode); err != nil {
		return nil, fmt.Errorf("%s: %w", addr, err)
	}
	return part, nil
}

// ready reports whether every broker is registered and the quorum has a
// leader, with a short reason when not.
func (st *State) ready(v ClusterView) (bool, string) {
	want := len(st.Layout.Brokers())
	switch {
	case v.Error != "":
		return false, v.Error
	case len(v.Brokers) < want:
		return false, fmt.Sprintf("%d of %d brokers registered", len(v.Brokers), want)
	case len(v.Unreachable) > 0:
		return false, fmt.Sprintf("%d of %d brokers answer", want-len(v.Unreachable), want)
	case v.QuorumLeader < 0:
		return false, "quorum has no leader"
	}
	return true, ""
}
