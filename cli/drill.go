package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"

	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/stretchctl/stretchctl/chaos"
	"github.com/stretchctl/stretchctl/config"
	"github.com/stretchctl/stretchctl/drill"
	"github.com/stretchctl/stretchctl/lab"
	"github.com/stretchctl/stretchctl/probe"
	"github.com/stretchctl/stretchctl/report"
)

type drillOptions struct {
	config, fault, dc, peer, backend, topic, format string
	labDir, stateDir                                string
	producerFile, producerLibrary, producerDC       string
	producerVersion                                 string
	consumerFile, consumerLibrary, consumerVersion  string
	consumerDCs                                     []string
	consumers                                       int
	acks, idempotence                               string
	latencyMatrix, latencyTopic                     string
	delay, duration, steady                         time.Duration
	loss                                            float64
	rate, producers                                 int
	yes, force, libraryChanged, transactional       bool
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
     scenario is taken, restricted to --topic, with the inter-DC round
     trip from --latency-matrix or the probe agents' topic (as check); you
     confirm on the cluster id (--yes for automation);
  2. a ledger workload writes to --topic: every record carries its
     producer, partition and sequence number; every acknowledgement is
     recorded with its offset and time. Producer settings come from
     --producer-file (with that library's defaults) or --acks/--idempotence
     (default: the Java client's defaults); --producer-dc runs the producers
     inside a DC (lab backend). With --consumers, a consumer group of the
     drill's own (on the Java client or franz-go, --consumer-file settings,
     members spread over --consumer-dc) reads the topic from before the
     first write; members in a crashed, lost or frozen DC die with it.
     --transactional writes the ledger in transactions (Java client) and
     the group reads it read_committed;
  3. after --steady, the fault is injected and held for --duration, then
     healed, whatever happens (error, Ctrl-C, SIGTERM). A state file written
     before the injection lets ` + "`stretchctl drill recover`" + ` heal after this
     process was killed;
  4. once the ISR is full again, every partition is read back and
     reconciled: acknowledged-and-lost records (the observed RPO, listed),
     duplicates, unacknowledged-but-present; the longest time without a
     successful write to some partition is the observed RTO. The group's
     read RTO (longest time a partition had acknowledged records waiting
     and no read progress), rebalances, records read again (also counted
     from the committed offsets) and records skipped are measured, and for
     a transactional ledger the aborted transactions and whether
     exactly-once held (no aborted record read, every committed one once);
  5. the verdict against the goals and the comparison with the prediction
     of the scenario the fault performed: predicted and observed RTO agree
     within max(2 s, 25% of the observed), in both directions; a
     disagreement is reported, never hidden.

Faults: crash a DC (its Kafka processes die, its hosts answer; "kill" is
the same), lose it (its links cut, then its processes killed: silent, as a
power or network loss), freeze it (processes stopped), isolate it (links
cut, processes running: a split); latency (--delay added to the round
trip) or loss (--loss percent) on the DC's links (--peer: one link only).
Backends: lab (the local lab, --lab-dir), chaos-mesh (PodChaos/NetworkChaos
objects selecting pods by zone label, each with a duration so it expires
even if stretchctl dies), exec (your commands, --exec-inject and
--exec-heal KIND=COMMAND with {dc}, {peer}, {delay_ms}, {loss}, also in
$STRETCHCTL_DC, $STRETCHCTL_PEER, ...; a value with shell syntax is never
substituted; the command's process group is killed at the timeout).

Exit codes: 0 goals met, 1 goals missed, 2 could not run (usage, preflight,
connection; nothing injected), 3 a fault could not be healed (it says what
is left; run ` + "`stretchctl drill recover`" + `).`,
		Example: `  stretchctl drill --config stretch.yaml --fault crash --dc dc-a --topic drill --duration 30s
  stretchctl drill --fault lose --dc dc-a --topic drill --producer-library librdkafka --producer-file producer.properties
  stretchctl drill --fault isolate --dc dc-a --topic drill --producer-dc dc-a --acks 1 --yes
  stretchctl drill --fault latency --dc dc-a --peer dc-b --delay 50ms --topic drill --report html=drill.html
  stretchctl drill --backend chaos-mesh --namespace kafka --pod-label app=kafka --fault crash --dc zone-a --topic drill`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.libraryChanged = cmd.Flags().Changed("producer-library")
			return o.run(cmd.Context(), io, version)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.config, "config", "c", defaultConfigPath(), "stretch.yaml to read")
	f.StringVar(&o.fault, "fault", "", "crash (kill), lose, freeze, isolate, latency or loss (required)")
	f.StringVar(&o.dc, "dc", "", "the DC to break (required)")
	f.StringVar(&o.peer, "peer", "", "latency/loss: the other end of the link (default: every other DC)")
	f.DurationVar(&o.delay, "delay", 0, "latency: round trip added to the link(s)")
	f.Float64Var(&o.loss, "loss", 0, "loss: percent of packets dropped")
	f.DurationVar(&o.duration, "duration", 30*time.Second, "how long the fault is held")
	f.StringVar(&o.topic, "topic", "", "topic the ledger writes to; must exist (required)")
	o.addWorkloadFlags(f)
	o.addBackendFlags(f)
	o.addRunFlags(f, "html=drill.html")
	cmd.AddCommand(newDrillRecoverCmd(io), newCampaignCmd(io, version))
	return cmd
}

// addWorkloadFlags registers the ledger workload's flags (drill and tui).
func (o *drillOptions) addWorkloadFlags(f *pflag.FlagSet) {
	f.DurationVar(&o.steady, "steady", 10*time.Second, "workload time before the fault")
	f.IntVar(&o.rate, "rate", 1000, "records per second, all producers together")
	f.IntVar(&o.producers, "producers", 4, "number of producers, each with its own connections (more give a finer RTO resolution)")
	f.StringVar(&o.producerFile, "producer-file", "", "producer .properties whose settings the workload uses")
	f.StringVar(&o.producerLibrary, "producer-library", "java", "client library the producers run on (java, librdkafka, franz-go, sarama); --producer-file is written for it (default: the file's entry in stretch.yaml's clients, else java)")
	f.StringVar(&o.producerVersion, "producer-version", "", "version of that library (kafka-clients 3.9.1, ...; default: the file's entry in stretch.yaml's clients, else the newest supported)")
	f.StringVar(&o.producerDC, "producer-dc", "", "run the producers inside this DC (lab backend)")
	f.StringVar(&o.acks, "acks", "", "override acks (all, 1, 0)")
	f.StringVar(&o.idempotence, "idempotence", "", "override enable.idempotence (true, false)")
	f.BoolVar(&o.transactional, "transactional", false, "write the ledger in transactions (Java client; ids of the drill's own with the coordinator of the producer file's transactional.id); the group reads read_committed")
	f.IntVar(&o.consumers, "consumers", 0, "members of a consumer group reading the topic through the fault (0: none)")
	f.StringSliceVar(&o.consumerDCs, "consumer-dc", nil, "run the members inside these DCs, spread round-robin (lab backend; default: here)")
	f.StringVar(&o.consumerFile, "consumer-file", "", "consumer .properties whose settings the members use (its group.id picks the coordinator; the drill never joins that group)")
	f.StringVar(&o.consumerLibrary, "consumer-library", "java", "client library the members run on (java, franz-go)")
	f.StringVar(&o.consumerVersion, "consumer-version", "", "version of that library (default: the newest supported)")
}

// addRunFlags registers the prediction's latency source, the
// confirmation and the output flags (drill and campaign).
func (o *drillOptions) addRunFlags(f *pflag.FlagSet, reportExample string) {
	f.StringVar(&o.latencyMatrix, "latency-matrix", "", "prediction: inter-DC latency from this matrix file (JSON of probe matrix or probe)")
	f.StringVar(&o.latencyTopic, "latency-topic", probe.DefaultResultsTopic, `prediction: inter-DC latency from the probe agents' topic ("" to not read it)`)
	f.BoolVarP(&o.yes, "yes", "y", false, "do not ask for confirmation (automation)")
	f.BoolVar(&o.force, "force", false, "run even if the cluster is not healthy")
	f.StringVar(&o.format, "format", "text", "text, json, markdown or html")
	f.StringArrayVar(&o.reports, "report", nil, "also write FORMAT=FILE (repeatable), e.g. "+reportExample)
}

// addBackendFlags registers the fault backend's flags (drill and tui).
func (o *drillOptions) addBackendFlags(f *pflag.FlagSet) {
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
}

// checkWorkload refuses workload flags out of range instead of replacing
// them with a default.
func (o *drillOptions) checkWorkload() error {
	switch {
	case o.rate <= 0:
		return fmt.Errorf("--rate %d: want a positive number of records per second", o.rate)
	case o.producers <= 0:
		return fmt.Errorf("--producers %d: want at least one producer", o.producers)
	case o.steady <= 0:
		return fmt.Errorf("--steady %v: want a positive duration", o.steady)
	case o.consumers < 0:
		return fmt.Errorf("--consumers %d: want 0 (no group) or more", o.consumers)
	}
	if _, err := strconv.ParseBool(o.idempotence); o.idempotence != "" && err != nil {
		return fmt.Errorf("--idempotence %q: want true or false", o.idempotence)
	}
	switch strings.ToLower(o.acks) {
	case "", "all", "-1", "0", "1":
	default:
		return fmt.Errorf("--acks %q: want all, 1 or 0", o.acks)
	}
	return nil
}

// options are the chaos options of the flags, without the fault and the
// topic; confirmation and events are the caller's.
func (o *drillOptions) options(c *config.Config, io IO, version string) (chaos.Options, error) {
	if err := o.checkWorkload(); err != nil {
		return chaos.Options{}, err
	}
	spec, err := o.backendSpec()
	if err != nil {
		return chaos.Options{}, err
	}
	library, libVersion := o.producerLibrary, o.producerVersion
	if cl, ok := clientEntry(c, o.producerFile); ok {
		if !o.libraryChanged {
			library = string(cl.Library)
		}
		if libVersion == "" {
			libVersion = cl.Version
		}
	}
	return chaos.Options{
		Config: c, BackendSpec: spec,
		Producer:   chaos.ProducerSpec{File: o.producerFile, Library: config.Library(library), Version: libVersion, Acks: o.acks, Idempotence: o.idempotence},
		ProducerDC: o.producerDC, Producers: o.producers, Rate: o.rate, Steady: o.steady, Force: o.force, StateDir: o.stateDir,
		Consumers: chaos.ConsumerSpec{Members: o.consumers, DCs: o.consumerDCs, File: o.consumerFile, Library: config.Library(o.consumerLibrary),
			Version: o.consumerVersion},
		Transactional:     o.transactional,
		LatencyMatrixFile: o.latencyMatrix, LatencyTopic: o.latencyTopic,
		Log: io.Log, Tool: "stretchctl", Version: version,
	}, nil
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
	dopts, err := o.options(c, io, version)
	if err != nil {
		return exitErr(ExitAssess, err)
	}
	dopts.Fault, dopts.Topic = fault, o.topic
	dopts.Events = func(e drill.Event) {
		if e.Message != "" {
			fmt.Fprintf(io.Err, "• %s\n", e.Message)
		}
	}
	if !o.yes {
		dopts.Confirm = func(id string) bool { return confirm(io, id, fault.String(), c.Path) }
	}
	res, err := chaos.Run(ctx, dopts)
	var notHealed *chaos.NotHealedError
	switch {
	case res == nil && err != nil:
		return exitErr(ExitAssess, o.runError(err))
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
	var unwritten []string
	for _, r := range extra {
		if werr := writeDrillFile(r.path, res, r.format, ropts); werr != nil {
			fmt.Fprintf(io.Err, "error: %v\n", werr)
			unwritten = append(unwritten, r.path)
		} else {
			fmt.Fprintf(io.Err, "written: %s\n", r.path)
		}
	}
	// A report that could not be written fails the run unless a fault
	// left in place (3) says more.
	if len(unwritten) > 0 && res.ExitCode() != drill.ExitNotHealed {
		return exitErr(ExitAssess, fmt.Errorf("reports not written: %s", strings.Join(unwritten, ", ")))
	}
	switch code := res.ExitCode(); code {
	case drill.ExitNotHealed:
		return exitErr(ExitNotHealed, fmt.Errorf("%w; retry with `stretchctl drill recover --state-dir %s`", notHealed, o.stateDir))
	case drill.ExitNotRun:
		return exitErr(ExitAssess, errors.New("the drill did not complete: see its notes"))
	case drill.ExitGoalsMissed:
		return &ExitError{Code: ExitViolated, Err: errors.New("goals missed")}
	}
	return nil
}

// clientEntry is the entry of stretch.yaml's clients for a producer file.
func clientEntry(c *config.Config, file string) (config.Client, bool) {
	if file == "" {
		return config.Client{}, false
	}
	abs, err := filepath.Abs(file)
	if err != nil {
		return config.Client{}, false
	}
	for _, cl := range c.Clients {
		if cl.Kind == config.KindProducer && cl.Path() == abs {
			return cl, true
		}
	}
	return config.Client{}, false
}

// runError names the flag behind an error of a drill that did not start.
func (o *drillOptions) runError(err error) error {
	var oe *chaos.OptionError
	var pre *chaos.PreflightError
	switch {
	case errors.As(err, &oe):
		flag := map[chaos.Option]string{
			chaos.OptConfig: "--config", chaos.OptFault: "--dc", chaos.OptTopic: "--topic", chaos.OptProducerFile: "--producer-file",
			chaos.OptProducerLibrary: "--producer-library", chaos.OptProducerDC: "--producer-dc", chaos.OptLatencyMatrix: "--latency-matrix",
			chaos.OptConsumers: "--consumers", chaos.OptConsumerFile: "--consumer-file", chaos.OptConsumerLibrary: "--consumer-library",
			chaos.OptConsumerDC: "--consumer-dc", chaos.OptCampaignDir: "--dir",
		}[oe.Option]
		if oe.Option == chaos.OptBackend {
			flag = "--backend " + o.backend
			if o.backend == "lab" {
				return fmt.Errorf("%s: %w (is the lab up? --lab-dir)", flag, oe.Err)
			}
		}
		return fmt.Errorf("%s: %w", flag, oe.Err)
	case errors.As(err, &pre):
		return fmt.Errorf("%w\n(--force runs it anyway)", err)
	case errors.Is(err, chaos.ErrAborted):
		return err
	}
	return fmt.Errorf("drill: %w (nothing was injected)", err)
}

func (o *drillOptions) faultSpec() (drill.Fault, error) {
	if o.fault == "" {
		return drill.Fault{}, errors.New("--fault is required: crash (kill), lose, freeze, isolate, latency or loss")
	}
	k, err := drill.ParseKind(o.fault)
	if err != nil {
		return drill.Fault{}, fmt.Errorf("--fault: %w", err)
	}
	if o.dc == "" {
		return drill.Fault{}, errors.New("--dc is required: the DC to break")
	}
	if o.duration <= 0 {
		return drill.Fault{}, fmt.Errorf("--duration %v: must be positive", o.duration)
	}
	f := drill.Fault{Kind: k, DC: o.dc, Peer: o.peer, Delay: o.delay, LossPercent: o.loss, Duration: o.duration}
	if err := f.Validate(); err != nil {
		return f, fmt.Errorf("--fault %s: %w (flags --dc, --peer, --delay, --loss)", k, err)
	}
	return f, nil
}

// backendSpec turns the backend flags into the backend's spec.
func (o *drillOptions) backendSpec() (drill.Spec, error) {
	switch o.backend {
	case "lab":
		return drill.Spec{Lab: &drill.LabSpec{Dir: o.labDir}}, nil
	case "exec":
		spec := drill.ExecSpec{Inject: map[drill.Kind]string{}, Heal: map[drill.Kind]string{}}
		for _, pair := range []struct {
			flag  string
			items []string
			into  map[drill.Kind]string
		}{{"--exec-inject", o.execInject, spec.Inject}, {"--exec-heal", o.execHeal, spec.Heal}} {
			for _, it := range pair.items {
				k, cmd, ok := strings.Cut(it, "=")
				kind, err := drill.ParseKind(k)
				if !ok || err != nil || strings.TrimSpace(cmd) == "" {
					return drill.Spec{}, fmt.Errorf("%s %q: want KIND=COMMAND with KIND crash, lose, freeze, isolate, latency or loss", pair.flag, it)
				}
				pair.into[kind] = cmd
			}
		}
		return drill.Spec{Exec: &spec}, nil
	case "chaos-mesh":
		labels := map[string]string{}
		for _, l := range o.podLabels {
			k, v, ok := strings.Cut(l, "=")
			if !ok || k == "" {
				return drill.Spec{}, fmt.Errorf("--pod-label %q: want KEY=VALUE", l)
			}
			labels[k] = v
		}
		if o.namespace == "" {
			return drill.Spec{}, errors.New("--backend chaos-mesh needs --namespace")
		}
		return drill.Spec{ChaosMesh: &drill.ChaosMeshSpec{
			Kubeconfig: o.kubeconfig, Namespace: o.namespace, TargetNamespaces: o.targetNamespaces,
			ZoneLabel: o.zoneLabel, PodLabels: labels,
		}}, nil
	}
	return drill.Spec{}, fmt.Errorf("--backend %q: want lab, chaos-mesh or exec", o.backend)
}

// confirm asks on the terminal, naming the cluster id; without a terminal
// it refuses (automation passes --yes).
func confirm(io IO, clusterID, what, cfg string) bool {
	in, ok := io.In.(*os.File)
	if !ok || !isTerminal(in) {
		fmt.Fprintf(io.Err, "refusing to inject %s into cluster %s without confirmation: not a terminal (pass --yes)\n", what, clusterID)
		return false
	}
	fmt.Fprintf(io.Err, "About to inject %s into cluster %s (%s).\nType the cluster id to go on: ", what, clusterID, cfg)
	line, _ := bufio.NewReader(in).ReadString('\n')
	return strings.TrimSpace(line) == clusterID
}

func writeDrillFile(path string, res *drill.Result, f report.Format, o report.Options) error {
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
			got, err := chaos.RecoverAll(cmd.Context(), stateDir, force, io.Log)
			if err != nil {
				return exitErr(ExitAssess, err)
			}
			if len(got) == 0 {
				fmt.Fprintf(io.Out, "nothing to recover in %s\n", stateDir)
				return nil
			}
			failed := 0
			for _, r := range got {
				if r.State == nil {
					failed++
					fmt.Fprintf(io.Out, "NOT READ: %s: %v (heal what it recorded by hand, then remove it)\n", r.File, r.Err)
					continue
				}
				if r.Err != nil {
					failed++
					fmt.Fprintf(io.Out, "NOT HEALED: drill %s (%s via %s): %v\n", r.State.ID, r.State.Fault, backendName(r.State.Backend), r.Err)
					continue
				}
				fmt.Fprintf(io.Out, "healed: drill %s (%s via %s, started %s)\n", r.State.ID, r.State.Fault, backendName(r.State.Backend), r.State.Started.Local().Format(time.DateTime))
			}
			if failed > 0 {
				return exitErr(ExitNotHealed, fmt.Errorf("%d of %d drills could not be healed or read; their state files are kept in %s", failed, len(got), stateDir))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&stateDir, "state-dir", chaos.DefaultStateDir(), "where drills in progress are recorded")
	cmd.Flags().BoolVar(&force, "force", false, "also heal drills whose process still runs")
	return cmd
}

func backendName(s drill.Spec) string {
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
