//! Appends and reads, including segment rolls, bounds and errors.

mod common;

use common::*;
use fluvio_log::{BatchDefect, LogConfig, LogError, PartitionLog};

#[test]
fn new_log_is_empty() {
    let dir = tempfile::tempdir().unwrap();
    let log = PartitionLog::open(dir.path(), LogConfig::default()).unwrap();
    assert_eq!(log.log_start_offset(), 0);
    assert_eq!(log.log_end_offset(), 0);
    assert_eq!(log.size_bytes(), 0);
    assert!(log.recovery_report().is_clean());
    assert!(log_path(dir.path(), 0).exists());
    assert!(log.read(0, 1000, 0).unwrap().is_empty());
    assert!(matches!(log.read(1, 1000, 1), Err(LogError::OffsetOutOfRange { offset: 1, log_end: 0 })));
}

#[test]
fn open_creates_missing_directories() {
    let dir = tempfile::tempdir().unwrap();
    let nested = dir.path().join("a/b/topic-0");
    let log = PartitionLog::open(&nested, LogConfig::default()).unwrap();
    assert_eq!(log.dir(), nested);
    assert!(nested.is_dir());
}

#[test]
fn round_trip_across_many_segment_rolls() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = PartitionLog::open(dir.path(), config(1024)).unwrap();
    let expected = append_batches(&mut log, "b", 60, 3, 20);
    assert_eq!(log.log_end_offset(), 180);
    let segments = log.segment_base_offsets();
    assert!(segments.len() > 5, "expected several rolls, got {segments:?}");
    assert_eq!(segments[0], 0);
    // Each segment is at most segment_max_bytes (no batch is bigger than that here).
    for base in &segments {
        let len = std::fs::metadata(log_path(dir.path(), *base)).unwrap().len();
        assert!(len <= 1024, "segment {base} has {len} bytes");
        assert!(index_path(dir.path(), *base).exists());
    }
    assert_eq!(read_all(&log), expected);
    // One big read spans every segment.
    let all = log.read(0, usize::MAX, log.log_end_offset()).unwrap();
    assert_eq!(records(&all), expected);
    assert_eq!(all.bytes.len() as u64, log.size_bytes());
}

#[test]
fn read_starts_with_the_batch_containing_the_offset() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = PartitionLog::open(dir.path(), config(1024)).unwrap();
    append_batches(&mut log, "b", 40, 5, 10);
    let leo = log.log_end_offset();
    for offset in 0..leo {
        let slice = log.read(offset, 1, leo).unwrap();
        let batches = batches(&slice);
        assert_eq!(batches.len(), 1, "max_bytes=1 returns exactly one batch");
        assert_eq!(slice.first_offset, offset - offset % 5, "offset {offset}");
        assert_eq!(slice.next_offset, slice.first_offset + 5);
    }
    // At the LEO: empty, not an error.
    let at_end = log.read(leo, 1000, leo).unwrap();
    assert!(at_end.is_empty());
    assert_eq!((at_end.first_offset, at_end.next_offset), (leo, leo));
    assert!(matches!(log.read(leo + 1, 1000, leo), Err(LogError::OffsetOutOfRange { .. })));
}

#[test]
fn max_bytes_limits_whole_batches() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = PartitionLog::open(dir.path(), config(1 << 20)).unwrap();
    append_batches(&mut log, "b", 10, 2, 0);
    let batch_len = log.size_bytes() as usize / 10;
    let leo = log.log_end_offset();
    for n in 1..=10 {
        let exact = log.read(0, n * batch_len, leo).unwrap();
        assert_eq!(batches(&exact).len(), n);
        let under = log.read(0, n * batch_len + batch_len - 1, leo).unwrap();
        assert_eq!(batches(&under).len(), n);
    }
    // Zero budget still returns the first batch.
    let zero = log.read(3, 0, leo).unwrap();
    assert_eq!(batches(&zero).len(), 1);
    assert_eq!(zero.first_offset, 2);
}

#[test]
fn oversized_batch_is_returned_alone() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = PartitionLog::open(dir.path(), config(1024)).unwrap();
    append_batches(&mut log, "small", 1, 1, 0);
    append_batches(&mut log, "big", 1, 4, 2000); // larger than a segment: gets its own
    append_batches(&mut log, "after", 1, 1, 0);
    assert_eq!(log.segment_base_offsets(), vec![0, 1, 5]);
    let leo = log.log_end_offset();
    let slice = log.read(2, 100, leo).unwrap();
    assert_eq!(batches(&slice).len(), 1);
    assert_eq!((slice.first_offset, slice.next_offset), (1, 5));
    assert!(slice.bytes.len() > 8000);
    // With budget left after the small batch, the big one is not added.
    let slice = log.read(0, 1000, leo).unwrap();
    assert_eq!((slice.first_offset, slice.next_offset), (0, 1));
}

