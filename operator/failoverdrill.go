package operator

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/tools/record"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	v1 "github.com/stretchctl/stretchctl/api/v1alpha1"
	"github.com/stretchctl/stretchctl/chaos"
	"github.com/stretchctl/stretchctl/chaos/chaosmesh"
	"github.com/stretchctl/stretchctl/config"
	"github.com/stretchctl/stretchctl/drill"
)

// Finalizer keeps a FailoverDrill until its Chaos Mesh objects are gone.
const Finalizer = "stretchctl.io/heal"

// Waits of the drill controller.
const (
	// waitOtherDrill is how often a drill waiting for another one of its
	// cluster looks again.
	waitOtherDrill = 10 * time.Second
	// waitInjected bounds how long Chaos Mesh may take to report a fault
	// in place.
	waitInjected = 2 * time.Minute
)

// DrillSeams are the drill runner's seams to Kafka and the workload (nil:
// the live cluster and the real client library). Tests replace them.
type DrillSeams struct {
	Kafka    func(cfg *config.Config) chaos.Kafka
	Workload func(cfg *config.Config) chaos.Workload
	Readers  func(cfg *config.Config) chaos.Readers
}

// FailoverDrillReconciler runs FailoverDrills with the engine's drill
// runner and the Chaos Mesh backend. The runner's phases are recorded in
// the drill's status before they are acted on, so that an operator
// restarted mid-drill heals (and, before the fault, restarts) it from
// the recorded phase.
type FailoverDrillReconciler struct {
	// Client reads through the manager's cache; Direct talks to the API
	// server without it, for what must be current or must work after the
	// manager stopped (a heal on shutdown): the Chaos Mesh objects and a
	// running drill's status.
	Client    client.Client
	Direct    client.Client
	Reader    client.Reader
	Recorder  record.EventRecorder
	Log       *slog.Logger
	Metrics   *Metrics
	SecretDir string
	Seams     DrillSeams
	// DC is where the operator runs (its pod's zone), "" when not
	// known: the ledger's producers run there.
	DC string
	// DeleteWait bounds the wait for a deleted drill's Chaos Mesh
	// objects to go (default 1 min); then they are named in status as
	// orphaned and the finalizer stays.
	DeleteWait time.Duration
	// Steady and Tail override every drill's steady state and tail
	// (tests).
	Steady, Tail time.Duration
	// Tool and Version name stretchctl in results.
	Tool, Version string
	// Ctx is the manager's lifetime: drills run in it, not in a
	// reconcile's context; cancelling it heals every running drill.
	Ctx context.Context

	mu      sync.Mutex
	running map[types.NamespacedName]*runningDrill
	wg      sync.WaitGroup
}

// runningDrill is a drill this process runs.
type runningDrill struct {
	cluster string
	cancel  context.CancelFunc
	done    chan struct{}
}

// +kubebuilder:rbac:groups=stretchctl.io,resources=failoverdrills,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=stretchctl.io,resources=failoverdrills/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=stretchctl.io,resources=failoverdrills/finalizers,verbs=update
// Chaos Mesh objects are read directly (never cached):
// +kubebuilder:rbac:groups=chaos-mesh.org,resources=podchaos;networkchaos,verbs=get;list;create;delete

// Reconcile moves a drill on: start it when its cluster is free, take it
// over after a restart, heal it when it is deleted.
func (r *FailoverDrillReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var fd v1.FailoverDrill
	if err := r.Client.Get(ctx, req.NamespacedName, &fd); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !fd.DeletionTimestamp.IsZero() {
		return r.finalize(ctx, &fd)
	}
	if !controllerutil.ContainsFinalizer(&fd, Finalizer) {
		if fd.Status.Phase == phaseOf(drill.Done) && len(fd.Status.Orphaned) == 0 {
			return ctrl.Result{}, nil
		}
		controllerutil.AddFinalizer(&fd, Finalizer)
		if err := r.Client.Update(ctx, &fd); err != nil {
			return ctrl.Result{}, err
		}
	}
	if r.isRunning(req.NamespacedName) {
		return ctrl.Result{}, nil
	}
	switch phase := drill.Phase(fd.Status.Phase); {
	case phase == drill.Done:
		return ctrl.Result{}, nil
	case phase.Index() >= drill.Injecting.Index():
		// Recorded from a process that is gone (this one restarted): the
		// fault may be in place. Hold it to its planned end, heal it,
		// wait for Kafka.
		return ctrl.Result{}, r.takeOver(ctx, &fd)
	default:
		// Pending, or a drill that had injected nothing when its process
		// died: (re)start it.
		return r.start(ctx, &fd)
	}
}

