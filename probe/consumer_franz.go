package probe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/stretchctl/stretchctl/config"
)

// franzConsumers are the group's members on franz-go: one kgo.Client
// each, with franz-go's own defaults (cooperative-sticky balancing,
// auto-commit every 5 s, reset to the start) and the file's settings.
type franzConsumers struct {
	run     *ConsumerRun
	clients []*kgo.Client
	cancels []context.CancelFunc
	dials   []*killSwitch
	wg      sync.WaitGroup
}

// franzConsumerMapping turns one consumer setting (Java name) into kgo
// options, or says why it cannot. The equivalences are franz-go's own
// (each option's documentation names the Java setting it corresponds to).
func franzConsumerMapping(name, value string, member int, manual *bool) ([]kgo.Opt, string, error) {
	ms := func() (time.Duration, error) { return settingMillis(value) }
	one := func(o kgo.Opt, what string, err error) ([]kgo.Opt, string, error) {
		if err != nil {
			return nil, "", err
		}
		return []kgo.Opt{o}, what, nil
	}
	v := strings.ToLower(strings.TrimSpace(value))
	switch name {
	case "session.timeout.ms":
		d, err := ms()
		return one(kgo.SessionTimeout(d), "SessionTimeout", err)
	case "heartbeat.interval.ms":
		d, err := ms()
		return one(kgo.HeartbeatInterval(d), "HeartbeatInterval", err)
	case "max.poll.interval.ms":
		// The Java consumer sends max.poll.interval.ms as the JoinGroup's
		// rebalance timeout (ConsumerCoordinator: rebalanceTimeoutMs).
		d, err := ms()
		return one(kgo.RebalanceTimeout(d), "RebalanceTimeout", err)
	case "enable.auto.commit":
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, "", fmt.Errorf("want true or false, got %q", value)
		}
		if b {
			return nil, "auto-commit (franz-go's default)", nil
		}
		*manual = true
		return []kgo.Opt{kgo.DisableAutoCommit()}, "DisableAutoCommit() (the ledger commits after each poll)", nil
	case "auto.commit.interval.ms":
		d, err := ms()
		return one(kgo.AutoCommitInterval(d), "AutoCommitInterval", err)
	case "auto.offset.reset":
		switch v {
		case "earliest":
			return one(kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), "ConsumeResetOffset(AtStart())", nil)
		case "latest":
			return one(kgo.ConsumeResetOffset(kgo.NewOffset().AtEnd()), "ConsumeResetOffset(AtEnd())", nil)
		case "none":
			return one(kgo.ConsumeResetOffset(kgo.NoResetOffset()), "ConsumeResetOffset(NoResetOffset())", nil)
		}
		return nil, "", fmt.Errorf("want earliest, latest or none, got %q", value)
	case "partition.assignment.strategy":
		var bs []kgo.GroupBalancer
		for _, s := range strings.Split(value, ",") {
			s = strings.TrimSpace(s)
			switch s[strings.LastIndex(s, ".")+1:] {
			case "RangeAssignor", "range":
				bs = append(bs, kgo.RangeBalancer())
			case "RoundRobinAssignor", "roundrobin":
				bs = append(bs, kgo.RoundRobinBalancer())
			case "StickyAssignor", "sticky":
				bs = append(bs, kgo.StickyBalancer())
			case "CooperativeStickyAssignor", "cooperative-sticky":
				bs = append(bs, kgo.CooperativeStickyBalancer())
			default:
				return nil, "", fmt.Errorf("franz-go has no balancer for %q", s)
			}
		}
		return one(kgo.Balancers(bs...), "Balancers", nil)
	case "group.protocol":
		switch v {
		case "classic":
			return nil, "the classic protocol (franz-go's default)", nil
		case "consumer":
			return one(kgo.ServerSideBalancer(), "ServerSideBalancer() (KIP-848; with range or sticky balancing only)", nil)
		}
		return nil, "", fmt.Errorf("want classic or consumer, got %q", value)
	case "isolation.level":
		switch v {
		case "read_committed":
			return one(kgo.FetchIsolationLevel(kgo.ReadCommitted()), "FetchIsolationLevel(ReadCommitted())", nil)
		case "read_uncommitted":
			return one(kgo.FetchIsolationLevel(kgo.ReadUncommitted()), "FetchIsolationLevel(ReadUncommitted())", nil)
		}
		return nil, "", fmt.Errorf("want read_committed or read_uncommitted, got %q", value)
	case "fetch.max.wait.ms":
		d, err := ms()
		return one(kgo.FetchMaxWait(d), "FetchMaxWait", err)
	case "fetch.min.bytes", "fetch.max.bytes", "max.partition.fetch.bytes":
		n, err := settingCount(value)
		if err != nil {
			return nil, "", err
		}
		n32 := int32(min(n, 1<<30))
		switch name {
		case "fetch.min.bytes":
			return one(kgo.FetchMinBytes(n32), "FetchMinBytes", nil)
		case "fetch.max.bytes":
			return one(kgo.FetchMaxBytes(n32), "FetchMaxBytes", nil)
		}
		return one(kgo.FetchMaxPartitionBytes(n32), "FetchMaxPartitionBytes", nil)
	case "group.instance.id":
		// One static member id per member, as each instance of an
		// application has its own.
		return one(kgo.InstanceID(fmt.Sprintf("%s-%d", value, member)), "InstanceID (+ member number)", nil)
	case "client.id":
		return one(kgo.ClientID(value), "ClientID", nil)
	case "metadata.max.age.ms":
		d, err := ms()
		return one(kgo.MetadataMaxAge(d), "MetadataMaxAge", err)
	case "socket.connection.setup.timeout.ms":
		d, err := ms()
		return one(kgo.DialTimeout(d), "DialTimeout", err)
	}
	return nil, "", errors.New("franz-go has no equivalent option")
}

