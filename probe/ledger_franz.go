package probe

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/stretchctl/stretchctl/config"
)

// franzProducers are the ledger's producers on franz-go: one kgo.Client
// each, with franz-go's own defaults and the client file's settings mapped
// onto kgo options.
type franzProducers struct {
	topic   string
	clients []*kgo.Client
	run     *LedgerRun
	wg      sync.WaitGroup // promises outstanding
}

// franzMapping turns one setting (Java name) into a kgo option, or says
// why it cannot. backoff collects retry.backoff.ms and
// retry.backoff.max.ms, which make one option together.
func franzMapping(name, value string, backoff *[2]time.Duration) (kgo.Opt, string, error) {
	ms := func() (time.Duration, error) { return settingMillis(value) }
	count := func() (int, error) { return settingCount(value) }
	switch name {
	case "acks":
		switch strings.ToLower(strings.TrimSpace(value)) {
		case "all", "-1":
			return kgo.RequiredAcks(kgo.AllISRAcks()), "RequiredAcks(AllISRAcks())", nil
		case "1":
			return kgo.RequiredAcks(kgo.LeaderAck()), "RequiredAcks(LeaderAck())", nil
		case "0":
			return kgo.RequiredAcks(kgo.NoAck()), "RequiredAcks(NoAck())", nil
		}
		return nil, "", fmt.Errorf("want all, -1, 1 or 0, got %q", value)
	case "enable.idempotence":
		b, err := strconv.ParseBool(strings.TrimSpace(value))
		if err != nil {
			return nil, "", fmt.Errorf("want true or false, got %q", value)
		}
		if b {
			return nil, "idempotent (franz-go's default)", nil
		}
		return kgo.DisableIdempotentWrite(), "DisableIdempotentWrite()", nil
	case "retries":
		n, err := count()
		return kgo.RecordRetries(n), "RecordRetries", err
	case "delivery.timeout.ms":
		d, err := ms()
		return kgo.RecordDeliveryTimeout(d), "RecordDeliveryTimeout", err
	case "request.timeout.ms":
		// The broker's wait for acks, sent in the produce request;
		// franz-go waits that long plus RequestTimeoutOverhead (10 s).
		d, err := ms()
		return kgo.ProduceRequestTimeout(d), "ProduceRequestTimeout", err
	case "retry.backoff.ms", "retry.backoff.max.ms":
		d, err := ms()
		if name == "retry.backoff.ms" {
			backoff[0] = d
		} else {
			backoff[1] = d
		}
		return nil, "RetryBackoffFn", err
	case "linger.ms":
		d, err := ms()
		return kgo.ProducerLinger(d), "ProducerLinger", err
	case "max.in.flight.requests.per.connection":
		n, err := count()
		return kgo.MaxProduceRequestsInflightPerBroker(n), "MaxProduceRequestsInflightPerBroker", err
	case "metadata.max.age.ms":
		d, err := ms()
		return kgo.MetadataMaxAge(d), "MetadataMaxAge", err
	case "socket.connection.setup.timeout.ms":
		d, err := ms()
		return kgo.DialTimeout(d), "DialTimeout", err
	case "batch.size":
		n, err := count()
		return kgo.ProducerBatchMaxBytes(int32(min(n, 1<<30))), "ProducerBatchMaxBytes", err
	case "client.id":
		return kgo.ClientID(value), "ClientID", nil
	case "compression.type":
		var c kgo.CompressionCodec
		switch strings.ToLower(strings.TrimSpace(value)) {
		case "none":
			c = kgo.NoCompression()
		case "gzip":
			c = kgo.GzipCompression()
		case "snappy":
			c = kgo.SnappyCompression()
		case "lz4":
			c = kgo.Lz4Compression()
		case "zstd":
			c = kgo.ZstdCompression()
		default:
			return nil, "", fmt.Errorf("want none, gzip, snappy, lz4 or zstd, got %q", value)
		}
		return kgo.ProducerBatchCompression(c), "ProducerBatchCompression", nil
	}
	return nil, "", errors.New("franz-go has no equivalent option")
}

