package rules

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/stretchctl/stretchctl/topology"
)

func rtoRules() []Rule {
	return []Rule{
		{
			ID: "RTO-001", Title: "writes continue after losing any one DC", Category: CatRTO,
			Explain: "acks=all writes need min.insync.replicas in-sync replicas. When the replicas left after losing the DC that holds most of them are fewer (RF - r_max < min.insync.replicas), the partition refuses writes until that DC returns, min.insync.replicas is lowered or replicas are reassigned. With two DCs this conflicts with RPO-002 by arithmetic. Severity: critical for a finite RTO goal.",
			Fix:     "place replicas so that RF - r_max >= min.insync.replicas > r_max (3 DCs: RF 3 as 1/1/1 with min.insync.replicas 2); with two DCs keep a runbook to lower min.insync.replicas (needs a live quorum)",
			Sources: "S5, kafka-rules.md §2.3",
			check: func(m *model, emit func(Finding)) {
				if len(m.dataDCs) < 2 {
					return
				}
				placementRule(m, emit, userTopics, func(t *topicModel, p *partFacts) bool { return p.rf-p.rMax() < t.m },
					Critical, "writes stop when the DC holding most replicas is lost: min.insync.replicas %d is more than what survives the loss of %d replicas")
			},
		},
		{
			ID: "RTO-002", Title: "a clean leader survives the loss of any one DC", Category: CatRTO,
			Explain: "Without unclean election only in-sync replicas (or, on 4.x with eligible leader replicas, replicas that left the ISR while it was below min.insync.replicas) may become leader. A partition whose in-sync replicas are all in one DC goes offline — no reads, no writes — when that DC is lost, even if replicas elsewhere hold most of the data. Severity: critical.",
			Fix:     "bring the lagging replicas back into the ISR (replication health, RTO-010); on 4.x enable eligible leader replicas",
			Sources: "S12, S20",
			check: func(m *model, emit func(Finding)) {
				if len(m.dataDCs) < 2 {
					return
				}
				placementRule(m, emit, func(t *topicModel) bool { return !t.unclean }, func(t *topicModel, p *partFacts) bool {
					return p.isr > 0 && p.isrDCs() == 1 && p.dcSpan() > 1 && elrOutside(p) == 0
				}, Critical, "the in-sync replicas sit in one DC: losing it leaves no clean leader (min.insync.replicas %d, up to %d replicas per DC)")
			},
		},
		{
			ID: "RTO-004", Title: "server-side failover within the RTO goal", Category: CatRTO,
			Explain: "When a DC with leaders is lost the controller fences its brokers after broker.session.timeout.ms (plus a controller failover when the active controller was there: the new one has no heartbeat history) and elects new leaders. Raised timeouts stretch this; values too close to the heartbeat interval fence brokers spuriously over a slow link. Severity: high when it exceeds the RTO goal, medium for a session timeout under three heartbeats.",
			Fix:     "keep broker.session.timeout.ms and controller.quorum.fetch.timeout.ms at their defaults (9s, 2s) unless measured otherwise",
			Sources: "S8, S8b, S9, S10, S11",
			check:   checkServerFailover,
		},
		{
			ID: "RTO-005", Title: "producer timeouts within the RTO goal", Category: CatRTO,
			Explain: "A lost DC usually blackholes TCP, so requests in flight to its brokers only fail after request.timeout.ms; then the producer refreshes metadata and retries. Client failover is max(request.timeout.ms, server failover) + retry.backoff.max.ms: with defaults about 31 s, dominated by the client, not the brokers. Severity: high when it exceeds the RTO goal.",
			Fix:     "lower request.timeout.ms towards the server-side failover (e.g. 15s) with idempotence on; it should stay above replica.lag.time.max.ms only if duplicates matter without idempotence",
			Sources: "S1, S1c, S3, S39",
			check:   checkProducerTimeouts,
		},
		{
			ID: "RTO-006", Title: "consumer group failover within the RTO goal", Category: CatRTO,
			Explain: "Group members lost with a DC keep their partitions until their session times out; if the group coordinator was there too, the new coordinator restarts every member's timer. Failover is about server failover + session.timeout.ms + heartbeat (consumer protocol: the broker's group.consumer.* settings). Heartbeats above a third of the session timeout risk spurious rebalances. Severity: high over the RTO goal, medium for heartbeat > session/3, info for very short sessions.",
			Fix:     "lower session.timeout.ms (e.g. 15s, heartbeat.interval.ms 3s), or the broker's group.consumer.session.timeout.ms for the consumer protocol",
			Sources: "S2, S3, S15, S22, S39",
			check:   checkConsumerFailover,
		},
		{
			ID: "RTO-007", Title: "consumers fetch from their own DC consistently", Category: CatRTO,
			Explain: "Brokers with replica.selector.class=RackAwareReplicaSelector let consumers with client.rack read from a replica in their DC; without client.rack every read crosses to the leader's DC. client.rack without the broker selector does nothing for fetching. A consumer reading from a follower in a lost DC stalls about request.timeout.ms before returning to the leader. Severity: low when the selector is on but client.rack unset, medium when client.rack is set but the selector is off.",
			Fix:     "set replica.selector.class=org.apache.kafka.common.replica.RackAwareReplicaSelector on brokers and client.rack=<dc> on consumers",
			Sources: "S4, S14, S32",
			check:   checkClientRack,
		},
		{
			ID: "RTO-008", Title: "Kafka Streams standby replicas in another DC", Category: CatRTO,
			Explain: "A stateful Streams task that moves to another instance must restore its state from the changelog unless a caught-up standby exists — minutes to hours for large state. Only rack.aware.assignment.tags (with a client.tag.<key>=<dc> per instance) makes the default assignor put standbys in another DC. Severity: high without standbys for a finite RTO goal, medium with standbys but no DC tags.",
			Fix:     "set num.standby.replicas=1, rack.aware.assignment.tags=dc and client.tag.dc=<dc> on every instance",
			Sources: "S16, S16b, S18",
			check:   checkStandbys,
		},
		{
			ID: "RTO-009", Title: "transactions time out within the RTO goal", Category: CatRTO,
			Explain: "A transactional producer lost with its DC leaves an open transaction that blocks read_committed consumers (the last stable offset) until transaction.timeout.ms passes and the coordinator aborts it. Severity: medium when transaction.timeout.ms exceeds the RTO goal.",
			Fix:     "keep transaction.timeout.ms below the RTO goal (Streams exactly_once_v2 uses 10s)",
			Sources: "S1, S2, S15b, S16",
			check:   checkTransactionTimeout,
		},
		{
			ID: "RTO-010", Title: "replication keeps followers in sync across DCs", Category: CatRTO,
			Explain: "Under-replicated partitions — followers out of the ISR — are one failure away from write unavailability or loss; cross-DC followers fall behind first when the link is slow. With a measured round trip above 20 ms, one replica fetcher per broker and default socket buffers often cannot keep up. Severity: medium for under-replicated partitions (grouped by the DC of the missing replicas), low for a single fetcher on a slow link.",
			Fix:     "raise num.replica.fetchers and replica.socket.receive.buffer.bytes / socket.*.buffer.bytes for high round trips; investigate the lagging DC",
			Sources: "S4, S17",
			check:   checkReplicationHealth,
		},
		{
			ID: "RTO-011", Title: "eligible leader replicas on Kafka 4.x", Category: CatRTO,
			Explain: "With eligible leader replicas (KIP-966) a replica that left the ISR while it was below min.insync.replicas may still be elected cleanly, which shortens outages after a DC loss. It is off in 4.0 and on by default only for clusters created on 4.1 or later; upgraded clusters must enable it. Severity: low when off.",
			Fix:     "kafka-features --bootstrap-server ... upgrade --feature eligible.leader.replicas.version=1",
			Sources: "S20, S12",
			check:   checkELR,
		},
		{
			ID: "RTO-012", Title: "clients can re-bootstrap", Category: CatRTO,
			Explain: "A client that only knows brokers of a lost DC is stuck unless it goes back to its bootstrap list: metadata.recovery.strategy=rebootstrap (default from 4.0; none on 3.8-3.9). Severity: low when none.",
			Fix:     "set metadata.recovery.strategy=rebootstrap",
			Sources: "S3, S3b, S27",
			check:   checkRebootstrap,
		},
		{
			ID: "RTO-014", Title: "client files hold only values their library takes", Category: CatRTO,
			Explain: "A client setting its library refuses (acks=banana, retries=-1, enable.idempotence=maybe) stops the application at start, before any failover matters; the advisor then uses the library's default for that setting, so that no prediction rests on a value no client runs with. A key written twice counts only in its last occurrence, which hides the first from whoever reads the file. Severity: high for a refused value, low for a key written twice.",
			Fix:     "write the value the library documents (the finding says which it takes), once",
			Sources: "ProducerConfig and ConsumerConfig ConfigDef validators (kafka-clients)",
			check: func(m *model, emit func(Finding)) {
				for _, c := range m.in.Clients {
					for _, p := range c.Problems {
						sev := Low
						if p.Refused {
							sev = High
						}
						emit(Finding{Severity: sev, Subject: "file:" + c.File, Message: p.Message, Location: &Location{File: c.File, Line: p.Line},
							Evidence: []Evidence{ev("library", c.Library)}})
					}
				}
			},
		},
		{
			ID: "RTO-013", Title: "leadership moves back when a DC returns", Category: CatRTO,
			Explain: "With auto.leader.rebalance.enable (default) preferred leaders are restored within leader.imbalance.check.interval.seconds after the DC returns: a second, planned leader movement that clients ride through with a short retry. Severity: info.",
			Fix:     "nothing to do; schedule drills with this second movement in mind, or trigger it with kafka-leader-election --election-type preferred",
			Sources: "S4",
			check: func(m *model, emit func(Finding)) {
				if m.brokerKnown && m.brokerBool("auto.leader.rebalance.enable") {
					emit(Finding{Severity: Info, Subject: "broker-config:auto.leader.rebalance.enable",
						Message: "leadership returns to preferred replicas automatically after a DC comes back: expect a second, short failover"})
				}
			},
		},
	}
}

