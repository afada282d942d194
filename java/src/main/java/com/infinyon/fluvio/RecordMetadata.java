package com.infinyon.fluvio;

import org.jspecify.annotations.Nullable;

/**
 * Where a sent record was stored.
 *
 * <p>Thread-safety: immutable.
 */
public final class RecordMetadata {
    /**
     * The {@link #offset()} of a record the leader stored at an offset it no longer knows: it
     * recognized a retry of a batch it had stored before, but not where (the record is stored
     * once). The same value as the Rust engine's {@code RecordMetadata::UNKNOWN_OFFSET}.
     */
    public static final long UNKNOWN_OFFSET = -1;

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
     * The offset within the partition; {@link #UNKNOWN_OFFSET} (-1) when the leader recognized a
     * retry of a batch it had stored before but no longer knew where (the record is stored
     * once, at an unknown offset).
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
