package com.infinyon.fluvio;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Topics, partitions, SPUs and named consumers' stored offsets of the cluster a {@link Fluvio}
 * client is connected to.
 * Holds no resources of its own: it works while its client is open.
 *
 * <pre>{@code
 * FluvioAdmin admin = fluvio.admin();
 * admin.createTopic("orders", 3, 1);
 * for (PartitionMetadata p : admin.listPartitions("orders")) {
 *     System.out.println(p.toYaml());
 * }
 * }</pre>
 *
 * <p>Thread-safety: thread-safe.
 */
public final class FluvioAdmin {
    private final Fluvio fluvio;

    FluvioAdmin(Fluvio fluvio) {
        this.fluvio = fluvio;
    }

    /**
     * Creates a topic; returns once every partition is online.
     *
     * @param name topic name: lowercase letters, digits and '-', at most 63 characters
     * @param partitions at least 1
     * @param replicationFactor at least 1
     * @throws FluvioException e.g. {@code TOPIC_ALREADY_EXISTS}, {@code INVALID_TOPIC_NAME}, or
     *     {@code TOPIC_NOT_PROVISIONED} when the replication factor exceeds the SPUs online
     *     (see {@link #createTopic(String, TopicConfig)})
     */
    public void createTopic(String name, int partitions, int replicationFactor) {
        createTopic(name, TopicConfig.builder().partitions(partitions).replicationFactor(replicationFactor).build());
    }

