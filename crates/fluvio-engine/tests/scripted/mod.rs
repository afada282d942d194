//! A scripted Fluvio cluster, for what the embedded cluster cannot do on demand: an SC whose
//! metadata the test sets (leaders, leaderless partitions, a watch that lags behind List),
//! and SPUs that can be told to refuse as "not the leader", to drop connections at chosen
//! moments, and that record every request they receive.
//!
//! The SPUs share one log per partition, as perfectly replicated followers would, so a new
//! leader serves what the old one appended. Produce follows the idempotence contract of
//! fluvio-local: a batch with a producer id >= 0 whose first sequence and record count match
//! one of the last 16 batches appended for that (partition, producer id) is not appended again,
//! and its partition entry is answered with the original base offset.

#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use fluvio_wire::api::{API_VERSIONS_KEY, ApiVersionKey, ApiVersionsResponse, RequestHeader, encode_response_frame};
use fluvio_wire::record::{RawBatch, RecordSet};
use fluvio_wire::sc::partition::{PartitionResolution, PartitionStatus, ReplicaStatus, partition_name};
use fluvio_wire::sc::spu::{EncryptionType, IngressAddr, IngressPort, SpuStatus, SpuStatusResolution, SpuType};
use fluvio_wire::sc::topic::{TopicResolution, TopicStatus};
use fluvio_wire::sc::{
    ListRequest, ListResponse, Metadata, MetadataUpdate, PartitionSpec, SpuSpec, TopicSpec, WatchRequest,
    WatchResponse, labels,
};
use fluvio_wire::spu::{
    FetchOffsetPartitionResponse, FetchOffsetTopicResponse, FetchOffsetsRequest, FetchOffsetsResponse,
    FetchablePartitionResponse, OffsetUpdateStatus, PartitionProduceResponse, ProduceRequest, ProduceResponse,
    StreamFetchRequest, StreamFetchResponse, TopicProduceResponse, UpdateOffsetsRequest, UpdateOffsetsResponse,
};
use fluvio_wire::{Decoder, Encoder, ErrorCode, FrameDecoder, Version, sc, spu};
use parking_lot::Mutex;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// Batches remembered per (partition, producer id) for deduplication.
pub const DEDUP_WINDOW: usize = 16;

/// What an SPU does with the next produce request it receives (then it answers normally).
#[derive(Debug, Clone)]
pub enum ProduceStep {
    /// Answers every partition entry with this error, appending nothing.
    Refuse(ErrorCode),
    /// Closes the connection without appending or answering.
    DropBeforeAppend,
    /// Appends, then closes the connection without answering: the answer is lost.
    DropAfterAppend,
    /// Answers every partition entry with `code`, appending nothing, and hands the
    /// partitions' leadership to SPU `to`: the SPU learnt first that it lost the partition.
    RefuseThenMove {
        /// The refusal.
        code: ErrorCode,
        /// The new leader.
        to: i32,
    },
    /// Appends, hands the partition's leadership to SPU `to` (the log replicated, as after
    /// an election) and closes the connection without answering: the leader died between
    /// appending and answering.
    AppendThenFailOver {
        /// The new leader.
        to: i32,
    },
}

/// A produce request as an SPU received it.
#[derive(Debug, Clone)]
pub struct SeenProduce {
    /// The SPU.
    pub spu: i32,
    /// The request.
    pub request: ProduceRequest,
}

impl SeenProduce {
    /// The records of every partition entry, as sent.
    pub fn entries(&self) -> Vec<(u32, RecordSet)> {
        self.request
            .topics
            .iter()
            .flat_map(|t| t.partitions.iter().map(|p| (p.partition_index, p.records.clone())))
            .collect()
    }
}

/// One stored batch.
#[derive(Debug, Clone)]
struct Stored {
    base_offset: i64,
    count: i64,
    bytes: Bytes,
}

#[derive(Default)]
struct PartitionState {
    leader: i32,
    resolution: PartitionResolution,
    log: Vec<Stored>,
    /// Per producer id: (first sequence, record count, base offset), oldest first.
    appended: HashMap<i64, VecDeque<(i32, i32, i64)>>,
}

