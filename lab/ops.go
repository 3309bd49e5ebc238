package lab

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"github.com/stretchctl/stretchctl/lab/wan"
)

// NodeStatus is a node and the state of its process.
type NodeStatus struct {
	Node
	State ProcState `json:"state"`
	// Log is the node's log file, shown when the node is down.
	Log string `json:"log"`
}

// LinkStatus is a link as configured at `lab up` and as it is now.
type LinkStatus struct {
	From     string        `json:"from"`
	To       string        `json:"to"`
	Baseline time.Duration `json:"baselineDelay"`
	wan.LinkStats
}

// Status is what `lab status` shows.
type Status struct {
	Dir          string       `json:"dir"`
	Config       string       `json:"config"`
	Network      Network      `json:"network"`
	Topology     Topology     `json:"topology"`
	KafkaVersion string       `json:"kafkaVersion"`
	ClusterID    string       `json:"clusterID"`
	Created      time.Time    `json:"created"`
	Nodes        []NodeStatus `json:"nodes"`
	RouterPid    int          `json:"routerPid,omitempty"`
	RouterUp     bool         `json:"routerUp"`
	Links        []LinkStatus `json:"links,omitempty"`
	Faults       []Fault      `json:"faults"`
	Cluster      ClusterView  `json:"cluster"`
	// Limits says what this lab cannot do (loopback mode).
	Limits []string `json:"limits,omitempty"`
}

// Status reads the lab's state, its processes, its links and, within a few
// seconds, the cluster's own view.
func (l *Lab) Status(ctx context.Context) (*Status, error) {
	st, err := l.State()
	if err != nil {
		return nil, err
	}
	s := &Status{
		Dir: l.Dir, Config: l.ConfigPath(), Network: st.Network, Topology: st.Topology,
		KafkaVersion: st.KafkaVersion, ClusterID: st.ClusterID, Created: st.Created,
		RouterPid: st.RouterPid, Faults: st.Faults,
	}
	if s.Faults == nil {
		s.Faults = []Fault{}
	}
	for _, n := range st.Layout.Nodes {
		s.Nodes = append(s.Nodes, NodeStatus{Node: n, State: procState(n.Pid, nodeMarker(l.nodeDir(n.ID))), Log: l.LogPath(n.ID)})
	}
	if st.Network == NetworkNamespaces {
		s.RouterUp = procState(st.RouterPid, routerMarker(l.Dir)) == ProcUp
		stats, err := l.routerClient().Stats(ctx)
		if err != nil {
			// Without the router the links are down; show what they should be.
			for _, lk := range effective(st.Baseline, st.Faults) {
				stats = append(stats, wan.LinkStats{Link: lk})
			}
		}
		for _, ls := range stats {
			base := time.Duration(0)
			for _, b := range st.Baseline {
				if b.From == ls.From && b.To == ls.To {
					base = b.Delay
				}
			}
			s.Links = append(s.Links, LinkStatus{From: ls.From, To: ls.To, Baseline: base, LinkStats: ls})
		}
	} else {
		s.Limits = []string{"no network namespaces (not root): latency, loss, block and isolate are unavailable; DCs share the loopback interface"}
	}
	s.Cluster = st.readCluster(ctx, OpsSite, 5*time.Second)
	return s, nil
}

// Down stops every process and removes every namespace and device of the
// lab, then the state. It works from the state file and from markers on
// the processes, so it also cleans up after a crash. It returns what it
// removed.
//
// A directory without the lab's state file holds no lab: nothing in it is
// touched (no file removed, no lock file made); only processes that carry
// this directory's lab markers — a lab whose state file was lost — are
// stopped.
func (l *Lab) Down(ctx context.Context) ([]string, error) {
	if !exists(filepath.Join(l.Dir, stateFile)) {
		return l.stopMarked()
	}
	release, err := lock(l.Dir)
	if err != nil {
		return nil, err
	}
	defer release()
	st, err := loadState(l.Dir)
	if os.IsNotExist(err) {
		return l.stopMarked() // removed by another lab down meanwhile
	}
	if err != nil {
		return nil, err
	}
	return l.down(ctx, st)
}

