package rules

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/stretchctl/stretchctl/topology"
)

func rpoRules() []Rule {
	return []Rule{
		{
			ID: "RPO-001", Title: "producers wait for all in-sync replicas (acks=all)", Category: CatRPO,
			Explain: "With acks=1 the leader acknowledges before any follower has the record; if the leader's DC is lost right after, the record is gone. Defaults differ by library: Java and franz-go default to all, sarama to 1 (WaitForLocal). Severity: critical for acks 0 or 1 with an RPO of 0; otherwise medium (acks=1) or high (acks=0, no error reporting at all).",
			Fix:     "set acks=all (sarama: Producer.RequiredAcks = WaitForAll)",
			Sources: "S1, S25, S39",
			check:   checkAcks,
		},
		{
			ID: "RPO-002", Title: "min.insync.replicas above the replicas any one DC holds", Category: CatRPO,
			Explain: "An acks=all write is acknowledged once it is on every ISR member and on at least min.insync.replicas replicas. If one DC holds min.insync.replicas replicas or more, the ISR may legally shrink to that DC alone (followers elsewhere lagging past replica.lag.time.max.ms) and acknowledged records then live only there. Only min.insync.replicas > r_max guarantees a copy outside every DC. Severity: critical with an RPO of 0, medium otherwise.",
			Fix:     "raise the topic's min.insync.replicas to the largest per-DC replica count + 1 (kafka-configs --alter --entity-type topics --add-config min.insync.replicas=N), and place replicas so that writes survive too (RTO-001)",
			Sources: "S1, S5, S13, kafka-rules.md §2.3",
			check: func(m *model, emit func(Finding)) {
				placementRule(m, emit, userTopics, func(t *topicModel, p *partFacts) bool { return t.m <= p.rMax() && p.dcSpan() > 0 },
					m.sevRPO(Critical, Medium), "acknowledged records may exist in one DC only: min.insync.replicas %d does not exceed the %d replicas one DC holds")
			},
		},
		{
			ID: "RPO-003", Title: "replication factor and spread over DCs", Category: CatRPO,
			Explain: "A partition with one replica, or with every replica in one DC, is lost with that DC. RF 2 forces a choice between min.insync.replicas 2 (no writes after any loss) and 1 (loss exposure). Replicas should span min(#DCs, RF) DCs. Severity: critical for RF 1 or a partition confined to one DC, high for RF 2 with an RPO of 0, medium for a spread narrower than possible.",
			Fix:     "increase the replication factor (kafka-reassign-partitions with a larger replica list) and spread replicas over the DCs",
			Sources: "S5, S17, S18",
			check:   checkReplication,
		},
		{
			ID: "RPO-004", Title: "unclean leader election disabled", Category: CatRPO,
			Explain: "With unclean.leader.election.enable=true a replica outside the ISR may become leader when no in-sync replica survives, and every record it missed is lost — and truncated away on the old replicas when their DC returns. KRaft applies it on fencing and every unclean.leader.election.interval.ms. Severity: critical with an RPO of 0, medium otherwise.",
			Fix:     "set unclean.leader.election.enable=false (topic and broker default); keep unclean election as a manual, audited disaster step",
			Sources: "S4, S6, S11, S12, S30",
			check:   checkUnclean,
		},
		{
			ID: "RPO-005", Title: "idempotent producers", Category: CatRPO,
			Explain: "Failover makes producers retry; without idempotence a retry can duplicate or reorder records. Java disables idempotence silently when it is not set and acks is not all, retries is 0 or more than 5 requests are in flight; sarama has it off by default. Not a loss rule: severity medium.",
			Fix:     "set enable.idempotence=true (sarama: Producer.Idempotent = true with acks=all and Net.MaxOpenRequests = 1)",
			Sources: "S1, S25",
			check:   checkIdempotence,
		},
		{
			ID: "RPO-006", Title: "in-sync replicas currently spread over DCs", Category: CatRPO,
			Explain: "Configuration can be right while the ISR has already shrunk into one DC because cross-DC followers lag. Then acknowledged records written since exist only in that DC, right now. Severity: critical with an RPO of 0 when min.insync.replicas does not exceed that DC's replicas; high otherwise (that DC's loss leaves the partition without a clean leader, see RTO-002).",
			Fix:     "find why the followers in other DCs fell out of the ISR (replication lag, network, num.replica.fetchers) and raise min.insync.replicas (RPO-002)",
			Sources: "S1, S4, S12",
			check:   checkISRConcentration,
		},
		{
			ID: "RPO-007", Title: "default replication factor for auto-created and Streams topics", Category: CatRPO,
			Explain: "Topics created automatically, and Kafka Streams internal topics with replication.factor=-1, take default.replication.factor, which is 1 unless set. Such topics are lost with one broker. Severity: critical at 1, high at 2, when auto-creation is on or a Streams client inherits the default.",
			Fix:     "set default.replication.factor=3 (and min.insync.replicas=2 as the cluster default), or auto.create.topics.enable=false",
			Sources: "S4, S16",
			check:   checkDefaultRF,
		},
		{
			ID: "RPO-008", Title: "internal topics (__consumer_offsets, __transaction_state) survive a DC loss", Category: CatRPO,
			Explain: "Committed offsets and transaction state are topics too: their replication factor was fixed at creation, __consumer_offsets inherits the broker default min.insync.replicas and __transaction_state uses transaction.state.log.min.isr. Lost offsets send consumers to auto.offset.reset; unwritable transaction state stalls exactly-once producers. Severity: high.",
			Fix:     "reassign the internal topic's partitions to RF 3 spread over the DCs, and set its min.insync.replicas above the replicas of any one DC",
			Sources: "S15, S24",
			check:   checkInternalTopics,
		},
		{
			ID: "RPO-009", Title: "Kafka Streams internal topics replicated and placed", Category: CatRPO,
			Explain: "Changelog and repartition topics hold state and in-flight data of Streams applications; their replication.factor comes from the Streams config (-1: broker default) and their min.insync.replicas from topic.min.insync.replicas or the broker default. Severity: high for a replication factor under 3 or a placement that fails RPO-002.",
			Fix:     "set replication.factor=3 and topic.min.insync.replicas=2 in the Streams config (existing topics need a reassignment)",
			Sources: "S16, S18, S31",
			check:   checkStreamsTopics,
		},
		{
			ID: "RPO-010", Title: "Kafka Streams processing.guarantee", Category: CatRPO,
			Explain: "exactly_once and exactly_once_beta were deprecated in 3.0 and removed in 4.0 (the application fails to start); at_least_once loses nothing but may duplicate output after a failover. Severity: high for a removed value on 4.x, medium for a deprecated one, info for at_least_once with an RPO of 0.",
			Fix:     "use processing.guarantee=exactly_once_v2",
			Sources: "S16, S28",
			check:   checkProcessingGuarantee,
		},
		{
			ID: "RPO-011", Title: "consumers do not skip data when offsets are missing", Category: CatRPO,
			Explain: "auto.offset.reset=latest (Java default; librdkafka largest) makes a consumer without a valid committed offset — offsets lost with a DC, or out of range after a truncation — jump to the end and silently skip records. Severity: high with an RPO of 0; none is info (fails loudly).",
			Fix:     "set auto.offset.reset=earliest (reprocess rather than skip)",
			Sources: "S2",
			check:   checkOffsetReset,
		},
		{
			ID: "RPO-012", Title: "delivery.timeout.ms outlasts a failover", Category: CatRPO,
			Explain: "A record not acknowledged within delivery.timeout.ms fails back to the application. If that is shorter than a DC failover as seen by the producer (request.timeout.ms or the server-side failover, plus backoff), records fail during an ordinary failover and applications that log-and-drop lose them. Severity: high.",
			Fix:     "keep delivery.timeout.ms (default 120s) above the predicted producer failover, and never drop records on a send error",
			Sources: "S1, S1b",
			check:   checkDeliveryTimeout,
		},
		{
			ID: "RPO-013", Title: "producer retries", Category: CatRPO,
			Explain: "retries=0 fails every send that meets a leader change and, if idempotence was not set, disables it. A small count (sarama's default is 3) is used up within a failover. Severity: high for 0, medium below 10.",
			Fix:     "leave retries at its maximum and bound sends with delivery.timeout.ms (sarama: raise Producer.Retry.Max)",
			Sources: "S1, S3, S39",
			check:   checkRetries,
		},
		{
			ID: "RPO-015", Title: "one min.insync.replicas for the whole cluster", Category: CatRPO,
			Explain: "min.insync.replicas set per broker differs by broker: when leadership moves the new leader enforces another minimum, and with eligible leader replicas (4.x) broker-level overrides are not allowed. Severity: high when brokers disagree.",
			Fix:     "set min.insync.replicas as a cluster-wide dynamic default or per topic, not per broker",
			Sources: "S20, S21",
			check:   checkMinISRConsistency,
		},
	}
}

