package rules

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/stretchctl/stretchctl/topology"
)

func topologyRules() []Rule {
	return []Rule{
		{
			ID: "TOP-001", Title: "broker.rack set on every broker and mapped to a DC", Category: CatTopology,
			Explain: "Replica placement can only be DC-aware when every broker's broker.rack names its DC (or a rack mapped to a DC in topology.racks). KRaft treats a broker without a rack as a rack of its own, so its partitions may land anywhere. Brokers whose rack maps to no listed DC cannot be placed in any scenario. Severity: high for a broker without a usable rack; critical when every broker sits in one DC.",
			Fix:     "set broker.rack=<dc> on every broker (static, needs a rolling restart), then reassign existing partitions with kafka-reassign-partitions (rack-aware by default)",
			Sources: "S7, S13, S17",
			check:   checkRacks,
		},
		{
			ID: "TOP-002", Title: "enough data centers for both RPO 0 and automatic failover", Category: CatTopology,
			Explain: "With brokers in only two DCs one of them holds at least half of every partition's replicas, so min.insync.replicas cannot be both above the replicas of any one DC (no acknowledged loss) and at most the replicas that survive (writes continue): RF >= 2*r_max+1 is impossible. Each topic must choose: RPO 0 with writes blocked after a DC loss, or writes that continue with a loss exposure. Severity: high when the goals ask for RPO 0 and a finite RTO with two data DCs.",
			Fix:     "add a third DC with brokers (RF 3 placed 1/1/1, min.insync.replicas 2), or accept per topic which goal is given up after a DC loss",
			Sources: "S35, S36, kafka-rules.md §2.3",
			check:   checkSites,
		},
		{
			ID: "TOP-003", Title: "brokers balanced across DCs", Category: CatTopology,
			Explain: "Rack-aware placement spreads replicas evenly over racks, so a DC with fewer brokers gets more replicas per broker and becomes the hot spot. Severity: low when counts differ by more than one broker, medium when one DC has more than twice another's.",
			Fix:     "run the same number of brokers in every DC that holds data",
			Sources: "S13, S17",
			check:   checkBalance,
		},
		{
			ID: "TOP-004", Title: "the controller quorum survives the loss of any one DC", Category: CatTopology,
			Explain: "Only the controller changes ISRs and elects leaders. If a DC holds half or more of the KRaft voters, losing it freezes all metadata: no failover anywhere, and even partitions led elsewhere stall once an ISR member is gone. Voters carry no rack, so their DCs come from topology.controllers (or the rack of a combined broker with the same id). Severity: critical for any finite RTO goal.",
			Fix:     "place voters 1/1/1 (or 2/2/1) over three sites, e.g. a tie-breaker controller in a third site; dynamic quorums (kraft.version 1) can move voters with kafka-metadata-quorum add-controller/remove-controller",
			Sources: "S17, S19, S26, S35",
			check:   checkQuorumPlacement,
		},
		{
			ID: "TOP-005", Title: "controller count and mode", Category: CatTopology,
			Explain: "A quorum of 2N+1 voters tolerates N failures. One voter tolerates none; an even count adds no tolerance over the odd count below it. Combined broker+controller nodes are not recommended for critical deployments: a broker's load or failure takes a voter with it. Severity: critical for a single voter, medium for an even count, low for combined nodes.",
			Fix:     "run 3 (or 5) dedicated controllers (process.roles=controller)",
			Sources: "S17, S19",
			check:   checkControllerCount,
		},
		{
			ID: "TOP-006", Title: "quorum healthy now", Category: CatTopology,
			Explain: "The quorum needs a leader, and a voter that is not caught up with the leader does not count toward surviving the next failure. Severity: critical without a leader, high for a voter behind the leader by more than controller.quorum.fetch.timeout.ms.",
			Fix:     "find why the voter lags (network to its DC, disk, GC) before relying on the quorum for failover",
			Sources: "S8, S19",
			check:   checkQuorumHealth,
		},
		{
			ID: "TOP-007", Title: "ZooKeeper ensemble survives the loss of any one DC", Category: CatTopology,
			Explain: "A ZooKeeper-mode cluster (3.x) needs a majority of its ensemble, the same arithmetic as a KRaft quorum; the hosts come from zookeeper.connect, their DCs from topology.zookeeper. ZooKeeper mode is removed in Kafka 4.0. Severity: critical when one DC holds half or more of the ensemble; low as a reminder to migrate.",
			Fix:     "spread the ensemble 1/1/1 (or 2/2/1) over three sites, and plan the migration to KRaft",
			Sources: "S36, S24",
			check:   checkZooKeeper,
		},
		{
			ID: "TOP-008", Title: "inter-DC latency within budget", Category: CatTopology,
			Explain: "Every acks=all write with a follower in another DC and every metadata commit pays at least one inter-DC round trip. The budget (goals.latency, per pair or global) is a team's choice: no Kafka documentation gives a number. Severity: medium above the warn budget, high above the fail budget; not evaluated until a latency matrix is measured.",
			Fix:     "keep the stretched cluster within one metro region, or replicate asynchronously (MirrorMaker 2) between distant sites",
			Sources: "S17, S34, S37",
			check:   checkLatency,
		},
		{
			ID: "TOP-009", Title: "bootstrap lists span DCs", Category: CatTopology,
			Explain: "A client only finds the cluster through its bootstrap servers. If they all sit in one DC, clients that start or re-bootstrap while that DC is down cannot connect at all. Severity: high.",
			Fix:     "list brokers from at least two DCs in bootstrap.servers (or a DNS name resolving across DCs)",
			Sources: "S3, S3b",
			check:   checkBootstrap,
		},
		{
			ID: "TOP-010", Title: "every broker serves now", Category: CatTopology,
			Explain: "A broker the controller fenced (down, frozen or cut off from the controller) or that is not registered at all is no survivor: its replicas left the ISR and count for nothing until it returns, so the cluster is already one failure further down. Every scenario starts from the cluster as it is: a degraded cluster whose next DC loss stops writes fails the check. Severity: high.",
			Fix:     "bring the broker back (or replace it and reassign its replicas) before anything else; find why it stopped heartbeating",
			Sources: "S11, S12, KIP-1073",
			check:   checkServing,
		},
	}
}

