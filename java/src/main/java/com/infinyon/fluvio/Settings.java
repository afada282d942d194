package com.infinyon.fluvio;

import java.time.Duration;
import java.util.Objects;

/**
 * The rules of settings are the native library's: a builder checks each value as it is set,
 * with the very rule the engine or the embedded cluster applies when the value is used
 * ({@code ClientConfig}, {@code ProducerConfig}, {@code ConsumerConfig}, {@code TopicConfig} and
 * {@code ClusterConfig} in Rust), so a bound is written once. A refused value is an
 * {@link IllegalArgumentException}; null is a {@link NullPointerException} naming the setting.
 *
 * <p>Thread-safety: stateless.
 */
final class Settings {
    /** Settings whose rules are checked here; they cross by name. */
    enum Setting {
        ENDPOINT("endpoint"),
        CLIENT_ID("clientId"),
        CONNECT_TIMEOUT("connectTimeout"),
        REQUEST_TIMEOUT("requestTimeout"),
        TLS_HANDSHAKE_TIMEOUT("tlsHandshakeTimeout"),
        BATCH_SIZE("batchSize"),
        MAX_REQUEST_SIZE("maxRequestSize"),
        BATCH_QUEUE_SIZE("batchQueueSize"),
        PRODUCER_TIMEOUT("timeout"),
        RETRY_TIMEOUT("retryTimeout"),
        MAX_BYTES("maxBytes"),
        RESUME_TIMEOUT("resumeTimeout"),
        CONSUMER_ID("consumerId"),
        AUTO_COMMIT_INTERVAL("autoCommitInterval"),
        PARTITIONS("partitions"),
        REPLICATION_FACTOR("replicationFactor"),
        RETENTION("retention"),
        SEGMENT_SIZE("segmentSize"),
        MAX_PARTITION_SIZE("maxPartitionSize"),
        SPUS("spus"),
        MIN_LIVE_REPLICAS("minLiveReplicas"),
        SPU_TIMEOUT("spuTimeout"),
        REPLICA_LAG_TIME("replicaLagTime"),
        IDLE_TIMEOUT("idleTimeout"),
        READ_TIMEOUT("readTimeout"),
        MAX_BUFFERED_BYTES("maxBufferedBytes");

        /** The name of the builder method's argument, for messages. */
        final String argument;

        Setting(String argument) {
            this.argument = argument;
        }
    }

    private Settings() {}

    /** {@code value}, if the rule of {@code setting} accepts it. */
    static String check(Setting setting, String value) {
        Objects.requireNonNull(value, setting.argument);
        NativeLibrary.load();
        nativeCheckText(setting, value);
        return value;
    }

    /** {@code value}, if the rule of {@code setting} accepts it. */
    static long check(Setting setting, long value) {
        NativeLibrary.load();
        nativeCheckNumber(setting, value);
        return value;
    }

    /** {@code value}, if the rule of {@code setting} accepts it. */
    static int check(Setting setting, int value) {
        return (int) check(setting, (long) value);
    }

    /** {@code value}, if the rule of {@code setting} accepts it. */
    static Duration check(Setting setting, Duration value) {
        Objects.requireNonNull(value, setting.argument);
        NativeLibrary.load();
        nativeCheckDuration(setting, value);
        return value;
    }

    private static native void nativeCheckText(Setting setting, String value);

    private static native void nativeCheckNumber(Setting setting, long value);

    private static native void nativeCheckDuration(Setting setting, Duration value);
}
