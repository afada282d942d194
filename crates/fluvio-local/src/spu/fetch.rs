//! StreamFetch (key 1003) sessions, flow-controlled by UpdateOffsets (key 1005).
//!
//! A session pushes what a Fluvio SPU pushes: the stored bytes from the start of the batch
//! holding the offset asked for, to the end of that batch's segment or of the visible records
//! (the high watermark under ReadCommitted, the log end under ReadUncommitted), cut at the
//! request's `max_bytes` wherever that falls, in the middle of a batch or of its header. The
//! SPU reads `max_bytes` as unsigned (a negative value means "no limit"); this cluster also
//! caps a push at [`MAX_PUSH_BYTES`], as it reads what it sends into memory. Then the session
//! waits for the client's acknowledgement, which names the next offset the client wants, and
//! pushes again from there (from the start of the batch holding it). It never pushes an empty
//! response: when the client is caught up (or `max_bytes` is 0), it waits for the visible end
//! to move.
//!
//! A client catching up on a backlog gets pushes cut at `max_bytes`. After such a push the
//! session reads the next one while it waits, from where the client is expected to continue
//! ([`AckPrediction`]), and sends it when the acknowledgement names that offset, provided it
//! is exactly what a read then would give ([`ReadAhead::serves`]); otherwise it reads again.
//! The server's read and the client's decoding of the previous push then overlap instead of
//! taking turns. What a client sees is unchanged; a read-ahead is dropped after
//! [`READ_AHEAD_KEPT`] so that clients that stop reading do not each keep a push in memory.

use std::sync::Arc;
use std::time::Duration;

use fluvio_log::{LogError, ReadSlice};
use fluvio_wire::Version;
use fluvio_wire::error_code::ErrorCode;
use fluvio_wire::record::RecordSet;
use fluvio_wire::spu::{FetchablePartitionResponse, StreamFetchRequest, StreamFetchResponse};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::{debug, warn};

use super::replica::Replica;
use crate::net::FrameSink;

/// The most record bytes one push carries: a push stays within the largest frame a client of
/// this project accepts ([`fluvio_wire::frame::DEFAULT_MAX_FRAME_SIZE`]), with room for the
/// response around the records.
pub(crate) const MAX_PUSH_BYTES: usize = fluvio_wire::frame::DEFAULT_MAX_FRAME_SIZE - 64 * 1024;

/// How long a session keeps the push it read ahead for a client that has not acknowledged the
/// previous one yet: ample for a client that reads as fast as it can, short enough that the
/// sessions of clients that stopped reading do not each hold a push's worth of memory.
const READ_AHEAD_KEPT: Duration = Duration::from_millis(20);

/// Read-aheads in a row that the client's acknowledgement did not take before a session stops
/// reading ahead: its client continues from offsets this session cannot foresee.
const READ_AHEAD_MISSES: u32 = 3;

/// The next push, read while the client was still receiving the previous one.
struct ReadAhead {
    /// Where it starts: the offset the client is expected to acknowledge.
    offset: i64,
    /// The visible end it was read up to.
    end: i64,
    slice: ReadSlice,
}

impl ReadAhead {
    /// Whether it holds exactly what a read from `offset` up to `end` would give now, with
    /// `log_start` the log's first offset: it starts there and nothing it holds was removed
    /// since, and either the visible end is the same, or the end only grew and the slice was
    /// cut at `max_bytes` (more visible records after the cut change nothing).
    fn serves(&self, offset: i64, end: i64, log_start: i64, max_bytes: usize) -> bool {
        self.offset == offset
            && offset >= log_start
            && (end == self.end || (end > self.end && self.slice.bytes.len() >= max_bytes))
    }
}

/// Where a session's client will continue after a push, learnt from its acknowledgements. Each
/// acknowledges the offset after the last batch it took whole. When a push ends inside a
/// batch, this project's client and later official ones take that batch's start (the next
/// push brings it whole); the official 0.50 client takes the end its header declares,
/// skipping the records the push cut.
#[derive(Default)]
struct AckPrediction {
    /// The offsets the last push's acknowledgement was expected at: after its whole batches,
    /// and after the batch it was cut inside of (when its header arrived whole).
    after_whole: Option<i64>,
    after_cut: Option<i64>,
    /// The client skips the rest of a cut batch (the 0.50 client).
    skips_cut: bool,
    /// Read-aheads its acknowledgements did not take, in a row.
    misses: u32,
}

