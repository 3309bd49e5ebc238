// Package labbackend injects a drill's faults into the local lab: kill,
// freeze and isolate a DC, latency and loss on its links, through the
// lab's own fault and heal operations. It also places a drill's clients
// inside a DC (its network namespace), so a workload there is cut off
// with the DC.
//
// It never touches a cluster other than the lab in its directory, and it
// never tells the user which command to run: its errors say what is left.
package labbackend

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"github.com/stretchctl/stretchctl/drill"
	"github.com/stretchctl/stretchctl/lab"
)

var (
	_ drill.Backend = (*Backend)(nil)
	_ drill.Placer  = (*Backend)(nil)
)

// Backend injects faults into the local lab (stretchctl lab).
type Backend struct {
	l *lab.Lab
	// HealWait bounds the wait for every broker to register again after
	// a heal (lab.Heal).
	HealWait time.Duration
}

// New opens the lab in dir; it must be up.
func New(dir string) (*Backend, error) {
	l := &lab.Lab{Dir: dir}
	if _, err := l.State(); err != nil {
		return nil, fmt.Errorf("lab in %s: %w", dir, err)
	}
	return &Backend{l: l, HealWait: 2 * time.Minute}, nil
}

// Name implements Backend.
func (b *Backend) Name() string { return "lab" }

// Spec implements Backend.
func (b *Backend) Spec() drill.Spec { return drill.Spec{Lab: &drill.LabSpec{Dir: b.l.Dir}} }

// Lab is the lab this backend drives.
func (b *Backend) Lab() *lab.Lab { return b.l }

// PlaceIn implements drill.Placer: connections start in dc's network
// namespace, processes are started there.
func (b *Backend) PlaceIn(dc string) (drill.Placement, error) {
	d, err := b.l.DialContext(dc)
	if err != nil {
		return drill.Placement{}, err
	}
	return drill.Placement{Dial: d, Start: func(cmd *exec.Cmd) error { return b.l.StartIn(dc, cmd) }}, nil
}

// Apply implements Backend.
func (b *Backend) Apply(ctx context.Context, f drill.Fault) error {
	if err := f.Validate(); err != nil {
		return err
	}
	switch f.Kind {
	case drill.Crash:
		_, err := b.l.Inject(ctx, lab.FaultKill, f.DC)
		return err
	case drill.Lose, drill.Freeze, drill.Isolate:
		_, err := b.l.Inject(ctx, lab.FaultKind(f.Kind), f.DC)
		return err
	}
	spec, err := b.linkSpec(f)
	if err != nil {
		return err
	}
	_, err = b.l.Inject(ctx, lab.FaultKind(f.Kind), spec)
	return err
}

// linkSpec turns a latency or loss fault into the lab's link spec: the
// delay is added to each link's baseline (half each way).
func (b *Backend) linkSpec(f drill.Fault) (string, error) {
	st, err := b.l.State()
	if err != nil {
		return "", err
	}
	peers := []string{f.Peer}
	if f.Peer == "" {
		peers = nil
		for _, dc := range st.Layout.DCs {
			if dc != f.DC {
				peers = append(peers, dc)
			}
		}
	}
	var items []string
	for _, p := range peers {
		if f.Kind == drill.Loss {
			items = append(items, fmt.Sprintf("%s/%s=%g%%", f.DC, p, f.LossPercent))
			continue
		}
		for _, dir := range [][2]string{{f.DC, p}, {p, f.DC}} {
			base := time.Duration(0)
			for _, l := range st.Baseline {
				if l.From == dir[0] && l.To == dir[1] {
					base = l.Delay
				}
			}
			items = append(items, fmt.Sprintf("%s>%s=%s", dir[0], dir[1], base+f.Delay/2))
		}
	}
	if len(items) == 0 {
		return "", errors.New("no link to degrade: the lab has one DC")
	}
	return strings.Join(items, ","), nil
}

// Recover implements Backend: every fault touching the DC is healed and
// the brokers are waited for.
func (b *Backend) Recover(ctx context.Context, f drill.Fault) error {
	_, err := b.l.Heal(ctx, f.DC, b.HealWait)
	if err != nil {
		return fmt.Errorf("lab heal %s in %s: %w", f.DC, b.l.Dir, err)
	}
	return nil
}
