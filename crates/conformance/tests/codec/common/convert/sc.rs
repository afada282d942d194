//! SC APIs: the object model (topics, partitions, SPUs) and the type-erased envelopes.

use std::collections::BTreeMap;
use std::io::Cursor;

use fluvio_controlplane_metadata::message::{Message, MsgType};
use fluvio_controlplane_metadata::partition as tpa;
use fluvio_controlplane_metadata::spu as tsp;
use fluvio_controlplane_metadata::topic as tt;
use fluvio_protocol::{Decoder as TheirDecoder, Encoder as TheirEncoder, Version};
use fluvio_sc_schema::objects as to;
use fluvio_sc_schema::{Status as TheirStatus, TryEncodableFrom};
use fluvio_wire::sc::partition::*;
use fluvio_wire::sc::spu::*;
use fluvio_wire::sc::topic::*;
use fluvio_wire::sc::{
    Change, ChangeKind, CommonCreateRequest, CreateObject, CreateRequest, DeleteRequest, ListFilter, ListFilters,
    ListRequest, ListResponse, Metadata, MetadataUpdate, Status, UpdateRequest, WatchParams, WatchRequest,
    WatchResponse,
};

use super::{ToOurs, ToTheirs};
use crate::common::{assert_same_bytes, their_bytes};

/// Runs `$body` with `$S` bound to the official spec type of the SC label `$label`.
macro_rules! with_spec {
    ($label:expr, $S:ident => $body:expr) => {
        match $label {
            "Topic" => {
                type $S = fluvio_sc_schema::topic::TopicSpec;
                $body
            }
            "Partition" => {
                type $S = fluvio_sc_schema::partition::PartitionSpec;
                $body
            }
            "SPU" => {
                type $S = fluvio_sc_schema::spu::SpuSpec;
                $body
            }
            "CustomSpu" => {
                type $S = fluvio_sc_schema::customspu::CustomSpuSpec;
                $body
            }
            "SpuGroup" => {
                type $S = fluvio_sc_schema::spg::SpuGroupSpec;
                $body
            }
            "SmartModule" => {
                type $S = fluvio_sc_schema::smartmodule::SmartModuleSpec;
                $body
            }
            "TableFormat" => {
                type $S = fluvio_sc_schema::tableformat::TableFormatSpec;
                $body
            }
            other => panic!("no official spec for label {other:?}"),
        }
    };
}

/// Every label [`with_spec!`] knows.
pub const LABELS: [&str; 7] = ["Topic", "Partition", "SPU", "CustomSpu", "SpuGroup", "SmartModule", "TableFormat"];

// ---------------------------------------------------------------------------------------------
// Topic

impl ToTheirs for TopicReplicaParam {
    type Theirs = tt::TopicReplicaParam;
    fn to_theirs(&self) -> Self::Theirs {
        tt::TopicReplicaParam::new(self.partitions, self.replication_factor, self.ignore_rack_assignment)
    }
}

impl ToOurs for tt::TopicReplicaParam {
    type Ours = TopicReplicaParam;
    fn to_ours(self) -> TopicReplicaParam {
        TopicReplicaParam {
            partitions: self.partitions,
            replication_factor: self.replication_factor,
            ignore_rack_assignment: self.ignore_rack_assignment,
        }
    }
}

impl ToTheirs for RemotePartitionConfig {
    type Theirs = tpa::RemotePartitionConfig;
    fn to_theirs(&self) -> Self::Theirs {
        tpa::RemotePartitionConfig {
            home_cluster: self.home_cluster.clone(),
            home_spu_key: self.home_spu_key.clone(),
            home_spu_id: self.home_spu_id,
            home_spu_endpoint: self.home_spu_endpoint.clone(),
            target: self.target,
        }
    }
}

impl ToOurs for tpa::RemotePartitionConfig {
    type Ours = RemotePartitionConfig;
    fn to_ours(self) -> RemotePartitionConfig {
        RemotePartitionConfig {
            home_cluster: self.home_cluster,
            home_spu_key: self.home_spu_key,
            home_spu_id: self.home_spu_id,
            home_spu_endpoint: self.home_spu_endpoint,
            target: self.target,
        }
    }
}

impl ToTheirs for HomePartitionConfig {
    type Theirs = tpa::HomePartitionConfig;
    fn to_theirs(&self) -> Self::Theirs {
        tpa::HomePartitionConfig {
            remote_cluster: self.remote_cluster.clone(),
            remote_replica: self.remote_replica.clone(),
            source: self.source,
        }
    }
}

