package drill

import "time"

// Result is the outcome of one drill: what was injected, what the ledger
// workload observed, the goals, the prediction for the same scenario and
// whether they agree, and whether everything was healed. Its JSON is a
// contract (../shared/design/PRODUCT.md): observed.rtoSeconds,
// observed.ackedLost, predicted, goalsMet and healed are relied on.
type Result struct {
	// ID identifies the drill: its state file, its Chaos Mesh objects.
	ID string `json:"id,omitempty"`
	// Tool and Version of stretchctl.
	Tool    string `json:"tool"`
	Version string `json:"version"`
	// ClusterID is the Kafka cluster id the drill ran against.
	ClusterID string `json:"clusterID"`
	Config    string `json:"config,omitempty"`
	Backend   string `json:"backend"`
	Fault     Fault  `json:"fault"`
	// Scenario is the check scenario the fault corresponds to ("lose
	// dc-a", "isolate dc-a"), empty for latency and loss.
	Scenario string `json:"scenario,omitempty"`

	Workload Workload `json:"workload"`
	Phases   Phases   `json:"phases"`
	Observed Observed `json:"observed"`
	// Timeline has one entry per second from the start of the workload.
	Timeline []Second `json:"timeline"`

	Goals Goals `json:"goals"`
	// GoalsMet: observed RPO and RTO within the goals (and healed).
	GoalsMet bool `json:"goalsMet"`
	// Predicted is check's prediction for Scenario on the drill's topic,
	// nil when the fault has no scenario.
	Predicted  *Prediction `json:"predicted"`
	Comparison Comparison  `json:"comparison"`

	// Healed: every fault was removed and the cluster came back (ISR
	// full). Leftover says what was not healed, when Healed is false.
	Healed   bool     `json:"healed"`
	Leftover []string `json:"leftover,omitempty"`
	Verdict  Verdict  `json:"verdict"`
	// Phase is the last phase the drill reached (Done when complete).
	Phase Phase    `json:"phase,omitempty"`
	Notes []string `json:"notes,omitempty"`
}

// Verdict is a drill's outcome against the goals.
type Verdict string

// The verdicts.
const (
	// Pass: goals met, and everything was healed.
	Pass Verdict = "pass"
	// Fail: a goal was missed (or the fault could not be healed).
	Fail Verdict = "fail"
	// Error: the drill could not complete (interrupted, the injection
	// failed, the read-back failed): see the notes.
	Error Verdict = "error"
	// Inconclusive: the drill was resumed by another process after its
	// own died; the fault was healed but the workload's ledger died with
	// the first process, so nothing was observed.
	Inconclusive Verdict = "inconclusive"
)

// Exit codes of a drill (the CI contract, PRODUCT.md).
const (
	ExitGoalsMet    = 0
	ExitGoalsMissed = 1
	ExitNotRun      = 2 // could not run or complete: usage, preflight, connection, interrupted
	ExitNotHealed   = 3
)

// ExitCode maps the result to the drill's exit code: 3 when a fault was
// left in place, 2 when the drill did not complete, 1 when a goal was
// missed, 0 when every goal was met.
func (r *Result) ExitCode() int {
	switch {
	case r == nil:
		return ExitNotRun
	case !r.Healed:
		return ExitNotHealed
	case r.Verdict == Error || r.Verdict == Inconclusive:
		return ExitNotRun
	case !r.GoalsMet:
		return ExitGoalsMissed
	}
	return ExitGoalsMet
}

