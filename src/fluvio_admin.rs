//! Natives of `com.infinyon.fluvio.FluvioAdmin`. They take the handle of the `Fluvio` the
//! admin belongs to; admin objects are returned packed (see `convert.rs`) with their JSON and
//! YAML renderings, each layout pinned by a sample (`sample_*`).

use fluvio_engine::admin::{
    CleanupPolicy, CompressionAlgorithm, ConsumerOffsetMetadata, IngressAddr, Metadata, PartitionMetadata,
    PartitionResolution, PartitionSpec, PartitionStatus, ReplicaSpec, ReplicaStatus, SegmentBasedPolicy, SpuMetadata,
    SpuSpec, SpuStatus, SpuStatusResolution, TopicCompression, TopicMetadata, TopicResolution, TopicSpec, TopicStatus,
    TopicStorageConfig, to_json, to_yaml,
};
use fluvio_engine::{Compression, TopicConfig};
use jni::JNIEnv;
use jni::objects::{JByteArray, JString};
use jni::sys::{jint, jlong};

use crate::contract::{JavaEnum, Obj, java, natives};
use crate::convert::{Packer, duration, enum_value, optional_string, required, string};
use crate::error::{JniError, Result};
use crate::fluvio::FluvioHandle;
use crate::handle::borrow;
use crate::runtime::block_on;

fn client(handle: jlong) -> Result<&'static FluvioHandle> {
    // SAFETY: Java keeps the owning Fluvio open for the call.
    unsafe { borrow::<FluvioHandle>(handle) }
}

/// The topic a `TopicConfig` describes (the engine checks it).
fn topic_config(env: &mut JNIEnv, config: &Obj<java::TopicConfig>) -> Result<TopicConfig> {
    crate::convert::in_frame(env, |env| read_topic_config(env, config))
}

fn read_topic_config(env: &mut JNIEnv, config: &Obj<java::TopicConfig>) -> Result<TopicConfig> {
    required(config, "config")?;
    let unsigned = |value: jint, what: &str| {
        u32::try_from(value).map_err(|_| JniError::IllegalArgument(format!("{what} must not be negative")))
    };
    let mut topic = TopicConfig::new(
        unsigned(java::TopicConfig::partitions(env, config)?, "partitions")?,
        unsigned(java::TopicConfig::replication_factor(env, config)?, "replicationFactor")?,
    );
    let retention = java::TopicConfig::retention(env, config)?;
    if let Some(retention) = retention.non_null() {
        topic.retention = Some(duration(env, &retention, "retention")?);
    }
    // -1: the cluster's default.
    let segment_size = java::TopicConfig::segment_size(env, config)?;
    if segment_size >= 0 {
        topic.segment_size =
            Some(u32::try_from(segment_size).map_err(|_| JniError::IllegalArgument("segment size too large".into()))?);
    }
    let max_partition_size = java::TopicConfig::max_partition_size(env, config)?;
    topic.max_partition_size = u64::try_from(max_partition_size).ok();
    let compression = java::TopicConfig::compression(env, config)?;
    topic.compression = enum_value::<java::Compression>(env, &compression)?.map(topic_compression);
    Ok(topic)
}

fn topic_compression(codec: Compression) -> TopicCompression {
    match codec {
        Compression::None => TopicCompression::None,
        Compression::Gzip => TopicCompression::Gzip,
        Compression::Snappy => TopicCompression::Snappy,
        Compression::Lz4 => TopicCompression::Lz4,
        Compression::Zstd => TopicCompression::Zstd,
    }
}

fn create_topic(env: &mut JNIEnv, handle: jlong, name: &JString, config: &Obj<java::TopicConfig>) -> Result<()> {
    let fluvio = client(handle)?;
    let name = string(env, name, "topic name")?;
    let config = topic_config(env, config)?;
    block_on(fluvio.client.admin().create_topic(&name, &config))??;
    Ok(())
}

fn delete_topic(env: &mut JNIEnv, handle: jlong, name: &JString) -> Result<()> {
    let fluvio = client(handle)?;
    let name = string(env, name, "topic name")?;
    block_on(fluvio.client.admin().delete_topic(&name))??;
    Ok(())
}

fn add_partitions(env: &mut JNIEnv, handle: jlong, name: &JString, count: jint) -> Result<()> {
    let fluvio = client(handle)?;
    let name = string(env, name, "topic name")?;
    // The engine refuses zero; Java refuses anything under one first.
    let count = u32::try_from(count)
        .map_err(|_| JniError::IllegalArgument(format!("partitions to add must not be negative, got {count}")))?;
    block_on(fluvio.client.admin().add_partitions(&name, count))??;
    Ok(())
}

fn renderings(packer: &mut Packer, value: &impl serde::Serialize) -> Result<()> {
    packer.str(&to_json(value)?).str(&to_yaml(value)?);
    Ok(())
}

