package rules

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/stretchctl/stretchctl/topology"
)

// The scenario model: for every DC, what crashing it, losing it and
// cutting it off does, starting from the cluster as it is (fenced brokers,
// out-of-sync replicas and offline partitions count as they are), for the
// producers that write to it, where they run.
//
// Facts it follows (kafka-rules.md §2–§4, §8; sources in the comments):
//   - Only the controller changes the ISR and elects leaders (KIP-497,
//     F6). A broker the active controller stops hearing from is fenced
//     after its broker.session.timeout.ms and leaves every ISR (KRaft
//     ReplicationControlManager, F4); a new active controller has no
//     heartbeat history and fences after a whole session from its start
//     (BrokerHeartbeatManager, S10).
//   - Without ELR the last ISR member stays in the ISR and the partition
//     goes leaderless; with ELR (KIP-966) an ELR member is a clean leader.
//     An offline partition is one whose leader is −1.
//   - An acks=all record is acknowledged once every ISR member has it and
//     the ISR holds at least min.insync.replicas members (F1): acked
//     records can exist only in one DC iff min.insync.replicas replicas can
//     sit there (m ≤ r_X), or an unclean election picks a replica that
//     missed them (F5). acks=0/1 records led in the lost DC may be lost.
//   - A producer waiting on a leader that went silent (power or network
//     gone, a frozen process, a cut link) learns it only when its own
//     request timeout expires: Java request.timeout.ms; librdkafka
//     socket.timeout.ms (its request.timeout.ms is enforced by the broker
//     only); sarama Net.ReadTimeout; franz-go ProduceRequestTimeout plus
//     RequestTimeoutOverhead. A crashed process on a live host refuses the
//     connection at once: the producer refreshes metadata and retries
//     after its first retry backoff until the new leader is there.
//   - A producer whose partition has only a follower in the lost DC is not
//     timed out: its acks=all request waits in the leader's purgatory and
//     is answered when the ISR shrinks (fencing, or the leader's
//     replica.lag.time.max.ms, whichever is first).
//   - Isolating a DC splits the cluster; the side with the controller
//     majority fences the other side's brokers and elects leaders among its
//     own ISR members. The other side's leaders are not told: one whose
//     ISR reaches across the cut stalls acks=all writes (shrinking needs
//     the controller); one whose whole ISR (≥ min.insync.replicas) is on
//     its side keeps acknowledging — those records survive, as the majority
//     side cannot elect a clean leader. acks=0/1 records acknowledged by a
//     leader of the minority side are lost on heal when the majority side
//     elected another leader meanwhile.

// outcome is what one scenario does to one partition, seen from the side
// of the cluster that keeps the controller.
type outcome struct{ writeStop, readStop, loss bool }

// side is one side of a scenario: which DCs reach one another, and
// whether that side holds the controller majority.
type sides struct {
	kind ScenarioKind
	x    int
	// ctrl says which side keeps the controller: +1 the DCs other than
	// x, -1 x itself (an isolated DC holding the majority), 0 none.
	ctrl int
}

// ctrlSide reports whether dc is on the side that keeps the controller.
func (s sides) ctrlSide(dc int) bool {
	switch s.ctrl {
	case 1:
		return dc != s.x
	case -1:
		return dc == s.x
	}
	return false
}

// alive reports whether dc's brokers still run (crash and lose take x's
// away).
func (s sides) alive(dc int) bool { return s.kind == Isolate || dc != s.x }

// producerGone reports whether a producer in pdc went with the DC: lost
// (power or network gone). A crash kills only the Kafka processes: the
// applications on the DC's other hosts go on.
func (s sides) producerGone(pdc int) bool { return s.kind == Lose && pdc == s.x }

