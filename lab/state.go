package lab

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"

	"github.com/stretchctl/stretchctl/lab/wan"
)

// FaultKind is a kind of injected failure.
type FaultKind string

// The faults the lab can inject.
const (
	FaultKill    FaultKind = "kill"    // SIGKILL every Kafka process of a DC
	FaultFreeze  FaultKind = "freeze"  // SIGSTOP them: alive but silent, like a hung host
	FaultIsolate FaultKind = "isolate" // cut every link to and from a DC
	// FaultLose takes a DC away silently: its links are cut first, then
	// its processes killed, so no connection reset escapes. It is
	// recorded as an isolate and a kill of the DC.
	FaultLose    FaultKind = "lose"
	FaultLatency FaultKind = "latency" // change a link's delay
	FaultLoss    FaultKind = "loss"    // drop a percentage of a link's packets
	FaultBlock   FaultKind = "block"   // cut a link
)

// Fault is one active fault.
type Fault struct {
	Kind FaultKind `json:"kind"`
	// DC is set for kill, freeze and isolate.
	DC string `json:"dc,omitempty"`
	// Link is set for latency, loss and block.
	Link  LinkRule  `json:"link,omitzero"`
	Since time.Time `json:"since"`
}

// String describes the fault in command syntax.
func (f Fault) String() string {
	if f.DC != "" {
		return string(f.Kind) + " " + f.DC
	}
	switch f.Kind {
	case FaultLatency:
		d := f.Link.Delay
		if f.Link.Both {
			d *= 2
		}
		return fmt.Sprintf("latency %s=%v", f.Link.pair(), d)
	case FaultLoss:
		return fmt.Sprintf("loss %s=%g%%", f.Link.pair(), f.Link.Loss)
	default:
		return fmt.Sprintf("%s %s", f.Kind, f.Link.pair())
	}
}

// touches reports whether healing dc removes this fault.
func (f Fault) touches(dc string) bool {
	if f.DC != "" {
		return f.DC == dc
	}
	return f.Link.Touches(dc)
}

// Network is how DCs are separated.
type Network string

// Network modes.
const (
	// NetworkNamespaces gives every DC its own network namespace behind the
	// WAN router: real latency, loss and isolation.
	NetworkNamespaces Network = "netns"
	// NetworkLoopback puts every node on its own loopback address, for
	// machines without root: process faults only.
	NetworkLoopback Network = "loopback"
)

// State is everything the lab knows about itself, kept in state.json so
// that any later command, even after a crash, can find and remove it.
type State struct {
	Dir          string   `json:"dir"`
	Slot         int      `json:"slot"`
	Network      Network  `json:"network"`
	Topology     Topology `json:"topology"`
	BrokersPerDC int      `json:"brokersPerDC"`
	KafkaVersion string   `json:"kafkaVersion"`
	// Security is how the listeners authenticate (plaintext when empty:
	// state files written before it existed).
	Security  Security   `json:"security,omitempty"`
	ClusterID string     `json:"clusterID"`
	Layout    Layout     `json:"layout"`
	Sites     []wan.Site `json:"sites,omitempty"`
	// Baseline holds the links as configured at `lab up`; faults apply on top.
	Baseline  []wan.Link `json:"baseline,omitempty"`
	Faults    []Fault    `json:"faults,omitempty"`
	RouterPid int        `json:"routerPid,omitempty"`
	Created   time.Time  `json:"created"`
	// Ready is set once every broker registered and the quorum had a leader.
	Ready bool `json:"ready"`
}

const stateFile = "state.json"

// loadState reads dir's state; fs.ErrNotExist when there is no lab.
func loadState(dir string) (*State, error) {
	b, err := os.ReadFile(filepath.Join(dir, stateFile))
	if err != nil {
		return nil, err
	}
	var st State
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, stateFile), err)
	}
	return &st, nil
}

// save writes the state atomically: a crash leaves the old or the new file.
func (st *State) save() error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(st.Dir, stateFile+".tmp")
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(st.Dir, stateFile))
}

// node returns a pointer to the node with the given id.
func (st *State) node(id int32) *Node {
	for i := range st.Layout.Nodes {
		if st.Layout.Nodes[i].ID == id {
			return &st.Layout.Nodes[i]
		}
	}
	return nil
}

// lock takes an exclusive lock on the lab directory so that two commands
// never change one lab at the same time. The lock ends with the process.
func lock(dir string) (release func(), err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("lab %s is busy: another stretchctl lab command is running on it", dir)
		}
		return nil, err
	}
	return func() { f.Close() }, nil
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return !errors.Is(err, fs.ErrNotExist)
}
