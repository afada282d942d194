//! [`PartitionLog`]: the segments of one partition, with appends, reads, truncation,
//! retention and resets.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use fluvio_wire::record::BatchHeader;

use crate::batch::{check_crc, check_header, checked_next_offset};
use crate::config::LogConfig;
use crate::error::{BatchDefect, LogError};
use crate::files::FilePool;
use crate::recovery::{RecoveryReport, recover};
use crate::reset;
use crate::segment::{Fill, MAX_RELATIVE_OFFSET, MAX_SEGMENT_BYTES, ReadStop, Segment, sync_dir};

/// Where an append went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppendInfo {
    /// Offset assigned to the first record (the log end offset before the append).
    pub base_offset: i64,
    /// Offset after the last record: the new log end offset.
    pub next_offset: i64,
    /// Number of batches written.
    pub batches: usize,
    /// Bytes written.
    pub bytes: u64,
    /// Base offset of the segment the batches went to.
    pub segment_base_offset: i64,
    /// Byte position of the first batch in that segment's log file.
    pub position: u64,
}

/// Batches read from the log: whole ones ([`PartitionLog::read`]), or a byte range that may
/// end inside one ([`PartitionLog::read_range`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadSlice {
    /// Contiguous encoded batches, exactly as stored (a `RecordSet` body, whose last batch
    /// may be cut when read with [`PartitionLog::read_range`]).
    pub bytes: Bytes,
    /// Base offset of the first batch; the requested offset when the slice is empty.
    pub first_offset: i64,
    /// Offset after the last whole batch (where the next read should start); the requested
    /// offset when the slice holds no whole batch.
    pub next_offset: i64,
    /// Offset after the batch a [`PartitionLog::read_range`] slice ends inside of, as that
    /// batch's header declares it, when the header is in the slice whole; `None` otherwise
    /// (and for whole batches).
    pub cut_end: Option<i64>,
}

impl ReadSlice {
    fn empty(offset: i64) -> Self {
        Self { bytes: Bytes::new(), first_offset: offset, next_offset: offset, cut_end: None }
    }

    /// True when no batch was returned.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
}

/// Why retention deleted a segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetentionReason {
    /// Its log file was last written longer ago than `LogConfig::retention`.
    Age,
    /// The partition was larger than `LogConfig::max_partition_bytes`.
    Size,
}

/// A segment deleted by retention.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RemovedSegment {
    /// First offset it held.
    pub base_offset: i64,
    /// Offset after the last it held.
    pub next_offset: i64,
    /// Its size.
    pub bytes: u64,
    /// Why it went (age wins when both apply).
    pub reason: RetentionReason,
}

/// What [`PartitionLog::enforce_retention`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionOutcome {
    /// Segments deleted, oldest first.
    pub removed: Vec<RemovedSegment>,
    /// The log start offset afterwards.
    pub log_start_offset: i64,
}

impl RetentionOutcome {
    /// Bytes freed.
    pub fn bytes_removed(&self) -> u64 {
        self.removed.iter().map(|s| s.bytes).sum()
    }
}

/// The on-disk log of one partition: a directory of segments, each a file of back-to-back
/// record batches (stored exactly as on the wire) and a sparse offset index.
///
/// Appends go to the last (active) segment; reads take `&self` and use positional reads, so
/// a caller may share the log behind a `RwLock` and serve fetches concurrently.
///
/// Durability: an append returns after `write(2)`, so acknowledged data survives the process
/// being killed, but not necessarily a power loss; [`sync`](Self::sync) adds `fsync`. A segment
/// is fsynced before it is sealed, which is what lets recovery trust sealed segments.
#[derive(Debug)]
pub struct PartitionLog {
    dir: PathBuf,
    config: LogConfig,
    /// Never empty, ordered by base offset, contiguous; the last one is active.
    segments: Vec<Segment>,
    report: RecoveryReport,
    /// Segment files were deleted since the directory was last fsynced; `sync` makes that
    /// durable so that a power loss cannot bring back truncated or expired segments. (An
    /// atomic rather than a `Cell` so that the log stays `Sync` for shared reads.)
    dir_dirty: AtomicBool,
    /// Where the segments' files are opened.
    pool: Arc<FilePool>,
    /// The offset of a [`reset_to`](Self::reset_to) that failed after it was decided: the
    /// files no longer match `segments`, so everything but another reset is refused.
    pending_reset: Option<i64>,
}

