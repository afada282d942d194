//! Natives of `com.infinyon.fluvio.TopicProducer`.
//!
//! A send queues the record and returns its index in its batch; the Java `ProduceOutput` is
//! pointed at the batch's `BatchFuture`, created once per batch. When the batch is resolved,
//! one upcall completes that future, for every record of the batch at once.

use std::time::Duration;

use fluvio_engine::producer::{DeliverySemantic, RetryPolicy, TrySend};
use fluvio_engine::{Compression, Isolation, ProduceOutput, ProducerConfig, TopicProducer};
use jni::JNIEnv;
use jni::objects::{GlobalRef, JByteArray, JClass, JObject, JString, JValue};
use jni::signature::{Primitive, ReturnType};
use jni::sys::{jboolean, jint, jlong, jvalue};

use crate::convert::{string, with_key_value};
use crate::error::{JniError, Result, code_name, run, tls_failure_name};
use crate::fluvio::FluvioHandle;
use crate::handle::{borrow, dispose, into_handle};
use crate::java;
use crate::runtime::{self, block_on};

/// The native side of a `TopicProducer`.
pub(crate) struct ProducerHandle {
    producer: TopicProducer,
}

fn compression(code: jint) -> Result<Option<Compression>> {
    Ok(match code {
        -1 => None,
        0 => Some(Compression::None),
        1 => Some(Compression::Gzip),
        2 => Some(Compression::Snappy),
        3 => Some(Compression::Lz4),
        4 => Some(Compression::Zstd),
        other => return Err(JniError::IllegalArgument(format!("unknown compression code {other}"))),
    })
}

fn non_negative(value: jlong, what: &str) -> Result<u64> {
    u64::try_from(value).map_err(|_| JniError::IllegalArgument(format!("{what} must not be negative")))
}

#[allow(clippy::too_many_arguments)]
fn create(
    env: &mut JNIEnv,
    fluvio: jlong,
    topic: &JString,
    batch_size: jint,
    linger_ms: jlong,
    compression_code: jint,
    max_request_size: jint,
    batch_queue_size: jint,
    max_block_ms: jlong,
    timeout_ms: jlong,
    at_least_once: jboolean,
    max_retries: jint,
    retry_timeout_ms: jlong,
    read_committed: jboolean,
    idempotent: jboolean,
) -> Result<jlong> {
    // SAFETY: Java keeps the owning Fluvio open for the call.
    let fluvio = unsafe { borrow::<FluvioHandle>(fluvio)? };
    let topic = string(env, topic, "topic")?;
    let positive = |value: jint, what: &str| {
        usize::try_from(value)
            .ok()
            .filter(|v| *v > 0)
            .ok_or_else(|| JniError::IllegalArgument(format!("{what} must be positive")))
    };
    let delivery = if at_least_once != 0 {
        DeliverySemantic::AtLeastOnce(RetryPolicy {
            max_retries: u32::try_from(max_retries)
                .map_err(|_| JniError::IllegalArgument("maxRetries must not be negative".into()))?,
            timeout: Duration::from_millis(non_negative(retry_timeout_ms, "retry timeout")?),
            ..RetryPolicy::default()
        })
    } else {
        DeliverySemantic::AtMostOnce
    };
    let mut builder = ProducerConfig::builder()
        .batch_size(positive(batch_size, "batchSize")?)
        .linger(Duration::from_millis(non_negative(linger_ms, "linger")?))
        .max_request_size(positive(max_request_size, "maxRequestSize")?)
        .batch_queue_size(positive(batch_queue_size, "batchQueueSize")?)
        .max_block(Duration::from_millis(non_negative(max_block_ms, "maxBlock")?))
        .timeout(Duration::from_millis(non_negative(timeout_ms, "timeout")?))
        .delivery(delivery)
        .isolation(if read_committed != 0 { Isolation::ReadCommitted } else { Isolation::ReadUncommitted })
        .idempotent(idempotent != 0);
    if let Some(codec) = compression(compression_code)? {
        builder = builder.compression(codec);
    }
    let config = builder.build()?;
    let producer = block_on(fluvio.client.topic_producer_with_config(&topic, config))??;
    Ok(into_handle(ProducerHandle { producer }))
}

