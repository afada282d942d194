package com.infinyon.fluvio;

import org.jspecify.annotations.Nullable;

/**
 * One record of a {@link RecordBatch}, seen through a view its iterator moves from record to
 * record: the same object each time, so holding on to it does not keep a record. Valid as
 * long as its batch is (see {@link RecordBatch} for the lifetime rule); afterwards every
 * accessor throws {@link StaleRecordBatchException}. {@link #toRecord()} copies the record
 * out.
 *
 * <p>Thread-safety: not thread-safe; use it on the thread that reads the stream.
 */
public final class RecordView {
    private final RecordBatch batch;
    int index;

    RecordView(RecordBatch batch) {
        this.batch = batch;
    }

    /** The position of the record in its batch. */
    public int index() {
        return index;
    }

    /** The partition. */
    public int partition() {
        return batch.partition(index);
    }

    /** The offset within the partition. */
    public long offset() {
        return batch.offset(index);
    }

    /** Milliseconds since the epoch when the producer created the record, or -1 if unknown. */
    public long timestamp() {
        return batch.timestamp(index);
    }

    /** The key's length, or -1 when the record has none. */
    public int keyLength() {
        return batch.keyLength(index);
    }

    /** The value's length. */
    public int valueLength() {
        return batch.valueLength(index);
    }

    /** A copy of the key, or null when the record has none. */
    public byte @Nullable [] key() {
        return batch.key(index);
    }

    /** A copy of the value. */
    public byte[] value() {
        return batch.value(index);
    }

    /**
     * Copies the value into {@code dst} at {@code dstOffset}, without allocating.
     *
     * @param dst where to copy it; must have room for {@link #valueLength()} bytes
     * @param dstOffset where in {@code dst}
     * @return the value's length
     */
    public int copyValue(byte[] dst, int dstOffset) {
        return batch.copyValue(index, dst, dstOffset);
    }

    /**
     * Copies part of the value: {@code length} bytes from byte {@code from} of the value, into
     * {@code dst} at {@code dstOffset}, without allocating (for reading what a value starts
     * with without copying the rest).
     *
     * @param from where in the value
     * @param dst where to copy it
     * @param dstOffset where in {@code dst}
     * @param length how many bytes
     * @throws IndexOutOfBoundsException when the range is not within the value, or does not
     *     fit in {@code dst}
     */
    public void copyValue(int from, byte[] dst, int dstOffset, int length) {
        batch.copyValue(index, from, dst, dstOffset, length);
    }

    /** The key as UTF-8 text, or null when the record has none. */
    public @Nullable String keyString() {
        return batch.keyString(index);
    }

    /** The value as UTF-8 text. */
    public String valueString() {
        return batch.valueString(index);
    }

    /** The record as a {@link Record} of its own, which outlives the batch. */
    public Record toRecord() {
        return batch.record(index);
    }

    @Override
    public String toString() {
        return batch.isValid() ? "RecordView[offset=" + offset() + ", " + valueLength() + " bytes]"
                : "RecordView[no longer valid]";
    }
}
