// Package lab runs a local stretched Kafka cluster: real Apache Kafka
// processes in KRaft mode, fetched from Maven Central, spread over data
// centers that are Linux network namespaces joined by an emulated WAN
// (package wan). It injects and heals DC failures: kill, freeze, isolate,
// and latency, loss or cuts on a link.
//
// Everything the lab makes is recorded in one state directory before it is
// made, so that `Down` removes every process, namespace and device even
// after a crash. The lab must never touch processes or namespaces it did
// not create.
package lab

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/IBM/sarama"
	"github.com/magiconair/properties"

	"github.com/stretchctl/stretchctl/lab/wan"
)

// Lab is a handle on one lab directory. It holds no state of its own:
// every method reads and writes the state directory.
type Lab struct {
	// Dir is the state directory (absolute).
	Dir string
	// Executable is the stretchctl binary that runs the WAN router daemon
	// (`stretchctl lab router`); empty means the running executable.
	Executable string
	// Progress receives one line per step of long operations; may be nil.
	Progress func(format string, args ...any)
	// Log receives diagnostics; may be nil.
	Log *slog.Logger
}

// ErrNoLab is returned when the directory holds no lab.
var ErrNoLab = errors.New("no lab")

// ErrLabUp is returned by Up when the directory holds a lab already.
var ErrLabUp = errors.New("a lab is already up")

// DefaultDir is the state directory used when none is given.
func DefaultDir() string {
	if d := os.Getenv("STRETCHCTL_LAB_DIR"); d != "" {
		return d
	}
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "stretchctl", "lab")
	}
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".local", "state", "stretchctl", "lab")
	}
	return filepath.Join(os.TempDir(), "stretchctl-lab")
}

func (l *Lab) progress(format string, args ...any) {
	if l.Progress != nil {
		l.Progress(format, args...)
	}
}

func (l *Lab) log() *slog.Logger {
	if l.Log != nil {
		return l.Log
	}
	return slog.New(slog.DiscardHandler)
}

// UpOptions chooses the lab to build.
type UpOptions struct {
	Topology     Topology
	BrokersPerDC int
	KafkaVersion string
	// Latency is a latency spec (see LinkRule) applied over the defaults.
	Latency string
	// Loopback forces the lab without namespaces even when root.
	Loopback bool
	// ReadyTimeout bounds the wait for brokers and quorum.
	ReadyTimeout time.Duration
	// Security chooses the listeners' protocol (plaintext when empty).
	Security Security
}

// ConfigPath is where `lab up` writes the stretch.yaml for the lab.
func (l *Lab) ConfigPath() string { return filepath.Join(l.Dir, "stretch.yaml") }

// State returns the lab's current state, or ErrNoLab.
func (l *Lab) State() (*State, error) {
	st, err := loadState(l.Dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w in %s", ErrNoLab, l.Dir)
	}
	return st, err
}

