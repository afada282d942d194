package com.infinyon.fluvio;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Enumeration;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The contract between this package and its native library (declared once, in the library's
 * {@code src/contract/java.rs}): the library loads only when every native method, member, enum
 * constant and shared constant matches (checked when it initializes); here, the other
 * direction (every native method Java declares is registered), the packed layouts (samples
 * packed by the library's own code, decoded by this package's own code, every field a distinct
 * value) and the rules of settings (each asked of the library).
 */
class ContractTest {
    private static final String PACKAGE = "com/infinyon/fluvio/";

    @Test
    void theLibraryMatchesTheseClasses() {
        // NativeLibrary.load() refuses a library whose contract differs from these classes.
        NativeLibrary.load();
        assertFalse(NativeLibrary.registeredNatives().isEmpty());
    }

    @Test
    void everyNativeMethodJavaDeclaresIsRegisteredAndNothingElse() throws Exception {
        Set<String> declared = new TreeSet<>();
        for (Class<?> type : packageClasses()) {
            for (Method method : type.getDeclaredMethods()) {
                if (Modifier.isNative(method.getModifiers())) {
                    assertTrue(Modifier.isStatic(method.getModifiers()), method + " is static (house rule)");
                    declared.add(type.getName().replace('.', '/') + "." + method.getName() + " " + descriptor(method));
                }
            }
        }
        // The one native found by its exported name: it registers the others.
        assertTrue(declared.remove(PACKAGE + "NativeLibrary.nativeInit ()Ljava/lang/String;"), "" + declared);
        Set<String> registered = new TreeSet<>(NativeLibrary.registeredNatives());
        Set<String> unregistered = new TreeSet<>(declared);
        unregistered.removeAll(registered);
        assertTrue(unregistered.isEmpty(), "declared in Java, not registered by the library: " + unregistered);
        Set<String> undeclared = new TreeSet<>(registered);
        undeclared.removeAll(declared);
        assertTrue(undeclared.isEmpty(), "registered by the library, not declared in Java: " + undeclared);
    }

    @Test
    void recordsLayout() {
        Record[] records = Record.unpack(NativeLibrary.sample(NativeLibrary.Layout.RECORDS));
        assertEquals(2, records.length);
        assertEquals(7, records[0].partition());
        assertEquals(42, records[0].offset());
        assertEquals(1_700_000_000_123L, records[0].timestamp());
        assertArrayEquals("key".getBytes(StandardCharsets.UTF_8), records[0].key());
        assertEquals("value", records[0].valueString());
        assertEquals(3, records[1].partition());
        assertEquals(43, records[1].offset());
        assertEquals(-1, records[1].timestamp());
        assertNull(records[1].key());
        assertEquals(0, records[1].value().length);
    }

    @Test
    void topicsLayout() {
        List<TopicMetadata> topics = FluvioAdmin.unpackTopics(NativeLibrary.sample(NativeLibrary.Layout.TOPICS));
        assertEquals(1, topics.size());
        TopicMetadata topic = topics.get(0);
        assertEquals("sample", topic.name());
        assertEquals(2, topic.spec().partitions());
        assertEquals(3, topic.spec().replicationFactor());
        assertEquals(Duration.ofSeconds(4), topic.spec().retention());
        assertEquals(5, topic.spec().segmentSize());
        assertEquals(6, topic.spec().maxPartitionSize());
        assertEquals(Compression.GZIP, topic.spec().compression());
        assertTrue(topic.spec().isSystem());
        assertTrue(topic.spec().isComputed());
        assertEquals(TopicMetadata.Resolution.INSUFFICIENT_RESOURCES, topic.status().resolution());
        assertEquals("why", topic.status().reason());
        assertTrue(topic.toJson().startsWith("{") && topic.toJson().contains("\"sample\""), topic.toJson());
        assertTrue(topic.toYaml().contains("name: sample"), topic.toYaml());
    }

    @Test
    void partitionsLayout() {
        List<PartitionMetadata> partitions =
                FluvioAdmin.unpackPartitions(NativeLibrary.sample(NativeLibrary.Layout.PARTITIONS));
        assertEquals(1, partitions.size());
        PartitionMetadata partition = partitions.get(0);
        assertEquals("sample-1", partition.name());
        assertEquals("sample", partition.topic());
        assertEquals(1, partition.partition());
        assertEquals(5001, partition.spec().leader());
        assertEquals(Arrays.asList(5001, 5002), partition.spec().replicas());
        PartitionMetadata.Status status = partition.status();
        assertEquals(PartitionMetadata.Resolution.ELECTION_LEADER_FOUND, status.resolution());
        assertEquals(10, status.highWatermark());
        assertEquals(11, status.logEndOffset());
        assertEquals(7, status.size());
        assertEquals(2, status.inSyncReplicas());
        assertEquals(3, status.logStartOffset());
        assertEquals(5001, status.leader());
        assertEquals(1, status.followers().size());
        assertEquals(5002, status.followers().get(0).spu());
        assertEquals(8, status.followers().get(0).highWatermark());
        assertEquals(9, status.followers().get(0).logEndOffset());
        assertTrue(partition.toJson().contains("sample-1") && partition.toYaml().contains("sample-1"));
    }

