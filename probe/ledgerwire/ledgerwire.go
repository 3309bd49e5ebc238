// Package ledgerwire is the line protocol between the drill's ledger (Go)
// and a workload process that runs another client library: the Java
// kafka-clients program and the librdkafka helper. One command or answer
// per line, fields separated by one space, free text percent-encoded (URL
// query escaping, which Java's URLDecoder reads back).
//
// To the worker, on its standard input:
//
//	CONFIG key value     a producer setting, applied as the library names it
//	START n topic        create n producers with those settings
//	SEND p idx partition hex   producer p sends record idx (value in hex)
//	CLOSE waitMs         close every producer, waiting up to waitMs for answers
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
)

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

// Close is the CLOSE line.
func Close(wait time.Duration) string { return fmt.Sprintf("CLOSE %d\n", wait.Milliseconds()) }

// Command is a parsed line to the worker (for workers written in Go).
type Command struct {
	Verb       string // CONFIG, START, SEND, CLOSE
	Key, Value string // CONFIG
	N          int    // START: producers; SEND: producer
	Topic      string // START
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
