//! Mirroring of partitions (§6.2): the home and remote sides of a mirrored partition, as
//! topics and partitions both carry them.

use crate::wire_struct;

wire_struct! {
    /// Remote side of a mirrored partition.
    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "camelCase"))]
    pub struct RemotePartitionConfig {
        /// Home cluster.
        pub home_cluster: String,
        /// Home SPU key.
        pub home_spu_key: String,
        /// Home SPU id.
        #[cfg_attr(feature = "serde", serde(default))]
        pub home_spu_id: i32,
        /// Home SPU endpoint.
        pub home_spu_endpoint: String,
        /// Target flag (left out of JSON when false).
        #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "crate::sc::is_false"))]
        @[since 18] pub target: bool,
    }
}

wire_struct! {
    /// Home side of a mirrored partition.
    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "camelCase"))]
    pub struct HomePartitionConfig {
        /// Remote cluster.
        pub remote_cluster: String,
        /// Remote replica.
        pub remote_replica: String,
        /// Source flag (left out of JSON when false).
        #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "crate::sc::is_false"))]
        @[since 18] pub source: bool,
    }
}

/// Mirroring of one partition.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "camelCase"))]
pub enum PartitionMirrorConfig {
    /// Remote side.
    Remote(RemotePartitionConfig),
    /// Home side.
    Home(HomePartitionConfig),
}

impl Default for PartitionMirrorConfig {
    fn default() -> Self {
        PartitionMirrorConfig::Remote(RemotePartitionConfig::default())
    }
}

crate::wire_enum_codec! {
    PartitionMirrorConfig: u8 {
        0 => Remote(config),
        1 => Home(config),
    }
}
