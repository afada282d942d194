//! Natives of `com.infinyon.fluvio.ConsumerStream` (the base of `PartitionConsumerStream`).
//!
//! `nativeFill` writes every record already received into the stream's buffer (a Java array
//! reused from call to call: no array is allocated and zeroed per call, and the records are
//! copied once, from the fetched buffer they are slices of), waiting only when none is. A
//! `close()` from another thread cancels the stream's token, which wakes a waiting
//! `nativeFill` at once. A named consumer's offsets are committed and stored through the
//! stream's offsets handle, which needs no lock on the stream (so a `flush` does not wait for
//! a blocked `nativeFill`); closing a stream with the `Auto` strategy stores its last offsets
//! before it returns. Java hands the records of a fill out later (one by one with `next()`, or
//! as a batch), so Java says what it returned (the last offset per partition, a `long[]`
//! indexed by partition, -1 for none) with each `nativeFill`, `nativeCommit` and
//! `nativeReturned`; records handed over but not yet returned are never committed.

use std::time::Duration;

use std::sync::Arc;

use fluvio_engine::{BufferedBytes, ConsumerRecord, Metrics, OffsetStrategy, RecordStream, StreamOffsets};
use jni::JNIEnv;
use jni::objects::{JByteArray, JLongArray, ReleaseMode};
use jni::sys::{jint, jlong};
use tokio_util::sync::CancellationToken;

use crate::contract::{java, natives};
use crate::convert::{RecordWriter, packed_record_len};
use crate::error::{JniError, Result};
use crate::handle::{borrow, dispose};
use crate::runtime::{block_on, block_on_interruptible};

/// Most records handed over per call.
const MAX_RECORDS_PER_CALL: usize = 4096;

/// What `nativeFill` returns when nothing arrived in time.
const TIMED_OUT: jint = 0;

/// The native side of a `ConsumerStream`.
pub(crate) struct StreamHandle {
    reader: tokio::sync::Mutex<Reader>,
    closed: CancellationToken,
    /// What the stream holds, readable while another thread reads.
    buffered: Vec<BufferedBytes>,
    /// Read without the reader's lock, which a waiting `nativeFill` holds.
    metrics: Arc<Metrics>,
    /// A named consumer's offsets.
    offsets: Option<StreamOffsets>,
}

/// The stream, and the item taken from it that did not fit into Java's buffer (handed over
/// first by the next call).
struct Reader {
    stream: Box<dyn RecordStream>,
    next: Option<fluvio_engine::Result<ConsumerRecord>>,
}

