package clients

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchctl/stretchctl/config"
	"github.com/stretchctl/stretchctl/internal/golden"
	"github.com/stretchctl/stretchctl/topology"
)

// mustParse parses a testdata file.
func mustParse(t *testing.T, file string, kind topology.ClientKind, lib, version string) topology.ClientConfig {
	t.Helper()
	data, err := os.ReadFile(golden.Path("clients", file))
	if err != nil {
		t.Fatal(err)
	}
	cc, err := Parse(file, data, kind, lib, "dc-a", version)
	if err != nil {
		t.Fatalf("Parse(%s): %v", file, err)
	}
	return cc
}

// settingsOf returns the settings map of a ClientConfig by name.
func settingsOf(cc topology.ClientConfig, which string) topology.Settings {
	switch which {
	case "producer":
		return cc.Producer
	case "consumer":
		return cc.Consumer
	}
	return cc.Streams
}

func TestLibraryDefaults(t *testing.T) {
	tests := []struct {
		name    string
		lib     string
		kind    topology.ClientKind
		version string
		key     string
		want    string
		// wantWhy must occur in Setting.Default.
		wantWhy string
	}{
		{"java 4 acks", "java", topology.Producer, "4.3.1", "acks", "all", "java 4.x default"},
		{"java 4 retries", "java", topology.Producer, "4.3.1", "retries", "2147483647", "java 4.x default"},
		{"java 4 idempotence", "java", topology.Producer, "4.3.1", "enable.idempotence", "true", "java 4.x default"},
		{"java 4 linger", "java", topology.Producer, "4.0.0", "linger.ms", "5", "java 4.x default"},
		{"java 4 rebootstrap", "java", topology.Producer, "4.0.0", "metadata.recovery.strategy", "rebootstrap", "java 4.x default"},
		{"java 3 acks", "java", topology.Producer, "3.9.0", "acks", "all", "java 3.x default"},
		{"java 3 retries", "java", topology.Producer, "3.9.0", "retries", "2147483647", "java 3.x default"},
		{"java 3 idempotence", "java", topology.Producer, "3.9.0", "enable.idempotence", "true", "java 3.x default"},
		{"java 3 linger", "java", topology.Producer, "3.9.0", "linger.ms", "0", "java 3.x default"},
		{"java 3 no rebootstrap", "java", topology.Producer, "3.9.0", "metadata.recovery.strategy", "none", "java 3.x default"},
		{"java 3.1.0 idempotence bug", "java", topology.Producer, "3.1.0", "enable.idempotence", "false", "KAFKA-13598"},
		{"java 3.1.1 idempotence fixed", "java", topology.Producer, "3.1.1", "enable.idempotence", "true", "java 3.x default"},
		{"java 2 acks", "java", topology.Producer, "2.8.2", "acks", "1", "java 2.x default"},
		{"java 2 idempotence", "java", topology.Producer, "2.8.2", "enable.idempotence", "false", "java 2.x default"},
		{"java empty version is the config default", "java", topology.Producer, "", "linger.ms", "5", "java 4.x default"},
		{"java consumer offset reset", "java", topology.Consumer, "4.3.1", "auto.offset.reset", "latest", "java 4.x default"},
		{"java consumer isolation", "java", topology.Consumer, "4.3.1", "isolation.level", "read_uncommitted", "java 4.x default"},
		{"java consumer session", "java", topology.Consumer, "3.9.0", "session.timeout.ms", "45000", "java 3.x default"},
		{"java 2 consumer session", "java", topology.Consumer, "2.8.0", "session.timeout.ms", "10000", "java 2.x default"},
		{"java consumer protocol", "java", topology.Consumer, "4.3.1", "group.protocol", "classic", "java 4.x default"},
		{"java streams replication", "java", topology.Streams, "4.3.1", "replication.factor", "-1", "kafka streams 4.x default"},
		{"java streams standby", "java", topology.Streams, "4.3.1", "num.standby.replicas", "0", "kafka streams 4.x default"},
		{"java streams producer linger", "java", topology.Streams, "4.3.1", "producer.linger.ms", "100", "kafka streams default"},
		{"java streams consumer reset", "java", topology.Streams, "4.3.1", "consumer.auto.offset.reset", "earliest", "kafka streams default"},
		{"java streams consumer auto commit", "java", topology.Streams, "4.3.1", "consumer.enable.auto.commit", "false", "kafka streams default"},

		{"sarama acks", "sarama", topology.Producer, "4.3.1", "acks", "1", "sarama default (Producer.RequiredAcks = WaitForLocal)"},
		{"sarama retries", "sarama", topology.Producer, "4.3.1", "retries", "3", "sarama default (Producer.Retry.Max = 3)"},
		{"sarama idempotence", "sarama", topology.Producer, "4.3.1", "enable.idempotence", "false", "sarama default (Producer.Idempotent = false)"},
		{"sarama request timeout", "sarama", topology.Producer, "4.3.1", "request.timeout.ms", "30000", "Net.ReadTimeout = 30s"},
		{"sarama session", "sarama", topology.Consumer, "4.3.1", "session.timeout.ms", "10000", "sarama default"},
		{"sarama consumer request timeout", "sarama", topology.Consumer, "4.3.1", "request.timeout.ms", "30000", "Net.ReadTimeout"},

		{"franz-go acks", "franz-go", topology.Producer, "4.3.1", "acks", "all", "franz-go default (RequiredAcks = AllISRAcks())"},
		{"franz-go retries", "franz-go", topology.Producer, "4.3.1", "retries", "2147483647", "unlimited"},
		{"franz-go idempotence", "franz-go", topology.Producer, "4.3.1", "enable.idempotence", "true", "franz-go default"},
		{"franz-go in flight", "franz-go", topology.Producer, "4.3.1", "max.in.flight.requests.per.connection", "5", "franz-go default"},
		{"franz-go request timeout", "franz-go", topology.Producer, "4.3.1", "request.timeout.ms", "20000", "ProduceRequestTimeout = 10s"},
		{"franz-go session", "franz-go", topology.Consumer, "4.3.1", "session.timeout.ms", "45000", "franz-go default"},

		{"librdkafka acks", "librdkafka", topology.Producer, "4.3.1", "acks", "all", "librdkafka default (acks = -1)"},
		{"librdkafka retries", "librdkafka", topology.Producer, "4.3.1", "retries", "2147483647", "librdkafka default"},
		{"librdkafka idempotence", "librdkafka", topology.Producer, "4.3.1", "enable.idempotence", "false", "librdkafka default"},
		{"librdkafka linger", "librdkafka", topology.Producer, "4.3.1", "linger.ms", "5", "librdkafka default"},
		{"librdkafka delivery timeout", "librdkafka", topology.Producer, "4.3.1", "delivery.timeout.ms", "300000", "message.timeout.ms"},
		{"librdkafka isolation", "librdkafka", topology.Consumer, "4.3.1", "isolation.level", "read_committed", "librdkafka default"},
		{"librdkafka offset reset", "librdkafka", topology.Consumer, "4.3.1", "auto.offset.reset", "latest", "largest"},
		{"librdkafka session", "librdkafka", topology.Consumer, "4.3.1", "session.timeout.ms", "45000", "librdkafka default"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Defaults(tt.lib, tt.kind, tt.version)[tt.key]
			if !ok {
				t.Fatalf("Defaults(%s, %s)[%s] missing", tt.lib, tt.kind, tt.key)
			}
			if got.Value != tt.want {
				t.Errorf("value: got %q, want %q", got.Value, tt.want)
			}
			if !strings.Contains(got.Default, tt.wantWhy) {
				t.Errorf("default text: got %q, want it to contain %q", got.Default, tt.wantWhy)
			}
			if got.Line != 0 || got.Key != "" {
				t.Errorf("a default has line %d and key %q, want none", got.Line, got.Key)
			}
		})
	}
}

