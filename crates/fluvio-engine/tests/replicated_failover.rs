//! Fault tests on a replicated cluster (3 SPUs, replication factor 3), under each replication
//! policy of the embedded cluster.
//!
//! `InSync` (its guarantees, set explicitly): a producer and a READ_COMMITTED consumer keep
//! running while the leader is killed, restarted, and then another leader is killed. Every
//! acknowledged record is consumed exactly once and in order, and the consumer never sees a
//! record that the failovers later discard. A second test shows what a READ_UNCOMMITTED
//! consumer can see when a leader dies with an uncommitted tail.
//!
//! `Fluvio` (the default: what a real cluster does): a follower 4 or more records behind is not
//! elected, so the partition stays `LEADER_OFFLINE` and the producer retries until the leader
//! returns, then delivers everything; a close follower is elected at once, but nothing new is
//! committed (acknowledged on commit, or seen by committed readers) until the killed replica
//! returns.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use fluvio_engine::admin::PartitionResolution;
use fluvio_engine::{ConsumerConfig, ConsumerRecord, Fluvio, Isolation, Offset, ProducerConfig, TopicConfig};
use fluvio_local::{ClusterConfig, LocalCluster, ReplicationPolicy};
use parking_lot::Mutex;

/// Records the fault test produces after the last fault, at least.
const AFTER_FAULTS: usize = 1_000;

async fn replicated(spus: u16, policy: ReplicationPolicy) -> Setup {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = ClusterConfig::new(dir.path()).spus(spus).replication_policy(policy);
    let cluster = LocalCluster::start(config).await.expect("cluster starts");
    let fluvio = connect(&cluster).await;
    Setup { cluster, fluvio, dir }
}

/// (leader, resolution, in-sync replicas) of partition 0 of `topic`.
async fn state(fluvio: &Fluvio, topic: &str) -> (i32, PartitionResolution, u32) {
    let partitions = fluvio.admin().list_partitions(Some(topic)).await.expect("partitions");
    let partition = &partitions[0];
    (partition.spec.leader, partition.status.resolution, partition.status.lsr)
}

