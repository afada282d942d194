package com.infinyon.fluvio;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Producing and consuming through a real embedded cluster (2 SPUs, real sockets): every offset
 * kind, every compression, null/empty/binary keys, the {@code send} variants and
 * {@code sendAll}, {@link ProduceOutput} waits and futures (dense per-partition offsets),
 * {@link Record} accessors, one-shot {@code fetch} with {@link ConsumerConfig}, topic-wide
 * streams, the official client's SipHash partition for keys, custom partitioners,
 * {@code next(Duration)} timeouts, {@code close()} from another thread, one producer shared by
 * 8 threads, and {@code flush()}/{@code close()}.
 */
class ProduceConsumeTest extends ClusterTestBase {
    /** Upper bound for anything that should happen promptly. */
    private static final Duration WAIT = Duration.ofSeconds(20);
    /** How long "nothing more arrives" is watched. */
    private static final Duration QUIET = Duration.ofMillis(300);

    @Override
    int spus() {
        return 2;
    }

    // ------------------------------------------------------------------------------------
    // Helpers

    private static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    /** A one-partition topic holding unkeyed records "v0", "v1", ... at offsets 0, 1, .... */
    private String topicWithRecords(int count) {
        String topic = newTopic(1);
        try (TopicProducer producer = fluvio.topicProducer(topic)) {
            for (int i = 0; i < count; i++) {
                producer.send(null, "v" + i);
            }
        }
        return topic;
    }

