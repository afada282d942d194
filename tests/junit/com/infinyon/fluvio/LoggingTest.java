package com.infinyon.fluvio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.ResourceBundle;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Native events reach the JVM's logging: through SLF4J 2 (the test class path has it, with
 * {@link CapturingSlf4jProvider}) and through {@link System.Logger} (a capturing logger
 * factory), each logger at the level its configuration gives, read at load and by
 * {@link FluvioLogging#refresh()}; events below it never cross into Java (every crossing is
 * recorded). Real events: connections, TLS refusals, retries, lost connections, leader changes
 * and the embedded cluster's failover.
 */
@Timeout(120)
class LoggingTest extends ClusterTestBase {
    private static final String ENGINE = "com.infinyon.fluvio.engine";
    private static final String LOCAL = "com.infinyon.fluvio.local";
    private static final String JNI = "com.infinyon.fluvio.jni";
    private static final String TLS = "com.infinyon.fluvio.tls";
    private static final Duration WAIT = Duration.ofSeconds(30);

    @Override
    int spus() {
        return 2;
    }

    /** Records every event native code hands over, then passes it on. */
    static final class Recording implements FluvioLogging.Backend {
        final FluvioLogging.Backend next;
        final List<LogEvent> crossings = new ArrayList<>();

        Recording(FluvioLogging.Backend next) {
            this.next = next;
        }

        /** Records what goes to {@code next}, from now on. */
        static Recording of(FluvioLogging.Backend next) {
            Recording recording = new Recording(next);
            FluvioLogging.use(recording);
            return recording;
        }

        /** Records what goes to SLF4J (the capturing provider), from now on. */
        static Recording slf4j() {
            return of(FluvioLogging.detect());
        }

        @Override
        public String name() {
            return next.name();
        }

        @Override
        public int level(String logger) {
            return next.level(logger);
        }

        @Override
        public void log(String logger, int level, String message) {
            synchronized (crossings) {
                crossings.add(new LogEvent(logger, level, message));
            }
            next.log(logger, level, message);
        }

        List<LogEvent> with(String text) {
            synchronized (crossings) {
                return crossings.stream().filter(c -> c.message.contains(text)).collect(Collectors.toList());
            }
        }
    }

    /** A System.Logger keeping what it logs, with the level the test sets per logger. */
    static final class CapturingSystemLogger implements System.Logger {
        static final Map<String, Level> LEVELS = new ConcurrentHashMap<>();
        static final List<String> EVENTS = new ArrayList<>();
        private final String name;

        CapturingSystemLogger(String name) {
            this.name = name;
        }

        @Override
        public String getName() {
            return name;
        }

        @Override
        public boolean isLoggable(Level level) {
            return level.getSeverity() >= LEVELS.getOrDefault(name, Level.OFF).getSeverity();
        }

        @Override
        public void log(Level level, ResourceBundle bundle, String message, Throwable thrown) {
            synchronized (EVENTS) {
                EVENTS.add(level + " " + name + ": " + message);
            }
        }

        @Override
        public void log(Level level, ResourceBundle bundle, String format, Object... params) {
            log(level, bundle, format, (Throwable) null);
        }

        static List<String> with(String text) {
            synchronized (EVENTS) {
                return EVENTS.stream().filter(e -> e.contains(text)).collect(Collectors.toList());
            }
        }
    }

    @AfterEach
    void defaultLogging() {
        CapturingSlf4jProvider.resetLevels();
        CapturingSystemLogger.LEVELS.clear();
        FluvioLogging.use(FluvioLogging.detect());
    }

