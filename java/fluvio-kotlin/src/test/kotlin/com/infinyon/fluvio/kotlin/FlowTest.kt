package com.infinyon.fluvio.kotlin

import com.infinyon.fluvio.ConsumerStream
import com.infinyon.fluvio.FluvioException
import com.infinyon.fluvio.Offset
import java.time.Duration
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.Executors
import kotlin.time.Duration.Companion.seconds
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.Job
import kotlinx.coroutines.asCoroutineDispatcher
import kotlinx.coroutines.cancelAndJoin
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.flow.map
import kotlinx.coroutines.flow.take
import kotlinx.coroutines.flow.toList
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.test.runTest
import kotlinx.coroutines.withTimeout
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertThrows
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

/**
 * `PartitionConsumer.flow` and `TopicConsumer.flow` against an embedded cluster: records in
 * order, cold (each collection from the offset, on its own stream), the stream closed when the
 * collection ends, fails or is cancelled, cancellation waking a read that waits in native code,
 * failures as [FluvioException]s with their codes, `runTest`, and a context of one's own.
 */
class FlowTest : ClusterFixture() {
    /** Opens streams through [open] and keeps them, so a test can see them closed. */
    private class Opener(private val open: () -> ConsumerStream) {
        val opened = CopyOnWriteArrayList<ConsumerStream>()
        val first = CompletableDeferred<ConsumerStream>()

        fun open(): ConsumerStream = open.invoke().also { opened += it; first.complete(it) }
    }

    @Test
    fun `records arrive in offset order and take() closes the stream`() = runBlocking {
        val topic = newTopic()
        produce(topic, 0, 10)
        val opener = Opener { fluvio.partitionConsumer(topic, 0).stream(Offset.beginning()) }
        val values = recordFlow(Dispatchers.IO) { opener.open() }.take(4).map { "${it.offset}=${it.valueString}" }.toList()
        assertEquals(listOf("0=v0", "1=v1", "2=v2", "3=v3"), values)
        assertTrue(opener.opened.single().isClosed, "the collection ended: the stream is closed")

        val public = fluvio.partitionConsumer(topic, 0).flow(Offset.fromEnd(3)).take(3).toList()
        assertEquals(listOf(7L, 8L, 9L), public.map { it.offset })
    }

    @Test
    fun `a flow is cold - each collection reads from the offset on its own stream`() = runBlocking {
        val topic = newTopic()
        produce(topic, 0, 3)
        val flow = fluvio.partitionConsumer(topic, 0).flow(Offset.beginning())
        assertEquals(listOf("v0", "v1", "v2"), flow.take(3).toList().map { it.valueString })
        assertEquals("v0", flow.first().valueString)
    }

    @Test
    fun `records produced while collecting arrive`() = runBlocking {
        val topic = newTopic()
        val received = Channel<String>(Channel.UNLIMITED)
        val collector = launch {
            fluvio.partitionConsumer(topic, 0).flow(Offset.absolute(0)).collect { received.send(it.valueString) }
        }
        produce(topic, 0, 5)
        withTimeout(20.seconds) {
            assertEquals(listOf("v0", "v1", "v2", "v3", "v4"), List(5) { received.receive() })
        }
        collector.cancelAndJoin()
    }

    @Test
    fun `a topic flow reads every partition`() = runBlocking {
        val topic = newTopic(partitions = 3)
        fluvio.withProducer(topic) { producer -> repeat(30) { producer.send("key-$it", "$it") } }
        val records = fluvio.consumer(topic).flow(Offset.beginning()).take(30).toList()
        assertEquals((0 until 30).toSet(), records.map { it.valueString.toInt() }.toSet())
        assertTrue(records.map { it.partition }.toSet().size > 1, "several partitions")
        // Each partition in offset order.
        records.groupBy { it.partition }.values.forEach { inPartition ->
            assertEquals(inPartition.map { it.offset }.sorted(), inPartition.map { it.offset })
        }
    }

