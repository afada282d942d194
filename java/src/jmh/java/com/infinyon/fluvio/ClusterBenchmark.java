package com.infinyon.fluvio;

/**
 * A benchmark against an embedded cluster in the benchmark JVM (1 SPU) and a client of it,
 * started and stopped by the subclass's trial set-up and tear-down.
 */
public abstract class ClusterBenchmark extends JniBenchmark {
    LocalCluster cluster;
    Fluvio fluvio;

    void startCluster() {
        cluster = LocalCluster.start();
        fluvio = cluster.connect();
    }

    void stopCluster() {
        fluvio.close();
        cluster.close();
    }
}
