package lab

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/stretchctl/stretchctl/config"
)

// Security is how the lab's listeners authenticate clients. Every secured
// lab authorizes with KRaft's StandardAuthorizer: only the nodes' own
// principals are super users, and the tool's principal (ToolUser) holds
// exactly the ACLs of ToolACLs.
type Security string

// The lab's security modes.
const (
	// SecurityPlaintext: no TLS, no authentication, no authorizer.
	SecurityPlaintext Security = "plaintext"
	// SecuritySSL: TLS on every listener with client certificates
	// (ssl.client.auth=required); the principal is the certificate's CN.
	SecuritySSL Security = "ssl"
	// SecuritySASLSSL: TLS on every listener, SCRAM-SHA-512 users created
	// when the storage is formatted (KIP-900).
	SecuritySASLSSL Security = "sasl_ssl"
)

// ParseSecurity reads a --security value.
func ParseSecurity(s string) (Security, error) {
	switch v := Security(strings.ToLower(s)); v {
	case "", SecurityPlaintext:
		return SecurityPlaintext, nil
	case SecuritySSL, SecuritySASLSSL:
		return v, nil
	}
	return "", fmt.Errorf("security %q: want plaintext, ssl or sasl_ssl", s)
}

// Secured reports whether the lab's listeners use TLS and an authorizer.
func (s Security) Secured() bool { return s == SecuritySSL || s == SecuritySASLSSL }

// The lab's principals.
const (
	// ToolUser is the principal stretchctl runs as against a secured lab.
	ToolUser = "stretchctl"
	// brokerUser and controllerUser are the nodes' own principals: the
	// only super users. Brokers talk to brokers as brokerUser (SCRAM or
	// their certificate) and every node talks to the controllers as
	// controllerUser.
	brokerUser     = "broker"
	controllerUser = "controller"
)

// securityDir holds the lab's CA, certificates, keys and passwords
// (mode 0700; keys and passwords 0600).
const securityDir = "security"

// The files of securityDir, relative to the lab directory: the
// stretch.yaml `lab up` writes names the tool's files by these paths.
const (
	caFile           = securityDir + "/ca.pem"
	toolCertFile     = securityDir + "/" + ToolUser + ".crt"
	toolKeyFile      = securityDir + "/" + ToolUser + ".key"
	toolPasswordFile = securityDir + "/" + ToolUser + ".password"
	// The nodes' own identity, which the lab also uses for its own
	// requests (readiness, faults, granting the tool's ACLs).
	internalCertFile     = securityDir + "/internal.crt"
	internalKeyFile      = securityDir + "/internal.key"
	internalPasswordFile = securityDir + "/internal.password"
)

func nodeKeystore(id int32) string { return fmt.Sprintf("%s/node-%d.pem", securityDir, id) }

