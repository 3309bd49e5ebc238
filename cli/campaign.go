package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/stretchctl/stretchctl/chaos"
	"github.com/stretchctl/stretchctl/drill"
	"github.com/stretchctl/stretchctl/report"
)

type campaignOptions struct {
	drillOptions
	faults   []string
	dir      string
	gateWait time.Duration
}

func newCampaignCmd(io IO, version string) *cobra.Command {
	o := &campaignOptions{}
	cmd := &cobra.Command{
		Use:   "campaign",
		Short: "Run a game day: drills one after another, every prediction checked in one report",
		Long: `Run a list of drills one after another (default: every DC × crash, lose and
isolate that the backend can inject), each after a health gate (the topic's
ISR full, every broker serving, the quorum's voters caught up), and write
one report: the matrix of scenarios × predicted, observed and agreement,
and the truth score (the share of compared points that agree). The
confirmation is asked once; every drill must find the same cluster.

The campaign stops at the first drill that is not healed (nothing else may
run while a fault is in place; ` + "`stretchctl drill recover --state-dir DIR/drills`" + `
heals it). Its record is kept in --dir after every drill: run the same
command again after a crash and it keeps what finished and runs the rest.

Exit codes: 0 every goal met, 1 a goal missed, 2 a drill could not run or
complete, 3 a fault could not be healed.`,
		Example: `  stretchctl drill campaign --config stretch.yaml --topic drill --duration 45s --report html=campaign.html
  stretchctl drill campaign --topic drill --faults crash:dc-a,isolate:dc-b --dir ./gameday`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.libraryChanged = cmd.Flags().Changed("producer-library")
			return o.run(cmd.Context(), io, version)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.config, "config", "c", defaultConfigPath(), "stretch.yaml to read")
	f.StringVar(&o.topic, "topic", "", "topic the ledger writes to; must exist (required)")
	f.StringSliceVar(&o.faults, "faults", nil, "KIND:DC drills to run, in order (default: every DC × crash, lose, isolate the backend supports)")
	f.DurationVar(&o.duration, "duration", 45*time.Second, "how long each fault is held")
	f.StringVar(&o.dir, "dir", filepath.Join(filepath.Dir(chaos.DefaultStateDir()), "campaign"), "where the campaign's record and its drills' state files are kept")
	f.DurationVar(&o.gateWait, "gate-wait", 3*time.Minute, "how long the cluster may take to become healthy before each drill")
	o.addWorkloadFlags(f)
	o.addBackendFlags(f)
	_ = f.MarkHidden("state-dir") // the drills' state files are in --dir/drills
	o.addRunFlags(f, "html=campaign.html")
	return cmd
}

// campaignFaults reads --faults, or every DC × crash, lose and isolate
// the backend supports.
func (o *campaignOptions) campaignFaults(dcs []string) ([]drill.Fault, error) {
	if o.duration <= 0 {
		return nil, fmt.Errorf("--duration %v: must be positive", o.duration)
	}
	if len(o.faults) == 0 {
		can := func(drill.Kind) bool { return true }
		if o.backend == "exec" {
			inject := map[drill.Kind]bool{}
			for _, s := range o.execInject {
				k, _, _ := strings.Cut(s, "=")
				if kind, err := drill.ParseKind(k); err == nil {
					inject[kind] = true
				}
			}
			can = func(k drill.Kind) bool { return inject[k] }
		}
		f := chaos.DefaultFaults(dcs, can, o.duration)
		if len(f) == 0 {
			return nil, errors.New("--faults: none given, and the backend supports none of crash, lose, isolate")
		}
		return f, nil
	}
	var out []drill.Fault
	for _, s := range o.faults {
		k, dc, ok := strings.Cut(s, ":")
		if !ok || dc == "" {
			return nil, fmt.Errorf("--faults %q: want KIND:DC, e.g. crash:dc-a", s)
		}
		kind, err := drill.ParseKind(k)
		if err != nil {
			return nil, fmt.Errorf("--faults %q: %w", s, err)
		}
		if kind.Link() {
			return nil, fmt.Errorf("--faults %q: a campaign drills DC failures (crash, lose, freeze, isolate)", s)
		}
		out = append(out, drill.Fault{Kind: kind, DC: dc, Duration: o.duration})
	}
	return out, nil
}

