package chaos

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/stretchctl/stretchctl/advise"
	"github.com/stretchctl/stretchctl/clients"
	"github.com/stretchctl/stretchctl/config"
	"github.com/stretchctl/stretchctl/drill"
	"github.com/stretchctl/stretchctl/probe"
	"github.com/stretchctl/stretchctl/rules"
	"github.com/stretchctl/stretchctl/topology"
)

// ConsumerSpec says how the drill's consumer group runs: the library its
// members run on, the settings of a consumer file (or that library's
// defaults), how many members and where.
type ConsumerSpec struct {
	// Members is how many members the group has (0: no group).
	Members int
	// DCs are where the members run, spread round-robin ("": here).
	DCs []string
	// File is a consumer .properties file ("": the library's defaults).
	File string
	// Library is java (default) or franz-go.
	Library config.Library
	// Version of the library ("": the newest this stretchctl supports).
	Version string
}

// consumer is a resolved ConsumerSpec.
type consumer struct {
	spec    ConsumerSpec
	library config.Library
	apply   []probe.ClientSetting
	skipped []string
	source  string
	// settings are the file's with the library's defaults, for the
	// prediction and the report.
	settings topology.Settings
	// standsFor is the file's group.id.
	standsFor string
	manual    bool
}

// resolveConsumer reads the consumer file (or the library's defaults).
func resolveConsumer(cfg *config.Config, s ConsumerSpec) (*consumer, error) {
	if s.Members == 0 {
		return nil, nil
	}
	if s.Members < 0 {
		return nil, &OptionError{OptConsumers, fmt.Errorf("%d consumers: want a positive number", s.Members)}
	}
	s.Library = cmp.Or(s.Library, config.LibraryJava)
	if !slices.Contains(probe.ConsumerLibraries, s.Library) {
		return nil, &OptionError{OptConsumerLibrary, fmt.Errorf("the drill's consumers run on java or franz-go, not %q", s.Library)}
	}
	for _, dc := range s.DCs {
		if dc != "" && !slices.Contains(cfg.Topology.DCs, dc) {
			return nil, &OptionError{OptConsumerDC, fmt.Errorf("DC %q is not in the topology (%s)", dc, strings.Join(cfg.Topology.DCs, ", "))}
		}
	}
	if len(s.DCs) == 0 {
		s.DCs = []string{""}
	}
	c := &consumer{spec: s, library: s.Library, source: "defaults (" + string(s.Library) + " client)"}
	if s.File != "" {
		cc, err := clients.Load(config.Client{File: s.File, Kind: config.KindConsumer, Library: s.Library, Version: s.Version}, cfg.Cluster.KafkaVersion)
		if err != nil {
			return nil, &OptionError{OptConsumerFile, err}
		}
		if err := refused(cc); err != nil {
			return nil, &OptionError{OptConsumerFile, err}
		}
		c.settings, c.source = cc.Consumer, s.File
	} else {
		c.settings = clients.Defaults(string(s.Library), topology.Consumer, cmp.Or(s.Version, config.DefaultKafkaVersion))
	}
	c.standsFor = c.settings["group.id"].Value
	for _, name := range slices.Sorted(maps.Keys(c.settings)) {
		st := c.settings[name]
		switch {
		case !st.Explicit():
			continue
		case name == "group.id":
			c.skipped = append(c.skipped, "group.id: the drill reads in its own group, with the same coordinator")
			continue
		case name == "key.deserializer", name == "value.deserializer":
			c.skipped = append(c.skipped, name+": the ledger reads bytes")
			continue
		}
		if why := notPassed(name, st.Value); why != "" {
			c.skipped = append(c.skipped, fmt.Sprintf("%s: %s", name, why))
			continue
		}
		c.apply = append(c.apply, probe.ClientSetting{Name: name, Key: name, Value: st.Value})
	}
	if v, ok := c.settings["enable.auto.commit"]; ok {
		b, err := strconv.ParseBool(strings.TrimSpace(v.Value))
		if err != nil {
			return nil, &OptionError{OptConsumerFile, fmt.Errorf("%s: enable.auto.commit=%q: want true or false", c.source, v.Value)}
		}
		c.manual = !b
	}
	return c, nil
}

