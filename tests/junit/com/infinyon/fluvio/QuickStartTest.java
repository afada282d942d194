package com.infinyon.fluvio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The README's quick start, as a test. */
class QuickStartTest extends ClusterTestBase {
    @Test
    void produceThenConsume() {
        String topic = newTopic(1);
        try (TopicProducer producer = fluvio.topicProducer(topic)) {
            producer.send("greeting", "hello");
            producer.send(null, "world");
            producer.flush();
        }
        try (PartitionConsumerStream stream = fluvio.partitionConsumer(topic, 0).stream(Offset.beginning())) {
            Record first = stream.next();
            assertEquals("greeting", first.keyString());
            assertEquals("hello", first.valueString());
            assertEquals(0, first.offset());
            Record second = stream.next();
            assertNull(second.key());
            assertEquals("world", second.valueString());
            assertNull(stream.next(Duration.ofMillis(200)), "nothing else");
        }
    }
}
