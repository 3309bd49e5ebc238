package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchctl/stretchctl/drill"
)

// testCampaign has a passing drill, a failing one (its prediction
// disagrees), one that could not run, and a stop.
func testCampaign() *drill.Campaign {
	failed := failResult()
	failed.Healed = true
	c := &drill.Campaign{Tool: "stretchctl", Version: "test", Topic: "drill", Backend: "lab", Started: drillStart,
		Entries: []drill.CampaignEntry{
			{Fault: readsResult().Fault, Result: readsResult()},
			{Fault: failed.Fault, Result: failed, Resumed: true},
			{Fault: drill.Fault{Kind: drill.Isolate, DC: "dc-c"}, Error: "health gate: the quorum has no leader"},
		},
		Stopped:  "the cluster did not become healthy before isolate dc-c",
		Baseline: map[string]float64{"dc-a/dc-b": 10.2, "dc-a/dc-c": 20.4},
		Notes:    []string{"a note"}}
	c.Score()
	return c
}

func TestCampaignGolden(t *testing.T) {
	for _, ff := range []struct {
		f   Format
		ext string
	}{{Text, "txt"}, {Markdown, "md"}, {HTML, "html"}} {
		t.Run(string(ff.f), func(t *testing.T) {
			var b bytes.Buffer
			if err := WriteCampaign(&b, testCampaign(), ff.f, Options{}); err != nil {
				t.Fatal(err)
			}
			assertGolden(t, fmt.Sprintf("campaign.%s", ff.ext), b.Bytes())
		})
	}
}

// TestCampaignTruth: the score counts every compared point of every
// drill that ran, and the headline and exit code rank not-run above
// goals missed.
func TestCampaignTruth(t *testing.T) {
	c := testCampaign()
	points, agree := 0, 0
	for _, r := range []*drill.Result{readsResult(), failResult()} {
		for _, p := range r.Comparison.Points {
			points++
			if p.Agree {
				agree++
			}
		}
	}
	if c.Truth.Points != points || c.Truth.Agree != agree || points == 0 || agree == points {
		t.Fatalf("truth %+v, want %d of %d (and some disagreeing)", c.Truth, agree, points)
	}
	if c.ExitCode() != drill.ExitNotRun || campaignHeadline(c) != "INCOMPLETE" {
		t.Errorf("exit %d headline %s", c.ExitCode(), campaignHeadline(c))
	}
	var b bytes.Buffer
	if err := WriteCampaign(&b, c, JSON, Options{}); err != nil {
		t.Fatal(err)
	}
	var back drill.Campaign
	if err := json.Unmarshal(b.Bytes(), &back); err != nil || len(back.Entries) != 3 || back.Truth != c.Truth {
		t.Errorf("JSON round trip: %v %+v", err, back.Truth)
	}
	html := new(bytes.Buffer)
	if err := WriteCampaign(html, c, HTML, Options{}); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(html.String(), "<svg"); n != 2 {
		t.Errorf("%d timelines in the HTML, want one per drill that ran", n)
	}
}
