package com.infinyon.fluvio

import java.time.Duration
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertThrows
import org.junit.jupiter.api.Test

/**
 * Named consumers the Kotlin way: a service that reads, processes, commits and stops, then
 * resumes where it stopped; the Auto strategy storing on `use {}`'s close; consumers listed
 * and deleted; `when` over the new error codes.
 */
class NamedConsumerKotlinTest {
    private fun config(id: String, strategy: OffsetStrategy): ConsumerConfig =
        ConsumerConfig.builder().consumerId(id).offsetStrategy(strategy).autoCommitInterval(Duration.ofHours(1)).build()

    @Test
    fun `a named consumer resumes where it stopped`() {
        LocalCluster.start().use { cluster ->
            cluster.connect().use { fluvio ->
                fluvio.admin().createTopic("orders", 1, 1)
                fluvio.topicProducer("orders").use { producer ->
                    (0 until 10).forEach { producer.send(null, "order-$it") }
                }
                val processed = mutableListOf<String>()
                // A first run processes 4 orders, committing after each, then stops.
                fluvio.partitionConsumer("orders", 0).stream(Offset.beginning(), config("billing", OffsetStrategy.MANUAL)).use { stream ->
                    for (record in stream) {
                        processed += record.valueString()
                        stream.commit()
                        stream.flush()
                        if (processed.size == 4) break
                    }
                }
                // The next run (AUTO: stored when the stream closes) goes on from order-4.
                fluvio.consumer("orders").stream(Offset.beginning(), config("billing", OffsetStrategy.AUTO)).use { stream ->
                    stream.asSequence().take(3).forEach { processed += it.valueString() }
                }
                assertEquals((0 until 7).map { "order-$it" }, processed)

                val stored = fluvio.admin().listConsumers().single { it.name() == "billing" }
                assertEquals(6L, stored.status().offset())
                assertEquals("orders", stored.spec().topic())
                assertEquals(listOf(stored.toJson()), fluvio.admin().deleteConsumer("billing").map { it.toJson() })

                val failure = assertThrows(FluvioException::class.java) { fluvio.admin().deleteConsumer("billing") }
                val meaning = when (failure.code()) {
                    FluvioException.Code.CONSUMER_NOT_FOUND -> "nothing stored"
                    FluvioException.Code.INVALID_CONSUMER_NAME -> "bad name"
                    else -> "other"
                }
                assertEquals("nothing stored", meaning)
                val blank = assertThrows(FluvioException::class.java) { ConsumerConfig.builder().consumerId("") }
                assertEquals(FluvioException.Code.INVALID_CONSUMER_NAME, blank.code())
            }
        }
    }
}
