//! Connections are bounded in time and memory: an idle connection and a half-sent request are
//! cut after their timeouts, while connections that are quiet for a good reason (a stream
//! waiting for records, a metadata watch) are never cut; large unfinished requests share a
//! budget, so a peer holding it delays others instead of making the server buffer without end.

mod common;

use std::time::Duration;

use bytes::BufMut;
use common::*;
use fluvio_local::{ClusterConfig, LocalCluster};
use fluvio_wire::api::{ApiVersionsRequest, ApiVersionsResponse};
use fluvio_wire::sc::{TopicSpec, WatchParams, WatchRequest, WatchResponse, labels};
use fluvio_wire::spu::{Isolation, StreamFetchRequest, StreamFetchResponse};
use fluvio_wire::{Compression, Decoder, Request};

const IDLE: Duration = Duration::from_millis(300);
const READ: Duration = Duration::from_millis(300);

async fn start(config: impl FnOnce(ClusterConfig) -> ClusterConfig) -> (LocalCluster, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let cluster = LocalCluster::start(config(ClusterConfig::new(dir.path()))).await.unwrap();
    (cluster, dir)
}

/// Whether the server closes `client` within `wait` (nothing is expected meanwhile).
async fn closed_within(client: &mut RawClient, wait: Duration) -> bool {
    match client.try_read_frame(wait).await {
        Some(None) => true,
        Some(Some(frame)) => panic!("unexpected frame {frame:?}"),
        None => false,
    }
}

#[tokio::test]
async fn idle_connections_are_closed_and_busy_quiet_ones_are_not() {
    let (cluster, _dir) = start(|c| c.idle_timeout(IDLE)).await;
    let mut sc = RawClient::connect(cluster.sc_addr()).await;
    assert!(create_topic(&mut sc, "quiet", TopicSpec::computed(1, 1)).await.error_code.is_ok());
    let spu = first_spu(&cluster);

    // A connection that never sends, and one that made a request and went quiet: both cut.
    let mut silent = RawClient::connect(spu).await;
    let mut used = RawClient::connect(cluster.sc_addr()).await;
    let _: ApiVersionsResponse = used.call(&ApiVersionsRequest::default()).await;
    assert!(closed_within(&mut silent, IDLE * 10).await, "a silent connection is closed");
    assert!(closed_within(&mut used, IDLE * 10).await, "an idle connection is closed");

    // A stream waiting for records, and a metadata watch, stay open however quiet.
    let mut consumer = RawClient::connect(spu).await;
    let fetch = StreamFetchRequest {
        topic: "quiet".into(),
        max_bytes: 1 << 20,
        isolation: Isolation::ReadCommitted,
        ..Default::default()
    };
    let stream_id = consumer.send(&fetch).await;
    let mut watcher = RawClient::connect(cluster.sc_addr()).await;
    let watch_id = watcher.send(&WatchRequest { label: labels::TOPIC.into(), params: WatchParams::default() }).await;
    let (_, snapshot) = watcher.read_frame().await.expect("the watch's first message");
    let _ = WatchResponse::decode_exact(snapshot, WatchRequest::DEFAULT_VERSION).unwrap();
    assert!(!closed_within(&mut consumer, IDLE * 5).await, "a waiting stream is kept");
    assert!(!closed_within(&mut watcher, IDLE).await, "a watch is kept");
    // Both still work.
    assert!(produce_values(spu, "quiet", 0, &[b"late"]).await.error_code.is_ok());
    let (id, body) = consumer.read_frame().await.expect("the stream pushes the record");
    assert_eq!(id, stream_id);
    let push = StreamFetchResponse::decode_exact(body, StreamFetchRequest::DEFAULT_VERSION).unwrap();
    assert_eq!(push.partition.high_watermark, 1);
    // (The first admin connection went idle meanwhile, and was closed: a new one.)
    let mut sc = RawClient::connect(cluster.sc_addr()).await;
    assert!(create_topic(&mut sc, "another", TopicSpec::computed(1, 1)).await.error_code.is_ok());
    let (id, _) = watcher.read_frame().await.expect("the watch reports the new topic");
    assert_eq!(id, watch_id);
    cluster.shutdown().await;
}

