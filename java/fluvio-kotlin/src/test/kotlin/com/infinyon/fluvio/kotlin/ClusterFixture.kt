package com.infinyon.fluvio.kotlin

import com.infinyon.fluvio.Fluvio
import com.infinyon.fluvio.LocalCluster
import java.util.UUID
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.BeforeAll
import org.junit.jupiter.api.TestInstance

/** One embedded cluster and one client per test class. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class ClusterFixture {
    lateinit var cluster: LocalCluster
    lateinit var fluvio: Fluvio

    @BeforeAll
    fun startCluster() {
        cluster = LocalCluster.start()
        fluvio = cluster.connect()
    }

    @AfterAll
    fun stopCluster() {
        if (this::fluvio.isInitialized) fluvio.close()
        if (this::cluster.isInitialized) cluster.close()
    }

    /** A new topic with a unique name. */
    fun newTopic(partitions: Int = 1): String {
        val name = "t-" + UUID.randomUUID().toString().substring(0, 8)
        fluvio.admin().createTopic(name, partitions, 1)
        return name
    }

    /** Sends unkeyed records "v<from>" ... "v<from + count - 1>" and waits until they are stored. */
    fun produce(topic: String, from: Int, count: Int) {
        fluvio.withProducer(topic) { producer -> (from until from + count).forEach { producer.send("v$it") } }
    }
}
