// LedgerProducer runs the drill's ledger producers on the real Java client
// (org.apache.kafka:kafka-clients of the version the drill asks for). It
// speaks stretchctl's line protocol (package probe/ledgerwire): settings,
// then START, then one SEND per record, then CLOSE; it answers every record
// with its offset or its error and the time, in epoch microseconds.
//
// It applies exactly the settings it is given, as KafkaProducer reads them,
// plus byte-array serializers; nothing else is tuned. Settings the client
// does not know are reported (REJECTED) and not passed, so that the client
// runs with the file's settings and its own defaults, as the team's
// application would.
//
// Each producer has its own sending thread: KafkaProducer.send blocks while
// metadata is missing or the buffer is full (max.block.ms), and one stuck
// producer must not hold up the others, as in an application with several
// producers.

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.utils.AppInfoParser;

public final class LedgerProducer {
    private static final BlockingQueue<String> out = new LinkedBlockingQueue<>();
    private static final String STOP = "";

    public static void main(String[] args) throws Exception {
        Thread writer = new Thread(LedgerProducer::writeOut, "ledger-out");
        writer.setDaemon(true);
        writer.start();
        emit("VERSION java " + enc(AppInfoParser.getVersion()));

        Properties props = new Properties();
        Set<String> known = ProducerConfig.configNames();
        List<KafkaProducer<byte[], byte[]>> producers = new ArrayList<>();
        List<BlockingQueue<String[]>> queues = new ArrayList<>();
        List<Thread> senders = new ArrayList<>();
        String topic = null;

        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8), 1 << 16);
        String line;
        while ((line = in.readLine()) != null) {
            String[] f = line.split(" ");
            switch (f[0]) {
                case "CONFIG": {
                    String key = dec(f[1]);
                    String value = f.length > 2 ? dec(f[2]) : "";
                    // Client-side settings KafkaProducer does not define are
                    // reported, not passed (the client would only log them).
                    if (!known.contains(key) && !key.startsWith("sasl.") && !key.startsWith("ssl.")) {
                        emit("REJECTED " + enc(key) + " " + enc("not a kafka-clients " + AppInfoParser.getVersion() + " producer setting"));
                        break;
                    }
                    props.put(key, value);
                    break;
                }
                case "START": {
                    int n = Integer.parseInt(f[1]);
                    topic = dec(f[2]);
                    props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, "org.apache.kafka.common.serialization.ByteArraySerializer");
                    props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, "org.apache.kafka.common.serialization.ByteArraySerializer");
                    try {
                        for (int i = 0; i < n; i++) {
                            Properties p = new Properties();
                            p.putAll(props);
                            if (!p.containsKey(ProducerConfig.CLIENT_ID_CONFIG)) {
                                p.put(ProducerConfig.CLIENT_ID_CONFIG, "stretchctl-ledger-" + i);
                            } else {
                                p.put(ProducerConfig.CLIENT_ID_CONFIG, p.get(ProducerConfig.CLIENT_ID_CONFIG) + "-" + i);
                            }
                            producers.add(new KafkaProducer<>(p));
                        }
                    } catch (Exception e) {
                        fatal("could not create the producers: " + e);
                        return;
                    }
                    for (int i = 0; i < n; i++) {
                        BlockingQueue<String[]> q = new LinkedBlockingQueue<>();
                        queues.add(q);
                        KafkaProducer<byte[], byte[]> producer = producers.get(i);
                        String t = topic;
                        Thread s = new Thread(() -> send(producer, t, q), "ledger-send-" + i);
                        s.setDaemon(true);
                        s.start();
                        senders.add(s);
                    }
                    emit("READY");
                    break;
                }
                case "SEND": {
                    queues.get(Integer.parseInt(f[1])).put(f);
                    break;
                }
                case "CLOSE": {
                    long waitMs = Long.parseLong(f[1]);
                    for (BlockingQueue<String[]> q : queues) {
                        q.put(new String[] {STOP});
                    }
                    long deadline = System.currentTimeMillis() + waitMs;
                    for (Thread s : senders) {
                        s.join(Math.max(1, deadline - System.currentTimeMillis()));
                    }
                    // close() waits for the records in flight up to the
                    // timeout, then fails the rest (their callbacks run).
                    for (KafkaProducer<byte[], byte[]> p : producers) {
                        p.close(Duration.ofMillis(Math.max(0, deadline - System.currentTimeMillis())));
                    }
                    emit("CLOSED");
                    out.put(STOP);
                    writer.join(5000);
                    System.exit(0);
                    return;
                }
                default:
                    fatal("unknown command " + f[0]);
                    return;
            }
        }
        // Standard input closed without CLOSE: the drill is gone.
        for (KafkaProducer<byte[], byte[]> p : producers) {
            p.close(Duration.ZERO);
        }
        System.exit(1);
    }

    private static void send(KafkaProducer<byte[], byte[]> producer, String topic, BlockingQueue<String[]> q) {
        try {
            while (true) {
                String[] f = q.take();
                if (f[0].equals(STOP)) {
                    return;
                }
                long idx = Long.parseLong(f[2]);
                int partition = Integer.parseInt(f[3]);
                byte[] value = hex(f[4]);
                try {
                    producer.send(new ProducerRecord<>(topic, partition, null, value), (md, err) -> {
                        long at = micros();
                        if (err != null) {
                            emit("F " + idx + " " + at + " " + enc(err.getClass().getSimpleName() + ": " + err.getMessage()));
                        } else {
                            emit("A " + idx + " " + md.offset() + " " + at);
                        }
                    });
                } catch (Exception e) {
                    emit("F " + idx + " " + micros() + " " + enc(e.getClass().getSimpleName() + ": " + e.getMessage()));
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void writeOut() {
        try (BufferedWriter w = new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8), 1 << 16)) {
            while (true) {
                String s = out.take();
                if (s == STOP) {
                    w.flush();
                    return;
                }
                w.write(s);
                w.write('\n');
                if (out.isEmpty()) {
                    w.flush();
                }
            }
        } catch (Exception e) {
            System.exit(2);
        }
    }

    private static void emit(String s) {
        out.add(s);
    }

    private static void fatal(String msg) throws InterruptedException {
        emit("FATAL " + enc(msg));
        out.put(STOP);
        Thread.sleep(200);
        System.exit(1);
    }

    private static long micros() {
        Instant now = Instant.now();
        return now.getEpochSecond() * 1_000_000L + now.getNano() / 1_000;
    }

    private static String enc(String s) {
        return URLEncoder.encode(s == null ? "" : s, StandardCharsets.UTF_8);
    }

    private static String dec(String s) {
        return URLDecoder.decode(s, StandardCharsets.UTF_8);
    }

    private static byte[] hex(String s) {
        byte[] b = new byte[s.length() / 2];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) Integer.parseInt(s.substring(2 * i, 2 * i + 2), 16);
        }
        return b;
    }
}
