package probe

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/IBM/sarama"

	"github.com/stretchctl/stretchctl/topology"
)

// DefaultTopic is the probe topic Measure writes to unless told otherwise.
const DefaultTopic = "__stretchctl_probe"

// probeTopicConfigs are set on a probe topic Measure creates.
//
// min.insync.replicas=1 so that acks=all never fails for want of in-sync
// replicas: it still waits for every replica in the ISR (that is what it
// measures), but a dead follower, once dropped from the ISR
// (replica.lag.time.max.ms, or at once when KRaft fences its broker), does
// not turn the probe's writes into NOT_ENOUGH_REPLICAS errors. One hour of
// retention keeps the topic small: probe records are never read later.
func probeTopicConfigs() map[string]string {
	return map[string]string{
		"min.insync.replicas": "1",
		"retention.ms":        "3600000",
		"cleanup.policy":      "delete",
	}
}

// assignment places one partition per broker: partition i is led by the
// i-th broker (by id) and its followers are picked from the brokers after
// it in id order, each time from a DC (or rack, when DCs are unknown) not
// yet holding a replica of the partition when there is one. With RF =
// min(3, brokers) on two DCs, every partition has a replica in both.
//
// spread maps a broker to the place replicas must be spread over.
func assignment(brokers []int32, spread func(int32) string, rf int) [][]int32 {
	ids := slices.Sorted(slices.Values(brokers))
	out := make([][]int32, 0, len(ids))
	for i, leader := range ids {
		out = append(out, replicasFor(ids, i, leader, spread, rf))
	}
	return out
}

// replicasFor is the replica list of a partition led by ids[i].
func replicasFor(ids []int32, i int, leader int32, spread func(int32) string, rf int) []int32 {
	replicas := []int32{leader}
	used := map[string]bool{spread(leader): true}
	rest := make([]int32, 0, len(ids)-1)
	for j := 1; j < len(ids); j++ {
		rest = append(rest, ids[(i+j)%len(ids)])
	}
	// First pass: new places only; second pass: anyone left.
	for _, newPlaceOnly := range []bool{true, false} {
		for _, id := range rest {
			if len(replicas) >= rf {
				return replicas
			}
			if slices.Contains(replicas, id) || (newPlaceOnly && used[spread(id)]) {
				continue
			}
			replicas = append(replicas, id)
			used[spread(id)] = true
		}
	}
	return replicas
}

// topicPlan is what ensureTopic found and did: which partition each
// broker leads, and why a broker leads none.
type topicPlan struct {
	lead    map[int32]int32  // broker -> partition it leads
	unknown map[int32]string // broker -> why it leads no partition
}

// leadership reads the probe topic's partitions from a Metadata answer:
// the first (lowest) partition each broker leads, and every partition's
// replicas (the first is the preferred leader).
func leadership(md *sarama.MetadataResponse, topic string) (lead map[int32]int32, replicas map[int32][]int32, found bool) {
	lead, replicas = map[int32]int32{}, map[int32][]int32{}
	for _, t := range md.Topics {
		if t.Name != topic || (!errors.Is(t.Err, sarama.ErrNoError) && len(t.Partitions) == 0) {
			continue
		}
		found = true
		ps := slices.Clone(t.Partitions)
		slices.SortFunc(ps, func(a, b *sarama.PartitionMetadata) int { return cmp.Compare(a.ID, b.ID) })
		for _, p := range ps {
			replicas[p.ID] = slices.Clone(p.Replicas)
			if _, ok := lead[p.Leader]; !ok && p.Leader >= 0 {
				lead[p.Leader] = p.ID
			}
		}
	}
	return lead, replicas, found
}

