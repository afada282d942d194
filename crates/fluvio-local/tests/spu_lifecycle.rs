//! Stopping, killing and restarting single SPUs while the rest of the cluster keeps running:
//! what the SC reports, what clients of the SPU see, and that no acknowledged record is lost.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::*;
use fluvio_local::{ClusterConfig, ClusterError, FIRST_SPU_ID, LocalCluster};
use fluvio_wire::sc::partition::PartitionResolution;
use fluvio_wire::sc::spu::SpuStatusResolution;
use fluvio_wire::sc::topic::TopicResolution;
use fluvio_wire::sc::{ListFilters, ListRequest, ListResponse, Metadata, SpuSpec, TopicSpec};
use fluvio_wire::spu::{
    FetchOffsetPartition, FetchOffsetTopic, FetchOffsetsRequest, Isolation, OffsetUpdate, ProduceRequest,
    ProduceResponse, StreamFetchRequest, StreamFetchResponse, UpdateOffsetsRequest,
};
use fluvio_wire::{Compression, Decoder, Request};
use tokio::net::TcpStream;

/// How fast clients of a stopped or killed SPU must see their connection closed.
const PROMPTLY: Duration = Duration::from_secs(2);

async fn list_spus(sc: &mut RawClient) -> Vec<Metadata<SpuSpec>> {
    match sc.call(&ListRequest { label: "SPU".into(), filters: ListFilters::default() }).await {
        ListResponse::Spu(spus) => spus,
        other => panic!("unexpected list response {other:?}"),
    }
}

/// The SC's view of SPU `id`: its status and its public port.
async fn spu_state(sc: &mut RawClient, id: i32) -> (SpuStatusResolution, u16) {
    let spus = list_spus(sc).await;
    let spu = spus.iter().find(|s| s.spec.id == id).expect("SPU listed");
    (spu.status.resolution, spu.spec.public_endpoint.port)
}

/// The SC's view of a partition: its leader and status.
async fn partition_state(sc: &mut RawClient, name: &str) -> (i32, PartitionResolution) {
    let partitions = list_partitions(sc).await;
    let partition = partitions.iter().find(|p| p.name == name).expect("partition listed");
    (partition.spec.leader, partition.status.resolution)
}

fn addr_of(cluster: &LocalCluster, id: i32) -> SocketAddr {
    cluster.spu_addrs().into_iter().find(|(spu, _)| *spu == id).expect("SPU running").1
}

fn numbered(i: usize) -> String {
    format!("record-{i}")
}

fn expected(from: usize, to: usize) -> Vec<String> {
    (from..to).map(numbered).collect()
}

/// Produces `record-<from>` .. `record-<to - 1>` one acknowledged request at a time, checking
/// that record `i` gets offset `i`.
async fn produce_numbered(spu: &mut RawClient, topic: &str, partition: u32, from: usize, to: usize) {
    for i in from..to {
        let value = numbered(i);
        let request = produce_request(
            topic,
            partition,
            &[batch(&[value.as_bytes()], Compression::None)],
            Isolation::ReadCommitted,
        );
        let response = spu.call(&request).await;
        let result = only_result(&response);
        assert!(result.error_code.is_ok(), "{:?}", result.error_code);
        assert_eq!(result.base_offset, i as i64);
    }
}

/// The committed end of a partition, from FetchOffsets.
async fn end_offset(spu: &mut RawClient, topic: &str, partition: u32) -> i64 {
    let response = spu
        .call(&FetchOffsetsRequest {
            topics: vec![FetchOffsetTopic {
                name: topic.into(),
                partitions: vec![FetchOffsetPartition { partition_index: partition }],
            }],
            consumer_id: None,
        })
        .await;
    let result = &response.topics[0].partitions[0];
    assert!(result.error_code.is_ok(), "{:?}", result.error_code);
    result.last_stable_offset
}

fn fetch(topic: &str, partition: u32) -> StreamFetchRequest {
    StreamFetchRequest {
        topic: topic.into(),
        partition,
        max_bytes: 64 * 1024,
        isolation: Isolation::ReadCommitted,
        ..Default::default()
    }
}

