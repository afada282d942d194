//! Records, batches (every codec) and record sets, including cut record sets.

use std::io::Cursor;

use bytes::{Bytes, BytesMut};
use fluvio_protocol::record::{Batch, MemoryRecords, RawRecords, Record as TheirRecord, RecordSet as TheirRecordSet};
use fluvio_protocol::{Decoder as _, Encoder as _};
use fluvio_wire::Compression;
use fluvio_wire::Decoder as _;
use fluvio_wire::compression::DEFAULT_MAX_DECOMPRESSED;
use fluvio_wire::record::{RawBatch, Record, RecordSet};

use crate::common::convert::records::{TheirRawBatch, sealed, their_batch_from_records};
use crate::common::convert::{ToOurs, ToTheirs, ours, theirs};
use crate::common::{assert_same_bytes, check_exact, hex, their_bytes, their_decode};

/// 1555478494747: the timestamp of the protocol notes' pinned batch.
pub const FIRST_TIMESTAMP: i64 = 1_555_478_494_747;

fn bytes_of(len: usize, seed: u8) -> Bytes {
    (0..len).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)).collect::<Vec<u8>>().into()
}

/// Records exercising every field shape: null/empty/non-empty keys, empty and large values
/// (1-, 2- and 3-byte varint lengths), timestamp deltas of every varint size, both signs.
pub fn sample_records() -> Vec<Record> {
    let shapes: Vec<(Option<Bytes>, Bytes, i64)> = vec![
        (None, Bytes::from_static(b"dog"), 0),
        (Some(Bytes::new()), Bytes::from_static(b"empty key"), 1),
        (Some(Bytes::from_static(b"k")), Bytes::from_static(b"v1"), 5),
        (Some(Bytes::from_static(b"user-42")), Bytes::new(), 63),
        (None, Bytes::new(), 64),
        (Some(bytes_of(130, 1)), bytes_of(128, 2), 300),
        (None, bytes_of(200, 3), 8191),
        (Some(Bytes::from_static(b"big")), bytes_of(16_384, 4), 8192),
        (Some(bytes_of(17_000, 5)), bytes_of(20_000, 6), 1_048_575),
        (None, Bytes::from_static("ünïcödé".as_bytes()), -1),
        (None, Bytes::from_static(b"x"), -300),
        // The extremes the official varint encoder handles (it is limited to the i32 range).
        (None, Bytes::from_static(b"max"), i32::MAX as i64),
        (None, Bytes::from_static(b"min"), i32::MIN as i64),
    ];
    shapes.into_iter().enumerate().map(|(i, (key, value, ts))| Record::new(key, value, i as i64, ts)).collect()
}

/// `n` small records with offset deltas 0..n and growing timestamps.
pub fn many_records(n: usize) -> Vec<Record> {
    (0..n)
        .map(|i| {
            let key = (i % 3 != 0).then(|| Bytes::from(format!("key-{}", i % 17)));
            Record::new(key, Bytes::from(format!("value number {i} {}", "z".repeat(i % 50))), i as i64, (i * 3) as i64)
        })
        .collect()
}

/// A record on its own (records have no `Encoder` of ours: they only live inside batches).
fn check_record(record: &Record) {
    let mut ours_bytes = BytesMut::new();
    record.encode_to(&mut ours_bytes).unwrap();
    assert_eq!(ours_bytes.len(), record.encoded_len());
    let their_record = record.to_theirs();
    let theirs_bytes = their_bytes(&their_record, 0);
    assert_same_bytes(&ours_bytes, &theirs_bytes, &format!("record {:?}", record.offset_delta));
    assert_eq!(their_record.write_size(0), ours_bytes.len(), "official write_size");

    let from_theirs = Record::decode_from(&mut Bytes::from(theirs_bytes)).unwrap();
    assert_eq!(&from_theirs, record);
    let their_decoded: TheirRecord = their_decode(&ours_bytes, 0);
    assert_same_bytes(&their_bytes(&their_decoded, 0), &ours_bytes, "official re-encode of our record");
    assert_eq!(&their_decoded.to_ours(), record);
}

#[test]
fn single_records() {
    for record in sample_records() {
        check_record(&record);
    }
    for record in many_records(40) {
        check_record(&record);
    }
}

