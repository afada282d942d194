package com.infinyon.fluvio;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Arrays;
import java.util.Iterator;
import java.util.NoSuchElementException;
import org.jspecify.annotations.Nullable;

/**
 * A continuous stream of records. {@link #next()} blocks until a record arrives;
 * {@link #next(Duration)} returns null when none arrives in time. {@link #close()} may be
 * called from another thread: it wakes a blocked {@code next}, which then throws
 * {@link FluvioException} with {@code CLOSED}. {@link Thread#interrupt()} wakes it too, with
 * {@code INTERRUPTED} (the interrupt flag stays set and the stream stays usable: no record is
 * lost).
 *
 * <pre>{@code
 * try (ConsumerStream stream = fluvio.consumer("orders").stream(Offset.beginning())) {
 *     while (running) {
 *         Record record = stream.next(Duration.ofSeconds(1));   // null: nothing arrived in time
 *         if (record != null) { ... }
 *     }
 *     // or, as an Iterator: stream.forEachRemaining(record -> ...); and in Kotlin: for (r in stream)
 * }
 * }</pre>
 *
 * <p>{@link #nextBatch()} and {@link #poll(Duration)} read the records that arrived together
 * (one fetch, typically) as a {@link RecordBatch}: a view over the stream's reused buffer,
 * which native code fills, with no object per record. It is valid until the next call that reads this stream
 * ({@code next}, {@code nextBatch}, {@code poll}, {@code hasNext}) or {@link #close()}; used
 * after that it throws {@link StaleRecordBatchException}. Copy what must outlive it
 * ({@link RecordBatch#record(int)}, {@link RecordBatch#value(int)}). {@code next} and the batch
 * reads may be mixed: each record is returned once, in order.
 *
 * <pre>{@code
 * while (running) {
 *     RecordBatch batch = stream.poll(Duration.ofSeconds(1));   // empty: nothing arrived in time
 *     for (RecordView record : batch) {                         // one reused view, no allocation
 *         process(record.offset(), record.valueString());
 *     }
 * }
 * }</pre>
 *
 * <p>Each partition stream holds at most {@link ConsumerConfig#maxBufferedBytes()} in native
 * memory for its reader ({@link #bufferedBytes()}), and gives it back when closed.
 *
 * <p>The stream resumes by itself when a partition's leader moves (no record is lost or
 * repeated). A terminal failure (e.g. the topic was deleted) is thrown by {@code next} once;
 * the stream then ends: {@code hasNext()} is false.
 *
 * <p>A stream of a named consumer ({@link ConsumerConfig.Builder#consumerId(String)}) stores
 * its offsets in the cluster as its {@link OffsetStrategy} says: {@link #commit()} marks every
 * record returned so far (in each partition), {@link #flush()} stores that and waits; with
 * {@link OffsetStrategy#AUTO} both happen by themselves, and {@link #close()} stores the last
 * record returned before it returns. A record counts as returned once {@code next} returned
 * it or a {@link RecordBatch} holding it was returned ({@code nextBatch}, {@code poll}).
 *
 * <p>Thread-safety: {@link #close()}, {@link #commit()} and {@link #flush()} are thread-safe
 * (a flush does not wait for a blocked {@code next}); everything else must be called by one
 * thread at a time.
 */
public class ConsumerStream extends NativeHandle implements Iterator<Record> {
    /**
     * The buffer's first size: small, so that a stream read now and then (or one of many that
     * fall behind) keeps little on the heap.
     */
    private static final int INITIAL_BUFFER = 16 * 1024;
    /**
     * The size the buffer grows to while fills keep filling it more than half: enough that a
     * JNI crossing per fill costs nothing next to the records it brings. Beyond it the buffer
     * grows only for a record larger than it.
     */
    private static final int FULL_BUFFER = 256 * 1024;
    /** What {@code nativeFill} returns when nothing arrived in time. */
    private static final int TIMED_OUT = 0;
    /** How often an {@link OffsetStrategy#AUTO} stream tells native code what it returned. */
    private static final long REPORT_INTERVAL_NANOS = 100_000_000L;