/// Kills the leader of `topic`-0 and waits until another in-sync replica leads it.
async fn kill_leader(s: &Setup, topic: &str) -> i32 {
    let (leader, _, _) = state(&s.fluvio, topic).await;
    s.cluster.kill_spu(leader).await.expect("leader killed");
    wait_until("a new leader is online", || async {
        let (now, resolution, _) = state(&s.fluvio, topic).await;
        now != leader && resolution == PartitionResolution::Online
    })
    .await;
    leader
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_sync_acknowledged_records_survive_leader_kills_exactly_once_in_order() {
    let s = replicated(3, ReplicationPolicy::InSync).await;
    s.fluvio.admin().create_topic("faults", &TopicConfig::new(1, 3)).await.unwrap();

    // The consumer runs from the start, READ_COMMITTED.
    let consumed: Arc<Mutex<Vec<ConsumerRecord>>> = Arc::default();
    let consumer = {
        let consumed = consumed.clone();
        let config = ConsumerConfig { isolation: Isolation::ReadCommitted, ..ConsumerConfig::default() };
        let mut stream =
            s.fluvio.partition_consumer("faults", 0).stream_with_config(Offset::beginning(), config).await.unwrap();
        tokio::spawn(async move {
            while let Some(record) = stream.next().await {
                consumed.lock().push(record.expect("the stream never fails across failovers"));
            }
        })
    };

    // The producer: acknowledged once committed, at-least-once, idempotent (the defaults but
    // the isolation), paced so that the run spans the faults.
    let config =
        ProducerConfig::builder().linger(Duration::from_millis(2)).isolation(Isolation::ReadCommitted).build().unwrap();
    let producer = s.fluvio.topic_producer_with_config("faults", config).await.unwrap();
    // Produces until told to stop, so that every fault happens while records are in flight.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let producing = tokio::spawn({
        let stop = stop.clone();
        async move {
            let mut outputs = Vec::new();
            let mut i = 0usize;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                outputs.push(producer.send(None, i.to_string().as_bytes()).await.expect("queued"));
                if i % 20 == 19 {
                    tokio::time::sleep(Duration::from_millis(3)).await;
                }
                i += 1;
            }
            producer.flush().await.expect("every record delivered");
            let mut offsets = Vec::with_capacity(outputs.len());
            for output in outputs {
                offsets.push(output.wait().await.map(|m| m.offset));
            }
            offsets
        }
    });

    let consumed_count = || consumed.lock().len();
    wait_until("1,000 records consumed", || async { consumed_count() >= 1000 }).await;
    let first = kill_leader(&s, "faults").await;
    wait_until("2,500 records consumed", || async { consumed_count() >= 2500 }).await;
    s.cluster.start_spu(first).await.expect("restarted");
    wait_until("the restarted SPU is back in sync", || async { state(&s.fluvio, "faults").await.2 == 2 }).await;
    wait_until("3,500 records consumed", || async { consumed_count() >= 3500 }).await;
    let second = kill_leader(&s, "faults").await;
    assert_ne!(first, second);
    let after_faults = consumed_count() + AFTER_FAULTS;
    wait_until("more records consumed after the last fault", || async { consumed_count() >= after_faults }).await;
    stop.store(true, std::sync::atomic::Ordering::SeqCst);

    let acknowledged = producing.await.unwrap();
    let failed: Vec<_> = acknowledged.iter().enumerate().filter(|(_, r)| r.is_err()).collect();
    assert!(failed.is_empty(), "at-least-once delivered everything: {:?}", &failed[..failed.len().min(3)]);
    let end = *acknowledged.iter().map(|r| r.as_ref().unwrap()).max().unwrap() + 1;
    wait_until("everything acknowledged is consumed", || async { consumed_count() as i64 >= end }).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    consumer.abort();
    let consumed = consumed.lock().clone();

    // Exactly once, in order, no gap: offsets 0..end, values 0..RECORDS in send order.
    assert_eq!(consumed.len() as i64, end, "nothing consumed twice or past the acknowledged end");
    assert!(consumed.iter().enumerate().all(|(i, r)| r.offset == i as i64), "offsets are 0, 1, 2, ...");
    let produced = acknowledged.len();
    let read = values(&consumed);
    if let Some(i) = (0..produced).find(|i| read.get(*i) != Some(&i.to_string())) {
        panic!("record {i} of {produced}: read {:?} there (each record once, in order)", read.get(i));
    }
    for (i, result) in acknowledged.iter().enumerate() {
        assert_eq!(*result.as_ref().unwrap(), i as i64, "record {i} was acknowledged at the offset it is read at");
    }

    // Nothing the consumer saw was discarded later: a fresh read of the committed log (from the
    // current leader) is identical, values and timestamps alike.
    let stored = read_partition(&s.fluvio, "faults", 0).await;
    assert_eq!(stored.len(), consumed.len());
    for (seen, kept) in consumed.iter().zip(&stored) {
        assert_eq!((seen.offset, &seen.value, seen.timestamp), (kept.offset, &kept.value, kept.timestamp));
    }
    s.shutdown().await;
}

