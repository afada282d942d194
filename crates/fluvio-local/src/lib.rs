//! An embedded, Fluvio-compatible cluster: one SC and N SPUs in one process, each on its own
//! 127.0.0.1 port, speaking Fluvio's wire protocol, with partition logs on disk.
//!
//! ```no_run
//! # async fn demo() -> Result<(), fluvio_local::ClusterError> {
//! let cluster = fluvio_local::LocalCluster::start(
//!     fluvio_local::ClusterConfig::new("/tmp/fluvio-data").spus(3),
//! ).await?;
//! println!("SC at {}", cluster.sc_endpoint());
//! cluster.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! The cluster runs on the caller's tokio runtime. Topics, partitions and SPUs are kept in
//! `<base_dir>/sc/metadata.json`; SPU `n` keeps its logs in `<base_dir>/spu-<n>/`. Starting
//! again on the same base directory brings back every topic and record.
//!
//! Partitions are replicated across SPUs (replication factor up to the number of SPUs): the
//! leader appends, followers pull from it over the SPUs' private endpoints, and records are
//! committed once every in-sync replica holds them (with at least
//! [`ClusterConfig::min_live_replicas`] in sync). When an SPU stops, crashes or stops sending
//! heartbeats, the SC elects a new leader among the in-sync replicas under a new leader
//! epoch; a returning SPU cuts any uncommitted tail that diverged and catches up (restarting
//! its log at the leader's log start when the leader's retention deleted what it lacks).
//!
//! Single SPUs can be stopped ([`LocalCluster::stop_spu`]), crashed ([`LocalCluster::kill_spu`])
//! and started again ([`LocalCluster::start_spu`]) while the rest of the cluster keeps running,
//! to test how clients cope with failing SPUs and moving leaders.

#![warn(missing_docs)]

mod control;
mod net;
mod sc;
mod spu;
mod tasks;
mod tls;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use fluvio_wire::sc::partition::PartitionResolution;
use fluvio_wire::sc::topic::TopicResolution;
use fluvio_wire::sc::{PartitionSpec, TopicSpec};
use parking_lot::Mutex;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tracing::info;

use sc::{Sc, ScSettings};
use spu::{ReplicationSettings, SpuEndpoints, SpuLimits, SpuServer};
pub use tls::{DEFAULT_HANDSHAKE_TIMEOUT, ServerTls};

/// Id of the first SPU (as in the official local cluster).
pub const FIRST_SPU_ID: i32 = 5001;
/// Default of [`ClusterConfig::spu_timeout`].
pub const DEFAULT_SPU_TIMEOUT: Duration = Duration::from_secs(3);
/// Default of [`ClusterConfig::replica_lag_time`].
pub const DEFAULT_REPLICA_LAG_TIME: Duration = Duration::from_secs(10);
/// Default of [`ClusterConfig::retention_interval`].
pub const DEFAULT_RETENTION_INTERVAL: Duration = Duration::from_secs(30);

/// How the cluster is laid out.
#[derive(Debug, Clone)]
pub struct ClusterConfig {
    base_dir: PathBuf,
    spus: u16,
    host: String,
    sc_port: u16,
    spu_ports: Vec<u16>,
    provisioning_timeout: Duration,
    ready_timeout: Duration,
    max_frame_size: usize,
    min_live_replicas: u16,
    spu_timeout: Duration,
    replica_lag_time: Duration,
    retention_interval: Duration,
    tls: Option<ServerTls>,
}

impl ClusterConfig {
    /// One SPU, every port chosen by the OS, data under `base_dir`.
    pub fn new(base_dir: impl Into<PathBuf>) -> Self {
        Self {
            base_dir: base_dir.into(),
            spus: 1,
            host: "127.0.0.1".into(),
            sc_port: 0,
            spu_ports: Vec::new(),
            provisioning_timeout: Duration::from_secs(30),
            ready_timeout: Duration::from_secs(30),
            max_frame_size: fluvio_wire::frame::DEFAULT_MAX_FRAME_SIZE,
            min_live_replicas: 1,
            spu_timeout: DEFAULT_SPU_TIMEOUT,
            replica_lag_time: DEFAULT_REPLICA_LAG_TIME,
            retention_interval: DEFAULT_RETENTION_INTERVAL,
            tls: None,
        }
    }

