package com.infinyon.fluvio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Flow;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * {@link PartitionConsumer#publisher} and {@link TopicConsumer#publisher} against an embedded
 * cluster: records pushed in offset order and never more than requested, signals on the
 * executor and never overlapping, a cold publisher (each subscriber its own stream), failures
 * as {@code onError} with the {@link FluvioException} (also without demand), rule 3.9, a
 * throwing subscriber, a rejecting executor, and the threads: none held without demand, an
 * idle subscription handing its thread back between waits, {@code cancel()} closing the stream
 * and waking a waiting read, an executor that runs tasks in place. The Reactive Streams TCK
 * runs separately ({@code gradle tckTest}).
 */
class ConsumerPublisherTest extends ClusterTestBase {
    private static final Duration WAIT = Duration.ofSeconds(20);
    /** How long "nothing more arrives" is watched. */
    private static final Duration QUIET = Duration.ofMillis(300);
    /** Longer than any test: a read that returns proves something woke it. */
    private static final Duration FOREVER = Duration.ofHours(1);

    // ------------------------------------------------------------------------------------
    // Helpers

    /** Records every signal in order, and whether two signals ever overlapped. */
    static class RecordingSubscriber implements Flow.Subscriber<Record> {
        static final Object COMPLETE = "onComplete";

        final BlockingQueue<Object> signals = new LinkedBlockingQueue<>();
        final List<String> signalThreads = new CopyOnWriteArrayList<>();
        final AtomicBoolean inSignal = new AtomicBoolean();
        final AtomicBoolean overlapped = new AtomicBoolean();
        volatile Flow.Subscription subscription;
        volatile String subscribedOn;

        @Override
        public void onSubscribe(Flow.Subscription subscription) {
            enter();
            this.subscription = subscription;
            subscribedOn = Thread.currentThread().getName();
            leave();
        }

        @Override
        public void onNext(Record record) {
            enter();
            onRecord(record);
            signals.add(record);
            leave();
        }

        /** What a subclass does with each record, before it is recorded. */
        void onRecord(Record record) {}

        @Override
        public void onError(Throwable failure) {
            enter();
            signals.add(failure);
            leave();
        }

        @Override
        public void onComplete() {
            enter();
            signals.add(COMPLETE);
            leave();
        }

        private void enter() {
            if (!inSignal.compareAndSet(false, true)) {
                overlapped.set(true);
            }
            signalThreads.add(Thread.currentThread().getName());
        }

        private void leave() {
            inSignal.set(false);
        }

        void request(long n) {
            subscription.request(n);
        }

        Object nextSignal() throws InterruptedException {
            Object signal = signals.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS);
            assertNotNull(signal, "no signal within " + WAIT);
            return signal;
        }

        List<Record> records(int count) throws InterruptedException {
            List<Record> records = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                Object signal = nextSignal();
                if (!(signal instanceof Record)) {
                    fail("record " + i + " of " + count + " expected, got " + signal);
                }
                records.add((Record) signal);
            }
            return records;
        }

        <T extends Throwable> T error(Class<T> type) throws InterruptedException {
            Object signal = nextSignal();
            assertTrue(type.isInstance(signal), () -> type.getSimpleName() + " expected, got " + signal);
            return type.cast(signal);
        }

        void expectNothing() throws InterruptedException {
            Object signal = signals.poll(QUIET.toMillis(), TimeUnit.MILLISECONDS);
            assertEquals(null, signal, "no signal expected");
        }

        void assertSerial() {
            assertFalse(overlapped.get(), "two signals overlapped");
        }
    }

    /** A cached pool that counts the tasks it was given and those running now. */
    static final class CountingExecutor implements Executor, AutoCloseable {
        final AtomicInteger executions = new AtomicInteger();
        final AtomicInteger running = new AtomicInteger();
        final List<Throwable> uncaught = new CopyOnWriteArrayList<>();
        private final AtomicInteger threads = new AtomicInteger();
        private final ExecutorService pool = Executors.newCachedThreadPool(task -> {
            Thread thread = new Thread(task, "test-publisher-" + threads.incrementAndGet());
            thread.setDaemon(true);
            thread.setUncaughtExceptionHandler((t, failure) -> uncaught.add(failure));
            return thread;
        });

        @Override
        public void execute(Runnable task) {
            executions.incrementAndGet();
            pool.execute(() -> {
                running.incrementAndGet();
                try {
                    task.run();
                } finally {
                    running.decrementAndGet();
                }
            });
        }

        @Override
        public void close() {
            pool.shutdownNow();
        }
    }

    /** Opens streams of one partition and keeps them, so tests can see them closed. */
    static final class Opener implements Supplier<ConsumerStream> {
        final List<ConsumerStream> opened = new CopyOnWriteArrayList<>();
        private final Supplier<ConsumerStream> open;

        Opener(Supplier<ConsumerStream> open) {
            this.open = open;
        }

        @Override
        public ConsumerStream get() {
            ConsumerStream stream = open.get();
            opened.add(stream);
            return stream;
        }

        ConsumerStream only() {
            await(() -> opened.size() == 1, "the stream was opened");
            return opened.get(0);
        }
    }

    static void await(BooleanSupplier condition, String what) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("not within " + WAIT + ": " + what);
            }
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                fail("interrupted");
            }
        }
    }

    /** A one-partition topic holding unkeyed records "v0", "v1", ... at offsets 0, 1, .... */
    private String topicWithRecords(int count) {
        String topic = newTopic(1);
        produce(topic, 0, count);
        return topic;
    }

    private void produce(String topic, int from, int count) {
        try (TopicProducer producer = fluvio.topicProducer(topic)) {
            for (int i = from; i < from + count; i++) {
                producer.send(null, "v" + i);
            }
        }
    }

    private static void assertRecords(List<Record> records, long from) {
        for (int i = 0; i < records.size(); i++) {
            assertEquals(from + i, records.get(i).offset(), "offset");
            assertEquals("v" + (from + i), records.get(i).valueString(), "value");
        }
    }

    private static RecordingSubscriber subscribe(Flow.Publisher<Record> publisher) {
        RecordingSubscriber subscriber = new RecordingSubscriber();
        publisher.subscribe(subscriber);
        assertNotNull(subscriber.subscription, "onSubscribe ran before subscribe returned");
        return subscriber;
    }

    // ------------------------------------------------------------------------------------
    // Demand and order

    @Test
    void deliversInOffsetOrderNeverMoreThanRequested() throws Exception {
        String topic = topicWithRecords(10);
        RecordingSubscriber subscriber = subscribe(fluvio.partitionConsumer(topic, 0).publisher(Offset.beginning()));
        subscriber.expectNothing();
        subscriber.request(3);
        assertRecords(subscriber.records(3), 0);
        subscriber.expectNothing();
        subscriber.request(1);
        subscriber.request(6);
        assertRecords(subscriber.records(7), 3);
        subscriber.request(Long.MAX_VALUE);
        subscriber.request(Long.MAX_VALUE); // saturates: no error (rule 3.17)
        produce(topic, 10, 5);
        assertRecords(subscriber.records(5), 10);
        subscriber.subscription.cancel();
        subscriber.expectNothing();
        subscriber.assertSerial();
    }

    @Test
    void signalsRunOnTheGivenExecutorAndRecordsProducedLaterArrive() throws Exception {
        String topic = newTopic(1);
        try (CountingExecutor executor = new CountingExecutor()) {
            RecordingSubscriber subscriber = subscribe(fluvio.partitionConsumer(topic, 0)
                    .publisher(Offset.absolute(0), ConsumerConfig.builder().build(), executor));
            subscriber.request(Long.MAX_VALUE);
            produce(topic, 0, 20);
            assertRecords(subscriber.records(20), 0);
            subscriber.subscription.cancel();
            assertEquals(Thread.currentThread().getName(), subscriber.subscribedOn, "onSubscribe on the caller");
            for (String thread : subscriber.signalThreads.subList(1, subscriber.signalThreads.size())) {
                assertTrue(thread.startsWith("test-publisher-"), thread);
            }
        }
    }

    @Test
    void theDefaultExecutorHasNamedDaemonThreads() throws Exception {
        String topic = topicWithRecords(1);
        AtomicBoolean daemon = new AtomicBoolean();
        RecordingSubscriber subscriber = new RecordingSubscriber() {
            @Override
            void onRecord(Record record) {
                daemon.set(Thread.currentThread().isDaemon());
            }
        };
        fluvio.partitionConsumer(topic, 0).publisher(Offset.beginning()).subscribe(subscriber);
        subscriber.request(1);
        subscriber.records(1);
        subscriber.subscription.cancel();
        assertTrue(subscriber.signalThreads.get(1).startsWith("fluvio-publisher-"), subscriber.signalThreads.get(1));
        assertTrue(daemon.get(), "daemon thread");
    }

    @Test
    void everySubscriberReadsFromTheOffsetOnItsOwnStream() throws Exception {
        String topic = topicWithRecords(6);
        Opener opener = new Opener(() -> fluvio.partitionConsumer(topic, 0).stream(Offset.fromEnd(4)));
        Flow.Publisher<Record> publisher = new ConsumerPublisher(opener, ConsumerPublisher.defaultExecutor());
        RecordingSubscriber first = subscribe(publisher);
        opener.only(); // opened in the background: the first stream is the first subscriber's
        RecordingSubscriber second = subscribe(publisher);
        first.request(4);
        second.request(2);
        assertRecords(first.records(4), 2);
        assertRecords(second.records(2), 2);
        assertEquals(2, opener.opened.size(), "one stream per subscriber");
        first.subscription.cancel();
        await(() -> opener.opened.get(0).isClosed(), "the first subscriber's stream closed");
        assertFalse(opener.opened.get(1).isClosed(), "the second subscriber's stream stays open");
        second.request(2);
        assertRecords(second.records(2), 4);
        second.subscription.cancel();
        await(() -> opener.opened.get(1).isClosed(), "the second subscriber's stream closed");
    }

    @Test
    void aTopicPublisherReadsEveryPartition() throws Exception {
        String topic = newTopic(3);
        try (TopicProducer producer = fluvio.topicProducer(topic)) {
            for (int i = 0; i < 30; i++) {
                producer.send("key-" + i, Integer.toString(i));
            }
        }
        RecordingSubscriber subscriber = subscribe(fluvio.consumer(topic).publisher(Offset.beginning()));
        subscriber.request(30);
        Set<Integer> values = new TreeSet<>();
        Set<Integer> partitions = new TreeSet<>();
        for (Record record : subscriber.records(30)) {
            values.add(Integer.parseInt(record.valueString()));
            partitions.add(record.partition());
        }
        assertEquals(30, values.size());
        assertTrue(partitions.size() > 1, "records of several partitions: " + partitions);
        subscriber.expectNothing();
        subscriber.subscription.cancel();
        subscriber.assertSerial();
    }

    // ------------------------------------------------------------------------------------
    // Failures

    @Test
    void aTopicThatDoesNotExistIsOnErrorWithoutAnyRequest() throws Exception {
        RecordingSubscriber partition = subscribe(fluvio.partitionConsumer("no-such-topic", 0).publisher(Offset.beginning()));
        assertEquals(FluvioException.Code.TOPIC_NOT_FOUND, partition.error(FluvioException.class).code());
        RecordingSubscriber topic = subscribe(fluvio.consumer("no-such-topic").publisher(Offset.beginning()));
        assertEquals(FluvioException.Code.TOPIC_NOT_FOUND, topic.error(FluvioException.class).code());
        // Terminated: requests and cancels are no-ops (rule 3.6).
        partition.request(1);
        partition.subscription.cancel();
        partition.expectNothing();
    }

    @Test
    void aStreamFailureIsOnErrorWithItsCodeAndClosesTheStream() throws Exception {
        String topic = topicWithRecords(1);
        Opener opener = new Opener(() -> fluvio.partitionConsumer(topic, 0).stream(Offset.beginning()));
        RecordingSubscriber subscriber = subscribe(new ConsumerPublisher(opener, ConsumerPublisher.defaultExecutor()));
        subscriber.request(Long.MAX_VALUE);
        assertRecords(subscriber.records(1), 0);
        fluvio.admin().deleteTopic(topic);
        assertEquals(FluvioException.Code.TOPIC_DELETED, subscriber.error(FluvioException.class).code());
        assertTrue(opener.only().isClosed(), "closed before onError");
        subscriber.expectNothing();
        subscriber.assertSerial();
    }

    @Test
    void closingTheClientIsOnErrorWithAFluvioException() throws Exception {
        String topic = newTopic(1);
        Fluvio client = cluster.connect();
        Opener opener = new Opener(() -> client.partitionConsumer(topic, 0).stream(Offset.end()));
        RecordingSubscriber subscriber = subscribe(new ConsumerPublisher(opener, ConsumerPublisher.defaultExecutor()));
        subscriber.request(1);
        opener.only();
        client.close();
        subscriber.error(FluvioException.class);
        assertTrue(opener.only().isClosed());
    }

    @Test
    void aNonPositiveRequestIsOnErrorIllegalArgument() throws Exception {
        String topic = topicWithRecords(3);
        for (long bad : new long[] {0, -1, Long.MIN_VALUE}) {
            Opener opener = new Opener(() -> fluvio.partitionConsumer(topic, 0).stream(Offset.beginning()));
            RecordingSubscriber subscriber = subscribe(new ConsumerPublisher(opener, ConsumerPublisher.defaultExecutor()));
            subscriber.request(1);
            assertRecords(subscriber.records(1), 0);
            subscriber.request(bad);
            IllegalArgumentException error = subscriber.error(IllegalArgumentException.class);
            assertTrue(error.getMessage().contains("3.9"), error.getMessage());
            assertTrue(opener.only().isClosed());
            subscriber.request(5);
            subscriber.expectNothing();
        }
    }

    @Test
    void aSubscriberThatThrowsIsCancelledAndTheErrorGoesToTheUncaughtHandler() throws Exception {
        String topic = topicWithRecords(5);
        IllegalStateException thrown = new IllegalStateException("subscriber bug");
        try (CountingExecutor executor = new CountingExecutor()) {
            Opener opener = new Opener(() -> fluvio.partitionConsumer(topic, 0).stream(Offset.beginning()));
            RecordingSubscriber subscriber = new RecordingSubscriber() {
                @Override
                void onRecord(Record record) {
                    if (record.offset() == 1) {
                        throw thrown;
                    }
                }
            };
            new ConsumerPublisher(opener, executor).subscribe(subscriber);
            subscriber.request(5);
            assertRecords(subscriber.records(1), 0);
            await(() -> executor.uncaught.contains(thrown), "the failure reached the uncaught exception handler");
            assertTrue(opener.only().isClosed(), "rule 2.13: the subscription is cancelled");
            subscriber.expectNothing();
        }
    }

    @Test
    void aRejectingExecutorIsOnErrorAfterOnSubscribe() throws Exception {
        String topic = newTopic(1);
        RejectedExecutionException rejected = new RejectedExecutionException("full");
        RecordingSubscriber subscriber = subscribe(fluvio.partitionConsumer(topic, 0)
                .publisher(Offset.beginning(), ConsumerConfig.builder().build(), task -> {
                    throw rejected;
                }));
        assertSame(rejected, subscriber.error(RejectedExecutionException.class));
        assertEquals(List.of(Thread.currentThread().getName(), Thread.currentThread().getName()),
                subscriber.signalThreads, "onSubscribe, then onError, on the subscribing thread");
    }

    @Test
    void nullArgumentsAreRefused() {
        PartitionConsumer consumer = fluvio.partitionConsumer("anything", 0);
        assertThrows(NullPointerException.class, () -> consumer.publisher(null));
        assertThrows(NullPointerException.class, () -> consumer.publisher(Offset.end(), null));
        assertThrows(NullPointerException.class, () -> consumer.publisher(Offset.end(), ConsumerConfig.builder().build(), null));
        assertThrows(NullPointerException.class, () -> consumer.publisher(Offset.end()).subscribe(null));
        assertThrows(NullPointerException.class, () -> fluvio.consumer("anything").publisher(null));
    }

    // ------------------------------------------------------------------------------------
    // Threads

    @Test
    void noThreadIsHeldWithoutDemand() throws Exception {
        String topic = topicWithRecords(1);
        try (CountingExecutor executor = new CountingExecutor()) {
            Opener opener = new Opener(() -> fluvio.partitionConsumer(topic, 0).stream(Offset.beginning()));
            RecordingSubscriber subscriber = subscribe(new ConsumerPublisher(opener, executor, FOREVER, Long.MAX_VALUE));
            ConsumerStream stream = opener.only();
            await(() -> executor.running.get() == 0, "the task that opened the stream ended");
            subscriber.expectNothing();
            assertEquals(0, executor.running.get(), "no thread without demand");
            assertFalse(stream.isClosed());
            subscriber.request(1);
            assertRecords(subscriber.records(1), 0);
            await(() -> executor.running.get() == 0, "no thread once the demand is met");
            subscriber.subscription.cancel();
            await(stream::isClosed, "cancel closed the stream");
        }
    }

    @Test
    void cancelClosesTheStreamAndWakesAWaitingRead() throws Exception {
        String topic = newTopic(1);
        try (CountingExecutor executor = new CountingExecutor()) {
            Opener opener = new Opener(() -> fluvio.partitionConsumer(topic, 0).stream(Offset.end()));
            RecordingSubscriber subscriber = subscribe(new ConsumerPublisher(opener, executor, FOREVER, Long.MAX_VALUE));
            subscriber.request(1);
            ConsumerStream stream = opener.only();
            await(() -> executor.running.get() == 1, "a read waits (up to an hour) for a record");
            subscriber.expectNothing();
            subscriber.subscription.cancel();
            assertTrue(stream.isClosed(), "cancel() closed the stream before returning");
            await(() -> executor.running.get() == 0, "the waiting read woke up and its task ended");
            subscriber.expectNothing();
            assertTrue(executor.uncaught.isEmpty(), () -> "nothing thrown: " + executor.uncaught);
        }
    }

    @Test
    void anIdleSubscriptionHandsItsThreadBackBetweenWaits() throws Exception {
        String topic = newTopic(1);
        try (CountingExecutor executor = new CountingExecutor()) {
            RecordingSubscriber subscriber = subscribe(new ConsumerPublisher(
                    () -> fluvio.partitionConsumer(topic, 0).stream(Offset.absolute(0)), executor, Duration.ofMillis(20),
                    Long.MAX_VALUE));
            subscriber.request(2);
            await(() -> executor.executions.get() >= 5, "the task submitted itself again after each wait");
            produce(topic, 0, 2);
            assertRecords(subscriber.records(2), 0);
            subscriber.subscription.cancel();
        }
    }

    @Test
    void anExecutorRunningTasksInPlaceNeitherNestsNorOverlaps() throws Exception {
        String topic = topicWithRecords(50);
        List<Integer> depths = new CopyOnWriteArrayList<>();
        RecordingSubscriber subscriber = new RecordingSubscriber() {
            @Override
            void onRecord(Record record) {
                depths.add(Thread.currentThread().getStackTrace().length);
                if (record.offset() < 40) {
                    subscription.request(1); // rule 3.3: no recursion
                }
            }
        };
        Flow.Publisher<Record> publisher = fluvio.partitionConsumer(topic, 0)
                .publisher(Offset.beginning(), ConsumerConfig.builder().build(), Runnable::run);
        publisher.subscribe(subscriber);
        subscriber.request(1);
        // Everything ran on this thread, inside request(1): 1 + 40 records.
        assertRecords(subscriber.records(41), 0);
        String self = Thread.currentThread().getName();
        assertTrue(subscriber.signalThreads.stream().allMatch(self::equals), subscriber.signalThreads::toString);
        subscriber.expectNothing();
        // 9 records are left: request(20) waits here, in slices, for more. Another thread
        // produces one after a few slices went by, then cancels.
        Thread other = new Thread(() -> {
            try {
                Thread.sleep(QUIET.toMillis());
                produce(topic, 50, 1);
                await(() -> depths.size() == 51, "the record produced later arrived");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                subscriber.subscription.cancel();
            }
        });
        other.start();
        subscriber.request(20);
        other.join();
        assertRecords(subscriber.records(10), 41);
        assertEquals(1, depths.stream().distinct().count(), "waiting slices did not nest: " + depths);
        subscriber.expectNothing();
        subscriber.assertSerial();
    }
}
