//! Decoder robustness: no decoder panics or over-allocates on any input.
//!
//! Every decodable type of the crate is listed in [`targets`] (one entry per type and protocol
//! version), each with a few realistic encoded values ("seeds"). The properties:
//!
//! * (a) random bytes (0..4096 long) and "token soup" (plausible counts, strings, tags and
//!   varints glued together) fed to every decoder: `Ok` or `Err`, never a panic;
//! * (b) seeds mutated (bit flips, length fields overwritten with 0x7fffffff / 0xffffffff /
//!   0x8000 / ..., huge varints, truncation, inserted, duplicated and deleted bytes): no panic;
//!   whatever decodes is driven further (record sets parsed, batches decompressed and their
//!   records decoded, header accessors called, frames dispatched to the body decoders);
//! * (c) an allocation bound, measured by the tracking global allocator below (see
//!   [`structural_bound`] and [`decompress_bound`]);
//! * (d) every strict prefix of a seed fails to decode; `RecordSet::parse` instead keeps the
//!   whole batches of a cut set and reports the cut one as documented; `FrameDecoder` waits.
//!
//! Deterministic regression tests for the classic attacks follow the properties.
//!
//! The allocation counters are thread-local and only count inside [`measure`], so the test
//! threads that `cargo test` runs in parallel do not see each other's allocations.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::time::Duration;

use fluvio_wire::api::{
    ApiVersionKey, encode_request_frame, encode_response_frame, peek_correlation_id, take_correlation_id,
};
use fluvio_wire::bytes::{BufMut, Bytes, BytesMut};
use fluvio_wire::codec::{ByteVec, get_varint, put_varint};
use fluvio_wire::compression::DEFAULT_MAX_DECOMPRESSED;
use fluvio_wire::consumer_offset::{
    ConsumerOffset, ConsumerOffsetFilter, DeleteConsumerOffsetRequest, DeleteConsumerOffsetResponse,
    FetchConsumerOffsetsRequest, FetchConsumerOffsetsResponse, ForwardConsumerOffsetRequest,
    ForwardConsumerOffsetResponse, LookupConsumerOffsetRequest, LookupConsumerOffsetResponse, OffsetEntry, OffsetKey,
    OffsetValue, UpdateConsumerOffsetRequest, UpdateConsumerOffsetResponse,
};
use fluvio_wire::error_code::{ReplicaKey, RequestKind, SmartModuleKindTag, SmartModuleRuntimeError};
use fluvio_wire::frame::DEFAULT_MAX_FRAME_SIZE;
use fluvio_wire::record::{BATCH_FILE_HEADER_LEN, BatchHeader, VarBytes};
use fluvio_wire::replication::{
    EpochEndOffsetRequest, EpochEndOffsetResponse, FollowerFetchRequest, FollowerFetchResponse, ReplicationError,
};
use fluvio_wire::sc::partition::{
    HomePartitionConfig, PartitionMirrorConfig, PartitionResolution, RemotePartitionConfig, ReplicaStatus,
    split_partition_name,
};
use fluvio_wire::sc::spu::{EncryptionType, Endpoint, IngressAddr, IngressPort, SpuStatusResolution, SpuType};
use fluvio_wire::sc::topic::{
    CleanupPolicy, CompressionAlgorithm, Deduplication, DeduplicationBounds, DeduplicationFilter,
    DeduplicationTransform, HomeMirrorConfig, MirrorConfig, PartitionMap, RemoteMirrorConfig, ReplicaSpec,
    SegmentBasedPolicy, SpuMirrorConfig, TopicReplicaParam, TopicResolution, TopicStorageConfig, UpdateTopicAction,
};
use fluvio_wire::sc::{
    Change, ChangeKind, CommonCreateRequest, CreateObject, CreateRequest, DeleteRequest, ListFilter, ListFilters,
    ListRequest, ListResponse, Metadata, MetadataUpdate, PartitionSpec, PartitionStatus, Spec, SpuSpec, SpuStatus,
    Status, TopicSpec, TopicStatus, TypeBuffer, UpdateRequest, WatchParams, WatchRequest, WatchResponse,
};
use fluvio_wire::smartmodule::{
    DerivedStreamInvocation, Lookback, SmartModuleContext, SmartModuleInvocation, SmartModuleKind, SmartModuleParams,
    SmartModuleWasm,
};
use fluvio_wire::spu::{
    AbortedTransaction, FetchOffsetPartition, FetchOffsetPartitionResponse, FetchOffsetTopic, FetchOffsetTopicResponse,
    FetchOffsetsRequest, FetchOffsetsResponse, FetchablePartitionResponse, Isolation, OffsetUpdate, OffsetUpdateStatus,
    PartitionProduceData, PartitionProduceResponse, ProduceAcks, ProduceRequest, ProduceResponse, StreamFetchRequest,
    StreamFetchResponse, TopicProduceData, TopicProduceResponse, UpdateOffsetsRequest, UpdateOffsetsResponse,
};
use fluvio_wire::{
    ApiVersionsRequest, ApiVersionsResponse, Compression, DecodeErrorKind, Decoder, Encoder, ErrorCode, FrameDecoder,
    FrameError, RawBatch, Record, RecordSet, Request, RequestHeader, Version,
};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, TestRunner};

// =============================================================================================
// Allocation tracking.

/// `System`, counting the allocations made by the current thread inside [`measure`].
struct TrackingAlloc;

#[global_allocator]
static GLOBAL: TrackingAlloc = TrackingAlloc;

/// Counters of the innermost [`measure`] scope of one thread. Plain `Cell`s with a `const`
/// initializer: reading them allocates nothing and registers no destructor, so the allocator
/// can use them.
struct Scope {
    active: Cell<bool>,
    largest: Cell<usize>,
    live: Cell<isize>,
    peak: Cell<isize>,
}

thread_local! {
    static SCOPE: Scope = const {
        Scope { active: Cell::new(false), largest: Cell::new(0), live: Cell::new(0), peak: Cell::new(0) }
    };
}

fn on_alloc(size: usize) {
    let _ = SCOPE.try_with(|s| {
        if s.active.get() {
            s.largest.set(s.largest.get().max(size));
            let live = s.live.get() + size as isize;
            s.live.set(live);
            s.peak.set(s.peak.get().max(live));
        }
    });
}

fn on_free(size: usize) {
    let _ = SCOPE.try_with(|s| {
        if s.active.get() {
            s.live.set(s.live.get() - size as isize);
        }
    });
}

unsafe impl GlobalAlloc for TrackingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        on_alloc(layout.size());
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        on_alloc(layout.size());
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        on_free(layout.size());
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // A reallocation is a request for `new_size` bytes.
        on_free(layout.size());
        on_alloc(new_size);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// What a [`measure`] scope saw.
#[derive(Debug, Clone, Copy)]
struct AllocStats {
    /// Largest single allocation (or reallocation) request, in bytes.
    largest: usize,
    /// Highest net number of bytes allocated within the scope and not yet freed.
    peak_live: usize,
}

/// Runs `f` with fresh counters for this thread. Scopes nest and isolate: allocations of an
/// inner scope are not counted in the outer one (so decompression, which has its own bound,
/// can be measured separately from the structural decoding around it).
fn measure<R>(f: impl FnOnce() -> R) -> (R, AllocStats) {
    type Saved = (bool, usize, isize, isize);
    struct Restore(Saved);
    impl Drop for Restore {
        fn drop(&mut self) {
            let (active, largest, live, peak) = self.0;
            SCOPE.with(|s| {
                s.active.set(active);
                s.largest.set(largest);
                s.live.set(live);
                s.peak.set(peak);
            });
        }
    }
    let saved = SCOPE.with(|s| {
        let saved = (s.active.get(), s.largest.get(), s.live.get(), s.peak.get());
        s.largest.set(0);
        s.live.set(0);
        s.peak.set(0);
        s.active.set(true);
        saved
    });
    let restore = Restore(saved);
    let result = f();
    let stats = SCOPE.with(|s| AllocStats { largest: s.largest.get(), peak_live: s.peak.get().max(0) as usize });
    drop(restore);
    (result, stats)
}

// =============================================================================================
// The allocation bounds.

/// Allowance below which any allocation is accepted, whatever the input length (collections
/// reserve up to 16 KiB up front from a checked count).
const ALLOC_FLOOR: usize = 64 * 1024;

/// Bytes of memory a decoder may allocate at once per byte of input.
///
/// Why 64 and not less: a decoded value is legitimately larger in memory than on the wire, by
/// `size_of::<T>()` over the smallest encoding of `T`. The worst case in this crate is
/// `SmartModuleInvocation`: 160 bytes in memory for 6 bytes on the wire (26.7×); then come
/// `IngressAddr` (48 for 2, 24×), `Metadata<TopicSpec>` (272 for 15, 18×) and `Record`
/// (96 for 7, 14×). A collection that outgrows its up-front reservation grows geometrically, so
/// its buffer can be up to twice its length: 2 × 26.7 = 53.4 < 64.
/// [`dense_valid_collections_fit_the_bound`] checks that valid inputs packed with the smallest
/// elements stay under it (the largest measured: 43.5×, a v0 Produce request carrying 4000
/// empty SmartModule invocations). A factor of 16 would fail valid inputs.
///
/// What it catches: any allocation sized from an unchecked count or length (`with_capacity` of
/// a wire count, reserving an announced frame or window size) and any preallocation of
/// `count × size_of::<T>()` for an element type over 64 bytes even when `count` is checked
/// against the remaining input (e.g. 312 × n for `Metadata<PartitionSpec>`).
const ALLOC_FACTOR: usize = 64;

/// Largest single allocation allowed while structurally decoding `n` bytes of input.
fn structural_bound(n: usize) -> usize {
    ALLOC_FLOOR.max(ALLOC_FACTOR.saturating_mul(n))
}

/// Largest zstd window the codec accepts with a limit below it (the RFC 8878 recommendation).
const ZSTD_MIN_MAX_WINDOW: usize = 8 * 1024 * 1024;
/// Bytes ruzstd may hold past its window: one 128 KiB block decoded beyond a read of at most
/// 64 KiB.
const ZSTD_READ_AHEAD: usize = 192 * 1024;

/// Largest single allocation allowed while decompressing with `codec` and `limit`: the output
/// buffer (`limit` + 1 byte, to tell "at the limit" from "over") or a decompressor's own
/// buffer, whichever is larger. The latter do not grow with the input:
/// * gzip, snappy: buffers of at most 128 KiB;
/// * lz4: block buffers sized from the frame header, up to 2 × 4 MiB + 64 KiB (linked blocks)
///   or 8 MiB (legacy frames), so 4 bytes of input can cost 8 MiB;
/// * zstd: ruzstd keeps a window of output (the codec refuses windows over the larger of the
///   limit and 8 MiB) plus what it decodes ahead, in a ring buffer whose capacity it rounds up
///   to a power of two (+1): 16 MiB + 1 for limits up to 8 MiB, else about twice the limit.
fn decompress_bound(codec: Compression, limit: usize) -> usize {
    let own = match codec {
        Compression::None => 0,
        Compression::Gzip | Compression::Snappy => 128 * 1024,
        Compression::Lz4 => 8 * 1024 * 1024 + 128 * 1024,
        Compression::Zstd => limit
            .max(ZSTD_MIN_MAX_WINDOW)
            .saturating_add(ZSTD_READ_AHEAD)
            .checked_next_power_of_two()
            .map_or(usize::MAX, |p| p + 1),
    };
    limit.saturating_add(1).max(own)
}

/// Largest net live memory allowed while decompressing: the output and the decompressor's
/// buffers (lz4 holds two block buffers, zstd its ring buffer next to the output).
fn decompress_peak_bound(codec: Compression, limit: usize) -> usize {
    decompress_bound(codec, limit).saturating_mul(2).saturating_add(256 * 1024)
}

/// Largest net live memory allowed while structurally decoding `n` bytes: the decoded value
/// itself (bounded like a single allocation, see [`ALLOC_FACTOR`]) plus the strings it owns and
/// the up-front reservations of the collections being decoded at the same time.
fn structural_peak_bound(n: usize) -> usize {
    (4 * ALLOC_FLOOR).max(2 * ALLOC_FACTOR.saturating_mul(n))
}

/// Runs `f` and checks its allocations against `bound` (largest single request) and
/// `peak_bound` (peak net live bytes).
fn checked<R>(what: &str, bound: usize, peak_bound: usize, f: impl FnOnce() -> R) -> R {
    let (result, stats) = measure(f);
    assert!(
        stats.largest <= bound,
        "{what}: an allocation of {} bytes exceeds the bound of {bound} bytes",
        stats.largest
    );
    assert!(
        stats.peak_live <= peak_bound,
        "{what}: {} live bytes at the peak exceed the bound of {peak_bound} bytes",
        stats.peak_live
    );
    result
}

/// [`checked`] with the structural bounds for `n` bytes of input.
fn structural<R>(what: &str, n: usize, f: impl FnOnce() -> R) -> R {
    checked(what, structural_bound(n), structural_peak_bound(n), f)
}

// =============================================================================================
// Driving decoded values further.

/// Decompression limits every batch is decoded with: the default, a small one, a tiny one.
const LIMITS: [usize; 3] = [DEFAULT_MAX_DECOMPRESSED, 1 << 20, 100];

/// Decodes `T` at `version` from all of `input`, checking the structural allocation bound.
fn decode_checked<T: Decoder>(what: &str, input: &Bytes, version: Version) -> Option<T> {
    structural(what, input.len(), || T::decode_exact(input.clone(), version)).ok()
}

