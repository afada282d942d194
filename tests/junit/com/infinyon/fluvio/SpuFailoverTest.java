package com.infinyon.fluvio;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.net.BindException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.function.Executable;

/**
 * Failover tests of the kind users write with {@link LocalCluster}: 2 SPUs, replication
 * factor 1, one SPU stopped or killed and started again. Streams on its partitions see
 * nothing while it is down and resume after it with no gap and no duplicate; at-least-once
 * producers keep what was sent meanwhile and deliver each record once, in order; the SC lists
 * the SPU {@code OFFLINE} and its partitions {@code LEADER_OFFLINE} (no other replica to elect), then both {@code ONLINE}; the other SPU keeps serving
 * (a topic-wide stream keeps delivering its partitions); an SPU whose port was taken restarts
 * elsewhere and clients follow; a stream with a short
 * {@link ConsumerConfig.Builder#resumeTimeout} fails with a retriable {@code CONNECT} instead of
 * waiting; and the SPU control methods' error codes, no-ops, argument checks, concurrent use
 * and use after close. Every SPU is running again after each test.
 */
class SpuFailoverTest extends ClusterTestBase {
    /** Upper bound for anything that should happen promptly. */
    private static final Duration WAIT = Duration.ofSeconds(20);
    /** How long "nothing arrives" is watched. */
    private static final Duration QUIET = Duration.ofMillis(300);

    @Override
    int spus() {
        return 2;
    }

    @AfterEach
    void everySpuRunningAgain() {
        for (int id : cluster.spuIds()) {
            if (!cluster.isSpuRunning(id)) {
                cluster.startSpu(id);
            }
        }
    }

    // ------------------------------------------------------------------------------------
    // Helpers

    private int otherSpu(int spu) {
        for (int id : cluster.spuIds()) {
            if (id != spu) {
                return id;
            }
        }
        throw new AssertionError("no SPU besides " + spu);
    }

    private int leaderOf(String topic, int partition) {
        return fluvio.admin().listPartitions(topic).get(partition).spec().leader();
    }

    /** A new one-partition topic whose leader is {@code spu} (topics are spread over the SPUs). */
    private String topicLedBy(int spu) {
        for (int attempt = 0; attempt < 8; attempt++) {
            String topic = "f-" + UUID.randomUUID().toString().substring(0, 8);
            fluvio.admin().createTopic(topic, 1, 1);
            if (leaderOf(topic, 0) == spu) {
                return topic;
            }
        }
        throw new AssertionError("no topic landed on SPU " + spu);
    }

    /** Sends "v{from}" ... "v{to - 1}", flushes and checks they got offsets from..to-1. */
    private static void produce(TopicProducer producer, int from, int to) {
        List<ProduceOutput> outputs = new ArrayList<>();
        for (int i = from; i < to; i++) {
            outputs.add(producer.send(null, "v" + i));
        }
        producer.flush();
        for (int i = 0; i < outputs.size(); i++) {
            assertEquals(from + i, outputs.get(i).get(WAIT).offset(), "offset of v" + (from + i));
        }
    }

    /** Reads records {@code from}..{@code to - 1} ("v{offset}"), each arriving within {@link #WAIT}. */
    private static void assertReads(ConsumerStream stream, long from, long to) {
        for (long offset = from; offset < to; offset++) {
            Record record = stream.next(WAIT);
            assertNotNull(record, "record " + offset + " did not arrive");
            assertEquals(offset, record.offset(), "offset (a gap or a duplicate)");
            assertEquals("v" + offset, record.valueString(), "value");
        }
    }

    private static void assertNothingMore(ConsumerStream stream) {
        Record extra = stream.next(QUIET);
        assertNull(extra, () -> "unexpected record " + extra);
    }

    private Map<Integer, SpuMetadata.Resolution> spuResolutions() {
        Map<Integer, SpuMetadata.Resolution> resolutions = new TreeMap<>();
        for (SpuMetadata spu : fluvio.admin().listSpus()) {
            resolutions.put(spu.spec().id(), spu.status().resolution());
        }
        return resolutions;
    }

    private PartitionMetadata.Resolution partitionResolution(String topic) {
        return fluvio.admin().listPartitions(topic).get(0).status().resolution();
    }

