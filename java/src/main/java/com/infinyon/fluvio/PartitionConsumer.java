package com.infinyon.fluvio;

import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.concurrent.Flow;

/**
 * Reads one partition of a topic. Holds no resources of its own: it works while its
 * {@link Fluvio} client is open; the streams it opens must be closed.
 *
 * <pre>{@code
 * PartitionConsumer consumer = fluvio.partitionConsumer("orders", 0);
 * try (PartitionConsumerStream stream = consumer.stream(Offset.beginning())) {
 *     Record first = stream.next();
 * }
 * List<Record> some = consumer.fetch(Offset.absolute(42));
 * consumer.publisher(Offset.end()).subscribe(subscriber);   // a Flow.Publisher: pushes as requested
 * }</pre>
 *
 * <p>Thread-safety: thread-safe.
 */
public final class PartitionConsumer {
    private final Fluvio fluvio;
    private final String topic;
    private final int partition;

    PartitionConsumer(Fluvio fluvio, String topic, int partition) {
        this.fluvio = fluvio;
        this.topic = topic;
        this.partition = partition;
    }

    /** The topic. */
    public String topic() {
        return topic;
    }

    /** The partition. */
    public int partition() {
        return partition;
    }

    /**
     * A continuous stream from {@code offset} with default settings.
     *
     * @param offset where to start
     * @return the stream; close it when done
     */
    public PartitionConsumerStream stream(Offset offset) {
        return stream(offset, ConsumerConfig.defaults());
    }

    /**
     * A continuous stream from {@code offset}.
     *
     * @param offset where to start
     * @param config isolation, fetch size and resume timeout
     * @return the stream; close it when done
     */
    public PartitionConsumerStream stream(Offset offset, ConsumerConfig config) {
        Objects.requireNonNull(offset, "offset");
        Objects.requireNonNull(config, "config");
        long handle = fluvio.acquire();
        try {
            long stream = nativeStream(handle, topic, partition, offset, config);
            return new PartitionConsumerStream(stream, topic, partition, config);
        } finally {
            fluvio.release();
        }
    }

    /**
     * A {@link Flow.Publisher} of {@link #stream(Offset) stream(offset)}'s records, with
     * default settings, on the default executor.
     *
     * <p>Each subscriber gets its own stream from {@code offset}, opened on the executor right
     * after {@code onSubscribe} (a failure to open it, such as {@code TOPIC_NOT_FOUND}, is
     * {@code onError} without any request). Records are delivered as requested, never more;
     * a stream failure is {@code onError} with its {@link FluvioException}; {@code cancel()}
     * closes the stream at once. The stream never completes by itself. Signals to one subscriber
     * never overlap and run on the executor's threads.
     *
     * <p>Threads: the default executor (daemon threads {@code fluvio-publisher-<n>}, made as
     * needed, ended after 60 s idle). A subscription uses a thread only while it has something
     * to do: opening its stream, and delivering while there is outstanding demand; waiting for
     * a record, it blocks in native code for at most 100 ms at a time before handing the thread
     * back to the executor. With no outstanding demand it holds no thread.
     *
     * @param offset where to start
     * @return a cold publisher: each subscription reads from {@code offset}
     */
    public Flow.Publisher<Record> publisher(Offset offset) {
        return publisher(offset, ConsumerConfig.defaults());
    }

    /**
     * A {@link Flow.Publisher} of {@link #stream(Offset, ConsumerConfig) stream(offset, config)}'s
     * records, on the default executor (see {@link #publisher(Offset)}).
     *
     * @param offset where to start
     * @param config isolation, fetch size and resume timeout
     * @return a cold publisher: each subscription reads from {@code offset}
     */
    public Flow.Publisher<Record> publisher(Offset offset, ConsumerConfig config) {
        return publisher(offset, config, ConsumerPublisher.defaultExecutor());
    }

    /**
     * A {@link Flow.Publisher} of {@link #stream(Offset, ConsumerConfig) stream(offset, config)}'s
     * records, its subscriptions run by {@code executor} (otherwise as
     * {@link #publisher(Offset)}).
     *
     * <p>The executor runs one task at a time per subscription, which may block in native code
     * for up to 100 ms waiting for records (and while opening the stream, up to the client's
     * request timeout): give it threads that may block, such as a cached or fixed thread pool,
     * not {@link java.util.concurrent.ForkJoinPool#commonPool()}. On a bounded pool,
     * subscriptions waiting for records take turns. Virtual threads work; a waiting read pins
     * its carrier thread for up to those 100 ms. An executor that rejects a task ends the
     * subscription with {@code onError} and the {@link java.util.concurrent.RejectedExecutionException}.
     *
     * @param offset where to start
     * @param config isolation, fetch size and resume timeout
     * @param executor runs the subscriptions' work
     * @return a cold publisher: each subscription reads from {@code offset}
     */
    public Flow.Publisher<Record> publisher(Offset offset, ConsumerConfig config, Executor executor) {
        return ConsumerPublisher.of(offset, config, executor, this::stream);
    }

    /**
     * The records available from {@code offset} with the default settings: those of the whole
     * batches the server sends within the default fetch size, or the first batch whole when it
     * alone is larger; an empty list when nothing is there yet (at the end of the partition).
     *
     * @param offset where to start
     * @return the records, in offset order
     * @throws FluvioException {@code OFFSET_OUT_OF_RANGE} for an offset past the partition's
     *     end, as a stream from there fails; {@code OFFSET_EVICTED} for one deleted by retention
     */
    public List<Record> fetch(Offset offset) {
        return fetch(offset, ConsumerConfig.defaults());
    }

    /**
     * The records available from {@code offset}: those of the whole batches the server sends
     * within {@code config.maxBytes()} (it cuts what it sends there, inside a batch if need
     * be), or the first batch whole when it alone is larger; an empty list when nothing is
     * there yet. See {@link #fetch(Offset)} for the errors.
     *
     * @param offset where to start
     * @param config isolation and fetch size
     * @return the records, in offset order
     */
    public List<Record> fetch(Offset offset, ConsumerConfig config) {
        Objects.requireNonNull(offset, "offset");
        Objects.requireNonNull(config, "config");
        long handle = fluvio.acquire();
        byte[] chunk;
        try {
            chunk = nativeFetch(handle, topic, partition, offset, config);
        } finally {
            fluvio.release();
        }
        return Collections.unmodifiableList(Arrays.asList(Record.unpack(chunk)));
    }

    private static native long nativeStream(long fluvio, String topic, int partition, Offset offset,
            ConsumerConfig config);

    private static native byte[] nativeFetch(long fluvio, String topic, int partition, Offset offset,
            ConsumerConfig config);
}