#[test]
fn end_offset_bound_is_respected() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = PartitionLog::open(dir.path(), config(600)).unwrap();
    append_batches(&mut log, "b", 30, 4, 10);
    for end in (0..=120).step_by(4) {
        for offset in [0i64, 3, 4, 57, 100, 119] {
            if offset > log.log_end_offset() {
                continue;
            }
            let slice = log.read(offset, usize::MAX, end).unwrap();
            if offset >= end {
                assert!(slice.is_empty(), "offset {offset} end {end}");
            } else {
                assert_eq!(slice.next_offset, end, "offset {offset} end {end}");
                assert_eq!(slice.first_offset, offset - offset % 4);
            }
        }
    }
    // An end beyond the LEO is clamped.
    let slice = log.read(0, usize::MAX, i64::MAX).unwrap();
    assert_eq!(slice.next_offset, 120);
}

/// `read_range` is the byte prefix, `max_bytes` long, of the whole batches from the one
/// holding the offset to the end bound or the segment's end, whichever comes first.
#[test]
fn read_range_cuts_at_max_bytes_within_one_segment() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = PartitionLog::open(dir.path(), config(700)).unwrap();
    append_batches(&mut log, "b", 24, 3, 20);
    let leo = log.log_end_offset();
    let segments = log.segment_base_offsets();
    assert!(segments.len() > 3, "{segments:?}");
    let batch_len = batch("b0", 3, 20).len();
    let mut cut_inside = 0;
    for offset in 0..leo {
        let segment_end = segments.iter().copied().find(|base| *base > offset).unwrap_or(leo);
        for end in [leo, offset + 1, offset + 4, offset + 10] {
            let whole = log.read(offset, usize::MAX, end.min(segment_end)).unwrap();
            for max_bytes in
                [0, 1, 11, 12, 56, 57, 58, batch_len - 1, batch_len, batch_len + 30, 3 * batch_len, 1 << 20]
            {
                let range = log.read_range(offset, max_bytes, end).unwrap();
                let len = whole.bytes.len().min(max_bytes);
                assert_eq!(range.bytes, whole.bytes.slice(..len), "offset {offset} end {end} max {max_bytes}");
                if len == 0 {
                    assert!(range.is_empty());
                    assert_eq!((range.first_offset, range.next_offset), (offset, offset));
                    continue;
                }
                assert_eq!(range.first_offset, whole.first_offset);
                // The offset after the batches it holds whole.
                let whole_batches = len / batch_len;
                assert_eq!(range.next_offset, whole.first_offset + 3 * whole_batches as i64, "offset {offset}");
                let parsed = fluvio_wire::RecordSet::from_encoded(range.bytes.clone()).parse();
                // The end the cut batch's header declares, when the header arrived whole.
                assert_eq!(range.cut_end, parsed.partial.map(|cut| cut.header.next_offset()), "offset {offset}");
                if len % batch_len != 0 {
                    cut_inside += 1;
                    assert_eq!(parsed.cut.and_then(|c| c.total_len), (len % batch_len >= 12).then_some(batch_len));
                }
            }
        }
    }
    assert!(cut_inside > 1000, "{cut_inside}");
    // Past the end bound or at the LEO: empty; past the LEO: an error, as for `read`.
    assert!(log.read_range(leo, 1000, leo).unwrap().is_empty());
    assert!(log.read_range(5, 1000, 3).unwrap().is_empty());
    assert!(matches!(log.read_range(leo + 1, 1000, leo), Err(LogError::OffsetOutOfRange { .. })));
}

#[test]
fn append_many_writes_contiguous_offsets() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = PartitionLog::open(dir.path(), config(1024)).unwrap();
    append_batches(&mut log, "first", 1, 2, 0);
    let mut buf = Vec::new();
    for (i, n) in [3usize, 1, 5].into_iter().enumerate() {
        buf.extend(batch(&format!("m{i}"), n, 0));
    }
    let info = log.append_many(&mut buf).unwrap();
    assert_eq!((info.base_offset, info.next_offset, info.batches), (2, 11, 3));
    let all = records(&log.read(0, usize::MAX, 11).unwrap());
    let offsets: Vec<i64> = all.iter().map(|r| r.0).collect();
    assert_eq!(offsets, (0..11).collect::<Vec<_>>());
    assert_eq!(all[2].1, "m0-0");
    assert_eq!(all[5].1, "m1-0");
    assert_eq!(all[10].1, "m2-4");

    // A set that does not fit the active segment goes whole into a new one.
    let mut buf = Vec::new();
    for i in 0..4 {
        buf.extend(batch(&format!("x{i}"), 2, 100));
    }
    let info = log.append_many(&mut buf).unwrap();
    assert_eq!((info.segment_base_offset, info.position), (11, 0));
    assert_eq!(log.segment_base_offsets(), vec![0, 11]);
}