    /** Where native code writes the records of each fill (layout RECORDS), reused. */
    private byte[] buffer;
    /** The size {@link #buffer} has from the next fill on. */
    private int nextBufferSize = INITIAL_BUFFER;
    /** Reads numbers out of {@link #buffer}. */
    private ByteBuffer reader;
    /** The records of the current fill: where each field is in {@link #buffer}. */
    private int count;
    private int[] partitions = new int[0];
    private long[] offsets = new long[0];
    private long[] timestamps = new long[0];
    private int[] keyPositions = new int[0];
    private int[] keyLengths = new int[0];
    private int[] valuePositions = new int[0];
    private int[] valueLengths = new int[0];
    /** The next record of the current fill to hand out. */
    private int position;
    /** Counts reads: a batch is valid until the next read. */
    private long generation;
    private boolean ended;
    /**
     * A named consumer's stream: the offset of the last record returned, by partition (-1:
     * none), which native code is told (records received but not returned are not committed);
     * null for other streams.
     */
    private long @Nullable [] returned;
    /** {@link OffsetStrategy#AUTO}: native code is told what was returned at least this often. */
    private final boolean auto;
    private long lastReport = System.nanoTime();

    ConsumerStream(long handle, ConsumerConfig config) {
        super(handle);
        this.returned = config.consumerId() != null ? new long[0] : null;
        this.auto = returned != null && config.offsetStrategy() == OffsetStrategy.AUTO;
    }

    /**
     * The next record, waiting as long as needed.
     *
     * @return the record
     * @throws FluvioException a stream failure, {@code CLOSED} when closed meanwhile, or
     *     {@code INTERRUPTED} when the thread is interrupted while waiting
     * @throws NoSuchElementException once the stream ended
     */
    @Override
    public Record next() {
        Record record = nextRecord(-1);
        if (record == null) {
            throw new NoSuchElementException("the stream ended");
        }
        return record;
    }

    /**
     * The next record, waiting up to {@code timeout}.
     *
     * @param timeout how long to wait (zero: only what already arrived)
     * @return the record, or null when none arrived in time or the stream ended
     */
    public @Nullable Record next(Duration timeout) {
        return nextRecord(nanos(timeout));
    }

    /**
     * The records that arrived together (at least one), waiting as long as needed. The batch
     * is a view over the stream's reused buffer, valid until the next read of this stream or
     * {@link #close()} (see {@link RecordBatch}).
     *
     * @return a non-empty batch
     * @throws FluvioException a stream failure, or {@code CLOSED} when closed meanwhile
     * @throws NoSuchElementException once the stream ended
     */
    public RecordBatch nextBatch() {
        RecordBatch batch = batch(-1);
        if (batch.isEmpty()) {
            throw new NoSuchElementException("the stream ended");
        }
        return batch;
    }

    /**
     * The records that arrived together, waiting up to {@code timeout} for the first. The
     * batch is a view over the stream's reused buffer, valid until the next read of this
     * stream or {@link #close()} (see {@link RecordBatch}).
     *
     * @param timeout how long to wait (zero: only what already arrived)
     * @return the batch: empty when nothing arrived in time or the stream ended
     *     ({@link #isEnded()})
     * @throws FluvioException a stream failure, or {@code CLOSED} when closed meanwhile
     */
    public RecordBatch poll(Duration timeout) {
        return batch(nanos(timeout));
    }

    /**
     * Waits until a record is available (true) or the stream ended (false).
     *
     * @return whether {@link #next()} will return a record
     * @throws FluvioException a stream failure, or {@code CLOSED} when closed meanwhile
     * @throws IllegalStateException when called after {@link #close()}
     */
    @Override
    public boolean hasNext() {
        checkOpen();
        generation++;
        if (position < count) {
            return true;
        }
        if (ended) {
            return false;
        }
        fill(-1);
        return position < count;
    }

    /**
     * Marks every record this stream returned so far as consumed, in each partition: the next
     * {@link #flush()} (or, with {@link OffsetStrategy#AUTO}, the next automatic store) stores
     * it. Records received but not yet returned (by {@code next}, or in a batch returned by
     * {@code nextBatch} or {@code poll}) are not included.
     *
     * @throws FluvioException {@code OFFSET_MANAGEMENT_DISABLED} without a consumer id or with
     *     {@link OffsetStrategy#NONE}
     * @throws IllegalStateException when called after {@link #close()}
     */
    public void commit() {
        long handle = acquire();
        try {
            nativeCommit(handle, returned);
        } finally {
            release();
        }
    }

    /**
     * Stores the last {@link #commit()} of each partition in the cluster and returns once the
     * cluster stored it (retrying within the client's request timeout while a leader moves).
     * Nothing to store returns at once.
     *
     * @throws FluvioException {@code OFFSET_MANAGEMENT_DISABLED} as {@link #commit()}; a
     *     retriable failure when the cluster could not store it in time
     * @throws IllegalStateException when called after {@link #close()}
     */
    public void flush() {
        long handle = acquire();
        try {
            nativeFlush(handle);
        } finally {
            release();
        }
    }

