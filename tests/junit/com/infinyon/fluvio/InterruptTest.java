package com.infinyon.fluvio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@link Thread#interrupt()} wakes every call that waits for the cluster (a stream's
 * {@code next}, {@link ProduceOutput#get()}, a {@code send} waiting for queue space,
 * {@code flush}) with {@code INTERRUPTED} and the interrupt flag still set; and
 * {@code close(Duration)} bounds how long closing a producer or a stream waits when the
 * cluster is gone (its SPU killed here: a producer's plain {@code close()} would retry for two
 * minutes).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class InterruptTest extends ClusterTestBase {
    /** The SPU of the class's cluster. */
    private int spu() {
        return cluster.spuIds().get(0);
    }

    @AfterEach
    void spuRunningAgainAndFlagCleared() {
        Thread.interrupted();
        if (!cluster.isSpuRunning(spu())) {
            cluster.startSpu(spu());
        }
    }

    /** Records wait in the producer until flushed; one record fills a batch, one batch the queue. */
    private static TopicProducerConfig holdingConfig() {
        return TopicProducerConfig.builder()
                .linger(Duration.ofMinutes(10))
                .batchSize(1024)
                .batchQueueSize(1)
                .maxBlock(Duration.ofMinutes(10))
                .build();
    }

    private static byte[] bytes(int size) {
        return new byte[size];
    }

    /**
     * Runs {@code call} on a new thread, interrupts that thread once it is blocked (in state
     * WAITING/TIMED_WAITING or inside native code for a while), and returns what the call
     * threw, with whether the thread's interrupt flag was set afterwards.
     */
    private static Outcome interruptWhileBlocked(Supplier<?> call) throws Exception {
        CountDownLatch started = new CountDownLatch(1);
        CompletableFuture<Outcome> outcome = new CompletableFuture<>();
        Thread thread = new Thread(() -> {
            started.countDown();
            try {
                call.get();
                outcome.complete(new Outcome(null, Thread.currentThread().isInterrupted()));
            } catch (RuntimeException e) {
                outcome.complete(new Outcome(e, Thread.currentThread().isInterrupted()));
            }
        }, "interrupted-caller");
        thread.start();
        started.await();
        // Let the call reach its wait; an interrupt that comes earlier must work as well.
        Thread.sleep(300);
        assertFalse(outcome.isDone(), "the call should be blocked");
        thread.interrupt();
        Outcome result = outcome.get(30, TimeUnit.SECONDS);
        thread.join();
        return result;
    }

    private static final class Outcome {
        final RuntimeException thrown;
        final boolean flagSet;

        Outcome(RuntimeException thrown, boolean flagSet) {
            this.thrown = thrown;
            this.flagSet = flagSet;
        }

        void assertInterrupted() {
            assertNotNull(thrown, "the call should have thrown");
            assertTrue(thrown instanceof FluvioException, () -> "not a FluvioException: " + thrown);
            assertEquals(FluvioException.Code.INTERRUPTED, ((FluvioException) thrown).code());
            assertFalse(((FluvioException) thrown).isRetriable());
            assertTrue(flagSet, "the interrupt flag should still be set");
        }
    }

    @Test
    void interruptWakesNextAndTheStreamStaysUsable() throws Exception {
        String topic = newTopic(1);
        try (PartitionConsumerStream stream = fluvio.partitionConsumer(topic, 0).stream(Offset.beginning())) {
            interruptWhileBlocked(stream::next).assertInterrupted();
            interruptWhileBlocked(() -> stream.next(Duration.ofMinutes(5))).assertInterrupted();
            try (TopicProducer producer = fluvio.topicProducer(topic)) {
                producer.send("k", "after the interrupts").get();
            }
            assertEquals("after the interrupts", stream.next().valueString(), "no record is lost");
        }
    }

    @Test
    void aFlagSetBeforeNextIsHonoured() {
        String topic = newTopic(1);
        try (PartitionConsumerStream stream = fluvio.partitionConsumer(topic, 0).stream(Offset.beginning())) {
            Thread.currentThread().interrupt();
            FluvioException e = assertThrows(FluvioException.class, () -> stream.next(Duration.ofMinutes(5)));
            assertEquals(FluvioException.Code.INTERRUPTED, e.code());
            assertTrue(Thread.interrupted(), "the flag stays set");
        }
    }

    @Test
    void interruptWakesGetAndDeliveryGoesOn() throws Exception {
        String topic = newTopic(1);
        try (TopicProducer producer = fluvio.topicProducer(topic, TopicProducerConfig.builder()
                .linger(Duration.ofMinutes(10)).build())) {
            ProduceOutput output = producer.send("k", "held by the linger");
            interruptWhileBlocked(output::get).assertInterrupted();
            interruptWhileBlocked(() -> output.get(Duration.ofMinutes(5))).assertInterrupted();
            producer.flush();
            assertEquals(0, output.get().offset());
        }
    }

    @Test
    void interruptWakesSendWaitingForQueueSpaceAndTheRecordIsNotSent() throws Exception {
        String topic = newTopic(1);
        List<ProduceOutput> sent = new ArrayList<>();
        try (TopicProducer producer = fluvio.topicProducer(topic, holdingConfig())) {
            cluster.killSpu(spu());
            // Sends until the queue is full (the batch in flight, the sealed one, the open
            // one), then waits for space until interrupted.
            Outcome outcome = interruptWhileBlocked(() -> {
                while (true) {
                    sent.add(producer.send(null, bytes(700)));
                }
            });
            outcome.assertInterrupted();
            assertTrue(sent.size() >= 2, "a few records were queued before the wait: " + sent.size());
            Thread.interrupted();
            cluster.startSpu(spu());
            producer.flush();
            for (ProduceOutput output : sent) {
                output.get();
            }
        }
        try (PartitionConsumerStream stream = fluvio.partitionConsumer(topic, 0).stream(Offset.beginning())) {
            for (int i = 0; i < sent.size(); i++) {
                assertEquals(i, stream.next().offset());
            }
            assertEquals(null, stream.next(Duration.ofMillis(300)), "the interrupted record was not sent");
        }
    }

    @Test
    void interruptWakesFlush() throws Exception {
        String topic = newTopic(1);
        try (TopicProducer producer = fluvio.topicProducer(topic)) {
            producer.send("k", "v").get();
            cluster.killSpu(spu());
            ProduceOutput pending = producer.send("k", "during the outage");
            interruptWhileBlocked(() -> {
                producer.flush();
                return null;
            }).assertInterrupted();
            cluster.startSpu(spu());
            producer.flush();
            assertEquals(1, pending.get().offset(), "delivery went on after the interrupted flush");
        }
    }

    @Test
    void closeWithATimeoutReturnsWhenTheClusterIsGoneAndFailsWhatWasNotDelivered() {
        String topic = newTopic(1);
        TopicProducer producer = fluvio.topicProducer(topic);
        producer.send("k", "v").get();
        cluster.killSpu(spu());
        ProduceOutput pending = producer.send("k", "never acknowledged");
        // Without a bound, close() would retry for the retry timeout (two minutes): the
        // class's @Timeout fails the test then.
        producer.close(Duration.ofMillis(300));
        assertTrue(producer.isClosed());
        FluvioException e = assertThrows(FluvioException.class, pending::get);
        assertEquals(FluvioException.Code.CLOSED, e.code());
        producer.close(Duration.ofMillis(300));
        producer.close();
        assertThrows(IllegalStateException.class, () -> producer.send("k", "v"));
    }

    @Test
    void closeWithATimeoutWaitsForDeliveryWhileTheClusterIsUp() {
        String topic = newTopic(1);
        TopicProducer producer = fluvio.topicProducer(topic, TopicProducerConfig.builder()
                .linger(Duration.ofMinutes(10)).build());
        ProduceOutput output = producer.send("k", "v");
        producer.close(Duration.ofSeconds(30));
        assertEquals(0, output.get().offset());
    }

    @Test
    void streamCloseWithATimeoutReturnsWhenTheClusterIsGone() {
        String topic = newTopic(1);
        PartitionConsumerStream stream = fluvio.partitionConsumer(topic, 0).stream(Offset.beginning());
        cluster.killSpu(spu());
        stream.close(Duration.ofMillis(300));
        assertTrue(stream.isClosed());
        assertThrows(IllegalStateException.class, stream::next);
    }

    @Test
    void negativeCloseTimeoutsAreRefused() {
        String topic = newTopic(1);
        try (TopicProducer producer = fluvio.topicProducer(topic);
                PartitionConsumerStream stream = fluvio.partitionConsumer(topic, 0).stream(Offset.beginning())) {
            assertThrows(IllegalArgumentException.class, () -> producer.close(Duration.ofMillis(-1)));
            assertThrows(IllegalArgumentException.class, () -> stream.close(Duration.ofMillis(-1)));
            assertThrows(NullPointerException.class, () -> producer.close(null));
            assertFalse(producer.isClosed());
        }
    }
}