#[test]
fn record_pinned_vectors() {
    // §3.2 of the protocol notes.
    let dog = Record::new(None, Bytes::from_static(b"dog"), 1, 0);
    assert_eq!(their_bytes(&dog.to_theirs(), 0), crate::common::unhex("12 00 00 02 00 06 64 6f 67 00"));
    check_record(&dog);
}

fn encode_batch(batch: &RawBatch) -> Vec<u8> {
    let mut dst = BytesMut::new();
    batch.encode_to(&mut dst).unwrap();
    dst.to_vec()
}

/// A batch built from `records` on both sides, the official way (in-memory records converted
/// to raw, compressing with the official codec) and ours; then each side decodes the other's.
pub fn check_batch(records: &[Record], compression: Compression, first_timestamp: i64) {
    let what = format!("{} records, {compression}, first_timestamp {first_timestamp}", records.len());
    let ours = RawBatch::from_records(records, compression, first_timestamp).unwrap();
    let ours_bytes = encode_batch(&ours);
    let theirs = their_batch_from_records(records, compression, first_timestamp);
    let theirs_bytes = their_bytes(&theirs, 0);

    if compression != Compression::Zstd {
        assert_same_bytes(&ours_bytes, &theirs_bytes, &what);
    } else {
        // Intentional difference: our zstd encoder is ruzstd, the official one is C zstd
        // (level 1); the frames differ but both are standard zstd. Everything before the
        // compressed area (except batch_len and the CRC, which cover it) must still match.
        assert_eq!(ours_bytes[..8], theirs_bytes[..8], "{what}: base_offset");
        assert_eq!(ours_bytes[12..17], theirs_bytes[12..17], "{what}: epoch + magic");
        assert_eq!(ours_bytes[21..57], theirs_bytes[21..57], "{what}: header after the CRC");
    }

    // Our decoder on the official batch.
    let mut src = Bytes::from(theirs_bytes.clone());
    let from_theirs = RawBatch::decode_from(&mut src).unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(src.is_empty());
    assert!(from_theirs.crc_is_valid(), "{what}: official CRC");
    assert_eq!(from_theirs.records(DEFAULT_MAX_DECOMPRESSED).unwrap(), records, "{what}: our decode of theirs");
    assert_eq!(from_theirs.header.last_offset_delta, records.len() as i32 - 1);
    if compression != Compression::Zstd {
        assert_eq!(from_theirs, sealed(ours.clone()));
    }

    // The official decoder on our batch.
    let their_decoded: TheirRawBatch = their_decode(&ours_bytes, 0);
    assert_same_bytes(&their_bytes(&their_decoded, 0), &ours_bytes, &format!("{what}: official re-encode"));
    assert_eq!(their_decoded.clone().to_ours(), sealed(ours.clone()));
    let their_records = their_decoded.memory_records().unwrap_or_else(|e| panic!("{what}: official decompress: {e}"));
    assert_eq!(their_records.to_ours(), records, "{what}: official decode of ours");
}

#[test]
fn batches_in_every_codec() {
    let sample = sample_records();
    let many = many_records(500);
    let one = vec![Record::new(None, Bytes::from_static(b"test"), 0, 0)];
    for compression in Compression::ALL {
        for records in [&one, &sample, &many] {
            check_batch(records, compression, FIRST_TIMESTAMP);
        }
        check_batch(&sample, compression, -1);
        check_batch(&many, compression, 0);
    }
}

#[test]
fn batch_pinned_vector() {
    // §3.2 of the protocol notes: one record "test", 72 bytes, CRC 0x324700f9.
    let record = Record::new(None, Bytes::from_static(b"test"), 0, 0);
    let theirs = their_batch_from_records(std::slice::from_ref(&record), Compression::None, FIRST_TIMESTAMP);
    let expected = crate::common::unhex(
        "00 00 00 00 00 00 00 00 00 00 00 3c ff ff ff ff 02 32 47 00 f9 00 00 00 00 00 00
         00 00 01 6a 29 be 3e 1b 00 00 01 6a 29 be 3e 1b ff ff ff ff ff ff ff ff ff ff ff ff ff ff
         00 00 00 01 14 00 00 00 00 08 74 65 73 74 00",
    );
    assert_eq!(their_bytes(&theirs, 0), expected);
    check_batch(&[record], Compression::None, FIRST_TIMESTAMP);
}