impl PartitionLog {
    /// Opens the partition log in `dir`, creating the directory if it is missing, and
    /// recovers it: see the [`recovery`](crate::recovery) module for the exact rules and
    /// [`recovery_report`](Self::recovery_report) for what was repaired. Its files are opened
    /// through the process's [`FilePool::shared`], so that open files stay bounded however
    /// many logs are open.
    pub fn open(dir: &Path, config: LogConfig) -> Result<Self, LogError> {
        Self::open_in_pool(dir, config, FilePool::shared().clone())
    }

    /// [`open`](Self::open), with the segments' files opened through `pool`.
    pub fn open_in_pool(dir: &Path, config: LogConfig, pool: Arc<FilePool>) -> Result<Self, LogError> {
        fs::create_dir_all(dir).map_err(LogError::io("create", dir))?;
        let (segments, report) = recover(dir, &config, &pool)?;
        Ok(Self {
            dir: dir.to_path_buf(),
            config,
            segments,
            report,
            dir_dirty: AtomicBool::new(false),
            pool,
            pending_reset: None,
        })
    }

    /// What recovery did when the log was opened.
    pub fn recovery_report(&self) -> &RecoveryReport {
        &self.report
    }

    /// The partition directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The configuration the log was opened with.
    pub fn config(&self) -> &LogConfig {
        &self.config
    }

    /// Replaces the configuration (e.g. after a topic config change). New segment and index
    /// limits apply to later appends; existing segments are not rewritten.
    pub fn set_config(&mut self, config: LogConfig) {
        self.config = config;
    }

    /// First offset still stored (the base offset of the oldest segment).
    pub fn log_start_offset(&self) -> i64 {
        self.segments.first().map_or(0, |s| s.base_offset)
    }

    /// Log end offset: the offset the next record will get.
    pub fn log_end_offset(&self) -> i64 {
        self.active().next_offset
    }

    /// Bytes of all segments' batches (indexes not counted).
    pub fn size_bytes(&self) -> u64 {
        self.segments.iter().map(|s| s.size).sum()
    }

    /// Base offsets of the segments, oldest first (the last is the active one).
    pub fn segment_base_offsets(&self) -> Vec<i64> {
        self.segments.iter().map(|s| s.base_offset).collect()
    }

    fn active(&self) -> &Segment {
        // `segments` is never empty: open creates a segment and nothing removes the last one.
        &self.segments[self.segments.len() - 1]
    }

    /// Appends one encoded batch. Its `base_offset` (bytes 0..8) is overwritten with the log
    /// end offset; the CRC stays valid because it does not cover those bytes.
    ///
    /// `batch` must be exactly one batch: a parsable header with `last_offset_delta >= 0`,
    /// `batch_len` matching the buffer, and a correct CRC-32C. The CRC is checked because
    /// recovery cuts the log at the first bad CRC, so storing one would later destroy every
    /// acknowledged batch after it; a server that changes batches must recompute it.
    /// Nothing is written when an error is returned.
    pub fn append(&mut self, batch: &mut [u8]) -> Result<AppendInfo, LogError> {
        self.append_batches(batch, true)
    }

    /// Appends several encoded batches laid out back to back (a `RecordSet` body) with a
    /// single write. Each gets the next base offsets in turn; the same checks as for
    /// [`append`](Self::append) apply to every batch, and none is written if any fails.
    ///
    /// The batches always go to one segment (rolling first if they do not fit the active
    /// one), which is what makes the write all-or-nothing.
    pub fn append_many(&mut self, batches: &mut [u8]) -> Result<AppendInfo, LogError> {
        self.append_batches(batches, false)
    }

