//! SPU APIs: Produce, FetchOffsets, StreamFetch (all layouts), UpdateOffsets.

use std::collections::BTreeMap;
use std::time::Duration;

use bytes::Bytes;
use fluvio_spu_schema::server::stream_fetch::DefaultStreamFetchRequest;
use fluvio_wire::codec::ByteVec;
use fluvio_wire::error_code::ReplicaKey;
use fluvio_wire::record::{RawBatch, RecordSet};
use fluvio_wire::smartmodule::{
    DerivedStreamInvocation, Lookback, SmartModuleContext, SmartModuleInvocation, SmartModuleKind, SmartModuleParams,
    SmartModuleWasm,
};
use fluvio_wire::spu::*;
use fluvio_wire::{Compression, ErrorCode, RequestHeader};

use crate::common::convert::{ToTheirs, ours, theirs};
use crate::common::{check, check_exact, their_bytes, unhex};
use crate::frames::{check_request_frame, check_response_frame};
use crate::records::{FIRST_TIMESTAMP, many_records, sample_record_set, sample_records};

fn header(api_key: u16, api_version: i16, correlation_id: i32) -> RequestHeader {
    RequestHeader { api_key, api_version, correlation_id, client_id: "fluvio".into() }
}

fn params(entries: &[(&str, &str)], lookback: Option<Lookback>) -> SmartModuleParams {
    SmartModuleParams {
        params: entries.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<BTreeMap<_, _>>(),
        lookback,
    }
}

/// SmartModule invocations of every wasm source, kind and context, with parameters, look-back
/// and names — each field only where `version` carries it, so decoding gives them back exactly.
pub fn invocations(version: i16) -> Vec<SmartModuleInvocation> {
    let lookback =
        |last, age| (version >= 20).then_some(Lookback { last, age: if version >= 21 { age } else { None } });
    let name = |n: &str| (version >= 25).then(|| n.to_string());
    let adhoc = SmartModuleWasm::AdHoc(ByteVec(Bytes::from_static(&[0x1f, 0x8b, 0xde, 0xad, 0xbe, 0xef])));
    let predefined = |n: &str| SmartModuleWasm::Predefined(n.to_string());
    let acc = ByteVec(Bytes::from_static(b"{\"sum\":0}"));
    let kinds = [
        SmartModuleKind::Filter,
        SmartModuleKind::Map,
        SmartModuleKind::ArrayMap,
        SmartModuleKind::Aggregate { accumulator: acc.clone() },
        SmartModuleKind::FilterMap,
        SmartModuleKind::Join("other-topic".into()),
        SmartModuleKind::JoinStream { topic: "t".into(), derivedstream: "ds".into() },
        SmartModuleKind::Generic(SmartModuleContext::None),
        SmartModuleKind::Generic(SmartModuleContext::Aggregate { accumulator: acc }),
        SmartModuleKind::Generic(SmartModuleContext::Join("joined".into())),
        SmartModuleKind::Generic(SmartModuleContext::JoinStream { topic: "t2".into(), derivedstream: "ds2".into() }),
    ];
    kinds
        .into_iter()
        .enumerate()
        .map(|(i, kind)| SmartModuleInvocation {
            wasm: if i % 2 == 0 { predefined(&format!("infinyon/module-{i}@0.1.0")) } else { adhoc.clone() },
            kind,
            params: match i % 4 {
                0 => SmartModuleParams::default(),
                1 => params(&[("regex", "^a.*"), ("key", "value")], None),
                2 => params(&[("k", "")], lookback(10, Some(Duration::from_secs(3600)))),
                _ => params(&[], lookback(u64::MAX, None)),
            },
            name: if i % 3 == 0 { None } else { name(&format!("sm-{i}")) },
        })
        .collect()
}

