//! Natives of `com.infinyon.fluvio.FluvioLogging`: the `tracing` events of the engine, the
//! embedded cluster and this library, and rustls's `log` records, handed to the JVM's logging.
//!
//! Each Rust crate logs under one Java logger ([`LOGGERS`]). Java sets the most verbose level
//! enabled for each (`nativeSetLevels`, when the library loads and on `FluvioLogging.refresh()`);
//! a callsite below it is disabled through `tracing`'s interest cache, so its events cost a
//! comparison and never cross into Java. An enabled event is formatted on the thread that emits
//! it and queued; one thread, `fluvio-log`, attached to the JVM as a daemon, hands the events to
//! Java in order. So no JNI call is made where engine code may hold a lock (an appender that
//! itself sends to Fluvio cannot deadlock), a thread that emits never has to attach, and a slow
//! appender never stalls the runtime: when the queue is full, events are dropped and counted,
//! and the count is logged once there is room again.

use std::fmt::{Debug, Write as _};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};

use jni::JNIEnv;
use jni::objects::{GlobalRef, JIntArray, JString};
use jni::sys::jint;
use tracing::field::{Field, Visit};
use tracing::level_filters::LevelFilter;
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing::{Event, Level, Metadata, Subscriber};

use crate::contract::levels::{LEVEL_DEBUG, LEVEL_ERROR, LEVEL_INFO, LEVEL_OFF, LEVEL_TRACE, LEVEL_WARN};
use crate::contract::{JavaString, ObjArray, java, natives};
use crate::convert::string_array;
use crate::error::{JniError, Result};

/// The Java loggers, and the Rust crates (target prefixes) each one logs for.
pub(crate) const LOGGERS: &[(&str, &[&str])] = &[
    ("com.infinyon.fluvio.engine", &["fluvio_engine"]),
    ("com.infinyon.fluvio.local", &["fluvio_local", "fluvio_log"]),
    ("com.infinyon.fluvio.transport", &["fluvio_transport", "fluvio_wire"]),
    // rustls logs through the `log` crate ([`LogBridge`]): the TLS handshakes of the client
    // and of the embedded cluster, step by step.
    ("com.infinyon.fluvio.tls", &["rustls"]),
    // Last: the dropped-events warning goes to this logger.
    ("com.infinyon.fluvio.jni", &["fluvio_jni", "fluvio_profile"]),
];

/// Events waiting for the `fluvio-log` thread.
const QUEUE_CAPACITY: usize = 4096;

/// The most verbose level enabled per logger (an index of [`LOGGERS`]); all off until Java
/// sets them.
static LEVELS: [AtomicU8; LOGGERS.len()] = [const { AtomicU8::new(LEVEL_OFF) }; LOGGERS.len()];
/// Events dropped because the queue was full, not reported yet.
static DROPPED: AtomicU64 = AtomicU64::new(0);
/// The queue to the `fluvio-log` thread, once started.
static QUEUE: OnceLock<Option<SyncSender<LogEvent>>> = OnceLock::new();

/// One event on its way to Java.
struct LogEvent {
    logger: usize,
    level: u8,
    message: String,
}

fn level_value(level: &Level) -> u8 {
    match *level {
        Level::ERROR => LEVEL_ERROR,
        Level::WARN => LEVEL_WARN,
        Level::INFO => LEVEL_INFO,
        Level::DEBUG => LEVEL_DEBUG,
        Level::TRACE => LEVEL_TRACE,
    }
}

/// The logger of a `tracing` target (`fluvio_engine::producer` → the engine's).
fn logger_of(target: &str) -> Option<usize> {
    let krate = target.split("::").next().unwrap_or(target);
    LOGGERS.iter().position(|(_, crates)| crates.contains(&krate))
}

/// Whether events at `level` of `target` go to Java.
fn is_enabled(target: &str, level: &Level) -> bool {
    enabled_logger(target, level_value(level)).is_some()
}

/// The logger of `target`, if events at `level` (`LEVEL_*`) go to Java.
fn enabled_logger(target: &str, level: u8) -> Option<usize> {
    logger_of(target).filter(|logger| level <= LEVELS[*logger].load(Ordering::Relaxed))
}

/// The most verbose level any logger has enabled (`LEVEL_*`).
fn most_verbose_level() -> u8 {
    LEVELS.iter().map(|level| level.load(Ordering::Relaxed)).max().unwrap_or(LEVEL_OFF)
}

/// The `tracing` subscriber: events of enabled callsites are queued for Java; spans are not
/// used.
struct JvmSubscriber;

