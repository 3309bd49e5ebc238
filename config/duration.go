package config

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Duration is a time.Duration written as a string with a unit ("30s",
// "250ms") in YAML and JSON; a bare number is rejected.
//
// +kubebuilder:validation:Type=string
// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$`
type Duration struct {
	time.Duration
}

// String formats d like time.Duration.String but drops zero trailing units ("1m" instead of "1m0s").
func (d Duration) String() string {
	s := d.Duration.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// ParseDuration parses a duration string with a unit such as "30s" or "1m30s"; bare numbers are an error.
func ParseDuration(s string) (Duration, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return Duration{}, fmt.Errorf("empty duration; use a unit, e.g. 30s")
	}
	if _, err := strconv.ParseFloat(t, 64); err == nil {
		return Duration{}, fmt.Errorf("%q has no unit; use a unit, e.g. 30s", s)
	}
	d, err := time.ParseDuration(t)
	if err != nil {
		return Duration{}, fmt.Errorf("%q is not a duration; use a number with a unit, e.g. 30s or 250ms", s)
	}
	return Duration{d}, nil
}

// MarshalJSON encodes d as a JSON string such as "30s".
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(d.String())
}

// UnmarshalJSON decodes a JSON string such as "30s"; null leaves d unchanged.
func (d *Duration) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		var n json.Number
		if json.Unmarshal(b, &n) == nil {
			return fmt.Errorf("%s has no unit; use a unit, e.g. \"30s\"", n)
		}
		return fmt.Errorf("duration must be a string like \"30s\", got %s", clip(string(b)))
	}
	v, err := ParseDuration(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// MarshalYAML encodes d as a YAML string such as 30s.
func (d Duration) MarshalYAML() (any, error) {
	return d.String(), nil
}

// UnmarshalYAML decodes a YAML scalar such as 30s; null leaves d unchanged.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, msg := durationFromNode(n)
	if msg != "" {
		return fmt.Errorf("line %d: %s", n.Line, msg)
	}
	if v != nil {
		*d = *v
	}
	return nil
}

// durationFromNode decodes a (dereferenced) scalar node; it returns nil, ""
// for null and a message for anything that is not a duration with a unit.
func durationFromNode(n *yaml.Node) (*Duration, string) {
	if n.Kind != yaml.ScalarNode {
		return nil, "expected a duration like 30s, got " + describe(n)
	}
	switch n.ShortTag() {
	case "!!null":
		return nil, ""
	case "!!int", "!!float":
		return nil, fmt.Sprintf("%s has no unit; use a unit, e.g. 30s", n.Value)
	case "!!str":
	default:
		return nil, "expected a duration like 30s, got " + describe(n)
	}
	d, err := ParseDuration(n.Value)
	if err != nil {
		return nil, err.Error()
	}
	return &d, ""
}

// IsZero reports a zero duration (yaml's omitempty asks).
func (d Duration) IsZero() bool { return d.Duration == 0 }
