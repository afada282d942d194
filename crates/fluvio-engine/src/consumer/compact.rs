//! The records of a push as a stream holds them until the application takes them: one small
//! entry per record, pointing into the buffers the records arrived in.
//!
//! A [`ConsumerRecord`] takes 88 bytes (two buffer handles of 32 bytes each, an offset, a
//! timestamp and the partition), as much as a small record's data. A stream buffers whole
//! pushes of records it has not handed out yet, so it keeps a 32-byte [`Entry`] per record
//! instead (offset, timestamp, and where the key and value lie) and the buffers once, and
//! builds each [`ConsumerRecord`] (cheap slices of the buffers) when it is taken.

use std::ops::Range;

use bytes::Bytes;

use super::record::ConsumerRecord;
use crate::metrics::ReceivedChunk;

/// `key_len` of a record without a key (distinct from an empty key: length 0).
const NO_KEY: u32 = u32::MAX;

/// One buffered record: where its key and value lie in the buffer of its [`Run`].
#[derive(Debug, Clone, Copy)]
struct Entry {
    offset: i64,
    timestamp: i64,
    key_start: u32,
    /// [`NO_KEY`] when the record has no key.
    key_len: u32,
    value_start: u32,
    value_len: u32,
}

impl Entry {
    /// The record, borrowed from `buffer`, the buffer of its run (`push` checked that its
    /// spans lie in it).
    fn borrowed<'a>(&self, partition: u32, buffer: &'a [u8]) -> RecordRef<'a> {
        let span = |start: u32, len: u32| &buffer[start as usize..start as usize + len as usize];
        RecordRef {
            partition,
            offset: self.offset,
            timestamp: self.timestamp,
            key: (self.key_len != NO_KEY).then(|| span(self.key_start, self.key_len)),
            value: span(self.value_start, self.value_len),
        }
    }
}

/// Consecutive entries whose keys and values lie in one buffer: those from the previous
/// run's `end` up to this one's.
#[derive(Debug)]
struct Run {
    buffer: Bytes,
    end: usize,
}

/// A key or value span that does not lie in the buffer of its record (or past 4 GiB, beyond
/// what any push or decompressed batch holds): the decoder that produced it is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct SpanOutsideBuffer;

/// The records of one push, oldest first: the buffers they are slices of and one [`Entry`]
/// per record. An iterator that builds each [`ConsumerRecord`] as it is taken, and lets go of
/// its buffers and entries with the last one.
#[derive(Debug, Default)]
pub(crate) struct CompactRecords {
    partition: u32,
    runs: Vec<Run>,
    entries: Vec<Entry>,
    /// The entry taken next.
    next: usize,
    /// The run holding the entry taken next.
    next_run: usize,
}

impl CompactRecords {
    /// No records yet, of `partition`, with room for `records` of them and for one buffer
    /// (a push of uncompressed batches needs no more).
    pub(super) fn with_capacity(partition: u32, records: usize) -> Self {
        Self { partition, runs: Vec::with_capacity(1), entries: Vec::with_capacity(records), ..Self::default() }
    }

    /// Records added from now on lie in `buffer`. Starting the buffer the last records lie in
    /// again (the push's buffer, for consecutive uncompressed batches) keeps them in one run.
    pub(super) fn start_buffer(&mut self, buffer: Bytes) {
        let end = self.entries.len();
        let previous_end = self.runs.iter().rev().nth(1).map_or(0, |run| run.end);
        match self.runs.last_mut() {
            Some(last) if same_bytes(&last.buffer, &buffer) => {}
            // No record lies in the last buffer: it is not needed.
            Some(last) if last.end == previous_end => last.buffer = buffer,
            _ => self.runs.push(Run { buffer, end }),
        }
    }

