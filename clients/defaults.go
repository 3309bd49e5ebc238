package clients

import (
	"fmt"
	"strings"
)

// The defaults below are the values of the keys that matter to failover,
// read from each library's own source or documentation:
//
//   - java: Apache Kafka ProducerConfig, ConsumerConfig, CommonClientConfigs
//     and StreamsConfig of 3.9 and 4.x, with the 3.0 changes (KIP-679 acks
//     and idempotence, session.timeout.ms 45 s, Streams replication.factor
//     -1) undone for older versions and KAFKA-13598 for 3.0.0 and 3.1.0;
//   - sarama: IBM/sarama NewConfig;
//   - franz-go: twmb/franz-go pkg/kgo defaultCfg;
//   - librdkafka: CONFIGURATION.md of recent releases.
//
// Every table is a function, so there is no package state to mutate.

// def is one library default: the config name, its value and the text
// that goes into Setting.Default.
type def struct {
	name, value, why string
}

// javaLabel names the Java default table used for version v: versions
// before 3.0 use the 2.x table and versions from 4.0 on the 4.x one.
func javaLabel(v kversion) string {
	switch {
	case v.major < 3:
		return "java 2.x default"
	case v.major == 3:
		return "java 3.x default"
	}
	return "java 4.x default"
}

// idempotenceBug reports the Java versions that do not apply the
// enable.idempotence=true default (KAFKA-13598).
func idempotenceBug(v kversion) bool {
	return v.major == 3 && (v.minor == 0 || v.minor == 1) && v.patch == 0
}

// producerDefaults returns lib's producer defaults except enable.idempotence
// and, for franz-go and librdkafka, max.in.flight.requests.per.connection,
// which depend on other settings (see fillProducer).
func producerDefaults(lib string, v kversion) []def {
	switch lib {
	case libJava:
		l := javaLabel(v)
		acks := def{"acks", "all", l}
		linger := def{"linger.ms", "0", l}
		recovery := def{"metadata.recovery.strategy", "none", l}
		if v.major < 3 {
			acks = def{"acks", "1", l + " (acks=all is the default from 3.0, KIP-679)"}
		}
		if v.major >= 4 {
			linger = def{"linger.ms", "5", l + " (KIP-1030)"}
			recovery = def{"metadata.recovery.strategy", "rebootstrap", l + " (KIP-1102)"}
		}
		return []def{
			acks,
			{"retries", "2147483647", l},
			{"delivery.timeout.ms", "120000", l},
			{"request.timeout.ms", "30000", l},
			{"retry.backoff.ms", "100", l},
			{"retry.backoff.max.ms", "1000", l},
			{"max.in.flight.requests.per.connection", "5", l},
			linger,
			{"transaction.timeout.ms", "60000", l},
			recovery,
		}
	case libSarama:
		return []def{
			{"acks", "1", "sarama default (Producer.RequiredAcks = WaitForLocal)"},
			{"retries", "3", "sarama default (Producer.Retry.Max = 3)"},
			{"request.timeout.ms", "30000", "sarama default (Net.ReadTimeout = 30s; the broker waits up to Producer.Timeout = 10s for acks)"},
			{"retry.backoff.ms", "100", "sarama default (Producer.Retry.Backoff = 100ms)"},
			{"retry.backoff.max.ms", "100", "sarama default (Producer.Retry.Backoff = 100ms, the same for every retry)"},
			{"max.in.flight.requests.per.connection", "5", "sarama default (Net.MaxOpenRequests = 5)"},
			{"linger.ms", "0", "sarama default (Producer.Flush.Frequency = 0: no lingering)"},
			{"transaction.timeout.ms", "60000", "sarama default (Producer.Transaction.Timeout = 1m)"},
		}
	case libFranzGo:
		const backoff = "franz-go default (RetryBackoffFn: 250ms doubling to 5s, ±20% jitter)"
		return []def{
			{"acks", "all", "franz-go default (RequiredAcks = AllISRAcks())"},
			{"retries", "2147483647", "franz-go default (RecordRetries unset: unlimited)"},
			{"delivery.timeout.ms", "2147483647", "franz-go default (RecordDeliveryTimeout unset: no limit)"},
			{"request.timeout.ms", "20000", "franz-go default (ProduceRequestTimeout = 10s, plus RequestTimeoutOverhead = 10s on the connection)"},
			{"retry.backoff.ms", "250", backoff},
			{"retry.backoff.max.ms", "5000", backoff},
			{"linger.ms", "10", "franz-go default (ProducerLinger = 10ms)"},
			{"transaction.timeout.ms", "40000", "franz-go default (TransactionTimeout = 40s)"},
		}
	case libLibrdkafka:
		const l = "librdkafka default"
		return []def{
			{"acks", "all", l + " (acks = -1)"},
			{"retries", "2147483647", l + " (retries = INT32_MAX)"},
			{"delivery.timeout.ms", "300000", l + " (message.timeout.ms = 300000)"},
			{"request.timeout.ms", "30000", l + " (enforced by the broker only; the client waits up to socket.timeout.ms = 60000)"},
			{"retry.backoff.ms", "100", l},
			{"retry.backoff.max.ms", "1000", l},
			{"linger.ms", "5", l + " (queue.buffering.max.ms = 5)"},
			{"transaction.timeout.ms", "60000", l},
			{"metadata.recovery.strategy", "rebootstrap", l + " (recent releases; older ones never re-bootstrap)"},
		}
	}
	return nil
}