// makeSecurity writes a fresh CA, a certificate for every node (its
// address as subject alternative name: clients verify it), client
// certificates for the tool and the lab, and random passwords. The CA's
// key lives only in memory: nothing can be signed after `lab up`. Go's
// crypto makes them, so the lab needs neither openssl nor keytool: Kafka
// reads PEM key stores itself (ssl.keystore.type=PEM, KIP-651).
func makeSecurity(st *State) error {
	dir := st.Dir
	if err := os.MkdirAll(filepath.Join(dir, securityDir), 0o700); err != nil {
		return err
	}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "stretchctl lab CA " + st.ClusterID[:8]},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(1, 0, 0),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return err
	}
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	if err := os.WriteFile(filepath.Join(dir, caFile), caPEM, 0o644); err != nil {
		return err
	}
	issue := func(cn string, ips []net.IP, usage []x509.ExtKeyUsage) (certPEM, keyPEM []byte, err error) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, nil, err
		}
		tmpl := &x509.Certificate{
			SerialNumber: serial(),
			Subject:      pkix.Name{CommonName: cn},
			NotBefore:    now.Add(-time.Hour),
			NotAfter:     now.AddDate(1, 0, 0),
			KeyUsage:     x509.KeyUsageDigitalSignature,
			ExtKeyUsage:  usage,
			IPAddresses:  ips,
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			return nil, nil, err
		}
		pk, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return nil, nil, err
		}
		return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk}), nil
	}
	both := []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	for _, n := range st.Layout.Nodes {
		cert, key, err := issue(nodePrincipal(n), []net.IP{n.Addr.AsSlice()}, both)
		if err != nil {
			return err
		}
		// A PEM key store is the key followed by the certificate chain.
		if err := os.WriteFile(filepath.Join(dir, nodeKeystore(n.ID)), append(append(key, cert...), caPEM...), 0o600); err != nil {
			return err
		}
	}
	client := []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	for _, id := range []struct{ cn, cert, key string }{{ToolUser, toolCertFile, toolKeyFile}, {brokerUser, internalCertFile, internalKeyFile}} {
		cert, key, err := issue(id.cn, nil, client)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, id.cert), cert, 0o644); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, id.key), key, 0o600); err != nil {
			return err
		}
	}
	for _, f := range []string{toolPasswordFile, internalPasswordFile} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(password()+"\n"), 0o600); err != nil {
			return err
		}
	}
	return nil
}

// nodePrincipal is the CN of a node's certificate: with ssl, the
// principal it authenticates as (see principalRules).
func nodePrincipal(n Node) string {
	if n.Has(RoleBroker) {
		return brokerUser
	}
	return controllerUser
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	return n
}

// password is 24 random bytes in hex: no character that JAAS, the storage
// tool's --add-scram syntax or SASLprep would treat specially.
func password() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// readPassword reads one of securityDir's password files.
func readPassword(dir, file string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, file))
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

// principalRules maps a certificate's subject "CN=name" to the principal
// User:name (ssl.principal.mapping.rules, KIP-371); other subjects keep
// Kafka's default (the whole DN).
const principalRules = `RULE:^CN=([^,]+)$/$1/,DEFAULT`

// securityProperties sets a node's listeners and authorizer for st's
// security mode. The broker listener is named after its protocol (SSL or
// SASL_SSL), the controller listener CONTROLLER.
//
// With sasl_ssl the broker listener takes SCRAM-SHA-512 only; the
// controller listener takes PLAIN, for the nodes' own connections (a
// controller must authenticate its peers before it has read the SCRAM
// credentials, which live in the metadata log), and SCRAM-SHA-512, for the
// tool's KIP-919 requests (controllers publish SCRAM credentials from the
// metadata image like brokers do: ControllerServer's ScramPublisher).
func securityProperties(set func(k, v string), st *State, n Node, internalPassword string) {
	dir := st.Dir
	listener := listenerName(st.Security)
	set("listener.security.protocol.map", fmt.Sprintf("%s:%s,CONTROLLER:%s", listener, listener, listener))
	if !st.Security.Secured() {
		return
	}
	set("ssl.keystore.type", "PEM")
	set("ssl.keystore.location", filepath.Join(dir, nodeKeystore(n.ID)))
	set("ssl.truststore.type", "PEM")
	set("ssl.truststore.location", filepath.Join(dir, caFile))
	set("authorizer.class.name", "org.apache.kafka.metadata.authorizer.StandardAuthorizer")
	set("super.users", "User:"+brokerUser+";User:"+controllerUser)
	set("allow.everyone.if.no.acl.found", "false")
	switch st.Security {
	case SecuritySSL:
		set("ssl.client.auth", "required")
		set("ssl.principal.mapping.rules", principalRules)
	case SecuritySASLSSL:
		jaas := func(module, opts string) string {
			return fmt.Sprintf("org.apache.kafka.common.security.%s required%s;", module, opts)
		}
		set("sasl.mechanism.inter.broker.protocol", string(config.MechanismSCRAMSHA512))
		set("sasl.mechanism.controller.protocol", string(config.MechanismPlain))
		set("listener.name.sasl_ssl.sasl.enabled.mechanisms", string(config.MechanismSCRAMSHA512))
		set("listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config",
			jaas("scram.ScramLoginModule", fmt.Sprintf(` username="%s" password="%s"`, brokerUser, internalPassword)))
		set("listener.name.controller.sasl.enabled.mechanisms", string(config.MechanismPlain)+","+string(config.MechanismSCRAMSHA512))
		set("listener.name.controller.plain.sasl.jaas.config",
			jaas("plain.PlainLoginModule", fmt.Sprintf(` username="%s" password="%s" user_%s="%s"`, controllerUser, internalPassword, controllerUser, internalPassword)))
		set("listener.name.controller.scram-sha-512.sasl.jaas.config", jaas("scram.ScramLoginModule", ""))
	}
}