/// Calls every accessor of a decoded batch header (they do arithmetic on wire values).
fn touch_header(header: &BatchHeader) {
    let _ = (header.record_count(), header.last_offset(), header.next_offset(), header.total_len());
    let _ = (header.compression(), header.has_schema_id(), header.record_timestamp(0));
    let _ = (header.record_timestamp(i64::MAX), header.record_timestamp(i64::MIN));
}

/// Decompresses and decodes a batch with every limit, checking the allocation bounds and that
/// `decompress`, `records` and `validate` agree.
fn exercise_batch(what: &str, batch: &RawBatch) {
    touch_header(&batch.header);
    let _ = (batch.crc_is_valid(), batch.encoded_len());
    let n = batch.records.len();
    for limit in LIMITS {
        let codec = batch.compression().ok();
        let area = codec.and_then(|codec| {
            checked(what, decompress_bound(codec, limit), decompress_peak_bound(codec, limit), || {
                codec.decompress(&batch.records, limit)
            })
            .ok()
        });
        if let Some(area) = &area {
            assert!(area.len() <= limit, "{what}: decompressed {} bytes past the limit {limit}", area.len());
        }
        // records() decompresses, then decodes the area like any input of its length.
        let m = area.as_ref().map_or(0, Bytes::len);
        let (bound, peak) = match codec {
            Some(codec) => (
                decompress_bound(codec, limit).max(structural_bound(n.max(m))),
                decompress_peak_bound(codec, limit) + structural_peak_bound(n.max(m)),
            ),
            None => (structural_bound(n), structural_peak_bound(n)),
        };
        let records = checked(what, bound, peak, || batch.records(limit));
        let validated = checked(what, bound, peak, || batch.validate(limit));
        if area.is_none() {
            assert!(records.is_err(), "{what}: records() succeeded where decompress() failed");
        }
        // validate() walks the records in place: it must accept exactly what decoding them does.
        let decoded_count = records.as_ref().ok().filter(|records| {
            batch.header.last_offset_delta >= 0
                && records.len() as i64 == batch.header.record_count()
                && records.iter().enumerate().all(|(i, r)| r.offset_delta == i as i64)
        });
        assert_eq!(validated.ok(), decoded_count.map(Vec::len), "{what}: validate() and records() disagree");
        if let Ok(records) = &records {
            for record in records.iter().take(16) {
                let _ = batch.header.record_timestamp(record.timestamp_delta);
            }
        }
    }
}

/// Parses a record set every way, checks that the ways agree, and drives its batches.
fn exercise_record_set(what: &str, set: &RecordSet) {
    let n = set.len();
    let parsed = structural(what, n, || set.parse());
    let batches = structural(what, n, || set.batches());
    assert_eq!(batches.is_ok(), parsed.is_complete(), "{what}: batches() and parse() disagree");
    if let Ok(batches) = &batches {
        assert_eq!(batches, &parsed.batches, "{what}: batches() and parse() disagree");
    }
    for batch in parsed.batches.iter().take(8) {
        exercise_batch(what, batch);
    }
    if let Some(partial) = &parsed.partial {
        touch_header(&partial.header);
        let records = structural(what, partial.records_prefix.len(), || partial.complete_records());
        for record in &records {
            let _ = partial.header.record_timestamp(record.timestamp_delta);
        }
    }
}

/// Decodes a request frame (header + body) the way a server dispatches it. Keys shared by the
/// SC and the SPU are decoded both ways.
fn dispatch_request(frame: &Bytes) -> bool {
    let mut body = frame.clone();
    let Ok(header) = structural("RequestHeader", frame.len(), || RequestHeader::decode_from_frame(&mut body)) else {
        return false;
    };
    let v = header.api_version;
    let what = "request frame body";
    match header.api_key {
        0 => decode_checked::<ProduceRequest>(what, &body, v).inspect(|r| post_produce(what, r, v)).is_some(),
        18 => decode_checked::<ApiVersionsRequest>(what, &body, v).is_some(),
        1001 => decode_checked::<CreateRequest>(what, &body, v).is_some(),
        1002 => {
            let spu = decode_checked::<FetchOffsetsRequest>(what, &body, v).is_some();
            decode_checked::<DeleteRequest>(what, &body, v).is_some() || spu
        }
        1003 => {
            let spu = decode_checked::<StreamFetchRequest>(what, &body, v).is_some();
            decode_checked::<ListRequest>(what, &body, v).is_some() || spu
        }
        1004 => decode_checked::<WatchRequest>(what, &body, v).is_some(),
        1005 => decode_checked::<UpdateOffsetsRequest>(what, &body, v).is_some(),
        1006 => {
            let spu = decode_checked::<UpdateConsumerOffsetRequest>(what, &body, v).is_some();
            decode_checked::<UpdateRequest>(what, &body, v).is_some() || spu
        }
        1007 => decode_checked::<DeleteConsumerOffsetRequest>(what, &body, v).is_some(),
        1008 => decode_checked::<FetchConsumerOffsetsRequest>(what, &body, v).is_some(),
        6001 => decode_checked::<FollowerFetchRequest>(what, &body, v).is_some(),
        6002 => decode_checked::<EpochEndOffsetRequest>(what, &body, v).is_some(),
        6101 => decode_checked::<ForwardConsumerOffsetRequest>(what, &body, v).is_some(),
        6102 => decode_checked::<LookupConsumerOffsetRequest>(what, &body, v).is_some(),
        _ => false,
    }
}

/// Splits a byte stream into frames with a default and a small maximum, then dispatches them.
fn run_frames(input: &Bytes) -> bool {
    let mut any = false;
    for max in [DEFAULT_MAX_FRAME_SIZE, 1024] {
        let decoder = FrameDecoder::new(max);
        let mut buf = BytesMut::from(&input[..]);
        let frames = structural("FrameDecoder::decode", input.len(), || {
            let mut frames = Vec::new();
            while let Ok(Some(frame)) = decoder.decode(&mut buf) {
                frames.push(frame);
            }
            frames
        });
        for frame in frames.iter().take(4) {
            any |= dispatch_request(frame);
        }
        let _ = decoder.peek_len(&buf);
    }
    any
}

fn post_none<T>(_: &str, _: &T, _: Version) {}

fn post_produce(what: &str, request: &ProduceRequest, _: Version) {
    for topic in &request.topics {
        for partition in topic.partitions.iter().take(4) {
            exercise_record_set(what, &partition.records);
        }
    }
}

fn post_partition_response(what: &str, partition: &FetchablePartitionResponse, _: Version) {
    let _ = (partition.error_code.describe(), partition.error_code.is_ok());
    exercise_record_set(what, &partition.records);
}

fn post_stream_fetch(what: &str, push: &StreamFetchResponse, v: Version) {
    post_partition_response(what, &push.partition, v);
}

fn post_error_code(_: &str, code: &ErrorCode, _: Version) {
    let _ = (code.describe(), code.is_ok(), code.is_error(), code.tag());
}

fn post_api_versions(_: &str, response: &ApiVersionsResponse, _: Version) {
    for key in &response.api_keys {
        let _ = response.negotiate(key.api_key as u16, 0, i16::MAX);
        let _ = response.negotiate(key.api_key as u16, i16::MIN, i16::MIN);
    }
}

fn post_list(_: &str, response: &ListResponse, _: Version) {
    match response {
        ListResponse::Topic(topics) => topics.iter().for_each(|t| {
            let _ = (t.spec.replicas.partition_count(), t.spec.replicas.replication_factor());
        }),
        ListResponse::Partition(partitions) => partitions.iter().for_each(|p| {
            let _ = split_partition_name(&p.name);
        }),
        ListResponse::Spu(spus) => spus.iter().for_each(|s| {
            let _ = s.spec.public_endpoint.address();
        }),
        ListResponse::Other(_) => {}
    }
}

// =============================================================================================
// The decoders.

type RunFn = Box<dyn Fn(&Bytes) -> bool + Send + Sync>;

/// One decoder: `run` decodes an input (and drives what decodes), returning whether the input
/// decoded; `seeds` are valid encodings for it.
struct Target {
    name: String,
    run: RunFn,
    seeds: Vec<Bytes>,
    /// Every strict prefix of a seed must fail to decode.
    strict_prefix: bool,
}

/// SPU message versions: the official client's 25 and every version that gates a field.
const SPU_VERSIONS: &[Version] = &[0, 2, 3, 5, 11, 16, 18, 20, 21, 23, 25];
/// SC message versions: below the envelope minimum, and every version that gates a field.
const SC_VERSIONS: &[Version] = &[0, 11, 13, 14, 16, 18, 19];

/// Adds a target per version for a type with an `Encoder`/`Decoder`, with `seeds` encoded at
/// each version (values a version cannot carry are skipped). Each seed must decode and
/// re-encode to the same bytes.
fn typed<T: Encoder + Decoder + 'static>(
    out: &mut Vec<Target>,
    name: &str,
    versions: &[Version],
    seeds: &[T],
    post: fn(&str, &T, Version),
) {
    for &version in versions {
        let label = format!("{name} v{version}");
        let seeds: Vec<Bytes> = seeds.iter().filter_map(|seed| seed.to_bytes(version).ok()).collect();
        for seed in &seeds {
            let decoded = T::decode_exact(seed.clone(), version)
                .unwrap_or_else(|e| panic!("{label}: seed {seed:02x?} does not decode: {e}"));
            assert_eq!(&decoded.to_bytes(version).unwrap(), seed, "{label}: seed does not round-trip");
        }
        let what = label.clone();
        let run: RunFn = Box::new(move |input| match decode_checked::<T>(&what, input, version) {
            Some(value) => {
                post(&what, &value, version);
                true
            }
            None => false,
        });
        out.push(Target { name: label, run, seeds, strict_prefix: true });
    }
}

fn custom(out: &mut Vec<Target>, name: &str, seeds: Vec<Bytes>, strict_prefix: bool, run: RunFn) {
    out.push(Target { name: name.to_string(), run, seeds, strict_prefix });
}

/// The table of every decoder, built once.
fn targets() -> &'static [Target] {
    static TARGETS: OnceLock<Vec<Target>> = OnceLock::new();
    TARGETS.get_or_init(build_targets)
}

