package chaos

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/stretchctl/stretchctl/drill"
	"github.com/stretchctl/stretchctl/probe"
)

// ObserveReads measures what the consumer group went through: the read
// RTO, the rebalances, the records read again and those never read. l is
// the producers' ledger (acknowledgement times and offsets), found the
// read-back (what is in the log), injected and healed the phase times
// (healed zero when the heal failed). It is pure: no clock, no I/O.
//
// Times are put on the producers' clock (both ledgers are written on
// this machine). Per partition:
//   - progress is the group handing a member a record newer than every
//     record of the partition it was handed before; a stall is the time
//     between two progresses during which an acknowledged record was
//     waiting (acknowledged, not yet read). The read RTO is the longest
//     stall ending after the injection; it is unbounded when a stall that
//     began after the injection lasted over the heal (reading resumed only
//     because of it). A record acknowledged is readable then: with acks=all
//     the high watermark has passed it.
//   - redelivered: every delivery of an offset handed over before. The
//     independent count: at each assignment of the partition, the records
//     read beyond the newest offset the group had committed then (the new
//     owner starts at the committed offset).
//   - skipped: an acknowledged record found in the log, before the
//     partition's final position, never handed to a member.
func ObserveReads(l *probe.Ledger, cl *probe.ConsumerLedger, found map[probe.RecordKey][]int64, injected, healed time.Time) (*drill.ReadObserved, map[int]int64) {
	shift := cl.Start.Sub(l.Start) // consumer time + shift = ledger time
	inj := injected.Sub(l.Start)
	heal := time.Duration(1<<63 - 1)
	if !healed.IsZero() {
		heal = healed.Sub(l.Start)
	}
	end := cl.Stop.Sub(l.Start)
	if cl.Stop.IsZero() {
		end = heal
	}
	obs := &drill.ReadObserved{Rebalances: []drill.Rebalance{}}

	// Acknowledged records per partition, by offset, with the time they
	// became readable.
	type ack struct {
		off int64
		at  time.Duration
		rec probe.LedgerRecord
	}
	acks := map[int32][]ack{}
	for _, r := range l.Records {
		if r.State == probe.Acked && r.Offset >= 0 {
			acks[r.Partition] = append(acks[r.Partition], ack{r.Offset, r.Done, r})
		}
	}
	// Deliveries per partition in time order (members' lines interleave).
	dels := map[int32][]probe.Delivery{}
	for _, d := range cl.Deliveries {
		d.At += shift
		dels[d.Partition] = append(dels[d.Partition], d)
	}
	commits := map[int32][]probe.Commit{}
	for _, c := range cl.Commits {
		c.At += shift
		commits[c.Partition] = append(commits[c.Partition], c)
	}
	perSecond := map[int]int64{}
	e2e := hdrhistogram.New(1, int64(10*time.Minute/time.Microsecond), 3)
	var steadyGaps []time.Duration
	var worst time.Duration
	unbounded := false
	for _, p := range l.Parts {
		po := drill.ReadPartitionObserved{Partition: p}
		as := acks[p]
		slices.SortFunc(as, func(a, b ack) int { return cmp.Compare(a.off, b.off) })
		// readable[i]: the earliest time any record from as[i] on was
		// readable.
		readable := make([]time.Duration, len(as))
		for i := len(as) - 1; i >= 0; i-- {
			readable[i] = as[i].at
			if i+1 < len(as) {
				readable[i] = min(readable[i], readable[i+1])
			}
		}
		waitingSince := func(read int64) (time.Duration, bool) {
			i := sort.Search(len(as), func(i int) bool { return as[i].off > read })
			if i == len(as) {
				return 0, false
			}
			return readable[i], true
		}
		ds := dels[p]
		slices.SortStableFunc(ds, func(a, b probe.Delivery) int { return cmp.Compare(a.At, b.At) })
		seen := map[int64]bool{}
		read := cl.StartOffsets[p] - 1
		last := time.Duration(0)
		var longest time.Duration
		resumed := true
		stall := func(upTo time.Duration) time.Duration {
			since, ok := waitingSince(read)
			if !ok || since >= upTo {
				return 0
			}
			return upTo - max(last, since)
		}
		for _, d := range ds {
			if seen[d.Offset] {
				obs.Redelivered++
				po.Redelivered++
				continue
			}
			seen[d.Offset] = true
			obs.Delivered++
			if d.Ledger {
				_ = e2e.RecordValue(max((d.At - shift - d.Sent).Microseconds(), 1))
				perSecond[int(max(d.At, 0)/time.Second)]++
			}
			if d.Offset <= read {
				continue // an older record read late: no progress
			}
			s := stall(d.At)
			switch {
			case d.At <= inj:
				if last >= warmup && d.At-last >= time.Millisecond {
					steadyGaps = append(steadyGaps, d.At-last)
				}
			case s > 0:
				longest = max(longest, s)
				if start := d.At - s; start >= inj && start < heal && d.At > heal && s >= time.Second {
					resumed = false
				}
			}
			read, last = d.Offset, d.At
		}
		// Still waiting when the group was stopped.
		if s := stall(end); s > 0 && end > inj {
			longest = max(longest, s)
			if end-s < heal {
				resumed = false
			}
		}
		if resumed {
			v := ms(longest)
			po.LongestStallMs = &v
			worst = max(worst, longest)
		} else {
			unbounded = true
		}
		// Skipped and unread, against what is in the log.
		for _, a := range as {
			if len(found[probe.RecordKey{Producer: a.rec.Producer, Partition: p, Seq: a.rec.Seq}]) == 0 || seen[a.off] {
				continue
			}
			if a.off < read {
				obs.Skipped++
				po.Skipped++
				if len(obs.SkippedList) < maxLost {
					obs.SkippedList = append(obs.SkippedList, drill.LedgerEntry{Producer: a.rec.Producer, Partition: p, Seq: a.rec.Seq, Offset: a.off,
						Sent: l.Start.Add(a.rec.Sent).UTC(), Acked: l.Start.Add(a.rec.Done).UTC()})
				}
			} else {
				obs.Unread++
			}
		}
		n, resets := redeliveredFromCommits(p, cl, ds, commits[p], shift)
		obs.RedeliveredFromCommits += n
		obs.Resets = append(obs.Resets, resets...)
		obs.Partitions = append(obs.Partitions, po)
	}
	obs.ResolutionMs = medianMs(steadyGaps)
	if !unbounded && len(l.Parts) > 0 {
		v := worst.Seconds()
		obs.RTOSeconds = &v
	}
	if e2e.TotalCount() > 0 {
		obs.P99EndToEndMs = float64(e2e.ValueAtQuantile(99)) / 1000
		obs.MaxEndToEndMs = float64(e2e.Max()) / 1000
	}
	obs.Commits = int64(len(cl.Commits))
	obs.CommitPauseSeconds = commitPause(cl, shift, inj).Seconds()
	obs.Rebalances, obs.MembersKilled = rebalances(cl, shift, inj)
	for _, msg := range slices.Sorted(maps.Keys(cl.Errors)) {
		obs.Errors = append(obs.Errors, fmt.Sprintf("×%d %s", cl.Errors[msg], msg))
	}
	return obs, perSecond
}

