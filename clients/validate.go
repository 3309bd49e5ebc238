package clients

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/stretchctl/stretchctl/topology"
)

// A value the library refuses (acks=banana, retries=-1,
// enable.idempotence=maybe) means the application does not start: it is
// reported with its line and never used — the setting holds the library's
// default, so that no prediction is shaped by a value no client runs
// with. The checks are those of the Java client's ConfigDef (ProducerConfig,
// ConsumerConfig: ValidString, Range.atLeast, boolean types), which the
// other libraries' mappings follow.

// enums are the settings with a fixed set of values.
var enums = map[string][]string{
	"acks":              {"all", "-1", "0", "1"},
	"auto.offset.reset": {"earliest", "latest", "none"},
	"isolation.level":   {"read_committed", "read_uncommitted"},
	"group.protocol":    {"classic", "consumer"},
	"compression.type":  {"none", "gzip", "snappy", "lz4", "zstd"},
}

// booleans are the settings that take true or false.
var booleans = []string{"enable.idempotence", "enable.auto.commit", "allow.auto.create.topics"}

// atLeast are the integer settings and their smallest value.
var atLeast = map[string]int64{
	"retries": 0, "delivery.timeout.ms": 0, "request.timeout.ms": 0, "linger.ms": 0, "retry.backoff.ms": 0,
	"retry.backoff.max.ms": 0, "session.timeout.ms": 0, "heartbeat.interval.ms": 0, "max.poll.interval.ms": 1,
	"auto.commit.interval.ms": 0, "transaction.timeout.ms": 0, "metadata.max.age.ms": 0, "max.block.ms": 0,
	"socket.connection.setup.timeout.ms": 0, "max.in.flight.requests.per.connection": 1, "batch.size": 0,
	"fetch.max.wait.ms": 0, "fetch.min.bytes": 0, "max.poll.records": 1,
}

// invalid says why value is not one the library takes for name ("" when
// it is, or when name is not checked).
func invalid(name, value string) string {
	v := strings.TrimSpace(value)
	if vals, ok := enums[name]; ok {
		if !slices.Contains(vals, strings.ToLower(v)) {
			return fmt.Sprintf("%s=%q: the client takes only %s", name, value, strings.Join(vals, ", "))
		}
		return ""
	}
	if slices.Contains(booleans, name) {
		if !strings.EqualFold(v, "true") && !strings.EqualFold(v, "false") {
			return fmt.Sprintf("%s=%q: the client takes only true or false", name, value)
		}
		return ""
	}
	if lo, ok := atLeast[name]; ok {
		n, err := strconv.ParseInt(v, 10, 64)
		switch {
		case err != nil:
			return fmt.Sprintf("%s=%q: not an integer", name, value)
		case n < lo:
			return fmt.Sprintf("%s=%d: the client takes %d or more", name, n, lo)
		}
	}
	return ""
}

// refuseInvalid replaces every explicit setting whose value the library
// refuses with the library's default and returns the problems.
func refuseInvalid(s topology.Settings, defaults func() topology.Settings) []topology.SettingProblem {
	var out []topology.SettingProblem
	for _, name := range slices.Sorted(maps.Keys(s)) {
		st := s[name]
		if !st.Explicit() || st.Value == redacted {
			continue
		}
		why := invalid(name, st.Value)
		if why == "" {
			continue
		}
		out = append(out, topology.SettingProblem{Key: cmp.Or(st.Key, name), Line: st.Line, Refused: true,
			Message: why + ": the application would not start (the library's default is used in its place)"})
		def, ok := defaults()[name]
		if !ok {
			delete(s, name)
			continue
		}
		def.Default = fmt.Sprintf("%s; the file's %q on line %d is invalid", def.Default, st.Value, st.Line)
		s[name] = def
	}
	return out
}