    fn append_batches(&mut self, buf: &mut [u8], single: bool) -> Result<AppendInfo, LogError> {
        self.check_usable()?;
        let total = buf.len() as u64;
        let leo = self.log_end_offset();

        // Validate everything and assign offsets before touching the disk.
        let mut batches = Vec::new();
        let mut at = 0usize;
        let mut next = leo;
        loop {
            let invalid = |defect| LogError::InvalidBatch { position: at, defect };
            let header = check_header(&buf[at..], (buf.len() - at) as u64, None).map_err(invalid)?;
            let len = header.total_len as usize;
            if single && len != buf.len() {
                return Err(invalid(BatchDefect::LengthMismatch { total_len: header.total_len, buffer_len: total }));
            }
            check_crc(&buf[at..at + len], &header.header).map_err(invalid)?;
            let base = next;
            if base - leo > MAX_RELATIVE_OFFSET {
                // Even a fresh segment starting at the current LEO could not index it.
                return Err(invalid(BatchDefect::BeyondSegmentLimits));
            }
            next = checked_next_offset(base, header.header.last_offset_delta)
                .ok_or_else(|| invalid(BatchDefect::OffsetOverflow))?;
            batches.push((at, base));
            at += len;
            if at == buf.len() {
                break;
            }
        }
        if total > MAX_SEGMENT_BYTES {
            return Err(LogError::BatchTooLarge { size: total, limit: MAX_SEGMENT_BYTES });
        }

        let last_base = batches.last().map_or(leo, |b| b.1);
        let active = self.active();
        let fits = active.size + total <= self.config.segment_max_bytes.min(MAX_SEGMENT_BYTES)
            && last_base - active.base_offset <= MAX_RELATIVE_OFFSET;
        if !fits && !active.is_empty() {
            self.roll()?;
        }

        for &(at, base) in &batches {
            buf[at..at + 8].copy_from_slice(&base.to_be_bytes());
        }
        let interval = self.config.index_interval_bytes;
        let last = self.segments.len() - 1;
        let active = &mut self.segments[last];
        // A no-op unless an earlier `truncate_to` failed half-way and left a sealed segment
        // last.
        active.make_active()?;
        let position = active.size;
        active.append(buf, &batches, next, interval)?;
        Ok(AppendInfo {
            base_offset: leo,
            next_offset: next,
            batches: batches.len(),
            bytes: total,
            segment_base_offset: active.base_offset,
            position,
        })
    }

    /// Seals the active segment and starts a new one at the log end offset.
    fn roll(&mut self) -> Result<(), LogError> {
        let leo = self.log_end_offset();
        // Sealed segments are trusted by recovery, so they must be on disk before anything
        // is written after them.
        self.active().sync()?;
        let segment = Segment::create(&self.dir, leo, &self.pool)?;
        sync_dir(&self.dir)?;
        let last = self.segments.len() - 1;
        self.segments[last].close_writer();
        self.segments.push(segment);
        Ok(())
    }

    /// Index of the segment holding `offset` (the last one starting at or before it).
    fn segment_for(&self, offset: i64) -> usize {
        self.segments.partition_point(|s| s.base_offset <= offset).saturating_sub(1)
    }

    /// Refuses to work on segments that an unfinished reset is deleting.
    fn check_usable(&self) -> Result<(), LogError> {
        match self.pending_reset {
            Some(offset) => Err(LogError::ResetIncomplete { offset }),
            None => Ok(()),
        }
    }

    fn check_in_range(&self, offset: i64) -> Result<(), LogError> {
        self.check_usable()?;
        let log_end = self.log_end_offset();
        if offset > log_end {
            return Err(LogError::OffsetOutOfRange { offset, log_end });
        }
        let start = self.log_start_offset();
        if offset < start {
            return Err(LogError::OffsetEvicted { offset, next_available: start });
        }
        Ok(())
    }

