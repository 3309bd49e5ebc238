package probe

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/stretchctl/stretchctl/config"
)

// secret is the SASL password of every test: distinctive, so that a
// leak into an error or a log is found by a substring search.
const secret = "Pa55-w0rd-must-never-show"

func TestSaramaConfigVersionAndTimeouts(t *testing.T) {
	tests := []struct {
		name    string
		version string
		timeout time.Duration
		want    sarama.KafkaVersion
		wantTO  time.Duration
		wantErr string
	}{
		{name: "default version and timeout", want: mustVersion(t, config.DefaultKafkaVersion), wantTO: config.DefaultTimeout},
		{name: "4.3.1 as is", version: "4.3.1", timeout: 3 * time.Second, want: sarama.V4_3_1_0, wantTO: 3 * time.Second},
		{name: "3.9 line", version: "3.9.1", timeout: time.Second, want: sarama.V3_9_1_0, wantTO: time.Second},
		{name: "newer than sarama clamps to sarama.MaxVersion", version: "9.1.0", want: sarama.MaxVersion, wantTO: config.DefaultTimeout},
		{name: "older than sarama", version: "0.8.0.0", wantErr: "cluster.kafkaVersion: kafka 0.8.0.0 is older than sarama supports"},
		{name: "not a version", version: "four", wantErr: "cluster.kafkaVersion: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := SaramaConfig(config.Cluster{KafkaVersion: tt.version, Timeout: config.Duration{Duration: tt.timeout}}, Options{})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Version != tt.want {
				t.Errorf("Version = %s, want %s", cfg.Version, tt.want)
			}
			if cfg.Version == sarama.DefaultVersion && tt.want != sarama.DefaultVersion {
				t.Errorf("Version is sarama's default %s", cfg.Version)
			}
			for name, got := range map[string]time.Duration{
				"Net.DialTimeout": cfg.Net.DialTimeout, "Net.ReadTimeout": cfg.Net.ReadTimeout,
				"Net.WriteTimeout": cfg.Net.WriteTimeout, "Admin.Timeout": cfg.Admin.Timeout,
			} {
				if got != tt.wantTO {
					t.Errorf("%s = %v, want %v", name, got, tt.wantTO)
				}
			}
			if cfg.Metadata.Retry.Max > 1 || cfg.Admin.Retry.Max > 1 {
				t.Errorf("retries: metadata %d, admin %d; want at most 1", cfg.Metadata.Retry.Max, cfg.Admin.Retry.Max)
			}
			if cfg.Metadata.AllowAutoTopicCreation {
				t.Error("Metadata.AllowAutoTopicCreation is on: reading must never create topics")
			}
			if cfg.Net.TLS.Enable || cfg.Net.SASL.Enable || cfg.Net.Proxy.Enable {
				t.Errorf("TLS %v, SASL %v, proxy %v; want all off", cfg.Net.TLS.Enable, cfg.Net.SASL.Enable, cfg.Net.Proxy.Enable)
			}
		})
	}
}

