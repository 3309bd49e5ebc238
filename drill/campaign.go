package drill

import "time"

// Campaign is a campaign's record and report.
type Campaign struct {
	Tool     string          `json:"tool"`
	Version  string          `json:"version"`
	Config   string          `json:"config,omitempty"`
	Topic    string          `json:"topic"`
	Backend  string          `json:"backend"`
	Started  time.Time       `json:"started"`
	Finished time.Time       `json:"finished,omitempty"`
	Entries  []CampaignEntry `json:"entries"`
	Truth    Truth           `json:"truth"`
	// Stopped says why the campaign ended before its last drill ("" when
	// it ran them all).
	Stopped string `json:"stopped,omitempty"`
	// Baseline is the inter-DC round trips (ms, by sorted pair "a/b")
	// the latency gate waits for before each drill; empty when the gate
	// had no live latency (Notes say why).
	Baseline map[string]float64 `json:"baselineMs,omitempty"`
	Notes    []string           `json:"notes,omitempty"`
}

// CampaignEntry is one drill of a campaign.
type CampaignEntry struct {
	Fault Fault `json:"fault"`
	// Result of the drill; nil when it could not run (Error says why).
	Result *Result `json:"result,omitempty"`
	Error  string  `json:"error,omitempty"`
	// Resumed marks a drill finished by an earlier run of the campaign.
	Resumed bool `json:"resumed,omitempty"`
}

// Truth is the share of compared points that agree over the campaign.
type Truth struct {
	Points int     `json:"points"`
	Agree  int     `json:"agree"`
	Score  float64 `json:"score"`
}

// Score counts the compared points that agree.
func (c *Campaign) Score() {
	c.Truth = Truth{}
	for _, e := range c.Entries {
		if e.Result == nil {
			continue
		}
		for _, p := range e.Result.Comparison.Points {
			c.Truth.Points++
			if p.Agree {
				c.Truth.Agree++
			}
		}
	}
	if c.Truth.Points > 0 {
		c.Truth.Score = float64(c.Truth.Agree) / float64(c.Truth.Points)
	}
}

// ExitCode of a campaign: 3 when a fault was left in place, 2 when a
// drill could not run or complete, 1 when a goal was missed, else 0.
func (c *Campaign) ExitCode() int {
	code := ExitGoalsMet
	for _, e := range c.Entries {
		ec := ExitNotRun
		if e.Result != nil {
			ec = e.Result.ExitCode()
		}
		if ec == ExitNotHealed {
			return ec
		}
		// Not run (2) outranks goals missed (1).
		code = max(code, ec)
	}
	return code
}