// reach reports whether a client in pdc reaches a broker in dc: not a
// dead broker, and nothing across the cut of an isolated DC. pdc -1 is a
// client outside every DC (the operator's site), cut from an isolated x.
func (s sides) reach(pdc, dc int) bool {
	if dc < 0 || !s.alive(dc) {
		return false
	}
	return s.kind != Isolate || (pdc == s.x) == (dc == s.x)
}

// partState is what a scenario needs of one partition, computed once.
type partState struct {
	offline bool // leader −1 before anything happens
	leader  int  // leader's DC, -1 unknown
	// On the controller's side, after fencing: ISR members, ELR members
	// and serving replicas; whether a clean leader exists there, or an
	// unclean one may be elected.
	isrC, elrC, aliveC int
	clean, unclean     bool
	// isrFar: ISR members the leader can no longer reach (lost, or across
	// the cut): an acks=all write waits for them until the ISR shrinks.
	isrFar int
	// isrNear: ISR members on the leader's own side.
	isrNear int
}

func (m *model) partState(t *topicModel, p *partFacts, s sides) partState {
	st := partState{offline: p.noLeader, leader: p.leaderDC}
	for dc := range m.dcs {
		isr, elr, alive := int(p.isrByDC[dc]), int(p.elrByDC[dc]), int(p.aliveByDC[dc])
		if s.ctrlSide(dc) {
			st.isrC += isr
			st.elrC += elr
			st.aliveC += alive
		}
		if p.leaderDC >= 0 {
			if s.alive(dc) && (s.kind != Isolate || (dc == s.x) == (p.leaderDC == s.x)) {
				st.isrNear += isr
			} else {
				st.isrFar += isr
			}
		}
	}
	st.clean = st.isrC > 0 || st.elrC > 0
	st.unclean = !st.clean && t.unclean && st.aliveC > 0
	return st
}

// outcome is the partition's fate on the controller's side.
func (st partState) outcome(t *topicModel, s sides, rX int) outcome {
	var o outcome
	switch {
	case st.offline:
		o.writeStop, o.readStop = true, true
	case s.ctrl == 0:
		// No controller anywhere: no election, no ISR shrink (F6). A
		// leader that is gone stays gone; a leader with an ISR member
		// out of reach stalls acks=all writes.
		o.readStop = st.leader < 0 || !s.alive(st.leader) || s.kind == Isolate && st.leader == s.x
		o.writeStop = o.readStop || st.isrFar > 0
	default:
		leaderStays := st.leader >= 0 && s.ctrlSide(st.leader)
		electable := st.clean || st.unclean
		o.readStop = !leaderStays && !electable
		// After fencing the ISR is what is left on the controller's side
		// (an unclean or ELR leader starts an ISR of one).
		isr := st.isrC
		if isr == 0 && electable {
			isr = 1
		}
		o.writeStop = o.readStop || isr < t.m
	}
	// Acknowledged acks=all records can live only in x when m of them fit
	// there; an unclean election on the controller's side elects a
	// replica that may have missed them.
	if s.kind != Isolate {
		o.loss = rX > 0 && (t.m <= rX || st.unclean)
	} else {
		o.loss = st.unclean
	}
	return o
}

// producer is a producer as the scenarios see it.
type producer struct {
	name string
	dc   int // -1: outside every DC
	weak bool
	// silent is the time the library waits on a leader that went silent
	// before it gives up on its request; backoff its first retry backoff.
	silent, backoff float64
	silentNote      string
}

// scenarios predicts every DC crash, loss and isolation.
func (m *model) scenarios() []Scenario {
	prods := m.scenarioProducers()
	var out []Scenario
	for x := range m.dcs {
		for _, kind := range []ScenarioKind{Crash, Lose, Isolate} {
			out = append(out, m.scenario(x, kind, prods))
		}
	}
	return out
}

