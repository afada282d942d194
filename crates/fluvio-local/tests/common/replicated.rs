//! Helpers for tests on a replicated cluster (3 SPUs by default), over the raw protocol.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use fluvio_local::{ClusterConfig, FIRST_SPU_ID, LocalCluster, ReplicationPolicy};
use fluvio_wire::record::RawBatch;
use fluvio_wire::sc::partition::PartitionResolution;
use fluvio_wire::sc::{ListFilters, ListRequest, ListResponse, Metadata, PartitionSpec, SpuSpec};
use fluvio_wire::spu::{Isolation, PartitionProduceResponse, StreamFetchRequest, StreamFetchResponse};
use fluvio_wire::{Compression, Decoder, Request};

use super::*;

pub const SPU_1: i32 = FIRST_SPU_ID;
pub const SPU_2: i32 = FIRST_SPU_ID + 1;
pub const SPU_3: i32 = FIRST_SPU_ID + 2;

pub struct Setup {
    pub cluster: LocalCluster,
    pub sc: RawClient,
    pub _dir: tempfile::TempDir,
}

pub async fn setup(config: impl FnOnce(ClusterConfig) -> ClusterConfig) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let cluster = LocalCluster::start(config(ClusterConfig::new(dir.path()).spus(3))).await.unwrap();
    let sc = RawClient::connect(cluster.sc_addr()).await;
    Setup { cluster, sc, _dir: dir }
}

/// The in-sync replica policy, for tests of its guarantees (the default is real Fluvio's).
pub fn in_sync(config: ClusterConfig) -> ClusterConfig {
    config.replication_policy(ReplicationPolicy::InSync)
}

pub async fn spus(sc: &mut RawClient) -> Vec<Metadata<SpuSpec>> {
    match sc.call(&ListRequest { label: "SPU".into(), filters: ListFilters::default() }).await {
        ListResponse::Spu(spus) => spus,
        other => panic!("unexpected list response {other:?}"),
    }
}

