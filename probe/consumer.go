package probe

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"os/exec"
	"slices"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/stretchctl/stretchctl/config"
)

// The read side of a drill: a consumer group on the team's client library
// (Java kafka-clients or franz-go) reads the drill topic while the fault
// is on. Every record a member is handed, every commit the library makes
// and every assignment, revocation and loss of partitions is recorded
// with its time, so that the drill can tell how long reading stopped,
// how often the group rebalanced, what was read twice and what was never
// read. Like the producers, the members get the consumer file's settings
// by the library's own names and keep the library's defaults for the rest;
// the group is the drill's own (never the team's group.id).

// ConsumerPlace is where some of the group's members run.
type ConsumerPlace struct {
	// DC is the DC the members run in ("" here), for the report and for
	// Kill.
	DC      string
	Members int
	// Dial places the in-process library's connections in the DC; Start
	// starts a process there (nil: here).
	Dial  func(ctx context.Context, network, addr string) (net.Conn, error)
	Start func(*exec.Cmd) error
}

// ConsumerOptions chooses what the ledger's consumer group does.
type ConsumerOptions struct {
	// Log receives debug records (nil: discarded).
	Log   *slog.Logger
	Topic string
	// Group is the drill's group id; it must not be a group in use.
	Group  string
	Places []ConsumerPlace
	// Client is the library (java or franz-go), its version and the
	// consumer settings of the file.
	Client ClientSpec
	// Progress reports first-use work (fetching the Java client).
	Progress func(format string, args ...any)
	// AssignWait bounds the wait for every partition to be assigned
	// (0: a minute).
	AssignWait time.Duration
}

// ConsumerLibraries are the libraries the ledger's consumers run on.
var ConsumerLibraries = []config.Library{config.LibraryJava, config.LibraryFranzGo}

// Delivery is one record handed to a member by its library.
type Delivery struct {
	Member    int
	Partition int32
	Offset    int64
	// At is the time since ConsumerLedger.Start.
	At time.Duration
	// Key identifies a ledger record of the drill's run (Ledger false:
	// a record of another writer or run).
	Key    RecordKey
	Ledger bool
	// Sent is when the producer sent it (a ledger record), as a time
	// since ConsumerLedger.Start (negative: before the group started).
	Sent time.Duration
}

// Commit is one offset commit the library made and the broker accepted:
// the next offset the group reads of a partition.
type Commit struct {
	Member    int
	Partition int32
	Offset    int64
	At        time.Duration
}

// GroupEventKind is what happened to a member's assignment.
type GroupEventKind string

// The group events, as the library's rebalance callbacks report them.
const (
	Assigned GroupEventKind = "assigned" // partitions given (onPartitionsAssigned)
	Revoked  GroupEventKind = "revoked"  // partitions given back in a rebalance (onPartitionsRevoked)
	Lost     GroupEventKind = "lost"     // partitions lost without a rebalance: the member was fenced or its session expired (onPartitionsLost)
	Killed   GroupEventKind = "killed"   // the member died with its DC (the drill's fault)
)

// GroupEvent is one change of a member's assignment.
type GroupEvent struct {
	Member     int
	Kind       GroupEventKind
	Generation int32
	Partitions []int32
	At         time.Duration
}

// ConsumerLedger is what the group read, committed and went through.
type ConsumerLedger struct {
	Topic, Group string
	// RunID is the producers' run: only its records are ledger records.
	RunID       uint64
	Start, Stop time.Time
	// Ready is when every partition was assigned and the group had been
	// quiet for a while (the producers start then), ReadyGeneration its
	// generation then; Closing when the drill began closing the members
	// (their leaving rebalances the group: not the fault's doing).
	Ready           time.Time
	ReadyGeneration int32
	Closing         time.Time
	// StartOffsets were committed for the group before any member
	// joined (the producers' start: nothing before it is the drill's).
	StartOffsets map[int32]int64
	Deliveries   []Delivery
	Commits      []Commit
	Events       []GroupEvent
	// Errors counts the members' errors by message.
	Errors map[string]int64
}

// AfterClosing says whether a time of the ledger (since Start) is after
// the members began closing.
func (l *ConsumerLedger) AfterClosing(at time.Duration) bool {
	return !l.Closing.IsZero() && l.Start.Add(at).After(l.Closing)
}

