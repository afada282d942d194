package com.infinyon.fluvio.bench;

import com.infinyon.fluvio.Fluvio;
import com.infinyon.fluvio.LocalCluster;
import com.infinyon.fluvio.Offset;
import com.infinyon.fluvio.PartitionConsumerStream;
import com.infinyon.fluvio.Record;
import com.infinyon.fluvio.TopicProducer;
import com.infinyon.fluvio.TopicProducerConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.locks.LockSupport;

/**
 * Low-rate traffic as a JUnit test sees it: an embedded cluster ({@link LocalCluster}) in this
 * JVM, a producer with linger 0 sending 100-byte records one at a time at a fixed rate, each at
 * its due time (open loop), and a stream in another thread reading them. Prints the end-to-end
 * latency percentiles and, per record, the CPU time of the client's I/O threads
 * ({@code fluvio-io-*}), of the cluster's ({@code fluvio-local-*}) and of the others (the two Java
 * threads, the JVM's), with how often each group went to sleep (voluntary context switches:
 * each is one wake-up later) and was preempted, from {@code /proc/self/task} (Linux). Only
 * the API of the first releases is used, so the same source runs against an older jar, for a
 * before/after comparison. A benchmark tool, not a test; figures only.
 *
 * <pre>
 * java -cp fluvio.jar:bench-classes com.infinyon.fluvio.bench.EmbeddedLowRate [records/s] [seconds]
 * </pre>
 *
 * <p>Defaults: 10,000 records/s, measured for 8 s after a 2-second warm-up.
 */
public final class EmbeddedLowRate {
    private static final int RECORD_SIZE = 100;
    private static final int WARM_UP_SECONDS = 2;
    /** Clock ticks per second of {@code /proc/<pid>/task/<tid>/stat} (USER_HZ on Linux). */
    private static final double TICKS_PER_SECOND = 100;
    /** The thread groups, in the order printed. */
    private static final String[] GROUPS = {"client I/O threads", "cluster threads", "other threads"};
    /** Per thread: CPU seconds, voluntary and involuntary context switches. */
    private static final int FIGURES = 3;

    private EmbeddedLowRate() {}

