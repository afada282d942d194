//! Server-side consumer offsets (§4.4): the SPU requests UpdateConsumerOffset (key 1006),
//! DeleteConsumerOffset (1007) and FetchConsumerOffsets (1008), and the entries Fluvio writes
//! into the `consumer-offset` system topic to keep them.
//!
//! A named consumer's offset is kept per consumer name, topic and partition, as the offset of
//! the last record the consumer *consumed* (a client resumes at the next one). Fluvio 0.50 keeps
//! the offsets in partition 0 of the system topic [`CONSUMER_OFFSET_TOPIC`], which its SC
//! creates at start: the SPU leading that partition writes one record per change (see
//! [`OffsetEntry`]) and rebuilds the offsets from its log when it becomes leader.
//!
//! UpdateConsumerOffset acts on a stream session of the connection it arrives on (a StreamFetch
//! opened with a `consumer_id`), so a client sends it to the leader of the partition it reads;
//! that SPU stores the offset, forwarding it to the leader of `consumer-offset` when that is
//! another SPU. Fetch and Delete go straight to the leader of `consumer-offset`.
//!
//! [`ForwardConsumerOffsetRequest`] and [`LookupConsumerOffsetRequest`] are not Fluvio's: they
//! are how `fluvio-local`'s SPUs forward to each other on their private endpoints (Fluvio's SPUs
//! have private requests of their own for the same purpose).

use bytes::{Bytes, BytesMut};

use crate::codec::{ByteVec, Decoder, Encoder, Version};
use crate::compression::Compression;
use crate::error::{DecodeError, EncodeError};
use crate::error_code::{ErrorCode, ReplicaKey};
use crate::record::{NO_TIMESTAMP, RawBatch, Record};
use crate::spu::{SPU_COMMON_VERSION, keys};
use crate::{wire_request, wire_struct};

/// The system topic holding consumer offsets (partition 0).
pub const CONSUMER_OFFSET_TOPIC: &str = "consumer-offset";

/// The partition holding consumer offsets.
pub fn consumer_offset_replica() -> ReplicaKey {
    ReplicaKey::new(CONSUMER_OFFSET_TOPIC, 0)
}

/// The version of the entries written into the `consumer-offset` topic.
pub const OFFSET_ENTRY_VERSION: Version = 0;

wire_struct! {
    /// UpdateConsumerOffset request (key 1006): store `offset` for the consumer of stream
    /// session `session_id` (on the same connection).
    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
    pub struct UpdateConsumerOffsetRequest {
        /// The offset of the last record consumed.
        pub offset: i64,
        /// The stream id of a StreamFetch opened with a consumer id on this connection.
        pub session_id: u32,
    }
}

wire_request!(
    UpdateConsumerOffsetRequest: key keys::UPDATE_CONSUMER_OFFSET,
    versions 0..=SPU_COMMON_VERSION => UpdateConsumerOffsetResponse
);

wire_struct! {
    /// UpdateConsumerOffset response.
    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    pub struct UpdateConsumerOffsetResponse {
        /// The offset stored (0 on error).
        pub offset: i64,
        /// `FetchSessionNotFound` for an unknown session, `Other("stream without consumer
        /// id")` for a session opened without one.
        pub error_code: ErrorCode,
    }
}

wire_struct! {
    /// DeleteConsumerOffset request (key 1007), sent to the leader of `consumer-offset`.
    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    pub struct DeleteConsumerOffsetRequest {
        /// The partition the consumer read.
        pub replica_id: ReplicaKey,
        /// The consumer name.
        pub consumer_id: String,
    }
}

wire_request!(
    DeleteConsumerOffsetRequest: key keys::DELETE_CONSUMER_OFFSET,
    versions 0..=SPU_COMMON_VERSION => DeleteConsumerOffsetResponse
);

wire_struct! {
    /// DeleteConsumerOffset response. Deleting an offset that does not exist succeeds, as on a
    /// Fluvio SPU.
    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    pub struct DeleteConsumerOffsetResponse {
        /// `PartitionNotLeader` when the SPU does not lead `consumer-offset`.
        pub error_code: ErrorCode,
    }
}

