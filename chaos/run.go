package chaos

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/stretchctl/stretchctl/advise"
	"github.com/stretchctl/stretchctl/drill"
	"github.com/stretchctl/stretchctl/probe"
	"github.com/stretchctl/stretchctl/topology"
)

// healTimeout bounds a heal; it runs even after ctx is cancelled.
const healTimeout = 5 * time.Minute

// Run runs one drill: preflight, prediction, steady state, inject, hold,
// heal, wait for the ISR, read back, verdict.
//
// Errors: *OptionError, *PreflightError, ErrAborted, connection errors and
// a cancelled ctx before anything is injected (the result is nil); a
// *NotHealedError with the result when the heal failed. Otherwise the
// result's verdict says pass, fail or error, and ExitCode maps it.
func Run(ctx context.Context, o Options) (*drill.Result, error) {
	r, err := newRunner(o)
	if err != nil {
		return nil, err
	}
	return r.run(ctx)
}

// runner is one drill in progress.
type runner struct {
	o       Options
	kafka   Kafka
	work    Workload
	backend drill.Backend
	prod    producer
	place   drill.Placement
	readers Readers
	cons    *consumer
	// placeIn are the placements of the consumers' DCs.
	placeIn map[string]drill.Placement

	state      *State
	store      Store
	healFailed bool
	// mu serialises events and guards phase and ledger.
	mu     sync.Mutex
	phase  drill.Phase
	ledger LedgerRun
}

// newRunner checks the options and resolves what they name; nothing
// touches the cluster yet.
func newRunner(o Options) (*runner, error) {
	o = o.withDefaults()
	cfg := o.Config
	if cfg == nil {
		return nil, &OptionError{OptConfig, errors.New("no configuration")}
	}
	f := o.Fault
	if err := f.Validate(); err != nil {
		return nil, &OptionError{OptFault, err}
	}
	for _, dc := range []string{f.DC, f.Peer} {
		if dc != "" && len(cfg.Topology.DCs) > 0 && !cfg.Topology.HasDC(dc) {
			return nil, &OptionError{OptFault, notADC(dc, cfg.Path, cfg.Topology.DCs)}
		}
	}
	if dc := o.ProducerDC; dc != "" && len(cfg.Topology.DCs) > 0 && !cfg.Topology.HasDC(dc) {
		return nil, &OptionError{OptProducerDC, notADC(dc, cfg.Path, cfg.Topology.DCs)}
	}
	if o.Topic == "" {
		return nil, &OptionError{OptTopic, errors.New("no topic for the ledger workload")}
	}
	r := &runner{o: o, kafka: o.Kafka, work: o.Workload, backend: o.Backend, store: storeOr(o.Store, o.StateDir)}
	if r.backend == nil {
		b, err := OpenBackend(o.BackendSpec, o.ID, o.Log)
		if err != nil {
			return nil, &OptionError{OptBackend, err}
		}
		r.backend = b
	}
	if ex := r.backend.Spec().Exec; ex != nil && ex.Inject[f.Kind] == "" {
		return nil, &OptionError{OptBackend, fmt.Errorf("the exec backend has no inject command for %s", f.Kind)}
	}
	o.Producer.Transactional = o.Transactional
	prod, err := resolveProducer(cfg, o.Producer, o.ProducerDC)
	if err != nil {
		return nil, err
	}
	r.prod = prod
	if o.ProducerDC != "" && o.ProducerDC != o.HereDC {
		placer, ok := r.backend.(drill.Placer)
		if !ok {
			return nil, &OptionError{OptProducerDC, fmt.Errorf("the %s backend cannot place the producers in a DC (the lab backend can): run the drill where the producers should be", r.backend.Name())}
		}
		place, err := placer.PlaceIn(o.ProducerDC)
		if err != nil {
			return nil, &OptionError{OptProducerDC, err}
		}
		r.place = place
	}
	if r.cons, err = resolveConsumer(cfg, o.Consumers); err != nil {
		return nil, err
	}
	if r.cons != nil && o.Transactional {
		r.cons.readCommitted()
	}
	if r.cons != nil {
		r.placeIn = map[string]drill.Placement{}
		for _, dc := range r.cons.spec.DCs {
			if dc == "" || dc == o.HereDC {
				continue
			}
			placer, ok := r.backend.(drill.Placer)
			if !ok {
				return nil, &OptionError{OptConsumerDC, fmt.Errorf("the %s backend cannot place the consumers in a DC (the lab backend can)", r.backend.Name())}
			}
			place, err := placer.PlaceIn(dc)
			if err != nil {
				return nil, &OptionError{OptConsumerDC, err}
			}
			r.placeIn[dc] = place
		}
	}
	r.readers = o.Readers
	if r.readers == nil {
		r.readers = libraryReaders{cluster: cfg.Cluster, log: o.Log}
	}
	if r.kafka == nil {
		r.kafka = liveKafka{cfg: cfg, log: o.Log}
	}
	if r.work == nil {
		r.work = libraryWorkload{cluster: cfg.Cluster, log: o.Log}
	}
	return r, nil
}

