package com.infinyon.fluvio;

import java.util.concurrent.Flow;

/**
 * The Reactive Streams TCK against {@link TopicConsumer#publisher} (every partition of a
 * three-partition topic), unbounded like {@link ConsumerPublisherTckTest}.
 */
public class TopicConsumerPublisherTckTest extends ConsumerPublisherTckTest {
    @Override
    public Flow.Publisher<Record> createFlowPublisher(long elements) {
        return TckCluster.fluvio().consumer(TckCluster.TOPIC).publisher(Offset.beginning());
    }

    @Override
    public Flow.Publisher<Record> createFailedFlowPublisher() {
        return TckCluster.fluvio().consumer("no-such-topic").publisher(Offset.beginning());
    }
}
