//! `ErrorCode` and its payload types.

use bytes::Bytes;
use fluvio_protocol::api::RequestKind as TheirRequestKind;
use fluvio_protocol::link::ErrorCode as E;
use fluvio_protocol::link::smartmodule::{
    SmartModuleInitRuntimeError, SmartModuleKind as TheirKindTag, SmartModuleTransformRuntimeError,
};
use fluvio_protocol::record::{RecordData, ReplicaKey as TheirReplicaKey};
use fluvio_wire::error_code::{ErrorCode, ReplicaKey, RequestKind, SmartModuleKindTag, SmartModuleRuntimeError};
use fluvio_wire::record::VarBytes;

use super::{ToOurs, ToTheirs};

impl ToTheirs for ReplicaKey {
    type Theirs = TheirReplicaKey;
    fn to_theirs(&self) -> TheirReplicaKey {
        TheirReplicaKey { topic: self.topic.clone(), partition: self.partition }
    }
}

impl ToOurs for TheirReplicaKey {
    type Ours = ReplicaKey;
    fn to_ours(self) -> ReplicaKey {
        ReplicaKey { topic: self.topic, partition: self.partition }
    }
}

impl ToTheirs for VarBytes {
    type Theirs = RecordData;
    fn to_theirs(&self) -> RecordData {
        RecordData::from(self.0.to_vec())
    }
}

impl ToOurs for RecordData {
    type Ours = VarBytes;
    fn to_ours(self) -> VarBytes {
        VarBytes(Bytes::from(self.into_vec()))
    }
}

impl ToTheirs for SmartModuleKindTag {
    type Theirs = TheirKindTag;
    fn to_theirs(&self) -> TheirKindTag {
        match self {
            SmartModuleKindTag::Filter => TheirKindTag::Filter,
            SmartModuleKindTag::Map => TheirKindTag::Map,
            SmartModuleKindTag::ArrayMap => TheirKindTag::ArrayMap,
            SmartModuleKindTag::Aggregate => TheirKindTag::Aggregate,
            SmartModuleKindTag::FilterMap => TheirKindTag::FilterMap,
            SmartModuleKindTag::Join => TheirKindTag::Join,
            SmartModuleKindTag::Generic => TheirKindTag::Generic,
        }
    }
}

impl ToOurs for TheirKindTag {
    type Ours = SmartModuleKindTag;
    fn to_ours(self) -> SmartModuleKindTag {
        match self {
            TheirKindTag::Filter => SmartModuleKindTag::Filter,
            TheirKindTag::Map => SmartModuleKindTag::Map,
            TheirKindTag::ArrayMap => SmartModuleKindTag::ArrayMap,
            TheirKindTag::Aggregate => SmartModuleKindTag::Aggregate,
            TheirKindTag::FilterMap => SmartModuleKindTag::FilterMap,
            TheirKindTag::Join => SmartModuleKindTag::Join,
            TheirKindTag::Generic => SmartModuleKindTag::Generic,
        }
    }
}

impl ToTheirs for SmartModuleRuntimeError {
    type Theirs = SmartModuleTransformRuntimeError;
    fn to_theirs(&self) -> SmartModuleTransformRuntimeError {
        SmartModuleTransformRuntimeError {
            hint: self.hint.clone(),
            offset: self.offset,
            kind: self.kind.to_theirs(),
            record_key: self.record_key.to_theirs(),
            record_value: self.record_value.to_theirs(),
        }
    }
}

impl ToOurs for SmartModuleTransformRuntimeError {
    type Ours = SmartModuleRuntimeError;
    fn to_ours(self) -> SmartModuleRuntimeError {
        SmartModuleRuntimeError {
            hint: self.hint,
            offset: self.offset,
            kind: self.kind.to_ours(),
            record_key: self.record_key.to_ours(),
            record_value: self.record_value.to_ours(),
        }
    }
}

impl ToTheirs for RequestKind {
    type Theirs = TheirRequestKind;
    fn to_theirs(&self) -> TheirRequestKind {
        match self {
            RequestKind::Produce => TheirRequestKind::Produce,
        }
    }
}

