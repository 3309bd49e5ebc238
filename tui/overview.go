package tui

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/stretchctl/stretchctl/rules"
	"github.com/stretchctl/stretchctl/topology"
)

// overviewView: the cluster, its DCs with their brokers and controllers,
// the quorum, and one line per scenario. It shows the cluster as read:
// the what-if is the scenarios screen's.
func (m *Model) overviewView() string {
	snap, cfg, rep := m.inputs.Snapshot, m.inputs.Config, m.baseline
	var b strings.Builder
	head := []string{m.st.title.Render("cluster " + orNone(snap.ClusterID))}
	if snap.KafkaVersion != "" {
		head = append(head, "Kafka "+snap.KafkaVersion)
	}
	if snap.Mode != "" {
		head = append(head, snap.Mode)
	}
	if !snap.TakenAt.IsZero() {
		head = append(head, "data "+ago(m.now().Sub(snap.TakenAt))+" old")
	}
	b.WriteString(strings.Join(head, " · ") + "\n")
	if rep != nil {
		b.WriteString(m.verdictLine(rep) + "\n")
	}
	b.WriteString("\n")

	// Brokers and controllers per DC.
	dcs := append([]string(nil), cfg.Topology.DCs...)
	byDC := map[string][]topology.Broker{}
	for _, br := range snap.Brokers {
		dc := "no DC"
		if br.Rack != "" && cfg.Topology.HasDC(cfg.Topology.DCOfRack(br.Rack)) {
			dc = cfg.Topology.DCOfRack(br.Rack)
		}
		byDC[dc] = append(byDC[dc], br)
	}
	voters := m.voterLabels()
	if len(byDC["no DC"]) > 0 || len(voters["no DC"]) > 0 {
		dcs = append(dcs, "no DC")
	}
	fmt.Fprintf(&b, "%s\n", m.st.bold.Render(pad("DC", 8)+pad("brokers", 40)+"controllers"))
	for _, dc := range dcs {
		bl, vl := m.brokerLabels(byDC[dc]), voters[dc]
		for i := 0; i < max(len(bl), len(vl), 1); i += 3 {
			name := ""
			if i == 0 {
				name = dc
			}
			fmt.Fprintf(&b, "%s%s%s\n", pad(name, 8), padStyled(strings.Join(slice3(bl, i), "  "), 40), strings.Join(slice3(vl, i), "  "))
		}
	}
	if q := snap.Quorum; q != nil {
		leader := "none"
		if q.LeaderID >= 0 {
			leader = strconv.Itoa(int(q.LeaderID))
		}
		fmt.Fprintf(&b, "quorum: leader %s, epoch %d, high watermark %d, %d voters, %d observers\n", leader, q.LeaderEpoch, q.HighWatermark, len(q.Voters), len(q.Observers))
	} else if snap.Mode == "kraft" {
		b.WriteString(m.st.faint.Render("quorum: not read") + "\n")
	}
	b.WriteString("\n")
	if rep != nil {
		b.WriteString(m.scenarioTable(rep.Scenarios, -1, nil))
	}
	return b.String()
}

// verdictLine is the report's verdict and its counts.
func (m *Model) verdictLine(rep *rules.Report) string {
	v := m.st.good.Render("goals met")
	if rep.Verdict != rules.VerdictPass {
		v = m.st.bad.Render("goals violated")
	}
	var counts []string
	for s := rules.Critical; s >= rules.Info; s-- {
		if n := rep.Counts[s.String()]; n > 0 {
			counts = append(counts, fmt.Sprintf("%d %s", n, s))
		}
	}
	if len(counts) == 0 {
		counts = append(counts, "no finding")
	}
	goals := fmt.Sprintf("RTO %gs, RPO %d", rep.Goals.RTOSeconds, rep.Goals.RPO)
	return v + " (" + goals + ") · " + strings.Join(counts, ", ")
}

// brokerLabels are a DC's brokers: each with its state when there are
// few, else a count of those up and the others by id.
func (m *Model) brokerLabels(bs []topology.Broker) []string {
	if len(bs) <= 6 {
		out := make([]string, len(bs))
		for i, br := range bs {
			out[i] = m.brokerLabel(br)
		}
		return out
	}
	up := 0
	var others []string
	for _, br := range bs {
		if br.Serving() {
			up++
		} else {
			others = append(others, m.brokerLabel(br))
		}
	}
	return append([]string{m.st.good.Render(fmt.Sprintf("%d up", up))}, others...)
}

