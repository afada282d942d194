package com.infinyon.fluvio;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * Programming errors: null and invalid arguments of every public method fail with
 * {@link NullPointerException} or {@link IllegalArgumentException} before any native call
 * (shown by calling through objects that are already closed: a native call would fail with
 * {@link IllegalStateException} instead); calls on closed objects fail with
 * {@link IllegalStateException}; closing twice is harmless; closing a client fails its
 * producers and streams with {@code CLOSED}; a partitioner choosing a partition that does not
 * exist is refused.
 */
class BadInputTest extends ClusterTestBase {
    private static final byte[] VALUE = "v".getBytes(StandardCharsets.UTF_8);

    private static void npe(Executable call) {
        assertThrows(NullPointerException.class, call);
    }

    private static void iae(Executable call) {
        assertThrows(IllegalArgumentException.class, call);
    }

    private static void ise(Executable call) {
        assertThrows(IllegalStateException.class, call);
    }

    private static FluvioException closedCode(Executable call) {
        FluvioException e = assertThrows(FluvioException.class, call);
        assertEquals(FluvioException.Code.CLOSED, e.code(), () -> "unexpected failure: " + e);
        return e;
    }

    @Test
    void connectRejectsBadArguments() {
        npe(() -> Fluvio.connect((String) null));
        npe(() -> Fluvio.connect((FluvioConfig) null));
        npe(() -> Fluvio.connectWithProfile((String) null));
        npe(() -> Fluvio.connectWithProfile((Path) null, "local"));
        npe(() -> Fluvio.connectWithProfile((Path) null, null));
        // Refused in Java (the native side would report FluvioException CONFIG instead).
        for (String endpoint : Arrays.asList("nohost", "host:99999", "host:0", "host:-1", "host:", ":9003", "host:abc",
                "", "127.0.0.1")) {
            iae(() -> Fluvio.connect(endpoint));
            iae(() -> FluvioConfig.builder().endpoint(endpoint));
        }
    }

    @Test
    void buildersRejectBadArguments() {
        FluvioConfig.Builder client = FluvioConfig.builder();
        npe(() -> client.endpoint(null));
        npe(() -> client.clientId(null));
        npe(() -> client.connectTimeout(null));
        iae(() -> client.connectTimeout(Duration.ZERO));
        iae(() -> client.connectTimeout(Duration.ofMillis(-1)));
        npe(() -> client.requestTimeout(null));
        iae(() -> client.requestTimeout(Duration.ZERO));
        iae(() -> client.requestTimeout(Duration.ofSeconds(-5)));
        // Native code counts whole milliseconds: less than one is refused here, not rounded to zero there.
        iae(() -> client.connectTimeout(Duration.ofNanos(1)));
        iae(() -> client.requestTimeout(Duration.ofNanos(999_999)));
        ise(client::build);

        TopicConfig.Builder topic = TopicConfig.builder();
        iae(() -> topic.partitions(0));
        iae(() -> topic.partitions(-1));
        iae(() -> topic.replicationFactor(0));
        npe(() -> topic.retention(null));
        iae(() -> topic.retention(Duration.ZERO));
        iae(() -> topic.retention(Duration.ofSeconds(-1)));
        iae(() -> topic.segmentSize(0));
        iae(() -> topic.segmentSize(1L << 32));
        iae(() -> topic.maxPartitionSize(0));
        iae(() -> topic.maxPartitionSize(-1));
        npe(() -> topic.compression(null));

        TopicProducerConfig.Builder producer = TopicProducerConfig.builder();
        iae(() -> producer.batchSize(0));
        iae(() -> producer.batchSize(-1));
        npe(() -> producer.linger(null));
        iae(() -> producer.linger(Duration.ofMillis(-1)));
        npe(() -> producer.compression(null));
        npe(() -> producer.partitioner(null));
        iae(() -> producer.maxRequestSize(63));
        iae(() -> producer.batchQueueSize(0));
        npe(() -> producer.maxBlock(null));
        iae(() -> producer.maxBlock(Duration.ofMillis(-1)));
        npe(() -> producer.timeout(null));
        iae(() -> producer.timeout(Duration.ZERO));
        iae(() -> producer.timeout(Duration.ofNanos(1)));
        iae(() -> producer.timeout(Duration.ofMillis(Integer.MAX_VALUE + 1L)));
        iae(() -> producer.timeout(Duration.ofSeconds(Long.MAX_VALUE)));
        npe(() -> producer.deliverySemantic(null));
        iae(() -> DeliverySemantic.atLeastOnce(-1, Duration.ofSeconds(1)));
        iae(() -> DeliverySemantic.atLeastOnce(1, Duration.ZERO));
        npe(() -> DeliverySemantic.atLeastOnce(1, null));
        iae(() -> DeliverySemantic.atLeastOnce(1, Duration.ofNanos(1)));

        ConsumerConfig.Builder consumer = ConsumerConfig.builder();
        iae(() -> consumer.maxBytes(0));
        iae(() -> consumer.maxBytes(-1));
        npe(() -> consumer.isolation(null));
        npe(() -> consumer.resumeTimeout(null));
        iae(() -> consumer.resumeTimeout(Duration.ZERO));
        iae(() -> consumer.resumeTimeout(Duration.ofMillis(-1)));
        iae(() -> consumer.resumeTimeout(Duration.ofNanos(999_999)));

        iae(() -> Offset.absolute(-1));
        iae(() -> Offset.fromBeginning(-1));
        iae(() -> Offset.fromEnd(-1));

        npe(() -> KeyValue.of("key", (String) null));
        npe(() -> KeyValue.of((byte[]) null, (byte[]) null));

        iae(() -> LocalCluster.builder().spus(0));
        iae(() -> LocalCluster.builder().spus(65));
        npe(() -> LocalCluster.builder().baseDir(null));
    }

