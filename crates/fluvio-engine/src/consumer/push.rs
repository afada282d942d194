//! Decoding the pushes of a StreamFetch session, and fetching whole a batch a push cut short.
//!
//! A Fluvio SPU sends a consumer a slice of its log cut at the fetch's `max_bytes` wherever
//! that falls: inside a batch, even inside its header. Only whole batches are decoded here
//! (the records of a cut one are never handed out in part), so the next offset always follows
//! the last whole batch. The batch a push ends inside of is then either left to the next push,
//! which starts with it and holds it whole if it fits in `max_bytes`, or fetched whole at once
//! in a session of its own whose `max_bytes` is the size the batch declares, bounded by
//! [`MAX_FETCH_BYTES`]. A stream therefore never stalls on a batch larger than its `max_bytes`
//! (asking again for the same offset would bring the same cut bytes for ever) and never skips
//! the rest of a cut batch (as the official client does when it takes the batch's declared
//! end as its next offset).

use std::time::Duration;

use fluvio_wire::compression::DEFAULT_MAX_DECOMPRESSED;
use fluvio_wire::record::{BATCH_FILE_HEADER_LEN, CutBatch};
use fluvio_wire::spu::{Isolation, StreamFetchRequest, StreamFetchResponse};

use super::record::ConsumerRecord;
use crate::error::{Error, ErrorKind, Result};
use crate::socket::{Connection, SPU_VERSION, StreamReceiver};

/// The largest `max_bytes` a fetch asks for, and the largest batch fetched whole when a server
/// cut it: 64 MiB less 64 KiB, so that a push stays within the largest frame the engine
/// accepts (64 MiB): about twice the largest batch a Fluvio SPU stores with its default limits
/// (32 MiB). A larger configured `max_bytes` is lowered to it; a cut batch that declares more
/// is [`ErrorKind::RecordTooLarge`].
pub const MAX_FETCH_BYTES: i32 = 64 * 1024 * 1024 - 64 * 1024;

/// Sessions opened to fetch one cut batch whole before the server is deemed to misbehave: one
/// to learn its size when not even its 12-byte preamble arrived, one for the batch, and
/// spares for a log that changed meanwhile (a new leader's).
const CUT_BATCH_ATTEMPTS: usize = 4;

/// A StreamFetch request.
pub(super) fn stream_request(
    topic: &str,
    partition: u32,
    offset: i64,
    max_bytes: i32,
    isolation: Isolation,
) -> StreamFetchRequest {
    StreamFetchRequest {
        topic: topic.to_string(),
        partition,
        fetch_offset: offset,
        max_bytes: max_bytes.min(MAX_FETCH_BYTES),
        isolation,
        ..StreamFetchRequest::default()
    }
}

/// The records of one push, and where it ended.
pub(super) struct Decoded {
    /// The records of the whole batches, from the offset asked for on.
    pub records: Vec<ConsumerRecord>,
    /// The offset after the last whole batch, or `None` when no batch arrived whole.
    pub next_offset: Option<i64>,
    /// The batch the push ends inside of, if it was cut.
    pub cut: Option<CutBatch>,
}

impl Decoded {
    /// The cut batch at the end of this push if it must be fetched whole now: when nothing
    /// arrived whole (the next push would bring the same bytes), or when it is known to be
    /// larger than `max_bytes` (the next push, starting with it, would cut it again). A batch
    /// that fits is left to the next push.
    pub fn cut_to_fetch(&self, max_bytes: i32) -> Option<CutBatch> {
        let cut = self.cut?;
        let too_large = cut.total_len.is_some_and(|len| len > max_bytes.min(MAX_FETCH_BYTES) as usize);
        (self.next_offset.is_none() || too_large).then_some(cut)
    }
}

