package com.infinyon.fluvio;

import java.time.Duration;
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
 * <p>The stream resumes by itself when a partition's leader moves (no record is lost or
 * repeated). A terminal failure (e.g. the topic was deleted) is thrown by {@code next} once;
 * the stream then ends: {@code hasNext()} is false.
 *
 * <p>A stream of a named consumer ({@link ConsumerConfig.Builder#consumerId(String)}) stores
 * its offsets in the cluster as its {@link OffsetStrategy} says: {@link #commit()} marks every
 * record returned so far (in each partition), {@link #flush()} stores that and waits; with
 * {@link OffsetStrategy#AUTO} both happen by themselves, and {@link #close()} stores the last
 * record returned before it returns.
 *
 * <p>Thread-safety: {@link #close()}, {@link #commit()} and {@link #flush()} are thread-safe
 * (a flush does not wait for a blocked {@code next}); everything else must be called by one
 * thread at a time.
 */
public class ConsumerStream extends NativeHandle implements Iterator<Record> {
    private static final long REPORT_INTERVAL_NANOS = 100_000_000L;

    private Record[] buffer = new Record[0];
    private int position;
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
        Record record = poll(-1);
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
        Checks.notNegative(timeout, "timeout");
        long nanos;
        try {
            nanos = timeout.toNanos();
        } catch (ArithmeticException overflow) {
            nanos = Long.MAX_VALUE;
        }
        return poll(nanos);
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
        if (position < buffer.length) {
            return true;
        }
        if (ended) {
            return false;
        }
        fill(-1);
        return position < buffer.length;
    }

    /**
     * Marks every record this stream returned so far as consumed, in each partition: the next
     * {@link #flush()} (or, with {@link OffsetStrategy#AUTO}, the next automatic store) stores
     * it. Records received but not yet returned by {@code next} are not included.
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
        return ended && position >= buffer.length;
    }

    private @Nullable Record poll(long timeoutNanos) {
        checkOpen();
        if (position >= buffer.length) {
            if (ended) {
                return null;
            }
            fill(timeoutNanos);
            if (position >= buffer.length) {
                return null;
            }
        }
        Record record = buffer[position];
        buffer[position++] = null;
        if (returned != null) {
            noteReturned(record);
        }
        return record;
    }

    private void noteReturned(Record record) {
        long[] last = returned;
        int partition = record.partition();
        if (partition >= last.length) {
            int length = last.length;
            last = java.util.Arrays.copyOf(last, partition + 1);
            java.util.Arrays.fill(last, length, last.length, -1L);
            returned = last;
        }
        last[partition] = record.offset();
        if (auto) {
            // Records of a chunk are returned one by one, maybe slowly: the AUTO strategy's
            // periodic store must see them before the chunk is done (checked every 100 ms,
            // as the official client's flusher).
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
    }

    /** Records still buffered are not handed out once closed: a closed stream is unusable. */
    private void checkOpen() {
        if (isClosed()) {
            throw new IllegalStateException(getClass().getSimpleName() + " is closed");
        }
    }

    /** Asks native code for what arrived (waiting up to {@code timeoutNanos}, -1 forever). */
    private void fill(long timeoutNanos) {
        long handle = acquire();
        byte[] chunk;
        try {
            chunk = nativeNext(handle, timeoutNanos, returned);
        } finally {
            release();
        }
        if (chunk == null) {
            return;
        }
        buffer = Record.unpack(chunk);
        position = 0;
        if (buffer.length == 0) {
            ended = true;
        }
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

    private static native byte[] nativeNext(long handle, long timeoutNanos, long @Nullable [] returned);

    private static native void nativeReturned(long handle, long[] returned);

    private static native void nativeInterrupt(long handle);

    private static native byte[] nativeMetrics(long handle);

    private static native void nativeCommit(long handle, long @Nullable [] returned);

    private static native void nativeFlush(long handle);

    private static native void nativeDispose(long handle);
}
