package com.infinyon.fluvio;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * An embedded, Fluvio-compatible cluster (one SC and N SPUs) running inside this JVM, on
 * 127.0.0.1 ports chosen by the operating system. No Docker, no install: for tests and local
 * development.
 *
 * <pre>{@code
 * try (LocalCluster cluster = LocalCluster.start();
 *      Fluvio fluvio = cluster.connect()) {
 *     fluvio.admin().createTopic("test", 1, 1);
 * }
 * }</pre>
 *
 * <p>Without a base directory the cluster keeps its data in a temporary directory deleted on
 * {@link #close()}; with one, starting again on the same directory brings back every topic and
 * record.
 *
 * <p>Partitions are replicated (replication factor up to the number of SPUs). By default the
 * cluster commits records and elects leaders by real Fluvio's rules
 * ({@link ReplicationPolicy#FLUVIO}): a record is committed once every replica holds it, and
 * when the SPU leading a partition goes away, a follower is elected only if it was less than 4
 * records behind, otherwise the partition waits ({@code LEADER_OFFLINE}) for its leader to
 * return; {@link Builder#replicationPolicy} chooses the stronger guarantees of an in-sync
 * replica set instead ({@link ReplicationPolicy#IN_SYNC}). Clients follow a new leader without
 * being told. Single SPUs (ids {@link #spuIds()}: 5001, 5002, ...) can be stopped
 * gracefully ({@link #stopSpu(int)}), killed as by {@code kill -9} ({@link #killSpu(int)}) and
 * started again ({@link #startSpu(int)}) while the rest of the cluster keeps running, to test
 * how an application copes with failures:
 *
 * <pre>{@code
 * try (LocalCluster cluster = LocalCluster.builder().spus(3).build().start()) {
 *     fluvio.admin().createTopic("orders", 1, 3);
 *     int leader = fluvio.admin().listPartitions("orders").get(0).spec().leader();
 *     cluster.killSpu(leader);       // a close follower takes over (or, if none qualifies, the
 *                                    // partition waits); producers and streams follow
 *     cluster.startSpu(leader);      // it rejoins (as a follower if replaced) and catches up
 * }
 * }</pre>
 *
 * <p>With replication factor 1 there is no other replica: the partition is
 * {@code LEADER_OFFLINE} until its SPU returns, and streams on it wait.
 *
 * <p>With {@link Builder#tls(LocalClusterTls)}, the SC and every SPU serve TLS (optionally
 * mutual TLS) on their public ports, to test clients' TLS settings:
 *
 * <pre>{@code
 * try (LocalCluster cluster = LocalCluster.builder()
 *          .tls(LocalClusterTls.fromFiles(serverCert, serverKey).domain("fluvio.test").build())
 *          .build().start();
 *      Fluvio fluvio = cluster.connect(TlsConfig.verified("fluvio.test").caCertFile(ca).build())) {
 *     ...
 * }
 * }</pre>
 *
 * <p>The cluster runs on threads of its own ({@code fluvio-local-<n>}), never on the client
 * library's I/O threads: busy clients, blocking callbacks or a stalled JVM thread cannot delay
 * its heartbeats. An SPU the SC fences after missed heartbeats rejoins by itself. Only one
 * cluster at a time may run on a base directory: a second one, in this JVM or another process,
 * is refused with {@code LOCAL_CLUSTER} / {@link FluvioException.ClusterFailure#DIRECTORY_IN_USE}.
 *
 * <p>Thread-safety: thread-safe. SPU starts, stops and kills are carried out one at a time;
 * {@link #close()} waits for one in progress.
 */
public final class LocalCluster extends NativeHandle {
    /** Default of {@link Builder#spuTimeout(Duration)}. */
    public static final Duration DEFAULT_SPU_TIMEOUT = Duration.ofSeconds(3);
    /** Default of {@link Builder#replicaLagTime(Duration)}. */
    public static final Duration DEFAULT_REPLICA_LAG_TIME = Duration.ofSeconds(10);
    /** Default of {@link Builder#idleTimeout(Duration)}: 10 minutes, as Kafka's {@code connections.max.idle.ms}. */
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofMinutes(10);
    /** Default of {@link Builder#readTimeout(Duration)}. */
    public static final Duration DEFAULT_READ_TIMEOUT = Duration.ofSeconds(30);
    /** Default of {@link Builder#maxBufferedBytes(long)}: 256 MiB. */
    public static final long DEFAULT_MAX_BUFFERED_BYTES = 256L * 1024 * 1024;
    /** The largest request the cluster accepts: 64 MiB. */
    public static final long MAX_REQUEST_BYTES = 64L * 1024 * 1024;

    private final String endpoint;
    private final ReplicationPolicy replicationPolicy;

    private LocalCluster(long handle, ReplicationPolicy replicationPolicy) {
        super(handle);
        this.replicationPolicy = replicationPolicy;
        long current = acquire();
        try {
            this.endpoint = nativeEndpoint(current);
        } finally {
            release();
        }
    }

    /**
     * Starts a cluster with one SPU in a temporary directory.
     *
     * @return the running cluster
     * @throws FluvioException {@code LOCAL_CLUSTER} if it cannot start
     */
    public static LocalCluster start() {
        return builder().build().start();
    }

    /** A builder: one SPU, temporary directory. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * The SC endpoint, {@code 127.0.0.1:<port>}.
     *
     * @return the endpoint
     * @throws IllegalStateException after {@link #close()}: the cluster no longer listens there
     */
    public String endpoint() {
        ensureOpen();
        return endpoint;
    }

    /**
     * When this cluster commits records and whom it elects ({@link Builder#replicationPolicy}).
     *
     * @return the replication policy
     */
    public ReplicationPolicy replicationPolicy() {
        return replicationPolicy;
    }

    /**
     * A client connected to this cluster over plain TCP (a cluster started with
     * {@link Builder#tls(LocalClusterTls)} refuses it with {@code TLS}; use
     * {@link #connect(TlsConfig)}).
     *
     * @return a new client; close it when done
     */
    public Fluvio connect() {
        return connect(TlsConfig.disabled());
    }

    /**
     * A client connected to this cluster with the given transport security, e.g.
     * {@code TlsConfig.verified("fluvio.test").caCertPem(ca).build()} for a TLS cluster.
     *
     * @param tls the client's TLS settings
     * @return a new client; close it when done
     */
    public Fluvio connect(TlsConfig tls) {
        Objects.requireNonNull(tls, "tls");
        acquire();
        try {
            return Fluvio.connect(FluvioConfig.builder().endpoint(endpoint).tls(tls).build());
        } finally {
            release();
        }
    }

    /**
     * Ids of every SPU of the cluster, running or not, in increasing order (5001, 5002, ...).
     *
     * <p>Thread-safety: thread-safe.
     *
     * @return the ids (unmodifiable)
     * @throws IllegalStateException after {@link #close()}
     */
    public List<Integer> spuIds() {
        long handle = acquire();
        int[] ids;
        try {
            ids = nativeSpuIds(handle);
        } finally {
            release();
        }
        List<Integer> list = new ArrayList<>(ids.length);
        for (int id : ids) {
            list.add(id);
        }
        return Collections.unmodifiableList(list);
    }

    /**
     * Whether SPU {@code id} is running: true unless it was stopped or killed and not started
     * again.
     *
     * <p>Thread-safety: thread-safe.
     *
     * @param id an SPU id of this cluster
     * @return whether it is running
     * @throws IllegalArgumentException if {@code id} is negative
     * @throws FluvioException {@code LOCAL_CLUSTER} if the cluster has no SPU {@code id}
     * @throws IllegalStateException after {@link #close()}
     */
    public boolean isSpuRunning(int id) {
        checkSpuId(id);
        long handle = acquire();
        try {
            return nativeIsSpuRunning(handle, id);
        } finally {
            release();
        }
    }

    /**
     * The public endpoint of SPU {@code id}, {@code 127.0.0.1:<port>}, or null while it is
     * not running. A restarted SPU listens on its previous port when that port is free, else
     * on a new one (clients learn it from the SC).
     *
     * <p>Thread-safety: thread-safe.
     *
     * @param id an SPU id of this cluster
     * @return the endpoint, or null while the SPU is stopped
     * @throws IllegalArgumentException if {@code id} is negative
     * @throws FluvioException {@code LOCAL_CLUSTER} if the cluster has no SPU {@code id}
     * @throws IllegalStateException after {@link #close()}
     */
    public @Nullable String spuEndpoint(int id) {
        checkSpuId(id);
        long handle = acquire();
        try {
            return nativeSpuEndpoint(handle, id);
        } finally {
            release();
        }
    }

    /**
     * Stops SPU {@code id} gracefully, as a clean shutdown of its process would: it stops
     * accepting, closes every client connection, lets in-flight work end (what still runs
     * after a few seconds is aborted), flushes its logs and leaves the cluster. Returns once
     * the SC lists the SPU and the partitions it leads as {@code OFFLINE}. Clients see
     * connections closed: streams on those partitions wait for the leader to come back (up to
     * {@link ConsumerConfig.Builder#resumeTimeout}), at-least-once producers retry.
     *
     * <p>Stopping an SPU that is already stopped or killed does nothing.
     *
     * <p>Thread-safety: thread-safe; blocks, so it must not be called from a completion
     * callback running on a Fluvio I/O thread ({@link IllegalStateException}).
     *
     * @param id an SPU id of this cluster
     * @throws IllegalArgumentException if {@code id} is negative
     * @throws FluvioException {@code LOCAL_CLUSTER} if the cluster has no SPU {@code id}
     * @throws IllegalStateException after {@link #close()}
     */
    public void stopSpu(int id) {
        takeDown(id, false);
    }

    /**
     * Kills SPU {@code id}, as {@code kill -9} of its process would: everything it runs is
     * aborted at once, with no graceful close and no flush, and its sockets are dropped. What it
     * already wrote stays, so every acknowledged record survives. Returns once nothing of the
     * SPU runs any more and the SC lists it and the partitions it leads as {@code OFFLINE}.
     *
     * <p>Killing an SPU that is already stopped or killed does nothing.
     *
     * <p>Thread-safety: thread-safe; blocks, so it must not be called from a completion
     * callback running on a Fluvio I/O thread ({@link IllegalStateException}).
     *
     * @param id an SPU id of this cluster
     * @throws IllegalArgumentException if {@code id} is negative
     * @throws FluvioException {@code LOCAL_CLUSTER} if the cluster has no SPU {@code id}
     * @throws IllegalStateException after {@link #close()}
     */
    public void killSpu(int id) {
        takeDown(id, true);
    }

    /**
     * Starts SPU {@code id} again after {@link #stopSpu(int)} or {@link #killSpu(int)}, with
     * the same id and data, its logs recovered as after a restart of the whole cluster. It
     * listens on its previous port if free, else on a new one ({@link #spuEndpoint(int)}).
     * Returns once it serves again and every partition it leads is {@code ONLINE}.
     *
     * <p>Thread-safety: thread-safe; blocks, so it must not be called from a completion
     * callback running on a Fluvio I/O thread ({@link IllegalStateException}).
     *
     * @param id an SPU id of this cluster
     * @throws IllegalArgumentException if {@code id} is negative
     * @throws FluvioException {@code LOCAL_CLUSTER} if the cluster has no SPU {@code id}, the
     *     SPU is already running, it cannot listen, or the partitions it leads do not come
     *     online within 30 seconds (it is then left running, serving those it could open)
     * @throws IllegalStateException after {@link #close()}
     */
    public void startSpu(int id) {
        checkSpuId(id);
        long handle = acquire();
        try {
            nativeStartSpu(handle, id);
        } finally {
            release();
        }
    }

    private void takeDown(int id, boolean kill) {
        checkSpuId(id);
        long handle = acquire();
        try {
            nativeStopSpu(handle, id, kill);
        } finally {
            release();
        }
    }

    private static void checkSpuId(int id) {
        if (id < 0) {
            throw new IllegalArgumentException("an SPU id must not be negative, not " + id);
        }
    }

    /**
     * Stops every server and frees the cluster (and its temporary directory). Waits for an SPU
     * start, stop or kill in progress.
     */
    @Override
    public void close() {
        super.close();
    }

    @Override
    void onClose(long handle) {
        nativeShutdown(handle);
    }

    @Override
    void dispose(long handle) {
        nativeDispose(handle);
    }

    /**
     * Describes a cluster to start.
     *
     * <p>Thread-safety: not thread-safe.
     */
    public static final class Builder {
        private int spus = 1;
        private Path baseDir;
        private int minLiveReplicas = 1;
        private ReplicationPolicy replicationPolicy = ReplicationPolicy.FLUVIO;
        private Duration spuTimeout = DEFAULT_SPU_TIMEOUT;
        private Duration replicaLagTime = DEFAULT_REPLICA_LAG_TIME;
        private Duration idleTimeout = DEFAULT_IDLE_TIMEOUT;
        private Duration readTimeout = DEFAULT_READ_TIMEOUT;
        private long maxBufferedBytes = DEFAULT_MAX_BUFFERED_BYTES;
        private LocalClusterTls tls;

        private Builder() {}

        /**
         * Number of SPUs (default 1; ids 5001, 5002, ...).
         *
         * @param spus between 1 and 64
         * @return this builder
         */
        public Builder spus(int spus) {
            this.spus = Settings.check(Settings.Setting.SPUS, spus);
            return this;
        }

        /**
         * Where metadata and logs live (default: a temporary directory deleted on close).
         *
         * @param baseDir a directory, created if missing
         * @return this builder
         */
        public Builder baseDir(Path baseDir) {
            this.baseDir = Objects.requireNonNull(baseDir, "baseDir");
            return this;
        }

        /**
         * In-sync replicas (leader included) a partition needs before records are committed:
         * visible to {@code READ_COMMITTED} readers and acknowledged to {@code READ_COMMITTED}
         * producers (default 1). Topics with a smaller replication factor are refused with
         * {@code INVALID_TOPIC_CONFIG}. With 2 and replication factor 3, a committed record
         * survives the loss of any SPU even while another one is down. It matters under
         * {@link ReplicationPolicy#IN_SYNC} only: under {@link ReplicationPolicy#FLUVIO} every
         * replica must hold a record before it is committed.
         *
         * @param minLiveReplicas between 1 and 64
         * @return this builder
         */
        public Builder minLiveReplicas(int minLiveReplicas) {
            this.minLiveReplicas = Settings.check(Settings.Setting.MIN_LIVE_REPLICAS, minLiveReplicas);
            return this;
        }

        /**
         * When records are committed and which replica is elected when a leader is lost
         * (default {@link ReplicationPolicy#FLUVIO}: real Fluvio's rules; {@link
         * ReplicationPolicy#IN_SYNC}: the stronger guarantees of an in-sync replica set).
         *
         * @param replicationPolicy the policy
         * @return this builder
         */
        public Builder replicationPolicy(ReplicationPolicy replicationPolicy) {
            this.replicationPolicy = Objects.requireNonNull(replicationPolicy, "replicationPolicy");
            return this;
        }

        /**
         * How long the SC waits for an SPU's heartbeat before declaring it dead and moving the
         * leadership of its partitions (default 3 s). An SPU that stops or is killed is
         * noticed at once; this bounds the detection of a hung one.
         *
         * @param spuTimeout at least 100 ms
         * @return this builder
         */
        public Builder spuTimeout(Duration spuTimeout) {
            this.spuTimeout = Settings.check(Settings.Setting.SPU_TIMEOUT, spuTimeout);
            return this;
        }

        /**
         * How long a follower may fail to catch up with its leader before it leaves the
         * in-sync replicas (default 10 s). A follower whose SPU goes away leaves at once.
         * Under {@link ReplicationPolicy#IN_SYNC} only: under {@link ReplicationPolicy#FLUVIO}
         * followers never leave for lagging.
         *
         * @param replicaLagTime at least 1 ms
         * @return this builder
         */
        public Builder replicaLagTime(Duration replicaLagTime) {
            this.replicaLagTime = Settings.check(Settings.Setting.REPLICA_LAG_TIME, replicaLagTime);
            return this;
        }

        /**
         * How long a client connection with nothing going on stays open (default 10 minutes,
         * as Kafka's {@code connections.max.idle.ms}; {@link Duration#ZERO}: forever). Nothing
         * going on means no request being read or handled, no answer waiting, and no stream or
         * watch open on it: a consumer waiting for records or a client watching metadata is
         * never cut. An idle producer connection is; clients connect again on their next
         * request.
         *
         * @param idleTimeout zero, or at least 1 ms
         * @return this builder
         */
        public Builder idleTimeout(Duration idleTimeout) {
            this.idleTimeout = Settings.check(Settings.Setting.IDLE_TIMEOUT, idleTimeout);
            return this;
        }

        /**
         * How long a request may take to arrive once its first byte has (default 30 s;
         * {@link Duration#ZERO}: forever): a peer that sends part of a request and stops is cut.
         *
         * @param readTimeout zero, or at least 1 ms
         * @return this builder
         */
        public Builder readTimeout(Duration readTimeout) {
            this.readTimeout = Settings.check(Settings.Setting.READ_TIMEOUT, readTimeout);
            return this;
        }

        /**
         * Bytes of unfinished requests all connections may buffer together (default 256 MiB).
         * Requests up to 64 KiB always proceed; a larger one first reserves its size, and its
         * connection waits (within the read timeout) until that much is free.
         *
         * @param maxBufferedBytes at least {@link #MAX_REQUEST_BYTES}
         * @return this builder
         */
        public Builder maxBufferedBytes(long maxBufferedBytes) {
            this.maxBufferedBytes = Settings.check(Settings.Setting.MAX_BUFFERED_BYTES, maxBufferedBytes);
            return this;
        }

        /**
         * Serves TLS on the public ports of the SC and of every SPU (default: plain TCP). See
         * {@link LocalClusterTls} for the certificate the cluster needs.
         *
         * @param tls server certificate, key, and optionally domain and client CA
         * @return this builder
         */
        public Builder tls(LocalClusterTls tls) {
            this.tls = Objects.requireNonNull(tls, "tls");
            return this;
        }

        /**
         * Serves TLS with the certificate chain and key in these PEM files, without asking
         * clients for certificates: {@code tls(LocalClusterTls.fromFiles(cert, key).build())}.
         *
         * @param serverCertFile the certificate chain (leaf first), valid for {@code DOMAIN} and
         *     {@code *.DOMAIN}
         * @param serverKeyFile its private key
         * @return this builder
         */
        public Builder tls(Path serverCertFile, Path serverKeyFile) {
            return tls(LocalClusterTls.fromFiles(serverCertFile, serverKeyFile).build());
        }

        /**
         * The description, ready to {@link Definition#start()}.
         *
         * @return the description
         */
        public Definition build() {
            return new Definition(this);
        }
    }

    /**
     * A cluster described by a {@link Builder}, not started yet.
     *
     * <p>Thread-safety: immutable.
     */
    public static final class Definition {
        private final int spus;
        private final Path baseDir;
        private final int minLiveReplicas;
        private final ReplicationPolicy replicationPolicy;
        private final Duration spuTimeout;
        private final Duration replicaLagTime;
        private final Duration idleTimeout;
        private final Duration readTimeout;
        private final long maxBufferedBytes;
        private final LocalClusterTls tls;

        private Definition(Builder builder) {
            this.spus = builder.spus;
            this.baseDir = builder.baseDir;
            this.minLiveReplicas = builder.minLiveReplicas;
            this.replicationPolicy = builder.replicationPolicy;
            this.spuTimeout = builder.spuTimeout;
            this.replicaLagTime = builder.replicaLagTime;
            this.idleTimeout = builder.idleTimeout;
            this.readTimeout = builder.readTimeout;
            this.maxBufferedBytes = builder.maxBufferedBytes;
            this.tls = builder.tls;
        }

        /**
         * Starts the cluster; returns once it accepts connections and restored topics are
         * online.
         *
         * @return the running cluster
         * @throws FluvioException {@code LOCAL_CLUSTER} if it cannot start, with a
         *     {@link FluvioException#clusterFailure()} saying why: {@code DIRECTORY_IN_USE}
         *     when another cluster (in this JVM or another process) runs on the base
         *     directory, {@code INVALID_CONFIG} for TLS settings it refuses (unreadable or
         *     mismatched certificate and key, a certificate not valid for the domain),
         *     {@code BIND}, {@code STORAGE}, {@code NOT_READY}
         */
        public LocalCluster start() {
            NativeLibrary.load();
            return new LocalCluster(nativeStart(this), replicationPolicy);
        }

        /** The TLS settings, or null for plain TCP. */
        public @Nullable LocalClusterTls tls() {
            return tls;
        }

        /** Number of SPUs. */
        public int spus() {
            return spus;
        }

        /** In-sync replicas needed to commit (under {@link ReplicationPolicy#IN_SYNC}). */
        public int minLiveReplicas() {
            return minLiveReplicas;
        }

        /** When records are committed and who may be elected. */
        public ReplicationPolicy replicationPolicy() {
            return replicationPolicy;
        }

        /** How long a silent SPU is given before it is declared dead. */
        public Duration spuTimeout() {
            return spuTimeout;
        }

        /** How long a follower may lag before it leaves the in-sync replicas. */
        public Duration replicaLagTime() {
            return replicaLagTime;
        }

        /** The base directory, or null for a temporary one. */
        public @Nullable Path baseDir() {
            return baseDir;
        }

        /** How long a connection with nothing going on stays open (zero: forever). */
        public Duration idleTimeout() {
            return idleTimeout;
        }

        /** How long a request may take to arrive (zero: forever). */
        public Duration readTimeout() {
            return readTimeout;
        }

        /** Bytes of unfinished requests all connections may buffer together. */
        public long maxBufferedBytes() {
            return maxBufferedBytes;
        }
    }

    private static native long nativeStart(Definition definition);

    private static native String nativeEndpoint(long handle);

    private static native void nativeStopSpu(long handle, int id, boolean kill);

    private static native void nativeStartSpu(long handle, int id);

    private static native int[] nativeSpuIds(long handle);

    private static native boolean nativeIsSpuRunning(long handle, int id);

    private static native String nativeSpuEndpoint(long handle, int id);

    private static native void nativeShutdown(long handle);

    private static native void nativeDispose(long handle);
}
