package com.infinyon.fluvio.junit5;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import com.infinyon.fluvio.Fluvio;
import com.infinyon.fluvio.FluvioConfig;
import com.infinyon.fluvio.FluvioException;
import com.infinyon.fluvio.LocalCluster;
import com.infinyon.fluvio.Offset;
import com.infinyon.fluvio.PartitionConsumerStream;
import com.infinyon.fluvio.Record;
import com.infinyon.fluvio.ReplicationPolicy;
import com.infinyon.fluvio.TlsConfig;
import com.infinyon.fluvio.TopicProducer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.reporting.ReportEntry;
import org.junit.platform.testkit.engine.EngineExecutionResults;
import org.junit.platform.testkit.engine.EngineTestKit;

/**
 * {@link FluvioLocalCluster} as users' tests see it: sample test classes (nested here, enabled
 * only under the test kit by {@link OnlyInTestKit}) run through the JUnit Platform test kit,
 * and what they saw and left behind is checked: one cluster per class or per test, method-level
 * clusters, injected parameters that work, TLS, the data directory deleted and the cluster
 * gone after the tests, and a clear failure when a cluster cannot start or a parameter cannot
 * be given.
 */
class FluvioLocalClusterExtensionTest {
    /** What the samples saw: test name → the endpoint of the cluster it was given. */
    static final Map<String, String> ENDPOINTS = new ConcurrentHashMap<>();
    /** Topics each sample test found when it started. */
    static final Map<String, List<String>> TOPICS_SEEN = new ConcurrentHashMap<>();
    /** Clusters and clients handed to samples, to check they were closed afterwards. */
    static final List<LocalCluster> CLUSTERS = new CopyOnWriteArrayList<>();
    static final List<Fluvio> CLIENTS = new CopyOnWriteArrayList<>();

    @BeforeEach
    void forget() {
        ENDPOINTS.clear();
        TOPICS_SEEN.clear();
        CLUSTERS.clear();
        CLIENTS.clear();
    }

    private static EngineExecutionResults run(Class<?> sample) {
        return EngineTestKit.engine("junit-jupiter")
                .selectors(selectClass(sample))
                .configurationParameter(OnlyInTestKit.PARAMETER, "true")
                .execute();
    }

    /** The data directories named by the extension's report entries. */
    private static List<Path> dataDirs(EngineExecutionResults results) {
        return results.allEvents().reportingEntryPublished().stream()
                .map(event -> event.getRequiredPayload(ReportEntry.class).getKeyValuePairs().get("fluvio.cluster"))
                .map(entry -> Paths.get(entry.substring(entry.indexOf("data in ") + "data in ".length())))
                .collect(Collectors.toList());
    }

    private static void assertAllPassed(EngineExecutionResults results, int tests) {
        results.testEvents().assertStatistics(stats -> stats.started(tests).succeeded(tests).failed(0));
        results.containerEvents().assertStatistics(stats -> stats.failed(0));
    }

    /** Every cluster handed out is closed, its data deleted, and its clients closed. */
    private static void assertCleanedUp(EngineExecutionResults results, int clusters) {
        List<Path> dirs = dataDirs(results);
        assertEquals(clusters, dirs.size(), "one report entry per cluster started: " + dirs);
        for (Path dir : dirs) {
            assertTrue(dir.getFileName().toString().startsWith("fluvio-junit5-"), dir.toString());
            assertFalse(Files.exists(dir), "data directory deleted: " + dir);
        }
        for (LocalCluster cluster : CLUSTERS) {
            assertThrows(IllegalStateException.class, cluster::spuIds, "cluster closed");
        }
        for (Fluvio client : CLIENTS) {
            assertThrows(IllegalStateException.class, () -> client.admin().listTopics(), "client closed");
        }
        for (String endpoint : ENDPOINTS.values()) {
            FluvioConfig config = FluvioConfig.builder().endpoint(endpoint).connectTimeout(Duration.ofSeconds(2)).build();
            FluvioException refused = assertThrows(FluvioException.class, () -> Fluvio.connect(config).close(),
                    "nothing listens at " + endpoint);
            assertTrue(refused.code() == FluvioException.Code.CONNECT
                    || refused.code() == FluvioException.Code.CONNECT_TIMEOUT, refused.code().toString());
        }
    }

    private static void record(String test, LocalCluster cluster, Fluvio fluvio) {
        ENDPOINTS.put(test, cluster.endpoint());
        CLUSTERS.add(cluster);
        CLIENTS.add(fluvio);
        TOPICS_SEEN.put(test, fluvio.admin().listTopics().stream().map(t -> t.name()).collect(Collectors.toList()));
    }