impl PartitionState {
    fn leo(&self) -> i64 {
        self.log.last().map_or(0, |b| b.base_offset + b.count)
    }
}

struct SpuSlot {
    addr: SocketAddr,
    /// Cancelled to drop every connection of the SPU; replaced afterwards.
    connections: CancellationToken,
    /// When set, the SPU answers as a non-leader whatever the SC says.
    refusing: Option<ErrorCode>,
    /// When set, the SPU closes a connection as soon as it receives a StreamFetch.
    drops_streams: bool,
    produce_steps: VecDeque<ProduceStep>,
    stream_fetches: usize,
    produces: usize,
}

struct State {
    topic: String,
    partitions: Vec<PartitionState>,
    spus: BTreeMap<i32, SpuSlot>,
    seen_produces: Vec<SeenProduce>,
    seen_stream_fetches: Vec<(i32, StreamFetchRequest)>,
}

struct Shared {
    state: Mutex<State>,
    /// Bumped on every change; SPU sessions re-check leadership and data on it.
    changed: watch::Sender<u64>,
    /// Bumped when the SC's watch streams must push the metadata; held while frozen.
    metadata: watch::Sender<u64>,
    frozen: Mutex<bool>,
}

impl Shared {
    fn bump(&self) {
        self.changed.send_modify(|v| *v += 1);
    }

    fn push_metadata(&self) {
        self.bump();
        if !*self.frozen.lock() {
            self.metadata.send_modify(|v| *v += 1);
        }
    }
}

/// A scripted SC and SPUs on 127.0.0.1 ports chosen by the OS, stopped when dropped.
pub struct ScriptedCluster {
    shared: Arc<Shared>,
    sc_addr: SocketAddr,
    tasks: JoinSet<()>,
}

/// The first SPU id.
pub const FIRST_SPU: i32 = 5001;

