package probe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	kscram "github.com/twmb/franz-go/pkg/sasl/scram"
	"github.com/xdg-go/scram"

	"github.com/stretchctl/stretchctl/config"
)

// clientID is what stretchctl calls itself in every request (KIP-511).
const clientID = "stretchctl"

// Options for reading a cluster.
type Options struct {
	// Dial, when set, replaces net dialing (the lab uses it to dial from a
	// DC namespace). It is called with a context that ends after the
	// cluster's timeout.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Log receives debug records of what is read; nil discards them.
	Log *slog.Logger
}

func (o Options) log() *slog.Logger {
	if o.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return o.Log
}

// settings is a cluster's connection settings with files and the password
// read: what both Kafka clients (sarama and franz-go) are built from.
type settings struct {
	bootstrap []string
	// controllers are the KRaft controller endpoints (KIP-919), if given.
	controllers []string
	version     sarama.KafkaVersion
	timeout     time.Duration
	tls         *tls.Config // nil: plaintext
	sasl        *saslSettings
	dial        func(ctx context.Context, network, addr string) (net.Conn, error)
}

type saslSettings struct {
	mechanism config.Mechanism
	user      string
	// password is a function so that no fmt verb on the settings (which
	// prints unexported fields raw) can show it.
	password func() string
}

// resolve reads what cluster points at: the protocol version, TLS files
// and the SASL password. Errors name the config field, never a secret.
func resolve(cluster config.Cluster, opts Options) (*settings, error) {
	s := &settings{
		bootstrap:   cluster.Bootstrap,
		controllers: cluster.Controllers,
		timeout:     cluster.Timeout.Duration,
		dial:        opts.Dial,
	}
	if s.timeout <= 0 {
		s.timeout = config.DefaultTimeout
	}
	if s.dial == nil {
		s.dial = (&net.Dialer{}).DialContext
	}
	kv := cluster.KafkaVersion
	if kv == "" {
		kv = config.DefaultKafkaVersion
	}
	v, err := saramaVersion(kv)
	if err != nil {
		return nil, fmt.Errorf("cluster.kafkaVersion: %w", err)
	}
	s.version = v
	if t := cluster.TLS; t != nil && t.Enabled {
		if s.tls, err = tlsConfig(*t); err != nil {
			return nil, err
		}
	}
	if sc := cluster.SASL; sc != nil {
		mech := config.Mechanism(strings.ToUpper(string(sc.Mechanism)))
		switch mech {
		case config.MechanismPlain, config.MechanismSCRAMSHA256, config.MechanismSCRAMSHA512:
		default:
			return nil, fmt.Errorf("cluster.sasl.mechanism: %q is not supported (use PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512)", sc.Mechanism)
		}
		if sc.Username == "" {
			return nil, errors.New("cluster.sasl.username: required")
		}
		pw, err := sc.Password()
		if err != nil {
			return nil, fmt.Errorf("cluster.sasl: %w", err)
		}
		s.sasl = &saslSettings{mechanism: mech, user: sc.Username, password: func() string { return pw }}
	}
	return s, nil
}

// saramaVersion maps a Kafka release to the protocol version sarama should
// speak. Sarama's own default (2.8) is far older than a 4.x cluster and
// would hide newer fields (fenced brokers, finalized features); a release
// newer than sarama knows gets sarama's newest.
func saramaVersion(kafka string) (sarama.KafkaVersion, error) {
	v, err := sarama.ParseKafkaVersion(kafka)
	if err != nil {
		return v, err
	}
	if !v.IsAtLeast(sarama.MinVersion) {
		return v, fmt.Errorf("kafka %s is older than sarama supports (%s)", kafka, sarama.MinVersion)
	}
	if sarama.MaxVersion.IsAtLeast(v) {
		return v, nil
	}
	return sarama.MaxVersion, nil
}

