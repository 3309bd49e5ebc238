// Package operator is the Kubernetes front end of stretchctl: the
// StretchCluster controller checks a cluster periodically with the
// engine's check pipeline (advise) and the FailoverDrill controller runs
// drills with the engine's drill runner (chaos) and its Chaos Mesh
// backend, their phases recorded in the drill's status.
//
// It translates objects into the engine's options and results into
// status, events and metrics; it holds no check or drill logic of its
// own, never prints, and reads no flags or environment (the CLI's
// `stretchctl operator` does).
package operator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	cm "github.com/chaos-mesh/chaos-mesh/api/v1alpha1"
	v1 "github.com/stretchctl/stretchctl/api/v1alpha1"
)

// Options configure the operator.
type Options struct {
	// Config reaches the API server.
	Config *rest.Config
	// MetricsAddr serves /metrics ("0" disables), ProbeAddr /healthz and
	// /readyz ("0" disables).
	MetricsAddr, ProbeAddr string
	// LeaderElection makes one replica of several active;
	// LeaderElectionNamespace holds its Lease (default: in-cluster
	// namespace).
	LeaderElection          bool
	LeaderElectionNamespace string
	// DC is the data center the operator's pod runs in (the ledger's
	// producers run there); "" when not known.
	DC string
	// Namespaces to watch (nil: all).
	Namespaces []string
	// SecretDir holds the TLS and SASL material and the client files
	// taken from Secrets and ConfigMaps (default a private temporary
	// directory).
	SecretDir string
	Log       *slog.Logger
	// Tool and Version name stretchctl in results.
	Tool, Version string
	// Seams replace the drills' Kafka and workload (tests); Gather the
	// check's input side (tests).
	Seams  DrillSeams
	Gather Gatherer
	// Steady and Tail override the drills' steady state and tail, and
	// DeleteWait the wait for a deleted drill's Chaos Mesh objects
	// (tests).
	Steady, Tail, DeleteWait time.Duration
	// Started, when set, is called once the manager is built (tests read
	// its metrics registry and the reconcilers).
	Started func(*Operator)
}

// Leader election (a Lease in the operator's namespace) and the events it
// records about itself:
// +kubebuilder:rbac:groups=coordination.k8s.io,namespace=stretchctl-system,resources=leases,verbs=get;list;watch;create;update;patch;delete

// Operator is a running operator's parts.
type Operator struct {
	Manager  ctrl.Manager
	Clusters *StretchClusterReconciler
	Drills   *FailoverDrillReconciler
	Metrics  *Metrics
}

// Scheme has the types the operator reads and writes: Kubernetes', its
// own and Chaos Mesh's.
func Scheme() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, v1.AddToScheme, cm.AddToScheme} {
		if err := add(s); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Run runs the operator until ctx ends, then waits for every running
// drill to heal.
func Run(ctx context.Context, o Options) error {
	if o.Config == nil {
		return errors.New("operator: no API server configuration")
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	ctrl.SetLogger(logr.FromSlogHandler(o.Log.Handler()))
	if o.SecretDir == "" {
		d, err := os.MkdirTemp("", "stretchctl-operator-")
		if err != nil {
			return fmt.Errorf("operator: secret directory: %w", err)
		}
		defer os.RemoveAll(d)
		o.SecretDir = d
	} else if err := os.MkdirAll(filepath.Clean(o.SecretDir), 0o700); err != nil {
		return fmt.Errorf("operator: secret directory: %w", err)
	}
	scheme, err := Scheme()
	if err != nil {
		return err
	}
	mo := ctrl.Options{
		Scheme:                        scheme,
		Metrics:                       metricsserver.Options{BindAddress: orZero(o.MetricsAddr)},
		HealthProbeBindAddress:        orZero(o.ProbeAddr),
		LeaderElection:                o.LeaderElection,
		LeaderElectionID:              "stretchctl-operator.stretchctl.io",
		LeaderElectionNamespace:       o.LeaderElectionNamespace,
		LeaderElectionReleaseOnCancel: true,
		// Drills heal when the context ends; the manager waits for
		// runnables, the reconciler's Wait for drills.
		GracefulShutdownTimeout: ptr(6 * time.Minute),
		// Run may build a manager more than once in a process (the tests
		// restart the operator); the controllers' names repeat then.
		Controller: config.Controller{SkipNameValidation: ptr(true)},
	}
	if len(o.Namespaces) > 0 {
		mo.Cache = cache.Options{DefaultNamespaces: map[string]cache.Config{}}
		for _, ns := range o.Namespaces {
			mo.Cache.DefaultNamespaces[ns] = cache.Config{}
		}
	}
	mgr, err := ctrl.NewManager(o.Config, mo)
	if err != nil {
		return fmt.Errorf("operator: %w", err)
	}
	direct, err := client.New(o.Config, client.Options{Scheme: scheme})
	if err != nil {
		return fmt.Errorf("operator: %w", err)
	}
	m := registered()
	rec := mgr.GetEventRecorderFor("stretchctl")
	clusters := &StretchClusterReconciler{Client: mgr.GetClient(), Reader: mgr.GetAPIReader(), Recorder: rec, Log: o.Log,
		Gather: o.Gather, SecretDir: o.SecretDir, Metrics: m}
	drills := &FailoverDrillReconciler{Client: mgr.GetClient(), Direct: direct, Reader: mgr.GetAPIReader(), Recorder: rec, Log: o.Log, Metrics: m,
		SecretDir: o.SecretDir, Seams: o.Seams, DC: o.DC, Steady: o.Steady, Tail: o.Tail, DeleteWait: o.DeleteWait, Tool: o.Tool, Version: o.Version, Ctx: ctx}
	if err := clusters.SetupWithManager(mgr); err != nil {
		return fmt.Errorf("operator: %w", err)
	}
	if err := drills.SetupWithManager(mgr); err != nil {
		return fmt.Errorf("operator: %w", err)
	}
	if o.ProbeAddr != "0" && o.ProbeAddr != "" {
		if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
			return err
		}
		if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
			return err
		}
	}
	if o.Started != nil {
		o.Started(&Operator{Manager: mgr, Clusters: clusters, Drills: drills, Metrics: m})
	}
	err = mgr.Start(ctx)
	drills.Wait()
	return err
}

// registered are the metrics in controller-runtime's registry (served on
// /metrics), registered once per process however often Run is called.
var registered = sync.OnceValue(func() *Metrics { return NewMetrics(metrics.Registry) })

func orZero(addr string) string {
	if addr == "" {
		return "0"
	}
	return addr
}

func ptr[T any](v T) *T { return &v }
