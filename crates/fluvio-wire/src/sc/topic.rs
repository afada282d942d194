//! Topic objects (§6.1).

use std::collections::BTreeMap;
use std::time::Duration;

use super::Spec;
use super::partition::{HomePartitionConfig, PartitionMirrorConfig};
use crate::{wire_struct, wire_unit_enum};

wire_struct! {
    /// Partition count and replication of a computed topic.
    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "camelCase"))]
    pub struct TopicReplicaParam {
        /// Number of partitions.
        pub partitions: u32,
        /// Replicas per partition.
        pub replication_factor: u32,
        /// Ignore racks when assigning replicas.
        #[cfg_attr(feature = "serde", serde(default))]
        pub ignore_rack_assignment: bool,
    }
}

wire_struct! {
    /// Replicas of one partition of an assigned topic.
    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "camelCase"))]
    pub struct PartitionMap {
        /// Partition index.
        pub id: u32,
        /// SPU ids; the first is the leader.
        pub replicas: Vec<i32>,
        /// Mirroring.
        #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "Option::is_none"))]
        @[since 14] pub mirror: Option<PartitionMirrorConfig>,
    }
}

wire_struct! {
    /// A home SPU of a remote mirror.
    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "camelCase"))]
    pub struct SpuMirrorConfig {
        /// SPU id.
        pub id: i32,
        /// Key.
        pub key: String,
        /// Endpoint.
        pub endpoint: String,
    }
}

wire_struct! {
    /// Mirror topic on a remote cluster.
    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "camelCase"))]
    pub struct RemoteMirrorConfig {
        /// Home cluster.
        pub home_cluster: String,
        /// Home SPUs.
        pub home_spus: Vec<SpuMirrorConfig>,
        /// Target flag.
        #[cfg_attr(feature = "serde", serde(default))]
        @[since 18] pub target: bool,
    }
}

wire_struct! {
    /// Mirror topic on the home cluster.
    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "camelCase"))]
    pub struct HomeMirrorConfig {
        /// Partitions.
        pub partitions: Vec<HomePartitionConfig>,
        /// Source flag.
        #[cfg_attr(feature = "serde", serde(default))]
        @[since 18] pub source: bool,
    }
}

/// Mirroring configuration of a topic.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "camelCase"))]
pub enum MirrorConfig {
    /// Remote side.
    Remote(RemoteMirrorConfig),
    /// Home side.
    Home(HomeMirrorConfig),
}

impl Default for MirrorConfig {
    fn default() -> Self {
        MirrorConfig::Remote(RemoteMirrorConfig::default())
    }
}

crate::wire_enum_codec! {
    MirrorConfig: u8 {
        0 => Remote(config),
        1 => Home(config),
    }
}

/// How partitions and replicas of a topic are decided.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "camelCase"))]
pub enum ReplicaSpec {
    /// Explicit replica lists.
    Assigned(Vec<PartitionMap>),
    /// Computed by the SC.
    Computed(TopicReplicaParam),
    /// Mirrored.
    Mirror(MirrorConfig),
}

impl Default for ReplicaSpec {
    fn default() -> Self {
        ReplicaSpec::Computed(TopicReplicaParam { partitions: 1, replication_factor: 1, ignore_rack_assignment: false })
    }
}

impl ReplicaSpec {
    /// Number of partitions, as the official client computes it.
    pub fn partition_count(&self) -> u32 {
        match self {
            ReplicaSpec::Computed(param) => param.partitions,
            ReplicaSpec::Assigned(maps) => maps.len() as u32,
            ReplicaSpec::Mirror(MirrorConfig::Remote(remote)) => remote.home_spus.len() as u32,
            ReplicaSpec::Mirror(MirrorConfig::Home(home)) => home.partitions.len() as u32,
        }
    }

    /// Replication factor, where the spec states one.
    pub fn replication_factor(&self) -> Option<u32> {
        match self {
            ReplicaSpec::Computed(param) => Some(param.replication_factor),
            ReplicaSpec::Assigned(maps) => maps.first().map(|m| m.replicas.len() as u32),
            ReplicaSpec::Mirror(_) => None,
        }
    }
}

crate::wire_enum_codec! {
    ReplicaSpec: u8 {
        0 => Assigned(maps),
        1 => Computed(param),
        2 => Mirror(config),
    }
}

wire_struct! {
    /// Time-based retention.
    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
    #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "camelCase"))]
    pub struct SegmentBasedPolicy {
        /// Retention in seconds.
        pub time_in_seconds: u32,
    }
}

/// Cleanup policy of a topic (only segment retention exists).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "camelCase"))]
pub enum CleanupPolicy {
    /// Delete whole segments older than the retention time.
    Segment(SegmentBasedPolicy),
}

impl Default for CleanupPolicy {
    fn default() -> Self {
        CleanupPolicy::Segment(SegmentBasedPolicy::default())
    }
}