impl Subscriber for JvmSubscriber {
    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        // Called again for every callsite by `rebuild_interest_cache` when levels change.
        if self.enabled(metadata) { Interest::always() } else { Interest::never() }
    }

    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.is_event() && is_enabled(metadata.target(), metadata.level())
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(match most_verbose_level() {
            LEVEL_OFF => LevelFilter::OFF,
            LEVEL_ERROR => LevelFilter::ERROR,
            LEVEL_WARN => LevelFilter::WARN,
            LEVEL_INFO => LevelFilter::INFO,
            LEVEL_DEBUG => LevelFilter::DEBUG,
            _ => LevelFilter::TRACE,
        })
    }

    fn new_span(&self, _: &Attributes<'_>) -> Id {
        // Never called: spans are disabled.
        Id::from_u64(1)
    }

    fn record(&self, _: &Id, _: &Record<'_>) {}

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let metadata = event.metadata();
        let Some(logger) = logger_of(metadata.target()) else { return };
        let mut text = EventText::default();
        event.record(&mut text);
        enqueue(LogEvent { logger, level: level_value(metadata.level()), message: text.finish() });
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}

/// Records of the `log` crate (rustls's), queued for Java as the `tracing` events are, under the
/// same levels.
struct LogBridge;

impl log::Log for LogBridge {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        enabled_logger(metadata.target(), log_level_value(metadata.level())).is_some()
    }

    fn log(&self, record: &log::Record<'_>) {
        let level = log_level_value(record.level());
        let Some(logger) = enabled_logger(record.target(), level) else { return };
        enqueue(LogEvent { logger, level, message: record.args().to_string() });
    }

    fn flush(&self) {}
}

fn log_level_value(level: log::Level) -> u8 {
    match level {
        log::Level::Error => LEVEL_ERROR,
        log::Level::Warn => LEVEL_WARN,
        log::Level::Info => LEVEL_INFO,
        log::Level::Debug => LEVEL_DEBUG,
        log::Level::Trace => LEVEL_TRACE,
    }
}

/// The `log` crate's global ceiling: the most verbose level of any logger, so that a disabled
/// record costs its caller one comparison.
fn log_max_level() -> log::LevelFilter {
    match most_verbose_level() {
        LEVEL_OFF => log::LevelFilter::Off,
        LEVEL_ERROR => log::LevelFilter::Error,
        LEVEL_WARN => log::LevelFilter::Warn,
        LEVEL_INFO => log::LevelFilter::Info,
        LEVEL_DEBUG => log::LevelFilter::Debug,
        _ => log::LevelFilter::Trace,
    }
}

/// An event as one line: its message, then its fields as `name=value`.
#[derive(Default)]
struct EventText {
    message: String,
    fields: String,
}

impl EventText {
    fn finish(mut self) -> String {
        if !self.fields.is_empty() {
            if !self.message.is_empty() {
                self.message.push(' ');
            }
            self.message.push_str(&self.fields);
        }
        self.message
    }

    fn field(&mut self, field: &Field) {
        if !self.fields.is_empty() {
            self.fields.push(' ');
        }
        self.fields.push_str(field.name());
        self.fields.push('=');
    }
}

impl Visit for EventText {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            self.field(field);
            self.fields.push_str(value);
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            self.field(field);
            let _ = write!(self.fields, "{value:?}");
        }
    }
}

/// Queues an event for Java; drops it (counted) when the queue is full.
fn enqueue(event: LogEvent) {
    let Some(Some(queue)) = QUEUE.get() else { return };
    match queue.try_send(event) {
        Ok(()) => {}
        Err(TrySendError::Full(_)) => {
            DROPPED.fetch_add(1, Ordering::Relaxed);
        }
        Err(TrySendError::Disconnected(_)) => {}
    }
}

/// Starts the `fluvio-log` thread and installs the subscriber, once. `None` when the thread
/// cannot start (events are then not forwarded).
fn start() -> Option<SyncSender<LogEvent>> {
    let (sender, receiver) = sync_channel(QUEUE_CAPACITY);
    std::thread::Builder::new().name("fluvio-log".into()).spawn(move || deliver_all(receiver)).ok()?;
    // Fails only when another global subscriber is installed (not in the JVM's library).
    let _ = tracing::subscriber::set_global_default(JvmSubscriber);
    // Fails only when another `log` logger is installed (likewise).
    let _ = log::set_logger(&LogBridge);
    Some(sender)
}

