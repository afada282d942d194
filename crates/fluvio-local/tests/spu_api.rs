//! The SPU's data APIs over real sockets: produce, offsets, and flow-controlled streams.

mod common;

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use common::*;
use fluvio_wire::error_code::ErrorCode;
use fluvio_wire::record::{CutBatch, RawBatch, Record, RecordSet};
use fluvio_wire::sc::TopicSpec;
use fluvio_wire::sc::topic::{CompressionAlgorithm, TopicStorageConfig};
use fluvio_wire::spu::{
    FetchOffsetPartition, FetchOffsetTopic, FetchOffsetsRequest, Isolation, OffsetUpdate, PartitionProduceData,
    ProduceRequest, StreamFetchRequest, StreamFetchResponse, UpdateOffsetsRequest,
};
use fluvio_wire::{Compression, Decoder};

async fn setup(topic: &str, spec: TopicSpec) -> (fluvio_local::LocalCluster, tempfile::TempDir, RawClient) {
    let (cluster, dir) = cluster(1).await;
    let mut sc = RawClient::connect(cluster.sc_addr()).await;
    let status = create_topic(&mut sc, topic, spec).await;
    assert!(status.error_code.is_ok(), "{status:?}");
    let spu = RawClient::connect(first_spu(&cluster)).await;
    (cluster, dir, spu)
}

fn fetch(topic: &str, offset: i64, max_bytes: i32, isolation: Isolation) -> StreamFetchRequest {
    StreamFetchRequest {
        topic: topic.into(),
        partition: 0,
        fetch_offset: offset,
        max_bytes,
        isolation,
        ..Default::default()
    }
}

async fn next_push(spu: &mut RawClient, id: i32) -> StreamFetchResponse {
    let (got, body) = spu.read_frame().await.expect("push");
    assert_eq!(got, id);
    StreamFetchResponse::decode_exact(body, 25).unwrap()
}

/// (first offset, next offset, record count) of each batch in a push that holds whole ones only.
fn batches(push: &StreamFetchResponse) -> Vec<(i64, i64, usize)> {
    let parsed = push.partition.records.parse();
    assert!(parsed.is_complete(), "a push with room for them carries whole batches");
    parsed
        .batches
        .iter()
        .map(|b| (b.header.base_offset, b.header.next_offset(), b.records(1 << 20).unwrap().len()))
        .collect()
}

async fn ack(spu: &mut RawClient, stream_id: u32, offset: i64) -> ErrorCode {
    let response =
        spu.call(&UpdateOffsetsRequest { offsets: vec![OffsetUpdate { offset, session_id: stream_id }] }).await;
    response.status[0].error.clone()
}

/// Appends `batch` to partition 0 of `topic` `times` times, each acknowledged without error.
async fn append(spu: &mut RawClient, topic: &str, batch: &RawBatch, times: usize) {
    for _ in 0..times {
        let request = produce_request(topic, 0, std::slice::from_ref(batch), Isolation::ReadUncommitted);
        let response = spu.call(&request).await;
        assert!(only_result(&response).error_code.is_ok(), "{response:?}");
    }
}

/// Acknowledges `offset` in session `stream_id` (opened by request `id`) and returns the push
/// that follows, whichever of the two frames comes first: the acknowledgement's answer or the
/// push (a session may push before the connection answers the acknowledgement, as an SPU may).
async fn ack_then_push(spu: &mut RawClient, id: i32, stream_id: u32, offset: i64) -> StreamFetchResponse {
    let ack_id =
        spu.send(&UpdateOffsetsRequest { offsets: vec![OffsetUpdate { offset, session_id: stream_id }] }).await;
    let mut acked = false;
    let mut pushed = None;
    while !acked || pushed.is_none() {
        let (got, body) = spu.read_frame().await.expect("connection open");
        if got == ack_id {
            let answer = fluvio_wire::spu::UpdateOffsetsResponse::decode_exact(body, 0).unwrap();
            assert!(answer.status[0].error.is_ok(), "{answer:?}");
            acked = true;
        } else {
            assert_eq!(got, id, "a frame of neither the stream nor the acknowledgement");
            assert!(pushed.is_none(), "one push per acknowledgement");
            pushed = Some(StreamFetchResponse::decode_exact(body, 25).unwrap());
        }
    }
    pushed.unwrap()
}