// redeliveredFromCommits counts, at each handover of partition p — an
// assignment to a member that did not hold it until then (a member
// keeping a partition through a rebalance keeps its position) — the
// records the group had read beyond its newest committed offset then: the
// new owner starts at that offset and reads them again. A new owner that
// starts past the committed offset skipped records (an offset reset).
func redeliveredFromCommits(p int32, cl *probe.ConsumerLedger, ds []probe.Delivery, cs []probe.Commit, shift time.Duration) (int64, []string) {
	var n int64
	var resets []string
	slices.SortStableFunc(cs, func(a, b probe.Commit) int { return cmp.Compare(a.At, b.At) })
	holds := map[int]bool{} // members holding p
	for _, e := range cl.Events {
		if !slices.Contains(e.Partitions, p) && e.Kind != probe.Killed {
			continue
		}
		switch e.Kind {
		case probe.Revoked, probe.Lost, probe.Killed:
			delete(holds, e.Member)
			continue
		}
		if holds[e.Member] || cl.AfterClosing(e.At) {
			continue
		}
		holds[e.Member] = true
		at := e.At + shift
		committed := cl.StartOffsets[p]
		for _, c := range cs {
			if c.At > at {
				break
			}
			committed = c.Offset
		}
		next := int64(-1) // the next offset the group would read
		first := int64(-1)
		for _, d := range ds {
			if d.At < at {
				next = max(next, d.Offset+1)
			} else if d.Member == e.Member && first < 0 {
				first = d.Offset
			}
		}
		// The records between the committed offset and next are read
		// again only by an owner that keeps the partition long enough to
		// fetch them: an eager rebalance that takes several rounds hands a
		// partition to a member that loses it again before its first
		// fetch (seen in CI: 1,768 counted against 887 handed over).
		// Count what this owner was handed of them before it lost p.
		until := stintEnd(cl, e, p) + shift
		again := map[int64]bool{}
		for _, d := range ds {
			if d.Member == e.Member && d.At >= at && d.At < until && d.Offset >= committed && d.Offset < next {
				again[d.Offset] = true
			}
		}
		n += int64(len(again))
		if first > committed && first > next {
			resets = append(resets, fmt.Sprintf("partition %d: member %d started at offset %d after its assignment in generation %d, past the committed offset %d", p, e.Member, first, e.Generation, committed))
		}
	}
	return n, resets
}