    public static void main(String[] args) throws Exception {
        int rate = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
        int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 8;
        long period = 1_000_000_000L / rate;
        long warmUp = (long) rate * WARM_UP_SECONDS;
        long total = warmUp + (long) rate * seconds;
        long[] latencies = new long[(int) (total - warmUp)];
        try (LocalCluster cluster = LocalCluster.start(); Fluvio fluvio = cluster.connect()) {
            fluvio.admin().createTopic("low-rate", 1, 1);
            TopicProducer producer = fluvio.topicProducer("low-rate",
                    TopicProducerConfig.builder().linger(Duration.ZERO).build());
            PartitionConsumerStream stream = fluvio.partitionConsumer("low-rate", 0).stream(Offset.end());
            long origin = System.nanoTime();
            CountDownLatch consumedAll = new CountDownLatch(1);
            CountDownLatch measured = new CountDownLatch(1);
            Thread consumer = new Thread(() -> {
                for (long n = 0; n < total; n++) {
                    Record record = stream.next();
                    long due = readLong(record.value());
                    if (n >= warmUp) {
                        latencies[(int) (n - warmUp)] = System.nanoTime() - origin - due;
                    }
                }
                // Alive until its figures are read: an ended thread is gone from /proc/self/task.
                consumedAll.countDown();
                try {
                    measured.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "low-rate-consumer");
            // A daemon: should the main thread fail, the reader waiting for it does not keep the JVM.
            consumer.setDaemon(true);
            consumer.start();
            byte[] value = new byte[RECORD_SIZE];
            Map<String, ThreadFigures> before = null;
            long measuredFrom = 0;
            for (long sent = 0; sent < total; ) {
                long due = sent * period;
                long now = System.nanoTime() - origin;
                if (sent == warmUp && before == null) {
                    before = threadFigures();
                    measuredFrom = System.nanoTime();
                }
                if (now < due) {
                    LockSupport.parkNanos(due - now);
                    continue;
                }
                writeLong(value, due);
                producer.send(null, value);
                sent++;
            }
            consumedAll.await();
            Map<String, double[]> used = usedByGroup(before, threadFigures());
            double wall = (System.nanoTime() - measuredFrom) / 1e9;
            measured.countDown();
            consumer.join();
            Arrays.sort(latencies);
            System.out.printf("%d records/s, linger 0, embedded cluster: p50 %.0f µs, p99 %.0f µs, p99.9 %.0f µs%n",
                    rate, percentile(latencies, 0.50), percentile(latencies, 0.99), percentile(latencies, 0.999));
            long measuredRecords = total - warmUp;
            for (String group : GROUPS) {
                double[] figures = used.getOrDefault(group, new double[FIGURES]);
                System.out.printf("%-22s %.2f core, %.1f µs per record; per record %.2f sleeps, %.2f preemptions%n",
                        group, figures[0] / wall, figures[0] / measuredRecords * 1e6,
                        figures[1] / measuredRecords, figures[2] / measuredRecords);
            }
            producer.close();
            stream.close();
        }
    }

    private static double percentile(long[] sorted, double p) {
        int index = (int) Math.min(sorted.length - 1, Math.ceil(sorted.length * p) - 1);
        return sorted[Math.max(0, index)] / 1e3;
    }

    private static void writeLong(byte[] bytes, long value) {
        for (int i = 0; i < 8; i++) {
            bytes[i] = (byte) (value >>> (8 * i));
        }
    }

    private static long readLong(byte[] bytes) {
        long value = 0;
        for (int i = 0; i < 8; i++) {
            value |= (bytes[i] & 0xffL) << (8 * i);
        }
        return value;
    }

    /**
     * What each thread of this process used since {@code before} ({@link #threadFigures()}),
     * summed per group: the client's I/O threads, the cluster's, the others. A thread started
     * since counts from zero; one that ended since is left out (the JVM's compiler threads come
     * and go; the groups measured keep their threads for the whole run).
     */
    private static Map<String, double[]> usedByGroup(Map<String, ThreadFigures> before,
            Map<String, ThreadFigures> after) {
        Map<String, double[]> sums = new TreeMap<>();
        for (Map.Entry<String, ThreadFigures> thread : after.entrySet()) {
            ThreadFigures from = before.get(thread.getKey());
            ThreadFigures to = thread.getValue();
            double[] sum = sums.computeIfAbsent(to.group, unused -> new double[FIGURES]);
            for (int i = 0; i < FIGURES; i++) {
                sum[i] += to.values[i] - (from == null ? 0 : from.values[i]);
            }
        }
        return sums;
    }

    /** Per live thread of this process, by thread id: its group and figures. */
    private static Map<String, ThreadFigures> threadFigures() throws IOException {
        Map<String, ThreadFigures> figures = new TreeMap<>();
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Paths.get("/proc/self/task"))) {
            for (Path task : tasks) {
                String stat;
                String status;
                try {
                    stat = new String(Files.readAllBytes(task.resolve("stat")), StandardCharsets.US_ASCII);
                    status = new String(Files.readAllBytes(task.resolve("status")), StandardCharsets.US_ASCII);
                } catch (IOException ended) {
                    continue;
                }
                String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
                String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                // utime and stime: fields 14 and 15 of stat, 12 and 13 after the name.
                double used = (Long.parseLong(fields[11]) + Long.parseLong(fields[12])) / TICKS_PER_SECOND;
                String group = name.startsWith("fluvio-io") ? GROUPS[0]
                        : name.startsWith("fluvio-local") ? GROUPS[1] : GROUPS[2];
                figures.put(task.getFileName().toString(), new ThreadFigures(group, new double[] {used,
                    statusField(status, "voluntary_ctxt_switches:"), statusField(status, "nonvoluntary_ctxt_switches:")}));
            }
        }
        return figures;
    }

    /**
     * One thread's group and figures: CPU seconds, voluntary context switches (the thread went
     * to sleep: one wake-up each) and involuntary ones (it was preempted).
     */
    private static final class ThreadFigures {
        final String group;
        final double[] values;

        ThreadFigures(String group, double[] values) {
            this.group = group;
            this.values = values;
        }
    }

    /** The number after {@code name} at the start of a line of {@code /proc/.../status}. */
    private static long statusField(String status, String name) {
        for (String line : status.split("\n")) {
            if (line.startsWith(name)) {
                return Long.parseLong(line.substring(name.length()).trim());
            }
        }
        throw new IllegalStateException("no " + name + " in /proc/self/task/*/status");
    }
}
