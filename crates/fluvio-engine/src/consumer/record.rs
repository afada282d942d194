//! The records consumers hand out.

use bytes::Bytes;

/// A consumed record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerRecord {
    /// Partition.
    pub partition: u32,
    /// Offset within the partition.
    pub offset: i64,
    /// Milliseconds since the epoch when the producer created the record, or -1.
    pub timestamp: i64,
    /// Key, if any.
    pub key: Option<Bytes>,
    /// Value.
    pub value: Bytes,
}
