//! Loading a partition directory: validation, repair and the report of what was repaired.
//!
//! The rules, in the order they are applied:
//! 0. If a [`reset_to`](crate::PartitionLog::reset_to) was decided but a crash interrupted it
//!    (its marker file [`RESET_FILE_NAME`](crate::RESET_FILE_NAME) exists), it is completed
//!    first: every segment file is deleted and the log restarts empty at the marker's offset
//!    (see the `reset` module). A temporary marker of an undecided reset is deleted.
//! 1. Files are recognised by name (`{base:020}.log`, `{base:020}.index`); other files are
//!    left alone. An index without a log is deleted.
//! 2. Segments are loaded in base-offset order. Each must start where the previous one ended;
//!    at the first gap or overlap, that segment and all later ones are deleted (offsets after
//!    a hole could never be served in order).
//! 3. A sealed segment (not the last) is trusted to hold valid batches, because the log
//!    fsyncs a segment before sealing it. Its structure is still checked cheaply: the first
//!    batch must start at the file's base offset, the index must be well formed and its first
//!    and last entries must land on batch headers with the right offsets, and the header
//!    chain from the last entry must end exactly at the end of the file. If the index is the
//!    only problem it is rebuilt from the batch headers. If the headers themselves are broken
//!    the segment is scanned like the active one and cut at its first bad batch, and every
//!    later segment is deleted. An empty sealed segment is deleted. (Damage inside a batch's
//!    records is not looked for here: every read checks the CRC of each batch it returns, so
//!    such a batch is refused when read, never served.)
//! 4. The last segment is scanned completely: every batch must parse, be non-empty, start at
//!    the previous batch's next offset (the first at the base offset), lie within the file
//!    and the u32 limits of a segment, and have a valid CRC-32C. The file is cut (and
//!    fsynced) at the first batch that fails, so a torn or corrupt tail is never served, and
//!    its index is rebuilt from the scan whenever the file differs.
//!
//! The [`RecoveryReport`] says what was done, including which offsets were removed
//! ([`RecoveryReport::removed_offsets`]): the caller logs it and decides whether records it
//! had acknowledged are gone.

use std::collections::BTreeSet;
use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use fluvio_wire::record::{BATCH_CRC_START, BATCH_FILE_HEADER_LEN, BatchHeader};

use crate::batch::{ChunkReader, READ_CHUNK, check_header, checked_next_offset};
use crate::config::LogConfig;
use crate::error::{BatchDefect, LogError};
use crate::files::FilePool;
use crate::index::{ENTRY_LEN, IndexEntry, OffsetIndex};
use crate::reset;
use crate::segment::{
    MAX_RELATIVE_OFFSET, MAX_SEGMENT_BYTES, Segment, index_file_name, log_file_name, parse_file_name,
    remove_file_if_exists, sync_dir, write_index_file,
};

/// What [`PartitionLog::open`](crate::PartitionLog::open) found and repaired.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecoveryReport {
    /// Segments in the log after recovery.
    pub segments_loaded: usize,
    /// Segment files cut at their first bad batch (normally at most one: the active segment's
    /// torn tail after a crash).
    pub truncations: Vec<Truncation>,
    /// Base offsets of the segments whose index file was missing, malformed or stale and was
    /// written anew.
    pub indexes_rebuilt: Vec<i64>,
    /// Whole segments deleted because they followed a gap or a damaged segment.
    pub dropped_segments: Vec<DroppedSegment>,
    /// Leftover files deleted: indexes without a log, empty sealed segments, the temporary
    /// marker of a reset that a crash interrupted before it was decided.
    pub removed_files: Vec<PathBuf>,
    /// A [`reset_to`](crate::PartitionLog::reset_to) that a crash interrupted after it was
    /// decided was completed: the log now starts empty at this offset.
    pub completed_reset: Option<i64>,
}

impl RecoveryReport {
    /// True when the directory was consistent and nothing had to be repaired.
    pub fn is_clean(&self) -> bool {
        self.truncations.is_empty()
            && self.indexes_rebuilt.is_empty()
            && self.dropped_segments.is_empty()
            && self.removed_files.is_empty()
            && self.completed_reset.is_none()
    }