func checkServing(m *model, emit func(Finding)) {
	for _, b := range m.in.Snapshot.Brokers {
		if b.Serving() {
			continue
		}
		replicas := 0
		for _, t := range m.topics {
			for _, p := range t.t.Partitions {
				if slices.Contains(p.Replicas, b.ID) {
					replicas++
				}
			}
		}
		where := "in an unknown DC"
		if dc, ok := m.brokerDC[b.ID]; ok && dc >= 0 {
			where = "in " + m.dcs[dc]
		}
		emit(Finding{Severity: High, Subject: fmt.Sprintf("broker:%d", b.ID),
			Message:  fmt.Sprintf("broker %d (%s) is %s: its %d replicas do not serve, and every scenario starts without them", b.ID, where, b.State, replicas),
			Evidence: []Evidence{ev("state", b.State), ev("replicas", replicas)}})
	}
}

func checkRacks(m *model, emit func(Finding)) {
	var noRack, unmapped []string
	for _, b := range m.in.Snapshot.Brokers {
		switch {
		case b.State == topology.BrokerAbsent:
			// Its rack is unknown because it is not there (TOP-010).
		case b.Rack == "":
			noRack = append(noRack, fmt.Sprint(b.ID))
		case m.brokerDC[b.ID] < 0:
			unmapped = append(unmapped, fmt.Sprintf("%d (rack %q)", b.ID, b.Rack))
		}
	}
	if len(noRack) > 0 {
		emit(Finding{Severity: High, Subject: "brokers:" + strings.Join(noRack, ","),
			Message:  fmt.Sprintf("%d brokers have no broker.rack: their replicas are placed without regard to DCs and scenarios cannot count them", len(noRack)),
			Evidence: []Evidence{ev("brokers without rack", strings.Join(noRack, ", "))}})
	}
	if len(unmapped) > 0 {
		emit(Finding{Severity: High, Subject: "brokers:" + strings.Join(unmapped, ","),
			Message:     fmt.Sprintf("the racks of %d brokers map to no DC listed in topology.dcs", len(unmapped)),
			Remediation: "map each rack to its DC under topology.racks in stretch.yaml, or set broker.rack to the DC name",
			Evidence:    []Evidence{ev("brokers", strings.Join(unmapped, ", ")), ev("dcs", strings.Join(m.dcs, ", "))}})
	}
	if len(m.in.Snapshot.Brokers) > 1 && len(m.dataDCs) == 1 {
		emit(Finding{Severity: Critical, Subject: "cluster",
			Message:  fmt.Sprintf("every broker is in %s: losing it loses the whole cluster", m.dcName(m.dataDCs[0])),
			Evidence: []Evidence{ev("DCs with brokers", 1)}})
	}
}

