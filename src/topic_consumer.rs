//! Natives of `com.infinyon.fluvio.TopicConsumer`: a stream over every partition of a topic.

use jni::JNIEnv;
use jni::objects::JString;
use jni::sys::jlong;

use crate::consumer_stream::StreamHandle;
use crate::contract::{Obj, java, natives};
use crate::convert::{offset as read_offset, string};
use crate::error::Result;
use crate::fluvio::FluvioHandle;
use crate::handle::{borrow, into_handle};
use crate::partition_consumer::consumer_config;
use crate::runtime::block_on;

fn stream(
    env: &mut JNIEnv,
    fluvio: jlong,
    topic: &JString,
    offset: &Obj<java::Offset>,
    config: &Obj<java::ConsumerConfig>,
) -> Result<jlong> {
    // SAFETY: Java keeps the owning Fluvio open for the call.
    let fluvio = unsafe { borrow::<FluvioHandle>(fluvio)? };
    let topic = string(env, topic, "topic")?;
    let (start, config) = (read_offset(env, offset)?, consumer_config(env, config)?);
    let stream = block_on(fluvio.client.consumer(&topic).stream_with_config(start, config))??;
    Ok(into_handle(StreamHandle::new(stream)))
}

natives! {
    class = java::TopicConsumer;

    fn nativeStream(
        env,
        fluvio: jlong,
        topic: JString<'local>,
        offset: Obj<'local, java::Offset>,
        config: Obj<'local, java::ConsumerConfig>,
    ) -> jlong {
        stream(env, fluvio, &topic, &offset, &config)
    }
}
