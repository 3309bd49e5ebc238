package probe

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/stretchctl/stretchctl/config"
	"github.com/stretchctl/stretchctl/topology"
)

func topologyBroker(id int32, rack string) topology.Broker {
	return topology.Broker{ID: id, Host: "198.18.1.1", Port: 9092, Rack: rack}
}

func TestAssignment(t *testing.T) {
	dcs := func(m map[int32]string) func(int32) string { return func(id int32) string { return m[id] } }
	tests := []struct {
		name    string
		brokers []int32
		spread  map[int32]string
		rf      int
		want    [][]int32
	}{
		{
			name:    "2.5 DC lab: every partition has a replica in both DCs",
			brokers: []int32{4, 2, 3, 1},
			spread:  map[int32]string{1: "dc-a", 2: "dc-a", 3: "dc-b", 4: "dc-b"},
			rf:      3,
			want:    [][]int32{{1, 3, 2}, {2, 3, 4}, {3, 1, 4}, {4, 1, 2}},
		},
		{
			name:    "three DCs: one replica in each",
			brokers: []int32{1, 2, 3, 4, 5, 6},
			spread:  map[int32]string{1: "a", 2: "a", 3: "b", 4: "b", 5: "c", 6: "c"},
			rf:      3,
			want:    [][]int32{{1, 3, 5}, {2, 3, 5}, {3, 5, 1}, {4, 5, 1}, {5, 1, 3}, {6, 1, 3}},
		},
		{
			name:    "two brokers",
			brokers: []int32{7, 9},
			spread:  map[int32]string{7: "a", 9: "b"},
			rf:      2,
			want:    [][]int32{{7, 9}, {9, 7}},
		},
		{
			name:    "one broker",
			brokers: []int32{1},
			spread:  map[int32]string{1: "a"},
			rf:      1,
			want:    [][]int32{{1}},
		},
		{
			name:    "no racks: ring order",
			brokers: []int32{1, 2, 3, 4},
			spread:  map[int32]string{},
			rf:      3,
			want:    [][]int32{{1, 2, 3}, {2, 3, 4}, {3, 4, 1}, {4, 1, 2}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := assignment(tc.brokers, dcs(tc.spread), tc.rf)
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("assignment = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestLeadership(t *testing.T) {
	md := &sarama.MetadataResponse{Topics: []*sarama.TopicMetadata{
		{Name: "other", Partitions: []*sarama.PartitionMetadata{{ID: 0, Leader: 9, Replicas: []int32{9}}}},
		{Name: DefaultTopic, Partitions: []*sarama.PartitionMetadata{
			// Partition 0 failed over from 1 to 3; 3 also leads 2.
			{ID: 2, Leader: 3, Replicas: []int32{3, 1, 4}},
			{ID: 0, Leader: 3, Replicas: []int32{1, 3, 2}},
			{ID: 1, Leader: 2, Replicas: []int32{2, 3, 4}},
			{ID: 3, Leader: -1, Replicas: []int32{4, 1, 2}},
		}},
	}}
	lead, replicas, found := leadership(md, DefaultTopic)
	if !found {
		t.Fatal("topic not found")
	}
	if want := map[int32]int32{3: 0, 2: 1}; fmt.Sprint(lead) != fmt.Sprint(want) {
		t.Errorf("lead = %v, want %v (lowest partition per leader, none for -1)", lead, want)
	}
	if got := leadsNone([]int32{1, 2, 3, 4}, lead); !slices.Equal(got, []int32{1, 4}) {
		t.Errorf("leadsNone = %v, want [1 4]", got)
	}
	for _, tc := range []struct {
		broker int32
		want   int32
		ok     bool
	}{{1, 0, true}, {4, 3, true}, {5, 0, false}} {
		if p, ok := preferredOf(tc.broker, replicas); p != tc.want || ok != tc.ok {
			t.Errorf("preferredOf(%d) = %d, %v; want %d, %v", tc.broker, p, ok, tc.want, tc.ok)
		}
	}
	if got := notPreferred([]int32{1, 2, 3, 4, 5}, replicas); !slices.Equal(got, []int32{5}) {
		t.Errorf("notPreferred = %v, want [5] (a broker added after the topic)", got)
	}
	if _, _, found := leadership(md, "missing"); found {
		t.Error("a missing topic was found")
	}
	unknown := &sarama.MetadataResponse{Topics: []*sarama.TopicMetadata{{Name: DefaultTopic, Err: sarama.ErrUnknownTopicOrPartition}}}
	if _, _, found := leadership(unknown, DefaultTopic); found {
		t.Error("UNKNOWN_TOPIC_OR_PARTITION counted as found")
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

var _ net.Error = timeoutErr{}

func TestSeriesCountsFailures(t *testing.T) {
	tests := []struct {
		name                   string
		err                    error
		wantErrors, wantTimeos int64
	}{
		{"network timeout", timeoutErr{}, 0, 1},
		{"context deadline", context.DeadlineExceeded, 0, 1},
		{"kafka request timed out", sarama.ErrRequestTimedOut, 0, 1},
		{"refused", syscall.ECONNREFUSED, 1, 0},
		{"not leader", sarama.ErrNotLeaderForPartition, 1, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newSeries()
			s.fail(tc.err, "why")
			st := s.stats()
			if st.Errors != tc.wantErrors || st.Timeouts != tc.wantTimeos {
				t.Errorf("errors, timeouts = %d, %d; want %d, %d", st.Errors, st.Timeouts, tc.wantErrors, tc.wantTimeos)
			}
			if st.Count != 0 || st.Percentiles != nil || st.LastError != "why" {
				t.Errorf("stats = %+v, want no samples and the reason", st)
			}
		})
	}
}

func TestStatsPercentiles(t *testing.T) {
	s := newSeries()
	for i := 1; i <= 100; i++ {
		s.ok(time.Duration(i) * time.Millisecond)
	}
	s.fail(timeoutErr{}, "no answer")
	st := s.stats()
	if st.Count != 100 || st.Timeouts != 1 || st.Errors != 0 {
		t.Fatalf("count, timeouts, errors = %d, %d, %d; want 100, 1, 0", st.Count, st.Timeouts, st.Errors)
	}
	// Three significant digits: every figure within 0.1%.
	for _, tc := range []struct {
		name      string
		got, want float64
	}{{"min", st.MinMs, 1}, {"p50", st.P50Ms, 50}, {"p99", st.P99Ms, 99}, {"max", st.MaxMs, 100}} {
		if d := tc.got - tc.want; d > tc.want/1000 || d < -tc.want/1000 {
			t.Errorf("%s = %vms, want %vms ± 0.1%%", tc.name, tc.got, tc.want)
		}
	}
	if d, ok := st.P50(); !ok || d < 49950*time.Microsecond || d > 50050*time.Microsecond {
		t.Errorf("P50() = %v, %v; want 50ms", d, ok)
	}
}

func TestMatrix(t *testing.T) {
	mk := func(id int32, dc string, request time.Duration) *target {
		tg := &target{id: id, dc: dc, partition: id}
		for k := range tg.s {
			tg.s[k] = newSeries()
		}
		for range 10 {
			tg.s[kindRequest].ok(request)
		}
		return tg
	}
	b1, b2, b3 := mk(1, "dc-a", time.Millisecond), mk(2, "dc-a", 3*time.Millisecond), mk(3, "dc-b", 20*time.Millisecond)
	b3.s[kindConnect].fail(timeoutErr{}, "no answer within 3s")
	b4 := mk(4, "", 40*time.Millisecond)
	for _, k := range []kind{kindAcks1, kindAcksAll, kindReplication, kindEndToEnd} {
		b2.s[k].setUnknown("leads no partition")
		b4.s[k].setUnknown("fenced")
	}
	cells := matrix("dc-a", []*target{b4, b3, b1, b2})
	var got []string
	for _, c := range cells {
		got = append(got, fmt.Sprintf("%s>%s %v n=%d connect-timeouts=%d unknown=%q",
			c.From, c.To, c.Brokers, c.Request.Count, c.Connect.Timeouts, c.ProduceAcks1.Unknown))
	}
	want := []string{
		`dc-a>dc-a [1 2] n=20 connect-timeouts=0 unknown=""`, // one broker measured: not unknown
		`dc-a>dc-b [3] n=10 connect-timeouts=1 unknown=""`,
		`dc-a> [4] n=10 connect-timeouts=0 unknown="fenced"`, // unknown DC last
	}
	if !slices.Equal(got, want) {
		t.Errorf("matrix:\n got  %s\n want %s", strings.Join(got, "\n      "), strings.Join(want, "\n      "))
	}
	// The merged histogram, not an average of medians: half the samples
	// are 1 ms and half 3 ms, so the median is 1 ms (the 10th of 20).
	if p := cells[0].Request.P50Ms; p < 0.999 || p > 1.001 {
		t.Errorf("dc-a request p50 = %vms, want 1ms", p)
	}
}

func TestResultJSON(t *testing.T) {
	tg := newTarget(topologyBroker(1, "dc-a"), "dc-a", false)
	tg.s[kindRequest].ok(2 * time.Millisecond)
	tg.s[kindAcks1].setUnknown("leads no partition")
	r := &Result{From: "dc-a", Brokers: []BrokerLatency{tg.row()}, Matrix: matrix("dc-a", []*target{tg})}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{
		`"request":{"count":1,"errors":0,"timeouts":0,"minMs":2,"meanMs":2,"p50Ms":2,"p99Ms":2,"maxMs":2}`,
		`"produceAcks1":{"count":0,"errors":0,"timeouts":0,"unknown":"leads no partition"}`,
		`"matrix":[{"from":"dc-a","to":"dc-a","brokers":[1],`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("JSON lacks %s\n%s", want, s)
		}
	}
	var back Result
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if d, ok := back.Brokers[0].Request.P50(); !ok || d != 2*time.Millisecond {
		t.Errorf("round trip: request p50 = %v, %v", d, ok)
	}
	if _, ok := back.Brokers[0].ProduceAcks1.P50(); ok {
		t.Error("round trip: an unmeasured kind has a p50")
	}
}

func TestPending(t *testing.T) {
	p := &pending{sent: map[string]*inFlight{}}
	t0 := time.Now()
	if p.add("early", t0) {
		t.Error("a record sent before the consumer was ready is waited for")
	}
	p.ready = true
	p.add("a", t0)
	p.add("b", t0.Add(time.Second))
	p.add("c", t0)
	p.ack("a")
	p.ack("b")
	if at, ok := p.take("b"); !ok || !at.Equal(t0.Add(time.Second)) {
		t.Errorf("take(b) = %v, %v", at, ok)
	}
	if n := p.expire(t0.Add(time.Millisecond)); n != 1 {
		t.Errorf("expire = %d, want 1 (a: acknowledged and old; c: never acknowledged)", n)
	}
	p.drop("c")
	if !p.empty() {
		t.Error("not empty after take, expire and drop")
	}
}

func TestMeasureOptionsDefaults(t *testing.T) {
	tests := []struct {
		name           string
		clusterTimeout time.Duration
		opts           MeasureOptions
		wantTimeout    time.Duration
	}{
		{"cluster default 10s is capped", 10 * time.Second, MeasureOptions{}, MaxRequestTimeout},
		{"a shorter cluster timeout wins", time.Second, MeasureOptions{}, time.Second},
		{"an explicit timeout wins", time.Second, MeasureOptions{Timeout: 5 * time.Second}, 5 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, err := tc.opts.withDefaults(config.Cluster{Timeout: config.Duration{Duration: tc.clusterTimeout}})
			if err != nil {
				t.Fatal(err)
			}
			if o.Timeout != tc.wantTimeout || o.Duration != DefaultDuration || o.Interval != DefaultInterval || o.Topic != DefaultTopic || o.DC("r") != "r" {
				t.Errorf("defaults = timeout %v, duration %v, interval %v, topic %q", o.Timeout, o.Duration, o.Interval, o.Topic)
			}
		})
	}
	if _, err := (MeasureOptions{Interval: -time.Second}).withDefaults(config.Cluster{}); err == nil {
		t.Error("a negative interval was accepted")
	}
}

// TestMeasureUnreachable: no bootstrap server answers, so Measure fails
// at once with a *ConnectError (exit code 2 in the CLI).
func TestMeasureUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now: connection refused
	_, err = Measure(context.Background(), config.Cluster{Bootstrap: []string{addr}}, MeasureOptions{Duration: time.Second})
	var ce *ConnectError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want a *ConnectError", err)
	}
	if !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("err = %q, want it to say connection refused", err)
	}
}

func TestRequestVersions(t *testing.T) {
	tests := []struct {
		name                   string
		v                      sarama.KafkaVersion
		produce, fetch, config int16
	}{
		{"4.3.1", sarama.V4_3_1_0, 10, 12, 4},
		{"3.9.1", sarama.V3_9_1_0, 10, 12, 4},
		{"2.6", sarama.V2_6_0_0, 8, 11, 3},
		{"2.0", sarama.V2_0_0_0, 6, 8, 2},
		{"0.11", sarama.V0_11_0_0, 3, 5, 0},
	}
	for _, tt := range tests {
		r := &reader{s: &settings{version: tt.v}}
		if got := [3]int16{produceVersion(tt.v), fetchVersion(tt.v), r.describeConfigsVersion()}; got != [3]int16{tt.produce, tt.fetch, tt.config} {
			t.Errorf("%s: produce/fetch/describeConfigs = %v, want %v", tt.name, got, [3]int16{tt.produce, tt.fetch, tt.config})
		}
	}
}
