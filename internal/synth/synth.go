// Package synth builds synthetic clusters of any size for benchmarks: a
// three-DC KRaft cluster of nine brokers whose topics have three replicas
// spread over the DCs, one partition in ten with only its leader in sync.
// It is imported by benchmarks only.
package synth

import (
	"fmt"
	"time"

	"github.com/stretchctl/stretchctl/topology"
)

// DCs of the synthetic cluster.
var DCs = []string{"dc-a", "dc-b", "dc-c"}

// Snapshot is a cluster of topics × parts partitions.
func Snapshot(topics, parts int) *topology.Snapshot {
	snap := &topology.Snapshot{SchemaVersion: topology.SchemaVersion, TakenAt: time.Unix(0, 0), ClusterID: "synthetic", KafkaVersion: "4.3.1", Mode: "kraft"}
	for id := int32(1); id <= 9; id++ {
		snap.Brokers = append(snap.Brokers, topology.Broker{ID: id, Host: fmt.Sprintf("b%d", id), Port: 9092, Rack: DCs[(id-1)%3],
			Configs: topology.Configs{"min.insync.replicas": {Value: "2", Source: topology.SourceStaticBroker}}})
	}
	snap.Quorum = &topology.Quorum{LeaderID: 1, Voters: []topology.QuorumReplica{{ID: 1}, {ID: 2}, {ID: 3}}}
	for t := 0; t < topics; t++ {
		top := topology.Topic{Name: fmt.Sprintf("topic-%04d", t), Partitions: make([]topology.Partition, parts),
			Configs: topology.Configs{"min.insync.replicas": {Value: "2", Source: topology.SourceTopic}}}
		for p := range top.Partitions {
			a := int32((p + t) % 9)
			r := []int32{a + 1, (a+1)%9 + 1, (a+2)%9 + 1}
			isr := r
			if p%10 == 0 {
				isr = r[:1]
			}
			top.Partitions[p] = topology.Partition{ID: int32(p), Leader: r[0], Replicas: r, ISR: isr}
		}
		snap.Topics = append(snap.Topics, top)
	}
	return snap
}
