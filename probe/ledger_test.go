package probe

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/IBM/sarama/mocks"
)

// TestLedgerBookkeeping drives the ledger with sarama's mock producers
// (no broker): every record is numbered per producer and partition, an
// acknowledgement records its offset and time, a failure its error, and a
// record without an answer stays pending after Stop.
func TestLedgerBookkeeping(t *testing.T) {
	cfg := mocks.NewTestConfig()
	cfg.Producer.Return.Successes = true
	cfg.Producer.Return.Errors = true
	errNotEnough := errors.New("kafka server: Messages are rejected since there are fewer in-sync replicas than required")
	// Producer 0 gets records 0, 2, 4, ... (two partitions, round robin
	// over partitions first), producer 1 the others; each mock answers in
	// the order of its expectations.
	p0 := mocks.NewAsyncProducer(t, cfg)
	p0.ExpectInputAndSucceed().ExpectInputAndSucceed().ExpectInputAndFail(errNotEnough).ExpectInputAndSucceed()
	p1 := mocks.NewAsyncProducer(t, cfg)
	p1.ExpectInputAndSucceed().ExpectInputAndFail(errNotEnough).ExpectInputAndSucceed().ExpectInputAndSucceed()

	l := &Ledger{Topic: "ledger", Parts: []int32{0, 1}, Target: 1000, StartOffsets: map[int32]int64{0: 0, 1: 0}, Errors: map[string]int64{}, RunID: 42}
	run := startWith(l, LedgerOptions{Topic: "ledger", Producers: 2, Rate: 1000, MaxRecords: 8}, p0, p1)
	deadline := time.Now().Add(10 * time.Second)
	for c := run.Counts(); c.Acked+c.Failed < 8; c = run.Counts() {
		if time.Now().After(deadline) {
			t.Fatalf("counts %+v: the mocks did not answer 8 records", c)
		}
		time.Sleep(5 * time.Millisecond)
	}
	got := run.Stop(time.Second)
	if c := run.Counts(); c.Sent != 8 || c.Acked != 6 || c.Failed != 2 || c.OldestPending != 0 {
		t.Errorf("counts %+v, want 8 sent, 6 acked, 2 failed, none pending", c)
	}
	if len(got.Records) != 8 {
		t.Fatalf("%d records, want 8", len(got.Records))
	}
	// Record i goes to partition i%2 through producer (i/2)%2, with a
	// sequence number per producer and partition.
	type want struct {
		producer  int
		partition int32
		seq       int64
		state     RecordState
	}
	wants := []want{
		{0, 0, 0, Acked}, {0, 1, 0, Acked}, {1, 0, 0, Acked}, {1, 1, 0, Failed},
		{0, 0, 1, Failed}, {0, 1, 1, Acked}, {1, 0, 1, Acked}, {1, 1, 1, Acked},
	}
	for i, w := range wants {
		r := got.Records[i]
		if r.Producer != w.producer || r.Partition != w.partition || r.Seq != w.seq || r.State != w.state {
			t.Errorf("record %d = producer %d partition %d seq %d state %d, want %+v", i, r.Producer, r.Partition, r.Seq, r.State, w)
		}
		switch r.State {
		case Acked:
			if r.Offset < 1 || r.Done < r.Sent {
				t.Errorf("record %d acknowledged at offset %d, done %v before sent %v", i, r.Offset, r.Done, r.Sent)
			}
		case Failed:
			if r.Offset != -1 || r.Done < r.Sent {
				t.Errorf("record %d failed with offset %d, done %v, sent %v", i, r.Offset, r.Done, r.Sent)
			}
		}
	}
	if n := got.Errors[errNotEnough.Error()]; n != 2 {
		t.Errorf("errors %v, want the broker's error twice", got.Errors)
	}
	if !got.Stop.After(got.Start) {
		t.Errorf("stop %v not after start %v", got.Stop, got.Start)
	}
}

// TestLedgerPendingAfterStop: a record the producer never answers stays
// Pending once Stop's wait is over, and is counted as neither.
func TestLedgerPendingAfterStop(t *testing.T) {
	l := &Ledger{Topic: "ledger", Parts: []int32{0}, StartOffsets: map[int32]int64{0: 0}, Errors: map[string]int64{}}
	silent := &silentProducer{input: make(chan *sarama.ProducerMessage, 16), ok: make(chan *sarama.ProducerMessage), errs: make(chan *sarama.ProducerError)}
	run := startWith(l, LedgerOptions{Topic: "ledger", Producers: 1, Rate: 1000, MaxRecords: 3}, silent)
	deadline := time.Now().Add(5 * time.Second)
	for run.Counts().Sent < 3 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	got := run.Stop(50 * time.Millisecond)
	if c := run.Counts(); c.Sent != 3 || c.Acked != 0 || c.Failed != 0 || c.LastAck != 0 || c.OldestPending < 50*time.Millisecond {
		t.Errorf("counts %+v, want 3 sent, none answered, the oldest pending for the 50 ms waited at least", c)
	}
	for i, r := range got.Records {
		if r.State != Pending || r.Offset != -1 || r.Done != 0 {
			t.Errorf("record %d: state %d offset %d done %v, want pending", i, r.State, r.Offset, r.Done)
		}
	}
}

// startWith runs the ledger l on sarama producers ps.
func startWith(l *Ledger, opts LedgerOptions, ps ...sarama.AsyncProducer) *LedgerRun {
	run := &LedgerRun{l: l, done: make(chan struct{})}
	run.start(context.Background(), opts, newSaramaProducers(opts.Topic, ps, run))
	return run
}

// silentProducer takes records and never answers (a producer stuck on a
// dead broker).
type silentProducer struct {
	sarama.AsyncProducer
	input chan *sarama.ProducerMessage
	ok    chan *sarama.ProducerMessage
	errs  chan *sarama.ProducerError
}

func (p *silentProducer) Input() chan<- *sarama.ProducerMessage     { return p.input }
func (p *silentProducer) Successes() <-chan *sarama.ProducerMessage { return p.ok }
func (p *silentProducer) Errors() <-chan *sarama.ProducerError      { return p.errs }
func (p *silentProducer) AsyncClose()                               { close(p.ok); close(p.errs) }
