package probe

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/stretchctl/stretchctl/probe/ledgerwire"
)

// processProducers are the ledger's producers in another process (the
// Java client's program, the librdkafka helper), driven over the
// ledgerwire line protocol on its standard input and output.
type processProducers struct {
	cmd   *exec.Cmd
	stdin *os.File
	buf   []byte
	run   *LedgerRun
	info  *LibraryInfo
	// ready is closed at READY or when the process cannot go on (err).
	ready, closedLine, exited chan struct{}
	mu                        sync.Mutex
	err                       error // FATAL, or the process's end
	rejected                  map[string]bool
	closing                   bool // CLOSE was sent: the end is expected
	stderr                    *tailBuffer
	stopDeadline              func() bool
}

// processTimeout bounds the start of a workload process (a JVM, fetching
// nothing: the jars are fetched before).
const processTimeout = time.Minute

// startProcess starts argv, sends it the connection and client settings
// and waits until its producers exist.
func startProcess(ctx context.Context, argv []string, conn, settings []ClientSetting, opts LedgerOptions, run *LedgerRun) (*processProducers, LibraryInfo, error) {
	info := LibraryInfo{}
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, info, err
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin = pr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		pr.Close()
		pw.Close()
		return nil, info, err
	}
	pp := &processProducers{cmd: cmd, stdin: pw, run: run, info: &info, ready: make(chan struct{}), closedLine: make(chan struct{}),
		exited: make(chan struct{}), stderr: &tailBuffer{max: 40}, rejected: map[string]bool{}}
	cmd.Stderr = pp.stderr
	start := cmd.Start
	if opts.StartProcess != nil {
		start = func() error { return opts.StartProcess(cmd) }
	}
	err = start()
	pr.Close()
	if err != nil {
		pw.Close()
		return nil, info, fmt.Errorf("start %s: %w", argv[0], err)
	}
	go pp.read(stdout, opts)
	go func() {
		_ = cmd.Wait()
		pp.fatal(fmt.Errorf("the workload process exited (%s)", cmd.ProcessState))
		close(pp.exited)
	}()

	var lines []string
	for _, s := range conn {
		lines = append(lines, ledgerwire.Config(s.Key, s.Value))
	}
	for _, s := range settings {
		lines = append(lines, ledgerwire.Config(s.Key, s.Value))
	}
	if len(opts.TransactionalIDs) > 0 {
		lines = append(lines, ledgerwire.TxnIDs(opts.TransactionalIDs))
	}
	lines = append(lines, ledgerwire.Start(max(opts.Producers, 1), opts.Topic))
	if _, err := pw.WriteString(strings.Join(lines, "")); err != nil {
		pp.kill()
		return nil, info, fmt.Errorf("write to the workload process: %w%s", err, pp.lastWords())
	}
	t := time.NewTimer(processTimeout)
	defer t.Stop()
	select {
	case <-pp.ready:
	case <-t.C:
		pp.kill()
		return nil, info, fmt.Errorf("the workload process did not create its producers within %v%s", processTimeout, pp.lastWords())
	case <-ctx.Done():
		pp.kill()
		return nil, info, ctx.Err()
	}
	if err := pp.failure(); err != nil {
		pp.kill()
		return nil, info, fmt.Errorf("%w%s", err, pp.lastWords())
	}
	pp.mu.Lock()
	defer pp.mu.Unlock()
	for _, s := range settings {
		if !pp.rejected[s.Key] {
			info.Applied = append(info.Applied, s.Key+"="+s.Value)
		}
	}
	return pp, info, nil
}

