package com.infinyon.fluvio;

/**
 * The embedded cluster the TCK classes share: started on first use, closed by {@link RunTck}.
 * It holds a one-partition topic and a three-partition topic with {@link #RECORDS} records
 * each, more than any TCK rule reads.
 */
final class TckCluster {
    static final int RECORDS = 1000;
    static final String PARTITION_TOPIC = "tck-one-partition";
    static final String TOPIC = "tck-three-partitions";

    private static LocalCluster cluster;
    private static Fluvio fluvio;

    private TckCluster() {}

    /** The client of the shared cluster, started with its topics on first use. */
    static synchronized Fluvio fluvio() {
        if (fluvio == null) {
            cluster = LocalCluster.start();
            fluvio = cluster.connect();
            fill(PARTITION_TOPIC, 1);
            fill(TOPIC, 3);
        }
        return fluvio;
    }

    private static void fill(String topic, int partitions) {
        fluvio.admin().createTopic(topic, partitions, 1);
        try (TopicProducer producer = fluvio.topicProducer(topic)) {
            for (int i = 0; i < RECORDS; i++) {
                producer.send("key-" + i, "record-" + i);
            }
            producer.flush();
        }
    }

    static synchronized void close() {
        if (fluvio != null) {
            fluvio.close();
            cluster.close();
            fluvio = null;
            cluster = null;
        }
    }
}