func notADC(dc, path string, dcs []string) error {
	return fmt.Errorf("%q is not a DC of %s (topology.dcs: %s)", dc, path, strings.Join(dcs, ", "))
}

func (o Options) withDefaults() Options {
	if o.Steady <= 0 {
		o.Steady = 10 * time.Second
	}
	if o.Tail <= 0 {
		o.Tail = 5 * time.Second
	}
	if o.PreflightWait <= 0 {
		o.PreflightWait = time.Minute
	}
	if o.RecoverWait <= 0 {
		o.RecoverWait = 3 * time.Minute
	}
	if o.Rate <= 0 {
		o.Rate = 1000
	}
	if o.Producers <= 0 {
		// Several producers, each with its own connection to every
		// leader: with one request in flight per connection (idempotence)
		// a partition hears back once per acks=all round trip from each,
		// and the RTO is known to that spacing.
		o.Producers = 4
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.ID == "" {
		o.ID = NewID(o.Now())
	}
	return o
}

// enter records the phase (in the state file, once there is one) before
// the drill acts on it, and emits it.
func (r *runner) enter(ctx context.Context, p drill.Phase, msg string) error {
	r.mu.Lock()
	r.phase = p
	r.mu.Unlock()
	var err error
	// Once a heal failed the file stays at Healing: the fault may still
	// be in place whatever the drill does next.
	if r.state != nil && !r.healFailed {
		r.state.Phase = p
		// Recorded even when ctx is cancelled: the heal that follows a
		// Ctrl-C must be recorded too.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		err = r.store.Save(sctx, r.state)
		cancel()
	}
	r.emit(msg)
	return err
}

// emit sends an event of the current phase with the figures so far.
func (r *runner) emit(msg string) {
	if r.o.Events == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	ev := drill.Event{Phase: r.phase, At: r.o.Now(), Fault: r.o.Fault, Message: msg}
	if r.ledger != nil {
		c := r.ledger.Counts()
		ev.Figures = drill.Figures{Sent: c.Sent, Acked: c.Acked, Failed: c.Failed, Elapsed: r.o.Now().Sub(r.ledger.Ledger().Start),
			LastAck: c.LastAck, OldestPending: c.OldestPending}
	}
	r.o.Events(ev)
}

// figures emits the workload's figures every second until stop is closed.
func (r *runner) figures(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			r.emit("")
		}
	}
}