    /** A round trip through the injected client: the cluster serves. */
    private static void roundTrip(Fluvio fluvio, String topic) {
        fluvio.admin().createTopic(topic, 1, 1);
        try (TopicProducer producer = fluvio.topicProducer(topic)) {
            producer.send("key", "value").get(Duration.ofSeconds(20));
        }
        try (PartitionConsumerStream stream = fluvio.partitionConsumer(topic, 0).stream(Offset.beginning())) {
            Record record = stream.next(Duration.ofSeconds(20));
            assertNotNull(record);
            assertEquals("value", record.valueString());
        }
    }

    // ------------------------------------------------------------------------------------------

    @FluvioLocalCluster
    @ExtendWith(OnlyInTestKit.class)
    @TestMethodOrder(MethodOrderer.MethodName.class)
    static class PerClassSample {
        static LocalCluster fromBeforeAll;

        @BeforeAll
        static void beforeAll(LocalCluster cluster) {
            fromBeforeAll = cluster;
        }

        @Test
        void first(LocalCluster cluster, Fluvio fluvio, FluvioConfig config, TlsConfig tls) {
            record("first", cluster, fluvio);
            assertSame(fromBeforeAll, cluster);
            assertEquals(cluster.endpoint(), config.endpoint());
            assertEquals(TlsConfig.Policy.DISABLED, tls.policy());
            roundTrip(fluvio, "per-class");
        }

        @Test
        void second(LocalCluster cluster, Fluvio fluvio) {
            record("second", cluster, fluvio);
        }

        @Nested
        @TestMethodOrder(MethodOrderer.MethodName.class)
        class Inner {
            @Test
            void third(LocalCluster cluster, Fluvio fluvio) {
                record("nested", cluster, fluvio);
            }
        }
    }

    @Test
    void perClassLifecycleSharesOneClusterAndClient() {
        EngineExecutionResults results = run(PerClassSample.class);
        assertAllPassed(results, 3);
        assertEquals(ENDPOINTS.get("first"), ENDPOINTS.get("second"));
        assertEquals(ENDPOINTS.get("first"), ENDPOINTS.get("nested"), "a @Nested class uses its enclosing class's");
        assertEquals(List.of("per-class"), TOPICS_SEEN.get("second"), "the second test sees the first one's topic");
        assertEquals(1, CLIENTS.stream().distinct().count(), "one client per cluster");
        assertCleanedUp(results, 1);
    }

    @FluvioLocalCluster(lifecycle = FluvioLocalCluster.Lifecycle.PER_TEST)
    @ExtendWith(OnlyInTestKit.class)
    static class PerTestSample {
        LocalCluster fromBeforeEach;

        @BeforeEach
        void beforeEach(LocalCluster cluster) {
            fromBeforeEach = cluster;
        }

        @Test
        void first(LocalCluster cluster, Fluvio fluvio) {
            assertSame(fromBeforeEach, cluster);
            record("first", cluster, fluvio);
            roundTrip(fluvio, "per-test");
        }

        @Test
        void second(LocalCluster cluster, Fluvio fluvio) {
            assertSame(fromBeforeEach, cluster);
            record("second", cluster, fluvio);
            roundTrip(fluvio, "per-test");
        }
    }

    @Test
    void perTestLifecycleGivesEachTestAFreshCluster() {
        EngineExecutionResults results = run(PerTestSample.class);
        assertAllPassed(results, 2);
        assertNotEquals(ENDPOINTS.get("first"), ENDPOINTS.get("second"));
        assertEquals(List.of(), TOPICS_SEEN.get("first"));
        assertEquals(List.of(), TOPICS_SEEN.get("second"), "no topic of the other test");
        assertCleanedUp(results, 2);
    }

    @FluvioLocalCluster
    @ExtendWith(OnlyInTestKit.class)
    static class MethodLevelSample {
        @Test
        void classCluster(LocalCluster cluster, Fluvio fluvio) {
            record("class", cluster, fluvio);
            assertEquals(1, cluster.spuIds().size());
            assertEquals(ReplicationPolicy.FLUVIO, cluster.replicationPolicy(), "real Fluvio's rules by default");
        }

        @Test
        @FluvioLocalCluster(spus = 3, minLiveReplicas = 2, replicationPolicy = ReplicationPolicy.IN_SYNC)
        void ownCluster(LocalCluster cluster, Fluvio fluvio) {
            record("method", cluster, fluvio);
            assertEquals(List.of(5001, 5002, 5003), cluster.spuIds());
            assertEquals(ReplicationPolicy.IN_SYNC, cluster.replicationPolicy());
            fluvio.admin().createTopic("replicated", 1, 3);
            assertEquals(3, fluvio.admin().listPartitions("replicated").get(0).spec().replicas().size());
        }
    }

    /** Without a class annotation: only the annotated method gets a cluster. */
    @ExtendWith(OnlyInTestKit.class)
    static class MethodOnlySample {
        @Test
        @FluvioLocalCluster(spus = 2)
        void withCluster(LocalCluster cluster, Fluvio fluvio) {
            record("method-only", cluster, fluvio);
            assertEquals(2, cluster.spuIds().size());
        }

        @Test
        void withoutCluster() {
            ENDPOINTS.put("none", "");
        }
    }

