//! Natives of `com.infinyon.fluvio.TopicProducer`.
//!
//! A send queues the record and returns its index in its batch; the Java `ProduceOutput` is
//! pointed at the batch's `BatchFuture`, created once per batch. When the batch is resolved,
//! one upcall completes that future, for every record of the batch at once.
//!
//! Each `BatchFuture` carries a token, unique in the process. A `send` passes the token of the
//! batch its producer last saw; a record that joins that batch is answered with
//! [`SAME_BATCH`], and Java points the output at the future it holds, so that the common case
//! (many records in a row into one batch) makes no field write from native code.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use fluvio_engine::producer::{DeliverySemantic, RetryPolicy, TrySend};
use fluvio_engine::{ProduceOutput, ProducerConfig, TopicProducer};
use jni::JNIEnv;
use jni::objects::{GlobalRef, JByteArray, JIntArray, JObject, JString};
use jni::sys::{jint, jlong};

use crate::contract::batches::{NO_TOKEN, SAME_BATCH};
use crate::contract::types::JavaClass;
use crate::contract::{Obj, ObjArray, java, natives};
use crate::convert::{count, duration, enum_value, int_array, required, required_enum, string, with_key_value};
use crate::error::{JniError, Result, code_name, tls_failure_name};
use crate::fluvio::FluvioHandle;
use crate::handle::{borrow, dispose, into_handle};
use crate::runtime::{self, block_on, block_on_interruptible};

/// The token of the next `BatchFuture` created.
static NEXT_TOKEN: AtomicI64 = AtomicI64::new(NO_TOKEN + 1);

/// What a batch keeps for Java: its future, and that future's token.
struct JavaBatch {
    future: GlobalRef,
    token: jlong,
}

/// The native side of a `TopicProducer`.
pub(crate) struct ProducerHandle {
    producer: TopicProducer,
}

/// The producer settings a `TopicProducerConfig` describes (the engine checks them).
fn producer_config(env: &mut JNIEnv, config: &Obj<java::TopicProducerConfig>) -> Result<ProducerConfig> {
    crate::convert::in_frame(env, |env| read_producer_config(env, config))
}

fn read_producer_config(env: &mut JNIEnv, config: &Obj<java::TopicProducerConfig>) -> Result<ProducerConfig> {
    required(config, "config")?;
    let linger = java::TopicProducerConfig::linger(env, config)?;
    let compression = java::TopicProducerConfig::compression(env, config)?;
    let max_block = java::TopicProducerConfig::max_block(env, config)?;
    let timeout = java::TopicProducerConfig::timeout(env, config)?;
    let delivery = java::TopicProducerConfig::delivery_semantic(env, config)?;
    let isolation = java::TopicProducerConfig::isolation(env, config)?;
    let mut builder = ProducerConfig::builder()
        .batch_size(count(java::TopicProducerConfig::batch_size(env, config)?.into(), "batchSize")?)
        .linger(duration(env, &linger, "linger")?)
        .max_request_size(count(java::TopicProducerConfig::max_request_size(env, config)?.into(), "maxRequestSize")?)
        .batch_queue_size(count(java::TopicProducerConfig::batch_queue_size(env, config)?.into(), "batchQueueSize")?)
        .max_block(duration(env, &max_block, "maxBlock")?)
        .timeout(duration(env, &timeout, "timeout")?)
        .delivery(delivery_semantic(env, &delivery)?)
        .isolation(required_enum::<java::Isolation>(env, &isolation, "isolation")?)
        .idempotent(java::TopicProducerConfig::idempotent(env, config)? != 0);
    if let Some(codec) = enum_value::<java::Compression>(env, &compression)? {
        builder = builder.compression(codec);
    }
    Ok(builder.build()?)
}

/// A `DeliverySemantic`.
fn delivery_semantic(env: &mut JNIEnv, delivery: &Obj<java::DeliverySemantic>) -> Result<DeliverySemantic> {
    required(delivery, "deliverySemantic")?;
    if java::DeliverySemantic::is_at_least_once(env, delivery)? == 0 {
        return Ok(DeliverySemantic::AtMostOnce);
    }
    let max_retries = java::DeliverySemantic::max_retries(env, delivery)?;
    let timeout = java::DeliverySemantic::retry_timeout(env, delivery)?;
    Ok(DeliverySemantic::AtLeastOnce(RetryPolicy {
        max_retries: u32::try_from(max_retries)
            .map_err(|_| JniError::IllegalArgument("maxRetries must not be negative".into()))?,
        timeout: duration(env, &timeout, "retryTimeout")?,
        ..RetryPolicy::default()
    }))
}

fn create(env: &mut JNIEnv, fluvio: jlong, topic: &JString, config: &Obj<java::TopicProducerConfig>) -> Result<jlong> {
    // SAFETY: Java keeps the owning Fluvio open for the call.
    let fluvio = unsafe { borrow::<FluvioHandle>(fluvio)? };
    let topic = string(env, topic, "topic")?;
    let config = producer_config(env, config)?;
    let producer = block_on(fluvio.client.topic_producer_with_config(&topic, config))??;
    Ok(into_handle(ProducerHandle { producer }))
}