impl ToOurs for tpa::HomePartitionConfig {
    type Ours = HomePartitionConfig;
    fn to_ours(self) -> HomePartitionConfig {
        HomePartitionConfig {
            remote_cluster: self.remote_cluster,
            remote_replica: self.remote_replica,
            source: self.source,
        }
    }
}

impl ToTheirs for PartitionMirrorConfig {
    type Theirs = tpa::PartitionMirrorConfig;
    fn to_theirs(&self) -> Self::Theirs {
        match self {
            PartitionMirrorConfig::Remote(remote) => tpa::PartitionMirrorConfig::Remote(remote.to_theirs()),
            PartitionMirrorConfig::Home(home) => tpa::PartitionMirrorConfig::Home(home.to_theirs()),
        }
    }
}

impl ToOurs for tpa::PartitionMirrorConfig {
    type Ours = PartitionMirrorConfig;
    fn to_ours(self) -> PartitionMirrorConfig {
        match self {
            tpa::PartitionMirrorConfig::Remote(remote) => PartitionMirrorConfig::Remote(remote.to_ours()),
            tpa::PartitionMirrorConfig::Home(home) => PartitionMirrorConfig::Home(home.to_ours()),
        }
    }
}

impl ToTheirs for PartitionMap {
    type Theirs = tt::PartitionMap;
    fn to_theirs(&self) -> Self::Theirs {
        tt::PartitionMap { id: self.id, replicas: self.replicas.clone(), mirror: self.mirror.to_theirs() }
    }
}

impl ToOurs for tt::PartitionMap {
    type Ours = PartitionMap;
    fn to_ours(self) -> PartitionMap {
        PartitionMap { id: self.id, replicas: self.replicas, mirror: self.mirror.to_ours() }
    }
}

impl ToTheirs for MirrorConfig {
    type Theirs = tt::MirrorConfig;
    fn to_theirs(&self) -> Self::Theirs {
        match self {
            MirrorConfig::Remote(remote) => tt::MirrorConfig::Remote(tt::RemoteMirrorConfig {
                home_cluster: remote.home_cluster.clone(),
                home_spus: remote
                    .home_spus
                    .iter()
                    .map(|s| tt::SpuMirrorConfig { id: s.id, key: s.key.clone(), endpoint: s.endpoint.clone() })
                    .collect(),
                target: remote.target,
            }),
            MirrorConfig::Home(home) => {
                // The tuple field of HomeMirrorConfig is private: build it from the partitions,
                // then set `source` through DerefMut.
                let mut config = tt::HomeMirrorConfig::from(home.partitions.to_theirs());
                config.source = home.source;
                tt::MirrorConfig::Home(config)
            }
        }
    }
}

impl ToOurs for tt::MirrorConfig {
    type Ours = MirrorConfig;
    fn to_ours(self) -> MirrorConfig {
        match self {
            tt::MirrorConfig::Remote(remote) => MirrorConfig::Remote(RemoteMirrorConfig {
                home_cluster: remote.home_cluster,
                home_spus: remote
                    .home_spus
                    .into_iter()
                    .map(|s| SpuMirrorConfig { id: s.id, key: s.key, endpoint: s.endpoint })
                    .collect(),
                target: remote.target,
            }),
            tt::MirrorConfig::Home(home) => MirrorConfig::Home(HomeMirrorConfig {
                partitions: home.partitions().clone().to_ours(),
                source: home.source,
            }),
        }
    }
}

impl ToTheirs for ReplicaSpec {
    type Theirs = tt::ReplicaSpec;
    fn to_theirs(&self) -> Self::Theirs {
        match self {
            ReplicaSpec::Assigned(maps) => tt::ReplicaSpec::Assigned(tt::PartitionMaps::from(maps.to_theirs())),
            ReplicaSpec::Computed(param) => tt::ReplicaSpec::Computed(param.to_theirs()),
            ReplicaSpec::Mirror(mirror) => tt::ReplicaSpec::Mirror(mirror.to_theirs()),
        }
    }
}

impl ToOurs for tt::ReplicaSpec {
    type Ours = ReplicaSpec;
    fn to_ours(self) -> ReplicaSpec {
        match self {
            tt::ReplicaSpec::Assigned(maps) => ReplicaSpec::Assigned(maps.maps_owned().to_ours()),
            tt::ReplicaSpec::Computed(param) => ReplicaSpec::Computed(param.to_ours()),
            tt::ReplicaSpec::Mirror(mirror) => ReplicaSpec::Mirror(mirror.to_ours()),
        }
    }
}

impl ToTheirs for CleanupPolicy {
    type Theirs = tt::CleanupPolicy;
    fn to_theirs(&self) -> Self::Theirs {
        match self {
            CleanupPolicy::Segment(policy) => {
                tt::CleanupPolicy::Segment(tt::SegmentBasedPolicy { time_in_seconds: policy.time_in_seconds })
            }
        }
    }
}

