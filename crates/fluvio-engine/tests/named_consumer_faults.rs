//! Named consumers through faults (3 SPUs, replication 3): the leaders of the data partition
//! and of `consumer-offset` killed while a service reads, processes and commits after each
//! record; and the whole cluster stopped, then crashed, each time started again on its
//! directory. The service
//! resumes with nothing skipped, and processes again only what it had not committed.

mod common;

use std::time::{Duration, Instant};

use common::*;
use fluvio_engine::{
    ConsumerConfig, Fluvio, Isolation, Offset, OffsetStrategy, PartitionStream, RecordStream, TopicConfig,
};
use fluvio_local::{ClusterConfig, LocalCluster, ReplicationPolicy};

/// A service's stream: its consumer id, manual commits, committed reads only (a failover takes
/// nothing back).
async fn service_stream(fluvio: &Fluvio, topic: &str) -> PartitionStream {
    let config = ConsumerConfig {
        consumer_id: Some("service".into()),
        offset_strategy: OffsetStrategy::Manual,
        isolation: Isolation::ReadCommitted,
        ..ConsumerConfig::default()
    };
    fluvio.partition_consumer(topic, 0).stream_with_config(Offset::beginning(), config).await.expect("stream opens")
}

/// Processes `count` records, committing and storing after each; returns their offsets.
async fn process_and_commit(stream: &mut PartitionStream, count: usize) -> Vec<i64> {
    let mut processed = Vec::new();
    for _ in 0..count {
        processed.push(next_record(stream).await.offset);
        stream.commit().unwrap();
        stream.flush().await.expect("offset stored");
    }
    processed
}

async fn produce(fluvio: &Fluvio, topic: &str, count: usize) {
    let producer = fluvio.topic_producer(topic).await.unwrap();
    for n in 0..count {
        producer.send(None, n.to_string().as_bytes()).await.unwrap();
    }
    producer.flush().await.unwrap();
}

async fn stored(fluvio: &Fluvio) -> Vec<(String, u32, i64)> {
    let consumers = fluvio.admin().list_consumers().await.unwrap();
    consumers.into_iter().map(|c| (c.topic, c.partition, c.offset)).collect()
}

async fn offsets_leader(fluvio: &Fluvio) -> i32 {
    let partitions = fluvio.admin().list_system_partitions().await.unwrap();
    partitions.into_iter().find(|p| p.name == "consumer-offset-0").expect("consumer-offset-0 listed").spec.leader
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_resumes_after_losing_the_leaders_of_its_partition_and_of_consumer_offset() {
    // Under Fluvio's rules (the default policy) the high watermark waits for a killed replica,
    // so neither the committed reads nor the commits would go on until it returns, as on a real
    // cluster: this failover runs under IN_SYNC, where the in-sync set drops it.
    let dir = tempfile::tempdir().unwrap();
    let config = ClusterConfig::new(dir.path()).spus(3).replication_policy(ReplicationPolicy::InSync);
    let cluster = LocalCluster::start(config).await.expect("cluster starts");
    let s = Setup { fluvio: connect(&cluster).await, cluster, dir };
    s.fluvio.admin().create_topic("orders", &TopicConfig::new(1, 3)).await.unwrap();
    produce(&s.fluvio, "orders", 15).await;
    let mut processed = Vec::new();

    let mut stream = service_stream(&s.fluvio, "orders").await;
    processed.extend(process_and_commit(&mut stream, 10).await);
    // The data partition's leader dies: the same stream goes on from the new leader (records
    // produced there now), and commits there.
    s.cluster.kill_spu(leader_of(&s.fluvio, "orders", 0).await).await.unwrap();
    produce(&s.fluvio, "orders", 25).await;
    processed.extend(process_and_commit(&mut stream, 10).await);
    assert_eq!(stored(&s.fluvio).await, [("orders".to_string(), 0, 19)]);

    // The leader of consumer-offset dies (unless it was the same SPU): commits still land.
    let offsets = offsets_leader(&s.fluvio).await;
    if s.cluster.is_spu_running(offsets) {
        s.cluster.kill_spu(offsets).await.unwrap();
    }
    processed.extend(process_and_commit(&mut stream, 5).await);
    // Three more processed, not committed, then the service crashes.
    let mut not_committed = Vec::new();
    for _ in 0..3 {
        not_committed.push(next_record(&mut stream).await.offset);
    }
    processed.extend(&not_committed);
    drop(stream);

    // The next run starts after the last commit: only the uncommitted records come again.
    let fluvio = connect(&s.cluster).await;
    let mut stream = service_stream(&fluvio, "orders").await;
    let again = process_and_commit(&mut stream, 15).await;
    assert_eq!(again[..3], not_committed[..], "what was not committed is processed again");
    processed.extend(again);
    let mut unique = processed.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique, (0..40).collect::<Vec<_>>(), "nothing skipped");
    assert_eq!(processed.len(), 40 + 3, "nothing processed twice but the 3 uncommitted records");
    assert_eq!(stored(&fluvio).await, [("orders".to_string(), 0, 39)]);
    drop(stream);
    fluvio.close().await;
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_resumes_after_the_whole_cluster_stopped_or_crashed() {
    let dir = tempfile::tempdir().unwrap();
    let config = ClusterConfig::new(dir.path()).spus(3);
    let cluster = LocalCluster::start(config.clone()).await.unwrap();
    let fluvio = connect(&cluster).await;
    fluvio.admin().create_topic("ledger", &TopicConfig::new(1, 3)).await.unwrap();
    produce(&fluvio, "ledger", 20).await;
    let mut stream = service_stream(&fluvio, "ledger").await;
    assert_eq!(process_and_commit(&mut stream, 7).await, (0..7).collect::<Vec<_>>());
    drop(stream);
    fluvio.close().await;
    cluster.shutdown().await;

    // Started again on the same directory (new ports: a new client).
    let cluster = start_again(&config).await;
    let fluvio = connect(&cluster).await;
    assert_eq!(stored(&fluvio).await, [("ledger".to_string(), 0, 6)]);
    let mut stream = service_stream(&fluvio, "ledger").await;
    assert_eq!(process_and_commit(&mut stream, 6).await, (7..13).collect::<Vec<_>>());
    drop(stream);
    drop(fluvio);
    drop(cluster); // now as a crash: nothing is flushed or closed cleanly

    let cluster = start_again(&config).await;
    let fluvio = connect(&cluster).await;
    // Right after a restart a partition's high watermark may lag for a moment behind what was
    // consumed (its checkpoint is not fsynced): the stream waits for it rather than start at
    // it (where the official client would hand out again what was already committed).
    assert_eq!(stored(&fluvio).await, [("ledger".to_string(), 0, 12)]);
    let mut stream = service_stream(&fluvio, "ledger").await;
    assert_eq!(process_and_commit(&mut stream, 7).await, (13..20).collect::<Vec<_>>());
    drop(stream);
    fluvio.close().await;
    cluster.shutdown().await;
}

/// The cluster started again on its directory, once the previous one released it.
async fn start_again(config: &ClusterConfig) -> LocalCluster {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match LocalCluster::start(config.clone()).await {
            Ok(cluster) => return cluster,
            Err(fluvio_local::ClusterError::DirectoryInUse { .. }) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(20)).await
            }
            Err(err) => panic!("{err}"),
        }
    }
}
