/**
 * The Java client for Fluvio: {@link com.infinyon.fluvio.Fluvio} connects to a cluster,
 * {@link com.infinyon.fluvio.TopicProducer} sends, {@link com.infinyon.fluvio.PartitionConsumer}
 * and {@link com.infinyon.fluvio.TopicConsumer} stream {@link com.infinyon.fluvio.Record}s,
 * {@link com.infinyon.fluvio.FluvioAdmin} manages topics, and
 * {@link com.infinyon.fluvio.LocalCluster} runs an embedded cluster for tests.
 *
 * <p>Nullness: nothing in this package accepts or returns null unless marked
 * {@code @Nullable} (JSpecify), e.g. {@link com.infinyon.fluvio.Record#key()}. Kotlin sees
 * these types as nullable ({@code ByteArray?}) and the others as non-null; the annotations are
 * not needed at run time.
 *
 * <p>Import the classes one by one: on Java 16 and later, {@code import com.infinyon.fluvio.*;}
 * makes {@code Record} ambiguous with {@code java.lang.Record}.
 */
@NullMarked
package com.infinyon.fluvio;

import org.jspecify.annotations.NullMarked;
