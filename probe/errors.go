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
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kerr"
)

// ConnectError says that no bootstrap server could be used: none answered,
// or each refused the connection, the TLS handshake or the SASL login. It
// means the cluster could not be assessed at all (exit code 2 in the CLI).
// The per-address errors are kept, so errors.As finds a *TLSError or an
// *AuthError inside it.
type ConnectError struct {
	// Addrs are the bootstrap addresses tried, in config order.
	Addrs []string
	// Errs holds the error of each address, parallel to Addrs.
	Errs []error
	// Timeout is the per-request bound the addresses were tried with.
	Timeout time.Duration
}

// Error reads e.g. "could not connect to 198.18.1.11:9092: connection
// refused", one reason for all addresses when they share it.
func (e *ConnectError) Error() string {
	reasons := make([]string, len(e.Errs))
	same := true
	for i, err := range e.Errs {
		reasons[i] = connectReason(err, e.Timeout)
		same = same && reasons[i] == reasons[0]
	}
	if len(e.Addrs) == 0 {
		return "could not connect: no bootstrap server configured"
	}
	if same && len(reasons) > 0 {
		return fmt.Sprintf("could not connect to %s: %s", strings.Join(e.Addrs, ", "), reasons[0])
	}
	parts := make([]string, len(e.Addrs))
	for i, a := range e.Addrs {
		r := "no answer"
		if i < len(reasons) {
			r = reasons[i]
		}
		parts[i] = a + ": " + r
	}
	return "could not connect to any bootstrap server: " + strings.Join(parts, "; ")
}

// Unwrap returns the per-address errors.
func (e *ConnectError) Unwrap() []error { return e.Errs }

// TLSError is a failed TLS handshake with one broker.
type TLSError struct {
	Addr string
	Err  error
}

// Error explains the most likely cause, e.g. a plaintext listener.
func (e *TLSError) Error() string {
	var (
		rec   tls.RecordHeaderError
		ua    x509.UnknownAuthorityError
		host  x509.HostnameError
		inval x509.CertificateInvalidError
		alert tls.AlertError
	)
	const plain = " (is this a plaintext listener? remove cluster.tls or use the TLS listener)"
	switch {
	case errors.As(e.Err, &rec):
		return "TLS handshake failed: the server's first bytes are not a TLS record" + plain
	case errors.Is(e.Err, io.EOF), errors.Is(e.Err, io.ErrUnexpectedEOF), errors.Is(e.Err, syscall.ECONNRESET):
		return "TLS handshake failed: the server closed the connection" + plain
	case isTimeout(e.Err):
		return "TLS handshake failed: no answer to the handshake" + plain
	case errors.As(e.Err, &ua):
		return "TLS handshake failed: the broker's certificate is signed by an unknown authority (set cluster.tls.caFile)"
	case errors.As(e.Err, &host):
		return "TLS handshake failed: " + host.Error() + " (set cluster.tls.serverName)"
	case errors.As(e.Err, &inval):
		return "TLS handshake failed: " + inval.Error()
	case errors.As(e.Err, &alert):
		return "TLS handshake failed: the broker sent alert " + alert.Error() + " (does it require a client certificate? set cluster.tls.certFile and keyFile)"
	}
	return "TLS handshake failed: " + e.Err.Error()
}

// Unwrap returns the handshake error.
func (e *TLSError) Unwrap() error { return e.Err }

// AuthError is a failed SASL login with one broker: wrong credentials, a
// mechanism the listener does not enable, or a listener without SASL.
type AuthError struct {
	Mechanism string
	User      string
	Err       error
}

// Error says what the broker objected to; it never includes the password.
func (e *AuthError) Error() string {
	switch {
	case errors.Is(e.Err, sarama.ErrIllegalSASLState):
		return "SASL handshake refused: the listener does not use SASL (remove cluster.sasl or use the SASL listener)"
	case errors.Is(e.Err, sarama.ErrUnsupportedSASLMechanism):
		return fmt.Sprintf("SASL handshake refused: the listener does not enable %s (%s)", e.Mechanism, brokerMessage(e.Err))
	case errors.Is(e.Err, sarama.ErrSASLAuthenticationFailed):
		return fmt.Sprintf("SASL authentication failed for user %q with %s: %s", e.User, e.Mechanism, brokerMessage(e.Err))
	}
	return fmt.Sprintf("SASL %s login as %q failed: %v", e.Mechanism, e.User, e.Err)
}

// Unwrap returns the broker's error.
func (e *AuthError) Unwrap() error { return e.Err }

