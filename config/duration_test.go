package config

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

func TestParseDuration(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    time.Duration
		wantErr string
	}{
		{"seconds", "30s", 30 * time.Second, ""},
		{"milliseconds", "250ms", 250 * time.Millisecond, ""},
		{"compound", "1m30s", 90 * time.Second, ""},
		{"fraction", "1.5s", 1500 * time.Millisecond, ""},
		{"negative parses, validation rejects it", "-5s", -5 * time.Second, ""},
		{"surrounding spaces", " 10s ", 10 * time.Second, ""},
		{"bare number", "30", 0, `"30" has no unit; use a unit, e.g. 30s`},
		{"bare zero", "0", 0, `"0" has no unit; use a unit, e.g. 30s`},
		{"bare float", "1.5", 0, `"1.5" has no unit; use a unit, e.g. 30s`},
		{"empty", "", 0, "empty duration; use a unit, e.g. 30s"},
		{"unknown unit", "3 days", 0, `"3 days" is not a duration; use a number with a unit, e.g. 30s or 250ms`},
		{"word", "soon", 0, `"soon" is not a duration; use a number with a unit, e.g. 30s or 250ms`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseDuration(tt.in)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("ParseDuration(%q) error = %v, want %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil || got.Duration != tt.want {
				t.Errorf("ParseDuration(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestDurationString(t *testing.T) {
	tests := []struct {
		in   time.Duration
		want string
	}{
		{0, "0s"},
		{250 * time.Millisecond, "250ms"},
		{1500 * time.Millisecond, "1.5s"},
		{time.Minute, "1m"},
		{90 * time.Second, "1m30s"},
		{time.Hour, "1h"},
		{90 * time.Minute, "1h30m"},
		{time.Hour + time.Second, "1h0m1s"},
		{-time.Minute, "-1m"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			d := Duration{tt.in}
			if got := d.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
			back, err := ParseDuration(d.String())
			if err != nil || back != d {
				t.Errorf("ParseDuration(String()) = %v, %v; want %v", back, err, d)
			}
		})
	}
}

func TestDurationYAML(t *testing.T) {
	type doc struct {
		D Duration `yaml:"d"`
	}
	tests := []struct {
		name    string
		in      string
		want    time.Duration
		wantErr string
	}{
		{"string", "d: 30s\n", 30 * time.Second, ""},
		{"quoted", "d: \"250ms\"\n", 250 * time.Millisecond, ""},
		{"null keeps value", "d: ~\n", time.Second, ""},
		{"bare integer", "d: 30\n", 0, "30 has no unit; use a unit, e.g. 30s"},
		{"bare float", "d: 0.5\n", 0, "0.5 has no unit; use a unit, e.g. 30s"},
		{"list", "d: [1s]\n", 0, "expected a duration like 30s, got a list"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := doc{D: Duration{time.Second}}
			err := yaml.Unmarshal([]byte(tt.in), &v)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Unmarshal error = %v, want containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || v.D.Duration != tt.want {
				t.Errorf("got %v, %v; want %v", v.D, err, tt.want)
			}
		})
	}
	out, err := yaml.Marshal(doc{Duration{90 * time.Second}})
	if err != nil || string(out) != "d: 1m30s\n" {
		t.Errorf("Marshal = %q, %v; want %q", out, err, "d: 1m30s\n")
	}
}

func TestDurationJSON(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    time.Duration
		wantErr string
	}{
		{"string", `"30s"`, 30 * time.Second, ""},
		{"null keeps value", `null`, time.Second, ""},
		{"number", `30`, 0, "use a unit"},
		{"bare number string", `"30"`, 0, "use a unit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Duration{time.Second}
			err := json.Unmarshal([]byte(tt.in), &d)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Unmarshal error = %v, want containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || d.Duration != tt.want {
				t.Errorf("got %v, %v; want %v", d, err, tt.want)
			}
		})
	}
	out, err := json.Marshal(struct {
		D Duration `json:"d"`
	}{Duration{250 * time.Millisecond}})
	if err != nil || string(out) != `{"d":"250ms"}` {
		t.Errorf("Marshal = %s, %v; want %s", out, err, `{"d":"250ms"}`)
	}
}
