package lab

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ProcState is what /proc says about a process.
type ProcState string

// Process states shown by `lab status`.
const (
	ProcUp     ProcState = "up"
	ProcFrozen ProcState = "frozen"
	ProcDown   ProcState = "down"
)

// procState reads the state letter of /proc/PID/stat. A zombie counts as
// down. marker, when set, must appear in the command line, so that a pid
// reused by an unrelated process is never mistaken for a lab node.
func procState(pid int, marker string) ProcState {
	if pid <= 0 {
		return ProcDown
	}
	if marker != "" {
		cmd, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
		if err != nil || !bytes.Contains(cmd, []byte(marker)) {
			return ProcDown
		}
	}
	stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return ProcDown
	}
	// The command name in parentheses may hold spaces; the state follows
	// the last ')'.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 || i+2 >= len(stat) {
		return ProcDown
	}
	switch stat[i+2] {
	case 'Z', 'X', 'x':
		return ProcDown
	case 'T', 't':
		return ProcFrozen
	}
	return ProcUp
}

// nodeMarker is the java system property that tags a node's process.
func nodeMarker(nodeDir string) string { return "-Dstretchctl.lab=" + nodeDir + "\x00" }

// routerMarker tags the router process of a lab directory.
func routerMarker(dir string) string { return "router\x00--dir\x00" + dir + "\x00" }

// labProcesses finds every live process carrying one of the lab's markers,
// whether or not the state still records it (crash recovery).
func labProcesses(dir string) []int {
	entries, _ := os.ReadDir("/proc")
	var out []int
	nodePrefix := []byte("-Dstretchctl.lab=" + filepath.Join(dir, "nodes") + string(filepath.Separator))
	router := []byte(routerMarker(dir))
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		cmd, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		if bytes.Contains(cmd, nodePrefix) || bytes.Contains(cmd, router) {
			if procState(pid, "") != ProcDown {
				out = append(out, pid)
			}
		}
	}
	return out
}

// signalGroup signals a process group led by pid (nodes are started with
// setsid), falling back to the process alone.
func signalGroup(pid int, sig syscall.Signal) error {
	if err := syscall.Kill(-pid, sig); err == nil {
		return nil
	}
	err := syscall.Kill(pid, sig)
	if errors.Is(err, syscall.ESRCH) {
		return nil
	}
	return err
}

// waitState waits until every pid reaches want or the timeout passes; it
// returns the pids that did not.
func waitState(pids []int, marker func(int) string, want ProcState, timeout time.Duration) []int {
	deadline := time.Now().Add(timeout)
	for {
		var left []int
		for _, p := range pids {
			if procState(p, marker(p)) != want {
				left = append(left, p)
			}
		}
		if len(left) == 0 || time.Now().After(deadline) {
			return left
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func pidList(pids []int) string {
	s := make([]string, len(pids))
	for i, p := range pids {
		s[i] = strconv.Itoa(p)
	}
	return strings.Join(s, ", ")
}
