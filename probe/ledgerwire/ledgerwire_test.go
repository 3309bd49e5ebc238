package ledgerwire

import (
	"bytes"
	"fmt"
	"slices"
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
	header := []byte{0x53, 0x54, 0x4c, 0x31, 9}
	for _, tt := range []struct {
		line string
		want Answer
	}{
		{DeliveredLine(2, 5, 77, at, header), Answer{Kind: Delivered, Member: 2, Partition: 5, Offset: 77, At: at, Header: header}},
		{CommittedLine(1, 3, 78, at), Answer{Kind: Committed, Member: 1, Partition: 3, Offset: 78, At: at}},
		{GroupLine(0, "assigned", 4, at, []int32{0, 2}), Answer{Kind: GroupChange, Member: 0, Text: "assigned", Generation: 4, At: at, Partitions: []int32{0, 2}}},
		{GroupLine(3, "lost", -1, at, nil), Answer{Kind: GroupChange, Member: 3, Text: "lost", Generation: -1, At: at}},
		{"E 1 1795000000123456 WakeupException%3A+x", Answer{Kind: MemberError, Member: 1, At: at, Text: "WakeupException: x"}},
	} {
		got, err := ParseAnswer(strings.TrimSuffix(tt.line, "\n"))
		if err != nil || got.Kind != tt.want.Kind || got.Member != tt.want.Member || got.Partition != tt.want.Partition || got.Offset != tt.want.Offset ||
			!got.At.Equal(tt.want.At) || got.Text != tt.want.Text || got.Generation != tt.want.Generation ||
			!bytes.Equal(got.Header, tt.want.Header) || fmt.Sprint(got.Partitions) != fmt.Sprint(tt.want.Partitions) {
			t.Errorf("%q: got %+v, %v; want %+v", tt.line, got, err, tt.want)
		}
	}
	for _, bad := range []string{"D 1 2 3 4 zz", "D -1 2 3 4 00", "C 1 2 x 4", "G 1 joined 3 4 -", "G 1 assigned 3 4 1,x", "E x 1 e",
		"D 1 2 3 4 " + strings.Repeat("00", maxHeader+1)} {
		if _, err := ParseAnswer(bad); err == nil {
			t.Errorf("answer %q accepted", bad)
		}
	}
	c, err := ParseCommand(strings.TrimSuffix(Group(3, "drill topic", "g", 4), "\n"))
	if err != nil || c.Verb != "GROUP" || c.N != 3 || c.Topic != "drill topic" || c.Group != "g" || c.First != 4 {
		t.Errorf("GROUP round trip: %+v, %v", c, err)
	}
	value := []byte{0x53, 0x54, 0x4c, 0x31, 0, 1, 2}
	c, err = ParseCommand(strings.TrimSuffix(string(AppendSend(nil, 3, 99, 5, value)), "\n"))
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
	for _, s := range []string{"A 1 2 3", "F 1 2 err%20x", "VERSION java 4.3.1", "READY", "REJECTED k v", "FATAL x", "A 99999999999999999999 1 1",
		"D 1 2 3 4 53544c31", "C 0 1 2 3", "G 0 assigned 1 2 0,1", "G 1 lost -1 2 -", "E 0 1 x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		a, err := ParseAnswer(line)
		if err == nil && (a.Kind == Acked || a.Kind == Failed) && a.Index < 0 {
			t.Errorf("%q: negative index %d", line, a.Index)
		}
		if err == nil && (a.Member < 0 || a.Partition < 0 || len(a.Header) > maxHeader || slices.ContainsFunc(a.Partitions, func(p int32) bool { return p < 0 })) {
			t.Errorf("%q: accepted %+v", line, a)
		}
		if c, err := ParseCommand(line); err == nil && c.Verb == "SEND" && (c.N < 0 || c.Index < 0) {
			t.Errorf("%q: negative producer or index", line)
		}
	})
}
