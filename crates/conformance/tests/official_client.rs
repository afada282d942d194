//! The official `fluvio` client (crates.io 0.50.1), unchanged, against our embedded cluster:
//! admin, producing 100,000 keyed and unkeyed records per compression, consuming with every
//! offset kind, deleting, and reading the same records again after a restart.
//!
//! The cluster cuts each push at the fetch's `max_bytes` as a Fluvio SPU does, and the official
//! consumer then misses records as it does against a real cluster (see `common`): where a
//! partition holds more than one push, a read checks that every record it returns is the one
//! produced, and that what it misses is what the official consumer misses there.

mod common;

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use fluvio::consumer::ConsumerConfigExtBuilder;
use fluvio::metadata::partition::PartitionSpec;
use fluvio::metadata::spu::SpuSpec;
use fluvio::metadata::topic::TopicSpec;
use fluvio::{Compression, Fluvio, FluvioClusterConfig, Offset, RecordKey, TopicProducerConfigBuilder};
use fluvio_local::{ClusterConfig, LocalCluster};
use fluvio_protocol::link::ErrorCode;
use fluvio_sc_schema::ApiError;
use futures_util::StreamExt;

const RECORDS: usize = 100_000;

/// The error code inside an official admin error.
fn api_error_code<T: std::fmt::Debug>(result: anyhow::Result<T>) -> ErrorCode {
    let err = result.expect_err("the request must fail");
    match err.downcast_ref::<ApiError>() {
        Some(ApiError::Code(code, _)) => code.clone(),
        _ => panic!("not an API error code: {err:?}"),
    }
}

async fn start(dir: &std::path::Path, spus: u16) -> LocalCluster {
    LocalCluster::start(ClusterConfig::new(dir).spus(spus)).await.expect("cluster starts")
}

async fn connect(cluster: &LocalCluster) -> Fluvio {
    Fluvio::connect_with_config(&FluvioClusterConfig::new(cluster.sc_endpoint()))
        .await
        .expect("official client connects")
}

async fn create_topic(fluvio: &Fluvio, name: &str, partitions: u32) {
    let admin = fluvio.admin().await;
    admin.create(name.to_string(), false, TopicSpec::new_computed(partitions, 1, None)).await.expect("topic created");
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as i64
}

