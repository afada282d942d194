package com.infinyon.fluvio;

import java.time.Duration;
import java.util.Objects;

/**
 * Argument checks shared by the public classes: what Java's types allow and the native side's do
 * not (null, negative durations and counts) and names. The bounds of settings are the native
 * library's ({@link Settings}). Thread-safety: stateless.
 */
final class Checks {
    private Checks() {}

    static Duration notNegative(Duration value, String name) {
        Objects.requireNonNull(value, name);
        if (value.isNegative()) {
            throw new IllegalArgumentException(name + " must not be negative, not " + value);
        }
        return value;
    }

    static long notNegative(long value, String name) {
        if (value < 0) {
            throw new IllegalArgumentException(name + " must not be negative, not " + value);
        }
        return value;
    }

    /** Nanoseconds of a duration, saturating at Long.MAX_VALUE. */
    static long nanos(Duration value) {
        try {
            return value.toNanos();
        } catch (ArithmeticException overflow) {
            return Long.MAX_VALUE;
        }
    }

    static String topic(String topic) {
        Objects.requireNonNull(topic, "topic");
        if (topic.isEmpty()) {
            throw new IllegalArgumentException("topic must not be empty");
        }
        return topic;
    }

    /** A DNS name for TLS verification: not empty, no whitespace. */
    static String domain(String domain) {
        Objects.requireNonNull(domain, "domain");
        if (domain.isEmpty() || domain.chars().anyMatch(Character::isWhitespace)) {
            throw new IllegalArgumentException("domain must be a DNS name, not '" + domain + "'");
        }
        return domain;
    }
}