// tlsConfig builds the client TLS configuration from stretch.yaml's tls
// section.
func tlsConfig(t config.TLS) (*tls.Config, error) {
	c := &tls.Config{
		MinVersion:         tls.VersionTLS12,
		ServerName:         t.ServerName,
		InsecureSkipVerify: t.InsecureSkipVerify, //nolint:gosec // an explicit, documented choice of the operator
	}
	if p := t.CAPath(); p != "" {
		pem, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("cluster.tls.caFile: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("cluster.tls.caFile: %s holds no PEM certificate", p)
		}
		c.RootCAs = pool
	}
	cert, key := t.CertPath(), t.KeyPath()
	switch {
	case cert != "" && key != "":
		pair, err := tls.LoadX509KeyPair(cert, key)
		if err != nil {
			// The error describes the PEM structure, never key material.
			return nil, fmt.Errorf("cluster.tls.certFile/keyFile: load %s and %s: %w", cert, key, err)
		}
		c.Certificates = []tls.Certificate{pair}
	case cert != "":
		return nil, errors.New("cluster.tls.keyFile: required when certFile is set")
	case key != "":
		return nil, errors.New("cluster.tls.certFile: required when keyFile is set")
	}
	return c, nil
}

// SaramaConfig builds the sarama configuration for a cluster: an explicit
// protocol Version (never sarama's 2.8 default), TLS, SASL PLAIN or
// SCRAM-SHA-256/512, and every network wait (dial, read, write) bounded by
// cluster.Timeout with at most one metadata or admin retry. opts.Dial, when
// set, is installed as the proxy dialer. Auto-creation of topics through
// metadata requests is off: reading must never change the cluster.
func SaramaConfig(cluster config.Cluster, opts Options) (*sarama.Config, error) {
	s, err := resolve(cluster, opts)
	if err != nil {
		return nil, err
	}
	cfg := s.sarama()
	if opts.Dial != nil {
		cfg.Net.Proxy.Enable = true
		cfg.Net.Proxy.Dialer = &dialer{dial: opts.Dial, timeout: s.timeout}
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("sarama config: %w", err)
	}
	return cfg, nil
}

// sarama returns the sarama config for s. TLS is set the way sarama
// expects it; Snapshot moves the handshake into its own dialer.
func (s *settings) sarama() *sarama.Config {
	cfg := sarama.NewConfig()
	cfg.ClientID = clientID
	cfg.Version = s.version
	cfg.Net.DialTimeout = s.timeout
	cfg.Net.ReadTimeout = s.timeout
	cfg.Net.WriteTimeout = s.timeout
	cfg.Metadata.Retry.Max = 1
	cfg.Metadata.Retry.Backoff = min(250*time.Millisecond, s.timeout/10)
	cfg.Metadata.AllowAutoTopicCreation = false
	cfg.Admin.Retry.Max = 1
	cfg.Admin.Retry.Backoff = cfg.Metadata.Retry.Backoff
	cfg.Admin.Timeout = s.timeout
	if s.tls != nil {
		cfg.Net.TLS.Enable = true
		cfg.Net.TLS.Config = s.tls.Clone()
	}
	if a := s.sasl; a != nil {
		cfg.Net.SASL.Enable = true
		cfg.Net.SASL.Handshake = true
		cfg.Net.SASL.Version = sarama.SASLHandshakeV1
		cfg.Net.SASL.User = a.user
		cfg.Net.SASL.Password = a.password()
		switch a.mechanism {
		case config.MechanismPlain:
			cfg.Net.SASL.Mechanism = sarama.SASLTypePlaintext
		case config.MechanismSCRAMSHA256:
			cfg.Net.SASL.Mechanism = sarama.SASLTypeSCRAMSHA256
			cfg.Net.SASL.SCRAMClientGeneratorFunc = func() sarama.SCRAMClient { return &scramClient{hash: scram.SHA256} }
		case config.MechanismSCRAMSHA512:
			cfg.Net.SASL.Mechanism = sarama.SASLTypeSCRAMSHA512
			cfg.Net.SASL.SCRAMClientGeneratorFunc = func() sarama.SCRAMClient { return &scramClient{hash: scram.SHA512} }
		}
	}
	return cfg
}

