// Package config loads, validates and writes stretch.yaml, the single file
// that describes a stretched Kafka cluster (brokers, data centers, RTO/RPO
// goals, client configs and suppressions) for every stretchctl command.
//
// The package only reads the config file itself (Load) and, on request, a
// SASL password file or environment variable (SASL.Password). It never does
// network I/O. Errors found while parsing are reported as an *Error that
// lists every Problem with file, line, column and dotted field path.
//
// The types carry both json and yaml tags with identical camelCase names so
// that a Kubernetes CRD spec can embed Config unchanged: maps have string
// keys, durations are strings, and DeepCopy methods are generated
// (zz_generated.deepcopy.go, `make generate`). The package imports no
// Kubernetes package; the markers below are read by controller-gen only.
//
// A small stretch.yaml (everything not shown has a default or is optional):
//
//	cluster:
//	  bootstrap: ["10.0.1.5:9092", "10.0.2.5:9092"]
//	topology:
//	  dcs: [dc-a, dc-b, dc-c]
//	  controllers: {1: dc-a, 3: dc-b, 5: dc-c}
//	goals:
//	  rto: 30s
//	  latency: {warn: 50ms, fail: 100ms}
//
// Relative paths in the file (client configs, TLS files, the SASL password
// file) are resolved against the directory of the config file.
//
// +kubebuilder:object:generate=true
package config

import (
	"bytes"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"go.yaml.in/yaml/v3"
)

// Default values applied to fields that are absent from stretch.yaml.
const (
	// DefaultKafkaVersion is the protocol version clients speak when cluster.kafkaVersion is absent.
	DefaultKafkaVersion = "4.3.1"
	// DefaultTimeout is the per-request timeout used when cluster.timeout is absent.
	DefaultTimeout = 10 * time.Second
	// DefaultRTO is the recovery time objective used when goals.rto is absent.
	DefaultRTO = 30 * time.Second
	// DefaultLatencyWarn is the inter-DC round-trip warning budget used when goals.latency.warn is absent.
	DefaultLatencyWarn = 50 * time.Millisecond
	// DefaultLatencyFail is the inter-DC round-trip failure budget used when goals.latency.fail is absent.
	DefaultLatencyFail = 100 * time.Millisecond
)

// Config is the parsed content of stretch.yaml.
type Config struct {
	Cluster  Cluster  `json:"cluster,omitempty" yaml:"cluster"`
	Topology Topology `json:"topology,omitempty" yaml:"topology"`
	Goals    Goals    `json:"goals,omitempty" yaml:"goals"`
	Clients  []Client `json:"clients,omitempty" yaml:"clients,omitempty"`
	Ignore   []Ignore `json:"ignore,omitempty" yaml:"ignore,omitempty"`

	// Path is the file name the config was loaded or parsed from; it is not serialised.
	Path string `json:"-" yaml:"-"`
}

// Cluster describes how to reach the Kafka cluster.
type Cluster struct {
	Name      string   `json:"name,omitempty" yaml:"name,omitempty"`
	Bootstrap []string `json:"bootstrap,omitempty" yaml:"bootstrap"`
	// Controllers are KRaft controller endpoints (host:port of their
	// listener), read like kafka-configs --bootstrap-controller (KIP-919):
	// the controllers' own broker.session.timeout.ms and controller.quorum.*
	// decide fencing and elections. Optional; without them the brokers'
	// values are assumed.
	Controllers  []string `json:"controllers,omitempty" yaml:"controllers,omitempty"`
	KafkaVersion string   `json:"kafkaVersion,omitempty" yaml:"kafkaVersion"`
	Timeout      Duration `json:"timeout,omitempty" yaml:"timeout"`
	TLS          *TLS     `json:"tls,omitempty" yaml:"tls,omitempty"`
	SASL         *SASL    `json:"sasl,omitempty" yaml:"sasl,omitempty"`
}

// TLS holds the client TLS settings; file paths are relative to the config file's directory.
type TLS struct {
	Enabled            bool   `json:"enabled,omitempty" yaml:"enabled"`
	CAFile             string `json:"caFile,omitempty" yaml:"caFile,omitempty"`
	CertFile           string `json:"certFile,omitempty" yaml:"certFile,omitempty"`
	KeyFile            string `json:"keyFile,omitempty" yaml:"keyFile,omitempty"`
	ServerName         string `json:"serverName,omitempty" yaml:"serverName,omitempty"`
	InsecureSkipVerify bool   `json:"insecureSkipVerify,omitempty" yaml:"insecureSkipVerify,omitempty"`

	dir string `json:"-" yaml:"-"`
}

