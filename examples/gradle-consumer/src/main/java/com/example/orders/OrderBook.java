package com.example.orders;

import com.infinyon.fluvio.ConsumerStream;
import com.infinyon.fluvio.Fluvio;
import com.infinyon.fluvio.Offset;
import com.infinyon.fluvio.Record;
import com.infinyon.fluvio.TopicProducer;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;

/** Orders as records of a topic keyed by customer; the book counts them per customer. */
public final class OrderBook {
    private final Fluvio fluvio;
    private final String topic;

    public OrderBook(Fluvio fluvio, String topic) {
        this.fluvio = fluvio;
        this.topic = topic;
    }

    public void place(String customer, String item) {
        try (TopicProducer producer = fluvio.topicProducer(topic)) {
            producer.send(customer, item);
        }
    }

    /** Orders per customer among the first {@code count} orders of every partition. */
    public Map<String, Integer> countFirst(int count) {
        Map<String, Integer> perCustomer = new TreeMap<>();
        try (ConsumerStream stream = fluvio.consumer(topic).stream(Offset.beginning())) {
            for (int i = 0; i < count; i++) {
                Record order = stream.next(Duration.ofSeconds(10));
                if (order == null) {
                    break;
                }
                perCustomer.merge(String.valueOf(order.keyString()), 1, Integer::sum);
            }
        }
        return perCustomer;
    }
}