impl AckPrediction {
    /// The offset the client is expected to acknowledge after `slice`, when reading ahead
    /// from it is worth it: after a push cut at `max_bytes`, where the client has more to
    /// catch up on. A client that follows the log's end gets short pushes, and reading the
    /// next one ahead would mostly be read again once more records came.
    fn expected_ack(&mut self, slice: &ReadSlice, max_bytes: usize) -> Option<i64> {
        self.after_whole = (slice.next_offset > slice.first_offset).then_some(slice.next_offset);
        // The log reads the cut batch's header anyway to check it: its end comes with the slice.
        self.after_cut = slice.cut_end;
        if slice.bytes.len() < max_bytes || self.misses >= READ_AHEAD_MISSES {
            return None;
        }
        match self.after_cut {
            Some(after_cut) if self.skips_cut => Some(after_cut),
            _ => self.after_whole,
        }
    }

    /// Learns from the client's acknowledgement of the last push.
    fn acknowledged(&mut self, next: i64) {
        if self.after_cut == Some(next) {
            self.skips_cut = true;
        } else if self.after_whole == Some(next) {
            self.skips_cut = false;
        }
    }

    /// A read-ahead the acknowledgement took.
    fn hit(&mut self) {
        self.misses = 0;
    }

    /// A read-ahead left unused, the client continuing from `next`: a miss when it started
    /// elsewhere (records that came meanwhile make one stale without the guess being wrong).
    fn unused(&mut self, ahead: &ReadAhead, next: i64) {
        if ahead.offset != next {
            self.misses += 1;
        }
    }
}

/// Why a session ends other than by a failed read or push.
enum SessionEnd {
    /// The topic was deleted.
    TopicRemoved,
    /// The leadership term the session was opened in ended.
    TermOver,
    /// The connection closed.
    Closed,
}

/// Resolves once the session must end: its topic is `removed`, its leadership `term` ended, or
/// its connection (`sink`) closed.
async fn session_end(removed: &CancellationToken, term: &CancellationToken, sink: &FrameSink) -> SessionEnd {
    tokio::select! {
        _ = removed.cancelled() => SessionEnd::TopicRemoved,
        _ = term.cancelled() => SessionEnd::TermOver,
        _ = sink.closed() => SessionEnd::Closed,
    }
}

/// Everything a running session needs.
pub(crate) struct StreamSession {
    pub replica: Arc<Replica>,
    /// The leadership term the session was opened in: it ends with it.
    pub term: CancellationToken,
    pub request: StreamFetchRequest,
    pub stream_id: u32,
    pub correlation_id: i32,
    pub version: Version,
    pub sink: FrameSink,
    pub acks: mpsc::UnboundedReceiver<i64>,
}

/// A push carrying only an error and no records.
pub(crate) fn error_push(
    request: &StreamFetchRequest,
    stream_id: u32,
    error_code: ErrorCode,
    hw: i64,
    log_start: i64,
) -> StreamFetchResponse {
    StreamFetchResponse {
        topic: request.topic.clone(),
        stream_id,
        partition: FetchablePartitionResponse {
            partition_index: request.partition,
            error_code,
            high_watermark: hw,
            next_filter_offset: 0,
            log_start_offset: log_start,
            aborted: None,
            records: RecordSet::default(),
        },
    }
}

impl StreamSession {
    async fn push(&self, response: &StreamFetchResponse) -> bool {
        // The records go out as the slice read from the log, not copied into the frame.
        let encoded = response.encode_frame(self.correlation_id, self.version).map(Vec::from);
        self.sink.send_encoded(encoded).await.is_ok()
    }

    async fn push_error(&self, error_code: ErrorCode) {
        let offsets = self.replica.offsets();
        let push = error_push(&self.request, self.stream_id, error_code, offsets.hw, offsets.log_start);
        self.push(&push).await;
    }

    /// Tells the client why the session ends: the topic was deleted, or the partition moved
    /// to another leader (the client then looks it up again); nothing once the connection
    /// closed.
    async fn push_end(&self, end: SessionEnd) {
        let code = match end {
            SessionEnd::TopicRemoved => ErrorCode::TopicDeleted,
            // A term also ends when its topic is deleted: that is what the client must hear.
            SessionEnd::TermOver if self.replica.removed().is_cancelled() => ErrorCode::TopicDeleted,
            SessionEnd::TermOver => ErrorCode::NotLeaderForPartition,
            SessionEnd::Closed => return,
        };
        self.push_error(code).await;
    }

