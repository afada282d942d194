//! Natives of `com.infinyon.fluvio.ConsumerStream` (the base of `PartitionConsumerStream`).
//!
//! `nativeNext` hands Java every record already received (packed, one crossing per chunk),
//! waiting only when none is. A `close()` from another thread cancels the stream's token,
//! which wakes a waiting `nativeNext` at once. A named consumer's offsets are committed and
//! stored through the stream's offsets handle, which needs no lock on the stream (so a
//! `flush` does not wait for a blocked `next`); closing a stream with the `Auto` strategy
//! stores its last offsets before it returns. Java buffers the records of a chunk and returns
//! them one by one, so Java says what it returned (the last offset per partition, a `long[]`
//! indexed by partition, -1 for none) with each `nativeNext`, `nativeCommit` and
//! `nativeReturned`; records handed over but not yet returned are never committed.

use std::time::Duration;

use std::sync::Arc;

use fluvio_engine::{ConsumerRecord, Metrics, OffsetStrategy, RecordStream, StreamOffsets};
use jni::JNIEnv;
use jni::objects::{JByteArray, JLongArray};
use jni::sys::jlong;
use tokio_util::sync::CancellationToken;

use crate::contract::{java, natives};
use crate::convert::pack_records;
use crate::error::{JniError, Result};
use crate::handle::{borrow, dispose};
use crate::runtime::{block_on, block_on_interruptible};

/// Most records handed over per call.
const MAX_RECORDS_PER_CALL: usize = 4096;

/// The native side of a `ConsumerStream`.
pub(crate) struct StreamHandle {
    stream: tokio::sync::Mutex<Box<dyn RecordStream>>,
    closed: CancellationToken,
    /// Read without the stream's lock, which a waiting `nativeNext` holds.
    metrics: Arc<Metrics>,
    /// A named consumer's offsets.
    offsets: Option<StreamOffsets>,
}

impl StreamHandle {
    pub(crate) fn new(stream: impl RecordStream + 'static) -> Self {
        let metrics = stream.metrics();
        let offsets = stream.offsets();
        if let Some(offsets) = &offsets {
            offsets.count_returns_explicitly();
        }
        Self { stream: tokio::sync::Mutex::new(Box::new(stream)), closed: CancellationToken::new(), metrics, offsets }
    }

    fn offsets(&self) -> Result<&StreamOffsets> {
        self.offsets.as_ref().ok_or_else(|| {
            JniError::Engine(fluvio_engine::Error::new(
                fluvio_engine::ErrorKind::OffsetManagementDisabled,
                "the stream has no consumer id: it stores no offsets",
            ))
        })
    }
}

/// Notes what Java returned: `returned[partition]` is the offset of the last record of that
/// partition Java returned, or -1 (null: nothing).
fn note_returned(env: &mut JNIEnv, handle: &StreamHandle, returned: &JLongArray) -> Result<()> {
    let Some(offsets) = handle.offsets.as_ref() else { return Ok(()) };
    if returned.is_null() {
        return Ok(());
    }
    let length = env.get_array_length(returned)?;
    let mut values = vec![0i64; length as usize];
    env.get_long_array_region(returned, 0, &mut values)?;
    for (partition, offset) in values.into_iter().enumerate() {
        if offset >= 0 {
            offsets.returned(partition as u32, offset);
        }
    }
    Ok(())
}

fn note_returned_by_handle(env: &mut JNIEnv, handle: jlong, returned: &JLongArray) -> Result<()> {
    // SAFETY: Java keeps the handle alive for the call.
    let handle = unsafe { borrow::<StreamHandle>(handle)? };
    note_returned(env, handle, returned)
}

fn commit(env: &mut JNIEnv, handle: jlong, returned: &JLongArray) -> Result<()> {
    // SAFETY: Java keeps the handle alive for the call.
    let handle = unsafe { borrow::<StreamHandle>(handle)? };
    let offsets = handle.offsets()?;
    note_returned(env, handle, returned)?;
    offsets.commit()?;
    Ok(())
}

fn flush(env: &mut JNIEnv, handle: jlong) -> Result<()> {
    // SAFETY: Java keeps the handle alive for the call.
    let handle = unsafe { borrow::<StreamHandle>(handle)? };
    let offsets = handle.offsets()?.clone();
    block_on_interruptible(env, "the consumer offsets to be stored", offsets.flush())??;
    Ok(())
}