fn build_targets() -> Vec<Target> {
    let mut t = Vec::new();
    let batches = sample_batches();

    // --- api.rs
    typed(&mut t, "RequestHeader", &[0], &request_headers(), post_none);
    custom(&mut t, "RequestHeader::decode_from_frame + body", request_frames(), false, Box::new(dispatch_request));
    custom(
        &mut t,
        "take/peek_correlation_id",
        vec![Bytes::from_static(&[0, 0, 0, 7, 1])],
        false,
        Box::new(|input| {
            let _ = peek_correlation_id(input);
            take_correlation_id(&mut input.clone()).is_ok()
        }),
    );
    typed(&mut t, "ApiVersionsRequest", &[0, 1, 2], &api_versions_requests(), post_none);
    typed(&mut t, "ApiVersionsResponse", &[0, 1, 2], &api_versions_responses(), post_api_versions);
    typed(&mut t, "ErrorCode", &[0, 25], &error_codes(), post_error_code);

    // --- record.rs
    let records = sample_records();
    let record_seeds = records
        .iter()
        .map(|r| {
            let mut dst = BytesMut::new();
            r.encode_to(&mut dst).unwrap();
            dst.freeze()
        })
        .collect();
    custom(
        &mut t,
        "Record::decode_from",
        record_seeds,
        true,
        Box::new(|input| {
            let mut src = input.clone();
            structural("Record::decode_from", input.len(), || Record::decode_from(&mut src)).is_ok() && src.is_empty()
        }),
    );
    typed(&mut t, "VarBytes", &[0], &[VarBytes(Bytes::from_static(b"key")), VarBytes(Bytes::new())], post_none);
    let batch_seeds: Vec<Bytes> = batches.iter().map(encode_batch).collect();
    custom(
        &mut t,
        "RawBatch::decode_from + records/validate",
        batch_seeds.clone(),
        true,
        Box::new(|input| {
            let mut src = input.clone();
            match structural("RawBatch::decode_from", input.len(), || RawBatch::decode_from(&mut src)) {
                Ok(batch) => {
                    exercise_batch("RawBatch", &batch);
                    src.is_empty()
                }
                Err(_) => false,
            }
        }),
    );
    custom(
        &mut t,
        "BatchHeader::parse",
        batch_seeds.clone(),
        false,
        Box::new(|input| {
            structural("BatchHeader::parse", input.len(), || BatchHeader::parse(input)).inspect(touch_header).is_ok()
        }),
    );
    let set_seeds: Vec<RecordSet> = record_sets();
    typed(&mut t, "RecordSet", &[0], &set_seeds, |what, set, _| exercise_record_set(what, set));
    custom(
        &mut t,
        "RecordSet::from_encoded + parse/batches/complete_records",
        set_seeds.iter().map(|s| s.as_bytes().clone()).collect(),
        false,
        Box::new(|input| {
            let set = RecordSet::from_encoded(input.clone());
            exercise_record_set("RecordSet::parse", &set);
            set.batches().is_ok()
        }),
    );
    // A records area under every codec's attribute bits (and unknown ones), straight into
    // records()/validate(): the way to reach the decompressors and the record decoder with
    // arbitrary bytes, as the CRC is not checked before decoding.
    for attributes in [0i16, 1, 2, 3, 4, 5, 7, 0x10] {
        let seeds = batches
            .iter()
            .filter(|b| b.header.attributes & 7 == attributes & 7 && b.schema_id.is_none())
            .map(|b| b.records.clone())
            .collect();
        custom(
            &mut t,
            &format!("RawBatch::records/validate (attributes {attributes:#x})"),
            seeds,
            false,
            Box::new(move |input| {
                let batch = RawBatch {
                    header: BatchHeader { attributes, last_offset_delta: 2, ..BatchHeader::default() },
                    schema_id: None,
                    records: input.clone(),
                };
                exercise_batch("RawBatch::records", &batch);
                batch.records(1 << 20).is_ok()
            }),
        );
    }
    // --- compression.rs
    for codec in Compression::ALL {
        let seeds = batches.iter().filter(|b| b.compression() == Ok(codec)).map(|b| b.records.clone()).collect();
        custom(
            &mut t,
            &format!("Compression::{codec:?}.decompress"),
            seeds,
            false,
            Box::new(move |input| {
                let mut ok = false;
                for limit in LIMITS {
                    let out = checked(
                        "decompress",
                        decompress_bound(codec, limit),
                        decompress_peak_bound(codec, limit),
                        || codec.decompress(input, limit),
                    );
                    if let Ok(out) = &out {
                        assert!(out.len() <= limit);
                    }
                    ok |= out.is_ok();
                }
                ok
            }),
        );
    }

    // --- frame.rs
    custom(&mut t, "FrameDecoder::decode + dispatch", vec![frame_stream()], false, Box::new(run_frames));

    // --- spu.rs and smartmodule.rs
    typed(&mut t, "ProduceRequest", SPU_VERSIONS, &produce_requests(&batches), post_produce);
    typed(&mut t, "ProduceResponse", SPU_VERSIONS, &produce_responses(), post_none);
    typed(
        &mut t,
        "ProduceAcks",
        &[25],
        &[ProduceAcks(Isolation::ReadCommitted), ProduceAcks(Isolation::ReadUncommitted)],
        post_none,
    );
    typed(&mut t, "FetchOffsetsRequest", SPU_VERSIONS, &fetch_offsets_requests(), post_none);
    typed(&mut t, "FetchOffsetsResponse", SPU_VERSIONS, &fetch_offsets_responses(), post_none);
    typed(&mut t, "StreamFetchRequest", SPU_VERSIONS, &stream_fetch_requests(), post_none);
    typed(&mut t, "StreamFetchResponse", SPU_VERSIONS, &stream_fetch_responses(&batches), post_stream_fetch);
    let partitions: Vec<FetchablePartitionResponse> =
        stream_fetch_responses(&batches).into_iter().map(|r| r.partition).collect();
    typed(&mut t, "FetchablePartitionResponse", &[0, 11, 25], &partitions, post_partition_response);
    typed(&mut t, "UpdateOffsetsRequest", &[0], &update_offsets_requests(), post_none);
    typed(&mut t, "UpdateOffsetsResponse", &[0], &update_offsets_responses(), post_none);
    typed(&mut t, "SmartModuleInvocation", SPU_VERSIONS, &smartmodules(), post_none);

    // --- consumer_offset.rs
    add_consumer_offsets(&mut t);
    typed(&mut t, "DerivedStreamInvocation", &[16, 21], &derived_streams(), post_none);

    // --- replication.rs
    typed(&mut t, "FollowerFetchRequest", &[0], &follower_fetch_requests(), post_none);
    typed(&mut t, "FollowerFetchResponse", &[0], &follower_fetch_responses(&batches), post_none);
    typed(&mut t, "EpochEndOffsetRequest", &[0], &epoch_end_offset_requests(), post_none);
    typed(&mut t, "EpochEndOffsetResponse", &[0], &epoch_end_offset_responses(), post_none);

    // --- sc/
    typed(&mut t, "CreateRequest", SC_VERSIONS, &create_requests(), post_none);
    typed(&mut t, "DeleteRequest", SC_VERSIONS, &delete_requests(), post_none);
    typed(&mut t, "ListRequest", SC_VERSIONS, &list_requests(), post_none);
    typed(&mut t, "ListResponse", SC_VERSIONS, &list_responses(), post_list);
    typed(&mut t, "WatchRequest", SC_VERSIONS, &watch_requests(), post_none);
    typed(&mut t, "WatchResponse", SC_VERSIONS, &watch_responses(), post_none);
    typed(&mut t, "UpdateRequest", SC_VERSIONS, &update_requests(), post_none);
    typed(&mut t, "Status", SC_VERSIONS, &statuses(), post_none);
    typed(&mut t, "TypeBuffer", SC_VERSIONS, &type_buffers(), post_none);
    typed(&mut t, "Metadata<TopicSpec>", SC_VERSIONS, &topics(), post_none);
    typed(&mut t, "Metadata<PartitionSpec>", SC_VERSIONS, &partitions_md(), post_none);
    typed(&mut t, "Metadata<SpuSpec>", SC_VERSIONS, &spus(), post_none);
    typed(&mut t, "MetadataUpdate<TopicSpec>", SC_VERSIONS, &[update_of(topics())], post_none);
    typed(&mut t, "MetadataUpdate<PartitionSpec>", SC_VERSIONS, &[update_of(partitions_md())], post_none);
    typed(&mut t, "MetadataUpdate<SpuSpec>", SC_VERSIONS, &[update_of(spus())], post_none);
    typed(&mut t, "Change<TopicSpec>", SC_VERSIONS, &update_of(topics()).changes, post_none);
    typed(&mut t, "TopicSpec", SC_VERSIONS, &topics().into_iter().map(|m| m.spec).collect::<Vec<_>>(), post_none);
    typed(&mut t, "TopicStatus", SC_VERSIONS, &topics().into_iter().map(|m| m.status).collect::<Vec<_>>(), post_none);
    typed(
        &mut t,
        "PartitionSpec",
        SC_VERSIONS,
        &partitions_md().into_iter().map(|m| m.spec).collect::<Vec<_>>(),
        post_none,
    );
    typed(
        &mut t,
        "PartitionStatus",
        SC_VERSIONS,
        &partitions_md().into_iter().map(|m| m.status).collect::<Vec<_>>(),
        post_none,
    );
    typed(&mut t, "SpuSpec", SC_VERSIONS, &spus().into_iter().map(|m| m.spec).collect::<Vec<_>>(), post_none);
    typed(&mut t, "SpuStatus", SC_VERSIONS, &spus().into_iter().map(|m| m.status).collect::<Vec<_>>(), post_none);
    typed(&mut t, "UpdateTopicAction", &[19], &topic_actions(), post_none);
    add_components(&mut t);
    t
}

/// One target per version for each listed type, named after it, with the listed seeds.
macro_rules! components {
    ($out:ident, $versions:expr; $($ty:ty => [$($seed:expr),* $(,)?]),* $(,)?) => {
        $( typed::<$ty>($out, stringify!($ty), $versions, &[$($seed),*], post_none); )*
    };
}

/// Every other decodable type on its own: the parts of the messages above, the primitive
/// encodings, and the unit enums.
#[allow(clippy::cloned_ref_to_slice_refs)] // one-seed lists read better as `[value.clone()]`
fn add_components(t: &mut Vec<Target>) {
    const V: &[Version] = &[0, 13, 18, 25];
    let sm = smartmodules();
    let topic = &topics()[1];
    let partition = &partitions_md()[0];
    let spu = &spus()[1];
    let batches = sample_batches();
    components!(t, &[0];
        bool => [true, false],
        i8 => [-1], u8 => [255], i16 => [i16::MIN], u16 => [u16::MAX], i32 => [-7], u32 => [u32::MAX],
        i64 => [i64::MIN], u64 => [u64::MAX], f32 => [1.5], f64 => [-0.25],
        String => [String::new(), "fluvio".to_string(), "é".repeat(300)],
        Option<String> => [None, Some("x".to_string())],
        Option<Option<u8>> => [None, Some(None), Some(Some(3))],
        Box<u32> => [Box::new(9)],
        Vec<String> => [vec![], vec!["a".to_string(), String::new()]],
        Vec<Vec<i32>> => [vec![vec![1, 2], vec![]]],
        BTreeMap<String, String> => [BTreeMap::new(), BTreeMap::from([("k".to_string(), "v".to_string())])],
        BTreeMap<u32, Vec<i32>> => [BTreeMap::from([(0, vec![1]), (1, vec![])])],
        Duration => [Duration::ZERO, Duration::new(u64::MAX, 999_999_999)],
        ByteVec => [ByteVec(Bytes::new()), ByteVec(Bytes::from_static(b"\0asm"))],
        ApiVersionKey => [ApiVersionKey { api_key: 1003, min_version: 0, max_version: 25 }],
        ReplicaKey => [ReplicaKey::new("orders", 7)],
        RequestKind => [RequestKind::Produce],
        SmartModuleKindTag => [SmartModuleKindTag::Filter, SmartModuleKindTag::Generic],
        Isolation => [Isolation::ReadCommitted, Isolation::ReadUncommitted],
        ChangeKind => [ChangeKind::Update, ChangeKind::Delete],
        TopicResolution => [TopicResolution::Init, TopicResolution::Deleting],
        PartitionResolution => [PartitionResolution::Offline, PartitionResolution::OutOfStorage],
        SpuStatusResolution => [SpuStatusResolution::Online, SpuStatusResolution::Init],
        SpuType => [SpuType::Managed, SpuType::Custom],
        EncryptionType => [EncryptionType::Plaintext, EncryptionType::Ssl],
        CompressionAlgorithm => [CompressionAlgorithm::None, CompressionAlgorithm::Zstd],
        SmartModuleRuntimeError => [match &error_codes()[12] { ErrorCode::SmartModuleRuntimeError(e) => (**e).clone(), _ => unreachable!() }],
    );
    components!(t, V;
        TopicProduceData => [produce_requests(&batches)[0].topics[0].clone()],
        PartitionProduceData => [produce_requests(&batches)[0].topics[0].partitions[1].clone()],
        TopicProduceResponse => [produce_responses()[0].responses[0].clone()],
        PartitionProduceResponse => [produce_responses()[0].responses[0].partitions[1].clone()],
        FetchOffsetTopic => [fetch_offsets_requests()[0].topics[0].clone()],
        FetchOffsetPartition => [FetchOffsetPartition { partition_index: 3 }],
        FetchOffsetTopicResponse => [fetch_offsets_responses()[0].topics[0].clone()],
        FetchOffsetPartitionResponse => [fetch_offsets_responses()[0].topics[0].partitions[1].clone()],
        AbortedTransaction => [AbortedTransaction { producer_id: -1, first_offset: 5 }],
        OffsetUpdate => [OffsetUpdate { offset: 9, session_id: 2 }],
        OffsetUpdateStatus => [update_offsets_responses()[0].status[1].clone()],
        SmartModuleWasm => [sm[0].wasm.clone(), sm[1].wasm.clone()],
        SmartModuleKind => [sm[3].kind.clone(), sm[6].kind.clone(), sm[10].kind.clone()],
        SmartModuleContext => [SmartModuleContext::None, SmartModuleContext::JoinStream { topic: "t".into(), derivedstream: "d".into() }],
        SmartModuleParams => [sm[0].params.clone(), SmartModuleParams::default()],
        Lookback => [Lookback { last: 1, age: Some(Duration::from_secs(60)) }, Lookback::default()],
        CommonCreateRequest => [CommonCreateRequest { name: "t".into(), dry_run: true, timeout: Some(5) }],
        ListFilter => [ListFilter { name: "t".into() }],
        ListFilters => [list_requests()[0].filters.clone()],
        WatchParams => [WatchParams { epoch: -1, summary: true }],
        Change<PartitionSpec> => [update_of(partitions_md()).changes[1].clone()],
        Change<SpuSpec> => [update_of(spus()).changes[0].clone()],
        ReplicaSpec => [topic.spec.replicas.clone(), topic_specs()[2].replicas.clone(), topic_specs()[3].replicas.clone()],
        TopicReplicaParam => [TopicReplicaParam { partitions: 3, replication_factor: 2, ignore_rack_assignment: true }],
        PartitionMap => [PartitionMap { id: 1, replicas: vec![5002], mirror: Some(partition_mirror_remote()) }],
        MirrorConfig => [MirrorConfig::Home(HomeMirrorConfig { partitions: vec![home_partition()], source: true })],
        RemoteMirrorConfig => [RemoteMirrorConfig { home_cluster: "h".into(), home_spus: vec![SpuMirrorConfig::default()], target: true }],
        HomeMirrorConfig => [HomeMirrorConfig { partitions: vec![home_partition()], source: false }],
        SpuMirrorConfig => [SpuMirrorConfig { id: 1, key: "k".into(), endpoint: "e:1".into() }],
        CleanupPolicy => [CleanupPolicy::Segment(SegmentBasedPolicy { time_in_seconds: 7 })],
        SegmentBasedPolicy => [SegmentBasedPolicy { time_in_seconds: u32::MAX }],
        TopicStorageConfig => [TopicStorageConfig { segment_size: Some(1), max_partition_size: Some(2) }],
        Deduplication => [topic.spec.deduplication.clone().unwrap()],
        DeduplicationBounds => [DeduplicationBounds { count: 1, age: None }],
        DeduplicationFilter => [topic.spec.deduplication.clone().unwrap().filter],
        DeduplicationTransform => [topic.spec.deduplication.clone().unwrap().filter.transform],
        PartitionMirrorConfig => [partition_mirror_remote(), PartitionMirrorConfig::Home(home_partition())],
        RemotePartitionConfig => [match partition_mirror_remote() { PartitionMirrorConfig::Remote(r) => r, _ => unreachable!() }],
        HomePartitionConfig => [home_partition()],
        ReplicaStatus => [partition.status.leader],
        IngressPort => [spu.spec.public_endpoint.clone()],
        IngressAddr => [IngressAddr { hostname: Some("h".into()), ip: Some("1.2.3.4".into()) }],
        Endpoint => [spu.spec.private_endpoint.clone()],
    );
}

