package com.infinyon.fluvio;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The batch reads of a stream ({@code nextBatch}, {@code poll}) and their lifetime rule, and
 * the cap of what a stream holds in native memory ({@code maxBufferedBytes}), as the engine
 * accounts for it ({@code bufferedBytes}).
 */
class BatchReadTest extends ClusterTestBase {
    /** Record n's value: its number and a space, padded to {@code size} bytes. */
    private static byte[] value(int n, int size) {
        byte[] value = new byte[size];
        Arrays.fill(value, (byte) 'x');
        byte[] prefix = (n + " ").getBytes(StandardCharsets.UTF_8);
        System.arraycopy(prefix, 0, value, 0, prefix.length);
        return value;
    }

    /** Produces {@code count} records of {@code size} bytes in batches of up to {@code batchSize} bytes. */
    private void produce(String topic, int count, int size, int batchSize) {
        TopicProducerConfig config = TopicProducerConfig.builder().batchSize(batchSize).build();
        try (TopicProducer producer = fluvio.topicProducer(topic, config)) {
            for (int n = 0; n < count; n++) {
                producer.send(n % 3 == 0 ? null : ("k" + n).getBytes(StandardCharsets.UTF_8), value(n, size));
            }
            producer.flush();
        }
    }

    @Test
    void batchesHandOutEveryRecordInOrderAcrossFetches() {
        String topic = newTopic(1);
        // 4,000 records of 1 KB in 16 KB batches: many fetches of 64 KB, each ending inside a batch.
        produce(topic, 4000, 1000, 16 * 1024);
        ConsumerConfig config = ConsumerConfig.builder().maxBytes(64 * 1024).build();
        try (PartitionConsumerStream stream = fluvio.partitionConsumer(topic, 0).stream(Offset.beginning(), config)) {
            int expected = 0;
            int batches = 0;
            byte[] scratch = new byte[1000];
            while (expected < 4000) {
                RecordBatch batch = batches % 2 == 0 ? stream.nextBatch() : stream.poll(Duration.ofSeconds(30));
                assertFalse(batch.isEmpty(), "records are there");
                batches++;
                for (int i = 0; i < batch.size(); i++) {
                    assertEquals(expected, batch.offset(i), "in order, no gap, no repeat");
                    assertEquals(0, batch.partition(i));
                    assertTrue(batch.timestamp(i) > 0);
                    assertEquals(1000, batch.copyValue(i, scratch, 0));
                    assertArrayEquals(value(expected, 1000), scratch);
                    // Part of the value: its number, at the end of scratch.
                    byte[] number = (expected + " ").getBytes(StandardCharsets.UTF_8);
                    batch.copyValue(i, 0, scratch, 1000 - number.length, number.length);
                    assertArrayEquals(number, Arrays.copyOfRange(scratch, 1000 - number.length, 1000));
                    if (expected == 0) {
                        int first = i;
                        assertThrows(IndexOutOfBoundsException.class, () -> batch.copyValue(first, 995, scratch, 0, 10),
                                "past the value's end");
                        assertThrows(IndexOutOfBoundsException.class, () -> batch.copyValue(first, -1, scratch, 0, 4));
                        assertThrows(IndexOutOfBoundsException.class,
                                () -> batch.copyValue(first, 0, scratch, 995, 10), "past the array's end");
                    }
                    assertArrayEquals(value(expected, 1000), batch.value(i));
                    assertTrue(batch.valueString(i).startsWith(expected + " "));
                    if (expected % 3 == 0) {
                        assertEquals(-1, batch.keyLength(i));
                        assertNull(batch.key(i));
                        assertNull(batch.keyString(i));
                    } else {
                        assertEquals("k" + expected, batch.keyString(i));
                        assertArrayEquals(("k" + expected).getBytes(StandardCharsets.UTF_8), batch.key(i));
                    }
                    expected++;
                }
            }
            assertTrue(batches > 1, "several fetches: " + batches);
            assertEquals(0, stream.poll(Duration.ofMillis(200)).size(), "nothing more");
        }
    }

    @Test
    void theViewIsReusedAndNextMixesWithBatchesInOrder() {
        String topic = newTopic(1);
        produce(topic, 50, 10, 16 * 1024);
        try (PartitionConsumerStream stream = fluvio.partitionConsumer(topic, 0).stream(Offset.beginning())) {
            assertEquals(0, stream.next().offset());
            assertEquals(1, stream.next().offset());
            RecordBatch batch = stream.nextBatch();
            List<Long> offsets = new ArrayList<>();
            RecordView first = null;
            Record kept = null;
            for (RecordView record : batch) {
                if (first == null) {
                    first = record;
                    kept = record.toRecord();
                }
                assertTrue(first == record, "one view, moved from record to record");
                offsets.add(record.offset());
                assertEquals(10, record.valueLength());
            }
            assertEquals(2L, (long) offsets.get(0), "the batch starts after what next() returned");
            for (int i = 1; i < offsets.size(); i++) {
                assertEquals(offsets.get(i - 1) + 1, (long) offsets.get(i));
            }
            long last = offsets.get(offsets.size() - 1);
            while (last < 49) {
                Record record = stream.next(Duration.ofSeconds(30));
                assertEquals(last + 1, record.offset());
                last = record.offset();
            }
            // What was copied out outlives the batch.
            assertEquals(2, kept.offset());
            assertArrayEquals(value(2, 10), kept.value());
        }
    }

