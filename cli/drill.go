package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"

	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/stretchctl/stretchctl/chaos"
	"github.com/stretchctl/stretchctl/clients"
	"github.com/stretchctl/stretchctl/config"
	"github.com/stretchctl/stretchctl/lab"
	"github.com/stretchctl/stretchctl/probe"
	"github.com/stretchctl/stretchctl/report"
	"github.com/stretchctl/stretchctl/topology"
)

type drillOptions struct {
	config, fault, dc, peer, backend, topic, format string
	labDir, stateDir                                string
	producerFile, producerLibrary, producerDC       string
	acks, idempotence                               string
	delay, duration, steady                         time.Duration
	loss                                            float64
	rate, producers                                 int
	yes, force                                      bool
	reports, execInject, execHeal                   []string
	kubeconfig, namespace, zoneLabel                string
	targetNamespaces, podLabels                     []string
}

func newDrillCmd(io IO, version string) *cobra.Command {
	o := &drillOptions{}
	cmd := &cobra.Command{
		Use:   "drill",
		Short: "Inject a DC failure, measure the observed RTO and RPO, compare, and always heal",
		Long: `Break a DC on purpose and measure what it does to acknowledged writes:

  1. preflight: the cluster must be healthy (no under-replicated or offline
     partitions, a quorum leader, voters caught up) unless --force; the
     topic must exist; the prediction of ` + "`stretchctl check`" + ` for the same
     scenario is taken; you confirm on the cluster id (--yes for automation);
  2. a ledger workload writes to --topic: every record carries its
     producer, partition and sequence number; every acknowledgement is
     recorded with its offset and time. Producer settings come from
     --producer-file (with that library's defaults) or --acks/--idempotence
     (default: the Java client's defaults); --producer-dc runs the producers
     inside a DC (lab backend);
  3. after --steady, the fault is injected and held for --duration, then
     healed, whatever happens (error, Ctrl-C, SIGTERM). A state file written
     before the injection lets ` + "`stretchctl drill recover`" + ` heal after this
     process was killed;
  4. once the ISR is full again, every partition is read back and
     reconciled: acknowledged-and-lost records (the observed RPO, listed),
     duplicates, unacknowledged-but-present; the longest time without a
     successful write to some partition is the observed RTO;
  5. the verdict against the goals and the comparison with the prediction:
     a disagreement is reported, never hidden.

Faults: kill, freeze, isolate a DC; latency (--delay added to the round
trip) or loss (--loss percent) on the DC's links (--peer: one link only).
Backends: lab (the local lab, --lab-dir), chaos-mesh (PodChaos/NetworkChaos
objects selecting pods by zone label, each with a duration so it expires
even if stretchctl dies), exec (your commands, --exec-inject and
--exec-heal KIND=COMMAND with {dc}, {peer}, {delay_ms}, {loss}).

Exit codes: 0 goals met, 1 goals missed, 2 could not run (usage, preflight,
connection; nothing injected), 3 a fault could not be healed (it says what
is left; run ` + "`stretchctl drill recover`" + `).`,
		Example: `  stretchctl drill --config stretch.yaml --fault kill --dc dc-a --topic drill --duration 30s
  stretchctl drill --fault isolate --dc dc-a --topic drill --producer-dc dc-a --acks 1 --yes
  stretchctl drill --fault latency --dc dc-a --peer dc-b --delay 50ms --topic drill --report html=drill.html
  stretchctl drill --backend chaos-mesh --namespace kafka --pod-label app=kafka --fault kill --dc zone-a --topic drill`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.run(cmd.Context(), io, version) },
	}
	f := cmd.Flags()
	f.StringVarP(&o.config, "config", "c", defaultConfigPath(), "stretch.yaml to read")
	f.StringVar(&o.fault, "fault", "", "kill, freeze, isolate, latency or loss (required)")
	f.StringVar(&o.dc, "dc", "", "the DC to break (required)")
	f.StringVar(&o.peer, "peer", "", "latency/loss: the other end of the link (default: every other DC)")
	f.DurationVar(&o.delay, "delay", 0, "latency: round trip added to the link(s)")
	f.Float64Var(&o.loss, "loss", 0, "loss: percent of packets dropped")
	f.DurationVar(&o.duration, "duration", 30*time.Second, "how long the fault is held")
	f.DurationVar(&o.steady, "steady", 10*time.Second, "workload time before the fault")
	f.StringVar(&o.topic, "topic", "", "topic the ledger writes to; must exist (required)")
	f.IntVar(&o.rate, "rate", 1000, "records per second, all producers together")
	f.IntVar(&o.producers, "producers", 4, "number of producers, each with its own connections (more give a finer RTO resolution)")
	f.StringVar(&o.producerFile, "producer-file", "", "producer .properties whose settings the workload uses")
	f.StringVar(&o.producerLibrary, "producer-library", "java", "library of --producer-file (java, sarama, librdkafka, franz-go): its defaults apply")
	f.StringVar(&o.producerDC, "producer-dc", "", "run the producers inside this DC (lab backend)")
	f.StringVar(&o.acks, "acks", "", "override acks (all, 1, 0)")
	f.StringVar(&o.idempotence, "idempotence", "", "override enable.idempotence (true, false)")
	f.StringVar(&o.backend, "backend", "lab", "lab, chaos-mesh or exec")
	f.StringVar(&o.labDir, "lab-dir", lab.DefaultDir(), "lab backend: the lab's state directory")
	f.StringVar(&o.kubeconfig, "kubeconfig", "", "chaos-mesh: kubeconfig (default: in-cluster or $KUBECONFIG)")
	f.StringVar(&o.namespace, "namespace", "", "chaos-mesh: namespace of the Chaos Mesh objects")
	f.StringArrayVar(&o.targetNamespaces, "target-namespace", nil, "chaos-mesh: namespace of the Kafka pods (repeatable; default --namespace)")
	f.StringVar(&o.zoneLabel, "zone-label", "topology.kubernetes.io/zone", "chaos-mesh: pod label holding the DC")
	f.StringArrayVar(&o.podLabels, "pod-label", nil, "chaos-mesh: KEY=VALUE selecting the Kafka pods (repeatable)")
	f.StringArrayVar(&o.execInject, "exec-inject", nil, "exec: KIND=COMMAND to inject a fault (repeatable)")
	f.StringArrayVar(&o.execHeal, "exec-heal", nil, "exec: KIND=COMMAND to heal it (repeatable)")
	f.StringVar(&o.stateDir, "state-dir", chaos.DefaultStateDir(), "where drills in progress are recorded")
	f.BoolVarP(&o.yes, "yes", "y", false, "do not ask for confirmation (automation)")
	f.BoolVar(&o.force, "force", false, "run even if the cluster is not healthy")
	f.StringVar(&o.format, "format", "text", "text, json, markdown or html")
	f.StringArrayVar(&o.reports, "report", nil, "also write FORMAT=FILE (repeatable), e.g. html=drill.html")
	cmd.AddCommand(newDrillRecoverCmd(io))
	return cmd
}

