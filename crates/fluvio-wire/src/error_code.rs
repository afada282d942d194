//! `ErrorCode`: the protocol's error value (an i16 tag followed by the variant's payload).
//! Every tag the official 0.50 servers can send is known here, so no official response is
//! undecodable because of its error code.

use crate::record::VarBytes;
use crate::wire_struct;
use crate::wire_unit_enum;

wire_struct! {
    /// A topic partition, as carried in errors and consumer-offset messages.
    #[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
    pub struct ReplicaKey {
        /// Topic name.
        pub topic: String,
        /// Partition index.
        pub partition: u32,
    }
}

impl ReplicaKey {
    /// A new key.
    pub fn new(topic: impl Into<String>, partition: u32) -> Self {
        Self { topic: topic.into(), partition }
    }
}

impl std::fmt::Display for ReplicaKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.topic, self.partition)
    }
}

wire_unit_enum! {
    /// The kind of request that timed out (only Produce exists).
    pub enum RequestKind: u8 {
        /// A produce request.
        #[default]
        Produce = 0,
    }
}

wire_unit_enum! {
    /// The kind of SmartModule in a runtime error.
    pub enum SmartModuleKindTag: u8 {
        /// Filter.
        #[default]
        Filter = 0,
        /// Map.
        Map = 1,
        /// ArrayMap.
        ArrayMap = 2,
        /// Aggregate.
        Aggregate = 3,
        /// FilterMap.
        FilterMap = 4,
        /// Join.
        Join = 5,
        /// Generic.
        Generic = 6,
    }
}

wire_struct! {
    /// Details of a SmartModule failure on a record.
    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    pub struct SmartModuleRuntimeError {
        /// Message for humans.
        pub hint: String,
        /// Offset of the failing record.
        pub offset: i64,
        /// SmartModule kind.
        pub kind: SmartModuleKindTag,
        /// Key of the failing record.
        pub record_key: Option<VarBytes>,
        /// Value of the failing record.
        pub record_value: VarBytes,
    }
}

/// An error carried in a response. `None` means success.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[allow(missing_docs)] // variant names are the protocol's own
pub enum ErrorCode {
    UnknownServerError,
    #[default]
    None,
    OffsetOutOfRange,
    Other(String),
    NotLeaderForPartition,
    RequestTimedOut {
        timeout_ms: u64,
        kind: RequestKind,
    },
    MessageTooLarge,
    PermissionDenied,
    StorageError,
    InvalidCreateRequest,
    InvalidDeleteRequest,
    OffsetEvicted {
        offset: i64,
        next_available: i64,
    },
    PartitionFull {
        replica_key: ReplicaKey,
    },
    PartitionShortCircuited,
    SpuError,
    SpuRegistrationFailed,
    SpuOffline,
    SpuNotFound,
    SpuAlreadyExists,
    TopicError,
    TopicNotFound,
    TopicAlreadyExists,
    TopicPendingInitialization,
    TopicInvalidConfiguration,
    TopicNotProvisioned,
    TopicInvalidName,
    TopicDeleted,
    TopicInvalidReplicaType,
    PartitionPendingInitialization,
    PartitionNotLeader,
    /// Spelled `FetchSessionNotFoud` upstream.
    FetchSessionNotFound,
    OffsetFlushRequestError(String),
    OffsetManagementDisabled,
    MaxRetryReached,
    ManagedConnectorError,
    ManagedConnectorNotFound,
    ManagedConnectorAlreadyExists,
    SmartModuleError,
    SmartModuleNotFound {
        name: String,
    },
    SmartModuleInvalid {
        error: String,
        name: Option<String>,
    },
    SmartModuleInvalidExports {
        error: String,
        kind: String,
    },
    SmartModuleRuntimeError(Box<SmartModuleRuntimeError>),
    SmartModuleChainInitError(String),
    SmartModuleInitError {
        hint: String,
    },
    SmartModuleLookBackError(String),
    SmartModuleMemoryLimitExceeded {
        requested: u64,
        max: u64,
    },
    TableFormatError,
    TableFormatNotFound,
    TableFormatAlreadyExists,
    DerivedStreamObjectError,
    DerivedStreamNotFound(String),
    DerivedStreamJoinFetchError,
    DerivedStreamInvalid(String),
    CompressionError,
    DeduplicationSmartModuleNotLoaded,
    DeduplicationSmartModuleNameInvalid(String),
    MirrorNotFound,
    MirrorAlreadyExists,
    MirrorProduceFromHome,
    MirrorDeleteFromRemote,
    MirrorInvalidType,
    MirrorProduceFromRemoteNotAllowed,
    SystemSpecDeletionAttempt {
        kind: String,
        name: String,
    },
    SystemSpecUpdatingAttempt {
        kind: String,
        name: String,
    },
}

