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
 * <p>Thread-safety: {@link #close()} is thread-safe; everything else must be called by one
 * thread at a time.
 */
public class ConsumerStream extends NativeHandle implements Iterator<Record> {
    private Record[] buffer = new Record[0];
    private int position;
    private boolean ended;

    ConsumerStream(long handle) {
        super(handle);
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
        return record;
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
            chunk = nativeNext(handle, timeoutNanos);
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
        nativeInterrupt(handle);
    }

    @Override
    void dispose(long handle) {
        nativeDispose(handle);
    }

    private static native byte[] nativeNext(long handle, long timeoutNanos);

    private static native void nativeInterrupt(long handle);

    private static native byte[] nativeMetrics(long handle);

    private static native void nativeDispose(long handle);
}
