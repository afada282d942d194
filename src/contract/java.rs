//! The contract: every Java class, member, constant and enum the native library uses, each
//! declared once, with the Rust types its JNI descriptor is computed from. The library checks
//! all of it against the Java classes when it initializes (`NativeLibrary.load()`), so a change
//! to one side alone stops it from loading with a message naming what differs.
//!
//! To let native code use a new Java member, add its line to its class here; for a new enum, a
//! block to `java_enums!`; for a Java constant that mirrors a Rust one, a `const` line.

use fluvio_engine::admin::{PartitionResolution, SpuStatusResolution, TopicResolution};
use jni::objects::JString;
use jni::sys::{jboolean, jint, jlong};

use super::bind::java;
use super::enums::java_enums;
use super::types::Obj;

java! {
    /// `java.time.Duration` (declared first: other classes' constants are durations).
    class Duration = "java/time/Duration" {
        fn get_seconds = getSeconds() -> jlong;
        fn get_nano = getNano() -> jint;
    }

    /// `java.lang.Object`.
    class Object = "java/lang/Object" {
        fn to_string = toString() -> JString<'local>;
    }

    /// `java.lang.Thread`: a blocked call reads its caller's interrupt flag.
    class Thread = "java/lang/Thread" {
        static fn current_thread = currentThread() -> Obj<'local, Thread>;
        fn is_interrupted = isInterrupted() -> jboolean;
    }

    /// `com.infinyon.fluvio.FluvioLogging`: native events go to the JVM's logging through `log`.
    class FluvioLogging = "com/infinyon/fluvio/FluvioLogging" {
        static fn log = log(logger: &JString<'_>, level: jint, message: &JString<'_>) -> ();
        const LEVEL_OFF = int(super::levels::LEVEL_OFF as i32);
        const LEVEL_ERROR = int(super::levels::LEVEL_ERROR as i32);
        const LEVEL_WARN = int(super::levels::LEVEL_WARN as i32);
        const LEVEL_INFO = int(super::levels::LEVEL_INFO as i32);
        const LEVEL_DEBUG = int(super::levels::LEVEL_DEBUG as i32);
        const LEVEL_TRACE = int(super::levels::LEVEL_TRACE as i32);
    }

    /// `java.nio.file.Path`.
    class Path = "java/nio/file/Path" {}

    /// `com.infinyon.fluvio.NativeLibrary`: loads the library and initializes it.
    class NativeLibrary = "com/infinyon/fluvio/NativeLibrary" {}

    /// `com.infinyon.fluvio.Settings`: the rules of settings, asked by Java builders.
    class Settings = "com/infinyon/fluvio/Settings" {}

    /// `com.infinyon.fluvio.Fluvio`.
    class Fluvio = "com/infinyon/fluvio/Fluvio" {}

    /// `com.infinyon.fluvio.FluvioConfig`.
    class FluvioConfig = "com/infinyon/fluvio/FluvioConfig" {
        fn endpoint = endpoint() -> JString<'local>;
        fn tls = tls() -> Obj<'local, TlsConfig>;
        fn client_id = clientId() -> JString<'local>;
        fn connect_timeout = connectTimeout() -> Obj<'local, Duration>;
        fn request_timeout = requestTimeout() -> Obj<'local, Duration>;
        fn tls_handshake_timeout = tlsHandshakeTimeout() -> Obj<'local, Duration>;
        fn use_spu_local_address = useSpuLocalAddress() -> jboolean;
        const DEFAULT_CONNECT_TIMEOUT = duration(fluvio_engine::config::DEFAULT_CONNECT_TIMEOUT);
        const DEFAULT_REQUEST_TIMEOUT = duration(fluvio_engine::config::DEFAULT_REQUEST_TIMEOUT);
        const DEFAULT_TLS_HANDSHAKE_TIMEOUT = duration(fluvio_engine::config::DEFAULT_TLS_HANDSHAKE_TIMEOUT);
    }

    /// `com.infinyon.fluvio.TlsConfig`.
    class TlsConfig = "com/infinyon/fluvio/TlsConfig" {
        fn policy = policy() -> Obj<'local, TlsPolicy>;
        fn domain = domain() -> JString<'local>;
        fn ca_cert = caCert() -> Obj<'local, Pem>;
        fn client_cert = clientCert() -> Obj<'local, Pem>;
        fn client_key = clientKey() -> Obj<'local, Pem>;
    }

    /// `com.infinyon.fluvio.Pem`: a PEM file or PEM text.
    class Pem = "com/infinyon/fluvio/Pem" {
        fn is_file = isFile() -> jboolean;
        fn value = value() -> JString<'local>;
    }

    /// `com.infinyon.fluvio.TopicProducer`.
    class TopicProducer = "com/infinyon/fluvio/TopicProducer" {
        const SAME_BATCH = long(super::batches::SAME_BATCH);
    }

    /// `com.infinyon.fluvio.TopicProducerConfig`.
    class TopicProducerConfig = "com/infinyon/fluvio/TopicProducerConfig" {
        fn batch_size = batchSize() -> jint;
        fn linger = linger() -> Obj<'local, Duration>;
        fn compression = compression() -> Obj<'local, Compression>;
        fn max_request_size = maxRequestSize() -> jint;
        fn batch_queue_size = batchQueueSize() -> jint;
        fn max_block = maxBlock() -> Obj<'local, Duration>;
        fn timeout = timeout() -> Obj<'local, Duration>;
        fn delivery_semantic = deliverySemantic() -> Obj<'local, DeliverySemantic>;
        fn isolation = isolation() -> Obj<'local, Isolation>;
        fn idempotent = idempotent() -> jboolean;
        const DEFAULT_BATCH_SIZE = int(fluvio_engine::producer::DEFAULT_BATCH_SIZE as i32);
        const DEFAULT_LINGER = duration(fluvio_engine::producer::DEFAULT_LINGER);
        const DEFAULT_MAX_REQUEST_SIZE = int(fluvio_engine::producer::DEFAULT_MAX_REQUEST_SIZE as i32);
        const DEFAULT_BATCH_QUEUE_SIZE = int(fluvio_engine::producer::DEFAULT_BATCH_QUEUE_SIZE as i32);
        const DEFAULT_MAX_BLOCK = duration(fluvio_engine::producer::DEFAULT_MAX_BLOCK);
        const DEFAULT_TIMEOUT = duration(fluvio_engine::producer::DEFAULT_TIMEOUT);
    }

    /// `com.infinyon.fluvio.DeliverySemantic`.
    class DeliverySemantic = "com/infinyon/fluvio/DeliverySemantic" {
        fn is_at_least_once = isAtLeastOnce() -> jboolean;
        fn max_retries = maxRetries() -> jint;
        fn retry_timeout = retryTimeout() -> Obj<'local, Duration>;
        const DEFAULT_MAX_RETRIES = int(fluvio_engine::producer::RetryPolicy::default().max_retries as i32);
        const DEFAULT_RETRY_TIMEOUT = duration(fluvio_engine::producer::RetryPolicy::default().timeout);
    }

    /// `com.infinyon.fluvio.ProduceOutput`.
    class ProduceOutput = "com/infinyon/fluvio/ProduceOutput" {
        set batch = batch: Obj<'local, BatchFuture>;
    }

    /// `com.infinyon.fluvio.RecordMetadata`: the offset of a record stored at an unknown offset
    /// crosses as the batch's base offset (`BatchFuture.complete`).
    class RecordMetadata = "com/infinyon/fluvio/RecordMetadata" {
        const UNKNOWN_OFFSET = long(fluvio_engine::RecordMetadata::UNKNOWN_OFFSET);
    }

    /// `com.infinyon.fluvio.BatchFuture`: the outcome of one batch of sent records.
    class BatchFuture = "com/infinyon/fluvio/BatchFuture" {
        new new(token: jlong);
        const NO_TOKEN = long(super::batches::NO_TOKEN);
        fn complete = complete(partition: jint, base_offset: jlong) -> ();
        fn fail = fail(code: &JString<'_>, message: &JString<'_>, retriable: jboolean, tls_failure: &JString<'_>) -> ();
    }

    /// `com.infinyon.fluvio.ConsumerStream`.
    class ConsumerStream = "com/infinyon/fluvio/ConsumerStream" {}

    /// `com.infinyon.fluvio.PartitionConsumer`.
    class PartitionConsumer = "com/infinyon/fluvio/PartitionConsumer" {}

    /// `com.infinyon.fluvio.TopicConsumer`.
    class TopicConsumer = "com/infinyon/fluvio/TopicConsumer" {}

    /// `com.infinyon.fluvio.ConsumerConfig`.
    class ConsumerConfig = "com/infinyon/fluvio/ConsumerConfig" {
        fn isolation = isolation() -> Obj<'local, Isolation>;
        fn max_bytes = maxBytes() -> jint;
        fn resume_timeout = resumeTimeout() -> Obj<'local, Duration>;
        fn max_buffered_bytes = maxBufferedBytes() -> jlong;
        fn consumer_id = consumerId() -> JString<'local>;
        fn offset_strategy = offsetStrategy() -> Obj<'local, OffsetStrategy>;
        fn auto_commit_interval = autoCommitInterval() -> Obj<'local, Duration>;
        const DEFAULT_MAX_BYTES = int(fluvio_engine::consumer::DEFAULT_MAX_BYTES);
        const DEFAULT_AUTO_COMMIT_INTERVAL = duration(fluvio_engine::consumer::DEFAULT_AUTO_COMMIT_INTERVAL);
        const MAX_CONSUMER_ID_BYTES = int(fluvio_engine::consumer::MAX_CONSUMER_ID_BYTES as i32);
        const MAX_FETCH_BYTES = int(fluvio_engine::consumer::MAX_FETCH_BYTES);
        const DEFAULT_RESUME_TIMEOUT = duration(fluvio_engine::consumer::DEFAULT_RESUME_TIMEOUT);
        const DEFAULT_MAX_BUFFERED_BYTES = long(fluvio_engine::consumer::DEFAULT_MAX_BUFFERED_BYTES as i64);
    }

    /// `com.infinyon.fluvio.Offset`.
    class Offset = "com/infinyon/fluvio/Offset" {
        fn kind = kind() -> Obj<'local, OffsetKind>;
        fn value = value() -> jlong;
    }

    /// `com.infinyon.fluvio.FluvioAdmin`.
    class FluvioAdmin = "com/infinyon/fluvio/FluvioAdmin" {}

    /// `com.infinyon.fluvio.TopicConfig`.
    class TopicConfig = "com/infinyon/fluvio/TopicConfig" {
        fn partitions = partitions() -> jint;
        fn replication_factor = replicationFactor() -> jint;
        fn retention = retention() -> Obj<'local, Duration>;
        fn segment_size = segmentSize() -> jlong;
        fn max_partition_size = maxPartitionSize() -> jlong;
        fn compression = compression() -> Obj<'local, Compression>;
    }

    /// `com.infinyon.fluvio.FluvioProfiles`.
    class FluvioProfiles = "com/infinyon/fluvio/FluvioProfiles" {}

    /// `com.infinyon.fluvio.FluvioProfile`.
    class FluvioProfile = "com/infinyon/fluvio/FluvioProfile" {
        fn name = name() -> JString<'local>;
        fn cluster = cluster() -> JString<'local>;
        fn endpoint = endpoint() -> JString<'local>;
        fn tls = tls() -> Obj<'local, TlsConfig>;
    }

    /// `com.infinyon.fluvio.LocalCluster`.
    class LocalCluster = "com/infinyon/fluvio/LocalCluster" {
        const DEFAULT_SPU_TIMEOUT = duration(fluvio_local::DEFAULT_SPU_TIMEOUT);
        const DEFAULT_REPLICA_LAG_TIME = duration(fluvio_local::DEFAULT_REPLICA_LAG_TIME);
        const DEFAULT_IDLE_TIMEOUT = duration(fluvio_local::DEFAULT_IDLE_TIMEOUT);
        const DEFAULT_READ_TIMEOUT = duration(fluvio_local::DEFAULT_READ_TIMEOUT);
        const DEFAULT_MAX_BUFFERED_BYTES = long(fluvio_local::DEFAULT_MAX_BUFFERED_BYTES as i64);
        const MAX_REQUEST_BYTES = long(fluvio_local::DEFAULT_MAX_FRAME_SIZE as i64);
    }

    /// `com.infinyon.fluvio.LocalCluster.Definition`: the cluster to start.
    class LocalClusterDefinition = "com/infinyon/fluvio/LocalCluster$Definition" {
        fn spus = spus() -> jint;
        fn base_dir = baseDir() -> Obj<'local, Path>;
        fn min_live_replicas = minLiveReplicas() -> jint;
        fn replication_policy = replicationPolicy() -> Obj<'local, ReplicationPolicy>;
        fn spu_timeout = spuTimeout() -> Obj<'local, Duration>;
        fn replica_lag_time = replicaLagTime() -> Obj<'local, Duration>;
        fn idle_timeout = idleTimeout() -> Obj<'local, Duration>;
        fn read_timeout = readTimeout() -> Obj<'local, Duration>;
        fn max_buffered_bytes = maxBufferedBytes() -> jlong;
        fn tls = tls() -> Obj<'local, LocalClusterTls>;
    }

    /// `com.infinyon.fluvio.LocalClusterTls`.
    class LocalClusterTls = "com/infinyon/fluvio/LocalClusterTls" {
        fn server_cert = serverCert() -> Obj<'local, Pem>;
        fn server_key = serverKey() -> Obj<'local, Pem>;
        fn client_ca = clientCa() -> Obj<'local, Pem>;
        fn domain = domain() -> JString<'local>;
        fn require_client_cert = requireClientCert() -> jboolean;
    }

    /// `com.infinyon.fluvio.FluvioException`: thrown with the names of its code and details.
    class FluvioException = "com/infinyon/fluvio/FluvioException" {
        new new(
            code: &JString<'_>,
            message: &JString<'_>,
            retriable: jboolean,
            tls_failure: &JString<'_>,
            cluster_failure: &JString<'_>,
        );
    }
}

/// The policies of `TlsConfig.Policy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PolicyKind {
    Disabled,
    AnonymousInsecure,
    Verified,
}

