package rules

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchctl/stretchctl/clients"
	"github.com/stretchctl/stretchctl/config"
	"github.com/stretchctl/stretchctl/internal/golden"
	"github.com/stretchctl/stretchctl/topology"
)

// The fixtures under the module's testdata/examples are written from these compact
// specs by `go test ./rules -update`; the tests read the files, so a
// fixture can also be edited by hand and kept.
type exTopic struct {
	name    string
	m       int
	unclean bool
	// parts lists each partition's replicas; the first is the leader.
	parts [][]int32
	// isr overrides the ISR of partitions by index (default: all replicas).
	isr map[int][]int32
	// elr sets eligible leader replicas (KIP-966) of partitions by index.
	elr map[int][]int32
	// offline lists partitions (by index) whose leader is -1.
	offline []int
}

type example struct {
	dir     string
	doc     string
	dcs     []string
	racks   map[int32]string // broker id -> broker.rack
	voters  map[int32]string // voter id -> DC
	leader  int32            // active controller
	topics  []exTopic
	clients []topology.ClientConfig
	rpo     int64
	rto     string
	broker  map[string]string // broker config overrides
	mode    string
	lagging []int32 // voters not caught up
	fenced  []int32 // brokers the controller fenced
	// controller sets configs read from the controllers themselves.
	controller map[string]string
}

var brokerBaseline = map[string]string{
	"auto.create.topics.enable":          "false",
	"default.replication.factor":         "3",
	"min.insync.replicas":                "2",
	"unclean.leader.election.enable":     "false",
	"broker.session.timeout.ms":          "9000",
	"broker.heartbeat.interval.ms":       "2000",
	"controller.quorum.fetch.timeout.ms": "2000",
	"auto.leader.rebalance.enable":       "false",
	"replica.selector.class":             "",
	"num.replica.fetchers":               "1",
}

func stripe(n int, a, b []int32) [][]int32 {
	var out [][]int32
	for i := 0; i < n; i++ {
		if i%2 == 0 {
			out = append(out, a)
		} else {
			out = append(out, b)
		}
	}
	return out
}

func repeat(n int, r []int32) [][]int32 {
	out := make([][]int32, n)
	for i := range out {
		// Rotate leaders over the replicas like Kafka's preferred leaders.
		rot := append(append([]int32{}, r[i%len(r):]...), r[:i%len(r)]...)
		out[i] = rot
	}
	return out
}

var dcs3 = []string{"dc-a", "dc-b", "dc-c"}
var voters3 = map[int32]string{101: "dc-a", 102: "dc-b", 103: "dc-c"}

