package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/stretchctl/stretchctl/probe"
)

// labDCEnv names the DC a command runs in; `stretchctl lab exec` sets it.
const labDCEnv = "STRETCHCTL_LAB_DC"

type probeOptions struct {
	config, from, format, topic string
	duration, interval          time.Duration
}

func newProbeCmd(io IO) *cobra.Command {
	o := &probeOptions{}
	cmd := &cobra.Command{
		Use:   "probe",
		Short: "Measure latency to every broker as Kafka feels it, from here",
		Long: `Measure, from where stretchctl runs, the latency to every broker of the
cluster for --duration, one sample of each kind per broker per --interval:

  connect      TCP handshake on a fresh connection
  request      ApiVersions round trip on a long-lived connection
  acks=1       one-record produce to a partition the broker leads
  acks=all     the same with acks=all
  replication  acks=all minus acks=1 of the same interval: the leader's wait
               for its farthest in-sync follower
  e2e          send to read back from the leader (records become readable
               once every in-sync replica has them)

It writes to a probe topic (default __stretchctl_probe), which it creates
when missing (one partition per broker, replicas spread over DCs, RF up to
3, min.insync.replicas=1) and whose leadership it moves back by preferred
leader election when a broker leads none of its partitions. Percentiles come
from HDR histograms; errors and timeouts are counted, never dropped. Every
request is bounded by min(cluster.timeout, 3s): a down, frozen or cut-off
broker shows as timeouts and the probe goes on.

The matrix row says what this vantage DC (--from; $STRETCHCTL_LAB_DC inside
` + "`stretchctl lab exec`" + `) sees of each broker DC.

Exit codes: 0 measured (even if some brokers failed: see the rows), 2 could
not reach the cluster at all, or bad usage.`,
		Example: `  stretchctl probe --config stretch.yaml --duration 30s
  stretchctl lab exec dc-a -- stretchctl probe --config stretch.yaml --format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.run(cmd.Context(), io) },
	}
	f := cmd.Flags()
	f.StringVarP(&o.config, "config", "c", defaultConfigPath(), "stretch.yaml to read")
	f.DurationVar(&o.duration, "duration", probe.DefaultDuration, "how long to sample")
	f.DurationVar(&o.interval, "interval", probe.DefaultInterval, "pause between two samples of one kind to one broker")
	f.StringVar(&o.from, "from", os.Getenv(labDCEnv), "DC this probe runs in (default $"+labDCEnv+")")
	f.StringVar(&o.format, "format", "text", "text or json")
	f.StringVar(&o.topic, "topic", probe.DefaultTopic, "probe topic to write to")
	cmd.AddCommand(newProbeAgentCmd(io), newProbeMatrixCmd(io))
	return cmd
}

func (o *probeOptions) run(ctx context.Context, io IO) error {
	if o.format != "text" && o.format != "json" {
		return exitErr(ExitAssess, fmt.Errorf("--format %q: want text or json", o.format))
	}
	if o.duration <= 0 || o.interval <= 0 {
		return exitErr(ExitAssess, fmt.Errorf("--duration and --interval must be positive"))
	}
	c, err := loadConfig(o.config)
	if err != nil {
		return err
	}
	if o.from != "" && len(c.Topology.DCs) > 0 && !c.Topology.HasDC(o.from) {
		return exitErr(ExitAssess, fmt.Errorf("--from %q is not a DC of %s (topology.dcs: %s)", o.from, c.Path, strings.Join(c.Topology.DCs, ", ")))
	}
	if o.format == "text" {
		fmt.Fprintf(io.Err, "probing for %v from %s...\n", o.duration, dcName(o.from))
	}
	res, err := probe.Measure(ctx, c.Cluster, probe.MeasureOptions{
		Options:  probe.Options{Log: io.Log},
		From:     o.from,
		Duration: o.duration,
		Interval: o.interval,
		Topic:    o.topic,
		DC:       c.Topology.DCOfRack,
	})
	if err != nil {
		return exitErr(ExitAssess, fmt.Errorf("could not probe the cluster: %w", err))
	}
	for _, e := range res.Errors {
		fmt.Fprintf(io.Err, "warning: %s: %s\n", e.Subject, e.Error)
	}
	if o.format == "json" {
		enc := json.NewEncoder(io.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	writeProbe(io.Out, res)
	return nil
}

func dcName(dc string) string {
	if dc == "" {
		return "an unknown DC (set --from)"
	}
	return dc
}

// writeProbe renders a probe result as text: the per-broker table, the
// matrix row, then every failure and unmeasured cell spelled out.
func writeProbe(w io.Writer, r *probe.Result) {
	fmt.Fprintf(w, "probe from %s: %v, one sample per broker and kind every %v, request timeout %v, topic %s\n\n",
		dcName(r.From), msDur(r.DurationMs), msDur(r.IntervalMs), msDur(r.TimeoutMs), r.Topic)
	fmt.Fprintln(w, "per broker, p50 / p99 in ms:")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "BROKER\tDC\tPART\tCONNECT\tREQUEST\tACKS=1\tACKS=ALL\tREPLICATION\tE2E\tFAILED")
	var notes []string
	for _, b := range r.Brokers {
		part := "-"
		if b.Partition >= 0 {
			part = strconv.Itoa(int(b.Partition))
		}
		dc := b.DC
		if dc == "" {
			dc = "?"
		}
		if b.Fenced {
			dc += " (fenced)"
		}
		kinds := []struct {
			name string
			s    probe.Stats
		}{{"connect", b.Connect}, {"request", b.Request}, {"acks=1", b.ProduceAcks1}, {"acks=all", b.ProduceAcksAll}, {"replication", b.Replication}, {"e2e", b.EndToEnd}}
		cells := make([]string, 0, len(kinds))
		var failed []string
		for _, k := range kinds {
			cells = append(cells, pair(k.s))
			if n := k.s.Failed(); n > 0 {
				failed = append(failed, fmt.Sprintf("%s %s", k.name, failures(k.s)))
				notes = append(notes, fmt.Sprintf("broker %d %s: %s, last: %s", b.ID, k.name, failures(k.s), k.s.LastError))
			}
		}
		if u := b.ProduceAcks1.Unknown; u != "" {
			notes = append(notes, fmt.Sprintf("broker %d produce and e2e not measured: %s", b.ID, u))
		}
		fail := "-"
		if len(failed) > 0 {
			fail = strings.Join(failed, ", ")
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", b.ID, dc, part, strings.Join(cells, "\t"), fail)
	}
	tw.Flush()

	fmt.Fprintf(w, "\nmatrix, p50 in ms (from %s to each broker DC):\n", dcName(r.From))
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "FROM\tTO\tBROKERS\tCONNECT\tREQUEST\tACKS=1\tACKS=ALL\tREPLICATION\tE2E\tSAMPLES\tFAILED")
	for _, c := range r.Matrix {
		ids := make([]string, len(c.Brokers))
		for i, id := range c.Brokers {
			ids[i] = strconv.Itoa(int(id))
		}
		from, to := c.From, c.To
		if from == "" {
			from = "?"
		}
		if to == "" {
			to = "?"
		}
		var samples, failed int64
		for _, s := range []probe.Stats{c.Connect, c.Request, c.ProduceAcks1, c.ProduceAcksAll, c.EndToEnd} {
			samples += s.Count
			failed += s.Failed()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\n", from, to, strings.Join(ids, ","),
			p50(c.Connect), p50(c.Request), p50(c.ProduceAcks1), p50(c.ProduceAcksAll), p50(c.Replication), p50(c.EndToEnd), samples, failed)
	}
	tw.Flush()
	if len(notes) > 0 {
		fmt.Fprintln(w, "\nfailures and gaps:")
		for _, n := range notes {
			fmt.Fprintf(w, "  %s\n", n)
		}
	}
}

// pair is "p50 / p99", "fail" when every attempt failed, "-" when not measured.
func pair(s probe.Stats) string {
	if s.Percentiles == nil {
		return none(s)
	}
	return ms(s.P50Ms) + " / " + ms(s.P99Ms)
}

func p50(s probe.Stats) string {
	if s.Percentiles == nil {
		return none(s)
	}
	return ms(s.P50Ms)
}

func none(s probe.Stats) string {
	if s.Failed() > 0 {
		return "fail"
	}
	return "-"
}

func failures(s probe.Stats) string {
	var parts []string
	if s.Timeouts > 0 {
		parts = append(parts, fmt.Sprintf("%d timeouts", s.Timeouts))
	}
	if s.Errors > 0 {
		parts = append(parts, fmt.Sprintf("%d errors", s.Errors))
	}
	return strings.Join(parts, " ")
}

// ms renders milliseconds: two decimals under 10 ms, one under 100, none above.
func ms(v float64) string {
	switch {
	case v < 10:
		return strconv.FormatFloat(v, 'f', 2, 64)
	case v < 100:
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return strconv.FormatFloat(v, 'f', 0, 64)
}

func msDur(v float64) time.Duration {
	return time.Duration(v * float64(time.Millisecond)).Round(time.Millisecond)
}
