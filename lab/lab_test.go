package lab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/magiconair/properties"

	"github.com/stretchctl/stretchctl/lab/wan"
)

func TestBuildLayout(t *testing.T) {
	tests := []struct {
		topo  Topology
		perDC int
		// want lists "id:dc:roles" for every node.
		want string
	}{
		{Topology25DC, 2, "1:dc-a:broker+controller 2:dc-a:broker 3:dc-b:broker+controller 4:dc-b:broker 5:dc-c:controller"},
		{Topology25DC, 1, "1:dc-a:broker+controller 2:dc-b:broker+controller 3:dc-c:controller"},
		{Topology3DC, 1, "1:dc-a:broker+controller 2:dc-b:broker+controller 3:dc-c:broker+controller"},
		{Topology2DC, 2, "1:dc-a:broker+controller 2:dc-a:broker+controller 3:dc-b:broker+controller 4:dc-b:broker"},
		{Topology2DC, 1, "1:dc-a:broker+controller 2:dc-a:controller 3:dc-b:broker+controller"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%d", tt.topo, tt.perDC), func(t *testing.T) {
			l, err := BuildLayout(tt.topo, tt.perDC)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, n := range l.Nodes {
				got = append(got, fmt.Sprintf("%d:%s:%s", n.ID, n.DC, n.RoleString()))
			}
			if g := strings.Join(got, " "); g != tt.want {
				t.Errorf("layout = %s\nwant     %s", g, tt.want)
			}
			if v := len(l.Voters()); v%2 == 0 {
				t.Errorf("%d voters: a quorum needs an odd count", v)
			}
		})
	}
	for _, bad := range []struct {
		topo  Topology
		perDC int
		want  string
	}{
		{"4dc", 1, `unknown topology "4dc"`},
		{Topology3DC, 0, "between 1 and 9"},
		{Topology3DC, 10, "between 1 and 9"},
	} {
		if _, err := BuildLayout(bad.topo, bad.perDC); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("BuildLayout(%q, %d) error = %v, want %q", bad.topo, bad.perDC, err, bad.want)
		}
	}
}

