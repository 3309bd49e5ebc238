package operator

import (
	"context"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/stretchctl/stretchctl/api/v1alpha1"
	"github.com/stretchctl/stretchctl/chaos"
	"github.com/stretchctl/stretchctl/chaos/chaosmesh"
	"github.com/stretchctl/stretchctl/drill"
)

// statusWriter is a running drill's one writer of its status. It is the
// runner's chaos.Store: a phase is in the FailoverDrill's status before
// the runner acts on it (so a restarted operator knows whether a fault
// may be in place). Events only update the message, asynchronously, and
// never move the phase backwards.
type statusWriter struct {
	c   client.Client
	key types.NamespacedName

	mu    sync.Mutex
	phase drill.Phase

	latest  chan drill.Event
	stopped chan struct{}
	done    chan struct{}
}

var _ chaos.Store = (*statusWriter)(nil)

func (r *FailoverDrillReconciler) statusWriter(key types.NamespacedName, phase drill.Phase) *statusWriter {
	w := &statusWriter{c: r.Direct, key: key, phase: phase, latest: make(chan drill.Event, 1), stopped: make(chan struct{}), done: make(chan struct{})}
	go w.flush()
	return w
}

// patch applies mutate to the drill's status.
func (w *statusWriter) patch(ctx context.Context, mutate func(*v1.FailoverDrill)) error {
	var fd v1.FailoverDrill
	if err := w.c.Get(ctx, w.key, &fd); err != nil {
		return err
	}
	before := fd.DeepCopy()
	mutate(&fd)
	return w.c.Status().Patch(ctx, &fd, client.MergeFrom(before))
}

// Save records the runner's phase (chaos.Store).
func (w *statusWriter) Save(ctx context.Context, st *chaos.State) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.phase = st.Phase
	return w.patch(ctx, func(fd *v1.FailoverDrill) {
		fd.Status.Phase = phaseOf(st.Phase)
		fd.Status.DrillID = st.ID
		if !st.Injected.IsZero() {
			t := metav1.NewTime(st.Injected)
			fd.Status.InjectedTime = &t
		}
		switch st.Phase {
		case drill.Steady:
			setCondition(&fd.Status.Conditions, fd.Generation, v1.ConditionPreflightPassed, metav1.ConditionTrue, "Healthy", "the cluster is healthy and is "+st.ClusterID)
		case drill.Holding:
			// Apply returned: Chaos Mesh reported every object injected.
			b := chaosmesh.New(*st.Backend.ChaosMesh, w.c)
			objs, _ := b.Existing(ctx)
			fd.Status.ChaosObjects = objs
			setCondition(&fd.Status.Conditions, fd.Generation, v1.ConditionFaultInjected, metav1.ConditionTrue, "AllInjected", "Chaos Mesh reports the fault in place: "+st.Fault.String())
		case drill.Healing:
			if c := findCondition(fd.Status.Conditions, v1.ConditionFaultInjected); c == nil {
				setCondition(&fd.Status.Conditions, fd.Generation, v1.ConditionFaultInjected, metav1.ConditionFalse, "NotInjected", "the injection did not complete")
			}
		}
	})
}

// Remove implements chaos.Store: the status is the record and stays; the
// outcome is written when the runner returns.
func (w *statusWriter) Remove(context.Context, *chaos.State) error { return nil }

// Where implements chaos.Store.
func (w *statusWriter) Where() string { return "status of FailoverDrill " + w.key.String() }

// event takes a runner event without blocking: the latest one wins.
func (w *statusWriter) event(e drill.Event) {
	if e.Message == "" {
		return // the figures every second stay out of the API server
	}
	for {
		select {
		case w.latest <- e:
			return
		default:
			select {
			case <-w.latest:
			default:
			}
		}
	}
}

// flush writes the latest event's message, and its phase while no phase
// has been recorded past it.
func (w *statusWriter) flush() {
	defer close(w.done)
	for {
		select {
		case <-w.stopped:
			return
		case e := <-w.latest:
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			w.mu.Lock()
			// Done is the outcome's to write, with the verdict.
			forward := e.Phase.Index() > w.phase.Index() && e.Phase != drill.Done
			if forward {
				w.phase = e.Phase
			}
			_ = w.patch(ctx, func(fd *v1.FailoverDrill) {
				fd.Status.Message = e.Message
				if forward {
					fd.Status.Phase = phaseOf(e.Phase)
				}
			})
			w.mu.Unlock()
			cancel()
		}
	}
}

// stop ends the flushing; the last message may be dropped (the outcome
// replaces it).
func (w *statusWriter) stop() {
	close(w.stopped)
	<-w.done
}

func phaseOf(p drill.Phase) v1.DrillPhase { return v1.DrillPhase(p) }

func findCondition(conds []metav1.Condition, typ string) *metav1.Condition {
	for i := range conds {
		if conds[i].Type == typ {
			return &conds[i]
		}
	}
	return nil
}