/// With the `Auto` strategy, stores what the stream returned before it ends (waiting, unless
/// called on a runtime thread: then the stream stores it in the background as it ends).
fn store_before_close(handle: &StreamHandle) {
    if let Some(offsets) = handle.offsets.as_ref().filter(|o| o.strategy() == OffsetStrategy::Auto)
        && let Ok(Err(err)) = block_on(offsets.flush())
    {
        tracing::warn!(%err, "storing the consumer offsets of a closing stream failed");
    }
}

enum Wait {
    Records(Option<fluvio_engine::Result<Vec<ConsumerRecord>>>),
    TimedOut,
    Closed,
}

fn closed_error() -> JniError {
    JniError::Engine(fluvio_engine::Error::new(fluvio_engine::ErrorKind::Closed, "the stream was closed"))
}

fn next<'local>(
    env: &mut JNIEnv<'local>,
    handle: jlong,
    timeout_nanos: jlong,
    returned: &JLongArray,
) -> Result<JByteArray<'local>> {
    // SAFETY: Java keeps the handle alive for the call.
    let handle = unsafe { borrow::<StreamHandle>(handle)? };
    if handle.closed.is_cancelled() {
        return Err(closed_error());
    }
    note_returned(env, handle, returned)?;
    // Records already received are handed over without touching the runtime.
    let buffered = match handle.stream.try_lock() {
        Ok(mut stream) => stream.try_next_batch(MAX_RECORDS_PER_CALL),
        Err(_) => None,
    };
    let wait = match buffered {
        Some(item) => Wait::Records(Some(item)),
        None => block_on_interruptible(env, "records", async {
            let timeout = u64::try_from(timeout_nanos).ok().map(Duration::from_nanos);
            let mut stream = tokio::select! {
                stream = handle.stream.lock() => stream,
                _ = handle.closed.cancelled() => return Wait::Closed,
            };
            let sleep = async {
                match timeout {
                    Some(timeout) => tokio::time::sleep(timeout).await,
                    None => std::future::pending().await,
                }
            };
            // Receiving is cancel-safe: a timeout or close loses no record.
            tokio::select! {
                item = stream.next_batch(MAX_RECORDS_PER_CALL) => Wait::Records(item),
                _ = sleep => Wait::TimedOut,
                _ = handle.closed.cancelled() => Wait::Closed,
            }
        })?,
    };
    match wait {
        Wait::Records(Some(Ok(records))) => pack_records(&records).into_java(env),
        Wait::Records(Some(Err(err))) => Err(JniError::Engine(err)),
        // The stream ended (after a terminal error was reported): an empty chunk.
        Wait::Records(None) => pack_records(&[]).into_java(env),
        Wait::TimedOut => Ok(JByteArray::default()),
        Wait::Closed => Err(closed_error()),
    }
}

natives! {
    class = java::ConsumerStream;

    /// Packed records; null on timeout (a negative timeout waits forever); an empty chunk once
    /// the stream ended. `returned`: what Java returned so far (null for an unnamed stream).
    fn nativeNext(env, handle: jlong, timeout_nanos: jlong, returned: JLongArray<'local>) -> JByteArray<'local> {
        next(env, handle, timeout_nanos, &returned)
    }

    /// Notes what Java returned so far (before closing).
    fn nativeReturned(env, handle: jlong, returned: JLongArray<'local>) {
        note_returned_by_handle(env, handle, &returned)
    }

    /// The stream's metrics, packed (layout `METRICS`); callable while `nativeNext` waits.
    fn nativeMetrics(env, handle: jlong) -> JByteArray<'local> {
        // SAFETY: Java keeps the handle alive for the call.
        let handle = unsafe { borrow::<StreamHandle>(handle)? };
        crate::convert::pack_metrics(&handle.metrics.snapshot()).into_java(env)
    }

    /// Wakes a waiting `nativeNext`; the stream stays unusable afterwards.
    fn nativeInterrupt(_, handle: jlong) {
        // SAFETY: Java keeps the handle alive for the call.
        unsafe { borrow::<StreamHandle>(handle)? }.closed.cancel();
        Ok(())
    }

    /// Marks what the stream returned so far as committed.
    fn nativeCommit(env, handle: jlong, returned: JLongArray<'local>) {
        commit(env, handle, &returned)
    }

    /// Stores the last commit and waits for the cluster.
    fn nativeFlush(env, handle: jlong) {
        flush(env, handle)
    }

    /// Ends the stream's background task.
    fn nativeDispose(_, handle: jlong) {
        // SAFETY: Java calls this once, after every other call on the handle returned.
        if let Ok(stream) = unsafe { borrow::<StreamHandle>(handle) } {
            store_before_close(stream);
        }
        // SAFETY: as above; the borrow ended.
        unsafe { dispose::<StreamHandle>(handle) };
        Ok(())
    }
}
