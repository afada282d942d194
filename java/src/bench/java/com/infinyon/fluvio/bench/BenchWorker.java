package com.infinyon.fluvio.bench;

import com.infinyon.fluvio.ConsumerStream;
import com.infinyon.fluvio.Fluvio;
import com.infinyon.fluvio.FluvioMetrics;
import com.infinyon.fluvio.KeyValue;
import com.infinyon.fluvio.Offset;
import com.infinyon.fluvio.PartitionConsumer;
import com.infinyon.fluvio.ProduceOutput;
import com.infinyon.fluvio.Record;
import com.infinyon.fluvio.RecordBatch;
import com.infinyon.fluvio.RecordView;
import com.infinyon.fluvio.TopicProducer;
import com.infinyon.fluvio.TopicProducerConfig;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.locks.LockSupport;

/**
 * The Java API's worker for {@code scripts/bench}: one long-lived JVM (so the JIT is warm
 * after the first round) that runs the benchmark's workloads one command at a time against a
 * running cluster. It runs the same workloads, with the same payload, arguments and answers, as
 * the Rust clients' worker ({@code crates/conformance/examples/bench_worker}), whose
 * {@code workloads.rs} describes each. A benchmark tool, not a test.
 *
 * <pre>
 * java -cp fluvio.jar:bench-classes com.infinyon.fluvio.bench.BenchWorker &lt;sc-endpoint&gt;
 * </pre>
 *
 * <p>Protocol: one command per line on stdin, a word and {@code key=value} pairs; one answer
 * line, {@code ok key=value ...} or {@code error <message>}, after {@code mark <name>} lines
 * at which the orchestrator reads the processes' CPU times and memory. The Java answers also
 * carry what the JVM did inside each measured window: JIT compilation ({@code jit_ms}) and
 * garbage collection ({@code gc_ms}, {@code gc_count}).
 *
 * <p>Thread-safety: one command at a time, from {@code main}.
 */
public final class BenchWorker {
    /**
     * The APIs offered to the workloads: {@code batch} is the consume workload that reads with
     * {@link ConsumerStream#nextBatch()} (see {@link #readBatch}).
     */
    static final String APIS = "send,sendall,next,batch";

    private static final long MILLI = 1_000_000L;
    private static final Duration QUIET = Duration.ofSeconds(10);
    private static final long LATE_NANOS = MILLI;
    private static final int SENT_AT = 8;

    private final Fluvio fluvio;
    /** The zero of the payload's send times. */
    private final long base = System.nanoTime();

