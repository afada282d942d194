package com.infinyon.fluvio;

import static com.infinyon.fluvio.AdminTest.eventually;
import static com.infinyon.fluvio.AdminTest.expectCode;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Named consumers against the embedded cluster: offsets stored with the MANUAL and AUTO
 * strategies, streams resuming after them, records returned by next() and in batches
 * (nextBatch(), poll()), multi-partition streams committing per partition, listing and deleting
 * consumers, and the error codes.
 */
class NamedConsumerTest extends ClusterTestBase {
    private void produce(String topic, int count) {
        try (TopicProducer producer = fluvio.topicProducer(topic)) {
            for (int i = 0; i < count; i++) {
                producer.send(null, "v" + i);
            }
            producer.flush();
        }
    }

    /** A new topic of 3 partitions holding 4 records each (values "p<partition>-<n>"). */
    private String fourRecordsInEachOfThreePartitions() {
        String topic = newTopic(3);
        TopicProducerConfig byValue = TopicProducerConfig.builder()
                .partitioner((t, key, value, count) -> value[1] - '0').build();
        try (TopicProducer producer = fluvio.topicProducer(topic, byValue)) {
            for (int partition = 0; partition < 3; partition++) {
                for (int i = 0; i < 4; i++) {
                    producer.send(null, "p" + partition + "-" + i);
                }
            }
            producer.flush();
        }
        return topic;
    }

    private static ConsumerConfig named(String consumerId, OffsetStrategy strategy) {
        return ConsumerConfig.builder().consumerId(consumerId).offsetStrategy(strategy).build();
    }

    /** The stored offsets of {@code consumerId}, as "topic-partition=offset". */
    private List<String> stored(String consumerId) {
        return fluvio.admin().listConsumers().stream()
                .filter(c -> c.name().equals(consumerId))
                .map(c -> c.spec().topic() + "-" + c.spec().partition() + "=" + c.status().offset())
                .collect(Collectors.toList());
    }

