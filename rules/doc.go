// Package rules evaluates a cluster snapshot, client configurations and
// goals: the catalogue of stretched-cluster rules (findings with a severity
// that depends on the goals) and, for every DC, what losing or isolating it
// does (partitions unwritable, unreadable, acknowledged data at risk,
// quorum, predicted RTO with its breakdown).
//
// It is pure: no network, no clock (time comes in with the input), no
// files. The semantics follow ../shared/research/kafka-rules.md.
package rules
