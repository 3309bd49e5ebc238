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

// TestWhatIfNoMajority: with two of three DCs down no controller is left:
// nothing is fenced, no leadership moves (the partitions led there have no
// leader that answers), and the quorum has no leader.
func TestWhatIfNoMajority(t *testing.T) {
	in := exampleInputs(t, "20-well-configured")
	got, err := in.WhatIf(advise.WhatIf{DownDCs: []string{"dc-b", "dc-c"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []int32{2, 3} {
		if b, _ := got.Snapshot.Broker(id); b.State != topology.BrokerAbsent {
			t.Errorf("broker %d: state %q, want absent (no controller to fence it)", id, b.State)
		}
	}
	for i, p := range got.Snapshot.Topics[0].Partitions {
		orig := in.Snapshot.Topics[0].Partitions[i]
		if !slices.Equal(p.ISR, orig.ISR) {
			t.Errorf("orders-%d: ISR %v, want %v unchanged", p.ID, p.ISR, orig.ISR)
		}
		if want := orig.Leader; want != 1 && p.Leader != -1 || want == 1 && p.Leader != 1 {
			t.Errorf("orders-%d: leader %d (was %d); want it kept in dc-a, -1 elsewhere", p.ID, p.Leader, want)
		}
	}
	if got.Snapshot.Quorum.LeaderID != -1 {
		t.Errorf("quorum leader %d, want -1", got.Snapshot.Quorum.LeaderID)
	}
	rep, err := got.Evaluate(rules.High)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(rep.Findings, func(f rules.Finding) bool { return strings.Contains(f.Message, "no leader now") }) {
		t.Error("no finding says the quorum has no leader")
	}
}

// TestWhatIfQuorumFromConfig: a snapshot without the quorum still loses
// the voters of a down DC (topology.controllers).
func TestWhatIfQuorumFromConfig(t *testing.T) {
	in := exampleInputs(t, "20-well-configured")
	in.Snapshot.Quorum = nil
	got, err := in.WhatIf(advise.WhatIf{DownDCs: []string{"dc-a"}})
	if err != nil {
		t.Fatal(err)
	}
	q := got.Snapshot.Quorum
	if q == nil || len(q.Voters) != 3 || !q.Voters[0].Down || q.LeaderID != 102 {
		t.Fatalf("quorum %+v: want 101..103 from topology.controllers, 101 down, 102 leading", q)
	}
	rep, err := got.Evaluate(rules.High)
	if err != nil {
		t.Fatal(err)
	}
	if s := scenario(t, rep, "crash dc-b"); s.QuorumSurvives {
		t.Error("crash dc-b with dc-a down: the quorum survives")
	}
	if !slices.ContainsFunc(rep.Findings, func(f rules.Finding) bool {
		return f.Subject == "quorum voter 101" && strings.Contains(f.Message, "2 of 3 voters are left, the quorum needs 2")
	}) {
		t.Error("no finding says voter 101 is down")
	}
	if _, err := in.WhatIf(advise.WhatIf{DownBrokers: []int32{2}}); err != nil || in.Snapshot.Quorum != nil {
		t.Errorf("a broker that is no voter down: %v; quorum %v, want none made", err, in.Snapshot.Quorum)
	}
}

// TestWhatIfUncleanAndELR: with unclean election on, the first serving
// replica leads alone; a down broker leaves the ELR.
func TestWhatIfUncleanAndELR(t *testing.T) {
	in := exampleInputs(t, "20-well-configured")
	orders := &in.Snapshot.Topics[0]
	orders.Configs = topology.Configs{"unclean.leader.election.enable": {Value: "true", Source: topology.SourceTopic}}
	orders.Partitions[0].ISR = []int32{1}
	orders.Partitions[1].ELR = []int32{1, 3}
	got, err := in.WhatIf(advise.WhatIf{DownBrokers: []int32{1}})
	if err != nil {
		t.Fatal(err)
	}
	p0, p1 := got.Snapshot.Topics[0].Partitions[0], got.Snapshot.Topics[0].Partitions[1]
	if p0.Leader != 2 || !slices.Equal(p0.ISR, []int32{2}) {
		t.Errorf("orders-0 (replicas %v, ISR [1], unclean): leader %d ISR %v; want 2 alone", p0.Replicas, p0.Leader, p0.ISR)
	}
	if !slices.Equal(p1.ELR, []int32{3}) || !slices.Equal(in.Snapshot.Topics[0].Partitions[1].ELR, []int32{1, 3}) {
		t.Errorf("orders-1 ELR %v (inputs %v); want [3] and the inputs unchanged", p1.ELR, in.Snapshot.Topics[0].Partitions[1].ELR)
	}
}
