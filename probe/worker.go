package probe

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/stretchctl/stretchctl/probe/ledgerwire"
)

// worker is a workload process — the Java client's programs, the
// librdkafka helper — driven over the ledgerwire line protocol: commands
// on its standard input, answers on its standard output, its standard
// error kept for the message of a failure. The version and rejected
// settings it reports, READY, CLOSED and FATAL are the worker's; every
// other answer goes to the handler its owner gave.
type worker struct {
	what   string // "workload", "consumer": for messages
	cmd    *exec.Cmd
	stdin  *os.File
	stderr *tailBuffer
	// ready is closed at READY or when the process cannot go on;
	// closedLine at CLOSED or then; exited once it exited.
	ready, closedLine, exited chan struct{}
	once                      [2]sync.Once

	mu sync.Mutex
	// err is the first reason the process could not go on (FATAL, its
	// end), unless its end was expected (closing or killed).
	err      error
	expected bool
	// killed: kill was called (nothing can be asked of it any more).
	killed       bool
	version      string
	rejected     map[string]bool
	rejectedList []string
}

// processTimeout bounds the start of a workload process (a JVM, fetching
// nothing: the jars are fetched before).
const processTimeout = time.Minute

// startWorker starts argv (through start, which places it in a DC; nil:
// here), sends it lines and waits until it answers READY. handle gets
// every answer the worker does not handle itself, from one goroutine.
func startWorker(ctx context.Context, what string, argv []string, start func(*exec.Cmd) error, lines []string,
	handle func(ledgerwire.Answer), log *slog.Logger) (*worker, error) {
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin = pr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		pr.Close()
		pw.Close()
		return nil, err
	}
	w := &worker{what: what, cmd: cmd, stdin: pw, stderr: &tailBuffer{max: 40}, rejected: map[string]bool{},
		ready: make(chan struct{}), closedLine: make(chan struct{}), exited: make(chan struct{})}
	cmd.Stderr = w.stderr
	if start == nil {
		start = func(c *exec.Cmd) error { return c.Start() }
	}
	err = start(cmd)
	pr.Close()
	if err != nil {
		pw.Close()
		return nil, fmt.Errorf("start %s: %w", argv[0], err)
	}
	go w.read(stdout, handle, log)
	go func() {
		_ = cmd.Wait()
		w.end(fmt.Errorf("the %s process exited (%s)", what, cmd.ProcessState))
		close(w.exited)
	}()
	if _, err := pw.WriteString(strings.Join(lines, "")); err != nil {
		w.kill()
		return nil, fmt.Errorf("write to the %s process: %w%s", what, err, w.lastWords())
	}
	t := time.NewTimer(processTimeout)
	defer t.Stop()
	select {
	case <-w.ready:
	case <-t.C:
		w.kill()
		return nil, fmt.Errorf("the %s process was not ready within %v%s", what, processTimeout, w.lastWords())
	case <-ctx.Done():
		w.kill()
		return nil, ctx.Err()
	}
	if err := w.failure(); err != nil {
		w.kill()
		return nil, fmt.Errorf("%w%s", err, w.lastWords())
	}
	return w, nil
}

// configLines are the CONFIG lines of settings.
func configLines(settings ...[]ClientSetting) []string {
	var out []string
	for _, ss := range settings {
		for _, s := range ss {
			out = append(out, ledgerwire.Config(s.Key, s.Value))
		}
	}
	return out
}

// read handles the process's answers until its standard output ends.
func (w *worker) read(stdout io.Reader, handle func(ledgerwire.Answer), log *slog.Logger) {
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		a, err := ledgerwire.ParseAnswer(sc.Text())
		if err != nil {
			if log != nil {
				log.Warn("ledger: "+w.what+" process", "error", err)
			}
			continue
		}
		switch a.Kind {
		case ledgerwire.Version:
			w.mu.Lock()
			w.version = a.Text
			w.mu.Unlock()
		case ledgerwire.Rejected:
			w.mu.Lock()
			if !w.rejected[a.Library] {
				w.rejected[a.Library] = true
				w.rejectedList = append(w.rejectedList, a.Library+": "+a.Text)
			}
			w.mu.Unlock()
		case ledgerwire.Ready:
			w.once[0].Do(func() { close(w.ready) })
		case ledgerwire.Closed:
			w.once[1].Do(func() { close(w.closedLine) })
		case ledgerwire.Fatal:
			w.end(errors.New(a.Text))
		default:
			handle(a)
		}
	}
	w.end(fmt.Errorf("the %s process closed its output", w.what))
}

