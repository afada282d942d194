//! One segment: a log file of back-to-back batches plus its sparse index.
//!
//! Invariants kept by every method (and established by recovery):
//! * the first `size` bytes of the log file are a chain of valid batches starting at
//!   `base_offset` and ending at `next_offset`;
//! * `size` fits in a `u32` (index positions are u32), and so does every batch's offset
//!   relative to `base_offset`;
//! * for the active segment (`index_file` is `Some`), the index file holds exactly the
//!   in-memory entries, unless `needs_trim` says a failed write left extra bytes behind.
//!
//! The files are opened through the process's [`FilePool`], which bounds how many are open:
//! each operation takes the file it needs from the pool (opening it again if the pool closed
//! it) and holds it until it is done.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use fluvio_wire::record::{BATCH_FILE_HEADER_LEN, BatchHeader};

use crate::batch::{CheckedHeader, ChunkReader, check_crc, check_crc_of_stored, check_header};
use crate::error::{BatchDefect, LogError};
use crate::files::{Access, FilePool, OpenFile, PooledFile, read_appending};
use crate::index::{ENTRY_LEN, IndexEntry, OffsetIndex};

/// Largest size of a segment: batch positions are stored as u32 in the index.
pub(crate) const MAX_SEGMENT_BYTES: u64 = u32::MAX as u64;
/// Largest offset of a batch relative to its segment's base (stored as u32 in the index).
pub(crate) const MAX_RELATIVE_OFFSET: i64 = u32::MAX as i64;

/// Read-ahead used to walk batch headers without their records: small, so that walking large
/// batches does not read their records, yet several small batches come in one read.
const HEADER_WALK_CHUNK: usize = 4 * 1024;

/// Read-ahead used to walk from an index entry to the batch holding an offset: about one
/// default index interval plus a header, so a lookup usually costs one syscall.
const LOCATE_CHUNK: usize = 8 * 1024;

/// `00000000000000001234.log`.
pub(crate) fn log_file_name(base_offset: i64) -> String {
    format!("{base_offset:020}.log")
}

/// `00000000000000001234.index`.
pub(crate) fn index_file_name(base_offset: i64) -> String {
    format!("{base_offset:020}.index")
}

/// `{20 digits}{suffix}` → the base offset: the inverse of [`log_file_name`] and
/// [`index_file_name`] (recovery and reset recognise segment files by it).
pub(crate) fn parse_file_name(name: &str, suffix: &str) -> Option<i64> {
    let stem = name.strip_suffix(suffix)?;
    if stem.len() != 20 || !stem.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    stem.parse().ok()
}

/// Why a segment read stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReadStop {
    /// The next batch ends after the end offset.
    EndOffset,
    /// The next batch would exceed the byte budget.
    Budget,
    /// The segment has no more batches.
    SegmentEnd,
    /// The next batch is damaged (the batches before it were returned).
    Damaged,
}

/// How [`Segment::read_into`] fills its byte budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fill {
    /// Whole batches only; with `at_least_one`, the first batch whatever its size.
    WholeBatches {
        /// Take the first batch even when it exceeds the budget.
        at_least_one: bool,
    },
    /// Every byte the budget allows: the read may end inside a batch, even inside its
    /// header, as the zero-copy slice a Fluvio SPU sends a consumer does.
    Bytes,
}

/// What [`Segment::read_into`] appended.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SegmentRead {
    /// Base offset of the first batch appended (whole or in part), if any.
    pub first_offset: Option<i64>,
    /// Offset after the last batch appended whole (the start offset when none was).
    pub next_offset: i64,
    /// Offset after the batch the read ends inside of (cut by the budget), when that batch's
    /// header is among the bytes appended.
    pub cut_end: Option<i64>,
    /// Why it stopped.
    pub stop: ReadStop,
}

/// A segment of a partition log.
#[derive(Debug)]
pub(crate) struct Segment {
    pub base_offset: i64,
    pub next_offset: i64,
    pub size: u64,
    pub log_path: PathBuf,
    pub index_path: PathBuf,
    log: PooledFile,
    pub index: OffsetIndex,
    /// Written only while the segment is the active one.
    index_file: Option<PooledFile>,
    pool: Arc<FilePool>,
    /// A failed write may have left bytes past `size` (or past the index entries): cut them
    /// before the next write so that they can never be mistaken for data.
    needs_trim: bool,
}