// openFranz starts the ledger's producers on franz-go.
func openFranz(cluster config.Cluster, opts LedgerOptions, run *LedgerRun) (producers, LibraryInfo, error) {
	info := LibraryInfo{Version: linkedVersion("github.com/twmb/franz-go")}
	base, err := FranzConnection(cluster, opts.Options)
	if err != nil {
		return nil, info, err
	}
	base = append(base, kgo.DefaultProduceTopic(opts.Topic), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	var backoff [2]time.Duration
	backoffSet := false
	for _, st := range opts.Client.Settings {
		o, what, err := franzMapping(st.Name, st.Value, &backoff)
		if err != nil {
			info.Rejected = append(info.Rejected, fmt.Sprintf("%s=%s: %v", st.Key, st.Value, err))
			continue
		}
		info.Applied = append(info.Applied, fmt.Sprintf("%s=%s → %s", st.Key, st.Value, what))
		if what == "RetryBackoffFn" {
			backoffSet = true
		}
		if o != nil {
			base = append(base, o)
		}
	}
	if backoffSet {
		// franz-go's own default: 250 ms doubling to 5 s (with jitter).
		lo, hi := cmpOr(backoff[0], 250*time.Millisecond), cmpOr(backoff[1], 5*time.Second)
		base = append(base, kgo.RetryBackoffFn(func(n int) time.Duration {
			d := lo
			for i := 1; i < n && d < hi; i++ {
				d *= 2
			}
			return min(d, max(hi, lo))
		}))
	}
	fp := &franzProducers{topic: opts.Topic, run: run}
	for range max(opts.Producers, 1) {
		c, err := kgo.NewClient(base...)
		if err != nil {
			fp.close(0)
			return nil, info, fmt.Errorf("franz-go refuses the producer settings (an application would not start): %w", err)
		}
		fp.clients = append(fp.clients, c)
	}
	return fp, info, nil
}

// FranzConnection is stretch.yaml's connection as franz-go options (seed
// brokers, the dialer of opts with TLS, SASL) and nothing else: the
// library keeps its own defaults.
func FranzConnection(cluster config.Cluster, opts Options) ([]kgo.Opt, error) {
	s, err := resolve(cluster, opts)
	if err != nil {
		return nil, err
	}
	base := []kgo.Opt{kgo.SeedBrokers(cluster.Bootstrap...), kgo.ClientID(clientID)}
	if opts.Dial != nil || s.tls != nil {
		// franz-go's default dial timeout is 10 s; the TLS handshake is
		// done by the dialer, as franz-go's DialTLSConfig would.
		d := &dialer{dial: s.dial, timeout: 10 * time.Second, tls: s.tls}
		base = append(base, kgo.Dialer(d.DialContext))
	}
	if m := s.kgoSASL(); m != nil {
		base = append(base, kgo.SASL(m))
	}
	return base, nil
}

func cmpOr(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

func (fp *franzProducers) send(ctx context.Context, p, idx int, partition int32, value []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	// franz-go fails a buffered record whose context ends, so the record
	// gets a context of its own, which the end of the drill cancels only
	// while Produce still blocks on a full buffer (MaxBufferedRecords, as
	// for an application): a record handed over is answered by Kafka or
	// by close, never by the ledger stopping.
	rctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	handed := false
	stop := context.AfterFunc(ctx, func() {
		mu.Lock()
		defer mu.Unlock()
		if !handed {
			cancel()
		}
	})
	fp.wg.Add(1)
	fp.clients[p].Produce(rctx, &kgo.Record{Partition: partition, Value: value}, func(r *kgo.Record, err error) {
		defer fp.wg.Done()
		if err != nil {
			fp.run.fail(idx, err.Error(), time.Now())
			return
		}
		fp.run.ack(idx, r.Offset, time.Now())
	})
	mu.Lock()
	handed = true
	mu.Unlock()
	stop()
	if rctx.Err() != nil {
		return ctx.Err() // never handed over: the drill stopped first
	}
	return nil
}

func (fp *franzProducers) flush(context.Context) error { return nil }

func (fp *franzProducers) close(wait time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), max(wait, 0)+time.Second)
	defer cancel()
	for _, c := range fp.clients {
		_ = c.Flush(ctx)
	}
	done := make(chan struct{})
	go func() {
		for _, c := range fp.clients {
			c.Close()
		}
		fp.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
	}
}
