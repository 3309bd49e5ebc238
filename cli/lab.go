package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/stretchctl/stretchctl/lab"
)

type labOptions struct {
	io  IO
	dir string
}

func (o *labOptions) lab() (*lab.Lab, error) {
	dir, err := filepath.Abs(o.dir)
	if err != nil {
		return nil, exitErr(ExitAssess, fmt.Errorf("--dir %q: %w", o.dir, err))
	}
	return &lab.Lab{
		Dir: dir,
		Log: o.io.Log,
		Progress: func(format string, args ...any) {
			fmt.Fprintf(o.io.Err, "• "+format+"\n", args...)
		},
	}, nil
}

func newLabCmd(io IO) *cobra.Command {
	o := &labOptions{io: io}
	cmd := &cobra.Command{
		Use:   "lab",
		Short: "Run a local stretched Kafka cluster with real DC failures",
		Long: `The lab runs real Apache Kafka (KRaft) on this machine, one Linux network
namespace per data center, joined by an emulated WAN with per-link delay, loss
and cuts. It needs root (or CAP_NET_ADMIN) for the namespaces; without it the
DCs share the loopback interface and only kill and freeze work.

Every lab lives in one state directory (--dir): node configs, logs, pids,
the WAN router's socket, and a ready stretch.yaml for the other commands.`,
	}
	cmd.PersistentFlags().StringVar(&o.dir, "dir", lab.DefaultDir(), "lab state directory")
	cmd.AddCommand(newLabUpCmd(o), newLabStatusCmd(o), newLabDownCmd(o), newLabExecCmd(o),
		newLabFaultCmd(o), newLabHealCmd(o), newLabRouterCmd(o))
	return cmd
}