// readCommitted makes the group read only committed transactions (the
// transactional ledger is read as a transactional application's
// consumers read it).
func (c *consumer) readCommitted() {
	c.settings["isolation.level"] = topology.Setting{Value: "read_committed", Default: "the drill: a transactional ledger is read read_committed"}
	c.apply = slices.DeleteFunc(c.apply, func(s probe.ClientSetting) bool { return s.Name == "isolation.level" })
	c.apply = append(c.apply, probe.ClientSetting{Name: "isolation.level", Key: "isolation.level", Value: "read_committed"})
}

// places spreads the members over their DCs, round-robin.
func (c *consumer) places(place func(dc string) drill.Placement) []probe.ConsumerPlace {
	var out []probe.ConsumerPlace
	for i, dc := range c.spec.DCs {
		p := place(dc)
		out = append(out, probe.ConsumerPlace{DC: dc, Members: c.membersIn(i), Dial: p.Dial, Start: p.Start})
	}
	return out
}

// membersIn is how many members run in the i-th of the DCs.
func (c *consumer) membersIn(i int) int {
	n := c.spec.Members / len(c.spec.DCs)
	if i < c.spec.Members%len(c.spec.DCs) {
		n++
	}
	return n
}

// clients are the group as client files, one per DC of members, for the
// prediction: check's scenarios charge a group for its coordinator and
// for its members in the lost DC. Members started here are in here's DC
// when it is known, else in none: the drill never takes them away (it
// kills only the members it placed in the faulted DC).
func (c *consumer) clients(group, here string) []topology.ClientConfig {
	var out []topology.ClientConfig
	for _, dc := range c.spec.DCs {
		if dc == "" {
			dc = cmp.Or(here, topology.OutsideDCs)
		}
		s := topology.Settings{}
		for k, v := range c.settings {
			s[k] = v
		}
		s["group.id"] = topology.Setting{Value: group, Default: "the drill's group"}
		out = append(out, topology.ClientConfig{File: "drill consumers", Path: "drill consumers", Kind: topology.Consumer, Library: string(c.library), DC: dc, Consumer: s})
	}
	return out
}

// commits says how the members commit.
func (c *consumer) commits() string {
	if c.manual {
		return "sync after each poll (enable.auto.commit=false)"
	}
	return "auto every " + cmp.Or(c.settings["auto.commit.interval.ms"].Value, "5000") + " ms"
}

// drillGroup is the drill's group id: "stretchctl-<id>", or, when the
// consumer file names a group, the first "stretchctl-<id>-<n>" whose
// __consumer_offsets partition is that group's, so that the drill's group
// has the team's group's coordinator without ever joining it.
func drillGroup(id, standsFor string, offsetsPartitions int) string {
	base := "stretchctl-" + id
	if standsFor == "" || offsetsPartitions < 1 {
		return base
	}
	want := topology.GroupPartition(standsFor, offsetsPartitions)
	for n := 0; ; n++ {
		if g := fmt.Sprintf("%s-%d", base, n); topology.GroupPartition(g, offsetsPartitions) == want {
			return g
		}
	}
}

// coordinator is the group's __consumer_offsets partition and the DC of
// its leader in snap (-1 and "" when the topic is not there yet).
func coordinator(snap *topology.Snapshot, cfg *config.Config, group string) (int, string) {
	n := len(topicOf(snap, topology.OffsetsTopic).Partitions)
	if n == 0 {
		return -1, ""
	}
	return leaderOf(snap, cfg, topology.OffsetsTopic, topology.GroupPartition(group, n))
}

// leaderOf is partition p of topic and the DC of its leader in snap ("":
// unknown).
func leaderOf(snap *topology.Snapshot, cfg *config.Config, topic string, p int) (int, string) {
	for _, tp := range topicOf(snap, topic).Partitions {
		if int(tp.ID) != p {
			continue
		}
		for _, b := range snap.Brokers {
			if b.ID == tp.Leader {
				return p, cfg.Topology.DCOfRack(b.Rack)
			}
		}
	}
	return p, ""
}