/// Queues one record; answers its index in its batch, with [`SAME_BATCH`] set when the batch
/// is the one of `last_batch_token` (then `out` is left for Java to fill), or else after
/// pointing `out` at the batch's future.
#[allow(clippy::too_many_arguments)] // the natives' arguments, as they cross
fn send(
    env: &mut JNIEnv,
    handle: jlong,
    partition: jint,
    key: &JByteArray,
    key_len: jint,
    value: &JByteArray,
    value_len: jint,
    last_batch_token: jlong,
    out: &JObject,
) -> Result<jlong> {
    let producer = producer(handle)?;
    let partition = u32::try_from(partition).ok();
    let output = with_key_value(env, key, key_len, value, value_len, |env, key, value| {
        queue(env, producer, partition, key, value)
    })?;
    let same = output.with_batch_attachment(
        env,
        |env| new_batch_future(env, &output),
        |env, batch: &JavaBatch| {
            if batch.token == last_batch_token {
                return Ok(true);
            }
            java::ProduceOutput::batch(env, out, batch.future.as_obj())?;
            Ok::<_, JniError>(false)
        },
    )?;
    Ok(jlong::from(output.index()) | if same { SAME_BATCH } else { 0 })
}

/// Sends the records packed in `data` (`lengths`: key length, -1 for no key, then value
/// length, per record; `partitions`: each record's partition, or null for the partitioner's
/// choice) in order, waiting for queue room as `send` does. Returns the distinct futures of
/// the batches the records joined, and writes into `placement`, per record, the index of its
/// batch's future in that array and the record's index in its batch.
fn send_all<'local>(
    env: &mut JNIEnv<'local>,
    handle: jlong,
    partitions: &JIntArray,
    lengths: &JIntArray,
    data: &JByteArray,
    placement: &JIntArray,
) -> Result<ObjArray<'local, java::BatchFuture>> {
    let producer = producer(handle)?;
    let lengths = int_array(env, lengths, "lengths")?;
    let records = lengths.len() / 2;
    let partitions = if partitions.is_null() { None } else { Some(int_array(env, partitions, "partitions")?) };
    if lengths.len() % 2 != 0
        || partitions.as_ref().is_some_and(|p| p.len() != records)
        || env.get_array_length(placement)? as usize != lengths.len()
    {
        return Err(JniError::IllegalArgument("sendAll's arrays do not describe the same records".into()));
    }
    let data = crate::convert::bytes(env, data, "data")?;
    let mut futures: Vec<GlobalRef> = Vec::new();
    let mut places = Vec::with_capacity(lengths.len());
    let mut packed = PackedRecords { data: &data, at: 0 };
    for (record, pair) in lengths.chunks_exact(2).enumerate() {
        let key = packed.take_optional(pair[0])?;
        let value = packed.take(pair[1])?;
        let partition = partitions.as_ref().map(|p| p[record]).and_then(|p| u32::try_from(p).ok());
        let output = queue(env, producer, partition, key, value)?;
        // Records of one partition join its batches in order: the batch is most often the
        // one of a recent record. A batch's future is one global reference, the same handle in
        // every clone.
        let slot = output.with_batch_attachment(
            env,
            |env| new_batch_future(env, &output),
            |_, batch: &JavaBatch| {
                let raw = batch.future.as_obj().as_raw();
                Ok(match futures.iter().rposition(|known| known.as_obj().as_raw() == raw) {
                    Some(slot) => slot,
                    None => {
                        futures.push(batch.future.clone());
                        futures.len() - 1
                    }
                })
            },
        )?;
        places.push(slot as jint);
        places.push(output.index() as jint);
    }
    if packed.at != data.len() {
        return Err(JniError::IllegalArgument("sendAll's data holds bytes no record claims".into()));
    }
    env.set_int_array_region(placement, 0, &places)?;
    let array = env.new_object_array(futures.len() as jint, <java::BatchFuture as JavaClass>::NAME, JObject::null())?;
    for (index, future) in futures.iter().enumerate() {
        env.set_object_array_element(&array, index as jint, future.as_obj())?;
    }
    Ok(ObjArray::from_array(array))
}

/// Keys and values packed one after the other, taken in order.
struct PackedRecords<'a> {
    data: &'a [u8],
    at: usize,
}

impl<'a> PackedRecords<'a> {
    /// The next `len` bytes.
    fn take(&mut self, len: jint) -> Result<&'a [u8]> {
        let end =
            usize::try_from(len).ok().and_then(|len| self.at.checked_add(len)).filter(|&end| end <= self.data.len());
        let Some(end) = end else {
            return Err(JniError::IllegalArgument("sendAll's lengths run past its data".into()));
        };
        let bytes = &self.data[self.at..end];
        self.at = end;
        Ok(bytes)
    }

    /// The next key: none for a negative length.
    fn take_optional(&mut self, len: jint) -> Result<Option<&'a [u8]>> {
        if len < 0 { Ok(None) } else { self.take(len).map(Some) }
    }
}