// examples are the twelve worked examples of kafka-rules.md §2.4, plus
// fixtures that make the remaining rules fire and stay silent.
func examples() []example {
	twoDC := map[int32]string{1: "dc-a", 2: "dc-a", 3: "dc-b", 4: "dc-b"}
	threeDC := map[int32]string{1: "dc-a", 2: "dc-b", 3: "dc-c"}
	sixDC := map[int32]string{1: "dc-a", 2: "dc-a", 3: "dc-b", 4: "dc-b", 5: "dc-c", 6: "dc-c"}
	return []example{
		{dir: "01-2dc-2plus1-rf3-m2", doc: "2 DC, 2+1 (dc-a has 2), RF 3, min.insync 2", dcs: dcs3, racks: map[int32]string{1: "dc-a", 2: "dc-a", 3: "dc-b"},
			voters: voters3, leader: 102, topics: []exTopic{{name: "orders", m: 2, parts: [][]int32{{1, 2, 3}}}}},
		{dir: "02-2dc-striped-rf3-m2", doc: "2 DC, RF 3 striped over many partitions, min.insync 2", dcs: dcs3, racks: twoDC,
			voters: voters3, leader: 102, topics: []exTopic{{name: "orders", m: 2, parts: stripe(10, []int32{1, 3, 2}, []int32{3, 1, 4})}}},
		{dir: "03-2dc-2plus2-rf4-m2", doc: "2 DC, 2+2, RF 4, min.insync 2", dcs: dcs3, racks: twoDC,
			voters: voters3, leader: 103, topics: []exTopic{{name: "orders", m: 2, parts: repeat(4, []int32{1, 3, 2, 4})}}},
		{dir: "04-2dc-2plus2-rf4-m3", doc: "2 DC, 2+2, RF 4, min.insync 3", dcs: dcs3, racks: twoDC,
			voters: voters3, leader: 103, topics: []exTopic{{name: "orders", m: 3, parts: repeat(4, []int32{1, 3, 2, 4})}}},
		{dir: "05-3dc-rf3-m2", doc: "3 DC, 1/1/1, RF 3, min.insync 2", dcs: dcs3, racks: threeDC,
			voters: voters3, leader: 101, topics: []exTopic{{name: "orders", m: 2, parts: repeat(6, []int32{1, 2, 3})}}},
		{dir: "06-3dc-rf3-m1", doc: "3 DC, 1/1/1, RF 3, min.insync 1", dcs: dcs3, racks: threeDC,
			voters: voters3, leader: 101, topics: []exTopic{{name: "orders", m: 1, parts: repeat(6, []int32{1, 2, 3})}}},
		{dir: "07-3dc-rf3-m3", doc: "3 DC, 1/1/1, RF 3, min.insync 3", dcs: dcs3, racks: threeDC,
			voters: voters3, leader: 101, topics: []exTopic{{name: "orders", m: 3, parts: repeat(6, []int32{1, 2, 3})}}},
		{dir: "08-3dc-rf6-m3", doc: "3 DC, 2/2/2, RF 6, min.insync 3", dcs: dcs3, racks: sixDC,
			voters: voters3, leader: 101, topics: []exTopic{{name: "orders", m: 3, parts: repeat(6, []int32{1, 3, 5, 2, 4, 6})}}},
		{dir: "09-2dc-2plus1-unclean", doc: "2 DC, 2+1, RF 3, min.insync 2, unclean election on; ISR shrank to dc-a", dcs: dcs3, racks: map[int32]string{1: "dc-a", 2: "dc-a", 3: "dc-b"},
			voters: voters3, leader: 102, topics: []exTopic{{name: "orders", m: 2, unclean: true, parts: [][]int32{{1, 2, 3}}, isr: map[int][]int32{0: {1, 2}}}}},
		{dir: "10-3dc-rf3-m2-acks1", doc: "3 DC, 1/1/1, RF 3, min.insync 2, an acks=1 producer", dcs: dcs3, racks: threeDC,
			voters: voters3, leader: 101, topics: []exTopic{{name: "orders", m: 2, parts: repeat(6, []int32{1, 2, 3})}},
			clients: []topology.ClientConfig{{File: "producer.properties", Kind: topology.Producer, Library: "java",
				Producer: topology.Settings{"acks": {Value: "1", Key: "acks", Line: 3}, "enable.idempotence": {Value: "false", Default: "java default (disabled because acks=1)"}, "retries": {Value: "2147483647", Default: "java default"}, "delivery.timeout.ms": {Value: "120000", Default: "java default"}, "request.timeout.ms": {Value: "30000", Default: "java default"}}}}},
		{dir: "11-3dc-all-in-one-dc", doc: "3 DC, but a topic's replicas all in dc-a", dcs: dcs3, racks: sixDC,
			voters: voters3, leader: 103, topics: []exTopic{{name: "orders", m: 2, parts: repeat(3, []int32{1, 2})}, {name: "payments", m: 2, parts: repeat(3, []int32{1, 3, 5})}}},
		{dir: "12-2dc-quorum-2plus1", doc: "2 DC, 2+1, quorum 2+1 with two voters in dc-a", dcs: []string{"dc-a", "dc-b"}, racks: twoDC,
			voters: map[int32]string{101: "dc-a", 102: "dc-a", 103: "dc-b"}, leader: 101,
			topics: []exTopic{{name: "orders", m: 2, parts: [][]int32{{1, 3, 2}, {3, 1, 4}, {4, 3, 2}}}}},
		{dir: "20-well-configured", doc: "3 DC, RF 3 1/1/1, min.insync 2, good clients", dcs: dcs3, racks: threeDC,
			voters: voters3, leader: 101, rto: "60s",
			topics:  []exTopic{{name: "orders", m: 2, parts: repeat(6, []int32{1, 2, 3})}, {name: "__consumer_offsets", m: 2, parts: repeat(3, []int32{1, 2, 3})}},
			clients: []topology.ClientConfig{goodProducer(), goodProducerIn("dc-b"), goodConsumer()}},
		{dir: "21-misconfigured", doc: "one cluster with most things wrong", dcs: dcs3,
			racks:  map[int32]string{1: "dc-a", 2: "dc-a", 3: "dc-a", 4: "dc-b", 5: ""},
			voters: map[int32]string{1: "dc-a", 4: "dc-b"}, leader: 1, lagging: []int32{4}, rto: "10s",
			broker: map[string]string{"auto.create.topics.enable": "true", "default.replication.factor": "1", "unclean.leader.election.enable": "true",
				"broker.session.timeout.ms": "4000", "replica.selector.class": "org.apache.kafka.common.replica.RackAwareReplicaSelector", "auto.leader.rebalance.enable": "true"},
			topics: []exTopic{
				{name: "orders", m: 1, parts: [][]int32{{1, 4}, {4, 1}, {1}}, isr: map[int][]int32{1: {4}}},
				{name: "__consumer_offsets", m: 1, parts: [][]int32{{1, 2}}},
				{name: "app-store-changelog", m: 1, parts: [][]int32{{1, 4}}},
			},
			clients: []topology.ClientConfig{badProducer(), badConsumer(), badStreams()}},
		{dir: "22-zookeeper", doc: "a 3.9 ZooKeeper-mode cluster with the ensemble 2+1", dcs: dcs3, racks: threeDC, mode: "zookeeper",
			broker: map[string]string{"zookeeper.connect": "zk1:2181,zk2:2181,zk3:2181/kafka"},
			topics: []exTopic{{name: "orders", m: 2, parts: repeat(3, []int32{1, 2, 3})}}},
		// The truth fixtures: one per fact of the scenario model
		// (TestScenarioTruth says what each must give, and why).
		{dir: "30-fenced-broker", doc: "3 DC, RF 3 1/1/1, min.insync 2, broker 3 in dc-c fenced: its replicas left the ISR", dcs: dcs3, racks: threeDC,
			voters: voters3, leader: 101, fenced: []int32{3},
			topics: []exTopic{{name: "orders", m: 2, parts: repeat(3, []int32{1, 2, 3}), isr: map[int][]int32{0: {1, 2}, 1: {2, 1}, 2: {1, 2}}}}},
		{dir: "31-offline-partition", doc: "3 DC, RF 3 1/1/1, min.insync 2, partition 0 already leaderless", dcs: dcs3, racks: threeDC,
			voters: voters3, leader: 101,
			topics: []exTopic{{name: "orders", m: 2, parts: repeat(3, []int32{1, 2, 3}), isr: map[int][]int32{0: {1}}, offline: []int{0}}}},
		{dir: "32-elr-clean-leader", doc: "3 DC, RF 3 1/1/1, min.insync 2; partition 0's ISR shrank to dc-a with dc-b's replica eligible (ELR)", dcs: dcs3, racks: threeDC,
			voters: voters3, leader: 102,
			topics: []exTopic{{name: "orders", m: 2, parts: [][]int32{{1, 2, 3}}, isr: map[int][]int32{0: {1}}, elr: map[int][]int32{0: {2}}}}},
		{dir: "33-2dc-isolate-majority", doc: "2 DC, voters 2+1 in dc-a; RF 2 led in dc-b, min.insync 1; an acks=1 producer in dc-b", dcs: []string{"dc-a", "dc-b"},
			racks: twoDC, voters: map[int32]string{101: "dc-a", 102: "dc-a", 103: "dc-b"}, leader: 101,
			topics:  []exTopic{{name: "orders", m: 1, parts: [][]int32{{3, 1}, {4, 2}}}},
			clients: []topology.ClientConfig{weakProducerIn("dc-b")}},
		{dir: "34-minority-keeps-acking", doc: "3 DC; a topic RF 2 both in dc-a (min.insync 2), an acks=all producer inside dc-a", dcs: dcs3, racks: sixDC,
			voters: voters3, leader: 103,
			topics:  []exTopic{{name: "local", m: 2, parts: [][]int32{{1, 2}}}},
			clients: []topology.ClientConfig{libraryProducer("java", "dc-a", nil)}},
		{dir: "35-librdkafka-timeouts", doc: "3 DC, RF 3 1/1/1, min.insync 2, every leader in dc-a; a librdkafka producer with its defaults", dcs: dcs3, racks: threeDC,
			voters: voters3, leader: 102,
			topics:  []exTopic{{name: "orders", m: 2, parts: [][]int32{{1, 2, 3}, {1, 3, 2}}}},
			clients: []topology.ClientConfig{libraryProducer("librdkafka", "", nil)}},
		{dir: "35b-librdkafka-socket-timeout", doc: "as 35, with socket.timeout.ms=10000", dcs: dcs3, racks: threeDC,
			voters: voters3, leader: 102,
			topics:  []exTopic{{name: "orders", m: 2, parts: [][]int32{{1, 2, 3}, {1, 3, 2}}}},
			clients: []topology.ClientConfig{libraryProducer("librdkafka", "", map[string]string{"socket.timeout.ms": "10000"})}},
		{dir: "36-follower-only-dc", doc: "3 DC, RF 3 m2, no leader in dc-c; a consumer group whose coordinator is in dc-a, members in dc-b", dcs: dcs3, racks: threeDC,
			voters: voters3, leader: 101,
			topics:  []exTopic{{name: "orders", m: 2, parts: [][]int32{{1, 2, 3}, {2, 1, 3}}}, {name: "__consumer_offsets", m: 2, parts: repeat(3, []int32{1, 2, 3})}},
			clients: []topology.ClientConfig{libraryProducer("java", "", nil), groupConsumer("dc-b", "risk")}},
		{dir: "38-controller-configs", doc: "3 DC, RF 3 1/1/1, min.insync 2; the controllers run broker.session.timeout.ms 6000 (the brokers say 9000)", dcs: dcs3, racks: threeDC,
			voters: voters3, leader: 101, controller: map[string]string{"broker.session.timeout.ms": "6000", "controller.quorum.fetch.timeout.ms": "2000", "controller.quorum.election.timeout.ms": "1000"},
			topics: []exTopic{{name: "orders", m: 2, parts: repeat(3, []int32{1, 2, 3})}}},
		{dir: "37-java-2.8-defaults", doc: "3 DC, RF 3 1/1/1, min.insync 2; a kafka-clients 2.8.1 producer with its defaults (acks=1)", dcs: dcs3, racks: threeDC,
			voters: voters3, leader: 102,
			topics:  []exTopic{{name: "orders", m: 2, parts: repeat(3, []int32{1, 2, 3})}},
			clients: []topology.ClientConfig{versionProducer("2.8.1")}},
	}
}