/// Documents what a READ_UNCOMMITTED reader can see when a leader dies with records its
/// followers do not have: it may read records that the failover then discards; the new
/// leader reuses their offsets for other records; the reader's stream fails with a retriable
/// error rather than skip or repeat silently, and a reader that starts again from a committed
/// offset sees the new history.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_sync_a_read_uncommitted_reader_can_see_records_a_failover_discards() {
    let s = replicated(3, ReplicationPolicy::InSync).await;
    s.fluvio.admin().create_topic("uncommitted", &TopicConfig::new(1, 3)).await.unwrap();
    let (leader, _, _) = state(&s.fluvio, "uncommitted").await;
    let producer = s.fluvio.topic_producer("uncommitted").await.unwrap(); // acknowledged by the leader alone
    for i in 0..10 {
        producer.send(None, format!("kept-{i}").as_bytes()).await.unwrap();
    }
    producer.flush().await.unwrap();
    wait_until("every replica in sync", || async {
        let partitions = s.fluvio.admin().list_partitions(Some("uncommitted")).await.unwrap();
        let status = &partitions[0].status;
        status.lsr == 2 && status.replicas.iter().all(|r| r.leo == 10)
    })
    .await;

    // The followers stall; the leader takes 5 records that only it holds.
    for spu in s.cluster.spu_ids().into_iter().filter(|id| *id != leader) {
        s.cluster.pause_spu_replication(spu, true).unwrap();
    }
    tokio::time::sleep(Duration::from_millis(700)).await;
    for i in 0..5 {
        producer.send(None, format!("lost-{i}").as_bytes()).await.unwrap();
    }
    producer.flush().await.unwrap();
    let uncommitted = ConsumerConfig { isolation: Isolation::ReadUncommitted, ..ConsumerConfig::default() };
    let mut reader = s
        .fluvio
        .partition_consumer("uncommitted", 0)
        .stream_with_config(Offset::beginning(), uncommitted.clone())
        .await
        .unwrap();
    let seen = next_records(&mut reader, 15).await;
    assert_eq!(values(&seen[10..]), (0..5).map(|i| format!("lost-{i}")).collect::<Vec<_>>());
    let committed = ConsumerConfig { isolation: Isolation::ReadCommitted, ..ConsumerConfig::default() };
    let mut committed_reader =
        s.fluvio.partition_consumer("uncommitted", 0).stream_with_config(Offset::beginning(), committed).await.unwrap();
    assert_eq!(next_records(&mut committed_reader, 10).await.len(), 10);
    assert_quiet(&mut committed_reader, Duration::from_millis(300)).await;

    // The leader dies with its tail; a follower without it takes over.
    s.cluster.kill_spu(leader).await.unwrap();
    for spu in s.cluster.spu_ids() {
        let _ = s.cluster.pause_spu_replication(spu, false);
    }
    wait_until("a new leader", || async {
        let (now, resolution, _) = state(&s.fluvio, "uncommitted").await;
        now != leader && resolution == PartitionResolution::Online
    })
    .await;
    // The uncommitted reader wants offset 15, which does not exist in the new history: its
    // stream fails with OffsetOutOfRange instead of waiting or skipping.
    let failure = match tokio::time::timeout(PATIENCE, reader.next()).await {
        Ok(Some(Err(err))) => err,
        other => panic!("expected the stream to fail, got {other:?}"),
    };
    assert_eq!(failure.kind(), fluvio_engine::ErrorKind::OffsetOutOfRange, "{failure:?}");

    for i in 0..8 {
        producer.send(None, format!("new-{i}").as_bytes()).await.unwrap();
    }
    producer.flush().await.unwrap();

    // The committed reader just goes on: offsets 10.. now hold the new records.
    let next = next_records(&mut committed_reader, 8).await;
    assert_eq!(next[0].offset, 10);
    assert_eq!(values(&next), (0..8).map(|i| format!("new-{i}")).collect::<Vec<_>>());

    // A reader starting again from its last committed position sees the new history. (Had the
    // new leader already written past offset 15 when the uncommitted reader resumed, that
    // reader would have gone on from 15 without notice, never seeing new-0..new-4: an
    // uncommitted read is a bet that the leader survives.)
    let mut again = s
        .fluvio
        .partition_consumer("uncommitted", 0)
        .stream_with_config(Offset::absolute(10).unwrap(), uncommitted)
        .await
        .unwrap();
    assert_eq!(values(&next_records(&mut again, 8).await), values(&next));
    s.shutdown().await;
}

