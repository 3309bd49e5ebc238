package wan

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// Port is where a site's packets are read from and written to: a TUN device
// in production, an in-memory pipe in tests. Each Read returns one packet.
type Port interface {
	io.ReadWriter
}

// queueLen bounds each link's queue. At 20 ms one-way and 100 MB/s a link
// holds about 2 MB in flight: 230 jumbo or 1,400 standard frames. Beyond the
// bound packets are tail-dropped, like a real router buffer.
const queueLen = 8192

type packet struct {
	buf *[]byte
	n   int
	due int64 // CLOCK_MONOTONIC nanoseconds
}

type linkState struct {
	cfg atomic.Pointer[Link]
	q   chan packet
	dst Port

	forwarded, bytes                atomic.Uint64
	dropBlocked, dropLoss, dropFull atomic.Uint64
}

// Router forwards packets between sites with per-link delay, loss and cuts.
type Router struct {
	names   []string
	subnets []netip.Prefix
	ports   []Port
	links   [][]*linkState // [from][to], nil on the diagonal
	mtu     int
	pool    sync.Pool
	// early is how long before a packet's due time its link wakes up: the
	// median lateness of clock_nanosleep on this machine.
	early int64
	// priority makes the delivering threads real-time (Prioritize);
	// others says what the other threads got, noRealtime why a
	// delivering thread stayed normal.
	priority   bool
	others     string
	noRealtime atomic.Value
}

// Prioritize raises the router's scheduling before Run (sched_linux.go):
// SCHED_FIFO for the delivering threads, and with PriorityHigh a higher
// nice for every other thread of the process.
//
// Whether the kernel grants real time is found out here, on a thread of
// its own, so that Scheduling is true from the start rather than once the
// delivering threads got going.
func (r *Router) Prioritize(p Priority) {
	switch p {
	case PriorityHigh:
		r.priority, r.others = true, raiseProcess()
	case PriorityForwarding:
		r.priority, r.others = true, "normal priority"
	default:
		return
	}
	granted := make(chan error)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
		granted <- raiseThread()
	}()
	if err := <-granted; err != nil {
		r.noRealtime.Store(err.Error())
	}
}

// Scheduling describes the scheduling the router's threads got.
func (r *Router) Scheduling() string {
	if !r.priority {
		return "normal priority"
	}
	fwd := fmt.Sprintf("SCHED_FIFO %d", realtimePriority)
	if why, _ := r.noRealtime.Load().(string); why != "" {
		fwd = "not real-time (" + why + ")"
	}
	return fmt.Sprintf("forwarding threads %s, others %s", fwd, r.others)
}

// NewRouter builds a router over ports, one per site in the same order.
func NewRouter(sites []Site, ports []Port, mtu int, links []Link) (*Router, error) {
	if len(sites) != len(ports) {
		return nil, fmt.Errorf("%d sites but %d ports", len(sites), len(ports))
	}
	if mtu <= 0 {
		mtu = DefaultMTU
	}
	r := &Router{mtu: mtu, ports: ports, early: calibrate()}
	r.pool.New = func() any { b := make([]byte, mtu+64); return &b }
	for _, s := range sites {
		r.names = append(r.names, s.Name)
		r.subnets = append(r.subnets, s.Subnet)
	}
	r.links = make([][]*linkState, len(sites))
	for i := range sites {
		r.links[i] = make([]*linkState, len(sites))
		for j := range sites {
			if i == j {
				continue
			}
			ls := &linkState{q: make(chan packet, queueLen), dst: ports[j]}
			ls.cfg.Store(&Link{From: sites[i].Name, To: sites[j].Name})
			r.links[i][j] = ls
		}
	}
	if err := r.SetLinks(links); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *Router) index(name string) int {
	for i, n := range r.names {
		if n == name {
			return i
		}
	}
	return -1
}

// SetLinks replaces the state of the named links; links not named keep
// theirs. It is safe to call while the router runs.
func (r *Router) SetLinks(links []Link) error {
	known := map[string]bool{}
	for _, n := range r.names {
		known[n] = true
	}
	if err := validateLinks(known, links); err != nil {
		return err
	}
	for _, l := range links {
		l := l
		r.links[r.index(l.From)][r.index(l.To)].cfg.Store(&l)
	}
	return nil
}

// Stats returns every link's state and counters.
func (r *Router) Stats() []LinkStats {
	var out []LinkStats
	for i := range r.links {
		for j, ls := range r.links[i] {
			if i == j {
				continue
			}
			out = append(out, LinkStats{
				Link:           *ls.cfg.Load(),
				Forwarded:      ls.forwarded.Load(),
				Bytes:          ls.bytes.Load(),
				DroppedBlocked: ls.dropBlocked.Load(),
				DroppedLoss:    ls.dropLoss.Load(),
				DroppedQueue:   ls.dropFull.Load(),
			})
		}
	}
	SortLinks(out)
	return out
}

