package chaos

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/stretchctl/stretchctl/advise"
	"github.com/stretchctl/stretchctl/config"
	"github.com/stretchctl/stretchctl/drill"
	"github.com/stretchctl/stretchctl/rules"
)

// scenarioKind is the check scenario a fault performs; false for faults
// that have none (latency, loss: the latency budget judges those).
func scenarioKind(k drill.Kind) (rules.ScenarioKind, bool) {
	switch k {
	case drill.Crash:
		return rules.Crash, true
	case drill.Lose, drill.Freeze:
		// A frozen DC is silent like a lost one: every wait on it ends by
		// a timeout.
		return rules.Lose, true
	case drill.Isolate:
		return rules.Isolate, true
	}
	return "", false
}

// predict evaluates the check pipeline's inputs — the same as `stretchctl
// check` with the measured inter-DC round trips, for the drill's own
// producer — and keeps the fault's scenario restricted to the drill's
// topic, with the topic's own predicted RTO. A prediction that cannot be
// made says why; it is never dropped.
func predict(in *advise.Inputs, f drill.Fault, topic string) (string, *drill.Prediction) {
	kind, ok := scenarioKind(f.Kind)
	if !ok {
		return "", nil
	}
	rep, err := in.Evaluate(rules.High)
	if err != nil {
		return "", &drill.Prediction{Error: "check could not evaluate the cluster: " + err.Error()}
	}
	i := slices.IndexFunc(rep.Scenarios, func(s rules.Scenario) bool { return s.Kind == kind && s.DC == f.DC })
	if i < 0 {
		return "", &drill.Prediction{Error: fmt.Sprintf("check has no scenario %s %s: is %s a DC of the topology?", kind, f.DC, f.DC)}
	}
	s := rep.Scenarios[i]
	p := &drill.Prediction{Scenario: s.Name, QuorumSurvives: s.QuorumSurvives, Why: s.Why, Notes: rep.Notes}
	// A topic the scenario does not list has no replica in the DC: no
	// partition of it stops, and its writes never wait on the DC.
	zero := 0.0
	p.RTOSeconds = &zero
	for _, t := range s.Topics {
		if t.Topic != topic {
			continue
		}
		p.WriteUnavailable, p.ReadUnavailable, p.AckedLossPossible = t.WriteUnavailable, t.ReadUnavailable, t.AckedLossPossible
		p.RTOSeconds = t.PredictedRTOSeconds
		terms := t.RTOBreakdown
		if len(terms) == 0 && t.PredictedRTOSeconds != nil {
			terms = s.RTOBreakdown
		}
		for _, term := range terms {
			p.RTOBreakdown = append(p.RTOBreakdown, drill.RTOTerm{Name: term.Name, Seconds: term.Seconds, Note: term.Note})
		}
	}
	rtoOK := p.RTOSeconds != nil && *p.RTOSeconds <= in.Config.Goals.RTO.Seconds()
	p.GoalsMet = rtoOK && (in.Config.Goals.RPO > 0 || p.AckedLossPossible == 0)
	return s.Name, p
}

// rtoTolerance is how far a predicted RTO may be from the observed one and
// still agree, in either direction: max(2 s, 25% of the observed). An
// over-prediction is as wrong as an under-prediction: a team tunes its
// timeouts to it.
func rtoTolerance(observed float64) float64 { return max(2, observed*0.25) }

