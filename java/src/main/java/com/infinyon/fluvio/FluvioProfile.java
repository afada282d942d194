package com.infinyon.fluvio;

import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * One profile of the profile file: a name, the cluster it points at (the file's
 * {@code [cluster.<name>]} table), the SC endpoint and the transport security. Read and
 * written with {@link FluvioProfiles}.
 *
 * <pre>{@code
 * FluvioProfile prod = FluvioProfile.of("prod", "fluvio.example.com:9003",
 *     TlsConfig.verified("fluvio.example.com").caCertFile(ca).clientCertFile(cert).clientKeyFile(key).build());
 * }</pre>
 *
 * <p>Thread-safety: immutable.
 */
public final class FluvioProfile {
    private final String name;
    private final String cluster;
    private final String endpoint;
    private final TlsConfig tls;

    private FluvioProfile(String name, String cluster, String endpoint, TlsConfig tls) {
        this.name = name;
        this.cluster = cluster;
        this.endpoint = endpoint;
        this.tls = tls;
    }

    /**
     * A profile whose cluster has the profile's name (as the Fluvio CLI names them).
     *
     * @param name the profile name
     * @param endpoint the SC address, {@code host:port}
     * @param tls transport security
     * @return the profile
     * @throws IllegalArgumentException if a name is empty or the endpoint is not {@code host:port}
     */
    public static FluvioProfile of(String name, String endpoint, TlsConfig tls) {
        return of(name, name, endpoint, tls);
    }

    /**
     * A profile pointing at cluster {@code cluster}. Clusters may be shared by profiles; writing a
     * profile rewrites its cluster's endpoint and TLS settings.
     *
     * @param name the profile name
     * @param cluster the cluster name
     * @param endpoint the SC address, {@code host:port}
     * @param tls transport security
     * @return the profile
     * @throws IllegalArgumentException if a name is empty or the endpoint is not {@code host:port}
     */
    public static FluvioProfile of(String name, String cluster, String endpoint, TlsConfig tls) {
        return new FluvioProfile(checkName(name, "name"), checkName(cluster, "cluster"),
                FluvioConfig.checkEndpoint(endpoint), Objects.requireNonNull(tls, "tls"));
    }

    /** A profile as read from a file (its endpoint is not checked: the file may hold anything). */
    static FluvioProfile read(String name, String cluster, String endpoint, TlsConfig tls) {
        return new FluvioProfile(name, cluster, endpoint, tls);
    }

    static String checkName(String name, String what) {
        Objects.requireNonNull(name, what);
        if (name.isEmpty()) {
            throw new IllegalArgumentException(what + " must not be empty");
        }
        return name;
    }

    /** The profile name. */
    public String name() {
        return name;
    }

    /** The name of the cluster the profile points at. */
    public String cluster() {
        return cluster;
    }

    /** The SC endpoint, {@code host:port}. */
    public String endpoint() {
        return endpoint;
    }

    /** Transport security. */
    public TlsConfig tls() {
        return tls;
    }

    /**
     * A {@link FluvioConfig} builder with this profile's endpoint and TLS settings, to which
     * timeouts or a client id can be added.
     *
     * @return a new builder
     * @throws IllegalArgumentException if the endpoint read from the file is not {@code host:port}
     */
    public FluvioConfig.Builder toConfigBuilder() {
        return FluvioConfig.builder().endpoint(endpoint).tls(tls);
    }

    @Override
    public boolean equals(@Nullable Object other) {
        if (this == other) {
            return true;
        }
        if (!(other instanceof FluvioProfile)) {
            return false;
        }
        FluvioProfile that = (FluvioProfile) other;
        return name.equals(that.name) && cluster.equals(that.cluster) && endpoint.equals(that.endpoint)
                && tls.equals(that.tls);
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, cluster, endpoint, tls);
    }

    @Override
    public String toString() {
        return "FluvioProfile[" + name + ", cluster=" + cluster + ", endpoint=" + endpoint + ", " + tls + "]";
    }
}