    /** Whether the stream ended (after a terminal failure). */
    public boolean isEnded() {
        return ended && position >= count;
    }

    /**
     * Bytes this stream holds in native memory for its reader now, as the engine accounts for
     * them: records received and not yet handed to Java, and room for the fetch asked for. At
     * most {@link ConsumerConfig#maxBufferedBytes()} per partition (a single larger batch is
     * held alone); zero once closed.
     *
     * @return the bytes held
     */
    public long bufferedBytes() {
        if (isClosed()) {
            return 0;
        }
        long handle = acquire();
        try {
            return nativeBufferedBytes(handle);
        } finally {
            release();
        }
    }

    private static long nanos(Duration timeout) {
        Checks.notNegative(timeout, "timeout");
        try {
            return timeout.toNanos();
        } catch (ArithmeticException overflow) {
            return Long.MAX_VALUE;
        }
    }

    private @Nullable Record nextRecord(long timeoutNanos) {
        if (!available(timeoutNanos)) {
            return null;
        }
        int i = position++;
        if (returned != null) {
            noteReturned(partitions[i], offsets[i]);
            reportReturnedIfDue();
        }
        return Record.copyOf(buffer, partitions[i], offsets[i], timestamps[i], keyPositions[i], keyLengths[i],
                valuePositions[i], valueLengths[i]);
    }

    private RecordBatch batch(long timeoutNanos) {
        if (!available(timeoutNanos)) {
            return new RecordBatch(this, generation, position, 0);
        }
        RecordBatch batch = new RecordBatch(this, generation, position, count - position);
        if (returned != null) {
            for (int i = position; i < count; i++) {
                noteReturned(partitions[i], offsets[i]);
            }
            reportReturnedIfDue();
        }
        position = count;
        return batch;
    }

    /** Notes a record as returned (a named consumer's stream). */
    private void noteReturned(int partition, long offset) {
        long[] last = returned;
        if (partition >= last.length) {
            int length = last.length;
            last = Arrays.copyOf(last, partition + 1);
            Arrays.fill(last, length, last.length, -1L);
            returned = last;
        }
        last[partition] = offset;
    }

    /**
     * Records of a fill are returned later, maybe slowly: the AUTO strategy's periodic store
     * must see them before the next fill (told at most every 100 ms, as the official client's
     * flusher checks).
     */
    private void reportReturnedIfDue() {
        long[] last = returned;
        if (!auto || last == null) {
            return;
        }
        long now = System.nanoTime();
        if (now - lastReport >= REPORT_INTERVAL_NANOS) {
            lastReport = now;
            long handle = acquire();
            try {
                nativeReturned(handle, last);
            } finally {
                release();
            }
        }
    }

    /** Whether a record is ready to hand out, fetching when none is. Every read ends the last batch's validity. */
    private boolean available(long timeoutNanos) {
        checkOpen();
        generation++;
        if (position < count) {
            return true;
        }
        if (ended) {
            return false;
        }
        fill(timeoutNanos);
        return position < count;
    }

    /** Records still buffered are not handed out once closed: a closed stream is unusable. */
    private void checkOpen() {
        if (isClosed()) {
            throw new IllegalStateException(getClass().getSimpleName() + " is closed");
        }
    }

    /** Asks native code for what arrived (waiting up to {@code timeoutNanos}, -1 forever). */
    private void fill(long timeoutNanos) {
        if (buffer == null || buffer.length < nextBufferSize) {
            setBuffer(nextBufferSize);
        }
        int written;
        while (true) {
            long handle = acquire();
            try {
                written = nativeFill(handle, buffer, timeoutNanos, returned);
            } finally {
                release();
            }
            if (written >= 0) {
                break;
            }
            // The next record is larger than the buffer: it waits in native code for a larger one.
            setBuffer(Math.max(-written, buffer.length * 2));
        }
        if (written == TIMED_OUT) {
            return;
        }
        unpack();
        if (written > buffer.length / 2 && buffer.length < FULL_BUFFER) {
            // Records come faster than this size carries them. The current fill stays readable
            // in this array: the next fill replaces it.
            nextBufferSize = Math.min(FULL_BUFFER, buffer.length * 2);
        }
        position = 0;
        if (count == 0) {
            ended = true;
        }
    }

