package com.infinyon.fluvio.junit5;

import com.infinyon.fluvio.Fluvio;
import com.infinyon.fluvio.FluvioConfig;
import com.infinyon.fluvio.LocalCluster;
import com.infinyon.fluvio.LocalClusterTls;
import com.infinyon.fluvio.TlsConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;

/**
 * A cluster started for {@link FluvioLocalCluster}: the cluster, its data directory, the client
 * settings it accepts, and the one client handed to tests (made on first use).
 *
 * <p>Thread-safety: thread-safe.
 */
final class RunningCluster {
    private final LocalCluster cluster;
    private final Path dataDir;
    private final TlsConfig clientTls;
    private final FluvioConfig clientConfig;
    private @Nullable Fluvio client;
    private boolean closed;

    private RunningCluster(LocalCluster cluster, Path dataDir, TlsConfig clientTls) {
        this.cluster = cluster;
        this.dataDir = dataDir;
        this.clientTls = clientTls;
        this.clientConfig = FluvioConfig.builder().endpoint(cluster.endpoint()).tls(clientTls).build();
    }

    /** Starts a cluster as {@code settings} say, its data in a new temporary directory. */
    static RunningCluster start(FluvioLocalCluster settings) {
        if (settings.minLiveReplicas() > settings.spus()) {
            throw new IllegalArgumentException("minLiveReplicas (" + settings.minLiveReplicas()
                    + ") cannot exceed spus (" + settings.spus() + "): no record could ever be committed");
        }
        LocalCluster.Builder builder = LocalCluster.builder().spus(settings.spus())
                .minLiveReplicas(settings.minLiveReplicas()).replicationPolicy(settings.replicationPolicy());
        TlsConfig clientTls = TlsConfig.disabled();
        if (settings.tls() != FluvioLocalCluster.Tls.NONE) {
            TestCertificates certificates = TestCertificates.shared();
            LocalClusterTls.Builder serverTls = LocalClusterTls.fromPem(certificates.serverCertPem(),
                    certificates.serverKeyPem()).domain(TestCertificates.DOMAIN);
            TlsConfig.Builder client = TlsConfig.verified(TestCertificates.DOMAIN).caCertPem(certificates.caPem());
            if (settings.tls() == FluvioLocalCluster.Tls.MUTUAL) {
                serverTls.clientCaPem(certificates.caPem()).requireClientCert(true);
                client.clientCertPem(certificates.clientCertPem()).clientKeyPem(certificates.clientKeyPem());
            }
            builder.tls(serverTls.build());
            clientTls = client.build();
        }
        Path dataDir;
        try {
            dataDir = Files.createTempDirectory("fluvio-junit5-");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a data directory for the cluster", e);
        }
        try {
            return new RunningCluster(builder.baseDir(dataDir).build().start(), dataDir, clientTls);
        } catch (RuntimeException | Error e) {
            deleteTree(dataDir);
            throw e;
        }
    }

    LocalCluster cluster() {
        return cluster;
    }

    TlsConfig clientTls() {
        return clientTls;
    }

    FluvioConfig clientConfig() {
        return clientConfig;
    }

    /** The client handed to tests, connected on first use. */
    synchronized Fluvio client() {
        if (closed) {
            throw new IllegalStateException("the cluster of this test has been closed");
        }
        if (client == null) {
            client = cluster.connect(clientTls);
        }
        return client;
    }

    /** Closes the client and the cluster and deletes the data directory; idempotent. */
    void close() {
        Fluvio toClose;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            toClose = client;
            client = null;
        }
        try {
            if (toClose != null) {
                toClose.close();
            }
        } finally {
            try {
                cluster.close();
            } finally {
                deleteTree(dataDir);
            }
        }
    }

    @Override
    public String toString() {
        return "Fluvio cluster at " + cluster.endpoint() + ", " + cluster.spuIds().size() + " SPU(s), TLS "
                + (clientTls.policy() == TlsConfig.Policy.DISABLED ? "off" : "on") + ", data in " + dataDir;
    }

    /** Deletes a directory and what it holds; nothing if it does not exist. */
    static void deleteTree(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path path : (Iterable<Path>) paths.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(path);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + dir, e);
        }
    }
}
