//! Helpers for the tests driving named consumers of the official client (consumer offsets).

use std::time::{Duration, Instant};

use fluvio::consumer::{ConsumerConfigExtBuilder, ConsumerStream, OffsetManagementStrategy, Record};
use fluvio::metadata::partition::PartitionSpec;
use fluvio::metadata::topic::TopicSpec;
use fluvio::{Fluvio, FluvioClusterConfig, Offset, RecordKey};
use fluvio_local::{ClusterConfig, LocalCluster};
use fluvio_protocol::link::ErrorCode;
use fluvio_sc_schema::objects::{ListFilter, ListRequest};
use futures_util::StreamExt;

/// A cluster of `spus` SPUs in a fresh directory, the official client connected to it, and
/// topic `topic` with `partitions` partitions of `replication` replicas holding `records`
/// records each.
pub struct Setup {
    pub cluster: LocalCluster,
    pub fluvio: Fluvio,
    pub dir: tempfile::TempDir,
}

pub async fn setup(spus: u16, topic: &str, partitions: u32, replication: u32, records: usize) -> Setup {
    setup_with(ClusterConfig::spus, spus, topic, partitions, replication, records).await
}

/// [`setup`] with the cluster configured by `configure` (given the SPU count).
pub async fn setup_with(
    configure: impl FnOnce(ClusterConfig, u16) -> ClusterConfig,
    spus: u16,
    topic: &str,
    partitions: u32,
    replication: u32,
    records: usize,
) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let config = configure(ClusterConfig::new(dir.path()), spus);
    let cluster = LocalCluster::start(config).await.expect("cluster starts");
    let fluvio = connect(&cluster).await;
    create_topic(&fluvio, topic, partitions, replication).await;
    for partition in 0..partitions {
        produce(&fluvio, topic, partition, 0..records).await;
    }
    Setup { cluster, fluvio, dir }
}

pub async fn connect(cluster: &LocalCluster) -> Fluvio {
    Fluvio::connect_with_config(&FluvioClusterConfig::new(cluster.sc_endpoint()))
        .await
        .expect("official client connects")
}

pub async fn create_topic(fluvio: &Fluvio, name: &str, partitions: u32, replication: u32) {
    let admin = fluvio.admin().await;
    admin
        .create(name.to_string(), false, TopicSpec::new_computed(partitions, replication, None))
        .await
        .expect("topic created");
}

/// Produces `"<partition>:<i>"` for each `i` of `values` to `partition` of `topic`,
/// acknowledged once committed (so that they survive the loss of a leader).
pub async fn produce(fluvio: &Fluvio, topic: &str, partition: u32, values: std::ops::Range<usize>) {
    let config = fluvio::TopicProducerConfigBuilder::default()
        .set_specific_partitioner(partition)
        .isolation(fluvio::Isolation::ReadCommitted)
        .build()
        .expect("producer config");
    let producer = fluvio.topic_producer_with_config(topic, config).await.expect("producer");
    for i in values {
        producer.send(RecordKey::NULL, format!("{partition}:{i}")).await.expect("send");
    }
    producer.flush().await.expect("flush");
}

/// A consumer of `topic` (every partition when `partitions` is empty) starting at `start`.
async fn consumer(
    fluvio: &Fluvio,
    topic: &str,
    partitions: &[u32],
    start: Offset,
    consumer_id: &str,
    strategy: OffsetManagementStrategy,
    flush: Duration,
) -> impl ConsumerStream<Item = Result<Record, ErrorCode>> + use<> {
    let mut builder = ConsumerConfigExtBuilder::default();
    builder.topic(topic).offset_start(start).offset_consumer(consumer_id).offset_strategy(strategy).offset_flush(flush);
    for partition in partitions {
        builder.partition(*partition);
    }
    fluvio.consumer_with_config(builder.build().expect("consumer config")).await.expect("consumer")
}