    /// Reads whole batches, starting with the one that contains `offset` (the caller skips
    /// the records below `offset`).
    ///
    /// Stops before the first batch that ends after `end_offset` (an exclusive bound such as
    /// the high watermark; it is clamped to the log end offset) and before the batch that
    /// would bring the total over `max_bytes`, except that the first batch is always
    /// returned, whatever its size. The read continues into the next segments while the
    /// budget allows. The slice is empty when `offset >= end_offset`.
    ///
    /// Errors: [`LogError::OffsetOutOfRange`] past the log end offset,
    /// [`LogError::OffsetEvicted`] before the log start offset, [`LogError::Corrupt`] if the
    /// stored batch chain is broken or a batch does not match its CRC-32C (every batch
    /// returned is checked, so damage is never served). An error is returned only when not
    /// even the first batch can be: a read that reaches damaged bytes after some good batches
    /// returns those, and the next read reports the damage.
    pub fn read(&self, offset: i64, max_bytes: usize, end_offset: i64) -> Result<ReadSlice, LogError> {
        self.check_in_range(offset)?;
        let end_offset = end_offset.min(self.log_end_offset());
        if offset >= end_offset {
            return Ok(ReadSlice::empty(offset));
        }
        let mut out = Vec::new();
        let mut first_offset = None;
        let mut next_offset = offset;
        for segment in &self.segments[self.segment_for(offset)..] {
            if next_offset >= end_offset || (first_offset.is_some() && out.len() >= max_bytes) {
                break;
            }
            let budget = max_bytes.saturating_sub(out.len());
            let fill = Fill::WholeBatches { at_least_one: first_offset.is_none() };
            let read = match segment.read_into(next_offset, end_offset, budget, fill, &mut out) {
                Ok(read) => read,
                // What was read so far is good; the read that starts here reports the error.
                Err(_) if first_offset.is_some() => break,
                Err(err) => return Err(err),
            };
            first_offset = first_offset.or(read.first_offset);
            next_offset = read.next_offset;
            if read.stop != ReadStop::SegmentEnd {
                break;
            }
        }
        match first_offset {
            Some(first_offset) => Ok(ReadSlice { bytes: Bytes::from(out), first_offset, next_offset, cut_end: None }),
            None => Ok(ReadSlice::empty(offset)),
        }
    }

    /// Reads the stored bytes a Fluvio SPU sends a consumer: from the start of the batch
    /// that contains `offset` (the caller skips the records below it) to the end of that
    /// batch's segment, or to the first batch that ends after `end_offset` (an exclusive
    /// bound such as the high watermark, clamped to the log end offset), and at most
    /// `max_bytes` of them. Unlike [`read`](Self::read), the slice may end inside a batch,
    /// even inside its header, and never crosses into the next segment; it is empty when
    /// `offset >= end_offset` or `max_bytes` is 0. Its `next_offset` is the offset after the
    /// last batch it holds whole (the requested offset when it holds none whole).
    ///
    /// Errors as for [`read`](Self::read): every batch the slice holds, whole or cut, is
    /// checked (header and CRC-32C, the tail of a cut one read from the file to check it), and
    /// it stops before a damaged one (an error if that is the first). The official consumer
    /// takes the records of a cut batch that arrived, so a cut batch is served data too.
    pub fn read_range(&self, offset: i64, max_bytes: usize, end_offset: i64) -> Result<ReadSlice, LogError> {
        self.check_in_range(offset)?;
        let end_offset = end_offset.min(self.log_end_offset());
        if offset >= end_offset {
            return Ok(ReadSlice::empty(offset));
        }
        let segment = &self.segments[self.segment_for(offset)];
        let mut out = Vec::new();
        let read = segment.read_into(offset, end_offset, max_bytes, Fill::Bytes, &mut out)?;
        match read.first_offset {
            Some(first_offset) => Ok(ReadSlice {
                bytes: Bytes::from(out),
                first_offset,
                next_offset: read.next_offset,
                cut_end: read.cut_end,
            }),
            None => Ok(ReadSlice::empty(offset)),
        }
    }

