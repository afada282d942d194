//! Records, record batches and record sets (§3 of the protocol notes).
//!
//! A [`RecordSet`] keeps its encoded bytes as its canonical form: decoding one only slices the
//! input, a server can send bytes read from its log without re-encoding them, and batches are
//! parsed on demand. Parsing is lossless about a cut tail, so a server can refuse a partial
//! batch while a client can still use the records that arrived whole.

use std::ops::Range;

use bytes::{Buf, BufMut, Bytes, BytesMut};

use crate::codec::{
    Decoder, Encoder, Version, decode_count, encode_count, ensure_remaining, get_varint, get_varint_len, put_varint,
    take_bytes, varint_len,
};
use crate::compression::Compression;
use crate::error::{DecodeError, DecodeErrorKind, EncodeError};

/// Bytes of `base_offset` + `batch_len`.
pub const BATCH_PREAMBLE_LEN: usize = 12;
/// Bytes of the fixed batch header after `batch_len`.
pub const BATCH_HEADER_LEN: usize = 45;
/// Preamble + fixed header: the records area of a batch without schema id starts here.
pub const BATCH_FILE_HEADER_LEN: usize = BATCH_PREAMBLE_LEN + BATCH_HEADER_LEN;
/// Position of `attributes` in a batch: the CRC covers everything from here to the end.
pub const BATCH_CRC_START: usize = 21;
/// Position of the CRC in a batch.
pub const BATCH_CRC_POS: usize = 17;
/// Position of `last_offset_delta` in a batch.
pub const BATCH_LAST_OFFSET_DELTA_POS: usize = 23;
/// Attribute bit: a u32 schema id follows the header.
pub const ATTR_SCHEMA_PRESENT: i16 = 0x10;
/// The only batch format version.
pub const BATCH_MAGIC: i8 = 2;
/// Timestamp meaning "none".
pub const NO_TIMESTAMP: i64 = -1;
/// Smallest possible encoded record (every field one byte).
pub const MIN_RECORD_LEN: usize = 7;
/// Batches of one idempotent producer in one partition that a deduplicating leader
/// (`fluvio-local`) remembers with their offsets, and so the most such a producer
/// (`fluvio-engine`) keeps unacknowledged: a retry of any of them is answered with its original
/// offsets. Kafka's rules with a window of its own size; not part of Fluvio's protocol (a
/// Fluvio SPU does not deduplicate).
pub const DEDUP_WINDOW: usize = 64;

/// Bytes with a varint length prefix (a record key or value on the wire).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct VarBytes(pub Bytes);

impl Encoder for VarBytes {
    fn encode(&self, dst: &mut BytesMut, _version: Version) -> Result<(), EncodeError> {
        if self.0.len() > i32::MAX as usize {
            return Err(EncodeError::OutOfRange("record key or value longer than 2^31-1 bytes"));
        }
        put_varint(dst, self.0.len() as i64);
        dst.put_slice(&self.0);
        Ok(())
    }
}

impl Decoder for VarBytes {
    fn decode(src: &mut Bytes, _version: Version) -> Result<Self, DecodeError> {
        let len = get_varint_len(src)?;
        take_bytes(src, len).map(VarBytes)
    }
}

/// A record's fields by reference: what producers encode without first copying keys and
/// values into owned buffers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordRef<'a> {
    /// Always 0.
    pub attributes: i8,
    /// Milliseconds after the batch's `first_timestamp`.
    pub timestamp_delta: i64,
    /// Index within the batch.
    pub offset_delta: i64,
    /// Key; `None` is a null key.
    pub key: Option<&'a [u8]>,
    /// Value.
    pub value: &'a [u8],
    /// Header count (Fluvio writes 0).
    pub headers: i64,
}

impl<'a> RecordRef<'a> {
    /// A record at position `offset_delta` of its batch.
    pub fn new(key: Option<&'a [u8]>, value: &'a [u8], offset_delta: i64, timestamp_delta: i64) -> Self {
        Self { attributes: 0, timestamp_delta, offset_delta, key, value, headers: 0 }
    }

    fn body_len(&self) -> usize {
        let key_len = match self.key {
            None => 1,
            Some(key) => 1 + varint_len(key.len() as i64) + key.len(),
        };
        1 + varint_len(self.timestamp_delta)
            + varint_len(self.offset_delta)
            + key_len
            + varint_len(self.value.len() as i64)
            + self.value.len()
            + varint_len(self.headers)
    }

    /// Total encoded size, including the length prefix.
    pub fn encoded_len(&self) -> usize {
        let body = self.body_len();
        varint_len(body as i64) + body
    }

    /// Appends the encoded record.
    pub fn encode_to(&self, dst: &mut BytesMut) -> Result<(), EncodeError> {
        let body = self.body_len();
        if body > i32::MAX as usize {
            return Err(EncodeError::OutOfRange("record longer than 2^31-1 bytes"));
        }
        dst.reserve(body + 5);
        put_varint(dst, body as i64);
        dst.put_i8(self.attributes);
        put_varint(dst, self.timestamp_delta);
        put_varint(dst, self.offset_delta);
        match self.key {
            None => dst.put_u8(0),
            Some(key) => {
                dst.put_u8(1);
                put_varint(dst, key.len() as i64);
                dst.put_slice(key);
            }
        }
        put_varint(dst, self.value.len() as i64);
        dst.put_slice(self.value);
        put_varint(dst, self.headers);
        Ok(())
    }
}

/// One record. Fluvio records have no headers; `headers` is the count field, always 0.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Record {
    /// Always 0.
    pub attributes: i8,
    /// Milliseconds after the batch's `first_timestamp`.
    pub timestamp_delta: i64,
    /// Index within the batch.
    pub offset_delta: i64,
    /// Key; `None` is a null key (distinct from an empty key).
    pub key: Option<Bytes>,
    /// Value.
    pub value: Bytes,
    /// Header count (Fluvio writes 0).
    pub headers: i64,
}

impl Record {
    /// A record with the given key and value at position `offset_delta` of its batch.
    pub fn new(key: Option<Bytes>, value: Bytes, offset_delta: i64, timestamp_delta: i64) -> Self {
        Self { attributes: 0, timestamp_delta, offset_delta, key, value, headers: 0 }
    }

