package com.infinyon.fluvio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * Connecting: by endpoint, by {@link FluvioConfig}, by profile file (explicit path, and
 * {@code FLV_PROFILE_PATH} in a child JVM); connection failures (closed port, silent server,
 * cluster gone) with their codes and time bounds; two clients to two clusters at once.
 */
class ConnectTest extends ClusterTestBase {
    /** Connection codes a client may report once its cluster is gone. */
    private static final Set<FluvioException.Code> CONNECTION_CODES = EnumSet.of(FluvioException.Code.CONNECT,
            FluvioException.Code.CONNECT_TIMEOUT, FluvioException.Code.CONNECTION_CLOSED, FluvioException.Code.TIMEOUT);

    @TempDir
    Path dir;

    static FluvioException expectCode(FluvioException.Code code, Executable call) {
        FluvioException e = assertThrows(FluvioException.class, call);
        assertEquals(code, e.code(), () -> "unexpected failure: " + e);
        return e;
    }

    /** A 127.0.0.1 port nothing listens on. */
    static int closedPort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    /** Writes a profile file in the official format: profile name to endpoint. */
    static Path writeProfiles(Path file, String current, Map<String, String> endpoints) throws IOException {
        StringBuilder toml = new StringBuilder("version = \"2.0\"\n");
        if (current != null) {
            toml.append("current_profile = \"").append(current).append("\"\n");
        }
        for (String name : endpoints.keySet()) {
            toml.append("\n[profile.").append(name).append("]\ncluster = \"").append(name).append("\"\n");
        }
        for (Map.Entry<String, String> entry : endpoints.entrySet()) {
            toml.append("\n[cluster.").append(entry.getKey()).append("]\nendpoint = \"").append(entry.getValue())
                    .append("\"\n");
        }
        Files.write(file, toml.toString().getBytes(StandardCharsets.UTF_8));
        return file;
    }

    private static List<String> topicNames(Fluvio client) {
        return client.admin().listTopics().stream().map(TopicMetadata::name).collect(Collectors.toList());
    }

    @Test
    void connectsByEndpoint() {
        String topic = newTopic(1);
        try (Fluvio client = Fluvio.connect(cluster.endpoint())) {
            assertTrue(topicNames(client).contains(topic));
            assertFalse(client.platformVersion().isEmpty());
        }
        // A host name works as well as an address.
        String port = cluster.endpoint().substring(cluster.endpoint().lastIndexOf(':') + 1);
        try (Fluvio client = Fluvio.connect("localhost:" + port)) {
            assertTrue(topicNames(client).contains(topic));
        }
    }

    @Test
    void connectsByConfig() {
        FluvioConfig config = FluvioConfig.builder()
                .endpoint(cluster.endpoint())
                .clientId("connect-test")
                .connectTimeout(Duration.ofSeconds(3))
                .requestTimeout(Duration.ofSeconds(5))
                .build();
        assertEquals(cluster.endpoint(), config.endpoint());
        assertEquals("connect-test", config.clientId());
        assertEquals(Duration.ofSeconds(3), config.connectTimeout());
        assertEquals(Duration.ofSeconds(5), config.requestTimeout());
        assertFalse(config.useSpuLocalAddress());
        try (Fluvio client = Fluvio.connect(config)) {
            String topic = "by-config-" + UUID.randomUUID().toString().substring(0, 8);
            client.admin().createTopic(topic, 1, 1);
            assertTrue(topicNames(fluvio).contains(topic), "visible to the other client");
            try (TopicProducer producer = client.topicProducer(topic)) {
                assertEquals(0, producer.send("k", "v").get(Duration.ofSeconds(10)).offset());
            }
        }
    }

    @Test
    void connectsByProfileFile() throws IOException {
        String topic = newTopic(1);
        Map<String, String> profiles = new LinkedHashMap<>();
        profiles.put("local", cluster.endpoint());
        profiles.put("down", "127.0.0.1:" + closedPort());
        Path file = writeProfiles(dir.resolve("config"), "local", profiles);

        try (Fluvio current = Fluvio.connectWithProfile(file, null)) {
            assertTrue(topicNames(current).contains(topic));
        }
        try (Fluvio named = Fluvio.connectWithProfile(file, "local")) {
            assertTrue(topicNames(named).contains(topic));
        }
        FluvioException down = expectCode(FluvioException.Code.CONNECT, () -> Fluvio.connectWithProfile(file, "down"));
        assertTrue(down.isRetriable());

        FluvioException unknown =
                expectCode(FluvioException.Code.PROFILE, () -> Fluvio.connectWithProfile(file, "missing"));
        assertFalse(unknown.isRetriable());
        expectCode(FluvioException.Code.PROFILE, () -> Fluvio.connectWithProfile(dir.resolve("absent"), null));
        expectCode(FluvioException.Code.PROFILE, () -> Fluvio.connectWithProfile(dir.resolve("absent"), "local"));

        // The current profile names a profile that is not in the file.
        Path dangling = writeProfiles(dir.resolve("dangling"), "elsewhere", profiles);
        expectCode(FluvioException.Code.PROFILE, () -> Fluvio.connectWithProfile(dangling, null));
        // No current profile: only an explicit name works.
        Path noCurrent = writeProfiles(dir.resolve("no-current"), null, profiles);
        expectCode(FluvioException.Code.PROFILE, () -> Fluvio.connectWithProfile(noCurrent, null));
        Fluvio.connectWithProfile(noCurrent, "local").close();
        // Not TOML at all.
        Path garbage = Files.write(dir.resolve("garbage"), "this is [not toml".getBytes(StandardCharsets.UTF_8));
        expectCode(FluvioException.Code.PROFILE, () -> Fluvio.connectWithProfile(garbage, null));
    }

