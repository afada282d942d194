package com.infinyon.fluvio.kotlin

import com.infinyon.fluvio.ConsumerStream
import com.infinyon.fluvio.Isolation
import com.infinyon.fluvio.Offset
import com.infinyon.fluvio.Record
import com.infinyon.fluvio.TopicProducer
import java.time.Duration
import kotlin.time.Duration.Companion.milliseconds
import kotlin.time.Duration.Companion.seconds
import org.junit.jupiter.api.Assertions.assertArrayEquals
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertThrows
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

/**
 * The extension functions against an embedded cluster: null-safe record properties, `send`
 * overloads, `next` with a `kotlin.time.Duration`, the `use`-style helpers closing what they
 * open (also when the block throws), and the configuration builders.
 */
class ExtensionsTest : ClusterFixture() {
    @Test
    fun `record properties - keyString is null without a key, empty for an empty key`() {
        val topic = newTopic()
        fluvio.withProducer(topic) { producer ->
            producer.send("alice", "hello")
            producer.send("bob", byteArrayOf(0, 1))
            producer.send("no key")
            producer.send("", "empty key")
        }
        val records = fluvio.partitionConsumer(topic, 0).withStream(Offset.beginning()) { stream ->
            List(4) { requireNotNull(stream.next(20.seconds)) }
        }
        val (hello, binary, keyless, emptyKey) = records
        assertEquals("alice", hello.keyString)
        assertEquals("hello", hello.valueString)
        assertArrayEquals("alice".toByteArray(), hello.key)
        assertArrayEquals(byteArrayOf(0, 1), binary.value)
        assertNull(keyless.keyString)
        assertNull(keyless.key)
        assertEquals(-1, keyless.keyString?.length ?: -1)
        assertEquals("", emptyKey.keyString)
        assertEquals(listOf(0L, 1L, 2L, 3L), records.map(Record::offset))
        assertEquals(setOf(0), records.map(Record::partition).toSet())
        assertTrue(records.all { it.timestamp > 0 }, "timestamps set by the producer")
    }

    @Test
    fun `next with a Kotlin duration returns null when nothing comes in time`() {
        val topic = newTopic()
        fluvio.partitionConsumer(topic, 0).withStream(Offset.end()) { stream ->
            assertNull(stream.next(100.milliseconds))
            assertThrows(IllegalArgumentException::class.java) { stream.next((-1).milliseconds) }
        }
    }

    @Test
    fun `the use-style helpers close what they opened, also when the block throws`() {
        val topic = newTopic(partitions = 2)
        var producer: TopicProducer? = null
        val sent = fluvio.withProducer(topic) { it.also { producer = it }.send("k", "v") }
        assertTrue(producer!!.isClosed)
        assertTrue(sent.isDone, "closing flushed")

        var stream: ConsumerStream? = null
        assertThrows(IllegalStateException::class.java) {
            fluvio.consumer(topic).withStream(Offset.beginning()) {
                stream = it
                error("failed inside")
            }
        }
        assertTrue(stream!!.isClosed)
        val value = fluvio.consumer(topic).withStream(Offset.beginning()) { it.next(20.seconds)?.valueString }
        assertEquals("v", value)
    }

    @Test
    fun `configuration builders`() {
        val consumer = consumerConfig {
            isolation(Isolation.READ_UNCOMMITTED)
            maxBytes(4096)
        }
        assertEquals(Isolation.READ_UNCOMMITTED, consumer.isolation())
        assertEquals(4096, consumer.maxBytes())
        val producer = producerConfig { linger(Duration.ofMillis(5)) }
        assertEquals(Duration.ofMillis(5), producer.linger())
    }
}
