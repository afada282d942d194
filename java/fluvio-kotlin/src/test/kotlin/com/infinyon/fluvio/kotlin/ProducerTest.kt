package com.infinyon.fluvio.kotlin

import com.infinyon.fluvio.KeyValue
import com.infinyon.fluvio.Offset
import com.infinyon.fluvio.RecordMetadata
import java.time.Duration
import kotlin.time.Duration.Companion.seconds
import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.async
import kotlinx.coroutines.cancelAndJoin
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.test.runTest
import kotlinx.coroutines.withTimeout
import org.junit.jupiter.api.Assertions.assertArrayEquals
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertThrows
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

/**
 * Suspending sends and flushes against an embedded cluster: `sendAwait` (every overload) and
 * `sendAllAwait` return where records were stored; they suspend until the batch is acknowledged
 * and a cancelled wait leaves the record to be sent; `flushAwait` sends lingering records and
 * reports failures unwrapped.
 */
class ProducerTest : ClusterFixture() {
    /** Batches leave only when flushed (or full): nothing is acknowledged on its own. */
    private val lingering = producerConfig { linger(Duration.ofHours(1)) }

    @Test
    fun `sendAwait returns where each record was stored`() = runTest {
        val topic = newTopic()
        val stored = fluvio.withProducer(topic) { producer ->
            listOf(
                producer.sendAwait("key", "text"),
                producer.sendAwait("keyless"),
                producer.sendAwait(byteArrayOf(1, 2), byteArrayOf(3)),
                producer.sendAwait(byteArrayOf(4)),
                producer.sendAwait(null as String?, "null key"),
            )
        }
        assertEquals(listOf(0L, 1L, 2L, 3L, 4L), stored.map { it.offset })
        assertEquals(setOf(0), stored.map { it.partition }.toSet())
        val records = fluvio.partitionConsumer(topic, 0).fetch(Offset.beginning())
        assertEquals(listOf("key", null, "\u0001\u0002", null, null), records.map { it.keyString })
        assertArrayEquals(byteArrayOf(4), records[3].value)
    }

    @Test
    fun `sendAllAwait returns the metadata of every record in order`() = runBlocking {
        val topic = newTopic(partitions = 2)
        val stored = fluvio.withProducer(topic) { producer ->
            producer.sendAllAwait((0 until 20).map { KeyValue.of("k${it % 5}", "$it") })
        }
        assertEquals(20, stored.toSet().size)
        stored.groupBy(RecordMetadata::partition).values.forEach { inPartition ->
            assertEquals((0L until inPartition.size).toList(), inPartition.map { it.offset })
        }
    }

    @Test
    fun `sendAwait suspends until acknowledged, and cancelling the wait does not unsend`() = runBlocking {
        val topic = newTopic()
        fluvio.withProducer(topic, lingering) { producer ->
            val waiting = launch(start = CoroutineStart.UNDISPATCHED) { producer.sendAwait("cancelled wait") }
            Thread.sleep(300)
            assertTrue(waiting.isActive, "lingering: not acknowledged yet")
            withTimeout(20.seconds) { waiting.cancelAndJoin() }
            assertTrue(waiting.isCancelled)

            val acknowledged = async(start = CoroutineStart.UNDISPATCHED) { producer.sendAwait("second") }
            assertFalse(acknowledged.isCompleted)
            producer.flushAwait()
            assertEquals(1L, withTimeout(20.seconds) { acknowledged.await() }.offset)
        }
        val values = fluvio.partitionConsumer(topic, 0).fetch(Offset.beginning()).map { it.valueString }
        assertEquals(listOf("cancelled wait", "second"), values)
    }

    @Test
    fun `flushAwait sends lingering records and returns once they are acknowledged`() = runTest {
        val topic = newTopic()
        fluvio.withProducer(topic, lingering) { producer ->
            val outputs = (0 until 3).map { producer.send("v$it") }
            assertFalse(outputs.any { it.isDone })
            producer.flushAwait()
            assertTrue(outputs.all { it.isDone }, "acknowledged when flushAwait returns")
            assertEquals(listOf(0L, 1L, 2L), outputs.map { it.await().offset })
        }
    }

    @Test
    fun `failures arrive as they are, not wrapped`() = runBlocking {
        val topic = newTopic()
        val producer = fluvio.topicProducer(topic)
        producer.close()
        // Not a CompletionException around it: the exception flush() itself throws.
        assertThrows(IllegalStateException::class.java) { runBlocking { producer.flushAwait() } }
        assertThrows(IllegalStateException::class.java) { runBlocking { producer.sendAwait("closed") } }
        assertNull(fluvio.partitionConsumer(topic, 0).fetch(Offset.beginning()).firstOrNull())
    }
}
