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

use std::sync::Arc;

use fluvio_log::LogError;
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

    /// Tells the client why the session's leadership term ended: the topic was deleted, or the
    /// partition moved to another leader (the client then looks it up again).
    async fn push_term_end(&self, removed: &tokio_util::sync::CancellationToken) {
        let code = if removed.is_cancelled() { ErrorCode::TopicDeleted } else { ErrorCode::NotLeaderForPartition };
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
                tokio::select! {
                    changed = offsets_rx.changed() => if changed.is_err() { return },
                    ack = self.acks.recv() => match ack {
                        Some(offset) => next = self.latest_ack(offset),
                        None => return,
                    },
                    _ = removed.cancelled() => {
                        self.push_error(ErrorCode::TopicDeleted).await;
                        return;
                    }
                    _ = term.cancelled() => {
                        self.push_term_end(&removed).await;
                        return;
                    }
                    _ = self.sink.closed() => return,
                }
                continue;
            }
            let slice = match self.replica.read_range(next, max_bytes, isolation) {
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
            // Flow control: nothing more until the client says where to continue.
            tokio::select! {
                ack = self.acks.recv() => match ack {
                    Some(offset) => next = self.latest_ack(offset),
                    None => return,
                },
                _ = removed.cancelled() => {
                    self.push_error(ErrorCode::TopicDeleted).await;
                    return;
                }
                _ = term.cancelled() => {
                    self.push_term_end(&removed).await;
                    return;
                }
                _ = self.sink.closed() => return,
            }
            debug!(stream = self.stream_id, next, "acknowledged");
        }
    }

    /// Drains acknowledgements that queued up and keeps the newest.
    fn latest_ack(&mut self, mut offset: i64) -> i64 {
        while let Ok(newer) = self.acks.try_recv() {
            offset = newer;
        }
        offset
    }
}
