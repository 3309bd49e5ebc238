package chaos

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	"github.com/stretchctl/stretchctl/config"
	"github.com/stretchctl/stretchctl/probe"
	"github.com/stretchctl/stretchctl/rules"
	"github.com/stretchctl/stretchctl/topology"
)

// DrillOptions is everything a drill needs. The CLI, the TUI and the
// operator fill it the same way.
type DrillOptions struct {
	Config  *config.Config
	Backend Backend
	// Fault to inject; its Duration is how long it is held.
	Fault Fault
	// Topic the ledger writes to; it must exist (the drill never creates
	// or changes topics). Make it like the production topics it stands
	// for (replicas, placement, min.insync.replicas).
	Topic string
	// Producer settings of the ledger and where they came from (a file,
	// "flags", "defaults"); Client is the same as a client file for the
	// prediction (nil: none).
	Producer       probe.Producer
	ProducerSource string
	Client         *topology.ClientConfig
	// ProducerDC places the producers: Dial opens their connections from
	// that DC ("" and nil: from here).
	ProducerDC   string
	ProducerDial func(ctx context.Context, network, addr string) (net.Conn, error)
	Producers    int
	Rate         int
	// Steady is how long the workload runs before the fault (default
	// 10 s), Tail how long after the ISR is full again (default 5 s),
	// RecoverWait the bound on waiting for the ISR (default 3 min).
	Steady, Tail, RecoverWait time.Duration
	// Force runs on an unhealthy cluster; otherwise the drill waits up to
	// PreflightWait (default 1 min) for it to become healthy.
	Force         bool
	PreflightWait time.Duration
	// StateDir holds the state file (DefaultStateDir when empty).
	StateDir string
	// Confirm is asked after the preflight, with the cluster id; false
	// stops the drill before anything is injected. Nil means yes.
	Confirm func(clusterID string) bool
	// Progress receives one line per step (nil: none).
	Progress func(string)
	Log      *slog.Logger
	Tool     string
	Version  string
}

// PreflightError says why a drill refused to start; nothing was injected.
type PreflightError struct{ Problems []string }

func (e *PreflightError) Error() string {
	return "the cluster is not ready for a drill (use --force to run anyway):\n  - " + strings.Join(e.Problems, "\n  - ")
}

// ErrAborted: the operator declined the confirmation.
var ErrAborted = errors.New("drill aborted: not confirmed")

// NotHealedError is returned with the result when a fault could not be
// healed: the cluster still has it.
type NotHealedError struct {
	Fault    Fault
	Err      error
	StateDir string
}

func (e *NotHealedError) Error() string {
	return fmt.Sprintf("FAULT STILL IN PLACE: %s could not be healed: %v; retry with `stretchctl drill recover --state-dir %s`", e.Fault, e.Err, e.StateDir)
}

func (e *NotHealedError) Unwrap() error { return e.Err }

