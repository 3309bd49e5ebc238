package probe

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/stretchctl/stretchctl/config"
	"github.com/stretchctl/stretchctl/internal/maven"
)

// DefaultJavaClientVersion is the kafka-clients version the Java workload
// runs when the client file names none: the newest this stretchctl is
// tested with (the lab's default Kafka).
const DefaultJavaClientVersion = "4.3.1"

// slf4jVersion binds the Java client's logging (slf4j 2 reads the 1.7 API
// of older clients too).
const slf4jVersion = "2.0.16"

//go:embed java/LedgerProducer.java java/LedgerConsumer.java java/LedgerWire.java java/simplelogger.properties
var javaSource embed.FS

var javaVersionRE = regexp.MustCompile(`^\d+\.\d+\.\d+$`)

// javaSources are the Java programs of the workload, compiled together.
var javaSources = []string{"LedgerProducer.java", "LedgerConsumer.java", "LedgerWire.java"}

// javaWorkload returns the command that runs main (LedgerProducer or
// LedgerConsumer) on kafka-clients version: the jars are fetched from
// Maven Central and the programs compiled with the machine's JDK on first
// use, both cached.
func javaWorkload(ctx context.Context, version, main string, progress func(string, ...any)) ([]string, error) {
	if !javaVersionRE.MatchString(version) {
		return nil, fmt.Errorf("kafka-clients version %q: want a release like %s", version, DefaultJavaClientVersion)
	}
	libs := filepath.Join(maven.CacheDir(), "kafka-clients-"+version, "libs")
	err := maven.Fetch(ctx, libs, "kafka-clients "+version, []maven.Artifact{
		{Group: "org.apache.kafka", Name: "kafka-clients", Version: version},
		{Group: "org.slf4j", Name: "slf4j-api", Version: slf4jVersion},
		{Group: "org.slf4j", Name: "slf4j-simple", Version: slf4jVersion},
	}, progress)
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{}
	h := sha256.New()
	for _, name := range append(slices.Clone(javaSources), "simplelogger.properties") {
		b, err := javaSource.ReadFile("java/" + name)
		if err != nil {
			return nil, err
		}
		files[name] = b
		h.Write(b)
	}
	classes := filepath.Join(maven.CacheDir(), "ledger-java", hex.EncodeToString(h.Sum(nil)[:6])+"-"+version)
	if _, err := os.Stat(filepath.Join(classes, main+".class")); err != nil {
		if progress != nil {
			progress("compiling the Java workload against kafka-clients %s", version)
		}
		if err := compileJava(ctx, files, libs, classes); err != nil {
			return nil, err
		}
	}
	java, err := maven.Java()
	if err != nil {
		return nil, err
	}
	// No JVM options: the client runs as the team's application would,
	// with the file's settings and its own defaults.
	return []string{java, "-cp", classes + string(os.PathListSeparator) + filepath.Join(libs, "*"), main}, nil
}

func compileJava(ctx context.Context, files map[string][]byte, libs, classes string) error {
	javac, err := maven.Javac()
	if err != nil {
		return err
	}
	work := classes + ".work"
	if err := os.RemoveAll(work); err != nil {
		return err
	}
	if err := os.MkdirAll(work, 0o755); err != nil {
		return err
	}
	defer os.RemoveAll(work)
	args := []string{"--release", "11", "-nowarn", "-cp", filepath.Join(libs, "*"), "-d", work}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(work, name), b, 0o644); err != nil {
			return err
		}
		if strings.HasSuffix(name, ".java") {
			args = append(args, filepath.Join(work, name))
		}
	}
	cmd := exec.CommandContext(ctx, javac, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("compile the Java workload: %w\n%s", err, maven.Tail(out.String(), 20))
	}
	for _, name := range javaSources {
		_ = os.Remove(filepath.Join(work, name))
	}
	_ = os.RemoveAll(classes)
	if err := os.MkdirAll(filepath.Dir(classes), 0o755); err != nil {
		return err
	}
	return os.Rename(work, classes)
}

// openJava starts the ledger's producers on the Java client.
func openJava(ctx context.Context, cluster config.Cluster, opts LedgerOptions, run *LedgerRun) (producers, LibraryInfo, error) {
	version := opts.Client.Version
	if version == "" {
		version = DefaultJavaClientVersion
	}
	argv, err := javaWorkload(ctx, version, "LedgerProducer", opts.Progress)
	if err != nil {
		return nil, LibraryInfo{}, err
	}
	conn, err := javaConnection(cluster)
	if err != nil {
		return nil, LibraryInfo{}, err
	}
	pp, info, err := startProcess(ctx, argv, conn, opts.Client.Settings, opts, run)
	if err != nil {
		return nil, info, err
	}
	return pp, info, nil
}

// javaConnection is stretch.yaml's connection as Java client settings:
// bootstrap servers, TLS (PEM files) and SASL.
func javaConnection(cluster config.Cluster) ([]ClientSetting, error) {
	set := func(k, v string) ClientSetting { return ClientSetting{Name: k, Key: k, Value: v} }
	out := []ClientSetting{set("bootstrap.servers", strings.Join(cluster.Bootstrap, ","))}
	protocol := "PLAINTEXT"
	if t := cluster.TLS; t != nil && t.Enabled {
		protocol = "SSL"
		if ca := t.CAPath(); ca != "" {
			out = append(out, set("ssl.truststore.type", "PEM"), set("ssl.truststore.location", ca))
		}
		if t.CertPath() != "" && t.KeyPath() != "" {
			cert, err := os.ReadFile(t.CertPath())
			if err != nil {
				return nil, fmt.Errorf("cluster.tls.certFile: %w", err)
			}
			key, err := os.ReadFile(t.KeyPath())
			if err != nil {
				return nil, fmt.Errorf("cluster.tls.keyFile: %w", err)
			}
			out = append(out, set("ssl.keystore.type", "PEM"), set("ssl.keystore.certificate.chain", string(cert)), set("ssl.keystore.key", string(key)))
		}
		if t.InsecureSkipVerify {
			out = append(out, set("ssl.endpoint.identification.algorithm", ""))
		}
	}
	if s := cluster.SASL; s != nil {
		protocol = "SASL_" + protocol
		pw, err := s.Password()
		if err != nil {
			return nil, fmt.Errorf("cluster.sasl: %w", err)
		}
		module := "org.apache.kafka.common.security.scram.ScramLoginModule"
		if strings.EqualFold(string(s.Mechanism), string(config.MechanismPlain)) {
			module = "org.apache.kafka.common.security.plain.PlainLoginModule"
		}
		out = append(out, set("sasl.mechanism", strings.ToUpper(string(s.Mechanism))),
			set("sasl.jaas.config", fmt.Sprintf(`%s required username="%s" password="%s";`, module, jaasQuote(s.Username), jaasQuote(pw))))
	}
	return append(out, set("security.protocol", protocol)), nil
}

// jaasQuote escapes a value for a double-quoted JAAS option.
func jaasQuote(s string) string { return strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) }