/// The codec a topic requires, as a `Compression` name; none when producers choose.
fn required_codec(spec: &TopicSpec) -> Option<&'static str> {
    let codec = match spec.compression_type {
        CompressionAlgorithm::Any => return None,
        CompressionAlgorithm::None => Compression::None,
        CompressionAlgorithm::Gzip => Compression::Gzip,
        CompressionAlgorithm::Snappy => Compression::Snappy,
        CompressionAlgorithm::Lz4 => Compression::Lz4,
        CompressionAlgorithm::Zstd => Compression::Zstd,
    };
    Some(java::Compression::name(codec))
}

/// Packs topics (layout `TOPICS`).
fn pack_topics(topics: &[TopicMetadata]) -> Result<Packer> {
    let mut packer = Packer::default();
    packer.i32(topics.len() as i32);
    for topic in topics {
        let spec = &topic.spec;
        let storage = spec.storage.unwrap_or_default();
        packer
            .str(&topic.name)
            .i32(spec.replicas.partition_count() as i32)
            .i32(spec.replicas.replication_factor().map_or(-1, |r| r as i32))
            .i64(spec.cleanup_policy.map_or(-1, |p| i64::from(p.retention_secs())))
            .i64(storage.segment_size.map_or(-1, i64::from))
            .i64(storage.max_partition_size.map_or(-1, |m| m as i64))
            .opt_str(required_codec(spec))
            .bool(spec.system)
            .bool(matches!(spec.replicas, ReplicaSpec::Computed(_)))
            .constant::<java::TopicResolutionNames>(topic.status.resolution)
            .str(&topic.status.reason);
        renderings(&mut packer, topic)?;
    }
    Ok(packer)
}

/// Packs partitions (layout `PARTITIONS`).
fn pack_partitions(partitions: &[PartitionMetadata]) -> Result<Packer> {
    let mut packer = Packer::default();
    packer.i32(partitions.len() as i32);
    for partition in partitions {
        let (topic, index) = fluvio_engine::admin::split_partition_name(&partition.name)
            .map_or((partition.name.as_str(), -1), |(t, i)| (t, i as i32));
        packer.str(&partition.name).str(topic).i32(index).i32(partition.spec.leader);
        packer.i32(partition.spec.replicas.len() as i32);
        for replica in &partition.spec.replicas {
            packer.i32(*replica);
        }
        let status = &partition.status;
        packer
            .constant::<java::PartitionResolutionNames>(status.resolution)
            .i64(status.leader.hw)
            .i64(status.leader.leo)
            .i64(status.size)
            .i32(status.lsr as i32)
            .i64(status.base_offset)
            .i32(status.leader.spu)
            .i32(status.replicas.len() as i32);
        for follower in &status.replicas {
            packer.i32(follower.spu).i64(follower.hw).i64(follower.leo);
        }
        renderings(&mut packer, partition)?;
    }
    Ok(packer)
}

/// Packs SPUs (layout `SPUS`).
fn pack_spus(spus: &[SpuMetadata]) -> Result<Packer> {
    let mut packer = Packer::default();
    packer.i32(spus.len() as i32);
    for spu in spus {
        let endpoint = &spu.spec.public_endpoint;
        let host = endpoint.ingress.first().and_then(|a| a.hostname.clone().or_else(|| a.ip.clone()));
        packer
            .str(&spu.name)
            .i32(spu.spec.id)
            .opt_str(host.as_deref())
            .i32(i32::from(endpoint.port))
            .opt_str(spu.spec.rack.as_deref())
            .constant::<java::SpuResolutionNames>(spu.status.resolution);
        renderings(&mut packer, spu)?;
    }
    Ok(packer)
}

/// The sample of layout `TOPICS` that `ContractTest` decodes: every field a distinct value.
pub(crate) fn sample_topics() -> Result<Packer> {
    let mut spec = TopicSpec::computed(2, 3);
    spec.cleanup_policy = Some(CleanupPolicy::Segment(SegmentBasedPolicy { time_in_seconds: 4 }));
    spec.storage = Some(TopicStorageConfig { segment_size: Some(5), max_partition_size: Some(6) });
    spec.compression_type = TopicCompression::Gzip.into();
    spec.system = true;
    let status =
        TopicStatus { resolution: TopicResolution::InsufficientResources, reason: "why".into(), ..Default::default() };
    pack_topics(&[Metadata { name: "sample".into(), spec, status }])
}

/// The sample of layout `PARTITIONS` that `ContractTest` decodes.
pub(crate) fn sample_partitions() -> Result<Packer> {
    let spec = PartitionSpec { leader: 5001, replicas: vec![5001, 5002], ..Default::default() };
    let mut status = PartitionStatus {
        resolution: PartitionResolution::ElectionLeaderFound,
        size: 7,
        lsr: 2,
        base_offset: 3,
        ..Default::default()
    };
    status.leader = ReplicaStatus { spu: 5001, hw: 10, leo: 11 };
    status.replicas = vec![ReplicaStatus { spu: 5002, hw: 8, leo: 9 }];
    pack_partitions(&[Metadata { name: "sample-1".into(), spec, status }])
}