func (o *drillOptions) run(ctx context.Context, io IO, version string) error {
	format, err := report.ParseDrillFormat(o.format)
	if err != nil {
		return exitErr(ExitAssess, fmt.Errorf("--format: %w", err))
	}
	extra, err := parseReportsWith(o.reports, report.ParseDrillFormat, "html=drill.html")
	if err != nil {
		return exitErr(ExitAssess, err)
	}
	fault, err := o.faultSpec()
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
	backend, err := o.openBackend()
	if err != nil {
		return exitErr(ExitAssess, err)
	}
	prod, source, client, err := o.producerSettings(c)
	if err != nil {
		return exitErr(ExitAssess, err)
	}
	dopts := chaos.DrillOptions{
		Config: c, Backend: backend, Fault: fault, Topic: o.topic,
		Producer: prod, ProducerSource: source, Client: client, ProducerDC: o.producerDC,
		Producers: o.producers, Rate: o.rate, Steady: o.steady, Force: o.force, StateDir: o.stateDir,
		Log: io.Log, Tool: "stretchctl", Version: version,
		Progress: func(s string) { fmt.Fprintf(io.Err, "• %s\n", s) },
	}
	if o.producerDC != "" {
		lb, ok := backend.(*chaos.LabBackend)
		if !ok {
			return exitErr(ExitAssess, fmt.Errorf("--producer-dc needs the lab backend (with %s, run stretchctl where the producers should be)", o.backend))
		}
		dial, err := lb.Lab().DialContext(o.producerDC)
		if err != nil {
			return exitErr(ExitAssess, fmt.Errorf("--producer-dc: %w", err))
		}
		dopts.ProducerDial = dial
	}
	if !o.yes {
		dopts.Confirm = func(id string) bool { return confirm(io, id, fault, c.Path) }
	}
	res, err := chaos.Drill(ctx, dopts)
	var notHealed *chaos.NotHealedError
	switch {
	case res == nil && err != nil:
		var pre *chaos.PreflightError
		if errors.As(err, &pre) || errors.Is(err, chaos.ErrAborted) {
			return exitErr(ExitAssess, err)
		}
		return exitErr(ExitAssess, fmt.Errorf("drill: %w (nothing was injected)", err))
	case errors.As(err, &notHealed):
		// Reported below, then exit 3.
	case err != nil:
		fmt.Fprintf(io.Err, "warning: %v\n", err)
	}
	ropts := report.Options{Tool: "stretchctl", Version: version, ConfigFile: c.Path, Color: isTerminal(io.Out)}
	if werr := report.WriteDrill(io.Out, res, format, ropts); werr != nil {
		return werr
	}
	ropts.Color = false
	for _, r := range extra {
		if werr := writeDrillFile(r.path, res, r.format, ropts); werr != nil {
			fmt.Fprintf(io.Err, "error: %v\n", werr)
		} else {
			fmt.Fprintf(io.Err, "written: %s\n", r.path)
		}
	}
	if notHealed != nil {
		return exitErr(ExitNotHealed, notHealed)
	}
	if res.Verdict == "error" {
		return exitErr(ExitAssess, errors.New("the drill did not complete: see its notes"))
	}
	if !res.GoalsMet {
		return &ExitError{Code: ExitViolated, Err: errors.New("goals missed")}
	}
	return nil
}