// predictRead is check's prediction for the group. A partition's reads
// stop while its leader moves, like its writes, and while the high
// watermark waits for the ISR to shrink (a consumer reads only below it);
// a consumer fetching from a silent leader (lose, freeze, isolate) waits
// its own request timeout before it looks for the new one (the Java
// consumer: request.timeout.ms, NetworkClient), as a producer waits its
// own. On top, the group stops while its coordinator moves and while the
// members lost with the DC are found dead (session.timeout.ms) — the
// scenario's "consumer group" term (rules, kafka-rules.md §4.5).
func predictRead(in *advise.Inputs, f drill.Fault, write *drill.Prediction, c *consumer, group, here string) *drill.ReadPrediction {
	if write == nil || write.Error != "" {
		return nil
	}
	rp := &drill.ReadPrediction{}
	kind, _ := scenarioKind(f.Kind)
	gin := *in
	gin.Clients = c.clients(group, here)
	rep, err := gin.Evaluate(rules.High)
	var groupTerm *drill.RTOTerm
	if err == nil {
		for _, s := range rep.Scenarios {
			if s.Kind != kind || s.DC != f.DC {
				continue
			}
			for _, g := range s.Groups {
				rp.Rebalance = rp.Rebalance || g.Rebalance
				rp.CoordinatorMoves = rp.CoordinatorMoves || g.CoordinatorMoves
				if groupTerm == nil || g.Seconds > groupTerm.Seconds {
					groupTerm = &drill.RTOTerm{Name: "consumer group", Seconds: g.Seconds, Note: g.Note}
				}
			}
		}
	} else {
		rp.Why = append(rp.Why, "the group's scenario could not be evaluated: "+err.Error())
	}
	if write.RTOSeconds == nil {
		rp.Why = append(rp.Why, "writes stop until the DC returns: so do reads of what is not written")
		return rp
	}
	var srv, rtt float64
	election, shrink := false, false
	for _, t := range write.RTOBreakdown {
		switch t.Name {
		case "inter-DC round trip":
			rtt = t.Seconds
			rp.RTOBreakdown = append(rp.RTOBreakdown, t)
		case "controller failover", "broker fencing", "leader election", "ISR shrink":
			srv += t.Seconds
			election = election || t.Name == "leader election"
			shrink = shrink || t.Name == "ISR shrink"
			rp.RTOBreakdown = append(rp.RTOBreakdown, t)
		}
	}
	read := srv + rtt
	if election && f.Kind != drill.Crash {
		wait := settingMillis(c.settings, "request.timeout.ms", 30000).Seconds()
		if wait > srv {
			rp.RTOBreakdown = append(rp.RTOBreakdown, drill.RTOTerm{Name: "consumer's own wait", Seconds: round3(wait - srv),
				Note: fmt.Sprintf("a fetch from the silent leader ends after request.timeout.ms %gs (%s)", wait, cmp.Or(c.settings["request.timeout.ms"].Default, "the file"))})
			read = wait + rtt
		}
	}
	if shrink {
		rp.Why = append(rp.Why, "the high watermark waits for the ISR to shrink: consumers read nothing newer, but nothing new is acknowledged either")
	}
	// At best, the group reads every acknowledged record as it comes: the
	// lost members' sessions are the only certain stop. At worst, records
	// a crashed leader had sent were lost in flight and are read from the
	// new leader after the failover, and a fetch from a silent leader
	// ends only by the consumer's own timeout.
	lo := 0.0
	if groupTerm != nil && rp.Rebalance {
		lo = groupTerm.Seconds
		if election {
			// The lost members' partitions led in the DC take no writes
			// until their leaders move: those wait only from then.
			lo = max(0, groupTerm.Seconds-srv-rtt)
			rp.Why = append(rp.Why, "the partitions of the lost members that were led in the DC wait only from their leaders' move: which ones the members held decides where in the range the read RTO falls")
		}
	}
	if groupTerm != nil && groupTerm.Seconds > read {
		rp.RTOBreakdown = append(rp.RTOBreakdown, *groupTerm)
		read = groupTerm.Seconds
	}
	if groupTerm != nil {
		rp.Why = append(rp.Why, groupTerm.Note)
	}
	if rp.CoordinatorMoves && !rp.Rebalance {
		rp.Why = append(rp.Why, "while the coordinator moves the members cannot commit, but they keep fetching: the new coordinator loads the group and re-arms their sessions (GroupMetadataManager.onGroupLoaded)")
	}
	hi, best := round3(read), round3(min(lo, read))
	rp.RTOSeconds = &hi
	if best < hi {
		rp.MinRTOSeconds = &best
	}
	return rp
}

