package com.infinyon.fluvio;

import java.time.Duration;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Consumer settings. Build with {@link #builder()}.
 *
 * <p>Defaults: {@link Isolation#READ_UNCOMMITTED} (as the official client), {@code maxBytes}
 * 1 MiB, {@code resumeTimeout} 60 s, {@code maxBufferedBytes} 1.75 MiB, no consumer
 * id, {@link OffsetStrategy#NONE}, {@code autoCommitInterval} 10 s.
 *
 * <p>A <em>named consumer</em> ({@link Builder#consumerId(String)}) resumes where it stopped:
 * the cluster keeps, per consumer id and partition, the offset of the last record it consumed,
 * and its streams start at the next one.
 *
 * <pre>{@code
 * ConsumerConfig config = ConsumerConfig.builder()
 *         .consumerId("billing")
 *         .offsetStrategy(OffsetStrategy.MANUAL)
 *         .build();
 * try (ConsumerStream stream = fluvio.consumer("orders").stream(Offset.beginning(), config)) {
 *     for (Record record : (Iterable<Record>) () -> stream) {
 *         process(record);
 *         stream.commit();   // everything returned so far is processed
 *         stream.flush();    // stored in the cluster
 *     }
 * }
 * }</pre>
 *
 * <p>Thread-safety: immutable.
 */
public final class ConsumerConfig {
    /** Default fetch size budget: 1 MiB. */
    public static final int DEFAULT_MAX_BYTES = 1024 * 1024;

    /**
     * The largest fetch, 64 MiB less 64 KiB: a larger {@code maxBytes} is lowered to it, and a
     * batch larger than it, which no fetch can bring whole, fails the stream or fetch with
     * {@link FluvioException.Code#RECORD_TOO_LARGE}. A Fluvio SPU stores batches of up to 32 MiB
     * by default. (The native engine's {@code consumer::MAX_FETCH_BYTES}.)
     */
    public static final int MAX_FETCH_BYTES = 64 * 1024 * 1024 - 64 * 1024;

    /** Default time a stream keeps trying to resume after losing its SPU: 60 seconds. */
    public static final Duration DEFAULT_RESUME_TIMEOUT = Duration.ofSeconds(60);

    /**
     * Default cap of what a stream holds for its reader: 1.75 MiB, so that each fetch asks for at
     * most 448 KiB and 100 streams that fall behind fit a JVM in 250 MiB. (The
     * native engine's {@code consumer::DEFAULT_MAX_BUFFERED_BYTES}.)
     */
    public static final long DEFAULT_MAX_BUFFERED_BYTES = 1792L * 1024;

    /**
     * Default interval between the stores of an {@link OffsetStrategy#AUTO} stream: 10 seconds,
     * as the official client's.
     */
    public static final Duration DEFAULT_AUTO_COMMIT_INTERVAL = Duration.ofSeconds(10);

    /** Longest consumer id, in bytes of UTF-8. */
    public static final int MAX_CONSUMER_ID_BYTES = 255;

    private static final ConsumerConfig DEFAULT = builder().build();

    private final Isolation isolation;
    private final int maxBytes;
    private final Duration resumeTimeout;
    private final long maxBufferedBytes;
    private final @Nullable String consumerId;
    private final OffsetStrategy offsetStrategy;
    private final Duration autoCommitInterval;

    private ConsumerConfig(Builder builder) {
        this.isolation = builder.isolation;
        this.maxBytes = builder.maxBytes;
        this.resumeTimeout = builder.resumeTimeout;
        this.maxBufferedBytes = builder.maxBufferedBytes;
        this.consumerId = builder.consumerId;
        this.offsetStrategy = builder.offsetStrategy;
        this.autoCommitInterval = builder.autoCommitInterval;
    }

    /** A builder with the defaults. */
    public static Builder builder() {
        return new Builder();
    }

    static ConsumerConfig defaults() {
        return DEFAULT;
    }

    /** Which records are visible. */
    public Isolation isolation() {
        return isolation;
    }

    /**
     * Size budget of each fetch in bytes: the server sends at most this many bytes of records,
     * cutting a batch where the budget ends; a batch larger than the budget is fetched whole
     * anyway (up to {@link #MAX_FETCH_BYTES}).
     */
    public int maxBytes() {
        return maxBytes;
    }

    /**
     * How long a stream keeps trying to resume after it lost its SPU (the partition's leader
     * is down or moving) before it reports the failure.
     */
    public Duration resumeTimeout() {
        return resumeTimeout;
    }

    /** The consumer id whose offsets the cluster keeps, or null. */
    public @Nullable String consumerId() {
        return consumerId;
    }

    /** How offsets are stored. */
    public OffsetStrategy offsetStrategy() {
        return offsetStrategy;
    }

    /** How often an {@link OffsetStrategy#AUTO} stream stores its offset. */
    public Duration autoCommitInterval() {
        return autoCommitInterval;
    }

    /**
     * Cap, in bytes, of what each partition stream holds in native memory for its reader; see
     * {@link Builder#maxBufferedBytes(long)}.
     */
    public long maxBufferedBytes() {
        return maxBufferedBytes;
    }

    /**
     * Builds a {@link ConsumerConfig}.
     *
     * <p>Thread-safety: not thread-safe.
     */
    public static final class Builder {
        private Isolation isolation = Isolation.READ_UNCOMMITTED;
        private int maxBytes = DEFAULT_MAX_BYTES;
        private Duration resumeTimeout = DEFAULT_RESUME_TIMEOUT;
        private long maxBufferedBytes = DEFAULT_MAX_BUFFERED_BYTES;
        private @Nullable String consumerId;
        private OffsetStrategy offsetStrategy = OffsetStrategy.NONE;
        private Duration autoCommitInterval = DEFAULT_AUTO_COMMIT_INTERVAL;

        private Builder() {}

        /**
         * Which records are visible (default {@link Isolation#READ_UNCOMMITTED}, as the
         * official client): everything the partition leader stored, or with
         * {@link Isolation#READ_COMMITTED} only what every in-sync replica holds, which a
         * failover never takes back (but on a real Fluvio cluster nothing new arrives while a
         * replica of the partition is down).
         *
         * @param isolation the isolation
         * @return this builder
         */
        public Builder isolation(Isolation isolation) {
            this.isolation = Objects.requireNonNull(isolation, "isolation");
            return this;
        }

        /**
         * Size budget of each fetch in bytes (default 1 MiB). The server cuts what it sends
         * where the budget ends, inside a batch if need be; a batch that does not fit is
         * fetched whole all the same, so a small budget never stalls a stream nor skips a
         * record. Values above {@link #MAX_FETCH_BYTES} are lowered to it.
         *
         * @param maxBytes positive
         * @return this builder
         */
        public Builder maxBytes(int maxBytes) {
            this.maxBytes = Settings.check(Settings.Setting.MAX_BYTES, maxBytes);
            return this;
        }

        /**
         * How long a stream keeps trying to resume after it loses its SPU (the partition's
         * leader is down or moving) before it reports a retriable {@link FluvioException}
         * (default {@link #DEFAULT_RESUME_TIMEOUT}, 60 s). While it tries, {@code next}
         * simply sees no record; once the leader serves again the stream resumes from the
         * record after the last one it delivered, with no gap and no duplicate. Counted anew
         * at each loss. Streams only: a one-shot {@code fetch} does not
         * resume, and opening a stream on a partition whose leader is down waits up to the
         * client's {@linkplain FluvioConfig#requestTimeout() request timeout}, then fails with a
         * retriable error.
         *
         * @param resumeTimeout at least 1 ms
         * @return this builder
         */
        public Builder resumeTimeout(Duration resumeTimeout) {
            this.resumeTimeout = Settings.check(Settings.Setting.RESUME_TIMEOUT, resumeTimeout);
            return this;
        }

        /**
         * Cap, in bytes, of what each partition stream holds in native memory for its reader
         * (default {@link #DEFAULT_MAX_BUFFERED_BYTES}, 1.75 MiB): the records received and not
         * yet handed to Java, and room for the fetch asked for. A stream asks the server for
         * more only when a whole fetch fits under the cap, so a reader that falls behind slows
         * its stream down instead of piling data up in memory; each fetch asks for at most
         * a quarter of it ({@code maxBytes} is lowered to that). A single batch larger than the cap is
         * still delivered, held alone. Compressed records count at their decompressed size, so
         * one fetch of compressed data may take a stream past the cap by its compression ratio
         * (it then waits until the reader took it). A topic stream has one cap per partition.
         * {@link ConsumerStream#bufferedBytes()} reports what a stream holds.
         *
         * @param maxBufferedBytes positive
         * @return this builder
         */
        public Builder maxBufferedBytes(long maxBufferedBytes) {
            this.maxBufferedBytes = Settings.check(Settings.Setting.STREAM_MAX_BUFFERED_BYTES, maxBufferedBytes);
            return this;
        }

        /**
         * Names the consumer (the official client's {@code offset_consumer}, the CLI's {@code
         * --consumer}): the cluster keeps, per consumer id and partition, the offset of the last
         * record it consumed. A stream of a named consumer with an offset stored starts right
         * after it: {@link Offset#beginning()} and {@link Offset#end()} both start there,
         * {@link Offset#fromBeginning(long)} and {@link Offset#fromEnd(long)} count from
         * there, and only {@link Offset#absolute(long)} is taken as is (as the official client
         * resolves them). Without a stored offset the stream starts at the offset given.
         *
         * @param consumerId 1 to {@link #MAX_CONSUMER_ID_BYTES} bytes of UTF-8, no control
         *     character, no white space at either end
         * @return this builder
         * @throws FluvioException {@code INVALID_CONSUMER_NAME} for an id that cannot be used
         */
        public Builder consumerId(String consumerId) {
            this.consumerId = Settings.check(Settings.Setting.CONSUMER_ID, consumerId);
            return this;
        }

        /**
         * How offsets are stored (default {@link OffsetStrategy#NONE}); {@link
         * OffsetStrategy#MANUAL} and {@link OffsetStrategy#AUTO} need a {@linkplain
         * #consumerId(String) consumer id} (else opening a stream fails with {@code CONFIG}).
         *
         * @param offsetStrategy the strategy
         * @return this builder
         */
        public Builder offsetStrategy(OffsetStrategy offsetStrategy) {
            this.offsetStrategy = Objects.requireNonNull(offsetStrategy, "offsetStrategy");
            return this;
        }

        /**
         * How often an {@link OffsetStrategy#AUTO} stream stores the offset of the last record
         * it returned (default {@link #DEFAULT_AUTO_COMMIT_INTERVAL}, 10 s); it also stores it
         * when closed.
         *
         * @param autoCommitInterval at least 1 ms
         * @return this builder
         */
        public Builder autoCommitInterval(Duration autoCommitInterval) {
            this.autoCommitInterval = Settings.check(Settings.Setting.AUTO_COMMIT_INTERVAL, autoCommitInterval);
            return this;
        }

        /** The settings. */
        public ConsumerConfig build() {
            return new ConsumerConfig(this);
        }
    }
}
