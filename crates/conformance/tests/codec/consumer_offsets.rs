//! Consumer offsets: UpdateConsumerOffset (1006), DeleteConsumerOffset (1007),
//! FetchConsumerOffsets (1008) against `fluvio-spu-schema`, and the entries an SPU writes into
//! the `consumer-offset` topic against the official encoding of the same types.

use bytes::BytesMut;
use fluvio_protocol::record::{Batch, RawRecords, Record as TheirRecord, ReplicaKey as TheirReplicaKey};
use fluvio_protocol::{Decoder as TheirDecoder, Encoder as TheirEncoder};
use fluvio_wire::codec::ByteVec;
use fluvio_wire::consumer_offset::*;
use fluvio_wire::error_code::ReplicaKey;
use fluvio_wire::{ErrorCode, RequestHeader};

use crate::common::convert::{ToOurs, ToTheirs, ours, theirs};
use crate::common::{assert_same_bytes, check, check_exact, their_bytes, unhex};
use crate::frames::{check_request_frame, check_response_frame};

fn header(api_key: u16, api_version: i16, correlation_id: i32) -> RequestHeader {
    RequestHeader { api_key, api_version, correlation_id, client_id: "fluvio".into() }
}

#[test]
fn update_consumer_offset() {
    for request in [
        UpdateConsumerOffsetRequest { offset: 0, session_id: 1 },
        UpdateConsumerOffsetRequest { offset: 41, session_id: 7 },
        UpdateConsumerOffsetRequest { offset: i64::MAX, session_id: u32::MAX },
        UpdateConsumerOffsetRequest { offset: -1, session_id: 0 },
    ] {
        for version in [0, 23, 25] {
            check_exact("UpdateConsumerOffsetRequest", &request, version, |r, _| theirs(r), |t, _| ours(t));
        }
        check_request_frame(
            "UpdateConsumerOffset frame",
            &header(1006, 25, 9),
            &request,
            |r, _| theirs(r),
            |t, _| ours(t),
        );
    }
    for response in [
        UpdateConsumerOffsetResponse { offset: 41, error_code: ErrorCode::None },
        UpdateConsumerOffsetResponse { offset: 0, error_code: ErrorCode::FetchSessionNotFound },
        UpdateConsumerOffsetResponse { offset: 0, error_code: ErrorCode::Other("stream without consumer id".into()) },
        UpdateConsumerOffsetResponse { offset: 0, error_code: ErrorCode::PartitionNotLeader },
    ] {
        check_exact("UpdateConsumerOffsetResponse", &response, 25, |r, _| theirs(r), |t, _| ours(t));
        check_response_frame("UpdateConsumerOffset response frame", 9, &response, 25, |r, _| theirs(r), |t, _| ours(t));
    }
}

#[test]
fn update_consumer_offset_pinned_vector() {
    let request = UpdateConsumerOffsetRequest { offset: 5, session_id: 1 };
    assert_eq!(their_bytes(&request.to_theirs(), 25), unhex("00 00 00 00 00 00 00 05 00 00 00 01"));
}

#[test]
fn delete_consumer_offset() {
    for request in [
        DeleteConsumerOffsetRequest { replica_id: ReplicaKey::new("orders", 3), consumer_id: "billing".into() },
        DeleteConsumerOffsetRequest { replica_id: ReplicaKey::new("", 0), consumer_id: String::new() },
        DeleteConsumerOffsetRequest {
            replica_id: ReplicaKey::new("t", u32::MAX),
            consumer_id: "ünïcode-consumer ✓".into(),
        },
    ] {
        check_exact("DeleteConsumerOffsetRequest", &request, 25, |r, _| theirs(r), |t, _| ours(t));
        check_request_frame(
            "DeleteConsumerOffset frame",
            &header(1007, 25, 10),
            &request,
            |r, _| theirs(r),
            |t, _| ours(t),
        );
    }
    for response in [
        DeleteConsumerOffsetResponse { error_code: ErrorCode::None },
        DeleteConsumerOffsetResponse { error_code: ErrorCode::PartitionNotLeader },
        DeleteConsumerOffsetResponse { error_code: ErrorCode::Other("unable to delete consumer: x".into()) },
    ] {
        check_exact("DeleteConsumerOffsetResponse", &response, 25, |r, _| theirs(r), |t, _| ours(t));
        check_response_frame(
            "DeleteConsumerOffset response frame",
            10,
            &response,
            25,
            |r, _| theirs(r),
            |t, _| ours(t),
        );
    }
}

fn fetch_requests() -> Vec<FetchConsumerOffsetsRequest> {
    let filter = |replica_id: Option<ReplicaKey>, consumer_id: Option<&str>| FetchConsumerOffsetsRequest {
        filter_opts: Some(ConsumerOffsetFilter { replica_id, consumer_id: consumer_id.map(str::to_string) }),
    };
    vec![
        FetchConsumerOffsetsRequest { filter_opts: None },
        filter(None, None),
        filter(Some(ReplicaKey::new("orders", 1)), None),
        filter(None, Some("billing")),
        filter(Some(ReplicaKey::new("orders", 1)), Some("billing")),
    ]
}

