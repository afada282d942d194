package com.infinyon.fluvio;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * {@link ConsumerStream#next()} over 100-byte records already stored in an embedded cluster in
 * the same JVM (1 SPU, 1 partition), per record: most calls return a record of the batch the
 * previous crossing fetched (a {@code Record} view over its buffer), one in many crosses into
 * Rust for the next fetched chunk. The topic holds {@link #RECORDS} records; at its end the
 * stream is reopened from the beginning (once per {@code RECORDS} calls, included).
 */
@State(Scope.Benchmark)
public class ConsumerBenchmark extends ClusterBenchmark {
    static final int RECORDS = 1_000_000;

    private ConsumerStream stream;

    @Setup(Level.Trial)
    public void fillTopic() {
        startCluster();
        fluvio.admin().createTopic("bench", 1, 1);
        byte[] value = new byte[100];
        try (TopicProducer producer = fluvio.topicProducer("bench")) {
            for (int i = 0; i < RECORDS; i++) {
                producer.send(null, value);
            }
            producer.flush();
        }
        stream = open();
    }

    private ConsumerStream open() {
        return fluvio.partitionConsumer("bench", 0).stream(Offset.beginning());
    }

    @TearDown(Level.Trial)
    public void stop() {
        stream.close();
        stopCluster();
    }

    @Benchmark
    public Record next() {
        Record record = stream.next();
        if (record.offset() == RECORDS - 1) {
            stream.close();
            stream = open();
        }
        return record;
    }
}