func (r *FailoverDrillReconciler) isRunning(key types.NamespacedName) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.running[key]
	return ok
}

// start checks the drill against its cluster and starts the runner.
func (r *FailoverDrillReconciler) start(ctx context.Context, fd *v1.FailoverDrill) (ctrl.Result, error) {
	key := client.ObjectKeyFromObject(fd)
	var sc v1.StretchCluster
	if err := r.Client.Get(ctx, client.ObjectKey{Namespace: fd.Namespace, Name: fd.Spec.ClusterRef.Name}, &sc); err != nil {
		if client.IgnoreNotFound(err) != nil {
			return ctrl.Result{}, err
		}
		return ctrl.Result{RequeueAfter: waitOtherDrill}, r.pending(ctx, fd, "ClusterNotFound", "StretchCluster "+fd.Spec.ClusterRef.Name+" not found in the namespace")
	}
	conn, topo := sc.Spec.Connection, sc.Spec.Topology
	var podLabels map[string]string
	if sc.Spec.StrimziRef != nil {
		d, err := deriveStrimzi(ctx, r.Reader, &sc)
		if err != nil {
			return r.refuseOrRetry(ctx, fd, err)
		}
		conn, topo = d.conn, d.merge(sc.Spec.Topology)
		podLabels = map[string]string{strimziClusterLabel: sc.Spec.StrimziRef.Name}
	}
	for _, dc := range []string{fd.Spec.DC, fd.Spec.Peer, fd.Spec.Producer.DC} {
		if dc != "" && !topo.HasDC(dc) {
			return ctrl.Result{}, r.refuse(ctx, fd, "UnknownDC", fmt.Sprintf("%q is not a DC of StretchCluster %s (%s)", dc, sc.Name, strings.Join(topo.DCs, ", ")))
		}
	}
	if p := fd.Spec.Producer.DC; p != "" && p != r.DC {
		here := "an unknown DC (start the operator with --dc)"
		if r.DC != "" {
			here = r.DC
		}
		return ctrl.Result{}, r.refuse(ctx, fd, "ProducerPlacement", fmt.Sprintf("spec.producer.dc is %s, but the ledger runs inside the operator, which runs in %s: leave producer.dc empty or run the operator in %s", p, here, p))
	}
	if other := r.otherDrill(ctx, fd); other != "" {
		return ctrl.Result{RequeueAfter: waitOtherDrill}, r.pending(ctx, fd, "WaitingForDrill", "waiting for drill "+other+" of the same cluster to finish")
	}
	res, err := resolve(ctx, r.Reader, &sc, conn, topo, r.SecretDir)
	if err != nil {
		return r.refuseOrRetry(ctx, fd, err)
	}
	opts, err := r.options(ctx, fd, &sc, res.cfg, podLabels)
	if err != nil {
		return r.refuseOrRetry(ctx, fd, err)
	}

	// The drill id is in the status before anything can be created.
	before := fd.DeepCopy()
	now := metav1.Now()
	fd.Status.ObservedGeneration = fd.Generation
	fd.Status.DrillID = opts.ID
	fd.Status.Phase = phaseOf(drill.Preflight)
	fd.Status.StartTime = &now
	fd.Status.Verdict, fd.Status.FailedStep, fd.Status.Message = "", "", "starting"
	setCondition(&fd.Status.Conditions, fd.Generation, v1.ConditionSucceeded, metav1.ConditionUnknown, "Running", "the drill is running")
	if err := r.Client.Status().Patch(ctx, fd, client.MergeFrom(before)); err != nil {
		return ctrl.Result{}, err
	}
	r.Metrics.drillStarted(fd)
	r.Recorder.Eventf(fd, corev1.EventTypeNormal, "Started", "drill %s: %s via Chaos Mesh, ledger on %s", opts.ID, opts.Fault, fd.Spec.Topic)

	w := r.statusWriter(key, drill.Preflight)
	opts.Store = w
	opts.Events = w.event
	r.launch(key, sc.Name, func(ctx context.Context) {
		result, err := chaos.Run(ctx, opts)
		r.finish(key, w, result, err)
	})
	return ctrl.Result{}, nil
}

