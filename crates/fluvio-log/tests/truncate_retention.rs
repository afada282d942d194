//! `truncate_to` and `enforce_retention`.

mod common;

use std::fs::{self, File};
use std::time::{Duration, SystemTime};

use common::*;
use fluvio_log::{LogConfig, LogError, PartitionLog, RetentionReason};

const SEGMENT: u64 = 1000;

/// 40 batches of 3 records (offsets 0..120) over several segments.
fn filled(dir: &std::path::Path, config: LogConfig) -> (PartitionLog, Vec<(i64, String)>) {
    let mut log = PartitionLog::open(dir, config).unwrap();
    let expected = append_batches(&mut log, "b", 40, 3, 25);
    assert!(log.segment_base_offsets().len() >= 5);
    (log, expected)
}

fn upto(expected: &[(i64, String)], offset: i64) -> Vec<(i64, String)> {
    expected.iter().filter(|r| r.0 < offset).cloned().collect()
}

fn check_reopen(dir: &std::path::Path, config: LogConfig, expected: &[(i64, String)], start: i64, leo: i64) {
    let log = PartitionLog::open(dir, config).unwrap();
    assert!(log.recovery_report().is_clean(), "{:?}", log.recovery_report());
    assert_eq!((log.log_start_offset(), log.log_end_offset()), (start, leo));
    assert_eq!(read_all(&log), expected);
}

#[test]
fn truncate_within_the_active_segment() {
    let dir = tempfile::tempdir().unwrap();
    let (mut log, expected) = filled(dir.path(), config(SEGMENT));
    let segments = log.segment_base_offsets();
    let target = log.log_end_offset() - 3;
    log.truncate_to(target).unwrap();
    assert_eq!(log.log_end_offset(), target);
    assert_eq!(log.segment_base_offsets(), segments);
    assert_eq!(read_all(&log), upto(&expected, target));
    let mut all = upto(&expected, target);
    all.extend(append_batches(&mut log, "new", 2, 3, 0));
    assert_eq!(all[target as usize].1, "new0-0");
    drop(log);
    check_reopen(dir.path(), config(SEGMENT), &all, 0, target + 6);
}

#[test]
fn truncate_into_a_sealed_segment_deletes_later_ones() {
    let dir = tempfile::tempdir().unwrap();
    let (mut log, expected) = filled(dir.path(), config(SEGMENT));
    let segments = log.segment_base_offsets();
    // The second batch of the second segment.
    let target = segments[1] + 3;
    log.truncate_to(target).unwrap();
    assert_eq!(log.segment_base_offsets(), segments[..2].to_vec());
    for base in &segments[2..] {
        assert!(!log_path(dir.path(), *base).exists());
        assert!(!index_path(dir.path(), *base).exists());
    }
    assert_eq!(log.log_end_offset(), target);
    assert_eq!(read_all(&log), upto(&expected, target));
    // The truncated segment is active again: appends go to it.
    let mut all = upto(&expected, target);
    let more = append_batches(&mut log, "n", 1, 3, 0);
    assert_eq!(log.segment_base_offsets(), segments[..2].to_vec());
    all.extend(more);
    // ... and it still rolls when full.
    all.extend(append_batches(&mut log, "m", 10, 3, 25));
    assert!(log.segment_base_offsets().len() > 2);
    let leo = log.log_end_offset();
    drop(log);
    check_reopen(dir.path(), config(SEGMENT), &all, 0, leo);
}

#[test]
fn truncate_at_a_segment_boundary() {
    let dir = tempfile::tempdir().unwrap();
    let (mut log, expected) = filled(dir.path(), config(SEGMENT));
    let segments = log.segment_base_offsets();
    let target = segments[2];
    log.truncate_to(target).unwrap();
    assert_eq!(log.segment_base_offsets(), segments[..3].to_vec());
    assert_eq!(fs::metadata(log_path(dir.path(), target)).unwrap().len(), 0);
    assert_eq!(fs::metadata(index_path(dir.path(), target)).unwrap().len(), 0);
    assert_eq!(log.log_end_offset(), target);
    assert!(log.read(target, 100, target).unwrap().is_empty());
    assert_eq!(read_all(&log), upto(&expected, target));
    drop(log);
    check_reopen(dir.path(), config(SEGMENT), &upto(&expected, target), 0, target);
}

