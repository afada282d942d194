package com.infinyon.fluvio;

import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A certificate or key as {@link TlsConfig} and {@link LocalClusterTls} take it: the path of a
 * PEM file (made absolute) or PEM text. Native code reads {@link #value()} and
 * {@link #isFile()}; the engine or the embedded cluster reads the file when it connects or
 * starts. The static helpers accept null for an absent item.
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

    /** An item packed by native code: the path or text (null: none), then whether it is a file. */
    static @Nullable Pem unpack(Unpacker in) {
        String value = in.str();
        boolean file = in.bool();
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

    /** Whether {@link #value()} is the path of a PEM file (else PEM text). */
    boolean isFile() {
        return file;
    }

    /** The path or the PEM text. */
    String value() {
        return value;
    }

    static Path file(Pem pem) {
        return pem != null && pem.file ? Paths.get(pem.value) : null;
    }

    static String text(Pem pem) {
        return pem != null && !pem.file ? pem.value : null;
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
