package com.infinyon.fluvio;

import java.util.concurrent.Flow;

/**
 * The Reactive Streams TCK rules that need {@code onComplete}, against the same drain loop as
 * {@link ConsumerPublisherTckTest} given a record limit (package-private, only tests set one):
 * after {@code elements} records the subscription completes and its stream is closed. Among
 * them the stochastic check that signals never overlap (rule 1.3).
 */
public class BoundedConsumerPublisherTckTest extends ConsumerPublisherTckTest {
    @Override
    public Flow.Publisher<Record> createFlowPublisher(long elements) {
        return ((ConsumerPublisher) super.createFlowPublisher(elements)).limit(elements);
    }

    @Override
    public long maxElementsFromPublisher() {
        return TckCluster.RECORDS;
    }
}