    /// The record's fields borrowed, for encoding.
    pub fn as_ref(&self) -> RecordRef<'_> {
        RecordRef {
            attributes: self.attributes,
            timestamp_delta: self.timestamp_delta,
            offset_delta: self.offset_delta,
            key: self.key.as_deref(),
            value: &self.value,
            headers: self.headers,
        }
    }

    /// Total encoded size, including the length prefix.
    pub fn encoded_len(&self) -> usize {
        self.as_ref().encoded_len()
    }

    /// Appends the encoded record.
    pub fn encode_to(&self, dst: &mut BytesMut) -> Result<(), EncodeError> {
        self.as_ref().encode_to(dst)
    }

    /// Reads one record; its fields must fill its length prefix exactly.
    pub fn decode_from(src: &mut Bytes) -> Result<Self, DecodeError> {
        let len = get_varint_len(src)?;
        let mut body = src.split_to(len);
        let record = Self::decode_body(&mut body)?;
        if body.has_remaining() {
            return Err(DecodeError::new(DecodeErrorKind::TrailingBytes(body.remaining())).within("Record"));
        }
        Ok(record)
    }

    fn decode_body(body: &mut Bytes) -> Result<Self, DecodeError> {
        ensure_remaining(body, 1)?;
        let attributes = body.get_i8();
        let timestamp_delta = get_varint(body)?;
        let offset_delta = get_varint(body)?;
        let key = if bool::decode(body, 0).map_err(|e| e.within("Record.key"))? {
            Some(VarBytes::decode(body, 0).map_err(|e| e.within("Record.key"))?.0)
        } else {
            None
        };
        let value = VarBytes::decode(body, 0).map_err(|e| e.within("Record.value"))?.0;
        let headers = get_varint(body)?;
        Ok(Self { attributes, timestamp_delta, offset_delta, key, value, headers })
    }
}

/// The fixed header of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchHeader {
    /// Offset of the first record (assigned by the server).
    pub base_offset: i64,
    /// Bytes after this field, as read from the wire (recomputed when encoding).
    pub batch_len: i32,
    /// Always -1 from the official producer.
    pub partition_leader_epoch: i32,
    /// Always 2.
    pub magic: i8,
    /// CRC-32C as read from the wire (recomputed when encoding).
    pub crc: u32,
    /// Compression bits and the schema flag.
    pub attributes: i16,
    /// Record count - 1.
    pub last_offset_delta: i32,
    /// Milliseconds since the epoch when the producer created the batch, or -1.
    pub first_timestamp: i64,
    /// `first_timestamp` + the last record's delta.
    pub max_time_stamp: i64,
    /// Always -1.
    pub producer_id: i64,
    /// Always -1.
    pub producer_epoch: i16,
    /// Always -1.
    pub first_sequence: i32,
}

impl Default for BatchHeader {
    fn default() -> Self {
        Self {
            base_offset: 0,
            batch_len: 0,
            partition_leader_epoch: -1,
            magic: BATCH_MAGIC,
            crc: 0,
            attributes: 0,
            last_offset_delta: -1,
            first_timestamp: NO_TIMESTAMP,
            max_time_stamp: NO_TIMESTAMP,
            producer_id: -1,
            producer_epoch: -1,
            first_sequence: -1,
        }
    }
}

impl BatchHeader {
    /// Parses the 57-byte preamble + header at the start of `buf` (no bounds beyond that).
    ///
    /// When `buf` holds less than a header, the fields it does hold are checked first, so
    /// that a header cut short is an incomplete input ([`DecodeError::is_incomplete`]) only if
    /// what arrived of it can start a batch: bytes that cannot are invalid at once.
    pub fn parse(buf: &[u8]) -> Result<Self, DecodeError> {
        check_header_prefix(buf)?;
        if buf.len() < BATCH_FILE_HEADER_LEN {
            return Err(DecodeError::eof(BATCH_FILE_HEADER_LEN, buf.len()));
        }
        let mut b = &buf[..BATCH_FILE_HEADER_LEN];
        let header = Self {
            base_offset: b.get_i64(),
            batch_len: b.get_i32(),
            partition_leader_epoch: b.get_i32(),
            magic: b.get_i8(),
            crc: b.get_u32(),
            attributes: b.get_i16(),
            last_offset_delta: b.get_i32(),
            first_timestamp: b.get_i64(),
            max_time_stamp: b.get_i64(),
            producer_id: b.get_i64(),
            producer_epoch: b.get_i16(),
            first_sequence: b.get_i32(),
        };
        Ok(header)
    }

    /// Total size of the batch on the wire (preamble included).
    pub fn total_len(&self) -> usize {
        BATCH_PREAMBLE_LEN + self.batch_len.max(0) as usize
    }

    /// True if a u32 schema id follows the header.
    pub fn has_schema_id(&self) -> bool {
        self.attributes & ATTR_SCHEMA_PRESENT != 0
    }

    /// The compression codec, if the attribute bits name a known one.
    pub fn compression(&self) -> Option<Compression> {
        Compression::from_attributes(self.attributes)
    }

    /// Number of records the header claims.
    pub fn record_count(&self) -> i64 {
        i64::from(self.last_offset_delta) + 1
    }

    /// Offset of the last record (saturating: both terms come from the wire).
    pub fn last_offset(&self) -> i64 {
        self.base_offset.saturating_add(i64::from(self.last_offset_delta))
    }

    /// Offset after the last record (saturating).
    pub fn next_offset(&self) -> i64 {
        self.last_offset().saturating_add(1)
    }

    /// Consumer-visible timestamp of a record with `timestamp_delta`, or [`NO_TIMESTAMP`]
    /// (saturating: both terms come from the wire).
    pub fn record_timestamp(&self, timestamp_delta: i64) -> i64 {
        if self.first_timestamp > 0 { self.first_timestamp.saturating_add(timestamp_delta) } else { NO_TIMESTAMP }
    }
}

/// Position of `magic` in a batch.
const BATCH_MAGIC_POS: usize = 16;

