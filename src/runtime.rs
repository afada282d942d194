//! The library's one tokio runtime, and the JVM it belongs to.
//!
//! Worker threads are named `fluvio-io-<n>` and attached to the JVM once, when they start, so
//! completion callbacks can call into Java without attaching per call. Java threads wait for
//! async work with [`block_on`]; a runtime thread never does (that would stall the runtime),
//! so blocking calls made from a callback running on one fail with `IllegalStateException`.
//! Calls that may wait for the cluster indefinitely (a stream's `next`, a `send` waiting for
//! queue space, `flush`) wait with [`block_on_interruptible`], which honours
//! `Thread.interrupt()`.

use std::future::Future;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use jni::{JNIEnv, JavaVM};
use tokio::runtime::Runtime;

use crate::contract::java;
use crate::error::{JniError, Result};

/// How often a Java thread waiting in [`block_on_interruptible`] looks at its interrupt flag:
/// the longest an interrupt goes unnoticed. Java offers no hook to be told of an interrupt, and
/// one flag read per period costs nothing next to a wait that long.
const INTERRUPT_CHECK_PERIOD: Duration = Duration::from_millis(10);

static VM: OnceLock<JavaVM> = OnceLock::new();

thread_local! {
    /// True on the runtime's own threads, where blocking would stall the runtime.
    static RUNTIME_THREAD: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}
static RUNTIME: OnceLock<std::result::Result<Runtime, String>> = OnceLock::new();

/// Registers the JVM (from `JNI_OnLoad`).
pub(crate) fn set_vm(vm: JavaVM) {
    let _ = VM.set(vm);
}

/// The JVM, once the library is loaded.
pub(crate) fn vm() -> Option<&'static JavaVM> {
    VM.get()
}

/// The runtime, built on first use.
pub(crate) fn runtime() -> Result<&'static Runtime> {
    RUNTIME
        .get_or_init(build)
        .as_ref()
        .map_err(|message| JniError::IllegalState(format!("cannot start the Fluvio runtime: {message}")))
}

/// How long after a stream is disposed its freed memory is handed back to the system: the
/// stream's session task frees its buffers once it notices the close, and one trim covers
/// every stream closed meanwhile.
const TRIM_DELAY: Duration = Duration::from_millis(200);

/// Whether the library may hand freed memory back to the system (glibc's `malloc_trim`): on
/// unless `FLUVIO_MALLOC_TUNING` is `off`.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn may_trim() -> bool {
    static MAY_TRIM: OnceLock<bool> = OnceLock::new();
    *MAY_TRIM
        .get_or_init(|| !std::env::var("FLUVIO_MALLOC_TUNING").is_ok_and(|value| value.eq_ignore_ascii_case("off")))
}

/// Hands the memory freed by closed streams back to the system, shortly after the call.
///
/// glibc keeps freed blocks in its heaps for reuse, which is what makes fetching cheap: a
/// stream's ~1 MB fetch buffers are recycled instead of being mapped, faulted in and zeroed
/// again for every fetch (which a fixed `M_MMAP_THRESHOLD` below their size did, at the cost
/// of most of the consumer's throughput). The price is that memory a closed stream freed
/// stays resident; `malloc_trim` releases it. The trim runs on a blocking thread, at most once
/// per [`TRIM_DELAY`] however many streams close.
pub(crate) fn return_freed_memory_soon() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        use std::sync::atomic::AtomicBool;
        static SCHEDULED: AtomicBool = AtomicBool::new(false);
        if !may_trim() || SCHEDULED.swap(true, Ordering::AcqRel) {
            return;
        }
        let Ok(runtime) = runtime() else {
            SCHEDULED.store(false, Ordering::Release);
            return;
        };
        runtime.spawn(async {
            tokio::time::sleep(TRIM_DELAY).await;
            // Cleared first: a stream closed while the trim runs schedules another.
            SCHEDULED.store(false, Ordering::Release);
            let _ = tokio::task::spawn_blocking(|| {
                unsafe extern "C" {
                    fn malloc_trim(pad: usize) -> std::ffi::c_int;
                }
                // SAFETY: malloc_trim only returns free memory of glibc's heaps to the system;
                // any thread may call it at any time.
                unsafe { malloc_trim(0) };
            })
            .await;
        });
    }
}

fn build() -> std::result::Result<Runtime, String> {
    // Half the cores, 1 to 4, or FLUVIO_IO_THREADS (see fluvio_engine::config::io_threads).
    let workers = fluvio_engine::config::io_threads().map_err(|err| err.to_string())?;
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .thread_name_fn(|| {
            static NEXT: AtomicUsize = AtomicUsize::new(0);
            format!("fluvio-io-{}", NEXT.fetch_add(1, Ordering::Relaxed))
        })
        .on_thread_start(|| {
            RUNTIME_THREAD.with(|flag| flag.set(true));
            if let Some(vm) = VM.get() {
                // As daemons: the JVM must be able to exit while the runtime is idle.
                let _ = vm.attach_current_thread_as_daemon();
            }
        })
        .on_thread_stop(|| {
            if let Some(vm) = VM.get() {
                // SAFETY: the thread is ending; no JNI reference obtained on it outlives this point.
                unsafe { vm.detach_current_thread() };
            }
        })
        .enable_all()
        .build()
        .map_err(|e| e.to_string())
}

/// Runs `future` to completion on the runtime, blocking the calling Java thread.
pub(crate) fn block_on<F: Future>(future: F) -> Result<F::Output> {
    Ok(blocking_runtime()?.block_on(future))
}

/// Runs `future` on the runtime, blocking the calling Java thread until it completes or the
/// thread is interrupted (`Thread.interrupt()`): then `future` is dropped (so whatever it
/// waited for does not happen, e.g. a record waiting for queue space is not queued) and the
/// result is [`JniError::Interrupted`]; the thread's interrupt flag stays set. `waiting_for`
/// completes the message: "interrupted while waiting for ...".
pub(crate) fn block_on_interruptible<F: Future>(env: &mut JNIEnv, waiting_for: &str, future: F) -> Result<F::Output> {
    let runtime = blocking_runtime()?;
    // The future runs on this (Java) thread, so it may read the flag through `env`.
    runtime.block_on(async {
        let mut future = std::pin::pin!(future);
        loop {
            if let Ok(output) = tokio::time::timeout(INTERRUPT_CHECK_PERIOD, future.as_mut()).await {
                return Ok(output);
            }
            if is_interrupted(env)? {
                return Err(JniError::Interrupted(format!("interrupted while waiting for {waiting_for}")));
            }
        }
    })
}

/// Whether the calling Java thread's interrupt flag is set (left as it is).
fn is_interrupted(env: &mut JNIEnv) -> Result<bool> {
    Ok(env.with_local_frame(2, |env| -> jni::errors::Result<bool> {
        let thread = java::Thread::current_thread(env)?;
        Ok(java::Thread::is_interrupted(env, &thread)? != 0)
    })?)
}

/// The runtime, for a Java thread about to block on it; an error on the runtime's own threads.
fn blocking_runtime() -> Result<&'static Runtime> {
    if RUNTIME_THREAD.with(|flag| flag.get()) {
        return Err(JniError::IllegalState(
            "a blocking Fluvio call was made on a Fluvio I/O thread (for example inside a completion callback); \
             use the asynchronous variant or move the work to another thread"
                .into(),
        ));
    }
    runtime()
}
