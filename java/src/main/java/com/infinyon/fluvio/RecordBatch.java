package com.infinyon.fluvio;

import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.NoSuchElementException;
import org.jspecify.annotations.Nullable;

/**
 * The records that arrived together on a stream ({@link ConsumerStream#nextBatch()},
 * {@link ConsumerStream#poll(java.time.Duration)}), in offset order within each partition:
 * a view over the stream's reused buffer, read by index or through one reused
 * {@link RecordView}, with no object per record.
 *
 * <p>Lifetime: valid until the next read of its stream ({@code next}, {@code nextBatch},
 * {@code poll}, {@code hasNext}) or until the stream is closed, whichever comes first. Used
 * after that, every method but {@link #size()}, {@link #isEmpty()} and {@link #isValid()} throws
 * {@link StaleRecordBatchException}. What must outlive it is copied out:
 * {@link #record(int)} is a {@link Record} of its own; {@link #value(int)}, {@link #key(int)}
 * and the string accessors return copies too.
 *
 * <p>Thread-safety: not thread-safe; use it on the thread that reads the stream.
 */
public final class RecordBatch implements Iterable<RecordView> {
    private final ConsumerStream stream;
    private final long generation;
    private final int start;
    private final int size;
    /** Decodes strings without allocating a byte array each time. */
    private byte[] scratch = new byte[0];

    RecordBatch(ConsumerStream stream, long generation, int start, int size) {
        this.stream = stream;
        this.generation = generation;
        this.start = start;
        this.size = size;
    }

    /** How many records the batch holds. */
    public int size() {
        return size;
    }

    /** Whether the batch holds no record (nothing arrived in time, or the stream ended). */
    public boolean isEmpty() {
        return size == 0;
    }

    /** Whether the batch can still be read (its stream was not read again nor closed). */
    public boolean isValid() {
        try {
            stream.checkCurrent(generation);
            return true;
        } catch (StaleRecordBatchException stale) {
            return false;
        }
    }

    /** The index into the stream's current fill of record {@code index}, once checked. */
    private int at(int index) {
        stream.checkCurrent(generation);
        if (index < 0 || index >= size) {
            throw new IndexOutOfBoundsException("record " + index + " of a batch of " + size);
        }
        return start + index;
    }

    /**
     * The partition of record {@code index}.
     *
     * @param index from 0 to {@code size() - 1}
     * @return the partition
     */
    public int partition(int index) {
        return stream.partition(at(index));
    }

    /**
     * The offset of record {@code index} within its partition.
     *
     * @param index from 0 to {@code size() - 1}
     * @return the offset
     */
    public long offset(int index) {
        return stream.offset(at(index));
    }

    /**
     * Milliseconds since the epoch when the producer created record {@code index}, or -1.
     *
     * @param index from 0 to {@code size() - 1}
     * @return the timestamp
     */
    public long timestamp(int index) {
        return stream.timestamp(at(index));
    }

    /**
     * The length of the key of record {@code index}, or -1 when it has none.
     *
     * @param index from 0 to {@code size() - 1}
     * @return the key's length
     */
    public int keyLength(int index) {
        return stream.keyLength(at(index));
    }

    /**
     * The length of the value of record {@code index}.
     *
     * @param index from 0 to {@code size() - 1}
     * @return the value's length
     */
    public int valueLength(int index) {
        return stream.valueLength(at(index));
    }

    /**
     * A copy of the key of record {@code index}, or null when it has none.
     *
     * @param index from 0 to {@code size() - 1}
     * @return the key
     */
    public byte @Nullable [] key(int index) {
        int i = at(index);
        int length = stream.keyLength(i);
        if (length < 0) {
            return null;
        }
        return stream.copyOf(stream.keyPosition(i), length);
    }

    /**
     * A copy of the value of record {@code index}.
     *
     * @param index from 0 to {@code size() - 1}
     * @return the value
     */
    public byte[] value(int index) {
        int i = at(index);
        return stream.copyOf(stream.valuePosition(i), stream.valueLength(i));
    }