impl ScriptedCluster {
    /// A cluster with one topic of `partitions` partitions over `spus` SPUs (ids 5001, 5002,
    /// ...); every partition is led by the first SPU.
    pub async fn start(topic: &str, partitions: u32, spus: usize) -> Self {
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                topic: topic.to_string(),
                partitions: (0..partitions)
                    .map(|_| PartitionState {
                        leader: FIRST_SPU,
                        resolution: PartitionResolution::Online,
                        ..PartitionState::default()
                    })
                    .collect(),
                spus: BTreeMap::new(),
                seen_produces: Vec::new(),
                seen_stream_fetches: Vec::new(),
            }),
            changed: watch::Sender::new(0),
            metadata: watch::Sender::new(0),
            frozen: Mutex::new(false),
        });
        let mut tasks = JoinSet::new();
        for i in 0..spus {
            let id = FIRST_SPU + i as i32;
            let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
            let addr = listener.local_addr().expect("local addr");
            shared.state.lock().spus.insert(
                id,
                SpuSlot {
                    addr,
                    connections: CancellationToken::new(),
                    refusing: None,
                    drops_streams: false,
                    produce_steps: VecDeque::new(),
                    stream_fetches: 0,
                    produces: 0,
                },
            );
            tasks.spawn(accept_spu(listener, id, shared.clone()));
        }
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let sc_addr = listener.local_addr().expect("local addr");
        tasks.spawn(accept_sc(listener, shared.clone()));
        Self { shared, sc_addr, tasks }
    }

    /// The SC's `127.0.0.1:port`.
    pub fn sc_endpoint(&self) -> String {
        self.sc_addr.to_string()
    }

    /// Makes `leader` (`-1`: none) lead `partition`, with `resolution`; published on the
    /// watch unless it is frozen, and on List at once.
    pub fn set_leader(&self, partition: u32, leader: i32, resolution: PartitionResolution) {
        {
            let mut state = self.shared.state.lock();
            let p = &mut state.partitions[partition as usize];
            p.leader = leader;
            p.resolution = resolution;
        }
        self.shared.push_metadata();
    }

    /// Makes `leader` lead `partition`, online.
    pub fn move_leader(&self, partition: u32, leader: i32) {
        self.set_leader(partition, leader, PartitionResolution::Online);
    }

    /// The leader of `partition` as the SC has it.
    pub fn leader(&self, partition: u32) -> i32 {
        self.shared.state.lock().partitions[partition as usize].leader
    }

    /// Holds back watch messages (List still tells the truth): the client's cache lags.
    pub fn freeze_watch(&self) {
        *self.shared.frozen.lock() = true;
    }

    /// Sends the current metadata on every watch and lets later changes through.
    pub fn thaw_watch(&self) {
        *self.shared.frozen.lock() = false;
        self.shared.metadata.send_modify(|v| *v += 1);
    }

    /// Makes `spu` answer produce and stream requests (and push to its open streams) as a
    /// non-leader with `code`, whatever the SC says; `None` ends that.
    pub fn refuse(&self, spu: i32, code: Option<ErrorCode>) {
        self.shared.state.lock().spus.get_mut(&spu).expect("known SPU").refusing = code;
        self.shared.bump();
    }

    /// Makes `spu` close a connection as soon as a StreamFetch arrives on it.
    pub fn drop_streams(&self, spu: i32, drop: bool) {
        self.shared.state.lock().spus.get_mut(&spu).expect("known SPU").drops_streams = drop;
    }

    /// Queues what `spu` does with its next produce requests.
    pub fn script_produce(&self, spu: i32, steps: impl IntoIterator<Item = ProduceStep>) {
        self.shared.state.lock().spus.get_mut(&spu).expect("known SPU").produce_steps.extend(steps);
    }

    /// Closes every open connection of `spu` (it keeps accepting new ones).
    pub fn drop_connections(&self, spu: i32) {
        let mut state = self.shared.state.lock();
        let slot = state.spus.get_mut(&spu).expect("known SPU");
        let old = std::mem::replace(&mut slot.connections, CancellationToken::new());
        old.cancel();
    }

    /// Every produce request received so far, in order.
    pub fn produces(&self) -> Vec<SeenProduce> {
        self.shared.state.lock().seen_produces.clone()
    }

    /// Produce requests `spu` received.
    pub fn produce_count(&self, spu: i32) -> usize {
        self.shared.state.lock().spus[&spu].produces
    }

    /// StreamFetch requests `spu` received.
    pub fn stream_fetch_count(&self, spu: i32) -> usize {
        self.shared.state.lock().spus[&spu].stream_fetches
    }

    /// Every StreamFetch request received so far: SPU and request.
    pub fn stream_fetches(&self) -> Vec<(i32, StreamFetchRequest)> {
        self.shared.state.lock().seen_stream_fetches.clone()
    }

    /// The stored batches of `partition`, with their base offsets, in order.
    pub fn stored(&self, partition: u32) -> Vec<RawBatch> {
        let state = self.shared.state.lock();
        state.partitions[partition as usize]
            .log
            .iter()
            .map(|b| RawBatch::decode_from(&mut b.bytes.clone()).expect("stored batch decodes"))
            .collect()
    }

    /// Appends `count` single-record batches ("v<offset>") to `partition`, as a producer
    /// without idempotence would.
    pub fn append_records(&self, partition: u32, count: usize) {
        {
            let mut state = self.shared.state.lock();
            let p = &mut state.partitions[partition as usize];
            for _ in 0..count {
                let offset = p.leo();
                let record = fluvio_wire::Record::new(None, Bytes::from(format!("v{offset}")), 0, 0);
                let batch = RawBatch::from_records(&[record], fluvio_wire::Compression::None, 1).expect("batch");
                let mut bytes = BytesMut::new();
                batch.encode_to(&mut bytes).expect("encode");
                store(p, bytes.freeze(), 1);
            }
        }
        self.shared.bump();
    }

    /// Appends to `partition` a batch of `count` records of which the SPUs store, and push,
    /// only the first `present` bytes, under a header declaring `declared_len` bytes in all:
    /// what a server that cuts a batch short for ever, or announces a huge one, sends.
    pub fn append_cut_batch(&self, partition: u32, count: usize, present: usize, declared_len: usize) {
        {
            let mut state = self.shared.state.lock();
            let p = &mut state.partitions[partition as usize];
            let records: Vec<fluvio_wire::Record> =
                (0..count).map(|i| fluvio_wire::Record::new(None, Bytes::from(vec![b'c'; 100]), i as i64, 0)).collect();
            let batch = RawBatch::from_records(&records, fluvio_wire::Compression::None, 1).expect("batch");
            let mut bytes = BytesMut::new();
            batch.encode_to(&mut bytes).expect("encode");
            bytes[8..12].copy_from_slice(&(declared_len as i32 - 12).to_be_bytes());
            bytes.truncate(present);
            store(p, bytes.freeze(), count as i64);
        }
        self.shared.bump();
    }
}

