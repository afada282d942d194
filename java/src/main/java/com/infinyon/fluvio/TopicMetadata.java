package com.infinyon.fluvio;

import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * A topic as the SC describes it: name, spec (what was asked for) and status (what the
 * cluster did), renderable as JSON and YAML.
 *
 * <p>Thread-safety: immutable.
 */
public final class TopicMetadata {
    /**
     * Provisioning state of a topic.
     *
     * <p>Thread-safety: immutable.
     */
    public enum Resolution {
        /** Just created. */
        INIT,
        /** Valid, waiting for replica assignment. */
        PENDING,
        /** Not enough SPUs. */
        INSUFFICIENT_RESOURCES,
        /** Invalid configuration. */
        INVALID_CONFIG,
        /** Every partition is provisioned. */
        PROVISIONED,
        /** Being deleted. */
        DELETING
    }

    /**
     * What was asked for.
     *
     * <p>Thread-safety: immutable.
     */
    public static final class Spec {
        private final int partitions;
        private final int replicationFactor;
        private final long retentionSeconds;
        private final long segmentSize;
        private final long maxPartitionSize;
        private final String compression;
        private final boolean system;
        private final boolean computed;

        Spec(int partitions, int replicationFactor, long retentionSeconds, long segmentSize, long maxPartitionSize,
                String compression, boolean system, boolean computed) {
            this.partitions = partitions;
            this.replicationFactor = replicationFactor;
            this.retentionSeconds = retentionSeconds;
            this.segmentSize = segmentSize;
            this.maxPartitionSize = maxPartitionSize;
            this.compression = compression;
            this.system = system;
            this.computed = computed;
        }

        /** Number of partitions. */
        public int partitions() {
            return partitions;
        }

        /** Replicas per partition, or -1 when the spec does not state one. */
        public int replicationFactor() {
            return replicationFactor;
        }

        /** Retention, or null for the cluster default. */
        public @Nullable Duration retention() {
            return retentionSeconds < 0 ? null : Duration.ofSeconds(retentionSeconds);
        }

        /** Segment size in bytes, or -1 for the cluster default. */
        public long segmentSize() {
            return segmentSize;
        }

        /** Maximum partition size in bytes, or -1 for the cluster default. */
        public long maxPartitionSize() {
            return maxPartitionSize;
        }

        /** The required codec, or null when producers choose. */
        public @Nullable Compression compression() {
            return compression == null ? null : Compression.valueOf(compression);
        }

        /** Whether this is a system topic. */
        public boolean isSystem() {
            return system;
        }

        /** Whether partitions were assigned by the SC (rather than given explicitly). */
        public boolean isComputed() {
            return computed;
        }
    }

    /**
     * What the cluster did.
     *
     * <p>Thread-safety: immutable.
     */
    public static final class Status {
        private final Resolution resolution;
        private final String reason;

        Status(Resolution resolution, String reason) {
            this.resolution = resolution;
            this.reason = reason;
        }

        /** Provisioning state. */
        public Resolution resolution() {
            return resolution;
        }

        /** Why the topic is in this state (may be empty). */
        public String reason() {
            return reason;
        }
    }

    private final String name;
    private final Spec spec;
    private final Status status;
    private final String json;
    private final String yaml;

    private TopicMetadata(String name, Spec spec, Status status, String json, String yaml) {
        this.name = name;
        this.spec = spec;
        this.status = status;
        this.json = json;
        this.yaml = yaml;
    }

    static TopicMetadata unpack(Unpacker in) {
        String name = in.str();
        Spec spec = new Spec(in.i32(), in.i32(), in.i64(), in.i64(), in.i64(), in.str(), in.bool(), in.bool());
        Status status = new Status(Resolution.valueOf(in.str()), in.str());
        return new TopicMetadata(name, spec, status, in.str(), in.str());
    }

    /** The topic name. */
    public String name() {
        return name;
    }

    /** What was asked for. */
    public Spec spec() {
        return spec;
    }

    /** What the cluster did. */
    public Status status() {
        return status;
    }

    /**
     * The object as JSON, exactly as the official CLI prints it with {@code -O json}: the same
     * field names ({@code spuId}, {@code compressionType}, ...), value spellings ({@code "Any"},
     * {@code "Gzip"}, {@code "PLAINTEXT"}), {@code null}s and field order.
     */
    public String toJson() {
        return json;
    }

    /**
     * The object as YAML, exactly as the official CLI prints it with {@code -O yaml}: enum
     * variants that carry a value are YAML tags (e.g. {@code replicas: !computed}). Readers that
     * refuse unknown tags (SnakeYAML's safe loader) need {@link #toJson()} instead.
     */
    public String toYaml() {
        return yaml;
    }

    @Override
    public String toString() {
        return "TopicMetadata[" + name + ", partitions=" + spec.partitions() + ", " + status.resolution() + "]";
    }
}