// idempotenceDefault returns lib's enable.idempotence default, before
// conflicting settings are considered.
func idempotenceDefault(lib string, v kversion) def {
	const name = "enable.idempotence"
	switch lib {
	case libJava:
		l := javaLabel(v)
		switch {
		case v.major < 3:
			return def{name, "false", l + " (true is the default from 3.0, KIP-679)"}
		case idempotenceBug(v):
			return def{name, "false", fmt.Sprintf("java %d.%d.%d default (KAFKA-13598: the enable.idempotence=true default is not applied in 3.0.0 and 3.1.0)", v.major, v.minor, v.patch)}
		}
		return def{name, "true", l}
	case libSarama:
		return def{name, "false", "sarama default (Producer.Idempotent = false)"}
	case libFranzGo:
		return def{name, "true", "franz-go default (idempotent unless DisableIdempotentWrite())"}
	}
	return def{name, "false", "librdkafka default"}
}

// consumerDefaults returns lib's consumer defaults.
func consumerDefaults(lib string, v kversion) []def {
	switch lib {
	case libJava:
		l := javaLabel(v)
		session := def{"session.timeout.ms", "45000", l}
		recovery := def{"metadata.recovery.strategy", "none", l}
		if v.major < 3 {
			session = def{"session.timeout.ms", "10000", l + " (45000 is the default from 3.0)"}
		}
		if v.major >= 4 {
			recovery = def{"metadata.recovery.strategy", "rebootstrap", l + " (KIP-1102)"}
		}
		return []def{
			{"auto.offset.reset", "latest", l},
			{"isolation.level", "read_uncommitted", l},
			session,
			{"heartbeat.interval.ms", "3000", l},
			{"group.protocol", "classic", l},
			{"client.rack", "", l},
			{"enable.auto.commit", "true", l},
			{"request.timeout.ms", "30000", l},
			recovery,
		}
	case libSarama:
		return []def{
			{"auto.offset.reset", "latest", "sarama default (Consumer.Offsets.Initial = OffsetNewest)"},
			{"isolation.level", "read_uncommitted", "sarama default (Consumer.IsolationLevel = ReadUncommitted)"},
			{"session.timeout.ms", "10000", "sarama default (Consumer.Group.Session.Timeout = 10s)"},
			{"heartbeat.interval.ms", "3000", "sarama default (Consumer.Group.Heartbeat.Interval = 3s)"},
			{"group.protocol", "classic", "sarama default (sarama implements only the classic group protocol)"},
			{"client.rack", "", "sarama default (RackID unset)"},
			{"enable.auto.commit", "true", "sarama default (Consumer.Offsets.AutoCommit.Enable = true)"},
			{"request.timeout.ms", "30000", "sarama default (Net.ReadTimeout = 30s)"},
		}
	case libFranzGo:
		return []def{
			{"auto.offset.reset", "earliest", "franz-go default (ConsumeStartOffset is the log start; an out-of-range offset rewinds one minute, RewindOffset(time.Minute))"},
			{"isolation.level", "read_uncommitted", "franz-go default (FetchIsolationLevel = ReadUncommitted)"},
			{"session.timeout.ms", "45000", "franz-go default (SessionTimeout = 45s)"},
			{"heartbeat.interval.ms", "3000", "franz-go default (HeartbeatInterval = 3s)"},
			{"group.protocol", "classic", "franz-go default (ServerSideBalancer opts into the consumer protocol)"},
			{"client.rack", "", "franz-go default (Rack unset)"},
			{"enable.auto.commit", "true", "franz-go default (autocommit every 5s unless DisableAutoCommit())"},
			{"request.timeout.ms", "10000", "franz-go default (RequestTimeoutOverhead = 10s, added to a request's own timeout)"},
		}
	case libLibrdkafka:
		const l = "librdkafka default"
		return []def{
			{"auto.offset.reset", "latest", l + " (auto.offset.reset = largest)"},
			{"isolation.level", "read_committed", l + " (Java's is read_uncommitted)"},
			{"session.timeout.ms", "45000", l},
			{"heartbeat.interval.ms", "3000", l},
			{"group.protocol", "classic", l},
			{"client.rack", "", l},
			{"enable.auto.commit", "true", l},
			{"request.timeout.ms", "60000", l + " (socket.timeout.ms = 60000; librdkafka's request.timeout.ms applies to producers only)"},
			{"metadata.recovery.strategy", "rebootstrap", l + " (recent releases; older ones never re-bootstrap)"},
		}
	}
	return nil
}

// streamsDefaults returns the Kafka Streams defaults (Java only).
func streamsDefaults(v kversion) []def {
	l := "kafka streams" + strings.TrimPrefix(javaLabel(v), "java")
	rf := def{"replication.factor", "-1", l + " (-1: the broker's default.replication.factor)"}
	if v.major < 3 {
		rf = def{"replication.factor", "1", l + " (-1, the broker default, from 3.0)"}
	}
	return []def{
		rf,
		{"num.standby.replicas", "0", l},
		{"processing.guarantee", "at_least_once", l},
		{"rack.aware.assignment.tags", "", l},
		{"acceptable.recovery.lag", "10000", l},
	}
}
