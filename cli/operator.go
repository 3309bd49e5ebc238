package cli

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/spf13/cobra"
	"github.com/stretchctl/stretchctl/chaos/chaosmesh"
	"github.com/stretchctl/stretchctl/operator"
)

func newOperatorCmd(io IO, version string) *cobra.Command {
	var (
		kubeconfig, metricsAddr, probeAddr, leNamespace, secretDir, logFormat, logLevel, dc string
		leaderElect                                                                         bool
		namespaces                                                                          []string
	)
	cmd := &cobra.Command{
		Use:   "operator",
		Short: "Run the Kubernetes operator (StretchCluster, FailoverDrill)",
		Long: `Run the stretchctl operator: it checks every StretchCluster periodically
(the check of ` + "`stretchctl check`" + `, summarised in status, the full report
in a ConfigMap) and runs FailoverDrills through Chaos Mesh with the drill
runner of ` + "`stretchctl drill`" + `, their phases recorded in status so that a
restarted operator heals what it left. Install it with
  kubectl apply -k manifests/
SIGTERM heals every drill in progress before the process exits.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var level slog.Level
			if err := level.UnmarshalText([]byte(logLevel)); err != nil {
				return exitErr(ExitAssess, fmt.Errorf("--log-level: %w", err))
			}
			hopts := &slog.HandlerOptions{Level: level}
			var h slog.Handler
			switch logFormat {
			case "json":
				h = slog.NewJSONHandler(io.Err, hopts)
			case "text":
				h = slog.NewTextHandler(io.Err, hopts)
			default:
				return exitErr(ExitAssess, fmt.Errorf("--log-format: %q is neither json nor text", logFormat))
			}
			cfg, err := chaosmesh.RESTConfig(kubeconfig)
			if err != nil {
				return exitErr(ExitAssess, fmt.Errorf("--kubeconfig: %w", err))
			}
			err = operator.Run(cmd.Context(), operator.Options{
				Config: cfg, MetricsAddr: metricsAddr, ProbeAddr: probeAddr,
				LeaderElection: leaderElect, LeaderElectionNamespace: leNamespace, Namespaces: namespaces, DC: dc,
				SecretDir: secretDir, Log: slog.New(h), Tool: "stretchctl", Version: version,
			})
			if err != nil && !errors.Is(err, cmd.Context().Err()) {
				return exitErr(ExitAssess, err)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&kubeconfig, "kubeconfig", "", "kubeconfig file (default: $KUBECONFIG, then in-cluster, then ~/.kube/config)")
	f.StringVar(&metricsAddr, "metrics-bind-address", ":8080", `address of /metrics ("0" disables)`)
	f.StringVar(&probeAddr, "health-probe-bind-address", ":8081", `address of /healthz and /readyz ("0" disables)`)
	f.BoolVar(&leaderElect, "leader-elect", false, "elect one active replica through a Lease")
	f.StringVar(&leNamespace, "leader-election-namespace", "", "namespace of the Lease (default: the pod's)")
	f.StringSliceVar(&namespaces, "namespace", nil, "watch only these namespaces (repeatable; default all)")
	f.StringVar(&secretDir, "secret-dir", "", "where TLS and SASL material from Secrets is written for the Kafka clients (default: a private temporary directory)")
	f.StringVar(&dc, "dc", "", "the DC this operator runs in: drills whose producer.dc names it run their ledger here")
	f.StringVar(&logFormat, "log-format", "json", "json or text")
	f.StringVar(&logLevel, "log-level", "info", "debug, info, warn or error")
	return cmd
}