    @Test
    fun `cancelling the collector closes the stream and wakes a waiting read`() = runBlocking {
        val topic = newTopic()
        val opener = Opener { fluvio.partitionConsumer(topic, 0).stream(Offset.end()) }
        // One read waits up to an hour: the collection can only end this quickly if closing
        // the stream woke it. (Not a child of runBlocking: were it stuck, the test would fail,
        // not hang.)
        val flow = recordFlow(Dispatchers.IO, waitSlice = Duration.ofHours(1)) { opener.open() }
        val collector = CoroutineScope(Dispatchers.Default).launch {
            flow.collect { throw AssertionError("no record expected: $it") }
        }
        val stream = withTimeout(20.seconds) { opener.first.await() }
        try {
            Thread.sleep(200) // the read is waiting in native code
            assertFalse(stream.isClosed)
            withTimeout(20.seconds) { collector.cancelAndJoin() }
            assertTrue(collector.isCancelled)
            assertTrue(stream.isClosed)
        } finally {
            stream.close()
        }
    }

    @Test
    fun `a stream failure ends the flow with its FluvioException and closes the stream`() = runBlocking {
        val topic = newTopic()
        produce(topic, 0, 1)
        val opener = Opener { fluvio.partitionConsumer(topic, 0).stream(Offset.beginning()) }
        val failure = runCatching {
            recordFlow(Dispatchers.IO) { opener.open() }.collect { fluvio.admin().deleteTopic(topic) }
        }.exceptionOrNull()
        assertEquals(FluvioException.Code.TOPIC_DELETED, (failure as? FluvioException)?.code(), "$failure")
        assertTrue(opener.opened.single().isClosed)
    }

    @Test
    fun `a topic that does not exist fails when collection starts, not when the flow is made`() = runBlocking {
        val partitionFlow = fluvio.partitionConsumer("no-such-topic", 0).flow(Offset.beginning())
        val topicFlow = fluvio.consumer("no-such-topic").flow(Offset.beginning())
        for (flow in listOf(partitionFlow, topicFlow)) {
            val failure = runCatching { flow.first() }.exceptionOrNull()
            assertEquals(FluvioException.Code.TOPIC_NOT_FOUND, (failure as? FluvioException)?.code(), "$failure")
        }
    }

    @Test
    fun `works under runTest - the reads run on Dispatchers IO, not on the test thread`() = runTest {
        val topic = newTopic()
        produce(topic, 0, 3)
        val threads = CopyOnWriteArrayList<String>()
        val opener = Opener {
            threads += Thread.currentThread().name
            fluvio.partitionConsumer(topic, 0).stream(Offset.beginning())
        }
        assertEquals(listOf(0L, 1L, 2L), recordFlow(Dispatchers.IO) { opener.open() }.take(3).toList().map { it.offset })
        assertTrue(threads.single().startsWith("DefaultDispatcher-worker"), "$threads")
    }

    @Test
    fun `a context of one's own runs the reads, and one with a Job is refused`() = runBlocking {
        val topic = newTopic()
        produce(topic, 0, 2)
        Executors.newSingleThreadExecutor { Thread(it, "fluvio-reader") }.asCoroutineDispatcher().use { reader ->
            val threads = CopyOnWriteArrayList<String>()
            val opener = Opener {
                threads += Thread.currentThread().name
                fluvio.partitionConsumer(topic, 0).stream(Offset.beginning())
            }
            assertEquals(2, recordFlow(reader) { opener.open() }.take(2).toList().size)
            assertEquals(listOf("fluvio-reader"), threads)
            // On one thread, cancellation is seen between reads (at most one wait slice late).
            val idle = fluvio.partitionConsumer(topic, 0).flow(Offset.end(), context = reader)
            val collector = launch { idle.collect { } }
            Thread.sleep(200)
            withTimeout(20.seconds) { collector.cancelAndJoin() }
        }
        assertThrows(IllegalArgumentException::class.java) {
            fluvio.partitionConsumer(topic, 0).flow(Offset.beginning(), context = Job())
        }
        Unit
    }
}
