package com.infinyon.fluvio;

import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A certificate or key as {@link TlsConfig} and {@link LocalClusterTls} take it: the path of a
 * PEM file (made absolute) or PEM text. Native code gets the value and its source
 * ({@code file} or {@code pem}); the static helpers accept null for an absent item.
 *
 * <p>Thread-safety: immutable.
 */
final class Pem {
    private final String value;
    private final boolean file;

    private Pem(String value, boolean file) {
        this.value = value;
        this.file = file;
    }

    /** An item read back from a profile, or null when {@code value} is. */
    static Pem of(String value, boolean file) {
        return value == null ? null : new Pem(value, file);
    }

    /** The file {@code path}, made absolute; {@code name} names the argument in errors. */
    static Pem ofFile(Path path, String name) {
        Objects.requireNonNull(path, name);
        return new Pem(path.toAbsolutePath().toString(), true);
    }

    /** PEM text, which must not be blank; {@code name} names the argument in errors. */
    static Pem ofText(String pem, String name) {
        Objects.requireNonNull(pem, name);
        if (pem.isBlank()) {
            throw new IllegalArgumentException(name + " must not be empty");
        }
        return new Pem(pem, false);
    }

    boolean isFile() {
        return file;
    }

    static Path file(Pem pem) {
        return pem != null && pem.file ? Paths.get(pem.value) : null;
    }

    static String text(Pem pem) {
        return pem != null && !pem.file ? pem.value : null;
    }

    /** The path or text native code reads, or null. */
    static String value(Pem pem) {
        return pem == null ? null : pem.value;
    }

    /** {@code file}, {@code pem}, or null: the source native code reads. */
    static String source(Pem pem) {
        return pem == null ? null : pem.file ? "file" : "pem";
    }

    /** For {@code toString()}: the path, {@code hidden} for text (never a key), or none. */
    static String describe(Pem pem, String hidden) {
        return pem == null ? "none" : pem.file ? pem.value : hidden;
    }

    @Override
    public boolean equals(@Nullable Object other) {
        return other instanceof Pem && ((Pem) other).file == file && ((Pem) other).value.equals(value);
    }

    @Override
    public int hashCode() {
        return value.hashCode() * 31 + Boolean.hashCode(file);
    }
}
