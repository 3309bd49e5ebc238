package chaos

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/stretchctl/stretchctl/lab"
)

func init() {
	restorers["lab"] = func(s Spec) (Backend, error) { return NewLab(s.Lab.Dir) }
}

// LabBackend injects faults into the local lab (stretchctl lab).
type LabBackend struct {
	l *lab.Lab
	// HealWait bounds the wait for every broker to register again after
	// a heal (lab.Heal).
	HealWait time.Duration
}

// NewLab opens the lab in dir; it must be up.
func NewLab(dir string) (*LabBackend, error) {
	l := &lab.Lab{Dir: dir}
	if _, err := l.State(); err != nil {
		return nil, fmt.Errorf("lab in %s: %w", dir, err)
	}
	return &LabBackend{l: l, HealWait: 2 * time.Minute}, nil
}

// Name implements Backend.
func (b *LabBackend) Name() string { return "lab" }

// Spec implements Backend.
func (b *LabBackend) Spec() Spec { return Spec{Lab: &LabSpec{Dir: b.l.Dir}} }

// Lab is the lab this backend drives.
func (b *LabBackend) Lab() *lab.Lab { return b.l }

// Apply implements Backend.
func (b *LabBackend) Apply(ctx context.Context, f Fault) error {
	if err := f.Validate(); err != nil {
		return err
	}
	switch f.Kind {
	case Kill, Freeze, Isolate:
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
func (b *LabBackend) linkSpec(f Fault) (string, error) {
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
		if f.Kind == Loss {
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
func (b *LabBackend) Recover(ctx context.Context, f Fault) error {
	_, err := b.l.Heal(ctx, f.DC, b.HealWait)
	if err != nil {
		return fmt.Errorf("lab heal %s: %w (run `stretchctl lab heal --dir %s`)", f.DC, err, b.l.Dir)
	}
	return nil
}