impl ToOurs for tt::CleanupPolicy {
    type Ours = CleanupPolicy;
    fn to_ours(self) -> CleanupPolicy {
        match self {
            tt::CleanupPolicy::Segment(policy) => {
                CleanupPolicy::Segment(SegmentBasedPolicy { time_in_seconds: policy.time_in_seconds })
            }
        }
    }
}

impl ToTheirs for TopicStorageConfig {
    type Theirs = tt::TopicStorageConfig;
    fn to_theirs(&self) -> Self::Theirs {
        tt::TopicStorageConfig { segment_size: self.segment_size, max_partition_size: self.max_partition_size }
    }
}

impl ToOurs for tt::TopicStorageConfig {
    type Ours = TopicStorageConfig;
    fn to_ours(self) -> TopicStorageConfig {
        TopicStorageConfig { segment_size: self.segment_size, max_partition_size: self.max_partition_size }
    }
}

impl ToTheirs for CompressionAlgorithm {
    type Theirs = tt::CompressionAlgorithm;
    fn to_theirs(&self) -> Self::Theirs {
        match self {
            CompressionAlgorithm::None => tt::CompressionAlgorithm::None,
            CompressionAlgorithm::Gzip => tt::CompressionAlgorithm::Gzip,
            CompressionAlgorithm::Snappy => tt::CompressionAlgorithm::Snappy,
            CompressionAlgorithm::Lz4 => tt::CompressionAlgorithm::Lz4,
            CompressionAlgorithm::Any => tt::CompressionAlgorithm::Any,
            CompressionAlgorithm::Zstd => tt::CompressionAlgorithm::Zstd,
        }
    }
}

impl ToOurs for tt::CompressionAlgorithm {
    type Ours = CompressionAlgorithm;
    fn to_ours(self) -> CompressionAlgorithm {
        match self {
            tt::CompressionAlgorithm::None => CompressionAlgorithm::None,
            tt::CompressionAlgorithm::Gzip => CompressionAlgorithm::Gzip,
            tt::CompressionAlgorithm::Snappy => CompressionAlgorithm::Snappy,
            tt::CompressionAlgorithm::Lz4 => CompressionAlgorithm::Lz4,
            tt::CompressionAlgorithm::Any => CompressionAlgorithm::Any,
            tt::CompressionAlgorithm::Zstd => CompressionAlgorithm::Zstd,
        }
    }
}

impl ToTheirs for Deduplication {
    type Theirs = tt::Deduplication;
    fn to_theirs(&self) -> Self::Theirs {
        tt::Deduplication {
            bounds: tt::Bounds { count: self.bounds.count, age: self.bounds.age },
            filter: tt::Filter {
                transform: tt::Transform {
                    uses: self.filter.transform.uses.clone(),
                    with: self.filter.transform.with.clone(),
                },
            },
        }
    }
}

impl ToOurs for tt::Deduplication {
    type Ours = Deduplication;
    fn to_ours(self) -> Deduplication {
        Deduplication {
            bounds: DeduplicationBounds { count: self.bounds.count, age: self.bounds.age },
            filter: DeduplicationFilter {
                transform: DeduplicationTransform {
                    uses: self.filter.transform.uses,
                    with: self.filter.transform.with,
                },
            },
        }
    }
}

impl ToTheirs for TopicSpec {
    type Theirs = tt::TopicSpec;
    fn to_theirs(&self) -> Self::Theirs {
        // TopicSpec's fields are private upstream; it has a setter for each.
        let mut spec = tt::TopicSpec::default();
        spec.set_replicas(self.replicas.to_theirs());
        if let Some(policy) = &self.cleanup_policy {
            spec.set_cleanup_policy(policy.to_theirs());
        }
        if let Some(storage) = &self.storage {
            spec.set_storage(storage.to_theirs());
        }
        spec.set_compression_type(self.compression_type.to_theirs());
        spec.set_deduplication(self.deduplication.to_theirs());
        spec.set_system(self.system);
        spec
    }
}

impl ToOurs for tt::TopicSpec {
    type Ours = TopicSpec;
    fn to_ours(self) -> TopicSpec {
        TopicSpec {
            replicas: self.replicas().clone().to_ours(),
            cleanup_policy: self.get_clean_policy().cloned().to_ours(),
            storage: self.get_storage().cloned().to_ours(),
            compression_type: self.get_compression_type().clone().to_ours(),
            deduplication: self.get_deduplication().cloned().to_ours(),
            system: self.is_system(),
        }
    }
}

