//! proptest strategies for our main structures. Values stay inside what the official codec can
//! represent (see the notes on each constraint); everything else is random.

use std::time::Duration;

use bytes::Bytes;
use fluvio_wire::Compression;
use fluvio_wire::codec::ByteVec;
use fluvio_wire::error_code::{ErrorCode, ReplicaKey, RequestKind, SmartModuleKindTag, SmartModuleRuntimeError};
use fluvio_wire::record::{RawBatch, Record, RecordSet, VarBytes};
use fluvio_wire::sc::partition::*;
use fluvio_wire::sc::spu::*;
use fluvio_wire::sc::topic::*;
use fluvio_wire::sc::{Change, ChangeKind, ListResponse, Metadata, MetadataUpdate, Spec, WatchResponse};
use fluvio_wire::smartmodule::{
    Lookback, SmartModuleContext, SmartModuleInvocation, SmartModuleKind, SmartModuleParams, SmartModuleWasm,
};
use fluvio_wire::spu::*;
use proptest::collection::{btree_map, vec};
use proptest::option;
use proptest::prelude::*;

/// Short strings, including empty and non-ASCII ones.
pub fn text() -> impl Strategy<Value = String> {
    prop_oneof![Just(String::new()), "[a-z0-9-]{1,12}", "\\PC{0,8}"]
}

/// Non-empty strings. Used where the official decoder cannot read an empty string back: it
/// decodes into a default-initialised field and skips empty strings, so fields whose official
/// `Default` is not "" (e.g. `Endpoint.host`, default "127.0.0.1") must not be empty.
pub fn non_empty_text() -> impl Strategy<Value = String> {
    prop_oneof!["[a-z0-9.-]{1,12}", "\\PC{1,8}"]
}

pub fn blob(max: usize) -> impl Strategy<Value = Bytes> {
    vec(any::<u8>(), 0..=max).prop_map(Bytes::from)
}

fn duration() -> impl Strategy<Value = Duration> {
    (any::<u64>(), 0..1_000_000_000u32).prop_map(|(secs, nanos)| Duration::new(secs, nanos))
}

// ---------------------------------------------------------------------------------------------
// ErrorCode

