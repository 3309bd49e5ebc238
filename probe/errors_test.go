package probe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/stretchctl/stretchctl/config"
	"github.com/stretchctl/stretchctl/topology"
)

// closedAddr returns a local address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// fakeServer accepts connections and hands each to serve.
func fakeServer(t *testing.T, serve func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				serve(c)
			}()
		}
	}()
	return ln.Addr().String()
}

// silent reads and never answers, like a frozen broker.
func silent(c net.Conn) { _, _ = io.Copy(io.Discard, c) }

// plaintextKafka reads the first bytes and closes, as a plaintext Kafka
// listener does with a TLS ClientHello (an absurd request size).
func plaintextKafka(c net.Conn) {
	buf := make([]byte, 4)
	_, _ = io.ReadFull(c, buf)
}

// httpish answers anything with bytes that are not a TLS record.
func httpish(c net.Conn) {
	buf := make([]byte, 512)
	_, _ = c.Read(buf)
	_, _ = c.Write([]byte("HTTP/1.0 400 Bad Request\r\n\r\n"))
}

// tlsListener is a TLS server that never gets to answer a request.
func tlsListener(t *testing.T) string {
	t.Helper()
	_, cert, key := writeCerts(t, t.TempDir())
	pair, err := tls.LoadX509KeyPair(cert, key)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{pair}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, _ = c.Read(make([]byte, 1)) // fails: a plaintext request is no handshake
			}()
		}
	}()
	return ln.Addr().String()
}

func TestSnapshotConnectErrors(t *testing.T) {
	refused := closedAddr(t)
	tests := []struct {
		name    string
		cluster config.Cluster
		want    string
		is      error
		as      any
		also    []string
	}{
		{
			name:    "connection refused",
			cluster: config.Cluster{Bootstrap: []string{refused}},
			want:    "could not connect to " + refused + ": connection refused",
			is:      syscall.ECONNREFUSED,
		},
		{
			name:    "refused and silent",
			cluster: config.Cluster{Bootstrap: []string{refused, fakeServer(t, silent)}},
			want:    "could not connect to any bootstrap server: " + refused + ": connection refused; 127.0.0.1:",
		},
		{
			name:    "silent server",
			cluster: config.Cluster{Bootstrap: []string{fakeServer(t, silent)}},
			want:    ": no answer within 300ms",
		},
		{
			name:    "tls against a listener that hangs up",
			cluster: config.Cluster{Bootstrap: []string{fakeServer(t, plaintextKafka)}, TLS: &config.TLS{Enabled: true}},
			want:    "TLS handshake failed: the server closed the connection (is this a plaintext listener?",
			as:      new(*TLSError),
		},
		{
			name:    "tls against a listener that answers in plaintext",
			cluster: config.Cluster{Bootstrap: []string{fakeServer(t, httpish)}, TLS: &config.TLS{Enabled: true}},
			want:    "TLS handshake failed: the server's first bytes are not a TLS record (is this a plaintext listener?",
			as:      new(*TLSError),
		},
		{
			name:    "plaintext against a TLS listener",
			cluster: config.Cluster{Bootstrap: []string{tlsListener(t)}},
			want:    "the broker closed the connection before answering (does this listener require TLS or SASL?",
		},
		{
			name:    "a server that answers garbage is named, not called silent",
			cluster: config.Cluster{Bootstrap: []string{fakeServer(t, httpish)}},
			want:    `the server answered with something that is not Kafka (first bytes "HTTP"): is this a Kafka listener?`,
			as:      new(*NotKafkaError),
		},
		{
			name:    "each address keeps its own error",
			cluster: config.Cluster{Bootstrap: []string{refused, fakeServer(t, httpish), fakeServer(t, silent)}},
			want:    "could not connect to any bootstrap server: " + refused + ": connection refused; 127.0.0.1:",
			also:    []string{"is not Kafka", "no answer within 300ms"},
		},
		{
			name:    "no bootstrap servers",
			cluster: config.Cluster{},
			want:    "could not connect: no bootstrap server configured",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cluster.Timeout = config.Duration{Duration: 300 * time.Millisecond}
			_, err := Snapshot(context.Background(), tt.cluster, Options{})
			var ce *ConnectError
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v (%T), want a *ConnectError", err, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %q, want it to contain %q", err, tt.want)
			}
			for _, w := range tt.also {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("err = %q, want it to contain %q", err, w)
				}
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("errors.Is(err, %v) = false", tt.is)
			}
			if tt.as != nil && !errors.As(err, tt.as) {
				t.Errorf("errors.As(err, %T) = false", tt.as)
			}
		})
	}
}

