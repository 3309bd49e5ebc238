package probe

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/IBM/sarama"

	"github.com/stretchctl/stretchctl/config"
)

// saramaProducers are the ledger's producers on sarama: async producers
// with sarama's own defaults and the client file's settings mapped onto
// sarama's names.
type saramaProducers struct {
	topic string
	ps    []sarama.AsyncProducer
	wg    sync.WaitGroup
}

// linkedVersion is the version of a Go module linked into this binary.
func linkedVersion(module string) string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == module {
				if d.Replace != nil {
					d = d.Replace
				}
				return strings.TrimPrefix(d.Version, "v")
			}
		}
	}
	return "unknown"
}

// saramaMapping applies one setting (Java name) to a sarama config, or
// says why it cannot. The names follow sarama's documentation of its
// Config fields; what sarama has no field for is rejected, not emulated.
func saramaMapping(cfg *sarama.Config, name, value string) (applied string, err error) {
	ms := func() (time.Duration, error) { return settingMillis(value) }
	count := func() (int, error) { return settingCount(value) }
	switch name {
	case "acks":
		switch strings.ToLower(strings.TrimSpace(value)) {
		case "all", "-1":
			cfg.Producer.RequiredAcks = sarama.WaitForAll
		case "1":
			cfg.Producer.RequiredAcks = sarama.WaitForLocal
		case "0":
			cfg.Producer.RequiredAcks = sarama.NoResponse
		default:
			return "", fmt.Errorf("want all, -1, 1 or 0, got %q", value)
		}
		return "Producer.RequiredAcks", nil
	case "enable.idempotence":
		b, err := strconv.ParseBool(strings.TrimSpace(value))
		if err != nil {
			return "", fmt.Errorf("want true or false, got %q", value)
		}
		cfg.Producer.Idempotent = b
		return "Producer.Idempotent", nil
	case "retries":
		n, err := count()
		cfg.Producer.Retry.Max = n
		return "Producer.Retry.Max", err
	case "retry.backoff.ms":
		d, err := ms()
		cfg.Producer.Retry.Backoff = d
		return "Producer.Retry.Backoff", err
	case "request.timeout.ms":
		// sarama's client-side wait for any response; the broker's wait
		// for acks is Producer.Timeout, which keeps its default.
		d, err := ms()
		cfg.Net.ReadTimeout = d
		return "Net.ReadTimeout", err
	case "max.in.flight.requests.per.connection":
		n, err := count()
		cfg.Net.MaxOpenRequests = n
		return "Net.MaxOpenRequests", err
	case "linger.ms":
		d, err := ms()
		cfg.Producer.Flush.Frequency = d
		return "Producer.Flush.Frequency", err
	case "metadata.max.age.ms":
		d, err := ms()
		cfg.Metadata.RefreshFrequency = d
		return "Metadata.RefreshFrequency", err
	case "socket.connection.setup.timeout.ms":
		d, err := ms()
		cfg.Net.DialTimeout = d
		return "Net.DialTimeout", err
	case "client.id":
		cfg.ClientID = value
		return "ClientID", nil
	case "compression.type":
		var c sarama.CompressionCodec
		if err := c.UnmarshalText([]byte(strings.TrimSpace(value))); err != nil {
			return "", fmt.Errorf("want none, gzip, snappy, lz4 or zstd, got %q", value)
		}
		cfg.Producer.Compression = c
		return "Producer.Compression", nil
	}
	return "", errors.New("sarama has no equivalent setting")
}

// settingMillis reads a setting in milliseconds.
func settingMillis(value string) (time.Duration, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(value), 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("want milliseconds, got %q", value)
	}
	return time.Duration(min(n, math.MaxInt64/int64(time.Millisecond))) * time.Millisecond, nil
}

// settingCount reads a setting that counts something.
func settingCount(value string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(value))
	if err != nil || n < 0 {
		return 0, fmt.Errorf("want a count, got %q", value)
	}
	return n, nil
}

