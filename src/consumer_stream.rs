//! Natives of `com.infinyon.fluvio.ConsumerStream` (the base of `PartitionConsumerStream`).
//!
//! `nativeFill` writes every record already received into the stream's buffer (a Java array
//! reused from call to call: no array is allocated and zeroed per call, and the records are
//! copied once, from the fetched buffer they are slices of), waiting only when none is. A
//! `close()` from another thread cancels the stream's token, which wakes a waiting
//! `nativeFill` at once.

use std::time::Duration;

use fluvio_engine::{BufferedBytes, ConsumerRecord, RecordStream};
use jni::JNIEnv;
use jni::objects::{JByteArray, ReleaseMode};
use jni::sys::{jint, jlong};
use tokio_util::sync::CancellationToken;

use crate::contract::{java, natives};
use crate::convert::{RecordWriter, packed_record_len};
use crate::error::{JniError, Result};
use crate::handle::{borrow, dispose};
use crate::runtime::block_on;

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
}

/// The stream, and the item taken from it that did not fit into Java's buffer (handed over
/// first by the next call).
struct Reader {
    stream: Box<dyn RecordStream>,
    next: Option<fluvio_engine::Result<ConsumerRecord>>,
}

impl StreamHandle {
    pub(crate) fn new(stream: impl RecordStream + 'static) -> Self {
        Self {
            buffered: stream.buffered_bytes_gauges(),
            reader: tokio::sync::Mutex::new(Reader { stream: Box::new(stream), next: None }),
            closed: CancellationToken::new(),
        }
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
fn fill(env: &mut JNIEnv, handle: jlong, buffer: &JByteArray, timeout_nanos: jlong) -> Result<jint> {
    // SAFETY: Java keeps the handle alive for the call.
    let handle = unsafe { borrow::<StreamHandle>(handle)? };
    if handle.closed.is_cancelled() {
        return Err(closed_error());
    }
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
        None => block_on(async {
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
        for _ in 1..MAX_RECORDS_PER_CALL {
            match reader.stream.try_next() {
                Some(Ok(record)) => {
                    if !writer.push(&record) {
                        reader.next = Some(Ok(record));
                        break;
                    }
                }
                // Records first; the error with the next call.
                Some(Err(err)) => {
                    reader.next = Some(Err(err));
                    break;
                }
                None => break,
            }
        }
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
    /// record does not fit.
    fn nativeFill(env, handle: jlong, buffer: JByteArray<'local>, timeout_nanos: jlong) -> jint {
        fill(env, handle, &buffer, timeout_nanos)
    }

    /// Bytes the stream holds in native memory for its reader.
    fn nativeBufferedBytes(_, handle: jlong) -> jlong {
        buffered_bytes(handle)
    }

    /// Wakes a waiting `nativeNext`; the stream stays unusable afterwards.
    fn nativeInterrupt(_, handle: jlong) {
        // SAFETY: Java keeps the handle alive for the call.
        unsafe { borrow::<StreamHandle>(handle)? }.closed.cancel();
        Ok(())
    }

    /// Ends the stream's background task.
    fn nativeDispose(_, handle: jlong) {
        // SAFETY: Java calls this once, after every other call on the handle returned.
        unsafe { dispose::<StreamHandle>(handle) };
        Ok(())
    }
}
