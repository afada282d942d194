//! Topic objects (§6.1).

use std::collections::BTreeMap;
use std::time::Duration;

use super::Spec;
use super::mirror::{HomePartitionConfig, PartitionMirrorConfig};
use crate::{wire_struct, wire_unit_enum};

wire_struct! {
    /// Partition count and replication of a computed topic.
    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "camelCase"))]
    pub struct TopicReplicaParam {
        /// Number of partitions (1 when absent from JSON).
        #[cfg_attr(feature = "serde", serde(default = "crate::sc::one"))]
        pub partitions: u32,
        /// Replicas per partition (1 when absent from JSON).
        #[cfg_attr(feature = "serde", serde(default = "crate::sc::one"))]
        pub replication_factor: u32,
        /// Ignore racks when assigning replicas. The official serde attributes leave it out of
        /// JSON when it is *true* (and print `false`); so does this type, to print the same.
        #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "crate::sc::is_true"))]
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
        /// Target flag (left out of JSON when false).
        #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "crate::sc::is_false"))]
        @[since 18] pub target: bool,
    }
}

wire_struct! {
    /// Mirror topic on the home cluster.
    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "camelCase"))]
    pub struct HomeMirrorConfig {
        /// Partitions.
        #[cfg_attr(feature = "serde", serde(default))]
        pub partitions: Vec<HomePartitionConfig>,
        /// Source flag (left out of JSON when false).
        #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "crate::sc::is_false"))]
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
    /// Mirrored. Its configuration is a one-entry map (`remote:`/`home:`) in YAML too, where
    /// the other enums are tags, as the official attributes have it.
    #[cfg_attr(feature = "serde", serde(with = "mirror_as_map"))]
    Mirror(MirrorConfig),
}

/// [`MirrorConfig`] as a map of one entry (`{"remote": {...}}`) in every format, as the official
/// types render it (with `serde_yaml::with::singleton_map`); JSON reads the same either way.
#[cfg(feature = "serde")]
mod mirror_as_map {
    use serde::ser::SerializeMap;
    use serde::{Deserialize, Deserializer, Serializer};

    use super::{HomeMirrorConfig, MirrorConfig, RemoteMirrorConfig};

    pub(super) fn serialize<S: Serializer>(config: &MirrorConfig, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(1))?;
        match config {
            MirrorConfig::Remote(remote) => map.serialize_entry("remote", remote)?,
            MirrorConfig::Home(home) => map.serialize_entry("home", home)?,
        }
        map.end()
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<MirrorConfig, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct OneOf {
            remote: Option<RemoteMirrorConfig>,
            home: Option<HomeMirrorConfig>,
        }
        match OneOf::deserialize(deserializer)? {
            OneOf { remote: Some(remote), home: None } => Ok(MirrorConfig::Remote(remote)),
            OneOf { remote: None, home: Some(home) } => Ok(MirrorConfig::Home(home)),
            _ => Err(serde::de::Error::custom("a mirror is either `remote` or `home`")),
        }
    }
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
    /// The compression a topic requires (note: tags differ from batch attribute codes). In
    /// JSON the variant names (`"Any"`, `"Gzip"`, ...), as the official CLI prints them; the
    /// lower-case spellings of earlier versions are read too.
    #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
    pub enum CompressionAlgorithm: u8 {
        /// Only uncompressed batches.
        #[cfg_attr(feature = "serde", serde(alias = "none"))]
        None = 0,
        /// Only gzip.
        #[cfg_attr(feature = "serde", serde(alias = "gzip"))]
        Gzip = 1,
        /// Only snappy.
        #[cfg_attr(feature = "serde", serde(alias = "snappy"))]
        Snappy = 2,
        /// Only lz4.
        #[cfg_attr(feature = "serde", serde(alias = "lz4"))]
        Lz4 = 3,
        /// Any codec (the producer chooses).
        #[default]
        #[cfg_attr(feature = "serde", serde(alias = "any"))]
        Any = 4,
        /// Only zstd.
        #[cfg_attr(feature = "serde", serde(alias = "zstd"))]
        Zstd = 5,
    }
}

wire_struct! {
    /// Deduplication window.
    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "kebab-case"))]
    pub struct DeduplicationBounds {
        /// Records remembered.
        pub count: u64,
        /// Age remembered (a humantime string such as `"5m"` in JSON, as the official CLI prints it).
        #[cfg_attr(
            feature = "serde",
            serde(default, skip_serializing_if = "Option::is_none", with = "humantime_serde")
        )]
        pub age: Option<Duration>,
    }
}

wire_struct! {
    /// Deduplication SmartModule reference.
    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "kebab-case"))]
    pub struct DeduplicationTransform {
        /// SmartModule name.
        pub uses: String,
        /// Parameters (left out of JSON when empty).
        #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "BTreeMap::is_empty"))]
        pub with: BTreeMap<String, String>,
    }
}

wire_struct! {
    /// Deduplication filter.
    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "kebab-case"))]
    pub struct DeduplicationFilter {
        /// Transform.
        pub transform: DeduplicationTransform,
    }
}

wire_struct! {
    /// Topic-level deduplication.
    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "kebab-case"))]
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
        /// Partition → mirror (`{}` in JSON when empty, as the official CLI prints it).
        #[cfg_attr(feature = "serde", serde(default))]
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