impl Drop for ScriptedCluster {
    fn drop(&mut self) {
        for slot in self.shared.state.lock().spus.values() {
            slot.connections.cancel();
        }
        self.tasks.abort_all();
    }
}

/// Appends an encoded batch of `count` records at the log end; returns its base offset.
fn store(p: &mut PartitionState, mut bytes: Bytes, count: i64) -> i64 {
    let base_offset = p.leo();
    let mut owned = BytesMut::from(&bytes[..]);
    owned[..8].copy_from_slice(&base_offset.to_be_bytes());
    bytes = owned.freeze();
    p.log.push(Stored { base_offset, count, bytes });
    base_offset
}

fn key(api_key: u16, min_version: i16, max_version: i16) -> ApiVersionKey {
    ApiVersionKey { api_key: api_key as i16, min_version, max_version }
}

/// Writes whole frames; shared by a connection's request handler and its stream tasks.
#[derive(Clone)]
struct Sink(Arc<tokio::sync::Mutex<OwnedWriteHalf>>);

impl Sink {
    async fn send<T: Encoder>(&self, correlation_id: i32, body: &T, version: Version) -> bool {
        let mut frame = BytesMut::new();
        encode_response_frame(correlation_id, body, version, &mut frame).expect("encode response");
        self.0.lock().await.write_all(&frame).await.is_ok()
    }
}

/// Reads request frames from `stream` and hands each to `handle` until the connection
/// closes or `stop` is cancelled.
async fn serve<F, Fut>(stream: TcpStream, stop: CancellationToken, mut handle: F)
where
    F: FnMut(RequestHeader, Bytes, Sink) -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let _ = stream.set_nodelay(true);
    let (mut reader, writer) = stream.into_split();
    let sink = Sink(Arc::new(tokio::sync::Mutex::new(writer)));
    let decoder = FrameDecoder::default();
    let mut buf = BytesMut::new();
    loop {
        while let Ok(Some(mut frame)) = decoder.decode(&mut buf) {
            let Ok(header) = RequestHeader::decode_from_frame(&mut frame) else { return };
            if !handle(header, frame, sink.clone()).await {
                return;
            }
        }
        tokio::select! {
            read = reader.read_buf(&mut buf) => match read {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            },
            _ = stop.cancelled() => return,
        }
    }
}

async fn accept_sc(listener: TcpListener, shared: Arc<Shared>) {
    let mut connections = JoinSet::new();
    loop {
        let Ok((stream, _)) = listener.accept().await else { return };
        let shared = shared.clone();
        connections.spawn(async move {
            let streams = Arc::new(Mutex::new(JoinSet::new()));
            serve(stream, CancellationToken::new(), |header, body, sink| {
                let shared = shared.clone();
                let streams = streams.clone();
                async move { handle_sc(&shared, header, body, sink, &streams).await }
            })
            .await;
        });
    }
}