// Run forwards packets until ctx ends or a port fails. Closing the ports
// after ctx ends is the caller's job; Run returns once its readers stop.
func (r *Router) Run(ctx context.Context) error {
	errc := make(chan error, len(r.ports))
	var wg sync.WaitGroup
	for i := range r.links {
		for j, ls := range r.links[i] {
			if i != j {
				wg.Add(1)
				go func() { defer wg.Done(); r.deliver(ctx, ls) }()
			}
		}
	}
	for i := range r.ports {
		go func() { errc <- r.read(ctx, i) }()
	}
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	wg.Wait()
	return err
}

// read takes packets from one site and queues them on the matching link.
func (r *Router) read(ctx context.Context, from int) error {
	port := r.ports[from]
	for {
		buf := r.pool.Get().(*[]byte)
		n, err := port.Read(*buf)
		if err != nil {
			r.pool.Put(buf)
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("read from site %s: %w", r.names[from], err)
		}
		to := r.route((*buf)[:n])
		if to < 0 || to == from {
			r.pool.Put(buf)
			continue
		}
		ls := r.links[from][to]
		cfg := ls.cfg.Load()
		switch {
		case cfg.Blocked:
			ls.dropBlocked.Add(1)
			r.pool.Put(buf)
			continue
		case cfg.Loss > 0 && rand.Float64()*100 < cfg.Loss:
			ls.dropLoss.Add(1)
			r.pool.Put(buf)
			continue
		}
		select {
		case ls.q <- packet{buf: buf, n: n, due: monotonicNow() + int64(cfg.Delay)}:
		default:
			ls.dropFull.Add(1)
			r.pool.Put(buf)
		}
	}
}

// route returns the index of the site owning the packet's IPv4 destination,
// or -1 for anything else (IPv6 router solicitations and the like).
func (r *Router) route(p []byte) int {
	if len(p) < 20 || p[0]>>4 != 4 {
		return -1
	}
	dst := netip.AddrFrom4([4]byte(p[16:20]))
	for i, s := range r.subnets {
		if s.Contains(dst) {
			return i
		}
	}
	return -1
}

// deliver writes a link's packets when they are due. It runs on its own OS
// thread and sleeps with clock_nanosleep: Go timers wake up to a millisecond
// late on Linux (measured p50 0.6 ms), which would add over 1 ms to a round
// trip. On that thread the timer slack is cut from the default 50 µs to
// 1 ns, and the typical wake-up lateness left (measured once, see
// calibrate) is taken off every deadline.
//
// With priority, the thread runs SCHED_FIFO (raiseThread) and is never
// unlocked: it ends with the goroutine.
func (r *Router) deliver(ctx context.Context, ls *linkState) {
	runtime.LockOSThread()
	if !r.priority {
		defer runtime.UnlockOSThread()
	} else if err := raiseThread(); err != nil {
		r.noRealtime.Store(err.Error())
	}
	_ = unix.Prctl(unix.PR_SET_TIMERSLACK, 1, 0, 0, 0)
	for {
		select {
		case <-ctx.Done():
			for {
				select {
				case p := <-ls.q:
					r.pool.Put(p.buf)
				default:
					return
				}
			}
		case p := <-ls.q:
			sleepUntil(p.due - r.early)
			if _, err := ls.dst.Write((*p.buf)[:p.n]); err == nil {
				ls.forwarded.Add(1)
				ls.bytes.Add(uint64(p.n))
			}
			r.pool.Put(p.buf)
		}
	}
}

// calibrate measures the median lateness of a short clock_nanosleep with
// minimal timer slack (about 60 µs on a small VM), capped at 250 µs.
func calibrate() int64 {
	res := make(chan int64)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		_ = unix.Prctl(unix.PR_SET_TIMERSLACK, 1, 0, 0, 0)
		late := make([]int64, 31)
		for i := range late {
			due := monotonicNow() + 200_000
			sleepUntil(due)
			late[i] = monotonicNow() - due
		}
		slices.Sort(late)
		res <- min(late[len(late)/2], 250_000)
	}()
	return <-res
}

func monotonicNow() int64 {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return ts.Nano()
}

func sleepUntil(due int64) {
	if due <= monotonicNow() {
		return
	}
	ts := unix.NsecToTimespec(due)
	for {
		err := unix.ClockNanosleep(unix.CLOCK_MONOTONIC, unix.TIMER_ABSTIME, &ts, nil)
		if !errors.Is(err, unix.EINTR) {
			return
		}
	}
}
