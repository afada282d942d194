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
//! The cluster runs on a tokio runtime of its own, with [`ClusterConfig::worker_threads`]
//! threads named `fluvio-local-<n>`, whichever runtime (or none) the caller's `await`s run on:
//! client work, blocking calls or a starved caller runtime in the same process never delay its
//! heartbeats, elections or replication. Every `async` method of [`LocalCluster`] runs its work
//! there and only waits for it, so dropping the future of a stop, kill or start does not
//! interrupt it.
//!
//! An SPU that the SC fences after missed heartbeats (a hung SPU) stops acknowledging at once,
//! then rejoins by itself shortly after, as a supervisor would restart it.
//!
//! Only one cluster at a time may run on a data directory: [`LocalCluster::start`] takes an
//! exclusive OS lock on `<base_dir>/.lock` and refuses with [`ClusterError::DirectoryInUse`]
//! while another cluster (in this process or any other) holds it. The kernel releases the lock
//! when its process ends, however it ends.
//!
//! Storage failures stay with what failed. Metadata changes are atomic (nothing is visible
//! before it is stored, so a full disk leaves no half-made topic); a full disk answers appends
//! `PartitionFull` and shows the partition `OutOfStorage` until space is back; a replica that
//! cannot be opened makes only its partition unavailable
//! ([`LocalCluster::unavailable_partitions`]) and never keeps the cluster from starting.
//! Connections are bounded in time and memory ([`ClusterConfig::idle_timeout`],
//! [`ClusterConfig::read_timeout`], [`ClusterConfig::max_buffered_bytes`]).
//!
//! Topics, partitions and SPUs are kept in
//! `<base_dir>/sc/metadata.json`; SPU `n` keeps its logs in `<base_dir>/spu-<n>/`. Starting
//! again on the same base directory brings back every topic and record.
//!
//! Partitions are replicated across SPUs (replication factor up to the number of SPUs): the
//! leader appends and followers pull from it over the SPUs' private endpoints. When records
//! are committed and whom the SC elects when an SPU stops, crashes or stops sending heartbeats
//! follow the [`ReplicationPolicy`]: by default real Fluvio's rules (committed once every
//! replica holds them; a follower elected only if it is less than [`FLUVIO_MAX_LAG`] records
//! behind, otherwise the partition waits for its leader), or an in-sync replica set
//! ([`ReplicationPolicy::InSync`]). Every election is under a new leader epoch; a returning
//! SPU cuts any uncommitted tail that diverged and catches up (restarting its log at the
//! leader's log start when the leader's retention deleted what it lacks). A topic whose
//! replication factor exceeds the SPUs online is created waiting for them
//! (`InsufficientResources`), as on a real cluster.
//!
//! Single SPUs can be stopped ([`LocalCluster::stop_spu`]), crashed ([`LocalCluster::kill_spu`])
//! and started again ([`LocalCluster::start_spu`]) while the rest of the cluster keeps running,
//! to test how clients cope with failing SPUs and moving leaders.

#![warn(missing_docs)]

mod control;
mod lock;
mod names;
mod net;
mod policy;
mod sc;
mod spu;
mod storage;
mod tasks;
mod tls;
mod view;

use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use parking_lot::Mutex;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use lock::DirectoryLock;
pub use policy::{FLUVIO_MAX_LAG, ReplicationPolicy, UnknownPolicy};
use sc::{Sc, ScSettings};
use spu::{ReplicationSettings, SpuEndpoints, SpuLimits, SpuServer};
pub use tls::{DEFAULT_HANDSHAKE_TIMEOUT, Pem, ServerTls};