// kgoOpts returns franz-go options for talking to one broker with the same
// settings; d dials and does the TLS handshake.
func (s *settings) kgoOpts(addr string, d *dialer) []kgo.Opt {
	opts := []kgo.Opt{
		kgo.SeedBrokers(addr),
		kgo.ClientID(clientID),
		kgo.Dialer(d.DialContext),
		kgo.DialTimeout(s.timeout),
		kgo.RequestRetries(1),
		kgo.RetryTimeout(s.timeout),
		kgo.RequestTimeoutOverhead(s.timeout),
	}
	if m := s.kgoSASL(); m != nil {
		opts = append(opts, kgo.SASL(m))
	}
	return opts
}

// kgoSASL is the franz-go SASL mechanism of s, nil without SASL.
func (s *settings) kgoSASL() sasl.Mechanism {
	a := s.sasl
	if a == nil {
		return nil
	}
	switch a.mechanism {
	case config.MechanismPlain:
		return plain.Auth{User: a.user, Pass: a.password()}.AsMechanism()
	case config.MechanismSCRAMSHA256:
		return kscram.Auth{User: a.user, Pass: a.password()}.AsSha256Mechanism()
	case config.MechanismSCRAMSHA512:
		return kscram.Auth{User: a.user, Pass: a.password()}.AsSha512Mechanism()
	}
	return nil
}

// scramClient is sarama's SCRAMClient on top of github.com/xdg-go/scram,
// the implementation sarama's documentation and examples use.
type scramClient struct {
	hash scram.HashGeneratorFcn
	conv *scram.ClientConversation
}

// Begin starts a SCRAM conversation.
func (c *scramClient) Begin(user, password, authzID string) error {
	cl, err := c.hash.NewClient(user, password, authzID)
	if err != nil {
		// xdg-go's message may quote the input: say which field, nothing more.
		return errors.New("scram: the username or password is not valid SASLprep input")
	}
	c.conv = cl.NewConversation()
	return nil
}

// Step answers the server's challenge.
func (c *scramClient) Step(challenge string) (string, error) { return c.conv.Step(challenge) }

// Done reports whether the conversation is over.
func (c *scramClient) Done() bool { return c.conv.Done() }

// dialer dials with a timeout (through a caller's dial function when set)
// and, with TLS, completes the handshake before returning, so that a
// handshake failure is reported as a *TLSError instead of surfacing later
// as a confusing EOF of the first request. It serves as sarama's proxy
// dialer and as franz-go's dial function.
type dialer struct {
	// ctx, when set, ends every dial, and closes every connection made,
	// when it ends (Snapshot's context).
	ctx     context.Context
	dial    func(ctx context.Context, network, addr string) (net.Conn, error)
	timeout time.Duration
	tls     *tls.Config
	// dropOnTimeout wraps connections in a timeoutConn.
	dropOnTimeout bool
}

// Dial implements golang.org/x/net/proxy.Dialer for sarama.
func (d *dialer) Dial(network, addr string) (net.Conn, error) {
	ctx := d.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	return d.DialContext(ctx, network, addr)
}

// DialContext dials addr within the timeout and, with TLS, completes the handshake.
func (d *dialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	conn, err := d.dial(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	if d.ctx != nil {
		// Closing the socket is the only way to end a sarama request
		// early: sarama itself waits for its read timeout.
		context.AfterFunc(d.ctx, func() { conn.Close() })
	}
	if d.tls == nil {
		return d.wrap(conn), nil
	}
	cfg := d.tls.Clone()
	if cfg.ServerName == "" {
		// As sarama does: verify the name the client dialled.
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			host = addr
		}
		cfg.ServerName = host
	}
	tc := tls.Client(conn, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		conn.Close()
		return nil, &TLSError{Addr: addr, Err: err}
	}
	return d.wrap(tc), nil
}

