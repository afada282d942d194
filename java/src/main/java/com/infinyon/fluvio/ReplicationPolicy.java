package com.infinyon.fluvio;

/**
 * When an embedded cluster ({@link LocalCluster}) commits records and which replica it elects
 * when a partition's leader is lost ({@link LocalCluster.Builder#replicationPolicy}).
 *
 * <p>Under both, a replica whose log lost records (damage found by recovery or by a read) is
 * never elected while it lacks them, and after a restart the cluster waits for the replicas'
 * reports before it elects.
 *
 * <p>Thread-safety: immutable.
 */
public enum ReplicationPolicy {
    /**
     * Real Fluvio's rules (the default), so that a test on {@link LocalCluster} predicts what a
     * real cluster does:
     *
     * <ul>
     *   <li>a record is committed once <em>every</em> replica holds it: while one replica is
     *       down, or has not fetched since its leader took office (a new topic's followers),
     *       {@code READ_COMMITTED} readers see nothing new and producers acknowledged on commit
     *       wait;
     *   <li>when a leader's SPU goes away, a follower is elected only if its log end was less
     *       than 4 records behind the leader's in the leader's last report to the SC (sent
     *       every 400 ms); otherwise the partition is {@code LEADER_OFFLINE} until the old
     *       leader returns (producers retry, streams wait, within their timeouts);
     *   <li>{@link PartitionMetadata.Status#inSyncReplicas()} counts the followers whose log
     *       end equals the leader's in its last report.
     * </ul>
     *
     * A record acknowledged by the leader alone may be lost when a follower up to 3 records
     * behind is elected; a committed record never is.
     */
    FLUVIO,
    /**
     * Stronger guarantees than a real cluster gives: the leader keeps an in-sync replica set
     * (a follower leaves it when it has not caught up for
     * {@link LocalCluster.Builder#replicaLagTime} or its SPU goes away, and joins again once it
     * holds everything committed); a record is committed once every in-sync replica holds it
     * (at least {@link LocalCluster.Builder#minLiveReplicas} of them); any online in-sync
     * replica is elected at once when a leader is lost. Under the faults the tests inject, a
     * record acknowledged on commit is never lost, and with idempotent producers never
     * duplicated; a partition keeps serving while one in-sync replica is online.
     * {@link PartitionMetadata.Status#inSyncReplicas()} counts the in-sync followers.
     */
    IN_SYNC
}
