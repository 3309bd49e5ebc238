package drill

import (
	"strings"
	"testing"
	"time"
)

func TestFaultValidate(t *testing.T) {
	good := []Fault{
		{Kind: Crash, DC: "dc-a"}, {Kind: Isolate, DC: "dc-a", Duration: time.Minute},
		{Kind: Latency, DC: "dc-a", Peer: "dc-b", Delay: 50 * time.Millisecond}, {Kind: Loss, DC: "dc-a", LossPercent: 100},
	}
	for _, f := range good {
		if err := f.Validate(); err != nil {
			t.Errorf("%v: %v", f, err)
		}
	}
	bad := map[string]Fault{
		"unknown fault":   {Kind: "melt", DC: "dc-a"},
		"needs a DC":      {Kind: Crash},
		"two DCs":         {Kind: Latency, DC: "dc-a", Peer: "dc-a", Delay: time.Millisecond},
		"positive delay":  {Kind: Latency, DC: "dc-a"},
		"at most 100":     {Kind: Loss, DC: "dc-a", LossPercent: 101},
		"takes only a DC": {Kind: Crash, DC: "dc-a", Delay: time.Second},
		"must not be neg": {Kind: Freeze, DC: "dc-a", Duration: -time.Second},
	}
	for want, f := range bad {
		if err := f.Validate(); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%+v: %v, want an error saying %q", f, err, want)
		}
	}
	if got := (Fault{Kind: Latency, DC: "dc-a", Peer: "dc-b", Delay: 50 * time.Millisecond}).String(); got != "latency dc-a/dc-b +50ms" {
		t.Errorf("String = %q", got)
	}
}
