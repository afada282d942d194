//! Named consumers of the official `fluvio` client (crates.io 0.50) against our cluster: the
//! calls the official CLI makes for `fluvio consume --consumer NAME` (the Auto strategy with a
//! 2 s flush, then a commit and flush at the end), `fluvio consumer list`
//! (`Fluvio::consumer_offsets`) and `fluvio consumer delete` (`delete_consumer_offset`), each
//! offset strategy (None, Manual, Auto), resuming from the stored offset with each kind of
//! start offset, and multi-partition consumers. The official client's own log is captured:
//! it must report no error and no warning (against a cluster without the `consumer-offset`
//! topic it logs `Failed to create consumer offset socket: PartitionNotFound` again and again).
//!
//! The tests run one at a time, each shutting its cluster down before the next begins: the
//! capture is process-wide, and the official client's background tasks are not tied to a test.
//! (Faults, where the official client rightly complains, are in
//! `official_consumer_offsets_faults.rs`.)

mod common;

use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use common::official_offsets::*;
use fluvio::Offset;
use fluvio::consumer::{ConsumerOffset, ConsumerStream, OffsetManagementStrategy};
use fluvio::metadata::topic::TopicSpec;
use fluvio_local::LocalCluster;
use fluvio_protocol::link::ErrorCode;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

// ---------------------------------------------------------------------------------------------
// The official client's log

/// Warnings and errors logged by the official crates (not ours) since the test began.
static LOG: Mutex<Vec<String>> = Mutex::new(Vec::new());
/// Serializes the tests: the capture is process-wide.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Our crates, whose log is not the official client's.
const OUR_TARGETS: [&str; 5] = ["fluvio_local", "fluvio_wire", "fluvio_engine", "fluvio_log", "fluvio_profile"];

struct Capture;

struct Message<'a>(&'a mut String);

impl Visit for Message<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        use std::fmt::Write;
        let _ = write!(self.0, "{}={:?} ", field.name(), value);
    }
}

impl<S: Subscriber> Layer<S> for Capture {
    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let meta = event.metadata();
        let official = meta.target().starts_with("fluvio") && !OUR_TARGETS.iter().any(|t| meta.target().starts_with(t));
        if official && (*meta.level() == Level::ERROR || *meta.level() == Level::WARN) {
            let mut line = format!("{} {}: ", meta.level(), meta.target());
            event.record(&mut Message(&mut line));
            lock_log().push(line);
        }
    }
}

fn lock_log() -> MutexGuard<'static, Vec<String>> {
    LOG.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Takes the test's turn and starts an empty capture.
async fn begin() -> tokio::sync::MutexGuard<'static, ()> {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let subscriber = tracing_subscriber::registry().with(Capture);
        tracing::subscriber::set_global_default(subscriber).expect("the only subscriber");
    });
    let turn = SERIAL.lock().await;
    lock_log().clear();
    turn
}

/// Fails if the official client logged a warning or an error.
fn assert_quiet_official_log() {
    let log = lock_log().clone();
    assert!(log.is_empty(), "the official client complained:\n{}", log.join("\n"));
}