// Up builds and starts a lab and waits until it is ready. On failure it
// removes whatever it had made. Input errors are found before anything is
// made.
func (l *Lab) Up(ctx context.Context, o UpOptions) (*State, error) {
	if o.KafkaVersion == "" {
		o.KafkaVersion = DefaultKafkaVersion
	}
	if o.ReadyTimeout == 0 {
		o.ReadyTimeout = 3 * time.Minute
	}
	if o.Security == "" {
		o.Security = SecurityPlaintext
	}
	if _, err := ParseSecurity(string(o.Security)); err != nil {
		return nil, err
	}
	if v, err := sarama.ParseKafkaVersion(o.KafkaVersion); o.Security == SecuritySASLSSL && (err != nil || !v.IsAtLeast(sarama.V3_5_0_0)) {
		// SCRAM users in the formatted storage need KIP-900 (3.5).
		return nil, fmt.Errorf("security sasl_ssl needs Kafka 3.5 or newer (SCRAM users are created when the storage is formatted, KIP-900); got %s", o.KafkaVersion)
	}
	layout, err := BuildLayout(o.Topology, o.BrokersPerDC)
	if err != nil {
		return nil, err
	}
	var rules []LinkRule
	if o.Latency != "" {
		if rules, err = ParseLinkSpec(FaultLatency, o.Latency, layout.Sites()); err != nil {
			return nil, err
		}
	}
	network := NetworkNamespaces
	if o.Loopback || os.Geteuid() != 0 {
		network = NetworkLoopback
		if o.Latency != "" {
			return nil, errors.New("latency needs network namespaces: run as root (or with CAP_NET_ADMIN), not on loopback addresses")
		}
	}
	java, err := javaBin()
	if err != nil {
		return nil, err
	}

	release, err := lock(l.Dir)
	if err != nil {
		return nil, err
	}
	defer release()
	if old, err := loadState(l.Dir); err == nil {
		return nil, fmt.Errorf("%w in %s (created %s, %s)", ErrLabUp, l.Dir, old.Created.Format(time.RFC3339), old.Topology)
	}
	dist, err := FetchKafka(ctx, o.KafkaVersion, l.progress)
	if err != nil {
		return nil, err
	}

	start := time.Now()
	st := &State{
		Dir: l.Dir, Network: network, Topology: o.Topology, BrokersPerDC: o.BrokersPerDC,
		KafkaVersion: o.KafkaVersion, Security: o.Security, ClusterID: newClusterID(), Layout: layout, Created: start,
	}
	if st.Slot, err = claimSlot(l.Dir); err != nil {
		return nil, err
	}
	st.assignAddresses()
	if network == NetworkNamespaces {
		st.Baseline = baseline(layout.Sites(), rules).list()
	}
	if err := st.save(); err != nil {
		releaseSlot(l.Dir, st.Slot)
		return nil, err
	}
	fail := func(err error) (*State, error) {
		l.progress("lab up failed; removing what was made")
		if _, derr := l.down(context.WithoutCancel(ctx), st); derr != nil {
			err = fmt.Errorf("%w (cleanup: %v)", err, derr)
		}
		return nil, err
	}
	if network == NetworkLoopback {
		l.progress("no root: DCs share the loopback interface (own address per node); latency, loss and isolate are not available, kill and freeze are")
	} else {
		if err := l.startNetwork(ctx, st); err != nil {
			return fail(err)
		}
	}
	if st.Security.Secured() {
		if err := makeSecurity(st); err != nil {
			return fail(fmt.Errorf("make the lab's certificates and passwords: %w", err))
		}
		l.progress("security %s: CA, certificates and passwords in %s", st.Security, filepath.Join(l.Dir, securityDir))
	}
	if err := l.prepareNodes(ctx, st, dist, java); err != nil {
		return fail(err)
	}
	for _, n := range st.Layout.Nodes {
		if err := l.startNode(st, n.ID, dist, java); err != nil {
			return fail(err)
		}
		l.progress("started node %d in %s (%s) at %s", n.ID, n.DC, n.RoleString(), n.Addr)
	}
	if err := st.save(); err != nil {
		return fail(err)
	}
	if err := l.waitReady(ctx, st, o.ReadyTimeout); err != nil {
		return fail(err)
	}
	if st.Security.Secured() {
		if err := l.grantToolACLs(ctx, st); err != nil {
			return fail(err)
		}
	}
	st.Ready = true
	if err := st.save(); err != nil {
		return fail(err)
	}
	if err := writeConfig(l.ConfigPath(), st); err != nil {
		return fail(err)
	}
	l.progress("lab ready in %.1fs: %d brokers, quorum leader elected", time.Since(start).Seconds(), len(layout.Brokers()))
	return st, nil
}

// newClusterID makes a Kafka cluster id: 16 random bytes in URL-safe
// base64. Like Kafka's own Uuid.randomUuid it never starts with '-', which
// the storage tool's argument parser would read as an option.
func newClusterID() string {
	b := make([]byte, 16)
	for {
		_, _ = rand.Read(b)
		if id := base64.RawURLEncoding.EncodeToString(b); id[0] != '-' {
			return id
		}
	}
}