    /**
     * Every argument check of the client's objects, run against open and closed objects alike.
     * The admin and consumer objects were made while the client was open: a closed client
     * refuses to make them.
     */
    private static void clientChecks(Fluvio client, FluvioAdmin admin, PartitionConsumer partition,
            TopicConsumer consumer, String topic, TopicProducer producer, ConsumerStream stream) {
        npe(() -> client.topicProducer(null));
        iae(() -> client.topicProducer(""));
        npe(() -> client.topicProducer(topic, null));
        npe(() -> client.topicProducer(null, TopicProducerConfig.builder().build()));
        npe(() -> client.partitionConsumer(null, 0));
        iae(() -> client.partitionConsumer("", 0));
        iae(() -> client.partitionConsumer(topic, -1));
        npe(() -> client.consumer(null));
        iae(() -> client.consumer(""));

        npe(() -> admin.createTopic(null, 1, 1));
        iae(() -> admin.createTopic("fine", 0, 1));
        iae(() -> admin.createTopic("fine", 1, 0));
        npe(() -> admin.createTopic(null, TopicConfig.builder().build()));
        npe(() -> admin.createTopic("fine", null));
        npe(() -> admin.deleteTopic(null));
        npe(() -> admin.topic(null));
        npe(() -> admin.listPartitions(null));

        npe(() -> partition.stream(null));
        npe(() -> partition.stream(Offset.beginning(), null));
        npe(() -> partition.fetch(null));
        npe(() -> partition.fetch(Offset.beginning(), null));
        npe(() -> consumer.stream(null));
        npe(() -> consumer.stream(Offset.end(), null));

        npe(() -> producer.send("key", (String) null));
        npe(() -> producer.send((String) null, (String) null));
        npe(() -> producer.send((byte[]) null, (byte[]) null));
        npe(() -> producer.send(VALUE, null));
        npe(() -> producer.sendAll(null));
        npe(() -> producer.sendAll(Collections.singletonList(null)));

        npe(() -> stream.next(null));
        iae(() -> stream.next(Duration.ofMillis(-1)));
    }

    @Test
    void clientObjectsRejectBadArgumentsBeforeAnyNativeCall() {
        String topic = newTopic(1);
        Fluvio client = cluster.connect();
        TopicProducer producer = client.topicProducer(topic);
        PartitionConsumerStream stream = client.partitionConsumer(topic, 0).stream(Offset.beginning());
        ProduceOutput output = producer.send(null, "x");
        producer.flush();
        npe(() -> output.get(null));
        iae(() -> output.get(Duration.ofMillis(-1)));

        FluvioAdmin admin = client.admin();
        PartitionConsumer partition = client.partitionConsumer(topic, 0);
        TopicConsumer consumer = client.consumer(topic);
        clientChecks(client, admin, partition, consumer, topic, producer, stream);
        stream.close();
        producer.close();
        client.close();
        clientChecks(client, admin, partition, consumer, topic, producer, stream);
    }

