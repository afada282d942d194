//! The engine's one error type: a stable [`ErrorKind`] plus context, with a `retriable`
//! predicate. Bindings map kinds to their own codes; tests assert on kinds, never on messages.

use std::fmt;
use std::sync::Arc;

use fluvio_wire::ErrorCode;

/// The category of a failure. Stable: bindings map every kind to a code of their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum ErrorKind {
    /// An invalid configuration value or argument.
    Config,
    /// The profile file is missing or invalid, or names no usable profile.
    Profile,
    /// A connection could not be established (refused, unreachable).
    Connect,
    /// Establishing a connection took longer than the connect timeout.
    ConnectTimeout,
    /// TLS could not be established: the handshake failed or was refused (certificates,
    /// names, client authentication), or one side speaks TLS and the other does not.
    /// [`Error::tls_failure`] says what went wrong. Not retriable: the cause is in settings or
    /// certificates, which a retry does not change.
    Tls,
    /// The server did not answer within the request timeout, or a wait (such as a full
    /// producer queue) exceeded its limit.
    Timeout,
    /// The connection broke while a request or stream was in flight.
    ConnectionClosed,
    /// The server does not support the protocol versions this client speaks.
    IncompatibleServer,
    /// The server sent something this client cannot decode.
    Protocol,
    /// The topic does not exist.
    TopicNotFound,
    /// The topic already exists.
    TopicAlreadyExists,
    /// The topic name is not valid.
    InvalidTopicName,
    /// The topic configuration is not valid.
    InvalidTopicConfig,
    /// The topic was created but cannot be placed: its replication factor exceeds the SPUs
    /// online. The cluster keeps it with the status `InsufficientResources` and places it once
    /// enough SPUs are online (delete it if it is not wanted). Also what an SC answers when a
    /// new topic's partitions did not come online within its provisioning wait.
    TopicNotProvisioned,
    /// The partition does not exist.
    PartitionNotFound,
    /// The SPU addressed is not (or no longer) the partition's leader.
    NotLeader,
    /// A record or batch exceeds a size limit.
    RecordTooLarge,
    /// The server refused the batch compression.
    Compression,
    /// The offset lies beyond the end of the partition.
    OffsetOutOfRange,
    /// The offset was removed by retention.
    OffsetEvicted,
    /// The topic was deleted while in use.
    TopicDeleted,
    /// The server found a stored record batch damaged (it does not match its CRC-32C, or its
    /// header is broken) and refused to serve it; the message names the partition and
    /// offset. Not retriable: the same copy stays damaged. A replicated partition serves the
    /// records again once a replica holding an intact copy leads it.
    CorruptData,
    /// The partition's storage is full (the server's disk, or its quota): nothing was stored.
    /// Not retried by producers: retrying only helps once space was freed on the server,
    /// which the partition's status shows (`OutOfStorage` while it lasts).
    StorageFull,
    /// The server cannot store or read the partition's data: its files are damaged, an I/O
    /// error, or the cluster's metadata could not be written. Not retriable: it needs the
    /// server's operator.
    Storage,
    /// A named consumer has no offset stored (for what was asked: any partition, a topic or
    /// one partition).
    ConsumerNotFound,
    /// A consumer name that cannot be used (see
    /// [`ConsumerConfig::check_consumer_id`](crate::ConsumerConfig::check_consumer_id)).
    InvalidConsumerName,
    /// `commit` or `flush` on a stream that stores no offsets: it has no consumer name, or its
    /// offset strategy is `None` (the official client's `OffsetManagementDisabled`).
    OffsetManagementDisabled,
    /// The client, producer or stream was closed.
    Closed,
    /// Any other error reported by the server.
    Server,
    /// A bug in this library.
    Internal,
}

