// LedgerConsumer runs members of the drill's consumer group on the real
// Java client (org.apache.kafka:kafka-clients of the version the drill
// asks for). It speaks stretchctl's line protocol (package
// probe/ledgerwire): settings, then GROUP, then CLOSE; it reports every
// record handed to a member (with the first bytes of its value, which name
// the ledger record), every commit the broker accepted (through a
// ConsumerInterceptor's onCommit, which the client calls for automatic and
// explicit commits alike) and every assignment change (the
// ConsumerRebalanceListener callbacks).
//
// It applies exactly the settings it is given, as KafkaConsumer reads them,
// plus byte-array deserializers and its interceptor; nothing else is tuned.
// Each member is its own KafkaConsumer on its own thread, as in an
// application: poll, handle the records, and commitSync after each poll when
// the settings turn auto-commit off.

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.StringJoiner;
import java.util.concurrent.ConcurrentHashMap;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerInterceptor;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.utils.AppInfoParser;

public final class LedgerConsumer {
    private static final int HEADER = 36;
    // client.id → member number, for the interceptor (the client builds it).
    private static final Map<String, Integer> memberOf = new ConcurrentHashMap<>();
    private static volatile boolean closing;

    public static void main(String[] args) throws Exception {
        LedgerWire.start();
        LedgerWire.emit("VERSION java " + LedgerWire.enc(AppInfoParser.getVersion()));

        Properties props = new Properties();
        Set<String> known = ConsumerConfig.configNames();
        List<KafkaConsumer<byte[], byte[]>> consumers = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();

        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null) {
            String[] f = line.split(" ");
            switch (f[0]) {
                case "CONFIG": {
                    String key = LedgerWire.dec(f[1]);
                    String value = f.length > 2 ? LedgerWire.dec(f[2]) : "";
                    if (!known.contains(key) && !key.startsWith("sasl.") && !key.startsWith("ssl.")) {
                        LedgerWire.emit("REJECTED " + LedgerWire.enc(key) + " " + LedgerWire.enc("not a kafka-clients " + AppInfoParser.getVersion() + " consumer setting"));
                        break;
                    }
                    props.put(key, value);
                    break;
                }
                case "GROUP": {
                    int n = Integer.parseInt(f[1]);
                    String topic = LedgerWire.dec(f[2]);
                    String group = LedgerWire.dec(f[3]);
                    int first = Integer.parseInt(f[4]);
                    boolean manual = "false".equalsIgnoreCase(props.getProperty(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "true").trim());
                    String clientId = props.getProperty(ConsumerConfig.CLIENT_ID_CONFIG, "stretchctl-ledger-consumer");
                    String interceptors = props.getProperty(ConsumerConfig.INTERCEPTOR_CLASSES_CONFIG, "").trim();
                    try {
                        for (int i = 0; i < n; i++) {
                            int member = first + i;
                            Properties p = new Properties();
                            p.putAll(props);
                            p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
                            p.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId + "-" + member);
                            if (p.containsKey(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG)) {
                                p.put(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, p.get(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG) + "-" + member);
                            }
                            p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, "org.apache.kafka.common.serialization.ByteArrayDeserializer");
                            p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, "org.apache.kafka.common.serialization.ByteArrayDeserializer");
                            p.put(ConsumerConfig.INTERCEPTOR_CLASSES_CONFIG, (interceptors.isEmpty() ? "" : interceptors + ",") + Commits.class.getName());
                            memberOf.put(clientId + "-" + member, member);
                            consumers.add(new KafkaConsumer<>(p));
                        }
                    } catch (Exception e) {
                        LedgerWire.fatal("could not create the consumers: " + e);
                        return;
                    }
                    for (int i = 0; i < n; i++) {
                        KafkaConsumer<byte[], byte[]> c = consumers.get(i);
                        int member = first + i;
                        Thread t = new Thread(() -> run(c, member, topic, manual), "ledger-member-" + member);
                        t.setDaemon(true);
                        t.start();
                        threads.add(t);
                    }
                    LedgerWire.emit("READY");
                    break;
                }
                case "CLOSE": {
                    long waitMs = Long.parseLong(f[1]);
                    closing = true;
                    for (KafkaConsumer<byte[], byte[]> c : consumers) {
                        c.wakeup();
                    }
                    long deadline = System.currentTimeMillis() + waitMs + 5000;
                    for (Thread t : threads) {
                        t.join(Math.max(1, deadline - System.currentTimeMillis()));
                    }
                    LedgerWire.emit("CLOSED");
                    LedgerWire.finish();
                    System.exit(0);
                    return;
                }
                default:
                    LedgerWire.fatal("unknown command " + f[0]);
                    return;
            }
        }
        // Standard input closed without CLOSE: the drill is gone.
        System.exit(1);
    }

    // run is one member: subscribe, poll, report, commit as configured, and
    // close (committing and leaving, as KafkaConsumer.close does) at the end.
    private static void run(KafkaConsumer<byte[], byte[]> c, int member, String topic, boolean manual) {
        try {
            c.subscribe(List.of(topic), new ConsumerRebalanceListener() {
                @Override
                public void onPartitionsRevoked(Collection<TopicPartition> parts) {
                    group(c, member, "revoked", parts);
                }

                @Override
                public void onPartitionsAssigned(Collection<TopicPartition> parts) {
                    group(c, member, "assigned", parts);
                }

                @Override
                public void onPartitionsLost(Collection<TopicPartition> parts) {
                    group(c, member, "lost", parts);
                }
            });
            while (!closing) {
                ConsumerRecords<byte[], byte[]> records;
                try {
                    records = c.poll(Duration.ofMillis(100));
                } catch (WakeupException e) {
                    break;
                } catch (Exception e) {
                    LedgerWire.emit("E " + member + " " + LedgerWire.micros() + " " + LedgerWire.enc(e.getClass().getSimpleName() + ": " + e.getMessage()));
                    continue;
                }
                long at = LedgerWire.micros();
                for (ConsumerRecord<byte[], byte[]> r : records) {
                    LedgerWire.emit("D " + member + " " + r.partition() + " " + r.offset() + " " + at + " " + hex(r.value()));
                }
                if (manual && !records.isEmpty()) {
                    try {
                        c.commitSync();
                    } catch (WakeupException e) {
                        break;
                    } catch (Exception e) {
                        LedgerWire.emit("E " + member + " " + LedgerWire.micros() + " " + LedgerWire.enc("commit: " + e.getClass().getSimpleName() + ": " + e.getMessage()));
                    }
                }
            }
        } finally {
            try {
                c.close(Duration.ofSeconds(10));
            } catch (Exception e) {
                LedgerWire.emit("E " + member + " " + LedgerWire.micros() + " " + LedgerWire.enc("close: " + e.getClass().getSimpleName() + ": " + e.getMessage()));
            }
        }
    }

    private static void group(KafkaConsumer<byte[], byte[]> c, int member, String event, Collection<TopicPartition> parts) {
        int gen = -1;
        try {
            gen = c.groupMetadata().generationId();
        } catch (Exception e) {
            // no group metadata yet
        }
        StringJoiner ps = new StringJoiner(",");
        for (TopicPartition tp : parts) {
            ps.add(Integer.toString(tp.partition()));
        }
        LedgerWire.emit("G " + member + " " + event + " " + gen + " " + LedgerWire.micros() + " " + (parts.isEmpty() ? "-" : ps.toString()));
    }

    /** Commits reports every commit the broker accepted. */
    public static final class Commits implements ConsumerInterceptor<byte[], byte[]> {
        private int member = -1;

        @Override
        public void configure(Map<String, ?> configs) {
            Object id = configs.get(ConsumerConfig.CLIENT_ID_CONFIG);
            Integer m = id == null ? null : memberOf.get(id.toString());
            member = m == null ? -1 : m;
        }

        @Override
        public ConsumerRecords<byte[], byte[]> onConsume(ConsumerRecords<byte[], byte[]> records) {
            return records;
        }

        @Override
        public void onCommit(Map<TopicPartition, OffsetAndMetadata> offsets) {
            if (member < 0) {
                return;
            }
            long at = LedgerWire.micros();
            for (Map.Entry<TopicPartition, OffsetAndMetadata> e : offsets.entrySet()) {
                LedgerWire.emit("C " + member + " " + e.getKey().partition() + " " + e.getValue().offset() + " " + at);
            }
        }

        @Override
        public void close() {
        }
    }







    private static String hex(byte[] v) {
        if (v == null || v.length == 0) {
            return "-";
        }
        int n = Math.min(v.length, HEADER);
        StringBuilder b = new StringBuilder(2 * n);
        for (int i = 0; i < n; i++) {
            b.append(Character.forDigit((v[i] >> 4) & 0xf, 16)).append(Character.forDigit(v[i] & 0xf, 16));
        }
        return b.toString();
    }
}