    /** Runs {@link ProfileConnectMain} in a child JVM; returns its output lines. */
    static List<String> runChild(Path profilePath, String... args) throws Exception {
        List<String> command = new ArrayList<>();
        command.add(Paths.get(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-Xcheck:jni");
        String libraryPath = System.getProperty("java.library.path");
        if (libraryPath != null) {
            command.add("-Djava.library.path=" + libraryPath);
        }
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(ProfileConnectMain.class.getName());
        command.addAll(Arrays.asList(args));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().put("FLV_PROFILE_PATH", profilePath.toString());
        Process process = builder.start();
        process.getOutputStream().close();
        ByteArrayOutputStream output = new ByteArrayOutputStream();
        ExecutorService reader = Executors.newSingleThreadExecutor();
        try {
            Future<?> copied = reader.submit((Callable<Void>) () -> {
                try (InputStream in = process.getInputStream()) {
                    in.transferTo(output);
                }
                return null;
            });
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new AssertionError("the child JVM did not finish within 60 s");
            }
            copied.get(10, TimeUnit.SECONDS);
        } finally {
            reader.shutdownNow();
        }
        String text = output.toString(StandardCharsets.UTF_8);
        assertEquals(0, process.exitValue(), () -> "child JVM failed:\n" + text);
        assertFalse(text.contains("WARNING in native method"), () -> "JNI warnings in the child JVM:\n" + text);
        return Arrays.stream(text.split("\\R")).filter(line -> !line.isEmpty()).collect(Collectors.toList());
    }

    @Test
    void connectAndNamedProfileReadFlvProfilePath() throws Exception {
        String topic = newTopic(1);
        Map<String, String> profiles = new LinkedHashMap<>();
        profiles.put("local", cluster.endpoint());
        profiles.put("down", "127.0.0.1:" + closedPort());
        Path file = writeProfiles(dir.resolve("env-config"), "local", profiles);

        List<String> lines = runChild(file, "current", "local", "down", "missing");
        assertEquals(4, lines.size(), () -> "output: " + lines);
        assertTrue(lines.get(0).startsWith("current topics="), lines.get(0));
        assertTrue(Arrays.asList(lines.get(0).substring("current topics=".length()).split(",")).contains(topic),
                lines.get(0));
        assertTrue(lines.get(1).startsWith("local topics="), lines.get(1));
        assertTrue(lines.get(1).contains(topic), lines.get(1));
        assertEquals("down error=CONNECT", lines.get(2));
        assertEquals("missing error=PROFILE", lines.get(3));

        // FLV_PROFILE_PATH naming a file that does not exist.
        List<String> absent = runChild(dir.resolve("no-such-file"), "current", "local");
        assertEquals(Arrays.asList("current error=PROFILE", "local error=PROFILE"), absent);
    }

    @Test
    void closedPortFailsPromptlyWithConnect() throws IOException {
        String endpoint = "127.0.0.1:" + closedPort();
        long started = System.nanoTime();
        FluvioException e = expectCode(FluvioException.Code.CONNECT, () -> Fluvio.connect(FluvioConfig.builder()
                .endpoint(endpoint).connectTimeout(Duration.ofSeconds(10)).build()));
        Duration elapsed = Duration.ofNanos(System.nanoTime() - started);
        assertTrue(elapsed.compareTo(Duration.ofSeconds(3)) < 0, "failed after " + elapsed);
        assertTrue(e.isRetriable());
    }

    @Test
    void silentServerTimesOutWithinConnectTimeout() throws IOException {
        // The kernel accepts the connection; nobody ever reads or answers.
        try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Duration timeout = Duration.ofMillis(600);
            FluvioConfig config = FluvioConfig.builder()
                    .endpoint("127.0.0.1:" + silent.getLocalPort())
                    .connectTimeout(timeout)
                    .requestTimeout(Duration.ofSeconds(30))
                    .build();
            long started = System.nanoTime();
            FluvioException e = expectCode(FluvioException.Code.CONNECT_TIMEOUT, () -> Fluvio.connect(config));
            Duration elapsed = Duration.ofNanos(System.nanoTime() - started);
            assertTrue(elapsed.compareTo(timeout.minusMillis(50)) >= 0, "gave up after " + elapsed);
            assertTrue(elapsed.compareTo(timeout.plusSeconds(3)) < 0, "gave up after " + elapsed);
            assertTrue(e.isRetriable());
        }
    }