// ensureTopic makes the probe topic hold a partition led by every live
// broker, as Xinfra Monitor keeps its monitor topic: it creates the topic
// when missing (one partition per broker, replicas spread over DCs, RF =
// min(3, brokers)), adds a partition for a live broker that is the
// preferred leader of none, and runs a preferred leader election for a
// partition whose preferred leader is live but leads nothing (leadership
// that moved away in a failover and never came back). It waits, within
// wait, until every live broker leads a partition. What it could not do
// is recorded with the subject "topic:<name>" and in the plan's unknown.
// Reassigning existing partitions is left out: a broker that still leads
// nothing is reported, not forced.
func (r *reader) ensureTopic(ctx context.Context, boot *sarama.Broker, md *sarama.MetadataResponse, topic string,
	live []int32, spread func(int32) string, wait time.Duration,
) topicPlan {
	subject := "topic:" + topic
	plan := topicPlan{lead: map[int32]int32{}, unknown: map[int32]string{}}
	deadline := time.Now().Add(wait)
	lead, replicas, found := leadership(md, topic)
	if !found {
		if err := r.createTopic(boot, md, topic, live, spread); err != nil {
			r.fail(subject, "create the probe topic: %s", r.why(err))
			for _, id := range live {
				plan.unknown[id] = "the probe topic " + topic + " does not exist and could not be created: " + r.why(err)
			}
			return plan
		}
		r.log.Info("created the probe topic", "topic", topic, "partitions", len(live))
	} else if missing := notPreferred(live, replicas); len(missing) > 0 {
		if err := r.addPartitions(boot, md, topic, len(replicas), missing, live, spread); err != nil {
			r.fail(subject, "add partitions for brokers %v: %s", missing, r.why(err))
		} else {
			r.log.Info("added probe partitions", "topic", topic, "brokers", missing)
		}
	}
	var lastElection time.Time
	moved := !found
	denied := false // the principal may not elect leaders: no retry
	defer func() {
		if moved {
			r.confirmLeaders(ctx, md, topic, plan.lead)
		}
	}()
	for {
		missing := leadsNone(live, lead)
		if len(missing) == 0 || denied || time.Now().After(deadline) || ctx.Err() != nil {
			break
		}
		// A refused election is retried once a second: after a heal the
		// preferred leader must first catch up and rejoin the ISR.
		if found && time.Since(lastElection) >= time.Second {
			lastElection = time.Now()
			for _, id := range missing {
				if time.Now().After(deadline) {
					break
				}
				p, ok := preferredOf(id, replicas)
				if !ok {
					plan.unknown[id] = fmt.Sprintf("is the preferred leader of no partition of %s", topic)
					continue
				}
				moved = true
				if err := r.electPreferred(boot, md, topic, p); err != nil {
					// ElectLeaders needs Alter on the cluster (KafkaApis
					// handleElectLeaders), which stretchctl's principal
					// need not hold: that broker is then not measured.
					denied = denied || isDenied(err)
					err = needACL(err, "Alter on the cluster, which a preferred leader election needs (or let auto.leader.rebalance.enable move leadership back)")
					r.log.Debug("preferred leader election refused", "topic", topic, "partition", p, "broker", id, "err", r.why(err))
					plan.unknown[id] = fmt.Sprintf("leads no partition of %s; the preferred leader election of partition %d failed: %s", topic, p, r.why(err))
				}
			}
		}
		select {
		case <-ctx.Done():
			continue
		case <-time.After(250 * time.Millisecond):
		}
		m, err := boot.GetMetadata(sarama.NewMetadataRequest(r.s.version, []string{topic}))
		if err != nil {
			r.fail(subject, "read the probe topic's leaders: %s", r.why(err))
			break
		}
		lead, replicas, found = leadership(m, topic)
	}
	for _, id := range live {
		if p, ok := lead[id]; ok {
			plan.lead[id] = p
			delete(plan.unknown, id)
			continue
		}
		if plan.unknown[id] == "" {
			plan.unknown[id] = fmt.Sprintf("leads no partition of %s after %v (the probe moves leadership by preferred leader election only; reassign a partition to it or let auto.leader.rebalance run)", topic, wait)
		}
		r.fail(subject, "broker %d: %s", id, plan.unknown[id])
	}
	return plan
}

