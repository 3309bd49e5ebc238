package chaos

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchctl/stretchctl/drill"
	"github.com/stretchctl/stretchctl/probe"
)

// readDrill is a synthetic drill of 20 s: one record per partition every
// 10 ms (offset = sequence), acknowledged 2 ms after it was sent and read
// 3 ms after that. Member 0 reads partition 0 and commits every second;
// it is killed at 7 s (the injection), and member 1 is assigned partition
// 0 at 12 s in generation 2 and reads again from the committed offset.
// Member 1 reads partition 1 throughout; when skip is set, it jumps over
// offsets 500–599 of it at 10 s (as after an offset reset).
func readDrill(skip bool) (*probe.Ledger, *probe.ConsumerLedger, map[probe.RecordKey][]int64) {
	start := time.Unix(1_800_000_000, 0)
	l := &probe.Ledger{Start: start, Parts: []int32{0, 1}}
	cl := &probe.ConsumerLedger{Start: start, Ready: start, ReadyGeneration: 1, Stop: start.Add(25 * time.Second),
		StartOffsets: map[int32]int64{0: 0, 1: 0}}
	found := map[probe.RecordKey][]int64{}
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	const kill, reassign = 7000, 12000
	var lastCommit int64
	for p := int32(0); p < 2; p++ {
		for i := 0; i < 2000; i++ {
			sent := ms(10 * i)
			off := int64(i)
			l.Records = append(l.Records, probe.LedgerRecord{Partition: p, Seq: off, Sent: sent, Done: sent + ms(2), Offset: off, State: probe.Acked})
			found[probe.RecordKey{Partition: p, Seq: off}] = []int64{off}
			at := sent + ms(5)
			d := probe.Delivery{Member: 1, Partition: p, Offset: off, At: at, Key: probe.RecordKey{Partition: p, Seq: off}, Ledger: true, Sent: sent}
			switch {
			case p == 1 && skip && off >= 500 && off < 600:
				continue
			case p == 1:
				if i%100 == 0 {
					cl.Commits = append(cl.Commits, probe.Commit{Member: 1, Partition: 1, Offset: off, At: at + ms(1)})
				}
			case at < ms(kill):
				d.Member = 0
				if i%100 == 0 {
					lastCommit = off
					cl.Commits = append(cl.Commits, probe.Commit{Member: 0, Partition: 0, Offset: off, At: at + ms(1)})
				}
			case off < 1300:
				continue // nobody reads partition 0, then member 1 reads it again
			}
			cl.Deliveries = append(cl.Deliveries, d)
		}
	}
	// Member 1 reads partition 0 again from the committed offset.
	var again []probe.Delivery
	for off := lastCommit; off < 1300; off++ {
		again = append(again, probe.Delivery{Member: 1, Partition: 0, Offset: off, At: ms(reassign) + ms(int(off-lastCommit)/10), Ledger: true, Sent: ms(10 * int(off))})
	}
	cl.Deliveries = append(cl.Deliveries, again...)
	// Member 1 commits partition 1 when it is revoked (eager rebalance).
	cl.Commits = append(cl.Commits, probe.Commit{Member: 1, Partition: 1, Offset: 1200, At: ms(11999)})
	cl.Events = []probe.GroupEvent{
		{Member: 0, Kind: probe.Assigned, Generation: 1, Partitions: []int32{0}},
		{Member: 1, Kind: probe.Assigned, Generation: 1, Partitions: []int32{1}},
		{Member: 0, Kind: probe.Killed, Generation: -1, At: ms(kill)},
		{Member: 1, Kind: probe.Revoked, Generation: 1, Partitions: []int32{1}, At: ms(11999)},
		{Member: 1, Kind: probe.Assigned, Generation: 2, Partitions: []int32{0, 1}, At: ms(reassign)},
	}
	return l, cl, found
}