    /// Calls `visit` with the header of every batch in about the last `bytes` of the log, in
    /// offset order, ending with the last batch: the walk starts at a batch boundary at most
    /// one index interval before that point (or at the log start). Only headers are read,
    /// never records, so it is cheap even for large batches; CRCs are not checked. Used to
    /// rebuild state kept per batch (such as idempotent producers') when a log is opened.
    ///
    /// Errors: [`LogError::Corrupt`] if the batch chain is broken (the batches before the
    /// damage were visited), I/O errors.
    pub fn visit_tail_headers(&self, bytes: u64, mut visit: impl FnMut(&BatchHeader)) -> Result<(), LogError> {
        self.check_usable()?;
        let mut first = self.segments.len() - 1;
        let mut remaining = bytes;
        while first > 0 && self.segments[first].size < remaining {
            remaining -= self.segments[first].size;
            first -= 1;
        }
        let start = &self.segments[first];
        start.walk_headers_from(start.size.saturating_sub(remaining), &mut visit)?;
        for segment in &self.segments[first + 1..] {
            segment.walk_headers_from(0, &mut visit)?;
        }
        Ok(())
    }

    /// Removes every batch whose base offset is `>= offset`, which must be a batch boundary
    /// or the log end offset (a no-op). Later segments are deleted whole (newest first), and
    /// the segment holding `offset` becomes the active one.
    ///
    /// The batch starting at `offset` may be damaged (it is cut with the rest); damage before
    /// it is [`LogError::Corrupt`].
    ///
    /// Errors: [`LogError::NotABatchBoundary`] if `offset` is inside a batch,
    /// [`LogError::OffsetOutOfRange`] past the log end, [`LogError::OffsetEvicted`] before
    /// the log start. Truncating to the log start offset empties the log but keeps its
    /// offsets.
    pub fn truncate_to(&mut self, offset: i64) -> Result<(), LogError> {
        self.check_in_range(offset)?;
        if offset == self.log_end_offset() {
            return Ok(());
        }
        let target = self.segment_for(offset);
        let segment = &self.segments[target];
        let position = if offset == segment.base_offset {
            0
        } else {
            match segment.locate(offset) {
                Ok((position, header)) if header.header.base_offset == offset => position,
                Ok((_, header)) => {
                    return Err(LogError::NotABatchBoundary {
                        offset,
                        batch_base_offset: header.header.base_offset,
                        batch_next_offset: header.next_offset,
                    });
                }
                // The batch that should start at `offset` is damaged (the chain before it is
                // intact): cutting right there removes it, which is what a caller dropping
                // damage wants.
                Err(LogError::Corrupt { position, offset: damaged, .. }) if damaged == offset => position,
                Err(err) => return Err(err),
            }
        };
        // Newest first: a crash half-way leaves a shorter but still contiguous log.
        while let Some(newest) = self.segments.last().filter(|_| self.segments.len() > target + 1) {
            self.dir_dirty.store(true, Ordering::Relaxed);
            newest.delete_files()?;
            self.segments.pop();
        }
        self.segments[target].truncate(position, offset)
    }

    /// Deletes the oldest sealed segments while they are older than `LogConfig::retention`
    /// or while the partition is larger than `LogConfig::max_partition_bytes`. The active
    /// segment is never deleted, and only a prefix of the log is (so that the log stays
    /// contiguous): the log start offset moves up to the oldest remaining segment.
    ///
    /// A segment's age is `now` minus the modification time of its log file, i.e. the time
    /// its last batch was written. Batch timestamps are not used: they come from producer
    /// clocks, may be -1, and a single wrong one would pin a segment forever or expire fresh
    /// data at once. A modification time in the future counts as age zero.
    pub fn enforce_retention(&mut self, now: SystemTime) -> Result<RetentionOutcome, LogError> {
        self.enforce_retention_below(now, i64::MAX)
    }

