package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// problems returns the formatted problems of err, or fails the test if err is not an *Error.
func problems(t *testing.T, err error) []string {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %v (%T), want *Error", err, err)
	}
	out := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		out[i] = p.String()
	}
	return out
}

func mustLoad(t *testing.T, path string) *Config {
	t.Helper()
	c, err := Load(path)
	if err != nil {
		t.Fatalf("Load(%s): %v", path, err)
	}
	return c
}

func TestLoadFull(t *testing.T) {
	c := mustLoad(t, "../testdata/config/full.yaml")
	dir, err := filepath.Abs("../testdata/config")
	if err != nil {
		t.Fatal(err)
	}
	w, f := c.Goals.LatencyBudget("dc-c", "dc-b")
	tests := []struct {
		name string
		got  any
		want any
	}{
		{"path", c.Path, "../testdata/config/full.yaml"},
		{"name", c.Cluster.Name, "prod-stretch"},
		{"bootstrap", c.Cluster.Bootstrap, []string{"10.0.1.5:9092", "10.0.2.5:9092", "[2001:db8::7]:9093"}},
		{"kafkaVersion", c.Cluster.KafkaVersion, "4.3.1"},
		{"timeout", c.Cluster.Timeout.Duration, 15 * time.Second},
		{"tls enabled", c.Cluster.TLS.Enabled, true},
		{"tls ca path", c.Cluster.TLS.CAPath(), filepath.Join(dir, "ca.pem")},
		{"tls cert path", c.Cluster.TLS.CertPath(), filepath.Join(dir, "client.pem")},
		{"tls key path", c.Cluster.TLS.KeyPath(), filepath.Join(dir, "client.key")},
		{"tls server name", c.Cluster.TLS.ServerName, "kafka.example.com"},
		{"sasl mechanism normalised", c.Cluster.SASL.Mechanism, MechanismSCRAMSHA512},
		{"sasl username", c.Cluster.SASL.Username, "svc-stretchctl"},
		{"dcs", c.Topology.DCs, []string{"dc-a", "dc-b", "dc-c"}},
		{"racks", c.Topology.Racks, map[string]string{"eu-west-1a": "dc-a", "eu-west-1b": "dc-b", "eu-west-1c": "dc-c"}},
		{"controllers", c.Topology.Controllers, map[string]string{"1": "dc-a", "3": "dc-b", "5": "dc-c"}},
		{"zookeeper", c.Topology.ZooKeeper, map[string]string{"zk1.example.com:2181": "dc-a"}},
		{"rpo", c.Goals.RPO, int64(0)},
		{"rto", c.Goals.RTO.Duration, 45 * time.Second},
		{"latency warn", c.Goals.Latency.Warn.Duration, 40 * time.Millisecond},
		{"latency fail", c.Goals.Latency.Fail.Duration, 80 * time.Millisecond},
		{"pair with both fields", c.Goals.Latency.Pairs["dc-a/dc-c"], LatencyPair{Duration{20 * time.Millisecond}, Duration{40 * time.Millisecond}}},
		{"pair inherits warn", c.Goals.Latency.Pairs["dc-b/dc-c"], LatencyPair{Duration{40 * time.Millisecond}, Duration{90 * time.Millisecond}}},
		{"budget reversed pair", []time.Duration{w, f}, []time.Duration{40 * time.Millisecond, 90 * time.Millisecond}},
		{"clients", len(c.Clients), 2},
		{"client file kept as written", c.Clients[0].File, "clients/producer.properties"},
		{"client path resolved", c.Clients[0].Path(), filepath.Join(dir, "clients", "producer.properties")},
		{"client absolute path", c.Clients[1].Path(), "/etc/kafka/consumer.properties"},
		{"client kind", c.Clients[0].Kind, KindProducer},
		{"client kind normalised", c.Clients[1].Kind, KindConsumer},
		{"client library", c.Clients[0].Library, LibrarySarama},
		{"client library default", c.Clients[1].Library, LibraryJava},
		{"client dc", c.Clients[0].DC, "dc-a"},
		{"ignore", c.Ignore[0], Ignore{Rule: "RPO-ACKS", Subject: "topic:orders", Reason: "legacy producer, tracked in JIRA-123"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !reflect.DeepEqual(tt.got, tt.want) {
				t.Errorf("got %#v, want %#v", tt.got, tt.want)
			}
		})
	}
}

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		file string
	}{
		{"full", "../testdata/config/full.yaml"},
		{"minimal", "../testdata/config/minimal.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustLoad(t, tt.file)
			out, err := c.Marshal()
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			again, err := Parse(tt.file, out)
			if err != nil {
				t.Fatalf("Parse(Marshal()) failed: %v\n%s", err, out)
			}
			if !reflect.DeepEqual(c, again) {
				t.Errorf("round trip differs:\ngot  %#v\nwant %#v\nyaml:\n%s", again, c, out)
			}
			out2, err := again.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			if string(out) != string(out2) {
				t.Errorf("second Marshal differs:\ngot\n%s\nwant\n%s", out2, out)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	c := mustLoad(t, "../testdata/config/minimal.yaml")
	d := Default()
	tests := []struct {
		name string
		got  any
		want any
	}{
		{"kafkaVersion", c.Cluster.KafkaVersion, "4.3.1"},
		{"timeout", c.Cluster.Timeout.Duration, 10 * time.Second},
		{"rpo", c.Goals.RPO, int64(0)},
		{"rto", c.Goals.RTO.Duration, 30 * time.Second},
		{"warn", c.Goals.Latency.Warn.Duration, 50 * time.Millisecond},
		{"fail", c.Goals.Latency.Fail.Duration, 100 * time.Millisecond},
		{"no tls", c.Cluster.TLS, (*TLS)(nil)},
		{"no sasl", c.Cluster.SASL, (*SASL)(nil)},
		{"Default cluster", d.Cluster, Cluster{KafkaVersion: "4.3.1", Timeout: Duration{10 * time.Second}}},
		{"Default goals", d.Goals, Goals{RTO: Duration{30 * time.Second}, Latency: Latency{Warn: Duration{50 * time.Millisecond}, Fail: Duration{100 * time.Millisecond}}}},
		{"Default topology", d.Topology, Topology{}},
		{"parsed equals Default plus required fields", func() *Config {
			want := Default()
			want.Path = "../testdata/config/minimal.yaml"
			want.Cluster.Bootstrap = []string{"broker-1:9092"}
			want.Topology.DCs = []string{"dc-a", "dc-b"}
			return want
		}(), c},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !reflect.DeepEqual(tt.got, tt.want) {
				t.Errorf("got %#v, want %#v", tt.got, tt.want)
			}
		})
	}
}

