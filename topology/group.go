package topology

// OffsetsTopic is the internal topic that holds consumer groups' offsets;
// the leader of a group's partition of it is the group's coordinator.
const OffsetsTopic = "__consumer_offsets"

// TransactionTopic is the internal topic of transactions' state; the
// leader of a transactional id's partition of it is that id's
// transaction coordinator. Ids map to partitions as groups do
// (TransactionStateManager.partitionFor: the same hash), so
// GroupPartition serves both.
const TransactionTopic = "__transaction_state"

// GroupPartition is the partition of OffsetsTopic (of n partitions) that
// holds groupID, as the broker computes it:
// Utils.abs(groupId.hashCode()) % offsets.topic.num.partitions
// (GroupMetadataManager.partitionFor; GroupCoordinatorShard in 4.x keeps
// it). hashCode is Java's String.hashCode over UTF-16 code units, and
// Utils.abs is `n & 0x7fffffff`. It returns -1 when n < 1.
func GroupPartition(groupID string, n int) int {
	if n < 1 {
		return -1
	}
	var h int32
	for _, r := range groupID {
		if r >= 0x10000 {
			r -= 0x10000
			h = 31*h + (0xd800 + (r >> 10))
			h = 31*h + (0xdc00 + (r & 0x3ff))
			continue
		}
		h = 31*h + r
	}
	return int(h&0x7fffffff) % n
}
