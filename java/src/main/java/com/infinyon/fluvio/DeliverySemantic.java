package com.infinyon.fluvio;

import java.time.Duration;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Delivery guarantee of a producer.
 *
 * <ul>
 *   <li>{@link #atLeastOnce()} (default): retriable failures (lost connection, timeout, leader
 *       change) are retried with backoff; an acknowledged record is never lost, and a retry
 *       after a lost response can store a record twice.
 *   <li>{@link #atMostOnce()}: no retry; a failed record is reported, never repeated.
 * </ul>
 *
 * <p>Thread-safety: immutable.
 */
public final class DeliverySemantic {
    /** Default retries of at-least-once delivery. */
    public static final int DEFAULT_MAX_RETRIES = 100;
    /** Default time at-least-once delivery keeps retrying. */
    public static final Duration DEFAULT_RETRY_TIMEOUT = Duration.ofMinutes(2);

    private final boolean atLeastOnce;
    private final int maxRetries;
    private final Duration retryTimeout;

    private DeliverySemantic(boolean atLeastOnce, int maxRetries, Duration retryTimeout) {
        this.atLeastOnce = atLeastOnce;
        this.maxRetries = maxRetries;
        this.retryTimeout = retryTimeout;
    }

    /** At-least-once with the default retries (100 attempts within 2 minutes). */
    public static DeliverySemantic atLeastOnce() {
        return new DeliverySemantic(true, DEFAULT_MAX_RETRIES, DEFAULT_RETRY_TIMEOUT);
    }

    /**
     * At-least-once with explicit retries.
     *
     * @param maxRetries attempts after the first
     * @param retryTimeout give up after this long (at least 1 ms)
     * @return the semantic
     */
    public static DeliverySemantic atLeastOnce(int maxRetries, Duration retryTimeout) {
        if (maxRetries < 0) {
            throw new IllegalArgumentException("maxRetries must not be negative, not " + maxRetries);
        }
        return new DeliverySemantic(true, maxRetries, Settings.check(Settings.Setting.RETRY_TIMEOUT, retryTimeout));
    }

    /** At-most-once: no retry. */
    public static DeliverySemantic atMostOnce() {
        return new DeliverySemantic(false, 0, DEFAULT_RETRY_TIMEOUT);
    }

    /** Whether failures are retried. */
    public boolean isAtLeastOnce() {
        return atLeastOnce;
    }

    /** Attempts after the first (0 for at-most-once). */
    public int maxRetries() {
        return maxRetries;
    }

    /** How long retries continue. */
    public Duration retryTimeout() {
        return retryTimeout;
    }

    @Override
    public boolean equals(@Nullable Object other) {
        if (!(other instanceof DeliverySemantic)) {
            return false;
        }
        DeliverySemantic that = (DeliverySemantic) other;
        return atLeastOnce == that.atLeastOnce && maxRetries == that.maxRetries && retryTimeout.equals(that.retryTimeout);
    }

    @Override
    public int hashCode() {
        return Objects.hash(atLeastOnce, maxRetries, retryTimeout);
    }

    @Override
    public String toString() {
        return atLeastOnce ? "atLeastOnce(" + maxRetries + ", " + retryTimeout + ")" : "atMostOnce()";
    }
}
