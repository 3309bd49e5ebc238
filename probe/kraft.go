package probe

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"sync"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/stretchctl/stretchctl/topology"
)

// API keys whose support ApiVersions is checked for.
const (
	keyDescribeQuorum          = 55
	keyDescribeTopicPartitions = 75
)

const (
	// metadataTopic is the KRaft metadata log DescribeQuorum asks about.
	metadataTopic = "__cluster_metadata"
	// describeTopicPartitionsPage is how many partitions one
	// DescribeTopicPartitions answer may hold (the broker's default).
	describeTopicPartitionsPage = 2000
)

// errNoQuorumAPI says the broker does not offer DescribeQuorum.
var errNoQuorumAPI = errors.New("the broker does not offer DescribeQuorum (a ZooKeeper cluster, or Kafka before 3.3)")

// kraftResult is what kraft reads.
type kraftResult struct {
	quorum *topology.Quorum
	// quorumErr is returned rather than recorded: on a ZooKeeper cluster
	// it is expected.
	quorumErr error
	features  map[string]int16
	// elr maps topic and partition to its eligible leader replicas.
	elr map[string]map[int32][]int32
}

// kraft reads, through franz-go (sarama has none of these requests), from
// the broker at addr: the finalized features (ApiVersions v3+), the KRaft
// quorum (DescribeQuorum, forwarded by the broker to the active
// controller) and the eligible leader replicas of every partition
// (DescribeTopicPartitions, KIP-966). Feature and ELR failures are
// recorded here.
//
// DescribeQuorum goes over a connection of its own: a broker handles one
// request per connection at a time, and a forwarded DescribeQuorum waits
// for an unresponsive controller for the whole timeout.
func (r *reader) kraft(ctx context.Context, addr string) kraftResult {
	var res kraftResult
	cl, err := kgo.NewClient(r.s.kgoOpts(addr, r.d)...)
	if err != nil {
		r.fail("features", "franz-go client: %v", err)
		res.quorumErr = err
		return res
	}
	defer cl.Close()
	br := cl.SeedBrokers()[0]
	qcl, err := kgo.NewClient(r.s.kgoOpts(addr, r.d)...)
	if err != nil {
		res.quorumErr = err
		return res
	}
	defer qcl.Close()

	features, apis, err := r.apiVersions(ctx, br)
	if err != nil {
		if ctx.Err() == nil {
			r.fail("features", "api versions: %s", r.why(err))
		}
		apis = nil
	}
	res.features = features
	var wg sync.WaitGroup
	wg.Go(func() {
		if apis != nil && !apis[keyDescribeQuorum] {
			res.quorumErr = errNoQuorumAPI
			return
		}
		res.quorum, res.quorumErr = r.describeQuorum(ctx, qcl.SeedBrokers()[0])
	})
	if apis[keyDescribeTopicPartitions] {
		wg.Go(func() {
			var err error
			if res.elr, err = r.eligibleLeaders(ctx, br); err != nil && ctx.Err() == nil {
				r.fail("elr", "describe topic partitions: %s", r.why(needACL(err, "Describe on the topics")))
			}
		})
	}
	wg.Wait()
	return res
}

// request sends req to br within the cluster timeout.
func (r *reader) request(ctx context.Context, br *kgo.Broker, req kmsg.Request) (kmsg.Response, error) {
	ctx, cancel := context.WithTimeout(ctx, r.s.timeout)
	defer cancel()
	return br.RetriableRequest(ctx, req)
}

// apiVersions returns the finalized feature levels and the API keys the
// broker supports. A feature the broker supports but that is not
// finalized is at level 0 (Kafka leaves level-0 features out of the
// finalized list), so it is reported as 0. Without a finalized-features
// epoch (e.g. ZooKeeper clusters) nothing is known: nil.
func (r *reader) apiVersions(ctx context.Context, br *kgo.Broker) (map[string]int16, map[int16]bool, error) {
	req := kmsg.NewPtrApiVersionsRequest()
	req.ClientSoftwareName = clientID
	req.ClientSoftwareVersion = "0"
	raw, err := r.request(ctx, br, req)
	if err != nil {
		return nil, nil, err
	}
	resp := raw.(*kmsg.ApiVersionsResponse)
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
		return nil, nil, err
	}
	apis := map[int16]bool{}
	for _, k := range resp.ApiKeys {
		apis[k.ApiKey] = true
	}
	if resp.Version < 3 {
		return nil, apis, fmt.Errorf("the broker answered ApiVersions v%d, which carries no features", resp.Version)
	}
	if resp.FinalizedFeaturesEpoch < 0 && len(resp.FinalizedFeatures) == 0 {
		return nil, apis, nil
	}
	features := map[string]int16{}
	for _, f := range resp.SupportedFeatures {
		features[f.Name] = 0
	}
	for _, f := range resp.FinalizedFeatures {
		features[f.Name] = f.MaxVersionLevel
	}
	return features, apis, nil
}