    /**
     * Creates a topic; returns once every partition is online.
     *
     * <p>A topic whose replication factor exceeds the SPUs online is created all the same, as a
     * Fluvio cluster creates it, with the status
     * {@link TopicMetadata.Resolution#INSUFFICIENT_RESOURCES}: this call then fails at once
     * with {@code TOPIC_NOT_PROVISIONED} (not retriable; the cluster itself answers only after
     * its provisioning wait). The topic stays and is placed once enough SPUs are online; delete
     * it if it is not wanted.
     *
     * @param name topic name
     * @param config partitions, replication, retention, segment size, compression
     * @throws FluvioException e.g. {@code TOPIC_ALREADY_EXISTS}, {@code INVALID_TOPIC_NAME},
     *     {@code INVALID_TOPIC_CONFIG}, {@code TOPIC_NOT_PROVISIONED}
     */
    public void createTopic(String name, TopicConfig config) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(config, "config");
        long handle = fluvio.acquire();
        try {
            nativeCreateTopic(handle, name, config);
        } finally {
            fluvio.release();
        }
    }

    /**
     * Deletes a topic and its data.
     *
     * @param name topic name
     * @throws FluvioException {@code TOPIC_NOT_FOUND} if there is no such topic
     */
    public void deleteTopic(String name) {
        Objects.requireNonNull(name, "name");
        long handle = fluvio.acquire();
        try {
            nativeDeleteTopic(handle, name);
        } finally {
            fluvio.release();
        }
    }

    /**
     * Adds partitions to a topic; returns once the new partitions are online. Producers and
     * topic streams already open learn of them from the cluster's metadata updates.
     *
     * @param name topic name
     * @param count how many partitions to add, at least 1
     * @throws IllegalArgumentException if {@code count} is less than 1
     * @throws FluvioException {@code TOPIC_NOT_FOUND}, {@code INVALID_TOPIC_CONFIG} if the
     *     cluster refuses the new total, or {@code TIMEOUT} (retriable) if the partitions, added
     *     all the same, are not online within the request timeout (at least a minute)
     */
    public void addPartitions(String name, int count) {
        Objects.requireNonNull(name, "name");
        if (count < 1) {
            throw new IllegalArgumentException("count must be at least 1, got " + count);
        }
        long handle = fluvio.acquire();
        try {
            nativeAddPartitions(handle, name, count);
        } finally {
            fluvio.release();
        }
    }

    /**
     * Every topic, sorted by name.
     *
     * @return the topics
     */
    public List<TopicMetadata> listTopics() {
        return unpackTopics(call(h -> nativeListTopics(h)));
    }

    /**
     * One topic.
     *
     * @param name topic name
     * @return the topic
     * @throws FluvioException {@code TOPIC_NOT_FOUND} if there is no such topic
     */
    public TopicMetadata topic(String name) {
        Objects.requireNonNull(name, "name");
        for (TopicMetadata topic : listTopics()) {
            if (topic.name().equals(name)) {
                return topic;
            }
        }
        throw new FluvioException(FluvioException.Code.TOPIC_NOT_FOUND, "topic '" + name + "' not found", false);
    }

    /**
     * The partitions of a topic, by index.
     *
     * @param topic topic name
     * @return the partitions
     * @throws FluvioException {@code TOPIC_NOT_FOUND} if there is no such topic
     */
    public List<PartitionMetadata> listPartitions(String topic) {
        Objects.requireNonNull(topic, "topic");
        return unpackPartitions(call(h -> nativeListPartitions(h, topic)));
    }

    /**
     * The partitions of every topic.
     *
     * @return the partitions, by topic and index
     */
    public List<PartitionMetadata> listPartitions() {
        return unpackPartitions(call(h -> nativeListPartitions(h, null)));
    }

    /**
     * Every SPU, by id.
     *
     * @return the SPUs
     */
    public List<SpuMetadata> listSpus() {
        return unpackSpus(call(h -> nativeListSpus(h)));
    }

    /**
     * Every offset named consumers stored, by consumer id, topic and partition (what the
     * official CLI's {@code fluvio consumer list} shows).
     *
     * @return one entry per consumer id and partition
     */
    public List<ConsumerMetadata> listConsumers() {
        return unpackConsumers(call(h -> nativeListConsumers(h)));
    }

    /**
     * Deletes every offset a consumer stored (as {@code fluvio consumer delete NAME}): its next
     * stream starts at the offset it is given.
     *
     * @param consumerId the consumer id
     * @return what was deleted
     * @throws FluvioException {@code CONSUMER_NOT_FOUND} when it stored none,
     *     {@code INVALID_CONSUMER_NAME} for an id no consumer can have
     */
    public List<ConsumerMetadata> deleteConsumer(String consumerId) {
        return deleteOffsets(consumerId, null, -1);
    }

    /**
     * Deletes the offsets a consumer stored in the partitions of {@code topic}.
     *
     * @param consumerId the consumer id
     * @param topic the topic
     * @return what was deleted
     * @throws FluvioException {@code CONSUMER_NOT_FOUND} when it stored none there,
     *     {@code INVALID_CONSUMER_NAME} for an id no consumer can have
     */
    public List<ConsumerMetadata> deleteConsumer(String consumerId, String topic) {
        return deleteOffsets(consumerId, Objects.requireNonNull(topic, "topic"), -1);
    }

    /**
     * Deletes the offset a consumer stored in one partition.
     *
     * @param consumerId the consumer id
     * @param topic the topic
     * @param partition the partition, not negative
     * @return what was deleted
     * @throws FluvioException {@code CONSUMER_NOT_FOUND} when it stored none there,
     *     {@code INVALID_CONSUMER_NAME} for an id no consumer can have
     */
    public List<ConsumerMetadata> deleteConsumer(String consumerId, String topic, int partition) {
        Objects.requireNonNull(topic, "topic");
        if (partition < 0) {
            throw new IllegalArgumentException("partition must not be negative, got " + partition);
        }
        return deleteOffsets(consumerId, topic, partition);
    }

    private List<ConsumerMetadata> deleteOffsets(String consumerId, @Nullable String topic, int partition) {
        Objects.requireNonNull(consumerId, "consumerId");
        return unpackConsumers(call(h -> nativeDeleteConsumer(h, consumerId, topic, partition)));
    }

    /** Consumers packed by native code (layout {@code CONSUMERS}). */
    static List<ConsumerMetadata> unpackConsumers(byte[] packed) {
        Unpacker in = new Unpacker(packed);
        int count = in.i32();
        List<ConsumerMetadata> consumers = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            consumers.add(ConsumerMetadata.unpack(in));
        }
        return Collections.unmodifiableList(consumers);
    }

    /** Topics packed by native code (layout {@code TOPICS}). */
    static List<TopicMetadata> unpackTopics(byte[] packed) {
        Unpacker in = new Unpacker(packed);
        int count = in.i32();
        List<TopicMetadata> topics = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            topics.add(TopicMetadata.unpack(in));
        }
        return Collections.unmodifiableList(topics);
    }

    /** SPUs packed by native code (layout {@code SPUS}). */
    static List<SpuMetadata> unpackSpus(byte[] packed) {
        Unpacker in = new Unpacker(packed);
        int count = in.i32();
        List<SpuMetadata> spus = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            spus.add(SpuMetadata.unpack(in));
        }
        return Collections.unmodifiableList(spus);
    }

    /** Partitions packed by native code (layout {@code PARTITIONS}). */
    static List<PartitionMetadata> unpackPartitions(byte[] packed) {
        Unpacker in = new Unpacker(packed);
        int count = in.i32();
        List<PartitionMetadata> partitions = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            partitions.add(PartitionMetadata.unpack(in));
        }
        return Collections.unmodifiableList(partitions);
    }

    private interface NativeList {
        byte[] call(long handle);
    }

    private byte[] call(NativeList list) {
        long handle = fluvio.acquire();
        try {
            return list.call(handle);
        } finally {
            fluvio.release();
        }
    }

    private static native void nativeCreateTopic(long fluvio, String name, TopicConfig config);

    private static native void nativeDeleteTopic(long fluvio, String name);

    private static native void nativeAddPartitions(long fluvio, String name, int count);

    private static native byte[] nativeListTopics(long fluvio);

    private static native byte[] nativeListPartitions(long fluvio, String topic);

    private static native byte[] nativeListSpus(long fluvio);

    private static native byte[] nativeListConsumers(long fluvio);

    private static native byte[] nativeDeleteConsumer(
            long fluvio, String consumerId, @Nullable String topic, int partition);
}