func checkSites(m *model, emit func(Finding)) {
	if len(m.dataDCs) != 2 {
		return
	}
	sev := Medium
	if m.rpoZero() && m.goals.RTO.Duration > 0 {
		sev = High
	}
	emit(Finding{Severity: sev, Subject: "cluster",
		Message:  fmt.Sprintf("brokers are in two DCs (%s, %s): a partition cannot be both safe from acknowledged loss and writable after either DC is lost", m.dcName(m.dataDCs[0]), m.dcName(m.dataDCs[1])),
		Evidence: []Evidence{ev("DCs with brokers", 2), ev("rpo goal", m.goals.RPO), ev("rto goal", m.goals.RTO)}})
}

func checkBalance(m *model, emit func(Finding)) {
	count := map[int]int{}
	for _, dc := range m.brokerDC {
		if dc >= 0 {
			count[dc]++
		}
	}
	if len(count) < 2 {
		return
	}
	lo, hi := 1<<30, 0
	var parts []string
	for _, dc := range m.dataDCs {
		lo, hi = min(lo, count[dc]), max(hi, count[dc])
		parts = append(parts, fmt.Sprintf("%s=%d", m.dcs[dc], count[dc]))
	}
	if hi-lo <= 1 {
		return
	}
	sev := Low
	if hi > 2*lo {
		sev = Medium
	}
	emit(Finding{Severity: sev, Subject: "cluster",
		Message:  fmt.Sprintf("brokers per DC are unbalanced (%s): the smaller DCs carry more replicas per broker", strings.Join(parts, ", ")),
		Evidence: []Evidence{ev("brokers per DC", strings.Join(parts, ", "))}})
}

func checkQuorumPlacement(m *model, emit func(Finding)) {
	if m.in.Snapshot.Mode == "zookeeper" {
		return
	}
	if len(m.voters) == 0 {
		emit(Finding{Severity: High, Subject: "quorum", Unknown: true,
			Message:     "the controller quorum could not be read and topology.controllers is empty: whether it survives a DC loss is unknown",
			Remediation: "list the voters and their DCs under topology.controllers in stretch.yaml"})
		return
	}
	var unknown []string
	per := map[int]int{}
	for i, id := range m.voters {
		if m.voterDC[i] < 0 {
			unknown = append(unknown, fmt.Sprint(id))
		} else {
			per[m.voterDC[i]]++
		}
	}
	layout := voterLayout(m, per)
	if len(unknown) > 0 {
		emit(Finding{Severity: High, Subject: "quorum", Unknown: true,
			Message:     fmt.Sprintf("the DC of voters %s is unknown (controllers carry no rack)", strings.Join(unknown, ", ")),
			Remediation: "map every voter id to its DC under topology.controllers in stretch.yaml",
			Evidence:    []Evidence{ev("voters", len(m.voters)), ev("layout", layout)}})
	}
	sev := Critical
	if m.goals.RTO.Duration <= 0 {
		sev = High
	}
	for x := range m.dcs {
		if ok, known := m.quorumSurvives(x); !ok && known {
			emit(Finding{Severity: sev, Subject: "quorum",
				Message:  fmt.Sprintf("losing %s loses the controller quorum (%d of %d voters there): no leader election and no ISR change anywhere until it returns", m.dcs[x], m.votersIn(x), len(m.voters)),
				Evidence: []Evidence{ev("voters", len(m.voters)), ev("majority", len(m.voters)/2+1), ev("layout", layout)}})
		}
	}
}