// options turns the drill's spec into the runner's options.
func (r *FailoverDrillReconciler) options(ctx context.Context, fd *v1.FailoverDrill, sc *v1.StretchCluster, cfg *config.Config, podLabels map[string]string) (chaos.Options, error) {
	f := faultOf(fd)
	if err := f.Validate(); err != nil {
		return chaos.Options{}, &SpecError{fmt.Errorf("spec: %w", err)}
	}
	ns := sc.Spec.Chaos.Namespaces
	labels := map[string]string{}
	for k, v := range sc.Spec.Chaos.PodLabels {
		labels[k] = v
	}
	for k, v := range podLabels {
		labels[k] = v
	}
	spec := drill.ChaosMeshSpec{Namespace: fd.Namespace, TargetNamespaces: ns, ZoneLabel: sc.Spec.Chaos.ZoneLabel, PodLabels: labels, DrillID: drillID(fd)}
	backend := chaosmesh.New(spec, r.Direct)
	backend.WaitInjected = waitInjected

	prod := chaos.ProducerSpec{Library: fd.Spec.Producer.Library, Version: fd.Spec.Producer.Version}
	var err error
	if prod.File, err = r.clientFile(ctx, fd, fd.Spec.Producer.ConfigMapRef, "producer", "spec.producer.configMapRef"); err != nil {
		return chaos.Options{}, err
	}
	var cons chaos.ConsumerSpec
	if c := fd.Spec.Consumers; c != nil {
		cons = chaos.ConsumerSpec{Members: int(c.Members), Library: cmp.Or(c.Library, config.LibraryFranzGo), Version: c.Version}
		// The members run here, like the producers: in the operator's DC.
		if r.DC != "" {
			cons.DCs = []string{r.DC}
		}
		if cons.File, err = r.clientFile(ctx, fd, c.ConfigMapRef, "consumer", "spec.consumers.configMapRef"); err != nil {
			return chaos.Options{}, err
		}
	}
	if prod.Library == "" {
		prod.Library = config.LibraryFranzGo
	}
	o := chaos.Options{
		Config: cfg, ID: spec.DrillID, Backend: backend, Fault: f, Topic: fd.Spec.Topic, Producer: prod,
		Producers: int(fd.Spec.Producer.Producers), Rate: int(fd.Spec.Producer.Rate), Force: fd.Spec.Force,
		Consumers: cons, Transactional: fd.Spec.Transactional,
		LatencyTopic: latencyTopic(sc),
		// The ledger runs here: in the operator's DC when it is known.
		ProducerDC: r.DC, HereDC: r.DC,
		// The cluster id the drill may touch, checked against what the
		// preflight read: another cluster is never touched.
		Confirm: func(id string) bool { return id == fd.Spec.ClusterID },
		Log:     r.Log, Tool: r.Tool, Version: r.Version,
	}
	if fd.Spec.Steady != nil {
		o.Steady = fd.Spec.Steady.Duration
	}
	if r.Steady > 0 {
		o.Steady = r.Steady
	}
	if r.Tail > 0 {
		o.Tail = r.Tail
	}
	if r.Seams.Kafka != nil {
		o.Kafka = r.Seams.Kafka(cfg)
	}
	if r.Seams.Workload != nil {
		o.Workload = r.Seams.Workload(cfg)
	}
	if r.Seams.Readers != nil {
		o.Readers = r.Seams.Readers(cfg)
	}
	return o, nil
}