// Workload describes the ledger workload.
type Workload struct {
	Topic      string `json:"topic"`
	Partitions int    `json:"partitions"`
	// ProducerDC is where the producers ran ("" = the operator's site).
	ProducerDC string `json:"producerDC,omitempty"`
	Producers  int    `json:"producers"`
	// RatePerSecond is the target send rate over all producers.
	RatePerSecond int `json:"ratePerSecond"`
	// Settings are the producer settings that decide the outcome, with
	// where each came from (the user's file, the library default, a flag).
	Settings []Setting `json:"settings"`
	// Source is the producer file, or "flags" / "defaults".
	Source string `json:"source"`
	// Library is the client library the producers ran on (java,
	// librdkafka, franz-go, sarama) and LibraryVersion the version that
	// ran; VersionNote says when it is not the one asked for, or that none
	// was.
	Library        string `json:"library,omitempty"`
	LibraryVersion string `json:"libraryVersion,omitempty"`
	VersionNote    string `json:"versionNote,omitempty"`
	// Applied are the settings the library was given (with the field
	// they map to, for the Go libraries); Rejected those it was not, each
	// with why: nothing is dropped silently.
	Applied  []string `json:"applied,omitempty"`
	Rejected []string `json:"rejected,omitempty"`
	// Consumers is the ledger's consumer group (nil: the drill read
	// nothing but the read-back).
	Consumers *ConsumerWorkload `json:"consumers,omitempty"`
	// Transactions is the transactional ledger (nil: no transactions).
	Transactions *TxnWorkload `json:"transactions,omitempty"`
}

// TxnWorkload describes the transactional ledger: one transactional.id
// per producer, each committing about every 100 ms.
type TxnWorkload struct {
	// IDs are the producers' transactional ids. StandsFor is the
	// producer file's transactional.id, never used: the ids are chosen to
	// hash to its __transaction_state partition, so that they have its
	// coordinator.
	IDs       []string `json:"ids"`
	StandsFor string   `json:"standsFor,omitempty"`
	// CoordinatorPartition is the ids' __transaction_state partition and
	// CoordinatorDC the DC of its leader (the transaction coordinator)
	// before the fault.
	CoordinatorPartition int    `json:"coordinatorPartition"`
	CoordinatorDC        string `json:"coordinatorDC,omitempty"`
}

// ConsumerWorkload describes the drill's consumer group.
type ConsumerWorkload struct {
	// Group is the drill's own group id. StandsFor is the consumer file's
	// group.id, which the drill never joins: Group is chosen to hash to
	// the same __consumer_offsets partition, so that it has the same
	// coordinator.
	Group     string `json:"group"`
	StandsFor string `json:"standsFor,omitempty"`
	// CoordinatorPartition is the group's __consumer_offsets partition
	// and CoordinatorDC the DC of its leader (the coordinator) before
	// the fault.
	CoordinatorPartition int    `json:"coordinatorPartition"`
	CoordinatorDC        string `json:"coordinatorDC,omitempty"`
	// Members are the members per DC ("" = the operator's site).
	Members []MembersIn `json:"members"`
	// Commits is how the members commit: "auto every 5000 ms" or "sync
	// after each poll".
	Commits string `json:"commits"`
	// Source is the consumer file, or "defaults".
	Source         string    `json:"source"`
	Settings       []Setting `json:"settings"`
	Library        string    `json:"library"`
	LibraryVersion string    `json:"libraryVersion,omitempty"`
	Applied        []string  `json:"applied,omitempty"`
	Rejected       []string  `json:"rejected,omitempty"`
}

// MembersIn is how many members of the group ran in a DC.
type MembersIn struct {
	DC      string `json:"dc,omitempty"`
	Members int    `json:"members"`
}

// Setting is one producer setting and its origin.
type Setting struct {
	Name   string `json:"name"`
	Value  string `json:"value"`
	Origin string `json:"origin"`
}

// Phases are the moments of the drill (zero when not reached).
type Phases struct {
	Started  time.Time `json:"started"`
	Injected time.Time `json:"injected"`
	// Healed is when the heal started (the backend may take a while to
	// bring the DC back).
	Healed time.Time `json:"healed"`
	// Recovered is when every partition of the topic had its full ISR
	// again after healing.
	Recovered time.Time `json:"recovered"`
	Stopped   time.Time `json:"stopped"` // the workload stopped
	Finished  time.Time `json:"finished"`
}