func voterLayout(m *model, per map[int]int) string {
	var parts []string
	for i, dc := range m.dcs {
		parts = append(parts, fmt.Sprintf("%s=%d", dc, per[i]))
	}
	return strings.Join(parts, ", ")
}

func checkControllerCount(m *model, emit func(Finding)) {
	v := len(m.voters)
	if v == 0 || m.in.Snapshot.Mode == "zookeeper" {
		return
	}
	switch {
	case v == 1:
		emit(Finding{Severity: Critical, Subject: "quorum", Message: "the quorum has a single voter: losing its DC (or the node) stops all metadata", Evidence: []Evidence{ev("voters", v)}})
	case v%2 == 0:
		emit(Finding{Severity: Medium, Subject: "quorum", Message: fmt.Sprintf("%d voters tolerate no more failures than %d would", v, v-1), Evidence: []Evidence{ev("voters", v)}})
	case v > 3 && m.major == 3:
		emit(Finding{Severity: Low, Subject: "quorum", Message: fmt.Sprintf("%d voters on Kafka 3.x: its documentation advises 3 in critical environments (partial network failures)", v), Evidence: []Evidence{ev("voters", v)}})
	}
	var combined []string
	for _, id := range m.voters {
		if _, ok := m.brokerDC[id]; ok {
			combined = append(combined, fmt.Sprint(id))
		}
	}
	if len(combined) > 0 {
		emit(Finding{Severity: Low, Subject: "quorum",
			Message:  fmt.Sprintf("voters %s also run as brokers (combined mode), not recommended for critical deployments", strings.Join(combined, ", ")),
			Evidence: []Evidence{ev("combined nodes", strings.Join(combined, ", "))}})
	}
}

func checkQuorumHealth(m *model, emit func(Finding)) {
	q := m.in.Snapshot.Quorum
	if q == nil {
		return
	}
	if q.LeaderID < 0 {
		emit(Finding{Severity: Critical, Subject: "quorum", Message: "the controller quorum has no leader now", Remediation: "check the controllers' logs and connectivity between their DCs"})
		return
	}
	var leaderCaught int64 = -1
	for _, v := range q.Voters {
		if v.ID == q.LeaderID {
			leaderCaught = v.LastCaughtUpMs
		}
	}
	limit := int64(m.brokerInt("controller.quorum.fetch.timeout.ms"))
	alive := 0
	for _, v := range q.Voters {
		if !v.Down {
			alive++
		}
	}
	for _, v := range q.Voters {
		if v.Down {
			emit(Finding{Severity: High, Subject: fmt.Sprintf("quorum voter %d", v.ID),
				Message:     fmt.Sprintf("voter %d is down: %d of %d voters are left, the quorum needs %d", v.ID, alive, len(q.Voters), len(q.Voters)/2+1),
				Remediation: "bring the controller back before anything else fails", Evidence: []Evidence{ev("voters", len(q.Voters)), ev("alive", alive)}})
			continue
		}
		if v.ID == q.LeaderID || leaderCaught < 0 {
			continue
		}
		if v.LastCaughtUpMs < 0 || leaderCaught-v.LastCaughtUpMs > limit {
			lag := "never caught up"
			if v.LastCaughtUpMs >= 0 {
				lag = (time.Duration(leaderCaught-v.LastCaughtUpMs) * time.Millisecond).String()
			}
			emit(Finding{Severity: High, Subject: fmt.Sprintf("quorum voter %d", v.ID),
				Message:  fmt.Sprintf("voter %d is not caught up with leader %d (%s behind): one more failure can stop the quorum", v.ID, q.LeaderID, lag),
				Evidence: []Evidence{ev("lag", lag), ev("controller.quorum.fetch.timeout.ms", limit), ev("log end offset", v.LogEndOffset), ev("high watermark", q.HighWatermark)}})
		}
	}
}

