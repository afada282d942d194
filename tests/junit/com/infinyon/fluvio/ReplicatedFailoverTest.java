package com.infinyon.fluvio;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Replication and failover through the Java API, on 3 SPUs with replication factor 3, under
 * each replication policy.
 *
 * <p>{@link ReplicationPolicy#IN_SYNC} (the class's cluster, for its guarantees): a producer
 * (acknowledged on commit) and a {@code READ_COMMITTED} stream keep running while the leader is
 * killed, restarted, and then another leader is killed. Every acknowledged record is consumed
 * exactly once and in order, the stream never sees a record that is later discarded, and the
 * admin API shows the leader moving and the replicas catching up.
 *
 * <p>{@link ReplicationPolicy#FLUVIO} (real Fluvio's rules, clusters of their own): followers 4
 * or more records behind are not elected, the partition stays {@code LEADER_OFFLINE} and the
 * producer retries until the leader returns, then everything is delivered; a close follower is
 * elected at once, but nothing new is committed until the killed replica returns.
 */
class ReplicatedFailoverTest extends ClusterTestBase {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @Override
    int spus() {
        return 3;
    }

    @Override
    ReplicationPolicy replicationPolicy() {
        return ReplicationPolicy.IN_SYNC;
    }

    private static void eventually(String what, BooleanSupplier ready) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!ready.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting until " + what);
            }
            Thread.sleep(20);
        }
    }

    private PartitionMetadata partition(String topic) {
        return fluvio.admin().listPartitions(topic).get(0);
    }

    /** Kills the leader and waits until another replica leads, Online. Returns the killed SPU. */
    private int killLeader(String topic) throws InterruptedException {
        int leader = partition(topic).spec().leader();
        cluster.killSpu(leader);
        eventually("a new leader is online", () -> {
            PartitionMetadata now = partition(topic);
            return now.spec().leader() != leader
                    && now.status().resolution() == PartitionMetadata.Resolution.ONLINE;
        });
        return leader;
    }

    @Test
    @Timeout(120)
    @SuppressWarnings("try") // the stream is closed early on purpose: it ends the consumer thread
    void inSyncAcknowledgedRecordsSurviveLeaderKillsExactlyOnceInOrder() throws Exception {
        String topic = "faults-" + UUID.randomUUID().toString().substring(0, 8);
        fluvio.admin().createTopic(topic, 1, 3);
        PartitionMetadata created = partition(topic);
        assertEquals(3, created.spec().replicas().size());
        assertEquals(created.spec().leader(), created.spec().replicas().get(0));

        List<Record> consumed = Collections.synchronizedList(new ArrayList<>());
        AtomicBoolean stopProducing = new AtomicBoolean();
        ExecutorService threads = Executors.newFixedThreadPool(2);
        try (PartitionConsumerStream stream = fluvio.partitionConsumer(topic, 0).stream(Offset.beginning(),
                ConsumerConfig.builder().isolation(Isolation.READ_COMMITTED).build());
                TopicProducer producer = fluvio.topicProducer(topic, TopicProducerConfig.builder()
                        .isolation(Isolation.READ_COMMITTED).linger(Duration.ofMillis(2)).build())) {
            Future<?> consuming = threads.submit(() -> {
                try {
                    while (true) {
                        consumed.add(stream.next());
                    }
                } catch (FluvioException closed) {
                    assertEquals(FluvioException.Code.CLOSED, closed.code(), closed::toString);
                }
                return null;
            });
            Future<List<ProduceOutput>> producing = threads.submit(() -> {
                List<ProduceOutput> outputs = new ArrayList<>();
                for (int i = 0; !stopProducing.get(); i++) {
                    outputs.add(producer.send(null, Integer.toString(i)));
                    if (i % 20 == 19) {
                        Thread.sleep(3);
                    }
                }
                producer.flush();
                return outputs;
            });

            eventually("500 records consumed", () -> consumed.size() >= 500);
            int first = killLeader(topic);
            assertEquals(1, partition(topic).status().inSyncReplicas(), "the killed leader left the ISR");
            assertEquals(SpuMetadata.Resolution.OFFLINE, fluvio.admin().listSpus().stream()
                    .filter(spu -> spu.spec().id() == first).findFirst().get().status().resolution());
            eventually("1,200 records consumed", () -> consumed.size() >= 1200);
            cluster.startSpu(first);
            eventually("the restarted SPU is back in sync", () -> {
                PartitionMetadata.Status status = partition(topic).status();
                return status.inSyncReplicas() == 2 && status.followers().stream().anyMatch(f -> f.spu() == first);
            });
            eventually("1,800 records consumed", () -> consumed.size() >= 1800);
            int second = killLeader(topic);
            assertNotEquals(first, second);
            int afterFaults = consumed.size() + 500;
            eventually("500 more records consumed", () -> consumed.size() >= afterFaults);
            stopProducing.set(true);

            List<ProduceOutput> outputs = producing.get(WAIT.getSeconds(), TimeUnit.SECONDS);
            for (int i = 0; i < outputs.size(); i++) {
                assertEquals(i, outputs.get(i).get(WAIT).offset(), "record " + i + " acknowledged at its offset");
            }
            eventually("everything acknowledged is consumed", () -> consumed.size() >= outputs.size());
            Thread.sleep(300);
            stream.close();
            consuming.get(WAIT.getSeconds(), TimeUnit.SECONDS);

            List<Record> seen = new ArrayList<>(consumed);
            assertEquals(outputs.size(), seen.size(), "nothing consumed twice");
            for (int i = 0; i < seen.size(); i++) {
                assertEquals(i, seen.get(i).offset());
                assertEquals(Integer.toString(i), seen.get(i).valueString(), "record " + i);
            }

            // Nothing seen was discarded later: the committed log reads back identically.
            try (PartitionConsumerStream again = fluvio.partitionConsumer(topic, 0).stream(Offset.beginning(),
                    ConsumerConfig.builder().isolation(Isolation.READ_COMMITTED).build())) {
                for (Record record : seen) {
                    Record stored = again.next(WAIT);
                    assertEquals(record.offset(), stored.offset());
                    assertArrayEquals(record.value(), stored.value());
                    assertEquals(record.timestamp(), stored.timestamp());
                }
            }
        } finally {
            stopProducing.set(true);
            threads.shutdownNow();
            for (int id : cluster.spuIds()) {
                if (!cluster.isSpuRunning(id)) {
                    cluster.startSpu(id);
                }
            }
        }
    }

    @Test
    @Timeout(60)
    void inSyncMinLiveReplicasDecidesWhenRecordsAreCommitted() throws Exception {
        try (LocalCluster strict = LocalCluster.builder().spus(2).minLiveReplicas(2).replicaLagTime(Duration.ofSeconds(5))
                .replicationPolicy(ReplicationPolicy.IN_SYNC).build().start();
                Fluvio client = strict.connect()) {
            FluvioException refused =
                    assertThrows(FluvioException.class, () -> client.admin().createTopic("single", 1, 1));
            assertEquals(FluvioException.Code.INVALID_TOPIC_CONFIG, refused.code());

            client.admin().createTopic("pair", 1, 2);
            TopicProducerConfig committed = TopicProducerConfig.builder().isolation(Isolation.READ_COMMITTED)
                    .linger(Duration.ZERO).timeout(Duration.ofMillis(800))
                    .deliverySemantic(DeliverySemantic.atMostOnce()).build();
            try (TopicProducer producer = client.topicProducer("pair", committed)) {
                assertEquals(0, producer.send(null, "both replicas").get(WAIT).offset());
                int leader = client.admin().listPartitions("pair").get(0).spec().leader();
                int follower = strict.spuIds().stream().filter(id -> id != leader).findFirst().get();
                strict.killSpu(follower);
                // One in-sync replica is fewer than 2: nothing commits, the acknowledgement times out.
                FluvioException timeout = assertThrows(FluvioException.class,
                        () -> producer.send(null, "alone").get(WAIT));
                assertEquals(FluvioException.Code.TIMEOUT, timeout.code(), timeout::toString);
                assertTrue(timeout.isRetriable());
                strict.startSpu(follower);
                eventually("the follower is back in sync",
                        () -> client.admin().listPartitions("pair").get(0).status().inSyncReplicas() == 1);
                try (PartitionConsumerStream stream = client.partitionConsumer("pair", 0).stream(Offset.beginning(),
                        ConsumerConfig.builder().isolation(Isolation.READ_COMMITTED).build())) {
                    assertEquals("both replicas", stream.next(WAIT).valueString());
                    assertEquals("alone", stream.next(WAIT).valueString(), "committed once the follower caught up");
                }
            }
        }
        assertThrows(IllegalArgumentException.class, () -> LocalCluster.builder().minLiveReplicas(0));
        assertThrows(IllegalArgumentException.class, () -> LocalCluster.builder().spuTimeout(Duration.ofMillis(10)));
        assertThrows(IllegalArgumentException.class, () -> LocalCluster.builder().replicaLagTime(Duration.ZERO));
        assertThrows(NullPointerException.class, () -> TopicProducerConfig.builder().isolation(null));
        assertFalse(TopicProducerConfig.builder().idempotent(false).build().idempotent());
        assertEquals(Isolation.READ_UNCOMMITTED, TopicProducerConfig.builder().build().isolation());
    }

    @Test
    @Timeout(60)
    void aReplicationFactorOneTopicWaitsForItsOnlyReplica() throws Exception {
        String topic = "lonely-" + UUID.randomUUID().toString().substring(0, 8);
        fluvio.admin().createTopic(topic, 1, 1);
        int spu = partition(topic).spec().leader();
        try (TopicProducer producer = fluvio.topicProducer(topic)) {
            producer.send(null, "before").get(WAIT);
        }
        cluster.stopSpu(spu);
        try {
            PartitionMetadata offline = partition(topic);
            assertEquals(PartitionMetadata.Resolution.LEADER_OFFLINE, offline.status().resolution());
            assertEquals(spu, offline.spec().leader(), "no other replica to elect");
            assertEquals(spu, offline.status().leader(), "the status keeps the lost leader's last report");
        } finally {
            cluster.startSpu(spu);
        }
        eventually("back online", () -> partition(topic).status().resolution() == PartitionMetadata.Resolution.ONLINE);
        try (PartitionConsumerStream stream = fluvio.partitionConsumer(topic, 0).stream(Offset.beginning())) {
            assertEquals("before", new String(stream.next(WAIT).value(), StandardCharsets.UTF_8));
        }
    }

    /** Waits until every replica of {@code topic}-0 holds {@code end} records, committed. */
    private static void awaitReplicated(Fluvio client, String topic, long end) throws InterruptedException {
        eventually("every replica holds everything", () -> {
            PartitionMetadata.Status status = client.admin().listPartitions(topic).get(0).status();
            return status.resolution() == PartitionMetadata.Resolution.ONLINE && status.highWatermark() == end
                    && status.inSyncReplicas() == 2
                    && status.followers().stream().allMatch(f -> f.logEndOffset() == end);
        });
    }

    @Test
    @Timeout(60)
    void fluvioLaggingFollowersAreNotElectedAndTheProducerRetriesUntilTheLeaderReturns() throws Exception {
        try (LocalCluster real = LocalCluster.builder().spus(3).build().start(); Fluvio client = real.connect()) {
            assertEquals(ReplicationPolicy.FLUVIO, real.replicationPolicy(), "the default");
            client.admin().createTopic("lagging", 1, 3);
            int leader = client.admin().listPartitions("lagging").get(0).spec().leader();
            try (TopicProducer producer = client.topicProducer("lagging")) {
                for (int i = 0; i < 10; i++) {
                    producer.send(null, Integer.toString(i));
                }
                producer.flush();
                awaitReplicated(client, "lagging", 10);
                // The followers go down; the leader alone takes 5 more records, and its report to
                // the SC shows the followers 5 records behind. Then it dies too, and they return.
                List<Integer> followers = new ArrayList<>(real.spuIds());
                followers.remove(Integer.valueOf(leader));
                for (int id : followers) {
                    real.stopSpu(id);
                }
                for (int i = 10; i < 15; i++) {
                    producer.send(null, Integer.toString(i));
                }
                producer.flush();
                eventually("the SC sees the leader ahead", () -> {
                    PartitionMetadata.Status status = client.admin().listPartitions("lagging").get(0).status();
                    return status.logEndOffset() == 15 && status.inSyncReplicas() == 0;
                });
                real.killSpu(leader);
                for (int id : followers) {
                    real.startSpu(id);
                }
                Thread.sleep(500); // their reports reach the SC
                PartitionMetadata offline = client.admin().listPartitions("lagging").get(0);
                assertEquals(PartitionMetadata.Resolution.LEADER_OFFLINE, offline.status().resolution());
                assertEquals(leader, offline.spec().leader(), "nobody elected");

                List<ProduceOutput> outputs = new ArrayList<>();
                for (int i = 15; i < 25; i++) {
                    outputs.add(producer.send(null, Integer.toString(i)));
                }
                Thread.sleep(1500);
                assertFalse(outputs.get(0).toCompletableFuture().isDone(), "nothing acknowledged without a leader");
                assertEquals(PartitionMetadata.Resolution.LEADER_OFFLINE,
                        client.admin().listPartitions("lagging").get(0).status().resolution());

                real.startSpu(leader);
                for (int i = 0; i < outputs.size(); i++) {
                    assertEquals(15 + i, outputs.get(i).get(WAIT).offset(), "delivered once the leader is back");
                }
            }
            assertEquals(leader, client.admin().listPartitions("lagging").get(0).spec().leader());
            awaitReplicated(client, "lagging", 25);
            try (PartitionConsumerStream stream = client.partitionConsumer("lagging", 0).stream(Offset.beginning(),
                    ConsumerConfig.builder().isolation(Isolation.READ_COMMITTED).build())) {
                for (int i = 0; i < 25; i++) {
                    assertEquals(Integer.toString(i), stream.next(WAIT).valueString(), "nothing lost or repeated");
                }
            }
        }
    }

    @Test
    @Timeout(60)
    void fluvioACloseFollowerIsElectedButNothingCommitsUntilTheKilledReplicaReturns() throws Exception {
        try (LocalCluster real = LocalCluster.builder().spus(3).replicationPolicy(ReplicationPolicy.FLUVIO).build()
                .start(); Fluvio client = real.connect()) {
            client.admin().createTopic("close", 1, 3);
            TopicProducerConfig onCommit = TopicProducerConfig.builder().isolation(Isolation.READ_COMMITTED).build();
            try (TopicProducer producer = client.topicProducer("close", onCommit);
                    PartitionConsumerStream stream = client.partitionConsumer("close", 0).stream(Offset.beginning(),
                            ConsumerConfig.builder().isolation(Isolation.READ_COMMITTED).build())) {
                for (int i = 0; i < 20; i++) {
                    producer.send(null, Integer.toString(i));
                }
                producer.flush();
                awaitReplicated(client, "close", 20);
                for (int i = 0; i < 20; i++) {
                    assertEquals(Integer.toString(i), stream.next(WAIT).valueString());
                }
                int killed = client.admin().listPartitions("close").get(0).spec().leader();
                real.killSpu(killed);
                eventually("a close follower is elected", () -> {
                    PartitionMetadata now = client.admin().listPartitions("close").get(0);
                    return now.spec().leader() != killed
                            && now.status().resolution() == PartitionMetadata.Resolution.ONLINE;
                });
                List<ProduceOutput> outputs = new ArrayList<>();
                for (int i = 20; i < 30; i++) {
                    outputs.add(producer.send(null, Integer.toString(i)));
                }
                assertNull(stream.next(Duration.ofMillis(1500)), "nothing new is committed while a replica is down");
                assertFalse(outputs.get(0).toCompletableFuture().isDone(), "nor acknowledged on commit");
                real.startSpu(killed);
                for (int i = 0; i < outputs.size(); i++) {
                    assertEquals(20 + i, outputs.get(i).get(WAIT).offset());
                    assertEquals(Integer.toString(20 + i), stream.next(WAIT).valueString());
                }
            }
        }
    }
}