/// Where an `Offset` counts from (`Offset.Kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OffsetFrom {
    Beginning,
    End,
    Absolute,
    FromBeginning,
    FromEnd,
}

/// The settings whose rules Java builders ask for (`Settings.Setting`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SettingName {
    Endpoint,
    ClientId,
    ConnectTimeout,
    RequestTimeout,
    TlsHandshakeTimeout,
    BatchSize,
    MaxRequestSize,
    BatchQueueSize,
    ProducerTimeout,
    RetryTimeout,
    MaxBytes,
    ResumeTimeout,
    ConsumerId,
    AutoCommitInterval,
    Partitions,
    ReplicationFactor,
    Retention,
    SegmentSize,
    MaxPartitionSize,
    Spus,
    MinLiveReplicas,
    SpuTimeout,
    ReplicaLagTime,
    IdleTimeout,
    ReadTimeout,
    MaxBufferedBytes,
    StreamMaxBufferedBytes,
}

/// The packed results whose layout tests pin with samples (`NativeLibrary.Layout`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PackedLayout {
    Records,
    Topics,
    Partitions,
    Spus,
    Profile,
    Metrics,
    Consumers,
}

java_enums! {
    /// `com.infinyon.fluvio.Compression`.
    enum Compression = "com/infinyon/fluvio/Compression" for fluvio_engine::Compression {
        NONE => fluvio_engine::Compression::None,
        GZIP => fluvio_engine::Compression::Gzip,
        SNAPPY => fluvio_engine::Compression::Snappy,
        LZ4 => fluvio_engine::Compression::Lz4,
        ZSTD => fluvio_engine::Compression::Zstd,
    }

    /// `com.infinyon.fluvio.Isolation`.
    enum Isolation = "com/infinyon/fluvio/Isolation" for fluvio_engine::Isolation {
        READ_COMMITTED => fluvio_engine::Isolation::ReadCommitted,
        READ_UNCOMMITTED => fluvio_engine::Isolation::ReadUncommitted,
    }

    /// `com.infinyon.fluvio.TlsConfig.Policy`.
    enum TlsPolicy = "com/infinyon/fluvio/TlsConfig$Policy" for PolicyKind {
        DISABLED => PolicyKind::Disabled,
        ANONYMOUS_INSECURE => PolicyKind::AnonymousInsecure,
        VERIFIED => PolicyKind::Verified,
    }

    /// `com.infinyon.fluvio.Offset.Kind`.
    enum OffsetKind = "com/infinyon/fluvio/Offset$Kind" for OffsetFrom {
        BEGINNING => OffsetFrom::Beginning,
        END => OffsetFrom::End,
        ABSOLUTE => OffsetFrom::Absolute,
        FROM_BEGINNING => OffsetFrom::FromBeginning,
        FROM_END => OffsetFrom::FromEnd,
    }

    /// `com.infinyon.fluvio.ReplicationPolicy`: the rules of an embedded cluster.
    enum ReplicationPolicy = "com/infinyon/fluvio/ReplicationPolicy" for fluvio_local::ReplicationPolicy {
        FLUVIO => fluvio_local::ReplicationPolicy::Fluvio,
        IN_SYNC => fluvio_local::ReplicationPolicy::InSync,
    }

    /// `com.infinyon.fluvio.OffsetStrategy`.
    enum OffsetStrategy = "com/infinyon/fluvio/OffsetStrategy" for fluvio_engine::OffsetStrategy {
        NONE => fluvio_engine::OffsetStrategy::None,
        MANUAL => fluvio_engine::OffsetStrategy::Manual,
        AUTO => fluvio_engine::OffsetStrategy::Auto,
    }

    /// `com.infinyon.fluvio.TopicMetadata.Resolution`.
    enum TopicResolutionNames = "com/infinyon/fluvio/TopicMetadata$Resolution" for TopicResolution {
        INIT => TopicResolution::Init,
        PENDING => TopicResolution::Pending,
        INSUFFICIENT_RESOURCES => TopicResolution::InsufficientResources,
        INVALID_CONFIG => TopicResolution::InvalidConfig,
        PROVISIONED => TopicResolution::Provisioned,
        DELETING => TopicResolution::Deleting,
    }

    /// `com.infinyon.fluvio.PartitionMetadata.Resolution`.
    enum PartitionResolutionNames = "com/infinyon/fluvio/PartitionMetadata$Resolution" for PartitionResolution {
        OFFLINE => PartitionResolution::Offline,
        ONLINE => PartitionResolution::Online,
        LEADER_OFFLINE => PartitionResolution::LeaderOffline,
        ELECTION_LEADER_FOUND => PartitionResolution::ElectionLeaderFound,
        OUT_OF_STORAGE => PartitionResolution::OutOfStorage,
    }

    /// `com.infinyon.fluvio.SpuMetadata.Resolution`.
    enum SpuResolutionNames = "com/infinyon/fluvio/SpuMetadata$Resolution" for SpuStatusResolution {
        ONLINE => SpuStatusResolution::Online,
        OFFLINE => SpuStatusResolution::Offline,
        INIT => SpuStatusResolution::Init,
    }

    /// `com.infinyon.fluvio.Settings.Setting`.
    enum Setting = "com/infinyon/fluvio/Settings$Setting" for SettingName {
        ENDPOINT => SettingName::Endpoint,
        CLIENT_ID => SettingName::ClientId,
        CONNECT_TIMEOUT => SettingName::ConnectTimeout,
        REQUEST_TIMEOUT => SettingName::RequestTimeout,
        TLS_HANDSHAKE_TIMEOUT => SettingName::TlsHandshakeTimeout,
        BATCH_SIZE => SettingName::BatchSize,
        MAX_REQUEST_SIZE => SettingName::MaxRequestSize,
        BATCH_QUEUE_SIZE => SettingName::BatchQueueSize,
        PRODUCER_TIMEOUT => SettingName::ProducerTimeout,
        RETRY_TIMEOUT => SettingName::RetryTimeout,
        MAX_BYTES => SettingName::MaxBytes,
        RESUME_TIMEOUT => SettingName::ResumeTimeout,
        CONSUMER_ID => SettingName::ConsumerId,
        AUTO_COMMIT_INTERVAL => SettingName::AutoCommitInterval,
        PARTITIONS => SettingName::Partitions,
        REPLICATION_FACTOR => SettingName::ReplicationFactor,
        RETENTION => SettingName::Retention,
        SEGMENT_SIZE => SettingName::SegmentSize,
        MAX_PARTITION_SIZE => SettingName::MaxPartitionSize,
        SPUS => SettingName::Spus,
        MIN_LIVE_REPLICAS => SettingName::MinLiveReplicas,
        SPU_TIMEOUT => SettingName::SpuTimeout,
        REPLICA_LAG_TIME => SettingName::ReplicaLagTime,
        IDLE_TIMEOUT => SettingName::IdleTimeout,
        READ_TIMEOUT => SettingName::ReadTimeout,
        MAX_BUFFERED_BYTES => SettingName::MaxBufferedBytes,
        STREAM_MAX_BUFFERED_BYTES => SettingName::StreamMaxBufferedBytes,
    }

    /// `com.infinyon.fluvio.NativeLibrary.Layout`.
    enum Layout = "com/infinyon/fluvio/NativeLibrary$Layout" for PackedLayout {
        RECORDS => PackedLayout::Records,
        TOPICS => PackedLayout::Topics,
        PARTITIONS => PackedLayout::Partitions,
        SPUS => PackedLayout::Spus,
        PROFILE => PackedLayout::Profile,
        METRICS => PackedLayout::Metrics,
        CONSUMERS => PackedLayout::Consumers,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::JavaEnum;

    #[test]
    fn every_enum_constant_maps_to_a_rust_value_of_its_own() {
        assert_eq!(enum_round_trips(), Vec::<String>::new());
    }

    /// `LocalCluster.Definition.replicationPolicy()` crosses by name; the defaults agree
    /// (`LocalClusterTest` checks Java's).
    #[test]
    fn replication_policies_cross_by_name() {
        assert_eq!(ReplicationPolicy::NAMES, ["FLUVIO", "IN_SYNC"]);
        assert_eq!(ReplicationPolicy::to_rust("IN_SYNC"), Some(fluvio_local::ReplicationPolicy::InSync));
        assert_eq!(ReplicationPolicy::name(fluvio_local::ReplicationPolicy::default()), "FLUVIO");
    }
}
