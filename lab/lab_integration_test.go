package lab_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchctl/stretchctl/lab/labtest"

	"github.com/IBM/sarama"

	"github.com/stretchctl/stretchctl/lab"
)

// The lab under test: 2.5 DCs with these round trips.
var labLatency = map[[2]string]time.Duration{
	{"dc-a", "dc-b"}: 20 * time.Millisecond,
	{"dc-a", "dc-c"}: 30 * time.Millisecond,
	{"dc-b", "dc-c"}: 40 * time.Millisecond,
	{"ops", "dc-a"}:  lab.DefaultOpsRoundTrip,
}

// TestLab starts one real lab (real Kafka, one namespace per DC) and walks
// through its acceptance points in order; the subtests share the lab.
func TestLab(t *testing.T) {
	labtest.RequireLab(t)
	bin := labtest.BuildStretchctl(t)
	dir := filepath.Join(t.TempDir(), "lab")
	l := &lab.Lab{Dir: dir, Executable: bin}
	ctx := context.Background()

	out, errOut, code := labtest.Run(t, bin, "lab", "up", "--dir", dir,
		"--latency", "dc-a/dc-b=20ms,dc-a/dc-c=30ms,dc-b/dc-c=40ms")
	if code != 0 {
		t.Fatalf("lab up: exit %d\n%s\n%s", code, out, errOut)
	}
	t.Cleanup(func() { labtest.Run(t, bin, "lab", "down", "--dir", dir) })
	if !strings.Contains(out, filepath.Join(dir, "stretch.yaml")) {
		t.Errorf("lab up did not print the config path; stdout:\n%s", out)
	}
	st, err := l.State()
	if err != nil {
		t.Fatal(err)
	}
	const topic = "all-dcs"

	t.Run("brokers report their DC as rack", func(t *testing.T) {
		view, err := l.Cluster(ctx, lab.OpsSite)
		if err != nil {
			t.Fatal(err)
		}
		want := map[int32]string{}
		for _, n := range st.Layout.Brokers() {
			want[n.ID] = n.DC
		}
		if fmt.Sprint(view.Racks) != fmt.Sprint(want) {
			t.Errorf("racks = %v, want %v", view.Racks, want)
		}
	})

	t.Run("acks=all write is readable from every DC", func(t *testing.T) {
		// Replicas 1,3 (dc-a, dc-b) and 2,4: every DC with brokers holds two.
		createTopic(t, st, topic, []int32{1, 3, 2, 4}, "3")
		cfg, err := st.SaramaConfig(lab.OpsSite)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Producer.RequiredAcks = sarama.WaitForAll
		cfg.Producer.Return.Successes = true
		p, err := sarama.NewSyncProducer(st.BootstrapServers(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		const n = 50
		for i := 0; i < n; i++ {
			if _, _, err := p.SendMessage(&sarama.ProducerMessage{Topic: topic, Value: sarama.StringEncoder(fmt.Sprint(i))}); err != nil {
				t.Fatalf("acks=all send %d: %v", i, err)
			}
		}
		p.Close()
		for _, dc := range st.Layout.DCs {
			if got := consumeAll(t, st, dc, topic, n); got != n {
				t.Errorf("read %d records from %s, want %d", got, dc, n)
			}
		}
	})

	t.Run("round trips match the configured latency", func(t *testing.T) {
		for pair, want := range labLatency {
			got := measureRTT(t, l, st, pair[0], pair[1])
			tol := max(time.Millisecond, want/20)
			t.Logf("%s/%s: configured %v, measured median %v", pair[0], pair[1], want, got)
			if d := got - want; d > tol || d < -tol {
				t.Errorf("%s/%s round trip = %v, want %v ± %v", pair[0], pair[1], got, want, tol)
			}
		}
	})

	t.Run("exec runs a command inside a DC and passes its exit code", func(t *testing.T) {
		var ns syscall.Stat_t
		if err := syscall.Stat(fmt.Sprintf("/run/netns/stc%d-dc-b", st.Slot), &ns); err != nil {
			t.Fatal(err)
		}
		out := labtest.MustRun(t, bin, "lab", "exec", "dc-b", "--dir", dir, "--", "sh", "-c", "readlink /proc/self/ns/net; echo $STRETCHCTL_LAB_DC")
		if want := fmt.Sprintf("net:[%d]\ndc-b\n", ns.Ino); out != want {
			t.Errorf("exec output = %q, want %q (dc-b's namespace and name)", out, want)
		}
		if _, _, code := labtest.Run(t, bin, "lab", "exec", "dc-a", "--dir", dir, "--", "sh", "-c", "exit 7"); code != 7 {
			t.Errorf("exit code = %d, want the command's 7", code)
		}
		// StartIn (a drill's workload process placed in a DC) runs a child
		// in the same namespace.
		var b strings.Builder
		cmd := exec.Command("sh", "-c", "readlink /proc/self/ns/net; echo $STRETCHCTL_LAB_DC")
		cmd.Stdout = &b
		if err := l.StartIn("dc-b", cmd); err != nil {
			t.Fatal(err)
		}
		if err := cmd.Wait(); err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("net:[%d]\ndc-b\n", ns.Ino); b.String() != want {
			t.Errorf("StartIn output = %q, want %q", b.String(), want)
		}
	})

	t.Run("isolate dc-a, then heal", func(t *testing.T) {
		t.Cleanup(func() { labtest.HealAll(t, bin, dir) })
		labtest.MustRun(t, bin, "lab", "fault", "isolate", "dc-a", "--dir", dir)
		for _, n := range nodesIn(st, "dc-a") {
			if err := dialFrom(l, "dc-b", n.BrokerAddr()); err == nil {
				t.Errorf("from dc-b, %s in isolated dc-a answers", n.BrokerAddr())
			}
		}
		for _, n := range nodesIn(st, "dc-c") {
			if err := dialFrom(l, "dc-b", n.ControllerAddr()); err != nil {
				t.Errorf("from dc-b, dc-c's controller %s: %v", n.ControllerAddr(), err)
			}
		}
		waitBrokers(t, l, "dc-b", brokerIDs(st, "dc-b"), "dc-a's brokers fenced")
		labtest.MustRun(t, bin, "lab", "heal", "dc-a", "--dir", dir)
		waitISRFull(t, st, topic)
	})

	t.Run("kill dc-a, then heal restarts it", func(t *testing.T) {
		t.Cleanup(func() { labtest.HealAll(t, bin, dir) })
		before := pids(t, bin, dir, "dc-a")
		labtest.MustRun(t, bin, "lab", "fault", "kill", "dc-a", "--dir", dir)
		if got := states(t, bin, dir, "dc-a"); !allEqual(got, lab.ProcDown) {
			t.Errorf("after kill, dc-a states = %v, want all down", got)
		}
		waitBrokers(t, l, "dc-b", brokerIDs(st, "dc-b"), "dc-a's brokers fenced")
		labtest.MustRun(t, bin, "lab", "heal", "dc-a", "--dir", dir)
		after := pids(t, bin, dir, "dc-a")
		for i := range before {
			if before[i] == after[i] {
				t.Errorf("node pid %d unchanged: not restarted", before[i])
			}
		}
		if got := states(t, bin, dir, "dc-a"); !allEqual(got, lab.ProcUp) {
			t.Errorf("after heal, dc-a states = %v, want all up", got)
		}
		waitISRFull(t, st, topic)
	})

	t.Run("freeze dc-a, then heal resumes it", func(t *testing.T) {
		t.Cleanup(func() { labtest.HealAll(t, bin, dir) })
		before := pids(t, bin, dir, "dc-a")
		labtest.MustRun(t, bin, "lab", "fault", "freeze", "dc-a", "--dir", dir)
		if got := states(t, bin, dir, "dc-a"); !allEqual(got, lab.ProcFrozen) {
			t.Errorf("after freeze, dc-a states = %v, want all frozen", got)
		}
		for _, p := range before {
			if s := procStateLetter(t, p); s != "T" {
				t.Errorf("pid %d state %q in /proc, want T (stopped)", p, s)
			}
		}
		waitBrokers(t, l, "dc-b", brokerIDs(st, "dc-b"), "frozen dc-a's brokers fenced")
		labtest.MustRun(t, bin, "lab", "heal", "--all", "--dir", dir)
		if after := pids(t, bin, dir, "dc-a"); !slices.Equal(before, after) {
			t.Errorf("pids changed %v -> %v: a frozen node must resume, not restart", before, after)
		}
		waitISRFull(t, st, topic)
	})

	t.Run("link faults change the router and heal restores them", func(t *testing.T) {
		t.Cleanup(func() { labtest.HealAll(t, bin, dir) })
		labtest.MustRun(t, bin, "lab", "fault", "latency", "dc-a>dc-b=50ms", "--dir", dir)
		labtest.MustRun(t, bin, "lab", "fault", "loss", "dc-b/dc-c=10%", "--dir", dir)
		s := status(t, bin, dir)
		for _, lk := range s.Links {
			switch {
			case lk.From == "dc-a" && lk.To == "dc-b" && lk.Delay != 50*time.Millisecond:
				t.Errorf("dc-a>dc-b delay = %v, want 50ms", lk.Delay)
			case lk.From == "dc-b" && lk.To == "dc-a" && lk.Delay != 10*time.Millisecond:
				t.Errorf("dc-b>dc-a delay = %v, want unchanged 10ms", lk.Delay)
			case (lk.From == "dc-b" && lk.To == "dc-c" || lk.From == "dc-c" && lk.To == "dc-b") && lk.Loss != 10:
				t.Errorf("%s>%s loss = %v, want 10", lk.From, lk.To, lk.Loss)
			}
		}
		if len(s.Faults) != 2 {
			t.Errorf("faults = %v, want 2", s.Faults)
		}
		labtest.MustRun(t, bin, "lab", "heal", "--dir", dir)
		for _, lk := range status(t, bin, dir).Links {
			if lk.Delay != lk.Baseline || lk.Loss != 0 || lk.Blocked {
				t.Errorf("after heal %s>%s = %+v, want baseline %v", lk.From, lk.To, lk.Link, lk.Baseline)
			}
		}
	})

	t.Run("bad input is refused and changes nothing", func(t *testing.T) {
		stateBefore, _ := os.ReadFile(filepath.Join(dir, "state.json"))
		linksBefore := status(t, bin, dir).Links
		tests := []struct {
			name string
			args []string
			want string
		}{
			{"unknown DC", []string{"lab", "fault", "kill", "dc-x"}, `unknown DC "dc-x"`},
			{"unknown DC to heal", []string{"lab", "heal", "dc-q"}, `unknown DC "dc-q"`},
			{"malformed latency", []string{"lab", "fault", "latency", "dc-a/dc-b=fast"}, `latency "fast" is not a duration`},
			{"latency without link", []string{"lab", "fault", "latency", "dc-a-dc-b=5ms"}, "missing link"},
			{"unknown site in spec", []string{"lab", "fault", "block", "dc-a/dc-z"}, `unknown site "dc-z"`},
			{"loss out of range", []string{"lab", "fault", "loss", "dc-a/dc-b=150%"}, "between 0 and 100"},
			{"unknown fault", []string{"lab", "fault", "melt", "dc-a"}, `unknown fault "melt"`},
			{"lab already up", []string{"lab", "up"}, "already up"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, stderr, code := labtest.Run(t, bin, append(tt.args, "--dir", dir)...)
				if code != 2 {
					t.Errorf("exit code = %d, want 2", code)
				}
				if !strings.Contains(stderr, tt.want) {
					t.Errorf("stderr = %q, want it to contain %q", stderr, tt.want)
				}
			})
		}
		stateAfter, _ := os.ReadFile(filepath.Join(dir, "state.json"))
		if !bytes.Equal(stateBefore, stateAfter) {
			t.Errorf("state.json changed by refused commands")
		}
		linksAfter := status(t, bin, dir).Links
		for i := range linksBefore {
			if linksBefore[i].Link != linksAfter[i].Link {
				t.Errorf("link %s>%s changed: %+v -> %+v", linksBefore[i].From, linksBefore[i].To, linksBefore[i].Link, linksAfter[i].Link)
			}
		}
	})

	t.Run("down leaves nothing behind after SIGKILL of every lab process", func(t *testing.T) {
		victims := []int{st.RouterPid}
		for _, n := range status(t, bin, dir).Nodes {
			victims = append(victims, n.Pid)
		}
		for _, p := range victims {
			_ = exec.Command("kill", "-9", fmt.Sprint(p)).Run()
		}
		labtest.MustRun(t, bin, "lab", "down", "--dir", dir)
		for _, dc := range st.Layout.DCs {
			if ns := fmt.Sprintf("/run/netns/stc%d-%s", st.Slot, dc); exists(ns) {
				t.Errorf("namespace %s left behind", ns)
			}
		}
		for _, s := range st.Sites {
			if _, err := net.InterfaceByName(s.Device); err == nil {
				t.Errorf("device %s left behind", s.Device)
			}
		}
		for _, p := range victims {
			if exists(fmt.Sprintf("/proc/%d/cmdline", p)) {
				if cmd, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", p)); bytes.Contains(cmd, []byte(dir)) {
					t.Errorf("process %d left behind", p)
				}
			}
		}
		if exists(filepath.Join(dir, "state.json")) {
			t.Error("state.json left behind")
		}
		if exists(fmt.Sprintf("/run/stretchctl/slots/%d", st.Slot)) {
			t.Errorf("slot %d still claimed", st.Slot)
		}
		out, _, code := labtest.Run(t, bin, "lab", "down", "--dir", dir)
		if code != 0 || !strings.Contains(out, "nothing to remove") {
			t.Errorf("second down: exit %d, %q; want 0 and nothing to remove", code, out)
		}
	})
}