#[tokio::test]
async fn the_idle_timeout_can_be_switched_off() {
    let (cluster, _dir) = start(|c| c.idle_timeout(Duration::ZERO)).await;
    let mut silent = RawClient::connect(first_spu(&cluster)).await;
    assert!(!closed_within(&mut silent, IDLE * 3).await);
    cluster.shutdown().await;
}

#[tokio::test]
async fn a_half_sent_request_is_cut_after_the_read_timeout() {
    let (cluster, _dir) = start(|c| c.read_timeout(READ)).await;
    for addr in [cluster.sc_addr(), first_spu(&cluster)] {
        // A length, a header's worth of bytes, then nothing.
        let mut stalled = RawClient::connect(addr).await;
        stalled.write_raw(&[0, 0, 0, 100, 0, 18, 0, 2]).await;
        assert!(closed_within(&mut stalled, READ * 10).await, "{addr}: a stalled request is cut");
        // A request sent whole is served as always.
        let mut fine = RawClient::connect(addr).await;
        let _: ApiVersionsResponse = fine.call(&ApiVersionsRequest::default()).await;
    }
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_unfinished_requests_share_the_buffer_budget() {
    // The budget holds exactly one request of the largest size.
    const FRAME: usize = 1024 * 1024;
    let (cluster, _dir) =
        start(|c| c.max_frame_size(FRAME).max_buffered_bytes(FRAME).read_timeout(Duration::from_secs(2))).await;
    let mut sc = RawClient::connect(cluster.sc_addr()).await;
    assert!(create_topic(&mut sc, "budget", TopicSpec::computed(1, 1)).await.error_code.is_ok());
    let spu = first_spu(&cluster);

    // A peer announces a request of the largest size and sends half of it: it holds the budget.
    let mut hog = RawClient::connect(spu).await;
    let mut partial = bytes::BytesMut::new();
    partial.put_i32(FRAME as i32);
    partial.put_bytes(0, FRAME / 2);
    hog.write_raw(&partial).await;
    tokio::time::sleep(Duration::from_millis(200)).await;

    // A real produce larger than the unbudgeted 64 KiB waits for budget; small ones do not.
    let value = vec![b'v'; 200 * 1024];
    let request = produce_request("budget", 0, &[batch(&[&value], Compression::None)], Isolation::ReadCommitted);
    let mut waiting = RawClient::connect(spu).await;
    let id = waiting.send(&request).await;
    assert!(waiting.try_read_frame(Duration::from_millis(500)).await.is_none(), "answered while the budget was held");
    let small = produce_values(spu, "budget", 0, &[b"small"]).await;
    assert!(small.error_code.is_ok());
    assert_eq!(small.base_offset, 0, "the large request was not appended yet");

    // The hog's read timeout ends its hold; the waiting request proceeds.
    assert!(closed_within(&mut hog, Duration::from_secs(10)).await);
    let response: fluvio_wire::spu::ProduceResponse =
        waiting.recv(id, fluvio_wire::spu::ProduceRequest::DEFAULT_VERSION).await;
    assert!(only_result(&response).error_code.is_ok());
    assert_eq!(only_result(&response).base_offset, 1);
    cluster.shutdown().await;
}

#[tokio::test]
async fn connection_settings_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    for config in [
        ClusterConfig::new(dir.path()).max_frame_size(1024),
        ClusterConfig::new(dir.path()).max_frame_size(1 << 20).max_buffered_bytes((1 << 20) - 1),
    ] {
        match LocalCluster::start(config).await {
            Err(fluvio_local::ClusterError::InvalidConfig(_)) => {}
            Err(other) => panic!("expected InvalidConfig, got {other}"),
            Ok(_) => panic!("started with an unusable setting"),
        }
    }
}