#[tokio::test]
async fn produce_assigns_offsets_and_fetch_offsets_reports_them() {
    let (cluster, _dir, mut spu) = setup("p", TopicSpec::computed(1, 1)).await;
    let three = batch(&[b"a", b"b", b"c"], Compression::None);
    let two = batch(&[b"d", b"e"], Compression::Gzip);
    let response = spu.call(&produce_request("p", 0, &[three, two], Isolation::ReadUncommitted)).await;
    let results = &response.responses[0].partitions;
    assert_eq!(results.len(), 2, "one result per entry");
    assert_eq!((results[0].error_code.clone(), results[0].base_offset), (ErrorCode::None, 0));
    assert_eq!((results[1].error_code.clone(), results[1].base_offset), (ErrorCode::None, 3));
    assert_eq!(offsets(&mut spu, "p").await, (0, 5));

    let committed =
        spu.call(&produce_request("p", 0, &[batch(&[b"f"], Compression::Lz4)], Isolation::ReadCommitted)).await;
    assert_eq!(only_result(&committed).base_offset, 5);
    assert!(only_result(&committed).error_code.is_ok());
    assert_eq!(offsets(&mut spu, "p").await, (0, 6));
    cluster.shutdown().await;
}

/// The whole batches of a push (as [`batches`] lists them) and the batch it was cut inside of.
fn cut_push(push: &StreamFetchResponse) -> (Vec<(i64, i64)>, Option<CutBatch>) {
    let parsed = push.partition.records.parse();
    let whole = parsed.batches.iter().map(|b| (b.header.base_offset, b.header.next_offset())).collect();
    assert_eq!(
        parsed.invalid_tail.is_some() || parsed.partial.is_some(),
        parsed.cut.is_some(),
        "only cuts, no garbage"
    );
    (whole, parsed.cut)
}

/// A push the stream sends right after `request`, on a connection of its own.
async fn first_push(cluster: &fluvio_local::LocalCluster, request: &StreamFetchRequest) -> StreamFetchResponse {
    let mut spu = RawClient::connect(first_spu(cluster)).await;
    let id = spu.send(request).await;
    next_push(&mut spu, id).await
}

/// As the official SPU's zero-copy read: a push is the stored bytes from the start of the
/// batch holding the offset asked for, cut at `max_bytes` wherever that falls (inside a
/// batch, inside its header), never an empty push; the next push comes after the
/// acknowledgement, from the start of the batch holding the offset acknowledged.
#[tokio::test]
async fn streams_cut_pushes_at_max_bytes_as_an_spu_does() {
    let (cluster, _dir, mut spu) = setup("s", TopicSpec::computed(1, 1)).await;
    let big = vec![7u8; 600];
    let sent = batch(&[&big, &big], Compression::None);
    let len = sent.encoded_len();
    append(&mut spu, "s", &sent, 3).await;
    let cut = |received, base_offset, total_len| Some(CutBatch { received, base_offset, total_len });

    // max_bytes is smaller than one batch: its first 100 bytes.
    let id = spu.send(&fetch("s", 0, 100, Isolation::ReadCommitted)).await;
    let push = next_push(&mut spu, id).await;
    assert!(push.partition.error_code.is_ok());
    assert_eq!((push.partition.high_watermark, push.partition.next_filter_offset), (6, 0));
    assert_eq!(push.partition.records.len(), 100);
    assert_eq!(cut_push(&push), (vec![], cut(100, Some(0), Some(len))));
    let stream_id = push.stream_id;
    assert!(stream_id > 0);

    // Nothing more until acknowledged.
    assert!(spu.try_read_frame(Duration::from_millis(300)).await.is_none(), "no push before an acknowledgement");
    let push = ack_then_push(&mut spu, id, stream_id, 2).await;
    assert_eq!(cut_push(&push), (vec![], cut(100, Some(2), Some(len))));
    // An acknowledgement inside a batch (a client that kept the whole records of a cut one)
    // gets that batch from its start again, cut the same way; so does a rewind.
    for offset in [3, 0] {
        let push = ack_then_push(&mut spu, id, stream_id, offset).await;
        assert_eq!(cut_push(&push), (vec![], cut(100, Some(offset - offset % 2), Some(len))));
    }

    // Whole batches while they fit, then the start of the next one, even inside its
    // preamble or header.
    let push = first_push(&cluster, &fetch("s", 0, (len + 30) as i32, Isolation::ReadCommitted)).await;
    assert_eq!(cut_push(&push), (vec![(0, 2)], cut(30, Some(2), Some(len))));
    let push = first_push(&cluster, &fetch("s", 1, 10, Isolation::ReadUncommitted)).await;
    assert_eq!(cut_push(&push), (vec![], cut(10, Some(0), None)));
    let push = first_push(&cluster, &fetch("s", 0, 5, Isolation::ReadUncommitted)).await;
    assert_eq!(cut_push(&push), (vec![], cut(5, None, None)));
    // Room for everything, exactly or more; a negative max_bytes is no limit, as on an SPU.
    for max_bytes in [3 * len as i32, 1 << 20, -1] {
        let push = first_push(&cluster, &fetch("s", 1, max_bytes, Isolation::ReadCommitted)).await;
        assert_eq!(cut_push(&push), (vec![(0, 2), (2, 4), (4, 6)], None), "max_bytes {max_bytes}");
    }
    // With max_bytes 0 nothing fits: no push at all (an SPU's answer too).
    let mut zero = RawClient::connect(first_spu(&cluster)).await;
    zero.send(&fetch("s", 0, 0, Isolation::ReadCommitted)).await;
    assert!(zero.try_read_frame(Duration::from_millis(300)).await.is_none());
    cluster.shutdown().await;
}

