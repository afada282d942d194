package com.infinyon.fluvio;

import java.io.Closeable;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongConsumer;

/**
 * Base of every object that owns native memory.
 *
 * <p>Native calls run between {@link #acquire()} and {@link #release()}. {@link #close()} is
 * idempotent: it lets the subclass stop the native side ({@link #onClose(long)}, e.g. waking a
 * blocked call), then frees the native object once no call is in progress, so native code
 * never sees a freed handle. A call after {@code close()} throws
 * {@link IllegalStateException}.
 *
 * <p>It is {@link Closeable} (whose {@code close()} must be idempotent, as here) rather than
 * only {@link AutoCloseable} so that Kotlin's {@code use { }} works with the plain
 * {@code kotlin-stdlib} of every Kotlin version, and so do tools that close {@code Closeable}s
 * quietly. {@code close()} throws no checked exception.
 *
 * <p>Thread-safety: thread-safe.
 */
abstract class NativeHandle implements Closeable {
    /** Set in {@link #state} once closed; the low bits count calls in progress. */
    private static final long CLOSED = 1L << 62;

    private final long handle;
    private final AtomicLong state = new AtomicLong();
    private final AtomicBoolean closing = new AtomicBoolean();

    NativeHandle(long handle) {
        if (handle == 0) {
            throw new IllegalStateException("native object was not created");
        }
        this.handle = handle;
    }

    /** Starts a native call: returns the handle, or throws if closed. */
    final long acquire() {
        while (true) {
            long current = state.get();
            if ((current & CLOSED) != 0) {
                throw new IllegalStateException(getClass().getSimpleName() + " is closed");
            }
            if (state.compareAndSet(current, current + 1)) {
                return handle;
            }
        }
    }

    /** Ends a native call started with {@link #acquire()}. */
    final void release() {
        if (state.decrementAndGet() == CLOSED) {
            dispose(handle);
        }
    }

    /**
     * Throws {@link IllegalStateException} once closed: for calls that need no native call
     * but must not succeed on a closed object.
     */
    final void ensureOpen() {
        acquire();
        release();
    }

    /** True once {@link #close()} was called. */
    public final boolean isClosed() {
        return closing.get();
    }

    /**
     * Closes the object and frees its native memory. Calling it again does nothing.
     */
    @Override
    public void close() {
        closeWith(this::onClose);
    }

    /**
     * Closes like {@link #close()}, stopping the native side with {@code stop} (given the
     * handle) instead of {@link #onClose(long)}: for the variants of {@code close} that take
     * arguments.
     */
    final void closeWith(LongConsumer stop) {
        if (!closing.compareAndSet(false, true)) {
            return;
        }
        long current = acquire();
        try {
            stop.accept(current);
        } finally {
            long after = state.updateAndGet(value -> (value | CLOSED) - 1);
            if (after == CLOSED) {
                dispose(handle);
            }
        }
    }

    /** Stops the native side; runs once, before the native object is freed. */
    void onClose(long handle) {}

    /** Frees the native object; runs once, when no call is in progress. */
    abstract void dispose(long handle);
}