/// Checks the header fields that lie in `buf`, which may hold only the start of a header:
/// `magic` once its byte is there, `batch_len` once the preamble is (against the smallest
/// valid length, which grows by the schema id once the attributes say there is one).
fn check_header_prefix(buf: &[u8]) -> Result<(), DecodeError> {
    if let Some(&magic) = buf.get(BATCH_MAGIC_POS)
        && magic as i8 != BATCH_MAGIC
    {
        return Err(DecodeError::invalid("record batch magic is not 2"));
    }
    if let Some(mut len) = buf.get(8..BATCH_PREAMBLE_LEN) {
        let batch_len = len.get_i32();
        let schema =
            buf.get(BATCH_CRC_START..BATCH_CRC_START + 2).is_some_and(|mut a| a.get_i16() & ATTR_SCHEMA_PRESENT != 0);
        let min_len = BATCH_HEADER_LEN as i32 + if schema { 4 } else { 0 };
        if batch_len < min_len {
            return Err(DecodeError::new(DecodeErrorKind::InvalidLength(batch_len as i64)).within("batch_len"));
        }
    }
    Ok(())
}

/// A batch whose records area is kept as on the wire (possibly compressed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawBatch {
    /// The header. `batch_len` and `crc` are recomputed when encoding.
    pub header: BatchHeader,
    /// Present when the schema attribute bit is set.
    pub schema_id: Option<u32>,
    /// The records area: `u32 count ++ records`, compressed as a whole when compression is set.
    pub records: Bytes,
}

impl RawBatch {
    /// Builds a batch from records: encodes `u32 count ++ records` and compresses it.
    /// Record `offset_delta`s must be 0..n-1 (they are written as given).
    pub fn from_records(
        records: &[Record],
        compression: Compression,
        first_timestamp: i64,
    ) -> Result<Self, EncodeError> {
        let mut area = BytesMut::with_capacity(4 + records.iter().map(Record::encoded_len).sum::<usize>());
        encode_count(records.len(), &mut area)?;
        for record in records {
            record.encode_to(&mut area)?;
        }
        Self::from_records_area(
            area.freeze(),
            records.len(),
            records.last().map_or(0, |r| r.timestamp_delta),
            compression,
            first_timestamp,
        )
    }

    /// Builds a batch from an already-encoded uncompressed records area holding `count` records.
    pub fn from_records_area(
        area: Bytes,
        count: usize,
        last_timestamp_delta: i64,
        compression: Compression,
        first_timestamp: i64,
    ) -> Result<Self, EncodeError> {
        if count == 0 || count > i32::MAX as usize {
            return Err(EncodeError::OutOfRange("a batch holds between 1 and 2^31-1 records"));
        }
        let records = match compression {
            Compression::None => area,
            other => other.compress(&area)?,
        };
        let header = BatchHeader {
            attributes: compression.attribute_bits(),
            last_offset_delta: (count - 1) as i32,
            first_timestamp,
            max_time_stamp: if first_timestamp == NO_TIMESTAMP {
                NO_TIMESTAMP
            } else {
                first_timestamp + last_timestamp_delta
            },
            ..BatchHeader::default()
        };
        Ok(Self { header, schema_id: None, records })
    }

    /// Encoded size of the whole batch.
    pub fn encoded_len(&self) -> usize {
        BATCH_FILE_HEADER_LEN + if self.schema_id.is_some() { 4 } else { 0 } + self.records.len()
    }

    /// The compression codec, or an error for unknown attribute bits.
    pub fn compression(&self) -> Result<Compression, DecodeError> {
        self.header.compression().ok_or_else(|| DecodeError::unknown_tag("Compression", self.header.attributes & 7))
    }

    /// The CRC-32C the batch should carry (over attributes..end).
    pub fn compute_crc(&self) -> u32 {
        let mut head = BytesMut::with_capacity(BATCH_FILE_HEADER_LEN - BATCH_CRC_START + 4);
        self.put_crc_covered_header(&mut head);
        let crc = crc32c::crc32c(&head);
        crc32c::crc32c_append(crc, &self.records)
    }

    fn attributes(&self) -> i16 {
        if self.schema_id.is_some() {
            self.header.attributes | ATTR_SCHEMA_PRESENT
        } else {
            self.header.attributes & !ATTR_SCHEMA_PRESENT
        }
    }

    fn put_crc_covered_header(&self, dst: &mut BytesMut) {
        let h = &self.header;
        dst.put_i16(self.attributes());
        dst.put_i32(h.last_offset_delta);
        dst.put_i64(h.first_timestamp);
        dst.put_i64(h.max_time_stamp);
        dst.put_i64(h.producer_id);
        dst.put_i16(h.producer_epoch);
        dst.put_i32(h.first_sequence);
        if let Some(schema_id) = self.schema_id {
            dst.put_u32(schema_id);
        }
    }

    /// Appends the encoded batch, with `batch_len` and the CRC computed from the content.
    pub fn encode_to(&self, dst: &mut BytesMut) -> Result<(), EncodeError> {
        dst.reserve(self.encoded_len());
        let crc_pos = self.put_head(dst)?;
        dst.put_slice(&self.records);
        let crc = crc32c::crc32c(&dst[crc_pos + 4..]);
        dst[crc_pos..crc_pos + 4].copy_from_slice(&crc.to_be_bytes());
        Ok(())
    }

    /// Appends everything before the records, with a zero CRC; returns where the CRC goes (it
    /// covers what follows it, records included).
    fn put_head(&self, dst: &mut BytesMut) -> Result<usize, EncodeError> {
        let batch_len = self.encoded_len() - BATCH_PREAMBLE_LEN;
        if batch_len > i32::MAX as usize {
            return Err(EncodeError::OutOfRange("record batch longer than 2^31-1 bytes"));
        }
        dst.put_i64(self.header.base_offset);
        dst.put_i32(batch_len as i32);
        dst.put_i32(self.header.partition_leader_epoch);
        dst.put_i8(self.header.magic);
        let crc_pos = dst.len();
        dst.put_u32(0);
        self.put_crc_covered_header(dst);
        Ok(crc_pos)
    }

    /// Reads one complete batch from the front of `src`.
    pub fn decode_from(src: &mut Bytes) -> Result<Self, DecodeError> {
        let header = BatchHeader::parse(src)?;
        ensure_remaining(src, header.total_len())?;
        let mut batch = src.split_to(header.total_len());
        batch.advance(BATCH_FILE_HEADER_LEN);
        let schema_id = if header.has_schema_id() { Some(batch.get_u32()) } else { None };
        Ok(Self { header, schema_id, records: batch })
    }

