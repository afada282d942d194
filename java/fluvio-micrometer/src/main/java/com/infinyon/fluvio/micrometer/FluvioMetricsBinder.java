package com.infinyon.fluvio.micrometer;

import com.infinyon.fluvio.ConsumerStream;
import com.infinyon.fluvio.Fluvio;
import com.infinyon.fluvio.FluvioException;
import com.infinyon.fluvio.FluvioMetrics;
import com.infinyon.fluvio.PartitionConsumerStream;
import com.infinyon.fluvio.TopicProducer;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.TimeGauge;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;
import org.jspecify.annotations.NullMarked;
import org.jspecify.annotations.Nullable;

/**
 * Exposes the {@link FluvioMetrics} of a client, a producer or a stream as Micrometer meters:
 *
 * <pre>{@code
 * FluvioMetricsBinder.forClient(fluvio).bindTo(registry);
 * FluvioMetricsBinder.forProducer(producer).bindTo(registry);   // tagged topic=<topic>
 * }</pre>
 *
 * <p>Meters, named {@code fluvio.client.*}, {@code fluvio.producer.*} or {@code fluvio.stream.*}
 * by what they measure: function counters {@code records.sent}, {@code bytes.sent},
 * {@code batches.sent}, {@code records.received}, {@code bytes.received},
 * {@code batches.received}, {@code retries}, {@code reconnects}, {@code errors} (one per
 * {@link FluvioException.Code}, tag {@code code}); gauges {@code requests.in.flight},
 * {@code batch.size.sent} and {@code batch.size.received} (average bytes); time gauges
 * {@code send.latency} and {@code fetch.latency}, one per {@code quantile} tag ({@code 0.5},
 * {@code 0.9}, {@code 0.99}, {@code 0.999}, {@code max}, {@code mean}). The values are read
 * from one snapshot per scrape (a snapshot is reused for 100 ms); once the producer, stream
 * or client is closed, they keep their last values.
 *
 * <p>Thread-safety: thread-safe.
 */
@NullMarked
public final class FluvioMetricsBinder implements MeterBinder {
    /** How long one snapshot serves every meter of a scrape. */
    private static final long SNAPSHOT_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

    private final String prefix;
    private final Supplier<FluvioMetrics> source;
    private final Tags tags;
    private @Nullable FluvioMetrics last;
    private long lastAt;

    private FluvioMetricsBinder(String prefix, Supplier<FluvioMetrics> source, Iterable<Tag> tags) {
        this.prefix = prefix;
        this.source = source;
        this.tags = Tags.of(tags);
    }

    /**
     * The totals of a client's producers and streams, as {@code fluvio.client.*}.
     *
     * @param fluvio the client
     * @param tags tags of every meter
     * @return a binder
     */
    public static FluvioMetricsBinder forClient(Fluvio fluvio, Tag... tags) {
        Objects.requireNonNull(fluvio, "fluvio");
        return new FluvioMetricsBinder("fluvio.client.", fluvio::metrics, Tags.of(tags));
    }

    /**
     * A producer's metrics, as {@code fluvio.producer.*}, tagged {@code topic}.
     *
     * @param producer the producer
     * @param tags further tags of every meter
     * @return a binder
     */
    public static FluvioMetricsBinder forProducer(TopicProducer producer, Tag... tags) {
        Objects.requireNonNull(producer, "producer");
        return new FluvioMetricsBinder("fluvio.producer.", producer::metrics,
                Tags.of(tags).and("topic", producer.topic()));
    }

    /**
     * A stream's metrics, as {@code fluvio.stream.*}; a {@link PartitionConsumerStream}'s are
     * tagged {@code topic} and {@code partition}.
     *
     * @param stream the stream
     * @param tags further tags of every meter
     * @return a binder
     */
    public static FluvioMetricsBinder forStream(ConsumerStream stream, Tag... tags) {
        Objects.requireNonNull(stream, "stream");
        Tags all = Tags.of(tags);
        if (stream instanceof PartitionConsumerStream) {
            PartitionConsumerStream partition = (PartitionConsumerStream) stream;
            all = all.and("topic", partition.topic()).and("partition", Integer.toString(partition.partition()));
        }
        return new FluvioMetricsBinder("fluvio.stream.", stream::metrics, all);
    }

