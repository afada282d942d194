//! The error type of the crate and the list of things that can be wrong with a stored batch.

use std::io;
use std::path::PathBuf;

use fluvio_wire::DecodeError;

/// Why some bytes are not a batch the log may store or serve.
///
/// The same checks apply to batches handed to [`append`](crate::PartitionLog::append) (where a
/// defect is the caller's fault) and to bytes found on disk (where a defect means a torn write
/// or corruption), so both cases share this type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BatchDefect {
    /// Fewer bytes than the 57-byte batch header remain.
    #[error("torn batch header: only {available} bytes left")]
    TornHeader {
        /// Bytes left at this position.
        available: u64,
    },
    /// The header does not parse (wrong magic, impossible `batch_len`, ...).
    #[error("invalid batch header: {0}")]
    InvalidHeader(DecodeError),
    /// `last_offset_delta` is negative: the batch would hold no record and not advance offsets.
    #[error("empty batch (last_offset_delta {last_offset_delta})")]
    EmptyBatch {
        /// The value found.
        last_offset_delta: i32,
    },
    /// The header announces more bytes than are present.
    #[error("torn batch: {total_len} bytes announced, {available} available")]
    TornBatch {
        /// Size the header announces (preamble included).
        total_len: u64,
        /// Bytes left at this position.
        available: u64,
    },
    /// The stored CRC-32C does not match the content.
    #[error("CRC mismatch: stored {stored:#010x}, computed {computed:#010x}")]
    CrcMismatch {
        /// CRC read from the header.
        stored: u32,
        /// CRC of the bytes.
        computed: u32,
    },
    /// The batch's `base_offset` is not the offset following the previous batch.
    #[error("offset discontinuity: expected base offset {expected}, found {found}")]
    OffsetDiscontinuity {
        /// Offset the batch should start at.
        expected: i64,
        /// Offset it starts at.
        found: i64,
    },
    /// A stored batch claims offsets past the end of its segment (a damaged
    /// `last_offset_delta` in a sealed segment, whose batches are not all checked at open).
    #[error("batch ends at offset {batch_next_offset}, after its segment's end {segment_next_offset}")]
    OffsetsBeyondSegment {
        /// Offset after the batch, as its header claims.
        batch_next_offset: i64,
        /// Offset after the segment's last batch.
        segment_next_offset: i64,
    },
    /// Offsets would pass `i64::MAX`.
    #[error("offsets overflow i64")]
    OffsetOverflow,
    /// The batch does not fit the segment's u32 positions or u32 relative offsets. The log
    /// never writes such a batch (it rolls first), so on disk this means corruption.
    #[error("batch exceeds the u32 position or relative-offset range of its segment")]
    BeyondSegmentLimits,
    /// A buffer passed to `append` holds more (or other) bytes than exactly one batch.
    #[error("buffer of {buffer_len} bytes does not hold exactly one batch of {total_len} bytes")]
    LengthMismatch {
        /// Size of the first batch.
        total_len: u64,
        /// Size of the buffer.
        buffer_len: u64,
    },
}

/// Errors of the partition log.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// A file system operation failed.
    #[error("{op} {path}: {source}")]
    Io {
        /// What was being done ("open", "write", "truncate", ...).
        op: &'static str,
        /// The file or directory concerned.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// Stored bytes that should hold a valid batch chain do not, or a stored batch does not
    /// match its CRC-32C (found while serving a read or locating an offset; recovery in `open`
    /// repairs instead of failing). Nothing of the damaged batch is ever returned.
    #[error("corrupt segment {path} at position {position} (offset {offset}): {defect}")]
    Corrupt {
        /// The segment file.
        path: PathBuf,
        /// Byte position in the file.
        position: u64,
        /// The offset of the first record the damaged batch holds (or should hold: the offset
        /// following the previous batch).
        offset: i64,
        /// What is wrong.
        #[source]
        defect: BatchDefect,
    },
    /// A batch handed to `append`/`append_many` is unusable; nothing was written.
    #[error("invalid batch at byte {position} of the input: {defect}")]
    InvalidBatch {
        /// Position of the offending batch within the input buffer.
        position: usize,
        /// What is wrong.
        #[source]
        defect: BatchDefect,
    },
    /// The input is larger than one segment can ever hold (positions are u32).
    #[error("{size} bytes cannot be stored in one segment (limit {limit})")]
    BatchTooLarge {
        /// Size of the input.
        size: u64,
        /// Largest size a segment can take.
        limit: u64,
    },
    /// The offset is past the log end offset.
    #[error("offset {offset} is beyond the log end offset {log_end}")]
    OffsetOutOfRange {
        /// Offset asked for.
        offset: i64,
        /// Current log end offset.
        log_end: i64,
    },
    /// The offset was deleted by retention (or lies before the log start for another reason).
    #[error("offset {offset} was evicted; the log starts at {next_available}")]
    OffsetEvicted {
        /// Offset asked for.
        offset: i64,
        /// Current log start offset.
        next_available: i64,
    },
    /// [`reset_to`](crate::PartitionLog::reset_to) was given a negative offset.
    #[error("cannot restart the log at the negative offset {offset}")]
    NegativeOffset {
        /// Offset asked for.
        offset: i64,
    },
    /// A [`reset_to`](crate::PartitionLog::reset_to) failed after it was decided: the log is
    /// half-way between its old and its new content and refuses to be used until
    /// `reset_to` is called again (any offset) or the log is reopened (which completes the
    /// reset to `offset`).
    #[error("a reset of the log to offset {offset} did not complete; reset again or reopen the log")]
    ResetIncomplete {
        /// The offset of the unfinished reset.
        offset: i64,
    },
    /// `truncate_to` was given an offset in the middle of a batch.
    #[error("offset {offset} is inside the batch {batch_base_offset}..{batch_next_offset}, not at a boundary")]
    NotABatchBoundary {
        /// Offset asked for.
        offset: i64,
        /// Base offset of the batch containing it.
        batch_base_offset: i64,
        /// Offset after that batch.
        batch_next_offset: i64,
    },
}

impl LogError {
    /// Builds a closure mapping an `io::Error` to [`LogError::Io`] (for `map_err`).
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>) -> impl FnOnce(io::Error) -> LogError {
        let path = path.into();
        move |source| LogError::Io { op, path, source }
    }
}
