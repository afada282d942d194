package com.infinyon.fluvio.junit5;

import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Enables the sample test classes that {@link FluvioLocalClusterExtensionTest} runs through the
 * JUnit Platform test kit, and only there: the suite's own run (which discovers every class of
 * the package) skips them, so their deliberately failing setups fail nothing.
 */
final class OnlyInTestKit implements ExecutionCondition {
    static final String PARAMETER = "fluvio.junit5.samples";

    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        return context.getConfigurationParameter(PARAMETER).isPresent()
                ? ConditionEvaluationResult.enabled("run by the test kit")
                : ConditionEvaluationResult.disabled("a sample for FluvioLocalClusterExtensionTest");
    }
}
