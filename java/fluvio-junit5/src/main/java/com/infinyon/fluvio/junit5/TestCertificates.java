package com.infinyon.fluvio.junit5;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * Certificates for TLS test clusters, made once per JVM with the JDK's {@code keytool} (no
 * library needed, nothing kept on disk): a CA, a server certificate for {@link #DOMAIN} and
 * {@code *.DOMAIN} (the SC is reached as the domain, SPU {@code n} as
 * {@code custom-spu-<n>.DOMAIN}), and a client certificate, all as PEM text.
 *
 * <p>The CA key is EC P-256; the leaf keys are RSA 2048, because rustls needs an EC key's
 * PKCS#8 encoding to carry its public key, which the JDK's leaves out.
 *
 * <p>Thread-safety: immutable; {@link #shared()} is thread-safe.
 */
final class TestCertificates {
    /** The domain clients verify. */
    static final String DOMAIN = "fluvio.test";

    private static final String SECRET = "fluvio-test";
    private static @Nullable TestCertificates shared;

    private final String caPem;
    private final String serverCertPem;
    private final String serverKeyPem;
    private final String clientCertPem;
    private final String clientKeyPem;

    private TestCertificates(Path dir) throws IOException, GeneralSecurityException {
        Keytool keytool = new Keytool(dir);
        parallel(keytool.newKey("ca", "EC", "CN=Fluvio test CA", "-groupname", "secp256r1", "-ext", "bc:c"),
                keytool.newKey("server", "RSA", "CN=Fluvio test server", "-keysize", "2048"),
                keytool.newKey("client", "RSA", "CN=Fluvio test client", "-keysize", "2048"));
        parallel(keytool.run("-exportcert", "-rfc", "-alias", "ca", "-keystore", "ca.p12", "-file", "ca.pem"),
                keytool.run("-certreq", "-alias", "server", "-keystore", "server.p12", "-file", "server.csr"),
                keytool.run("-certreq", "-alias", "client", "-keystore", "client.p12", "-file", "client.csr"));
        parallel(keytool.sign("server", "san=dns:" + DOMAIN + ",dns:*." + DOMAIN + ",ip:127.0.0.1", "serverAuth"),
                keytool.sign("client", "san=dns:client." + DOMAIN, "clientAuth"));
        this.caPem = Files.readString(dir.resolve("ca.pem"));
        this.serverCertPem = Files.readString(dir.resolve("server.pem"));
        this.clientCertPem = Files.readString(dir.resolve("client.pem"));
        this.serverKeyPem = privateKeyPem(dir.resolve("server.p12"), "server");
        this.clientKeyPem = privateKeyPem(dir.resolve("client.p12"), "client");
    }

    /** The certificates of this JVM, made on first use (a few seconds). */
    static synchronized TestCertificates shared() {
        if (shared == null) {
            Path dir = null;
            try {
                dir = Files.createTempDirectory("fluvio-junit5-pki-");
                shared = new TestCertificates(dir);
            } catch (IOException | GeneralSecurityException | RuntimeException e) {
                throw new IllegalStateException("cannot make test certificates with keytool: " + e, e);
            } finally {
                if (dir != null) {
                    RunningCluster.deleteTree(dir);
                }
            }
        }
        return shared;
    }

    String caPem() {
        return caPem;
    }

    String serverCertPem() {
        return serverCertPem;
    }

    String serverKeyPem() {
        return serverKeyPem;
    }

    String clientCertPem() {
        return clientCertPem;
    }

    String clientKeyPem() {
        return clientKeyPem;
    }

    /** The private key {@code alias} of a PKCS12 keystore, as PKCS#8 PEM text. */
    private static String privateKeyPem(Path store, String alias) throws IOException, GeneralSecurityException {
        KeyStore keyStore = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(store)) {
            keyStore.load(in, SECRET.toCharArray());
        }
        PrivateKey key = (PrivateKey) keyStore.getKey(alias, SECRET.toCharArray());
        String body = Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(key.getEncoded());
        return "-----BEGIN PRIVATE KEY-----\n" + body + "\n-----END PRIVATE KEY-----\n";
    }

    /** Runs the keytool invocations at once (each a JVM of its own) and waits for all of them. */
    private static void parallel(Runnable... steps) {
        ExecutorService threads = Executors.newFixedThreadPool(steps.length);
        try {
            List<CompletableFuture<Void>> running = new ArrayList<>();
            for (Runnable step : steps) {
                running.add(CompletableFuture.runAsync(step, threads));
            }
            CompletableFuture.allOf(running.toArray(new CompletableFuture<?>[0])).join();
        } catch (CompletionException e) {
            Throwable cause = e.getCause();
            throw cause instanceof RuntimeException ? (RuntimeException) cause : e;
        } finally {
            threads.shutdown();
        }
    }

    /** keytool of the running JDK, working in one directory on PKCS12 keystores. */
    private static final class Keytool {
        private final Path dir;

        Keytool(Path dir) {
            this.dir = dir;
        }

        /** A key pair {@code alias} in {@code <alias>.p12}, with a self-signed certificate. */
        Runnable newKey(String alias, String algorithm, String subject, String... options) {
            List<String> args = new ArrayList<>(List.of("-genkeypair", "-alias", alias, "-keystore", alias + ".p12",
                    "-keyalg", algorithm, "-dname", subject, "-validity", "3650", "-keypass", SECRET));
            args.addAll(List.of(options));
            return run(args.toArray(new String[0]));
        }

        /** Signs {@code <alias>.csr} with the CA into {@code <alias>.pem}. */
        Runnable sign(String alias, String names, String usage) {
            return run("-gencert", "-rfc", "-alias", "ca", "-keystore", "ca.p12", "-infile", alias + ".csr",
                    "-outfile", alias + ".pem", "-ext", names, "-ext", "eku=" + usage, "-ext",
                    "ku=digitalSignature,keyEncipherment", "-validity", "3650");
        }

        /** One keytool run; its output goes to a log file, shown if it fails. */
        Runnable run(String... args) {
            return () -> {
                List<String> command = new ArrayList<>(List.of(
                        Paths.get(System.getProperty("java.home"), "bin", "keytool").toString(),
                        "-J-XX:TieredStopAtLevel=1")); // a short-lived JVM starts faster with C1 alone
                command.addAll(List.of(args));
                command.addAll(List.of("-storetype", "PKCS12", "-storepass", SECRET, "-noprompt"));
                try {
                    Path log = Files.createTempFile(dir, "keytool-", ".log");
                    Process keytool = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
                            .redirectOutput(log.toFile()).redirectInput(ProcessBuilder.Redirect.from(nullFile()))
                            .start();
                    if (!keytool.waitFor(60, TimeUnit.SECONDS)) {
                        keytool.destroyForcibly();
                        throw new IllegalStateException("keytool did not finish in 60 s: " + command);
                    }
                    if (keytool.exitValue() != 0) {
                        throw new IllegalStateException("keytool failed (" + keytool.exitValue() + "): " + command
                                + "\n" + Files.readString(log));
                    }
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while making test certificates", e);
                }
            };
        }

        private static File nullFile() {
            return new File(System.getProperty("os.name").startsWith("Windows") ? "NUL" : "/dev/null");
        }
    }
}
