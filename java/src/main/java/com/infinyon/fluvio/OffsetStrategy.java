package com.infinyon.fluvio;

/**
 * How a named consumer's offsets are stored in the cluster ({@link
 * ConsumerConfig.Builder#offsetStrategy(OffsetStrategy)}), as the official Fluvio client's
 * {@code OffsetManagementStrategy}.
 *
 * <p>Thread-safety: immutable.
 */
public enum OffsetStrategy {
    /**
     * Nothing is stored ({@link ConsumerStream#commit()} and {@link ConsumerStream#flush()}
     * fail with {@code OFFSET_MANAGEMENT_DISABLED}); a stream with a consumer id still starts
     * after the offset stored for it, if any. The default.
     */
    NONE,
    /**
     * {@link ConsumerStream#commit()} marks every record returned so far, {@link
     * ConsumerStream#flush()} stores that in the cluster and waits for it.
     */
    MANUAL,
    /**
     * Every record returned is committed; the offset is stored every {@linkplain
     * ConsumerConfig#autoCommitInterval() auto-commit interval} and when the stream closes.
     * (Records come from native code in chunks and {@code next} returns them one by one: the
     * records returned are counted at least every 100 ms while {@code next} is called, and at
     * every {@code commit}, {@code flush} and {@code close}.)
     */
    AUTO
}
