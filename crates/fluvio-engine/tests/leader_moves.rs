//! Partition leaders that move, staged by a scripted cluster (the embedded one cannot yet
//! move a leader on demand): producers retry to the new leader until their retry budget runs
//! out, without storing a record twice; streams resume on the new leader from the next offset,
//! never asking the SPU that refused them again before the metadata names another leader, and
//! give up only after `resume_timeout`.

mod scripted;

use std::time::{Duration, Instant};

use fluvio_engine::producer::{DeliverySemantic, RetryPolicy};
use fluvio_engine::{
    ClientConfig, ConsumerConfig, ConsumerRecord, ErrorKind, Fluvio, Offset, PartitionStream, ProducerConfig,
};
use fluvio_wire::ErrorCode;
use fluvio_wire::sc::partition::PartitionResolution;
use scripted::{FIRST_SPU, ProduceStep, ScriptedCluster};

const PATIENCE: Duration = Duration::from_secs(30);
const OTHER_SPU: i32 = FIRST_SPU + 1;

async fn connect(cluster: &ScriptedCluster) -> Fluvio {
    let config = ClientConfig::new(cluster.sc_endpoint())
        .with_connect_timeout(Duration::from_secs(2))
        .with_request_timeout(Duration::from_secs(5));
    Fluvio::connect_with_config(config).await.expect("client connects")
}

/// Sends at once and retries quickly, for `timeout` at most.
fn retrying_for(timeout: Duration) -> ProducerConfig {
    let policy = RetryPolicy {
        max_retries: 1000,
        initial_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(200),
        timeout,
    };
    ProducerConfig::builder().linger(Duration::ZERO).delivery(DeliverySemantic::AtLeastOnce(policy)).build().unwrap()
}

fn resuming_for(resume_timeout: Duration) -> ConsumerConfig {
    // One batch per push, so part of the log is still unread when the leader moves.
    ConsumerConfig { max_bytes: 1, resume_timeout, ..ConsumerConfig::default() }
}

async fn next_records(stream: &mut PartitionStream, n: usize) -> Vec<ConsumerRecord> {
    let mut records = Vec::with_capacity(n);
    for _ in 0..n {
        match tokio::time::timeout(PATIENCE, stream.next()).await {
            Ok(Some(Ok(record))) => records.push(record),
            Ok(Some(Err(err))) => panic!("stream failed: {err:?}"),
            Ok(None) => panic!("stream ended"),
            Err(_) => panic!("no record within {PATIENCE:?}"),
        }
    }
    records
}

async fn next_error(stream: &mut PartitionStream) -> fluvio_engine::Error {
    match tokio::time::timeout(PATIENCE, stream.next()).await {
        Ok(Some(Err(err))) => err,
        other => panic!("expected an error, got {other:?}"),
    }
}

async fn assert_quiet(stream: &mut PartitionStream, wait: Duration) {
    if let Ok(item) = tokio::time::timeout(wait, stream.next()).await {
        panic!("expected nothing, got {item:?}");
    }
}

fn offsets(records: &[ConsumerRecord]) -> Vec<i64> {
    records.iter().map(|r| r.offset).collect()
}

fn values(records: &[ConsumerRecord]) -> Vec<String> {
    records.iter().map(|r| String::from_utf8(r.value.to_vec()).unwrap()).collect()
}