impl ErrorCode {
    /// True for [`ErrorCode::None`].
    pub fn is_ok(&self) -> bool {
        matches!(self, ErrorCode::None)
    }

    /// True for any error.
    pub fn is_error(&self) -> bool {
        !self.is_ok()
    }

    /// The wire tag of this code.
    pub fn tag(&self) -> i16 {
        self.wire_tag()
    }

    /// A short human description (the official client's wording where it has one).
    pub fn describe(&self) -> String {
        use ErrorCode::*;
        match self {
            None => "no error".into(),
            UnknownServerError => "an unknown server error occurred".into(),
            OffsetOutOfRange => "the requested offset is outside the range of offsets".into(),
            Other(message) => message.clone(),
            NotLeaderForPartition => "the SPU is not the leader for this partition".into(),
            RequestTimedOut { timeout_ms, .. } => format!("request timed out after {timeout_ms} ms"),
            MessageTooLarge => "the message is too large".into(),
            OffsetEvicted { offset, next_available } => {
                format!("offset {offset} was evicted; the next available offset is {next_available}")
            }
            PartitionFull { replica_key } => format!("partition {replica_key} is full"),
            TopicNotFound => "topic not found".into(),
            TopicAlreadyExists => "topic already exists".into(),
            TopicInvalidName => "invalid topic name".into(),
            TopicInvalidConfiguration => "invalid topic configuration".into(),
            TopicNotProvisioned => "topic not provisioned".into(),
            PartitionNotLeader => "the SPU is not the leader for this partition".into(),
            FetchSessionNotFound => "fetch session not found".into(),
            SystemSpecDeletionAttempt { kind, name } => {
                format!("{kind} {name} is a system object and cannot be deleted without force")
            }
            OffsetFlushRequestError(message)
            | SmartModuleChainInitError(message)
            | SmartModuleLookBackError(message)
            | DerivedStreamNotFound(message)
            | DerivedStreamInvalid(message)
            | DeduplicationSmartModuleNameInvalid(message) => format!("{self:?}: {message}"),
            other => format!("{other:?}"),
        }
    }
}

/// Refusals the protocol has no code of its own for. `fluvio-local` sends them as
/// [`ErrorCode::Other`] with a message that starts with a fixed tag (Kafka's name for the same
/// condition) followed by `": "` and the details: every client can decode and print them (a
/// new tag would make the whole response undecodable for the official client), and this
/// project's client recognizes them by the tag, never by the rest of the text.
impl ErrorCode {
    /// Tag of [`ErrorCode::out_of_order_sequence`].
    pub const OUT_OF_ORDER_SEQUENCE: &'static str = "OUT_OF_ORDER_SEQUENCE_NUMBER";
    /// Tag of [`ErrorCode::corrupt_batch`].
    pub const CORRUPT_BATCH: &'static str = "CORRUPT_MESSAGE";

    /// An idempotent producer's batch does not follow the last batch the partition stored for
    /// that producer (a gap in its sequence numbers, or an older producer epoch): nothing of
    /// it was stored. The producer starts a new epoch and sends it again.
    pub fn out_of_order_sequence(detail: impl std::fmt::Display) -> Self {
        ErrorCode::Other(format!("{}: {detail}", Self::OUT_OF_ORDER_SEQUENCE))
    }

    /// The stored batch at `offset` of `partition` is damaged (it does not match its CRC, or
    /// its header is broken): it is not served.
    pub fn corrupt_batch(partition: &ReplicaKey, offset: i64, detail: impl std::fmt::Display) -> Self {
        ErrorCode::Other(format!(
            "{}: the stored record batch at offset {offset} of partition {partition} is damaged ({detail}); it is not served",
            Self::CORRUPT_BATCH
        ))
    }

    /// Whether this is [`ErrorCode::out_of_order_sequence`].
    pub fn is_out_of_order_sequence(&self) -> bool {
        self.has_tag(Self::OUT_OF_ORDER_SEQUENCE)
    }

    /// Whether this is [`ErrorCode::corrupt_batch`].
    pub fn is_corrupt_batch(&self) -> bool {
        self.has_tag(Self::CORRUPT_BATCH)
    }