#[test]
fn fetch_consumer_offsets_request_at_every_layout() {
    for request in fetch_requests() {
        // The filter exists from v24 on; below, both sides write nothing and read None.
        for version in [24, 25] {
            check_exact("FetchConsumerOffsetsRequest", &request, version, |r, _| theirs(r), |t, _| ours(t));
        }
        for version in [0, 23] {
            let decoded = check("FetchConsumerOffsetsRequest", &request, version, |r, _| theirs(r), |t, _| ours(t));
            assert_eq!(decoded.filter_opts, None, "v{version}");
        }
        check_request_frame(
            "FetchConsumerOffsets frame",
            &header(1008, 25, 11),
            &request,
            |r, _| theirs(r),
            |t, _| ours(t),
        );
    }
    // What the official client sends to list every consumer (`Fluvio::consumer_offsets`).
    let list_all: FetchConsumerOffsetsRequest =
        fluvio_spu_schema::server::consumer_offset::FetchConsumerOffsetsRequest::default().to_ours();
    assert_eq!(list_all, FetchConsumerOffsetsRequest { filter_opts: None });
}

#[test]
fn fetch_consumer_offsets_response() {
    let offset = |consumer: &str, topic: &str, partition, offset, modified_time| ConsumerOffset {
        consumer_id: consumer.into(),
        replica_id: ReplicaKey::new(topic, partition),
        offset,
        modified_time,
    };
    for response in [
        FetchConsumerOffsetsResponse { error_code: ErrorCode::None, consumers: vec![] },
        FetchConsumerOffsetsResponse {
            error_code: ErrorCode::None,
            consumers: vec![
                offset("billing", "orders", 0, 41, 1_700_000_000),
                offset("billing", "orders", 1, -1, 0),
                offset("audit", "t", u32::MAX, i64::MAX, u64::MAX),
            ],
        },
        FetchConsumerOffsetsResponse { error_code: ErrorCode::PartitionNotLeader, consumers: vec![] },
    ] {
        check_exact("FetchConsumerOffsetsResponse", &response, 25, |r, _| theirs(r), |t, _| ours(t));
        check_response_frame(
            "FetchConsumerOffsets response frame",
            11,
            &response,
            25,
            |r, _| theirs(r),
            |t, _| ours(t),
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The `consumer-offset` topic's records

/// The official key of a stored offset: `fluvio-spu` `kv/consumer.rs` `ConsumerOffsetKey`
/// (crate-private, so declared here with the same fields and derives).
#[derive(Debug, Default, fluvio_protocol::Encoder, fluvio_protocol::Decoder)]
pub struct TheirOffsetKey {
    replica_id: TheirReplicaKey,
    consumer_id: String,
}

/// The official value: `fluvio-spu` `kv/consumer.rs` `ConsumerOffset`.
#[derive(Debug, Default, fluvio_protocol::Encoder, fluvio_protocol::Decoder)]
pub struct TheirOffsetValue {
    offset: i64,
    modified_time: u64,
}

/// The official log entry: `fluvio-kv-storage` `log.rs` `Entry` (private there).
#[derive(Debug, Default, fluvio_protocol::Encoder, fluvio_protocol::Decoder)]
pub enum TheirEntry {
    #[fluvio(tag = 0)]
    RecordUpdated { key: Vec<u8>, value: Vec<u8> },
    #[fluvio(tag = 1)]
    RecordDeleted { key: Vec<u8> },
    #[default]
    #[fluvio(tag = 2)]
    Checkpoint,
}

impl ToTheirs for OffsetKey {
    type Theirs = TheirOffsetKey;
    fn to_theirs(&self) -> TheirOffsetKey {
        TheirOffsetKey { replica_id: self.replica_id.to_theirs(), consumer_id: self.consumer_id.clone() }
    }
}

impl ToOurs for TheirOffsetKey {
    type Ours = OffsetKey;
    fn to_ours(self) -> OffsetKey {
        OffsetKey { replica_id: self.replica_id.to_ours(), consumer_id: self.consumer_id }
    }
}

impl ToTheirs for OffsetValue {
    type Theirs = TheirOffsetValue;
    fn to_theirs(&self) -> TheirOffsetValue {
        TheirOffsetValue { offset: self.offset, modified_time: self.modified_time }
    }
}

impl ToOurs for TheirOffsetValue {
    type Ours = OffsetValue;
    fn to_ours(self) -> OffsetValue {
        OffsetValue { offset: self.offset, modified_time: self.modified_time }
    }
}

impl ToTheirs for OffsetEntry {
    type Theirs = TheirEntry;
    fn to_theirs(&self) -> TheirEntry {
        match self {
            OffsetEntry::Updated { key, value } => {
                TheirEntry::RecordUpdated { key: key.0.to_vec(), value: value.0.to_vec() }
            }
            OffsetEntry::Deleted { key } => TheirEntry::RecordDeleted { key: key.0.to_vec() },
            OffsetEntry::Checkpoint => TheirEntry::Checkpoint,
        }
    }
}

impl ToOurs for TheirEntry {
    type Ours = OffsetEntry;
    fn to_ours(self) -> OffsetEntry {
        match self {
            TheirEntry::RecordUpdated { key, value } => {
                OffsetEntry::Updated { key: ByteVec(key.into()), value: ByteVec(value.into()) }
            }
            TheirEntry::RecordDeleted { key } => OffsetEntry::Deleted { key: ByteVec(key.into()) },
            TheirEntry::Checkpoint => OffsetEntry::Checkpoint,
        }
    }
}

fn sample_entries() -> Vec<OffsetEntry> {
    let key = OffsetKey { replica_id: ReplicaKey::new("orders", 2), consumer_id: "billing".into() };
    let other = OffsetKey { replica_id: ReplicaKey::new("t", 0), consumer_id: String::new() };
    let value = OffsetValue { offset: 41, modified_time: 1_700_000_000 };
    vec![
        OffsetEntry::updated(&key, &value).unwrap(),
        OffsetEntry::deleted(&key).unwrap(),
        OffsetEntry::Checkpoint,
        OffsetEntry::updated(&other, &OffsetValue { offset: -1, modified_time: u64::MAX }).unwrap(),
    ]
}

#[test]
fn offset_keys_values_and_entries_encode_as_the_official_spu_writes_them() {
    let key = OffsetKey { replica_id: ReplicaKey::new("orders", 2), consumer_id: "billing".into() };
    check_exact("OffsetKey", &key, OFFSET_ENTRY_VERSION, |r, _| theirs(r), |t, _| ours(t));
    let value = OffsetValue { offset: 41, modified_time: 1_700_000_000 };
    check_exact("OffsetValue", &value, OFFSET_ENTRY_VERSION, |r, _| theirs(r), |t, _| ours(t));
    for entry in sample_entries() {
        check_exact("OffsetEntry", &entry, OFFSET_ENTRY_VERSION, |r, _| theirs(r), |t, _| ours(t));
    }
    // The key and value inside an entry are the official encodings of the official types.
    let OffsetEntry::Updated { key: k, value: v } = &sample_entries()[0] else { unreachable!() };
    assert_eq!(k.0.as_ref(), their_bytes(&key.to_theirs(), 0).as_slice());
    assert_eq!(v.0.as_ref(), their_bytes(&value.to_theirs(), 0).as_slice());
    // A pinned entry: tag 0, key (u32 length, topic "t", partition 0, consumer "c"), value.
    let pinned = OffsetEntry::updated(
        &OffsetKey { replica_id: ReplicaKey::new("t", 0), consumer_id: "c".into() },
        &OffsetValue { offset: 5, modified_time: 6 },
    )
    .unwrap();
    assert_eq!(
        their_bytes(&pinned.to_theirs(), 0),
        unhex(
            "00 00 00 00 0a 00 01 74 00 00 00 00 00 01 63 \
             00 00 00 10 00 00 00 00 00 00 00 05 00 00 00 00 00 00 00 06"
        )
    );
}

#[test]
fn the_entries_batch_is_the_batch_the_official_spu_appends() {
    // The official KV log appends `Batch::new()` with one `Record::new(entry)` per entry,
    // converted to raw records (fluvio-spu `replication/leader/kv.rs` `append_batch`).
    let entries = sample_entries();
    let mut batch = Batch::new();
    for entry in &entries {
        batch.add_record(TheirRecord::new(their_bytes(&entry.to_theirs(), OFFSET_ENTRY_VERSION)));
    }
    let raw: Batch<RawRecords> = batch.try_into().expect("official raw batch");
    let theirs = their_bytes(&raw, 0);
    let mut ours = BytesMut::new();
    entries_batch(&entries).unwrap().encode_to(&mut ours).unwrap();
    assert_same_bytes(&ours, &theirs, "consumer-offset batch");

    // And the official decoder reads our records back to the same entries.
    let decoded: Batch<RawRecords> = {
        let mut cursor = std::io::Cursor::new(&ours[..]);
        let mut batch = Batch::<RawRecords>::default();
        batch.decode(&mut cursor, 0).expect("official decode");
        batch
    };
    let memory: Batch = decoded.try_into().expect("official records");
    let read: Vec<OffsetEntry> = memory
        .records()
        .iter()
        .map(|record| {
            let mut cursor = std::io::Cursor::new(record.value.as_ref());
            let mut entry = TheirEntry::default();
            entry.decode(&mut cursor, OFFSET_ENTRY_VERSION).expect("official entry");
            entry.to_ours()
        })
        .collect();
    assert_eq!(read, entries);
    assert!(theirs.len() > 61 && TheirEncoder::write_size(&raw, 0) == theirs.len());
}