/// The sample of layout `SPUS` that `ContractTest` decodes.
pub(crate) fn sample_spus() -> Result<Packer> {
    let mut spec = SpuSpec { id: 5003, rack: Some("rack-a".into()), ..Default::default() };
    spec.public_endpoint.port = 9010;
    spec.public_endpoint.ingress = vec![IngressAddr { hostname: Some("spu.test".into()), ip: None }];
    let status = SpuStatus { resolution: SpuStatusResolution::Offline };
    pack_spus(&[Metadata { name: "custom-spu-5003".into(), spec, status }])
}

/// Packs named consumers' stored offsets (layout `CONSUMERS`).
fn pack_consumers(consumers: &[ConsumerOffsetMetadata]) -> Result<Packer> {
    let mut packer = Packer::default();
    packer.i32(consumers.len() as i32);
    for consumer in consumers {
        packer
            .str(&consumer.consumer_id)
            .str(&consumer.topic)
            .i32(consumer.partition as i32)
            .i64(consumer.offset)
            .i64(i64::try_from(consumer.modified_time).unwrap_or(i64::MAX));
        renderings(&mut packer, consumer)?;
    }
    Ok(packer)
}

/// The sample of layout `CONSUMERS` that `ContractTest` decodes.
pub(crate) fn sample_consumers() -> Result<Packer> {
    pack_consumers(&[ConsumerOffsetMetadata {
        consumer_id: "sample-consumer".into(),
        topic: "sample".into(),
        partition: 3,
        offset: 41,
        modified_time: 1_700_000_005,
    }])
}

fn list_consumers<'local>(env: &mut JNIEnv<'local>, handle: jlong) -> Result<JByteArray<'local>> {
    let consumers = block_on(client(handle)?.client.admin().list_consumers())??;
    pack_consumers(&consumers)?.into_java(env)
}

fn delete_consumer<'local>(
    env: &mut JNIEnv<'local>,
    handle: jlong,
    consumer_id: &JString,
    topic: &JString,
    partition: jint,
) -> Result<JByteArray<'local>> {
    let consumer_id = string(env, consumer_id, "consumerId")?;
    let topic = optional_string(env, topic)?;
    // -1: every partition.
    let partition = u32::try_from(partition).ok();
    let admin = client(handle)?.client.admin();
    let deleted = block_on(admin.delete_consumer(&consumer_id, topic.as_deref(), partition))??;
    pack_consumers(&deleted)?.into_java(env)
}

fn list_topics<'local>(env: &mut JNIEnv<'local>, handle: jlong) -> Result<JByteArray<'local>> {
    let topics = block_on(client(handle)?.client.admin().list_topics())??;
    pack_topics(&topics)?.into_java(env)
}

fn list_partitions<'local>(env: &mut JNIEnv<'local>, handle: jlong, topic: &JString) -> Result<JByteArray<'local>> {
    let topic = optional_string(env, topic)?;
    let partitions = block_on(client(handle)?.client.admin().list_partitions(topic.as_deref()))??;
    pack_partitions(&partitions)?.into_java(env)
}

fn list_spus<'local>(env: &mut JNIEnv<'local>, handle: jlong) -> Result<JByteArray<'local>> {
    let spus = block_on(client(handle)?.client.admin().list_spus())??;
    pack_spus(&spus)?.into_java(env)
}

natives! {
    class = java::FluvioAdmin;

    fn nativeCreateTopic(env, fluvio: jlong, name: JString<'local>, config: Obj<'local, java::TopicConfig>) {
        create_topic(env, fluvio, &name, &config)
    }

    fn nativeDeleteTopic(env, fluvio: jlong, name: JString<'local>) {
        delete_topic(env, fluvio, &name)
    }

    fn nativeAddPartitions(env, fluvio: jlong, name: JString<'local>, count: jint) {
        add_partitions(env, fluvio, &name, count)
    }

    fn nativeListTopics(env, fluvio: jlong) -> JByteArray<'local> {
        list_topics(env, fluvio)
    }

    /// Topic null: every topic.
    fn nativeListPartitions(env, fluvio: jlong, topic: JString<'local>) -> JByteArray<'local> {
        list_partitions(env, fluvio, &topic)
    }

    fn nativeListSpus(env, fluvio: jlong) -> JByteArray<'local> {
        list_spus(env, fluvio)
    }

    fn nativeListConsumers(env, fluvio: jlong) -> JByteArray<'local> {
        list_consumers(env, fluvio)
    }

    /// Topic null: every topic; partition -1: every partition.
    fn nativeDeleteConsumer(
        env,
        fluvio: jlong,
        consumer_id: JString<'local>,
        topic: JString<'local>,
        partition: jint,
    ) -> JByteArray<'local> {
        delete_consumer(env, fluvio, &consumer_id, &topic, partition)
    }
}
