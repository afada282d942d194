package com.infinyon.fluvio;

import java.util.Collections;
import java.util.List;

/**
 * A partition as the SC describes it: leader and replicas in the spec; availability, high
 * watermark, log end offset and size in the status.
 *
 * <p>Thread-safety: immutable.
 */
public final class PartitionMetadata {
    /**
     * Availability of a partition.
     *
     * <p>Thread-safety: immutable.
     */
    public enum Resolution {
        /** No leader. */
        OFFLINE,
        /** Serving normally. */
        ONLINE,
        /** The leader is gone and no replacement was elected. */
        LEADER_OFFLINE,
        /** A new leader was chosen. */
        ELECTION_LEADER_FOUND,
        /** Storage is full (still readable). */
        OUT_OF_STORAGE
    }

    /**
     * Where the partition lives.
     *
     * <p>Thread-safety: immutable.
     */
    public static final class Spec {
        private final int leader;
        private final List<Integer> replicas;

        Spec(int leader, List<Integer> replicas) {
            this.leader = leader;
            this.replicas = Collections.unmodifiableList(replicas);
        }

        /** The leader SPU id. */
        public int leader() {
            return leader;
        }

        /** Every replica SPU id, leader first. */
        public List<Integer> replicas() {
            return replicas;
        }
    }

    /**
     * How the partition is doing.
     *
     * <p>Thread-safety: immutable.
     */
    public static final class Status {
        private final Resolution resolution;
        private final long highWatermark;
        private final long logEndOffset;
        private final long size;
        private final int inSyncReplicas;
        private final long logStartOffset;
        private final int leader;
        private final List<ReplicaStatus> followers;

        Status(Resolution resolution, long highWatermark, long logEndOffset, long size, int inSyncReplicas,
                long logStartOffset, int leader, List<ReplicaStatus> followers) {
            this.resolution = resolution;
            this.highWatermark = highWatermark;
            this.logEndOffset = logEndOffset;
            this.size = size;
            this.inSyncReplicas = inSyncReplicas;
            this.logStartOffset = logStartOffset;
            this.leader = leader;
            this.followers = Collections.unmodifiableList(followers);
        }

        /**
         * The SPU that last reported as the partition's leader (-1 before any report). While
         * the partition is {@code LEADER_OFFLINE} it still names the lost leader, with its last
         * offsets, as a real cluster shows it: {@link #resolution()} says whether it serves.
         */
        public int leader() {
            return leader;
        }

        /** The followers' progress as the leader sees it (empty without replication). */
        public List<ReplicaStatus> followers() {
            return followers;
        }

        /** Availability. */
        public Resolution resolution() {
            return resolution;
        }

        /** Offset below which records are committed (-1 when unknown). */
        public long highWatermark() {
            return highWatermark;
        }

        /** Offset the next record will get (-1 when unknown). */
        public long logEndOffset() {
            return logEndOffset;
        }

        /** Bytes on disk (-1 when unknown). */
        public long size() {
            return size;
        }

        /**
         * Number of followers in sync with the leader ({@code lsr} in the official CLI's
         * output): the leader is not counted, as on a real Fluvio cluster, so a healthy
         * partition with replication factor 3 shows 2, and one with replication factor 1 shows
         * 0. A real cluster (and {@link LocalCluster} under
         * {@link ReplicationPolicy#FLUVIO}) counts the followers whose log end equals the
         * leader's in its last report, so under load it may show fewer for a moment;
         * {@link LocalCluster} under {@link ReplicationPolicy#IN_SYNC} counts the followers of
         * its in-sync replica set.
         */
        public int inSyncReplicas() {
            return inSyncReplicas;
        }

        /** First offset still stored. */
        public long logStartOffset() {
            return logStartOffset;
        }
    }

    /**
     * How far one follower got.
     *
     * <p>Thread-safety: immutable.
     */
    public static final class ReplicaStatus {
        private final int spu;
        private final long highWatermark;
        private final long logEndOffset;

        ReplicaStatus(int spu, long highWatermark, long logEndOffset) {
            this.spu = spu;
            this.highWatermark = highWatermark;
            this.logEndOffset = logEndOffset;
        }

        /** The SPU holding the replica. */
        public int spu() {
            return spu;
        }

        /** Its high watermark (-1 before it reported one). */
        public long highWatermark() {
            return highWatermark;
        }

        /** Its log end offset (-1 before it fetched from this leader). */
        public long logEndOffset() {
            return logEndOffset;
        }

        @Override
        public String toString() {
            return "Replica[" + spu + ", hw=" + highWatermark + ", leo=" + logEndOffset + "]";
        }
    }

    private final String name;
    private final String topic;
    private final int partition;
    private final Spec spec;
    private final Status status;
    private final String json;
    private final String yaml;

    private PartitionMetadata(String name, String topic, int partition, Spec spec, Status status, String json, String yaml) {
        this.name = name;
        this.topic = topic;
        this.partition = partition;
        this.spec = spec;
        this.status = status;
        this.json = json;
        this.yaml = yaml;
    }

    static PartitionMetadata unpack(Unpacker in) {
        String name = in.str();
        String topic = in.str();
        int partition = in.i32();
        int leader = in.i32();
        int count = in.i32();
        List<Integer> replicas = new java.util.ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            replicas.add(in.i32());
        }
        Resolution resolution = Resolution.valueOf(in.str());
        long highWatermark = in.i64();
        long logEndOffset = in.i64();
        long size = in.i64();
        int inSync = in.i32();
        long logStart = in.i64();
        int reportingLeader = in.i32();
        int followerCount = in.i32();
        List<ReplicaStatus> followers = new java.util.ArrayList<>(followerCount);
        for (int i = 0; i < followerCount; i++) {
            followers.add(new ReplicaStatus(in.i32(), in.i64(), in.i64()));
        }
        Status status = new Status(resolution, highWatermark, logEndOffset, size, inSync, logStart, reportingLeader,
                followers);
        return new PartitionMetadata(name, topic, partition, new Spec(leader, replicas), status, in.str(), in.str());
    }

    /** The object name, {@code <topic>-<partition>}. */
    public String name() {
        return name;
    }

    /** The topic. */
    public String topic() {
        return topic;
    }

    /** The partition index. */
    public int partition() {
        return partition;
    }

    /** Where the partition lives. */
    public Spec spec() {
        return spec;
    }

    /** How it is doing. */
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
        return "PartitionMetadata[" + name + ", leader=" + spec.leader() + ", " + status.resolution() + "]";
    }
}