    /// Serves TLS on the public listeners of the SC and of every SPU (SPU-to-SPU traffic stays
    /// plain). Clients need a verified (or anonymous) TLS profile; see [`ServerTls`] for the
    /// names the certificate must carry.
    pub fn tls(mut self, tls: ServerTls) -> Self {
        self.tls = Some(tls);
        self
    }

    /// Number of SPUs (at least 1).
    pub fn spus(mut self, spus: u16) -> Self {
        self.spus = spus;
        self
    }

    /// SC public port (0: chosen by the OS).
    pub fn sc_port(mut self, port: u16) -> Self {
        self.sc_port = port;
        self
    }

    /// Public ports of the SPUs, in id order (missing entries: chosen by the OS).
    pub fn spu_ports(mut self, ports: Vec<u16>) -> Self {
        self.spu_ports = ports;
        self
    }

    /// How long topic creation waits for partitions to come online.
    pub fn provisioning_timeout(mut self, timeout: Duration) -> Self {
        self.provisioning_timeout = timeout;
        self
    }

    /// In-sync replicas (leader included) a partition needs before its high watermark
    /// advances, i.e. before records are committed: visible to READ_COMMITTED readers and
    /// acknowledged to READ_COMMITTED producers. Default 1. Topics with a smaller replication
    /// factor are refused. With 2 and replication factor 3, a committed record survives the
    /// loss of any one SPU even while another is down.
    pub fn min_live_replicas(mut self, replicas: u16) -> Self {
        self.min_live_replicas = replicas;
        self
    }

    /// How long the SC waits for an SPU's heartbeat before declaring it dead, fencing it and
    /// moving the leadership of its partitions (default 3 s). An SPU that stops or crashes is
    /// noticed at once, when its control link drops; this bounds the detection of a hung one.
    pub fn spu_timeout(mut self, timeout: Duration) -> Self {
        self.spu_timeout = timeout;
        self
    }

    /// How long a follower may fail to catch up with its leader before it leaves the in-sync
    /// replicas (default 10 s). A follower whose connection drops leaves at once.
    pub fn replica_lag_time(mut self, lag: Duration) -> Self {
        self.replica_lag_time = lag;
        self
    }

    /// How often each SPU deletes the segments its topics' retention settings (age and
    /// maximum partition size) no longer keep (default 30 s; also once when an SPU starts).
    /// Retention is only ever checked this often, so a short topic retention takes effect up
    /// to this much later. Must be positive.
    pub fn retention_interval(mut self, interval: Duration) -> Self {
        self.retention_interval = interval;
        self
    }

    /// Largest request frame accepted by the servers.
    pub fn max_frame_size(mut self, bytes: usize) -> Self {
        self.max_frame_size = bytes;
        self
    }

    /// The data directory.
    pub fn base_dir(&self) -> &std::path::Path {
        &self.base_dir
    }
}

/// Why the cluster could not start, or an operation on one of its SPUs failed.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// The configuration is unusable.
    #[error("invalid cluster configuration: {0}")]
    InvalidConfig(String),
    /// A listener could not be bound.
    #[error("cannot listen on {addr} for {what}: {source}")]
    Bind {
        /// SC or SPU.
        what: String,
        /// Address.
        addr: String,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// The data directory or metadata could not be used.
    #[error("cannot use the data directory: {0}")]
    Storage(String),
    /// Restored partitions did not come online in time.
    #[error("restored topics did not come online within {0:?}")]
    NotReady(Duration),
    /// No SPU of the cluster has this id.
    #[error("no SPU with id {0} in this cluster")]
    UnknownSpu(i32),
    /// The SPU is already running.
    #[error("SPU {0} is already running")]
    SpuRunning(i32),
    /// A restarted SPU is running, but not every partition it leads came back online in time
    /// (for example a log that could not be opened).
    #[error("SPU {id} is running but the partitions it leads did not come online within {timeout:?}")]
    SpuNotReady {
        /// The SPU.
        id: i32,
        /// How long it was given.
        timeout: Duration,
    },
}