/// Id of the first SPU (as in the official local cluster).
pub const FIRST_SPU_ID: i32 = 5001;
/// Default of [`ClusterConfig::spu_timeout`].
pub const DEFAULT_SPU_TIMEOUT: Duration = Duration::from_secs(3);
/// Default of [`ClusterConfig::provisioning_timeout`]: the official SC's (`FLV_TOPIC_WAIT`).
pub const DEFAULT_PROVISIONING_TIMEOUT: Duration = Duration::from_secs(90);
/// Default of [`ClusterConfig::replica_lag_time`].
pub const DEFAULT_REPLICA_LAG_TIME: Duration = Duration::from_secs(10);
/// Default of [`ClusterConfig::retention_interval`].
pub const DEFAULT_RETENTION_INTERVAL: Duration = Duration::from_secs(30);
/// Default of [`ClusterConfig::worker_threads`].
pub const DEFAULT_WORKER_THREADS: usize = 2;
/// Default of [`ClusterConfig::idle_timeout`]: Kafka's `connections.max.idle.ms`.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(600);
/// Default of [`ClusterConfig::read_timeout`].
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// Default of [`ClusterConfig::max_buffered_bytes`]: four requests of the largest size.
pub const DEFAULT_MAX_BUFFERED_BYTES: usize = 256 * 1024 * 1024;
/// Most SPUs a cluster may have ([`ClusterConfig::spus`]), and so most in-sync replicas it
/// may require ([`ClusterConfig::min_live_replicas`]).
pub const MAX_SPUS: u16 = 64;
/// Shortest [`ClusterConfig::spu_timeout`]: heartbeats go out several times per timeout.
pub const MIN_SPU_TIMEOUT: Duration = Duration::from_millis(100);
/// Shortest timeout of any other kind that the cluster takes (replica lag, connection
/// timeouts when not off).
pub const MIN_TIMEOUT: Duration = Duration::from_millis(1);
/// Smallest [`ClusterConfig::max_frame_size`].
pub const MIN_MAX_FRAME_SIZE: usize = net::UNBUDGETED_BYTES;
/// Default of [`ClusterConfig::max_frame_size`] (64 MiB).
pub const DEFAULT_MAX_FRAME_SIZE: usize = fluvio_wire::frame::DEFAULT_MAX_FRAME_SIZE;
/// Default replication factor of the system topic `consumer-offset` (with enough SPUs).
pub const DEFAULT_CONSUMER_OFFSET_REPLICATION: u16 = 3;
/// How long a fenced SPU waits before it rejoins.
const REJOIN_DELAY: Duration = Duration::from_millis(500);
/// How long dropping a cluster outside any async context waits for its threads to end.
const RUNTIME_SHUTDOWN_WAIT: Duration = Duration::from_secs(5);

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
    replication_policy: ReplicationPolicy,
    spu_timeout: Duration,
    replica_lag_time: Duration,
    retention_interval: Duration,
    worker_threads: usize,
    idle_timeout: Duration,
    read_timeout: Duration,
    max_buffered_bytes: usize,
    tls: Option<ServerTls>,
    consumer_offset_replication: Option<u16>,
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
            provisioning_timeout: DEFAULT_PROVISIONING_TIMEOUT,
            ready_timeout: Duration::from_secs(30),
            max_frame_size: DEFAULT_MAX_FRAME_SIZE,
            min_live_replicas: 1,
            replication_policy: ReplicationPolicy::Fluvio,
            spu_timeout: DEFAULT_SPU_TIMEOUT,
            replica_lag_time: DEFAULT_REPLICA_LAG_TIME,
            retention_interval: DEFAULT_RETENTION_INTERVAL,
            worker_threads: DEFAULT_WORKER_THREADS,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            read_timeout: DEFAULT_READ_TIMEOUT,
            max_buffered_bytes: DEFAULT_MAX_BUFFERED_BYTES,
            tls: None,
            consumer_offset_replication: None,
        }
    }

    /// Replicas of the system topic `consumer-offset`, where named consumers' offsets are kept
    /// (default: 3, or the number of SPUs if fewer, and at least
    /// [`ClusterConfig::min_live_replicas`]). Fluvio's SC creates it with 1 replica, so that
    /// the loss of the SPU holding it loses every consumer's offset until it returns; replicated,
    /// offsets survive the loss of any SPU as committed records do. Set 1 to have exactly what
    /// a Fluvio cluster has. Applies when the topic is created, i.e. on the first start on a
    /// data directory.
    pub fn consumer_offset_replication(mut self, replicas: u16) -> Self {
        self.consumer_offset_replication = Some(replicas);
        self
    }

    /// The replication factor `consumer-offset` is created with.
    fn consumer_offset_replicas(&self) -> u32 {
        let replicas = self.consumer_offset_replication.unwrap_or(self.spus.min(DEFAULT_CONSUMER_OFFSET_REPLICATION));
        u32::from(replicas.max(self.min_live_replicas))
    }

    /// Serves TLS on the public listeners of the SC and of every SPU (SPU-to-SPU traffic stays
    /// plain). Clients need a verified (or anonymous) TLS profile; see [`ServerTls`] for the
    /// names the certificate must carry.
    pub fn tls(mut self, tls: ServerTls) -> Self {
        self.tls = Some(tls);
        self
    }

    /// Number of SPUs (1 to [`MAX_SPUS`]).
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

    /// How long a Create (or an Update adding partitions) waits for every partition to come
    /// online before it answers `TopicNotProvisioned` (default 90 s, as the official SC). A
    /// topic that cannot be placed (its replication factor exceeds the online SPUs) is created
    /// all the same, with the status `InsufficientResources`, and its Create is answered after
    /// this wait, as on a real cluster; the topic is placed once enough SPUs are online.
    pub fn provisioning_timeout(mut self, timeout: Duration) -> Self {
        self.provisioning_timeout = timeout;
        self
    }

    /// In-sync replicas (leader included) a partition needs before its high watermark
    /// advances, i.e. before records are committed: visible to READ_COMMITTED readers and
    /// acknowledged to READ_COMMITTED producers. Default 1. Topics with a smaller replication
    /// factor are refused. With 2 and replication factor 3, a committed record survives the
    /// loss of any one SPU even while another is down. It matters under
    /// [`ReplicationPolicy::InSync`] only: under [`ReplicationPolicy::Fluvio`] every replica
    /// must hold a record before it is committed.
    pub fn min_live_replicas(mut self, replicas: u16) -> Self {
        self.min_live_replicas = replicas;
        self
    }

    /// When records are committed and which replica may be elected (default
    /// [`ReplicationPolicy::Fluvio`]: real Fluvio's rules; [`ReplicationPolicy::InSync`]: the
    /// stronger guarantees of an in-sync replica set). See [`ReplicationPolicy`].
    pub fn replication_policy(mut self, policy: ReplicationPolicy) -> Self {
        self.replication_policy = policy;
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
    /// replicas (default 10 s). A follower whose connection drops leaves at once. Under
    /// [`ReplicationPolicy::InSync`] only: under [`ReplicationPolicy::Fluvio`] followers never
    /// leave for lagging.
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

    /// Threads of the cluster's own runtime (default 2, at least 1). The cluster never runs
    /// on the caller's runtime, so that client work in the same process cannot starve it.
    pub fn worker_threads(mut self, threads: usize) -> Self {
        self.worker_threads = threads;
        self
    }

    /// Largest request frame accepted by the servers (default 64 MiB, at least 64 KiB): a
    /// larger announced length closes the connection. It is also what one connection may
    /// buffer of an unfinished request.
    pub fn max_frame_size(mut self, bytes: usize) -> Self {
        self.max_frame_size = bytes;
        self
    }

    /// How long a client connection with nothing going on stays open (default 10 minutes, as
    /// Kafka's `connections.max.idle.ms`; [`Duration::ZERO`]: forever). Nothing going on means
    /// no request being read or handled, no answer waiting to be sent, and no stream or watch
    /// session open on it: a consumer waiting for records or a client watching metadata is
    /// never cut, however quiet. A producer idle between bursts is; clients (ours and the
    /// official one) connect again on their next request. Replication connections between
    /// SPUs have no idle timeout.
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// How long a request may take to arrive once its first byte has (default 30 s;
    /// [`Duration::ZERO`]: forever). A peer that sends part of a request and stops is cut
    /// after it. Waiting for buffer budget ([`ClusterConfig::max_buffered_bytes`]) counts.
    pub fn read_timeout(mut self, timeout: Duration) -> Self {
        self.read_timeout = timeout;
        self
    }

    /// Bytes of unfinished requests all connections of the cluster may buffer together
    /// (default 256 MiB, at least [`ClusterConfig::max_frame_size`]). Requests up to 64 KiB
    /// always proceed; a larger one first reserves its announced size, and its connection
    /// reads no further until that much is free (within the read timeout). So a crowd of
    /// peers sending huge requests slowly holds at most this much memory.
    pub fn max_buffered_bytes(mut self, bytes: usize) -> Self {
        self.max_buffered_bytes = bytes;
        self
    }

    /// The data directory.
    pub fn base_dir(&self) -> &std::path::Path {
        &self.base_dir
    }

    /// Refuses settings the cluster cannot run with: each setting by its rule below.
    fn validate(&self) -> Result<(), ClusterError> {
        Self::check_spus(self.spus)?;
        Self::check_min_live_replicas(self.min_live_replicas)?;
        Self::check_spu_timeout(self.spu_timeout)?;
        Self::check_replica_lag_time(self.replica_lag_time)?;
        Self::check_connection_timeout("the idle timeout", self.idle_timeout)?;
        Self::check_connection_timeout("the read timeout", self.read_timeout)?;
        let invalid = |message: &str| Err(ClusterError::InvalidConfig(message.into()));
        if self.consumer_offset_replication == Some(0) {
            return invalid("consumer-offset needs at least one replica");
        }
        if self.retention_interval.is_zero() {
            return invalid("the retention interval must be positive");
        }
        if self.worker_threads == 0 {
            return invalid("the cluster needs at least one worker thread");
        }
        if self.max_frame_size < MIN_MAX_FRAME_SIZE {
            return invalid("the maximum frame size must be at least 64 KiB");
        }
        Self::check_max_buffered_bytes(self.max_buffered_bytes, self.max_frame_size)
    }

    // The rules of the settings, each in one place: `validate` applies them when the cluster
    // starts, and front ends (the `fluvio-local` command, the Java builder) as values are set.

    /// [`ClusterConfig::spus`]: 1 to [`MAX_SPUS`].
    pub fn check_spus(spus: u16) -> Result<(), ClusterError> {
        if !(1..=MAX_SPUS).contains(&spus) {
            return Err(ClusterError::InvalidConfig(format!("a cluster has 1 to {MAX_SPUS} SPUs, not {spus}")));
        }
        Ok(())
    }

    /// [`ClusterConfig::min_live_replicas`]: 1 to [`MAX_SPUS`].
    pub fn check_min_live_replicas(replicas: u16) -> Result<(), ClusterError> {
        if !(1..=MAX_SPUS).contains(&replicas) {
            return Err(ClusterError::InvalidConfig(format!(
                "min-live-replicas must be 1 to {MAX_SPUS}, not {replicas}"
            )));
        }
        Ok(())
    }

    /// [`ClusterConfig::spu_timeout`]: at least [`MIN_SPU_TIMEOUT`].
    pub fn check_spu_timeout(timeout: Duration) -> Result<(), ClusterError> {
        if timeout < MIN_SPU_TIMEOUT {
            return Err(ClusterError::InvalidConfig(format!(
                "the SPU timeout must be at least {MIN_SPU_TIMEOUT:?}, not {timeout:?}"
            )));
        }
        Ok(())
    }

    /// [`ClusterConfig::replica_lag_time`]: at least [`MIN_TIMEOUT`].
    pub fn check_replica_lag_time(lag: Duration) -> Result<(), ClusterError> {
        if lag < MIN_TIMEOUT {
            return Err(ClusterError::InvalidConfig(format!(
                "the replica lag time must be at least {MIN_TIMEOUT:?}, not {lag:?}"
            )));
        }
        Ok(())
    }

    /// [`ClusterConfig::idle_timeout`] and [`ClusterConfig::read_timeout`] (`what`): zero
    /// (off), or at least [`MIN_TIMEOUT`].
    pub fn check_connection_timeout(what: &str, timeout: Duration) -> Result<(), ClusterError> {
        if !timeout.is_zero() && timeout < MIN_TIMEOUT {
            return Err(ClusterError::InvalidConfig(format!(
                "{what} must be zero (off) or at least {MIN_TIMEOUT:?}, not {timeout:?}"
            )));
        }
        Ok(())
    }

    /// [`ClusterConfig::max_buffered_bytes`]: at least one request of `max_frame_size`.
    pub fn check_max_buffered_bytes(bytes: usize, max_frame_size: usize) -> Result<(), ClusterError> {
        if bytes < max_frame_size {
            return Err(ClusterError::InvalidConfig(format!(
                "the buffer budget must hold at least one frame of the maximum size ({max_frame_size} bytes), not {bytes}"
            )));
        }
        Ok(())
    }

    /// What every client connection is allowed, with a fresh buffer budget.
    fn connection_limits(&self) -> net::ConnectionLimits {
        let optional = |timeout: Duration| (!timeout.is_zero()).then_some(timeout);
        net::ConnectionLimits {
            max_frame_size: self.max_frame_size,
            idle_timeout: optional(self.idle_timeout),
            read_timeout: optional(self.read_timeout),
            buffers: Arc::new(net::BufferBudget::new(self.max_buffered_bytes)),
        }
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
    /// Another cluster (in this process or another one) runs on the data directory: it holds
    /// the directory's lock (`<base_dir>/.lock`). Two clusters on one directory would
    /// overwrite each other's records.
    #[error("the data directory {} is in use by another cluster{}", path.display(), holder.map(|pid| format!(" (process {pid})")).unwrap_or_default())]
    DirectoryInUse {
        /// The data directory.
        path: PathBuf,
        /// The process id of the cluster holding it, when it could be read.
        holder: Option<u32>,
    },
    /// The data directory or metadata could not be used.
    #[error("cannot use the data directory: {0}")]
    Storage(String),
    /// Restored partitions did not come online: nothing changed for this long.
    #[error("restored topics did not come online (no progress for {0:?})")]
    NotReady(Duration),
    /// No SPU of the cluster has this id.
    #[error("no SPU with id {0} in this cluster")]
    UnknownSpu(i32),
    /// The SPU is already running.
    #[error("SPU {0} is already running")]
    SpuRunning(i32),
    /// A restarted SPU is running, but not every partition it leads came back online: nothing
    /// changed for `timeout`.
    #[error("SPU {id} is running but the partitions it leads did not come online (no progress for {timeout:?})")]
    SpuNotReady {
        /// The SPU.
        id: i32,
        /// How long nothing changed.
        timeout: Duration,
    },
    /// The cluster's runtime could not be started, or one of its tasks failed (a bug).
    #[error("internal error of the cluster: {0}")]
    Internal(String),
}

/// A partition the cluster cannot serve ([`LocalCluster::unavailable_partitions`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnavailablePartition {
    /// `<topic>-<index>`.
    pub partition: String,
    /// Whether the cause is a full disk (clients get `PartitionFull`; else `StorageError`).
    pub storage_full: bool,
    /// What went wrong.
    pub reason: String,
}

