package com.infinyon.fluvio.e2e;

import java.util.ArrayList;
import java.util.List;

/**
 * A list of named checks, run one after the other: each prints {@code PASS name} or
 * {@code FAIL name} with its reason, and the suite ends with the plain {@code N passed, N failed}
 * line; the process exits with 1 if a check failed or none ran.
 *
 * <p>Thread-safety: not thread-safe; one suite per program.
 */
final class Suite {
    /** A check: returns normally when it holds, throws with the reason when it does not. */
    @FunctionalInterface
    interface Check {
        void run() throws Exception;
    }

    private final String name;
    private final List<String> failures = new ArrayList<>();
    private int passed;

    Suite(String name) {
        this.name = name;
    }

    void check(String checkName, Check check) {
        try {
            check.run();
            passed++;
            System.out.println("PASS  " + checkName);
        } catch (Exception | AssertionError e) {
            failures.add(checkName);
            System.out.println("FAIL  " + checkName + "\n      " + String.valueOf(e.getMessage()).replace("\n", "\n      "));
        }
        System.out.flush();
    }

    /** Prints the closing line and exits. */
    void finish() {
        if (!failures.isEmpty()) {
            System.out.println(name + ": failed: " + String.join(", ", failures));
        }
        System.out.println(passed + " passed, " + failures.size() + " failed");
        System.exit(failures.isEmpty() && passed > 0 ? 0 : 1);
    }

    /** Fails a check. */
    static void require(boolean condition, String reason) {
        if (!condition) {
            throw new AssertionError(reason);
        }
    }
}
