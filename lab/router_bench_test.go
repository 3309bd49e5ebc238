package lab

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchctl/stretchctl/lab/wan"
)

// benchNet is a WAN router with two DC namespaces, run in-process, for the
// router's benchmarks (no Kafka).
type benchNet struct {
	st     *State
	cancel func()
	done   chan error
}

func startBenchNet(b *testing.B, oneWay time.Duration) *benchNet {
	return startBenchNetWith(b, oneWay, wan.PriorityForwarding)
}

func startBenchNetWith(b *testing.B, oneWay time.Duration, prio wan.Priority) *benchNet {
	b.Helper()
	if os.Geteuid() != 0 {
		b.Skip("the router benchmarks need root (network namespaces)")
	}
	dir := b.TempDir()
	slot, err := claimSlot(dir)
	if err != nil {
		b.Fatal(err)
	}
	st := &State{Dir: dir, Slot: slot, Network: NetworkNamespaces,
		Layout: Layout{DCs: []string{"dc-a", "dc-b"}}}
	st.assignAddresses()
	for _, dc := range st.Layout.DCs {
		if err := createNamespace(nsName(slot, dc)); err != nil {
			b.Fatal(err)
		}
	}
	links := baseline(st.Layout.Sites(), []LinkRule{{From: "dc-a", To: "dc-b", Both: true, Delay: oneWay}}).list()
	cfg := wan.Config{Sites: st.Sites, Links: links, MTU: wan.DefaultMTU, Socket: filepath.Join(dir, "router.sock"), Priority: prio}
	ctx, cancel := context.WithCancel(context.Background())
	n := &benchNet{st: st, cancel: cancel, done: make(chan error, 1)}
	go func() { n.done <- wan.Serve(ctx, cfg, slog.New(slog.DiscardHandler)) }()
	b.Cleanup(func() {
		cancel()
		<-n.done
		for _, dc := range st.Layout.DCs {
			_ = deleteNamespace(nsName(slot, dc))
		}
		releaseSlot(dir, slot)
	})
	c := wan.Client{Socket: cfg.Socket}
	for i := 0; ; i++ {
		if _, err := c.Ping(ctx); err == nil {
			break
		}
		if i > 500 {
			b.Fatal("router did not start")
		}
		time.Sleep(10 * time.Millisecond)
	}
	return n
}

// connect returns a TCP connection from dc-a to a listener in dc-b, and the
// server side.
func (n *benchNet) connect(b *testing.B) (client, server net.Conn) {
	b.Helper()
	addr, _ := n.st.SiteAddr("dc-b")
	ln, err := listenIn(nsPath(nsName(n.st.Slot, "dc-b")), "tcp", netip.AddrPortFrom(netip.MustParseAddr(addr), 0).String())
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() { c, _ := ln.Accept(); accepted <- c }()
	client, err = dialerIn(nsPath(nsName(n.st.Slot, "dc-a")))(context.Background(), "tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	server = <-accepted
	b.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

// BenchmarkRouterLatencyError measures how far the round trip through the
// router is from the configured 20 ms (target: under 0.5 ms).
func BenchmarkRouterLatencyError(b *testing.B) {
	n := startBenchNet(b, 10*time.Millisecond)
	measureRoundTrips(b, n, 20*time.Millisecond)
}

// BenchmarkRouterLatencyErrorLoaded is the same with the machine loaded
// (loadProcs busy processes at normal priority, a load average of about
// 13 on the 2-core machine, as a parallel build makes), with the router's
// forwarding threads at normal and at real-time priority. The client and
// the echo server share the benchmark's process and stay at normal
// priority, as the Kafka processes and probes of a lab do.
func BenchmarkRouterLatencyErrorLoaded(b *testing.B) {
	for _, prio := range []wan.Priority{wan.PriorityNormal, wan.PriorityForwarding} {
		b.Run("priority="+cmp.Or(string(prio), "high"), func(b *testing.B) {
			n := startBenchNetWith(b, 10*time.Millisecond, prio)
			stop := busyProcesses(b, loadProcs)
			defer stop()
			measureRoundTrips(b, n, 20*time.Millisecond)
		})
	}
}

// loadProcs is how many busy processes BenchmarkRouterLatencyErrorLoaded
// runs.
const loadProcs = 13

// busyProcesses starts n processes that spin until stopped.
func busyProcesses(b *testing.B, n int) func() {
	b.Helper()
	var procs []*exec.Cmd
	for range n {
		c := exec.Command("sh", "-c", "while :; do :; done")
		if err := c.Start(); err != nil {
			b.Fatal(err)
		}
		procs = append(procs, c)
	}
	time.Sleep(time.Second) // let the load settle
	return func() {
		for _, c := range procs {
			_ = c.Process.Kill()
			_ = c.Wait()
		}
	}
}

// measureRoundTrips sends 64-byte echoes from dc-a to dc-b, 100 per
// iteration, and reports the p50 and p99 error against rtt.
func measureRoundTrips(b *testing.B, n *benchNet, rtt time.Duration) {
	client, server := n.connect(b)
	_ = client.(*net.TCPConn).SetNoDelay(true)
	_ = server.(*net.TCPConn).SetNoDelay(true)
	go func() { _, _ = io.Copy(server, server) }()
	buf := make([]byte, 64)
	var errs []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for j := 0; j < 100; j++ {
			start := time.Now()
			if _, err := client.Write(buf); err != nil {
				b.Fatal(err)
			}
			if _, err := io.ReadFull(client, buf); err != nil {
				b.Fatal(err)
			}
			errs = append(errs, time.Since(start)-rtt)
		}
	}
	slices.Sort(errs)
	b.ReportMetric(float64(errs[len(errs)/2].Microseconds()), "p50-error-µs")
	b.ReportMetric(float64(errs[len(errs)*99/100].Microseconds()), "p99-error-µs")
}

// BenchmarkRouterThroughput measures bulk TCP throughput from dc-a to dc-b
// through the router, with no delay and with a 20 ms round trip (target:
// at least 50 MB/s).
func BenchmarkRouterThroughput(b *testing.B) {
	for _, rtt := range []time.Duration{0, 20 * time.Millisecond} {
		b.Run(fmt.Sprintf("rtt=%v", rtt), func(b *testing.B) {
			n := startBenchNet(b, rtt/2)
			client, server := n.connect(b)
			const chunk = 1 << 20
			const total = 256 * chunk
			done := make(chan int64)
			go func() { got, _ := io.Copy(io.Discard, server); done <- got }()
			buf := make([]byte, chunk)
			b.SetBytes(total)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				for sent := 0; sent < total; sent += chunk {
					if _, err := client.Write(buf); err != nil {
						b.Fatal(err)
					}
				}
			}
			client.(*net.TCPConn).CloseWrite()
			got := <-done
			b.StopTimer()
			if got != int64(b.N)*total {
				b.Fatalf("received %d bytes, sent %d", got, int64(b.N)*total)
			}
		})
	}
}