// ---- Producer ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_producer_refused_as_not_leader_delivers_to_the_new_leader() {
    for (code, watch_lags) in [(ErrorCode::NotLeaderForPartition, false), (ErrorCode::PartitionNotLeader, true)] {
        let cluster = ScriptedCluster::start("moving", 1, 2).await;
        let fluvio = connect(&cluster).await;
        let producer = fluvio.topic_producer_with_config("moving", retrying_for(PATIENCE)).await.unwrap();
        if watch_lags {
            // Only a List sent to the SC can tell the client where the partition went.
            cluster.freeze_watch();
        }
        cluster.script_produce(FIRST_SPU, [ProduceStep::RefuseThenMove { code: code.clone(), to: OTHER_SPU }]);

        let output = producer.send(None, b"hello").await.unwrap();
        let stored = tokio::time::timeout(PATIENCE, output.wait()).await.expect("resolved").unwrap();
        assert_eq!(stored.offset, 0, "{code:?}");
        assert_eq!(cluster.produce_count(FIRST_SPU), 1, "{code:?}: refused once, not asked again");
        assert_eq!(cluster.produce_count(OTHER_SPU), 1, "{code:?}");
        assert_eq!(cluster.stored(0).len(), 1, "{code:?}");
        let seen = cluster.produces();
        assert_eq!(
            seen[0].entries()[0].1.as_bytes(),
            seen[1].entries()[0].1.as_bytes(),
            "the same batch, byte for byte"
        );
        fluvio.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leader_dying_between_append_and_answer_costs_no_duplicate() {
    for idempotent in [true, false] {
        let cluster = ScriptedCluster::start("failover", 1, 2).await;
        let fluvio = connect(&cluster).await;
        let config = ProducerConfig::builder()
            .linger(Duration::ZERO)
            .idempotent(idempotent)
            .delivery(retrying_for(PATIENCE).delivery())
            .build()
            .unwrap();
        let producer = fluvio.topic_producer_with_config("failover", config).await.unwrap();
        // The leader appends (and replicates), then dies before answering.
        cluster.script_produce(FIRST_SPU, [ProduceStep::AppendThenFailOver { to: OTHER_SPU }]);
        let first = producer.send(None, b"first").await.unwrap();
        let first = tokio::time::timeout(PATIENCE, first.wait()).await.expect("resolved").unwrap();
        let second = producer.send(None, b"second").await.unwrap();
        let second = tokio::time::timeout(PATIENCE, second.wait()).await.expect("resolved").unwrap();
        assert_eq!(cluster.leader(0), OTHER_SPU);
        assert_eq!(cluster.produce_count(FIRST_SPU), 1);
        assert_eq!(cluster.produce_count(OTHER_SPU), 2, "the retry went to the new leader");
        let stored = cluster.stored(0);
        if idempotent {
            assert_eq!((first.offset, second.offset), (0, 1), "the retry is answered with the original offset");
            assert_eq!(stored.len(), 2, "stored once");
            assert_eq!(stored[1].header.first_sequence, 1);
        } else {
            // What idempotence prevents: the retry is stored a second time.
            assert_eq!((first.offset, second.offset), (1, 2));
            assert_eq!(stored.len(), 3);
        }
        fluvio.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_producer_waits_for_a_leaderless_partition_then_delivers_to_the_elected_leader() {
    let cluster = ScriptedCluster::start("election", 1, 2).await;
    let fluvio = connect(&cluster).await;
    let producer = fluvio.topic_producer_with_config("election", retrying_for(PATIENCE)).await.unwrap();
    cluster.set_leader(0, -1, PartitionResolution::LeaderOffline);

    let output = producer.send_to(Some(0), None, b"waiting").await.unwrap();
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(output.try_result().is_none(), "nothing to deliver to while there is no leader");
    // At most one attempt reached the old leader, before the client learnt it had gone.
    let to_old_leader = cluster.produce_count(FIRST_SPU);
    assert!(to_old_leader <= 1, "{to_old_leader} requests to the old leader");
    cluster.move_leader(0, OTHER_SPU);
    let stored = tokio::time::timeout(PATIENCE, output.wait()).await.expect("resolved").unwrap();
    assert_eq!(stored.offset, 0);
    assert_eq!(cluster.produce_count(FIRST_SPU), to_old_leader);
    assert_eq!(cluster.produce_count(OTHER_SPU), 1);
    fluvio.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_producer_refused_until_its_retry_timeout_fails_with_not_leader() {
    let cluster = ScriptedCluster::start("stuck", 1, 2).await;
    let fluvio = connect(&cluster).await;
    let timeout = Duration::from_millis(1500);
    let producer = fluvio.topic_producer_with_config("stuck", retrying_for(timeout)).await.unwrap();
    // The SC keeps naming an SPU that says it is not the leader.
    cluster.refuse(FIRST_SPU, Some(ErrorCode::NotLeaderForPartition));

    let started = Instant::now();
    let output = producer.send(None, b"nowhere").await.unwrap();
    let err = tokio::time::timeout(PATIENCE, output.wait()).await.expect("resolved").unwrap_err();
    let elapsed = started.elapsed();
    assert_eq!(err.kind(), ErrorKind::NotLeader, "{err:?}");
    assert!(err.is_retriable());
    assert!(elapsed >= Duration::from_millis(900), "gave up after {elapsed:?}, well before its timeout");
    assert!(elapsed < timeout + Duration::from_secs(3), "gave up after {elapsed:?}");
    assert!(cluster.produce_count(FIRST_SPU) >= 3, "retried: {} attempts", cluster.produce_count(FIRST_SPU));
    assert_eq!(producer.flush().await.unwrap_err().kind(), ErrorKind::NotLeader);
    assert!(cluster.stored(0).is_empty());
    fluvio.close().await;
}

// ---- Consumer ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_refused_as_not_leader_waits_for_the_metadata_to_name_another_leader() {
    for (code, watch_lags) in [(ErrorCode::NotLeaderForPartition, false), (ErrorCode::PartitionNotLeader, true)] {
        let cluster = ScriptedCluster::start("refused", 1, 2).await;
        let fluvio = connect(&cluster).await;
        cluster.append_records(0, 10);
        let consumer = fluvio.partition_consumer("refused", 0);
        let mut stream =
            consumer.stream_with_config(Offset::beginning(), resuming_for(Duration::from_secs(20))).await.unwrap();
        let mut received = next_records(&mut stream, 10).await;

        // The SPU refuses; the SC still names it.
        cluster.refuse(FIRST_SPU, Some(code.clone()));
        tokio::time::sleep(Duration::from_millis(800)).await;
        assert_eq!(cluster.stream_fetch_count(FIRST_SPU), 1, "{code:?}: the refusing SPU was asked again");
        assert!(stream.try_next().is_none());

        cluster.append_records(0, 5);
        if watch_lags {
            cluster.freeze_watch();
        }
        cluster.move_leader(0, OTHER_SPU);
        received.extend(next_records(&mut stream, 5).await);
        assert_eq!(offsets(&received), (0..15).collect::<Vec<_>>(), "{code:?}: no gap, no duplicate");
        assert_eq!(values(&received), (0..15).map(|n| format!("v{n}")).collect::<Vec<_>>());
        let resumed: Vec<i64> =
            cluster.stream_fetches().iter().filter(|(spu, _)| *spu == OTHER_SPU).map(|(_, r)| r.fetch_offset).collect();
        assert_eq!(resumed, [10], "{code:?}: resumed once, after the last record delivered");
        assert_eq!(cluster.stream_fetch_count(FIRST_SPU), 1);
        assert_quiet(&mut stream, Duration::from_millis(300)).await;
        fluvio.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusing_spu_that_the_metadata_still_names_is_asked_again_only_after_a_pause() {
    // What a restarted cluster looks like: the same metadata, and an SPU that refuses
    // streams until it has reopened its partitions.
    let cluster = ScriptedCluster::start("restarted", 1, 2).await;
    let fluvio = connect(&cluster).await;
    cluster.append_records(0, 3);
    let mut stream = fluvio
        .partition_consumer("restarted", 0)
        .stream_with_config(Offset::beginning(), resuming_for(Duration::from_secs(20)))
        .await
        .unwrap();
    let mut received = next_records(&mut stream, 3).await;
    let refused_at = Instant::now();
    cluster.refuse(FIRST_SPU, Some(ErrorCode::NotLeaderForPartition));
    tokio::time::sleep(Duration::from_millis(300)).await;
    cluster.refuse(FIRST_SPU, None);
    cluster.append_records(0, 2);
    received.extend(next_records(&mut stream, 2).await);
    let resumed_after = refused_at.elapsed();
    assert_eq!(offsets(&received), [0, 1, 2, 3, 4]);
    assert_eq!(cluster.stream_fetch_count(FIRST_SPU), 2, "asked again once");
    assert!(resumed_after >= Duration::from_millis(900), "asked again after {resumed_after:?}");
    fluvio.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusing_spu_is_asked_again_at_once_when_the_sc_reports_a_leadership_change() {
    let cluster = ScriptedCluster::start("reelected", 1, 2).await;
    let fluvio = connect(&cluster).await;
    cluster.append_records(0, 3);
    let mut stream = fluvio
        .partition_consumer("reelected", 0)
        .stream_with_config(Offset::beginning(), resuming_for(Duration::from_secs(20)))
        .await
        .unwrap();
    let mut received = next_records(&mut stream, 3).await;
    let refused_at = Instant::now();
    cluster.refuse(FIRST_SPU, Some(ErrorCode::NotLeaderForPartition));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(cluster.stream_fetch_count(FIRST_SPU), 1);
    // The SPU lost the partition and got it back (no other replica was elected).
    cluster.set_leader(0, -1, PartitionResolution::LeaderOffline);
    tokio::time::sleep(Duration::from_millis(100)).await;
    cluster.refuse(FIRST_SPU, None);
    cluster.append_records(0, 2);
    cluster.move_leader(0, FIRST_SPU);
    received.extend(next_records(&mut stream, 2).await);
    let resumed_after = refused_at.elapsed();
    assert_eq!(offsets(&received), [0, 1, 2, 3, 4]);
    assert_eq!(cluster.stream_fetch_count(FIRST_SPU), 2);
    // Back as the leader in the metadata it is asked at once, not after the pause (1 s) an
    // SPU that refused is otherwise left alone for.
    assert!(resumed_after < Duration::from_millis(900), "resumed {resumed_after:?} after the refusal");
    fluvio.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_whose_leader_connection_drops_resumes_on_the_new_leader_without_gap_or_duplicate() {
    let cluster = ScriptedCluster::start("dropped", 1, 2).await;
    let fluvio = connect(&cluster).await;
    cluster.append_records(0, 20);
    let mut stream = fluvio
        .partition_consumer("dropped", 0)
        .stream_with_config(Offset::beginning(), resuming_for(Duration::from_secs(20)))
        .await
        .unwrap();
    let mut received = next_records(&mut stream, 4).await;

    // The leader dies: its connections break and it cannot serve new streams; the SC
    // notices a little later.
    cluster.drop_streams(FIRST_SPU, true);
    cluster.drop_connections(FIRST_SPU);
    tokio::time::sleep(Duration::from_millis(300)).await;
    cluster.append_records(0, 5);
    cluster.move_leader(0, OTHER_SPU);

    received.extend(next_records(&mut stream, 21).await);
    assert_eq!(offsets(&received), (0..25).collect::<Vec<_>>(), "no gap, no duplicate");
    let resumed: Vec<i64> =
        cluster.stream_fetches().iter().filter(|(spu, _)| *spu == OTHER_SPU).map(|(_, r)| r.fetch_offset).collect();
    assert_eq!(resumed.len(), 1);
    assert!((4..=20).contains(&resumed[0]), "resumed at {}", resumed[0]);
    assert_quiet(&mut stream, Duration::from_millis(300)).await;
    fluvio.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_waits_for_a_leaderless_partition_until_its_resume_timeout() {
    // A leader is elected in time: the stream goes on.
    let cluster = ScriptedCluster::start("leaderless", 1, 2).await;
    let fluvio = connect(&cluster).await;
    cluster.append_records(0, 3);
    let mut stream = fluvio
        .partition_consumer("leaderless", 0)
        .stream_with_config(Offset::beginning(), resuming_for(Duration::from_secs(20)))
        .await
        .unwrap();
    let mut received = next_records(&mut stream, 3).await;
    cluster.set_leader(0, -1, PartitionResolution::LeaderOffline);
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(stream.try_next().is_none());
    cluster.append_records(0, 2);
    cluster.move_leader(0, OTHER_SPU);
    received.extend(next_records(&mut stream, 2).await);
    assert_eq!(offsets(&received), [0, 1, 2, 3, 4]);
    fluvio.close().await;

    // None is: the stream fails with NotLeader once resume_timeout has passed.
    let cluster = ScriptedCluster::start("leaderless", 1, 2).await;
    let fluvio = connect(&cluster).await;
    cluster.append_records(0, 1);
    let resume_timeout = Duration::from_secs(1);
    let mut stream = fluvio
        .partition_consumer("leaderless", 0)
        .stream_with_config(Offset::beginning(), resuming_for(resume_timeout))
        .await
        .unwrap();
    next_records(&mut stream, 1).await;
    let started = Instant::now();
    cluster.set_leader(0, -1, PartitionResolution::LeaderOffline);
    let err = next_error(&mut stream).await;
    let waited = started.elapsed();
    assert_eq!(err.kind(), ErrorKind::NotLeader, "{err:?}");
    assert!(waited >= resume_timeout, "gave up after {waited:?}");
    assert!(waited < resume_timeout + Duration::from_secs(3), "gave up after {waited:?}");
    assert!(stream.next().await.is_none(), "the error is terminal");
    assert_eq!(cluster.stream_fetch_count(FIRST_SPU), 1);
    fluvio.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_refused_until_its_resume_timeout_fails_with_not_leader() {
    let cluster = ScriptedCluster::start("refusing", 1, 2).await;
    let fluvio = connect(&cluster).await;
    cluster.append_records(0, 2);
    // Shorter than the time an SPU that refused is left alone.
    let resume_timeout = Duration::from_millis(900);
    let mut stream = fluvio
        .partition_consumer("refusing", 0)
        .stream_with_config(Offset::beginning(), resuming_for(resume_timeout))
        .await
        .unwrap();
    next_records(&mut stream, 2).await;
    let started = Instant::now();
    cluster.refuse(FIRST_SPU, Some(ErrorCode::NotLeaderForPartition));
    let err = next_error(&mut stream).await;
    let waited = started.elapsed();
    assert_eq!(err.kind(), ErrorKind::NotLeader, "{err:?}");
    assert!(waited >= resume_timeout, "gave up after {waited:?}");
    assert!(waited < resume_timeout + Duration::from_secs(3), "gave up after {waited:?}");
    assert_eq!(cluster.stream_fetch_count(FIRST_SPU), 1, "not asked again");
    assert_eq!(cluster.stream_fetch_count(OTHER_SPU), 0);
    fluvio.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leader_dropping_every_stream_cannot_keep_it_resuming_past_its_resume_timeout() {
    let cluster = ScriptedCluster::start("flapping", 1, 2).await;
    let fluvio = connect(&cluster).await;
    cluster.append_records(0, 2);
    let resume_timeout = Duration::from_millis(1500);
    let mut stream = fluvio
        .partition_consumer("flapping", 0)
        .stream_with_config(Offset::beginning(), resuming_for(resume_timeout))
        .await
        .unwrap();
    next_records(&mut stream, 2).await;
    // Connections are accepted, and closed as soon as a stream is asked for.
    cluster.drop_streams(FIRST_SPU, true);
    let started = Instant::now();
    cluster.drop_connections(FIRST_SPU);
    let err = next_error(&mut stream).await;
    let waited = started.elapsed();
    assert_eq!(err.kind(), ErrorKind::ConnectionClosed, "{err:?}");
    assert!(waited >= resume_timeout, "gave up after {waited:?}");
    assert!(waited < resume_timeout + Duration::from_secs(3), "gave up after {waited:?}");
    let attempts = cluster.stream_fetch_count(FIRST_SPU) - 1;
    assert!((2..=12).contains(&attempts), "{attempts} attempts to resume: spaced out, not a busy loop");
    fluvio.close().await;
}
