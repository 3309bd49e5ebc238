// Command stretchctl-rdkafka runs a drill's ledger producers on librdkafka
// (through confluent-kafka-go, which links librdkafka statically). The
// drill starts it and speaks the ledgerwire line protocol with it: settings
// (librdkafka's own names, as the client file writes them), START, one SEND
// per record, CLOSE; it answers every record with its offset or error.
//
// It is a separate binary because confluent-kafka-go needs cgo: stretchctl
// itself stays pure Go (static, cross-compiled), and only drills with the
// librdkafka workload need this helper. `make build` puts it next to
// stretchctl.
//
// It applies exactly the settings it is given; librdkafka keeps its own
// defaults for the rest. A setting librdkafka does not know or refuses is
// reported (REJECTED) and left out, never silently dropped.
package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"regexp"
	"sync"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"

	"github.com/stretchctl/stretchctl/probe/ledgerwire"
)

func main() {
	out := newWriter()
	_, version := kafka.LibraryVersion()
	out.line(ledgerwire.VersionLine("librdkafka", version))
	if err := run(out); err != nil {
		out.line(ledgerwire.FatalLine(err.Error()))
		out.flush()
		os.Exit(1)
	}
	out.flush()
}

// writer serialises answers from the delivery goroutines onto stdout.
type writer struct {
	mu sync.Mutex
	w  *bufio.Writer
}

func newWriter() *writer {
	w := &writer{w: bufio.NewWriterSize(os.Stdout, 64<<10)}
	go func() {
		for range time.Tick(5 * time.Millisecond) {
			w.flush()
		}
	}()
	return w
}

func (w *writer) line(s string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	_, _ = w.w.WriteString(s)
}

func (w *writer) flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	_ = w.w.Flush()
}

// unknownProperty finds the setting librdkafka refused in its error.
var unknownProperty = regexp.MustCompile(`(?:No such configuration property|for configuration property|Configuration property):? "([^"]+)"`)

func run(out *writer) error {
	cfg := kafka.ConfigMap{}
	var producers []*kafka.Producer
	var topic string
	var delivered sync.WaitGroup
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 64<<10), 1<<20)
	for in.Scan() {
		c, err := ledgerwire.ParseCommand(in.Text())
		if err != nil {
			return err
		}
		switch c.Verb {
		case "CONFIG":
			cfg[c.Key] = c.Value
		case "START":
			topic = c.Topic
			for range c.N {
				p, err := newProducer(cfg, out)
				if err != nil {
					return fmt.Errorf("could not create the producers: %w", err)
				}
				producers = append(producers, p)
				delivered.Add(1)
				go func() {
					defer delivered.Done()
					deliveries(p, out)
				}()
			}
			out.line("READY\n")
			out.flush()
		case "SEND":
			if c.N >= len(producers) {
				return fmt.Errorf("no producer %d", c.N)
			}
			msg := &kafka.Message{TopicPartition: kafka.TopicPartition{Topic: &topic, Partition: c.Partition}, Value: c.Record, Opaque: c.Index}
			for {
				err := producers[c.N].Produce(msg, nil)
				var ke kafka.Error
				if errors.As(err, &ke) && ke.Code() == kafka.ErrQueueFull {
					// The local queue is full (queue.buffering.max.*): an
					// application waits for room, so does the ledger.
					time.Sleep(time.Millisecond)
					continue
				}
				if err != nil {
					out.line(ledgerwire.FailLine(c.Index, time.Now(), err.Error()))
				}
				break
			}
		case "CLOSE":
			deadline := time.Now().Add(c.Wait)
			for _, p := range producers {
				p.Flush(max(int(time.Until(deadline).Milliseconds()), 0))
			}
			for _, p := range producers {
				p.Close() // fails what is still queued; the deliveries end
			}
			delivered.Wait()
			out.line("CLOSED\n")
			out.flush()
			return nil
		}
	}
	return errors.New("standard input closed without CLOSE")
}

// newProducer creates a producer with cfg; a property librdkafka refuses
// is reported, removed and the creation tried again.
func newProducer(cfg kafka.ConfigMap, out *writer) (*kafka.Producer, error) {
	for range len(cfg) + 1 {
		p, err := kafka.NewProducer(&cfg)
		if err == nil {
			return p, nil
		}
		m := unknownProperty.FindStringSubmatch(err.Error())
		if m == nil {
			return nil, err
		}
		if _, ok := cfg[m[1]]; !ok {
			return nil, err
		}
		out.line(ledgerwire.RejectedLine(m[1], err.Error()))
		delete(cfg, m[1])
	}
	return nil, errors.New("librdkafka refused every setting")
}

// deliveries turns delivery reports into answers until the producer is
// closed.
func deliveries(p *kafka.Producer, out *writer) {
	for e := range p.Events() {
		m, ok := e.(*kafka.Message)
		if !ok {
			continue
		}
		idx, ok := m.Opaque.(int)
		if !ok {
			continue
		}
		if err := m.TopicPartition.Error; err != nil {
			out.line(ledgerwire.FailLine(idx, time.Now(), err.Error()))
			continue
		}
		out.line(ledgerwire.AckLine(idx, int64(m.TopicPartition.Offset), time.Now()))
	}
}
