package com.infinyon.fluvio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Native resources are freed: 10,000 open/send/close cycles of producers and 10,000
 * open/read/close cycles of partition streams leave the process's resident memory
 * ({@code VmRSS} of {@code /proc/self/status}), its thread count ({@code Threads}) and its open
 * file descriptors ({@code /proc/self/fd}) where they were after a warm-up. Linux only (skipped
 * elsewhere).
 *
 * <p><b>How the RSS bound was chosen.</b> Measured on the 2-core build machine (JDK 17; G1,
 * Serial and Parallel GC; default heap and {@code -Xmx1g}): over 10,000 correct cycles RSS
 * moved by -3.4 to +2.8 MiB (producers about +2 MiB, streams -3.4 to +2.8 MiB), with the
 * thread count unchanged. The same cycles with {@code close()} left out, that is one native
 * object leaked per cycle and everything else identical, grew RSS by about 3.4 KiB per leaked
 * producer (33 MiB over 10,000 cycles) and 33 KiB per leaked stream (about 330 MiB, and the
 * process runs out of file descriptors first: each leaked stream keeps its connection open).
 * A 64 MiB bound would let the producer leak through, so the bound is
 * {@value #RSS_BOUND_MIB} MiB: more than five times the largest growth seen in correct runs,
 * and half of what the smallest real leak (a producer per cycle) adds.
 */
class LeakTest extends ClusterTestBase {
    private static final int WARM_UP = 400;
    private static final int CYCLES = 10_000;
    /** Resident memory a correct run may gain over the cycles. See the class comment. */
    static final long RSS_BOUND_MIB = 16;
    /** Threads a correct run may gain (e.g. a JIT or GC helper thread started meanwhile). */
    private static final int THREAD_SLACK = 3;
    /** File descriptors a correct run may gain (each leaked stream would hold two: both ends of its connection). */
    private static final int FD_SLACK = 8;
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final byte[] VALUE = "leak-test".getBytes(StandardCharsets.UTF_8);

    private static final Path STATUS = Paths.get("/proc/self/status");
    private static final Path FDS = Paths.get("/proc/self/fd");

    private String produceTopic;
    private String streamTopic;
    /** Linger 0: the record goes out at once; close() then only waits for its acknowledgement. */
    private final TopicProducerConfig producerConfig = TopicProducerConfig.builder().linger(Duration.ZERO).build();

    @BeforeAll
    void createTopics() {
        produceTopic = newTopic(1);
        streamTopic = newTopic(1);
        try (TopicProducer producer = fluvio.topicProducer(streamTopic)) {
            producer.send(null, "the one record");
        }
    }

    /** VmRSS in KiB, Threads and open file descriptors of this process. */
    static final class Usage {
        final long rssKib;
        final int threads;
        final long fds;

        Usage(long rssKib, int threads, long fds) {
            this.rssKib = rssKib;
            this.threads = threads;
            this.fds = fds;
        }

        static Usage now() {
            long rss = -1;
            int threads = -1;
            long fds;
            try (Stream<Path> open = Files.list(FDS)) {
                fds = open.count();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            try {
                for (String line : Files.readAllLines(STATUS, StandardCharsets.UTF_8)) {
                    if (line.startsWith("VmRSS:")) {
                        rss = Long.parseLong(line.replaceAll("[^0-9]", ""));
                    } else if (line.startsWith("Threads:")) {
                        threads = Integer.parseInt(line.replaceAll("[^0-9]", ""));
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return new Usage(rss, threads, fds);
        }

        @Override
        public String toString() {
            return "RSS " + rssKib / 1024 + " MiB (" + rssKib + " KiB), " + threads + " threads, " + fds + " fds";
        }
    }

    /** Collects garbage a few times, so Java-side objects of the cycles are gone. */
    static Usage settle() throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(100);
        }
        return Usage.now();
    }

    private void producerCycle() {
        try (TopicProducer producer = fluvio.topicProducer(produceTopic, producerConfig)) {
            producer.send(null, VALUE);
        }
    }

    private void streamCycle() {
        try (PartitionConsumerStream stream = fluvio.partitionConsumer(streamTopic, 0).stream(Offset.beginning())) {
            assertNotNull(stream.next(WAIT), "the stream delivers its one record");
        }
    }

    private void assertNoLeak(String what, Runnable cycle) throws InterruptedException {
        assumeTrue(Files.isReadable(STATUS), "needs /proc/self/status (Linux)");
        for (int i = 0; i < WARM_UP; i++) {
            cycle.run();
        }
        Usage before = settle();
        long started = System.nanoTime();
        for (int i = 0; i < CYCLES; i++) {
            cycle.run();
        }
        long seconds = Duration.ofNanos(System.nanoTime() - started).getSeconds();
        Usage after = settle();
        long grownKib = after.rssKib - before.rssKib;
        System.out.println("LeakTest " + what + ": " + CYCLES + " cycles in " + seconds + " s; before: " + before
                + "; after: " + after + "; RSS grew " + grownKib + " KiB");
        assertTrue(grownKib < RSS_BOUND_MIB * 1024,
                what + ": RSS grew by " + grownKib + " KiB over " + CYCLES + " cycles (bound " + RSS_BOUND_MIB + " MiB)");
        assertTrue(after.threads <= before.threads + THREAD_SLACK,
                what + ": threads went from " + before.threads + " to " + after.threads);
        assertTrue(after.fds <= before.fds + FD_SLACK, what + ": open files went from " + before.fds + " to " + after.fds);
    }

    @Test
    void producerCyclesFreeNativeMemoryAndThreads() throws InterruptedException {
        assertNoLeak("producers", this::producerCycle);
        // Every cycle really stored its record (close() waited for the acknowledgement).
        List<Record> last = fluvio.partitionConsumer(produceTopic, 0).fetch(Offset.fromEnd(1));
        assertEquals(WARM_UP + CYCLES - 1, last.get(0).offset());
    }

    @Test
    void streamCyclesFreeNativeMemoryAndThreads() throws InterruptedException {
        assertNoLeak("streams", this::streamCycle);
    }
}
