package com.infinyon.fluvio.micrometer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.infinyon.fluvio.Fluvio;
import com.infinyon.fluvio.LocalCluster;
import com.infinyon.fluvio.Offset;
import com.infinyon.fluvio.PartitionConsumerStream;
import com.infinyon.fluvio.TopicProducer;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.TimeGauge;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The binder exposes a client's, a producer's and a stream's metrics in a SimpleMeterRegistry. */
class FluvioMetricsBinderTest {
    private static double counter(SimpleMeterRegistry registry, String name, String... tags) {
        FunctionCounter counter = registry.find(name).tags(tags).functionCounter();
        assertNotNull(counter, name + " is registered");
        return counter.count();
    }

    @Test
    void metersFollowTheMetrics() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (LocalCluster cluster = LocalCluster.start(); Fluvio fluvio = cluster.connect()) {
            fluvio.admin().createTopic("metered", 1, 1);
            FluvioMetricsBinder.forClient(fluvio, Tag.of("app", "test")).bindTo(registry);
            TopicProducer producer = fluvio.topicProducer("metered");
            FluvioMetricsBinder.forProducer(producer).bindTo(registry);
            assertEquals(0.0, counter(registry, "fluvio.producer.records.sent", "topic", "metered"));

            for (int i = 0; i < 5; i++) {
                producer.send("k", "value-" + i);
            }
            producer.flush();
            try (PartitionConsumerStream stream = fluvio.partitionConsumer("metered", 0).stream(Offset.beginning())) {
                FluvioMetricsBinder.forStream(stream).bindTo(registry);
                for (int i = 0; i < 5; i++) {
                    stream.next();
                }
                Thread.sleep(150); // past the snapshot the first reads shared
                assertEquals(5.0, counter(registry, "fluvio.stream.records.received", "topic", "metered",
                        "partition", "0"));
                TimeGauge fetch = registry.find("fluvio.stream.fetch.latency").tags("quantile", "max").timeGauge();
                assertNotNull(fetch);
                assertTrue(fetch.value(TimeUnit.NANOSECONDS) >= 0);
            }
            assertEquals(5.0, counter(registry, "fluvio.producer.records.sent", "topic", "metered"));
            assertEquals(1.0, counter(registry, "fluvio.producer.batches.sent", "topic", "metered"));
            assertEquals(0.0, counter(registry, "fluvio.producer.errors", "topic", "metered", "code", "TIMEOUT"));
            assertEquals(5.0, counter(registry, "fluvio.client.records.sent", "app", "test"));
            assertEquals(5.0, counter(registry, "fluvio.client.records.received", "app", "test"));
            Gauge inFlight = registry.find("fluvio.producer.requests.in.flight").gauge();
            assertNotNull(inFlight);
            assertEquals(0.0, inFlight.value());
            TimeGauge p99 = registry.find("fluvio.producer.send.latency").tags("quantile", "0.99").timeGauge();
            assertNotNull(p99);
            assertTrue(p99.value(TimeUnit.NANOSECONDS) > 0, "one request was timed");

            // A closed producer keeps its last values.
            producer.close();
            Thread.sleep(150);
            assertEquals(5.0, counter(registry, "fluvio.producer.records.sent", "topic", "metered"));
        }
    }
}