impl ErrorKind {
    /// Every kind (for exhaustive mapping tests in bindings).
    pub const ALL: [ErrorKind; 30] = [
        ErrorKind::Config,
        ErrorKind::Profile,
        ErrorKind::Connect,
        ErrorKind::ConnectTimeout,
        ErrorKind::Tls,
        ErrorKind::Timeout,
        ErrorKind::ConnectionClosed,
        ErrorKind::IncompatibleServer,
        ErrorKind::Protocol,
        ErrorKind::TopicNotFound,
        ErrorKind::TopicAlreadyExists,
        ErrorKind::InvalidTopicName,
        ErrorKind::InvalidTopicConfig,
        ErrorKind::TopicNotProvisioned,
        ErrorKind::PartitionNotFound,
        ErrorKind::NotLeader,
        ErrorKind::RecordTooLarge,
        ErrorKind::Compression,
        ErrorKind::OffsetOutOfRange,
        ErrorKind::OffsetEvicted,
        ErrorKind::TopicDeleted,
        ErrorKind::CorruptData,
        ErrorKind::StorageFull,
        ErrorKind::Storage,
        ErrorKind::ConsumerNotFound,
        ErrorKind::InvalidConsumerName,
        ErrorKind::OffsetManagementDisabled,
        ErrorKind::Closed,
        ErrorKind::Server,
        ErrorKind::Internal,
    ];

    /// Whether retrying the same operation may succeed.
    pub fn is_retriable(self) -> bool {
        matches!(
            self,
            ErrorKind::Connect
                | ErrorKind::ConnectTimeout
                | ErrorKind::Timeout
                | ErrorKind::ConnectionClosed
                | ErrorKind::NotLeader
        )
    }
}

/// What went wrong in establishing TLS, as far as the client can tell. Carried by
/// [`ErrorKind::Tls`] errors ([`Error::tls_failure`]), so code that cares can tell a wrong CA
/// from a wrong port. None of these is retriable: they come from certificates or settings,
/// which a retry does not change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TlsFailure {
    /// The server's certificate is not signed by the configured CA.
    UnknownIssuer,
    /// The server's certificate does not name the server name the client expected: the
    /// profile's `domain` for the SC, `<spu-name>.<domain>` for an SPU.
    NameMismatch,
    /// The server's certificate has expired.
    Expired,
    /// The server's certificate is not valid yet.
    NotYetValid,
    /// Another problem with the server's certificate (revoked, badly encoded, wrong purpose,
    /// bad signature).
    BadCertificate,
    /// The server requires a client certificate and none is configured.
    ClientCertificateRequired,
    /// The server refused the client certificate (unknown CA, expired, unsuitable).
    ClientCertificateRejected,
    /// TLS is configured but the server does not speak TLS: it closed the connection, sent
    /// something else during the handshake, or did not answer it within the handshake timeout
    /// (a plain Fluvio server waits silently for the rest of what it reads as a frame).
    ServerNotTls,
    /// TLS is disabled but the server speaks TLS (it answered with a TLS record).
    ServerRequiresTls,
    /// Any other handshake failure (no common protocol version or cipher suite, an alert).
    Handshake,
}

impl TlsFailure {
    /// Every failure (for exhaustive mapping tests in bindings).
    pub const ALL: [TlsFailure; 10] = [
        TlsFailure::UnknownIssuer,
        TlsFailure::NameMismatch,
        TlsFailure::Expired,
        TlsFailure::NotYetValid,
        TlsFailure::BadCertificate,
        TlsFailure::ClientCertificateRequired,
        TlsFailure::ClientCertificateRejected,
        TlsFailure::ServerNotTls,
        TlsFailure::ServerRequiresTls,
        TlsFailure::Handshake,
    ];

    /// A sentence for messages.
    pub fn describe(self) -> &'static str {
        match self {
            TlsFailure::UnknownIssuer => "the server's certificate is not signed by the configured CA",
            TlsFailure::NameMismatch => "the server's certificate is not valid for the expected server name",
            TlsFailure::Expired => "the server's certificate has expired",
            TlsFailure::NotYetValid => "the server's certificate is not valid yet",
            TlsFailure::BadCertificate => "the server's certificate is unusable",
            TlsFailure::ClientCertificateRequired => "the server requires a client certificate and none is configured",
            TlsFailure::ClientCertificateRejected => "the server refused the client certificate",
            TlsFailure::ServerNotTls => "the server does not speak TLS (is TLS enabled on it?)",
            TlsFailure::ServerRequiresTls => "the server speaks TLS but TLS is disabled in this client's settings",
            TlsFailure::Handshake => "the TLS handshake failed",
        }
    }
}

/// An engine failure. Cheap to clone, so one failure can be handed to every record of a batch.
#[derive(Clone)]
pub struct Error {
    inner: Arc<Inner>,
}