    @Test
    void closedObjectsThrowIllegalStateAndCloseTwiceHarmlessly() {
        String topic = newTopic(2);
        Fluvio client = cluster.connect();
        FluvioAdmin admin = client.admin();
        PartitionConsumer partition = client.partitionConsumer(topic, 0);
        TopicProducer producer = client.topicProducer(topic);
        for (int i = 0; i < 6; i++) {
            producer.send("k" + i, "v" + i);
        }
        producer.flush();
        PartitionConsumerStream partitionStream = client.partitionConsumer(topic, 0).stream(Offset.beginning());
        ConsumerStream topicStream = client.consumer(topic).stream(Offset.beginning());
        // Both streams have records buffered past the first one.
        partitionStream.next();
        topicStream.next();

        producer.close();
        assertTrue(producer.isClosed());
        ise(() -> producer.send("k", "v"));
        ise(() -> producer.send(null, VALUE));
        ise(() -> producer.sendAll(Collections.singletonList(KeyValue.of("k", "v"))));
        ise(producer::flush);
        assertDoesNotThrow(() -> producer.close());

        for (ConsumerStream stream : Arrays.asList(partitionStream, topicStream)) {
            stream.close();
            assertTrue(stream.isClosed());
            ise(stream::next);
            ise(() -> stream.next(Duration.ofMillis(10)));
            ise(stream::hasNext);
            assertDoesNotThrow(() -> stream.close());
        }

        client.close();
        assertTrue(client.isClosed());
        ise(client::platformVersion);
        ise(() -> client.topicProducer(topic));
        ise(() -> client.partitionConsumer(topic, 0).stream(Offset.beginning()));
        ise(() -> client.partitionConsumer(topic, 0).fetch(Offset.beginning()));
        ise(() -> client.consumer(topic).stream(Offset.beginning()));
        // Objects that hold nothing of their own are refused too, as the README says.
        ise(client::admin);
        ise(() -> client.partitionConsumer(topic, 0));
        ise(() -> client.consumer(topic));
        ise(() -> partition.stream(Offset.beginning()));
        ise(() -> partition.fetch(Offset.beginning()));
        ise(admin::listTopics);
        ise(() -> admin.topic(topic));
        ise(() -> admin.createTopic("after-close", 1, 1));
        ise(() -> admin.deleteTopic(topic));
        ise(() -> admin.listPartitions(topic));
        ise(admin::listPartitions);
        ise(admin::listSpus);
        assertDoesNotThrow(client::close);

        LocalCluster small = LocalCluster.start();
        assertTrue(small.endpoint().startsWith("127.0.0.1:"));
        small.close();
        assertTrue(small.isClosed());
        ise(small::connect);
        ise(small::endpoint);
        assertDoesNotThrow(small::close);
    }

