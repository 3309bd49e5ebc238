package topology

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// maxProblems bounds the problems one error lists.
const maxProblems = 10

// Validate checks that the snapshot is one Kafka could have described:
// at least one broker, ids that are not negative and not repeated, every
// replica on a listed broker (a snapshot that stretchctl writes lists a
// broker that is gone as absent), a leader that is -1 or a replica, and
// ISR, ELR and offline replicas that are replicas (Kafka keeps the ISR a
// subset of the replicas: PartitionRegistration and AlterPartition's
// checks in the controller). A snapshot that breaks these would be
// evaluated into verdicts about a cluster that cannot exist. Each problem
// names its JSON path.
func (s *Snapshot) Validate() error {
	var problems []string
	more := 0
	add := func(path, format string, args ...any) {
		if len(problems) == maxProblems {
			more++
			return
		}
		problems = append(problems, path+": "+fmt.Sprintf(format, args...))
	}
	if len(s.Brokers) == 0 {
		add("brokers", "no broker: a snapshot describes at least one")
	}
	brokers := map[int32]bool{}
	for i, b := range s.Brokers {
		path := fmt.Sprintf("brokers[%d].id", i)
		switch {
		case b.ID < 0:
			add(path, "negative broker id %d", b.ID)
		case brokers[b.ID]:
			add(path, "broker %d is listed twice", b.ID)
		}
		brokers[b.ID] = true
		switch b.State {
		case "", BrokerUp, BrokerFenced, BrokerAbsent:
		default:
			add(fmt.Sprintf("brokers[%d].state", i), "unknown state %q (up, fenced or absent)", b.State)
		}
	}
	topics := map[string]bool{}
	for i, t := range s.Topics {
		tp := fmt.Sprintf("topics[%d]", i)
		if t.Name == "" {
			add(tp+".name", "empty topic name")
		} else if topics[t.Name] {
			add(tp+".name", "topic %q is listed twice", t.Name)
		}
		topics[t.Name] = true
		parts := map[int32]bool{}
		for j, p := range t.Partitions {
			pp := fmt.Sprintf("%s.partitions[%d]", tp, j)
			switch {
			case p.ID < 0:
				add(pp+".id", "negative partition id %d", p.ID)
			case parts[p.ID]:
				add(pp+".id", "partition %d of %s is listed twice", p.ID, t.Name)
			}
			parts[p.ID] = true
			if len(p.Replicas) == 0 {
				add(pp+".replicas", "no replica")
			}
			seen := map[int32]bool{}
			for _, r := range p.Replicas {
				switch {
				case seen[r]:
					add(pp+".replicas", "broker %d is a replica twice in %v", r, p.Replicas)
				case !brokers[r]:
					add(pp+".replicas", "broker %d is not in brokers", r)
				}
				seen[r] = true
			}
			if p.Leader < -1 || (p.Leader >= 0 && !seen[p.Leader]) {
				add(pp+".leader", "leader %d is not a replica (replicas %v, or -1 for none)", p.Leader, p.Replicas)
			}
			for _, sub := range []struct {
				name string
				set  []int32
			}{{"isr", p.ISR}, {"elr", p.ELR}, {"offline", p.Offline}} {
				name, set := sub.name, sub.set
				for k, r := range set {
					if !seen[r] {
						add(pp+"."+name, "broker %d is not a replica (replicas %v)", r, p.Replicas)
					} else if slices.Index(set, r) != k {
						add(pp+"."+name, "broker %d is listed twice", r)
					}
				}
			}
		}
	}
	if q := s.Quorum; q != nil {
		voters := map[int32]bool{}
		for i, v := range q.Voters {
			if v.ID < 0 || voters[v.ID] {
				add(fmt.Sprintf("quorum.voters[%d].id", i), "voter %d is negative or listed twice", v.ID)
			}
			voters[v.ID] = true
		}
		if q.LeaderID < -1 || (q.LeaderID >= 0 && len(voters) > 0 && !voters[q.LeaderID]) {
			add("quorum.leaderID", "leader %d is not a voter", q.LeaderID)
		}
	}
	if len(problems) == 0 {
		return nil
	}
	if more > 0 {
		problems = append(problems, fmt.Sprintf("and %d more", more))
	}
	return errors.New("inconsistent snapshot: " + strings.Join(problems, "; "))
}