    @Test
    void consumersLayout() {
        List<ConsumerMetadata> consumers =
                FluvioAdmin.unpackConsumers(NativeLibrary.sample(NativeLibrary.Layout.CONSUMERS));
        assertEquals(1, consumers.size());
        ConsumerMetadata consumer = consumers.get(0);
        assertEquals("sample-consumer", consumer.name());
        assertEquals("sample", consumer.spec().topic());
        assertEquals(3, consumer.spec().partition());
        assertEquals(41, consumer.status().offset());
        assertEquals(java.time.Instant.ofEpochSecond(1_700_000_005), consumer.status().lastModified());
        assertTrue(consumer.toJson().contains("\"consumer_id\": \"sample-consumer\""), consumer.toJson());
        assertTrue(consumer.toYaml().contains("consumer_id: sample-consumer"), consumer.toYaml());
    }

    @Test
    void spusLayout() {
        List<SpuMetadata> spus = FluvioAdmin.unpackSpus(NativeLibrary.sample(NativeLibrary.Layout.SPUS));
        assertEquals(1, spus.size());
        SpuMetadata spu = spus.get(0);
        assertEquals("custom-spu-5003", spu.name());
        assertEquals(5003, spu.spec().id());
        assertEquals("spu.test", spu.spec().host());
        assertEquals(9010, spu.spec().port());
        assertEquals("rack-a", spu.spec().rack());
        assertEquals(SpuMetadata.Resolution.OFFLINE, spu.status().resolution());
        assertTrue(spu.toJson().contains("custom-spu-5003") && spu.toYaml().contains("custom-spu-5003"));
    }

    @Test
    void profileLayout() {
        Unpacker in = new Unpacker(NativeLibrary.sample(NativeLibrary.Layout.PROFILE));
        FluvioProfile verified = FluvioProfiles.unpackProfile("first", in);
        assertEquals("cluster", verified.cluster());
        assertEquals("sample.test:9003", verified.endpoint());
        TlsConfig tls = verified.tls();
        assertEquals(TlsConfig.Policy.VERIFIED, tls.policy());
        assertEquals("sample.test", tls.domain());
        assertEquals(Paths.get("/ca.pem"), tls.caCertFile());
        assertNull(tls.caCertPem());
        assertFalse(tls.hasClientCert());
        assertNull(tls.clientKeyFile());
        FluvioProfile anonymous = FluvioProfiles.unpackProfile("second", in);
        assertEquals(TlsConfig.anonymousInsecure(), anonymous.tls());
    }

    @Test
    void metricsLayout() {
        FluvioMetrics m = FluvioMetrics.unpack(NativeLibrary.sample(NativeLibrary.Layout.METRICS));
        assertEquals(1, m.recordsSent());
        assertEquals(2, m.bytesSent());
        assertEquals(3, m.batchesSent());
        assertEquals(4, m.recordsReceived());
        assertEquals(5, m.bytesReceived());
        assertEquals(6, m.batchesReceived());
        assertEquals(7, m.retries());
        assertEquals(8, m.reconnects());
        assertEquals(9, m.inFlightRequests());
        assertEquals(java.util.Map.of(FluvioException.Code.TIMEOUT, 10L, FluvioException.Code.NOT_LEADER, 11L),
                m.errors());
        for (int i = 0; i < 2; i++) {
            FluvioMetrics.Latency latency = i == 0 ? m.sendLatency() : m.fetchLatency();
            long base = i == 0 ? 100 : 200;
            assertEquals(base, latency.count());
            assertEquals(java.time.Duration.ofNanos((base + 1) * 1000), latency.mean());
            assertEquals(java.time.Duration.ofNanos((base + 2) * 1000), latency.p50());
            assertEquals(java.time.Duration.ofNanos((base + 3) * 1000), latency.p90());
            assertEquals(java.time.Duration.ofNanos((base + 4) * 1000), latency.p99());
            assertEquals(java.time.Duration.ofNanos((base + 5) * 1000), latency.p999());
            assertEquals(java.time.Duration.ofNanos((base + 6) * 1000), latency.max());
        }
    }

    @Test
    void aBaseOffsetTheLeaderDoesNotKnowIsTheUnknownOffsetOfEveryRecord() {
        // The engine reports a duplicate stored at an unknown offset as its base offset (-1,
        // RecordMetadata.UNKNOWN_OFFSET, checked against the engine's when the library loads).
        NativeLibrary.load();
        BatchFuture batch = new BatchFuture(1);
        batch.complete(3, RecordMetadata.UNKNOWN_OFFSET);
        for (int index : new int[] {0, 1, 7}) {
            ProduceOutput output = new ProduceOutput();
            output.batch = batch;
            output.index = index;
            assertEquals(new RecordMetadata(3, RecordMetadata.UNKNOWN_OFFSET), output.get());
        }
        ProduceOutput stored = new ProduceOutput();
        stored.batch = new BatchFuture(2);
        stored.batch.complete(3, 40);
        stored.index = 2;
        assertEquals(new RecordMetadata(3, 42), stored.get());
    }

