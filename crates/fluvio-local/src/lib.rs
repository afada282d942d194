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

#![warn(missing_docs)]

mod control;
mod net;
mod sc;
mod spu;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use fluvio_wire::sc::TopicSpec;
use fluvio_wire::sc::topic::TopicResolution;
use parking_lot::Mutex;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tracing::info;

use sc::{Sc, ScSettings};
use spu::{SpuLimits, SpuServer};

/// Id of the first SPU (as in the official local cluster).
pub const FIRST_SPU_ID: i32 = 5001;

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
        }
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

/// Why the cluster could not start.
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
}

/// A running cluster. Dropping it without [`LocalCluster::shutdown`] stops accepting
/// connections but does not wait for in-flight work.
pub struct LocalCluster {
    config: ClusterConfig,
    sc: Arc<Sc>,
    sc_addr: SocketAddr,
    shutdown: CancellationToken,
    spus: Mutex<BTreeMap<i32, SpuServer>>,
}

impl LocalCluster {
    /// Starts the SC and the SPUs, and waits until every restored topic is online again.
    pub async fn start(config: ClusterConfig) -> Result<Self, ClusterError> {
        if config.spus == 0 {
            return Err(ClusterError::InvalidConfig("a cluster needs at least one SPU".into()));
        }
        std::fs::create_dir_all(&config.base_dir)
            .map_err(|e| ClusterError::Storage(format!("cannot create {}: {e}", config.base_dir.display())))?;
        let settings = ScSettings {
            provisioning_timeout: config.provisioning_timeout,
            max_frame_size: config.max_frame_size,
            host: config.host.clone(),
        };
        let sc = Sc::open(&config.base_dir.join("sc"), settings).map_err(|e| ClusterError::Storage(e.to_string()))?;
        let shutdown = CancellationToken::new();
        let sc_listener = bind(&config.host, config.sc_port, "the SC").await?;
        let sc_addr = sc_listener.local_addr().map_err(|e| ClusterError::Storage(e.to_string()))?;
        sc.serve(sc_listener, shutdown.child_token());
        let cluster = Self { config, sc, sc_addr, shutdown, spus: Mutex::new(BTreeMap::new()) };
        for index in 0..cluster.config.spus {
            let id = FIRST_SPU_ID + i32::from(index);
            let port = cluster.config.spu_ports.get(usize::from(index)).copied().unwrap_or(0);
            if let Err(err) = cluster.start_spu_on(id, port).await {
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

    async fn start_spu_on(&self, id: i32, port: u16) -> Result<(), ClusterError> {
        let listener = bind(&self.config.host, port, &format!("SPU {id}")).await?;
        let public_addr = listener.local_addr().map_err(|e| ClusterError::Storage(e.to_string()))?;
        let link = self.sc.register_spu(id, public_addr).map_err(|e| ClusterError::Storage(e.to_string()))?;
        let limits = SpuLimits { max_frame_size: self.config.max_frame_size, ..SpuLimits::default() };
        let data_dir = spu::spu_data_dir(&self.config.base_dir, id);
        let server = SpuServer::start(id, data_dir, listener, link, limits, self.shutdown.child_token())
            .map_err(|e| ClusterError::Storage(format!("SPU {id}: {e}")))?;
        self.spus.lock().insert(id, server);
        Ok(())
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

    /// The SC's public address.
    pub fn sc_addr(&self) -> SocketAddr {
        self.sc_addr
    }

    /// The SC's public address as `host:port`, what a profile's `endpoint` holds.
    pub fn sc_endpoint(&self) -> String {
        self.sc_addr.to_string()
    }

    /// Ids and public addresses of the running SPUs.
    pub fn spu_addrs(&self) -> Vec<(i32, SocketAddr)> {
        self.spus.lock().values().map(|s| (s.id(), s.public_addr())).collect()
    }

    /// The data directory.
    pub fn base_dir(&self) -> &std::path::Path {
        &self.config.base_dir
    }

    async fn stop_all(&self) {
        self.shutdown.cancel();
        let spus: Vec<SpuServer> = std::mem::take(&mut *self.spus.lock()).into_values().collect();
        for spu in spus {
            spu.stop().await;
        }
        self.sc.wait_stopped().await;
    }

    /// Stops every server, closes every connection and flushes every log.
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
