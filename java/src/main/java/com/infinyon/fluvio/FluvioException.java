package com.infinyon.fluvio;

import java.util.Arrays;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * A failure reported by the Fluvio client, with a stable {@link Code} and whether retrying
 * may help. Unchecked, like Kafka's {@code KafkaException}.
 *
 * <p>Programming errors are reported with the standard exceptions instead:
 * {@link NullPointerException} and {@link IllegalArgumentException} for bad arguments,
 * {@link IllegalStateException} for calls on a closed object.
 *
 * <p>Thread-safety: immutable.
 */
public class FluvioException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /**
     * What went wrong. Codes are stable; match on them, not on messages.
     *
     * <p>Thread-safety: immutable.
     */
    public enum Code {
        /** An invalid configuration value. */
        CONFIG,
        /** The profile file is missing or invalid, or names no usable profile. */
        PROFILE,
        /** A connection could not be established. */
        CONNECT,
        /** Establishing a connection took longer than the connect timeout. */
        CONNECT_TIMEOUT,
        /**
         * TLS could not be established: the server's certificate was refused (unknown CA, wrong
         * name, expired), the server refused the client certificate or asked for one that is not
         * configured, or one side speaks TLS and the other does not. {@link #tlsFailure()} says
         * which. Not retriable: the cause is in settings or certificates.
         */
        TLS,
        /** No response within the request timeout, or a wait (such as a full producer queue) exceeded its limit. */
        TIMEOUT,
        /** The connection broke while a request or stream was in flight. */
        CONNECTION_CLOSED,
        /** The server does not speak the protocol versions this client needs. */
        INCOMPATIBLE_SERVER,
        /** The server sent something this client cannot decode. */
        PROTOCOL,
        /** The topic does not exist. */
        TOPIC_NOT_FOUND,
        /** The topic already exists. */
        TOPIC_ALREADY_EXISTS,
        /** The topic name is not valid. */
        INVALID_TOPIC_NAME,
        /** The topic configuration is not valid. */
        INVALID_TOPIC_CONFIG,
        /**
         * The topic was created but cannot be placed: its replication factor exceeds the SPUs
         * online. The cluster keeps it with the status {@code INSUFFICIENT_RESOURCES} and places
         * it once enough SPUs are online (delete it if it is not wanted). Not retriable.
         */
        TOPIC_NOT_PROVISIONED,
        /** The partition does not exist. */
        PARTITION_NOT_FOUND,
        /** The SPU addressed is not the partition's leader. */
        NOT_LEADER,
        /** A record or batch exceeds a size limit. */
        RECORD_TOO_LARGE,
        /** The server refused the batch compression. */
        COMPRESSION,
        /** The offset lies beyond the end of the partition. */
        OFFSET_OUT_OF_RANGE,
        /** The offset was removed by retention. */
        OFFSET_EVICTED,
        /** The topic was deleted while in use. */
        TOPIC_DELETED,
        /**
         * The server found a stored record batch damaged (it does not match its checksum) and
         * refused to serve it; the message names the partition and offset. Not retriable.
         */
        CORRUPT_DATA,
        /**
         * The partition's storage on the server is full (its disk or quota): nothing was
         * stored. Not retried by producers; the partition's status is {@code OUT_OF_STORAGE}
         * until space is freed on the server, after which sending again succeeds.
         */
        STORAGE_FULL,
        /**
         * The server cannot store or read the partition's data (damaged files, an I/O error),
         * or could not store the cluster's metadata (e.g. on a full disk when creating a
         * topic, which is then not created). Not retriable: it needs the server's operator.
         */
        STORAGE,
        /**
         * A named consumer has no offset stored where asked ({@link
         * FluvioAdmin#deleteConsumer(String)}).
         */
        CONSUMER_NOT_FOUND,
        /**
         * A consumer id that cannot be used: empty, longer than {@link
         * ConsumerConfig#MAX_CONSUMER_ID_BYTES} bytes of UTF-8, with a control character, or with
         * white space at either end.
         */
        INVALID_CONSUMER_NAME,
        /**
         * {@link ConsumerStream#commit()} or {@link ConsumerStream#flush()} on a stream that stores
         * no offsets: it has no consumer id, or the {@link OffsetStrategy#NONE} strategy.
         */
        OFFSET_MANAGEMENT_DISABLED,
        /** The client, producer or stream was closed. */
        CLOSED,
        /**
         * The calling thread was interrupted ({@link Thread#interrupt()}) while it waited: in a
         * stream's {@code next}, {@link ProduceOutput#get()}, a {@code send} waiting for queue
         * space, or {@code flush}. The thread's interrupt flag is still set. What was waited
         * for did not happen (a record waiting for queue space was not sent), or goes on in
         * the background (a flush, a record's delivery); the stream stays usable.
         */
        INTERRUPTED,
        /** Any other error reported by the server. */
        SERVER,
        /** The embedded cluster ({@link LocalCluster}) failed. */
        LOCAL_CLUSTER,
        /** A bug in the client library. */
        INTERNAL
    }

    /**
     * What went wrong in establishing TLS, as far as the client can tell: the detail of a
     * {@link Code#TLS} failure ({@link #tlsFailure()}).
     *
     * <p>Thread-safety: immutable.
     */
    public enum TlsFailure {
        /** The server's certificate is not signed by the configured CA. */
        UNKNOWN_ISSUER,
        /**
         * The server's certificate is not valid for the name the client expects: the domain
         * for the SC, {@code <spu-name>.<domain>} for an SPU.
         */
        NAME_MISMATCH,
        /** The server's certificate has expired. */
        EXPIRED,
        /** The server's certificate is not valid yet. */
        NOT_YET_VALID,
        /** Another problem with the server's certificate (badly encoded, wrong purpose, bad signature). */
        BAD_CERTIFICATE,
        /** The server requires a client certificate and none is configured. */
        CLIENT_CERTIFICATE_REQUIRED,
        /** The server refused the client certificate (unknown CA, expired, unsuitable). */
        CLIENT_CERTIFICATE_REJECTED,
        /** TLS is configured but the server does not speak TLS. */
        SERVER_NOT_TLS,
        /** TLS is disabled but the server speaks TLS. */
        SERVER_REQUIRES_TLS,
        /** Any other handshake failure (no common protocol version or cipher suite, an alert). */
        HANDSHAKE
    }

    /**
     * What went wrong with the embedded cluster: the detail of a {@link Code#LOCAL_CLUSTER}
     * failure ({@link #clusterFailure()}).
     *
     * <p>Thread-safety: immutable.
     */
    public enum ClusterFailure {
        /** A setting the cluster refuses (including unreadable or mismatched TLS files). */
        INVALID_CONFIG,
        /** A port could not be listened on. */
        BIND,
        /**
         * Another cluster, in this JVM or another process, runs on the base directory (it holds
         * the directory's lock). Two clusters on one directory would overwrite each other's
         * records, so the second is refused.
         */
        DIRECTORY_IN_USE,
        /** The base directory or the cluster's metadata cannot be used. */
        STORAGE,
        /** Restored partitions did not come online: nothing changed for 30 seconds. */
        NOT_READY,
        /** The cluster has no SPU with the id given. */
        UNKNOWN_SPU,
        /** The SPU is already running. */
        SPU_RUNNING,
        /** A restarted SPU runs, but the partitions it leads did not come online: nothing changed for 30 seconds. */
        SPU_NOT_READY,
        /** A bug in the embedded cluster. */
        INTERNAL
    }

    private final Code code;
    private final boolean retriable;
    private final @Nullable TlsFailure tlsFailure;
    private final @Nullable ClusterFailure clusterFailure;

    /**
     * A new exception.
     *
     * @param code what went wrong
     * @param message details for humans
     * @param retriable whether retrying may succeed
     */
    public FluvioException(Code code, String message, boolean retriable) {
        this(code, message, retriable, null);
    }

    /**
     * A new exception with the detail of a TLS failure.
     *
     * @param code what went wrong
     * @param message details for humans
     * @param retriable whether retrying may succeed
     * @param tlsFailure what went wrong in establishing TLS, or null
     */
    public FluvioException(Code code, String message, boolean retriable, @Nullable TlsFailure tlsFailure) {
        this(code, message, retriable, tlsFailure, null);
    }

    /**
     * A new exception with the detail of a TLS or cluster failure.
     *
     * @param code what went wrong
     * @param message details for humans
     * @param retriable whether retrying may succeed
     * @param tlsFailure what went wrong in establishing TLS, or null
     * @param clusterFailure what went wrong with the embedded cluster, or null
     */
    public FluvioException(Code code, String message, boolean retriable, @Nullable TlsFailure tlsFailure,
            @Nullable ClusterFailure clusterFailure) {
        super(message);
        this.code = code;
        this.retriable = retriable;
        this.tlsFailure = tlsFailure;
        this.clusterFailure = clusterFailure;
    }

    /** Called from native code with the code's name. */
    FluvioException(String code, String message, boolean retriable) {
        this(code, message, retriable, null);
    }

    /** The names of the code and of the TLS failure (or null). */
    FluvioException(String code, String message, boolean retriable, @Nullable String tlsFailure) {
        this(code, message, retriable, tlsFailure, null);
    }

    /** Called from native code with the names of the code and of the failure details (or nulls). */
    FluvioException(String code, String message, boolean retriable, @Nullable String tlsFailure,
            @Nullable String clusterFailure) {
        this(codeOf(code), message, retriable, tlsFailureOf(tlsFailure), clusterFailureOf(clusterFailure));
    }

    private static Code codeOf(String name) {
        try {
            return Code.valueOf(name);
        } catch (IllegalArgumentException unknown) {
            return Code.INTERNAL;
        }
    }

    private static @Nullable TlsFailure tlsFailureOf(@Nullable String name) {
        if (name == null) {
            return null;
        }
        try {
            return TlsFailure.valueOf(name);
        } catch (IllegalArgumentException unknown) {
            return TlsFailure.HANDSHAKE;
        }
    }

    private static @Nullable ClusterFailure clusterFailureOf(@Nullable String name) {
        if (name == null) {
            return null;
        }
        try {
            return ClusterFailure.valueOf(name);
        } catch (IllegalArgumentException unknown) {
            return ClusterFailure.INTERNAL;
        }
    }

    /** What went wrong. */
    public Code code() {
        return code;
    }

    /** Whether retrying the same operation may succeed. */
    public boolean isRetriable() {
        return retriable;
    }

    /**
     * What went wrong in establishing TLS, for {@link Code#TLS} failures.
     *
     * @return the TLS failure, or null when the failure is not about TLS
     */
    public @Nullable TlsFailure tlsFailure() {
        return tlsFailure;
    }

    /**
     * What went wrong with the embedded cluster, for {@link Code#LOCAL_CLUSTER} failures, e.g.
     * {@link ClusterFailure#DIRECTORY_IN_USE} when another cluster runs on the base directory.
     *
     * @return the cluster failure, or null when the failure is not about the embedded cluster
     */
    public @Nullable ClusterFailure clusterFailure() {
        return clusterFailure;
    }

    @Override
    public String toString() {
        String detail = tlsFailure != null ? " " + tlsFailure : clusterFailure != null ? " " + clusterFailure : "";
        return "FluvioException[" + code + detail + "]: " + getMessage();
    }

    /** The codes native code can throw (for tests checking both sides agree). */
    static List<String> nativeCodes() {
        NativeLibrary.load();
        return Arrays.asList(nativeCodeNames().split("\n"));
    }

    /** The TLS failures native code can report (for tests checking both sides agree). */
    static List<String> nativeTlsFailures() {
        NativeLibrary.load();
        return Arrays.asList(nativeTlsFailureNames().split("\n"));
    }

    /** The cluster failures native code can report (for tests checking both sides agree). */
    static List<String> nativeClusterFailures() {
        NativeLibrary.load();
        return Arrays.asList(nativeClusterFailureNames().split("\n"));
    }

    /** Makes native code panic (tests check it surfaces as {@code INTERNAL}). */
    static void panicInNativeCode() {
        NativeLibrary.load();
        nativeTestPanic();
    }

    private static native String nativeCodeNames();

    private static native String nativeTlsFailureNames();

    private static native String nativeClusterFailureNames();

    private static native void nativeTestPanic();
}
