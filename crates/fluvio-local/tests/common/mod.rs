//! A raw protocol client for integration tests: it speaks frames directly so tests can check
//! exact server behaviour (flow control, error codes, malformed input).

#![allow(dead_code)]

// Only in test targets: it runs the command binary Cargo builds for them, which the example
// that shares this module (`examples/cluster_scaling.rs`) does not have.
#[cfg(test)]
pub mod command;
pub mod replicated;

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use fluvio_local::{ClusterConfig, LocalCluster};
use fluvio_wire::api::{RequestHeader, encode_request_frame, take_correlation_id};
use fluvio_wire::record::{RawBatch, Record, RecordSet};
use fluvio_wire::sc::{
    CommonCreateRequest, CreateObject, CreateRequest, DeleteRequest, ListFilters, ListRequest, ListResponse, Metadata,
    PartitionSpec, Status, TopicSpec,
};
use fluvio_wire::spu::{
    FetchOffsetPartition, FetchOffsetTopic, FetchOffsetsRequest, Isolation, PartitionProduceData,
    PartitionProduceResponse, ProduceAcks, ProduceRequest, ProduceResponse, StreamFetchRequest, StreamFetchResponse,
    TopicProduceData,
};
use fluvio_wire::{Compression, Decoder, FrameDecoder, Request};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Default wait for any single response in tests.
pub const WAIT: Duration = Duration::from_secs(10);

/// Starts a cluster with `spus` SPUs in a fresh temporary directory.
pub async fn cluster(spus: u16) -> (LocalCluster, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let cluster = LocalCluster::start(ClusterConfig::new(dir.path()).spus(spus)).await.expect("cluster starts");
    (cluster, dir)
}

/// One raw connection.
pub struct RawClient {
    stream: TcpStream,
    buf: BytesMut,
    next_correlation_id: i32,
}

impl RawClient {
    pub async fn connect(addr: impl tokio::net::ToSocketAddrs) -> Self {
        let stream = TcpStream::connect(addr).await.expect("connect");
        stream.set_nodelay(true).unwrap();
        Self { stream, buf: BytesMut::new(), next_correlation_id: 1 }
    }

    /// Sends a request at `version`; returns its correlation id.
    pub async fn send_at<R: Request>(&mut self, request: &R, version: i16) -> i32 {
        let correlation_id = self.next_correlation_id;
        self.next_correlation_id += 1;
        let header =
            RequestHeader { api_key: R::API_KEY, api_version: version, correlation_id, client_id: "raw-test".into() };
        let mut frame = BytesMut::new();
        encode_request_frame(&header, request, &mut frame).expect("encode");
        self.stream.write_all(&frame).await.expect("write");
        correlation_id
    }

    /// Sends a request encoded at its default version but announcing `announced` in the header.
    pub async fn send_claiming_version<R: Request>(&mut self, request: &R, announced: i16) {
        let header = RequestHeader {
            api_key: R::API_KEY,
            api_version: R::DEFAULT_VERSION,
            correlation_id: 1,
            client_id: "raw-test".into(),
        };
        let mut frame = BytesMut::new();
        encode_request_frame(&header, request, &mut frame).expect("encode");
        // Frame layout: length (4), api_key (2), api_version (2), ...
        frame[6..8].copy_from_slice(&announced.to_be_bytes());
        self.stream.write_all(&frame).await.expect("write");
    }

    /// Sends a request at its default version.
    pub async fn send<R: Request>(&mut self, request: &R) -> i32 {
        self.send_at(request, R::DEFAULT_VERSION).await
    }

    /// Writes raw bytes.
    pub async fn write_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.expect("write raw");
    }

    /// Reads one response frame; `None` if the server closed the connection.
    pub async fn read_frame(&mut self) -> Option<(i32, Bytes)> {
        let decoder = FrameDecoder::default();
        loop {
            if let Some(mut frame) = decoder.decode(&mut self.buf).expect("server frames are valid") {
                let correlation_id = take_correlation_id(&mut frame).expect("correlation id");
                return Some((correlation_id, frame));
            }
            let read = tokio::time::timeout(WAIT, self.stream.read_buf(&mut self.buf)).await.expect("response in time");
            match read {
                Ok(0) | Err(_) => return None,
                Ok(_) => {}
            }
        }
    }

    /// Reads a response frame within `wait`, or `None` if nothing arrives.
    pub async fn try_read_frame(&mut self, wait: Duration) -> Option<Option<(i32, Bytes)>> {
        tokio::time::timeout(wait, self.read_frame()).await.ok()
    }

    /// Reads and decodes the next response, expecting `correlation_id`.
    pub async fn recv<T: Decoder>(&mut self, correlation_id: i32, version: i16) -> T {
        let (id, body) = self.read_frame().await.expect("connection open");
        assert_eq!(id, correlation_id, "unexpected correlation id");
        T::decode_exact(body, version).expect("response decodes")
    }

    /// Sends a request and waits for its response.
    pub async fn call<R: Request>(&mut self, request: &R) -> R::Response {
        let id = self.send(request).await;
        self.recv(id, R::DEFAULT_VERSION).await
    }

    /// True if the server closes the connection within the wait (reads until EOF).
    pub async fn expect_closed(&mut self) -> bool {
        let deadline = tokio::time::Instant::now() + WAIT;
        let mut scratch = [0u8; 4096];
        loop {
            match tokio::time::timeout_at(deadline, self.stream.read(&mut scratch)).await {
                Err(_) => return false,
                Ok(Ok(0)) | Ok(Err(_)) => return true,
                Ok(Ok(_)) => continue,
            }
        }
    }
}

