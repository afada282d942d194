package com.infinyon.fluvio;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.ILoggerFactory;
import org.slf4j.IMarkerFactory;
import org.slf4j.Marker;
import org.slf4j.event.Level;
import org.slf4j.helpers.AbstractLogger;
import org.slf4j.helpers.BasicMarkerFactory;
import org.slf4j.helpers.NOPMDCAdapter;
import org.slf4j.spi.MDCAdapter;
import org.slf4j.spi.SLF4JServiceProvider;

/**
 * An SLF4J 2 provider for the tests (registered in tests/junit-resources): each logger's level
 * is set by the test ({@link #setLevel}; a logger without one inherits its parent's, the root's
 * is WARN), and every event logged under {@code com.infinyon.fluvio} is kept
 * ({@link #events()}, the last 10,000 at most), with its level as a {@code FluvioLogging.LEVEL_*}.
 */
public final class CapturingSlf4jProvider implements SLF4JServiceProvider {
    /** Events kept at most: the oldest go first (every test of the JVM logs here). */
    private static final int KEPT = 10_000;
    private static final Map<String, Level> LEVELS = new ConcurrentHashMap<>();
    private static final List<LogEvent> EVENTS = new ArrayList<>();

    /** Sets the level of {@code logger} and of the loggers below it without one. */
    static void setLevel(String logger, Level level) {
        LEVELS.put(logger, level);
    }

    /** Forgets the levels set. */
    static void resetLevels() {
        LEVELS.clear();
    }

    /** The events kept so far. */
    static List<LogEvent> events() {
        synchronized (EVENTS) {
            return new ArrayList<>(EVENTS);
        }
    }

    static void clear() {
        synchronized (EVENTS) {
            EVENTS.clear();
        }
    }

    /** {@code level} as a {@code FluvioLogging.LEVEL_*}. */
    private static int fluvioLevel(Level level) {
        switch (level) {
            case ERROR:
                return FluvioLogging.LEVEL_ERROR;
            case WARN:
                return FluvioLogging.LEVEL_WARN;
            case INFO:
                return FluvioLogging.LEVEL_INFO;
            case DEBUG:
                return FluvioLogging.LEVEL_DEBUG;
            default:
                return FluvioLogging.LEVEL_TRACE;
        }
    }

    private static Level levelOf(String name) {
        for (String current = name; ; current = current.substring(0, current.lastIndexOf('.'))) {
            Level level = LEVELS.get(current);
            if (level != null) {
                return level;
            }
            if (current.indexOf('.') < 0) {
                return Level.WARN;
            }
        }
    }

    private final ILoggerFactory factory = CapturingLogger::new;
    private final IMarkerFactory markers = new BasicMarkerFactory();
    private final MDCAdapter mdc = new NOPMDCAdapter();

    @Override
    public ILoggerFactory getLoggerFactory() {
        return factory;
    }

    @Override
    public IMarkerFactory getMarkerFactory() {
        return markers;
    }

    @Override
    public MDCAdapter getMDCAdapter() {
        return mdc;
    }

    @Override
    public String getRequestedApiVersion() {
        return "2.0.99";
    }

    @Override
    public void initialize() {}

    /** Keeps every event it is handed that its level lets through. */
    private static final class CapturingLogger extends AbstractLogger {
        private static final long serialVersionUID = 1L;

        CapturingLogger(String name) {
            this.name = name;
        }

        private boolean enabled(Level level) {
            return level.toInt() >= levelOf(name).toInt();
        }

        @Override
        public boolean isTraceEnabled() {
            return enabled(Level.TRACE);
        }

        @Override
        public boolean isTraceEnabled(Marker marker) {
            return isTraceEnabled();
        }

        @Override
        public boolean isDebugEnabled() {
            return enabled(Level.DEBUG);
        }

        @Override
        public boolean isDebugEnabled(Marker marker) {
            return isDebugEnabled();
        }

        @Override
        public boolean isInfoEnabled() {
            return enabled(Level.INFO);
        }

        @Override
        public boolean isInfoEnabled(Marker marker) {
            return isInfoEnabled();
        }

        @Override
        public boolean isWarnEnabled() {
            return enabled(Level.WARN);
        }

        @Override
        public boolean isWarnEnabled(Marker marker) {
            return isWarnEnabled();
        }

        @Override
        public boolean isErrorEnabled() {
            return enabled(Level.ERROR);
        }

        @Override
        public boolean isErrorEnabled(Marker marker) {
            return isErrorEnabled();
        }

        @Override
        protected String getFullyQualifiedCallerName() {
            return null;
        }

        @Override
        protected void handleNormalizedLoggingCall(Level level, Marker marker, String message, Object[] arguments,
                Throwable throwable) {
            if (name.startsWith("com.infinyon.fluvio")) {
                synchronized (EVENTS) {
                    if (EVENTS.size() >= KEPT) {
                        EVENTS.subList(0, KEPT / 2).clear();
                    }
                    EVENTS.add(new LogEvent(name, fluvioLevel(level), message));
                }
            }
        }
    }
}
