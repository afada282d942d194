package com.infinyon.fluvio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.io.InputStream;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Native library lookup: the mapping from {@code os.name}/{@code os.arch} to the jar's
 * {@code native/<platform>/} directory, and the library for this platform being on the
 * classpath (when the tests run from the build, not from {@code -Djava.library.path}).
 */
class NativeLibraryTest {
    @Test
    void platformNames() {
        assertEquals("linux-x86_64", NativeLibrary.platform("Linux", "amd64"));
        assertEquals("linux-x86_64", NativeLibrary.platform("linux", "x86_64"));
        assertEquals("linux-aarch_64", NativeLibrary.platform("Linux", "aarch64"));
        assertEquals("osx-aarch_64", NativeLibrary.platform("Mac OS X", "aarch64"));
        assertEquals("osx-aarch_64", NativeLibrary.platform("Mac OS X", "arm64"));
        assertEquals("osx-x86_64", NativeLibrary.platform("Mac OS X", "x86_64"));
        assertEquals("osx-x86_64", NativeLibrary.platform("Darwin", "x86_64"));
        assertEquals("windows-x86_64", NativeLibrary.platform("Windows 10", "amd64"));
        assertEquals("windows-aarch_64", NativeLibrary.platform("Windows 11", "aarch64"));
        assertNull(NativeLibrary.platform("FreeBSD", "amd64"));
        assertNull(NativeLibrary.platform("SunOS", "sparcv9"));
        assertNull(NativeLibrary.platform("Linux", "ppc64le"));
        assertNull(NativeLibrary.platform("Linux", "s390x"));
        assertNull(NativeLibrary.platform("Windows 10", "x86"));
        assertNull(NativeLibrary.platform("", ""));
    }

    @Test
    void echoCrossesIntoNativeCodeAndBack() {
        NativeLibrary.load();
        for (long value : new long[] {0, 1, -1, 42, Long.MIN_VALUE, Long.MAX_VALUE}) {
            assertEquals(value, NativeLibrary.nativeEcho(value));
        }
    }

    /** Whether a directory of {@code java.library.path} holds the library. */
    private static boolean onLibraryPath(String file) {
        String path = System.getProperty("java.library.path", "");
        for (String dir : path.split(File.pathSeparator)) {
            if (!dir.isEmpty() && Files.isRegularFile(Paths.get(dir, file))) {
                return true;
            }
        }
        return false;
    }

    @Test
    void libraryForThisPlatformIsOnTheClasspath() {
        String platform = NativeLibrary.platform(System.getProperty("os.name"), System.getProperty("os.arch"));
        assertNotNull(platform, "the build machine's platform is supported");
        String file = System.mapLibraryName(NativeLibrary.NAME);
        URL resource = NativeLibrary.class.getResource("/native/" + platform + "/" + file);
        if (onLibraryPath(file)) {
            assumeTrue(resource != null, "running with -Djava.library.path only: no jar resources");
        }
        assertNotNull(resource, "/native/" + platform + "/" + file + " is on the classpath");
        // The library loads, wherever it came from.
        NativeLibrary.load();
        assertFalse(FluvioException.nativeCodes().isEmpty());
    }

    @Test
    void extractingTheLibraryLeavesNoTemporaryDirectory() throws Exception {
        String platform = NativeLibrary.platform(System.getProperty("os.name"), System.getProperty("os.arch"));
        String file = System.mapLibraryName(NativeLibrary.NAME);
        assumeTrue(NativeLibrary.class.getResource("/native/" + platform + "/" + file) != null,
                "running with -Djava.library.path only: no jar resources to extract");
        Path tmp = Files.createTempDirectory("fluvio-tmpdir-test");
        Path emptyLibraryPath = Files.createDirectory(tmp.resolve("no-libraries"));
        List<String> command = Arrays.asList(Paths.get(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xcheck:jni", "-Djava.library.path=" + emptyLibraryPath, "-Djava.io.tmpdir=" + tmp,
                "-cp", System.getProperty("java.class.path"), LoadLibraryMain.class.getName());
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        process.getOutputStream().close();
        String output;
        try (InputStream in = process.getInputStream()) {
            output = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "the child JVM ends");
        assertEquals(0, process.exitValue(), output);
        assertTrue(output.contains("loaded"), output);
        try (Stream<Path> entries = Files.list(tmp)) {
            List<String> left = entries.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("fluvio-jni"))
                    .collect(Collectors.toList());
            assertTrue(left.isEmpty(), "left behind in the temporary directory: " + left);
        }
        Files.delete(emptyLibraryPath);
        Files.delete(tmp);
    }
}
