package drill

import "time"

// Phase is a step of a drill. A drill records the phase it is in before it
// acts on it, so a process that restarts (the operator after a crash, or
// `stretchctl drill recover`) knows whether a fault may be in place.
type Phase string

// The phases, in the order a drill goes through them.
const (
	// Preflight: reading the cluster, checking it is healthy.
	Preflight Phase = "Preflight"
	// Predicting: the check pipeline predicts the fault's scenario.
	Predicting Phase = "Predicting"
	// Steady: the workload writes before the fault.
	Steady Phase = "Steady"
	// Injecting: the backend is applying the fault.
	Injecting Phase = "Injecting"
	// Holding: the fault is in place for its duration.
	Holding Phase = "Holding"
	// Healing: the backend is removing the fault.
	Healing Phase = "Healing"
	// WaitingISR: the fault is gone; waiting for every replica of the
	// topic to be in sync again.
	WaitingISR Phase = "WaitingISR"
	// ReadingBack: the workload stopped; the topic is read back and
	// reconciled with what was acknowledged.
	ReadingBack Phase = "ReadingBack"
	// Done: the result is complete.
	Done Phase = "Done"
)

// Phases lists the phases in order.
func AllPhases() []Phase {
	return []Phase{Preflight, Predicting, Steady, Injecting, Holding, Healing, WaitingISR, ReadingBack, Done}
}

// Index is the phase's position in AllPhases, -1 for an unknown phase.
func (p Phase) Index() int {
	for i, q := range AllPhases() {
		if q == p {
			return i
		}
	}
	return -1
}

// FaultMayBeInPlace reports whether a drill that stopped in this phase
// may have left its fault behind: from the start of the injection until
// the heal is confirmed.
func (p Phase) FaultMayBeInPlace() bool {
	return p == Injecting || p == Holding || p == Healing
}

// Event is one step of a running drill, for a CLI line, a TUI frame or an
// operator's status. A new phase emits one event; while the workload runs
// an event with the figures so far follows every second.
type Event struct {
	Phase Phase     `json:"phase"`
	At    time.Time `json:"at"`
	Fault Fault     `json:"fault"`
	// Message says in one line what is happening ("inject: kill dc-a via
	// lab"); empty for the periodic figures.
	Message string `json:"message,omitempty"`
	// Figures are the workload's counts so far (zero before it starts).
	Figures Figures `json:"figures"`
}

// Figures are a running workload's counts since it started.
type Figures struct {
	Sent   int64 `json:"sent"`
	Acked  int64 `json:"acked"`
	Failed int64 `json:"failed"`
	// Elapsed since the workload started.
	Elapsed time.Duration `json:"elapsed"`
	// LastAck is how long the latest acknowledged record waited for it;
	// OldestPending how long the oldest unanswered record has waited so
	// far (it grows through an outage while LastAck stands still).
	LastAck       time.Duration `json:"lastAck"`
	OldestPending time.Duration `json:"oldestPending"`
}
