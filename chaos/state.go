package chaos

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// DefaultStateDir holds the state files of drills in progress.
func DefaultStateDir() string {
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "stretchctl", "drills")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(os.TempDir(), "stretchctl-drills")
	}
	return filepath.Join(home, ".local", "state", "stretchctl", "drills")
}

// State is what a drill records before it injects anything: enough for
// another process to heal (`stretchctl drill recover`).
type State struct {
	ID        string    `json:"id"`
	PID       int       `json:"pid"`
	Started   time.Time `json:"started"`
	ClusterID string    `json:"clusterID,omitempty"`
	Backend   Spec      `json:"backend"`
	Fault     Fault     `json:"fault"`
	// Applied is set once the fault's injection was started.
	Applied bool `json:"applied"`
}

// path of a state file.
func statePath(dir, id string) string { return filepath.Join(dir, id+".json") }

// Save writes the state atomically.
func (s *State) Save(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("drill state: %w", err)
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	tmp := statePath(dir, s.ID) + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return fmt.Errorf("drill state: %w", err)
	}
	if err := os.Rename(tmp, statePath(dir, s.ID)); err != nil {
		return fmt.Errorf("drill state: %w", err)
	}
	return nil
}

// Remove deletes the state file once the fault is healed.
func (s *State) Remove(dir string) error {
	err := os.Remove(statePath(dir, s.ID))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

// LoadStates reads every state file of dir, oldest first.
func LoadStates(dir string) ([]*State, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []*State
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		p := filepath.Join(dir, e.Name())
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		var s State
		if err := json.Unmarshal(b, &s); err != nil {
			return nil, fmt.Errorf("%s: not a drill state file: %w", p, err)
		}
		out = append(out, &s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Started.Before(out[j].Started) })
	return out, nil
}

// Recovered is the outcome of recovering one drill.
type Recovered struct {
	State *State
	Err   error // nil: healed and the state file removed
}

// RecoverAll heals every drill recorded in dir: it rebuilds each backend
// from its spec and recovers the fault (also when the drill died before
// or during injection: recovering a fault that is not there is harmless).
// A drill whose process is still alive is left alone unless force.
func RecoverAll(ctx context.Context, dir string, force bool) ([]Recovered, error) {
	states, err := LoadStates(dir)
	if err != nil {
		return nil, err
	}
	var out []Recovered
	for _, s := range states {
		if !force && s.PID != os.Getpid() && processAlive(s.PID) {
			out = append(out, Recovered{State: s, Err: fmt.Errorf("drill %s is still running (pid %d): stop it (Ctrl-C heals) or use --force", s.ID, s.PID)})
			continue
		}
		b, err := Restore(s.Backend)
		if err == nil {
			err = b.Recover(ctx, s.Fault)
		}
		if err == nil {
			err = s.Remove(dir)
		}
		out = append(out, Recovered{State: s, Err: err})
	}
	return out, nil
}