async fn handle_sc(
    shared: &Arc<Shared>,
    header: RequestHeader,
    mut body: Bytes,
    sink: Sink,
    streams: &Mutex<JoinSet<()>>,
) -> bool {
    let (id, version) = (header.correlation_id, header.api_version);
    match header.api_key {
        API_VERSIONS_KEY => {
            let response = ApiVersionsResponse {
                error_code: ErrorCode::None,
                api_keys: vec![
                    key(sc::keys::CREATE, 11, 19),
                    key(sc::keys::DELETE, 11, 19),
                    key(sc::keys::LIST, 11, 19),
                    key(sc::keys::WATCH, 11, 19),
                    key(sc::keys::UPDATE, 11, 19),
                ],
                platform_version: "0.18.2".into(),
            };
            sink.send(id, &response, version).await
        }
        sc::keys::LIST => {
            let Ok(request) = ListRequest::decode(&mut body, version) else { return false };
            let response = match request.label.as_str() {
                labels::TOPIC => ListResponse::Topic(topics(shared)),
                labels::PARTITION => ListResponse::Partition(partitions(shared)),
                labels::SPU => ListResponse::Spu(spus(shared)),
                other => ListResponse::empty(other),
            };
            sink.send(id, &response, version).await
        }
        sc::keys::WATCH => {
            let Ok(request) = WatchRequest::decode(&mut body, version) else { return false };
            let shared = shared.clone();
            streams.lock().spawn(async move {
                let mut pushes = shared.metadata.subscribe();
                loop {
                    let message = match request.label.as_str() {
                        labels::TOPIC => WatchResponse::Topic(full(topics(&shared))),
                        labels::PARTITION => WatchResponse::Partition(full(partitions(&shared))),
                        labels::SPU => WatchResponse::Spu(full(spus(&shared))),
                        other => WatchResponse::empty(other, 1),
                    };
                    pushes.borrow_and_update();
                    if !sink.send(id, &message, version).await {
                        return;
                    }
                    if pushes.changed().await.is_err() {
                        return;
                    }
                }
            });
            true
        }
        _ => true,
    }
}

fn full<S: fluvio_wire::sc::Spec>(all: Vec<Metadata<S>>) -> MetadataUpdate<S> {
    MetadataUpdate { epoch: 1, changes: Vec::new(), all }
}

fn topics(shared: &Shared) -> Vec<Metadata<TopicSpec>> {
    let state = shared.state.lock();
    let count = state.partitions.len() as u32;
    vec![Metadata {
        name: state.topic.clone(),
        spec: TopicSpec::computed(count, 1),
        status: TopicStatus {
            resolution: TopicResolution::Provisioned,
            replica_map: state.partitions.iter().enumerate().map(|(i, p)| (i as u32, vec![p.leader])).collect(),
            ..TopicStatus::default()
        },
    }]
}

fn partitions(shared: &Shared) -> Vec<Metadata<PartitionSpec>> {
    let state = shared.state.lock();
    let replicas: Vec<i32> = state.spus.keys().copied().collect();
    state
        .partitions
        .iter()
        .enumerate()
        .map(|(i, p)| Metadata {
            name: partition_name(&state.topic, i as u32),
            spec: PartitionSpec { leader: p.leader, replicas: replicas.clone(), ..PartitionSpec::default() },
            status: PartitionStatus {
                resolution: p.resolution,
                leader: ReplicaStatus { spu: p.leader, hw: -1, leo: -1 },
                ..PartitionStatus::default()
            },
        })
        .collect()
}

fn spus(shared: &Shared) -> Vec<Metadata<SpuSpec>> {
    let state = shared.state.lock();
    state
        .spus
        .iter()
        .map(|(id, slot)| Metadata {
            name: format!("custom-spu-{id}"),
            spec: SpuSpec {
                id: *id,
                spu_type: SpuType::Custom,
                public_endpoint: IngressPort {
                    port: slot.addr.port(),
                    ingress: vec![IngressAddr { hostname: Some("127.0.0.1".into()), ip: None }],
                    encryption: EncryptionType::Plaintext,
                },
                ..SpuSpec::default()
            },
            status: SpuStatus { resolution: SpuStatusResolution::Online },
        })
        .collect()
}

async fn accept_spu(listener: TcpListener, id: i32, shared: Arc<Shared>) {
    let mut connections = JoinSet::new();
    loop {
        let Ok((stream, _)) = listener.accept().await else { return };
        let stop = shared.state.lock().spus[&id].connections.clone();
        let shared = shared.clone();
        connections.spawn(async move {
            let sessions: Arc<Mutex<HashMap<u32, mpsc::UnboundedSender<i64>>>> = Arc::default();
            let tasks = Arc::new(Mutex::new(JoinSet::new()));
            let next_stream_id = Arc::new(std::sync::atomic::AtomicU32::new(1));
            let conn_stop = stop.clone();
            serve(stream, stop, |header, body, sink| {
                let connection = SpuConnection {
                    id,
                    shared: shared.clone(),
                    sessions: sessions.clone(),
                    tasks: tasks.clone(),
                    next_stream_id: next_stream_id.clone(),
                    stop: conn_stop.clone(),
                };
                async move { connection.handle(header, body, sink).await }
            })
            .await;
            // Dropping the tasks ends this connection's stream sessions.
            tasks.lock().abort_all();
        });
    }
}