/// A push is read from one segment, as an SPU reads it: it ends at the segment's end even
/// when `max_bytes` leaves room for more.
#[tokio::test]
async fn a_push_never_crosses_a_segment() {
    let spec = TopicSpec {
        storage: Some(TopicStorageConfig { segment_size: Some(1024), max_partition_size: None }),
        ..TopicSpec::computed(1, 1)
    };
    let (cluster, _dir, mut spu) = setup("segments", spec).await;
    let value = vec![1u8; 300];
    append(&mut spu, "segments", &batch(&[&value], Compression::None), 5).await;
    // Batches of ~370 bytes: two per 1 KiB segment.
    let id = spu.send(&fetch("segments", 0, 1 << 20, Isolation::ReadCommitted)).await;
    let push = next_push(&mut spu, id).await;
    assert_eq!(cut_push(&push), (vec![(0, 1), (1, 2)], None));
    assert_eq!(cut_push(&ack_then_push(&mut spu, id, push.stream_id, 2).await), (vec![(2, 3), (3, 4)], None));
    assert_eq!(cut_push(&ack_then_push(&mut spu, id, push.stream_id, 4).await), (vec![(4, 5)], None));
    cluster.shutdown().await;
}

/// A session reads its next push while the client takes the last one: whatever the client
/// acknowledges (after the whole batches, as this project's client does; past the batch a
/// push was cut inside of, as the official 0.50 client does; a rewind; late), and whatever was
/// appended meanwhile, the push it gets is the one a new session from that offset gets.
#[tokio::test]
async fn a_push_read_ahead_is_what_a_read_after_the_acknowledgement_gives() {
    let (cluster, _dir, mut spu) = setup("ahead", TopicSpec::computed(1, 1)).await;
    let value = vec![3u8; 500];
    let sent = batch(&[&value, &value], Compression::None);
    let len = sent.encoded_len();
    let mut producer = RawClient::connect(first_spu(&cluster)).await;
    let mut produce = async |count: usize| append(&mut producer, "ahead", &sent, count).await;
    produce(40).await;
    // Two whole batches and a cut third per push: each push is cut at max_bytes, so the
    // session reads ahead.
    let max_bytes = (2 * len + len / 2) as i32;
    let request = fetch("ahead", 0, max_bytes, Isolation::ReadUncommitted);
    let id = spu.send(&request).await;
    let mut push = next_push(&mut spu, id).await;
    let stream_id = push.stream_id;
    let fresh =
        async |offset: i64| first_push(&cluster, &fetch("ahead", offset, max_bytes, Isolation::ReadUncommitted)).await;
    let check = async |push: &StreamFetchResponse, offset: i64| {
        let expected = fresh(offset).await;
        let shape = |push: &StreamFetchResponse| (cut_push(push), push.partition.high_watermark);
        assert_eq!(shape(push), shape(&expected), "the push after acknowledging {offset}");
        assert!(push.partition.records.as_bytes() == expected.partition.records.as_bytes(), "the same bytes");
    };
    /// Where a step's client continues.
    enum Continue {
        /// After the push's whole batches (this project's client).
        AfterWhole,
        /// Past the batch the push was cut inside of (the official 0.50 client).
        PastCut,
        /// Elsewhere (a rewind).
        At(i64),
    }
    // (where the client continues, records appended before it acknowledges, wait before)
    let steps = [
        (Continue::AfterWhole, 0, 0),
        (Continue::AfterWhole, 0, 0),
        (Continue::PastCut, 0, 0),
        (Continue::PastCut, 0, 0),
        (Continue::AfterWhole, 0, 50),
        (Continue::At(2), 0, 0),
        (Continue::AfterWhole, 3, 0),
        (Continue::AfterWhole, 0, 0),
    ];
    for (continuing, appended, wait_ms) in steps {
        let (whole, cut) = cut_push(&push);
        let offset = match continuing {
            Continue::AfterWhole => whole.last().expect("whole batches").1,
            Continue::PastCut => cut.and_then(|cut| cut.base_offset).expect("a cut batch") + 2,
            Continue::At(offset) => offset,
        };
        produce(appended).await;
        tokio::time::sleep(Duration::from_millis(wait_ms)).await;
        push = ack_then_push(&mut spu, id, stream_id, offset).await;
        check(&push, offset).await;
    }
    // To the end of the log: the last push is short, and records appended before its
    // acknowledgement come with the next.
    loop {
        let (whole, cut) = cut_push(&push);
        let offset = whole.last().expect("whole batches").1;
        if cut.is_none() {
            produce(1).await;
            let last = ack_then_push(&mut spu, id, stream_id, offset).await;
            assert_eq!(cut_push(&last), (vec![(offset, offset + 2)], None), "the batch appended meanwhile");
            break;
        }
        push = ack_then_push(&mut spu, id, stream_id, offset).await;
        check(&push, offset).await;
    }
    cluster.shutdown().await;
}