// settingMillis is a client setting in milliseconds as a duration (at
// most an hour), def when it is unset or not a count of milliseconds.
func settingMillis(s topology.Settings, name string, def int64) time.Duration {
	if n, err := strconv.ParseInt(strings.TrimSpace(s[name].Value), 10, 64); err == nil && n >= 0 {
		return time.Duration(min(n, int64(time.Hour/time.Millisecond))) * time.Millisecond
	}
	return time.Duration(def) * time.Millisecond
}

func round3(v float64) float64 { return float64(int64(v*1000+0.5)) / 1000 }

// prepareGroup names the drill's group and its coordinator in the result.
// On a cluster that never had a group, the coordinator lookup creates the
// offsets topic (as any consumer's first lookup would), and the cluster is
// read again so that the prediction knows the coordinator.
func (r *runner) prepareGroup(ctx context.Context, snap *topology.Snapshot, res *drill.Result) (*topology.Snapshot, string, error) {
	c, cfg := r.cons, r.o.Config
	if len(topicOf(snap, topology.OffsetsTopic).Partitions) == 0 {
		r.emit("looking up a group coordinator: the cluster has no " + topology.OffsetsTopic + " yet")
		if err := r.readers.FindCoordinator(ctx, "stretchctl-"+r.o.ID, false); err != nil {
			return nil, "", fmt.Errorf("consumer group: %w", err)
		}
		fresh, err := r.kafka.Snapshot(ctx)
		if err != nil {
			return nil, "", err
		}
		snap = fresh
		res.Notes = append(res.Notes, "the cluster had no "+topology.OffsetsTopic+": looking up the group's coordinator created it")
	}
	group := drillGroup(r.o.ID, c.standsFor, len(topicOf(snap, topology.OffsetsTopic).Partitions))
	part, dc := coordinator(snap, cfg, group)
	w := &drill.ConsumerWorkload{Group: group, StandsFor: c.standsFor, CoordinatorPartition: part, CoordinatorDC: dc,
		Commits: c.commits(), Source: c.source, Library: string(c.library)}
	for i, dc := range c.spec.DCs {
		w.Members = append(w.Members, drill.MembersIn{DC: dc, Members: c.membersIn(i)})
	}
	for _, name := range slices.Sorted(maps.Keys(c.settings)) {
		st := c.settings[name]
		origin := st.Default
		if st.Explicit() {
			origin = fmt.Sprintf("%s:%d", c.source, st.Line)
		}
		w.Settings = append(w.Settings, drill.Setting{Name: name, Value: st.Value, Origin: origin})
	}
	res.Workload.Consumers = w
	res.Goals.ReadRTOSeconds = cmp.Or(cfg.Goals.ReadRTO.Duration, cfg.Goals.RTO.Duration).Seconds()
	return snap, group, nil
}

// placement is where members in dc run (here: none needed).
func (r *runner) placement(dc string) drill.Placement { return r.placeIn[dc] }

// describeConsumers puts the library that ran and what it made of the
// settings into the result.
func (r *runner) describeConsumers(res *drill.Result, info probe.LibraryInfo) {
	if w := res.Workload.Consumers; w != nil {
		w.LibraryVersion, w.Applied = info.Version, info.Applied
		w.Rejected = append(slices.Clone(r.cons.skipped), info.Rejected...)
	}
}

// diesWithDC: the fault takes the DC's applications with it (a crash or a
// loss of the DC, or a freeze of everything in it); an isolated DC's
// applications live on, cut off.
func diesWithDC(k drill.Kind) bool { return k == drill.Crash || k == drill.Lose || k == drill.Freeze }

// catchUp bounds the wait for the group to read to the end after the
// fault: a member lost with the DC holds its partitions until its session
// expires, then the group rebalances.
func (c *consumer) catchUp() time.Duration {
	return time.Minute + 2*settingMillis(c.settings, "session.timeout.ms", 45000)
}