    /// Runs until the connection closes, the replica goes away, or an error ends the stream.
    pub(crate) async fn run(mut self) {
        let isolation = self.request.isolation;
        // As the SPU does: unsigned, so a negative value reads everything there is.
        let max_bytes = (self.request.max_bytes as u32 as usize).min(MAX_PUSH_BYTES);
        let mut next = self.request.fetch_offset;
        let mut offsets_rx = self.replica.subscribe();
        let removed = self.replica.removed().clone();
        let term = self.term.clone();
        let mut ahead: Option<ReadAhead> = None;
        let mut prediction = AckPrediction::default();
        loop {
            let offsets = *offsets_rx.borrow_and_update();
            if next < offsets.log_start {
                self.push_error(ErrorCode::OffsetEvicted { offset: next, next_available: offsets.log_start }).await;
                return;
            }
            if next > offsets.leo {
                self.push_error(ErrorCode::Other(format!("start offset: {next} is greater than leo: {}", offsets.leo)))
                    .await;
                return;
            }
            // Caught up (or nothing fits in max_bytes 0, which a real SPU never answers
            // either): wait for new data. Acknowledgements may still arrive (a client
            // rewinding); the latest one wins.
            if next >= offsets.visible_end(isolation) || max_bytes == 0 {
                if let Some(unused) = ahead.take() {
                    prediction.unused(&unused, next);
                }
                tokio::select! {
                    changed = offsets_rx.changed() => if changed.is_err() { return },
                    ack = self.acks.recv() => match ack {
                        Some(offset) => next = self.latest_ack(offset),
                        None => return,
                    },
                    end = session_end(&removed, &term, &self.sink) => {
                        self.push_end(end).await;
                        return;
                    }
                }
                continue;
            }
            let now = self.replica.offsets();
            let end = now.visible_end(isolation);
            let read = match ahead.take() {
                Some(ahead) if ahead.serves(next, end, now.log_start, max_bytes) => {
                    prediction.hit();
                    Ok(ahead.slice)
                }
                Some(unused) => {
                    prediction.unused(&unused, next);
                    self.replica.read_range(next, max_bytes, end)
                }
                None => self.replica.read_range(next, max_bytes, end),
            };
            let slice = match read {
                Ok(slice) => slice,
                Err(LogError::OffsetEvicted { next_available, .. }) => {
                    self.push_error(ErrorCode::OffsetEvicted { offset: next, next_available }).await;
                    return;
                }
                Err(LogError::Corrupt { path, position, offset, defect }) => {
                    warn!(
                        replica = %self.replica.key(),
                        file = %path.display(),
                        position,
                        offset,
                        %defect,
                        "a damaged stored batch was not served to a consumer"
                    );
                    self.push_error(ErrorCode::corrupt_batch(self.replica.key(), offset, defect)).await;
                    return;
                }
                Err(err) => {
                    warn!(replica = %self.replica.key(), %err, "stream read failed");
                    self.push_error(ErrorCode::StorageError).await;
                    return;
                }
            };
            if slice.bytes.is_empty() {
                // The visible end moved backwards between the check and the read (a truncation
                // on leadership change); start over.
                continue;
            }
            let offsets = self.replica.offsets();
            let expected = prediction.expected_ack(&slice, max_bytes);
            let push = StreamFetchResponse {
                topic: self.request.topic.clone(),
                stream_id: self.stream_id,
                partition: FetchablePartitionResponse {
                    partition_index: self.request.partition,
                    error_code: ErrorCode::None,
                    high_watermark: offsets.hw,
                    next_filter_offset: 0,
                    log_start_offset: offsets.log_start,
                    aborted: None,
                    records: RecordSet::from_encoded(slice.bytes),
                },
            };
            if !self.push(&push).await {
                return;
            }
            // While the client receives and decodes this push, read the next one from where it
            // is expected to continue: its acknowledgement then finds it ready.
            ahead = expected.and_then(|offset| self.read_ahead(offset, max_bytes, isolation));
            // Flow control: nothing more until the client says where to continue.
            let kept = tokio::time::sleep(READ_AHEAD_KEPT);
            tokio::pin!(kept);
            loop {
                tokio::select! {
                    ack = self.acks.recv() => match ack {
                        Some(offset) => {
                            next = self.latest_ack(offset);
                            break;
                        }
                        None => return,
                    },
                    // A client that takes its time: give the memory back.
                    _ = &mut kept, if ahead.is_some() => ahead = None,
                    end = session_end(&removed, &term, &self.sink) => {
                        self.push_end(end).await;
                        return;
                    }
                }
            }
            prediction.acknowledged(next);
            debug!(stream = self.stream_id, next, "acknowledged");
        }
    }

    /// The push a read from `offset` gives now, unless there is nothing to read there yet
    /// (the client is caught up and its acknowledgement will wait for records) or the read
    /// fails: the read the acknowledgement then leads to finds the same error and pushes it.
    fn read_ahead(&self, offset: i64, max_bytes: usize, isolation: fluvio_wire::spu::Isolation) -> Option<ReadAhead> {
        let end = self.replica.offsets().visible_end(isolation);
        if offset >= end {
            return None;
        }
        let slice = self.replica.read_range(offset, max_bytes, end).ok()?;
        (!slice.bytes.is_empty()).then_some(ReadAhead { offset, end, slice })
    }