fn single_batch_set(records: usize, compression: Compression, base_offset: i64) -> RecordSet {
    let mut batch = RawBatch::from_records(&many_records(records), compression, FIRST_TIMESTAMP).unwrap();
    batch.header.base_offset = base_offset;
    RecordSet::from_batches([&batch]).unwrap()
}

/// A produce request carrying what `version` can carry.
pub fn produce_request(version: i16, isolation: Isolation) -> ProduceRequest {
    let (set, _) = sample_record_set();
    ProduceRequest {
        // Not version-gated upstream, despite its "min_version = 3" annotation.
        transactional_id: Some("tx-1".to_string()),
        isolation: ProduceAcks(isolation),
        timeout_ms: 1500,
        topics: vec![
            TopicProduceData {
                name: "orders".into(),
                partitions: vec![
                    PartitionProduceData { partition_index: 0, records: single_batch_set(1, Compression::None, 0) },
                    // The official producer sends one entry per batch; repeated partitions happen.
                    PartitionProduceData { partition_index: 0, records: single_batch_set(20, Compression::Gzip, 19) },
                    PartitionProduceData { partition_index: 3, records: set },
                    PartitionProduceData { partition_index: 4, records: RecordSet::default() },
                ],
            },
            TopicProduceData { name: "empty".into(), partitions: vec![] },
            TopicProduceData {
                name: "t".into(),
                partitions: vec![PartitionProduceData {
                    partition_index: u32::MAX,
                    records: single_batch_set(3, Compression::Lz4, 0),
                }],
            },
        ],
        smartmodules: invocations(version),
    }
}

#[test]
fn produce_request_at_every_layout() {
    for version in [0, 1, 2, 3, 5, 7, 17, 20, 21, 24, 25] {
        for isolation in [Isolation::ReadUncommitted, Isolation::ReadCommitted] {
            let request = produce_request(version, isolation);
            check_exact("ProduceRequest", &request, version, |r, _| theirs(r), |t, _| ours(t));
            // The richest value at every version: both decoders agree on what stays.
            let decoded = check(
                "ProduceRequest (v25 value)",
                &produce_request(25, isolation),
                version,
                |r, _| theirs(r),
                |t, _| ours(t),
            );
            assert_eq!(decoded.transactional_id.as_deref(), Some("tx-1"), "v{version}");
        }
    }
    let empty = ProduceRequest::default();
    check_exact("empty ProduceRequest", &empty, 25, |r, _| theirs(r), |t, _| ours(t));
}

#[test]
fn produce_request_frames() {
    for (version, correlation_id) in [(25, 2), (7, 3), (3, i32::MAX)] {
        let request = produce_request(version, Isolation::ReadCommitted);
        check_request_frame(
            "Produce frame",
            &header(0, version, correlation_id),
            &request,
            |r, _| theirs(r),
            |t, _| ours(t),
        );
    }
}

#[test]
fn produce_request_pinned_vector() {
    // §4.1 of the protocol notes: 1 batch of "test" to "t" partition 0, ReadUncommitted, 1500 ms.
    let record = fluvio_wire::Record::new(None, Bytes::from_static(b"test"), 0, 0);
    let batch = RawBatch::from_records(&[record], Compression::None, FIRST_TIMESTAMP).unwrap();
    let request = ProduceRequest {
        transactional_id: None,
        isolation: ProduceAcks(Isolation::ReadUncommitted),
        timeout_ms: 1500,
        topics: vec![TopicProduceData {
            name: "t".into(),
            partitions: vec![PartitionProduceData {
                partition_index: 0,
                records: RecordSet::from_batches([&batch]).unwrap(),
            }],
        }],
        smartmodules: vec![],
    };
    let bytes = their_bytes(&request.to_theirs(), 25);
    let prefix = unhex("00 00 01 00 00 05 dc 00 00 00 01 00 01 74 00 00 00 01 00 00 00 00 00 00 00 48");
    assert_eq!(bytes[..prefix.len()], prefix[..]);
    // 0x76 is the frame length: 16 bytes of header, then the body.
    assert_eq!(bytes.len(), 0x76 - 16);
    check_exact("pinned ProduceRequest", &request, 25, |r, _| theirs(r), |t, _| ours(t));
}