// assignAddresses gives every node an address in its DC and describes the
// sites for the router.
func (st *State) assignAddresses() {
	sites := st.Layout.Sites()
	index := func(dc string) int { return slices.Index(sites, dc) }
	for i := range st.Layout.Nodes {
		n := &st.Layout.Nodes[i]
		if st.Network == NetworkNamespaces {
			n.Addr = siteAddr(st.Slot, index(n.DC), 10+int(n.ID))
		} else {
			n.Addr = loopbackAddr(st.Slot, index(n.DC), 10+int(n.ID))
		}
	}
	if st.Network != NetworkNamespaces {
		return
	}
	st.Sites = nil
	for i, name := range sites {
		s := wan.Site{
			Name:   name,
			Subnet: siteSubnet(st.Slot, i),
			Routes: []netip.Prefix{slotPrefix(st.Slot)},
			Device: fmt.Sprintf("stc%d-%d", st.Slot, i),
		}
		if name == OpsSite {
			s.Addrs = append(s.Addrs, siteAddr(st.Slot, 0, 1))
		} else {
			s.Netns = nsPath(nsName(st.Slot, name))
			for _, n := range st.Layout.Nodes {
				if n.DC == name {
					s.Addrs = append(s.Addrs, n.Addr)
				}
			}
			// One spare address per DC for clients placed there.
			s.Addrs = append(s.Addrs, siteAddr(st.Slot, i, 2))
		}
		st.Sites = append(st.Sites, s)
	}
}

// startNetwork creates the DC namespaces and starts the WAN router.
func (l *Lab) startNetwork(ctx context.Context, st *State) error {
	for _, dc := range st.Layout.DCs {
		if err := createNamespace(nsName(st.Slot, dc)); err != nil {
			return err
		}
	}
	l.progress("created namespaces %s", strings.Join(namespaces(st), ", "))
	return l.startRouter(ctx, st)
}

func namespaces(st *State) []string {
	var out []string
	for _, dc := range st.Layout.DCs {
		out = append(out, nsName(st.Slot, dc))
	}
	return out
}

func (l *Lab) routerClient() wan.Client {
	return wan.Client{Socket: filepath.Join(l.Dir, "router.sock")}
}

// startRouter launches `stretchctl lab router` as a daemon and pushes the
// current links to it.
func (l *Lab) startRouter(ctx context.Context, st *State) error {
	cfg := wan.Config{Sites: st.Sites, Links: effective(st.Baseline, st.Faults), MTU: wan.DefaultMTU, Socket: l.routerClient().Socket}
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(l.Dir, "router.json"), b, 0o644); err != nil {
		return err
	}
	exe := l.Executable
	if exe == "" {
		if exe, err = os.Executable(); err != nil {
			return err
		}
	}
	logf, err := os.OpenFile(filepath.Join(l.Dir, "router.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(exe, "lab", "router", "--dir", l.Dir)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start WAN router: %w", err)
	}
	go func() { _ = cmd.Wait() }() // reap it if it dies while we run
	st.RouterPid = cmd.Process.Pid
	if err := st.save(); err != nil {
		return err
	}
	deadline := time.Now().Add(15 * time.Second)
	var pong wan.Pong
	for {
		if pong, err = l.routerClient().Ping(ctx); err == nil {
			break
		}
		if procState(st.RouterPid, "") == ProcDown || time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(l.Dir, "router.log"))
			return fmt.Errorf("WAN router did not start; router.log:\n%s", tail(string(log), 10))
		}
		time.Sleep(20 * time.Millisecond)
	}
	l.progress("WAN router up (pid %d, %s): %s", st.RouterPid, pong.Scheduling, linkSummary(st.Baseline))
	return nil
}

func linkSummary(links []wan.Link) string {
	var parts []string
	for _, lk := range links {
		if lk.From < lk.To {
			parts = append(parts, fmt.Sprintf("%s/%s %v", lk.From, lk.To, roundTrip(links, lk.From, lk.To)))
		}
	}
	return strings.Join(parts, ", ")
}

func roundTrip(links []wan.Link, a, b string) time.Duration {
	var d time.Duration
	for _, lk := range links {
		if (lk.From == a && lk.To == b) || (lk.From == b && lk.To == a) {
			d += lk.Delay
		}
	}
	return d
}