// Observed is what the ledger saw.
type Observed struct {
	// RTOSeconds is the longest time, after injection, during which no
	// write to some partition succeeded; null when writes to some
	// partition did not resume before the fault was healed (unbounded
	// while the fault lasts).
	RTOSeconds *float64 `json:"rtoSeconds"`
	// ResolutionMs is the measurement resolution of RTOSeconds: the
	// median gap between two successes of one partition in steady state
	// (an outage's start and end are each known to about that).
	ResolutionMs float64 `json:"resolutionMs"`
	// MaxLatencyMs is the longest any record waited for its
	// acknowledgement (what a producer's own "max latency" reports: it
	// can exceed the RTO, by a record that waited behind others).
	MaxLatencyMs float64 `json:"maxLatencyMs"`
	// Partitions has the detail per partition.
	Partitions []PartitionObservation `json:"partitions"`

	Sent   int64 `json:"sent"`
	Acked  int64 `json:"acked"`
	Failed int64 `json:"failed"` // sends that ended in an error
	// AckedLost: acknowledged records not found when reading back (the
	// observed RPO, in records). Lost lists them (at most 1000).
	AckedLost int64         `json:"ackedLost"`
	Lost      []LedgerEntry `json:"lost,omitempty"`
	// Duplicates: records found more than once.
	Duplicates int64 `json:"duplicates"`
	// UnackedPresent: records whose send failed (or never completed)
	// but which are in the log: not a loss, a client-visible ambiguity.
	UnackedPresent int64 `json:"unackedPresent"`
	// ReadBack says how the log was read (offsets, isolation level).
	ReadBack string `json:"readBack"`
	// Read is what the consumer group went through (nil: no group ran).
	Read *ReadObserved `json:"read,omitempty"`
	// Transactions is what the transactional ledger went through (nil:
	// no transactions).
	Transactions *TxnObserved `json:"transactions,omitempty"`
}

// TxnObserved is what the transactional ledger went through. A record is
// acknowledged when its transaction commits (Observed.Acked), failed when
// it is aborted.
type TxnObserved struct {
	// AbortedRecords are the records of aborted transactions, and
	// FencedRecords those of a producer that was fenced (and replaced).
	AbortedRecords int64 `json:"abortedRecords"`
	FencedRecords  int64 `json:"fencedRecords"`
	// AbortedRead are records of aborted or fenced transactions that the
	// read_committed group was handed: must be 0.
	AbortedRead int64 `json:"abortedRead"`
	// ExactlyOnce held: no aborted record read, every committed record
	// read, none read twice (nil when no group read the ledger).
	ExactlyOnce *bool `json:"exactlyOnce"`
}