/// Reads every record of a partition from offset 0 up to `end` through a StreamFetch session,
/// returning the values, checking that offsets are contiguous from 0.
async fn read_values(spu_addr: SocketAddr, topic: &str, partition: u32, end: i64) -> Vec<String> {
    let mut spu = RawClient::connect(spu_addr).await;
    let id = spu.send(&fetch(topic, partition)).await;
    let mut values = Vec::new();
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
                assert_eq!(batch.header.base_offset + record.offset_delta, values.len() as i64);
                values.push(String::from_utf8(record.value.to_vec()).unwrap());
            }
            next = batch.header.next_offset();
        }
        spu.send(&UpdateOffsetsRequest { offsets: vec![OffsetUpdate { offset: next, session_id: push.stream_id }] })
            .await;
    }
    values
}

/// True if the server closes `client`'s connection within `wait` (frames still queued before
/// the close are skipped).
async fn closed_within(client: &mut RawClient, wait: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        match tokio::time::timeout_at(deadline, client.read_frame()).await {
            Err(_) => return false,
            Ok(None) => return true,
            Ok(Some(_)) => continue,
        }
    }
}

async fn refuses_connections(addr: SocketAddr) -> bool {
    TcpStream::connect(addr).await.is_err()
}

/// A one-SPU cluster with topic `topic` (one partition) holding `records` records.
async fn cluster_with_records(topic: &str, records: usize) -> (LocalCluster, tempfile::TempDir, RawClient) {
    let (cluster, dir) = cluster(1).await;
    let mut sc = RawClient::connect(cluster.sc_addr()).await;
    let status = create_topic(&mut sc, topic, TopicSpec::computed(1, 1)).await;
    assert!(status.error_code.is_ok(), "{status:?}");
    let mut spu = RawClient::connect(first_spu(&cluster)).await;
    produce_numbered(&mut spu, topic, 0, 0, records).await;
    (cluster, dir, sc)
}

#[tokio::test]
async fn stop_takes_the_spu_offline_and_start_brings_it_back_with_its_data() {
    let (cluster, _dir, mut sc) = cluster_with_records("stopped", 20).await;
    let addr = first_spu(&cluster);
    let mut idle = RawClient::connect(addr).await;
    assert_eq!(spu_state(&mut sc, FIRST_SPU_ID).await, (SpuStatusResolution::Online, addr.port()));

    cluster.stop_spu(FIRST_SPU_ID).await.unwrap();

    // Once stop_spu returns, the SC already reports the SPU and its partition offline.
    assert_eq!(spu_state(&mut sc, FIRST_SPU_ID).await.0, SpuStatusResolution::Offline);
    assert_eq!(partition_state(&mut sc, "stopped-0").await, (FIRST_SPU_ID, PartitionResolution::LeaderOffline));
    assert!(closed_within(&mut idle, PROMPTLY).await, "clients of a stopped SPU see their connection closed");
    assert!(refuses_connections(addr).await, "a stopped SPU accepts nothing, so a produce cannot even connect");
    assert!(cluster.spu_addrs().is_empty());
    assert_eq!(cluster.spu_ids(), [FIRST_SPU_ID]);
    assert!(!cluster.is_spu_running(FIRST_SPU_ID));

    let restarted = cluster.start_spu(FIRST_SPU_ID).await.unwrap();

    assert_eq!(restarted, addr, "the previous port was free, so it is used again");
    assert_eq!(cluster.spu_addrs(), [(FIRST_SPU_ID, addr)]);
    assert!(cluster.is_spu_running(FIRST_SPU_ID));
    assert_eq!(spu_state(&mut sc, FIRST_SPU_ID).await, (SpuStatusResolution::Online, addr.port()));
    assert_eq!(partition_state(&mut sc, "stopped-0").await, (FIRST_SPU_ID, PartitionResolution::Online));
    assert_eq!(read_values(addr, "stopped", 0, 20).await, expected(0, 20));
    let mut spu = RawClient::connect(addr).await;
    produce_numbered(&mut spu, "stopped", 0, 20, 25).await;
    assert_eq!(read_values(addr, "stopped", 0, 25).await, expected(0, 25));
    cluster.shutdown().await;
}