/// Decodes the whole batches of `push`, keeping the records at or after `from` (a push starts
/// with the batch holding the offset asked for). Bytes that cannot start a batch are
/// [`ErrorKind::Protocol`]; so is an undecodable batch. Batches that end before `from` are
/// ignored, so `next_offset`, when set, is after `from`.
pub(super) fn decode_push(push: &StreamFetchResponse, partition: u32, from: i64) -> Result<Decoded> {
    let parsed = push.partition.records.parse();
    if let Some((_, err)) = parsed.invalid_tail
        && parsed.cut.is_none()
    {
        return Err(Error::protocol("a push holds bytes that are not a record batch", err));
    }
    let mut records = Vec::new();
    let mut next_offset = None;
    for batch in &parsed.batches {
        let header = &batch.header;
        if header.next_offset() <= from {
            // Wholly before the offset asked for: a push never starts so early.
            continue;
        }
        let decoded = batch
            .records(DEFAULT_MAX_DECOMPRESSED)
            .map_err(|e| Error::protocol(format!("undecodable batch at offset {}", header.base_offset), e))?;
        for record in decoded {
            let offset = header.base_offset + record.offset_delta;
            if offset >= from {
                records.push(ConsumerRecord {
                    partition,
                    offset,
                    timestamp: header.record_timestamp(record.timestamp_delta),
                    key: record.key,
                    value: record.value,
                });
            }
        }
        next_offset = Some(next_offset.map_or(header.next_offset(), |n: i64| n.max(header.next_offset())));
    }
    Ok(Decoded { records, next_offset, cut: parsed.cut })
}

/// The next push of a session, within `wait`: [`ErrorKind::Timeout`] (`what` says what did not
/// come) past it, [`ErrorKind::ConnectionClosed`] when the connection closed first.
pub(super) async fn next_push(
    pushes: &mut StreamReceiver<StreamFetchResponse>,
    wait: Duration,
    what: impl FnOnce() -> String,
) -> Result<StreamFetchResponse> {
    match tokio::time::timeout(wait, pushes.next()).await {
        Err(_) => Err(Error::new(ErrorKind::Timeout, format!("{} within {wait:?}", what()))),
        Ok(None) => Err(Error::new(ErrorKind::ConnectionClosed, "the SPU closed the connection")),
        Ok(Some(push)) => push,
    }
}

/// Fetches whole the batch holding `from`, which a push cut short (`cut`), on `connection`:
/// a session of its own asks for exactly the size the batch declares (its header first, when
/// not even that arrived), and its first push is decoded. The session is left unacknowledged,
/// so it sends nothing more; closing the connection ends it.
///
/// Errors: [`ErrorKind::RecordTooLarge`] for a batch declaring more than
/// [`MAX_FETCH_BYTES`]; [`ErrorKind::Timeout`] when no push comes within `wait`;
/// [`ErrorKind::Protocol`] when the server keeps cutting it short; the server's error
/// otherwise.
pub(super) async fn fetch_cut_batch(
    connection: &Connection,
    topic: &str,
    partition: u32,
    from: i64,
    isolation: Isolation,
    mut cut: CutBatch,
    wait: Duration,
) -> Result<Decoded> {
    for _ in 0..CUT_BATCH_ATTEMPTS {
        let size = match cut.total_len {
            Some(len) if len > MAX_FETCH_BYTES as usize => {
                return Err(Error::new(
                    ErrorKind::RecordTooLarge,
                    format!(
                        "the batch holding offset {from} of {topic}-{partition} has {len} bytes, more than the {MAX_FETCH_BYTES} a fetch can take"
                    ),
                ));
            }
            Some(len) => len,
            // Not even its preamble arrived: its header names its size.
            None => BATCH_FILE_HEADER_LEN + 4,
        };
        let request = stream_request(topic, partition, from, size as i32, isolation);
        let mut pushes = connection.open_stream(&request, SPU_VERSION)?;
        let push = next_push(&mut pushes, wait, || {
            format!("no answer for the batch holding offset {from} of {topic}-{partition}")
        })
        .await?;
        if push.partition.error_code.is_error() {
            return Err(Error::from_server(push.partition.error_code, format!("{topic}-{partition}")));
        }
        let decoded = decode_push(&push, partition, from)?;
        if decoded.next_offset.is_some() {
            return Ok(decoded);
        }
        cut = decoded.cut.ok_or_else(|| Error::new(ErrorKind::Protocol, "the SPU pushed no record batch"))?;
    }
    Err(Error::new(
        ErrorKind::Protocol,
        format!(
            "the SPU keeps cutting the batch holding offset {from} of {topic}-{partition} short of the {} bytes it declares",
            cut.total_len.unwrap_or_default()
        ),
    ))
}
