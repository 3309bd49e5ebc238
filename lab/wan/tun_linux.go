package wan

import (
	"fmt"
	"net"
	"os"
	"unsafe"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// openTUN creates a TUN device (no packet-information header) in the
// current namespace and returns its file, registered with Go's poller.
// The device lives as long as the file stays open: when the router exits,
// even by SIGKILL, the kernel removes every device it made.
func openTUN(name string) (*os.File, error) {
	fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open /dev/net/tun: %w", err)
	}
	var req [unix.IFNAMSIZ + 64]byte
	copy(req[:unix.IFNAMSIZ-1], name)
	*(*uint16)(unsafe.Pointer(&req[unix.IFNAMSIZ])) = unix.IFF_TUN | unix.IFF_NO_PI
	if _, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.TUNSETIFF, uintptr(unsafe.Pointer(&req[0]))); errno != 0 {
		unix.Close(fd)
		return nil, fmt.Errorf("create tun %s: %w", name, errno)
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("tun %s: set nonblocking: %w", name, err)
	}
	return os.NewFile(uintptr(fd), "/dev/net/tun:"+name), nil
}

// setUp creates the site's TUN device, moves it into the site's namespace
// and gives it its addresses and routes.
func setUp(s Site, mtu int) (*os.File, error) {
	f, err := openTUN(s.Device)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*os.File, error) { f.Close(); return nil, fmt.Errorf("site %s: %w", s.Name, err) }

	root, err := netlink.NewHandle()
	if err != nil {
		return fail(err)
	}
	defer root.Close()
	link, err := root.LinkByName(s.Device)
	if err != nil {
		return fail(err)
	}
	if err := root.LinkSetMTU(link, mtu); err != nil {
		return fail(fmt.Errorf("set mtu: %w", err))
	}
	h := root
	if s.Netns != "" {
		ns, err := netns.GetFromPath(s.Netns)
		if err != nil {
			return fail(fmt.Errorf("open namespace %s: %w", s.Netns, err))
		}
		defer ns.Close()
		if err := root.LinkSetNsFd(link, int(ns)); err != nil {
			return fail(fmt.Errorf("move %s into %s: %w", s.Device, s.Netns, err))
		}
		if h, err = netlink.NewHandleAt(ns); err != nil {
			return fail(err)
		}
		defer h.Close()
		lo, err := h.LinkByName("lo")
		if err != nil {
			return fail(err)
		}
		if err := h.LinkSetUp(lo); err != nil {
			return fail(fmt.Errorf("loopback up: %w", err))
		}
		if link, err = h.LinkByName(s.Device); err != nil {
			return fail(err)
		}
	}
	for _, a := range s.Addrs {
		addr := &netlink.Addr{IPNet: &net.IPNet{IP: a.AsSlice(), Mask: net.CIDRMask(32, 32)}}
		if err := h.AddrAdd(link, addr); err != nil {
			return fail(fmt.Errorf("add address %v: %w", a, err))
		}
	}
	if err := h.LinkSetUp(link); err != nil {
		return fail(fmt.Errorf("link up: %w", err))
	}
	for _, p := range s.Routes {
		dst := &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), 32)}
		route := &netlink.Route{LinkIndex: link.Attrs().Index, Dst: dst, Scope: netlink.SCOPE_LINK}
		if len(s.Addrs) > 0 {
			route.Src = s.Addrs[0].AsSlice()
		}
		if err := h.RouteAdd(route); err != nil {
			return fail(fmt.Errorf("add route %v: %w", p, err))
		}
	}
	return f, nil
}
