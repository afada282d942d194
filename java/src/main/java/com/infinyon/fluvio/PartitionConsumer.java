package com.infinyon.fluvio;

import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * Reads one partition of a topic. Holds no resources of its own: it works while its
 * {@link Fluvio} client is open; the streams it opens must be closed.
 *
 * <pre>{@code
 * PartitionConsumer consumer = fluvio.partitionConsumer("orders", 0);
 * try (PartitionConsumerStream stream = consumer.stream(Offset.beginning())) {
 *     Record first = stream.next();
 * }
 * List<Record> some = consumer.fetch(Offset.absolute(42));
 * }</pre>
 *
 * <p>Thread-safety: thread-safe.
 */
public final class PartitionConsumer {
    static {
        NativeLibrary.load();
    }

    private final Fluvio fluvio;
    private final String topic;
    private final int partition;

    PartitionConsumer(Fluvio fluvio, String topic, int partition) {
        this.fluvio = fluvio;
        this.topic = topic;
        this.partition = partition;
    }

    /** The topic. */
    public String topic() {
        return topic;
    }

    /** The partition. */
    public int partition() {
        return partition;
    }

    /**
     * A continuous stream from {@code offset} with default settings.
     *
     * @param offset where to start
     * @return the stream; close it when done
     */
    public PartitionConsumerStream stream(Offset offset) {
        return stream(offset, ConsumerConfig.defaults());
    }

    /**
     * A continuous stream from {@code offset}.
     *
     * @param offset where to start
     * @param config isolation, fetch size and resume timeout
     * @return the stream; close it when done
     */
    public PartitionConsumerStream stream(Offset offset, ConsumerConfig config) {
        Objects.requireNonNull(offset, "offset");
        Objects.requireNonNull(config, "config");
        long handle = fluvio.acquire();
        try {
            long stream = nativeStream(handle, topic, partition, offset.kind(), offset.value(),
                    config.isolation().ordinal(), config.maxBytes(), config.resumeTimeoutMillis());
            return new PartitionConsumerStream(stream, topic, partition);
        } finally {
            fluvio.release();
        }
    }

    /**
     * The records available from {@code offset} with the default settings: those of the whole
     * batches the server sends within the default fetch size, or the first batch whole when it
     * alone is larger; an empty list when nothing is there yet (at the end of the partition).
     *
     * @param offset where to start
     * @return the records, in offset order
     * @throws FluvioException {@code OFFSET_OUT_OF_RANGE} for an offset past the partition's
     *     end, as a stream from there fails; {@code OFFSET_EVICTED} for one deleted by retention
     */
    public List<Record> fetch(Offset offset) {
        return fetch(offset, ConsumerConfig.defaults());
    }

    /**
     * The records available from {@code offset}: those of the whole batches the server sends
     * within {@code config.maxBytes()} (it cuts what it sends there, inside a batch if need
     * be), or the first batch whole when it alone is larger; an empty list when nothing is
     * there yet. See {@link #fetch(Offset)} for the errors.
     *
     * @param offset where to start
     * @param config isolation and fetch size
     * @return the records, in offset order
     */
    public List<Record> fetch(Offset offset, ConsumerConfig config) {
        Objects.requireNonNull(offset, "offset");
        Objects.requireNonNull(config, "config");
        long handle = fluvio.acquire();
        byte[] chunk;
        try {
            chunk = nativeFetch(handle, topic, partition, offset.kind(), offset.value(), config.isolation().ordinal(),
                    config.maxBytes(), config.resumeTimeoutMillis());
        } finally {
            fluvio.release();
        }
        return Collections.unmodifiableList(Arrays.asList(Record.unpack(chunk)));
    }

    private static native long nativeStream(long fluvio, String topic, int partition, int offsetKind, long offsetValue,
            int isolation, int maxBytes, long resumeTimeoutMs);

    private static native byte[] nativeFetch(long fluvio, String topic, int partition, int offsetKind, long offsetValue,
            int isolation, int maxBytes, long resumeTimeoutMs);
}
