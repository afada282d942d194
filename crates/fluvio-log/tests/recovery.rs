//! Recovery in `open`: torn tails, corrupt batches, broken indexes, leftovers.

mod common;

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use common::*;
use fluvio_log::{BatchDefect, DropReason, LogError, PartitionLog};

const SEGMENT: u64 = 1200;

/// A log with a few sealed segments and 3 batches in the active one; returns the expected
/// records and the active segment's base offset.
fn setup(dir: &Path) -> (Vec<(i64, String)>, i64) {
    let mut log = PartitionLog::open(dir, config(SEGMENT)).unwrap();
    let mut expected = append_batches(&mut log, "s", 20, 3, 30);
    // A batch larger than a segment gets a segment of its own, so the next append starts a
    // fresh active segment whose content the tests know exactly.
    expected.extend(append_batches(&mut log, "big", 1, 1, SEGMENT as usize));
    let active = log.log_end_offset();
    expected.extend(append_batches(&mut log, "a", 3, 2, 10));
    assert_eq!(*log.segment_base_offsets().last().unwrap(), active);
    assert!(log.segment_base_offsets().len() >= 4);
    (expected, active)
}

/// [`setup`], plus the segments' base offsets.
fn setup_with_bases(dir: &Path) -> (Vec<(i64, String)>, Vec<i64>) {
    let (expected, _) = setup(dir);
    (expected, PartitionLog::open(dir, config(SEGMENT)).unwrap().segment_base_offsets())
}

/// Changes the byte at `position` of the log file of the sealed segment `base`, then reopens
/// the log: its recovery repairs nothing (sealed segments are only checked structurally).
/// Returns the file and the log.
fn damage_sealed(dir: &Path, base: i64, position: usize, change: impl FnOnce(&mut u8)) -> (PathBuf, PartitionLog) {
    let path = log_path(dir, base);
    let mut bytes = fs::read(&path).unwrap();
    change(&mut bytes[position]);
    fs::write(&path, bytes).unwrap();
    let log = PartitionLog::open(dir, config(SEGMENT)).unwrap();
    assert!(log.recovery_report().is_clean(), "{:?}", log.recovery_report());
    (path, log)
}

fn append_raw(path: &Path, bytes: &[u8]) {
    OpenOptions::new().append(true).open(path).unwrap().write_all(bytes).unwrap();
}

fn with_base(mut batch: Vec<u8>, base: i64) -> Vec<u8> {
    batch[..8].copy_from_slice(&base.to_be_bytes());
    batch
}

/// Reopens after damage and checks that the log is back to `expected`, that appends continue
/// at the right offset and that a second reopen is clean.
fn reopen_and_check(dir: &Path, expected: &[(i64, String)]) -> fluvio_log::RecoveryReport {
    let mut log = PartitionLog::open(dir, config(SEGMENT)).unwrap();
    let report = log.recovery_report().clone();
    let leo = expected.last().map_or(0, |r| r.0 + 1);
    assert_eq!(log.log_end_offset(), leo);
    assert_eq!(read_all(&log), expected);
    let more = append_batches(&mut log, "after", 2, 2, 0);
    assert_eq!(more[0].0, leo);
    drop(log);
    let log = PartitionLog::open(dir, config(SEGMENT)).unwrap();
    assert!(log.recovery_report().is_clean(), "{:?}", log.recovery_report());
    let mut all = expected.to_vec();
    all.extend(more);
    assert_eq!(read_all(&log), all);
    report
}

/// Damages the active segment with `damage(path, active_base, leo)`; returns the report and
/// the LEO before the damage.
fn tail_case(damage: impl FnOnce(&Path, i64, i64)) -> (fluvio_log::RecoveryReport, i64) {
    let dir = tempfile::tempdir().unwrap();
    let (expected, active) = setup(dir.path());
    let leo = expected.last().unwrap().0 + 1;
    let path = log_path(dir.path(), active);
    let before = fs::metadata(&path).unwrap().len();
    damage(&path, active, leo);
    let added = fs::metadata(&path).unwrap().len() - before;
    let report = reopen_and_check(dir.path(), &expected);
    assert_eq!(fs::metadata(&path).unwrap().len(), before + 2 * batch("after0", 2, 0).len() as u64);
    assert_eq!(report.truncations.len(), 1, "{report:?}");
    let t = &report.truncations[0];
    assert_eq!((t.segment_base_offset, t.position, t.bytes_removed, t.sealed), (active, before, added, false));
    assert_eq!(report.truncated_bytes(), added);
    (report, leo)
}

