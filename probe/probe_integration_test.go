package probe_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchctl/stretchctl/lab/labtest"

	"github.com/IBM/sarama"

	"github.com/stretchctl/stretchctl/config"
	"github.com/stretchctl/stretchctl/lab"
	"github.com/stretchctl/stretchctl/probe"
	"github.com/stretchctl/stretchctl/topology"
)

// password of the SASL attempts: distinctive, so that a leak is found.
const password = "lab-Pa55-never-shown"

// TestSnapshotLab starts one real lab (2.5 DCs: brokers 1,2 in dc-a, 3,4
// in dc-b, voters 1, 3 and 5) and reads it from the operator's site with
// the stretch.yaml the lab wrote; the subtests share the lab and run in
// order, the fault last.
func TestSnapshotLab(t *testing.T) {
	labtest.RequireLab(t)
	start := time.Now()
	bin := labtest.BuildStretchctl(t)
	t.Logf("built stretchctl in %v", time.Since(start).Round(time.Millisecond))
	dir := filepath.Join(t.TempDir(), "lab")
	l := &lab.Lab{Dir: dir, Executable: bin}
	ctx := context.Background()

	start = time.Now()
	out, errOut, code := labtest.Run(t, bin, "lab", "up", "--dir", dir)
	if code != 0 {
		t.Fatalf("lab up: exit %d\n%s\n%s", code, out, errOut)
	}
	t.Logf("lab up in %v", time.Since(start).Round(time.Millisecond))
	t.Cleanup(func() { labtest.Run(t, bin, "lab", "down", "--dir", dir) })
	st, err := l.State()
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(l.ConfigPath())
	if err != nil {
		t.Fatal(err)
	}
	cluster := cfg.Cluster
	start = time.Now()

	// orders: 4 replicas, one per broker, with the overrides a stretched
	// cluster is checked for; events: topic defaults.
	orders := map[int32][]int32{0: {1, 3, 2, 4}, 1: {3, 1, 4, 2}}
	events := map[int32][]int32{0: {1, 3}, 1: {4, 2}, 2: {2, 3}}
	createTopic(t, cluster, "orders", orders, map[string]string{"min.insync.replicas": "3", "unclean.leader.election.enable": "true"})
	createTopic(t, cluster, "events", events, nil)
	waitISRFull(t, cluster, "orders", "events")
	t.Logf("topics created and in sync in %v", time.Since(start).Round(time.Millisecond))

	// Kafka 4 formats a KRaft cluster with a cluster-wide dynamic
	// min.insync.replicas (KIP-966 needs one), so even the lab, which
	// sets none, reports it as a dynamic default rather than Kafka's
	// built-in default.
	minISRDefault := topology.ConfigValue{Value: "1", Source: topology.SourceDynamicDefault}
	if !strings.HasPrefix(st.KafkaVersion, "4.") {
		minISRDefault.Source = topology.SourceDefault
	}

	wantRacks := map[int32]string{}
	for _, n := range st.Layout.Brokers() {
		wantRacks[n.ID] = n.DC
	}

	t.Run("healthy lab", func(t *testing.T) {
		start := time.Now()
		snap, err := probe.Snapshot(ctx, cluster, probe.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("snapshot in %v", time.Since(start))
		if len(snap.Errors) > 0 {
			t.Errorf("errors: %v", snap.Errors)
		}
		if snap.SchemaVersion != topology.SchemaVersion || snap.Mode != "kraft" || snap.ClusterID != st.ClusterID ||
			snap.KafkaVersion != st.KafkaVersion || snap.Source != strings.Join(cluster.Bootstrap, ",") {
			t.Errorf("schema %d mode %q cluster id %q kafka %q source %q; want %d kraft %q %q %q",
				snap.SchemaVersion, snap.Mode, snap.ClusterID, snap.KafkaVersion, snap.Source,
				topology.SchemaVersion, st.ClusterID, st.KafkaVersion, strings.Join(cluster.Bootstrap, ","))
		}
		if age := time.Since(snap.TakenAt); age < 0 || age > time.Minute {
			t.Errorf("TakenAt %v is not now", snap.TakenAt)
		}
		checkBrokers(t, snap, st, wantRacks)
		if _, ok := snap.Broker(snap.ControllerID); !ok {
			t.Errorf("controller id %d is not a broker", snap.ControllerID)
		}
		for _, b := range snap.Brokers {
			want := map[string]topology.ConfigValue{
				"broker.rack":         {Value: wantRacks[b.ID], Source: topology.SourceStaticBroker},
				"node.id":             {Value: fmt.Sprint(b.ID), Source: topology.SourceStaticBroker},
				"min.insync.replicas": minISRDefault,
			}
			checkConfigs(t, fmt.Sprintf("broker %d", b.ID), b.Configs, want)
		}

		checkTopic(t, snap, "orders", orders)
		checkTopic(t, snap, "events", events)
		o, _ := topic(snap, "orders")
		checkConfigs(t, "topic orders", o.Configs, map[string]topology.ConfigValue{
			"min.insync.replicas":            {Value: "3", Source: topology.SourceTopic},
			"unclean.leader.election.enable": {Value: "true", Source: topology.SourceTopic},
		})
		e, _ := topic(snap, "events")
		checkConfigs(t, "topic events", e.Configs, map[string]topology.ConfigValue{
			"min.insync.replicas":            minISRDefault,
			"unclean.leader.election.enable": {Value: "false", Source: topology.SourceDefault},
		})

		q := snap.Quorum
		if q == nil {
			t.Fatal("no quorum")
		}
		var voters []int32
		for _, v := range q.Voters {
			voters = append(voters, v.ID)
		}
		if !slices.Equal(voters, []int32{1, 3, 5}) || !slices.Contains(voters, q.LeaderID) || q.LeaderEpoch < 1 || q.HighWatermark <= 0 {
			t.Errorf("quorum leader %d epoch %d hw %d voters %v; want a leader among voters [1 3 5]", q.LeaderID, q.LeaderEpoch, q.HighWatermark, voters)
		}
		for _, v := range q.Voters {
			if v.ID != q.LeaderID && (v.LastFetchMs <= 0 || v.LastCaughtUpMs <= 0 || v.LogEndOffset <= 0) {
				t.Errorf("follower voter %+v lacks fetch/caught-up times or offset", v)
			}
		}
		if snap.Features["metadata.version"] <= 0 {
			t.Errorf("features %v: want metadata.version", snap.Features)
		}
		if _, ok := snap.Features["kraft.version"]; !ok {
			t.Errorf("features %v: want kraft.version (0 when not finalized)", snap.Features)
		}
	})

	t.Run("wrong port is a ConnectError naming the address", func(t *testing.T) {
		addr := strings.Replace(cluster.Bootstrap[0], ":9092", ":9999", 1)
		c := cluster
		c.Bootstrap = []string{addr}
		start := time.Now()
		_, err := probe.Snapshot(ctx, c, probe.Options{})
		var ce *probe.ConnectError
		if !errors.As(err, &ce) {
			t.Fatalf("err = %v, want *probe.ConnectError", err)
		}
		if want := "could not connect to " + addr + ": connection refused"; err.Error() != want {
			t.Errorf("err = %q, want %q", err, want)
		}
		if d := time.Since(start); d > c.Timeout.Duration {
			t.Errorf("took %v, more than the timeout %v", d, c.Timeout.Duration)
		}
	})

	t.Run("TLS against the plaintext listener", func(t *testing.T) {
		c := cluster
		c.TLS = &config.TLS{Enabled: true}
		_, err := probe.Snapshot(ctx, c, probe.Options{})
		var ce *probe.ConnectError
		var te *probe.TLSError
		if !errors.As(err, &ce) || !errors.As(err, &te) || len(ce.Addrs) != len(cluster.Bootstrap) {
			t.Fatalf("err = %v, want a *ConnectError over every bootstrap server holding a *TLSError", err)
		}
		if want := "TLS handshake failed: the server closed the connection (is this a plaintext listener?"; !strings.Contains(err.Error(), want) {
			t.Errorf("err = %q, want it to contain %q", err, want)
		}
	})

	t.Run("SASL against the plaintext listener", func(t *testing.T) {
		pw := filepath.Join(t.TempDir(), "pw")
		if err := os.WriteFile(pw, []byte(password), 0o600); err != nil {
			t.Fatal(err)
		}
		for _, mech := range []config.Mechanism{config.MechanismPlain, config.MechanismSCRAMSHA256, config.MechanismSCRAMSHA512} {
			t.Run(string(mech), func(t *testing.T) {
				c := cluster
				c.SASL = &config.SASL{Mechanism: mech, Username: "alice", PasswordFile: pw}
				_, err := probe.Snapshot(ctx, c, probe.Options{})
				var ae *probe.AuthError
				if !errors.As(err, &ae) || !errors.Is(err, sarama.ErrIllegalSASLState) {
					t.Fatalf("err = %v, want an *AuthError for ILLEGAL_SASL_STATE", err)
				}
				if want := "SASL handshake refused: the listener does not use SASL"; !strings.Contains(err.Error(), want) {
					t.Errorf("err = %q, want it to contain %q", err, want)
				}
				if strings.Contains(fmt.Sprintf("%v %#v", err, err), password) {
					t.Errorf("error shows the password: %v", err)
				}
			})
		}
	})

	t.Run("dc-b frozen: silent brokers cost one timeout", func(t *testing.T) {
		t.Cleanup(func() { labtest.HealAll(t, bin, dir) })
		labtest.MustRun(t, bin, "lab", "fault", "freeze", "dc-b", "--dir", dir)
		c := cluster
		c.Timeout = config.Duration{Duration: 2 * time.Second}
		start := time.Now()
		snap, err := probe.Snapshot(ctx, c, probe.Options{})
		if err != nil {
			t.Fatal(err)
		}
		took := time.Since(start)
		t.Logf("snapshot with dc-b frozen in %v: errors %v", took.Round(time.Millisecond), snap.Errors)
		checkPartial(t, "frozen", snap, st, wantRacks, orders, events)
		for _, e := range snap.Errors {
			if strings.HasPrefix(e.Subject, "broker:") && !strings.HasSuffix(e.Error, "no answer within 2s") {
				t.Errorf("%s: %s; want no answer within 2s", e.Subject, e.Error)
			}
		}
		// Broker configs, topic configs and the quorum are read in
		// parallel, each request bounded by the timeout; a silent broker
		// must not cost one timeout per request sarama retries on it.
		if took > 3*c.Timeout.Duration {
			t.Errorf("took %v with a %v timeout", took, c.Timeout.Duration)
		}
	})

	t.Run("dc-b killed: the rest is still read", func(t *testing.T) {
		t.Cleanup(func() { labtest.HealAll(t, bin, dir) })
		start := time.Now()
		labtest.MustRun(t, bin, "lab", "fault", "kill", "dc-b", "--dir", dir)

		// First at once, while the controller still counts brokers 3
		// and 4 as alive (metadata lists them; they refuse connections),
		// then once the controller has fenced them (metadata no longer
		// lists them; DescribeCluster does).
		snap, err := probe.Snapshot(ctx, cluster, probe.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("snapshot with dc-b just killed in %v: errors %v", time.Since(start).Round(time.Millisecond), snap.Errors)
		checkPartial(t, "just killed", snap, st, wantRacks, orders, events)

		deadline := time.Now().Add(45 * time.Second)
		for !fenced(snap, 3) || !fenced(snap, 4) {
			if time.Now().After(deadline) {
				t.Fatalf("brokers 3 and 4 never reported fenced; errors %v", snap.Errors)
			}
			time.Sleep(time.Second)
			if snap, err = probe.Snapshot(ctx, cluster, probe.Options{}); err != nil {
				t.Fatal(err)
			}
		}
		checkPartial(t, "fenced", snap, st, wantRacks, orders, events)
		t.Logf("brokers 3 and 4 fenced %v after the kill", time.Since(start).Round(time.Millisecond))

		start = time.Now()
		labtest.MustRun(t, bin, "lab", "heal", "--all", "--dir", dir)
		t.Logf("healed in %v", time.Since(start).Round(time.Millisecond))
		snap, err = probe.Snapshot(ctx, cluster, probe.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range snap.Brokers {
			if b.Configs == nil {
				t.Errorf("after heal, broker %d configs not read; errors %v", b.ID, snap.Errors)
			}
		}
	})
}

// BenchmarkSnapshot5000 reads a lab holding 250 topics of 20 partitions
// (5,000 partitions, 10,000 replicas): metadata in one request, broker
// configs from each broker, topic configs 100 topics per request.
//
//	go test -run '^$' -bench Snapshot5000 -benchtime 5x ./probe
func BenchmarkSnapshot5000(b *testing.B) {
	labtest.RequireLab(b)
	bin := labtest.BuildStretchctl(b)
	dir := filepath.Join(b.TempDir(), "lab")
	l := &lab.Lab{Dir: dir, Executable: bin}
	if out, errOut, code := labtest.Run(b, bin, "lab", "up", "--dir", dir); code != 0 {
		b.Fatalf("lab up: exit %d\n%s\n%s", code, out, errOut)
	}
	b.Cleanup(func() { labtest.Run(b, bin, "lab", "down", "--dir", dir) })
	cfg, err := config.Load(l.ConfigPath())
	if err != nil {
		b.Fatal(err)
	}
	const topics, partitions = 250, 20
	start := time.Now()
	createTopics(b, cfg.Cluster, topics, partitions)
	b.Logf("created %d topics of %d partitions in %v", topics, partitions, time.Since(start).Round(time.Millisecond))
	waitAllTopics(b, cfg.Cluster, topics)
	b.Logf("every broker lists every topic after %v", time.Since(start).Round(time.Millisecond))
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		snap, err := probe.Snapshot(ctx, cfg.Cluster, probe.Options{})
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for _, t := range snap.Topics {
			if t.Configs == nil {
				b.Fatalf("topic %s: configs not read; errors %v", t.Name, snap.Errors)
			}
			n += len(t.Partitions)
		}
		if n < topics*partitions {
			counts := map[int]int{}
			for _, t := range snap.Topics {
				counts[len(t.Partitions)]++
			}
			b.Fatalf("%d partitions in %d topics (topics by partition count %v), want at least %d", n, len(snap.Topics), counts, topics*partitions)
		}
	}
}

// createTopics creates load-NNN topics with RF 2, 50 per CreateTopics
// request (ClusterAdmin sends one topic per request).
func createTopics(b *testing.B, cluster config.Cluster, n int, partitions int32) {
	cfg, err := probe.SaramaConfig(cluster, probe.Options{})
	if err != nil {
		b.Fatal(err)
	}
	cfg.Net.ReadTimeout = time.Minute
	admin, err := sarama.NewClusterAdmin(cluster.Bootstrap, cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer admin.Close()
	ctrl, err := admin.Controller()
	if err != nil {
		b.Fatal(err)
	}
	for first := 0; first < n; first += 50 {
		req := &sarama.CreateTopicsRequest{Version: 4, Timeout: time.Minute, TopicDetails: map[string]*sarama.TopicDetail{}}
		for i := first; i < min(n, first+50); i++ {
			req.TopicDetails[fmt.Sprintf("load-%03d", i)] = &sarama.TopicDetail{NumPartitions: partitions, ReplicationFactor: 2}
		}
		resp, err := ctrl.CreateTopics(req)
		if err != nil {
			b.Fatal(err)
		}
		for name, e := range resp.TopicErrors {
			if e != nil && !errors.Is(e.Err, sarama.ErrNoError) {
				b.Fatalf("create %s: %v", name, e.Err)
			}
		}
	}
}

// waitAllTopics waits until every broker's metadata lists n topics: a
// broker applies a burst of new partitions at its own pace, and until it
// has, its metadata is older than the others'.
func waitAllTopics(b *testing.B, cluster config.Cluster, n int) {
	cfg, err := probe.SaramaConfig(cluster, probe.Options{})
	if err != nil {
		b.Fatal(err)
	}
	deadline := time.Now().Add(3 * time.Minute)
	for _, addr := range cluster.Bootstrap {
		for {
			br := sarama.NewBroker(addr)
			_ = br.Open(cfg)
			md, err := br.GetMetadata(sarama.NewMetadataRequest(cfg.Version, nil))
			br.Close()
			if err == nil && len(md.Topics) >= n {
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("%s never lists %d topics: %v", addr, n, err)
			}
			time.Sleep(500 * time.Millisecond)
		}
	}
}

// checkPartial checks a snapshot taken with dc-b's nodes dead: errors
// only for brokers 3 and 4 (and the quorum, whose leader may have been
// node 3), everything else read.
func checkPartial(t *testing.T, when string, snap *topology.Snapshot, st *lab.State, racks map[int32]string, orders, events map[int32][]int32) {
	t.Helper()
	subjects := map[string]bool{}
	for _, e := range snap.Errors {
		subjects[e.Subject] = true
		switch e.Subject {
		// controller:3 is dc-b's voter: its own configs (KIP-919) cannot
		// be read either.
		case "broker:3", "broker:4", "quorum", "controller:3":
		default:
			t.Errorf("%s: unexpected error %s: %s", when, e.Subject, e.Error)
		}
	}
	for _, s := range []string{"broker:3", "broker:4"} {
		if !subjects[s] {
			t.Errorf("%s: no error for %s; errors %v", when, s, snap.Errors)
		}
	}
	// The dead brokers stay in the snapshot with their racks: the advisor
	// needs to know which DC their replicas are in.
	checkBrokers(t, snap, st, racks)
	for _, b := range snap.Brokers {
		if got := b.Configs != nil; got != (racks[b.ID] == "dc-a") {
			t.Errorf("%s: broker %d (%s) configs read = %v", when, b.ID, racks[b.ID], got)
		}
	}
	for name, assign := range map[string]map[int32][]int32{"orders": orders, "events": events} {
		tp, ok := topic(snap, name)
		if !ok || tp.Configs == nil || len(tp.Partitions) != len(assign) {
			t.Errorf("%s: topic %s found %v, configs read %v, %d partitions", when, name, ok, tp.Configs != nil, len(tp.Partitions))
		}
	}
	if snap.Features["metadata.version"] <= 0 || snap.Mode != "kraft" {
		t.Errorf("%s: features %v mode %q", when, snap.Features, snap.Mode)
	}
	// The controllers that answer give their own timing configs.
	for _, id := range []string{"1", "5"} {
		if _, ok := snap.ControllerConfigs[id]["broker.session.timeout.ms"]; !ok {
			t.Errorf("%s: controller %s's configs not read: %v", when, id, snap.ControllerConfigs)
		}
	}
}

func fenced(snap *topology.Snapshot, id int32) bool {
	for _, e := range snap.Errors {
		if e.Subject == fmt.Sprintf("broker:%d", id) && strings.HasPrefix(e.Error, "fenced") {
			return true
		}
	}
	return false
}

func checkBrokers(t *testing.T, snap *topology.Snapshot, st *lab.State, racks map[int32]string) {
	t.Helper()
	var ids []int32
	for _, b := range snap.Brokers {
		ids = append(ids, b.ID)
		if b.Rack != racks[b.ID] {
			t.Errorf("broker %d rack %q, want %q", b.ID, b.Rack, racks[b.ID])
		}
	}
	if !slices.Equal(ids, []int32{1, 2, 3, 4}) {
		t.Errorf("brokers %v, want [1 2 3 4]", ids)
	}
	for _, n := range st.Layout.Brokers() {
		if b, ok := snap.Broker(n.ID); ok && b.Addr() != n.BrokerAddr() {
			t.Errorf("broker %d at %s, want %s", n.ID, b.Addr(), n.BrokerAddr())
		}
	}
}

func checkTopic(t *testing.T, snap *topology.Snapshot, name string, assign map[int32][]int32) {
	t.Helper()
	tp, ok := topic(snap, name)
	if !ok {
		t.Fatalf("topic %s missing", name)
	}
	if tp.Internal || len(tp.Partitions) != len(assign) {
		t.Errorf("topic %s internal %v with %d partitions, want %d", name, tp.Internal, len(tp.Partitions), len(assign))
	}
	for i, p := range tp.Partitions {
		want := assign[int32(i)]
		isr := slices.Sorted(slices.Values(p.ISR))
		if p.ID != int32(i) || !slices.Equal(p.Replicas, want) || !slices.Equal(isr, slices.Sorted(slices.Values(want))) ||
			!slices.Contains(want, p.Leader) || len(p.Offline) > 0 {
			t.Errorf("%s-%d: %+v, want replicas %v all in sync, leader among them", name, i, p, want)
		}
	}
}

func checkConfigs(t *testing.T, what string, got topology.Configs, want map[string]topology.ConfigValue) {
	t.Helper()
	if got == nil {
		t.Errorf("%s: configs not read", what)
		return
	}
	for k, w := range want {
		if g, ok := got[k]; !ok || g != w {
			t.Errorf("%s: %s = %+v (present %v), want %+v", what, k, g, ok, w)
		}
	}
}

func topic(snap *topology.Snapshot, name string) (topology.Topic, bool) {
	for _, tp := range snap.Topics {
		if tp.Name == name {
			return tp, true
		}
	}
	return topology.Topic{}, false
}

// createTopic creates a topic with an explicit assignment through sarama's
// ClusterAdmin, configured by probe.SaramaConfig.
func createTopic(t *testing.T, cluster config.Cluster, name string, assign map[int32][]int32, configs map[string]string) {
	t.Helper()
	cfg, err := probe.SaramaConfig(cluster, probe.Options{})
	if err != nil {
		t.Fatal(err)
	}
	admin, err := sarama.NewClusterAdmin(cluster.Bootstrap, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	entries := map[string]*string{}
	for k, v := range configs {
		entries[k] = &v
	}
	err = admin.CreateTopic(name, &sarama.TopicDetail{
		NumPartitions: -1, ReplicationFactor: -1, ReplicaAssignment: assign, ConfigEntries: entries,
	}, false)
	if err != nil {
		t.Fatalf("create topic %s: %v", name, err)
	}
}

// waitISRFull waits until every partition of the topics has a leader and
// its whole replica set in sync, as a sarama client sees it.
func waitISRFull(t *testing.T, cluster config.Cluster, topics ...string) {
	t.Helper()
	cfg, err := probe.SaramaConfig(cluster, probe.Options{})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	why := ""
	for time.Now().Before(deadline) {
		if why = isrGap(cluster, cfg, topics); why == "" {
			return
		}
		time.Sleep(300 * time.Millisecond)
	}
	t.Fatalf("ISR never full: %s", why)
}

// isrGap says what is missing, "" when every broker's own metadata lists
// the topics with a full ISR. Each broker is asked directly: a snapshot
// takes the view of whichever broker answers first, so the topics must
// have reached every broker's metadata cache, not just one client's.
func isrGap(cluster config.Cluster, cfg *sarama.Config, topics []string) string {
	for _, addr := range cluster.Bootstrap {
		if why := isrGapAt(addr, cfg, topics); why != "" {
			return addr + ": " + why
		}
	}
	return ""
}

func isrGapAt(addr string, cfg *sarama.Config, topics []string) string {
	b := sarama.NewBroker(addr)
	if err := b.Open(cfg); err != nil {
		return err.Error()
	}
	defer b.Close()
	md, err := b.GetMetadata(sarama.NewMetadataRequest(cfg.Version, topics))
	if err != nil {
		return err.Error()
	}
	byName := map[string]*sarama.TopicMetadata{}
	for _, tm := range md.Topics {
		byName[tm.Name] = tm
	}
	for _, topic := range topics {
		tm, ok := byName[topic]
		if !ok || tm.Err != sarama.ErrNoError || len(tm.Partitions) == 0 {
			return fmt.Sprintf("%s not known yet", topic)
		}
		for _, p := range tm.Partitions {
			if len(p.Isr) != len(p.Replicas) {
				return fmt.Sprintf("%s-%d isr %v of replicas %v", topic, p.ID, p.Isr, p.Replicas)
			}
		}
	}
	return ""
}