// end records the first reason the process cannot go on.
func (w *worker) end(err error) {
	w.mu.Lock()
	if w.err == nil && !w.expected {
		w.err = err
	}
	w.mu.Unlock()
	w.once[0].Do(func() { close(w.ready) })
	w.once[1].Do(func() { close(w.closedLine) })
}

// failure is why the process could not go on, nil while it can.
func (w *worker) failure() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// info says what the library made of settings: its version, the
// settings it took and those it rejected, each with why (all its answers
// before READY are read by then).
func (w *worker) info(settings []ClientSetting) LibraryInfo {
	w.mu.Lock()
	defer w.mu.Unlock()
	info := LibraryInfo{Version: w.version, Rejected: append([]string(nil), w.rejectedList...)}
	for _, s := range settings {
		if !w.rejected[s.Key] {
			info.Applied = append(info.Applied, s.Key+"="+s.Value)
		}
	}
	return info
}

// close asks the process to close (CLOSE, answered by CLOSED within wait
// plus a grace), then waits for it to exit, killing it after 5 s. It
// returns why the process had failed before, if it had.
func (w *worker) close(wait time.Duration) error {
	wait = max(wait, 0)
	w.mu.Lock()
	failed, killed := w.err, w.killed
	w.expected = true
	w.mu.Unlock()
	if !killed {
		_ = w.stdin.SetWriteDeadline(time.Now().Add(2 * time.Second))
		if _, err := w.stdin.WriteString(ledgerwire.Close(wait)); err == nil {
			t := time.NewTimer(wait + 15*time.Second)
			select {
			case <-w.closedLine:
			case <-t.C:
			}
			t.Stop()
		}
	}
	w.stdin.Close()
	t := time.NewTimer(5 * time.Second)
	select {
	case <-w.exited:
	case <-t.C:
		w.kill()
	}
	t.Stop()
	if failed != nil {
		return fmt.Errorf("%w%s", failed, w.stderr.says())
	}
	return nil
}

// kill ends the process at once; its end is expected from now on.
func (w *worker) kill() {
	w.mu.Lock()
	w.expected, w.killed = true, true
	w.mu.Unlock()
	if w.cmd.Process != nil {
		_ = w.cmd.Process.Kill()
	}
	w.stdin.Close()
}

// lastWords is what the process wrote to standard error, complete once it
// exited (waited for up to 2 s).
func (w *worker) lastWords() string {
	select {
	case <-w.exited:
	case <-time.After(2 * time.Second):
	}
	return w.stderr.says()
}

// tailBuffer keeps the last lines written to it (a process's standard
// error, for the message of a failure).
type tailBuffer struct {
	mu    sync.Mutex
	max   int
	lines []string
	part  string
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.part + string(p)
	parts := strings.Split(s, "\n")
	t.part = parts[len(parts)-1]
	for _, l := range parts[:len(parts)-1] {
		t.lines = append(t.lines, l)
	}
	if len(t.lines) > t.max {
		t.lines = t.lines[len(t.lines)-t.max:]
	}
	return len(p), nil
}

// says is ": <last lines>" when the process wrote to standard error.
func (t *tailBuffer) says() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	l := append([]string(nil), t.lines...)
	if t.part != "" {
		l = append(l, t.part)
	}
	if len(l) == 0 {
		return ""
	}
	if len(l) > 8 {
		l = l[len(l)-8:]
	}
	return "; it said:\n" + strings.Join(l, "\n")
}
