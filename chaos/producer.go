package chaos

import (
	"fmt"
	"path/filepath"

	"github.com/stretchctl/stretchctl/clients"
	"github.com/stretchctl/stretchctl/config"
	"github.com/stretchctl/stretchctl/probe"
	"github.com/stretchctl/stretchctl/topology"
)

// ProducerSpec says how the ledger's producers are configured: the
// settings of a producer file with its library's defaults (or that
// library's defaults alone), then the overrides.
type ProducerSpec struct {
	// File is a producer .properties file ("": the library's defaults).
	File string
	// Library is the client library the file is written for (java,
	// sarama, librdkafka, franz-go; default java): its defaults apply.
	Library config.Library
	// Acks and Idempotence override the file ("" keeps it).
	Acks, Idempotence string
}

// producer is a resolved ProducerSpec.
type producer struct {
	settings probe.Producer
	// source is the file, or what the defaults are.
	source string
	// client is the same as a client file, for the prediction.
	client topology.ClientConfig
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
		cc, err = clients.Load(config.Client{File: s.File, Kind: config.KindProducer, Library: s.Library, DC: dc}, cfg.Cluster.KafkaVersion)
		if err != nil {
			return producer{}, &OptionError{OptProducerFile, err}
		}
		source = s.File
	} else {
		defaults := clients.Defaults(string(s.Library), topology.Producer, cfg.Cluster.KafkaVersion)
		if defaults == nil {
			return producer{}, &OptionError{OptProducerLibrary, fmt.Errorf("unknown library %q: want java, sarama, librdkafka or franz-go", s.Library)}
		}
		cc = topology.ClientConfig{File: "drill workload", Path: "drill workload", Kind: topology.Producer, Library: string(s.Library), DC: dc, Producer: defaults}
	}
	flags := false
	for name, v := range map[string]string{"acks": s.Acks, "enable.idempotence": s.Idempotence} {
		if v != "" {
			cc.Producer[name] = topology.Setting{Value: v, Default: "drill override of " + name}
			flags = true
		}
	}
	if flags && s.File == "" {
		source = "overrides over " + source
	}
	p, err := probe.ProducerFrom(cc.Producer, filepath.Base(source))
	if err != nil {
		return producer{}, fmt.Errorf("producer settings (%s): %w", source, err)
	}
	return producer{settings: p, source: source, client: cc}, nil
}