struct SpuConnection {
    id: i32,
    shared: Arc<Shared>,
    sessions: Arc<Mutex<HashMap<u32, mpsc::UnboundedSender<i64>>>>,
    tasks: Arc<Mutex<JoinSet<()>>>,
    next_stream_id: Arc<std::sync::atomic::AtomicU32>,
    stop: CancellationToken,
}

impl SpuConnection {
    /// Whether this SPU may serve `partition` now, or the error it answers instead.
    fn leads(&self, state: &State, partition: u32) -> Result<(), ErrorCode> {
        if let Some(code) = &state.spus[&self.id].refusing {
            return Err(code.clone());
        }
        match state.partitions.get(partition as usize) {
            Some(p) if p.leader == self.id => Ok(()),
            _ => Err(ErrorCode::NotLeaderForPartition),
        }
    }

    async fn handle(self, header: RequestHeader, mut body: Bytes, sink: Sink) -> bool {
        let (id, version) = (header.correlation_id, header.api_version);
        match header.api_key {
            API_VERSIONS_KEY => {
                let response = ApiVersionsResponse {
                    error_code: ErrorCode::None,
                    api_keys: vec![
                        key(spu::keys::PRODUCE, 0, 25),
                        key(spu::keys::FETCH_OFFSETS, 0, 25),
                        key(spu::keys::STREAM_FETCH, 0, 25),
                        key(spu::keys::UPDATE_OFFSETS, 0, 0),
                    ],
                    platform_version: "0.0.0".into(),
                };
                sink.send(id, &response, version).await
            }
            spu::keys::PRODUCE => {
                let Ok(request) = ProduceRequest::decode(&mut body, version) else { return false };
                let step = {
                    let mut state = self.shared.state.lock();
                    state.seen_produces.push(SeenProduce { spu: self.id, request: request.clone() });
                    let slot = state.spus.get_mut(&self.id).expect("known SPU");
                    slot.produces += 1;
                    slot.produce_steps.pop_front()
                };
                let response = match step {
                    Some(ProduceStep::DropBeforeAppend) => return false,
                    Some(ProduceStep::Refuse(code)) => answer_all(&request, code),
                    Some(ProduceStep::DropAfterAppend) => {
                        self.append(&request);
                        self.shared.bump();
                        return false;
                    }
                    Some(ProduceStep::RefuseThenMove { code, to }) => {
                        self.move_partitions(&request, to);
                        answer_all(&request, code)
                    }
                    Some(ProduceStep::AppendThenFailOver { to }) => {
                        self.append(&request);
                        self.move_partitions(&request, to);
                        return false;
                    }
                    None => self.append(&request),
                };
                self.shared.bump();
                sink.send(id, &response, version).await
            }
            spu::keys::FETCH_OFFSETS => {
                let Ok(request) = FetchOffsetsRequest::decode(&mut body, version) else { return false };
                let topics = {
                    let state = self.shared.state.lock();
                    request
                        .topics
                        .iter()
                        .map(|t| FetchOffsetTopicResponse {
                            name: t.name.clone(),
                            partitions: t
                                .partitions
                                .iter()
                                .map(|p| {
                                    let (error_code, leo) = match self.leads(&state, p.partition_index) {
                                        Ok(()) => (ErrorCode::None, state.partitions[p.partition_index as usize].leo()),
                                        Err(_) => (ErrorCode::PartitionNotLeader, -1),
                                    };
                                    FetchOffsetPartitionResponse {
                                        error_code,
                                        partition_index: p.partition_index,
                                        start_offset: 0,
                                        last_stable_offset: leo,
                                    }
                                })
                                .collect(),
                        })
                        .collect()
                };
                sink.send(id, &FetchOffsetsResponse { topics }, version).await
            }
            spu::keys::STREAM_FETCH => {
                let Ok(request) = StreamFetchRequest::decode(&mut body, version) else { return false };
                let refusal = {
                    let mut state = self.shared.state.lock();
                    state.seen_stream_fetches.push((self.id, request.clone()));
                    let slot = state.spus.get_mut(&self.id).expect("known SPU");
                    slot.stream_fetches += 1;
                    if slot.drops_streams {
                        return false;
                    }
                    self.leads(&state, request.partition).err()
                };
                if let Some(code) = refusal {
                    // As the official SPU: one error push with stream id 0, then silence.
                    return sink.send(id, &push(&request, 0, code, Vec::new()), version).await;
                }
                let stream_id = self.next_stream_id.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let (acks_tx, acks) = mpsc::unbounded_channel();
                self.sessions.lock().insert(stream_id, acks_tx);
                let session = Session {
                    connection: SpuConnection {
                        id: self.id,
                        shared: self.shared.clone(),
                        sessions: self.sessions.clone(),
                        tasks: self.tasks.clone(),
                        next_stream_id: self.next_stream_id.clone(),
                        stop: self.stop.clone(),
                    },
                    request,
                    stream_id,
                    correlation_id: id,
                    version,
                    sink,
                    acks,
                };
                self.tasks.lock().spawn(session.run());
                true
            }
            spu::keys::UPDATE_OFFSETS => {
                let Ok(request) = UpdateOffsetsRequest::decode(&mut body, version) else { return false };
                let mut status = Vec::new();
                for update in &request.offsets {
                    let known = self.sessions.lock().get(&update.session_id).map(|tx| tx.send(update.offset).is_ok());
                    status.push(OffsetUpdateStatus {
                        session_id: update.session_id,
                        error: if known == Some(true) { ErrorCode::None } else { ErrorCode::FetchSessionNotFound },
                    });
                }
                sink.send(id, &UpdateOffsetsResponse { status }, version).await
            }
            _ => true,
        }
    }

