package com.infinyon.fluvio;

/**
 * A {@link RecordBatch} (or a {@link RecordView} of it) was used after it became invalid: after
 * the next read of its stream ({@code next}, {@code nextBatch}, {@code poll}, {@code hasNext})
 * or after the stream was closed. Its records live in the stream's reused buffer, which
 * by then holds other records or none; copy what must outlive the batch
 * ({@link RecordBatch#record(int)}, {@link RecordBatch#value(int)}).
 *
 * <p>Thread-safety: immutable.
 */
public final class StaleRecordBatchException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    StaleRecordBatchException() {
        super("the record batch is no longer valid: its stream was read again or closed");
    }
}