// scenarioProducers are the producer files, or one Java producer with its
// defaults at the operator's site when no file says.
func (m *model) scenarioProducers() []producer {
	var out []producer
	for _, c := range m.producers() {
		p := producer{name: c.File, dc: -1, weak: normalizeAcks(c.Producer["acks"].Value) != "all"}
		if c.DC != "" {
			p.dc = m.dcIndex(c.DC)
		}
		p.silent, p.silentNote = silentWait(c)
		p.backoff = settingSeconds(c.Producer, "retry.backoff.ms", 0.1)
		out = append(out, p)
	}
	if len(out) == 0 {
		out = append(out, defaultProducer())
	}
	return out
}

// silentWait is how long a library waits on a silent broker before it
// fails the request and looks for the leader again.
func silentWait(c topology.ClientConfig) (float64, string) {
	switch c.Library {
	case "librdkafka":
		// librdkafka sends request.timeout.ms to the broker; the client
		// itself times a request out after socket.timeout.ms (CONFIGURATION.md).
		s := settingSeconds(c.Producer, "socket.timeout.ms", 60)
		return s, fmt.Sprintf("socket.timeout.ms %gs (librdkafka: its request.timeout.ms is enforced by the broker only)", s)
	case "franz-go":
		// ProduceRequestTimeout plus RequestTimeoutOverhead (10 s each by
		// default): the clients package gives their sum as request.timeout.ms.
		s := settingSeconds(c.Producer, "request.timeout.ms", 20)
		return s, fmt.Sprintf("%gs: franz-go's ProduceRequestTimeout plus RequestTimeoutOverhead", s)
	case "sarama":
		s := settingSeconds(c.Producer, "request.timeout.ms", 30)
		return s, fmt.Sprintf("Net.ReadTimeout %gs (sarama)", s)
	}
	s := settingSeconds(c.Producer, "request.timeout.ms", 30)
	return s, fmt.Sprintf("request.timeout.ms %gs", s)
}

// scenarioSides decides which side keeps the controller.
func (m *model) scenarioSides(x int, kind ScenarioKind) (sides, bool) {
	s := sides{kind: kind, x: x}
	ok, known := m.quorumSurvives(x)
	if m.in.Snapshot.Mode == "zookeeper" {
		ok, known = m.zkSurvives(x)
	}
	if ok {
		s.ctrl = 1
	} else if kind == Isolate && m.quorumIn(x) {
		s.ctrl = -1
	}
	return s, known
}

// quorumIn reports whether the voters in x alone are a majority.
func (m *model) quorumIn(x int) bool {
	if m.in.Snapshot.Mode == "zookeeper" || len(m.voters) == 0 {
		return false
	}
	return m.votersIn(x) > len(m.voters)/2
}