func TestParseLinkSpec(t *testing.T) {
	sites := []string{"ops", "dc-a", "dc-b", "dc-c"}
	tests := []struct {
		name    string
		kind    FaultKind
		spec    string
		want    []LinkRule
		wantErr string
	}{
		{name: "round trip split in two", kind: FaultLatency, spec: "dc-a/dc-b=20ms",
			want: []LinkRule{{From: "dc-a", To: "dc-b", Both: true, Delay: 10 * time.Millisecond}}},
		{name: "one way is one-way delay", kind: FaultLatency, spec: "dc-a>dc-c=15ms",
			want: []LinkRule{{From: "dc-a", To: "dc-c", Delay: 15 * time.Millisecond}}},
		{name: "several items with spaces", kind: FaultLatency, spec: "dc-a/dc-b=2ms, ops/dc-c=4ms",
			want: []LinkRule{{From: "dc-a", To: "dc-b", Both: true, Delay: time.Millisecond}, {From: "ops", To: "dc-c", Both: true, Delay: 2 * time.Millisecond}}},
		{name: "loss with percent", kind: FaultLoss, spec: "dc-b/dc-c=2.5%",
			want: []LinkRule{{From: "dc-b", To: "dc-c", Both: true, Loss: 2.5}}},
		{name: "loss without percent", kind: FaultLoss, spec: "dc-b>dc-c=7",
			want: []LinkRule{{From: "dc-b", To: "dc-c", Loss: 7}}},
		{name: "block", kind: FaultBlock, spec: "dc-a>dc-b",
			want: []LinkRule{{From: "dc-a", To: "dc-b"}}},
		{name: "empty", kind: FaultLatency, spec: " ", wantErr: "empty latency spec"},
		{name: "no separator", kind: FaultLatency, spec: "dc-a-dc-b=5ms", wantErr: "missing link"},
		{name: "unknown site", kind: FaultLatency, spec: "dc-a/dc-x=5ms", wantErr: `unknown site "dc-x"`},
		{name: "self link", kind: FaultLatency, spec: "dc-a/dc-a=5ms", wantErr: "no link to itself"},
		{name: "bad duration", kind: FaultLatency, spec: "dc-a/dc-b=5", wantErr: `latency "5" is not a duration`},
		{name: "negative duration", kind: FaultLatency, spec: "dc-a/dc-b=-5ms", wantErr: "between 0 and 1m"},
		{name: "missing value", kind: FaultLatency, spec: "dc-a/dc-b", wantErr: `latency "" is not a duration`},
		{name: "loss over 100", kind: FaultLoss, spec: "dc-a/dc-b=101%", wantErr: "between 0 and 100"},
		{name: "block with value", kind: FaultBlock, spec: "dc-a/dc-b=1", wantErr: "block takes no value"},
		{name: "one bad item spoils all", kind: FaultLatency, spec: "dc-a/dc-b=5ms,dc-a/dc-q=5ms", wantErr: `item "dc-a/dc-q=5ms"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseLinkSpec(tt.kind, tt.spec, sites)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func FuzzParseLinkSpec(f *testing.F) {
	for _, s := range []string{"dc-a/dc-b=20ms", "dc-a>dc-b=5%", "ops/dc-c", "a/b=,", "dc-a/dc-b=1m1s,dc-b>dc-a=0"} {
		f.Add(s)
	}
	sites := []string{"ops", "dc-a", "dc-b"}
	f.Fuzz(func(t *testing.T, spec string) {
		for _, kind := range []FaultKind{FaultLatency, FaultLoss, FaultBlock} {
			rules, err := ParseLinkSpec(kind, spec, sites)
			if err != nil {
				continue
			}
			for _, r := range rules {
				if r.From == r.To || r.Delay < 0 || r.Loss < 0 || r.Loss > 100 {
					t.Fatalf("%s %q accepted an invalid rule %+v", kind, spec, r)
				}
			}
		}
	})
}

func TestEffectiveLinks(t *testing.T) {
	sites := []string{"ops", "dc-a", "dc-b"}
	base := baseline(sites, []LinkRule{{From: "dc-a", To: "dc-b", Both: true, Delay: 10 * time.Millisecond}}).list()
	find := func(ls []wan.Link, from, to string) wan.Link {
		for _, l := range ls {
			if l.From == from && l.To == to {
				return l
			}
		}
		t.Fatalf("no link %s>%s", from, to)
		return wan.Link{}
	}
	if got := find(base, "ops", "dc-a").Delay; got != DefaultOpsRoundTrip/2 {
		t.Errorf("ops>dc-a baseline = %v, want %v", got, DefaultOpsRoundTrip/2)
	}
	if got := len(base); got != 6 {
		t.Errorf("%d links, want 6 (every ordered pair of 3 sites)", got)
	}
	faults := []Fault{
		{Kind: FaultLatency, Link: LinkRule{From: "dc-a", To: "dc-b", Delay: 40 * time.Millisecond}},
		{Kind: FaultLoss, Link: LinkRule{From: "dc-b", To: "ops", Both: true, Loss: 5}},
		{Kind: FaultIsolate, DC: "dc-a"},
	}
	eff := effective(base, faults)
	tests := []struct {
		from, to string
		want     wan.Link
	}{
		{"dc-a", "dc-b", wan.Link{From: "dc-a", To: "dc-b", Delay: 40 * time.Millisecond, Blocked: true}},
		{"dc-b", "dc-a", wan.Link{From: "dc-b", To: "dc-a", Delay: 10 * time.Millisecond, Blocked: true}},
		{"ops", "dc-a", wan.Link{From: "ops", To: "dc-a", Delay: DefaultOpsRoundTrip / 2, Blocked: true}},
		{"dc-b", "ops", wan.Link{From: "dc-b", To: "ops", Delay: DefaultOpsRoundTrip / 2, Loss: 5}},
		{"ops", "dc-b", wan.Link{From: "ops", To: "dc-b", Delay: DefaultOpsRoundTrip / 2, Loss: 5}},
	}
	for _, tt := range tests {
		if got := find(eff, tt.from, tt.to); got != tt.want {
			t.Errorf("%s>%s = %+v, want %+v", tt.from, tt.to, got, tt.want)
		}
	}
	// Faults never change the baseline they are applied to.
	if got := find(base, "dc-a", "dc-b"); got.Blocked || got.Delay != 10*time.Millisecond {
		t.Errorf("baseline changed: %+v", got)
	}
}

func TestFaultTouchesAndString(t *testing.T) {
	tests := []struct {
		f       Fault
		str     string
		touches []string
		spares  []string
	}{
		{Fault{Kind: FaultKill, DC: "dc-a"}, "kill dc-a", []string{"dc-a"}, []string{"dc-b", "ops"}},
		{Fault{Kind: FaultLatency, Link: LinkRule{From: "dc-a", To: "dc-b", Both: true, Delay: 10 * time.Millisecond}}, "latency dc-a/dc-b=20ms", []string{"dc-a", "dc-b"}, []string{"dc-c"}},
		{Fault{Kind: FaultLoss, Link: LinkRule{From: "dc-b", To: "dc-c", Loss: 3}}, "loss dc-b>dc-c=3%", []string{"dc-b", "dc-c"}, []string{"dc-a"}},
		{Fault{Kind: FaultBlock, Link: LinkRule{From: "ops", To: "dc-c", Both: true}}, "block ops/dc-c", []string{"dc-c"}, []string{"dc-a"}},
	}
	for _, tt := range tests {
		if got := tt.f.String(); got != tt.str {
			t.Errorf("String() = %q, want %q", got, tt.str)
		}
		for _, dc := range tt.touches {
			if !tt.f.touches(dc) {
				t.Errorf("%s: healing %s should clear it", tt.str, dc)
			}
		}
		for _, dc := range tt.spares {
			if tt.f.touches(dc) {
				t.Errorf("%s: healing %s should not clear it", tt.str, dc)
			}
		}
	}
}

func TestAddressing(t *testing.T) {
	seen := map[netip.Prefix]int{}
	for slot := 0; slot < maxSlots; slot++ {
		p := slotPrefix(slot)
		if !labBlock.Contains(p.Addr()) || !labBlock.Contains(lastAddr(p)) {
			t.Fatalf("slot %d prefix %v leaves the benchmark range %v", slot, p, labBlock)
		}
		if other, dup := seen[p]; dup {
			t.Fatalf("slots %d and %d share %v", other, slot, p)
		}
		seen[p] = slot
		for site := 0; site < 16; site++ {
			if s := siteSubnet(slot, site); !p.Contains(s.Addr()) {
				t.Fatalf("slot %d site %d subnet %v outside %v", slot, site, s, p)
			}
		}
	}
	if got := siteAddr(1, 2, 13).String(); got != "198.18.18.13" {
		t.Errorf("siteAddr(1, 2, 13) = %s, want 198.18.18.13", got)
	}
	if got := slotPrefix(31).String(); got != "198.19.240.0/20" {
		t.Errorf("slotPrefix(31) = %s, want 198.19.240.0/20", got)
	}
}

func lastAddr(p netip.Prefix) netip.Addr {
	a := p.Addr().As4()
	host := uint32(1)<<(32-p.Bits()) - 1
	v := (uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])) | host
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

func TestServerProperties(t *testing.T) {
	l, err := BuildLayout(Topology25DC, 2)
	if err != nil {
		t.Fatal(err)
	}
	st := &State{Slot: 0, Network: NetworkNamespaces, Layout: l}
	st.assignAddresses()
	get := func(id int32) *properties.Properties {
		var buf bytes.Buffer
		if _, err := serverProperties(st, *st.node(id), "/data", "").Write(&buf, properties.UTF8); err != nil {
			t.Fatal(err)
		}
		return properties.MustLoadString(buf.String())
	}
	tests := []struct {
		id   int32
		key  string
		want string
	}{
		{1, "process.roles", "broker,controller"},
		{1, "broker.rack", "dc-a"},
		{1, "listeners", "PLAINTEXT://198.18.1.11:9092,CONTROLLER://198.18.1.11:9093"},
		{1, "controller.quorum.voters", "1@198.18.1.11:9093,3@198.18.2.13:9093,5@198.18.3.15:9093"},
		{2, "process.roles", "broker"},
		{4, "broker.rack", "dc-b"},
		{4, "advertised.listeners", "PLAINTEXT://198.18.2.14:9092"},
		{5, "process.roles", "controller"},
		{5, "listeners", "CONTROLLER://198.18.3.15:9093"},
		{5, "broker.rack", ""},
		{3, "offsets.topic.replication.factor", "3"},
	}
	for _, tt := range tests {
		if got := get(tt.id).GetString(tt.key, ""); got != tt.want {
			t.Errorf("node %d %s = %q, want %q", tt.id, tt.key, got, tt.want)
		}
	}
}

func TestProcState(t *testing.T) {
	if got := procState(0, ""); got != ProcDown {
		t.Errorf("pid 0: %s, want down", got)
	}
	self := procState(os.Getpid(), "")
	if self != ProcUp {
		t.Errorf("own process: %s, want up", self)
	}
	if got := procState(os.Getpid(), "-Dstretchctl.lab=/nowhere\x00"); got != ProcDown {
		t.Errorf("own process with a foreign marker: %s, want down (pid reuse guard)", got)
	}
}

func TestClusterIDNeverStartsWithDash(t *testing.T) {
	for i := 0; i < 2000; i++ {
		id := newClusterID()
		if len(id) != 22 || id[0] == '-' {
			t.Fatalf("cluster id %q: want 22 characters, not starting with '-'", id)
		}
	}
}

// A directory without the lab's state file holds no lab: lab down, fault
// and heal leave every file in it as it was and make none (issue 15:
// `lab down --dir .` in a project directory deleted its stretch.yaml).
func TestCommandsLeaveANonLabDirectoryAlone(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{"stretch.yaml": "cluster: {}\n", "router.json": "{}", "router.log": "x", "nodes/1/server.properties": "a=b"}
	for name, body := range files {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	l := &Lab{Dir: dir}
	removed, err := l.Down(context.Background())
	if err != nil || len(removed) != 0 {
		t.Errorf("down: removed %v, %v; want nothing", removed, err)
	}
	if _, err := l.Inject(context.Background(), FaultKill, "dc-a"); !errors.Is(err, ErrNoLab) {
		t.Errorf("fault: %v, want ErrNoLab", err)
	}
	if _, err := l.Heal(context.Background(), "", time.Second); !errors.Is(err, ErrNoLab) {
		t.Errorf("heal: %v, want ErrNoLab", err)
	}
	for name, body := range files {
		if b, err := os.ReadFile(filepath.Join(dir, name)); err != nil || string(b) != body {
			t.Errorf("%s: %q, %v; want it untouched", name, b, err)
		}
	}
	if exists(filepath.Join(dir, "lock")) {
		t.Error("a lock file was left in a directory without a lab")
	}
	// A directory that does not exist is not made.
	gone := filepath.Join(dir, "nope")
	if _, err := (&Lab{Dir: gone}).Down(context.Background()); err != nil || exists(gone) {
		t.Errorf("down on a missing directory: %v, exists %v", err, exists(gone))
	}
}
