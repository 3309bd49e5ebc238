package rules

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/stretchctl/stretchctl/config"
	"github.com/stretchctl/stretchctl/topology"
)

// Input is everything a check evaluates.
type Input struct {
	Snapshot *topology.Snapshot
	Config   *config.Config
	Clients  []topology.ClientConfig
	// RTT holds measured inter-DC round trips by unordered pair key
	// "a/b" (sorted); nil when not measured.
	RTT map[string]time.Duration
	// RTTSource says where the RTT figures come from and how old they are.
	RTTSource string
	// FailOn is the lowest severity that fails the verdict.
	FailOn Severity
}

// maxDCs bounds the DCs of one cluster; per-partition counters are fixed
// arrays of this size so that a million partitions cost no allocations.
const maxDCs = 16

// kafkaDefault returns Apache Kafka's default for the broker and topic
// configs the rules read (kafka-rules.md §1), used when a snapshot lacks
// the configs.
func kafkaDefault(name string) string {
	switch name {
	case "min.insync.replicas", "default.replication.factor", "num.replica.fetchers":
		return "1"
	case "unclean.leader.election.enable":
		return "false"
	case "auto.create.topics.enable", "auto.leader.rebalance.enable":
		return "true"
	case "broker.session.timeout.ms":
		return "9000"
	case "broker.heartbeat.interval.ms", "controller.quorum.fetch.timeout.ms":
		return "2000"
	case "controller.quorum.election.timeout.ms", "controller.quorum.election.backoff.max.ms":
		return "1000"
	case "replica.lag.time.max.ms":
		return "30000"
	case "zookeeper.session.timeout.ms":
		return "18000"
	case "offsets.topic.replication.factor", "transaction.state.log.replication.factor":
		return "3"
	case "transaction.state.log.min.isr":
		return "2"
	case "group.consumer.session.timeout.ms":
		return "45000"
	case "group.consumer.heartbeat.interval.ms":
		return "5000"
	}
	return ""
}

// model is the snapshot seen through the DC map, with per-partition
// facts computed once and shared by every rule and scenario.
type model struct {
	in    *Input
	goals config.Goals
	dcs   []string
	// brokerDC maps broker id to DC index; -1 when the broker's rack maps
	// to no listed DC.
	brokerDC map[int32]int
	// serving says which brokers serve (not fenced, not absent).
	serving map[int32]bool
	// dataDCs are the DC indexes that hold brokers.
	dataDCs []int
	// voters are the KRaft voter ids and their DC index (-1 unknown).
	voters  []int32
	voterDC []int
	// voterDown marks voters known to be down (QuorumReplica.Down): they
	// still count in the majority a quorum needs, never towards it.
	voterDown  []bool
	quorumRead bool
	// broker holds cluster-level broker configs (from the first broker
	// that reported configs) and brokerKnown whether any did.
	broker      topology.Configs
	brokerKnown bool
	major       int
	topics      []*topicModel
	notes       []string
}

// topicModel is one topic's effective settings and its partitions' facts.
type topicModel struct {
	t        *topology.Topic
	m        int
	mSource  string
	unclean  bool
	uSource  string
	parts    []partFacts
	internal bool
	streams  bool // a Kafka Streams changelog or repartition topic
}

// partFacts are the placement facts of one partition.
type partFacts struct {
	id      int32
	rf      int
	rByDC   [maxDCs]uint8
	isrByDC [maxDCs]uint8
	elrByDC [maxDCs]uint8
	// aliveByDC counts the replicas on serving brokers (not fenced, not
	// absent): only those survive anything.
	aliveByDC [maxDCs]uint8
	isr       int
	leaderDC  int  // -1 no leader or unknown
	noLeader  bool // the leader is -1: the partition is offline now
	unknown   bool // a replica sits on a broker whose DC is unknown
}

func (p *partFacts) rMax() int {
	m := 0
	for _, r := range p.rByDC {
		m = max(m, int(r))
	}
	return m
}

func (p *partFacts) dcSpan() int {
	n := 0
	for _, r := range p.rByDC {
		if r > 0 {
			n++
		}
	}
	return n
}

// isrDCs counts the DCs holding ISR members.
func (p *partFacts) isrDCs() int {
	n := 0
	for _, r := range p.isrByDC {
		if r > 0 {
			n++
		}
	}
	return n
}

