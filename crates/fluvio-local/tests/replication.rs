//! Replication, leader election and failover in the embedded cluster, over real sockets with
//! the raw protocol, under both replication policies. Under `InSync`: commitment waits for the
//! in-sync replicas, a failed leader is replaced by an in-sync follower under a new epoch, a
//! returning replica cuts its divergent tail, a replica that returns after the leader's
//! retention deleted what it lacks restarts its log at the leader's log start, retried batches
//! are not stored twice. Under `Fluvio` (the default, real Fluvio's rules): commitment waits
//! for every replica, a lost leader is replaced only by a follower less than 4 records behind
//! it, otherwise the partition waits for its leader. The SC reports all of it.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::replicated::*;
use common::*;
use fluvio_local::{ClusterConfig, ClusterError, LocalCluster};
use fluvio_wire::error_code::ErrorCode;
use fluvio_wire::sc::partition::PartitionResolution;
use fluvio_wire::sc::spu::SpuStatusResolution;
use fluvio_wire::sc::topic::{PartitionMap, ReplicaSpec, TopicStorageConfig};
use fluvio_wire::sc::{Metadata, PartitionSpec, TopicSpec};
use fluvio_wire::spu::{Isolation, StreamFetchRequest, StreamFetchResponse};
use fluvio_wire::{Decoder, Request};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn followers_replicate_and_the_status_shows_every_replica() {
    let mut s = setup(|c| c).await;
    let status = create_topic(&mut s.sc, "computed", TopicSpec::computed(3, 3)).await;
    assert!(status.error_code.is_ok(), "{status:?}");
    let all = list_partitions(&mut s.sc).await;
    let mut leaders: Vec<i32> = all.iter().map(|p| p.spec.leader).collect();
    leaders.sort_unstable();
    assert_eq!(leaders, [SPU_1, SPU_2, SPU_3], "one leader per SPU");
    for partition in &all {
        let mut replicas = partition.spec.replicas.clone();
        replicas.sort_unstable();
        assert_eq!(replicas, [SPU_1, SPU_2, SPU_3]);
        assert_eq!(partition.spec.replicas[0], partition.spec.leader);
    }

    let leader = all.iter().find(|p| p.name == "computed-0").unwrap().spec.leader;
    let result = produce(addr(&s.cluster, leader), "computed", &values_batch(0, 10), Isolation::ReadCommitted).await;
    assert!(result.error_code.is_ok(), "{:?}", result.error_code);
    let partition = wait_replicated(&mut s.sc, "computed-0", 3, 10).await;
    assert_eq!(partition.status.leader.spu, leader);
    assert!(partition.status.replicas.iter().all(|r| r.spu != leader && r.hw <= 10));

    // Followers do not serve clients.
    let follower = partition.spec.replicas.iter().copied().find(|id| *id != leader).unwrap();
    let refused =
        produce(addr(&s.cluster, follower), "computed", &values_batch(10, 11), Isolation::ReadUncommitted).await;
    assert_eq!(refused.error_code, ErrorCode::NotLeaderForPartition);

    // `lsr` counts in-sync followers, as a real SC reports it: 2 for replication 3 (waited
    // for above), 0 for replication 1.
    let status = create_topic(&mut s.sc, "single", TopicSpec::computed(1, 1)).await;
    assert!(status.error_code.is_ok(), "{status:?}");
    let single = wait_partition(&mut s.sc, "single-0", "the leader reported", |p| p.status.leader.hw == 0).await;
    assert_eq!(single.status.lsr, 0);
    s.cluster.shutdown().await;
}

/// Under `Fluvio` the high watermark waits for every replica: a new topic's while its
/// followers have not fetched yet, and any topic's while one replica is down. Records are
/// stored and served to uncommitted readers meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fluvio_commitment_waits_for_every_replica() {
    let mut s = setup(|c| c).await;
    s.cluster.pause_spu_replication(SPU_2, true).unwrap();
    s.cluster.pause_spu_replication(SPU_3, true).unwrap();
    assigned_topic(&mut s.sc, "all", &[SPU_1, SPU_2, SPU_3]).await;
    let leader = addr(&s.cluster, SPU_1);
    let stored = produce(leader, "all", &values_batch(0, 5), Isolation::ReadUncommitted).await;
    assert!(stored.error_code.is_ok(), "{:?}", stored.error_code);
    let timed_out = produce(leader, "all", &values_batch(5, 6), Isolation::ReadCommitted).await;
    assert!(matches!(timed_out.error_code, ErrorCode::RequestTimedOut { .. }), "{:?}", timed_out.error_code);
    assert_eq!(fetch_offsets(leader, "all").await, (0, 0), "nothing committed before the followers fetch");
    assert_eq!(read(leader, "all", Isolation::ReadUncommitted, 6).await.len(), 6);

    // One follower is not enough.
    s.cluster.pause_spu_replication(SPU_2, false).unwrap();
    wait_partition(&mut s.sc, "all-0", "SPU 2 caught up", |p| {
        p.status.replicas.iter().any(|r| r.spu == SPU_2 && r.leo == 6)
    })
    .await;
    assert_eq!(fetch_offsets(leader, "all").await, (0, 0), "SPU 3 holds nothing yet");
    s.cluster.pause_spu_replication(SPU_3, false).unwrap();
    wait_replicated(&mut s.sc, "all-0", 3, 6).await;

    // A replica down holds the high watermark back until it returns and catches up.
    s.cluster.kill_spu(SPU_3).await.unwrap();
    let timed_out = produce(leader, "all", &values_batch(6, 7), Isolation::ReadCommitted).await;
    assert!(matches!(timed_out.error_code, ErrorCode::RequestTimedOut { .. }), "{:?}", timed_out.error_code);
    let stored = produce(leader, "all", &values_batch(7, 9), Isolation::ReadUncommitted).await;
    assert_eq!((stored.error_code.clone(), stored.base_offset), (ErrorCode::None, 7));
    let partition = wait_partition(&mut s.sc, "all-0", "the report", |p| p.status.leader.leo == 9).await;
    assert_eq!(partition.status.leader.hw, 6);
    assert_eq!(partition.status.resolution, PartitionResolution::Online, "the leader serves on");
    s.cluster.start_spu(SPU_3).await.unwrap();
    wait_replicated(&mut s.sc, "all-0", 3, 9).await;
    assert_eq!(values(&read(leader, "all", Isolation::ReadCommitted, 9).await), expected(0, 9));
    s.cluster.shutdown().await;
}