    private static FluvioException localClusterError(Executable call) {
        FluvioException e = assertThrows(FluvioException.class, call);
        assertEquals(FluvioException.Code.LOCAL_CLUSTER, e.code(), () -> "unexpected failure: " + e);
        assertFalse(e.isRetriable());
        return e;
    }

    // ------------------------------------------------------------------------------------
    // Stop, kill, start

    @Test
    @Timeout(value = 90, unit = TimeUnit.SECONDS)
    void aStoppedSpusStreamWaitsThenResumesWithNoGapAndNoDuplicate() {
        int spu = cluster.spuIds().get(1);
        int other = otherSpu(spu);
        String topic = topicLedBy(spu);
        String elsewhere = topicLedBy(other);
        try (TopicProducer producer = fluvio.topicProducer(topic);
                TopicProducer elsewhereProducer = fluvio.topicProducer(elsewhere);
                PartitionConsumerStream stream = fluvio.partitionConsumer(topic, 0).stream(Offset.beginning());
                PartitionConsumerStream elsewhereStream =
                        fluvio.partitionConsumer(elsewhere, 0).stream(Offset.beginning())) {
            produce(producer, 0, 10);
            assertReads(stream, 0, 10);
            String endpoint = cluster.spuEndpoint(spu);
            assertNotNull(endpoint);

            cluster.stopSpu(spu);
            assertFalse(cluster.isSpuRunning(spu));
            assertNull(cluster.spuEndpoint(spu), "no endpoint while stopped");
            assertTrue(cluster.isSpuRunning(other));
            // While it is down the stream sees nothing, and reports nothing.
            assertNull(stream.next(Duration.ofSeconds(1)));
            assertFalse(stream.isEnded());
            // The other SPU keeps serving.
            produce(elsewhereProducer, 0, 3);
            assertReads(elsewhereStream, 0, 3);

            cluster.startSpu(spu);
            assertTrue(cluster.isSpuRunning(spu));
            assertNotNull(cluster.spuEndpoint(spu));

            // The same producer and the same stream carry on: the records produced after the
            // restart arrive, none missing, none twice.
            produce(producer, 10, 20);
            assertReads(stream, 10, 20);
            assertNothingMore(stream);
        }
        // What was stored before the stop is still there.
        try (PartitionConsumerStream again = fluvio.partitionConsumer(topic, 0).stream(Offset.beginning())) {
            assertReads(again, 0, 20);
            assertNothingMore(again);
        }
        List<Record> fetched = fluvio.partitionConsumer(topic, 0).fetch(Offset.beginning());
        assertEquals(0, fetched.get(0).offset());
        assertEquals("v0", fetched.get(0).valueString());
    }

    @Test
    @Timeout(value = 90, unit = TimeUnit.SECONDS)
    void recordsSentWhileTheSpuIsKilledAreDeliveredOnceInOrderAfterItStarts() throws Exception {
        int spu = cluster.spuIds().get(0);
        String topic = topicLedBy(spu);
        try (TopicProducer producer = fluvio.topicProducer(topic);
                PartitionConsumerStream stream = fluvio.partitionConsumer(topic, 0).stream(Offset.beginning())) {
            produce(producer, 0, 5);
            assertReads(stream, 0, 5);

            cluster.killSpu(spu);
            assertFalse(cluster.isSpuRunning(spu));
            // The default delivery is at-least-once: what is sent now waits for the SPU.
            List<ProduceOutput> pending = new ArrayList<>();
            for (int i = 5; i < 15; i++) {
                pending.add(producer.send(null, "v" + i));
                if (i == 9) {
                    Thread.sleep(300); // two batches at least (linger 100 ms)
                }
            }
            assertNull(stream.next(Duration.ofSeconds(1)), "nothing while the SPU is down");
            for (ProduceOutput output : pending) {
                assertFalse(output.isDone(), "neither delivered nor failed while down");
            }

            cluster.startSpu(spu);
            for (int i = 0; i < pending.size(); i++) {
                RecordMetadata stored = pending.get(i).get(WAIT);
                assertEquals(0, stored.partition());
                assertEquals(5 + i, stored.offset(), "offsets follow the send order");
            }
            producer.flush();
            assertReads(stream, 5, 15);
            assertNothingMore(stream);
        }
        // Each record exactly once, in order, and nothing acknowledged before the kill lost.
        try (PartitionConsumerStream again = fluvio.partitionConsumer(topic, 0).stream(Offset.beginning())) {
            assertReads(again, 0, 15);
            assertNothingMore(again);
        }
    }