/// Ends a test: checks the official log, then stops the cluster cleanly while the test still
/// has its turn (the official client's connections then end without complaint).
async fn finish(cluster: LocalCluster) {
    assert_quiet_official_log();
    cluster.shutdown().await;
    tokio::time::sleep(Duration::from_millis(200)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_capture_sees_what_the_official_client_logs_without_the_system_topic() {
    let _turn = begin().await;
    let Setup { cluster, fluvio, dir: _dir } = setup(1, "t", 1, 1, 3).await;
    // The SC checks for its system topic 1 s after it starts, then 16 s later: remove it in
    // between, as if the cluster had none (what users saw before it existed).
    tokio::time::sleep(Duration::from_millis(1500)).await;
    fluvio.admin().await.force_delete::<TopicSpec>("consumer-offset").await.expect("deleted with force");
    let named = tokio::spawn(async move {
        let stream = manual(&fluvio, "t", Offset::beginning(), "orphan").await;
        drop(stream);
    });
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let log = lock_log().clone();
        // `Failed to create consumer offset socket: PartitionNotFound("consumer-offset", 0)`
        // once its cache lost the partition, `Error getting consumer offset: PartitionNotLeader`
        // while its cache still had it.
        if log.iter().any(|line| line.starts_with("ERROR fluvio::consumer")) {
            break;
        }
        assert!(Instant::now() < deadline, "the official client's error was not captured: {log:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    named.abort();
    cluster.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// Strategies, resuming, listing, deleting

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manual_commits_are_stored_and_resumed_from_with_every_start_offset() {
    let _turn = begin().await;
    let Setup { cluster, fluvio, dir: _dir } = setup(1, "manual", 1, 1, 20).await;

    let mut stream = manual(&fluvio, "manual", Offset::beginning(), "reader").await;
    assert_eq!(offsets(&take(&mut stream, 5).await), [0, 1, 2, 3, 4]);
    // Nothing is stored before a flush; a commit marks what was returned so far.
    assert!(stored(&fluvio, "reader").await.is_empty());
    stream.offset_commit().await.expect("commit");
    stream.offset_flush().await.expect("flush");
    assert_eq!(stored(&fluvio, "reader").await, [("manual".to_string(), 0, 4)]);
    take(&mut stream, 2).await; // read, never committed
    drop(stream);

    // A stored offset wins over beginning / end: the stream starts after it, plus or minus n.
    for (start, first) in [
        (Offset::beginning(), 5),
        (Offset::end(), 5),
        (Offset::from_beginning(3), 8),
        (Offset::from_end(2), 3),
        (Offset::absolute(12).unwrap(), 12),
    ] {
        let mut stream = manual(&fluvio, "manual", start.clone(), "reader").await;
        assert_eq!(take(&mut stream, 1).await, [(0, first)], "{start:?}");
    }
    // Another name has nothing stored: its configured start applies.
    let mut stream = manual(&fluvio, "manual", Offset::beginning(), "newcomer").await;
    assert_eq!(take(&mut stream, 1).await, [(0, 0)]);
    drop(fluvio);
    finish(cluster).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_none_strategy_resumes_but_cannot_commit() {
    let _turn = begin().await;
    let Setup { cluster, fluvio, dir: _dir } = setup(1, "none", 1, 1, 10).await;
    let mut stream = manual(&fluvio, "none", Offset::beginning(), "named").await;
    take(&mut stream, 3).await;
    stream.offset_commit().await.unwrap();
    stream.offset_flush().await.unwrap();
    drop(stream);

    let mut stream = named(&fluvio, "none", &[0], "named", OffsetManagementStrategy::None, Duration::ZERO).await;
    assert_eq!(offsets(&take(&mut stream, 2).await), [3, 4]);
    assert_eq!(stream.offset_commit().await, Err(ErrorCode::OffsetManagementDisabled));
    assert_eq!(stream.offset_flush().await, Err(ErrorCode::OffsetManagementDisabled));
    drop(stream);
    assert_eq!(stored(&fluvio, "named").await, [("none".to_string(), 0, 2)]);
    drop(fluvio);
    finish(cluster).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_auto_strategy_flushes_periodically_and_on_drop_as_the_cli_consumes() {
    let _turn = begin().await;
    let Setup { cluster, fluvio, dir: _dir } = setup(1, "auto", 1, 1, 30).await;

    // `fluvio consume auto --consumer cli -B`: Auto, flushed every 2 s.
    let mut stream = named(&fluvio, "auto", &[0], "cli", OffsetManagementStrategy::Auto, Duration::from_secs(2)).await;
    take(&mut stream, 10).await;
    await_stored(&fluvio, "cli", &[("auto", 0, 9)]).await;
    take(&mut stream, 5).await;
    // ... and at its end, a commit and a flush.
    stream.offset_commit().await.unwrap();
    stream.offset_flush().await.unwrap();
    assert_eq!(stored(&fluvio, "cli").await, [("auto".to_string(), 0, 14)]);
    drop(stream);

    // With a period too long to pass, what was read is flushed when the stream is dropped.
    let mut stream =
        named(&fluvio, "auto", &[0], "cli", OffsetManagementStrategy::Auto, Duration::from_secs(3600)).await;
    assert_eq!(offsets(&take(&mut stream, 3).await), [15, 16, 17]);
    drop(stream);
    await_stored(&fluvio, "cli", &[("auto", 0, 17)]).await;
    let mut stream = manual(&fluvio, "auto", Offset::beginning(), "cli").await;
    assert_eq!(offsets(&take(&mut stream, 1).await), [18]);
    drop(fluvio);
    finish(cluster).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_multi_partition_consumer_commits_each_partition() {
    let _turn = begin().await;
    let Setup { cluster, fluvio, dir: _dir } = setup(2, "multi", 3, 1, 10).await;
    let mut stream = named(&fluvio, "multi", &[], "group", OffsetManagementStrategy::Manual, Duration::ZERO).await;
    let read = take(&mut stream, 12).await;
    stream.offset_commit().await.unwrap();
    stream.offset_flush().await.unwrap();
    drop(stream);
    let mut last: std::collections::BTreeMap<u32, i64> = Default::default();
    for (partition, offset) in &read {
        last.insert(*partition, *offset);
    }
    let expected: Vec<(String, u32, i64)> = last.iter().map(|(p, o)| ("multi".to_string(), *p, *o)).collect();
    assert_eq!(stored(&fluvio, "group").await, expected);

    // Resumed: each partition from after its own offset, to the end, nothing twice.
    let mut stream = named(&fluvio, "multi", &[], "group", OffsetManagementStrategy::Manual, Duration::ZERO).await;
    let rest = take(&mut stream, 30 - read.len()).await;
    for partition in 0..3u32 {
        let resumed: Vec<i64> = rest.iter().filter(|(p, _)| *p == partition).map(|(_, o)| *o).collect();
        let from = last.get(&partition).map_or(0, |o| o + 1);
        assert_eq!(resumed, (from..10).collect::<Vec<_>>(), "partition {partition}");
    }
    drop(fluvio);
    finish(cluster).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consumers_are_listed_and_deleted_as_the_cli_does() {
    let _turn = begin().await;
    let Setup { cluster, fluvio, dir: _dir } = setup(3, "listed", 2, 2, 4).await;
    for (id, partition, count) in [("a", 0, 2), ("a", 1, 3), ("b", 1, 4)] {
        let mut stream =
            named(&fluvio, "listed", &[partition], id, OffsetManagementStrategy::Manual, Duration::ZERO).await;
        take(&mut stream, count).await;
        stream.offset_commit().await.unwrap();
        stream.offset_flush().await.unwrap();
    }
    // `fluvio consumer list`
    let started = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let mut all: Vec<ConsumerOffset> = fluvio.consumer_offsets().await.unwrap();
    all.sort();
    let rows: Vec<(&str, &str, u32, i64)> =
        all.iter().map(|c| (c.consumer_id.as_str(), c.topic.as_str(), c.partition, c.offset)).collect();
    assert_eq!(rows, [("a", "listed", 0, 1), ("a", "listed", 1, 2), ("b", "listed", 1, 3)]);
    assert!(all.iter().all(|c| c.modified_time.abs_diff(started) < 60), "seconds since the epoch: {all:?}");

    // `fluvio consumer delete a`: every partition of it, found through the list.
    for c in fluvio.consumer_offsets().await.unwrap().into_iter().filter(|c| c.consumer_id == "a") {
        fluvio.delete_consumer_offset(c.consumer_id, (c.topic, c.partition)).await.expect("deleted");
    }
    assert!(stored(&fluvio, "a").await.is_empty());
    // `fluvio consumer delete b --topic listed --partition 1`, twice: the second finds nothing
    // and succeeds, as against Fluvio.
    for _ in 0..2 {
        fluvio.delete_consumer_offset("b", ("listed".to_string(), 1)).await.expect("deleted");
    }
    assert!(fluvio.consumer_offsets().await.unwrap().is_empty());

    // Deleting the topic deletes its consumers: `consumer list` says "No consumers found".
    let mut stream = named(&fluvio, "listed", &[0], "c", OffsetManagementStrategy::Manual, Duration::ZERO).await;
    take(&mut stream, 1).await;
    stream.offset_commit().await.unwrap();
    stream.offset_flush().await.unwrap();
    drop(stream);
    fluvio.admin().await.delete::<TopicSpec>("listed").await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !fluvio.consumer_offsets().await.unwrap().is_empty() {
        assert!(Instant::now() < deadline, "the deleted topic's consumer is still listed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(fluvio);
    finish(cluster).await;
}
