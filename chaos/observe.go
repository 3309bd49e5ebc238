package chaos

import (
	"slices"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/stretchctl/stretchctl/drill"
	"github.com/stretchctl/stretchctl/probe"
)

// maxLost bounds the lost records listed in a result.
const maxLost = 1000

// warmup is left out of the steady-state gaps.
const warmup = 2 * time.Second

// Observe reconciles a ledger with what was read back and measures the
// availability around the fault. injected and healed are the phase times
// (healed zero when the heal failed: then nothing after injection counts
// as "before heal"). It is pure: no clock, no I/O.
//
// Reconciliation, per record of the run:
//   - acknowledged and found: kept;
//   - acknowledged and not found: lost (the observed RPO);
//   - found more than once: duplicates (a retry the broker did not
//     recognise: a producer without idempotence);
//   - not acknowledged (failed, or no answer) but found: unacked-but-present.
//
// Availability, per partition, from the acknowledgement times: the gaps
// between consecutive acknowledgements that end after the injection; the
// longest is the partition's outage. When no record sent after the
// injection was acknowledged before the heal, the outage is unbounded
// (writes resumed only because the fault was healed). The observed RTO is the longest outage of any
// partition. Its resolution is the median gap between the produce
// responses (acknowledgements a millisecond or more apart) of one
// partition in steady state (after a warm-up of the first two seconds:
// connections, metadata, the JIT of the brokers): an outage's start and end
// are each known to about one such gap.
func Observe(l *probe.Ledger, found map[probe.RecordKey][]int64, injected, healed time.Time) (drill.Observed, []drill.Second) {
	inj := injected.Sub(l.Start)
	heal := time.Duration(1<<63 - 1)
	if !healed.IsZero() {
		heal = healed.Sub(l.Start)
	}
	obs := drill.Observed{ReadBack: "every partition from its end offset before the first send to its end after healing, read_uncommitted (the ledger does not use transactions)"}
	if l.Transactional {
		obs.ReadBack = "every partition from its end offset before the first send to its newest committed record, read_committed (the ledger was written in transactions: records of aborted ones are not found)"
	}
	per := map[int32]*drill.PartitionObservation{}
	for _, p := range l.Parts {
		per[p] = &drill.PartitionObservation{Partition: p}
	}
	acks := map[int32][]time.Duration{}
	// firstAfter: per partition, the first acknowledgement of a record
	// sent after the injection: evidence that writes work again (a record
	// sent before it may be acknowledged late only because the ISR shrank
	// under it, without any new write getting through).
	firstAfter := map[int32]time.Duration{}
	for _, r := range l.Records {
		obs.Sent++
		po := per[r.Partition]
		k := probe.RecordKey{Producer: r.Producer, Partition: r.Partition, Seq: r.Seq}
		n := len(found[k])
		if n > 1 {
			obs.Duplicates += int64(n - 1)
		}
		switch r.State {
		case probe.Acked:
			obs.Acked++
			po.Acked++
			obs.MaxLatencyMs = max(obs.MaxLatencyMs, ms(r.Done-r.Sent))
			acks[r.Partition] = append(acks[r.Partition], r.Done)
			if r.Sent >= inj {
				if cur, ok := firstAfter[r.Partition]; !ok || r.Done < cur {
					firstAfter[r.Partition] = r.Done
				}
			}
			if n == 0 {
				obs.AckedLost++
				po.AckedLost++
				if len(obs.Lost) < maxLost {
					obs.Lost = append(obs.Lost, drill.LedgerEntry{Producer: r.Producer, Partition: r.Partition, Seq: r.Seq, Offset: r.Offset,
						Sent: l.Start.Add(r.Sent).UTC(), Acked: l.Start.Add(r.Done).UTC()})
				}
			}
		case probe.Failed:
			obs.Failed++
			po.Failed++
			if n > 0 {
				obs.UnackedPresent++
			}
		default:
			if n > 0 {
				obs.UnackedPresent++
			}
		}
	}

	var worst time.Duration
	unbounded := false
	var steadyGaps []time.Duration
	for _, p := range l.Parts {
		po := per[p]
		ts := acks[p]
		slices.Sort(ts)
		prev := time.Duration(-1)
		var longest time.Duration
		first, resumed := firstAfter[p]
		resumed = resumed && first <= heal
		if resumed {
			v := ms(first - inj)
			po.FirstSuccessMs = &v
		}
		for _, t := range ts {
			if t <= inj {
				// Acknowledgements of one produce response arrive
				// together: gaps under a millisecond are within one.
				if prev >= warmup && t-prev >= time.Millisecond {
					steadyGaps = append(steadyGaps, t-prev)
				}
				prev = t
				continue
			}
			from := prev
			if from < 0 {
				from = inj
			}
			longest = max(longest, t-from)
			prev = t
		}
		if !resumed {
			unbounded = true
			continue
		}
		v := ms(longest)
		po.LongestGapMs = &v
		worst = max(worst, longest)
	}
	obs.ResolutionMs = medianMs(steadyGaps)
	if !unbounded && len(l.Parts) > 0 {
		s := worst.Seconds()
		obs.RTOSeconds = &s
	}
	for _, p := range l.Parts {
		obs.Partitions = append(obs.Partitions, *per[p])
	}
	return obs, timeline(l)
}

// timeline buckets the answers per second of their arrival.
func timeline(l *probe.Ledger) []drill.Second {
	end := time.Duration(0)
	for _, r := range l.Records {
		end = max(end, r.Done, r.Sent)
	}
	n := int(end/time.Second) + 1
	out := make([]drill.Second, n)
	hists := make([]*hdrhistogram.Histogram, n)
	for i := range out {
		out[i].T = i
	}
	for _, r := range l.Records {
		if r.State == probe.Pending {
			continue
		}
		i := int(r.Done / time.Second)
		switch r.State {
		case probe.Acked:
			out[i].Successes++
			if hists[i] == nil {
				hists[i] = hdrhistogram.New(1, int64(10*time.Minute/time.Microsecond), 3)
			}
			_ = hists[i].RecordValue(max((r.Done - r.Sent).Microseconds(), 1))
		case probe.Failed:
			out[i].Errors++
		}
	}
	for i, h := range hists {
		if h != nil {
			out[i].P50Ms = float64(h.ValueAtQuantile(50)) / 1000
			out[i].P99Ms = float64(h.ValueAtQuantile(99)) / 1000
		}
	}
	return out
}

// medianMs is the median of gaps in milliseconds (0 without any): the
// resolution of an outage measured from them. It sorts gaps.
func medianMs(gaps []time.Duration) float64 {
	if len(gaps) == 0 {
		return 0
	}
	slices.Sort(gaps)
	return ms(gaps[len(gaps)/2])
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