wire_struct! {
    /// Which offsets a FetchConsumerOffsets request wants (every field: no filter).
    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    pub struct ConsumerOffsetFilter {
        /// Only this partition's.
        pub replica_id: Option<ReplicaKey>,
        /// Only this consumer's.
        pub consumer_id: Option<String>,
    }
}

wire_struct! {
    /// FetchConsumerOffsets request (key 1008), sent to the leader of `consumer-offset`.
    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    pub struct FetchConsumerOffsetsRequest {
        /// What to list (None: everything).
        @[since 24] pub filter_opts: Option<ConsumerOffsetFilter>,
    }
}

wire_request!(
    FetchConsumerOffsetsRequest: key keys::FETCH_CONSUMER_OFFSETS,
    versions 0..=SPU_COMMON_VERSION => FetchConsumerOffsetsResponse
);

wire_struct! {
    /// One stored consumer offset.
    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    pub struct ConsumerOffset {
        /// The consumer name.
        pub consumer_id: String,
        /// The partition it read.
        pub replica_id: ReplicaKey,
        /// The offset of the last record it consumed.
        pub offset: i64,
        /// When the offset was last stored, in seconds since the Unix epoch.
        pub modified_time: u64,
    }
}

wire_struct! {
    /// FetchConsumerOffsets response.
    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    pub struct FetchConsumerOffsetsResponse {
        /// `PartitionNotLeader` when the SPU does not lead `consumer-offset`.
        pub error_code: ErrorCode,
        /// The offsets (of partitions that exist).
        pub consumers: Vec<ConsumerOffset>,
    }
}

// ---------------------------------------------------------------------------------------------
// What the `consumer-offset` topic holds

wire_struct! {
    /// The key of a stored offset (encoded at [`OFFSET_ENTRY_VERSION`] into
    /// [`OffsetEntry::Updated::key`]).
    #[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
    pub struct OffsetKey {
        /// The partition the consumer read.
        pub replica_id: ReplicaKey,
        /// The consumer name.
        pub consumer_id: String,
    }
}

wire_struct! {
    /// The value of a stored offset.
    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
    pub struct OffsetValue {
        /// The offset of the last record consumed.
        pub offset: i64,
        /// When it was stored, in seconds since the Unix epoch.
        pub modified_time: u64,
    }
}

/// One record of the `consumer-offset` topic: a change to the stored offsets, or the start of a
/// snapshot. Each record's value is one entry encoded at [`OFFSET_ENTRY_VERSION`] (u8 tag, then
/// the fields); the records have no key and no timestamp.
///
/// The offsets are the `Updated` and `Deleted` entries applied in log order. Every so often the
/// leader writes a snapshot: one batch holding a `Checkpoint` followed by an `Updated` entry per
/// stored offset, so that the offsets are rebuilt from the last checkpoint on, reading the log
/// backwards from its end.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum OffsetEntry {
    /// An offset was stored (tag 0). Key and value are encoded [`OffsetKey`] and
    /// [`OffsetValue`].
    Updated {
        /// Encoded [`OffsetKey`].
        key: ByteVec,
        /// Encoded [`OffsetValue`].
        value: ByteVec,
    },
    /// An offset was deleted (tag 1).
    Deleted {
        /// Encoded [`OffsetKey`].
        key: ByteVec,
    },
    /// A snapshot of every offset follows (tag 2).
    #[default]
    Checkpoint,
}

impl OffsetEntry {
    /// The entry storing `value` under `key`.
    pub fn updated(key: &OffsetKey, value: &OffsetValue) -> Result<Self, EncodeError> {
        Ok(Self::Updated {
            key: ByteVec(key.to_bytes(OFFSET_ENTRY_VERSION)?),
            value: ByteVec(value.to_bytes(OFFSET_ENTRY_VERSION)?),
        })
    }

