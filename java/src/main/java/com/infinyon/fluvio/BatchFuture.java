package com.infinyon.fluvio;

import java.util.concurrent.CompletableFuture;

/**
 * The outcome of one batch of sent records, completed once by native code when the batch is
 * acknowledged (with its base offset) or fails. Every record of the batch shares it.
 *
 * <p>Thread-safety: thread-safe.
 */
final class BatchFuture extends CompletableFuture<Long> {
    /** No batch: native code never gives a future this token. */
    static final long NO_TOKEN = 0;

    /**
     * Identifies this future among all the process's batch futures (native code numbers them
     * from 1), so that a send can tell native code which batch it last saw without a lookup.
     */
    final long token;
    private volatile int partition = -1;

    /** Created by native code, once per batch. */
    BatchFuture(long token) {
        this.token = token;
    }

    /** Called from native code when the batch is stored. */
    void complete(int partition, long baseOffset) {
        this.partition = partition;
        complete(baseOffset);
    }

    /** Called from native code when the batch failed. */
    void fail(String code, String message, boolean retriable, String tlsFailure) {
        completeExceptionally(new FluvioException(code, message, retriable, tlsFailure));
    }

    int partition() {
        return partition;
    }
}