    /// True if the CRC read from the wire matches the content.
    pub fn crc_is_valid(&self) -> bool {
        self.header.crc == self.compute_crc()
    }

    /// Decompresses (refusing more than `max_decompressed` bytes) and decodes every record.
    /// Records of an uncompressed batch are slices of the batch's buffer (no copy).
    pub fn records(&self, max_decompressed: usize) -> Result<Vec<Record>, DecodeError> {
        let mut area = self.records_area(max_decompressed)?;
        let count = decode_count(&mut area).map_err(|e| e.within("RawBatch.records"))?;
        let mut records = Vec::with_capacity(count.min(area.remaining() / MIN_RECORD_LEN + 1));
        for _ in 0..count {
            records.push(Record::decode_from(&mut area)?);
        }
        if area.has_remaining() {
            return Err(DecodeError::new(DecodeErrorKind::TrailingBytes(area.remaining())).within("RawBatch.records"));
        }
        Ok(records)
    }

    /// The uncompressed records area (`u32 count ++ records`) that [`Self::records`] decodes:
    /// the batch's own bytes when it is not compressed (a slice, no copy), what they
    /// decompress to otherwise; more than `max_decompressed` bytes is refused either way.
    /// [`RecordSpans`] reads its records without building them.
    pub fn records_area(&self, max_decompressed: usize) -> Result<Bytes, DecodeError> {
        match self.compression()? {
            Compression::None if self.records.len() <= max_decompressed => Ok(self.records.clone()),
            codec => codec.decompress(&self.records, max_decompressed),
        }
    }

    /// Validates a batch as a server must before storing it: known compression, a records
    /// area that holds exactly `last_offset_delta + 1` records with offset deltas 0, 1, 2, ...
    /// and nothing after them. Returns the number of records.
    ///
    /// It accepts exactly the batches whose [`Self::records`] succeed with that count and those
    /// deltas, but builds no record: it walks each record's fields in place (an uncompressed
    /// area is neither copied nor split into shared buffers). A compressed area is decompressed
    /// first, within `max_decompressed`: its records cannot be reached otherwise.
    pub fn validate(&self, max_decompressed: usize) -> Result<usize, DecodeError> {
        if self.header.last_offset_delta < 0 {
            return Err(DecodeError::invalid("empty record batch (last_offset_delta < 0)"));
        }
        let decompressed;
        let area: &[u8] = match self.compression()? {
            Compression::None if self.records.len() > max_decompressed => {
                return Err(DecodeErrorKind::DecompressedTooLarge { limit: max_decompressed }.into());
            }
            Compression::None => &self.records,
            codec => {
                decompressed = codec.decompress(&self.records, max_decompressed)?;
                &decompressed
            }
        };
        check_records_area(area, self.header.record_count())
    }
}

/// Checks that `area` (`u32 count ++ records`, uncompressed) holds exactly `expected` records
/// that [`Record::decode_from`] would accept, with offset deltas 0, 1, 2, ..., and nothing
/// after them. Returns the count.
fn check_records_area(area: &[u8], expected: i64) -> Result<usize, DecodeError> {
    let spans = RecordSpans::new(area)?;
    let count = spans.records_left();
    if count as i64 != expected {
        return Err(DecodeError::invalid("record count does not match last_offset_delta"));
    }
    for (offset_delta, span) in spans.enumerate() {
        if span?.offset_delta != offset_delta as i64 {
            return Err(DecodeError::invalid("record offset deltas are not 0, 1, 2, ..."));
        }
    }
    Ok(count)
}

/// Where one record's fields lie in the uncompressed records area it was read from
/// ([`RawBatch::records_area`]), as positions from the start of the area: what a reader
/// holding many records of one area can keep instead of [`Record`]s, which each hold two
/// handles on the area's buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordSpan {
    /// Milliseconds after the batch's `first_timestamp`.
    pub timestamp_delta: i64,
    /// Index within the batch, as the record states it.
    pub offset_delta: i64,
    /// Where the key lies; `None` is a null key (distinct from an empty key).
    pub key: Option<Range<usize>>,
    /// Where the value lies.
    pub value: Range<usize>,
}

/// Reads the records of an uncompressed records area (`u32 count ++ records`, as
/// [`RawBatch::records_area`] gives it) in order, as [`RecordSpan`]s. It accepts exactly the
/// areas [`RawBatch::records`] accepts, without building a record or touching the area's
/// buffer. An error is the last item: a record that does not decode, or bytes left after the
/// last record.
#[derive(Debug, Clone)]
pub struct RecordSpans<'a> {
    area: &'a [u8],
    /// What follows the records read so far.
    rest: &'a [u8],
    records_left: usize,
}

impl<'a> RecordSpans<'a> {
    /// Reads the count at the start of `area`: a count of zero or less means no record, as in
    /// [`decode_count`]; one larger than the bytes that follow is invalid.
    pub fn new(area: &'a [u8]) -> Result<Self, DecodeError> {
        let mut rest = area;
        if rest.len() < 4 {
            return Err(DecodeError::eof(4, rest.len()).within("RawBatch.records"));
        }
        let count = usize::try_from(rest.get_i32()).unwrap_or(0);
        if count > rest.len() {
            return Err(DecodeError::new(DecodeErrorKind::InvalidLength(count as i64)).within("RawBatch.records"));
        }
        Ok(Self { area, rest, records_left: count })
    }

    /// How many records the area still claims.
    pub fn records_left(&self) -> usize {
        self.records_left
    }

