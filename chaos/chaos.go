// Package chaos injects data-center failures through interchangeable
// backends (the local lab, Chaos Mesh on Kubernetes, user commands for
// clusters on VMs) and runs drills: steady state, inject, hold, heal,
// read back, and the observed RTO and RPO next to the goals and the
// prediction.
//
// Every backend can be rebuilt from its Spec, which the drill writes to a
// state file before it injects anything: `stretchctl drill recover` heals
// from that file after the tool itself was killed.
package chaos

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Kind is a kind of fault.
type Kind string

// The faults a drill injects.
const (
	// Kill stops every Kafka process of a DC at once (SIGKILL, pod kill).
	Kill Kind = "kill"
	// Freeze makes them silent while alive (SIGSTOP, pod failure).
	Freeze Kind = "freeze"
	// Isolate cuts every link to and from the DC.
	Isolate Kind = "isolate"
	// Latency adds delay on the DC's links.
	Latency Kind = "latency"
	// Loss drops a share of the packets on the DC's links.
	Loss Kind = "loss"
)

// Kinds lists every kind, in the order help texts show them.
var Kinds = []Kind{Kill, Freeze, Isolate, Latency, Loss}

// ParseKind reads a --fault value.
func ParseKind(s string) (Kind, error) {
	for _, k := range Kinds {
		if string(k) == s {
			return k, nil
		}
	}
	return "", fmt.Errorf("unknown fault %q: want kill, freeze, isolate, latency or loss", s)
}

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

// Backend injects and heals faults. Apply and Recover must be safe to
// call again for a fault already applied or recovered (a recover after a
// crash does not know how far the drill got), and must say in their error
// exactly what is left when they fail.
type Backend interface {
	// Name is "lab", "chaos-mesh" or "exec".
	Name() string
	// Apply injects f.
	Apply(ctx context.Context, f Fault) error
	// Recover removes f and everything Apply made for it.
	Recover(ctx context.Context, f Fault) error
	// Spec is what Restore needs to rebuild this backend in another
	// process.
	Spec() Spec
}

// Spec rebuilds a backend; exactly one field is set.
type Spec struct {
	Lab       *LabSpec       `json:"lab,omitempty"`
	ChaosMesh *ChaosMeshSpec `json:"chaosMesh,omitempty"`
	Exec      *ExecSpec      `json:"exec,omitempty"`
}

// LabSpec names a local lab.
type LabSpec struct {
	Dir string `json:"dir"`
}

// ChaosMeshSpec says where Chaos Mesh objects go and which pods they
// select.
type ChaosMeshSpec struct {
	// Kubeconfig file; empty means in-cluster config or $KUBECONFIG.
	Kubeconfig string `json:"kubeconfig,omitempty"`
	// Namespace the Chaos Mesh objects are created in.
	Namespace string `json:"namespace"`
	// TargetNamespaces hold the Kafka pods (default: Namespace).
	TargetNamespaces []string `json:"targetNamespaces,omitempty"`
	// ZoneLabel is the pod label holding the DC (default
	// topology.kubernetes.io/zone).
	ZoneLabel string `json:"zoneLabel,omitempty"`
	// PodLabels further select the Kafka pods (e.g. app=kafka).
	PodLabels map[string]string `json:"podLabels,omitempty"`
	// DrillID labels every object of one drill, for cleanup.
	DrillID string `json:"drillID"`
}

// ExecSpec holds user commands per fault kind, run with sh -c. In each,
// {dc}, {peer}, {delay} (e.g. 50ms), {delay_ms}, {loss} (percent) and
// {kind} are replaced; the same values are in the environment as
// STRETCHCTL_DC, STRETCHCTL_PEER, STRETCHCTL_DELAY_MS, STRETCHCTL_LOSS and
// STRETCHCTL_FAULT.
type ExecSpec struct {
	Inject map[Kind]string `json:"inject"`
	Heal   map[Kind]string `json:"heal"`
	// Timeout bounds every command (default 2m).
	Timeout time.Duration `json:"timeout,omitempty"`
}

// restorers are filled by the backends' files.
var restorers = map[string]func(Spec) (Backend, error){}

// Restore rebuilds the backend a Spec describes.
func Restore(s Spec) (Backend, error) {
	var name string
	n := 0
	if s.Lab != nil {
		name, n = "lab", n+1
	}
	if s.ChaosMesh != nil {
		name, n = "chaos-mesh", n+1
	}
	if s.Exec != nil {
		name, n = "exec", n+1
	}
	if n != 1 {
		return nil, fmt.Errorf("a backend spec names %d backends, want exactly one", n)
	}
	r, ok := restorers[name]
	if !ok {
		return nil, fmt.Errorf("backend %s is not built into this stretchctl", name)
	}
	return r(s)
}