// CAPath returns CAFile resolved against the config file's directory, or "" if unset.
func (t TLS) CAPath() string { return resolve(t.dir, t.CAFile) }

// CertPath returns CertFile resolved against the config file's directory, or "" if unset.
func (t TLS) CertPath() string { return resolve(t.dir, t.CertFile) }

// KeyPath returns KeyFile resolved against the config file's directory, or "" if unset.
func (t TLS) KeyPath() string { return resolve(t.dir, t.KeyFile) }

// Mechanism is a SASL mechanism name, always upper case after parsing.
//
// +kubebuilder:validation:Enum=PLAIN;SCRAM-SHA-256;SCRAM-SHA-512
type Mechanism string

// The SASL mechanisms stretchctl supports.
const (
	MechanismPlain       Mechanism = "PLAIN"
	MechanismSCRAMSHA256 Mechanism = "SCRAM-SHA-256"
	MechanismSCRAMSHA512 Mechanism = "SCRAM-SHA-512"
)

// SASL holds the SASL settings; the password itself is never stored, only where to read it from.
type SASL struct {
	Mechanism    Mechanism `json:"mechanism,omitempty" yaml:"mechanism"`
	Username     string    `json:"username,omitempty" yaml:"username"`
	PasswordFile string    `json:"passwordFile,omitempty" yaml:"passwordFile,omitempty"`
	PasswordEnv  string    `json:"passwordEnv,omitempty" yaml:"passwordEnv,omitempty"`

	dir string `json:"-" yaml:"-"`
}

// Topology maps brokers, controllers and ZooKeeper nodes to data centers.
type Topology struct {
	DCs   []string          `json:"dcs,omitempty" yaml:"dcs"`
	Racks map[string]string `json:"racks,omitempty" yaml:"racks,omitempty"`
	// Controllers maps KRaft voter node ids, written as decimal keys
	// ({1: dc-a} in YAML), to their DC: voters carry no broker.rack. The
	// keys are strings because a CRD's maps must have string keys.
	Controllers map[string]string `json:"controllers,omitempty" yaml:"controllers,omitempty"`
	ZooKeeper   map[string]string `json:"zookeeper,omitempty" yaml:"zookeeper,omitempty"`
}

// HasDC reports whether name is listed in DCs.
func (t Topology) HasDC(name string) bool {
	for _, dc := range t.DCs {
		if dc == name {
			return true
		}
	}
	return false
}

// DCOfRack returns the DC of a broker.rack value: the Racks entry if there is
// one, else the rack name itself (which callers should check with HasDC).
func (t Topology) DCOfRack(rack string) string {
	if dc, ok := t.Racks[rack]; ok {
		return dc
	}
	return rack
}

// DCOfController returns the DC of the KRaft voter with the given node id and whether it is mapped.
func (t Topology) DCOfController(id int32) (string, bool) {
	dc, ok := t.Controllers[strconv.FormatInt(int64(id), 10)]
	return dc, ok
}