    /// Reads the record at the front of `self.rest`, as [`Record::decode_from`] does.
    fn read_record(&mut self) -> Result<RecordSpan, DecodeError> {
        let len = get_varint_len(&mut self.rest)?;
        let (mut body, rest) = self.rest.split_at(len);
        self.rest = rest;
        let body_end = self.area.len() - rest.len();
        if body.is_empty() {
            return Err(DecodeError::eof(1, 0));
        }
        body.advance(1); // attributes
        let timestamp_delta = get_varint(&mut body)?;
        let offset_delta = get_varint(&mut body)?;
        let has_key = match body.first() {
            None => return Err(DecodeError::eof(1, 0).within("Record.key")),
            Some(0) => false,
            Some(1) => true,
            Some(&other) => return Err(DecodeError::new(DecodeErrorKind::InvalidBool(other)).within("Record.key")),
        };
        body.advance(1);
        // A length-prefixed field at the front of `body`, as positions in the area.
        let take_field = |body: &mut &[u8]| -> Result<Range<usize>, DecodeError> {
            let len = get_varint_len(body)?;
            let start = body_end - body.len();
            body.advance(len);
            Ok(start..start + len)
        };
        let key = if has_key { Some(take_field(&mut body).map_err(|e| e.within("Record.key"))?) } else { None };
        let value = take_field(&mut body).map_err(|e| e.within("Record.value"))?;
        get_varint(&mut body)?; // header count
        if !body.is_empty() {
            return Err(DecodeError::new(DecodeErrorKind::TrailingBytes(body.len())).within("Record"));
        }
        Ok(RecordSpan { timestamp_delta, offset_delta, key, value })
    }
}

impl Iterator for RecordSpans<'_> {
    type Item = Result<RecordSpan, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.records_left == 0 {
            if self.rest.is_empty() {
                return None;
            }
            let trailing = std::mem::take(&mut self.rest).len();
            return Some(Err(DecodeError::new(DecodeErrorKind::TrailingBytes(trailing)).within("RawBatch.records")));
        }
        self.records_left -= 1;
        let span = self.read_record();
        if span.is_err() {
            // Nothing after a record that does not decode can be found.
            self.records_left = 0;
            self.rest = &[];
        }
        Some(span)
    }
}

/// A batch whose end did not arrive: its header is complete, its records area is cut.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartialBatch {
    /// The header (its `batch_len` names the full size).
    pub header: BatchHeader,
    /// The part of the records area that arrived.
    pub records_prefix: Bytes,
}

impl PartialBatch {
    /// The records that arrived whole. A compressed area cannot be decoded in part, so that
    /// case yields no record.
    pub fn complete_records(&self) -> Vec<Record> {
        if self.header.compression() != Some(Compression::None) || self.header.has_schema_id() {
            return Vec::new();
        }
        let mut area = self.records_prefix.clone();
        let Ok(count) = u32::decode(&mut area, 0) else { return Vec::new() };
        let mut records = Vec::new();
        for _ in 0..count {
            match Record::decode_from(&mut area) {
                Ok(record) => records.push(record),
                Err(_) => break,
            }
        }
        records
    }
}

/// What arrived of the batch a record set ends inside of. A Fluvio SPU cuts what it sends a
/// consumer at the fetch's `max_bytes`, wherever that falls, so a set can end in the middle of
/// a batch, even in the middle of its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CutBatch {
    /// How many of its bytes arrived.
    pub received: usize,
    /// Its base offset, once the 8 bytes holding it arrived.
    pub base_offset: Option<i64>,
    /// Its whole size on the wire (preamble included) as its `batch_len` declares it, once
    /// the 12-byte preamble arrived. Checked against the smallest valid batch, not against
    /// any largest: callers bound it before acting on it.
    pub total_len: Option<usize>,
}

impl CutBatch {
    /// What the start of a cut batch (`bytes`, shorter than the batch) tells. `None` unless
    /// what arrived can start a batch (see [`BatchHeader::parse`]).
    fn from_prefix(bytes: &[u8]) -> Option<Self> {
        check_header_prefix(bytes).ok()?;
        Some(Self {
            received: bytes.len(),
            base_offset: bytes.get(..8).map(|mut b| b.get_i64()),
            total_len: bytes.get(8..BATCH_PREAMBLE_LEN).map(|mut b| BATCH_PREAMBLE_LEN + b.get_i32().max(0) as usize),
        })
    }
}

/// The result of parsing a record set: the batches that arrived whole, then what ended it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedRecordSet {
    /// Whole batches, in order.
    pub batches: Vec<RawBatch>,
    /// A final batch whose header arrived whole but whose records area was cut.
    pub partial: Option<PartialBatch>,
    /// Bytes after the last whole batch that form no batch header (cut preamble or header,
    /// or garbage), with the error that stopped parsing (incomplete for a cut header).
    pub invalid_tail: Option<(usize, DecodeError)>,
    /// The batch the set ends inside of, when its bytes (its header, or what arrived of it)
    /// can start a batch: set with [`Self::partial`], and with an incomplete
    /// [`Self::invalid_tail`]. A tail of garbage leaves it `None`.
    pub cut: Option<CutBatch>,
}

impl ParsedRecordSet {
    /// True if the set was exactly a sequence of whole batches.
    pub fn is_complete(&self) -> bool {
        self.partial.is_none() && self.invalid_tail.is_none()
    }
}

/// Concatenated record batches with an i32 byte-length prefix.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct RecordSet {
    bytes: Bytes,
}

impl std::fmt::Debug for RecordSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RecordSet({} bytes)", self.bytes.len())
    }
}