func (o *campaignOptions) run(ctx context.Context, io IO, version string) error {
	format, err := report.ParseDrillFormat(o.format)
	if err != nil {
		return exitErr(ExitAssess, fmt.Errorf("--format: %w", err))
	}
	extra, err := parseReportsWith(o.reports, report.ParseDrillFormat, "html=campaign.html")
	if err != nil {
		return exitErr(ExitAssess, err)
	}
	if o.topic == "" {
		return exitErr(ExitAssess, errors.New("--topic is required: the topic the ledger workload writes to (it must exist)"))
	}
	c, err := loadConfig(o.config)
	if err != nil {
		return err
	}
	faults, err := o.campaignFaults(c.Topology.DCs)
	if err != nil {
		return exitErr(ExitAssess, err)
	}
	for _, f := range faults {
		if !c.Topology.HasDC(f.DC) {
			return exitErr(ExitAssess, fmt.Errorf("--faults: %q is not a DC of %s (topology.dcs: %s)", f.DC, c.Path, strings.Join(c.Topology.DCs, ", ")))
		}
	}
	o.stateDir = filepath.Join(o.dir, "drills")
	dopts, err := o.options(c, io, version)
	if err != nil {
		return exitErr(ExitAssess, err)
	}
	dopts.Topic = o.topic
	dopts.Events = func(e drill.Event) {
		if e.Message != "" {
			fmt.Fprintf(io.Err, "    • %s\n", e.Message)
		}
	}
	if !o.yes {
		dopts.Confirm = func(id string) bool {
			return confirm(io, id, fmt.Sprintf("a campaign of %d drills (%s, ...)", len(faults), faults[0]), c.Path)
		}
	}
	camp, err := chaos.RunCampaign(ctx, chaos.CampaignOptions{Drill: dopts, Faults: faults, Dir: o.dir, GateWait: o.gateWait,
		Events: func(e chaos.CampaignEvent) {
			fmt.Fprintf(io.Err, "[%d/%d] %s: %s\n", e.Index+1, e.Total, e.Fault, e.Message)
		}})
	if camp == nil {
		return exitErr(ExitAssess, o.runError(err))
	}
	if err != nil {
		fmt.Fprintf(io.Err, "warning: %v\n", err)
	}
	ropts := report.Options{Tool: "stretchctl", Version: version, ConfigFile: c.Path}
	if werr := report.WriteCampaign(io.Out, camp, format, ropts); werr != nil {
		return werr
	}
	var unwritten []string
	for _, r := range extra {
		if werr := writeCampaignFile(r.path, camp, r.format, ropts); werr != nil {
			fmt.Fprintf(io.Err, "error: %v\n", werr)
			unwritten = append(unwritten, r.path)
		} else {
			fmt.Fprintf(io.Err, "written: %s\n", r.path)
		}
	}
	// A report that could not be written fails the run unless a fault
	// left in place (3) says more.
	if len(unwritten) > 0 && camp.ExitCode() != drill.ExitNotHealed {
		return exitErr(ExitAssess, fmt.Errorf("reports not written: %s", strings.Join(unwritten, ", ")))
	}
	switch camp.ExitCode() {
	case drill.ExitNotHealed:
		return exitErr(ExitNotHealed, fmt.Errorf("campaign stopped: %s; heal with `stretchctl drill recover --state-dir %s`", camp.Stopped, o.stateDir))
	case drill.ExitNotRun:
		return exitErr(ExitAssess, fmt.Errorf("a drill of the campaign did not run or complete (record in %s)", o.dir))
	case drill.ExitGoalsMissed:
		return &ExitError{Code: ExitViolated, Err: errors.New("goals missed")}
	}
	return nil
}

func writeCampaignFile(path string, c *drill.Campaign, f report.Format, o report.Options) error {
	return createWith(path, func(w io.Writer) error { return report.WriteCampaign(w, c, f, o) })
}
