//! Natives of `com.infinyon.fluvio.TopicConsumer`: a stream over every partition of a topic.

use jni::JNIEnv;
use jni::objects::{JClass, JString};
use jni::sys::{jint, jlong};

use crate::consumer_stream::StreamHandle;
use crate::convert::string;
use crate::error::{Result, run};
use crate::fluvio::FluvioHandle;
use crate::handle::{borrow, into_handle};
use crate::partition_consumer::{config, offset};
use crate::runtime::block_on;

#[allow(clippy::too_many_arguments)]
fn stream(
    env: &mut JNIEnv,
    fluvio: jlong,
    topic: &JString,
    offset_kind: jint,
    offset_value: jlong,
    isolation: jint,
    max_bytes: jint,
    resume_timeout_ms: jlong,
) -> Result<jlong> {
    // SAFETY: Java keeps the owning Fluvio open for the call.
    let fluvio = unsafe { borrow::<FluvioHandle>(fluvio)? };
    let topic = string(env, topic, "topic")?;
    let consumer = fluvio.client.consumer(&topic);
    let settings = config(isolation, max_bytes, resume_timeout_ms)?;
    let stream = block_on(consumer.stream_with_config(offset(offset_kind, offset_value)?, settings))??;
    Ok(into_handle(StreamHandle::new(stream)))
}

/// `long nativeStream(long fluvio, String topic, int offsetKind, long offsetValue, int isolation, int maxBytes, long resumeTimeoutMs)`
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub extern "system" fn Java_com_infinyon_fluvio_TopicConsumer_nativeStream<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    fluvio: jlong,
    topic: JString<'local>,
    offset_kind: jint,
    offset_value: jlong,
    isolation: jint,
    max_bytes: jint,
    resume_timeout_ms: jlong,
) -> jlong {
    run(&mut env, 0, |env| {
        stream(env, fluvio, &topic, offset_kind, offset_value, isolation, max_bytes, resume_timeout_ms)
    })
}
