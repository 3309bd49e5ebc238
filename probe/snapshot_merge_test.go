package probe

import (
	"strings"
	"testing"

	"github.com/IBM/sarama"
)

// TestMergeMetadata: a topic only one broker knows yet is kept, each
// partition is taken from the view with the highest leader epoch, and the
// lagging broker is named.
func TestMergeMetadata(t *testing.T) {
	part := func(id, leader, epoch int32) *sarama.PartitionMetadata {
		return &sarama.PartitionMetadata{ID: id, Leader: leader, LeaderEpoch: epoch, Replicas: []int32{1, 2}, Isr: []int32{1, 2}}
	}
	topic := func(name string, ps ...*sarama.PartitionMetadata) *sarama.TopicMetadata {
		return &sarama.TopicMetadata{Name: name, Partitions: ps}
	}
	// Broker 1 answered first but has not applied the new topic nor the
	// leader move of orders-1.
	b1 := &sarama.MetadataResponse{Topics: []*sarama.TopicMetadata{topic("orders", part(0, 1, 3), part(1, 1, 4))}}
	b2 := &sarama.MetadataResponse{Topics: []*sarama.TopicMetadata{topic("orders", part(0, 1, 3), part(1, 2, 5)), topic("new", part(0, 2, 0))}}
	got, lag := mergeMetadata(b1, map[int32]*sarama.MetadataResponse{1: b1, 2: b2})
	if len(got.Topics) != 2 || got.Topics[0].Name != "orders" || got.Topics[1].Name != "new" {
		t.Fatalf("topics %+v, want orders and new", got.Topics)
	}
	if p := got.Topics[0].Partitions[1]; p.Leader != 2 || p.LeaderEpoch != 5 {
		t.Errorf("orders-1: leader %d epoch %d, want the newer view (2, 5)", p.Leader, p.LeaderEpoch)
	}
	if len(lag) != 1 || !strings.Contains(lag[0], "broker 1's metadata lags") || !strings.Contains(lag[0], "new") ||
		!strings.Contains(lag[0], "older leader for 1 partitions") {
		t.Errorf("lag %q, want broker 1 named with the topic it misses and the older leader", lag)
	}
	_, lag = mergeMetadata(b2, map[int32]*sarama.MetadataResponse{2: b2, 3: b2})
	if len(lag) != 0 {
		t.Errorf("equal views named as lagging: %q", lag)
	}
}
