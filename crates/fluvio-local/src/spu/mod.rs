//! The SPU: serves Produce, FetchOffsets, StreamFetch and UpdateOffsets for the partitions it
//! leads, and the consumer-offset requests (`consumer_offsets.rs`), replicates the partitions
//! it follows from their leaders over the SPUs' private endpoints, and stores each replica's
//! log under its data directory.

mod consumer_offsets;
mod damage;
mod fetch;
mod follower;
mod offsets;
mod peer;
mod private;
mod produce;
mod producers;
mod replica;

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use fluvio_wire::api::{ApiVersionKey, ApiVersionsRequest, ApiVersionsResponse, RequestHeader};
use fluvio_wire::consumer_offset::{
    DeleteConsumerOffsetRequest, DeleteConsumerOffsetResponse, FetchConsumerOffsetsRequest,
    FetchConsumerOffsetsResponse, OffsetKey, UpdateConsumerOffsetRequest, UpdateConsumerOffsetResponse,
};
use fluvio_wire::error_code::{ErrorCode, ReplicaKey};
use fluvio_wire::spu::{
    FetchOffsetPartitionResponse, FetchOffsetTopicResponse, FetchOffsetsRequest, FetchOffsetsResponse,
    OffsetUpdateStatus, ProduceRequest, StreamFetchRequest, UpdateOffsetsRequest, UpdateOffsetsResponse, keys,
};
use fluvio_wire::{Request, api};
use parking_lot::RwLock;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::control::{NO_LEADER, ReplicaAssignment, ReplicaFailure, ReplicaReport, ScToSpu, SpuLink, SpuToSc};
use crate::lock::DirectoryLock;
use crate::net::{self, CloseReason, FrameSink, RequestHandler};
use crate::storage;
use crate::tasks::TaskGroup;
use crate::view::ViewReceiver;
use consumer_offsets::StreamOwner;
use private::PrivateConnection;
use replica::Replica;
pub(crate) use replica::ReplicationSettings;

/// How often replica offsets are reported to the SC (when they changed) and the in-sync
/// replica sets are checked: as often as the official SPU sends its replica status (its
/// leader's offsets and its followers', which the official SC's election compares).
const REPORT_INTERVAL: Duration = Duration::from_millis(400);
/// Free space (bytes) that ends a partition's `OutOfStorage` state without waiting for a
/// successful append: room for a few full batches.
const FREE_SPACE_TO_RESUME: u64 = 8 * 1024 * 1024;
/// How long a graceful stop waits for in-flight work before aborting what is left (a client
/// that stopped reading can hold a connection's writer forever).
const STOP_GRACE: Duration = Duration::from_secs(5);

/// Limits an SPU enforces on produced batches and on connections.
#[derive(Debug, Clone)]
pub(crate) struct SpuLimits {
    /// Largest batch accepted. The official SPU checks each batch against its
    /// `max_request_size` (default 32 MiB); its `max_batch_size` setting (2 MiB) is not
    /// enforced on produce.
    pub max_batch_bytes: usize,
    /// Largest decompressed records area accepted while validating.
    pub max_decompressed: usize,
    /// What the public listener allows each connection (the private one has no idle timeout:
    /// a follower may wait long between fetches).
    pub connections: net::ConnectionLimits,
}

impl SpuLimits {
    /// The default batch limits with `connections`.
    pub(crate) fn new(connections: net::ConnectionLimits) -> Self {
        Self {
            max_batch_bytes: 32 * 1024 * 1024,
            max_decompressed: fluvio_wire::compression::DEFAULT_MAX_DECOMPRESSED,
            connections,
        }
    }
}

/// An in-sync replica change a leader proposes, forwarded to the SC by the control loop.
struct IsrProposal {
    key: ReplicaKey,
    epoch: i32,
    isr: Vec<i32>,
    reply: oneshot::Sender<bool>,
}