func status(t *testing.T, bin, dir string) lab.Status {
	t.Helper()
	var s lab.Status
	if err := json.Unmarshal([]byte(labtest.MustRun(t, bin, "lab", "status", "--format", "json", "--dir", dir)), &s); err != nil {
		t.Fatal(err)
	}
	return s
}

func pids(t *testing.T, bin, dir, dc string) []int {
	var out []int
	for _, n := range status(t, bin, dir).Nodes {
		if n.DC == dc {
			out = append(out, n.Pid)
		}
	}
	return out
}

func states(t *testing.T, bin, dir, dc string) []lab.ProcState {
	var out []lab.ProcState
	for _, n := range status(t, bin, dir).Nodes {
		if n.DC == dc {
			out = append(out, n.State)
		}
	}
	return out
}

func allEqual[T comparable](xs []T, v T) bool {
	for _, x := range xs {
		if x != v {
			return false
		}
	}
	return len(xs) > 0
}

func procStateLetter(t *testing.T, pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.LastIndexByte(b, ')')
	return string(b[i+2 : i+3])
}

func nodesIn(st *lab.State, dc string) []lab.Node {
	var out []lab.Node
	for _, n := range st.Layout.Nodes {
		if n.DC == dc {
			out = append(out, n)
		}
	}
	return out
}

