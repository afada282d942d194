package com.infinyon.fluvio;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Loads the native library {@code fluvio_jni} once per class loader.
 *
 * <p>{@code System.loadLibrary("fluvio_jni")} is tried first, so a library on
 * {@code -Djava.library.path} wins. Otherwise the library for this platform is extracted from
 * the jar ({@code /native/<os>-<arch>/<library file>}) to a temporary directory, loaded from
 * there, and removed at once (at JVM exit where the platform keeps a loaded library's file):
 * no {@code fluvio-jni-*} directory is left behind. An unsupported platform fails with a
 * message naming {@code os.name} and {@code os.arch}.
 *
 * <p>Once loaded, the library checks that it was built for these classes: every native method,
 * every member it calls, every enum constant and every constant it shares with Java must match
 * (the contract, declared once in the library's {@code src/contract/java.rs}). A library that
 * does not match is refused with an {@link UnsatisfiedLinkError} naming each difference, rather
 * than failing later on a call.
 *
 * <p>Every entry point loads the library before its first native call ({@link Fluvio#connect},
 * {@link LocalCluster.Definition#start()}, {@link FluvioProfiles}, {@link Settings}); objects made
 * from those need not. No static initializer may call {@link #load()}: initializing the library
 * initializes the classes it checks, while holding this class's lock, and a class whose static
 * initializer waited for that lock on another thread would deadlock with it.
 *
 * <p>Thread-safety: safe to call from any thread; loading happens once.
 */
final class NativeLibrary {
    static final String NAME = "fluvio_jni";

    private static volatile boolean loaded;

    private NativeLibrary() {}

    /** Loads the library if it is not loaded yet. */
    static void load() {
        if (loaded) {
            return;
        }
        synchronized (NativeLibrary.class) {
            if (loaded) {
                return;
            }
            try {
                System.loadLibrary(NAME);
            } catch (UnsatisfiedLinkError notOnLibraryPath) {
                loadFromJar(notOnLibraryPath);
            }
            String mismatches = nativeInit();
            if (mismatches != null) {
                throw new UnsatisfiedLinkError("the Fluvio native library does not match its Java classes:\n"
                        + mismatches);
            }
            loaded = true;
            FluvioLogging.apply();
        }
    }

    /**
     * Returns {@code value} from native code, doing nothing else: a bare JNI crossing, which the
     * JMH benchmarks ({@code java/src/jmh}) time. Call {@link #load()} first.
     */
    static native long nativeEcho(long value);

    /** The platform directory in the jar, e.g. {@code linux-x86_64}; null when unsupported. */
    static String platform(String osName, String osArch) {
        String os = osName.toLowerCase(Locale.ROOT);
        String arch = osArch.toLowerCase(Locale.ROOT);
        String osPart;
        if (os.startsWith("linux")) {
            osPart = "linux";
        } else if (os.startsWith("mac") || os.startsWith("darwin")) {
            osPart = "osx";
        } else if (os.startsWith("windows")) {
            osPart = "windows";
        } else {
            return null;
        }
        String archPart;
        switch (arch) {
            case "amd64":
            case "x86_64":
            case "x64":
                archPart = "x86_64";
                break;
            case "aarch64":
            case "arm64":
                archPart = "aarch_64";
                break;
            default:
                return null;
        }
        return osPart + "-" + archPart;
    }

    /**
     * Removes the extracted library and its directory. A loaded library stays mapped, so on
     * Linux and macOS both go at once, and nothing is left behind even if the JVM is killed.
     * Where a loaded library's file cannot be deleted (Windows), both are deleted when the
     * JVM exits: the directory is registered first because registrations run in reverse order,
     * and a directory can only be deleted once empty.
     */
    private static void removeExtracted(Path dir, Path library) {
        try {
            Files.deleteIfExists(library);
            Files.deleteIfExists(dir);
        } catch (IOException | SecurityException stillInUse) {
            dir.toFile().deleteOnExit();
            library.toFile().deleteOnExit();
        }
    }

    private static void loadFromJar(UnsatisfiedLinkError notOnLibraryPath) {
        String osName = System.getProperty("os.name", "");
        String osArch = System.getProperty("os.arch", "");
        String platform = platform(osName, osArch);
        if (platform == null) {
            throw new UnsatisfiedLinkError(
                    "the Fluvio client has no native library for this platform (os.name=" + osName
                            + ", os.arch=" + osArch + "); supported: linux, osx and windows on x86_64 and aarch_64");
        }
        String file = System.mapLibraryName(NAME);
        String resource = "/native/" + platform + "/" + file;
        try (InputStream in = NativeLibrary.class.getResourceAsStream(resource)) {
            if (in == null) {
                UnsatisfiedLinkError error = new UnsatisfiedLinkError(
                        "the Fluvio client jar has no native library for " + platform + " (os.name=" + osName
                                + ", os.arch=" + osArch + "; looked for " + resource
                                + " and on java.library.path)");
                error.addSuppressed(notOnLibraryPath);
                throw error;
            }
            Path dir = Files.createTempDirectory("fluvio-jni-");
            Path target = dir.resolve(file);
            try {
                Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
                System.load(target.toAbsolutePath().toString());
            } finally {
                removeExtracted(dir, target);
            }
        } catch (IOException e) {
            UnsatisfiedLinkError error = new UnsatisfiedLinkError("cannot extract the Fluvio native library: " + e);
            error.initCause(e);
            throw error;
        }
    }

    /**
     * Results the library packs into one {@code byte[]} (see {@link Unpacker}), whose layouts
     * {@link #sample(Layout)} pins.
     */
    enum Layout {
        /** Records of a fetch or stream ({@link Record#unpack(byte[])}). */
        RECORDS,
        /** Topics ({@link TopicMetadata}). */
        TOPICS,
        /** Partitions ({@link PartitionMetadata}). */
        PARTITIONS,
        /** SPUs ({@link SpuMetadata}). */
        SPUS,
        /** Profiles ({@link FluvioProfiles#profile(String)}). */
        PROFILE,
        /** Metrics ({@link FluvioMetrics}). */
        METRICS,
        /** Named consumers' stored offsets ({@link ConsumerMetadata}). */
        CONSUMERS
    }

    /** Every native method the library registered, as {@code class.name descriptor}. */
    static List<String> registeredNatives() {
        load();
        return Arrays.asList(nativeRegistered());
    }

    /** A sample of {@code layout}, packed by the code that packs real results. */
    static byte[] sample(Layout layout) {
        load();
        return nativeSample(layout);
    }

    /**
     * Checks the contract and registers every other native method (found by its exported name).
     *
     * @return null when the library matches these classes, else every difference, one per line
     */
    private static native String nativeInit();

    private static native String[] nativeRegistered();

    private static native byte[] nativeSample(Layout layout);
}