impl StreamHandle {
    pub(crate) fn new(stream: impl RecordStream + 'static) -> Self {
        let metrics = stream.metrics();
        let offsets = stream.offsets();
        if let Some(offsets) = &offsets {
            offsets.count_returns_explicitly();
        }
        Self {
            buffered: stream.buffered_bytes_gauges(),
            reader: tokio::sync::Mutex::new(Reader { stream: Box::new(stream), next: None }),
            closed: CancellationToken::new(),
            metrics,
            offsets,
        }
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
    Item(Option<fluvio_engine::Result<Option<ConsumerRecord>>>),
    TimedOut,
    Closed,
}

fn closed_error() -> JniError {
    JniError::Engine(fluvio_engine::Error::new(fluvio_engine::ErrorKind::Closed, "the stream was closed"))
}

/// Fills Java's array `buffer` with records (layout `RECORDS`), waiting up to `timeout_nanos`
/// (negative: for ever) for the first one. Returns the bytes written (a count of 0 once the
/// stream ended), [`TIMED_OUT`], or minus the size an array needs to hold the next record when
/// it is larger than `buffer` (the record waits for the next call).
/// `returned`: what Java returned so far (see [`note_returned`]).
fn fill(
    env: &mut JNIEnv,
    handle: jlong,
    buffer: &JByteArray,
    timeout_nanos: jlong,
    returned: &JLongArray,
) -> Result<jint> {
    // SAFETY: Java keeps the handle alive for the call.
    let handle = unsafe { borrow::<StreamHandle>(handle)? };
    if handle.closed.is_cancelled() {
        return Err(closed_error());
    }
    note_returned(env, handle, returned)?;
    if buffer.is_null() {
        return Err(JniError::IllegalArgument("buffer is null".into()));
    }
    let capacity = usize::try_from(env.get_array_length(buffer)?).unwrap_or(0);
    if capacity < 4 {
        return Err(JniError::IllegalArgument(format!("a buffer of {capacity} bytes cannot hold a count")));
    }

    // What already arrived is handed over without touching the runtime.
    let mut reader = match handle.reader.try_lock() {
        Ok(reader) => reader,
        Err(_) => block_on(async {
            tokio::select! {
                reader = handle.reader.lock() => Some(reader),
                _ = handle.closed.cancelled() => None,
            }
        })?
        .ok_or_else(closed_error)?,
    };
    let first = match reader.next.take().or_else(|| reader.stream.try_next()) {
        Some(item) => Wait::Item(Some(item.map(Some))),
        None => block_on_interruptible(env, "records", async {
            let timeout = u64::try_from(timeout_nanos).ok().map(Duration::from_nanos);
            let sleep = async {
                match timeout {
                    Some(timeout) => tokio::time::sleep(timeout).await,
                    None => std::future::pending().await,
                }
            };
            // Receiving is cancel-safe: a timeout or close loses no record.
            tokio::select! {
                // A batch of one record (never empty).
                item = reader.stream.next_batch(1) => Wait::Item(item.map(|batch| batch.map(|b| b.into_iter().next()))),
                _ = sleep => Wait::TimedOut,
                _ = handle.closed.cancelled() => Wait::Closed,
            }
        })?,
    };
    let first = match first {
        Wait::Item(Some(Ok(Some(record)))) => Some(record),
        Wait::Item(Some(Ok(None))) => return Ok(TIMED_OUT),
        Wait::Item(Some(Err(err))) => return Err(JniError::Engine(err)),
        // The stream ended (after a terminal error was reported): an empty chunk.
        Wait::Item(None) => None,
        Wait::TimedOut => return Ok(TIMED_OUT),
        Wait::Closed => return Err(closed_error()),
    };
    if let Some(record) = &first {
        let needed = 4 + packed_record_len(record);
        if needed > capacity {
            reader.next = first.map(Ok);
            return Ok(-(i32::try_from(needed).unwrap_or(i32::MAX)));
        }
    }
    // SAFETY: no JNI call and no wait until the elements are released (packing only copies
    // bytes; taking received records from the stream never waits).
    let mut elements = unsafe { env.get_array_elements_critical(buffer, ReleaseMode::CopyBack)? };
    // SAFETY: i8 and u8 have the same layout; the slice is the array's, borrowed for this scope.
    let dst = unsafe { std::slice::from_raw_parts_mut(elements.as_mut_ptr().cast::<u8>(), elements.len()) };
    let Some(mut writer) = RecordWriter::new(dst) else {
        return Err(JniError::IllegalArgument("the buffer cannot hold a count".into()));
    };
    if let Some(record) = first {
        writer.push(&record);
        // The rest are packed where they lie, without building a record for each; a record
        // that does not fit, or a terminal error, is the next call's.
        reader.stream.take_received_borrowed(MAX_RECORDS_PER_CALL - 1, &mut |record| writer.push_ref(record));
    }
    let written = writer.finish();
    drop(elements);
    Ok(jint::try_from(written).unwrap_or(jint::MAX))
}

/// Bytes the stream holds in native memory for its reader (the engine's accounting).
fn buffered_bytes(handle: jlong) -> Result<jlong> {
    // SAFETY: Java keeps the handle alive for the call.
    let handle = unsafe { borrow::<StreamHandle>(handle)? };
    let held: usize = handle.buffered.iter().map(BufferedBytes::get).sum();
    Ok(jlong::try_from(held).unwrap_or(jlong::MAX))
}

natives! {
    class = java::ConsumerStream;

    /// Records written into the array: their size, 0 on timeout (a negative timeout waits
    /// forever), a count of 0 once the stream ended, minus the size needed when the next
    /// record does not fit. `returned`: what Java returned so far (null for an unnamed stream).
    fn nativeFill(env, handle: jlong, buffer: JByteArray<'local>, timeout_nanos: jlong, returned: JLongArray<'local>) -> jint {
        fill(env, handle, &buffer, timeout_nanos, &returned)
    }

    /// Notes what Java returned so far (before closing, and every 100 ms with `Auto`).
    fn nativeReturned(env, handle: jlong, returned: JLongArray<'local>) {
        note_returned_by_handle(env, handle, &returned)
    }

    /// Bytes the stream holds in native memory for its reader.
    fn nativeBufferedBytes(_, handle: jlong) -> jlong {
        buffered_bytes(handle)
    }

    /// The stream's metrics, packed (layout `METRICS`); callable while `nativeFill` waits.
    fn nativeMetrics(env, handle: jlong) -> JByteArray<'local> {
        // SAFETY: Java keeps the handle alive for the call.
        let handle = unsafe { borrow::<StreamHandle>(handle)? };
        crate::convert::pack_metrics(&handle.metrics.snapshot()).into_java(env)
    }

    /// Wakes a waiting `nativeFill`; the stream stays unusable afterwards.
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
        crate::runtime::return_freed_memory_soon();
        Ok(())
    }
}
