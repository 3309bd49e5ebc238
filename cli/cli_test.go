package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchctl/stretchctl/internal/golden"
	"github.com/stretchctl/stretchctl/lab"
	"github.com/stretchctl/stretchctl/lab/wan"
	"github.com/stretchctl/stretchctl/probe"
)

func execute(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := NewRoot(IO{In: strings.NewReader(""), Out: &out, Err: &errOut, Log: slog.New(slog.DiscardHandler)}, "test")
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	if err != nil {
		errOut.WriteString(err.Error())
	}
	return out.String(), errOut.String(), ExitCode(err)
}

func TestExitCodesAndMessages(t *testing.T) {
	empty := t.TempDir()
	bad := filepath.Join(t.TempDir(), "stretch.yaml")
	if err := os.WriteFile(bad, []byte("cluster:\n  bootstrap: [\"k1:9092\"]\n  timeout: soon\ntopology:\n  dcs: [dc-a]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(t.TempDir(), "stretch.yaml")
	if err := os.WriteFile(good, []byte("cluster:\n  bootstrap: [\"k1:9092\"]\ntopology:\n  dcs: [dc-a, dc-b]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	inconsistent := filepath.Join(t.TempDir(), "snap.json")
	if err := os.WriteFile(inconsistent, []byte(`{"schemaVersion": 1, "brokers": [{"id": 1}, {"id": 2}], "topics": [{"name": "t", "partitions": [{"id": 0, "leader": 1, "replicas": [1, 2], "isr": [1, 7]}]}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(t.TempDir(), "fifo.yaml")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		args     []string
		wantCode int
		want     string // in stdout or stderr
	}{
		// Files that are not regular files are refused, never read: a
		// device never ends, a FIFO blocks (issue 15).
		{"config is a device", []string{"config", "validate", "-c", "/dev/zero"}, ExitAssess, "/dev/zero: not a regular file (a device)"},
		{"config is a FIFO", []string{"check", "-c", fifo}, ExitAssess, "not a regular file (a named pipe)"},
		{"snapshot is a device", []string{"check", "-c", good, "--snapshot", "/dev/zero"}, ExitAssess, "--snapshot: read snapshot: /dev/zero: not a regular file"},
		{"matrix is a FIFO", []string{"check", "-c", golden.Path("examples", "20-well-configured", "stretch.yaml"), "--snapshot", golden.Path("examples", "20-well-configured", "snapshot.json"),
			"--latency-matrix", fifo}, ExitAssess, "--latency-matrix: " + fifo + ": not a regular file"},
		{"inconsistent snapshot", []string{"check", "-c", good, "--snapshot", inconsistent}, ExitAssess,
			inconsistent + ": inconsistent snapshot: topics[0].partitions[0].isr: broker 7 is not a replica (replicas [1 2])"},
		{"status without a lab", []string{"lab", "status", "--dir", empty}, ExitAssess, "no lab in " + empty},
		{"lab up with an unknown security", []string{"lab", "up", "--dir", empty, "--security", "kerberos"}, ExitAssess, "--security: security \"kerberos\": want plaintext, ssl or sasl_ssl"},
		{"acls as commands", []string{"acls", "--format", "commands", "--principal", "User:svc", "--bootstrap", "k:9093"}, ExitOK,
			"kafka-acls.sh --bootstrap-server k:9093 --command-config admin.properties --add --allow-principal User:svc --operation Read --operation Describe --group 'stretchctl-' --resource-pattern-type prefixed"},
		{"acls with a bad principal", []string{"acls", "--format", "commands", "--principal", "svc"}, ExitAssess, "--principal \"svc\": want TYPE:NAME"},
		{"acls in yaml", []string{"acls", "--format", "yaml"}, ExitAssess, "--format \"yaml\": want text, json or commands"},
		{"fault without a lab", []string{"lab", "fault", "kill", "dc-a", "--dir", empty}, ExitAssess, "no lab in"},
		{"heal without a lab", []string{"lab", "heal", "--dir", empty}, ExitAssess, "no lab in"},
		{"down without a lab is fine", []string{"lab", "down", "--dir", empty}, ExitOK, "nothing to remove"},
		{"bad status format", []string{"lab", "status", "--format", "xml", "--dir", empty}, ExitAssess, `--format "xml"`},
		{"exec without --", []string{"lab", "exec", "dc-a", "true", "--dir", empty}, ExitAssess, "usage: stretchctl lab exec DC -- CMD"},
		{"unknown flag", []string{"lab", "up", "--brokers", "3"}, ExitAssess, "unknown flag: --brokers"},
		{"unknown topology", []string{"lab", "up", "--topology", "4dc", "--dir", empty}, ExitAssess, `unknown topology "4dc"`},
		{"malformed latency at up", []string{"lab", "up", "--latency", "dc-a/dc-b=soon", "--dir", empty}, ExitAssess, `latency spec item "dc-a/dc-b=soon"`},
		{"unknown site in latency at up", []string{"lab", "up", "--topology", "2dc", "--latency", "dc-a/dc-c=5ms", "--dir", empty}, ExitAssess, `unknown site "dc-c"`},
		{"heal DC and --all", []string{"lab", "heal", "dc-a", "--all", "--dir", empty}, ExitAssess, "not both"},
		{"invalid config names file, line, field", []string{"config", "validate", "-c", bad}, ExitAssess, bad + ":3:12: cluster.timeout:"},
		{"missing config", []string{"config", "validate", "-c", filepath.Join(empty, "nope.yaml")}, ExitAssess, "read config"},
		{"valid config", []string{"config", "validate", "-c", good}, ExitOK, "is valid"},
		{"operator: bad log format", []string{"operator", "--log-format", "xml"}, ExitAssess, `--log-format: "xml" is neither json nor text`},
		{"operator: bad log level", []string{"operator", "--log-level", "loud"}, ExitAssess, "--log-level"},
		{"operator: missing kubeconfig", []string{"operator", "--kubeconfig", filepath.Join(empty, "kubeconfig")}, ExitAssess, "--kubeconfig: kubernetes config (" + filepath.Join(empty, "kubeconfig")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := execute(t, tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit code = %d, want %d\nstdout: %s\nstderr: %s", code, tt.wantCode, out, errOut)
			}
			if !strings.Contains(out+errOut, tt.want) {
				t.Errorf("output does not contain %q\nstdout: %s\nstderr: %s", tt.want, out, errOut)
			}
		})
	}
	// Refused commands made nothing: no state, no lab.
	if _, err := os.Stat(filepath.Join(empty, "state.json")); err == nil {
		t.Error("a refused command left a state.json")
	}
}

func TestHelpListsLabCommands(t *testing.T) {
	out, _, code := execute(t, "lab", "--help")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, sub := range []string{"up", "status", "down", "exec", "fault", "heal"} {
		if !strings.Contains(out, "\n  "+sub+" ") {
			t.Errorf("lab --help does not list %q:\n%s", sub, out)
		}
	}
	if strings.Contains(out, "\n  router ") {
		t.Error("the internal router command should be hidden")
	}
}

func TestStatusText(t *testing.T) {
	addr := netip.MustParseAddr
	s := &lab.Status{
		Dir: "/var/lab", Config: "/var/lab/stretch.yaml", Network: lab.NetworkNamespaces, Topology: lab.Topology25DC,
		KafkaVersion: "4.3.1", ClusterID: "YLxj9VaYm9TD8G3CIfNK5g", Created: time.Date(2026, 11, 25, 4, 0, 0, 0, time.UTC),
		Nodes: []lab.NodeStatus{
			{Node: lab.Node{ID: 1, DC: "dc-a", Roles: []lab.Role{lab.RoleBroker, lab.RoleController}, Addr: addr("198.18.1.11"), Pid: 100}, State: lab.ProcDown, Log: "/var/lab/nodes/1/kafka.log"},
			{Node: lab.Node{ID: 2, DC: "dc-b", Roles: []lab.Role{lab.RoleBroker, lab.RoleController}, Addr: addr("198.18.2.12"), Pid: 101}, State: lab.ProcUp},
			{Node: lab.Node{ID: 3, DC: "dc-c", Roles: []lab.Role{lab.RoleController}, Addr: addr("198.18.3.13"), Pid: 102}, State: lab.ProcFrozen},
		},
		RouterPid: 99, RouterUp: true,
		Links: []lab.LinkStatus{
			{From: "dc-a", To: "dc-b", Baseline: 10 * time.Millisecond, LinkStats: wan.LinkStats{Link: wan.Link{From: "dc-a", To: "dc-b", Delay: 25 * time.Millisecond}, Forwarded: 42}},
			{From: "dc-b", To: "dc-a", Baseline: 10 * time.Millisecond, LinkStats: wan.LinkStats{Link: wan.Link{From: "dc-b", To: "dc-a", Delay: 10 * time.Millisecond, Blocked: true}, DroppedBlocked: 7}},
		},
		Faults: []lab.Fault{
			{Kind: lab.FaultKill, DC: "dc-a", Since: time.Date(2026, 11, 25, 4, 1, 2, 0, time.UTC)},
			{Kind: lab.FaultBlock, Link: lab.LinkRule{From: "dc-b", To: "dc-a"}, Since: time.Date(2026, 11, 25, 4, 1, 3, 0, time.UTC)},
		},
		Cluster: lab.ClusterView{Brokers: []int32{2}, QuorumLeader: 2, Voters: []int32{1, 2, 3}, Unreachable: []string{"198.18.1.11:9092"}},
	}
	var buf bytes.Buffer
	writeStatus(&buf, s)
	golden.Assert(t, "cli/status.golden", buf.Bytes())
}

func TestCheckOfflineExitCodesAndFormats(t *testing.T) {
	ex := func(name, file string) string {
		return golden.Path("examples", name, file)
	}
	good := []string{"--config", ex("20-well-configured", "stretch.yaml"), "--snapshot", ex("20-well-configured", "snapshot.json")}
	bad := []string{"--config", ex("21-misconfigured", "stretch.yaml"), "--snapshot", ex("21-misconfigured", "snapshot.json")}
	notSnap := filepath.Join(t.TempDir(), "not.json")
	if err := os.WriteFile(notSnap, []byte(`{"schemaVersion": 99}`), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		args     []string
		wantCode int
		want     string
	}{
		{"goals met", append([]string{"check"}, good...), ExitOK, "PASS"},
		{"goals violated", append([]string{"check"}, bad...), ExitViolated, "FAIL"},
		{"json", append([]string{"check", "--format", "json"}, bad...), ExitViolated, `"verdict": "fail"`},
		{"junit", append([]string{"check", "--format", "junit"}, bad...), ExitViolated, "<testsuites"},
		{"sarif", append([]string{"check", "--format", "sarif"}, bad...), ExitViolated, `"version": "2.1.0"`},
		{"markdown", append([]string{"check", "--format", "markdown"}, bad...), ExitViolated, "| scenario |"},
		{"fail-on critical still fails on critical findings", append([]string{"check", "--fail-on", "critical"}, bad...), ExitViolated, "FAIL"},
		{"bad format", append([]string{"check", "--format", "xml"}, good...), ExitAssess, `unknown format "xml"`},
		{"bad fail-on", append([]string{"check", "--fail-on", "severe"}, good...), ExitAssess, `unknown severity "severe"`},
		{"bad report spec", append([]string{"check", "--report", "junit"}, good...), ExitAssess, "want FORMAT=FILE"},
		{"missing snapshot", []string{"check", "--config", ex("20-well-configured", "stretch.yaml"), "--snapshot", "nope.json"}, ExitAssess, "read snapshot"},
		{"wrong schema", []string{"check", "--config", ex("20-well-configured", "stretch.yaml"), "--snapshot", notSnap}, ExitAssess, "snapshot schema 99"},
		{"rules list", []string{"rules"}, ExitOK, "37 rules"},
		{"rule explained", []string{"rules", "rto-001"}, ExitOK, "writes continue after losing any one DC"},
		{"unknown rule", []string{"rules", "XYZ-1"}, ExitAssess, `no rule "XYZ-1"`},
		{"rules in an unknown format", []string{"rules", "--format", "yaml"}, ExitAssess, `--format "yaml": want text or json`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := execute(t, tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit code = %d, want %d\nstdout: %s\nstderr: %s", code, tt.wantCode, out, errOut)
			}
			if !strings.Contains(out+errOut, tt.want) {
				t.Errorf("output does not contain %q\nstdout: %.2000s\nstderr: %s", tt.want, out, errOut)
			}
		})
	}
	t.Run("extra report files", func(t *testing.T) {
		dir := t.TempDir()
		_, _, code := execute(t, append([]string{"check", "--report", "junit=" + filepath.Join(dir, "a", "r.xml"), "--report", "sarif=" + filepath.Join(dir, "r.sarif")}, bad...)...)
		if code != ExitViolated {
			t.Errorf("exit %d", code)
		}
		for _, f := range []string{filepath.Join(dir, "a", "r.xml"), filepath.Join(dir, "r.sarif")} {
			if b, err := os.ReadFile(f); err != nil || len(b) == 0 {
				t.Errorf("%s: %v (%d bytes)", f, err, len(b))
			}
		}
	})
}

// TestCheckLatencyMatrix feeds check a matrix file: a fresh one drives
// the latency rule (TOP-008) and says where the figures came from; a
// stale one is named and not used.
func TestCheckLatencyMatrix(t *testing.T) {
	ex := func(file string) string {
		return golden.Path("examples", "20-well-configured", file)
	}
	cell := func(from, to string, ms float64) probe.Cell {
		p := &probe.Percentiles{MinMs: ms, MeanMs: ms, P50Ms: ms, P99Ms: ms, MaxMs: ms}
		return probe.Cell{From: from, To: to, Connect: probe.Stats{Count: 5, Percentiles: p}}
	}
	write := func(age time.Duration) string {
		now := time.Now()
		m := probe.BuildMatrix([]probe.Report{
			{Version: 1, Agent: "dc-a/x", From: "dc-a", At: now.Add(-age), WindowMs: 10000, Matrix: []probe.Cell{cell("dc-a", "dc-b", 8), cell("dc-a", "dc-c", 120)}},
		}, now, "test agents")
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(t.TempDir(), "matrix.json")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	fresh := write(5 * time.Second)
	out, errOut, code := execute(t, "check", "--config", ex("stretch.yaml"), "--snapshot", ex("snapshot.json"), "--latency-matrix", fresh, "--format", "json")
	if code != ExitViolated {
		t.Fatalf("fresh matrix with a 120 ms link: exit %d, want %d\n%s", code, ExitViolated, errOut)
	}
	for _, want := range []string{`"id": "TOP-008"`, `"subject": "link:dc-a/dc-c"`, "file " + fresh} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%.3000s", want, out)
		}
	}
	if strings.Contains(out, "link:dc-a/dc-b") {
		t.Error("an 8 ms link within budget was reported")
	}
	stale := write(time.Hour)
	out, errOut, code = execute(t, "check", "--config", ex("stretch.yaml"), "--snapshot", ex("snapshot.json"), "--latency-matrix", stale)
	if code != ExitOK || !strings.Contains(out, "stale, not used: dc-a→dc-b, dc-a→dc-c") {
		t.Errorf("stale matrix: exit %d, want 0 and the stale cells named\n%s%s", code, out, errOut)
	}
	_, errOut, code = execute(t, "check", "--config", ex("stretch.yaml"), "--snapshot", ex("snapshot.json"), "--latency-matrix", "nope.json")
	if code != ExitAssess || !strings.Contains(errOut, "--latency-matrix") || !strings.Contains(errOut, "nope.json") {
		t.Errorf("missing matrix file: exit %d, stderr %q", code, errOut)
	}
}

// TestDrillUsageErrors: bad drill input is refused with exit 2 and a
// message naming the flag, before anything touches a cluster.
func TestDrillUsageErrors(t *testing.T) {
	cfg := golden.Path("examples", "20-well-configured", "stretch.yaml")
	base := []string{"drill", "--config", cfg, "--state-dir", t.TempDir(), "--yes"}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no fault", []string{"--dc", "dc-a", "--topic", "t"}, "--fault is required"},
		{"unknown fault", []string{"--fault", "melt", "--dc", "dc-a", "--topic", "t"}, `unknown fault "melt"`},
		{"no dc", []string{"--fault", "kill", "--topic", "t"}, "--dc is required"},
		{"no topic", []string{"--fault", "kill", "--dc", "dc-a"}, "--topic is required"},
		{"latency without delay", []string{"--fault", "latency", "--dc", "dc-a", "--topic", "t"}, "needs a positive delay"},
		{"loss over 100", []string{"--fault", "loss", "--dc", "dc-a", "--loss", "150", "--topic", "t"}, "at most 100"},
		{"kill with a delay", []string{"--fault", "kill", "--dc", "dc-a", "--delay", "5ms", "--topic", "t"}, "takes only a DC"},
		{"bad duration", []string{"--fault", "kill", "--dc", "dc-a", "--duration", "0s", "--topic", "t"}, "--duration 0s"},
		{"bad format", []string{"--fault", "kill", "--dc", "dc-a", "--topic", "t", "--format", "pdf"}, "--format"},
		{"bad report", []string{"--fault", "kill", "--dc", "dc-a", "--topic", "t", "--report", "html"}, "want FORMAT=FILE"},
		{"bad backend", []string{"--fault", "kill", "--dc", "dc-a", "--topic", "t", "--backend", "ssh"}, `--backend "ssh"`},
		{"no lab", []string{"--fault", "kill", "--dc", "dc-a", "--topic", "t", "--lab-dir", t.TempDir()}, "is the lab up"},
		{"exec without heal", []string{"--fault", "kill", "--dc", "dc-a", "--topic", "t", "--backend", "exec", "--exec-inject", "kill=true"}, "needs both an inject and a heal command"},
		{"exec bad item", []string{"--fault", "kill", "--dc", "dc-a", "--topic", "t", "--backend", "exec", "--exec-inject", "nuke=true"}, `--exec-inject "nuke=true"`},
		{"exec other kind", []string{"--fault", "kill", "--dc", "dc-a", "--topic", "t", "--backend", "exec", "--exec-inject", "freeze=a", "--exec-heal", "freeze=b"}, "--backend exec: the exec backend has no inject command for crash"},
		{"chaos-mesh without namespace", []string{"--fault", "kill", "--dc", "dc-a", "--topic", "t", "--backend", "chaos-mesh"}, "needs --namespace"},
		{"producer-dc with exec", []string{"--fault", "kill", "--dc", "dc-a", "--topic", "t", "--backend", "exec", "--exec-inject", "kill=a", "--exec-heal", "kill=b", "--producer-dc", "dc-a"}, "--producer-dc: the exec backend cannot place the producers in a DC"},
		{"bad acks", []string{"--fault", "kill", "--dc", "dc-a", "--topic", "t", "--backend", "exec", "--exec-inject", "kill=a", "--exec-heal", "kill=b", "--acks", "2"}, `--acks "2": want all, 1 or 0`},
		{"missing producer file", []string{"--fault", "kill", "--dc", "dc-a", "--topic", "t", "--backend", "exec", "--exec-inject", "kill=a", "--exec-heal", "kill=b", "--producer-file", "nope.properties"}, "--producer-file"},
		{"report into a directory", []string{"--fault", "kill", "--dc", "dc-a", "--topic", "t", "--report", "html=" + os.TempDir()}, "is a directory"},
		{"report under a file", []string{"--fault", "kill", "--dc", "dc-a", "--topic", "t", "--report", "json=" + cfg + "/drill.json"}, "is not a directory"},
		{"negative rate", []string{"--fault", "kill", "--dc", "dc-a", "--topic", "t", "--rate", "-5"}, "--rate -5: want a positive number"},
		{"no producers", []string{"--fault", "kill", "--dc", "dc-a", "--topic", "t", "--producers", "0"}, "--producers 0: want at least one"},
		{"negative steady", []string{"--fault", "kill", "--dc", "dc-a", "--topic", "t", "--steady", "-1s"}, "--steady -1s: want a positive duration"},
		{"idempotence maybe", []string{"--fault", "kill", "--dc", "dc-a", "--topic", "t", "--idempotence", "maybe"}, `--idempotence "maybe": want true or false`},
		{"consumers on sarama", []string{"--fault", "kill", "--dc", "dc-a", "--topic", "t", "--backend", "exec", "--exec-inject", "kill=a", "--exec-heal", "kill=b", "--consumers", "2", "--consumer-library", "sarama"}, `--consumer-library: the drill's consumers run on java or franz-go, not "sarama"`},
		{"negative consumers", []string{"--fault", "kill", "--dc", "dc-a", "--topic", "t", "--backend", "exec", "--exec-inject", "kill=a", "--exec-heal", "kill=b", "--consumers", "-1"}, "--consumers -1: want 0 (no group) or more"},
		{"consumer DC unknown", []string{"--fault", "kill", "--dc", "dc-a", "--topic", "t", "--backend", "exec", "--exec-inject", "kill=a", "--exec-heal", "kill=b", "--consumers", "2", "--consumer-dc", "dc-z"}, `--consumer-dc: DC "dc-z" is not in the topology`},
		{"consumer-dc with exec", []string{"--fault", "kill", "--dc", "dc-a", "--topic", "t", "--backend", "exec", "--exec-inject", "kill=a", "--exec-heal", "kill=b", "--consumers", "2", "--consumer-dc", "dc-a"}, "--consumer-dc: the exec backend cannot place the consumers"},
		{"missing consumer file", []string{"--fault", "kill", "--dc", "dc-a", "--topic", "t", "--backend", "exec", "--exec-inject", "kill=a", "--exec-heal", "kill=b", "--consumers", "1", "--consumer-file", "nope.properties"}, "--consumer-file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errOut, code := execute(t, append(base, tt.args...)...)
			if code != ExitAssess || !strings.Contains(errOut, tt.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, errOut, tt.want)
			}
		})
	}
	camp := []string{"drill", "campaign", "--config", cfg, "--dir", t.TempDir(), "--yes"}
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"campaign: no topic", nil, "--topic is required"},
		{"campaign: bad fault item", []string{"--topic", "t", "--faults", "crash"}, `--faults "crash": want KIND:DC`},
		{"campaign: unknown kind", []string{"--topic", "t", "--faults", "melt:dc-a"}, `unknown fault "melt"`},
		{"campaign: link fault", []string{"--topic", "t", "--faults", "latency:dc-a"}, "a campaign drills DC failures"},
		{"campaign: unknown DC", []string{"--topic", "t", "--faults", "crash:dc-z"}, `"dc-z" is not a DC`},
		{"campaign: no lab", []string{"--topic", "t", "--lab-dir", t.TempDir()}, "is the lab up"},
		{"campaign: exec without supported kinds", []string{"--topic", "t", "--backend", "exec", "--exec-inject", "freeze=a", "--exec-heal", "freeze=b"}, "supports none of crash, lose, isolate"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, errOut, code := execute(t, append(camp, tt.args...)...)
			if code != ExitAssess || !strings.Contains(errOut, tt.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, errOut, tt.want)
			}
		})
	}
	out, _, code := execute(t, "drill", "recover", "--state-dir", t.TempDir())
	if code != ExitOK || !strings.Contains(out, "nothing to recover") {
		t.Errorf("recover with no state: exit %d, %q", code, out)
	}
}

// TestTUIUsageErrors: bad flags of `stretchctl tui` name the flag and exit
// 2 before anything is drawn.
func TestTUIUsageErrors(t *testing.T) {
	cfg := golden.Path("examples", "20-well-configured", "stretch.yaml")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"missing snapshot", []string{"--snapshot", "nope.json"}, "--snapshot: "},
		{"missing matrix", []string{"--latency-matrix", "nope.json"}, "--latency-matrix: "},
		{"unknown DC", []string{"--from", "dc-x"}, `--from "dc-x" is not a DC`},
		{"bad refresh", []string{"--refresh", "0s"}, "--refresh 0s"},
		{"bad backend", []string{"--backend", "ssh"}, `--backend "ssh"`},
		{"bad log file", []string{"--log-file", t.TempDir()}, "--log-file"},
		{"bad config", []string{"--config", "nope.yaml"}, "nope.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errOut, code := execute(t, append([]string{"tui", "--config", cfg}, tt.args...)...)
			if code != ExitAssess || !strings.Contains(errOut, tt.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, errOut, tt.want)
			}
		})
	}
}