pub fn produce_response(version: i16) -> ProduceResponse {
    let partition = |partition_index, error_code, base_offset| PartitionProduceResponse {
        partition_index,
        error_code,
        base_offset,
        log_append_time_ms: if version >= 2 { -1 } else { 0 },
        log_start_offset: if version >= 5 { 17 } else { 0 },
    };
    ProduceResponse {
        responses: vec![
            TopicProduceResponse {
                name: "orders".into(),
                partitions: vec![
                    partition(0, ErrorCode::None, 0),
                    partition(0, ErrorCode::None, 1),
                    partition(3, ErrorCode::NotLeaderForPartition, -1),
                    partition(4, ErrorCode::RequestTimedOut { timeout_ms: 1500, kind: Default::default() }, 7),
                    partition(5, ErrorCode::PartitionFull { replica_key: ReplicaKey::new("orders", 5) }, 0),
                    partition(6, ErrorCode::CompressionError, 0),
                ],
            },
            TopicProduceResponse { name: "empty".into(), partitions: vec![] },
        ],
        throttle_time_ms: if version >= 1 { 250 } else { 0 },
    }
}

#[test]
fn produce_response_at_every_layout() {
    for version in [0, 1, 2, 4, 5, 25] {
        check_exact("ProduceResponse", &produce_response(version), version, |r, _| theirs(r), |t, _| ours(t));
        check("ProduceResponse (v25 value)", &produce_response(25), version, |r, _| theirs(r), |t, _| ours(t));
        check_response_frame(
            "Produce response frame",
            2,
            &produce_response(version),
            version,
            |r, _| theirs(r),
            |t, _| ours(t),
        );
    }
}

fn fetch_offsets_request(version: i16) -> FetchOffsetsRequest {
    FetchOffsetsRequest {
        topics: vec![
            FetchOffsetTopic {
                name: "t".into(),
                partitions: vec![
                    FetchOffsetPartition { partition_index: 0 },
                    FetchOffsetPartition { partition_index: 9 },
                ],
            },
            FetchOffsetTopic { name: "other".into(), partitions: vec![] },
        ],
        consumer_id: (version == 23).then(|| "consumer-a".to_string()),
    }
}

#[test]
fn fetch_offsets() {
    for version in [0, 22, 23, 24, 25] {
        let request = fetch_offsets_request(version);
        check_exact("FetchOffsetsRequest", &request, version, |r, _| theirs(r), |t, _| ours(t));
        // consumer_id is on the wire at exactly v23.
        let decoded = check(
            "FetchOffsetsRequest (v23 value)",
            &fetch_offsets_request(23),
            version,
            |r, _| theirs(r),
            |t, _| ours(t),
        );
        assert_eq!(decoded.consumer_id.is_some(), version == 23);
        check_request_frame(
            "FetchOffsets frame",
            &header(1002, version, 5),
            &request,
            |r, _| theirs(r),
            |t, _| ours(t),
        );
    }
    let response = FetchOffsetsResponse {
        topics: vec![
            FetchOffsetTopicResponse {
                name: "t".into(),
                partitions: vec![
                    FetchOffsetPartitionResponse {
                        error_code: ErrorCode::None,
                        partition_index: 0,
                        start_offset: 0,
                        last_stable_offset: 1,
                    },
                    FetchOffsetPartitionResponse {
                        error_code: ErrorCode::PartitionNotLeader,
                        partition_index: 1,
                        start_offset: -1,
                        last_stable_offset: i64::MAX,
                    },
                ],
            },
            FetchOffsetTopicResponse { name: "x".into(), partitions: vec![] },
        ],
    };
    for version in [23, 25] {
        check_exact("FetchOffsetsResponse", &response, version, |r, _| theirs(r), |t, _| ours(t));
        check_response_frame("FetchOffsets response frame", 5, &response, version, |r, _| theirs(r), |t, _| ours(t));
    }
}

