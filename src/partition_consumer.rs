//! Natives of `com.infinyon.fluvio.PartitionConsumer`: opening a stream and fetching once.
//! A partition consumer has no native object of its own; it names a topic and partition of a
//! `Fluvio` client.

use std::time::Duration;

use fluvio_engine::{ConsumerConfig, Isolation, Offset};
use jni::JNIEnv;
use jni::objects::{JClass, JString};
use jni::sys::{jbyteArray, jint, jlong};

use crate::consumer_stream::StreamHandle;
use crate::convert::{pack_records, string};
use crate::error::{JniError, Result, run};
use crate::fluvio::FluvioHandle;
use crate::handle::{borrow, into_handle};
use crate::runtime::block_on;

/// The offset Java describes as a kind and a value (see `Offset.java`).
pub(crate) fn offset(kind: jint, value: jlong) -> Result<Offset> {
    let count =
        || u64::try_from(value).map_err(|_| JniError::IllegalArgument(format!("offset count {value} is negative")));
    Ok(match kind {
        0 => Offset::beginning(),
        1 => Offset::end(),
        2 => Offset::absolute(value).map_err(|_| JniError::IllegalArgument(format!("offset {value} is negative")))?,
        3 => Offset::from_beginning(count()?),
        4 => Offset::from_end(count()?),
        other => return Err(JniError::IllegalArgument(format!("unknown offset kind {other}"))),
    })
}

/// Consumer settings from Java (isolation 0 read-committed, 1 read-uncommitted; the resume
/// timeout in milliseconds, at least 1).
pub(crate) fn config(isolation: jint, max_bytes: jint, resume_timeout_ms: jlong) -> Result<ConsumerConfig> {
    let isolation = match isolation {
        0 => Isolation::ReadCommitted,
        1 => Isolation::ReadUncommitted,
        other => return Err(JniError::IllegalArgument(format!("unknown isolation {other}"))),
    };
    if max_bytes <= 0 {
        return Err(JniError::IllegalArgument("maxBytes must be positive".into()));
    }
    if resume_timeout_ms <= 0 {
        return Err(JniError::IllegalArgument("resumeTimeout must be at least 1 ms".into()));
    }
    let resume_timeout = Duration::from_millis(resume_timeout_ms as u64);
    Ok(ConsumerConfig { isolation, max_bytes, resume_timeout })
}

fn partition_index(partition: jint) -> Result<u32> {
    u32::try_from(partition).map_err(|_| JniError::IllegalArgument(format!("partition {partition} is negative")))
}

#[allow(clippy::too_many_arguments)]
fn stream(
    env: &mut JNIEnv,
    fluvio: jlong,
    topic: &JString,
    partition: jint,
    offset_kind: jint,
    offset_value: jlong,
    isolation: jint,
    max_bytes: jint,
    resume_timeout_ms: jlong,
) -> Result<jlong> {
    // SAFETY: Java keeps the owning Fluvio open for the call.
    let fluvio = unsafe { borrow::<FluvioHandle>(fluvio)? };
    let topic = string(env, topic, "topic")?;
    let consumer = fluvio.client.partition_consumer(&topic, partition_index(partition)?);
    let settings = config(isolation, max_bytes, resume_timeout_ms)?;
    let stream = block_on(consumer.stream_with_config(offset(offset_kind, offset_value)?, settings))??;
    Ok(into_handle(StreamHandle::new(stream)))
}

#[allow(clippy::too_many_arguments)]
fn fetch(
    env: &mut JNIEnv,
    fluvio: jlong,
    topic: &JString,
    partition: jint,
    offset_kind: jint,
    offset_value: jlong,
    isolation: jint,
    max_bytes: jint,
    resume_timeout_ms: jlong,
) -> Result<jbyteArray> {
    // SAFETY: Java keeps the owning Fluvio open for the call.
    let fluvio = unsafe { borrow::<FluvioHandle>(fluvio)? };
    let topic = string(env, topic, "topic")?;
    let consumer = fluvio.client.partition_consumer(&topic, partition_index(partition)?);
    let settings = config(isolation, max_bytes, resume_timeout_ms)?;
    let records = block_on(consumer.fetch(offset(offset_kind, offset_value)?, settings))??;
    pack_records(&records).into_java(env)
}

/// `long nativeStream(long fluvio, String topic, int partition, int offsetKind, long offsetValue, int isolation, int maxBytes, long resumeTimeoutMs)`
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub extern "system" fn Java_com_infinyon_fluvio_PartitionConsumer_nativeStream<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    fluvio: jlong,
    topic: JString<'local>,
    partition: jint,
    offset_kind: jint,
    offset_value: jlong,
    isolation: jint,
    max_bytes: jint,
    resume_timeout_ms: jlong,
) -> jlong {
    run(&mut env, 0, |env| {
        stream(env, fluvio, &topic, partition, offset_kind, offset_value, isolation, max_bytes, resume_timeout_ms)
    })
}

/// `byte[] nativeFetch(long fluvio, String topic, int partition, int offsetKind, long offsetValue, int isolation, int maxBytes, long resumeTimeoutMs)`
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub extern "system" fn Java_com_infinyon_fluvio_PartitionConsumer_nativeFetch<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    fluvio: jlong,
    topic: JString<'local>,
    partition: jint,
    offset_kind: jint,
    offset_value: jlong,
    isolation: jint,
    max_bytes: jint,
    resume_timeout_ms: jlong,
) -> jbyteArray {
    run(&mut env, std::ptr::null_mut(), |env| {
        fetch(env, fluvio, &topic, partition, offset_kind, offset_value, isolation, max_bytes, resume_timeout_ms)
    })
}
