//! Errors crossing into Java. Every export runs through [`run`]: a Rust error becomes a typed
//! Java exception, a panic becomes `FluvioException(INTERNAL)`, and nothing unwinds into the
//! JVM. Engine error kinds map to `FluvioException.Code` names through one table,
//! [`code_name`].

use std::panic::AssertUnwindSafe;

use fluvio_engine::{ErrorKind, TlsFailure};
use fluvio_local::ClusterError;
use jni::JNIEnv;
use jni::objects::{JObject, JString};

use crate::contract::java;

/// A failure of a native method.
#[derive(Debug)]
pub(crate) enum JniError {
    /// An engine failure: thrown as `FluvioException` with the kind's code.
    Engine(fluvio_engine::Error),
    /// The embedded cluster failed: `FluvioException(LOCAL_CLUSTER)` whose
    /// `clusterFailure()` is `failure` (a `FluvioException.ClusterFailure` name).
    Cluster {
        /// The `ClusterFailure` constant.
        failure: &'static str,
        /// What went wrong.
        message: String,
    },
    /// `IllegalArgumentException`.
    IllegalArgument(String),
    /// `IllegalStateException`.
    IllegalState(String),
    /// The calling Java thread was interrupted while it waited: `FluvioException(INTERRUPTED)`.
    Interrupted(String),
    /// A Rust panic: `FluvioException(INTERNAL)`.
    Panic(String),
    /// A JNI call failed; when a Java exception is pending it is kept as is.
    Jni(jni::errors::Error),
}

/// Result of native code.
pub(crate) type Result<T> = std::result::Result<T, JniError>;

impl From<fluvio_engine::Error> for JniError {
    fn from(err: fluvio_engine::Error) -> Self {
        JniError::Engine(err)
    }
}

impl From<jni::errors::Error> for JniError {
    fn from(err: jni::errors::Error) -> Self {
        JniError::Jni(err)
    }
}

impl From<fluvio_local::ClusterError> for JniError {
    fn from(err: fluvio_local::ClusterError) -> Self {
        JniError::Cluster { failure: cluster_failure_name(&err), message: err.to_string() }
    }
}

impl JniError {
    /// A `LOCAL_CLUSTER` failure of the data directory.
    pub(crate) fn cluster_storage(message: impl Into<String>) -> Self {
        JniError::Cluster { failure: CLUSTER_STORAGE, message: message.into() }
    }
}

/// `ClusterFailure`s also used outside [`ClusterError`].
const CLUSTER_STORAGE: &str = "STORAGE";
const CLUSTER_INVALID_CONFIG: &str = "INVALID_CONFIG";

/// The `FluvioException.ClusterFailure` constant for a cluster error: the third table, checked
/// like the others.
pub(crate) fn cluster_failure_name(err: &ClusterError) -> &'static str {
    match err {
        ClusterError::InvalidConfig(_) => CLUSTER_INVALID_CONFIG,
        ClusterError::Bind { .. } => "BIND",
        ClusterError::DirectoryInUse { .. } => "DIRECTORY_IN_USE",
        ClusterError::Storage(_) => CLUSTER_STORAGE,
        ClusterError::NotReady(_) => "NOT_READY",
        ClusterError::UnknownSpu(_) => "UNKNOWN_SPU",
        ClusterError::SpuRunning(_) => "SPU_RUNNING",
        ClusterError::SpuNotReady { .. } => "SPU_NOT_READY",
        ClusterError::Internal(_) => "INTERNAL",
    }
}

/// Every cluster failure name (for the cross-language consistency test).
pub(crate) fn all_cluster_failure_names() -> Vec<&'static str> {
    let examples = [
        ClusterError::InvalidConfig(String::new()),
        ClusterError::Bind { what: String::new(), addr: String::new(), source: std::io::Error::other("") },
        ClusterError::DirectoryInUse { path: std::path::PathBuf::new(), holder: None },
        ClusterError::Storage(String::new()),
        ClusterError::NotReady(std::time::Duration::ZERO),
        ClusterError::UnknownSpu(0),
        ClusterError::SpuRunning(0),
        ClusterError::SpuNotReady { id: 0, timeout: std::time::Duration::ZERO },
        ClusterError::Internal(String::new()),
    ];
    examples.iter().map(cluster_failure_name).collect()
}