/// A running cluster, on a tokio runtime of its own (see the crate documentation). Dropping it
/// without [`LocalCluster::shutdown`] stops everything at once, as a crash of its process
/// would: nothing is flushed, and what was written stays.
pub struct LocalCluster {
    inner: Arc<ClusterInner>,
    runtime: OwnedRuntime,
}

/// The cluster's state, shared with the tasks that watch over its SPUs.
struct ClusterInner {
    config: ClusterConfig,
    sc: Arc<Sc>,
    sc_addr: SocketAddr,
    shutdown: CancellationToken,
    spus: Mutex<BTreeMap<i32, SpuSlot>>,
    /// Serializes SPU starts, stops, kills and rejoins. Taken by the caller of a public
    /// operation before its work moves to the cluster's runtime, so that operations run in
    /// the order they were called; owned guards let that work finish even if the caller's
    /// future is dropped.
    lifecycle: Arc<tokio::sync::Mutex<()>>,
    /// TLS of the public listeners, built once from [`ClusterConfig::tls`].
    tls: Option<tls::TlsAcceptor>,
    /// Held by the SC and every SPU too, so it outlives any of them still running.
    lock: Arc<DirectoryLock>,
    /// Numbers the runs of SPUs, so a watcher acts only on the run it watches.
    runs: AtomicU64,
    /// What client connections of every server are allowed; one buffer budget for all.
    connections: net::ConnectionLimits,
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
    /// Which run of the SPU this is.
    run: u64,
    /// Cancelled when the run is stopped or killed on purpose: its watcher then ends.
    retired: CancellationToken,
}