pub fn error_code() -> impl Strategy<Value = ErrorCode> {
    use ErrorCode::*;
    let unit = prop_oneof![
        Just(UnknownServerError),
        Just(None),
        Just(OffsetOutOfRange),
        Just(NotLeaderForPartition),
        Just(MessageTooLarge),
        Just(PermissionDenied),
        Just(StorageError),
        Just(InvalidCreateRequest),
        Just(InvalidDeleteRequest),
        Just(PartitionShortCircuited),
        Just(SpuError),
        Just(SpuRegistrationFailed),
        Just(SpuOffline),
        Just(SpuNotFound),
        Just(SpuAlreadyExists),
        Just(TopicError),
        Just(TopicNotFound),
        Just(TopicAlreadyExists),
        Just(TopicPendingInitialization),
        Just(TopicInvalidConfiguration),
        Just(TopicNotProvisioned),
        Just(TopicInvalidName),
        Just(TopicDeleted),
        Just(TopicInvalidReplicaType),
        Just(PartitionPendingInitialization),
        Just(PartitionNotLeader),
        Just(FetchSessionNotFound),
        Just(OffsetManagementDisabled),
        Just(MaxRetryReached),
        Just(ManagedConnectorError),
        Just(ManagedConnectorNotFound),
        Just(ManagedConnectorAlreadyExists),
        Just(SmartModuleError),
        Just(TableFormatError),
        Just(TableFormatNotFound),
        Just(TableFormatAlreadyExists),
        Just(DerivedStreamObjectError),
        Just(DerivedStreamJoinFetchError),
        Just(CompressionError),
        Just(DeduplicationSmartModuleNotLoaded),
        Just(MirrorNotFound),
        Just(MirrorAlreadyExists),
        Just(MirrorProduceFromHome),
        Just(MirrorDeleteFromRemote),
        Just(MirrorInvalidType),
        Just(MirrorProduceFromRemoteNotAllowed),
    ];
    let kind_tag = prop_oneof![
        Just(SmartModuleKindTag::Filter),
        Just(SmartModuleKindTag::Map),
        Just(SmartModuleKindTag::ArrayMap),
        Just(SmartModuleKindTag::Aggregate),
        Just(SmartModuleKindTag::FilterMap),
        Just(SmartModuleKindTag::Join),
        Just(SmartModuleKindTag::Generic),
    ];
    let runtime = (text(), any::<i64>(), kind_tag, option::of(blob(40)), blob(300)).prop_map(
        |(hint, offset, kind, key, value)| {
            SmartModuleRuntimeError(Box::new(self::SmartModuleRuntimeError {
                hint,
                offset,
                kind,
                record_key: key.map(VarBytes),
                record_value: VarBytes(value),
            }))
        },
    );
    let with_payload = prop_oneof![
        text().prop_map(Other),
        any::<u64>().prop_map(|timeout_ms| RequestTimedOut { timeout_ms, kind: RequestKind::Produce }),
        (any::<i64>(), any::<i64>()).prop_map(|(offset, next_available)| OffsetEvicted { offset, next_available }),
        (text(), any::<u32>()).prop_map(|(t, p)| PartitionFull { replica_key: ReplicaKey::new(t, p) }),
        text().prop_map(OffsetFlushRequestError),
        text().prop_map(|name| SmartModuleNotFound { name }),
        (text(), option::of(text())).prop_map(|(error, name)| SmartModuleInvalid { error, name }),
        (text(), text()).prop_map(|(error, kind)| SmartModuleInvalidExports { error, kind }),
        runtime,
        text().prop_map(SmartModuleChainInitError),
        text().prop_map(|hint| SmartModuleInitError { hint }),
        text().prop_map(SmartModuleLookBackError),
        (any::<u64>(), any::<u64>()).prop_map(|(requested, max)| SmartModuleMemoryLimitExceeded { requested, max }),
        text().prop_map(DerivedStreamNotFound),
        text().prop_map(DerivedStreamInvalid),
        text().prop_map(DeduplicationSmartModuleNameInvalid),
        (text(), text()).prop_map(|(kind, name)| SystemSpecDeletionAttempt { kind, name }),
        (text(), text()).prop_map(|(kind, name)| SystemSpecUpdatingAttempt { kind, name }),
    ];
    prop_oneof![unit, with_payload]
}

// ---------------------------------------------------------------------------------------------
// Records

/// A record value: mostly small, sometimes past the 1- and 2-byte varint length boundaries.
fn record_value() -> impl Strategy<Value = Bytes> {
    prop_oneof![
        8 => blob(64),
        2 => vec(any::<u8>(), 120..300).prop_map(Bytes::from),
        1 => vec(any::<u8>(), 16_380..16_400).prop_map(Bytes::from),
    ]
}

/// Records for a batch: offset deltas 0..n, random keys/values, and timestamp deltas anywhere in
/// the i32 range. (Intentional difference: our varints are correct over the full i64 range, the
/// official encoder only over i32, so record varints stay in the i32 range.)
pub fn records(max: usize) -> impl Strategy<Value = Vec<Record>> {
    vec((option::of(blob(32)), record_value(), prop_oneof![0..10_000i64, any::<i32>().prop_map(i64::from)]), 1..=max)
        .prop_map(|items| {
            items.into_iter().enumerate().map(|(i, (key, value, ts))| Record::new(key, value, i as i64, ts)).collect()
        })
}

/// The codecs whose output is byte-identical on both sides (zstd is not: see `records.rs`).
pub fn identical_codec() -> impl Strategy<Value = Compression> {
    prop_oneof![Just(Compression::None), Just(Compression::Gzip), Just(Compression::Snappy), Just(Compression::Lz4)]
}

