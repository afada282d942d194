package com.infinyon.fluvio;

import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectPackage;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import org.junit.platform.engine.DiscoverySelector;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;
import org.junit.platform.launcher.listeners.TestExecutionSummary;

/**
 * Runs the JUnit 5 tests without a build tool that knows JUnit 5 (Gradle before 4.6, the
 * Kotlin tests). Prints one line per test and a closing {@code N passed, N failed} line;
 * exits with 1 if anything failed or nothing ran.
 *
 * <p>Arguments: class names to run; none runs every test of the package.
 */
public final class RunTests {
    private RunTests() {}

    public static void main(String[] args) {
        List<DiscoverySelector> selectors = new ArrayList<>();
        for (String name : args) {
            selectors.add(selectClass(name));
        }
        if (selectors.isEmpty()) {
            selectors.add(selectPackage("com.infinyon.fluvio"));
        }
        LauncherDiscoveryRequest request = LauncherDiscoveryRequestBuilder.request().selectors(selectors).build();
        Launcher launcher = LauncherFactory.create();
        SummaryGeneratingListener summary = new SummaryGeneratingListener();
        launcher.execute(request, summary, new TestExecutionListener() {
            @Override
            public void executionFinished(TestIdentifier test, TestExecutionResult result) {
                if (test.isTest()) {
                    System.out.println(result.getStatus() + "  " + test.getLegacyReportingName()
                            + "  (" + test.getUniqueId().replaceAll(".*class:([^\\]]*).*", "$1") + ")");
                }
            }
        });
        TestExecutionSummary result = summary.getSummary();
        PrintWriter out = new PrintWriter(System.out, true);
        result.printFailuresTo(out, 25);
        long passed = result.getTestsSucceededCount();
        // A failed container (e.g. a @BeforeAll that threw) runs none of its tests: a failure.
        long failed = result.getTestsFailedCount() + result.getContainersFailedCount();
        // Aborted tests are assumptions not met (skipped), not failures.
        long skipped = result.getTestsAbortedCount() + result.getTestsSkippedCount();
        if (skipped > 0) {
            out.println(skipped + " skipped");
        }
        out.println(passed + " passed, " + failed + " failed");
        System.exit(failed > 0 || passed == 0 ? 1 : 0);
    }
}