#[test]
fn torn_header_garbage_is_cut() {
    let (report, _) = tail_case(|path, _, _| append_raw(path, &[1, 2, 3, 4, 5]));
    assert_eq!(report.truncations[0].defect, BatchDefect::TornHeader { available: 5 });
}

#[test]
fn garbage_that_is_not_a_header_is_cut() {
    let (report, _) = tail_case(|path, _, _| append_raw(path, &[0xab; 300]));
    assert!(matches!(report.truncations[0].defect, BatchDefect::InvalidHeader(_)));
}

#[test]
fn zero_filled_tail_is_cut() {
    let (report, _) = tail_case(|path, _, _| append_raw(path, &[0; 4096]));
    assert!(matches!(report.truncations[0].defect, BatchDefect::InvalidHeader(_)));
}

#[test]
fn half_written_batch_is_cut() {
    let (report, _) = tail_case(|path, _, leo| {
        let next = with_base(batch("torn", 5, 40), leo);
        append_raw(path, &next[..next.len() / 2]);
    });
    assert!(matches!(report.truncations[0].defect, BatchDefect::TornBatch { .. }));
}

#[test]
fn batch_with_wrong_crc_is_cut() {
    let (report, _) = tail_case(|path, _, leo| {
        let mut next = with_base(batch("crc", 2, 0), leo);
        let last = next.len() - 3;
        next[last] ^= 0x40;
        append_raw(path, &next);
        // A valid batch after the bad one goes too: nothing after a bad batch is trusted.
        append_raw(path, &with_base(batch("later", 1, 0), leo + 2));
    });
    assert!(matches!(report.truncations[0].defect, BatchDefect::CrcMismatch { .. }));
}

#[test]
fn batch_with_discontinuous_base_offset_is_cut() {
    let (report, leo) = tail_case(|path, _, leo| append_raw(path, &with_base(batch("gap", 2, 0), leo + 5)));
    assert_eq!(report.truncations[0].defect, BatchDefect::OffsetDiscontinuity { expected: leo, found: leo + 5 });
}

#[test]
fn repeated_batch_is_cut() {
    // Same base offset as the previous batch (e.g. a retried write landing twice).
    let (report, _) = tail_case(|path, _, leo| append_raw(path, &with_base(batch("dup", 2, 0), leo - 2)));
    assert!(matches!(report.truncations[0].defect, BatchDefect::OffsetDiscontinuity { .. }));
}

#[test]
fn corruption_in_the_middle_of_the_active_segment_cuts_from_there() {
    let dir = tempfile::tempdir().unwrap();
    let (expected, active) = setup(dir.path());
    let path = log_path(dir.path(), active);
    let mut bytes = fs::read(&path).unwrap();
    let batch_len = batch("a0", 2, 10).len();
    // Flip a byte inside the second batch's records.
    bytes[batch_len + 60] ^= 1;
    fs::write(&path, &bytes).unwrap();
    let kept: Vec<_> = expected.iter().filter(|r| r.0 < active + 2).cloned().collect();
    let report = reopen_and_check(dir.path(), &kept);
    assert_eq!(report.truncations[0].position, batch_len as u64);
    assert!(matches!(report.truncations[0].defect, BatchDefect::CrcMismatch { .. }));
    // The report says which records went: the two of the damaged batch and the two after it.
    let t = &report.truncations[0];
    assert_eq!((t.offset, t.end_offset), (active + 2, Some(active + 6)));
    let removed = report.removed_offsets().unwrap();
    assert_eq!((removed.from, removed.to, removed.records()), (active + 2, Some(active + 6), Some(4)));
}

#[test]
fn entirely_torn_active_segment_is_emptied() {
    let dir = tempfile::tempdir().unwrap();
    let (expected, active) = setup(dir.path());
    let path = log_path(dir.path(), active);
    let bytes = fs::read(&path).unwrap();
    fs::write(&path, &bytes[..40]).unwrap();
    let kept: Vec<_> = expected.iter().filter(|r| r.0 < active).cloned().collect();
    let report = reopen_and_check(dir.path(), &kept);
    assert_eq!(report.truncations[0].position, 0);
}

