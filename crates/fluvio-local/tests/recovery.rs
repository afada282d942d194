//! Data survives restarts: a clean stop, a torn log tail, and `kill -9` of the command.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::Command;

use common::command::start_command;
use common::*;
use fluvio_local::{ClusterConfig, LocalCluster};
use fluvio_wire::record::Record;
use fluvio_wire::sc::topic::TopicResolution;
use fluvio_wire::sc::{ListFilters, ListRequest, ListResponse, TopicSpec};
use fluvio_wire::spu::{Isolation, OffsetUpdate, StreamFetchRequest, StreamFetchResponse, UpdateOffsetsRequest};
use fluvio_wire::{Compression, Decoder};

/// Reads every record of partition 0 of `topic` from offset 0 up to `end` through a stream.
async fn read_all(spu_addr: std::net::SocketAddr, topic: &str, end: i64) -> Vec<(i64, Record)> {
    let mut spu = RawClient::connect(spu_addr).await;
    let id = spu
        .send(&StreamFetchRequest {
            topic: topic.into(),
            max_bytes: 64 * 1024,
            isolation: Isolation::ReadCommitted,
            ..Default::default()
        })
        .await;
    let mut records = Vec::new();
    let mut next = 0;
    while next < end {
        let (got, body) = spu.read_frame().await.expect("push");
        if got != id {
            continue; // an UpdateOffsets response
        }
        let push = StreamFetchResponse::decode_exact(body, 25).unwrap();
        assert!(push.partition.error_code.is_ok(), "{:?}", push.partition.error_code);
        let parsed = push.partition.records.parse();
        assert!(parsed.is_complete());
        for batch in parsed.batches {
            for record in batch.records(1 << 24).unwrap() {
                records.push((batch.header.base_offset + record.offset_delta, record));
            }
            next = batch.header.next_offset();
        }
        spu.send(&UpdateOffsetsRequest { offsets: vec![OffsetUpdate { offset: next, session_id: push.stream_id }] })
            .await;
    }
    records
}

fn values(records: &[(i64, Record)]) -> Vec<String> {
    records.iter().map(|(_, r)| String::from_utf8(r.value.to_vec()).unwrap()).collect()
}

async fn produce_numbered(spu_addr: std::net::SocketAddr, topic: &str, from: usize, to: usize) {
    let mut spu = RawClient::connect(spu_addr).await;
    for i in from..to {
        let value = format!("record-{i}");
        let response = spu
            .call(&produce_request(
                topic,
                0,
                &[batch(&[value.as_bytes()], Compression::None)],
                Isolation::ReadCommitted,
            ))
            .await;
        assert_eq!(only_result(&response).base_offset, i as i64);
    }
}

fn expected(from: usize, to: usize) -> Vec<String> {
    (from..to).map(|i| format!("record-{i}")).collect()
}

#[tokio::test]
async fn restart_brings_back_topics_and_records() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = LocalCluster::start(ClusterConfig::new(dir.path()).spus(2)).await.unwrap();
    let mut sc = RawClient::connect(cluster.sc_addr()).await;
    assert!(create_topic(&mut sc, "durable", TopicSpec::computed(1, 1)).await.error_code.is_ok());
    assert!(create_topic(&mut sc, "other", TopicSpec::computed(2, 1)).await.error_code.is_ok());
    let leader = leader_addr(&cluster, &mut sc, "durable-0").await;
    produce_numbered(leader, "durable", 0, 50).await;
    cluster.shutdown().await;

    let cluster = LocalCluster::start(ClusterConfig::new(dir.path()).spus(2)).await.unwrap();
    let mut sc = RawClient::connect(cluster.sc_addr()).await;
    let ListResponse::Topic(topics) =
        sc.call(&ListRequest { label: "Topic".into(), filters: ListFilters::default() }).await
    else {
        panic!()
    };
    assert_eq!(topics.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(), ["durable", "other"]);
    assert!(topics.iter().all(|t| t.status.resolution == TopicResolution::Provisioned));
    let leader = leader_addr(&cluster, &mut sc, "durable-0").await;
    assert_eq!(values(&read_all(leader, "durable", 50).await), expected(0, 50));
    produce_numbered(leader, "durable", 50, 60).await;
    assert_eq!(values(&read_all(leader, "durable", 60).await), expected(0, 60));
    cluster.shutdown().await;
}

