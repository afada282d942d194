//! The official `fluvio` client (0.50.1) across a leader change in our embedded cluster (with
//! its default replication policy, real Fluvio's rules): its consumer follows the partition to
//! the new leader with no gap and no duplicate, and its producer delivers to the new leader.

use std::time::Duration;

use fluvio::consumer::ConsumerConfigExtBuilder;
use fluvio::metadata::partition::PartitionSpec;
use fluvio::metadata::topic::TopicSpec;
use fluvio::{Fluvio, FluvioClusterConfig, Isolation, Offset, RecordKey, TopicProducerConfigBuilder};
use fluvio_local::{ClusterConfig, LocalCluster};
use futures_util::StreamExt;

async fn leader_of(fluvio: &Fluvio, partition: &str) -> i32 {
    let partitions = fluvio.admin().await.list::<PartitionSpec, String>(vec![]).await.unwrap();
    partitions.into_iter().find(|p| p.name == partition).expect("partition listed").spec.leader
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_consumer_and_producer_follow_a_new_leader() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = LocalCluster::start(ClusterConfig::new(dir.path()).spus(3)).await.unwrap();
    let fluvio = Fluvio::connect_with_config(&FluvioClusterConfig::new(cluster.sc_endpoint())).await.unwrap();
    fluvio.admin().await.create("moving".to_string(), false, TopicSpec::new_computed(1, 3, None)).await.unwrap();

    // Acknowledged only once committed, i.e. held by every replica.
    let config = TopicProducerConfigBuilder::default()
        .isolation(Isolation::ReadCommitted)
        .linger(Duration::from_millis(5))
        .build()
        .unwrap();
    let producer = fluvio.topic_producer_with_config("moving", config).await.unwrap();
    for i in 0..50 {
        producer.send(RecordKey::NULL, format!("before-{i}")).await.unwrap();
    }
    producer.flush().await.unwrap();

    let consumer_config = ConsumerConfigExtBuilder::default()
        .topic("moving".to_string())
        .partition(0)
        .offset_start(Offset::beginning())
        .isolation(Isolation::ReadCommitted)
        .build()
        .unwrap();
    let mut stream = fluvio.consumer_with_config(consumer_config).await.unwrap();
    let mut seen = Vec::new();
    while seen.len() < 50 {
        let record = tokio::time::timeout(Duration::from_secs(10), stream.next()).await.unwrap().unwrap().unwrap();
        seen.push((record.offset, String::from_utf8_lossy(record.value()).into_owned()));
    }

    let old_leader = leader_of(&fluvio, "moving-0").await;
    cluster.kill_spu(old_leader).await.unwrap();
    let new_leader = leader_of(&fluvio, "moving-0").await;
    assert_ne!(new_leader, old_leader, "the SC elected another replica");

    // The official producer finds the new leader (through its metadata watch).
    let producer = fluvio.topic_producer("moving").await.unwrap();
    let mut delivered = false;
    for _ in 0..100 {
        let sent = async {
            let output = producer.send(RecordKey::NULL, "after-0").await?;
            producer.flush().await?;
            output.wait().await.map_err(anyhow::Error::from)
        };
        if tokio::time::timeout(Duration::from_secs(5), sent).await.is_ok_and(|r| r.is_ok()) {
            delivered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(delivered, "the official producer could not deliver to the new leader");
    for i in 1..20 {
        producer.send(RecordKey::NULL, format!("after-{i}")).await.unwrap();
    }
    producer.flush().await.unwrap();

    // The records after the failover are committed once every replica holds them, the killed
    // one included (as on a real cluster): it comes back as a follower and catches up.
    cluster.start_spu(old_leader).await.unwrap();

    // The official consumer resumes on the new leader where it stopped.
    while seen.len() < 70 {
        let record = tokio::time::timeout(Duration::from_secs(30), stream.next())
            .await
            .expect("the consumer resumed on the new leader")
            .expect("the stream goes on")
            .expect("a record");
        seen.push((record.offset, String::from_utf8_lossy(record.value()).into_owned()));
    }
    let offsets: Vec<i64> = seen.iter().map(|(offset, _)| *offset).collect();
    assert_eq!(offsets, (0..70).collect::<Vec<i64>>(), "no gap, no duplicate");
    let values: Vec<&str> = seen.iter().map(|(_, value)| value.as_str()).collect();
    assert_eq!(values[..50], (0..50).map(|i| format!("before-{i}")).collect::<Vec<_>>()[..]);
    assert_eq!(values[50..], (0..20).map(|i| format!("after-{i}")).collect::<Vec<_>>()[..]);
    cluster.shutdown().await;
}