func userTopics(t *topicModel) bool     { return !t.internal && !t.streams }
func internalTopics(t *topicModel) bool { return t.internal }
func streamsTopics(t *topicModel) bool  { return t.streams && !t.internal }

// placementRule emits one finding per topic whose partitions meet cond.
// msg is formatted with the topic's min.insync.replicas and the largest
// per-DC replica count among the matching partitions.
func placementRule(m *model, emit func(Finding), filter func(*topicModel) bool, cond func(*topicModel, *partFacts) bool, sev Severity, msg string) {
	for _, t := range m.topics {
		if !filter(t) {
			continue
		}
		var ids []int32
		rmax, rf := 0, 0
		for i := range t.parts {
			if p := &t.parts[i]; cond(t, p) {
				ids = append(ids, p.id)
				rmax, rf = max(rmax, p.rMax()), max(rf, p.rf)
			}
		}
		if len(ids) == 0 {
			continue
		}
		emit(Finding{Severity: sev, Subject: topicSubject(t, ids),
			Message: fmt.Sprintf(msg, t.m, rmax),
			Evidence: []Evidence{ev("min.insync.replicas", fmt.Sprintf("%d (%s)", t.m, t.mSource)), ev("max replicas in one DC", rmax),
				ev("replication factor", rf), ev("partitions", fmt.Sprintf("%d of %d", len(ids), len(t.parts)))}})
	}
}

