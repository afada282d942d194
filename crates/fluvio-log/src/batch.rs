//! Checks on stored batches and buffered positional reading of segment files.
//!
//! The codec ([`fluvio_wire::record`]) knows the layout; this module adds what a log needs on
//! top: overflow-free offset arithmetic on untrusted headers, the CRC check over the covered
//! range, and a small read-ahead buffer so that walking batch headers does not cost one
//! syscall per batch.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

use fluvio_wire::record::{BATCH_CRC_START, BATCH_FILE_HEADER_LEN, BatchHeader};

use crate::error::BatchDefect;

/// The offset after the batch, or `None` if it would overflow `i64`.
///
/// `BatchHeader::next_offset` uses plain addition, which panics in debug builds on a header
/// whose `base_offset` is near `i64::MAX`; headers read from disk or from a client are
/// untrusted, so the log always goes through this function.
pub(crate) fn checked_next_offset(base_offset: i64, last_offset_delta: i32) -> Option<i64> {
    base_offset.checked_add(i64::from(last_offset_delta))?.checked_add(1)
}

/// A batch header that passed [`check_header`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct CheckedHeader {
    pub header: BatchHeader,
    /// Size of the whole batch (preamble included).
    pub total_len: u64,
    /// Offset after the batch, computed from `expected_base` (or the header's own base).
    pub next_offset: i64,
}

/// Checks the header at the start of `bytes`, where `available` bytes remain from this position
/// to the end of the file or input (`bytes` may be shorter: only the first 57 are needed).
///
/// With `expected_base`, the header's `base_offset` must equal it (the chain rule). Without it
/// (input to `append`, whose base offsets are about to be rewritten), `next_offset` is
/// computed relative to 0 and only its overflow check matters to the caller.
pub(crate) fn check_header(
    bytes: &[u8],
    available: u64,
    expected_base: Option<i64>,
) -> Result<CheckedHeader, BatchDefect> {
    if available < BATCH_FILE_HEADER_LEN as u64 || bytes.len() < BATCH_FILE_HEADER_LEN {
        return Err(BatchDefect::TornHeader { available });
    }
    let header = BatchHeader::parse(bytes).map_err(BatchDefect::InvalidHeader)?;
    if header.last_offset_delta < 0 {
        return Err(BatchDefect::EmptyBatch { last_offset_delta: header.last_offset_delta });
    }
    let base = match expected_base {
        Some(expected) if header.base_offset != expected => {
            return Err(BatchDefect::OffsetDiscontinuity { expected, found: header.base_offset });
        }
        Some(expected) => expected,
        None => 0,
    };
    let total_len = header.total_len() as u64;
    if total_len > available {
        return Err(BatchDefect::TornBatch { total_len, available });
    }
    let next_offset = checked_next_offset(base, header.last_offset_delta).ok_or(BatchDefect::OffsetOverflow)?;
    Ok(CheckedHeader { header, total_len, next_offset })
}

/// Checks the CRC-32C of a complete batch held in memory.
pub(crate) fn check_crc(batch: &[u8], header: &BatchHeader) -> Result<(), BatchDefect> {
    crc_matches(crc32c::crc32c(&batch[BATCH_CRC_START.min(batch.len())..]), header)
}

/// Checks the CRC-32C of a batch stored at `position` in `file`, of which only the first bytes
/// (`prefix`) are held in memory: the rest is read in chunks and not kept.
pub(crate) fn check_crc_of_stored(
    file: &File,
    position: u64,
    prefix: &[u8],
    checked: &CheckedHeader,
) -> io::Result<Result<(), BatchDefect>> {
    let prefix_crc = crc32c::crc32c(prefix.get(BATCH_CRC_START..).unwrap_or_default());
    let rest_start = position + prefix.len().max(BATCH_CRC_START) as u64;
    let batch_end = position + checked.total_len;
    let mut reader = ChunkReader::new(file, batch_end, READ_CHUNK);
    let computed = reader.crc_append(prefix_crc, rest_start, batch_end)?;
    Ok(crc_matches(computed, &checked.header))
}

fn crc_matches(computed: u32, header: &BatchHeader) -> Result<(), BatchDefect> {
    if computed == header.crc { Ok(()) } else { Err(BatchDefect::CrcMismatch { stored: header.crc, computed }) }
}

/// Default read-ahead of [`ChunkReader`].
pub(crate) const READ_CHUNK: usize = 64 * 1024;

/// Positional reads of a file through a read-ahead buffer. Reads never go past `len` (the
/// part of the file the caller considers valid), so bytes beyond it are never looked at.
pub(crate) struct ChunkReader<'a> {
    file: &'a File,
    len: u64,
    chunk: usize,
    buf: Vec<u8>,
    buf_start: u64,
}

impl<'a> ChunkReader<'a> {
    /// A reader of the first `len` bytes of `file`, reading at least `chunk` bytes at a time.
    pub(crate) fn new(file: &'a File, len: u64, chunk: usize) -> Self {
        Self { file, len, chunk: chunk.max(BATCH_FILE_HEADER_LEN), buf: Vec::new(), buf_start: 0 }
    }

