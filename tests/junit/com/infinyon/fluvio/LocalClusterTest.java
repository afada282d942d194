package com.infinyon.fluvio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a {@link LocalCluster} guarantees its user beyond the protocol: it owns its base
 * directory (a second cluster on it is refused, typed); it runs on threads of its own, so
 * client load and stalled callbacks in the same JVM never make it fence its healthy SPUs;
 * its connection limits are configurable and do not hurt clients; a damaged partition is a
 * typed {@code STORAGE} error.
 */
class LocalClusterTest {
    /** Upper bound for anything that should happen promptly. */
    private static final Duration WAIT = Duration.ofSeconds(30);

    private static void eventually(String what, java.util.function.BooleanSupplier condition) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "timed out waiting until " + what);
            Thread.sleep(20);
        }
    }

    @Test
    void aSecondClusterOnABaseDirectoryInUseIsRefused(@TempDir Path dir) throws Exception {
        try (LocalCluster first = LocalCluster.builder().baseDir(dir).build().start();
                Fluvio fluvio = first.connect()) {
            fluvio.admin().createTopic("kept", 1, 1);
            FluvioException refused = assertThrows(FluvioException.class,
                    () -> LocalCluster.builder().baseDir(dir).build().start());
            assertEquals(FluvioException.Code.LOCAL_CLUSTER, refused.code());
            assertEquals(FluvioException.ClusterFailure.DIRECTORY_IN_USE, refused.clusterFailure());
            assertFalse(refused.isRetriable());
            // The first cluster is untouched.
            try (TopicProducer producer = fluvio.topicProducer("kept")) {
                assertEquals(0, producer.send(null, "still mine").get().offset());
            }
        }
        // Free once the first one closed.
        try (LocalCluster second = LocalCluster.builder().baseDir(dir).build().start(); Fluvio fluvio = second.connect()) {
            assertTrue(fluvio.admin().listTopics().stream().anyMatch(t -> t.name().equals("kept")));
        }
    }

    @Test
    void connectionSettingsAreCheckedAndHaveDefaults() {
        LocalCluster.Builder builder = LocalCluster.builder();
        assertThrows(IllegalArgumentException.class, () -> builder.idleTimeout(Duration.ofMillis(-1)));
        assertThrows(IllegalArgumentException.class, () -> builder.readTimeout(Duration.ofNanos(1)));
        assertThrows(NullPointerException.class, () -> builder.idleTimeout(null));
        assertThrows(IllegalArgumentException.class,
                () -> builder.maxBufferedBytes(LocalCluster.MAX_REQUEST_BYTES - 1));
        LocalCluster.Definition defaults = LocalCluster.builder().build();
        assertEquals(LocalCluster.DEFAULT_IDLE_TIMEOUT, defaults.idleTimeout());
        assertEquals(Duration.ofMinutes(10), defaults.idleTimeout());
        assertEquals(Duration.ofSeconds(30), defaults.readTimeout());
        assertEquals(256L * 1024 * 1024, defaults.maxBufferedBytes());
        assertEquals(ReplicationPolicy.FLUVIO, defaults.replicationPolicy(), "real Fluvio's rules by default");
        assertThrows(NullPointerException.class, () -> builder.replicationPolicy(null));
        assertEquals(ReplicationPolicy.IN_SYNC,
                LocalCluster.builder().replicationPolicy(ReplicationPolicy.IN_SYNC).build().replicationPolicy());
        LocalCluster.Definition off = LocalCluster.builder().idleTimeout(Duration.ZERO).readTimeout(Duration.ZERO)
                .maxBufferedBytes(LocalCluster.MAX_REQUEST_BYTES).build();
        assertEquals(Duration.ZERO, off.idleTimeout());
    }

    @Test
    void clientsWorkAcrossAShortIdleTimeout() throws Exception {
        Duration idle = Duration.ofMillis(300);
        try (LocalCluster cluster = LocalCluster.builder().idleTimeout(idle).build().start();
                Fluvio fluvio = cluster.connect()) {
            fluvio.admin().createTopic("idle", 1, 1);
            try (TopicProducer producer = fluvio.topicProducer("idle");
                    PartitionConsumerStream stream = fluvio.partitionConsumer("idle", 0).stream(Offset.beginning())) {
                assertEquals(0, producer.send(null, "before").get().offset());
                assertEquals("before", stream.next(WAIT).valueString());
                // Several idle timeouts: the producer's connection is cut, the waiting stream is not.
                Thread.sleep(idle.toMillis() * 4);
                assertEquals(1, producer.send(null, "after").get(WAIT).offset());
                Record after = stream.next(WAIT);
                assertNotNull(after);
                assertEquals("after", after.valueString());
                assertEquals(1, fluvio.admin().listTopics().size(), "admin still works");
            }
        }
    }

    @Test
    void aDamagedPartitionIsAStorageErrorAndTheRestServes(@TempDir Path dir) throws Exception {
        try (LocalCluster cluster = LocalCluster.builder().baseDir(dir).build().start();
                Fluvio fluvio = cluster.connect()) {
            fluvio.admin().createTopic("damaged", 1, 1);
            fluvio.admin().createTopic("intact", 1, 1);
        }
        Files.write(dir.resolve("spu-5001").resolve("damaged-0").resolve("leader-epochs"),
                "\0\1garbage, not a leader epoch list".getBytes(StandardCharsets.ISO_8859_1));
        try (LocalCluster cluster = LocalCluster.builder().baseDir(dir).build().start();
                Fluvio fluvio = cluster.connect();
                TopicProducer damaged = fluvio.topicProducer("damaged");
                TopicProducer intact = fluvio.topicProducer("intact")) {
            FluvioException storage = assertThrows(FluvioException.class, () -> damaged.send(null, "x").get(WAIT));
            assertEquals(FluvioException.Code.STORAGE, storage.code(), storage::toString);
            assertFalse(storage.isRetriable());
            assertEquals(PartitionMetadata.Resolution.LEADER_OFFLINE,
                    fluvio.admin().listPartitions("damaged").get(0).status().resolution());
            assertEquals(0, intact.send(null, "fine").get(WAIT).offset());
        }
    }

    /**
     * The reported scenario: 3 SPUs, replication 3, a producer at full speed with
     * {@code toCompletableFuture()} on one record in seven, one leader killed and restarted.
     * SPUs never killed must never go down; at the end every SPU runs, every partition is
     * {@code ONLINE} and sends succeed; under each replication policy (under {@code FLUVIO} the
     * partition may wait for the restart). {@code FLUVIO_LOAD_KILL_RUNS=10} repeats it.
     */
    @Test
    @Timeout(value = 10, unit = TimeUnit.MINUTES)
    void underClientLoadAKillAndRestartNeverFencesHealthySpus() throws Exception {
        int runs = Integer.parseInt(System.getenv().getOrDefault("FLUVIO_LOAD_KILL_RUNS", "1"));
        for (int run = 0; run < runs; run++) {
            for (ReplicationPolicy policy : ReplicationPolicy.values()) {
                loadKillAndRestart(run, policy);
            }
        }
    }

    private static void loadKillAndRestart(int run, ReplicationPolicy policy) throws Exception {
        try (LocalCluster cluster = LocalCluster.builder().spus(3).replicationPolicy(policy).build().start();
                Fluvio fluvio = cluster.connect();
                Fluvio observer = cluster.connect()) {
            fluvio.admin().createTopic("load", 2, 3);
            Set<Integer> wentOffline = ConcurrentHashMap.newKeySet();
            AtomicBoolean watching = new AtomicBoolean(true);
            Thread watcher = new Thread(() -> {
                while (watching.get()) {
                    try {
                        for (SpuMetadata spu : observer.admin().listSpus()) {
                            if (spu.status().resolution() == SpuMetadata.Resolution.OFFLINE) {
                                wentOffline.add(spu.spec().id());
                            }
                        }
                        Thread.sleep(20);
                    } catch (InterruptedException e) {
                        return;
                    } catch (FluvioException e) {
                        // A failed poll proves nothing either way.
                    }
                }
            }, "spu-watcher");
            watcher.start();

            AtomicBoolean producing = new AtomicBoolean(true);
            AtomicLong completed = new AtomicLong();
            Thread load = new Thread(() -> {
                try (TopicProducer producer = fluvio.topicProducer("load")) {
                    for (long i = 0; producing.get(); i++) {
                        try {
                            ProduceOutput output = producer.send(null, "record-" + i);
                            if (i % 7 == 0) {
                                CompletableFuture<RecordMetadata> future = output.toCompletableFuture();
                                future.thenRun(completed::incrementAndGet);
                            }
                            if (i % 500 == 499) {
                                output.get(WAIT);
                            }
                        } catch (FluvioException e) {
                            // A record may fail while the leader moves; the load goes on.
                        }
                    }
                }
            }, "max-rate-producer");
            load.start();

            Thread.sleep(1000);
            int killed = fluvio.admin().listPartitions("load").get(0).spec().leader();
            cluster.killSpu(killed);
            Thread.sleep(1000);
            cluster.startSpu(killed);
            long beforeRestartLoad = completed.get();
            Thread.sleep(2000);
            producing.set(false);
            load.join(WAIT.toMillis());
            assertFalse(load.isAlive(), "run " + run + ": the producer finished");
            assertTrue(completed.get() > beforeRestartLoad, "run " + run + ": the load went on after the restart");

            for (int id : cluster.spuIds()) {
                assertTrue(cluster.isSpuRunning(id), "run " + run + ": SPU " + id + " runs");
            }
            eventually("every partition online", () -> fluvio.admin().listPartitions("load").stream()
                    .allMatch(p -> p.status().resolution() == PartitionMetadata.Resolution.ONLINE));
            try (TopicProducer producer = fluvio.topicProducer("load")) {
                producer.send(null, "after").get(WAIT);
            }
            watching.set(false);
            watcher.join(WAIT.toMillis());
            Set<Integer> others = new TreeSet<>(wentOffline);
            others.remove(killed);
            assertTrue(others.isEmpty(), "run " + run + ": SPUs never killed went down: " + others);
            System.out.println(policy + " load-plus-kill run " + run + ": healthy (SPU " + killed
                    + " killed and restarted, " + completed.get() + " futures completed)");
        }
    }
}