#[tokio::test]
async fn kill_takes_the_spu_offline_and_a_restart_keeps_every_acknowledged_record() {
    let (cluster, _dir, mut sc) = cluster_with_records("killed", 50).await;
    let addr = first_spu(&cluster);
    let mut idle = RawClient::connect(addr).await;

    // Pipeline more produces, read some of the acknowledgements, and kill the SPU while the
    // rest are in flight.
    let mut producer = RawClient::connect(addr).await;
    let mut correlation_ids = Vec::new();
    for i in 50..250 {
        let value = numbered(i);
        let request =
            produce_request("killed", 0, &[batch(&[value.as_bytes()], Compression::None)], Isolation::ReadCommitted);
        correlation_ids.push((producer.send(&request).await, i));
    }
    let mut acknowledged = Vec::new();
    let mut record_acknowledgement = |(correlation_id, body): (i32, bytes::Bytes)| {
        let response = ProduceResponse::decode_exact(body, ProduceRequest::DEFAULT_VERSION).unwrap();
        let result = only_result(&response);
        assert!(result.error_code.is_ok(), "{:?}", result.error_code);
        let (_, i) = correlation_ids.iter().find(|(id, _)| *id == correlation_id).expect("known request");
        assert_eq!(result.base_offset, *i as i64, "record {i} got the next offset");
        acknowledged.push(*i);
    };
    for _ in 0..20 {
        record_acknowledgement(producer.read_frame().await.expect("acknowledgement"));
    }

    cluster.kill_spu(FIRST_SPU_ID).await.unwrap();

    assert_eq!(spu_state(&mut sc, FIRST_SPU_ID).await.0, SpuStatusResolution::Offline);
    assert_eq!(partition_state(&mut sc, "killed-0").await, (FIRST_SPU_ID, PartitionResolution::LeaderOffline));
    assert!(closed_within(&mut idle, PROMPTLY).await, "clients of a killed SPU see their connection closed");
    assert!(refuses_connections(addr).await);
    assert!(cluster.spu_addrs().is_empty());
    // Acknowledgements that reached the socket before the kill count too.
    let deadline = tokio::time::Instant::now() + PROMPTLY;
    while let Ok(Some(frame)) = tokio::time::timeout_at(deadline, producer.read_frame()).await {
        record_acknowledgement(frame);
    }

    let restarted = cluster.start_spu(FIRST_SPU_ID).await.unwrap();
    assert_eq!(partition_state(&mut sc, "killed-0").await, (FIRST_SPU_ID, PartitionResolution::Online));
    let mut spu = RawClient::connect(restarted).await;
    let end = end_offset(&mut spu, "killed", 0).await;
    let last_acknowledged = acknowledged.iter().copied().max().expect("some acknowledgements");
    assert!(end > last_acknowledged as i64, "every acknowledged record survived the kill (end {end})");
    // What is stored is exactly the records sent, in order, with no gap and no torn record.
    assert_eq!(read_values(restarted, "killed", 0, end).await, expected(0, end as usize));
    produce_numbered(&mut spu, "killed", 0, end as usize, end as usize + 5).await;
    cluster.shutdown().await;
}

#[tokio::test]
async fn start_uses_another_port_when_the_previous_one_is_taken() {
    let (cluster, _dir, mut sc) = cluster_with_records("moved", 3).await;
    let old = first_spu(&cluster);
    cluster.stop_spu(FIRST_SPU_ID).await.unwrap();
    let squatter = std::net::TcpListener::bind(old).expect("the freed port can be taken");

    let new = cluster.start_spu(FIRST_SPU_ID).await.unwrap();

    assert_ne!(new.port(), old.port());
    assert_eq!(cluster.spu_addrs(), [(FIRST_SPU_ID, new)]);
    assert_eq!(spu_state(&mut sc, FIRST_SPU_ID).await, (SpuStatusResolution::Online, new.port()));
    assert_eq!(read_values(new, "moved", 0, 3).await, expected(0, 3));
    drop(squatter);

    // The next restart tries the port of the latest run.
    cluster.kill_spu(FIRST_SPU_ID).await.unwrap();
    assert_eq!(cluster.start_spu(FIRST_SPU_ID).await.unwrap(), new);
    cluster.shutdown().await;
}