/// A leader killed right after a burst of writes (acknowledged by itself alone) leaves its
/// followers at different points: the survivors must converge on the new leader's log, commit
/// it, and serve it, even with `min_live_replicas` 2.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_sync_survivors_of_an_abrupt_leader_loss_converge_and_commit() {
    for round in 0..5 {
        let dir = tempfile::tempdir().expect("tempdir");
        let config =
            ClusterConfig::new(dir.path()).spus(3).min_live_replicas(2).replication_policy(ReplicationPolicy::InSync);
        let cluster = LocalCluster::start(config).await.unwrap();
        let fluvio = connect(&cluster).await;
        fluvio.admin().create_topic("burst", &TopicConfig::new(1, 3)).await.unwrap();
        let producer = fluvio.topic_producer("burst").await.unwrap();
        for i in 0..100 {
            producer.send(None, format!("{i}").as_bytes()).await.unwrap();
        }
        producer.flush().await.unwrap();
        let (leader, _, _) = state(&fluvio, "burst").await;
        cluster.kill_spu(leader).await.unwrap();
        let deadline = Instant::now() + PATIENCE;
        let converged = loop {
            let partitions = fluvio.admin().list_partitions(Some("burst")).await.unwrap();
            let p = &partitions[0];
            let done = p.spec.leader != leader
                && p.status.resolution == PartitionResolution::Online
                && p.status.lsr == 1
                && p.status.leader.hw == p.status.leader.leo
                && p.status.replicas.iter().any(|r| r.spu != leader && r.leo == p.status.leader.leo);
            if done {
                break p.status.leader.leo;
            }
            assert!(Instant::now() < deadline, "round {round}: no convergence: {p:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        let stored = read_partition(&fluvio, "burst", 0).await;
        assert_eq!(stored.len() as i64, converged, "round {round}");
        fluvio.close().await;
        cluster.shutdown().await;
    }
}

/// Waits until every replica of `topic`-0 holds `end` records and knows them committed.
async fn wait_replicated(fluvio: &Fluvio, topic: &str, end: i64) {
    wait_until("every replica holds everything", || async {
        let partitions = fluvio.admin().list_partitions(Some(topic)).await.unwrap();
        let status = &partitions[0].status;
        status.resolution == PartitionResolution::Online
            && status.leader.hw == end
            && status.replicas.len() == 2
            && status.replicas.iter().all(|r| r.leo == end && r.hw == end)
    })
    .await;
}

/// Under real Fluvio's rules, the case seen on a real cluster under load: the followers are
/// 4 or more records behind when the leader dies, so nobody is elected. The partition stays
/// `LEADER_OFFLINE`, the producer keeps retrying (nothing is acknowledged meanwhile), and once
/// the leader returns every record is delivered, in order, with nothing lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fluvio_a_producer_retries_while_nobody_qualifies_and_delivers_once_the_leader_returns() {
    let s = replicated(3, ReplicationPolicy::Fluvio).await;
    s.fluvio.admin().create_topic("offline", &TopicConfig::new(1, 3)).await.unwrap();
    let (leader, _, _) = state(&s.fluvio, "offline").await;
    let producer = s.fluvio.topic_producer("offline").await.unwrap(); // acknowledged by the leader
    for i in 0..10 {
        producer.send(None, i.to_string().as_bytes()).await.unwrap();
    }
    producer.flush().await.unwrap();
    wait_replicated(&s.fluvio, "offline", 10).await;

    // The followers fall behind by 5 records, as the leader's report to the SC shows.
    let followers: Vec<i32> = s.cluster.spu_ids().into_iter().filter(|id| *id != leader).collect();
    for spu in &followers {
        s.cluster.pause_spu_replication(*spu, true).unwrap();
    }
    tokio::time::sleep(Duration::from_millis(700)).await; // let their last long-polls end
    for i in 10..15 {
        producer.send(None, i.to_string().as_bytes()).await.unwrap();
    }
    producer.flush().await.unwrap();
    wait_until("the SC knows the followers lag", || async {
        let partitions = s.fluvio.admin().list_partitions(Some("offline")).await.unwrap();
        let status = &partitions[0].status;
        status.leader.leo == 15 && status.lsr == 0 && status.replicas.iter().all(|r| r.leo == 10)
    })
    .await;

    s.cluster.kill_spu(leader).await.unwrap();
    for spu in &followers {
        s.cluster.pause_spu_replication(*spu, false).unwrap();
    }
    wait_until("the partition is leader-offline", || async {
        state(&s.fluvio, "offline").await.1 == PartitionResolution::LeaderOffline
    })
    .await;
    let sending = tokio::spawn(async move {
        let mut outputs = Vec::new();
        for i in 15..25 {
            outputs.push(producer.send(None, i.to_string().as_bytes()).await.unwrap());
        }
        producer.flush().await.expect("delivered once the leader is back");
        let mut offsets = Vec::new();
        for output in outputs {
            offsets.push(output.wait().await.expect("delivered").offset);
        }
        offsets
    });
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(state(&s.fluvio, "offline").await, (leader, PartitionResolution::LeaderOffline, 0), "nobody elected");
    assert!(!sending.is_finished(), "nothing can be acknowledged without a leader");

    s.cluster.start_spu(leader).await.unwrap();
    let offsets = tokio::time::timeout(PATIENCE, sending).await.expect("delivered in time").unwrap();
    assert_eq!(offsets, (15..25).collect::<Vec<i64>>());
    assert_eq!(state(&s.fluvio, "offline").await.0, leader, "the old leader leads again");
    wait_replicated(&s.fluvio, "offline", 25).await;
    let stored = read_partition(&s.fluvio, "offline", 0).await;
    assert_eq!(values(&stored), (0..25).map(|i| i.to_string()).collect::<Vec<_>>(), "nothing lost, nothing twice");
    s.shutdown().await;
}