// members are one library's group members as the ConsumerRun drives them.
type members interface {
	// kill makes the members of place die at once, as with their DC:
	// no leave, no commit, connections dropped.
	kill(place int)
	// close closes the members still alive (committing and leaving as
	// the library does on close), within wait plus a few seconds.
	close(wait time.Duration)
}

// ConsumerRun is a running consumer group.
type ConsumerRun struct {
	l      *ConsumerLedger
	info   LibraryInfo
	opts   ConsumerOptions
	places []int // member → place
	m      members
	parts  []int32

	mu sync.Mutex
	// assigned is each member's current assignment.
	assigned map[int][]int32
	// dead members and when they died: what they did before still counts
	// (a process's lines are read after it died).
	dead      map[int]time.Time
	gen       int32
	lastEvent time.Time
	closed    bool
}

// StartConsumers commits the topic's current end offsets for the group
// (which must have no members), starts the members on the chosen library
// and returns once every partition of the topic is assigned. It fails when
// the topic is missing, the commit is refused, the library cannot start or
// the assignment does not come within AssignWait.
func StartConsumers(ctx context.Context, cluster config.Cluster, runID uint64, opts ConsumerOptions) (*ConsumerRun, error) {
	if opts.Topic == "" || opts.Group == "" {
		return nil, errors.New("consumers: no topic or group")
	}
	if opts.Client.Library == "" {
		opts.Client.Library = config.LibraryJava
	}
	if !slices.Contains(ConsumerLibraries, opts.Client.Library) {
		return nil, fmt.Errorf("the ledger's consumers run on java or franz-go, not %q", opts.Client.Library)
	}
	r := &ConsumerRun{opts: opts, assigned: map[int][]int32{}, dead: map[int]time.Time{},
		l: &ConsumerLedger{Topic: opts.Topic, Group: opts.Group, RunID: runID, Errors: map[string]int64{}}}
	for pi, p := range opts.Places {
		for range max(p.Members, 0) {
			r.places = append(r.places, pi)
		}
	}
	if len(r.places) == 0 {
		return nil, errors.New("consumers: no members")
	}
	parts, offs, err := commitStart(ctx, cluster, Options{Log: opts.Log}, opts.Topic, opts.Group)
	if err != nil {
		return nil, err
	}
	r.parts, r.l.StartOffsets = parts, offs
	r.l.Start = time.Now()
	switch opts.Client.Library {
	case config.LibraryFranzGo:
		r.m, r.info, err = openFranzConsumers(cluster, opts, r)
	case config.LibraryJava:
		r.m, r.info, err = openJavaConsumers(ctx, cluster, opts, r)
	}
	if err != nil {
		return nil, fmt.Errorf("consumers on %s: %w", opts.Client.Library, err)
	}
	r.info.Library, r.info.Requested = opts.Client.Library, opts.Client.Version
	// Ready: every partition assigned and no assignment change for a
	// while (members joining one after another rebalance the group several
	// times before it settles).
	const quiet = 2 * time.Second
	wait := cmpOr(opts.AssignWait, time.Minute)
	deadline := time.Now().Add(wait)
	for {
		assigned, last := r.assignment()
		if assigned == len(parts) && time.Since(last) >= quiet {
			break
		}
		if !sleepUntil(ctx, time.Now().Add(50*time.Millisecond)) || time.Now().After(deadline) {
			r.m.close(0)
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, fmt.Errorf("consumers: %d of %d partitions of %s assigned after %v (errors: %v)", assigned, len(parts), opts.Topic, wait, r.errors())
		}
	}
	r.mu.Lock()
	r.l.Ready, r.l.ReadyGeneration = time.Now(), r.gen
	r.mu.Unlock()
	return r, nil
}

// admin is a kadm client on stretch.yaml's connection; close the
// returned kgo client when done.
func admin(cluster config.Cluster, opts Options) (*kadm.Client, *kgo.Client, error) {
	base, err := FranzConnection(cluster, opts)
	if err != nil {
		return nil, nil, err
	}
	cl, err := kgo.NewClient(base...)
	if err != nil {
		return nil, nil, err
	}
	return kadm.NewClient(cl), cl, nil
}