func mustVersion(t *testing.T, s string) sarama.KafkaVersion {
	t.Helper()
	v, err := sarama.ParseKafkaVersion(s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestSaramaConfigTLS(t *testing.T) {
	dir := t.TempDir()
	ca, cert, key := writeCerts(t, dir)
	junk := filepath.Join(dir, "junk.pem")
	if err := os.WriteFile(junk, []byte("not pem\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		tls      *config.TLS
		wantTLS  bool
		wantCA   bool
		wantCert bool
		check    func(t *testing.T, cfg *sarama.Config)
		wantErr  string
	}{
		{name: "no tls section", tls: nil},
		{name: "section present but disabled", tls: &config.TLS{Enabled: false, CAFile: ca}},
		{name: "system roots", tls: &config.TLS{Enabled: true}, wantTLS: true},
		{name: "ca file", tls: &config.TLS{Enabled: true, CAFile: ca}, wantTLS: true, wantCA: true},
		{name: "mutual tls", tls: &config.TLS{Enabled: true, CAFile: ca, CertFile: cert, KeyFile: key}, wantTLS: true, wantCA: true, wantCert: true},
		{
			name: "server name and insecure", tls: &config.TLS{Enabled: true, ServerName: "kafka.example.com", InsecureSkipVerify: true}, wantTLS: true,
			check: func(t *testing.T, cfg *sarama.Config) {
				if c := cfg.Net.TLS.Config; c.ServerName != "kafka.example.com" || !c.InsecureSkipVerify {
					t.Errorf("ServerName %q InsecureSkipVerify %v", c.ServerName, c.InsecureSkipVerify)
				}
			},
		},
		{name: "missing ca file", tls: &config.TLS{Enabled: true, CAFile: filepath.Join(dir, "nope.pem")}, wantErr: "cluster.tls.caFile: open "},
		{name: "ca file without pem", tls: &config.TLS{Enabled: true, CAFile: junk}, wantErr: "cluster.tls.caFile: " + junk + " holds no PEM certificate"},
		{name: "cert without key", tls: &config.TLS{Enabled: true, CertFile: cert}, wantErr: "cluster.tls.keyFile: required"},
		{name: "key without cert", tls: &config.TLS{Enabled: true, KeyFile: key}, wantErr: "cluster.tls.certFile: required"},
		{name: "key does not match", tls: &config.TLS{Enabled: true, CertFile: cert, KeyFile: junk}, wantErr: "cluster.tls.certFile/keyFile: load"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := SaramaConfig(config.Cluster{TLS: tt.tls}, Options{})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Net.TLS.Enable != tt.wantTLS {
				t.Fatalf("TLS.Enable = %v, want %v", cfg.Net.TLS.Enable, tt.wantTLS)
			}
			if !tt.wantTLS {
				return
			}
			c := cfg.Net.TLS.Config
			if c.MinVersion < 0x0303 {
				t.Errorf("MinVersion = %#x, want TLS 1.2 or later", c.MinVersion)
			}
			if (c.RootCAs != nil) != tt.wantCA {
				t.Errorf("RootCAs set = %v, want %v", c.RootCAs != nil, tt.wantCA)
			}
			if (len(c.Certificates) == 1) != tt.wantCert {
				t.Errorf("%d client certificates, want %v", len(c.Certificates), tt.wantCert)
			}
			if tt.check != nil {
				tt.check(t, cfg)
			}
		})
	}
}

// writeCerts writes a CA and a client certificate signed by it.
func writeCerts(t *testing.T, dir string) (ca, cert, key string) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test ca"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	cliKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	cliTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "stretchctl"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	cliDER, err := x509.CreateCertificate(rand.Reader, cliTmpl, caTmpl, &cliKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(cliKey)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, typ string, der []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	return write("ca.pem", "CERTIFICATE", caDER), write("client.pem", "CERTIFICATE", cliDER), write("client.key", "EC PRIVATE KEY", keyDER)
}

func TestSaramaConfigSASL(t *testing.T) {
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "pw")
	if err := os.WriteFile(pwFile, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("STRETCHCTL_PROBE_TEST_PW", secret)
	tests := []struct {
		name     string
		sasl     *config.SASL
		wantMech sarama.SASLMechanism
		scram    bool
		wantErr  string
	}{
		{name: "plain from file", sasl: &config.SASL{Mechanism: config.MechanismPlain, Username: "alice", PasswordFile: pwFile}, wantMech: sarama.SASLTypePlaintext},
		{name: "scram-sha-256 from env", sasl: &config.SASL{Mechanism: config.MechanismSCRAMSHA256, Username: "alice", PasswordEnv: "STRETCHCTL_PROBE_TEST_PW"}, wantMech: sarama.SASLTypeSCRAMSHA256, scram: true},
		{name: "scram-sha-512", sasl: &config.SASL{Mechanism: config.MechanismSCRAMSHA512, Username: "alice", PasswordFile: pwFile}, wantMech: sarama.SASLTypeSCRAMSHA512, scram: true},
		{name: "lower-case mechanism", sasl: &config.SASL{Mechanism: "scram-sha-512", Username: "alice", PasswordFile: pwFile}, wantMech: sarama.SASLTypeSCRAMSHA512, scram: true},
		{name: "unsupported mechanism", sasl: &config.SASL{Mechanism: "GSSAPI", Username: "alice", PasswordFile: pwFile}, wantErr: `cluster.sasl.mechanism: "GSSAPI" is not supported`},
		{name: "no username", sasl: &config.SASL{Mechanism: config.MechanismPlain, PasswordFile: pwFile}, wantErr: "cluster.sasl.username: required"},
		{name: "missing password file", sasl: &config.SASL{Mechanism: config.MechanismPlain, Username: "alice", PasswordFile: filepath.Join(dir, "nope")}, wantErr: "cluster.sasl: sasl: read password file"},
		{name: "unset env", sasl: &config.SASL{Mechanism: config.MechanismPlain, Username: "alice", PasswordEnv: "STRETCHCTL_PROBE_TEST_UNSET"}, wantErr: "STRETCHCTL_PROBE_TEST_UNSET is not set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := SaramaConfig(config.Cluster{SASL: tt.sasl}, Options{})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), secret) {
					t.Fatalf("error shows the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			s := cfg.Net.SASL
			if !s.Enable || !s.Handshake || s.Mechanism != tt.wantMech || s.User != "alice" || s.Password != secret {
				t.Errorf("SASL = enable %v handshake %v mechanism %s user %q password set %v; want %s for alice with the password",
					s.Enable, s.Handshake, s.Mechanism, s.User, s.Password == secret, tt.wantMech)
			}
			if !tt.scram {
				return
			}
			if s.SCRAMClientGeneratorFunc == nil {
				t.Fatal("no SCRAMClientGeneratorFunc: sarama refuses SCRAM without one")
			}
			c := s.SCRAMClientGeneratorFunc()
			if err := c.Begin(s.User, s.Password, ""); err != nil {
				t.Fatal(err)
			}
			first, err := c.Step("")
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(first, "n,,n=alice,r=") || c.Done() {
				t.Errorf("client-first message %q (done %v), want n,,n=alice,r=<nonce>", first, c.Done())
			}
		})
	}
}

func TestSaramaConfigDial(t *testing.T) {
	var dialed string
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		dialed = addr
		if _, ok := ctx.Deadline(); !ok {
			t.Error("dial context has no deadline")
		}
		return nil, &net.OpError{Op: "dial", Net: network, Err: os.ErrDeadlineExceeded}
	}
	cfg, err := SaramaConfig(config.Cluster{Timeout: config.Duration{Duration: time.Second}}, Options{Dial: dial})
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Net.Proxy.Enable || cfg.Net.Proxy.Dialer == nil {
		t.Fatal("opts.Dial is not installed as sarama's proxy dialer")
	}
	if _, err := cfg.Net.Proxy.Dialer.Dial("tcp", "198.18.1.11:9092"); err == nil {
		t.Error("dial error lost")
	}
	if dialed != "198.18.1.11:9092" {
		t.Errorf("Options.Dial called with %q", dialed)
	}
}

