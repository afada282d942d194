package com.infinyon.fluvio;

import java.time.Duration;
import java.util.Objects;

/** Argument checks shared by the public classes. Thread-safety: stateless. */
final class Checks {
    private Checks() {}

    static Duration positive(Duration value, String name) {
        Objects.requireNonNull(value, name);
        if (value.isNegative() || value.isZero()) {
            throw new IllegalArgumentException(name + " must be positive, not " + value);
        }
        return value;
    }

    /** A duration of at least one millisecond (native code counts whole milliseconds). */
    static Duration atLeastOneMilli(Duration value, String name) {
        positive(value, name);
        if (millis(value) < 1) {
            throw new IllegalArgumentException(name + " must be at least 1 ms, not " + value);
        }
        return value;
    }

    static Duration notNegative(Duration value, String name) {
        Objects.requireNonNull(value, name);
        if (value.isNegative()) {
            throw new IllegalArgumentException(name + " must not be negative, not " + value);
        }
        return value;
    }

    static int positive(int value, String name) {
        if (value <= 0) {
            throw new IllegalArgumentException(name + " must be positive, not " + value);
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

    /** Milliseconds of a duration, saturating at Long.MAX_VALUE. */
    static long millis(Duration value) {
        try {
            return value.toMillis();
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
