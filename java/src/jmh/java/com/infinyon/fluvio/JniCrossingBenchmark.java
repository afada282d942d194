package com.infinyon.fluvio;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.CompilerControl;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * The cost of one JNI crossing: {@link NativeLibrary#nativeEcho(long)} (into Rust, through the
 * panic-catching shim every export uses, and back), next to a Java call that the JIT may not
 * inline, as the floor.
 */
@State(Scope.Thread)
public class JniCrossingBenchmark extends JniBenchmark {
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
