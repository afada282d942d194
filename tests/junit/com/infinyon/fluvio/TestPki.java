package com.infinyon.fluvio;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Certificates made at test time with the JDK's {@code keytool} (nothing on disk expires): a
 * CA, server certificates signed by it for the names clients use to reach a
 * {@link LocalCluster} ({@code DOMAIN} for the SC, {@code custom-spu-<id>.DOMAIN} for each SPU,
 * so {@code DOMAIN} and {@code *.DOMAIN}, plus {@code 127.0.0.1}), a client certificate, and
 * deliberately wrong ones: expired, for another name, for the domain only (no SPU names),
 * and server and client certificates from a CA nobody trusts.
 *
 * <p>Leaf keys are RSA 2048: rustls (ring) needs PKCS#8 EC keys to carry their public key,
 * which the JDK's encoding leaves out, while the JDK's RSA PKCS#8 is accepted as is. CAs are
 * EC P-256 (they only sign). Private keys are exported by loading the PKCS12 keystore with
 * {@link KeyStore} and writing {@link PrivateKey#getEncoded()} (PKCS#8) as PEM.
 *
 * <p>One set is made per JVM ({@link #shared()}), in a temporary directory deleted at exit;
 * keytool runs a few JVMs in parallel, which takes a few seconds.
 *
 * <p>Thread-safety: immutable once made.
 */
final class TestPki {
    /** The domain test clusters are reached as. */
    static final String DOMAIN = "fluvio.test";

    private static final String PASSWORD = "changeit";
    private static TestPki shared;

    /** A certificate and its private key, as PEM files and PEM text. */
    static final class CertKey {
        final Path certFile;
        final Path keyFile;
        final String certPem;
        final String keyPem;

        CertKey(Path certFile, Path keyFile) throws IOException {
            this.certFile = certFile;
            this.keyFile = keyFile;
            this.certPem = Files.readString(certFile);
            this.keyPem = Files.readString(keyFile);
        }
    }

    final Path dir;
    /** The trusted CA certificate. */
    final Path caFile;
    final String caPem;
    /** Valid for DOMAIN, *.DOMAIN and 127.0.0.1. */
    final CertKey server;
    /** The right names, but expired in 2000. */
    final CertKey expiredServer;
    /** Valid for elsewhere.test and *.elsewhere.test only. */
    final CertKey wrongNameServer;
    /** Valid for DOMAIN only: the SC is accepted, no SPU is. */
    final CertKey domainOnlyServer;
    /** The right names, signed by a CA nobody trusts. */
    final CertKey unknownCaServer;
    /** A client certificate from the trusted CA. */
    final CertKey client;
    /** A client certificate from the CA nobody trusts. */
    final CertKey strangerClient;

    private TestPki(Path dir) throws Exception {
        this.dir = dir;
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            // The CAs' keys and the leaves' keys (a leaf key serves several certificates).
            all(pool, () -> keytool("-genkeypair", "-alias", "ca", "-keystore", "ca.p12", "-keyalg", "EC",
                    "-groupname", "secp256r1", "-dname", "CN=fluvio test CA", "-ext", "bc:c", "-validity", "3650"),
                () -> keytool("-genkeypair", "-alias", "ca", "-keystore", "other-ca.p12", "-keyalg", "EC",
                    "-groupname", "secp256r1", "-dname", "CN=unknown CA", "-ext", "bc:c", "-validity", "3650"),
                () -> keytool("-genkeypair", "-alias", "leaf", "-keystore", "server.p12", "-keyalg", "RSA",
                    "-keysize", "2048", "-dname", "CN=fluvio test server", "-validity", "3650"),
                () -> keytool("-genkeypair", "-alias", "leaf", "-keystore", "client.p12", "-keyalg", "RSA",
                    "-keysize", "2048", "-dname", "CN=fluvio test client", "-validity", "3650"));
            all(pool, () -> keytool("-exportcert", "-rfc", "-alias", "ca", "-keystore", "ca.p12", "-file", "ca.pem"),
                () -> keytool("-exportcert", "-rfc", "-alias", "ca", "-keystore", "other-ca.p12", "-file",
                    "other-ca.pem"),
                () -> keytool("-certreq", "-alias", "leaf", "-keystore", "server.p12", "-file", "server.csr"),
                () -> keytool("-certreq", "-alias", "leaf", "-keystore", "client.p12", "-file", "client.csr"));
            String serverNames = "san=dns:" + DOMAIN + ",dns:*." + DOMAIN + ",ip:127.0.0.1";
            all(pool, () -> sign("ca.p12", "server.csr", "server.pem", serverNames, "serverAuth"),
                () -> sign("ca.p12", "server.csr", "expired.pem", serverNames, "serverAuth", "-startdate",
                    "2000/01/01", "-validity", "1"),
                () -> sign("ca.p12", "server.csr", "wrong-name.pem", "san=dns:elsewhere.test,dns:*.elsewhere.test",
                    "serverAuth"),
                () -> sign("ca.p12", "server.csr", "domain-only.pem", "san=dns:" + DOMAIN, "serverAuth"),
                () -> sign("other-ca.p12", "server.csr", "unknown-ca.pem", serverNames, "serverAuth"),
                () -> sign("ca.p12", "client.csr", "client.pem", "san=dns:client." + DOMAIN, "clientAuth"),
                () -> sign("other-ca.p12", "client.csr", "stranger.pem", "san=dns:client." + DOMAIN, "clientAuth"));
        } finally {
            pool.shutdownNow();
        }
        Path serverKey = exportKey("server.p12", "server.key");
        Path clientKey = exportKey("client.p12", "client.key");
        this.caFile = dir.resolve("ca.pem");
        this.caPem = Files.readString(caFile);
        this.server = new CertKey(dir.resolve("server.pem"), serverKey);
        this.expiredServer = new CertKey(dir.resolve("expired.pem"), serverKey);
        this.wrongNameServer = new CertKey(dir.resolve("wrong-name.pem"), serverKey);
        this.domainOnlyServer = new CertKey(dir.resolve("domain-only.pem"), serverKey);
        this.unknownCaServer = new CertKey(dir.resolve("unknown-ca.pem"), serverKey);
        this.client = new CertKey(dir.resolve("client.pem"), clientKey);
        this.strangerClient = new CertKey(dir.resolve("stranger.pem"), clientKey);
    }

    /** The certificates of this JVM, made on first use. */
    static synchronized TestPki shared() {
        if (shared == null) {
            try {
                Path dir = Files.createTempDirectory("fluvio-pki-");
                Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteTree(dir)));
                shared = new TestPki(dir);
            } catch (Exception e) {
                throw new IllegalStateException("cannot make test certificates with keytool", e);
            }
        }
        return shared;
    }

    /** A client policy trusting the CA for {@code DOMAIN}, certificates as files. */
    TlsConfig verifiedFiles(CertKey clientCert) {
        TlsConfig.Builder tls = TlsConfig.verified(DOMAIN).caCertFile(caFile);
        if (clientCert != null) {
            tls.clientCertFile(clientCert.certFile).clientKeyFile(clientCert.keyFile);
        }
        return tls.build();
    }

    /** The same with PEM text. */
    TlsConfig verifiedPem(CertKey clientCert) {
        TlsConfig.Builder tls = TlsConfig.verified(DOMAIN).caCertPem(caPem);
        if (clientCert != null) {
            tls.clientCertPem(clientCert.certPem).clientKeyPem(clientCert.keyPem);
        }
        return tls.build();
    }

    /** Server TLS serving {@code server}, certificate and key as PEM text, no client certificates. */
    static LocalClusterTls.Builder serverTls(CertKey server) {
        return LocalClusterTls.fromPem(server.certPem, server.keyPem);
    }

    /** Server TLS requiring client certificates from the trusted CA (mutual TLS). */
    LocalClusterTls mutualServerTls() {
        return LocalClusterTls.fromFiles(server.certFile, server.keyFile).domain(DOMAIN).clientCaFile(caFile)
                .requireClientCert(true).build();
    }

    private Void sign(String caStore, String csr, String out, String names, String usage, String... extra)
            throws Exception {
        List<String> args = new ArrayList<>(Arrays.asList("-gencert", "-rfc", "-alias", "ca", "-keystore", caStore,
                "-infile", csr, "-outfile", out, "-ext", names, "-ext", "eku=" + usage, "-ext",
                "ku=digitalSignature,keyEncipherment"));
        if (extra.length == 0) {
            args.addAll(Arrays.asList("-validity", "365"));
        }
        args.addAll(Arrays.asList(extra));
        return keytool(args.toArray(new String[0]));
    }

    /** Runs keytool in {@link #dir}, failing with its output when it fails. */
    private Void keytool(String... args) throws Exception {
        List<String> command = new ArrayList<>();
        command.add(Paths.get(System.getProperty("java.home"), "bin", "keytool").toString());
        // A short-lived JVM: the C1 compiler alone starts faster.
        command.add("-J-XX:TieredStopAtLevel=1");
        command.addAll(Arrays.asList(args));
        if (!Arrays.asList(args).contains("-certreq") && !Arrays.asList(args).contains("-exportcert")
                && !Arrays.asList(args).contains("-gencert")) {
            command.addAll(Arrays.asList("-keypass", PASSWORD));
        }
        command.addAll(Arrays.asList("-storetype", "PKCS12", "-storepass", PASSWORD, "-noprompt"));
        Process process = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        process.getOutputStream().close();
        ByteArrayOutputStream output = new ByteArrayOutputStream();
        try (InputStream in = process.getInputStream()) {
            in.transferTo(output);
        }
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IllegalStateException("keytool did not finish: " + command);
        }
        if (process.exitValue() != 0) {
            throw new IllegalStateException("keytool failed: " + command + "\n"
                    + output.toString(StandardCharsets.UTF_8));
        }
        return null;
    }

    /** Writes the private key of {@code store} as a PKCS#8 PEM file. */
    private Path exportKey(String store, String out) throws IOException, GeneralSecurityException {
        KeyStore keyStore = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(dir.resolve(store))) {
            keyStore.load(in, PASSWORD.toCharArray());
        }
        Key key = keyStore.getKey("leaf", PASSWORD.toCharArray());
        if (!(key instanceof PrivateKey) || !"PKCS#8".equals(key.getFormat())) {
            throw new IllegalStateException("not a PKCS#8 private key: " + key);
        }
        String base64 = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                .encodeToString(key.getEncoded());
        Path path = dir.resolve(out);
        Files.writeString(path, "-----BEGIN PRIVATE KEY-----\n" + base64 + "\n-----END PRIVATE KEY-----\n");
        return path;
    }

    /** Runs the tasks in parallel; fails with the first failure. */
    @SafeVarargs
    private static void all(ExecutorService pool, Callable<Void>... tasks) throws Exception {
        List<Future<Void>> futures = new ArrayList<>();
        for (Callable<Void> task : tasks) {
            futures.add(pool.submit(task));
        }
        for (Future<Void> future : futures) {
            future.get(120, TimeUnit.SECONDS);
        }
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