#[test]
fn first_batch_must_match_the_file_name() {
    let dir = tempfile::tempdir().unwrap();
    let (expected, active) = setup(dir.path());
    let path = log_path(dir.path(), active);
    let mut bytes = fs::read(&path).unwrap();
    bytes[..8].copy_from_slice(&(active + 1).to_be_bytes());
    fs::write(&path, &bytes).unwrap();
    let kept: Vec<_> = expected.iter().filter(|r| r.0 < active).cloned().collect();
    let report = reopen_and_check(dir.path(), &kept);
    assert_eq!(report.truncations[0].defect, BatchDefect::OffsetDiscontinuity { expected: active, found: active + 1 });
}

#[test]
fn single_segment_log_with_torn_tail() {
    let dir = tempfile::tempdir().unwrap();
    let expected = {
        let mut log = PartitionLog::open(dir.path(), config(1 << 20)).unwrap();
        append_batches(&mut log, "b", 5, 2, 0)
    };
    append_raw(&log_path(dir.path(), 0), &with_base(batch("x", 3, 0), 10)[..70]);
    reopen_and_check(dir.path(), &expected);
}

#[test]
fn missing_indexes_are_rebuilt() {
    let dir = tempfile::tempdir().unwrap();
    let (expected, _) = setup(dir.path());
    let bases: Vec<i64> = PartitionLog::open(dir.path(), config(SEGMENT)).unwrap().segment_base_offsets();
    let originals: Vec<Vec<u8>> = bases.iter().map(|b| fs::read(index_path(dir.path(), *b)).unwrap()).collect();
    for base in &bases {
        fs::remove_file(index_path(dir.path(), *base)).unwrap();
    }
    let report = reopen_and_check(dir.path(), &expected);
    assert_eq!(report.indexes_rebuilt, bases);
    assert!(report.truncations.is_empty());
    // The rebuilt sealed indexes equal the ones written while appending.
    for (base, original) in bases.iter().zip(&originals).take(bases.len() - 1) {
        assert_eq!(&fs::read(index_path(dir.path(), *base)).unwrap(), original);
    }
}

#[test]
fn corrupt_indexes_are_rebuilt() {
    let dir = tempfile::tempdir().unwrap();
    let (expected, active) = setup(dir.path());
    let bases = PartitionLog::open(dir.path(), config(SEGMENT)).unwrap().segment_base_offsets();
    assert!(fs::read(index_path(dir.path(), bases[0])).unwrap().len() >= 16);
    // Segment 0: a partial entry. Segment 1: entries pointing past the log.
    // Segment 2: well-formed but the last entry points into the middle of a batch.
    // Active: garbage.
    let i0 = index_path(dir.path(), bases[0]);
    let mut b = fs::read(&i0).unwrap();
    b.truncate(b.len() - 3);
    fs::write(&i0, b).unwrap();
    fs::write(index_path(dir.path(), bases[1]), [0, 0, 0, 1, 0xff, 0, 0, 0]).unwrap();
    let i2 = index_path(dir.path(), bases[2]);
    let mut b = fs::read(&i2).unwrap();
    let n = b.len();
    if n >= 8 {
        b[n - 1] = b[n - 1].wrapping_add(1);
    } else {
        b = vec![0, 0, 0, 1, 0, 0, 0, 9];
    }
    fs::write(&i2, b).unwrap();
    fs::write(index_path(dir.path(), active), b"not an index").unwrap();
    let report = reopen_and_check(dir.path(), &expected);
    let mut rebuilt = report.indexes_rebuilt.clone();
    rebuilt.sort();
    let mut want = vec![bases[0], bases[1], bases[2], active];
    want.dedup();
    assert_eq!(rebuilt, want);
}

#[test]
fn wrong_middle_index_entry_only_slows_reads() {
    // Recovery checks only the first and last entries of a sealed index; a wrong entry in
    // between is detected by the read that uses it, which falls back to a walk.
    let dir = tempfile::tempdir().unwrap();
    let (expected, _) = setup(dir.path());
    let bases = PartitionLog::open(dir.path(), config(SEGMENT)).unwrap().segment_base_offsets();
    let i0 = index_path(dir.path(), bases[0]);
    let mut b = fs::read(&i0).unwrap();
    assert!(b.len() >= 24, "need three entries, have {}", b.len() / 8);
    b[15] = b[15].wrapping_add(1); // second entry's position, still between its neighbours
    fs::write(&i0, b).unwrap();
    let log = PartitionLog::open(dir.path(), config(SEGMENT)).unwrap();
    assert_eq!(read_all(&log), expected);
    for offset in 0..log.log_end_offset() {
        let slice = log.read(offset, 1, log.log_end_offset()).unwrap();
        assert!(slice.first_offset <= offset && offset < slice.next_offset);
    }
}

