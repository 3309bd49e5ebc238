// Package tui is stretchctl's interactive front end (bubbletea): the
// cluster at a glance, the DC×DC latency matrix live from the probe
// agents, the findings, every DC scenario with what-if, and drills drawn
// from their typed events as they happen.
//
// It holds no pipeline logic: it asks the engine (the check pipeline of
// package advise, the drill runner of package chaos, the agents' matrix of
// package probe) through the Engine interface, re-evaluates what-if with
// the rules — pure, no round trip — and renders. All I/O runs in tea.Cmds;
// messages end in Msg. It never writes logs or anything else to the
// terminal it owns, and never reads flags or the environment: the CLI
// passes everything in Options.
package tui

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/muesli/termenv"

	"github.com/stretchctl/stretchctl/advise"
	"github.com/stretchctl/stretchctl/chaos"
	"github.com/stretchctl/stretchctl/drill"
	"github.com/stretchctl/stretchctl/probe"
)

// Engine is what the TUI asks of the cluster.
type Engine interface {
	// Gather reads the check pipeline's inputs (live, or a snapshot).
	Gather(ctx context.Context) (*advise.Inputs, error)
	// Matrix reads the probe agents' latest matrix; nil, nil when there
	// is none to read (offline).
	Matrix(ctx context.Context) (*probe.Matrix, error)
	// Probe measures once from where the TUI runs (a one-shot probe) and
	// returns its matrix row.
	Probe(ctx context.Context) (*probe.Matrix, error)
	// Drill runs a drill; events arrive through opts.Events.
	Drill(ctx context.Context, opts chaos.Options) (*drill.Result, error)
	// DrillsAllowed says whether drills can run here, and why not.
	DrillsAllowed() (bool, string)
}

// Options configure the TUI.
type Options struct {
	Engine Engine
	// DrillDefaults are the options a drill started from the TUI begins
	// with (config, backend, state dir, tool); the drill screen fills in
	// fault, DC, topic, duration and producer DC.
	DrillDefaults chaos.Options
	// ReadOnly hides the drill screen.
	ReadOnly bool
	// Refresh is how often live data is read again (default 5 s; 0 with
	// a snapshot: never).
	Refresh time.Duration
	// Profile is the colour profile (termenv.Ascii for NO_COLOR).
	Profile termenv.Profile
	// Now is the clock (nil: time.Now).
	Now func() time.Time
}

// Run runs the TUI on in and out until the user quits; a drill in
// progress is healed first. The error is the program's, else a
// *NotHealedError when the last drill left its fault in place.
func Run(ctx context.Context, o Options, in io.Reader, out io.Writer) error {
	m := New(ctx, o)
	p := tea.NewProgram(m, tea.WithContext(ctx), tea.WithInput(in), tea.WithOutput(out), tea.WithAltScreen(), tea.WithMouseCellMotion())
	_, err := p.Run()
	// A drill still running (the program was stopped by a signal) heals
	// before Run returns: the runner heals on cancellation.
	m.stopDrill()
	if nh := m.drill.notHealed(); nh != nil {
		return nh
	}
	return err
}

// NotHealedError: the last drill could not heal its fault.
type NotHealedError struct{ Result *drill.Result }

func (e *NotHealedError) Error() string {
	return fmt.Sprintf("the drill's fault (%s) was not healed: %s", e.Result.Fault, strings.Join(e.Result.Leftover, "; "))
}
