// Package topology holds the nouns every part of stretchctl shares: a
// snapshot of what was read from a Kafka cluster (brokers, racks, topics,
// replicas, ISR, configs with their sources, the KRaft quorum, features)
// and the effective settings of client configuration files.
//
// It is plain data: it imports only the standard library (and
// internal/boundedfile to read a snapshot file), does no I/O but that and
// is serialised as the `stretchctl snapshot` file format.
package topology

import (
	"sort"
	"strconv"
	"time"
)

// SchemaVersion is the version of the snapshot file format.
const SchemaVersion = 1

// Snapshot is everything read from one cluster at one moment. Reading is
// best effort: what could not be read is listed in Errors and left empty,
// and rules that need it report "unknown" rather than guess.
type Snapshot struct {
	SchemaVersion int       `json:"schemaVersion"`
	TakenAt       time.Time `json:"takenAt"`
	// Source says where it was read from (bootstrap servers).
	Source    string `json:"source,omitempty"`
	ClusterID string `json:"clusterID,omitempty"`
	// KafkaVersion is the protocol version the reader spoke.
	KafkaVersion string `json:"kafkaVersion,omitempty"`
	// Mode is "kraft", "zookeeper", or empty when unknown.
	Mode         string   `json:"mode,omitempty"`
	ControllerID int32    `json:"controllerID"`
	Brokers      []Broker `json:"brokers"`
	Topics       []Topic  `json:"topics"`
	// Quorum is the KRaft metadata quorum; nil when not read (or ZooKeeper).
	Quorum *Quorum `json:"quorum,omitempty"`
	// Features holds finalized feature levels (metadata.version,
	// kraft.version, eligible.leader.replicas.version, ...); nil when unknown.
	Features map[string]int16 `json:"features,omitempty"`
	// ControllerConfigs are the KRaft controllers' own configs that time
	// fencing and elections, by node id, read from the controllers
	// (KIP-919); nil when not read.
	ControllerConfigs map[string]Configs `json:"controllerConfigs,omitempty"`
	Errors            []ItemError        `json:"errors,omitempty"`
}

// Broker is one broker and its effective configuration.
type Broker struct {
	ID   int32  `json:"id"`
	Host string `json:"host"`
	Port int32  `json:"port"`
	// Rack is broker.rack; empty when unset.
	Rack string `json:"rack,omitempty"`
	// Configs are the broker's effective configs; nil when not read.
	Configs Configs `json:"configs,omitempty"`
	// State is whether the broker serves: up (registered and unfenced;
	// also written as ""), fenced by the controller, or absent (a replica
	// names it but no broker with that id is registered or answers).
	// Only an up broker survives anything.
	State BrokerState `json:"state,omitempty"`
}

// BrokerState says whether a broker serves.
type BrokerState string

// The broker states.
const (
	BrokerUp     BrokerState = "up"
	BrokerFenced BrokerState = "fenced"
	BrokerAbsent BrokerState = "absent"
)

// Serving reports whether the broker serves (up, or not known otherwise).
func (b Broker) Serving() bool { return b.State == "" || b.State == BrokerUp }

// Addr is host:port.
func (b Broker) Addr() string { return b.Host + ":" + strconv.Itoa(int(b.Port)) }

// Topic is a topic, its partitions and its effective configuration.
type Topic struct {
	Name       string      `json:"name"`
	Internal   bool        `json:"internal,omitempty"`
	Partitions []Partition `json:"partitions"`
	// Configs are the topic's effective configs; nil when not read.
	Configs Configs `json:"configs,omitempty"`
}

// Partition is one partition's replica state.
type Partition struct {
	ID       int32   `json:"id"`
	Leader   int32   `json:"leader"` // -1: no leader
	Replicas []int32 `json:"replicas"`
	ISR      []int32 `json:"isr"`
	// ELR are eligible leader replicas (KIP-966), when the cluster reports them.
	ELR     []int32 `json:"elr,omitempty"`
	Offline []int32 `json:"offline,omitempty"`
}

// ConfigSource says where an effective config value comes from.
type ConfigSource string

// Config sources, from DescribeConfigs.
const (
	SourceDefault        ConfigSource = "default"         // Kafka's built-in default
	SourceStaticBroker   ConfigSource = "static-broker"   // server.properties
	SourceDynamicDefault ConfigSource = "dynamic-default" // cluster-wide dynamic broker default
	SourceDynamicBroker  ConfigSource = "dynamic-broker"  // per-broker dynamic
	SourceTopic          ConfigSource = "topic"           // topic override
	SourceUnknown        ConfigSource = "unknown"
)

// ConfigValue is one effective config value and its source.
type ConfigValue struct {
	Value  string       `json:"value"`
	Source ConfigSource `json:"source"`
	// Sensitive values are never stored; Value is empty for them.
	Sensitive bool `json:"sensitive,omitempty"`
}

