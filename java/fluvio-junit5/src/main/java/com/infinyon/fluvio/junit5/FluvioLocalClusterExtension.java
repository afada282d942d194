package com.infinyon.fluvio.junit5;

import com.infinyon.fluvio.Fluvio;
import com.infinyon.fluvio.FluvioConfig;
import com.infinyon.fluvio.LocalCluster;
import com.infinyon.fluvio.TlsConfig;
import java.lang.reflect.AnnotatedElement;
import java.util.Optional;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.junit.platform.commons.support.AnnotationSupport;

/**
 * The extension behind {@link FluvioLocalCluster}: starts and stops embedded clusters and
 * resolves {@link LocalCluster}, {@link Fluvio}, {@link FluvioConfig} and {@link TlsConfig}
 * parameters. Use the annotation rather than registering this class yourself.
 *
 * <p>A per-class cluster lives in the class's extension context, a per-test one in the test's;
 * parameters take the nearest. Clusters are closed by the matching after-callback (not by the
 * store), so this works with every JUnit 5 release and with JUnit 6.
 *
 * <p>Thread-safety: stateless; clusters and clients are thread-safe, so tests running in
 * parallel may share a per-class cluster.
 */
public final class FluvioLocalClusterExtension
        implements BeforeAllCallback, AfterAllCallback, BeforeEachCallback, AfterEachCallback, ParameterResolver {
    private static final ExtensionContext.Namespace NAMESPACE =
            ExtensionContext.Namespace.create(FluvioLocalClusterExtension.class);
    private static final String CLUSTER = "cluster";

    /** Creates the extension (JUnit does, for {@link FluvioLocalCluster}). */
    public FluvioLocalClusterExtension() {}

    @Override
    public void beforeAll(ExtensionContext context) {
        Class<?> testClass = context.getRequiredTestClass();
        Optional<FluvioLocalCluster> settings = AnnotationSupport.findAnnotation(testClass, FluvioLocalCluster.class);
        if (settings.isPresent() && settings.get().lifecycle() == FluvioLocalCluster.Lifecycle.PER_CLASS) {
            start(context, settings.get(), testClass);
        }
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        Optional<FluvioLocalCluster> onMethod =
                AnnotationSupport.findAnnotation(context.getRequiredTestMethod(), FluvioLocalCluster.class);
        if (onMethod.isPresent()) {
            start(context, onMethod.get(), context.getRequiredTestMethod());
            return;
        }
        Optional<FluvioLocalCluster> onClass =
                AnnotationSupport.findAnnotation(context.getRequiredTestClass(), FluvioLocalCluster.class);
        if (onClass.isPresent() && onClass.get().lifecycle() == FluvioLocalCluster.Lifecycle.PER_TEST) {
            start(context, onClass.get(), context.getRequiredTestClass());
        }
    }

    @Override
    public void afterEach(ExtensionContext context) {
        stop(context);
    }

    @Override
    public void afterAll(ExtensionContext context) {
        stop(context);
    }

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        Class<?> type = parameter.getParameter().getType();
        return type == LocalCluster.class || type == Fluvio.class || type == FluvioConfig.class
                || type == TlsConfig.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        RunningCluster cluster = context.getStore(NAMESPACE).get(CLUSTER, RunningCluster.class);
        if (cluster == null) {
            throw new ParameterResolutionException("no Fluvio cluster is running for " + parameter.getDeclaringExecutable()
                    + ": with @FluvioLocalCluster(lifecycle = PER_TEST), or on a test method, the cluster starts"
                    + " before each test, so a constructor or a @BeforeAll method cannot receive it;"
                    + " use lifecycle = PER_CLASS or take it in @BeforeEach and test methods");
        }
        Class<?> type = parameter.getParameter().getType();
        if (type == LocalCluster.class) {
            return cluster.cluster();
        }
        if (type == Fluvio.class) {
            return cluster.client();
        }
        if (type == FluvioConfig.class) {
            return cluster.clientConfig();
        }
        return cluster.clientTls();
    }

    private static void start(ExtensionContext context, FluvioLocalCluster settings, AnnotatedElement annotated) {
        RunningCluster cluster;
        try {
            cluster = RunningCluster.start(settings);
        } catch (RuntimeException | Error e) {
            throw new ExtensionConfigurationException(describe(settings) + " on " + name(annotated)
                    + ": the cluster did not start: " + e, e);
        }
        context.getStore(NAMESPACE).put(CLUSTER, cluster);
        context.publishReportEntry("fluvio.cluster", cluster.toString());
    }

    private static void stop(ExtensionContext context) {
        // Only what this context started: a parent's cluster is stopped with the parent.
        @Nullable RunningCluster cluster = context.getStore(NAMESPACE).remove(CLUSTER, RunningCluster.class);
        if (cluster != null) {
            cluster.close();
        }
    }

    private static String name(AnnotatedElement annotated) {
        if (annotated instanceof Class) {
            return ((Class<?>) annotated).getName();
        }
        return annotated.toString();
    }

    private static String describe(FluvioLocalCluster settings) {
        return "@FluvioLocalCluster(spus = " + settings.spus() + ", minLiveReplicas = " + settings.minLiveReplicas()
                + ", replicationPolicy = " + settings.replicationPolicy() + ", tls = " + settings.tls()
                + ", lifecycle = " + settings.lifecycle() + ")";
    }
}