    /// Bytes cut from the tails of segments.
    pub fn truncated_bytes(&self) -> u64 {
        self.truncations.iter().map(|t| t.bytes_removed).sum()
    }

    /// Bytes of the whole segments deleted.
    pub fn dropped_bytes(&self) -> u64 {
        self.dropped_segments.iter().map(|d| d.bytes).sum()
    }

    /// The records recovery removed, as offsets: `None` when it removed none (a completed
    /// reset and leftover files do not count: they hold no record of the log).
    pub fn removed_offsets(&self) -> Option<RemovedOffsets> {
        let starts =
            self.truncations.iter().map(|t| t.offset).chain(self.dropped_segments.iter().map(|d| match d.reason {
                DropReason::OffsetGap { expected, .. } => expected,
                DropReason::AfterTruncatedSegment { .. } => d.base_offset,
            }));
        let from = starts.min()?;
        let ends = self
            .truncations
            .iter()
            .filter_map(|t| t.end_offset)
            .chain(self.dropped_segments.iter().map(|d| d.next_offset.unwrap_or(d.base_offset)));
        let to = ends.max().filter(|to| *to > from);
        Some(RemovedOffsets { from, to })
    }
}

/// Offsets whose records recovery removed (see [`RecoveryReport::removed_offsets`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RemovedOffsets {
    /// The first offset removed: the log now ends here (or, after a gap, the records from
    /// here were already missing).
    pub from: i64,
    /// The offset after the last record known to have been removed, when the damaged bytes
    /// let it be read: the removed records are at least `from..to`. `None` when not even one
    /// removed batch header could be read.
    pub to: Option<i64>,
}

impl RemovedOffsets {
    /// The number of records removed, at least (`None` when unknown).
    pub fn records(&self) -> Option<i64> {
        self.to.map(|to| to - self.from)
    }
}

/// A segment file cut at its first bad batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Truncation {
    /// Base offset of the segment.
    pub segment_base_offset: i64,
    /// Position of the cut: the file now has this many bytes.
    pub position: u64,
    /// The offset of the first record cut (the segment now ends there).
    pub offset: i64,
    /// The offset after the last record cut, as far as the headers of the cut batches could
    /// still be read (`None` if not even the first one could).
    pub end_offset: Option<i64>,
    /// Bytes removed.
    pub bytes_removed: u64,
    /// What was wrong with the batch at `position`.
    pub defect: BatchDefect,
    /// True if the segment was a sealed one (which points at corruption rather than a crash
    /// during an append).
    pub sealed: bool,
}

/// A whole segment deleted by recovery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DroppedSegment {
    /// Base offset of the segment.
    pub base_offset: i64,
    /// The offset after its last record, as far as its batch headers could be read (`None`
    /// if not even the first one could).
    pub next_offset: Option<i64>,
    /// Size of its log file.
    pub bytes: u64,
    /// Why it went.
    pub reason: DropReason,
}

/// Why recovery deleted a segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DropReason {
    /// An earlier segment ended at `expected` but the next segment starts at `found`.
    OffsetGap {
        /// Where the previous segment ended.
        expected: i64,
        /// Where the next one starts.
        found: i64,
    },
    /// An earlier sealed segment was cut, so this one no longer follows it.
    AfterTruncatedSegment {
        /// Base offset of the cut segment.
        segment_base_offset: i64,
    },
}

/// Result of scanning a segment from its start.
pub(crate) struct Scan {
    /// Bytes of the valid batch chain.
    pub valid_len: u64,
    /// Offset after the last valid batch.
    pub next_offset: i64,
    /// The index of the valid part.
    pub index: OffsetIndex,
    /// Why the scan stopped before the end of the file.
    pub defect: Option<BatchDefect>,
}

