//! Malformed input closes only the offending connection; everyone else keeps being served and
//! nothing acknowledged is lost.

mod common;

use bytes::{BufMut, BytesMut};
use common::*;
use fluvio_local::LocalCluster;
use fluvio_wire::Compression;
use fluvio_wire::api::{ApiVersionsRequest, ApiVersionsResponse, RequestHeader, encode_request_frame};
use fluvio_wire::sc::{ListFilters, ListRequest, ListResponse, TopicSpec};
use fluvio_wire::spu::{FetchOffsetPartition, FetchOffsetTopic, FetchOffsetsRequest, Isolation};

/// A cluster with topic "keep" holding 3 acknowledged records.
async fn seeded() -> (LocalCluster, tempfile::TempDir) {
    let (cluster, dir) = cluster(1).await;
    let mut sc = RawClient::connect(cluster.sc_addr()).await;
    assert!(create_topic(&mut sc, "keep", TopicSpec::computed(1, 1)).await.error_code.is_ok());
    let mut spu = RawClient::connect(first_spu(&cluster)).await;
    let response = spu
        .call(&produce_request("keep", 0, &[batch(&[b"1", b"2", b"3"], Compression::None)], Isolation::ReadCommitted))
        .await;
    assert!(only_result(&response).error_code.is_ok());
    (cluster, dir)
}

/// New connections to the SC and the SPU are served, and the records are all there.
async fn assert_healthy(cluster: &LocalCluster) {
    let mut sc = RawClient::connect(cluster.sc_addr()).await;
    let ListResponse::Topic(topics) =
        sc.call(&ListRequest { label: "Topic".into(), filters: ListFilters::default() }).await
    else {
        panic!("topic list")
    };
    assert_eq!(topics.len(), 1);
    let mut spu = RawClient::connect(first_spu(cluster)).await;
    let offsets = spu
        .call(&FetchOffsetsRequest {
            topics: vec![FetchOffsetTopic {
                name: "keep".into(),
                partitions: vec![FetchOffsetPartition { partition_index: 0 }],
            }],
            consumer_id: None,
        })
        .await;
    assert_eq!(offsets.topics[0].partitions[0].last_stable_offset, 3, "acknowledged records are still there");
    let response =
        spu.call(&produce_request("keep", 0, &[batch(&[b"4"], Compression::None)], Isolation::ReadCommitted)).await;
    assert_eq!(only_result(&response).base_offset, 3);
}

/// Sends `bytes` on a fresh connection to each server and expects both to close it.
async fn send_to_both_and_expect_close(cluster: &LocalCluster, bytes: &[u8]) {
    for addr in [cluster.sc_addr(), first_spu(cluster)] {
        let mut bad = RawClient::connect(addr).await;
        bad.write_raw(bytes).await;
        assert!(bad.expect_closed().await, "server at {addr} closes the connection");
    }
}

fn request_frame(api_key: u16, api_version: i16, body: &[u8]) -> Vec<u8> {
    let header = RequestHeader { api_key, api_version, correlation_id: 1, client_id: "bad".into() };
    let mut payload = BytesMut::new();
    fluvio_wire::Encoder::encode(&header, &mut payload, 0).unwrap();
    payload.put_slice(body);
    let mut frame = (payload.len() as i32).to_be_bytes().to_vec();
    frame.extend_from_slice(&payload);
    frame
}

#[tokio::test]
async fn garbage_closes_the_connection() {
    let (cluster, _dir) = seeded().await;
    // A frame whose header is nonsense: client id length runs past the frame.
    send_to_both_and_expect_close(&cluster, &[0, 0, 0, 12, 0x12, 0x34, 0, 1, 0, 0, 0, 1, 0x7f, 0xff, 1, 2]).await;
    // A frame of pure noise.
    let mut noise = 196i32.to_be_bytes().to_vec();
    noise.extend((0..196u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8));
    send_to_both_and_expect_close(&cluster, &noise).await;
    // A valid header with an undecodable body.
    send_to_both_and_expect_close(&cluster, &request_frame(0, 25, &[0xff; 9])).await;
    send_to_both_and_expect_close(&cluster, &request_frame(1003, 19, &[0x01])).await;
    assert_healthy(&cluster).await;
    cluster.shutdown().await;
}

#[tokio::test]
async fn truncated_frame_is_never_applied() {
    let (cluster, _dir) = seeded().await;
    // A full produce request, of which only half is sent before the client disconnects.
    let request = produce_request("keep", 0, &[batch(&[b"lost"], Compression::None)], Isolation::ReadCommitted);
    let header = RequestHeader { api_key: 0, api_version: 25, correlation_id: 1, client_id: "half".into() };
    let mut frame = BytesMut::new();
    encode_request_frame(&header, &request, &mut frame).unwrap();
    {
        let mut half = RawClient::connect(first_spu(&cluster)).await;
        half.write_raw(&frame[..frame.len() / 2]).await;
        // Another client is served while the first one is stuck mid-frame.
        assert_healthy(&cluster).await;
    } // dropped: disconnect mid-request
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let mut spu = RawClient::connect(first_spu(&cluster)).await;
    let offsets = spu
        .call(&FetchOffsetsRequest {
            topics: vec![FetchOffsetTopic {
                name: "keep".into(),
                partitions: vec![FetchOffsetPartition { partition_index: 0 }],
            }],
            consumer_id: None,
        })
        .await;
    assert_eq!(offsets.topics[0].partitions[0].last_stable_offset, 4, "only the healthy produce landed");
    cluster.shutdown().await;
}

