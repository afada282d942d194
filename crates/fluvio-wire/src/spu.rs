//! SPU public APIs (§4): Produce, FetchOffsets, StreamFetch and UpdateOffsets.

use bytes::{Bytes, BytesMut};

use crate::api::RequestHeader;
use crate::codec::{ByteVec, Decoder, Encoder, Version, encode_count};
use crate::error::{DecodeError, EncodeError};
use crate::error_code::ErrorCode;
use crate::frame::{begin_frame, finish_frame_in_pieces};
use crate::record::{RecordSet, SendableBatch};
use crate::smartmodule::{DerivedStreamInvocation, SmartModuleInvocation};
use crate::{wire_request, wire_struct, wire_unit_enum};

/// SPU API keys.
pub mod keys {
    /// Produce.
    pub const PRODUCE: u16 = 0;
    /// Kafka-style Fetch (not used by the official client).
    pub const FETCH: u16 = 1;
    /// FetchOffsets.
    pub const FETCH_OFFSETS: u16 = 1002;
    /// StreamFetch.
    pub const STREAM_FETCH: u16 = 1003;
    /// UpdateOffsets (stream acknowledgement).
    pub const UPDATE_OFFSETS: u16 = 1005;
    /// UpdateConsumerOffset.
    pub const UPDATE_CONSUMER_OFFSET: u16 = 1006;
    /// DeleteConsumerOffset.
    pub const DELETE_CONSUMER_OFFSET: u16 = 1007;
    /// FetchConsumerOffsets.
    pub const FETCH_CONSUMER_OFFSETS: u16 = 1008;
}

/// The version of the SPU APIs the official 0.50 client sends ("COMMON_VERSION").
pub const SPU_COMMON_VERSION: Version = 25;

wire_unit_enum! {
    /// Which records a read may see (and, for produce, when the write is acknowledged).
    pub enum Isolation: u8 {
        /// Up to the leader's log end.
        #[default]
        ReadUncommitted = 0,
        /// Up to the high watermark.
        ReadCommitted = 1,
    }
}

/// Produce's acknowledgement field: the isolation carried as a Kafka-style `acks` i16
/// (ReadUncommitted → 1, ReadCommitted → -1; any negative value decodes as ReadCommitted).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProduceAcks(pub Isolation);

impl Encoder for ProduceAcks {
    fn encode(&self, dst: &mut BytesMut, version: Version) -> Result<(), EncodeError> {
        let acks: i16 = match self.0 {
            Isolation::ReadUncommitted => 1,
            Isolation::ReadCommitted => -1,
        };
        acks.encode(dst, version)
    }
}

impl Decoder for ProduceAcks {
    fn decode(src: &mut Bytes, version: Version) -> Result<Self, DecodeError> {
        let acks = i16::decode(src, version)?;
        Ok(ProduceAcks(if acks < 0 { Isolation::ReadCommitted } else { Isolation::ReadUncommitted }))
    }
}

wire_struct! {
    /// Records for one partition in a Produce request.
    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    pub struct PartitionProduceData {
        /// Partition index.
        pub partition_index: u32,
        /// The batches (the official producer sends one batch per entry).
        pub records: RecordSet,
    }
}

wire_struct! {
    /// Records for one topic in a Produce request.
    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    pub struct TopicProduceData {
        /// Topic name.
        pub name: String,
        /// Partition entries, answered one for one and in order.
        pub partitions: Vec<PartitionProduceData>,
    }
}

wire_struct! {
    /// Produce request (key 0).
    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    pub struct ProduceRequest {
        /// Always None. On the wire at every version: the official codec documents it as
        /// "min v3" but its hand-written encoder and decoder never gate it.
        pub transactional_id: Option<String>,
        /// When to acknowledge.
        pub isolation: ProduceAcks,
        /// Milliseconds the server may wait for commitment (ReadCommitted).
        pub timeout_ms: i32,
        /// The records.
        pub topics: Vec<TopicProduceData>,
        /// Always empty from the official producer (not version-gated).
        pub smartmodules: Vec<SmartModuleInvocation>,
    }
}

wire_request!(ProduceRequest: key keys::PRODUCE, versions 0..=SPU_COMMON_VERSION => ProduceResponse);

