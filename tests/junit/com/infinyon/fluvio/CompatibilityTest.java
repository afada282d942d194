package com.infinyon.fluvio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The names of the previous Java binding, kept as {@code @Deprecated} aliases, still work:
 * {@code Fluvio.producer}, {@code Fluvio.consumer(topic, partition)},
 * {@code Record.value_string}/{@code key_string} and
 * {@code Offset.from_beginning}/{@code from_end}.
 */
@SuppressWarnings("deprecation")
class CompatibilityTest extends ClusterTestBase {
    @Test
    void oldNamesProduceAndConsume() {
        String topic = newTopic(1);
        try (TopicProducer producer = fluvio.producer(topic)) {
            assertEquals(topic, producer.topic());
            for (int i = 0; i < 5; i++) {
                producer.send("key-" + i, "value-" + i);
            }
            producer.send(null, "no key");
            producer.flush();
        }

        PartitionConsumer consumer = fluvio.consumer(topic, 0);
        assertEquals(topic, consumer.topic());
        assertEquals(0, consumer.partition());
        try (PartitionConsumerStream stream = consumer.stream(Offset.from_beginning(0))) {
            for (int i = 0; i < 5; i++) {
                Record record = stream.next();
                assertEquals(i, record.offset());
                assertEquals("key-" + i, record.key_string());
                assertEquals("value-" + i, record.value_string());
            }
            Record keyless = stream.next();
            assertNull(keyless.key_string());
            assertEquals("no key", keyless.value_string());
        }
        try (PartitionConsumerStream stream = consumer.stream(Offset.from_beginning(2))) {
            Record record = stream.next();
            assertEquals(2, record.offset());
            assertEquals("value-2", record.value_string());
        }
        try (PartitionConsumerStream stream = consumer.stream(Offset.from_end(2))) {
            Record record = stream.next();
            assertEquals(4, record.offset());
            assertEquals("key-4", record.key_string());
            assertEquals(5, stream.next().offset());
            assertNull(stream.next(Duration.ofMillis(200)), "nothing after the end");
        }
        // Beyond either end: clamped to the partition.
        assertEquals(0, consumer.fetch(Offset.from_end(100)).get(0).offset());
        assertEquals(0, consumer.fetch(Offset.from_beginning(100)).size());
    }

    @Test
    void oldNamesAreAliases() {
        assertEquals(Offset.fromBeginning(3), Offset.from_beginning(3));
        assertEquals(Offset.fromEnd(3), Offset.from_end(3));
        assertThrows(IllegalArgumentException.class, () -> Offset.from_beginning(-1));
        assertThrows(IllegalArgumentException.class, () -> Offset.from_end(-1));
        assertThrows(NullPointerException.class, () -> fluvio.producer(null));
        assertThrows(IllegalArgumentException.class, () -> fluvio.consumer("t", -1));
    }
}