// commitStart reads the topic's end offsets and commits them for the
// group, so that the members start there whatever auto.offset.reset
// says (an OffsetCommit with generation -1 and no member id, accepted for
// a group without members: what kafka-consumer-groups --reset-offsets
// does).
func commitStart(ctx context.Context, cluster config.Cluster, opts Options, topic, group string) ([]int32, map[int32]int64, error) {
	adm, cl, err := admin(cluster, opts)
	if err != nil {
		return nil, nil, err
	}
	defer cl.Close()
	ends, err := endOffsets(ctx, adm, topic)
	if err != nil {
		return nil, nil, err
	}
	offs := kadm.Offsets{}
	parts := make([]int32, 0, len(ends))
	for p, off := range ends {
		parts = append(parts, p)
		offs.Add(kadm.Offset{Topic: topic, Partition: p, At: off, LeaderEpoch: -1})
	}
	slices.Sort(parts)
	resp, err := adm.CommitOffsets(ctx, group, offs)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		return nil, nil, fmt.Errorf("commit the start offsets of %s for group %s: %w", topic, group, err)
	}
	return parts, ends, nil
}

// endOffsets are the topic's partitions' end offsets.
func endOffsets(ctx context.Context, adm *kadm.Client, topic string) (map[int32]int64, error) {
	listed, err := adm.ListEndOffsets(ctx, topic)
	if err == nil {
		err = listed.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("end offsets of %s: %w", topic, err)
	}
	out := map[int32]int64{}
	listed.Each(func(o kadm.ListedOffset) { out[o.Partition] = o.Offset })
	if len(out) == 0 {
		return nil, fmt.Errorf("topic %s: no partitions", topic)
	}
	return out, nil
}

// FindCoordinator looks up the coordinator of a group (or, with txn, of
// a transactional id), as every consumer (transactional producer) does
// first; on a cluster that never had one, this creates the offsets topic
// (the transaction state topic): the broker creates it on the first
// lookup. It retries until ctx ends.
func FindCoordinator(ctx context.Context, cluster config.Cluster, opts Options, key string, txn bool) error {
	adm, cl, err := admin(cluster, opts)
	if err != nil {
		return err
	}
	defer cl.Close()
	for {
		resp := adm.FindGroupCoordinators(ctx, key)
		if txn {
			resp = adm.FindTxnCoordinators(ctx, key)
		}
		err := resp.Error()
		if err == nil {
			return nil
		}
		if !sleepUntil(ctx, time.Now().Add(500*time.Millisecond)) {
			return fmt.Errorf("the coordinator of %s: %w", key, err)
		}
	}
}

// Ledger is the group's ledger so far (complete after Stop).
func (r *ConsumerRun) Ledger() *ConsumerLedger { return r.l }

// Info says which library and version the members run on.
func (r *ConsumerRun) Info() LibraryInfo { return r.info }

// assignment is how many of the topic's partitions live members hold,
// and when the last assignment change was.
func (r *ConsumerRun) assignment() (int, time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	seen := map[int32]bool{}
	for m, ps := range r.assigned {
		if _, dead := r.dead[m]; dead {
			continue
		}
		for _, p := range ps {
			seen[p] = true
		}
	}
	return len(seen), r.lastEvent
}

// Kill makes the members in dc die at once, as applications die with
// their DC (no leave, no last commit); it returns how many died.
func (r *ConsumerRun) Kill(dc string) int {
	n := 0
	for pi, p := range r.opts.Places {
		if p.DC != dc || p.Members == 0 {
			continue
		}
		r.m.kill(pi)
		r.mu.Lock()
		now := time.Now()
		for m, mp := range r.places {
			if _, dead := r.dead[m]; mp == pi && !dead {
				r.dead[m] = now
				n++
				r.l.Events = append(r.l.Events, GroupEvent{Member: m, Kind: Killed, Generation: -1, At: now.Sub(r.l.Start)})
			}
		}
		r.mu.Unlock()
	}
	return n
}

