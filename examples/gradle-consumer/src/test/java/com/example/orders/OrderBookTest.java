package com.example.orders;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.infinyon.fluvio.Fluvio;
import com.infinyon.fluvio.LocalCluster;
import com.infinyon.fluvio.junit5.FluvioLocalCluster;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Each test gets a fresh two-SPU cluster. */
@FluvioLocalCluster(spus = 2, lifecycle = FluvioLocalCluster.Lifecycle.PER_TEST)
class OrderBookTest {
    @Test
    void countsOrdersPerCustomerAcrossPartitions(Fluvio fluvio) {
        fluvio.admin().createTopic("orders", 2, 1);
        OrderBook book = new OrderBook(fluvio, "orders");
        book.place("ada", "tea");
        book.place("grace", "coffee");
        book.place("ada", "cake");
        assertEquals(Map.of("ada", 2, "grace", 1), book.countFirst(3));
    }

    @Test
    void replicatesOnBothSpus(LocalCluster cluster, Fluvio fluvio) {
        assertEquals(2, cluster.spuIds().size());
        fluvio.admin().createTopic("orders", 1, 2);    // a fresh cluster: no topic of the other test
        new OrderBook(fluvio, "orders").place("linus", "kernel");
        assertEquals(2, fluvio.admin().listPartitions("orders").get(0).spec().replicas().size());
    }
}
