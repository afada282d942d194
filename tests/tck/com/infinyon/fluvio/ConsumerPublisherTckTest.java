package com.infinyon.fluvio;

import java.util.concurrent.Flow;
import org.reactivestreams.tck.TestEnvironment;
import org.reactivestreams.tck.flow.FlowPublisherVerification;

/**
 * The Reactive Streams TCK (rules for publishers) against {@link PartitionConsumer#publisher},
 * exactly as users get it. A consumer's stream never completes, so this publisher declares
 * itself unbounded ({@link #maxElementsFromPublisher()} is {@code Long.MAX_VALUE}) and the TCK
 * skips the rules that need {@code onComplete}; {@link BoundedConsumerPublisherTckTest} covers
 * those. The failed publisher reads a topic that does not exist ({@code onError} with
 * {@code TOPIC_NOT_FOUND}, without any request).
 */
public class ConsumerPublisherTckTest extends FlowPublisherVerification<Record> {
    /** Timeout for expected signals; "no signal" is watched for {@link #NO_SIGNAL_MILLIS}. */
    static final long TIMEOUT_MILLIS = 5_000;
    static final long NO_SIGNAL_MILLIS = 100;
    /** How long the TCK waits for the publisher to let go of a cancelled subscriber (rule 3.13). */
    static final long GC_TIMEOUT_MILLIS = 2_000;

    public ConsumerPublisherTckTest() {
        super(new TestEnvironment(TIMEOUT_MILLIS, NO_SIGNAL_MILLIS), GC_TIMEOUT_MILLIS);
    }

    @Override
    public Flow.Publisher<Record> createFlowPublisher(long elements) {
        return TckCluster.fluvio().partitionConsumer(TckCluster.PARTITION_TOPIC, 0).publisher(Offset.beginning());
    }

    @Override
    public Flow.Publisher<Record> createFailedFlowPublisher() {
        return TckCluster.fluvio().partitionConsumer("no-such-topic", 0).publisher(Offset.beginning());
    }

    @Override
    public long maxElementsFromPublisher() {
        return publisherUnableToSignalOnComplete();
    }
}