    @Test
    @Timeout(value = 90, unit = TimeUnit.SECONDS)
    void theScListsTheSpuAndItsPartitionsOfflineWhileDownAndOnlineAfter() {
        int spu = cluster.spuIds().get(0);
        int other = otherSpu(spu);
        String topic = topicLedBy(spu);
        String elsewhere = topicLedBy(other);

        for (boolean kill : Arrays.asList(false, true)) {
            if (kill) {
                cluster.killSpu(spu);
            } else {
                cluster.stopSpu(spu);
            }
            Map<Integer, SpuMetadata.Resolution> spus = spuResolutions();
            assertEquals(SpuMetadata.Resolution.OFFLINE, spus.get(spu), "kill=" + kill);
            assertEquals(SpuMetadata.Resolution.ONLINE, spus.get(other), "kill=" + kill);
            assertEquals(PartitionMetadata.Resolution.LEADER_OFFLINE, partitionResolution(topic), "kill=" + kill);
            assertEquals(PartitionMetadata.Resolution.ONLINE, partitionResolution(elsewhere), "kill=" + kill);
            for (PartitionMetadata partition : fluvio.admin().listPartitions()) {
                // Every partition of every topic: those on the SPU that is down are Offline.
                PartitionMetadata.Resolution expected = partition.spec().leader() == spu
                        ? PartitionMetadata.Resolution.LEADER_OFFLINE
                        : PartitionMetadata.Resolution.ONLINE;
                assertEquals(expected, partition.status().resolution(), partition::toString);
            }

            cluster.startSpu(spu);
            spus = spuResolutions();
            assertEquals(SpuMetadata.Resolution.ONLINE, spus.get(spu), "kill=" + kill);
            assertEquals(SpuMetadata.Resolution.ONLINE, spus.get(other), "kill=" + kill);
            for (PartitionMetadata partition : fluvio.admin().listPartitions()) {
                assertEquals(PartitionMetadata.Resolution.ONLINE, partition.status().resolution(), partition::toString);
            }
            assertEquals(spu, leaderOf(topic, 0), "the leader is unchanged");
        }
    }

    @Test
    @Timeout(value = 90, unit = TimeUnit.SECONDS)
    void aTopicStreamKeepsDeliveringTheOtherSpusPartitionsWhileOneIsDown() {
        int spu = cluster.spuIds().get(0);
        int other = otherSpu(spu);
        String topic = "f-" + UUID.randomUUID().toString().substring(0, 8);
        fluvio.admin().createTopic(topic, 2, 1);
        int down = leaderOf(topic, 0) == spu ? 0 : 1;
        int up = 1 - down;
        assertEquals(other, leaderOf(topic, up), "the two partitions are spread over the two SPUs");
        // Records go to the partition named by their key.
        Partitioner byKey = (t, key, value, count) -> Integer.parseInt(new String(key, StandardCharsets.UTF_8));
        TopicProducerConfig config = TopicProducerConfig.builder().partitioner(byKey).build();
        try (TopicProducer producer = fluvio.topicProducer(topic, config);
                ConsumerStream stream = fluvio.consumer(topic).stream(Offset.beginning())) {
            producer.send(String.valueOf(down), "d0");
            producer.send(String.valueOf(up), "u0");
            producer.flush();
            assertEquals(new HashSet<>(Arrays.asList("d0", "u0")), values(stream, 2));

            cluster.killSpu(spu);
            ProduceOutput waiting = producer.send(String.valueOf(down), "d1");
            producer.send(String.valueOf(up), "u1").get(WAIT);
            Record record = stream.next(WAIT);
            assertNotNull(record, "the partition still served arrives");
            assertEquals(up, record.partition());
            assertEquals(1, record.offset());
            assertEquals("u1", record.valueString());
            assertNothingMore(stream);
            assertFalse(waiting.isDone());

            cluster.startSpu(spu);
            RecordMetadata stored = waiting.get(WAIT);
            assertEquals(down, stored.partition());
            assertEquals(1, stored.offset());
            record = stream.next(WAIT);
            assertNotNull(record, "the partition of the restarted SPU resumes");
            assertEquals(down, record.partition());
            assertEquals(1, record.offset());
            assertEquals("d1", record.valueString());
            assertNothingMore(stream);
        }
    }

