package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"

	"github.com/stretchctl/stretchctl/probe"
)

type agentOptions struct {
	config, dc, listen, topic, results, name string
	window, interval                         time.Duration
	quiet                                    bool
}

func newProbeAgentCmd(io IO) *cobra.Command {
	o := &agentOptions{}
	cmd := &cobra.Command{
		Use:   "agent",
		Short: "Probe continuously from one DC, serve Prometheus metrics and publish each round",
		Long: `Run the probe of ` + "`stretchctl probe`" + ` round after round, each round --window
long with one sample of each kind per broker per --interval, until stopped
(Ctrl-C or SIGTERM). After every round it:

  - publishes the round (per broker detail and the row of the DC matrix) to
    --results-topic, a compacted topic keyed by DC/name that it creates when
    missing (one partition, replicas spread over DCs, min.insync.replicas=1
    so that agents keep publishing through a DC loss);
  - updates the Prometheus metrics served on --listen at /metrics:
    stretchctl_probe_latency_seconds{from_dc,to_dc,broker,kind} (summary of
    the last round: 0.5, 0.99 and 1 quantiles), stretchctl_probe_samples_total
    and stretchctl_probe_failures_total{reason}, stretchctl_probe_broker_up,
    stretchctl_probe_round_trip_seconds{from_dc,to_dc}, rounds and publish
    failures, and the agent's own process CPU and memory.

Run one agent in every DC (` + "`stretchctl probe matrix`" + ` joins them). A broker that
is down, frozen or cut off shows as timeouts or errors within a request
timeout (3 s at most); a round that reaches no broker is reported as failed
and the next one starts one interval later: the agent never exits because
the cluster is away.`,
		Example: `  stretchctl probe agent --config stretch.yaml --dc dc-a
  stretchctl lab exec dc-a -- stretchctl probe agent --config stretch.yaml --listen :9464`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.run(cmd.Context(), io) },
	}
	f := cmd.Flags()
	f.StringVarP(&o.config, "config", "c", defaultConfigPath(), "stretch.yaml to read")
	f.StringVar(&o.dc, "dc", os.Getenv(labDCEnv), "DC this agent runs in (default $"+labDCEnv+")")
	f.StringVar(&o.listen, "listen", ":9464", `address for /metrics ("" for none)`)
	f.DurationVar(&o.window, "window", probe.DefaultWindow, "length of one round; each round is published")
	f.DurationVar(&o.interval, "interval", probe.DefaultInterval, "pause between two samples of one kind to one broker")
	f.StringVar(&o.topic, "topic", probe.DefaultTopic, "probe topic to write to")
	f.StringVar(&o.results, "results-topic", probe.DefaultResultsTopic, "compacted topic the rounds are published to")
	f.StringVar(&o.name, "name", "", "agent name, unique within its DC (default: host name)")
	f.BoolVarP(&o.quiet, "quiet", "q", false, "do not print a line per round")
	return cmd
}