    /// The entry deleting `key`.
    pub fn deleted(key: &OffsetKey) -> Result<Self, EncodeError> {
        Ok(Self::Deleted { key: ByteVec(key.to_bytes(OFFSET_ENTRY_VERSION)?) })
    }

    /// Decodes the key of an `Updated` or `Deleted` entry.
    pub fn decode_key(key: &ByteVec) -> Result<OffsetKey, DecodeError> {
        OffsetKey::decode_exact(key.0.clone(), OFFSET_ENTRY_VERSION).map_err(|e| e.within("OffsetEntry.key"))
    }

    /// Decodes the value of an `Updated` entry.
    pub fn decode_value(value: &ByteVec) -> Result<OffsetValue, DecodeError> {
        OffsetValue::decode_exact(value.0.clone(), OFFSET_ENTRY_VERSION).map_err(|e| e.within("OffsetEntry.value"))
    }
}

impl Encoder for OffsetEntry {
    fn encode(&self, dst: &mut BytesMut, version: Version) -> Result<(), EncodeError> {
        match self {
            OffsetEntry::Updated { key, value } => {
                0u8.encode(dst, version)?;
                key.encode(dst, version)?;
                value.encode(dst, version)
            }
            OffsetEntry::Deleted { key } => {
                1u8.encode(dst, version)?;
                key.encode(dst, version)
            }
            OffsetEntry::Checkpoint => 2u8.encode(dst, version),
        }
    }
}

impl Decoder for OffsetEntry {
    fn decode(src: &mut Bytes, version: Version) -> Result<Self, DecodeError> {
        match u8::decode(src, version)? {
            0 => {
                Ok(OffsetEntry::Updated { key: ByteVec::decode(src, version)?, value: ByteVec::decode(src, version)? })
            }
            1 => Ok(OffsetEntry::Deleted { key: ByteVec::decode(src, version)? }),
            2 => Ok(OffsetEntry::Checkpoint),
            tag => Err(DecodeError::unknown_tag("OffsetEntry", tag)),
        }
    }
}

/// The batch a Fluvio SPU appends to `consumer-offset` for `entries`: one record per entry, in
/// order, with no key, uncompressed and without timestamps.
pub fn entries_batch(entries: &[OffsetEntry]) -> Result<RawBatch, EncodeError> {
    let records = entries
        .iter()
        .enumerate()
        .map(|(index, entry)| Ok(Record::new(None, entry.to_bytes(OFFSET_ENTRY_VERSION)?, index as i64, 0)))
        .collect::<Result<Vec<_>, EncodeError>>()?;
    RawBatch::from_records(&records, Compression::None, NO_TIMESTAMP)
}

// ---------------------------------------------------------------------------------------------
// fluvio-local's SPU-to-SPU forwarding (private endpoints; not part of Fluvio's protocol)

/// Keys of the forwarding requests, in the private key range (next to
/// [`crate::replication::keys`]).
pub mod private_keys {
    /// [`super::ForwardConsumerOffsetRequest`].
    pub const FORWARD_CONSUMER_OFFSET: u16 = 6101;
    /// [`super::LookupConsumerOffsetRequest`].
    pub const LOOKUP_CONSUMER_OFFSET: u16 = 6102;
}

wire_struct! {
    /// An SPU asks the leader of `consumer-offset` to store an offset its client committed
    /// (key 6101, v0).
    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    pub struct ForwardConsumerOffsetRequest {
        /// The partition the consumer read.
        pub replica_id: ReplicaKey,
        /// The consumer name.
        pub consumer_id: String,
        /// The offset of the last record consumed.
        pub offset: i64,
    }
}

wire_request!(
    ForwardConsumerOffsetRequest: key private_keys::FORWARD_CONSUMER_OFFSET,
    versions 0..=0 => ForwardConsumerOffsetResponse
);