#[test]
fn batch_header_fields_and_schema_id() {
    // Every header field set to a non-default value, with and without a schema id.
    for schema_id in [None, Some(0), Some(0xdead_beef)] {
        for compression in [Compression::None, Compression::Gzip] {
            let mut batch = RawBatch::from_records(&many_records(3), compression, 1_700_000_000_000).unwrap();
            batch.header.base_offset = 1_234_567_890_123;
            batch.header.partition_leader_epoch = 7;
            batch.header.producer_id = 99;
            batch.header.producer_epoch = 3;
            batch.header.first_sequence = 11;
            batch.schema_id = schema_id;
            let ours_bytes = encode_batch(&batch);
            let theirs = batch.to_theirs();
            assert_same_bytes(&ours_bytes, &their_bytes(&theirs, 0), "batch with all header fields");

            let from_theirs = RawBatch::decode_from(&mut Bytes::from(their_bytes(&theirs, 0))).unwrap();
            assert_eq!(from_theirs, sealed(batch.clone()));
            let their_decoded: TheirRawBatch = their_decode(&ours_bytes, 0);
            assert_eq!(their_decoded.to_ours(), sealed(batch.clone()));
        }
    }
}

/// Intentional difference: the official varint encoder is correct only in the i32 range
/// (§2 of the protocol notes); ours encodes the full i64 range. We never produce such values
/// in records, but a record read from elsewhere could carry one: the official *decoder* reads
/// our encoding correctly (up to |v| < 2^62), while the official encoder truncates.
#[test]
fn varints_beyond_i32_are_a_known_difference() {
    for delta in [1i64 << 31, (1i64 << 40) + 5, -(1i64 << 45)] {
        let record = Record::new(None, Bytes::from_static(b"v"), 0, delta);
        let mut ours_bytes = BytesMut::new();
        record.encode_to(&mut ours_bytes).unwrap();
        let their_decoded: TheirRecord = their_decode(&ours_bytes, 0);
        assert_eq!(their_decoded.timestamp_delta(), delta, "official decoder reads our full-range varint");
        let their_encoding = their_bytes(&record.to_theirs(), 0);
        assert_ne!(
            their_encoding,
            ours_bytes.to_vec(),
            "the official encoder truncates {delta}: {}",
            hex(&their_encoding)
        );
    }
}

/// Several batches (different codecs, offsets, timestamps) in one record set.
pub fn sample_record_set() -> (RecordSet, Vec<RawBatch>) {
    let mut batches = Vec::new();
    let mut base = 0;
    for (i, compression) in [
        Compression::None,
        Compression::Gzip,
        Compression::None,
        Compression::Snappy,
        Compression::Lz4,
        Compression::Zstd,
    ]
    .into_iter()
    .enumerate()
    {
        let records = if i == 2 { sample_records() } else { many_records(5 + i * 7) };
        let mut batch = RawBatch::from_records(&records, compression, FIRST_TIMESTAMP + i as i64 * 1000).unwrap();
        batch.header.base_offset = base;
        base += records.len() as i64;
        batches.push(batch);
    }
    (RecordSet::from_batches(&batches).unwrap(), batches)
}

#[test]
fn record_sets() {
    let (set, batches) = sample_record_set();
    for version in [0, 25] {
        check_exact("RecordSet", &set, version, |s, _| theirs(s), |t, _| ours(t));
        check_exact("empty RecordSet", &RecordSet::default(), version, |s, _| theirs(s), |t, _| ours(t));
    }
    // The official decoder sees the same batches and the same records in each.
    let their_set: TheirRecordSet<RawRecords> = their_decode(&crate::common::our_bytes(&set, 0), 0);
    assert_eq!(their_set.batches.len(), batches.len());
    for (theirs, ours) in their_set.batches.iter().zip(&batches) {
        assert_eq!(theirs.memory_records().unwrap().to_ours(), ours.records(DEFAULT_MAX_DECOMPRESSED).unwrap());
        assert_eq!(theirs.get_base_offset(), ours.header.base_offset);
    }
}

