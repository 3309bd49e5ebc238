package rules

import (
	"fmt"
	"slices"
	"strings"

	"github.com/stretchctl/stretchctl/config"
)

// Category groups rules.
type Category string

// Rule categories.
const (
	CatTopology Category = "topology"
	CatRPO      Category = "rpo"
	CatRTO      Category = "rto"
)

// Rule is one check of the catalogue.
type Rule struct {
	ID       string   `json:"id"`
	Title    string   `json:"title"`
	Category Category `json:"category"`
	// Explain says what is checked, why it matters for a stretched
	// cluster, and how the severity follows from the goals.
	Explain string `json:"explain"`
	// Fix is the usual remediation.
	Fix string `json:"fix"`
	// Sources cite the facts behind the rule (kafka-rules.md source ids).
	Sources string `json:"sources"`
	check   func(m *model, emit func(Finding))
}

// Catalogue returns every rule, in ID order.
func Catalogue() []Rule {
	var all []Rule
	all = append(all, topologyRules()...)
	all = append(all, rpoRules()...)
	all = append(all, rtoRules()...)
	slices.SortFunc(all, func(a, b Rule) int { return strings.Compare(a.ID, b.ID) })
	return all
}

// Lookup returns the rule with an ID (case-insensitive).
func Lookup(id string) (Rule, bool) {
	for _, r := range Catalogue() {
		if strings.EqualFold(r.ID, id) {
			return r, true
		}
	}
	return Rule{}, false
}

// Evaluate runs every rule and scenario over the input and returns the
// report, with suppressions from the config's ignore list applied and the
// verdict decided by FailOn and the scenarios' goals.
func Evaluate(in *Input) (*Report, error) {
	m, err := newModel(in)
	if err != nil {
		return nil, err
	}
	rep := &Report{
		FailOn:  in.FailOn,
		Goals:   Goals{RPO: m.goals.RPO, RTOSeconds: m.goals.RTO.Seconds()},
		Cluster: in.Snapshot.ClusterID,
		TakenAt: in.Snapshot.TakenAt,
		Counts:  map[string]int{},
	}
	for _, r := range Catalogue() {
		r.check(m, func(f Finding) {
			f.ID = r.ID
			if f.Remediation == "" {
				f.Remediation = r.Fix
			}
			if ig, ok := suppressed(in.Config, f); ok {
				f.Suppressed = ig.Reason
			}
			rep.Findings = append(rep.Findings, f)
		})
	}
	slices.SortStableFunc(rep.Findings, func(a, b Finding) int {
		if a.Severity != b.Severity {
			return int(b.Severity) - int(a.Severity)
		}
		return strings.Compare(a.ID, b.ID)
	})
	rep.Scenarios = m.scenarios()
	rep.Verdict = VerdictPass
	for _, f := range rep.Findings {
		if f.Suppressed != "" {
			continue
		}
		rep.Counts[f.Severity.String()]++
		if f.Severity >= in.FailOn && !f.Unknown {
			rep.Verdict = VerdictFail
		}
	}
	for _, s := range rep.Scenarios {
		if !s.GoalsMet {
			rep.Verdict = VerdictFail
		}
	}
	if in.RTT == nil {
		why := ""
		if in.RTTSource != "" {
			why = " (" + in.RTTSource + ")"
		}
		m.notes = append(m.notes, "inter-DC latency not measured"+why+": the RTO predictions leave out network round trips")
	} else if in.RTTSource != "" {
		m.notes = append(m.notes, "inter-DC latency from "+in.RTTSource)
	}
	rep.Notes = m.notes
	if rep.Findings == nil {
		rep.Findings = []Finding{}
	}
	return rep, nil
}

// suppressed matches a finding against the ignore list: the rule ID, and
// the subject when the entry names one (a prefix match, so "topic:orders"
// covers "topic:orders (partitions 0-3 of 12)").
func suppressed(c *config.Config, f Finding) (config.Ignore, bool) {
	for _, ig := range c.Ignore {
		if !strings.EqualFold(ig.Rule, f.ID) {
			continue
		}
		if ig.Subject == "" || f.Subject == ig.Subject || strings.HasPrefix(f.Subject, ig.Subject+" ") {
			return ig, true
		}
	}
	return config.Ignore{}, false
}

// rpoZero reports whether no acknowledged record may be lost.
func (m *model) rpoZero() bool { return m.goals.RPO == 0 }

// sevRPO picks a severity by RPO goal.
func (m *model) sevRPO(zero, nonZero Severity) Severity {
	if m.rpoZero() {
		return zero
	}
	return nonZero
}

func ev(name string, value any) Evidence { return Evidence{Name: name, Value: fmt.Sprint(value)} }