func (m *Model) brokerLabel(br topology.Broker) string {
	id := strconv.Itoa(int(br.ID))
	switch br.State {
	case topology.BrokerFenced:
		return m.st.bad.Render(id + " fenced")
	case topology.BrokerAbsent:
		return m.st.bad.Render(id + " down")
	}
	return m.st.good.Render(id + " up")
}

// voterLabels are the quorum's voters by DC: leader, or lag behind it.
func (m *Model) voterLabels() map[string][]string {
	snap, topo := m.inputs.Snapshot, m.inputs.Config.Topology
	out := map[string][]string{}
	q := snap.Quorum
	if q == nil {
		for _, id := range topo.ControllerIDs() {
			dc, _ := topo.DCOfController(id)
			out[dc] = append(out[dc], strconv.Itoa(int(id)))
		}
		return out
	}
	var leaderLEO int64 = -1
	for _, v := range q.Voters {
		if v.ID == q.LeaderID {
			leaderLEO = v.LogEndOffset
		}
	}
	voters := append([]topology.QuorumReplica(nil), q.Voters...)
	sort.Slice(voters, func(i, j int) bool { return voters[i].ID < voters[j].ID })
	for _, v := range voters {
		dc, ok := topo.DCOfController(v.ID)
		if !ok {
			if br, isBroker := snap.Broker(v.ID); isBroker && br.Rack != "" {
				dc, ok = topo.DCOfRack(br.Rack), true
			}
		}
		if !ok || !topo.HasDC(dc) {
			dc = "no DC"
		}
		label := strconv.Itoa(int(v.ID))
		switch {
		case v.ID == q.LeaderID:
			label = m.st.good.Render(label + " leader")
		case leaderLEO >= 0 && v.LogEndOffset >= 0:
			lag := leaderLEO - v.LogEndOffset
			st := m.st.good
			if lag > 0 {
				st = m.st.warn
			}
			label = st.Render(fmt.Sprintf("%s lag %d", label, lag))
		default:
			label = m.st.warn.Render(label + " lag ?")
		}
		out[dc] = append(out[dc], label)
	}
	return out
}

// scenarioTable is one line per scenario; sel is the selected row (-1:
// none); base, when not nil, marks the scenarios the what-if changed.
func (m *Model) scenarioTable(ss []rules.Scenario, sel int, base []rules.Scenario) string {
	var b strings.Builder
	b.WriteString(m.st.bold.Render(pad("scenario", 16)+pad("goals", 8)+pad("RTO", 9)+pad("no writes", 11)+pad("no reads", 10)+pad("loss risk", 11)+"quorum") + "\n")
	for i, s := range ss {
		goals := m.st.good.Render(pad("met", 8))
		if !s.GoalsMet {
			goals = m.st.bad.Render(pad("MISSED", 8))
		}
		quorum := "survives"
		if !s.QuorumSurvives {
			quorum = m.st.bad.Render("lost")
		}
		mark := ""
		if base != nil && i < len(base) && changed(base[i], s) {
			mark = m.st.warn.Render(" ◆ what-if")
		}
		line := pad(s.Name, 16) + goals + pad(seconds(s.PredictedRTOSeconds), 9) + pad(strconv.Itoa(s.WriteUnavailable), 11) +
			pad(strconv.Itoa(s.ReadUnavailable), 10) + pad(strconv.Itoa(s.AckedLossPossible), 11) + quorum + mark
		if i == sel {
			line = m.st.selected.Render("›" + line)
		} else {
			line = " " + line
		}
		b.WriteString(line + "\n")
	}
	return b.String()
}

// changed reports whether a what-if changed a scenario's outcome.
func changed(a, b rules.Scenario) bool {
	return a.GoalsMet != b.GoalsMet || a.QuorumSurvives != b.QuorumSurvives || a.WriteUnavailable != b.WriteUnavailable ||
		a.ReadUnavailable != b.ReadUnavailable || a.AckedLossPossible != b.AckedLossPossible || seconds(a.PredictedRTOSeconds) != seconds(b.PredictedRTOSeconds)
}

// seconds renders a predicted RTO: "∞" when writes do not resume.
func seconds(s *float64) string {
	if s == nil {
		return "∞"
	}
	return strconv.FormatFloat(*s, 'f', 1, 64) + "s"
}

func orNone(s string) string {
	if s == "" {
		return "(unknown)"
	}
	return s
}

// slice3 is up to three items of l from i.
func slice3(l []string, i int) []string {
	if i >= len(l) {
		return nil
	}
	return l[i:min(i+3, len(l))]
}
