//! Offsets near the limits of the formats, and type-level properties.

mod common;

use std::fs;

use bytes::{Bytes, BytesMut};
use common::*;
use fluvio_log::{BatchDefect, LogError, PartitionLog};
use fluvio_wire::Compression;
use fluvio_wire::record::{RawBatch, Record};

#[test]
fn partition_log_can_be_shared_between_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<PartitionLog>();
    assert_send_sync::<LogError>();
}

/// A one-record batch that claims `last_offset_delta` (the log trusts it, as Fluvio does).
fn claiming(last_offset_delta: i32) -> Vec<u8> {
    let record = Record::new(None, Bytes::from_static(b"x"), 0, 0);
    let mut raw = RawBatch::from_records(&[record], Compression::None, TS).unwrap();
    raw.header.last_offset_delta = last_offset_delta;
    let mut out = BytesMut::new();
    raw.encode_to(&mut out).unwrap();
    out.to_vec()
}

#[test]
fn relative_offsets_beyond_u32_roll_the_segment() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = PartitionLog::open(dir.path(), config(1 << 20)).unwrap();
    let step = i64::from(i32::MAX) + 1;
    for i in 0..3 {
        let info = log.append(&mut claiming(i32::MAX)).unwrap();
        assert_eq!(info.base_offset, i * step);
    }
    // The third batch starts 2^32 after the segment base: it needs a segment of its own.
    assert_eq!(log.segment_base_offsets(), vec![0, 2 * step]);
    // Two such batches in one append_many cannot share any segment.
    let mut two = claiming(i32::MAX);
    two.extend(claiming(i32::MAX));
    two.extend(claiming(i32::MAX));
    assert!(matches!(
        log.append_many(&mut two),
        Err(LogError::InvalidBatch { defect: BatchDefect::BeyondSegmentLimits, .. })
    ));
    let leo = log.log_end_offset();
    drop(log);
    let log = PartitionLog::open(dir.path(), config(1 << 20)).unwrap();
    assert!(log.recovery_report().is_clean(), "{:?}", log.recovery_report());
    assert_eq!(log.log_end_offset(), leo);
    let slice = log.read(step + 5, 1, leo).unwrap();
    assert_eq!((slice.first_offset, slice.next_offset), (step, 2 * step));
    let slice = log.read(2 * step + 7, 1, leo).unwrap();
    assert_eq!(slice.first_offset, 2 * step);
}

#[test]
fn offsets_near_i64_max_do_not_overflow() {
    let dir = tempfile::tempdir().unwrap();
    let base = i64::MAX - 3;
    fs::write(log_path(dir.path(), base), b"").unwrap();
    let mut log = PartitionLog::open(dir.path(), config(1 << 20)).unwrap();
    assert_eq!(log.log_end_offset(), base);
    assert_eq!(log.append(&mut batch("a", 3, 0)).unwrap().next_offset, i64::MAX);
    assert!(matches!(
        log.append(&mut batch("b", 1, 0)),
        Err(LogError::InvalidBatch { defect: BatchDefect::OffsetOverflow, .. })
    ));
    assert!(log.read(i64::MAX, 10, i64::MAX).unwrap().is_empty());
    assert_eq!(records(&log.read(base + 2, 10, i64::MAX).unwrap()).len(), 3);
    drop(log);

    // A stored batch whose offsets would overflow is cut by recovery, not a panic.
    let mut bad = batch("c", 5, 0);
    bad[..8].copy_from_slice(&(i64::MAX).to_be_bytes());
    let dir = tempfile::tempdir().unwrap();
    fs::write(log_path(dir.path(), i64::MAX), &bad).unwrap();
    let log = PartitionLog::open(dir.path(), config(1 << 20)).unwrap();
    assert_eq!(log.recovery_report().truncations[0].defect, BatchDefect::OffsetOverflow);
    assert_eq!(log.log_end_offset(), i64::MAX);
}

#[test]
fn sync_and_roll_keep_everything_readable() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = PartitionLog::open(dir.path(), config(700)).unwrap();
    let mut expected = Vec::new();
    for round in 0..5 {
        expected.extend(append_batches(&mut log, &format!("r{round}"), 4, 2, 30));
        log.sync().unwrap();
    }
    log.truncate_to(8).unwrap();
    log.sync().unwrap();
    expected.truncate(8);
    assert_eq!(read_all(&log), expected);
}

#[test]
fn file_names_are_zero_padded_base_offsets() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = PartitionLog::open(dir.path(), config(200)).unwrap();
    append_batches(&mut log, "n", 5, 2, 60);
    let mut names: Vec<String> =
        fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    let mut want: Vec<String> =
        log.segment_base_offsets().iter().flat_map(|b| [format!("{b:020}.index"), format!("{b:020}.log")]).collect();
    want.sort();
    assert_eq!(names, want);
    assert_eq!(names[0], "00000000000000000000.index");
}
