package rules

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/stretchctl/stretchctl/topology"
)

// outcome is what one DC failure does to one partition (kafka-rules.md
// §2.3).
type outcome struct{ writeStop, readStop, loss bool }

// partitionOutcome evaluates a partition when DC x is lost or isolated.
// quorumOK says whether the voters outside x are a majority. weakAcks says
// whether a producer with acks below all may write to a leader in x (for
// isolate: a producer inside x).
func partitionOutcome(t *topicModel, p *partFacts, x int, kind ScenarioKind, quorumOK, weakAcks bool) outcome {
	rX, isrX := int(p.rByDC[x]), int(p.isrByDC[x])
	survRF := p.rf - rX
	survISR := p.isr - isrX
	var survELR int
	for i, e := range p.elrByDC {
		if i != x {
			survELR += int(e)
		}
	}
	noCleanLeader := survISR == 0 && survELR == 0
	var o outcome
	switch {
	case p.leaderDC == -1 && p.isr == 0:
		// Already offline before the failure.
		o.writeStop, o.readStop = true, true
	case !quorumOK:
		// No controller: no election and no ISR shrink (F6). A leader in x
		// is lost for good; a leader elsewhere stalls acks=all writes while
		// an ISR member in x cannot be removed.
		o.writeStop = p.leaderDC == x || isrX > 0
		o.readStop = p.leaderDC == x
	default:
		o.writeStop = survRF < t.m || (noCleanLeader && !t.unclean)
		o.readStop = survRF == 0 || (noCleanLeader && !t.unclean)
	}
	if rX == 0 {
		return o
	}
	unclean := t.unclean && noCleanLeader && survRF > 0 && quorumOK
	switch kind {
	case Lose:
		o.loss = t.m <= rX || // acks=all: the ISR may have shrunk into x (F3)
			(p.isr > 0 && survISR == 0) || // it has: acked writes live only in x
			survRF == 0 || // every copy is in x
			unclean ||
			(weakAcks && p.leaderDC == x)
	case Isolate:
		// Cut off, x keeps its data. Without the quorum, x cannot shrink
		// its ISR, so acks=all writes fail rather than diverge; loss needs
		// a second leader outside x (unclean election) or a leader in x
		// that acknowledges alone (acks below all, from clients in x).
		o.loss = unclean || (weakAcks && p.leaderDC == x)
	}
	return o
}

// scenarios predicts every DC loss and isolation.
func (m *model) scenarios() []Scenario {
	var out []Scenario
	for x := range m.dcs {
		for _, kind := range []ScenarioKind{Lose, Isolate} {
			out = append(out, m.scenario(x, kind))
		}
	}
	return out
}