// clientFile writes the properties a drill's ConfigMap holds for one of
// its clients (field names the reference in errors) to the operator's
// file name.properties, "" when the spec names none.
func (r *FailoverDrillReconciler) clientFile(ctx context.Context, fd *v1.FailoverDrill, ref *v1.ConfigMapKeyRef, name, field string) (string, error) {
	if ref == nil {
		return "", nil
	}
	var cm corev1.ConfigMap
	if err := r.Reader.Get(ctx, client.ObjectKey{Namespace: fd.Namespace, Name: ref.Name}, &cm); err != nil {
		return "", notFoundIsSpec(err, "configmap "+ref.Name+" ("+field+")")
	}
	data, ok := cm.Data[ref.Key]
	if !ok {
		return "", &SpecError{fmt.Errorf("configmap %s has no key %q (%s)", ref.Name, ref.Key, field)}
	}
	dir := filepath.Join(r.SecretDir, fd.Namespace, "drill-"+fd.Name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	p := filepath.Join(dir, name+".properties")
	return p, os.WriteFile(p, []byte(data), 0o600)
}

// faultOf is the fault a drill's spec declares.
func faultOf(fd *v1.FailoverDrill) drill.Fault {
	f := drill.Fault{Kind: drill.Kind(fd.Spec.Fault), DC: fd.Spec.DC, Peer: fd.Spec.Peer, Duration: fd.Spec.Duration.Duration}
	if fd.Spec.Delay != nil {
		f.Delay = fd.Spec.Delay.Duration
	}
	if fd.Spec.LossPercent != nil {
		f.LossPercent = float64(*fd.Spec.LossPercent)
	}
	return f
}

// drillID is the id that labels the drill's Chaos Mesh objects: the
// object's name and uid, a valid label value.
func drillID(fd *v1.FailoverDrill) string {
	name := fd.Name
	uid := strings.ReplaceAll(string(fd.UID), "-", "")
	if len(uid) > 8 {
		uid = uid[:8]
	}
	if max := validation.LabelValueMaxLength - len(uid) - 1; len(name) > max {
		name = strings.TrimRight(name[:max], "-.")
	}
	return name + "-" + uid
}

// otherDrill names another drill of the same cluster that is running.
func (r *FailoverDrillReconciler) otherDrill(ctx context.Context, fd *v1.FailoverDrill) string {
	r.mu.Lock()
	for key, d := range r.running {
		if key.Namespace == fd.Namespace && d.cluster == fd.Spec.ClusterRef.Name && key.Name != fd.Name {
			r.mu.Unlock()
			return key.Name
		}
	}
	r.mu.Unlock()
	var list v1.FailoverDrillList
	if err := r.Client.List(ctx, &list, client.InNamespace(fd.Namespace)); err != nil {
		return "(the list of drills could not be read: " + err.Error() + ")"
	}
	for _, o := range list.Items {
		p := drill.Phase(o.Status.Phase)
		if o.Name != fd.Name && o.Spec.ClusterRef.Name == fd.Spec.ClusterRef.Name && p != "" && p.Index() >= 0 && p != drill.Done {
			return o.Name
		}
	}
	return ""
}

// takeOver heals a drill whose process died with the fault possibly in
// place (chaos.Resume: the hold continues to its planned end).
func (r *FailoverDrillReconciler) takeOver(ctx context.Context, fd *v1.FailoverDrill) error {
	key := client.ObjectKeyFromObject(fd)
	var sc v1.StretchCluster
	var cfg *config.Config
	if err := r.Client.Get(ctx, client.ObjectKey{Namespace: fd.Namespace, Name: fd.Spec.ClusterRef.Name}, &sc); err == nil {
		conn, topo := sc.Spec.Connection, sc.Spec.Topology
		if d, err := r.strimziOf(ctx, &sc); err == nil && d != nil {
			conn, topo = d.conn, d.merge(sc.Spec.Topology)
		}
		if res, err := resolve(ctx, r.Reader, &sc, conn, topo, r.SecretDir); err == nil {
			cfg = res.cfg
		}
	}
	spec := drill.ChaosMeshSpec{Namespace: fd.Namespace, DrillID: fd.Status.DrillID}
	st := &chaos.State{ID: fd.Status.DrillID, PID: -1, ClusterID: fd.Spec.ClusterID, Config: "StretchCluster " + fd.Namespace + "/" + fd.Spec.ClusterRef.Name,
		Backend: drill.Spec{ChaosMesh: &spec}, Fault: faultOf(fd), Topic: fd.Spec.Topic, Phase: drill.Phase(fd.Status.Phase)}
	if fd.Status.StartTime != nil {
		st.Started = fd.Status.StartTime.Time
	}
	if fd.Status.InjectedTime != nil {
		st.Injected = fd.Status.InjectedTime.Time
	}
	w := r.statusWriter(key, st.Phase)
	ro := chaos.ResumeOptions{Store: w, Continue: true, Events: w.event, Log: r.Log, Tool: r.Tool, Version: r.Version,
		Open: func(drill.Spec) (drill.Backend, error) { return chaosmesh.New(spec, r.Direct), nil }}
	if cfg != nil {
		ro.Kafka = r.kafkaOf(cfg)
	}
	r.Recorder.Eventf(fd, corev1.EventTypeWarning, "TakenOver", "the operator restarted during phase %s: healing drill %s", st.Phase, st.ID)
	r.launch(key, fd.Spec.ClusterRef.Name, func(ctx context.Context) {
		result, err := chaos.Resume(ctx, st, ro)
		r.finish(key, w, result, err)
	})
	return nil
}

func (r *FailoverDrillReconciler) strimziOf(ctx context.Context, sc *v1.StretchCluster) (*derived, error) {
	if sc.Spec.StrimziRef == nil {
		return nil, nil
	}
	return deriveStrimzi(ctx, r.Reader, sc)
}

func (r *FailoverDrillReconciler) kafkaOf(cfg *config.Config) chaos.Kafka {
	if r.Seams.Kafka != nil {
		return r.Seams.Kafka(cfg)
	}
	return chaos.LiveKafka(cfg, r.Log)
}

// launch runs a drill in its own goroutine, in the manager's lifetime.
func (r *FailoverDrillReconciler) launch(key types.NamespacedName, cluster string, run func(ctx context.Context)) {
	base := r.Ctx
	if base == nil {
		base = context.Background()
	}
	ctx, cancel := context.WithCancel(base)
	d := &runningDrill{cluster: cluster, cancel: cancel, done: make(chan struct{})}
	r.mu.Lock()
	if r.running == nil {
		r.running = map[types.NamespacedName]*runningDrill{}
	}
	r.running[key] = d
	r.mu.Unlock()
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		defer close(d.done)
		defer cancel()
		defer func() {
			r.mu.Lock()
			delete(r.running, key)
			r.mu.Unlock()
		}()
		run(ctx)
	}()
}

