package wan

import (
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// The router's scheduling. A router that is not scheduled in time adds its
// wait to every packet: with a load average of 13 (parallel builds) the
// lab's matrix showed 15 ms for a configured 10 ms round trip. The
// delivering threads, which sleep until a packet is due and write it, run
// SCHED_FIFO at realtimePriority: above every normal thread, below the
// kernel's threaded interrupts (50). They sleep most of the time, and the
// kernel's real-time throttling (sched_rt_runtime_us, 95% by default)
// bounds them if a flood keeps them busy. Every other thread of the
// process (the readers that timestamp packets, the control socket) runs at
// nice routerNice.
const (
	realtimePriority = 10
	routerNice       = -10
)

// raiseProcess sets every thread of the process to routerNice; threads
// created later inherit it from their creator. Linux keeps nice per
// thread (setpriority(2), NOTES), hence the walk over /proc/self/task.
func raiseProcess() string {
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return "normal priority (" + err.Error() + ")"
	}
	for _, t := range tasks {
		tid, err := strconv.Atoi(t.Name())
		if err != nil {
			continue
		}
		if err := unix.Setpriority(unix.PRIO_PROCESS, tid, routerNice); err != nil {
			return fmt.Sprintf("normal priority (setpriority: %v)", err)
		}
	}
	return fmt.Sprintf("nice %d", routerNice)
}

// raiseThread makes the calling OS thread SCHED_FIFO at realtimePriority.
// The caller must stay locked to the thread and never unlock it: the
// thread must end with its goroutine rather than run others in real time.
func raiseThread() error {
	return unix.SchedSetAttr(0, &unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: unix.SCHED_FIFO, Priority: realtimePriority}, 0)
}
