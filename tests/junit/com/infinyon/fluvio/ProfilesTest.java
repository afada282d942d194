package com.infinyon.fluvio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link FluvioProfiles}: profiles with and without TLS written into a file in the official
 * format, keeping unknown keys and other profiles; read back; listed, made current, removed;
 * errors as {@code PROFILE}; and connecting through TLS profiles, in this JVM and in a child
 * JVM through {@code FLV_PROFILE_PATH}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ProfilesTest {
    /** A file as the official CLI writes it, plus keys nobody here knows. */
    static final String OFFICIAL = "version = \"2.0\"\n"
            + "current_profile = \"local\"\n"
            + "future_top_level = \"kept\"\n"
            + "\n"
            + "[profile.local]\n"
            + "cluster = \"local\"\n"
            + "topic = \"t\"\n"
            + "\n"
            + "[cluster.local]\n"
            + "endpoint = \"127.0.0.1:9003\"\n"
            + "use_spu_local_address = false\n"
            + "\n"
            + "[cluster.local.tls]\n"
            + "tls_policy = \"disabled\"\n"
            + "\n"
            + "[cluster.local.metadata.installation]\n"
            + "type = \"local\"\n";

    TestPki pki;
    LocalCluster mutualCluster;
    LocalCluster plainCluster;

    @TempDir
    Path dir;

    @BeforeAll
    void start() {
        pki = TestPki.shared();
        mutualCluster = LocalCluster.builder().tls(pki.mutualServerTls()).build().start();
        plainCluster = LocalCluster.start();
    }

    @AfterAll
    void stop() {
        if (mutualCluster != null) {
            mutualCluster.close();
        }
        if (plainCluster != null) {
            plainCluster.close();
        }
    }

    static FluvioException expectProfileError(Executable call) {
        FluvioException e = assertThrows(FluvioException.class, call);
        assertEquals(FluvioException.Code.PROFILE, e.code(), () -> "unexpected failure: " + e);
        assertFalse(e.isRetriable());
        return e;
    }

    private Path official() throws IOException {
        return Files.write(dir.resolve("config-" + UUID.randomUUID()), OFFICIAL.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void writesTlsAndPlainProfilesKeepingEverythingElse() throws IOException {
        Path file = official();
        FluvioProfile files = FluvioProfile.of("secure", "fluvio.test:9003", pki.verifiedFiles(pki.client));
        FluvioProfile inline = FluvioProfile.of("inline", "inline-cluster", "fluvio.test:9004", pki.verifiedPem(pki.client));
        FluvioProfile plain = FluvioProfile.of("plain", "127.0.0.1:9005", TlsConfig.disabled());
        FluvioProfile anonymous = FluvioProfile.of("anon", "127.0.0.1:9006", TlsConfig.anonymousInsecure());
        FluvioProfiles loaded = FluvioProfiles.load(file);
        FluvioProfiles edited = loaded.withProfile(files).withProfile(inline).withProfile(plain).withProfile(anonymous)
                .withCurrentProfile("secure");
        // A value: nothing changed until saved, and the loaded value is untouched.
        assertEquals(OFFICIAL, new String(Files.readAllBytes(file), StandardCharsets.UTF_8));
        assertEquals(List.of("local"), loaded.names());
        assertEquals("local", loaded.currentName());
        edited.save();

        String text = new String(Files.readAllBytes(file), StandardCharsets.UTF_8);
        assertEquals(edited.toToml(), text);
        for (String kept : Arrays.asList("future_top_level = \"kept\"", "topic = \"t\"",
                "[cluster.local.metadata.installation]", "type = \"local\"", "endpoint = \"127.0.0.1:9003\"")) {
            assertTrue(text.contains(kept), () -> "lost " + kept + ":\n" + text);
        }
        // The official format's keys and values.
        for (String written : Arrays.asList("tls_policy = \"verified\"", "tls_source = \"files\"",
                "tls_source = \"inline\"", "tls_policy = \"anonymous\"", "[cluster.secure.tls.certs]",
                "domain = \"" + TestPki.DOMAIN + "\"", "ca_cert = \"" + pki.caFile.toAbsolutePath() + "\"",
                "[profile.inline]", "cluster = \"inline-cluster\"", "current_profile = \"secure\"")) {
            assertTrue(text.contains(written), () -> "missing " + written + ":\n" + text);
        }

        FluvioProfiles reread = FluvioProfiles.load(file);
        assertEquals(file.toAbsolutePath(), reread.path());
        assertEquals(List.of("anon", "inline", "local", "plain", "secure"), reread.names());
        assertEquals("secure", reread.currentName());
        assertEquals(files, reread.currentProfile());
        assertEquals(files, reread.profile("secure"));
        assertEquals(inline, reread.profile("inline"));
        assertEquals(plain, reread.profile("plain"));
        assertEquals(anonymous, reread.profile("anon"));
        FluvioProfile local = reread.profile("local");
        assertEquals("127.0.0.1:9003", local.endpoint());
        assertEquals(TlsConfig.disabled(), local.tls());
        TlsConfig tls = reread.profile("inline").tls();
        assertEquals(pki.client.keyPem, tls.clientKeyPem());
        assertFalse(reread.profile("inline").toString().contains("PRIVATE KEY"));

        // Replacing a TLS profile by a plain one drops its certificates, nothing else.
        String replaced = reread.withProfile(FluvioProfile.of("secure", "fluvio.test:9003", TlsConfig.disabled()))
                .save().toToml();
        assertFalse(replaced.contains("[cluster.secure.tls.certs]"), replaced);
        assertTrue(replaced.contains("future_top_level = \"kept\""), replaced);
        assertEquals(TlsConfig.disabled(), FluvioProfiles.load(file).profile("secure").tls());
        assertEquals(inline, FluvioProfiles.load(file).profile("inline"));
    }

    @Test
    void listCurrentRemoveAndSetCurrent() throws IOException {
        Path file = official();
        FluvioProfiles profiles = FluvioProfiles.load(file)
                .withProfile(FluvioProfile.of("a", "127.0.0.1:1", TlsConfig.disabled()))
                .withProfile(FluvioProfile.of("b", "127.0.0.1:2", TlsConfig.disabled()));
        assertEquals(List.of("a", "b", "local"), profiles.names());
        assertEquals("local", profiles.currentName());

        FluvioProfiles switched = profiles.withCurrentProfile("b");
        assertEquals("b", switched.currentName());
        assertEquals("127.0.0.1:2", switched.currentProfile().endpoint());

        // Removing the current profile leaves none current; its cluster table stays.
        FluvioProfiles removed = switched.withoutProfile("b");
        assertEquals(List.of("a", "local"), removed.names());
        assertNull(removed.currentName());
        assertTrue(removed.toToml().contains("[cluster.b]"), removed.toToml());
        expectProfileError(removed::currentProfile);
        FluvioProfiles other = switched.withoutProfile("a");
        assertEquals("b", other.currentName());

        // Unknown profiles.
        expectProfileError(() -> profiles.profile("missing"));
        expectProfileError(() -> profiles.withCurrentProfile("missing"));
        expectProfileError(() -> profiles.withoutProfile("missing"));

        // Saved and read back.
        removed.withCurrentProfile("a").save();
        FluvioProfiles reread = FluvioProfiles.load(file);
        assertEquals(List.of("a", "local"), reread.names());
        assertEquals("a", reread.currentName());
    }

    @Test
    void missingAndInvalidFilesAndBadArguments() throws IOException {
        Path missing = dir.resolve("missing").resolve("config");
        expectProfileError(() -> FluvioProfiles.load(missing));
        FluvioProfiles fresh = FluvioProfiles.loadOrCreate(missing);
        assertEquals(List.of(), fresh.names());
        assertNull(fresh.currentName());
        assertFalse(Files.exists(missing), "nothing written before save");
        fresh.withProfile(FluvioProfile.of("local", "127.0.0.1:9003", TlsConfig.disabled()))
                .withCurrentProfile("local").save();
        assertEquals("127.0.0.1:9003", FluvioProfiles.load(missing).currentProfile().endpoint());

        Path garbage = Files.write(dir.resolve("garbage"), "this is [not toml".getBytes(StandardCharsets.UTF_8));
        expectProfileError(() -> FluvioProfiles.load(garbage));
        expectProfileError(() -> FluvioProfiles.loadOrCreate(garbage));
        Path noVersion = Files.write(dir.resolve("no-version"), "[profile]\n[cluster]\n".getBytes(StandardCharsets.UTF_8));
        expectProfileError(() -> FluvioProfiles.load(noVersion));
        // A profile whose cluster is missing, and one with an unknown TLS policy.
        Path dangling = Files.write(dir.resolve("dangling"), ("version = \"2.0\"\n[profile.p]\ncluster = \"gone\"\n"
                + "[profile.q]\ncluster = \"q\"\n[cluster.q]\nendpoint = \"h:1\"\n[cluster.q.tls]\ntls_policy = \"odd\"\n")
                .getBytes(StandardCharsets.UTF_8));
        FluvioProfiles partial = FluvioProfiles.load(dangling);
        assertEquals(List.of("p", "q"), partial.names());
        expectProfileError(() -> partial.profile("p"));
        expectProfileError(() -> partial.profile("q"));

        assertThrows(NullPointerException.class, () -> FluvioProfiles.load(null));
        assertThrows(NullPointerException.class, () -> fresh.profile(null));
        assertThrows(IllegalArgumentException.class, () -> fresh.withCurrentProfile(""));
        assertThrows(NullPointerException.class, () -> fresh.withProfile(null));
        assertThrows(IllegalArgumentException.class, () -> FluvioProfile.of("", "127.0.0.1:1", TlsConfig.disabled()));
        assertThrows(IllegalArgumentException.class, () -> FluvioProfile.of("p", "no-port", TlsConfig.disabled()));
        assertThrows(NullPointerException.class, () -> FluvioProfile.of("p", "127.0.0.1:1", null));
        // The format keeps a cluster's certificates all as files or all inline.
        TlsConfig mixed = TlsConfig.verified(TestPki.DOMAIN).caCertFile(pki.caFile).clientCertPem(pki.client.certPem)
                .clientKeyPem(pki.client.keyPem).build();
        assertThrows(IllegalArgumentException.class,
                () -> fresh.withProfile(FluvioProfile.of("mixed", "127.0.0.1:1", mixed)));
    }

    /** The profiles the connection tests use, saved into {@code file}. */
    private Path writeConnectionProfiles(Path file) {
        FluvioProfiles.loadOrCreate(file)
                .withProfile(FluvioProfile.of("secure", mutualCluster.endpoint(), pki.verifiedFiles(pki.client)))
                .withProfile(FluvioProfile.of("inline", mutualCluster.endpoint(), pki.verifiedPem(pki.client)))
                .withProfile(FluvioProfile.of("plain", plainCluster.endpoint(), TlsConfig.disabled()))
                // No client certificate: the mutual-TLS cluster refuses it.
                .withProfile(FluvioProfile.of("refused", mutualCluster.endpoint(), pki.verifiedPem(null)))
                .withCurrentProfile("secure")
                .save();
        return file;
    }

    @Test
    void tlsProfilesConnect() {
        Path file = writeConnectionProfiles(dir.resolve("connect-config"));
        String topic = TlsTest.uniqueTopic("profile");
        try (Fluvio fluvio = Fluvio.connectWithProfile(file, null)) {
            TlsTest.roundTrip(fluvio, topic, 1, 10);
        }
        try (Fluvio fluvio = Fluvio.connectWithProfile(file, "inline")) {
            assertTrue(fluvio.admin().listTopics().stream().anyMatch(t -> t.name().equals(topic)));
        }
        FluvioException refused = assertThrows(FluvioException.class, () -> Fluvio.connectWithProfile(file, "refused"));
        assertEquals(FluvioException.Code.TLS, refused.code(), refused::toString);
        assertEquals(FluvioException.TlsFailure.CLIENT_CERTIFICATE_REQUIRED, refused.tlsFailure());
        // A profile read back connects through a FluvioConfig as well.
        try (Fluvio fluvio = Fluvio.connect(FluvioProfiles.load(file).profile("secure").toConfigBuilder().build())) {
            assertTrue(fluvio.admin().listTopics().stream().anyMatch(t -> t.name().equals(topic)));
        }
    }

    @Test
    void connectWithProfileReadsTlsProfilesFromFlvProfilePath() throws Exception {
        Path file = writeConnectionProfiles(dir.resolve("env-config"));
        String topic = TlsTest.uniqueTopic("child");
        try (Fluvio fluvio = mutualCluster.connect(pki.verifiedPem(pki.client))) {
            fluvio.admin().createTopic(topic, 1, 1);
        }
        List<String> lines =
                ConnectTest.runChild(file, "profiles", "current", "inline", "plain", "refused", "missing");
        assertEquals(6, lines.size(), () -> "output: " + lines);
        assertEquals("profiles path=" + file + " names=inline,plain,refused,secure current=secure", lines.get(0));
        assertTrue(lines.get(1).startsWith("current topics=") && lines.get(1).contains(topic), lines.get(1));
        assertTrue(lines.get(2).startsWith("inline topics=") && lines.get(2).contains(topic), lines.get(2));
        assertTrue(lines.get(3).startsWith("plain topics="), lines.get(3));
        assertFalse(lines.get(3).contains(topic), "the plain profile reaches the other cluster");
        assertEquals("refused error=TLS CLIENT_CERTIFICATE_REQUIRED", lines.get(4));
        assertEquals("missing error=PROFILE", lines.get(5));

        List<String> absent = ConnectTest.runChild(dir.resolve("no-such-file"), "profiles", "current");
        assertEquals(Arrays.asList("profiles error=PROFILE", "current error=PROFILE"), absent);
    }
}