    @Test
    void settingsAreCheckedByTheLibrarysRules() {
        // One valid and one refused value of every setting, by kind: the library knows each.
        for (Settings.Setting setting : Settings.Setting.values()) {
            switch (setting) {
                case ENDPOINT:
                    Settings.check(setting, "host:9003");
                    assertThrows(IllegalArgumentException.class, () -> Settings.check(setting, "host:0"));
                    break;
                case CLIENT_ID:
                    Settings.check(setting, "client");
                    break;
                case CONSUMER_ID:
                    Settings.check(setting, "billing");
                    // A typed failure, as opening a stream with that id gets.
                    FluvioException blank = assertThrows(FluvioException.class, () -> Settings.check(setting, " "));
                    assertEquals(FluvioException.Code.INVALID_CONSUMER_NAME, blank.code());
                    break;
                case CONNECT_TIMEOUT:
                case REQUEST_TIMEOUT:
                case TLS_HANDSHAKE_TIMEOUT:
                case PRODUCER_TIMEOUT:
                case RETRY_TIMEOUT:
                case RESUME_TIMEOUT:
                case AUTO_COMMIT_INTERVAL:
                case RETENTION:
                case SPU_TIMEOUT:
                case REPLICA_LAG_TIME:
                case IDLE_TIMEOUT:
                case READ_TIMEOUT:
                    Settings.check(setting, Duration.ofSeconds(1));
                    // Zero switches connection timeouts off; it is refused everywhere else.
                    boolean off = setting == Settings.Setting.IDLE_TIMEOUT || setting == Settings.Setting.READ_TIMEOUT;
                    Duration refused = off ? Duration.ofNanos(1) : Duration.ZERO;
                    assertThrows(IllegalArgumentException.class, () -> Settings.check(setting, refused), setting::name);
                    assertThrows(IllegalArgumentException.class, () -> Settings.check(setting, Duration.ofMillis(-1)),
                            setting::name);
                    break;
                default:
                    long valid = setting == Settings.Setting.MAX_BUFFERED_BYTES ? LocalCluster.MAX_REQUEST_BYTES
                            : setting == Settings.Setting.MAX_REQUEST_SIZE ? 1024 : 1;
                    Settings.check(setting, valid);
                    assertThrows(IllegalArgumentException.class, () -> Settings.check(setting, 0L), setting::name);
                    assertThrows(IllegalArgumentException.class, () -> Settings.check(setting, -1L), setting::name);
            }
        }
        assertThrows(NullPointerException.class, () -> Settings.check(Settings.Setting.SPU_TIMEOUT, (Duration) null));
    }

    /** The classes of this package (from the build's class directory or the jar). */
    private static List<Class<?>> packageClasses() throws IOException, URISyntaxException, ClassNotFoundException {
        Path location = Paths.get(NativeLibrary.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        List<String> names = new ArrayList<>();
        if (Files.isDirectory(location)) {
            try (Stream<Path> files = Files.walk(location.resolve(PACKAGE))) {
                names = files.map(f -> location.relativize(f).toString().replace('\\', '/'))
                        .filter(n -> n.endsWith(".class")).collect(Collectors.toList());
            }
        } else {
            try (JarFile jar = new JarFile(location.toFile())) {
                for (Enumeration<JarEntry> entries = jar.entries(); entries.hasMoreElements();) {
                    String name = entries.nextElement().getName();
                    if (name.startsWith(PACKAGE) && name.endsWith(".class")) {
                        names.add(name);
                    }
                }
            }
        }
        List<Class<?>> classes = new ArrayList<>();
        for (String name : names) {
            String className = name.substring(0, name.length() - ".class".length()).replace('/', '.');
            if (className.substring(PACKAGE.length()).contains(".")) {
                continue; // a subpackage
            }
            classes.add(Class.forName(className, false, ContractTest.class.getClassLoader()));
        }
        assertTrue(classes.contains(NativeLibrary.class), "found the package's classes in " + location);
        return classes;
    }

    private static String descriptor(Method method) {
        StringBuilder descriptor = new StringBuilder("(");
        for (Class<?> parameter : method.getParameterTypes()) {
            descriptor.append(descriptor(parameter));
        }
        return descriptor.append(')').append(descriptor(method.getReturnType())).toString();
    }

    private static String descriptor(Class<?> type) {
        if (type.isArray()) {
            return "[" + descriptor(type.getComponentType());
        }
        if (type.isPrimitive()) {
            if (type == void.class) {
                return "V";
            }
            if (type == boolean.class) {
                return "Z";
            }
            if (type == long.class) {
                return "J";
            }
            return type.getName().substring(0, 1).toUpperCase(java.util.Locale.ROOT);
        }
        return "L" + type.getName().replace('.', '/') + ";";
    }
}