/// The cluster's own runtime. Shut down without blocking when dropped inside an async context
/// (where a blocking shutdown would panic), else after its threads ended.
struct OwnedRuntime(Option<tokio::runtime::Runtime>);

impl OwnedRuntime {
    fn build(threads: usize) -> Result<Self, ClusterError> {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .thread_name_fn(|| format!("fluvio-local-{}", NEXT.fetch_add(1, Ordering::Relaxed)))
            .enable_all()
            .build()
            .map(|runtime| Self(Some(runtime)))
            .map_err(|err| ClusterError::Internal(format!("cannot start the cluster's runtime: {err}")))
    }

    fn handle(&self) -> &tokio::runtime::Handle {
        // Taken only by `drop`.
        self.0.as_ref().map(tokio::runtime::Runtime::handle).expect("the runtime lives until dropped")
    }
}

impl Drop for OwnedRuntime {
    fn drop(&mut self) {
        let Some(runtime) = self.0.take() else { return };
        if tokio::runtime::Handle::try_current().is_ok() {
            runtime.shutdown_background();
        } else {
            runtime.shutdown_timeout(RUNTIME_SHUTDOWN_WAIT);
        }
    }
}

/// Runs `work` on `runtime` and waits for it. Dropping the returned future does not cancel the
/// work: it runs to completion on the cluster's runtime.
async fn on_runtime<T: Send + 'static>(
    runtime: &tokio::runtime::Handle,
    work: impl Future<Output = T> + Send + 'static,
) -> Result<T, ClusterError> {
    runtime.spawn(work).await.map_err(|err| ClusterError::Internal(format!("a cluster task failed: {err}")))
}

impl LocalCluster {
    /// Starts the SC and the SPUs on a runtime of the cluster's own, and waits until every
    /// restored partition is online or known to be unavailable (see
    /// [`LocalCluster::unavailable_partitions`]). Refused with
    /// [`ClusterError::DirectoryInUse`] when another cluster runs on the data directory.
    pub async fn start(config: ClusterConfig) -> Result<Self, ClusterError> {
        config.validate()?;
        storage::prepare_open_files();
        std::fs::create_dir_all(&config.base_dir)
            .map_err(|e| ClusterError::Storage(format!("cannot create {}: {e}", config.base_dir.display())))?;
        let runtime = OwnedRuntime::build(config.worker_threads)?;
        // On failure `runtime` is dropped here, in an async context: it shuts down in the
        // background, after `ClusterInner::start` stopped whatever it had started.
        let base_dir = config.base_dir.clone();
        // Taking the lock may wait a moment (see `DirectoryLock::acquire`): not on the caller's
        // thread.
        let lock = runtime
            .handle()
            .spawn_blocking(move || DirectoryLock::acquire(&base_dir))
            .await
            .map_err(|err| ClusterError::Internal(format!("could not take the directory's lock: {err}")))??;
        let inner = on_runtime(runtime.handle(), ClusterInner::start(config, Arc::new(lock))).await??;
        Ok(Self { inner, runtime })
    }

    /// The SC's public address.
    pub fn sc_addr(&self) -> SocketAddr {
        self.inner.sc_addr
    }

    /// The SC's public address as `host:port`, what a profile's `endpoint` holds.
    pub fn sc_endpoint(&self) -> String {
        self.inner.sc_addr.to_string()
    }

    /// Ids and public addresses of the running SPUs, in id order. Stopped and killed SPUs are
    /// not listed.
    pub fn spu_addrs(&self) -> Vec<(i32, SocketAddr)> {
        self.inner
            .spus
            .lock()
            .iter()
            .filter_map(|(id, slot)| {
                slot.running.as_ref().filter(|r| !r.server.has_stopped()).map(|r| (*id, r.server.public_addr()))
            })
            .collect()
    }