#[test]
fn leftover_files_are_handled() {
    let dir = tempfile::tempdir().unwrap();
    let (expected, active) = setup(dir.path());
    let orphan = index_path(dir.path(), active + 1000);
    fs::write(&orphan, [0u8; 16]).unwrap();
    fs::write(dir.path().join("notes.txt"), b"keep me").unwrap();
    fs::write(dir.path().join("123.log"), b"not ours: wrong name length").unwrap();
    fs::create_dir(dir.path().join(format!("{:020}.log", active + 5000))).unwrap();
    let report = reopen_and_check(dir.path(), &expected);
    assert_eq!(report.removed_files, vec![orphan.clone()]);
    assert!(!orphan.exists());
    assert!(dir.path().join("notes.txt").exists());
    assert!(dir.path().join("123.log").exists());
}

#[test]
fn empty_sealed_segment_is_removed() {
    let dir = tempfile::tempdir().unwrap();
    let (expected, _) = setup(dir.path());
    let bases = PartitionLog::open(dir.path(), config(SEGMENT)).unwrap().segment_base_offsets();
    // An empty first segment (only possible by outside damage): the log starts at the next.
    OpenOptions::new().write(true).open(log_path(dir.path(), 0)).unwrap().set_len(0).unwrap();
    let kept: Vec<_> = expected.iter().filter(|r| r.0 >= bases[1]).cloned().collect();
    let report = reopen_and_check(dir.path(), &kept);
    assert_eq!(report.removed_files, vec![log_path(dir.path(), 0), index_path(dir.path(), 0)]);
    let log = PartitionLog::open(dir.path(), config(SEGMENT)).unwrap();
    assert_eq!(log.log_start_offset(), bases[1]);
}

#[test]
fn damaged_sealed_segment_is_cut_and_later_segments_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let (expected, _) = setup(dir.path());
    let bases = PartitionLog::open(dir.path(), config(SEGMENT)).unwrap().segment_base_offsets();
    let path = log_path(dir.path(), bases[1]);
    let len = fs::metadata(&path).unwrap().len();
    // A sealed segment losing its last bytes (e.g. never synced before a power loss).
    OpenOptions::new().write(true).open(&path).unwrap().set_len(len - 10).unwrap();
    let batch_len = batch("s0", 3, 30).len() as u64;
    let whole = (len - 10) / batch_len;
    let cut_at = bases[1] + 3 * whole as i64;
    let kept: Vec<_> = expected.iter().filter(|r| r.0 < cut_at).cloned().collect();
    let report = reopen_and_check(dir.path(), &kept);
    assert_eq!(report.truncations.len(), 1);
    let t = &report.truncations[0];
    assert_eq!((t.segment_base_offset, t.position, t.sealed), (bases[1], whole * batch_len, true));
    assert!(matches!(t.defect, BatchDefect::TornBatch { .. }));
    let dropped: Vec<i64> = report.dropped_segments.iter().map(|d| d.base_offset).collect();
    assert_eq!(dropped, bases[2..].to_vec());
    // Every record from the cut to the old log end is accounted for, by offset.
    let old_end = expected.last().unwrap().0 + 1;
    assert_eq!(t.offset, cut_at);
    let ends: Vec<Option<i64>> = report.dropped_segments.iter().map(|d| d.next_offset).collect();
    let mut next_bases: Vec<Option<i64>> = bases[3..].iter().map(|b| Some(*b)).collect();
    next_bases.push(Some(old_end));
    assert_eq!(ends, next_bases);
    let removed = report.removed_offsets().unwrap();
    assert_eq!((removed.from, removed.to), (cut_at, Some(old_end)));
    assert_eq!(removed.records(), Some(old_end - cut_at));
    assert!(
        report
            .dropped_segments
            .iter()
            .all(|d| d.reason == DropReason::AfterTruncatedSegment { segment_base_offset: bases[1] })
    );
    assert!(report.dropped_bytes() > 0);
    for base in &bases[2..] {
        assert!(!log_path(dir.path(), *base).exists());
        assert!(!index_path(dir.path(), *base).exists());
    }
}

