package com.infinyon.fluvio;

/**
 * Which records a consumer sees, and when a producer's record counts as delivered.
 *
 * <p>Thread-safety: immutable.
 */
public enum Isolation {
    /**
     * Only committed records: those every in-sync replica holds (below the high watermark). A
     * failover never takes them back, but on a real Fluvio cluster the high watermark waits for
     * every replica of the partition, so while one is down (or a new topic's followers have not
     * joined yet) such a consumer sees nothing new.
     */
    READ_COMMITTED,
    /**
     * Everything the partition leader stored, committed or not: the consumers' default, as the
     * official client's. A record the leader loses in a failover before a follower copied it
     * may have been read.
     */
    READ_UNCOMMITTED
}
