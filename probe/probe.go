// Package probe does all of stretchctl's Kafka I/O: it reads a cluster
// into a topology.Snapshot (brokers and racks, topics and replicas, broker
// and topic configs with their sources, the KRaft quorum, finalized
// features) for the advisor, and builds the Kafka client configurations
// (protocol version, TLS, SASL, timeouts) that every other reader uses.
// The latency probe will live here too.
//
// Reading is best effort: what one broker or one request could not supply
// is recorded in Snapshot.Errors and the rest is still read. Only when no
// bootstrap server can be used at all does Snapshot fail, with a
// *ConnectError that names the addresses and why each failed.
//
// The package never changes the cluster (no topic auto-creation, no
// writes), never sets package-level state of the Kafka libraries (such as
// sarama.Logger), and never lets the SASL password reach a log, an error
// or a snapshot. It evaluates nothing: judging what was read is the rules
// package's job.
package probe