/// Walks the batches of a segment file from position 0 and stops at the first that fails a
/// check (CRC included only with `verify_crc`), building the index on the way.
pub(crate) fn scan(
    file: &File,
    path: &Path,
    len: u64,
    base_offset: i64,
    verify_crc: bool,
    index_interval: u32,
) -> Result<Scan, LogError> {
    let mut reader = ChunkReader::new(file, len, READ_CHUNK);
    let mut index = OffsetIndex::default();
    let mut position = 0u64;
    let mut next_offset = base_offset;
    let defect = loop {
        if position == len {
            break None;
        }
        let bytes = reader.get(position, BATCH_FILE_HEADER_LEN).map_err(LogError::io("read", path))?;
        let header = match check_header(bytes, len - position, Some(next_offset)) {
            Ok(header) => header,
            Err(defect) => break Some(defect),
        };
        let relative_offset = next_offset - base_offset;
        if position + header.total_len > MAX_SEGMENT_BYTES || relative_offset > MAX_RELATIVE_OFFSET {
            break Some(BatchDefect::BeyondSegmentLimits);
        }
        if verify_crc {
            let computed = reader
                .crc(position + BATCH_CRC_START as u64, position + header.total_len)
                .map_err(LogError::io("read", path))?;
            if computed != header.header.crc {
                break Some(BatchDefect::CrcMismatch { stored: header.header.crc, computed });
            }
        }
        if index.wants_entry(position, index_interval) {
            index.push(IndexEntry { relative_offset: relative_offset as u32, position: position as u32 });
        }
        position += header.total_len;
        next_offset = header.next_offset;
    };
    Ok(Scan { valid_len: position, next_offset, index, defect })
}

/// How far the batch chain starting at `position` (whose first batch should start at offset
/// `expected`) can still be followed, CRCs ignored: the offset after the last batch whose
/// header reads, or `None` if the first does not. A batch cut short counts with the offsets
/// its header claims. For reports on what recovery removed, never to decide anything.
fn chain_end(
    file: &File,
    path: &Path,
    len: u64,
    mut position: u64,
    mut expected: i64,
) -> Result<Option<i64>, LogError> {
    let mut reader = ChunkReader::new(file, len, READ_CHUNK);
    let mut end = None;
    while position < len {
        let bytes = reader.get(position, BATCH_FILE_HEADER_LEN).map_err(LogError::io("read", path))?;
        match check_header(bytes, len - position, Some(expected)) {
            Ok(header) => {
                end = Some(header.next_offset);
                position += header.total_len;
                expected = header.next_offset;
            }
            Err(BatchDefect::TornBatch { .. }) => {
                let torn =
                    BatchHeader::parse(bytes).ok().and_then(|h| checked_next_offset(expected, h.last_offset_delta));
                return Ok(torn.or(end));
            }
            Err(_) => break,
        }
    }
    Ok(end)
}

/// The cheap structural check of a sealed segment with a well-formed index (rule 3).
/// Returns the segment's next offset, or `None` if anything does not line up.
fn walk_sealed(
    file: &File,
    path: &Path,
    len: u64,
    base_offset: i64,
    index: &OffsetIndex,
) -> Result<Option<i64>, LogError> {
    let mut reader = ChunkReader::new(file, len, READ_CHUNK);
    let header_at = |reader: &mut ChunkReader<'_>, position: u64, expected: i64| -> Result<_, LogError> {
        let bytes = reader.get(position, BATCH_FILE_HEADER_LEN).map_err(LogError::io("read", path))?;
        Ok(check_header(bytes, len - position.min(len), Some(expected)).ok())
    };
    let entry_start = |e: IndexEntry| (u64::from(e.position), base_offset + i64::from(e.relative_offset));
    let mut probes = vec![(0, base_offset)];
    probes.extend(index.first().map(entry_start));
    for (position, expected) in probes {
        if header_at(&mut reader, position, expected)?.is_none() {
            return Ok(None);
        }
    }
    let (mut position, mut next_offset) = index.last().map_or((0, base_offset), entry_start);
    while position < len {
        let Some(header) = header_at(&mut reader, position, next_offset)? else {
            return Ok(None);
        };
        if position + header.total_len > MAX_SEGMENT_BYTES || next_offset - base_offset > MAX_RELATIVE_OFFSET {
            return Ok(None);
        }
        position += header.total_len;
        next_offset = header.next_offset;
    }
    Ok(Some(next_offset))
}

