package com.infinyon.fluvio;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.CompilerControl;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The cost of one JNI crossing: {@link NativeLibrary#nativeEcho(long)} (into Rust, through the
 * panic-catching shim every export uses, and back), next to a Java call that the JIT may not
 * inline, as the floor.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@State(Scope.Thread)
public class JniCrossingBenchmark {
    private long value;

    @Setup
    public void load() {
        NativeLibrary.load();
    }

    @Benchmark
    public long nativeEcho() {
        return NativeLibrary.nativeEcho(value++);
    }

    @Benchmark
    public long javaCallNotInlined() {
        return javaEcho(value++);
    }

    @CompilerControl(CompilerControl.Mode.DONT_INLINE)
    private static long javaEcho(long value) {
        return value;
    }
}