func (r *runner) run(ctx context.Context) (*drill.Result, error) {
	o, f := r.o, r.o.Fault
	cfg := o.Config
	if err := r.enter(ctx, drill.Preflight, "preflight: reading the cluster"); err != nil {
		return nil, err
	}
	snap, err := r.kafka.Snapshot(ctx)
	if err != nil {
		return nil, err
	}
	// A cluster still catching up (a previous drill, a rolling restart)
	// gets up to PreflightWait to become healthy.
	for deadline := o.Now().Add(o.PreflightWait); topicExists(snap, o.Topic) && len(preflight(snap, o.Topic)) > 0 && !o.Force && o.Now().Before(deadline); {
		r.emit("preflight: waiting for the cluster to be healthy: " + strings.Join(preflight(snap, o.Topic), "; "))
		if !sleepCtx(ctx, 2*time.Second) {
			return nil, ctx.Err()
		}
		if snap, err = r.kafka.Snapshot(ctx); err != nil {
			return nil, err
		}
	}
	if problems := preflight(snap, o.Topic); len(problems) > 0 {
		if !topicExists(snap, o.Topic) || !o.Force {
			return nil, &PreflightError{Problems: problems}
		}
		r.emit("preflight problems ignored (forced): " + strings.Join(problems, "; "))
	}
	res := &drill.Result{
		ID: o.ID, Tool: o.Tool, Version: o.Version, ClusterID: snap.ClusterID, Config: cfg.Path, Backend: r.backend.Name(), Fault: f,
		Workload: drill.Workload{Topic: o.Topic, Partitions: len(topicOf(snap, o.Topic).Partitions), ProducerDC: o.ProducerDC,
			Producers: o.Producers, RatePerSecond: o.Rate, Source: r.prod.source},
		Goals:    drill.Goals{RPO: cfg.Goals.RPO, RTOSeconds: cfg.Goals.RTO.Seconds()},
		Timeline: []drill.Second{},
		Phase:    drill.Preflight,
	}
	res.Workload.Settings = r.prod.settingsRows()
	res.Workload.Library = string(r.prod.library)
	group := ""
	if r.cons != nil {
		if snap, group, err = r.prepareGroup(ctx, snap, res); err != nil {
			return nil, err
		}
	}
	var txnIDs []string
	if r.prod.transactional {
		if snap, txnIDs, err = r.prepareTxn(ctx, snap, res); err != nil {
			return nil, err
		}
	}

	if err := r.enter(ctx, drill.Predicting, fmt.Sprintf("predict: check's scenario for %s on %s", f, o.Topic)); err != nil {
		return nil, err
	}
	in, err := r.kafka.Gather(ctx, advise.Options{Snapshot: snap, LatencyMatrixFile: o.LatencyMatrixFile, LatencyTopic: o.LatencyTopic,
		Clients: []topology.ClientConfig{r.prod.client}})
	var inputErr *advise.InputError
	switch {
	case errors.As(err, &inputErr):
		return nil, &OptionError{OptLatencyMatrix, err}
	case err != nil && ctx.Err() != nil:
		return nil, ctx.Err()
	case err != nil:
		res.Predicted = &drill.Prediction{Error: err.Error()}
	default:
		res.Scenario, res.Predicted = predict(in, f, o.Topic)
		if r.cons != nil && res.Predicted != nil {
			res.Predicted.Read = predictRead(in, f, res.Predicted, r.cons, group, o.HereDC)
		}
	}
	if o.Confirm != nil && !o.Confirm(snap.ClusterID) {
		return nil, ErrAborted
	}

	// From here on a state file records the drill, so that another
	// process can heal what this one leaves behind.
	r.state = &State{ID: o.ID, PID: os.Getpid(), Started: o.Now().UTC(), ClusterID: snap.ClusterID, Config: cfg.Path,
		Backend: r.backend.Spec(), Fault: f, Topic: o.Topic}
	if err := r.enter(ctx, drill.Steady, fmt.Sprintf("steady state: ledger workload on %s, %d records/s from %s", o.Topic, o.Rate, dcOrHere(o.ProducerDC))); err != nil {
		return nil, fmt.Errorf("nothing injected: %w", err)
	}
	dropState := func() { _ = r.store.Remove(context.WithoutCancel(ctx), r.state) }
	runID := probe.NewRunID()
	// The group starts first, at the topic's end: every record of the run
	// is the group's to read.
	var readers ReaderRun
	if r.cons != nil {
		r.emit(fmt.Sprintf("starting the consumer group %s: %d members on %s", group, r.cons.spec.Members, r.cons.library))
		readers, err = r.readers.Start(ctx, ReadersSpec{Topic: o.Topic, Group: group, RunID: runID, Places: r.cons.places(r.placement),
			Client:   probe.ClientSpec{Library: r.cons.library, Version: r.cons.spec.Version, Settings: r.cons.apply},
			Progress: func(format string, args ...any) { r.emit(fmt.Sprintf(format, args...)) }})
		if err != nil {
			dropState()
			return nil, fmt.Errorf("consumer group: %w", err)
		}
		r.describeConsumers(res, readers.Info())
	}
	var readLedger *probe.ConsumerLedger
	stopReaders := func() *probe.ConsumerLedger {
		if readers != nil && readLedger == nil {
			r.emit("stopping the consumer group")
			readLedger = readers.Stop(10 * time.Second)
		}
		return readLedger
	}
	run, err := r.work.Start(ctx, WorkloadSpec{RunID: runID, TransactionalIDs: txnIDs, Topic: o.Topic, Producers: o.Producers, Rate: o.Rate,
		Client: probe.ClientSpec{Library: r.prod.library, Version: r.prod.version, Settings: r.prod.apply}, Place: r.place,
		Progress: func(format string, args ...any) { r.emit(fmt.Sprintf(format, args...)) }})
	if err != nil {
		stopReaders()
		dropState()
		return nil, fmt.Errorf("ledger workload: %w", err)
	}
	r.describeLibrary(res, run.Info())
	r.mu.Lock()
	r.ledger = run
	r.mu.Unlock()
	stopFigures, figuresDone := make(chan struct{}), make(chan struct{})
	go r.figures(stopFigures, figuresDone)
	stopWorkload := func(wait time.Duration) *probe.Ledger {
		close(stopFigures)
		<-figuresDone
		return run.Stop(wait)
	}
	res.Phases.Started = run.Ledger().Start.UTC()
	stopWait := min(max(r.prod.deliveryTimeout, 5*time.Second), 30*time.Second)
	if !sleepCtx(ctx, o.Steady) {
		stopWorkload(0)
		stopReaders()
		dropState()
		return nil, fmt.Errorf("drill interrupted before the fault: %w", ctx.Err())
	}
	if c := run.Counts(); c.Acked == 0 {
		l := stopWorkload(time.Second)
		stopReaders()
		dropState()
		return nil, fmt.Errorf("the workload could not write to %s before the fault (errors: %v): nothing injected", o.Topic, l.Errors)
	}

	// From here on, the fault is healed whatever happens.
	interrupted := false
	injected := o.Now()
	r.state.Injected = injected.UTC()
	if err := r.enter(ctx, drill.Injecting, "inject: "+f.String()+" via "+r.backend.Name()); err != nil {
		stopWorkload(0)
		stopReaders()
		dropState()
		return nil, fmt.Errorf("nothing injected: %w", err)
	}
	applyErr := r.backend.Apply(ctx, f)
	res.Phases.Injected = injected.UTC()
	if applyErr != nil {
		res.Notes = append(res.Notes, "injecting failed: "+applyErr.Error())
	} else {
		if readers != nil && diesWithDC(f.Kind) {
			// Applications die with their DC: the members there leave
			// nothing behind but their sessions.
			if n := readers.Kill(f.DC); n > 0 {
				r.emit(fmt.Sprintf("%d consumer group members died with %s", n, f.DC))
			}
		}
		r.saveNote(r.enter(ctx, drill.Holding, fmt.Sprintf("hold %v", f.Duration)), res)
		if !sleepCtx(ctx, f.Duration) {
			interrupted = true
			res.Notes = append(res.Notes, fmt.Sprintf("interrupted after %v of %v: healed early", o.Now().Sub(injected).Round(time.Millisecond), f.Duration))
		}
	}

	// The heal starts now: writes that resume after this moment resume
	// because of it (a backend's Recover may wait for the DC's brokers).
	healed := o.Now()
	r.saveNote(r.enter(ctx, drill.Healing, "heal: "+f.String()), res)
	hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), healTimeout)
	healErr := r.backend.Recover(hctx, f)
	cancel()
	if healErr != nil {
		r.healFailed = true
		res.Leftover = append(res.Leftover, fmt.Sprintf("%s via %s: %v", f, r.backend.Name(), healErr))
	} else {
		res.Healed = true
		res.Phases.Healed = healed.UTC()
	}

	if res.Healed && !interrupted {
		r.saveNote(r.enter(ctx, drill.WaitingISR, "waiting for the ISR of "+o.Topic+" to be full again"), res)
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), o.RecoverWait)
		err := r.kafka.WaitISRFull(wctx, o.Topic)
		cancel()
		if err != nil {
			res.Notes = append(res.Notes, fmt.Sprintf("the ISR of %s was not full within %v: %v", o.Topic, o.RecoverWait, err))
		} else {
			res.Phases.Recovered = o.Now().UTC()
			sleepCtx(ctx, o.Tail)
		}
	}
	l := stopWorkload(stopWait)
	res.Phases.Stopped = l.Stop.UTC()
	if readers != nil {
		if !interrupted {
			// The group reads to the end of what was written: what it
			// skipped is then told apart from what it had not reached.
			r.emit("waiting for the consumer group to read to the end of " + o.Topic)
			targets := map[int32]int64{}
			for _, rec := range l.Records {
				if rec.State == probe.Acked {
					targets[rec.Partition] = max(targets[rec.Partition], rec.Offset+1)
				}
			}
			cctx, cancel := context.WithTimeout(ctx, r.cons.catchUp())
			if err := readers.CaughtUp(cctx, targets); err != nil {
				res.Notes = append(res.Notes, "the consumer group did not catch up: "+err.Error())
			}
			cancel()
		}
		stopReaders()
	}

	if !interrupted {
		r.saveNote(r.enter(ctx, drill.ReadingBack, "read back: every partition of "+o.Topic), res)
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Minute)
		found, err := r.kafka.ReadBack(rctx, l)
		cancel()
		if err != nil {
			res.Notes = append(res.Notes, "read back failed: "+err.Error())
			interrupted = true
		} else {
			res.Observed, res.Timeline = Observe(l, found, injected, res.Phases.Healed)
			if readLedger != nil {
				var perSecond map[int]int64
				res.Observed.Read, perSecond = ObserveReads(l, readLedger, found, injected, res.Phases.Healed)
				res.Timeline = withReads(res.Timeline, perSecond)
			}
			if r.prod.transactional {
				res.Observed.Transactions = observeTxn(res, l, readLedger)
			}
		}
	}
	for msg, n := range l.Errors {
		res.Notes = append(res.Notes, fmt.Sprintf("producer error ×%d: %s", n, msg))
	}
	res.Phases.Finished = o.Now().UTC()
	res.GoalsMet = res.Healed && !interrupted && applyErr == nil && res.Observed.AckedLost <= res.Goals.RPO &&
		res.Observed.RTOSeconds != nil && *res.Observed.RTOSeconds <= res.Goals.RTOSeconds && readGoalsMet(res)
	switch {
	case interrupted || applyErr != nil:
		res.Verdict = drill.Error
	case res.GoalsMet:
		res.Verdict = drill.Pass
	default:
		res.Verdict = drill.Fail
	}
	if interrupted || applyErr != nil {
		res.Comparison = drill.Comparison{Status: drill.NotObserved, Agree: true, Notes: []string{"the drill did not complete: nothing to compare"}}
	} else {
		res.Comparison = compare(res, in)
	}
	if !res.Healed {
		res.Phase = drill.Healing
		r.emit(fmt.Sprintf("NOT HEALED: %s", f))
		return res, &NotHealedError{ID: o.ID, Fault: f, Err: healErr, Where: r.store.Where()}
	}
	res.Phase = drill.Done
	r.mu.Lock()
	r.phase = drill.Done
	r.mu.Unlock()
	if err := r.store.Remove(context.WithoutCancel(ctx), r.state); err != nil {
		res.Notes = append(res.Notes, "could not remove the drill state file: "+err.Error())
	}
	r.emit(fmt.Sprintf("done: %s", res.Verdict))
	if interrupted && ctx.Err() != nil {
		return res, fmt.Errorf("drill interrupted (the fault was healed): %w", ctx.Err())
	}
	return res, nil
}

