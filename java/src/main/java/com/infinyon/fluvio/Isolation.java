package com.infinyon.fluvio;

/**
 * Which records a consumer sees.
 *
 * <p>Thread-safety: immutable.
 */
public enum Isolation {
    /** Only committed records (below the high watermark): the default. */
    READ_COMMITTED,
    /** Everything appended by the partition leader, committed or not. */
    READ_UNCOMMITTED
}