#[tokio::test]
async fn streams_wait_for_data_and_start_at_the_batch_holding_the_offset() {
    let (cluster, _dir, mut spu) = setup("w", TopicSpec::computed(1, 1)).await;
    let mut producer = RawClient::connect(first_spu(&cluster)).await;
    let response = producer
        .call(&produce_request("w", 0, &[batch(&[b"0", b"1", b"2"], Compression::None)], Isolation::ReadUncommitted))
        .await;
    assert!(only_result(&response).error_code.is_ok());

    // Offset 1 lies inside the first batch: the whole batch comes; the client filters.
    let id = spu.send(&fetch("w", 1, 1 << 20, Isolation::ReadCommitted)).await;
    let push = next_push(&mut spu, id).await;
    assert_eq!(batches(&push), [(0, 3, 3)]);
    assert!(ack(&mut spu, push.stream_id, 3).await.is_ok());

    // Caught up: no empty push, then data as soon as it is produced.
    assert!(spu.try_read_frame(Duration::from_millis(300)).await.is_none());
    producer.call(&produce_request("w", 0, &[batch(&[b"3"], Compression::Snappy)], Isolation::ReadUncommitted)).await;
    let push = next_push(&mut spu, id).await;
    assert_eq!(batches(&push), [(3, 4, 1)]);
    cluster.shutdown().await;
}

#[tokio::test]
async fn unknown_partitions_and_sessions_get_the_official_errors() {
    let (cluster, _dir, mut spu) = setup("known", TopicSpec::computed(1, 1)).await;
    let response = spu
        .call(&produce_request("unknown", 0, &[batch(&[b"x"], Compression::None)], Isolation::ReadUncommitted))
        .await;
    assert_eq!(only_result(&response).error_code, ErrorCode::NotLeaderForPartition);
    let response =
        spu.call(&produce_request("known", 7, &[batch(&[b"x"], Compression::None)], Isolation::ReadUncommitted)).await;
    assert_eq!(only_result(&response).error_code, ErrorCode::NotLeaderForPartition);

    let offsets = spu
        .call(&FetchOffsetsRequest {
            topics: vec![FetchOffsetTopic {
                name: "unknown".into(),
                partitions: vec![FetchOffsetPartition { partition_index: 0 }],
            }],
            consumer_id: None,
        })
        .await;
    assert_eq!(offsets.topics[0].partitions[0].error_code, ErrorCode::PartitionNotLeader);

    let id = spu.send(&fetch("unknown", 0, 1000, Isolation::ReadCommitted)).await;
    let push = next_push(&mut spu, id).await;
    assert_eq!(push.stream_id, 0);
    assert_eq!(push.partition.error_code, ErrorCode::NotLeaderForPartition);
    assert!(push.partition.records.is_empty());

    assert_eq!(ack(&mut spu, 99, 0).await, ErrorCode::FetchSessionNotFound);

    let id = spu.send(&fetch("known", 5, 1000, Isolation::ReadCommitted)).await;
    let push = next_push(&mut spu, id).await;
    assert!(matches!(push.partition.error_code, ErrorCode::Other(ref m) if m.contains("greater than leo")));
    cluster.shutdown().await;
}

