//! The embedded cluster stays healthy under client load in the same process, through an SPU
//! kill and restart: no SPU that was not killed ever goes down, every SPU runs at the end,
//! every partition ends `Online` with a leader, and sends succeed. The client's runtime (two
//! threads, as the Java binding's) is starved on purpose: one completion callback in seven
//! blocks its I/O thread, as a JNI upcall stalled by the JVM does.
//!
//! One run per replication policy in CI (under `Fluvio`, the killed leader's followers may be
//! too far behind to be elected: the partition then waits for the restart); the soak variant
//! repeats them: `FLUVIO_LOAD_KILL_RUNS=10 cargo test -p fluvio-engine --test cluster_under_load`.

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::*;
use fluvio_engine::admin::{PartitionResolution, SpuStatusResolution};
use fluvio_engine::{Fluvio, ProducerConfig, TopicConfig};
use fluvio_local::{ClusterConfig, LocalCluster, ReplicationPolicy};

/// Polls the SC from a thread and runtime of its own (so the starved client runtime cannot
/// hide anything) and returns the ids of every SPU it ever saw offline.
fn watch_offline_spus(endpoint: String, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<BTreeSet<i32>> {
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async move {
            let config = fluvio_engine::ClientConfig::new(endpoint);
            let fluvio = Fluvio::connect_with_config(config).await.expect("observer connects");
            let mut offline = BTreeSet::new();
            while !stop.load(Ordering::Relaxed) {
                if let Ok(spus) = fluvio.admin().list_spus().await {
                    for spu in spus.iter().filter(|s| s.status.resolution == SpuStatusResolution::Offline) {
                        offline.insert(spu.spec.id);
                    }
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            fluvio.close().await;
            offline
        })
    })
}

fn one_run(run: usize, policy: ReplicationPolicy) {
    let client_runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    // Admin work and the SPU control run from here, so that the starved client runtime only
    // carries the load.
    let control = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = ClusterConfig::new(dir.path()).spus(3).replication_policy(policy);
    let cluster = control.block_on(LocalCluster::start(config)).unwrap();
    let admin = control.block_on(connect(&cluster));
    control.block_on(admin.admin().create_topic("load", &TopicConfig::new(2, 3))).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let observer = watch_offline_spus(cluster.sc_endpoint(), stop.clone());

    let fluvio = client_runtime.block_on(connect(&cluster));
    let producer =
        client_runtime.block_on(fluvio.topic_producer_with_config("load", ProducerConfig::default())).unwrap();
    let loading = Arc::new(AtomicBool::new(true));
    let acknowledged = Arc::new(AtomicU64::new(0));
    let load = client_runtime.spawn({
        let (loading, acknowledged) = (loading.clone(), acknowledged.clone());
        async move {
            let mut sent = 0u64;
            while loading.load(Ordering::Relaxed) {
                let Ok(output) = producer.send(None, format!("record-{sent}").as_bytes()).await else { continue };
                sent += 1;
                if sent.is_multiple_of(500) {
                    // Keeps the backlog (and the final flush) short.
                    let _ = output.wait().await;
                } else if sent.is_multiple_of(7) {
                    let acknowledged = acknowledged.clone();
                    output.on_complete(move |result| {
                        // A stalled upcall: blocks the client's I/O thread.
                        std::thread::sleep(Duration::from_millis(2));
                        if result.is_ok() {
                            acknowledged.fetch_add(1, Ordering::Relaxed);
                        }
                    });
                }
            }
            let _ = producer.flush().await;
        }
    });

    std::thread::sleep(Duration::from_secs(1));
    let killed = control.block_on(admin.admin().list_partitions(Some("load"))).unwrap()[0].spec.leader;
    control.block_on(cluster.kill_spu(killed)).unwrap();
    std::thread::sleep(Duration::from_secs(1));
    control.block_on(cluster.start_spu(killed)).unwrap();
    let before_restart_load = acknowledged.load(Ordering::Relaxed);
    std::thread::sleep(Duration::from_secs(2));
    loading.store(false, Ordering::Relaxed);
    client_runtime.block_on(load).unwrap();
    let total = acknowledged.load(Ordering::Relaxed);
    assert!(total > before_restart_load, "run {run}: the load went on after the restart");
    eprintln!(
        "{policy} load-plus-kill run {run}: healthy (SPU {killed} killed and restarted, {total} callbacks acknowledged)"
    );

    // Healthy: every SPU runs, every partition is online with a leader, a send succeeds.
    for id in cluster.spu_ids() {
        assert!(cluster.is_spu_running(id), "run {run}: SPU {id} is running");
    }
    control.block_on(async {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let partitions = admin.admin().list_partitions(Some("load")).await.unwrap();
            if partitions.iter().all(|p| p.status.resolution == PartitionResolution::Online && p.spec.leader >= 0) {
                break;
            }
            assert!(Instant::now() < deadline, "run {run}: partitions not online: {partitions:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    client_runtime.block_on(async {
        let producer = fluvio.topic_producer("load").await.unwrap();
        let output = producer.send(None, b"after").await.unwrap();
        tokio::time::timeout(PATIENCE, output.wait()).await.expect("an answer").expect("delivered");
        fluvio.close().await;
    });
    stop.store(true, Ordering::Relaxed);
    let offline = observer.join().unwrap();
    assert!(
        offline.iter().all(|id| *id == killed),
        "run {run}: SPUs that were never killed went down: {offline:?} (killed {killed})"
    );
    control.block_on(async {
        admin.close().await;
        cluster.shutdown().await;
    });
}

fn runs(policy: ReplicationPolicy) {
    let runs = std::env::var("FLUVIO_LOAD_KILL_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(1);
    for run in 0..runs {
        one_run(run, policy);
    }
}

#[test]
fn the_cluster_stays_healthy_under_load_through_a_kill_and_restart() {
    runs(ReplicationPolicy::Fluvio);
}

#[test]
fn in_sync_the_cluster_stays_healthy_under_load_through_a_kill_and_restart() {
    runs(ReplicationPolicy::InSync);
}
