package com.infinyon.fluvio;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.jspecify.annotations.Nullable;

/**
 * A consumed record.
 *
 * <p>A record owns its bytes (it outlives the stream that returned it). A record from a
 * stream ({@code next}, or {@link RecordView#toRecord()}) keeps its key and value in arrays of
 * its own, which {@link #key()} and {@link #value()} return without copying them again (as
 * Kafka's {@code ConsumerRecord} does): a change to such an array is seen by every later call,
 * the string accessors included. The records of a one-time fetch
 * ({@link PartitionConsumer#fetch(Offset)}) share one array, and these two methods copy their bytes out
 * on first use.
 *
 * <p>Import it by name ({@code import com.infinyon.fluvio.Record;}): since Java 16,
 * {@code java.lang.Record} exists too, and with {@code import com.infinyon.fluvio.*;} the
 * simple name {@code Record} is ambiguous and does not compile ("reference to Record is
 * ambiguous"). A single-type import wins over {@code java.lang}; Kotlin is not affected.
 *
 * <p>Thread-safety: thread-safe (immutable apart from cached copies), as long as no thread
 * changes the arrays {@link #key()} and {@link #value()} return.
 */
public final class Record {
    private final byte[] chunk;
    private final int partition;
    private final long offset;
    private final long timestamp;
    private final int keyPosition;
    private final int keyLength;
    private final int valuePosition;
    private final int valueLength;
    /**
     * Whether the record's key and value are arrays of its own, returned as they are: then
     * {@link #chunk} is the value, and {@link #ownKey} the key (null without one).
     */
    private final boolean own;
    private final byte @Nullable [] ownKey;
    private volatile byte[] key;
    private volatile byte[] value;

    private Record(byte[] chunk, int partition, long offset, long timestamp, int keyPosition, int keyLength,
            int valuePosition, int valueLength) {
        this(chunk, partition, offset, timestamp, keyPosition, keyLength, valuePosition, valueLength, false, null);
    }

    private Record(byte[] chunk, int partition, long offset, long timestamp, int keyPosition, int keyLength,
            int valuePosition, int valueLength, boolean own, byte @Nullable [] ownKey) {
        this.own = own;
        this.ownKey = ownKey;
        this.chunk = chunk;
        this.partition = partition;
        this.offset = offset;
        this.timestamp = timestamp;
        this.keyPosition = keyPosition;
        this.keyLength = keyLength;
        this.valuePosition = valuePosition;
        this.valueLength = valueLength;
    }

    /**
     * A record holding its own copy of its key and value, read from a stream's buffer
     * at the given positions (a key length of -1: no key). Each is copied once, into the array
     * {@link #key()} or {@link #value()} returns: a record is read with one copy of its bytes.
     */
    static Record copyOf(byte[] source, int partition, long offset, long timestamp, int keyPosition, int keyLength,
            int valuePosition, int valueLength) {
        // Arrays.copyOfRange, not new + arraycopy: the JIT fills the new array without zeroing it first.
        byte[] value = Arrays.copyOfRange(source, valuePosition, valuePosition + valueLength);
        byte[] key = keyLength < 0 ? null : Arrays.copyOfRange(source, keyPosition, keyPosition + keyLength);
        return new Record(value, partition, offset, timestamp, 0, keyLength, 0, valueLength, true, key);
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
            records[i] = new Record(chunk, partition, offset, timestamp, keyPosition, keyLength, valuePosition, valueLength);
        }
        return records;
    }

    /** The key, or null when the record has none (an empty key is an empty array). */
    public byte @Nullable [] key() {
        if (keyLength < 0) {
            return null;
        }
        if (own) {
            return ownKey;
        }
        byte[] copy = key;
        if (copy == null) {
            copy = Arrays.copyOfRange(chunk, keyPosition, keyPosition + keyLength);
            key = copy;
        }
        return copy;
    }

    /** The value. */
    public byte[] value() {
        if (own) {
            return chunk;
        }
        byte[] copy = value;
        if (copy == null) {
            copy = Arrays.copyOfRange(chunk, valuePosition, valuePosition + valueLength);
            value = copy;
        }
        return copy;
    }

    /** The key as UTF-8 text, or null when the record has none. */
    public @Nullable String keyString() {
        if (keyLength < 0) {
            return null;
        }
        return own ? new String(ownKey, StandardCharsets.UTF_8)
                : new String(chunk, keyPosition, keyLength, StandardCharsets.UTF_8);
    }

    /** The value as UTF-8 text. */
    public String valueString() {
        return new String(chunk, valuePosition, valueLength, StandardCharsets.UTF_8);
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
                + (keyLength < 0 ? "null" : keyLength + " bytes") + ", value=" + valueLength + " bytes]";
    }
}
