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

use fluvio_wire::Compression;
use fluvio_wire::compression::DEFAULT_MAX_DECOMPRESSED;
use fluvio_wire::record::{BATCH_FILE_HEADER_LEN, CutBatch, ParsedRecordSet, RecordSpans};
use fluvio_wire::spu::{Isolation, StreamFetchRequest, StreamFetchResponse};

use super::compact::{CompactRecords, position_in};
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
    pub records: CompactRecords,
    /// The offset after the last whole batch, or `None` when no batch arrived whole.
    pub next_offset: Option<i64>,
    /// The batch the push ends inside of, if it was cut.
    pub cut: Option<CutBatch>,
    /// The bytes the records keep alive: the push's buffer when they are slices of it
    /// (uncompressed batches), what compressed batches decompressed to, and their list
    /// ([`CompactRecords::list_bytes`]).
    pub buffer_len: usize,
    /// The part of `buffer_len` the list of records takes.
    pub list_len: usize,
}

/// The whole batches of a push, known from their headers alone: where the push ends, before
/// its records are decoded. A stream acknowledges a push from this, so that the server reads
/// and sends the next one while this one is decoded.
pub(super) struct PushedBatches<'a> {
    push: &'a StreamFetchResponse,
    parsed: ParsedRecordSet,
    from: i64,
    /// The offset after the last whole batch, or `None` when no batch arrived whole.
    pub next_offset: Option<i64>,
}

impl PushedBatches<'_> {
    /// The batch the push ends inside of, if it was cut.
    pub fn cut(&self) -> Option<CutBatch> {
        self.parsed.cut
    }

    /// The cut batch at the end of this push if it must be fetched whole now: when nothing
    /// arrived whole (the next push would bring the same bytes), or when it is known to be
    /// larger than `max_bytes` (the next push, starting with it, would cut it again). A batch
    /// that fits is left to the next push.
    pub fn cut_to_fetch(&self, max_bytes: i32) -> Option<CutBatch> {
        let cut = self.parsed.cut?;
        let too_large = cut.total_len.is_some_and(|len| len > max_bytes.min(MAX_FETCH_BYTES) as usize);
        (self.next_offset.is_none() || too_large).then_some(cut)
    }

    /// Decodes the records of the whole batches, keeping those at or after the offset asked
    /// for. An undecodable batch is [`ErrorKind::Protocol`].
    pub fn decode(self, partition: u32) -> Result<Decoded> {
        let Self { push, parsed, from, next_offset } = self;
        // Sized up front: the batch headers say how many records follow.
        let count: i64 = parsed
            .batches
            .iter()
            .filter(|batch| batch.header.next_offset() > from)
            .map(|batch| batch.header.record_count().max(0))
            .sum();
        let push_buffer = push.partition.records.as_bytes();
        let capacity = usize::try_from(count).unwrap_or(0).min(push_buffer.len());
        let mut records = CompactRecords::with_capacity(partition, capacity);
        // What the records keep alive: the push's buffer, which records of uncompressed
        // batches are slices of, and the decompressed areas of compressed ones.
        let mut slices_push = false;
        let mut decompressed = 0;
        for batch in &parsed.batches {
            let header = &batch.header;
            if header.next_offset() <= from {
                // Wholly before the offset asked for: a push never starts so early.
                continue;
            }
            let undecodable = |e: fluvio_wire::DecodeError| {
                Error::protocol(format!("undecodable batch at offset {}", header.base_offset), e)
            };
            let area = batch.records_area(DEFAULT_MAX_DECOMPRESSED).map_err(undecodable)?;
            // The buffer the batch's records are kept in, and where the area starts in it: the
            // push's own for an uncompressed batch (one buffer for all of them), the
            // decompressed area otherwise. Started with the first record kept, so that no
            // buffer is kept for none.
            let in_push = match batch.compression() {
                Ok(Compression::None) => position_in(push_buffer, &area),
                _ => None,
            };
            let (buffer, area_start) = match in_push {
                Some(start) => (push_buffer, start),
                None => (&area, 0),
            };
            let in_buffer = |span: std::ops::Range<usize>| span.start + area_start..span.end + area_start;
            let mut buffer_started = false;
            for span in RecordSpans::new(&area).map_err(undecodable)? {
                let span = span.map_err(undecodable)?;
                let offset = header.base_offset.saturating_add(span.offset_delta);
                if offset < from {
                    continue;
                }
                if !buffer_started {
                    records.start_buffer(buffer.clone());
                    buffer_started = true;
                }
                let timestamp = header.record_timestamp(span.timestamp_delta);
                records.push(offset, timestamp, span.key.map(in_buffer), in_buffer(span.value)).map_err(|_| {
                    Error::new(
                        ErrorKind::Protocol,
                        format!("a record of the batch at offset {} lies outside its buffer", header.base_offset),
                    )
                })?;
            }
            if buffer_started {
                if in_push.is_some() {
                    slices_push = true;
                } else {
                    decompressed += area.len();
                }
            }
        }
        // The list of records takes memory too: 32 bytes a record (see `compact`), where a
        // `ConsumerRecord` takes 88, as much as the data of a small record.
        let list_len = records.list_bytes();
        let buffer_len = if slices_push { push_buffer.len() } else { 0 } + decompressed + list_len;
        Ok(Decoded { records, next_offset, cut: parsed.cut, buffer_len, list_len })
    }
}