// =============================================================================================
// Seeds: realistic values of every type.

fn sample_records() -> Vec<Record> {
    vec![
        Record::new(None, Bytes::from_static(b"dog"), 0, 0),
        Record::new(Some(Bytes::from_static(b"k")), Bytes::from_static(b"v1"), 1, 5),
        Record::new(Some(Bytes::new()), Bytes::new(), 2, -3),
        Record::new(None, Bytes::from(vec![b'x'; 300]), 3, 1_000_000),
    ]
}

fn batch_of(codec: Compression, count: usize) -> RawBatch {
    let records: Vec<Record> = (0..count)
        .map(|i| {
            let key = (i % 2 == 0).then(|| Bytes::from(format!("key-{i}")));
            let value = Bytes::from(format!("value {i} {}", "abc".repeat(i * 5)));
            Record::new(key, value, i as i64, i as i64 * 7)
        })
        .collect();
    RawBatch::from_records(&records, codec, 1_700_000_000_000).unwrap()
}

/// One batch per codec, a batch with a schema id, and one with a multi-byte-varint record.
fn sample_batches() -> Vec<RawBatch> {
    let mut batches: Vec<RawBatch> = Compression::ALL.iter().map(|&codec| batch_of(codec, 3)).collect();
    let mut schema = batch_of(Compression::None, 2);
    schema.schema_id = Some(7);
    batches.push(schema);
    batches.push(RawBatch::from_records(&sample_records()[3..], Compression::None, -1).unwrap());
    batches.push(batch_of(Compression::Gzip, 12));
    batches
}

fn encode_batch(batch: &RawBatch) -> Bytes {
    let mut dst = BytesMut::new();
    batch.encode_to(&mut dst).unwrap();
    dst.freeze()
}

/// A record set of the given batches with consecutive base offsets.
fn set_of(batches: &[&RawBatch]) -> RecordSet {
    let mut next = 0;
    let renumbered: Vec<RawBatch> = batches
        .iter()
        .map(|&b| {
            let mut b = b.clone();
            b.header.base_offset = next;
            next = b.header.next_offset();
            b
        })
        .collect();
    RecordSet::from_batches(&renumbered).unwrap()
}

fn record_sets() -> Vec<RecordSet> {
    let b = sample_batches();
    vec![
        set_of(&[&b[0]]),
        set_of(&[&b[0], &b[1], &b[2]]),
        set_of(&[&b[3], &b[4], &b[5], &b[6]]),
        set_of(&[&b[7], &b[0]]),
        RecordSet::default(),
    ]
}

fn request_headers() -> Vec<RequestHeader> {
    vec![
        RequestHeader { api_key: 0, api_version: 25, correlation_id: 1, client_id: "fluvio".into() },
        RequestHeader { api_key: 18, api_version: -1, correlation_id: i32::MIN, client_id: String::new() },
    ]
}

fn api_versions_requests() -> Vec<ApiVersionsRequest> {
    vec![
        ApiVersionsRequest { client_version: "0.50.2".into(), client_os: "linux".into(), client_arch: "x86_64".into() },
        ApiVersionsRequest::default(),
    ]
}

fn api_versions_responses() -> Vec<ApiVersionsResponse> {
    vec![ApiVersionsResponse {
        error_code: ErrorCode::None,
        api_keys: vec![
            ApiVersionKey { api_key: 0, min_version: 0, max_version: 25 },
            ApiVersionKey { api_key: 1004, min_version: 15, max_version: 19 },
            ApiVersionKey { api_key: 18, min_version: 0, max_version: 2 },
        ],
        platform_version: "0.18.2".into(),
    }]
}

fn error_codes() -> Vec<ErrorCode> {
    let s = |x: &str| x.to_string();
    vec![
        ErrorCode::None,
        ErrorCode::UnknownServerError,
        ErrorCode::NotLeaderForPartition,
        ErrorCode::Other(s("boom")),
        ErrorCode::RequestTimedOut { timeout_ms: 1500, kind: RequestKind::Produce },
        ErrorCode::OffsetEvicted { offset: 5, next_available: 10 },
        ErrorCode::PartitionFull { replica_key: ReplicaKey::new("t", 3) },
        ErrorCode::OffsetFlushRequestError(s("flush")),
        ErrorCode::SmartModuleNotFound { name: s("sm") },
        ErrorCode::SmartModuleInvalid { error: s("e"), name: Some(s("n")) },
        ErrorCode::SmartModuleInvalid { error: s("e"), name: None },
        ErrorCode::SmartModuleInvalidExports { error: s("e"), kind: s("filter") },
        ErrorCode::SmartModuleRuntimeError(Box::new(SmartModuleRuntimeError {
            hint: s("hint"),
            offset: 42,
            kind: SmartModuleKindTag::Aggregate,
            record_key: Some(VarBytes(Bytes::from_static(b"k"))),
            record_value: VarBytes(Bytes::from_static(b"value")),
        })),
        ErrorCode::SmartModuleChainInitError(s("c")),
        ErrorCode::SmartModuleInitError { hint: s("h") },
        ErrorCode::SmartModuleLookBackError(s("l")),
        ErrorCode::SmartModuleMemoryLimitExceeded { requested: 1 << 40, max: 1 << 20 },
        ErrorCode::DerivedStreamNotFound(s("d")),
        ErrorCode::DerivedStreamInvalid(s("d")),
        ErrorCode::DeduplicationSmartModuleNameInvalid(s("d")),
        ErrorCode::SystemSpecDeletionAttempt { kind: s("Topic"), name: s("consumer-offset") },
        ErrorCode::SystemSpecUpdatingAttempt { kind: s("Topic"), name: s("x") },
        ErrorCode::FetchSessionNotFound,
        ErrorCode::MirrorProduceFromRemoteNotAllowed,
    ]
}

fn smartmodules() -> Vec<SmartModuleInvocation> {
    let acc = || ByteVec(Bytes::from_static(b"acc"));
    let params = SmartModuleParams {
        params: BTreeMap::from([("key".to_string(), "value".to_string()), ("k2".to_string(), String::new())]),
        lookback: Some(Lookback { last: 10, age: Some(Duration::new(5, 500)) }),
    };
    let kinds = vec![
        SmartModuleKind::Filter,
        SmartModuleKind::Map,
        SmartModuleKind::ArrayMap,
        SmartModuleKind::Aggregate { accumulator: acc() },
        SmartModuleKind::FilterMap,
        SmartModuleKind::Join("other".into()),
        SmartModuleKind::JoinStream { topic: "t".into(), derivedstream: "d".into() },
        SmartModuleKind::Generic(SmartModuleContext::None),
        SmartModuleKind::Generic(SmartModuleContext::Aggregate { accumulator: acc() }),
        SmartModuleKind::Generic(SmartModuleContext::Join("t".into())),
        SmartModuleKind::Generic(SmartModuleContext::JoinStream { topic: "t".into(), derivedstream: "d".into() }),
    ];
    kinds
        .into_iter()
        .enumerate()
        .map(|(i, kind)| SmartModuleInvocation {
            wasm: if i % 2 == 0 {
                SmartModuleWasm::Predefined("infinyon/filter@0.1.0".into())
            } else {
                SmartModuleWasm::AdHoc(ByteVec(Bytes::from_static(b"\x1f\x8b\x08\x00wasm")))
            },
            kind,
            params: if i % 3 == 0 { params.clone() } else { SmartModuleParams::default() },
            name: (i % 2 == 1).then(|| format!("sm-{i}")),
        })
        .collect()
}

fn derived_streams() -> Vec<DerivedStreamInvocation> {
    vec![DerivedStreamInvocation { stream: "ds".into(), params: smartmodules()[0].params.clone() }]
}

fn produce_requests(batches: &[RawBatch]) -> Vec<ProduceRequest> {
    let b = batches;
    vec![
        ProduceRequest {
            transactional_id: None,
            isolation: ProduceAcks(Isolation::ReadUncommitted),
            timeout_ms: 1500,
            topics: vec![TopicProduceData {
                name: "orders".into(),
                partitions: vec![
                    PartitionProduceData { partition_index: 0, records: set_of(&[&b[0]]) },
                    PartitionProduceData { partition_index: 1, records: set_of(&[&b[1], &b[4]]) },
                ],
            }],
            smartmodules: vec![],
        },
        ProduceRequest {
            transactional_id: Some("tx".into()),
            isolation: ProduceAcks(Isolation::ReadCommitted),
            timeout_ms: 0,
            topics: vec![
                TopicProduceData {
                    name: "a".into(),
                    partitions: vec![PartitionProduceData { partition_index: 2, records: set_of(&[&b[2], &b[3]]) }],
                },
                TopicProduceData {
                    name: "b".into(),
                    partitions: vec![PartitionProduceData { partition_index: 0, records: set_of(&[&b[5]]) }],
                },
            ],
            smartmodules: smartmodules()[..2].to_vec(),
        },
    ]
}

fn produce_responses() -> Vec<ProduceResponse> {
    vec![ProduceResponse {
        responses: vec![TopicProduceResponse {
            name: "orders".into(),
            partitions: vec![
                PartitionProduceResponse {
                    partition_index: 0,
                    error_code: ErrorCode::None,
                    base_offset: 10,
                    log_append_time_ms: 0,
                    log_start_offset: 0,
                },
                PartitionProduceResponse {
                    partition_index: 1,
                    error_code: ErrorCode::PartitionFull { replica_key: ReplicaKey::new("orders", 1) },
                    base_offset: -1,
                    log_append_time_ms: 0,
                    log_start_offset: 0,
                },
            ],
        }],
        throttle_time_ms: 0,
    }]
}

fn fetch_offsets_requests() -> Vec<FetchOffsetsRequest> {
    vec![FetchOffsetsRequest {
        topics: vec![FetchOffsetTopic {
            name: "t".into(),
            partitions: vec![FetchOffsetPartition { partition_index: 0 }, FetchOffsetPartition { partition_index: 1 }],
        }],
        consumer_id: Some("c".into()),
    }]
}

fn fetch_offsets_responses() -> Vec<FetchOffsetsResponse> {
    vec![FetchOffsetsResponse {
        topics: vec![FetchOffsetTopicResponse {
            name: "t".into(),
            partitions: vec![
                FetchOffsetPartitionResponse {
                    error_code: ErrorCode::None,
                    partition_index: 0,
                    start_offset: 0,
                    last_stable_offset: 7,
                },
                FetchOffsetPartitionResponse {
                    error_code: ErrorCode::PartitionNotLeader,
                    partition_index: 1,
                    start_offset: -1,
                    last_stable_offset: -1,
                },
            ],
        }],
    }]
}

fn stream_fetch_requests() -> Vec<StreamFetchRequest> {
    let sms = smartmodules();
    vec![
        StreamFetchRequest { topic: "t".into(), max_bytes: 0x0010013a, ..Default::default() },
        StreamFetchRequest {
            topic: "orders".into(),
            partition: 3,
            fetch_offset: 12345,
            max_bytes: 1 << 20,
            isolation: Isolation::ReadCommitted,
            wasm_module: ByteVec(Bytes::from_static(b"\0asm")),
            smartmodule: Some(sms[3].clone()),
            derivedstream: Some(derived_streams()[0].clone()),
            smartmodules: sms[..4].to_vec(),
            consumer_id: Some("consumer-1".into()),
        },
    ]
}

fn stream_fetch_responses(batches: &[RawBatch]) -> Vec<StreamFetchResponse> {
    let b = batches;
    vec![
        StreamFetchResponse {
            topic: "t".into(),
            stream_id: 1,
            partition: FetchablePartitionResponse {
                partition_index: 0,
                error_code: ErrorCode::None,
                high_watermark: 5,
                next_filter_offset: 0,
                log_start_offset: 0,
                aborted: None,
                records: set_of(&[&b[0], &b[3], &b[5]]),
            },
        },
        StreamFetchResponse {
            topic: "t".into(),
            stream_id: 0,
            partition: FetchablePartitionResponse {
                partition_index: 1,
                error_code: ErrorCode::OffsetEvicted { offset: 1, next_available: 9 },
                high_watermark: -1,
                next_filter_offset: 4,
                log_start_offset: 9,
                aborted: Some(vec![AbortedTransaction { producer_id: 1, first_offset: 2 }]),
                records: set_of(&[&b[2], &b[4]]),
            },
        },
    ]
}

fn follower_fetch_requests() -> Vec<FollowerFetchRequest> {
    vec![FollowerFetchRequest {
        topic: "t".into(),
        partition: 2,
        follower: 5002,
        leader_epoch: 3,
        fetch_offset: 40,
        follower_hw: 38,
        max_bytes: 1 << 20,
        max_wait_ms: 500,
    }]
}