fn send(
    env: &mut JNIEnv,
    handle: jlong,
    partition: jint,
    key: &JByteArray,
    value: &JByteArray,
    out: &JObject,
) -> Result<jlong> {
    // SAFETY: Java keeps the handle alive for the call.
    let producer = unsafe { borrow::<ProducerHandle>(handle)? };
    let partition = u32::try_from(partition).ok();
    // Queueing may start a partition's sender task.
    let _runtime = runtime::enter()?;
    let output = with_key_value(env, key, value, |key, value| {
        Ok(match producer.producer.try_send(partition, key, value)? {
            TrySend::Sent(output) => output,
            // Full queue: wait for room (up to max_block) on this Java thread.
            TrySend::QueueFull(partition) => block_on(producer.producer.send_to(Some(partition), key, value))??,
        })
    })?;
    let cache = java::cache()?;
    let future = output.batch_attachment(|| new_batch_future(env, &output))?;
    env.set_field_unchecked(out, cache.produce_output_batch, JValue::Object(future.as_obj()))?;
    Ok(jlong::from(output.index()))
}

/// Creates the batch's `BatchFuture` and arranges for it to be completed with the batch.
fn new_batch_future(env: &mut JNIEnv, output: &ProduceOutput) -> Result<GlobalRef> {
    let cache = java::cache()?;
    // SAFETY: the constructor id was looked up on this class with signature ()V.
    let local =
        unsafe { env.new_object_unchecked(java::class(&cache.batch_future_class), cache.batch_future_ctor, &[]) }?;
    let future = env.new_global_ref(&local)?;
    env.delete_local_ref(local)?;
    let target = future.clone();
    let partition = output.partition();
    output.on_batch_complete(move |result| complete_batch_future(&target, partition, result));
    Ok(future)
}

/// Completes a `BatchFuture` from whatever thread resolved the batch (a runtime worker,
/// attached for good, or the sending Java thread).
fn complete_batch_future(future: &GlobalRef, partition: u32, result: &fluvio_engine::Result<i64>) {
    let Some(vm) = runtime::vm() else { return };
    let mut env = match vm.get_env() {
        Ok(env) => env,
        Err(_) => match vm.attach_current_thread_as_daemon() {
            Ok(env) => env,
            Err(_) => return,
        },
    };
    let outcome = env.with_local_frame(8, |env| -> jni::errors::Result<()> {
        let cache = java::cache()?;
        let void = ReturnType::Primitive(Primitive::Void);
        match result {
            Ok(base_offset) => {
                let args = [jvalue { i: partition as i32 }, jvalue { j: *base_offset }];
                // SAFETY: id and argument types match `complete(int, long)`.
                unsafe { env.call_method_unchecked(future.as_obj(), cache.batch_future_complete, void, &args) }?;
            }
            Err(err) => {
                let code = env.new_string(code_name(err.kind()))?;
                let message = env.new_string(err.to_string())?;
                let tls = match err.tls_failure() {
                    Some(failure) => env.new_string(tls_failure_name(failure))?,
                    None => JObject::null().into(),
                };
                let args = [
                    jvalue { l: code.as_raw() },
                    jvalue { l: message.as_raw() },
                    jvalue { z: u8::from(err.is_retriable()) },
                    jvalue { l: tls.as_raw() },
                ];
                // SAFETY: id and argument types match `fail(String, String, boolean, String)`.
                unsafe { env.call_method_unchecked(future.as_obj(), cache.batch_future_fail, void, &args) }?;
            }
        }
        Ok(())
    });
    // Nothing may stay pending on a thread that is not returning to Java.
    if outcome.is_err() || env.exception_check().unwrap_or(false) {
        let _ = env.exception_describe();
        let _ = env.exception_clear();
    }
}

