package probe

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/stretchctl/stretchctl/config"
)

// HelperName is the librdkafka helper binary: confluent-kafka-go, which
// links librdkafka, needs cgo; a separate binary keeps stretchctl itself
// pure Go (static, cross-compiled), and only drills on librdkafka need it.
const HelperName = "stretchctl-rdkafka"

// findHelper looks for the helper where make build puts it (next to the
// running executable), then on the PATH.
func findHelper(path string) (string, error) {
	if path != "" {
		return path, nil
	}
	if exe, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(exe), HelperName)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	if p, err := exec.LookPath(HelperName); err == nil {
		return p, nil
	}
	return "", errors.New("the librdkafka workload needs the " + HelperName + " helper next to stretchctl or on the PATH (make build builds both)")
}

// openLibrdkafka starts the ledger's producers on librdkafka, in the
// helper process.
func openLibrdkafka(ctx context.Context, cluster config.Cluster, opts LedgerOptions, run *LedgerRun) (producers, LibraryInfo, error) {
	helper, err := findHelper(opts.Helper)
	if err != nil {
		return nil, LibraryInfo{}, err
	}
	conn, err := rdkafkaConnection(cluster)
	if err != nil {
		return nil, LibraryInfo{}, err
	}
	pp, info, err := startProcess(ctx, []string{helper}, conn, opts.Client.Settings, opts, run)
	if err != nil {
		return nil, info, err
	}
	return pp, info, nil
}

// rdkafkaConnection is stretch.yaml's connection as librdkafka settings.
func rdkafkaConnection(cluster config.Cluster) ([]ClientSetting, error) {
	set := func(k, v string) ClientSetting { return ClientSetting{Name: k, Key: k, Value: v} }
	out := []ClientSetting{set("bootstrap.servers", strings.Join(cluster.Bootstrap, ","))}
	protocol := "plaintext"
	if t := cluster.TLS; t != nil && t.Enabled {
		protocol = "ssl"
		if ca := t.CAPath(); ca != "" {
			out = append(out, set("ssl.ca.location", ca))
		}
		if t.CertPath() != "" {
			out = append(out, set("ssl.certificate.location", t.CertPath()))
		}
		if t.KeyPath() != "" {
			out = append(out, set("ssl.key.location", t.KeyPath()))
		}
		if t.InsecureSkipVerify {
			out = append(out, set("enable.ssl.certificate.verification", "false"), set("ssl.endpoint.identification.algorithm", "none"))
		}
	}
	if s := cluster.SASL; s != nil {
		protocol = "sasl_" + protocol
		pw, err := s.Password()
		if err != nil {
			return nil, fmt.Errorf("cluster.sasl: %w", err)
		}
		out = append(out, set("sasl.mechanisms", strings.ToUpper(string(s.Mechanism))), set("sasl.username", s.Username), set("sasl.password", pw))
	}
	return append(out, set("security.protocol", protocol)), nil
}