#[test]
fn corruption_inside_a_sealed_segment_is_reported_by_reads() {
    // Sealed segments are trusted at open (only their index ends and last batches are
    // checked), so damage in the middle of one surfaces as a typed error when read.
    let dir = tempfile::tempdir().unwrap();
    let (expected, bases) = setup_with_bases(dir.path());
    let batch_len = batch("s0", 3, 30).len();
    // The magic byte of the third batch.
    let (path, log) = damage_sealed(dir.path(), bases[0], 2 * batch_len + 16, |byte| *byte = 7);
    let leo = log.log_end_offset();
    for offset in 6..9 {
        match log.read(offset, 10_000, leo) {
            Err(LogError::Corrupt { path: p, position, offset, defect: BatchDefect::InvalidHeader(_) }) => {
                assert_eq!((p, position, offset), (path.clone(), 2 * batch_len as u64, 6));
            }
            other => panic!("offset {offset}: {other:?}"),
        }
    }
    // A read that starts before the damage returns the good batches and stops there.
    let slice = log.read(0, 10_000, leo).unwrap();
    assert_eq!(records(&slice), expected[..6].to_vec());
    assert_eq!(slice.next_offset, 6);
    let after: Vec<_> = expected.iter().filter(|r| r.0 >= bases[1]).cloned().collect();
    let slice = log.read(bases[1], usize::MAX, leo).unwrap();
    assert_eq!(records(&slice), after);
}

#[test]
fn missing_middle_segment_drops_what_follows() {
    let dir = tempfile::tempdir().unwrap();
    let (expected, _) = setup(dir.path());
    let bases = PartitionLog::open(dir.path(), config(SEGMENT)).unwrap().segment_base_offsets();
    fs::remove_file(log_path(dir.path(), bases[1])).unwrap();
    let kept: Vec<_> = expected.iter().filter(|r| r.0 < bases[1]).cloned().collect();
    let report = reopen_and_check(dir.path(), &kept);
    // The orphaned index of the deleted segment goes too.
    assert_eq!(report.removed_files, vec![index_path(dir.path(), bases[1])]);
    assert_eq!(report.dropped_segments[0].reason, DropReason::OffsetGap { expected: bases[1], found: bases[2] });
    assert_eq!(report.dropped_segments.len(), bases.len() - 2);
    // Segment 0 became the active segment again, so it was fully scanned (clean here).
    assert!(report.truncations.is_empty());
}

#[test]
fn a_clean_log_removes_no_offsets() {
    let dir = tempfile::tempdir().unwrap();
    setup(dir.path());
    let log = PartitionLog::open(dir.path(), config(SEGMENT)).unwrap();
    assert_eq!(log.recovery_report().removed_offsets(), None);
}

#[test]
fn a_flipped_record_byte_in_a_sealed_segment_is_never_served() {
    // Recovery trusts sealed segments (their CRCs are not checked at open); reads check the
    // CRC of every batch they return.
    let dir = tempfile::tempdir().unwrap();
    let (expected, bases) = setup_with_bases(dir.path());
    let batch_len = batch("s0", 3, 30).len();
    // Inside the records of the segment's second batch.
    let (path, log) = damage_sealed(dir.path(), bases[1], batch_len + 70, |byte| *byte ^= 0x20);
    let leo = log.log_end_offset();
    let damaged = bases[1] + 3;
    for offset in damaged..damaged + 3 {
        match log.read(offset, usize::MAX, leo) {
            Err(LogError::Corrupt { path: p, position, offset: at, defect: BatchDefect::CrcMismatch { .. } }) => {
                assert_eq!((p, position, at), (path.clone(), batch_len as u64, damaged));
            }
            other => panic!("offset {offset}: {other:?}"),
        }
    }
    // Reads that reach the damaged batch stop before it; the rest of the log is served.
    let slice = log.read(bases[1], usize::MAX, leo).unwrap();
    assert_eq!(
        records(&slice),
        expected.iter().filter(|r| r.0 >= bases[1] && r.0 < damaged).cloned().collect::<Vec<_>>()
    );
    let slice = log.read(0, usize::MAX, leo).unwrap();
    assert_eq!(slice.next_offset, damaged);
    let slice = log.read(damaged + 3, usize::MAX, leo).unwrap();
    assert_eq!(records(&slice), expected.iter().filter(|r| r.0 >= damaged + 3).cloned().collect::<Vec<_>>());
}