    /// Drains acknowledgements that queued up and keeps the newest.
    fn latest_ack(&mut self, mut offset: i64) -> i64 {
        while let Ok(newer) = self.acks.try_recv() {
            offset = newer;
        }
        offset
    }
}

#[cfg(test)]
mod tests {
    use bytes::{Bytes, BytesMut};
    use fluvio_wire::Compression;
    use fluvio_wire::record::{RawBatch, Record};

    use super::*;

    /// Stored bytes of batches of two 100-byte records from offset 0, as many as `batches`,
    /// cut to `len` bytes.
    fn stored(batches: i64, len: usize) -> ReadSlice {
        let mut bytes = BytesMut::new();
        for base in (0..batches).map(|n| n * 2) {
            let records: Vec<Record> = (0..2).map(|i| Record::new(None, Bytes::from(vec![1u8; 100]), i, 0)).collect();
            let mut batch = RawBatch::from_records(&records, Compression::None, 0).unwrap();
            batch.header.base_offset = base;
            batch.encode_to(&mut bytes).unwrap();
        }
        let len = len.min(bytes.len());
        let bytes = bytes.freeze().slice(..len);
        let parsed = RecordSet::from_encoded(bytes.clone()).parse();
        let cut_end = parsed.partial.map(|cut| cut.header.next_offset());
        ReadSlice { bytes, first_offset: 0, next_offset: parsed.batches.len() as i64 * 2, cut_end }
    }

    fn batch_len() -> usize {
        stored(1, usize::MAX).bytes.len()
    }

    #[test]
    fn reads_ahead_only_after_a_push_cut_at_max_bytes() {
        let mut prediction = AckPrediction::default();
        // Short of max_bytes: the client is at the log's end.
        assert_eq!(prediction.expected_ack(&stored(3, usize::MAX), 10 * batch_len()), None);
        // Cut at max_bytes inside the third batch: after the two whole ones.
        let max_bytes = 2 * batch_len() + 50;
        assert_eq!(prediction.expected_ack(&stored(3, max_bytes), max_bytes), Some(4));
    }

    #[test]
    fn learns_a_client_that_skips_the_rest_of_a_cut_batch() {
        let max_bytes = 2 * batch_len() + 80;
        let cut = stored(3, max_bytes);
        let mut prediction = AckPrediction::default();
        assert_eq!(prediction.expected_ack(&cut, max_bytes), Some(4));
        // The official 0.50 client acknowledges the end the cut batch's header declares.
        prediction.acknowledged(6);
        assert_eq!(prediction.expected_ack(&cut, max_bytes), Some(6));
        // A client that takes the cut batch again is followed back.
        prediction.acknowledged(4);
        assert_eq!(prediction.expected_ack(&cut, max_bytes), Some(4));
    }

    #[test]
    fn stops_reading_ahead_for_a_client_it_cannot_foresee() {
        let max_bytes = 2 * batch_len() + 80;
        let cut = stored(3, max_bytes);
        let mut prediction = AckPrediction::default();
        let ahead = |offset| ReadAhead { offset, end: 6, slice: stored(1, usize::MAX) };
        for _ in 0..READ_AHEAD_MISSES {
            assert_eq!(prediction.expected_ack(&cut, max_bytes), Some(4));
            prediction.unused(&ahead(4), 1);
        }
        assert_eq!(prediction.expected_ack(&cut, max_bytes), None);
        // Records that came meanwhile make a read-ahead stale, not wrong.
        let mut prediction = AckPrediction::default();
        for _ in 0..2 * READ_AHEAD_MISSES {
            prediction.unused(&ahead(4), 4);
        }
        assert_eq!(prediction.expected_ack(&cut, max_bytes), Some(4));
    }

    #[test]
    fn a_read_ahead_serves_only_the_read_it_stands_for() {
        let full = ReadAhead { offset: 4, end: 10, slice: stored(3, 300) };
        assert!(full.serves(4, 10, 0, 300));
        assert!(!full.serves(2, 10, 0, 300), "another offset");
        assert!(!full.serves(4, 10, 6, 300), "removed since");
        assert!(!full.serves(4, 8, 0, 300), "the log was cut back");
        assert!(full.serves(4, 12, 0, 300), "more records after a cut push change nothing");
        let short = ReadAhead { offset: 4, end: 10, slice: stored(3, usize::MAX) };
        assert!(short.serves(4, 10, 0, 1 << 20));
        assert!(!short.serves(4, 12, 0, 1 << 20), "a short push would now carry more");
    }
}