// CaughtUp waits until the group has read every partition up to
// targets (the offset after the last record it must read: the newest
// acknowledged one, since the last offsets of a transactional topic are
// markers no consumer is handed); it fails when ctx ends first, saying
// how far the group got.
func (r *ConsumerRun) CaughtUp(ctx context.Context, targets map[int32]int64) error {
	for {
		behind := r.behind(targets)
		if len(behind) == 0 {
			return nil
		}
		if !sleepUntil(ctx, time.Now().Add(100*time.Millisecond)) {
			return fmt.Errorf("the group had not read %s: %w", behind, ctx.Err())
		}
	}
}

// behind lists the partitions not read up to ends, with how far they are.
func (r *ConsumerRun) behind(ends map[int32]int64) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	next := map[int32]int64{}
	for _, d := range r.l.Deliveries {
		next[d.Partition] = max(next[d.Partition], d.Offset+1)
	}
	var out []string
	for _, p := range r.parts {
		if n := max(next[p], r.l.StartOffsets[p]); n < ends[p] {
			out = append(out, fmt.Sprintf("%d (at %d of %d)", p, n, ends[p]))
		}
	}
	if len(out) == 0 {
		return ""
	}
	return fmt.Sprint(out)
}

// Stop closes the members still alive (they commit and leave as their
// library does on close, within wait plus a few seconds) and returns the
// ledger.
func (r *ConsumerRun) Stop(wait time.Duration) *ConsumerLedger {
	r.mu.Lock()
	r.l.Closing = time.Now()
	r.mu.Unlock()
	r.m.close(wait)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	r.l.Stop = time.Now()
	return r.l
}

// deliver records that member was handed the record at offset whose
// value starts with header.
func (r *ConsumerRun) deliver(member int, partition int32, offset int64, at time.Time, header []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.gone(member, at) {
		return
	}
	d := Delivery{Member: member, Partition: partition, Offset: offset, At: at.Sub(r.l.Start)}
	if k, ok := decodeRecord(header, r.l.RunID); ok {
		d.Key, d.Ledger = k, true
		d.Sent = time.Unix(0, sentNanos(header)).Sub(r.l.Start)
	}
	r.l.Deliveries = append(r.l.Deliveries, d)
}

// commit records a commit the broker accepted.
func (r *ConsumerRun) commit(member int, partition int32, offset int64, at time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.gone(member, at) {
		return
	}
	r.l.Commits = append(r.l.Commits, Commit{Member: member, Partition: partition, Offset: offset, At: at.Sub(r.l.Start)})
}

// event records a change of a member's assignment. Generations are the
// group's; a member's own view lags during a rebalance.
func (r *ConsumerRun) event(member int, kind GroupEventKind, gen int32, parts []int32, at time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.gone(member, at) {
		return
	}
	r.lastEvent = at
	parts = slices.Clone(parts)
	slices.Sort(parts)
	r.l.Events = append(r.l.Events, GroupEvent{Member: member, Kind: kind, Generation: gen, Partitions: parts, At: at.Sub(r.l.Start)})
	cur := r.assigned[member]
	switch kind {
	case Assigned:
		for _, p := range parts {
			if !slices.Contains(cur, p) {
				cur = append(cur, p)
			}
		}
		r.gen = max(r.gen, gen)
	case Revoked, Lost:
		cur = slices.DeleteFunc(cur, func(p int32) bool { return slices.Contains(parts, p) })
	}
	r.assigned[member] = cur
}

// gone says whether what member did at a time comes too late: after
// the ledger closed, or after the member died.
func (r *ConsumerRun) gone(member int, at time.Time) bool {
	died, dead := r.dead[member]
	return r.closed || dead && !at.Before(died)
}

// fail counts a member's error (member -1: the group's).
func (r *ConsumerRun) fail(member int, msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dead := r.dead[member]; dead {
		return // what a dead member's library says after its death
	}
	if len(msg) > 200 {
		msg = msg[:200]
	}
	if member >= 0 {
		msg = fmt.Sprintf("member %d: %s", member, msg)
	}
	r.l.Errors[msg]++
}

func (r *ConsumerRun) errors() map[string]int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return maps.Clone(r.l.Errors)
}

// membersOf are the members of place pi.
func (r *ConsumerRun) membersOf(pi int) []int {
	var out []int
	for m, p := range r.places {
		if p == pi {
			out = append(out, m)
		}
	}
	return out
}
