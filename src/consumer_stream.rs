//! Natives of `com.infinyon.fluvio.ConsumerStream` (the base of `PartitionConsumerStream`).
//!
//! `nativeNext` hands Java every record already received (packed, one crossing per chunk),
//! waiting only when none is. A `close()` from another thread cancels the stream's token,
//! which wakes a waiting `nativeNext` at once.

use std::time::Duration;

use fluvio_engine::{ConsumerRecord, RecordStream};
use jni::JNIEnv;
use jni::objects::JByteArray;
use jni::sys::jlong;
use tokio_util::sync::CancellationToken;

use crate::contract::{java, natives};
use crate::convert::pack_records;
use crate::error::{JniError, Result};
use crate::handle::{borrow, dispose};
use crate::runtime::block_on;

/// Most records handed over per call.
const MAX_RECORDS_PER_CALL: usize = 4096;

/// The native side of a `ConsumerStream`.
pub(crate) struct StreamHandle {
    stream: tokio::sync::Mutex<Box<dyn RecordStream>>,
    closed: CancellationToken,
}

impl StreamHandle {
    pub(crate) fn new(stream: impl RecordStream + 'static) -> Self {
        Self { stream: tokio::sync::Mutex::new(Box::new(stream)), closed: CancellationToken::new() }
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

fn next<'local>(env: &mut JNIEnv<'local>, handle: jlong, timeout_nanos: jlong) -> Result<JByteArray<'local>> {
    // SAFETY: Java keeps the handle alive for the call.
    let handle = unsafe { borrow::<StreamHandle>(handle)? };
    if handle.closed.is_cancelled() {
        return Err(closed_error());
    }
    // Records already received are handed over without touching the runtime.
    let buffered = match handle.stream.try_lock() {
        Ok(mut stream) => stream.try_next_batch(MAX_RECORDS_PER_CALL),
        Err(_) => None,
    };
    let wait = match buffered {
        Some(item) => Wait::Records(Some(item)),
        None => block_on(async {
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
    /// the stream ended.
    fn nativeNext(env, handle: jlong, timeout_nanos: jlong) -> JByteArray<'local> {
        next(env, handle, timeout_nanos)
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
