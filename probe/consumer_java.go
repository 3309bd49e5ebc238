package probe

import (
	"cmp"
	"context"
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
	procs []*worker // per place; nil for a place without members
}

// openJavaConsumers starts one JVM of members per place.
func openJavaConsumers(ctx context.Context, cluster config.Cluster, opts ConsumerOptions, run *ConsumerRun) (members, LibraryInfo, error) {
	version := cmp.Or(opts.Client.Version, DefaultJavaClientVersion)
	argv, err := javaWorkload(ctx, version, "LedgerConsumer", opts.Progress)
	if err != nil {
		return nil, LibraryInfo{}, err
	}
	conn, err := javaConnection(cluster)
	if err != nil {
		return nil, LibraryInfo{}, err
	}
	jc := &javaConsumers{run: run}
	handle := func(a ledgerwire.Answer) {
		switch a.Kind {
		case ledgerwire.Delivered:
			run.deliver(a.Member, a.Partition, a.Offset, a.At, a.Header)
		case ledgerwire.Committed:
			run.commit(a.Member, a.Partition, a.Offset, a.At)
		case ledgerwire.GroupChange:
			run.event(a.Member, GroupEventKind(a.Text), a.Generation, a.Partitions, a.At)
		case ledgerwire.MemberError:
			run.fail(a.Member, a.Text)
		}
	}
	var info LibraryInfo
	for pi, place := range opts.Places {
		ms := run.membersOf(pi)
		if len(ms) == 0 {
			jc.procs = append(jc.procs, nil)
			continue
		}
		lines := append(configLines(conn, opts.Client.Settings), ledgerwire.Group(len(ms), opts.Topic, opts.Group, ms[0]))
		w, err := startWorker(ctx, "consumer", argv, place.Start, lines, handle, opts.Log)
		if err != nil {
			jc.close(0)
			return nil, info, err
		}
		if info.Version == "" {
			// Every JVM read the same settings: the first says what the
			// library made of them.
			info = w.info(opts.Client.Settings)
		}
		jc.procs = append(jc.procs, w)
	}
	return jc, info, nil
}

func (jc *javaConsumers) kill(place int) {
	if place < len(jc.procs) && jc.procs[place] != nil {
		jc.procs[place].kill()
	}
}

func (jc *javaConsumers) close(wait time.Duration) {
	var wg sync.WaitGroup
	for _, w := range jc.procs {
		if w == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := w.close(wait); err != nil {
				jc.run.fail(-1, "consumer process: "+err.Error())
			}
		}()
	}
	wg.Wait()
}