/// The `fluvio-log` thread: hands every queued event to `FluvioLogging.log`.
fn deliver_all(events: Receiver<LogEvent>) {
    let Some(vm) = crate::runtime::vm() else { return };
    // As a daemon: the JVM must be able to exit while this thread waits. It lives as long as
    // the library, so it never detaches.
    let Ok(mut env) = vm.attach_current_thread_as_daemon() else { return };
    let Ok(loggers) = logger_names(&mut env) else { return };
    while let Ok(event) = events.recv() {
        let dropped = DROPPED.swap(0, Ordering::Relaxed);
        if dropped > 0 {
            let message = format!("{dropped} log events were dropped: the JVM's logging did not keep up");
            deliver(&mut env, &loggers[LOGGERS.len() - 1], LEVEL_WARN, &message);
        }
        deliver(&mut env, &loggers[event.logger], event.level, &event.message);
    }
}

/// The Java strings of the loggers' names, made once.
fn logger_names(env: &mut JNIEnv) -> jni::errors::Result<Vec<GlobalRef>> {
    LOGGERS
        .iter()
        .map(|(name, _)| {
            let local = env.new_string(name)?;
            let global = env.new_global_ref(&local)?;
            env.delete_local_ref(local)?;
            Ok(global)
        })
        .collect()
}

/// Calls `FluvioLogging.log`; whatever the logging backend throws is dropped (logging must not
/// fail the caller, and there is none here to report it to).
fn deliver(env: &mut JNIEnv, logger: &GlobalRef, level: u8, message: &str) {
    let outcome = env.with_local_frame(4, |env| -> jni::errors::Result<()> {
        let message = env.new_string(message)?;
        java::FluvioLogging::log(env, <&JString>::from(logger.as_obj()), jint::from(level), &message)
    });
    if outcome.is_err() || env.exception_check().unwrap_or(false) {
        let _ = env.exception_clear();
    }
}

/// Sets the most verbose level enabled for each logger (in the order of `nativeLoggerNames`),
/// then has `tracing` ask every callsite again.
fn set_levels(env: &mut JNIEnv, levels: &JIntArray) -> Result<()> {
    let values = crate::convert::int_array(env, levels, "levels")?;
    if values.len() != LOGGERS.len() {
        return Err(JniError::IllegalArgument(format!("{} levels for {} loggers", values.len(), LOGGERS.len())));
    }
    for (slot, value) in LEVELS.iter().zip(values) {
        let value = u8::try_from(value)
            .ok()
            .filter(|v| *v <= LEVEL_TRACE)
            .ok_or_else(|| JniError::IllegalArgument(format!("not a level: {value}")))?;
        slot.store(value, Ordering::Relaxed);
    }
    QUEUE.get_or_init(start);
    tracing::callsite::rebuild_interest_cache();
    log::set_max_level(log_max_level());
    Ok(())
}

natives! {
    class = java::FluvioLogging;

    /// The Java loggers' names, in the order `nativeSetLevels` takes their levels.
    fn nativeLoggerNames(env) -> ObjArray<'local, JavaString> {
        let names: Vec<&str> = LOGGERS.iter().map(|(name, _)| *name).collect();
        string_array(env, &names)
    }

    /// The most verbose level enabled for each logger (`LEVEL_*`).
    fn nativeSetLevels(env, levels: JIntArray<'local>) {
        set_levels(env, &levels)
    }

    /// Emits one event at each level, under the engine's logger (`logger` 0) or this library's
    /// (any other), each with the field `marker`: for the tests of levels and of the order of
    /// events. Package-private in Java.
    fn nativeEmitTestEvents(env, logger: jint, marker: JString<'local>) {
        let marker = crate::convert::string(env, &marker, "marker")?;
        emit_test_events(logger, &marker);
        Ok(())
    }
}

/// One event at each level, from the JNI crate's target or the engine's.
fn emit_test_events(logger: jint, marker: &str) {
    if logger == 0 {
        tracing::trace!(target: "fluvio_engine::test", marker, "test event");
        tracing::debug!(target: "fluvio_engine::test", marker, "test event");
        tracing::info!(target: "fluvio_engine::test", marker, "test event");
        tracing::warn!(target: "fluvio_engine::test", marker, "test event");
        tracing::error!(target: "fluvio_engine::test", marker, "test event");
    } else {
        tracing::trace!(marker, "test event");
        tracing::debug!(marker, "test event");
        tracing::info!(marker, "test event");
        tracing::warn!(marker, "test event");
        tracing::error!(marker, "test event");
    }
}