    @Test
    void closingTheClientFailsItsProducersAndStreamsWithClosed() throws Exception {
        String topic = newTopic(1);
        Fluvio client = cluster.connect();
        TopicProducer producer = client.topicProducer(topic);
        producer.send(null, "before").get(Duration.ofSeconds(10));
        PartitionConsumerStream partitionStream = client.partitionConsumer(topic, 0).stream(Offset.end());
        ConsumerStream topicStream = client.consumer(topic).stream(Offset.end());
        ConsumerStream blockedStream = client.consumer(topic).stream(Offset.end());
        // A thread blocked waiting for records is woken by closing the client.
        CompletableFuture<Throwable> blocked = CompletableFuture.supplyAsync(() -> {
            try {
                blockedStream.next();
                return null;
            } catch (Throwable t) {
                return t;
            }
        });
        Thread.sleep(200);
        assertFalse(blocked.isDone(), "waiting for a record");

        client.close();

        Throwable woken;
        try {
            woken = blocked.get(10, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            woken = e.getCause();
        }
        assertTrue(woken instanceof FluvioException, "woken with " + woken);
        assertEquals(FluvioException.Code.CLOSED, ((FluvioException) woken).code(), woken.toString());

        closedCode(() -> {
            producer.send(null, "after");
            producer.flush();
        });
        // The failure is reported once; the stream has ended afterwards.
        for (ConsumerStream stream : Arrays.asList(partitionStream, topicStream)) {
            closedCode(() -> stream.next(Duration.ofSeconds(5)));
        }
        for (ConsumerStream stream : Arrays.asList(partitionStream, topicStream, blockedStream)) {
            assertNull(stream.next(Duration.ofMillis(100)));
            assertTrue(stream.isEnded());
            assertFalse(stream.hasNext());
            assertThrows(NoSuchElementException.class, stream::next);
        }
        List<AutoCloseable> closeables = Arrays.asList(producer, partitionStream, topicStream, blockedStream);
        for (AutoCloseable closeable : closeables) {
            assertDoesNotThrow(closeable::close);
            assertDoesNotThrow(closeable::close);
        }
        ise(() -> producer.send(null, "closed"));
    }

    @Test
    void closingAProducerAfterItsClientIsHarmlessOnceEverythingWasAcknowledged() {
        String topic = newTopic(1);
        // Repeated: the record's acknowledgement races with the client's close.
        for (int i = 0; i < 30; i++) {
            Fluvio client = cluster.connect();
            TopicProducer producer = client.topicProducer(topic);
            producer.send(null, "acknowledged").get(Duration.ofSeconds(10));
            client.close();
            assertDoesNotThrow(() -> producer.close(), "iteration " + i);
        }
        // A record still queued when the client closes is reported as failed, by its output
        // (close() itself never throws a delivery failure).
        Fluvio client = cluster.connect();
        TopicProducer producer =
                client.topicProducer(topic, TopicProducerConfig.builder().linger(Duration.ofMinutes(1)).build());
        ProduceOutput pending = producer.send(null, "pending");
        client.close();
        assertDoesNotThrow(() -> producer.close());
        closedCode(() -> pending.get(Duration.ofSeconds(10)));
        assertDoesNotThrow(() -> producer.close());
    }

    @Test
    void extremeValidValuesAreAccepted() {
        Duration huge = Duration.ofSeconds(Long.MAX_VALUE);
        String topic = newTopic(1);
        try (Fluvio client = Fluvio.connect(FluvioConfig.builder().endpoint(cluster.endpoint())
                .connectTimeout(huge).requestTimeout(huge).build());
                TopicProducer producer = client.topicProducer(topic, TopicProducerConfig.builder()
                        .linger(huge)
                        .maxBlock(huge)
                        .timeout(Duration.ofMillis(Integer.MAX_VALUE))
                        .deliverySemantic(DeliverySemantic.atLeastOnce(Integer.MAX_VALUE, huge))
                        .build())) {
            ProduceOutput output = producer.send(null, "x");
            producer.flush();
            assertEquals(0, output.get(huge).offset());
            PartitionConsumer consumer = client.partitionConsumer(topic, 0);
            try (PartitionConsumerStream stream =
                    consumer.stream(Offset.beginning(), ConsumerConfig.builder().resumeTimeout(huge).build())) {
                assertEquals("x", stream.next(huge).valueString());
            }
            // Past the end: the error a stream from there gets, whatever the isolation.
            ConsumerConfig committed = ConsumerConfig.builder().isolation(Isolation.READ_COMMITTED).build();
            for (ConsumerConfig config : Arrays.asList(ConsumerConfig.defaults(), committed)) {
                FluvioException pastEnd = assertThrows(FluvioException.class,
                        () -> consumer.fetch(Offset.absolute(Long.MAX_VALUE), config));
                assertEquals(FluvioException.Code.OFFSET_OUT_OF_RANGE, pastEnd.code());
                assertTrue(consumer.fetch(Offset.fromBeginning(Long.MAX_VALUE), config).isEmpty(), "clamped to the end");
            }
            assertEquals(0, consumer.fetch(Offset.fromEnd(Long.MAX_VALUE)).get(0).offset());
        }
    }

    @Test
    void partitionerChoosingAMissingPartitionIsRefused() {
        String topic = newTopic(2);
        Partitioner partitioner = (t, key, value, count) -> {
            String k = key == null ? "" : new String(key, StandardCharsets.UTF_8);
            return "too-high".equals(k) ? count : "negative".equals(k) ? -1 : 1;
        };
        try (TopicProducer producer = fluvio.topicProducer(topic,
                TopicProducerConfig.builder().partitioner(partitioner).build())) {
            iae(() -> producer.send("too-high", "x"));
            iae(() -> producer.send("negative", "x"));
            iae(() -> producer.sendAll(Collections.singletonList(KeyValue.of("too-high", "x"))));
            // Refused before any record of the list is sent: "fine" below is the first stored.
            iae(() -> producer.sendAll(Arrays.asList(KeyValue.of("fine", "x"), KeyValue.of("too-high", "x"))));
            // The producer keeps working for records with a valid partition.
            RecordMetadata stored = producer.send("fine", "x").get(Duration.ofSeconds(10));
            assertEquals(1, stored.partition());
            assertEquals(0, stored.offset());
        }
    }
}
