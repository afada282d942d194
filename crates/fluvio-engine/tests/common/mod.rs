//! Shared setup: an embedded cluster in a temporary directory and a client connected to it.

#![allow(dead_code)]

use std::time::Duration;

use fluvio_engine::{ClientConfig, Fluvio, TopicConfig};
use fluvio_local::{ClusterConfig, LocalCluster};

pub struct Setup {
    pub cluster: LocalCluster,
    pub fluvio: Fluvio,
    pub dir: tempfile::TempDir,
}

pub async fn setup(spus: u16) -> Setup {
    let dir = tempfile::tempdir().expect("tempdir");
    let cluster = LocalCluster::start(ClusterConfig::new(dir.path()).spus(spus)).await.expect("cluster starts");
    let fluvio = connect(&cluster).await;
    Setup { cluster, fluvio, dir }
}

pub async fn connect(cluster: &LocalCluster) -> Fluvio {
    Fluvio::connect_with_config(config(cluster)).await.expect("client connects")
}

pub fn config(cluster: &LocalCluster) -> ClientConfig {
    ClientConfig::new(cluster.sc_endpoint())
        .with_connect_timeout(Duration::from_secs(5))
        .with_request_timeout(Duration::from_secs(10))
}

pub async fn topic(fluvio: &Fluvio, name: &str, partitions: u32) {
    fluvio.admin().create_topic(name, &TopicConfig::new(partitions, 1)).await.expect("topic created");
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}

impl Setup {
    pub async fn shutdown(self) {
        self.fluvio.close().await;
        self.cluster.shutdown().await;
    }
}

// ---- Helpers for the producer, consumer, concurrency and failover tests ----

/// How long a test waits for anything that should happen (generous: tests run in parallel on
/// a small machine, in debug builds).
pub const PATIENCE: Duration = Duration::from_secs(30);

/// Polls `ready` until it holds; panics after [`PATIENCE`], naming `what` it waited for.
pub async fn wait_until<F, Fut>(what: &str, mut ready: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = std::time::Instant::now() + PATIENCE;
    while !ready().await {
        assert!(std::time::Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The next record of a partition stream; panics on an error, the end of the stream, or
/// nothing within [`PATIENCE`].
pub async fn next_record(stream: &mut fluvio_engine::PartitionStream) -> fluvio_engine::ConsumerRecord {
    match tokio::time::timeout(PATIENCE, stream.next()).await {
        Ok(Some(Ok(record))) => record,
        Ok(Some(Err(err))) => panic!("stream failed: {err:?}"),
        Ok(None) => panic!("stream ended"),
        Err(_) => panic!("no record within {PATIENCE:?}"),
    }
}

/// The next `n` records of a partition stream.
pub async fn next_records(stream: &mut fluvio_engine::PartitionStream, n: usize) -> Vec<fluvio_engine::ConsumerRecord> {
    let mut records = Vec::with_capacity(n);
    for _ in 0..n {
        records.push(next_record(stream).await);
    }
    records
}

/// Panics if the stream yields anything within `wait`.
pub async fn assert_quiet(stream: &mut fluvio_engine::PartitionStream, wait: Duration) {
    if let Ok(item) = tokio::time::timeout(wait, stream.next()).await {
        panic!("expected nothing, got {item:?}");
    }
}

/// Every record of a partition, from its first stored offset to its high watermark now.
pub async fn read_partition(fluvio: &Fluvio, topic: &str, partition: u32) -> Vec<fluvio_engine::ConsumerRecord> {
    let consumer = fluvio.partition_consumer(topic, partition);
    let (start, end) = consumer.offsets().await.expect("partition offsets");
    let committed = fluvio_engine::ConsumerConfig {
        isolation: fluvio_engine::Isolation::ReadCommitted,
        ..fluvio_engine::ConsumerConfig::default()
    };
    let mut stream =
        consumer.stream_with_config(fluvio_engine::Offset::beginning(), committed).await.expect("stream opens");
    next_records(&mut stream, (end - start) as usize).await
}

/// Offsets of records.
pub fn offsets(records: &[fluvio_engine::ConsumerRecord]) -> Vec<i64> {
    records.iter().map(|r| r.offset).collect()
}

/// Values of records, as strings.
pub fn values(records: &[fluvio_engine::ConsumerRecord]) -> Vec<String> {
    records.iter().map(|r| String::from_utf8(r.value.to_vec()).expect("utf-8 value")).collect()
}

/// The leader SPU of a partition, as the SC reports it.
pub async fn leader_of(fluvio: &Fluvio, topic: &str, partition: u32) -> i32 {
    let name = format!("{topic}-{partition}");
    let partitions = fluvio.admin().list_partitions(Some(topic)).await.expect("partitions listed");
    partitions.into_iter().find(|p| p.name == name).expect("partition listed").spec.leader
}

/// Headers of the batches SPU `spu` stored for a partition, read from its log files (in
/// offset order), to see batching and compression as they reached the server.
pub fn stored_batches(
    base_dir: &std::path::Path,
    spu: i32,
    topic: &str,
    partition: u32,
) -> Vec<fluvio_wire::record::BatchHeader> {
    let dir = base_dir.join(format!("spu-{spu}")).join(format!("{topic}-{partition}"));
    let mut segments: Vec<std::path::PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "log"))
        .collect();
    segments.sort();
    let mut headers = Vec::new();
    for segment in segments {
        let bytes = std::fs::read(&segment).expect("segment readable");
        let parsed = fluvio_wire::record::RecordSet::from_encoded(bytes.into()).parse();
        headers.extend(parsed.batches.into_iter().map(|b| b.header));
    }
    headers
}