fn follower_fetch_responses(batches: &[RawBatch]) -> Vec<FollowerFetchResponse> {
    vec![
        FollowerFetchResponse {
            error: ReplicationError::None,
            leader_epoch: 3,
            high_watermark: 5,
            log_start_offset: 0,
            log_end_offset: 9,
            records: set_of(&[&batches[0], &batches[3]]),
        },
        FollowerFetchResponse { error: ReplicationError::FencedEpoch, leader_epoch: 4, ..Default::default() },
        FollowerFetchResponse {
            error: ReplicationError::OffsetEvicted,
            leader_epoch: 4,
            high_watermark: 200,
            log_start_offset: 120,
            log_end_offset: 200,
            records: RecordSet::default(),
        },
    ]
}

fn epoch_end_offset_requests() -> Vec<EpochEndOffsetRequest> {
    vec![EpochEndOffsetRequest { topic: "t".into(), partition: 0, follower: 5003, leader_epoch: 2, requested_epoch: 1 }]
}

fn epoch_end_offset_responses() -> Vec<EpochEndOffsetResponse> {
    vec![
        EpochEndOffsetResponse { error: ReplicationError::None, epoch: 1, end_offset: 17 },
        EpochEndOffsetResponse { error: ReplicationError::NotLeader, epoch: -1, end_offset: -1 },
    ]
}

/// The consumer-offset requests (public and forwarded) and the `consumer-offset` entries.
fn add_consumer_offsets(t: &mut Vec<Target>) {
    let key = ReplicaKey::new("t", 3);
    let updates = [UpdateConsumerOffsetRequest { offset: 41, session_id: 2 }];
    typed(t, "UpdateConsumerOffsetRequest", &[23, 25], &updates, post_none);
    let answers = [
        UpdateConsumerOffsetResponse { offset: 41, error_code: ErrorCode::None },
        UpdateConsumerOffsetResponse { offset: 0, error_code: ErrorCode::Other("stream without consumer id".into()) },
    ];
    typed(t, "UpdateConsumerOffsetResponse", &[25], &answers, post_none);
    let deletes = [DeleteConsumerOffsetRequest { replica_id: key.clone(), consumer_id: "c".into() }];
    typed(t, "DeleteConsumerOffsetRequest", &[25], &deletes, post_none);
    let deleted = [DeleteConsumerOffsetResponse { error_code: ErrorCode::PartitionNotLeader }];
    typed(t, "DeleteConsumerOffsetResponse", &[25], &deleted, post_none);
    let fetches = [
        FetchConsumerOffsetsRequest { filter_opts: None },
        FetchConsumerOffsetsRequest {
            filter_opts: Some(ConsumerOffsetFilter { replica_id: Some(key.clone()), consumer_id: Some("c".into()) }),
        },
    ];
    typed(t, "FetchConsumerOffsetsRequest", &[23, 24, 25], &fetches, post_none);
    let listed = [FetchConsumerOffsetsResponse {
        error_code: ErrorCode::None,
        consumers: vec![ConsumerOffset {
            consumer_id: "c".into(),
            replica_id: key.clone(),
            offset: 9,
            modified_time: 1_700_000_000,
        }],
    }];
    typed(t, "FetchConsumerOffsetsResponse", &[25], &listed, post_none);
    let forwards = [ForwardConsumerOffsetRequest { replica_id: key.clone(), consumer_id: "c".into(), offset: 3 }];
    typed(t, "ForwardConsumerOffsetRequest", &[0], &forwards, post_none);
    let forwarded = [ForwardConsumerOffsetResponse { error_code: ErrorCode::None }];
    typed(t, "ForwardConsumerOffsetResponse", &[0], &forwarded, post_none);
    let lookups = [LookupConsumerOffsetRequest { replica_id: key.clone(), consumer_id: "c".into() }];
    typed(t, "LookupConsumerOffsetRequest", &[0], &lookups, post_none);
    let found = [LookupConsumerOffsetResponse { error_code: ErrorCode::None, offset: Some(3) }];
    typed(t, "LookupConsumerOffsetResponse", &[0], &found, post_none);
    let offset_key = OffsetKey { replica_id: key, consumer_id: "c".into() };
    let value = OffsetValue { offset: 3, modified_time: 1_700_000_000 };
    let entries = [
        OffsetEntry::updated(&offset_key, &value).unwrap(),
        OffsetEntry::deleted(&offset_key).unwrap(),
        OffsetEntry::Checkpoint,
    ];
    typed(t, "OffsetEntry", &[0], &entries, post_none);
    typed(t, "OffsetKey", &[0], &[offset_key], post_none);
    typed(t, "OffsetValue", &[0], &[value], post_none);
}

fn update_offsets_requests() -> Vec<UpdateOffsetsRequest> {
    vec![UpdateOffsetsRequest {
        offsets: vec![OffsetUpdate { offset: 1, session_id: 1 }, OffsetUpdate { offset: i64::MAX, session_id: 9 }],
    }]
}

fn update_offsets_responses() -> Vec<UpdateOffsetsResponse> {
    vec![UpdateOffsetsResponse {
        status: vec![
            OffsetUpdateStatus { session_id: 1, error: ErrorCode::None },
            OffsetUpdateStatus { session_id: 2, error: ErrorCode::FetchSessionNotFound },
        ],
    }]
}

fn partition_mirror_remote() -> PartitionMirrorConfig {
    PartitionMirrorConfig::Remote(RemotePartitionConfig {
        home_cluster: "home".into(),
        home_spu_key: "spu-key".into(),
        home_spu_id: 5001,
        home_spu_endpoint: "home:9010".into(),
        target: true,
    })
}

fn home_partition() -> HomePartitionConfig {
    HomePartitionConfig { remote_cluster: "edge".into(), remote_replica: "t-0".into(), source: true }
}

fn topic_specs() -> Vec<TopicSpec> {
    vec![
        TopicSpec::computed(3, 2),
        TopicSpec {
            replicas: ReplicaSpec::Assigned(vec![
                PartitionMap { id: 0, replicas: vec![5001, 5002], mirror: None },
                PartitionMap { id: 1, replicas: vec![5002], mirror: Some(partition_mirror_remote()) },
            ]),
            cleanup_policy: Some(CleanupPolicy::Segment(SegmentBasedPolicy { time_in_seconds: 3600 })),
            storage: Some(TopicStorageConfig { segment_size: Some(1 << 20), max_partition_size: Some(1 << 30) }),
            compression_type: CompressionAlgorithm::Zstd,
            deduplication: Some(Deduplication {
                bounds: DeduplicationBounds { count: 100, age: Some(Duration::from_millis(1500)) },
                filter: DeduplicationFilter {
                    transform: DeduplicationTransform {
                        uses: "infinyon/dedup".into(),
                        with: BTreeMap::from([("k".to_string(), "v".to_string())]),
                    },
                },
            }),
            system: true,
        },
        TopicSpec {
            replicas: ReplicaSpec::Mirror(MirrorConfig::Home(HomeMirrorConfig {
                partitions: vec![home_partition(), home_partition()],
                source: true,
            })),
            ..Default::default()
        },
        TopicSpec {
            replicas: ReplicaSpec::Mirror(MirrorConfig::Remote(RemoteMirrorConfig {
                home_cluster: "home".into(),
                home_spus: vec![SpuMirrorConfig { id: 1, key: "k".into(), endpoint: "h:9010".into() }],
                target: true,
            })),
            storage: Some(TopicStorageConfig { segment_size: None, max_partition_size: None }),
            ..Default::default()
        },
        TopicSpec {
            replicas: ReplicaSpec::Computed(TopicReplicaParam {
                partitions: 1,
                replication_factor: 1,
                ignore_rack_assignment: true,
            }),
            ..Default::default()
        },
    ]
}

fn topics() -> Vec<Metadata<TopicSpec>> {
    topic_specs()
        .into_iter()
        .enumerate()
        .map(|(i, spec)| Metadata {
            name: format!("topic-{i}"),
            spec,
            status: TopicStatus {
                resolution: TopicResolution::Provisioned,
                replica_map: BTreeMap::from([(0, vec![5001, 5002]), (1, vec![5002])]),
                mirror_map: if i % 2 == 0 {
                    BTreeMap::from([(0, PartitionMirrorConfig::Home(home_partition()))])
                } else {
                    BTreeMap::new()
                },
                reason: if i == 1 { "not enough SPUs".into() } else { String::new() },
            },
        })
        .collect()
}

fn partitions_md() -> Vec<Metadata<PartitionSpec>> {
    vec![
        Metadata {
            name: "orders-0".into(),
            spec: PartitionSpec {
                leader: 5001,
                replicas: vec![5001, 5002],
                cleanup_policy: Some(CleanupPolicy::Segment(SegmentBasedPolicy { time_in_seconds: 60 })),
                storage: Some(TopicStorageConfig { segment_size: Some(1024), max_partition_size: None }),
                compression_type: CompressionAlgorithm::Any,
                deduplication: None,
                system: false,
                mirror: Some(partition_mirror_remote()),
            },
            status: PartitionStatus {
                resolution: PartitionResolution::Online,
                leader: ReplicaStatus { spu: 5001, hw: 10, leo: 12 },
                lsr: 2,
                replicas: vec![ReplicaStatus { spu: 5002, hw: 10, leo: 11 }],
                size: 4096,
                is_being_deleted: false,
                base_offset: 3,
            },
        },
        Metadata { name: "x-1".into(), spec: PartitionSpec::default(), status: PartitionStatus::default() },
    ]
}

fn spus() -> Vec<Metadata<SpuSpec>> {
    vec![
        Metadata {
            name: "custom-spu-5001".into(),
            spec: SpuSpec {
                id: 5001,
                spu_type: SpuType::Managed,
                public_endpoint: IngressPort {
                    port: 9010,
                    ingress: vec![IngressAddr { hostname: Some("localhost".into()), ip: None }],
                    encryption: EncryptionType::Plaintext,
                },
                private_endpoint: Endpoint {
                    port: 9011,
                    host: "localhost".into(),
                    encryption: EncryptionType::Plaintext,
                },
                rack: None,
                public_endpoint_local: None,
            },
            status: SpuStatus { resolution: SpuStatusResolution::Online },
        },
        Metadata {
            name: "spu-2".into(),
            spec: SpuSpec {
                id: 2,
                spu_type: SpuType::Custom,
                public_endpoint: IngressPort {
                    port: 443,
                    ingress: vec![IngressAddr { hostname: None, ip: Some("10.0.0.1".into()) }, IngressAddr::default()],
                    encryption: EncryptionType::Ssl,
                },
                private_endpoint: Endpoint { port: 9011, host: "spu-2".into(), encryption: EncryptionType::Ssl },
                rack: Some("rack-a".into()),
                public_endpoint_local: Some(Endpoint {
                    port: 1,
                    host: "local".into(),
                    encryption: EncryptionType::Plaintext,
                }),
            },
            status: SpuStatus { resolution: SpuStatusResolution::Init },
        },
    ]
}

fn update_of<S: Spec>(objects: Vec<Metadata<S>>) -> MetadataUpdate<S> {
    let changes = objects
        .iter()
        .enumerate()
        .map(|(i, o)| Change {
            kind: if i % 2 == 0 { ChangeKind::Update } else { ChangeKind::Delete },
            object: o.clone(),
        })
        .collect();
    MetadataUpdate { epoch: 42, changes, all: objects }
}

fn create_requests() -> Vec<CreateRequest> {
    let mut out: Vec<CreateRequest> = topic_specs()
        .into_iter()
        .map(|spec| CreateRequest {
            common: CommonCreateRequest { name: "t".into(), dry_run: false, timeout: Some(1000) },
            object: CreateObject::Topic(spec),
        })
        .collect();
    out.push(CreateRequest {
        common: CommonCreateRequest { name: "sm".into(), dry_run: true, timeout: None },
        object: CreateObject::Other { label: "SmartModule".into(), spec: Bytes::from_static(b"\0\0\0\x04wasm") },
    });
    out
}

fn delete_requests() -> Vec<DeleteRequest> {
    vec![
        DeleteRequest::Topic { name: "t".into(), force: true },
        DeleteRequest::Other(TypeBuffer { label: "SpuGroup".into(), payload: Bytes::from_static(b"\0\x01g") }),
    ]
}

fn list_requests() -> Vec<ListRequest> {
    vec![
        ListRequest {
            label: "Topic".into(),
            filters: ListFilters {
                name_filters: vec![ListFilter { name: "t".into() }, ListFilter { name: String::new() }],
                summary: true,
                system: true,
            },
        },
        ListRequest { label: "SPU".into(), filters: ListFilters::default() },
    ]
}

fn list_responses() -> Vec<ListResponse> {
    vec![
        ListResponse::Topic(topics()),
        ListResponse::Partition(partitions_md()),
        ListResponse::Spu(spus()),
        ListResponse::empty("SmartModule"),
    ]
}

fn watch_requests() -> Vec<WatchRequest> {
    vec![WatchRequest { label: "Partition".into(), params: WatchParams { epoch: 7, summary: true } }]
}

fn watch_responses() -> Vec<WatchResponse> {
    vec![
        WatchResponse::Topic(update_of(topics())),
        WatchResponse::Partition(update_of(partitions_md())),
        WatchResponse::Spu(MetadataUpdate { epoch: 1, changes: vec![], all: spus() }),
        WatchResponse::empty("SpuGroup", 3),
    ]
}

fn topic_actions() -> Vec<UpdateTopicAction> {
    vec![
        UpdateTopicAction::AddPartition { count: 2 },
        UpdateTopicAction::AddMirror { remote_cluster: "edge".into(), home_to_mirror: true },
    ]
}

