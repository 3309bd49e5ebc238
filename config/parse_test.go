package config

import (
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// doc joins lines with newlines so that a case's line numbers are easy to read off.
func doc(lines ...string) string { return strings.Join(lines, "\n") + "\n" }

type parseCase struct {
	name string
	file string // defaults to t.yaml
	yaml string
	want []string // every problem, formatted, in order
}

func runParseCases(t *testing.T, tests []parseCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := tt.file
			if file == "" {
				file = "t.yaml"
			}
			c, err := Parse(file, []byte(tt.yaml))
			if err == nil {
				t.Fatalf("Parse succeeded (%+v), want problems %q", c, tt.want)
			}
			if c != nil {
				t.Errorf("Parse returned a config along with an error")
			}
			got := problems(t, err)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("problems:\ngot  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestValidationRules(t *testing.T) {
	runParseCases(t, []parseCase{
		{"bootstrap missing points at cluster", "", doc(
			"cluster:",
			"  name: x",
			"topology:",
			"  dcs: [dc-a]",
		), []string{"t.yaml:1:1: cluster.bootstrap: required: list at least one broker as host:port"}},
		{"cluster section missing points at top level", "", doc(
			"topology:",
			"  dcs: [dc-a]",
		), []string{"t.yaml:1:1: cluster.bootstrap: required: list at least one broker as host:port"}},
		{"bootstrap empty list", "", doc(
			"cluster:",
			"  bootstrap: []",
			"topology:",
			"  dcs: [dc-a]",
		), []string{"t.yaml:2:14: cluster.bootstrap: required: list at least one broker as host:port"}},
		{"bootstrap port out of range", "", doc(
			"cluster:",
			"  bootstrap:",
			"    - b1:9092",
			"    - b2:99999",
			"topology:",
			"  dcs: [dc-a]",
		), []string{`t.yaml:4:7: cluster.bootstrap[1]: must be host:port with a numeric port 1-65535, got "b2:99999"`}},
		{"bootstrap without port", "", doc(
			"cluster:",
			"  bootstrap: [broker1]",
			"topology:",
			"  dcs: [dc-a]",
		), []string{`t.yaml:2:15: cluster.bootstrap[0]: must be host:port with a numeric port 1-65535, got "broker1"`}},
		{"bootstrap named port", "", doc(
			"cluster:",
			"  bootstrap: [\"b1:kafka\"]",
			"topology:",
			"  dcs: [dc-a]",
		), []string{`t.yaml:2:15: cluster.bootstrap[0]: must be host:port with a numeric port 1-65535, got "b1:kafka"`}},
		{"kafkaVersion not dotted numbers", "", doc(
			"cluster:",
			"  bootstrap: [b1:9092]",
			"  kafkaVersion: 4.x",
			"topology:",
			"  dcs: [dc-a]",
		), []string{`t.yaml:3:17: cluster.kafkaVersion: must be a dotted version like 4.3.1, got "4.x"`}},
		{"kafkaVersion empty", "", doc(
			"cluster:",
			"  bootstrap: [b1:9092]",
			"  kafkaVersion: \"\"",
			"topology:",
			"  dcs: [dc-a]",
		), []string{`t.yaml:3:17: cluster.kafkaVersion: must be a dotted version like 4.3.1, got ""`}},
		{"timeout bare number", "", doc(
			"cluster:",
			"  bootstrap: [b1:9092]",
			"  timeout: 30",
			"topology:",
			"  dcs: [dc-a]",
		), []string{`t.yaml:3:12: cluster.timeout: 30 has no unit; use a unit, e.g. 30s`}},
		{"timeout zero", "", doc(
			"cluster:",
			"  bootstrap: [b1:9092]",
			"  timeout: 0s",
			"topology:",
			"  dcs: [dc-a]",
		), []string{`t.yaml:3:12: cluster.timeout: must be a positive duration like 10s, got "0s"`}},
		{"tls certFile without keyFile", "", doc(
			"cluster:",
			"  bootstrap: [b1:9092]",
			"  tls:",
			"    enabled: true",
			"    certFile: c.pem",
			"topology:",
			"  dcs: [dc-a]",
		), []string{`t.yaml:3:3: cluster.tls.keyFile: required when certFile is set (set both or neither)`}},
		{"tls keyFile without certFile", "", doc(
			"cluster:",
			"  bootstrap: [b1:9092]",
			"  tls:",
			"    keyFile: c.key",
			"topology:",
			"  dcs: [dc-a]",
		), []string{`t.yaml:3:3: cluster.tls.certFile: required when keyFile is set (set both or neither)`}},
		{"sasl unknown mechanism shows what was written", "", doc(
			"cluster:",
			"  bootstrap: [b1:9092]",
			"  sasl:",
			"    mechanism: gssapi",
			"    username: u",
			"    passwordEnv: PW",
			"topology:",
			"  dcs: [dc-a]",
		), []string{`t.yaml:4:16: cluster.sasl.mechanism: must be one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, got "gssapi"`}},
		{"sasl missing mechanism username and password", "", doc(
			"cluster:",
			"  bootstrap: [b1:9092]",
			"  sasl: {}",
			"topology:",
			"  dcs: [dc-a]",
		), []string{
			`t.yaml:3:3: cluster.sasl.mechanism: required: one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512`,
			`t.yaml:3:3: cluster.sasl.username: required`,
			`t.yaml:3:3: cluster.sasl.passwordFile: required: set passwordFile or passwordEnv`,
		}},
		{"sasl both password sources", "", doc(
			"cluster:",
			"  bootstrap: [b1:9092]",
			"  sasl:",
			"    mechanism: PLAIN",
			"    username: u",
			"    passwordFile: pw",
			"    passwordEnv: PW",
			"topology:",
			"  dcs: [dc-a]",
		), []string{`t.yaml:7:18: cluster.sasl.passwordEnv: set only one of passwordFile and passwordEnv`}},
		{"dcs missing points at topology", "", doc(
			"cluster:",
			"  bootstrap: [b1:9092]",
			"topology:",
			"  racks: {r1: dc-a}",
		), []string{`t.yaml:3:1: topology.dcs: required: list at least one DC`}},
		{"topology missing points at top level", "", doc(
			"cluster:",
			"  bootstrap: [b1:9092]",
		), []string{`t.yaml:1:1: topology.dcs: required: list at least one DC`}},
		{"dc name invalid", "", doc(
			"cluster:",
			"  bootstrap: [b1:9092]",
			"topology:",
			"  dcs: [dc-a, DC_B]",
		), []string{`t.yaml:4:15: topology.dcs[1]: must be 1-32 lowercase letters, digits or dashes, not starting or ending with a dash, got "DC_B"`}},
		{"dc name too long", "", doc(
			"cluster:",
			"  bootstrap: [b1:9092]",
			"topology:",
			"  dcs: [abcdefghijabcdefghijabcdefghijabc]",
		), []string{`t.yaml:4:9: topology.dcs[0]: must be 1-32 lowercase letters, digits or dashes, not starting or ending with a dash, got "abcdefghijabcdefghijabcdefghijabc"`}},
		{"dc duplicate", "", doc(
			"cluster:",
			"  bootstrap: [b1:9092]",
			"topology:",
			"  dcs: [dc-a, dc-a]",
		), []string{`t.yaml:4:15: topology.dcs[1]: duplicate DC "dc-a" (already listed as topology.dcs[0])`}},
		{"rack maps to unlisted DC", "", doc(
			"cluster:",
			"  bootstrap: [b1:9092]",
			"topology:",
			"  dcs: [dc-a]",
			"  racks:",
			"    eu-west-1a: dc-x",
		), []string{`t.yaml:6:17: topology.racks.eu-west-1a: DC "dc-x" is not listed in topology.dcs`}},
		{"controller negative id and unlisted DC", "", doc(
			"cluster:",
			"  bootstrap: [b1:9092]",
			"topology:",
			"  dcs: [dc-a]",
			"  controllers:",
			"    1: dc-a",
			"    -2: dc-z",
		), []string{
			`t.yaml:7:5: topology.controllers.-2: key must be a controller node id (an integer >= 0), got "-2"`,
			`t.yaml:7:9: topology.controllers.-2: DC "dc-z" is not listed in topology.dcs`,
		}},
		{"controller id not a number", "", doc(
			"cluster:",
			"  bootstrap: [b1:9092]",
			"topology:",
			"  dcs: [dc-a]",
			"  controllers:",
			"    x1: dc-a",
		), []string{`t.yaml:6:5: topology.controllers.x1: key must be a controller node id (an integer >= 0), got "x1"`}},
		{"zookeeper key without port", "", doc(
			"cluster:",
			"  bootstrap: [b1:9092]",
			"topology:",
			"  dcs: [dc-a]",
			"  zookeeper:",
			"    \"zk1.example.com\": dc-a",
		), []string{`t.yaml:6:5: topology.zookeeper["zk1.example.com"]: key must be host:port with a numeric port 1-65535, got "zk1.example.com"`}},
		{"rpo negative", "", doc(
			"cluster:",
			"  bootstrap: [b1:9092]",
			"topology:",
			"  dcs: [dc-a]",
			"goals:",
			"  rpo: -1",
		), []string{`t.yaml:6:8: goals.rpo: must be 0 or more acknowledged records, got -1`}},
		{"rto negative (example from the design doc)", "stretch.yaml", doc(
			"cluster:",
			"  name: prod",
			"  bootstrap:",
			"    - b1:9092",
			"    - b2:9092",
			"topology:",
			"  dcs:",
			"    - dc-a",
			"    - dc-b",
			"goals:",
			"  rpo: 0",
			"  rto: -5s",
		), []string{`stretch.yaml:12:8: goals.rto: must be a positive duration like 30s, got "-5s"`}},
		{"rto not a duration", "", doc(
			"cluster:",
			"  bootstrap: [b1:9092]",
			"topology:",
			"  dcs: [dc-a]",
			"goals:",
			"  rto: soon",
		), []string{`t.yaml:6:8: goals.rto: "soon" is not a duration; use a number with a unit, e.g. 30s or 250ms`}},
		{"latency warn above fail", "", doc(
			"cluster:",
			"  bootstrap: [b1:9092]",
			"topology:",
			"  dcs: [dc-a]",
			"goals:",
			"  latency:",
			"    warn: 200ms",
			"    fail: 100ms",
		), []string{`t.yaml:7:11: goals.latency.warn: must not exceed fail (100ms), got "200ms"`}},
		{"latency warn above default fail", "", doc(
			"cluster:",
			"  bootstrap: [b1:9092]",
			"topology:",
			"  dcs: [dc-a]",
			"goals:",
			"  latency:",
			"    warn: 150ms",
		), []string{`t.yaml:7:11: goals.latency.warn: must not exceed fail (100ms), got "150ms"`}},
		{"latency default warn above fail", "", doc(
			"cluster:",
			"  bootstrap: [b1:9092]",
			"topology:",
			"  dcs: [dc-a]",
			"goals:",
			"  latency:",
			"    fail: 30ms",
		), []string{`t.yaml:6:3: goals.latency.warn: must not exceed fail (30ms), got 50ms (the default)`}},
		{"pair of the same DC", "", doc(
			"cluster:",
			"  bootstrap: [b1:9092]",
			"topology:",
			"  dcs: [dc-a, dc-b]",
			"goals:",
			"  latency:",
			"    pairs:",
			"      dc-a/dc-a: {warn: 1ms, fail: 2ms}",
		), []string{`t.yaml:8:7: goals.latency.pairs.dc-a/dc-a: pair must name two different DCs, got "dc-a/dc-a"`}},
		{"pair key without slash", "", doc(
			"cluster:",
			"  bootstrap: [b1:9092]",
			"topology:",
			"  dcs: [dc-a, dc-b]",
			"goals:",
			"  latency:",
			"    pairs:",
			"      dc-a: {warn: 1ms}",
		), []string{`t.yaml:8:7: goals.latency.pairs.dc-a: pair key must be two DCs joined by a slash, like dc-a/dc-b, got "dc-a"`}},
		{"pair with unlisted DC", "", doc(
			"cluster:",
			"  bootstrap: [b1:9092]",
			"topology:",
			"  dcs: [dc-a, dc-b]",
			"goals:",
			"  latency:",
			"    pairs:",
			"      dc-a/dc-x: {warn: 1ms}",
		), []string{`t.yaml:8:7: goals.latency.pairs.dc-a/dc-x: DC "dc-x" is not listed in topology.dcs`}},
		{"pair listed in both orders", "", doc(
			"cluster:",
			"  bootstrap: [b1:9092]",
			"topology:",
			"  dcs: [dc-a, dc-b]",
			"goals:",
			"  latency:",
			"    pairs:",
			"      dc-b/dc-a: {warn: 1ms}",
			"      dc-a/dc-b: {warn: 2ms}",
		), []string{`t.yaml:8:7: goals.latency.pairs.dc-b/dc-a: same DC pair as "dc-a/dc-b"; keep only one of them`}},
		{"pair warn above fail", "", doc(
			"cluster:",
			"  bootstrap: [b1:9092]",
			"topology:",
			"  dcs: [dc-a, dc-b]",
			"goals:",
			"  latency:",
			"    pairs:",
			"      dc-a/dc-b: {warn: 90ms, fail: 80ms}",
		), []string{`t.yaml:8:25: goals.latency.pairs.dc-a/dc-b.warn: must not exceed fail (80ms), got "90ms"`}},
		{"pair inherited warn above fail", "", doc(
			"cluster:",
			"  bootstrap: [b1:9092]",
			"topology:",
			"  dcs: [dc-a, dc-b]",
			"goals:",
			"  latency:",
			"    pairs:",
			"      dc-a/dc-b:",
			"        fail: 30ms",
		), []string{`t.yaml:8:7: goals.latency.pairs.dc-a/dc-b.warn: must not exceed fail (30ms), got 50ms (inherited from goals.latency.warn)`}},
		{"pair zero duration", "", doc(
			"cluster:",
			"  bootstrap: [b1:9092]",
			"topology:",
			"  dcs: [dc-a, dc-b]",
			"goals:",
			"  latency:",
			"    pairs:",
			"      dc-a/dc-b: {warn: 0s}",
		), []string{`t.yaml:8:25: goals.latency.pairs.dc-a/dc-b.warn: must be a positive duration like 50ms, got "0s"`}},
		{"client without file, bad library, unlisted dc", "", doc(
			"cluster:",
			"  bootstrap: [b1:9092]",
			"topology:",
			"  dcs: [dc-a]",
			"clients:",
			"  - kind: producer",
			"    library: kafka-python",
			"    dc: dc-x",
		), []string{
			`t.yaml:6:5: clients[0].file: required: path to the client properties file, relative to this file`,
			`t.yaml:7:14: clients[0].library: must be one of java, sarama, librdkafka, franz-go, got "kafka-python"`,
			`t.yaml:8:9: clients[0].dc: DC "dc-x" is not listed in topology.dcs`,
		}},
		{"client kind invalid", "", doc(
			"cluster:",
			"  bootstrap: [b1:9092]",
			"topology:",
			"  dcs: [dc-a]",
			"clients:",
			"  - file: p.properties",
			"    kind: admin",
		), []string{`t.yaml:7:11: clients[0].kind: must be one of producer, consumer, streams, got "admin"`}},
		{"client kind missing", "", doc(
			"cluster:",
			"  bootstrap: [b1:9092]",
			"topology:",
			"  dcs: [dc-a]",
			"clients:",
			"  - file: a.properties",
			"    kind: producer",
			"  - file: b.properties",
		), []string{`t.yaml:8:5: clients[1].kind: required: one of producer, consumer, streams`}},
		{"ignore rule and reason", "", doc(
			"cluster:",
			"  bootstrap: [b1:9092]",
			"topology:",
			"  dcs: [dc-a]",
			"ignore:",
			"  - rule: rpo_acks",
			"    reason: \"  \"",
			"  - rule: RPO",
			"    reason: ok",
			"  - subject: topic:x",
		), []string{
			`t.yaml:6:11: ignore[0].rule: must be an upper-case rule id like RPO-ACKS, got "rpo_acks"`,
			`t.yaml:7:13: ignore[0].reason: required: say why the finding is ignored`,
			`t.yaml:8:11: ignore[1].rule: must be an upper-case rule id like RPO-ACKS, got "RPO"`,
			`t.yaml:10:5: ignore[2].rule: required: the id of the rule to suppress, like RPO-ACKS`,
			`t.yaml:10:5: ignore[2].reason: required: say why the finding is ignored`,
		}},
	})
}

func TestUnknownFields(t *testing.T) {
	runParseCases(t, []parseCase{
		{"misspelt field (example from the design doc)", "stretch.yaml", doc(
			"cluster:",
			"  name: x",
			"  bootstrapp: [b1:9092]",
			"topology:",
			"  dcs: [dc-a]",
		), []string{`stretch.yaml:3:3: cluster.bootstrapp: unknown field (did you mean "bootstrap"?)`}},
		{"misspelt top-level section", "", doc(
			"cluster:",
			"  bootstrap: [b1:9092]",
			"topolgy:",
			"  dcs: [dc-a]",
		), []string{`t.yaml:3:1: topolgy: unknown field (did you mean "topology"?)`}},
		{"wrong case", "", doc(
			"cluster:",
			"  bootstrap: [b1:9092]",
			"  sasl:",
			"    mechanism: PLAIN",
			"    username: u",
			"    passwordfile: pw",
			"topology:",
			"  dcs: [dc-a]",
		), []string{`t.yaml:6:5: cluster.sasl.passwordfile: unknown field (did you mean "passwordFile"?)`}},
		{"longer name suggests prefix", "", doc(
			"cluster:",
			"  bootstrap: [b1:9092]",
			"topology:",
			"  dcs: [dc-a]",
			"goals:",
			"  latency:",
			"    warning: 10ms",
		), []string{`t.yaml:7:5: goals.latency.warning: unknown field (did you mean "warn"?)`}},
		{"in a list item", "", doc(
			"cluster:",
			"  bootstrap: [b1:9092]",
			"topology:",
			"  dcs: [dc-a]",
			"clients:",
			"  - file: p.properties",
			"    kind: producer",
			"    libary: sarama",
		), []string{`t.yaml:8:5: clients[0].libary: unknown field (did you mean "library"?)`}},
		{"no close match lists known fields", "", doc(
			"cluster:",
			"  bootstrap: [b1:9092]",
			"  brokers: 3",
			"topology:",
			"  dcs: [dc-a]",
		), []string{`t.yaml:3:3: cluster.brokers: unknown field (known fields: name, bootstrap, controllers, kafkaVersion, timeout, tls, sasl)`}},
	})
}

func TestTypeErrors(t *testing.T) {
	runParseCases(t, []parseCase{
		{"string where a list is expected", "", doc(
			"cluster:",
			"  bootstrap: \"b1:9092,b2:9092\"",
			"topology:",
			"  dcs: [dc-a]",
		), []string{`t.yaml:2:14: cluster.bootstrap: expected a list, got the string "b1:9092,b2:9092"`}},
		{"mapping where a list is expected", "", doc(
			"cluster:",
			"  bootstrap: [b1:9092]",
			"topology:",
			"  dcs: {a: b}",
			"  racks: {r: dc-x}",
		), []string{`t.yaml:4:8: topology.dcs: expected a list, got a mapping`}},
		{"list where a mapping is expected", "", doc(
			"cluster: [b1:9092]",
			"topology:",
			"  dcs: [dc-a]",
		), []string{`t.yaml:1:10: cluster: expected a mapping, got a list`}},
		{"string where a boolean is expected", "", doc(
			"cluster:",
			"  bootstrap: [b1:9092]",
			"  tls:",
			"    enabled: \"yes\"",
			"topology:",
			"  dcs: [dc-a]",
		), []string{`t.yaml:4:14: cluster.tls.enabled: expected true or false, got the string "yes"`}},
		{"float where an integer is expected", "", doc(
			"cluster:",
			"  bootstrap: [b1:9092]",
			"topology:",
			"  dcs: [dc-a]",
			"goals:",
			"  rpo: 1.5",
		), []string{`t.yaml:6:8: goals.rpo: expected an integer, got the number 1.5`}},
		{"mapping where a string is expected", "", doc(
			"cluster:",
			"  name: {a: 1}",
			"  bootstrap: [b1:9092]",
			"topology:",
			"  dcs: [dc-a]",
		), []string{`t.yaml:2:9: cluster.name: expected a string, got a mapping`}},
		{"list where a duration is expected", "", doc(
			"cluster:",
			"  bootstrap: [b1:9092]",
			"  timeout: [1s]",
			"topology:",
			"  dcs: [dc-a]",
		), []string{`t.yaml:3:12: cluster.timeout: expected a duration like 30s, got a list`}},
		{"field set twice", "", doc(
			"cluster:",
			"  bootstrap: [b1:9092]",
			"topology:",
			"  dcs: [dc-a]",
			"  dcs: [dc-b]",
		), []string{`t.yaml:5:3: topology.dcs: field set twice (first at line 4)`}},
		{"map key set twice", "", doc(
			"cluster:",
			"  bootstrap: [b1:9092]",
			"topology:",
			"  dcs: [dc-a]",
			"  racks:",
			"    r1: dc-a",
			"    r1: dc-a",
		), []string{`t.yaml:7:5: topology.racks.r1: key set twice (first at line 6)`}},
		{"merge keys", "", doc(
			"cluster:",
			"  <<: {bootstrap: [b1:9092]}",
			"topology:",
			"  dcs: [dc-a]",
		), []string{`t.yaml:2:3: cluster: merge keys (<<) are not supported; write the fields out`}},
		{"error through an alias points at the alias", "", doc(
			"cluster:",
			"  name: &x dc-x",
			"  bootstrap: [b1:9092]",
			"topology:",
			"  dcs: [dc-a]",
			"  racks: {r1: *x}",
		), []string{`t.yaml:6:15: topology.racks.r1: DC "dc-x" is not listed in topology.dcs`}},
	})
}

func TestFileLevelErrors(t *testing.T) {
	const empty = "t.yaml:1:1: file is empty; expected a mapping with cluster, topology and goals"
	runParseCases(t, []parseCase{
		{"empty", "", "", []string{empty}},
		{"only a comment", "", "# nothing here\n", []string{empty}},
		{"null document", "", "~\n", []string{empty}},
		{"only a document marker", "", "---\n", []string{empty}},
		{"top-level list", "", "- a\n- b\n", []string{"t.yaml:1:1: expected a mapping with cluster, topology and goals at the top level, got a list"}},
		{"top-level string", "", "\n\nhello\n", []string{`t.yaml:3:1: expected a mapping with cluster, topology and goals at the top level, got the string "hello"`}},
		{"two documents", "", "cluster: {}\n---\ncluster: {}\n", []string{"t.yaml:2:1: file holds more than one YAML document; stretch.yaml must hold exactly one"}},
		{"unclosed flow list", "", "cluster:\n  bootstrap: [a\ntopology: {}\n", []string{"t.yaml:2: invalid YAML: did not find expected ',' or ']'"}},
		{"tab indentation", "", "cluster:\n\tbootstrap: [a]\n", []string{"t.yaml:2: invalid YAML: found character that cannot start any token"}},
		{"error on the first line", "", "cluster: [a, b}\n", []string{"t.yaml:1: invalid YAML: did not find expected ',' or ']'"}},
		{"bad indentation", "", "cluster:\n  - a\n  b: c\n", []string{"t.yaml:2: invalid YAML: did not find expected '-' indicator"}},
		{"invalid UTF-8 is located", "", "cluster:\n  name: a\xffb\n", []string{"t.yaml:2:10: invalid YAML: invalid leading UTF-8 octet"}},
		{"control character is located", "", "cluster:\n  name: \"a\x01b\"\n", []string{"t.yaml:2:11: invalid YAML: control characters are not allowed"}},
		{"unknown alias is located", "", "cluster:\n  name: *nope\n", []string{"t.yaml:2:9: invalid YAML: unknown anchor 'nope' referenced"}},
		{"no name", "<input>", "- a\n", []string{"<input>:1:1: expected a mapping with cluster, topology and goals at the top level, got a list"}},
	})
}

func TestMultipleProblems(t *testing.T) {
	_, err := Load("../testdata/config/invalid.yaml")
	want := []string{
		`../testdata/config/invalid.yaml:2:3: cluster.bootstrapp: unknown field (did you mean "bootstrap"?)`,
		`../testdata/config/invalid.yaml:3:17: cluster.kafkaVersion: must be a dotted version like 4.3.1, got "four"`,
		`../testdata/config/invalid.yaml:4:12: cluster.timeout: must be a positive duration like 10s, got "0s"`,
		`../testdata/config/invalid.yaml:6:15: topology.dcs[1]: must be 1-32 lowercase letters, digits or dashes, not starting or ending with a dash, got "DC_B"`,
		`../testdata/config/invalid.yaml:6:21: topology.dcs[2]: duplicate DC "dc-a" (already listed as topology.dcs[0])`,
		`../testdata/config/invalid.yaml:7:20: topology.controllers.1: DC "dc-x" is not listed in topology.dcs`,
		`../testdata/config/invalid.yaml:9:8: goals.rpo: must be 0 or more acknowledged records, got -1`,
		`../testdata/config/invalid.yaml:10:8: goals.rto: must be a positive duration like 30s, got "-5s"`,
		`../testdata/config/invalid.yaml:12:11: goals.latency.warn: must not exceed fail (100ms), got "200ms"`,
		`../testdata/config/invalid.yaml:15:5: clients[0].file: required: path to the client properties file, relative to this file`,
		`../testdata/config/invalid.yaml:16:14: clients[0].library: must be one of java, sarama, librdkafka, franz-go, got "kafka-python"`,
		`../testdata/config/invalid.yaml:18:11: ignore[0].rule: must be an upper-case rule id like RPO-ACKS, got "rpo-acks"`,
		`../testdata/config/invalid.yaml:19:13: ignore[0].reason: required: say why the finding is ignored`,
	}
	got := problems(t, err)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("problems:\ngot  %q\nwant %q", got, want)
	}
	if want := strings.Join(want, "\n"); err.Error() != want {
		t.Errorf("Error() =\n%s\nwant\n%s", err.Error(), want)
	}
}

func TestTooManyProblems(t *testing.T) {
	var b strings.Builder
	b.WriteString("cluster:\n  bootstrap: [b1:9092]\ntopology:\n  dcs: [dc-a]\n  racks:\n")
	for i := 0; i < 300; i++ {
		b.WriteString("    r" + strconv.Itoa(i) + ": dc-x\n")
	}
	_, err := Parse("t.yaml", []byte(b.String()))
	got := problems(t, err)
	if len(got) != maxProblems+1 {
		t.Fatalf("got %d problems, want %d", len(got), maxProblems+1)
	}
	if want := "t.yaml: too many problems; only the first 100 are shown"; got[len(got)-1] != want {
		t.Errorf("last problem = %q, want %q", got[len(got)-1], want)
	}
}

func TestAliasesAndQuotedKeys(t *testing.T) {
	c, err := Parse("t.yaml", []byte(doc(
		"cluster:",
		"  bootstrap: &bs [b1:9092]",
		"topology:",
		"  dcs: [dc-a, dc-b]",
		"  controllers: {\"1\": dc-a, 2: dc-b}",
		"clients:",
		"  - {file: a.properties, kind: producer, dc: &a dc-a}",
		"  - {file: b.properties, kind: consumer, dc: *a}",
	)))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.Clients[1].DC, "dc-a"; got != want {
		t.Errorf("clients[1].dc = %q, want %q", got, want)
	}
	if got, want := c.Topology.Controllers, map[string]string{"1": "dc-a", "2": "dc-b"}; !reflect.DeepEqual(got, want) {
		t.Errorf("controllers = %v, want %v", got, want)
	}
}

func TestTrailingDocumentMarkerAllowed(t *testing.T) {
	if _, err := Parse("t.yaml", []byte("cluster:\n  bootstrap: [b:1]\ntopology:\n  dcs: [a]\n---\n")); err != nil {
		t.Errorf("Parse: %v", err)
	}
}

func TestProblemString(t *testing.T) {
	tests := []struct {
		name string
		p    Problem
		want string
	}{
		{"full", Problem{"f.yaml", 3, 8, "goals.rto", "bad"}, "f.yaml:3:8: goals.rto: bad"},
		{"no column", Problem{"f.yaml", 3, 0, "", "bad"}, "f.yaml:3: bad"},
		{"no position", Problem{"f.yaml", 0, 0, "a.b", "bad"}, "f.yaml: a.b: bad"},
		{"no file", Problem{"", 0, 0, "a.b", "bad"}, "a.b: bad"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.p.String(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load("testdata/does-not-exist.yaml")
	if err == nil || !strings.Contains(err.Error(), "testdata/does-not-exist.yaml") {
		t.Errorf("Load error = %v, want one naming the file", err)
	}
}
