package chaos

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/stretchctl/stretchctl/clients"
	"github.com/stretchctl/stretchctl/config"
	"github.com/stretchctl/stretchctl/drill"
	"github.com/stretchctl/stretchctl/probe"
	"github.com/stretchctl/stretchctl/topology"
)

// ProducerSpec says how the ledger's producers are configured: the
// library they run on and its version, the settings of a producer file
// (or none: that library's own defaults), then the overrides.
type ProducerSpec struct {
	// File is a producer .properties file ("": the library's defaults).
	File string
	// Library is the client library the producers run on, and the file is
	// written for (java, sarama, librdkafka, franz-go; default java).
	Library config.Library
	// Version of the library ("": the newest this stretchctl supports).
	Version string
	// Acks and Idempotence override the file ("" keeps it).
	Acks, Idempotence string
	// Transactional writes in transactions (the Java client only).
	Transactional bool
}

// producer is a resolved ProducerSpec.
type producer struct {
	library config.Library
	version string
	// apply are the settings the library is given: the file's and the
	// overrides, nothing else. skipped are those the drill does not pass,
	// with why.
	apply   []probe.ClientSetting
	skipped []string
	// source is the file, or what the defaults are.
	source string
	// client is the same as a client file, with the library's defaults
	// filled in: for the prediction and the report.
	client topology.ClientConfig
	// deliveryTimeout bounds how long a record may wait for its answer.
	deliveryTimeout time.Duration
	// transactional: the producers write in transactions; txnStandsFor
	// is the file's transactional.id, which the drill never uses.
	transactional bool
	txnStandsFor  string
}

// resolveProducer reads the producer file (or the library's defaults for
// the cluster's Kafka version) and applies the overrides.
func resolveProducer(cfg *config.Config, s ProducerSpec, dc string) (producer, error) {
	if s.Library == "" {
		s.Library = config.LibraryJava
	}
	var cc topology.ClientConfig
	source := "defaults (" + string(s.Library) + " client)"
	if s.File != "" {
		var err error
		cc, err = clients.Load(config.Client{File: s.File, Kind: config.KindProducer, Library: s.Library, DC: dc, Version: s.Version}, cfg.Cluster.KafkaVersion)
		if err != nil {
			return producer{}, &OptionError{OptProducerFile, err}
		}
		if err := refused(cc); err != nil {
			return producer{}, &OptionError{OptProducerFile, err}
		}
		source = s.File
	} else {
		version := s.Version
		if version == "" {
			version = config.DefaultKafkaVersion
		}
		defaults := clients.Defaults(string(s.Library), topology.Producer, version)
		if defaults == nil {
			return producer{}, &OptionError{OptProducerLibrary, fmt.Errorf("unknown library %q: want java, sarama, librdkafka or franz-go", s.Library)}
		}
		cc = topology.ClientConfig{File: "drill workload", Path: "drill workload", Kind: topology.Producer, Library: string(s.Library), DC: dc, Producer: defaults,
			Version: version, VersionAssumed: s.Version == ""}
	}
	if s.Transactional && s.Library != config.LibraryJava {
		return producer{}, &OptionError{OptProducerLibrary, fmt.Errorf("the transactional ledger runs on the Java client, not %s", s.Library)}
	}
	p := producer{library: s.Library, version: s.Version, source: source, transactional: s.Transactional}
	names := make([]string, 0, len(cc.Producer))
	for name, st := range cc.Producer {
		if st.Explicit() {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	for _, name := range names {
		st := cc.Producer[name]
		key := name
		if s.Library == config.LibraryLibrdkafka && st.Key != "" {
			key = st.Key // librdkafka reads its own spelling
		}
		switch {
		case s.Transactional && name == "transactional.id":
			p.txnStandsFor = st.Value
			p.skipped = append(p.skipped, "transactional.id: the drill's producers use their own ids, with the same transaction coordinator")
			continue
		case s.Transactional && name == "transaction.timeout.ms":
		default:
			if why := notPassed(name, st.Value); why != "" {
				p.skipped = append(p.skipped, fmt.Sprintf("%s: %s", key, why))
				continue
			}
		}
		p.apply = append(p.apply, probe.ClientSetting{Name: name, Key: key, Value: st.Value})
	}
	overrides := false
	for _, o := range []struct{ name, value string }{{"acks", s.Acks}, {"enable.idempotence", s.Idempotence}} {
		if o.value == "" {
			continue
		}
		overrides = true
		cc.Producer[o.name] = topology.Setting{Value: o.value, Default: "drill override of " + o.name}
		p.apply = slices.DeleteFunc(p.apply, func(c probe.ClientSetting) bool { return c.Name == o.name })
		p.apply = append(p.apply, probe.ClientSetting{Name: o.name, Key: o.name, Value: o.value})
	}
	if overrides && s.File == "" {
		source = "overrides over " + source
		p.source = source
	}
	if err := checkProducer(cc.Producer); err != nil {
		return producer{}, fmt.Errorf("producer settings (%s): %w", source, err)
	}
	p.client = cc
	p.deliveryTimeout = settingMillis(cc.Producer, "delivery.timeout.ms", 120000)
	return p, nil
}

// refused is the first value of a client file its library refuses: the
// application would not start, so neither does the drill.
func refused(cc topology.ClientConfig) error {
	for _, p := range cc.Problems {
		if p.Refused {
			return fmt.Errorf("%s:%d: %s", cc.File, p.Line, p.Message)
		}
	}
	return nil
}

// notPassed says why a setting of the file is not given to the library:
// the connection is stretch.yaml's, the ledger writes bytes without
// transactions, and secrets are never read back from a client file.
func notPassed(name, value string) string {
	switch {
	case strings.Contains(value, "<redacted>"):
		return "holds a secret, which is never read back from a client file"
	case name == "bootstrap.servers", name == "security.protocol", strings.HasPrefix(name, "ssl."), strings.HasPrefix(name, "sasl."):
		return "connection setting: taken from stretch.yaml's cluster settings"
	case name == "key.serializer", name == "value.serializer":
		return "the ledger writes bytes"
	case name == "transactional.id", name == "transaction.timeout.ms":
		return "the ledger does not write in transactions"
	}
	return ""
}

// checkProducer refuses values no client would start with, before the
// drill starts anything.
func checkProducer(s topology.Settings) error {
	if v, ok := s["acks"]; ok {
		switch strings.ToLower(strings.TrimSpace(v.Value)) {
		case "all", "-1", "1", "0":
		default:
			return fmt.Errorf("acks=%q: want all, -1, 1 or 0", v.Value)
		}
	}
	if v, ok := s["enable.idempotence"]; ok {
		if _, err := strconv.ParseBool(strings.TrimSpace(v.Value)); err != nil {
			return fmt.Errorf("enable.idempotence=%q: want true or false", v.Value)
		}
	}
	return nil
}

// settingsRows are the producer's effective settings for the report:
// what the file says (and the library applies) and the library's own
// defaults for the rest.
func (p producer) settingsRows() []drill.Setting {
	names := make([]string, 0, len(p.client.Producer))
	for n := range p.client.Producer {
		names = append(names, n)
	}
	slices.Sort(names)
	var out []drill.Setting
	for _, n := range names {
		st := p.client.Producer[n]
		origin := st.Default
		if st.Explicit() {
			origin = fmt.Sprintf("%s:%d", p.source, st.Line)
		}
		out = append(out, drill.Setting{Name: n, Value: st.Value, Origin: origin})
	}
	return out
}