async fn leader_addr(cluster: &LocalCluster, sc: &mut RawClient, partition: &str) -> std::net::SocketAddr {
    let ListResponse::Partition(partitions) =
        sc.call(&ListRequest { label: "Partition".into(), filters: ListFilters::default() }).await
    else {
        panic!()
    };
    let leader = partitions.iter().find(|p| p.name == partition).expect("partition").spec.leader;
    cluster.spu_addrs().into_iter().find(|(id, _)| *id == leader).expect("leader running").1
}

fn active_segment(partition_dir: &Path) -> std::path::PathBuf {
    segment_files(partition_dir).pop().expect("a segment")
}

#[tokio::test]
async fn torn_tail_is_truncated_and_never_served() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = LocalCluster::start(ClusterConfig::new(dir.path())).await.unwrap();
    let mut sc = RawClient::connect(cluster.sc_addr()).await;
    assert!(create_topic(&mut sc, "torn", TopicSpec::computed(1, 1)).await.error_code.is_ok());
    produce_numbered(first_spu(&cluster), "torn", 0, 10).await;
    cluster.shutdown().await;

    // Simulate a crash mid-write: half of a valid batch, then garbage, after the last good batch.
    let segment = active_segment(&dir.path().join("spu-5001").join("torn-0"));
    let mut half = bytes::BytesMut::new();
    batch(&[b"never acknowledged"], Compression::None).encode_to(&mut half).unwrap();
    let mut file = std::fs::OpenOptions::new().append(true).open(&segment).unwrap();
    file.write_all(&half[..half.len() / 2]).unwrap();
    drop(file);

    let cluster = LocalCluster::start(ClusterConfig::new(dir.path())).await.unwrap();
    let spu = first_spu(&cluster);
    produce_numbered(spu, "torn", 10, 12).await;
    let records = read_all(spu, "torn", 12).await;
    assert_eq!(values(&records), expected(0, 12));
    assert_eq!(records.iter().map(|(o, _)| *o).collect::<Vec<_>>(), (0..12).collect::<Vec<i64>>());
    cluster.shutdown().await;
}

#[tokio::test]
async fn kill_9_loses_no_acknowledged_record() {
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("profile.toml");
    let data = dir.path().join("data");
    let running = start_command(&data, &[], &profile);
    let mut sc = RawClient::connect(running.sc.as_str()).await;
    assert!(create_topic(&mut sc, "crash", TopicSpec::computed(1, 1)).await.error_code.is_ok());
    let spu_addr = spu_of(&mut sc).await;
    produce_numbered(spu_addr, "crash", 0, 200).await;
    // SIGKILL: no shutdown path runs.
    common::command::kill_9(running);

    let running = start_command(&data, &[], &profile);
    let mut sc = RawClient::connect(running.sc.as_str()).await;
    let spu_addr = spu_of(&mut sc).await;
    assert_eq!(values(&read_all(spu_addr, "crash", 200).await), expected(0, 200));
}

async fn spu_of(sc: &mut RawClient) -> std::net::SocketAddr {
    let ListResponse::Spu(spus) = sc.call(&ListRequest { label: "SPU".into(), filters: ListFilters::default() }).await
    else {
        panic!()
    };
    spus[0].spec.public_endpoint.address().unwrap().parse().unwrap()
}

#[tokio::test]
async fn command_writes_a_profile_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("fluvio").join("config");
    let running = start_command(&dir.path().join("data"), &["--spus", "2", "--profile", "embedded"], &profile);

    let file = fluvio_profile::ProfileFile::load(&profile).expect("profile written");
    let current = file.current().unwrap();
    assert_eq!(current.profile, "embedded");
    assert_eq!(current.endpoint, running.sc);
    let mut sc = RawClient::connect(running.sc.as_str()).await;
    let ListResponse::Spu(spus) = sc.call(&ListRequest { label: "SPU".into(), filters: ListFilters::default() }).await
    else {
        panic!()
    };
    assert_eq!(spus.len(), 2);

    let mut running = running;
    let pid = running.child.id().to_string();
    let status = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(status.success());
    let exit = running.child.wait().unwrap();
    assert!(exit.success(), "clean exit on SIGTERM: {exit:?}");
}

