@file:JvmName("FluvioRecords")

package com.infinyon.fluvio.kotlin

import com.infinyon.fluvio.ConsumerStream
import com.infinyon.fluvio.Record
import com.infinyon.fluvio.RecordMetadata
import kotlin.time.Duration
import kotlin.time.toJavaDuration

/** The key as UTF-8 text, or null when the record has none (an empty key is ""). */
public val Record.keyString: String? get() = keyString()

/** The value as UTF-8 text. */
public val Record.valueString: String get() = valueString()

/** The key, or null when the record has none (an empty key is an empty array). */
public val Record.key: ByteArray? get() = key()

/** The value. */
public val Record.value: ByteArray get() = value()

/** The offset within the partition. */
public val Record.offset: Long get() = offset()

/** The partition. */
public val Record.partition: Int get() = partition()

/** Milliseconds since the epoch when the producer created the record, or -1 if unknown. */
public val Record.timestamp: Long get() = timestamp()

/** The partition the record was stored in. */
public val RecordMetadata.partition: Int get() = partition()

/** The offset the record was stored at. */
public val RecordMetadata.offset: Long get() = offset()

/**
 * The next record, waiting up to [timeout] (a [kotlin.time.Duration], e.g. `500.milliseconds`).
 *
 * @return the record, or null when none arrived in time or the stream ended
 */
public fun ConsumerStream.next(timeout: Duration): Record? = next(timeout.toJavaDuration())