    /// Adds a record whose key and value lie at those positions of the buffer started last
    /// ([`Self::start_buffer`]); `key` `None` for a record without a key.
    pub(super) fn push(
        &mut self,
        offset: i64,
        timestamp: i64,
        key: Option<Range<usize>>,
        value: Range<usize>,
    ) -> Result<(), SpanOutsideBuffer> {
        let run = self.runs.last_mut().ok_or(SpanOutsideBuffer)?;
        let (key_start, key_len) = match key {
            Some(key) => span_within(&run.buffer, key)?,
            None => (0, NO_KEY),
        };
        let (value_start, value_len) = span_within(&run.buffer, value)?;
        self.entries.push(Entry { offset, timestamp, key_start, key_len, value_start, value_len });
        run.end = self.entries.len();
        Ok(())
    }

    /// True when every record was taken (or none added).
    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The memory the list itself takes (its entries and buffer handles, as allocated), apart
    /// from the buffers.
    pub(super) fn list_bytes(&self) -> usize {
        self.entries.capacity() * size_of::<Entry>() + self.runs.capacity() * size_of::<Run>()
    }

    /// What the records not taken yet amount to, for the metrics.
    pub(super) fn received(&self) -> ReceivedChunk {
        let remaining = self.entries.get(self.next..).unwrap_or_default();
        let key_len = |e: &Entry| if e.key_len == NO_KEY { 0 } else { e.key_len as usize };
        ReceivedChunk {
            records: remaining.len(),
            bytes: remaining.iter().map(|e| key_len(e) + e.value_len as usize).sum(),
            newest_timestamp: remaining.iter().map(|e| e.timestamp).max().filter(|t| *t >= 0),
        }
    }
}

/// A buffered record, borrowed from the list that holds it: what a reader that copies records
/// out (a language binding packing them into its own buffer) needs, without the two buffer
/// handles a [`ConsumerRecord`] takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordRef<'a> {
    /// Partition.
    pub partition: u32,
    /// Offset within the partition.
    pub offset: i64,
    /// Milliseconds since the epoch when the producer created the record, or -1.
    pub timestamp: i64,
    /// Key, if any.
    pub key: Option<&'a [u8]>,
    /// Value.
    pub value: &'a [u8],
}

impl CompactRecords {
    /// Hands records, oldest first, to `visit` while it takes them (returns true) and at most
    /// `max` of them; a record `visit` refuses stays, to be taken next. Returns the offset of
    /// the last record taken, if any. The buffers and the list go with the last record, as
    /// with [`Iterator::next`].
    pub(super) fn take_borrowed(&mut self, max: usize, visit: &mut dyn FnMut(RecordRef<'_>) -> bool) -> Option<i64> {
        let partition = self.partition;
        let mut last = None;
        for _ in 0..max {
            let Some((entry, buffer)) = self.peek() else { break };
            if !visit(entry.borrowed(partition, buffer)) {
                break;
            }
            last = Some(entry.offset);
            self.advance();
        }
        last
    }

    /// The entry taken next and the buffer its spans lie in.
    fn peek(&mut self) -> Option<(Entry, &Bytes)> {
        let entry = *self.entries.get(self.next)?;
        while self.runs.get(self.next_run).is_some_and(|run| run.end <= self.next) {
            self.next_run += 1;
        }
        Some((entry, &self.runs.get(self.next_run)?.buffer))
    }

    /// Moves past the entry taken; after the last one, the buffers and the list go, as the
    /// stream gives their room in its budget back.
    fn advance(&mut self) {
        self.next += 1;
        if self.next == self.entries.len() {
            *self = Self { partition: self.partition, ..Self::default() };
        }
    }
}

impl Iterator for CompactRecords {
    type Item = ConsumerRecord;

