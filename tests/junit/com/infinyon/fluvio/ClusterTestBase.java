package com.infinyon.fluvio;

import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;

/**
 * One embedded cluster and one client per test class: the pattern the README recommends for
 * users' own JUnit tests.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class ClusterTestBase {
    LocalCluster cluster;
    Fluvio fluvio;

    /** Number of SPUs of the class's cluster. */
    int spus() {
        return 1;
    }

    /** The replication policy of the class's cluster (real Fluvio's rules unless overridden). */
    ReplicationPolicy replicationPolicy() {
        return ReplicationPolicy.FLUVIO;
    }

    @BeforeAll
    void startCluster() {
        cluster = LocalCluster.builder().spus(spus()).replicationPolicy(replicationPolicy()).build().start();
        fluvio = cluster.connect();
    }

    @AfterAll
    void stopCluster() {
        if (fluvio != null) {
            fluvio.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    /** A new topic with a unique name. */
    String newTopic(int partitions) {
        String name = "t-" + UUID.randomUUID().toString().substring(0, 8);
        fluvio.admin().createTopic(name, partitions, 1);
        return name;
    }
}
