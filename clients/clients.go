// Package clients reads Kafka client .properties files and fills in the
// defaults of the client library each file declares; it does no network I/O.
//
// A file declared in stretch.yaml (a producer, consumer or Kafka Streams
// configuration for the java, sarama, librdkafka or franz-go client) becomes
// a topology.ClientConfig whose settings are what the client would run with:
//
//   - Every key written in the file is a Setting with its value, the key as
//     written and the line the key is on (for a key written twice, the last
//     one). Values are trimmed of surrounding white space, as Kafka does.
//   - For the keys that matter to failover, the library's default is added
//     when the file does not set the key, with Setting.Default naming where
//     it comes from ("java 4.x default", "sarama default (Producer.Retry.Max
//     = 3)"). A library that has no equivalent of a key gets no entry for it
//     (sarama has no delivery timeout and no metadata recovery strategy,
//     franz-go no metadata recovery strategy).
//   - Defaults that depend on other settings are resolved as the library
//     does: an unset enable.idempotence of the Java client is false when the
//     file sets acks other than all, retries=0 or more than five requests in
//     flight (KIP-679); franz-go cannot be idempotent without acks=all; the
//     Java producer raises an unset delivery.timeout.ms to linger.ms +
//     request.timeout.ms.
//   - A Setting with both a Line and a Default was written in the file but
//     is replaced by the library (Kafka Streams ignores some client
//     settings); its Value is what the library uses.
//
// Library-specific spellings are normalised so that rules see one name and
// one value: acks=-1 is "all" for every library; librdkafka's aliases
// request.required.acks, message.timeout.ms, message.send.max.retries,
// queue.buffering.max.ms, max.in.flight and metadata.broker.list become the
// Java names, and its auto.offset.reset values smallest/beginning,
// largest/end and error become earliest, latest and none.
//
// In a Kafka Streams file, keys prefixed producer. configure the producer;
// consumer. and main.consumer. the main consumer (main.consumer. winning);
// restore.consumer. and global.consumer. keys are kept in Consumer under
// their full name so that they never hide the main consumer's value; topic.
// and admin. keys, and every key no client knows, stay in Streams with their
// name as written. An unprefixed client key applies to whichever of the
// producer and consumer knows it, and a prefixed key wins over it, except
// bootstrap.servers, where Kafka Streams always uses the unprefixed value.
// Kafka Streams' own overrides of its clients' defaults (producer linger.ms,
// consumer auto.offset.reset and enable.auto.commit, and with exactly-once
// processing the idempotence, delivery and transaction timeouts and
// read_committed isolation) are applied before the library defaults.
//
// Values of keys that look secret (passwords, secrets, tokens, JAAS and
// OAUTHBEARER configs, ssl.key*, user info) are stored as "<redacted>", and
// no error ever quotes a key or a value from the file.
package clients

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/magiconair/properties"
	"github.com/stretchctl/stretchctl/config"
	"github.com/stretchctl/stretchctl/internal/boundedfile"
	"github.com/stretchctl/stretchctl/topology"
)

// maxFileSize bounds how much of a client file is read.
const maxFileSize = 8 << 20

// Library names, as config spells them.
const (
	libJava       = string(config.LibraryJava)
	libSarama     = string(config.LibrarySarama)
	libLibrdkafka = string(config.LibraryLibrdkafka)
	libFranzGo    = string(config.LibraryFranzGo)
)

// knownLibraries lists the libraries for error messages.
const knownLibraries = "java, sarama, librdkafka, franz-go"

// Load reads one client file declared in stretch.yaml and returns its
// effective settings, with the defaults of the library version the entry
// names (clients[].version: the Java defaults changed in 3.0 and 4.0).
// Without a version the newest this stretchctl knows is assumed, and the
// result says so (VersionAssumed); kafkaVersion, the cluster's, is only
// used for a library without versioned defaults.
func Load(c config.Client, kafkaVersion string) (topology.ClientConfig, error) {
	if c.File == "" {
		return topology.ClientConfig{}, errors.New("client file is not set")
	}
	path := c.Path()
	data, err := readFile(path)
	if err != nil {
		return topology.ClientConfig{}, fmt.Errorf("%s: %w", c.File, err)
	}
	version, assumed := c.Version, c.Version == ""
	if assumed {
		version = config.DefaultKafkaVersion
	}
	cc, err := parse(c.File, data, topology.ClientKind(c.Kind), string(c.Library), version)
	if err != nil {
		return topology.ClientConfig{}, err
	}
	cc.File, cc.Path, cc.DC = c.File, path, c.DC
	cc.Version, cc.VersionAssumed = version, assumed
	return cc, nil
}