func elrOutside(p *partFacts) int {
	n := 0
	for dc, e := range p.elrByDC {
		if e > 0 && p.isrByDC[dc] == 0 {
			n += int(e)
		}
	}
	return n
}

func checkServerFailover(m *model, emit func(Finding)) {
	srv := m.serverFailover()
	sess := m.brokerInt("broker.session.timeout.ms")
	hb := m.brokerInt("broker.heartbeat.interval.ms")
	evs := []Evidence{ev("broker.session.timeout.ms", sess), ev("controller.quorum.fetch.timeout.ms", m.brokerInt("controller.quorum.fetch.timeout.ms")),
		ev("predicted server-side failover", fmt.Sprintf("%.1fs", srv))}
	if goal := m.goals.RTO.Seconds(); goal > 0 && srv > goal {
		emit(Finding{Severity: High, Subject: "broker-config:failover", Message: fmt.Sprintf("the brokers alone need about %.1fs to fail over when the active controller's DC is lost, over the RTO goal of %gs", srv, goal), Evidence: evs})
	}
	if hb > 0 && sess < 3*hb {
		emit(Finding{Severity: Medium, Subject: "broker-config:broker.session.timeout.ms",
			Message:  fmt.Sprintf("broker.session.timeout.ms %dms is under three heartbeats (%dms): a slow inter-DC link can fence healthy brokers", sess, hb),
			Evidence: evs})
	}
}

