// LedgerWire is the worker side of stretchctl's line protocol (package
// probe/ledgerwire), shared by LedgerProducer and LedgerConsumer: one
// writer thread owns standard output and writes whole lines, flushing when
// it has nothing more to write; free text is percent-encoded.

import java.io.BufferedWriter;
import java.io.OutputStreamWriter;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;

final class LedgerWire {
    private static final BlockingQueue<String> out = new LinkedBlockingQueue<>();
    // STOP ends the writer; compared by identity, never equal to a line.
    private static final String STOP = new String("");
    private static Thread writer;

    private LedgerWire() {
    }

    /** start starts the writer thread. */
    static void start() {
        writer = new Thread(LedgerWire::writeOut, "ledger-out");
        writer.setDaemon(true);
        writer.start();
    }

    /** emit queues one answer line. */
    static void emit(String s) {
        out.add(s);
    }

    /** finish writes what is queued and stops the writer. */
    static void finish() throws InterruptedException {
        out.put(STOP);
        writer.join(5000);
    }

    /** fatal answers FATAL and exits. */
    static void fatal(String msg) throws InterruptedException {
        emit("FATAL " + enc(msg));
        out.put(STOP);
        Thread.sleep(200);
        System.exit(1);
    }

    static long micros() {
        Instant now = Instant.now();
        return now.getEpochSecond() * 1_000_000L + now.getNano() / 1_000;
    }

    static String enc(String s) {
        return URLEncoder.encode(s == null ? "" : s, StandardCharsets.UTF_8);
    }

    static String dec(String s) {
        return URLDecoder.decode(s, StandardCharsets.UTF_8);
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
}