#[test]
fn invalid_batches_are_rejected_without_writing() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = PartitionLog::open(dir.path(), config(1024)).unwrap();
    append_batches(&mut log, "ok", 2, 1, 0);
    let size = log.size_bytes();

    let mut short = batch("x", 2, 0);
    short.truncate(30);
    assert!(matches!(
        log.append(&mut short),
        Err(LogError::InvalidBatch { position: 0, defect: BatchDefect::TornHeader { available: 30 } })
    ));

    let mut bad_magic = batch("x", 2, 0);
    bad_magic[16] = 1;
    assert!(matches!(
        log.append(&mut bad_magic),
        Err(LogError::InvalidBatch { defect: BatchDefect::InvalidHeader(_), .. })
    ));

    let mut bad_crc = batch("x", 2, 0);
    let last = bad_crc.len() - 2;
    bad_crc[last] ^= 0xff;
    assert!(matches!(
        log.append(&mut bad_crc),
        Err(LogError::InvalidBatch { defect: BatchDefect::CrcMismatch { .. }, .. })
    ));

    let mut two = batch("x", 1, 0);
    two.extend(batch("y", 1, 0));
    assert!(matches!(
        log.append(&mut two),
        Err(LogError::InvalidBatch { defect: BatchDefect::LengthMismatch { .. }, .. })
    ));

    let mut cut = batch("x", 1, 0);
    cut.pop();
    assert!(matches!(log.append(&mut cut), Err(LogError::InvalidBatch { defect: BatchDefect::TornBatch { .. }, .. })));

    let mut empty = batch("x", 1, 0);
    empty[23..27].copy_from_slice(&(-1i32).to_be_bytes()); // last_offset_delta = -1 (CRC now wrong too)
    assert!(matches!(
        log.append(&mut empty),
        Err(LogError::InvalidBatch { defect: BatchDefect::EmptyBatch { .. }, .. })
    ));

    // In append_many, a bad second batch rejects the whole set.
    let mut set = batch("x", 1, 0);
    let second_at = set.len();
    set.extend(bad_crc.iter().copied());
    assert!(matches!(log.append_many(&mut set), Err(LogError::InvalidBatch { position, .. }) if position == second_at));
    assert!(matches!(log.append_many(&mut []), Err(LogError::InvalidBatch { position: 0, .. })));

    assert_eq!(log.size_bytes(), size);
    assert_eq!(log.log_end_offset(), 2);
    let mut fine = batch("z", 1, 0);
    assert_eq!(log.append(&mut fine).unwrap().base_offset, 2);
}

#[test]
fn reopen_after_clean_close_is_identical() {
    let dir = tempfile::tempdir().unwrap();
    let (expected, segments, size) = {
        let mut log = PartitionLog::open(dir.path(), config(1500)).unwrap();
        let expected = append_batches(&mut log, "b", 50, 3, 15);
        log.sync().unwrap();
        (expected, log.segment_base_offsets(), log.size_bytes())
    };
    let indexes: Vec<Vec<u8>> = segments.iter().map(|b| std::fs::read(index_path(dir.path(), *b)).unwrap()).collect();
    let mut log = PartitionLog::open(dir.path(), config(1500)).unwrap();
    assert!(log.recovery_report().is_clean(), "{:?}", log.recovery_report());
    assert_eq!(log.recovery_report().segments_loaded, segments.len());
    assert_eq!(log.segment_base_offsets(), segments);
    assert_eq!(log.size_bytes(), size);
    assert_eq!(log.log_end_offset(), 150);
    assert_eq!(read_all(&log), expected);
    let after: Vec<Vec<u8>> = segments.iter().map(|b| std::fs::read(index_path(dir.path(), *b)).unwrap()).collect();
    assert_eq!(after, indexes, "recovery rebuilds the same indexes");
    assert!(indexes.iter().any(|i| i.len() >= 16), "the test should exercise non-trivial indexes");
    // Appends continue where they stopped.
    let more = append_batches(&mut log, "c", 3, 2, 0);
    assert_eq!(more[0].0, 150);
}

#[test]
fn read_from_a_shared_reference_in_threads() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = PartitionLog::open(dir.path(), config(2000)).unwrap();
    let expected = append_batches(&mut log, "b", 40, 3, 20);
    let log = &log;
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| assert_eq!(read_all(log), expected));
        }
    });
}

#[test]
fn remove_deletes_the_directory() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("topic-0");
    let mut log = PartitionLog::open(&path, config(500)).unwrap();
    append_batches(&mut log, "b", 10, 2, 20);
    log.remove().unwrap();
    assert!(!path.exists());
}
