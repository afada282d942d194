//! The control plane between the SC and its SPUs.
//!
//! SC and SPUs run in one process, so the control plane is a pair of channels per SPU rather
//! than a private TCP protocol. The SC learns that an SPU is gone when the SPU's end of its link
//! is dropped (stop, crash or kill), which is what an SC notices on a real private connection.

use fluvio_wire::error_code::ReplicaKey;
use fluvio_wire::sc::topic::CompressionAlgorithm;
use tokio::sync::mpsc;

/// Storage and policy settings of a replica, copied from its topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ReplicaConfig {
    /// Codecs the topic accepts.
    pub compression: CompressionAlgorithm,
    /// Segment size in bytes.
    pub segment_size: u64,
    /// Maximum partition size in bytes.
    pub max_partition_size: u64,
    /// Retention in seconds.
    pub retention_secs: u32,
}

/// What the SC decided for one partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ReplicaAssignment {
    /// Topic and partition.
    pub key: ReplicaKey,
    /// Leader SPU id.
    pub leader: i32,
    /// Every replica SPU id, leader first.
    pub replicas: Vec<i32>,
    /// Settings.
    pub config: ReplicaConfig,
}

/// A message from the SC to one SPU.
#[derive(Debug, Clone)]
pub(crate) enum ScToSpu {
    /// The complete set of replicas the SPU hosts; anything else on its disk is stale.
    Sync(Vec<ReplicaAssignment>),
    /// Create or update one replica.
    Upsert(ReplicaAssignment),
    /// Remove a replica and its data (its topic was deleted).
    Remove(ReplicaKey),
}

/// Offsets and size of a replica, as reported by the SPU that hosts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ReplicaReport {
    /// Reporting SPU.
    pub spu: i32,
    /// High watermark.
    pub hw: i64,
    /// Log end offset.
    pub leo: i64,
    /// Log start offset.
    pub log_start: i64,
    /// Bytes on disk.
    pub size: i64,
}

/// A message from an SPU to the SC.
#[derive(Debug, Clone)]
pub(crate) enum SpuToSc {
    /// A replica is open and serving, with its current offsets.
    ReplicaOnline(ReplicaKey, ReplicaReport),
    /// A replica could not be opened.
    ReplicaFailed(ReplicaKey, String),
}

/// The SPU's end of its control link.
pub(crate) struct SpuLink {
    /// Messages from the SC.
    pub from_sc: mpsc::UnboundedReceiver<ScToSpu>,
    /// Messages to the SC.
    pub to_sc: mpsc::UnboundedSender<SpuToSc>,
}
