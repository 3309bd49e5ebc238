package advise_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchctl/stretchctl/advise"
	"github.com/stretchctl/stretchctl/config"
	"github.com/stretchctl/stretchctl/internal/golden"
	"github.com/stretchctl/stretchctl/rules"
	"github.com/stretchctl/stretchctl/topology"
)

// matrixAt is when the agents of testdata/matrix/agents-3dc.json reported.
var matrixAt = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func example(t *testing.T) (*config.Config, string) {
	t.Helper()
	cfg, err := config.Load(golden.Path("examples", "20-well-configured", "stretch.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return cfg, golden.Path("examples", "20-well-configured", "snapshot.json")
}

// TestGatherOffline: a snapshot file and a matrix file are all a check
// needs; the agents' topic is not read for an offline check, fresh cells
// give the round trips with their source, stale ones are named and left
// out.
func TestGatherOffline(t *testing.T) {
	cfg, snap := example(t)
	matrix := golden.Path("matrix", "agents-3dc.json")
	ctx := context.Background()
	opts := advise.Options{SnapshotFile: snap, LatencyMatrixFile: matrix, LatencyTopic: "__stretchctl_latency",
		Now: func() time.Time { return matrixAt.Add(5 * time.Second) }}
	in, err := advise.Gather(ctx, cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]time.Duration{"dc-a/dc-b": 8400 * time.Microsecond, "dc-a/dc-c": 120 * time.Millisecond, "dc-b/dc-c": 9 * time.Millisecond}
	for k, v := range want {
		if in.RTT[k] != v {
			t.Errorf("RTT %s = %v, want %v (the larger direction)", k, in.RTT[k], v)
		}
	}
	if !strings.Contains(in.RTTSource, "file "+matrix) || len(in.Warnings) != 0 || in.Snapshot.ClusterID == "" {
		t.Errorf("source %q, warnings %v, cluster %q", in.RTTSource, in.Warnings, in.Snapshot.ClusterID)
	}
	rep, err := in.Evaluate(rules.High)
	if err != nil {
		t.Fatal(err)
	}
	top008 := false
	for _, f := range rep.Findings {
		top008 = top008 || f.ID == "TOP-008" && f.Subject == "link:dc-a/dc-c"
	}
	if !top008 || rep.Verdict != rules.VerdictFail {
		t.Errorf("the 120 ms link: TOP-008 %v, verdict %s; want the finding and a fail", top008, rep.Verdict)
	}
	// Check is Gather then Evaluate.
	opts.FailOn = rules.High
	again, err := advise.Check(ctx, cfg, opts)
	if err != nil || again.Verdict != rep.Verdict || len(again.Findings) != len(rep.Findings) {
		t.Errorf("Check: %v, verdict %s and %d findings, want %s and %d", err, again.Verdict, len(again.Findings), rep.Verdict, len(rep.Findings))
	}
	// What-if needs no I/O: the same inputs under a tighter budget.
	in.Config.Goals.Latency.Fail = config.Duration{Duration: 5 * time.Millisecond}
	tight, err := in.Evaluate(rules.High)
	if err != nil {
		t.Fatal(err)
	}
	if n, m := count(tight, "TOP-008"), count(rep, "TOP-008"); n <= m {
		t.Errorf("a 5 ms fail budget gives %d latency findings, the 100 ms one %d", n, m)
	}

	// An hour later every cell is stale: named, not used.
	opts.Now = func() time.Time { return matrixAt.Add(time.Hour) }
	in, err = advise.Gather(ctx, cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	if in.RTT != nil || !strings.Contains(in.RTTSource, "stale, not used") {
		t.Errorf("stale matrix: RTT %v, source %q", in.RTT, in.RTTSource)
	}

	// No matrix file: an offline check measures nothing and reads no topic.
	opts.LatencyMatrixFile = ""
	in, err = advise.Gather(ctx, cfg, opts)
	if err != nil || in.RTT != nil || in.RTTSource != "" || len(in.Warnings) != 0 {
		t.Errorf("offline without a matrix: %v, RTT %v, source %q, warnings %v", err, in.RTT, in.RTTSource, in.Warnings)
	}
}

// TestGatherInputErrors: a bad input is an *InputError naming which one.
func TestGatherInputErrors(t *testing.T) {
	cfg, snap := example(t)
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name   string
		opts   advise.Options
		source advise.Source
		is     error
	}{
		{"broken matrix", advise.Options{SnapshotFile: snap, LatencyMatrixFile: write("m.json", `{"cells": [}`)}, advise.SourceLatencyMatrix, nil},
		{"missing snapshot", advise.Options{SnapshotFile: filepath.Join(dir, "none.json")}, advise.SourceSnapshotFile, os.ErrNotExist},
		{"other schema", advise.Options{SnapshotFile: write("s.json", `{"schemaVersion": 99}`)}, advise.SourceSnapshotFile, topology.ErrSchema},
		{"not a snapshot", advise.Options{SnapshotFile: write("x.json", `[1, 2]`)}, advise.SourceSnapshotFile, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := advise.Gather(context.Background(), cfg, tt.opts)
			var ie *advise.InputError
			if !errors.As(err, &ie) || ie.Source != tt.source || tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v, want an InputError from the %s (is %v)", err, tt.source, tt.is)
			}
		})
	}
	bad := *cfg
	bad.Clients = []config.Client{{File: filepath.Join(dir, "absent.properties"), Kind: config.KindProducer, Library: config.LibraryJava}}
	_, err := advise.Gather(context.Background(), &bad, advise.Options{SnapshotFile: snap})
	var ie *advise.InputError
	if !errors.As(err, &ie) || ie.Source != advise.SourceClientFile || !strings.Contains(err.Error(), "absent.properties") {
		t.Errorf("missing client file: %v", err)
	}
}

func count(r *rules.Report, id string) int {
	n := 0
	for _, f := range r.Findings {
		if f.ID == id {
			n++
		}
	}
	return n
}
