package com.infinyon.fluvio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * TLS and mutual TLS between {@link Fluvio} and TLS {@link LocalCluster}s, over real sockets on
 * ports chosen by the OS, with certificates made at test time ({@link TestPki}): round trips
 * with certificates as files and as PEM text; every refusal as a {@code TLS} failure with its
 * {@link FluvioException.TlsFailure}, within the connect timeout; plaintext and TLS mismatches
 * both ways; unreadable certificates as {@code CONFIG}; plain and mutual-TLS clients used at
 * once from two threads.
 *
 * <p>A plaintext client meeting a TLS cluster, and a TLS client meeting a plaintext one, are
 * {@code TLS} ({@code SERVER_REQUIRES_TLS}, {@code SERVER_NOT_TLS}), not {@code CONNECT}: the
 * client recognises the TLS alert a TLS server answers with at once, and a plaintext server's
 * silence (as a real Fluvio server, the plaintext cluster reads the ClientHello as the start of
 * a frame and waits for the rest) once the TLS handshake timeout passes, well inside the
 * connect timeout.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class TlsTest {
    /** The connect timeout of every client here: each refusal must come before it. */
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);

    TestPki pki;
    /** Verified TLS, no client certificates, 2 SPUs, certificate and key from files. */
    LocalCluster tlsCluster;
    /** Mutual TLS: client certificates from the test CA required. */
    LocalCluster mutualCluster;
    LocalCluster plainCluster;
    final List<LocalCluster> clusters = new ArrayList<>();

    @TempDir
    Path dir;

    @BeforeAll
    void start() {
        pki = TestPki.shared();
        tlsCluster = start(LocalCluster.builder().spus(2)
                .tls(LocalClusterTls.fromFiles(pki.server.certFile, pki.server.keyFile).domain(TestPki.DOMAIN).build()));
        mutualCluster = start(LocalCluster.builder().tls(pki.mutualServerTls()));
        plainCluster = start(LocalCluster.builder());
    }

    @AfterAll
    void stop() {
        clusters.forEach(LocalCluster::close);
    }

    private LocalCluster start(LocalCluster.Builder builder) {
        LocalCluster cluster = builder.build().start();
        clusters.add(cluster);
        return cluster;
    }

    /** A cluster serving {@code server} (PEM), no client certificates, no domain check. */
    private LocalCluster serving(TestPki.CertKey server) {
        return start(LocalCluster.builder().tls(TestPki.serverTls(server).build()));
    }

    static FluvioConfig config(LocalCluster cluster, TlsConfig tls) {
        return FluvioConfig.builder().endpoint(cluster.endpoint()).tls(tls).connectTimeout(CONNECT_TIMEOUT)
                .requestTimeout(Duration.ofSeconds(10)).build();
    }

    static String uniqueTopic(String prefix) {
        return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    /**
     * Creates a topic with {@code partitions} partitions, produces {@code perPartition} records to
     * each (through the SPUs, each verified under its own name) and consumes them back.
     */
    static void roundTrip(Fluvio fluvio, String topic, int partitions, int perPartition) {
        fluvio.admin().createTopic(topic, partitions, 1);
        try (TopicProducer producer = fluvio.topicProducer(topic,
                TopicProducerConfig.builder().linger(Duration.ZERO).build())) {
            List<ProduceOutput> outputs = new ArrayList<>();
            for (int i = 0; i < perPartition * partitions; i++) {
                outputs.add(producer.send(null, topic + "-" + i));
            }
            producer.flush();
            for (ProduceOutput output : outputs) {
                output.get(Duration.ofSeconds(10));
            }
        }
        List<String> values = new ArrayList<>();
        try (ConsumerStream stream = fluvio.consumer(topic).stream(Offset.beginning())) {
            while (values.size() < perPartition * partitions) {
                Record record = stream.next(Duration.ofSeconds(10));
                assertNotNull(record, "records stopped after " + values.size());
                values.add(record.valueString());
            }
        }
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < perPartition * partitions; i++) {
            expected.add(topic + "-" + i);
        }
        assertEquals(expected, values.stream().sorted((a, b) -> Integer.compare(index(a), index(b)))
                .collect(Collectors.toList()));
        for (int partition = 0; partition < partitions; partition++) {
            assertEquals(perPartition, fluvio.partitionConsumer(topic, partition).fetch(Offset.beginning()).size(),
                    "round robin puts as many records on every partition");
        }
    }

    private static int index(String value) {
        return Integer.parseInt(value.substring(value.lastIndexOf('-') + 1));
    }

    /**
     * Asserts that {@code call} fails with {@code TLS} and {@code failure}, not retriable, before
     * the connect timeout.
     */
    static FluvioException assertRefused(FluvioException.TlsFailure failure, Executable call) {
        long started = System.nanoTime();
        FluvioException e = assertThrows(FluvioException.class, call);
        Duration elapsed = Duration.ofNanos(System.nanoTime() - started);
        assertEquals(FluvioException.Code.TLS, e.code(), () -> "unexpected failure: " + e);
        assertEquals(failure, e.tlsFailure(), () -> "unexpected failure: " + e);
        assertFalse(e.isRetriable(), () -> "a TLS refusal is not retriable: " + e);
        assertTrue(elapsed.compareTo(CONNECT_TIMEOUT) < 0, "refused after " + elapsed);
        return e;
    }

    @Test
    void verifiedRoundTripWithFilesOnTheScAndEverySpu() {
        try (Fluvio fluvio = Fluvio.connect(config(tlsCluster, pki.verifiedFiles(null)))) {
            // Two partitions on two SPUs: each SPU is verified as custom-spu-<id>.DOMAIN.
            roundTrip(fluvio, uniqueTopic("verified-files"), 2, 50);
            assertEquals(2, fluvio.admin().listSpus().size());
        }
    }

    @Test
    void verifiedRoundTripWithPem() {
        try (Fluvio fluvio = tlsCluster.connect(pki.verifiedPem(null))) {
            roundTrip(fluvio, uniqueTopic("verified-pem"), 2, 20);
        }
    }

    @Test
    void mutualTlsRoundTripWithFilesPemAndBothMixed() {
        try (Fluvio fluvio = Fluvio.connect(config(mutualCluster, pki.verifiedFiles(pki.client)))) {
            roundTrip(fluvio, uniqueTopic("mutual-files"), 1, 50);
        }
        try (Fluvio fluvio = Fluvio.connect(config(mutualCluster, pki.verifiedPem(pki.client)))) {
            roundTrip(fluvio, uniqueTopic("mutual-pem"), 1, 50);
        }
        TlsConfig mixed = TlsConfig.verified(TestPki.DOMAIN).caCertFile(pki.caFile).clientCertPem(pki.client.certPem)
                .clientKeyFile(pki.client.keyFile).build();
        try (Fluvio fluvio = Fluvio.connect(config(mutualCluster, mixed))) {
            roundTrip(fluvio, uniqueTopic("mutual-mixed"), 1, 10);
        }
    }

    @Test
    void anonymousTlsEncryptsWithoutVerifying() {
        // A certificate from a CA nobody trusts: accepted all the same.
        LocalCluster untrusted = serving(pki.unknownCaServer);
        try (Fluvio fluvio = untrusted.connect(TlsConfig.anonymousInsecure())) {
            roundTrip(fluvio, uniqueTopic("anonymous"), 1, 20);
        }
    }

    @Test
    void serverCertificateFromAnUnknownCaIsRefused() {
        LocalCluster untrusted = serving(pki.unknownCaServer);
        assertRefused(FluvioException.TlsFailure.UNKNOWN_ISSUER,
                () -> Fluvio.connect(config(untrusted, pki.verifiedPem(null))));
    }

    @Test
    void serverCertificateForAnotherNameIsRefused() {
        LocalCluster wrongName = serving(pki.wrongNameServer);
        assertRefused(FluvioException.TlsFailure.NAME_MISMATCH,
                () -> Fluvio.connect(config(wrongName, pki.verifiedPem(null))));
        // The same the other way round: a good certificate, a client expecting another domain.
        TlsConfig elsewhere = TlsConfig.verified("elsewhere.test").caCertPem(pki.caPem).build();
        assertRefused(FluvioException.TlsFailure.NAME_MISMATCH, () -> Fluvio.connect(config(tlsCluster, elsewhere)));
    }

    @Test
    void spusAreVerifiedAsSpuNameDotDomain() {
        // A certificate for the domain only: the SC is accepted, its SPU is not.
        LocalCluster domainOnly = serving(pki.domainOnlyServer);
        try (Fluvio fluvio = Fluvio.connect(config(domainOnly, pki.verifiedPem(null)))) {
            String topic = uniqueTopic("names");
            fluvio.admin().createTopic(topic, 1, 1);
            FluvioException e = assertRefused(FluvioException.TlsFailure.NAME_MISMATCH,
                    () -> fluvio.partitionConsumer(topic, 0).fetch(Offset.beginning()));
            assertTrue(e.getMessage().contains("custom-spu-5001." + TestPki.DOMAIN), e.getMessage());
            // A producer's batches fail the same way, detail included (a TLS refusal is not
            // retried, even at least once).
            try (TopicProducer producer = fluvio.topicProducer(topic,
                    TopicProducerConfig.builder().linger(Duration.ZERO).build())) {
                ProduceOutput output = producer.send(null, "refused");
                assertRefused(FluvioException.TlsFailure.NAME_MISMATCH, () -> output.get(Duration.ofSeconds(10)));
            }
        }
        // And a cluster told the domain refuses to start with such a certificate.
        FluvioException refused = assertThrows(FluvioException.class, () -> LocalCluster.builder()
                .tls(TestPki.serverTls(pki.domainOnlyServer).domain(TestPki.DOMAIN).build()).build().start());
        assertEquals(FluvioException.Code.LOCAL_CLUSTER, refused.code(), refused::toString);
    }

    @Test
    void expiredServerCertificateIsRefused() {
        LocalCluster expired = serving(pki.expiredServer);
        assertRefused(FluvioException.TlsFailure.EXPIRED, () -> Fluvio.connect(config(expired, pki.verifiedPem(null))));
    }

    @Test
    void missingClientCertificateIsRefusedWhenRequired() {
        assertRefused(FluvioException.TlsFailure.CLIENT_CERTIFICATE_REQUIRED,
                () -> Fluvio.connect(config(mutualCluster, pki.verifiedFiles(null))));
    }

    @Test
    void clientCertificateFromAnUnknownCaIsRefused() {
        assertRefused(FluvioException.TlsFailure.CLIENT_CERTIFICATE_REJECTED,
                () -> Fluvio.connect(config(mutualCluster, pki.verifiedPem(pki.strangerClient))));
    }

    @Test
    void plaintextClientToTlsClusterIsRefusedAsTls() {
        assertRefused(FluvioException.TlsFailure.SERVER_REQUIRES_TLS,
                () -> Fluvio.connect(config(tlsCluster, TlsConfig.disabled())));
        assertRefused(FluvioException.TlsFailure.SERVER_REQUIRES_TLS, () -> mutualCluster.connect());
    }

    @Test
    void tlsClientToPlaintextClusterIsRefusedAsTls() {
        // The default handshake timeout (3 s, at most half the connect timeout).
        assertRefused(FluvioException.TlsFailure.SERVER_NOT_TLS,
                () -> Fluvio.connect(config(plainCluster, pki.verifiedPem(null))));
        FluvioConfig quick = FluvioConfig.builder().endpoint(plainCluster.endpoint()).tls(TlsConfig.anonymousInsecure())
                .connectTimeout(CONNECT_TIMEOUT).tlsHandshakeTimeout(Duration.ofMillis(300)).build();
        assertRefused(FluvioException.TlsFailure.SERVER_NOT_TLS, () -> Fluvio.connect(quick));
    }

    @Test
    void aServerThatNeverAnswersTheHandshakeIsNotTls() throws IOException {
        assertEquals(FluvioConfig.DEFAULT_TLS_HANDSHAKE_TIMEOUT,
                FluvioConfig.builder().endpoint("127.0.0.1:9003").build().tlsHandshakeTimeout());
        assertThrows(IllegalArgumentException.class, () -> FluvioConfig.builder().tlsHandshakeTimeout(Duration.ZERO));
        // The kernel accepts the connection; nobody ever reads or answers.
        try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            String endpoint = "127.0.0.1:" + silent.getLocalPort();
            FluvioConfig tls = FluvioConfig.builder().endpoint(endpoint).tls(pki.verifiedPem(null))
                    .connectTimeout(CONNECT_TIMEOUT).tlsHandshakeTimeout(Duration.ofMillis(300)).build();
            assertRefused(FluvioException.TlsFailure.SERVER_NOT_TLS, () -> Fluvio.connect(tls));
            // A plaintext client meeting the same silence times out, retriably.
            FluvioConfig plain = FluvioConfig.builder().endpoint(endpoint).connectTimeout(Duration.ofMillis(300)).build();
            FluvioException e = assertThrows(FluvioException.class, () -> Fluvio.connect(plain));
            assertEquals(FluvioException.Code.CONNECT_TIMEOUT, e.code(), e::toString);
            assertTrue(e.isRetriable());
        }
    }

    @Test
    void unreadableCertificatesAreConfigBeforeAnyConnection() throws IOException {
        // Nothing listens there: CONFIG (not CONNECT) proves the certificates were read first.
        String nowhere = "127.0.0.1:" + ConnectTest.closedPort();
        Path garbage = Files.write(dir.resolve("garbage.pem"), "not PEM".getBytes(StandardCharsets.UTF_8));
        List<TlsConfig> bad = List.of(
                TlsConfig.verified(TestPki.DOMAIN).caCertFile(dir.resolve("missing.pem")).build(),
                TlsConfig.verified(TestPki.DOMAIN).caCertFile(garbage).build(),
                TlsConfig.verified(TestPki.DOMAIN).caCertPem("not PEM").build(),
                TlsConfig.verified(TestPki.DOMAIN).caCertPem(pki.caPem).clientCertPem(pki.client.certPem)
                        .clientKeyPem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n").build(),
                // Mixed sources read the files in the binding: the same code.
                TlsConfig.verified(TestPki.DOMAIN).caCertPem(pki.caPem).clientCertFile(dir.resolve("missing.pem"))
                        .clientKeyPem(pki.client.keyPem).build(),
                // A key that is not the certificate's.
                TlsConfig.verified(TestPki.DOMAIN).caCertPem(pki.caPem).clientCertPem(pki.client.certPem)
                        .clientKeyPem(pki.server.keyPem).build());
        for (TlsConfig tls : bad) {
            FluvioException e = assertThrows(FluvioException.class,
                    () -> Fluvio.connect(FluvioConfig.builder().endpoint(nowhere).tls(tls).build()), tls::toString);
            assertEquals(FluvioException.Code.CONFIG, e.code(), () -> tls + ": " + e);
            assertNull(e.tlsFailure());
        }
    }

    @Test
    void badServerSettingsStopTheClusterFromStarting() {
        Path missing = dir.resolve("missing.pem");
        List<LocalClusterTls> bad = List.of(
                LocalClusterTls.fromFiles(missing, pki.server.keyFile).build(),
                LocalClusterTls.fromFiles(pki.server.certFile, missing).build(),
                LocalClusterTls.fromPem("not PEM", pki.server.keyPem).build(),
                // The client's key with the server's certificate.
                LocalClusterTls.fromPem(pki.server.certPem, pki.client.keyPem).build(),
                TestPki.serverTls(pki.server).clientCaFile(missing).build(),
                // Not valid for the domain it is told.
                TestPki.serverTls(pki.wrongNameServer).domain(TestPki.DOMAIN).build());
        for (LocalClusterTls tls : bad) {
            FluvioException e = assertThrows(FluvioException.class,
                    () -> LocalCluster.builder().tls(tls).build().start().close(), tls::toString);
            assertEquals(FluvioException.Code.LOCAL_CLUSTER, e.code(), () -> tls + ": " + e);
        }
    }

    @Test
    void settingsAreCheckedInJavaFirst() {
        assertThrows(NullPointerException.class, () -> TlsConfig.verified(null));
        assertThrows(IllegalArgumentException.class, () -> TlsConfig.verified(""));
        assertThrows(IllegalArgumentException.class, () -> TlsConfig.verified("a domain"));
        assertThrows(IllegalStateException.class, () -> TlsConfig.verified(TestPki.DOMAIN).build());
        assertThrows(IllegalStateException.class,
                () -> TlsConfig.verified(TestPki.DOMAIN).caCertPem(pki.caPem).clientCertPem(pki.client.certPem).build());
        assertThrows(IllegalStateException.class,
                () -> TlsConfig.verified(TestPki.DOMAIN).caCertPem(pki.caPem).clientKeyFile(pki.client.keyFile).build());
        assertThrows(IllegalArgumentException.class, () -> TlsConfig.verified(TestPki.DOMAIN).caCertPem(" \n"));
        assertThrows(NullPointerException.class, () -> TlsConfig.verified(TestPki.DOMAIN).caCertFile(null));
        assertThrows(NullPointerException.class, () -> FluvioConfig.builder().tls(null));
        assertThrows(NullPointerException.class, () -> LocalClusterTls.fromFiles(null, pki.server.keyFile));
        assertThrows(IllegalArgumentException.class, () -> LocalClusterTls.fromPem("", pki.server.keyPem));
        assertThrows(IllegalStateException.class,
                () -> LocalClusterTls.fromPem(pki.server.certPem, pki.server.keyPem).requireClientCert(true).build());
        assertThrows(IllegalArgumentException.class,
                () -> LocalClusterTls.fromPem(pki.server.certPem, pki.server.keyPem).domain(""));
        assertThrows(NullPointerException.class, () -> LocalCluster.builder().tls(null));
        assertThrows(NullPointerException.class, () -> tlsCluster.connect(null));

        // Values: accessors, equality, no key in toString.
        TlsConfig pem = pki.verifiedPem(pki.client);
        assertEquals(TlsConfig.Policy.VERIFIED, pem.policy());
        assertEquals(TestPki.DOMAIN, pem.domain());
        assertEquals(pki.caPem, pem.caCertPem());
        assertNull(pem.caCertFile());
        assertTrue(pem.hasClientCert());
        assertEquals(pem, pki.verifiedPem(pki.client));
        assertFalse(pem.toString().contains("PRIVATE KEY"), pem.toString());
        TlsConfig files = pki.verifiedFiles(null);
        assertEquals(pki.caFile.toAbsolutePath(), files.caCertFile());
        assertFalse(files.hasClientCert());
        assertEquals(TlsConfig.Policy.DISABLED, FluvioConfig.builder().endpoint("h:1").build().tls().policy());
        assertEquals(TlsConfig.Policy.ANONYMOUS_INSECURE, TlsConfig.anonymousInsecure().policy());
        assertFalse(TestPki.serverTls(pki.server).build().toString().contains("PRIVATE KEY"));
    }

    @Test
    void plainAndMutualTlsClientsUsedAtOnceFromTwoThreads() throws Exception {
        int count = 300;
        String topic = uniqueTopic("side-by-side");
        try (Fluvio secure = Fluvio.connect(config(mutualCluster, pki.verifiedPem(pki.client)));
                Fluvio open = Fluvio.connect(config(plainCluster, TlsConfig.disabled()))) {
            ExecutorService pool = Executors.newFixedThreadPool(2);
            try {
                Future<?> a = pool.submit(() -> roundTrip(secure, topic, 1, count));
                Future<?> b = pool.submit(() -> roundTrip(open, topic, 1, count));
                a.get(60, TimeUnit.SECONDS);
                b.get(60, TimeUnit.SECONDS);
            } finally {
                pool.shutdownNow();
            }
            // Each cluster got only its own records, and each client still talks to its own cluster.
            assertEquals(count, secure.partitionConsumer(topic, 0).fetch(Offset.beginning()).size());
            assertEquals(count, open.partitionConsumer(topic, 0).fetch(Offset.beginning()).size());
            assertTrue(secure.admin().listTopics().stream().anyMatch(t -> t.name().equals(topic)));
            assertTrue(open.admin().listTopics().stream().anyMatch(t -> t.name().equals(topic)));
        }
    }
}
