package com.infinyon.fluvio;

import org.jspecify.annotations.Nullable;

/**
 * An SPU (a data server of the cluster): id and endpoint in the spec, availability in the
 * status.
 *
 * <p>Thread-safety: immutable.
 */
public final class SpuMetadata {
    /**
     * Availability of an SPU.
     *
     * <p>Thread-safety: immutable.
     */
    public enum Resolution {
        /** Serving. */
        ONLINE,
        /** Gone. */
        OFFLINE,
        /** Starting. */
        INIT
    }

    /**
     * The SPU's identity and address.
     *
     * <p>Thread-safety: immutable.
     */
    public static final class Spec {
        private final int id;
        private final String host;
        private final int port;
        private final String rack;

        Spec(int id, String host, int port, String rack) {
            this.id = id;
            this.host = host;
            this.port = port;
            this.rack = rack;
        }

        /** The SPU id partitions refer to. */
        public int id() {
            return id;
        }

        /** Host of the public endpoint. */
        public String host() {
            return host;
        }

        /** Port of the public endpoint. */
        public int port() {
            return port;
        }

        /** {@code host:port} of the public endpoint. */
        public String endpoint() {
            return host + ":" + port;
        }

        /** Rack, or null. */
        public @Nullable String rack() {
            return rack;
        }
    }

    /**
     * The SPU's availability.
     *
     * <p>Thread-safety: immutable.
     */
    public static final class Status {
        private final Resolution resolution;

        Status(Resolution resolution) {
            this.resolution = resolution;
        }

        /** Availability. */
        public Resolution resolution() {
            return resolution;
        }

        /** Whether the SPU is online. */
        public boolean isOnline() {
            return resolution == Resolution.ONLINE;
        }
    }

    private final String name;
    private final Spec spec;
    private final Status status;
    private final String json;
    private final String yaml;

    private SpuMetadata(String name, Spec spec, Status status, String json, String yaml) {
        this.name = name;
        this.spec = spec;
        this.status = status;
        this.json = json;
        this.yaml = yaml;
    }

    static SpuMetadata unpack(Unpacker in) {
        String name = in.str();
        Spec spec = new Spec(in.i32(), in.str(), in.i32(), in.str());
        Status status = new Status(Resolution.valueOf(in.str()));
        return new SpuMetadata(name, spec, status, in.str(), in.str());
    }

    /** The SPU name. */
    public String name() {
        return name;
    }

    /** Identity and address. */
    public Spec spec() {
        return spec;
    }

    /** Availability. */
    public Status status() {
        return status;
    }

    /**
     * The object as JSON, exactly as the official CLI prints it with {@code -O json}: the same
     * field names ({@code spuId}, {@code compressionType}, ...), value spellings ({@code "Any"},
     * {@code "Gzip"}, {@code "PLAINTEXT"}), {@code null}s and field order.
     */
    public String toJson() {
        return json;
    }

    /**
     * The object as YAML, exactly as the official CLI prints it with {@code -O yaml}: enum
     * variants that carry a value are YAML tags (e.g. {@code replicas: !computed}). Readers that
     * refuse unknown tags (SnakeYAML's safe loader) need {@link #toJson()} instead.
     */
    public String toYaml() {
        return yaml;
    }

    @Override
    public String toString() {
        return "SpuMetadata[" + name + ", id=" + spec.id() + ", " + spec.endpoint() + ", " + status.resolution() + "]";
    }
}