// Drill runs one drill: preflight, prediction, steady state, inject,
// hold, heal, wait for the ISR, read back, verdict. Whatever happens after
// the injection starts (an error, ctx cancelled by Ctrl-C or SIGTERM), the
// fault is healed before Drill returns; the state file written before the
// injection lets `drill recover` heal if this process is killed.
//
// Errors: *PreflightError or ErrAborted before anything is injected;
// connection errors likewise; *NotHealedError (with the result) when the
// heal failed. Otherwise the result says pass, fail or error.
func Drill(ctx context.Context, o DrillOptions) (*Result, error) {
	o = o.withDefaults()
	f := o.Fault
	if err := f.Validate(); err != nil {
		return nil, err
	}
	cfg := o.Config
	for _, dc := range []string{f.DC, f.Peer, o.ProducerDC} {
		if dc != "" && len(cfg.Topology.DCs) > 0 && !cfg.Topology.HasDC(dc) {
			return nil, fmt.Errorf("%q is not a DC of %s (topology.dcs: %s)", dc, cfg.Path, strings.Join(cfg.Topology.DCs, ", "))
		}
	}
	if o.Topic == "" {
		return nil, errors.New("no topic for the ledger workload (--topic)")
	}
	opts := probe.Options{Log: o.Log}

	o.progress("preflight: reading the cluster")
	snap, err := probe.Snapshot(ctx, cfg.Cluster, opts)
	if err != nil {
		return nil, err
	}
	// A cluster still catching up (a previous drill, a rolling restart)
	// gets up to PreflightWait to become healthy.
	for deadline := time.Now().Add(o.PreflightWait); topicExists(snap, o.Topic) && len(preflight(snap, o.Topic)) > 0 && !o.Force && time.Now().Before(deadline); {
		o.progress("preflight: waiting for the cluster to be healthy: " + strings.Join(preflight(snap, o.Topic), "; "))
		if !sleepCtx(ctx, 2*time.Second) {
			return nil, ctx.Err()
		}
		if snap, err = probe.Snapshot(ctx, cfg.Cluster, opts); err != nil {
			return nil, err
		}
	}
	if problems := preflight(snap, o.Topic); len(problems) > 0 {
		if !topicExists(snap, o.Topic) || !o.Force {
			return nil, &PreflightError{Problems: problems}
		}
		o.progress("preflight problems ignored (--force): " + strings.Join(problems, "; "))
	}
	res := &Result{
		Tool: o.Tool, Version: o.Version, ClusterID: snap.ClusterID, Config: cfg.Path, Backend: o.Backend.Name(), Fault: f,
		Workload: Workload{Topic: o.Topic, Partitions: len(topicOf(snap, o.Topic).Partitions), ProducerDC: o.ProducerDC,
			Producers: o.Producers, RatePerSecond: o.Rate, Source: o.ProducerSource},
		Goals:    Goals{RPO: cfg.Goals.RPO, RTOSeconds: cfg.Goals.RTO.Seconds()},
		Timeline: []Second{},
	}
	for _, s := range o.Producer.Settings() {
		res.Workload.Settings = append(res.Workload.Settings, Setting{Name: s[0], Value: s[1], Origin: s[2]})
	}
	res.Scenario, res.Predicted = predict(snap, cfg, o.Client, f, o.Topic)
	if o.Confirm != nil && !o.Confirm(snap.ClusterID) {
		return nil, ErrAborted
	}

	o.progress(fmt.Sprintf("steady state: ledger workload on %s, %d records/s from %s", o.Topic, o.Rate, dcOrHere(o.ProducerDC)))
	run, err := probe.StartLedger(ctx, cfg.Cluster, probe.LedgerOptions{
		Options: probe.Options{Log: o.Log, Dial: o.ProducerDial}, Topic: o.Topic, Producers: o.Producers, Rate: o.Rate, Producer: o.Producer,
	})
	if err != nil {
		return nil, fmt.Errorf("ledger workload: %w", err)
	}
	res.Phases.Started = run.Ledger().Start.UTC()
	stopWait := min(max(o.Producer.DeliveryTimeout, 5*time.Second), 30*time.Second)
	if !sleepCtx(ctx, o.Steady) {
		run.Stop(0)
		return nil, fmt.Errorf("drill interrupted before the fault: %w", ctx.Err())
	}
	if acked, _ := run.Counts(); acked == 0 {
		l := run.Stop(time.Second)
		return nil, fmt.Errorf("the workload could not write to %s before the fault (errors: %v): nothing injected", o.Topic, l.Errors)
	}

	// From here on, the fault is healed whatever happens.
	state := &State{ID: newID(), PID: os.Getpid(), Started: time.Now().UTC(), ClusterID: snap.ClusterID, Backend: o.Backend.Spec(), Fault: f, Applied: true}
	if err := state.Save(o.StateDir); err != nil {
		run.Stop(0)
		return nil, fmt.Errorf("nothing injected: %w", err)
	}
	interrupted := false
	o.progress("inject: " + f.String() + " via " + o.Backend.Name())
	injected := time.Now()
	applyErr := o.Backend.Apply(ctx, f)
	res.Phases.Injected = injected.UTC()
	if applyErr != nil {
		res.Notes = append(res.Notes, "injecting failed: "+applyErr.Error())
	} else {
		o.progress(fmt.Sprintf("hold %v", f.Duration))
		if !sleepCtx(ctx, f.Duration) {
			interrupted = true
			res.Notes = append(res.Notes, fmt.Sprintf("interrupted after %v of %v: healed early", time.Since(injected).Round(time.Millisecond), f.Duration))
		}
	}

	o.progress("heal: " + f.String())
	// The heal starts now: writes that resume after this moment resume
	// because of it (a backend's Recover may wait for the DC's brokers).
	healed := time.Now()
	hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Minute)
	healErr := o.Backend.Recover(hctx, f)
	cancel()
	if healErr != nil {
		res.Leftover = append(res.Leftover, fmt.Sprintf("%s via %s: %v", f, o.Backend.Name(), healErr))
	} else {
		res.Healed = true
		res.Phases.Healed = healed.UTC()
		if err := state.Remove(o.StateDir); err != nil {
			res.Notes = append(res.Notes, "could not remove the drill state file: "+err.Error())
		}
	}

	if res.Healed && !interrupted {
		o.progress("waiting for the ISR of " + o.Topic + " to be full again")
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), o.RecoverWait)
		err := probe.WaitISRFull(wctx, cfg.Cluster, opts, o.Topic)
		cancel()
		if err != nil {
			res.Notes = append(res.Notes, fmt.Sprintf("the ISR of %s was not full within %v: %v", o.Topic, o.RecoverWait, err))
		} else {
			res.Phases.Recovered = time.Now().UTC()
			sleepCtx(ctx, o.Tail)
		}
	}
	l := run.Stop(stopWait)
	res.Phases.Stopped = l.Stop.UTC()

	if !interrupted {
		o.progress("read back: every partition of " + o.Topic)
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Minute)
		found, err := probe.ReadBack(rctx, cfg.Cluster, opts, l, time.Minute)
		cancel()
		if err != nil {
			res.Notes = append(res.Notes, "read back failed: "+err.Error())
			interrupted = true
		} else {
			res.Observed, res.Timeline = Observe(l, found, injected, res.Phases.Healed)
		}
	}
	for msg, n := range l.Errors {
		res.Notes = append(res.Notes, fmt.Sprintf("producer error ×%d: %s", n, msg))
	}
	res.Phases.Finished = time.Now().UTC()
	res.GoalsMet = res.Healed && !interrupted && applyErr == nil && res.Observed.AckedLost <= res.Goals.RPO &&
		res.Observed.RTOSeconds != nil && *res.Observed.RTOSeconds <= res.Goals.RTOSeconds
	switch {
	case interrupted || applyErr != nil:
		res.Verdict = "error"
	case res.GoalsMet:
		res.Verdict = "pass"
	default:
		res.Verdict = "fail"
	}
	if !interrupted {
		res.Comparison = compare(res.Predicted, res.Observed)
	}
	if !res.Healed {
		return res, &NotHealedError{Fault: f, Err: healErr, StateDir: o.StateDir}
	}
	if interrupted && ctx.Err() != nil {
		return res, fmt.Errorf("drill interrupted (the fault was healed): %w", ctx.Err())
	}
	return res, nil
}

