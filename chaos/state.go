package chaos

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/stretchctl/stretchctl/drill"
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

// State is what a drill records from its steady state on, rewritten
// before each later phase: enough for another process to heal it, or to
// resume it (Resume).
type State struct {
	ID        string    `json:"id"`
	PID       int       `json:"pid"`
	Started   time.Time `json:"started"`
	ClusterID string    `json:"clusterID,omitempty"`
	// Config is the stretch.yaml of the drill.
	Config  string      `json:"config,omitempty"`
	Backend drill.Spec  `json:"backend"`
	Fault   drill.Fault `json:"fault"`
	Topic   string      `json:"topic,omitempty"`
	// Phase is the phase the drill entered last; it acts on a phase only
	// after recording it. Empty in files of older versions: then the
	// fault may be in place.
	Phase drill.Phase `json:"phase,omitempty"`
	// Injected is when the injection started (zero before).
	Injected time.Time `json:"injected,omitempty"`
}

// Store records drill states, so that another process can take a drill
// over: files of a directory for the CLI (DirStore), the FailoverDrill's
// status for the operator. Save must be durable when it returns: the
// drill acts on a phase only after recording it.
type Store interface {
	Save(ctx context.Context, s *State) error
	// Remove forgets a drill once nothing is left to heal.
	Remove(ctx context.Context, s *State) error
	// Where says where the states are kept, for messages.
	Where() string
}

// DirStore keeps each drill's state in a JSON file of a directory.
type DirStore struct{ Dir string }

var _ Store = DirStore{}

// Save writes the state file atomically.
func (d DirStore) Save(_ context.Context, s *State) error { return s.Save(d.Dir) }

// Remove deletes the state file.
func (d DirStore) Remove(_ context.Context, s *State) error { return s.Remove(d.Dir) }

// Where is "state file in DIR".
func (d DirStore) Where() string { return "state file in " + d.Dir }

// storeOr is store, or the directory store of dir (DefaultStateDir when
// empty).
func storeOr(store Store, dir string) Store {
	if store != nil {
		return store
	}
	if dir == "" {
		dir = DefaultStateDir()
	}
	return DirStore{dir}
}

// faultMayBeInPlace says whether the drill may have left its fault.
func (s *State) faultMayBeInPlace() bool { return s.Phase == "" || s.Phase.FaultMayBeInPlace() }

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

// Remove deletes the state file once nothing is left to heal.
func (s *State) Remove(dir string) error {
	err := os.Remove(statePath(dir, s.ID))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

// maxStateFile bounds a state file: they are a few kilobytes.
const maxStateFile = 1 << 20

// LoadStates reads every state file of dir, oldest first. A file that
// cannot be read is not skipped silently: the error names each one, and
// the files that could be read are returned beside it.
func LoadStates(dir string) ([]*State, error) {
	good, bad, err := scanStates(dir)
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, b := range bad {
		errs = append(errs, b.Err)
	}
	return good, errors.Join(errs...)
}

// scanStates reads every state file of dir: the drills it could read,
// oldest first, and one Recovered with the error for each file it could
// not.
func scanStates(dir string) ([]*State, []Recovered, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	var good []*State
	var bad []Recovered
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		p := filepath.Join(dir, e.Name())
		s, err := readState(p)
		if err != nil {
			bad = append(bad, Recovered{File: p, Err: err})
			continue
		}
		good = append(good, s)
	}
	sort.Slice(good, func(i, j int) bool { return good[i].Started.Before(good[j].Started) })
	return good, bad, nil
}

// readState reads one state file: a regular file of bounded size, with a
// drill id that names the file and a valid fault.
func readState(p string) (*State, error) {
	fi, err := os.Lstat(p)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", p)
	}
	if fi.Size() > maxStateFile {
		return nil, fmt.Errorf("%s: %d bytes, more than a drill state file holds (%d)", p, fi.Size(), maxStateFile)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	var s State
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%s: not a drill state file: %w", p, err)
	}
	if s.ID == "" || statePath(filepath.Dir(p), s.ID) != p {
		return nil, fmt.Errorf("%s: the drill id %q does not name this file", p, s.ID)
	}
	if err := s.Fault.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return &s, nil
}

// ResumeOptions say how another process takes over a drill.
type ResumeOptions struct {
	// StateDir holds the drill's state file (DefaultStateDir when empty);
	// Store, when set, is used instead.
	StateDir string
	Store    Store
	// Continue holds a fault still within its duration until the planned
	// end before healing it (an operator resuming its drill); false heals
	// at once (`drill recover`).
	Continue bool
	// Kafka, when set, is waited on for the topic's ISR after the heal.
	Kafka Kafka
	// RecoverWait bounds that wait (default 3 min).
	RecoverWait time.Duration
	// Open rebuilds the backend from the recorded spec (nil: OpenBackend).
	Open   func(drill.Spec) (drill.Backend, error)
	Events func(drill.Event)
	Log    *slog.Logger
	Now    func() time.Time
	// Tool and Version name stretchctl in the result.
	Tool, Version string
}