pub fn first_timestamp() -> impl Strategy<Value = i64> {
    prop_oneof![Just(-1i64), Just(0i64), 1_500_000_000_000i64..2_000_000_000_000]
}

pub fn batch() -> impl Strategy<Value = RawBatch> {
    (
        records(12),
        prop_oneof![identical_codec(), Just(Compression::Zstd)],
        first_timestamp(),
        any::<i64>(),
        option::of(any::<u32>()),
    )
        .prop_map(|(records, compression, first_timestamp, base_offset, schema_id)| {
            let mut batch = RawBatch::from_records(&records, compression, first_timestamp).unwrap();
            batch.header.base_offset = base_offset;
            batch.schema_id = schema_id;
            batch
        })
}

pub fn record_set() -> impl Strategy<Value = RecordSet> {
    vec(batch(), 0..4).prop_map(|batches| RecordSet::from_batches(&batches).unwrap())
}

// ---------------------------------------------------------------------------------------------
// SmartModules and SPU messages

fn smartmodule_context() -> impl Strategy<Value = SmartModuleContext> {
    prop_oneof![
        Just(SmartModuleContext::None),
        blob(16).prop_map(|a| SmartModuleContext::Aggregate { accumulator: ByteVec(a) }),
        text().prop_map(SmartModuleContext::Join),
        (text(), text()).prop_map(|(topic, derivedstream)| SmartModuleContext::JoinStream { topic, derivedstream }),
    ]
}

fn smartmodule_kind() -> impl Strategy<Value = SmartModuleKind> {
    prop_oneof![
        Just(SmartModuleKind::Filter),
        Just(SmartModuleKind::Map),
        Just(SmartModuleKind::ArrayMap),
        blob(16).prop_map(|a| SmartModuleKind::Aggregate { accumulator: ByteVec(a) }),
        Just(SmartModuleKind::FilterMap),
        text().prop_map(SmartModuleKind::Join),
        (text(), text()).prop_map(|(topic, derivedstream)| SmartModuleKind::JoinStream { topic, derivedstream }),
        smartmodule_context().prop_map(SmartModuleKind::Generic),
    ]
}

/// An invocation with every field set as at v25.
pub fn smartmodule_invocation() -> impl Strategy<Value = SmartModuleInvocation> {
    let wasm = prop_oneof![
        text().prop_map(SmartModuleWasm::Predefined),
        blob(32).prop_map(|w| SmartModuleWasm::AdHoc(ByteVec(w)))
    ];
    let lookback = option::of((any::<u64>(), option::of(duration())).prop_map(|(last, age)| Lookback { last, age }));
    let params = (btree_map(text(), text(), 0..4), lookback)
        .prop_map(|(params, lookback)| SmartModuleParams { params, lookback });
    (wasm, smartmodule_kind(), params, option::of(text()))
        .prop_map(|(wasm, kind, params, name)| SmartModuleInvocation { wasm, kind, params, name })
}

fn isolation() -> impl Strategy<Value = Isolation> {
    prop_oneof![Just(Isolation::ReadUncommitted), Just(Isolation::ReadCommitted)]
}

/// A v25 produce request. `timeout_ms` is non-negative: the official request holds it as a
/// `Duration` and refuses negative values.
pub fn produce_request() -> impl Strategy<Value = ProduceRequest> {
    let partition = (any::<u32>(), record_set())
        .prop_map(|(partition_index, records)| PartitionProduceData { partition_index, records });
    let topic = (text(), vec(partition, 0..3)).prop_map(|(name, partitions)| TopicProduceData { name, partitions });
    (option::of(text()), isolation(), 0..=i32::MAX, vec(topic, 0..3), vec(smartmodule_invocation(), 0..3)).prop_map(
        |(transactional_id, isolation, timeout_ms, topics, smartmodules)| ProduceRequest {
            transactional_id,
            isolation: ProduceAcks(isolation),
            timeout_ms,
            topics,
            smartmodules,
        },
    )
}

