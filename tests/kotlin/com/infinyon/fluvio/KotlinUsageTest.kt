package com.infinyon.fluvio

import java.time.Duration
import java.util.concurrent.CompletableFuture
import java.util.concurrent.TimeUnit
import kotlin.concurrent.thread
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertThrows
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

/**
 * The library used the Kotlin way, compiled by kotlinc 2.x (from Maven Central) against the
 * jar: `use {}` on clusters, clients, producers and streams; `for (record in stream)` over a stream (an
 * `Iterator<Record>`, iterable in `for` through the standard library's `Iterator.iterator()`
 * operator) and `asSequence()`; nullable `next(timeout)`; `?.` and `?:` on keys; Kotlin
 * lambdas as [Partitioner]; futures; `when` over [FluvioException.Code]; `close()` from
 * another thread. Each test starts its own embedded cluster.
 */
class KotlinUsageTest {
    private val wait: Duration = Duration.ofSeconds(20)

    @Test
    fun `use, for-in over a stream, nullable next and elvis on keys`() {
        LocalCluster.start().use { cluster ->
            cluster.connect().use { fluvio ->
                fluvio.admin().createTopic("greetings", 1, 1)
                fluvio.topicProducer("greetings").use { producer ->
                    producer.send("alice", "hello")
                    producer.send(null, "world")
                    producer.send("", "empty key")
                }
                fluvio.partitionConsumer("greetings", 0).stream(Offset.beginning()).use { stream ->
                    val seen = mutableListOf<String>()
                    for (record in stream) {
                        val key = record.keyString() ?: "<none>"
                        val keyLength = record.key()?.size ?: -1
                        seen += "$key/$keyLength=${record.valueString()}@${record.offset()}"
                        if (seen.size == 3) break
                    }
                    assertEquals(listOf("alice/5=hello@0", "<none>/-1=world@1", "/0=empty key@2"), seen)

                    val none: Record? = stream.next(Duration.ofMillis(100))
                    assertNull(none)
                    assertEquals("nothing", none?.valueString() ?: "nothing")
                }
            }
        }
    }

    @Test
    fun `asSequence over a topic stream and sendAll with Kotlin collections`() {
        LocalCluster.builder().spus(2).build().start().use { cluster ->
            cluster.connect().use { fluvio ->
                fluvio.admin().createTopic("numbers", TopicConfig.builder().partitions(3).build())
                val outputs = fluvio.topicProducer("numbers").use { producer ->
                    producer.sendAll((0 until 30).map { KeyValue.of("key-${it % 4}", "$it") })
                }
                val stored = outputs.map { it.get(wait) }
                assertEquals(30, stored.toSet().size, "30 distinct (partition, offset) pairs")
                // Offsets are dense per partition.
                stored.groupBy { it.partition() }.values.forEach { inPartition ->
                    assertEquals((0L until inPartition.size).toList(), inPartition.map { it.offset() }.sorted())
                }
                fluvio.consumer("numbers").stream(Offset.beginning()).use { stream ->
                    val values = stream.asSequence().take(30).map { it.valueString().toInt() }.toList()
                    assertEquals((0 until 30).toList(), values.sorted())
                    assertNull(stream.next(Duration.ofMillis(200)))
                }
            }
        }
    }

    @Test
    fun `a Kotlin lambda as partitioner and futures`() {
        LocalCluster.start().use { cluster ->
            cluster.connect().use { fluvio ->
                fluvio.admin().createTopic("routed", 4, 1)
                val config = TopicProducerConfig.builder()
                    .partitioner { _, key, _, partitions -> (key?.size ?: 0) % partitions }
                    .compression(Compression.LZ4)
                    .build()
                fluvio.topicProducer("routed", config).use { producer ->
                    val future: CompletableFuture<String> = producer.send("abc", "three")
                        .toCompletableFuture()
                        .thenApply { "${it.partition()}:${it.offset()}" }
                    assertEquals(0, producer.send(null as String?, "none").get(wait).partition(), "no key: size 0")
                    producer.flush()
                    assertEquals("3:0", future.get(20, TimeUnit.SECONDS))
                }
                val record = fluvio.partitionConsumer("routed", 3).fetch(Offset.beginning()).single()
                assertEquals("abc", record.keyString())
                assertEquals("three", record.valueString())
            }
        }
    }

    @Test
    fun `error codes in when, and close from another thread`() {
        LocalCluster.start().use { cluster ->
            cluster.connect().use { fluvio ->
                val missing = assertThrows(FluvioException::class.java) { fluvio.topicProducer("no-such-topic").close() }
                val verdict = when (missing.code()) {
                    FluvioException.Code.TOPIC_NOT_FOUND -> "not found"
                    else -> "unexpected ${missing.code()}"
                }
                assertEquals("not found", verdict)

                fluvio.admin().createTopic("quiet", 1, 1)
                val stream = fluvio.partitionConsumer("quiet", 0).stream(Offset.end())
                var thrown: Throwable? = null
                val reader = thread(name = "kotlin-blocked-reader") {
                    thrown = runCatching { stream.next() }.exceptionOrNull()
                }
                Thread.sleep(300)
                assertTrue(reader.isAlive, "blocked: nothing to read")
                stream.close()
                reader.join(10_000)
                assertFalse(reader.isAlive)
                assertEquals(FluvioException.Code.CLOSED, (thrown as? FluvioException)?.code())
                assertThrows(IllegalStateException::class.java) { stream.hasNext() }
            }
        }
    }
}
