package probe

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchctl/stretchctl/probe/ledgerwire"
)

// fakeWorkerEnv makes this test binary a workload process speaking the
// ledgerwire protocol: it rejects the setting "bogus", acknowledges every
// record at an offset counting up, fails every fifth, and never answers
// the record with index 13 (it stays pending).
const fakeWorkerEnv = "STRETCHCTL_TEST_FAKE_WORKER"

func TestMain(m *testing.M) {
	if os.Getenv(fakeWorkerEnv) != "" {
		fakeWorker()
		return
	}
	os.Exit(m.Run())
}

func fakeWorker() {
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	fmt.Fprint(out, ledgerwire.VersionLine("fake", "0.1.0"))
	in := bufio.NewScanner(os.Stdin)
	offset := int64(0)
	for in.Scan() {
		c, err := ledgerwire.ParseCommand(in.Text())
		if err != nil {
			fmt.Fprint(out, ledgerwire.FatalLine(err.Error()))
			return
		}
		switch c.Verb {
		case "CONFIG":
			if c.Key == "bogus" {
				fmt.Fprint(out, ledgerwire.RejectedLine(c.Key, "no such setting"))
			}
		case "START":
			fmt.Fprint(out, "READY\n")
		case "SEND":
			switch {
			case c.Index == 13:
			case c.Index%5 == 4:
				fmt.Fprint(out, ledgerwire.FailLine(c.Index, time.Now(), "NOT_ENOUGH_REPLICAS: fake"))
			default:
				fmt.Fprint(out, ledgerwire.AckLine(c.Index, offset, time.Now()))
				offset++
			}
		case "CLOSE":
			fmt.Fprint(out, "CLOSED\n")
			return
		}
		out.Flush()
	}
}

// TestProcessWorkload drives a workload process over the line protocol:
// its version and what it made of the settings are reported, every answer
// lands on its record, an unanswered record stays pending.
func TestProcessWorkload(t *testing.T) {
	t.Setenv(fakeWorkerEnv, "1")
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	l := &Ledger{Topic: "ledger", Parts: []int32{0, 1}, StartOffsets: map[int32]int64{0: 0, 1: 0}, Errors: map[string]int64{}}
	run := &LedgerRun{l: l, done: make(chan struct{})}
	opts := LedgerOptions{Topic: "ledger", Producers: 2, Rate: 2000, MaxRecords: 20}
	settings := []ClientSetting{{Name: "acks", Key: "acks", Value: "all"}, {Name: "bogus", Key: "bogus", Value: "1"}}
	pp, info, err := startProcess(context.Background(), []string{exe}, nil, settings, opts, run)
	if err != nil {
		t.Fatal(err)
	}
	if info.Version != "0.1.0" || len(info.Applied) != 1 || info.Applied[0] != "acks=all" || len(info.Rejected) != 1 || !strings.Contains(info.Rejected[0], "bogus") {
		t.Errorf("info %+v, want version 0.1.0, acks applied, bogus rejected", info)
	}
	run.start(context.Background(), opts, pp)
	deadline := time.Now().Add(10 * time.Second)
	for c := run.Counts(); c.Acked+c.Failed < 19; c = run.Counts() {
		if time.Now().After(deadline) {
			t.Fatalf("counts %+v: the worker did not answer", c)
		}
		time.Sleep(5 * time.Millisecond)
	}
	got := run.Stop(100 * time.Millisecond)
	if c := run.Counts(); c.Sent != 20 || c.Acked != 15 || c.Failed != 4 {
		t.Errorf("counts %+v, want 20 sent, 15 acked, 4 failed, 1 pending", c)
	}
	for i, r := range got.Records {
		want := Acked
		switch {
		case i == 13:
			want = Pending
		case i%5 == 4:
			want = Failed
		}
		if r.State != want {
			t.Errorf("record %d: state %d, want %d", i, r.State, want)
		}
		if r.State == Acked && (r.Offset < 0 || r.Done < r.Sent) {
			t.Errorf("record %d: offset %d, done %v, sent %v", i, r.Offset, r.Done, r.Sent)
		}
	}
	if got.Errors["NOT_ENOUGH_REPLICAS: fake"] != 4 {
		t.Errorf("errors %v", got.Errors)
	}
}

// TestProcessWorkloadDies: a process that exits before it is ready is an
// error naming what it said.
func TestProcessWorkloadDies(t *testing.T) {
	l := &Ledger{Topic: "ledger", Parts: []int32{0}, Errors: map[string]int64{}}
	run := &LedgerRun{l: l, done: make(chan struct{})}
	_, _, err := startProcess(context.Background(), []string{"sh", "-c", "echo 'no java here' >&2; exit 3"}, nil, nil, LedgerOptions{Topic: "ledger"}, run)
	if err == nil || !strings.Contains(err.Error(), "no java here") {
		t.Errorf("error %v, want the process's own words", err)
	}
}
