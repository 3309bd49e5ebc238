package clients

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/stretchctl/stretchctl/topology"
)

// Names used more than once.
const (
	maxInFlight = "max.in.flight.requests.per.connection"
	idempotence = "enable.idempotence"
)

// effective builds the effective settings of a file of the given kind from
// its entries (in line order); maps a kind does not use are nil.
func effective(kind topology.ClientKind, lib string, v kversion, entries []entry) (prod, cons, streams topology.Settings) {
	switch kind {
	case topology.Producer:
		prod = fileSettings(lib, entries)
		fillProducer(prod, lib, v)
	case topology.Consumer:
		cons = fileSettings(lib, entries)
		fillConsumer(cons, lib, v)
	case topology.Streams:
		prod, cons, streams = routeStreams(entries)
		streamsOverrides(prod, cons, streams)
		fillProducer(prod, lib, v)
		fillConsumer(cons, lib, v)
		fillDefaults(streams, streamsDefaults(v))
	}
	return prod, cons, streams
}

// fileSettings turns the entries of a producer or consumer file into
// settings under their Java names; of two aliases, the later line wins.
func fileSettings(lib string, entries []entry) topology.Settings {
	m := make(topology.Settings, len(entries))
	for _, e := range entries {
		name := canonicalName(lib, e.key)
		m[name] = topology.Setting{Value: normalizeValue(lib, name, e.value), Key: e.key, Line: e.line}
	}
	return m
}

// fillDefaults adds every default whose key m does not have.
func fillDefaults(m topology.Settings, defs []def) {
	for _, d := range defs {
		if _, ok := m[d.name]; !ok {
			m[d.name] = topology.Setting{Value: d.value, Default: d.why}
		}
	}
}

// fillProducer adds lib's producer defaults to m, resolving the ones that
// depend on other settings.
func fillProducer(m topology.Settings, lib string, v kversion) {
	if _, ok := m[idempotence]; !ok {
		d := idempotenceDefault(lib, v)
		if d.value == "true" {
			if why := idempotenceConflict(lib, v, m); why != "" {
				d.value, d.why = "false", why
			}
		}
		m[d.name] = topology.Setting{Value: d.value, Default: d.why}
	}
	if lib == libLibrdkafka {
		if _, ok := m["delivery.timeout.ms"]; !ok {
			if _, txn := m["transactional.id"]; txn {
				timeout := "60000"
				if s, ok := m["transaction.timeout.ms"]; ok {
					timeout = s.Value
				}
				m["delivery.timeout.ms"] = topology.Setting{Value: timeout,
					Default: "librdkafka default (message.timeout.ms follows transaction.timeout.ms when transactional.id is set)"}
			}
		}
	}
	fillDefaults(m, producerDefaults(lib, v))
	idempotent := isTrue(m[idempotence].Value)
	switch lib {
	case libJava:
		raiseDeliveryTimeout(m, v)
	case libFranzGo:
		if idempotent {
			fillDefaults(m, []def{{maxInFlight, "5", "franz-go default (5 produce requests in flight per broker when idempotent)"}})
		} else {
			fillDefaults(m, []def{{maxInFlight, "1", "franz-go default (MaxProduceRequestsInflightPerBroker = 1 without idempotence)"}})
		}
	case libLibrdkafka:
		if idempotent {
			fillDefaults(m, []def{{maxInFlight, "5", "librdkafka default with enable.idempotence=true"}})
		} else {
			fillDefaults(m, []def{{maxInFlight, "1000000", "librdkafka default"}})
		}
	}
}

// idempotenceConflict says why an unset enable.idempotence is false although
// lib's default is true, or returns "" when nothing conflicts. It only looks
// at values m already holds: those written in the file (or set by Kafka
// Streams), never other defaults.
func idempotenceConflict(lib string, v kversion, m topology.Settings) string {
	acks := ""
	if s, ok := m["acks"]; ok && !strings.EqualFold(s.Value, "all") {
		acks = "acks is not all"
		if s.Value == "0" || s.Value == "1" {
			acks = "acks=" + s.Value
		}
	}
	switch lib {
	case libJava:
		reason := acks
		if reason == "" {
			if n, ok := intValue(m, "retries"); ok && n == 0 {
				reason = "retries=0"
			}
		}
		if reason == "" {
			if n, ok := intValue(m, maxInFlight); ok && n > 5 {
				reason = fmt.Sprintf("%s=%d", maxInFlight, n)
			}
		}
		if reason == "" {
			return ""
		}
		return fmt.Sprintf("%s: disabled because %s (KIP-679: an unset enable.idempotence is true only with acks=all, retries > 0 and %s <= 5)",
			javaLabel(v), reason, maxInFlight)
	case libFranzGo:
		if acks == "" {
			return ""
		}
		return fmt.Sprintf("franz-go: disabled because %s (idempotent writes need acks=all, so the client must use DisableIdempotentWrite())", acks)
	}
	return ""
}