func newLabUpCmd(o *labOptions) *cobra.Command {
	var up lab.UpOptions
	var topology, security string
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Fetch Kafka, start the DCs and the cluster, write stretch.yaml",
		Long: `Fetch Apache Kafka from Maven Central (cached), create one network namespace
per DC, start the WAN router and the Kafka nodes, and wait until every broker
is registered and the controller quorum has a leader. Prints the path of a
stretch.yaml ready for the other commands.

Topologies:
  2.5dc  dc-a and dc-b with brokers and one KRaft voter each, dc-c with only a
         tie-breaker controller (default)
  3dc    dc-a, dc-b, dc-c with brokers and one voter each
  2dc    dc-a and dc-b; voters 2+1, so losing dc-a loses the quorum

Latency spec (round trips; defaults 4ms between DCs, 1ms to "ops", the
operator's site where stretchctl runs):
  --latency dc-a/dc-b=20ms,dc-a/dc-c=30ms   both directions, round trip
  --latency dc-a>dc-b=15ms                  one direction, one-way delay

Security (--security):
  plaintext  no TLS, no authentication (default)
  ssl        TLS everywhere, client certificates; principal = certificate CN
  sasl_ssl   TLS everywhere, SCRAM-SHA-512 users (Kafka 3.5+)
A secured lab generates its CA, certificates and passwords in DIR/security,
runs the StandardAuthorizer with only the nodes as super users, and grants
the principal User:stretchctl exactly the ACLs of ` + "`stretchctl acls`" + `; the
stretch.yaml it writes connects as that principal.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			up.Topology = lab.Topology(topology)
			sec, err := lab.ParseSecurity(security)
			if err != nil {
				return exitErr(ExitAssess, fmt.Errorf("--security: %w", err))
			}
			up.Security = sec
			l, err := o.lab()
			if err != nil {
				return err
			}
			if _, err := l.Up(cmd.Context(), up); err != nil {
				return exitErr(ExitAssess, labHint(err, l.Dir))
			}
			fmt.Fprintf(o.io.Out, "lab is up; config: %s\n", l.ConfigPath())
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&topology, "topology", string(lab.Topology25DC), "2.5dc, 3dc or 2dc")
	f.IntVar(&up.BrokersPerDC, "brokers-per-dc", 2, "brokers in each DC that holds brokers")
	f.StringVar(&up.KafkaVersion, "kafka-version", lab.DefaultKafkaVersion, "Apache Kafka release (3.9.x and 4.x)")
	f.StringVar(&up.Latency, "latency", "", "link round trips, e.g. dc-a/dc-b=20ms,dc-a/dc-c=30ms")
	f.BoolVar(&up.Loopback, "loopback", false, "no namespaces: loopback addresses, process faults only")
	f.DurationVar(&up.ReadyTimeout, "timeout", 3*time.Minute, "how long to wait for the cluster to be ready")
	f.StringVar(&security, "security", string(lab.SecurityPlaintext), "plaintext, ssl or sasl_ssl")
	return cmd
}

func newLabStatusCmd(o *labOptions) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show nodes, links, faults and the cluster's view",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "text" && format != "json" {
				return exitErr(ExitAssess, fmt.Errorf("--format %q: want text or json", format))
			}
			l, err := o.lab()
			if err != nil {
				return err
			}
			s, err := l.Status(cmd.Context())
			if err != nil {
				return exitErr(ExitAssess, labHint(err, l.Dir))
			}
			if format == "json" {
				enc := json.NewEncoder(o.io.Out)
				enc.SetIndent("", "  ")
				return enc.Encode(s)
			}
			writeStatus(o.io.Out, s)
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "text or json")
	return cmd
}

func writeStatus(w io.Writer, s *lab.Status) {
	fmt.Fprintf(w, "lab %s\n  %s, Kafka %s, network %s, cluster id %s, up since %s\n  config: %s\n\n",
		s.Dir, s.Topology, s.KafkaVersion, s.Network, s.ClusterID, s.Created.Format(time.RFC3339), s.Config)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tDC\tROLES\tADDRESS\tPID\tSTATE")
	var down []string
	for _, n := range s.Nodes {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%s\n", n.ID, n.DC, n.RoleString(), n.Addr, n.Pid, n.State)
		if n.State == lab.ProcDown {
			down = append(down, fmt.Sprintf("  node %d is down; its log: %s", n.ID, n.Log))
		}
	}
	tw.Flush()
	for _, d := range down {
		fmt.Fprintln(w, d)
	}
	c := s.Cluster
	if c.Error != "" {
		fmt.Fprintf(w, "\ncluster: %s\n", c.Error)
	} else {
		fmt.Fprintf(w, "\ncluster: %d brokers registered %v; quorum leader %d, voters %v\n", len(c.Brokers), c.Brokers, c.QuorumLeader, c.Voters)
	}
	if len(c.Unreachable) > 0 {
		fmt.Fprintf(w, "  not answering from here: %s\n", strings.Join(c.Unreachable, ", "))
	}
	if s.Network == lab.NetworkNamespaces {
		state := "up"
		if !s.RouterUp {
			state = "DOWN (all links cut; `stretchctl lab heal` restarts it)"
		}
		fmt.Fprintf(w, "\nWAN router pid %d: %s\n", s.RouterPid, state)
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "FROM\tTO\tONE-WAY\tBASELINE\tLOSS\tSTATE\tPACKETS\tDROPPED")
		for _, lk := range s.Links {
			state := "ok"
			if lk.Blocked {
				state = "cut"
			}
			fmt.Fprintf(tw, "%s\t%s\t%v\t%v\t%g%%\t%s\t%d\t%d\n", lk.From, lk.To, lk.Delay, lk.Baseline, lk.Loss, state,
				lk.Forwarded, lk.DroppedBlocked+lk.DroppedLoss+lk.DroppedQueue)
		}
		tw.Flush()
	}
	for _, l := range s.Limits {
		fmt.Fprintf(w, "\nlimit: %s\n", l)
	}
	if len(s.Faults) == 0 {
		fmt.Fprintln(w, "\nfaults: none")
		return
	}
	fmt.Fprintln(w, "\nfaults:")
	for _, f := range s.Faults {
		fmt.Fprintf(w, "  %s (since %s)\n", f, f.Since.Format(time.TimeOnly))
	}
}

func newLabDownCmd(o *labOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "down",
		Short: "Stop every process and remove every namespace and device of the lab",
		Long: `Stop every Kafka node and the WAN router (SIGKILL), remove the DC namespaces
and devices, and delete the lab's files. Works after a crash too: it finds
processes by the markers on their command lines and namespaces by name.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			l, err := o.lab()
			if err != nil {
				return err
			}
			removed, err := l.Down(context.WithoutCancel(cmd.Context()))
			for _, r := range removed {
				fmt.Fprintf(o.io.Err, "• removed %s\n", r)
			}
			if err != nil {
				return exitErr(ExitNotHealed, fmt.Errorf("lab down left something behind: %w", err))
			}
			if len(removed) == 0 {
				fmt.Fprintf(o.io.Out, "nothing to remove in %s\n", l.Dir)
				return nil
			}
			fmt.Fprintf(o.io.Out, "lab in %s is down\n", l.Dir)
			return nil
		},
	}
}

func newLabExecCmd(o *labOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "exec DC -- CMD [ARGS...]",
		Short: "Run a command inside a DC's network namespace",
		Long: `Run a command inside a DC, so that clients and probe agents sit where they
would in production: their traffic to other DCs crosses the emulated WAN.
The command replaces stretchctl; its exit code is the result.
STRETCHCTL_LAB_DC is set to the DC's name.`,
		Example: "  stretchctl lab exec dc-b -- stretchctl probe agent --dc dc-b",
		Args:    cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.ArgsLenAtDash() != 1 {
				return exitErr(ExitAssess, errors.New("usage: stretchctl lab exec DC -- CMD [ARGS...]"))
			}
			l, err := o.lab()
			if err != nil {
				return err
			}
			return exitErr(ExitAssess, l.Exec(args[0], args[1:]))
		},
	}
}