// weakProducerIn is an acks=1 producer without idempotence in dc.
func weakProducerIn(dc string) topology.ClientConfig {
	return topology.ClientConfig{File: "clients/acks1.properties", Kind: topology.Producer, Library: "java", DC: dc,
		Producer: topology.Settings{"acks": {Value: "1", Key: "acks", Line: 1}, "enable.idempotence": {Value: "false", Key: "enable.idempotence", Line: 2},
			"request.timeout.ms": {Value: "30000", Default: "java default"}, "retry.backoff.ms": {Value: "100", Default: "java default"}}}
}

// libraryProducer is a producer file of lib with that library's defaults
// (clients.Defaults) and the given settings.
func libraryProducer(lib, dc string, set map[string]string) topology.ClientConfig {
	s := clients.Defaults(lib, topology.Producer, "4.3.1")
	line := 1
	for k, v := range set {
		s[k] = topology.Setting{Value: v, Key: k, Line: line}
		line++
	}
	return topology.ClientConfig{File: "clients/" + lib + "-producer.properties", Kind: topology.Producer, Library: lib, DC: dc, Producer: s}
}

// versionProducer is a Java producer of kafka-clients version v with its
// defaults.
func versionProducer(v string) topology.ClientConfig {
	c := libraryProducer("java", "", nil)
	c.Producer = clients.Defaults("java", topology.Producer, v)
	c.File = "clients/legacy-" + v + ".properties"
	return c
}