    private BenchWorker(Fluvio fluvio) {
        this.fluvio = fluvio;
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            System.err.println("usage: BenchWorker <sc-endpoint>");
            System.exit(2);
        }
        try (Fluvio fluvio = Fluvio.connect(args[0])) {
            BenchWorker worker = new BenchWorker(fluvio);
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            String line;
            while ((line = in.readLine()) != null) {
                if (line.trim().isEmpty()) {
                    continue;
                }
                try {
                    Command command = Command.parse(line);
                    if (command.name.equals("quit")) {
                        answer("ok");
                        break;
                    }
                    answer(worker.run(command).toString());
                } catch (Exception | AssertionError e) {
                    answer("error " + String.valueOf(e).replace('\n', ' '));
                }
            }
        }
    }

    private Reply run(Command command) throws Exception {
        switch (command.name) {
            case "hello":
                return new Reply().with("client", "java").with("apis", APIS);
            case "produce":
                return produce(command);
            case "consume":
                return consume(command);
            case "latency":
                return latency(command);
            case "streams":
                return streams(command);
            default:
                throw new IllegalArgumentException("unknown command '" + command.name + "'");
        }
    }

    private Reply produce(Command command) {
        String topic = command.get("topic");
        int size = command.getInt("size");
        String api = command.get("api");
        long window = command.getLong("window_ms") * MILLI;
        int every = clockEvery(size);
        try (TopicProducer producer = fluvio.topicProducer(topic, producerConfig(command))) {
            long sent = 0;
            ProduceOutput last = null;
            Window measured = Window.start();
            long started = System.nanoTime();
            switch (api) {
                case "send": {
                    byte[] value = Payload.newValue(size);
                    while (System.nanoTime() - started < window) {
                        for (int i = 0; i < every; i++) {
                            Payload.putLong(value, 0, sent);
                            last = producer.send(null, value);
                            sent++;
                        }
                    }
                    break;
                }
                case "sendall": {
                    List<KeyValue> slice = new ArrayList<>();
                    for (int i = 0; i < sliceLength(size); i++) {
                        slice.add(KeyValue.of(null, Payload.newValue(size)));
                    }
                    while (System.nanoTime() - started < window) {
                        for (KeyValue record : slice) {
                            Payload.putLong(record.value(), 0, sent++);
                        }
                        List<ProduceOutput> outputs = producer.sendAll(slice);
                        last = outputs.get(outputs.size() - 1);
                    }
                    break;
                }
                default:
                    throw new IllegalArgumentException("unknown produce api '" + api + "'");
            }
            producer.flush();
            long lastOffset = last == null ? -1 : last.get().offset();
            long elapsed = System.nanoTime() - started;
            measured.end();
            if (lastOffset != sent - 1) {
                throw new IllegalStateException("the last record sent (" + (sent - 1)
                        + ") was acknowledged at offset " + lastOffset);
            }
            // How the producer cut its work: windows whose requests carry fewer batches run slower.
            FluvioMetrics metrics = producer.metrics();
            return new Reply().with("records", sent).with("elapsed_ns", elapsed).with(measured)
                    .with("batches", metrics.batchesSent()).with("requests", metrics.sendLatency().count());
        }
    }

    private Reply consume(Command command) {
        String topic = command.get("topic");
        int size = command.getInt("size");
        long records = command.getLong("records");
        long window = command.getLong("window_ms") * MILLI;
        boolean batch;
        switch (command.get("api")) {
            case "next":
                batch = false;
                break;
            case "batch":
                batch = true;
                break;
            default:
                throw new IllegalArgumentException("unknown consume api '" + command.get("api") + "'");
        }
        int every = clockEvery(size);
        PartitionConsumer consumer = fluvio.partitionConsumer(topic, 0);
        long read = 0;
        long skipped = 0;
        long passes = 0;
        boolean done = false;
        Window measured = Window.start();
        long started = System.nanoTime();
        while (!done && System.nanoTime() - started < window) {
            Pass pass = new Pass(size);
            passes++;
            try (ConsumerStream stream = consumer.stream(Offset.beginning())) {
                while (pass.nextOffset < records) {
                    if (batch) {
                        if (readBatch(stream, pass) == 0) {
                            break;
                        }
                        if (System.nanoTime() - started >= window) {
                            done = true;
                            break;
                        }
                    } else {
                        pass.record(stream.next());
                        if (pass.read % every == 0 && System.nanoTime() - started >= window) {
                            done = true;
                            break;
                        }
                    }
                }
            }
            read += pass.read;
            skipped += pass.skipped;
        }
        long elapsed = System.nanoTime() - started;
        measured.end();
        return new Reply().with("records", read).with("elapsed_ns", elapsed).with("passes", passes)
                .with("skipped", skipped).with(measured);
    }

    /**
     * The batch read: the records that arrived together, from {@link ConsumerStream#nextBatch()},
     * each checked by {@code pass} through the batch's reused view (the sequence number its value
     * starts with copied into the pass's reused buffer: no object per record); returns how many
     * (0 once the stream ended).
     */
    private static int readBatch(ConsumerStream stream, Pass pass) {
        if (!stream.hasNext()) {
            return 0;
        }
        RecordBatch batch = stream.nextBatch();
        for (RecordView record : batch) {
            pass.record(record);
        }
        return batch.size();
    }

    private Reply latency(Command command) throws InterruptedException {
        String topic = command.get("topic");
        int size = command.getInt("size");
        long rate = command.getLong("rate");
        long warmup = command.getLong("warmup_ms") * rate / 1000;
        long total = warmup + command.getLong("window_ms") * rate / 1000;
        if (rate <= 0 || total <= warmup) {
            throw new IllegalArgumentException("latency: nothing to measure");
        }
        byte[] value = Payload.newValue(size);
        long[] latencies = new long[Math.toIntExact(total - warmup)];
        int[] measuredCount = new int[1];
        long[] received = new long[1];
        Throwable[] consumerFailure = new Throwable[1];
        try (TopicProducer producer = fluvio.topicProducer(topic, producerConfig(command));
                ConsumerStream stream = fluvio.partitionConsumer(topic, 0).stream(Offset.beginning())) {
            CountDownLatch consumed = new CountDownLatch(1);
            Thread consumer = new Thread(() -> {
                try {
                    while (received[0] < total) {
                        Record record = stream.next(QUIET);
                        if (record == null) {
                            break;
                        }
                        long now = System.nanoTime() - base;
                        byte[] bytes = record.value();
                        long seq = Payload.getLong(bytes, 0);
                        if (seq >= warmup && seq < total) {
                            latencies[measuredCount[0]++] = Math.max(0, now - Payload.getLong(bytes, SENT_AT));
                        }
                        received[0]++;
                    }
                } catch (RuntimeException | Error e) {
                    consumerFailure[0] = e;
                } finally {
                    consumed.countDown();
                }
            }, "bench-consumer");
            consumer.start();
            long start = System.nanoTime() - base + MILLI;
            double period = 1e9 / rate;
            long late = 0;
            ProduceOutput last = null;
            Window measured = null;
            for (long seq = 0; seq < total; seq++) {
                if (seq == warmup) {
                    measured = Window.start();
                }
                long due = start + (long) (seq * period);
                while (true) {
                    long now = System.nanoTime() - base;
                    if (now >= due) {
                        late += now - due > LATE_NANOS ? 1 : 0;
                        break;
                    }
                    LockSupport.parkNanos(due - now);
                }
                Payload.putLong(value, 0, seq);
                Payload.putLong(value, SENT_AT, due);
                last = producer.send(null, value);
            }
            measured.end();
            producer.flush();
            last.get();
            consumed.await();
            consumer.join();
            if (consumerFailure[0] != null) {
                throw new IllegalStateException("the consumer failed", consumerFailure[0]);
            }
            long[] sorted = Arrays.copyOf(latencies, measuredCount[0]);
            Arrays.sort(sorted);
            double sum = 0;
            for (long latency : sorted) {
                sum += latency;
            }
            return new Reply().with("sent", total).with("received", received[0]).with("measured", sorted.length)
                    .with("late", late).with("p50_us", micros(sorted, 0.50)).with("p90_us", micros(sorted, 0.90))
                    .with("p99_us", micros(sorted, 0.99)).with("p999_us", micros(sorted, 0.999))
                    .with("max_us", micros(sorted, 1.0))
                    .with("mean_us", String.format("%.1f", sum / Math.max(1, sorted.length) / 1e3)).with(measured);
        }
    }

    private Reply streams(Command command) throws InterruptedException {
        String topic = command.get("topic");
        int count = command.getInt("count");
        long settle = command.getLong("settle_ms");
        PartitionConsumer consumer = fluvio.partitionConsumer(topic, 0);
        Reply reply = new Reply().with("streams", count);
        reply.with("heap_before_mb", heapMegabytes());
        mark("before");
        List<ConsumerStream> streams = new ArrayList<>();
        try {
            for (int i = 0; i < count; i++) {
                ConsumerStream stream = consumer.stream(Offset.beginning());
                streams.add(stream);
                stream.next();
            }
            Thread.sleep(settle);
            reply.with("heap_open_mb", heapMegabytes()).with("heap_committed_open_mb", heapCommittedMegabytes());
            mark("open");
        } finally {
            for (ConsumerStream stream : streams) {
                stream.close();
            }
        }
        streams.clear();
        // What a service does not hold is garbage: collect it so only what is still held counts.
        System.gc();
        Thread.sleep(settle);
        reply.with("heap_closed_mb", heapMegabytes()).with("heap_committed_closed_mb", heapCommittedMegabytes());
        mark("closed");
        return reply;
    }

    private static TopicProducerConfig producerConfig(Command command) {
        return TopicProducerConfig.builder().batchSize(command.getInt("batch_size", 16384))
                .linger(Duration.ofMillis(command.getLong("linger_ms", 0))).build();
    }

    /** Records per {@code sendAll} call: up to 1,000 and up to 1 MiB. */
    private static int sliceLength(int size) {
        return Math.max(1, Math.min(1000, 1024 * 1024 / size));
    }

    /** Records between two looks at the clock: about 64 KiB of them. */
    private static int clockEvery(int size) {
        return Math.max(1, Math.min(256, 64 * 1024 / size));
    }

    private static String micros(long[] sorted, double quantile) {
        if (sorted.length == 0) {
            return "0";
        }
        int rank = Math.max(1, Math.min(sorted.length, (int) Math.ceil(quantile * sorted.length)));
        return Double.toString(sorted[rank - 1] / 1e3);
    }

    private static long heapMegabytes() {
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed() / (1024 * 1024);
    }

    private static long heapCommittedMegabytes() {
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getCommitted() / (1024 * 1024);
    }

    static void mark(String name) {
        answer("mark " + name);
    }

    private static synchronized void answer(String line) {
        System.out.println(line);
        System.out.flush();
    }

    /** A measured window: its marks, and the JIT and GC work inside it. */
    static final class Window {
        private final long jitMillis = jitMillis();
        private final long[] gc = gc();
        private long jitDelta;
        private long gcMillis;
        private long gcCount;

        static Window start() {
            Window window = new Window();
            mark("start");
            return window;
        }

        void end() {
            mark("end");
            jitDelta = jitMillis() - jitMillis;
            long[] now = gc();
            gcCount = now[0] - gc[0];
            gcMillis = now[1] - gc[1];
        }

        private static long jitMillis() {
            return ManagementFactory.getCompilationMXBean().getTotalCompilationTime();
        }

        private static long[] gc() {
            long[] countAndMillis = new long[2];
            for (GarbageCollectorMXBean collector : ManagementFactory.getGarbageCollectorMXBeans()) {
                countAndMillis[0] += Math.max(0, collector.getCollectionCount());
                countAndMillis[1] += Math.max(0, collector.getCollectionTime());
            }
            return countAndMillis;
        }
    }

    /**
     * One read through a topic: counts the records and checks each (its size, and its
     * sequence number against its offset). Records the client skipped are counted, not refused.
     */
    static final class Pass {
        private final int size;
        /** Where the sequence number of a record read through a batch's view is copied, reused. */
        private final byte[] scratch;
        long nextOffset;
        long read;
        long skipped;

        Pass(int size) {
            this.size = size;
            this.scratch = new byte[Long.BYTES];
        }

        void record(Record record) {
            byte[] value = record.value();
            check(record.offset(), value.length, value);
        }

        /**
         * Reads the record's sequence number through the view (its first 8 bytes), as the Rust
         * worker reads it from the value's slice.
         */
        void record(RecordView record) {
            int length = record.valueLength();
            if (length == size) {
                record.copyValue(0, scratch, 0, Long.BYTES);
            }
            check(record.offset(), length, scratch);
        }

        /** Checks the record at {@code offset} whose value, of {@code length} bytes, is in {@code value}. */
        private void check(long offset, int length, byte[] value) {
            if (length != size) {
                throw new IllegalStateException("offset " + offset + ": " + length + " bytes, not " + size);
            }
            if (offset < nextOffset) {
                throw new IllegalStateException("offset " + offset + " came again or out of order");
            }
            if (Payload.getLong(value, 0) != offset) {
                throw new IllegalStateException("offset " + offset + " holds another record");
            }
            skipped += offset - nextOffset;
            nextOffset = offset + 1;
            read++;
        }
    }

    /**
     * The records' payload, as in the Rust worker's {@code payload.rs}: bytes 0..8 the sequence
     * number (its offset), 8..16 the latency workloads' due time, big-endian; the rest 'x'.
     */
    static final class Payload {
        private Payload() {}

        static byte[] newValue(int size) {
            if (size < 16) {
                throw new IllegalArgumentException("records of " + size + " bytes: the payload needs at least 16");
            }
            byte[] value = new byte[size];
            Arrays.fill(value, (byte) 'x');
            return value;
        }

        static void putLong(byte[] value, int at, long number) {
            for (int i = 7; i >= 0; i--) {
                value[at + i] = (byte) number;
                number >>>= 8;
            }
        }

        static long getLong(byte[] value, int at) {
            if (value.length < at + 8) {
                return -1;
            }
            long number = 0;
            for (int i = 0; i < 8; i++) {
                number = number << 8 | (value[at + i] & 0xff);
            }
            return number;
        }
    }

    /** A command: a word, then {@code key=value} pairs. */
    static final class Command {
        final String name;
        private final Map<String, String> args = new HashMap<>();

        private Command(String name) {
            this.name = name;
        }

        static Command parse(String line) {
            String[] words = line.trim().split("\\s+");
            Command command = new Command(words[0]);
            for (int i = 1; i < words.length; i++) {
                int equals = words[i].indexOf('=');
                if (equals < 0) {
                    throw new IllegalArgumentException("'" + words[i] + "' is not key=value");
                }
                command.args.put(words[i].substring(0, equals), words[i].substring(equals + 1));
            }
            return command;
        }

        String get(String key) {
            String value = args.get(key);
            if (value == null) {
                throw new IllegalArgumentException(name + ": missing " + key + "=");
            }
            return value;
        }

        int getInt(String key) {
            return Integer.parseInt(get(key));
        }

        int getInt(String key, int otherwise) {
            return args.containsKey(key) ? getInt(key) : otherwise;
        }

        long getLong(String key) {
            return Long.parseLong(get(key));
        }

        long getLong(String key, long otherwise) {
            return args.containsKey(key) ? getLong(key) : otherwise;
        }
    }

    /** The {@code ok} answer's {@code key=value} pairs. */
    static final class Reply {
        private final StringBuilder line = new StringBuilder("ok");

        Reply with(String key, Object value) {
            line.append(' ').append(key).append('=').append(value);
            return this;
        }

        Reply with(Window window) {
            return with("jit_ms", window.jitDelta).with("gc_ms", window.gcMillis).with("gc_count", window.gcCount);
        }

        @Override
        public String toString() {
            return line.toString();
        }
    }
}
