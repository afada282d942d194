//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use bytes::{Bytes, BytesMut};
use fluvio_log::{LogConfig, PartitionLog, ReadSlice};
use fluvio_wire::Compression;
use fluvio_wire::compression::DEFAULT_MAX_DECOMPRESSED;
use fluvio_wire::record::{RawBatch, Record, RecordSet};

pub const TS: i64 = 1_700_000_000_000;

/// An encoded batch with `n` records whose values are `{tag}-{i}`, padded to `pad` bytes.
/// Its base offset is garbage (`n - 1`, like the official producer), the log rewrites it.
pub fn batch(tag: &str, n: usize, pad: usize) -> Vec<u8> {
    let records: Vec<Record> = (0..n)
        .map(|i| {
            let mut value = format!("{tag}-{i}").into_bytes();
            value.resize(value.len().max(pad), b'.');
            Record::new(None, Bytes::from(value), i as i64, i as i64)
        })
        .collect();
    let mut raw = RawBatch::from_records(&records, Compression::None, TS).unwrap();
    raw.header.base_offset = n as i64 - 1;
    let mut out = BytesMut::new();
    raw.encode_to(&mut out).unwrap();
    out.to_vec()
}

/// Config with small segments, a dense index and no retention.
pub fn config(segment_max_bytes: u64) -> LogConfig {
    LogConfig { segment_max_bytes, index_interval_bytes: 100, retention: None, max_partition_bytes: None }
}

pub fn log_path(dir: &Path, base: i64) -> PathBuf {
    dir.join(format!("{base:020}.log"))
}

pub fn index_path(dir: &Path, base: i64) -> PathBuf {
    dir.join(format!("{base:020}.index"))
}

/// The batches of a read, checked to be whole and contiguous with the slice's bounds.
pub fn batches(slice: &ReadSlice) -> Vec<RawBatch> {
    let batches = RecordSet::from_encoded(slice.bytes.clone()).batches().unwrap();
    if let (Some(first), Some(last)) = (batches.first(), batches.last()) {
        assert_eq!(first.header.base_offset, slice.first_offset);
        assert_eq!(last.header.next_offset(), slice.next_offset);
        for pair in batches.windows(2) {
            assert_eq!(pair[0].header.next_offset(), pair[1].header.base_offset, "batches not contiguous");
        }
        for b in &batches {
            assert!(b.crc_is_valid());
        }
    } else {
        assert_eq!(slice.first_offset, slice.next_offset);
    }
    batches
}

/// `(offset, value)` of every record in a read.
pub fn records(slice: &ReadSlice) -> Vec<(i64, String)> {
    batches(slice)
        .iter()
        .flat_map(|b| {
            let base = b.header.base_offset;
            b.records(DEFAULT_MAX_DECOMPRESSED).unwrap().into_iter().map(move |r| {
                (base + r.offset_delta, String::from_utf8_lossy(&r.value).trim_end_matches('.').to_string())
            })
        })
        .collect()
}

/// Every record of the log, read in small steps (exercises the read loop).
pub fn read_all(log: &PartitionLog) -> Vec<(i64, String)> {
    let mut out = Vec::new();
    let mut offset = log.log_start_offset();
    let end = log.log_end_offset();
    while offset < end {
        let slice = log.read(offset, 300, end).unwrap();
        assert!(!slice.is_empty());
        out.extend(records(&slice).into_iter().filter(|(o, _)| *o >= offset));
        offset = slice.next_offset;
    }
    out
}

/// Appends `count` batches of `per` records tagged `tag`; returns the `(offset, value)`s.
pub fn append_batches(log: &mut PartitionLog, tag: &str, count: usize, per: usize, pad: usize) -> Vec<(i64, String)> {
    let mut expected = Vec::new();
    for b in 0..count {
        let tag = format!("{tag}{b}");
        let mut bytes = batch(&tag, per, pad);
        let info = log.append(&mut bytes).unwrap();
        assert_eq!(info.next_offset - info.base_offset, per as i64);
        assert_eq!(i64::from_be_bytes(bytes[..8].try_into().unwrap()), info.base_offset);
        for i in 0..per {
            expected.push((info.base_offset + i as i64, format!("{tag}-{i}")));
        }
    }
    expected
}