func newModel(in *Input) (*model, error) {
	if in.Snapshot == nil || in.Config == nil {
		return nil, fmt.Errorf("rules need a snapshot and a config")
	}
	if len(in.Config.Topology.DCs) > maxDCs {
		return nil, fmt.Errorf("at most %d DCs are supported, the config lists %d", maxDCs, len(in.Config.Topology.DCs))
	}
	m := &model{in: in, goals: in.Config.Goals, dcs: in.Config.Topology.DCs, brokerDC: map[int32]int{}, serving: map[int32]bool{}}
	m.major = majorVersion(in.Config.Cluster.KafkaVersion)
	if v := in.Snapshot.KafkaVersion; v != "" {
		m.major = majorVersion(v)
	}
	dataDC := map[int]bool{}
	for _, b := range in.Snapshot.Brokers {
		dc := m.dcIndex(in.Config.Topology.DCOfRack(b.Rack))
		if b.Rack == "" {
			dc = -1
		}
		m.brokerDC[b.ID] = dc
		m.serving[b.ID] = b.Serving()
		if dc >= 0 {
			dataDC[dc] = true
		}
		if !m.brokerKnown && len(b.Configs) > 0 {
			m.broker, m.brokerKnown = b.Configs, true
		}
	}
	for dc := range dataDC {
		m.dataDCs = append(m.dataDCs, dc)
	}
	sort.Ints(m.dataDCs)
	m.readVoters()
	for i := range in.Snapshot.Topics {
		m.topics = append(m.topics, m.topicModel(&in.Snapshot.Topics[i]))
	}
	if !m.brokerKnown {
		m.notes = append(m.notes, "broker configs could not be read: Kafka defaults are assumed for them")
	}
	for _, e := range in.Snapshot.Errors {
		m.notes = append(m.notes, fmt.Sprintf("could not read %s: %s", e.Subject, e.Error))
	}
	if in.Snapshot.Mode == "kraft" && in.Snapshot.ControllerConfigs == nil && !m.combined() {
		m.notes = append(m.notes, "the controllers' own broker.session.timeout.ms and controller.quorum.* were not read (set cluster.controllers): the brokers' values are assumed for fencing and elections")
	}
	var assumed []string
	for _, c := range in.Clients {
		if c.VersionAssumed {
			assumed = append(assumed, c.File)
		}
	}
	if len(assumed) > 0 {
		m.notes = append(m.notes, fmt.Sprintf("no library version given for %s: the defaults of the newest release stretchctl knows are assumed (set clients[].version)", strings.Join(assumed, ", ")))
	}
	return m, nil
}

func majorVersion(v string) int {
	n, _ := strconv.Atoi(strings.SplitN(v, ".", 2)[0])
	return n
}

func (m *model) dcIndex(name string) int { return slices.Index(m.dcs, name) }

// dcName returns a DC's name, "unknown DC" for -1.
func (m *model) dcName(i int) string {
	if i < 0 || i >= len(m.dcs) {
		return "an unknown DC"
	}
	return m.dcs[i]
}

// readVoters finds the KRaft voters and their DCs: from the quorum when it
// was read, else from the config's controller map; a voter's DC comes from
// the config's map, else from the rack of a broker with the same node id
// (combined mode).
func (m *model) readVoters() {
	q := m.in.Snapshot.Quorum
	switch {
	case q != nil:
		m.quorumRead = true
		for _, v := range q.Voters {
			m.voters = append(m.voters, v.ID)
		}
	case m.in.Snapshot.Mode != "zookeeper":
		m.voters = append(m.voters, m.in.Config.Topology.ControllerIDs()...)
	}
	slices.Sort(m.voters)
	down := map[int32]bool{}
	if q != nil {
		for _, v := range q.Voters {
			down[v.ID] = v.Down
		}
	}
	for _, id := range m.voters {
		m.voterDown = append(m.voterDown, down[id])
		dc := -1
		if name, ok := m.in.Config.Topology.DCOfController(id); ok {
			dc = m.dcIndex(name)
		} else if b, ok := m.brokerDC[id]; ok {
			dc = b
		}
		m.voterDC = append(m.voterDC, dc)
	}
}

// brokerConfig returns a cluster-level broker config, falling back to
// Kafka's default, and whether it was read or assumed.
func (m *model) brokerConfig(name string) (string, bool) {
	if v, ok := m.broker.Get(name); ok && v != "" {
		return v, true
	}
	return kafkaDefault(name), false
}

func (m *model) brokerInt(name string) int {
	v, _ := m.brokerConfig(name)
	n, err := strconv.Atoi(v)
	if err != nil {
		n, _ = strconv.Atoi(kafkaDefault(name))
	}
	return n
}

func (m *model) brokerBool(name string) bool {
	v, _ := m.brokerConfig(name)
	return strings.EqualFold(v, "true")
}

