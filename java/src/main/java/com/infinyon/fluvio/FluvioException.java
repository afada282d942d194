package com.infinyon.fluvio;

import java.util.Arrays;
import java.util.List;

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
        /** The client, producer or stream was closed. */
        CLOSED,
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

    private final Code code;
    private final boolean retriable;
    private final TlsFailure tlsFailure;

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
    public FluvioException(Code code, String message, boolean retriable, TlsFailure tlsFailure) {
        super(message);
        this.code = code;
        this.retriable = retriable;
        this.tlsFailure = tlsFailure;
    }

    /** Called from native code with the code's name. */
    FluvioException(String code, String message, boolean retriable) {
        this(code, message, retriable, null);
    }

    /** Called from native code with the names of the code and of the TLS failure (or null). */
    FluvioException(String code, String message, boolean retriable, String tlsFailure) {
        this(codeOf(code), message, retriable, tlsFailureOf(tlsFailure));
    }

    private static Code codeOf(String name) {
        try {
            return Code.valueOf(name);
        } catch (IllegalArgumentException unknown) {
            return Code.INTERNAL;
        }
    }

    private static TlsFailure tlsFailureOf(String name) {
        if (name == null) {
            return null;
        }
        try {
            return TlsFailure.valueOf(name);
        } catch (IllegalArgumentException unknown) {
            return TlsFailure.HANDSHAKE;
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
    public TlsFailure tlsFailure() {
        return tlsFailure;
    }

    @Override
    public String toString() {
        return "FluvioException[" + code + (tlsFailure == null ? "" : " " + tlsFailure) + "]: " + getMessage();
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

    /** Makes native code panic (tests check it surfaces as {@code INTERNAL}). */
    static void panicInNativeCode() {
        NativeLibrary.load();
        nativeTestPanic();
    }

    private static native String nativeCodeNames();

    private static native String nativeTlsFailureNames();

    private static native void nativeTestPanic();
}
