package lab

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"github.com/vishvananda/netns"
)

// The lab's addresses come from the benchmark range 198.18.0.0/15 (RFC
// 2544), which no real network routes. Each lab takes one /20 "slot" so
// that several labs can run on one machine; inside it, site i (0 = ops)
// owns the /24 number i.
const (
	maxSlots = 32
	slotDir  = "/run/stretchctl/slots"
	netnsDir = "/run/netns"
)

var labBlock = netip.MustParsePrefix("198.18.0.0/15")

func slotPrefix(slot int) netip.Prefix {
	b := labBlock.Addr().As4()
	v := (uint32(b[0])<<24 | uint32(b[1])<<16) + uint32(slot)*4096
	return netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), 0}), 20)
}

func siteSubnet(slot, site int) netip.Prefix {
	b := slotPrefix(slot).Addr().As4()
	b[2] += byte(site)
	return netip.PrefixFrom(netip.AddrFrom4(b), 24)
}

func siteAddr(slot, site, host int) netip.Addr {
	b := siteSubnet(slot, site).Addr().As4()
	b[3] = byte(host)
	return netip.AddrFrom4(b)
}

// loopbackAddr gives every node its own 127.x address when the lab runs
// without namespaces.
func loopbackAddr(slot, site, host int) netip.Addr {
	return netip.AddrFrom4([4]byte{127, byte(100 + slot), byte(site), byte(host)})
}

func nsName(slot int, dc string) string { return fmt.Sprintf("stc%d-%s", slot, dc) }

func nsPath(name string) string { return filepath.Join(netnsDir, name) }

// claimSlot reserves a free slot for dir. A slot whose owner directory no
// longer holds a lab state is stale and taken over.
func claimSlot(dir string) (int, error) {
	if err := os.MkdirAll(slotDir, 0o755); err != nil {
		return 0, err
	}
	for s := 0; s < maxSlots; s++ {
		p := filepath.Join(slotDir, strconv.Itoa(s))
		f, err := os.OpenFile(p, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		if errors.Is(err, fs.ErrExist) {
			owner, _ := os.ReadFile(p)
			if string(owner) == dir || slotInUse(string(owner), s) {
				continue
			}
			_ = os.Remove(p)
			f, err = os.OpenFile(p, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		}
		if err != nil {
			continue
		}
		_, err = f.WriteString(dir)
		f.Close()
		if err != nil {
			return 0, err
		}
		return s, nil
	}
	return 0, fmt.Errorf("all %d lab slots are in use (see %s)", maxSlots, slotDir)
}

func slotInUse(owner string, slot int) bool {
	st, err := loadState(owner)
	return err == nil && st.Slot == slot
}

func releaseSlot(dir string, slot int) {
	p := filepath.Join(slotDir, strconv.Itoa(slot))
	if owner, err := os.ReadFile(p); err == nil && string(owner) == dir {
		_ = os.Remove(p)
	}
}

// createNamespace makes a named network namespace (like `ip netns add`)
// without leaving the calling goroutine's thread in it.
func createNamespace(name string) error {
	errc := make(chan error, 1)
	go func() {
		// The thread ends with this goroutine (it stays locked), so the
		// namespace switch done by NewNamed cannot leak into other goroutines.
		runtime.LockOSThread()
		ns, err := netns.NewNamed(name)
		if err == nil {
			ns.Close()
		}
		errc <- err
	}()
	if err := <-errc; err != nil {
		return fmt.Errorf("create namespace %s: %w", name, err)
	}
	return nil
}

func deleteNamespace(name string) error {
	if !exists(nsPath(name)) {
		return nil
	}
	if err := netns.DeleteNamed(name); err != nil {
		return fmt.Errorf("delete namespace %s: %w", name, err)
	}
	return nil
}

// leftoverNamespaces lists namespaces of a slot, including ones the state
// no longer mentions after a crash.
func leftoverNamespaces(slot int) []string {
	entries, _ := os.ReadDir(netnsDir)
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), fmt.Sprintf("stc%d-", slot)) {
			out = append(out, e.Name())
		}
	}
	return out
}

// inNamespace runs f on a thread switched into the namespace at path. The
// thread is discarded afterwards. With an empty path f runs in place.
func inNamespace(path string, f func() error) error {
	if path == "" {
		return f()
	}
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with the goroutine
		ns, err := netns.GetFromPath(path)
		if err != nil {
			errc <- fmt.Errorf("open namespace %s: %w", path, err)
			return
		}
		defer ns.Close()
		if err := netns.Set(ns); err != nil {
			errc <- fmt.Errorf("enter namespace %s: %w", path, err)
			return
		}
		errc <- f()
	}()
	return <-errc
}

// startIn starts cmd inside the namespace at path: a forked child inherits
// the network namespace of the thread that forks it.
func startIn(path string, cmd *exec.Cmd) error {
	return inNamespace(path, cmd.Start)
}

// execIn replaces the current process with argv running in the namespace.
func execIn(path string, argv []string, env []string) error {
	bin, err := exec.LookPath(argv[0])
	if err != nil {
		return err
	}
	return inNamespace(path, func() error {
		return syscall.Exec(bin, argv, env)
	})
}

// Dialer returns a dial function whose connections start inside the
// namespace at path (empty: the current one). Sockets keep the namespace
// they were created in, so the connection behaves as if dialled from that
// DC for its whole life.
func dialerIn(path string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		var c net.Conn
		err := inNamespace(path, func() error {
			var d net.Dialer
			var err error
			c, err = d.DialContext(ctx, network, addr)
			return err
		})
		return c, err
	}
}

// listenIn opens a listener inside the namespace at path.
func listenIn(path, network, addr string) (net.Listener, error) {
	var ln net.Listener
	err := inNamespace(path, func() error {
		var err error
		ln, err = net.Listen(network, addr)
		return err
	})
	return ln, err
}