    @Test
    void aMethodAnnotationGivesThatTestItsOwnCluster() {
        EngineExecutionResults results = run(MethodLevelSample.class);
        assertAllPassed(results, 2);
        assertNotEquals(ENDPOINTS.get("class"), ENDPOINTS.get("method"));
        assertCleanedUp(results, 2);

        forget();
        EngineExecutionResults methodOnly = run(MethodOnlySample.class);
        assertAllPassed(methodOnly, 2);
        ENDPOINTS.remove("none");
        assertCleanedUp(methodOnly, 1);
    }

    @FluvioLocalCluster(lifecycle = FluvioLocalCluster.Lifecycle.PER_TEST)
    @ExtendWith(OnlyInTestKit.class)
    static class BeforeAllWithPerTestSample {
        @BeforeAll
        static void beforeAll(LocalCluster cluster) {
            ENDPOINTS.put("beforeAll", cluster.endpoint());
        }

        @Test
        void test() {}
    }

    @Test
    void aBeforeAllParameterWithPerTestLifecycleIsAClearError() {
        EngineExecutionResults results = run(BeforeAllWithPerTestSample.class);
        results.testEvents().assertStatistics(stats -> stats.succeeded(0));
        Throwable thrown = results.containerEvents().failed().stream()
                .map(event -> event.getRequiredPayload(TestExecutionResult.class).getThrowable().orElseThrow())
                .findFirst().orElseThrow();
        assertInstanceOf(ParameterResolutionException.class, thrown);
        assertTrue(ENDPOINTS.isEmpty());
        assertEquals(List.of(), dataDirs(results), "no cluster started before the class");
    }

    @FluvioLocalCluster(spus = 0)
    @ExtendWith(OnlyInTestKit.class)
    static class NoSpusSample {
        @Test
        void test(Fluvio fluvio) {
            ENDPOINTS.put("never", fluvio.toString());
        }
    }

    @FluvioLocalCluster(spus = 2, minLiveReplicas = 3)
    @ExtendWith(OnlyInTestKit.class)
    static class TooFewSpusSample {
        @Test
        void test() {}
    }

    @Test
    void aClusterThatCannotStartFailsTheClassWithTheCause() {
        for (Class<?> sample : List.of(NoSpusSample.class, TooFewSpusSample.class)) {
            EngineExecutionResults results = run(sample);
            results.testEvents().assertStatistics(stats -> stats.started(0));
            List<Throwable> failures = results.containerEvents().failed().stream()
                    .map(event -> event.getRequiredPayload(TestExecutionResult.class).getThrowable().orElseThrow())
                    .collect(Collectors.toList());
            assertEquals(1, failures.size(), sample + ": the class fails");
            assertInstanceOf(ExtensionConfigurationException.class, failures.get(0));
            assertInstanceOf(IllegalArgumentException.class, failures.get(0).getCause());
            assertTrue(failures.get(0).getMessage().contains(sample.getName()), "names the class");
            assertTrue(ENDPOINTS.isEmpty());
        }
    }

    @ExtendWith(OnlyInTestKit.class)
    static class TlsSample {
        @Test
        @FluvioLocalCluster(tls = FluvioLocalCluster.Tls.VERIFIED)
        void verified(LocalCluster cluster, Fluvio fluvio, TlsConfig tls, FluvioConfig config) {
            record("verified", cluster, fluvio);
            assertEquals(TlsConfig.Policy.VERIFIED, tls.policy());
            assertFalse(tls.hasClientCert());
            assertEquals(tls, config.tls());
            roundTrip(fluvio, "secure");
            try (Fluvio own = Fluvio.connect(config)) {
                assertEquals(List.of("secure"), own.admin().listTopics().stream().map(t -> t.name())
                        .collect(Collectors.toList()));
            }
            FluvioException plain = assertThrows(FluvioException.class, () -> cluster.connect().close());
            assertEquals(FluvioException.Code.TLS, plain.code());
        }

        @Test
        @FluvioLocalCluster(tls = FluvioLocalCluster.Tls.MUTUAL)
        void mutual(LocalCluster cluster, Fluvio fluvio, TlsConfig tls) {
            record("mutual", cluster, fluvio);
            assertTrue(tls.hasClientCert());
            roundTrip(fluvio, "secure");
            TlsConfig withoutClientCert = TlsConfig.verified(tls.domain()).caCertPem(tls.caCertPem()).build();
            FluvioException refused = assertThrows(FluvioException.class, () -> {
                try (Fluvio stranger = cluster.connect(withoutClientCert)) {
                    stranger.admin().listTopics();
                }
            });
            assertEquals(FluvioException.Code.TLS, refused.code());
        }
    }

    @Test
    void tlsClustersAndTheClientSettingsTheyAccept() {
        EngineExecutionResults results = run(TlsSample.class);
        assertAllPassed(results, 2);
        assertCleanedUp(results, 2);
    }
}