/// The partition the official SipHash partitioner picks (protocol notes §8.2).
fn siphash_partition(key: &[u8], partitions: u32) -> u32 {
    let mut hasher = siphasher::sip::SipHasher24::new_with_keys(0, 0);
    key.hash(&mut hasher);
    (hasher.finish() % u64::from(partitions)) as u32
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Stored {
    key: Option<Vec<u8>>,
    value: Vec<u8>,
}

/// What was produced: partition → offset → record, plus the time window of the run.
struct Produced {
    by_partition: BTreeMap<u32, BTreeMap<i64, Stored>>,
    started_ms: i64,
    finished_ms: i64,
}

/// Produces `count` records, every other one keyed, and checks each acknowledgement.
async fn produce(fluvio: &Fluvio, topic: &str, compression: Compression, count: usize, partitions: u32) -> Produced {
    let config = TopicProducerConfigBuilder::default()
        .compression(compression)
        .linger(Duration::from_millis(5))
        .build()
        .expect("producer config");
    let producer = fluvio.topic_producer_with_config(topic, config).await.expect("producer");
    let started_ms = now_ms();
    let mut pending = Vec::with_capacity(count);
    for i in 0..count {
        let value = format!("value-{i:06}-{}", "v".repeat(i % 40)).into_bytes();
        let key = (i % 2 == 0).then(|| format!("key-{}", i % 97).into_bytes());
        let output = match &key {
            Some(key) => producer.send(key.clone(), value.clone()).await,
            None => producer.send(RecordKey::NULL, value.clone()).await,
        }
        .expect("send");
        pending.push((Stored { key, value }, output));
    }
    producer.flush().await.expect("flush");
    let finished_ms = now_ms();
    let mut by_partition: BTreeMap<u32, BTreeMap<i64, Stored>> = BTreeMap::new();
    for (stored, output) in pending {
        let metadata = output.wait().await.expect("acknowledged");
        if let Some(key) = &stored.key {
            assert_eq!(metadata.partition_id(), siphash_partition(key, partitions), "same key, same partition");
        }
        let previous = by_partition.entry(metadata.partition_id()).or_default().insert(metadata.offset(), stored);
        assert!(
            previous.is_none(),
            "offset {} of partition {} given twice",
            metadata.offset(),
            metadata.partition_id()
        );
    }
    let total: usize = by_partition.values().map(BTreeMap::len).sum();
    assert_eq!(total, count);
    for (partition, records) in &by_partition {
        let offsets: Vec<i64> = records.keys().copied().collect();
        assert_eq!(offsets, (0..records.len() as i64).collect::<Vec<_>>(), "partition {partition} offsets are dense");
    }
    Produced { by_partition, started_ms, finished_ms }
}

/// Reads partition `partition` from `offset` until the end known when the stream starts.
async fn consume(fluvio: &Fluvio, topic: &str, partition: u32, offset: Offset) -> Vec<(i64, Stored, i64)> {
    consume_with(fluvio, topic, partition, offset, None).await
}

/// [`consume`] with an explicit fetch size.
async fn consume_with(
    fluvio: &Fluvio,
    topic: &str,
    partition: u32,
    offset: Offset,
    max_bytes: Option<i32>,
) -> Vec<(i64, Stored, i64)> {
    let mut builder = ConsumerConfigExtBuilder::default();
    builder.topic(topic).partition(partition).offset_start(offset).disable_continuous(true);
    if let Some(max_bytes) = max_bytes {
        builder.max_bytes(max_bytes);
    }
    let config = builder.build().expect("consumer config");
    let mut stream = fluvio.consumer_with_config(config).await.expect("consumer");
    let mut records = Vec::new();
    while let Some(record) = tokio::time::timeout(Duration::from_secs(30), stream.next()).await.expect("record in time")
    {
        let record = record.expect("no stream error");
        assert_eq!(record.partition(), partition);
        records.push((
            record.offset(),
            Stored { key: record.key().map(<[u8]>::to_vec), value: record.value().to_vec() },
            record.timestamp(),
        ));
    }
    records
}

/// Fetch size with which a whole partition comes in one push, never cut.
const WHOLE_PARTITION: i32 = 60 * 1024 * 1024;

/// The produced records are consumed from the beginning, in order, with their timestamps: all
/// of them when a push can hold the whole partition, and with the default fetch size all but
/// those the official consumer misses in pushes cut inside a batch (see `common`).
async fn assert_consumes_everything(
    fluvio: &Fluvio,
    dir: &std::path::Path,
    topic: &str,
    produced: &Produced,
    partitions: u32,
) {
    for partition in 0..partitions {
        let expected = produced.by_partition.get(&partition).cloned().unwrap_or_default();
        let whole = consume_with(fluvio, topic, partition, Offset::beginning(), Some(WHOLE_PARTITION)).await;
        assert_eq!(whole.len(), expected.len(), "partition {partition} record count, read in one push");
        let consumed = consume(fluvio, topic, partition, Offset::beginning()).await;
        let offsets: Vec<i64> = consumed.iter().map(|(offset, _, _)| *offset).collect();
        let spans = common::batch_spans(dir, topic, partition);
        common::check_official_read(&offsets, 0..expected.len() as i64, &spans, common::OFFICIAL_MAX_BYTES)
            .unwrap_or_else(|err| panic!("{topic}-{partition}: {err}"));
        for (offset, stored, timestamp) in whole.iter().chain(&consumed) {
            assert_eq!(Some(stored), expected.get(offset), "partition {partition} offset {offset}");
            assert!(
                (produced.started_ms..=produced.finished_ms).contains(timestamp),
                "timestamp {timestamp} outside [{}, {}]",
                produced.started_ms,
                produced.finished_ms
            );
        }
    }
}

async fn compression_round_trip(compression: Compression, name: &str) {
    let dir = tempfile::tempdir().unwrap();
    let cluster = start(dir.path(), 3).await;
    let fluvio = connect(&cluster).await;
    let topic = format!("matrix-{name}");
    create_topic(&fluvio, &topic, 3).await;
    let produced = produce(&fluvio, &topic, compression, RECORDS, 3).await;
    assert_eq!(produced.by_partition.len(), 3, "records spread over every partition");
    assert_consumes_everything(&fluvio, dir.path(), &topic, &produced, 3).await;
    fluvio.admin().await.delete::<TopicSpec>(topic.clone()).await.expect("topic deleted");
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uncompressed_records_round_trip() {
    compression_round_trip(Compression::None, "none").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gzip_records_round_trip() {
    compression_round_trip(Compression::Gzip, "gzip").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snappy_records_round_trip() {
    compression_round_trip(Compression::Snappy, "snappy").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lz4_records_round_trip() {
    compression_round_trip(Compression::Lz4, "lz4").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zstd_records_round_trip() {
    compression_round_trip(Compression::Zstd, "zstd").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_lists_topics_partitions_and_spus() {
    for spus in [1u16, 3] {
        let dir = tempfile::tempdir().unwrap();
        let cluster = start(dir.path(), spus).await;
        let fluvio = connect(&cluster).await;
        create_topic(&fluvio, "single", 1).await;
        create_topic(&fluvio, "triple", 3).await;
        let admin = fluvio.admin().await;

        let mut topics: Vec<(String, u32)> = admin
            .all::<TopicSpec>()
            .await
            .unwrap()
            .into_iter()
            .map(|t| (t.name.clone(), t.spec.partitions()))
            .collect();
        topics.sort();
        assert_eq!(topics, [("single".to_string(), 1), ("triple".to_string(), 3)]);

        let partitions = admin.all::<PartitionSpec>().await.unwrap();
        assert_eq!(partitions.len(), 4);
        let mut leaders: Vec<i32> =
            partitions.iter().filter(|p| p.name.starts_with("triple-")).map(|p| p.spec.leader).collect();
        leaders.sort_unstable();
        leaders.dedup();
        assert_eq!(leaders.len(), usize::from(spus), "triple's partitions are spread over {spus} SPUs");
        for partition in &partitions {
            assert_eq!(partition.status.resolution, fluvio::metadata::partition::PartitionResolution::Online);
        }

        let spu_list = admin.all::<SpuSpec>().await.unwrap();
        assert_eq!(spu_list.len(), usize::from(spus));
        let addrs: Vec<String> = cluster.spu_addrs().iter().map(|(_, a)| a.to_string()).collect();
        for spu in &spu_list {
            assert!(addrs.contains(&spu.spec.public_endpoint.to_string()), "{} advertised", spu.spec.public_endpoint);
        }

        // Errors come back as the official codes.
        let exists = admin.create("single".to_string(), false, TopicSpec::new_computed(1, 1, None)).await;
        assert_eq!(api_error_code(exists), ErrorCode::TopicAlreadyExists);
        admin.delete::<TopicSpec>("single").await.expect("delete");
        let missing = admin.delete::<TopicSpec>("single").await;
        assert_eq!(api_error_code(missing), ErrorCode::TopicNotFound);
        let invalid = admin.create("Not_Valid".to_string(), false, TopicSpec::new_computed(1, 1, None)).await;
        assert_eq!(api_error_code(invalid), ErrorCode::TopicInvalidName);
        let topics = admin.all::<TopicSpec>().await.unwrap();
        assert_eq!(topics.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(), ["triple"]);
        cluster.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_offset_kind() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = start(dir.path(), 1).await;
    let fluvio = connect(&cluster).await;
    create_topic(&fluvio, "offsets", 1).await;
    let produced = produce(&fluvio, "offsets", Compression::None, 1000, 1).await;
    let all: Vec<Stored> = produced.by_partition[&0].values().cloned().collect();
    let values = |records: Vec<(i64, Stored, i64)>| -> Vec<(i64, Stored)> {
        records.into_iter().map(|(o, s, _)| (o, s)).collect()
    };
    let expected =
        |from: usize| -> Vec<(i64, Stored)> { (from..all.len()).map(|i| (i as i64, all[i].clone())).collect() };

    assert_eq!(values(consume(&fluvio, "offsets", 0, Offset::beginning()).await), expected(0));
    assert_eq!(values(consume(&fluvio, "offsets", 0, Offset::absolute(500).unwrap()).await), expected(500));
    assert_eq!(values(consume(&fluvio, "offsets", 0, Offset::from_beginning(10)).await), expected(10));
    assert_eq!(values(consume(&fluvio, "offsets", 0, Offset::from_end(25)).await), expected(975));
    assert!(consume(&fluvio, "offsets", 0, Offset::end()).await.is_empty());

    // A continuous stream from the end sees exactly what is produced afterwards.
    let config =
        ConsumerConfigExtBuilder::default().topic("offsets").partition(0).offset_start(Offset::end()).build().unwrap();
    let mut stream = fluvio.consumer_with_config(config).await.unwrap();
    let producer = fluvio.topic_producer("offsets").await.unwrap();
    for i in 0..3 {
        producer.send(RecordKey::NULL, format!("late-{i}")).await.unwrap();
    }
    producer.flush().await.unwrap();
    for i in 0..3 {
        let record =
            tokio::time::timeout(Duration::from_secs(10), stream.next()).await.expect("in time").unwrap().unwrap();
        assert_eq!(record.offset(), 1000 + i);
        assert_eq!(record.value(), format!("late-{i}").as_bytes());
    }
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_then_restart_reads_the_same_records() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = start(dir.path(), 3).await;
    let fluvio = connect(&cluster).await;
    create_topic(&fluvio, "kept-one", 1).await;
    create_topic(&fluvio, "kept-three", 3).await;
    create_topic(&fluvio, "dropped", 2).await;
    let one = produce(&fluvio, "kept-one", Compression::Lz4, RECORDS, 1).await;
    let three = produce(&fluvio, "kept-three", Compression::Gzip, 30_000, 3).await;
    produce(&fluvio, "dropped", Compression::None, 100, 2).await;
    fluvio.admin().await.delete::<TopicSpec>("dropped").await.expect("deleted");
    drop(fluvio);
    cluster.shutdown().await;

    let cluster = start(dir.path(), 3).await;
    let fluvio = connect(&cluster).await;
    let mut names: Vec<String> =
        fluvio.admin().await.all::<TopicSpec>().await.unwrap().into_iter().map(|t| t.name).collect();
    names.sort();
    assert_eq!(names, ["kept-one", "kept-three"]);
    assert_consumes_everything(&fluvio, dir.path(), "kept-one", &one, 1).await;
    assert_consumes_everything(&fluvio, dir.path(), "kept-three", &three, 3).await;
    cluster.shutdown().await;
}
