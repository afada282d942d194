//! Natives of `com.infinyon.fluvio.PartitionConsumer`: opening a stream and fetching once.
//! A partition consumer has no native object of its own; it names a topic and partition of a
//! `Fluvio` client.

use fluvio_engine::ConsumerConfig;
use jni::JNIEnv;
use jni::objects::{JByteArray, JString};
use jni::sys::{jint, jlong};

use crate::consumer_stream::StreamHandle;
use crate::contract::{Obj, java, natives};
use crate::convert::{duration, offset as read_offset, optional_string, pack_records, required, required_enum, string};
use crate::error::{JniError, Result};
use crate::fluvio::FluvioHandle;
use crate::handle::{borrow, into_handle};
use crate::runtime::block_on;

/// The consumer settings a `ConsumerConfig` describes (the engine checks them).
pub(crate) fn consumer_config(env: &mut JNIEnv, config: &Obj<java::ConsumerConfig>) -> Result<ConsumerConfig> {
    crate::convert::in_frame(env, |env| read_consumer_config(env, config))
}

fn read_consumer_config(env: &mut JNIEnv, config: &Obj<java::ConsumerConfig>) -> Result<ConsumerConfig> {
    required(config, "config")?;
    let isolation = java::ConsumerConfig::isolation(env, config)?;
    let resume_timeout = java::ConsumerConfig::resume_timeout(env, config)?;
    let consumer_id = java::ConsumerConfig::consumer_id(env, config)?;
    let offset_strategy = java::ConsumerConfig::offset_strategy(env, config)?;
    let auto_commit_interval = java::ConsumerConfig::auto_commit_interval(env, config)?;
    Ok(ConsumerConfig {
        isolation: required_enum::<java::Isolation>(env, &isolation, "isolation")?,
        max_bytes: java::ConsumerConfig::max_bytes(env, config)?,
        resume_timeout: duration(env, &resume_timeout, "resumeTimeout")?,
        consumer_id: optional_string(env, &consumer_id)?,
        offset_strategy: required_enum::<java::OffsetStrategy>(env, &offset_strategy, "offsetStrategy")?,
        auto_commit_interval: duration(env, &auto_commit_interval, "autoCommitInterval")?,
    })
}

fn partition_index(partition: jint) -> Result<u32> {
    u32::try_from(partition).map_err(|_| JniError::IllegalArgument(format!("partition {partition} is negative")))
}

/// The consumer of `topic`-`partition` of client `fluvio`.
fn consumer(
    env: &mut JNIEnv,
    fluvio: jlong,
    topic: &JString,
    partition: jint,
) -> Result<fluvio_engine::PartitionConsumer> {
    // SAFETY: Java keeps the owning Fluvio open for the call.
    let fluvio = unsafe { borrow::<FluvioHandle>(fluvio)? };
    let topic = string(env, topic, "topic")?;
    Ok(fluvio.client.partition_consumer(&topic, partition_index(partition)?))
}

fn stream(
    env: &mut JNIEnv,
    fluvio: jlong,
    topic: &JString,
    partition: jint,
    offset: &Obj<java::Offset>,
    config: &Obj<java::ConsumerConfig>,
) -> Result<jlong> {
    let consumer = consumer(env, fluvio, topic, partition)?;
    let (start, config) = (read_offset(env, offset)?, consumer_config(env, config)?);
    let stream = block_on(consumer.stream_with_config(start, config))??;
    Ok(into_handle(StreamHandle::new(stream)))
}

fn fetch<'local>(
    env: &mut JNIEnv<'local>,
    fluvio: jlong,
    topic: &JString,
    partition: jint,
    offset: &Obj<java::Offset>,
    config: &Obj<java::ConsumerConfig>,
) -> Result<JByteArray<'local>> {
    let consumer = consumer(env, fluvio, topic, partition)?;
    let (start, config) = (read_offset(env, offset)?, consumer_config(env, config)?);
    let records = block_on(consumer.fetch(start, config))??;
    pack_records(&records).into_java(env)
}

natives! {
    class = java::PartitionConsumer;

    fn nativeStream(
        env,
        fluvio: jlong,
        topic: JString<'local>,
        partition: jint,
        offset: Obj<'local, java::Offset>,
        config: Obj<'local, java::ConsumerConfig>,
    ) -> jlong {
        stream(env, fluvio, &topic, partition, &offset, &config)
    }

    fn nativeFetch(
        env,
        fluvio: jlong,
        topic: JString<'local>,
        partition: jint,
        offset: Obj<'local, java::Offset>,
        config: Obj<'local, java::ConsumerConfig>,
    ) -> JByteArray<'local> {
        fetch(env, fluvio, &topic, partition, &offset, &config)
    }
}
