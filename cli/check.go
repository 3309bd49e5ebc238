package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"
	"golang.org/x/term"

	"github.com/stretchctl/stretchctl/advise"
	"github.com/stretchctl/stretchctl/probe"
	"github.com/stretchctl/stretchctl/report"
	"github.com/stretchctl/stretchctl/rules"
)

// assessErr turns an error of the check pipeline into exit code 2,
// naming the flag of the input that failed.
func assessErr(err error) error {
	var ie *advise.InputError
	if errors.As(err, &ie) {
		switch ie.Source {
		case advise.SourceSnapshotFile:
			err = fmt.Errorf("--snapshot: %w", ie.Err)
		case advise.SourceLatencyMatrix:
			err = fmt.Errorf("--latency-matrix: %w", ie.Err)
		default:
			err = ie
		}
	}
	return exitErr(ExitAssess, err)
}

// warn prints what the pipeline could not read but went on without.
func warn(io IO, warnings []string) {
	for _, w := range warnings {
		fmt.Fprintf(io.Err, "warning: %s\n", w)
	}
}

func newSnapshotCmd(io IO) *cobra.Command {
	var cfgPath, out string
	cmd := &cobra.Command{
		Use:   "snapshot",
		Short: "Save everything read from the cluster, for offline checks (check --snapshot)",
		Long: `Read brokers, racks, topics, replicas, ISR, broker and topic configs with
their sources, the KRaft quorum and finalized features, and save them as JSON.
` + "`stretchctl check --snapshot FILE`" + ` evaluates it later without a cluster:
reproducible CI runs and bug reports. Secrets are never saved.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := loadConfig(cfgPath)
			if err != nil {
				return err
			}
			snap, err := advise.ReadCluster(cmd.Context(), c, io.Log)
			if err != nil {
				return assessErr(err)
			}
			for _, e := range snap.Errors {
				fmt.Fprintf(io.Err, "warning: could not read %s: %s\n", e.Subject, e.Error)
			}
			if out == "" || out == "-" {
				return snap.Encode(io.Out)
			}
			if err := createWith(out, snap.Encode); err != nil {
				return exitErr(ExitAssess, err)
			}
			fmt.Fprintf(io.Err, "wrote %s: %d brokers, %d topics, %d partitions, %d read errors\n", out, len(snap.Brokers), len(snap.Topics), snap.Partitions(), len(snap.Errors))
			return nil
		},
	}
	cmd.Flags().StringVarP(&cfgPath, "config", "c", defaultConfigPath(), "stretch.yaml to read")
	cmd.Flags().StringVarP(&out, "output", "o", "", "file to write (default: standard output)")
	return cmd
}

type checkOptions struct {
	config, snapshot, format, failOn string
	latencyMatrix, latencyTopic      string
	reports                          []string
}

func newCheckCmd(io IO, version string) *cobra.Command {
	o := &checkOptions{}
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Check the cluster against the RTO/RPO goals and predict every DC loss",
		Long: `Read the cluster (or a saved snapshot) and the client .properties files named
in stretch.yaml, run the rule catalogue (` + "`stretchctl rules`" + `), and predict for
every DC what losing it and cutting it off does: partitions that stop taking
writes or serving reads, where acknowledged data may be lost, whether the
controller quorum survives, and the RTO with its breakdown.

Exit codes: 0 goals met, 1 goals violated (a finding at or above --fail-on,
or a scenario that misses the goals), 2 could not assess.

Inter-DC latency (the latency rule TOP-008 and the round-trip term of every
RTO prediction) comes from --latency-matrix when given (the JSON of
` + "`stretchctl probe matrix`" + ` or of a one-shot ` + "`stretchctl probe`" + `), else from
what probe agents published to --latency-topic on the live cluster. The
report says where the figures came from and how old they are; reports older
than three agent windows (30 s at least) are not used.`,
		Example: `  stretchctl check --config stretch.yaml
  stretchctl check --snapshot snap.json --format sarif > check.sarif
  stretchctl check --report junit=out/check.xml --report sarif=out/check.sarif`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.run(cmd.Context(), io, version) },
	}
	f := cmd.Flags()
	f.StringVarP(&o.config, "config", "c", defaultConfigPath(), "stretch.yaml to read")
	f.StringVar(&o.snapshot, "snapshot", "", "evaluate a saved snapshot instead of the live cluster")
	f.StringVar(&o.format, "format", "text", "text, json, junit, sarif or markdown")
	f.StringVar(&o.failOn, "fail-on", "high", "lowest severity that fails the check: critical, high, medium or low")
	f.StringArrayVar(&o.reports, "report", nil, "also write FORMAT=FILE (repeatable), e.g. junit=check.xml")
	f.StringVar(&o.latencyMatrix, "latency-matrix", "", "latency matrix file (JSON of probe matrix or probe)")
	f.StringVar(&o.latencyTopic, "latency-topic", probe.DefaultResultsTopic, `topic probe agents publish to ("" to not read it)`)
	return cmd
}

func (o *checkOptions) run(ctx context.Context, io IO, version string) error {
	format, err := report.ParseFormat(o.format)
	if err != nil {
		return exitErr(ExitAssess, fmt.Errorf("--format: %w", err))
	}
	failOn, err := rules.ParseSeverity(o.failOn)
	if err != nil {
		return exitErr(ExitAssess, fmt.Errorf("--fail-on: %w", err))
	}
	extra, err := parseReports(o.reports)
	if err != nil {
		return exitErr(ExitAssess, err)
	}
	c, err := loadConfig(o.config)
	if err != nil {
		return err
	}
	in, err := advise.Gather(ctx, c, advise.Options{SnapshotFile: o.snapshot, LatencyMatrixFile: o.latencyMatrix, LatencyTopic: o.latencyTopic, Log: io.Log})
	if err != nil {
		return assessErr(err)
	}
	warn(io, in.Warnings)
	rep, err := in.Evaluate(failOn)
	if err != nil {
		return exitErr(ExitAssess, err)
	}
	opts := report.Options{Tool: "stretchctl", Version: version, ConfigFile: c.Path, Color: isTerminal(io.Out)}
	if err := report.Write(io.Out, rep, format, opts); err != nil {
		return err
	}
	opts.Color = false
	for _, r := range extra {
		if err := writeReportFile(r.path, rep, r.format, opts); err != nil {
			return exitErr(ExitAssess, err)
		}
	}
	if rep.Verdict != rules.VerdictPass {
		return &ExitError{Code: ExitViolated, Err: errors.New("goals violated")}
	}
	return nil
}

type reportFile struct {
	format report.Format
	path   string
}

func parseReports(specs []string) ([]reportFile, error) {
	return parseReportsWith(specs, report.ParseFormat, "junit=check.xml")
}

// parseReportsWith reads --report FORMAT=FILE values with a format parser.
func parseReportsWith(specs []string, parse func(string) (report.Format, error), example string) ([]reportFile, error) {
	var out []reportFile
	for _, s := range specs {
		f, path, ok := strings.Cut(s, "=")
		if !ok || path == "" {
			return nil, fmt.Errorf("--report %q: want FORMAT=FILE, e.g. %s", s, example)
		}
		format, err := parse(f)
		if err != nil {
			return nil, fmt.Errorf("--report %q: %w", s, err)
		}
		if err := checkWritable(path); err != nil {
			return nil, fmt.Errorf("--report %q: %w", s, err)
		}
		out = append(out, reportFile{format, path})
	}
	return out, nil
}

// checkWritable says why a report file could not be written, before any
// work (a drill's fault) is done: a directory in its place, a file in
// the way of its directory, no write permission.
func checkWritable(path string) error {
	if fi, err := os.Stat(path); err == nil {
		if fi.IsDir() {
			return fmt.Errorf("%s is a directory", path)
		}
		if err := unix.Access(path, unix.W_OK); err != nil {
			return fmt.Errorf("%s cannot be written: %w", path, err)
		}
		return nil
	}
	// The nearest existing directory must take new entries (createWith
	// makes the ones missing below it).
	dir := filepath.Dir(path)
	for {
		fi, err := os.Stat(dir)
		if err == nil {
			if !fi.IsDir() {
				return fmt.Errorf("%s cannot be created: %s is not a directory", path, dir)
			}
			if err := unix.Access(dir, unix.W_OK|unix.X_OK); err != nil {
				return fmt.Errorf("%s cannot be created in %s: %w", path, dir, err)
			}
			return nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return nil
		}
		dir = parent
	}
}

func writeReportFile(path string, rep *rules.Report, f report.Format, o report.Options) error {
	return createWith(path, func(w io.Writer) error { return report.Write(w, rep, f, o) })
}

// createWith writes a file (and its directory) with write; the file is
// complete when it returns nil.
func createWith(path string, write func(io.Writer) error) error {
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	file, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(file); err != nil {
		file.Close()
		return err
	}
	return file.Close()
}

// isTerminal reports whether w is a terminal (colours and symbols) rather
// than a pipe or file (plain, stable text).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func newRulesCmd(io IO) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "rules [ID]",
		Short: "List the rules, or explain one",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "text" && format != "json" {
				return exitErr(ExitAssess, fmt.Errorf("--format %q: want text or json", format))
			}
			if len(args) == 1 {
				r, ok := rules.Lookup(args[0])
				if !ok {
					return exitErr(ExitAssess, fmt.Errorf("no rule %q (see `stretchctl rules`)", args[0]))
				}
				if format == "json" {
					return json.NewEncoder(io.Out).Encode(r)
				}
				fmt.Fprintf(io.Out, "%s  %s\ncategory: %s\n\n%s\n\nfix: %s\n\nsources: %s (source ids of the rules reference, kafka-rules.md)\n",
					r.ID, r.Title, r.Category, wrap(r.Explain, 78), wrap(r.Fix, 78), r.Sources)
				return nil
			}
			all := rules.Catalogue()
			if format == "json" {
				return json.NewEncoder(io.Out).Encode(all)
			}
			tw := tabwriter.NewWriter(io.Out, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tCATEGORY\tCHECKS")
			for _, r := range all {
				fmt.Fprintf(tw, "%s\t%s\t%s\n", r.ID, r.Category, r.Title)
			}
			tw.Flush()
			fmt.Fprintf(io.Out, "\n%d rules; `stretchctl rules ID` explains one.\n", len(all))
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "text or json")
	return cmd
}

func wrap(s string, width int) string {
	var b strings.Builder
	line := 0
	for _, w := range strings.Fields(s) {
		if line > 0 && line+1+len(w) > width {
			b.WriteByte('\n')
			line = 0
		} else if line > 0 {
			b.WriteByte(' ')
			line++
		}
		b.WriteString(w)
		line += len(w)
	}
	return b.String()
}