/// Under `Fluvio` a follower close to the killed leader (here fully caught up) is elected at
/// once; the high watermark then waits for the killed replica to return.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fluvio_a_killed_leader_is_replaced_by_a_close_follower() {
    let mut s = setup(|c| c).await;
    assigned_topic(&mut s.sc, "close", &[SPU_1, SPU_2, SPU_3]).await;
    let first = produce(addr(&s.cluster, SPU_1), "close", &values_batch(0, 20), Isolation::ReadCommitted).await;
    assert!(first.error_code.is_ok());
    wait_replicated(&mut s.sc, "close-0", 3, 20).await;

    s.cluster.kill_spu(SPU_1).await.unwrap();
    let partition = wait_partition(&mut s.sc, "close-0", "a new leader is online", |p| {
        p.spec.leader != SPU_1 && p.status.resolution == PartitionResolution::Online
    })
    .await;
    assert_eq!(partition.spec.leader, SPU_2, "the first of the closest followers in assignment order");
    let new_leader = addr(&s.cluster, SPU_2);
    let timed_out = produce(new_leader, "close", &values_batch(20, 21), Isolation::ReadCommitted).await;
    assert!(matches!(timed_out.error_code, ErrorCode::RequestTimedOut { .. }), "commits wait for SPU 1");
    let more = produce(new_leader, "close", &values_batch(21, 30), Isolation::ReadUncommitted).await;
    assert_eq!((more.error_code.clone(), more.base_offset), (ErrorCode::None, 21));
    assert_eq!(fetch_offsets(new_leader, "close").await, (0, 20));

    s.cluster.start_spu(SPU_1).await.unwrap();
    let partition = wait_replicated(&mut s.sc, "close-0", 3, 30).await;
    assert_eq!(partition.spec.leader, SPU_2, "no leadership change on return");
    let records = read(new_leader, "close", Isolation::ReadCommitted, 30).await;
    let mut want = expected(0, 21);
    want.extend(expected(21, 30));
    assert_eq!(values(&records), want);
    s.cluster.shutdown().await;
}

/// Pauses both followers of `topic`-0 (led by SPU 1, holding `committed` records on every
/// replica), has SPU 1 alone take `extra` more, waits until the SC holds the leader's report of
/// it, and kills SPU 1.
async fn kill_a_leader_ahead_by(s: &mut Setup, topic: &str, committed: usize, extra: usize) {
    let leader = addr(&s.cluster, SPU_1);
    let first = produce(leader, topic, &values_batch(0, committed), Isolation::ReadCommitted).await;
    assert!(first.error_code.is_ok());
    wait_replicated(&mut s.sc, &format!("{topic}-0"), 3, committed as i64).await;
    s.cluster.pause_spu_replication(SPU_2, true).unwrap();
    s.cluster.pause_spu_replication(SPU_3, true).unwrap();
    tokio::time::sleep(Duration::from_millis(700)).await; // let their last long-polls end
    let alone = produce(leader, topic, &values_batch(committed, committed + extra), Isolation::ReadUncommitted).await;
    assert!(alone.error_code.is_ok());
    let end = (committed + extra) as i64;
    wait_partition(&mut s.sc, &format!("{topic}-0"), "the leader reported its lead", |p| {
        p.status.leader.leo == end && p.status.replicas.iter().all(|r| r.leo == committed as i64)
    })
    .await;
    s.cluster.kill_spu(SPU_1).await.unwrap();
    s.cluster.pause_spu_replication(SPU_2, false).unwrap();
    s.cluster.pause_spu_replication(SPU_3, false).unwrap();
}