/// `read_range` (the cut pushes of a stream) checks the CRC of every batch it returns, the one
/// it cuts included: the official consumer takes the records of a cut batch that arrived.
#[test]
fn a_flipped_record_byte_is_never_served_by_a_cut_range_either() {
    let dir = tempfile::tempdir().unwrap();
    let (_, bases) = setup_with_bases(dir.path());
    let batch_len = batch("s0", 3, 30).len();
    // The last byte of the segment's second batch: any cut of it leaves the damage out.
    let (path, log) = damage_sealed(dir.path(), bases[1], 2 * batch_len - 1, |byte| *byte ^= 0x01);
    let leo = log.log_end_offset();
    let damaged = bases[1] + 3;
    let is_damage = |result: Result<fluvio_log::ReadSlice, LogError>| match result {
        Err(LogError::Corrupt { path: p, position, offset, defect: BatchDefect::CrcMismatch { .. } }) => {
            (p, position, offset) == (path.clone(), batch_len as u64, damaged)
        }
        _ => false,
    };
    for max_bytes in [1, 12, 58, batch_len - 1, batch_len, 2 * batch_len] {
        // Starting at the damaged batch: refused, whole or cut.
        assert!(is_damage(log.read_range(damaged, max_bytes, leo)), "max_bytes {max_bytes}");
    }
    // Starting before it: the whole batch before is served, the damaged one not even in part.
    for max_bytes in [batch_len + 1, batch_len + 58, 2 * batch_len - 1, 2 * batch_len, 10 * batch_len] {
        let range = log.read_range(bases[1], max_bytes, leo).unwrap();
        assert_eq!(range.bytes.len(), batch_len, "max_bytes {max_bytes}");
        assert_eq!(range.next_offset, damaged);
    }
    // A cut of the batch before the damage is served as usual.
    assert_eq!(log.read_range(bases[1], batch_len - 1, leo).unwrap().bytes.len(), batch_len - 1);
}

#[test]
fn tail_headers_are_visited_without_reading_records() {
    let dir = tempfile::tempdir().unwrap();
    let (expected, _) = setup(dir.path());
    let log = PartitionLog::open(dir.path(), config(SEGMENT)).unwrap();
    let leo = log.log_end_offset();
    let visit = |bytes: u64| {
        let mut seen = Vec::new();
        log.visit_tail_headers(bytes, |h| seen.push((h.base_offset, h.next_offset()))).unwrap();
        seen
    };
    // Everything: every batch once, in order, ending at the log end.
    let all = visit(u64::MAX);
    assert_eq!(all.first().unwrap().0, 0);
    assert_eq!(all.last().unwrap().1, leo);
    assert!(all.windows(2).all(|w| w[0].1 == w[1].0), "contiguous: {all:?}");
    assert_eq!(all.iter().map(|(b, n)| n - b).sum::<i64>() as usize, expected.len());
    // A tail: a suffix of that, covering at least the bytes asked for.
    let tail = visit(2 * SEGMENT);
    assert!(tail.len() < all.len() && tail.len() > 2);
    assert_eq!(tail[..], all[all.len() - tail.len()..]);
    let last = visit(1);
    assert_eq!(last.last().unwrap().1, leo);
}

#[test]
fn a_damaged_batch_and_what_follows_can_be_cut_at_its_offset() {
    let dir = tempfile::tempdir().unwrap();
    let (expected, bases) = setup_with_bases(dir.path());
    let batch_len = batch("s0", 3, 30).len();
    // The magic byte of the segment's third batch.
    let (_, mut log) = damage_sealed(dir.path(), bases[1], 2 * batch_len + 16, |byte| *byte = 9);
    let damaged = bases[1] + 6;
    assert!(matches!(log.read(damaged, 1, log.log_end_offset()), Err(LogError::Corrupt { .. })));
    assert!(matches!(log.truncate_to(damaged + 1), Err(LogError::Corrupt { .. })), "inside the damage");
    log.truncate_to(damaged).unwrap();
    assert_eq!(log.log_end_offset(), damaged);
    assert_eq!(read_all(&log), expected.iter().filter(|r| r.0 < damaged).cloned().collect::<Vec<_>>());
    append_batches(&mut log, "again", 1, 3, 0);
    drop(log);
    let log = PartitionLog::open(dir.path(), config(SEGMENT)).unwrap();
    assert!(log.recovery_report().is_clean(), "{:?}", log.recovery_report());
}