// Wait returns once every drill this reconciler runs has returned (each
// heals its fault when the manager's context ends).
func (r *FailoverDrillReconciler) Wait() { r.wg.Wait() }

// finish writes the drill's outcome into its status and a ConfigMap.
func (r *FailoverDrillReconciler) finish(key types.NamespacedName, w *statusWriter, res *drill.Result, runErr error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	w.stop()
	var fd v1.FailoverDrill
	if err := r.Direct.Get(ctx, key, &fd); err != nil {
		r.Log.Error("drill finished but its object cannot be read", "drill", key.String(), "err", err)
		return
	}
	before := fd.DeepCopy()
	applyOutcome(&fd, res, runErr)
	if res != nil {
		if name, err := r.writeResult(ctx, &fd, res); err == nil {
			fd.Status.ResultConfigMap = name
		} else {
			fd.Status.Message += "; the result could not be stored: " + err.Error()
		}
	}
	if err := r.Direct.Status().Patch(ctx, &fd, client.MergeFrom(before)); err != nil {
		r.Log.Error("drill status", "drill", key.String(), "err", err)
	}
	r.Metrics.drillEnded(&fd, res)
	typ := corev1.EventTypeNormal
	if fd.Status.Verdict != v1.DrillPass {
		typ = corev1.EventTypeWarning
	}
	r.Recorder.Event(&fd, typ, string(fd.Status.Verdict), fd.Status.Message)
}