/// State shared by an SPU's connections and background tasks.
pub(crate) struct SpuState {
    id: i32,
    data_dir: PathBuf,
    limits: SpuLimits,
    replication: ReplicationSettings,
    replicas: RwLock<HashMap<ReplicaKey, Arc<Replica>>>,
    /// Replicas assigned to this SPU that it could not open, and why.
    failed: RwLock<HashMap<ReplicaKey, ReplicaFailure>>,
    /// Replicas led here whose last append failed for lack of disk space: reported
    /// `OutOfStorage` until an append succeeds or space is back.
    out_of_storage: parking_lot::Mutex<HashSet<ReplicaKey>>,
    /// To the control loop, which forwards to the SC. Deliberately not the SC link itself:
    /// only the control loop may keep the link (and so the SPU) alive in the SC's eyes.
    isr_proposals: mpsc::UnboundedSender<IsrProposal>,
    /// Set when a graceful stop begins: from then on the leaders here propose no change to
    /// their in-sync replicas (their followers' connections close because of the stop).
    stopping: AtomicBool,
    tasks: TaskGroup,
    /// Test hook: stop heartbeats, as a hung SPU would.
    heartbeats_silenced: AtomicBool,
    /// Test hook: while true, this SPU's followers send no fetch (a slow follower).
    replication_paused: tokio::sync::watch::Sender<bool>,
    /// What the SC tells every SPU about the cluster (partitions' leaders, SPUs' endpoints).
    view: ViewReceiver,
    /// Consumer offsets, while this SPU leads `consumer-offset`.
    offsets: offsets::OffsetStore,
    /// The queue of consumer-offset work to do where `consumer-offset` is led.
    forwarder: consumer_offsets::Forwarder,
    /// Keeps the data directory locked while anything of this SPU may still touch it.
    _lock: Arc<DirectoryLock>,
    /// Test hook: how long opening a replica takes on top of the real work (a slow log
    /// recovery), in milliseconds.
    #[cfg(test)]
    pub(crate) slow_replica_open_ms: std::sync::atomic::AtomicU64,
    /// Test hook: a pause between the steps of a graceful stop, in milliseconds, as a thread
    /// preempted in the middle of it would take.
    #[cfg(test)]
    pub(crate) stop_pause_ms: std::sync::atomic::AtomicU64,
}

impl SpuState {
    /// The replica for `key` if this SPU leads it.
    pub(crate) fn leader_replica(&self, key: &ReplicaKey) -> Option<Arc<Replica>> {
        self.replicas.read().get(key).filter(|replica| replica.leadership().is_some()).cloned()
    }

    /// What a client asking for `key`, which this SPU does not lead now, is told: the storage
    /// failure of a replica it was assigned to lead but could not open (typed, and not worth
    /// retrying here), else `NotLeaderForPartition`.
    pub(crate) fn refusal(&self, key: &ReplicaKey) -> ErrorCode {
        match self.failed.read().get(key) {
            Some(failure) if failure.leader => failure.code.clone(),
            _ => ErrorCode::NotLeaderForPartition,
        }
    }

    /// Records whether the latest append to `key` failed for lack of disk space.
    pub(crate) fn set_out_of_storage(&self, key: &ReplicaKey, full: bool) {
        let mut out_of_storage = self.out_of_storage.lock();
        if full {
            if out_of_storage.insert(key.clone()) {
                warn!(spu = self.id, replica = %key, "no space left for the partition; appends fail until there is");
            }
        } else if out_of_storage.remove(key) {
            info!(spu = self.id, replica = %key, "space is back; the partition accepts appends again");
        }
    }

    /// Forgets the full-disk state of partitions once the disk has room again (checked
    /// periodically: a partition nobody writes to must not stay `OutOfStorage`).
    fn recheck_free_space(&self) {
        let keys: Vec<ReplicaKey> = self.out_of_storage.lock().iter().cloned().collect();
        if keys.is_empty() {
            return;
        }
        if storage::available_bytes(&self.data_dir).is_ok_and(|free| free >= FREE_SPACE_TO_RESUME) {
            for key in keys {
                self.set_out_of_storage(&key, false);
            }
        }
    }

    /// What the SC is told about `replica`.
    fn report(&self, replica: &Replica) -> ReplicaReport {
        let mut report = replica.report();
        report.out_of_storage = report.leader && self.out_of_storage.lock().contains(replica.key());
        report
    }

    /// Lets `replica` (a leader) bring its in-sync replica set up to date with the SC, in the
    /// background.
    pub(crate) fn reconsider_isr(self: &Arc<Self>, replica: &Arc<Replica>) {
        if self.stopping.load(Ordering::Relaxed) {
            return;
        }
        let replica = replica.clone();
        let state = self.clone();
        self.tasks.spawn(async move {
            let key = replica.key().clone();
            replica
                .update_isr(|epoch, isr| async move {
                    // Checked again at the last moment: the stop may have begun meanwhile.
                    if state.stopping.load(Ordering::Relaxed) {
                        return false;
                    }
                    let (reply, answer) = oneshot::channel();
                    if state.isr_proposals.send(IsrProposal { key, epoch, isr, reply }).is_err() {
                        return false;
                    }
                    answer.await.unwrap_or(false)
                })
                .await;
        });
    }
}

