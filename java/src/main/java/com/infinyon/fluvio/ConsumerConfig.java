package com.infinyon.fluvio;

import java.util.Objects;

/**
 * Consumer settings. Build with {@link #builder()}.
 *
 * <p>Defaults: {@link Isolation#READ_COMMITTED}, {@code maxBytes} 1 MiB.
 *
 * <p>Thread-safety: immutable.
 */
public final class ConsumerConfig {
    /** Default fetch size budget: 1 MiB. */
    public static final int DEFAULT_MAX_BYTES = 1024 * 1024;

    private static final ConsumerConfig DEFAULT = builder().build();

    private final Isolation isolation;
    private final int maxBytes;

    private ConsumerConfig(Builder builder) {
        this.isolation = builder.isolation;
        this.maxBytes = builder.maxBytes;
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

    /** Size budget of each fetch in bytes (whole batches; at least one is always sent). */
    public int maxBytes() {
        return maxBytes;
    }

    /**
     * Builds a {@link ConsumerConfig}.
     *
     * <p>Thread-safety: not thread-safe.
     */
    public static final class Builder {
        private Isolation isolation = Isolation.READ_COMMITTED;
        private int maxBytes = DEFAULT_MAX_BYTES;

        private Builder() {}

        /**
         * Which records are visible (default {@link Isolation#READ_COMMITTED}).
         *
         * @param isolation the isolation
         * @return this builder
         */
        public Builder isolation(Isolation isolation) {
            this.isolation = Objects.requireNonNull(isolation, "isolation");
            return this;
        }

        /**
         * Size budget of each fetch in bytes (default 1 MiB).
         *
         * @param maxBytes positive
         * @return this builder
         */
        public Builder maxBytes(int maxBytes) {
            this.maxBytes = Checks.positive(maxBytes, "maxBytes");
            return this;
        }

        /** The settings. */
        public ConsumerConfig build() {
            return new ConsumerConfig(this);
        }
    }
}
