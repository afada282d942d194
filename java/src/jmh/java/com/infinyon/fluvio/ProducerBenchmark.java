package com.infinyon.fluvio;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.infra.Blackhole;

/**
 * {@link TopicProducer#send(byte[], byte[])} and {@link TopicProducer#sendAll(List)} of 100-byte
 * keyless records, per record: the calls' own cost (one crossing into Rust per record, the copy
 * into the partition's batch, a {@link ProduceOutput}), with room in the producer's queue. Each
 * invocation queues {@link #RECORDS_PER_INVOCATION} records; the flush after it, which waits for
 * the acknowledgements, is not timed, so {@code send} never waits for queue space here (the
 * sustained rate with the cluster is what {@code scripts/bench} measures). Full batches
 * leave while the records are queued, as in use: the client's I/O threads and the embedded
 * cluster (same JVM, 1 SPU, 1 partition; batch 16384 B, linger 10 ms) share the cores. Each
 * iteration writes into a fresh topic, deleted after it, so the disk does not fill up.
 */
@State(Scope.Benchmark)
public class ProducerBenchmark extends ClusterBenchmark {
    static final int RECORD_SIZE = 100;
    static final int SEND_ALL_RECORDS = 100;
    static final int RECORDS_PER_INVOCATION = 10_000;

    private String topic;
    private TopicProducer producer;
    private final byte[] value = new byte[RECORD_SIZE];
    private List<KeyValue> slice;

    @Setup(Level.Trial)
    public void start() {
        startCluster();
        Arrays.fill(value, (byte) 'x');
        slice = new ArrayList<>(SEND_ALL_RECORDS);
        for (int i = 0; i < SEND_ALL_RECORDS; i++) {
            slice.add(KeyValue.of(null, value));
        }
    }

    @Setup(Level.Iteration)
    public void openProducer() {
        topic = "bench-" + UUID.randomUUID().toString().substring(0, 8);
        fluvio.admin().createTopic(topic, 1, 1);
        producer = fluvio.topicProducer(topic, TopicProducerConfig.builder()
                .linger(java.time.Duration.ofMillis(10)).build());
    }

    @TearDown(Level.Invocation)
    public void flush() {
        producer.flush();
    }

    @TearDown(Level.Iteration)
    public void closeProducer() {
        producer.close();
        fluvio.admin().deleteTopic(topic);
    }

    @TearDown(Level.Trial)
    public void stop() {
        stopCluster();
    }

    @Benchmark
    @OperationsPerInvocation(RECORDS_PER_INVOCATION)
    public void send(Blackhole outputs) {
        for (int i = 0; i < RECORDS_PER_INVOCATION; i++) {
            outputs.consume(producer.send(null, value));
        }
    }

    @Benchmark
    @OperationsPerInvocation(RECORDS_PER_INVOCATION)
    public void sendAll(Blackhole outputs) {
        for (int i = 0; i < RECORDS_PER_INVOCATION / SEND_ALL_RECORDS; i++) {
            outputs.consume(producer.sendAll(slice));
        }
    }
}
