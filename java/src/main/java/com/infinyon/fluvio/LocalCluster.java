package com.infinyon.fluvio;

import java.nio.file.Path;
import java.util.Objects;

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
 * <p>Thread-safety: thread-safe.
 */
public final class LocalCluster extends NativeHandle {
    private final String endpoint;

    private LocalCluster(long handle) {
        super(handle);
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

    /** The SC endpoint, {@code 127.0.0.1:<port>}. */
    public String endpoint() {
        return endpoint;
    }

    /**
     * A client connected to this cluster.
     *
     * @return a new client; close it when done
     */
    public Fluvio connect() {
        acquire();
        try {
            return Fluvio.connect(endpoint);
        } finally {
            release();
        }
    }

    /** Stops every server and frees the cluster (and its temporary directory). */
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

        private Builder() {}

        /**
         * Number of SPUs (default 1; ids 5001, 5002, ...).
         *
         * @param spus between 1 and 64
         * @return this builder
         */
        public Builder spus(int spus) {
            if (spus < 1 || spus > 64) {
                throw new IllegalArgumentException("spus must be between 1 and 64, not " + spus);
            }
            this.spus = spus;
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
         * The description, ready to {@link Definition#start()}.
         *
         * @return the description
         */
        public Definition build() {
            return new Definition(spus, baseDir);
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

        private Definition(int spus, Path baseDir) {
            this.spus = spus;
            this.baseDir = baseDir;
        }

        /**
         * Starts the cluster; returns once it accepts connections and restored topics are
         * online.
         *
         * @return the running cluster
         * @throws FluvioException {@code LOCAL_CLUSTER} if it cannot start
         */
        public LocalCluster start() {
            NativeLibrary.load();
            return new LocalCluster(nativeStart(baseDir == null ? null : baseDir.toString(), spus));
        }

        /** Number of SPUs. */
        public int spus() {
            return spus;
        }

        /** The base directory, or null for a temporary one. */
        public Path baseDir() {
            return baseDir;
        }
    }

    private static native long nativeStart(String baseDir, int spus);

    private static native String nativeEndpoint(long handle);

    private static native void nativeShutdown(long handle);

    private static native void nativeDispose(long handle);
}