func (m *model) topicModel(t *topology.Topic) *topicModel {
	tm := &topicModel{t: t, internal: t.Internal || strings.HasPrefix(t.Name, "__"),
		streams: strings.HasSuffix(t.Name, "-changelog") || strings.HasSuffix(t.Name, "-repartition")}
	tm.m, tm.mSource = m.topicInt(t, "min.insync.replicas")
	u, src := m.topicValue(t, "unclean.leader.election.enable")
	tm.unclean, tm.uSource = strings.EqualFold(u, "true"), src
	tm.parts = make([]partFacts, len(t.Partitions))
	for i := range t.Partitions {
		p := &t.Partitions[i]
		f := &tm.parts[i]
		f.id, f.rf, f.isr, f.leaderDC = p.ID, len(p.Replicas), len(p.ISR), -1
		for _, r := range p.Replicas {
			if dc, ok := m.brokerDC[r]; ok && dc >= 0 {
				f.rByDC[dc]++
				if m.serving[r] {
					f.aliveByDC[dc]++
				}
			} else {
				f.unknown = true
			}
		}
		f.noLeader = p.Leader < 0
		for _, r := range p.ISR {
			if dc, ok := m.brokerDC[r]; ok && dc >= 0 {
				f.isrByDC[dc]++
			}
		}
		for _, r := range p.ELR {
			if dc, ok := m.brokerDC[r]; ok && dc >= 0 {
				f.elrByDC[dc]++
			}
		}
		if dc, ok := m.brokerDC[p.Leader]; ok && p.Leader >= 0 {
			f.leaderDC = dc
		}
	}
	return tm
}

// topicValue returns a topic's effective config: the topic's own
// (DescribeConfigs reports the effective value with its source), else the
// broker default, else Kafka's default. The second result names the source.
func (m *model) topicValue(t *topology.Topic, name string) (string, string) {
	if v, ok := t.Configs[name]; ok && v.Value != "" {
		return v.Value, string(v.Source)
	}
	if v, ok := m.brokerConfig(name); ok {
		return v, "broker default"
	}
	return kafkaDefault(name), "Kafka default (assumed)"
}

func (m *model) topicInt(t *topology.Topic, name string) (int, string) {
	v, src := m.topicValue(t, name)
	n, err := strconv.Atoi(v)
	if err != nil {
		n, _ = strconv.Atoi(kafkaDefault(name))
		src = "Kafka default (unparsable value " + strconv.Quote(v) + ")"
	}
	return n, src
}

// rtt returns the worst measured round trip between DCs that hold brokers
// or voters, and whether any was measured.
func (m *model) worstRTT() (time.Duration, bool) {
	var worst time.Duration
	for _, d := range m.in.RTT {
		worst = max(worst, d)
	}
	return worst, len(m.in.RTT) > 0
}

// quorumSurvives reports whether the voters outside DC x are a majority.
// It is false when any voter's DC is unknown and that could matter.
func (m *model) quorumSurvives(x int) (survives, known bool) {
	v := len(m.voters)
	if v == 0 {
		return false, false
	}
	// A majority of all voters must be alive, down ones included
	// (KIP-595: the voter set does not shrink when a voter dies).
	inX, unknown := 0, 0
	for i, dc := range m.voterDC {
		if m.voterDown[i] {
			inX++ // gone already: as good as lost with x
			continue
		}
		switch dc {
		case x:
			inX++
		case -1:
			unknown++
		}
	}
	need := v/2 + 1
	if v-inX-unknown >= need {
		return true, true
	}
	if v-inX < need {
		return false, true
	}
	return false, false // depends on where the unknown voters are
}

// combined reports whether every voter is also a broker (combined mode):
// then the brokers' configs are the controllers'.
func (m *model) combined() bool {
	for _, id := range m.voters {
		if _, ok := m.brokerDC[id]; !ok {
			return false
		}
	}
	return len(m.voters) > 0
}

// activeControllerDC is the DC of the quorum leader, -1 when unknown.
func (m *model) activeControllerDC() int {
	q := m.in.Snapshot.Quorum
	if q == nil || q.LeaderID < 0 {
		return -1
	}
	for i, id := range m.voters {
		if id == q.LeaderID {
			return m.voterDC[i]
		}
	}
	return -1
}

// ranges renders partition ids compactly: "0-5,7,9-11".
func ranges(ids []int32) string {
	if len(ids) == 0 {
		return ""
	}
	s := slices.Clone(ids)
	slices.Sort(s)
	var b strings.Builder
	start, prev := s[0], s[0]
	flush := func() {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		if start == prev {
			fmt.Fprintf(&b, "%d", start)
		} else {
			fmt.Fprintf(&b, "%d-%d", start, prev)
		}
	}
	for _, id := range s[1:] {
		if id == prev+1 {
			prev = id
			continue
		}
		flush()
		start, prev = id, id
	}
	flush()
	const maxLen = 120
	if b.Len() > maxLen {
		out := b.String()[:maxLen]
		return out[:strings.LastIndexByte(out, ',')] + ",…"
	}
	return b.String()
}

// topicSubject names a topic and, when not all, which partitions.
func topicSubject(t *topicModel, ids []int32) string {
	if len(ids) == len(t.parts) {
		return fmt.Sprintf("topic:%s (all %d partitions)", t.t.Name, len(ids))
	}
	return fmt.Sprintf("topic:%s (partitions %s of %d)", t.t.Name, ranges(ids), len(t.parts))
}