    /// [`enforce_retention`](Self::enforce_retention), deleting only segments whose records
    /// all lie below `limit`. A replicated partition passes its high watermark: records above
    /// it may still be missing on an in-sync follower, which could then never get them, and
    /// must survive until they are committed (Kafka's rule too). Size retention may therefore
    /// leave the partition above its limit until the high watermark moves.
    pub fn enforce_retention_below(&mut self, now: SystemTime, limit: i64) -> Result<RetentionOutcome, LogError> {
        self.check_usable()?;
        let mut removed = Vec::new();
        while self.segments.len() > 1 {
            let oldest = &self.segments[0];
            if oldest.next_offset > limit {
                break;
            }
            let expired = match self.config.retention {
                Some(retention) => {
                    let age = now.duration_since(oldest.modified()?).unwrap_or(Duration::ZERO);
                    age > retention
                }
                None => false,
            };
            let oversized = self.config.max_partition_bytes.is_some_and(|max| self.size_bytes() > max);
            let reason = match (expired, oversized) {
                (true, _) => RetentionReason::Age,
                (false, true) => RetentionReason::Size,
                (false, false) => break,
            };
            // Files first: if deleting fails, the segment stays in the log and in memory.
            self.dir_dirty.store(true, Ordering::Relaxed);
            oldest.delete_files()?;
            let segment = self.segments.remove(0);
            removed.push(RemovedSegment {
                base_offset: segment.base_offset,
                next_offset: segment.next_offset,
                bytes: segment.size,
                reason,
            });
        }
        Ok(RetentionOutcome { removed, log_start_offset: self.log_start_offset() })
    }

    /// Discards the whole log and restarts it empty at `offset`: every segment (log and
    /// index files) is deleted and a new active segment with base offset `offset` is
    /// started, so that afterwards the log start and end offsets are both `offset` and the
    /// next append gets `offset`. Any offset `>= 0` is accepted, whatever the old log held.
    ///
    /// This is how a replication follower whose log ends below its leader's log start (the
    /// leader's retention deleted what the follower lacks) starts over where the leader's
    /// log begins. Nothing else in the directory is touched.
    ///
    /// Crash-safe: a crash (or power loss) at any point leaves, on the next
    /// [`open`](Self::open), either the old log unchanged or the new empty one, never a mix.
    /// The reset is decided by the atomic rename of a marker file and completed by `open` if it
    /// was interrupted after that; see the `reset` module for the steps and the argument.
    ///
    /// Errors: [`LogError::NegativeOffset`]; I/O errors. An I/O error before the reset was
    /// decided leaves the old log in use; one after it makes every other operation fail with
    /// [`LogError::ResetIncomplete`] until `reset_to` succeeds or the log is reopened.
    pub fn reset_to(&mut self, offset: i64) -> Result<(), LogError> {
        self.reset_to_with(offset, &mut reset::no_crash)
    }

    /// The offset of a [`reset_to`](Self::reset_to) that failed after it was decided, if any:
    /// until it is redone (or the log reopened) every other operation fails with
    /// [`LogError::ResetIncomplete`].
    pub fn pending_reset(&self) -> Option<i64> {
        self.pending_reset
    }

    /// [`reset_to`](Self::reset_to) with a hook called between its durable steps (tests stop
    /// it there to simulate crashes).
    pub(crate) fn reset_to_with(&mut self, offset: i64, step: reset::Step<'_>) -> Result<(), LogError> {
        if offset < 0 {
            return Err(LogError::NegativeOffset { offset });
        }
        reset::stage_marker(&self.dir, offset)?;
        step()?;
        reset::commit_marker(&self.dir)?;
        // Decided: from here on the old segments may disappear at any step.
        self.pending_reset = Some(offset);
        step()?;
        let segment = reset::complete(&self.dir, offset, &self.pool, step)?;
        // Dropping the old segments closes their (already deleted) files.
        self.segments = vec![segment];
        self.pending_reset = None;
        // `complete` fsynced the directory after its last change.
        self.dir_dirty.store(false, Ordering::Relaxed);
        Ok(())
    }

    /// fsyncs the active segment's log and index (sealed segments were synced when sealed),
    /// and the directory if segments were deleted since the last sync.
    pub fn sync(&self) -> Result<(), LogError> {
        self.active().sync()?;
        if self.dir_dirty.swap(false, Ordering::Relaxed)
            && let Err(err) = sync_dir(&self.dir)
        {
            self.dir_dirty.store(true, Ordering::Relaxed);
            return Err(err);
        }
        Ok(())
    }

    /// Deletes the partition directory and everything in it (topic deletion).
    pub fn remove(self) -> Result<(), LogError> {
        let dir = self.dir.clone();
        drop(self);
        fs::remove_dir_all(&dir).map_err(LogError::io("remove", &dir))
    }
}
