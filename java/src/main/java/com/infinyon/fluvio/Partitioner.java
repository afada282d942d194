package com.infinyon.fluvio;

import org.jspecify.annotations.Nullable;

/**
 * Chooses the partition of each record, on the sending thread. Without one, a producer sends
 * keyed records to {@code siphash(key) % partitions} (the same partition the official Fluvio
 * clients choose) and keyless records round robin over the online partitions.
 *
 * <pre>{@code
 * TopicProducerConfig config = TopicProducerConfig.builder()
 *     .partitioner((topic, key, value, partitions) -> key == null ? 0 : (key[0] & 0xff) % partitions)
 *     .build();
 * }</pre>
 *
 * <p>Thread-safety: implementations are called from every thread that sends, concurrently,
 * and must be thread-safe.
 */
@FunctionalInterface
public interface Partitioner {
    /**
     * The partition for a record.
     *
     * @param topic the topic
     * @param key the key, or null
     * @param value the value
     * @param partitionCount the topic's number of partitions
     * @return a partition in {@code [0, partitionCount)}
     */
    int partition(String topic, byte @Nullable [] key, byte[] value, int partitionCount);
}
