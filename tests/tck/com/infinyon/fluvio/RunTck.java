package com.infinyon.fluvio;

import java.util.concurrent.atomic.AtomicInteger;
import org.testng.IConfigurationListener;
import org.testng.ITestListener;
import org.testng.ITestResult;
import org.testng.TestNG;

/**
 * Runs the Reactive Streams TCK classes (TestNG) and prints one line per test, the failures,
 * and a closing {@code N passed, N failed} line (skipped tests, which the TCK uses for rules it
 * cannot check or that do not apply, on a line of their own). Exits with 1 if anything failed,
 * a configuration method failed, or nothing passed.
 */
public final class RunTck {
    private RunTck() {}

    public static void main(String[] args) {
        AtomicInteger passed = new AtomicInteger();
        AtomicInteger failed = new AtomicInteger();
        AtomicInteger skipped = new AtomicInteger();
        StringBuilder failures = new StringBuilder();
        TestNG testng = new TestNG();
        testng.setUseDefaultListeners(false);
        testng.setVerbose(0);
        testng.setTestClasses(new Class<?>[] {ConsumerPublisherTckTest.class, TopicConsumerPublisherTckTest.class,
                BoundedConsumerPublisherTckTest.class});
        testng.addListener(new ITestListener() {
            @Override
            public void onTestSuccess(ITestResult result) {
                passed.incrementAndGet();
                print("SUCCESSFUL", result);
            }

            @Override
            public void onTestFailure(ITestResult result) {
                failed.incrementAndGet();
                print("FAILED", result);
                failures.append(name(result)).append(": ").append(result.getThrowable()).append('\n');
            }

            @Override
            public void onTestSkipped(ITestResult result) {
                skipped.incrementAndGet();
                print("SKIPPED", result);
            }
        });
        testng.addListener(new IConfigurationListener() {
            @Override
            public void onConfigurationFailure(ITestResult result) {
                failed.incrementAndGet();
                failures.append("configuration ").append(name(result)).append(": ").append(result.getThrowable())
                        .append('\n');
            }
        });
        try {
            testng.run();
        } finally {
            TckCluster.close();
        }
        System.out.print(failures);
        System.out.println(skipped + " skipped (rules the TCK cannot check, or that need onComplete from an unbounded publisher)");
        System.out.println(passed + " passed, " + failed + " failed");
        System.exit(failed.get() > 0 || passed.get() == 0 ? 1 : 0);
    }

    private static String name(ITestResult result) {
        return result.getTestClass().getRealClass().getSimpleName() + "." + result.getMethod().getMethodName();
    }

    private static void print(String status, ITestResult result) {
        System.out.println(status + "  " + name(result));
    }
}
