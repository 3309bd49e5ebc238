package chaos

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/stretchctl/stretchctl/advise"
	"github.com/stretchctl/stretchctl/drill"
	"github.com/stretchctl/stretchctl/topology"
)

// CampaignOptions are a game day: drills run one after another, a health
// gate before each, the campaign's record kept in Dir so that a campaign
// started again after a crash resumes after what finished.
type CampaignOptions struct {
	// Drill is every drill's template (config, backend, topic, producer,
	// rates); Fault and ID are set per drill. Its Confirm is asked once,
	// before the first drill injects; every later drill must find the
	// cluster confirmed then.
	Drill Options
	// Faults to run, in order (DefaultFaults when empty).
	Faults []drill.Fault
	// Dir holds campaign.json (the record) and the drills' state files.
	Dir string
	// GateWait bounds the health gate before each drill (default 3 min).
	GateWait time.Duration
	// Events receives the campaign's progress (nil: none); the drills'
	// own events go to Drill.Events.
	Events func(CampaignEvent)
}

// CampaignEvent is a step of a campaign.
type CampaignEvent struct {
	// Index of the drill (0-based) of Total.
	Index, Total int
	Fault        drill.Fault
	Message      string
}

// DefaultFaults is every DC × crash, lose and isolate (those the backend
// can inject), each held for hold.
func DefaultFaults(dcs []string, can func(drill.Kind) bool, hold time.Duration) []drill.Fault {
	var out []drill.Fault
	for _, k := range []drill.Kind{drill.Crash, drill.Lose, drill.Isolate} {
		if can != nil && !can(k) {
			continue
		}
		for _, dc := range dcs {
			out = append(out, drill.Fault{Kind: k, DC: dc, Duration: hold})
		}
	}
	return out
}

// campaignFile is the record in Dir.
func campaignFile(dir string) string { return filepath.Join(dir, "campaign.json") }

// LoadCampaign reads the record of a campaign in dir (nil when none).
func LoadCampaign(dir string) (*drill.Campaign, error) {
	b, err := os.ReadFile(campaignFile(dir))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var c drill.Campaign
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("%s: not a campaign record: %w", campaignFile(dir), err)
	}
	return &c, nil
}

func saveCampaign(c *drill.Campaign, dir string) error {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	tmp := campaignFile(dir) + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return fmt.Errorf("campaign record: %w", err)
	}
	if err := os.Rename(tmp, campaignFile(dir)); err != nil {
		return fmt.Errorf("campaign record: %w", err)
	}
	return nil
}

// RunCampaign runs the campaign's drills in order, each after the health
// gate, and stops at the first drill that was not healed (the fault is
// still in place: nothing else may run) or when ctx ends. A drill that
// fails its gate or its preflight is recorded and the campaign goes on.
// The record in Dir is rewritten after every drill; a campaign run again
// with the same Dir and faults keeps what finished and runs the rest.
func RunCampaign(ctx context.Context, o CampaignOptions) (*drill.Campaign, error) {
	if o.Dir == "" {
		return nil, &OptionError{OptCampaignDir, errors.New("no directory for the campaign's record")}
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return nil, &OptionError{OptCampaignDir, err}
	}
	d := o.Drill.withDefaults()
	if d.Config == nil {
		return nil, &OptionError{OptConfig, errors.New("no configuration")}
	}
	if len(o.Faults) == 0 {
		o.Faults = DefaultFaults(d.Config.Topology.DCs, nil, time.Minute)
	}
	if o.GateWait <= 0 {
		o.GateWait = 3 * time.Minute
	}
	// Every drill's options are checked before the first gate: a wrong
	// backend, producer or DC is refused with nothing run.
	for _, f := range o.Faults {
		check := o.Drill
		check.Fault, check.ID = f, "check"
		if _, err := newRunner(check); err != nil {
			return nil, err
		}
	}
	kafka := d.Kafka
	if kafka == nil {
		kafka = liveKafka{cfg: d.Config, log: d.Log}
	}
	c, err := LoadCampaign(o.Dir)
	if err != nil {
		return nil, &OptionError{OptCampaignDir, err}
	}
	done := map[string]drill.CampaignEntry{}
	if c != nil {
		for _, e := range c.Entries {
			if e.Result != nil && e.Result.Healed {
				e.Resumed = true
				done[e.Fault.String()] = e
			}
		}
	}
	c = &drill.Campaign{Tool: d.Tool, Version: d.Version, Config: d.Config.Path, Topic: d.Topic, Started: d.Now().UTC()}
	baseline, note := latencyBaseline(ctx, kafka, d)
	if note != "" {
		c.Notes = append(c.Notes, note)
	}
	if len(baseline) > 0 {
		c.Baseline = map[string]float64{}
		for k, v := range baseline {
			c.Baseline[k] = float64(v.Microseconds()) / 1000
		}
	}
	emit := func(i int, f drill.Fault, msg string) {
		if o.Events != nil {
			o.Events(CampaignEvent{Index: i, Total: len(o.Faults), Fault: f, Message: msg})
		}
	}
	confirmed := ""
	for i, f := range o.Faults {
		if e, ok := done[f.String()]; ok {
			c.Entries = append(c.Entries, e)
			emit(i, f, "done in an earlier run: kept")
			continue
		}
		if ctx.Err() != nil {
			c.Stopped = "interrupted"
			break
		}
		emit(i, f, "health gate: ISR full, quorum caught up, every broker serving, latency at its baseline")
		if err := gate(ctx, kafka, d, baseline, o.GateWait); err != nil {
			c.Entries = append(c.Entries, drill.CampaignEntry{Fault: f, Error: "health gate: " + err.Error()})
			c.Stopped = fmt.Sprintf("the cluster did not become healthy before %s: %v", f, err)
			break
		}
		emit(i, f, "drill "+f.String())
		opts := o.Drill
		opts.Fault, opts.ID = f, ""
		// Asked once, with the cluster's id; every later drill must find
		// the same cluster.
		opts.Confirm = func(id string) bool {
			if confirmed != "" {
				return id == confirmed
			}
			if o.Drill.Confirm != nil && !o.Drill.Confirm(id) {
				return false
			}
			confirmed = id
			return true
		}
		opts.StateDir = filepath.Join(o.Dir, "drills")
		res, err := Run(ctx, opts)
		e := drill.CampaignEntry{Fault: f, Result: res}
		if err != nil {
			e.Error = err.Error()
		}
		if res != nil {
			c.Backend = res.Backend
		}
		c.Entries = append(c.Entries, e)
		c.Score()
		if serr := saveCampaign(c, o.Dir); serr != nil {
			e.Error = strings.TrimPrefix(e.Error+"; ", "; ") + serr.Error()
		}
		if errors.Is(err, ErrAborted) {
			c.Stopped = "not confirmed, or the cluster is not the one confirmed for the campaign"
			break
		}
		var notHealed *NotHealedError
		if errors.As(err, &notHealed) {
			c.Stopped = fmt.Sprintf("%s was not healed: nothing else runs until `drill recover` heals it", f)
			break
		}
		if ctx.Err() != nil {
			c.Stopped = "interrupted"
			break
		}
	}
	c.Finished = d.Now().UTC()
	c.Score()
	return c, saveCampaign(c, o.Dir)
}