    /// Ids of every SPU of the cluster, running or not, in id order.
    pub fn spu_ids(&self) -> Vec<i32> {
        self.inner.spus.lock().keys().copied().collect()
    }

    /// Partitions that cannot be served now, with why: a replica that cannot be opened (damaged
    /// files, a full disk) on an SPU that has to lead it, with no other in-sync replica to take
    /// over. Each is `LeaderOffline`, its topic's status names the cause, and clients using it
    /// get the storage error; every other partition keeps serving. A partition leaves the list
    /// once it is online again.
    pub fn unavailable_partitions(&self) -> Vec<UnavailablePartition> {
        self.inner
            .sc
            .unavailable_partitions()
            .into_iter()
            .map(|(partition, code, reason)| UnavailablePartition {
                partition,
                storage_full: matches!(code, fluvio_wire::ErrorCode::PartitionFull { .. }),
                reason,
            })
            .collect()
    }

    /// Whether SPU `id` is running (false for an unknown id, and for an SPU the SC fenced
    /// after missed heartbeats until it has rejoined).
    pub fn is_spu_running(&self, id: i32) -> bool {
        self.inner
            .spus
            .lock()
            .get(&id)
            .is_some_and(|slot| slot.running.as_ref().is_some_and(|r| !r.server.has_stopped()))
    }

    /// Test support (feature `test-hooks`): pauses (or resumes) replication on SPU `id`: the
    /// replicas it follows send no fetch to their leaders, as a slow follower would. The leaders
    /// keep those followers in sync for [`ClusterConfig::replica_lag_time`], so records appended
    /// meanwhile stay uncommitted; useful to create an uncommitted tail before a leader fails.
    #[cfg(feature = "test-hooks")]
    pub fn pause_spu_replication(&self, id: i32, paused: bool) -> Result<(), ClusterError> {
        let spus = self.inner.spus.lock();
        let slot = spus.get(&id).ok_or(ClusterError::UnknownSpu(id))?;
        if let Some(running) = &slot.running {
            running.server.pause_replication(paused);
        }
        Ok(())
    }

    /// Test support (feature `test-hooks`): SPU `id` keeps serving but stops sending heartbeats
    /// to the SC, as a hung SPU would. After [`ClusterConfig::spu_timeout`] the SC declares it
    /// dead, elects new leaders for its partitions and drops its control link, which fences the
    /// SPU: it stops acknowledging anything and shuts down. Like any fenced SPU, it then rejoins
    /// by itself shortly after, as a healthy SPU that sends heartbeats again, and follows the new
    /// leaders.
    #[cfg(feature = "test-hooks")]
    pub fn silence_spu_heartbeats(&self, id: i32) -> Result<(), ClusterError> {
        let spus = self.inner.spus.lock();
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
        let guard = self.inner.lifecycle.clone().lock_owned().await;
        // Taken out at once: from here on the SPU is not running, whatever becomes of this
        // future.
        let running = {
            let mut spus = self.inner.spus.lock();
            let slot = spus.get_mut(&id).ok_or(ClusterError::UnknownSpu(id))?;
            match slot.running.take() {
                Some(running) => running,
                None => return Ok(()),
            }
        };
        on_runtime(self.runtime.handle(), async move {
            let _guard = guard;
            running.retired.cancel();
            if kill {
                running.server.kill().await;
            } else {
                running.server.stop().await;
            }
            running.unregistered.cancelled().await;
        })
        .await
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
    /// partitions stop coming online (nothing changed for 30 s); the SPU is then left running, serving the
    /// partitions it could open.
    pub async fn start_spu(&self, id: i32) -> Result<SocketAddr, ClusterError> {
        let guard = self.inner.lifecycle.clone().lock_owned().await;
        let inner = self.inner.clone();
        on_runtime(self.runtime.handle(), async move { inner.start_spu(id, guard).await }).await?
    }

    /// The data directory.
    pub fn base_dir(&self) -> &std::path::Path {
        &self.inner.config.base_dir
    }

    /// When this cluster commits records and whom it elects
    /// ([`ClusterConfig::replication_policy`]).
    pub fn replication_policy(&self) -> ReplicationPolicy {
        self.inner.config.replication_policy
    }

    /// Stops every running server, closes every connection and flushes every log, then
    /// releases the data directory. SPUs that were stopped or killed are left as they are.
    pub async fn shutdown(self) {
        let inner = self.inner.clone();
        if let Err(err) = on_runtime(self.runtime.handle(), async move { inner.stop_all().await }).await {
            warn!(%err, "the cluster did not stop cleanly");
        }
        debug!("cluster stopped");
    }
}

impl Drop for LocalCluster {
    fn drop(&mut self) {
        self.inner.shutdown.cancel();
    }
}

impl ClusterInner {
    /// Starts the SC and the SPUs (on the current runtime, the cluster's own).
    async fn start(config: ClusterConfig, lock: Arc<DirectoryLock>) -> Result<Arc<Self>, ClusterError> {
        let spu_ids = (0..config.spus).map(|index| FIRST_SPU_ID + i32::from(index));
        let tls = config.tls.as_ref().map(|tls| tls.acceptor(spu_ids)).transpose()?;
        let connections = config.connection_limits();
        let settings = ScSettings {
            provisioning_timeout: config.provisioning_timeout,
            connections: connections.clone(),
            host: config.host.clone(),
            min_live_replicas: config.min_live_replicas,
            policy: config.replication_policy,
            spu_timeout: config.spu_timeout,
            tls: tls.clone(),
        };
        let sc = Sc::open(&config.base_dir.join("sc"), settings, lock.clone())
            .map_err(|e| ClusterError::Storage(e.to_string()))?;
        let shutdown = CancellationToken::new();
        let sc_listener = bind(&config.host, config.sc_port, "the SC").await?;
        let sc_addr = sc_listener.local_addr().map_err(|e| ClusterError::Storage(e.to_string()))?;
        sc.serve(sc_listener, shutdown.child_token());
        let cluster = Arc::new(Self {
            config,
            sc,
            sc_addr,
            shutdown,
            spus: Mutex::new(BTreeMap::new()),
            lifecycle: Arc::new(tokio::sync::Mutex::new(())),
            tls,
            lock,
            runs: AtomicU64::new(0),
            connections,
        });
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
        // As Fluvio's SC: the system topic exists from the start, and comes back if it goes.
        let replicas = cluster.config.consumer_offset_replicas();
        let status = cluster.sc.ensure_consumer_offset_topic(replicas).await;
        if !status.error_code.is_ok() {
            warn!(message = ?status.error_message, "could not create the system topic consumer-offset; retrying later");
        }
        cluster.sc.keep_consumer_offset_topic(replicas, cluster.shutdown.child_token());
        if !cluster.wait_ready(cluster.config.ready_timeout).await {
            cluster.stop_all().await;
            return Err(ClusterError::NotReady(cluster.config.ready_timeout));
        }
        debug!(sc = %sc_addr, spus = cluster.config.spus, "cluster started");
        Ok(cluster)
    }