// openSarama starts the ledger's producers on sarama.
func openSarama(cluster config.Cluster, opts LedgerOptions, run *LedgerRun) (producers, LibraryInfo, error) {
	info := LibraryInfo{Version: linkedVersion("github.com/IBM/sarama")}
	newConfig := func() (*sarama.Config, error) {
		s, err := resolve(cluster, opts.Options)
		if err != nil {
			return nil, err
		}
		cfg := sarama.NewConfig()
		cfg.Version = s.version
		cfg.ClientID = clientID
		applyConnection(cfg, s)
		if opts.Dial != nil {
			cfg.Net.Proxy.Enable = true
			cfg.Net.Proxy.Dialer = &dialer{dial: opts.Dial, timeout: cfg.Net.DialTimeout}
		}
		// What the ledger needs to see its records' fates; none changes
		// how sarama sends.
		cfg.Producer.Return.Successes = true
		cfg.Producer.Return.Errors = true
		cfg.Producer.Partitioner = sarama.NewManualPartitioner
		return cfg, nil
	}
	cfg, err := newConfig()
	if err != nil {
		return nil, info, err
	}
	for _, s := range opts.Client.Settings {
		field, err := saramaMapping(cfg, s.Name, s.Value)
		if err != nil {
			info.Rejected = append(info.Rejected, fmt.Sprintf("%s=%s: %v", s.Key, s.Value, err))
			continue
		}
		info.Applied = append(info.Applied, fmt.Sprintf("%s=%s → %s", s.Key, s.Value, field))
	}
	if err := cfg.Validate(); err != nil {
		return nil, info, fmt.Errorf("sarama refuses the producer settings (an application would not start): %w", err)
	}
	var ps []sarama.AsyncProducer
	for range max(opts.Producers, 1) {
		pr, err := sarama.NewAsyncProducer(cluster.Bootstrap, cfg)
		if err != nil {
			newSaramaProducers(opts.Topic, ps, run).close(0)
			return nil, info, fmt.Errorf("producer: %w", err)
		}
		ps = append(ps, pr)
	}
	return newSaramaProducers(opts.Topic, ps, run), info, nil
}

// newSaramaProducers drives ps, whose answers go to run.
func newSaramaProducers(topic string, ps []sarama.AsyncProducer, run *LedgerRun) *saramaProducers {
	sp := &saramaProducers{topic: topic, ps: ps}
	for _, pr := range ps {
		sp.wg.Go(func() {
			for m := range pr.Successes() {
				run.ack(m.Metadata.(int), m.Offset, time.Now())
			}
		})
		sp.wg.Go(func() {
			for e := range pr.Errors() {
				run.fail(e.Msg.Metadata.(int), errorText(e.Err), time.Now())
			}
		})
	}
	return sp
}

// applyConnection sets TLS and SASL from the cluster's settings.
func applyConnection(cfg *sarama.Config, s *settings) {
	base := s.sarama()
	cfg.Net.TLS = base.Net.TLS
	cfg.Net.SASL = base.Net.SASL
}

func (sp *saramaProducers) send(ctx context.Context, p, idx int, partition int32, value []byte) error {
	msg := &sarama.ProducerMessage{Topic: sp.topic, Partition: partition, Value: sarama.ByteEncoder(value), Metadata: idx}
	select {
	case sp.ps[p].Input() <- msg:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (sp *saramaProducers) flush(context.Context) error { return nil }

func (sp *saramaProducers) close(wait time.Duration) {
	closed := make(chan struct{})
	go func() {
		for _, pr := range sp.ps {
			pr.AsyncClose()
		}
		sp.wg.Wait()
		close(closed)
	}()
	select {
	case <-closed:
	case <-time.After(max(wait, 0) + 5*time.Second):
		// A producer stuck on a dead broker: leave it; its records stay
		// Pending and the ledger is complete for what was answered.
	}
}
func errorText(err error) string {
	var pe sarama.ProducerErrors
	if errors.As(err, &pe) && len(pe) > 0 {
		err = pe[0].Err
	}
	s := err.Error()
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}