pub fn produce_response() -> impl Strategy<Value = ProduceResponse> {
    let partition = (any::<u32>(), error_code(), any::<i64>(), any::<i64>(), any::<i64>()).prop_map(
        |(partition_index, error_code, base_offset, log_append_time_ms, log_start_offset)| PartitionProduceResponse {
            partition_index,
            error_code,
            base_offset,
            log_append_time_ms,
            log_start_offset,
        },
    );
    let topic = (text(), vec(partition, 0..4)).prop_map(|(name, partitions)| TopicProduceResponse { name, partitions });
    (vec(topic, 0..3), any::<i32>())
        .prop_map(|(responses, throttle_time_ms)| ProduceResponse { responses, throttle_time_ms })
}

pub fn stream_fetch_response() -> impl Strategy<Value = StreamFetchResponse> {
    let aborted = option::of(vec(
        (any::<i64>(), any::<i64>())
            .prop_map(|(producer_id, first_offset)| AbortedTransaction { producer_id, first_offset }),
        0..3,
    ));
    let partition = (any::<u32>(), error_code(), any::<i64>(), any::<i64>(), any::<i64>(), aborted, record_set())
        .prop_map(
            |(partition_index, error_code, high_watermark, next_filter_offset, log_start_offset, aborted, records)| {
                FetchablePartitionResponse {
                    partition_index,
                    error_code,
                    high_watermark,
                    next_filter_offset,
                    log_start_offset,
                    aborted,
                    records,
                }
            },
        );
    (text(), any::<u32>(), partition).prop_map(|(topic, stream_id, partition)| StreamFetchResponse {
        topic,
        stream_id,
        partition,
    })
}

// ---------------------------------------------------------------------------------------------
// SC object model

fn partition_mirror() -> impl Strategy<Value = PartitionMirrorConfig> {
    prop_oneof![
        (text(), text(), any::<i32>(), text(), any::<bool>()).prop_map(
            |(home_cluster, home_spu_key, home_spu_id, home_spu_endpoint, target)| {
                PartitionMirrorConfig::Remote(RemotePartitionConfig {
                    home_cluster,
                    home_spu_key,
                    home_spu_id,
                    home_spu_endpoint,
                    target,
                })
            }
        ),
        home_partition().prop_map(PartitionMirrorConfig::Home),
    ]
}

fn home_partition() -> impl Strategy<Value = HomePartitionConfig> {
    (text(), text(), any::<bool>()).prop_map(|(remote_cluster, remote_replica, source)| HomePartitionConfig {
        remote_cluster,
        remote_replica,
        source,
    })
}

fn replica_spec() -> impl Strategy<Value = ReplicaSpec> {
    let computed = (any::<u32>(), any::<u32>(), any::<bool>()).prop_map(
        |(partitions, replication_factor, ignore_rack_assignment)| {
            ReplicaSpec::Computed(TopicReplicaParam { partitions, replication_factor, ignore_rack_assignment })
        },
    );
    let map = (any::<u32>(), vec(any::<i32>(), 0..4), option::of(partition_mirror()))
        .prop_map(|(id, replicas, mirror)| PartitionMap { id, replicas, mirror });
    let assigned = vec(map, 0..4).prop_map(ReplicaSpec::Assigned);
    let spu = (any::<i32>(), text(), text()).prop_map(|(id, key, endpoint)| SpuMirrorConfig { id, key, endpoint });
    let remote = (text(), vec(spu, 0..3), any::<bool>()).prop_map(|(home_cluster, home_spus, target)| {
        MirrorConfig::Remote(RemoteMirrorConfig { home_cluster, home_spus, target })
    });
    let home = (vec(home_partition(), 0..3), any::<bool>())
        .prop_map(|(partitions, source)| MirrorConfig::Home(HomeMirrorConfig { partitions, source }));
    prop_oneof![computed, assigned, prop_oneof![remote, home].prop_map(ReplicaSpec::Mirror)]
}

