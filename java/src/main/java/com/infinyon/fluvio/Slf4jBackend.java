package com.infinyon.fluvio;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;
import org.slf4j.ILoggerFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.helpers.NOPLoggerFactory;

/**
 * Native events through SLF4J 2. Loaded only when SLF4J is on the class path (an optional
 * dependency: the library needs nothing at run time).
 *
 * <p>Thread-safety: thread-safe.
 */
final class Slf4jBackend implements FluvioLogging.Backend {
    private final ILoggerFactory factory;
    private final Map<String, Logger> loggers = new ConcurrentHashMap<>();

    private Slf4jBackend(ILoggerFactory factory) {
        this.factory = factory;
    }

    /** The backend, or null when SLF4J has no provider (it would drop every event). */
    static @Nullable Slf4jBackend ifBound() {
        ILoggerFactory factory = LoggerFactory.getILoggerFactory();
        return factory instanceof NOPLoggerFactory ? null : new Slf4jBackend(factory);
    }

    @Override
    public String name() {
        return "slf4j";
    }

    @Override
    public int level(String name) {
        Logger logger = logger(name);
        if (logger.isTraceEnabled()) {
            return FluvioLogging.LEVEL_TRACE;
        } else if (logger.isDebugEnabled()) {
            return FluvioLogging.LEVEL_DEBUG;
        } else if (logger.isInfoEnabled()) {
            return FluvioLogging.LEVEL_INFO;
        } else if (logger.isWarnEnabled()) {
            return FluvioLogging.LEVEL_WARN;
        } else if (logger.isErrorEnabled()) {
            return FluvioLogging.LEVEL_ERROR;
        }
        return FluvioLogging.LEVEL_OFF;
    }

    @Override
    public void log(String name, int level, String message) {
        Logger logger = logger(name);
        switch (level) {
            case FluvioLogging.LEVEL_ERROR:
                logger.error(message);
                break;
            case FluvioLogging.LEVEL_WARN:
                logger.warn(message);
                break;
            case FluvioLogging.LEVEL_INFO:
                logger.info(message);
                break;
            case FluvioLogging.LEVEL_DEBUG:
                logger.debug(message);
                break;
            default:
                logger.trace(message);
                break;
        }
    }

    private Logger logger(String name) {
        return loggers.computeIfAbsent(name, factory::getLogger);
    }
}
