//! `ErrorCode`: every variant of ours, and the whole i16 tag space.

use std::collections::BTreeSet;
use std::io::Cursor;

use bytes::{Buf, Bytes};
use fluvio_protocol::Decoder as _;
use fluvio_protocol::link::ErrorCode as TheirErrorCode;
use fluvio_wire::Decoder as _;
use fluvio_wire::error_code::{ErrorCode, ReplicaKey, RequestKind, SmartModuleKindTag, SmartModuleRuntimeError};
use fluvio_wire::record::VarBytes;

use crate::common::check_exact;
use crate::common::convert::{ToOurs, ToTheirs, ours, theirs};

/// Every variant of our ErrorCode, payload variants with representative payloads (several per
/// variant where the payload has interesting shapes: empty/non-ASCII strings, None/Some, extremes).
pub fn all_error_codes() -> Vec<ErrorCode> {
    use ErrorCode::*;
    let runtime = |key: Option<&'static [u8]>, value: &'static [u8], kind| {
        SmartModuleRuntimeError(Box::new(self::SmartModuleRuntimeError {
            hint: "failed to parse record: expected value at line 1".into(),
            offset: 1_234_567,
            kind,
            record_key: key.map(|k| VarBytes(Bytes::from_static(k))),
            record_value: VarBytes(Bytes::from_static(value)),
        }))
    };
    let mut codes = vec![
        UnknownServerError,
        None,
        OffsetOutOfRange,
        Other(String::new()),
        Other("x".into()),
        Other("plain ascii message".into()),
        Other("ünïcödé ✓ 日本語".into()),
        NotLeaderForPartition,
        RequestTimedOut { timeout_ms: 1500, kind: RequestKind::Produce },
        RequestTimedOut { timeout_ms: u64::MAX, kind: RequestKind::Produce },
        MessageTooLarge,
        PermissionDenied,
        StorageError,
        InvalidCreateRequest,
        InvalidDeleteRequest,
        OffsetEvicted { offset: 5, next_available: 10 },
        OffsetEvicted { offset: i64::MIN, next_available: i64::MAX },
        PartitionFull { replica_key: ReplicaKey::new("orders", 7) },
        PartitionFull { replica_key: ReplicaKey::new("", u32::MAX) },
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
        FetchSessionNotFound,
        OffsetFlushRequestError("flush failed".into()),
        OffsetManagementDisabled,
        MaxRetryReached,
        ManagedConnectorError,
        ManagedConnectorNotFound,
        ManagedConnectorAlreadyExists,
        SmartModuleError,
        SmartModuleNotFound { name: "my-filter".into() },
        SmartModuleInvalid { error: "bad wasm".into(), name: Option::None },
        SmartModuleInvalid { error: "bad wasm".into(), name: Some("my-map".into()) },
        SmartModuleInvalidExports { error: "missing export".into(), kind: "filter".into() },
        SmartModuleChainInitError("chain".into()),
        SmartModuleInitError { hint: "init failed".into() },
        SmartModuleLookBackError("look back".into()),
        SmartModuleMemoryLimitExceeded { requested: 1 << 40, max: 1 << 30 },
        TableFormatError,
        TableFormatNotFound,
        TableFormatAlreadyExists,
        DerivedStreamObjectError,
        DerivedStreamNotFound("ds".into()),
        DerivedStreamJoinFetchError,
        DerivedStreamInvalid("ds-invalid".into()),
        CompressionError,
        DeduplicationSmartModuleNotLoaded,
        DeduplicationSmartModuleNameInvalid("dedup".into()),
        MirrorNotFound,
        MirrorAlreadyExists,
        MirrorProduceFromHome,
        MirrorDeleteFromRemote,
        MirrorInvalidType,
        MirrorProduceFromRemoteNotAllowed,
        SystemSpecDeletionAttempt { kind: "topic".into(), name: "consumer-offset".into() },
        SystemSpecUpdatingAttempt { kind: "topic".into(), name: "consumer-offset".into() },
    ];
    // The runtime error carries record bytes as varint-prefixed data: cover null/empty/non-empty
    // keys, and values long enough for 2- and 3-byte varint lengths.
    static LONG: [u8; 200] = [b'v'; 200];
    static LONGER: [u8; 20_000] = [7; 20_000];
    for kind in [
        SmartModuleKindTag::Filter,
        SmartModuleKindTag::Map,
        SmartModuleKindTag::ArrayMap,
        SmartModuleKindTag::Aggregate,
        SmartModuleKindTag::FilterMap,
        SmartModuleKindTag::Join,
        SmartModuleKindTag::Generic,
    ] {
        codes.push(runtime(Option::None, b"value", kind));
    }
    codes.push(runtime(Some(b""), b"", SmartModuleKindTag::Map));
    codes.push(runtime(Some(b"key"), &LONG, SmartModuleKindTag::Filter));
    codes.push(runtime(Some(&LONG), &LONGER, SmartModuleKindTag::Aggregate));
    codes
}