/// Under real Fluvio's rules a follower close to the killed leader is elected at once and
/// serves, but the high watermark waits for every replica: a producer acknowledged on commit
/// and a READ_COMMITTED reader get nothing new until the killed replica is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fluvio_after_a_failover_nothing_new_commits_until_the_killed_replica_returns() {
    let s = replicated(3, ReplicationPolicy::Fluvio).await;
    s.fluvio.admin().create_topic("waits", &TopicConfig::new(1, 3)).await.unwrap();
    let on_commit = ProducerConfig::builder().isolation(Isolation::ReadCommitted).build().unwrap();
    let producer = s.fluvio.topic_producer_with_config("waits", on_commit).await.unwrap();
    for i in 0..20 {
        producer.send(None, i.to_string().as_bytes()).await.unwrap();
    }
    producer.flush().await.unwrap();
    wait_replicated(&s.fluvio, "waits", 20).await;
    let committed = ConsumerConfig { isolation: Isolation::ReadCommitted, ..ConsumerConfig::default() };
    let mut reader =
        s.fluvio.partition_consumer("waits", 0).stream_with_config(Offset::beginning(), committed).await.unwrap();
    assert_eq!(next_records(&mut reader, 20).await.len(), 20);

    let killed = kill_leader(&s, "waits").await;
    let sending = tokio::spawn(async move {
        let mut outputs = Vec::new();
        for i in 20..30 {
            outputs.push(producer.send(None, i.to_string().as_bytes()).await.unwrap());
        }
        producer.flush().await.expect("delivered once committed");
        let mut offsets = Vec::new();
        for output in outputs {
            offsets.push(output.wait().await.expect("delivered").offset);
        }
        offsets
    });
    assert_quiet(&mut reader, Duration::from_millis(1500)).await;
    assert!(!sending.is_finished(), "nothing is acknowledged on commit while a replica is down");

    s.cluster.start_spu(killed).await.unwrap();
    let offsets = tokio::time::timeout(PATIENCE, sending).await.expect("delivered in time").unwrap();
    assert_eq!(offsets, (20..30).collect::<Vec<i64>>(), "each once, in order");
    let next = next_records(&mut reader, 10).await;
    assert_eq!(values(&next), (20..30).map(|i| i.to_string()).collect::<Vec<_>>());
    assert_quiet(&mut reader, Duration::from_millis(300)).await;
    s.shutdown().await;
}
