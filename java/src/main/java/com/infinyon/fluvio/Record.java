package com.infinyon.fluvio;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.jspecify.annotations.Nullable;

/**
 * A consumed record.
 *
 * <p>A record owns its bytes (it outlives the stream that returned it): its key and value are
 * arrays of its own, copied once from what was received, which {@link #key()} and
 * {@link #value()} return as they are (as Kafka's {@code ConsumerRecord} does). A change to
 * such an array is seen by every later call, the string accessors included.
 *
 * <p>Import it by name ({@code import com.infinyon.fluvio.Record;}): since Java 16,
 * {@code java.lang.Record} exists too, and with {@code import com.infinyon.fluvio.*;} the
 * simple name {@code Record} is ambiguous and does not compile ("reference to Record is
 * ambiguous"). A single-type import wins over {@code java.lang}; Kotlin is not affected.
 *
 * <p>Thread-safety: immutable, as long as no thread changes the arrays {@link #key()} and
 * {@link #value()} return.
 */
public final class Record {
    private final int partition;
    private final long offset;
    private final long timestamp;
    private final byte @Nullable [] key;
    private final byte[] value;

    private Record(int partition, long offset, long timestamp, byte @Nullable [] key, byte[] value) {
        this.partition = partition;
        this.offset = offset;
        this.timestamp = timestamp;
        this.key = key;
        this.value = value;
    }

    /**
     * A record holding its own copy of its key and value, read from {@code source} at the given
     * positions (a key length of -1: no key). Each is copied once, into the array
     * {@link #key()} or {@link #value()} returns.
     */
    static Record copyOf(byte[] source, int partition, long offset, long timestamp, int keyPosition, int keyLength,
            int valuePosition, int valueLength) {
        // Arrays.copyOfRange, not new + arraycopy: the JIT fills the new array without zeroing it first.
        byte[] key = keyLength < 0 ? null : Arrays.copyOfRange(source, keyPosition, keyPosition + keyLength);
        byte[] value = Arrays.copyOfRange(source, valuePosition, valuePosition + valueLength);
        return new Record(partition, offset, timestamp, key, value);
    }

    /** Decodes records packed by native code: count, then partition, offset, timestamp, key, value. */
    static Record[] unpack(byte[] chunk) {
        Unpacker in = new Unpacker(chunk);
        int count = in.i32();
        Record[] records = new Record[count];
        for (int i = 0; i < count; i++) {
            int partition = in.i32();
            long offset = in.i64();
            long timestamp = in.i64();
            int keyLength = in.i32();
            int keyPosition = in.position();
            if (keyLength > 0) {
                in.skip(keyLength);
            }
            int valueLength = in.i32();
            int valuePosition = in.position();
            in.skip(valueLength);
            records[i] = copyOf(chunk, partition, offset, timestamp, keyPosition, keyLength, valuePosition, valueLength);
        }
        return records;
    }

    /** The key, or null when the record has none (an empty key is an empty array). */
    public byte @Nullable [] key() {
        return key;
    }

    /** The value. */
    public byte[] value() {
        return value;
    }

    /** The key as UTF-8 text, or null when the record has none. */
    public @Nullable String keyString() {
        return key == null ? null : new String(key, StandardCharsets.UTF_8);
    }

    /** The value as UTF-8 text. */
    public String valueString() {
        return new String(value, StandardCharsets.UTF_8);
    }

    /** The offset within the partition. */
    public long offset() {
        return offset;
    }

    /** Milliseconds since the epoch when the producer created the record, or -1 if unknown. */
    public long timestamp() {
        return timestamp;
    }

    /** The partition. */
    public int partition() {
        return partition;
    }

    /**
     * The value as UTF-8 text.
     *
     * @return the value
     * @deprecated use {@link #valueString()}
     */
    @Deprecated
    public String value_string() {
        return valueString();
    }

    /**
     * The key as UTF-8 text.
     *
     * @return the key, or null
     * @deprecated use {@link #keyString()}
     */
    @Deprecated
    public @Nullable String key_string() {
        return keyString();
    }

    @Override
    public String toString() {
        return "Record[partition=" + partition + ", offset=" + offset + ", timestamp=" + timestamp + ", key="
                + (key == null ? "null" : key.length + " bytes") + ", value=" + value.length + " bytes]";
    }
}
