package com.infinyon.fluvio;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Sends records to one topic. {@code send} queues the record in its partition's batch and
 * returns at once; batches are sent when full, after the linger, or on {@link #flush()}.
 *
 * <pre>{@code
 * try (TopicProducer producer = fluvio.topicProducer("orders")) {
 *     ProduceOutput output = producer.send("order-1", "{...}");
 *     producer.flush();
 *     RecordMetadata stored = output.get();
 * }
 * }</pre>
 *
 * <p>When a partition's queue is full, {@code send} waits (up to {@code maxBlock}) for room.
 * {@link #close()} flushes; {@link #close(Duration)} bounds how long it waits. Records of one
 * partition are stored in the order they were sent. A thread blocked in {@code send} (for
 * queue space) or {@link #flush()} is woken by {@link Thread#interrupt()} with
 * {@link FluvioException.Code#INTERRUPTED}.
 *
 * <p>Thread-safety: thread-safe; sharing one producer between threads is encouraged.
 */
public final class TopicProducer extends NativeHandle {
    private static final int CHOSEN_BY_NATIVE_PARTITIONER = -1;
    /** A key length meaning: no key (distinct from an empty key). */
    private static final int NO_KEY = -1;
    /** Most bytes of keys and values one {@link #sendAll} crossing carries. */
    private static final int SLICE_BYTES = 1 << 20;
    /** Most records one {@link #sendAll} crossing carries. */
    private static final int SLICE_RECORDS = 4096;
    /**
     * Key and value bytes from which a {@link #sendAll} record crosses alone, as with
     * {@link #send(byte[], byte[])}: packing it into a slice would copy it twice more (into the
     * slice, then out of it), which costs more than the crossing saves.
     */
    private static final int ALONE_BYTES = 1024;
    /** A close timeout meaning: as long as delivery takes. */
    private static final long WAIT_FOR_DELIVERY = -1;

    /** The flag of {@code nativeSend}'s answer: the record joined the batch of the token passed. */
    private static final long SAME_BATCH = 1L << 32;

    private final String topic;
    private final Partitioner partitioner;
    /**
     * The batch the last record sent by {@link #send(byte[], byte[])} joined, on any thread:
     * the next record most often joins it too. Read and written without synchronization on
     * purpose: a stale or lost update only costs the next record a field write from native
     * code, and a {@link BatchFuture} read through a race is whole (its token is final).
     */
    private BatchFuture lastBatch;

    TopicProducer(Fluvio fluvio, String topic, TopicProducerConfig config) {
        super(create(fluvio, topic, config));
        this.topic = topic;
        this.partitioner = config.partitioner();
    }

    private static long create(Fluvio fluvio, String topic, TopicProducerConfig config) {
        long handle = fluvio.acquire();
        try {
            return nativeCreate(handle, topic, config);
        } finally {
            fluvio.release();
        }
    }

    /** The topic. */
    public String topic() {
        return topic;
    }

    /**
     * Sends a record.
     *
     * @param key the key, or null for none (distinct from an empty key)
     * @param value the value
     * @return the record's pending outcome
     * @throws FluvioException e.g. {@code RECORD_TOO_LARGE}, {@code TIMEOUT} after waiting
     *     {@code maxBlock} for queue space, {@code INTERRUPTED} if the thread is interrupted
     *     while waiting for queue space (the record is not sent; the interrupt flag stays
     *     set), {@code CLOSED}
     */
    public ProduceOutput send(byte @Nullable [] key, byte[] value) {
        Objects.requireNonNull(value, "value");
        long handle = acquire();
        try {
            int partition = CHOSEN_BY_NATIVE_PARTITIONER;
            if (partitioner != null) {
                partition = choosePartition(key, value, nativePartitionCount(handle));
            }
            return sendOne(handle, partition, key, value);
        } finally {
            release();
        }
    }

    /**
     * Sends one record in its own native call, to {@code partition} (or the native choice).
     * The arrays' lengths cross as arguments (native code would otherwise ask for each), and
     * so does the token of {@link #lastBatch}: when the record joins that batch, native code
     * answers {@link #SAME_BATCH} instead of storing the batch's future into the output.
     */
    private ProduceOutput sendOne(long handle, int partition, byte @Nullable [] key, byte[] value) {
        ProduceOutput output = new ProduceOutput();
        BatchFuture last = lastBatch;
        long sent = nativeSend(handle, partition, key, key == null ? NO_KEY : key.length, value, value.length,
                last == null ? BatchFuture.NO_TOKEN : last.token, output);
        if ((sent & SAME_BATCH) != 0) {
            output.batch = last;
        } else {
            lastBatch = output.batch;
        }
        output.index = (int) sent;
        return output;
    }

    /**
     * Sends a record with a UTF-8 key and value.
     *
     * @param key the key, or null for none
     * @param value the value
     * @return the record's pending outcome
     */
    public ProduceOutput send(@Nullable String key, String value) {
        Objects.requireNonNull(value, "value");
        return send(key == null ? null : key.getBytes(StandardCharsets.UTF_8), value.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Sends records in order. Records cross into native code in slices (up to 1 MiB of keys and
     * values, or 4,096 records, each), one crossing per slice, and records that land in the
     * same batch share one future, so this costs less per record than
     * {@link #send(byte[], byte[])} in a loop. A record of 1 KiB or more (key and value) crosses
     * alone, as {@code send} does: copying it into a slice would cost more than the crossing.
     *
     * <p>Every record is checked for null, and placed by the custom partitioner if there is
     * one, before any is sent. If a record cannot be queued (e.g. {@code RECORD_TOO_LARGE}),
     * the exception is thrown and the records before it are sent.
     *
     * @param records the records
     * @return one pending outcome per record, in order
     * @throws FluvioException as {@link #send(byte[], byte[])} does, for the first record that
     *     cannot be queued
     */
    public List<ProduceOutput> sendAll(List<KeyValue> records) {
        Objects.requireNonNull(records, "records");
        KeyValue[] all = records.toArray(new KeyValue[0]);
        for (KeyValue record : all) {
            Objects.requireNonNull(record, "record");
        }
        ProduceOutput[] outputs = new ProduceOutput[all.length];
        long handle = acquire();
        try {
            int[] partitions = partitioner == null ? null : choosePartitions(handle, all);
            int from = 0;
            while (from < all.length) {
                from = sendSlice(handle, all, partitions, from, outputs);
            }
        } finally {
            release();
        }
        return Collections.unmodifiableList(Arrays.asList(outputs));
    }

    /** The custom partitioner's choice for each record, checked against the partition count. */
    private int[] choosePartitions(long handle, KeyValue[] records) {
        int count = nativePartitionCount(handle);
        int[] partitions = new int[records.length];
        for (int i = 0; i < records.length; i++) {
            partitions[i] = choosePartition(records[i].key(), records[i].value(), count);
        }
        return partitions;
    }

    /**
     * Sends the records from {@code from} on that fit in one slice, in one native call (a
     * record of {@link #ALONE_BYTES} or more alone), and fills their outputs; returns where the
     * next slice starts. {@code partitions}: each record's partition, or null for the native
     * partitioner's choice.
     */
    private int sendSlice(long handle, KeyValue[] records, int @Nullable [] partitions, int from,
            ProduceOutput[] outputs) {
        if (packedSize(records[from]) >= ALONE_BYTES) {
            int partition = partitions == null ? CHOSEN_BY_NATIVE_PARTITIONER : partitions[from];
            outputs[from] = sendOne(handle, partition, records[from].key(), records[from].value());
            return from + 1;
        }
        // Small records only, at most SLICE_BYTES of them: the packed size fits an int.
        int end = from;
        int bytes = 0;
        while (end < records.length && end - from < SLICE_RECORDS) {
            int size = packedSize(records[end]);
            if (size >= ALONE_BYTES || bytes + size > SLICE_BYTES) {
                break;
            }
            bytes += size;
            end++;
        }
        int count = end - from;
        byte[] data = new byte[bytes];
        int[] lengths = new int[2 * count];
        int at = 0;
        for (int i = 0; i < count; i++) {
            byte[] key = records[from + i].key();
            byte[] value = records[from + i].value();
            if (key == null) {
                lengths[2 * i] = NO_KEY;
            } else {
                lengths[2 * i] = key.length;
                System.arraycopy(key, 0, data, at, key.length);
                at += key.length;
            }
            lengths[2 * i + 1] = value.length;
            System.arraycopy(value, 0, data, at, value.length);
            at += value.length;
        }
        int[] slicePartitions = partitions == null ? null : Arrays.copyOfRange(partitions, from, end);
        int[] placement = new int[2 * count];
        BatchFuture[] batches = nativeSendAll(handle, slicePartitions, lengths, data, placement);
        for (int i = 0; i < count; i++) {
            ProduceOutput output = new ProduceOutput();
            output.batch = batches[placement[2 * i]];
            output.index = placement[2 * i + 1];
            outputs[from + i] = output;
        }
        return end;
    }

    /** Bytes a record takes packed in a slice (its key and value), up to Integer.MAX_VALUE. */
    private static int packedSize(KeyValue record) {
        long size = (record.key() == null ? 0 : record.key().length) + (long) record.value().length;
        return (int) Math.min(size, Integer.MAX_VALUE);
    }

    /** The custom partitioner's choice, checked against the partition count. */
    private int choosePartition(byte @Nullable [] key, byte[] value, int count) {
        int partition = partitioner.partition(topic, key, value, count);
        if (partition < 0 || partition >= count) {
            throw new IllegalArgumentException("the partitioner chose partition " + partition
                    + " but topic '" + topic + "' has " + count + " partitions");
        }
        return partition;
    }

    /**
     * Sends everything queued without waiting for linger, and waits until it is acknowledged
     * or failed.
     *
     * @throws FluvioException the first delivery failure not reported by an earlier flush;
     *     {@code INTERRUPTED} if the thread is interrupted while waiting (the interrupt flag
     *     stays set; delivery goes on)
     */
    public void flush() {
        long handle = acquire();
        try {
            nativeFlush(handle);
        } finally {
            release();
        }
    }

    /**
     * What this producer did so far: records, bytes and batches acknowledged, retries,
     * reconnects, failures by code, requests in flight, request latencies.
     *
     * @return a snapshot
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
     * Sends what is queued, waits until it is acknowledged or failed, then frees the producer.
     * Calling it again does nothing. A record that could not be delivered is reported by its
     * {@link ProduceOutput}, not by {@code close()} (call {@link #flush()} first to get the
     * first failure as an exception).
     */
    @Override
    public void close() {
        super.close();
    }

    /**
     * Like {@link #close()}, but waits at most {@code timeout} for what is queued to be
     * delivered (for a cluster that is gone, {@code close()} waits as long as the retry
     * policy allows). What is not acknowledged by then fails with {@code CLOSED} in its
     * {@link ProduceOutput}: it may or may not have been stored. Calling it on a closed
     * producer does nothing.
     *
     * @param timeout the longest to wait (zero: fail at once what is not acknowledged)
     */
    public void close(Duration timeout) {
        Checks.notNegative(timeout, "timeout");
        long nanos = Checks.nanos(timeout);
        closeWith(handle -> nativeClose(handle, nanos));
    }

    @Override
    void onClose(long handle) {
        nativeClose(handle, WAIT_FOR_DELIVERY);
    }

    @Override
    void dispose(long handle) {
        nativeDispose(handle);
    }

    private static native long nativeCreate(long fluvio, String topic, TopicProducerConfig config);

    private static native long nativeSend(long handle, int partition, byte @Nullable [] key, int keyLength,
            byte[] value, int valueLength, long lastBatchToken, ProduceOutput out);

    private static native BatchFuture[] nativeSendAll(
            long handle, int @Nullable [] partitions, int[] lengths, byte[] data, int[] placement);

    private static native int nativePartitionCount(long handle);

    private static native byte[] nativeMetrics(long handle);

    private static native void nativeFlush(long handle);

    private static native void nativeClose(long handle, long timeoutNanos);

    private static native void nativeDispose(long handle);
}