    /**
     * Copies the value of record {@code index} into {@code dst} at {@code dstOffset}, without
     * allocating.
     *
     * @param index from 0 to {@code size() - 1}
     * @param dst where to copy it; must have room for {@link #valueLength(int)} bytes
     * @param dstOffset where in {@code dst}
     * @return the value's length
     */
    public int copyValue(int index, byte[] dst, int dstOffset) {
        int i = at(index);
        int length = stream.valueLength(i);
        if (dstOffset < 0 || dstOffset > dst.length - length) {
            throw new IndexOutOfBoundsException(
                    "a value of " + length + " bytes does not fit at " + dstOffset + " of " + dst.length);
        }
        stream.copy(stream.valuePosition(i), dst, dstOffset, length);
        return length;
    }

    /**
     * Copies part of the value of record {@code index}: {@code length} bytes from byte
     * {@code from} of the value, into {@code dst} at {@code dstOffset}, without allocating. For
     * reading what a value starts with (a header, a schema id) without copying the rest.
     *
     * @param index from 0 to {@code size() - 1}
     * @param from where in the value
     * @param dst where to copy it
     * @param dstOffset where in {@code dst}
     * @param length how many bytes
     * @throws IndexOutOfBoundsException when the range is not within the value, or does not
     *     fit in {@code dst}
     */
    public void copyValue(int index, int from, byte[] dst, int dstOffset, int length) {
        int i = at(index);
        int valueLength = stream.valueLength(i);
        if (from < 0 || length < 0 || from > valueLength - length) {
            throw new IndexOutOfBoundsException(
                    length + " bytes at " + from + " are not within a value of " + valueLength + " bytes");
        }
        if (dstOffset < 0 || dstOffset > dst.length - length) {
            throw new IndexOutOfBoundsException(length + " bytes do not fit at " + dstOffset + " of " + dst.length);
        }
        stream.copy(stream.valuePosition(i) + from, dst, dstOffset, length);
    }

    /**
     * The key of record {@code index} as UTF-8 text, or null when it has none.
     *
     * @param index from 0 to {@code size() - 1}
     * @return the key
     */
    public @Nullable String keyString(int index) {
        int i = at(index);
        int length = stream.keyLength(i);
        return length < 0 ? null : text(stream.keyPosition(i), length);
    }

    /**
     * The value of record {@code index} as UTF-8 text.
     *
     * @param index from 0 to {@code size() - 1}
     * @return the value
     */
    public String valueString(int index) {
        int i = at(index);
        return text(stream.valuePosition(i), stream.valueLength(i));
    }

    private String text(int position, int length) {
        if (scratch.length < length) {
            scratch = new byte[Math.max(length, scratch.length * 2)];
        }
        stream.copy(position, scratch, 0, length);
        return new String(scratch, 0, length, StandardCharsets.UTF_8);
    }

    /**
     * Record {@code index} as a {@link Record} of its own, which outlives the batch.
     *
     * @param index from 0 to {@code size() - 1}
     * @return the record
     */
    public Record record(int index) {
        return stream.record(at(index));
    }

    /**
     * The records in order, through one {@link RecordView} moved from record to record (the
     * iterator returns the same view each time): no object per record.
     *
     * @throws StaleRecordBatchException once the batch is no longer valid
     */
    @Override
    public Iterator<RecordView> iterator() {
        stream.checkCurrent(generation);
        RecordView view = new RecordView(this);
        return new Iterator<RecordView>() {
            private int next;

            @Override
            public boolean hasNext() {
                return next < size;
            }

            @Override
            public RecordView next() {
                if (next >= size) {
                    throw new NoSuchElementException();
                }
                stream.checkCurrent(generation);
                view.index = next++;
                return view;
            }
        };
    }

    @Override
    public String toString() {
        return "RecordBatch[" + size + " records" + (isValid() ? "" : ", no longer valid") + "]";
    }
}
