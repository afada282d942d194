package com.infinyon.fluvio;

/**
 * Where the native side's events go: the JVM's logging. The engine, the embedded cluster and
 * the library log through SLF4J 2 when its API is on the class path (and bound to a provider),
 * through {@link System.Logger} otherwise, under five loggers:
 *
 * <ul>
 *   <li>{@code com.infinyon.fluvio.engine}: the client (connections, leader changes, retries,
 *       TLS refusals, stream failovers);</li>
 *   <li>{@code com.infinyon.fluvio.local}: the embedded cluster ({@link LocalCluster}: SPUs
 *       going offline, leader elections);</li>
 *   <li>{@code com.infinyon.fluvio.transport}: framing and TLS;</li>
 *   <li>{@code com.infinyon.fluvio.tls}: rustls, the TLS implementation, step by step through
 *       each handshake (client and embedded cluster alike; at DEBUG and TRACE only, as the
 *       JSSE's {@code javax.net.debug} would);</li>
 *   <li>{@code com.infinyon.fluvio.jni}: this library's native layer.</li>
 * </ul>
 *
 * <p>The level of each comes from the logging configuration, read when the native library
 * loads and again by {@link #refresh()}: events below it are dropped in native code, before
 * they are formatted, and never cross into Java. Events reach the logging backend in order on
 * one daemon thread, {@code fluvio-log}; should the backend not keep up (more than 4096 events
 * waiting), events are dropped and their number is logged as a warning.
 *
 * <p>Thread-safety: thread-safe.
 */
public final class FluvioLogging {
    /** Levels as they cross (pinned by the native library's contract). */
    static final int LEVEL_OFF = 0;
    static final int LEVEL_ERROR = 1;
    static final int LEVEL_WARN = 2;
    static final int LEVEL_INFO = 3;
    static final int LEVEL_DEBUG = 4;
    static final int LEVEL_TRACE = 5;

    private static volatile Backend backend;

    private FluvioLogging() {}

    /**
     * Reads the loggers' levels from the logging configuration again: call it after changing
     * the configuration at run time (e.g. after a logback reload). Loads the native library if
     * needed.
     */
    public static void refresh() {
        NativeLibrary.load();
        apply();
    }

    /**
     * The logging used: {@code "slf4j"} or {@code "system"} ({@link System.Logger}).
     *
     * @return its name
     */
    public static String backend() {
        return current().name();
    }

    /** Sends the levels of the current backend's loggers to native code (the library is loaded). */
    static synchronized void apply() {
        Backend current = current();
        String[] names = nativeLoggerNames();
        int[] levels = new int[names.length];
        for (int i = 0; i < names.length; i++) {
            levels[i] = current.level(names[i]);
        }
        nativeSetLevels(levels);
    }

    /** Logs through {@code next} from now on (tests), with its levels. */
    static void use(Backend next) {
        backend = next;
        refresh();
    }

    private static Backend current() {
        Backend current = backend;
        if (current == null) {
            synchronized (FluvioLogging.class) {
                if (backend == null) {
                    backend = detect();
                }
                current = backend;
            }
        }
        return current;
    }

    /** SLF4J 2 when it is present and bound to a provider, else {@link System.Logger}. */
    static Backend detect() {
        try {
            Class.forName("org.slf4j.spi.SLF4JServiceProvider", false, FluvioLogging.class.getClassLoader());
        } catch (ClassNotFoundException | LinkageError absent) {
            return new SystemLoggerBackend();
        }
        try {
            Backend slf4j = Slf4jBackend.ifBound();
            return slf4j != null ? slf4j : new SystemLoggerBackend();
        } catch (RuntimeException | LinkageError unusable) {
            // An SLF4J that cannot start (e.g. a 1.x binding with the 2.x API) must not stop the
            // library from loading.
            return new SystemLoggerBackend();
        }
    }

    /** Called by native code, on the {@code fluvio-log} thread, for each enabled event. */
    static void log(String logger, int level, String message) {
        current().log(logger, level, message);
    }

    /** Names the loggers native code logs under, in the order of {@link #nativeSetLevels}. */
    static native String[] nativeLoggerNames();

    /** The most verbose level enabled for each logger ({@code LEVEL_*}). */
    static native void nativeSetLevels(int[] levels);

    /** Test hook: one event per level, under the engine's logger (0) or the JNI layer's (1). */
    static native void nativeEmitTestEvents(int logger, String marker);

    /**
     * A logging API events are handed to.
     *
     * <p>Thread-safety: implementations are thread-safe.
     */
    interface Backend {
        /** Its name. */
        String name();

        /** The most verbose level enabled for {@code logger} ({@code LEVEL_*}). */
        int level(String logger);

        /** Logs {@code message} at {@code level} (already known to be enabled). */
        void log(String logger, int level, String message);
    }
}