    @Test
    void clientOfAClosedClusterFailsWithinTheRequestTimeout() {
        Duration requestTimeout = Duration.ofSeconds(2);
        LocalCluster doomed = LocalCluster.start();
        try (Fluvio client = Fluvio.connect(FluvioConfig.builder()
                .endpoint(doomed.endpoint())
                .connectTimeout(Duration.ofSeconds(1))
                .requestTimeout(requestTimeout)
                .build())) {
            client.admin().createTopic("doomed", 1, 1);
            TopicProducer producer = client.topicProducer("doomed",
                    TopicProducerConfig.builder().deliverySemantic(DeliverySemantic.atMostOnce()).build());
            producer.send(null, "before").get(Duration.ofSeconds(10));
            doomed.close();

            for (Executable call : Arrays.<Executable>asList(
                    () -> client.admin().listTopics(),
                    () -> client.admin().createTopic("after", 1, 1),
                    () -> client.partitionConsumer("doomed", 0).fetch(Offset.beginning()),
                    () -> {
                        ProduceOutput output = producer.send(null, "after");
                        producer.flush();
                        output.get(Duration.ofSeconds(10));
                    })) {
                long started = System.nanoTime();
                FluvioException e = assertThrows(FluvioException.class, call);
                Duration elapsed = Duration.ofNanos(System.nanoTime() - started);
                assertTrue(CONNECTION_CODES.contains(e.code()), () -> "unexpected failure: " + e);
                assertTrue(e.isRetriable(), () -> "not retriable: " + e);
                assertTrue(elapsed.compareTo(requestTimeout.plusSeconds(3)) < 0, "failed after " + elapsed);
            }
            producer.close();
        } finally {
            doomed.close();
        }
    }

    @Test
    void twoClientsToTwoClustersDoNotMix() throws Exception {
        try (LocalCluster other = LocalCluster.builder().spus(2).build().start();
                Fluvio otherClient = other.connect()) {
            String shared = "shared-" + UUID.randomUUID().toString().substring(0, 8);
            fluvio.admin().createTopic(shared, 1, 1);
            otherClient.admin().createTopic(shared, 2, 1);
            String onlyHere = newTopic(1);
            expectCode(FluvioException.Code.TOPIC_NOT_FOUND, () -> otherClient.admin().topic(onlyHere));
            assertEquals(1, fluvio.admin().listSpus().size());
            assertEquals(2, otherClient.admin().listSpus().size());
            assertEquals(1, fluvio.admin().topic(shared).spec().partitions());
            assertEquals(2, otherClient.admin().topic(shared).spec().partitions());

            int count = 200;
            ExecutorService pool = Executors.newFixedThreadPool(2);
            try {
                Future<List<String>> here = pool.submit(() -> roundTrip(fluvio, shared, "here-", count));
                Future<List<String>> there = pool.submit(() -> roundTrip(otherClient, shared, "there-", count));
                List<String> hereValues = here.get(60, TimeUnit.SECONDS);
                List<String> thereValues = there.get(60, TimeUnit.SECONDS);
                assertEquals(count, hereValues.size());
                assertEquals(count, thereValues.size());
                assertTrue(hereValues.stream().allMatch(v -> v.startsWith("here-")), "only this cluster's records");
                assertTrue(thereValues.stream().allMatch(v -> v.startsWith("there-")), "only that cluster's records");
                assertEquals(count, hereValues.stream().distinct().count());
                assertEquals(count, thereValues.stream().distinct().count());
            } finally {
                pool.shutdownNow();
            }
        }
    }

    /** Produces {@code count} records and reads every partition back while the other client does the same. */
    private static List<String> roundTrip(Fluvio client, String topic, String prefix, int count) {
        try (TopicProducer producer = client.topicProducer(topic)) {
            for (int i = 0; i < count; i++) {
                producer.send(null, prefix + i);
            }
            producer.flush();
        }
        List<String> values = new ArrayList<>();
        try (ConsumerStream stream = client.consumer(topic).stream(Offset.beginning())) {
            while (values.size() < count) {
                Record record = stream.next(Duration.ofSeconds(10));
                assertNotNull(record, "records stopped after " + values.size());
                values.add(record.valueString());
            }
            assertEquals(null, stream.next(Duration.ofMillis(300)), "nothing more");
        }
        return values;
    }
}