// ReadObserved is what the drill's consumer group went through.
type ReadObserved struct {
	// RTOSeconds is the read RTO: the longest time, ending after the
	// injection, during which a partition had acknowledged records
	// waiting and the group made no progress on it (no record newer than
	// those it had read); null when reading some partition resumed only
	// after the heal.
	RTOSeconds *float64 `json:"rtoSeconds"`
	// ResolutionMs: the median gap between two progresses of one
	// partition in steady state.
	ResolutionMs float64                 `json:"resolutionMs"`
	Partitions   []ReadPartitionObserved `json:"partitions"`
	// Delivered counts every record handed to a member; Redelivered those
	// handed over again after another member (or the same one, before a
	// rebalance) had them: the at-least-once cost of the failover.
	// RedeliveredFromCommits is the same, counted independently: at every
	// assignment, the records read beyond the group's committed offset.
	Delivered              int64 `json:"delivered"`
	Redelivered            int64 `json:"redelivered"`
	RedeliveredFromCommits int64 `json:"redeliveredFromCommits"`
	// Skipped: acknowledged records in the log, behind the group's final
	// position, never handed to any member. Must be 0 unless the group's
	// offsets were lost and auto.offset.reset=latest skipped them
	// (Resets says so).
	Skipped     int64         `json:"skipped"`
	SkippedList []LedgerEntry `json:"skippedList,omitempty"`
	// Unread: acknowledged records the group had not reached when it was
	// stopped (it did not catch up in time).
	Unread int64 `json:"unread"`
	// Resets names each jump of a partition past its committed offset.
	Resets []string `json:"resets,omitempty"`
	// Rebalances after the group was first stable, each with how long it
	// took.
	Rebalances []Rebalance `json:"rebalances"`
	// MembersKilled died with their DC at the injection.
	MembersKilled int   `json:"membersKilled"`
	Commits       int64 `json:"commits"`
	// CommitPauseSeconds is the longest time, ending after the injection,
	// without a commit the broker accepted (from any member): what a
	// coordinator's move costs the group.
	CommitPauseSeconds float64 `json:"commitPauseSeconds"`
	// End-to-end latency (send → handed to a member) of every first
	// delivery: its 99th percentile and maximum through the drill.
	P99EndToEndMs float64 `json:"p99EndToEndMs"`
	MaxEndToEndMs float64 `json:"maxEndToEndMs"`
	// Errors are the members' errors with their counts.
	Errors []string `json:"errors,omitempty"`
}

// ReadPartitionObserved is one partition's read availability.
type ReadPartitionObserved struct {
	Partition int32 `json:"partition"`
	// LongestStallMs is the partition's longest stall ending after the
	// injection; null when reading did not resume before the heal.
	LongestStallMs *float64 `json:"longestStallMs"`
	Redelivered    int64    `json:"redelivered"`
	Skipped        int64    `json:"skipped"`
}

// Rebalance is one rebalance of the group: from the first member's
// reaction (a revocation, a loss, an assignment of the new generation) to
// the last member's assignment in it, in seconds since the injection.
type Rebalance struct {
	Generation     int32   `json:"generation"`
	StartedSeconds float64 `json:"startedSeconds"`
	StableSeconds  float64 `json:"stableSeconds"`
	Members        int     `json:"members"`
}

// PartitionObservation is one partition's availability.
type PartitionObservation struct {
	Partition int32 `json:"partition"`
	// LongestGapMs is the longest interval without a successful write
	// that overlaps the fault; null when writes did not resume before
	// the heal.
	LongestGapMs *float64 `json:"longestGapMs"`
	// FirstSuccessMs is the time from injection to the acknowledgement
	// of the first write sent after injection; null when none was
	// acknowledged before the heal.
	FirstSuccessMs *float64 `json:"firstSuccessMs"`
	Acked          int64    `json:"acked"`
	Failed         int64    `json:"failed"`
	AckedLost      int64    `json:"ackedLost"`
}

// LedgerEntry identifies one record of the ledger.
type LedgerEntry struct {
	Producer  int       `json:"producer"`
	Partition int32     `json:"partition"`
	Seq       int64     `json:"seq"`
	Offset    int64     `json:"offset"` // as acknowledged
	Sent      time.Time `json:"sent"`
	Acked     time.Time `json:"acked"`
}

// Second is one second of the timeline.
type Second struct {
	// T is seconds since Phases.Started.
	T         int     `json:"t"`
	Successes int64   `json:"successes"`
	Errors    int64   `json:"errors"`
	P50Ms     float64 `json:"p50Ms"`
	P99Ms     float64 `json:"p99Ms"`
	// Read counts the records the consumer group read for the first time
	// in that second (0 without a group).
	Read int64 `json:"read,omitempty"`
}

// Goals are the team's goals the drill is judged against.
type Goals struct {
	RPO        int64   `json:"rpo"`
	RTOSeconds float64 `json:"rtoSeconds"`
	// ReadRTOSeconds is the goal for the read RTO (goals.readRTO; the
	// RTO goal when not set); 0 when no group ran.
	ReadRTOSeconds float64 `json:"readRtoSeconds,omitempty"`
}