func TestNullValuesKeepDefaults(t *testing.T) {
	c, err := Parse("t.yaml", []byte("cluster:\n  bootstrap: [b:1]\n  timeout:\n  tls:\ntopology:\n  dcs: [a]\ngoals:\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.Cluster.Timeout.Duration, DefaultTimeout; got != want {
		t.Errorf("timeout = %v, want %v", got, want)
	}
	if c.Cluster.TLS != nil {
		t.Errorf("tls = %#v, want nil", c.Cluster.TLS)
	}
	if got, want := c.Goals.RTO.Duration, DefaultRTO; got != want {
		t.Errorf("rto = %v, want %v", got, want)
	}
}

func TestDefaultMarshalParses(t *testing.T) {
	c := Default()
	c.Cluster.Bootstrap = []string{"localhost:9092"}
	c.Topology.DCs = []string{"dc-a", "dc-b"}
	c.Topology.Controllers = map[string]string{"1": "dc-a", "2": "dc-b"}
	c.Goals.Latency.Pairs = map[string]LatencyPair{"dc-a/dc-b": {Warn: Duration{5 * time.Millisecond}, Fail: Duration{10 * time.Millisecond}}}
	c.Clients = []Client{{File: "p.properties", Kind: KindProducer, Library: LibraryFranzGo}}
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	out, err := c.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	got, err := Parse("lab/stretch.yaml", out)
	if err != nil {
		t.Fatalf("Parse: %v\n%s", err, out)
	}
	c.Path = "lab/stretch.yaml"
	c.setDir(baseDir("lab/stretch.yaml"))
	if !reflect.DeepEqual(got, c) {
		t.Errorf("got %#v\nwant %#v", got, c)
	}
}

func TestValidateInCode(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Config)
		want []string
	}{
		{"default needs bootstrap and dcs", func(*Config) {}, []string{
			"cluster.bootstrap: required: list at least one broker as host:port",
			"topology.dcs: required: list at least one DC",
		}},
		{"valid", func(c *Config) {
			c.Cluster.Bootstrap = []string{"b:9092"}
			c.Topology.DCs = []string{"dc-a"}
		}, nil},
		{"file name is used when set", func(c *Config) {
			c.Path = "x.yaml"
			c.Cluster.Bootstrap = []string{"b:9092"}
			c.Topology.DCs = []string{"dc-a"}
			c.Goals.RTO = Duration{}
		}, []string{`x.yaml: goals.rto: must be a positive duration like 30s, got "0s"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			tt.edit(c)
			err := c.Validate()
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if got := problems(t, err); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestLatencyBudget(t *testing.T) {
	g := Goals{Latency: Latency{
		Warn: Duration{50 * time.Millisecond},
		Fail: Duration{100 * time.Millisecond},
		Pairs: map[string]LatencyPair{
			"dc-a/dc-c": {Warn: Duration{20 * time.Millisecond}, Fail: Duration{40 * time.Millisecond}},
			"dc-b/dc-c": {Fail: Duration{70 * time.Millisecond}},
		},
	}}
	tests := []struct {
		name       string
		a, b       string
		warn, fail time.Duration
	}{
		{"pair as written", "dc-a", "dc-c", 20 * time.Millisecond, 40 * time.Millisecond},
		{"pair reversed", "dc-c", "dc-a", 20 * time.Millisecond, 40 * time.Millisecond},
		{"no override", "dc-a", "dc-b", 50 * time.Millisecond, 100 * time.Millisecond},
		{"no override reversed", "dc-b", "dc-a", 50 * time.Millisecond, 100 * time.Millisecond},
		{"zero field falls back", "dc-c", "dc-b", 50 * time.Millisecond, 70 * time.Millisecond},
		{"unknown dcs", "x", "y", 50 * time.Millisecond, 100 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, f := g.LatencyBudget(tt.a, tt.b)
			if w != tt.warn || f != tt.fail {
				t.Errorf("LatencyBudget(%q, %q) = %v, %v; want %v, %v", tt.a, tt.b, w, f, tt.warn, tt.fail)
			}
		})
	}
}

func TestTopologyHelpers(t *testing.T) {
	top := Topology{
		DCs:         []string{"dc-a", "dc-b"},
		Racks:       map[string]string{"eu-west-1a": "dc-a"},
		Controllers: map[string]string{"1": "dc-a", "3": "dc-b"},
	}
	rackTests := []struct {
		name, rack, want string
	}{
		{"mapped rack", "eu-west-1a", "dc-a"},
		{"rack is dc", "dc-b", "dc-b"},
		{"unmapped rack passes through", "eu-west-1c", "eu-west-1c"},
		{"empty rack", "", ""},
	}
	for _, tt := range rackTests {
		t.Run("rack/"+tt.name, func(t *testing.T) {
			if got := top.DCOfRack(tt.rack); got != tt.want {
				t.Errorf("DCOfRack(%q) = %q, want %q", tt.rack, got, tt.want)
			}
		})
	}
	ctrlTests := []struct {
		name string
		id   int32
		want string
		ok   bool
	}{
		{"known", 3, "dc-b", true},
		{"unknown", 2, "", false},
	}
	for _, tt := range ctrlTests {
		t.Run("controller/"+tt.name, func(t *testing.T) {
			got, ok := top.DCOfController(tt.id)
			if got != tt.want || ok != tt.ok {
				t.Errorf("DCOfController(%d) = %q, %v; want %q, %v", tt.id, got, ok, tt.want, tt.ok)
			}
		})
	}
	if !top.HasDC("dc-a") || top.HasDC("dc-z") {
		t.Errorf("HasDC wrong")
	}
}

func TestIgnored(t *testing.T) {
	c := &Config{Ignore: []Ignore{
		{Rule: "RPO-ACKS", Subject: "topic:orders", Reason: "a"},
		{Rule: "LAT-PAIR", Reason: "b"},
	}}
	tests := []struct {
		name, rule, subject string
		ok                  bool
		reason              string
	}{
		{"subject match", "RPO-ACKS", "topic:orders", true, "a"},
		{"other subject", "RPO-ACKS", "topic:payments", false, ""},
		{"rule without subject matches all", "LAT-PAIR", "dc-a/dc-b", true, "b"},
		{"unknown rule", "RTO-X", "", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ig, ok := c.Ignored(tt.rule, tt.subject)
			if ok != tt.ok || ig.Reason != tt.reason {
				t.Errorf("Ignored(%q, %q) = %+v, %v; want reason %q, %v", tt.rule, tt.subject, ig, ok, tt.reason, tt.ok)
			}
		})
	}
}

func TestPassword(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("pw", "s3cret\n")
	write("pw-crlf", "s3cret\r\n")
	write("pw-space", " s3cret \n")
	write("empty", "\n")
	write("big", strings.Repeat("s3cret", 20000))
	t.Setenv("STRETCH_TEST_PW", "env-s3cret")
	t.Setenv("STRETCH_TEST_EMPTY", "")

	tests := []struct {
		name    string
		sasl    SASL
		want    string
		wantErr string
	}{
		{"file trims newline", SASL{PasswordFile: "pw", dir: dir}, "s3cret", ""},
		{"file trims crlf", SASL{PasswordFile: "pw-crlf", dir: dir}, "s3cret", ""},
		{"file keeps spaces", SASL{PasswordFile: "pw-space", dir: dir}, " s3cret ", ""},
		{"absolute file", SASL{PasswordFile: filepath.Join(dir, "pw"), dir: "/nonexistent"}, "s3cret", ""},
		{"env", SASL{PasswordEnv: "STRETCH_TEST_PW"}, "env-s3cret", ""},
		{"missing file", SASL{PasswordFile: "nope", dir: dir}, "", "no such file"},
		{"empty file", SASL{PasswordFile: "empty", dir: dir}, "", "is empty"},
		{"big file", SASL{PasswordFile: "big", dir: dir}, "", "larger than 65536 bytes"},
		{"unset env", SASL{PasswordEnv: "STRETCH_TEST_UNSET_XYZ"}, "", "STRETCH_TEST_UNSET_XYZ is not set"},
		{"empty env", SASL{PasswordEnv: "STRETCH_TEST_EMPTY"}, "", "is empty"},
		{"both", SASL{PasswordFile: "pw", PasswordEnv: "STRETCH_TEST_PW", dir: dir}, "", "only one"},
		{"neither", SASL{}, "", "neither"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.sasl.Password()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Password() error = %v, want containing %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "s3cret") {
					t.Errorf("error leaks the password: %v", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("Password() = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestPasswordFileRelativeToConfig(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "pw"), []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	doc := "cluster:\n  bootstrap: [b:9092]\n  sasl:\n    mechanism: plain\n    username: u\n    passwordFile: pw\ntopology:\n  dcs: [a]\n"
	path := filepath.Join(dir, "stretch.yaml")
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	c := mustLoad(t, path)
	got, err := c.Cluster.SASL.Password()
	if err != nil || got != "s3cret" {
		t.Errorf("Password() = %q, %v; want %q", got, err, "s3cret")
	}
}

func TestSASLFormattingHidesSecrets(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "pw"), []byte("s3cret"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := SASL{Mechanism: MechanismPlain, Username: "u", PasswordFile: "pw", dir: dir}
	want := "SASL{mechanism: PLAIN, username: u, password: from file pw}"
	for _, verb := range []string{"%v", "%+v", "%s", "%#v"} {
		t.Run(verb, func(t *testing.T) {
			if got := fmt.Sprintf(verb, s); got != want {
				t.Errorf("got %q, want %q", got, want)
			}
			if got := fmt.Sprintf(verb, &s); strings.Contains(got, "s3cret") {
				t.Errorf("pointer form leaks: %q", got)
			}
		})
	}
}

func TestJSON(t *testing.T) {
	c := mustLoad(t, "../testdata/config/full.yaml")
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"timeout":"15s"`, `"kafkaVersion":"4.3.1"`, `"controllers":{"1":"dc-a"`, `"dc-a/dc-c":{"warn":"20ms","fail":"40ms"}`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("JSON lacks %s:\n%s", want, b)
		}
	}
	var back Config
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	back.Path = c.Path
	back.setDir(baseDir(c.Path))
	if !reflect.DeepEqual(&back, c) {
		t.Errorf("JSON round trip differs:\ngot  %#v\nwant %#v", &back, c)
	}
}

