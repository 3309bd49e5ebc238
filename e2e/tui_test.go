package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchctl/stretchctl/lab"
	"github.com/stretchctl/stretchctl/rules"
	"github.com/stretchctl/stretchctl/topology"
)

// tmux drives a terminal program the way a person does: keys in, the
// screen read back. Each test gets its own server socket and config.
type tmux struct {
	t      *testing.T
	socket string
}

// startTmux runs command in a w×h tmux window until the test ends.
func startTmux(t *testing.T, w, h int, command string) *tmux {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Fatal("tmux is not installed (scripts/deps.sh installs it)")
	}
	s := &tmux{t: t, socket: fmt.Sprintf("stretchctl-e2e-%d", os.Getpid())}
	s.run("-f", "/dev/null", "new-session", "-d", "-s", "e2e", "-x", strconv.Itoa(w), "-y", strconv.Itoa(h), command)
	t.Cleanup(func() { _ = exec.Command("tmux", "-L", s.socket, "kill-server").Run() })
	return s
}

func (s *tmux) run(args ...string) string {
	s.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-L", s.socket}, args...)...).CombinedOutput()
	if err != nil {
		s.t.Fatalf("tmux %v: %v: %s", args, err, out)
	}
	return string(out)
}

// keys sends keys one at a time (a burst of runes arrives as one key).
func (s *tmux) keys(keys ...string) {
	s.t.Helper()
	for _, k := range keys {
		if special[k] {
			s.run("send-keys", "-t", "e2e", k)
		} else {
			s.run("send-keys", "-t", "e2e", "-l", k)
		}
		time.Sleep(150 * time.Millisecond)
	}
}

var special = map[string]bool{"Enter": true, "Escape": true, "Left": true, "Right": true, "Up": true, "Down": true, "Tab": true, "C-c": true}

func (s *tmux) screen() string { s.t.Helper(); return s.run("capture-pane", "-p", "-t", "e2e") }

// alive reports whether the program still runs.
func (s *tmux) alive() bool {
	return exec.Command("tmux", "-L", s.socket, "has-session", "-t", "e2e").Run() == nil
}

