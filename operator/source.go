package operator

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/stretchctl/stretchctl/api/v1alpha1"
	"github.com/stretchctl/stretchctl/clients"
	"github.com/stretchctl/stretchctl/config"
	"github.com/stretchctl/stretchctl/topology"
)

// SpecError is a StretchCluster spec the operator cannot use: a Secret or
// ConfigMap that is missing, a config the rules refuse. It is reported in
// the Ready condition and not retried until the object or what it names
// changes (or the next check interval).
type SpecError struct{ Err error }

func (e *SpecError) Error() string { return e.Err.Error() }
func (e *SpecError) Unwrap() error { return e.Err }

// resolved is a StretchCluster turned into what the engine takes: the
// stretch.yaml config (secret material written to files of a private
// directory, as the Kafka clients read them) and the parsed client files.
type resolved struct {
	cfg     *config.Config
	clients []topology.ClientConfig
}

// resolve builds the config of sc. Secrets go to dir/<namespace>/<name>
// (0700, files 0600), rewritten on every call so a rotated secret is
// picked up.
func resolve(ctx context.Context, c client.Reader, sc *v1.StretchCluster, conn *v1.Connection, topo config.Topology, secretDir string) (*resolved, error) {
	cfg := config.Default()
	cfg.Path = "StretchCluster " + sc.Namespace + "/" + sc.Name
	cfg.Cluster.Name = sc.Name
	if conn == nil {
		return nil, &SpecError{errors.New("no connection: set spec.connection or spec.strimziRef")}
	}
	cfg.Cluster.Bootstrap = append([]string(nil), conn.Bootstrap...)
	cfg.Cluster.Controllers = append([]string(nil), conn.Controllers...)
	if conn.KafkaVersion != "" {
		cfg.Cluster.KafkaVersion = conn.KafkaVersion
	}
	if conn.Timeout != nil && conn.Timeout.Duration > 0 {
		cfg.Cluster.Timeout = *conn.Timeout
	}
	dir := filepath.Join(secretDir, sc.Namespace, sc.Name)
	if conn.TLS != nil || conn.SASL != nil {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("secret directory: %w", err)
		}
	}
	if t := conn.TLS; t != nil {
		cfg.Cluster.TLS = &config.TLS{Enabled: true, ServerName: t.ServerName, InsecureSkipVerify: t.InsecureSkipVerify}
		if ref := t.SecretRef; ref != nil {
			sec, err := getSecret(ctx, c, sc.Namespace, ref.Name)
			if err != nil {
				return nil, err
			}
			for _, f := range []struct {
				key, def string
				path     *string
				required bool
			}{
				{ref.CAKey, "ca.crt", &cfg.Cluster.TLS.CAFile, ref.CAKey != ""},
				{ref.CertKey, "tls.crt", &cfg.Cluster.TLS.CertFile, ref.CertKey != ""},
				{ref.KeyKey, "tls.key", &cfg.Cluster.TLS.KeyFile, ref.KeyKey != ""},
			} {
				key := f.key
				if key == "" {
					key = f.def
				}
				data, ok := sec.Data[key]
				if !ok {
					if f.required {
						return nil, &SpecError{fmt.Errorf("secret %s has no key %q (spec.connection.tls.secretRef)", ref.Name, key)}
					}
					continue
				}
				p := filepath.Join(dir, "tls-"+key)
				if err := os.WriteFile(p, data, 0o600); err != nil {
					return nil, fmt.Errorf("secret directory: %w", err)
				}
				*f.path = p
			}
			if (cfg.Cluster.TLS.CertFile == "") != (cfg.Cluster.TLS.KeyFile == "") {
				return nil, &SpecError{fmt.Errorf("secret %s holds a client certificate or a key, not both (spec.connection.tls.secretRef)", ref.Name)}
			}
		}
	}
	if s := conn.SASL; s != nil {
		sec, err := getSecret(ctx, c, sc.Namespace, s.PasswordSecretRef.Name)
		if err != nil {
			return nil, err
		}
		pw, ok := sec.Data[s.PasswordSecretRef.Key]
		if !ok {
			return nil, &SpecError{fmt.Errorf("secret %s has no key %q (spec.connection.sasl.passwordSecretRef)", s.PasswordSecretRef.Name, s.PasswordSecretRef.Key)}
		}
		p := filepath.Join(dir, "sasl-password")
		if err := os.WriteFile(p, pw, 0o600); err != nil {
			return nil, fmt.Errorf("secret directory: %w", err)
		}
		cfg.Cluster.SASL = &config.SASL{Mechanism: s.Mechanism, Username: s.Username, PasswordFile: p}
	}

	cfg.Topology = *topo.DeepCopy()
	g := sc.Spec.Goals
	cfg.Goals.RPO = g.RPO
	if g.RTO.Duration > 0 {
		cfg.Goals.RTO = g.RTO
	}
	if g.Latency.Warn.Duration > 0 {
		cfg.Goals.Latency.Warn = g.Latency.Warn
	}
	if g.Latency.Fail.Duration > 0 {
		cfg.Goals.Latency.Fail = g.Latency.Fail
	}
	for k, p := range g.Latency.Pairs {
		if cfg.Goals.Latency.Pairs == nil {
			cfg.Goals.Latency.Pairs = map[string]config.LatencyPair{}
		}
		cfg.Goals.Latency.Pairs[k] = p
	}
	cfg.Ignore = append([]config.Ignore(nil), sc.Spec.Ignore...)
	if err := cfg.Validate(); err != nil {
		return nil, &SpecError{err}
	}

	// Clients: a properties file per ConfigMap key, parsed in memory.
	out := &resolved{cfg: cfg, clients: []topology.ClientConfig{}}
	for i, cr := range sc.Spec.Clients {
		field := fmt.Sprintf("spec.clients[%d]", i)
		var cm corev1.ConfigMap
		if err := c.Get(ctx, client.ObjectKey{Namespace: sc.Namespace, Name: cr.ConfigMapRef.Name}, &cm); err != nil {
			return nil, notFoundIsSpec(err, fmt.Sprintf("configmap %s (%s.configMapRef)", cr.ConfigMapRef.Name, field))
		}
		data, ok := cm.Data[cr.ConfigMapRef.Key]
		if !ok {
			return nil, &SpecError{fmt.Errorf("configmap %s has no key %q (%s.configMapRef)", cm.Name, cr.ConfigMapRef.Key, field)}
		}
		if cr.DC != "" && !cfg.Topology.HasDC(cr.DC) {
			return nil, &SpecError{fmt.Errorf("%s.dc: %q is not a DC of the topology (%s)", field, cr.DC, strings.Join(cfg.Topology.DCs, ", "))}
		}
		lib := cr.Library
		if lib == "" {
			lib = config.LibraryJava
		}
		version, assumed := cr.Version, cr.Version == ""
		if assumed {
			version = config.DefaultKafkaVersion
		}
		name := "configmap/" + cm.Name + "/" + cr.ConfigMapRef.Key
		cc, err := clients.Parse(name, []byte(data), topology.ClientKind(cr.Kind), string(lib), cr.DC, version)
		if err != nil {
			return nil, &SpecError{fmt.Errorf("%s: %w", field, err)}
		}
		cc.Version, cc.VersionAssumed = version, assumed
		out.clients = append(out.clients, cc)
	}
	return out, nil
}

func getSecret(ctx context.Context, c client.Reader, ns, name string) (*corev1.Secret, error) {
	var s corev1.Secret
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &s); err != nil {
		return nil, notFoundIsSpec(err, "secret "+name)
	}
	return &s, nil
}

// notFoundIsSpec makes a missing object a spec error; other errors (the
// API server, permissions) are retried.
func notFoundIsSpec(err error, what string) error {
	if client.IgnoreNotFound(err) == nil {
		return &SpecError{fmt.Errorf("%s not found in the namespace", what)}
	}
	return fmt.Errorf("read %s: %w", what, err)
}
