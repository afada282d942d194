package com.infinyon.fluvio;

/** One log event of the tests: its logger, its level ({@code FluvioLogging.LEVEL_*}), its message. */
final class LogEvent {
    final String logger;
    final int level;
    final String message;

    LogEvent(String logger, int level, String message) {
        this.logger = logger;
        this.level = level;
        this.message = message;
    }

    @Override
    public String toString() {
        return level + " " + logger + ": " + message;
    }
}