func checkZooKeeper(m *model, emit func(Finding)) {
	if m.in.Snapshot.Mode != "zookeeper" {
		return
	}
	emit(Finding{Severity: Low, Subject: "cluster", Message: "the cluster runs in ZooKeeper mode, removed in Kafka 4.0", Remediation: "migrate to KRaft (from 3.x) before upgrading to 4.x"})
	hosts := zkHosts(m.broker["zookeeper.connect"].Value)
	if len(hosts) == 0 {
		emit(Finding{Severity: High, Subject: "zookeeper", Unknown: true, Message: "zookeeper.connect could not be read: whether the ensemble survives a DC loss is unknown"})
		return
	}
	for x := range m.dcs {
		ok, known := m.zkSurvives(x)
		switch {
		case !known:
			emit(Finding{Severity: High, Subject: "zookeeper", Unknown: true,
				Message:     "the DCs of the ZooKeeper hosts are not all mapped: whether the ensemble survives losing " + m.dcs[x] + " is unknown",
				Remediation: "map every host:port of zookeeper.connect to its DC under topology.zookeeper",
				Evidence:    []Evidence{ev("zookeeper.connect", strings.Join(hosts, ","))}})
			return
		case !ok:
			emit(Finding{Severity: Critical, Subject: "zookeeper",
				Message:  fmt.Sprintf("losing %s loses the ZooKeeper majority: the cluster stops", m.dcs[x]),
				Evidence: []Evidence{ev("ensemble", len(hosts))}})
		}
	}
}

func checkLatency(m *model, emit func(Finding)) {
	pairs := make([]string, 0, len(m.in.RTT))
	for pair := range m.in.RTT {
		pairs = append(pairs, pair)
	}
	sort.Strings(pairs)
	for _, pair := range pairs {
		rtt := m.in.RTT[pair]
		a, b, _ := strings.Cut(pair, "/")
		warn, fail := m.goals.LatencyBudget(a, b)
		sev := Info
		switch {
		case fail > 0 && rtt > fail:
			sev = High
		case warn > 0 && rtt > warn:
			sev = Medium
		default:
			continue
		}
		emit(Finding{Severity: sev, Subject: "link:" + pair,
			Message:  fmt.Sprintf("round trip %s is %v, over its budget (warn %v, fail %v): every acks=all write and metadata commit pays it", pair, rtt, warn, fail),
			Evidence: []Evidence{ev("rtt", rtt), ev("warn", warn), ev("fail", fail), ev("measured", m.in.RTTSource)}})
	}
}

func checkBootstrap(m *model, emit func(Finding)) {
	byAddr := map[string]int{}
	for _, b := range m.in.Snapshot.Brokers {
		byAddr[b.Addr()] = m.brokerDC[b.ID]
	}
	check := func(subject string, servers []string, loc *Location) {
		dcs := map[int]bool{}
		for _, s := range servers {
			dc, ok := byAddr[strings.TrimSpace(s)]
			if !ok || dc < 0 {
				return // a name we cannot place (DNS, load balancer): say nothing
			}
			dcs[dc] = true
		}
		if len(dcs) == 1 && len(m.dataDCs) > 1 {
			var dc int
			for d := range dcs {
				dc = d
			}
			emit(Finding{Severity: High, Subject: subject, Location: loc,
				Message:  fmt.Sprintf("every bootstrap server is in %s: a client starting while %s is down cannot reach the cluster", m.dcs[dc], m.dcs[dc]),
				Evidence: []Evidence{ev("bootstrap", strings.Join(servers, ","))}})
		}
	}
	check("config:cluster.bootstrap", m.in.Config.Cluster.Bootstrap, &Location{File: m.in.Config.Path})
	for _, c := range m.in.Clients {
		for _, s := range []topology.Settings{c.Producer, c.Consumer} {
			if v, ok := s["bootstrap.servers"]; ok && v.Explicit() {
				check("file:"+c.File, splitList(v.Value), &Location{File: c.File, Line: v.Line})
				break
			}
		}
	}
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