func (o *agentOptions) run(ctx context.Context, io IO) error {
	c, err := loadConfig(o.config)
	if err != nil {
		return err
	}
	if o.dc == "" {
		return exitErr(ExitAssess, errors.New("--dc is required: the DC this agent runs in (one of "+strings.Join(c.Topology.DCs, ", ")+")"))
	}
	if len(c.Topology.DCs) > 0 && !c.Topology.HasDC(o.dc) {
		return exitErr(ExitAssess, fmt.Errorf("--dc %q is not a DC of %s (topology.dcs: %s)", o.dc, c.Path, strings.Join(c.Topology.DCs, ", ")))
	}
	if o.window <= 0 || o.interval <= 0 || o.interval > o.window {
		return exitErr(ExitAssess, fmt.Errorf("--window (%v) and --interval (%v) must be positive, the interval no longer than the window", o.window, o.interval))
	}
	metrics := probe.NewMetrics()
	agent, err := probe.NewAgent(c.Cluster, probe.AgentOptions{
		Measure: probe.MeasureOptions{
			Options:  probe.Options{Log: io.Log},
			From:     o.dc,
			Interval: o.interval,
			Topic:    o.topic,
			DC:       c.Topology.DCOfRack,
			// Agents of different DCs take turns within each interval
			// (see MeasureOptions.Slot); agents of one DC share a slot.
			Slot:  max(slices.Index(c.Topology.DCs, o.dc), 0),
			Slots: len(c.Topology.DCs),
		},
		Window:       o.window,
		ResultsTopic: o.results,
		Name:         o.name,
		Metrics:      metrics,
		OnRound: func(rep probe.Report, err error) {
			if !o.quiet {
				writeRound(io.Err, rep, err)
			}
		},
	})
	if err != nil {
		return exitErr(ExitAssess, err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if o.listen != "" {
		ln, err := net.Listen("tcp", o.listen)
		if err != nil {
			return exitErr(ExitAssess, fmt.Errorf("--listen %s: %w", o.listen, err))
		}
		mux := http.NewServeMux()
		mux.Handle("/metrics", promhttp.HandlerFor(metrics.Registry(), promhttp.HandlerOpts{}))
		srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
		go func() { _ = srv.Serve(ln) }()
		defer srv.Close()
		fmt.Fprintf(io.Err, "agent in %s: metrics on http://%s/metrics, rounds of %v to topic %s\n", o.dc, ln.Addr(), o.window, o.results)
	}
	return agent.Run(ctx)
}

// writeRound prints one line per round: the round trip to every DC, or
// what failed.
func writeRound(w io.Writer, rep probe.Report, err error) {
	var cells []string
	for _, c := range rep.Matrix {
		to := c.To
		if to == "" {
			to = "?"
		}
		if rtt, ok := c.RoundTrip(); ok {
			cell := fmt.Sprintf("%s %s ms", to, ms(float64(rtt)/float64(time.Millisecond)))
			if n := c.Connect.Failed() + c.Request.Failed(); n > 0 {
				cell += fmt.Sprintf(" (%d failed)", n)
			}
			cells = append(cells, cell)
		} else {
			cells = append(cells, to+" "+none(c.Connect))
		}
	}
	line := fmt.Sprintf("%s round from %s: %s", rep.At.Local().Format("15:04:05"), rep.From, strings.Join(cells, ", "))
	if err != nil {
		line += "; " + err.Error()
	}
	fmt.Fprintln(w, line)
}

type matrixOptions struct {
	config, results, format string
}

func newProbeMatrixCmd(io IO) *cobra.Command {
	o := &matrixOptions{}
	cmd := &cobra.Command{
		Use:   "matrix",
		Short: "Build the DC×DC latency matrix from what the agents published",
		Long: `Read the rounds the probe agents published to --results-topic and build the
DC×DC matrix: one row per vantage DC (where an agent runs), one column per
broker DC. Each cell is the newest round of an agent of that DC: the round
trip (median TCP handshake, no Kafka handling in it), the request, acks=all,
replication and end-to-end medians, failures, and its age. Rounds older than
three windows (30 s at least) are shown as stale: that agent stopped or
cannot reach the cluster.

--format json writes the full matrix with per-broker detail; it is the file
` + "`stretchctl check --latency-matrix`" + ` reads.

Exit codes: 0 built, 2 no agent has published or the cluster is unreachable.`,
		Example: `  stretchctl probe matrix --config stretch.yaml
  stretchctl probe matrix --format json > matrix.json && stretchctl check --latency-matrix matrix.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.run(cmd.Context(), io) },
	}
	f := cmd.Flags()
	f.StringVarP(&o.config, "config", "c", defaultConfigPath(), "stretch.yaml to read")
	f.StringVar(&o.results, "results-topic", probe.DefaultResultsTopic, "topic the agents publish to")
	f.StringVar(&o.format, "format", "text", "text or json")
	return cmd
}

func (o *matrixOptions) run(ctx context.Context, io IO) error {
	if o.format != "text" && o.format != "json" {
		return exitErr(ExitAssess, fmt.Errorf("--format %q: want text or json", o.format))
	}
	c, err := loadConfig(o.config)
	if err != nil {
		return err
	}
	m, err := probe.ReadMatrix(ctx, c.Cluster, probe.Options{Log: io.Log}, o.results)
	if err != nil {
		return exitErr(ExitAssess, fmt.Errorf("could not build the matrix: %w", err))
	}
	if o.format == "json" {
		enc := json.NewEncoder(io.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(m)
	}
	writeMatrix(io.Out, m)
	return nil
}

// writeMatrix renders the grid of round trips, then every cell's detail.
func writeMatrix(w io.Writer, m *probe.Matrix) {
	fmt.Fprintf(w, "latency matrix from %s at %s (round trip p50 in ms; rows: where the agent runs, columns: broker DC)\n\n",
		m.Source, m.Generated.Local().Format(time.DateTime))
	var cols []string
	for _, dc := range m.DCs {
		for _, c := range m.Cells {
			if c.To == dc {
				cols = append(cols, dc)
				break
			}
		}
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "FROM \\ TO\t%s\n", strings.Join(cols, "\t"))
	for _, from := range m.DCs {
		row := []string{}
		any := false
		for _, to := range cols {
			c, ok := m.Cell(from, to)
			switch {
			case !ok:
				row = append(row, "")
			case c.Stale:
				row = append(row, "stale")
				any = true
			case c.RoundTripMs != nil:
				v := ms(*c.RoundTripMs)
				if c.Connect.Failed()+c.Request.Failed() > 0 {
					v += "!"
				}
				row = append(row, v)
				any = true
			default:
				row = append(row, none(c.Connect))
				any = true
			}
		}
		if any {
			fmt.Fprintf(tw, "%s\t%s\n", from, strings.Join(row, "\t"))
		}
	}
	tw.Flush()
	fmt.Fprintln(w, "\n(! some samples failed; fail: all failed; stale: the agent's last round is too old)")

	fmt.Fprintln(w, "\ncells, p50 in ms:")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "FROM\tTO\tRTT\tREQUEST\tACKS=1\tACKS=ALL\tREPLICATION\tE2E\tFAILED\tAGE\tAGENT")
	var notes []string
	for _, c := range m.Cells {
		rtt := none(c.Connect)
		if c.RoundTripMs != nil {
			rtt = ms(*c.RoundTripMs)
		}
		var failed int64
		for _, s := range []probe.Stats{c.Connect, c.Request, c.ProduceAcks1, c.ProduceAcksAll, c.EndToEnd} {
			failed += s.Failed()
			if s.LastError != "" && s.Failed() > 0 {
				notes = append(notes, fmt.Sprintf("%s→%s: %s", c.From, c.To, s.LastError))
			}
		}
		age := msDur(c.AgeMs).Round(time.Second).String()
		if c.Stale {
			age += " (stale)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", c.From, c.To, rtt, p50(c.Request), p50(c.ProduceAcks1),
			p50(c.ProduceAcksAll), p50(c.Replication), p50(c.EndToEnd), failed, age, c.Agent)
	}
	tw.Flush()
	for _, r := range m.Reports {
		if r.Error != "" {
			notes = append(notes, fmt.Sprintf("agent %s: last round reached no broker: %s", r.Agent, r.Error))
		}
	}
	if len(notes) > 0 {
		fmt.Fprintln(w, "\nfailures:")
		seen := map[string]bool{}
		for _, n := range notes {
			if !seen[n] {
				seen[n] = true
				fmt.Fprintf(w, "  %s\n", n)
			}
		}
	}
}