// confirmLeaders waits (up to confirmWait) until each new leader takes
// a write to its partition: an election is committed by the controller
// first and applied by the new leader a moment later (after a heal, while
// it catches up, seconds later), and until then a produce is refused with
// NOT_LEADER_OR_FOLLOWER even where metadata already names it. The
// confirmation is the probe's own request, one acks=1 record.
func (r *reader) confirmLeaders(ctx context.Context, md *sarama.MetadataResponse, topic string, lead map[int32]int32) {
	addr := map[int32]string{}
	for _, b := range md.Brokers {
		addr[b.ID()] = b.Addr()
	}
	deadline := time.Now().Add(confirmWait)
	for id, p := range lead {
		a, ok := addr[id]
		if !ok {
			continue
		}
		for ctx.Err() == nil && time.Now().Before(deadline) {
			now := time.Now()
			req := &sarama.ProduceRequest{RequiredAcks: sarama.WaitForLocal, Timeout: int32(r.s.timeout / time.Millisecond), Version: produceVersion(r.s.version)}
			req.AddBatch(topic, p, &sarama.RecordBatch{Version: 2, FirstTimestamp: now, MaxTimestamp: now, ProducerID: -1, ProducerEpoch: -1,
				FirstSequence: -1, Records: []*sarama.Record{{Value: []byte(recordPrefix + "setup")}}})
			resp, err := r.conn(a).Produce(req)
			if err == nil && produceError(resp, topic, p) == nil {
				break
			}
			r.log.Debug("new leader not serving yet", "topic", topic, "partition", p, "broker", id, "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
}

// confirmWait bounds confirmLeaders.
const confirmWait = 10 * time.Second

// leadsNone lists the brokers of ids that lead no partition.
func leadsNone(ids []int32, lead map[int32]int32) []int32 {
	var out []int32
	for _, id := range ids {
		if _, ok := lead[id]; !ok {
			out = append(out, id)
		}
	}
	return out
}

// notPreferred lists the brokers that are the preferred leader (first
// replica) of no partition.
func notPreferred(live []int32, replicas map[int32][]int32) []int32 {
	var out []int32
	for _, id := range live {
		if _, ok := preferredOf(id, replicas); !ok {
			out = append(out, id)
		}
	}
	return out
}

// preferredOf returns the lowest partition whose preferred leader is id.
func preferredOf(id int32, replicas map[int32][]int32) (int32, bool) {
	best, found := int32(0), false
	for p, rs := range replicas {
		if len(rs) > 0 && rs[0] == id && (!found || p < best) {
			best, found = p, true
		}
	}
	return best, found
}

// admin sends an admin request to boot and, when boot answers that it is
// not the controller (a ZooKeeper-mode cluster), to the controller; KRaft
// brokers forward admin requests themselves (KIP-590).
func (r *reader) admin(boot *sarama.Broker, md *sarama.MetadataResponse, send func(*sarama.Broker) error) error {
	err := send(boot)
	if !errors.Is(err, sarama.ErrNotController) {
		return err
	}
	for _, b := range md.Brokers {
		if b.ID() == md.ControllerID && b.Addr() != boot.Addr() {
			return send(r.conn(b.Addr()))
		}
	}
	return err
}

func (r *reader) createTopic(boot *sarama.Broker, md *sarama.MetadataResponse, topic string, live []int32, spread func(int32) string) error {
	if len(live) == 0 {
		return errors.New("no live broker")
	}
	rf := min(3, len(live))
	detail := &sarama.TopicDetail{NumPartitions: -1, ReplicationFactor: -1, ReplicaAssignment: map[int32][]int32{}, ConfigEntries: map[string]*string{}}
	for p, rs := range assignment(live, spread, rf) {
		detail.ReplicaAssignment[int32(p)] = rs
	}
	for k, v := range probeTopicConfigs() {
		detail.ConfigEntries[k] = &v
	}
	req := sarama.NewCreateTopicsRequest(r.s.version, map[string]*sarama.TopicDetail{topic: detail}, r.s.timeout, false)
	return r.admin(boot, md, func(b *sarama.Broker) error {
		resp, err := b.CreateTopics(req)
		if err != nil {
			return err
		}
		if te, ok := resp.TopicErrors[topic]; ok && te != nil && !errors.Is(te.Err, sarama.ErrNoError) && !errors.Is(te.Err, sarama.ErrTopicAlreadyExists) {
			return fmt.Errorf("%w: %s", te.Err, deref(te.ErrMsg))
		}
		return nil
	})
}

// addPartitions adds one partition led by each of brokers, its followers
// spread as in assignment.
func (r *reader) addPartitions(boot *sarama.Broker, md *sarama.MetadataResponse, topic string, have int, brokers, live []int32, spread func(int32) string) error {
	rf := min(3, len(live))
	ids := slices.Sorted(slices.Values(live))
	var add [][]int32
	for _, id := range brokers {
		i := slices.Index(ids, id)
		add = append(add, replicasFor(ids, i, id, spread, rf))
	}
	req := &sarama.CreatePartitionsRequest{
		TopicPartitions: map[string]*sarama.TopicPartition{topic: {Count: int32(have + len(add)), Assignment: add}},
		Timeout:         r.s.timeout,
	}
	switch {
	case r.s.version.IsAtLeast(sarama.V2_7_0_0):
		req.Version = 3
	case r.s.version.IsAtLeast(sarama.V2_5_0_0):
		req.Version = 2
	case r.s.version.IsAtLeast(sarama.V2_0_0_0):
		req.Version = 1
	}
	return r.admin(boot, md, func(b *sarama.Broker) error {
		resp, err := b.CreatePartitions(req)
		if err != nil {
			return err
		}
		if te, ok := resp.TopicPartitionErrors[topic]; ok && te != nil && !errors.Is(te.Err, sarama.ErrNoError) {
			return fmt.Errorf("%w: %s", te.Err, deref(te.ErrMsg))
		}
		return nil
	})
}

// electPreferred moves the leadership of one partition back to its
// preferred replica (which must be in the ISR).
func (r *reader) electPreferred(boot *sarama.Broker, md *sarama.MetadataResponse, topic string, partition int32) error {
	req := &sarama.ElectLeadersRequest{
		Type:            sarama.PreferredElection,
		TopicPartitions: map[string][]int32{topic: {partition}},
		TimeoutMs:       int32(r.s.timeout / time.Millisecond),
	}
	switch {
	case r.s.version.IsAtLeast(sarama.V2_4_0_0):
		req.Version = 2
	case r.s.version.IsAtLeast(sarama.V0_11_0_0):
		req.Version = 1
	}
	return r.admin(boot, md, func(b *sarama.Broker) error {
		resp, err := b.ElectLeaders(req)
		if err != nil {
			return err
		}
		if !errors.Is(resp.ErrorCode, sarama.ErrNoError) {
			return resp.ErrorCode
		}
		res := resp.ReplicaElectionResults[topic][partition]
		if res == nil || errors.Is(res.ErrorCode, sarama.ErrNoError) || errors.Is(res.ErrorCode, sarama.ErrElectionNotNeeded) {
			return nil
		}
		return fmt.Errorf("%w: %s", res.ErrorCode, deref(res.ErrorMessage))
	})
}

func deref(s *string) string {
	if s == nil || *s == "" {
		return "no detail"
	}
	return *s
}

// probeBrokers lists the brokers to probe: those in Metadata (live) and
// those DescribeCluster reports fenced, with their racks.
func probeBrokers(snap *topology.Snapshot, md *sarama.MetadataResponse) (brokers []topology.Broker, live []int32) {
	for _, b := range md.Brokers {
		live = append(live, b.ID())
	}
	brokers = slices.Clone(snap.Brokers)
	slices.SortFunc(brokers, func(a, b topology.Broker) int { return cmp.Compare(a.ID, b.ID) })
	slices.Sort(live)
	return brokers, live
}