// Resume takes over the drill a state file records, from the phase it
// recorded: a drill that stopped before injecting is closed; a fault that
// may be in place is held to its planned end (Continue) and healed; the
// topic's ISR is waited for. The workload's ledger died with the process
// that ran it, so nothing is observed: the verdict is inconclusive. The
// state file is removed once nothing is left to heal; a heal that fails
// returns a *NotHealedError with the result, and the file is kept.
func Resume(ctx context.Context, st *State, o ResumeOptions) (*drill.Result, error) {
	store := storeOr(o.Store, o.StateDir)
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Open == nil {
		o.Open = func(s drill.Spec) (drill.Backend, error) { return OpenBackend(s, st.ID, o.Log) }
	}
	if o.RecoverWait <= 0 {
		o.RecoverWait = 3 * time.Minute
	}
	emit := func(p drill.Phase, msg string) {
		if o.Events != nil {
			o.Events(drill.Event{Phase: p, At: o.Now(), Fault: st.Fault, Message: msg})
		}
	}
	from := st.Phase
	res := &drill.Result{ID: st.ID, Tool: o.Tool, Version: o.Version, ClusterID: st.ClusterID, Config: st.Config,
		Backend: st.Backend.Name(), Fault: st.Fault, Workload: drill.Workload{Topic: st.Topic}, Timeline: []drill.Second{},
		Verdict: drill.Inconclusive, Phase: from, Healed: true,
		Comparison: drill.Comparison{Status: drill.NotObserved, Agree: true, Notes: []string{"resumed by another process: nothing observed to compare"}}}
	res.Phases.Injected = st.Injected
	phase := string(from)
	if phase == "" {
		phase = "unknown (an older state file)"
	}
	res.Notes = append(res.Notes, fmt.Sprintf("resumed from phase %s by process %d; the workload's ledger died with process %d, so nothing was observed", phase, os.Getpid(), st.PID))

	switch {
	case from != "" && from.Index() < drill.Injecting.Index():
		res.Notes = append(res.Notes, "the drill stopped before injecting anything")
	case st.faultMayBeInPlace():
		b, err := o.Open(st.Backend)
		if err != nil {
			res.Healed = false
			res.Leftover = append(res.Leftover, fmt.Sprintf("%s: the backend could not be rebuilt: %v", st.Fault, err))
			return res, &NotHealedError{ID: st.ID, Fault: st.Fault, Err: err, Where: store.Where()}
		}
		if o.Continue && (from == drill.Holding || from == drill.Injecting) && !st.Injected.IsZero() {
			if left := st.Injected.Add(st.Fault.Duration).Sub(o.Now()); left > 0 {
				emit(drill.Holding, fmt.Sprintf("hold the remaining %v", left.Round(time.Second)))
				if !sleepCtx(ctx, left) {
					res.Notes = append(res.Notes, "interrupted while holding: healed early")
				}
			}
		}
		st.Phase = drill.Healing
		if err := store.Save(context.WithoutCancel(ctx), st); err != nil {
			res.Notes = append(res.Notes, "could not record the drill's phase: "+err.Error())
		}
		emit(drill.Healing, "heal: "+st.Fault.String()+" via "+b.Name())
		healed := o.Now()
		hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), healTimeout)
		err = b.Recover(hctx, st.Fault)
		cancel()
		if err != nil {
			res.Healed = false
			res.Phase = drill.Healing
			res.Leftover = append(res.Leftover, fmt.Sprintf("%s via %s: %v", st.Fault, b.Name(), err))
			return res, &NotHealedError{ID: st.ID, Fault: st.Fault, Err: err, Where: store.Where()}
		}
		res.Phases.Healed = healed.UTC()
		fallthrough
	case from == drill.WaitingISR || from == drill.ReadingBack:
		// Healed, and (ReadingBack) verified by the process that died;
		// verified again here, for this process's own result.
		if o.Kafka != nil && st.Topic != "" {
			st.Phase = drill.WaitingISR
			emit(drill.WaitingISR, "waiting for the ISR of "+st.Topic+" to be full again")
			wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), o.RecoverWait)
			if err := o.Kafka.WaitISRFull(wctx, st.Topic); err != nil {
				res.Notes = append(res.Notes, fmt.Sprintf("the ISR of %s was not full within %v: %v", st.Topic, o.RecoverWait, err))
			} else {
				res.Phases.Recovered = o.Now().UTC()
			}
			cancel()
		}
	default:
		res.Notes = append(res.Notes, "the fault had already been healed")
	}
	res.Phase = drill.Done
	res.Phases.Finished = o.Now().UTC()
	if err := store.Remove(context.WithoutCancel(ctx), st); err != nil {
		res.Notes = append(res.Notes, "could not remove the drill state file: "+err.Error())
	}
	emit(drill.Done, "done: "+string(res.Verdict))
	return res, nil
}

// Recovered is the outcome of recovering one drill.
type Recovered struct {
	// State is the drill; nil when its file could not be read (File and
	// Err say which and why: nothing of it was healed).
	State  *State
	File   string
	Result *drill.Result
	// Err is nil when nothing is left and the state file was removed.
	Err error
}

// RecoverAll heals at once every drill recorded in dir (Resume without
// continuing). A drill whose process is still alive is left alone unless
// force: it heals by itself when stopped.
//
// A state file that cannot be read does not stop the others: every drill
// that can be read is healed, and each unreadable file is reported.
func RecoverAll(ctx context.Context, dir string, force bool, log *slog.Logger) ([]Recovered, error) {
	states, bad, err := scanStates(dir)
	if err != nil {
		return nil, err
	}
	out := bad
	for _, s := range states {
		if !force && s.PID != os.Getpid() && processAlive(s.PID) {
			out = append(out, Recovered{State: s, Err: fmt.Errorf("drill %s is still running (pid %d): stop it (it heals when interrupted) or force the recovery", s.ID, s.PID)})
			continue
		}
		res, err := Resume(ctx, s, ResumeOptions{StateDir: dir, Log: log})
		out = append(out, Recovered{State: s, Result: res, Err: err})
	}
	return out, nil
}