    fn next(&mut self) -> Option<ConsumerRecord> {
        let partition = self.partition;
        let (entry, buffer) = self.peek()?;
        let borrowed = entry.borrowed(partition, buffer);
        let record = ConsumerRecord {
            partition,
            offset: entry.offset,
            timestamp: entry.timestamp,
            key: borrowed.key.map(|key| buffer.slice_ref(key)),
            value: buffer.slice_ref(borrowed.value),
        };
        self.advance();
        Some(record)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.entries.len() - self.next;
        (left, Some(left))
    }
}

impl ExactSizeIterator for CompactRecords {}

/// True when `a` and `b` are the same bytes of the same buffer.
fn same_bytes(a: &Bytes, b: &Bytes) -> bool {
    a.as_ptr() == b.as_ptr() && a.len() == b.len()
}

/// `span` as (start, length) in `buffer`, when it lies within it.
fn span_within(buffer: &Bytes, span: Range<usize>) -> Result<(u32, u32), SpanOutsideBuffer> {
    if span.start > span.end || span.end > buffer.len() {
        return Err(SpanOutsideBuffer);
    }
    let start = u32::try_from(span.start).map_err(|_| SpanOutsideBuffer)?;
    // NO_KEY stays distinct from every length.
    let len = u32::try_from(span.end - span.start).ok().filter(|len| *len != NO_KEY).ok_or(SpanOutsideBuffer)?;
    Ok((start, len))
}

/// Where `part` starts in `buffer`, when it lies within it. A record set is parsed by slicing
/// (see [`fluvio_wire::record::RecordSet::parse`]), so the records area of an uncompressed
/// batch lies in the push's buffer, and its records can share that buffer's run.
pub(super) fn position_in(buffer: &Bytes, part: &[u8]) -> Option<usize> {
    // Addresses compared, never dereferenced.
    let start = (part.as_ptr() as usize).checked_sub(buffer.as_ptr() as usize)?;
    (start.checked_add(part.len())? <= buffer.len()).then_some(start)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_is_at_most_40_bytes() {
        assert!(size_of::<Entry>() <= 40, "{} bytes", size_of::<Entry>());
        assert_eq!(size_of::<Entry>(), 32);
    }

    /// Records lent out where they lie: up to `max`, stopping at the first one refused (taken
    /// next), across buffers, with the list let go after the last.
    #[test]
    fn borrowed_records_are_taken_until_one_is_refused() {
        let push = Bytes::from_static(b"key1value1value2");
        let mut records = CompactRecords::with_capacity(7, 4);
        records.start_buffer(push.clone());
        records.push(10, 1000, Some(0..4), 4..10).unwrap();
        records.push(11, 1001, Some(10..10), 10..16).unwrap();
        records.start_buffer(Bytes::from_static(b"kvalue3"));
        records.push(12, -1, None, 1..7).unwrap();
        records.start_buffer(push);
        records.push(13, 1003, Some(0..1), 16..16).unwrap();

        let mut seen = Vec::new();
        let mut copy = |record: RecordRef<'_>| {
            seen.push((
                record.partition,
                record.offset,
                record.timestamp,
                record.key.map(<[u8]>::to_vec),
                record.value.to_vec(),
            ));
            true
        };
        assert_eq!(records.take_borrowed(1, &mut copy), Some(10), "at most `max`");
        assert_eq!(records.len(), 3);
        let mut refuse_offset_13 = |record: RecordRef<'_>| record.offset != 13 && copy(record);
        assert_eq!(records.take_borrowed(usize::MAX, &mut refuse_offset_13), Some(12));
        assert_eq!(records.len(), 1, "the refused record stays");
        assert_eq!(records.take_borrowed(usize::MAX, &mut |_| false), None);
        assert_eq!(records.take_borrowed(usize::MAX, &mut copy), Some(13));
        assert!(records.is_empty());
        assert!(records.runs.is_empty() && records.entries.capacity() == 0, "let go with the last record");
        assert_eq!(records.take_borrowed(usize::MAX, &mut copy), None);
        assert_eq!(
            seen,
            vec![
                (7, 10, 1000, Some(b"key1".to_vec()), b"value1".to_vec()),
                (7, 11, 1001, Some(Vec::new()), b"value2".to_vec()),
                (7, 12, -1, None, b"value3".to_vec()),
                (7, 13, 1003, Some(b"k".to_vec()), Vec::new()),
            ]
        );
    }