func checkProducerTimeouts(m *model, emit func(Finding)) {
	goal := m.goals.RTO.Seconds()
	if goal <= 0 {
		return
	}
	srv := m.serverFailover()
	for _, c := range m.producers() {
		s := c.Producer["request.timeout.ms"]
		req := settingSeconds(c.Producer, "request.timeout.ms", 30)
		bo := settingSeconds(c.Producer, "retry.backoff.max.ms", 1)
		if t := math.Max(req, srv) + bo; t > goal {
			emit(settingFinding(c, "request.timeout.ms", s, High,
				fmt.Sprintf("this producer needs about %.1fs to fail over (request.timeout.ms %gs, %s), over the RTO goal of %gs", t, req, how(c, s), goal)))
		}
	}
}

func checkConsumerFailover(m *model, emit func(Finding)) {
	goal := m.goals.RTO.Seconds()
	srv := m.serverFailover()
	for _, c := range m.consumers() {
		s := c.Consumer["session.timeout.ms"]
		session := settingSeconds(c.Consumer, "session.timeout.ms", 45)
		hb := settingSeconds(c.Consumer, "heartbeat.interval.ms", 3)
		if strings.EqualFold(c.Consumer["group.protocol"].Value, "consumer") {
			session = float64(m.brokerInt("group.consumer.session.timeout.ms")) / 1000
			hb = float64(m.brokerInt("group.consumer.heartbeat.interval.ms")) / 1000
			s = topology.Setting{Value: fmt.Sprint(session * 1000), Default: "broker group.consumer.session.timeout.ms (consumer protocol)"}
		}
		if t := srv + session + hb; goal > 0 && t > goal {
			emit(settingFinding(c, "session.timeout.ms", s, High,
				fmt.Sprintf("group members lost with a DC are replaced after about %.1fs (session %gs, %s), over the RTO goal of %gs", t, session, how(c, s), goal)))
		}
		if hb > session/3 {
			emit(settingFinding(c, "heartbeat.interval.ms", c.Consumer["heartbeat.interval.ms"], Medium,
				fmt.Sprintf("heartbeat.interval.ms %gs is above a third of the session timeout %gs: spurious rebalances", hb, session)))
		}
		if session < 10 {
			emit(settingFinding(c, "session.timeout.ms", s, Info,
				fmt.Sprintf("a %gs session fails over fast but rebalances on short network hiccups between DCs", session)))
		}
	}
}