// describeLibrary puts the library that ran, its version and what it made
// of the settings into the result.
func (r *runner) describeLibrary(res *drill.Result, info probe.LibraryInfo) {
	w := &res.Workload
	w.Library, w.LibraryVersion = string(info.Library), info.Version
	switch {
	case info.Requested == "":
		w.VersionNote = fmt.Sprintf("no version given: %s %s, the newest this stretchctl supports", info.Library, info.Version)
	case info.Requested != info.Version:
		w.VersionNote = fmt.Sprintf("%s %s asked for; this stretchctl links %s %s, which ran", info.Library, info.Requested, info.Library, info.Version)
	}
	w.Applied = info.Applied
	w.Rejected = append(slices.Clone(r.prod.skipped), info.Rejected...)
}

// saveNote notes a state file that could not be written: the drill goes
// on (the fault is in place and must be healed), the result says so.
func (r *runner) saveNote(err error, res *drill.Result) {
	if err != nil {
		res.Notes = append(res.Notes, "could not record the drill's phase: "+err.Error())
	}
}

func dcOrHere(dc string) string {
	if dc == "" {
		return "here"
	}
	return dc
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

func topicOf(snap *topology.Snapshot, name string) topology.Topic {
	for _, t := range snap.Topics {
		if t.Name == name {
			return t
		}
	}
	return topology.Topic{}
}

func topicExists(snap *topology.Snapshot, name string) bool { return topicOf(snap, name).Name != "" }

// preflight lists what makes the cluster unfit for a drill: a missing
// topic, under-replicated or offline partitions, no quorum leader, a
// voter not caught up, a fenced broker.
func preflight(snap *topology.Snapshot, topic string) []string {
	var p []string
	if !topicExists(snap, topic) {
		p = append(p, fmt.Sprintf("topic %s does not exist: create it like the production topics it stands for", topic))
	}
	urp, offline := 0, 0
	var examples []string
	for _, t := range snap.Topics {
		for _, part := range t.Partitions {
			switch {
			case part.Leader < 0:
				offline++
			case len(part.ISR) < len(part.Replicas):
				urp++
			default:
				continue
			}
			if len(examples) < 3 {
				examples = append(examples, fmt.Sprintf("%s-%d", t.Name, part.ID))
			}
		}
	}
	if urp+offline > 0 {
		p = append(p, fmt.Sprintf("%d under-replicated and %d offline partitions (e.g. %s)", urp, offline, strings.Join(examples, ", ")))
	}
	if q := snap.Quorum; q != nil {
		if q.LeaderID < 0 {
			p = append(p, "the controller quorum has no leader")
		}
		now := snap.TakenAt.UnixMilli()
		for _, v := range q.Voters {
			if v.ID != q.LeaderID && v.LastCaughtUpMs >= 0 && now-v.LastCaughtUpMs > 10_000 {
				p = append(p, fmt.Sprintf("controller %d has not caught up with the quorum leader for %ds", v.ID, (now-v.LastCaughtUpMs)/1000))
			}
		}
	}
	for _, e := range snap.Errors {
		if strings.HasPrefix(e.Subject, "broker:") {
			p = append(p, e.Subject+": "+e.Error)
		}
	}
	return p
}