    private void setBuffer(int capacity) {
        buffer = new byte[capacity];
        reader = ByteBuffer.wrap(buffer);
    }

    /** Finds each record's fields in the buffer (layout RECORDS), into arrays reused from fill to fill. */
    private void unpack() {
        ByteBuffer in = reader;
        count = in.getInt(0);
        if (partitions.length < count) {
            int size = Math.max(count, partitions.length * 2);
            partitions = Arrays.copyOf(partitions, size);
            offsets = Arrays.copyOf(offsets, size);
            timestamps = Arrays.copyOf(timestamps, size);
            keyPositions = Arrays.copyOf(keyPositions, size);
            keyLengths = Arrays.copyOf(keyLengths, size);
            valuePositions = Arrays.copyOf(valuePositions, size);
            valueLengths = Arrays.copyOf(valueLengths, size);
        }
        int at = 4;
        for (int i = 0; i < count; i++) {
            partitions[i] = in.getInt(at);
            offsets[i] = in.getLong(at + 4);
            timestamps[i] = in.getLong(at + 12);
            int keyLength = in.getInt(at + 20);
            at += 24;
            keyPositions[i] = at;
            keyLengths[i] = keyLength;
            if (keyLength > 0) {
                at += keyLength;
            }
            int valueLength = in.getInt(at);
            at += 4;
            valuePositions[i] = at;
            valueLengths[i] = valueLength;
            at += valueLength;
        }
    }

    // What a RecordBatch reads, by index into the current fill, after checking it is current.

    void checkCurrent(long batchGeneration) {
        if (batchGeneration != generation || isClosed()) {
            throw new StaleRecordBatchException();
        }
    }

    int partition(int i) {
        return partitions[i];
    }

    long offset(int i) {
        return offsets[i];
    }

    long timestamp(int i) {
        return timestamps[i];
    }

    int keyLength(int i) {
        return keyLengths[i];
    }

    int valueLength(int i) {
        return valueLengths[i];
    }

    /** A new array of the {@code length} bytes at {@code at} of the buffer. */
    byte[] copyOf(int at, int length) {
        // Arrays.copyOfRange: the JIT fills the new array without zeroing it first.
        return Arrays.copyOfRange(buffer, at, at + length);
    }

    /** Copies {@code length} bytes at {@code at} of the buffer into {@code dst}. */
    void copy(int at, byte[] dst, int dstOffset, int length) {
        System.arraycopy(buffer, at, dst, dstOffset, length);
    }

    int keyPosition(int i) {
        return keyPositions[i];
    }

    int valuePosition(int i) {
        return valuePositions[i];
    }

    Record record(int i) {
        return Record.copyOf(buffer, partitions[i], offsets[i], timestamps[i], keyPositions[i], keyLengths[i],
                valuePositions[i], valueLengths[i]);
    }

    /**
     * What this stream received so far: records, bytes and chunks, reconnects (resumptions
     * on a partition's new leader), its terminal failure if any, and the latency from each
     * record's timestamp to its arrival. May be called from any thread, also while another
     * waits in {@code next}.
     *
     * @return a snapshot
     * @throws IllegalStateException when called after {@link #close()}
     */
    public FluvioMetrics metrics() {
        long handle = acquire();
        try {
            return FluvioMetrics.unpack(nativeMetrics(handle));
        } finally {
            release();
        }
    }

    /**
     * Closes like {@link #close()}, waiting at most {@code timeout}. Closing a stream never
     * waits for the cluster (it stops receiving and frees the stream at once, whether or not
     * the cluster is reachable), so this returns at once too; it lets code that closes
     * producers and streams alike bound both.
     *
     * @param timeout the longest to wait
     */
    public void close(Duration timeout) {
        Checks.notNegative(timeout, "timeout");
        close();
    }

    @Override
    void onClose(long handle) {
        if (returned != null) {
            // What was returned, for the AUTO strategy's store as the stream closes.
            nativeReturned(handle, returned);
        }
        nativeInterrupt(handle);
    }

    @Override
    void dispose(long handle) {
        nativeDispose(handle);
    }

    private static native int nativeFill(long handle, byte[] buffer, long timeoutNanos, long @Nullable [] returned);

    private static native void nativeReturned(long handle, long[] returned);

    private static native long nativeBufferedBytes(long handle);

    private static native void nativeInterrupt(long handle);

    private static native byte[] nativeMetrics(long handle);

    private static native void nativeCommit(long handle, long @Nullable [] returned);

    private static native void nativeFlush(long handle);

    private static native void nativeDispose(long handle);
}