#[test]
fn truncate_to_the_log_start_empties_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let (mut log, _) = filled(dir.path(), config(SEGMENT));
    log.truncate_to(0).unwrap();
    assert_eq!((log.log_start_offset(), log.log_end_offset(), log.size_bytes()), (0, 0, 0));
    assert_eq!(log.segment_base_offsets(), vec![0]);
    let again = append_batches(&mut log, "x", 2, 1, 0);
    assert_eq!(again[0].0, 0);
}

#[test]
fn truncate_errors() {
    let dir = tempfile::tempdir().unwrap();
    let (mut log, expected) = filled(dir.path(), config(SEGMENT));
    let leo = log.log_end_offset();
    log.truncate_to(leo).unwrap(); // no-op
    assert_eq!(log.log_end_offset(), leo);
    assert!(
        matches!(log.truncate_to(leo + 1), Err(LogError::OffsetOutOfRange { offset, log_end }) if offset == leo + 1 && log_end == leo)
    );
    for inside in [1, 2, 4, 29, leo - 1] {
        match log.truncate_to(inside) {
            Err(LogError::NotABatchBoundary { offset, batch_base_offset, batch_next_offset }) => {
                assert_eq!(offset, inside);
                assert_eq!(batch_base_offset, inside - inside % 3);
                assert_eq!(batch_next_offset, batch_base_offset + 3);
            }
            other => panic!("{inside}: {other:?}"),
        }
    }
    // Nothing changed.
    assert_eq!(log.log_end_offset(), leo);
    assert_eq!(read_all(&log), expected);
}

#[test]
fn retention_by_size_removes_oldest_sealed_segments() {
    let dir = tempfile::tempdir().unwrap();
    let (mut log, expected) = filled(dir.path(), config(SEGMENT));
    let segments = log.segment_base_offsets();
    let total = log.size_bytes();
    let limit = total / 2;
    log.set_config(LogConfig { max_partition_bytes: Some(limit), ..config(SEGMENT) });
    let outcome = log.enforce_retention(SystemTime::now()).unwrap();
    assert!(!outcome.removed.is_empty());
    assert!(log.size_bytes() <= limit);
    assert_eq!(log.size_bytes() + outcome.bytes_removed(), total);
    // Only as many as needed: without the newest removed segment the log would be too big.
    let newest_removed = outcome.removed.last().unwrap();
    assert!(log.size_bytes() + newest_removed.bytes > limit);
    let removed: Vec<i64> = outcome.removed.iter().map(|r| r.base_offset).collect();
    assert_eq!(removed, segments[..removed.len()].to_vec());
    assert!(outcome.removed.iter().all(|r| r.reason == RetentionReason::Size));
    let start = log.log_start_offset();
    assert_eq!(outcome.log_start_offset, start);
    assert_eq!(start, newest_removed.next_offset);
    assert_eq!(start, segments[removed.len()]);
    for base in &removed {
        assert!(!log_path(dir.path(), *base).exists());
        assert!(!index_path(dir.path(), *base).exists());
    }
    assert!(
        matches!(log.read(start - 1, 100, log.log_end_offset()), Err(LogError::OffsetEvicted { offset, next_available }) if offset == start - 1 && next_available == start)
    );
    assert!(matches!(log.read(0, 100, log.log_end_offset()), Err(LogError::OffsetEvicted { .. })));
    assert!(matches!(log.truncate_to(start - 3), Err(LogError::OffsetEvicted { .. })));
    let kept: Vec<_> = expected.iter().filter(|r| r.0 >= start).cloned().collect();
    assert_eq!(read_all(&log), kept);
    // Enforcing again changes nothing.
    assert!(log.enforce_retention(SystemTime::now()).unwrap().removed.is_empty());
    let leo = log.log_end_offset();
    drop(log);
    check_reopen(dir.path(), config(SEGMENT), &kept, start, leo);
}

#[test]
fn retention_never_removes_the_active_segment() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = LogConfig { max_partition_bytes: Some(0), retention: Some(Duration::ZERO), ..config(SEGMENT) };
    let (mut log, expected) = filled(dir.path(), cfg.clone());
    let active = *log.segment_base_offsets().last().unwrap();
    let outcome = log.enforce_retention(SystemTime::now() + Duration::from_secs(3600)).unwrap();
    assert_eq!(log.segment_base_offsets(), vec![active]);
    assert_eq!(outcome.log_start_offset, active);
    assert!(outcome.removed.iter().all(|r| r.reason == RetentionReason::Age));
    assert_eq!(read_all(&log), expected.into_iter().filter(|r| r.0 >= active).collect::<Vec<_>>());
    // Truncating to the start of the only segment empties it.
    log.truncate_to(active).unwrap();
    assert_eq!((log.log_start_offset(), log.log_end_offset()), (active, active));
    assert!(log.enforce_retention(SystemTime::now()).unwrap().removed.is_empty());
}