impl ToTheirs for TopicResolution {
    type Theirs = tt::TopicResolution;
    fn to_theirs(&self) -> Self::Theirs {
        match self {
            TopicResolution::Init => tt::TopicResolution::Init,
            TopicResolution::Pending => tt::TopicResolution::Pending,
            TopicResolution::InsufficientResources => tt::TopicResolution::InsufficientResources,
            TopicResolution::InvalidConfig => tt::TopicResolution::InvalidConfig,
            TopicResolution::Provisioned => tt::TopicResolution::Provisioned,
            TopicResolution::Deleting => tt::TopicResolution::Deleting,
        }
    }
}

impl ToOurs for tt::TopicResolution {
    type Ours = TopicResolution;
    fn to_ours(self) -> TopicResolution {
        match self {
            tt::TopicResolution::Init => TopicResolution::Init,
            tt::TopicResolution::Pending => TopicResolution::Pending,
            tt::TopicResolution::InsufficientResources => TopicResolution::InsufficientResources,
            tt::TopicResolution::InvalidConfig => TopicResolution::InvalidConfig,
            tt::TopicResolution::Provisioned => TopicResolution::Provisioned,
            tt::TopicResolution::Deleting => TopicResolution::Deleting,
        }
    }
}

fn map_values<K: Ord + Clone, A, B>(map: &BTreeMap<K, A>, f: impl Fn(&A) -> B) -> BTreeMap<K, B> {
    map.iter().map(|(k, v)| (k.clone(), f(v))).collect()
}

impl ToTheirs for TopicStatus {
    type Theirs = tt::TopicStatus;
    fn to_theirs(&self) -> Self::Theirs {
        tt::TopicStatus {
            resolution: self.resolution.to_theirs(),
            replica_map: self.replica_map.clone(),
            mirror_map: map_values(&self.mirror_map, ToTheirs::to_theirs),
            reason: self.reason.clone(),
        }
    }
}

impl ToOurs for tt::TopicStatus {
    type Ours = TopicStatus;
    fn to_ours(self) -> TopicStatus {
        TopicStatus {
            resolution: self.resolution.to_ours(),
            replica_map: self.replica_map,
            mirror_map: self.mirror_map.into_iter().map(|(k, v)| (k, v.to_ours())).collect(),
            reason: self.reason,
        }
    }
}

impl ToTheirs for UpdateTopicAction {
    type Theirs = tt::UpdateTopicAction;
    fn to_theirs(&self) -> Self::Theirs {
        match self {
            UpdateTopicAction::AddPartition { count } => {
                tt::UpdateTopicAction::AddPartition(tt::AddPartition { count: *count })
            }
            UpdateTopicAction::AddMirror { remote_cluster, home_to_mirror } => {
                tt::UpdateTopicAction::AddMirror(tt::AddMirror {
                    remote_cluster: remote_cluster.clone(),
                    home_to_mirror: *home_to_mirror,
                })
            }
        }
    }
}