/// Cuts a record set at every byte position: both decoders must see the same whole batches,
/// the same partial last batch (header complete, records area cut) and the same whole records
/// in it.
#[test]
fn cut_record_sets_agree_on_whole_batches() {
    let batches: Vec<RawBatch> =
        [(3, Compression::None), (4, Compression::None), (2, Compression::Gzip), (5, Compression::None)]
            .into_iter()
            .scan(0i64, |base, (n, compression)| {
                let mut batch = RawBatch::from_records(&many_records(n), compression, FIRST_TIMESTAMP).unwrap();
                batch.header.base_offset = *base;
                *base += n as i64;
                Some(batch)
            })
            .collect();
    let full = RecordSet::from_batches(&batches).unwrap();
    let full_bytes = full.as_bytes().clone();

    for cut in 0..=full_bytes.len() {
        let prefix = full_bytes.slice(..cut);
        // As carried in a message: the length prefix covers exactly what is there.
        let mut framed = (cut as i32).to_be_bytes().to_vec();
        framed.extend_from_slice(&prefix);

        let ours = RecordSet::decode_exact(Bytes::from(framed.clone()), 25).unwrap().parse();
        // Known difference: when the official decoder stops at a cut batch it leaves the rest
        // of the set's bytes unread in the message (ours always consumes the announced length),
        // so trailing bytes are not required to be consumed here. `RecordSet<RawRecords>` is
        // what the official consumer decodes (the in-memory variant cannot decompress).
        let theirs_raw = TheirRecordSet::<RawRecords>::decode_from(&mut Cursor::new(&framed), 25).unwrap();

        // Whole batches: the same bytes and the same records on both sides.
        let whole = ours.batches.len();
        assert_eq!(ours.batches, batches[..whole].iter().cloned().map(sealed).collect::<Vec<_>>(), "cut {cut}");
        for (theirs, ours) in theirs_raw.batches.iter().zip(&ours.batches) {
            assert_eq!(theirs.clone().to_ours(), *ours, "cut {cut}");
            assert_eq!(
                theirs.memory_records().unwrap().to_ours(),
                ours.records(DEFAULT_MAX_DECOMPRESSED).unwrap(),
                "cut {cut}"
            );
        }

        // The official decoder also keeps a last batch whose header arrived whole (with the
        // part of its records area that arrived); ours reports it as `partial`.
        let their_partial =
            theirs_raw.batches.len().checked_sub(whole).expect("official sees at least the whole batches");
        assert_eq!(their_partial, usize::from(ours.partial.is_some()), "cut {cut}: partial batch");
        if let Some(partial) = &ours.partial {
            let theirs = theirs_raw.batches.last().unwrap();
            assert_eq!(theirs.get_base_offset(), partial.header.base_offset, "cut {cut}");
            assert_eq!(&theirs.records().0[..], &partial.records_prefix[..], "cut {cut}: partial records area");
            if partial.header.compression() == Some(Compression::None) {
                let their_records = theirs.memory_records().expect("official partial decode").to_ours();
                assert_eq!(their_records, partial.complete_records(), "cut {cut}: whole records of the partial batch");
            }
        }
        // The uncut set is complete on our side.
        if cut == full_bytes.len() {
            assert!(ours.is_complete());
            assert_eq!(whole, batches.len());
        }
    }
}

#[test]
fn official_producer_batches_decode_on_our_side() {
    // A record set as the official producer sends it: one batch per RecordSet, built from
    // `Batch::from(records)` (which assigns offset deltas itself).
    let records = sample_records();
    let mut batch = Batch::<MemoryRecords>::from(records.iter().map(ToTheirs::to_theirs).collect::<Vec<_>>());
    batch.header.first_timestamp = FIRST_TIMESTAMP;
    batch.header.max_time_stamp = FIRST_TIMESTAMP;
    let set = TheirRecordSet::<MemoryRecords>::default().add(batch);
    let bytes = set.as_bytes(25).unwrap();
    let ours = RecordSet::decode_exact(bytes.clone(), 25).unwrap();
    let decoded = ours.batches().unwrap();
    assert_eq!(decoded.len(), 1);
    assert_eq!(decoded[0].records(DEFAULT_MAX_DECOMPRESSED).unwrap(), records);
    assert_eq!(decoded[0].validate(DEFAULT_MAX_DECOMPRESSED).unwrap(), records.len());
    // And the set re-encodes identically with our encoder.
    assert_eq!(crate::common::our_bytes(&ours, 25), bytes.to_vec());
}
