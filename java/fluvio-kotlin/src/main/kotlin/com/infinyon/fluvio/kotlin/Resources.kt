@file:JvmName("FluvioResources")

package com.infinyon.fluvio.kotlin

import com.infinyon.fluvio.ConsumerConfig
import com.infinyon.fluvio.ConsumerStream
import com.infinyon.fluvio.Fluvio
import com.infinyon.fluvio.Offset
import com.infinyon.fluvio.PartitionConsumer
import com.infinyon.fluvio.PartitionConsumerStream
import com.infinyon.fluvio.TopicConsumer
import com.infinyon.fluvio.TopicProducer
import com.infinyon.fluvio.TopicProducerConfig

/**
 * Runs [block] with a producer for [topic], then closes it (which flushes), also when [block]
 * throws.
 *
 * @return what [block] returns
 */
public inline fun <R> Fluvio.withProducer(
    topic: String,
    config: TopicProducerConfig = TopicProducerConfig.builder().build(),
    block: (TopicProducer) -> R,
): R = topicProducer(topic, config).use(block)

/**
 * Runs [block] with a stream of this partition from [offset], then closes it.
 *
 * @return what [block] returns
 */
public inline fun <R> PartitionConsumer.withStream(
    offset: Offset,
    config: ConsumerConfig = ConsumerConfig.builder().build(),
    block: (PartitionConsumerStream) -> R,
): R = stream(offset, config).use(block)

/**
 * Runs [block] with a stream of every partition from [offset], then closes it.
 *
 * @return what [block] returns
 */
public inline fun <R> TopicConsumer.withStream(
    offset: Offset,
    config: ConsumerConfig = ConsumerConfig.builder().build(),
    block: (ConsumerStream) -> R,
): R = stream(offset, config).use(block)

/** Consumer settings built in a block: `consumerConfig { maxBytes(64 * 1024) }`. */
public inline fun consumerConfig(block: ConsumerConfig.Builder.() -> Unit): ConsumerConfig =
    ConsumerConfig.builder().apply(block).build()

/** Producer settings built in a block: `producerConfig { linger(Duration.ofMillis(5)) }`. */
public inline fun producerConfig(block: TopicProducerConfig.Builder.() -> Unit): TopicProducerConfig =
    TopicProducerConfig.builder().apply(block).build()