    private static List<Long> offsets(ConsumerStream stream, int count) {
        List<Long> offsets = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            offsets.add(stream.next().offset());
        }
        return offsets;
    }

    @Test
    void manualCommitsAreStoredByFlushAndStreamsResumeAfterThem() {
        String topic = newTopic(1);
        produce(topic, 10);
        PartitionConsumer consumer = fluvio.partitionConsumer(topic, 0);
        try (PartitionConsumerStream stream = consumer.stream(Offset.beginning(), named("billing", OffsetStrategy.MANUAL))) {
            assertEquals(List.of(0L, 1L, 2L, 3L), offsets(stream, 4));
            stream.flush();
            assertEquals(List.of(), stored("billing"), "nothing committed yet");
            stream.commit();
            assertEquals(List.of(), stored("billing"), "committed, not flushed");
            stream.flush();
            assertEquals(List.of(topic + "-0=3"), stored("billing"), "the last record returned");
        }
        try (PartitionConsumerStream stream = consumer.stream(Offset.beginning(), named("billing", OffsetStrategy.NONE))) {
            assertEquals(4, stream.next().offset(), "resumes after the stored offset");
        }
        try (PartitionConsumerStream stream = consumer.stream(Offset.absolute(1), named("billing", OffsetStrategy.NONE))) {
            assertEquals(1, stream.next().offset(), "an absolute offset is taken as is");
        }
        try (PartitionConsumerStream stream = consumer.stream(Offset.fromEnd(2), named("other", OffsetStrategy.NONE))) {
            assertEquals(8, stream.next().offset(), "nothing stored: the offset given");
        }
    }

    @Test
    void theAutoStrategyStoresEveryIntervalAndWhenClosed() throws InterruptedException {
        String topic = newTopic(1);
        produce(topic, 10);
        PartitionConsumer consumer = fluvio.partitionConsumer(topic, 0);
        ConsumerConfig slow = ConsumerConfig.builder().consumerId("auto").offsetStrategy(OffsetStrategy.AUTO)
                .autoCommitInterval(Duration.ofHours(1)).build();
        try (PartitionConsumerStream stream = consumer.stream(Offset.beginning(), slow)) {
            offsets(stream, 3);
        }
        // close() returned once stored.
        assertEquals(List.of(topic + "-0=2"), stored("auto"));

        ConsumerConfig quick = ConsumerConfig.builder().consumerId("auto").offsetStrategy(OffsetStrategy.AUTO)
                .autoCommitInterval(Duration.ofMillis(100)).build();
        try (PartitionConsumerStream stream = consumer.stream(Offset.beginning(), quick)) {
            assertEquals(List.of(3L, 4L), offsets(stream, 2));
            // Returned records are counted at least every 100 ms while next() is called.
            Thread.sleep(150);
            assertEquals(List.of(5L), offsets(stream, 1));
            eventually("the interval stores offset 5", () -> stored("auto").equals(List.of(topic + "-0=5")));
        }
    }

    @Test
    void aTopicStreamCommitsEachPartition() {
        String topic = fourRecordsInEachOfThreePartitions();
        TreeMap<Integer, Long> last = new TreeMap<>();
        try (ConsumerStream stream = fluvio.consumer(topic).stream(Offset.beginning(), named("multi", OffsetStrategy.MANUAL))) {
            for (int i = 0; i < 12; i++) {
                Record record = stream.next();
                last.merge(record.partition(), record.offset(), Math::max);
            }
            stream.commit();
            stream.flush();
        }
        List<String> expected = last.entrySet().stream().map(e -> topic + "-" + e.getKey() + "=" + e.getValue())
                .collect(Collectors.toList());
        assertEquals(List.of(topic + "-0=3", topic + "-1=3", topic + "-2=3"), expected);
        assertEquals(expected, stored("multi"));
    }

    @Test
    void recordsOfAReturnedBatchCountAsReturned() {
        String topic = newTopic(1);
        produce(topic, 10);
        PartitionConsumer consumer = fluvio.partitionConsumer(topic, 0);
        long last;
        try (PartitionConsumerStream stream = consumer.stream(Offset.beginning(), named("batches", OffsetStrategy.MANUAL))) {
            assertEquals(0, stream.next().offset());
            stream.commit();
            stream.flush();
            assertEquals(List.of(topic + "-0=0"), stored("batches"), "received with it, not returned: not committed");
            RecordBatch batch = stream.nextBatch();
            assertEquals(1, batch.offset(0), "the batch starts after what next() returned");
            last = batch.offset(batch.size() - 1);
            stream.commit();
            stream.flush();
            assertEquals(List.of(topic + "-0=" + last), stored("batches"), "every record of the batch returned");
            if (last < 9) {
                // What did not arrive with the first batch, by poll().
                List<Long> polled = new ArrayList<>();
                while (last < 9) {
                    RecordBatch more = stream.poll(Duration.ofSeconds(10));
                    assertTrue(more.size() > 0, "records 0-9 were produced");
                    last = more.offset(more.size() - 1);
                    polled.add(last);
                }
                stream.commit();
                stream.flush();
                assertEquals(List.of(topic + "-0=9"), stored("batches"), "polled: " + polled);
            }
        }
        produce(topic, 1);
        try (PartitionConsumerStream stream = consumer.stream(Offset.beginning(), named("batches", OffsetStrategy.NONE))) {
            assertEquals(10, stream.nextBatch().offset(0), "resumes after the last record of the batches");
        }
    }

    @Test
    void anAutoStreamStoresTheLastBatchReturnedWhenClosed() {
        String topic = newTopic(1);
        produce(topic, 5);
        ConsumerConfig auto = ConsumerConfig.builder().consumerId("auto-batches").offsetStrategy(OffsetStrategy.AUTO)
                .autoCommitInterval(Duration.ofHours(1)).build();
        long last;
        try (PartitionConsumerStream stream = fluvio.partitionConsumer(topic, 0).stream(Offset.beginning(), auto)) {
            RecordBatch batch = stream.poll(Duration.ofSeconds(10));
            assertTrue(batch.size() > 0);
            last = batch.offset(batch.size() - 1);
        }
        // close() returned once stored.
        assertEquals(List.of(topic + "-0=" + last), stored("auto-batches"));
    }

    @Test
    void aTopicStreamCommitsTheBatchesOfEachPartition() {
        String topic = fourRecordsInEachOfThreePartitions();
        try (ConsumerStream stream = fluvio.consumer(topic).stream(Offset.beginning(), named("multi-batches", OffsetStrategy.MANUAL))) {
            int read = 0;
            while (read < 12) {
                RecordBatch batch = stream.poll(Duration.ofSeconds(10));
                assertTrue(batch.size() > 0, "12 records were produced; read " + read);
                read += batch.size();
            }
            stream.commit();
            stream.flush();
        }
        assertEquals(List.of(topic + "-0=3", topic + "-1=3", topic + "-2=3"), stored("multi-batches"));
    }

    @Test
    void aFlushDoesNotWaitForABlockedNext() throws Exception {
        String topic = newTopic(1);
        produce(topic, 2);
        try (PartitionConsumerStream stream =
                fluvio.partitionConsumer(topic, 0).stream(Offset.beginning(), named("threads", OffsetStrategy.MANUAL))) {
            assertEquals(List.of(0L, 1L), offsets(stream, 2));
            CompletableFuture<Record> blocked = CompletableFuture.supplyAsync(stream::next);
            Thread.sleep(100);
            stream.commit();
            stream.flush();
            assertEquals(List.of(topic + "-0=1"), stored("threads"));
            produce(topic, 1);
            assertEquals(2, blocked.get(30, TimeUnit.SECONDS).offset());
        }
    }

    @Test
    void consumersAreListedAndDeleted() {
        String topic = newTopic(2);
        produce(topic, 4);
        for (String id : List.of("one", "two")) {
            for (int partition = 0; partition < 2; partition++) {
                try (PartitionConsumerStream stream = fluvio.partitionConsumer(topic, partition)
                        .stream(Offset.beginning(), named(id, OffsetStrategy.MANUAL))) {
                    stream.next();
                    stream.commit();
                    stream.flush();
                }
            }
        }
        FluvioAdmin admin = fluvio.admin();
        List<ConsumerMetadata> listed = admin.listConsumers().stream().filter(c -> c.spec().topic().equals(topic))
                .collect(Collectors.toList());
        assertEquals(4, listed.size());
        ConsumerMetadata first = listed.get(0);
        assertEquals("one", first.name());
        assertEquals(0, first.spec().partition());
        assertTrue(first.status().lastModified().isAfter(Instant.now().minusSeconds(120)));
        assertTrue(first.toJson().contains("\"consumer_id\": \"one\"") && first.toJson().contains("\"modified_time\""),
                first.toJson());
        assertTrue(first.toYaml().contains("topic: " + topic), first.toYaml());

        List<ConsumerMetadata> deleted = admin.deleteConsumer("one", topic, 1);
        assertEquals(1, deleted.size());
        assertEquals(1, deleted.get(0).spec().partition());
        assertEquals(1, admin.deleteConsumer("one").size());
        assertEquals(2, admin.deleteConsumer("two", topic).size());
        assertEquals(List.of(), stored("one"));
        assertEquals(List.of(), stored("two"));
    }

    @Test
    void failuresHaveTheirCodes() {
        String topic = newTopic(1);
        produce(topic, 1);
        FluvioAdmin admin = fluvio.admin();
        expectCode(FluvioException.Code.CONSUMER_NOT_FOUND, () -> admin.deleteConsumer("nobody"));
        expectCode(FluvioException.Code.CONSUMER_NOT_FOUND, () -> admin.deleteConsumer("nobody", topic, 0));
        expectCode(FluvioException.Code.INVALID_CONSUMER_NAME, () -> admin.deleteConsumer(""));
        expectCode(FluvioException.Code.INVALID_CONSUMER_NAME, () -> ConsumerConfig.builder().consumerId(" padded"));
        expectCode(FluvioException.Code.INVALID_CONSUMER_NAME,
                () -> ConsumerConfig.builder().consumerId("x".repeat(ConsumerConfig.MAX_CONSUMER_ID_BYTES + 1)));
        ConsumerConfig.builder().consumerId("x".repeat(ConsumerConfig.MAX_CONSUMER_ID_BYTES));
        PartitionConsumer consumer = fluvio.partitionConsumer(topic, 0);
        ConsumerConfig unnamedManual = ConsumerConfig.builder().offsetStrategy(OffsetStrategy.MANUAL).build();
        expectCode(FluvioException.Code.CONFIG, () -> consumer.stream(Offset.beginning(), unnamedManual));
        try (PartitionConsumerStream unnamed = consumer.stream(Offset.beginning())) {
            unnamed.next();
            expectCode(FluvioException.Code.OFFSET_MANAGEMENT_DISABLED, unnamed::commit);
            expectCode(FluvioException.Code.OFFSET_MANAGEMENT_DISABLED, unnamed::flush);
        }
        try (PartitionConsumerStream none = consumer.stream(Offset.beginning(), named("none", OffsetStrategy.NONE))) {
            none.next();
            expectCode(FluvioException.Code.OFFSET_MANAGEMENT_DISABLED, none::commit);
            expectCode(FluvioException.Code.OFFSET_MANAGEMENT_DISABLED, none::flush);
        }
        PartitionConsumerStream closed = consumer.stream(Offset.beginning(), named("closed", OffsetStrategy.MANUAL));
        closed.close();
        org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class, closed::commit);
        org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class, closed::flush);
    }
}
