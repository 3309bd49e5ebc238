package topology

import (
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	good := func() *Snapshot {
		return &Snapshot{
			Brokers: []Broker{{ID: 1}, {ID: 2}, {ID: 3, State: BrokerAbsent}},
			Topics: []Topic{{Name: "t", Partitions: []Partition{
				{ID: 0, Leader: 1, Replicas: []int32{1, 2, 3}, ISR: []int32{1, 2}},
				{ID: 1, Leader: -1, Replicas: []int32{2, 3}, ISR: []int32{}, ELR: []int32{2}},
			}}},
			Quorum: &Quorum{LeaderID: 1, Voters: []QuorumReplica{{ID: 1}, {ID: 2}}},
		}
	}
	if err := good().Validate(); err != nil {
		t.Fatalf("consistent snapshot refused: %v", err)
	}
	tests := []struct {
		name   string
		change func(s *Snapshot)
		want   string
	}{
		{"no broker", func(s *Snapshot) { s.Brokers = nil; s.Topics = nil }, "brokers: no broker"},
		{"negative id", func(s *Snapshot) { s.Brokers[0].ID = -4 }, "brokers[0].id: negative broker id -4"},
		{"broker twice", func(s *Snapshot) { s.Brokers[1].ID = 1 }, "brokers[1].id: broker 1 is listed twice"},
		{"replica on unknown broker", func(s *Snapshot) { s.Topics[0].Partitions[0].Replicas[2] = 9 }, "topics[0].partitions[0].replicas: broker 9 is not in brokers"},
		{"replica twice", func(s *Snapshot) { s.Topics[0].Partitions[0].Replicas = []int32{1, 1, 2} }, "broker 1 is a replica twice"},
		{"leader not a replica", func(s *Snapshot) { s.Topics[0].Partitions[1].Leader = 1 }, "topics[0].partitions[1].leader: leader 1 is not a replica"},
		{"ISR not a subset", func(s *Snapshot) { s.Topics[0].Partitions[1].ISR = []int32{1} }, "topics[0].partitions[1].isr: broker 1 is not a replica (replicas [2 3])"},
		{"ISR twice", func(s *Snapshot) { s.Topics[0].Partitions[0].ISR = []int32{1, 1} }, "topics[0].partitions[0].isr: broker 1 is listed twice"},
		{"partition twice", func(s *Snapshot) { s.Topics[0].Partitions[1].ID = 0 }, "topics[0].partitions[1].id: partition 0 of t is listed twice"},
		{"topic twice", func(s *Snapshot) { s.Topics = append(s.Topics, s.Topics[0]) }, `topics[1].name: topic "t" is listed twice`},
		{"no replica", func(s *Snapshot) { s.Topics[0].Partitions[0].Replicas = nil }, "topics[0].partitions[0].replicas: no replica"},
		{"quorum leader not a voter", func(s *Snapshot) { s.Quorum.LeaderID = 7 }, "quorum.leaderID: leader 7 is not a voter"},
		{"unknown state", func(s *Snapshot) { s.Brokers[0].State = "sleepy" }, `brokers[0].state: unknown state "sleepy"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := good()
			tt.change(s)
			err := s.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Validate() = %v, want an error with %q", err, tt.want)
			}
		})
	}
	t.Run("many problems are bounded", func(t *testing.T) {
		s := good()
		for i := range 30 {
			s.Topics = append(s.Topics, Topic{Name: "x", Partitions: []Partition{{ID: int32(i), Leader: 8, Replicas: []int32{9}}}})
		}
		err := s.Validate()
		if err == nil || !strings.Contains(err.Error(), "more") || strings.Count(err.Error(), ";") > maxProblems {
			t.Errorf("Validate() = %v", err)
		}
	})
}