// applyOutcome maps the runner's result or error onto the status.
func applyOutcome(fd *v1.FailoverDrill, res *drill.Result, runErr error) {
	st := &fd.Status
	now := metav1.Now()
	st.CompletionTime = &now
	gen := fd.Generation
	var notHealed *chaos.NotHealedError
	var preflight *chaos.PreflightError
	switch {
	case errors.As(runErr, &notHealed):
		st.Phase = phaseOf(drill.Healing)
		st.Verdict, st.FailedStep = v1.DrillFail, string(drill.Healing)
		st.Orphaned = res.Leftover
		st.Message = runErr.Error()
		setCondition(&st.Conditions, gen, v1.ConditionRecoveryVerified, metav1.ConditionFalse, "NotHealed", runErr.Error())
		setCondition(&st.Conditions, gen, v1.ConditionSucceeded, metav1.ConditionFalse, "NotHealed", runErr.Error())
		return
	case res == nil:
		step := string(st.Phase)
		st.Phase = phaseOf(drill.Done)
		st.Verdict = v1.DrillAborted
		reason := "Aborted"
		msg := "the drill stopped before injecting anything"
		if runErr != nil {
			msg = runErr.Error()
		}
		switch {
		case errors.Is(runErr, chaos.ErrAborted):
			reason, msg, step = "WrongCluster", "the cluster's id is not spec.clusterID ("+fd.Spec.ClusterID+"): nothing injected", string(drill.Preflight)
			setCondition(&st.Conditions, gen, v1.ConditionPreflightPassed, metav1.ConditionFalse, reason, msg)
		case errors.As(runErr, &preflight):
			reason, step = "PreflightFailed", string(drill.Preflight)
			setCondition(&st.Conditions, gen, v1.ConditionPreflightPassed, metav1.ConditionFalse, reason, msg)
		}
		st.FailedStep, st.Message = step, msg
		setCondition(&st.Conditions, gen, v1.ConditionSucceeded, metav1.ConditionFalse, reason, msg)
		return
	}
	st.Phase = phaseOf(drill.Done)
	st.Orphaned = nil
	switch res.Verdict {
	case drill.Pass:
		st.Verdict = v1.DrillPass
	case drill.Fail:
		st.Verdict = v1.DrillFail
	case drill.Inconclusive:
		st.Verdict = v1.DrillInconclusive
	default:
		st.Verdict = v1.DrillAborted
		st.FailedStep = string(res.Phase)
	}
	if res.Predicted != nil && res.Predicted.Error == "" {
		st.Predicted = &v1.Figures{RTO: rtoString(res.Predicted.RTOSeconds), AckedLost: int64(res.Predicted.AckedLossPossible)}
		if p := res.Predicted.Read; p != nil {
			st.Predicted.ReadRTO = rtoString(p.RTOSeconds)
			if p.MinRTOSeconds != nil && p.RTOSeconds != nil {
				st.Predicted.ReadRTO = rtoString(p.MinRTOSeconds) + "-" + st.Predicted.ReadRTO
			}
		}
	}
	if res.Verdict == drill.Pass || res.Verdict == drill.Fail {
		st.Observed = &v1.Figures{RTO: rtoString(res.Observed.RTOSeconds), AckedLost: res.Observed.AckedLost, Duplicates: res.Observed.Duplicates}
		if o := res.Observed.Read; o != nil {
			st.Observed.ReadRTO, st.Observed.ReadAgain, st.Observed.Skipped = rtoString(o.RTOSeconds), o.Redelivered, o.Skipped
		}
	}
	st.Agreement = string(res.Comparison.Status)
	if !res.Phases.Injected.IsZero() {
		t := metav1.NewTime(res.Phases.Injected)
		st.InjectedTime = &t
	}
	if res.Verdict != drill.Inconclusive {
		setCondition(&st.Conditions, gen, v1.ConditionPreflightPassed, metav1.ConditionTrue, "Healthy", "the cluster was healthy and is "+res.ClusterID)
	}
	if res.Healed {
		if res.Phases.Recovered.IsZero() {
			setCondition(&st.Conditions, gen, v1.ConditionRecoveryVerified, metav1.ConditionFalse, "ISRNotFull", "the fault was removed but Kafka did not report every replica in sync: "+strings.Join(res.Notes, "; "))
		} else {
			setCondition(&st.Conditions, gen, v1.ConditionRecoveryVerified, metav1.ConditionTrue, "ISRFull",
				fmt.Sprintf("Chaos Mesh objects removed; every replica of %s in sync at %s", res.Workload.Topic, res.Phases.Recovered.Format(time.RFC3339)))
		}
	}
	msg := fmt.Sprintf("%s: %s", st.Verdict, res.Fault)
	if st.Observed != nil {
		msg += fmt.Sprintf("; observed RTO %s, %d acknowledged records lost", orNone(st.Observed.RTO), st.Observed.AckedLost)
	}
	if st.Predicted != nil {
		msg += fmt.Sprintf("; predicted RTO %s", orNone(st.Predicted.RTO))
	}
	if st.Agreement != "" {
		msg += "; " + st.Agreement
	}
	if len(res.Notes) > 0 && st.Verdict != v1.DrillPass {
		msg += ": " + res.Notes[0]
	}
	st.Message = msg
	status := metav1.ConditionFalse
	if st.Verdict == v1.DrillPass {
		status = metav1.ConditionTrue
	}
	setCondition(&st.Conditions, gen, v1.ConditionSucceeded, status, string(st.Verdict), msg)
}

