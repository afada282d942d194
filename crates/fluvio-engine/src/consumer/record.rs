//! The records consumers hand out.

use bytes::Bytes;

use crate::metrics::ReceivedChunk;

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

/// What `records` amount to in the metrics (the metrics know nothing of records).
pub(crate) fn received_chunk(records: &[ConsumerRecord]) -> ReceivedChunk {
    ReceivedChunk {
        records: records.len(),
        bytes: records.iter().map(|r| r.key.as_ref().map_or(0, |k| k.len()) + r.value.len()).sum(),
        newest_timestamp: records.iter().map(|r| r.timestamp).max().filter(|t| *t >= 0),
    }
}