/// A running cluster. Dropping it without [`LocalCluster::shutdown`] stops accepting
/// connections but does not wait for in-flight work.
pub struct LocalCluster {
    config: ClusterConfig,
    sc: Arc<Sc>,
    sc_addr: SocketAddr,
    shutdown: CancellationToken,
    spus: Mutex<BTreeMap<i32, SpuSlot>>,
    /// Serializes SPU starts, stops and kills. Owned guards let a stop or kill finish in the
    /// background if the caller drops its future, so no half-stopped SPU is left behind.
    lifecycle: Arc<tokio::sync::Mutex<()>>,
    /// TLS of the public listeners, built once from [`ClusterConfig::tls`].
    tls: Option<tls::TlsAcceptor>,
}

/// One configured SPU, running or not.
struct SpuSlot {
    /// Public port of its latest run, tried first when it is started again.
    port: u16,
    running: Option<RunningSpu>,
}

struct RunningSpu {
    server: SpuServer,
    /// Cancelled once the SC has noticed the SPU's control link is gone and marked it Offline.
    unregistered: CancellationToken,
}

impl LocalCluster {
    /// Starts the SC and the SPUs, and waits until every restored topic is online again.
    pub async fn start(config: ClusterConfig) -> Result<Self, ClusterError> {
        if config.spus == 0 {
            return Err(ClusterError::InvalidConfig("a cluster needs at least one SPU".into()));
        }
        if config.min_live_replicas == 0 {
            return Err(ClusterError::InvalidConfig("min-live-replicas must be at least 1".into()));
        }
        if config.spu_timeout < Duration::from_millis(100) {
            return Err(ClusterError::InvalidConfig("the SPU timeout must be at least 100 ms".into()));
        }
        if config.replica_lag_time.is_zero() {
            return Err(ClusterError::InvalidConfig("the replica lag time must be positive".into()));
        }
        if config.retention_interval.is_zero() {
            return Err(ClusterError::InvalidConfig("the retention interval must be positive".into()));
        }
        std::fs::create_dir_all(&config.base_dir)
            .map_err(|e| ClusterError::Storage(format!("cannot create {}: {e}", config.base_dir.display())))?;
        let spu_ids = (0..config.spus).map(|index| FIRST_SPU_ID + i32::from(index));
        let tls = config.tls.as_ref().map(|tls| tls.acceptor(spu_ids)).transpose()?;
        let settings = ScSettings {
            provisioning_timeout: config.provisioning_timeout,
            max_frame_size: config.max_frame_size,
            host: config.host.clone(),
            min_live_replicas: config.min_live_replicas,
            spu_timeout: config.spu_timeout,
            tls: tls.clone(),
        };
        let sc = Sc::open(&config.base_dir.join("sc"), settings).map_err(|e| ClusterError::Storage(e.to_string()))?;
        let shutdown = CancellationToken::new();
        let sc_listener = bind(&config.host, config.sc_port, "the SC").await?;
        let sc_addr = sc_listener.local_addr().map_err(|e| ClusterError::Storage(e.to_string()))?;
        sc.serve(sc_listener, shutdown.child_token());
        let cluster = Self {
            config,
            sc,
            sc_addr,
            shutdown,
            spus: Mutex::new(BTreeMap::new()),
            lifecycle: Arc::new(tokio::sync::Mutex::new(())),
            tls,
        };
        for index in 0..cluster.config.spus {
            let id = FIRST_SPU_ID + i32::from(index);
            let port = cluster.config.spu_ports.get(usize::from(index)).copied().unwrap_or(0);
            let launched = match bind(&cluster.config.host, port, &format!("SPU {id}")).await {
                Ok(listener) => cluster.launch_spu(id, listener),
                Err(err) => Err(err),
            };
            if let Err(err) = launched {
                cluster.stop_all().await;
                return Err(err);
            }
        }
        if !cluster.wait_ready(cluster.config.ready_timeout).await {
            cluster.stop_all().await;
            return Err(ClusterError::NotReady(cluster.config.ready_timeout));
        }
        info!(sc = %sc_addr, spus = cluster.config.spus, "cluster started");
        Ok(cluster)
    }