// Configs maps config names to effective values.
type Configs map[string]ConfigValue

// Get returns a config's value and whether it is known.
func (c Configs) Get(name string) (string, bool) {
	v, ok := c[name]
	return v.Value, ok
}

// Quorum is the KRaft metadata quorum as DescribeQuorum reports it.
type Quorum struct {
	LeaderID      int32           `json:"leaderID"` // -1: no leader
	LeaderEpoch   int32           `json:"leaderEpoch"`
	HighWatermark int64           `json:"highWatermark"`
	Voters        []QuorumReplica `json:"voters"`
	Observers     []QuorumReplica `json:"observers,omitempty"`
}

// QuorumReplica is a voter or observer of the quorum.
type QuorumReplica struct {
	ID           int32 `json:"id"`
	LogEndOffset int64 `json:"logEndOffset"`
	// LastFetchMs and LastCaughtUpMs are epoch milliseconds, -1 unknown.
	LastFetchMs    int64 `json:"lastFetchMs"`
	LastCaughtUpMs int64 `json:"lastCaughtUpMs"`
	// Down marks a voter known to be down. A what-if sets it
	// (advise.WhatIf); a snapshot read from a cluster leaves it false (a
	// voter that stopped fetching shows in LastCaughtUpMs).
	Down bool `json:"down,omitempty"`
}

// ItemError records something that could not be read.
type ItemError struct {
	// Subject names what failed: "broker:3", "topic:orders", "quorum", ...
	Subject string `json:"subject"`
	Error   string `json:"error"`
}

// Broker returns the broker with id, or false.
func (s *Snapshot) Broker(id int32) (Broker, bool) {
	for _, b := range s.Brokers {
		if b.ID == id {
			return b, true
		}
	}
	return Broker{}, false
}

// SortTopics orders topics by name and partitions by id, for stable output.
func (s *Snapshot) SortTopics() {
	sort.Slice(s.Topics, func(i, j int) bool { return s.Topics[i].Name < s.Topics[j].Name })
	for _, t := range s.Topics {
		sort.Slice(t.Partitions, func(i, j int) bool { return t.Partitions[i].ID < t.Partitions[j].ID })
	}
	sort.Slice(s.Brokers, func(i, j int) bool { return s.Brokers[i].ID < s.Brokers[j].ID })
}

// ClientKind is what a client configuration file configures.
type ClientKind string

// Client kinds.
const (
	Producer ClientKind = "producer"
	Consumer ClientKind = "consumer"
	Streams  ClientKind = "streams"
)

// OutsideDCs is ClientConfig.DC for a client known to run in none of
// the topology's DCs: no DC's loss takes it away.
const OutsideDCs = "(outside the DCs)"

// ClientConfig is a client configuration file with the effective settings
// of the client library it declares: explicit values with their line, and
// the library's defaults for the keys that matter to failover.
type ClientConfig struct {
	// File is the path as written in stretch.yaml; Path is resolved.
	File    string     `json:"file"`
	Path    string     `json:"path"`
	Kind    ClientKind `json:"kind"`
	Library string     `json:"library"`
	// DC is where the client runs, when known; OutsideDCs when it runs in
	// none of them (a drill's clients at the operator's site).
	DC string `json:"dc,omitempty"`
	// Version is the library version whose defaults were applied;
	// VersionAssumed says the file's entry named none, so the newest was
	// assumed.
	Version        string `json:"version,omitempty"`
	VersionAssumed bool   `json:"versionAssumed,omitempty"`
	// Producer holds the effective producer settings (of a producer file,
	// or of a Streams application's internal producer); Consumer likewise;
	// Streams holds Streams-level settings.
	Producer Settings `json:"producer,omitempty"`
	Consumer Settings `json:"consumer,omitempty"`
	Streams  Settings `json:"streams,omitempty"`
	// Problems are settings the library would refuse (its application
	// would not start) and keys written more than once. An invalid value
	// is not used: the setting holds the library's default instead.
	Problems []SettingProblem `json:"problems,omitempty"`
}

// SettingProblem is one problem of a client file, at its line.
type SettingProblem struct {
	Key     string `json:"key"`
	Line    int    `json:"line"`
	Message string `json:"message"`
	// Refused: the library refuses the value (not just a key written
	// twice).
	Refused bool `json:"refused,omitempty"`
}

// Setting is one effective client setting.
type Setting struct {
	Value string `json:"value"`
	// Key is the key as written in the file (e.g. "producer.acks"); empty
	// for a library default.
	Key string `json:"key,omitempty"`
	// Line in the file, 0 for a library default.
	Line int `json:"line,omitempty"`
	// Default says where an unset value comes from, e.g. "sarama default".
	Default string `json:"default,omitempty"`
}

// Explicit reports whether the setting was written in the file.
func (s Setting) Explicit() bool { return s.Line > 0 }

// Settings maps Kafka client config names to effective settings.
type Settings map[string]Setting
