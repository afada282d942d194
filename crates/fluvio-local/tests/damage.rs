//! Damaged log files: a replica whose recovery cut committed records is never elected and
//! copies them again (nothing is lost while another replica holds them); a damaged batch is
//! served to no consumer and no follower, which get a typed error naming it; a loss nobody
//! can repair is reported in the topic's status. The elections are checked under both
//! replication policies.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::replicated::*;
use common::*;
use fluvio_local::{ClusterConfig, LocalCluster, ReplicationPolicy};
use fluvio_wire::record::{BATCH_FILE_HEADER_LEN, RawBatch, RecordSet};
use fluvio_wire::sc::partition::PartitionResolution;
use fluvio_wire::sc::topic::{PartitionMap, ReplicaSpec, TopicStorageConfig};
use fluvio_wire::sc::{ListFilters, ListRequest, ListResponse, TopicSpec};
use fluvio_wire::spu::{Isolation, OffsetUpdate, StreamFetchRequest, StreamFetchResponse, UpdateOffsetsRequest};
use fluvio_wire::{Decoder, ErrorCode, Request};

/// Records per batch, and batches per produce request.
const PER_BATCH: usize = 10;
const PER_REQUEST: usize = 20;

/// A topic with one partition on `replicas` (the first leads), in segments of 4 KiB.
async fn small_segment_topic(sc: &mut RawClient, name: &str, replicas: &[i32]) {
    let spec = TopicSpec {
        replicas: ReplicaSpec::Assigned(vec![PartitionMap { id: 0, replicas: replicas.to_vec(), mirror: None }]),
        storage: Some(TopicStorageConfig { segment_size: Some(4096), max_partition_size: None }),
        ..Default::default()
    };
    let status = create_topic(sc, name, spec).await;
    assert!(status.error_code.is_ok(), "{status:?}");
}

/// Produces records `record-{from..to}` in batches of [`PER_BATCH`].
async fn produce_range(spu: std::net::SocketAddr, topic: &str, from: usize, to: usize, isolation: Isolation) {
    let batches: Vec<RawBatch> =
        (from..to).step_by(PER_BATCH).map(|at| values_batch(at, (at + PER_BATCH).min(to))).collect();
    let mut client = RawClient::connect(spu).await;
    for chunk in batches.chunks(PER_REQUEST) {
        let response = client.call(&produce_request(topic, 0, chunk, isolation)).await;
        for answer in &response.responses[0].partitions {
            assert!(answer.error_code.is_ok(), "{:?}", answer.error_code);
        }
    }
}

/// Starts a cluster, stores `records` records in `topic` (in 4 KiB segments on `replicas`),
/// waits until every replica holds them, and shuts the cluster down.
async fn stored_then_stopped(config: ClusterConfig, topic: &str, replicas: &[i32], records: usize) {
    let cluster = LocalCluster::start(config).await.unwrap();
    let mut sc = RawClient::connect(cluster.sc_addr()).await;
    small_segment_topic(&mut sc, topic, replicas).await;
    produce_range(addr(&cluster, replicas[0]), topic, 0, records, Isolation::ReadCommitted).await;
    wait_replicated(&mut sc, &format!("{topic}-0"), replicas.len(), records as i64).await;
    cluster.shutdown().await;
}

/// `topic`-0's segment files on SPU `spu`, oldest first.
fn segments(cluster_dir: &Path, spu: i32, topic: &str) -> Vec<PathBuf> {
    segment_files(&cluster_dir.join(format!("spu-{spu}")).join(format!("{topic}-0")))
}

/// (base offset, byte position) of each batch of a segment file.
fn batches_of(segment: &Path) -> Vec<(i64, usize)> {
    let bytes = std::fs::read(segment).unwrap();
    let parsed = RecordSet::from_encoded(bytes.into()).parse();
    let mut at = 0;
    parsed
        .batches
        .iter()
        .map(|batch| {
            let position = at;
            at += batch.header.total_len();
            (batch.header.base_offset, position)
        })
        .collect()
}

/// Flips bits of the byte `delta` bytes into the batch at `position` of `segment`.
fn flip(segment: &Path, position: usize, delta: usize) {
    let mut bytes = std::fs::read(segment).unwrap();
    bytes[position + delta] ^= 0x5a;
    std::fs::write(segment, bytes).unwrap();
}

async fn topic_reason(sc: &mut RawClient, topic: &str) -> String {
    match sc.call(&ListRequest { label: "Topic".into(), filters: ListFilters::default() }).await {
        ListResponse::Topic(topics) => topics.into_iter().find(|t| t.name == topic).expect("topic").status.reason,
        other => panic!("unexpected list response {other:?}"),
    }
}