impl ToOurs for tt::UpdateTopicAction {
    type Ours = UpdateTopicAction;
    fn to_ours(self) -> UpdateTopicAction {
        match self {
            tt::UpdateTopicAction::AddPartition(add) => UpdateTopicAction::AddPartition { count: add.count },
            tt::UpdateTopicAction::AddMirror(add) => {
                UpdateTopicAction::AddMirror { remote_cluster: add.remote_cluster, home_to_mirror: add.home_to_mirror }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Partition

impl ToTheirs for PartitionSpec {
    type Theirs = tpa::PartitionSpec;
    fn to_theirs(&self) -> Self::Theirs {
        tpa::PartitionSpec {
            leader: self.leader,
            replicas: self.replicas.clone(),
            cleanup_policy: self.cleanup_policy.to_theirs(),
            storage: self.storage.to_theirs(),
            compression_type: self.compression_type.to_theirs(),
            deduplication: self.deduplication.to_theirs(),
            system: self.system,
            mirror: self.mirror.to_theirs(),
        }
    }
}

impl ToOurs for tpa::PartitionSpec {
    type Ours = PartitionSpec;
    fn to_ours(self) -> PartitionSpec {
        PartitionSpec {
            leader: self.leader,
            replicas: self.replicas,
            cleanup_policy: self.cleanup_policy.to_ours(),
            storage: self.storage.to_ours(),
            compression_type: self.compression_type.to_ours(),
            deduplication: self.deduplication.to_ours(),
            system: self.system,
            mirror: self.mirror.to_ours(),
        }
    }
}

impl ToTheirs for PartitionResolution {
    type Theirs = tpa::PartitionResolution;
    fn to_theirs(&self) -> Self::Theirs {
        match self {
            PartitionResolution::Offline => tpa::PartitionResolution::Offline,
            PartitionResolution::Online => tpa::PartitionResolution::Online,
            PartitionResolution::LeaderOffline => tpa::PartitionResolution::LeaderOffline,
            PartitionResolution::ElectionLeaderFound => tpa::PartitionResolution::ElectionLeaderFound,
            PartitionResolution::OutOfStorage => tpa::PartitionResolution::OutOfStorage,
        }
    }
}

impl ToOurs for tpa::PartitionResolution {
    type Ours = PartitionResolution;
    fn to_ours(self) -> PartitionResolution {
        match self {
            tpa::PartitionResolution::Offline => PartitionResolution::Offline,
            tpa::PartitionResolution::Online => PartitionResolution::Online,
            tpa::PartitionResolution::LeaderOffline => PartitionResolution::LeaderOffline,
            tpa::PartitionResolution::ElectionLeaderFound => PartitionResolution::ElectionLeaderFound,
            tpa::PartitionResolution::OutOfStorage => PartitionResolution::OutOfStorage,
        }
    }
}

impl ToTheirs for ReplicaStatus {
    type Theirs = tpa::ReplicaStatus;
    fn to_theirs(&self) -> Self::Theirs {
        tpa::ReplicaStatus { spu: self.spu, hw: self.hw, leo: self.leo }
    }
}

impl ToOurs for tpa::ReplicaStatus {
    type Ours = ReplicaStatus;
    fn to_ours(self) -> ReplicaStatus {
        ReplicaStatus { spu: self.spu, hw: self.hw, leo: self.leo }
    }
}

impl ToTheirs for PartitionStatus {
    type Theirs = tpa::PartitionStatus;
    fn to_theirs(&self) -> Self::Theirs {
        tpa::PartitionStatus {
            resolution: self.resolution.to_theirs(),
            leader: self.leader.to_theirs(),
            lsr: self.lsr,
            replicas: self.replicas.to_theirs(),
            size: self.size,
            is_being_deleted: self.is_being_deleted,
            base_offset: self.base_offset,
        }
    }
}

impl ToOurs for tpa::PartitionStatus {
    type Ours = PartitionStatus;
    fn to_ours(self) -> PartitionStatus {
        PartitionStatus {
            resolution: self.resolution.to_ours(),
            leader: self.leader.to_ours(),
            lsr: self.lsr,
            replicas: self.replicas.to_ours(),
            size: self.size,
            is_being_deleted: self.is_being_deleted,
            base_offset: self.base_offset,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// SPU

impl ToTheirs for EncryptionType {
    type Theirs = tsp::EncryptionEnum;
    fn to_theirs(&self) -> Self::Theirs {
        match self {
            EncryptionType::Plaintext => tsp::EncryptionEnum::PLAINTEXT,
            EncryptionType::Ssl => tsp::EncryptionEnum::SSL,
        }
    }
}

impl ToOurs for tsp::EncryptionEnum {
    type Ours = EncryptionType;
    fn to_ours(self) -> EncryptionType {
        match self {
            tsp::EncryptionEnum::PLAINTEXT => EncryptionType::Plaintext,
            tsp::EncryptionEnum::SSL => EncryptionType::Ssl,
        }
    }
}

impl ToTheirs for IngressAddr {
    type Theirs = tsp::IngressAddr;
    fn to_theirs(&self) -> Self::Theirs {
        tsp::IngressAddr { hostname: self.hostname.clone(), ip: self.ip.clone() }
    }
}

impl ToOurs for tsp::IngressAddr {
    type Ours = IngressAddr;
    fn to_ours(self) -> IngressAddr {
        IngressAddr { hostname: self.hostname, ip: self.ip }
    }
}

impl ToTheirs for IngressPort {
    type Theirs = tsp::IngressPort;
    fn to_theirs(&self) -> Self::Theirs {
        tsp::IngressPort { port: self.port, ingress: self.ingress.to_theirs(), encryption: self.encryption.to_theirs() }
    }
}

impl ToOurs for tsp::IngressPort {
    type Ours = IngressPort;
    fn to_ours(self) -> IngressPort {
        IngressPort { port: self.port, ingress: self.ingress.to_ours(), encryption: self.encryption.to_ours() }
    }
}

impl ToTheirs for Endpoint {
    type Theirs = tsp::Endpoint;
    fn to_theirs(&self) -> Self::Theirs {
        tsp::Endpoint { port: self.port, host: self.host.clone(), encryption: self.encryption.to_theirs() }
    }
}

impl ToOurs for tsp::Endpoint {
    type Ours = Endpoint;
    fn to_ours(self) -> Endpoint {
        Endpoint { port: self.port, host: self.host, encryption: self.encryption.to_ours() }
    }
}

impl ToTheirs for SpuSpec {
    type Theirs = tsp::SpuSpec;
    fn to_theirs(&self) -> Self::Theirs {
        tsp::SpuSpec {
            id: self.id,
            spu_type: match self.spu_type {
                SpuType::Managed => tsp::SpuType::Managed,
                SpuType::Custom => tsp::SpuType::Custom,
            },
            public_endpoint: self.public_endpoint.to_theirs(),
            private_endpoint: self.private_endpoint.to_theirs(),
            rack: self.rack.clone(),
            public_endpoint_local: self.public_endpoint_local.to_theirs(),
        }
    }
}

impl ToOurs for tsp::SpuSpec {
    type Ours = SpuSpec;
    fn to_ours(self) -> SpuSpec {
        SpuSpec {
            id: self.id,
            spu_type: match self.spu_type {
                tsp::SpuType::Managed => SpuType::Managed,
                tsp::SpuType::Custom => SpuType::Custom,
            },
            public_endpoint: self.public_endpoint.to_ours(),
            private_endpoint: self.private_endpoint.to_ours(),
            rack: self.rack,
            public_endpoint_local: self.public_endpoint_local.to_ours(),
        }
    }
}

impl ToTheirs for SpuStatus {
    type Theirs = tsp::SpuStatus;
    fn to_theirs(&self) -> Self::Theirs {
        tsp::SpuStatus {
            resolution: match self.resolution {
                SpuStatusResolution::Online => tsp::SpuStatusResolution::Online,
                SpuStatusResolution::Offline => tsp::SpuStatusResolution::Offline,
                SpuStatusResolution::Init => tsp::SpuStatusResolution::Init,
            },
        }
    }
}

impl ToOurs for tsp::SpuStatus {
    type Ours = SpuStatus;
    fn to_ours(self) -> SpuStatus {
        SpuStatus {
            resolution: match self.resolution {
                tsp::SpuStatusResolution::Online => SpuStatusResolution::Online,
                tsp::SpuStatusResolution::Offline => SpuStatusResolution::Offline,
                tsp::SpuStatusResolution::Init => SpuStatusResolution::Init,
            },
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Metadata, watch messages, status

macro_rules! metadata_conversions {
    ($($ours:ty => $theirs:ty),*) => {$(
        impl ToTheirs for Metadata<$ours> {
            type Theirs = to::Metadata<$theirs>;
            fn to_theirs(&self) -> Self::Theirs {
                to::Metadata { name: self.name.clone(), spec: self.spec.to_theirs(), status: self.status.to_theirs() }
            }
        }

        impl ToOurs for to::Metadata<$theirs> {
            type Ours = Metadata<$ours>;
            fn to_ours(self) -> Self::Ours {
                Metadata { name: self.name, spec: self.spec.to_ours(), status: self.status.to_ours() }
            }
        }

        impl ToTheirs for MetadataUpdate<$ours> {
            type Theirs = to::MetadataUpdate<$theirs>;
            fn to_theirs(&self) -> Self::Theirs {
                to::MetadataUpdate {
                    epoch: self.epoch,
                    changes: self
                        .changes
                        .iter()
                        .map(|change| Message {
                            header: match change.kind {
                                ChangeKind::Update => MsgType::UPDATE,
                                ChangeKind::Delete => MsgType::DELETE,
                            },
                            content: change.object.to_theirs(),
                        })
                        .collect(),
                    all: self.all.to_theirs(),
                }
            }
        }

        impl ToOurs for to::MetadataUpdate<$theirs> {
            type Ours = MetadataUpdate<$ours>;
            fn to_ours(self) -> Self::Ours {
                MetadataUpdate {
                    epoch: self.epoch,
                    changes: self
                        .changes
                        .into_iter()
                        .map(|message| Change {
                            kind: match message.header {
                                MsgType::UPDATE => ChangeKind::Update,
                                MsgType::DELETE => ChangeKind::Delete,
                            },
                            object: message.content.to_ours(),
                        })
                        .collect(),
                    all: self.all.to_ours(),
                }
            }
        }
    )*};
}

metadata_conversions!(TopicSpec => tt::TopicSpec, PartitionSpec => tpa::PartitionSpec, SpuSpec => tsp::SpuSpec);

impl ToTheirs for Status {
    type Theirs = TheirStatus;
    fn to_theirs(&self) -> TheirStatus {
        TheirStatus::new(self.name.clone(), self.error_code.to_theirs(), self.error_message.clone())
    }
}

impl ToOurs for TheirStatus {
    type Ours = Status;
    fn to_ours(self) -> Status {
        Status { name: self.name, error_code: self.error_code.to_ours(), error_message: self.error_message }
    }
}

// ---------------------------------------------------------------------------------------------
// Envelopes (`ObjectApi*`): built at a version, read back by downcasting.

/// The payload of an official envelope: its encoding minus the label and the u32 length.
fn their_payload<T: TheirEncoder>(envelope: &T, version: Version) -> Vec<u8> {
    let bytes = their_bytes(envelope, version);
    let label_len = u16::from_be_bytes([bytes[0], bytes[1]]) as usize;
    bytes[2 + label_len + 4..].to_vec()
}

/// Downcasts an official envelope to `Inner` (None if the label is another kind). The official
/// downcast ignores trailing bytes, so this also requires the payload to re-encode exactly.
fn downcast<Env, Inner>(envelope: &Env, version: Version) -> Option<Inner>
where
    Env: TryEncodableFrom<Inner>,
    Inner: TheirEncoder,
{
    let inner = <Env as TryEncodableFrom<Inner>>::downcast(envelope).expect("official downcast failed")?;
    assert_same_bytes(
        &their_bytes(&inner, version),
        &their_payload(envelope, version),
        "official downcast must read the whole payload",
    );
    Some(inner)
}

fn label_of_envelope<T: TheirEncoder>(envelope: &T, version: Version) -> String {
    let bytes = their_bytes(envelope, version);
    String::decode_from(&mut Cursor::new(bytes), version).expect("label")
}

fn encoded<Env, Inner>(inner: Inner, version: Version) -> Env
where
    Env: TryEncodableFrom<Inner>,
{
    Env::try_encode_from(inner, version).expect("official envelope encoding")
}

pub fn create_to_theirs(request: &CreateRequest, version: Version) -> to::ObjectApiCreateRequest {
    let common = common_to_theirs(&request.common);
    match &request.object {
        CreateObject::Topic(spec) => encoded(to::CreateRequest::new(common, spec.to_theirs()), version),
        CreateObject::Other { label, .. } => panic!("no conversion for creating {label:?}"),
    }
}

fn common_to_theirs(common: &CommonCreateRequest) -> to::CommonCreateRequest {
    to::CommonCreateRequest { name: common.name.clone(), dry_run: common.dry_run, timeout: common.timeout }
}

pub fn create_to_ours(request: to::ObjectApiCreateRequest, version: Version) -> CreateRequest {
    let create: to::CreateRequest<tt::TopicSpec> = downcast(&request, version).expect("a topic create request");
    let (common, spec) = create.parts();
    CreateRequest {
        common: CommonCreateRequest { name: common.name, dry_run: common.dry_run, timeout: common.timeout },
        object: CreateObject::Topic(spec.to_ours()),
    }
}

pub fn delete_to_theirs(request: &DeleteRequest, version: Version) -> to::ObjectApiDeleteRequest {
    match request {
        DeleteRequest::Topic { name, force } => {
            encoded(to::DeleteRequest::<tt::TopicSpec>::with(name.clone(), *force), version)
        }
        DeleteRequest::Other(envelope) => panic!("no conversion for deleting {:?}", envelope.label),
    }
}

pub fn delete_to_ours(request: to::ObjectApiDeleteRequest, version: Version) -> DeleteRequest {
    let delete: to::DeleteRequest<tt::TopicSpec> = downcast(&request, version).expect("a topic delete request");
    let force = delete.is_force();
    DeleteRequest::Topic { name: delete.key(), force }
}

pub fn list_request_to_theirs(request: &ListRequest, version: Version) -> to::ObjectApiListRequest {
    let filters: Vec<to::ListFilter> =
        request.filters.name_filters.iter().map(|f| to::ListFilter { name: f.name.clone() }).collect();
    with_spec!(request.label.as_str(), S => {
        let inner = to::ListRequest::<S>::new(filters, request.filters.summary).system(request.filters.system);
        encoded(inner, version)
    })
}

pub fn list_request_to_ours(request: to::ObjectApiListRequest, version: Version) -> ListRequest {
    let label = label_of_envelope(&request, version);
    with_spec!(label.as_str(), S => {
        let inner: to::ListRequest<S> = downcast(&request, version).expect("label matches");
        let summary = inner.summary;
        let system = inner.system;
        let name_filters: Vec<to::ListFilter> = inner.name_filters.into();
        ListRequest {
            label: label.clone(),
            filters: ListFilters {
                name_filters: name_filters.into_iter().map(|f| ListFilter { name: f.name }).collect(),
                summary,
                system,
            },
        }
    })
}

pub fn list_response_to_theirs(response: &ListResponse, version: Version) -> to::ObjectApiListResponse {
    match response {
        ListResponse::Topic(list) => encoded(to::ListResponse::<tt::TopicSpec>::new(list.to_theirs()), version),
        ListResponse::Partition(list) => {
            encoded(to::ListResponse::<tpa::PartitionSpec>::new(list.to_theirs()), version)
        }
        ListResponse::Spu(list) => encoded(to::ListResponse::<tsp::SpuSpec>::new(list.to_theirs()), version),
        ListResponse::Other(envelope) => panic!("no conversion for listing {:?}", envelope.label),
    }
}

pub fn list_response_to_ours(response: to::ObjectApiListResponse, version: Version) -> ListResponse {
    if let Some(list) = downcast::<_, to::ListResponse<tt::TopicSpec>>(&response, version) {
        ListResponse::Topic(list.inner().to_ours())
    } else if let Some(list) = downcast::<_, to::ListResponse<tpa::PartitionSpec>>(&response, version) {
        ListResponse::Partition(list.inner().to_ours())
    } else if let Some(list) = downcast::<_, to::ListResponse<tsp::SpuSpec>>(&response, version) {
        ListResponse::Spu(list.inner().to_ours())
    } else {
        panic!("list response of an unexpected kind")
    }
}

pub fn watch_request_to_theirs(request: &WatchRequest, version: Version) -> to::ObjectApiWatchRequest {
    with_spec!(request.label.as_str(), S => {
        // `epoch` is private upstream with no setter: build the payload with the official
        // encoders ({epoch i64, summary bool (v10+)}) and read it with the official decoder.
        let mut payload = Vec::new();
        request.params.epoch.encode(&mut payload, version).expect("encode");
        request.params.summary.encode(&mut payload, version).expect("encode");
        let inner = to::WatchRequest::<S>::decode_from(&mut Cursor::new(payload), version).expect("decode");
        assert_eq!(inner.summary, request.params.summary);
        encoded(inner, version)
    })
}

pub fn watch_request_to_ours(request: to::ObjectApiWatchRequest, version: Version) -> WatchRequest {
    let label = label_of_envelope(&request, version);
    with_spec!(label.as_str(), S => {
        let inner: to::WatchRequest<S> = downcast(&request, version).expect("label matches");
        // `epoch` has no getter: it is the first field of the official encoding.
        let bytes = their_bytes(&inner, version);
        let epoch = i64::decode_from(&mut Cursor::new(&bytes[..8]), version).expect("epoch");
        WatchRequest { label: label.clone(), params: WatchParams { epoch, summary: inner.summary } }
    })
}

pub fn watch_response_to_theirs(response: &WatchResponse, version: Version) -> to::ObjectApiWatchResponse {
    match response {
        WatchResponse::Topic(update) => encoded(to::WatchResponse::<tt::TopicSpec>::new(update.to_theirs()), version),
        WatchResponse::Partition(update) => {
            encoded(to::WatchResponse::<tpa::PartitionSpec>::new(update.to_theirs()), version)
        }
        WatchResponse::Spu(update) => encoded(to::WatchResponse::<tsp::SpuSpec>::new(update.to_theirs()), version),
        WatchResponse::Other(envelope) => panic!("no conversion for watching {:?}", envelope.label),
    }
}

pub fn watch_response_to_ours(response: to::ObjectApiWatchResponse, version: Version) -> WatchResponse {
    if let Some(watch) = downcast::<_, to::WatchResponse<tt::TopicSpec>>(&response, version) {
        WatchResponse::Topic(watch.inner().to_ours())
    } else if let Some(watch) = downcast::<_, to::WatchResponse<tpa::PartitionSpec>>(&response, version) {
        WatchResponse::Partition(watch.inner().to_ours())
    } else if let Some(watch) = downcast::<_, to::WatchResponse<tsp::SpuSpec>>(&response, version) {
        WatchResponse::Spu(watch.inner().to_ours())
    } else {
        panic!("watch response of an unexpected kind")
    }
}

pub fn update_to_theirs(request: &UpdateRequest, version: Version) -> to::ObjectApiUpdateRequest {
    match request {
        UpdateRequest::Topic { name, action } => {
            encoded(to::UpdateRequest::<tt::TopicSpec>::with(name.clone(), action.to_theirs()), version)
        }
        UpdateRequest::Other(envelope) => panic!("no conversion for updating {:?}", envelope.label),
    }
}

pub fn update_to_ours(request: to::ObjectApiUpdateRequest, version: Version) -> UpdateRequest {
    let update: to::UpdateRequest<tt::TopicSpec> = downcast(&request, version).expect("a topic update request");
    let action = update.action.clone().to_ours();
    UpdateRequest::Topic { name: update.key(), action }
}