impl RecordSet {
    /// Encodes the given batches.
    pub fn from_batches<'a>(batches: impl IntoIterator<Item = &'a RawBatch>) -> Result<Self, EncodeError> {
        let mut dst = BytesMut::new();
        for batch in batches {
            batch.encode_to(&mut dst)?;
        }
        Ok(Self { bytes: dst.freeze() })
    }

    /// Wraps bytes that already hold encoded batches (e.g. read from a log).
    pub fn from_encoded(bytes: Bytes) -> Self {
        Self { bytes }
    }

    /// The encoded batches (without the length prefix).
    pub fn as_bytes(&self) -> &Bytes {
        &self.bytes
    }

    /// Size of the encoded batches.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// True when the set holds no bytes.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Parses the batches, keeping a cut tail rather than failing on it.
    pub fn parse(&self) -> ParsedRecordSet {
        let mut parsed = ParsedRecordSet::default();
        let mut rest = self.bytes.clone();
        while rest.has_remaining() {
            let header = match BatchHeader::parse(&rest) {
                Ok(header) => header,
                Err(err) => {
                    if err.is_incomplete() {
                        parsed.cut = CutBatch::from_prefix(&rest);
                    }
                    parsed.invalid_tail = Some((rest.remaining(), err));
                    break;
                }
            };
            if rest.remaining() < header.total_len() {
                let schema = if header.has_schema_id() { 4 } else { 0 };
                let start = (BATCH_FILE_HEADER_LEN + schema).min(rest.remaining());
                parsed.cut = Some(CutBatch {
                    received: rest.remaining(),
                    base_offset: Some(header.base_offset),
                    total_len: Some(header.total_len()),
                });
                parsed.partial = Some(PartialBatch { header, records_prefix: rest.slice(start..) });
                break;
            }
            match RawBatch::decode_from(&mut rest) {
                Ok(batch) => parsed.batches.push(batch),
                Err(err) => {
                    parsed.invalid_tail = Some((rest.remaining(), err));
                    break;
                }
            }
        }
        parsed
    }

    /// The batches, failing unless the set is exactly a sequence of whole batches.
    pub fn batches(&self) -> Result<Vec<RawBatch>, DecodeError> {
        let parsed = self.parse();
        if let Some((_, err)) = parsed.invalid_tail {
            return Err(err);
        }
        if let Some(partial) = parsed.partial {
            return Err(DecodeError::eof(
                partial.header.total_len(),
                BATCH_FILE_HEADER_LEN + partial.records_prefix.len(),
            )
            .within("RecordSet"));
        }
        Ok(parsed.batches)
    }
}

/// A batch encoded for sending without copying its records: its head (everything before the
/// records, CRC included) and its records, shared with the [`RawBatch`] it was made from. Back
/// to back, the two are the bytes [`RawBatch::encode_to`] writes. A producer sends these; a
/// request that carries them goes out in pieces (see
/// [`ProducePieces`](crate::spu::ProducePieces)).
#[derive(Clone, PartialEq, Eq)]
pub struct SendableBatch {
    head: Bytes,
    records: Bytes,
}

impl std::fmt::Debug for SendableBatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SendableBatch").field("head", &self.head.len()).field("records", &self.records.len()).finish()
    }
}

impl SendableBatch {
    /// Encodes `batch`'s head and computes its CRC; the records are shared, not copied.
    pub fn new(batch: &RawBatch) -> Result<Self, EncodeError> {
        let mut head = BytesMut::with_capacity(batch.encoded_len() - batch.records.len());
        let crc_pos = batch.put_head(&mut head)?;
        let crc = crc32c::crc32c_append(crc32c::crc32c(&head[crc_pos + 4..]), &batch.records);
        head[crc_pos..crc_pos + 4].copy_from_slice(&crc.to_be_bytes());
        Ok(Self { head: head.freeze(), records: batch.records.clone() })
    }

    /// Encoded size of the whole batch.
    pub fn len(&self) -> usize {
        self.head.len() + self.records.len()
    }

    /// Never true: a batch has a head.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Everything before the records.
    pub fn head(&self) -> &Bytes {
        &self.head
    }

    /// The records (compressed when the batch is).
    pub fn records(&self) -> &Bytes {
        &self.records
    }

    /// The batch in one piece, as a record set (a copy).
    pub fn to_record_set(&self) -> RecordSet {
        let mut bytes = BytesMut::with_capacity(self.len());
        bytes.put_slice(&self.head);
        bytes.put_slice(&self.records);
        RecordSet { bytes: bytes.freeze() }
    }
}

impl Encoder for RecordSet {
    fn encode(&self, dst: &mut BytesMut, _version: Version) -> Result<(), EncodeError> {
        if self.bytes.len() > i32::MAX as usize {
            return Err(EncodeError::OutOfRange("record set longer than 2^31-1 bytes"));
        }
        dst.put_i32(self.bytes.len() as i32);
        dst.put_slice(&self.bytes);
        Ok(())
    }
}

