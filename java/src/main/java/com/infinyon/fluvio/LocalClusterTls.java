package com.infinyon.fluvio;

import java.nio.file.Path;
import org.jspecify.annotations.Nullable;

/**
 * TLS on the public listeners of a {@link LocalCluster} (its SC and every SPU), as the
 * {@code fluvio-local start --tls} options set it: a server certificate chain and key, an
 * optional domain, and optionally a CA whose client certificates are asked for, or required
 * (mutual TLS).
 *
 * <pre>{@code
 * LocalClusterTls tls = LocalClusterTls.fromFiles(Paths.get("server.crt"), Paths.get("server.key"))
 *     .domain("fluvio.test")
 *     .clientCaFile(Paths.get("ca.crt"))
 *     .requireClientCert(true)
 *     .build();
 * try (LocalCluster cluster = LocalCluster.builder().tls(tls).build().start()) { ... }
 * }</pre>
 *
 * <p>Clients reach the SC as {@code DOMAIN} and SPU {@code n} as
 * {@code custom-spu-<n>.DOMAIN} (the official client's rule), so the server certificate
 * needs the subject alternative names {@code DOMAIN} and {@code *.DOMAIN}. With
 * {@link Builder#domain(String)} set, the cluster refuses to start with a certificate that
 * clients would refuse.
 *
 * <p>Everything is checked when the cluster starts: unreadable files, bad PEM, a key that does
 * not match the certificate and a certificate not valid for the domain are
 * {@link FluvioException.Code#LOCAL_CLUSTER}. Replication between SPUs stays on their private,
 * plain endpoints.
 *
 * <p>{@link #toString()} never shows the key.
 *
 * <p>Thread-safety: immutable.
 */
public final class LocalClusterTls {
    private final Pem serverCert;
    private final Pem serverKey;
    private final Pem clientCa;
    private final String domain;
    private final boolean requireClientCert;

    private LocalClusterTls(Builder builder) {
        this.serverCert = builder.serverCert;
        this.serverKey = builder.serverKey;
        this.clientCa = builder.clientCa;
        this.domain = builder.domain;
        this.requireClientCert = builder.requireClientCert;
    }

    /**
     * Serves the certificate chain in {@code serverCertFile} (PEM, leaf first) with the private
     * key in {@code serverKeyFile} (PEM: PKCS#8, PKCS#1 or SEC1).
     *
     * @param serverCertFile the certificate chain file
     * @param serverKeyFile the key file
     * @return a builder
     */
    public static Builder fromFiles(Path serverCertFile, Path serverKeyFile) {
        return new Builder(Pem.ofFile(serverCertFile, "serverCertFile"), Pem.ofFile(serverKeyFile, "serverKeyFile"));
    }

    /**
     * Serves the certificate chain {@code serverCertPem} (leaf first) with the private key
     * {@code serverKeyPem}.
     *
     * @param serverCertPem {@code -----BEGIN CERTIFICATE-----...}
     * @param serverKeyPem {@code -----BEGIN PRIVATE KEY-----...}
     * @return a builder
     */
    public static Builder fromPem(String serverCertPem, String serverKeyPem) {
        return new Builder(Pem.ofText(serverCertPem, "serverCertPem"), Pem.ofText(serverKeyPem, "serverKeyPem"));
    }

    /** The domain clients verify, or null when not set. */
    public @Nullable String domain() {
        return domain;
    }

    /** Whether a client CA is configured: clients are asked for a certificate. */
    public boolean hasClientCa() {
        return clientCa != null;
    }

    /** Whether clients without a valid certificate are refused. */
    public boolean requireClientCert() {
        return requireClientCert;
    }

    /** The server certificate chain (read by native code). */
    Pem serverCert() {
        return serverCert;
    }

    /** The server key (read by native code). */
    Pem serverKey() {
        return serverKey;
    }

    /** The client CA, or null (read by native code). */
    @Nullable Pem clientCa() {
        return clientCa;
    }

    @Override
    public String toString() {
        return "LocalClusterTls[serverCert=" + Pem.describe(serverCert, "<PEM certificate>")
                + ", serverKey=" + Pem.describe(serverKey, "<PEM private key>")
                + ", clientCa=" + Pem.describe(clientCa, "<PEM certificate>")
                + ", domain=" + domain + ", requireClientCert=" + requireClientCert + "]";
    }

    /**
     * Builds a {@link LocalClusterTls}.
     *
     * <p>Thread-safety: not thread-safe.
     */
    public static final class Builder {
        private final Pem serverCert;
        private final Pem serverKey;
        private Pem clientCa;
        private String domain;
        private boolean requireClientCert;

        private Builder(Pem serverCert, Pem serverKey) {
            this.serverCert = serverCert;
            this.serverKey = serverKey;
        }

        /**
         * The domain clients verify (a profile's {@code domain}). The cluster then refuses to
         * start with a certificate not valid for {@code domain} and for
         * {@code custom-spu-<id>.domain}.
         *
         * @param domain a DNS name
         * @return this builder
         * @throws IllegalArgumentException if it is empty or contains whitespace
         */
        public Builder domain(String domain) {
            this.domain = Checks.domain(domain);
            return this;
        }

        /**
         * Asks clients for a certificate signed by the CA in {@code file} (PEM) and verifies the
         * ones they send; clients without one are still served unless
         * {@link #requireClientCert(boolean)}.
         *
         * @param file a PEM file
         * @return this builder
         */
        public Builder clientCaFile(Path file) {
            this.clientCa = Pem.ofFile(file, "file");
            return this;
        }

        /**
         * {@link #clientCaFile(Path)} with the CA as PEM text.
         *
         * @param pem {@code -----BEGIN CERTIFICATE-----...}
         * @return this builder
         */
        public Builder clientCaPem(String pem) {
            this.clientCa = Pem.ofText(pem, "pem");
            return this;
        }

        /**
         * Refuses clients without a valid certificate from the client CA (mutual TLS; default
         * false). Needs a client CA.
         *
         * @param required whether to
         * @return this builder
         */
        public Builder requireClientCert(boolean required) {
            this.requireClientCert = required;
            return this;
        }

        /**
         * The settings.
         *
         * @return the TLS settings
         * @throws IllegalStateException if client certificates are required without a client CA
         */
        public LocalClusterTls build() {
            if (requireClientCert && clientCa == null) {
                throw new IllegalStateException("requiring client certificates needs a client CA to verify them with");
            }
            return new LocalClusterTls(this);
        }
    }
}