    fn has_tag(&self, tag: &str) -> bool {
        matches!(self, ErrorCode::Other(message) if message.strip_prefix(tag).is_some_and(|rest| rest.starts_with(": ")))
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

crate::wire_enum_codec! {
    ErrorCode: i16 {
        -1 => UnknownServerError,
        0 => None,
        1 => OffsetOutOfRange,
        2 => Other(value),
        6 => NotLeaderForPartition,
        7 => RequestTimedOut { timeout_ms, kind },
        10 => MessageTooLarge,
        13 => PermissionDenied,
        56 => StorageError,
        60 => InvalidCreateRequest,
        61 => InvalidDeleteRequest,
        71 => OffsetEvicted { offset, next_available },
        72 => PartitionFull { replica_key },
        73 => PartitionShortCircuited,
        1000 => SpuError,
        1001 => SpuRegistrationFailed,
        1002 => SpuOffline,
        1003 => SpuNotFound,
        1004 => SpuAlreadyExists,
        2000 => TopicError,
        2001 => TopicNotFound,
        2002 => TopicAlreadyExists,
        2003 => TopicPendingInitialization,
        2004 => TopicInvalidConfiguration,
        2005 => TopicNotProvisioned,
        2006 => TopicInvalidName,
        2007 => TopicDeleted,
        2008 => TopicInvalidReplicaType,
        3000 => PartitionPendingInitialization,
        3001 => PartitionNotLeader,
        3002 => FetchSessionNotFound,
        3003 => OffsetFlushRequestError(value),
        3004 => OffsetManagementDisabled,
        3005 => MaxRetryReached,
        5000 => ManagedConnectorError,
        5001 => ManagedConnectorNotFound,
        5002 => ManagedConnectorAlreadyExists,
        6000 => SmartModuleError,
        6001 => SmartModuleNotFound { name },
        6002 => SmartModuleInvalid { error, name },
        6003 => SmartModuleInvalidExports { error, kind },
        6004 => SmartModuleRuntimeError(value),
        6005 => SmartModuleChainInitError(value),
        6006 => SmartModuleInitError { hint },
        6007 => SmartModuleLookBackError(value),
        6008 => SmartModuleMemoryLimitExceeded { requested, max },
        7000 => TableFormatError,
        7001 => TableFormatNotFound,
        7002 => TableFormatAlreadyExists,
        8000 => DerivedStreamObjectError,
        8001 => DerivedStreamNotFound(value),
        8002 => DerivedStreamJoinFetchError,
        8003 => DerivedStreamInvalid(value),
        9000 => CompressionError,
        10000 => DeduplicationSmartModuleNotLoaded,
        10001 => DeduplicationSmartModuleNameInvalid(value),
        11001 => MirrorNotFound,
        11002 => MirrorAlreadyExists,
        11003 => MirrorProduceFromHome,
        11004 => MirrorDeleteFromRemote,
        11005 => MirrorInvalidType,
        11006 => MirrorProduceFromRemoteNotAllowed,
        12001 => SystemSpecDeletionAttempt { kind, name },
        12002 => SystemSpecUpdatingAttempt { kind, name },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Decoder, Encoder};
    use bytes::Bytes;

    #[test]
    fn vectors_from_the_protocol_notes() {
        assert_eq!(ErrorCode::None.to_bytes(0).unwrap().as_ref(), &[0, 0]);
        assert_eq!(ErrorCode::Other("x".into()).to_bytes(0).unwrap().as_ref(), &[0, 2, 0, 1, b'x']);
        assert_eq!(ErrorCode::UnknownServerError.to_bytes(0).unwrap().as_ref(), &[0xff, 0xff]);
        let evicted = ErrorCode::OffsetEvicted { offset: 5, next_available: 10 };
        let bytes = evicted.to_bytes(0).unwrap();
        assert_eq!(&bytes[..2], &[0, 0x47]);
        assert_eq!(ErrorCode::decode_exact(bytes, 0).unwrap(), evicted);
    }

    #[test]
    fn tagged_refusals_travel_as_other_and_are_recognized_by_their_tag() {
        let key = ReplicaKey::new("t", 1);
        let corrupt = ErrorCode::corrupt_batch(&key, 42, "CRC mismatch");
        let out_of_order = ErrorCode::out_of_order_sequence("expected 3, got 5");
        for (code, corrupt_expected) in [(&corrupt, true), (&out_of_order, false)] {
            assert_eq!(code.tag(), 2, "an official tag");
            let decoded = ErrorCode::decode_exact(code.to_bytes(0).unwrap(), 0).unwrap();
            assert_eq!(decoded.is_corrupt_batch(), corrupt_expected);
            assert_eq!(decoded.is_out_of_order_sequence(), !corrupt_expected);
        }
        assert!(corrupt.describe().contains("offset 42 of partition t-1"), "{corrupt}");
        for other in ["CORRUPT_MESSAGES: x", "corrupt", "x CORRUPT_MESSAGE: y", "CORRUPT_MESSAGE"] {
            assert!(!ErrorCode::Other(other.into()).is_corrupt_batch(), "{other}");
        }
        assert!(!ErrorCode::StorageError.is_corrupt_batch());
    }

    #[test]
    fn unknown_tag_is_an_error() {
        let err = ErrorCode::decode_exact(Bytes::from_static(&[0x7f, 0x00]), 0).unwrap_err();
        assert!(matches!(err.kind(), crate::DecodeErrorKind::UnknownTag { .. }));
    }
}
