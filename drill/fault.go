// Package drill holds the nouns of a drill: the faults and their kinds,
// the phases a drill goes through and the events it emits, its verdicts
// and its result. They are the JSON contract of `stretchctl drill` and
// what the TUI draws and the operator writes to a FailoverDrill's status.
// It also declares what a fault backend does (Backend) and how a backend
// is rebuilt in another process (Spec).
//
// It is a leaf: it imports only the standard library, does no I/O and
// holds no logic beyond validating, naming and summarising its own values,
// so that renderers, the TUI and the operator can use it without pulling
// in Kafka, Kubernetes or netlink. Running a drill is package chaos's job.
package drill

import (
	"errors"
	"fmt"
	"time"
)

// Kind is a kind of fault.
type Kind string

// The faults a drill injects. A real DC loss is silent — power or network
// gone, no TCP reset, every wait ends by a timeout — while a crash of the
// Kafka processes on hosts that stay up answers at once (connection
// refused or reset): clients fail over very differently, so the two are
// different faults with different predictions.
const (
	// Crash kills every Kafka process of a DC at once (SIGKILL, pod kill);
	// the hosts answer. "kill" is accepted for it.
	Crash Kind = "crash"
	// Lose takes the DC away silently: its links are cut first, then its
	// processes stopped, so no reset escapes (power or network loss).
	Lose Kind = "lose"
	// Freeze makes its processes silent while alive (SIGSTOP, pod failure).
	Freeze Kind = "freeze"
	// Isolate cuts every link to and from the DC; its processes run on: a
	// split, the side with the controller majority goes on.
	Isolate Kind = "isolate"
	// Latency adds delay on the DC's links.
	Latency Kind = "latency"
	// Loss drops a share of the packets on the DC's links.
	Loss Kind = "loss"
)

// killAlias is the name crash had before DC loss and crash were told
// apart; state files and scripts may still use it.
const killAlias = "kill"

// Kinds lists every kind, in the order help texts show them.
func Kinds() []Kind { return []Kind{Crash, Lose, Freeze, Isolate, Latency, Loss} }

// ParseKind reads a fault kind's name ("kill" is crash).
func ParseKind(s string) (Kind, error) {
	if s == killAlias {
		return Crash, nil
	}
	for _, k := range Kinds() {
		if string(k) == s {
			return k, nil
		}
	}
	return "", fmt.Errorf("unknown fault %q: want crash (kill), lose, freeze, isolate, latency or loss", s)
}

// UnmarshalText reads a kind, "kill" as crash; an unknown name is kept
// for Validate to refuse.
func (k *Kind) UnmarshalText(b []byte) error {
	if p, err := ParseKind(string(b)); err == nil {
		*k = p
	} else {
		*k = Kind(b)
	}
	return nil
}

// Link reports whether the kind degrades links (latency, loss) rather
// than taking a whole DC out.
func (k Kind) Link() bool { return k == Latency || k == Loss }

// Fault is one fault to inject.
type Fault struct {
	Kind Kind `json:"kind"`
	// DC is the data center the fault hits. For latency and loss it is
	// one end of the degraded links.
	DC string `json:"dc"`
	// Peer is the other end of the degraded link for latency and loss;
	// empty means every link of DC.
	Peer string `json:"peer,omitempty"`
	// Delay is the round trip added to the link (latency faults); a
	// backend that sets one-way delays sets half of it each way.
	Delay time.Duration `json:"delay,omitempty"`
	// LossPercent is the share of packets dropped (loss faults), 0-100.
	LossPercent float64 `json:"lossPercent,omitempty"`
	// Duration is how long the drill holds the fault. Backends that can
	// make a fault expire by itself (Chaos Mesh) give it this duration
	// plus Grace, so that it ends even if stretchctl dies.
	Duration time.Duration `json:"duration"`
}

// Grace is added to a fault's duration where a backend makes faults expire
// by themselves: the drill heals first, the expiry is the safety net.
const Grace = 2 * time.Minute

// Validate checks a fault on its own (the DCs are checked against the
// topology by the drill).
func (f Fault) Validate() error {
	if _, err := ParseKind(string(f.Kind)); err != nil {
		return err
	}
	if f.DC == "" {
		return errors.New("the fault needs a DC")
	}
	if f.Peer == f.DC {
		return fmt.Errorf("a link needs two DCs, got %s twice", f.DC)
	}
	switch f.Kind {
	case Latency:
		if f.Delay <= 0 {
			return errors.New("a latency fault needs a positive delay")
		}
	case Loss:
		if f.LossPercent <= 0 || f.LossPercent > 100 {
			return fmt.Errorf("loss %.3g%%: want more than 0 and at most 100", f.LossPercent)
		}
	default:
		if f.Peer != "" || f.Delay != 0 || f.LossPercent != 0 {
			return fmt.Errorf("a %s fault takes only a DC", f.Kind)
		}
	}
	if f.Duration < 0 {
		return errors.New("the fault duration must not be negative")
	}
	return nil
}

// String reads e.g. "kill dc-a", "latency dc-a/dc-b +50ms".
func (f Fault) String() string {
	switch f.Kind {
	case Latency, Loss:
		link := f.DC + "/*"
		if f.Peer != "" {
			link = f.DC + "/" + f.Peer
		}
		if f.Kind == Latency {
			return fmt.Sprintf("latency %s +%v", link, f.Delay)
		}
		return fmt.Sprintf("loss %s %.3g%%", link, f.LossPercent)
	}
	return string(f.Kind) + " " + f.DC
}