/// A running SPU. Every task it runs (accept loop, connections and their writers, stream
/// sessions, produce waits, control loop, retention) belongs to its task group, so it can be
/// stopped gracefully ([`SpuServer::stop`]) or abruptly ([`SpuServer::kill`]).
pub(crate) struct SpuServer {
    id: i32,
    public_addr: SocketAddr,
    state: Arc<SpuState>,
    shutdown: CancellationToken,
    tasks: TaskGroup,
}

/// The listeners and control link of an SPU about to start.
pub(crate) struct SpuEndpoints {
    /// Clients connect here.
    pub public: TcpListener,
    /// TLS of the public listener (None: plain TCP). The private one is always plain.
    pub public_tls: Option<crate::tls::TlsAcceptor>,
    /// Followers of the partitions this SPU leads connect here.
    pub private: TcpListener,
    /// From and to the SC.
    pub link: SpuLink,
}

impl SpuServer {
    /// Starts serving on the endpoints, taking assignments from the link.
    pub(crate) fn start(
        data_dir: PathBuf,
        endpoints: SpuEndpoints,
        limits: SpuLimits,
        replication: ReplicationSettings,
        retention_interval: Duration,
        lock: Arc<DirectoryLock>,
        shutdown: CancellationToken,
    ) -> std::io::Result<Self> {
        let id = replication.spu;
        let SpuEndpoints { public: listener, public_tls, private: private_listener, link } = endpoints;
        let public_addr = listener.local_addr()?;
        let private_addr = private_listener.local_addr()?;
        std::fs::create_dir_all(&data_dir)?;
        let tasks = TaskGroup::new();
        let (isr_proposals, proposals) = mpsc::unbounded_channel();
        let (forwarder, forwarding_jobs) = consumer_offsets::forwarder();
        let view = link.view.clone();
        let connections = limits.connections.clone();
        let state = Arc::new(SpuState {
            id,
            data_dir,
            limits,
            replication,
            replicas: RwLock::new(HashMap::new()),
            failed: RwLock::new(HashMap::new()),
            out_of_storage: parking_lot::Mutex::new(HashSet::new()),
            isr_proposals,
            stopping: AtomicBool::new(false),
            tasks: tasks.clone(),
            heartbeats_silenced: AtomicBool::new(false),
            replication_paused: tokio::sync::watch::Sender::new(false),
            view,
            offsets: offsets::OffsetStore::default(),
            forwarder,
            _lock: lock,
            #[cfg(test)]
            slow_replica_open_ms: std::sync::atomic::AtomicU64::new(0),
            #[cfg(test)]
            stop_pause_ms: std::sync::atomic::AtomicU64::new(0),
        });
        {
            let state = state.clone();
            tasks.spawn(net::accept_loop(
                private_listener,
                shutdown.clone(),
                tasks.clone(),
                connections.without_idle_timeout(),
                move |_peer| PrivateConnection::new(state.clone()),
            ));
        }
        {
            let state = state.clone();
            let connection_tasks = tasks.clone();
            tasks.spawn(net::accept_loop_with_tls(
                listener,
                public_tls,
                shutdown.clone(),
                tasks.clone(),
                connections,
                move |_peer| SpuConnection {
                    spu: state.clone(),
                    streams: HashMap::new(),
                    owners: HashMap::new(),
                    next_stream_id: 1,
                    tasks: connection_tasks.clone(),
                },
            ));
        }
        tasks.spawn(heartbeat_loop(state.clone(), link.to_sc.clone(), shutdown.clone()));
        tasks.spawn(control_loop(state.clone(), link, proposals, shutdown.clone(), tasks.clone()));
        tasks.spawn(retention_loop(state.clone(), retention_interval, shutdown.clone()));
        tasks.spawn(consumer_offsets::forward_loop(state.clone(), forwarding_jobs, shutdown.clone()));
        tasks.spawn(consumer_offsets::purge_loop(state.clone(), shutdown.clone()));
        debug!(spu = id, %public_addr, %private_addr, "SPU started");
        Ok(Self { id, public_addr, state, shutdown, tasks })
    }

    /// Client-facing address.
    pub(crate) fn public_addr(&self) -> SocketAddr {
        self.public_addr
    }

    /// Whether the SPU stopped on its own (fenced by the SC after missed heartbeats).
    pub(crate) fn has_stopped(&self) -> bool {
        self.shutdown.is_cancelled()
    }