// TestTags checks that every field has json and yaml tags with the same name and omitempty on json.
func TestTags(t *testing.T) {
	seen := map[reflect.Type]bool{}
	var walk func(reflect.Type)
	walk = func(typ reflect.Type) {
		for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice || typ.Kind() == reflect.Map {
			typ = typ.Elem()
		}
		if typ.Kind() != reflect.Struct || typ == reflect.TypeFor[Duration]() || seen[typ] {
			return
		}
		seen[typ] = true
		for i := 0; i < typ.NumField(); i++ {
			f := typ.Field(i)
			if !f.IsExported() {
				continue
			}
			j, y := f.Tag.Get("json"), f.Tag.Get("yaml")
			jn, jopt, _ := strings.Cut(j, ",")
			yn, _, _ := strings.Cut(y, ",")
			switch {
			case j == "-" && y == "-":
			case jn == "" || jn != yn:
				t.Errorf("%s.%s: json name %q != yaml name %q", typ.Name(), f.Name, jn, yn)
			case jopt != "omitempty":
				t.Errorf("%s.%s: json tag %q lacks omitempty", typ.Name(), f.Name, j)
			}
			walk(f.Type)
		}
	}
	walk(reflect.TypeFor[Config]())
}

// A client file listed twice is a problem of the file; files that cannot
// be read are listed by MissingFiles with their field (issue 15).
func TestClientFilesListedOnceAndPresent(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "p.properties"), []byte("acks=all\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	body := "cluster:\n  bootstrap: [\"k1:9092\"]\ntopology:\n  dcs: [dc-a, dc-b]\nclients:\n  - {file: p.properties, kind: producer}\n  - {file: ./p.properties, kind: producer}\n"
	_, err := Parse(filepath.Join(dir, "stretch.yaml"), []byte(body))
	if err == nil || !strings.Contains(err.Error(), "clients[1].file") || !strings.Contains(err.Error(), "the same file as clients[0]") {
		t.Errorf("a client file listed twice: %v", err)
	}
	body = "cluster:\n  bootstrap: [\"k1:9092\"]\n  tls: {enabled: true, caFile: ca.pem}\n  sasl: {mechanism: PLAIN, username: u, passwordFile: pw}\ntopology:\n  dcs: [dc-a, dc-b]\nclients:\n  - {file: p.properties, kind: producer}\n  - {file: gone.properties, kind: consumer}\n"
	c, err := Parse(filepath.Join(dir, "stretch.yaml"), []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(c.MissingFiles(), "\n")
	for _, want := range []string{"cluster.tls.caFile: ", "cluster.sasl.passwordFile: ", "clients[1].file: "} {
		if !strings.Contains(got, want) {
			t.Errorf("missing files %q do not name %s", got, want)
		}
	}
	if strings.Contains(got, "clients[0]") {
		t.Errorf("an existing client file listed as missing: %q", got)
	}
}
