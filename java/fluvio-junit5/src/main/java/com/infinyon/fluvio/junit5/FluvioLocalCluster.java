package com.infinyon.fluvio.junit5;

import com.infinyon.fluvio.ReplicationPolicy;
import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Runs the annotated tests against an embedded Fluvio cluster ({@link com.infinyon.fluvio.LocalCluster})
 * started by {@link FluvioLocalClusterExtension}: on 127.0.0.1 ports chosen by the operating
 * system, with its data in a temporary directory deleted afterwards.
 *
 * <pre>{@code
 * @FluvioLocalCluster
 * class OrdersTest {
 *     @Test
 *     void roundTrip(Fluvio fluvio) {
 *         fluvio.admin().createTopic("orders", 1, 1);
 *         ...
 *     }
 * }
 * }</pre>
 *
 * <p>On a test class, one cluster serves every test of the class ({@link Lifecycle#PER_CLASS},
 * the default) or each test gets a fresh one ({@link Lifecycle#PER_TEST}). On a test method,
 * that test gets a cluster of its own with the method's settings, whatever the class has.
 *
 * <p>Test methods, lifecycle methods and constructors may take parameters of these types:
 * <ul>
 *   <li>{@link com.infinyon.fluvio.LocalCluster}: the cluster, e.g. to stop and start SPUs;</li>
 *   <li>{@link com.infinyon.fluvio.Fluvio}: a client connected to it, one per cluster, closed
 *       by the extension;</li>
 *   <li>{@link com.infinyon.fluvio.FluvioConfig}: how to connect (endpoint and TLS), for the
 *       code under test to make its own clients;</li>
 *   <li>{@link com.infinyon.fluvio.TlsConfig}: the client TLS settings the cluster accepts
 *       ({@code TlsConfig.disabled()} without TLS).</li>
 * </ul>
 * With {@link Lifecycle#PER_TEST} there is no cluster before each test starts: a
 * {@code @BeforeAll} method or a constructor asking for one fails with a
 * {@link org.junit.jupiter.api.extension.ParameterResolutionException}.
 *
 * <p>After the tests (class or test, as the lifecycle says), the client and the cluster are
 * closed and the data directory is deleted. A cluster that cannot start (e.g. {@code spus = 0})
 * fails the tests that needed it with an
 * {@link org.junit.jupiter.api.extension.ExtensionConfigurationException} naming the
 * annotation, its cause attached.
 *
 * <p>Each start publishes a report entry ({@code fluvio.cluster}) with the endpoint and data
 * directory, shown by IDEs and build tools.
 */
@Target({ElementType.TYPE, ElementType.METHOD})
@Retention(RetentionPolicy.RUNTIME)
@Documented
@Inherited
@ExtendWith(FluvioLocalClusterExtension.class)
public @interface FluvioLocalCluster {
    /**
     * Number of SPUs (ids 5001, 5002, ...), between 1 and 64: topics may have a replication
     * factor up to it.
     *
     * @return the number of SPUs
     */
    int spus() default 1;

    /**
     * In-sync replicas a partition needs to commit records, at most {@link #spus()} (see
     * {@link com.infinyon.fluvio.LocalCluster.Builder#minLiveReplicas(int)}).
     *
     * @return the minimum number of live replicas
     */
    int minLiveReplicas() default 1;

    /**
     * When the cluster commits records and whom it elects when a leader is lost (see
     * {@link com.infinyon.fluvio.ReplicationPolicy}): real Fluvio's rules by default, so that
     * the tests predict what a real cluster does; {@code IN_SYNC} for the stronger guarantees
     * of an in-sync replica set.
     *
     * @return the replication policy
     */
    ReplicationPolicy replicationPolicy() default ReplicationPolicy.FLUVIO;

    /**
     * Transport security of the cluster's public ports. The certificates are made for the run
     * (with the JDK's {@code keytool}) for the domain {@code fluvio.test}; the injected
     * {@link com.infinyon.fluvio.Fluvio}, {@link com.infinyon.fluvio.FluvioConfig} and
     * {@link com.infinyon.fluvio.TlsConfig} carry what a client needs.
     *
     * @return the TLS mode
     */
    Tls tls() default Tls.NONE;

    /**
     * Whether the tests of a class share one cluster or each gets its own. Ignored on a test
     * method, which always gets its own.
     *
     * @return the lifecycle
     */
    Lifecycle lifecycle() default Lifecycle.PER_CLASS;

    /** Transport security of the cluster. */
    enum Tls {
        /** Plain TCP. */
        NONE,
        /** TLS: clients verify the cluster's certificate against a CA made for the run. */
        VERIFIED,
        /** Mutual TLS: clients also present a certificate from that CA; others are refused. */
        MUTUAL
    }

    /** How long a cluster lives. */
    enum Lifecycle {
        /** One cluster for all the tests of the class, started before its {@code @BeforeAll} methods. */
        PER_CLASS,
        /** A new cluster for each test, started before its {@code @BeforeEach} methods. */
        PER_TEST
    }
}