    /** The snapshot of this scrape: a fresh one, or the last once the source is closed. */
    private synchronized FluvioMetrics snapshot() {
        long now = System.nanoTime();
        FluvioMetrics current = last;
        if (current == null || now - lastAt > SNAPSHOT_NANOS) {
            try {
                current = source.get();
                last = current;
                lastAt = now;
            } catch (IllegalStateException closed) {
                if (current == null) {
                    throw closed;
                }
            }
        }
        return current;
    }

    private double read(ToDoubleFunction<FluvioMetrics> value) {
        try {
            return value.applyAsDouble(snapshot());
        } catch (IllegalStateException closedBeforeAnyScrape) {
            return Double.NaN;
        }
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        counter(registry, "records.sent", "records", "Records acknowledged by the cluster", FluvioMetrics::recordsSent);
        counter(registry, "bytes.sent", "bytes", "Bytes of the record batches acknowledged", FluvioMetrics::bytesSent);
        counter(registry, "batches.sent", "batches", "Record batches acknowledged", FluvioMetrics::batchesSent);
        counter(registry, "records.received", "records", "Records received", FluvioMetrics::recordsReceived);
        counter(registry, "bytes.received", "bytes", "Bytes of keys and values received", FluvioMetrics::bytesReceived);
        counter(registry, "batches.received", "batches", "Chunks of records received", FluvioMetrics::batchesReceived);
        counter(registry, "retries", "requests", "Produce requests sent again", FluvioMetrics::retries);
        counter(registry, "reconnects", "connections", "Connections made again after one was lost",
                FluvioMetrics::reconnects);
        for (FluvioException.Code code : FluvioException.Code.values()) {
            FunctionCounter.builder(prefix + "errors", this, b -> b.read(m -> m.errors().getOrDefault(code, 0L)))
                    .description("Failures reported to the application, by code")
                    .tags(tags).tag("code", code.name())
                    .register(registry);
        }
        gauge(registry, "requests.in.flight", "requests", "Produce requests not answered yet",
                FluvioMetrics::inFlightRequests);
        gauge(registry, "batch.size.sent", "bytes", "Average bytes per batch acknowledged",
                FluvioMetrics::averageSentBatchSize);
        gauge(registry, "batch.size.received", "bytes", "Average bytes per chunk received",
                FluvioMetrics::averageReceivedBatchSize);
        latency(registry, "send.latency", "Round trips of produce requests", FluvioMetrics::sendLatency);
        latency(registry, "fetch.latency", "From a received record's timestamp to its arrival",
                FluvioMetrics::fetchLatency);
    }

    private void counter(MeterRegistry registry, String name, String unit, String description,
            ToDoubleFunction<FluvioMetrics> value) {
        FunctionCounter.builder(prefix + name, this, b -> b.read(value))
                .description(description).baseUnit(unit).tags(tags).register(registry);
    }

    private void gauge(MeterRegistry registry, String name, String unit, String description,
            ToDoubleFunction<FluvioMetrics> value) {
        Gauge.builder(prefix + name, this, b -> b.read(value))
                .description(description).baseUnit(unit).tags(tags).register(registry);
    }

    private void latency(MeterRegistry registry, String name, String description,
            Function<FluvioMetrics, FluvioMetrics.Latency> of) {
        quantile(registry, name, description, "0.5", of.andThen(FluvioMetrics.Latency::p50));
        quantile(registry, name, description, "0.9", of.andThen(FluvioMetrics.Latency::p90));
        quantile(registry, name, description, "0.99", of.andThen(FluvioMetrics.Latency::p99));
        quantile(registry, name, description, "0.999", of.andThen(FluvioMetrics.Latency::p999));
        quantile(registry, name, description, "max", of.andThen(FluvioMetrics.Latency::max));
        quantile(registry, name, description, "mean", of.andThen(FluvioMetrics.Latency::mean));
    }

    private void quantile(MeterRegistry registry, String name, String description, String quantile,
            Function<FluvioMetrics, Duration> value) {
        TimeGauge.builder(prefix + name, this, TimeUnit.NANOSECONDS, b -> b.read(m -> value.apply(m).toNanos()))
                .description(description).tags(tags).tag("quantile", quantile).register(registry);
    }
}
