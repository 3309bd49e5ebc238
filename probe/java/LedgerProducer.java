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
//
// With TXNIDS (one transactional.id per producer) each producer writes in
// transactions, as a transactional application does: initTransactions,
// then beginTransaction, the sends of about 100 ms of records,
// commitTransaction. A record is answered (A) only once its transaction is
// committed; the records of an aborted transaction fail (F "aborted: ...").
// A fenced producer (ProducerFencedException) fails its transaction's
// records (F "fenced: ...") and is replaced by a new one with the same id.

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
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
    private static final String STOP = "";

    public static void main(String[] args) throws Exception {
        LedgerWire.start();
        LedgerWire.emit("VERSION java " + LedgerWire.enc(AppInfoParser.getVersion()));

        Properties props = new Properties();
        Set<String> known = ProducerConfig.configNames();
        List<KafkaProducer<byte[], byte[]>> producers = new java.util.concurrent.CopyOnWriteArrayList<>();
        List<BlockingQueue<String[]>> queues = new ArrayList<>();
        List<Thread> senders = new ArrayList<>();
        String topic = null;
        String[] txnIds = null;

        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8), 1 << 16);
        String line;
        while ((line = in.readLine()) != null) {
            String[] f = line.split(" ");
            switch (f[0]) {
                case "CONFIG": {
                    String key = LedgerWire.dec(f[1]);
                    String value = f.length > 2 ? LedgerWire.dec(f[2]) : "";
                    // Client-side settings KafkaProducer does not define are
                    // reported, not passed (the client would only log them).
                    if (!known.contains(key) && !key.startsWith("sasl.") && !key.startsWith("ssl.")) {
                        LedgerWire.emit("REJECTED " + LedgerWire.enc(key) + " " + LedgerWire.enc("not a kafka-clients " + AppInfoParser.getVersion() + " producer setting"));
                        break;
                    }
                    props.put(key, value);
                    break;
                }
                case "TXNIDS": {
                    txnIds = LedgerWire.dec(f[1]).split(",");
                    break;
                }
                case "START": {
                    int n = Integer.parseInt(f[1]);
                    topic = LedgerWire.dec(f[2]);
                    props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, "org.apache.kafka.common.serialization.ByteArraySerializer");
                    props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, "org.apache.kafka.common.serialization.ByteArraySerializer");
                    List<Properties> configs = new ArrayList<>();
                    try {
                        for (int i = 0; i < n; i++) {
                            Properties p = new Properties();
                            p.putAll(props);
                            if (!p.containsKey(ProducerConfig.CLIENT_ID_CONFIG)) {
                                p.put(ProducerConfig.CLIENT_ID_CONFIG, "stretchctl-ledger-" + i);
                            } else {
                                p.put(ProducerConfig.CLIENT_ID_CONFIG, p.get(ProducerConfig.CLIENT_ID_CONFIG) + "-" + i);
                            }
                            if (txnIds != null) {
                                p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, txnIds[i % txnIds.length]);
                            }
                            configs.add(p);
                            KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p);
                            if (txnIds != null) {
                                producer.initTransactions();
                            }
                            producers.add(producer);
                        }
                    } catch (Exception e) {
                        LedgerWire.fatal("could not create the producers: " + e);
                        return;
                    }
                    for (int i = 0; i < n; i++) {
                        BlockingQueue<String[]> q = new LinkedBlockingQueue<>();
                        queues.add(q);
                        KafkaProducer<byte[], byte[]> producer = producers.get(i);
                        String t = topic;
                        Properties cfg = configs.get(i);
                        boolean txn = txnIds != null;
                        int slot = i;
                        Thread s = new Thread(() -> {
                            if (txn) {
                                sendInTransactions(producer, cfg, t, q, producers, slot);
                            } else {
                                send(producer, t, q);
                            }
                        }, "ledger-send-" + i);
                        s.setDaemon(true);
                        s.start();
                        senders.add(s);
                    }
                    LedgerWire.emit("READY");
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
                        long at = LedgerWire.micros();
                        if (err != null) {
                            LedgerWire.emit("F " + idx + " " + at + " " + LedgerWire.enc(err.getClass().getSimpleName() + ": " + err.getMessage()));
                        } else {
                            LedgerWire.emit("A " + idx + " " + md.offset() + " " + at);
                        }
                    });
                } catch (Exception e) {
                    LedgerWire.emit("F " + idx + " " + LedgerWire.micros() + " " + LedgerWire.enc(e.getClass().getSimpleName() + ": " + e.getMessage()));
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    // sendInTransactions writes the queue's records in transactions of
    // about 100 ms, answering each record when its transaction ends.
    private static void sendInTransactions(KafkaProducer<byte[], byte[]> first, Properties cfg, String topic, BlockingQueue<String[]> q,
            List<KafkaProducer<byte[], byte[]>> producers, int slot) {
        KafkaProducer<byte[], byte[]> producer = first;
        List<long[]> pending = new ArrayList<>(); // {idx, offset}
        long began = 0;
        boolean open = false;
        boolean stop = false;
        try {
            while (!stop || open) {
                String[] f = stop ? null : q.poll(10, java.util.concurrent.TimeUnit.MILLISECONDS);
                if (f != null && f[0].equals(STOP)) {
                    stop = true;
                    f = null;
                }
                if (f != null) {
                    long idx = Long.parseLong(f[2]);
                    int partition = Integer.parseInt(f[3]);
                    byte[] value = hex(f[4]);
                    if (!open) {
                        producer.beginTransaction();
                        open = true;
                        began = System.currentTimeMillis();
                    }
                    long[] rec = {idx, -1};
                    pending.add(rec);
                    try {
                        producer.send(new ProducerRecord<>(topic, partition, null, value), (md, err) -> {
                            if (err == null) {
                                rec[1] = md.offset();
                            }
                        });
                    } catch (Exception e) {
                        // The transaction fails at commit; it is aborted there.
                    }
                }
                if (open && (stop || System.currentTimeMillis() - began >= 100)) {
                    String failure = null;
                    boolean fenced = false;
                    try {
                        // A commit that timed out may still complete: it
                        // is retried, as the client asks (an abort is then
                        // refused), until it ends either way.
                        while (true) {
                            try {
                                producer.commitTransaction();
                                break;
                            } catch (org.apache.kafka.common.errors.TimeoutException e) {
                                continue;
                            }
                        }
                    } catch (org.apache.kafka.common.errors.ProducerFencedException | org.apache.kafka.common.errors.InvalidProducerEpochException e) {
                        failure = "fenced: " + e.getClass().getSimpleName() + ": " + e.getMessage();
                        fenced = true;
                    } catch (Exception e) {
                        failure = "aborted: " + e.getClass().getSimpleName() + ": " + e.getMessage();
                        try {
                            producer.abortTransaction();
                        } catch (Exception abortError) {
                            fenced = true; // the producer cannot go on: replace it
                        }
                    }
                    long at = LedgerWire.micros();
                    for (long[] rec : pending) {
                        if (failure == null) {
                            LedgerWire.emit("A " + rec[0] + " " + rec[1] + " " + at);
                        } else {
                            LedgerWire.emit("F " + rec[0] + " " + at + " " + LedgerWire.enc(failure));
                        }
                    }
                    pending.clear();
                    open = false;
                    if (fenced && !stop) {
                        producer.close(Duration.ZERO);
                        producer = replace(cfg);
                        producers.set(slot, producer);
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    // replace creates a new transactional producer with the same id, as an
    // application restarts one that was fenced, retrying until it can.
    private static KafkaProducer<byte[], byte[]> replace(Properties cfg) throws InterruptedException {
        while (true) {
            try {
                KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(cfg);
                p.initTransactions();
                return p;
            } catch (Exception e) {
                Thread.sleep(500);
            }
        }
    }







    private static byte[] hex(String s) {
        byte[] b = new byte[s.length() / 2];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) Integer.parseInt(s.substring(2 * i, 2 * i + 2), 16);
        }
        return b;
    }
}