func TestDefaultsAbsentKeys(t *testing.T) {
	tests := []struct {
		name string
		lib  string
		kind topology.ClientKind
		key  string
	}{
		{"no default bootstrap servers", "java", topology.Producer, "bootstrap.servers"},
		{"sarama has no delivery timeout", "sarama", topology.Producer, "delivery.timeout.ms"},
		{"sarama has no metadata recovery", "sarama", topology.Consumer, "metadata.recovery.strategy"},
		{"franz-go has no metadata recovery", "franz-go", topology.Producer, "metadata.recovery.strategy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, ok := Defaults(tt.lib, tt.kind, "4.3.1")[tt.key]; ok {
				t.Errorf("got %+v, want no entry", got)
			}
		})
	}
}

func TestDefaultsUnknown(t *testing.T) {
	tests := []struct {
		name string
		lib  string
		kind topology.ClientKind
	}{
		{"unknown library", "kafkajs", topology.Producer},
		{"unknown kind", "java", "admin"},
		{"streams needs java", "sarama", topology.Streams},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Defaults(tt.lib, tt.kind, "4.3.1"); got != nil {
				t.Errorf("got %v, want nil", got)
			}
		})
	}
}

func TestExplicitLines(t *testing.T) {
	cc := mustParse(t, "producer.properties", topology.Producer, "java", "4.3.1")
	tests := []struct {
		name  string
		key   string // map key
		value string
		as    string // key as written
		line  int
	}{
		{"continued value", "bootstrap.servers", "broker-a1:9092,broker-b1:9092,broker-c1:9092", "bootstrap.servers", 4},
		{"colon separator after comments", "acks", "1", "acks", 7},
		{"duplicate key keeps the last", "retries", "0", "retries", 11},
		{"equals separator", "linger.ms", "20", "linger.ms", 10},
		{"escaped spaces in key", "key with spaces", "x", "key with spaces", 12},
		{"continuation joins without leading blanks", "client.id", "orders-producer", "client.id", 13},
		{"after a comment ending in a backslash", "request.timeout.ms", "45000", "request.timeout.ms", 16},
		{"secret spanning lines", "sasl.jaas.config", redacted, "sasl.jaas.config", 17},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := cc.Producer[tt.key]
			if !ok {
				t.Fatalf("%s missing", tt.key)
			}
			want := topology.Setting{Value: tt.value, Key: tt.as, Line: tt.line}
			if got != want {
				t.Errorf("got %+v, want %+v", got, want)
			}
		})
	}
	if cc.Consumer != nil || cc.Streams != nil {
		t.Errorf("producer file filled Consumer %v / Streams %v", cc.Consumer, cc.Streams)
	}
	if cc.File != "producer.properties" || cc.Path != "producer.properties" || cc.DC != "dc-a" ||
		cc.Kind != topology.Producer || cc.Library != "java" {
		t.Errorf("header: got %+v", cc)
	}
}