impl ToOurs for TheirRequestKind {
    type Ours = RequestKind;
    fn to_ours(self) -> RequestKind {
        match self {
            TheirRequestKind::Produce => RequestKind::Produce,
            // `RequestKind` is #[non_exhaustive] upstream.
            #[allow(unreachable_patterns)]
            other => panic!("official RequestKind {other:?} has no counterpart in fluvio-wire"),
        }
    }
}

impl ToTheirs for ErrorCode {
    type Theirs = E;
    /// Exhaustive over our variants: adding one to fluvio-wire without a mapping fails to compile.
    fn to_theirs(&self) -> E {
        match self.clone() {
            ErrorCode::UnknownServerError => E::UnknownServerError,
            ErrorCode::None => E::None,
            ErrorCode::OffsetOutOfRange => E::OffsetOutOfRange,
            ErrorCode::Other(s) => E::Other(s),
            ErrorCode::NotLeaderForPartition => E::NotLeaderForPartition,
            ErrorCode::RequestTimedOut { timeout_ms, kind } => {
                E::RequestTimedOut { timeout_ms, kind: kind.to_theirs() }
            }
            ErrorCode::MessageTooLarge => E::MessageTooLarge,
            ErrorCode::PermissionDenied => E::PermissionDenied,
            ErrorCode::StorageError => E::StorageError,
            ErrorCode::InvalidCreateRequest => E::InvalidCreateRequest,
            ErrorCode::InvalidDeleteRequest => E::InvalidDeleteRequest,
            ErrorCode::OffsetEvicted { offset, next_available } => E::OffsetEvicted { offset, next_available },
            ErrorCode::PartitionFull { replica_key } => E::PartitionFull { replica_key: replica_key.to_theirs() },
            ErrorCode::PartitionShortCircuited => E::PartitionShortCircuited,
            ErrorCode::SpuError => E::SpuError,
            ErrorCode::SpuRegistrationFailed => E::SpuRegisterationFailed,
            ErrorCode::SpuOffline => E::SpuOffline,
            ErrorCode::SpuNotFound => E::SpuNotFound,
            ErrorCode::SpuAlreadyExists => E::SpuAlreadyExists,
            ErrorCode::TopicError => E::TopicError,
            ErrorCode::TopicNotFound => E::TopicNotFound,
            ErrorCode::TopicAlreadyExists => E::TopicAlreadyExists,
            ErrorCode::TopicPendingInitialization => E::TopicPendingInitialization,
            ErrorCode::TopicInvalidConfiguration => E::TopicInvalidConfiguration,
            ErrorCode::TopicNotProvisioned => E::TopicNotProvisioned,
            ErrorCode::TopicInvalidName => E::TopicInvalidName,
            ErrorCode::TopicDeleted => E::TopicDeleted,
            ErrorCode::TopicInvalidReplicaType => E::TopicInvalidReplicaType,
            ErrorCode::PartitionPendingInitialization => E::PartitionPendingInitialization,
            ErrorCode::PartitionNotLeader => E::PartitionNotLeader,
            ErrorCode::FetchSessionNotFound => E::FetchSessionNotFoud,
            ErrorCode::OffsetFlushRequestError(s) => E::OffsetFlushRequestError(s),
            ErrorCode::OffsetManagementDisabled => E::OffsetManagementDisabled,
            ErrorCode::MaxRetryReached => E::MaxRetryReached,
            ErrorCode::ManagedConnectorError => E::ManagedConnectorError,
            ErrorCode::ManagedConnectorNotFound => E::ManagedConnectorNotFound,
            ErrorCode::ManagedConnectorAlreadyExists => E::ManagedConnectorAlreadyExists,
            ErrorCode::SmartModuleError => E::SmartModuleError,
            ErrorCode::SmartModuleNotFound { name } => E::SmartModuleNotFound { name },
            ErrorCode::SmartModuleInvalid { error, name } => E::SmartModuleInvalid { error, name },
            ErrorCode::SmartModuleInvalidExports { error, kind } => E::SmartModuleInvalidExports { error, kind },
            ErrorCode::SmartModuleRuntimeError(details) => E::SmartModuleRuntimeError(Box::new(details.to_theirs())),
            ErrorCode::SmartModuleChainInitError(s) => E::SmartModuleChainInitError(s),
            ErrorCode::SmartModuleInitError { hint } => E::SmartModuleInitError(SmartModuleInitRuntimeError { hint }),
            ErrorCode::SmartModuleLookBackError(s) => E::SmartModuleLookBackError(s),
            ErrorCode::SmartModuleMemoryLimitExceeded { requested, max } => {
                E::SmartModuleMemoryLimitExceeded { requested, max }
            }
            ErrorCode::TableFormatError => E::TableFormatError,
            ErrorCode::TableFormatNotFound => E::TableFormatNotFound,
            ErrorCode::TableFormatAlreadyExists => E::TableFormatAlreadyExists,
            ErrorCode::DerivedStreamObjectError => E::DerivedStreamObjectError,
            ErrorCode::DerivedStreamNotFound(s) => E::DerivedStreamNotFound(s),
            ErrorCode::DerivedStreamJoinFetchError => E::DerivedStreamJoinFetchError,
            ErrorCode::DerivedStreamInvalid(s) => E::DerivedStreamInvalid(s),
            ErrorCode::CompressionError => E::CompressionError,
            ErrorCode::DeduplicationSmartModuleNotLoaded => E::DeduplicationSmartModuleNotLoaded,
            ErrorCode::DeduplicationSmartModuleNameInvalid(s) => E::DeduplicationSmartModuleNameInvalid(s),
            ErrorCode::MirrorNotFound => E::MirrorNotFound,
            ErrorCode::MirrorAlreadyExists => E::MirrorAlreadyExists,
            ErrorCode::MirrorProduceFromHome => E::MirrorProduceFromHome,
            ErrorCode::MirrorDeleteFromRemote => E::MirrorDeleteFromRemote,
            ErrorCode::MirrorInvalidType => E::MirrorInvalidType,
            ErrorCode::MirrorProduceFromRemoteNotAllowed => E::MirrorProduceFromRemoteNotAllowed,
            ErrorCode::SystemSpecDeletionAttempt { kind, name } => E::SystemSpecDeletionAttempt { kind, name },
            ErrorCode::SystemSpecUpdatingAttempt { kind, name } => E::SystemSpecUpdatingAttempt { kind, name },
        }
    }
}