    /// Cancelled when the SPU stops, on its own (fenced) or not.
    pub(crate) fn stopped(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Stops the heartbeats (everything else keeps running), as a hung SPU would.
    #[cfg(feature = "test-hooks")]
    pub(crate) fn silence_heartbeats(&self) {
        self.state.heartbeats_silenced.store(true, Ordering::Relaxed);
    }

    /// Pauses or resumes the fetching of every replica this SPU follows.
    #[cfg(feature = "test-hooks")]
    pub(crate) fn pause_replication(&self, paused: bool) {
        self.state.replication_paused.send_replace(paused);
    }

    /// Ends every term, then stops accepting, closes every connection and drops the control
    /// link, waits for the tasks to end (aborting what is still running after
    /// [`STOP_GRACE`]), then flushes every log to disk.
    pub(crate) async fn stop(self) {
        // The terms end first, and no ISR change is proposed from here on: closing the
        // connections closes the followers' fetch connections too, and a leader still in
        // office would take them out of its in-sync replicas, leaving the SC no in-sync
        // replica to elect once this SPU is gone. Ending the terms also ends follower loops,
        // stream sessions (told NotLeaderForPartition, so clients look for the new leader) and
        // produce answers waiting for commitment.
        self.state.stopping.store(true, Ordering::Relaxed);
        for replica in self.state.replicas.read().values() {
            replica.end_terms();
        }
        #[cfg(test)]
        {
            let pause = self.state.stop_pause_ms.load(Ordering::Relaxed);
            tokio::time::sleep(Duration::from_millis(pause)).await;
        }
        self.shutdown.cancel();
        if !self.tasks.wait_or_abort(STOP_GRACE).await {
            warn!(spu = self.id, grace = ?STOP_GRACE, "in-flight work did not end in time; aborted it");
        }
        for replica in self.state.replicas.read().values() {
            if let Err(err) = replica.sync() {
                warn!(spu = self.id, replica = %replica.key(), %err, "flush on stop failed");
            }
        }
        debug!(spu = self.id, "SPU stopped");
    }

    /// Stops as a crashed process would: every task is aborted at its next await point, with no
    /// graceful close and no flush. Returns once every aborted task has been dropped (so its
    /// sockets are closed and the control link is gone) and any log being opened has been
    /// opened; the logs are then closed when `self` is dropped. What was written to the log
    /// files stays, as with `kill -9`.
    pub(crate) async fn kill(self) {
        self.tasks.abort();
        self.tasks.wait().await;
        info!(spu = self.id, "SPU killed");
    }
}

#[cfg(test)]
impl SpuServer {
    /// The SPU's shared state, for test hooks.
    pub(crate) fn state(&self) -> &Arc<SpuState> {
        &self.state
    }

    /// A probe counting the strong references to the SPU's state and to the replicas it hosts
    /// now: zero once nothing of the SPU is left (no task, no open log).
    pub(crate) fn liveness_probe(&self) -> impl Fn() -> usize + use<> {
        let state = Arc::downgrade(&self.state);
        let replicas: Vec<std::sync::Weak<Replica>> = self.state.replicas.read().values().map(Arc::downgrade).collect();
        move || state.strong_count() + replicas.iter().map(std::sync::Weak::strong_count).sum::<usize>()
    }
}

/// Tells the SC that the SPU is alive, several times per SPU timeout, until the SPU stops or the
/// SC drops the link. A task of its own, so that slow control work (opening and recovering
/// logs, fsyncs of epoch files) never delays a heartbeat into a false death.
async fn heartbeat_loop(state: Arc<SpuState>, to_sc: mpsc::UnboundedSender<SpuToSc>, shutdown: CancellationToken) {
    let mut ticker = tokio::time::interval(state.replication.heartbeat_interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = shutdown.cancelled() => return,
        }
        if !state.heartbeats_silenced.load(Ordering::Relaxed) && to_sc.send(SpuToSc::Heartbeat).is_err() {
            return;
        }
    }
}