    #[test]
    fn records_are_built_from_their_spans_in_each_buffer() {
        let push = Bytes::from_static(b"key1value1value2");
        let decompressed = Bytes::from_static(b"kvalue3");
        let mut records = CompactRecords::with_capacity(7, 4);
        records.start_buffer(push.clone());
        records.push(10, 1000, Some(0..4), 4..10).unwrap();
        // An empty key, not an absent one.
        records.push(11, 1001, Some(10..10), 10..16).unwrap();
        records.start_buffer(decompressed);
        records.push(12, -1, None, 1..7).unwrap();
        // The push's buffer again, with an empty value.
        records.start_buffer(push);
        records.push(13, 1003, Some(0..1), 16..16).unwrap();
        assert_eq!(records.runs.len(), 3);
        let received = ReceivedChunk { records: 4, bytes: 4 + 6 + 6 + 6 + 1, newest_timestamp: Some(1003) };
        assert_eq!(records.received(), received);
        assert!(records.list_bytes() >= 4 * size_of::<Entry>() + 3 * size_of::<Run>());

        let record = |offset, timestamp, key: Option<&'static [u8]>, value: &'static [u8]| ConsumerRecord {
            partition: 7,
            offset,
            timestamp,
            key: key.map(Bytes::from_static),
            value: Bytes::from_static(value),
        };
        assert_eq!(records.len(), 4);
        assert_eq!(records.next(), Some(record(10, 1000, Some(b"key1"), b"value1")));
        let empty_key = records.next().unwrap();
        assert_eq!(empty_key, record(11, 1001, Some(b""), b"value2"));
        assert!(empty_key.key.is_some());
        assert_eq!(records.next(), Some(record(12, -1, None, b"value3")));
        assert_eq!(records.len(), 1);
        assert_eq!(records.next(), Some(record(13, 1003, Some(b"k"), b"")));
        // The buffers are let go of with the last record.
        assert!(records.runs.is_empty() && records.entries.capacity() == 0);
        assert_eq!(records.next(), None);
        assert_eq!(records.len(), 0);
    }

    #[test]
    fn spans_outside_their_buffer_are_refused() {
        let mut records = CompactRecords::with_capacity(0, 1);
        assert_eq!(records.push(0, 0, None, 0..0), Err(SpanOutsideBuffer), "no buffer started");
        records.start_buffer(Bytes::from_static(b"abc"));
        assert_eq!(records.push(0, 0, None, 2..4), Err(SpanOutsideBuffer));
        let reversed = std::ops::Range { start: 3, end: 2 };
        assert_eq!(records.push(0, 0, Some(reversed), 0..1), Err(SpanOutsideBuffer));
        assert_eq!(records.push(0, 0, Some(3..3), 0..3), Ok(()));
        assert_eq!(records.len(), 1);
    }

    #[test]
    fn a_buffer_started_before_any_record_is_replaced() {
        let mut records = CompactRecords::with_capacity(0, 1);
        records.start_buffer(Bytes::from_static(b"unused"));
        records.start_buffer(Bytes::from_static(b"used"));
        records.push(0, 0, None, 0..4).unwrap();
        assert_eq!(records.runs.len(), 1);
        assert_eq!(records.next().map(|r| r.value), Some(Bytes::from_static(b"used")));
    }

    #[test]
    fn a_slice_is_found_in_its_buffer_only() {
        let buffer = Bytes::from(vec![1u8; 100]);
        assert_eq!(position_in(&buffer, &buffer.slice(10..20)), Some(10));
        assert_eq!(position_in(&buffer, &buffer[..]), Some(0));
        assert_eq!(position_in(&buffer.slice(20..), &buffer.slice(10..30)), None);
        assert_eq!(position_in(&buffer.slice(..20), &buffer.slice(10..30)), None);
        assert_eq!(position_in(&buffer, &Bytes::from(vec![1u8; 10])), None);
    }
}