fn set_mtime(path: &std::path::Path, time: SystemTime) {
    File::options().write(true).open(path).unwrap().set_modified(time).unwrap();
}

#[test]
fn retention_by_time_uses_segment_modification_time() {
    let dir = tempfile::tempdir().unwrap();
    let week = Duration::from_secs(7 * 24 * 3600);
    let cfg = LogConfig { retention: Some(week), ..config(SEGMENT) };
    let (mut log, expected) = filled(dir.path(), cfg);
    let segments = log.segment_base_offsets();
    let now = SystemTime::now();
    let old = now - week - Duration::from_secs(60);
    // Segments 0 and 1 are old, 2 is young, 3 is old again (cannot go: it would leave a
    // hole), and the active one is old (never goes).
    for i in [0, 1, 3, segments.len() - 1] {
        set_mtime(&log_path(dir.path(), segments[i]), old);
    }
    set_mtime(&log_path(dir.path(), segments[2]), now - week + Duration::from_secs(60));
    let outcome = log.enforce_retention(now).unwrap();
    let removed: Vec<i64> = outcome.removed.iter().map(|r| r.base_offset).collect();
    assert_eq!(removed, segments[..2].to_vec());
    assert!(outcome.removed.iter().all(|r| r.reason == RetentionReason::Age));
    assert_eq!(log.log_start_offset(), segments[2]);
    // A day later segment 2 has expired as well, and then 3 can go.
    let outcome = log.enforce_retention(now + Duration::from_secs(24 * 3600)).unwrap();
    let removed: Vec<i64> = outcome.removed.iter().map(|r| r.base_offset).collect();
    assert_eq!(removed, vec![segments[2], segments[3]], "segment 4 on is young");
    // Clock going backwards (mtime in the future) means age zero, not an error.
    set_mtime(&log_path(dir.path(), log.segment_base_offsets()[0]), now + week);
    log.enforce_retention(now).unwrap();
    let start = log.log_start_offset();
    let kept: Vec<_> = expected.iter().filter(|r| r.0 >= start).cloned().collect();
    assert_eq!(read_all(&log), kept);
}

#[test]
fn retention_disabled_keeps_everything() {
    let dir = tempfile::tempdir().unwrap();
    let (mut log, expected) = filled(dir.path(), config(SEGMENT));
    for base in log.segment_base_offsets() {
        set_mtime(&log_path(dir.path(), base), SystemTime::UNIX_EPOCH);
    }
    assert!(log.enforce_retention(SystemTime::now()).unwrap().removed.is_empty());
    assert_eq!(read_all(&log), expected);
}

#[test]
fn retention_below_a_limit_keeps_every_segment_reaching_it() {
    let dir = tempfile::tempdir().unwrap();
    let (mut log, expected) = filled(dir.path(), config(SEGMENT));
    let segments = log.segment_base_offsets();
    assert!(segments.len() > 3, "{segments:?}");
    // Everything would go by size; only the segments wholly below the limit may.
    log.set_config(LogConfig { max_partition_bytes: Some(1), ..config(SEGMENT) });
    let limit = segments[2] + 1; // inside the third segment
    let outcome = log.enforce_retention_below(SystemTime::now(), limit).unwrap();
    let removed: Vec<i64> = outcome.removed.iter().map(|r| r.base_offset).collect();
    assert_eq!(removed, segments[..2].to_vec(), "the segments ending at or below {limit}");
    assert_eq!(log.log_start_offset(), segments[2]);
    assert!(outcome.removed.iter().all(|r| r.next_offset <= limit));
    let kept: Vec<_> = expected.iter().filter(|r| r.0 >= segments[2]).cloned().collect();
    assert_eq!(read_all(&log), kept);
    // A limit at a segment's end lets that segment go; a limit at the log start nothing.
    let outcome = log.enforce_retention_below(SystemTime::now(), segments[3]).unwrap();
    assert_eq!(outcome.removed.iter().map(|r| r.base_offset).collect::<Vec<_>>(), [segments[2]]);
    assert!(log.enforce_retention_below(SystemTime::now(), segments[3]).unwrap().removed.is_empty());
}