/// A Produce request for one partition of one topic, one partition entry per batch, encoded
/// in pieces so that the batches' records are shared rather than copied into the frame: a
/// producer's request is mostly records, and copying a megabyte into a fresh buffer per
/// request costs the copy and the new pages it lands on.
#[derive(Debug, Clone, Copy)]
pub struct ProducePieces<'a> {
    /// When to acknowledge.
    pub isolation: ProduceAcks,
    /// Milliseconds the server may wait for commitment (ReadCommitted).
    pub timeout_ms: i32,
    /// The topic.
    pub topic: &'a str,
    /// The partition every entry is for.
    pub partition: u32,
    /// The entries' batches, in order.
    pub batches: &'a [&'a SendableBatch],
}

impl ProducePieces<'_> {
    /// The whole request frame (length prefix, `header`, body) as pieces that, written back to
    /// back, are the bytes [`encode_request_frame`](crate::api::encode_request_frame) writes
    /// for [`Self::to_request`]. Each batch's records are a piece of their own, shared.
    pub fn encode_frame(&self, header: &RequestHeader) -> Result<Vec<Bytes>, EncodeError> {
        let version = header.api_version;
        let mut pieces = Vec::with_capacity(2 * self.batches.len() + 1);
        let mut small = BytesMut::with_capacity(128 + self.batches.first().map_or(0, |b| b.head().len()));
        let prefix = begin_frame(&mut small);
        header.encode(&mut small, 0)?;
        None::<String>.encode(&mut small, version)?;
        self.isolation.encode(&mut small, version)?;
        self.timeout_ms.encode(&mut small, version)?;
        encode_count(1, &mut small)?;
        self.topic.encode(&mut small, version)?;
        encode_count(self.batches.len(), &mut small)?;
        // The length prefix is known before the records are: patched now, while the first
        // piece is still being written.
        let records: usize = self.batches.iter().map(|batch| 8 + batch.len()).sum();
        finish_frame_in_pieces(&mut small, prefix, records + 4)?;
        for batch in self.batches {
            self.partition.encode(&mut small, version)?;
            let len = i32::try_from(batch.len())
                .map_err(|_| EncodeError::OutOfRange("record set longer than 2^31-1 bytes"))?;
            len.encode(&mut small, version)?;
            small.extend_from_slice(batch.head());
            pieces.push(small.split().freeze());
            pieces.push(batch.records().clone());
        }
        // No SmartModules.
        encode_count(0, &mut small)?;
        pieces.push(small.freeze());
        Ok(pieces)
    }

    /// The same request with each batch copied into its entry's record set.
    pub fn to_request(&self) -> ProduceRequest {
        ProduceRequest {
            transactional_id: None,
            isolation: self.isolation,
            timeout_ms: self.timeout_ms,
            topics: vec![TopicProduceData {
                name: self.topic.to_string(),
                partitions: self
                    .batches
                    .iter()
                    .map(|batch| PartitionProduceData {
                        partition_index: self.partition,
                        records: batch.to_record_set(),
                    })
                    .collect(),
            }],
            smartmodules: Vec::new(),
        }
    }
}

wire_struct! {
    /// Result for one partition entry of a Produce request.
    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    pub struct PartitionProduceResponse {
        /// Partition index.
        pub partition_index: u32,
        /// Outcome.
        pub error_code: ErrorCode,
        /// Offset given to the first record of the entry.
        pub base_offset: i64,
        /// Always 0.
        @[since 2] pub log_append_time_ms: i64,
        /// Always 0.
        @[since 5] pub log_start_offset: i64,
    }
}

wire_struct! {
    /// Results for one topic.
    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    pub struct TopicProduceResponse {
        /// Topic name.
        pub name: String,
        /// One entry per request entry, in request order.
        pub partitions: Vec<PartitionProduceResponse>,
    }
}

wire_struct! {
    /// Produce response.
    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    pub struct ProduceResponse {
        /// Per-topic results.
        pub responses: Vec<TopicProduceResponse>,
        /// Always 0.
        @[since 1] pub throttle_time_ms: i32,
    }
}

wire_struct! {
    /// A partition in a FetchOffsets request.
    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    pub struct FetchOffsetPartition {
        /// Partition index.
        pub partition_index: u32,
    }
}

wire_struct! {
    /// A topic in a FetchOffsets request.
    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    pub struct FetchOffsetTopic {
        /// Topic name.
        pub name: String,
        /// Partitions.
        pub partitions: Vec<FetchOffsetPartition>,
    }
}