#[tokio::test]
async fn topic_compression_type_is_enforced() {
    let mut spec = TopicSpec::computed(1, 1);
    spec.compression_type = CompressionAlgorithm::Gzip;
    let (cluster, _dir, mut spu) = setup("gz", spec).await;
    let refused =
        spu.call(&produce_request("gz", 0, &[batch(&[b"plain"], Compression::None)], Isolation::ReadUncommitted)).await;
    assert_eq!(only_result(&refused).error_code, ErrorCode::CompressionError);
    let accepted = spu
        .call(&produce_request("gz", 0, &[batch(&[b"zipped"], Compression::Gzip)], Isolation::ReadUncommitted))
        .await;
    assert!(only_result(&accepted).error_code.is_ok());
    assert_eq!(offsets(&mut spu, "gz").await, (0, 1));
    cluster.shutdown().await;
}

#[tokio::test]
async fn corrupt_batches_are_refused_and_nothing_is_stored() {
    let (cluster, _dir, mut spu) = setup("c", TopicSpec::computed(1, 1)).await;
    // Flip one byte of a record value: the CRC no longer matches.
    let mut bytes = BytesMut::new();
    batch(&[b"payload"], Compression::None).encode_to(&mut bytes).unwrap();
    let last = bytes.len() - 2;
    bytes[last] ^= 0xff;
    let corrupt = ProduceRequest {
        topics: vec![fluvio_wire::spu::TopicProduceData {
            name: "c".into(),
            partitions: vec![PartitionProduceData {
                partition_index: 0,
                records: RecordSet::from_encoded(bytes.freeze()),
            }],
        }],
        ..produce_request("c", 0, &[], Isolation::ReadUncommitted)
    };
    let response = spu.call(&corrupt).await;
    assert!(matches!(only_result(&response).error_code, ErrorCode::Other(_)));

    // A batch cut short is refused too.
    let mut cut = BytesMut::new();
    batch(&[b"payload"], Compression::None).encode_to(&mut cut).unwrap();
    cut.truncate(cut.len() - 3);
    let truncated = ProduceRequest {
        topics: vec![fluvio_wire::spu::TopicProduceData {
            name: "c".into(),
            partitions: vec![PartitionProduceData {
                partition_index: 0,
                records: RecordSet::from_encoded(cut.freeze()),
            }],
        }],
        ..produce_request("c", 0, &[], Isolation::ReadUncommitted)
    };
    let response = spu.call(&truncated).await;
    assert!(matches!(only_result(&response).error_code, ErrorCode::Other(_)));
    assert_eq!(offsets(&mut spu, "c").await, (0, 0), "nothing stored");

    // The connection still serves valid requests.
    let ok =
        spu.call(&produce_request("c", 0, &[batch(&[b"fine"], Compression::None)], Isolation::ReadUncommitted)).await;
    assert_eq!(only_result(&ok).base_offset, 0);
    cluster.shutdown().await;
}

/// A produce request carrying `batch` as encoded (so with a CRC that matches its content).
fn produce_encoded(topic: &str, batch: &RawBatch) -> ProduceRequest {
    let mut bytes = BytesMut::new();
    batch.encode_to(&mut bytes).unwrap();
    ProduceRequest {
        topics: vec![fluvio_wire::spu::TopicProduceData {
            name: topic.into(),
            partitions: vec![PartitionProduceData {
                partition_index: 0,
                records: RecordSet::from_encoded(bytes.freeze()),
            }],
        }],
        ..produce_request(topic, 0, &[], Isolation::ReadUncommitted)
    }
}

