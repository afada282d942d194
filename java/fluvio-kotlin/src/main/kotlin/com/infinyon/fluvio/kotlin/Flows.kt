@file:JvmName("FluvioFlows")

package com.infinyon.fluvio.kotlin

import com.infinyon.fluvio.ConsumerConfig
import com.infinyon.fluvio.ConsumerStream
import com.infinyon.fluvio.Offset
import com.infinyon.fluvio.PartitionConsumer
import com.infinyon.fluvio.Record
import com.infinyon.fluvio.TopicConsumer
import java.time.Duration
import kotlin.coroutines.CoroutineContext
import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.awaitCancellation
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.ensureActive
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.flow
import kotlinx.coroutines.flow.flowOn
import kotlinx.coroutines.launch
import kotlinx.coroutines.yield

/** The longest one read waits in native code for a record before the loop checks in again. */
internal val WAIT_SLICE: Duration = Duration.ofMillis(100)

private val DEFAULT_CONSUMER_CONFIG: ConsumerConfig = ConsumerConfig.builder().build()

/**
 * A cold [Flow] of this partition's records from [offset], in offset order: each collection
 * opens its own [stream][PartitionConsumer.stream] and closes it when the collection ends.
 *
 * The flow never completes by itself (a stream does not end); limit it with operators such as
 * `take` or `takeWhile`, or cancel the collecting coroutine. Cancellation closes the stream at
 * once, which wakes a read waiting in native code. A stream failure ends the flow with its
 * [com.infinyon.fluvio.FluvioException] (e.g. `TOPIC_DELETED`); so does a failure to open it
 * (e.g. `TOPIC_NOT_FOUND`), when collection starts.
 *
 * The blocking reads run in [context], [Dispatchers.IO] by default: one of its threads waits for
 * records while the collector is ready for more, in slices of at most 100 ms. Records are handed
 * to the collector through the buffer of [flowOn] (64 records; change it with `buffer`).
 *
 * @param offset where to start
 * @param config isolation, fetch size and resume timeout
 * @param context where the blocking reads run; it must not hold a [kotlinx.coroutines.Job]
 */
public fun PartitionConsumer.flow(
    offset: Offset,
    config: ConsumerConfig = DEFAULT_CONSUMER_CONFIG,
    context: CoroutineContext = Dispatchers.IO,
): Flow<Record> = recordFlow(context) { stream(offset, config) }

/**
 * A cold [Flow] of every partition's records from [offset] (each partition in order, the
 * partitions interleaved), as [PartitionConsumer.flow] for one partition.
 *
 * @param offset where each partition starts
 * @param config isolation, fetch size and resume timeout
 * @param context where the blocking reads run; it must not hold a [kotlinx.coroutines.Job]
 */
public fun TopicConsumer.flow(
    offset: Offset,
    config: ConsumerConfig = DEFAULT_CONSUMER_CONFIG,
    context: CoroutineContext = Dispatchers.IO,
): Flow<Record> = recordFlow(context) { stream(offset, config) }

/**
 * The records of the stream [open] returns, for each collection: read in [context], [waitSlice]
 * at most per read, the stream closed when the collection ends, fails or is cancelled.
 */
internal fun recordFlow(
    context: CoroutineContext,
    waitSlice: Duration = WAIT_SLICE,
    open: () -> ConsumerStream,
): Flow<Record> = flow {
    open().use { stream ->
        coroutineScope {
            // Runs its finally block as soon as the collection is cancelled: closing the stream
            // wakes a read waiting in native code (it then throws; see below).
            val closer = launch(start = CoroutineStart.UNDISPATCHED) {
                try {
                    awaitCancellation()
                } finally {
                    stream.close()
                }
            }
            try {
                while (true) {
                    ensureActive()
                    val record = try {
                        stream.next(waitSlice)
                    } catch (failure: RuntimeException) {
                        // Closed by the closer: report the cancellation, not the closed stream.
                        ensureActive()
                        throw failure
                    }
                    if (record == null) {
                        yield() // nothing yet: let other coroutines of the context run
                    } else {
                        emit(record)
                    }
                }
            } finally {
                closer.cancel()
            }
        }
    }
}.flowOn(context)