impl ToOurs for E {
    type Ours = ErrorCode;
    fn to_ours(self) -> ErrorCode {
        match self {
            E::UnknownServerError => ErrorCode::UnknownServerError,
            E::None => ErrorCode::None,
            E::OffsetOutOfRange => ErrorCode::OffsetOutOfRange,
            E::Other(s) => ErrorCode::Other(s),
            E::NotLeaderForPartition => ErrorCode::NotLeaderForPartition,
            E::RequestTimedOut { timeout_ms, kind } => ErrorCode::RequestTimedOut { timeout_ms, kind: kind.to_ours() },
            E::MessageTooLarge => ErrorCode::MessageTooLarge,
            E::PermissionDenied => ErrorCode::PermissionDenied,
            E::StorageError => ErrorCode::StorageError,
            E::InvalidCreateRequest => ErrorCode::InvalidCreateRequest,
            E::InvalidDeleteRequest => ErrorCode::InvalidDeleteRequest,
            E::OffsetEvicted { offset, next_available } => ErrorCode::OffsetEvicted { offset, next_available },
            E::PartitionFull { replica_key } => ErrorCode::PartitionFull { replica_key: replica_key.to_ours() },
            E::PartitionShortCircuited => ErrorCode::PartitionShortCircuited,
            E::SpuError => ErrorCode::SpuError,
            E::SpuRegisterationFailed => ErrorCode::SpuRegistrationFailed,
            E::SpuOffline => ErrorCode::SpuOffline,
            E::SpuNotFound => ErrorCode::SpuNotFound,
            E::SpuAlreadyExists => ErrorCode::SpuAlreadyExists,
            E::TopicError => ErrorCode::TopicError,
            E::TopicNotFound => ErrorCode::TopicNotFound,
            E::TopicAlreadyExists => ErrorCode::TopicAlreadyExists,
            E::TopicPendingInitialization => ErrorCode::TopicPendingInitialization,
            E::TopicInvalidConfiguration => ErrorCode::TopicInvalidConfiguration,
            E::TopicNotProvisioned => ErrorCode::TopicNotProvisioned,
            E::TopicInvalidName => ErrorCode::TopicInvalidName,
            E::TopicDeleted => ErrorCode::TopicDeleted,
            E::TopicInvalidReplicaType => ErrorCode::TopicInvalidReplicaType,
            E::PartitionPendingInitialization => ErrorCode::PartitionPendingInitialization,
            E::PartitionNotLeader => ErrorCode::PartitionNotLeader,
            E::FetchSessionNotFoud => ErrorCode::FetchSessionNotFound,
            E::OffsetFlushRequestError(s) => ErrorCode::OffsetFlushRequestError(s),
            E::OffsetManagementDisabled => ErrorCode::OffsetManagementDisabled,
            E::MaxRetryReached => ErrorCode::MaxRetryReached,
            E::ManagedConnectorError => ErrorCode::ManagedConnectorError,
            E::ManagedConnectorNotFound => ErrorCode::ManagedConnectorNotFound,
            E::ManagedConnectorAlreadyExists => ErrorCode::ManagedConnectorAlreadyExists,
            E::SmartModuleError => ErrorCode::SmartModuleError,
            E::SmartModuleNotFound { name } => ErrorCode::SmartModuleNotFound { name },
            E::SmartModuleInvalid { error, name } => ErrorCode::SmartModuleInvalid { error, name },
            E::SmartModuleInvalidExports { error, kind } => ErrorCode::SmartModuleInvalidExports { error, kind },
            E::SmartModuleRuntimeError(details) => ErrorCode::SmartModuleRuntimeError(Box::new((*details).to_ours())),
            E::SmartModuleChainInitError(s) => ErrorCode::SmartModuleChainInitError(s),
            E::SmartModuleInitError(SmartModuleInitRuntimeError { hint }) => ErrorCode::SmartModuleInitError { hint },
            E::SmartModuleLookBackError(s) => ErrorCode::SmartModuleLookBackError(s),
            E::SmartModuleMemoryLimitExceeded { requested, max } => {
                ErrorCode::SmartModuleMemoryLimitExceeded { requested, max }
            }
            E::TableFormatError => ErrorCode::TableFormatError,
            E::TableFormatNotFound => ErrorCode::TableFormatNotFound,
            E::TableFormatAlreadyExists => ErrorCode::TableFormatAlreadyExists,
            E::DerivedStreamObjectError => ErrorCode::DerivedStreamObjectError,
            E::DerivedStreamNotFound(s) => ErrorCode::DerivedStreamNotFound(s),
            E::DerivedStreamJoinFetchError => ErrorCode::DerivedStreamJoinFetchError,
            E::DerivedStreamInvalid(s) => ErrorCode::DerivedStreamInvalid(s),
            E::CompressionError => ErrorCode::CompressionError,
            E::DeduplicationSmartModuleNotLoaded => ErrorCode::DeduplicationSmartModuleNotLoaded,
            E::DeduplicationSmartModuleNameInvalid(s) => ErrorCode::DeduplicationSmartModuleNameInvalid(s),
            E::MirrorNotFound => ErrorCode::MirrorNotFound,
            E::MirrorAlreadyExists => ErrorCode::MirrorAlreadyExists,
            E::MirrorProduceFromHome => ErrorCode::MirrorProduceFromHome,
            E::MirrorDeleteFromRemote => ErrorCode::MirrorDeleteFromRemote,
            E::MirrorInvalidType => ErrorCode::MirrorInvalidType,
            E::MirrorProduceFromRemoteNotAllowed => ErrorCode::MirrorProduceFromRemoteNotAllowed,
            E::SystemSpecDeletionAttempt { kind, name } => ErrorCode::SystemSpecDeletionAttempt { kind, name },
            E::SystemSpecUpdatingAttempt { kind, name } => ErrorCode::SystemSpecUpdatingAttempt { kind, name },
            // `ErrorCode` is #[non_exhaustive] upstream; the tag sweep in `errors.rs` proves
            // there is no official tag we cannot decode.
            #[allow(unreachable_patterns)]
            other => panic!("official ErrorCode {other:?} has no counterpart in fluvio-wire"),
        }
    }
}