#[tokio::test]
async fn lifecycle_errors_are_typed() {
    let (cluster, _dir) = cluster(2).await;
    let unknown = FIRST_SPU_ID + 2;
    assert!(matches!(cluster.stop_spu(unknown).await, Err(ClusterError::UnknownSpu(id)) if id == unknown));
    assert!(matches!(cluster.kill_spu(unknown).await, Err(ClusterError::UnknownSpu(id)) if id == unknown));
    assert!(matches!(cluster.start_spu(unknown).await, Err(ClusterError::UnknownSpu(id)) if id == unknown));
    assert!(!cluster.is_spu_running(unknown));
    assert_eq!(cluster.spu_ids(), [FIRST_SPU_ID, FIRST_SPU_ID + 1]);

    let running = FIRST_SPU_ID + 1;
    assert!(matches!(cluster.start_spu(running).await, Err(ClusterError::SpuRunning(id)) if id == running));
    let error = cluster.start_spu(running).await.unwrap_err().to_string();
    assert!(error.contains("already running"), "{error}");

    // Stopping or killing an SPU that is not running is a harmless no-op.
    cluster.stop_spu(running).await.unwrap();
    cluster.stop_spu(running).await.unwrap();
    cluster.kill_spu(running).await.unwrap();
    assert_eq!(cluster.spu_addrs().len(), 1);
    cluster.start_spu(running).await.unwrap();
    assert!(matches!(cluster.start_spu(running).await, Err(ClusterError::SpuRunning(_))));
    cluster.kill_spu(running).await.unwrap();
    cluster.kill_spu(running).await.unwrap();
    cluster.stop_spu(running).await.unwrap();
    cluster.start_spu(running).await.unwrap();
    assert_eq!(cluster.spu_addrs().len(), 2);
    cluster.shutdown().await;
}

/// Opens a stream on a partition with data, takes the first push, then takes the SPU down.
async fn stream_ends_when_the_spu_goes(kill: bool) {
    let (cluster, _dir, _sc) = cluster_with_records("streamed", 5).await;
    let mut consumer = RawClient::connect(first_spu(&cluster)).await;
    let id = consumer.send(&fetch("streamed", 0)).await;
    let (got, body) = consumer.read_frame().await.expect("first push");
    assert_eq!(got, id);
    let push = StreamFetchResponse::decode_exact(body, 25).unwrap();
    assert!(push.partition.error_code.is_ok());
    // Acknowledge, so the session is waiting for new data when the SPU goes.
    consumer
        .send(&UpdateOffsetsRequest { offsets: vec![OffsetUpdate { offset: 5, session_id: push.stream_id }] })
        .await;

    if kill {
        cluster.kill_spu(FIRST_SPU_ID).await.unwrap();
    } else {
        cluster.stop_spu(FIRST_SPU_ID).await.unwrap();
    }
    assert!(closed_within(&mut consumer, PROMPTLY).await, "the stream's connection is closed");
    cluster.shutdown().await;
}

#[tokio::test]
async fn a_stream_ends_when_its_spu_is_stopped() {
    stream_ends_when_the_spu_goes(false).await;
}

#[tokio::test]
async fn a_stream_ends_when_its_spu_is_killed() {
    stream_ends_when_the_spu_goes(true).await;
}

