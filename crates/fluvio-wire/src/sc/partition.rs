//! Partition objects (§6.2). A partition is named `"<topic>-<index>"`.

use super::Spec;
pub use super::mirror::{HomePartitionConfig, PartitionMirrorConfig, RemotePartitionConfig};
use super::topic::{CleanupPolicy, CompressionAlgorithm, Deduplication, TopicStorageConfig};
use crate::{wire_struct, wire_unit_enum};

wire_struct! {
    /// Specification of a partition (the fields after `replicas` are copied from the topic).
    /// In JSON every field is present, `null` when unset, as the official CLI prints it.
    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "camelCase"))]
    pub struct PartitionSpec {
        /// Leader SPU id (what clients route to).
        pub leader: i32,
        /// Replica SPU ids, leader first.
        #[cfg_attr(feature = "serde", serde(default))]
        pub replicas: Vec<i32>,
        /// Retention.
        #[cfg_attr(feature = "serde", serde(default))]
        @[since 4] pub cleanup_policy: Option<CleanupPolicy>,
        /// Storage limits.
        #[cfg_attr(feature = "serde", serde(default))]
        @[since 4] pub storage: Option<TopicStorageConfig>,
        /// Compression type.
        #[cfg_attr(feature = "serde", serde(default))]
        @[since 6] pub compression_type: CompressionAlgorithm,
        /// Deduplication.
        #[cfg_attr(feature = "serde", serde(default))]
        @[since 12] pub deduplication: Option<Deduplication>,
        /// System partition flag.
        #[cfg_attr(feature = "serde", serde(default))]
        @[since 13] pub system: bool,
        /// Mirroring.
        #[cfg_attr(feature = "serde", serde(default))]
        @[since 14] pub mirror: Option<PartitionMirrorConfig>,
    }
}

wire_unit_enum! {
    /// Availability of a partition.
    #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
    pub enum PartitionResolution: u8 {
        /// No leader.
        #[default]
        Offline = 0,
        /// Serving normally.
        Online = 1,
        /// The leader is gone and no replacement was elected.
        LeaderOffline = 2,
        /// A new leader was chosen.
        ElectionLeaderFound = 3,
        /// Storage full (still readable).
        OutOfStorage = 4,
    }
}

wire_struct! {
    /// Offsets of one replica.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "camelCase"))]
    pub struct ReplicaStatus {
        /// SPU id.
        pub spu: i32,
        /// High watermark.
        pub hw: i64,
        /// Log end offset.
        pub leo: i64,
    }
}

impl Default for ReplicaStatus {
    fn default() -> Self {
        Self { spu: -1, hw: -1, leo: -1 }
    }
}

wire_struct! {
    /// Status of a partition.
    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "camelCase"))]
    pub struct PartitionStatus {
        /// Availability.
        pub resolution: PartitionResolution,
        /// The leader's offsets.
        pub leader: ReplicaStatus,
        /// Followers in sync with the leader ("lsr" upstream; the leader is not counted): the
        /// official SC counts the followers whose log end equals the leader's in its last
        /// report, so a healthy partition of replication factor 3 shows 2, one of 1 shows 0.
        pub lsr: u32,
        /// The followers' offsets.
        pub replicas: Vec<ReplicaStatus>,
        /// Bytes on disk (-1 error, -2 not supported).
        @[since 5] pub size: i64,
        /// Deletion in progress.
        pub is_being_deleted: bool,
        /// Log start offset.
        @[since 16] pub base_offset: i64,
    }
}

impl Spec for PartitionSpec {
    const LABEL: &'static str = "Partition";
    type Status = PartitionStatus;
}

/// Splits a partition object name `"<topic>-<index>"` at its last '-'.
pub fn split_partition_name(name: &str) -> Option<(&str, u32)> {
    let (topic, index) = name.rsplit_once('-')?;
    Some((topic, index.parse().ok()?))
}

/// The object name of partition `index` of `topic`.
pub fn partition_name(topic: &str, index: u32) -> String {
    format!("{topic}-{index}")
}
