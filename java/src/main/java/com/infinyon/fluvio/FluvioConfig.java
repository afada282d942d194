package com.infinyon.fluvio;

import java.time.Duration;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * How to reach a cluster: the SC endpoint, transport security, the client id and timeouts.
 * Build with {@link #builder()}.
 *
 * <pre>{@code
 * FluvioConfig config = FluvioConfig.builder()
 *     .endpoint("fluvio.example.com:9003")
 *     .tls(TlsConfig.verified("fluvio.example.com").caCertFile(Paths.get("ca.crt")).build())
 *     .connectTimeout(Duration.ofSeconds(5))
 *     .build();
 * try (Fluvio fluvio = Fluvio.connect(config)) { ... }
 * }</pre>
 *
 * <p>Thread-safety: immutable.
 */
public final class FluvioConfig {
    /** Default connect timeout: 10 s. */
    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(10);
    /** Default request timeout: 30 s. */
    public static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(30);
    /** Default TLS handshake timeout: 3 s. */
    public static final Duration DEFAULT_TLS_HANDSHAKE_TIMEOUT = Duration.ofSeconds(3);

    private final String endpoint;
    private final TlsConfig tls;
    private final String clientId;
    private final Duration connectTimeout;
    private final Duration requestTimeout;
    private final Duration tlsHandshakeTimeout;
    private final boolean useSpuLocalAddress;

    private FluvioConfig(Builder builder) {
        this.endpoint = builder.endpoint;
        this.tls = builder.tls;
        this.clientId = builder.clientId;
        this.connectTimeout = builder.connectTimeout;
        this.requestTimeout = builder.requestTimeout;
        this.tlsHandshakeTimeout = builder.tlsHandshakeTimeout;
        this.useSpuLocalAddress = builder.useSpuLocalAddress;
    }

    /** A builder with the defaults. */
    public static Builder builder() {
        return new Builder();
    }

    /** The SC endpoint, {@code host:port}. */
    public String endpoint() {
        return endpoint;
    }

    /** Transport security ({@link TlsConfig#disabled()} unless set). */
    public TlsConfig tls() {
        return tls;
    }

    /** The client id sent with every request, or null for the default ("fluvio"). */
    public @Nullable String clientId() {
        return clientId;
    }

    /** Time to establish a connection. */
    public Duration connectTimeout() {
        return connectTimeout;
    }

    /** Time to wait for any response. */
    public Duration requestTimeout() {
        return requestTimeout;
    }

    /** Time a TLS handshake may go unanswered before the server is deemed not to speak TLS. */
    public Duration tlsHandshakeTimeout() {
        return tlsHandshakeTimeout;
    }

    /** Whether SPUs are reached through their local endpoints. */
    public boolean useSpuLocalAddress() {
        return useSpuLocalAddress;
    }

    /**
     * Builds a {@link FluvioConfig}.
     *
     * <p>Thread-safety: not thread-safe.
     */
    public static final class Builder {
        private String endpoint;
        private TlsConfig tls = TlsConfig.disabled();
        private String clientId;
        private Duration connectTimeout = DEFAULT_CONNECT_TIMEOUT;
        private Duration requestTimeout = DEFAULT_REQUEST_TIMEOUT;
        private Duration tlsHandshakeTimeout = DEFAULT_TLS_HANDSHAKE_TIMEOUT;
        private boolean useSpuLocalAddress;

        private Builder() {}

        /**
         * The SC endpoint (required).
         *
         * @param endpoint {@code host:port}
         * @return this builder
         */
        public Builder endpoint(String endpoint) {
            this.endpoint = checkEndpoint(endpoint);
            return this;
        }

        /**
         * Transport security (default {@link TlsConfig#disabled()}: plain TCP). With TLS, the
         * handshake with the SC and with each SPU runs within the connect timeout and the
         * {@linkplain #tlsHandshakeTimeout(Duration) handshake timeout}; a refused one is
         * {@link FluvioException.Code#TLS}, and unreadable certificates are
         * {@link FluvioException.Code#CONFIG}.
         *
         * @param tls the policy and its certificates
         * @return this builder
         */
        public Builder tls(TlsConfig tls) {
            this.tls = Objects.requireNonNull(tls, "tls");
            return this;
        }

        /**
         * The client id sent with every request.
         *
         * @param clientId the id
         * @return this builder
         */
        public Builder clientId(String clientId) {
            this.clientId = Settings.check(Settings.Setting.CLIENT_ID, clientId);
            return this;
        }

        /**
         * Time to establish a connection (default 10 s).
         *
         * @param timeout at least 1 ms
         * @return this builder
         */
        public Builder connectTimeout(Duration timeout) {
            this.connectTimeout = Settings.check(Settings.Setting.CONNECT_TIMEOUT, timeout);
            return this;
        }

        /**
         * Time to wait for any response (default 30 s).
         *
         * @param timeout at least 1 ms
         * @return this builder
         */
        public Builder requestTimeout(Duration timeout) {
            this.requestTimeout = Settings.check(Settings.Setting.REQUEST_TIMEOUT, timeout);
            return this;
        }

        /**
         * How long a TLS handshake may go unanswered (default 3 s). A plain Fluvio server reads
         * a TLS ClientHello as the start of a request and waits for the rest without a word, so
         * a handshake unanswered in time fails with {@link FluvioException.Code#TLS} and
         * {@link FluvioException.TlsFailure#SERVER_NOT_TLS}, not retriable, rather than with a
         * retriable {@link FluvioException.Code#CONNECT_TIMEOUT}. It always lies well inside
         * the connect timeout: at most half of it is used.
         *
         * @param timeout at least 1 ms
         * @return this builder
         */
        public Builder tlsHandshakeTimeout(Duration timeout) {
            this.tlsHandshakeTimeout = Settings.check(Settings.Setting.TLS_HANDSHAKE_TIMEOUT, timeout);
            return this;
        }

        /**
         * Reach SPUs through their local endpoints (default false).
         *
         * @param enabled whether to
         * @return this builder
         */
        public Builder useSpuLocalAddress(boolean enabled) {
            this.useSpuLocalAddress = enabled;
            return this;
        }

        /**
         * The configuration.
         *
         * @return the configuration
         * @throws IllegalStateException if no endpoint was set
         */
        public FluvioConfig build() {
            if (endpoint == null) {
                throw new IllegalStateException("an endpoint is required");
            }
            return new FluvioConfig(this);
        }
    }

    static String checkEndpoint(String endpoint) {
        return Settings.check(Settings.Setting.ENDPOINT, endpoint);
    }
}