    /// Registers SPU `id` with the SC and starts serving clients on `listener` (and its
    /// followers on a private listener of its own), with a watcher that brings it back if the
    /// SC fences it. Returns its public address.
    fn launch_spu(self: &Arc<Self>, id: i32, listener: TcpListener) -> Result<SocketAddr, ClusterError> {
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
        let limits = SpuLimits::new(self.connections.clone());
        let replication = ReplicationSettings {
            spu: id,
            min_live_replicas: usize::from(self.config.min_live_replicas),
            policy: self.config.replication_policy,
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
            self.lock.clone(),
            self.shutdown.child_token(),
        )
        .map_err(|e| ClusterError::Storage(format!("SPU {id}: {e}")))?;
        let run = self.runs.fetch_add(1, Ordering::Relaxed);
        let retired = CancellationToken::new();
        self.watch_for_fencing(id, run, server.stopped(), retired.clone());
        let running = RunningSpu { server, unregistered, run, retired };
        self.spus.lock().insert(id, SpuSlot { port: public_addr.port(), running: Some(running) });
        Ok(public_addr)
    }

    /// Brings SPU `id` back when run `run` stops by itself, which it does only when the SC
    /// fenced it (it missed heartbeats, e.g. while its host was starved): as a supervisor
    /// restarts a crashed process, so that a healthy SPU never stays out of the cluster.
    fn watch_for_fencing(self: &Arc<Self>, id: i32, run: u64, stopped: CancellationToken, retired: CancellationToken) {
        let cluster = Arc::downgrade(self);
        let shutdown = self.shutdown.clone();
        tokio::spawn(async move {
            tokio::select! {
                _ = stopped.cancelled() => {}
                _ = retired.cancelled() => return,
                _ = shutdown.cancelled() => return,
            }
            tokio::select! {
                _ = tokio::time::sleep(REJOIN_DELAY) => {}
                _ = retired.cancelled() => return,
                _ = shutdown.cancelled() => return,
            }
            let Some(cluster) = cluster.upgrade() else { return };
            cluster.rejoin(id, run).await;
        });
    }

    /// Restarts SPU `id` if its run `run` is still the current one and has stopped by itself.
    async fn rejoin(self: &Arc<Self>, id: i32, run: u64) {
        let _guard = self.lifecycle.lock().await;
        if self.shutdown.is_cancelled() {
            return;
        }
        let (port, fenced) = {
            let mut spus = self.spus.lock();
            let Some(slot) = spus.get_mut(&id) else { return };
            match &slot.running {
                Some(running) if running.run == run && running.server.has_stopped() => (slot.port, slot.running.take()),
                _ => return,
            }
        };
        if let Some(fenced) = fenced {
            fenced.server.stop().await;
            fenced.unregistered.cancelled().await;
        }
        match self.relaunch(id, port).await {
            Ok(addr) => warn!(spu = id, %addr, "the SC had fenced this SPU; it rejoined the cluster"),
            Err(err) => warn!(spu = id, %err, "the SC had fenced this SPU and it could not rejoin"),
        }
    }

    /// Listens again on `port` if it is free, else on a port chosen by the OS, and launches
    /// SPU `id` there.
    async fn relaunch(self: &Arc<Self>, id: i32, port: u16) -> Result<SocketAddr, ClusterError> {
        let what = format!("SPU {id}");
        let listener = match bind(&self.config.host, port, &what).await {
            Ok(listener) => listener,
            Err(ClusterError::Bind { source, .. }) if source.kind() == std::io::ErrorKind::AddrInUse => {
                info!(spu = id, port, "previous port is taken; letting the OS choose one");
                bind(&self.config.host, 0, &what).await?
            }
            Err(err) => return Err(err),
        };
        self.launch_spu(id, listener)
    }

    /// Waits until every topic is provisioned, or every partition that is not online is known
    /// to be unavailable. Returns false once nothing changed for `timeout`: how long a start
    /// takes grows with the number of partitions (each new leader epoch is fsynced), so only
    /// a start that stopped making progress is given up on.
    async fn wait_ready(&self, timeout: Duration) -> bool {
        self.wait_for_all(timeout, |from| self.sc.first_unsettled(from)).await
    }

    /// Waits until every partition led by SPU `id` is Online (or known to be unavailable).
    /// Returns false once nothing changed for `timeout`, as [`Self::wait_ready`].
    async fn wait_leader_online(&self, id: i32, timeout: Duration) -> bool {
        self.wait_for_all(timeout, |from| self.sc.first_led_not_serving(id, from)).await
    }

    /// Waits until `first_pending("")` finds nothing pending, asking again after each change of
    /// the metadata from the first name still pending at the last look (the names before it
    /// were done then), so that waiting for N objects costs O(N) rather than a scan of all of
    /// them per change. Returns false once nothing changed for `timeout`.
    async fn wait_for_all(&self, timeout: Duration, first_pending: impl Fn(&str) -> Option<String>) -> bool {
        let mut events = self.sc.store().subscribe();
        let mut from = String::new();
        loop {
            match first_pending(&from) {
                None if from.is_empty() => return true,
                // Done from `from` on: one more look at the whole, the earlier names included.
                None => {
                    from.clear();
                    continue;
                }
                Some(name) => from = name,
            }
            if tokio::time::timeout(timeout, events.recv()).await.is_err() {
                return false;
            }
        }
    }