    /// Makes `to` lead every partition `request` names, and publishes it.
    fn move_partitions(&self, request: &ProduceRequest, to: i32) {
        {
            let mut state = self.shared.state.lock();
            for entry in request.topics.iter().flat_map(|t| &t.partitions) {
                let p = &mut state.partitions[entry.partition_index as usize];
                p.leader = to;
                p.resolution = PartitionResolution::Online;
            }
        }
        self.shared.push_metadata();
    }

    /// Appends every entry this SPU leads (with deduplication) and answers each in order.
    fn append(&self, request: &ProduceRequest) -> ProduceResponse {
        let mut state = self.shared.state.lock();
        let responses = request
            .topics
            .iter()
            .map(|topic| TopicProduceResponse {
                name: topic.name.clone(),
                partitions: topic
                    .partitions
                    .iter()
                    .map(|entry| {
                        let (error_code, base_offset) = match self.leads(&state, entry.partition_index) {
                            Err(code) => (code, -1),
                            Ok(()) => {
                                append_entry(&mut state.partitions[entry.partition_index as usize], &entry.records)
                            }
                        };
                        PartitionProduceResponse {
                            partition_index: entry.partition_index,
                            error_code,
                            base_offset,
                            log_append_time_ms: 0,
                            log_start_offset: 0,
                        }
                    })
                    .collect(),
            })
            .collect();
        ProduceResponse { responses, throttle_time_ms: 0 }
    }
}

/// Appends the batches of one partition entry; answers with the base offset of its first
/// batch (the original one for a duplicate).
fn append_entry(p: &mut PartitionState, records: &RecordSet) -> (ErrorCode, i64) {
    let Ok(batches) = records.batches() else { return (ErrorCode::Other("undecodable batch".into()), -1) };
    let mut first_base = None;
    for batch in batches {
        let h = batch.header;
        let count = h.last_offset_delta + 1;
        let remembered = (h.producer_id >= 0)
            .then(|| p.appended.get(&h.producer_id))
            .flatten()
            .and_then(|seen| seen.iter().find(|(seq, n, _)| *seq == h.first_sequence && *n == count))
            .map(|(_, _, base)| *base);
        let base = match remembered {
            Some(base) => base,
            None => {
                let mut bytes = BytesMut::new();
                batch.encode_to(&mut bytes).expect("re-encode");
                let base = store(p, bytes.freeze(), i64::from(count));
                if h.producer_id >= 0 {
                    let seen = p.appended.entry(h.producer_id).or_default();
                    seen.push_back((h.first_sequence, count, base));
                    if seen.len() > DEDUP_WINDOW {
                        seen.pop_front();
                    }
                }
                base
            }
        };
        first_base.get_or_insert(base);
    }
    (ErrorCode::None, first_base.unwrap_or(0))
}