func TestObserveReads(t *testing.T) {
	l, cl, found := readDrill(false)
	inj, heal := l.Start.Add(7*time.Second), l.Start.Add(15*time.Second)
	obs, perSecond := ObserveReads(l, cl, found, inj, heal)
	if obs.RTOSeconds == nil {
		t.Fatalf("read RTO unbounded: %+v", obs)
	}
	// Partition 0: offset 700, readable at 7.002 s after member 0 read
	// 699 at 6.995 s, is read at 12.010 s.
	if got := *obs.RTOSeconds; got < 5.0079 || got > 5.0081 {
		t.Errorf("read RTO %.4fs, want the 5.008s partition 0 waited", got)
	}
	// Member 0 read up to offset 699 (its last delivery before 7 s) and
	// committed 600: 100 records were read again.
	if obs.Redelivered != 100 || obs.RedeliveredFromCommits != 100 {
		t.Errorf("redelivered %d, from commits %d; want 100 and 100", obs.Redelivered, obs.RedeliveredFromCommits)
	}
	if obs.Skipped != 0 || len(obs.Resets) != 0 {
		t.Errorf("skipped %d, resets %v; want none", obs.Skipped, obs.Resets)
	}
	if len(obs.Rebalances) != 1 || obs.Rebalances[0].Generation != 2 || obs.Rebalances[0].StableSeconds != 5 || obs.Rebalances[0].StartedSeconds != 4.999 {
		t.Errorf("rebalances %+v, want generation 2 from 4.999s to 5s after the injection", obs.Rebalances)
	}
	if obs.MembersKilled != 1 {
		t.Errorf("members killed %d, want 1", obs.MembersKilled)
	}
	if obs.P99EndToEndMs < 5 || obs.MaxEndToEndMs < 5000 {
		t.Errorf("end-to-end p99 %.1f ms, max %.1f ms: want ≥5 ms and the partition 0 wait", obs.P99EndToEndMs, obs.MaxEndToEndMs)
	}
	if perSecond[3] != 200 || perSecond[9] != 100 {
		t.Errorf("first reads per second: %v", perSecond)
	}

	// A jump over 100 acknowledged records is a skip, named.
	l, cl, found = readDrill(true)
	// Member 1 loses partition 1 (fenced), gets it back and starts past
	// its committed offset.
	cl.Events = append(cl.Events[:2:2], probe.GroupEvent{Member: 1, Kind: probe.Lost, Generation: 1, Partitions: []int32{1}, At: 4999 * time.Millisecond},
		probe.GroupEvent{Member: 1, Kind: probe.Assigned, Generation: 3, Partitions: []int32{1}, At: 5000 * time.Millisecond})
	obs, _ = ObserveReads(l, cl, found, inj, heal)
	if obs.Skipped != 100 || len(obs.SkippedList) != 100 || obs.SkippedList[0].Offset != 500 {
		t.Errorf("skipped %d (%d listed), want offsets 500–599", obs.Skipped, len(obs.SkippedList))
	}
	if len(obs.Resets) != 1 {
		t.Errorf("resets %q, want the jump to offset 600 named", obs.Resets)
	}

	// A cooperative rebalance: member 1 keeps partition 1 (no
	// revocation, no commit on revoke) and keeps its position: only the
	// handover of partition 0 reads records again.
	l, cl, found = readDrill(false)
	cl.Events = slices.DeleteFunc(cl.Events, func(e probe.GroupEvent) bool { return e.Kind == probe.Revoked })
	cl.Commits = cl.Commits[:len(cl.Commits)-1]
	obs, _ = ObserveReads(l, cl, found, inj, heal)
	if obs.Redelivered != 100 || obs.RedeliveredFromCommits != 100 {
		t.Errorf("cooperative: redelivered %d, from commits %d; want 100 and 100", obs.Redelivered, obs.RedeliveredFromCommits)
	}

	// A rebalance in several rounds hands partition 0 to a member that
	// loses it again before its first fetch: it read nothing again, and
	// the count from the commits must not say it did (CI: 1,768 counted
	// against 887 handed over).
	l, cl, found = readDrill(false)
	final := cl.Events[len(cl.Events)-1]
	cl.Events = append(cl.Events[:len(cl.Events)-1],
		probe.GroupEvent{Member: 2, Kind: probe.Assigned, Generation: 2, Partitions: []int32{0}, At: final.At - 2*time.Millisecond},
		probe.GroupEvent{Member: 2, Kind: probe.Revoked, Generation: 2, Partitions: []int32{0}, At: final.At - time.Millisecond},
		final)
	obs, _ = ObserveReads(l, cl, found, inj, heal)
	if obs.Redelivered != 100 || obs.RedeliveredFromCommits != 100 {
		t.Errorf("a handover without a fetch: redelivered %d, from commits %d; want 100 and 100", obs.Redelivered, obs.RedeliveredFromCommits)
	}

	// Reading that resumes only after the heal is unbounded.
	l, cl, found = readDrill(false)
	obs, _ = ObserveReads(l, cl, found, inj, l.Start.Add(10*time.Second))
	if obs.RTOSeconds != nil {
		t.Errorf("read RTO %.3fs, want unbounded: partition 0 was read again only after the heal", *obs.RTOSeconds)
	}
}

// Reads that resume only after the heal say the read RTO is at least the
// hold: they agree with a prediction beyond it, as writes do (the full
// campaign with Java's 45 s sessions and 45 s holds), and disagree with
// one well within it.
func TestCompareReadsCensored(t *testing.T) {
	for _, tt := range []struct {
		predicted float64
		agree     bool
	}{{48, true}, {61, true}, {11, false}} {
		res := &drill.Result{Fault: drill.Fault{Kind: drill.Crash, DC: "dc-a", Duration: 45 * time.Second},
			Workload:  drill.Workload{Consumers: &drill.ConsumerWorkload{}},
			Predicted: &drill.Prediction{RTOSeconds: new(9.1), Read: &drill.ReadPrediction{RTOSeconds: new(tt.predicted), Rebalance: true}},
			Observed:  drill.Observed{RTOSeconds: new(10.9), Read: &drill.ReadObserved{Rebalances: []drill.Rebalance{{Generation: 2}}}}}
		c := compare(res, nil)
		i := slices.IndexFunc(c.Points, func(p drill.Point) bool { return p.What == "reads" })
		if i < 0 || c.Points[i].Agree != tt.agree {
			t.Errorf("predicted %gs, reads resumed after the 45s hold: points %+v, want agree %v", tt.predicted, c.Points, tt.agree)
		}
	}
}