// compare puts observation and prediction side by side.
func compare(res *drill.Result, in *advise.Inputs) drill.Comparison {
	p, o := res.Predicted, res.Observed
	if _, ok := scenarioKind(res.Fault.Kind); !ok {
		return compareLatency(res, in)
	}
	if p == nil || p.Error != "" {
		why := "no prediction"
		if p != nil {
			why = "the prediction failed: " + p.Error
		}
		return drill.Comparison{Status: drill.NoPrediction, Agree: true, Notes: []string{why + ": nothing to compare"}}
	}
	c := drill.Comparison{Status: drill.Agrees, Agree: true}
	add := func(what, pred, obs string, agree bool) {
		c.Points = append(c.Points, drill.Point{What: what, Predicted: pred, Observed: obs, Agree: agree})
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
	// own.
	predStop := p.WriteUnavailable > 0 || p.RTOSeconds == nil
	obsStop := o.RTOSeconds == nil
	predW, obsW := "resume on their own", "resumed during the fault"
	if predStop {
		predW = fmt.Sprintf("stop until the DC returns (%d partitions)", p.WriteUnavailable)
	}
	if obsStop {
		obsW = "did not resume before the heal"
	}
	// Writes that did not resume before the heal say only that the RTO
	// is at least the hold H (an interval-censored observation). The
	// prediction P agrees when some RTO ≥ H is within the tolerance of
	// P; the tolerance grows with the RTO, so the tightest case is an
	// RTO of exactly H: P ≥ H − tolerance(H). A hold shorter than that
	// measured no RTO at all: hold it longer.
	if hold := res.Fault.Duration; !predStop && obsStop && p.RTOSeconds != nil && hold > 0 && *p.RTOSeconds >= hold.Seconds()-rtoTolerance(hold.Seconds()) {
		h := hold.Seconds()
		what := fmt.Sprintf("resume after %.1fs, later than the %v hold: not before the heal", *p.RTOSeconds, hold)
		if *p.RTOSeconds < h {
			what = fmt.Sprintf("resume after %.1fs, within the tolerance (±%.1fs) of the %v hold", *p.RTOSeconds, rtoTolerance(h), hold)
		}
		add("writes", what, obsW, true)
		c.Notes = append(c.Notes, fmt.Sprintf("the fault was held %v and writes resumed only after the heal: the RTO is at least that, which agrees with the predicted %.1fs; hold it longer for the drill to measure the RTO", hold, *p.RTOSeconds))
		compareReads(res, add)
		if !c.Agree {
			c.Status = drill.Disagrees
		}
		return c
	}
	add("writes", predW, obsW, predStop == obsStop)
	if !predStop && !obsStop && p.RTOSeconds != nil {
		pred, obs := *p.RTOSeconds, *o.RTOSeconds
		tol := rtoTolerance(obs)
		add("RTO", fmt.Sprintf("%.1fs", pred), fmt.Sprintf("%.3fs (error %+.1fs, tolerance ±%.1fs)", obs, pred-obs, tol), math.Abs(pred-obs) <= tol)
	}
	compareReads(res, add)
	if !c.Agree {
		c.Status = drill.Disagrees
	}
	return c
}

// compareLatency judges a latency or loss fault, which has no check
// scenario, against the latency budget: the round trip the fault makes
// (the measured one plus the added delay) beside goals.latency, and the
// write latency the workload saw before and during the fault. The points
// inform; none can disagree.
func compareLatency(res *drill.Result, in *advise.Inputs) drill.Comparison {
	f := res.Fault
	c := drill.Comparison{Status: drill.NoScenario, Agree: true,
		Notes: []string{fmt.Sprintf("check has no scenario for a %s fault: compared with the latency budget (goals.latency), not with a prediction", f.Kind)}}
	add := func(what, pred, obs string) {
		c.Points = append(c.Points, drill.Point{What: what, Predicted: pred, Observed: obs, Agree: true})
	}
	before, during := latencyMedians(res)
	observed := "not observed"
	if before > 0 && during > 0 {
		observed = fmt.Sprintf("median write latency %.1f ms before, %.1f ms during the fault", before, during)
	}
	if f.Kind != drill.Latency || in == nil {
		add("write latency", "no prediction", observed)
		return c
	}
	peers := []string{f.Peer}
	if f.Peer == "" {
		peers = nil
		for _, dc := range in.Config.Topology.DCs {
			if dc != f.DC {
				peers = append(peers, dc)
			}
		}
	}
	for _, peer := range peers {
		a, b := f.DC, peer
		if b < a {
			a, b = b, a
		}
		base, measured := in.RTT[config.PairKey(a, b)]
		rtt := base + f.Delay
		warn, fail := in.Config.Goals.LatencyBudget(a, b)
		verdict := "within the budget"
		switch {
		case fail > 0 && rtt > fail:
			verdict = fmt.Sprintf("over the fail budget %v", fail)
		case warn > 0 && rtt > warn:
			verdict = fmt.Sprintf("over the warn budget %v", warn)
		}
		pred := fmt.Sprintf("round trip %v + %v = %v: %s", base.Round(100*time.Microsecond), f.Delay, rtt.Round(100*time.Microsecond), verdict)
		if !measured {
			pred = fmt.Sprintf("round trip not measured + %v: at least %v, %s", f.Delay, f.Delay, verdict)
		}
		add("latency "+a+"/"+b, pred, observed)
	}
	return c
}

// latencyMedians are the medians of the per-second median write
// latencies before the fault (after a warm-up) and while it was held.
func latencyMedians(res *drill.Result) (before, during float64) {
	if res.Phases.Injected.IsZero() || res.Phases.Started.IsZero() {
		return 0, 0
	}
	inj := int(res.Phases.Injected.Sub(res.Phases.Started) / time.Second)
	end := len(res.Timeline)
	if !res.Phases.Healed.IsZero() {
		end = min(end, int(res.Phases.Healed.Sub(res.Phases.Started)/time.Second))
	}
	median := func(from, to int) float64 {
		var v []float64
		for _, s := range res.Timeline {
			if s.T >= from && s.T < to && s.P50Ms > 0 {
				v = append(v, s.P50Ms)
			}
		}
		if len(v) == 0 {
			return 0
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	return median(int(warmup/time.Second), inj), median(inj+1, end)
}
