//! `reset_to`: the whole log is discarded and restarts empty at a given offset, and stays so
//! across reopening. (Crash safety, step by step, is tested next to the implementation, in
//! `src/reset.rs`.)

mod common;

use std::fs;
use std::time::SystemTime;

use common::*;
use fluvio_log::{LogConfig, LogError, PartitionLog, RESET_FILE_NAME};

const SEGMENT: u64 = 1000;

/// 40 batches of 3 records (offsets 0..120) over several segments.
fn filled(dir: &std::path::Path) -> PartitionLog {
    let mut log = PartitionLog::open(dir, config(SEGMENT)).unwrap();
    append_batches(&mut log, "old", 40, 3, 25);
    assert!(log.segment_base_offsets().len() >= 5);
    log
}

/// Names of the files in `dir`, sorted.
fn files(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> =
        fs::read_dir(dir).unwrap().map(|entry| entry.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    names
}

fn check_empty_at(log: &PartitionLog, offset: i64) {
    assert_eq!((log.log_start_offset(), log.log_end_offset()), (offset, offset));
    assert_eq!(log.segment_base_offsets(), [offset]);
    assert_eq!(log.size_bytes(), 0);
    assert!(log.read(offset, 1000, offset).unwrap().is_empty());
    if offset > 0 {
        assert!(matches!(
            log.read(offset - 1, 1000, offset),
            Err(LogError::OffsetEvicted { offset: o, next_available }) if o == offset - 1 && next_available == offset
        ));
    }
    assert!(matches!(log.read(offset + 1, 1000, offset + 1), Err(LogError::OffsetOutOfRange { .. })));
}

#[test]
fn a_reset_past_the_end_discards_everything_and_starts_there() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = filled(dir.path());
    fs::write(dir.path().join("leader-epochs"), "kept").unwrap();
    log.reset_to(1000).unwrap();
    check_empty_at(&log, 1000);
    // Only the new segment's two files are left (and what is not a segment).
    assert_eq!(files(dir.path()), ["00000000000000001000.index", "00000000000000001000.log", "leader-epochs"]);

    // Appends go on from there, across segments, and survive reopening.
    let mut expected = append_batches(&mut log, "new", 30, 3, 25);
    assert_eq!(expected[0].0, 1000);
    assert!(log.segment_base_offsets().len() > 2);
    assert_eq!(read_all(&log), expected);
    drop(log);
    let mut log = PartitionLog::open(dir.path(), config(SEGMENT)).unwrap();
    assert!(log.recovery_report().is_clean(), "{:?}", log.recovery_report());
    assert_eq!(log.log_start_offset(), 1000);
    assert_eq!(read_all(&log), expected);
    expected.extend(append_batches(&mut log, "more", 2, 3, 0));
    assert_eq!(read_all(&log), expected);
}

#[test]
fn a_reset_may_go_to_any_offset() {
    for offset in [0, 1, 50, 119, 120, 121, i64::from(u32::MAX) * 3] {
        let dir = tempfile::tempdir().unwrap();
        let mut log = filled(dir.path());
        log.reset_to(offset).unwrap();
        check_empty_at(&log, offset);
        let appended = append_batches(&mut log, "new", 2, 3, 0);
        assert_eq!(appended[0].0, offset, "the next append gets the reset offset");
        drop(log);
        let log = PartitionLog::open(dir.path(), config(SEGMENT)).unwrap();
        assert!(log.recovery_report().is_clean());
        assert_eq!(read_all(&log), appended);
    }
}

#[test]
fn a_reset_of_an_empty_log_and_repeated_resets() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = PartitionLog::open(dir.path(), config(SEGMENT)).unwrap();
    log.reset_to(0).unwrap();
    check_empty_at(&log, 0);
    log.reset_to(77).unwrap();
    log.reset_to(77).unwrap();
    check_empty_at(&log, 77);
    // Backwards too: the log does not judge, its caller knows why.
    log.reset_to(5).unwrap();
    check_empty_at(&log, 5);
    drop(log);
    let log = PartitionLog::open(dir.path(), config(SEGMENT)).unwrap();
    assert!(log.recovery_report().is_clean());
    check_empty_at(&log, 5);
    assert!(!dir.path().join(RESET_FILE_NAME).exists());
}

#[test]
fn a_negative_offset_is_refused_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = filled(dir.path());
    let before = read_all(&log);
    let names = files(dir.path());
    assert!(matches!(log.reset_to(-1), Err(LogError::NegativeOffset { offset: -1 })));
    assert_eq!(read_all(&log), before);
    assert_eq!(files(dir.path()), names);
    append_batches(&mut log, "still", 1, 1, 0);
}

#[test]
fn retention_and_truncation_work_on_a_reset_log() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = filled(dir.path());
    log.reset_to(500).unwrap();
    let expected = append_batches(&mut log, "new", 40, 3, 25);
    log.truncate_to(530).unwrap();
    assert_eq!(log.log_end_offset(), 530);
    assert_eq!(log.log_start_offset(), 500);
    log.set_config(LogConfig { max_partition_bytes: Some(SEGMENT), ..config(SEGMENT) });
    let outcome = log.enforce_retention(SystemTime::now()).unwrap();
    assert!(!outcome.removed.is_empty());
    assert_eq!(outcome.removed[0].base_offset, 500);
    let start = log.log_start_offset();
    assert!(start > 500);
    let kept: Vec<_> = expected.into_iter().filter(|(o, _)| (start..530).contains(o)).collect();
    assert_eq!(read_all(&log), kept);
}
