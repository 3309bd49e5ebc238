package lab

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/magiconair/properties"
)

// TestMakeSecurity checks what `lab up --security` writes: a CA, node key
// stores whose certificates a client verifies against the node's address,
// client certificates for the tool and the lab, passwords; secrets 0600.
func TestMakeSecurity(t *testing.T) {
	l, err := BuildLayout(Topology3DC, 1)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	st := &State{Dir: dir, Network: NetworkNamespaces, Layout: l, ClusterID: "abcdefghijklmnopqrstuv", Security: SecuritySASLSSL}
	st.assignAddresses()
	if err := makeSecurity(st); err != nil {
		t.Fatal(err)
	}
	caPEM, err := os.ReadFile(filepath.Join(dir, caFile))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		t.Fatal("ca.pem holds no certificate")
	}
	certOf := func(b []byte) *x509.Certificate {
		for {
			var blk *pem.Block
			blk, b = pem.Decode(b)
			if blk == nil {
				t.Fatal("no certificate")
			}
			if blk.Type == "CERTIFICATE" {
				c, err := x509.ParseCertificate(blk.Bytes)
				if err != nil {
					t.Fatal(err)
				}
				return c
			}
		}
	}
	for _, n := range st.Layout.Nodes {
		b, err := os.ReadFile(filepath.Join(dir, nodeKeystore(n.ID)))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(b), "-----BEGIN PRIVATE KEY-----") {
			t.Errorf("node %d key store does not start with its PKCS#8 key", n.ID)
		}
		c := certOf(b)
		if _, err := c.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
			t.Errorf("node %d certificate: %v", n.ID, err)
		}
		if err := c.VerifyHostname(n.Addr.String()); err != nil {
			t.Errorf("node %d certificate does not name its address: %v", n.ID, err)
		}
		if c.Subject.CommonName != nodePrincipal(n) {
			t.Errorf("node %d certificate CN %q, want %q", n.ID, c.Subject.CommonName, nodePrincipal(n))
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, toolCertFile))
	if err != nil {
		t.Fatal(err)
	}
	if c := certOf(b); c.Subject.CommonName != ToolUser {
		t.Errorf("tool certificate CN %q", c.Subject.CommonName)
	} else if _, err := c.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("tool certificate: %v", err)
	}
	for _, f := range []string{toolKeyFile, internalKeyFile, toolPasswordFile, internalPasswordFile, nodeKeystore(1)} {
		fi, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", f, fi.Mode().Perm())
		}
	}
	pw1, _ := readPassword(dir, toolPasswordFile)
	pw2, _ := readPassword(dir, internalPasswordFile)
	if len(pw1) != 48 || pw1 == pw2 {
		t.Errorf("passwords %d chars, equal %v: want 48 random hex characters each", len(pw1), pw1 == pw2)
	}
	internal, args, err := nodeSecrets(st)
	if err != nil || internal != pw2 {
		t.Fatalf("node secrets: %v, internal password read %v", err, internal == pw2)
	}
	joined := strings.Join(args, " ")
	for _, want := range []string{"--add-scram SCRAM-SHA-512=[name=broker,password=" + pw2 + "]", "--add-scram SCRAM-SHA-512=[name=stretchctl,password=" + pw1 + "]"} {
		if !strings.Contains(joined, want) {
			t.Errorf("storage tool arguments lack %q", want)
		}
	}
}

func TestSecuredServerProperties(t *testing.T) {
	l, err := BuildLayout(Topology25DC, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, sec := range []Security{SecuritySSL, SecuritySASLSSL} {
		st := &State{Dir: "/lab", Network: NetworkNamespaces, Layout: l, Security: sec, ClusterID: "abcdefghijklmnopqrstuv"}
		st.assignAddresses()
		var buf bytes.Buffer
		if _, err := serverProperties(st, *st.node(1), "/data", "pw").Write(&buf, properties.UTF8); err != nil {
			t.Fatal(err)
		}
		p := properties.MustLoadString(buf.String())
		name := listenerName(sec)
		want := map[string]string{
			"listener.security.protocol.map": name + ":" + name + ",CONTROLLER:" + name,
			"listeners":                      name + "://198.18.1.11:9092,CONTROLLER://198.18.1.11:9093",
			"inter.broker.listener.name":     name,
			"ssl.keystore.type":              "PEM",
			"ssl.keystore.location":          "/lab/security/node-1.pem",
			"ssl.truststore.location":        "/lab/security/ca.pem",
			"authorizer.class.name":          "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
			"super.users":                    "User:broker;User:controller",
		}
		if sec == SecuritySSL {
			want["ssl.client.auth"] = "required"
			want["ssl.principal.mapping.rules"] = principalRules
		} else {
			want["sasl.mechanism.inter.broker.protocol"] = "SCRAM-SHA-512"
			want["sasl.mechanism.controller.protocol"] = "PLAIN"
			want["listener.name.controller.sasl.enabled.mechanisms"] = "PLAIN,SCRAM-SHA-512"
			want["listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config"] = `org.apache.kafka.common.security.scram.ScramLoginModule required username="broker" password="pw";`
		}
		for k, v := range want {
			if got := p.GetString(k, ""); got != v {
				t.Errorf("%s: %s = %q, want %q", sec, k, got, v)
			}
		}
		if c := st.Config().Cluster; c.TLS == nil || c.TLS.CAFile != caFile || (sec == SecuritySASLSSL) != (c.SASL != nil) || (sec == SecuritySSL) != (c.TLS.CertFile == toolCertFile) {
			t.Errorf("%s: stretch.yaml connection %+v %+v", sec, c.TLS, c.SASL)
		}
	}
}

func TestParseSecurity(t *testing.T) {
	for in, want := range map[string]Security{"": SecurityPlaintext, "SASL_SSL": SecuritySASLSSL, "ssl": SecuritySSL} {
		if got, err := ParseSecurity(in); err != nil || got != want {
			t.Errorf("ParseSecurity(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParseSecurity("sasl_plaintext"); err == nil || !strings.Contains(err.Error(), "plaintext, ssl or sasl_ssl") {
		t.Errorf("sasl_plaintext: %v", err)
	}
}
