// Package ledgerwire is the line protocol between the drill's ledger (Go)
// and a workload process that runs another client library: the Java
// kafka-clients program and the librdkafka helper. One command or answer
// per line, fields separated by one space, free text percent-encoded (URL
// query escaping, which Java's URLDecoder reads back).
//
// To the worker, on its standard input:
//
//	CONFIG key value     a producer setting, applied as the library names it
//	TXNIDS id,id,...     the producers write in transactions, one id each
//	START n topic        create n producers with those settings
//	SEND p idx partition hex   producer p sends record idx (value in hex)
//	CLOSE waitMs         close every producer, waiting up to waitMs for answers
//	GROUP n topic group first   (consumer worker) start n group members,
//	                     numbered from first, reading topic in group
//
// From the worker, on its standard output:
//
//	VERSION library version
//	REJECTED key reason  a setting the library did not take (unknown, invalid)
//	READY                producers created
//	A idx offset micros  record idx acknowledged at offset, at epoch microseconds
//	F idx micros error   record idx failed
//	CLOSED               every producer closed
//	FATAL message        the worker cannot go on
//
// and from a consumer worker:
//
//	D member partition offset micros header   a record handed to a member
//	                     (header: the first bytes of its value, in hex; "-"
//	                     for an empty value)
//	C member partition offset micros   an offset commit the broker accepted
//	G member event generation micros partitions   assigned, revoked or
//	                     lost partitions (comma-separated, "-" for none)
//	E member micros error   an error the member's library reported
//
// It holds the encoding only: no I/O, no processes, no Kafka.
package ledgerwire

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Kind of an answer line.
type Kind string

// The answers.
const (
	Version  Kind = "VERSION"
	Rejected Kind = "REJECTED"
	Ready    Kind = "READY"
	Acked    Kind = "A"
	Failed   Kind = "F"
	Closed   Kind = "CLOSED"
	Fatal    Kind = "FATAL"

	Delivered   Kind = "D"
	Committed   Kind = "C"
	GroupChange Kind = "G"
	MemberError Kind = "E"
)

// maxHeader bounds the record header a consumer worker sends (the ledger's
// header is 36 bytes).
const maxHeader = 64

// Escape percent-encodes free text for one field.
func Escape(s string) string { return url.QueryEscape(s) }

// Unescape reads a field written by Escape (or Java's URLEncoder).
func Unescape(s string) string {
	v, err := url.QueryUnescape(s)
	if err != nil {
		return s
	}
	return v
}

// Config is the CONFIG line of a setting.
func Config(key, value string) string { return "CONFIG " + Escape(key) + " " + Escape(value) + "\n" }

// Start is the START line.
func Start(n int, topic string) string { return fmt.Sprintf("START %d %s\n", n, Escape(topic)) }

// AppendSend appends the SEND line of a record to b.
func AppendSend(b []byte, producer, idx int, partition int32, value []byte) []byte {
	b = append(b, "SEND "...)
	b = strconv.AppendInt(b, int64(producer), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(idx), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(partition), 10)
	b = append(b, ' ')
	b = hex.AppendEncode(b, value)
	return append(b, '\n')
}

// TxnIDs is the TXNIDS line: one transactional.id per producer.
func TxnIDs(ids []string) string { return "TXNIDS " + Escape(strings.Join(ids, ",")) + "\n" }

// Group is the GROUP line of a consumer worker.
func Group(n int, topic, group string, first int) string {
	return fmt.Sprintf("GROUP %d %s %s %d\n", n, Escape(topic), Escape(group), first)
}

// Close is the CLOSE line.
func Close(wait time.Duration) string { return fmt.Sprintf("CLOSE %d\n", wait.Milliseconds()) }

// Command is a parsed line to the worker (for workers written in Go).
type Command struct {
	Verb       string // CONFIG, START, SEND, CLOSE, GROUP
	Key, Value string // CONFIG
	N          int    // START: producers; SEND: producer; GROUP: members
	Topic      string // START, GROUP
	Group      string // GROUP
	First      int    // GROUP
	Index      int    // SEND
	Partition  int32  // SEND
	Record     []byte // SEND
	Wait       time.Duration
}