func (o *drillOptions) faultSpec() (chaos.Fault, error) {
	if o.fault == "" {
		return chaos.Fault{}, errors.New("--fault is required: kill, freeze, isolate, latency or loss")
	}
	k, err := chaos.ParseKind(o.fault)
	if err != nil {
		return chaos.Fault{}, fmt.Errorf("--fault: %w", err)
	}
	if o.dc == "" {
		return chaos.Fault{}, errors.New("--dc is required: the DC to break")
	}
	if o.duration <= 0 {
		return chaos.Fault{}, fmt.Errorf("--duration %v: must be positive", o.duration)
	}
	f := chaos.Fault{Kind: k, DC: o.dc, Peer: o.peer, Delay: o.delay, LossPercent: o.loss, Duration: o.duration}
	if err := f.Validate(); err != nil {
		return f, fmt.Errorf("--fault %s: %w (flags --dc, --peer, --delay, --loss)", k, err)
	}
	return f, nil
}

func (o *drillOptions) openBackend() (chaos.Backend, error) {
	switch o.backend {
	case "lab":
		b, err := chaos.NewLab(o.labDir)
		if err != nil {
			return nil, fmt.Errorf("--backend lab: %w (is the lab up? --lab-dir)", err)
		}
		return b, nil
	case "exec":
		spec := chaos.ExecSpec{Inject: map[chaos.Kind]string{}, Heal: map[chaos.Kind]string{}}
		for _, pair := range []struct {
			flag  string
			items []string
			into  map[chaos.Kind]string
		}{{"--exec-inject", o.execInject, spec.Inject}, {"--exec-heal", o.execHeal, spec.Heal}} {
			for _, it := range pair.items {
				k, cmd, ok := strings.Cut(it, "=")
				kind, err := chaos.ParseKind(k)
				if !ok || err != nil || strings.TrimSpace(cmd) == "" {
					return nil, fmt.Errorf("%s %q: want KIND=COMMAND with KIND kill, freeze, isolate, latency or loss", pair.flag, it)
				}
				pair.into[kind] = cmd
			}
		}
		b, err := chaos.NewExec(spec)
		if err != nil {
			return nil, err
		}
		if _, ok := spec.Inject[chaos.Kind(o.fault)]; !ok {
			return nil, fmt.Errorf("--backend exec: no --exec-inject %s=COMMAND", o.fault)
		}
		return b, nil
	case "chaos-mesh":
		labels := map[string]string{}
		for _, l := range o.podLabels {
			k, v, ok := strings.Cut(l, "=")
			if !ok || k == "" {
				return nil, fmt.Errorf("--pod-label %q: want KEY=VALUE", l)
			}
			labels[k] = v
		}
		if o.namespace == "" {
			return nil, errors.New("--backend chaos-mesh needs --namespace")
		}
		return chaos.Restore(chaos.Spec{ChaosMesh: &chaos.ChaosMeshSpec{
			Kubeconfig: o.kubeconfig, Namespace: o.namespace, TargetNamespaces: o.targetNamespaces,
			ZoneLabel: o.zoneLabel, PodLabels: labels, DrillID: time.Now().UTC().Format("20060102-150405"),
		}})
	}
	return nil, fmt.Errorf("--backend %q: want lab, chaos-mesh or exec", o.backend)
}