// clientsOf returns the client files that produce (producer and Streams)
// or consume (consumer and Streams).
func (m *model) producers() []topology.ClientConfig {
	var out []topology.ClientConfig
	for _, c := range m.in.Clients {
		if c.Kind != topology.Consumer {
			out = append(out, c)
		}
	}
	return out
}

func (m *model) consumers() []topology.ClientConfig {
	var out []topology.ClientConfig
	for _, c := range m.in.Clients {
		if c.Kind != topology.Producer {
			out = append(out, c)
		}
	}
	return out
}

// settingFinding fills subject, location and evidence for a finding about
// one setting of a client file.
func settingFinding(c topology.ClientConfig, key string, s topology.Setting, sev Severity, msg string) Finding {
	f := Finding{Severity: sev, Subject: "file:" + c.File, Message: msg, Location: &Location{File: c.File, Line: s.Line}}
	written := s.Key
	if written == "" {
		written = key
	}
	if s.Explicit() {
		f.Evidence = append(f.Evidence, ev(written, fmt.Sprintf("%s (line %d)", s.Value, s.Line)))
	} else {
		f.Evidence = append(f.Evidence, ev(key, fmt.Sprintf("%s (%s)", s.Value, orDefault(s.Default, c.Library+" default"))))
	}
	f.Evidence = append(f.Evidence, ev("library", c.Library))
	return f
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// how says "set on line N" or "the sarama default".
func how(c topology.ClientConfig, s topology.Setting) string {
	if s.Explicit() {
		return fmt.Sprintf("set on line %d", s.Line)
	}
	return "the " + orDefault(s.Default, c.Library+" default")
}

func checkAcks(m *model, emit func(Finding)) {
	for _, c := range m.producers() {
		s := c.Producer["acks"]
		switch normalizeAcks(s.Value) {
		case "1":
			emit(settingFinding(c, "acks", s, m.sevRPO(Critical, Medium),
				fmt.Sprintf("acks=%s (%s): records acknowledged by a leader in a lost DC before any follower copied them are lost", s.Value, how(c, s))))
		case "0":
			emit(settingFinding(c, "acks", s, m.sevRPO(Critical, High),
				fmt.Sprintf("acks=0 (%s): nothing is acknowledged, failed sends are never reported", how(c, s))))
		}
	}
}

func checkReplication(m *model, emit func(Finding)) {
	multiDC := len(m.dataDCs) > 1
	for _, t := range m.topics {
		if !userTopics(t) {
			continue
		}
		var rf1, rf2, confined, narrow []int32
		for i := range t.parts {
			p := &t.parts[i]
			switch {
			case p.rf == 1:
				rf1 = append(rf1, p.id)
			case multiDC && p.dcSpan() == 1 && !p.unknown:
				confined = append(confined, p.id)
			case p.rf == 2:
				rf2 = append(rf2, p.id)
			}
			if multiDC && p.rf > 1 && p.dcSpan() > 1 && p.dcSpan() < min(len(m.dataDCs), p.rf) {
				narrow = append(narrow, p.id)
			}
		}
		if len(rf1) > 0 {
			emit(Finding{Severity: Critical, Subject: topicSubject(t, rf1), Message: "a single replica: the partition is lost with its broker's DC",
				Evidence: []Evidence{ev("replication factor", 1)}})
		}
		if len(confined) > 0 {
			emit(Finding{Severity: Critical, Subject: topicSubject(t, confined),
				Message:     "every replica sits in one DC: losing it makes the partition unavailable, and its data is gone if the DC is destroyed",
				Remediation: "reassign the partitions so that their replicas span the DCs (kafka-reassign-partitions; rack-aware by default)",
				Evidence:    []Evidence{ev("DCs spanned", 1), ev("DCs with brokers", len(m.dataDCs))}})
		}
		if len(rf2) > 0 {
			emit(Finding{Severity: m.sevRPO(High, Medium), Subject: topicSubject(t, rf2),
				Message:  "replication factor 2: min.insync.replicas 2 stops writes after any loss, 1 exposes acknowledged records",
				Evidence: []Evidence{ev("replication factor", 2), ev("min.insync.replicas", t.m)}})
		}
		if len(narrow) > 0 {
			emit(Finding{Severity: Medium, Subject: topicSubject(t, narrow),
				Message:  fmt.Sprintf("replicas span fewer DCs than they could (%d DCs hold brokers)", len(m.dataDCs)),
				Evidence: []Evidence{ev("DCs with brokers", len(m.dataDCs))}})
		}
	}
}

func checkUnclean(m *model, emit func(Finding)) {
	sev := m.sevRPO(Critical, Medium)
	for _, t := range m.topics {
		if !t.unclean || t.t.Name == "__transaction_state" {
			continue // forced false for the transaction log
		}
		emit(Finding{Severity: sev, Subject: topicSubject(t, partIDs(t)),
			Message:  "unclean leader election is enabled: when no in-sync replica survives a DC loss, a lagging replica becomes leader and acknowledged records are lost",
			Evidence: []Evidence{ev("unclean.leader.election.enable", fmt.Sprintf("true (%s)", t.uSource))}})
	}
	if v, ok := m.broker["unclean.leader.election.enable"]; ok && strings.EqualFold(v.Value, "true") {
		emit(Finding{Severity: sev, Subject: "broker-config:unclean.leader.election.enable",
			Message:  "the broker default enables unclean leader election for every topic without an override",
			Evidence: []Evidence{ev("unclean.leader.election.enable", fmt.Sprintf("true (%s)", v.Source))}})
	}
}

func partIDs(t *topicModel) []int32 {
	ids := make([]int32, len(t.parts))
	for i := range t.parts {
		ids[i] = t.parts[i].id
	}
	return ids
}

func checkIdempotence(m *model, emit func(Finding)) {
	for _, c := range m.producers() {
		s := c.Producer["enable.idempotence"]
		if s.Value == "" || strings.EqualFold(s.Value, "true") {
			continue
		}
		emit(settingFinding(c, "enable.idempotence", s, Medium,
			fmt.Sprintf("idempotence is off (%s): retries during a failover can duplicate or reorder records", how(c, s))))
	}
}

func checkISRConcentration(m *model, emit func(Finding)) {
	if len(m.dataDCs) < 2 {
		return
	}
	for _, t := range m.topics {
		byDC := map[int][]int32{}
		exposed := map[int]bool{}
		for i := range t.parts {
			p := &t.parts[i]
			if p.isr == 0 || p.isrDCs() != 1 || p.dcSpan() < 2 {
				continue
			}
			for dc, n := range p.isrByDC {
				if n > 0 {
					byDC[dc] = append(byDC[dc], p.id)
					if t.m <= int(p.rByDC[dc]) {
						exposed[dc] = true
					}
				}
			}
		}
		dcs := make([]int, 0, len(byDC))
		for dc := range byDC {
			dcs = append(dcs, dc)
		}
		sort.Ints(dcs)
		for _, dc := range dcs {
			ids := byDC[dc]
			sev, msg := High, "the in-sync replicas are all in %s right now: losing it leaves no clean leader"
			if exposed[dc] && m.rpoZero() {
				sev, msg = Critical, "the in-sync replicas are all in %s right now: acknowledged records written since exist only there"
			}
			emit(Finding{Severity: sev, Subject: topicSubject(t, ids), Message: fmt.Sprintf(msg, m.dcs[dc]),
				Evidence: []Evidence{ev("ISR DC", m.dcs[dc]), ev("min.insync.replicas", t.m), ev("partitions", fmt.Sprintf("%d of %d", len(ids), len(t.parts)))}})
		}
	}
}

func checkDefaultRF(m *model, emit func(Finding)) {
	rf := m.brokerInt("default.replication.factor")
	if rf >= 3 {
		return
	}
	var why []string
	if m.brokerBool("auto.create.topics.enable") {
		why = append(why, "auto.create.topics.enable=true")
	}
	for _, c := range m.in.Clients {
		if c.Kind == topology.Streams && strings.TrimSpace(c.Streams["replication.factor"].Value) == "-1" {
			why = append(why, c.File+" uses replication.factor=-1")
		}
	}
	if len(why) == 0 {
		return
	}
	sev := High
	if rf <= 1 {
		sev = Critical
	}
	_, read := m.brokerConfig("default.replication.factor")
	src := "read from the brokers"
	if !read {
		src = "Kafka's default, assumed"
	}
	emit(Finding{Severity: sev, Subject: "broker-config:default.replication.factor",
		Message:  fmt.Sprintf("new topics get replication factor %d (%s)", rf, strings.Join(why, "; ")),
		Evidence: []Evidence{ev("default.replication.factor", fmt.Sprintf("%d (%s)", rf, src))}})
}

func checkInternalTopics(m *model, emit func(Finding)) {
	for _, t := range m.topics {
		if t.t.Name != "__consumer_offsets" && t.t.Name != "__transaction_state" {
			continue
		}
		var low, exposed, stuck []int32
		rf := 0
		for i := range t.parts {
			p := &t.parts[i]
			rf = max(rf, p.rf)
			if p.rf < 3 {
				low = append(low, p.id)
			}
			if len(m.dataDCs) > 1 && t.m <= p.rMax() {
				exposed = append(exposed, p.id)
			}
			if len(m.dataDCs) > 1 && p.rf-p.rMax() < t.m {
				stuck = append(stuck, p.id)
			}
		}
		what := "committed offsets"
		if t.t.Name == "__transaction_state" {
			what = "transaction state"
		}
		if len(low) > 0 {
			emit(Finding{Severity: High, Subject: topicSubject(t, low), Message: fmt.Sprintf("%s are kept with fewer than 3 replicas", what),
				Evidence: []Evidence{ev("replication factor", rf)}})
		}
		if len(exposed) > 0 {
			emit(Finding{Severity: m.sevRPO(High, Medium), Subject: topicSubject(t, exposed),
				Message:  fmt.Sprintf("%s may exist in one DC only: min.insync.replicas %d does not exceed one DC's replicas", what, t.m),
				Evidence: []Evidence{ev("min.insync.replicas", fmt.Sprintf("%d (%s)", t.m, t.mSource))}})
		}
		if len(stuck) > 0 {
			emit(Finding{Severity: High, Subject: topicSubject(t, stuck),
				Message:  fmt.Sprintf("%s cannot be written after losing the DC holding most replicas (%d survivors < min.insync.replicas %d)", what, rf-maxRMax(t), t.m),
				Evidence: []Evidence{ev("min.insync.replicas", t.m), ev("replication factor", rf)}})
		}
	}
}

func maxRMax(t *topicModel) int {
	r := 0
	for i := range t.parts {
		r = max(r, t.parts[i].rMax())
	}
	return r
}

func checkStreamsTopics(m *model, emit func(Finding)) {
	for _, c := range m.in.Clients {
		if c.Kind != topology.Streams {
			continue
		}
		s := c.Streams["replication.factor"]
		rf, err := strconv.Atoi(strings.TrimSpace(s.Value))
		if err != nil {
			continue
		}
		src := how(c, s)
		if rf == -1 {
			rf = m.brokerInt("default.replication.factor")
			src += ", -1 means the broker's default.replication.factor"
		}
		if rf < 3 {
			f := settingFinding(c, "replication.factor", s, High,
				fmt.Sprintf("Streams internal topics get replication factor %d (%s)", rf, src))
			f.Remediation = "set replication.factor=3 in the Streams config"
			emit(f)
		}
	}
	placementRule(m, emit, streamsTopics, func(t *topicModel, p *partFacts) bool { return len(m.dataDCs) > 1 && t.m <= p.rMax() },
		m.sevRPO(High, Medium), "Streams state may exist in one DC only: min.insync.replicas %d does not exceed the %d replicas one DC holds")
}

func checkProcessingGuarantee(m *model, emit func(Finding)) {
	for _, c := range m.in.Clients {
		if c.Kind != topology.Streams {
			continue
		}
		s := c.Streams["processing.guarantee"]
		switch strings.ToLower(s.Value) {
		case "exactly_once", "exactly_once_beta":
			sev, msg := Medium, "processing.guarantee=%s is deprecated since Kafka 3.0"
			if m.major >= 4 {
				sev, msg = High, "processing.guarantee=%s was removed in Kafka 4.0: the application does not start"
			}
			emit(settingFinding(c, "processing.guarantee", s, sev, fmt.Sprintf(msg, s.Value)))
		case "at_least_once", "":
			if m.rpoZero() {
				emit(settingFinding(c, "processing.guarantee", s, Info,
					fmt.Sprintf("at_least_once (%s): nothing is lost, but output may be duplicated after a failover", how(c, s))))
			}
		}
	}
}

func checkOffsetReset(m *model, emit func(Finding)) {
	for _, c := range m.consumers() {
		s := c.Consumer["auto.offset.reset"]
		switch strings.ToLower(s.Value) {
		case "latest", "largest":
			if m.rpoZero() {
				emit(settingFinding(c, "auto.offset.reset", s, High,
					fmt.Sprintf("auto.offset.reset=%s (%s): after offsets are lost or truncated the consumer skips to the end and never reads the records in between", s.Value, how(c, s))))
			}
		case "none":
			emit(settingFinding(c, "auto.offset.reset", s, Info, "auto.offset.reset=none: a consumer without a valid offset fails loudly; make sure someone is paged"))
		}
	}
}

// serverFailover is the worst server-side failover with the quorum intact
// and the active controller lost: fetch timeout + election + fencing +
// election of new leaders.
func (m *model) serverFailover() float64 {
	sec := func(n string) float64 { return float64(m.brokerInt(n)) / 1000 }
	rtt, _ := m.worstRTT()
	return sec("controller.quorum.fetch.timeout.ms") + 2*sec("controller.quorum.election.timeout.ms") + sec("broker.session.timeout.ms") + 3*rtt.Seconds() + 0.025
}

func checkDeliveryTimeout(m *model, emit func(Finding)) {
	srv := m.serverFailover()
	for _, c := range m.producers() {
		s := c.Producer["delivery.timeout.ms"]
		dt, err := strconv.ParseFloat(s.Value, 64)
		if err != nil {
			continue
		}
		req := settingSeconds(c.Producer, "request.timeout.ms", 30)
		bo := settingSeconds(c.Producer, "retry.backoff.max.ms", 1)
		need := math.Max(req, srv) + bo
		if dt/1000 < need {
			emit(settingFinding(c, "delivery.timeout.ms", s, High,
				fmt.Sprintf("delivery.timeout.ms %gs (%s) is shorter than a DC failover seen by this producer (about %.1fs): sends fail during an ordinary failover", dt/1000, how(c, s), need)))
		}
	}
}

func checkRetries(m *model, emit func(Finding)) {
	for _, c := range m.producers() {
		s := c.Producer["retries"]
		n, err := strconv.ParseInt(strings.TrimSpace(s.Value), 10, 64)
		if err != nil {
			continue
		}
		switch {
		case n == 0:
			emit(settingFinding(c, "retries", s, High, fmt.Sprintf("retries=0 (%s): every send that meets a leader change fails", how(c, s))))
		case n < 10:
			emit(settingFinding(c, "retries", s, Medium, fmt.Sprintf("retries=%d (%s) can be used up within one failover", n, how(c, s))))
		}
	}
}

func checkMinISRConsistency(m *model, emit func(Finding)) {
	values := map[string][]string{}
	for _, b := range m.in.Snapshot.Brokers {
		if v, ok := b.Configs["min.insync.replicas"]; ok {
			values[v.Value] = append(values[v.Value], fmt.Sprint(b.ID))
		}
	}
	if len(values) < 2 {
		return
	}
	var parts []string
	for v, ids := range values {
		parts = append(parts, fmt.Sprintf("%s on brokers %s", v, strings.Join(ids, ",")))
	}
	sort.Strings(parts)
	emit(Finding{Severity: High, Subject: "broker-config:min.insync.replicas",
		Message:  "brokers disagree on min.insync.replicas: a topic without an override gets another minimum whenever leadership moves",
		Evidence: []Evidence{ev("values", strings.Join(parts, "; "))}})
}