/// Queues a record (`partition` `None`: the partitioner chooses). When the partition's queue
/// is full, waits for room (up to max_block) on this Java thread; an interrupt ends the wait.
fn queue(
    env: &mut JNIEnv,
    producer: &ProducerHandle,
    partition: Option<u32>,
    key: Option<&[u8]>,
    value: &[u8],
) -> Result<ProduceOutput> {
    Ok(match producer.producer.try_send(partition, key, value)? {
        TrySend::Sent(output) => output,
        TrySend::QueueFull(partition) => block_on_interruptible(
            env,
            "space in the producer's queue",
            producer.producer.send_to(Some(partition), key, value),
        )??,
    })
}

/// Creates the batch's `BatchFuture`, with a new token, and arranges for it to be completed
/// with the batch.
fn new_batch_future(env: &mut JNIEnv, output: &ProduceOutput) -> Result<JavaBatch> {
    let token = NEXT_TOKEN.fetch_add(1, Ordering::Relaxed);
    let local = java::BatchFuture::new(env, token)?;
    let future = env.new_global_ref(&*local)?;
    env.delete_local_ref(local.into_object())?;
    let target = future.clone();
    let partition = output.partition();
    output.on_batch_complete(move |result| complete_batch_future(&target, partition, result));
    Ok(JavaBatch { future, token })
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
        match result {
            Ok(base_offset) => java::BatchFuture::complete(env, future.as_obj(), partition as i32, *base_offset),
            Err(err) => {
                let code = env.new_string(code_name(err.kind()))?;
                let message = env.new_string(err.to_string())?;
                let tls = match err.tls_failure() {
                    Some(failure) => env.new_string(tls_failure_name(failure))?,
                    None => JString::default(),
                };
                java::BatchFuture::fail(env, future.as_obj(), &code, &message, u8::from(err.is_retriable()), &tls)
            }
        }
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

/// Flushes, then refuses further records; with a timeout (`timeout_nanos` >= 0), what is not
/// delivered by then fails with `CLOSED` instead of being waited for. A delivery failure of the
/// final flush is not an error of `close`: every record's `ProduceOutput` already carries its
/// own outcome, and a `close()` that throws in a try-with-resources would hide the body's
/// result.
fn close(handle: jlong, timeout_nanos: jlong) -> Result<()> {
    let producer = &producer(handle)?.producer;
    let outcome = match u64::try_from(timeout_nanos) {
        Ok(nanos) => block_on(producer.close_within(Duration::from_nanos(nanos)))?,
        Err(_) => block_on(producer.close())?,
    };
    if let Err(err) = outcome {
        tracing::debug!(%err, "delivery failure while closing a producer (reported by its outputs)");
    }
    Ok(())
}

natives! {
    class = java::TopicProducer;

    fn nativeCreate(env, fluvio: jlong, topic: JString<'local>, config: Obj<'local, java::TopicProducerConfig>) -> jlong {
        create(env, fluvio, &topic, &config)
    }

    /// The record's index in its batch, with `SAME_BATCH` when it joined the batch of
    /// `last_batch_token` (partition < 0: the partitioner chooses). The lengths are the
    /// arrays' own (`key_len` ignored for a null key).
    fn nativeSend(
        env,
        handle: jlong,
        partition: jint,
        key: JByteArray<'local>,
        key_len: jint,
        value: JByteArray<'local>,
        value_len: jint,
        last_batch_token: jlong,
        out: Obj<'local, java::ProduceOutput>,
    ) -> jlong {
        send(env, handle, partition, &key, key_len, &value, value_len, last_batch_token, &out)
    }

    /// One crossing for a slice of `sendAll`; see `send_all`.
    fn nativeSendAll(
        env,
        handle: jlong,
        partitions: JIntArray<'local>,
        lengths: JIntArray<'local>,
        data: JByteArray<'local>,
        placement: JIntArray<'local>,
    ) -> ObjArray<'local, java::BatchFuture> {
        send_all(env, handle, &partitions, &lengths, &data, &placement)
    }

    /// The producer's metrics, packed (layout `METRICS`).
    fn nativeMetrics(env, handle: jlong) -> JByteArray<'local> {
        crate::convert::pack_metrics(&producer(handle)?.producer.metrics()).into_java(env)
    }

    fn nativePartitionCount(_, handle: jlong) -> jint {
        Ok(producer(handle)?.producer.partition_count() as jint)
    }

    fn nativeFlush(env, handle: jlong) {
        Ok(block_on_interruptible(env, "the flush", producer(handle)?.producer.flush())??)
    }

    /// Waits at most `timeoutNanos` (negative: as long as delivery takes).
    fn nativeClose(_, handle: jlong, timeout_nanos: jlong) {
        close(handle, timeout_nanos)
    }

    fn nativeDispose(_, handle: jlong) {
        // SAFETY: Java calls this once, after every other call on the handle returned.
        unsafe { dispose::<ProducerHandle>(handle) };
        Ok(())
    }
}
