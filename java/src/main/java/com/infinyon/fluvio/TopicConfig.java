package com.infinyon.fluvio;

import java.time.Duration;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Settings of a new topic. Unset options take the cluster's defaults (7 days retention,
 * 1 GiB segments, any compression).
 *
 * <pre>{@code
 * admin.createTopic("orders", TopicConfig.builder().partitions(3).retention(Duration.ofHours(6)).build());
 * }</pre>
 *
 * <p>Thread-safety: immutable.
 */
public final class TopicConfig {
    private final int partitions;
    private final int replicationFactor;
    private final Duration retention;
    private final long segmentSize;
    private final long maxPartitionSize;
    private final Compression compression;

    private TopicConfig(Builder builder) {
        this.partitions = builder.partitions;
        this.replicationFactor = builder.replicationFactor;
        this.retention = builder.retention;
        this.segmentSize = builder.segmentSize;
        this.maxPartitionSize = builder.maxPartitionSize;
        this.compression = builder.compression;
    }

    /** A builder: 1 partition, replication factor 1. */
    public static Builder builder() {
        return new Builder();
    }

    /** Number of partitions. */
    public int partitions() {
        return partitions;
    }

    /** Replicas per partition. */
    public int replicationFactor() {
        return replicationFactor;
    }

    /** Retention, or null for the cluster default. */
    public @Nullable Duration retention() {
        return retention;
    }

    /** Segment size in bytes, or -1 for the cluster default. */
    public long segmentSize() {
        return segmentSize;
    }

    /** Maximum partition size in bytes, or -1 for the cluster default. */
    public long maxPartitionSize() {
        return maxPartitionSize;
    }

    /** The codec every batch must use, or null when producers choose. */
    public @Nullable Compression compression() {
        return compression;
    }

    /**
     * Builds a {@link TopicConfig}.
     *
     * <p>Thread-safety: not thread-safe.
     */
    public static final class Builder {
        private int partitions = 1;
        private int replicationFactor = 1;
        private Duration retention;
        private long segmentSize = -1;
        private long maxPartitionSize = -1;
        private Compression compression;

        private Builder() {}

        /**
         * Number of partitions (default 1).
         *
         * @param partitions at least 1
         * @return this builder
         */
        public Builder partitions(int partitions) {
            this.partitions = Settings.check(Settings.Setting.PARTITIONS, partitions);
            return this;
        }

        /**
         * Replicas per partition (default 1).
         *
         * @param replicationFactor at least 1
         * @return this builder
         */
        public Builder replicationFactor(int replicationFactor) {
            this.replicationFactor = Settings.check(Settings.Setting.REPLICATION_FACTOR, replicationFactor);
            return this;
        }

        /**
         * How long records are kept (the cluster refuses less than 10 s).
         *
         * @param retention a positive duration
         * @return this builder
         */
        public Builder retention(Duration retention) {
            this.retention = Settings.check(Settings.Setting.RETENTION, retention);
            return this;
        }

        /**
         * Segment size in bytes (the cluster refuses less than 1024).
         *
         * @param bytes 1 to 2^32-1
         * @return this builder
         */
        public Builder segmentSize(long bytes) {
            this.segmentSize = Settings.check(Settings.Setting.SEGMENT_SIZE, bytes);
            return this;
        }

        /**
         * Maximum partition size in bytes.
         *
         * @param bytes a positive size
         * @return this builder
         */
        public Builder maxPartitionSize(long bytes) {
            this.maxPartitionSize = Settings.check(Settings.Setting.MAX_PARTITION_SIZE, bytes);
            return this;
        }

        /**
         * The codec every batch must use (default: producers choose).
         *
         * @param compression the codec
         * @return this builder
         */
        public Builder compression(Compression compression) {
            this.compression = Objects.requireNonNull(compression, "compression");
            return this;
        }

        /** The settings. */
        public TopicConfig build() {
            return new TopicConfig(this);
        }
    }
}
