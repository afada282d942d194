package com.infinyon.fluvio;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

/**
 * A named consumer through the loss of its partition's leader (3 SPUs, replication factor 3),
 * from Java: a service committing after each record keeps its stream and its commits across
 * the failover, and its next run starts after its last commit.
 */
class NamedConsumerFailoverTest extends ClusterTestBase {
    @Override
    int spus() {
        return 3;
    }

    /**
     * Under {@link ReplicationPolicy#FLUVIO} (real Fluvio's rules) the high watermark waits for
     * the killed replica, so committed produces and commits would wait for its return, as on a
     * real cluster: this failover runs where the in-sync set drops it.
     */
    @Override
    ReplicationPolicy replicationPolicy() {
        return ReplicationPolicy.IN_SYNC;
    }

    private static List<Long> processAndCommit(ConsumerStream stream, int count) {
        List<Long> processed = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            processed.add(stream.next().offset());
            stream.commit();
            stream.flush();
        }
        return processed;
    }

    private void produce(String topic, int count) {
        TopicProducerConfig committed = TopicProducerConfig.builder().isolation(Isolation.READ_COMMITTED).build();
        try (TopicProducer producer = fluvio.topicProducer(topic, committed)) {
            for (int i = 0; i < count; i++) {
                producer.send(null, "order-" + i);
            }
            producer.flush();
        }
    }

    @Test
    void aServiceKeepsItsCommitsAcrossTheLossOfItsLeader() {
        String topic = "orders-failover";
        fluvio.admin().createTopic(topic, 1, 3);
        produce(topic, 10);
        ConsumerConfig config = ConsumerConfig.builder().consumerId("service").offsetStrategy(OffsetStrategy.MANUAL)
                .isolation(Isolation.READ_COMMITTED).build();
        List<Long> processed = new ArrayList<>();
        try (PartitionConsumerStream stream = fluvio.partitionConsumer(topic, 0).stream(Offset.beginning(), config)) {
            processed.addAll(processAndCommit(stream, 5));
            cluster.killSpu(fluvio.admin().listPartitions(topic).get(0).spec().leader());
            produce(topic, 10);
            processed.addAll(processAndCommit(stream, 10));
            // Two more processed without a commit, then the service stops.
            processed.add(stream.next().offset());
            processed.add(stream.next().offset());
        }
        List<String> stored = fluvio.admin().listConsumers().stream()
                .map(c -> c.spec().topic() + "-" + c.spec().partition() + "=" + c.status().offset())
                .collect(Collectors.toList());
        assertEquals(List.of(topic + "-0=14"), stored);
        try (PartitionConsumerStream stream = fluvio.partitionConsumer(topic, 0).stream(Offset.beginning(), config)) {
            processed.addAll(processAndCommit(stream, 5));
        }
        // 15 and 16, not committed, come again; nothing else twice, nothing skipped.
        List<Long> expected = LongStream.range(0, 17).boxed().collect(Collectors.toCollection(ArrayList::new));
        expected.addAll(List.of(15L, 16L, 17L, 18L, 19L));
        assertEquals(expected, processed);
    }
}