// describeQuorum reads the metadata quorum.
func (r *reader) describeQuorum(ctx context.Context, br *kgo.Broker) (*topology.Quorum, error) {
	resp, err := r.quorumRequest(ctx, br)
	if err != nil {
		return nil, err
	}
	if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
		return nil, errors.New("unexpected answer: want one partition of " + metadataTopic)
	}
	p := resp.Topics[0].Partitions[0]
	if err := codeError(p.ErrorCode, p.ErrorMessage); err != nil {
		return nil, err
	}
	q := &topology.Quorum{
		LeaderID:      p.LeaderID,
		LeaderEpoch:   p.LeaderEpoch,
		HighWatermark: p.HighWatermark,
		Voters:        replicas(p.CurrentVoters),
		Observers:     replicas(p.Observers),
	}
	return q, nil
}

// quorumRequest sends DescribeQuorum for the metadata partition.
func (r *reader) quorumRequest(ctx context.Context, br *kgo.Broker) (*kmsg.DescribeQuorumResponse, error) {
	req := kmsg.NewPtrDescribeQuorumRequest()
	t := kmsg.NewDescribeQuorumRequestTopic()
	t.Topic = metadataTopic
	t.Partitions = append(t.Partitions, kmsg.NewDescribeQuorumRequestTopicPartition())
	req.Topics = append(req.Topics, t)
	raw, err := r.request(ctx, br, req)
	if err != nil {
		return nil, err
	}
	resp := raw.(*kmsg.DescribeQuorumResponse)
	if err := codeError(resp.ErrorCode, resp.ErrorMessage); err != nil {
		return nil, err
	}
	return resp, nil
}