    /// Starts SPU `id` again, holding the lifecycle lock.
    async fn start_spu(
        self: &Arc<Self>,
        id: i32,
        _guard: tokio::sync::OwnedMutexGuard<()>,
    ) -> Result<SocketAddr, ClusterError> {
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
        // An SPU that stopped itself after the SC fenced it, not rejoined yet: finish its stop
        // first (its watcher then finds it replaced and does nothing).
        if let Some(fenced) = fenced {
            fenced.retired.cancel();
            fenced.server.stop().await;
            fenced.unregistered.cancelled().await;
        }
        let addr = self.relaunch(id, port).await?;
        let timeout = self.config.ready_timeout;
        if !self.wait_leader_online(id, timeout).await {
            return Err(ClusterError::SpuNotReady { id, timeout });
        }
        info!(spu = id, %addr, "SPU started again");
        Ok(addr)
    }

    async fn stop_all(&self) {
        // Lets a stop or kill still running finish first.
        let _guard = self.lifecycle.lock().await;
        self.shutdown.cancel();
        let spus: Vec<RunningSpu> = self.spus.lock().values_mut().filter_map(|slot| slot.running.take()).collect();
        for spu in spus {
            spu.retired.cancel();
            spu.server.stop().await;
        }
        self.sc.wait_stopped().await;
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
    use fluvio_wire::sc::partition::PartitionResolution;
    use fluvio_wire::sc::{CommonCreateRequest, TopicSpec};
    use fluvio_wire::spu::{
        Isolation, PartitionProduceData, ProduceAcks, ProduceRequest, StreamFetchRequest, TopicProduceData,
    };
    use fluvio_wire::{Compression, Request};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    use super::*;
    use fluvio_wire::sc::PartitionSpec;

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
        let status = cluster.inner.sc.create_topic(&common, TopicSpec::computed(1, 1)).await;
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

        let probe = cluster.inner.spus.lock()[&FIRST_SPU_ID].running.as_ref().unwrap().server.liveness_probe();
        assert!(probe() > 2, "the state and the replica are referenced by the SPU's tasks");
        (cluster, vec![producer, consumer], probe)
    }