// stopMarked kills the processes carrying this directory's lab markers
// (recorded or not), waits for them to be gone and says what it stopped.
func (l *Lab) stopMarked() ([]string, error) {
	pids := labProcesses(l.Dir)
	for _, p := range pids {
		_ = signalGroup(p, syscall.SIGKILL)
	}
	var err error
	if left := waitState(pids, func(int) string { return "" }, ProcDown, 10*time.Second); len(left) > 0 {
		err = fmt.Errorf("processes still alive after SIGKILL: %s", pidList(left))
	}
	if len(pids) == 0 {
		return nil, err
	}
	return []string{fmt.Sprintf("%d processes (%s)", len(pids), pidList(pids))}, err
}

func (l *Lab) down(_ context.Context, st *State) ([]string, error) {
	var errs []error
	removed, err := l.stopMarked()
	if err != nil {
		errs = append(errs, err)
	}
	if st != nil {
		ns := leftoverNamespaces(st.Slot)
		for _, dc := range st.Layout.DCs {
			if name := nsName(st.Slot, dc); !slices.Contains(ns, name) && exists(nsPath(name)) {
				ns = append(ns, name)
			}
		}
		if st.Network != NetworkNamespaces {
			ns = nil // a loopback lab made none; never touch another lab's
		}
		for _, name := range ns {
			if err := deleteNamespace(name); err != nil {
				errs = append(errs, err)
			} else {
				removed = append(removed, "namespace "+name)
			}
		}
		// TUN devices vanish with the router's file descriptors; the kernel
		// unregisters them shortly after the process is gone.
		for _, s := range st.Sites {
			if s.Netns != "" {
				continue // went away with its namespace
			}
			deadline := time.Now().Add(5 * time.Second)
			for {
				_, err := net.InterfaceByName(s.Device)
				if err != nil {
					break
				}
				if time.Now().After(deadline) {
					errs = append(errs, fmt.Errorf("device %s still present after the router stopped", s.Device))
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
		releaseSlot(l.Dir, st.Slot)
	}
	if err := errors.Join(errs...); err != nil {
		return removed, err
	}
	for _, name := range []string{"nodes", securityDir, "router.json", "router.log", "router.sock", "stretch.yaml", stateFile + ".tmp", stateFile, "lock"} {
		if err := os.RemoveAll(filepath.Join(l.Dir, name)); err != nil {
			return removed, err
		}
	}
	_ = os.Remove(l.Dir) // only if empty: never delete what we did not make
	return removed, nil
}

// open locks the lab directory and loads its state; release unlocks.
func (l *Lab) open() (*State, func(), error) {
	// No lab, no lock file: a command on a directory without a lab
	// leaves it as it was.
	if !exists(filepath.Join(l.Dir, stateFile)) {
		return nil, nil, fmt.Errorf("%w in %s", ErrNoLab, l.Dir)
	}
	release, err := lock(l.Dir)
	if err != nil {
		return nil, nil, err
	}
	st, err := l.State()
	if err != nil {
		release()
		return nil, nil, err
	}
	return st, release, nil
}

// Inject applies a fault. target is a DC for kill, freeze and isolate, and
// a link spec for latency, loss and block. Invalid input changes nothing.
func (l *Lab) Inject(ctx context.Context, kind FaultKind, target string) ([]Fault, error) {
	st, release, err := l.open()
	if err != nil {
		return nil, err
	}
	defer release()
	now := time.Now()
	var added []Fault
	switch kind {
	case FaultKill, FaultFreeze, FaultIsolate, FaultLose:
		if err := st.checkDC(target); err != nil {
			return nil, err
		}
		if (kind == FaultIsolate || kind == FaultLose) && st.Network != NetworkNamespaces {
			return nil, fmt.Errorf("%s needs network namespaces; this lab runs on loopback (not root)", kind)
		}
		added = []Fault{{Kind: kind, DC: target, Since: now}}
		if kind == FaultLose {
			added = []Fault{{Kind: FaultIsolate, DC: target, Since: now}, {Kind: FaultKill, DC: target, Since: now}}
		}
	case FaultLatency, FaultLoss, FaultBlock:
		if st.Network != NetworkNamespaces {
			return nil, fmt.Errorf("%s needs network namespaces; this lab runs on loopback (not root)", kind)
		}
		rules, err := ParseLinkSpec(kind, target, st.Layout.Sites())
		if err != nil {
			return nil, err
		}
		for _, r := range rules {
			added = append(added, Fault{Kind: kind, Link: r, Since: now})
		}
	default:
		return nil, fmt.Errorf("unknown fault %q (want kill, freeze, isolate, lose, latency, loss or block)", kind)
	}

	// Record first, act second: if we die in between, heal and down still
	// know what to undo.
	st.Faults = append(st.Faults, added...)
	if err := st.save(); err != nil {
		return nil, err
	}
	switch kind {
	case FaultKill:
		return added, l.signalDC(st, target, syscall.SIGKILL, ProcDown)
	case FaultFreeze:
		return added, l.signalDC(st, target, syscall.SIGSTOP, ProcFrozen)
	case FaultLose:
		// Links first: the processes die behind a cut, so their sockets'
		// resets never reach anyone, as in a power or network loss.
		if err := l.routerClient().SetLinks(ctx, effective(st.Baseline, st.Faults)); err != nil {
			return added, err
		}
		return added, l.signalDC(st, target, syscall.SIGKILL, ProcDown)
	}
	return added, l.routerClient().SetLinks(ctx, effective(st.Baseline, st.Faults))
}

// signalDC sends sig to every running Kafka process of dc and waits until
// they reach state want.
func (l *Lab) signalDC(st *State, dc string, sig syscall.Signal, want ProcState) error {
	var pids []int
	for _, n := range st.Layout.Nodes {
		if n.DC == dc && procState(n.Pid, nodeMarker(l.nodeDir(n.ID))) != ProcDown {
			if err := signalGroup(n.Pid, sig); err != nil {
				return fmt.Errorf("signal node %d: %w", n.ID, err)
			}
			pids = append(pids, n.Pid)
		}
	}
	if left := waitState(pids, func(int) string { return "" }, want, 10*time.Second); len(left) > 0 {
		return fmt.Errorf("processes %s did not reach state %s", pidList(left), want)
	}
	return nil
}

// HealReport says what a heal did.
type HealReport struct {
	Cleared   []Fault `json:"cleared"`
	Restarted []int32 `json:"restarted"`
	Resumed   []int32 `json:"resumed"`
	// RouterRestarted is set when the WAN router had died and was started again.
	RouterRestarted bool `json:"routerRestarted"`
}

// Heal removes the faults of one DC (every fault touching it), or all
// faults when dc is empty: stopped nodes resume, dead nodes restart with
// their data, links return to their baseline. With wait it returns once
// every broker is registered again.
func (l *Lab) Heal(ctx context.Context, dc string, wait time.Duration) (*HealReport, error) {
	st, release, err := l.open()
	if err != nil {
		return nil, err
	}
	defer release()
	if dc != "" {
		if err := st.checkDC(dc); err != nil {
			return nil, err
		}
	}
	rep := &HealReport{Cleared: []Fault{}, Restarted: []int32{}, Resumed: []int32{}}
	var keep []Fault
	for _, f := range st.Faults {
		if dc == "" || f.touches(dc) {
			rep.Cleared = append(rep.Cleared, f)
		} else {
			keep = append(keep, f)
		}
	}
	st.Faults = keep

	var errs []error
	if st.Network == NetworkNamespaces {
		if procState(st.RouterPid, routerMarker(l.Dir)) != ProcUp {
			if err := l.startRouter(ctx, st); err != nil {
				errs = append(errs, err)
			} else {
				rep.RouterRestarted = true
			}
		}
		if err := l.routerClient().SetLinks(ctx, effective(st.Baseline, st.Faults)); err != nil {
			errs = append(errs, err)
		}
	}
	var dist Distribution
	var java string
	for _, n := range st.Layout.Nodes {
		if dc != "" && n.DC != dc {
			continue
		}
		switch procState(n.Pid, nodeMarker(l.nodeDir(n.ID))) {
		case ProcFrozen:
			if err := signalGroup(n.Pid, syscall.SIGCONT); err != nil {
				errs = append(errs, fmt.Errorf("resume node %d: %w", n.ID, err))
				continue
			}
			rep.Resumed = append(rep.Resumed, n.ID)
		case ProcDown:
			if java == "" {
				if dist, err = FetchKafka(ctx, st.KafkaVersion, l.progress); err == nil {
					java, err = javaBin()
				}
				if err != nil {
					errs = append(errs, err)
					break
				}
			}
			if err := l.startNode(st, n.ID, dist, java); err != nil {
				errs = append(errs, err)
				continue
			}
			rep.Restarted = append(rep.Restarted, n.ID)
		}
	}
	if err := st.save(); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return rep, err
	}
	if wait > 0 {
		if err := l.waitReady(ctx, st, wait); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// Exec replaces the current process with argv running inside dc's network
// namespace. STRETCHCTL_LAB_DC tells the command where it runs.
func (l *Lab) Exec(dc string, argv []string) error {
	st, err := l.State()
	if err != nil {
		return err
	}
	if len(argv) == 0 {
		return errors.New("no command given")
	}
	path, err := st.namespacePath(dc)
	if err != nil {
		return err
	}
	env := append(os.Environ(), "STRETCHCTL_LAB_DC="+dc, "STRETCHCTL_LAB_DIR="+l.Dir)
	return execIn(path, argv, env)
}

// StartIn starts cmd inside site's network namespace (a DC, or OpsSite),
// with STRETCHCTL_LAB_DC telling it where it runs.
func (l *Lab) StartIn(site string, cmd *exec.Cmd) error {
	st, err := l.State()
	if err != nil {
		return err
	}
	path, err := st.namespacePath(site)
	if err != nil {
		return err
	}
	if cmd.Env == nil {
		cmd.Env = os.Environ()
	}
	cmd.Env = append(cmd.Env, "STRETCHCTL_LAB_DC="+site)
	return startIn(path, cmd)
}

// DialContext returns a dial function whose connections start in site
// (a DC, or OpsSite for the operator's site).
func (l *Lab) DialContext(site string) (func(ctx context.Context, network, addr string) (net.Conn, error), error) {
	st, err := l.State()
	if err != nil {
		return nil, err
	}
	path, err := st.namespacePath(site)
	if err != nil {
		return nil, err
	}
	return dialerIn(path), nil
}

// Listen opens a listener inside site.
func (l *Lab) Listen(site, network, addr string) (net.Listener, error) {
	st, err := l.State()
	if err != nil {
		return nil, err
	}
	path, err := st.namespacePath(site)
	if err != nil {
		return nil, err
	}
	return listenIn(path, network, addr)
}

// Cluster reads the cluster's brokers and quorum as seen from site (a DC
// or OpsSite) within a few seconds.
func (l *Lab) Cluster(ctx context.Context, site string) (ClusterView, error) {
	st, err := l.State()
	if err != nil {
		return ClusterView{}, err
	}
	if _, err := st.namespacePath(site); err != nil {
		return ClusterView{}, err
	}
	return st.readCluster(ctx, site, 5*time.Second), nil
}

// SiteAddr is the spare address of a site, for clients and test servers
// placed there (the operator's address for OpsSite).
func (st *State) SiteAddr(site string) (string, error) {
	for _, s := range st.Sites {
		if s.Name == site {
			return s.Addrs[len(s.Addrs)-1].String(), nil
		}
	}
	return "", fmt.Errorf("unknown site %q or lab without namespaces", site)
}