/// Applies the SC's assignments, reports replica offsets back, keeps the leaders' in-sync
/// replica sets current and forwards their changes to the SC.
///
/// When the SC drops the link while the SPU is running (it declared the SPU dead after missed
/// heartbeats, and may have elected other leaders), the SPU fences itself: every term ends at
/// once, so it acknowledges nothing more as a leader, and the SPU stops.
async fn control_loop(
    state: Arc<SpuState>,
    mut link: SpuLink,
    mut proposals: mpsc::UnboundedReceiver<IsrProposal>,
    shutdown: CancellationToken,
    tasks: TaskGroup,
) {
    let mut ticker = tokio::time::interval(REPORT_INTERVAL);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut reported: HashMap<ReplicaKey, ReplicaReport> = HashMap::new();
    loop {
        tokio::select! {
            message = link.from_sc.recv() => {
                let Some(message) = message else {
                    if !shutdown.is_cancelled() {
                        warn!(spu = state.id, "the SC dropped this SPU (missed heartbeats); fencing and stopping");
                        for replica in state.replicas.read().values() {
                            replica.end_terms();
                        }
                        shutdown.cancel();
                    }
                    return;
                };
                apply(&state, message, &link.to_sc, &mut reported, &tasks).await;
            }
            proposal = proposals.recv() => {
                let Some(IsrProposal { key, epoch, isr, reply }) = proposal else { return };
                let _ = link.to_sc.send(SpuToSc::IsrChange { key, epoch, isr, reply });
            }
            _ = ticker.tick() => {
                state.recheck_free_space();
                let replicas: Vec<Arc<Replica>> = state.replicas.read().values().cloned().collect();
                for replica in replicas {
                    if replica.isr_needs_change() {
                        state.reconsider_isr(&replica);
                    }
                    replica.checkpoint_hw();
                    let report = state.report(&replica);
                    if reported.get(replica.key()) != Some(&report) {
                        reported.insert(replica.key().clone(), report.clone());
                        let _ = link.to_sc.send(SpuToSc::ReplicaOnline(replica.key().clone(), report));
                    }
                }
            }
            _ = shutdown.cancelled() => return,
        }
    }
}

async fn apply(
    state: &Arc<SpuState>,
    message: ScToSpu,
    to_sc: &mpsc::UnboundedSender<SpuToSc>,
    reported: &mut HashMap<ReplicaKey, ReplicaReport>,
    tasks: &TaskGroup,
) {
    match message {
        ScToSpu::Sync(assignments) => {
            let assigned: HashSet<ReplicaKey> = assignments.iter().map(|a| a.key.clone()).collect();
            remove_stale_replicas(state, &assigned);
            for assignment in assignments {
                open_replica(state, assignment, to_sc, reported, tasks).await;
            }
        }
        ScToSpu::Upsert(assignment) => open_replica(state, assignment, to_sc, reported, tasks).await,
        ScToSpu::Remove(key) => {
            state.failed.write().remove(&key);
            state.out_of_storage.lock().remove(&key);
            let removed = state.replicas.write().remove(&key);
            reported.remove(&key);
            match removed {
                Some(replica) => {
                    if let Err(err) = replica.remove() {
                        warn!(spu = state.id, replica = %key, %err, "could not delete replica data");
                    }
                }
                None => {
                    let _ = std::fs::remove_dir_all(replica::replica_dir(&state.data_dir, &key));
                }
            }
            debug!(spu = state.id, replica = %key, "replica removed");
        }
    }
}

/// Opens the replica if needed, then applies the assignment (leader or follower, and epoch).
async fn open_replica(
    state: &Arc<SpuState>,
    assignment: ReplicaAssignment,
    to_sc: &mpsc::UnboundedSender<SpuToSc>,
    reported: &mut HashMap<ReplicaKey, ReplicaReport>,
    tasks: &TaskGroup,
) {
    let key = assignment.key.clone();
    let existing = state.replicas.read().get(&key).cloned();
    let replica = match existing {
        Some(replica) if replica.config() == &assignment.config => replica,
        _ => {
            #[cfg(test)]
            {
                let extra = state.slow_replica_open_ms.load(Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(extra)).await;
            }
            // Opening recovers the log (scans its tail): keep it off the async workers. It runs
            // in the SPU's group so that a kill waits for it: a log still being opened by a
            // killed SPU must not race the same log opened by its restart.
            let data_dir = state.data_dir.clone();
            let settings = state.replication;
            let Some(opening) = tasks.spawn_blocking({
                let key = key.clone();
                let config = assignment.config.clone();
                move || Replica::open(&data_dir, key, config, settings)
            }) else {
                return; // the SPU was killed
            };
            let opened = match opening.await {
                Ok(opened) => opened.map_err(|err| {
                    let code = if storage::log_is_full(&err) {
                        ErrorCode::PartitionFull { replica_key: key.clone() }
                    } else {
                        ErrorCode::StorageError
                    };
                    (code, err.to_string())
                }),
                Err(join) => Err((ErrorCode::StorageError, join.to_string())),
            };
            match opened {
                Ok(replica) => {
                    state.failed.write().remove(&key);
                    if let Some(replaced) = state.replicas.write().insert(key.clone(), replica.clone()) {
                        replaced.end_terms();
                    }
                    debug!(spu = state.id, replica = %key, leo = replica.offsets().leo, "replica open");
                    replica
                }
                Err((code, message)) => {
                    // This partition only: the SPU serves its other replicas, and clients of
                    // this one get the storage error.
                    warn!(spu = state.id, replica = %key, %message, "could not open the replica; it is unavailable");
                    let leader = assignment.leader == state.id
                        || (assignment.leader == NO_LEADER && assignment.isr == [state.id]);
                    let failure = ReplicaFailure { code, message, leader };
                    state.failed.write().insert(key.clone(), failure.clone());
                    let _ = to_sc.send(SpuToSc::ReplicaFailed(key, failure));
                    return;
                }
            }
        }
    };
    if let Some(job) = replica.apply_assignment(&assignment) {
        tasks.spawn(follower::run(replica.clone(), state.id, job, state.replication_paused.subscribe()));
    }
    let report = state.report(&replica);
    reported.insert(key.clone(), report.clone());
    let _ = to_sc.send(SpuToSc::ReplicaOnline(key, report));
}