/// Reads an index file, or `None` if it is missing or too large to belong to a log of
/// `log_len` bytes (every entry names a distinct position in the log).
fn read_index_bytes(path: &Path, log_len: u64) -> Result<Option<Vec<u8>>, LogError> {
    let meta = match fs::metadata(path) {
        Ok(meta) => meta,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(err) => {
            return Err(LogError::Io { op: "stat", path: path.to_path_buf(), source: err });
        }
    };
    if !meta.is_file() || meta.len() > log_len.saturating_mul(ENTRY_LEN as u64) {
        return Ok(None);
    }
    match fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(err) => Err(LogError::Io { op: "read", path: path.to_path_buf(), source: err }),
    }
}

/// Outcome of loading a sealed segment.
enum Sealed {
    /// Valid as it is (its index possibly rebuilt).
    Valid(Segment),
    /// The file is empty.
    Empty,
    /// It was cut at a bad batch and is now the active segment.
    Truncated(Segment),
}

fn load_sealed(
    dir: &Path,
    base_offset: i64,
    config: &LogConfig,
    pool: &Arc<FilePool>,
    report: &mut RecoveryReport,
) -> Result<Sealed, LogError> {
    let (file, len) = Segment::open_log(dir, base_offset)?;
    if len == 0 {
        return Ok(Sealed::Empty);
    }
    let log_path = dir.join(log_file_name(base_offset));
    let index_path = dir.join(index_file_name(base_offset));
    let stored = read_index_bytes(&index_path, len)?.and_then(|bytes| OffsetIndex::decode(&bytes, len));
    if let Some(index) = stored
        && let Some(next_offset) = walk_sealed(&file, &log_path, len, base_offset, &index)?
    {
        return Ok(Sealed::Valid(Segment::from_parts(dir, base_offset, (next_offset, len), file, index, pool, false)));
    }
    let headers = scan(&file, &log_path, len, base_offset, false, config.index_interval_bytes)?;
    if headers.defect.is_none() {
        // Only the index was wrong.
        write_index_file(&index_path, &headers.index)?;
        report.indexes_rebuilt.push(base_offset);
        let segment =
            Segment::from_parts(dir, base_offset, (headers.next_offset, len), file, headers.index, pool, false);
        return Ok(Sealed::Valid(segment));
    }
    recover_active(dir, base_offset, (file, len), config, pool, report, true).map(Sealed::Truncated)
}

/// Rule 4: full scan of the segment that is to be the active one.
fn recover_active(
    dir: &Path,
    base_offset: i64,
    (file, len): (File, u64),
    config: &LogConfig,
    pool: &Arc<FilePool>,
    report: &mut RecoveryReport,
    sealed: bool,
) -> Result<Segment, LogError> {
    let log_path = dir.join(log_file_name(base_offset));
    let index_path = dir.join(index_file_name(base_offset));
    let scan = scan(&file, &log_path, len, base_offset, true, config.index_interval_bytes)?;
    if let Some(defect) = scan.defect {
        let end_offset = chain_end(&file, &log_path, len, scan.valid_len, scan.next_offset)?;
        file.set_len(scan.valid_len).map_err(LogError::io("truncate", &log_path))?;
        // Durable before anything new is written after the cut.
        file.sync_all().map_err(LogError::io("fsync", &log_path))?;
        report.truncations.push(Truncation {
            segment_base_offset: base_offset,
            position: scan.valid_len,
            offset: scan.next_offset,
            end_offset,
            bytes_removed: len - scan.valid_len,
            defect,
            sealed,
        });
    }
    let stored = read_index_bytes(&index_path, scan.valid_len)?;
    if stored.as_deref() != Some(scan.index.encode_from(0).as_slice()) {
        report.indexes_rebuilt.push(base_offset);
    }
    let mut segment =
        Segment::from_parts(dir, base_offset, (scan.next_offset, scan.valid_len), file, scan.index, pool, true);
    // Rewrites the index file from the scan in every case.
    segment.make_active()?;
    Ok(segment)
}