func checkClientRack(m *model, emit func(Finding)) {
	if !m.brokerKnown {
		return
	}
	sel, _ := m.brokerConfig("replica.selector.class")
	rackAware := strings.Contains(sel, "RackAwareReplicaSelector")
	for _, c := range m.consumers() {
		s := c.Consumer["client.rack"]
		switch {
		case rackAware && s.Value == "":
			emit(settingFinding(c, "client.rack", s, Low, "brokers can serve reads from the consumer's own DC, but client.rack is not set: every read crosses to the leader's DC"))
		case !rackAware && s.Value != "":
			emit(settingFinding(c, "client.rack", s, Medium, fmt.Sprintf("client.rack=%s has no effect on fetching: the brokers' replica.selector.class is not rack-aware", s.Value)))
		}
	}
}

func checkStandbys(m *model, emit func(Finding)) {
	for _, c := range m.in.Clients {
		if c.Kind != topology.Streams {
			continue
		}
		s := c.Streams["num.standby.replicas"]
		n, err := strconv.Atoi(strings.TrimSpace(orDefault(s.Value, "0")))
		if err != nil {
			continue
		}
		switch {
		case n == 0 && m.goals.RTO.Duration > 0:
			emit(settingFinding(c, "num.standby.replicas", s, High, fmt.Sprintf("no standby replicas (%s): state moved after a DC loss is restored from the changelog, which can take far longer than the RTO goal", how(c, s))))
		case n > 0 && c.Streams["rack.aware.assignment.tags"].Value == "":
			emit(settingFinding(c, "rack.aware.assignment.tags", c.Streams["rack.aware.assignment.tags"], Medium,
				"standby replicas are configured without rack.aware.assignment.tags: a standby may sit in the same DC as its active task"))
		}
	}
}

func checkTransactionTimeout(m *model, emit func(Finding)) {
	goal := m.goals.RTO.Seconds()
	if goal <= 0 {
		return
	}
	for _, c := range m.producers() {
		if _, tx := c.Producer["transactional.id"]; !tx && !strings.EqualFold(c.Streams["processing.guarantee"].Value, "exactly_once_v2") {
			continue
		}
		s := c.Producer["transaction.timeout.ms"]
		if t := settingSeconds(c.Producer, "transaction.timeout.ms", 60); t > goal {
			emit(settingFinding(c, "transaction.timeout.ms", s, Medium,
				fmt.Sprintf("an open transaction of a producer lost with its DC blocks read_committed consumers for up to %gs, over the RTO goal of %gs", t, goal)))
		}
	}
}

func checkReplicationHealth(m *model, emit func(Finding)) {
	for _, t := range m.topics {
		byDC := map[int][]int32{}
		for i := range t.parts {
			p := &t.parts[i]
			if p.isr >= p.rf || p.isr == 0 {
				continue
			}
			for dc := range m.dcs {
				if p.rByDC[dc] > p.isrByDC[dc] {
					byDC[dc] = append(byDC[dc], p.id)
				}
			}
		}
		for dc := range m.dcs {
			if ids := byDC[dc]; len(ids) > 0 {
				emit(Finding{Severity: Medium, Subject: topicSubject(t, ids),
					Message:  fmt.Sprintf("under-replicated: replicas in %s are out of the ISR", m.dcs[dc]),
					Evidence: []Evidence{ev("DC of missing replicas", m.dcs[dc]), ev("partitions", len(ids))}})
			}
		}
	}
	if rtt, ok := m.worstRTT(); ok && m.brokerKnown && rtt.Milliseconds() > 20 && m.brokerInt("num.replica.fetchers") <= 1 {
		emit(Finding{Severity: Low, Subject: "broker-config:num.replica.fetchers",
			Message:  fmt.Sprintf("one replica fetcher per broker over a %v round trip: cross-DC followers may fall behind under load", rtt),
			Evidence: []Evidence{ev("num.replica.fetchers", 1), ev("worst rtt", rtt)}})
	}
}

func checkELR(m *model, emit func(Finding)) {
	f := m.in.Snapshot.Features
	if m.major < 4 || f == nil {
		return
	}
	if lvl, ok := f["eligible.leader.replicas.version"]; !ok || lvl < 1 {
		emit(Finding{Severity: Low, Subject: "feature:eligible.leader.replicas.version",
			Message:  "eligible leader replicas are off: replicas that left the ISR cannot be elected cleanly after a DC loss",
			Evidence: []Evidence{ev("eligible.leader.replicas.version", lvl)}})
	}
}

func checkRebootstrap(m *model, emit func(Finding)) {
	for _, c := range m.in.Clients {
		for _, s := range []topology.Settings{c.Producer, c.Consumer} {
			v, ok := s["metadata.recovery.strategy"]
			if ok && strings.EqualFold(v.Value, "none") {
				emit(settingFinding(c, "metadata.recovery.strategy", v, Low,
					fmt.Sprintf("metadata.recovery.strategy=none (%s): a client that only knows brokers of a lost DC cannot find the others", how(c, v))))
				break
			}
		}
	}
}