/// A StreamFetch request carrying every field `version` has, with non-empty SmartModule lists
/// and, at v11..=18, the legacy WASM / SmartModule / derived-stream fields.
pub fn stream_fetch_request(version: i16) -> StreamFetchRequest {
    let legacy_sm = SmartModuleInvocation {
        wasm: SmartModuleWasm::AdHoc(ByteVec(Bytes::from_static(b"\x1f\x8blegacy"))),
        kind: SmartModuleKind::Aggregate { accumulator: ByteVec(Bytes::from_static(b"0")) },
        params: params(&[("a", "b")], None),
        name: None,
    };
    StreamFetchRequest {
        topic: "topic-a".into(),
        partition: 7,
        fetch_offset: 1_000_000_007,
        max_bytes: 1_048_890,
        isolation: Isolation::ReadCommitted,
        wasm_module: if (11..=18).contains(&version) {
            ByteVec(Bytes::from_static(&[0, 97, 115, 109, 1, 0, 0, 0]))
        } else {
            ByteVec::default()
        },
        smartmodule: (16..=18).contains(&version).then_some(legacy_sm),
        derivedstream: (16..=18).contains(&version).then(|| DerivedStreamInvocation {
            stream: "derived".into(),
            params: params(&[("x", "1"), ("y", "2")], None),
        }),
        smartmodules: if version >= 18 { invocations(version) } else { vec![] },
        consumer_id: (version >= 23).then(|| "consumer-1".to_string()),
    }
}

#[test]
fn stream_fetch_request_at_every_layout() {
    for version in (0..=25).rev() {
        let request = stream_fetch_request(version);
        check_exact("StreamFetchRequest", &request, version, |r, _| theirs(r), |t, _| ours(t));
        // The legacy-rich v17 value and the current one at every version: the decoders agree.
        check("StreamFetchRequest (v17 value)", &stream_fetch_request(17), version, |r, _| theirs(r), |t, _| ours(t));
        check("StreamFetchRequest (v25 value)", &stream_fetch_request(25), version, |r, _| theirs(r), |t, _| ours(t));
    }
    for version in [25, 23, 18, 16, 11] {
        check_request_frame(
            "StreamFetch frame",
            &header(1003, version, 3),
            &stream_fetch_request(version),
            |r, _| theirs(r),
            |t, _| ours(t),
        );
    }
}

#[test]
fn stream_fetch_request_legacy_fields_reach_the_official_decoder() {
    // The official request keeps these fields private; `ours(theirs(x)) == x` must not be
    // trivially true. Check that the official value really holds them: its own encoding at
    // v17 differs from the encoding of a request without them.
    let with = stream_fetch_request(17).to_theirs();
    let mut without = stream_fetch_request(17);
    without.wasm_module = ByteVec::default();
    without.smartmodule = None;
    without.derivedstream = None;
    let without: DefaultStreamFetchRequest = without.to_theirs();
    assert!(their_bytes(&with, 17).len() > their_bytes(&without, 17).len() + 40);
}

#[test]
fn stream_fetch_request_pinned_vector() {
    // §4.3 of the protocol notes.
    let request = StreamFetchRequest { topic: "t".into(), max_bytes: 0x0010_013a, ..Default::default() };
    let bytes = their_bytes(&request.to_theirs(), 25);
    assert_eq!(bytes, unhex("00 01 74 00 00 00 00 00 00 00 00 00 00 00 00 00 10 01 3a 00 00 00 00 00 00"));
    check_exact("pinned StreamFetchRequest", &request, 25, |r, _| theirs(r), |t, _| ours(t));
}