// groupConsumer is a Java consumer of group id in dc.
func groupConsumer(dc, group string) topology.ClientConfig {
	return topology.ClientConfig{File: "clients/" + group + "-consumer.properties", Kind: topology.Consumer, Library: "java", DC: dc,
		Consumer: topology.Settings{"group.id": {Value: group, Key: "group.id", Line: 1}, "session.timeout.ms": {Value: "45000", Default: "java default"},
			"heartbeat.interval.ms": {Value: "3000", Default: "java default"}, "group.protocol": {Value: "classic", Default: "java default"}}}
}

func goodProducer() topology.ClientConfig {
	return topology.ClientConfig{File: "clients/good-producer.properties", Kind: topology.Producer, Library: "java", DC: "dc-a",
		Producer: topology.Settings{"acks": {Value: "all", Default: "java 4.x default"}, "enable.idempotence": {Value: "true", Default: "java 4.x default"},
			"retries": {Value: "2147483647", Default: "java default"}, "delivery.timeout.ms": {Value: "120000", Default: "java default"},
			"request.timeout.ms": {Value: "15000", Key: "request.timeout.ms", Line: 2}, "retry.backoff.max.ms": {Value: "1000", Default: "java default"},
			"bootstrap.servers": {Value: "b1:9092,b2:9092", Key: "bootstrap.servers", Line: 1}, "metadata.recovery.strategy": {Value: "rebootstrap", Default: "java 4.x default"}}}
}

// goodProducerIn is the same application running in another DC: with
// producers in two DCs, cutting one off leaves the other writing.
func goodProducerIn(dc string) topology.ClientConfig {
	c := goodProducer()
	c.File, c.DC = "clients/good-producer-"+dc+".properties", dc
	return c
}

func goodConsumer() topology.ClientConfig {
	return topology.ClientConfig{File: "clients/good-consumer.properties", Kind: topology.Consumer, Library: "java", DC: "dc-b",
		Consumer: topology.Settings{"auto.offset.reset": {Value: "earliest", Key: "auto.offset.reset", Line: 2}, "session.timeout.ms": {Value: "15000", Key: "session.timeout.ms", Line: 3},
			"heartbeat.interval.ms": {Value: "3000", Default: "java default"}, "group.protocol": {Value: "classic", Default: "java default"}}}
}

func badProducer() topology.ClientConfig {
	return topology.ClientConfig{File: "clients/legacy.properties", Kind: topology.Producer, Library: "sarama", DC: "dc-a",
		Producer: topology.Settings{"acks": {Value: "1", Default: "sarama default (Producer.RequiredAcks = WaitForLocal)"}, "enable.idempotence": {Value: "false", Default: "sarama default"},
			"retries": {Value: "3", Default: "sarama default (Producer.Retry.Max)"}, "delivery.timeout.ms": {Value: "5000", Key: "delivery.timeout.ms", Line: 4},
			"request.timeout.ms": {Value: "30000", Default: "sarama default (Net.ReadTimeout)"}, "bootstrap.servers": {Value: "b1:9092,b2:9092", Key: "bootstrap.servers", Line: 1},
			"metadata.recovery.strategy": {Value: "none", Key: "metadata.recovery.strategy", Line: 5}, "transactional.id": {Value: "tx-1", Key: "transactional.id", Line: 6},
			"transaction.timeout.ms": {Value: "60000", Default: "java default"}},
		// retries=-1 on line 7: refused, the default used in its place;
		// delivery.timeout.ms written twice.
		Problems: []topology.SettingProblem{
			{Key: "retries", Line: 7, Refused: true, Message: `retries=-1: the client takes 0 or more: the application would not start (the library's default is used in its place)`},
			{Key: "delivery.timeout.ms", Line: 4, Message: "delivery.timeout.ms is also written on line 3: only this last one counts"}}}
}

