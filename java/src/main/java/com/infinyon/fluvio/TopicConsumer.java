package com.infinyon.fluvio;

import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.concurrent.Flow;

/**
 * Reads every partition of a topic. Holds no resources of its own; the streams it opens must
 * be closed. Records of different partitions are interleaved; each partition stays in order.
 *
 * <p>Thread-safety: thread-safe.
 */
public final class TopicConsumer {
    private final Fluvio fluvio;
    private final String topic;

    TopicConsumer(Fluvio fluvio, String topic) {
        this.fluvio = fluvio;
        this.topic = topic;
    }

    /** The topic. */
    public String topic() {
        return topic;
    }

    /**
     * One stream over every partition, each starting at {@code offset}.
     *
     * @param offset where each partition starts
     * @return the stream; close it when done
     */
    public ConsumerStream stream(Offset offset) {
        return stream(offset, ConsumerConfig.defaults());
    }

    /**
     * One stream over every partition, each starting at {@code offset}.
     *
     * @param offset where each partition starts
     * @param config isolation, fetch size and resume timeout
     * @return the stream; close it when done
     */
    public ConsumerStream stream(Offset offset, ConsumerConfig config) {
        Objects.requireNonNull(offset, "offset");
        Objects.requireNonNull(config, "config");
        long handle = fluvio.acquire();
        try {
            return new ConsumerStream(nativeStream(handle, topic, offset, config), config);
        } finally {
            fluvio.release();
        }
    }

    /**
     * A {@link Flow.Publisher} of {@link #stream(Offset) stream(offset)}'s records (every
     * partition), with default settings, on the default executor. Demand, cancellation, errors
     * and threads are as for {@link PartitionConsumer#publisher(Offset)}.
     *
     * @param offset where each partition starts
     * @return a cold publisher: each subscription reads from {@code offset}
     */
    public Flow.Publisher<Record> publisher(Offset offset) {
        return publisher(offset, ConsumerConfig.defaults());
    }

    /**
     * A {@link Flow.Publisher} of {@link #stream(Offset, ConsumerConfig) stream(offset, config)}'s
     * records, on the default executor (see {@link PartitionConsumer#publisher(Offset)}).
     *
     * @param offset where each partition starts
     * @param config isolation, fetch size and resume timeout
     * @return a cold publisher: each subscription reads from {@code offset}
     */
    public Flow.Publisher<Record> publisher(Offset offset, ConsumerConfig config) {
        return publisher(offset, config, ConsumerPublisher.defaultExecutor());
    }

    /**
     * A {@link Flow.Publisher} of {@link #stream(Offset, ConsumerConfig) stream(offset, config)}'s
     * records, its subscriptions run by {@code executor}; what the executor must allow is
     * described at {@link PartitionConsumer#publisher(Offset, ConsumerConfig, Executor)}.
     *
     * @param offset where each partition starts
     * @param config isolation, fetch size and resume timeout
     * @param executor runs the subscriptions' work
     * @return a cold publisher: each subscription reads from {@code offset}
     */
    public Flow.Publisher<Record> publisher(Offset offset, ConsumerConfig config, Executor executor) {
        return ConsumerPublisher.of(offset, config, executor, this::stream);
    }

    private static native long nativeStream(long fluvio, String topic, Offset offset, ConsumerConfig config);
}
