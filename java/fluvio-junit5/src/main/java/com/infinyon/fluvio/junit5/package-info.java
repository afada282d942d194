/**
 * A JUnit 5 extension for tests against an embedded Fluvio cluster: annotate a test class or
 * method with {@link com.infinyon.fluvio.junit5.FluvioLocalCluster} and take
 * {@link com.infinyon.fluvio.LocalCluster}, {@link com.infinyon.fluvio.Fluvio},
 * {@link com.infinyon.fluvio.FluvioConfig} or {@link com.infinyon.fluvio.TlsConfig} parameters.
 *
 * <p>Nothing here is null unless marked {@code @Nullable}.
 */
@NullMarked
package com.infinyon.fluvio.junit5;

import org.jspecify.annotations.NullMarked;
