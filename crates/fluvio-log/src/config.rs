//! Configuration of a partition log.

use std::time::Duration;

/// Default segment size: 1 GiB (Fluvio's topic default `segment_size`).
pub const DEFAULT_SEGMENT_MAX_BYTES: u64 = 1 << 30;
/// Default sparse-index interval: one entry per 4 KiB of log.
pub const DEFAULT_INDEX_INTERVAL_BYTES: u32 = 4096;
/// Default time retention: 7 days (604 800 s, Fluvio's default).
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(604_800);
/// Default size retention: 100 GiB (Fluvio's default `max_partition_size`).
pub const DEFAULT_MAX_PARTITION_BYTES: u64 = 100 << 30;

/// How a partition log lays out and ages its segments.
///
/// Every value is accepted: the log never needs a segment to be larger than zero bytes to make
/// progress (a batch larger than `segment_max_bytes` gets a segment of its own), so range
/// checks such as Fluvio's 1024-byte minimum segment size belong to topic validation, not here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogConfig {
    /// The active segment is sealed and a new one started when the next append would make it
    /// larger than this. A non-empty segment may still exceed it when a single append is
    /// larger than the limit by itself.
    pub segment_max_bytes: u64,
    /// The sparse index gets an entry for a batch when at least this many log bytes lie
    /// between it and the previous entry. Smaller means faster offset lookups, bigger indexes.
    pub index_interval_bytes: u32,
    /// Sealed segments last written longer ago than this are deleted by
    /// [`enforce_retention`](crate::PartitionLog::enforce_retention). `None` disables it.
    pub retention: Option<Duration>,
    /// While the partition is larger than this, `enforce_retention` deletes its oldest sealed
    /// segments. `None` disables it.
    pub max_partition_bytes: Option<u64>,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            segment_max_bytes: DEFAULT_SEGMENT_MAX_BYTES,
            index_interval_bytes: DEFAULT_INDEX_INTERVAL_BYTES,
            retention: Some(DEFAULT_RETENTION),
            max_partition_bytes: Some(DEFAULT_MAX_PARTITION_BYTES),
        }
    }
}