// ParseCommand reads one line to the worker.
func ParseCommand(line string) (Command, error) {
	f := strings.Fields(line)
	if len(f) == 0 {
		return Command{}, errors.New("empty command")
	}
	c := Command{Verb: f[0]}
	bad := func() (Command, error) { return Command{}, fmt.Errorf("malformed %s command: %q", f[0], clip(line)) }
	switch {
	case c.Verb == "CONFIG" && (len(f) == 3 || len(f) == 2):
		c.Key = Unescape(f[1])
		if len(f) == 3 {
			c.Value = Unescape(f[2])
		}
	case c.Verb == "START" && len(f) == 3:
		n, err := strconv.Atoi(f[1])
		if err != nil || n < 1 {
			return bad()
		}
		c.N, c.Topic = n, Unescape(f[2])
	case c.Verb == "SEND" && len(f) == 5:
		p, err1 := strconv.Atoi(f[1])
		idx, err2 := strconv.Atoi(f[2])
		part, err3 := strconv.ParseInt(f[3], 10, 32)
		v, err4 := hex.DecodeString(f[4])
		if err1 != nil || err2 != nil || err3 != nil || err4 != nil || p < 0 || idx < 0 {
			return bad()
		}
		c.N, c.Index, c.Partition, c.Record = p, idx, int32(part), v
	case c.Verb == "GROUP" && len(f) == 5:
		n, err1 := strconv.Atoi(f[1])
		first, err2 := strconv.Atoi(f[4])
		if err1 != nil || err2 != nil || n < 1 || first < 0 {
			return bad()
		}
		c.N, c.Topic, c.Group, c.First = n, Unescape(f[2]), Unescape(f[3]), first
	case c.Verb == "CLOSE" && len(f) == 2:
		ms, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil || ms < 0 {
			return bad()
		}
		c.Wait = time.Duration(ms) * time.Millisecond
	default:
		return bad()
	}
	return c, nil
}

// Answer is a parsed line from the worker.
type Answer struct {
	Kind Kind
	// Library and Text: VERSION library version (in Text); REJECTED key
	// (in Library) and reason (in Text); F error; FATAL message.
	Library, Text string
	Index         int
	Offset        int64
	At            time.Time

	// Consumer answers: the member, the partition (D, C), the header of
	// the record's value (D), the event and its generation and
	// partitions (G; the event in Text).
	Member     int
	Partition  int32
	Header     []byte
	Generation int32
	Partitions []int32
}

// Micros is t as epoch microseconds.
func Micros(t time.Time) int64 { return t.UnixMicro() }