func (m *model) scenario(x int, kind ScenarioKind, prods []producer) Scenario {
	s := Scenario{Name: string(kind) + " " + m.dcs[x], Kind: kind, DC: m.dcs[x], RTOBreakdown: []RTOTerm{}}
	sd, quorumKnown := m.scenarioSides(x, kind)
	s.QuorumSurvives = sd.ctrl != 0
	tm := m.timing(sd)
	var worst rtoPath
	weakLoss := map[string]bool{}
	judged := judgedProducers(prods, sd)
	for _, t := range m.topics {
		ti := TopicImpact{Topic: t.t.Name}
		var tWorst rtoPath
		inX := false
		for i := range t.parts {
			p := &t.parts[i]
			st := m.partState(t, p, sd)
			o := st.outcome(t, sd, int(p.rByDC[x]))
			ti.Partitions++
			for _, pr := range prods {
				if l := weakLossFor(st, sd, pr); l {
					o.loss = true
					weakLoss[pr.name] = true
				}
			}
			// Applications do not write to internal topics: they count
			// for availability, not for the producers' RTO.
			if !t.internal {
				for _, pr := range judged {
					if path := tm.producerRTO(st, t, sd, pr); path.worse(tWorst) {
						tWorst = path
					}
				}
			}
			if o.writeStop {
				ti.WriteUnavailable++
			}
			if o.readStop {
				ti.ReadUnavailable++
			}
			if o.loss {
				ti.AckedLossPossible++
			}
			inX = inX || p.rByDC[x] > 0
		}
		s.WriteUnavailable += ti.WriteUnavailable
		s.ReadUnavailable += ti.ReadUnavailable
		s.AckedLossPossible += ti.AckedLossPossible
		if !inX && ti.WriteUnavailable+ti.ReadUnavailable+ti.AckedLossPossible == 0 {
			continue
		}
		if !tWorst.unbounded {
			v := round(tWorst.seconds)
			ti.PredictedRTOSeconds = &v
			ti.RTOBreakdown = tm.terms(tWorst)
		}
		if tWorst.worse(worst) {
			worst = tWorst
		}
		s.Topics = append(s.Topics, ti)
	}
	switch {
	case !quorumKnown:
		s.Why = append(s.Why, "where some controllers run is unknown: map them in topology.controllers; the quorum is assumed lost")
	case sd.ctrl == 0:
		why := fmt.Sprintf("the controller quorum does not survive: %d of %d voters are in %s", m.votersIn(x), len(m.voters), m.dcs[x])
		if d := m.votersDown(); d > 0 {
			why += fmt.Sprintf(" and %d are down already", d)
		}
		s.Why = append(s.Why, why)
	case sd.ctrl == -1:
		s.Why = append(s.Why, fmt.Sprintf("%s keeps the controller majority (%d of %d voters): the other DCs' brokers are fenced and their leaders are replaced by replicas in %s", m.dcs[x], m.votersIn(x), len(m.voters), m.dcs[x]))
	}
	for _, pr := range prods {
		if weakLoss[pr.name] {
			s.Why = append(s.Why, fmt.Sprintf("%s acknowledges with acks below all: records acknowledged by a leader that %s can be lost", pr.name, map[bool]string{true: "is cut off and replaced", false: "is lost with " + m.dcs[x]}[kind == Isolate]))
		}
	}
	if s.WriteUnavailable > 0 {
		s.Why = append(s.Why, fmt.Sprintf("%d partitions stop taking writes until %s returns (or min.insync.replicas is lowered)", s.WriteUnavailable, m.dcs[x]))
	}
	if s.AckedLossPossible > 0 && len(weakLoss) == 0 {
		s.Why = append(s.Why, fmt.Sprintf("acknowledged records of %d partitions may exist only in %s", s.AckedLossPossible, m.dcs[x]))
	}
	if !worst.unbounded {
		v := round(worst.seconds)
		s.PredictedRTOSeconds, s.RTOBreakdown = &v, tm.terms(worst)
		for _, c := range m.consumers() {
			if gi := m.groupTerm(c, sd, tm); gi.Seconds > v {
				v = round(gi.Seconds)
				s.RTOBreakdown = append(s.RTOBreakdown, RTOTerm{Name: "consumer group", Seconds: v, Note: gi.Note})
			}
		}
	} else if worst.why != "" {
		s.Why = append(s.Why, worst.why)
	}
	for _, c := range m.consumers() {
		if gi := m.groupTerm(c, sd, tm); gi.Seconds > 0 {
			s.Groups = append(s.Groups, gi)
		}
	}
	rtoOK := s.PredictedRTOSeconds != nil && *s.PredictedRTOSeconds <= m.goals.RTO.Seconds()
	rpoOK := m.goals.RPO > 0 || s.AckedLossPossible == 0
	s.GoalsMet = rtoOK && rpoOK
	return s
}

