package com.infinyon.fluvio;

import java.nio.charset.StandardCharsets;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A record to send: an optional key and a value.
 *
 * <p>Thread-safety: immutable (the arrays are not copied; do not change them).
 */
public final class KeyValue {
    private final byte[] key;
    private final byte[] value;

    private KeyValue(byte[] key, byte[] value) {
        this.key = key;
        this.value = Objects.requireNonNull(value, "value");
    }

    /**
     * A record.
     *
     * @param key the key, or null for none
     * @param value the value
     * @return the record
     */
    public static KeyValue of(byte @Nullable [] key, byte[] value) {
        return new KeyValue(key, value);
    }

    /**
     * A record with UTF-8 key and value.
     *
     * @param key the key, or null for none
     * @param value the value
     * @return the record
     */
    public static KeyValue of(@Nullable String key, String value) {
        Objects.requireNonNull(value, "value");
        return new KeyValue(key == null ? null : key.getBytes(StandardCharsets.UTF_8), value.getBytes(StandardCharsets.UTF_8));
    }

    /** The key, or null. */
    public byte @Nullable [] key() {
        return key;
    }

    /** The value. */
    public byte[] value() {
        return value;
    }
}