// brokerMessage is the broker's explanation of a SASL error, or the error
// itself.
func brokerMessage(err error) string {
	s := err.Error()
	for _, kerr := range []sarama.KError{sarama.ErrSASLAuthenticationFailed, sarama.ErrUnsupportedSASLMechanism} {
		s = strings.TrimPrefix(s, kerr.Error())
	}
	s = strings.TrimLeft(s, ": ")
	if s == "" {
		return "the broker gave no reason"
	}
	return s
}

// isDenied reports whether err is the authorizer's refusal of a request
// (the principal lacks an ACL), as sarama or franz-go report it.
func isDenied(err error) bool {
	for _, k := range []sarama.KError{sarama.ErrClusterAuthorizationFailed, sarama.ErrTopicAuthorizationFailed,
		sarama.ErrGroupAuthorizationFailed, sarama.ErrTransactionalIDAuthorizationFailed} {
		if errors.Is(err, k) {
			return true
		}
	}
	for _, k := range []*kerr.Error{kerr.ClusterAuthorizationFailed, kerr.TopicAuthorizationFailed,
		kerr.GroupAuthorizationFailed, kerr.TransactionalIDAuthorizationFailed} {
		if errors.Is(err, k) {
			return true
		}
	}
	return false
}

// needACL names, when err is an authorizer's refusal, the ACL the refused
// request needs (access.Required holds them all).
func needACL(err error, acl string) error {
	if err == nil || !isDenied(err) {
		return err
	}
	return fmt.Errorf("%w: the principal lacks %s (`stretchctl acls` lists every ACL stretchctl needs)", err, acl)
}

// isAuth reports whether err is a SASL failure.
func isAuth(err error) bool {
	return errors.Is(err, sarama.ErrSASLAuthenticationFailed) ||
		errors.Is(err, sarama.ErrIllegalSASLState) ||
		errors.Is(err, sarama.ErrUnsupportedSASLMechanism)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, syscall.ETIMEDOUT) ||
		(errors.As(err, &ne) && ne.Timeout())
}

// reason phrases a connection or request error for a person: short, the
// cause first, without Go's "dial tcp a->b:" prefixes.
func reason(err error, timeout time.Duration) string {
	var (
		tlsErr   *TLSError
		authErr  *AuthError
		dnsErr   *net.DNSError
		notKafka *NotKafkaError
	)
	switch {
	case err == nil:
		return "no error"
	case errors.As(err, &notKafka):
		return notKafka.Error()
	case clientCertRefused(err):
		return "the broker refused the client certificate (" + err.Error() + "): this listener wants one its truststore accepts: set cluster.tls.certFile and cluster.tls.keyFile"
	case errors.As(err, &tlsErr):
		return tlsErr.Error()
	case errors.As(err, &authErr):
		return authErr.Error()
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.EHOSTUNREACH):
		return "no route to host"
	case errors.Is(err, syscall.ENETUNREACH):
		return "network is unreachable"
	case errors.As(err, &dnsErr):
		return "cannot resolve host " + dnsErr.Name
	case errors.Is(err, context.Canceled):
		return "canceled"
	case isTimeout(err):
		if timeout > 0 {
			return fmt.Sprintf("no answer within %v", timeout)
		}
		return "timed out"
	case closed(err):
		return "the broker closed the connection"
	}
	return err.Error()
}

// clientCertRefused reports whether the server ended the TLS session with
// an alert about the client's certificate (RFC 8446 §6.2: bad_certificate,
// certificate_unknown, unknown_ca, certificate_required). With TLS 1.3 it
// comes after the handshake, on the first read. Go's alert type is not
// exported: its text is the only way to tell.
func clientCertRefused(err error) bool {
	s := err.Error()
	if !strings.Contains(s, "remote error: tls: ") {
		return false
	}
	for _, a := range []string{"bad certificate", "certificate required", "unknown certificate authority", "unknown certificate"} {
		if strings.Contains(s, a) {
			return true
		}
	}
	return false
}

// closed reports whether err says the other side hung up.
func closed(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// connectReason is reason for a bootstrap server: a hang-up before any
// answer most likely means the listener wants TLS or SASL, for a TLS
// listener closes on a plaintext request and a SASL listener on the first
// request that is not part of the login.
func connectReason(err error, timeout time.Duration) string {
	var tlsErr *TLSError
	var notKafka *NotKafkaError
	if closed(err) && !errors.As(err, &tlsErr) && !errors.As(err, &notKafka) {
		return "the broker closed the connection before answering (does this listener require TLS or SASL? set cluster.tls or cluster.sasl)"
	}
	return reason(err, timeout)
}
