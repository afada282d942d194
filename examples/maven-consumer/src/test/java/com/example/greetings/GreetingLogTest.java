package com.example.greetings;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.infinyon.fluvio.Fluvio;
import com.infinyon.fluvio.FluvioConfig;
import com.infinyon.fluvio.Offset;
import com.infinyon.fluvio.Record;
import com.infinyon.fluvio.junit5.FluvioLocalCluster;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.List;
import org.junit.jupiter.api.Test;

@FluvioLocalCluster
class GreetingLogTest {
    @Test
    void keepsGreetingsInOrder(FluvioConfig config) {
        try (GreetingLog log = new GreetingLog(config, "greetings")) {
            assertEquals(0, log.greet("ada"));
            assertEquals(1, log.greet("grace"));
            assertEquals(List.of("hello, ada", "hello, grace"), log.greetings());
        }
    }

    @Test
    void countsGreetingsInMicrometer(FluvioConfig config) {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (GreetingLog log = new GreetingLog(config, "counted")) {
            log.bindMetrics(registry);
            log.greet("ada");
            log.greet("grace");
            assertEquals(2.0, registry.get("fluvio.producer.records.sent").functionCounter().count());
        }
    }

    @Test
    void keysRecordsByName(FluvioConfig config, Fluvio fluvio) {
        try (GreetingLog log = new GreetingLog(config, "keyed")) {
            log.greet("linus");
        }
        Record record = fluvio.partitionConsumer("keyed", 0).fetch(Offset.beginning()).get(0);
        assertEquals("linus", record.keyString());
    }
}
