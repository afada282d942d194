package com.infinyon.fluvio;

import java.nio.file.Path;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A connection to one Fluvio cluster: the entry point for producers, consumers and admin.
 *
 * <pre>{@code
 * try (Fluvio fluvio = Fluvio.connect("127.0.0.1:9003");
 *      TopicProducer producer = fluvio.topicProducer("greetings")) {
 *     producer.send("key", "hello").get();
 * }
 * }</pre>
 *
 * <p>Connections are plain TCP or TLS ({@link FluvioConfig.Builder#tls(TlsConfig)}, or a
 * profile's TLS settings); a refused TLS handshake is {@link FluvioException.Code#TLS}.
 *
 * <p>Several clients, to the same or different clusters, may be used at once. Closing a
 * client closes its connections; producers, consumers and streams made from it fail with
 * {@link FluvioException.Code#CLOSED} afterwards (close them too, to free their memory).
 *
 * <p>Thread-safety: thread-safe.
 */
public final class Fluvio extends NativeHandle {
    private Fluvio(long handle) {
        super(handle);
    }

    /**
     * Connects with the current profile of the profile file ({@code $FLV_PROFILE_PATH},
     * else {@code ~/.fluvio/config}), the file the Fluvio CLI writes.
     *
     * @return a connected client
     * @throws FluvioException with {@code PROFILE} when the file or profile is missing, or a
     *     connection code when the cluster cannot be reached
     */
    public static Fluvio connect() {
        NativeLibrary.load();
        return new Fluvio(nativeConnectProfile(null, null));
    }

    /**
     * Connects to the SC at {@code endpoint} with default settings.
     *
     * @param endpoint {@code host:port}
     * @return a connected client
     */
    public static Fluvio connect(String endpoint) {
        return connect(FluvioConfig.builder().endpoint(endpoint).build());
    }

    /**
     * Connects with explicit settings.
     *
     * @param config endpoint, TLS, client id and timeouts
     * @return a connected client
     * @throws FluvioException {@code CONFIG} when certificates cannot be read, {@code TLS} when
     *     the TLS handshake fails or is refused ({@link FluvioException#tlsFailure()} says why),
     *     {@code CONNECT} or {@code CONNECT_TIMEOUT} when the cluster cannot be reached
     */
    public static Fluvio connect(FluvioConfig config) {
        Objects.requireNonNull(config, "config");
        NativeLibrary.load();
        return new Fluvio(nativeConnect(config));
    }

    /**
     * Connects with a named profile of the profile file ({@code $FLV_PROFILE_PATH}, else
     * {@code ~/.fluvio/config}), with the profile's TLS settings. Profiles are read and edited
     * with {@link FluvioProfiles}.
     *
     * @param profile the profile name
     * @return a connected client
     * @throws FluvioException {@code PROFILE} when the file or profile is missing, {@code CONFIG}
     *     when its certificates cannot be read, {@code TLS} or a connection code when the
     *     cluster refuses or cannot be reached
     */
    public static Fluvio connectWithProfile(String profile) {
        Objects.requireNonNull(profile, "profile");
        NativeLibrary.load();
        return new Fluvio(nativeConnectProfile(null, profile));
    }

    /**
     * Connects with a profile of the profile file at {@code profileFile}.
     *
     * @param profileFile a file in the Fluvio profile format
     * @param profile the profile name, or null for the file's current profile
     * @return a connected client
     */
    public static Fluvio connectWithProfile(Path profileFile, @Nullable String profile) {
        Objects.requireNonNull(profileFile, "profileFile");
        NativeLibrary.load();
        return new Fluvio(nativeConnectProfile(profileFile.toString(), profile));
    }

    /**
     * A producer for {@code topic} with default settings.
     *
     * @param topic an existing topic
     * @return a producer; close it when done
     */
    public TopicProducer topicProducer(String topic) {
        return topicProducer(topic, TopicProducerConfig.builder().build());
    }

    /**
     * A producer for {@code topic}.
     *
     * @param topic an existing topic
     * @param config batching, compression, partitioning and delivery settings
     * @return a producer; close it when done
     */
    public TopicProducer topicProducer(String topic, TopicProducerConfig config) {
        Checks.topic(topic);
        Objects.requireNonNull(config, "config");
        return new TopicProducer(this, topic, config);
    }

    /**
     * A consumer of one partition.
     *
     * @param topic the topic
     * @param partition the partition index
     * @return a consumer (holds no resources of its own)
     * @throws IllegalStateException after {@link #close()}
     */
    public PartitionConsumer partitionConsumer(String topic, int partition) {
        Checks.topic(topic);
        if (partition < 0) {
            throw new IllegalArgumentException("partition must not be negative, not " + partition);
        }
        ensureOpen();
        return new PartitionConsumer(this, topic, partition);
    }

    /**
     * A consumer of every partition of a topic.
     *
     * @param topic the topic
     * @return a consumer (holds no resources of its own)
     * @throws IllegalStateException after {@link #close()}
     */
    public TopicConsumer consumer(String topic) {
        Checks.topic(topic);
        ensureOpen();
        return new TopicConsumer(this, topic);
    }

    /**
     * The admin API: topics, partitions and SPUs.
     *
     * @return the admin API of this client (holds no resources of its own)
     * @throws IllegalStateException after {@link #close()}
     */
    public FluvioAdmin admin() {
        ensureOpen();
        return new FluvioAdmin(this);
    }

    /**
     * What this client did so far: the totals of every producer and stream it ran, closed
     * ones included.
     *
     * @return a snapshot
     */
    public FluvioMetrics metrics() {
        long handle = acquire();
        try {
            return FluvioMetrics.unpack(nativeMetrics(handle));
        } finally {
            release();
        }
    }

    /**
     * The platform version the SC reported.
     *
     * @return a semver string
     */
    public String platformVersion() {
        long handle = acquire();
        try {
            return nativePlatformVersion(handle);
        } finally {
            release();
        }
    }

    /**
     * A producer for {@code topic}.
     *
     * @param topic an existing topic
     * @return a producer
     * @deprecated use {@link #topicProducer(String)}
     */
    @Deprecated
    public TopicProducer producer(String topic) {
        return topicProducer(topic);
    }

    /**
     * A consumer of one partition.
     *
     * @param topic the topic
     * @param partition the partition index
     * @return a consumer
     * @deprecated use {@link #partitionConsumer(String, int)}
     */
    @Deprecated
    public PartitionConsumer consumer(String topic, int partition) {
        return partitionConsumer(topic, partition);
    }

    @Override
    void onClose(long handle) {
        nativeClose(handle);
    }

    @Override
    void dispose(long handle) {
        nativeDispose(handle);
    }

    private static native long nativeConnect(FluvioConfig config);

    private static native long nativeConnectProfile(String profileFile, String profile);

    private static native void nativeClose(long handle);

    private static native byte[] nativeMetrics(long handle);

    private static native String nativePlatformVersion(long handle);

    private static native void nativeDispose(long handle);
}