/// The case seen on a real cluster under load: followers 4 or more records behind the killed
/// leader are not elected; the partition stays `LeaderOffline` (its spec still naming the old
/// leader) until the old leader returns, then serves every record it had, none lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fluvio_lagging_followers_are_not_elected_and_the_partition_waits_for_its_leader() {
    let mut s = setup(|c| c).await;
    assigned_topic(&mut s.sc, "lagging", &[SPU_1, SPU_2, SPU_3]).await;
    kill_a_leader_ahead_by(&mut s, "lagging", 10, 4).await;
    let partition = wait_partition(&mut s.sc, "lagging-0", "leader offline", |p| {
        p.status.resolution == PartitionResolution::LeaderOffline
    })
    .await;
    assert_eq!(partition.spec.leader, SPU_1);
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let partition = list_partitions(&mut s.sc).await.into_iter().find(|p| p.name == "lagging-0").unwrap();
    assert_eq!(partition.status.resolution, PartitionResolution::LeaderOffline, "nobody elected: {partition:?}");
    let refused = produce(addr(&s.cluster, SPU_2), "lagging", &values_batch(0, 1), Isolation::ReadUncommitted).await;
    assert_eq!(refused.error_code, ErrorCode::NotLeaderForPartition);

    s.cluster.start_spu(SPU_1).await.unwrap();
    let partition = wait_replicated(&mut s.sc, "lagging-0", 3, 14).await;
    assert_eq!(partition.spec.leader, SPU_1, "the old leader leads again");
    let records = read(addr(&s.cluster, SPU_1), "lagging", Isolation::ReadCommitted, 14).await;
    assert_eq!(values(&records), expected(0, 14), "every record it had acknowledged");
    s.cluster.shutdown().await;
}

