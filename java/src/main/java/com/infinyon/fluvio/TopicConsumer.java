package com.infinyon.fluvio;

import java.util.Objects;

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
            return new ConsumerStream(nativeStream(handle, topic, offset, config));
        } finally {
            fluvio.release();
        }
    }

    private static native long nativeStream(long fluvio, String topic, Offset offset, ConsumerConfig config);
}
