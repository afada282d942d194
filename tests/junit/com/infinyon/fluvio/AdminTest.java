package com.infinyon.fluvio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.UUID;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * The admin API against the embedded cluster: creating (plain and with a {@link TopicConfig}),
 * listing and deleting topics; partitions with their offsets and sizes; SPUs of a 2-SPU
 * cluster; JSON and YAML renderings; and the error code of every refused request.
 */
class AdminTest extends ClusterTestBase {
    static String unique(String prefix) {
        return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    static FluvioException expectCode(FluvioException.Code code, Executable call) {
        FluvioException e = assertThrows(FluvioException.class, call);
        assertEquals(code, e.code(), () -> "unexpected failure: " + e);
        return e;
    }

    /** Waits up to 10 s for {@code condition}. */
    static void eventually(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting until " + what);
            }
            Thread.sleep(50);
        }
    }

    private List<String> topicNames() {
        return fluvio.admin().listTopics().stream().map(TopicMetadata::name).collect(Collectors.toList());
    }

    @Test
    void createListAndDeleteTopics() {
        FluvioAdmin admin = fluvio.admin();
        String one = unique("one");
        String three = unique("three");
        admin.createTopic(one, 1, 1);
        admin.createTopic(three, 3, 1);

        List<String> names = topicNames();
        assertTrue(names.containsAll(Arrays.asList(one, three)), names.toString());
        List<String> sorted = names.stream().sorted().collect(Collectors.toList());
        assertEquals(sorted, names, "sorted by name");

        TopicMetadata topic = admin.topic(three);
        assertEquals(three, topic.name());
        assertEquals(3, topic.spec().partitions());
        assertEquals(1, topic.spec().replicationFactor());
        assertTrue(topic.spec().isComputed());
        assertFalse(topic.spec().isSystem());
        assertEquals(TopicMetadata.Resolution.PROVISIONED, topic.status().resolution());
        assertNull(topic.spec().compression(), "producers choose by default");

        admin.deleteTopic(one);
        assertFalse(topicNames().contains(one));
        expectCode(FluvioException.Code.TOPIC_NOT_FOUND, () -> admin.topic(one));
        assertTrue(topicNames().contains(three));
        // The name is free again.
        admin.createTopic(one, 2, 1);
        assertEquals(2, admin.topic(one).spec().partitions());
    }

    @Test
    void topicConfigRoundTrips() {
        FluvioAdmin admin = fluvio.admin();
        String name = unique("configured");
        TopicConfig config = TopicConfig.builder()
                .partitions(2)
                .replicationFactor(1)
                .retention(Duration.ofHours(6))
                .segmentSize(64 * 1024)
                .maxPartitionSize(10L * 1024 * 1024)
                .compression(Compression.GZIP)
                .build();
        admin.createTopic(name, config);

        TopicMetadata listed = admin.listTopics().stream().filter(t -> t.name().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError(name + " not listed"));
        for (TopicMetadata topic : Arrays.asList(listed, admin.topic(name))) {
            TopicMetadata.Spec spec = topic.spec();
            assertEquals(2, spec.partitions());
            assertEquals(1, spec.replicationFactor());
            assertEquals(Duration.ofHours(6), spec.retention());
            assertEquals(64 * 1024, spec.segmentSize());
            assertEquals(10L * 1024 * 1024, spec.maxPartitionSize());
            assertEquals(Compression.GZIP, spec.compression());
        }

        // Each codec round-trips on its own.
        for (Compression codec : Compression.values()) {
            String topic = unique("codec-" + codec.name().toLowerCase());
            admin.createTopic(topic, TopicConfig.builder().compression(codec).build());
            assertEquals(codec, admin.topic(topic).spec().compression());
        }

        // Options left unset are reported as the cluster default.
        String plain = unique("plain");
        admin.createTopic(plain, TopicConfig.builder().build());
        TopicMetadata.Spec spec = admin.topic(plain).spec();
        assertEquals(1, spec.partitions());
        assertNull(spec.compression());
        assertNull(spec.retention());
        assertEquals(-1, spec.segmentSize());
        assertEquals(-1, spec.maxPartitionSize());
    }

    @Test
    void partitionsReportLeaderReplicasAndOffsets() throws InterruptedException {
        FluvioAdmin admin = fluvio.admin();
        String topic = newTopic(2);
        List<PartitionMetadata> fresh = admin.listPartitions(topic);
        assertEquals(2, fresh.size());
        for (int i = 0; i < 2; i++) {
            PartitionMetadata partition = fresh.get(i);
            assertEquals(topic, partition.topic());
            assertEquals(i, partition.partition());
            assertEquals(topic + "-" + i, partition.name());
            assertEquals(5001, partition.spec().leader());
            assertEquals(Collections.singletonList(5001), partition.spec().replicas());
            assertEquals(PartitionMetadata.Resolution.ONLINE, partition.status().resolution());
            assertEquals(0, partition.status().highWatermark());
            assertEquals(0, partition.status().logEndOffset());
        }

        int records = 25;
        try (TopicProducer producer = fluvio.topicProducer(topic, TopicProducerConfig.builder()
                .partitioner((t, key, value, count) -> 1).build())) {
            for (int i = 0; i < records; i++) {
                producer.send(null, "record-" + i);
            }
            producer.flush();
        }
        eventually("partition 1 reports " + records + " records", () -> {
            PartitionMetadata p = admin.listPartitions(topic).get(1);
            return p.status().highWatermark() == records && p.status().logEndOffset() == records;
        });
        List<PartitionMetadata> after = admin.listPartitions(topic);
        assertTrue(after.get(1).status().size() > 0, "size " + after.get(1).status().size());
        assertEquals(0, after.get(0).status().highWatermark(), "partition 0 got nothing");
        assertEquals(0, after.get(1).status().logStartOffset());
        assertEquals(0, after.get(1).status().inSyncReplicas(), "replication factor 1: no follower, as a real SC counts it");

        // Every partition of every topic, by topic and index.
        List<PartitionMetadata> all = admin.listPartitions();
        List<String> ours = all.stream().filter(p -> p.topic().equals(topic)).map(PartitionMetadata::name)
                .collect(Collectors.toList());
        assertEquals(Arrays.asList(topic + "-0", topic + "-1"), ours);
        assertTrue(all.size() >= 2);
    }

    @Test
    void partitionsCanBeAdded() throws InterruptedException {
        FluvioAdmin admin = fluvio.admin();
        String topic = newTopic(1);
        // The cluster answers once it stored the new count (as a real one does): the call
        // returns once the new partitions are online.
        admin.addPartitions(topic, 2);
        assertEquals(3, admin.topic(topic).spec().partitions());
        List<PartitionMetadata> partitions = admin.listPartitions(topic);
        assertEquals(3, partitions.size());
        assertTrue(partitions.stream().allMatch(p -> p.status().resolution() == PartitionMetadata.Resolution.ONLINE),
                partitions::toString);
        // A producer created now sends to the new partition.
        try (TopicProducer producer = fluvio.topicProducer(topic, TopicProducerConfig.builder()
                .partitioner((t, key, value, count) -> count - 1).build())) {
            RecordMetadata sent = producer.send(null, "to the newest").get();
            assertEquals(2, sent.partition());
        }

        assertThrows(IllegalArgumentException.class, () -> admin.addPartitions(topic, 0));
        expectCode(FluvioException.Code.TOPIC_NOT_FOUND, () -> admin.addPartitions("missing", 1));
        // The embedded cluster caps a topic at 1024 partitions rather than exhaust memory.
        expectCode(FluvioException.Code.INVALID_TOPIC_CONFIG, () -> admin.addPartitions(topic, Integer.MAX_VALUE));
        expectCode(FluvioException.Code.INVALID_TOPIC_CONFIG,
                () -> admin.createTopic(unique("huge"), Integer.MAX_VALUE, 1));
        assertEquals(3, admin.topic(topic).spec().partitions(), "refused requests changed nothing");
    }

    @Test
    void renderingsNameTheObject() {
        FluvioAdmin admin = fluvio.admin();
        String topic = newTopic(1);
        TopicMetadata metadata = admin.topic(topic);
        assertTrue(metadata.toJson().contains("\"name\": \"" + topic + "\""), metadata.toJson());
        assertTrue(metadata.toJson().trim().startsWith("{"), metadata.toJson());
        assertTrue(metadata.toYaml().contains("name: " + topic), metadata.toYaml());
        // As the official CLI prints them: `spuId`, enum variants spelled as Fluvio's, YAML tags.
        assertTrue(metadata.toJson().contains("\"compressionType\": \"Any\""), metadata.toJson());
        assertTrue(metadata.toJson().contains("\"mirrorMap\": {}"), metadata.toJson());
        assertTrue(metadata.toYaml().contains("replicas: !computed"), metadata.toYaml());

        PartitionMetadata partition = admin.listPartitions(topic).get(0);
        assertTrue(partition.toJson().contains("\"name\": \"" + topic + "-0\""), partition.toJson());
        assertTrue(partition.toYaml().contains(topic + "-0"), partition.toYaml());
        assertTrue(partition.toJson().contains("\"mirror\": null"), partition.toJson());

        SpuMetadata spu = admin.listSpus().get(0);
        assertTrue(spu.toJson().contains("\"name\": \"" + spu.name() + "\""), spu.toJson());
        assertTrue(spu.toYaml().contains(spu.name()), spu.toYaml());
        assertTrue(spu.toJson().contains("\"spuId\": " + spu.spec().id()), spu.toJson());
        assertTrue(spu.toJson().contains("\"ip\": null"), spu.toJson());
    }

    @Test
    void spusOfATwoSpuCluster() {
        try (LocalCluster two = LocalCluster.builder().spus(2).build().start();
                Fluvio client = two.connect()) {
            List<SpuMetadata> spus = client.admin().listSpus();
            assertEquals(2, spus.size());
            assertEquals(Arrays.asList(5001, 5002), spus.stream().map(s -> s.spec().id()).collect(Collectors.toList()));
            for (SpuMetadata spu : spus) {
                assertEquals(SpuMetadata.Resolution.ONLINE, spu.status().resolution());
                assertTrue(spu.status().isOnline());
                assertTrue(spu.spec().port() > 0);
                assertEquals(spu.spec().host() + ":" + spu.spec().port(), spu.spec().endpoint());
                assertNotEquals(two.endpoint(), spu.spec().endpoint(), "SPUs have their own ports");
            }
            assertNotEquals(spus.get(0).spec().port(), spus.get(1).spec().port());

            // A computed topic is spread over both SPUs.
            String topic = unique("spread");
            client.admin().createTopic(topic, 2, 1);
            List<Integer> leaders = client.admin().listPartitions(topic).stream().map(p -> p.spec().leader()).sorted()
                    .collect(Collectors.toList());
            assertEquals(Arrays.asList(5001, 5002), leaders);

            // Two replicas: one on each SPU, the followers' progress reported by the leader.
            String replicated = unique("rf2");
            client.admin().createTopic(replicated, 1, 2);
            PartitionMetadata partition = client.admin().listPartitions(replicated).get(0);
            assertEquals(Arrays.asList(5001, 5002),
                    partition.spec().replicas().stream().sorted().collect(Collectors.toList()));
            try (TopicProducer producer = client.topicProducer(replicated)) {
                producer.send(null, "copied").get();
            }
            try {
                eventually("the follower caught up", () -> {
                    PartitionMetadata.Status status = client.admin().listPartitions(replicated).get(0).status();
                    return status.inSyncReplicas() == 1 && status.followers().size() == 1
                            && status.followers().get(0).logEndOffset() == 1 && status.highWatermark() == 1;
                });
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
            PartitionMetadata.Status status = client.admin().listPartitions(replicated).get(0).status();
            assertEquals(partition.spec().leader(), status.leader());
            assertNotEquals(status.leader(), status.followers().get(0).spu());
            // More replicas than SPUs cannot be placed.
            FluvioException tooMany = expectCode(FluvioException.Code.TOPIC_NOT_PROVISIONED,
                    () -> client.admin().createTopic(unique("rf3"), 1, 3));
            assertFalse(tooMany.isRetriable(), tooMany.toString());
        }
    }

    @Test
    void refusedRequestsHaveTheirCodes() {
        FluvioAdmin admin = fluvio.admin();
        String topic = newTopic(1);

        FluvioException exists = expectCode(FluvioException.Code.TOPIC_ALREADY_EXISTS, () -> admin.createTopic(topic, 1, 1));
        assertFalse(exists.isRetriable());
        for (String bad : Arrays.asList("UPPER", "under_score", "dot.ted", "", "-leading", "x".repeat(64))) {
            expectCode(FluvioException.Code.INVALID_TOPIC_NAME, () -> admin.createTopic(bad, 1, 1));
        }
        expectCode(FluvioException.Code.INVALID_TOPIC_CONFIG, () -> admin.createTopic(unique("short-retention"),
                TopicConfig.builder().retention(Duration.ofSeconds(5)).build()));
        expectCode(FluvioException.Code.INVALID_TOPIC_CONFIG, () -> admin.createTopic(unique("tiny-segments"),
                TopicConfig.builder().segmentSize(100).build()));

        expectCode(FluvioException.Code.TOPIC_NOT_FOUND, () -> admin.deleteTopic("missing"));
        expectCode(FluvioException.Code.TOPIC_NOT_FOUND, () -> admin.topic("missing"));
        FluvioException partitions =
                expectCode(FluvioException.Code.TOPIC_NOT_FOUND, () -> admin.listPartitions("missing"));
        assertFalse(partitions.isRetriable());

        // Two replicas on a one-SPU cluster cannot be placed. As a real cluster does, the cluster
        // creates the topic all the same, waiting for SPUs; the call says so at once (the SC
        // itself answers only after its 90 s provisioning wait), and the topic can be deleted.
        String unplaced = unique("rf2");
        FluvioException rf = expectCode(FluvioException.Code.TOPIC_NOT_PROVISIONED, () -> admin.createTopic(unplaced, 1, 2));
        assertFalse(rf.isRetriable(), rf.toString());
        assertEquals(TopicMetadata.Resolution.INSUFFICIENT_RESOURCES, admin.topic(unplaced).status().resolution());
        assertTrue(admin.listPartitions(unplaced).isEmpty());
        expectCode(FluvioException.Code.TOPIC_ALREADY_EXISTS, () -> admin.createTopic(unplaced, 1, 2));
        admin.deleteTopic(unplaced);
        assertFalse(topicNames().contains(unplaced));
    }
}