func replicas(states []kmsg.DescribeQuorumResponseTopicPartitionReplicaState) []topology.QuorumReplica {
	out := make([]topology.QuorumReplica, 0, len(states))
	for _, s := range states {
		out = append(out, topology.QuorumReplica{
			ID:             s.ReplicaID,
			LogEndOffset:   s.LogEndOffset,
			LastFetchMs:    s.LastFetchTimestamp,
			LastCaughtUpMs: s.LastCaughtUpTimestamp,
		})
	}
	slices.SortFunc(out, func(a, b topology.QuorumReplica) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// eligibleLeaders reads the eligible leader replicas (KIP-966) of every
// partition that has any, page by page.
func (r *reader) eligibleLeaders(ctx context.Context, br *kgo.Broker) (map[string]map[int32][]int32, error) {
	out := map[string]map[int32][]int32{}
	req := kmsg.NewPtrDescribeTopicPartitionsRequest()
	req.ResponsePartitionLimit = describeTopicPartitionsPage
	for {
		raw, err := r.request(ctx, br, req)
		if err != nil {
			return out, err
		}
		resp := raw.(*kmsg.DescribeTopicPartitionsResponse)
		for _, t := range resp.Topics {
			if t.Topic == nil || t.ErrorCode != 0 {
				continue // metadata already reports topic errors
			}
			for _, p := range t.Partitions {
				if len(p.EligibleLeaderReplicas) == 0 {
					continue
				}
				if out[*t.Topic] == nil {
					out[*t.Topic] = map[int32][]int32{}
				}
				out[*t.Topic][p.Partition] = p.EligibleLeaderReplicas
			}
		}
		if resp.NextCursor == nil {
			return out, nil
		}
		next := resp.NextCursor
		if req.Cursor != nil && req.Cursor.Topic == next.Topic && req.Cursor.Partition == next.Partition {
			return out, fmt.Errorf("the broker's cursor does not advance (%s-%d)", next.Topic, next.Partition)
		}
		c := kmsg.NewDescribeTopicPartitionsRequestCursor()
		c.Topic, c.Partition = next.Topic, next.Partition
		req.Cursor = &c
	}
}

// codeError is a Kafka error code with the broker's message.
func codeError(code int16, msg *string) error {
	err := kerr.ErrorForCode(code)
	if err == nil {
		return nil
	}
	if msg != nil && *msg != "" {
		return fmt.Errorf("%w: %s", err, *msg)
	}
	return err
}

// controllerConfigNames are the controllers' own configs that time a
// failover: fencing is the active controller's broker.session.timeout.ms,
// elections are the voters' controller.quorum.* (KIP-595).
var controllerConfigNames = []string{
	"broker.session.timeout.ms", "broker.heartbeat.interval.ms", "controller.quorum.fetch.timeout.ms",
	"controller.quorum.election.timeout.ms", "controller.quorum.election.backoff.max.ms",
}

// controllerConfigs reads those configs from the controllers themselves,
// as kafka-configs --bootstrap-controller does (KIP-919, Kafka 3.7+): the
// controllers' ids and endpoints from any of addrs, then a DescribeConfigs
// of each controller's own node to that controller.
func (r *reader) controllerConfigs(ctx context.Context, addrs []string) (map[string]topology.Configs, error) {
	nodes, err := r.controllerNodes(ctx, addrs)
	if err != nil {
		return nil, err
	}
	out := map[string]topology.Configs{}
	for _, n := range nodes {
		req := kmsg.NewPtrDescribeConfigsRequest()
		res := kmsg.NewDescribeConfigsRequestResource()
		res.ResourceType = kmsg.ConfigResourceTypeBroker
		res.ResourceName = strconv.Itoa(int(n.id))
		res.ConfigNames = controllerConfigNames
		req.Resources = append(req.Resources, res)
		resp, err := r.controllerRequest(ctx, n.addr, req)
		if err != nil {
			r.fail("controller:"+res.ResourceName, "describe configs at %s: %s", n.addr, r.why(needACL(err, "DescribeConfigs on the cluster")))
			continue
		}
		for _, rr := range resp.(*kmsg.DescribeConfigsResponse).Resources {
			if err := codeError(rr.ErrorCode, rr.ErrorMessage); err != nil {
				r.fail("controller:"+res.ResourceName, "describe configs: %v", needACL(err, "DescribeConfigs on the cluster"))
				continue
			}
			cfgs := topology.Configs{}
			for _, c := range rr.Configs {
				if c.Value == nil {
					continue
				}
				cfgs[c.Name] = topology.ConfigValue{Value: *c.Value, Source: sourceOf(sarama.ConfigSource(c.Source))}
			}
			out[res.ResourceName] = cfgs
		}
	}
	return out, nil
}

// controllerNode is a controller's id and the endpoint to ask it at.
type controllerNode struct {
	id   int32
	addr string
}

// controllerNodes asks the controllers at addrs who the controllers are.
// DescribeQuorum v2 (KIP-853, Kafka 3.9+) names every voter's endpoints
// and needs only Describe on the cluster; DescribeCluster for controller
// endpoints, the older way, needs Alter on the cluster when a controller
// answers it (ControllerApis.handleDescribeCluster: "unlike on the
// broker ... requires a high level of permissions"), which a read-only
// principal must not hold. It is the fallback for 3.7 and 3.8.
func (r *reader) controllerNodes(ctx context.Context, addrs []string) ([]controllerNode, error) {
	var errs []error
	for _, addr := range addrs {
		cl, err := kgo.NewClient(r.s.kgoOpts(addr, r.d)...)
		if err != nil {
			return nil, err
		}
		nodes, err := r.quorumNodes(ctx, cl.SeedBrokers()[0], addrs)
		cl.Close()
		if err == nil && len(nodes) > 0 {
			return nodes, nil
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: describe quorum: %s", addr, r.why(needACL(err, "Describe on the cluster"))))
		}
		resp, err := r.controllerRequest(ctx, addr, func() kmsg.Request {
			req := kmsg.NewPtrDescribeClusterRequest()
			req.EndpointType = 2 // controllers (KIP-919)
			return req
		}())
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %s", addr, r.why(err)))
			continue
		}
		dc := resp.(*kmsg.DescribeClusterResponse)
		if err := codeError(dc.ErrorCode, dc.ErrorMessage); err != nil {
			if dc.ErrorCode == kerr.ClusterAuthorizationFailed.Code {
				err = fmt.Errorf("%w (a controller answers DescribeCluster only to a principal with Alter on the cluster; with Kafka 3.9+ stretchctl reads the controllers through DescribeQuorum, which needs Describe)", err)
			}
			errs = append(errs, fmt.Errorf("%s: describe cluster: %w", addr, err))
			continue
		}
		nodes = nil
		for _, b := range dc.Brokers {
			nodes = append(nodes, controllerNode{b.NodeID, net.JoinHostPort(b.Host, strconv.Itoa(int(b.Port)))})
		}
		if len(nodes) > 0 {
			return nodes, nil
		}
	}
	return nil, fmt.Errorf("no controller described the quorum: %w", errors.Join(errs...))
}

// quorumNodes reads the voters' endpoints from a DescribeQuorum answer
// (v2+); none from older versions. Of a voter's listeners, the one whose
// address is among addrs (stretch.yaml's cluster.controllers) is used,
// else its first.
func (r *reader) quorumNodes(ctx context.Context, br *kgo.Broker, addrs []string) ([]controllerNode, error) {
	resp, err := r.quorumRequest(ctx, br)
	if err != nil {
		return nil, err
	}
	var out []controllerNode
	for _, n := range resp.Nodes {
		addr := ""
		for _, l := range n.Listeners {
			a := net.JoinHostPort(l.Host, strconv.Itoa(int(l.Port)))
			if addr == "" || slices.Contains(addrs, a) {
				addr = a
			}
		}
		if addr != "" {
			out = append(out, controllerNode{n.NodeID, addr})
		}
	}
	return out, nil
}

// controllerRequest sends one request to the controller at addr.
func (r *reader) controllerRequest(ctx context.Context, addr string, req kmsg.Request) (kmsg.Response, error) {
	cl, err := kgo.NewClient(r.s.kgoOpts(addr, r.d)...)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	return r.request(ctx, cl.SeedBrokers()[0], req)
}