    /// Registers SPU `id` with the SC and starts serving clients on `listener` (and its
    /// followers on a private listener of its own). Returns its public address.
    fn launch_spu(&self, id: i32, listener: TcpListener) -> Result<SocketAddr, ClusterError> {
        let public_addr = listener.local_addr().map_err(|e| ClusterError::Storage(e.to_string()))?;
        let private = std::net::TcpListener::bind((self.config.host.as_str(), 0))
            .and_then(|listener| {
                listener.set_nonblocking(true)?;
                TcpListener::from_std(listener)
            })
            .map_err(|source| ClusterError::Bind {
                what: format!("SPU {id} (private)"),
                addr: format!("{}:0", self.config.host),
                source,
            })?;
        let private_addr = private.local_addr().map_err(|e| ClusterError::Storage(e.to_string()))?;
        let (link, unregistered) =
            self.sc.register_spu(id, public_addr, private_addr).map_err(|e| ClusterError::Storage(e.to_string()))?;
        let limits = SpuLimits { max_frame_size: self.config.max_frame_size, ..SpuLimits::default() };
        let replication = ReplicationSettings {
            spu: id,
            min_live_replicas: usize::from(self.config.min_live_replicas),
            replica_lag_time: self.config.replica_lag_time,
            heartbeat_interval: self.config.spu_timeout / 4,
        };
        let data_dir = spu::spu_data_dir(&self.config.base_dir, id);
        let endpoints = SpuEndpoints { public: listener, public_tls: self.tls.clone(), private, link };
        // On failure the link is dropped with `endpoints`, so the SC marks the SPU Offline again.
        let server = SpuServer::start(
            data_dir,
            endpoints,
            limits,
            replication,
            self.config.retention_interval,
            self.shutdown.child_token(),
        )
        .map_err(|e| ClusterError::Storage(format!("SPU {id}: {e}")))?;
        let running = RunningSpu { server, unregistered };
        self.spus.lock().insert(id, SpuSlot { port: public_addr.port(), running: Some(running) });
        Ok(public_addr)
    }