impl Segment {
    /// Creates an empty segment starting at `base_offset` (replacing any files of that name)
    /// and makes it the active one.
    pub(crate) fn create(dir: &Path, base_offset: i64, pool: &Arc<FilePool>) -> Result<Self, LogError> {
        let log_path = dir.join(log_file_name(base_offset));
        let index_path = dir.join(index_file_name(base_offset));
        let log = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&log_path)
            .map_err(LogError::io("create", &log_path))?;
        let index_file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&index_path)
            .map_err(LogError::io("create", &index_path))?;
        Ok(Self {
            base_offset,
            next_offset: base_offset,
            size: 0,
            log: PooledFile::new(pool, log_path.clone(), Access::ReadWrite, log, false),
            index_file: Some(PooledFile::new(pool, index_path.clone(), Access::Write, index_file, false)),
            log_path,
            index_path,
            index: OffsetIndex::default(),
            pool: pool.clone(),
            needs_trim: false,
        })
    }

    /// Opens the log file of an existing segment; returns it with its current length. The
    /// caller validates the content and then builds the segment with [`Segment::from_parts`].
    pub(crate) fn open_log(dir: &Path, base_offset: i64) -> Result<(File, u64), LogError> {
        let log_path = dir.join(log_file_name(base_offset));
        let log = OpenOptions::new().read(true).write(true).open(&log_path).map_err(LogError::io("open", &log_path))?;
        let len = log.metadata().map_err(LogError::io("stat", &log_path))?.len();
        Ok((log, len))
    }

    /// A sealed segment from validated parts. `log` is its open log file; `unsynced` when it
    /// may hold writes that were never fsynced (the active segment of a process that crashed;
    /// a sealed one was fsynced before it was sealed).
    pub(crate) fn from_parts(
        dir: &Path,
        base_offset: i64,
        (next_offset, size): (i64, u64),
        log: File,
        index: OffsetIndex,
        pool: &Arc<FilePool>,
        unsynced: bool,
    ) -> Self {
        let log_path = dir.join(log_file_name(base_offset));
        Self {
            base_offset,
            next_offset,
            size,
            log: PooledFile::new(pool, log_path.clone(), Access::ReadWrite, log, unsynced),
            log_path,
            index_path: dir.join(index_file_name(base_offset)),
            index,
            index_file: None,
            pool: pool.clone(),
            needs_trim: false,
        }
    }

    /// The open log file, for the length of one operation.
    fn log_file(&self) -> Result<Arc<OpenFile>, LogError> {
        self.log.open().map_err(LogError::io("open", &self.log_path))
    }

    /// The open index file of the active segment.
    fn index_writer(&self) -> Result<Option<Arc<OpenFile>>, LogError> {
        self.index_file.as_ref().map(|file| file.open().map_err(LogError::io("open", file.path()))).transpose()
    }

    /// True while the segment is the one being appended to.
    pub(crate) fn is_active(&self) -> bool {
        self.index_file.is_some()
    }

    /// True if the segment holds no batch.
    pub(crate) fn is_empty(&self) -> bool {
        self.size == 0
    }

    /// Opens the index file for appending, rewriting it from memory so that file and memory
    /// agree from here on (the file may be missing, stale or longer than the entries).
    pub(crate) fn make_active(&mut self) -> Result<(), LogError> {
        if self.index_file.is_some() {
            return Ok(());
        }
        let file = write_index_file(&self.index_path, &self.index)?;
        self.index_file = Some(PooledFile::new(&self.pool, self.index_path.clone(), Access::Write, file, true));
        Ok(())
    }

    /// Stops appending to this segment: the index file handle is closed.
    pub(crate) fn close_writer(&mut self) {
        self.index_file = None;
    }

    /// Writes `buf` (complete batches whose base offsets are already set) at the end of the
    /// segment. `batches` lists each batch's start within `buf` and its base offset; `next`
    /// is the offset after the last one.
    ///
    /// All or nothing: on error the in-memory state is unchanged, and bytes a partial write
    /// may have left in the files are cut now or, if that fails too, before the next write.
    pub(crate) fn append(
        &mut self,
        buf: &[u8],
        batches: &[(usize, i64)],
        next: i64,
        index_interval: u32,
    ) -> Result<(), LogError> {
        self.trim()?;
        let start = self.size;
        let entries_before = self.index.len();
        for &(at, base) in batches {
            let position = start + at as u64;
            if self.index.wants_entry(position, index_interval) {
                // Both fit in u32: the caller rolled the segment if they would not.
                self.index
                    .push(IndexEntry { relative_offset: (base - self.base_offset) as u32, position: position as u32 });
            }
        }
        match self.write_at_end(buf, start, entries_before) {
            Ok(()) => {
                self.size = start + buf.len() as u64;
                self.next_offset = next;
                Ok(())
            }
            Err(err) => {
                self.index.truncate_at_position(start);
                self.needs_trim = true;
                // Best effort now; `trim` runs again before the next write if this fails.
                let _ = self.trim();
                Err(err)
            }
        }
    }

    fn write_at_end(&self, buf: &[u8], start: u64, entries_before: usize) -> Result<(), LogError> {
        // The log first: an index entry must never point past the data. A crash between the
        // two writes leaves an index that lacks entries, which recovery rebuilds.
        let log = self.log_file()?;
        let written = log.write_all_at(buf, start);
        self.log.wrote();
        written.map_err(LogError::io("write", &self.log_path))?;
        if self.index.len() > entries_before {
            let file = self.index_writer()?.ok_or_else(|| LogError::Io {
                op: "write",
                path: self.index_path.clone(),
                source: io::Error::other("segment is sealed"),
            })?;
            let written =
                file.write_all_at(&self.index.encode_from(entries_before), (entries_before * ENTRY_LEN) as u64);
            if let Some(index) = &self.index_file {
                index.wrote();
            }
            written.map_err(LogError::io("write", &self.index_path))?;
        }
        Ok(())
    }

    /// Cuts bytes a failed write may have left behind.
    fn trim(&mut self) -> Result<(), LogError> {
        if !self.needs_trim {
            return Ok(());
        }
        self.set_log_len(self.size)?;
        self.set_index_len()?;
        self.needs_trim = false;
        Ok(())
    }

    fn set_log_len(&self, len: u64) -> Result<(), LogError> {
        let log = self.log_file()?;
        self.log.wrote();
        log.set_len(len).map_err(LogError::io("truncate", &self.log_path))
    }

    /// Cuts the index file of the active segment to the entries in memory.
    fn set_index_len(&self) -> Result<(), LogError> {
        if let (Some(file), Some(handle)) = (self.index_writer()?, &self.index_file) {
            handle.wrote();
            file.set_len((self.index.len() * ENTRY_LEN) as u64).map_err(LogError::io("truncate", &self.index_path))?;
        }
        Ok(())
    }

    /// Drops every batch from byte `position` on (a batch boundary whose base offset is
    /// `next_offset`), making this the active segment.
    pub(crate) fn truncate(&mut self, position: u64, next_offset: i64) -> Result<(), LogError> {
        self.make_active()?;
        // Index first: an index that is shorter than the log is harmless, one that points
        // beyond it is not.
        self.index.truncate_at_position(position);
        self.set_index_len()?;
        self.set_log_len(position)?;
        self.size = position;
        self.next_offset = next_offset;
        self.needs_trim = false;
        Ok(())
    }

    /// fsyncs the log and, for the active segment, the index (what was written since they were
    /// last fsynced).
    pub(crate) fn sync(&self) -> Result<(), LogError> {
        self.log.sync().map_err(LogError::io("fsync", &self.log_path))?;
        if let Some(file) = &self.index_file {
            file.sync().map_err(LogError::io("fsync", &self.index_path))?;
        }
        Ok(())
    }

    /// Last modification time of the log file (when its last batch was written).
    pub(crate) fn modified(&self) -> Result<SystemTime, LogError> {
        fs::metadata(&self.log_path).and_then(|m| m.modified()).map_err(LogError::io("stat", &self.log_path))
    }

    /// Deletes the segment's files; callers drop the segment afterwards. The log goes first:
    /// once it is gone the segment no longer exists (for recovery, nor for reads, which open
    /// files by name), so the index is removed on a best-effort basis: a leftover index is
    /// cleaned up by the next `open`.
    pub(crate) fn delete_files(&self) -> Result<(), LogError> {
        remove_file_if_exists(&self.log_path)?;
        let _ = remove_file_if_exists(&self.index_path);
        Ok(())
    }

    /// [`check_header`] for a stored batch at `position`, plus the check that it ends within
    /// the segment's offsets.
    fn check_stored(&self, bytes: &[u8], position: u64, expected: i64) -> Result<CheckedHeader, BatchDefect> {
        let header = check_header(bytes, self.size - position.min(self.size), Some(expected))?;
        if header.next_offset > self.next_offset {
            return Err(BatchDefect::OffsetsBeyondSegment {
                batch_next_offset: header.next_offset,
                segment_next_offset: self.next_offset,
            });
        }
        Ok(header)
    }

    fn corrupt(&self, position: u64, offset: i64) -> impl FnOnce(BatchDefect) -> LogError + '_ {
        move |defect| LogError::Corrupt { path: self.log_path.clone(), position, offset, defect }
    }

    /// Position and header of the batch that contains `offset`
    /// (`base_offset <= offset < next_offset`).
    pub(crate) fn locate(&self, offset: i64) -> Result<(u64, CheckedHeader), LogError> {
        let log = self.log_file()?;
        let mut reader = ChunkReader::new(&log, self.size, LOCATE_CHUNK);
        let (mut position, mut expected) = match self.index.lookup(offset - self.base_offset) {
            Some(entry) => {
                let position = u64::from(entry.position);
                let expected = self.base_offset + i64::from(entry.relative_offset);
                let bytes =
                    reader.get(position, BATCH_FILE_HEADER_LEN).map_err(LogError::io("read", &self.log_path))?;
                if self.check_stored(bytes, position, expected).is_ok() {
                    (position, expected)
                } else {
                    // The index is only a hint and recovery checks just its first and last
                    // entries of a sealed segment: a wrong entry costs a walk from the start,
                    // not an error.
                    (0, self.base_offset)
                }
            }
            None => (0, self.base_offset),
        };
        loop {
            let bytes = reader.get(position, BATCH_FILE_HEADER_LEN).map_err(LogError::io("read", &self.log_path))?;
            // Past the end `available` is 0 and the check fails, so this loop always ends.
            let header = self.check_stored(bytes, position, expected).map_err(self.corrupt(position, expected))?;
            if header.next_offset > offset {
                return Ok((position, header));
            }
            position += header.total_len;
            expected = header.next_offset;
        }
    }

    /// Calls `visit` with the header of every batch from the batch boundary at or before byte
    /// `from` (found through the index; the start of the segment without an entry) to the end
    /// of the segment, in order. Only headers are read, not records, and CRCs are not checked.
    pub(crate) fn walk_headers_from(&self, from: u64, visit: &mut dyn FnMut(&BatchHeader)) -> Result<(), LogError> {
        let (mut position, mut expected) = match self.index.last_at_or_before_position(from) {
            Some(entry) => (u64::from(entry.position), self.base_offset + i64::from(entry.relative_offset)),
            None => (0, self.base_offset),
        };
        let log = self.log_file()?;
        let mut reader = ChunkReader::new(&log, self.size, HEADER_WALK_CHUNK);
        while position < self.size {
            let bytes = reader.get(position, BATCH_FILE_HEADER_LEN).map_err(LogError::io("read", &self.log_path))?;
            let header = self.check_stored(bytes, position, expected).map_err(self.corrupt(position, expected))?;
            visit(&header.header);
            position += header.total_len;
            expected = header.next_offset;
        }
        Ok(())
    }

    /// Appends to `out` the batches starting with the one containing `offset`, stopping
    /// before a batch that ends after `end_offset` and at `budget` bytes in total: before
    /// the batch that would exceed it with [`Fill::WholeBatches`] (with `at_least_one`, the
    /// first batch is taken whatever its size), in the middle of it with [`Fill::Bytes`].
    /// Every batch taken, whole or cut, is checked, header and CRC-32C (the tail of a cut
    /// one is read to check it, not appended); the read stops before a damaged one (an error
    /// if it is the first).
    pub(crate) fn read_into(
        &self,
        offset: i64,
        end_offset: i64,
        budget: usize,
        fill: Fill,
        out: &mut Vec<u8>,
    ) -> Result<SegmentRead, LogError> {
        let nothing = |stop| Ok(SegmentRead { first_offset: None, next_offset: offset, cut_end: None, stop });
        let (start, first) = self.locate(offset)?;
        let log = self.log_file()?;
        if first.next_offset > end_offset {
            return nothing(ReadStop::EndOffset);
        }
        let available = self.size - start;
        let mut want = budget as u64;
        if fill == (Fill::WholeBatches { at_least_one: true }) {
            want = want.max(first.total_len);
        }
        let want = want.min(available);
        let smallest = if fill == Fill::Bytes { 1 } else { first.total_len };
        if want < smallest {
            return nothing(ReadStop::Budget);
        }
        // One read for everything the budget allows, then cut at the last whole batch that
        // qualifies: cheaper than one read per header. The over-read is bounded by `budget`.
        let out_start = out.len();
        if let Err(source) = read_appending(&log, out, want as usize, start) {
            return Err(LogError::Io { op: "read", path: self.log_path.clone(), source });
        }
        let mut taken = 0u64;
        let mut expected = first.header.base_offset;
        let mut cut_end = None;
        let stop = loop {
            if taken == want {
                break if start + taken == self.size { ReadStop::SegmentEnd } else { ReadStop::Budget };
            }
            let position = start + taken;
            if self.size - position < BATCH_FILE_HEADER_LEN as u64 {
                break ReadStop::Damaged;
            }
            let mut cut_header = [0u8; BATCH_FILE_HEADER_LEN];
            let bytes = if want - taken >= BATCH_FILE_HEADER_LEN as u64 {
                &out[out_start + taken as usize..]
            } else if fill == Fill::Bytes {
                // The budget ends inside this header (the segment holds it whole): whether
                // its batch lies within `end_offset` decides if its start is taken.
                if let Err(source) = log.read_exact_at(&mut cut_header, position) {
                    out.truncate(out_start);
                    return Err(LogError::Io { op: "read", path: self.log_path.clone(), source });
                }
                &cut_header[..]
            } else {
                break ReadStop::Budget;
            };
            let header = match self.check_stored(bytes, position, expected) {
                Ok(header) => header,
                // The batches before the damage are good: serve them, and let the read that
                // starts here report the error.
                Err(_) if taken > 0 => break ReadStop::Damaged,
                Err(defect) => {
                    out.truncate(out_start);
                    return Err(self.corrupt(position, expected)(defect));
                }
            };
            if header.next_offset > end_offset {
                break ReadStop::EndOffset;
            }
            // Every batch served is checked against its CRC-32C: damage that happened on disk
            // after the batch was written (sealed segments are not scanned at open) is never
            // passed on to a consumer or a follower. A batch the budget cuts is checked too,
            // its tail read from the file without being kept: the official consumer takes the
            // records of a cut batch that arrived whole, so its start is served data as well.
            let at = out_start + taken as usize;
            let cut = taken + header.total_len > want;
            let checked = if cut {
                if fill != Fill::Bytes {
                    break ReadStop::Budget;
                }
                let prefix = &out[at..out_start + want as usize];
                match check_crc_of_stored(&log, position, prefix, &header) {
                    Ok(checked) => checked,
                    Err(source) => {
                        out.truncate(out_start);
                        return Err(LogError::Io { op: "read", path: self.log_path.clone(), source });
                    }
                }
            } else {
                check_crc(&out[at..at + header.total_len as usize], &header.header)
            };
            if let Err(defect) = checked {
                if taken > 0 {
                    break ReadStop::Damaged;
                }
                out.truncate(out_start);
                return Err(self.corrupt(position, expected)(defect));
            }
            if cut {
                // The read ends inside this batch: it takes the rest of the budget.
                if want - taken >= BATCH_FILE_HEADER_LEN as u64 {
                    cut_end = Some(header.next_offset);
                }
                taken = want;
                break ReadStop::Budget;
            }
            taken += header.total_len;
            expected = header.next_offset;
        };
        out.truncate(out_start + taken as usize);
        let first_offset = (taken > 0).then_some(first.header.base_offset);
        Ok(SegmentRead { first_offset, next_offset: expected, cut_end, stop })
    }
}

/// Writes `index` as the whole content of the index file at `path` and returns the file,
/// open for further appends.
pub(crate) fn write_index_file(path: &Path, index: &OffsetIndex) -> Result<File, LogError> {
    let file =
        OpenOptions::new().write(true).create(true).truncate(true).open(path).map_err(LogError::io("create", path))?;
    file.write_all_at(&index.encode_from(0), 0).map_err(LogError::io("write", path))?;
    Ok(file)
}

/// Removes a file; a file that is already gone is fine.
pub(crate) fn remove_file_if_exists(path: &Path) -> Result<(), LogError> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(err) => Err(LogError::Io { op: "remove", path: path.to_path_buf(), source: err }),
    }
}

/// fsyncs a directory, making file creations, renames and deletions in it durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), LogError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(LogError::io("fsync", dir))
}