// latencyBaseline reads the live inter-DC round trips from the agents'
// topic before the first drill: the latency gate waits for them again
// before each. A matrix file cannot show a recovery, so it gives none.
func latencyBaseline(ctx context.Context, k Kafka, d Options) (map[string]time.Duration, string) {
	if d.LatencyTopic == "" || d.LatencyMatrixFile != "" {
		return nil, "latency gate off: no live latency (the agents' topic, not a matrix file, is needed to see latency recover)"
	}
	in, err := k.Gather(ctx, advise.Options{LatencyTopic: d.LatencyTopic})
	if err != nil {
		return nil, "latency gate off: " + err.Error()
	}
	if len(in.RTT) == 0 {
		return nil, "latency gate off: " + in.RTTSource
	}
	return in.RTT, ""
}

// latencyBack says which pairs are not back within max(1 ms, 20%) of
// their baseline.
func latencyBack(base, now map[string]time.Duration) []string {
	var out []string
	for _, pair := range slices.Sorted(maps.Keys(base)) {
		b := base[pair]
		cur, ok := now[pair]
		tol := max(time.Millisecond, b/5)
		switch {
		case !ok:
			out = append(out, pair+": no fresh round trip")
		case cur > b+tol || cur < b-tol:
			out = append(out, fmt.Sprintf("%s: %v, baseline %v", pair, cur.Round(100*time.Microsecond), b.Round(100*time.Microsecond)))
		}
	}
	return out
}

// gate waits until the topic's ISR is full, every broker serves, the
// quorum has a leader with every voter caught up, and the inter-DC round
// trips are back at their baseline (when there is one).
func gate(ctx context.Context, k Kafka, d Options, baseline map[string]time.Duration, wait time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	if err := k.WaitISRFull(ctx, d.Topic); err != nil {
		return fmt.Errorf("ISR of %s: %w", d.Topic, err)
	}
	for {
		snap, err := k.Snapshot(ctx)
		var problems []string
		if err != nil {
			problems = append(problems, err.Error())
		} else {
			problems = unhealthy(snap)
		}
		if len(problems) == 0 && len(baseline) > 0 {
			in, err := k.Gather(ctx, advise.Options{Snapshot: snap, LatencyTopic: d.LatencyTopic})
			if err != nil {
				problems = append(problems, "latency: "+err.Error())
			} else {
				problems = append(problems, latencyBack(baseline, in.RTT)...)
			}
		}
		if len(problems) == 0 {
			return nil
		}
		t := time.NewTimer(2 * time.Second)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%s: %w", strings.Join(problems, "; "), ctx.Err())
		case <-t.C:
		}
	}
}

// unhealthy lists what keeps a cluster from the next drill: brokers not
// serving, no quorum leader, voters not caught up with the leader (within
// the 5 s a healthy voter fetches in).
func unhealthy(snap *topology.Snapshot) []string {
	var out []string
	for _, b := range snap.Brokers {
		if !b.Serving() {
			out = append(out, fmt.Sprintf("broker %d is %s", b.ID, b.State))
		}
	}
	if q := snap.Quorum; q != nil {
		if q.LeaderID < 0 {
			return append(out, "the quorum has no leader")
		}
		i := slices.IndexFunc(q.Voters, func(v topology.QuorumReplica) bool { return v.ID == q.LeaderID })
		if i >= 0 {
			lead := q.Voters[i].LastCaughtUpMs
			for _, v := range q.Voters {
				if v.ID != q.LeaderID && (v.LastCaughtUpMs < 0 || lead-v.LastCaughtUpMs > 5000) {
					out = append(out, fmt.Sprintf("voter %d is not caught up", v.ID))
				}
			}
		}
	}
	return out
}