func TestLineEndings(t *testing.T) {
	tests := []struct {
		name string
		data string
		key  string
		want topology.Setting
	}{
		{"LF", "a=1\nb=2\n", "b", topology.Setting{Value: "2", Key: "b", Line: 2}},
		{"CRLF", "a=1\r\nb=2\r\n", "b", topology.Setting{Value: "2", Key: "b", Line: 2}},
		{"lone CR", "a=1\rb=2\r", "b", topology.Setting{Value: "2", Key: "b", Line: 2}},
		{"CRLF continuation", "a=1,\\\r\n  2\r\nb=3\r\n", "a", topology.Setting{Value: "1,2", Key: "a", Line: 1}},
		{"after CRLF continuation", "a=1,\\\r\n  2\r\nb=3\r\n", "b", topology.Setting{Value: "3", Key: "b", Line: 3}},
		{"byte order mark", "\uFEFFa=1\nb=2", "a", topology.Setting{Value: "1", Key: "a", Line: 1}},
		{"no final newline", "a=1\n\n\nb", "b", topology.Setting{Value: "", Key: "b", Line: 4}},
		{"escaped newline in key", "a\\\nb=1\nc=2", "c", topology.Setting{Value: "2", Key: "c", Line: 3}},
		{"unicode escape in key", "\\u0061cks=all\n", "acks", topology.Setting{Value: "all", Key: "acks", Line: 1}},
		{"indented key", "\n\t  linger.ms = 7 \n", "linger.ms", topology.Setting{Value: "7", Key: "linger.ms", Line: 2}},
		{"space separator", "linger.ms 7", "linger.ms", topology.Setting{Value: "7", Key: "linger.ms", Line: 1}},
		{"hash inside a value", "client.id=a#b\n#x=1\n", "client.id", topology.Setting{Value: "a#b", Key: "client.id", Line: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cc, err := Parse("p.properties", []byte(tt.data), topology.Producer, "java", "", "4.3.1")
			if err != nil {
				t.Fatal(err)
			}
			if got := cc.Producer[tt.key]; got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestIdempotenceConflicts(t *testing.T) {
	tests := []struct {
		name    string
		lib     string
		version string
		data    string
		want    string
		wantWhy string
	}{
		{"java acks=1", "java", "4.3.1", "acks=1", "false", "disabled because acks=1"},
		{"java acks=0", "java", "3.9.0", "acks=0", "false", "disabled because acks=0"},
		{"java retries=0", "java", "4.3.1", "retries=0", "false", "disabled because retries=0"},
		{"java max in flight", "java", "4.3.1", "max.in.flight.requests.per.connection=6", "false", "max.in.flight.requests.per.connection=6"},
		{"java acks=-1 is all", "java", "4.3.1", "acks=-1", "true", "java 4.x default"},
		{"java explicit wins", "java", "4.3.1", "acks=1\nenable.idempotence=true", "true", ""},
		{"java 2.x has no conflict to explain", "java", "2.8.0", "acks=1", "false", "java 2.x default"},
		{"franz-go acks=1", "franz-go", "4.3.1", "acks=1", "false", "DisableIdempotentWrite"},
		{"franz-go retries=0 keeps idempotence", "franz-go", "4.3.1", "retries=0", "true", "franz-go default"},
		{"sarama stays off", "sarama", "4.3.1", "acks=all", "false", "sarama default"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cc, err := Parse("p.properties", []byte(tt.data), topology.Producer, tt.lib, "", tt.version)
			if err != nil {
				t.Fatal(err)
			}
			got := cc.Producer["enable.idempotence"]
			if got.Value != tt.want {
				t.Errorf("value: got %q, want %q", got.Value, tt.want)
			}
			if !strings.Contains(got.Default, tt.wantWhy) {
				t.Errorf("default text: got %q, want it to contain %q", got.Default, tt.wantWhy)
			}
		})
	}
}

func TestDependentDefaults(t *testing.T) {
	tests := []struct {
		name string
		lib  string
		data string
		key  string
		want string
	}{
		{"java delivery timeout raised", "java", "request.timeout.ms=200000\nlinger.ms=50", "delivery.timeout.ms", "200050"},
		{"java delivery timeout kept", "java", "request.timeout.ms=60000", "delivery.timeout.ms", "120000"},
		{"franz-go one in flight without idempotence", "franz-go", "enable.idempotence=false", "max.in.flight.requests.per.connection", "1"},
		{"librdkafka five in flight with idempotence", "librdkafka", "enable.idempotence=true", "max.in.flight.requests.per.connection", "5"},
		{"librdkafka many in flight", "librdkafka", "", "max.in.flight.requests.per.connection", "1000000"},
		{"librdkafka transactional delivery timeout", "librdkafka", "transactional.id=t\ntransaction.timeout.ms=20000", "delivery.timeout.ms", "20000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cc, err := Parse("p.properties", []byte(tt.data), topology.Producer, tt.lib, "", "4.3.1")
			if err != nil {
				t.Fatal(err)
			}
			if got := cc.Producer[tt.key]; got.Value != tt.want || got.Line != 0 {
				t.Errorf("got %+v, want default value %q", got, tt.want)
			}
		})
	}
}

func TestLibrdkafkaAliases(t *testing.T) {
	prod := mustParse(t, "producer-librdkafka.properties", topology.Producer, "librdkafka", "4.3.1").Producer
	cons := mustParse(t, "consumer-librdkafka.properties", topology.Consumer, "librdkafka", "4.3.1").Consumer
	tests := []struct {
		name string
		got  topology.Setting
		want topology.Setting
	}{
		{"bootstrap alias", prod["bootstrap.servers"], topology.Setting{Value: "broker-a1:9092,broker-b1:9092", Key: "metadata.broker.list", Line: 2}},
		{"acks alias and -1", prod["acks"], topology.Setting{Value: "all", Key: "request.required.acks", Line: 3}},
		{"delivery timeout alias", prod["delivery.timeout.ms"], topology.Setting{Value: "60000", Key: "message.timeout.ms", Line: 4}},
		{"linger alias", prod["linger.ms"], topology.Setting{Value: "50", Key: "queue.buffering.max.ms", Line: 5}},
		{"retries alias", prod["retries"], topology.Setting{Value: "10", Key: "message.send.max.retries", Line: 6}},
		{"smallest is earliest", cons["auto.offset.reset"], topology.Setting{Value: "earliest", Key: "auto.offset.reset", Line: 3}},
		{"explicit session", cons["session.timeout.ms"], topology.Setting{Value: "30000", Key: "session.timeout.ms", Line: 4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %+v, want %+v", tt.got, tt.want)
			}
		})
	}
	for _, alias := range []string{"request.required.acks", "message.timeout.ms", "queue.buffering.max.ms", "message.send.max.retries", "metadata.broker.list"} {
		if _, ok := prod[alias]; ok {
			t.Errorf("alias %s kept under its own name", alias)
		}
	}
}

func TestAliasValues(t *testing.T) {
	tests := []struct {
		name string
		lib  string
		kind topology.ClientKind
		data string
		key  string
		want topology.Setting
	}{
		{"later alias wins", "librdkafka", topology.Producer, "acks=1\nrequest.required.acks=all", "acks", topology.Setting{Value: "all", Key: "request.required.acks", Line: 2}},
		{"later canonical wins", "librdkafka", topology.Producer, "message.timeout.ms=1\ndelivery.timeout.ms=2", "delivery.timeout.ms", topology.Setting{Value: "2", Key: "delivery.timeout.ms", Line: 2}},
		{"largest", "librdkafka", topology.Consumer, "auto.offset.reset=largest", "auto.offset.reset", topology.Setting{Value: "latest", Key: "auto.offset.reset", Line: 1}},
		{"beginning", "librdkafka", topology.Consumer, "auto.offset.reset=beginning", "auto.offset.reset", topology.Setting{Value: "earliest", Key: "auto.offset.reset", Line: 1}},
		{"error", "librdkafka", topology.Consumer, "auto.offset.reset=error", "auto.offset.reset", topology.Setting{Value: "none", Key: "auto.offset.reset", Line: 1}},
		{"acks -1 for java", "java", topology.Producer, "acks=-1", "acks", topology.Setting{Value: "all", Key: "acks", Line: 1}},
		{"acks -1 for sarama", "sarama", topology.Producer, "acks = -1 ", "acks", topology.Setting{Value: "all", Key: "acks", Line: 1}},
		{"java keeps request.required.acks", "java", topology.Producer, "request.required.acks=0", "request.required.acks", topology.Setting{Value: "0", Key: "request.required.acks", Line: 1}},
		// The Java client refuses librdkafka's alias (ConsumerConfig's
		// ValidString): its default is used, the problem reported.
		{"java refuses largest", "java", topology.Consumer, "auto.offset.reset=largest", "auto.offset.reset", topology.Setting{Value: "latest", Default: `java 4.x default; the file's "largest" on line 1 is invalid`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cc, err := Parse("c.properties", []byte(tt.data), tt.kind, tt.lib, "", "4.3.1")
			if err != nil {
				t.Fatal(err)
			}
			m := cc.Producer
			if tt.kind == topology.Consumer {
				m = cc.Consumer
			}
			if got := m[tt.key]; got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestStreams(t *testing.T) {
	cc := mustParse(t, "streams.properties", topology.Streams, "java", "4.3.1")
	const (
		ignored = "(the file's value is ignored)"
		eos     = "kafka streams exactly_once_v2 default"
	)
	tests := []struct {
		name  string
		which string
		key   string
		// want is the expected setting; the zero Setting means no entry.
		want topology.Setting
	}{
		{name: "prefixed producer key wins", which: "producer", key: "acks", want: topology.Setting{Value: "all", Key: "producer.acks", Line: 12}},
		{name: "unprefixed producer key", which: "producer", key: "retries", want: topology.Setting{Value: "0", Key: "retries", Line: 13}},
		{name: "prefixed producer timeout wins", which: "producer", key: "request.timeout.ms", want: topology.Setting{Value: "50000", Key: "producer.request.timeout.ms", Line: 15}},
		{name: "unprefixed key reaches the consumer", which: "consumer", key: "request.timeout.ms", want: topology.Setting{Value: "40000", Key: "request.timeout.ms", Line: 14}},
		{name: "main consumer wins over consumer", which: "consumer", key: "session.timeout.ms", want: topology.Setting{Value: "20000", Key: "main.consumer.session.timeout.ms", Line: 18}},
		{name: "restore consumer kept under its full key", which: "consumer", key: "restore.consumer.max.poll.records", want: topology.Setting{Value: "100", Key: "restore.consumer.max.poll.records", Line: 19}},
		{name: "global consumer kept under its full key", which: "consumer", key: "global.consumer.session.timeout.ms", want: topology.Setting{Value: "60000", Key: "global.consumer.session.timeout.ms", Line: 20}},
		{name: "auto commit forced off", which: "consumer", key: "enable.auto.commit", want: topology.Setting{Value: "false", Key: "consumer.enable.auto.commit", Line: 21, Default: "kafka streams always uses false " + ignored}},
		{name: "EOS forces read_committed", which: "consumer", key: "isolation.level", want: topology.Setting{Value: "read_committed", Key: "isolation.level", Line: 22, Default: "kafka streams exactly_once_v2 always uses read_committed " + ignored}},
		{name: "unprefixed bootstrap wins for the consumer", which: "consumer", key: "bootstrap.servers", want: topology.Setting{Value: "broker-a1:9092,broker-b1:9092,broker-c1:9092", Key: "bootstrap.servers", Line: 3}},
		{name: "bootstrap reaches the producer", which: "producer", key: "bootstrap.servers", want: topology.Setting{Value: "broker-a1:9092,broker-b1:9092,broker-c1:9092", Key: "bootstrap.servers", Line: 3}},
		{name: "streams consumer offset reset", which: "consumer", key: "auto.offset.reset", want: topology.Setting{Value: "earliest", Default: "kafka streams default (overrides the consumer's auto.offset.reset)"}},
		{name: "streams producer linger", which: "producer", key: "linger.ms", want: topology.Setting{Value: "100", Default: "kafka streams default (overrides the producer's linger.ms)"}},
		{name: "EOS idempotence", which: "producer", key: "enable.idempotence", want: topology.Setting{Value: "true", Default: eos}},
		{name: "EOS delivery timeout", which: "producer", key: "delivery.timeout.ms", want: topology.Setting{Value: "2147483647", Default: eos}},
		{name: "EOS transaction timeout", which: "producer", key: "transaction.timeout.ms", want: topology.Setting{Value: "10000", Default: eos}},
		{name: "java default under streams", which: "producer", key: "retry.backoff.max.ms", want: topology.Setting{Value: "1000", Default: "java 4.x default"}},
		{name: "topic prefix kept", which: "streams", key: "topic.min.insync.replicas", want: topology.Setting{Value: "2", Key: "topic.min.insync.replicas", Line: 24}},
		{name: "streams key", which: "streams", key: "replication.factor", want: topology.Setting{Value: "3", Key: "replication.factor", Line: 5}},
		{name: "client tag", which: "streams", key: "client.tag.zone", want: topology.Setting{Value: "dc-a", Key: "client.tag.zone", Line: 8}},
		{name: "streams default", which: "streams", key: "acceptable.recovery.lag", want: topology.Setting{Value: "10000", Default: "kafka streams 4.x default"}},
		{name: "acks is not a consumer key", which: "consumer", key: "acks"},
		{name: "session timeout is not a producer key", which: "producer", key: "session.timeout.ms"},
		{name: "client key not in streams", which: "streams", key: "acks"},
		{name: "restore key not under the plain name", which: "consumer", key: "max.poll.records"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := settingsOf(cc, tt.which)[tt.key]
			if tt.want == (topology.Setting{}) {
				if ok {
					t.Errorf("got %+v, want no entry", got)
				}
				return
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestStreamsAtLeastOnce(t *testing.T) {
	data := "application.id=a\nproducer.acks=1\nconsumer.isolation.level=read_committed\nenable.idempotence=false\n"
	cc, err := Parse("s.properties", []byte(data), topology.Streams, "java", "", "3.9.0")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		got  topology.Setting
		want string
		why  string
		line int
	}{
		{"idempotence explicit stays", cc.Producer["enable.idempotence"], "false", "", 4},
		{"isolation explicit stays", cc.Consumer["isolation.level"], "read_committed", "", 3},
		{"no EOS delivery override", cc.Producer["delivery.timeout.ms"], "120000", "java 3.x default", 0},
		{"no EOS transaction override", cc.Producer["transaction.timeout.ms"], "60000", "java 3.x default", 0},
		{"linger override", cc.Producer["linger.ms"], "100", "kafka streams default (overrides the producer's linger.ms)", 0},
		{"auto commit", cc.Consumer["enable.auto.commit"], "false", "kafka streams default (Kafka Streams commits itself)", 0},
		{"streams guarantee default", cc.Streams["processing.guarantee"], "at_least_once", "kafka streams 3.x default", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got.Value != tt.want || tt.got.Default != tt.why || tt.got.Line != tt.line {
				t.Errorf("got %+v, want value %q, default %q, line %d", tt.got, tt.want, tt.why, tt.line)
			}
		})
	}

	// Without an explicit enable.idempotence, producer.acks=1 disables it.
	cc, err = Parse("s.properties", []byte("producer.acks=1"), topology.Streams, "java", "", "4.3.1")
	if err != nil {
		t.Fatal(err)
	}
	if got := cc.Producer["enable.idempotence"]; got.Value != "false" || !strings.Contains(got.Default, "disabled because acks=1") {
		t.Errorf("streams idempotence with producer.acks=1: got %+v", got)
	}
}

func TestSecretsRedacted(t *testing.T) {
	secrets := []string{"hunter2", "s3cr3t-Pa55"}
	kinds := []topology.ClientKind{topology.Producer, topology.Consumer, topology.Streams}
	for _, file := range []string{"secrets.properties", "producer.properties"} {
		for _, kind := range kinds {
			t.Run(file+"/"+string(kind), func(t *testing.T) {
				cc := mustParse(t, file, kind, "java", "4.3.1")
				out, err := json.Marshal(cc)
				if err != nil {
					t.Fatal(err)
				}
				dump := string(out) + fmt.Sprintf("%#v", cc)
				for _, s := range secrets {
					if strings.Contains(dump, s) {
						t.Errorf("secret %q found in the result: %s", s, dump)
					}
				}
				if !strings.Contains(dump, redacted) {
					t.Errorf("no %s in the result", redacted)
				}
			})
		}
	}
	t.Run("redacted keys", func(t *testing.T) {
		cc := mustParse(t, "secrets.properties", topology.Producer, "java", "4.3.1")
		for _, key := range []string{"sasl.jaas.config", "ssl.keystore.password", "ssl.key.password", "ssl.truststore.password",
			"sasl.oauthbearer.client.secret", "basic.auth.user.info", "producer.sasl.jaas.config"} {
			if got := cc.Producer[key]; got.Value != redacted || got.Line == 0 {
				t.Errorf("%s: got %+v, want a redacted explicit setting", key, got)
			}
		}
		if got := cc.Producer["sasl.mechanism"]; got.Value != "SCRAM-SHA-512" {
			t.Errorf("sasl.mechanism: got %+v, want it kept", got)
		}
	})
	t.Run("errors", func(t *testing.T) {
		for _, data := range []string{
			"ssl.keystore.password=hunter2\n=hunter2",
			"sasl.jaas.config=hunter2\\u00zz",
			"password=hunter2\\",
			"=hunter2\n",
			"token hunter2\n\xffhunter2",
		} {
			_, err := Parse("p.properties", []byte(data), topology.Producer, "java", "", "4.3.1")
			if err == nil {
				t.Fatalf("%q: no error", data)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("%q: error shows the secret: %v", data, err)
			}
		}
	})
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name    string
		data    string
		kind    topology.ClientKind
		lib     string
		version string
		want    string
	}{
		{"value without key", "acks=all\n  = oops\n", topology.Producer, "java", "4.3.1", "producer.properties:2: separator without a key before it"},
		{"colon without key", "# c\n\n:x", topology.Producer, "java", "4.3.1", "producer.properties:3: separator without a key before it"},
		{"bad unicode escape in value", "a=1\nb=\\u12zz\n", topology.Producer, "java", "4.3.1", `producer.properties:2: invalid unicode escape: \u needs four hex digits`},
		{"bad unicode escape on a continuation line", "a=1,\\\n 2,\\\n \\u00\n", topology.Producer, "java", "4.3.1", `producer.properties:3: invalid unicode escape: \u needs four hex digits`},
		{"bad unicode escape in key", "\\uzzzz=1", topology.Producer, "java", "4.3.1", `producer.properties:1: invalid unicode escape: \u needs four hex digits`},
		{"backslash at end of value", "a=1\nb=2\\", topology.Producer, "java", "4.3.1", "producer.properties:2: backslash at end of file"},
		{"backslash at end of key", "a=1\nb\\", topology.Producer, "java", "4.3.1", "producer.properties:2: backslash at end of file"},
		{"invalid UTF-8", "a=1\nb=\xff\n", topology.Producer, "java", "4.3.1", "producer.properties:2: invalid UTF-8"},
		{"invalid UTF-8 after CRLF", "a=1\r\n\r\nb=\xc3\r\n", topology.Producer, "java", "4.3.1", "producer.properties:3: invalid UTF-8"},
		{"unknown library", "a=1", topology.Producer, "kafkajs", "4.3.1", `producer.properties: unknown client library "kafkajs" (known: java, sarama, librdkafka, franz-go)`},
		{"unknown kind", "a=1", "admin", "java", "4.3.1", `producer.properties: unknown client kind "admin" (known: producer, consumer, streams)`},
		{"streams needs java", "a=1", topology.Streams, "librdkafka", "4.3.1", "producer.properties: kind streams needs library java (Kafka Streams is a Java library), got librdkafka"},
		{"bad version", "a=1", topology.Producer, "java", "four", `producer.properties: invalid kafka version "four": want a dotted version like 4.3.1`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("producer.properties", []byte(tt.data), tt.kind, tt.lib, "", tt.version)
			if err == nil {
				t.Fatalf("got no error, want %q", tt.want)
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	c := config.Client{File: "../testdata/clients/streams.properties", Kind: config.KindStreams, Library: config.LibraryJava, DC: "dc-b"}
	cc, err := Load(c, "4.3.1")
	if err != nil {
		t.Fatal(err)
	}
	if cc.File != c.File || cc.Path != c.Path() || !filepath.IsAbs(cc.Path) || cc.DC != "dc-b" || cc.Kind != topology.Streams || cc.Library != "java" {
		t.Errorf("header: got File %q Path %q DC %q Kind %q Library %q", cc.File, cc.Path, cc.DC, cc.Kind, cc.Library)
	}
	if got := cc.Streams["replication.factor"]; got.Line != 5 {
		t.Errorf("replication.factor: got %+v", got)
	}

	tests := []struct {
		name   string
		client config.Client
		want   string // prefix of the error
		notExt bool   // errors.Is(err, fs.ErrNotExist)
	}{
		{"missing file", config.Client{File: "../testdata/clients/absent.properties", Kind: config.KindProducer, Library: config.LibraryJava}, "../testdata/clients/absent.properties: stat ", true},
		{"directory", config.Client{File: "../testdata/clients", Kind: config.KindProducer, Library: config.LibraryJava}, "../testdata/clients: ", false},
		{"no file", config.Client{Kind: config.KindProducer, Library: config.LibraryJava}, "client file is not set", false},
		{"unknown library", config.Client{File: "../testdata/clients/producer.properties", Kind: config.KindProducer, Library: "kafkajs"}, `../testdata/clients/producer.properties: unknown client library "kafkajs"`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(tt.client, "4.3.1")
			if err == nil {
				t.Fatal("got no error")
			}
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("got %q, want prefix %q", err, tt.want)
			}
			if tt.notExt && !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("%v does not wrap fs.ErrNotExist", err)
			}
		})
	}
}

// TestNoGoroutineLeak guards the reason the scanner runs before the
// library: the library's lexer goroutine blocks forever when the parser
// stops early on a value without a key.
func TestNoGoroutineLeak(t *testing.T) {
	inputs := []string{"=x\ny=1\n", "a=1\n:b\nc=2", "a=\\u00", "a=b\\", "a=1\nb=2\n", "\xff"}
	before := runtime.NumGoroutine()
	for i := 0; i < 200; i++ {
		for _, in := range inputs {
			Parse("p.properties", []byte(in), topology.Producer, "java", "", "4.3.1")
		}
	}
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before+5 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before+5 {
		t.Errorf("%d goroutines before, %d after 1200 parses", before, n)
	}
}

// TestLoadVersionDefaults: clients[].version picks that release's
// defaults (KIP-679: acks=all and idempotence from 3.0; KAFKA-13598: not
// applied in 3.0.0 and 3.1.0); without one the newest is assumed, and
// said.
func TestLoadVersionDefaults(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "p.properties")
	if err := os.WriteFile(path, []byte("linger.ms=10\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		version          string
		acks, idempotent string
		assumed          bool
	}{
		{"2.8.1", "1", "false", false},
		{"3.0.0", "all", "false", false},
		{"3.9.1", "all", "true", false},
		{"", "all", "true", true},
	} {
		cc, err := Load(config.Client{File: path, Kind: config.KindProducer, Library: config.LibraryJava, Version: tt.version}, "3.9.1")
		if err != nil {
			t.Fatal(err)
		}
		if got := cc.Producer["acks"].Value; got != tt.acks {
			t.Errorf("version %q: acks %s, want %s", tt.version, got, tt.acks)
		}
		if got := cc.Producer["enable.idempotence"].Value; got != tt.idempotent {
			t.Errorf("version %q: enable.idempotence %s, want %s", tt.version, got, tt.idempotent)
		}
		if cc.VersionAssumed != tt.assumed || cc.Version == "" {
			t.Errorf("version %q: applied %q, assumed %v", tt.version, cc.Version, cc.VersionAssumed)
		}
	}
}

// Values the library refuses are problems at their line and never used;
// keys written twice are named (issue 15).
func TestInvalidValuesAndDuplicateKeys(t *testing.T) {
	data := "acks=banana\nretries=-1\nenable.idempotence=maybe\nlinger.ms=5\nlinger.ms=10\n"
	cc, err := Parse("p.properties", []byte(data), topology.Producer, "java", "", "4.3.1")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"acks": true, "retries": true, "enable.idempotence": true, "linger.ms": false}
	for _, p := range cc.Problems {
		refused, ok := want[p.Key]
		if !ok || p.Refused != refused || p.Line == 0 {
			t.Errorf("problem %+v", p)
		}
		delete(want, p.Key)
	}
	if len(want) != 0 {
		t.Errorf("not reported: %v (problems %+v)", want, cc.Problems)
	}
	if a := cc.Producer["acks"]; a.Value != "all" || a.Explicit() {
		t.Errorf("acks = %+v, want the java default, not the file's banana", a)
	}
	if l := cc.Producer["linger.ms"]; l.Value != "10" || l.Line != 5 {
		t.Errorf("linger.ms = %+v, want the last occurrence", l)
	}
}