// TestSaslPasswordNeverShown runs the SASL settings through every string
// form they take (fmt verbs on the settings, errors of a failed login).
func TestSaslPasswordNeverShown(t *testing.T) {
	t.Setenv("STRETCHCTL_PROBE_TEST_PW", secret)
	cl := config.Cluster{
		Bootstrap: []string{"127.0.0.1:1"},
		SASL:      &config.SASL{Mechanism: config.MechanismSCRAMSHA512, Username: "alice", PasswordEnv: "STRETCHCTL_PROBE_TEST_PW"},
	}
	s, err := resolve(cl, Options{})
	if err != nil {
		t.Fatal(err)
	}
	authErr := &AuthError{Mechanism: "SCRAM-SHA-512", User: "alice", Err: sarama.ErrSASLAuthenticationFailed}
	for _, text := range []string{
		fmtAll(s), fmtAll(*s), fmtAll(s.sasl), fmtAll(*s.sasl),
		authErr.Error(),
		(&ConnectError{Addrs: cl.Bootstrap, Errs: []error{authErr}}).Error(),
	} {
		if strings.Contains(text, secret) {
			t.Errorf("password shown in %q", text)
		}
	}
}

func fmtAll(v any) string { return fmt.Sprintf("%v|%+v|%#v|%s", v, v, v, v) }
