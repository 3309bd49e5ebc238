package advise_test

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchctl/stretchctl/advise"
	"github.com/stretchctl/stretchctl/config"
	"github.com/stretchctl/stretchctl/internal/golden"
	"github.com/stretchctl/stretchctl/rules"
	"github.com/stretchctl/stretchctl/topology"
)

// exampleInputs reads an example of testdata/examples as a check's inputs.
func exampleInputs(t *testing.T, dir string) *advise.Inputs {
	t.Helper()
	cfg, err := config.Load(golden.Path("examples", dir, "stretch.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	snap, err := topology.LoadSnapshot(golden.Path("examples", dir, "snapshot.json"))
	if err != nil {
		t.Fatal(err)
	}
	in := &advise.Inputs{Config: cfg, Snapshot: snap}
	if b, err := os.ReadFile(golden.Path("examples", dir, "clients.json")); err == nil {
		if err := json.Unmarshal(b, &in.Clients); err != nil {
			t.Fatal(err)
		}
	}
	return in
}

func scenario(t *testing.T, r *rules.Report, name string) rules.Scenario {
	t.Helper()
	for _, s := range r.Scenarios {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no scenario %q in %d", name, len(r.Scenarios))
	return rules.Scenario{}
}

// TestWhatIfDCDown: a DC already down is what the controller makes of it
// (its brokers fenced and out of every ISR, their leaderships moved to
// the next in-sync replica in assignment order, its voter down); losing a
// second DC then loses the quorum, which it did not before. The inputs
// asked about are not changed.
func TestWhatIfDCDown(t *testing.T) {
	in := exampleInputs(t, "20-well-configured")
	base, err := in.Evaluate(rules.High)
	if err != nil {
		t.Fatal(err)
	}
	w := advise.WhatIf{DownDCs: []string{"dc-a"}}
	got, err := in.WhatIf(w)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := in.Snapshot.Broker(1); !b.Serving() || in.Snapshot.Topics[0].Partitions[0].Leader != 1 || in.Snapshot.Quorum.Voters[0].Down {
		t.Fatalf("the what-if changed the inputs it was asked about: broker 1 %q, leader %d", b.State, in.Snapshot.Topics[0].Partitions[0].Leader)
	}
	if b, _ := got.Snapshot.Broker(1); b.State != topology.BrokerFenced {
		t.Errorf("broker 1 in dc-a: state %q, want fenced", b.State)
	}
	orders := got.Snapshot.Topics[0]
	for _, p := range orders.Partitions {
		if p.Leader == 1 || slices.Contains(p.ISR, 1) || len(p.ISR) != 2 {
			t.Errorf("orders-%d: leader %d, ISR %v; want broker 1 out of both", p.ID, p.Leader, p.ISR)
		}
		if want := p.Replicas[slices.IndexFunc(p.Replicas, func(r int32) bool { return r != 1 })]; p.Leader != want {
			t.Errorf("orders-%d: leader %d, want %d (the first in-sync replica in assignment order %v)", p.ID, p.Leader, want, p.Replicas)
		}
	}
	if q := got.Snapshot.Quorum; !q.Voters[0].Down || q.LeaderID != 102 {
		t.Errorf("quorum: voter 101 down %v, leader %d; want down and 102 (the first live voter)", q.Voters[0].Down, q.LeaderID)
	}
	rep, err := got.Evaluate(rules.High)
	if err != nil {
		t.Fatal(err)
	}
	before, after := scenario(t, base, "crash dc-b"), scenario(t, rep, "crash dc-b")
	if !before.QuorumSurvives || after.QuorumSurvives || after.PredictedRTOSeconds != nil || after.GoalsMet {
		t.Errorf("crash dc-b: quorum survives %v before, %v with dc-a down (RTO %v, goals met %v); want true then false, unbounded, missed",
			before.QuorumSurvives, after.QuorumSurvives, after.PredictedRTOSeconds, after.GoalsMet)
	}
	if !slices.ContainsFunc(after.Why, func(s string) bool { return strings.Contains(s, "1 are down already") }) {
		t.Errorf("crash dc-b with dc-a down: why %q does not say a voter is down already", after.Why)
	}
	if base.Verdict != rules.VerdictPass || rep.Verdict != rules.VerdictFail {
		t.Errorf("verdict %s, with dc-a down %s; want pass then fail", base.Verdict, rep.Verdict)
	}
}

// TestWhatIfLastInSync: a down broker that is the last in-sync replica
// stays in the ISR and the partition has no leader (handleBrokerFenced
// only shrinks non-singleton ISRs).
func TestWhatIfLastInSync(t *testing.T) {
	in := exampleInputs(t, "20-well-configured")
	p := &in.Snapshot.Topics[0].Partitions[0]
	p.ISR = []int32{1}
	got, err := in.WhatIf(advise.WhatIf{DownBrokers: []int32{1}})
	if err != nil {
		t.Fatal(err)
	}
	q := got.Snapshot.Topics[0].Partitions[0]
	if q.Leader != -1 || !slices.Equal(q.ISR, []int32{1}) {
		t.Errorf("leader %d, ISR %v; want -1 and [1]", q.Leader, q.ISR)
	}
	if got.Snapshot.Quorum.LeaderID != 101 {
		t.Errorf("broker 1 is not a voter: quorum leader %d, want 101 unchanged", got.Snapshot.Quorum.LeaderID)
	}
	rep, err := got.Evaluate(rules.High)
	if err != nil {
		t.Fatal(err)
	}
	if s := scenario(t, rep, "crash dc-c"); s.WriteUnavailable == 0 {
		t.Errorf("crash dc-c with orders-0 offline already: %d partitions without writes, want the offline one counted", s.WriteUnavailable)
	}
}

// TestWhatIfGoalsAndClients: goals and a client's DC change the verdicts
// without a new read.
func TestWhatIfGoalsAndClients(t *testing.T) {
	in := exampleInputs(t, "34-minority-keeps-acking")
	base, err := in.Evaluate(rules.High)
	if err != nil {
		t.Fatal(err)
	}
	file := in.Clients[0].File
	got, err := in.WhatIf(advise.WhatIf{ClientDC: map[string]string{file: "dc-b"}})
	if err != nil {
		t.Fatal(err)
	}
	if in.Clients[0].DC != "dc-a" || got.Clients[0].DC != "dc-b" {
		t.Fatalf("client DC %q in the inputs, %q in the what-if; want dc-a and dc-b", in.Clients[0].DC, got.Clients[0].DC)
	}
	rep, err := got.Evaluate(rules.High)
	if err != nil {
		t.Fatal(err)
	}
	before, after := scenario(t, base, "isolate dc-a"), scenario(t, rep, "isolate dc-a")
	if !before.GoalsMet || after.GoalsMet {
		t.Errorf("isolate dc-a with the producer in dc-a: goals met %v; in dc-b: %v (RTO %v); want true then false", before.GoalsMet, after.GoalsMet, after.PredictedRTOSeconds)
	}

	rto := time.Second
	rpo := int64(5)
	tight, err := exampleInputs(t, "20-well-configured").WhatIf(advise.WhatIf{RTO: &rto, RPO: &rpo})
	if err != nil {
		t.Fatal(err)
	}
	rep, err = tight.Evaluate(rules.High)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Goals.RTOSeconds != 1 || rep.Goals.RPO != 5 || scenario(t, rep, "crash dc-a").GoalsMet {
		t.Errorf("goals %+v, crash dc-a goals met %v; want RTO 1 s, RPO 5, missed", rep.Goals, scenario(t, rep, "crash dc-a").GoalsMet)
	}
}

// TestWhatIfRefusesUnknowns names what it does not know.
func TestWhatIfRefusesUnknowns(t *testing.T) {
	in := exampleInputs(t, "34-minority-keeps-acking")
	zero := time.Duration(0)
	for _, c := range []struct {
		w    advise.WhatIf
		want string
	}{
		{advise.WhatIf{DownDCs: []string{"dc-x"}}, `DC "dc-x" is not in topology.dcs`},
		{advise.WhatIf{DownBrokers: []int32{99}}, "no broker 99"},
		{advise.WhatIf{ClientDC: map[string]string{"nope.properties": "dc-b"}}, `no client file "nope.properties"`},
		{advise.WhatIf{ClientDC: map[string]string{in.Clients[0].File: "dc-x"}}, `DC "dc-x" (for ` + in.Clients[0].File},
		{advise.WhatIf{RTO: &zero}, "RTO 0s must be positive"},
	} {
		if _, err := in.WhatIf(c.w); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.w, err, c.want)
		}
	}
	if !(advise.WhatIf{}).Empty() || (advise.WhatIf{DownDCs: []string{"dc-a"}}).Empty() {
		t.Error("Empty is wrong")
	}
}