// read handles the process's answers until its standard output ends.
func (pp *processProducers) read(stdout io.Reader, opts LedgerOptions) {
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	log := opts.log()
	for sc.Scan() {
		a, err := ledgerwire.ParseAnswer(sc.Text())
		if err != nil {
			log.Warn("ledger: workload process", "error", err)
			continue
		}
		switch a.Kind {
		case ledgerwire.Acked:
			pp.run.ack(a.Index, a.Offset, a.At)
		case ledgerwire.Failed:
			pp.run.fail(a.Index, a.Text, a.At)
		case ledgerwire.Version:
			pp.mu.Lock()
			pp.info.Version = a.Text
			pp.mu.Unlock()
		case ledgerwire.Rejected:
			pp.mu.Lock()
			pp.info.Rejected = append(pp.info.Rejected, a.Library+": "+a.Text)
			pp.rejected[a.Library] = true
			pp.mu.Unlock()
		case ledgerwire.Ready:
			pp.signal(pp.ready)
		case ledgerwire.Closed:
			pp.signal(pp.closedLine)
		case ledgerwire.Fatal:
			pp.fatal(errors.New(a.Text))
		}
	}
	pp.fatal(errors.New("the workload process closed its output"))
}

func (pp *processProducers) signal(c chan struct{}) {
	pp.mu.Lock()
	defer pp.mu.Unlock()
	select {
	case <-c:
	default:
		close(c)
	}
}

// fatal records the first reason the process cannot go on.
func (pp *processProducers) fatal(err error) {
	pp.mu.Lock()
	if pp.err == nil && !pp.closing {
		pp.err = err
	}
	pp.mu.Unlock()
	pp.signal(pp.ready)
	pp.signal(pp.closedLine)
}

func (pp *processProducers) failure() error {
	pp.mu.Lock()
	defer pp.mu.Unlock()
	select {
	case <-pp.ready:
	default:
		return nil
	}
	return pp.err
}

func (pp *processProducers) send(_ context.Context, p, idx int, partition int32, value []byte) error {
	pp.buf = ledgerwire.AppendSend(pp.buf, p, idx, partition, value)
	return nil
}

func (pp *processProducers) flush(ctx context.Context) error {
	if pp.stopDeadline == nil {
		// A process that stops reading must not hold the ledger when the
		// drill stops it: its pipe's writes then fail at once.
		pp.stopDeadline = context.AfterFunc(ctx, func() { _ = pp.stdin.SetWriteDeadline(time.Now()) })
	}
	if len(pp.buf) == 0 {
		return nil
	}
	_, err := pp.stdin.Write(pp.buf)
	pp.buf = pp.buf[:0]
	if err != nil {
		return fmt.Errorf("write to the workload process: %w", err)
	}
	return nil
}

func (pp *processProducers) close(wait time.Duration) {
	wait = max(wait, 0)
	pp.mu.Lock()
	failed := pp.err
	pp.closing = true
	pp.mu.Unlock()
	_ = pp.stdin.SetWriteDeadline(time.Now().Add(2 * time.Second))
	_, err := pp.stdin.WriteString(ledgerwire.Close(wait))
	if err == nil {
		t := time.NewTimer(wait + 10*time.Second)
		select {
		case <-pp.closedLine:
		case <-t.C:
		}
		t.Stop()
	}
	pp.stdin.Close()
	t := time.NewTimer(5 * time.Second)
	select {
	case <-pp.exited:
	case <-t.C:
		pp.kill()
	}
	t.Stop()
	if failed != nil {
		// The process died during the drill: its records left unanswered
		// stay pending, and the notes say why.
		pp.run.mu.Lock()
		pp.run.l.Errors["workload process: "+failed.Error()+pp.stderr.says()]++
		pp.run.mu.Unlock()
	}
}

// lastWords is what the process wrote to standard error, complete once it
// exited (waited for up to 2 s).
func (pp *processProducers) lastWords() string {
	select {
	case <-pp.exited:
	case <-time.After(2 * time.Second):
	}
	return pp.stderr.says()
}

func (pp *processProducers) kill() {
	if pp.cmd.Process != nil {
		_ = pp.cmd.Process.Kill()
	}
	pp.stdin.Close()
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
