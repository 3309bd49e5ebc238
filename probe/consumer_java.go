package probe

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/stretchctl/stretchctl/config"
	"github.com/stretchctl/stretchctl/probe/ledgerwire"
)

// javaConsumers are the group's members on the Java client: one JVM per
// place (LedgerConsumer), each member its own KafkaConsumer thread.
// Killing a place kills its JVM (SIGKILL): its members leave nothing
// behind but their session, as an application dying with its DC.
type javaConsumers struct {
	run   *ConsumerRun
	procs []*memberProcess
}

// memberProcess is one JVM of members, driven over ledgerwire.
type memberProcess struct {
	cmd    *exec.Cmd
	stdin  *os.File
	run    *ConsumerRun
	stderr *tailBuffer
	// ready is closed at READY or at the process's end; closedLine at
	// CLOSED or at its end; exited when it exited.
	ready, closedLine, exited chan struct{}
	once                      [2]sync.Once
	mu                        sync.Mutex
	err                       error
	killed                    bool
	version                   string
	rejected                  map[string]bool
	rejectedList              []string
}

// openJavaConsumers starts one JVM of members per place.
func openJavaConsumers(ctx context.Context, cluster config.Cluster, opts ConsumerOptions, run *ConsumerRun) (members, LibraryInfo, error) {
	version := cmp.Or(opts.Client.Version, DefaultJavaClientVersion)
	info := LibraryInfo{}
	argv, err := javaWorkload(ctx, version, "LedgerConsumer", opts.Progress)
	if err != nil {
		return nil, info, err
	}
	conn, err := javaConnection(cluster)
	if err != nil {
		return nil, info, err
	}
	jc := &javaConsumers{run: run}
	for pi, place := range opts.Places {
		ms := run.membersOf(pi)
		if len(ms) == 0 {
			jc.procs = append(jc.procs, nil)
			continue
		}
		mp, err := startMembers(ctx, argv, conn, opts, place, ms[0], len(ms), run)
		if err != nil {
			jc.close(0)
			return nil, info, err
		}
		jc.procs = append(jc.procs, mp)
	}
	// Every JVM read the same settings: the first one says what the
	// library made of them (its answers before READY are all read).
	for _, mp := range jc.procs {
		if mp == nil {
			continue
		}
		mp.mu.Lock()
		info.Version, info.Rejected = mp.version, mp.rejectedList
		for _, s := range opts.Client.Settings {
			if !mp.rejected[s.Key] {
				info.Applied = append(info.Applied, s.Key+"="+s.Value)
			}
		}
		mp.mu.Unlock()
		break
	}
	return jc, info, nil
}

// startMembers starts one JVM with n members numbered from first.
func startMembers(ctx context.Context, argv []string, conn []ClientSetting, opts ConsumerOptions, place ConsumerPlace, first, n int, run *ConsumerRun) (*memberProcess, error) {
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
	mp := &memberProcess{cmd: cmd, stdin: pw, run: run, stderr: &tailBuffer{max: 40}, rejected: map[string]bool{},
		ready: make(chan struct{}), closedLine: make(chan struct{}), exited: make(chan struct{})}
	cmd.Stderr = mp.stderr
	start := cmd.Start
	if place.Start != nil {
		start = func() error { return place.Start(cmd) }
	}
	err = start()
	pr.Close()
	if err != nil {
		pw.Close()
		return nil, fmt.Errorf("start %s: %w", argv[0], err)
	}
	go mp.read(stdout)
	go func() {
		_ = cmd.Wait()
		mp.end(fmt.Errorf("the consumer process exited (%s)", cmd.ProcessState))
		close(mp.exited)
	}()
	var lines []string
	for _, s := range append(conn, opts.Client.Settings...) {
		lines = append(lines, ledgerwire.Config(s.Key, s.Value))
	}
	lines = append(lines, ledgerwire.Group(n, opts.Topic, opts.Group, first))
	if _, err := pw.WriteString(strings.Join(lines, "")); err != nil {
		mp.kill()
		return nil, fmt.Errorf("write to the consumer process: %w%s", err, mp.lastWords())
	}
	t := time.NewTimer(processTimeout)
	defer t.Stop()
	select {
	case <-mp.ready:
	case <-t.C:
		mp.kill()
		return nil, fmt.Errorf("the consumer process did not create its members within %v%s", processTimeout, mp.lastWords())
	case <-ctx.Done():
		mp.kill()
		return nil, ctx.Err()
	}
	mp.mu.Lock()
	err = mp.err
	mp.mu.Unlock()
	if err != nil {
		mp.kill()
		return nil, fmt.Errorf("%w%s", err, mp.lastWords())
	}
	return mp, nil
}

