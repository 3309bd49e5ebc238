package lab

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/magiconair/properties"
	"github.com/stretchctl/stretchctl/internal/maven"
)

// DefaultKafkaVersion is the newest Kafka that sarama v1.61.1 knows and runs
// its own functional tests against.
const DefaultKafkaVersion = "4.3.1"

var versionRE = regexp.MustCompile(`^\d+\.\d+\.\d+$`)

// Distribution is a resolved set of Kafka jars.
type Distribution struct {
	Version string
	// Libs is the directory holding every jar of the classpath.
	Libs string
}

// Major returns the major version number.
func (d Distribution) Major() int {
	m, _ := strconv.Atoi(strings.SplitN(d.Version, ".", 2)[0])
	return m
}

// Classpath is the java -cp argument.
func (d Distribution) Classpath() string { return filepath.Join(d.Libs, "*") }

// CacheDir is where jars are kept between runs (maven.CacheDir).
func CacheDir() string { return maven.CacheDir() }

// FetchKafka resolves org.apache.kafka:kafka_2.13 (plus kafka-tools, whose
// perf and admin tools later measurements compare against) from Maven
// Central with Maven, into the cache. It is a no-op when already cached.
func FetchKafka(ctx context.Context, version string, progress func(string, ...any)) (Distribution, error) {
	if !versionRE.MatchString(version) {
		return Distribution{}, fmt.Errorf("Kafka version %q: want a release like %s", version, DefaultKafkaVersion)
	}
	d := Distribution{Version: version, Libs: filepath.Join(CacheDir(), "kafka-"+version, "libs")}
	if major := d.Major(); major < 3 {
		return Distribution{}, fmt.Errorf("Kafka version %s: the lab needs KRaft, available from 3.x", version)
	}
	return d, maven.Fetch(ctx, d.Libs, "Kafka "+version, kafkaArtifacts(d), progress)
}

// kafkaArtifacts lists the jars to fetch. Kafka 4 logs through log4j 2 but
// its pom does not bring the slf4j binding, so it is added (with log4j
// pinned to one version); Kafka 3 brings its reload4j binding itself.
func kafkaArtifacts(d Distribution) []maven.Artifact {
	out := []maven.Artifact{{Group: "org.apache.kafka", Name: "kafka_2.13", Version: d.Version}, {Group: "org.apache.kafka", Name: "kafka-tools", Version: d.Version}}
	if d.Major() >= 4 {
		for _, a := range []string{"log4j-api", "log4j-core", "log4j-slf4j-impl"} {
			out = append(out, maven.Artifact{Group: "org.apache.logging.log4j", Name: a, Version: "2.25.4"})
		}
	}
	return out
}

// serverProperties renders a node's Kafka configuration.
// internalPassword is the nodes' own password (security sasl_ssl).
func serverProperties(st *State, n Node, dataDir, internalPassword string) *properties.Properties {
	p := properties.NewProperties()
	set := func(k, v string) { _, _, _ = p.Set(k, v) }
	roles := make([]string, len(n.Roles))
	for i, r := range n.Roles {
		roles[i] = string(r)
	}
	set("process.roles", strings.Join(roles, ","))
	set("node.id", strconv.Itoa(int(n.ID)))
	var voters []string
	for _, v := range st.Layout.Voters() {
		voters = append(voters, fmt.Sprintf("%d@%s", v.ID, v.ControllerAddr()))
	}
	// Static voters work on 3.x and 4.x alike; dynamic quorums need 3.9+.
	set("controller.quorum.voters", strings.Join(voters, ","))
	set("controller.listener.names", "CONTROLLER")
	securityProperties(set, st, n, internalPassword)
	listener := listenerName(st.Security)
	var listeners []string
	if n.Has(RoleBroker) {
		listeners = append(listeners, listener+"://"+n.BrokerAddr())
		set("advertised.listeners", listener+"://"+n.BrokerAddr())
		set("inter.broker.listener.name", listener)
		set("broker.rack", n.DC)
	}
	if n.Has(RoleController) {
		listeners = append(listeners, "CONTROLLER://"+n.ControllerAddr())
	}
	set("listeners", strings.Join(listeners, ","))
	set("log.dirs", dataDir)
	brokers := len(st.Layout.Brokers())
	set("offsets.topic.replication.factor", strconv.Itoa(min(3, brokers)))
	set("transaction.state.log.replication.factor", strconv.Itoa(min(3, brokers)))
	set("transaction.state.log.min.isr", strconv.Itoa(min(2, brokers)))
	// The lab is for failover drills, not for waiting on rebalances.
	set("group.initial.rebalance.delay.ms", "0")
	return p
}

const log4j2Config = `status = error
appender.out.type = Console
appender.out.name = OUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.out.ref = OUT
logger.statechange.name = state.change.logger
logger.statechange.level = WARN
logger.request.name = kafka.request.logger
logger.request.level = WARN
`

const log4jConfig = `log4j.rootLogger=INFO, out
log4j.appender.out=org.apache.log4j.ConsoleAppender
log4j.appender.out.layout=org.apache.log4j.PatternLayout
log4j.appender.out.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.state.change.logger=WARN
log4j.logger.kafka.request.logger=WARN
`

// javaBin finds java (maven.Java).
func javaBin() (string, error) { return maven.Java() }

// javaArgs are the JVM options of a node: small heaps so that a whole lab
// fits a laptop, serial GC to spare the CPU of a 2-core machine.
func javaArgs(d Distribution, n Node, nodeDir string) []string {
	heap := "512m"
	if !n.Has(RoleBroker) {
		heap = "256m"
	}
	return []string{
		"-Xms128m", "-Xmx" + heap, "-XX:+UseSerialGC", "-XX:+ExitOnOutOfMemoryError",
		"-Djava.awt.headless=true",
		"-Dlog4j2.configurationFile=" + filepath.Join(nodeDir, "log4j2.properties"),
		"-Dlog4j.configuration=file:" + filepath.Join(nodeDir, "log4j.properties"),
		"-Dstretchctl.lab=" + nodeDir, // lets `lab down` find the process even without state
		"-cp", d.Classpath(),
	}
}

func tail(s string, lines int) string { return maven.Tail(s, lines) }