/// Polls the SC until partition `name` satisfies `ready` (10 s at most).
pub async fn wait_partition(
    sc: &mut RawClient,
    name: &str,
    what: &str,
    ready: impl Fn(&Metadata<PartitionSpec>) -> bool,
) -> Metadata<PartitionSpec> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let partition = list_partitions(sc).await.into_iter().find(|p| p.name == name).expect("partition listed");
        if ready(&partition) {
            return partition;
        }
        assert!(Instant::now() < deadline, "timed out waiting until {what}: {partition:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until `name` is Online with every follower caught up to `end` and knowing it is
/// committed, all in sync (`lsr` counts the followers, as on a real cluster, under either
/// policy).
pub async fn wait_replicated(sc: &mut RawClient, name: &str, replicas: usize, end: i64) -> Metadata<PartitionSpec> {
    wait_partition(sc, name, "every replica holds everything", |p| {
        p.status.resolution == PartitionResolution::Online
            && p.status.leader.leo == end
            && p.status.leader.hw == end
            && p.status.lsr as usize == replicas - 1
            && p.status.replicas.len() == replicas - 1
            && p.status.replicas.iter().all(|r| r.leo == end && r.hw == end)
    })
    .await
}

pub fn addr(cluster: &LocalCluster, id: i32) -> SocketAddr {
    cluster.spu_addrs().into_iter().find(|(spu, _)| *spu == id).expect("SPU running").1
}

pub fn values_batch(from: usize, to: usize) -> RawBatch {
    let values: Vec<String> = (from..to).map(|i| format!("record-{i}")).collect();
    let refs: Vec<&[u8]> = values.iter().map(|v| v.as_bytes()).collect();
    batch(&refs, Compression::None)
}

/// A batch stamped for deduplication with `producer_id` and `first_sequence`.
pub fn idempotent_batch(from: usize, to: usize, producer_id: i64, first_sequence: i32) -> RawBatch {
    let mut batch = values_batch(from, to);
    batch.header.producer_id = producer_id;
    batch.header.producer_epoch = 0;
    batch.header.first_sequence = first_sequence;
    batch
}

pub async fn produce(spu: SocketAddr, topic: &str, batch: &RawBatch, isolation: Isolation) -> PartitionProduceResponse {
    let mut client = RawClient::connect(spu).await;
    let mut request = produce_request(topic, 0, std::slice::from_ref(batch), isolation);
    request.timeout_ms = 1500;
    let response = client.call(&request).await;
    only_result(&response).clone()
}

/// What a reader sees: (offset, value, leader epoch of its batch), from offset 0 to `end`.
pub async fn read(spu: SocketAddr, topic: &str, isolation: Isolation, end: i64) -> Vec<(i64, String, i32)> {
    read_from(spu, topic, isolation, 0, end).await
}

/// A StreamFetch of `topic`-0 from `from`, in pushes of up to 1 MiB.
pub fn stream_request(topic: &str, from: i64, isolation: Isolation) -> StreamFetchRequest {
    StreamFetchRequest {
        topic: topic.into(),
        partition: 0,
        fetch_offset: from,
        max_bytes: 1 << 20,
        isolation,
        ..Default::default()
    }
}

/// What a reader sees from offset `from` to `end` (whole batches: records below `from` in the
/// first batch are included).
pub async fn read_from(
    spu: SocketAddr,
    topic: &str,
    isolation: Isolation,
    from: i64,
    end: i64,
) -> Vec<(i64, String, i32)> {
    let mut records = Vec::new();
    for batch in read_batches(spu, topic, isolation, from, end).await {
        for record in batch.records(1 << 24).unwrap() {
            let offset = batch.header.base_offset + record.offset_delta;
            records.push((
                offset,
                String::from_utf8(record.value.to_vec()).unwrap(),
                batch.header.partition_leader_epoch,
            ));
        }
    }
    records
}

/// The whole batches a stream of `topic`-0 from `from` pushes until `end`.
pub async fn read_batches(
    spu: SocketAddr,
    topic: &str,
    isolation: Isolation,
    from: i64,
    end: i64,
) -> Vec<fluvio_wire::record::RawBatch> {
    let mut client = RawClient::connect(spu).await;
    let id = client.send(&stream_request(topic, from, isolation)).await;
    let mut batches = Vec::new();
    let mut next = from;
    while next < end {
        let (got, body) = tokio::time::timeout(WAIT, client.read_frame()).await.expect("a push in time").expect("push");
        if got != id {
            continue;
        }
        let push = StreamFetchResponse::decode_exact(body, StreamFetchRequest::DEFAULT_VERSION).unwrap();
        assert!(push.partition.error_code.is_ok(), "{:?}", push.partition.error_code);
        for batch in push.partition.records.parse().batches {
            next = batch.header.next_offset();
            batches.push(batch);
        }
        client
            .send(&fluvio_wire::spu::UpdateOffsetsRequest {
                offsets: vec![fluvio_wire::spu::OffsetUpdate { offset: next, session_id: push.stream_id }],
            })
            .await;
    }
    batches
}

pub fn values(records: &[(i64, String, i32)]) -> Vec<String> {
    records.iter().map(|(_, v, _)| v.clone()).collect()
}

pub fn expected(from: usize, to: usize) -> Vec<String> {
    (from..to).map(|i| format!("record-{i}")).collect()
}

/// `topic`-0's file `name` on SPU `spu`.
pub fn replica_file(cluster: &LocalCluster, spu: i32, topic: &str, name: &str) -> std::path::PathBuf {
    cluster.base_dir().join(format!("spu-{spu}")).join(format!("{topic}-0")).join(name)
}

/// `(log start, high watermark)` a leader answers to FetchOffsets.
pub async fn fetch_offsets(spu: SocketAddr, topic: &str) -> (i64, i64) {
    offsets(&mut RawClient::connect(spu).await, topic).await
}

/// Base offsets of the segments of `topic`-0 on SPU `spu`, from its directory.
pub fn segment_bases(cluster: &LocalCluster, spu: i32, topic: &str) -> Vec<i64> {
    let dir = cluster.base_dir().join(format!("spu-{spu}")).join(format!("{topic}-0"));
    let mut bases: Vec<i64> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|entry| entry.unwrap().file_name().to_str()?.strip_suffix(".log")?.parse().ok())
        .collect();
    bases.sort_unstable();
    bases
}