// withReads adds the group's first reads per second to the timeline.
func withReads(tl []drill.Second, perSecond map[int]int64) []drill.Second {
	for t, n := range perSecond {
		for len(tl) <= t {
			tl = append(tl, drill.Second{T: len(tl)})
		}
		tl[t].Read = n
	}
	return tl
}

// readGoalsMet: the group read everything (nothing skipped) and its read
// RTO is within the read goal; true when no group ran.
func readGoalsMet(res *drill.Result) bool {
	rd := res.Observed.Read
	if tx := res.Observed.Transactions; tx != nil && tx.ExactlyOnce != nil && !*tx.ExactlyOnce {
		return false
	}
	if res.Workload.Consumers == nil {
		return true
	}
	return rd != nil && rd.Skipped == 0 && rd.RTOSeconds != nil && *rd.RTOSeconds <= res.Goals.ReadRTOSeconds
}

// compareReads adds the group's points: the read RTO, whether it
// rebalanced, and that nothing was skipped.
func compareReads(res *drill.Result, add func(what, pred, obs string, agree bool)) {
	p, o := res.Predicted.Read, res.Observed.Read
	if p == nil || o == nil {
		return
	}
	switch {
	case p.RTOSeconds == nil && o.RTOSeconds == nil:
		add("reads", "stop until the DC returns", "did not resume before the heal", true)
	case p.RTOSeconds != nil && o.RTOSeconds == nil && res.Fault.Duration > 0 &&
		*p.RTOSeconds >= res.Fault.Duration.Seconds()-rtoTolerance(res.Fault.Duration.Seconds()):
		// Interval-censored, as for writes: reading resumed only after
		// the hold H, so the read RTO is at least H, which agrees with a
		// prediction P ≥ H − tolerance(H) (crashed members expire after
		// their session, whether or not the DC came back meanwhile).
		add("reads", fmt.Sprintf("resume after %.1fs, not before the %v hold", *p.RTOSeconds, res.Fault.Duration), "did not resume before the heal", true)
	case p.RTOSeconds == nil || o.RTOSeconds == nil:
		pred, obs := "stop until the DC returns", "did not resume before the heal"
		if p.RTOSeconds != nil {
			pred = fmt.Sprintf("resume after %.1fs", *p.RTOSeconds)
		}
		if o.RTOSeconds != nil {
			obs = fmt.Sprintf("resumed after %.1fs", *o.RTOSeconds)
		}
		add("reads", pred, obs, false)
	case p.MinRTOSeconds != nil:
		lo, hi, obs := *p.MinRTOSeconds, *p.RTOSeconds, *o.RTOSeconds
		tol := rtoTolerance(obs)
		add("read RTO", fmt.Sprintf("%.1f–%.1fs", lo, hi), fmt.Sprintf("%.3fs (tolerance ±%.1fs)", obs, tol), obs >= lo-tol && obs <= hi+tol)
	default:
		pred, obs := *p.RTOSeconds, *o.RTOSeconds
		tol := rtoTolerance(obs)
		add("read RTO", fmt.Sprintf("%.1fs", pred), fmt.Sprintf("%.3fs (error %+.1fs, tolerance ±%.1fs)", obs, pred-obs, tol), math.Abs(pred-obs) <= tol)
	}
	predR, obsR := "none", fmt.Sprint(len(o.Rebalances))
	if p.Rebalance {
		predR = "yes: members die with the DC"
	}
	add("group rebalances", predR, obsR, p.Rebalance == (len(o.Rebalances) > 0))
	add("records skipped", "0", fmt.Sprint(o.Skipped), o.Skipped == 0)
	if tx := res.Observed.Transactions; tx != nil && tx.ExactlyOnce != nil {
		obs := "held"
		if !*tx.ExactlyOnce {
			obs = fmt.Sprintf("broken: %d aborted records read, %d read twice, %d skipped", tx.AbortedRead, o.Redelivered, o.Skipped)
		}
		add("exactly-once (read_committed)", "held", obs, *tx.ExactlyOnce)
	}
}
