// Package access lists the Kafka ACLs that stretchctl's own requests need,
// for a principal that holds nothing else, and renders them as kafka-acls
// commands. It must not talk to Kafka: the lab grants these ACLs, the
// README and `stretchctl acls` print them, and the e2e suite proves on a
// cluster with an authorizer that they are enough.
package access

import (
	"fmt"
	"strings"
)

// ResourceType is the kind of resource an ACL is on.
type ResourceType string

// The resource types stretchctl needs ACLs on.
const (
	Cluster         ResourceType = "cluster"
	Topic           ResourceType = "topic"
	Group           ResourceType = "group"
	TransactionalID ResourceType = "transactional-id"
)

// Operation is a Kafka ACL operation, spelled as kafka-acls spells it.
type Operation string

// The operations stretchctl needs.
const (
	Describe        Operation = "Describe"
	DescribeConfigs Operation = "DescribeConfigs"
	Create          Operation = "Create"
	Alter           Operation = "Alter"
	Read            Operation = "Read"
	Write           Operation = "Write"
)

// Pattern is how an ACL's resource name matches.
type Pattern string

// Resource name patterns.
const (
	Literal  Pattern = "literal"
	Prefixed Pattern = "prefixed"
)

// ACL is one allow rule for the tool's principal.
type ACL struct {
	Resource   ResourceType
	Name       string // "*" for every resource of the type; "kafka-cluster" for the cluster
	Pattern    Pattern
	Operations []Operation
	// Why says which of the tool's requests need it.
	Why string
}

// Prefix is the name prefix of the drill's own groups and transactional
// ids ("stretchctl-<drill id>..."), and of the drill topics the lab makes.
const Prefix = "stretchctl-"

// InternalPrefix is the prefix of the tool's own topics
// (__stretchctl_probe, __stretchctl_latency).
const InternalPrefix = "__stretchctl_"

// Required lists what every stretchctl command needs, and no more: no
// Alter on the cluster (that would let it create ACLs and move replicas),
// nothing on topics it does not own but Describe. The drill topic is the
// team's choice: grant Read and Write on it (the lab names its drill
// topics with Prefix). Kafka's checks per request: the authorizer section
// of KafkaApis.scala (handleDescribeCluster, handleDescribeConfigs,
// handleCreateTopics, handleCreatePartitionsRequest) and KIP-679 (an
// idempotent producer needs only Write on a topic since 2.8).
func Required() []ACL {
	return []ACL{
		{Cluster, "kafka-cluster", Literal, []Operation{Describe, DescribeConfigs},
			"the brokers' and controllers' configs, the KRaft quorum (DescribeQuorum), the cluster's nodes (DescribeCluster)"},
		{Topic, "*", Literal, []Operation{Describe, DescribeConfigs},
			"every topic's replicas, ISR and min.insync.replicas: the placement check"},
		{Topic, InternalPrefix, Prefixed, []Operation{Create, Alter, Read, Write, Describe, DescribeConfigs},
			"its own probe and latency topics: created when missing, one partition added per new broker"},
		{Topic, Prefix, Prefixed, []Operation{Read, Write},
			"the drill topic (the ledger writes and reads back); grant on your own drill topic instead when it has another name"},
		{Group, Prefix, Prefixed, []Operation{Read, Describe},
			"the drill's consumer group: join, commit its start offsets and read"},
		{TransactionalID, Prefix, Prefixed, []Operation{Write, Describe},
			"the transactional ledger's producers (drill --transactional)"},
	}
}

// Optional lists ACLs that make one thing better and that a team may
// choose not to grant.
func Optional() []ACL {
	return []ACL{
		{Cluster, "kafka-cluster", Literal, []Operation{Alter},
			"optional: lets the probe move the leadership of its own topic back after a failover (preferred leader election); without it a broker that leads no probe partition is named and not measured until auto.leader.rebalance moves leadership back. It also allows creating ACLs: most teams should not grant it"},
	}
}

// Commands renders acls as kafka-acls commands for principal (e.g.
// "User:stretchctl") against bootstrap, with an admin's client properties
// in adminConfig.
func Commands(acls []ACL, principal, bootstrap, adminConfig string) []string {
	var out []string
	for _, a := range acls {
		var b strings.Builder
		fmt.Fprintf(&b, "kafka-acls.sh --bootstrap-server %s --command-config %s --add --allow-principal %s", bootstrap, adminConfig, principal)
		for _, op := range a.Operations {
			fmt.Fprintf(&b, " --operation %s", op)
		}
		switch a.Resource {
		case Cluster:
			b.WriteString(" --cluster")
		default:
			fmt.Fprintf(&b, " --%s '%s'", a.Resource, a.Name)
		}
		if a.Pattern == Prefixed {
			b.WriteString(" --resource-pattern-type prefixed")
		}
		out = append(out, b.String())
	}
	return out
}