    @Test
    void aBatchUsedAfterTheNextReadOrCloseThrowsStaleRecordBatch() {
        String topic = newTopic(1);
        produce(topic, 3, 10, 16 * 1024);
        PartitionConsumerStream stream = fluvio.partitionConsumer(topic, 0).stream(Offset.beginning());
        RecordBatch batch = stream.nextBatch();
        Iterator<RecordView> views = batch.iterator();
        RecordView view = views.next();
        assertEquals(0, view.offset());
        assertTrue(batch.isValid());

        // The next read invalidates it, even when it brings nothing.
        assertTrue(stream.poll(Duration.ofMillis(50)).isEmpty());
        assertFalse(batch.isValid());
        assertThrows(StaleRecordBatchException.class, () -> batch.offset(0));
        assertThrows(StaleRecordBatchException.class, () -> batch.valueString(0));
        assertThrows(StaleRecordBatchException.class, () -> batch.record(0));
        assertThrows(StaleRecordBatchException.class, view::value);
        assertThrows(StaleRecordBatchException.class, () -> view.copyValue(0, new byte[8], 0, 8));
        assertThrows(StaleRecordBatchException.class, views::next);
        assertThrows(StaleRecordBatchException.class, batch::iterator);
        assertEquals(batch.size(), batch.size(), "its size stays readable");

        try (TopicProducer producer = fluvio.topicProducer(topic)) {
            producer.send(null, "more");
            producer.flush();
        }
        RecordBatch second = stream.nextBatch();
        assertEquals("more", second.valueString(0));
        stream.close();
        assertThrows(StaleRecordBatchException.class, () -> second.offset(0), "closing invalidates it too");
        assertThrows(IllegalStateException.class, stream::nextBatch);
    }

    @Test
    void aSlowReadersStreamHoldsAtMostItsCap() throws InterruptedException {
        String topic = newTopic(1);
        produce(topic, 3000, 1000, 20_000);
        long cap = 100_000;
        ConsumerConfig config = ConsumerConfig.builder().maxBufferedBytes(cap).build();
        assertEquals(cap, config.maxBufferedBytes());
        PartitionConsumerStream stream = fluvio.partitionConsumer(topic, 0).stream(Offset.beginning(), config);
        try {
            long peak = 0;
            long expected = 0;
            while (expected < 3000) {
                Thread.sleep(10);
                peak = Math.max(peak, stream.bufferedBytes());
                for (RecordView record : stream.nextBatch()) {
                    assertEquals(expected++, record.offset());
                }
                peak = Math.max(peak, stream.bufferedBytes());
            }
            assertTrue(peak <= cap, "held " + peak + " bytes with a cap of " + cap);
            assertTrue(peak > cap / 2, "the stream fills its buffer ahead of a slow reader: " + peak);
            stream.close();
            assertEquals(0, stream.bufferedBytes());
        } finally {
            stream.close();
        }
    }

    @Test
    void theCapIsValidatedByTheEnginesRule() {
        assertThrows(IllegalArgumentException.class, () -> ConsumerConfig.builder().maxBufferedBytes(0));
        assertThrows(IllegalArgumentException.class, () -> ConsumerConfig.builder().maxBufferedBytes(-1));
        assertEquals(ConsumerConfig.DEFAULT_MAX_BUFFERED_BYTES, ConsumerConfig.builder().build().maxBufferedBytes());
    }

    @Test
    void aRecordLargerThanTheStreamsBufferIsHandedOverWhole() {
        String topic = newTopic(1);
        // Larger than the stream's first buffer (256 KiB).
        byte[] big = value(0, 900 * 1024);
        try (TopicProducer producer = fluvio.topicProducer(topic)) {
            producer.send(null, "small".getBytes(StandardCharsets.UTF_8));
            producer.send(null, big);
            producer.send(null, "after".getBytes(StandardCharsets.UTF_8));
            producer.flush();
        }
        try (PartitionConsumerStream stream = fluvio.partitionConsumer(topic, 0).stream(Offset.beginning())) {
            assertEquals("small", stream.next().valueString());
            assertArrayEquals(big, stream.next().value());
            assertEquals("after", stream.next().valueString());
        }
    }
}
