package com.infinyon.fluvio;

import java.time.Duration;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Producer settings. Build with {@link #builder()}.
 *
 * <pre>{@code
 * TopicProducerConfig config = TopicProducerConfig.builder()
 *     .batchSize(64 * 1024)
 *     .linger(Duration.ofMillis(10))
 *     .compression(Compression.LZ4)
 *     .build();
 * }</pre>
 *
 * <table>
 *   <caption>Settings and defaults</caption>
 *   <tr><th>setting</th><th>default</th></tr>
 *   <tr><td>batchSize</td><td>16384 bytes</td></tr>
 *   <tr><td>linger</td><td>100 ms</td></tr>
 *   <tr><td>compression</td><td>none, or the topic's codec when it requires one</td></tr>
 *   <tr><td>partitioner</td><td>SipHash of the key; round robin without key</td></tr>
 *   <tr><td>maxRequestSize</td><td>1 MiB</td></tr>
 *   <tr><td>batchQueueSize</td><td>100 batches per partition</td></tr>
 *   <tr><td>maxBlock</td><td>60 s</td></tr>
 *   <tr><td>timeout</td><td>5 s</td></tr>
 *   <tr><td>deliverySemantic</td><td>at-least-once</td></tr>
 *   <tr><td>isolation</td><td>{@code READ_UNCOMMITTED}: acknowledged once the leader stored it</td></tr>
 *   <tr><td>idempotent</td><td>true: a retried batch is never stored twice</td></tr>
 * </table>
 *
 * <p>Thread-safety: immutable.
 */
public final class TopicProducerConfig {
    /** Default batch size: 16384 bytes. */
    public static final int DEFAULT_BATCH_SIZE = 16384;
    /** Default linger: 100 ms. */
    public static final Duration DEFAULT_LINGER = Duration.ofMillis(100);
    /** Default maximum request size: 1 MiB. */
    public static final int DEFAULT_MAX_REQUEST_SIZE = 1024 * 1024;
    /** Default batches queued per partition. */
    public static final int DEFAULT_BATCH_QUEUE_SIZE = 100;
    /** Default time {@code send} waits for queue space. */
    public static final Duration DEFAULT_MAX_BLOCK = Duration.ofSeconds(60);
    /** Default server-side commit timeout and basis of the client's wait. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(5);

    private final int batchSize;
    private final Duration linger;
    private final Compression compression;
    private final Partitioner partitioner;
    private final int maxRequestSize;
    private final int batchQueueSize;
    private final Duration maxBlock;
    private final Duration timeout;
    private final DeliverySemantic deliverySemantic;
    private final Isolation isolation;
    private final boolean idempotent;

    private TopicProducerConfig(Builder builder) {
        this.batchSize = builder.batchSize;
        this.linger = builder.linger;
        this.compression = builder.compression;
        this.partitioner = builder.partitioner;
        this.maxRequestSize = builder.maxRequestSize;
        this.batchQueueSize = builder.batchQueueSize;
        this.maxBlock = builder.maxBlock;
        this.timeout = builder.timeout;
        this.deliverySemantic = builder.deliverySemantic;
        this.isolation = builder.isolation;
        this.idempotent = builder.idempotent;
    }

    /** A builder with the defaults. */
    public static Builder builder() {
        return new Builder();
    }

    /** Largest batch in bytes. */
    public int batchSize() {
        return batchSize;
    }

    /** How long a batch waits for more records. */
    public Duration linger() {
        return linger;
    }

    /** The codec, or null when the topic decides (uncompressed unless it requires one). */
    public @Nullable Compression compression() {
        return compression;
    }

    /** The custom partitioner, or null for the default. */
    public @Nullable Partitioner partitioner() {
        return partitioner;
    }

    /** Largest produce request in bytes. */
    public int maxRequestSize() {
        return maxRequestSize;
    }

    /** Batches queued per partition before {@code send} waits. */
    public int batchQueueSize() {
        return batchQueueSize;
    }

    /** How long {@code send} waits for queue space before failing. */
    public Duration maxBlock() {
        return maxBlock;
    }

    /** Server-side commit timeout and basis of the client's wait for each response. */
    public Duration timeout() {
        return timeout;
    }

    /** When a record counts as delivered: stored by the leader, or committed. */
    public Isolation isolation() {
        return isolation;
    }

    /** Whether batches carry a producer id and sequence so that retries are deduplicated. */
    public boolean idempotent() {
        return idempotent;
    }

    /** Delivery guarantee. */
    public DeliverySemantic deliverySemantic() {
        return deliverySemantic;
    }

    /**
     * Builds a {@link TopicProducerConfig}.
     *
     * <p>Thread-safety: not thread-safe.
     */
    public static final class Builder {
        private int batchSize = DEFAULT_BATCH_SIZE;
        private Duration linger = DEFAULT_LINGER;
        private Compression compression;
        private Partitioner partitioner;
        private int maxRequestSize = DEFAULT_MAX_REQUEST_SIZE;
        private int batchQueueSize = DEFAULT_BATCH_QUEUE_SIZE;
        private Duration maxBlock = DEFAULT_MAX_BLOCK;
        private Duration timeout = DEFAULT_TIMEOUT;
        private DeliverySemantic deliverySemantic = DeliverySemantic.atLeastOnce();
        private Isolation isolation = Isolation.READ_UNCOMMITTED;
        private boolean idempotent = true;

        private Builder() {}

        /**
         * Largest batch in bytes, estimated uncompressed (default 16384).
         *
         * @param bytes positive
         * @return this builder
         */
        public Builder batchSize(int bytes) {
            this.batchSize = Settings.check(Settings.Setting.BATCH_SIZE, bytes);
            return this;
        }

        /**
         * How long a batch waits for more records before it is sent (default 100 ms; zero sends
         * as soon as possible).
         *
         * @param linger zero or positive
         * @return this builder
         */
        public Builder linger(Duration linger) {
            this.linger = Checks.notNegative(linger, "linger");
            return this;
        }

        /**
         * Batch compression (default: none, or the topic's codec when it requires one; a codec
         * that differs from the topic's requirement fails the producer's creation with
         * {@code CONFIG}).
         *
         * @param compression the codec
         * @return this builder
         */
        public Builder compression(Compression compression) {
            this.compression = Objects.requireNonNull(compression, "compression");
            return this;
        }

        /**
         * Chooses partitions on the sending thread (default: SipHash of the key, round robin
         * without key).
         *
         * @param partitioner a thread-safe partitioner
         * @return this builder
         */
        public Builder partitioner(Partitioner partitioner) {
            this.partitioner = Objects.requireNonNull(partitioner, "partitioner");
            return this;
        }

        /**
         * Largest produce request in bytes (default 1 MiB); a larger single record fails with
         * {@code RECORD_TOO_LARGE}.
         *
         * @param bytes at least 64, at most {@link LocalCluster#MAX_REQUEST_BYTES} (64 MiB, the
         *     largest request a server accepts)
         * @return this builder
         */
        public Builder maxRequestSize(int bytes) {
            this.maxRequestSize = Settings.check(Settings.Setting.MAX_REQUEST_SIZE, bytes);
            return this;
        }

        /**
         * Batches queued per partition before {@code send} waits (default 100).
         *
         * @param batches positive
         * @return this builder
         */
        public Builder batchQueueSize(int batches) {
            this.batchQueueSize = Settings.check(Settings.Setting.BATCH_QUEUE_SIZE, batches);
            return this;
        }

        /**
         * How long {@code send} waits for queue space before failing with {@code TIMEOUT}
         * (default 60 s).
         *
         * @param maxBlock zero or positive
         * @return this builder
         */
        public Builder maxBlock(Duration maxBlock) {
            this.maxBlock = Checks.notNegative(maxBlock, "maxBlock");
            return this;
        }

        /**
         * Server-side commit timeout and basis of the client's wait for each response
         * (default 5 s).
         *
         * @param timeout between 1 ms and 2^31-1 ms
         * @return this builder
         */
        public Builder timeout(Duration timeout) {
            this.timeout = Settings.check(Settings.Setting.PRODUCER_TIMEOUT, timeout);
            return this;
        }

        /**
         * Delivery guarantee (default at-least-once).
         *
         * @param semantic the guarantee
         * @return this builder
         */
        public Builder deliverySemantic(DeliverySemantic semantic) {
            this.deliverySemantic = Objects.requireNonNull(semantic, "semantic");
            return this;
        }

        /**
         * When a record counts as delivered (default {@code READ_UNCOMMITTED}, as the official
         * client). {@code READ_UNCOMMITTED}: once the partition leader stored it; it may be lost
         * if the leader dies before its followers copied it. {@code READ_COMMITTED}: once every
         * in-sync replica holds it (committed); it survives the loss of any replica but the
         * last in-sync one, at the cost of a replication round trip.
         *
         * @param isolation the acknowledgement level
         * @return this builder
         */
        public Builder isolation(Isolation isolation) {
            this.isolation = Objects.requireNonNull(isolation, "isolation");
            return this;
        }

        /**
         * Whether batches carry a producer id and sequence numbers (default true), so that a
         * batch retried after a lost acknowledgement (for example when its leader died after
         * storing it) is recognized and stored once. Servers that ignore these fields, like the
         * official SPU, simply store the batch: switching it off only reproduces the official
         * client's framing.
         *
         * @param idempotent true to deduplicate retries
         * @return this builder
         */
        public Builder idempotent(boolean idempotent) {
            this.idempotent = idempotent;
            return this;
        }

        /** The settings. */
        public TopicProducerConfig build() {
            return new TopicProducerConfig(this);
        }
    }
}