struct Inner {
    kind: ErrorKind,
    message: String,
    server_code: Option<ErrorCode>,
    tls: Option<TlsFailure>,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

/// Result with the engine's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A new error.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self { inner: Arc::new(Inner { kind, message: message.into(), server_code: None, tls: None, source: None }) }
    }

    /// A new error with an underlying cause.
    pub fn with_source(
        kind: ErrorKind,
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                kind,
                message: message.into(),
                server_code: None,
                tls: None,
                source: Some(Box::new(source)),
            }),
        }
    }

    /// The error a server's error code stands for, with `context` (e.g. the topic).
    pub fn from_server(code: ErrorCode, context: impl Into<String>) -> Self {
        let context = context.into();
        let kind = kind_of_code(&code);
        let message = if context.is_empty() { code.describe() } else { format!("{context}: {}", code.describe()) };
        Self { inner: Arc::new(Inner { kind, message, server_code: Some(code), tls: None, source: None }) }
    }

    /// The error a server's error code stands for, with the server's own message.
    pub fn from_server_message(code: ErrorCode, message: impl Into<String>) -> Self {
        let kind = kind_of_code(&code);
        Self {
            inner: Arc::new(Inner { kind, message: message.into(), server_code: Some(code), tls: None, source: None }),
        }
    }

    /// A failure to establish TLS: an [`ErrorKind::Tls`] error carrying `failure`.
    pub fn tls(
        failure: TlsFailure,
        message: impl Into<String>,
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                kind: ErrorKind::Tls,
                message: message.into(),
                server_code: None,
                tls: Some(failure),
                source,
            }),
        }
    }

    /// What went wrong in establishing TLS, when that is why the connection failed.
    pub fn tls_failure(&self) -> Option<TlsFailure> {
        self.inner.tls
    }

    /// The category.
    pub fn kind(&self) -> ErrorKind {
        self.inner.kind
    }

    /// The error code the server sent, when the error came from a server.
    pub fn server_code(&self) -> Option<&ErrorCode> {
        self.inner.server_code.as_ref()
    }

    /// The message, without the kind.
    pub fn message(&self) -> &str {
        &self.inner.message
    }

    /// Whether retrying may succeed.
    pub fn is_retriable(&self) -> bool {
        if self.inner.tls.is_some() {
            return false;
        }
        if let Some(code) = &self.inner.server_code
            && matches!(
                code,
                ErrorCode::TopicPendingInitialization
                    | ErrorCode::PartitionPendingInitialization
                    | ErrorCode::SpuOffline
                    | ErrorCode::RequestTimedOut { .. }
            )
        {
            return true;
        }
        self.inner.kind.is_retriable()
    }

    pub(crate) fn config(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Config, message)
    }

    pub(crate) fn closed(what: &str) -> Self {
        Self::new(ErrorKind::Closed, format!("{what} is closed"))
    }

    pub(crate) fn protocol(message: impl Into<String>, source: fluvio_wire::DecodeError) -> Self {
        Self::with_source(ErrorKind::Protocol, message, source)
    }
}