/// A consumer named `consumer_id` of `topic` (every partition when `partitions` is empty),
/// starting at the beginning (after its stored offsets, when it has some).
pub async fn named(
    fluvio: &Fluvio,
    topic: &str,
    partitions: &[u32],
    consumer_id: &str,
    strategy: OffsetManagementStrategy,
    flush: Duration,
) -> impl ConsumerStream<Item = Result<Record, ErrorCode>> + use<> {
    consumer(fluvio, topic, partitions, Offset::beginning(), consumer_id, strategy, flush).await
}

/// A manual-commit consumer of partition 0, starting at `start`.
pub async fn manual(
    fluvio: &Fluvio,
    topic: &str,
    start: Offset,
    consumer_id: &str,
) -> impl ConsumerStream<Item = Result<Record, ErrorCode>> + use<> {
    consumer(fluvio, topic, &[0], start, consumer_id, OffsetManagementStrategy::Manual, Duration::from_secs(10)).await
}

/// The next `count` records as (partition, offset), each checked to be the one produced there.
pub async fn take<S: ConsumerStream<Item = Result<Record, ErrorCode>>>(
    stream: &mut S,
    count: usize,
) -> Vec<(u32, i64)> {
    let mut records = Vec::with_capacity(count);
    while records.len() < count {
        let record = tokio::time::timeout(Duration::from_secs(30), stream.next())
            .await
            .expect("a record in time")
            .expect("the stream goes on")
            .expect("a record, not an error");
        let value = String::from_utf8(record.value().to_vec()).unwrap();
        assert_eq!(value, format!("{}:{}", record.partition(), record.offset()), "the record at its offset");
        records.push((record.partition(), record.offset()));
    }
    records
}

/// What the official client lists for `consumer_id`: (topic, partition, offset).
pub async fn stored(fluvio: &Fluvio, consumer_id: &str) -> Vec<(String, u32, i64)> {
    let mut listed: Vec<(String, u32, i64)> = fluvio
        .consumer_offsets()
        .await
        .expect("consumer offsets listed")
        .into_iter()
        .filter(|c| c.consumer_id == consumer_id)
        .map(|c| (c.topic, c.partition, c.offset))
        .collect();
    listed.sort();
    listed
}

/// Waits until the official client lists `expected` for `consumer_id`.
pub async fn await_stored(fluvio: &Fluvio, consumer_id: &str, expected: &[(&str, u32, i64)]) {
    let expected: Vec<(String, u32, i64)> = expected.iter().map(|(t, p, o)| (t.to_string(), *p, *o)).collect();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let listed = stored(fluvio, consumer_id).await;
        if listed == expected {
            return;
        }
        assert!(Instant::now() < deadline, "{consumer_id}: listed {listed:?}, expected {expected:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub fn offsets(records: &[(u32, i64)]) -> Vec<i64> {
    records.iter().map(|(_, offset)| *offset).collect()
}

/// `partition` (a system partition too) as `fluvio partition list [--system]` shows it.
pub async fn partition(fluvio: &Fluvio, partition: &str) -> fluvio_sc_schema::objects::Metadata<PartitionSpec> {
    let admin = fluvio.admin().await;
    for system in [false, true] {
        let request = ListRequest::<PartitionSpec>::new(Vec::<ListFilter>::new(), false).system(system);
        let listed = admin.list_with_config::<PartitionSpec, String>(request).await.expect("partitions listed");
        if let Some(found) = listed.into_iter().find(|p| p.name == partition) {
            return found;
        }
    }
    panic!("no partition {partition}")
}

/// Reads `count` records with a manual consumer, committing and flushing after each (a
/// service committing what it processed), and returns their offsets.
pub async fn read_and_commit(fluvio: &Fluvio, topic: &str, consumer_id: &str, count: usize) -> Vec<i64> {
    let mut stream = manual(fluvio, topic, Offset::beginning(), consumer_id).await;
    let mut read = Vec::new();
    for _ in 0..count {
        read.extend(offsets(&take(&mut stream, 1).await));
        stream.offset_commit().await.unwrap();
        stream.offset_flush().await.expect("flushed");
    }
    read
}
