//! The control plane between the SC and its SPUs.
//!
//! SC and SPUs run in one process, so the control plane is a pair of channels per SPU rather
//! than a private TCP protocol. The SC learns that an SPU is gone when the SPU's end of its link
//! is dropped (stop, crash or kill), which is what an SC notices on a real private connection,
//! or when the SPU's heartbeats stop (a hung SPU); it then drops its own end, which fences the
//! SPU. Replication data does not go through here: followers fetch from leaders over the SPUs'
//! private TCP endpoints.

use std::net::SocketAddr;

use fluvio_wire::error_code::{ErrorCode, ReplicaKey};
use fluvio_wire::sc::topic::CompressionAlgorithm;
use tokio::sync::{mpsc, oneshot};

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
    /// Every replica SPU id, in assignment order (the first is the preferred leader).
    pub replicas: Vec<i32>,
    /// Settings.
    pub config: ReplicaConfig,
    /// Leader epoch: bumped by every election, so that every leadership term has its own.
    pub epoch: i32,
    /// The in-sync replicas the SC knows of, leader included: a new leader starts from them.
    pub isr: Vec<i32>,
    /// The leader's private (replication) endpoint; `None` while the leader is offline.
    pub leader_private: Option<SocketAddr>,
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ReplicaReport {
    /// Reporting SPU.
    pub spu: i32,
    /// The leader epoch the replica works under.
    pub epoch: i32,
    /// Whether the reporting SPU leads the partition in that epoch.
    pub leader: bool,
    /// High watermark.
    pub hw: i64,
    /// Log end offset.
    pub leo: i64,
    /// Log start offset.
    pub log_start: i64,
    /// Bytes on disk.
    pub size: i64,
    /// Leaders only: the followers' progress as the leader sees it (spu, hw, leo).
    pub followers: Vec<(i32, i64, i64)>,
    /// Leaders only: the in-sync replicas, leader included.
    pub isr: Vec<i32>,
    /// The latest leader epoch the replica's log holds records of (-1: none).
    pub last_epoch: i32,
    /// Records the recovery of the replica's log removed when this SPU opened it.
    pub recovery_loss: Option<RecoveryLoss>,
    /// The offset of a stored batch a read found damaged (it is refused, never served).
    pub damaged_at: Option<i64>,
    /// Leaders only: the last append failed for lack of disk space, and no space is back yet.
    pub out_of_storage: bool,
}

/// Records removed from a replica's log by its recovery (damage found when it was opened).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RecoveryLoss {
    /// The first offset removed: the log now ends there.
    pub from: i64,
    /// The offset after the last record known to be removed (`None`: unknown).
    pub to: Option<i64>,
    /// The high watermark the replica had checkpointed before (`None`: none): removed records
    /// below it had been committed.
    pub committed_end: Option<i64>,
    /// What recovery found, in words.
    pub cause: String,
}

/// The leader id assignments carry while a partition waits for its election: no replica
/// leads, none follows anyone.
pub(crate) const NO_LEADER: i32 = -1;

/// Why an SPU cannot serve one of its replicas.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ReplicaFailure {
    /// What clients are told: `PartitionFull` for a full disk, else `StorageError`.
    pub code: ErrorCode,
    /// What went wrong, for logs and the topic's status.
    pub message: String,
    /// Whether the SPU was to lead the partition when it failed: assigned to, or the only
    /// in-sync replica of a partition waiting for its election (no other replica can lead
    /// it). Its clients are then told the storage error rather than sent hunting a leader.
    pub leader: bool,
}

/// A message from an SPU to the SC.
#[derive(Debug)]
pub(crate) enum SpuToSc {
    /// A replica is open and serving, with its current offsets.
    ReplicaOnline(ReplicaKey, ReplicaReport),
    /// A replica could not be opened (its files are damaged, or the disk is full).
    ReplicaFailed(ReplicaKey, ReplicaFailure),
    /// The SPU is alive (sent several times per SPU timeout).
    Heartbeat,
    /// A leader asks to change the in-sync replica set. It uses the new set (which decides
    /// when records are committed) only once the SC accepted it, so that the SC never elects a
    /// replica lacking a committed record. Refused when `epoch` is not the current one.
    IsrChange {
        /// The partition.
        key: ReplicaKey,
        /// The leader's epoch.
        epoch: i32,
        /// The proposed set, leader included.
        isr: Vec<i32>,
        /// The SC's answer: accepted or not.
        reply: oneshot::Sender<bool>,
    },
}

/// The SPU's end of its control link.
pub(crate) struct SpuLink {
    /// Messages from the SC.
    pub from_sc: mpsc::UnboundedReceiver<ScToSpu>,
    /// Messages to the SC.
    pub to_sc: mpsc::UnboundedSender<SpuToSc>,
    /// What the SC tells every SPU about the whole cluster.
    pub view: crate::view::ViewReceiver,
}
