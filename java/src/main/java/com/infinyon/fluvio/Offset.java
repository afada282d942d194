package com.infinyon.fluvio;

import org.jspecify.annotations.Nullable;

/**
 * Where a consumer starts in a partition.
 *
 * <p>Thread-safety: immutable.
 */
public final class Offset {
    /** Where an offset counts from; crosses to native code by name. */
    enum Kind {
        BEGINNING,
        END,
        ABSOLUTE,
        FROM_BEGINNING,
        FROM_END
    }

    private static final Offset BEGINNING_OFFSET = new Offset(Kind.BEGINNING, 0);
    private static final Offset END_OFFSET = new Offset(Kind.END, 0);

    private final Kind kind;
    private final long value;

    private Offset(Kind kind, long value) {
        this.kind = kind;
        this.value = value;
    }

    /** The first record still stored. */
    public static Offset beginning() {
        return BEGINNING_OFFSET;
    }

    /** After the last committed record: only records produced from now on. */
    public static Offset end() {
        return END_OFFSET;
    }

    /**
     * An exact offset.
     *
     * @param offset zero or positive
     * @return the position
     */
    public static Offset absolute(long offset) {
        return new Offset(Kind.ABSOLUTE, Checks.notNegative(offset, "offset"));
    }

    /**
     * {@code count} records after the beginning (at most the end).
     *
     * @param count zero or positive
     * @return the position
     */
    public static Offset fromBeginning(long count) {
        return new Offset(Kind.FROM_BEGINNING, Checks.notNegative(count, "count"));
    }

    /**
     * {@code count} records before the end (at least the beginning).
     *
     * @param count zero or positive
     * @return the position
     */
    public static Offset fromEnd(long count) {
        return new Offset(Kind.FROM_END, Checks.notNegative(count, "count"));
    }

    /**
     * {@code count} records after the beginning.
     *
     * @param count zero or positive
     * @return the position
     * @deprecated use {@link #fromBeginning(long)}
     */
    @Deprecated
    public static Offset from_beginning(long count) {
        return fromBeginning(count);
    }

    /**
     * {@code count} records before the end.
     *
     * @param count zero or positive
     * @return the position
     * @deprecated use {@link #fromEnd(long)}
     */
    @Deprecated
    public static Offset from_end(long count) {
        return fromEnd(count);
    }

    Kind kind() {
        return kind;
    }

    long value() {
        return value;
    }

    @Override
    public boolean equals(@Nullable Object other) {
        return other instanceof Offset && ((Offset) other).kind == kind && ((Offset) other).value == value;
    }

    @Override
    public int hashCode() {
        return 31 * kind.ordinal() + Long.hashCode(value);
    }

    @Override
    public String toString() {
        switch (kind) {
            case BEGINNING:
                return "Offset.beginning()";
            case END:
                return "Offset.end()";
            case ABSOLUTE:
                return "Offset.absolute(" + value + ")";
            case FROM_BEGINNING:
                return "Offset.fromBeginning(" + value + ")";
            default:
                return "Offset.fromEnd(" + value + ")";
        }
    }
}