// listenerName is the broker listener's name: its security protocol.
func listenerName(s Security) string {
	switch s {
	case SecuritySSL:
		return "SSL"
	case SecuritySASLSSL:
		return "SASL_SSL"
	}
	return "PLAINTEXT"
}

// nodeSecrets reads what configuring and formatting the nodes needs: the
// nodes' own password (secured labs) and the storage tool's --add-scram
// arguments (sasl_ssl, KIP-900): the brokers' own user and the tool's,
// both SCRAM-SHA-512.
func nodeSecrets(st *State) (internal string, formatArgs []string, err error) {
	if !st.Security.Secured() {
		return "", nil, nil
	}
	if internal, err = readPassword(st.Dir, internalPasswordFile); err != nil || st.Security != SecuritySASLSSL {
		return internal, nil, err
	}
	tool, err := readPassword(st.Dir, toolPasswordFile)
	if err != nil {
		return "", nil, err
	}
	for _, u := range [][2]string{{brokerUser, internal}, {ToolUser, tool}} {
		formatArgs = append(formatArgs, "--add-scram", fmt.Sprintf("%s=[name=%s,password=%s]", config.MechanismSCRAMSHA512, u[0], u[1]))
	}
	return internal, formatArgs, nil
}

// identity is who connects to the lab, and where.
type identity int

const (
	// asTool is the tool's principal (ToolUser), with its ACLs only.
	asTool identity = iota
	// asNodes is the nodes' own (super) user on the broker listener.
	asNodes
	// asNodesToControllers is the nodes' own user on the controller
	// listener, where it speaks PLAIN.
	asNodesToControllers
)

// clusterAs is how who connects to the lab. Files are named under base:
// the lab directory for the lab's own connections, "" for stretch.yaml,
// which names them relative to itself (it lives in the lab directory).
func (st *State) clusterAs(who identity, base string) config.Cluster {
	c := config.Cluster{Bootstrap: st.BootstrapServers(), KafkaVersion: st.KafkaVersion}
	if !st.Security.Secured() {
		return c
	}
	path := func(p string) string { return filepath.Join(base, p) }
	c.TLS = &config.TLS{Enabled: true, CAFile: path(caFile)}
	switch st.Security {
	case SecuritySSL:
		c.TLS.CertFile, c.TLS.KeyFile = path(internalCertFile), path(internalKeyFile)
		if who == asTool {
			c.TLS.CertFile, c.TLS.KeyFile = path(toolCertFile), path(toolKeyFile)
		}
	case SecuritySASLSSL:
		c.SASL = &config.SASL{Mechanism: config.MechanismSCRAMSHA512, Username: brokerUser, PasswordFile: path(internalPasswordFile)}
		switch who {
		case asTool:
			c.SASL.Username, c.SASL.PasswordFile = ToolUser, path(toolPasswordFile)
		case asNodesToControllers:
			c.SASL.Mechanism, c.SASL.Username = config.MechanismPlain, controllerUser
		}
	}
	return c
}
