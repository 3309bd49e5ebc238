package rules

import (
	"bufio"
	"github.com/stretchctl/stretchctl/internal/synth"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchctl/stretchctl/config"
)

// syntheticInput builds a 3-DC cluster of 9 brokers with topics×parts
// partitions, RF 3 placed 1/1/1, a tenth of them with a shrunken ISR.
func syntheticInput(topics, parts int) *Input {
	cfg := config.Default()
	cfg.Topology.DCs = synth.DCs
	return &Input{Snapshot: synth.Snapshot(topics, parts), Config: cfg, FailOn: High}
}

// BenchmarkEvaluate1M evaluates every rule and scenario over a million
// partitions (target: under 2 s and 1.5 GiB peak memory). peak-RSS-MiB is
// the process high-water mark, snapshot included.
func BenchmarkEvaluate1M(b *testing.B) {
	in := syntheticInput(1000, 1000)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rep, err := Evaluate(in)
		if err != nil {
			b.Fatal(err)
		}
		if len(rep.Scenarios) != 9 {
			b.Fatalf("%d scenarios", len(rep.Scenarios))
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(peakRSSKiB())/1024, "peak-RSS-MiB")
}

func peakRSSKiB() int {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return n
		}
	}
	return 0
}