fn answer_all(request: &ProduceRequest, code: ErrorCode) -> ProduceResponse {
    ProduceResponse {
        responses: request
            .topics
            .iter()
            .map(|topic| TopicProduceResponse {
                name: topic.name.clone(),
                partitions: topic
                    .partitions
                    .iter()
                    .map(|entry| PartitionProduceResponse {
                        partition_index: entry.partition_index,
                        error_code: code.clone(),
                        base_offset: -1,
                        log_append_time_ms: 0,
                        log_start_offset: 0,
                    })
                    .collect(),
            })
            .collect(),
        throttle_time_ms: 0,
    }
}

fn push(
    request: &StreamFetchRequest,
    stream_id: u32,
    error_code: ErrorCode,
    batches: Vec<Bytes>,
) -> StreamFetchResponse {
    let mut records = BytesMut::new();
    for batch in batches {
        records.extend_from_slice(&batch);
    }
    StreamFetchResponse {
        topic: request.topic.clone(),
        stream_id,
        partition: FetchablePartitionResponse {
            partition_index: request.partition,
            error_code,
            high_watermark: -1,
            next_filter_offset: 0,
            log_start_offset: 0,
            aborted: None,
            records: RecordSet::from_encoded(records.freeze()),
        },
    }
}

/// One StreamFetch session: pushes whole batches from the offset asked, waits for each
/// acknowledgement, and when the SPU stops leading the partition pushes "not the leader"
/// once and falls silent, as the official SPU's sessions do.
struct Session {
    connection: SpuConnection,
    request: StreamFetchRequest,
    stream_id: u32,
    correlation_id: i32,
    version: Version,
    sink: Sink,
    acks: mpsc::UnboundedReceiver<i64>,
}

impl Session {
    async fn run(mut self) {
        let mut changes = self.connection.shared.changed.subscribe();
        let mut next = self.request.fetch_offset;
        loop {
            changes.borrow_and_update();
            let refused = {
                let state = self.connection.shared.state.lock();
                self.connection.leads(&state, self.request.partition).err()
            };
            if let Some(code) = refused {
                let refusal = push(&self.request, self.stream_id, code, Vec::new());
                self.sink.send(self.correlation_id, &refusal, self.version).await;
                return;
            }
            let batches = {
                let state = self.connection.shared.state.lock();
                let p = &state.partitions[self.request.partition as usize];
                let mut size = 0;
                let mut batches = Vec::new();
                for batch in p.log.iter().filter(|b| b.base_offset + b.count > next) {
                    if !batches.is_empty() && size + batch.bytes.len() > self.request.max_bytes.max(0) as usize {
                        break;
                    }
                    size += batch.bytes.len();
                    batches.push(batch.bytes.clone());
                }
                batches
            };
            if batches.is_empty() {
                tokio::select! {
                    changed = changes.changed() => if changed.is_err() { return },
                    ack = self.acks.recv() => match ack {
                        Some(offset) => next = offset,
                        None => return,
                    },
                }
                continue;
            }
            let response = push(&self.request, self.stream_id, ErrorCode::None, batches);
            if !self.sink.send(self.correlation_id, &response, self.version).await {
                return;
            }
            // Flow control; a leadership change meanwhile is noticed after the next ack.
            loop {
                tokio::select! {
                    ack = self.acks.recv() => match ack {
                        Some(offset) => {
                            next = offset;
                            break;
                        }
                        None => return,
                    },
                    changed = changes.changed() => {
                        if changed.is_err() {
                            return;
                        }
                        let refused = {
                            let state = self.connection.shared.state.lock();
                            self.connection.leads(&state, self.request.partition).err()
                        };
                        if let Some(code) = refused {
                            let refusal = push(&self.request, self.stream_id, code, Vec::new());
                            self.sink.send(self.correlation_id, &refusal, self.version).await;
                            return;
                        }
                    }
                }
            }
        }
    }
}