fn compression_algorithm() -> impl Strategy<Value = CompressionAlgorithm> {
    prop_oneof![
        Just(CompressionAlgorithm::None),
        Just(CompressionAlgorithm::Gzip),
        Just(CompressionAlgorithm::Snappy),
        Just(CompressionAlgorithm::Lz4),
        Just(CompressionAlgorithm::Any),
        Just(CompressionAlgorithm::Zstd),
    ]
}

fn cleanup_policy() -> impl Strategy<Value = CleanupPolicy> {
    any::<u32>().prop_map(|time_in_seconds| CleanupPolicy::Segment(SegmentBasedPolicy { time_in_seconds }))
}

fn storage() -> impl Strategy<Value = TopicStorageConfig> {
    (option::of(any::<u32>()), option::of(any::<u64>()))
        .prop_map(|(segment_size, max_partition_size)| TopicStorageConfig { segment_size, max_partition_size })
}

fn deduplication() -> impl Strategy<Value = Deduplication> {
    (any::<u64>(), option::of(duration()), text(), btree_map(text(), text(), 0..3)).prop_map(
        |(count, age, uses, with)| Deduplication {
            bounds: DeduplicationBounds { count, age },
            filter: DeduplicationFilter { transform: DeduplicationTransform { uses, with } },
        },
    )
}

pub fn topic_spec() -> impl Strategy<Value = TopicSpec> {
    (
        replica_spec(),
        option::of(cleanup_policy()),
        option::of(storage()),
        compression_algorithm(),
        option::of(deduplication()),
        any::<bool>(),
    )
        .prop_map(|(replicas, cleanup_policy, storage, compression_type, deduplication, system)| TopicSpec {
            replicas,
            cleanup_policy,
            storage,
            compression_type,
            deduplication,
            system,
        })
}

pub fn topic_status() -> impl Strategy<Value = TopicStatus> {
    let resolution = prop_oneof![
        Just(TopicResolution::Init),
        Just(TopicResolution::Pending),
        Just(TopicResolution::InsufficientResources),
        Just(TopicResolution::InvalidConfig),
        Just(TopicResolution::Provisioned),
        Just(TopicResolution::Deleting),
    ];
    (
        resolution,
        btree_map(any::<u32>(), vec(any::<i32>(), 0..3), 0..4),
        btree_map(any::<u32>(), partition_mirror(), 0..3),
        text(),
    )
        .prop_map(|(resolution, replica_map, mirror_map, reason)| TopicStatus {
            resolution,
            replica_map,
            mirror_map,
            reason,
        })
}

pub fn partition_spec() -> impl Strategy<Value = PartitionSpec> {
    (
        any::<i32>(),
        vec(any::<i32>(), 0..4),
        option::of(cleanup_policy()),
        option::of(storage()),
        compression_algorithm(),
        option::of(deduplication()),
        any::<bool>(),
        option::of(partition_mirror()),
    )
        .prop_map(
            |(leader, replicas, cleanup_policy, storage, compression_type, deduplication, system, mirror)| {
                PartitionSpec {
                    leader,
                    replicas,
                    cleanup_policy,
                    storage,
                    compression_type,
                    deduplication,
                    system,
                    mirror,
                }
            },
        )
}

fn replica_status() -> impl Strategy<Value = ReplicaStatus> {
    (any::<i32>(), any::<i64>(), any::<i64>()).prop_map(|(spu, hw, leo)| ReplicaStatus { spu, hw, leo })
}

