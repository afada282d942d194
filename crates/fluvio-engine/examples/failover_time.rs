//! Failover time (a benchmark, not a test): how long from killing a partition's leader until a
//! consumer receives the first record from the new leader, with a producer writing all along.
//!
//! ```text
//! cargo run --release -p fluvio-engine --example failover_time -- [rounds]
//! ```
//!
//! An embedded cluster of 3 SPUs runs in this process with a topic of 1 partition and
//! replication factor 3. A producer (acknowledgement on commit, linger 0) sends a numbered
//! record every millisecond; a READ_COMMITTED stream reads them. Each round kills the leader
//! (as `kill -9` would), measures until the SC lists a new leader Online ("election") and until
//! the stream delivers the first record written after the kill ("first record"), then starts
//! the killed SPU again and waits until it is back in sync. Prints each round and the median.
//!
//! The cluster runs the in-sync replica policy (`ReplicationPolicy::InSync`), where the new
//! leader commits without the killed replica. Under real Fluvio's rules (the cluster's
//! default) the election is as fast when the followers are close, but nothing new is committed
//! until the killed replica is back, so "first record" would measure its restart instead.

#[path = "support/args.rs"]
mod args;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use args::arg;
use fluvio_engine::admin::PartitionResolution;
use fluvio_engine::{ClientConfig, ConsumerConfig, Fluvio, Isolation, Offset, ProducerConfig, TopicConfig};
use fluvio_local::{ClusterConfig, LocalCluster, ReplicationPolicy};

async fn leader(fluvio: &Fluvio) -> (i32, PartitionResolution, u32) {
    let partitions = fluvio.admin().list_partitions(Some("failover")).await.expect("partitions");
    let partition = &partitions[0];
    (partition.spec.leader, partition.status.resolution, partition.status.lsr)
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}

#[tokio::main]
async fn main() -> fluvio_engine::Result<()> {
    let rounds: usize = arg(1, 5);
    let dir = tempfile::tempdir().expect("temporary directory");
    let config = ClusterConfig::new(dir.path()).spus(3).replication_policy(ReplicationPolicy::InSync);
    let cluster = LocalCluster::start(config).await.expect("cluster");
    let fluvio = Fluvio::connect_with_config(ClientConfig::new(cluster.sc_endpoint())).await?;
    fluvio.admin().create_topic("failover", &TopicConfig::new(1, 3)).await?;

    // The producer numbers its records; the stream remembers the highest number it saw.
    let config = ProducerConfig::builder().linger(Duration::ZERO).isolation(Isolation::ReadCommitted).build()?;
    let producer = fluvio.topic_producer_with_config("failover", config).await?;
    let sent = Arc::new(AtomicU64::new(0));
    let producing = {
        let sent = sent.clone();
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(Duration::from_millis(1));
            loop {
                ticker.tick().await;
                let n = sent.load(Ordering::SeqCst);
                if producer.send(None, n.to_string().as_bytes()).await.is_err() {
                    return;
                }
                sent.store(n + 1, Ordering::SeqCst);
            }
        })
    };
    let received = Arc::new(AtomicU64::new(0));
    let consuming = {
        let received = received.clone();
        let consumer = fluvio.partition_consumer("failover", 0);
        let config = ConsumerConfig { isolation: Isolation::ReadCommitted, ..ConsumerConfig::default() };
        let mut stream = consumer.stream_with_config(Offset::beginning(), config).await?;
        tokio::spawn(async move {
            while let Some(Ok(record)) = stream.next().await {
                let n: u64 = String::from_utf8_lossy(&record.value).parse().unwrap_or(0);
                received.fetch_max(n + 1, Ordering::SeqCst);
            }
        })
    };

    println!(
        "Failover time: 3 SPUs (in-sync policy), replication factor 3, a record every 1 ms, READ_COMMITTED stream"
    );
    println!("| round | killed | new leader | election | first record from the new leader |");
    println!("|---|---|---|---|---|");
    let mut elections = Vec::new();
    let mut first_records = Vec::new();
    tokio::time::sleep(Duration::from_millis(500)).await;
    for round in 1..=rounds {
        let (old_leader, _, _) = leader(&fluvio).await;
        let killed_at = Instant::now();
        let sent_before = sent.load(Ordering::SeqCst);
        cluster.kill_spu(old_leader).await.expect("kill");
        let election = loop {
            let (now_leader, resolution, _) = leader(&fluvio).await;
            if now_leader != old_leader && resolution == PartitionResolution::Online {
                break (now_leader, killed_at.elapsed());
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        };
        let first_record = loop {
            if received.load(Ordering::SeqCst) > sent_before {
                break killed_at.elapsed();
            }
            assert!(killed_at.elapsed() < Duration::from_secs(60), "no record after the failover");
            tokio::time::sleep(Duration::from_micros(200)).await;
        };
        println!(
            "| {round} | {old_leader} | {} | {} ms | {} ms |",
            election.0,
            election.1.as_millis(),
            first_record.as_millis()
        );
        elections.push(election.1);
        first_records.push(first_record);
        cluster.start_spu(old_leader).await.expect("start");
        while leader(&fluvio).await.2 < 2 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    println!("| median | | | {} ms | {} ms |", median(elections).as_millis(), median(first_records).as_millis());
    producing.abort();
    consuming.abort();
    fluvio.close().await;
    cluster.shutdown().await;
    Ok(())
}