/// The number of distinct tags of our ErrorCode (see `ErrorCode::tag`).
const OUR_TAG_COUNT: usize = 64;

#[test]
fn every_error_code_matches_the_official_encoding() {
    let codes = all_error_codes();
    let tags: BTreeSet<i16> = codes.iter().map(ErrorCode::tag).collect();
    assert_eq!(tags.len(), OUR_TAG_COUNT, "the list must cover every variant of ErrorCode");
    for code in &codes {
        // ErrorCode is not versioned; check a low and the current version anyway.
        for version in [0, 25] {
            check_exact(&format!("{code:?}"), code, version, |c, _| theirs(c), |t, _| ours(t));
        }
    }
}

#[test]
fn error_code_pinned_vectors() {
    // From the protocol notes (§2), verified there against the official crates.
    let cases: [(ErrorCode, &[u8]); 3] = [
        (ErrorCode::None, &[0, 0]),
        (ErrorCode::Other("x".into()), &[0, 2, 0, 1, b'x']),
        (ErrorCode::UnknownServerError, &[0xff, 0xff]),
    ];
    for (code, bytes) in cases {
        check_exact("pinned", &code, 0, |c, _| theirs(c), |t, _| ours(t));
        assert_eq!(crate::common::our_bytes(&code, 0), bytes);
    }
}

/// Sweeps all 65536 tags. For each, both decoders read the tag followed by zero bytes (which
/// every payload type accepts: empty strings, zero numbers, `None`s): they must agree on whether
/// the tag exists, on how many bytes its payload takes, and on the value. So the official crate
/// has no error code we cannot decode, and we accept none it would reject.
#[test]
fn both_decoders_know_exactly_the_same_tags() {
    let mut known = 0;
    for tag in i16::MIN..=i16::MAX {
        let mut input = tag.to_be_bytes().to_vec();
        input.extend_from_slice(&[0u8; 64]);

        let mut their_src = Cursor::new(&input[..]);
        let theirs = TheirErrorCode::decode_from(&mut their_src, 0);
        let mut our_src = Bytes::copy_from_slice(&input);
        let ours = ErrorCode::decode(&mut our_src, 0);

        match (theirs, ours) {
            (Err(_), Err(_)) => {}
            (Ok(their_code), Ok(our_code)) => {
                known += 1;
                assert_eq!(our_code.tag(), tag);
                assert_eq!(
                    their_src.position() as usize,
                    input.len() - our_src.remaining(),
                    "payload length of tag {tag}"
                );
                assert_eq!(their_code.to_ours(), our_code, "value of tag {tag}");
                assert_eq!(our_code.to_theirs().to_ours(), our_code);
            }
            (Ok(their_code), Err(e)) => panic!("tag {tag}: official decoder reads {their_code:?}, ours fails: {e}"),
            (Err(e), Ok(our_code)) => panic!("tag {tag}: we read {our_code:?}, the official decoder fails: {e}"),
        }
    }
    assert_eq!(known, OUR_TAG_COUNT);
}