#[tokio::test]
async fn unknown_api_key_closes_the_connection() {
    let (cluster, _dir) = seeded().await;
    send_to_both_and_expect_close(&cluster, &request_frame(4242, 0, &[])).await;
    assert_healthy(&cluster).await;
    cluster.shutdown().await;
}

#[tokio::test]
async fn unsupported_version_closes_the_connection() {
    let (cluster, _dir) = seeded().await;
    let mut spu = RawClient::connect(first_spu(&cluster)).await;
    spu.send_claiming_version(
        &produce_request("keep", 0, &[batch(&[b"v99"], Compression::None)], Isolation::ReadCommitted),
        99,
    )
    .await;
    assert!(spu.expect_closed().await);
    let mut sc = RawClient::connect(cluster.sc_addr()).await;
    sc.send_claiming_version(&ListRequest { label: "Topic".into(), filters: ListFilters::default() }, 7).await;
    assert!(sc.expect_closed().await);
    // ApiVersions too: only 0..=2 is answered, on both servers.
    for addr in [cluster.sc_addr(), first_spu(&cluster)] {
        for version in [-1, 3, i16::MAX, i16::MIN] {
            let mut client = RawClient::connect(addr).await;
            client.send_at(&ApiVersionsRequest::default(), version).await;
            assert!(client.expect_closed().await, "{addr}: ApiVersions v{version} closes the connection");
        }
        for version in 0..=2 {
            let mut client = RawClient::connect(addr).await;
            let id = client.send_at(&ApiVersionsRequest::default(), version).await;
            let response: ApiVersionsResponse = client.recv(id, version).await;
            assert!(response.error_code.is_ok(), "{addr}: v{version}");
        }
    }
    assert_healthy(&cluster).await;
    cluster.shutdown().await;
}

#[tokio::test]
async fn oversized_and_negative_frames_close_the_connection() {
    let (cluster, _dir) = seeded().await;
    // 2 GiB announced: refused from the length alone, without waiting for or buffering a byte.
    send_to_both_and_expect_close(&cluster, &[0x7f, 0xff, 0xff, 0xff, 1, 2, 3]).await;
    send_to_both_and_expect_close(&cluster, &[0xff, 0xff, 0xff, 0xf0]).await;
    send_to_both_and_expect_close(&cluster, &[0, 0, 0, 0]).await;
    assert_healthy(&cluster).await;
    cluster.shutdown().await;
}

/// A TLS ClientHello on a plain port is answered as a plain Fluvio server answers it: read as
/// the start of a frame of some 370 MB, it gets no answer and no close (the client's handshake
/// timeout is what tells it), and every other client is served meanwhile.
#[tokio::test]
async fn a_tls_client_hello_on_a_plain_port_gets_no_answer_and_no_close() {
    let (cluster, _dir) = seeded().await;
    // A TLS record header (handshake, TLS 1.0 record version, 196 bytes) and a ClientHello.
    let mut hello = vec![0x16, 0x03, 0x01, 0x00, 0xc4, 0x01, 0x00, 0x00, 0xc0, 0x03, 0x03];
    hello.extend((0..190u32).map(|i| (i.wrapping_mul(2654435761) >> 11) as u8));
    let mut waiting = Vec::new();
    for addr in [cluster.sc_addr(), first_spu(&cluster)] {
        let mut client = RawClient::connect(addr).await;
        client.write_raw(&hello).await;
        waiting.push(client);
    }
    for client in &mut waiting {
        assert!(client.try_read_frame(std::time::Duration::from_millis(500)).await.is_none(), "no answer, no close");
        // More bytes are taken as more of that frame.
        client.write_raw(&[0u8; 4096]).await;
    }
    assert_healthy(&cluster).await;
    for client in &mut waiting {
        assert!(client.try_read_frame(std::time::Duration::from_millis(200)).await.is_none(), "still waiting");
    }
    cluster.shutdown().await;
}

#[tokio::test]
async fn disconnect_mid_request_and_mid_stream_is_harmless() {
    let (cluster, _dir) = seeded().await;
    for _ in 0..20 {
        let mut client = RawClient::connect(first_spu(&cluster)).await;
        let request = fluvio_wire::spu::StreamFetchRequest {
            topic: "keep".into(),
            max_bytes: 1 << 20,
            isolation: Isolation::ReadCommitted,
            ..Default::default()
        };
        client.send(&request).await;
        drop(client);
        let mut partial = RawClient::connect(cluster.sc_addr()).await;
        partial.write_raw(&[0, 0, 0, 40, 3, 235]).await;
        drop(partial);
    }
    assert_healthy(&cluster).await;
    cluster.shutdown().await;
}