/// Loads (and repairs) the segments of the partition directory `dir`, which must exist.
/// Always returns at least one segment; the last is active.
pub(crate) fn recover(
    dir: &Path,
    config: &LogConfig,
    pool: &Arc<FilePool>,
) -> Result<(Vec<Segment>, RecoveryReport), LogError> {
    let mut report = RecoveryReport::default();
    // Rule 0: a decided reset is finished before anything else looks at the segments.
    let (reset, leftover) = reset::pending(dir)?;
    report.removed_files.extend(leftover);
    if let Some(offset) = reset {
        reset::complete(dir, offset, pool, &mut reset::no_crash)?;
        report.completed_reset = Some(offset);
    }
    let mut logs = BTreeSet::new();
    let mut indexes = BTreeSet::new();
    for entry in fs::read_dir(dir).map_err(LogError::io("list", dir))? {
        let entry = entry.map_err(LogError::io("list", dir))?;
        let is_file = entry.file_type().map_err(LogError::io("stat", entry.path()))?.is_file();
        let name = entry.file_name();
        let Some(name) = name.to_str().filter(|_| is_file) else {
            continue;
        };
        if let Some(base) = parse_file_name(name, ".log") {
            logs.insert(base);
        } else if let Some(base) = parse_file_name(name, ".index") {
            indexes.insert(base);
        }
    }
    for &base in indexes.difference(&logs) {
        let path = dir.join(index_file_name(base));
        remove_file_if_exists(&path)?;
        report.removed_files.push(path);
    }

    let bases: Vec<i64> = logs.into_iter().collect();
    let mut segments: Vec<Segment> = Vec::with_capacity(bases.len());
    let mut drop_from: Option<(usize, DropReason)> = None;
    for (i, &base) in bases.iter().enumerate() {
        if let Some(prev) = segments.last()
            && prev.next_offset != base
        {
            drop_from = Some((i, DropReason::OffsetGap { expected: prev.next_offset, found: base }));
            break;
        }
        if i + 1 == bases.len() {
            let opened = Segment::open_log(dir, base)?;
            segments.push(recover_active(dir, base, opened, config, pool, &mut report, false)?);
            break;
        }
        match load_sealed(dir, base, config, pool, &mut report)? {
            Sealed::Valid(segment) => segments.push(segment),
            Sealed::Empty => {
                for path in [dir.join(log_file_name(base)), dir.join(index_file_name(base))] {
                    if path.exists() {
                        remove_file_if_exists(&path)?;
                        report.removed_files.push(path);
                    }
                }
            }
            Sealed::Truncated(segment) => {
                segments.push(segment);
                drop_from = Some((i + 1, DropReason::AfterTruncatedSegment { segment_base_offset: base }));
                break;
            }
        }
    }
    if let Some((from, reason)) = drop_from {
        // Newest first, so that a crash half-way leaves a log that is still contiguous.
        for &base in bases[from..].iter().rev() {
            let log_path = dir.join(log_file_name(base));
            let (bytes, next_offset) = match Segment::open_log(dir, base) {
                Ok((file, len)) => (len, chain_end(&file, &log_path, len, 0, base)?),
                Err(_) => (0, None),
            };
            remove_file_if_exists(&log_path)?;
            remove_file_if_exists(&dir.join(index_file_name(base)))?;
            report.dropped_segments.push(DroppedSegment {
                base_offset: base,
                next_offset,
                bytes,
                reason: reason.clone(),
            });
        }
        report.dropped_segments.reverse();
        // A sealed segment that became the last one must pass the active segment's checks.
        if let Some(base) = segments.last().filter(|s| !s.is_active()).map(|s| s.base_offset) {
            segments.pop();
            let opened = Segment::open_log(dir, base)?;
            segments.push(recover_active(dir, base, opened, config, pool, &mut report, true)?);
        }
    }
    if segments.is_empty() {
        segments.push(Segment::create(dir, 0, pool)?);
    }
    // Makes deletions and creations above durable.
    sync_dir(dir)?;
    report.segments_loaded = segments.len();
    Ok((segments, report))
}