/// Deletes replica directories the SC no longer assigns to this SPU (their topics were deleted
/// while the SPU was down), so a later topic of the same name starts empty.
fn remove_stale_replicas(state: &SpuState, assigned: &HashSet<ReplicaKey>) {
    state.failed.write().retain(|key, _| assigned.contains(key));
    state.replicas.write().retain(|key, replica| {
        let keep = assigned.contains(key);
        if !keep {
            let _ = replica.remove();
        }
        keep
    });
    let Ok(entries) = std::fs::read_dir(&state.data_dir) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some((topic, partition)) = fluvio_wire::sc::partition::split_partition_name(&name) else { continue };
        if entry.path().is_dir() && !assigned.contains(&ReplicaKey::new(topic, partition)) {
            debug!(spu = state.id, replica = %name, "deleting data of an unassigned replica");
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

async fn retention_loop(state: Arc<SpuState>, interval: Duration, shutdown: CancellationToken) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = shutdown.cancelled() => return,
        }
        let replicas: Vec<Arc<Replica>> = state.replicas.read().values().cloned().collect();
        for replica in replicas {
            if let Err(err) = replica.enforce_retention(SystemTime::now()) {
                warn!(spu = state.id, replica = %replica.key(), %err, "retention failed");
            }
        }
    }
}

/// Stream sessions a connection remembers the owners of after they ended (an offset may be
/// committed for a session whose stream was cut); beyond it, only running ones.
const MAX_REMEMBERED_STREAMS: usize = 1024;

/// Per-connection state: the stream sessions opened on it.
struct SpuConnection {
    spu: Arc<SpuState>,
    streams: HashMap<u32, mpsc::UnboundedSender<i64>>,
    /// What each stream session reads, and for which consumer: UpdateConsumerOffset names a
    /// session.
    owners: HashMap<u32, StreamOwner>,
    next_stream_id: u32,
    tasks: TaskGroup,
}

/// The version ranges this SPU serves (those of the official SPU).
fn advertised_versions() -> Vec<ApiVersionKey> {
    vec![
        ApiVersionKey { api_key: keys::PRODUCE as i16, min_version: 0, max_version: ProduceRequest::MAX_VERSION },
        ApiVersionKey {
            api_key: keys::FETCH_OFFSETS as i16,
            min_version: 0,
            max_version: FetchOffsetsRequest::MAX_VERSION,
        },
        ApiVersionKey {
            api_key: keys::STREAM_FETCH as i16,
            min_version: 0,
            max_version: StreamFetchRequest::MAX_VERSION,
        },
        ApiVersionKey { api_key: keys::UPDATE_OFFSETS as i16, min_version: 0, max_version: 0 },
    ]
}