/// The kind a server error code maps to.
pub(crate) fn kind_of_code(code: &ErrorCode) -> ErrorKind {
    match code {
        ErrorCode::TopicNotFound => ErrorKind::TopicNotFound,
        ErrorCode::TopicAlreadyExists => ErrorKind::TopicAlreadyExists,
        ErrorCode::TopicInvalidName => ErrorKind::InvalidTopicName,
        ErrorCode::TopicInvalidConfiguration | ErrorCode::TopicInvalidReplicaType => ErrorKind::InvalidTopicConfig,
        ErrorCode::TopicNotProvisioned => ErrorKind::TopicNotProvisioned,
        ErrorCode::NotLeaderForPartition | ErrorCode::PartitionNotLeader => ErrorKind::NotLeader,
        ErrorCode::MessageTooLarge => ErrorKind::RecordTooLarge,
        ErrorCode::CompressionError => ErrorKind::Compression,
        ErrorCode::OffsetOutOfRange => ErrorKind::OffsetOutOfRange,
        ErrorCode::OffsetEvicted { .. } => ErrorKind::OffsetEvicted,
        ErrorCode::TopicDeleted => ErrorKind::TopicDeleted,
        ErrorCode::PartitionFull { .. } => ErrorKind::StorageFull,
        ErrorCode::StorageError => ErrorKind::Storage,
        ErrorCode::RequestTimedOut { .. } => ErrorKind::Timeout,
        ErrorCode::OffsetManagementDisabled => ErrorKind::OffsetManagementDisabled,
        ErrorCode::Other(message) if message.contains("greater than leo") => ErrorKind::OffsetOutOfRange,
        code if code.is_corrupt_batch() => ErrorKind::CorruptData,
        _ => ErrorKind::Server,
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.inner.message)?;
        if let Some(source) = &self.inner.source {
            write!(f, ": {source}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Error({:?}: {self})", self.inner.kind)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.inner.source.as_ref().map(|s| s.as_ref() as &(dyn std::error::Error + 'static))
    }
}

impl From<fluvio_profile::ProfileError> for Error {
    fn from(err: fluvio_profile::ProfileError) -> Self {
        Error::with_source(ErrorKind::Profile, "cannot use the profile", err)
    }
}

impl From<fluvio_wire::EncodeError> for Error {
    fn from(err: fluvio_wire::EncodeError) -> Self {
        match err {
            fluvio_wire::EncodeError::StringTooLong(_) | fluvio_wire::EncodeError::TooManyElements(_) => {
                Error::with_source(ErrorKind::Config, "value too large for the protocol", err)
            }
            _ => Error::with_source(ErrorKind::RecordTooLarge, "cannot encode", err),
        }
    }
}

#[cfg(test)]
mod tests {
    use fluvio_wire::error_code::ReplicaKey;

    use super::*;

    #[test]
    fn server_codes_map_to_kinds() {
        assert_eq!(Error::from_server(ErrorCode::TopicNotFound, "t").kind(), ErrorKind::TopicNotFound);
        assert_eq!(Error::from_server(ErrorCode::PartitionNotLeader, "").kind(), ErrorKind::NotLeader);
        assert!(Error::from_server(ErrorCode::NotLeaderForPartition, "").is_retriable());
        assert!(!Error::from_server(ErrorCode::TopicAlreadyExists, "").is_retriable());
        assert!(Error::from_server(ErrorCode::SpuOffline, "").is_retriable());
        assert_eq!(Error::from_server(ErrorCode::StorageError, "").kind(), ErrorKind::Storage);
        let unplaced = Error::from_server(ErrorCode::TopicNotProvisioned, "t");
        assert_eq!(unplaced.kind(), ErrorKind::TopicNotProvisioned);
        assert!(!unplaced.is_retriable(), "more SPUs are needed, not a retry");
        let full = Error::from_server(ErrorCode::PartitionFull { replica_key: ReplicaKey::new("t", 0) }, "t-0");
        assert_eq!(full.kind(), ErrorKind::StorageFull);
        assert!(!full.is_retriable(), "a full disk is not retried for minutes");
        assert!(!Error::from_server(ErrorCode::StorageError, "").is_retriable());
        let corrupt = Error::from_server(ErrorCode::corrupt_batch(&ReplicaKey::new("t", 0), 7, "CRC"), "t-0");
        assert_eq!(corrupt.kind(), ErrorKind::CorruptData);
        assert!(!corrupt.is_retriable());
        let out_of_order = Error::from_server(ErrorCode::out_of_order_sequence("expected 2, got 4"), "t-0");
        assert_eq!(out_of_order.kind(), ErrorKind::Server);
        assert!(!out_of_order.is_retriable());
    }

    #[test]
    fn all_lists_every_kind_once() {
        let mut kinds = ErrorKind::ALL.to_vec();
        kinds.sort();
        kinds.dedup();
        assert_eq!(kinds.len(), ErrorKind::ALL.len());
        let mut failures: Vec<String> = TlsFailure::ALL.iter().map(|f| format!("{f:?}")).collect();
        failures.sort();
        failures.dedup();
        assert_eq!(failures.len(), TlsFailure::ALL.len());
    }

    #[test]
    fn tls_failures_are_their_own_kind_and_never_retriable() {
        for failure in TlsFailure::ALL {
            let err = Error::tls(failure, failure.describe(), None);
            assert_eq!(err.kind(), ErrorKind::Tls);
            assert_eq!(err.tls_failure(), Some(failure));
            assert!(!err.is_retriable());
        }
        assert!(!ErrorKind::Tls.is_retriable());
    }
}
