package advise

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/stretchctl/stretchctl/config"
	"github.com/stretchctl/stretchctl/topology"
)

// WhatIf is a change to a check's inputs, to ask "what if" of the pure
// rules without touching the cluster: other goals, brokers or a whole DC
// already down, a client running in another DC. Inputs.WhatIf applies it
// to a copy; the zero value changes nothing.
type WhatIf struct {
	// RTO and RPO replace the goals when not nil.
	RTO *time.Duration
	RPO *int64
	// DownDCs are DCs already down: every broker and KRaft voter in them.
	DownDCs []string
	// DownBrokers are brokers already down, by node id.
	DownBrokers []int32
	// ClientDC moves clients (by their file, as written in stretch.yaml)
	// to another DC.
	ClientDC map[string]string
}

// Empty reports whether the what-if changes nothing.
func (w WhatIf) Empty() bool {
	return w.RTO == nil && w.RPO == nil && len(w.DownDCs) == 0 && len(w.DownBrokers) == 0 && len(w.ClientDC) == 0
}

// String says what the what-if changes, in a line.
func (w WhatIf) String() string {
	var parts []string
	if len(w.DownDCs) > 0 {
		parts = append(parts, strings.Join(w.DownDCs, ", ")+" down")
	}
	for _, b := range w.DownBrokers {
		parts = append(parts, fmt.Sprintf("broker %d down", b))
	}
	files := make([]string, 0, len(w.ClientDC))
	for f := range w.ClientDC {
		files = append(files, f)
	}
	sort.Strings(files)
	for _, f := range files {
		parts = append(parts, fmt.Sprintf("%s in %s", f, w.ClientDC[f]))
	}
	if w.RTO != nil {
		parts = append(parts, "RTO "+w.RTO.String())
	}
	if w.RPO != nil {
		parts = append(parts, "RPO "+strconv.FormatInt(*w.RPO, 10))
	}
	return strings.Join(parts, ", ")
}

// WhatIf returns a copy of the inputs with w applied; the inputs are not
// changed. A broker that is down is what the KRaft controller makes of a
// broker whose heartbeats stopped, once it fences it
// (ReplicationControlManager.handleBrokerFenced): it is removed from every
// ISR it is not the last member of, and where it led, the first replica
// in assignment order still in the ISR and serving becomes the leader
// (PartitionChangeBuilder); a partition whose last in-sync replica is
// down keeps it in its ISR and has no leader. Voters in a DC that is down
// are down: they still count in the majority the quorum needs (KIP-595),
// never towards it; without a live majority nothing is fenced and no
// leadership moves. Down brokers leave the eligible leader replicas
// (KIP-966) and none are added: a what-if on a cluster with ELR enabled
// may be pessimistic about partitions left below min.insync.replicas.
func (in *Inputs) WhatIf(w WhatIf) (*Inputs, error) {
	if in == nil || in.Config == nil || in.Snapshot == nil {
		return nil, errors.New("what-if: nothing read yet")
	}
	if err := w.validate(in); err != nil {
		return nil, err
	}
	out := *in
	cfg := *in.Config
	if w.RTO != nil {
		cfg.Goals.RTO = config.Duration{Duration: *w.RTO}
	}
	if w.RPO != nil {
		cfg.Goals.RPO = *w.RPO
	}
	out.Config = &cfg
	if len(w.ClientDC) > 0 {
		out.Clients = slices.Clone(in.Clients)
		for i := range out.Clients {
			if dc, ok := w.ClientDC[out.Clients[i].File]; ok {
				out.Clients[i].DC = dc
			}
		}
	}
	if len(w.DownDCs) > 0 || len(w.DownBrokers) > 0 {
		out.Snapshot = down(in.Snapshot, &cfg, w)
	}
	return &out, nil
}

func (w WhatIf) validate(in *Inputs) error {
	for _, dc := range w.DownDCs {
		if !in.Config.Topology.HasDC(dc) {
			return fmt.Errorf("what-if: DC %q is not in topology.dcs %v", dc, in.Config.Topology.DCs)
		}
	}
	for _, id := range w.DownBrokers {
		if _, ok := in.Snapshot.Broker(id); !ok {
			return fmt.Errorf("what-if: there is no broker %d", id)
		}
	}
	for file, dc := range w.ClientDC {
		if !in.Config.Topology.HasDC(dc) {
			return fmt.Errorf("what-if: DC %q (for %s) is not in topology.dcs %v", dc, file, in.Config.Topology.DCs)
		}
		if !slices.ContainsFunc(in.Clients, func(c topology.ClientConfig) bool { return c.File == file }) {
			return fmt.Errorf("what-if: no client file %q in stretch.yaml", file)
		}
	}
	if w.RTO != nil && *w.RTO <= 0 {
		return fmt.Errorf("what-if: RTO %v must be positive", *w.RTO)
	}
	if w.RPO != nil && *w.RPO < 0 {
		return fmt.Errorf("what-if: RPO %d must not be negative", *w.RPO)
	}
	return nil
}

