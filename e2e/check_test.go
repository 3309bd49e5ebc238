package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/stretchctl/stretchctl/config"
	"github.com/stretchctl/stretchctl/lab"
	"github.com/stretchctl/stretchctl/rules"
)

// TestCheckAgainstLab places topics badly and well with Kafka's own topic
// tool on a real 3-DC lab, declares client files with acks=1 and a sarama
// default, and checks that `stretchctl check` reports exactly the problems
// that exist, with their severities, and scenarios that match the placement.
func TestCheckAgainstLab(t *testing.T) {
	requireLab(t)
	bin := buildStretchctl(t)
	l := startLab(t, bin, "--topology", "3dc", "--brokers-per-dc", "2")
	st, err := l.State()
	if err != nil {
		t.Fatal(err)
	}
	boot := strings.Join(st.BootstrapServers(), ",")
	// Brokers: dc-a 1,2; dc-b 3,4; dc-c 5,6.
	for _, tc := range []struct{ topic, assignment, configs string }{
		{"good", "1:3:5,3:5:1,5:1:3", "min.insync.replicas=2"},
		{"bad-one-dc", "1:2,2:1", "min.insync.replicas=1"},
		{"bad-rf2", "1:3,3:1", "min.insync.replicas=1"},
		{"bad-unclean", "1:3:5", "min.insync.replicas=2,unclean.leader.election.enable=true"},
	} {
		args := []string{"--bootstrap-server", boot, "--create", "--topic", tc.topic, "--replica-assignment", tc.assignment}
		for _, c := range strings.Split(tc.configs, ",") {
			args = append(args, "--config", c)
		}
		kafkaTool(t, st, "org.apache.kafka.tools.TopicCommand", args...)
	}
	waitISRFull(t, st, "good", "bad-one-dc", "bad-rf2", "bad-unclean")

	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "clients", "producer-acks1.properties"), "bootstrap.servers="+boot+"\n# fire and forget\nacks=1\n")
	writeFile(t, filepath.Join(dir, "clients", "sarama.properties"), "bootstrap.servers="+boot+"\n")
	cfg, err := config.Load(l.ConfigPath())
	if err != nil {
		t.Fatal(err)
	}
	cfg.Goals.RTO = config.Duration{Duration: time.Minute}
	cfg.Clients = []config.Client{
		{File: "clients/producer-acks1.properties", Kind: config.KindProducer, Library: config.LibraryJava},
		{File: "clients/sarama.properties", Kind: config.KindProducer, Library: config.LibrarySarama},
	}
	cfgPath := filepath.Join(dir, "stretch.yaml")
	b, err := cfg.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, cfgPath, string(b))

	out, errOut, code := run(t, bin, "check", "--config", cfgPath, "--format", "json")
	if code != 1 {
		t.Fatalf("check: exit %d, want 1 (goals violated)\n%s\n%s", code, out, errOut)
	}
	var rep rules.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("check --format json: %v\n%s", err, out)
	}

	t.Run("reports exactly the problems that exist", func(t *testing.T) {
		want := []string{
			"critical RPO-001 file:clients/producer-acks1.properties line 3",
			"critical RPO-001 file:clients/sarama.properties",
			"critical RPO-002 topic:bad-one-dc",
			"critical RPO-002 topic:bad-rf2",
			"critical RPO-003 topic:bad-one-dc",
			"critical RPO-004 topic:bad-unclean",
			"critical RPO-007 broker-config:default.replication.factor",
			"critical RTO-001 topic:bad-one-dc",
			"high RPO-003 topic:bad-rf2",
			"medium RPO-005 file:clients/producer-acks1.properties",
			"medium RPO-005 file:clients/sarama.properties",
			"medium RPO-013 file:clients/sarama.properties",
		}
		var got []string
		for _, f := range rep.Findings {
			if f.Severity < rules.Medium {
				continue
			}
			subject, _, _ := strings.Cut(f.Subject, " (")
			s := fmt.Sprintf("%s %s %s", f.Severity, f.ID, subject)
			if f.Location != nil && f.Location.Line > 0 {
				s += fmt.Sprintf(" line %d", f.Location.Line)
			}
			got = append(got, s)
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("findings (medium and above):\n  got  %s\n  want %s", strings.Join(got, "\n       "), strings.Join(want, "\n       "))
		}
		for _, f := range rep.Findings {
			if strings.HasPrefix(f.Subject, "topic:good ") {
				t.Errorf("the well-placed topic got a finding: %+v", f)
			}
		}
	})

	t.Run("scenarios match the placement", func(t *testing.T) {
		impact := func(scenario, topic string) rules.TopicImpact {
			for _, s := range rep.Scenarios {
				if s.Name != scenario {
					continue
				}
				if !s.QuorumSurvives {
					t.Errorf("%s: quorum does not survive, but voters are 1/1/1", scenario)
				}
				for _, ti := range s.Topics {
					if ti.Topic == topic {
						return ti
					}
				}
				return rules.TopicImpact{}
			}
			t.Fatalf("no scenario %q", scenario)
			return rules.TopicImpact{}
		}
		tests := []struct {
			scenario, topic   string
			write, read, loss int
		}{
			{"lose dc-a", "bad-one-dc", 2, 2, 2}, // every copy in dc-a
			{"lose dc-a", "bad-rf2", 0, 0, 2},    // min.insync 1 = dc-a's replicas
			{"lose dc-a", "good", 0, 0, 1},       // only partition 0, led in dc-a, by the acks=1 producers
			{"lose dc-b", "bad-one-dc", 0, 0, 0}, // not in dc-b
			{"lose dc-c", "bad-unclean", 0, 0, 0},
			// Cut off with every copy: the other side cannot elect a
			// leader, so what dc-a's leaders acknowledged survives the
			// heal (acks=1 records are lost only when the other side
			// elects another leader meanwhile): no loss, where the old
			// model assumed any acks=1 producer might lose them.
			{"isolate dc-a", "bad-one-dc", 2, 2, 0},
		}
		for _, tt := range tests {
			got := impact(tt.scenario, tt.topic)
			if got.WriteUnavailable != tt.write || got.ReadUnavailable != tt.read || got.AckedLossPossible != tt.loss {
				t.Errorf("%s / %s: writes %d reads %d loss %d, want %d %d %d", tt.scenario, tt.topic,
					got.WriteUnavailable, got.ReadUnavailable, got.AckedLossPossible, tt.write, tt.read, tt.loss)
			}
		}
	})

	t.Run("snapshot then offline check agree", func(t *testing.T) {
		snap := filepath.Join(dir, "snap.json")
		mustRun(t, bin, "snapshot", "--config", cfgPath, "-o", snap)
		out, _, code := run(t, bin, "check", "--config", cfgPath, "--snapshot", snap, "--format", "json")
		if code != 1 {
			t.Fatalf("offline check: exit %d", code)
		}
		var offline rules.Report
		if err := json.Unmarshal([]byte(out), &offline); err != nil {
			t.Fatal(err)
		}
		if ids(offline.Findings) != ids(rep.Findings) {
			t.Errorf("offline findings differ:\n%s\n%s", ids(offline.Findings), ids(rep.Findings))
		}
	})

	t.Run("suppressions are honoured and reported", func(t *testing.T) {
		cfg.Ignore = []config.Ignore{{Rule: "RPO-004", Subject: "topic:bad-unclean", Reason: "drill topic, unclean on purpose"}}
		b, _ := cfg.Marshal()
		p := filepath.Join(dir, "stretch-ignore.yaml")
		writeFile(t, p, string(b))
		out, _, _ := run(t, bin, "check", "--config", p, "--format", "json")
		var r rules.Report
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatal(err)
		}
		found := false
		for _, f := range r.Findings {
			if f.ID == "RPO-004" {
				found = true
				if f.Suppressed != "drill topic, unclean on purpose" {
					t.Errorf("RPO-004 not suppressed: %+v", f)
				}
			}
		}
		if !found {
			t.Error("the suppressed finding must still be reported, as suppressed")
		}
		if r.Counts["critical"] != rep.Counts["critical"]-1 {
			t.Errorf("critical count %d, want %d", r.Counts["critical"], rep.Counts["critical"]-1)
		}
	})

	t.Run("could not assess: exit 2 with a clear message", func(t *testing.T) {
		variant := func(name string, edit func(*config.Config)) string {
			c := *cfg
			c.Clients = nil
			edit(&c)
			b, err := c.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			p := filepath.Join(dir, name+".yaml")
			writeFile(t, p, string(b))
			return p
		}
		tests := []struct {
			name string
			edit func(*config.Config)
			want string
		}{
			{"wrong-port", func(c *config.Config) { c.Cluster.Bootstrap = []string{st.Layout.Brokers()[0].Addr.String() + ":9999"} }, "could not connect"},
			{"tls", func(c *config.Config) { c.Cluster.TLS = &config.TLS{Enabled: true, InsecureSkipVerify: true} }, "TLS"},
			{"sasl", func(c *config.Config) {
				os.Setenv("STRETCHCTL_E2E_PW", "s3cret-e2e")
				c.Cluster.SASL = &config.SASL{Mechanism: config.MechanismSCRAMSHA512, Username: "svc", PasswordEnv: "STRETCHCTL_E2E_PW"}
			}, "SASL"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				start := time.Now()
				out, errOut, code := run(t, bin, "check", "--config", variant(tt.name, tt.edit))
				if code != 2 {
					t.Errorf("exit %d, want 2\n%s%s", code, out, errOut)
				}
				if !strings.Contains(errOut, tt.want) {
					t.Errorf("stderr %q does not say %q", errOut, tt.want)
				}
				if strings.Contains(out+errOut, "s3cret-e2e") {
					t.Error("the SASL password appears in the output")
				}
				t.Logf("%s: exit %d after %v: %s", tt.name, code, time.Since(start).Round(time.Millisecond), strings.TrimSpace(errOut))
			})
		}
	})

	t.Run("a DC down: partial results, or exit 2 when no bootstrap broker answers", func(t *testing.T) {
		mustRun(t, bin, "lab", "fault", "kill", "dc-a", "--dir", l.Dir)
		t.Cleanup(func() { run(t, bin, "lab", "heal", "--all", "--dir", l.Dir) })
		_, errOut, code := run(t, bin, "check", "--config", cfgPath, "--format", "json")
		if code != 1 {
			t.Errorf("check with dc-a down: exit %d, want 1 (assessed from the other DCs)\n%s", code, errOut)
		}
		onlyA := *cfg
		onlyA.Clients = nil
		onlyA.Cluster.Bootstrap = nil
		for _, n := range st.Layout.Brokers() {
			if n.DC == "dc-a" {
				onlyA.Cluster.Bootstrap = append(onlyA.Cluster.Bootstrap, n.BrokerAddr())
			}
		}
		b, _ := onlyA.Marshal()
		p := filepath.Join(dir, "only-a.yaml")
		writeFile(t, p, string(b))
		_, errOut, code = run(t, bin, "check", "--config", p)
		if code != 2 || !strings.Contains(errOut, "could not connect") {
			t.Errorf("bootstrap only in the dead DC: exit %d, %q; want 2 and could not connect", code, errOut)
		}
	})
}

func ids(fs []rules.Finding) string {
	var s []string
	for _, f := range fs {
		s = append(s, f.ID+" "+f.Subject)
	}
	slices.Sort(s)
	return strings.Join(s, "\n")
}

func waitISRFull(t *testing.T, st *lab.State, topics ...string) {
	t.Helper()
	cfg, err := st.SaramaConfig(lab.OpsSite)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		ok, why := isrFull(st, cfg, topics)
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("ISR never full: %s", why)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func isrFull(st *lab.State, cfg *sarama.Config, topics []string) (bool, string) {
	client, err := sarama.NewClient(st.BootstrapServers(), cfg)
	if err != nil {
		return false, err.Error()
	}
	defer client.Close()
	for _, topic := range topics {
		parts, err := client.Partitions(topic)
		if err != nil {
			return false, err.Error()
		}
		for _, p := range parts {
			replicas, _ := client.Replicas(topic, p)
			isr, _ := client.InSyncReplicas(topic, p)
			if len(isr) != len(replicas) {
				return false, fmt.Sprintf("%s/%d isr %v of %v", topic, p, isr, replicas)
			}
		}
	}
	return true, ""
}
