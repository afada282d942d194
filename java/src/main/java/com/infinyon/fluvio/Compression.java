package com.infinyon.fluvio;

/**
 * Batch compression codecs.
 *
 * <p>Thread-safety: immutable.
 */
public enum Compression {
    /** Uncompressed. */
    NONE,
    /** gzip (deflate level 6). */
    GZIP,
    /** Snappy (framing format). */
    SNAPPY,
    /** LZ4 (frame format). */
    LZ4,
    /** zstd. */
    ZSTD
}