// stintEnd is when the member of assignment e stopped holding p: its next
// revocation or loss of p, or its death; the end of time when it kept p.
func stintEnd(cl *probe.ConsumerLedger, e probe.GroupEvent, p int32) time.Duration {
	for _, x := range cl.Events {
		if x.At <= e.At || x.Member != e.Member {
			continue
		}
		switch x.Kind {
		case probe.Killed:
			return x.At
		case probe.Revoked, probe.Lost:
			if slices.Contains(x.Partitions, p) {
				return x.At
			}
		}
	}
	return time.Duration(math.MaxInt64 / 2)
}

// rebalances lists the group's rebalances after it was first stable (the
// generation it had when the producers started), and counts the members
// killed with their DC. Times are in seconds since the injection.
func rebalances(cl *probe.ConsumerLedger, shift, inj time.Duration) ([]drill.Rebalance, int) {
	sec := func(d time.Duration) float64 { return (d + shift - inj).Seconds() }
	killed := 0
	stable := map[int32]time.Duration{}
	members := map[int32]map[int]bool{}
	for _, e := range cl.Events {
		if e.Kind == probe.Killed {
			killed++
		}
		if e.Kind != probe.Assigned || e.Generation <= cl.ReadyGeneration || cl.AfterClosing(e.At) {
			continue
		}
		stable[e.Generation] = max(stable[e.Generation], e.At)
		if members[e.Generation] == nil {
			members[e.Generation] = map[int]bool{}
		}
		members[e.Generation][e.Member] = true
	}
	out := []drill.Rebalance{}
	prev := cl.Ready.Sub(cl.Start)
	for _, g := range slices.Sorted(maps.Keys(stable)) {
		start := stable[g]
		for _, e := range cl.Events {
			if e.Kind != probe.Killed && e.At > prev && e.At < start {
				start = e.At
			}
		}
		out = append(out, drill.Rebalance{Generation: g, StartedSeconds: sec(start), StableSeconds: sec(stable[g]), Members: len(members[g])})
		prev = stable[g]
	}
	return out, killed
}

// commitPause is the longest time between two commits the broker
// accepted (from any member) that ends after the injection, the end of
// the drill's reading counting as one.
func commitPause(cl *probe.ConsumerLedger, shift, inj time.Duration) time.Duration {
	ts := make([]time.Duration, 0, len(cl.Commits)+1)
	for _, c := range cl.Commits {
		if !cl.AfterClosing(c.At) {
			ts = append(ts, c.At+shift)
		}
	}
	slices.Sort(ts)
	var longest time.Duration
	for i := 1; i < len(ts); i++ {
		if ts[i] > inj {
			longest = max(longest, ts[i]-ts[i-1])
		}
	}
	return longest
}
