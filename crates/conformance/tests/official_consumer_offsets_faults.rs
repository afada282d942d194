//! Named consumers of the official `fluvio` client (crates.io 0.50) through faults of our
//! cluster: the leaders of the data partition and of `consumer-offset` killed (replication 3),
//! and the whole cluster crashed and started again on its directory. A consumer committing
//! after each record resumes after its last commit, nothing skipped and nothing read twice.

mod common;

use std::time::{Duration, Instant};

use common::official_offsets::*;
use fluvio_local::{ClusterConfig, LocalCluster, ReplicationPolicy};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consumer_resumes_after_losing_the_leaders_of_its_partition_and_of_consumer_offset() {
    // Under Fluvio's rules (the default policy) the high watermark waits for the killed
    // replica, so no commit would land until it returns, as on a real cluster: this failover
    // runs under IN_SYNC, where the in-sync set drops it.
    let in_sync = |config: ClusterConfig, spus| config.spus(spus).replication_policy(ReplicationPolicy::InSync);
    let Setup { cluster, fluvio, dir: _dir } = setup_with(in_sync, 3, "failover", 1, 3, 30).await;
    assert_eq!(read_and_commit(&fluvio, "failover", "service", 10).await, (0..10).collect::<Vec<_>>());

    // The data partition's leader dies: the next run resumes on the new leader.
    cluster.kill_spu(partition(&fluvio, "failover-0").await.spec.leader).await.unwrap();
    let fluvio = connect(&cluster).await;
    assert_eq!(read_and_commit(&fluvio, "failover", "service", 10).await, (10..20).collect::<Vec<_>>());
    // Then the leader of consumer-offset dies (unless it was the same SPU).
    let offsets_leader = partition(&fluvio, "consumer-offset-0").await.spec.leader;
    if cluster.is_spu_running(offsets_leader) {
        cluster.kill_spu(offsets_leader).await.unwrap();
    }
    let fluvio = connect(&cluster).await;
    assert_eq!(read_and_commit(&fluvio, "failover", "service", 10).await, (20..30).collect::<Vec<_>>());
    assert_eq!(stored(&fluvio, "service").await, [("failover".to_string(), 0, 29)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consumer_resumes_after_the_whole_cluster_crashed() {
    let Setup { cluster, fluvio, dir } = setup(3, "crash", 1, 3, 20).await;
    let config = ClusterConfig::new(dir.path()).spus(3);
    assert_eq!(read_and_commit(&fluvio, "crash", "service", 7).await, (0..7).collect::<Vec<_>>());
    drop(fluvio);
    drop(cluster); // as a crash: nothing is flushed or closed cleanly

    let deadline = Instant::now() + Duration::from_secs(10);
    let cluster = loop {
        match LocalCluster::start(config.clone()).await {
            Ok(cluster) => break cluster,
            Err(fluvio_local::ClusterError::DirectoryInUse { .. }) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(20)).await
            }
            Err(err) => panic!("{err}"),
        }
    };
    let fluvio = connect(&cluster).await;
    // Right after a crash the partition's high watermark may lag (its checkpoint is not
    // fsynced) until the followers fetch again, and the official consumer starts at the lower
    // of the stored offset + 1 and the high watermark: let it settle first.
    let deadline = Instant::now() + Duration::from_secs(10);
    while partition(&fluvio, "crash-0").await.status.leader.hw < 20 {
        assert!(Instant::now() < deadline, "the high watermark does not come back");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(read_and_commit(&fluvio, "crash", "service", 13).await, (7..20).collect::<Vec<_>>());
}