/// The `FluvioException.Code` constant for an engine error kind. The one mapping table: a
/// test checks that every kind has its own code and that Java knows every code.
pub(crate) fn code_name(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Config => "CONFIG",
        ErrorKind::Profile => "PROFILE",
        ErrorKind::Connect => "CONNECT",
        ErrorKind::ConnectTimeout => "CONNECT_TIMEOUT",
        ErrorKind::Tls => "TLS",
        ErrorKind::Timeout => "TIMEOUT",
        ErrorKind::ConnectionClosed => "CONNECTION_CLOSED",
        ErrorKind::IncompatibleServer => "INCOMPATIBLE_SERVER",
        ErrorKind::Protocol => "PROTOCOL",
        ErrorKind::TopicNotFound => "TOPIC_NOT_FOUND",
        ErrorKind::TopicAlreadyExists => "TOPIC_ALREADY_EXISTS",
        ErrorKind::InvalidTopicName => "INVALID_TOPIC_NAME",
        ErrorKind::InvalidTopicConfig => "INVALID_TOPIC_CONFIG",
        ErrorKind::TopicNotProvisioned => "TOPIC_NOT_PROVISIONED",
        ErrorKind::PartitionNotFound => "PARTITION_NOT_FOUND",
        ErrorKind::NotLeader => "NOT_LEADER",
        ErrorKind::RecordTooLarge => "RECORD_TOO_LARGE",
        ErrorKind::Compression => "COMPRESSION",
        ErrorKind::OffsetOutOfRange => "OFFSET_OUT_OF_RANGE",
        ErrorKind::OffsetEvicted => "OFFSET_EVICTED",
        ErrorKind::TopicDeleted => "TOPIC_DELETED",
        ErrorKind::CorruptData => "CORRUPT_DATA",
        ErrorKind::StorageFull => "STORAGE_FULL",
        ErrorKind::Storage => "STORAGE",
        ErrorKind::ConsumerNotFound => "CONSUMER_NOT_FOUND",
        ErrorKind::InvalidConsumerName => "INVALID_CONSUMER_NAME",
        ErrorKind::OffsetManagementDisabled => "OFFSET_MANAGEMENT_DISABLED",
        ErrorKind::Closed => "CLOSED",
        ErrorKind::Server => "SERVER",
        ErrorKind::Internal => "INTERNAL",
        // A kind added to the engine without a code here: the test below fails.
        _ => "INTERNAL",
    }
}

/// The `FluvioException.TlsFailure` constant for an engine TLS failure: the second table,
/// checked the same way as [`code_name`].
pub(crate) fn tls_failure_name(failure: TlsFailure) -> &'static str {
    match failure {
        TlsFailure::UnknownIssuer => "UNKNOWN_ISSUER",
        TlsFailure::NameMismatch => "NAME_MISMATCH",
        TlsFailure::Expired => "EXPIRED",
        TlsFailure::NotYetValid => "NOT_YET_VALID",
        TlsFailure::BadCertificate => "BAD_CERTIFICATE",
        TlsFailure::ClientCertificateRequired => "CLIENT_CERTIFICATE_REQUIRED",
        TlsFailure::ClientCertificateRejected => "CLIENT_CERTIFICATE_REJECTED",
        TlsFailure::ServerNotTls => "SERVER_NOT_TLS",
        TlsFailure::ServerRequiresTls => "SERVER_REQUIRES_TLS",
        TlsFailure::Handshake => "HANDSHAKE",
        // A failure added to the engine without a name here: the test below fails.
        _ => "HANDSHAKE",
    }
}

/// Every TLS failure name native code can report (for the cross-language consistency test).
pub(crate) fn all_tls_failure_names() -> Vec<&'static str> {
    TlsFailure::ALL.iter().map(|f| tls_failure_name(*f)).collect()
}

/// Codes that do not come from an engine kind.
pub(crate) const LOCAL_CLUSTER_CODE: &str = "LOCAL_CLUSTER";
const INTERRUPTED_CODE: &str = "INTERRUPTED";
const INTERNAL_CODE: &str = "INTERNAL";

/// Every code native code can throw (for the cross-language consistency test).
pub(crate) fn all_code_names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = ErrorKind::ALL.iter().map(|k| code_name(*k)).collect();
    names.push(LOCAL_CLUSTER_CODE);
    names.push(INTERRUPTED_CODE);
    names
}

/// Runs the body of a native method: returns its value, or throws and returns `default`.
pub(crate) fn run<'local, T>(
    env: &mut JNIEnv<'local>,
    default: T,
    body: impl FnOnce(&mut JNIEnv<'local>) -> Result<T>,
) -> T {
    let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| body(env)));
    match outcome {
        Ok(Ok(value)) => value,
        Ok(Err(err)) => {
            throw(env, err);
            default
        }
        Err(panic) => {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_string());
            throw(env, JniError::Panic(message));
            default
        }
    }
}