// waitFor reads the screen until ok says it is right, or fails the test
// after bound with the last screen.
func (s *tmux) waitFor(what string, bound time.Duration, ok func(screen string) bool) string {
	s.t.Helper()
	deadline := time.Now().Add(bound)
	for {
		sc := s.screen()
		if strings.Contains(sc, "level=") || strings.Contains(sc, "WARN") {
			s.t.Fatalf("a log line landed on the screen:\n%s", sc)
		}
		if ok(sc) {
			return sc
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("waiting %v for %s; the screen:\n%s", bound, what, sc)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

func (s *tmux) waitText(text string, bound time.Duration) string {
	s.t.Helper()
	return s.waitFor(fmt.Sprintf("%q", text), bound, func(sc string) bool { return strings.Contains(sc, text) })
}

var cellMs = regexp.MustCompile(`^([0-9.]+) ms`)

// matrixCell reads the latency screen's cell from → to in ms.
func matrixCell(screen, from, to string) (float64, bool) {
	var cols []string
	for _, line := range strings.Split(screen, "\n") {
		fields := regexp.MustCompile(`\s{2,}`).Split(strings.TrimSpace(line), -1)
		if len(fields) > 1 && strings.HasPrefix(fields[0], `from \ to`) {
			cols = fields[1:]
			continue
		}
		if cols == nil || fields[0] != from {
			continue
		}
		for i, c := range cols {
			if c == to && i+1 < len(fields) {
				m := cellMs.FindStringSubmatch(fields[i+1])
				if m == nil {
					return 0, false
				}
				v, err := strconv.ParseFloat(m[1], 64)
				return v, err == nil
			}
		}
	}
	return 0, false
}

// testTUI runs `stretchctl tui` in tmux against the lab of the agents'
// test (3 DCs, one broker each, agents running, a–b 20 ms): every screen
// with real figures, a short drill to its result, and a second drill
// quit in the middle: the fault is healed and the lab says so.
func testTUI(t *testing.T, bin string, l *lab.Lab, st *lab.State, rtt time.Duration) {
	boot := strings.Join(st.BootstrapServers(), ",")
	kafkaTool(t, st, "org.apache.kafka.tools.TopicCommand", "--bootstrap-server", boot, "--create", "--topic", "tui-drill",
		"--partitions", "3", "--replication-factor", "3", "--config", "min.insync.replicas=2")
	kafkaTool(t, st, "org.apache.kafka.tools.TopicCommand", "--bootstrap-server", boot, "--create", "--topic", "tui-rf1",
		"--partitions", "1", "--replication-factor", "1")
	var snap topology.Snapshot
	if err := json.Unmarshal([]byte(mustRun(t, bin, "snapshot", "--config", l.ConfigPath())), &snap); err != nil {
		t.Fatal(err)
	}
	// The finding the TUI must show is the one check reports.
	out, errOut, code := run(t, bin, "check", "--config", l.ConfigPath(), "--format", "json")
	if code != 0 && code != 1 {
		t.Fatalf("check: exit %d: %s", code, errOut)
	}
	var rep rules.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	var rf1 *rules.Finding
	for i, f := range rep.Findings {
		if strings.HasPrefix(f.Subject, "topic:tui-rf1") && f.ID == "RPO-003" {
			rf1 = &rep.Findings[i]
		}
	}
	if rf1 == nil {
		t.Fatalf("check does not report RPO-003 for topic tui-rf1: %d findings", len(rep.Findings))
	}

	dir := t.TempDir()
	stateDir, logFile, exitFile := filepath.Join(dir, "state"), filepath.Join(dir, "tui.log"), filepath.Join(dir, "exit")
	t.Cleanup(func() { run(t, bin, "drill", "recover", "--state-dir", stateDir, "--force"); healLab(t, bin, l) })
	command := fmt.Sprintf("env NO_COLOR=1 CI=true %s tui --config %s --lab-dir %s --state-dir %s --log-file %s --refresh 2s "+
		"--steady 3s --rate 200 --producers 2 --producer-library franz-go; echo $? > %s",
		bin, l.ConfigPath(), l.Dir, stateDir, logFile, exitFile)
	tm := startTmux(t, 120, 40, command)

	// Overview: the cluster, every DC with its broker, the quorum.
	sc := tm.waitText("cluster "+snap.ClusterID+" ·", 60*time.Second)
	for _, want := range []string{"dc-a", "dc-b", "dc-c", "1 up", "2 up", "3 up", "leader", "crash dc-a", "isolate dc-c"} {
		if !strings.Contains(sc, want) {
			t.Errorf("overview lacks %q:\n%s", want, sc)
		}
	}

	// Latency: the a–b cell within tolerance of the injected round trip.
	tm.keys("2")
	tol := linkTolerance(rtt)
	sc = tm.waitFor(fmt.Sprintf("dc-a → dc-b within %v of %v", tol, rtt), 60*time.Second, func(sc string) bool {
		v, ok := matrixCell(sc, "dc-a", "dc-b")
		d := time.Duration(v*float64(time.Millisecond)) - rtt
		return ok && d <= tol && d >= -tol
	})
	ab, _ := matrixCell(sc, "dc-a", "dc-b")
	t.Logf("TUI matrix dc-a → dc-b %.1f ms (injected %v)", ab, rtt)
	tm.keys("Right", "Enter")
	tm.waitFor("per-broker figures of dc-a → dc-b", 10*time.Second, func(sc string) bool {
		return strings.Contains(sc, "acks=all") && regexp.MustCompile(`(?m)^2\s+[0-9.]+\s+[0-9.]+`).MatchString(sc)
	})

	// Findings: the one check reports, found with the filter, its detail.
	tm.keys("3", "/")
	tm.keys("tui-rf1", "Enter")
	sc = tm.waitText("RPO-003", 10*time.Second)
	if !strings.Contains(sc, "topic:tui-rf1") {
		t.Errorf("filtered findings lack topic:tui-rf1:\n%s", sc)
	}
	tm.keys("Enter")
	tm.waitText("why this rule", 10*time.Second)
	tm.keys("Escape")

	// Scenarios with a what-if; help; a jump by name.
	tm.keys("4")
	tm.waitText("crash dc-b", 10*time.Second)
	tm.keys("d")
	tm.waitText("WHAT-IF: dc-a down", 10*time.Second)
	tm.keys("x", "?")
	tm.waitText("q, ctrl+c", 10*time.Second)
	tm.keys("Escape", ":")
	tm.keys("drill", "Enter")

	// A drill to its result: crash dc-c for 20 s (longer than the
	// predicted RTO, so that the RTO is measured) on tui-drill.
	tm.waitText("held for", 10*time.Second)
	tm.keys("Down", "Right", "Right", "Down")
	for i := 0; i < 10 && !strings.Contains(tm.screen(), "‹ tui-drill ›"); i++ {
		tm.keys("Right")
	}
	tm.keys("Down", "Right")
	sc = tm.waitText("‹ 20s ›", 5*time.Second)
	if !strings.Contains(sc, "‹ dc-c ›") || !strings.Contains(sc, "‹ tui-drill ›") {
		t.Fatalf("the form is not crash dc-c on tui-drill for 20s:\n%s", sc)
	}
	tm.keys("Enter")
	tm.waitText("Type the cluster id", 5*time.Second)
	tm.keys(snap.ClusterID, "Enter")
	tm.waitText("[Holding]", 90*time.Second)
	sc = tm.waitText("Drill result", 3*time.Minute)
	for _, want := range []string{"crash dc-c on tui-drill", "healed", "observed", "predicted vs observed: agree"} {
		if !strings.Contains(sc, want) {
			t.Errorf("drill result lacks %q:\n%s", want, sc)
		}
	}
	t.Logf("drill result:\n%s", sc)
	requireHealedLab(t, bin, l)

	// A second one, quit while the fault is held: healed first.
	tm.keys("Enter", "Enter")
	tm.waitText("Type the cluster id", 5*time.Second)
	tm.keys(snap.ClusterID, "Enter")
	tm.waitText("[Holding]", 90*time.Second)
	tm.keys("q")
	deadline := time.Now().Add(2 * time.Minute)
	for tm.alive() {
		if time.Now().After(deadline) {
			t.Fatalf("the TUI did not end within 2 min of q during a drill:\n%s", tm.screen())
		}
		time.Sleep(300 * time.Millisecond)
	}
	b, err := os.ReadFile(exitFile)
	if err != nil || strings.TrimSpace(string(b)) != "0" {
		t.Errorf("exit status %q (%v), want 0", b, err)
	}
	requireHealedLab(t, bin, l)
	if out := mustRun(t, bin, "drill", "recover", "--state-dir", stateDir); !strings.Contains(out, "nothing to recover") {
		t.Errorf("drill recover after quitting: %s", out)
	}
	if info, err := os.Stat(logFile); err != nil || info.Size() == 0 {
		t.Errorf("the log file %s is empty or missing (%v): logs must go there", logFile, err)
	}
}