func (d *dialer) wrap(c net.Conn) net.Conn {
	if !d.dropOnTimeout {
		return c
	}
	return &timeoutConn{Conn: c}
}

// timeoutConn drops a connection at its first timeout and fails every
// later read and write at once with that timeout. A broker that did not
// answer in time is not answering, and a late answer would not match the
// next request anyway; sarama, though, keeps the connection after a
// timeout and goes on (a second ApiVersions, then the request), so that
// one silent broker would cost several timeouts.
//
// It also reads the size prefix of the first answer: a server that is not
// Kafka (an HTTP server, a TLS listener spoken to in plaintext) answers
// bytes that make an absurd frame size, on which sarama would wait for the
// whole timeout and call the server silent. The connection fails at once
// with a *NotKafkaError instead.
type timeoutConn struct {
	net.Conn
	mu   sync.Mutex
	err  error
	head []byte // the first bytes read, up to the first frame's size prefix
}

func (c *timeoutConn) Read(p []byte) (int, error) {
	if err := c.failed(); err != nil {
		return 0, err
	}
	n, err := c.Conn.Read(p)
	if n > 0 && len(c.head) < 4 {
		c.head = append(c.head, p[:min(n, 4-len(c.head))]...)
		if len(c.head) == 4 {
			if bad := checkFrameHead(c.head); bad != nil {
				c.mu.Lock()
				c.err = bad
				c.mu.Unlock()
				c.Conn.Close()
				return 0, bad
			}
		}
	}
	return n, c.check(err)
}

// maxFirstFrame bounds the size of a broker's first answer (ApiVersions or
// SaslHandshake: a few kilobytes); Kafka's own client refuses a receive
// above its buffer just as well (NetworkReceive's maxSize).
const maxFirstFrame = 64 << 20

// NotKafkaError says that a server answered with bytes that are not a
// Kafka response.
type NotKafkaError struct {
	// Head is the first bytes of the answer.
	Head []byte
	// TLS is set when they are a TLS record: the listener wants TLS.
	TLS bool
}

func (e *NotKafkaError) Error() string {
	if e.TLS {
		return "the server answered with TLS: this listener wants TLS (set cluster.tls.enabled: true)"
	}
	return fmt.Sprintf("the server answered with something that is not Kafka (first bytes %q): is this a Kafka listener?", e.Head)
}

// checkFrameHead reads the size prefix of a Kafka response frame.
func checkFrameHead(head []byte) error {
	// A TLS record: content type 21 (alert) or 22 (handshake), version 3.x.
	if (head[0] == 21 || head[0] == 22) && head[1] == 3 {
		return &NotKafkaError{Head: slices.Clone(head), TLS: true}
	}
	if size := int32(binary.BigEndian.Uint32(head)); size < 4 || size > maxFirstFrame {
		return &NotKafkaError{Head: slices.Clone(head)}
	}
	return nil
}

func (c *timeoutConn) Write(p []byte) (int, error) {
	if err := c.failed(); err != nil {
		return 0, err
	}
	n, err := c.Conn.Write(p)
	return n, c.check(err)
}

func (c *timeoutConn) SetDeadline(t time.Time) error { return c.deadline(c.Conn.SetDeadline, t) }
func (c *timeoutConn) SetReadDeadline(t time.Time) error {
	return c.deadline(c.Conn.SetReadDeadline, t)
}
func (c *timeoutConn) SetWriteDeadline(t time.Time) error {
	return c.deadline(c.Conn.SetWriteDeadline, t)
}

func (c *timeoutConn) deadline(set func(time.Time) error, t time.Time) error {
	if err := c.failed(); err != nil {
		return err
	}
	return set(t)
}

func (c *timeoutConn) failed() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

func (c *timeoutConn) check(err error) error {
	if err == nil || !isTimeout(err) {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil {
		c.err = err
		c.Conn.Close()
	}
	return err
}