wire_struct! {
    /// FetchOffsets request (key 1002).
    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    pub struct FetchOffsetsRequest {
        /// Topics.
        pub topics: Vec<FetchOffsetTopic>,
        /// Deprecated; present only at exactly v23.
        @[since 23 until 23] pub consumer_id: Option<String>,
    }
}

wire_request!(FetchOffsetsRequest: key keys::FETCH_OFFSETS, versions 0..=SPU_COMMON_VERSION => FetchOffsetsResponse);

wire_struct! {
    /// Offsets of one partition.
    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    pub struct FetchOffsetPartitionResponse {
        /// Outcome (first on the wire).
        pub error_code: ErrorCode,
        /// Partition index.
        pub partition_index: u32,
        /// Log start offset.
        pub start_offset: i64,
        /// High watermark.
        pub last_stable_offset: i64,
    }
}

wire_struct! {
    /// Offsets of one topic.
    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    pub struct FetchOffsetTopicResponse {
        /// Topic name.
        pub name: String,
        /// Partitions.
        pub partitions: Vec<FetchOffsetPartitionResponse>,
    }
}

wire_struct! {
    /// FetchOffsets response.
    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    pub struct FetchOffsetsResponse {
        /// Topics.
        pub topics: Vec<FetchOffsetTopicResponse>,
    }
}

wire_struct! {
    /// StreamFetch request (key 1003): opens a stream of record pushes for one partition.
    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    pub struct StreamFetchRequest {
        /// Topic name.
        pub topic: String,
        /// Partition index.
        pub partition: u32,
        /// Absolute offset to start from.
        pub fetch_offset: i64,
        /// Size budget per push.
        pub max_bytes: i32,
        /// Visible end: high watermark or log end.
        pub isolation: Isolation,
        /// Legacy WASM payload.
        @[since 11 until 18] pub wasm_module: ByteVec,
        /// Legacy single SmartModule.
        @[since 16 until 18] pub smartmodule: Option<SmartModuleInvocation>,
        /// Legacy derived stream.
        @[since 16 until 18] pub derivedstream: Option<DerivedStreamInvocation>,
        /// SmartModule chain (empty from the official consumer by default).
        @[since 18] pub smartmodules: Vec<SmartModuleInvocation>,
        /// Consumer id for server-side offsets.
        @[since 23] pub consumer_id: Option<String>,
    }
}

wire_request!(StreamFetchRequest: key keys::STREAM_FETCH, versions 0..=SPU_COMMON_VERSION => StreamFetchResponse);

wire_struct! {
    /// An aborted transaction (never sent by Fluvio; kept for layout).
    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    pub struct AbortedTransaction {
        /// Producer id.
        pub producer_id: i64,
        /// First offset.
        pub first_offset: i64,
    }
}

wire_struct! {
    /// The partition part of a StreamFetch push.
    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    pub struct FetchablePartitionResponse {
        /// Partition index.
        pub partition_index: u32,
        /// Outcome.
        pub error_code: ErrorCode,
        /// High watermark when the push was made.
        pub high_watermark: i64,
        /// Next offset after SmartModule filtering (0 when none applies).
        @[since 11] pub next_filter_offset: i64,
        /// Log start offset.
        pub log_start_offset: i64,
        /// Always None.
        pub aborted: Option<Vec<AbortedTransaction>>,
        /// Whole batches (this server) or a byte slice of the log (official SPU).
        pub records: RecordSet,
    }
}

wire_struct! {
    /// One StreamFetch push; many arrive under the request's correlation id.
    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    pub struct StreamFetchResponse {
        /// Topic name.
        pub topic: String,
        /// Per-connection stream id (0 in a not-leader refusal).
        pub stream_id: u32,
        /// The data.
        pub partition: FetchablePartitionResponse,
    }
}