// down copies the snapshot with the brokers and voters of w down. The
// quorum comes first: without a majority of live voters there is no
// active controller, so nothing is fenced and no leadership moves; the
// down brokers just stop answering.
func down(s *topology.Snapshot, cfg *config.Config, w WhatIf) *topology.Snapshot {
	out := *s
	gone := map[int32]bool{}
	for _, id := range w.DownBrokers {
		gone[id] = true
	}
	for _, b := range s.Brokers {
		if b.Rack != "" && slices.Contains(w.DownDCs, cfg.Topology.DCOfRack(b.Rack)) {
			gone[b.ID] = true
		}
	}
	majority := true
	if q := quorumOf(s, cfg, gone, w.DownDCs); q != nil {
		alive := 0
		for _, v := range q.Voters {
			if !v.Down {
				alive++
			}
		}
		majority = alive > len(q.Voters)/2
		// The leader is one of the live voters when they are a majority
		// (which one is not known: the first), else there is none.
		if i := slices.IndexFunc(q.Voters, func(v topology.QuorumReplica) bool { return v.ID == q.LeaderID }); i < 0 || q.Voters[i].Down || !majority {
			q.LeaderID = -1
			if majority {
				q.LeaderID = q.Voters[slices.IndexFunc(q.Voters, func(v topology.QuorumReplica) bool { return !v.Down })].ID
			}
		}
		out.Quorum = q
	}
	state := topology.BrokerFenced
	if !majority {
		state = topology.BrokerAbsent
	}
	out.Brokers = slices.Clone(s.Brokers)
	for i, b := range out.Brokers {
		if gone[b.ID] && b.Serving() {
			out.Brokers[i].State = state
		}
	}
	serving := map[int32]bool{}
	for _, b := range out.Brokers {
		serving[b.ID] = b.Serving()
	}
	out.Topics = make([]topology.Topic, len(s.Topics))
	for i, t := range s.Topics {
		t.Partitions = slices.Clone(t.Partitions)
		unclean := uncleanElection(s, t)
		for j := range t.Partitions {
			p := &t.Partitions[j]
			switch {
			case majority:
				fence(p, gone, serving, unclean)
			case gone[p.Leader]:
				p.Leader = -1 // no controller to move it: no leader answers
			}
		}
		out.Topics[i] = t
	}
	return &out
}

// quorumOf copies the snapshot's quorum with the voters of the gone
// brokers (combined mode) and of the down DCs marked down. When the
// quorum was not read it is made from topology.controllers, if one of
// them is down (nil otherwise: nothing to say).
func quorumOf(s *topology.Snapshot, cfg *config.Config, gone map[int32]bool, downDCs []string) *topology.Quorum {
	voterDown := func(id int32) bool {
		dc, ok := cfg.Topology.DCOfController(id)
		if !ok {
			if b, isBroker := s.Broker(id); isBroker && b.Rack != "" {
				dc = cfg.Topology.DCOfRack(b.Rack)
			}
		}
		return gone[id] || slices.Contains(downDCs, dc)
	}
	var q topology.Quorum
	switch {
	case s.Quorum != nil:
		q = *s.Quorum
		q.Voters = slices.Clone(s.Quorum.Voters)
	case s.Mode == "zookeeper":
		return nil
	default:
		q.LeaderID = -1
		for _, id := range cfg.Topology.ControllerIDs() {
			q.Voters = append(q.Voters, topology.QuorumReplica{ID: id, LogEndOffset: -1, LastFetchMs: -1, LastCaughtUpMs: -1})
		}
	}
	anyDown := false
	for i, v := range q.Voters {
		q.Voters[i].Down = voterDown(v.ID)
		anyDown = anyDown || q.Voters[i].Down
	}
	if s.Quorum == nil && !anyDown {
		return nil
	}
	return &q
}

// uncleanElection reads the topic's unclean.leader.election.enable, or
// the brokers' default when the topic's configs were not read.
func uncleanElection(s *topology.Snapshot, t topology.Topic) bool {
	if v, ok := t.Configs.Get("unclean.leader.election.enable"); ok {
		return strings.EqualFold(v, "true")
	}
	for _, b := range s.Brokers {
		if v, ok := b.Configs.Get("unclean.leader.election.enable"); ok {
			return strings.EqualFold(v, "true")
		}
	}
	return false
}

// fence applies the fencing of the gone brokers to one partition, as
// the controller does (ReplicationControlManager.handleBrokerFenced, then
// PartitionChangeBuilder): each leaves every ISR it is not the last
// member of and the ELR (it cannot be elected while fenced); a new leader
// is the first replica in assignment order that is in the ISR and
// serving, else, with unclean election enabled, the first serving
// replica, alone in the ISR; else there is none.
func fence(p *topology.Partition, gone, serving map[int32]bool, unclean bool) {
	isr := slices.Clone(p.ISR)
	for _, id := range p.ISR {
		if gone[id] && len(isr) > 1 {
			isr = slices.DeleteFunc(isr, func(r int32) bool { return r == id })
		}
	}
	p.ISR = isr
	if len(p.ELR) > 0 {
		p.ELR = slices.DeleteFunc(slices.Clone(p.ELR), func(r int32) bool { return gone[r] })
	}
	if !gone[p.Leader] {
		return
	}
	p.Leader = -1
	for _, r := range p.Replicas {
		if slices.Contains(isr, r) && serving[r] {
			p.Leader = r
			return
		}
	}
	if !unclean {
		return
	}
	for _, r := range p.Replicas {
		if serving[r] {
			p.Leader, p.ISR = r, []int32{r}
			return
		}
	}
}