/// Under `Fluvio` a follower less than 4 records behind is elected, and what the killed leader
/// alone had acknowledged is lost (as on a real cluster): the returning leader cuts it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fluvio_a_follower_3_records_behind_is_elected_and_the_leaders_tail_is_lost() {
    let mut s = setup(|c| c).await;
    assigned_topic(&mut s.sc, "behind", &[SPU_1, SPU_2, SPU_3]).await;
    kill_a_leader_ahead_by(&mut s, "behind", 10, 3).await;
    wait_partition(&mut s.sc, "behind-0", "SPU 2 leads", |p| {
        p.spec.leader == SPU_2 && p.status.resolution == PartitionResolution::Online
    })
    .await;
    let new_leader = addr(&s.cluster, SPU_2);
    let replaced = produce(new_leader, "behind", &values_batch(100, 102), Isolation::ReadUncommitted).await;
    assert_eq!((replaced.error_code.clone(), replaced.base_offset), (ErrorCode::None, 10));

    // SPU 1 returns: it cuts records 10..13 and copies the new leader's instead (every
    // follower's log ends at 12, as the leader sees them).
    s.cluster.start_spu(SPU_1).await.unwrap();
    wait_replicated(&mut s.sc, "behind-0", 3, 12).await;
    let mut want = expected(0, 10);
    want.extend(expected(100, 102));
    assert_eq!(values(&read(new_leader, "behind", Isolation::ReadCommitted, 12).await), want);
    s.cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_sync_commitment_waits_for_min_live_replicas() {
    let mut s = setup(|c| in_sync(c).min_live_replicas(2)).await;
    // Below min-live-replicas nothing could ever be committed: refused.
    let status = create_topic(&mut s.sc, "single", TopicSpec::computed(1, 1)).await;
    assert_eq!(status.error_code, ErrorCode::TopicInvalidConfiguration);

    assigned_topic(&mut s.sc, "pair", &[SPU_1, SPU_2]).await;
    let leader = addr(&s.cluster, SPU_1);
    assert!(produce(leader, "pair", &values_batch(0, 5), Isolation::ReadCommitted).await.error_code.is_ok());
    wait_replicated(&mut s.sc, "pair-0", 2, 5).await;

    // With the follower gone the ISR is the leader alone, below 2: nothing commits.
    s.cluster.kill_spu(SPU_2).await.unwrap();
    wait_partition(&mut s.sc, "pair-0", "the ISR shrinks to the leader", |p| p.status.lsr == 0).await;
    let timed_out = produce(leader, "pair", &values_batch(5, 6), Isolation::ReadCommitted).await;
    assert!(matches!(timed_out.error_code, ErrorCode::RequestTimedOut { .. }), "{:?}", timed_out.error_code);
    let accepted = produce(leader, "pair", &values_batch(6, 7), Isolation::ReadUncommitted).await;
    assert!(accepted.error_code.is_ok(), "leader-only acknowledgement still works");
    assert_eq!(accepted.base_offset, 6);
    assert_eq!(read(leader, "pair", Isolation::ReadUncommitted, 7).await.len(), 7, "uncommitted readers see all");
    let partition = wait_partition(&mut s.sc, "pair-0", "the report", |p| p.status.leader.leo == 7).await;
    assert_eq!(partition.status.leader.hw, 5, "nothing past 5 is committed");

    // The follower returns, catches up, rejoins: everything commits.
    s.cluster.start_spu(SPU_2).await.unwrap();
    wait_replicated(&mut s.sc, "pair-0", 2, 7).await;
    let committed = read(leader, "pair", Isolation::ReadCommitted, 7).await;
    assert_eq!(values(&committed)[..5], expected(0, 5)[..]);
    s.cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_sync_a_killed_leader_is_replaced_by_an_in_sync_follower() {
    let mut s = setup(in_sync).await;
    assigned_topic(&mut s.sc, "failover", &[SPU_1, SPU_2, SPU_3]).await;
    let first = produce(addr(&s.cluster, SPU_1), "failover", &values_batch(0, 20), Isolation::ReadCommitted).await;
    assert!(first.error_code.is_ok());
    wait_replicated(&mut s.sc, "failover-0", 3, 20).await;

    let killed = Instant::now();
    s.cluster.kill_spu(SPU_1).await.unwrap();
    let partition = wait_partition(&mut s.sc, "failover-0", "a new leader is online", |p| {
        p.spec.leader != SPU_1 && p.status.resolution == PartitionResolution::Online
    })
    .await;
    let elected = killed.elapsed();
    assert!(elected < Duration::from_secs(3), "election took {elected:?}");
    assert_eq!(partition.spec.leader, SPU_2, "the first in-sync replica in assignment order");
    assert_eq!(partition.status.lsr, 1, "SPU 3 is the one in-sync follower");
    let spu_1 = spus(&mut s.sc).await.into_iter().find(|spu| spu.spec.id == SPU_1).unwrap();
    assert_eq!(spu_1.status.resolution, SpuStatusResolution::Offline);

    // Everything committed is there, and new records go on after it under a higher epoch.
    let new_leader = addr(&s.cluster, SPU_2);
    let more = produce(new_leader, "failover", &values_batch(20, 30), Isolation::ReadCommitted).await;
    assert!(more.error_code.is_ok(), "{:?}", more.error_code);
    assert_eq!(more.base_offset, 20);
    let records = read(new_leader, "failover", Isolation::ReadCommitted, 30).await;
    assert_eq!(values(&records), expected(0, 30));
    assert_eq!(records.iter().map(|r| r.0).collect::<Vec<_>>(), (0..30).collect::<Vec<_>>());
    assert!(records[25].2 > records[5].2, "epochs: {} then {}", records[5].2, records[25].2);

    // The old leader comes back as a follower and catches up.
    s.cluster.start_spu(SPU_1).await.unwrap();
    let partition = wait_replicated(&mut s.sc, "failover-0", 3, 30).await;
    assert_eq!(partition.spec.leader, SPU_2, "no leadership change on return");
    s.cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_sync_a_returning_leader_cuts_its_uncommitted_divergent_tail() {
    let mut s = setup(in_sync).await;
    assigned_topic(&mut s.sc, "diverge", &[SPU_1, SPU_2, SPU_3]).await;
    let leader = addr(&s.cluster, SPU_1);
    assert!(produce(leader, "diverge", &values_batch(0, 10), Isolation::ReadCommitted).await.error_code.is_ok());
    wait_replicated(&mut s.sc, "diverge-0", 3, 10).await;

    // The followers fall behind (still in sync for the lag time); the leader takes 5 more
    // records acknowledged by itself alone, then dies.
    s.cluster.pause_spu_replication(SPU_2, true).unwrap();
    s.cluster.pause_spu_replication(SPU_3, true).unwrap();
    tokio::time::sleep(Duration::from_millis(700)).await; // let their last long-polls end
    let uncommitted = produce(leader, "diverge", &values_batch(10, 15), Isolation::ReadUncommitted).await;
    assert!(uncommitted.error_code.is_ok());
    let seen = read(leader, "diverge", Isolation::ReadUncommitted, 15).await;
    assert_eq!(values(&seen), expected(0, 15), "an uncommitted reader saw the tail");
    s.cluster.kill_spu(SPU_1).await.unwrap();
    s.cluster.pause_spu_replication(SPU_2, false).unwrap();
    s.cluster.pause_spu_replication(SPU_3, false).unwrap();

    // SPU 2 leads without the tail; new records take offsets 10.. there.
    wait_partition(&mut s.sc, "diverge-0", "SPU 2 leads", |p| {
        p.spec.leader == SPU_2 && p.status.resolution == PartitionResolution::Online
    })
    .await;
    let new_leader = addr(&s.cluster, SPU_2);
    let replaced = produce(new_leader, "diverge", &values_batch(100, 103), Isolation::ReadCommitted).await;
    assert!(replaced.error_code.is_ok(), "{:?}", replaced.error_code);
    assert_eq!(replaced.base_offset, 10);

    // SPU 1 returns: it truncates records 10..15 and takes the new leader's records instead.
    s.cluster.start_spu(SPU_1).await.unwrap();
    wait_replicated(&mut s.sc, "diverge-0", 3, 13).await;
    s.cluster.kill_spu(SPU_2).await.unwrap();
    s.cluster.kill_spu(SPU_3).await.unwrap();
    // SPU 1 was in sync: the partition comes back on it, with the new leader's history.
    let partition = wait_partition(&mut s.sc, "diverge-0", "SPU 1 leads again", |p| {
        p.spec.leader == SPU_1 && p.status.resolution == PartitionResolution::Online
    })
    .await;
    assert_eq!(partition.status.leader.leo, 13);
    let records = read(addr(&s.cluster, SPU_1), "diverge", Isolation::ReadUncommitted, 13).await;
    let mut want = expected(0, 10);
    want.extend(expected(100, 103));
    assert_eq!(values(&records), want);
    s.cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_sync_without_an_in_sync_replica_the_partition_waits_for_one() {
    let mut s = setup(in_sync).await;
    assigned_topic(&mut s.sc, "waits", &[SPU_1, SPU_2]).await;
    assert!(
        produce(addr(&s.cluster, SPU_1), "waits", &values_batch(0, 3), Isolation::ReadCommitted)
            .await
            .error_code
            .is_ok()
    );
    wait_replicated(&mut s.sc, "waits-0", 2, 3).await;
    s.cluster.stop_spu(SPU_2).await.unwrap();
    wait_partition(&mut s.sc, "waits-0", "the follower left the ISR", |p| p.status.lsr == 0).await;
    assert!(
        produce(addr(&s.cluster, SPU_1), "waits", &values_batch(3, 5), Isolation::ReadCommitted)
            .await
            .error_code
            .is_ok()
    );
    s.cluster.stop_spu(SPU_1).await.unwrap();
    let partition = wait_partition(&mut s.sc, "waits-0", "leader offline", |p| {
        p.status.resolution == PartitionResolution::LeaderOffline
    })
    .await;
    assert_eq!(partition.spec.leader, SPU_1);

    // SPU 2 lacks records 3 and 4: it must not lead.
    s.cluster.start_spu(SPU_2).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let partition = list_partitions(&mut s.sc).await.into_iter().find(|p| p.name == "waits-0").unwrap();
    assert_eq!(partition.status.resolution, PartitionResolution::LeaderOffline);

    // SPU 1 returns and leads with every record; SPU 2 catches up.
    s.cluster.start_spu(SPU_1).await.unwrap();
    wait_replicated(&mut s.sc, "waits-0", 2, 5).await;
    let records = read(addr(&s.cluster, SPU_1), "waits", Isolation::ReadCommitted, 5).await;
    assert_eq!(values(&records), expected(0, 5));
    s.cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_spu_is_declared_dead_fenced_replaced_and_rejoins_by_itself() {
    let mut s = setup(|c| c.spu_timeout(Duration::from_millis(600))).await;
    assigned_topic(&mut s.sc, "hung", &[SPU_1, SPU_2, SPU_3]).await;
    let old_leader = addr(&s.cluster, SPU_1);
    assert!(produce(old_leader, "hung", &values_batch(0, 4), Isolation::ReadCommitted).await.error_code.is_ok());
    wait_replicated(&mut s.sc, "hung-0", 3, 4).await;

    let silenced = Instant::now();
    s.cluster.silence_spu_heartbeats(SPU_1).unwrap();
    wait_partition(&mut s.sc, "hung-0", "a new leader", |p| {
        p.spec.leader != SPU_1 && p.status.resolution == PartitionResolution::Online
    })
    .await;
    let detected = silenced.elapsed();
    assert!(detected < Duration::from_secs(3), "took {detected:?} with a 600 ms timeout");
    // Fenced: it acknowledges nothing more, and stops.
    let deadline = Instant::now() + Duration::from_secs(5);
    while s.cluster.is_spu_running(SPU_1) {
        assert!(Instant::now() < deadline, "the fenced SPU did not stop");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    match tokio::net::TcpStream::connect(old_leader).await {
        Err(_) => {}
        Ok(stream) => {
            // Accepted by a listener being torn down: it must not answer a produce.
            drop(stream);
        }
    }
    // It rejoins by itself, healthy again, as a follower of the new leader.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !s.cluster.is_spu_running(SPU_1) {
        assert!(Instant::now() < deadline, "the fenced SPU did not rejoin");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    wait_replicated(&mut s.sc, "hung-0", 3, 4).await;
    let partition = list_partitions(&mut s.sc).await.into_iter().find(|p| p.name == "hung-0").unwrap();
    assert_ne!(partition.spec.leader, SPU_1, "it follows the leader elected meanwhile");
    s.cluster.shutdown().await;
}

/// (Under `InSync`, where the new leader commits without the killed one.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_batch_is_stored_once_even_across_a_failover() {
    let mut s = setup(in_sync).await;
    assigned_topic(&mut s.sc, "dedup", &[SPU_1, SPU_2, SPU_3]).await;
    let leader = addr(&s.cluster, SPU_1);
    let first = produce(leader, "dedup", &idempotent_batch(0, 3, 42, 0), Isolation::ReadCommitted).await;
    assert!(first.error_code.is_ok());
    assert_eq!(first.base_offset, 0);
    let again = produce(leader, "dedup", &idempotent_batch(0, 3, 42, 0), Isolation::ReadCommitted).await;
    assert!(again.error_code.is_ok());
    assert_eq!(again.base_offset, 0, "the original offset, not a new copy");
    let other_producer = produce(leader, "dedup", &idempotent_batch(3, 6, 43, 0), Isolation::ReadCommitted).await;
    assert_eq!(other_producer.base_offset, 3, "another producer's batch is not a duplicate");
    let next = produce(leader, "dedup", &idempotent_batch(6, 8, 42, 3), Isolation::ReadCommitted).await;
    assert_eq!(next.base_offset, 6);
    let plain = produce(leader, "dedup", &values_batch(0, 3), Isolation::ReadCommitted).await;
    assert_eq!(plain.base_offset, 8, "batches without a producer id are never deduplicated");
    wait_replicated(&mut s.sc, "dedup-0", 3, 11).await;

    // The leader dies; the producer, not knowing its last batch was stored, retries it on the
    // new leader, which learned the producers' batches by replication.
    s.cluster.kill_spu(SPU_1).await.unwrap();
    wait_partition(&mut s.sc, "dedup-0", "a new leader", |p| {
        p.spec.leader == SPU_2 && p.status.resolution == PartitionResolution::Online
    })
    .await;
    let new_leader = addr(&s.cluster, SPU_2);
    let retried = produce(new_leader, "dedup", &idempotent_batch(6, 8, 42, 3), Isolation::ReadCommitted).await;
    assert!(retried.error_code.is_ok(), "{:?}", retried.error_code);
    assert_eq!(retried.base_offset, 6);
    let records = read(new_leader, "dedup", Isolation::ReadCommitted, 11).await;
    assert_eq!(records.len(), 11);

    // After a restart of the new leader the state is rebuilt from its log.
    s.cluster.stop_spu(SPU_3).await.unwrap();
    s.cluster.stop_spu(SPU_2).await.unwrap();
    s.cluster.start_spu(SPU_2).await.unwrap();
    let restarted = addr(&s.cluster, SPU_2);
    wait_partition(&mut s.sc, "dedup-0", "SPU 2 leads again", |p| {
        p.spec.leader == SPU_2 && p.status.resolution == PartitionResolution::Online
    })
    .await;
    let after_restart = produce(restarted, "dedup", &idempotent_batch(6, 8, 42, 3), Isolation::ReadUncommitted).await;
    assert_eq!(after_restart.base_offset, 6);
    let partition = list_partitions(&mut s.sc).await.into_iter().find(|p| p.name == "dedup-0").unwrap();
    assert_eq!(partition.status.leader.leo, 11, "nothing was appended twice");
    s.cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replicated_cluster_restarts_with_its_data_and_leaders() {
    let dir = tempfile::tempdir().unwrap();
    let config = || ClusterConfig::new(dir.path()).spus(3);
    let leaders_before = {
        let cluster = LocalCluster::start(config()).await.unwrap();
        let mut sc = RawClient::connect(cluster.sc_addr()).await;
        let status = create_topic(&mut sc, "durable", TopicSpec::computed(3, 3)).await;
        assert!(status.error_code.is_ok());
        let all = list_partitions(&mut sc).await;
        for (index, partition) in all.iter().enumerate() {
            let leader = addr(&cluster, partition.spec.leader);
            let from = index * 100;
            let mut request =
                produce_request("durable", index as u32, &[values_batch(from, from + 10)], Isolation::ReadCommitted);
            request.timeout_ms = 5000;
            let response = RawClient::connect(leader).await.call(&request).await;
            assert!(only_result(&response).error_code.is_ok());
        }
        for index in 0..3 {
            wait_replicated(&mut sc, &format!("durable-{index}"), 3, 10).await;
        }
        cluster.shutdown().await;
        leaders(&all)
    };
    let cluster = LocalCluster::start(config()).await.unwrap();
    let mut sc = RawClient::connect(cluster.sc_addr()).await;
    let mut restarted = Vec::new();
    for index in 0..3 {
        let name = format!("durable-{index}");
        let partition = wait_replicated(&mut sc, &name, 3, 10).await;
        restarted.push(partition.clone());
        let leader = addr(&cluster, partition.spec.leader);
        let mut client = RawClient::connect(leader).await;
        let request = StreamFetchRequest {
            topic: "durable".into(),
            partition: index,
            max_bytes: 1 << 20,
            isolation: Isolation::ReadCommitted,
            ..Default::default()
        };
        let id = client.send(&request).await;
        let (got, body) = client.read_frame().await.unwrap();
        assert_eq!(got, id);
        let push = StreamFetchResponse::decode_exact(body, StreamFetchRequest::DEFAULT_VERSION).unwrap();
        let count: i64 = push.partition.records.parse().batches.iter().map(|b| b.header.record_count()).sum();
        assert_eq!(count, 10, "{name}");
    }
    // Stopping the cluster stopped its SPUs one after the other: no leadership moved to the
    // SPU stopped last.
    assert_eq!(leaders(&restarted), leaders_before, "one leader per SPU, as before the restart");
    cluster.shutdown().await;
}

/// Each partition's name and leader, in name order.
fn leaders(partitions: &[Metadata<PartitionSpec>]) -> Vec<(String, i32)> {
    let mut leaders: Vec<(String, i32)> = partitions.iter().map(|p| (p.name.clone(), p.spec.leader)).collect();
    leaders.sort();
    leaders
}

/// The first push of a stream opened at `from`: its error code (the log start and high
/// watermark it carries are checked by the caller).
async fn stream_error_at(spu: SocketAddr, topic: &str, from: i64) -> ErrorCode {
    let mut client = RawClient::connect(spu).await;
    let id = client.send(&stream_request(topic, from, Isolation::ReadCommitted)).await;
    let (got, body) = client.read_frame().await.expect("a push");
    assert_eq!(got, id);
    StreamFetchResponse::decode_exact(body, StreamFetchRequest::DEFAULT_VERSION).unwrap().partition.error_code
}

/// The log start of partition `name` once retention is done with it: at least `at_least`, and
/// unchanged in the SC's status for over a second (the leader reports every 400 ms and enforces
/// retention every 100 ms in these tests).
async fn settled_log_start(sc: &mut RawClient, name: &str, at_least: i64) -> i64 {
    let mut log_start = -1;
    let mut stable_since = Instant::now();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let partition = wait_partition(sc, name, "retention", |p| p.status.base_offset >= at_least).await;
        if partition.status.base_offset != log_start {
            log_start = partition.status.base_offset;
            stable_since = Instant::now();
        } else if stable_since.elapsed() > Duration::from_millis(1200) {
            return log_start;
        }
        assert!(Instant::now() < deadline, "the log start of {name} never settled");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The `(epoch, start offset)` entries of a replica's leader-epoch history file.
fn epoch_history(cluster: &LocalCluster, spu: i32, topic: &str) -> Vec<(i32, i64)> {
    let text = std::fs::read_to_string(replica_file(cluster, spu, topic, "leader-epochs")).unwrap();
    text.lines()
        .skip(1)
        .map(|line| {
            let (epoch, start) = line.split_once(' ').unwrap();
            (epoch.parse().unwrap(), start.parse().unwrap())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_behind_the_leaders_log_start_restarts_its_log_there() {
    follower_behind_the_leaders_log_start(false).await;
}

/// As if the follower had crashed inside its reset, after emptying its epoch history but
/// before resetting its log: it still converges.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_behind_the_leaders_log_start_with_no_epoch_history_restarts_too() {
    follower_behind_the_leaders_log_start(true).await;
}

/// Under `InSync` only: under `Fluvio` the high watermark, below which retention deletes,
/// waits for the absent follower, so the leader never deletes what it lacks.
async fn follower_behind_the_leaders_log_start(forget_epochs: bool) {
    let mut s = setup(|c| in_sync(c).spus(2).retention_interval(Duration::from_millis(100))).await;
    // Segments of at most 1 KiB, and at most 2 KiB per partition: the leader deletes its
    // oldest segments quickly.
    let spec = TopicSpec {
        replicas: ReplicaSpec::Assigned(vec![PartitionMap { id: 0, replicas: vec![SPU_1, SPU_2], mirror: None }]),
        storage: Some(TopicStorageConfig { segment_size: Some(1024), max_partition_size: Some(2048) }),
        ..Default::default()
    };
    let status = create_topic(&mut s.sc, "evicted", spec).await;
    assert!(status.error_code.is_ok(), "{status:?}");
    let leader = addr(&s.cluster, SPU_1);
    for from in (0..30).step_by(10) {
        let result = produce(leader, "evicted", &values_batch(from, from + 10), Isolation::ReadCommitted).await;
        assert!(result.error_code.is_ok(), "{:?}", result.error_code);
    }
    wait_replicated(&mut s.sc, "evicted-0", 2, 30).await;

    // The follower is away while the leader writes 170 more records and retention deletes
    // everything up to past the follower's log end (30).
    s.cluster.stop_spu(SPU_2).await.unwrap();
    wait_partition(&mut s.sc, "evicted-0", "the follower left the ISR", |p| p.status.lsr == 0).await;
    for from in (30..200).step_by(10) {
        let result = produce(leader, "evicted", &values_batch(from, from + 10), Isolation::ReadCommitted).await;
        assert!(result.error_code.is_ok(), "{:?}", result.error_code);
    }
    let log_start = settled_log_start(&mut s.sc, "evicted-0", 31).await;
    assert_eq!(segment_bases(&s.cluster, SPU_1, "evicted")[0], log_start);
    assert_eq!(fetch_offsets(leader, "evicted").await, (log_start, 200));
    assert_eq!(
        stream_error_at(leader, "evicted", log_start - 1).await,
        ErrorCode::OffsetEvicted { offset: log_start - 1, next_available: log_start }
    );
    let on_the_old_leader = read_from(leader, "evicted", Isolation::ReadCommitted, log_start, 200).await;

    assert_eq!(segment_bases(&s.cluster, SPU_2, "evicted"), [0], "the follower's log, all below the log start");
    if forget_epochs {
        let history = replica_file(&s.cluster, SPU_2, "evicted", "leader-epochs");
        let header = std::fs::read_to_string(&history).unwrap().lines().next().unwrap().to_string();
        std::fs::write(&history, format!("{header}\n")).unwrap();
    }

    // It returns: it restarts its log at the leader's log start and catches up, in bounded time.
    let returned = Instant::now();
    s.cluster.start_spu(SPU_2).await.unwrap();
    wait_replicated(&mut s.sc, "evicted-0", 2, 200).await;
    assert!(returned.elapsed() < Duration::from_secs(10), "caught up in {:?}", returned.elapsed());
    assert_eq!(segment_bases(&s.cluster, SPU_2, "evicted")[0], log_start, "the follower's log start");
    let partition = list_partitions(&mut s.sc).await.into_iter().find(|p| p.name == "evicted-0").unwrap();
    assert_eq!(partition.status.base_offset, log_start, "the leader's log start did not move");
    // Its epoch history describes its records only; its high-watermark checkpoint is in its log.
    let epochs = epoch_history(&s.cluster, SPU_2, "evicted");
    assert!(!epochs.is_empty() && epochs.iter().all(|(_, start)| *start >= log_start), "{epochs:?}");
    let checkpoint = std::fs::read_to_string(replica_file(&s.cluster, SPU_2, "evicted", "high-watermark"));
    let checkpoint: i64 = checkpoint.unwrap().trim().parse().unwrap();
    assert!((log_start..=200).contains(&checkpoint), "high-watermark checkpoint {checkpoint}");

    // The old leader goes; the follower leads with every record the old leader still had.
    s.cluster.kill_spu(SPU_1).await.unwrap();
    let partition = wait_partition(&mut s.sc, "evicted-0", "SPU 2 leads", |p| {
        p.spec.leader == SPU_2 && p.status.resolution == PartitionResolution::Online
    })
    .await;
    assert_eq!((partition.status.leader.leo, partition.status.base_offset), (200, log_start));
    let new_leader = addr(&s.cluster, SPU_2);
    assert_eq!(fetch_offsets(new_leader, "evicted").await, (log_start, 200));
    for below in [0, 29, 30, log_start - 1] {
        assert_eq!(
            stream_error_at(new_leader, "evicted", below).await,
            ErrorCode::OffsetEvicted { offset: below, next_available: log_start },
            "reading at {below}, below the log start, as on the old leader"
        );
    }
    let records = read_from(new_leader, "evicted", Isolation::ReadCommitted, log_start, 200).await;
    assert_eq!(records, on_the_old_leader);
    let offsets: Vec<i64> = records.iter().map(|r| r.0).collect();
    assert_eq!(offsets, (log_start..200).collect::<Vec<_>>(), "in order, no gap, no duplicate");
    assert_eq!(values(&records), expected(log_start as usize, 200));

    // And it goes on taking records after them, and keeps all of it across a restart.
    let more = produce(new_leader, "evicted", &values_batch(200, 210), Isolation::ReadCommitted).await;
    assert_eq!((more.error_code.clone(), more.base_offset), (ErrorCode::None, 200));
    // (Its own retention may delete a segment now: the partition is over 2 KiB again.)
    let start = settled_log_start(&mut s.sc, "evicted-0", log_start).await;
    s.cluster.stop_spu(SPU_2).await.unwrap();
    let restarted = s.cluster.start_spu(SPU_2).await.unwrap();
    assert_eq!(fetch_offsets(restarted, "evicted").await, (start, 210));
    let records = read_from(restarted, "evicted", Isolation::ReadCommitted, start, 210).await;
    assert_eq!(values(&records), expected(start as usize, 210));
    s.cluster.shutdown().await;
}

/// Retention on a leader deletes only committed records: records above the high watermark
/// may be missing on an in-sync follower, which must still be able to fetch them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_keeps_what_an_in_sync_follower_lacks() {
    let mut s =
        setup(|c| c.spus(2).retention_interval(Duration::from_millis(100)).replica_lag_time(Duration::from_secs(60)))
            .await;
    let spec = TopicSpec {
        replicas: ReplicaSpec::Assigned(vec![PartitionMap { id: 0, replicas: vec![SPU_1, SPU_2], mirror: None }]),
        storage: Some(TopicStorageConfig { segment_size: Some(1024), max_partition_size: Some(2048) }),
        ..Default::default()
    };
    let status = create_topic(&mut s.sc, "uncommitted", spec).await;
    assert!(status.error_code.is_ok(), "{status:?}");
    let leader = addr(&s.cluster, SPU_1);
    for from in (0..30).step_by(10) {
        let result = produce(leader, "uncommitted", &values_batch(from, from + 10), Isolation::ReadCommitted).await;
        assert!(result.error_code.is_ok(), "{:?}", result.error_code);
    }
    wait_replicated(&mut s.sc, "uncommitted-0", 2, 30).await;

    // The follower stalls but stays in sync (long lag time): the high watermark stays at 30
    // while the leader alone takes 170 more records, far over the partition's size limit.
    s.cluster.pause_spu_replication(SPU_2, true).unwrap();
    tokio::time::sleep(Duration::from_millis(700)).await; // let its last long-poll end
    for from in (30..200).step_by(10) {
        let result = produce(leader, "uncommitted", &values_batch(from, from + 10), Isolation::ReadUncommitted).await;
        assert!(result.error_code.is_ok(), "{:?}", result.error_code);
    }
    tokio::time::sleep(Duration::from_millis(1500)).await; // 15 retention rounds
    let partition = list_partitions(&mut s.sc).await.into_iter().find(|p| p.name == "uncommitted-0").unwrap();
    assert_eq!((partition.status.leader.leo, partition.status.leader.hw), (200, 30));
    assert!(partition.status.base_offset <= 30, "retention deleted uncommitted records: {partition:?}");
    assert!(segment_bases(&s.cluster, SPU_1, "uncommitted")[0] <= 30);

    // The follower resumes and copies every record it lacked (it did not have to restart its
    // log: the leader still had offset 30); once they are committed, retention goes on.
    s.cluster.pause_spu_replication(SPU_2, false).unwrap();
    wait_replicated(&mut s.sc, "uncommitted-0", 2, 200).await;
    let start = settled_log_start(&mut s.sc, "uncommitted-0", 31).await;
    assert_eq!(segment_bases(&s.cluster, SPU_1, "uncommitted")[0], start);
    s.cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_settings_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    for config in [
        ClusterConfig::new(dir.path()).min_live_replicas(0),
        ClusterConfig::new(dir.path()).spu_timeout(Duration::from_millis(10)),
        ClusterConfig::new(dir.path()).replica_lag_time(Duration::ZERO),
        ClusterConfig::new(dir.path()).retention_interval(Duration::ZERO),
    ] {
        assert!(matches!(LocalCluster::start(config).await, Err(ClusterError::InvalidConfig(_))));
    }
}