fn update_requests() -> Vec<UpdateRequest> {
    let mut out: Vec<UpdateRequest> =
        topic_actions().into_iter().map(|action| UpdateRequest::Topic { name: "t".into(), action }).collect();
    out.push(UpdateRequest::Other(TypeBuffer { label: "Mirror".into(), payload: Bytes::from_static(b"\0\x01m") }));
    out
}

fn statuses() -> Vec<Status> {
    vec![Status::ok("t"), Status::error("t", ErrorCode::TopicAlreadyExists, "Topic 't' already exists")]
}

fn type_buffers() -> Vec<TypeBuffer> {
    vec![
        TypeBuffer { label: "TableFormat".into(), payload: Bytes::from_static(&[0, 0, 0, 0]) },
        TypeBuffer { label: String::new(), payload: Bytes::new() },
    ]
}

/// Request frame payloads (after the length prefix), one per API the servers decode.
fn request_frames() -> Vec<Bytes> {
    fn frame<R: Request>(api_version: Version, body: &R) -> Bytes {
        let header = RequestHeader { api_key: R::API_KEY, api_version, correlation_id: 3, client_id: "fluvio".into() };
        let mut dst = BytesMut::new();
        encode_request_frame(&header, body, &mut dst).unwrap();
        dst.freeze().slice(4..)
    }
    let batches = sample_batches();
    vec![
        frame(2, &api_versions_requests()[0]),
        frame(0, &api_versions_requests()[1]),
        frame(25, &produce_requests(&batches)[0]),
        frame(25, &fetch_offsets_requests()[0]),
        frame(25, &stream_fetch_requests()[1]),
        frame(0, &update_offsets_requests()[0]),
        frame(25, &UpdateConsumerOffsetRequest { offset: 4, session_id: 1 }),
        frame(25, &FetchConsumerOffsetsRequest { filter_opts: Some(ConsumerOffsetFilter::default()) }),
        frame(19, &create_requests()[1]),
        frame(19, &delete_requests()[0]),
        frame(19, &list_requests()[0]),
        frame(19, &watch_requests()[0]),
        frame(19, &update_requests()[0]),
    ]
}

/// A stream of several length-prefixed frames, one of them larger than 1024 bytes.
fn frame_stream() -> Bytes {
    let mut dst = BytesMut::new();
    for payload in request_frames() {
        dst.put_i32(payload.len() as i32);
        dst.put_slice(&payload);
    }
    let big = ProduceRequest {
        topics: vec![TopicProduceData {
            name: "big".into(),
            partitions: vec![PartitionProduceData {
                partition_index: 0,
                records: set_of(&[&batch_of(Compression::None, 12)]),
            }],
        }],
        ..Default::default()
    };
    let header = RequestHeader { api_key: 0, api_version: 25, correlation_id: 4, client_id: "fluvio".into() };
    encode_request_frame(&header, &big, &mut dst).unwrap();
    assert!(dst.len() > 2048);
    encode_response_frame(4, &produce_responses()[0], 25, &mut dst).unwrap();
    dst.freeze()
}

// =============================================================================================
// Property runner.

/// Runs `test` over `cases` values of `strategy`. `PROPTEST_CASES`, when set, overrides the
/// case count (e.g. `PROPTEST_CASES=100000` for a long local run).
fn run_property<S: Strategy>(
    name: &str,
    cases: u32,
    strategy: S,
    test: impl Fn(S::Value) -> Result<(), TestCaseError>,
) {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(cases);
    let mut runner = TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() });
    if let Err(err) = runner.run(&strategy, test) {
        panic!("{name}: {err}");
    }
}

/// Runs one target on `input`, turning a panic into a test failure that names the target.
fn run_target(target: &Target, input: &Bytes) -> Result<bool, TestCaseError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (target.run)(input))).map_err(|payload| {
        let message = payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        TestCaseError::fail(format!("{} panicked on {} bytes: {message}", target.name, input.len()))
    })
}

fn run_all_targets(input: &Bytes) -> Result<(), TestCaseError> {
    for target in targets() {
        run_target(target, input)?;
    }
    Ok(())
}

/// Plausible protocol fragments: small counts and tags, hostile lengths, short strings, type
/// labels, varints. Glued together they get much deeper into the decoders than random bytes.
fn token() -> impl Strategy<Value = Vec<u8>> {
    let string = |s: &[u8]| {
        let mut v = (s.len() as u16).to_be_bytes().to_vec();
        v.extend_from_slice(s);
        v
    };
    prop_oneof![
        3 => (0u8..8).prop_map(|b| vec![b]),
        2 => (0i16..4).prop_map(|v| v.to_be_bytes().to_vec()),
        3 => (0i32..4).prop_map(|v| v.to_be_bytes().to_vec()),
        1 => prop::sample::select(HOSTILE_LENGTHS.to_vec()).prop_map(|v| v.to_be_bytes().to_vec()),
        2 => prop::collection::vec(b'a'..=b'z', 0..6).prop_map(move |s| string(&s)),
        1 => prop::sample::select(vec!["Topic", "Partition", "SPU", "SmartModule", "fluvio"])
            .prop_map(move |s| string(s.as_bytes())),
        1 => any::<i64>().prop_map(|v| v.to_be_bytes().to_vec()),
        1 => (-3i64..300).prop_map(varint),
        1 => prop::collection::vec(any::<u8>(), 0..8),
    ]
}

fn token_soup() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(token(), 0..48).prop_map(|tokens| tokens.concat())
}

fn varint(value: i64) -> Vec<u8> {
    let mut dst = BytesMut::new();
    put_varint(&mut dst, value);
    dst.to_vec()
}

const HOSTILE_LENGTHS: [u32; 10] =
    [0x7fff_ffff, 0xffff_ffff, 0x8000_0000, 0x8000, 0x7fff, 0xffff, 0x1_0000, 0x0400_0000, 0, 1];
const HOSTILE_VARINTS: [i64; 8] = [1 << 40, -1, i64::MAX, i64::MIN, 1 << 31, 0x7fff_ffff, 300, -300];

#[derive(Debug, Clone)]
enum Mutation {
    FlipBit(Index, u8),
    SetByte(Index, u8),
    /// Overwrites 2 (`wide == false`) or 4 bytes with a big-endian hostile length.
    Length {
        at: Index,
        wide: bool,
        value: u32,
    },
    /// Overwrites 8 bytes with a big-endian extreme i64 (offsets, timestamps).
    Int64 {
        at: Index,
        value: i64,
    },
    /// Overwrites bytes with the varint of a hostile value.
    Varint {
        at: Index,
        value: i64,
    },
    Truncate(Index),
    Insert(Index, Vec<u8>),
    Duplicate {
        at: Index,
        len: usize,
    },
    Delete {
        at: Index,
        len: usize,
    },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        2 => (any::<Index>(), 0u8..8).prop_map(|(at, bit)| Mutation::FlipBit(at, bit)),
        2 => (any::<Index>(), any::<u8>()).prop_map(|(at, v)| Mutation::SetByte(at, v)),
        3 => (any::<Index>(), any::<bool>(), prop::sample::select(HOSTILE_LENGTHS.to_vec()))
            .prop_map(|(at, wide, value)| Mutation::Length { at, wide, value }),
        1 => (any::<Index>(), prop::sample::select(vec![i64::MAX, i64::MIN, -1, 1 << 62]))
            .prop_map(|(at, value)| Mutation::Int64 { at, value }),
        1 => (any::<Index>(), prop::sample::select(HOSTILE_VARINTS.to_vec()))
            .prop_map(|(at, value)| Mutation::Varint { at, value }),
        1 => any::<Index>().prop_map(Mutation::Truncate),
        1 => (any::<Index>(), prop::collection::vec(any::<u8>(), 1..8)).prop_map(|(at, b)| Mutation::Insert(at, b)),
        1 => (any::<Index>(), 1usize..64).prop_map(|(at, len)| Mutation::Duplicate { at, len }),
        1 => (any::<Index>(), 1usize..16).prop_map(|(at, len)| Mutation::Delete { at, len }),
    ]
}

fn apply(bytes: &mut Vec<u8>, mutation: &Mutation) {
    let len = bytes.len();
    // A position in 0..len (for overwrites) or 0..=len (for insertions).
    let at = |i: &Index| if len == 0 { 0 } else { i.index(len) };
    let overwrite = |bytes: &mut Vec<u8>, pos: usize, raw: &[u8]| {
        for (k, b) in raw.iter().enumerate() {
            if let Some(slot) = bytes.get_mut(pos + k) {
                *slot = *b;
            }
        }
    };
    match mutation {
        Mutation::FlipBit(i, bit) if len > 0 => bytes[at(i)] ^= 1 << bit,
        Mutation::SetByte(i, v) if len > 0 => bytes[at(i)] = *v,
        Mutation::Length { at: i, wide, value } => {
            let raw = if *wide { value.to_be_bytes().to_vec() } else { (*value as u16).to_be_bytes().to_vec() };
            overwrite(bytes, at(i), &raw);
        }
        Mutation::Int64 { at: i, value } => overwrite(bytes, at(i), &value.to_be_bytes()),
        Mutation::Varint { at: i, value } => overwrite(bytes, at(i), &varint(*value)),
        Mutation::Truncate(i) => bytes.truncate(at(i)),
        Mutation::Insert(i, data) => {
            let pos = if len == 0 { 0 } else { i.index(len + 1) };
            bytes.splice(pos..pos, data.iter().copied());
        }
        Mutation::Duplicate { at: i, len: n } => {
            let start = at(i);
            let end = (start + n).min(len);
            let segment = bytes[start..end].to_vec();
            bytes.splice(end..end, segment);
        }
        Mutation::Delete { at: i, len: n } => {
            let start = at(i);
            bytes.drain(start..(start + n).min(len));
        }
        Mutation::FlipBit(..) | Mutation::SetByte(..) => {}
    }
}

// =============================================================================================
// Properties.

#[test]
fn every_seed_decodes() {
    let targets = targets();
    assert!(targets.len() > 200, "only {} targets", targets.len());
    for target in targets {
        for seed in &target.seeds {
            assert!((target.run)(seed), "{}: seed {seed:02x?} does not decode", target.name);
        }
    }
}

/// (a) Random bytes, 0..4096 long, through every decoder.
#[test]
fn random_bytes_never_panic_nor_over_allocate() {
    run_property("random bytes", 1024, prop::collection::vec(any::<u8>(), 0..4096), |input| {
        run_all_targets(&Bytes::from(input))
    });
}

/// (a) Token soup, bare and inside an SC envelope, through every decoder.
#[test]
fn token_soup_never_panics_nor_over_allocates() {
    let label = prop::sample::select(vec!["Topic", "Partition", "SPU", "SmartModule"]);
    let enveloped = (label, token_soup()).prop_map(|(label, soup)| {
        let mut v = (label.len() as u16).to_be_bytes().to_vec();
        v.extend_from_slice(label.as_bytes());
        v.extend_from_slice(&(soup.len() as u32).to_be_bytes());
        v.extend(soup);
        v
    });
    run_property("token soup", 1024, prop_oneof![token_soup(), enveloped], |input| {
        run_all_targets(&Bytes::from(input))
    });
}

/// (b) + (c) Valid encodings of every type, mutated, through their decoder.
#[test]
fn mutated_encodings_never_panic_nor_over_allocate() {
    let targets = targets();
    let corpus: Vec<(&Target, &Bytes)> = targets.iter().flat_map(|t| t.seeds.iter().map(move |s| (t, s))).collect();
    let strategy = (any::<Index>(), prop::collection::vec(mutation(), 1..6));
    run_property("mutations", 24_000, strategy, |(pick, mutations)| {
        let (target, seed) = corpus[pick.index(corpus.len())];
        let mut bytes = seed.to_vec();
        for mutation in &mutations {
            apply(&mut bytes, mutation);
        }
        run_target(target, &Bytes::from(bytes)).map(drop)
    });
}

/// (d) Length-prefixed, complete encodings: every strict prefix is an error.
#[test]
fn strict_prefixes_of_valid_encodings_fail() {
    let mut checked_prefixes = 0;
    for target in targets().iter().filter(|t| t.strict_prefix) {
        for seed in &target.seeds {
            for len in 0..seed.len() {
                assert!(
                    !(target.run)(&seed.slice(..len)),
                    "{}: a {len}-byte prefix of a {}-byte encoding decoded",
                    target.name,
                    seed.len()
                );
                checked_prefixes += 1;
            }
        }
    }
    assert!(checked_prefixes > 10_000, "only {checked_prefixes} prefixes checked");
}

