package drill

import (
	"context"
	"net"
	"os/exec"
	"time"
)

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
	// Spec is what rebuilds this backend in another process (a drill's
	// state file, `stretchctl drill recover`, a restarted operator).
	Spec() Spec
}

// Dialer opens a connection, like net.Dialer.DialContext.
type Dialer func(ctx context.Context, network, addr string) (net.Conn, error)

// Placement runs a drill's clients in a DC: in-process libraries dial
// from there, process-based ones (the Java client, the librdkafka helper)
// are started there. The zero Placement is "here".
type Placement struct {
	Dial  Dialer
	Start func(*exec.Cmd) error
}

// Placer is implemented by backends that can run a drill's clients inside
// a DC (the lab: in the DC's network namespace), so that a workload there
// is cut off with it.
type Placer interface {
	// PlaceIn returns the placement of clients in dc.
	PlaceIn(dc string) (Placement, error)
}

// Spec rebuilds a backend; exactly one field is set.
type Spec struct {
	Lab       *LabSpec       `json:"lab,omitempty"`
	ChaosMesh *ChaosMeshSpec `json:"chaosMesh,omitempty"`
	Exec      *ExecSpec      `json:"exec,omitempty"`
}

// Name is the backend a spec describes ("" when it names none or several).
func (s Spec) Name() string {
	n, name := 0, ""
	if s.Lab != nil {
		n, name = n+1, "lab"
	}
	if s.ChaosMesh != nil {
		n, name = n+1, "chaos-mesh"
	}
	if s.Exec != nil {
		n, name = n+1, "exec"
	}
	if n != 1 {
		return ""
	}
	return name
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
	// DrillID labels every object of one drill, for cleanup; the drill
	// sets it to its own id.
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