// ControllerIDs returns the node ids of Controllers, sorted; keys that
// are not node ids (Parse refuses them) are left out.
func (t Topology) ControllerIDs() []int32 {
	ids := make([]int32, 0, len(t.Controllers))
	for k := range t.Controllers {
		if id, ok := NodeID(k); ok {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// NodeID reads a node id written as a canonical decimal ("3", not "03"
// or "+3"), 0 or more.
func NodeID(s string) (int32, bool) {
	id, err := strconv.ParseInt(s, 10, 32)
	if err != nil || id < 0 || strconv.FormatInt(id, 10) != s {
		return 0, false
	}
	return int32(id), true
}

// Goals are the recovery objectives and latency budgets the cluster is checked against.
type Goals struct {
	RPO int64    `json:"rpo,omitempty" yaml:"rpo"`
	RTO Duration `json:"rto,omitempty" yaml:"rto"`
	// ReadRTO is the goal for how long consumers may stop reading in a
	// drill (zero: the RTO goal).
	ReadRTO Duration `json:"readRTO,omitempty" yaml:"readRTO,omitempty"`
	Latency Latency  `json:"latency,omitempty" yaml:"latency"`
}

// Latency is the inter-DC round-trip budget, globally and per DC pair.
type Latency struct {
	Warn  Duration               `json:"warn,omitempty" yaml:"warn"`
	Fail  Duration               `json:"fail,omitempty" yaml:"fail"`
	Pairs map[string]LatencyPair `json:"pairs,omitempty" yaml:"pairs,omitempty"`
}

// LatencyPair overrides the latency budget for one unordered DC pair; Parse
// fills absent fields from the global budget.
type LatencyPair struct {
	Warn Duration `json:"warn,omitempty" yaml:"warn"`
	Fail Duration `json:"fail,omitempty" yaml:"fail"`
}

// PairKey returns the key used in Latency.Pairs for DCs a and b, in the given order.
func PairKey(a, b string) string { return a + "/" + b }

// LatencyBudget returns the warn and fail round-trip budgets between DCs a
// and b: a pair override written in either order, else the global budget. A
// zero field in an override falls back to the global value.
func (g Goals) LatencyBudget(a, b string) (warn, fail time.Duration) {
	warn, fail = g.Latency.Warn.Duration, g.Latency.Fail.Duration
	p, ok := g.Latency.Pairs[PairKey(a, b)]
	if !ok {
		p, ok = g.Latency.Pairs[PairKey(b, a)]
	}
	if !ok {
		return warn, fail
	}
	if p.Warn.Duration != 0 {
		warn = p.Warn.Duration
	}
	if p.Fail.Duration != 0 {
		fail = p.Fail.Duration
	}
	return warn, fail
}

// ClientKind says what a client config is used for.
//
// +kubebuilder:validation:Enum=producer;consumer;streams
type ClientKind string

// The client kinds stretchctl knows.
const (
	KindProducer ClientKind = "producer"
	KindConsumer ClientKind = "consumer"
	KindStreams  ClientKind = "streams"
)

// Library names the Kafka client library a client config is written for.
//
// +kubebuilder:validation:Enum=java;sarama;librdkafka;franz-go
type Library string

// The client libraries stretchctl knows.
const (
	LibraryJava       Library = "java"
	LibrarySarama     Library = "sarama"
	LibraryLibrdkafka Library = "librdkafka"
	LibraryFranzGo    Library = "franz-go"
)

// Client points at one client properties file to check.
type Client struct {
	// File is the path as written in stretch.yaml; use Path for the resolved path.
	File    string     `json:"file,omitempty" yaml:"file"`
	Kind    ClientKind `json:"kind,omitempty" yaml:"kind"`
	Library Library    `json:"library,omitempty" yaml:"library"`
	// Version is the library's release the client runs (kafka-clients
	// 3.9.1, librdkafka 2.11.1, ...): its defaults apply, and a drill runs
	// that version where the library can be chosen at run time (Java).
	// Empty: the newest stretchctl supports.
	Version string `json:"version,omitempty" yaml:"version,omitempty"`
	DC      string `json:"dc,omitempty" yaml:"dc,omitempty"`

	dir string `json:"-" yaml:"-"`
}

// setDefaults is called by the decoder on every new list element.
func (c *Client) setDefaults() { c.Library = LibraryJava }

// Path returns File resolved against the config file's directory (or the
// working directory for a config not read by Load/Parse), as an absolute path
// when possible.
func (c Client) Path() string { return resolve(c.dir, c.File) }

// Ignore suppresses findings of one rule, optionally only for one subject.
type Ignore struct {
	Rule    string `json:"rule,omitempty" yaml:"rule"`
	Subject string `json:"subject,omitempty" yaml:"subject,omitempty"`
	Reason  string `json:"reason,omitempty" yaml:"reason"`
}

// Ignored returns the first Ignore entry that suppresses rule for subject: an
// entry matches when its Rule equals rule and its Subject is empty or equals subject.
func (c *Config) Ignored(rule, subject string) (Ignore, bool) {
	for _, ig := range c.Ignore {
		if ig.Rule == rule && (ig.Subject == "" || ig.Subject == subject) {
			return ig, true
		}
	}
	return Ignore{}, false
}

// Default returns a config with every default filled in; bootstrap servers
// and DCs are left empty, so it does not validate as is.
func Default() *Config {
	return &Config{
		Cluster: Cluster{
			KafkaVersion: DefaultKafkaVersion,
			Timeout:      Duration{DefaultTimeout},
		},
		Goals: Goals{
			RTO: Duration{DefaultRTO},
			Latency: Latency{
				Warn: Duration{DefaultLatencyWarn},
				Fail: Duration{DefaultLatencyFail},
			},
		},
	}
}

// Marshal encodes the config as stretch.yaml content that Parse accepts.
func (c *Config) Marshal() ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(c); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// resolve makes p absolute relative to dir (or the working directory when dir is empty).
func resolve(dir, p string) string {
	if p == "" {
		return ""
	}
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	if dir != "" {
		return filepath.Join(dir, p)
	}
	if abs, err := filepath.Abs(p); err == nil {
		return abs
	}
	return p
}