pub fn stream_fetch_responses(version: i16) -> Vec<StreamFetchResponse> {
    let (set, _) = sample_record_set();
    let next_filter = |offset| if version >= 11 { offset } else { 0 };
    let push = |stream_id, error_code, records, aborted| StreamFetchResponse {
        topic: "topic-a".into(),
        stream_id,
        partition: FetchablePartitionResponse {
            partition_index: 7,
            error_code,
            high_watermark: 1234,
            next_filter_offset: next_filter(1200),
            log_start_offset: 3,
            aborted,
            records,
        },
    };
    vec![
        push(1, ErrorCode::None, set, None),
        push(2, ErrorCode::None, single_batch_set(1, Compression::None, 0), Some(vec![])),
        push(
            3,
            ErrorCode::None,
            single_batch_set(50, Compression::Snappy, 1000),
            Some(vec![
                AbortedTransaction { producer_id: 1, first_offset: 2 },
                AbortedTransaction { producer_id: -1, first_offset: i64::MAX },
            ]),
        ),
        push(0, ErrorCode::NotLeaderForPartition, RecordSet::default(), None),
        push(4, ErrorCode::OffsetEvicted { offset: 1, next_available: 3 }, RecordSet::default(), None),
        push(5, ErrorCode::Other("start offset: 9 is greater than leo: 3".into()), RecordSet::default(), None),
        push(6, ErrorCode::TopicDeleted, RecordSet::default(), None),
    ]
}

#[test]
fn stream_fetch_responses_at_every_layout() {
    for version in [25, 23, 18, 11, 10, 0] {
        for response in stream_fetch_responses(version) {
            check_exact("StreamFetchResponse", &response, version, |r, _| theirs(r), |t, _| ours(t));
            check_response_frame("StreamFetch push frame", 3, &response, version, |r, _| theirs(r), |t, _| ours(t));
        }
        for response in stream_fetch_responses(25) {
            check("StreamFetchResponse (v25 value)", &response, version, |r, _| theirs(r), |t, _| ours(t));
        }
    }
}

#[test]
fn update_offsets() {
    let requests = [
        UpdateOffsetsRequest { offsets: vec![] },
        UpdateOffsetsRequest { offsets: vec![OffsetUpdate { offset: 1, session_id: 1 }] },
        UpdateOffsetsRequest {
            offsets: vec![
                OffsetUpdate { offset: i64::MAX, session_id: u32::MAX },
                OffsetUpdate { offset: -1, session_id: 0 },
            ],
        },
    ];
    for request in &requests {
        check_exact("UpdateOffsetsRequest", request, 0, |r, _| theirs(r), |t, _| ours(t));
        check_request_frame("UpdateOffsets frame", &header(1005, 0, 4), request, |r, _| theirs(r), |t, _| ours(t));
    }
    let response = UpdateOffsetsResponse {
        status: vec![
            OffsetUpdateStatus { session_id: 1, error: ErrorCode::None },
            OffsetUpdateStatus { session_id: 2, error: ErrorCode::FetchSessionNotFound },
        ],
    };
    check_exact("UpdateOffsetsResponse", &response, 0, |r, _| theirs(r), |t, _| ours(t));
    check_response_frame("UpdateOffsets response frame", 4, &response, 0, |r, _| theirs(r), |t, _| ours(t));
}

#[test]
fn sample_records_travel_in_a_produce_request() {
    // The full record zoo (large values, extreme timestamp deltas) inside a v25 request.
    let batch = RawBatch::from_records(&sample_records(), Compression::None, FIRST_TIMESTAMP).unwrap();
    let request = ProduceRequest {
        topics: vec![TopicProduceData {
            name: "zoo".into(),
            partitions: vec![PartitionProduceData {
                partition_index: 1,
                records: RecordSet::from_batches([&batch]).unwrap(),
            }],
        }],
        ..Default::default()
    };
    check_exact("ProduceRequest with sample records", &request, 25, |r, _| theirs(r), |t, _| ours(t));
}