wire_struct! {
    /// Answer to [`ForwardConsumerOffsetRequest`], once the offset is committed (held by every
    /// in-sync replica of `consumer-offset`).
    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    pub struct ForwardConsumerOffsetResponse {
        /// `PartitionNotLeader` when the receiver does not lead `consumer-offset`.
        pub error_code: ErrorCode,
    }
}

wire_struct! {
    /// An SPU asks the leader of `consumer-offset` for one stored offset (key 6102, v0): for a
    /// FetchOffsets request carrying a consumer id (exactly v23).
    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    pub struct LookupConsumerOffsetRequest {
        /// The partition the consumer read.
        pub replica_id: ReplicaKey,
        /// The consumer name.
        pub consumer_id: String,
    }
}

wire_request!(
    LookupConsumerOffsetRequest: key private_keys::LOOKUP_CONSUMER_OFFSET,
    versions 0..=0 => LookupConsumerOffsetResponse
);

wire_struct! {
    /// Answer to [`LookupConsumerOffsetRequest`].
    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    pub struct LookupConsumerOffsetResponse {
        /// `PartitionNotLeader` when the receiver does not lead `consumer-offset`.
        pub error_code: ErrorCode,
        /// The stored offset (None: the consumer has none for the partition).
        pub offset: Option<i64>,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        s.split_whitespace().map(|b| u8::from_str_radix(b, 16).unwrap()).collect()
    }

    #[test]
    fn update_request_layout() {
        let request = UpdateConsumerOffsetRequest { offset: 5, session_id: 1 };
        let bytes = request.to_bytes(25).unwrap();
        assert_eq!(bytes.as_ref(), hex("00 00 00 00 00 00 00 05 00 00 00 01").as_slice());
    }

    #[test]
    fn fetch_filter_is_on_the_wire_from_v24() {
        let request = FetchConsumerOffsetsRequest {
            filter_opts: Some(ConsumerOffsetFilter { replica_id: Some(ReplicaKey::new("t", 0)), consumer_id: None }),
        };
        assert!(request.to_bytes(23).unwrap().is_empty());
        assert_eq!(request.to_bytes(24).unwrap().as_ref(), hex("01 01 00 01 74 00 00 00 00 00").as_slice());
        let none = FetchConsumerOffsetsRequest { filter_opts: None };
        assert_eq!(none.to_bytes(25).unwrap().as_ref(), [0]);
    }

    #[test]
    fn entries_round_trip() {
        let key = OffsetKey { replica_id: ReplicaKey::new("t", 2), consumer_id: "c".into() };
        let value = OffsetValue { offset: 7, modified_time: 1_700_000_000 };
        let updated = OffsetEntry::updated(&key, &value).unwrap();
        let bytes = updated.to_bytes(OFFSET_ENTRY_VERSION).unwrap();
        // tag, key (u32 length + ReplicaKey + String), value (u32 length + i64 + u64)
        assert_eq!(bytes[0], 0);
        assert_eq!(&bytes[1..5], &[0, 0, 0, 10]);
        assert_eq!(&bytes[15..19], &[0, 0, 0, 16]);
        let decoded = OffsetEntry::decode_exact(bytes, OFFSET_ENTRY_VERSION).unwrap();
        let OffsetEntry::Updated { key: k, value: v } = &decoded else { panic!("{decoded:?}") };
        assert_eq!(OffsetEntry::decode_key(k).unwrap(), key);
        assert_eq!(OffsetEntry::decode_value(v).unwrap(), value);
        let deleted = OffsetEntry::deleted(&key).unwrap();
        let bytes = deleted.to_bytes(OFFSET_ENTRY_VERSION).unwrap();
        assert_eq!(OffsetEntry::decode_exact(bytes, OFFSET_ENTRY_VERSION).unwrap(), deleted);
        assert_eq!(OffsetEntry::Checkpoint.to_bytes(OFFSET_ENTRY_VERSION).unwrap().as_ref(), [2]);
        let unknown = OffsetEntry::decode_exact(Bytes::from_static(&[3]), OFFSET_ENTRY_VERSION);
        assert!(unknown.is_err());
    }
}
