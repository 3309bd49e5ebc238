package execbackend

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchctl/stretchctl/drill"
)

// A command whose child keeps running and keeps the output pipe open is
// killed with its whole process group at the timeout: the drill gets an
// error saying so, and no orphan is left.
func TestTimeoutKillsTheProcessGroup(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "child.pid")
	b, err := New(drill.ExecSpec{Timeout: 500 * time.Millisecond,
		Inject: map[drill.Kind]string{drill.Crash: "sleep 300 & echo $! > " + pidFile + "; wait"},
		Heal:   map[drill.Kind]string{drill.Crash: "true"}})
	if err != nil {
		t.Fatal(err)
	}
	err = b.Apply(context.Background(), drill.Fault{Kind: drill.Crash, DC: "dc-a"})
	if err == nil || !strings.Contains(err.Error(), "timed out after 500ms") {
		t.Fatalf("apply: %v, want a timeout", err)
	}
	raw, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(raw)))
	// The child was sent SIGKILL with the group; the kernel delivers it
	// asynchronously (seen in CI: still "R" right after, already
	// reparented to init), so it gets a moment to die. Once reaped it is
	// gone, and a zombie is not running either; a `sleep 300` that was
	// never signalled would still run after the wait.
	deadline := time.Now().Add(5 * time.Second)
	for {
		if err := syscall.Kill(pid, 0); err != nil {
			return
		}
		st, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if strings.Contains(string(st), ") Z ") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("child %d still running 5s after the timeout: %s", pid, st)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Values with shell syntax are never substituted into the command (a DC
// name read back from a state file could be "a;rm -rf ~"); the
// environment variables carry them.
func TestUnsafeValuesRefused(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	b, err := New(drill.ExecSpec{Inject: map[drill.Kind]string{drill.Crash: "echo {dc} > " + out}, Heal: map[drill.Kind]string{drill.Crash: `printf %s "$STRETCHCTL_DC" > ` + out}})
	if err != nil {
		t.Fatal(err)
	}
	evil := drill.Fault{Kind: drill.Crash, DC: "a;touch " + out + ".pwned"}
	if err := b.Apply(context.Background(), evil); err == nil || !strings.Contains(err.Error(), "$STRETCHCTL_DC") {
		t.Errorf("apply with a DC holding shell syntax: %v, want a refusal naming $STRETCHCTL_DC", err)
	}
	if _, err := os.Stat(out + ".pwned"); err == nil {
		t.Error("the DC name ran as code")
	}
	if err := b.Recover(context.Background(), evil); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(out); string(got) != evil.DC {
		t.Errorf("the environment carried %q, want %q", got, evil.DC)
	}
	if err := b.Apply(context.Background(), drill.Fault{Kind: drill.Crash, DC: "dc-a"}); err != nil {
		t.Errorf("a plain DC name: %v", err)
	}
}
