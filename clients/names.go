package clients

import (
	"regexp"
	"strings"
)

// canonicalName returns the Java name of a config key for library lib:
// librdkafka's aliases become the names the Java client uses.
func canonicalName(lib, key string) string {
	if lib != libLibrdkafka {
		return key
	}
	switch key {
	case "request.required.acks":
		return "acks"
	case "message.timeout.ms":
		return "delivery.timeout.ms"
	case "message.send.max.retries":
		return "retries"
	case "queue.buffering.max.ms":
		return "linger.ms"
	case "max.in.flight":
		return "max.in.flight.requests.per.connection"
	case "metadata.broker.list":
		return "bootstrap.servers"
	}
	return key
}

// normalizeValue gives library-specific spellings of a value one form:
// acks=-1 is "all" for every library, and librdkafka's auto.offset.reset
// values become the Java ones (its "error" fails loudly, as Java's "none").
func normalizeValue(lib, name, value string) string {
	switch {
	case name == "acks" && value == "-1":
		return "all"
	case name == "auto.offset.reset" && lib == libLibrdkafka:
		switch strings.ToLower(value) {
		case "smallest", "beginning", "earliest":
			return "earliest"
		case "largest", "end", "latest":
			return "latest"
		case "error":
			return "none"
		}
	}
	return value
}

// isSecretKey reports whether a key's value must never be stored or shown.
func isSecretKey(key string) bool {
	k := strings.ToLower(key)
	for _, s := range []string{
		"password", "passwd", "secret", "token", "credential",
		"jaas", "sasl.oauthbearer.config", "ssl.key", "user.info", "private.key",
	} {
		if strings.Contains(k, s) {
			return true
		}
	}
	return false
}

// credentialRE finds an option that sets a secret inside a value or a
// key: password="...", secret=..., token = ... (JAAS options, connection
// strings).
var credentialRE = regexp.MustCompile(`(?i)(password|passwd|secret|token)\s*=`)

// looksLikeCredential reports whether s sets a secret (a JAAS option line
// without its continuation backslash, say).
func looksLikeCredential(s string) bool { return credentialRE.MatchString(s) }

// userinfoRE is the user information of a URL (scheme://user:pass@host).
var userinfoRE = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]*://)[^/@\s]+@`)

// redactURLUserinfo replaces the credentials of every URL in s.
func redactURLUserinfo(s string) string { return userinfoRE.ReplaceAllString(s, "${1}"+redacted+"@") }

// clientScope reports whether the Java producer and the Java consumer know
// a config name, which decides where Kafka Streams passes an unprefixed key.
func clientScope(name string) (producer, consumer bool) {
	switch name {
	// Producer only.
	case "acks", "batch.size", "buffer.memory", "compression.type",
		"compression.gzip.level", "compression.lz4.level", "compression.zstd.level",
		"delivery.timeout.ms", "enable.idempotence", "key.serializer", "linger.ms",
		"max.block.ms", "max.in.flight.requests.per.connection", "max.request.size",
		"metadata.max.idle.ms", "partitioner.adaptive.partitioning.enable",
		"partitioner.availability.timeout.ms", "partitioner.class", "partitioner.ignore.keys",
		"retries", "transaction.timeout.ms", "transactional.id",
		"transaction.two.phase.commit.enable", "value.serializer":
		return true, false
	// Consumer only.
	case "allow.auto.create.topics", "auto.commit.interval.ms", "auto.offset.reset",
		"check.crcs", "client.rack", "default.api.timeout.ms", "enable.auto.commit",
		"exclude.internal.topics", "fetch.max.bytes", "fetch.max.wait.ms", "fetch.min.bytes",
		"group.id", "group.instance.id", "group.protocol", "group.remote.assignor",
		"heartbeat.interval.ms", "isolation.level", "key.deserializer",
		"max.partition.fetch.bytes", "max.poll.interval.ms", "max.poll.records",
		"partition.assignment.strategy", "session.timeout.ms", "value.deserializer":
		return false, true
	// Both.
	case "bootstrap.servers", "client.dns.lookup", "client.id", "connections.max.idle.ms",
		"enable.metrics.push", "interceptor.classes", "metadata.max.age.ms",
		"metadata.recovery.strategy", "metadata.recovery.rebootstrap.trigger.ms",
		"receive.buffer.bytes", "request.timeout.ms", "retry.backoff.ms",
		"retry.backoff.max.ms", "send.buffer.bytes", "auto.include.jmx.reporter":
		return true, true
	}
	for _, prefix := range []string{
		"ssl.", "sasl.", "security.", "metric.", "metrics.",
		"reconnect.backoff.", "socket.connection.setup.timeout.",
	} {
		if strings.HasPrefix(name, prefix) {
			return true, true
		}
	}
	return false, false
}