// openFranzConsumers starts the group's members on franz-go.
func openFranzConsumers(cluster config.Cluster, opts ConsumerOptions, run *ConsumerRun) (members, LibraryInfo, error) {
	info := LibraryInfo{Version: linkedVersion("github.com/twmb/franz-go")}
	fc := &franzConsumers{run: run}
	for m, pi := range run.places {
		place := opts.Places[pi]
		ks := &killSwitch{dial: place.Dial}
		base, err := FranzConnection(cluster, Options{Log: opts.Log, Dial: ks.DialContext})
		if err != nil {
			fc.close(0)
			return nil, info, err
		}
		member, manual := m, false
		base = append(base, kgo.ConsumerGroup(opts.Group), kgo.ConsumeTopics(opts.Topic),
			kgo.OnPartitionsAssigned(func(_ context.Context, cl *kgo.Client, a map[string][]int32) {
				_, gen := cl.GroupMetadata()
				run.event(member, Assigned, gen, a[opts.Topic], time.Now())
			}),
			kgo.OnPartitionsRevoked(func(ctx context.Context, cl *kgo.Client, a map[string][]int32) {
				_, gen := cl.GroupMetadata()
				run.event(member, Revoked, gen, a[opts.Topic], time.Now())
				// With auto-commit, franz-go's default revoke callback is a
				// blocking commit of what was polled; an explicit callback
				// replaces it, so it is done here.
				if !manual {
					fc.commitSync(ctx, member, cl)
				}
			}),
			kgo.OnPartitionsLost(func(_ context.Context, cl *kgo.Client, a map[string][]int32) {
				_, gen := cl.GroupMetadata()
				run.event(member, Lost, gen, a[opts.Topic], time.Now())
			}),
			kgo.AutoCommitCallback(func(_ *kgo.Client, req *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
				fc.committed(member, req, resp, err)
			}),
		)
		for _, st := range opts.Client.Settings {
			o, what, err := franzConsumerMapping(st.Name, st.Value, m, &manual)
			if m == 0 {
				if err != nil {
					info.Rejected = append(info.Rejected, fmt.Sprintf("%s=%s: %v", st.Key, st.Value, err))
				} else {
					info.Applied = append(info.Applied, fmt.Sprintf("%s=%s → %s", st.Key, st.Value, what))
				}
			}
			base = append(base, o...)
		}
		c, err := kgo.NewClient(base...)
		if err != nil {
			fc.close(0)
			return nil, info, fmt.Errorf("franz-go refuses the consumer settings (an application would not start): %w", err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		fc.clients, fc.cancels, fc.dials = append(fc.clients, c), append(fc.cancels, cancel), append(fc.dials, ks)
		fc.wg.Add(1)
		go fc.poll(ctx, member, c, manual)
	}
	return fc, info, nil
}

// poll is one member's loop, as an application's: poll, handle every
// record, commit when the file turned auto-commit off.
func (fc *franzConsumers) poll(ctx context.Context, member int, c *kgo.Client, manual bool) {
	defer fc.wg.Done()
	for ctx.Err() == nil {
		fs := c.PollFetches(ctx)
		if fs.IsClientClosed() || ctx.Err() != nil {
			return
		}
		fs.EachError(func(_ string, _ int32, err error) {
			if !errors.Is(err, context.Canceled) {
				fc.run.fail(member, err.Error())
			}
		})
		now := time.Now()
		fs.EachRecord(func(r *kgo.Record) {
			fc.run.deliver(member, r.Partition, r.Offset, now, r.Value)
		})
		if manual && fs.NumRecords() > 0 {
			fc.commitSync(ctx, member, c)
		}
	}
}

// commitSync commits what member polled, as an application does
// (CommitOffsetsSync of UncommittedOffsets; CommitUncommittedOffsets would
// not report what it committed).
func (fc *franzConsumers) commitSync(ctx context.Context, member int, c *kgo.Client) {
	if offs := c.UncommittedOffsets(); len(offs) > 0 {
		c.CommitOffsetsSync(ctx, offs, func(_ *kgo.Client, req *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
			fc.committed(member, req, resp, err)
		})
	}
}

// committed records the partitions of a commit the broker accepted
// (every commit franz-go makes, automatic or not, ends in this callback).
func (fc *franzConsumers) committed(member int, req *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
	now := time.Now()
	if err != nil {
		if !errors.Is(err, context.Canceled) {
			fc.run.fail(member, "commit: "+err.Error())
		}
		return
	}
	sent := map[int32]int64{}
	for _, t := range req.Topics {
		for _, p := range t.Partitions {
			sent[p.Partition] = p.Offset
		}
	}
	for _, t := range resp.Topics {
		if t.Topic != fc.run.l.Topic {
			continue
		}
		for _, p := range t.Partitions {
			if e := kerr.ErrorForCode(p.ErrorCode); e != nil {
				fc.run.fail(member, "commit: "+e.Error())
				continue
			}
			fc.run.commit(member, p.Partition, sent[p.Partition], now)
		}
	}
}

func (fc *franzConsumers) kill(place int) {
	for _, m := range fc.run.membersOf(place) {
		if m < len(fc.dials) {
			fc.dials[m].kill()
			fc.cancels[m]()
		}
	}
}

func (fc *franzConsumers) close(wait time.Duration) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		var wg sync.WaitGroup
		for m, c := range fc.clients {
			fc.cancels[m]()
			if fc.dials[m].dead() {
				// A dead member cannot leave: closing it would only wait
				// for requests that cannot be sent.
				go c.Close()
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				// Commit what was polled, then leave the group (Close).
				ctx, cancel := context.WithTimeout(context.Background(), max(wait, time.Second))
				defer cancel()
				fc.commitSync(ctx, m, c)
				c.Close()
			}()
		}
		wg.Wait()
		fc.wg.Wait()
	}()
	select {
	case <-done:
	case <-time.After(max(wait, 0) + 5*time.Second):
	}
}

// killSwitch dials through dial (nil: net) until killed; then it refuses
// to dial and closes every connection it made: a member that died with
// its DC talks to no one again.
type killSwitch struct {
	dial  func(ctx context.Context, network, addr string) (net.Conn, error)
	mu    sync.Mutex
	conns []net.Conn
	gone  bool
}

func (k *killSwitch) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	if k.dead() {
		return nil, errors.New("the member died with its DC")
	}
	dial := k.dial
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	c, err := dial(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.gone {
		c.Close()
		return nil, errors.New("the member died with its DC")
	}
	k.conns = append(k.conns, c)
	return c, nil
}

func (k *killSwitch) kill() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.gone = true
	for _, c := range k.conns {
		_ = c.Close()
	}
	k.conns = nil
}

func (k *killSwitch) dead() bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.gone
}
