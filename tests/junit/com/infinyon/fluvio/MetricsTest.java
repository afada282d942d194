package com.infinyon.fluvio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Metrics of producers, streams and clients, counted by the engine against the embedded
 * cluster: what was sent and received, batches, retries, reconnects, failures by code,
 * latencies; a client's are the totals of its producers and streams, closed ones included.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class MetricsTest extends ClusterTestBase {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @Test
    void aProducerCountsWhatWasAcknowledged() {
        String topic = newTopic(1);
        try (Fluvio client = cluster.connect();
                TopicProducer producer = client.topicProducer(topic, TopicProducerConfig.builder()
                        .linger(Duration.ofMinutes(10)).build())) {
            FluvioMetrics empty = producer.metrics();
            assertEquals(0, empty.recordsSent());
            assertEquals(0, empty.sendLatency().count());
            assertEquals(Duration.ZERO, empty.sendLatency().p99());
            List<ProduceOutput> outputs = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                outputs.add(producer.send("key", "value-" + i));
            }
            assertEquals(0, producer.metrics().recordsSent(), "nothing acknowledged before the flush");
            producer.flush();
            for (int i = 0; i < 10; i++) {
                outputs.add(producer.send("key", "value-" + i));
            }
            producer.flush();
            for (ProduceOutput output : outputs) {
                output.get();
            }
            FluvioMetrics m = producer.metrics();
            assertEquals(20, m.recordsSent());
            assertEquals(2, m.batchesSent());
            assertTrue(m.bytesSent() > 20 * "value-0".length(), m::toString);
            assertEquals(m.bytesSent() / 2, m.averageSentBatchSize());
            assertEquals(0, m.retries());
            assertEquals(0, m.inFlightRequests());
            assertEquals(java.util.Map.of(), m.errors());
            assertEquals(2, m.sendLatency().count());
            assertTrue(m.sendLatency().max().compareTo(Duration.ZERO) > 0, m::toString);
            assertTrue(m.sendLatency().p50().compareTo(m.sendLatency().max()) <= 0, m::toString);
            assertEquals(0, m.recordsReceived());

            FluvioMetrics total = client.metrics();
            assertEquals(20, total.recordsSent());
            assertEquals(m.bytesSent(), total.bytesSent());
        }
    }

    @Test
    void aStreamCountsWhatItReceivedWithItsLatency() throws Exception {
        String topic = newTopic(2);
        try (Fluvio client = cluster.connect()) {
            try (TopicProducer producer = client.topicProducer(topic)) {
                for (int i = 0; i < 30; i++) {
                    producer.send("k" + i, "v" + i);
                }
                producer.flush();
            }
            try (PartitionConsumerStream stream = client.partitionConsumer(topic, 0).stream(Offset.beginning());
                    ConsumerStream all = client.consumer(topic).stream(Offset.beginning())) {
                int expected = client.partitionConsumer(topic, 0).fetch(Offset.beginning()).size();
                for (int i = 0; i < expected; i++) {
                    stream.next();
                }
                for (int i = 0; i < 30; i++) {
                    all.next();
                }
                FluvioMetrics m = stream.metrics();
                assertEquals(expected, m.recordsReceived());
                assertTrue(m.batchesReceived() >= 1, m::toString);
                assertTrue(m.bytesReceived() > 0, m::toString);
                assertEquals(m.batchesReceived(), m.fetchLatency().count());
                assertEquals(0, m.recordsSent());
                assertEquals(30, all.metrics().recordsReceived(), "a topic stream counts every partition");
                assertEquals(expected + expected + 30, client.metrics().recordsReceived(),
                        "the client counts its streams and its one-shot fetch");
                assertEquals(30, client.metrics().recordsSent(), "the closed producer still counts");
            }
        }
    }

    @Test
    void metricsCanBeReadWhileAnotherThreadWaitsInNext() throws Exception {
        String topic = newTopic(1);
        try (PartitionConsumerStream stream = fluvio.partitionConsumer(topic, 0).stream(Offset.end())) {
            CompletableFuture<Record> waiting = CompletableFuture.supplyAsync(stream::next);
            Thread.sleep(200);
            assertEquals(0, stream.metrics().recordsReceived());
            try (TopicProducer producer = fluvio.topicProducer(topic)) {
                producer.send("k", "v").get();
            }
            assertEquals("v", waiting.get(30, TimeUnit.SECONDS).valueString());
            assertEquals(1, stream.metrics().recordsReceived());
        }
        PartitionConsumerStream closed = fluvio.partitionConsumer(topic, 0).stream(Offset.end());
        closed.close();
        assertThrows(IllegalStateException.class, closed::metrics);
    }

    @Test
    void retriesReconnectsAndFailuresByCodeAreCounted() throws Exception {
        String topic = newTopic(1);
        int spu = cluster.spuIds().get(0);
        try (Fluvio client = cluster.connect();
                TopicProducer producer = client.topicProducer(topic);
                TopicProducer failing = client.topicProducer(topic, TopicProducerConfig.builder()
                        .deliverySemantic(DeliverySemantic.atMostOnce()).build())) {
            producer.send("k", "before").get();
            failing.send("k", "before").get();
            cluster.killSpu(spu);
            ProduceOutput retried = producer.send("k", "retried");
            ProduceOutput lost = failing.send("k", "lost");
            assertThrows(FluvioException.class, () -> lost.get(WAIT));
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (producer.metrics().retries() == 0 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            cluster.startSpu(spu);
            retried.get(WAIT);

            FluvioMetrics m = producer.metrics();
            assertTrue(m.retries() >= 1, m::toString);
            assertTrue(m.reconnects() >= 1, m::toString);
            assertEquals(2, m.recordsSent());
            assertEquals(java.util.Map.of(), m.errors(), "the retried record was delivered");
            FluvioMetrics f = failing.metrics();
            assertEquals(0, f.retries());
            assertEquals(1, f.errors().values().stream().mapToLong(Long::longValue).sum(), f::toString);
            FluvioException.Code code = f.errors().keySet().iterator().next();
            FluvioException thrown = assertThrows(FluvioException.class, lost::get);
            assertEquals(thrown.code(), code, "counted under the code its output reported");
            assertEquals(f.errors(), client.metrics().errors());
        }
    }
}