// ParseAnswer reads one line from the worker. Lines it does not know are
// an error (a worker writing its logs to standard output).
func ParseAnswer(line string) (Answer, error) {
	f := strings.Fields(line)
	if len(f) == 0 {
		return Answer{}, errors.New("empty answer")
	}
	a := Answer{Kind: Kind(f[0])}
	bad := func() (Answer, error) {
		return Answer{}, fmt.Errorf("malformed answer from the workload process: %q", clip(line))
	}
	switch {
	case a.Kind == Version && len(f) == 3:
		a.Library, a.Text = Unescape(f[1]), Unescape(f[2])
	case a.Kind == Rejected && len(f) == 3:
		a.Library, a.Text = Unescape(f[1]), Unescape(f[2])
	case (a.Kind == Ready || a.Kind == Closed) && len(f) == 1:
	case a.Kind == Acked && len(f) == 4:
		idx, err1 := strconv.Atoi(f[1])
		off, err2 := strconv.ParseInt(f[2], 10, 64)
		us, err3 := strconv.ParseInt(f[3], 10, 64)
		if err1 != nil || err2 != nil || err3 != nil || idx < 0 {
			return bad()
		}
		a.Index, a.Offset, a.At = idx, off, time.UnixMicro(us)
	case a.Kind == Failed && len(f) == 4:
		idx, err1 := strconv.Atoi(f[1])
		us, err2 := strconv.ParseInt(f[2], 10, 64)
		if err1 != nil || err2 != nil || idx < 0 {
			return bad()
		}
		a.Index, a.At, a.Text = idx, time.UnixMicro(us), Unescape(f[3])
	case (a.Kind == Delivered && len(f) == 6) || (a.Kind == Committed && len(f) == 5):
		m, err1 := strconv.Atoi(f[1])
		p, err2 := strconv.ParseInt(f[2], 10, 32)
		off, err3 := strconv.ParseInt(f[3], 10, 64)
		us, err4 := strconv.ParseInt(f[4], 10, 64)
		if err1 != nil || err2 != nil || err3 != nil || err4 != nil || m < 0 || p < 0 || off < 0 {
			return bad()
		}
		a.Member, a.Partition, a.Offset, a.At = m, int32(p), off, time.UnixMicro(us)
		if a.Kind == Delivered && f[5] != "-" {
			h, err := hex.DecodeString(f[5])
			if err != nil || len(h) > maxHeader {
				return bad()
			}
			a.Header = h
		}
	case a.Kind == GroupChange && len(f) == 6:
		m, err1 := strconv.Atoi(f[1])
		gen, err2 := strconv.ParseInt(f[3], 10, 32)
		us, err3 := strconv.ParseInt(f[4], 10, 64)
		if err1 != nil || err2 != nil || err3 != nil || m < 0 {
			return bad()
		}
		switch f[2] {
		case "assigned", "revoked", "lost":
		default:
			return bad()
		}
		a.Member, a.Text, a.Generation, a.At = m, f[2], int32(gen), time.UnixMicro(us)
		if f[5] != "-" {
			for _, s := range strings.Split(f[5], ",") {
				p, err := strconv.ParseInt(s, 10, 32)
				if err != nil || p < 0 {
					return bad()
				}
				a.Partitions = append(a.Partitions, int32(p))
			}
		}
	case a.Kind == MemberError && len(f) == 4:
		m, err1 := strconv.Atoi(f[1])
		us, err2 := strconv.ParseInt(f[2], 10, 64)
		if err1 != nil || err2 != nil || m < 0 {
			return bad()
		}
		a.Member, a.At, a.Text = m, time.UnixMicro(us), Unescape(f[3])
	case a.Kind == Fatal && len(f) == 2:
		a.Text = Unescape(f[1])
	default:
		return bad()
	}
	return a, nil
}

// AckLine and the others write answers (for workers written in Go).
func AckLine(idx int, offset int64, at time.Time) string {
	return fmt.Sprintf("A %d %d %d\n", idx, offset, Micros(at))
}

// FailLine is the F line of a failed record.
func FailLine(idx int, at time.Time, err string) string {
	return fmt.Sprintf("F %d %d %s\n", idx, Micros(at), Escape(err))
}

// DeliveredLine is the D line of a record handed to a member.
func DeliveredLine(member int, partition int32, offset int64, at time.Time, header []byte) string {
	h := "-"
	if len(header) > 0 {
		h = hex.EncodeToString(header[:min(len(header), maxHeader)])
	}
	return fmt.Sprintf("D %d %d %d %d %s\n", member, partition, offset, Micros(at), h)
}

// CommittedLine is the C line of a commit.
func CommittedLine(member int, partition int32, offset int64, at time.Time) string {
	return fmt.Sprintf("C %d %d %d %d\n", member, partition, offset, Micros(at))
}

// GroupLine is the G line of an assignment change.
func GroupLine(member int, event string, generation int32, at time.Time, partitions []int32) string {
	ps := "-"
	if len(partitions) > 0 {
		s := make([]string, len(partitions))
		for i, p := range partitions {
			s[i] = strconv.Itoa(int(p))
		}
		ps = strings.Join(s, ",")
	}
	return fmt.Sprintf("G %d %s %d %d %s\n", member, event, generation, Micros(at), ps)
}

// VersionLine is the VERSION line.
func VersionLine(library, version string) string {
	return "VERSION " + Escape(library) + " " + Escape(version) + "\n"
}

// RejectedLine is the REJECTED line of a setting.
func RejectedLine(key, reason string) string {
	return "REJECTED " + Escape(key) + " " + Escape(reason) + "\n"
}

// FatalLine is the FATAL line.
func FatalLine(msg string) string { return "FATAL " + Escape(msg) + "\n" }

func clip(s string) string {
	if len(s) > 120 {
		return s[:120] + "..."
	}
	return s
}
