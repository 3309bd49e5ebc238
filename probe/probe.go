// Package probe does all of stretchctl's Kafka I/O: it reads a cluster
// into a topology.Snapshot (brokers and racks, topics and replicas, broker
// and topic configs with their sources, the KRaft quorum, finalized
// features) for the advisor, measures latency to every broker as Kafka
// clients feel it (Measure: connect, request round trip, produce with
// acks=1 and acks=all, end to end), and builds the Kafka client
// configurations (protocol version, TLS, SASL, timeouts) that every other
// reader uses.
//
// Reading and measuring are best effort: what one broker or one request
// could not supply is recorded (Snapshot.Errors, the error and timeout
// counts of a Result) and the rest goes on. Only when no bootstrap server
// can be used at all do Snapshot and Measure fail, with a *ConnectError
// that names the addresses and why each failed.
//
// Snapshot never changes the cluster (no topic auto-creation, no writes).
// Measure writes only to its own probe topic, which it creates when
// missing and whose leadership it may move back with a preferred leader
// election. Neither sets package-level state of the Kafka libraries (such
// as sarama.Logger), and neither lets the SASL password reach a log, an
// error or a result. The package evaluates nothing: judging what was read
// is the rules package's job.
package probe