// Prediction is check's prediction for the drill's scenario, restricted
// to the drill's topic.
type Prediction struct {
	Scenario string `json:"scenario"`
	// Error says why the prediction could not be made; the other fields
	// are then empty. A failed prediction is reported, never dropped.
	Error string `json:"error,omitempty"`
	// Partition counts of the drill's topic.
	WriteUnavailable  int  `json:"writeUnavailable"`
	ReadUnavailable   int  `json:"readUnavailable"`
	AckedLossPossible int  `json:"ackedLossPossible"`
	QuorumSurvives    bool `json:"quorumSurvives"`
	// RTOSeconds is the predicted RTO of the drill's topic; null means
	// unbounded (writes stop until the DC returns). RTOBreakdown is how
	// it adds up, the inter-DC round trip included.
	RTOSeconds   *float64  `json:"rtoSeconds"`
	RTOBreakdown []RTOTerm `json:"rtoBreakdown,omitempty"`
	GoalsMet     bool      `json:"goalsMet"`
	Why          []string  `json:"why,omitempty"`
	// Notes say what the prediction could not see (latency not measured,
	// a broker's configs unread).
	Notes []string `json:"notes,omitempty"`
	// Read is the consumer group's prediction (nil: no group ran).
	Read *ReadPrediction `json:"read,omitempty"`
}

// ReadPrediction is what check predicts for the drill's consumer group.
type ReadPrediction struct {
	// RTOSeconds is the predicted read RTO at worst (null: reads stop
	// until the DC returns) and RTOBreakdown how it adds up;
	// MinRTOSeconds the read RTO at best. They differ when the worst
	// depends on what was in flight: records a crashed leader had sent
	// but the consumer had not received are read again from the new
	// leader after the failover, and a consumer reads only what the
	// producers managed to write.
	RTOSeconds    *float64  `json:"rtoSeconds"`
	MinRTOSeconds *float64  `json:"minRtoSeconds,omitempty"`
	RTOBreakdown  []RTOTerm `json:"rtoBreakdown,omitempty"`
	// Rebalance: members are lost with the DC, so the group rebalances
	// after their session timeout. CoordinatorMoves: the group's
	// coordinator is lost or cut off and moves (without a rebalance:
	// the new coordinator re-arms the members' timers when it loads the
	// group).
	Rebalance        bool     `json:"rebalance"`
	CoordinatorMoves bool     `json:"coordinatorMoves"`
	Why              []string `json:"why,omitempty"`
}

// RTOTerm is one part of a predicted RTO.
type RTOTerm struct {
	Name    string  `json:"name"`
	Seconds float64 `json:"seconds"`
	Note    string  `json:"note,omitempty"`
}

// Comparison says whether observation and prediction agree.
type Comparison struct {
	// Status says whether there was something to compare and how it came
	// out.
	Status Agreement `json:"status"`
	// Agree is false only when a compared point disagrees; a
	// disagreement is a finding worth reporting.
	Agree  bool     `json:"agree"`
	Points []Point  `json:"points"`
	Notes  []string `json:"notes,omitempty"`
}

// Agreement is how a comparison came out.
type Agreement string

// The agreements.
const (
	// Agrees: every compared point agrees.
	Agrees Agreement = "agree"
	// Disagrees: at least one point disagrees.
	Disagrees Agreement = "disagree"
	// NoScenario: the fault has no check scenario (latency, loss); its
	// points are informative.
	NoScenario Agreement = "no-scenario"
	// NoPrediction: the prediction failed; nothing could be compared.
	NoPrediction Agreement = "no-prediction"
	// NotObserved: the drill did not complete; nothing was observed.
	NotObserved Agreement = "not-observed"
)

// Point is one compared quantity.
type Point struct {
	What      string `json:"what"`
	Predicted string `json:"predicted"`
	Observed  string `json:"observed"`
	Agree     bool   `json:"agree"`
}
