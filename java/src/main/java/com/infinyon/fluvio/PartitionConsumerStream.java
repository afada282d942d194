package com.infinyon.fluvio;

/**
 * A continuous stream of one partition's records, in offset order. See
 * {@link ConsumerStream} for how to read it.
 *
 * <p>Thread-safety: {@link #close()} is thread-safe; everything else must be called by one
 * thread at a time.
 */
public final class PartitionConsumerStream extends ConsumerStream {
    private final String topic;
    private final int partition;

    PartitionConsumerStream(long handle, String topic, int partition, ConsumerConfig config) {
        super(handle, config);
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
}