// judgedProducers are the producers whose wait counts for the
// scenario's RTO. Producers lost with the DC are not (they are gone);
// when a DC is cut off, its own applications are cut off with it, so the
// RTO is the one seen from the other side — unless every producer is
// inside (a drill writing from there). When no producer is left, a Java
// producer with its defaults at the operator's site stands for the
// service.
func judgedProducers(prods []producer, s sides) []producer {
	var out, inside []producer
	for _, p := range prods {
		switch {
		case s.producerGone(p.dc):
		case s.kind == Isolate && p.dc == s.x:
			inside = append(inside, p)
		default:
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		out = inside
	}
	if len(out) == 0 {
		out = []producer{defaultProducer()}
	}
	return out
}

// defaultProducer is Kafka's Java producer with its defaults at the
// operator's site.
func defaultProducer() producer {
	return producer{name: "no producer file declared: Java defaults at the operator's site", dc: -1,
		silent: 30, backoff: 0.1, silentNote: "request.timeout.ms 30s (Java default)"}
}

// weakLossFor reports whether a producer with acks below all loses
// acknowledged records of the partition: crash or loss of the leader's DC
// (records not yet fetched by a follower are gone), or, when the DC is
// cut off, a leader the producer still reaches on the side without the
// controller while the controller's side elects another one.
func weakLossFor(st partState, s sides, pr producer) bool {
	if !pr.weak || st.offline || st.leader < 0 {
		return false
	}
	if s.kind != Isolate {
		return st.leader == s.x && !s.producerGone(pr.dc)
	}
	return s.ctrl != 0 && !s.ctrlSide(st.leader) && s.reach(pr.dc, st.leader) && (st.clean || st.unclean)
}

// timing holds the server-side times of one scenario.
type timing struct {
	m        *model
	s        sides
	rtt      float64
	rttNote  string
	ctrl     float64 // controller failover, 0 when the active one stays
	ctrlNote string
	fence    float64 // from the failure to fencing, controller failover included
	elect    float64
	lag      float64 // replica.lag.time.max.ms
	zk       bool
}

func (m *model) timing(s sides) timing {
	sec := func(name string) float64 { return float64(m.brokerInt(name)) / 1000 }
	t := timing{m: m, s: s, lag: sec("replica.lag.time.max.ms")}
	if rtt, ok := m.worstRTT(); ok {
		t.rtt, t.rttNote = rtt.Seconds(), "worst measured: "+m.in.RTTSource
	} else {
		t.rttNote = "not measured: probe agents in every DC or a latency matrix include it"
	}
	if m.in.Snapshot.Mode == "zookeeper" {
		// A dead broker is noticed when its ZooKeeper session expires; a
		// lost controller broker costs another expiry before a new one is
		// elected (kafka-rules.md §4, 2z).
		t.zk = true
		zk := sec("zookeeper.session.timeout.ms")
		t.fence = zk
		if c := m.zkControllerDC(); c == s.x || c == -1 {
			t.ctrl, t.ctrlNote = zk, "the controller broker is in "+m.dcs[s.x]+": another zookeeper.session.timeout.ms before a new one is elected"
			t.fence += zk
		}
		t.elect = 2*t.rtt + 0.025
		return t
	}
	// Fencing runs on the active controller's own session timeout, the
	// election on the voters' own quorum timeouts (KIP-595, KIP-631).
	ctl := func(name string) float64 { return m.controllerSeconds(name) }
	c := m.activeControllerDC()
	if s.ctrl != 0 && (c == -1 || !s.ctrlSide(c)) {
		t.ctrl = ctl("controller.quorum.fetch.timeout.ms") + t.rtt + 2*ctl("controller.quorum.election.timeout.ms")
		t.ctrlNote = "the active controller is in " + m.dcName(c) + ": fetch timeout + vote + election timeout"
		if c == -1 {
			t.ctrlNote = "where the active controller runs is unknown: assumed on the lost side"
		}
	}
	t.fence = t.ctrl + ctl("broker.session.timeout.ms")
	t.elect = 2*t.rtt + 0.025
	return t
}

// controllerSeconds is a timing config of the controllers, in seconds:
// read from the controllers themselves when the snapshot has their
// configs (the largest, to stay on the safe side), else the brokers'.
func (m *model) controllerSeconds(name string) float64 {
	best := -1.0
	for _, cfgs := range m.in.Snapshot.ControllerConfigs {
		if v, ok := cfgs.Get(name); ok {
			if n, err := strconv.ParseFloat(v, 64); err == nil {
				best = max(best, n/1000)
			}
		}
	}
	if best >= 0 {
		return best
	}
	return float64(m.brokerInt(name)) / 1000
}

// rtoPath is how long one producer waits for one partition, and why.
type rtoPath struct {
	seconds   float64
	unbounded bool
	why       string // for an unbounded wait
	// steps: shrink (a follower out of reach), elect (a new leader),
	// detect (how the client learns: silent timeout or refused), weak.
	shrink, elect bool
	silent        bool
	pr            producer
	set           bool
}

func (a rtoPath) worse(b rtoPath) bool {
	if !b.set {
		return a.set
	}
	if a.unbounded != b.unbounded {
		return a.unbounded
	}
	return a.seconds > b.seconds
}

// producerRTO is how long pr's writes to the partition stop.
func (t timing) producerRTO(st partState, tp *topicModel, s sides, pr producer) rtoPath {
	path := rtoPath{pr: pr, set: true}
	unbounded := func(why string) rtoPath { path.unbounded, path.why = true, why; return path }
	if s.producerGone(pr.dc) {
		return rtoPath{} // the producer went with the DC
	}
	if st.offline {
		return unbounded("a partition was already offline before the failure")
	}
	if st.leader >= 0 && s.reach(pr.dc, st.leader) {
		// The producer keeps talking to its leader.
		if !pr.weak && st.isrNear < tp.m && (st.isrFar == 0 || s.ctrl == 0 || !s.ctrlSide(st.leader)) {
			return unbounded("fewer than min.insync.replicas in-sync replicas are left")
		}
		if pr.weak || st.isrFar == 0 {
			return path // acknowledged at once (by a zombie leader, maybe)
		}
		if s.ctrl != 0 && s.ctrlSide(st.leader) {
			if st.isrNear < tp.m {
				return unbounded("fewer than min.insync.replicas in-sync replicas are left")
			}
			// Waits in purgatory until the ISR shrinks (fencing, or the
			// leader's own lag timeout).
			path.shrink = true
			path.seconds = min(t.fence, t.lag) + t.rtt
			return path
		}
		return unbounded("the leader is cut off from the controller and cannot shrink its ISR: acks=all writes wait until the heal")
	}
	// The leader is gone or out of reach: a new one must be elected on the
	// controller's side, and the producer must reach it.
	if s.ctrl == 0 {
		return unbounded("no controller is left to elect a new leader")
	}
	if !(st.clean || st.unclean) {
		return unbounded("no in-sync replica is left to become leader")
	}
	newSide := s.x
	if s.ctrl == 1 {
		newSide = t.m.otherThan(s.x)
	}
	if newSide < 0 || !s.reach(pr.dc, newSide) {
		return unbounded("the producer cannot reach the side that elects the new leader")
	}
	isr := max(st.isrC, 1)
	if !pr.weak && isr < tp.m {
		return unbounded("fewer than min.insync.replicas in-sync replicas are left")
	}
	path.elect = true
	path.silent = s.kind != Crash || st.leader < 0 || s.alive(st.leader)
	srv := t.fence + t.elect
	if path.silent {
		path.seconds = max(pr.silent, srv) + pr.backoff + t.rtt
	} else {
		path.seconds = srv + pr.backoff + t.rtt
	}
	return path
}

// otherThan returns some DC other than x (the controller's side when it
// is the DCs other than x), -1 when there is none.
func (m *model) otherThan(x int) int {
	for i := range m.dcs {
		if i != x {
			return i
		}
	}
	return -1
}

// terms breaks a path down for the report.
func (t timing) terms(p rtoPath) []RTOTerm {
	var terms []RTOTerm
	add := func(name string, s float64, note string) {
		terms = append(terms, RTOTerm{Name: name, Seconds: round(s), Note: note})
	}
	add("inter-DC round trip", t.rtt, t.rttNote)
	switch {
	case !p.shrink && !p.elect:
		add("server-side failover", 0, "the producer's leader and its in-sync followers stay reachable")
		return terms
	case t.ctrl > 0:
		add("controller failover", t.ctrl, t.ctrlNote)
	default:
		add("controller failover", 0, "the active controller stays")
	}
	fenceNote := "broker.session.timeout.ms"
	if t.zk {
		fenceNote = "zookeeper.session.timeout.ms"
	}
	if t.ctrl > 0 && !t.zk {
		fenceNote += ", counted from the new controller's start (it has no heartbeat history)"
	}
	if p.shrink {
		stall := min(t.fence, t.lag)
		add("ISR shrink", stall-t.ctrl, "the followers out of reach leave the ISR: min(fencing, replica.lag.time.max.ms); the write waits in purgatory, no client timeout")
		return terms
	}
	add("broker fencing", t.fence-t.ctrl, fenceNote)
	add("leader election", t.elect, "metadata commit and propagation: 2 round trips + append linger")
	if p.silent {
		wait := max(p.pr.silent-(t.fence+t.elect), 0)
		add("client request timeout", wait, p.pr.name+": "+p.pr.silentNote+", counted from the failure; the leader went silent, so in-flight requests end only by it")
	} else {
		add("client reconnect", 0, p.pr.name+": connections to the crashed brokers are refused at once; metadata is refreshed on every retry")
	}
	add("retry backoff", p.pr.backoff, "the first retry's retry.backoff.ms")
	return terms
}

// votersIn counts the live voters in x.
func (m *model) votersIn(x int) int {
	n := 0
	for i, dc := range m.voterDC {
		if dc == x && !m.voterDown[i] {
			n++
		}
	}
	return n
}

// votersDown counts the voters known to be down.
func (m *model) votersDown() int {
	n := 0
	for _, d := range m.voterDown {
		if d {
			n++
		}
	}
	return n
}

// zkControllerDC is the DC of the ZooKeeper-mode controller broker, -1
// when unknown.
func (m *model) zkControllerDC() int {
	if dc, ok := m.brokerDC[m.in.Snapshot.ControllerID]; ok {
		return dc
	}
	return -1
}

// round keeps milliseconds.
func round(s float64) float64 { return math.Round(s*1000) / 1000 }

// groupTerm is how long a consumer group stops reading in the scenario,
// charged only for what it loses (kafka-rules.md §4.5): its coordinator's
// move when the coordinator (the leader of the group's __consumer_offsets
// partition) is lost or cut off — the new coordinator re-arms every
// member's timer when it loads the group (GroupMetadataManager
// onGroupLoaded), so members elsewhere keep their assignment —, and the
// session expiry of members that were in the DC. A group entirely
// elsewhere is not charged.
func (m *model) groupTerm(c topology.ClientConfig, s sides, t timing) GroupImpact {
	session := settingSeconds(c.Consumer, "session.timeout.ms", 45)
	hb := settingSeconds(c.Consumer, "heartbeat.interval.ms", 3)
	if strings.EqualFold(c.Consumer["group.protocol"].Value, "consumer") {
		session = float64(m.brokerInt("group.consumer.session.timeout.ms")) / 1000
		hb = float64(m.brokerInt("group.consumer.heartbeat.interval.ms")) / 1000
	}
	coordDC := m.coordinatorDC(c.Consumer["group.id"].Value)
	lostCoord := coordDC < 0 || !s.ctrlSide(coordDC) && s.ctrl != 0
	dc := -1
	if c.DC != "" {
		dc = m.dcIndex(c.DC)
	}
	// A group whose DC is unknown may have members in the lost DC.
	lostMembers := dc == s.x || (dc < 0 && c.DC != topology.OutsideDCs)
	move := 0.0
	if lostCoord {
		move = t.fence + t.elect
	}
	// franz-go's classic group member ends its session on a heartbeat
	// error other than REBALANCE_IN_PROGRESS and rejoins (pkg/kgo
	// consumer_group.go, (*groupConsumer).heartbeat: "manage will call
	// onLost with all partitions"); the Java member keeps its assignment
	// and finds the new coordinator. Seen on the lab: franz-go 1.22.3
	// rebalanced 7.7 s after its coordinator's DC crashed, Java did not.
	rejoins := lostCoord && c.Library == "franz-go" && !strings.EqualFold(c.Consumer["group.protocol"].Value, "consumer")
	gi := GroupImpact{File: c.File, CoordinatorMoves: lostCoord, MembersLost: lostMembers, Rebalance: lostMembers || rejoins}
	switch {
	case lostMembers:
		gi.Seconds, gi.Note = round(move+session+hb), fmt.Sprintf("%s: members in %s are replaced after the session timeout %gs + heartbeat %gs", c.File, m.dcs[s.x], session, hb)
	case rejoins:
		gi.Seconds, gi.Note = round(move), fmt.Sprintf("%s: the group's coordinator moves; franz-go members rejoin the group when their heartbeats fail (a rebalance)", c.File)
	case lostCoord:
		gi.Seconds, gi.Note = round(move), fmt.Sprintf("%s: the group's coordinator moves; members keep their assignment", c.File)
	}
	return gi
}

// coordinatorDC is the DC of the leader of the __consumer_offsets
// partition of groupID (topology.GroupPartition); -1 when the group or
// the topic is unknown.
func (m *model) coordinatorDC(groupID string) int {
	if groupID == "" {
		return -1
	}
	for _, t := range m.topics {
		if t.t.Name != topology.OffsetsTopic || len(t.parts) == 0 {
			continue
		}
		p := topology.GroupPartition(groupID, len(t.parts))
		for i := range t.parts {
			if int(t.parts[i].id) == p {
				return t.parts[i].leaderDC
			}
		}
	}
	return -1
}

// normalizeAcks reads an acks value: all, 1 or 0.
func normalizeAcks(v string) string {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "all", "-1", "":
		return "all" // empty: the file did not say and no default was known
	case "0":
		return "0"
	}
	return "1"
}

