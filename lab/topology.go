package lab

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// Topology names a layout of data centers.
type Topology string

// The layouts the lab can build.
const (
	// Topology25DC is two DCs with brokers (a KRaft voter each) and a third
	// site holding only a tie-breaker controller: the usual answer to "we
	// have two data centers".
	Topology25DC Topology = "2.5dc"
	// Topology3DC is three DCs with brokers and one voter each.
	Topology3DC Topology = "3dc"
	// Topology2DC is two DCs; the quorum is 2+1, so losing dc-a loses it.
	Topology2DC Topology = "2dc"
)

// Topologies lists the layouts in the order shown to users.
var Topologies = []Topology{Topology25DC, Topology3DC, Topology2DC}

// Role is what a Kafka node does.
type Role string

// Node roles (Kafka's process.roles).
const (
	RoleBroker     Role = "broker"
	RoleController Role = "controller"
)

// OpsSite is the name of the root namespace, where the operator and the
// stretchctl commands run unless put into a DC with `lab exec`.
const OpsSite = "ops"

// Node is one Kafka process of the lab.
type Node struct {
	ID    int32      `json:"id"`
	DC    string     `json:"dc"`
	Roles []Role     `json:"roles"`
	Addr  netip.Addr `json:"addr"`
	// Pid of the running process; 0 when it was never started.
	Pid int `json:"pid,omitempty"`
}

// Has reports whether the node plays role r.
func (n Node) Has(r Role) bool { return slices.Contains(n.Roles, r) }

// RoleString is "broker", "controller" or "broker+controller".
func (n Node) RoleString() string {
	s := make([]string, len(n.Roles))
	for i, r := range n.Roles {
		s[i] = string(r)
	}
	return strings.Join(s, "+")
}

// BrokerAddr is the node's client listener.
func (n Node) BrokerAddr() string { return netip.AddrPortFrom(n.Addr, BrokerPort).String() }

// ControllerAddr is the node's controller listener.
func (n Node) ControllerAddr() string { return netip.AddrPortFrom(n.Addr, ControllerPort).String() }

// Ports every node listens on; each node has an address of its own.
const (
	BrokerPort     = 9092
	ControllerPort = 9093
)

// Layout is the set of DCs and nodes a topology produces.
type Layout struct {
	DCs   []string
	Nodes []Node
}

// BuildLayout places nodes for a topology with perDC brokers in each DC
// that holds brokers. The first broker of a DC is also its KRaft voter
// (combined mode, to spare the CPU of a small machine); a DC without
// brokers gets a controller-only node.
func BuildLayout(t Topology, perDC int) (Layout, error) {
	if perDC < 1 || perDC > 9 {
		return Layout{}, fmt.Errorf("brokers per DC must be between 1 and 9, got %d", perDC)
	}
	var l Layout
	id := int32(0)
	add := func(dc string, roles ...Role) {
		id++
		l.Nodes = append(l.Nodes, Node{ID: id, DC: dc, Roles: roles})
	}
	brokers := func(dc string, voters int) {
		for i := 0; i < perDC; i++ {
			if i < voters {
				add(dc, RoleBroker, RoleController)
			} else {
				add(dc, RoleBroker)
			}
		}
		for i := perDC; i < voters; i++ {
			add(dc, RoleController)
		}
	}
	switch t {
	case Topology25DC:
		l.DCs = []string{"dc-a", "dc-b", "dc-c"}
		brokers("dc-a", 1)
		brokers("dc-b", 1)
		add("dc-c", RoleController)
	case Topology3DC:
		l.DCs = []string{"dc-a", "dc-b", "dc-c"}
		for _, dc := range l.DCs {
			brokers(dc, 1)
		}
	case Topology2DC:
		l.DCs = []string{"dc-a", "dc-b"}
		brokers("dc-a", 2)
		brokers("dc-b", 1)
	default:
		return Layout{}, fmt.Errorf("unknown topology %q (want one of %s)", t, joinTopologies())
	}
	return l, nil
}

func joinTopologies() string {
	s := make([]string, len(Topologies))
	for i, t := range Topologies {
		s[i] = string(t)
	}
	return strings.Join(s, ", ")
}

// Brokers returns the nodes with the broker role.
func (l Layout) Brokers() []Node { return l.withRole(RoleBroker) }

// Voters returns the nodes with the controller role.
func (l Layout) Voters() []Node { return l.withRole(RoleController) }

func (l Layout) withRole(r Role) []Node {
	var out []Node
	for _, n := range l.Nodes {
		if n.Has(r) {
			out = append(out, n)
		}
	}
	return out
}

// Sites lists the operator's site followed by the DCs.
func (l Layout) Sites() []string { return append([]string{OpsSite}, l.DCs...) }