    /// Waits until every topic is provisioned. Returns false on timeout.
    async fn wait_ready(&self, timeout: Duration) -> bool {
        let mut events = self.sc.store().subscribe();
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let ready =
                self.sc.store().all::<TopicSpec>().iter().all(|t| t.status.resolution == TopicResolution::Provisioned);
            if ready {
                return true;
            }
            if tokio::time::timeout_at(deadline, events.recv()).await.is_err() {
                return false;
            }
        }
    }

    /// Waits until every partition led by SPU `id` is Online. Returns false on timeout.
    async fn wait_leader_online(&self, id: i32, timeout: Duration) -> bool {
        let mut events = self.sc.store().subscribe();
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let online = self
                .sc
                .store()
                .all::<PartitionSpec>()
                .iter()
                .filter(|p| p.spec.leader == id)
                .all(|p| p.status.resolution == PartitionResolution::Online && p.status.leader.spu == id);
            if online {
                return true;
            }
            if tokio::time::timeout_at(deadline, events.recv()).await.is_err() {
                return false;
            }
        }
    }

    /// The SC's public address.
    pub fn sc_addr(&self) -> SocketAddr {
        self.sc_addr
    }

    /// The SC's public address as `host:port`, what a profile's `endpoint` holds.
    pub fn sc_endpoint(&self) -> String {
        self.sc_addr.to_string()
    }

    /// Ids and public addresses of the running SPUs, in id order. Stopped and killed SPUs are
    /// not listed.
    pub fn spu_addrs(&self) -> Vec<(i32, SocketAddr)> {
        self.spus
            .lock()
            .iter()
            .filter_map(|(id, slot)| {
                slot.running.as_ref().filter(|r| !r.server.has_stopped()).map(|r| (*id, r.server.public_addr()))
            })
            .collect()
    }

    /// Ids of every SPU of the cluster, running or not, in id order.
    pub fn spu_ids(&self) -> Vec<i32> {
        self.spus.lock().keys().copied().collect()
    }

    /// Whether SPU `id` is running (false for an unknown id, and for an SPU the SC fenced
    /// after missed heartbeats: it stops itself).
    pub fn is_spu_running(&self, id: i32) -> bool {
        self.spus.lock().get(&id).is_some_and(|slot| slot.running.as_ref().is_some_and(|r| !r.server.has_stopped()))
    }

    /// Test support: pauses (or resumes) replication on SPU `id`: the replicas it follows send
    /// no fetch to their leaders, as a slow follower would. The leaders keep those followers in
    /// sync for [`ClusterConfig::replica_lag_time`], so records appended meanwhile stay
    /// uncommitted; useful to create an uncommitted tail before a leader fails.
    pub fn pause_spu_replication(&self, id: i32, paused: bool) -> Result<(), ClusterError> {
        let spus = self.spus.lock();
        let slot = spus.get(&id).ok_or(ClusterError::UnknownSpu(id))?;
        if let Some(running) = &slot.running {
            running.server.pause_replication(paused);
        }
        Ok(())
    }

    /// Test support: SPU `id` keeps serving but stops sending heartbeats to the SC, as a hung
    /// SPU would. After [`ClusterConfig::spu_timeout`] the SC declares it dead, elects new
    /// leaders for its partitions and drops its control link, which fences the SPU: it stops
    /// acknowledging anything and shuts down. [`LocalCluster::start_spu`] starts it again.
    pub fn silence_spu_heartbeats(&self, id: i32) -> Result<(), ClusterError> {
        let spus = self.spus.lock();
        let slot = spus.get(&id).ok_or(ClusterError::UnknownSpu(id))?;
        if let Some(running) = &slot.running {
            running.server.silence_heartbeats();
        }
        Ok(())
    }

    /// Stops SPU `id` gracefully, as a clean shutdown of its process would: it stops
    /// accepting, closes every client connection (clients read end-of-file), lets in-flight
    /// work end (what is still running after a few seconds is aborted), flushes its logs and
    /// drops its link to the SC. Returns once the SC lists the SPU as `Offline` and has moved
    /// the leadership of each partition it led to an online in-sync replica, or marked the
    /// partition `LeaderOffline` when there is none. The rest of the cluster keeps running.
    ///
    /// Stopping an SPU that is already stopped (or killed) does nothing and returns `Ok`, so
    /// tests can stop unconditionally. An unknown id is [`ClusterError::UnknownSpu`].
    ///
    /// If the returned future is dropped before it completes, the stop still completes in the
    /// background.
    pub async fn stop_spu(&self, id: i32) -> Result<(), ClusterError> {
        self.take_down(id, false).await
    }

    /// Kills SPU `id`, as `kill -9` of its process would: every task of the SPU (accept loop,
    /// connections, streams, control loop, retention) is aborted at once; there is no graceful
    /// close and no flush, and its sockets are simply dropped. What it already wrote to its log
    /// files stays, so every acknowledged record survives. Returns once nothing of the SPU is
    /// running any more and the SC lists it as `Offline` and has moved the leadership of its
    /// partitions (or marked them `LeaderOffline`), as for [`LocalCluster::stop_spu`].
    ///
    /// Killing an SPU that is already stopped (or killed) does nothing and returns `Ok`. An
    /// unknown id is [`ClusterError::UnknownSpu`]. If the returned future is dropped before it
    /// completes, the kill still completes in the background.
    pub async fn kill_spu(&self, id: i32) -> Result<(), ClusterError> {
        self.take_down(id, true).await
    }

    async fn take_down(&self, id: i32, kill: bool) -> Result<(), ClusterError> {
        let guard = self.lifecycle.clone().lock_owned().await;
        let running = {
            let mut spus = self.spus.lock();
            let slot = spus.get_mut(&id).ok_or(ClusterError::UnknownSpu(id))?;
            match slot.running.take() {
                Some(running) => running,
                None => return Ok(()),
            }
        };
        // Run aside, holding the lifecycle guard, so that dropping this future cannot leave
        // the SPU half stopped while a restart of it begins.
        let stopping = tokio::spawn(async move {
            let _guard = guard;
            if kill {
                running.server.kill().await;
            } else {
                running.server.stop().await;
            }
            running.unregistered.cancelled().await;
        });
        stopping.await.map_err(|err| ClusterError::Storage(format!("stopping SPU {id} failed: {err}")))
    }

    /// Starts SPU `id` again after [`LocalCluster::stop_spu`] or [`LocalCluster::kill_spu`],
    /// with the same id and data directory. It listens on its previous port if that port is
    /// free (so clients that cached the address find it again), else on a port chosen by the
    /// OS; the SC's SPU object carries the new endpoint either way. Its logs are recovered as
    /// after a restart of the whole cluster.
    ///
    /// It comes back as a follower of the partitions that elected another leader while it was
    /// away (cutting any tail the new leader does not have, then catching up in the
    /// background), and as the leader of those it still leads or that were `LeaderOffline`
    /// waiting for an in-sync replica.
    ///
    /// Returns the SPU's public address once it serves again and every partition it leads is
    /// `Online`. Errors: [`ClusterError::UnknownSpu`], [`ClusterError::SpuRunning`],
    /// [`ClusterError::Bind`] (no port at all), and [`ClusterError::SpuNotReady`] when its
    /// partitions do not come online in time; the SPU is then left running, serving the
    /// partitions it could open.
    pub async fn start_spu(&self, id: i32) -> Result<SocketAddr, ClusterError> {
        let _guard = self.lifecycle.lock().await;
        let (port, fenced) = {
            let mut spus = self.spus.lock();
            let slot = spus.get_mut(&id).ok_or(ClusterError::UnknownSpu(id))?;
            let fenced = match &slot.running {
                Some(running) if running.server.has_stopped() => slot.running.take(),
                Some(_) => return Err(ClusterError::SpuRunning(id)),
                None => None,
            };
            (slot.port, fenced)
        };
        // An SPU that stopped itself after the SC fenced it: finish its stop first.
        if let Some(fenced) = fenced {
            fenced.server.stop().await;
            fenced.unregistered.cancelled().await;
        }
        let what = format!("SPU {id}");
        let listener = match bind(&self.config.host, port, &what).await {
            Ok(listener) => listener,
            Err(ClusterError::Bind { source, .. }) if source.kind() == std::io::ErrorKind::AddrInUse => {
                info!(spu = id, port, "previous port is taken; letting the OS choose one");
                bind(&self.config.host, 0, &what).await?
            }
            Err(err) => return Err(err),
        };
        let addr = self.launch_spu(id, listener)?;
        let timeout = self.config.ready_timeout;
        if !self.wait_leader_online(id, timeout).await {
            return Err(ClusterError::SpuNotReady { id, timeout });
        }
        info!(spu = id, %addr, "SPU started again");
        Ok(addr)
    }

    /// The data directory.
    pub fn base_dir(&self) -> &std::path::Path {
        &self.config.base_dir
    }

    async fn stop_all(&self) {
        // Lets a stop or kill still running in the background finish first.
        let _guard = self.lifecycle.lock().await;
        self.shutdown.cancel();
        let spus: Vec<RunningSpu> = self.spus.lock().values_mut().filter_map(|slot| slot.running.take()).collect();
        for spu in spus {
            spu.server.stop().await;
        }
        self.sc.wait_stopped().await;
    }

    /// Stops every running server, closes every connection and flushes every log. SPUs that
    /// were stopped or killed are left as they are.
    pub async fn shutdown(self) {
        self.stop_all().await;
        info!("cluster stopped");
    }
}