fn producer(handle: jlong) -> Result<&'static ProducerHandle> {
    // SAFETY: Java keeps the handle alive for the call.
    unsafe { borrow::<ProducerHandle>(handle) }
}

/// `long nativeCreate(long fluvio, String topic, int batchSize, long lingerMs, int compression, int maxRequestSize,
/// int batchQueueSize, long maxBlockMs, long timeoutMs, boolean atLeastOnce, int maxRetries, long retryTimeoutMs,
/// boolean readCommitted, boolean idempotent)`
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub extern "system" fn Java_com_infinyon_fluvio_TopicProducer_nativeCreate<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    fluvio: jlong,
    topic: JString<'local>,
    batch_size: jint,
    linger_ms: jlong,
    compression: jint,
    max_request_size: jint,
    batch_queue_size: jint,
    max_block_ms: jlong,
    timeout_ms: jlong,
    at_least_once: jboolean,
    max_retries: jint,
    retry_timeout_ms: jlong,
    read_committed: jboolean,
    idempotent: jboolean,
) -> jlong {
    run(&mut env, 0, |env| {
        create(
            env,
            fluvio,
            &topic,
            batch_size,
            linger_ms,
            compression,
            max_request_size,
            batch_queue_size,
            max_block_ms,
            timeout_ms,
            at_least_once,
            max_retries,
            retry_timeout_ms,
            read_committed,
            idempotent,
        )
    })
}

/// `long nativeSend(long handle, int partition, byte[] key, byte[] value, ProduceOutput out)`:
/// the record's index in its batch (partition < 0: the partitioner chooses).
#[unsafe(no_mangle)]
pub extern "system" fn Java_com_infinyon_fluvio_TopicProducer_nativeSend<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    partition: jint,
    key: JByteArray<'local>,
    value: JByteArray<'local>,
    out: JObject<'local>,
) -> jlong {
    run(&mut env, -1, |env| send(env, handle, partition, &key, &value, &out))
}

/// `int nativePartitionCount(long handle)`
#[unsafe(no_mangle)]
pub extern "system" fn Java_com_infinyon_fluvio_TopicProducer_nativePartitionCount<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
) -> jint {
    run(&mut env, 0, |_| Ok(producer(handle)?.producer.partition_count() as jint))
}

/// `void nativeFlush(long handle)`
#[unsafe(no_mangle)]
pub extern "system" fn Java_com_infinyon_fluvio_TopicProducer_nativeFlush<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
) {
    run(&mut env, (), |_| Ok(block_on(producer(handle)?.producer.flush())??))
}

/// Flushes, then refuses further records. A delivery failure of the final flush is not an
/// error of `close`: every record's `ProduceOutput` already carries its own outcome, and a
/// `close()` that throws in a try-with-resources would hide the body's result.
fn close(handle: jlong) -> Result<()> {
    let outcome = block_on(producer(handle)?.producer.close())?;
    if let Err(err) = outcome {
        tracing::debug!(%err, "delivery failure while closing a producer (reported by its outputs)");
    }
    Ok(())
}

/// `void nativeClose(long handle)`
#[unsafe(no_mangle)]
pub extern "system" fn Java_com_infinyon_fluvio_TopicProducer_nativeClose<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
) {
    run(&mut env, (), |_| close(handle))
}

/// `void nativeDispose(long handle)`
#[unsafe(no_mangle)]
pub extern "system" fn Java_com_infinyon_fluvio_TopicProducer_nativeDispose<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
) {
    run(&mut env, (), |_| {
        // SAFETY: Java calls this once, after every other call on the handle returned.
        unsafe { dispose::<ProducerHandle>(handle) };
        Ok(())
    })
}