    private static Set<String> values(ConsumerStream stream, int count) {
        Set<String> values = new HashSet<>();
        for (int i = 0; i < count; i++) {
            Record record = stream.next(WAIT);
            assertNotNull(record, "record " + i + " of " + count + " did not arrive");
            values.add(record.valueString());
        }
        return values;
    }

    @Test
    @Timeout(value = 90, unit = TimeUnit.SECONDS)
    void aRestartedSpuWhosePortIsTakenMovesAndClientsFollow() throws Exception {
        int spu = cluster.spuIds().get(1);
        String topic = topicLedBy(spu);
        try (TopicProducer producer = fluvio.topicProducer(topic);
                PartitionConsumerStream stream = fluvio.partitionConsumer(topic, 0).stream(Offset.beginning())) {
            produce(producer, 0, 2);
            assertReads(stream, 0, 2);
            String before = cluster.spuEndpoint(spu);
            int port = Integer.parseInt(before.substring(before.lastIndexOf(':') + 1));

            cluster.stopSpu(spu);
            // Someone else takes the port meanwhile (if it is already taken, so much the better).
            ServerSocket squatter = null;
            try {
                squatter = new ServerSocket(port, 1, InetAddress.getByName("127.0.0.1"));
            } catch (BindException taken) {
                // the port is in use anyway
            }
            try {
                cluster.startSpu(spu);
            } finally {
                if (squatter != null) {
                    squatter.close();
                }
            }
            String after = cluster.spuEndpoint(spu);
            assertNotEquals(before, after, "the SPU listens elsewhere");
            boolean listed = false;
            for (SpuMetadata metadata : fluvio.admin().listSpus()) {
                if (metadata.spec().id() == spu) {
                    assertEquals(after, metadata.spec().endpoint(), "the SC advertises the new endpoint");
                    listed = true;
                }
            }
            assertTrue(listed);

            // The same producer and stream find it at its new address.
            produce(producer, 2, 4);
            assertReads(stream, 2, 4);
            assertNothingMore(stream);
        }
        try (Fluvio fresh = cluster.connect()) {
            assertEquals(4, fresh.partitionConsumer(topic, 0).fetch(Offset.beginning()).size());
        }
    }

    // ------------------------------------------------------------------------------------
    // Resume timeout