impl Drop for LocalCluster {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

async fn bind(host: &str, port: u16, what: &str) -> Result<TcpListener, ClusterError> {
    let addr = format!("{host}:{port}");
    TcpListener::bind(&addr).await.map_err(|source| ClusterError::Bind { what: what.to_string(), addr, source })
}

#[cfg(test)]
mod tests {
    use bytes::{Bytes, BytesMut};
    use fluvio_wire::api::{RequestHeader, encode_request_frame};
    use fluvio_wire::record::{RawBatch, Record, RecordSet};
    use fluvio_wire::sc::CommonCreateRequest;
    use fluvio_wire::spu::{
        Isolation, PartitionProduceData, ProduceAcks, ProduceRequest, StreamFetchRequest, TopicProduceData,
    };
    use fluvio_wire::{Compression, Request};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    use super::*;

    async fn send<R: Request>(stream: &mut TcpStream, request: &R) {
        let header = RequestHeader {
            api_key: R::API_KEY,
            api_version: R::DEFAULT_VERSION,
            correlation_id: 1,
            client_id: "unit".into(),
        };
        let mut frame = BytesMut::new();
        encode_request_frame(&header, request, &mut frame).unwrap();
        stream.write_all(&frame).await.unwrap();
    }

    /// Waits for some bytes from the server (a response or a push).
    async fn read_some(stream: &mut TcpStream) {
        let mut buf = [0u8; 4096];
        let read = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf)).await.unwrap().unwrap();
        assert!(read > 0);
    }

    /// A cluster of one SPU with topic `t`, a connection that produced a record and one with an
    /// open stream on it, and a probe of the SPU's state and replica.
    async fn busy_spu(dir: &std::path::Path) -> (LocalCluster, Vec<TcpStream>, impl Fn() -> usize) {
        let cluster = LocalCluster::start(ClusterConfig::new(dir)).await.unwrap();
        let common = CommonCreateRequest { name: "t".into(), dry_run: false, timeout: None };
        let status = cluster.sc.create_topic(&common, TopicSpec::computed(1, 1)).await;
        assert!(status.error_code.is_ok(), "{status:?}");
        let addr = cluster.spu_addrs()[0].1;

        let mut producer = TcpStream::connect(addr).await.unwrap();
        let record = Record::new(None, Bytes::from_static(b"v"), 0, 0);
        let batch = RawBatch::from_records(&[record], Compression::None, 0).unwrap();
        let produce = ProduceRequest {
            transactional_id: None,
            isolation: ProduceAcks(Isolation::ReadCommitted),
            timeout_ms: 5000,
            topics: vec![TopicProduceData {
                name: "t".into(),
                partitions: vec![PartitionProduceData {
                    partition_index: 0,
                    records: RecordSet::from_batches([&batch]).unwrap(),
                }],
            }],
            smartmodules: vec![],
        };
        send(&mut producer, &produce).await;
        read_some(&mut producer).await;

        let mut consumer = TcpStream::connect(addr).await.unwrap();
        let fetch = StreamFetchRequest { topic: "t".into(), max_bytes: 1 << 20, ..Default::default() };
        send(&mut consumer, &fetch).await;
        read_some(&mut consumer).await; // the first push: the session is running

        let probe = cluster.spus.lock()[&FIRST_SPU_ID].running.as_ref().unwrap().server.liveness_probe();
        assert!(probe() > 2, "the state and the replica are referenced by the SPU's tasks");
        (cluster, vec![producer, consumer], probe)
    }

    #[tokio::test]
    async fn a_killed_spu_leaves_no_task_and_no_open_log() {
        let dir = tempfile::tempdir().unwrap();
        let (cluster, _connections, probe) = busy_spu(dir.path()).await;
        cluster.kill_spu(FIRST_SPU_ID).await.unwrap();
        assert_eq!(probe(), 0, "nothing of the killed SPU holds its state or its log");
        cluster.shutdown().await;
    }

    #[tokio::test]
    async fn a_stopped_spu_leaves_no_task_and_no_open_log() {
        let dir = tempfile::tempdir().unwrap();
        let (cluster, _connections, probe) = busy_spu(dir.path()).await;
        cluster.stop_spu(FIRST_SPU_ID).await.unwrap();
        assert_eq!(probe(), 0, "nothing of the stopped SPU holds its state or its log");
        cluster.shutdown().await;
    }
}
