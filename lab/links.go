package lab

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/stretchctl/stretchctl/lab/wan"
)

// Default round trips of the lab's links: a metro-area stretch between DCs
// and a nearby operator site.
const (
	DefaultDCRoundTrip  = 4 * time.Millisecond
	DefaultOpsRoundTrip = 1 * time.Millisecond
)

// LinkRule changes one link, or both directions of a pair.
//
// Spec syntax, items separated by commas:
//
//	dc-a/dc-b=20ms   both directions; for latency the value is the round
//	                 trip, split evenly between the two directions
//	dc-a>dc-b=15ms   one direction; for latency the value is the one-way delay
//	dc-a/dc-b        (block) cut both directions; dc-a>dc-b cuts one
//
// Loss values are percentages: "5%" or "5".
type LinkRule struct {
	From string `json:"from"`
	To   string `json:"to"`
	// Both means the rule covers From->To and To->From.
	Both bool `json:"both"`
	// Delay is the one-way delay for latency rules.
	Delay time.Duration `json:"delay,omitempty"`
	// Loss is a percentage for loss rules.
	Loss float64 `json:"loss,omitempty"`
}

// pair renders the rule's link in spec syntax.
func (r LinkRule) pair() string {
	if r.Both {
		return r.From + "/" + r.To
	}
	return r.From + ">" + r.To
}

// Touches reports whether the rule involves site s.
func (r LinkRule) Touches(s string) bool { return r.From == s || r.To == s }

// ParseLinkSpec parses a spec for kind (latency, loss or block) against the
// known sites. The error names the offending item.
func ParseLinkSpec(kind FaultKind, spec string, sites []string) ([]LinkRule, error) {
	if strings.TrimSpace(spec) == "" {
		return nil, fmt.Errorf("empty %s spec: want e.g. %s", kind, specExample(kind))
	}
	var out []LinkRule
	for _, item := range strings.Split(spec, ",") {
		item = strings.TrimSpace(item)
		r, err := parseLinkItem(kind, item, sites)
		if err != nil {
			return nil, fmt.Errorf("%s spec item %q: %w (want e.g. %s)", kind, item, err, specExample(kind))
		}
		out = append(out, r)
	}
	return out, nil
}

func specExample(kind FaultKind) string {
	switch kind {
	case FaultLatency:
		return "dc-a/dc-b=20ms,dc-a>dc-c=15ms"
	case FaultLoss:
		return "dc-a/dc-b=5%"
	default:
		return "dc-a/dc-b or dc-a>dc-b"
	}
}

func parseLinkItem(kind FaultKind, item string, sites []string) (LinkRule, error) {
	pair, value, hasValue := strings.Cut(item, "=")
	var r LinkRule
	var ok bool
	if r.From, r.To, ok = strings.Cut(pair, "/"); ok {
		r.Both = true
	} else if r.From, r.To, ok = strings.Cut(pair, ">"); !ok {
		return r, fmt.Errorf("missing link: use A/B for both directions or A>B for one")
	}
	for _, s := range []string{r.From, r.To} {
		if !slices.Contains(sites, s) {
			return r, fmt.Errorf("unknown site %q (known: %s)", s, strings.Join(sites, ", "))
		}
	}
	if r.From == r.To {
		return r, fmt.Errorf("a site has no link to itself")
	}
	switch kind {
	case FaultBlock:
		if hasValue {
			return r, fmt.Errorf("block takes no value")
		}
	case FaultLatency:
		d, err := time.ParseDuration(value)
		if !hasValue || err != nil || d < 0 || d > time.Minute {
			return r, fmt.Errorf("latency %q is not a duration between 0 and 1m", value)
		}
		if r.Both {
			d /= 2
		}
		r.Delay = d
	case FaultLoss:
		p, err := strconv.ParseFloat(strings.TrimSuffix(value, "%"), 64)
		if !hasValue || err != nil || p < 0 || p > 100 {
			return r, fmt.Errorf("loss %q is not a percentage between 0 and 100", value)
		}
		r.Loss = p
	default:
		return r, fmt.Errorf("%s is not a link fault", kind)
	}
	return r, nil
}

// linkTable is the state of every directed link between sites.
type linkTable map[[2]string]wan.Link

func (t linkTable) each(r LinkRule, f func(*wan.Link)) {
	dirs := [][2]string{{r.From, r.To}}
	if r.Both {
		dirs = append(dirs, [2]string{r.To, r.From})
	}
	for _, d := range dirs {
		l := t[d]
		f(&l)
		t[d] = l
	}
}

// baseline builds the links of a new lab: defaults, then the user's
// latency rules.
func baseline(sites []string, rules []LinkRule) linkTable {
	t := linkTable{}
	for _, a := range sites {
		for _, b := range sites {
			if a == b {
				continue
			}
			rtt := DefaultDCRoundTrip
			if a == OpsSite || b == OpsSite {
				rtt = DefaultOpsRoundTrip
			}
			t[[2]string{a, b}] = wan.Link{From: a, To: b, Delay: rtt / 2}
		}
	}
	for _, r := range rules {
		t.each(r, func(l *wan.Link) { l.Delay = r.Delay })
	}
	return t
}

// effective applies faults to the baseline.
func effective(base []wan.Link, faults []Fault) []wan.Link {
	t := linkTable{}
	for _, l := range base {
		t[[2]string{l.From, l.To}] = l
	}
	for _, f := range faults {
		switch f.Kind {
		case FaultLatency:
			t.each(f.Link, func(l *wan.Link) { l.Delay = f.Link.Delay })
		case FaultLoss:
			t.each(f.Link, func(l *wan.Link) { l.Loss = f.Link.Loss })
		case FaultBlock:
			t.each(f.Link, func(l *wan.Link) { l.Blocked = true })
		case FaultIsolate:
			for k, l := range t {
				if k[0] == f.DC || k[1] == f.DC {
					l.Blocked = true
					t[k] = l
				}
			}
		}
	}
	return t.list()
}

func (t linkTable) list() []wan.Link {
	out := make([]wan.Link, 0, len(t))
	for _, l := range t {
		out = append(out, l)
	}
	wan.SortLinks(out)
	return out
}
