@file:JvmName("FluvioProducers")

package com.infinyon.fluvio.kotlin

import com.infinyon.fluvio.KeyValue
import com.infinyon.fluvio.ProduceOutput
import com.infinyon.fluvio.RecordMetadata
import com.infinyon.fluvio.TopicProducer
import java.util.concurrent.CompletableFuture
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.asExecutor
import kotlinx.coroutines.future.await

// Why `sendAwait` and `flushAwait` rather than suspending `send` and `flush`: Kotlin always calls a
// member over an extension of the same signature, and TopicProducer has `send(...)` and `flush()`.

/**
 * Sends a record and suspends until it is stored (its batch acknowledged), like
 * `send(key, value).get()` without blocking the thread.
 *
 * Cancelling the caller stops the wait, not the record: it stays queued and is sent. Queuing
 * itself returns at once unless the partition's queue is full; then it blocks the calling
 * thread up to the producer's `maxBlock`, as `send` does.
 *
 * @param key the key, or null for none (distinct from an empty key)
 * @param value the value
 * @return where the record was stored
 * @throws com.infinyon.fluvio.FluvioException if delivery failed
 */
public suspend fun TopicProducer.sendAwait(key: ByteArray?, value: ByteArray): RecordMetadata =
    send(key, value).await()

/** Sends a record with a UTF-8 key and value and suspends until it is stored; see the [ByteArray] overload. */
public suspend fun TopicProducer.sendAwait(key: String?, value: String): RecordMetadata = send(key, value).await()

/** Sends a record without a key and suspends until it is stored; see the [ByteArray] overload. */
public suspend fun TopicProducer.sendAwait(value: String): RecordMetadata = send(value).await()

/** Sends a record without a key and suspends until it is stored; see the two-argument overload. */
public suspend fun TopicProducer.sendAwait(value: ByteArray): RecordMetadata = send(value).await()

/**
 * Sends records in order and suspends until every one is stored.
 *
 * @return where each record was stored, in order
 * @throws com.infinyon.fluvio.FluvioException the first delivery failure, in record order
 */
public suspend fun TopicProducer.sendAllAwait(records: List<KeyValue>): List<RecordMetadata> =
    sendAll(records).map { it.await() }

/**
 * Suspends until the record is stored. Cancelling the caller stops the wait only.
 *
 * @return where the record was stored
 * @throws com.infinyon.fluvio.FluvioException if delivery failed
 */
public suspend fun ProduceOutput.await(): RecordMetadata = toCompletableFuture().await()

/**
 * [TopicProducer.flush] without blocking the caller: sends everything queued at once and
 * suspends until it is acknowledged or failed. The flush runs on [Dispatchers.IO]; cancelling
 * the caller stops the wait, while the flush itself finishes in the background (and a failure
 * it meets is then not reported).
 *
 * @throws com.infinyon.fluvio.FluvioException the first delivery failure not reported by an earlier flush
 */
public suspend fun TopicProducer.flushAwait() {
    CompletableFuture.runAsync({ flush() }, Dispatchers.IO.asExecutor()).await()
}

/** Sends a record without a key. */
public fun TopicProducer.send(value: String): ProduceOutput = send(null as String?, value)

/** Sends a record without a key. */
public fun TopicProducer.send(value: ByteArray): ProduceOutput = send(null as ByteArray?, value)

/** Sends a record with a UTF-8 key (or none) and a binary value. */
public fun TopicProducer.send(key: String?, value: ByteArray): ProduceOutput = send(key?.toByteArray(), value)