func badConsumer() topology.ClientConfig {
	return topology.ClientConfig{File: "clients/consumer.properties", Kind: topology.Consumer, Library: "java",
		Consumer: topology.Settings{"auto.offset.reset": {Value: "latest", Default: "java default"}, "session.timeout.ms": {Value: "45000", Default: "java default"},
			"heartbeat.interval.ms": {Value: "20000", Key: "heartbeat.interval.ms", Line: 2}, "client.rack": {Value: "", Default: "java default"}}}
}

func badStreams() topology.ClientConfig {
	return topology.ClientConfig{File: "clients/streams.properties", Kind: topology.Streams, Library: "java",
		Producer: topology.Settings{"acks": {Value: "all", Default: "java default"}, "enable.idempotence": {Value: "true", Default: "java default"}},
		Consumer: topology.Settings{"auto.offset.reset": {Value: "earliest", Default: "streams default"}, "session.timeout.ms": {Value: "45000", Default: "java default"}},
		Streams: topology.Settings{"replication.factor": {Value: "-1", Default: "streams default"}, "num.standby.replicas": {Value: "0", Default: "streams default"},
			"processing.guarantee": {Value: "exactly_once", Key: "processing.guarantee", Line: 3}}}
}

func (e example) build() (*topology.Snapshot, *config.Config) {
	snap := &topology.Snapshot{SchemaVersion: topology.SchemaVersion, TakenAt: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC),
		ClusterID: "ex-" + e.dir[:2], KafkaVersion: "4.3.1", Mode: "kraft", ControllerID: -1}
	if e.mode != "" {
		snap.Mode, snap.KafkaVersion = e.mode, "3.9.1"
	}
	ids := make([]int32, 0, len(e.racks))
	for id := range e.racks {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, id := range ids {
		cfgs := topology.Configs{}
		for k, v := range brokerBaseline {
			cfgs[k] = topology.ConfigValue{Value: v, Source: topology.SourceDefault}
		}
		for k, v := range e.broker {
			cfgs[k] = topology.ConfigValue{Value: v, Source: topology.SourceStaticBroker}
		}
		if e.dir == "21-misconfigured" && id == 4 {
			cfgs["min.insync.replicas"] = topology.ConfigValue{Value: "1", Source: topology.SourceDynamicBroker}
		}
		if e.racks[id] != "" {
			cfgs["broker.rack"] = topology.ConfigValue{Value: e.racks[id], Source: topology.SourceStaticBroker}
		}
		state := topology.BrokerUp
		if slices.Contains(e.fenced, id) {
			state = topology.BrokerFenced
		}
		snap.Brokers = append(snap.Brokers, topology.Broker{ID: id, Host: fmt.Sprintf("b%d", id), Port: 9092, Rack: e.racks[id], Configs: cfgs, State: state})
	}
	if snap.Mode == "kraft" {
		q := &topology.Quorum{LeaderID: e.leader, LeaderEpoch: 7, HighWatermark: 1000}
		vids := make([]int32, 0, len(e.voters))
		for id := range e.voters {
			vids = append(vids, id)
		}
		sort.Slice(vids, func(i, j int) bool { return vids[i] < vids[j] })
		for _, id := range vids {
			r := topology.QuorumReplica{ID: id, LogEndOffset: 1000, LastFetchMs: 1795000000000, LastCaughtUpMs: 1795000000000}
			for _, l := range e.lagging {
				if l == id {
					r.LogEndOffset, r.LastCaughtUpMs = 400, 1794999990000
				}
			}
			q.Voters = append(q.Voters, r)
		}
		snap.Quorum = q
		if e.controller != nil {
			snap.ControllerConfigs = map[string]topology.Configs{}
			for _, id := range vids {
				cfgs := topology.Configs{}
				for k, v := range e.controller {
					cfgs[k] = topology.ConfigValue{Value: v, Source: topology.SourceStaticBroker}
				}
				snap.ControllerConfigs[fmt.Sprint(id)] = cfgs
			}
		}
		snap.Features = map[string]int16{"metadata.version": 27, "eligible.leader.replicas.version": 1}
		if e.dir == "21-misconfigured" {
			snap.Features["eligible.leader.replicas.version"] = 0
		}
	}
	for _, t := range e.topics {
		top := topology.Topic{Name: t.name, Internal: strings.HasPrefix(t.name, "__"), Configs: topology.Configs{
			"min.insync.replicas":            {Value: fmt.Sprint(t.m), Source: topology.SourceTopic},
			"unclean.leader.election.enable": {Value: fmt.Sprint(t.unclean), Source: topology.SourceTopic},
		}}
		for i, r := range t.parts {
			isr := r
			if v, ok := t.isr[i]; ok {
				isr = v
			}
			leader := r[0]
			if len(isr) > 0 && !contains(isr, leader) {
				leader = isr[0]
			}
			if slices.Contains(t.offline, i) {
				leader = -1
			}
			top.Partitions = append(top.Partitions, topology.Partition{ID: int32(i), Leader: leader, Replicas: r, ISR: isr, ELR: t.elr[i]})
		}
		snap.Topics = append(snap.Topics, top)
	}
	cfg := config.Default()
	cfg.Path = "stretch.yaml"
	for _, b := range snap.Brokers {
		cfg.Cluster.Bootstrap = append(cfg.Cluster.Bootstrap, b.Addr())
	}
	cfg.Topology.DCs = e.dcs
	if e.voters != nil {
		cfg.Topology.Controllers = map[string]string{}
		for id, dc := range e.voters {
			cfg.Topology.Controllers[strconv.Itoa(int(id))] = dc
		}
	}
	if e.mode == "zookeeper" {
		cfg.Topology.ZooKeeper = map[string]string{"zk1:2181": "dc-a", "zk2:2181": "dc-a", "zk3:2181": "dc-b"}
	}
	cfg.Goals.RPO = e.rpo
	if e.rto != "" {
		d, _ := time.ParseDuration(e.rto)
		cfg.Goals.RTO = config.Duration{Duration: d}
	}
	return snap, cfg
}

