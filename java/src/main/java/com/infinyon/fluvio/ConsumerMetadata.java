package com.infinyon.fluvio;

import java.time.Instant;

/**
 * The offset a named consumer has stored in one partition ({@link
 * FluvioAdmin#listConsumers()}): the consumer id as its name, the partition in the spec, the
 * offset and when it was stored in the status. {@link #toJson()} and {@link #toYaml()} render
 * it with the fields of the official CLI's {@code fluvio consumer list -O json}: {@code
 * consumer_id}, {@code topic}, {@code partition}, {@code offset}, {@code modified_time}.
 *
 * <p>Thread-safety: immutable.
 */
public final class ConsumerMetadata {
    /**
     * The partition the consumer read.
     *
     * <p>Thread-safety: immutable.
     */
    public static final class Spec {
        private final String topic;
        private final int partition;

        Spec(String topic, int partition) {
            this.topic = topic;
            this.partition = partition;
        }

        /** The topic. */
        public String topic() {
            return topic;
        }

        /** The partition. */
        public int partition() {
            return partition;
        }
    }

    /**
     * What is stored.
     *
     * <p>Thread-safety: immutable.
     */
    public static final class Status {
        private final long offset;
        private final Instant lastModified;

        Status(long offset, Instant lastModified) {
            this.offset = offset;
            this.lastModified = lastModified;
        }

        /**
         * The offset of the last record the consumer consumed: a stream of this consumer
         * resumes at the next one.
         */
        public long offset() {
            return offset;
        }

        /** When the offset was last stored (to the second, as the cluster keeps it). */
        public Instant lastModified() {
            return lastModified;
        }
    }

    private final String name;
    private final Spec spec;
    private final Status status;
    private final String json;
    private final String yaml;

    private ConsumerMetadata(String name, Spec spec, Status status, String json, String yaml) {
        this.name = name;
        this.spec = spec;
        this.status = status;
        this.json = json;
        this.yaml = yaml;
    }

    static ConsumerMetadata unpack(Unpacker in) {
        String name = in.str();
        Spec spec = new Spec(in.str(), in.i32());
        Status status = new Status(in.i64(), Instant.ofEpochSecond(in.i64()));
        return new ConsumerMetadata(name, spec, status, in.str(), in.str());
    }

    /** The consumer id. */
    public String name() {
        return name;
    }

    /** The partition. */
    public Spec spec() {
        return spec;
    }

    /** The stored offset. */
    public Status status() {
        return status;
    }

    /** The object as JSON (the official CLI's fields). */
    public String toJson() {
        return json;
    }

    /** The object as YAML (the official CLI's fields). */
    public String toYaml() {
        return yaml;
    }

    @Override
    public String toString() {
        return "ConsumerMetadata[" + name + ", " + spec.topic() + "-" + spec.partition() + ", offset="
                + status.offset() + ", " + status.lastModified() + "]";
    }
}