    /** Reads exactly {@code count} records, failing if one does not arrive within {@link #WAIT}. */
    private static List<Record> read(ConsumerStream stream, int count) {
        List<Record> records = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            Record record = stream.next(WAIT);
            assertNotNull(record, "record " + i + " of " + count + " did not arrive");
            records.add(record);
        }
        return records;
    }

    private static void assertNothingMore(ConsumerStream stream) {
        Record extra = stream.next(QUIET);
        assertNull(extra, () -> "unexpected record " + extra);
    }

    /** Records {@code from}, {@code from + 1}, ... with the values "v{offset}". */
    private static void assertRecords(List<Record> records, long from, int count) {
        assertEquals(count, records.size(), "record count");
        for (int i = 0; i < count; i++) {
            Record record = records.get(i);
            assertEquals(from + i, record.offset(), "offset");
            assertEquals("v" + (from + i), record.valueString(), "value");
            assertEquals(0, record.partition(), "partition");
        }
    }

    private PartitionConsumerStream stream(String topic, Offset offset) {
        return fluvio.partitionConsumer(topic, 0).stream(offset);
    }

    private static void produceAndFlush(TopicProducer producer, String... values) {
        for (String value : values) {
            producer.send(null, value);
        }
        producer.flush();
    }

    // ------------------------------------------------------------------------------------
    // Offsets

    @Test
    void beginningReadsEveryStoredRecord() {
        String topic = topicWithRecords(10);
        try (PartitionConsumerStream stream = stream(topic, Offset.beginning())) {
            assertEquals(topic, stream.topic());
            assertEquals(0, stream.partition());
            assertRecords(read(stream, 10), 0, 10);
            assertNothingMore(stream);
        }
    }

    @Test
    void endReadsOnlyRecordsProducedAfterTheStreamOpened() {
        String topic = topicWithRecords(5);
        try (PartitionConsumerStream stream = stream(topic, Offset.end());
                TopicProducer producer = fluvio.topicProducer(topic)) {
            assertNothingMore(stream);
            produceAndFlush(producer, "v5", "v6", "v7");
            assertRecords(read(stream, 3), 5, 3);
            assertNothingMore(stream);
            produceAndFlush(producer, "v8");
            assertRecords(read(stream, 1), 8, 1);
        }
    }

    @Test
    void absoluteStartsAtThatOffset() {
        String topic = topicWithRecords(10);
        try (PartitionConsumerStream stream = stream(topic, Offset.absolute(4))) {
            assertRecords(read(stream, 6), 4, 6);
            assertNothingMore(stream);
        }
        try (PartitionConsumerStream stream = stream(topic, Offset.absolute(0))) {
            assertRecords(read(stream, 10), 0, 10);
        }
        // The end offset itself: waits for the next record.
        try (PartitionConsumerStream stream = stream(topic, Offset.absolute(10));
                TopicProducer producer = fluvio.topicProducer(topic)) {
            assertNothingMore(stream);
            produceAndFlush(producer, "v10");
            assertRecords(read(stream, 1), 10, 1);
        }
    }

    @Test
    void fromBeginningCountsFromTheFirstRecordAndStopsAtTheEnd() {
        String topic = topicWithRecords(10);
        try (PartitionConsumerStream stream = stream(topic, Offset.fromBeginning(3))) {
            assertRecords(read(stream, 7), 3, 7);
            assertNothingMore(stream);
        }
        try (PartitionConsumerStream stream = stream(topic, Offset.fromBeginning(0))) {
            assertRecords(read(stream, 10), 0, 10);
        }
        // Past the end: clamped to the end, so only new records arrive.
        try (PartitionConsumerStream stream = stream(topic, Offset.fromBeginning(100));
                TopicProducer producer = fluvio.topicProducer(topic)) {
            assertNothingMore(stream);
            produceAndFlush(producer, "v10");
            assertRecords(read(stream, 1), 10, 1);
        }
    }

    @Test
    void fromEndCountsBackFromTheEndAndStopsAtTheBeginning() {
        String topic = topicWithRecords(10);
        try (PartitionConsumerStream stream = stream(topic, Offset.fromEnd(3))) {
            assertRecords(read(stream, 3), 7, 3);
            assertNothingMore(stream);
        }
        try (PartitionConsumerStream stream = stream(topic, Offset.fromEnd(100))) {
            assertRecords(read(stream, 10), 0, 10);
            assertNothingMore(stream);
        }
        // fromEnd(0) is the end.
        try (PartitionConsumerStream stream = stream(topic, Offset.fromEnd(0));
                TopicProducer producer = fluvio.topicProducer(topic)) {
            assertNothingMore(stream);
            produceAndFlush(producer, "v10");
            assertRecords(read(stream, 1), 10, 1);
        }
    }

    // ------------------------------------------------------------------------------------
    // Compression, keys, send variants

    /**
     * Keyed (including empty keys) and unkeyed records, compressible and random values, some
     * larger than a batch, with each codec: on a topic that accepts any codec, and on one that
     * requires this codec (so the server checks the batches really carry it).
     */
    @ParameterizedTest
    @EnumSource(Compression.class)
    void everyCompressionRoundTrips(Compression compression) {
        String anyCodec = newTopic(1);
        String requiresCodec = "c-" + compression.name().toLowerCase(java.util.Locale.ROOT) + "-"
                + Long.toHexString(System.nanoTime());
        fluvio.admin().createTopic(requiresCodec, TopicConfig.builder().compression(compression).build());
        Random random = new Random(compression.ordinal());
        List<KeyValue> records = new ArrayList<>();
        for (int i = 0; i < 400; i++) {
            byte[] key = i % 3 == 0 ? null : i % 3 == 1 ? new byte[0] : utf8("key-" + i);
            byte[] value;
            if (i % 100 == 99) {
                value = new byte[40_000]; // larger than a 16 KiB batch
                random.nextBytes(value);
            } else if (i % 2 == 0) {
                StringBuilder text = new StringBuilder();
                for (int j = 0; j < 20; j++) {
                    text.append("value-").append(i).append(' ');
                }
                value = utf8(text.toString());
            } else {
                value = new byte[1 + random.nextInt(200)];
                random.nextBytes(value);
            }
            records.add(KeyValue.of(key, value));
        }
        for (String topic : Arrays.asList(anyCodec, requiresCodec)) {
            TopicProducerConfig config = TopicProducerConfig.builder()
                    .compression(compression)
                    .linger(Duration.ofMillis(5))
                    .build();
            List<ProduceOutput> outputs;
            try (TopicProducer producer = fluvio.topicProducer(topic, config)) {
                outputs = new ArrayList<>();
                for (KeyValue record : records) {
                    outputs.add(producer.send(record.key(), record.value()));
                }
                producer.flush();
            }
            for (int i = 0; i < outputs.size(); i++) {
                RecordMetadata stored = outputs.get(i).get(WAIT);
                assertEquals(0, stored.partition());
                assertEquals(i, stored.offset(), "offset of record " + i);
            }
            try (PartitionConsumerStream stream = fluvio.partitionConsumer(topic, 0).stream(Offset.beginning())) {
                List<Record> consumed = read(stream, records.size());
                for (int i = 0; i < records.size(); i++) {
                    Record record = consumed.get(i);
                    String what = compression + " record " + i + " of " + topic;
                    assertEquals(i, record.offset(), what);
                    if (records.get(i).key() == null) {
                        assertNull(record.key(), what);
                    } else {
                        assertArrayEquals(records.get(i).key(), record.key(), what);
                    }
                    assertArrayEquals(records.get(i).value(), record.value(), what);
                }
                assertNothingMore(stream);
            }
            List<Record> fetched = fluvio.partitionConsumer(topic, 0).fetch(Offset.absolute(150));
            assertFalse(fetched.isEmpty());
            assertEquals(150, fetched.get(0).offset());
            assertArrayEquals(records.get(150).value(), fetched.get(0).value());
        }
    }

    @Test
    void aProducerCodecOtherThanTheTopicsIsRefusedWithConfig() {
        String topic = "gz-" + Long.toHexString(System.nanoTime());
        fluvio.admin().createTopic(topic, TopicConfig.builder().compression(Compression.GZIP).build());
        TopicProducerConfig lz4 = TopicProducerConfig.builder().compression(Compression.LZ4).build();
        FluvioException refused = assertThrows(FluvioException.class, () -> fluvio.topicProducer(topic, lz4).close());
        assertEquals(FluvioException.Code.CONFIG, refused.code());
        // Without an explicit codec the producer follows the topic.
        try (TopicProducer producer = fluvio.topicProducer(topic)) {
            assertEquals(0, producer.send("k", "follows the topic").get(WAIT).offset());
        }
        assertEquals("follows the topic", fluvio.partitionConsumer(topic, 0).fetch(Offset.beginning()).get(0).valueString());
    }

    @Test
    void nullKeysStayNullAndEmptyKeysStayEmpty() {
        String topic = newTopic(1);
        byte[] binary = new byte[256];
        for (int i = 0; i < binary.length; i++) {
            binary[i] = (byte) i;
        }
        try (TopicProducer producer = fluvio.topicProducer(topic)) {
            producer.send((byte[]) null, utf8("no key"));
            producer.send(new byte[0], utf8("empty key"));
            producer.send((String) null, "no key (String)");
            producer.send("", "empty key (String)");
            producer.send(binary, binary);
            producer.send("ключ ✓", "значение 😀");
            producer.send("k", "");
            producer.send(new byte[0], new byte[0]);
        }
        try (PartitionConsumerStream stream = stream(topic, Offset.beginning())) {
            List<Record> records = read(stream, 8);
            assertNull(records.get(0).key());
            assertNull(records.get(0).keyString());
            assertEquals("no key", records.get(0).valueString());

            assertNotNull(records.get(1).key());
            assertEquals(0, records.get(1).key().length);
            assertEquals("", records.get(1).keyString());

            assertNull(records.get(2).key());
            assertNull(records.get(2).keyString());
            assertEquals("no key (String)", records.get(2).valueString());

            assertArrayEquals(new byte[0], records.get(3).key());
            assertEquals("", records.get(3).keyString());

            assertArrayEquals(binary, records.get(4).key());
            assertArrayEquals(binary, records.get(4).value());

            assertEquals("ключ ✓", records.get(5).keyString());
            assertArrayEquals(utf8("ключ ✓"), records.get(5).key());
            assertEquals("значение 😀", records.get(5).valueString());

            assertEquals("k", records.get(6).keyString());
            assertEquals(0, records.get(6).value().length);
            assertEquals("", records.get(6).valueString());

            assertArrayEquals(new byte[0], records.get(7).key());
            assertArrayEquals(new byte[0], records.get(7).value());
            assertNothingMore(stream);
        }
    }

    /**
     * {@code send} copies a record of up to 1 KiB (key and value together) on the native stack
     * and a larger one through a reused buffer: records on both sides of that line, with and
     * without keys, each filled with its own pattern, arrive byte for byte.
     */
    @Test
    void recordsOnEitherSideOfTheNativeCopyThresholdArriveIntact() {
        String topic = newTopic(1);
        int[][] keyAndValueLengths = {
            {-1, 1024}, {-1, 1025}, {0, 1024}, {0, 1025}, {24, 1000}, {24, 1001}, {1023, 1}, {1024, 1},
            {-1, 0}, {3, 70_000}, {-1, 100}, {2000, 2000}, {10, 10},
        };
        List<byte[]> keys = new ArrayList<>();
        List<byte[]> values = new ArrayList<>();
        try (TopicProducer producer = fluvio.topicProducer(topic)) {
            for (int i = 0; i < keyAndValueLengths.length; i++) {
                byte[] key = keyAndValueLengths[i][0] < 0 ? null : pattern(keyAndValueLengths[i][0], 31 * i + 1);
                byte[] value = pattern(keyAndValueLengths[i][1], 31 * i + 2);
                keys.add(key);
                values.add(value);
                producer.send(key, value);
            }
        }
        try (PartitionConsumerStream stream = stream(topic, Offset.beginning())) {
            List<Record> records = read(stream, keyAndValueLengths.length);
            for (int i = 0; i < records.size(); i++) {
                String what = "record " + i + " (key " + keyAndValueLengths[i][0] + " B, value "
                        + keyAndValueLengths[i][1] + " B)";
                assertArrayEquals(keys.get(i), records.get(i).key(), what);
                assertArrayEquals(values.get(i), records.get(i).value(), what);
            }
            assertNothingMore(stream);
        }
    }

    /** {@code length} bytes that differ from position to position and from seed to seed. */
    private static byte[] pattern(int length, int seed) {
        byte[] bytes = new byte[length];
        for (int i = 0; i < length; i++) {
            bytes[i] = (byte) (seed * 7 + i * 13 + (i >>> 8));
        }
        return bytes;
    }

    @Test
    void sendAllKeepsOrderAndReturnsOneOutputPerRecord() {
        String topic = newTopic(1);
        List<KeyValue> batch = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            switch (i % 3) {
                case 0:
                    batch.add(KeyValue.of("k" + i, "v" + i));
                    break;
                case 1:
                    batch.add(KeyValue.of((byte[]) null, utf8("v" + i)));
                    break;
                default:
                    batch.add(KeyValue.of(utf8("k" + i), utf8("v" + i)));
            }
        }
        List<ProduceOutput> outputs;
        try (TopicProducer producer = fluvio.topicProducer(topic)) {
            outputs = producer.sendAll(batch);
            assertThrows(UnsupportedOperationException.class, () -> outputs.add(null));
            producer.flush();
        }
        assertEquals(batch.size(), outputs.size());
        for (int i = 0; i < outputs.size(); i++) {
            assertEquals(i, outputs.get(i).get().offset());
        }
        try (PartitionConsumerStream stream = stream(topic, Offset.beginning())) {
            List<Record> records = read(stream, batch.size());
            for (int i = 0; i < records.size(); i++) {
                assertEquals("v" + i, records.get(i).valueString());
                assertEquals(i % 3 == 1 ? null : "k" + i, records.get(i).keyString());
            }
            assertNothingMore(stream);
        }
        try (TopicProducer producer = fluvio.topicProducer(topic)) {
            assertTrue(producer.sendAll(new ArrayList<>()).isEmpty());
        }
    }

    /**
     * 10,000 records (native crossings of at most 4,096 records, many batches of the default
     * 16 KiB), among them every 1,000th of 3 KiB and a final one of 2 MiB, which cross alone,
     * and a custom partitioner, asked once per record: every output names the partition and
     * offset its record was stored at, in send order.
     */
    @Test
    void sendAllSpansSlicesAndBatchesAndFollowsTheCustomPartitioner() {
        String topic = newTopic(2);
        AtomicInteger partitionerCalls = new AtomicInteger();
        Partitioner byValue = (t, key, value, count) -> {
            partitionerCalls.incrementAndGet();
            return value[0] == 'o' ? 1 : 0;
        };
        TopicProducerConfig config = TopicProducerConfig.builder().partitioner(byValue)
                .batchSize(16_384).maxRequestSize(4 << 20).build();
        List<KeyValue> batch = new ArrayList<>();
        for (int i = 0; i < 10_000; i++) {
            String value = (i % 2 == 0 ? "even-" : "odd-") + i;
            if (i % 1000 == 999) {
                value += "-" + new String(new char[3 << 10]).replace('\0', 'x');
            }
            batch.add(i % 5 == 0 ? KeyValue.of((byte[]) null, utf8(value)) : KeyValue.of("k" + i, value));
        }
        byte[] large = new byte[2 << 20];
        Arrays.fill(large, (byte) 'e');
        batch.add(KeyValue.of(utf8("large"), large));
        List<ProduceOutput> outputs;
        try (TopicProducer producer = fluvio.topicProducer(topic, config)) {
            outputs = producer.sendAll(batch);
            producer.flush();
        }
        assertEquals(batch.size(), outputs.size());
        assertEquals(batch.size(), partitionerCalls.get(), "the partitioner chooses once per record");
        Set<Object> batchFutures = new HashSet<>();
        long[] next = new long[2];
        for (int i = 0; i < outputs.size(); i++) {
            RecordMetadata stored = outputs.get(i).get(WAIT);
            int partition = i == 10_000 || i % 2 == 0 ? 0 : 1;
            assertEquals(partition, stored.partition(), "record " + i);
            assertEquals(next[partition]++, stored.offset(), "record " + i + ": dense offsets in send order");
            batchFutures.add(outputs.get(i).batch);
        }
        assertTrue(batchFutures.size() > 10, "records of a batch share its future, batches do not: " + batchFutures.size());
        for (int partition = 0; partition < 2; partition++) {
            List<Record> records = new ArrayList<>();
            try (PartitionConsumerStream stream = fluvio.partitionConsumer(topic, partition).stream(Offset.beginning())) {
                records.addAll(read(stream, (int) next[partition]));
                assertNothingMore(stream);
            }
            for (int j = 0; j < records.size(); j++) {
                int i = j == 5_000 ? 10_000 : 2 * j + partition;
                KeyValue sent = batch.get(i);
                assertArrayEquals(sent.value(), records.get(j).value(), "record " + i);
                assertArrayEquals(sent.key(), records.get(j).key(), "record " + i);
            }
        }
    }

    /** A null among the records is refused before any of them is sent. */
    @Test
    void sendAllSendsNothingWhenARecordIsNull() {
        String topic = newTopic(1);
        try (TopicProducer producer = fluvio.topicProducer(topic)) {
            List<KeyValue> records = Arrays.asList(KeyValue.of("k", "first"), null);
            assertThrows(NullPointerException.class, () -> producer.sendAll(records));
            producer.send("k", "after").get(WAIT);
        }
        List<Record> stored = fluvio.partitionConsumer(topic, 0).fetch(Offset.beginning());
        assertEquals(1, stored.size());
        assertEquals("after", stored.get(0).valueString());
    }

    // ------------------------------------------------------------------------------------
    // ProduceOutput

    /**
     * 300 keyed records over 3 partitions, waited for three ways: every partition's offsets
     * are 0..n-1 with no gap or repeat, and each (partition, offset) holds the record the
     * output promised.
     */
    @Test
    void produceOutputsReportDensePartitionOffsets() throws Exception {
        String topic = newTopic(3);
        int count = 300;
        List<ProduceOutput> outputs = new ArrayList<>();
        try (TopicProducer producer = fluvio.topicProducer(topic)) {
            for (int i = 0; i < count; i++) {
                outputs.add(producer.send("key-" + (i % 17), "value-" + i));
            }
            producer.flush();
        }
        Map<Integer, Map<Long, String>> stored = new HashMap<>();
        for (int i = 0; i < count; i++) {
            ProduceOutput output = outputs.get(i);
            RecordMetadata metadata;
            switch (i % 3) {
                case 0:
                    metadata = output.get();
                    break;
                case 1:
                    metadata = output.get(WAIT);
                    break;
                default:
                    metadata = output.toCompletableFuture().get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
            }
            assertTrue(output.isDone());
            assertTrue(metadata.partition() >= 0 && metadata.partition() < 3, metadata::toString);
            String previous = stored.computeIfAbsent(metadata.partition(), p -> new HashMap<>())
                    .put(metadata.offset(), "value-" + i);
            assertNull(previous, () -> "two records at " + metadata);
        }
        int total = 0;
        for (Map.Entry<Integer, Map<Long, String>> partition : stored.entrySet()) {
            int size = partition.getValue().size();
            total += size;
            for (long offset = 0; offset < size; offset++) {
                assertTrue(partition.getValue().containsKey(offset), "partition " + partition.getKey() + " lacks offset " + offset);
            }
            try (PartitionConsumerStream stream = fluvio.partitionConsumer(topic, partition.getKey()).stream(Offset.beginning())) {
                for (Record record : read(stream, size)) {
                    assertEquals(partition.getKey().intValue(), record.partition());
                    assertEquals(partition.getValue().get(record.offset()), record.valueString(), record::toString);
                }
                assertNothingMore(stream);
            }
        }
        assertEquals(count, total);
        assertTrue(stored.size() > 1, "17 keys should spread over more than one of 3 partitions");
    }

    @Test
    void getWithTimeoutFailsWithTimeoutWhileTheBatchLingers() throws Exception {
        String topic = newTopic(1);
        TopicProducerConfig lingering = TopicProducerConfig.builder().linger(Duration.ofMinutes(1)).build();
        try (TopicProducer producer = fluvio.topicProducer(topic, lingering)) {
            ProduceOutput output = producer.send("k", "lingering");
            assertFalse(output.isDone());
            long started = System.nanoTime();
            FluvioException timeout = assertThrows(FluvioException.class, () -> output.get(Duration.ofMillis(150)));
            assertEquals(FluvioException.Code.TIMEOUT, timeout.code());
            assertTrue(System.nanoTime() - started >= TimeUnit.MILLISECONDS.toNanos(140), "waited the timeout");
            CompletableFuture<RecordMetadata> future = output.toCompletableFuture();
            CompletableFuture<String> completingThread = future.thenApplyAsync(m -> Thread.currentThread().getName(),
                    Runnable::run);
            assertFalse(future.isDone());

            producer.flush();
            assertTrue(output.isDone(), "flush returns once acknowledged");
            RecordMetadata stored = output.get(Duration.ZERO);
            assertEquals(0, stored.partition());
            assertEquals(0, stored.offset());
            assertEquals(stored, future.get(WAIT.toMillis(), TimeUnit.MILLISECONDS));
            String thread = completingThread.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
            assertFalse(thread.startsWith("fluvio-io"), "dependent stages must not run on I/O threads: " + thread);
        }
    }

    // ------------------------------------------------------------------------------------
    // Record accessors

    @Test
    void recordAccessorsReportWhatWasSentAndWhen() {
        String topic = newTopic(2);
        long before = System.currentTimeMillis();
        RecordMetadata first;
        RecordMetadata second;
        try (TopicProducer producer = fluvio.topicProducer(topic)) {
            first = producer.send(utf8("key-bytes"), utf8("value-bytes")).get(WAIT);
            second = producer.send("key-text", "value-text").get(WAIT);
        }
        long after = System.currentTimeMillis();
        Map<RecordMetadata, String[]> expected = new LinkedHashMap<>();
        expected.put(first, new String[] {"key-bytes", "value-bytes"});
        expected.put(second, new String[] {"key-text", "value-text"});
        for (Map.Entry<RecordMetadata, String[]> entry : expected.entrySet()) {
            RecordMetadata where = entry.getKey();
            List<Record> records = fluvio.partitionConsumer(topic, where.partition()).fetch(Offset.absolute(where.offset()));
            assertFalse(records.isEmpty(), where::toString);
            Record record = records.get(0);
            assertEquals(where.partition(), record.partition());
            assertEquals(where.offset(), record.offset());
            assertEquals(entry.getValue()[0], record.keyString());
            assertEquals(entry.getValue()[1], record.valueString());
            assertArrayEquals(utf8(entry.getValue()[0]), record.key());
            assertArrayEquals(utf8(entry.getValue()[1]), record.value());
            assertTrue(record.timestamp() >= before && record.timestamp() <= after,
                    "timestamp " + record.timestamp() + " not within [" + before + ", " + after + "]");
            // Accessors are stable across calls; changing a returned copy changes nothing stored.
            assertArrayEquals(record.value(), record.value());
            assertEquals(record.valueString(), record.valueString());
        }
    }

    // ------------------------------------------------------------------------------------
    // fetch and ConsumerConfig

    /** 5 batches of 10 records (values "v0".."v49"). */
    private String topicWithFiveBatches() {
        String topic = newTopic(1);
        TopicProducerConfig lingering = TopicProducerConfig.builder().linger(Duration.ofMinutes(1)).build();
        try (TopicProducer producer = fluvio.topicProducer(topic, lingering)) {
            for (int batch = 0; batch < 5; batch++) {
                for (int i = 0; i < 10; i++) {
                    producer.send(null, "v" + (batch * 10 + i));
                }
                producer.flush();
            }
        }
        return topic;
    }

    @Test
    void fetchReturnsRecordsFromTheOffsetUpToMaxBytes() {
        String topic = topicWithFiveBatches();
        PartitionConsumer consumer = fluvio.partitionConsumer(topic, 0);
        assertEquals(topic, consumer.topic());
        assertEquals(0, consumer.partition());

        List<Record> all = consumer.fetch(Offset.beginning());
        assertRecords(all, 0, 50);
        assertThrows(UnsupportedOperationException.class, () -> all.remove(0));
        assertRecords(consumer.fetch(Offset.absolute(25)), 25, 25);
        assertRecords(consumer.fetch(Offset.fromEnd(5)), 45, 5);
        assertRecords(consumer.fetch(Offset.fromBeginning(12)), 12, 38);

        // max bytes 1: exactly one whole batch (the one holding the offset), never nothing.
        ConsumerConfig tiny = ConsumerConfig.builder().maxBytes(1).build();
        assertEquals(1, tiny.maxBytes());
        assertRecords(consumer.fetch(Offset.beginning(), tiny), 0, 10);
        assertRecords(consumer.fetch(Offset.absolute(25), tiny), 25, 5);
        assertRecords(consumer.fetch(Offset.absolute(49), tiny), 49, 1);

        // At the end: empty, not an error, whatever the isolation.
        assertTrue(consumer.fetch(Offset.end()).isEmpty());
        assertTrue(consumer.fetch(Offset.absolute(50)).isEmpty());
        assertTrue(consumer.fetch(Offset.fromBeginning(1000)).isEmpty());
        ConsumerConfig uncommitted = ConsumerConfig.builder().isolation(Isolation.READ_UNCOMMITTED).build();
        assertTrue(consumer.fetch(Offset.end(), uncommitted).isEmpty());

        // Both isolations see every record (replication factor 1: committed once stored).
        ConsumerConfig committed = ConsumerConfig.builder().isolation(Isolation.READ_COMMITTED).build();
        assertEquals(Isolation.READ_UNCOMMITTED, ConsumerConfig.builder().build().isolation(), "as the official client");
        assertRecords(consumer.fetch(Offset.beginning(), committed), 0, 50);
        assertRecords(consumer.fetch(Offset.beginning(), uncommitted), 0, 50);
        assertRecords(consumer.fetch(Offset.absolute(30),
                ConsumerConfig.builder().isolation(Isolation.READ_UNCOMMITTED).maxBytes(1).build()), 30, 10);
    }

    @Test
    void streamsHonourConsumerConfig() {
        String topic = topicWithFiveBatches();
        PartitionConsumer consumer = fluvio.partitionConsumer(topic, 0);
        ConsumerConfig[] configs = {
            ConsumerConfig.builder().maxBytes(1).build(),
            ConsumerConfig.builder().isolation(Isolation.READ_UNCOMMITTED).build(),
            ConsumerConfig.builder().isolation(Isolation.READ_COMMITTED).maxBytes(64).build(),
        };
        for (ConsumerConfig config : configs) {
            try (PartitionConsumerStream stream = consumer.stream(Offset.beginning(), config);
                    ConsumerStream all = fluvio.consumer(topic).stream(Offset.absolute(20), config)) {
                assertRecords(read(stream, 50), 0, 50);
                assertRecords(read(all, 30), 20, 30);
                assertNothingMore(stream);
            }
        }
        // A stream reading uncommitted records still sees new records as they arrive.
        try (PartitionConsumerStream stream = consumer.stream(Offset.end(), configs[1]);
                TopicProducer producer = fluvio.topicProducer(topic)) {
            produceAndFlush(producer, "v50", "v51");
            assertRecords(read(stream, 2), 50, 2);
        }
    }

    /** A value of about 1 KiB numbered {@code n}, which compression barely shrinks. */
    private static byte[] bulky(int n) {
        byte[] value = new byte[1100];
        new Random(n).nextBytes(value);
        byte[] tag = utf8(String.format("%07d-", n));
        System.arraycopy(tag, 0, value, 0, tag.length);
        return value;
    }

    private static void assertBulky(List<Record> records, long from, int count, String what) {
        assertEquals(count, records.size(), what + ": record count");
        for (int i = 0; i < count; i++) {
            Record record = records.get(i);
            assertEquals(from + i, record.offset(), what + ": offset");
            assertArrayEquals(bulky((int) (from + i)), record.value(), what + ": value at " + (from + i));
        }
    }

    /**
     * A Fluvio SPU cuts what it sends at the fetch's {@code maxBytes}, inside a batch if that is
     * where it falls ({@code LocalCluster} too). Batches of ~3.3 MB, as a producer with a 4 MiB
     * batch size makes them, are read whole by a default stream (1 MiB), by 256-byte streams
     * and by 256-byte fetches: every record once, in order. (Against a real cluster the
     * official CLI printed 9,523 of 30,000 records there, and streams of this client stalled
     * before they fetched such batches whole.)
     */
    @Test
    void batchesLargerThanMaxBytesAreReadWhole() {
        String topic = newTopic(1);
        int perBatch = 3000;
        TopicProducerConfig big = TopicProducerConfig.builder().batchSize(4 * 1024 * 1024)
                .maxRequestSize(4 * 1024 * 1024).linger(Duration.ofMinutes(10)).build();
        try (TopicProducer producer = fluvio.topicProducer(topic, big)) {
            for (int n = 0; n < 2 * perBatch; n++) {
                producer.send(null, bulky(n));
                if (n % perBatch == perBatch - 1) {
                    producer.flush();
                }
            }
        }
        int total = 2 * perBatch;
        PartitionConsumer consumer = fluvio.partitionConsumer(topic, 0);
        ConsumerConfig tiny = ConsumerConfig.builder().maxBytes(256).build();
        for (ConsumerConfig config : new ConsumerConfig[] {ConsumerConfig.defaults(), tiny}) {
            String what = "maxBytes " + config.maxBytes();
            try (PartitionConsumerStream stream = consumer.stream(Offset.beginning(), config);
                    PartitionConsumerStream inside = consumer.stream(Offset.absolute(1234), config)) {
                assertBulky(read(stream, total), 0, total, what);
                assertBulky(read(inside, total - 1234), 1234, total - 1234, what + " from inside a batch");
                assertNothingMore(stream);
            }
        }
        // Fetches: the first batch whole when it is larger than maxBytes.
        assertBulky(consumer.fetch(Offset.beginning()), 0, perBatch, "default fetch");
        assertBulky(consumer.fetch(Offset.absolute(1234), tiny), 1234, perBatch - 1234, "256-byte fetch");
        List<Record> fetched = new ArrayList<>();
        while (fetched.size() < total) {
            List<Record> records = consumer.fetch(Offset.absolute(fetched.size()), tiny);
            assertFalse(records.isEmpty(), "a 256-byte fetch at " + fetched.size() + " brings records");
            fetched.addAll(records);
        }
        assertBulky(fetched, 0, total, "256-byte fetches");
    }

    // ------------------------------------------------------------------------------------
    // Topic streams

    @Test
    void topicStreamReadsEveryPartitionOnceEachInOrder() {
        String topic = newTopic(4);
        int count = 1000;
        Map<String, String> expected = new HashMap<>();
        try (TopicProducer producer = fluvio.topicProducer(topic)) {
            List<ProduceOutput> outputs = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                outputs.add(producer.send(i % 5 == 0 ? null : "k" + (i % 50), "v" + i));
            }
            producer.flush();
            for (int i = 0; i < count; i++) {
                RecordMetadata metadata = outputs.get(i).get();
                expected.put(metadata.partition() + "/" + metadata.offset(), "v" + i);
            }
        }
        assertEquals(count, expected.size());
        try (ConsumerStream stream = fluvio.consumer(topic).stream(Offset.beginning());
                ConsumerStream fromEnd = fluvio.consumer(topic).stream(Offset.end())) {
            Set<String> seen = new HashSet<>();
            long[] next = new long[4];
            for (Record record : read(stream, count)) {
                String where = record.partition() + "/" + record.offset();
                assertTrue(seen.add(where), "twice: " + where);
                assertEquals(next[record.partition()], record.offset(), "partition " + record.partition() + " in order");
                next[record.partition()]++;
                assertEquals(expected.get(where), record.valueString(), where);
            }
            assertEquals(expected.keySet(), seen);
            for (long partitionCount : next) {
                assertTrue(partitionCount > 0, "every partition got records: " + Arrays.toString(next));
            }
            assertNothingMore(stream);
            assertNothingMore(fromEnd);

            // Records produced now reach both streams, wherever they are stored.
            Map<String, String> later = new HashMap<>();
            try (TopicProducer producer = fluvio.topicProducer(topic)) {
                for (int i = 0; i < 40; i++) {
                    RecordMetadata metadata = producer.send(null, "late" + i).get(WAIT);
                    later.put(metadata.partition() + "/" + metadata.offset(), "late" + i);
                }
            }
            for (ConsumerStream reader : Arrays.asList(stream, fromEnd)) {
                Map<String, String> got = new HashMap<>();
                for (Record record : read(reader, 40)) {
                    got.put(record.partition() + "/" + record.offset(), record.valueString());
                }
                assertEquals(later, got);
                assertNothingMore(reader);
            }
        }
    }

    // ------------------------------------------------------------------------------------
    // Partitioning

    /** Keys and their partitions for 2, 3, 5 and 7 partitions, as the official client sends them. */
    private static final int[] PARTITION_COUNTS = {2, 3, 5, 7};

    private static Map<String, int[]> officialPartitions() {
        Map<String, int[]> vectors = new LinkedHashMap<>();
        vectors.put("a", new int[] {1, 1, 2, 2});
        vectors.put("key1", new int[] {1, 1, 0, 6});
        vectors.put("hello", new int[] {0, 2, 4, 2});
        vectors.put("", new int[] {1, 2, 4, 3});
        vectors.put("user-42", new int[] {1, 0, 4, 6});
        return vectors;
    }

    @Test
    void keysGoToTheSamePartitionAsWithTheOfficialClient() {
        Map<String, int[]> vectors = officialPartitions();
        for (int c = 0; c < PARTITION_COUNTS.length; c++) {
            int partitions = PARTITION_COUNTS[c];
            String topic = newTopic(partitions);
            Map<String, ProduceOutput> outputs = new LinkedHashMap<>();
            try (TopicProducer producer = fluvio.topicProducer(topic)) {
                for (String key : vectors.keySet()) {
                    // Both send variants hash the same bytes.
                    outputs.put(key, producer.send(utf8(key), utf8("bytes:" + key)));
                    outputs.put(key + "#text", producer.send(key, "text:" + key));
                }
            }
            for (Map.Entry<String, int[]> vector : vectors.entrySet()) {
                String key = vector.getKey();
                int want = vector.getValue()[c];
                String what = "key '" + key + "' over " + partitions + " partitions";
                assertEquals(want, outputs.get(key).get(WAIT).partition(), what);
                assertEquals(want, outputs.get(key + "#text").get(WAIT).partition(), what);
                List<String> stored = new ArrayList<>();
                for (Record record : fluvio.partitionConsumer(topic, want).fetch(Offset.beginning())) {
                    assertNotNull(record.key(), "keys are never lost, empty ones included");
                    if (record.keyString().equals(key)) {
                        stored.add(record.valueString());
                    }
                }
                assertEquals(Arrays.asList("bytes:" + key, "text:" + key), stored, what);
            }
        }
    }

    @Test
    void aCustomPartitionerChoosesThePartition() {
        String topic = newTopic(3);
        AtomicInteger seenCount = new AtomicInteger(-1);
        AtomicReference<String> seenTopic = new AtomicReference<>();
        List<byte[]> seenKeys = new ArrayList<>();
        Partitioner byValue = (t, key, value, partitionCount) -> {
            seenTopic.set(t);
            seenCount.set(partitionCount);
            synchronized (seenKeys) {
                seenKeys.add(key);
            }
            return Integer.parseInt(new String(value, StandardCharsets.UTF_8)) % partitionCount;
        };
        TopicProducerConfig config = TopicProducerConfig.builder().partitioner(byValue).build();
        assertEquals(byValue, config.partitioner());
        List<ProduceOutput> outputs = new ArrayList<>();
        try (TopicProducer producer = fluvio.topicProducer(topic, config)) {
            for (int i = 0; i < 30; i++) {
                // The same key everywhere: the default partitioner would put them all together.
                outputs.add(producer.send(i % 2 == 0 ? null : "same-key", String.valueOf(i)));
            }
        }
        assertEquals(3, seenCount.get());
        assertEquals(topic, seenTopic.get());
        assertEquals(30, seenKeys.size());
        assertNull(seenKeys.get(0));
        assertArrayEquals(utf8("same-key"), seenKeys.get(1));
        for (int i = 0; i < 30; i++) {
            assertEquals(i % 3, outputs.get(i).get(WAIT).partition(), "record " + i);
        }
        for (int partition = 0; partition < 3; partition++) {
            List<Record> records = fluvio.partitionConsumer(topic, partition).fetch(Offset.beginning());
            assertEquals(10, records.size());
            for (int j = 0; j < records.size(); j++) {
                assertEquals(String.valueOf(partition + 3 * j), records.get(j).valueString(), "in send order");
            }
        }
        // A partition outside the topic is refused before anything is queued.
        TopicProducerConfig outOfRange = TopicProducerConfig.builder().partitioner((t, k, v, n) -> n).build();
        try (TopicProducer producer = fluvio.topicProducer(topic, outOfRange)) {
            assertThrows(IllegalArgumentException.class, () -> producer.send("k", "v"));
        }
        for (int partition = 0; partition < 3; partition++) {
            assertEquals(10, fluvio.partitionConsumer(topic, partition).fetch(Offset.beginning()).size());
        }
    }

    // ------------------------------------------------------------------------------------
    // Waiting and closing

    @Test
    void nextWithTimeoutReturnsNullAfterAboutThatLong() {
        String topic = newTopic(1);
        try (PartitionConsumerStream stream = stream(topic, Offset.beginning());
                ConsumerStream all = fluvio.consumer(topic).stream(Offset.beginning())) {
            for (ConsumerStream reader : Arrays.asList(stream, all)) {
                for (long millis : new long[] {100, 600}) {
                    long started = System.nanoTime();
                    assertNull(reader.next(Duration.ofMillis(millis)));
                    long waited = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
                    assertTrue(waited >= millis - 1, "returned after " + waited + " ms, before the " + millis + " ms timeout");
                    assertTrue(waited < millis + 2000, "returned after " + waited + " ms for a " + millis + " ms timeout");
                }
                long started = System.nanoTime();
                assertNull(reader.next(Duration.ZERO));
                assertTrue(System.nanoTime() - started < TimeUnit.SECONDS.toNanos(1), "zero timeout does not wait");
                assertFalse(reader.isEnded());
            }
            // Timeouts lose nothing: the stream goes on.
            try (TopicProducer producer = fluvio.topicProducer(topic)) {
                produceAndFlush(producer, "v0");
            }
            assertRecords(read(stream, 1), 0, 1);
            assertRecords(read(all, 1), 0, 1);
        }
    }

    /** Closes {@code stream} from this thread while another thread is blocked in {@code read}. */
    private static void assertCloseWakesBlockedReader(ConsumerStream stream, Function<ConsumerStream, Record> read)
            throws Exception {
        CompletableFuture<Throwable> outcome = new CompletableFuture<>();
        Thread reader = new Thread(() -> {
            try {
                Record record = read.apply(stream);
                outcome.complete(new AssertionError("returned " + record));
            } catch (Throwable thrown) {
                outcome.complete(thrown);
            }
        }, "blocked-reader");
        reader.start();
        Thread.sleep(400);
        assertFalse(outcome.isDone(), "the reader is blocked: nothing to read");
        long started = System.nanoTime();
        stream.close();
        Throwable thrown = outcome.get(10, TimeUnit.SECONDS);
        long wokenAfter = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
        reader.join(10_000);
        assertTrue(thrown instanceof FluvioException, () -> "expected FluvioException, got " + thrown);
        assertEquals(FluvioException.Code.CLOSED, ((FluvioException) thrown).code());
        assertTrue(wokenAfter < 2000, "woken after " + wokenAfter + " ms");
        assertTrue(stream.isClosed());
        // A closed stream: every call is refused (ConsumerStream / NativeHandle contract).
        assertThrows(IllegalStateException.class, stream::hasNext);
        assertThrows(IllegalStateException.class, stream::next);
        assertThrows(IllegalStateException.class, () -> stream.next(Duration.ofMillis(10)));
        stream.close(); // idempotent
    }

    @Test
    void closeFromAnotherThreadWakesABlockedNext() throws Exception {
        String topic = newTopic(2);
        assertCloseWakesBlockedReader(fluvio.partitionConsumer(topic, 1).stream(Offset.beginning()), ConsumerStream::next);
        assertCloseWakesBlockedReader(fluvio.consumer(topic).stream(Offset.end()), ConsumerStream::next);
        assertCloseWakesBlockedReader(fluvio.partitionConsumer(topic, 0).stream(Offset.end()),
                s -> s.next(Duration.ofMinutes(5)));
        assertCloseWakesBlockedReader(fluvio.partitionConsumer(topic, 0).stream(Offset.end()),
                s -> s.hasNext() ? s.next() : null);
    }

    @Test
    void aClosedStreamRefusesCallsEvenWithRecordsBuffered() {
        String topic = topicWithRecords(5);
        PartitionConsumerStream stream = stream(topic, Offset.beginning());
        assertEquals(0, stream.next().offset());
        // Wait until the rest has arrived, so it sits in the Java-side buffer.
        assertTrue(stream.hasNext());
        stream.close();
        assertThrows(IllegalStateException.class, stream::hasNext);
        assertThrows(IllegalStateException.class, stream::next);
        assertThrows(IllegalStateException.class, () -> stream.next(Duration.ZERO));
    }

    // ------------------------------------------------------------------------------------
    // Concurrency, flush, close

    /**
     * 8 threads share one producer, 12,500 records each ("thread:seq"; even threads keyed by
     * thread, odd ones keyless and so spread round robin): every record is stored exactly
     * once, and each thread's records are in order within each partition.
     */
    @Test
    void oneProducerSharedByEightThreads() throws Exception {
        int threads = 8;
        int perThread = 12_500;
        int partitions = 3;
        String topic = newTopic(partitions);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        ProduceOutput[][] outputs = new ProduceOutput[threads][];
        try (TopicProducer producer = fluvio.topicProducer(topic)) {
            List<Future<ProduceOutput[]>> sending = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int thread = t;
                sending.add(pool.submit(() -> {
                    String key = thread % 2 == 0 ? "thread-" + thread : null;
                    ProduceOutput[] sent = new ProduceOutput[perThread];
                    for (int seq = 0; seq < perThread; seq++) {
                        sent[seq] = producer.send(key, thread + ":" + seq);
                    }
                    return sent;
                }));
            }
            for (int t = 0; t < threads; t++) {
                outputs[t] = sending.get(t).get(60, TimeUnit.SECONDS);
            }
            producer.flush();
        } finally {
            pool.shutdown();
            assertTrue(pool.awaitTermination(30, TimeUnit.SECONDS));
        }
        // Where each record was stored, as read back: (partition, offset) -> "thread:seq".
        List<Map<Long, String>> stored = new ArrayList<>();
        for (int p = 0; p < partitions; p++) {
            stored.add(new HashMap<>());
        }
        boolean[][] seen = new boolean[threads][perThread];
        int[][] lastSeq = new int[partitions][threads];
        for (int[] row : lastSeq) {
            Arrays.fill(row, -1);
        }
        int total = threads * perThread;
        try (ConsumerStream stream = fluvio.consumer(topic).stream(Offset.beginning())) {
            for (int i = 0; i < total; i++) {
                Record record = stream.next(WAIT);
                assertNotNull(record, "only " + i + " of " + total + " records arrived");
                String value = record.valueString();
                int colon = value.indexOf(':');
                int thread = Integer.parseInt(value.substring(0, colon));
                int seq = Integer.parseInt(value.substring(colon + 1));
                if (seen[thread][seq]) {
                    fail("record " + value + " consumed twice");
                }
                seen[thread][seq] = true;
                if (seq <= lastSeq[record.partition()][thread]) {
                    fail("thread " + thread + "'s records out of order in partition " + record.partition() + ": " + seq
                            + " after " + lastSeq[record.partition()][thread]);
                }
                lastSeq[record.partition()][thread] = seq;
                stored.get(record.partition()).put(record.offset(), value);
            }
            assertNothingMore(stream);
        }
        for (int t = 0; t < threads; t++) {
            for (int seq = 0; seq < perThread; seq++) {
                assertTrue(seen[t][seq], "missing " + t + ":" + seq);
                // Every output names where its own record went, though eight threads shared
                // the producer's batches (and its memory of the last one).
                RecordMetadata metadata = outputs[t][seq].get(WAIT);
                assertEquals(t + ":" + seq, stored.get(metadata.partition()).get(metadata.offset()), metadata::toString);
            }
        }
    }

    @Test
    void flushSendsAtOnceAndReturnsWhenAcknowledged() {
        String topic = newTopic(1);
        TopicProducerConfig lingering = TopicProducerConfig.builder().linger(Duration.ofMinutes(1)).build();
        try (TopicProducer producer = fluvio.topicProducer(topic, lingering)) {
            List<ProduceOutput> outputs = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                outputs.add(producer.send(null, "v" + i));
            }
            assertTrue(fluvio.partitionConsumer(topic, 0).fetch(Offset.beginning()).isEmpty(), "still lingering");
            producer.flush();
            for (int i = 0; i < outputs.size(); i++) {
                assertTrue(outputs.get(i).isDone(), "acknowledged when flush returns");
                assertEquals(i, outputs.get(i).get(Duration.ZERO).offset());
            }
            assertRecords(fluvio.partitionConsumer(topic, 0).fetch(Offset.beginning()), 0, 200);
            producer.flush(); // nothing queued: returns at once
        }
    }

    @Test
    void closeFlushesEverythingSentBeforeIt() {
        String topic = newTopic(2);
        TopicProducerConfig lingering = TopicProducerConfig.builder().linger(Duration.ofMinutes(1)).build();
        TopicProducer producer = fluvio.topicProducer(topic, lingering);
        assertEquals(topic, producer.topic());
        List<ProduceOutput> outputs = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            outputs.add(producer.send(i % 2 == 0 ? null : "k" + i, "v" + i));
        }
        producer.close();
        assertTrue(producer.isClosed());
        int[] perPartition = new int[2];
        for (ProduceOutput output : outputs) {
            assertTrue(output.isDone(), "acknowledged when close returns");
            perPartition[output.get(Duration.ZERO).partition()]++;
        }
        Set<String> stored = new HashSet<>();
        for (int partition = 0; partition < 2; partition++) {
            try (PartitionConsumerStream stream = fluvio.partitionConsumer(topic, partition).stream(Offset.beginning())) {
                for (Record record : read(stream, perPartition[partition])) {
                    assertTrue(stored.add(record.valueString()));
                }
                assertNothingMore(stream);
            }
        }
        assertEquals(1000, stored.size());
        // A closed producer refuses everything; closing again does nothing.
        assertThrows(IllegalStateException.class, () -> producer.send("k", "v"));
        assertThrows(IllegalStateException.class, producer::flush);
        producer.close();
    }
}