pub fn partition_status() -> impl Strategy<Value = PartitionStatus> {
    let resolution = prop_oneof![
        Just(PartitionResolution::Offline),
        Just(PartitionResolution::Online),
        Just(PartitionResolution::LeaderOffline),
        Just(PartitionResolution::ElectionLeaderFound),
        Just(PartitionResolution::OutOfStorage),
    ];
    (resolution, replica_status(), any::<u32>(), vec(replica_status(), 0..3), any::<i64>(), any::<bool>(), any::<i64>())
        .prop_map(|(resolution, leader, lsr, replicas, size, is_being_deleted, base_offset)| PartitionStatus {
            resolution,
            leader,
            lsr,
            replicas,
            size,
            is_being_deleted,
            base_offset,
        })
}

fn encryption() -> impl Strategy<Value = EncryptionType> {
    prop_oneof![Just(EncryptionType::Plaintext), Just(EncryptionType::Ssl)]
}

fn endpoint() -> impl Strategy<Value = Endpoint> {
    (any::<u16>(), non_empty_text(), encryption()).prop_map(|(port, host, encryption)| Endpoint {
        port,
        host,
        encryption,
    })
}

pub fn spu_spec() -> impl Strategy<Value = SpuSpec> {
    let ingress = (option::of(text()), option::of(text())).prop_map(|(hostname, ip)| IngressAddr { hostname, ip });
    let public = (any::<u16>(), vec(ingress, 0..3), encryption()).prop_map(|(port, ingress, encryption)| IngressPort {
        port,
        ingress,
        encryption,
    });
    let spu_type = prop_oneof![Just(SpuType::Managed), Just(SpuType::Custom)];
    (any::<i32>(), spu_type, public, endpoint(), option::of(text()), option::of(endpoint())).prop_map(
        |(id, spu_type, public_endpoint, private_endpoint, rack, public_endpoint_local)| SpuSpec {
            id,
            spu_type,
            public_endpoint,
            private_endpoint,
            rack,
            public_endpoint_local,
        },
    )
}

pub fn spu_status() -> impl Strategy<Value = SpuStatus> {
    prop_oneof![Just(SpuStatusResolution::Online), Just(SpuStatusResolution::Offline), Just(SpuStatusResolution::Init)]
        .prop_map(|resolution| SpuStatus { resolution })
}

fn metadata<S: Spec + 'static>(
    spec: impl Strategy<Value = S>,
    status: impl Strategy<Value = S::Status>,
) -> impl Strategy<Value = Metadata<S>> {
    (text(), spec, status).prop_map(|(name, spec, status)| Metadata { name, spec, status })
}

fn update<S: Spec + 'static>(object: BoxedStrategy<Metadata<S>>) -> impl Strategy<Value = MetadataUpdate<S>> {
    let kind = prop_oneof![Just(ChangeKind::Update), Just(ChangeKind::Delete)];
    let change = (kind, object.clone()).prop_map(|(kind, object)| Change { kind, object });
    (any::<i64>(), vec(change, 0..3), vec(object, 0..3)).prop_map(|(epoch, changes, all)| MetadataUpdate {
        epoch,
        changes,
        all,
    })
}

pub fn list_response() -> impl Strategy<Value = ListResponse> {
    prop_oneof![
        vec(metadata(topic_spec(), topic_status()), 0..3).prop_map(ListResponse::Topic),
        vec(metadata(partition_spec(), partition_status()), 0..3).prop_map(ListResponse::Partition),
        vec(metadata(spu_spec(), spu_status()), 0..3).prop_map(ListResponse::Spu),
    ]
}

pub fn watch_response() -> impl Strategy<Value = WatchResponse> {
    prop_oneof![
        update(metadata(topic_spec(), topic_status()).boxed()).prop_map(WatchResponse::Topic),
        update(metadata(partition_spec(), partition_status()).boxed()).prop_map(WatchResponse::Partition),
        update(metadata(spu_spec(), spu_status()).boxed()).prop_map(WatchResponse::Spu),
    ]
}