impl RequestHandler for SpuConnection {
    async fn handle(&mut self, header: RequestHeader, body: Bytes, sink: &FrameSink) -> Result<(), CloseReason> {
        match header.api_key {
            api::API_VERSIONS_KEY => {
                // Only the versions a client can send (0..=2): a negative or unknown version
                // closes the connection, as for every other API.
                net::check_version(&header, ApiVersionsRequest::MIN_VERSION, ApiVersionsRequest::MAX_VERSION)?;
                let _request: ApiVersionsRequest = net::decode_body(&header, body)?;
                let response = ApiVersionsResponse {
                    error_code: ErrorCode::None,
                    api_keys: advertised_versions(),
                    platform_version: "0.0.0".into(),
                };
                sink.respond(header.correlation_id, header.api_version, &response).await?;
            }
            keys::PRODUCE => {
                net::check_version(&header, ProduceRequest::MIN_VERSION, ProduceRequest::MAX_VERSION)?;
                let request: ProduceRequest = net::decode_body(&header, body)?;
                // Appends happen here, in arrival order; only the wait for commitment (if any)
                // runs in the background so later requests on this connection are not held up.
                let (mut response, waits) = produce::append_request(&self.spu, &request);
                if waits.is_empty() {
                    sink.respond(header.correlation_id, header.api_version, &response).await?;
                } else {
                    let sink = sink.clone();
                    self.tasks.spawn(async move {
                        produce::await_commits(&mut response, waits, request.timeout_ms).await;
                        let _ = sink.respond(header.correlation_id, header.api_version, &response).await;
                    });
                }
            }
            keys::FETCH_OFFSETS => {
                net::check_version(&header, FetchOffsetsRequest::MIN_VERSION, FetchOffsetsRequest::MAX_VERSION)?;
                let request: FetchOffsetsRequest = net::decode_body(&header, body)?;
                let mut response = self.fetch_offsets(&request);
                match request.consumer_id {
                    // Exactly v23: the consumer's stored offset, from where `consumer-offset` is led.
                    Some(consumer_id) => {
                        let (spu, sink) = (self.spu.clone(), sink.clone());
                        self.tasks.spawn(async move {
                            consumer_offsets::apply_consumer_offsets(&spu, &mut response, &consumer_id).await;
                            let _ = sink.respond(header.correlation_id, header.api_version, &response).await;
                        });
                    }
                    None => sink.respond(header.correlation_id, header.api_version, &response).await?,
                }
            }
            keys::STREAM_FETCH => {
                net::check_version(&header, StreamFetchRequest::MIN_VERSION, StreamFetchRequest::MAX_VERSION)?;
                let request: StreamFetchRequest = net::decode_body(&header, body)?;
                self.open_stream(header, request, sink).await?;
            }
            keys::UPDATE_OFFSETS => {
                net::check_version(&header, UpdateOffsetsRequest::MIN_VERSION, UpdateOffsetsRequest::MAX_VERSION)?;
                let request: UpdateOffsetsRequest = net::decode_body(&header, body)?;
                let status = request
                    .offsets
                    .iter()
                    .map(|update| {
                        let delivered = match self.streams.get(&update.session_id) {
                            Some(acks) => acks.send(update.offset).is_ok(),
                            None => false,
                        };
                        if !delivered {
                            self.streams.remove(&update.session_id);
                        }
                        OffsetUpdateStatus {
                            session_id: update.session_id,
                            error: if delivered { ErrorCode::None } else { ErrorCode::FetchSessionNotFound },
                        }
                    })
                    .collect();
                sink.respond(header.correlation_id, header.api_version, &UpdateOffsetsResponse { status }).await?;
            }
            keys::UPDATE_CONSUMER_OFFSET => {
                net::check_version(
                    &header,
                    UpdateConsumerOffsetRequest::MIN_VERSION,
                    UpdateConsumerOffsetRequest::MAX_VERSION,
                )?;
                let request: UpdateConsumerOffsetRequest = net::decode_body(&header, body)?;
                let owner = self.owners.get(&request.session_id);
                match consumer_offsets::update(&self.spu, owner, request.offset) {
                    Ok(answer) => {
                        let sink = sink.clone();
                        self.tasks.spawn(async move {
                            let error_code = answer.await.unwrap_or(ErrorCode::SpuOffline);
                            let offset = if error_code.is_ok() { request.offset } else { 0 };
                            let response = UpdateConsumerOffsetResponse { offset, error_code };
                            let _ = sink.respond(header.correlation_id, header.api_version, &response).await;
                        });
                    }
                    Err(error_code) => {
                        let response = UpdateConsumerOffsetResponse { offset: 0, error_code };
                        sink.respond(header.correlation_id, header.api_version, &response).await?;
                    }
                }
            }
            keys::DELETE_CONSUMER_OFFSET => {
                net::check_version(
                    &header,
                    DeleteConsumerOffsetRequest::MIN_VERSION,
                    DeleteConsumerOffsetRequest::MAX_VERSION,
                )?;
                let request: DeleteConsumerOffsetRequest = net::decode_body(&header, body)?;
                let key = OffsetKey { replica_id: request.replica_id, consumer_id: request.consumer_id };
                match self.spu.offsets.delete(&self.spu, key) {
                    Ok(pending) => {
                        let sink = sink.clone();
                        self.tasks.spawn(async move {
                            let committed = pending.committed(consumer_offsets::CHANGE_DEADLINE).await;
                            let response =
                                DeleteConsumerOffsetResponse { error_code: committed.err().unwrap_or(ErrorCode::None) };
                            let _ = sink.respond(header.correlation_id, header.api_version, &response).await;
                        });
                    }
                    Err(error_code) => {
                        let response = DeleteConsumerOffsetResponse { error_code };
                        sink.respond(header.correlation_id, header.api_version, &response).await?;
                    }
                }
            }
            keys::FETCH_CONSUMER_OFFSETS => {
                net::check_version(
                    &header,
                    FetchConsumerOffsetsRequest::MIN_VERSION,
                    FetchConsumerOffsetsRequest::MAX_VERSION,
                )?;
                let request: FetchConsumerOffsetsRequest = net::decode_body(&header, body)?;
                let response = match self.spu.offsets.list(&self.spu, request.filter_opts.as_ref()) {
                    Ok(consumers) => FetchConsumerOffsetsResponse { error_code: ErrorCode::None, consumers },
                    Err(error_code) => FetchConsumerOffsetsResponse { error_code, consumers: Vec::new() },
                };
                sink.respond(header.correlation_id, header.api_version, &response).await?;
            }
            other => return Err(CloseReason::UnknownApi(other)),
        }
        Ok(())
    }
}

