package tui

import (
	"context"
	"fmt"
	"io"
	"syscall"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/muesli/termenv"

	"github.com/stretchctl/stretchctl/advise"
	"github.com/stretchctl/stretchctl/chaos"
	"github.com/stretchctl/stretchctl/config"
	"github.com/stretchctl/stretchctl/drill"
	"github.com/stretchctl/stretchctl/probe"
	"github.com/stretchctl/stretchctl/rules"
	"github.com/stretchctl/stretchctl/topology"
)

// bigInputs is a cluster of 100 brokers in 3 DCs with 2,000 findings
// (700 topics whose single replica is in one DC, three findings each).
func bigInputs(b testing.TB) *advise.Inputs {
	cfg := config.Default()
	cfg.Topology.DCs = []string{"dc-a", "dc-b", "dc-c"}
	cfg.Topology.Controllers = map[string]string{"1001": "dc-a", "1002": "dc-b", "1003": "dc-c"}
	cfg.Goals.RTO = config.Duration{Duration: time.Minute}
	snap := &topology.Snapshot{SchemaVersion: topology.SchemaVersion, ClusterID: "big", KafkaVersion: "3.9.1", Mode: "kraft", TakenAt: testNow,
		Quorum: &topology.Quorum{LeaderID: 1001, Voters: []topology.QuorumReplica{{ID: 1001}, {ID: 1002}, {ID: 1003}}}}
	for i := int32(0); i < 100; i++ {
		snap.Brokers = append(snap.Brokers, topology.Broker{ID: i, Host: fmt.Sprintf("b%d", i), Port: 9092, Rack: cfg.Topology.DCs[i%3]})
	}
	for t := 0; t < 700; t++ {
		r := int32(t % 100)
		snap.Topics = append(snap.Topics, topology.Topic{Name: fmt.Sprintf("topic-%03d", t),
			Partitions: []topology.Partition{{ID: 0, Leader: r, Replicas: []int32{r}, ISR: []int32{r}}},
			Configs:    topology.Configs{"min.insync.replicas": {Value: "1", Source: topology.SourceTopic}}})
	}
	in := &advise.Inputs{Config: cfg, Snapshot: snap}
	mx, err := probe.LoadMatrix(matrixFile, testNow)
	if err != nil {
		b.Fatal(err)
	}
	in.SetMatrix(mx)
	rep, err := in.Evaluate(rules.High)
	if err != nil {
		b.Fatal(err)
	}
	if n := len(rep.Findings); n < 2000 {
		b.Fatalf("%d findings, want 2,000 or more", n)
	}
	return in
}

type bigEngine struct{ in *advise.Inputs }

func (e bigEngine) Gather(context.Context) (*advise.Inputs, error) { return e.in, nil }
func (e bigEngine) Matrix(context.Context) (*probe.Matrix, error) {
	return probe.LoadMatrix(matrixFile, time.Now())
}
func (e bigEngine) Probe(context.Context) (*probe.Matrix, error) { return nil, nil }
func (e bigEngine) Drill(context.Context, chaos.Options) (*drill.Result, error) {
	return nil, nil
}
func (e bigEngine) DrillsAllowed() (bool, string) { return true, "" }

// BenchmarkFrame renders one frame of each screen for 100 brokers and
// 2,000 findings; the findings list is rebuilt every time (as after a
// new read or a key in the filter). Target: under 16 ms a frame.
func BenchmarkFrame(b *testing.B) {
	in := bigInputs(b)
	m := New(context.Background(), Options{Engine: bigEngine{in}, Profile: termenv.ANSI256, Now: func() time.Time { return testNow }})
	m.Update(tea.WindowSizeMsg{Width: 160, Height: 50})
	m.Update(InputsMsg{Inputs: in, At: testNow})
	b.Logf("%d findings", len(m.report.Findings))
	for _, s := range []Screen{Overview, Latency, Findings, Scenarios, Drill} {
		b.Run(s.String(), func(b *testing.B) {
			m.screen = s
			for b.Loop() {
				m.findings.invalidate()
				_ = m.View()
			}
		})
	}
	b.Run("whatif-reevaluate", func(b *testing.B) {
		m.screen = Scenarios
		for b.Loop() {
			m.scenarios.cycleDC(m)
			_ = m.View()
		}
	})
}

// BenchmarkIdle runs the program with live data every 5 s (the agents'
// matrix re-read, the rules re-evaluated) for 20 s of wall time and
// reports the CPU it used as a share of one core. Target: under 1%.
func BenchmarkIdle(b *testing.B) {
	in := bigInputs(b)
	for b.Loop() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		m := New(ctx, Options{Engine: bigEngine{in}, Profile: termenv.ANSI256, Refresh: 5 * time.Second})
		p := tea.NewProgram(m, tea.WithContext(ctx), tea.WithInput(nil), tea.WithOutput(io.Discard), tea.WithoutSignalHandler())
		before, start := cpuTime(b), time.Now()
		go func() { time.Sleep(time.Second); p.Send(tea.WindowSizeMsg{Width: 160, Height: 50}) }()
		_, _ = p.Run()
		cancel()
		used, wall := cpuTime(b)-before, time.Since(start)
		b.ReportMetric(100*used.Seconds()/wall.Seconds(), "%cpu")
	}
}

func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