func brokerIDs(st *lab.State, dc string) []int32 {
	var out []int32
	for _, n := range st.Layout.Brokers() {
		if n.DC == dc {
			out = append(out, n.ID)
		}
	}
	return out
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

func dialFrom(l *lab.Lab, site, addr string) error {
	dial, err := l.DialContext(site)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	c, err := dial(ctx, "tcp", addr)
	if err == nil {
		c.Close()
	}
	return err
}

// waitBrokers waits until the cluster, seen from site, registers exactly want.
func waitBrokers(t *testing.T, l *lab.Lab, site string, want []int32, what string) {
	t.Helper()
	deadline := time.Now().Add(45 * time.Second)
	var view lab.ClusterView
	for time.Now().Before(deadline) {
		view, _ = l.Cluster(context.Background(), site)
		if view.Error == "" && slices.Equal(view.Brokers, want) {
			return
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Fatalf("%s: brokers seen from %s = %v (error %q), want %v", what, site, view.Brokers, view.Error, want)
}

func createTopic(t *testing.T, st *lab.State, topic string, replicas []int32, minISR string) {
	t.Helper()
	cfg, err := st.SaramaConfig(lab.OpsSite)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := sarama.NewClusterAdmin(st.BootstrapServers(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	err = admin.CreateTopic(topic, &sarama.TopicDetail{
		NumPartitions: -1, ReplicationFactor: -1,
		ReplicaAssignment: map[int32][]int32{0: replicas},
		ConfigEntries:     map[string]*string{"min.insync.replicas": &minISR},
	}, false)
	if err != nil {
		t.Fatalf("create topic %s: %v", topic, err)
	}
	waitISRFull(t, st, topic)
}

// waitISRFull waits until every partition of topic has its whole replica
// set in sync and a leader.
func waitISRFull(t *testing.T, st *lab.State, topic string) {
	t.Helper()
	cfg, err := st.SaramaConfig(lab.OpsSite)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(90 * time.Second)
	last := ""
	for time.Now().Before(deadline) {
		if full, why := isrFull(st, cfg, topic); full {
			return
		} else {
			last = why
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Fatalf("ISR of %s never full again: %s", topic, last)
}

func isrFull(st *lab.State, cfg *sarama.Config, topic string) (bool, string) {
	client, err := sarama.NewClient(st.BootstrapServers(), cfg)
	if err != nil {
		return false, err.Error()
	}
	defer client.Close()
	parts, err := client.Partitions(topic)
	if err != nil {
		return false, err.Error()
	}
	for _, p := range parts {
		replicas, _ := client.Replicas(topic, p)
		isr, _ := client.InSyncReplicas(topic, p)
		if len(isr) != len(replicas) {
			return false, fmt.Sprintf("partition %d isr %v of replicas %v", p, isr, replicas)
		}
	}
	return true, ""
}

// consumeAll reads a single-partition topic from the start with a client
// placed in dc and returns how many records it read.
func consumeAll(t *testing.T, st *lab.State, dc, topic string, want int) int {
	t.Helper()
	cfg, err := st.SaramaConfig(dc)
	if err != nil {
		t.Fatal(err)
	}
	c, err := sarama.NewConsumer(st.BootstrapServers(), cfg)
	if err != nil {
		t.Fatalf("consumer in %s: %v", dc, err)
	}
	defer c.Close()
	pc, err := c.ConsumePartition(topic, 0, sarama.OffsetOldest)
	if err != nil {
		t.Fatalf("consume in %s: %v", dc, err)
	}
	defer pc.Close()
	got := 0
	timeout := time.After(20 * time.Second)
	for got < want {
		select {
		case <-pc.Messages():
			got++
		case <-timeout:
			return got
		}
	}
	return got
}

// measureRTT runs a TCP ping-pong between a listener in site b and a
// client in site a and returns the median round trip of 40 exchanges.
func measureRTT(t *testing.T, l *lab.Lab, st *lab.State, a, b string) time.Duration {
	t.Helper()
	addr, err := st.SiteAddr(b)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := l.Listen(b, "tcp", net.JoinHostPort(addr, "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		_, _ = io.Copy(c, c)
	}()
	dial, err := l.DialContext(a)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := dial(ctx, "tcp", ln.Addr().String())
	if err != nil {
		t.Fatalf("dial %s from %s: %v", b, a, err)
	}
	defer c.Close()
	_ = c.(*net.TCPConn).SetNoDelay(true)
	buf := make([]byte, 1)
	var rtts []time.Duration
	for i := 0; i < 41; i++ {
		start := time.Now()
		if _, err := c.Write(buf); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(c, buf); err != nil {
			t.Fatal(err)
		}
		if i > 0 { // the first exchange may include slow-start effects
			rtts = append(rtts, time.Since(start))
		}
	}
	sort.Slice(rtts, func(i, j int) bool { return rtts[i] < rtts[j] })
	return rtts[len(rtts)/2]
}

// TestLabLoopbackKafka39 runs the lab as it runs without root (every node
// on its own loopback address, process faults only) and with Kafka 3.9,
// the last 3.x line, which the lab must keep supporting.
func TestLabLoopbackKafka39(t *testing.T) {
	labtest.RequireLab(t)
	bin := labtest.BuildStretchctl(t)
	dir := filepath.Join(t.TempDir(), "lab39")
	l := &lab.Lab{Dir: dir, Executable: bin}
	labtest.MustRun(t, bin, "lab", "up", "--dir", dir, "--loopback", "--topology", "3dc", "--brokers-per-dc", "1", "--kafka-version", "3.9.1")
	t.Cleanup(func() { labtest.Run(t, bin, "lab", "down", "--dir", dir) })

	s := status(t, bin, dir)
	if s.Network != lab.NetworkLoopback || s.KafkaVersion != "3.9.1" {
		t.Errorf("network %s, Kafka %s; want loopback, 3.9.1", s.Network, s.KafkaVersion)
	}
	if len(s.Limits) == 0 || !strings.Contains(s.Limits[0], "latency, loss, block and isolate are unavailable") {
		t.Errorf("limits = %q, want the loopback limits spelled out", s.Limits)
	}
	view, err := l.Cluster(context.Background(), lab.OpsSite)
	if err != nil {
		t.Fatal(err)
	}
	want := map[int32]string{1: "dc-a", 2: "dc-b", 3: "dc-c"}
	if fmt.Sprint(view.Racks) != fmt.Sprint(want) || view.QuorumLeader < 0 {
		t.Errorf("racks %v, quorum leader %d; want %v and a leader", view.Racks, view.QuorumLeader, want)
	}
	for _, args := range [][]string{{"isolate", "dc-a"}, {"latency", "dc-a/dc-b=5ms"}} {
		_, stderr, code := labtest.Run(t, bin, "lab", "fault", args[0], args[1], "--dir", dir)
		if code != 2 || !strings.Contains(stderr, "needs network namespaces") {
			t.Errorf("fault %v on loopback: exit %d, %q; want 2 and a clear refusal", args, code, stderr)
		}
	}
	labtest.MustRun(t, bin, "lab", "fault", "kill", "dc-b", "--dir", dir)
	if got := states(t, bin, dir, "dc-b"); !allEqual(got, lab.ProcDown) {
		t.Errorf("after kill, dc-b = %v, want down", got)
	}
	waitBrokers(t, l, lab.OpsSite, []int32{1, 3}, "dc-b's broker fenced")
	labtest.MustRun(t, bin, "lab", "heal", "dc-b", "--dir", dir)
	waitBrokers(t, l, lab.OpsSite, []int32{1, 2, 3}, "dc-b's broker back")
	labtest.MustRun(t, bin, "lab", "down", "--dir", dir)
	if exists(filepath.Join(dir, "state.json")) {
		t.Error("state.json left behind")
	}
}