/// Streams `topic`-0 from `from` and returns the records read and the error that ended the
/// stream, if any, once it is quiet.
async fn stream_until_quiet(spu: std::net::SocketAddr, topic: &str, from: i64) -> (Vec<String>, Option<ErrorCode>) {
    let mut client = RawClient::connect(spu).await;
    let id = client.send(&stream_request(topic, from, Isolation::ReadUncommitted)).await;
    let mut values = Vec::new();
    loop {
        let Ok(frame) = tokio::time::timeout(Duration::from_millis(700), client.read_frame()).await else {
            return (values, None);
        };
        let (got, body) = frame.expect("a push");
        if got != id {
            continue;
        }
        let push = StreamFetchResponse::decode_exact(body, StreamFetchRequest::DEFAULT_VERSION).unwrap();
        if push.partition.error_code.is_error() {
            return (values, Some(push.partition.error_code));
        }
        let mut next = 0;
        for batch in push.partition.records.parse().batches {
            for record in batch.records(1 << 24).unwrap() {
                values.push(String::from_utf8(record.value.to_vec()).unwrap());
            }
            next = batch.header.next_offset();
        }
        client
            .send(&UpdateOffsetsRequest { offsets: vec![OffsetUpdate { offset: next, session_id: push.stream_id }] })
            .await;
    }
}

/// The reported case: the whole cluster restarts and the replica that led has damage in the
/// middle of its log (a broken batch header in a sealed segment), so its recovery cuts about
/// half of its committed records. It must not be elected (the intact replicas would cut their
/// logs to match): another replica leads, it copies the records again, nothing is lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_whose_recovery_cut_committed_records_is_not_elected_and_copies_them_again() {
    recovery_cut_committed_records(ReplicationPolicy::Fluvio).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_sync_a_replica_whose_recovery_cut_committed_records_is_not_elected_and_copies_them_again() {
    recovery_cut_committed_records(ReplicationPolicy::InSync).await;
}

async fn recovery_cut_committed_records(policy: ReplicationPolicy) {
    const RECORDS: usize = 2_000;
    let dir = tempfile::tempdir().unwrap();
    let config = || ClusterConfig::new(dir.path()).spus(3).replication_policy(policy);
    stored_then_stopped(config(), "damaged", &[SPU_1, SPU_2, SPU_3], RECORDS).await;
    // A broken header in the middle of the leader's log: everything after it is cut.
    let logs = segments(dir.path(), SPU_1, "damaged");
    assert!(logs.len() > 10, "{} segments", logs.len());
    let middle = &logs[logs.len() / 2];
    let (cut_at, position) = batches_of(middle)[1];
    flip(middle, position, 16); // the magic byte

    let cluster = LocalCluster::start(config()).await.unwrap();
    let mut sc = RawClient::connect(cluster.sc_addr()).await;
    let partition = wait_replicated(&mut sc, "damaged-0", 3, RECORDS as i64).await;
    assert_ne!(partition.spec.leader, SPU_1, "the damaged replica was elected");
    let leader = addr(&cluster, partition.spec.leader);
    let records = read(leader, "damaged", Isolation::ReadCommitted, RECORDS as i64).await;
    assert_eq!(values(&records), expected(0, RECORDS), "every committed record, once, in order");
    // Reported while the replica lacked them (logged, and in the topic's status), no more now.
    assert_eq!(topic_reason(&mut sc, "damaged").await, "");
    // The damaged replica copied the records again: it can lead them.
    assert!(cut_at < RECORDS as i64);
    for id in [SPU_2, SPU_3] {
        // Killed, not stopped: a leader stopping gracefully may first drop its followers from
        // the in-sync replicas as their connections close.
        cluster.kill_spu(id).await.unwrap();
    }
    let partition = wait_partition(&mut sc, "damaged-0", "the repaired replica leads", |p| {
        p.spec.leader == SPU_1 && p.status.resolution == PartitionResolution::Online
    })
    .await;
    assert_eq!(partition.status.leader.leo, RECORDS as i64);
    let records = read(addr(&cluster, SPU_1), "damaged", Isolation::ReadUncommitted, RECORDS as i64).await;
    assert_eq!(values(&records), expected(0, RECORDS));
    cluster.shutdown().await;
}