/// The whole batches of `push` from their headers, for the offset `from` (a push starts with
/// the batch holding the offset asked for; batches that end before `from` are ignored, so
/// `next_offset`, when set, is after `from`). Bytes that cannot start a batch are
/// [`ErrorKind::Protocol`].
pub(super) fn parse_push(push: &StreamFetchResponse, from: i64) -> Result<PushedBatches<'_>> {
    let mut parsed = push.partition.records.parse();
    if parsed.cut.is_none()
        && let Some((_, err)) = parsed.invalid_tail.take()
    {
        return Err(Error::protocol("a push holds bytes that are not a record batch", err));
    }
    let next_offset = parsed.batches.iter().map(|batch| batch.header.next_offset()).filter(|&next| next > from).max();
    Ok(PushedBatches { push, parsed, from, next_offset })
}

/// Decodes the whole batches of `push`, keeping the records at or after `from` (see
/// [`parse_push`] and [`PushedBatches::decode`]).
pub(super) fn decode_push(push: &StreamFetchResponse, partition: u32, from: i64) -> Result<Decoded> {
    parse_push(push, from)?.decode(partition)
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

#[cfg(test)]
mod tests {
    use bytes::{Bytes, BytesMut};
    use fluvio_wire::record::{RawBatch, Record, RecordSet};
    use fluvio_wire::spu::FetchablePartitionResponse;

    use super::*;
    use crate::consumer::ConsumerRecord;

    const FIRST_TIMESTAMP: i64 = 1_700_000_000_000;

    type KeyValue = (Option<&'static [u8]>, &'static [u8]);

    fn batch(base_offset: i64, records: &[KeyValue], compression: Compression) -> RawBatch {
        let records: Vec<Record> = records
            .iter()
            .enumerate()
            .map(|(i, (key, value))| {
                Record::new(key.map(Bytes::from_static), Bytes::from_static(value), i as i64, i as i64)
            })
            .collect();
        let mut batch = RawBatch::from_records(&records, compression, FIRST_TIMESTAMP).unwrap();
        batch.header.base_offset = base_offset;
        batch
    }

    fn push_of(bytes: Bytes) -> StreamFetchResponse {
        let partition = FetchablePartitionResponse { records: RecordSet::from_encoded(bytes), ..Default::default() };
        StreamFetchResponse { partition, ..Default::default() }
    }

    fn record(offset: i64, delta: i64, key: Option<&'static [u8]>, value: &'static [u8]) -> ConsumerRecord {
        ConsumerRecord {
            partition: 3,
            offset,
            timestamp: FIRST_TIMESTAMP + delta,
            key: key.map(Bytes::from_static),
            value: Bytes::from_static(value),
        }
    }

    #[test]
    fn a_push_decodes_to_the_records_of_its_whole_batches_from_the_offset_asked_for() {
        let batches = [
            batch(10, &[(None, b"a"), (Some(b""), b"b"), (Some(b"k"), b"c")], Compression::None),
            batch(13, &[(Some(b"gz"), b"d"), (None, b"")], Compression::Gzip),
            batch(15, &[(None, b"f")], Compression::None),
            batch(16, &[(None, b"g")], Compression::Lz4),
            batch(17, &[(Some(b"s"), b"h")], Compression::Snappy),
        ];
        let mut bytes = BytesMut::from(RecordSet::from_batches(&batches).unwrap().as_bytes().as_ref());
        // The push ends inside the next batch.
        let mut cut = BytesMut::new();
        batch(18, &[(None, b"cut")], Compression::None).encode_to(&mut cut).unwrap();
        bytes.extend_from_slice(&cut[..cut.len() - 2]);
        let push = push_of(bytes.freeze());

        let decoded = decode_push(&push, 3, 11).unwrap();
        assert_eq!(decoded.next_offset, Some(18));
        assert_eq!(decoded.cut.and_then(|cut| cut.base_offset), Some(18));
        // The push's buffer, the three decompressed areas, and the list.
        let decompressed: usize =
            [1, 3, 4].iter().map(|&i| batches[i].records_area(DEFAULT_MAX_DECOMPRESSED).unwrap().len()).sum();
        assert_eq!(decoded.buffer_len, push.partition.records.len() + decompressed + decoded.list_len);
        assert!(decoded.list_len >= 7 * 32, "{}", decoded.list_len);
        let records: Vec<ConsumerRecord> = decoded.records.collect();
        assert_eq!(
            records,
            [
                // Offset 10 is before the offset asked for.
                record(11, 1, Some(b""), b"b"),
                record(12, 2, Some(b"k"), b"c"),
                record(13, 0, Some(b"gz"), b"d"),
                record(14, 1, None, b""),
                record(15, 0, None, b"f"),
                record(16, 0, None, b"g"),
                record(17, 0, Some(b"s"), b"h"),
            ]
        );

        // Only compressed batches from offset 16: the push's buffer is not kept.
        let decoded = decode_push(&push, 3, 16).unwrap();
        let decompressed: usize =
            [3, 4].iter().map(|&i| batches[i].records_area(DEFAULT_MAX_DECOMPRESSED).unwrap().len()).sum();
        assert_eq!(decoded.buffer_len, decompressed + decoded.list_len);
        assert_eq!(decoded.records.map(|r| r.offset).collect::<Vec<_>>(), [16, 17]);
    }

    #[test]
    fn an_undecodable_batch_is_a_protocol_error() {
        let mut broken = batch(0, &[(None, b"a")], Compression::None);
        // One record claimed, and a record length beyond the area.
        broken.records = Bytes::from_static(&[0, 0, 0, 1, 0x7f]);
        let push = push_of(RecordSet::from_batches([&broken]).unwrap().as_bytes().clone());
        let err = decode_push(&push, 0, 0).err().unwrap();
        assert_eq!(err.kind(), ErrorKind::Protocol);
    }
}