// readFile reads at most maxFileSize bytes of path.
func readFile(path string) ([]byte, error) { return boundedfile.Read(path, maxFileSize) }

// Parse is Load on in-memory content (name used in errors and as File/Path).
func Parse(name string, data []byte, kind topology.ClientKind, library string, dc string, kafkaVersion string) (topology.ClientConfig, error) {
	cc, err := parse(name, data, kind, library, kafkaVersion)
	if err != nil {
		return topology.ClientConfig{}, err
	}
	cc.File, cc.Path, cc.DC = name, name, dc
	return cc, nil
}

// Defaults returns the library defaults for a kind, for `stretchctl rules` explanations and tests.
//
// For kind streams it returns the Kafka Streams defaults together with the
// producer and consumer settings a Streams application runs with when its
// file sets nothing, under "producer."- and "consumer."-prefixed names. An
// empty or invalid kafkaVersion means config.DefaultKafkaVersion; an unknown
// library or kind, or streams with a library other than java, gives nil.
func Defaults(library string, kind topology.ClientKind, kafkaVersion string) topology.Settings {
	v, err := parseVersion(kafkaVersion)
	if err != nil {
		v, _ = parseVersion(config.DefaultKafkaVersion)
	}
	if checkKind(kind, library) != nil {
		return nil
	}
	prod, cons, streams := effective(kind, library, v, nil)
	switch kind {
	case topology.Producer:
		return prod
	case topology.Consumer:
		return cons
	}
	out := make(topology.Settings, len(streams)+len(prod)+len(cons))
	for k, s := range streams {
		out[k] = s
	}
	for k, s := range prod {
		out["producer."+k] = s
	}
	for k, s := range cons {
		out["consumer."+k] = s
	}
	return out
}

// parse checks kind, library and version, reads the properties and builds
// the effective settings; name is used in errors only.
func parse(name string, data []byte, kind topology.ClientKind, library, kafkaVersion string) (topology.ClientConfig, error) {
	if err := checkKind(kind, library); err != nil {
		return topology.ClientConfig{}, fmt.Errorf("%s: %w", name, err)
	}
	v, err := parseVersion(kafkaVersion)
	if err != nil {
		return topology.ClientConfig{}, fmt.Errorf("%s: %w", name, err)
	}
	entries, err := readProperties(name, data)
	if err != nil {
		return topology.ClientConfig{}, err
	}
	cc := topology.ClientConfig{Kind: kind, Library: library}
	cc.Producer, cc.Consumer, cc.Streams = effective(kind, library, v, entries)
	for _, e := range entries {
		if len(e.earlier) > 0 {
			cc.Problems = append(cc.Problems, topology.SettingProblem{Key: e.key, Line: e.line,
				Message: fmt.Sprintf("%s is also written on line %s: only this last one counts", e.key, joinInts(e.earlier))})
		}
	}
	defaults := func() topology.Settings { return Defaults(library, kind, kafkaVersion) }
	cc.Problems = append(cc.Problems, refuseInvalid(cc.Producer, defaults)...)
	cc.Problems = append(cc.Problems, refuseInvalid(cc.Consumer, defaults)...)
	return cc, nil
}

func joinInts(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ", ")
}

// checkKind reports an unknown kind or library, or a Streams file for a
// library other than Java.
func checkKind(kind topology.ClientKind, library string) error {
	switch library {
	case libJava, libSarama, libLibrdkafka, libFranzGo:
	default:
		return fmt.Errorf("unknown client library %q (known: %s)", library, knownLibraries)
	}
	switch kind {
	case topology.Producer, topology.Consumer:
	case topology.Streams:
		if library != libJava {
			return fmt.Errorf("kind streams needs library java (Kafka Streams is a Java library), got %s", library)
		}
	default:
		return fmt.Errorf("unknown client kind %q (known: producer, consumer, streams)", kind)
	}
	return nil
}

// entry is one key of a properties file: the key as written, its trimmed
// (or redacted) value and the line the key is on.
type entry struct {
	key   string
	value string
	line  int
	// earlier are the lines of the key's earlier occurrences (the last
	// one counts).
	earlier []int
}

// redacted replaces the value of a key that looks secret.
const redacted = "<redacted>"