    /// The run number of SPU `id`'s current run (it changes when the SPU rejoins).
    fn current_run(cluster: &LocalCluster, id: i32) -> Option<u64> {
        cluster.inner.spus.lock()[&id].running.as_ref().map(|r| r.run)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn slow_log_recovery_does_not_delay_heartbeats() {
        let dir = tempfile::tempdir().unwrap();
        let spu_timeout = Duration::from_millis(300);
        let cluster = LocalCluster::start(ClusterConfig::new(dir.path()).spu_timeout(spu_timeout)).await.unwrap();
        let run = current_run(&cluster, FIRST_SPU_ID);
        {
            let spus = cluster.inner.spus.lock();
            let state = spus[&FIRST_SPU_ID].running.as_ref().unwrap().server.state().clone();
            // Opening the new topic's replica takes five SPU timeouts, as a long log recovery
            // would; the control loop awaits it.
            state.slow_replica_open_ms.store(spu_timeout.as_millis() as u64 * 5, std::sync::atomic::Ordering::Relaxed);
        }
        let common = CommonCreateRequest { name: "slow".into(), dry_run: false, timeout: None };
        let status = cluster.inner.sc.create_topic(&common, TopicSpec::computed(1, 1)).await;
        assert!(status.error_code.is_ok(), "{status:?}");
        assert_eq!(current_run(&cluster, FIRST_SPU_ID), run, "the SPU was never fenced nor restarted");
        cluster.shutdown().await;
    }

    /// A leader stopped gracefully while its control loop is busy (here a slow log recovery):
    /// the stop closes its followers' connections, and the leader must not take them out of
    /// its in-sync replicas on that account before the SC hears it is gone, or the SC finds no
    /// in-sync replica online and leaves the partitions `LeaderOffline`. (Under the `InSync`
    /// policy: under `Fluvio`, followers never leave the in-sync replicas.)
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_graceful_stop_of_a_busy_leader_keeps_its_followers_in_sync() {
        use fluvio_wire::sc::topic::{PartitionMap, ReplicaSpec};
        const TOPICS: usize = 6;
        const ROUNDS: usize = 3;
        let dir = tempfile::tempdir().unwrap();
        let config = ClusterConfig::new(dir.path()).spus(3).replication_policy(ReplicationPolicy::InSync);
        let cluster = LocalCluster::start(config).await.unwrap();
        let sc = cluster.inner.sc.clone();
        let leader = FIRST_SPU_ID;
        let replicas = vec![leader, leader + 1, leader + 2];
        let create = |name: String, replicas: Vec<i32>| {
            let sc = sc.clone();
            async move {
                let common = CommonCreateRequest { name, dry_run: false, timeout: None };
                let spec = TopicSpec {
                    replicas: ReplicaSpec::Assigned(vec![PartitionMap { id: 0, replicas, mirror: None }]),
                    ..Default::default()
                };
                sc.create_topic(&common, spec).await
            }
        };
        for round in 0..ROUNDS {
            let names: Vec<String> = (0..TOPICS).map(|i| format!("r{round}t{i}")).collect();
            for name in &names {
                assert!(create(name.clone(), replicas.clone()).await.error_code.is_ok());
            }
            // Every follower has fetched: its connection counts for the in-sync replicas.
            let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
            while !names.iter().all(|name| {
                sc.store().get::<PartitionSpec>(&format!("{name}-0")).is_some_and(|p| {
                    p.status.resolution == PartitionResolution::Online
                        && p.status.replicas.len() == 2
                        && p.status.replicas.iter().all(|r| r.leo == 0)
                })
            }) {
                assert!(tokio::time::Instant::now() < deadline, "followers did not join");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            // The leader's control loop opens a new replica, slowly, while the stop begins, and
            // the stop is preempted half-way.
            {
                let spus = cluster.inner.spus.lock();
                let state = spus[&leader].running.as_ref().unwrap().server.state().clone();
                state.slow_replica_open_ms.store(500, std::sync::atomic::Ordering::Relaxed);
                state.stop_pause_ms.store(200, std::sync::atomic::Ordering::Relaxed);
            }
            let busy = tokio::spawn(create(format!("busy{round}"), vec![leader]));
            tokio::time::sleep(Duration::from_millis(100)).await;
            cluster.stop_spu(leader).await.unwrap();
            for name in &names {
                let partition = format!("{name}-0");
                let isr = sc.store().replication(&partition).unwrap().isr;
                assert!(
                    isr.contains(&(leader + 1)) && isr.contains(&(leader + 2)),
                    "round {round} {partition}: {isr:?}"
                );
                let spec = sc.store().get::<PartitionSpec>(&partition).unwrap();
                assert_ne!(spec.status.resolution, PartitionResolution::LeaderOffline, "round {round} {partition}");
            }
            let _ = busy.await;
            cluster.start_spu(leader).await.unwrap();
        }
        cluster.shutdown().await;
    }

    #[tokio::test]
    async fn a_topic_whose_metadata_cannot_be_stored_leaves_no_trace() {
        let dir = tempfile::tempdir().unwrap();
        let cluster = LocalCluster::start(ClusterConfig::new(dir.path())).await.unwrap();
        let sc = cluster.inner.sc.clone();
        let common = CommonCreateRequest { name: "t".into(), dry_run: false, timeout: None };
        let mut events = sc.store().subscribe();
        // The metadata on disk: snapshot and journal.
        let on_disk =
            || ["metadata.json", "metadata.journal"].map(|name| std::fs::read(dir.path().join("sc").join(name)).ok());
        let saved = on_disk();

        // The disk is full: the creation fails, and nothing of it exists anywhere.
        sc.store().fail_writes.store(true, std::sync::atomic::Ordering::Relaxed);
        let status = sc.create_topic(&common, TopicSpec::computed(2, 1)).await;
        assert_eq!(status.error_code, fluvio_wire::ErrorCode::StorageError);
        assert!(sc.store().get::<TopicSpec>("t").is_none(), "no phantom topic");
        assert!(sc.store().all::<PartitionSpec>().iter().all(|p| p.spec.system), "only the system topic's");
        assert!(events.try_recv().is_err(), "watchers heard of nothing");
        assert_eq!(on_disk(), saved, "the files are unchanged");
        assert!(!dir.path().join("sc").join("metadata.json.tmp").exists());
        // A later successful write does not carry it to disk either.
        sc.store().fail_writes.store(false, std::sync::atomic::Ordering::Relaxed);
        let other = CommonCreateRequest { name: "other".into(), dry_run: false, timeout: None };
        assert!(sc.create_topic(&other, TopicSpec::computed(1, 1)).await.error_code.is_ok());
        let written: Vec<u8> = on_disk().into_iter().flatten().flatten().collect();
        assert!(String::from_utf8_lossy(&written).contains("\"other\""));
        assert!(!String::from_utf8_lossy(&written).contains("\"t\""));

        // Once space is back it can be created, and every restart brings it back.
        assert!(sc.create_topic(&common, TopicSpec::computed(2, 1)).await.error_code.is_ok());
        drop(sc);
        cluster.shutdown().await;
        let cluster = LocalCluster::start(ClusterConfig::new(dir.path())).await.expect("restarts");
        let partitions = cluster.inner.sc.store().all::<PartitionSpec>();
        assert_eq!(partitions.iter().filter(|p| !p.spec.system).count(), 3);
        assert!(partitions.iter().all(|p| p.status.resolution == PartitionResolution::Online));
        cluster.shutdown().await;
    }

    #[tokio::test]
    async fn a_failed_deletion_keeps_the_topic_and_its_data() {
        let dir = tempfile::tempdir().unwrap();
        let (cluster, _connections, _probe) = busy_spu(dir.path()).await;
        let sc = cluster.inner.sc.clone();
        sc.store().fail_writes.store(true, std::sync::atomic::Ordering::Relaxed);
        assert_eq!(sc.delete_topic("t", false).error_code, fluvio_wire::ErrorCode::StorageError);
        sc.store().fail_writes.store(false, std::sync::atomic::Ordering::Relaxed);
        assert!(sc.store().get::<TopicSpec>("t").is_some());
        let replica_dir = dir.path().join(format!("spu-{FIRST_SPU_ID}")).join("t-0");
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(replica_dir.exists(), "the SPU was not told to delete the data");
        drop(sc);
        cluster.shutdown().await;
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

    #[test]
    fn each_setting_has_one_rule_that_validate_applies() {
        let ms = Duration::from_millis;
        assert!(ClusterConfig::check_spu_timeout(MIN_SPU_TIMEOUT).is_ok());
        assert!(ClusterConfig::check_spu_timeout(ms(99)).is_err());
        assert!(ClusterConfig::check_spus(MAX_SPUS).is_ok());
        assert!(ClusterConfig::check_spus(MAX_SPUS + 1).is_err());
        assert!(ClusterConfig::check_spus(0).is_err());
        assert!(ClusterConfig::check_min_live_replicas(0).is_err());
        assert!(ClusterConfig::check_replica_lag_time(Duration::from_micros(999)).is_err());
        assert!(ClusterConfig::check_connection_timeout("t", Duration::ZERO).is_ok(), "zero is off");
        assert!(ClusterConfig::check_connection_timeout("t", Duration::from_nanos(1)).is_err());
        assert!(ClusterConfig::check_max_buffered_bytes(1 << 20, 1 << 21).is_err());
        let dir = std::path::PathBuf::from("/unused");
        let refused = ClusterConfig::new(&dir).spu_timeout(ms(50)).validate().unwrap_err();
        assert!(matches!(refused, ClusterError::InvalidConfig(_)), "{refused:?}");
        assert!(ClusterConfig::new(&dir).spus(MAX_SPUS + 1).validate().is_err());
        assert!(ClusterConfig::new(&dir).validate().is_ok());
    }
}
