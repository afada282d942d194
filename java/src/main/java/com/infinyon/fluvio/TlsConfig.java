package com.infinyon.fluvio;

import java.nio.file.Path;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Transport security of a client: the policies of Fluvio's profiles. Used by
 * {@link FluvioConfig.Builder#tls(TlsConfig)} and by profiles ({@link FluvioProfile}).
 *
 * <ul>
 *   <li>{@link #disabled()}: plain TCP (the default).
 *   <li>{@link #verified(String)}: TLS; the server's certificate must be signed by the given CA
 *       and be valid for the domain (the SC's name) and for {@code <spu-name>.<domain>} (each
 *       SPU's name, as the official client checks), so a cluster certificate needs the names
 *       {@code DOMAIN} and {@code *.DOMAIN}. A client certificate and key add mutual TLS.
 *   <li>{@link #anonymousInsecure()}: TLS that verifies nothing. Insecure; see there.
 * </ul>
 *
 * <pre>{@code
 * TlsConfig tls = TlsConfig.verified("fluvio.example.com")
 *     .caCertFile(Paths.get("ca.crt"))
 *     .clientCertFile(Paths.get("client.crt"))      // mutual TLS
 *     .clientKeyFile(Paths.get("client.key"))
 *     .build();
 * }</pre>
 *
 * <p>Certificates and keys are PEM (keys PKCS#8, PKCS#1 or SEC1), given as files or as text;
 * both may be mixed in a {@link FluvioConfig}, while a profile keeps a cluster's certificates
 * either all as files or all as text. They are read when connecting: an unreadable file or bad
 * PEM is {@link FluvioException.Code#CONFIG}, before any connection is attempted. File paths are
 * made absolute when set.
 *
 * <p>{@link #toString()} never shows a private key.
 *
 * <p>Thread-safety: immutable.
 */
public final class TlsConfig {
    /**
     * The policy of a {@link TlsConfig}; the names of the profile file's {@code tls_policy}.
     *
     * <p>Thread-safety: immutable.
     */
    public enum Policy {
        /** Plain TCP ({@code disabled}). */
        DISABLED,
        /** TLS without any verification ({@code anonymous}). Insecure. */
        ANONYMOUS_INSECURE,
        /** TLS verified against a CA, optionally with a client certificate ({@code verified}). */
        VERIFIED
    }

    private static final TlsConfig DISABLED = new TlsConfig(Policy.DISABLED, null, null, null, null);
    private static final TlsConfig ANONYMOUS = new TlsConfig(Policy.ANONYMOUS_INSECURE, null, null, null, null);

    private final Policy policy;
    private final String domain;
    private final Pem caCert;
    private final Pem clientCert;
    private final Pem clientKey;

    private TlsConfig(Policy policy, String domain, Pem caCert, Pem clientCert, Pem clientKey) {
        this.policy = policy;
        this.domain = domain;
        this.caCert = caCert;
        this.clientCert = clientCert;
        this.clientKey = clientKey;
    }

    /**
     * Plain TCP, no TLS.
     *
     * @return the disabled policy
     */
    public static TlsConfig disabled() {
        return DISABLED;
    }

    /**
     * <b>Insecure.</b> TLS that does <em>not</em> verify the server's certificate (the profile
     * policy {@code anonymous}): the traffic is encrypted against passive eavesdropping, but
     * anyone able to intercept the connection can impersonate the cluster and read or alter
     * everything, credentials and records included. No client certificate is sent. Use it
     * only where a cluster mandates the official {@code anonymous} policy, never across an
     * untrusted network; prefer {@link #verified(String)}.
     *
     * @return the anonymous policy
     */
    public static TlsConfig anonymousInsecure() {
        return ANONYMOUS;
    }

    /**
     * Verified TLS for {@code domain}: the name the SC's certificate must carry (SPUs must
     * carry {@code <spu-name>.<domain>}), also sent as SNI. A CA certificate is required.
     *
     * @param domain a DNS name, e.g. {@code fluvio.example.com}
     * @return a builder
     * @throws IllegalArgumentException if {@code domain} is empty or contains whitespace
     */
    public static Builder verified(String domain) {
        return new Builder(Checks.domain(domain));
    }

    /** The policy. */
    public Policy policy() {
        return policy;
    }

    /** The verified domain, or null unless {@link Policy#VERIFIED}. */
    public @Nullable String domain() {
        return domain;
    }

    /** The CA certificate file, or null (none, or given as PEM). */
    public @Nullable Path caCertFile() {
        return Pem.file(caCert);
    }

    /** The CA certificate PEM text, or null (none, or given as a file). */
    public @Nullable String caCertPem() {
        return Pem.text(caCert);
    }

    /** The client certificate file, or null (none, or given as PEM). */
    public @Nullable Path clientCertFile() {
        return Pem.file(clientCert);
    }

    /** The client certificate PEM text, or null (none, or given as a file). */
    public @Nullable String clientCertPem() {
        return Pem.text(clientCert);
    }

    /** The client key file, or null (none, or given as PEM). */
    public @Nullable Path clientKeyFile() {
        return Pem.file(clientKey);
    }

    /** The client key PEM text, or null (none, or given as a file). */
    public @Nullable String clientKeyPem() {
        return Pem.text(clientKey);
    }

    /** Whether a client certificate is configured (mutual TLS). */
    public boolean hasClientCert() {
        return clientCert != null;
    }

    /** The CA certificate, or null (read by native code). */
    @Nullable Pem caCert() {
        return caCert;
    }

    /** The client certificate, or null (read by native code). */
    @Nullable Pem clientCert() {
        return clientCert;
    }

    /** The client key, or null (read by native code). */
    @Nullable Pem clientKey() {
        return clientKey;
    }

    /**
     * Settings packed by native code (layout {@code PROFILE}): the policy's name, the domain (or
     * null), then the CA certificate, client certificate and client key ({@link Pem#unpack}). A
     * verified config read from a profile is taken as the file has it (no CA, or no key,
     * allowed).
     */
    static TlsConfig unpack(Unpacker in) {
        Policy policy = Policy.valueOf(in.str());
        String domain = in.str();
        Pem ca = Pem.unpack(in);
        Pem cert = Pem.unpack(in);
        Pem key = Pem.unpack(in);
        switch (policy) {
            case DISABLED:
                return DISABLED;
            case ANONYMOUS_INSECURE:
                return ANONYMOUS;
            default:
                return new TlsConfig(Policy.VERIFIED, domain, ca, cert, key);
        }
    }

    @Override
    public boolean equals(@Nullable Object other) {
        if (this == other) {
            return true;
        }
        if (!(other instanceof TlsConfig)) {
            return false;
        }
        TlsConfig that = (TlsConfig) other;
        return policy == that.policy && Objects.equals(domain, that.domain) && Objects.equals(caCert, that.caCert)
                && Objects.equals(clientCert, that.clientCert) && Objects.equals(clientKey, that.clientKey);
    }

    @Override
    public int hashCode() {
        return Objects.hash(policy, domain, caCert, clientCert, clientKey);
    }

    @Override
    public String toString() {
        if (policy != Policy.VERIFIED) {
            return "TlsConfig[" + policy + "]";
        }
        return "TlsConfig[VERIFIED, domain=" + domain + ", caCert=" + Pem.describe(caCert, "<PEM certificate>")
                + ", clientCert=" + Pem.describe(clientCert, "<PEM certificate>")
                + ", clientKey=" + Pem.describe(clientKey, "<PEM private key>") + "]";
    }

    /**
     * Builds a verified {@link TlsConfig}: a CA certificate (required), and optionally a client
     * certificate with its key. Setting one item twice keeps the last value.
     *
     * <p>Thread-safety: not thread-safe.
     */
    public static final class Builder {
        private final String domain;
        private Pem caCert;
        private Pem clientCert;
        private Pem clientKey;

        private Builder(String domain) {
            this.domain = domain;
        }

        /**
         * The CA certificate(s) that sign the servers' certificates, from a PEM file.
         *
         * @param file a PEM file (made absolute)
         * @return this builder
         */
        public Builder caCertFile(Path file) {
            this.caCert = Pem.ofFile(file, "caCertFile");
            return this;
        }

        /**
         * The CA certificate(s) that sign the servers' certificates, as PEM text.
         *
         * @param pem {@code -----BEGIN CERTIFICATE-----...}
         * @return this builder
         */
        public Builder caCertPem(String pem) {
            this.caCert = Pem.ofText(pem, "caCertPem");
            return this;
        }

        /**
         * The client certificate chain (leaf first) for mutual TLS, from a PEM file; needs
         * {@link #clientKeyFile(Path)} or {@link #clientKeyPem(String)}.
         *
         * @param file a PEM file (made absolute)
         * @return this builder
         */
        public Builder clientCertFile(Path file) {
            this.clientCert = Pem.ofFile(file, "clientCertFile");
            return this;
        }

        /**
         * The client certificate chain (leaf first) for mutual TLS, as PEM text.
         *
         * @param pem {@code -----BEGIN CERTIFICATE-----...}
         * @return this builder
         */
        public Builder clientCertPem(String pem) {
            this.clientCert = Pem.ofText(pem, "clientCertPem");
            return this;
        }

        /**
         * The client certificate's private key, from a PEM file.
         *
         * @param file a PEM file (made absolute)
         * @return this builder
         */
        public Builder clientKeyFile(Path file) {
            this.clientKey = Pem.ofFile(file, "clientKeyFile");
            return this;
        }

        /**
         * The client certificate's private key, as PEM text.
         *
         * @param pem {@code -----BEGIN PRIVATE KEY-----...}
         * @return this builder
         */
        public Builder clientKeyPem(String pem) {
            this.clientKey = Pem.ofText(pem, "clientKeyPem");
            return this;
        }

        /**
         * The configuration.
         *
         * @return the verified TLS configuration
         * @throws IllegalStateException without a CA certificate, or with a client certificate
         *     but no key (or a key but no certificate)
         */
        public TlsConfig build() {
            if (caCert == null) {
                throw new IllegalStateException("verified TLS needs a CA certificate (caCertFile or caCertPem)");
            }
            if ((clientCert == null) != (clientKey == null)) {
                throw new IllegalStateException("mutual TLS needs both a client certificate and its key");
            }
            return new TlsConfig(Policy.VERIFIED, domain, caCert, clientCert, clientKey);
        }
    }
}