// RunRouter is the body of the `lab router` daemon.
func RunRouter(ctx context.Context, dir string, log *slog.Logger) error {
	b, err := os.ReadFile(filepath.Join(dir, "router.json"))
	if err != nil {
		return err
	}
	var cfg wan.Config
	if err := json.Unmarshal(b, &cfg); err != nil {
		return fmt.Errorf("router.json: %w", err)
	}
	return wan.Serve(ctx, cfg, log)
}

func (l *Lab) nodeDir(id int32) string { return filepath.Join(l.Dir, "nodes", fmt.Sprint(id)) }

// LogPath is the log file of a node.
func (l *Lab) LogPath(id int32) string { return filepath.Join(l.nodeDir(id), "kafka.log") }

// prepareNodes writes every node's configuration and formats its storage.
func (l *Lab) prepareNodes(ctx context.Context, st *State, dist Distribution, java string) error {
	var wg sync.WaitGroup
	errs := make([]error, len(st.Layout.Nodes))
	internal, scram, err := nodeSecrets(st)
	if err != nil {
		return err
	}
	for i, n := range st.Layout.Nodes {
		dir := l.nodeDir(n.ID)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		props := serverProperties(st, n, filepath.Join(dir, "data"), internal)
		// 0600: with security, the file holds the nodes' password.
		f, err := os.OpenFile(filepath.Join(dir, "server.properties"), os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
		if err != nil {
			return err
		}
		_, err = props.Write(f, properties.UTF8)
		f.Close()
		if err != nil {
			return err
		}
		for name, body := range map[string]string{"log4j2.properties": log4j2Config, "log4j.properties": log4jConfig} {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
				return err
			}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			args := append(javaArgs(dist, n, dir), "kafka.tools.StorageTool", "format",
				"-t", st.ClusterID, "-c", filepath.Join(dir, "server.properties"))
			args = append(args, scram...)
			out, err := exec.CommandContext(ctx, java, args...).CombinedOutput()
			if err != nil {
				errs[i] = fmt.Errorf("format storage of node %d: %w\n%s", n.ID, err, tail(string(out), 10))
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	l.progress("formatted storage of %d nodes (cluster id %s)", len(st.Layout.Nodes), st.ClusterID)
	return nil
}

// startNode starts one node's JVM in its DC and records its pid.
func (l *Lab) startNode(st *State, id int32, dist Distribution, java string) error {
	n := st.node(id)
	dir := l.nodeDir(id)
	logf, err := os.OpenFile(l.LogPath(id), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	args := append(javaArgs(dist, *n, dir), "kafka.Kafka", filepath.Join(dir, "server.properties"))
	cmd := exec.Command(java, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	path, err := st.namespacePath(n.DC)
	if err != nil {
		return err
	}
	if err := startIn(path, cmd); err != nil {
		return fmt.Errorf("start node %d: %w", id, err)
	}
	go func() { _ = cmd.Wait() }() // reap it if it dies while we run
	n.Pid = cmd.Process.Pid
	return nil
}

// waitReady polls the cluster until it is ready, a node dies, or timeout.
func (l *Lab) waitReady(ctx context.Context, st *State, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	last := ""
	for {
		view := st.readCluster(ctx, OpsSite, 5*time.Second)
		ok, why := st.ready(view)
		if ok {
			return nil
		}
		if why != last {
			l.progress("waiting for the cluster: %s", why)
			last = why
		}
		for _, n := range st.Layout.Nodes {
			if procState(n.Pid, nodeMarker(l.nodeDir(n.ID))) == ProcDown && !st.faulted(FaultKill, n.DC) {
				log, _ := os.ReadFile(l.LogPath(n.ID))
				return fmt.Errorf("node %d (%s) exited; last lines of %s:\n%s", n.ID, n.DC, l.LogPath(n.ID), tail(string(log), 15))
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("cluster not ready after %v: %s (node logs in %s)", timeout, why, filepath.Join(l.Dir, "nodes"))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func (st *State) faulted(kind FaultKind, dc string) bool {
	for _, f := range st.Faults {
		if f.Kind == kind && f.DC == dc {
			return true
		}
	}
	return false
}