// producerSettings resolves the workload's producer: the file with its
// library's defaults, or the Java defaults of the cluster's version, then
// the --acks/--idempotence overrides. It also returns the same settings as
// a client file for the prediction.
func (o *drillOptions) producerSettings(c *config.Config) (probe.Producer, string, *topology.ClientConfig, error) {
	var cc topology.ClientConfig
	source := "defaults (" + o.producerLibrary + " client)"
	if o.producerFile != "" {
		var err error
		cc, err = clients.Load(config.Client{File: o.producerFile, Kind: config.ClientKind(topology.Producer), Library: config.Library(o.producerLibrary), DC: o.producerDC}, c.Cluster.KafkaVersion)
		if err != nil {
			return probe.Producer{}, "", nil, fmt.Errorf("--producer-file: %w", err)
		}
		source = o.producerFile
	} else {
		s := clients.Defaults(o.producerLibrary, topology.Producer, c.Cluster.KafkaVersion)
		if s == nil {
			return probe.Producer{}, "", nil, fmt.Errorf("--producer-library %q: want java, sarama, librdkafka or franz-go", o.producerLibrary)
		}
		cc = topology.ClientConfig{File: "drill workload", Path: "drill workload", Kind: topology.Producer, Library: o.producerLibrary, DC: o.producerDC, Producer: s}
	}
	for name, v := range map[string]string{"acks": o.acks, "enable.idempotence": o.idempotence} {
		if v != "" {
			cc.Producer[name] = topology.Setting{Value: v, Default: "--" + strings.TrimPrefix(name, "enable.") + " flag"}
			if source == "defaults ("+o.producerLibrary+" client)" {
				source = "flags over " + source
			}
		}
	}
	p, err := probe.ProducerFrom(cc.Producer, filepath.Base(source))
	if err != nil {
		return probe.Producer{}, "", nil, fmt.Errorf("producer settings (%s): %w", source, err)
	}
	return p, source, &cc, nil
}

// confirm asks on the terminal, naming the cluster id; without a terminal
// it refuses (automation passes --yes).
func confirm(io IO, clusterID string, f chaos.Fault, cfg string) bool {
	in, ok := io.In.(*os.File)
	if !ok || !isTerminal(in) {
		fmt.Fprintf(io.Err, "refusing to inject %s into cluster %s without confirmation: not a terminal (pass --yes)\n", f, clusterID)
		return false
	}
	fmt.Fprintf(io.Err, "About to inject %s into cluster %s (%s).\nType the cluster id to go on: ", f, clusterID, cfg)
	line, _ := bufio.NewReader(in).ReadString('\n')
	return strings.TrimSpace(line) == clusterID
}

func writeDrillFile(path string, res *chaos.Result, f report.Format, o report.Options) error {
	return createWith(path, func(w io.Writer) error { return report.WriteDrill(w, res, f, o) })
}

func newDrillRecoverCmd(io IO) *cobra.Command {
	var stateDir string
	var force bool
	cmd := &cobra.Command{
		Use:   "recover",
		Short: "Heal every fault of drills that did not finish (after a crash or SIGKILL)",
		Long: `Read the state files of drills in progress (--state-dir), rebuild each
drill's backend and heal its fault, then remove the file. A drill whose
process still runs is left alone (it heals on its own; stop it with Ctrl-C)
unless --force.

Exit codes: 0 nothing left (or nothing to do), 3 a fault could not be healed.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			got, err := chaos.RecoverAll(cmd.Context(), stateDir, force)
			if err != nil {
				return exitErr(ExitAssess, err)
			}
			if len(got) == 0 {
				fmt.Fprintf(io.Out, "nothing to recover in %s\n", stateDir)
				return nil
			}
			failed := 0
			for _, r := range got {
				if r.Err != nil {
					failed++
					fmt.Fprintf(io.Out, "NOT HEALED: drill %s (%s via %s): %v\n", r.State.ID, r.State.Fault, backendName(r.State.Backend), r.Err)
					continue
				}
				fmt.Fprintf(io.Out, "healed: drill %s (%s via %s, started %s)\n", r.State.ID, r.State.Fault, backendName(r.State.Backend), r.State.Started.Local().Format(time.DateTime))
			}
			if failed > 0 {
				return exitErr(ExitNotHealed, fmt.Errorf("%d of %d faults could not be healed; their state files are kept in %s", failed, len(got), stateDir))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&stateDir, "state-dir", chaos.DefaultStateDir(), "where drills in progress are recorded")
	cmd.Flags().BoolVar(&force, "force", false, "also heal drills whose process still runs")
	return cmd
}

func backendName(s chaos.Spec) string {
	switch {
	case s.Lab != nil:
		return "lab " + s.Lab.Dir
	case s.ChaosMesh != nil:
		return "chaos-mesh " + s.ChaosMesh.Namespace
	case s.Exec != nil:
		return "exec"
	}
	return "?"
}
