// Package wan emulates the wide-area links between the data centers of the
// lab. This kernel has no netem, so every DC network namespace gets a TUN
// device whose file descriptor stays with one router process in the root
// namespace; the router forwards IPv4 packets between sites and holds each
// one for its link's one-way delay, drops a percentage of them for loss, or
// drops all of them to cut a link.
//
// The package knows nothing about Kafka. It must not be used to shape traffic
// outside the addresses of the lab's own namespaces.
package wan

import (
	"fmt"
	"net/netip"
	"sort"
	"time"
)

// Site is one place packets come from and go to: a DC namespace or the root
// namespace (the operator's site).
type Site struct {
	// Name identifies the site in link rules, e.g. "ops" or "dc-a".
	Name string `json:"name"`
	// Netns is the path of the site's network namespace file; empty means
	// the namespace the router runs in.
	Netns string `json:"netns,omitempty"`
	// Device is the TUN device name (at most 15 bytes).
	Device string `json:"device"`
	// Subnet holds every address of the site; packets to it are delivered here.
	Subnet netip.Prefix `json:"subnet"`
	// Addrs are the addresses put on the device, each inside Subnet.
	Addrs []netip.Addr `json:"addrs"`
	// Routes are sent through the device (normally the lab's whole block).
	Routes []netip.Prefix `json:"routes"`
}

// Link is the state of the one-way path From -> To.
type Link struct {
	From string `json:"from"`
	To   string `json:"to"`
	// Delay is the one-way delay added to every packet.
	Delay time.Duration `json:"delay"`
	// Loss is the percentage (0-100) of packets dropped at random.
	Loss float64 `json:"loss,omitempty"`
	// Blocked drops every packet: the link is cut.
	Blocked bool `json:"blocked,omitempty"`
}

// Priority chooses the router's scheduling.
type Priority string

// The router's scheduling choices.
const (
	// PriorityHigh (the default): the delivering threads run SCHED_FIFO,
	// every other thread of the process at a higher nice.
	PriorityHigh Priority = ""
	// PriorityForwarding: only the delivering threads run SCHED_FIFO (a
	// benchmark whose clients share the router's process).
	PriorityForwarding Priority = "forwarding"
	// PriorityNormal: nothing is raised.
	PriorityNormal Priority = "normal"
)

// Config is everything the router needs to start.
type Config struct {
	Sites []Site `json:"sites"`
	Links []Link `json:"links"`
	// MTU of every TUN device.
	MTU int `json:"mtu"`
	// Socket is the path of the control socket.
	Socket string `json:"socket"`
	// Priority is the scheduling the router asks for (sched_linux.go);
	// only benchmarks that compare with the default set it.
	Priority Priority `json:"priority,omitempty"`
}

// DefaultMTU is a jumbo frame size: inter-DC links commonly carry jumbo
// frames, and fewer, larger packets keep the userspace router well above
// the bandwidth Kafka replication needs in the lab.
const DefaultMTU = 9000

// Validate checks that sites are unique and links name known sites.
func (c Config) Validate() error {
	switch c.Priority {
	case PriorityHigh, PriorityForwarding, PriorityNormal:
	default:
		return fmt.Errorf("priority %q: want empty, forwarding or normal", c.Priority)
	}
	seen := map[string]bool{}
	for _, s := range c.Sites {
		if s.Name == "" || seen[s.Name] {
			return fmt.Errorf("site %q: empty or duplicate name", s.Name)
		}
		if len(s.Device) == 0 || len(s.Device) > 15 {
			return fmt.Errorf("site %q: device name %q must be 1-15 bytes", s.Name, s.Device)
		}
		if !s.Subnet.IsValid() || !s.Subnet.Addr().Is4() {
			return fmt.Errorf("site %q: subnet %v must be an IPv4 prefix", s.Name, s.Subnet)
		}
		for _, a := range s.Addrs {
			if !s.Subnet.Contains(a) {
				return fmt.Errorf("site %q: address %v outside subnet %v", s.Name, a, s.Subnet)
			}
		}
		seen[s.Name] = true
	}
	return validateLinks(seen, c.Links)
}

func validateLinks(sites map[string]bool, links []Link) error {
	for _, l := range links {
		if !sites[l.From] || !sites[l.To] {
			return fmt.Errorf("link %s->%s: unknown site", l.From, l.To)
		}
		if l.From == l.To {
			return fmt.Errorf("link %s->%s: a site has no link to itself", l.From, l.To)
		}
		if l.Delay < 0 || l.Loss < 0 || l.Loss > 100 {
			return fmt.Errorf("link %s->%s: delay must be >= 0 and loss within 0-100", l.From, l.To)
		}
	}
	return nil
}

// LinkStats counts what happened on one link since the router started.
type LinkStats struct {
	Link
	Forwarded uint64 `json:"forwarded"`
	Bytes     uint64 `json:"bytes"`
	// DroppedBlocked, DroppedLoss and DroppedQueue count packets dropped
	// because the link was cut, by random loss, or because the link's
	// queue was full.
	DroppedBlocked uint64 `json:"droppedBlocked"`
	DroppedLoss    uint64 `json:"droppedLoss"`
	DroppedQueue   uint64 `json:"droppedQueue"`
}

// SortLinks orders links by From then To, for stable output.
func SortLinks[L interface{ key() string }](ls []L) {
	sort.Slice(ls, func(i, j int) bool { return ls[i].key() < ls[j].key() })
}

func (l Link) key() string      { return l.From + "\x00" + l.To }
func (s LinkStats) key() string { return s.Link.key() }
