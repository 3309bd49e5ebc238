package clients

import (
	"strings"
	"testing"

	"github.com/magiconair/properties"
	"github.com/stretchctl/stretchctl/topology"
)

// countLines counts lines as a reader of the file would: LF, CRLF and a
// lone CR each end a line, and text after the last line end is a line too.
func countLines(data []byte) int {
	n := 1
	for i := 0; i < len(data); i++ {
		switch data[i] {
		case '\n':
			n++
		case '\r':
			n++
			if i+1 < len(data) && data[i+1] == '\n' {
				i++
			}
		}
	}
	return n
}

// FuzzParse checks that Parse never panics, that its errors name the file,
// that every explicit setting carries a line inside the file and its key,
// and that secret-looking keys are redacted. Seeds live in
// testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	combos := []struct {
		kind topology.ClientKind
		lib  string
	}{
		{topology.Producer, "java"},
		{topology.Consumer, "java"},
		{topology.Streams, "java"},
		{topology.Producer, "librdkafka"},
		{topology.Consumer, "librdkafka"},
		{topology.Producer, "sarama"},
		{topology.Producer, "franz-go"},
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		lines := countLines(data)
		checkLinesIndependently(t, data)
		for _, c := range combos {
			cc, err := Parse("fuzz.properties", data, c.kind, c.lib, "", "4.3.1")
			if err != nil {
				msg := err.Error()
				if !strings.HasPrefix(msg, "fuzz.properties:") {
					t.Fatalf("%s/%s: error does not name the file: %v", c.kind, c.lib, err)
				}
				if strings.Contains(msg, "internal error") {
					t.Fatalf("%s/%s: scanner and parser disagree: %v\ninput %q", c.kind, c.lib, err, data)
				}
				continue
			}
			for which, m := range map[string]topology.Settings{"producer": cc.Producer, "consumer": cc.Consumer, "streams": cc.Streams} {
				for name, s := range m {
					if s.Line == 0 {
						if s.Key != "" || s.Default == "" {
							t.Fatalf("%s/%s %s[%q]: a default with key %q and text %q", c.kind, c.lib, which, name, s.Key, s.Default)
						}
						continue
					}
					if s.Line < 1 || s.Line > lines {
						t.Fatalf("%s/%s %s[%q]: line %d outside 1..%d\ninput %q", c.kind, c.lib, which, name, s.Line, lines, data)
					}
					if s.Key == "" {
						t.Fatalf("%s/%s %s[%q]: explicit setting without a key", c.kind, c.lib, which, name)
					}
					if isSecretKey(s.Key) && s.Value != redacted {
						t.Fatalf("%s/%s %s[%q]: secret key not redacted", c.kind, c.lib, which, name)
					}
				}
			}
		}
	})
}

// checkLinesIndependently checks the scanner's lines against the library:
// the text from the start of a setting's line must parse, on its own, to
// that setting's key first.
func checkLinesIndependently(t *testing.T, data []byte) {
	cc, err := Parse("fuzz.properties", data, topology.Producer, "java", "", "4.3.1")
	if err != nil {
		return
	}
	text := normalizeNewlines(data)
	starts := []int{0}
	for i := 0; i < len(text); i++ {
		if text[i] == '\n' {
			starts = append(starts, i+1)
		}
	}
	loader := properties.Loader{Encoding: properties.UTF8, DisableExpansion: true}
	for _, s := range cc.Producer {
		if s.Line == 0 {
			continue
		}
		from := text[starts[s.Line-1]:]
		if s.Line > 1 {
			// Only a byte order mark at the very start is dropped; keep
			// one further down from looking like it.
			from = "\n" + from
		}
		p, err := loader.LoadBytes([]byte(from))
		if err != nil {
			t.Fatalf("text from line %d does not parse: %v\ninput %q", s.Line, err, data)
		}
		if keys := p.Keys(); len(keys) == 0 || keys[0] != s.Key {
			t.Fatalf("text from line %d starts with keys %q, want %q first\ninput %q", s.Line, keys, s.Key, data)
		}
	}
}
