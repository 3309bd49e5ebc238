package config

import (
	"fmt"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Validate checks a config built in code (for example from Default or a
// Kubernetes resource) against the same rules Parse applies. It does not fill
// in defaults or normalise names, and the problems it returns carry no line
// numbers.
func (c *Config) Validate() error {
	k := &checker{file: c.Path}
	k.check(c)
	if len(k.problems) > 0 {
		return &Error{Problems: k.problems}
	}
	return nil
}

// normalize upper-cases SASL mechanisms, lower-cases client kinds and
// libraries and turns empty lists and maps into nil so that a parsed config
// equals its re-marshalled and re-parsed form.
func (c *Config) normalize() {
	if s := c.Cluster.SASL; s != nil {
		s.Mechanism = Mechanism(strings.ToUpper(string(s.Mechanism)))
	}
	for i := range c.Clients {
		cl := &c.Clients[i]
		cl.Kind = ClientKind(strings.ToLower(string(cl.Kind)))
		cl.Library = Library(strings.ToLower(string(cl.Library)))
	}
	c.Cluster.Bootstrap = nilIfEmpty(c.Cluster.Bootstrap)
	c.Topology.DCs = nilIfEmpty(c.Topology.DCs)
	c.Clients = nilIfEmpty(c.Clients)
	c.Ignore = nilIfEmpty(c.Ignore)
	if len(c.Topology.Racks) == 0 {
		c.Topology.Racks = nil
	}
	if len(c.Topology.Controllers) == 0 {
		c.Topology.Controllers = nil
	}
	if len(c.Topology.ZooKeeper) == 0 {
		c.Topology.ZooKeeper = nil
	}
	if len(c.Goals.Latency.Pairs) == 0 {
		c.Goals.Latency.Pairs = nil
	}
}

func nilIfEmpty[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return s
}

// setDir records the config file's directory for resolving relative paths.
func (c *Config) setDir(dir string) {
	if c.Cluster.TLS != nil {
		c.Cluster.TLS.dir = dir
	}
	if c.Cluster.SASL != nil {
		c.Cluster.SASL.dir = dir
	}
	for i := range c.Clients {
		c.Clients[i].dir = dir
	}
}

// checker collects validation problems, positioned via the decoder when there is one.
type checker struct {
	file     string
	loc      *decoder        // nil for configs built in code
	failed   map[string]bool // paths that failed to decode; problems under them are not repeated
	problems []Problem
	dcs      map[string]bool // listed DCs; nil when there are none to check against
}

func (k *checker) suppressed(path string) bool {
	for f := range k.failed {
		if f == "" || path == f || strings.HasPrefix(path, f+".") || strings.HasPrefix(path, f+"[") {
			return true
		}
	}
	return false
}

func (k *checker) report(path string, onKey bool, format string, args ...any) {
	if k.suppressed(path) {
		return
	}
	p := Problem{File: k.file, Field: path, Message: fmt.Sprintf(format, args...)}
	if k.loc != nil {
		p.Line, p.Column = k.loc.position(path, onKey)
	}
	k.problems = append(k.problems, p)
}

// at reports a problem with the value at path (or its nearest written parent).
func (k *checker) at(path, format string, args ...any) { k.report(path, false, format, args...) }

// atKey reports a problem with the mapping key of path.
func (k *checker) atKey(path, format string, args ...any) { k.report(path, true, format, args...) }

// got quotes the text written at path, or fallback when the value was not written.
func (k *checker) got(path, fallback string) string {
	if k.loc != nil {
		if s, ok := k.loc.raw(path); ok {
			return quote(s)
		}
	}
	return quote(fallback)
}

func (k *checker) positive(path string, d Duration, example string) bool {
	if d.Duration > 0 {
		return true
	}
	k.at(path, "must be a positive duration like %s, got %s", example, k.got(path, d.String()))
	return false
}

// listedDC reports a problem at path unless dc is one of topology.dcs.
func (k *checker) listedDC(path, dc string) {
	if dc == "" {
		k.at(path, "required: the name of a DC from topology.dcs")
		return
	}
	if k.dcs != nil && !k.dcs[dc] {
		k.at(path, "DC %s is not listed in topology.dcs", quote(dc))
	}
}

func (k *checker) check(c *Config) {
	if len(c.Topology.DCs) > 0 && !k.failed["topology.dcs"] {
		k.dcs = map[string]bool{}
		for _, dc := range c.Topology.DCs {
			k.dcs[dc] = true
		}
	}
	k.checkCluster(&c.Cluster)
	k.checkTopology(&c.Topology)
	k.checkGoals(&c.Goals)
	first := map[string]int{}
	for i, cl := range c.Clients {
		k.checkClient(indexPath("clients", i), cl)
		if cl.File == "" {
			continue
		}
		// One file listed twice would count its clients twice.
		if j, ok := first[cl.Path()]; ok {
			k.at(indexPath("clients", i)+".file", "the same file as clients[%d] (%s): list each client file once", j, cl.File)
			continue
		}
		first[cl.Path()] = i
	}
	for i, ig := range c.Ignore {
		k.checkIgnore(indexPath("ignore", i), ig)
	}
}

func (k *checker) checkCluster(cl *Cluster) {
	if len(cl.Bootstrap) == 0 {
		k.at("cluster.bootstrap", "required: list at least one broker as host:port")
	}
	for i, b := range cl.Bootstrap {
		p := indexPath("cluster.bootstrap", i)
		if !validHostPort(b) {
			k.at(p, "must be host:port with a numeric port 1-65535, got %s", k.got(p, b))
		}
	}
	for i, b := range cl.Controllers {
		p := indexPath("cluster.controllers", i)
		if !validHostPort(b) {
			k.at(p, "must be a controller's host:port with a numeric port 1-65535, got %s", k.got(p, b))
		}
	}
	if !validVersion(cl.KafkaVersion) {
		k.at("cluster.kafkaVersion", "must be a dotted version like 4.3.1, got %s", k.got("cluster.kafkaVersion", cl.KafkaVersion))
	}
	k.positive("cluster.timeout", cl.Timeout, "10s")
	if t := cl.TLS; t != nil {
		if t.CertFile != "" && t.KeyFile == "" {
			k.at("cluster.tls.keyFile", "required when certFile is set (set both or neither)")
		}
		if t.KeyFile != "" && t.CertFile == "" {
			k.at("cluster.tls.certFile", "required when keyFile is set (set both or neither)")
		}
	}
	if s := cl.SASL; s != nil {
		const mechs = "PLAIN, SCRAM-SHA-256, SCRAM-SHA-512"
		switch s.Mechanism {
		case MechanismPlain, MechanismSCRAMSHA256, MechanismSCRAMSHA512:
		case "":
			k.at("cluster.sasl.mechanism", "required: one of %s", mechs)
		default:
			k.at("cluster.sasl.mechanism", "must be one of %s, got %s", mechs, k.got("cluster.sasl.mechanism", string(s.Mechanism)))
		}
		if s.Username == "" {
			k.at("cluster.sasl.username", "required")
		}
		switch {
		case s.PasswordFile != "" && s.PasswordEnv != "":
			k.at("cluster.sasl.passwordEnv", "set only one of passwordFile and passwordEnv")
		case s.PasswordFile == "" && s.PasswordEnv == "":
			k.at("cluster.sasl.passwordFile", "required: set passwordFile or passwordEnv")
		}
	}
}

func (k *checker) checkTopology(t *Topology) {
	if len(t.DCs) == 0 {
		k.at("topology.dcs", "required: list at least one DC")
	}
	first := map[string]int{}
	for i, dc := range t.DCs {
		p := indexPath("topology.dcs", i)
		if !validDCName(dc) {
			k.at(p, "must be 1-32 lowercase letters, digits or dashes, not starting or ending with a dash, got %s", k.got(p, dc))
			continue
		}
		if j, dup := first[dc]; dup {
			k.at(p, "duplicate DC %s (already listed as topology.dcs[%d])", quote(dc), j)
			continue
		}
		first[dc] = i
	}
	for _, rack := range sortedKeys(t.Racks) {
		p := keyPath("topology.racks", rack)
		if rack == "" {
			k.atKey(p, "rack name must not be empty")
		}
		k.listedDC(p, t.Racks[rack])
	}
	for _, key := range sortedKeys(t.Controllers) {
		p := keyPath("topology.controllers", key)
		if _, ok := NodeID(key); !ok {
			k.atKey(p, "key must be a controller node id (an integer >= 0), got %s", quote(key))
		}
		k.listedDC(p, t.Controllers[key])
	}
	for _, hp := range sortedKeys(t.ZooKeeper) {
		p := keyPath("topology.zookeeper", hp)
		if !validHostPort(hp) {
			k.atKey(p, "key must be host:port with a numeric port 1-65535, got %s", quote(hp))
		}
		k.listedDC(p, t.ZooKeeper[hp])
	}
}

func (k *checker) checkGoals(g *Goals) {
	if g.RPO < 0 {
		k.at("goals.rpo", "must be 0 or more acknowledged records, got %d", g.RPO)
	}
	k.positive("goals.rto", g.RTO, "30s")
	if g.ReadRTO.Duration < 0 {
		k.at("goals.readRTO", "must be a positive duration like 60s, got %v", g.ReadRTO.Duration)
	}
	k.checkBudget("goals.latency", g.Latency.Warn, g.Latency.Fail)
	for _, key := range sortedKeys(g.Latency.Pairs) {
		p := keyPath("goals.latency.pairs", key)
		a, b, ok := strings.Cut(key, "/")
		switch {
		case !ok || a == "" || b == "" || strings.Contains(b, "/"):
			k.atKey(p, "pair key must be two DCs joined by a slash, like dc-a/dc-b, got %s", quote(key))
		case a == b:
			k.atKey(p, "pair must name two different DCs, got %s", quote(key))
		case k.dcs != nil && !k.dcs[a]:
			k.atKey(p, "DC %s is not listed in topology.dcs", quote(a))
		case k.dcs != nil && !k.dcs[b]:
			k.atKey(p, "DC %s is not listed in topology.dcs", quote(b))
		default:
			if _, dup := g.Latency.Pairs[PairKey(b, a)]; dup && key > PairKey(b, a) {
				k.atKey(p, "same DC pair as %s; keep only one of them", quote(PairKey(b, a)))
			}
		}
		pair := g.Latency.Pairs[key]
		k.checkBudget(p, pair.Warn, pair.Fail)
	}
}

// checkBudget checks a warn/fail pair at path.warn and path.fail.
func (k *checker) checkBudget(path string, warn, fail Duration) {
	wp, fp := fieldPath(path, "warn"), fieldPath(path, "fail")
	okW := k.positive(wp, warn, "50ms")
	okF := k.positive(fp, fail, "100ms")
	if okW && okF && warn.Duration > fail.Duration && !k.failed[fp] {
		got := k.got(wp, warn.String())
		if k.loc != nil && !k.loc.present(wp) {
			if path == "goals.latency" {
				got = warn.String() + " (the default)"
			} else {
				got = warn.String() + " (inherited from goals.latency.warn)"
			}
		}
		k.at(wp, "must not exceed fail (%s), got %s", fail, got)
	}
}

func (k *checker) checkClient(path string, cl Client) {
	if cl.File == "" {
		k.at(fieldPath(path, "file"), "required: path to the client properties file, relative to this file")
	}
	switch p := fieldPath(path, "kind"); cl.Kind {
	case KindProducer, KindConsumer, KindStreams:
	case "":
		k.at(p, "required: one of producer, consumer, streams")
	default:
		k.at(p, "must be one of producer, consumer, streams, got %s", k.got(p, string(cl.Kind)))
	}
	switch p := fieldPath(path, "library"); cl.Library {
	case LibraryJava, LibrarySarama, LibraryLibrdkafka, LibraryFranzGo:
	default:
		k.at(p, "must be one of java, sarama, librdkafka, franz-go, got %s", k.got(p, string(cl.Library)))
	}
	if cl.DC != "" {
		k.listedDC(fieldPath(path, "dc"), cl.DC)
	}
	if cl.Version != "" && !clientVersionRE.MatchString(cl.Version) {
		p := fieldPath(path, "version")
		k.at(p, "must be the library's release like 3.9.1 (kafka-clients), 2.11.1 (librdkafka), 1.19.0 (franz-go) or 1.46.0 (sarama), got %s", k.got(p, cl.Version))
	}
}

// clientVersionRE is a library release: two or three dotted numbers.
var clientVersionRE = regexp.MustCompile(`^\d+\.\d+(\.\d+)?$`)

func (k *checker) checkIgnore(path string, ig Ignore) {
	switch p := fieldPath(path, "rule"); {
	case ig.Rule == "":
		k.at(p, "required: the id of the rule to suppress, like RPO-ACKS")
	case !validRule(ig.Rule):
		k.at(p, "must be an upper-case rule id like RPO-ACKS, got %s", k.got(p, ig.Rule))
	}
	if strings.TrimSpace(ig.Reason) == "" {
		k.at(fieldPath(path, "reason"), "required: say why the finding is ignored")
	}
}

func sortedKeys[K interface{ ~string | ~int32 }, V any](m map[K]V) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// validHostPort reports whether s is host:port with a non-empty host and a numeric port 1-65535.
func validHostPort(s string) bool {
	host, port, err := net.SplitHostPort(s)
	if err != nil || host == "" || strings.ContainsAny(host, " \t\r\n/?#@[]") {
		return false
	}
	if port == "" || len(port) > 5 || strings.Trim(port, "0123456789") != "" {
		return false
	}
	n, err := strconv.Atoi(port)
	return err == nil && n >= 1 && n <= 65535
}

// validVersion reports whether s is two to four dot-separated numbers, like 4.3.1.
func validVersion(s string) bool {
	parts := strings.Split(s, ".")
	if len(parts) < 2 || len(parts) > 4 {
		return false
	}
	for _, p := range parts {
		if p == "" || len(p) > 9 || strings.Trim(p, "0123456789") != "" {
			return false
		}
	}
	return true
}

// validDCName reports whether s matches ^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$.
func validDCName(s string) bool {
	if len(s) == 0 || len(s) > 32 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// validRule reports whether s matches ^[A-Z][A-Z0-9]*(-[A-Z0-9]+)+$.
func validRule(s string) bool {
	parts := strings.Split(s, "-")
	if len(parts) < 2 || parts[0] == "" || parts[0][0] < 'A' || parts[0][0] > 'Z' {
		return false
	}
	for _, p := range parts {
		if p == "" {
			return false
		}
		for i := 0; i < len(p); i++ {
			if c := p[i]; !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
				return false
			}
		}
	}
	return true
}