    private static void eventually(String what, Supplier<Boolean> condition) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.get()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(10);
        }
    }

    private static String marker() {
        return "m-" + UUID.randomUUID().toString().substring(0, 8);
    }

    private static List<Integer> slf4jLevels(String logger, String text) {
        return CapturingSlf4jProvider.events().stream()
                .filter(e -> e.logger.equals(logger) && e.message.contains(text))
                .map(e -> e.level)
                .collect(Collectors.toList());
    }

    /**
     * Emits one event per level under the engine's logger, then under the JNI layer's, and
     * waits until the JNI layer's ERROR event crossed: events cross in order, so everything
     * enabled before it crossed too.
     */
    private static void emitAndWait(Recording recording, String marker) throws InterruptedException {
        FluvioLogging.nativeEmitTestEvents(0, marker);
        FluvioLogging.nativeEmitTestEvents(1, marker);
        eventually("the fence event", () -> recording.with(marker).stream()
                .anyMatch(c -> c.logger.equals(JNI) && c.level == FluvioLogging.LEVEL_ERROR));
    }

    private static List<Integer> crossedLevels(Recording recording, String logger, String marker) {
        return recording.with(marker).stream().filter(c -> c.logger.equals(logger)).map(c -> c.level)
                .collect(Collectors.toList());
    }

    @Test
    void slf4jIsUsedWhenItIsOnTheClassPath() {
        assertEquals("slf4j", FluvioLogging.backend());
    }

    @Test
    void slf4jEventsArriveAtTheirLevelsAndDisabledOnesNeverCross() throws Exception {
        CapturingSlf4jProvider.setLevel(ENGINE, org.slf4j.event.Level.INFO);
        CapturingSlf4jProvider.setLevel(JNI, org.slf4j.event.Level.ERROR);
        Recording recording = Recording.slf4j();
        String marker = marker();
        emitAndWait(recording, marker);

        assertEquals(List.of(FluvioLogging.LEVEL_INFO, FluvioLogging.LEVEL_WARN, FluvioLogging.LEVEL_ERROR),
                crossedLevels(recording, ENGINE, marker), "DEBUG and TRACE never crossed");
        assertEquals(List.of(FluvioLogging.LEVEL_ERROR), crossedLevels(recording, JNI, marker));
        assertEquals(List.of(FluvioLogging.LEVEL_INFO, FluvioLogging.LEVEL_WARN, FluvioLogging.LEVEL_ERROR),
                slf4jLevels(ENGINE, marker), "SLF4J got them at their levels");
        assertEquals(List.of(FluvioLogging.LEVEL_ERROR), slf4jLevels(JNI, marker));
        assertTrue(recording.with(marker).get(0).message.startsWith("test event marker=" + marker));
    }

    @Test
    void refreshReadsTheLevelsAgain() throws Exception {
        CapturingSlf4jProvider.setLevel("com.infinyon.fluvio", org.slf4j.event.Level.ERROR);
        Recording recording = Recording.slf4j();
        String before = marker();
        emitAndWait(recording, before);
        assertEquals(List.of(FluvioLogging.LEVEL_ERROR), crossedLevels(recording, ENGINE, before));

        // The configuration changes: nothing more crosses until refresh() reads it.
        CapturingSlf4jProvider.setLevel(ENGINE, org.slf4j.event.Level.TRACE);
        String unchanged = marker();
        emitAndWait(recording, unchanged);
        assertEquals(List.of(FluvioLogging.LEVEL_ERROR), crossedLevels(recording, ENGINE, unchanged));

        FluvioLogging.refresh();
        String after = marker();
        emitAndWait(recording, after);
        assertEquals(List.of(FluvioLogging.LEVEL_TRACE, FluvioLogging.LEVEL_DEBUG, FluvioLogging.LEVEL_INFO,
                FluvioLogging.LEVEL_WARN, FluvioLogging.LEVEL_ERROR), crossedLevels(recording, ENGINE, after));
        assertEquals(5, slf4jLevels(ENGINE, after).size());
    }

    @Test
    void systemLoggerEventsArriveAtTheirLevelsAndDisabledOnesNeverCross() throws Exception {
        CapturingSystemLogger.LEVELS.put(ENGINE, Level.WARNING);
        CapturingSystemLogger.LEVELS.put(JNI, Level.ERROR);
        Recording recording = Recording.of(new SystemLoggerBackend(CapturingSystemLogger::new));
        assertEquals("system", FluvioLogging.backend());
        String marker = marker();
        emitAndWait(recording, marker);

        assertEquals(List.of(FluvioLogging.LEVEL_WARN, FluvioLogging.LEVEL_ERROR),
                crossedLevels(recording, ENGINE, marker), "INFO, DEBUG and TRACE never crossed");
        List<String> logged = CapturingSystemLogger.with(marker);
        assertEquals(3, logged.size(), logged::toString);
        assertTrue(logged.get(0).startsWith("WARNING " + ENGINE + ": test event"), logged::toString);
        assertTrue(logged.get(1).startsWith("ERROR " + ENGINE), logged::toString);
        assertTrue(logged.get(2).startsWith("ERROR " + JNI), logged::toString);
    }

    /**
     * A logging API that stalls: the native queue (4,096 events) fills, later events are
     * dropped and counted instead of blocking the threads that emit them, and once the API
     * takes events again a warning reports how many were dropped. Every event emitted is
     * either delivered, in order, or counted. (Were the emitting thread blocked by the full
     * queue, the emitting loop would hang until the class's timeout.)
     */
    @Test
    void eventsAJammedLoggingApiCannotTakeAreDroppedCountedAndReported() throws Exception {
        CountDownLatch jammed = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Recording recording = Recording.of(new FluvioLogging.Backend() {
            @Override
            public String name() {
                return "jammed";
            }

            @Override
            public int level(String logger) {
                return FluvioLogging.LEVEL_INFO;
            }

            @Override
            public void log(String logger, int level, String message) {
                jammed.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        });
        String marker = marker();
        // Three events a call cross at INFO (info, warn, error): 15,000 in all.
        int calls = 5_000;
        FluvioLogging.nativeEmitTestEvents(1, marker);
        assertTrue(jammed.await(WAIT.toMillis(), TimeUnit.MILLISECONDS), "the first event crossed");
        for (int i = 1; i < calls; i++) {
            FluvioLogging.nativeEmitTestEvents(1, marker);
        }
        release.countDown();
        Pattern report = Pattern.compile("^(\\d+) log events were dropped");
        long[] dropped = {0};
        eventually("the report of dropped events", () -> {
            dropped[0] = 0;
            for (LogEvent event : recording.with("log events were dropped")) {
                Matcher matcher = report.matcher(event.message);
                if (event.logger.equals(JNI) && event.level == FluvioLogging.LEVEL_WARN && matcher.find()) {
                    dropped[0] += Long.parseLong(matcher.group(1));
                }
            }
            return dropped[0] > 0;
        });
        // A fence after the jam: once it arrived, everything queued before it did too.
        String fence = marker();
        FluvioLogging.nativeEmitTestEvents(1, fence);
        eventually("the fence", () -> recording.with(fence).stream().anyMatch(e -> e.level == FluvioLogging.LEVEL_ERROR));
        long crossed = recording.with(marker).size();
        long emitted = 3L * calls;
        assertTrue(crossed <= 4_096 + 1, "no more than the queue holds crossed while jammed: " + crossed);
        // Events of the cluster's own may be counted among the dropped ones too.
        assertTrue(crossed + dropped[0] >= emitted, crossed + " delivered and " + dropped[0] + " dropped of " + emitted);
    }

    @Test
    void everythingOffSendsNothing() throws Exception {
        CapturingSystemLogger.LEVELS.put(JNI, Level.ERROR);
        Recording recording = Recording.of(new SystemLoggerBackend(CapturingSystemLogger::new));
        String marker = marker();
        emitAndWait(recording, marker);
        assertEquals(List.of(), crossedLevels(recording, ENGINE, marker));
        try (Fluvio client = cluster.connect()) {
            assertFalse(client.admin().listSpus().isEmpty());
        }
        emitAndWait(recording, marker());
        synchronized (recording.crossings) {
            assertTrue(recording.crossings.stream().allMatch(c -> c.logger.equals(JNI)),
                    () -> "only the enabled JNI events crossed: " + recording.crossings);
        }
    }

    @Test
    void connectionsRetriesLostConnectionsLeaderChangesAndFailoverAreLogged() throws Exception {
        CapturingSlf4jProvider.setLevel(ENGINE, org.slf4j.event.Level.DEBUG);
        CapturingSlf4jProvider.setLevel(LOCAL, org.slf4j.event.Level.INFO);
        Recording recording = Recording.slf4j();

        try (Fluvio client = cluster.connect()) {
            eventually("a connection event", () -> !recording.with("connected addr=" + cluster.endpoint()).isEmpty());
            assertEquals(FluvioLogging.LEVEL_DEBUG, recording.with("connected addr=" + cluster.endpoint()).get(0).level);

            String topic = "logged-" + UUID.randomUUID().toString().substring(0, 8);
            client.admin().createTopic(topic, 1, 2);
            int leader = client.admin().listPartitions(topic).get(0).spec().leader();
            try (TopicProducer producer = client.topicProducer(topic)) {
                producer.send("k", "before").get();
                cluster.killSpu(leader);
                // The engine sees the connection go, the cluster declares the SPU offline and
                // elects the other replica, the engine follows the leader change.
                producer.send("k", "after").get(WAIT);
            } finally {
                cluster.startSpu(leader);
            }
            eventually("a lost connection, a leader change and an election", () ->
                    recording.with("connection lost").stream().anyMatch(c -> c.level == FluvioLogging.LEVEL_WARN)
                    && recording.with("partition leader changed").stream()
                            .anyMatch(c -> c.logger.equals(ENGINE) && c.level == FluvioLogging.LEVEL_INFO)
                    && recording.with("leader elected").stream()
                            .anyMatch(c -> c.logger.equals(LOCAL) && c.level == FluvioLogging.LEVEL_INFO));
        }
    }

    @Test
    void retriesAreLoggedAsWarnings() throws Exception {
        CapturingSlf4jProvider.setLevel(ENGINE, org.slf4j.event.Level.WARN);
        Recording recording = Recording.slf4j();
        String topic = newTopic(1);
        int spu = fluvio.admin().listPartitions(topic).get(0).spec().leader();
        try (TopicProducer producer = fluvio.topicProducer(topic)) {
            producer.send("k", "v").get();
            cluster.killSpu(spu);
            ProduceOutput pending = producer.send("k", "during the outage");
            eventually("a retry", () -> recording.with("retrying delivery").stream()
                    .anyMatch(c -> c.logger.equals(ENGINE) && c.level == FluvioLogging.LEVEL_WARN
                            && c.message.contains("topic=" + topic)));
            cluster.startSpu(spu);
            pending.get(WAIT);
        }
    }

    /** Connects over TLS to the plain-TCP cluster: a handshake that starts, then fails. */
    private void connectOverTlsAndBeRefused() {
        FluvioConfig config = FluvioConfig.builder().endpoint(cluster.endpoint())
                .tls(TlsConfig.anonymousInsecure()).build();
        FluvioException e = org.junit.jupiter.api.Assertions.assertThrows(FluvioException.class,
                () -> Fluvio.connect(config).close());
        assertEquals(FluvioException.Code.TLS, e.code());
    }

    @Test
    void rustlsHandshakeStepsArriveUnderTheTlsLoggerAtItsLevel() throws Exception {
        CapturingSlf4jProvider.setLevel(TLS, org.slf4j.event.Level.DEBUG);
        Recording recording = Recording.slf4j();
        connectOverTlsAndBeRefused();
        eventually("rustls's events", () -> recording.with("").stream()
                .anyMatch(c -> c.logger.equals(TLS) && c.level == FluvioLogging.LEVEL_DEBUG));
        assertTrue(recording.with("").stream()
                .filter(c -> c.logger.equals(TLS)).allMatch(c -> c.level <= FluvioLogging.LEVEL_DEBUG),
                "rustls's TRACE records never crossed");
        assertFalse(slf4jLevels(TLS, "").isEmpty(), "SLF4J got them");
    }

    @Test
    void tlsRefusalsAreLoggedAsErrors() throws Exception {
        CapturingSlf4jProvider.setLevel(ENGINE, org.slf4j.event.Level.ERROR);
        Recording recording = Recording.slf4j();
        connectOverTlsAndBeRefused();
        eventually("a TLS refusal", () -> recording.with("TLS refused").stream()
                .anyMatch(c -> c.logger.equals(ENGINE) && c.level == FluvioLogging.LEVEL_ERROR
                        && c.message.contains("addr=" + cluster.endpoint())));
    }
}
