package wan

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"testing"
	"time"
)

// memPort is an in-memory Port: packets written by the router arrive on out,
// packets pushed on in are read by the router.
type memPort struct {
	in, out chan []byte
	done    chan struct{}
}

func newMemPort() *memPort {
	return &memPort{in: make(chan []byte, 1024), out: make(chan []byte, 1024), done: make(chan struct{})}
}

func (p *memPort) Read(b []byte) (int, error) {
	select {
	case pkt := <-p.in:
		return copy(b, pkt), nil
	case <-p.done:
		return 0, errors.New("closed")
	}
}

func (p *memPort) Write(b []byte) (int, error) {
	p.out <- append([]byte(nil), b...)
	return len(b), nil
}

func ipv4(dst string) []byte {
	p := make([]byte, 40)
	p[0] = 0x45
	a := netip.MustParseAddr(dst).As4()
	copy(p[16:20], a[:])
	return p
}

func testRouter(t *testing.T, links []Link) (*Router, []*memPort) {
	t.Helper()
	sites := []Site{
		{Name: "ops", Device: "t0", Subnet: netip.MustParsePrefix("198.18.0.0/24")},
		{Name: "dc-a", Device: "t1", Subnet: netip.MustParsePrefix("198.18.1.0/24")},
		{Name: "dc-b", Device: "t2", Subnet: netip.MustParsePrefix("198.18.2.0/24")},
	}
	mem := []*memPort{newMemPort(), newMemPort(), newMemPort()}
	r, err := NewRouter(sites, []Port{mem[0], mem[1], mem[2]}, 1500, links)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		for _, m := range mem {
			close(m.done)
		}
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return r, mem
}

func TestRouterDelayIsNeverShort(t *testing.T) {
	const delay = 15 * time.Millisecond
	_, mem := testRouter(t, []Link{{From: "dc-a", To: "dc-b", Delay: delay}})
	for i := 0; i < 5; i++ {
		start := time.Now()
		mem[1].in <- ipv4("198.18.2.10")
		select {
		case <-mem[2].out:
			// The router wakes up to 250 µs early to cancel the kernel's
			// wake-up lateness; never more.
			if got := time.Since(start); got < delay-250*time.Microsecond {
				t.Fatalf("packet %d arrived after %v, well before the link's delay %v", i, got, delay)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("packet %d never arrived", i)
		}
	}
}

func TestRouterRoutesByDestination(t *testing.T) {
	r, mem := testRouter(t, nil)
	mem[0].in <- ipv4("198.18.1.7")  // ops -> dc-a
	mem[0].in <- ipv4("198.18.2.7")  // ops -> dc-b
	mem[0].in <- ipv4("203.0.113.1") // outside the lab: dropped silently
	for _, want := range []int{1, 2} {
		select {
		case <-mem[want].out:
		case <-time.After(5 * time.Second):
			t.Fatalf("site %d got nothing", want)
		}
	}
	// Counters move right after the write that the test just saw.
	waitFor(t, "2 forwarded packets", func() bool {
		var total uint64
		for _, s := range r.Stats() {
			total += s.Forwarded
		}
		return total == 2
	})
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestRouterBlockAndLoss(t *testing.T) {
	tests := []struct {
		name        string
		link        Link
		wantArrived bool
		counter     func(LinkStats) uint64
	}{
		{"blocked", Link{From: "dc-a", To: "dc-b", Blocked: true}, false, func(s LinkStats) uint64 { return s.DroppedBlocked }},
		{"full loss", Link{From: "dc-a", To: "dc-b", Loss: 100}, false, func(s LinkStats) uint64 { return s.DroppedLoss }},
		{"open", Link{From: "dc-a", To: "dc-b"}, true, func(s LinkStats) uint64 { return s.Forwarded }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, mem := testRouter(t, []Link{tt.link})
			const n = 20
			for i := 0; i < n; i++ {
				mem[1].in <- ipv4("198.18.2.10")
			}
			// The reverse direction is untouched by a one-way rule.
			mem[2].in <- ipv4("198.18.1.10")
			select {
			case <-mem[1].out:
			case <-time.After(5 * time.Second):
				t.Fatal("reverse direction did not forward")
			}
			waitFor(t, fmt.Sprintf("counter to reach %d", n), func() bool {
				for _, s := range r.Stats() {
					if s.From == "dc-a" && s.To == "dc-b" {
						return tt.counter(s) == n
					}
				}
				return false
			})
			if arrived := len(mem[2].out) > 0; arrived != tt.wantArrived {
				t.Errorf("packets arrived = %v, want %v", arrived, tt.wantArrived)
			}
		})
	}
}

func TestSetLinksRejectsUnknownSite(t *testing.T) {
	r, _ := testRouter(t, nil)
	for _, l := range []Link{
		{From: "dc-a", To: "dc-z"},
		{From: "dc-a", To: "dc-a"},
		{From: "dc-a", To: "dc-b", Loss: 101},
		{From: "dc-a", To: "dc-b", Delay: -time.Millisecond},
	} {
		if err := r.SetLinks([]Link{l}); err == nil {
			t.Errorf("SetLinks(%+v) = nil, want an error", l)
		}
	}
	for _, s := range r.Stats() {
		if s.Delay != 0 || s.Loss != 0 || s.Blocked {
			t.Errorf("link %s->%s changed by a rejected call: %+v", s.From, s.To, s.Link)
		}
	}
}