func (m *model) scenario(x int, kind ScenarioKind) Scenario {
	s := Scenario{Name: string(kind) + " " + m.dcs[x], Kind: kind, DC: m.dcs[x], RTOBreakdown: []RTOTerm{}}
	quorumOK, quorumKnown := m.quorumSurvives(x)
	if m.in.Snapshot.Mode == "zookeeper" {
		quorumOK, quorumKnown = m.zkSurvives(x)
	}
	s.QuorumSurvives = quorumOK
	weak := m.weakAckProducers(x, kind)
	leaderInXAll, followerInXAll := m.dcRoles(x)
	var leaderInX, followerInX bool
	// rto memoises the RTO per (leader in x, in-sync follower in x): the
	// only topic facts it depends on.
	type rtoKey struct{ leader, follower bool }
	rto := map[rtoKey]struct {
		s     float64
		terms []RTOTerm
	}{}
	for _, t := range m.topics {
		var ti TopicImpact
		var tLeader, tFollower, inX bool
		for i := range t.parts {
			p := &t.parts[i]
			o := partitionOutcome(t, p, x, kind, quorumOK, len(weak) > 0)
			ti.Partitions++
			if o.writeStop {
				ti.WriteUnavailable++
			}
			if o.readStop {
				ti.ReadUnavailable++
			}
			if o.loss {
				ti.AckedLossPossible++
			}
			if p.leaderDC == x {
				tLeader = true
			} else if p.isrByDC[x] > 0 {
				tFollower = true
			}
			inX = inX || p.rByDC[x] > 0
		}
		leaderInX, followerInX = leaderInX || tLeader, followerInX || tFollower
		s.WriteUnavailable += ti.WriteUnavailable
		s.ReadUnavailable += ti.ReadUnavailable
		s.AckedLossPossible += ti.AckedLossPossible
		if !inX && ti.WriteUnavailable+ti.ReadUnavailable+ti.AckedLossPossible == 0 {
			continue
		}
		ti.Topic = t.t.Name
		if quorumOK && ti.WriteUnavailable == 0 {
			k := rtoKey{tLeader, tFollower}
			r, ok := rto[k]
			if !ok {
				r.s, r.terms = m.predictRTO(x, tLeader, tFollower)
				rto[k] = r
			}
			v := r.s
			ti.PredictedRTOSeconds, ti.RTOBreakdown = &v, r.terms
			if k == (rtoKey{leaderInXAll, followerInXAll}) {
				// The scenario's own breakdown: said once, there.
				ti.RTOBreakdown = nil
			}
		}
		s.Topics = append(s.Topics, ti)
	}
	switch {
	case !quorumKnown:
		s.Why = append(s.Why, "where some controllers run is unknown: map them in topology.controllers; the quorum is assumed lost")
	case !quorumOK:
		s.Why = append(s.Why, fmt.Sprintf("the controller quorum does not survive: %d of %d voters are in %s", m.votersIn(x), len(m.voters), m.dcs[x]))
	}
	if len(weak) > 0 {
		s.Why = append(s.Why, fmt.Sprintf("%s acknowledge with acks below all: records led in %s can be lost", strings.Join(weak, ", "), m.dcs[x]))
	}
	if s.WriteUnavailable > 0 {
		s.Why = append(s.Why, fmt.Sprintf("%d partitions stop taking writes until %s returns (or min.insync.replicas is lowered)", s.WriteUnavailable, m.dcs[x]))
	}
	if s.AckedLossPossible > 0 {
		s.Why = append(s.Why, fmt.Sprintf("acknowledged records of %d partitions may exist only in %s", s.AckedLossPossible, m.dcs[x]))
	}
	if quorumOK && s.WriteUnavailable == 0 {
		rto, terms := m.predictRTO(x, leaderInX, followerInX)
		s.PredictedRTOSeconds, s.RTOBreakdown = &rto, terms
	}
	rtoOK := s.PredictedRTOSeconds != nil && *s.PredictedRTOSeconds <= m.goals.RTO.Seconds()
	rpoOK := m.goals.RPO > 0 || s.AckedLossPossible == 0
	s.GoalsMet = rtoOK && rpoOK
	return s
}

// dcRoles says whether some partition is led in x, and whether some
// partition led elsewhere has an in-sync follower in x.
func (m *model) dcRoles(x int) (leader, follower bool) {
	for _, t := range m.topics {
		for i := range t.parts {
			p := &t.parts[i]
			if p.leaderDC == x {
				leader = true
			} else if p.isrByDC[x] > 0 {
				follower = true
			}
		}
	}
	return leader, follower
}

func (m *model) votersIn(x int) int {
	n := 0
	for _, dc := range m.voterDC {
		if dc == x {
			n++
		}
	}
	return n
}

// weakAckProducers names the producer files whose effective acks is not
// all and that can write to a leader in x: any of them when x is lost;
// when x is isolated, those placed in x or of unknown place.
func (m *model) weakAckProducers(x int, kind ScenarioKind) []string {
	var out []string
	for _, c := range m.in.Clients {
		if c.Kind == topology.Consumer {
			continue
		}
		if acks := normalizeAcks(c.Producer["acks"].Value); acks == "all" {
			continue
		}
		if kind == Isolate && c.DC != "" && c.DC != m.dcs[x] {
			continue
		}
		out = append(out, c.File)
	}
	return out
}

func normalizeAcks(v string) string {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "all", "-1", "":
		return "all" // empty: the file did not say and no default was known
	case "0":
		return "0"
	}
	return "1"
}

