package cli

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/muesli/termenv"
	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/stretchctl/stretchctl/probe"
	"github.com/stretchctl/stretchctl/tui"
)

type tuiOptions struct {
	drillOptions
	snapshot, logFile, from string
	readOnly                bool
	refresh                 time.Duration
}

func newTUICmd(io IO, version string) *cobra.Command {
	o := &tuiOptions{}
	cmd := &cobra.Command{
		Use:   "tui",
		Short: "Interactive: the latency matrix, findings, what-if scenarios and drills you watch",
		Long: `Open the interactive view of the stretched cluster:

  overview   cluster, DCs with their brokers and controllers, quorum, every
             scenario's verdict
  latency    the DC×DC round-trip matrix, live from the probe agents'
             topic, coloured against goals.latency, with per-broker figures
  findings   by severity, filtered with /, with evidence, fix and the rule
  scenarios  what losing, crashing or cutting off each DC does; what-if:
             a DC or brokers already down, a client moved, other goals,
             every scenario re-evaluated at once without touching the cluster
  drill      pick a fault, confirm with the cluster id, watch writes and
             errors per second through the fault, then observed vs predicted

The cluster is read again every 6 refresh periods (r reads it now), the
agents' matrix every period. Quitting (q, ctrl+c) during a drill heals the
fault first. With --snapshot it runs offline: no drill. Nothing is printed
on the terminal it draws on: logs go to --log-file. NO_COLOR turns colour
off. Keys: ? inside.`,
		Example: `  stretchctl tui --config stretch.yaml
  stretchctl tui --snapshot snap.json --latency-matrix matrix.json
  stretchctl tui --read-only --log-file tui.log`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.libraryChanged = cmd.Flags().Changed("producer-library")
			return o.run(cmd, io, version)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.config, "config", "c", defaultConfigPath(), "stretch.yaml to read")
	f.StringVar(&o.snapshot, "snapshot", "", "run offline on a saved snapshot (no drill)")
	f.StringVar(&o.latencyMatrix, "latency-matrix", "", "latency matrix file (JSON of probe matrix or probe) instead of the agents' topic")
	f.StringVar(&o.latencyTopic, "latency-topic", probe.DefaultResultsTopic, `topic probe agents publish to ("" to not read it)`)
	f.StringVar(&o.from, "from", os.Getenv(labDCEnv), "DC the TUI runs in: the row of a one-shot probe (p on the latency screen)")
	f.BoolVar(&o.readOnly, "read-only", false, "hide the drill screen")
	f.StringVar(&o.logFile, "log-file", "", "write logs to this file (default: none)")
	f.DurationVar(&o.refresh, "refresh", 5*time.Second, "how often the agents' matrix is read")
	f.BoolVar(&o.force, "force", false, "drills: run even if the cluster is not healthy")
	o.addWorkloadFlags(f)
	o.addBackendFlags(f)
	return cmd
}

func (o *tuiOptions) run(cmd *cobra.Command, io IO, version string) error {
	c, err := loadConfig(o.config)
	if err != nil {
		return err
	}
	if o.refresh <= 0 {
		return exitErr(ExitAssess, fmt.Errorf("--refresh %v: must be positive", o.refresh))
	}
	if o.from != "" && !c.Topology.HasDC(o.from) {
		return exitErr(ExitAssess, fmt.Errorf("--from %q is not a DC of %s", o.from, c.Path))
	}
	if o.snapshot != "" {
		if _, err := os.Stat(o.snapshot); err != nil {
			return exitErr(ExitAssess, fmt.Errorf("--snapshot: %w", err))
		}
	}
	if o.latencyMatrix != "" {
		if _, err := os.Stat(o.latencyMatrix); err != nil {
			return exitErr(ExitAssess, fmt.Errorf("--latency-matrix: %w", err))
		}
	}
	log := slog.New(slog.DiscardHandler)
	var logOut *os.File
	if o.logFile != "" {
		if logOut, err = os.OpenFile(o.logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644); err != nil {
			return exitErr(ExitAssess, fmt.Errorf("--log-file: %w", err))
		}
		defer logOut.Close()
		log = slog.New(slog.NewTextHandler(logOut, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	dopts, err := o.options(c, IO{Log: log}, version)
	if err != nil {
		return exitErr(ExitAssess, err)
	}
	eng := &tui.Live{Config: c, SnapshotFile: o.snapshot, LatencyMatrixFile: o.latencyMatrix, LatencyTopic: o.latencyTopic, From: o.from, Log: log}
	refresh := o.refresh
	if o.snapshot != "" {
		refresh = 0
	}
	profile := termenv.NewOutput(os.Stdout).EnvColorProfile()
	if _, noColor := os.LookupEnv("NO_COLOR"); noColor {
		profile = termenv.Ascii
	}
	opts := tui.Options{Engine: eng, DrillDefaults: dopts, ReadOnly: o.readOnly, Refresh: refresh, Profile: profile}
	restore, err := quietStderr(logOut)
	if err != nil {
		return exitErr(ExitAssess, err)
	}
	defer restore()
	err = tui.Run(cmd.Context(), opts, io.In, io.Out)
	var notHealed *tui.NotHealedError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &notHealed):
		return exitErr(ExitNotHealed, fmt.Errorf("%w; retry with `stretchctl drill recover --state-dir %s`", err, o.stateDir))
	case errors.Is(err, tea.ErrProgramPanic):
		return exitErr(ExitAssess, fmt.Errorf("the TUI failed (details in --log-file, if given): %w", err))
	case errors.Is(err, tea.ErrInterrupted), errors.Is(err, tea.ErrProgramKilled):
		return nil // a signal or the context ended it; a drill was healed
	}
	return exitErr(ExitAssess, err)
}

// quietStderr points the process's standard error (fd 2) at the log file,
// or /dev/null, while the TUI draws: a library or child process that
// writes there (a JVM, librdkafka) must not scribble on the screen. The
// returned func puts it back.
func quietStderr(to *os.File) (func(), error) {
	if to == nil {
		null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
		if err != nil {
			return nil, err
		}
		defer null.Close()
		to = null
	}
	saved, err := unix.Dup(2)
	if err != nil {
		return nil, fmt.Errorf("standard error: %w", err)
	}
	if err := unix.Dup2(int(to.Fd()), 2); err != nil {
		unix.Close(saved)
		return nil, fmt.Errorf("standard error: %w", err)
	}
	return func() {
		_ = unix.Dup2(saved, 2)
		unix.Close(saved)
	}, nil
}