// TestSnapshotWrongCredentials logs in against sarama's mock broker, which
// refuses the credentials as a SASL listener does.
func TestSnapshotWrongCredentials(t *testing.T) {
	mb := sarama.NewMockBroker(t, 1)
	defer mb.Close()
	mb.SetHandlerByMap(map[string]sarama.MockResponse{
		"ApiVersionsRequest": sarama.NewMockApiVersionsResponse(t).SetApiKeys([]sarama.ApiVersionsResponseKey{
			{ApiKey: 3, MinVersion: 0, MaxVersion: 12}, // Metadata
			{ApiKey: 17, MinVersion: 0, MaxVersion: 1}, // SaslHandshake
			{ApiKey: 18, MinVersion: 0, MaxVersion: 3}, // ApiVersions
			{ApiKey: 36, MinVersion: 0, MaxVersion: 2}, // SaslAuthenticate
		}),
		"SaslHandshakeRequest":    sarama.NewMockSaslHandshakeResponse(t).SetEnabledMechanisms([]string{sarama.SASLTypePlaintext}),
		"SaslAuthenticateRequest": sarama.NewMockSaslAuthenticateResponse(t).SetError(sarama.ErrSASLAuthenticationFailed),
	})
	t.Setenv("STRETCHCTL_PROBE_TEST_PW", secret)
	cl := config.Cluster{
		Bootstrap: []string{mb.Addr()},
		Timeout:   config.Duration{Duration: 2 * time.Second},
		SASL:      &config.SASL{Mechanism: config.MechanismPlain, Username: "alice", PasswordEnv: "STRETCHCTL_PROBE_TEST_PW"},
	}
	_, err := Snapshot(context.Background(), cl, Options{})
	var ae *AuthError
	if !errors.As(err, &ae) || !errors.Is(err, sarama.ErrSASLAuthenticationFailed) {
		t.Fatalf("err = %v, want an *AuthError wrapping ErrSASLAuthenticationFailed", err)
	}
	want := fmt.Sprintf(`could not connect to %s: SASL authentication failed for user "alice" with PLAIN`, mb.Addr())
	if !strings.HasPrefix(err.Error(), want) {
		t.Errorf("err = %q, want it to start with %q", err, want)
	}
	if strings.Contains(err.Error(), secret) || strings.Contains(fmt.Sprintf("%#v", err), secret) {
		t.Errorf("error shows the password: %v", err)
	}
}

func TestSnapshotEndsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	cl := config.Cluster{Bootstrap: []string{fakeServer(t, silent)}, Timeout: config.Duration{Duration: time.Minute}}
	_, err := Snapshot(ctx, cl, Options{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestReason(t *testing.T) {
	opErr := func(err error) error { return &net.OpError{Op: "dial", Net: "tcp", Err: err} }
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"refused", opErr(syscall.ECONNREFUSED), "connection refused"},
		{"no route", opErr(syscall.EHOSTUNREACH), "no route to host"},
		{"timeout", opErr(context.DeadlineExceeded), "no answer within 10s"},
		{"dns", &net.DNSError{Name: "kafka-9.example", Err: "no such host"}, "cannot resolve host kafka-9.example"},
		{"eof", io.EOF, "the broker closed the connection"},
		{"client certificate refused", &net.OpError{Op: "remote error", Err: errors.New("tls: certificate required")}, "the broker refused the client certificate (remote error: tls: certificate required): this listener wants one"},
		{"unknown authority", &TLSError{Err: x509.UnknownAuthorityError{}}, "TLS handshake failed: the broker's certificate is signed by an unknown authority (set cluster.tls.caFile)"},
		{"hostname", &TLSError{Err: x509.HostnameError{Certificate: &x509.Certificate{}, Host: "10.0.0.1"}}, "(set cluster.tls.serverName)"},
		{"record header", &TLSError{Err: tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"}}, "not a TLS record"},
		{"listener without sasl", &AuthError{Mechanism: "PLAIN", Err: sarama.ErrIllegalSASLState}, "SASL handshake refused: the listener does not use SASL"},
		{"mechanism not enabled", &AuthError{Mechanism: "SCRAM-SHA-512", Err: sarama.ErrUnsupportedSASLMechanism}, "the listener does not enable SCRAM-SHA-512"},
		{
			"wrong credentials with the broker's message",
			&AuthError{Mechanism: "SCRAM-SHA-256", User: "bob", Err: sarama.Wrap(sarama.ErrSASLAuthenticationFailed, errors.New("Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-256"))},
			`SASL authentication failed for user "bob" with SCRAM-SHA-256: Authentication failed during authentication due to invalid credentials`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := reason(tt.err, 10*time.Second); !strings.Contains(got, tt.want) {
				t.Errorf("reason = %q, want it to contain %q", got, tt.want)
			}
		})
	}
}

func TestConnectErrorHangUp(t *testing.T) {
	e := &ConnectError{Addrs: []string{"10.0.0.1:9093"}, Errs: []error{io.EOF}}
	want := "could not connect to 10.0.0.1:9093: the broker closed the connection before answering (does this listener require TLS or SASL? set cluster.tls or cluster.sasl)"
	if e.Error() != want {
		t.Errorf("err = %q, want %q", e.Error(), want)
	}
}

func TestConfigs(t *testing.T) {
	entries := []*sarama.ConfigEntry{
		{Name: "min.insync.replicas", Value: "3", Source: sarama.SourceTopic},
		{Name: "broker.rack", Value: "dc-a", Source: sarama.SourceStaticBroker},
		{Name: "log.retention.ms", Value: "1000", Source: sarama.SourceDynamicBroker},
		{Name: "log.cleaner.threads", Value: "2", Source: sarama.SourceDynamicDefaultBroker},
		{Name: "unclean.leader.election.enable", Value: "false", Source: sarama.SourceDefault},
		{Name: "v0.default", Value: "x", Default: true},
		{Name: "v0.set", Value: "y"},
		{Name: "ssl.keystore.password", Value: "hunter2", Source: sarama.SourceStaticBroker, Sensitive: true},
	}
	want := topology.Configs{
		"min.insync.replicas":            {Value: "3", Source: topology.SourceTopic},
		"broker.rack":                    {Value: "dc-a", Source: topology.SourceStaticBroker},
		"log.retention.ms":               {Value: "1000", Source: topology.SourceDynamicBroker},
		"log.cleaner.threads":            {Value: "2", Source: topology.SourceDynamicDefault},
		"unclean.leader.election.enable": {Value: "false", Source: topology.SourceDefault},
		"v0.default":                     {Value: "x", Source: topology.SourceDefault},
		"v0.set":                         {Value: "y", Source: topology.SourceUnknown},
		"ssl.keystore.password":          {Value: "", Source: topology.SourceStaticBroker, Sensitive: true},
	}
	got := configs(entries)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("configs =\n%v\nwant\n%v", got, want)
	}
}

func TestMode(t *testing.T) {
	zk := topology.Configs{"zookeeper.connect": {Value: "zk1:2181"}}
	kraftRoles := topology.Configs{"process.roles": {Value: "broker"}, "zookeeper.connect": {Value: ""}}
	tests := []struct {
		name string
		snap topology.Snapshot
		want string
	}{
		{"zookeeper.connect set", topology.Snapshot{Brokers: []topology.Broker{{Configs: zk}}}, "zookeeper"},
		{"process.roles set", topology.Snapshot{Brokers: []topology.Broker{{Configs: kraftRoles}}}, "kraft"},
		{"quorum answered, configs unread", topology.Snapshot{Brokers: []topology.Broker{{}}, Quorum: &topology.Quorum{}}, "kraft"},
		{"nothing known", topology.Snapshot{Brokers: []topology.Broker{{}}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mode(&tt.snap); got != tt.want {
				t.Errorf("mode = %q, want %q", got, tt.want)
			}
		})
	}
}