// read handles the process's answers until its output ends.
func (mp *memberProcess) read(stdout io.Reader) {
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	log := mp.run.opts.Log
	for sc.Scan() {
		a, err := ledgerwire.ParseAnswer(sc.Text())
		if err != nil {
			if log != nil {
				log.Warn("consumers: workload process", "error", err)
			}
			continue
		}
		switch a.Kind {
		case ledgerwire.Delivered:
			mp.run.deliver(a.Member, a.Partition, a.Offset, a.At, a.Header)
		case ledgerwire.Committed:
			mp.run.commit(a.Member, a.Partition, a.Offset, a.At)
		case ledgerwire.GroupChange:
			mp.run.event(a.Member, GroupEventKind(a.Text), a.Generation, a.Partitions, a.At)
		case ledgerwire.MemberError:
			mp.run.fail(a.Member, a.Text)
		case ledgerwire.Version:
			mp.mu.Lock()
			mp.version = a.Text
			mp.mu.Unlock()
		case ledgerwire.Rejected:
			mp.mu.Lock()
			if !mp.rejected[a.Library] {
				mp.rejected[a.Library] = true
				mp.rejectedList = append(mp.rejectedList, a.Library+": "+a.Text)
			}
			mp.mu.Unlock()
		case ledgerwire.Ready:
			mp.once[0].Do(func() { close(mp.ready) })
		case ledgerwire.Closed:
			mp.once[1].Do(func() { close(mp.closedLine) })
		case ledgerwire.Fatal:
			mp.end(errors.New(a.Text))
		}
	}
	mp.end(errors.New("the consumer process closed its output"))
}

// end records the first reason the process cannot go on.
func (mp *memberProcess) end(err error) {
	mp.mu.Lock()
	if mp.err == nil && !mp.killed {
		mp.err = err
	}
	mp.mu.Unlock()
	mp.once[0].Do(func() { close(mp.ready) })
	mp.once[1].Do(func() { close(mp.closedLine) })
}

func (mp *memberProcess) kill() {
	mp.mu.Lock()
	mp.killed = true
	mp.mu.Unlock()
	if mp.cmd.Process != nil {
		_ = mp.cmd.Process.Kill()
	}
	mp.stdin.Close()
}

func (mp *memberProcess) lastWords() string {
	select {
	case <-mp.exited:
	case <-time.After(2 * time.Second):
	}
	return mp.stderr.says()
}

func (jc *javaConsumers) kill(place int) {
	if place < len(jc.procs) && jc.procs[place] != nil {
		jc.procs[place].kill()
	}
}

func (jc *javaConsumers) close(wait time.Duration) {
	var wg sync.WaitGroup
	for _, mp := range jc.procs {
		if mp == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			mp.mu.Lock()
			killed, failed := mp.killed, mp.err
			mp.mu.Unlock()
			if !killed {
				_ = mp.stdin.SetWriteDeadline(time.Now().Add(2 * time.Second))
				if _, err := mp.stdin.WriteString(ledgerwire.Close(wait)); err == nil {
					select {
					case <-mp.closedLine:
					case <-time.After(wait + 15*time.Second):
					}
				}
			}
			mp.stdin.Close()
			select {
			case <-mp.exited:
			case <-time.After(5 * time.Second):
				mp.kill()
			}
			if failed != nil {
				mp.run.fail(-1, "consumer process: "+failed.Error()+mp.stderr.says())
			}
		}()
	}
	wg.Wait()
}