// predictRTO estimates how long writes and reads stop when x fails and the
// quorum survives (kafka-rules.md §4).
func (m *model) predictRTO(x int, leaderInX, followerInX bool) (float64, []RTOTerm) {
	sec := func(name string) float64 { return float64(m.brokerInt(name)) / 1000 }
	rtt, measured := m.worstRTT()
	rttS := rtt.Seconds()
	var terms []RTOTerm
	add := func(name string, s float64, note string) {
		terms = append(terms, RTOTerm{Name: name, Seconds: round(s), Note: note})
	}
	if !measured {
		add("inter-DC round trip", 0, "not measured: probe agents in every DC or a latency matrix include it")
	} else {
		add("inter-DC round trip", rttS, "worst measured: "+m.in.RTTSource)
	}
	if !leaderInX && !followerInX {
		add("server-side failover", 0, "no leader or in-sync follower in "+m.dcs[x])
		return 0, terms
	}
	var ctrl float64
	switch c := m.activeControllerDC(); {
	case c == x || c == -1:
		ctrl = sec("controller.quorum.fetch.timeout.ms") + rttS + 2*sec("controller.quorum.election.timeout.ms")
		note := "the active controller is in " + m.dcs[x] + ": fetch timeout + vote + election timeout"
		if c == -1 {
			note = "where the active controller runs is unknown: assumed in " + m.dcs[x]
		}
		add("controller failover", ctrl, note)
	default:
		add("controller failover", 0, "the active controller is in "+m.dcName(c))
	}
	fence := ctrl + sec("broker.session.timeout.ms")
	fenceNote := "broker.session.timeout.ms"
	if ctrl > 0 {
		fenceNote += ", counted from the new controller's start (it has no heartbeat history)"
	}
	srv := 0.0
	if leaderInX {
		add("broker fencing", fence-ctrl, fenceNote)
		elect := 2*rttS + 0.025
		add("leader election", elect, "metadata commit and propagation: 2 round trips + append linger")
		srv = fence + elect
	} else {
		stall := math.Min(fence, sec("replica.lag.time.max.ms"))
		add("ISR shrink", stall-ctrl, "followers in "+m.dcs[x]+" leave the ISR: min(fencing, replica.lag.time.max.ms)")
		srv = stall
	}
	rto := srv
	prod, prodNote := m.producerFailover(srv, rttS)
	add("producer timeouts", prod, prodNote)
	rto = math.Max(rto, prod)
	if g, note, ok := m.groupFailover(x, srv); ok {
		add("consumer group", g, note)
		rto = math.Max(rto, g)
	}
	return round(rto), terms
}

// producerFailover is max(request.timeout.ms, server failover) +
// retry.backoff.max.ms + RTT for the slowest producer: a lost DC
// blackholes TCP, so in-flight requests only fail by their timeout.
func (m *model) producerFailover(srv, rtt float64) (float64, string) {
	worst, who := -1.0, ""
	for _, c := range m.in.Clients {
		if c.Kind == topology.Consumer {
			continue
		}
		req := settingSeconds(c.Producer, "request.timeout.ms", 30)
		bo := settingSeconds(c.Producer, "retry.backoff.max.ms", 1)
		if t := math.Max(req, srv) + bo + rtt; t > worst {
			worst, who = t, fmt.Sprintf("%s: request.timeout.ms %gs + retry.backoff.max.ms %gs", c.File, req, bo)
		}
	}
	if worst < 0 {
		return math.Max(30, srv) + 1 + rtt, "no producer file declared: Java defaults request.timeout.ms 30s + retry.backoff.max.ms 1s"
	}
	return worst, who
}

// groupFailover is the consumer-group term: members lost with x are
// evicted after the session timeout, counted from the coordinator's move.
func (m *model) groupFailover(x int, srv float64) (float64, string, bool) {
	worst, who := -1.0, ""
	for _, c := range m.in.Clients {
		if c.Kind == topology.Producer {
			continue
		}
		if c.DC != "" && c.DC != m.dcs[x] && !m.coordinatorsIn(x) {
			continue
		}
		session := settingSeconds(c.Consumer, "session.timeout.ms", 45)
		hb := settingSeconds(c.Consumer, "heartbeat.interval.ms", 3)
		if strings.EqualFold(c.Consumer["group.protocol"].Value, "consumer") {
			session = float64(m.brokerInt("group.consumer.session.timeout.ms")) / 1000
			hb = float64(m.brokerInt("group.consumer.heartbeat.interval.ms")) / 1000
		}
		if t := srv + session + hb; t > worst {
			worst, who = t, fmt.Sprintf("%s: failover + session timeout %gs + heartbeat %gs", c.File, session, hb)
		}
	}
	return worst, who, worst >= 0
}

// coordinatorsIn reports whether a __consumer_offsets partition is led in x.
func (m *model) coordinatorsIn(x int) bool {
	for _, t := range m.topics {
		if t.t.Name == "__consumer_offsets" {
			for i := range t.parts {
				if t.parts[i].leaderDC == x {
					return true
				}
			}
		}
	}
	return false
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
		if n, err := strconv.ParseFloat(v.Value, 64); err == nil {
			return n / 1000
		}
	}
	return def
}

func round(s float64) float64 { return math.Round(s*1000) / 1000 }