// readProperties parses data and returns its keys in line order, the last
// occurrence of a duplicated key only. Errors are "name:line: message" and
// never quote the file's content.
func readProperties(name string, data []byte) ([]entry, error) {
	if !utf8.Valid(data) {
		bad := len(data)
		for i := 0; i < len(data); {
			r, w := utf8.DecodeRune(data[i:])
			if r == utf8.RuneError && w <= 1 {
				bad = i
				break
			}
			i += w
		}
		return nil, fmt.Errorf("%s:%d: invalid UTF-8", name, lineAt(data, bad))
	}
	text := normalizeNewlines(data)
	// The scanner runs first: it reports errors with the line they are on,
	// and it keeps the library from seeing a value without a key, which the
	// library reports by quoting the value (a secret, maybe) and after which
	// its lexer goroutine stays blocked for good. The library drops one
	// leading byte order mark, so the scanner does too.
	lines, earlier, err := scanAllKeys(strings.TrimPrefix(text, "\uFEFF"))
	if err != nil {
		return nil, fmt.Errorf("%s:%w", name, err)
	}
	loader := properties.Loader{Encoding: properties.UTF8, DisableExpansion: true}
	p, err := loader.LoadBytes([]byte(text))
	if err != nil {
		return nil, fmt.Errorf("%s:%d: invalid properties syntax", name, libraryErrorLine(err))
	}
	keys := p.Keys()
	out := make([]entry, 0, len(keys))
	for _, k := range keys {
		line, ok := lines[k]
		if !ok {
			return nil, fmt.Errorf("%s: internal error: a key's line was not found (please report this file's layout)", name)
		}
		v, _ := p.Get(k)
		v = strings.TrimSpace(v)
		key := k
		switch {
		case looksLikeCredential(k):
			// A JAAS option line that lost its continuation
			// (`  password="..." ;` on a line of its own) is parsed as
			// a key holding the secret: neither it nor its value is kept.
			key, v = fmt.Sprintf("%s(line %d)", redacted, line), redacted
		case isSecretKey(k), looksLikeCredential(v):
			v = redacted
		default:
			v = redactURLUserinfo(v)
		}
		out = append(out, entry{key: key, value: v, line: line, earlier: earlier[k]})
	}
	sortEntries(out)
	return out, nil
}

// normalizeNewlines turns CRLF and lone CR line ends into LF, so that the
// scanner and the library see the same lines (the library splits lines at
// CR too but does not continue a line ending in a backslash followed by
// CRLF).
func normalizeNewlines(data []byte) string {
	if bytes.IndexByte(data, '\r') < 0 {
		return string(data)
	}
	var b strings.Builder
	b.Grow(len(data))
	for i := 0; i < len(data); i++ {
		c := data[i]
		if c == '\r' {
			b.WriteByte('\n')
			if i+1 < len(data) && data[i+1] == '\n' {
				i++
			}
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// lineAt returns the 1-based line of byte offset off, counting LF, CRLF and
// lone CR as line ends.
func lineAt(data []byte, off int) int {
	return 1 + strings.Count(normalizeNewlines(data[:off]), "\n")
}

// libraryErrorLine extracts the line from a magiconair/properties error
// ("properties: Line 7: ..."), or 1 when it has none.
func libraryErrorLine(err error) int {
	const prefix = "properties: Line "
	msg := err.Error()
	if !strings.HasPrefix(msg, prefix) {
		return 1
	}
	msg = msg[len(prefix):]
	end := strings.IndexByte(msg, ':')
	if end < 0 {
		return 1
	}
	n, convErr := strconv.Atoi(msg[:end])
	if convErr != nil || n < 1 {
		return 1
	}
	return n
}

// sortEntries orders entries by line (keys are unique, so lines are too).
func sortEntries(es []entry) {
	slices.SortFunc(es, func(a, b entry) int { return a.line - b.line })
}

// kversion is a Kafka version; only major, minor and patch matter here.
type kversion struct {
	major, minor, patch int
}

// parseVersion parses a dotted version such as 4.3.1; empty means
// config.DefaultKafkaVersion.
func parseVersion(s string) (kversion, error) {
	if s == "" {
		s = config.DefaultKafkaVersion
	}
	parts := strings.Split(s, ".")
	bad := fmt.Errorf("invalid kafka version %q: want a dotted version like 4.3.1", s)
	if len(parts) > 4 {
		return kversion{}, bad
	}
	var nums [3]int
	for i, p := range parts {
		if p == "" || len(p) > 6 || strings.Trim(p, "0123456789") != "" {
			return kversion{}, bad
		}
		if i < 3 {
			nums[i], _ = strconv.Atoi(p)
		}
	}
	return kversion{nums[0], nums[1], nums[2]}, nil
}
