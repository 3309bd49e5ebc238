package ledgerwire

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestRoundTrip(t *testing.T) {
	at := time.UnixMicro(1_795_000_000_123_456)
	for _, tt := range []struct {
		line string
		want Answer
	}{
		{AckLine(7, 1234, at), Answer{Kind: Acked, Index: 7, Offset: 1234, At: at}},
		{FailLine(8, at, "REQUEST_TIMED_OUT: Disconnected from node 1 due to timeout"), Answer{Kind: Failed, Index: 8, At: at, Text: "REQUEST_TIMED_OUT: Disconnected from node 1 due to timeout"}},
		{VersionLine("java", "4.3.1"), Answer{Kind: Version, Library: "java", Text: "4.3.1"}},
		{RejectedLine("linger ms", "not a setting"), Answer{Kind: Rejected, Library: "linger ms", Text: "not a setting"}},
		{FatalLine("could not create the producers"), Answer{Kind: Fatal, Text: "could not create the producers"}},
		{"READY\n", Answer{Kind: Ready}},
	} {
		got, err := ParseAnswer(strings.TrimSuffix(tt.line, "\n"))
		if err != nil || got.Kind != tt.want.Kind || got.Index != tt.want.Index || got.Offset != tt.want.Offset ||
			!got.At.Equal(tt.want.At) || got.Text != tt.want.Text || got.Library != tt.want.Library {
			t.Errorf("%q: got %+v, %v; want %+v", tt.line, got, err, tt.want)
		}
	}
	value := []byte{0x53, 0x54, 0x4c, 0x31, 0, 1, 2}
	c, err := ParseCommand(strings.TrimSuffix(string(AppendSend(nil, 3, 99, 5, value)), "\n"))
	if err != nil || c.Verb != "SEND" || c.N != 3 || c.Index != 99 || c.Partition != 5 || !bytes.Equal(c.Record, value) {
		t.Errorf("SEND round trip: %+v, %v", c, err)
	}
	c, err = ParseCommand(strings.TrimSuffix(Config("sasl.jaas.config", `x required username="u p";`), "\n"))
	if err != nil || c.Key != "sasl.jaas.config" || c.Value != `x required username="u p";` {
		t.Errorf("CONFIG round trip: %+v, %v", c, err)
	}
	c, err = ParseCommand(strings.TrimSuffix(Config("ssl.endpoint.identification.algorithm", ""), "\n"))
	if err != nil || c.Value != "" {
		t.Errorf("empty CONFIG value: %+v, %v", c, err)
	}
	for _, bad := range []string{"", "A 1 2", "A x 2 3", "F -1 2 e", "SEND 1 2 3 zz", "CLOSE -5", "HELLO"} {
		if _, err := ParseAnswer(bad); err == nil && !strings.HasPrefix(bad, "SEND") && !strings.HasPrefix(bad, "CLOSE") {
			t.Errorf("answer %q accepted", bad)
		}
		if _, err := ParseCommand(bad); err == nil {
			t.Errorf("command %q accepted", bad)
		}
	}
}

// FuzzParseAnswer: whatever a workload process writes, the parser neither
// panics nor accepts an answer it cannot represent.
func FuzzParseAnswer(f *testing.F) {
	for _, s := range []string{"A 1 2 3", "F 1 2 err%20x", "VERSION java 4.3.1", "READY", "REJECTED k v", "FATAL x", "A 99999999999999999999 1 1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		a, err := ParseAnswer(line)
		if err == nil && (a.Kind == Acked || a.Kind == Failed) && a.Index < 0 {
			t.Errorf("%q: negative index %d", line, a.Index)
		}
		if c, err := ParseCommand(line); err == nil && c.Verb == "SEND" && (c.N < 0 || c.Index < 0) {
			t.Errorf("%q: negative producer or index", line)
		}
	})
}