func newLabFaultCmd(o *labOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "fault KIND TARGET",
		Short: "Inject a fault: crash|lose|freeze|isolate DC, latency|loss|block LINKS",
		Long: `Inject a fault into the lab. It stays until healed (stretchctl lab heal).

  crash DC       SIGKILL every Kafka process of the DC; its hosts still answer
                 (connection refused), as after a crash ("kill" is the same)
  lose DC        cut the DC's links, then kill its processes: silent, as a
                 power or network loss (every wait on it ends by a timeout)
  freeze DC      SIGSTOP them: alive but silent, like a hung host
  isolate DC     cut every link to and from the DC
  latency SPEC   change delays: dc-a/dc-b=50ms (round trip), dc-a>dc-b=30ms (one way)
  loss SPEC      drop packets: dc-a/dc-b=5%
  block SPEC     cut links: dc-a/dc-b (both directions), dc-a>dc-b (one)

Sites in link specs are the DCs and "ops", the operator's site.`,
		Example: "  stretchctl lab fault isolate dc-a\n  stretchctl lab fault latency dc-a/dc-b=50ms",
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			l, err := o.lab()
			if err != nil {
				return err
			}
			kind := lab.FaultKind(args[0])
			if kind == "crash" {
				kind = lab.FaultKill
			}
			added, err := l.Inject(cmd.Context(), kind, args[1])
			if err != nil {
				if len(added) > 0 {
					return exitErr(ExitAssess, fmt.Errorf("%w (the fault is recorded: `stretchctl lab heal` undoes it)", err))
				}
				return exitErr(ExitAssess, labHint(err, l.Dir))
			}
			for _, f := range added {
				fmt.Fprintf(o.io.Out, "injected: %s\n", f)
			}
			return nil
		},
	}
	return cmd
}

func newLabHealCmd(o *labOptions) *cobra.Command {
	var all bool
	var wait time.Duration
	cmd := &cobra.Command{
		Use:   "heal [DC | --all]",
		Short: "Undo faults: resume frozen nodes, restart killed ones, restore links",
		Long: `Undo the faults of one DC (every fault involving it), or all faults with
--all or no argument: frozen nodes resume, killed nodes restart with their
data, links return to the latency set at lab up, a dead WAN router restarts.
Waits until every broker is registered again (--wait 0 to return at once).
Exit code 3 when something could not be healed.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dc := ""
			if len(args) == 1 {
				if all {
					return exitErr(ExitAssess, errors.New("give a DC or --all, not both"))
				}
				dc = args[0]
			}
			l, err := o.lab()
			if err != nil {
				return err
			}
			rep, err := l.Heal(context.WithoutCancel(cmd.Context()), dc, wait)
			if rep != nil {
				for _, f := range rep.Cleared {
					fmt.Fprintf(o.io.Out, "healed: %s\n", f)
				}
				if len(rep.Restarted) > 0 {
					fmt.Fprintf(o.io.Out, "restarted nodes %v\n", rep.Restarted)
				}
				if len(rep.Resumed) > 0 {
					fmt.Fprintf(o.io.Out, "resumed nodes %v\n", rep.Resumed)
				}
				if rep.RouterRestarted {
					fmt.Fprintln(o.io.Out, "restarted the WAN router")
				}
			}
			if rep == nil {
				return exitErr(ExitAssess, labHint(err, l.Dir)) // nothing was attempted
			}
			return exitErr(ExitNotHealed, err)
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "heal every fault (the default without a DC)")
	cmd.Flags().DurationVar(&wait, "wait", 2*time.Minute, "wait until every broker is registered again (0: do not wait)")
	return cmd
}

func newLabRouterCmd(o *labOptions) *cobra.Command {
	return &cobra.Command{
		Use:    "router",
		Short:  "Run the lab's WAN router (started by lab up)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir, err := filepath.Abs(o.dir)
			if err != nil {
				return err
			}
			// The router's stderr is its log file (router.log): log at info.
			log := slog.New(slog.NewTextHandler(o.io.Err, nil))
			log.Info("WAN router starting", "pid", os.Getpid(), "dir", dir)
			return lab.RunRouter(cmd.Context(), dir, log)
		},
	}
}

// labHint adds the command that helps to an error of the lab.
func labHint(err error, dir string) error {
	switch {
	case errors.Is(err, lab.ErrNoLab):
		return fmt.Errorf("%w (start one with `stretchctl lab up --dir %s`)", err, dir)
	case errors.Is(err, lab.ErrLabUp):
		return fmt.Errorf("%w; run `stretchctl lab down --dir %s` first", err, dir)
	}
	return err
}