// zkSurvives applies the majority rule to the ZooKeeper ensemble of a
// ZooKeeper-mode cluster (hosts from zookeeper.connect, DCs from the
// config's zookeeper map).
func (m *model) zkSurvives(x int) (bool, bool) {
	hosts := zkHosts(m.broker["zookeeper.connect"].Value)
	if len(hosts) == 0 {
		return false, false
	}
	inX, unknown := 0, 0
	for _, h := range hosts {
		dc, ok := m.in.Config.Topology.ZooKeeper[h]
		switch {
		case !ok:
			unknown++
		case m.dcIndex(dc) == x:
			inX++
		}
	}
	need := len(hosts)/2 + 1
	if len(hosts)-inX-unknown >= need {
		return true, true
	}
	return false, len(hosts)-inX < need
}

// zkHosts splits zookeeper.connect ("h1:2181,h2:2181/chroot").
func zkHosts(connect string) []string {
	connect, _, _ = strings.Cut(connect, "/")
	var out []string
	for _, h := range strings.Split(connect, ",") {
		if h = strings.TrimSpace(h); h != "" {
			out = append(out, h)
		}
	}
	return out
}

func settingSeconds(s topology.Settings, key string, def float64) float64 {
	if v, ok := s[key]; ok {
		if n, err := strconv.ParseFloat(strings.TrimSpace(v.Value), 64); err == nil && n >= 0 {
			return n / 1000
		}
	}
	return def
}