/// (d) `RecordSet::parse` on a cut set: the batches that arrived whole are kept; a cut inside a
/// batch header is an incomplete invalid tail; a cut inside a records area is the partial
/// batch, whose `complete_records` are exactly the records that arrived whole (none when
/// compressed or with a schema id); either way `cut` tells how much of the batch arrived, its
/// base offset once 8 bytes did and its whole size once 12 did; `batches()` fails as
/// incomplete.
#[test]
fn cut_record_sets_keep_whole_batches_and_report_the_cut_one() {
    for set in record_sets() {
        let bytes = set.as_bytes().clone();
        let full = set.batches().unwrap();
        let mut spans = Vec::new();
        let mut pos = 0;
        for batch in &full {
            spans.push((pos, pos + batch.encoded_len()));
            pos += batch.encoded_len();
        }
        assert_eq!(pos, bytes.len());
        for cut in 0..=bytes.len() {
            let prefix = RecordSet::from_encoded(bytes.slice(..cut));
            let parsed = prefix.parse();
            let whole: Vec<RawBatch> =
                full.iter().zip(&spans).filter(|(_, (_, end))| *end <= cut).map(|(b, _)| b.clone()).collect();
            assert_eq!(parsed.batches, whole, "cut at {cut}");
            let Some((batch, &(start, _))) =
                full.iter().zip(&spans).find(|(_, (start, end))| *start < cut && cut < *end)
            else {
                assert!(parsed.is_complete(), "cut at a batch boundary ({cut}) is complete");
                assert_eq!(parsed.cut, None);
                assert_eq!(prefix.batches().unwrap(), whole);
                continue;
            };
            let arrived = cut - start;
            let declared = parsed.cut.expect("a cut inside a batch is reported");
            assert_eq!(declared.received, arrived, "cut at {cut}");
            assert_eq!(declared.base_offset, (arrived >= 8).then_some(batch.header.base_offset), "cut at {cut}");
            assert_eq!(declared.total_len, (arrived >= 12).then_some(batch.encoded_len()), "cut at {cut}");
            if arrived < BATCH_FILE_HEADER_LEN {
                let (len, err) = parsed.invalid_tail.as_ref().expect("a cut header is an invalid tail");
                assert_eq!(*len, arrived);
                assert!(err.is_incomplete(), "cut at {cut}: {err}");
                assert!(parsed.partial.is_none());
            } else {
                assert!(parsed.invalid_tail.is_none(), "cut at {cut}");
                let partial = parsed.partial.as_ref().expect("a cut records area is a partial batch");
                assert_eq!(partial.header, batch.header);
                let area_start = BATCH_FILE_HEADER_LEN + if batch.schema_id.is_some() { 4 } else { 0 };
                assert_eq!(partial.records_prefix, bytes.slice(start + area_start.min(arrived)..cut));
                let expected: Vec<Record> = if batch.compression() == Ok(Compression::None) && batch.schema_id.is_none()
                {
                    let mut end = area_start + 4;
                    batch
                        .records(DEFAULT_MAX_DECOMPRESSED)
                        .unwrap()
                        .into_iter()
                        .take_while(|r| {
                            end += r.encoded_len();
                            end <= arrived
                        })
                        .collect()
                } else {
                    Vec::new()
                };
                assert_eq!(partial.complete_records(), expected, "cut at {cut}");
            }
            let err = prefix.batches().unwrap_err();
            assert!(err.is_incomplete(), "cut at {cut}: {err}");
        }
    }
}

/// (d) A cut frame stream yields the frames that arrived whole, then waits: never an error,
/// and the reservation for the cut frame stays within the allocation bound.
#[test]
fn frame_decoder_waits_for_cut_frames() {
    let stream = frame_stream();
    let decoder = FrameDecoder::default();
    let mut all = Vec::new();
    let mut ends = Vec::new();
    let mut buf = BytesMut::from(&stream[..]);
    while let Some(frame) = decoder.decode(&mut buf).unwrap() {
        ends.push(stream.len() - buf.len());
        all.push(frame);
    }
    assert!(buf.is_empty() && all.len() > 5);
    for cut in 0..=stream.len() {
        let mut buf = BytesMut::from(&stream[..cut]);
        let got = structural("FrameDecoder::decode", cut, || {
            let mut got = Vec::new();
            while let Some(frame) = decoder.decode(&mut buf).unwrap() {
                got.push(frame);
            }
            got
        });
        let whole = ends.iter().filter(|&&end| end <= cut).count();
        assert_eq!(got, all[..whole], "cut at {cut}");
        assert_eq!(buf.len(), cut - ends[..whole].last().copied().unwrap_or(0));
    }
}

/// (c) Valid inputs packed with the smallest possible elements: the legitimate worst case of
/// memory per input byte stays under [`ALLOC_FACTOR`] (no false alarms from the bound).
#[test]
fn dense_valid_collections_fit_the_bound() {
    fn dense<T: Encoder + Decoder>(what: &str, value: T, versions: &[Version]) {
        for &version in versions {
            let bytes = value.to_bytes(version).unwrap();
            assert!(bytes.len() > 4 * 1024, "{what}: only {} bytes", bytes.len());
            let (decoded, stats) = measure(|| T::decode_exact(bytes.clone(), version));
            decoded.unwrap_or_else(|e| panic!("{what} v{version}: {e}"));
            let n = bytes.len();
            eprintln!(
                "{what} v{version}: {n} bytes, largest allocation {:.1}×, peak {:.1}×",
                stats.largest as f64 / n as f64,
                stats.peak_live as f64 / n as f64
            );
            assert!(
                stats.largest <= structural_bound(n) && stats.peak_live <= structural_peak_bound(n),
                "{what} v{version}: {n} bytes in, largest allocation {} ({:.1}×), peak {} ({:.1}×)",
                stats.largest,
                stats.largest as f64 / n as f64,
                stats.peak_live,
                stats.peak_live as f64 / n as f64,
            );
        }
    }
    const N: usize = 4000;
    dense(
        "ProduceRequest.smartmodules",
        ProduceRequest { smartmodules: vec![SmartModuleInvocation::default(); N], ..Default::default() },
        &[0, 20, 25],
    );
    dense(
        "StreamFetchRequest.smartmodules",
        StreamFetchRequest { smartmodules: vec![SmartModuleInvocation::default(); N], ..Default::default() },
        &[18, 25],
    );
    dense(
        "ProduceRequest.topics",
        ProduceRequest { topics: vec![TopicProduceData::default(); N], ..Default::default() },
        &[25],
    );
    dense(
        "ProduceResponse",
        ProduceResponse { responses: vec![TopicProduceResponse::default(); N], throttle_time_ms: 0 },
        &[25],
    );
    dense(
        "FetchOffsetsRequest",
        FetchOffsetsRequest { topics: vec![FetchOffsetTopic::default(); N], consumer_id: None },
        &[25],
    );
    dense("UpdateOffsetsResponse", UpdateOffsetsResponse { status: vec![OffsetUpdateStatus::default(); N] }, &[0]);
    dense("UpdateOffsetsRequest", UpdateOffsetsRequest { offsets: vec![OffsetUpdate::default(); N] }, &[0]);
    dense(
        "ApiVersionsResponse",
        ApiVersionsResponse { api_keys: vec![ApiVersionKey::default(); N], ..Default::default() },
        &[2],
    );
    dense(
        "FetchablePartitionResponse.aborted",
        FetchablePartitionResponse { aborted: Some(vec![AbortedTransaction::default(); N]), ..Default::default() },
        &[25],
    );
    let bare_topic = || Metadata {
        name: String::new(),
        spec: TopicSpec { replicas: ReplicaSpec::Assigned(vec![]), ..Default::default() },
        status: TopicStatus::default(),
    };
    dense("ListResponse::Topic", ListResponse::Topic(vec![bare_topic(); N]), &[11, 19]);
    dense(
        "WatchResponse::Topic changes",
        WatchResponse::Topic(MetadataUpdate {
            epoch: 0,
            changes: vec![Change { kind: ChangeKind::Update, object: bare_topic() }; N],
            all: vec![],
        }),
        &[11, 19],
    );
    dense("ListResponse::Partition", ListResponse::Partition(vec![Metadata::default(); N / 8]), &[11, 19]);
    dense("ListResponse::Spu", ListResponse::Spu(vec![Metadata::default(); N / 2]), &[11, 19]);
    let mut spu = Metadata::<SpuSpec>::default();
    spu.spec.public_endpoint.ingress = vec![IngressAddr::default(); 2 * N];
    dense("SpuSpec.ingress", ListResponse::Spu(vec![spu]), &[19]);
    dense(
        "ListRequest.name_filters",
        ListRequest {
            label: "Topic".into(),
            filters: ListFilters { name_filters: vec![ListFilter::default(); N], ..Default::default() },
        },
        &[19],
    );
    dense(
        "CreateRequest assigned partitions",
        CreateRequest {
            common: CommonCreateRequest::default(),
            object: CreateObject::Topic(TopicSpec {
                replicas: ReplicaSpec::Assigned(vec![PartitionMap::default(); N]),
                ..Default::default()
            }),
        },
        &[13, 19],
    );
    dense(
        "TopicSpec home mirror partitions",
        TopicSpec {
            replicas: ReplicaSpec::Mirror(MirrorConfig::Home(HomeMirrorConfig {
                partitions: vec![HomePartitionConfig::default(); N],
                source: false,
            })),
            ..Default::default()
        },
        &[11, 19],
    );
    dense(
        "TopicStatus.replica_map",
        TopicStatus { replica_map: (0..N as u32).map(|i| (i, vec![])).collect(), ..Default::default() },
        &[19],
    );

    // Records: records() decodes the decompressed area like an input of its own length.
    let minimal: Vec<Record> = (0..N).map(|i| Record::new(None, Bytes::new(), i as i64, 0)).collect();
    for codec in Compression::ALL {
        let batch = RawBatch::from_records(&minimal, codec, -1).unwrap();
        let area = codec.decompress(&batch.records, DEFAULT_MAX_DECOMPRESSED).unwrap().len();
        let (records, stats) = measure(|| batch.validate(1 << 20));
        assert_eq!(records.unwrap(), N);
        let bound = decompress_bound(codec, 1 << 20).max(structural_bound(area));
        assert!(stats.largest <= bound, "{codec}: {} > {bound}", stats.largest);
    }
}

// =============================================================================================
// The tracker and the bound themselves.

#[test]
fn the_bound_catches_count_trusting_decoders() {
    use fluvio_wire::bytes::Buf;
    // A decoder that reserves what the wire announces.
    let input = Bytes::from_static(&[0x00, 0x10, 0x00, 0x00, 1, 2, 3, 4]);
    let (_, stats) = measure(|| {
        let mut src = input.clone();
        let count = src.get_u32() as usize;
        Vec::<u64>::with_capacity(count)
    });
    assert!(stats.largest > structural_bound(input.len()), "{stats:?}");
    // One that checks the count against the remaining input but reserves `count` elements of a
    // type far larger in memory than on the wire.
    let n = 16 * 1024;
    let (_, stats) = measure(|| Vec::<Metadata<PartitionSpec>>::with_capacity(n - 4));
    assert!(stats.largest > structural_bound(n), "{stats:?}");
    // A decompressor whose buffer doubles past the limit.
    let limit = 1 << 20;
    let (_, stats) = measure(|| {
        let mut out = Vec::<u8>::with_capacity(limit);
        out.resize(limit + 1, 0);
        out
    });
    assert!(stats.largest > decompress_bound(Compression::Gzip, limit), "{stats:?}");
}

#[test]
fn the_tracker_is_per_thread_and_scopes_isolate() {
    let (_, stats) = measure(|| {
        std::thread::spawn(|| vec![0u8; 32 << 20].len()).join().unwrap();
    });
    // The spawned thread's 32 MiB is not counted here (only the thread's own bookkeeping is).
    assert!(stats.largest < 1 << 20, "{stats:?}");
    let (_, outer) = measure(|| {
        let (_, inner) = measure(|| vec![0u8; 1 << 20]);
        assert!(inner.largest >= 1 << 20);
        vec![0u8; 100]
    });
    assert!(outer.largest < 1 << 20, "{outer:?}");
}

// =============================================================================================
// Classic attacks, deterministically.

/// Asserts that decoding `input` as `T` fails with an allocation no larger than `max_alloc`.
fn refused<T: Decoder + std::fmt::Debug>(input: &[u8], version: Version, max_alloc: usize) -> fluvio_wire::DecodeError {
    let (result, stats) = measure(|| T::decode_exact(Bytes::copy_from_slice(input), version));
    assert!(stats.largest <= max_alloc, "{}: allocated {} bytes", std::any::type_name::<T>(), stats.largest);
    result.expect_err("decoded hostile input")
}

#[test]
fn vec_count_0x7fffffff_with_4_bytes_of_input() {
    let input = [0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0];
    for err in [
        refused::<Vec<u64>>(&input, 0, 256),
        refused::<Vec<Metadata<TopicSpec>>>(&input, 19, 256),
        refused::<UpdateOffsetsRequest>(&input, 0, 256),
        refused::<UpdateOffsetsResponse>(&input, 0, 256),
        refused::<FetchOffsetsRequest>(&input, 25, 256),
        refused::<FetchOffsetsResponse>(&input, 25, 256),
        refused::<ProduceResponse>(&input, 25, 256),
    ] {
        assert_eq!(err.kind(), &DecodeErrorKind::InvalidLength(i32::MAX as i64), "{err}");
    }
    // Inside an envelope and after the epoch of a watch message.
    let mut watch = vec![0, 5];
    watch.extend_from_slice(b"Topic");
    watch.extend_from_slice(&[0, 0, 0, 16, 0, 0, 0, 0, 0, 0, 0, 1, 0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0]);
    refused::<WatchResponse>(&watch, 19, 256);
}

#[test]
fn vec_count_as_large_as_the_input_does_not_reserve_count_large_elements() {
    // A Partition list whose count equals the bytes left: all zeros decode as valid default
    // partitions (about 60 bytes each), so the count passes the "fits the input" check while
    // each element takes 312 bytes in memory.
    let n = 64 * 1024;
    let mut payload = vec![0u8; n];
    payload[..4].copy_from_slice(&((n - 4) as u32).to_be_bytes());
    let mut input = vec![0, 9];
    input.extend_from_slice(b"Partition");
    input.extend_from_slice(&(n as u32).to_be_bytes());
    input.extend_from_slice(&payload);
    let (result, stats) = measure(|| ListResponse::decode_exact(Bytes::from(input.clone()), 19));
    assert!(result.unwrap_err().is_incomplete());
    assert!(stats.largest <= structural_bound(input.len()), "{stats:?}");
}

