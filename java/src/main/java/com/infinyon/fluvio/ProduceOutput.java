package com.infinyon.fluvio;

import java.time.Duration;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The pending outcome of one sent record: where it was stored, once its batch is
 * acknowledged.
 *
 * <pre>{@code
 * RecordMetadata stored = producer.send("key", "value").get();
 * producer.send("key", "value").toCompletableFuture().thenAccept(m -> log(m.offset()));
 * }</pre>
 *
 * <p>Thread-safety: thread-safe.
 */
public final class ProduceOutput {
    /** Set by native code to the future of the record's batch. */
    BatchFuture batch;
    /** The record's position in its batch. */
    int index;

    ProduceOutput() {}

    /**
     * Waits until the record is stored.
     *
     * @return its partition and offset
     * @throws FluvioException if delivery failed; {@code INTERRUPTED} if the thread is
     *     interrupted while waiting (its interrupt flag stays set; delivery goes on)
     */
    public RecordMetadata get() {
        try {
            return metadata(batch.get());
        } catch (ExecutionException e) {
            throw unwrap(e);
        } catch (InterruptedException e) {
            throw interrupted();
        }
    }

    /**
     * Waits up to {@code timeout} until the record is stored.
     *
     * @param timeout how long to wait
     * @return its partition and offset
     * @throws FluvioException {@code TIMEOUT} if not stored in time, {@code INTERRUPTED} if the
     *     thread is interrupted while waiting, or the delivery failure
     */
    public RecordMetadata get(Duration timeout) {
        Checks.notNegative(timeout, "timeout");
        try {
            return metadata(batch.get(Checks.nanos(timeout), TimeUnit.NANOSECONDS));
        } catch (ExecutionException e) {
            throw unwrap(e);
        } catch (TimeoutException e) {
            throw new FluvioException(FluvioException.Code.TIMEOUT, "the record was not acknowledged within " + timeout, true);
        } catch (InterruptedException e) {
            throw interrupted();
        }
    }

    /**
     * The outcome as a {@link CompletableFuture}. Dependent stages run on the common
     * {@link ForkJoinPool}, never on the client's I/O threads; a failure completes it
     * exceptionally with a {@link FluvioException}.
     *
     * @return a new future
     */
    public CompletableFuture<RecordMetadata> toCompletableFuture() {
        CompletableFuture<RecordMetadata> result = new CompletableFuture<>();
        batch.whenCompleteAsync((base, error) -> {
            if (error != null) {
                boolean wrapped = error instanceof CompletionException && error.getCause() != null;
                result.completeExceptionally(wrapped ? error.getCause() : error);
            } else {
                result.complete(metadata(base));
            }
        }, ForkJoinPool.commonPool());
        return result;
    }

    /** Whether the outcome is known. */
    public boolean isDone() {
        return batch.isDone();
    }

    private RecordMetadata metadata(long baseOffset) {
        // A negative base offset: the leader stored the batch earlier, at an offset it no
        // longer knows.
        return new RecordMetadata(batch.partition(),
                baseOffset < 0 ? RecordMetadata.UNKNOWN_OFFSET : baseOffset + index);
    }

    /** {@code INTERRUPTED}, with the interrupt flag that waiting cleared set again. */
    private static FluvioException interrupted() {
        Thread.currentThread().interrupt();
        return new FluvioException(FluvioException.Code.INTERRUPTED, "interrupted while waiting for delivery", false);
    }

    private static RuntimeException unwrap(ExecutionException e) {
        Throwable cause = e.getCause();
        if (cause instanceof FluvioException) {
            return (FluvioException) cause;
        }
        if (cause instanceof CancellationException) {
            return (CancellationException) cause;
        }
        return new FluvioException(FluvioException.Code.INTERNAL, String.valueOf(cause), false);
    }

    @Override
    public String toString() {
        return "ProduceOutput[" + (batch.isDone() ? "done" : "pending") + "]";
    }
}