/// Creates a computed topic through the SC and returns the status.
pub async fn create_topic(sc: &mut RawClient, name: &str, spec: TopicSpec) -> Status {
    sc.call(&CreateRequest {
        common: CommonCreateRequest { name: name.into(), dry_run: false, timeout: None },
        object: CreateObject::Topic(spec),
    })
    .await
}

/// Deletes a topic through the SC.
pub async fn delete_topic(sc: &mut RawClient, name: &str) -> Status {
    sc.call(&DeleteRequest::Topic { name: name.into(), force: false }).await
}

/// A batch of `values` (keyless) with the given compression.
pub fn batch(values: &[&[u8]], compression: Compression) -> RawBatch {
    let records: Vec<Record> =
        values.iter().enumerate().map(|(i, v)| Record::new(None, Bytes::copy_from_slice(v), i as i64, 0)).collect();
    RawBatch::from_records(&records, compression, now_ms()).expect("batch")
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}

/// A produce request with one entry per batch, all to one partition.
pub fn produce_request(topic: &str, partition: u32, batches: &[RawBatch], isolation: Isolation) -> ProduceRequest {
    ProduceRequest {
        transactional_id: None,
        isolation: ProduceAcks(isolation),
        timeout_ms: 5000,
        topics: vec![TopicProduceData {
            name: topic.into(),
            partitions: batches
                .iter()
                .map(|b| PartitionProduceData {
                    partition_index: partition,
                    records: RecordSet::from_batches([b]).unwrap(),
                })
                .collect(),
        }],
        smartmodules: vec![],
    }
}

/// The single partition result of a one-entry produce response.
pub fn only_result(response: &ProduceResponse) -> &fluvio_wire::spu::PartitionProduceResponse {
    &response.responses[0].partitions[0]
}

/// The SPU address of the leader (single-SPU clusters).
pub fn first_spu(cluster: &LocalCluster) -> std::net::SocketAddr {
    cluster.spu_addrs()[0].1
}

/// `(log start, high watermark)` the SPU answers to FetchOffsets for `topic`-0.
pub async fn offsets(spu: &mut RawClient, topic: &str) -> (i64, i64) {
    let response = spu
        .call(&FetchOffsetsRequest {
            topics: vec![FetchOffsetTopic {
                name: topic.into(),
                partitions: vec![FetchOffsetPartition { partition_index: 0 }],
            }],
            consumer_id: None,
        })
        .await;
    let partition = &response.topics[0].partitions[0];
    assert!(partition.error_code.is_ok(), "{:?}", partition.error_code);
    (partition.start_offset, partition.last_stable_offset)
}

/// The segment log files of a partition directory, oldest first.
pub fn segment_files(partition_dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut logs: Vec<std::path::PathBuf> = std::fs::read_dir(partition_dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "log"))
        .collect();
    logs.sort();
    logs
}

/// Every partition, as the SC lists them.
pub async fn list_partitions(sc: &mut RawClient) -> Vec<Metadata<PartitionSpec>> {
    match sc.call(&ListRequest { label: "Partition".into(), filters: ListFilters::default() }).await {
        ListResponse::Partition(partitions) => partitions,
        other => panic!("unexpected list response {other:?}"),
    }
}

/// Every topic, as the SC lists them.
pub async fn list_topics(sc: &mut RawClient) -> Vec<Metadata<TopicSpec>> {
    match sc.call(&ListRequest { label: "Topic".into(), filters: ListFilters::default() }).await {
        ListResponse::Topic(topics) => topics,
        other => panic!("unexpected list response {other:?}"),
    }
}

/// Produces one batch of `values` to `topic`/`partition` on the SPU at `spu` (acknowledged on
/// commit) and returns the entry's result.
pub async fn produce_values(
    spu: std::net::SocketAddr,
    topic: &str,
    partition: u32,
    values: &[&[u8]],
) -> PartitionProduceResponse {
    let mut client = RawClient::connect(spu).await;
    let request = produce_request(topic, partition, &[batch(values, Compression::None)], Isolation::ReadCommitted);
    only_result(&client.call(&request).await).clone()
}

/// Opens a stream on `topic`/`partition` from `offset` and returns its first push.
pub async fn first_push(spu: std::net::SocketAddr, topic: &str, partition: u32, offset: i64) -> StreamFetchResponse {
    let mut client = RawClient::connect(spu).await;
    let request = StreamFetchRequest {
        topic: topic.into(),
        partition,
        fetch_offset: offset,
        max_bytes: 1 << 20,
        isolation: Isolation::ReadCommitted,
        ..Default::default()
    };
    let id = client.send(&request).await;
    client.recv(id, StreamFetchRequest::DEFAULT_VERSION).await
}

/// Creates topic `name` with one partition on `replicas` (the first leads).
pub async fn assigned_topic(sc: &mut RawClient, name: &str, replicas: &[i32]) {
    use fluvio_wire::sc::topic::{PartitionMap, ReplicaSpec};
    let spec = TopicSpec {
        replicas: ReplicaSpec::Assigned(vec![PartitionMap { id: 0, replicas: replicas.to_vec(), mirror: None }]),
        ..Default::default()
    };
    let status = create_topic(sc, name, spec).await;
    assert!(status.error_code.is_ok(), "{status:?}");
}
