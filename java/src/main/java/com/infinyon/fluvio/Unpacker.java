package com.infinyon.fluvio;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.jspecify.annotations.Nullable;

/**
 * Reads the compact form native code writes: big-endian integers, and strings and byte
 * strings as an int length (-1 for null) followed by the bytes.
 *
 * <p>Thread-safety: not thread-safe.
 */
final class Unpacker {
    private final ByteBuffer buffer;

    Unpacker(byte[] bytes) {
        this.buffer = ByteBuffer.wrap(bytes);
    }

    int i32() {
        return buffer.getInt();
    }

    long i64() {
        return buffer.getLong();
    }

    boolean bool() {
        return buffer.get() != 0;
    }

    @Nullable String str() {
        int length = buffer.getInt();
        if (length < 0) {
            return null;
        }
        String value = new String(buffer.array(), buffer.position(), length, StandardCharsets.UTF_8);
        buffer.position(buffer.position() + length);
        return value;
    }

    /** The current position in the array. */
    int position() {
        return buffer.position();
    }

    void skip(int bytes) {
        buffer.position(buffer.position() + bytes);
    }
}