func contains(s []int32, v int32) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// loadExample reads a fixture directory.
func loadExample(t *testing.T, dir string) *Input {
	t.Helper()
	snapB, err := os.ReadFile(filepath.Join(dir, "snapshot.json"))
	if err != nil {
		t.Fatal(err)
	}
	var snap topology.Snapshot
	if err := json.Unmarshal(snapB, &snap); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(filepath.Join(dir, "stretch.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Path = "stretch.yaml"
	var clients []topology.ClientConfig
	if b, err := os.ReadFile(filepath.Join(dir, "clients.json")); err == nil {
		if err := json.Unmarshal(b, &clients); err != nil {
			t.Fatal(err)
		}
	}
	in := &Input{Snapshot: &snap, Config: cfg, Clients: clients, FailOn: High}
	if b, err := os.ReadFile(filepath.Join(dir, "rtt.json")); err == nil {
		var rtt map[string]string
		if err := json.Unmarshal(b, &rtt); err != nil {
			t.Fatal(err)
		}
		in.RTT = map[string]time.Duration{}
		for k, v := range rtt {
			in.RTT[k], _ = time.ParseDuration(v)
		}
		in.RTTSource = "rtt.json fixture"
	}
	return in
}

func writeFixture(t *testing.T, e example) {
	dir := golden.Path("examples", e.dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	snap, cfg := e.build()
	b, _ := json.MarshalIndent(snap, "", "  ")
	must(t, os.WriteFile(filepath.Join(dir, "snapshot.json"), append(b, '\n'), 0o644))
	y, err := cfg.Marshal()
	must(t, err)
	must(t, os.WriteFile(filepath.Join(dir, "stretch.yaml"), append([]byte("# "+e.doc+"\n"), y...), 0o644))
	if len(e.clients) > 0 {
		b, _ := json.MarshalIndent(e.clients, "", "  ")
		must(t, os.WriteFile(filepath.Join(dir, "clients.json"), append(b, '\n'), 0o644))
	}
	if e.dir == "21-misconfigured" {
		must(t, os.WriteFile(filepath.Join(dir, "rtt.json"), []byte(`{"dc-a/dc-b": "120ms", "dc-a/dc-c": "60ms", "dc-b/dc-c": "8ms"}`+"\n"), 0o644))
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestExamplesGolden(t *testing.T) {
	for _, e := range examples() {
		t.Run(e.dir, func(t *testing.T) {
			if golden.Update() {
				writeFixture(t, e)
			}
			dir := golden.Path("examples", e.dir)
			rep, err := Evaluate(loadExample(t, dir))
			if err != nil {
				t.Fatal(err)
			}
			got, _ := rep.JSON()
			golden.AssertFile(t, filepath.Join(dir, "report.json.golden"), append(got, '\n'))
		})
	}
}

// TestWorkedExamples checks the scenario outcomes against the table of
// kafka-rules.md §2.4 (partition counts per lost DC).
func TestWorkedExamples(t *testing.T) {
	type want struct {
		scenario       string
		write, read    int
		loss           int
		quorumSurvives bool
		rtoPredicted   bool // false: writes do not resume on their own
	}
	tests := []struct {
		dir  string
		want []want
	}{
		// #1: losing the DC with 2 of 3 replicas: writes stop, loss possible; the other: fine.
		{"01-2dc-2plus1-rf3-m2", []want{{"lose dc-a", 1, 0, 1, true, false}, {"lose dc-b", 0, 0, 0, true, true}}},
		// #2: striped RF 3 over 2 DCs: half the partitions behave like #1.
		{"02-2dc-striped-rf3-m2", []want{{"lose dc-a", 5, 0, 5, true, false}, {"lose dc-b", 5, 0, 5, true, false}}},
		// #3: 2+2 with min.insync 2: writes continue, acked data may be lost.
		{"03-2dc-2plus2-rf4-m2", []want{{"lose dc-a", 0, 0, 4, true, true}}},
		// #4: 2+2 with min.insync 3: nothing lost, writes stop.
		{"04-2dc-2plus2-rf4-m3", []want{{"lose dc-a", 4, 0, 0, true, false}, {"lose dc-b", 4, 0, 0, true, false}}},
		// #5: the textbook stretch: nothing lost, writes continue.
		{"05-3dc-rf3-m2", []want{{"lose dc-a", 0, 0, 0, true, true}, {"lose dc-c", 0, 0, 0, true, true}}},
		// #6: min.insync 1: loss possible everywhere.
		{"06-3dc-rf3-m1", []want{{"lose dc-b", 0, 0, 6, true, true}}},
		// #7: min.insync 3: writes stop.
		{"07-3dc-rf3-m3", []want{{"lose dc-a", 6, 0, 0, true, false}}},
		// #8: RF 6 as 2/2/2 with min.insync 3: fine.
		{"08-3dc-rf6-m3", []want{{"lose dc-a", 0, 0, 0, true, true}}},
		// #9: unclean election with the ISR in dc-a: loss, still unwritable, readable.
		{"09-2dc-2plus1-unclean", []want{{"lose dc-a", 1, 0, 1, true, false}, {"isolate dc-a", 1, 0, 1, true, false}}},
		// #10: acks=1: partitions led in the lost DC (2 of 6) may lose records.
		{"10-3dc-rf3-m2-acks1", []want{{"lose dc-a", 0, 0, 2, true, true}}},
		// #11: a topic confined to dc-a: unavailable and lost with it.
		{"11-3dc-all-in-one-dc", []want{{"lose dc-a", 3, 3, 3, true, false}, {"lose dc-b", 0, 0, 0, true, true}}},
		// #12: quorum 2+1 in dc-a: metadata frozen; partitions led in dc-b stay readable.
		{"12-2dc-quorum-2plus1", []want{{"lose dc-a", 3, 1, 1, false, false}}},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			rep, err := Evaluate(loadExample(t, golden.Path("examples", tt.dir)))
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				var s *Scenario
				for i := range rep.Scenarios {
					if rep.Scenarios[i].Name == w.scenario {
						s = &rep.Scenarios[i]
					}
				}
				if s == nil {
					t.Fatalf("no scenario %q", w.scenario)
				}
				got := want{s.Name, s.WriteUnavailable, s.ReadUnavailable, s.AckedLossPossible, s.QuorumSurvives, s.PredictedRTOSeconds != nil}
				if got != w {
					t.Errorf("%s: got %+v, want %+v", w.scenario, got, w)
				}
			}
		})
	}
}

// TestEveryRuleFiresAndStaysSilent makes sure each rule of the catalogue
// fires on at least one fixture and stays silent on another.
func TestEveryRuleFiresAndStaysSilent(t *testing.T) {
	fired := map[string]int{}
	n := 0
	for _, e := range examples() {
		rep, err := Evaluate(loadExample(t, golden.Path("examples", e.dir)))
		if err != nil {
			t.Fatal(err)
		}
		n++
		seen := map[string]bool{}
		for _, f := range rep.Findings {
			seen[f.ID] = true
		}
		for id := range seen {
			fired[id]++
		}
	}
	cat := Catalogue()
	if len(cat) < 25 {
		t.Errorf("catalogue has %d rules, want at least 25", len(cat))
	}
	for _, r := range cat {
		switch {
		case fired[r.ID] == 0:
			t.Errorf("%s never fires on the fixtures", r.ID)
		case fired[r.ID] == n:
			t.Errorf("%s fires on every fixture", r.ID)
		}
		if r.Title == "" || r.Explain == "" || r.Fix == "" || r.Sources == "" {
			t.Errorf("%s lacks a title, explanation, fix or sources", r.ID)
		}
	}
}

// TestScenarioTruth checks the scenario model fact by fact on the truth
// fixtures: each row is what real Kafka (and the client) does, with the
// source. Times are the defaults: broker.session.timeout.ms 9 s,
// controller failover 2 s fetch + 2 × 1 s election, Java
// request.timeout.ms 30 s and retry.backoff.ms 100 ms; no measured RTT.
func TestScenarioTruth(t *testing.T) {
	type want struct {
		scenario    string
		write, read int
		loss        int
		quorum      bool
		rto         float64 // -1: writes do not resume on their own
	}
	tests := []struct {
		dir, why string
		want     []want
	}{
		{"30-fenced-broker", "a fenced broker is no survivor: with broker 3 fenced, losing dc-a leaves one ISR member, below min.insync.replicas (F4, KRaft fencing removes it from the ISR)",
			[]want{{"crash dc-a", 3, 0, 0, true, -1}, {"crash dc-c", 0, 0, 0, true, 0}}},
		{"31-offline-partition", "a partition whose leader is -1 is already offline, in every scenario",
			[]want{{"crash dc-c", 1, 1, 0, true, -1}}},
		{"32-elr-clean-leader", "with the ISR shrunk into dc-a, dc-b's ELR member is a clean leader (KIP-966): readable, no loss, but one in-sync replica is below min.insync.replicas",
			[]want{{"crash dc-a", 1, 0, 0, true, -1}}},
		{"33-2dc-isolate-majority", "isolating the DC with 2 of 3 voters: dc-a keeps the controller, fences dc-b and elects dc-a's replicas; dc-b's leaders go on acking the acks=1 producer in dc-b and are truncated on heal (kafka-rules.md §8: 26,030 records lost on the lab)",
			[]want{{"isolate dc-a", 0, 0, 2, true, 0}, {"crash dc-a", 2, 0, 2, false, 0}}},
		{"34-minority-keeps-acking", "a leader cut off with its whole ISR (≥ min.insync.replicas) on its side keeps acknowledging acks=all writes from its side; the majority side has no clean leader, and nothing is lost without unclean election",
			[]want{{"isolate dc-a", 1, 1, 0, true, 0}, {"crash dc-a", 1, 1, 1, true, -1}}},
		{"35-librdkafka-timeouts", "librdkafka waits on a silent leader for socket.timeout.ms (60 s), its request.timeout.ms being enforced by the broker only (kafka-rules.md §8: 49.2 s measured, in-flight ProduceRequest timed out after 60044 ms); a crash refuses connections at once",
			[]want{{"lose dc-a", 0, 0, 0, true, 60.1}, {"isolate dc-a", 0, 0, 0, true, 60.1}, {"crash dc-a", 0, 0, 0, true, 9.125}}},
		{"35b-librdkafka-socket-timeout", "with socket.timeout.ms=10000 the wait is the fencing and election, ~10 s (kafka-rules.md §8: 7.8 s measured)",
			[]want{{"lose dc-a", 0, 0, 0, true, 10.1}}},
		{"36-follower-only-dc", "a DC holding only followers costs the ISR shrink (fencing): the write waits in purgatory, no client timeout (kafka-rules.md §8: 11.4 s measured); the group in dc-b whose coordinator is in dc-a only waits for the coordinator's move, members in dc-b lost are replaced after the session timeout",
			[]want{{"crash dc-c", 0, 0, 0, true, 9}, {"lose dc-c", 0, 0, 0, true, 9}, {"crash dc-b", 0, 0, 0, true, 48}, {"lose dc-a", 0, 0, 0, true, 30.1}}},
		{"37-java-2.8-defaults", "kafka-clients before 3.0 default to acks=1 (KIP-679): records led in a lost DC can be lost",
			[]want{{"crash dc-a", 0, 0, 1, true, 9.125}, {"isolate dc-a", 0, 0, 0, true, 30.1}}},
		{"38-controller-configs", "fencing runs on the active controller's own broker.session.timeout.ms (read from the controllers, KIP-919), not the brokers'",
			[]want{{"crash dc-b", 0, 0, 0, true, 6.125}, {"crash dc-a", 0, 0, 0, true, 10.125}}},
		{"05-3dc-rf3-m2", "a silent DC loss costs the Java producer its request.timeout.ms (kafka-rules.md §8: ~30 s with ProducerPerformance); a crash costs the fencing (+ a controller failover when the active one was there: 9.8 s measured)",
			[]want{{"lose dc-b", 0, 0, 0, true, 30.1}, {"crash dc-b", 0, 0, 0, true, 9.125}, {"crash dc-a", 0, 0, 0, true, 13.125}}},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			rep, err := Evaluate(loadExample(t, golden.Path("examples", tt.dir)))
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				i := slices.IndexFunc(rep.Scenarios, func(s Scenario) bool { return s.Name == w.scenario })
				if i < 0 {
					t.Fatalf("no scenario %q", w.scenario)
				}
				s := rep.Scenarios[i]
				rto := -1.0
				if s.PredictedRTOSeconds != nil {
					rto = *s.PredictedRTOSeconds
				}
				got := want{s.Name, s.WriteUnavailable, s.ReadUnavailable, s.AckedLossPossible, s.QuorumSurvives, rto}
				if got != w {
					t.Errorf("%s: got %+v, want %+v\n(%s)\nwhy: %v", w.scenario, got, w, tt.why, s.Why)
				}
			}
		})
	}
}