#[test]
fn command_rejects_bad_arguments() {
    let output = Command::new(env!("CARGO_BIN_EXE_fluvio-local"))
        .args(["start", "--spus", "0", "--base-dir", "/tmp/x"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let output = Command::new(env!("CARGO_BIN_EXE_fluvio-local")).args(["start"]).output().unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("--base-dir"));
    for (flag, value) in [
        ("--min-live-replicas", "0"),
        ("--spu-timeout-ms", "10"),
        ("--replica-lag-time-ms", "0"),
        ("--replication-policy", "kafka"),
        ("--consumer-offset-replication", "0"),
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_fluvio-local"))
            .args(["start", "--base-dir", "/tmp/x", flag, value])
            .output()
            .unwrap();
        assert!(!output.status.success(), "{flag} {value}");
        assert!(String::from_utf8_lossy(&output.stderr).contains(flag), "{flag} {value}");
    }
}

#[tokio::test]
async fn command_takes_the_replication_settings() {
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("profile.toml");
    let args = [
        "--spus",
        "3",
        "--replication-policy",
        "in-sync",
        "--min-live-replicas",
        "2",
        "--spu-timeout-ms",
        "500",
        "--replica-lag-time-ms",
        "2000",
        "--consumer-offset-replication",
        "2",
    ];
    let running = start_command(&dir.path().join("data"), &args, &profile);
    let mut sc = RawClient::connect(running.sc.as_str()).await;
    let system = ListFilters { system: true, ..Default::default() };
    let ListResponse::Partition(partitions) =
        sc.call(&ListRequest { label: "Partition".into(), filters: system }).await
    else {
        panic!()
    };
    assert_eq!(partitions[0].spec.replicas.len(), 2, "consumer-offset has the replicas asked for");
    // min-live-replicas 2 refuses what could never commit and accepts replicated topics.
    let single = create_topic(&mut sc, "single", TopicSpec::computed(1, 1)).await;
    assert_eq!(single.error_code, fluvio_wire::ErrorCode::TopicInvalidConfiguration);
    assert!(create_topic(&mut sc, "triple", TopicSpec::computed(1, 3)).await.error_code.is_ok());
}

#[tokio::test]
async fn command_takes_the_connection_limits() {
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("profile.toml");
    let args = ["--idle-timeout-ms", "300", "--read-timeout-ms", "300", "--max-buffered-bytes", "134217728"];
    let running = start_command(&dir.path().join("data"), &args, &profile);
    let mut idle = RawClient::connect(running.sc.as_str()).await;
    assert!(idle.expect_closed().await, "an idle connection is closed after 300 ms");
    let mut stalled = RawClient::connect(running.sc.as_str()).await;
    stalled.write_raw(&[0, 0, 0, 50, 0]).await;
    assert!(stalled.expect_closed().await, "a half-sent request is cut after 300 ms");
    // A budget smaller than one request of the largest size is refused.
    let output = Command::new(env!("CARGO_BIN_EXE_fluvio-local"))
        .args(["start", "--max-buffered-bytes", "1000"])
        .arg("--base-dir")
        .arg(dir.path().join("other"))
        .output()
        .unwrap();
    assert!(!output.status.success());
}

/// `shutdown` returns only once the data directory is free: a cluster started at once on it,
/// over and over, is never refused as `DirectoryInUse` (while other tests of this binary spawn
/// processes, which share the lock for a moment: see `lock.rs`).
#[tokio::test]
async fn a_shut_down_cluster_releases_its_directory_before_shutdown_returns() {
    let dir = tempfile::tempdir().unwrap();
    for round in 0..15 {
        let cluster = LocalCluster::start(ClusterConfig::new(dir.path()).spus(2))
            .await
            .unwrap_or_else(|err| panic!("round {round}: {err:?}"));
        let mut sc = RawClient::connect(cluster.sc_addr()).await;
        if round == 0 {
            assert!(create_topic(&mut sc, "again", TopicSpec::computed(2, 1)).await.error_code.is_ok());
        }
        let leader = leader_addr(&cluster, &mut sc, "again-0").await;
        produce_numbered(leader, "again", round, round + 1).await;
        cluster.shutdown().await;
    }
    let cluster = LocalCluster::start(ClusterConfig::new(dir.path()).spus(2)).await.unwrap();
    let mut sc = RawClient::connect(cluster.sc_addr()).await;
    let leader = leader_addr(&cluster, &mut sc, "again-0").await;
    assert_eq!(values(&read_all(leader, "again", 15).await), expected(0, 15));
    cluster.shutdown().await;
}