impl StreamFetchResponse {
    /// The whole response frame (length prefix, `correlation_id`, body) as two pieces that,
    /// written back to back, are the bytes [`encode_response_frame`](crate::api::encode_response_frame)
    /// writes: everything up to the record set's length, then the record set's bytes, shared
    /// rather than copied (a push is mostly records: up to a megabyte read from the log).
    pub fn encode_frame(&self, correlation_id: i32, version: Version) -> Result<[Bytes; 2], EncodeError> {
        let records = self.partition.records.as_bytes().clone();
        let records_len =
            i32::try_from(records.len()).map_err(|_| EncodeError::OutOfRange("record set longer than 2^31-1 bytes"))?;
        // The record set is the body's last field: encoded empty, its length (the last four
        // bytes) and the frame's are then patched.
        let mut head = BytesMut::with_capacity(96 + self.topic.len());
        let prefix = begin_frame(&mut head);
        correlation_id.encode(&mut head, version)?;
        let without_records = StreamFetchResponse {
            topic: self.topic.clone(),
            stream_id: self.stream_id,
            partition: FetchablePartitionResponse {
                partition_index: self.partition.partition_index,
                error_code: self.partition.error_code.clone(),
                high_watermark: self.partition.high_watermark,
                next_filter_offset: self.partition.next_filter_offset,
                log_start_offset: self.partition.log_start_offset,
                aborted: self.partition.aborted.clone(),
                records: RecordSet::default(),
            },
        };
        without_records.encode(&mut head, version)?;
        finish_frame_in_pieces(&mut head, prefix, records.len())?;
        let end = head.len();
        head[end - 4..].copy_from_slice(&records_len.to_be_bytes());
        Ok([head.freeze(), records])
    }
}

wire_struct! {
    /// One acknowledgement: the next offset a stream's consumer wants.
    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
    pub struct OffsetUpdate {
        /// Next offset wanted (exclusive end of what was consumed).
        pub offset: i64,
        /// Stream id.
        pub session_id: u32,
    }
}

wire_struct! {
    /// UpdateOffsets request (key 1005, v0): flow control for streams.
    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    pub struct UpdateOffsetsRequest {
        /// Acknowledgements.
        pub offsets: Vec<OffsetUpdate>,
    }
}

wire_request!(UpdateOffsetsRequest: key keys::UPDATE_OFFSETS, versions 0..=0 => UpdateOffsetsResponse);

wire_struct! {
    /// Outcome for one acknowledged stream.
    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    pub struct OffsetUpdateStatus {
        /// Stream id.
        pub session_id: u32,
        /// None, or FetchSessionNotFound.
        pub error: ErrorCode,
    }
}

