package com.infinyon.fluvio;

import java.lang.System.Logger.Level;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * Native events through {@link System.Logger} ({@code java.util.logging} unless a
 * {@code System.LoggerFinder} says otherwise).
 *
 * <p>Thread-safety: thread-safe.
 */
final class SystemLoggerBackend implements FluvioLogging.Backend {
    private final Function<String, System.Logger> factory;
    private final Map<String, System.Logger> loggers = new ConcurrentHashMap<>();

    SystemLoggerBackend() {
        this(System::getLogger);
    }

    /** With the loggers {@code factory} makes (tests). */
    SystemLoggerBackend(Function<String, System.Logger> factory) {
        this.factory = factory;
    }

    @Override
    public String name() {
        return "system";
    }

    @Override
    public int level(String name) {
        System.Logger logger = logger(name);
        if (logger.isLoggable(Level.TRACE)) {
            return FluvioLogging.LEVEL_TRACE;
        } else if (logger.isLoggable(Level.DEBUG)) {
            return FluvioLogging.LEVEL_DEBUG;
        } else if (logger.isLoggable(Level.INFO)) {
            return FluvioLogging.LEVEL_INFO;
        } else if (logger.isLoggable(Level.WARNING)) {
            return FluvioLogging.LEVEL_WARN;
        } else if (logger.isLoggable(Level.ERROR)) {
            return FluvioLogging.LEVEL_ERROR;
        }
        return FluvioLogging.LEVEL_OFF;
    }

    @Override
    public void log(String name, int level, String message) {
        logger(name).log(systemLevel(level), message);
    }

    private System.Logger logger(String name) {
        return loggers.computeIfAbsent(name, factory);
    }

    private static Level systemLevel(int level) {
        switch (level) {
            case FluvioLogging.LEVEL_ERROR:
                return Level.ERROR;
            case FluvioLogging.LEVEL_WARN:
                return Level.WARNING;
            case FluvioLogging.LEVEL_INFO:
                return Level.INFO;
            case FluvioLogging.LEVEL_DEBUG:
                return Level.DEBUG;
            default:
                return Level.TRACE;
        }
    }
}