/// The SPU does not decode the records of a batch to validate it, but walks them: a batch
/// whose CRC matches but whose records area is malformed is still refused, typed, and nothing
/// of it is stored.
#[tokio::test]
async fn malformed_records_under_a_valid_crc_are_refused_and_nothing_is_stored() {
    let (cluster, _dir, mut spu) = setup("m", TopicSpec::computed(1, 1)).await;
    let two = batch(&[b"one", b"two"], Compression::None);
    let with_area = |area: Vec<u8>| RawBatch { records: Bytes::from(area), ..two.clone() };
    let area = two.records.to_vec();

    let mut malformed = Vec::new();
    // The header claims more records than the area holds, or fewer.
    for last_offset_delta in [0, 2, i32::MAX] {
        let mut wrong_count = two.clone();
        wrong_count.header.last_offset_delta = last_offset_delta;
        malformed.push(("record count", wrong_count));
    }
    // Offset deltas 0, 0.
    let same_delta =
        [Record::new(None, Bytes::from_static(b"a"), 0, 0), Record::new(None, Bytes::from_static(b"b"), 0, 0)];
    malformed.push(("offset deltas", RawBatch::from_records(&same_delta, Compression::None, now_ms()).unwrap()));
    // A byte after the last record.
    malformed.push(("trailing byte", with_area([area.as_slice(), &[0]].concat())));
    // The first record's length runs past the area.
    let mut long = area.clone();
    long[4] = 0x7e;
    malformed.push(("record length", with_area(long)));
    // A key tag that is neither 0 (none) nor 1 (some): after the length, attributes, and the
    // one-byte timestamp and offset deltas.
    let mut tag = area.clone();
    tag[8] = 2;
    malformed.push(("key tag", with_area(tag)));
    // A compressed area that does not decompress, and one past the decompression limit.
    let gzip =
        RawBatch::from_records(&[Record::new(None, Bytes::from_static(b"z"), 0, 0)], Compression::Gzip, now_ms());
    let mut garbage = gzip.unwrap();
    garbage.records = Bytes::from_static(b"not a gzip member");
    malformed.push(("compressed garbage", garbage));
    let big = vec![0u8; fluvio_wire::compression::DEFAULT_MAX_DECOMPRESSED + 1];
    let bomb =
        RawBatch::from_records(&[Record::new(None, Bytes::from(big), 0, 0)], Compression::Lz4, now_ms()).unwrap();
    malformed.push(("compression bomb", bomb));

    for (what, batch) in &malformed {
        let response = spu.call(&produce_encoded("m", batch)).await;
        assert!(matches!(only_result(&response).error_code, ErrorCode::Other(_)), "{what}: {response:?}");
    }
    assert_eq!(offsets(&mut spu, "m").await, (0, 0), "nothing stored");
    let response = spu.call(&produce_encoded("m", &two)).await;
    assert!(only_result(&response).error_code.is_ok(), "{response:?}");
    assert_eq!(offsets(&mut spu, "m").await, (0, 2));
    cluster.shutdown().await;
}

#[tokio::test]
async fn deleting_a_topic_ends_its_streams() {
    let (cluster, _dir, mut spu) = setup("gone", TopicSpec::computed(1, 1)).await;
    // The session is open (its first push came) before the topic goes: a stream request that
    // reached the SPU after the deletion would find no replica (NotLeaderForPartition).
    let stored = produce_values(first_spu(&cluster), "gone", 0, &[b"0"]).await;
    assert!(stored.error_code.is_ok(), "{stored:?}");
    let id = spu.send(&fetch("gone", 0, 1000, Isolation::ReadCommitted)).await;
    let push = next_push(&mut spu, id).await;
    assert_eq!(batches(&push), [(0, 1, 1)]);
    assert!(ack(&mut spu, push.stream_id, 1).await.is_ok());
    let mut sc = RawClient::connect(cluster.sc_addr()).await;
    assert!(delete_topic(&mut sc, "gone").await.error_code.is_ok());
    let push = next_push(&mut spu, id).await;
    assert_eq!(push.partition.error_code, ErrorCode::TopicDeleted);
    // The data directory of the replica is gone (deleted right after its streams were told).
    let replica_dir = cluster.base_dir().join("spu-5001").join("gone-0");
    let deadline = std::time::Instant::now() + WAIT;
    while replica_dir.exists() {
        assert!(std::time::Instant::now() < deadline, "the replica's data was not deleted");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    cluster.shutdown().await;
}