/// After a whole-cluster restart the replica that led comes back with a shorter log and no
/// detectable damage (its last batches are simply gone, as a file system may leave it after a
/// power loss). The election compares the logs of all in-sync replicas: one that holds every
/// committed record leads, and the shorter replica copies the rest.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarting_leader_whose_log_came_back_shorter_is_not_elected_over_a_longer_one() {
    shorter_log_after_restart(ReplicationPolicy::Fluvio).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_sync_a_restarting_leader_whose_log_came_back_shorter_is_not_elected_over_a_longer_one() {
    shorter_log_after_restart(ReplicationPolicy::InSync).await;
}

async fn shorter_log_after_restart(policy: ReplicationPolicy) {
    const RECORDS: usize = 500;
    let dir = tempfile::tempdir().unwrap();
    let config = || ClusterConfig::new(dir.path()).spus(3).replication_policy(policy);
    stored_then_stopped(config(), "shorter", &[SPU_1, SPU_2, SPU_3], RECORDS).await;
    let active = segments(dir.path(), SPU_1, "shorter").pop().unwrap();
    let batches = batches_of(&active);
    let (kept_end, position) = batches[batches.len() - 3];
    std::fs::OpenOptions::new().write(true).open(&active).unwrap().set_len(position as u64).unwrap();

    let cluster = LocalCluster::start(config()).await.unwrap();
    let mut sc = RawClient::connect(cluster.sc_addr()).await;
    let partition = wait_replicated(&mut sc, "shorter-0", 3, RECORDS as i64).await;
    assert_ne!(partition.spec.leader, SPU_1, "the shorter log (ending at {kept_end}) was elected");
    let records =
        read(addr(&cluster, partition.spec.leader), "shorter", Isolation::ReadCommitted, RECORDS as i64).await;
    assert_eq!(values(&records), expected(0, RECORDS));
    cluster.shutdown().await;
}

/// A flipped byte inside a record of a sealed segment (found by no recovery: sealed segments
/// are trusted at open) is served to nobody: a consumer reads up to the damaged batch, then
/// gets the typed error; a follower copies up to it and no further.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_batch_is_served_to_no_consumer_and_no_follower() {
    const RECORDS: usize = 1_000;
    let mut s = setup(|c| c.spus(2)).await;
    small_segment_topic(&mut s.sc, "flipped", &[SPU_1, SPU_2]).await;
    s.cluster.stop_spu(SPU_2).await.unwrap();
    let leader = addr(&s.cluster, SPU_1);
    produce_range(leader, "flipped", 0, RECORDS, Isolation::ReadUncommitted).await;
    let logs = segments(s.cluster.base_dir(), SPU_1, "flipped");
    let sealed = &logs[logs.len() / 2];
    let (damaged, position) = batches_of(sealed)[2];
    flip(sealed, position, BATCH_FILE_HEADER_LEN + 20); // inside the records

    let (read, error) = stream_until_quiet(leader, "flipped", 0).await;
    assert_eq!(read, expected(0, damaged as usize), "everything before the damaged batch");
    let error = error.expect("the stream ends with an error");
    assert!(error.is_corrupt_batch(), "{error:?}");
    assert!(error.describe().contains(&format!("offset {damaged} of partition flipped-0")), "{error}");
    let (read, error) = stream_until_quiet(leader, "flipped", damaged + 1).await;
    assert!(read.is_empty() && error.is_some_and(|e| e.is_corrupt_batch()), "no record of the damaged batch");
    let (read, error) = stream_until_quiet(leader, "flipped", damaged + PER_BATCH as i64).await;
    assert_eq!((read, error), (expected(damaged as usize + PER_BATCH, RECORDS), None), "what follows it");

    // The follower comes back and catches up to the damaged batch, never past it.
    s.cluster.start_spu(SPU_2).await.unwrap();
    let follower_leo = |p: &fluvio_wire::sc::Metadata<fluvio_wire::sc::PartitionSpec>| {
        p.status.replicas.iter().find(|r| r.spu == SPU_2).map_or(-1, |r| r.leo)
    };
    wait_partition(&mut s.sc, "flipped-0", "the follower reaches the damage", |p| follower_leo(p) == damaged).await;
    let deadline = Instant::now() + Duration::from_secs(1);
    while Instant::now() < deadline {
        let partition = wait_partition(&mut s.sc, "flipped-0", "listed", |_| true).await;
        assert_eq!(follower_leo(&partition), damaged, "the follower never gets the damaged batch");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let copied: Vec<i64> = segments(s.cluster.base_dir(), SPU_2, "flipped")
        .iter()
        .flat_map(|segment| batches_of(segment).into_iter().map(|(base, _)| base))
        .collect();
    assert!(copied.iter().all(|base| *base < damaged), "nothing of the damaged batch is stored");
    s.cluster.shutdown().await;
}