wire_struct! {
    /// UpdateOffsets response.
    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    pub struct UpdateOffsetsResponse {
        /// One status per acknowledgement.
        pub status: Vec<OffsetUpdateStatus>,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{RequestHeader, encode_request_frame, encode_response_frame};
    use crate::compression::Compression;
    use crate::record::{RawBatch, Record};

    fn hex(s: &str) -> Vec<u8> {
        s.split_whitespace().map(|b| u8::from_str_radix(b, 16).unwrap()).collect()
    }

    #[test]
    fn produce_pieces_are_the_bytes_of_the_same_request_encoded_whole() {
        let records = |n: usize, size: usize| -> Vec<Record> {
            (0..n).map(|i| Record::new(None, Bytes::from(vec![i as u8; size]), i as i64, i as i64)).collect()
        };
        let raws = [
            RawBatch::from_records(&records(1, 4), Compression::None, 1555478494747).unwrap(),
            RawBatch::from_records(&records(40, 700), Compression::None, 1555478494800).unwrap(),
            RawBatch::from_records(&records(3, 90_000), Compression::Gzip, 1555478494900).unwrap(),
        ];
        let batches: Vec<SendableBatch> = raws.iter().map(|raw| SendableBatch::new(raw).unwrap()).collect();
        for (batch, raw) in batches.iter().zip(&raws) {
            // A batch's two pieces are its whole encoding, CRC included.
            assert_eq!(batch.to_record_set(), RecordSet::from_batches([raw]).unwrap());
            assert_eq!(batch.len(), raw.encoded_len());
        }
        let all: Vec<&SendableBatch> = batches.iter().collect();
        for (chosen, topic, isolation) in [
            (&all[..1], "t", Isolation::ReadCommitted),
            (&all[..], "a-topic", Isolation::ReadUncommitted),
            (&all[1..2], "x", Isolation::ReadCommitted),
        ] {
            let request = ProducePieces {
                isolation: ProduceAcks(isolation),
                timeout_ms: 1500,
                topic,
                partition: 7,
                batches: chosen,
            };
            for version in [0, 7, SPU_COMMON_VERSION] {
                let header = header(keys::PRODUCE, version, 42);
                let pieces = request.encode_frame(&header).unwrap();
                assert_eq!(pieces.len(), 2 * chosen.len() + 1);
                let mut whole = BytesMut::new();
                encode_request_frame(&header, &request.to_request(), &mut whole).unwrap();
                assert_eq!(pieces.concat(), whole.to_vec(), "{} batches at v{version}", chosen.len());
                // The records are shared, not copied.
                for (k, batch) in chosen.iter().enumerate() {
                    assert_eq!(pieces[2 * k + 1].as_ptr(), batch.records().as_ptr());
                }
            }
        }
    }

    #[test]
    fn a_push_in_pieces_is_the_whole_encoding_with_its_records_shared() {
        let batch = test_batch();
        let records = RecordSet::from_batches([&batch, &batch]).unwrap();
        for (records, aborted) in [(records, None), (RecordSet::default(), Some(vec![]))] {
            let push = StreamFetchResponse {
                topic: "a-topic".into(),
                stream_id: 3,
                partition: FetchablePartitionResponse {
                    partition_index: 2,
                    error_code: ErrorCode::None,
                    high_watermark: 40,
                    next_filter_offset: 0,
                    log_start_offset: 5,
                    aborted,
                    records,
                },
            };
            for version in [10, 11, SPU_COMMON_VERSION] {
                let pieces = push.encode_frame(77, version).unwrap();
                let mut whole = BytesMut::new();
                encode_response_frame(77, &push, version, &mut whole).unwrap();
                assert_eq!(pieces.concat(), whole.to_vec(), "v{version}");
                assert_eq!(pieces[1].as_ptr(), push.partition.records.as_bytes().as_ptr(), "shared, not copied");
            }
        }
    }

    fn test_batch() -> RawBatch {
        RawBatch::from_records(
            &[Record::new(None, Bytes::from_static(b"test"), 0, 0)],
            Compression::None,
            1555478494747,
        )
        .unwrap()
    }

    fn header(api_key: u16, api_version: i16, correlation_id: i32) -> RequestHeader {
        RequestHeader { api_key, api_version, correlation_id, client_id: "fluvio".into() }
    }

    #[test]
    fn produce_request_vector() {
        let request = ProduceRequest {
            transactional_id: None,
            isolation: ProduceAcks(Isolation::ReadUncommitted),
            timeout_ms: 1500,
            topics: vec![TopicProduceData {
                name: "t".into(),
                partitions: vec![PartitionProduceData {
                    partition_index: 0,
                    records: RecordSet::from_batches([&test_batch()]).unwrap(),
                }],
            }],
            smartmodules: vec![],
        };
        let mut dst = BytesMut::new();
        encode_request_frame(&header(0, 25, 2), &request, &mut dst).unwrap();
        let prefix = hex("00 00 00 76 00 00 00 19 00 00 00 02 00 06 66 6c 75 76 69 6f
             00 00 01 00 00 05 dc 00 00 00 01 00 01 74 00 00 00 01 00 00 00 00 00 00 00 48");
        assert_eq!(&dst[..prefix.len()], prefix.as_slice());
        assert_eq!(&dst[dst.len() - 4..], &[0, 0, 0, 0]);
        assert_eq!(dst.len(), 4 + 0x76);

        let mut frame = dst.freeze().slice(4..);
        let decoded_header = RequestHeader::decode_from_frame(&mut frame).unwrap();
        assert_eq!(decoded_header.api_version, 25);
        assert_eq!(ProduceRequest::decode_exact(frame, 25).unwrap(), request);
    }

    #[test]
    fn stream_fetch_request_vector() {
        let request = StreamFetchRequest {
            topic: "t".into(),
            max_bytes: 0x0010013a,
            isolation: Isolation::ReadUncommitted,
            ..Default::default()
        };
        let mut dst = BytesMut::new();
        encode_request_frame(&header(1003, 25, 3), &request, &mut dst).unwrap();
        let expected = hex("00 00 00 29 03 eb 00 19 00 00 00 03 00 06 66 6c 75 76 69 6f
             00 01 74 00 00 00 00 00 00 00 00 00 00 00 00 00 10 01 3a 00 00 00 00 00 00");
        assert_eq!(&dst[..], expected.as_slice());
    }

    #[test]
    fn stream_fetch_push_vector() {
        let push = StreamFetchResponse {
            topic: "t".into(),
            stream_id: 1,
            partition: FetchablePartitionResponse {
                partition_index: 0,
                error_code: ErrorCode::None,
                high_watermark: 1,
                next_filter_offset: 0,
                log_start_offset: 0,
                aborted: None,
                records: RecordSet::from_batches([&test_batch()]).unwrap(),
            },
        };
        let mut dst = BytesMut::new();
        encode_response_frame(3, &push, 25, &mut dst).unwrap();
        let prefix = hex("00 00 00 76 00 00 00 03  00 01 74  00 00 00 01  00 00 00 00  00 00
             00 00 00 00 00 00 00 01  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  00  00 00 00 48");
        assert_eq!(&dst[..prefix.len()], prefix.as_slice());
        assert_eq!(dst.len(), 4 + 0x76);
    }

    #[test]
    fn update_offsets_vectors() {
        let request = UpdateOffsetsRequest { offsets: vec![OffsetUpdate { offset: 1, session_id: 1 }] };
        let mut dst = BytesMut::new();
        encode_request_frame(&header(1005, 0, 4), &request, &mut dst).unwrap();
        let expected = hex("00 00 00 20 03 ed 00 00 00 00 00 04 00 06 66 6c 75 76 69 6f
             00 00 00 01 00 00 00 00 00 00 00 01 00 00 00 01");
        assert_eq!(&dst[..], expected.as_slice());

        let response =
            UpdateOffsetsResponse { status: vec![OffsetUpdateStatus { session_id: 1, error: ErrorCode::None }] };
        let mut dst = BytesMut::new();
        encode_response_frame(4, &response, 0, &mut dst).unwrap();
        assert_eq!(&dst[..], hex("00 00 00 0e 00 00 00 04 00 00 00 01 00 00 00 01 00 00").as_slice());
    }

    #[test]
    fn fetch_offsets_vectors() {
        let request = FetchOffsetsRequest {
            topics: vec![FetchOffsetTopic {
                name: "t".into(),
                partitions: vec![FetchOffsetPartition { partition_index: 0 }],
            }],
            consumer_id: None,
        };
        let mut dst = BytesMut::new();
        encode_request_frame(&header(1002, 25, 5), &request, &mut dst).unwrap();
        let expected = hex(
            "00 00 00 1f 03 ea 00 19 00 00 00 05 00 06 66 6c 75 76 69 6f 00 00 00 01 00 01 74 00 00 00 01 00 00 00 00",
        );
        assert_eq!(&dst[..], expected.as_slice());

        let response = FetchOffsetsResponse {
            topics: vec![FetchOffsetTopicResponse {
                name: "t".into(),
                partitions: vec![FetchOffsetPartitionResponse {
                    error_code: ErrorCode::None,
                    partition_index: 0,
                    start_offset: 0,
                    last_stable_offset: 1,
                }],
            }],
        };
        let mut dst = BytesMut::new();
        encode_response_frame(5, &response, 25, &mut dst).unwrap();
        let expected = hex("00 00 00 25 00 00 00 05 00 00 00 01 00 01 74 00 00 00 01 00 00 00 00 00 00
             00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01");
        assert_eq!(&dst[..], expected.as_slice());
    }

    #[test]
    fn produce_request_carries_transactional_id_at_every_version() {
        // Pinned against the official 0.50.1 encoder, which writes the field even below v3.
        let request = ProduceRequest {
            transactional_id: Some("tx".into()),
            isolation: ProduceAcks(Isolation::ReadCommitted),
            timeout_ms: 1500,
            topics: vec![],
            smartmodules: vec![],
        };
        let expected = hex("01 00 02 74 78 ff ff 00 00 05 dc 00 00 00 00 00 00 00 00");
        for version in [0, 2, 3, 25] {
            let bytes = request.to_bytes(version).unwrap();
            assert_eq!(bytes.as_ref(), expected.as_slice(), "v{version}");
            assert_eq!(ProduceRequest::decode_exact(bytes, version).unwrap(), request);
        }
    }

    #[test]
    fn produce_acks_decode_like_the_official_server() {
        for (acks, isolation) in [
            (-1i16, Isolation::ReadCommitted),
            (-7, Isolation::ReadCommitted),
            (0, Isolation::ReadUncommitted),
            (1, Isolation::ReadUncommitted),
        ] {
            let decoded = ProduceAcks::decode_exact(Bytes::copy_from_slice(&acks.to_be_bytes()), 25).unwrap();
            assert_eq!(decoded.0, isolation);
        }
    }
}