/// Throws `err` as the matching Java exception, unless one is already pending.
pub(crate) fn throw(env: &mut JNIEnv, err: JniError) {
    if env.exception_check().unwrap_or(false) {
        return;
    }
    let result = match &err {
        JniError::Engine(engine) => throw_fluvio(
            env,
            code_name(engine.kind()),
            &engine.to_string(),
            engine.is_retriable(),
            engine.tls_failure().map(tls_failure_name),
            None,
        ),
        JniError::Cluster { failure, message } => {
            throw_fluvio(env, LOCAL_CLUSTER_CODE, message, false, None, Some(failure))
        }
        JniError::Interrupted(message) => throw_fluvio(env, INTERRUPTED_CODE, message, false, None, None),
        JniError::IllegalArgument(message) => env.throw_new("java/lang/IllegalArgumentException", message),
        JniError::IllegalState(message) => env.throw_new("java/lang/IllegalStateException", message),
        JniError::Panic(message) => throw_fluvio(
            env,
            INTERNAL_CODE,
            &format!("internal error (panic in native code): {message}"),
            false,
            None,
            None,
        ),
        JniError::Jni(jni::errors::Error::JavaException) => return,
        JniError::Jni(other) => throw_fluvio(env, INTERNAL_CODE, &format!("JNI failure: {other}"), false, None, None),
    };
    if result.is_err() && !env.exception_check().unwrap_or(false) {
        // Creating the exception failed (e.g. out of memory) without a pending exception:
        // fall back to the simplest throwable there is.
        if env.throw_new("java/lang/RuntimeException", format!("{err:?}")).is_err() {
            env.fatal_error("fluvio: cannot throw an exception into the JVM");
        }
    }
}

fn throw_fluvio(
    env: &mut JNIEnv,
    code: &str,
    message: &str,
    retriable: bool,
    tls: Option<&str>,
    cluster: Option<&str>,
) -> jni::errors::Result<()> {
    let exception = new_fluvio_exception(env, code, message, retriable, tls, cluster)?;
    env.throw(jni::objects::JThrowable::from(exception))
}

/// A new `FluvioException(code, message, retriable, tlsFailure, clusterFailure)`; the last two
/// are the names of the failure details, or null.
pub(crate) fn new_fluvio_exception<'local>(
    env: &mut JNIEnv<'local>,
    code: &str,
    message: &str,
    retriable: bool,
    tls: Option<&str>,
    cluster: Option<&str>,
) -> jni::errors::Result<JObject<'local>> {
    let code = env.new_string(code)?;
    let message = env.new_string(message)?;
    let tls = optional_string(env, tls)?;
    let cluster = optional_string(env, cluster)?;
    let exception = java::FluvioException::new(env, &code, &message, u8::from(retriable), &tls, &cluster)?;
    Ok(exception.into_object())
}

/// A Java string, or null.
fn optional_string<'local>(env: &mut JNIEnv<'local>, value: Option<&str>) -> jni::errors::Result<JString<'local>> {
    Ok(match value {
        Some(value) => env.new_string(value)?,
        None => JString::default(),
    })
}

/// Compares the names of the three tables with the Java enums `FluvioException.Code`,
/// `TlsFailure` and `ClusterFailure` (part of the contract checked when the library
/// initializes; `ErrorCodesTest` checks the same from Java).
pub(crate) fn verify_names(env: &mut JNIEnv) -> Vec<String> {
    let mut problems =
        crate::contract::verify_names(env, "com/infinyon/fluvio/FluvioException$Code", &all_code_names());
    problems.extend(crate::contract::verify_names(
        env,
        "com/infinyon/fluvio/FluvioException$TlsFailure",
        &all_tls_failure_names(),
    ));
    problems.extend(crate::contract::verify_names(
        env,
        "com/infinyon/fluvio/FluvioException$ClusterFailure",
        &all_cluster_failure_names(),
    ));
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_engine_kind_has_its_own_code() {
        let mut codes: Vec<&str> = ErrorKind::ALL.iter().map(|k| code_name(*k)).collect();
        assert!(codes.iter().filter(|c| **c == "INTERNAL").count() == 1, "only Internal maps to INTERNAL");
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), ErrorKind::ALL.len(), "codes are distinct");
        assert_eq!(code_name(ErrorKind::TopicNotProvisioned), "TOPIC_NOT_PROVISIONED");
        assert!(!all_code_names().is_empty());
    }

    #[test]
    fn every_cluster_error_has_its_own_failure_name() {
        let mut names = all_cluster_failure_names();
        let count = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), count, "names are distinct");
    }

    #[test]
    fn every_tls_failure_has_its_own_name() {
        let mut names = all_tls_failure_names();
        assert_eq!(names.iter().filter(|n| **n == "HANDSHAKE").count(), 1, "only Handshake maps to HANDSHAKE");
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), TlsFailure::ALL.len(), "names are distinct");
    }
}