impl SpuConnection {
    fn fetch_offsets(&self, request: &FetchOffsetsRequest) -> FetchOffsetsResponse {
        let topics = request
            .topics
            .iter()
            .map(|topic| FetchOffsetTopicResponse {
                name: topic.name.clone(),
                partitions: topic
                    .partitions
                    .iter()
                    .map(|p| {
                        let key = ReplicaKey::new(topic.name.clone(), p.partition_index);
                        match self.spu.leader_replica(&key) {
                            Some(replica) => {
                                let offsets = replica.offsets();
                                FetchOffsetPartitionResponse {
                                    error_code: ErrorCode::None,
                                    partition_index: p.partition_index,
                                    start_offset: offsets.log_start,
                                    last_stable_offset: offsets.hw,
                                }
                            }
                            None => FetchOffsetPartitionResponse {
                                error_code: match self.spu.refusal(&key) {
                                    ErrorCode::NotLeaderForPartition => ErrorCode::PartitionNotLeader,
                                    storage => storage,
                                },
                                partition_index: p.partition_index,
                                start_offset: -1,
                                last_stable_offset: -1,
                            },
                        }
                    })
                    .collect(),
            })
            .collect();
        FetchOffsetsResponse { topics }
    }

    async fn open_stream(
        &mut self,
        header: RequestHeader,
        request: StreamFetchRequest,
        sink: &FrameSink,
    ) -> Result<(), CloseReason> {
        let key = ReplicaKey::new(request.topic.clone(), request.partition);
        let Some(replica) = self.spu.leader_replica(&key) else {
            // As the official SPU: one refusal with stream id 0, then silence.
            let push = fetch::error_push(&request, 0, self.spu.refusal(&key), -1, -1);
            sink.respond(header.correlation_id, header.api_version, &push).await?;
            return Ok(());
        };
        let unsupported = !request.smartmodules.is_empty()
            || !request.wasm_module.0.is_empty()
            || request.smartmodule.is_some()
            || request.derivedstream.is_some();
        let stream_id = self.next_stream_id;
        self.next_stream_id = self.next_stream_id.wrapping_add(1).max(1);
        if self.owners.len() >= MAX_REMEMBERED_STREAMS {
            let running = &self.streams;
            self.owners.retain(|id, _| running.get(id).is_some_and(|acks| !acks.is_closed()));
        }
        self.owners.insert(stream_id, StreamOwner { replica: key.clone(), consumer_id: request.consumer_id.clone() });
        if unsupported {
            let offsets = replica.offsets();
            let push = fetch::error_push(
                &request,
                stream_id,
                ErrorCode::Other("smartmodules are not supported by fluvio-local".into()),
                offsets.hw,
                offsets.log_start,
            );
            sink.respond(header.correlation_id, header.api_version, &push).await?;
            return Ok(());
        }
        let (ack_tx, acks) = mpsc::unbounded_channel();
        self.streams.retain(|_, acks| !acks.is_closed());
        self.streams.insert(stream_id, ack_tx);
        debug!(spu = self.spu.id, replica = %key, stream_id, offset = request.fetch_offset, "stream opened");
        let Some(term) = replica.leadership() else {
            let push = fetch::error_push(&request, 0, ErrorCode::NotLeaderForPartition, -1, -1);
            sink.respond(header.correlation_id, header.api_version, &push).await?;
            return Ok(());
        };
        let session = fetch::StreamSession {
            replica,
            term,
            request,
            stream_id,
            correlation_id: header.correlation_id,
            version: header.api_version,
            sink: sink.clone(),
            acks,
        };
        self.tasks.spawn(session.run());
        Ok(())
    }
}

/// Data directory of SPU `id` under the cluster's base directory.
pub(crate) fn spu_data_dir(base_dir: &Path, id: i32) -> PathBuf {
    base_dir.join(format!("spu-{id}"))
}
