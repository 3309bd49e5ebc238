package chaos

import (
	"context"
	"fmt"
	"strings"

	"github.com/stretchctl/stretchctl/drill"
	"github.com/stretchctl/stretchctl/probe"
	"github.com/stretchctl/stretchctl/topology"
)

// The transactional ledger: the Java producers write in transactions of
// about 100 ms, each with a transactional id of the drill's own, chosen to
// hash to the __transaction_state partition of the producer file's
// transactional.id (TransactionStateManager.partitionFor: the group hash),
// so that the drill's transactions have the team's coordinator without
// ever fencing the team's producers.

// prepareTxn names the producers' transactional ids and their
// coordinator in the result. On a cluster that never had a transaction,
// the coordinator lookup creates __transaction_state, and the cluster is
// read again.
func (r *runner) prepareTxn(ctx context.Context, snap *topology.Snapshot, res *drill.Result) (*topology.Snapshot, []string, error) {
	if len(topicOf(snap, topology.TransactionTopic).Partitions) == 0 {
		r.emit("looking up a transaction coordinator: the cluster has no " + topology.TransactionTopic + " yet")
		if err := r.readers.FindCoordinator(ctx, "stretchctl-"+r.o.ID, true); err != nil {
			return nil, nil, fmt.Errorf("transactions: %w", err)
		}
		fresh, err := r.kafka.Snapshot(ctx)
		if err != nil {
			return nil, nil, err
		}
		snap = fresh
		res.Notes = append(res.Notes, "the cluster had no "+topology.TransactionTopic+": looking up the transaction coordinator created it")
	}
	n := len(topicOf(snap, topology.TransactionTopic).Partitions)
	target := "stretchctl-" + r.o.ID
	if r.prod.txnStandsFor != "" {
		target = r.prod.txnStandsFor
	}
	want := topology.GroupPartition(target, n)
	ids := make([]string, r.o.Producers)
	for i := range ids {
		for k := 0; ; k++ {
			id := fmt.Sprintf("stretchctl-%s-p%d-%d", r.o.ID, i, k)
			if n < 1 || topology.GroupPartition(id, n) == want {
				ids[i] = id
				break
			}
		}
	}
	part, dc := leaderOf(snap, r.o.Config, topology.TransactionTopic, want)
	res.Workload.Transactions = &drill.TxnWorkload{IDs: ids, StandsFor: r.prod.txnStandsFor, CoordinatorPartition: part, CoordinatorDC: dc}
	return snap, ids, nil
}

// observeTxn counts what the transactions went through: the records of
// aborted and of fenced transactions (their producers' errors say which),
// and, with a group, whether exactly-once held.
func observeTxn(res *drill.Result, l *probe.Ledger, cl *probe.ConsumerLedger) *drill.TxnObserved {
	t := &drill.TxnObserved{}
	for msg, n := range l.Errors {
		switch {
		case strings.HasPrefix(msg, "fenced:"):
			t.FencedRecords += n
		case strings.HasPrefix(msg, "aborted:"):
			t.AbortedRecords += n
		}
	}
	if cl == nil || res.Observed.Read == nil {
		return t
	}
	failed := map[probe.RecordKey]bool{}
	for _, rec := range l.Records {
		if rec.State != probe.Acked {
			failed[probe.RecordKey{Producer: rec.Producer, Partition: rec.Partition, Seq: rec.Seq}] = true
		}
	}
	for _, d := range cl.Deliveries {
		if d.Ledger && failed[d.Key] {
			t.AbortedRead++
		}
	}
	rd := res.Observed.Read
	held := t.AbortedRead == 0 && rd.Skipped == 0 && rd.Unread == 0 && rd.Redelivered == 0
	t.ExactlyOnce = &held
	return t
}