    @Test
    @Timeout(value = 90, unit = TimeUnit.SECONDS)
    void aStreamWhoseSpuStaysDownFailsRetriablyAfterItsResumeTimeout() {
        int spu = cluster.spuIds().get(1);
        String topic = topicLedBy(spu);
        ConsumerConfig shortResume = ConsumerConfig.builder().resumeTimeout(Duration.ofSeconds(1)).build();
        assertEquals(Duration.ofSeconds(1), shortResume.resumeTimeout());
        try (TopicProducer producer = fluvio.topicProducer(topic);
                PartitionConsumerStream impatient =
                        fluvio.partitionConsumer(topic, 0).stream(Offset.beginning(), shortResume);
                ConsumerStream impatientTopic = fluvio.consumer(topic).stream(Offset.beginning(), shortResume);
                PartitionConsumerStream patient = fluvio.partitionConsumer(topic, 0).stream(Offset.beginning());
                PartitionConsumerStream endless = fluvio.partitionConsumer(topic, 0).stream(Offset.beginning(),
                        ConsumerConfig.builder().resumeTimeout(Duration.ofSeconds(Long.MAX_VALUE)).build())) {
            produce(producer, 0, 3);
            for (ConsumerStream stream : Arrays.asList(impatient, impatientTopic, patient, endless)) {
                assertReads(stream, 0, 3);
            }

            cluster.stopSpu(spu);
            long stopped = System.nanoTime();
            for (ConsumerStream stream : Arrays.asList(impatient, impatientTopic)) {
                FluvioException failure = awaitFailure(stream, Duration.ofSeconds(15));
                assertEquals(FluvioException.Code.CONNECT, failure.code(), failure::toString);
                assertTrue(failure.isRetriable(), failure::toString);
                // Reported once; the stream has ended.
                assertNull(stream.next(Duration.ofMillis(50)));
                assertTrue(stream.isEnded());
            }
            Duration elapsed = Duration.ofNanos(System.nanoTime() - stopped);
            assertTrue(elapsed.compareTo(Duration.ofSeconds(10)) < 0, "failed after " + elapsed);
            // The default resume timeout (60 s) is not over: those streams still just wait.
            for (ConsumerStream stream : Arrays.asList(patient, endless)) {
                assertNull(stream.next(QUIET));
                assertFalse(stream.isEnded());
            }

            cluster.startSpu(spu);
            produce(producer, 3, 5);
            assertReads(patient, 3, 5);
            assertReads(endless, 3, 5);
            // The recovery after a retriable failure: a new stream from the next offset.
            try (PartitionConsumerStream resumed =
                    fluvio.partitionConsumer(topic, 0).stream(Offset.absolute(3), shortResume)) {
                assertReads(resumed, 3, 5);
                assertNothingMore(resumed);
            }
        }
    }

    /** Polls {@code stream} until it throws, which must happen within {@code limit}. */
    private static FluvioException awaitFailure(ConsumerStream stream, Duration limit) {
        long deadline = System.nanoTime() + limit.toNanos();
        while (System.nanoTime() < deadline) {
            try {
                Record record = stream.next(Duration.ofMillis(200));
                assertNull(record, () -> "unexpected record " + record);
            } catch (FluvioException failure) {
                return failure;
            }
        }
        return fail("the stream did not fail within " + limit);
    }

    // ------------------------------------------------------------------------------------
    // Errors, no-ops, arguments, close