// raiseDeliveryTimeout applies the Java producer's rule that a defaulted
// delivery.timeout.ms is raised to linger.ms + request.timeout.ms.
func raiseDeliveryTimeout(m topology.Settings, v kversion) {
	const name = "delivery.timeout.ms"
	d := m[name]
	if d.Line != 0 || d.Default != javaLabel(v) {
		return // written in the file or set by Kafka Streams
	}
	cur, ok1 := intValue(m, name)
	linger, ok2 := intValue(m, "linger.ms")
	req, ok3 := intValue(m, "request.timeout.ms")
	if !ok1 || !ok2 || !ok3 || linger+req <= cur {
		return
	}
	m[name] = topology.Setting{Value: strconv.FormatInt(linger+req, 10),
		Default: javaLabel(v) + " (raised to linger.ms + request.timeout.ms)"}
}

// intValue parses m[name] as an integer.
func intValue(m topology.Settings, name string) (int64, bool) {
	s, ok := m[name]
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s.Value), 10, 32)
	return n, err == nil
}

// isTrue reports whether a boolean config value is true (case-insensitive,
// as Kafka parses booleans).
func isTrue(s string) bool { return strings.EqualFold(strings.TrimSpace(s), "true") }

// fillConsumer adds lib's consumer defaults to m.
func fillConsumer(m topology.Settings, lib string, v kversion) {
	fillDefaults(m, consumerDefaults(lib, v))
}

// Precedence of the ways a Streams file can set a client config; the
// highest wins.
const (
	rankPlain        = 1 // "acks"
	rankPrefixed     = 2 // "producer.acks", "consumer.session.timeout.ms"
	rankMainConsumer = 3 // "main.consumer.session.timeout.ms"
	rankBootstrap    = 4 // unprefixed bootstrap.servers: Streams always uses it
)

// routeStreams splits the entries of a Kafka Streams file into producer,
// consumer and Streams settings.
func routeStreams(entries []entry) (prod, cons, streams topology.Settings) {
	prod, cons, streams = topology.Settings{}, topology.Settings{}, topology.Settings{}
	prodRank, consRank := map[string]int{}, map[string]int{}
	put := func(m topology.Settings, ranks map[string]int, name string, s topology.Setting, rank int) {
		if ranks[name] > rank {
			return
		}
		s.Value = normalizeValue(libJava, name, s.Value)
		m[name], ranks[name] = s, rank
	}
	for _, e := range entries {
		s := topology.Setting{Value: e.value, Key: e.key, Line: e.line}
		prefix, name, _ := strings.Cut(e.key, ".")
		switch {
		case name == "":
			// No prefix, or nothing after it: a plain key.
		case prefix == "producer":
			put(prod, prodRank, name, s, rankPrefixed)
			continue
		case prefix == "consumer":
			put(cons, consRank, name, s, rankPrefixed)
			continue
		case prefix == "main" && strings.HasPrefix(name, "consumer.") && len(name) > len("consumer."):
			put(cons, consRank, strings.TrimPrefix(name, "consumer."), s, rankMainConsumer)
			continue
		case (prefix == "restore" || prefix == "global") && strings.HasPrefix(name, "consumer.") && len(name) > len("consumer."):
			// Kept under the full key: these never configure the main consumer.
			put(cons, consRank, e.key, s, rankPrefixed)
			continue
		}
		p, c := clientScope(e.key)
		rank := rankPlain
		if e.key == "bootstrap.servers" {
			rank = rankBootstrap
		}
		if p {
			put(prod, prodRank, e.key, s, rank)
		}
		if c {
			put(cons, consRank, e.key, s, rank)
		}
		if !p && !c {
			streams[e.key] = s
		}
	}
	return prod, cons, streams
}

// streamsOverrides applies Kafka Streams' own settings for its producer and
// consumer: defaults it changes, and settings it does not let the file
// change (enable.auto.commit always, and with exactly-once processing
// enable.idempotence and isolation.level).
func streamsOverrides(prod, cons, streams topology.Settings) {
	const l = "kafka streams default"
	fillDefaults(prod, []def{{"linger.ms", "100", l + " (overrides the producer's linger.ms)"}})
	fillDefaults(cons, []def{{"auto.offset.reset", "earliest", l + " (overrides the consumer's auto.offset.reset)"}})
	force(cons, "enable.auto.commit", "false", l+" (Kafka Streams commits itself)", "kafka streams always uses false (the file's value is ignored)")
	guarantee := streams["processing.guarantee"].Value
	switch guarantee {
	case "exactly_once", "exactly_once_beta", "exactly_once_v2":
	default:
		return
	}
	eos := "kafka streams " + guarantee + " default"
	force(prod, idempotence, "true", eos, "kafka streams "+guarantee+" always uses true (the file's value is ignored)")
	fillDefaults(prod, []def{
		{"delivery.timeout.ms", "2147483647", eos},
		{"transaction.timeout.ms", "10000", eos},
	})
	force(cons, "isolation.level", "read_committed", eos, "kafka streams "+guarantee+" always uses read_committed (the file's value is ignored)")
}

// force sets m[name] to value: as a default (why) when the file does not
// set it, and in place of the file's value (ignored) when the file sets
// something else; the file's key and line are kept.
func force(m topology.Settings, name, value, why, ignored string) {
	s, ok := m[name]
	switch {
	case !ok:
		m[name] = topology.Setting{Value: value, Default: why}
	case !strings.EqualFold(s.Value, value):
		s.Value, s.Default = value, ignored
		m[name] = s
	}
}
