package com.infinyon.fluvio;

import org.jspecify.annotations.Nullable;

/**
 * Where a sent record was stored.
 *
 * <p>Thread-safety: immutable.
 */
public final class RecordMetadata {
    private final int partition;
    private final long offset;

    RecordMetadata(int partition, long offset) {
        this.partition = partition;
        this.offset = offset;
    }

    /** The partition. */
    public int partition() {
        return partition;
    }

    /**
     * The offset within the partition; -1 when the leader recognized a retry of a batch it had
     * stored before but no longer knew where (the record is stored once, at an unknown offset).
     */
    public long offset() {
        return offset;
    }

    @Override
    public boolean equals(@Nullable Object other) {
        return other instanceof RecordMetadata
                && ((RecordMetadata) other).partition == partition
                && ((RecordMetadata) other).offset == offset;
    }

    @Override
    public int hashCode() {
        return 31 * partition + Long.hashCode(offset);
    }

    @Override
    public String toString() {
        return "RecordMetadata[partition=" + partition + ", offset=" + offset + "]";
    }
}