func orNone(s string) string {
	if s == "" {
		return "none (writes did not resume)"
	}
	return s
}

func rtoString(s *float64) string {
	if s == nil {
		return ""
	}
	return seconds(*s)
}

// writeResult stores the result JSON in <drill>-result, owned by the
// drill.
func (r *FailoverDrillReconciler) writeResult(ctx context.Context, fd *v1.FailoverDrill, res *drill.Result) (string, error) {
	js, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return "", err
	}
	if len(js) > maxConfigMapData {
		// The ledger's lost records and the timeline are the bulk.
		slim := *res
		slim.Timeline, slim.Observed.Lost, slim.Observed.Partitions = nil, nil, nil
		slim.Notes = append(slim.Notes, "timeline and per-partition detail left out: too large for a ConfigMap")
		if js, err = json.MarshalIndent(&slim, "", "  "); err != nil {
			return "", err
		}
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: fd.Name + "-result", Namespace: fd.Namespace}}
	_, err = controllerutil.CreateOrUpdate(ctx, r.Direct, cm, func() error {
		cm.Labels = map[string]string{labelCluster: fd.Spec.ClusterRef.Name, "app.kubernetes.io/managed-by": "stretchctl"}
		cm.Data = map[string]string{"result.json": string(js)}
		return controllerutil.SetControllerReference(fd, cm, r.Direct.Scheme())
	})
	return cm.Name, err
}