    /// Up to `n` bytes at `pos` (fewer only when the valid length ends first).
    pub(crate) fn get(&mut self, pos: u64, n: usize) -> io::Result<&[u8]> {
        let n = n.min(self.len.saturating_sub(pos) as usize);
        let buf_end = self.buf_start + self.buf.len() as u64;
        if pos < self.buf_start || pos + n as u64 > buf_end {
            let want = n.max(self.chunk).min(self.len.saturating_sub(pos) as usize);
            self.buf.resize(want, 0);
            self.file.read_exact_at(&mut self.buf, pos)?;
            self.buf_start = pos;
        }
        let from = (pos - self.buf_start) as usize;
        Ok(&self.buf[from..from + n])
    }

    /// CRC-32C of `[start, end)`, read in chunks so that a huge batch needs no huge buffer.
    pub(crate) fn crc(&mut self, start: u64, end: u64) -> io::Result<u32> {
        self.crc_append(0, start, end)
    }

    /// `crc` (the CRC-32C of the bytes before `start`) extended over `[start, end)`, read in
    /// chunks.
    pub(crate) fn crc_append(&mut self, mut crc: u32, start: u64, end: u64) -> io::Result<u32> {
        let mut pos = start;
        while pos < end {
            let n = ((end - pos) as usize).min(self.chunk);
            let bytes = self.get(pos, n)?;
            if bytes.is_empty() {
                return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "range beyond the valid length"));
            }
            crc = crc32c::crc32c_append(crc, bytes);
            pos += bytes.len() as u64;
        }
        Ok(crc)
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use bytes::{Bytes, BytesMut};
    use fluvio_wire::Compression;
    use fluvio_wire::record::{RawBatch, Record};

    use super::*;

    fn encoded(n: usize) -> Vec<u8> {
        let records: Vec<Record> =
            (0..n).map(|i| Record::new(None, Bytes::from(vec![b'v'; 10 + i]), i as i64, 0)).collect();
        let mut out = BytesMut::new();
        RawBatch::from_records(&records, Compression::None, 1).unwrap().encode_to(&mut out).unwrap();
        out.to_vec()
    }

    #[test]
    fn next_offset_is_checked() {
        assert_eq!(checked_next_offset(10, 4), Some(15));
        assert_eq!(checked_next_offset(i64::MAX - 1, 0), Some(i64::MAX));
        assert_eq!(checked_next_offset(i64::MAX, 0), None);
        assert_eq!(checked_next_offset(i64::MAX - 2, i32::MAX), None);
    }

    #[test]
    fn header_checks() {
        let mut batch = encoded(3);
        let len = batch.len() as u64;
        batch[..8].copy_from_slice(&7i64.to_be_bytes());
        let ok = check_header(&batch, len, Some(7)).unwrap();
        assert_eq!((ok.total_len, ok.next_offset), (len, 10));
        assert_eq!(check_header(&batch, len, None).unwrap().next_offset, 3);
        assert_eq!(check_header(&batch[..56], 56, Some(7)).unwrap_err(), BatchDefect::TornHeader { available: 56 });
        assert_eq!(
            check_header(&batch, len, Some(8)).unwrap_err(),
            BatchDefect::OffsetDiscontinuity { expected: 8, found: 7 }
        );
        assert_eq!(
            check_header(&batch, len - 1, Some(7)).unwrap_err(),
            BatchDefect::TornBatch { total_len: len, available: len - 1 }
        );
        check_crc(&batch, &ok.header).unwrap();
        let mut bad = batch.clone();
        bad[40] ^= 1;
        assert!(matches!(check_crc(&bad, &ok.header), Err(BatchDefect::CrcMismatch { .. })));
        // base_offset is outside the CRC.
        bad = batch.clone();
        bad[3] ^= 1;
        check_crc(&bad, &BatchHeader::parse(&bad).unwrap()).unwrap();
        bad = batch.clone();
        bad[16] = 0;
        assert!(matches!(check_header(&bad, len, None), Err(BatchDefect::InvalidHeader(_))));
        bad = batch.clone();
        bad[23..27].copy_from_slice(&(-1i32).to_be_bytes());
        assert_eq!(check_header(&bad, len, None).unwrap_err(), BatchDefect::EmptyBatch { last_offset_delta: -1 });
    }

    #[test]
    fn chunk_reader_reads_across_refills() {
        let mut file = tempfile::tempfile().unwrap();
        let data: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
        file.write_all(&data).unwrap();
        // Only the first 9000 bytes count as valid.
        let mut reader = ChunkReader::new(&file, 9000, 100);
        assert_eq!(reader.get(0, 10).unwrap(), &data[..10]);
        assert_eq!(reader.get(95, 20).unwrap(), &data[95..115]);
        assert_eq!(reader.get(5000, 3000).unwrap(), &data[5000..8000]);
        assert_eq!(reader.get(8990, 57).unwrap(), &data[8990..9000]);
        assert!(reader.get(9000, 57).unwrap().is_empty());
        assert!(reader.get(20_000, 1).unwrap().is_empty());
        assert_eq!(reader.crc(17, 8999).unwrap(), crc32c::crc32c(&data[17..8999]));
        assert!(reader.crc(8990, 9100).is_err());
    }
}
