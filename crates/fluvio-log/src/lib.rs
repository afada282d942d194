//! The on-disk partition log of the embedded Fluvio-compatible cluster.
//!
//! A partition is a directory of *segments*. Each segment is a file
//! `{base_offset:020}.log` holding record batches back to back, exactly as they travel on the
//! wire (with `base_offset` set to the real offset), and a sparse index
//! `{base_offset:020}.index` of big-endian `(relative_offset u32, file_position u32)` entries,
//! also kept in memory. The last segment is the active one; the others are sealed.
//!
//! [`PartitionLog`] is the entry point: [`open`](PartitionLog::open) (with recovery, see
//! [`recovery`]), [`append`](PartitionLog::append), [`read`](PartitionLog::read) (whole batches),
//! [`read_range`](PartitionLog::read_range) (a byte range cut at `max_bytes`, as an SPU serves consumers),
//! [`truncate_to`](PartitionLog::truncate_to), [`enforce_retention`](PartitionLog::enforce_retention),
//! [`reset_to`](PartitionLog::reset_to) (crash-safe restart of an empty log at a given offset).
//! [`EpochHistory`] keeps, next to the segments, the leader epochs the log was written under,
//! for replication.
//!
//! Segment files are not held open for the life of a log: they are opened on use through a
//! [`FilePool`] (by default one per process, [`FilePool::shared`]) that keeps a bounded number
//! open and closes the least recently used, so any number of partitions works within the
//! process's open-file limit.
//!
//! The batch layout and codec come from [`fluvio_wire::record`]; this crate only adds storage.

#![warn(missing_docs)]

mod batch;
mod config;
mod epochs;
mod error;
mod files;
mod index;
mod log;
pub mod recovery;
mod reset;
mod segment;

pub use config::{
    DEFAULT_INDEX_INTERVAL_BYTES, DEFAULT_MAX_PARTITION_BYTES, DEFAULT_RETENTION, DEFAULT_SEGMENT_MAX_BYTES, LogConfig,
};
pub use epochs::{EPOCH_FILE_NAME, EpochEnd, EpochHistory, EpochStart};
pub use error::{BatchDefect, LogError};
pub use files::{DEFAULT_POOL_CAPACITY, FilePool};
pub use log::{AppendInfo, PartitionLog, ReadSlice, RemovedSegment, RetentionOutcome, RetentionReason};
pub use recovery::{DropReason, DroppedSegment, RecoveryReport, RemovedOffsets, Truncation};
pub use reset::RESET_FILE_NAME;

/// The name of the log file of the segment starting at `base_offset` (`{base_offset:020}.log`
/// in the partition directory), for messages about segments.
pub fn segment_file_name(base_offset: i64) -> String {
    segment::log_file_name(base_offset)
}
