package rules

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Severity ranks a finding. Critical: a goal is violated by the loss of a
// single DC. High: a goal is very likely violated or exposed silently.
// Medium: degraded, depends on runtime state. Low and Info: cost, latency,
// hygiene.
type Severity int

// Severities, lowest first.
const (
	Info Severity = iota
	Low
	Medium
	High
	Critical
)

var severityNames = []string{"info", "low", "medium", "high", "critical"}

func (s Severity) String() string {
	if s < Info || s > Critical {
		return fmt.Sprintf("severity(%d)", int(s))
	}
	return severityNames[s]
}

// ParseSeverity reads a severity name (case-insensitive).
func ParseSeverity(name string) (Severity, error) {
	for i, n := range severityNames {
		if strings.EqualFold(n, name) {
			return Severity(i), nil
		}
	}
	return 0, fmt.Errorf("unknown severity %q (want critical, high, medium, low or info)", name)
}

// MarshalText writes the severity's name.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a severity's name.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	*s = v
	return err
}

// Location points at the line of a file a finding is about (a client
// properties file, or stretch.yaml).
type Location struct {
	File string `json:"file"`
	Line int    `json:"line,omitempty"`
}

// Evidence is one number or value behind a finding.
type Evidence struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Finding is one rule's verdict on one subject.
type Finding struct {
	ID       string   `json:"id"`
	Severity Severity `json:"severity"`
	// Subject names what the finding is about: "topic:orders (partitions
	// 0-11)", "broker:3", "quorum", "cluster", "file:producer.properties".
	Subject     string     `json:"subject"`
	Message     string     `json:"message"`
	Remediation string     `json:"remediation"`
	Evidence    []Evidence `json:"evidence,omitempty"`
	Location    *Location  `json:"location,omitempty"`
	// Unknown marks a rule that lacked the data to decide.
	Unknown bool `json:"unknown,omitempty"`
	// Suppressed holds the reason from the config's ignore list.
	Suppressed string `json:"suppressed,omitempty"`
}

// RTOTerm is one part of a predicted RTO.
type RTOTerm struct {
	Name    string  `json:"name"`
	Seconds float64 `json:"seconds"`
	Note    string  `json:"note,omitempty"`
}

// TopicImpact is what a scenario does to one topic: partition counts and
// the topic's own predicted RTO (a topic led elsewhere recovers sooner
// than one led in the lost DC). A scenario lists every topic with a
// replica in the DC.
type TopicImpact struct {
	Topic             string `json:"topic"`
	Partitions        int    `json:"partitions"`
	WriteUnavailable  int    `json:"writeUnavailable"`
	ReadUnavailable   int    `json:"readUnavailable"`
	AckedLossPossible int    `json:"ackedLossPossible"`
	// PredictedRTOSeconds is null when writes to some partition of the
	// topic do not resume on their own. RTOBreakdown is how it adds up,
	// empty when it is the scenario's own.
	PredictedRTOSeconds *float64  `json:"predictedRTOSeconds"`
	RTOBreakdown        []RTOTerm `json:"rtoBreakdown,omitempty"`
}

// ScenarioKind is how a DC fails.
type ScenarioKind string

// Scenario kinds: how a DC fails, which decides how clients notice.
const (
	// Crash: the DC's Kafka processes die while their hosts stay up:
	// connections are refused at once.
	Crash ScenarioKind = "crash"
	// Lose: the DC is gone (power, network, fire): silent, every wait on
	// it ends by a timeout; its data is lost.
	Lose ScenarioKind = "lose"
	// Isolate: the DC is cut off but keeps running on its own: a split.
	Isolate ScenarioKind = "isolate"
)

// Scenario is the prediction for one DC failure.
type Scenario struct {
	Name string       `json:"name"` // e.g. "lose dc-a"
	Kind ScenarioKind `json:"kind"`
	DC   string       `json:"dc"`
	// Partition counts over all topics.
	WriteUnavailable  int  `json:"writeUnavailable"`
	ReadUnavailable   int  `json:"readUnavailable"`
	AckedLossPossible int  `json:"ackedLossPossible"`
	QuorumSurvives    bool `json:"quorumSurvives"`
	// PredictedRTOSeconds is null when writes do not resume on their own
	// (quorum lost or partitions unwritable until the DC returns).
	PredictedRTOSeconds *float64  `json:"predictedRTOSeconds"`
	RTOBreakdown        []RTOTerm `json:"rtoBreakdown"`
	GoalsMet            bool      `json:"goalsMet"`
	// Why lists, in plain words, what decides the outcome.
	Why    []string      `json:"why,omitempty"`
	Topics []TopicImpact `json:"topics,omitempty"`
	// Groups are the consumer groups of the client files that stop
	// reading in the scenario, each with how long (even when the
	// producers' RTO is longer).
	Groups []GroupImpact `json:"groups,omitempty"`
}

// GroupImpact is how long a consumer group of a client file stops in a
// scenario, and why.
type GroupImpact struct {
	File string `json:"file"`
	// Seconds the group stops: its coordinator's move, its lost members'
	// session expiry.
	Seconds float64 `json:"seconds"`
	// CoordinatorMoves: the group's coordinator is lost or cut off.
	// MembersLost: some of its members are in the DC. Rebalance: the
	// group rebalances (its lost members expire, or its library rejoins
	// when the coordinator fails).
	CoordinatorMoves bool   `json:"coordinatorMoves"`
	MembersLost      bool   `json:"membersLost"`
	Rebalance        bool   `json:"rebalance"`
	Note             string `json:"note"`
}

// Verdicts of a report.
const (
	VerdictPass = "pass" // goals met
	VerdictFail = "fail" // goals violated
)

// Report is the result of a check.
type Report struct {
	Verdict string `json:"verdict"`
	// FailOn is the lowest severity that fails the verdict.
	FailOn    Severity   `json:"failOn"`
	Goals     Goals      `json:"goals"`
	Cluster   string     `json:"cluster,omitempty"`
	TakenAt   time.Time  `json:"takenAt"`
	Findings  []Finding  `json:"findings"`
	Scenarios []Scenario `json:"scenarios"`
	// Counts of unsuppressed findings per severity name.
	Counts map[string]int `json:"counts"`
	// Notes say what the evaluation could not see (partial snapshot,
	// latency not measured, ...).
	Notes []string `json:"notes,omitempty"`
}

// Goals are the goals as the report states them.
type Goals struct {
	RPO        int64   `json:"rpo"`
	RTOSeconds float64 `json:"rtoSeconds"`
}

// Active returns the findings that are not suppressed.
func (r *Report) Active() []Finding {
	var out []Finding
	for _, f := range r.Findings {
		if f.Suppressed == "" {
			out = append(out, f)
		}
	}
	return out
}

// JSON renders the report as indented JSON.
func (r *Report) JSON() ([]byte, error) { return json.MarshalIndent(r, "", "  ") }
