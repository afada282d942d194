//! Storage failures stay with what failed: a damaged file of one partition makes that
//! partition unavailable, with a typed error for its clients and a reason in its topic's
//! status, while the cluster starts and serves everything else.

mod common;

use std::time::Duration;

use common::*;
use fluvio_local::{ClusterConfig, FIRST_SPU_ID, LocalCluster};
use fluvio_wire::ErrorCode;
use fluvio_wire::sc::TopicSpec;
use fluvio_wire::sc::partition::PartitionResolution;

/// A start must not wait for a partition that can never come online.
const PROMPT_START: Duration = Duration::from_secs(10);

/// Damages a replica's epoch history as the report did: 34 bytes that are not a history.
fn damage_epoch_file(base: &std::path::Path, spu: i32, partition: &str) {
    let path = base.join(format!("spu-{spu}")).join(partition).join("leader-epochs");
    std::fs::write(&path, b"\x00\x01garbage, not a leader epoch list").unwrap();
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 34);
}

async fn start(base: &std::path::Path, spus: u16) -> LocalCluster {
    let starting = LocalCluster::start(ClusterConfig::new(base).spus(spus));
    tokio::time::timeout(PROMPT_START, starting).await.expect("the start does not hang").expect("cluster starts")
}

#[tokio::test]
async fn a_damaged_partition_file_makes_only_that_partition_unavailable() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = start(dir.path(), 1).await;
    let mut sc = RawClient::connect(cluster.sc_addr()).await;
    for topic in ["good", "bad"] {
        assert!(create_topic(&mut sc, topic, TopicSpec::computed(1, 1)).await.error_code.is_ok());
        assert!(produce_values(first_spu(&cluster), topic, 0, &[b"a", b"b"]).await.error_code.is_ok());
    }
    cluster.shutdown().await;
    damage_epoch_file(dir.path(), FIRST_SPU_ID, "bad-0");

    for restart in 0..2 {
        let cluster = start(dir.path(), 1).await;
        let unavailable = cluster.unavailable_partitions();
        assert_eq!(unavailable.len(), 1, "{unavailable:?}");
        assert_eq!(unavailable[0].partition, "bad-0");
        assert!(!unavailable[0].storage_full);

        let spu = first_spu(&cluster);
        // Everything else serves.
        let good = produce_values(spu, "good", 0, &[b"c"]).await;
        assert!(good.error_code.is_ok(), "{:?}", good.error_code);
        assert_eq!(good.base_offset, 2 + restart);
        // Clients of the damaged partition get a typed storage error, not a leader hunt.
        assert_eq!(produce_values(spu, "bad", 0, &[b"c"]).await.error_code, ErrorCode::StorageError);
        assert_eq!(first_push(spu, "bad", 0, 0).await.partition.error_code, ErrorCode::StorageError);
        // The status shows it.
        let mut sc = RawClient::connect(cluster.sc_addr()).await;
        let partitions = list_partitions(&mut sc).await;
        let bad = partitions.iter().find(|p| p.name == "bad-0").unwrap();
        assert_eq!(bad.status.resolution, PartitionResolution::LeaderOffline);
        let good = partitions.iter().find(|p| p.name == "good-0").unwrap();
        assert_eq!(good.status.resolution, PartitionResolution::Online);
        let topics = list_topics(&mut sc).await;
        assert!(!topics.iter().find(|t| t.name == "bad").unwrap().status.reason.is_empty());
        cluster.shutdown().await;
    }

    // Once the file is repaired (here: removed, as an operator would restore it), the
    // partition serves again with its records.
    std::fs::remove_file(dir.path().join(format!("spu-{FIRST_SPU_ID}")).join("bad-0").join("leader-epochs")).unwrap();
    let cluster = start(dir.path(), 1).await;
    assert!(cluster.unavailable_partitions().is_empty());
    let repaired = produce_values(first_spu(&cluster), "bad", 0, &[b"c"]).await;
    assert!(repaired.error_code.is_ok(), "{:?}", repaired.error_code);
    assert_eq!(repaired.base_offset, 2);
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_leader_replica_hands_the_partition_to_an_in_sync_follower() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = start(dir.path(), 3).await;
    let mut sc = RawClient::connect(cluster.sc_addr()).await;
    assigned_topic(&mut sc, "replicated", &[FIRST_SPU_ID, FIRST_SPU_ID + 1, FIRST_SPU_ID + 2]).await;
    let leader = cluster.spu_addrs()[0].1;
    assert!(produce_values(leader, "replicated", 0, &[b"a", b"b", b"c"]).await.error_code.is_ok());
    // Committed on every replica before the stop (the leader waits for its followers).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let partitions = list_partitions(&mut sc).await;
        let p = &partitions[0];
        if p.status.replicas.len() == 2 && p.status.replicas.iter().all(|r| r.leo == 3) {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "not replicated: {:?}", p.status);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    cluster.shutdown().await;
    damage_epoch_file(dir.path(), FIRST_SPU_ID, "replicated-0");

    let cluster = start(dir.path(), 3).await;
    assert!(cluster.unavailable_partitions().is_empty(), "{:?}", cluster.unavailable_partitions());
    let mut sc = RawClient::connect(cluster.sc_addr()).await;
    let partition = list_partitions(&mut sc).await.remove(0);
    assert_ne!(partition.spec.leader, FIRST_SPU_ID);
    assert_eq!(partition.status.resolution, PartitionResolution::Online);
    let new_leader = cluster.spu_addrs().into_iter().find(|(id, _)| *id == partition.spec.leader).unwrap().1;
    let appended = produce_values(new_leader, "replicated", 0, &[b"d"]).await;
    assert!(appended.error_code.is_ok(), "{:?}", appended.error_code);
    assert_eq!(appended.base_offset, 3, "no record lost");
    cluster.shutdown().await;
}

#[tokio::test]
async fn a_topic_stored_without_partitions_by_an_older_version_never_blocks_a_start() {
    // What a failed creation left in older versions: the topic, without its partitions.
    let dir = tempfile::tempdir().unwrap();
    let cluster = start(dir.path(), 1).await;
    let mut sc = RawClient::connect(cluster.sc_addr()).await;
    assert!(create_topic(&mut sc, "kept", TopicSpec::computed(1, 1)).await.error_code.is_ok());
    cluster.shutdown().await;
    let file = dir.path().join("sc").join("metadata.json");
    let mut metadata: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    let spec = metadata["topics"]["kept"].clone();
    metadata["topics"]["phantom"] = spec;
    metadata["version"] = 1.into(); // (a topic without partitions in a current file waits for SPUs)
    std::fs::write(&file, serde_json::to_vec(&metadata).unwrap()).unwrap();

    for _restart in 0..2 {
        let cluster = start(dir.path(), 1).await;
        let mut sc = RawClient::connect(cluster.sc_addr()).await;
        let names: Vec<String> = list_topics(&mut sc).await.into_iter().map(|t| t.name).collect();
        assert_eq!(names, ["kept"], "the half-made topic is gone");
        cluster.shutdown().await;
    }
    let cluster = start(dir.path(), 1).await;
    let mut sc = RawClient::connect(cluster.sc_addr()).await;
    assert!(create_topic(&mut sc, "phantom", TopicSpec::computed(1, 1)).await.error_code.is_ok(), "it can be created");
    cluster.shutdown().await;
}