/// Bit rot on the leader of a replicated partition, after its followers copied the batch: the
/// leader refuses the damaged batch (typed), hands the partition over to an in-sync replica
/// with an intact copy, drops its damaged copy and copies it again. Nothing is lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leader_whose_copy_is_damaged_hands_over_and_repairs_itself() {
    damaged_leader_copy(ReplicationPolicy::Fluvio).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_sync_a_leader_whose_copy_is_damaged_hands_over_and_repairs_itself() {
    damaged_leader_copy(ReplicationPolicy::InSync).await;
}

async fn damaged_leader_copy(policy: ReplicationPolicy) {
    const RECORDS: usize = 1_000;
    let mut s = setup(|c| c.replication_policy(policy)).await;
    small_segment_topic(&mut s.sc, "rot", &[SPU_1, SPU_2, SPU_3]).await;
    produce_range(addr(&s.cluster, SPU_1), "rot", 0, RECORDS, Isolation::ReadCommitted).await;
    wait_replicated(&mut s.sc, "rot-0", 3, RECORDS as i64).await;
    let logs = segments(s.cluster.base_dir(), SPU_1, "rot");
    let sealed = &logs[logs.len() / 3];
    let (damaged, position) = batches_of(sealed)[1];
    flip(sealed, position, BATCH_FILE_HEADER_LEN + 30);

    let (read, error) = stream_until_quiet(addr(&s.cluster, SPU_1), "rot", 0).await;
    assert_eq!(read, expected(0, damaged as usize));
    assert!(error.is_some_and(|e| e.is_corrupt_batch()));
    let partition = wait_partition(&mut s.sc, "rot-0", "another replica leads", |p| {
        p.spec.leader != SPU_1 && p.status.resolution == PartitionResolution::Online
    })
    .await;
    let records = read_from(&s, partition.spec.leader, "rot", RECORDS).await;
    assert_eq!(records, expected(0, RECORDS), "every record, from an intact copy");
    // The damaged replica copies the batch again and rejoins the in-sync replicas.
    wait_replicated(&mut s.sc, "rot-0", 3, RECORDS as i64).await;
    assert_eq!(topic_reason(&mut s.sc, "rot").await, "", "repaired: nothing left to report");
    for id in [SPU_2, SPU_3] {
        s.cluster.kill_spu(id).await.unwrap(); // (killed: see above)
    }
    wait_partition(&mut s.sc, "rot-0", "the repaired replica leads", |p| {
        p.spec.leader == SPU_1 && p.status.resolution == PartitionResolution::Online
    })
    .await;
    assert_eq!(read_from(&s, SPU_1, "rot", RECORDS).await, expected(0, RECORDS));
    s.cluster.shutdown().await;
}

/// The values of `topic`-0's first `records` records, read from SPU `spu`.
async fn read_from(s: &Setup, spu: i32, topic: &str, records: usize) -> Vec<String> {
    values(&read(addr(&s.cluster, spu), topic, Isolation::ReadUncommitted, records as i64).await)
}

/// Damage in the active segment of a partition with one replica: recovery cuts it there (the
/// records after it cannot be served in order); the loss is reported in the topic's status.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_loss_no_replica_can_repair_is_reported_in_the_topic_status() {
    const RECORDS: usize = 100;
    let dir = tempfile::tempdir().unwrap();
    let config = || ClusterConfig::new(dir.path()).spus(1);
    stored_then_stopped(config(), "alone", &[SPU_1], RECORDS).await;
    let logs = segments(dir.path(), SPU_1, "alone");
    let active = logs.last().unwrap();
    let (cut_at, position) = batches_of(active)[3];
    flip(active, position, BATCH_FILE_HEADER_LEN + 5);

    let cluster = LocalCluster::start(config()).await.unwrap();
    let mut sc = RawClient::connect(cluster.sc_addr()).await;
    assert!(!topic_reason(&mut sc, "alone").await.is_empty(), "the loss is reported");
    let spu = cluster.spu_addrs()[0].1;
    assert_eq!(fetch_offsets(spu, "alone").await, (0, cut_at));
    let (read, error) = stream_until_quiet(spu, "alone", 0).await;
    assert_eq!((read, error), (expected(0, cut_at as usize), None));
    cluster.shutdown().await;
}
