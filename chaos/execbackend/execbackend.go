// Package execbackend injects a drill's faults by running the user's own
// commands (ssh to a DC's hosts, a cloud CLI, a firewall API), one inject
// and one heal command per fault kind, for clusters stretchctl cannot
// reach otherwise.
//
// It runs only the commands it was given, with the fault's values
// substituted, and refuses to be built with a fault kind it could inject
// but not heal.
package execbackend

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/stretchctl/stretchctl/drill"
)

var _ drill.Backend = (*Backend)(nil)

// Backend runs the user's own commands to inject and heal, for
// clusters on VMs or hosts stretchctl cannot reach otherwise (ssh to a
// DC's hosts, a cloud CLI, a firewall API).
type Backend struct{ spec drill.ExecSpec }

// New checks that every kind with an inject command has a heal command:
// a fault that cannot be healed is never injected.
func New(s drill.ExecSpec) (*Backend, error) {
	if len(s.Inject) == 0 {
		return nil, fmt.Errorf("exec backend: no inject command")
	}
	for k, cmd := range s.Inject {
		if _, err := drill.ParseKind(string(k)); err != nil {
			return nil, fmt.Errorf("exec backend: %w", err)
		}
		if strings.TrimSpace(cmd) == "" || strings.TrimSpace(s.Heal[k]) == "" {
			return nil, fmt.Errorf("exec backend: %s needs both an inject and a heal command", k)
		}
	}
	if s.Timeout <= 0 {
		s.Timeout = 2 * time.Minute
	}
	return &Backend{spec: s}, nil
}

// Name implements Backend.
func (b *Backend) Name() string { return "exec" }

// Spec implements Backend.
func (b *Backend) Spec() drill.Spec { s := b.spec; return drill.Spec{Exec: &s} }

// Apply implements Backend.
func (b *Backend) Apply(ctx context.Context, f drill.Fault) error {
	cmd, ok := b.spec.Inject[f.Kind]
	if !ok {
		return fmt.Errorf("exec backend: no inject command for %s", f.Kind)
	}
	return b.run(ctx, "inject", cmd, f)
}

// Recover implements Backend.
func (b *Backend) Recover(ctx context.Context, f drill.Fault) error {
	cmd, ok := b.spec.Heal[f.Kind]
	if !ok {
		return fmt.Errorf("exec backend: no heal command for %s", f.Kind)
	}
	return b.run(ctx, "heal", cmd, f)
}

// safeValue is what a value substituted into a command may hold: the
// command is run by sh, and a value with shell syntax (a DC named
// "a;rm -rf ~", read back from a state file) would run as code.
var safeValue = regexp.MustCompile(`^[A-Za-z0-9._:@%+=/-]*$`)

// waitDelay bounds the wait for the command's output once it was killed
// (a child that kept the pipe open).
const waitDelay = 5 * time.Second

func (b *Backend) run(ctx context.Context, what, command string, f drill.Fault) error {
	vals := map[string]string{
		"{dc}": f.DC, "{peer}": f.Peer, "{kind}": string(f.Kind), "{delay}": f.Delay.String(),
		"{delay_ms}": strconv.FormatInt(f.Delay.Milliseconds(), 10), "{loss}": strconv.FormatFloat(f.LossPercent, 'g', -1, 64),
	}
	for k, v := range vals {
		if !strings.Contains(command, k) {
			continue
		}
		if !safeValue.MatchString(v) {
			env := "STRETCHCTL_" + strings.ToUpper(strings.Trim(k, "{}"))
			return fmt.Errorf("exec backend %s: %s is %q, which a shell would interpret: write $%s in the command instead of %s", what, k, v, env, k)
		}
		command = strings.ReplaceAll(command, k, v)
	}
	ctx, cancel := context.WithTimeout(ctx, b.spec.Timeout)
	defer cancel()
	c := exec.CommandContext(ctx, "sh", "-c", command)
	c.Env = append(os.Environ(), "STRETCHCTL_DC="+f.DC, "STRETCHCTL_PEER="+f.Peer, "STRETCHCTL_FAULT="+string(f.Kind), "STRETCHCTL_KIND="+string(f.Kind),
		"STRETCHCTL_DELAY="+vals["{delay}"], "STRETCHCTL_DELAY_MS="+vals["{delay_ms}"], "STRETCHCTL_LOSS="+vals["{loss}"])
	// The command and everything it starts form one process group, killed
	// as a whole at the deadline: a child that keeps running (or keeps the
	// output pipe open) neither outlives the timeout nor holds the drill.
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	c.Cancel = func() error { return syscall.Kill(-c.Process.Pid, syscall.SIGKILL) }
	c.WaitDelay = waitDelay
	out, err := c.CombinedOutput()
	if errors.Is(err, exec.ErrWaitDelay) && ctx.Err() == nil {
		// The command exited 0; something it started in the background
		// kept its output open and is left running, as the command meant.
		err = nil
	}
	if err != nil {
		msg := strings.TrimSpace(string(out))
		if len(msg) > 500 {
			msg = msg[len(msg)-500:]
		}
		if ctx.Err() == context.DeadlineExceeded {
			err = fmt.Errorf("timed out after %v (the command's process group was killed)", b.spec.Timeout)
		}
		return fmt.Errorf("exec backend %s %q: %w: %s", what, command, err, msg)
	}
	return nil
}