impl Decoder for RecordSet {
    fn decode(src: &mut Bytes, version: Version) -> Result<Self, DecodeError> {
        let len = i32::decode(src, version)?;
        if len <= 0 {
            return Ok(Self::default());
        }
        Ok(Self { bytes: take_bytes(src, len as usize)? })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compression::DEFAULT_MAX_DECOMPRESSED;

    fn hex(s: &str) -> Vec<u8> {
        s.split_whitespace().map(|b| u8::from_str_radix(b, 16).unwrap()).collect()
    }

    #[test]
    fn record_vectors_from_the_protocol_notes() {
        let dog = Record::new(None, Bytes::from_static(b"dog"), 1, 0);
        let mut dst = BytesMut::new();
        dog.encode_to(&mut dst).unwrap();
        assert_eq!(&dst[..], hex("12 00 00 02 00 06 64 6f 67 00").as_slice());
        assert_eq!(dog.encoded_len(), dst.len());
        assert_eq!(Record::decode_from(&mut dst.freeze()).unwrap(), dog);

        let kv = Record::new(Some(Bytes::from_static(b"k")), Bytes::from_static(b"v1"), 0, 0);
        let mut dst = BytesMut::new();
        kv.encode_to(&mut dst).unwrap();
        assert_eq!(&dst[..], hex("14 00 00 00 01 02 6b 04 76 31 00").as_slice());
    }

    #[test]
    fn batch_vector_from_the_protocol_notes() {
        let expected = hex("00 00 00 00 00 00 00 00  00 00 00 3c  ff ff ff ff  02  32 47 00 f9  00 00  00 00 00 00
             00 00 01 6a 29 be 3e 1b  00 00 01 6a 29 be 3e 1b  ff ff ff ff ff ff ff ff  ff ff  ff ff ff ff
             00 00 00 01  14 00 00 00 00 08 74 65 73 74 00");
        let record = Record::new(None, Bytes::from_static(b"test"), 0, 0);
        let batch = RawBatch::from_records(std::slice::from_ref(&record), Compression::None, 1555478494747).unwrap();
        let mut dst = BytesMut::new();
        batch.encode_to(&mut dst).unwrap();
        assert_eq!(&dst[..], expected.as_slice());
        assert_eq!(batch.encoded_len(), 72);

        let decoded = RawBatch::decode_from(&mut dst.freeze()).unwrap();
        assert!(decoded.crc_is_valid());
        assert_eq!(decoded.header.crc, 0x324700f9);
        assert_eq!(decoded.records(DEFAULT_MAX_DECOMPRESSED).unwrap(), vec![record]);
        assert_eq!(decoded.validate(DEFAULT_MAX_DECOMPRESSED).unwrap(), 1);
    }

    fn batch_of(values: &[&'static str], compression: Compression) -> RawBatch {
        let records: Vec<Record> = values
            .iter()
            .enumerate()
            .map(|(i, v)| Record::new(None, Bytes::from_static(v.as_bytes()), i as i64, i as i64))
            .collect();
        RawBatch::from_records(&records, compression, 1_700_000_000_000).unwrap()
    }

    #[test]
    fn compressed_batches_round_trip() {
        for codec in Compression::ALL {
            let batch = batch_of(&["alpha", "beta", "gamma"], codec);
            let set = RecordSet::from_batches([&batch]).unwrap();
            let decoded = RecordSet::decode_exact(set.to_bytes(0).unwrap(), 0).unwrap().batches().unwrap();
            let values: Vec<Bytes> =
                decoded[0].records(DEFAULT_MAX_DECOMPRESSED).unwrap().into_iter().map(|r| r.value).collect();
            assert_eq!(values, ["alpha", "beta", "gamma"], "{codec}");
            assert_eq!(decoded[0].header.max_time_stamp, 1_700_000_000_002);
        }
    }

    #[test]
    fn cut_record_set_keeps_whole_records() {
        let first = batch_of(&["a"], Compression::None);
        let mut second = batch_of(&["bb", "cc", "dd"], Compression::None);
        second.header.base_offset = 1;
        let set = RecordSet::from_batches([&first, &second]).unwrap();
        // Cut in the middle of the third record of the second batch.
        let cut = RecordSet::from_encoded(set.as_bytes().slice(..set.len() - 3));
        let parsed = cut.parse();
        assert_eq!(parsed.batches.len(), 1);
        let partial = parsed.partial.expect("partial batch");
        assert_eq!(partial.header.base_offset, 1);
        let values: Vec<Bytes> = partial.complete_records().into_iter().map(|r| r.value).collect();
        assert_eq!(values, ["bb", "cc"]);
        assert!(cut.batches().unwrap_err().is_incomplete());
    }

    #[test]
    fn a_cut_batch_tells_what_arrived_of_it() {
        let first = batch_of(&["a"], Compression::None);
        let mut second = batch_of(&["bb", "cc", "dd"], Compression::Gzip);
        second.header.base_offset = 1;
        let set = RecordSet::from_batches([&first, &second]).unwrap();
        let second_len = second.encoded_len();
        let cut_at =
            |arrived: usize| RecordSet::from_encoded(set.as_bytes().slice(..first.encoded_len() + arrived)).parse();
        // Inside the preamble: nothing known yet but that it started.
        let parsed = cut_at(5);
        assert_eq!(parsed.batches.len(), 1);
        assert_eq!(parsed.cut, Some(CutBatch { received: 5, base_offset: None, total_len: None }));
        assert!(parsed.invalid_tail.as_ref().is_some_and(|(_, e)| e.is_incomplete()));
        // The preamble, not the rest of the header: its declared size is known.
        let parsed = cut_at(12);
        assert_eq!(parsed.cut, Some(CutBatch { received: 12, base_offset: Some(1), total_len: Some(second_len) }));
        assert!(parsed.partial.is_none());
        // The header and part of a compressed records area.
        let parsed = cut_at(60);
        assert_eq!(parsed.cut, Some(CutBatch { received: 60, base_offset: Some(1), total_len: Some(second_len) }));
        assert!(parsed.partial.is_some_and(|p| p.complete_records().is_empty()));
        // Whole: nothing cut.
        assert_eq!(cut_at(second_len).cut, None);
    }

    #[test]
    fn a_short_tail_that_cannot_start_a_batch_is_garbage_not_a_cut() {
        let first = batch_of(&["a"], Compression::None);
        let mut bytes = BytesMut::new();
        first.encode_to(&mut bytes).unwrap();
        let good_tail = bytes.clone();
        // A declared length below the smallest batch.
        let mut tail = BytesMut::new();
        tail.put_i64(1);
        tail.put_i32(3);
        let mut set = good_tail.clone();
        set.put_slice(&tail);
        let parsed = RecordSet::from_encoded(set.freeze()).parse();
        assert_eq!(parsed.cut, None);
        assert!(parsed.invalid_tail.as_ref().is_some_and(|(len, e)| *len == 12 && !e.is_incomplete()));
        // A wrong magic byte.
        let mut set = good_tail.clone();
        set.put_slice(&bytes[..20]);
        let at = good_tail.len() + 16;
        set[at] = 7;
        let parsed = RecordSet::from_encoded(set.freeze()).parse();
        assert_eq!(parsed.cut, None);
        assert!(parsed.invalid_tail.as_ref().is_some_and(|(_, e)| !e.is_incomplete()));
    }

    #[test]
    fn garbage_tail_is_reported() {
        let first = batch_of(&["a"], Compression::None);
        let mut bytes = BytesMut::new();
        first.encode_to(&mut bytes).unwrap();
        bytes.put_slice(&[1, 2, 3]);
        let parsed = RecordSet::from_encoded(bytes.freeze()).parse();
        assert_eq!(parsed.batches.len(), 1);
        assert_eq!(parsed.invalid_tail.as_ref().map(|t| t.0), Some(3));
    }

    #[test]
    fn header_arithmetic_saturates_on_wire_extremes() {
        let header = BatchHeader {
            base_offset: i64::MAX,
            last_offset_delta: i32::MAX,
            first_timestamp: i64::MAX,
            ..BatchHeader::default()
        };
        assert_eq!(header.last_offset(), i64::MAX);
        assert_eq!(header.next_offset(), i64::MAX);
        assert_eq!(header.record_timestamp(i64::MAX), i64::MAX);
        let header = BatchHeader { base_offset: i64::MIN, last_offset_delta: i32::MIN, first_timestamp: 1, ..header };
        assert_eq!(header.last_offset(), i64::MIN);
        assert_eq!(header.record_timestamp(i64::MIN), i64::MIN + 1);
    }

    /// What `validate` must accept: the records decode, as many as the header says, with
    /// offset deltas 0, 1, 2, ...
    fn validate_by_decoding(batch: &RawBatch, limit: usize) -> Option<usize> {
        let records = batch.records(limit).ok()?;
        let consistent = batch.header.last_offset_delta >= 0
            && records.len() as i64 == batch.header.record_count()
            && records.iter().enumerate().all(|(i, r)| r.offset_delta == i as i64);
        consistent.then_some(records.len())
    }

    #[test]
    fn validate_accepts_exactly_what_decoding_accepts() {
        let keyed: Vec<Record> = (0..4)
            .map(|i| Record::new(Some(Bytes::from_static(b"key")), Bytes::from(vec![b'v'; 130 * i]), i as i64, 7))
            .collect();
        let mut batches = vec![batch_of(&["a", "bb", "", "dddd"], Compression::None)];
        batches.push(RawBatch::from_records(&keyed, Compression::None, 1).unwrap());
        batches.push(RawBatch::from_records(&keyed, Compression::Gzip, 1).unwrap());
        let mut cases = 0;
        for original in &batches {
            assert_eq!(original.validate(DEFAULT_MAX_DECOMPRESSED).ok(), Some(4));
            // Every byte of the records area replaced by values that matter to varints,
            // options and lengths; the area cut at every length and extended.
            let area = original.records.to_vec();
            let mut variants = Vec::new();
            for at in 0..area.len() {
                for value in [0x00, 0x01, 0x02, 0x7f, 0x80, 0xff, area[at] ^ 0x01, area[at].wrapping_add(2)] {
                    let mut changed = area.clone();
                    changed[at] = value;
                    variants.push(changed);
                }
                variants.push(area[..at].to_vec());
            }
            variants.push([area.as_slice(), &[0]].concat());
            for variant in variants {
                for last_offset_delta in [3, 2, 4, -1] {
                    let mut batch = original.clone();
                    batch.records = Bytes::from(variant.clone());
                    batch.header.last_offset_delta = last_offset_delta;
                    for limit in [DEFAULT_MAX_DECOMPRESSED, 40] {
                        assert_eq!(
                            batch.validate(limit).ok(),
                            validate_by_decoding(&batch, limit),
                            "{:02x?} last_offset_delta {last_offset_delta} limit {limit}",
                            batch.records
                        );
                        cases += 1;
                    }
                }
            }
        }
        assert!(cases > 10_000, "{cases}");
    }

    /// The fields of records as [`RawBatch::records`] decodes them, and as [`RecordSpans`]
    /// locates them (`None` for an error).
    type Fields = Option<Vec<(i64, i64, Option<Bytes>, Bytes)>>;

    fn fields_by_decoding(batch: &RawBatch, limit: usize) -> Fields {
        let records = batch.records(limit).ok()?;
        Some(records.into_iter().map(|r| (r.timestamp_delta, r.offset_delta, r.key, r.value)).collect())
    }

    fn fields_by_spans(batch: &RawBatch, limit: usize) -> Fields {
        let area = batch.records_area(limit).ok()?;
        let spans = RecordSpans::new(&area).ok()?;
        let fields = spans.map(|span| {
            span.map(|s| (s.timestamp_delta, s.offset_delta, s.key.map(|k| area.slice(k)), area.slice(s.value)))
        });
        fields.collect::<Result<_, _>>().ok()
    }

    #[test]
    fn record_spans_locate_what_decoding_builds() {
        let records = vec![
            Record::new(None, Bytes::from_static(b"no key"), 0, 0),
            Record::new(Some(Bytes::new()), Bytes::from_static(b"empty key"), 1, 3),
            Record::new(Some(Bytes::from_static(b"key")), Bytes::new(), 2, 300),
            Record::new(Some(Bytes::from_static(b"k")), Bytes::from(vec![b'v'; 200]), 3, 70_000),
        ];
        for codec in [Compression::None, Compression::Gzip] {
            let batch = RawBatch::from_records(&records, codec, 1).unwrap();
            let area = batch.records_area(DEFAULT_MAX_DECOMPRESSED).unwrap();
            let spans: Vec<RecordSpan> = RecordSpans::new(&area).unwrap().map(Result::unwrap).collect();
            assert_eq!(spans[0].key, None, "{codec}");
            assert_eq!(spans[1].key.as_ref().map(|k| k.len()), Some(0), "{codec}");
            assert_eq!(area.slice(spans[3].value.clone()), records[3].value, "{codec}");
            assert_eq!(spans[3].timestamp_delta, 70_000, "{codec}");
            if codec == Compression::None {
                assert_eq!(area, batch.records, "an uncompressed area is the batch's own bytes");
            }
        }
        // Every byte of an area replaced by values that matter to varints, options and
        // lengths; the area cut at every length and extended: spans and decoding agree.
        let original = RawBatch::from_records(&records, Compression::None, 1).unwrap();
        let area = original.records.to_vec();
        let mut cases = 0;
        for at in 0..=area.len() {
            let mut variants = vec![area[..at].to_vec(), [area.as_slice(), &area[..at.min(3)]].concat()];
            if let Some(&byte) = area.get(at) {
                for value in [0x00, 0x01, 0x02, 0x7f, 0x80, 0xff, byte ^ 0x01, byte.wrapping_add(2)] {
                    let mut changed = area.clone();
                    changed[at] = value;
                    variants.push(changed);
                }
            }
            for variant in variants {
                let batch = RawBatch { records: Bytes::from(variant), ..original.clone() };
                for limit in [DEFAULT_MAX_DECOMPRESSED, 40] {
                    assert_eq!(
                        fields_by_spans(&batch, limit),
                        fields_by_decoding(&batch, limit),
                        "{:02x?}",
                        batch.records
                    );
                    cases += 1;
                }
            }
        }
        assert!(cases > 3_000, "{cases}");
    }

    #[test]
    fn validate_rejects_inconsistent_counts() {
        let mut batch = batch_of(&["a", "b"], Compression::None);
        batch.header.last_offset_delta = 5;
        assert!(batch.validate(DEFAULT_MAX_DECOMPRESSED).is_err());
        batch.header.last_offset_delta = -1;
        assert!(batch.validate(DEFAULT_MAX_DECOMPRESSED).is_err());
    }
}