#[test]
fn string_length_0x7fff_with_short_input() {
    let err = refused::<String>(&[0x7f, 0xff, b'a', b'b'], 0, 64);
    assert!(err.is_incomplete(), "{err}");
    // As the client id of a request header.
    let err = refused::<RequestHeader>(&[0, 0, 0, 25, 0, 0, 0, 1, 0x7f, 0xff, b'f', b'l'], 0, 64);
    assert!(err.is_incomplete() && err.path() == ["RequestHeader.client_id"], "{err}");
    // As a type label.
    refused::<ListResponse>(&[0x7f, 0xff, b'T', 0, 0, 0, 0], 19, 64);
}

#[test]
fn varint_of_eleven_0xff_bytes() {
    let mut src = Bytes::from_static(&[0xff; 11]);
    assert_eq!(get_varint(&mut src).unwrap_err().kind(), &DecodeErrorKind::VarintOverflow);
    let mut src = Bytes::from_static(&[0xff; 11]);
    assert_eq!(Record::decode_from(&mut src).unwrap_err().kind(), &DecodeErrorKind::VarintOverflow);
    // As the timestamp delta inside a record body.
    let mut body = vec![0x20, 0];
    body.extend_from_slice(&[0xff; 11]);
    body.extend_from_slice(&[0; 5]);
    assert_eq!(Record::decode_from(&mut Bytes::from(body)).unwrap_err().kind(), &DecodeErrorKind::VarintOverflow);
}

#[test]
fn record_length_varint_claiming_2_pow_40() {
    let mut input = varint(1 << 40);
    input.extend_from_slice(&[0; 16]);
    let (result, stats) = measure(|| Record::decode_from(&mut Bytes::from(input.clone())));
    assert_eq!(result.unwrap_err().kind(), &DecodeErrorKind::InvalidLength(1 << 40));
    assert!(stats.largest <= 64, "{stats:?}");
    // A key length claiming 2^40 inside a well-formed record length.
    let mut body = vec![0, 0, 0, 1];
    body.extend(varint(1 << 40));
    body.extend_from_slice(&[0, 0]);
    let mut input = varint(body.len() as i64);
    input.extend(body);
    let err = Record::decode_from(&mut Bytes::from(input)).unwrap_err();
    assert_eq!(err.kind(), &DecodeErrorKind::InvalidLength(1 << 40));
    // The same through a batch: records() fails instead of allocating.
    let batch = RawBatch {
        header: BatchHeader { last_offset_delta: 0, ..BatchHeader::default() },
        schema_id: None,
        records: Bytes::from([&[0u8, 0, 0, 1][..], &varint(1 << 40), &[0; 8]].concat()),
    };
    let (result, stats) = measure(|| batch.validate(DEFAULT_MAX_DECOMPRESSED));
    assert!(result.is_err());
    assert!(stats.largest <= 1024, "{stats:?}");
}

/// A batch header announcing `batch_len` with nothing after it.
fn bare_batch_header(batch_len: i32) -> Vec<u8> {
    let mut header = encode_batch(&batch_of(Compression::None, 1))[..BATCH_FILE_HEADER_LEN].to_vec();
    header[8..12].copy_from_slice(&batch_len.to_be_bytes());
    header
}

#[test]
fn batch_len_i32_max() {
    let header = bare_batch_header(i32::MAX);
    let (result, stats) = measure(|| RawBatch::decode_from(&mut Bytes::from(header.clone())));
    assert!(result.unwrap_err().is_incomplete());
    assert!(stats.largest <= 256, "{stats:?}");
    // parse() reports the cut batch; nothing of it is a record.
    let set = RecordSet::from_encoded(Bytes::from(header.clone()));
    let parsed = set.parse();
    let partial = parsed.partial.expect("partial batch");
    assert_eq!(partial.header.batch_len, i32::MAX);
    assert!(partial.records_prefix.is_empty() && partial.complete_records().is_empty());
    assert!(set.batches().unwrap_err().is_incomplete());
    // A negative batch_len is invalid, not incomplete.
    let err = RawBatch::decode_from(&mut Bytes::from(bare_batch_header(-1))).unwrap_err();
    assert_eq!(err.kind(), &DecodeErrorKind::InvalidLength(-1));
    // The record set and frame lengths around it.
    refused::<RecordSet>(&[0x7f, 0xff, 0xff, 0xff, 0, 0], 0, 64);
    let mut huge = BytesMut::from(&[0x7f, 0xff, 0xff, 0xff][..]);
    assert!(matches!(FrameDecoder::default().decode(&mut huge), Err(FrameError::TooLarge { .. })));
}

#[test]
fn frame_announcing_the_maximum_size_reserves_little() {
    // 4 bytes announcing a frame just under the default maximum: the decoder waits for more
    // without reserving 64 MiB for a peer that may never send it.
    let mut buf = BytesMut::from(&((DEFAULT_MAX_FRAME_SIZE - 1) as u32).to_be_bytes()[..]);
    let (result, stats) = measure(|| FrameDecoder::default().decode(&mut buf));
    assert_eq!(result, Ok(None));
    assert!(stats.largest <= structural_bound(4), "{stats:?}");
}

fn zeros_compressed(codec: Compression) -> Bytes {
    codec.compress(&vec![0u8; 1 << 20]).unwrap()
}

#[test]
fn compression_bombs_are_refused_within_the_limit() {
    let limit = 64 * 1024;
    for codec in [Compression::Gzip, Compression::Snappy, Compression::Lz4, Compression::Zstd] {
        let bomb = zeros_compressed(codec);
        let (result, stats) = measure(|| codec.decompress(&bomb, limit));
        assert_eq!(result.unwrap_err().kind(), &DecodeErrorKind::DecompressedTooLarge { limit }, "{codec}");
        // The output buffer never grows past the limit (+1 byte to detect "over").
        assert!(stats.largest <= decompress_bound(codec, limit), "{codec}: {stats:?}");
        eprintln!("{codec} bomb, limit {limit}: largest allocation {} bytes, peak {}", stats.largest, stats.peak_live);

        // The same bomb as a batch.
        let area = RawBatch::from_records_area(Bytes::from(vec![0u8; 1 << 20]), 1, 0, codec, -1).unwrap();
        assert_eq!(area.records, bomb);
        for result in [area.records(limit).map(drop), area.validate(limit).map(drop)] {
            assert_eq!(result.unwrap_err().kind(), &DecodeErrorKind::DecompressedTooLarge { limit }, "{codec}");
        }
        // And with the limit just above the output, it decodes (to a bad records area).
        let (result, stats) = measure(|| codec.decompress(&bomb, 1 << 20));
        assert_eq!(result.unwrap().len(), 1 << 20);
        assert!(stats.largest <= decompress_bound(codec, 1 << 20), "{codec}: {stats:?}");
    }
}

#[test]
fn decompress_without_a_limit_does_not_overflow() {
    for codec in Compression::ALL {
        let compressed = codec.compress(b"hello").unwrap();
        assert_eq!(codec.decompress(&compressed, usize::MAX).unwrap().as_ref(), b"hello", "{codec}");
    }
}

#[test]
fn nested_option_and_vec_counts_are_each_bounded() {
    // The protocol has no recursive type, so nesting depth is bounded by the types; what an
    // attacker controls is a count at every level. Each level claims all the remaining input.
    type Nested = Vec<Option<Vec<Option<Vec<Option<Vec<String>>>>>>>;
    let mut input = Vec::new();
    let total = 4096;
    while input.len() + 5 < total {
        let left = (total - input.len() - 4) as u32;
        input.extend_from_slice(&left.to_be_bytes());
        input.push(1); // Some
    }
    let (result, stats) = measure(|| Nested::decode_exact(Bytes::from(input.clone()), 0));
    assert!(result.is_err());
    assert!(stats.largest <= structural_bound(input.len()), "{stats:?}");
    assert!(stats.peak_live <= structural_peak_bound(input.len()), "{stats:?}");
    // A valid deeply nested value round-trips.
    let value: Nested = vec![Some(vec![None, Some(vec![Some(vec!["x".to_string()]), None])]), None];
    assert_eq!(Nested::decode_exact(value.to_bytes(0).unwrap(), 0).unwrap(), value);
    // The deepest nesting of the protocol: a watch delta of topics mirrored home, each with
    // partitions, under hostile counts at every level.
    let spec = TopicSpec {
        replicas: ReplicaSpec::Mirror(MirrorConfig::Home(HomeMirrorConfig {
            partitions: vec![home_partition(); 3],
            source: true,
        })),
        ..Default::default()
    };
    let update =
        WatchResponse::Topic(update_of(vec![Metadata { name: "t".into(), spec, status: TopicStatus::default() }]));
    let bytes = update.to_bytes(19).unwrap();
    let mut hostile = bytes.to_vec();
    for pos in 0..hostile.len().saturating_sub(4) {
        let saved: [u8; 4] = hostile[pos..pos + 4].try_into().unwrap();
        hostile[pos..pos + 4].copy_from_slice(&0x7fff_ffffu32.to_be_bytes());
        let input = Bytes::from(hostile.clone());
        let (_, stats) = measure(|| WatchResponse::decode_exact(input.clone(), 19));
        assert!(stats.largest <= structural_bound(input.len()), "at {pos}: {stats:?}");
        hostile[pos..pos + 4].copy_from_slice(&saved);
    }
}

#[test]
fn batch_header_arithmetic_on_extreme_values_does_not_panic() {
    let header = BatchHeader {
        base_offset: i64::MAX,
        last_offset_delta: i32::MAX,
        first_timestamp: i64::MAX,
        ..BatchHeader::default()
    };
    touch_header(&header);
    let header = BatchHeader { base_offset: i64::MIN, last_offset_delta: i32::MIN, first_timestamp: 1, ..header };
    touch_header(&header);
}

#[test]
fn zstd_windows_are_bounded_before_decoding() {
    // 800 bytes declaring a 64 MiB window, or a 2^40-byte single segment, then 25 MiB of
    // zeros: ruzstd yields nothing before a window is full, so these are refused up front.
    for (frame, limits) in
        [(zstd_rle_frame(Some(16 << 3), 200), &[1 << 20, 100][..]), (zstd_rle_frame(None, 200), &LIMITS[..])]
    {
        for &limit in limits {
            let (result, stats) = measure(|| Compression::Zstd.decompress(&frame, limit));
            assert!(result.is_err(), "limit {limit}");
            assert!(stats.largest <= 4096, "limit {limit}: {stats:?}");
        }
    }
    // Under the default limit, a 64 MiB window is acceptable (and 25 MiB fit).
    let frame = zstd_rle_frame(Some(16 << 3), 200);
    let (result, stats) = measure(|| Compression::Zstd.decompress(&frame, DEFAULT_MAX_DECOMPRESSED));
    assert_eq!(result.unwrap().len(), 200 * 128 * 1024);
    assert!(stats.largest <= decompress_bound(Compression::Zstd, DEFAULT_MAX_DECOMPRESSED), "{stats:?}");
    // The largest window accepted under a small limit (8 MiB): a fixed cost, within the bound.
    for descriptor in [13 << 3, 12 << 3 | 7] {
        let frame = zstd_rle_frame(Some(descriptor), 100);
        for limit in [100, 64 * 1024, 1 << 20] {
            let (result, stats) = measure(|| Compression::Zstd.decompress(&frame, limit));
            assert_eq!(result.unwrap_err().kind(), &DecodeErrorKind::DecompressedTooLarge { limit });
            assert!(stats.largest <= decompress_bound(Compression::Zstd, limit), "limit {limit}: {stats:?}");
            assert!(stats.peak_live <= decompress_peak_bound(Compression::Zstd, limit), "limit {limit}: {stats:?}");
        }
    }
    // lz4's counterpart: 8 bytes of a legacy frame header make lz4_flex allocate 2 × 8 MiB.
    let (_, stats) = measure(|| Compression::Lz4.decompress(&[0x02, 0x21, 0x4c, 0x18, 0, 0, 0, 0], 100));
    assert!(stats.largest <= decompress_bound(Compression::Lz4, 100), "{stats:?}");
    assert!(stats.peak_live <= decompress_peak_bound(Compression::Lz4, 100), "{stats:?}");
}

/// A zstd frame of `blocks` RLE blocks of 128 KiB of zeros, with the given window descriptor
/// byte, or (`None`) as a single segment declaring 2^40 bytes of content as its window.
fn zstd_rle_frame(window_descriptor: Option<u8>, blocks: usize) -> Vec<u8> {
    let mut frame = vec![0x28, 0xb5, 0x2f, 0xfd];
    match window_descriptor {
        Some(descriptor) => frame.extend_from_slice(&[0x00, descriptor]),
        None => {
            frame.push(0xe0);
            frame.extend_from_slice(&(1u64 << 40).to_le_bytes());
        }
    }
    for i in 0..blocks {
        let last = u32::from(i + 1 == blocks);
        let header = (128 * 1024) << 3 | 1 << 1 | last;
        frame.extend_from_slice(&header.to_le_bytes()[..3]);
        frame.push(0);
    }
    frame
}