// finalize heals what the drill may have left and lets the object go;
// the finalizer stays while Chaos Mesh objects remain (named in status).
func (r *FailoverDrillReconciler) finalize(ctx context.Context, fd *v1.FailoverDrill) (ctrl.Result, error) {
	if !controllerutil.ContainsFinalizer(fd, Finalizer) {
		return ctrl.Result{}, nil
	}
	key := client.ObjectKeyFromObject(fd)
	r.mu.Lock()
	d := r.running[key]
	r.mu.Unlock()
	if d != nil {
		// The runner heals on cancellation; wait for it.
		d.cancel()
		select {
		case <-d.done:
		case <-ctx.Done():
			return ctrl.Result{}, ctx.Err()
		}
	}
	if fd.Status.DrillID != "" {
		b := chaosmesh.New(drill.ChaosMeshSpec{Namespace: fd.Namespace, DrillID: fd.Status.DrillID}, r.Direct)
		wait := r.DeleteWait
		if wait <= 0 {
			wait = time.Minute
		}
		hctx, cancel := context.WithTimeout(ctx, wait)
		err := b.Recover(hctx, drill.Fault{})
		cancel()
		if err != nil {
			before := fd.DeepCopy()
			left, _ := b.Existing(ctx)
			fd.Status.Orphaned = left
			fd.Status.Message = "deleted, but its Chaos Mesh objects could not be removed: " + err.Error()
			_ = r.Client.Status().Patch(ctx, fd, client.MergeFrom(before))
			r.Recorder.Event(fd, corev1.EventTypeWarning, "NotHealed", fd.Status.Message)
			return ctrl.Result{RequeueAfter: waitOtherDrill}, nil
		}
	}
	r.Metrics.drillEnded(fd, nil)
	controllerutil.RemoveFinalizer(fd, Finalizer)
	return ctrl.Result{}, r.Client.Update(ctx, fd)
}

// pending records why a drill has not started.
func (r *FailoverDrillReconciler) pending(ctx context.Context, fd *v1.FailoverDrill, reason, msg string) error {
	before := fd.DeepCopy()
	fd.Status.ObservedGeneration = fd.Generation
	fd.Status.Phase = v1.DrillPhasePending
	fd.Status.Message = msg
	setCondition(&fd.Status.Conditions, fd.Generation, v1.ConditionSucceeded, metav1.ConditionUnknown, reason, msg)
	return r.Client.Status().Patch(ctx, fd, client.MergeFrom(before))
}

// refuse ends a drill the controller will not run.
func (r *FailoverDrillReconciler) refuse(ctx context.Context, fd *v1.FailoverDrill, reason, msg string) error {
	before := fd.DeepCopy()
	now := metav1.Now()
	fd.Status.ObservedGeneration = fd.Generation
	fd.Status.Phase = phaseOf(drill.Done)
	fd.Status.Verdict, fd.Status.FailedStep, fd.Status.Message = v1.DrillAborted, string(drill.Preflight), msg
	fd.Status.CompletionTime = &now
	setCondition(&fd.Status.Conditions, fd.Generation, v1.ConditionPreflightPassed, metav1.ConditionFalse, reason, msg)
	setCondition(&fd.Status.Conditions, fd.Generation, v1.ConditionSucceeded, metav1.ConditionFalse, reason, msg)
	r.Recorder.Event(fd, corev1.EventTypeWarning, reason, msg)
	return r.Client.Status().Patch(ctx, fd, client.MergeFrom(before))
}

// refuseOrRetry refuses a drill whose spec cannot work, and retries
// other errors.
func (r *FailoverDrillReconciler) refuseOrRetry(ctx context.Context, fd *v1.FailoverDrill, err error) (ctrl.Result, error) {
	var specErr *SpecError
	if errors.As(err, &specErr) {
		return ctrl.Result{}, r.refuse(ctx, fd, "InvalidSpec", err.Error())
	}
	return ctrl.Result{}, err
}

// SetupWithManager registers the reconciler.
func (r *FailoverDrillReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).For(&v1.FailoverDrill{}).Named("failoverdrill").Complete(r)
}