    @Test
    @Timeout(value = 90, unit = TimeUnit.SECONDS)
    void spuControlErrorCodesAndNoOps() {
        assertEquals(Arrays.asList(5001, 5002), cluster.spuIds());
        assertThrows(UnsupportedOperationException.class, () -> cluster.spuIds().add(1));
        for (int id : cluster.spuIds()) {
            assertTrue(cluster.isSpuRunning(id));
            String endpoint = cluster.spuEndpoint(id);
            assertTrue(endpoint.startsWith("127.0.0.1:"), endpoint);
        }
        assertNotEquals(cluster.spuEndpoint(5001), cluster.spuEndpoint(5002));

        for (int unknown : new int[] {0, 1, 5000, 5003, Integer.MAX_VALUE}) {
            localClusterError(() -> cluster.stopSpu(unknown));
            localClusterError(() -> cluster.killSpu(unknown));
            localClusterError(() -> cluster.startSpu(unknown));
            localClusterError(() -> cluster.isSpuRunning(unknown));
            localClusterError(() -> cluster.spuEndpoint(unknown));
        }
        // Starting a running SPU is an error, and changes nothing.
        localClusterError(() -> cluster.startSpu(5001));
        assertTrue(cluster.isSpuRunning(5001));

        // Stopping or killing an SPU that is down does nothing.
        cluster.stopSpu(5002);
        assertDoesNotThrow(() -> cluster.stopSpu(5002));
        assertDoesNotThrow(() -> cluster.killSpu(5002));
        assertFalse(cluster.isSpuRunning(5002));
        cluster.startSpu(5002);
        localClusterError(() -> cluster.startSpu(5002));
        cluster.killSpu(5002);
        assertDoesNotThrow(() -> cluster.killSpu(5002));
        assertDoesNotThrow(() -> cluster.stopSpu(5002));
        assertFalse(cluster.isSpuRunning(5002));
        assertTrue(cluster.isSpuRunning(5001), "the other SPU is untouched");
        cluster.startSpu(5002);
        assertTrue(cluster.isSpuRunning(5002));

        // The cluster serves both SPUs again.
        String topic = "f-" + UUID.randomUUID().toString().substring(0, 8);
        fluvio.admin().createTopic(topic, 2, 1);
        try (TopicProducer producer = fluvio.topicProducer(topic)) {
            for (int i = 0; i < 4; i++) {
                producer.send(null, "x").get(WAIT);
            }
        }
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void badArgumentsAndUseAfterClose() {
        LocalCluster small = LocalCluster.start();
        assertEquals(Arrays.asList(5001), small.spuIds());
        List<Executable> negative = Arrays.asList(
                () -> small.stopSpu(-1),
                () -> small.killSpu(-5001),
                () -> small.startSpu(Integer.MIN_VALUE),
                () -> small.isSpuRunning(-1),
                () -> small.spuEndpoint(-1));
        for (Executable call : negative) {
            assertThrows(IllegalArgumentException.class, call);
        }
        small.stopSpu(5001);
        small.close();
        assertTrue(small.isClosed());
        // Arguments are checked before anything native: a closed cluster still says IAE.
        for (Executable call : negative) {
            assertThrows(IllegalArgumentException.class, call);
        }
        List<Executable> afterClose = Arrays.asList(
                small::spuIds,
                () -> small.stopSpu(5001),
                () -> small.killSpu(5001),
                () -> small.startSpu(5001),
                () -> small.isSpuRunning(5001),
                () -> small.spuEndpoint(5001));
        for (Executable call : afterClose) {
            assertThrows(IllegalStateException.class, call);
        }
        assertDoesNotThrow(small::close);
    }

    @Test
    @Timeout(value = 90, unit = TimeUnit.SECONDS)
    void concurrentSpuControlAndCloseDuringAStop() throws Exception {
        LocalCluster two = LocalCluster.builder().spus(2).build().start();
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            // Both SPUs at once, from two threads: each call returns once its SPU is down.
            Future<?> kill = pool.submit(() -> two.killSpu(5001));
            Future<?> stop = pool.submit(() -> two.stopSpu(5002));
            kill.get(30, TimeUnit.SECONDS);
            stop.get(30, TimeUnit.SECONDS);
            assertFalse(two.isSpuRunning(5001));
            assertFalse(two.isSpuRunning(5002));
            Future<?> start1 = pool.submit(() -> two.startSpu(5001));
            Future<?> start2 = pool.submit(() -> two.startSpu(5002));
            start1.get(30, TimeUnit.SECONDS);
            start2.get(30, TimeUnit.SECONDS);
            assertTrue(two.isSpuRunning(5001));
            assertTrue(two.isSpuRunning(5002));

            // close() during a stop waits for it; the stop either completes or, if close came
            // first, finds the cluster closed.
            Future<?> stopping = pool.submit(() -> two.stopSpu(5001));
            two.close();
            try {
                stopping.get(30, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                assertTrue(e.getCause() instanceof IllegalStateException, e.getCause()::toString);
            }
            assertThrows(IllegalStateException.class, () -> two.isSpuRunning(5001));
        } finally {
            pool.shutdownNow();
            two.close();
        }
    }

    @Test
    void resumeTimeoutDefaultsAndChecks() {
        assertEquals(Duration.ofSeconds(60), ConsumerConfig.DEFAULT_RESUME_TIMEOUT);
        assertEquals(ConsumerConfig.DEFAULT_RESUME_TIMEOUT, ConsumerConfig.builder().build().resumeTimeout());
        ConsumerConfig.Builder builder = ConsumerConfig.builder();
        assertThrows(NullPointerException.class, () -> builder.resumeTimeout(null));
        assertThrows(IllegalArgumentException.class, () -> builder.resumeTimeout(Duration.ZERO));
        assertThrows(IllegalArgumentException.class, () -> builder.resumeTimeout(Duration.ofMillis(-1)));
        assertThrows(IllegalArgumentException.class, () -> builder.resumeTimeout(Duration.ofNanos(999_999)));
        assertEquals(Duration.ofMillis(1), builder.resumeTimeout(Duration.ofMillis(1)).build().resumeTimeout());
        Duration huge = Duration.ofSeconds(Long.MAX_VALUE);
        assertEquals(huge, builder.resumeTimeout(huge).build().resumeTimeout());
    }
}
