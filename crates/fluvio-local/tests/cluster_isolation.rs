//! A cluster owns its data directory and its threads: a second cluster on the same directory
//! is refused (in this process or another, and never by a stale lock), and a caller whose
//! runtime is starved does not make the cluster fence its own healthy SPUs.

mod common;

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::{RawClient, create_topic};
use fluvio_local::{ClusterConfig, ClusterError, FIRST_SPU_ID, LocalCluster};
use fluvio_wire::sc::spu::SpuStatusResolution;
use fluvio_wire::sc::{Metadata, SpuSpec, TopicSpec, WatchParams, WatchRequest, WatchResponse, labels};
use fluvio_wire::{Decoder, Request};

fn config(dir: &std::path::Path) -> ClusterConfig {
    ClusterConfig::new(dir)
}

#[tokio::test]
async fn a_second_cluster_on_a_directory_in_use_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let first = LocalCluster::start(config(dir.path())).await.unwrap();
    let mut sc = RawClient::connect(first.sc_addr()).await;
    assert!(create_topic(&mut sc, "kept", TopicSpec::computed(1, 1)).await.error_code.is_ok());

    match LocalCluster::start(config(dir.path())).await {
        Err(ClusterError::DirectoryInUse { path, holder }) => {
            assert_eq!(path, dir.path());
            assert_eq!(holder, Some(std::process::id()));
        }
        Err(other) => panic!("expected DirectoryInUse, got {other}"),
        Ok(_) => panic!("a second cluster started on a directory in use"),
    }
    // The refusal touched nothing: the first cluster still serves.
    assert!(create_topic(&mut sc, "still-serving", TopicSpec::computed(1, 1)).await.error_code.is_ok());

    first.shutdown().await;
    let second = LocalCluster::start(config(dir.path())).await.expect("free once the first stopped");
    second.shutdown().await;
}

#[tokio::test]
async fn a_dropped_cluster_releases_its_directory() {
    let dir = tempfile::tempdir().unwrap();
    let first = LocalCluster::start(config(dir.path())).await.unwrap();
    drop(first);
    // Dropping stops at once, in the background; the lock goes with the last of its tasks.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        match LocalCluster::start(config(dir.path())).await {
            Ok(cluster) => {
                cluster.shutdown().await;
                break;
            }
            Err(ClusterError::DirectoryInUse { .. }) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(err) => panic!("the directory was not released: {err}"),
        }
    }
}

#[tokio::test]
async fn another_process_holding_the_directory_refuses_the_start_and_leaves_no_stale_lock() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_fluvio-local"))
        .args(["start", "--base-dir"])
        .arg(dir.path())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first_line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stdout.take().unwrap()), &mut first_line).unwrap();
    assert!(first_line.starts_with("SC "), "{first_line:?}");

    match LocalCluster::start(config(dir.path())).await {
        Err(ClusterError::DirectoryInUse { holder, .. }) => assert_eq!(holder, Some(child.id())),
        Err(other) => panic!("expected DirectoryInUse, got {other}"),
        Ok(_) => panic!("started on a directory another process uses"),
    }
    // The command refuses the same way, with a clear message.
    let refused = Command::new(env!("CARGO_BIN_EXE_fluvio-local"))
        .args(["start", "--base-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("in use"), "{refused:?}");

    // kill -9: no shutdown path runs, yet the kernel releases the lock with the process.
    child.kill().unwrap();
    child.wait().unwrap();
    let cluster = LocalCluster::start(config(dir.path())).await.expect("no stale lock after kill -9");
    cluster.shutdown().await;
}

/// Watches the SC's SPU objects from a thread of its own and records whether any SPU was ever
/// reported Offline.
fn watch_for_offline_spus(sc: std::net::SocketAddr, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<bool> {
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async move {
            let mut client = RawClient::connect(sc).await;
            let request = WatchRequest { label: labels::SPU.into(), params: WatchParams::default() };
            let id = client.send(&request).await;
            let mut offline = false;
            while !stop.load(Ordering::Relaxed) {
                let Some(Some((correlation_id, body))) = client.try_read_frame(Duration::from_millis(50)).await else {
                    continue;
                };
                assert_eq!(correlation_id, id);
                let WatchResponse::Spu(update) =
                    WatchResponse::decode_exact(body, WatchRequest::DEFAULT_VERSION).unwrap()
                else {
                    panic!("an SPU watch answers with SPUs")
                };
                let objects = update.all.iter().chain(update.changes.iter().map(|c| &c.object));
                offline |= objects
                    .into_iter()
                    .any(|spu: &Metadata<SpuSpec>| spu.status.resolution == SpuStatusResolution::Offline);
            }
            offline
        })
    })
}

#[test]
fn a_starved_caller_runtime_does_not_make_the_cluster_fence_its_spus() {
    // The caller's runtime has two threads, as the Java binding's: both block for several SPU
    // timeouts, as blocking completion callbacks or CPU-bound work would.
    let caller = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let spu_timeout = Duration::from_millis(300);
    let cluster = caller
        .block_on(LocalCluster::start(config(dir.path()).spus(2).spu_timeout(spu_timeout)))
        .expect("cluster starts");
    let stop = Arc::new(AtomicBool::new(false));
    let watcher = watch_for_offline_spus(cluster.sc_addr(), stop.clone());
    std::thread::sleep(Duration::from_millis(200)); // the watcher's full sync

    caller.block_on(async {
        let blockers: Vec<_> =
            (0..2).map(|_| tokio::spawn(async move { std::thread::sleep(spu_timeout * 5) })).collect();
        for blocker in blockers {
            blocker.await.unwrap();
        }
    });
    std::thread::sleep(spu_timeout * 2);
    stop.store(true, Ordering::Relaxed);
    let saw_offline = watcher.join().unwrap();
    assert!(!saw_offline, "an SPU was declared dead while only the caller's runtime was busy");
    assert!(cluster.is_spu_running(FIRST_SPU_ID) && cluster.is_spu_running(FIRST_SPU_ID + 1));
    caller.block_on(cluster.shutdown());
}
