package com.example.greetings;

import com.infinyon.fluvio.Fluvio;
import com.infinyon.fluvio.FluvioConfig;
import com.infinyon.fluvio.Offset;
import com.infinyon.fluvio.Record;
import com.infinyon.fluvio.TopicProducer;
import com.infinyon.fluvio.micrometer.FluvioMetricsBinder;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.List;
import java.util.stream.Collectors;

/** Keeps greetings in a Fluvio topic, one record per greeting, keyed by the person greeted. */
public final class GreetingLog implements AutoCloseable {
    private final Fluvio fluvio;
    private final String topic;
    private final TopicProducer producer;

    public GreetingLog(FluvioConfig config, String topic) {
        this.fluvio = Fluvio.connect(config);
        this.topic = topic;
        if (fluvio.admin().listTopics().stream().noneMatch(t -> t.name().equals(topic))) {
            fluvio.admin().createTopic(topic, 1, 1);
        }
        this.producer = fluvio.topicProducer(topic);
    }

    /** Records a greeting and returns its offset once stored. */
    public long greet(String name) {
        return producer.send(name, "hello, " + name).get().offset();
    }

    /** Publishes the producer's metrics (records sent, latencies, errors) to {@code registry}. */
    public void bindMetrics(MeterRegistry registry) {
        FluvioMetricsBinder.forProducer(producer).bindTo(registry);
    }

    /** Every greeting so far, oldest first. */
    public List<String> greetings() {
        return fluvio.partitionConsumer(topic, 0).fetch(Offset.beginning()).stream()
                .map(Record::valueString)
                .collect(Collectors.toList());
    }

    @Override
    public void close() {
        producer.close();
        fluvio.close();
    }
}
