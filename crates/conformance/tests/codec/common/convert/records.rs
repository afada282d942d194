//! Records, batches and record sets.

use std::io::Cursor;

use bytes::Bytes;
use fluvio_compression::Compression as TheirCompression;
use fluvio_protocol::record::{
    Batch, BatchHeader as TheirBatchHeader, MemoryRecords, RawRecords, Record as TheirRecord, RecordData,
    RecordSet as TheirRecordSet, SchemaId,
};
use fluvio_protocol::{Decoder as _, Encoder as _};
use fluvio_wire::Compression;
use fluvio_wire::record::{BATCH_PREAMBLE_LEN, BatchHeader, RawBatch, Record, RecordSet};

use super::{ToOurs, ToTheirs};

/// The official batch type that travels in requests and responses.
pub type TheirRawBatch = Batch<RawRecords>;

impl ToTheirs for Record {
    type Theirs = TheirRecord;
    fn to_theirs(&self) -> TheirRecord {
        // The official record header has no setter for `attributes` (always 0 upstream).
        assert_eq!(self.attributes, 0, "the official Record cannot carry non-zero attributes");
        let mut record = TheirRecord::default();
        record.preamble.set_timestamp_delta(self.timestamp_delta);
        record.preamble.set_offset_delta(self.offset_delta);
        record.key = self.key.as_ref().map(|key| RecordData::from(key.to_vec()));
        record.value = RecordData::from(self.value.to_vec());
        record.headers = self.headers;
        record
    }
}

impl ToOurs for TheirRecord {
    type Ours = Record;
    fn to_ours(self) -> Record {
        // `attributes` has no getter upstream: it is the first byte of the official encoding
        // of the record header.
        let attributes = self.preamble.as_bytes(0).expect("encode record header")[0] as i8;
        Record {
            attributes,
            timestamp_delta: self.timestamp_delta(),
            offset_delta: self.offset_delta(),
            key: self.key.map(|key| Bytes::from(key.into_vec())),
            value: Bytes::from(self.value.into_vec()),
            headers: self.headers,
        }
    }
}

/// The official codec for a batch's compression bits.
pub fn their_compression(compression: Compression) -> TheirCompression {
    match compression {
        Compression::None => TheirCompression::None,
        Compression::Gzip => TheirCompression::Gzip,
        Compression::Snappy => TheirCompression::Snappy,
        Compression::Lz4 => TheirCompression::Lz4,
        Compression::Zstd => TheirCompression::Zstd,
    }
}

fn their_header(header: &BatchHeader) -> TheirBatchHeader {
    TheirBatchHeader {
        partition_leader_epoch: header.partition_leader_epoch,
        magic: header.magic,
        crc: header.crc,
        attributes: header.attributes,
        last_offset_delta: header.last_offset_delta,
        first_timestamp: header.first_timestamp,
        max_time_stamp: header.max_time_stamp,
        producer_id: header.producer_id,
        producer_epoch: header.producer_epoch,
        first_sequence: header.first_sequence,
    }
}

impl ToTheirs for RawBatch {
    type Theirs = TheirRawBatch;
    fn to_theirs(&self) -> TheirRawBatch {
        let mut batch = TheirRawBatch::default();
        batch.base_offset = self.header.base_offset;
        batch.batch_len = self.header.batch_len;
        batch.header = their_header(&self.header);
        // Like ours, the schema bit follows the presence of a schema id.
        batch.header.attributes &= !0x10;
        if let Some(schema_id) = self.schema_id {
            // `SchemaId`'s field is private: build it with the official decoder.
            let id = SchemaId::decode_from(&mut Cursor::new(schema_id.to_be_bytes()), 0).expect("schema id");
            batch.set_schema_id(id);
        }
        *batch.mut_records() = RawRecords(self.records.clone());
        batch
    }
}

impl ToOurs for TheirRawBatch {
    type Ours = RawBatch;
    fn to_ours(self) -> RawBatch {
        let h = self.header.clone();
        let schema_id = h.has_schema().then(|| {
            // `SchemaId`'s field is private: read it through the official encoder.
            let bytes = self.schema_id().as_bytes(0).expect("schema id");
            u32::from_be_bytes(bytes[..4].try_into().expect("4 bytes"))
        });
        RawBatch {
            header: BatchHeader {
                base_offset: self.base_offset,
                batch_len: self.batch_len,
                partition_leader_epoch: h.partition_leader_epoch,
                magic: h.magic,
                crc: h.crc,
                attributes: h.attributes,
                last_offset_delta: h.last_offset_delta,
                first_timestamp: h.first_timestamp,
                max_time_stamp: h.max_time_stamp,
                producer_id: h.producer_id,
                producer_epoch: h.producer_epoch,
                first_sequence: h.first_sequence,
            },
            schema_id,
            records: self.records().0.clone(),
        }
    }
}

impl ToTheirs for RecordSet {
    type Theirs = TheirRecordSet<RawRecords>;
    fn to_theirs(&self) -> Self::Theirs {
        let batches = self.batches().expect("our record set holds whole batches");
        TheirRecordSet { batches: batches.to_theirs() }
    }
}

impl ToOurs for TheirRecordSet<RawRecords> {
    type Ours = RecordSet;
    fn to_ours(self) -> RecordSet {
        RecordSet::from_batches(&self.batches.to_ours()).expect("encode record set")
    }
}

/// `batch` with `batch_len` and `crc` set to what its encoding carries, i.e. what a decoder
/// reads back. (Encoding recomputes both, so a freshly built batch holds placeholders.)
pub fn sealed(mut batch: RawBatch) -> RawBatch {
    batch.header.batch_len = (batch.encoded_len() - BATCH_PREAMBLE_LEN) as i32;
    if batch.schema_id.is_some() {
        batch.header.attributes |= 0x10;
    }
    batch.header.crc = batch.compute_crc();
    batch
}

/// Builds a batch the way the official producer does: records in memory, header fields set,
/// then converted to raw records, which compresses them with the official codec.
pub fn their_batch_from_records(records: &[Record], compression: Compression, first_timestamp: i64) -> TheirRawBatch {
    let mut batch = Batch::<MemoryRecords>::default();
    *batch.mut_records() = records.to_vec().to_theirs();
    batch.header.last_offset_delta = records.len() as i32 - 1;
    batch.header.set_compression(their_compression(compression));
    batch.header.first_timestamp = first_timestamp;
    batch.header.max_time_stamp = match (first_timestamp, records.last()) {
        (-1, _) | (_, None) => -1,
        (first, Some(last)) => first + last.timestamp_delta,
    };
    TheirRawBatch::try_from(batch).expect("official compression")
}