impl CleanupPolicy {
    /// Retention in seconds.
    pub fn retention_secs(&self) -> u32 {
        match self {
            CleanupPolicy::Segment(policy) => policy.time_in_seconds,
        }
    }
}

crate::wire_enum_codec! {
    CleanupPolicy: u8 {
        0 => Segment(policy),
    }
}

wire_struct! {
    /// Storage limits of a topic.
    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
    #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "camelCase"))]
    pub struct TopicStorageConfig {
        /// Segment size in bytes.
        pub segment_size: Option<u32>,
        /// Maximum partition size in bytes.
        pub max_partition_size: Option<u64>,
    }
}

wire_unit_enum! {
    /// The compression a topic requires (note: tags differ from batch attribute codes).
    #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "lowercase"))]
    pub enum CompressionAlgorithm: u8 {
        /// Only uncompressed batches.
        None = 0,
        /// Only gzip.
        Gzip = 1,
        /// Only snappy.
        Snappy = 2,
        /// Only lz4.
        Lz4 = 3,
        /// Any codec (the producer chooses).
        #[default]
        Any = 4,
        /// Only zstd.
        Zstd = 5,
    }
}

wire_struct! {
    /// Deduplication window.
    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "camelCase"))]
    pub struct DeduplicationBounds {
        /// Records remembered.
        pub count: u64,
        /// Age remembered.
        pub age: Option<Duration>,
    }
}

wire_struct! {
    /// Deduplication SmartModule reference.
    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "camelCase"))]
    pub struct DeduplicationTransform {
        /// SmartModule name.
        pub uses: String,
        /// Parameters.
        pub with: BTreeMap<String, String>,
    }
}

wire_struct! {
    /// Deduplication filter.
    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "camelCase"))]
    pub struct DeduplicationFilter {
        /// Transform.
        pub transform: DeduplicationTransform,
    }
}

wire_struct! {
    /// Topic-level deduplication.
    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "camelCase"))]
    pub struct Deduplication {
        /// Bounds.
        pub bounds: DeduplicationBounds,
        /// Filter.
        pub filter: DeduplicationFilter,
    }
}

wire_struct! {
    /// Specification of a topic.
    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "camelCase"))]
    pub struct TopicSpec {
        /// Partitions and replicas.
        pub replicas: ReplicaSpec,
        /// Retention.
        #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "Option::is_none"))]
        @[since 3] pub cleanup_policy: Option<CleanupPolicy>,
        /// Storage limits.
        #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "Option::is_none"))]
        @[since 4] pub storage: Option<TopicStorageConfig>,
        /// Compression type.
        #[cfg_attr(feature = "serde", serde(default))]
        @[since 6] pub compression_type: CompressionAlgorithm,
        /// Deduplication.
        #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "Option::is_none"))]
        @[since 12] pub deduplication: Option<Deduplication>,
        /// System topic flag.
        #[cfg_attr(feature = "serde", serde(default))]
        @[since 13] pub system: bool,
    }
}

impl TopicSpec {
    /// A computed topic.
    pub fn computed(partitions: u32, replication_factor: u32) -> Self {
        Self {
            replicas: ReplicaSpec::Computed(TopicReplicaParam {
                partitions,
                replication_factor,
                ignore_rack_assignment: false,
            }),
            ..Default::default()
        }
    }
}

wire_unit_enum! {
    /// Provisioning state of a topic.
    #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
    pub enum TopicResolution: u8 {
        /// Just created.
        #[default]
        Init = 0,
        /// Valid, waiting for replica assignment.
        Pending = 1,
        /// Not enough SPUs.
        InsufficientResources = 2,
        /// Invalid configuration.
        InvalidConfig = 3,
        /// Every partition provisioned.
        Provisioned = 4,
        /// Being deleted.
        Deleting = 5,
    }
}

wire_struct! {
    /// Status of a topic.
    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "camelCase"))]
    pub struct TopicStatus {
        /// Provisioning state.
        pub resolution: TopicResolution,
        /// Partition → replica SPU ids.
        pub replica_map: BTreeMap<u32, Vec<i32>>,
        /// Partition → mirror.
        #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "BTreeMap::is_empty"))]
        @[since 14] pub mirror_map: BTreeMap<u32, PartitionMirrorConfig>,
        /// Why the topic is in this state.
        pub reason: String,
    }
}

impl Spec for TopicSpec {
    const LABEL: &'static str = "Topic";
    type Status = TopicStatus;
}

/// What an Update request does to a topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpdateTopicAction {
    /// Add partitions.
    AddPartition {
        /// How many to add.
        count: u32,
    },
    /// Add a mirror.
    AddMirror {
        /// Remote cluster.
        remote_cluster: String,
        /// Direction.
        home_to_mirror: bool,
    },
}

impl Default for UpdateTopicAction {
    fn default() -> Self {
        UpdateTopicAction::AddPartition { count: 0 }
    }
}

crate::wire_enum_codec! {
    UpdateTopicAction: u8 {
        0 => AddPartition { count },
        1 => AddMirror { remote_cluster, home_to_mirror },
    }
}