func (o DrillOptions) withDefaults() DrillOptions {
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
	if o.StateDir == "" {
		o.StateDir = DefaultStateDir()
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.ProducerSource == "" {
		o.ProducerSource = "defaults"
	}
	return o
}

func (o DrillOptions) progress(s string) {
	if o.Progress != nil {
		o.Progress(s)
	}
}

func dcOrHere(dc string) string {
	if dc == "" {
		return "here"
	}
	return dc
}

func newID() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return time.Now().UTC().Format("20060102-150405") + "-" + hex.EncodeToString(b)
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

// predict runs the advisor on the snapshot taken before the fault and
// picks the scenario the fault corresponds to, restricted to the topic.
func predict(snap *topology.Snapshot, cfg *config.Config, client *topology.ClientConfig, f Fault, topic string) (string, *Prediction) {
	var kind rules.ScenarioKind
	switch f.Kind {
	case Kill, Freeze:
		kind = rules.Lose
	case Isolate:
		kind = rules.Isolate
	default:
		return "", nil
	}
	var clients []topology.ClientConfig
	if client != nil {
		clients = append(clients, *client)
	}
	rep, err := rules.Evaluate(&rules.Input{Snapshot: snap, Config: cfg, Clients: clients, FailOn: rules.High})
	if err != nil {
		return "", nil
	}
	for _, s := range rep.Scenarios {
		if s.Kind != kind || s.DC != f.DC {
			continue
		}
		p := &Prediction{Scenario: s.Name, QuorumSurvives: s.QuorumSurvives, RTOSeconds: s.PredictedRTOSeconds, GoalsMet: s.GoalsMet, Why: s.Why}
		for _, t := range s.Topics {
			if t.Topic == topic {
				p.WriteUnavailable, p.ReadUnavailable, p.AckedLossPossible = t.WriteUnavailable, t.ReadUnavailable, t.AckedLossPossible
			}
		}
		return s.Name, p
	}
	return "", nil
}

// rtoSlack is how much longer than predicted an observed outage may be
// and still agree: the prediction is an estimate of timeouts and
// elections, the observation includes the client's retry backoff.
func rtoSlack(pred float64) float64 { return max(1, pred*0.2) }

// compare puts observation and prediction side by side.
func compare(p *Prediction, o Observed) Comparison {
	if p == nil {
		return Comparison{Agree: true, Notes: []string{"check predicts DC losses and isolations only: nothing to compare for this fault"}}
	}
	c := Comparison{Agree: true}
	add := func(what, pred, obs string, agree bool) {
		c.Points = append(c.Points, Point{What: what, Predicted: pred, Observed: obs, Agree: agree})
		c.Agree = c.Agree && agree
	}
	// Acknowledged loss: a loss the advisor did not foresee is a
	// disagreement; a possible loss that did not happen is not.
	predLoss := p.AckedLossPossible > 0
	switch {
	case o.AckedLost > 0 && !predLoss:
		add("acknowledged records lost", "none possible", fmt.Sprint(o.AckedLost), false)
	case o.AckedLost > 0:
		add("acknowledged records lost", fmt.Sprintf("possible on %d partitions", p.AckedLossPossible), fmt.Sprint(o.AckedLost), true)
	case predLoss:
		add("acknowledged records lost", fmt.Sprintf("possible on %d partitions", p.AckedLossPossible), "0", true)
		c.Notes = append(c.Notes, "loss was possible but did not happen in this run: the records at risk were replicated in time")
	default:
		add("acknowledged records lost", "none possible", "0", true)
	}
	// Writes to the topic: stop until the DC returns, or resume on their
	// own (the scenario's RTO covers every topic; the partition counts are
	// the drill topic's).
	predStop := p.WriteUnavailable > 0 || !p.QuorumSurvives
	obsStop := o.RTOSeconds == nil
	predW, obsW := "resume on their own", "resumed during the fault"
	if predStop {
		predW = fmt.Sprintf("stop until the DC returns (%d partitions)", p.WriteUnavailable)
	}
	if obsStop {
		obsW = "did not resume before the heal"
	}
	add("writes", predW, obsW, predStop == obsStop)
	if !predStop && !obsStop && p.RTOSeconds != nil {
		slack := rtoSlack(*p.RTOSeconds)
		add("RTO", fmt.Sprintf("≤ %.1fs (+%.1fs slack)", *p.RTOSeconds, slack), fmt.Sprintf("%.3fs", *o.RTOSeconds), *o.RTOSeconds <= *p.RTOSeconds+slack)
	}
	return c
}
