package rules

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchctl/stretchctl/config"
	"github.com/stretchctl/stretchctl/topology"
)

// syntheticInput builds a 3-DC cluster of 9 brokers with topics×parts
// partitions, RF 3 placed 1/1/1, a tenth of them with a shrunken ISR.
func syntheticInput(topics, parts int) *Input {
	snap := &topology.Snapshot{SchemaVersion: topology.SchemaVersion, TakenAt: time.Unix(0, 0), KafkaVersion: "4.3.1", Mode: "kraft"}
	dcs := []string{"dc-a", "dc-b", "dc-c"}
	for id := int32(1); id <= 9; id++ {
		snap.Brokers = append(snap.Brokers, topology.Broker{ID: id, Host: fmt.Sprintf("b%d", id), Port: 9092, Rack: dcs[(id-1)%3],
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
	cfg := config.Default()
	cfg.Topology.DCs = dcs
	return &Input{Snapshot: snap, Config: cfg, FailOn: High}
}

// BenchmarkEvaluate1M evaluates every rule and scenario over a million
// partitions (target: under 2 s and 1.5 GiB peak memory). peak-RSS-MiB is
// the process high-water mark, snapshot included.
func BenchmarkEvaluate1M(b *testing.B) {
	in := syntheticInput(1000, 1000)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rep, err := Evaluate(in)
		if err != nil {
			b.Fatal(err)
		}
		if len(rep.Scenarios) != 9 {
			b.Fatalf("%d scenarios", len(rep.Scenarios))
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(peakRSSKiB())/1024, "peak-RSS-MiB")
}

func peakRSSKiB() int {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return n
		}
	}
	return 0
}
