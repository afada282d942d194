//! Natives of `com.infinyon.fluvio.FluvioAdmin`. They take the handle of the `Fluvio` the
//! admin belongs to; admin objects are returned packed (see `convert.rs`) with their JSON and
//! YAML renderings.

use std::time::Duration;

use fluvio_engine::TopicConfig;
use fluvio_engine::admin::{
    PartitionMetadata, ReplicaSpec, SpuMetadata, TopicCompression, TopicMetadata, to_json, to_yaml,
};
use jni::JNIEnv;
use jni::objects::{JClass, JString};
use jni::sys::{jbyteArray, jint, jlong};

use crate::convert::{Packer, optional_string, string};
use crate::error::{JniError, Result, run};
use crate::fluvio::FluvioHandle;
use crate::handle::borrow;
use crate::runtime::block_on;

fn client(handle: jlong) -> Result<&'static FluvioHandle> {
    // SAFETY: Java keeps the owning Fluvio open for the call.
    unsafe { borrow::<FluvioHandle>(handle) }
}

fn topic_compression(name: Option<String>) -> Result<Option<TopicCompression>> {
    Ok(match name.as_deref() {
        None | Some("ANY") => None,
        Some("NONE") => Some(TopicCompression::None),
        Some("GZIP") => Some(TopicCompression::Gzip),
        Some("SNAPPY") => Some(TopicCompression::Snappy),
        Some("LZ4") => Some(TopicCompression::Lz4),
        Some("ZSTD") => Some(TopicCompression::Zstd),
        Some(other) => return Err(JniError::IllegalArgument(format!("unknown compression {other}"))),
    })
}

#[allow(clippy::too_many_arguments)]
fn create_topic(
    env: &mut JNIEnv,
    handle: jlong,
    name: &JString,
    partitions: jint,
    replication: jint,
    retention_ms: jlong,
    segment_size: jlong,
    max_partition_size: jlong,
    compression: &JString,
) -> Result<()> {
    let fluvio = client(handle)?;
    let name = string(env, name, "topic name")?;
    if partitions <= 0 || replication <= 0 {
        return Err(JniError::IllegalArgument("partitions and replication factor must be positive".into()));
    }
    let mut config = TopicConfig::new(partitions as u32, replication as u32);
    config.retention = (retention_ms >= 0).then(|| Duration::from_millis(retention_ms as u64));
    config.segment_size = if segment_size >= 0 {
        Some(u32::try_from(segment_size).map_err(|_| JniError::IllegalArgument("segment size too large".into()))?)
    } else {
        None
    };
    config.max_partition_size = (max_partition_size >= 0).then_some(max_partition_size as u64);
    config.compression = topic_compression(optional_string(env, compression)?)?;
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
    let count = u32::try_from(count)
        .ok()
        .filter(|count| *count > 0)
        .ok_or_else(|| JniError::IllegalArgument(format!("partitions to add must be positive, got {count}")))?;
    block_on(fluvio.client.admin().add_partitions(&name, count))??;
    Ok(())
}

fn renderings(packer: &mut Packer, value: &impl serde::Serialize) -> Result<()> {
    packer.str(&to_json(value)?).str(&to_yaml(value)?);
    Ok(())
}

fn pack_topics(topics: &[TopicMetadata]) -> Result<Packer> {
    let mut packer = Packer::default();
    packer.i32(topics.len() as i32);
    for topic in topics {
        let spec = &topic.spec;
        let storage = spec.storage.unwrap_or_default();
        let compression = format!("{:?}", spec.compression_type).to_uppercase();
        packer
            .str(&topic.name)
            .i32(spec.replicas.partition_count() as i32)
            .i32(spec.replicas.replication_factor().map_or(-1, |r| r as i32))
            .i64(spec.cleanup_policy.map_or(-1, |p| i64::from(p.retention_secs())))
            .i64(storage.segment_size.map_or(-1, i64::from))
            .i64(storage.max_partition_size.map_or(-1, |m| m as i64))
            .str(&compression)
            .bool(spec.system)
            .bool(matches!(spec.replicas, ReplicaSpec::Computed(_)))
            .str(&format!("{:?}", topic.status.resolution))
            .str(&topic.status.reason);
        renderings(&mut packer, topic)?;
    }
    Ok(packer)
}

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
            .str(&format!("{:?}", status.resolution))
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
            .str(&format!("{:?}", spu.status.resolution));
        renderings(&mut packer, spu)?;
    }
    Ok(packer)
}

fn list_topics(env: &mut JNIEnv, handle: jlong) -> Result<jbyteArray> {
    let topics = block_on(client(handle)?.client.admin().list_topics())??;
    pack_topics(&topics)?.into_java(env)
}

fn list_partitions(env: &mut JNIEnv, handle: jlong, topic: &JString) -> Result<jbyteArray> {
    let topic = optional_string(env, topic)?;
    let partitions = block_on(client(handle)?.client.admin().list_partitions(topic.as_deref()))??;
    pack_partitions(&partitions)?.into_java(env)
}

fn list_spus(env: &mut JNIEnv, handle: jlong) -> Result<jbyteArray> {
    let spus = block_on(client(handle)?.client.admin().list_spus())??;
    pack_spus(&spus)?.into_java(env)
}

/// `void nativeCreateTopic(long fluvio, String name, int partitions, int replication, long retentionMs, long segmentSize, long maxPartitionSize, String compression)`
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub extern "system" fn Java_com_infinyon_fluvio_FluvioAdmin_nativeCreateTopic<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    name: JString<'local>,
    partitions: jint,
    replication: jint,
    retention_ms: jlong,
    segment_size: jlong,
    max_partition_size: jlong,
    compression: JString<'local>,
) {
    run(&mut env, (), |env| {
        create_topic(
            env,
            handle,
            &name,
            partitions,
            replication,
            retention_ms,
            segment_size,
            max_partition_size,
            &compression,
        )
    })
}

/// `void nativeDeleteTopic(long fluvio, String name)`
#[unsafe(no_mangle)]
pub extern "system" fn Java_com_infinyon_fluvio_FluvioAdmin_nativeDeleteTopic<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    name: JString<'local>,
) {
    run(&mut env, (), |env| delete_topic(env, handle, &name))
}

/// `void nativeAddPartitions(long fluvio, String name, int count)`
#[unsafe(no_mangle)]
pub extern "system" fn Java_com_infinyon_fluvio_FluvioAdmin_nativeAddPartitions<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    name: JString<'local>,
    count: jint,
) {
    run(&mut env, (), |env| add_partitions(env, handle, &name, count))
}

/// `byte[] nativeListTopics(long fluvio)`
#[unsafe(no_mangle)]
pub extern "system" fn Java_com_infinyon_fluvio_FluvioAdmin_nativeListTopics<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
) -> jbyteArray {
    run(&mut env, std::ptr::null_mut(), |env| list_topics(env, handle))
}

/// `byte[] nativeListPartitions(long fluvio, String topic)` (topic null: every topic)
#[unsafe(no_mangle)]
pub extern "system" fn Java_com_infinyon_fluvio_FluvioAdmin_nativeListPartitions<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    topic: JString<'local>,
) -> jbyteArray {
    run(&mut env, std::ptr::null_mut(), |env| list_partitions(env, handle, &topic))
}

/// `byte[] nativeListSpus(long fluvio)`
#[unsafe(no_mangle)]
pub extern "system" fn Java_com_infinyon_fluvio_FluvioAdmin_nativeListSpus<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
) -> jbyteArray {
    run(&mut env, std::ptr::null_mut(), |env| list_spus(env, handle))
}