#[tokio::test]
async fn other_spus_keep_serving_while_one_is_stopped() {
    let (cluster, _dir) = cluster(3).await;
    let mut sc = RawClient::connect(cluster.sc_addr()).await;
    assert!(create_topic(&mut sc, "spread", TopicSpec::computed(3, 1)).await.error_code.is_ok());
    let mut leaders = Vec::new();
    for partition in 0..3 {
        leaders.push(partition_state(&mut sc, &format!("spread-{partition}")).await.0);
    }
    let mut sorted = leaders.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, [FIRST_SPU_ID, FIRST_SPU_ID + 1, FIRST_SPU_ID + 2], "one leader per SPU");
    let mut clients = Vec::new();
    for (partition, leader) in leaders.iter().enumerate() {
        let mut client = RawClient::connect(addr_of(&cluster, *leader)).await;
        produce_numbered(&mut client, "spread", partition as u32, 0, 10).await;
        clients.push(client);
    }

    let stopped = leaders[1];
    let stopped_addr = addr_of(&cluster, stopped);
    cluster.stop_spu(stopped).await.unwrap();

    assert_eq!(partition_state(&mut sc, "spread-1").await.1, PartitionResolution::LeaderOffline);
    for partition in [0, 2] {
        let name = format!("spread-{partition}");
        assert_eq!(partition_state(&mut sc, &name).await.1, PartitionResolution::Online, "{name}");
    }
    assert!(closed_within(&mut clients[1], PROMPTLY).await);
    assert!(refuses_connections(stopped_addr).await);
    assert_eq!(cluster.spu_addrs().len(), 2);
    // Connections to the other SPUs opened before the stop keep working, and so do new ones.
    for partition in [0, 2] {
        produce_numbered(&mut clients[partition], "spread", partition as u32, 10, 15).await;
        let addr = addr_of(&cluster, leaders[partition]);
        assert_eq!(read_values(addr, "spread", partition as u32, 15).await, expected(0, 15));
    }
    // A topic created meanwhile is placed on the running SPUs only and is usable at once.
    let status = create_topic(&mut sc, "meanwhile", TopicSpec::computed(2, 1)).await;
    assert!(status.error_code.is_ok(), "{status:?}");
    for partition in 0..2 {
        let (leader, resolution) = partition_state(&mut sc, &format!("meanwhile-{partition}")).await;
        assert_ne!(leader, stopped);
        assert_eq!(resolution, PartitionResolution::Online);
        let mut client = RawClient::connect(addr_of(&cluster, leader)).await;
        produce_numbered(&mut client, "meanwhile", partition, 0, 3).await;
    }

    let restarted = cluster.start_spu(stopped).await.unwrap();
    assert_eq!(partition_state(&mut sc, "spread-1").await, (stopped, PartitionResolution::Online));
    assert_eq!(read_values(restarted, "spread", 1, 10).await, expected(0, 10));
    cluster.shutdown().await;
}

#[tokio::test]
async fn a_dropped_stop_still_completes() {
    let (cluster, _dir, mut sc) = cluster_with_records("dropped", 3).await;
    // Polled once, then dropped: the stop goes on in the background.
    let _ = tokio::time::timeout(Duration::ZERO, cluster.stop_spu(FIRST_SPU_ID)).await;
    assert!(!cluster.is_spu_running(FIRST_SPU_ID));
    // A start waits for the stop to finish instead of racing it.
    let addr = cluster.start_spu(FIRST_SPU_ID).await.unwrap();
    assert_eq!(partition_state(&mut sc, "dropped-0").await.1, PartitionResolution::Online);
    assert_eq!(read_values(addr, "dropped", 0, 3).await, expected(0, 3));
    cluster.shutdown().await;
}

#[tokio::test]
async fn shutdown_works_with_stopped_and_killed_spus_and_a_restart_has_everything() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = LocalCluster::start(ClusterConfig::new(dir.path()).spus(3)).await.unwrap();
    let mut sc = RawClient::connect(cluster.sc_addr()).await;
    assert!(create_topic(&mut sc, "all", TopicSpec::computed(3, 1)).await.error_code.is_ok());
    let mut leaders = Vec::new();
    for partition in 0..3u32 {
        let leader = partition_state(&mut sc, &format!("all-{partition}")).await.0;
        let mut client = RawClient::connect(addr_of(&cluster, leader)).await;
        produce_numbered(&mut client, "all", partition, 0, 7).await;
        leaders.push(leader);
    }
    cluster.stop_spu(leaders[0]).await.unwrap();
    cluster.kill_spu(leaders[1]).await.unwrap();
    tokio::time::timeout(WAIT, cluster.shutdown()).await.expect("shutdown completes");

    let cluster = LocalCluster::start(ClusterConfig::new(dir.path()).spus(3)).await.unwrap();
    let mut sc = RawClient::connect(cluster.sc_addr()).await;
    let ListResponse::Topic(topics) =
        sc.call(&ListRequest { label: "Topic".into(), filters: ListFilters::default() }).await
    else {
        panic!("topics expected")
    };
    assert_eq!(topics[0].status.resolution, TopicResolution::Provisioned);
    for (partition, leader) in leaders.iter().enumerate() {
        let values = read_values(addr_of(&cluster, *leader), "all", partition as u32, 7).await;
        assert_eq!(values, expected(0, 7), "partition {partition}");
    }
    cluster.shutdown().await;
}
