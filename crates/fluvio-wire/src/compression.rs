//! Record-batch compression: gzip (flate2, level 6), Snappy *framing* format, LZ4 *frame*
//! format, and zstd. The codecs are the standard formats, so any conforming decoder reads them;
//! gzip, snappy and lz4 output is byte-identical to the official producer's.

use std::io::{Read, Write};

use bytes::Bytes;

use crate::error::{DecodeError, DecodeErrorKind, EncodeError};

/// Largest decompressed records area accepted by default (protects against compression bombs).
pub const DEFAULT_MAX_DECOMPRESSED: usize = 64 * 1024 * 1024;

/// A batch compression codec, as stored in bits 0–2 of the batch attributes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Compression {
    /// No compression.
    #[default]
    None,
    /// gzip member, deflate level 6.
    Gzip,
    /// Snappy framing format.
    Snappy,
    /// LZ4 frame format.
    Lz4,
    /// zstd frame.
    Zstd,
}

impl Compression {
    /// Every codec.
    pub const ALL: [Compression; 5] =
        [Compression::None, Compression::Gzip, Compression::Snappy, Compression::Lz4, Compression::Zstd];

    /// The attribute bits of this codec.
    pub fn attribute_bits(self) -> i16 {
        match self {
            Compression::None => 0,
            Compression::Gzip => 1,
            Compression::Snappy => 2,
            Compression::Lz4 => 3,
            Compression::Zstd => 4,
        }
    }

    /// The codec named by batch attributes, if the bits name one.
    pub fn from_attributes(attributes: i16) -> Option<Compression> {
        match attributes & 0x07 {
            0 => Some(Compression::None),
            1 => Some(Compression::Gzip),
            2 => Some(Compression::Snappy),
            3 => Some(Compression::Lz4),
            4 => Some(Compression::Zstd),
            _ => None,
        }
    }

    /// Lower-case name, as used in configuration.
    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Snappy => "snappy",
            Compression::Lz4 => "lz4",
            Compression::Zstd => "zstd",
        }
    }

    /// Compresses `input`.
    pub fn compress(self, input: &[u8]) -> Result<Bytes, EncodeError> {
        let failed = |e: std::io::Error| EncodeError::Compression(format!("{}: {e}", self.name()));
        match self {
            Compression::None => Ok(Bytes::copy_from_slice(input)),
            Compression::Gzip => {
                let mut encoder = flate2::write::GzEncoder::new(
                    Vec::with_capacity(input.len() / 2 + 64),
                    flate2::Compression::default(),
                );
                encoder.write_all(input).map_err(failed)?;
                Ok(encoder.finish().map_err(failed)?.into())
            }
            Compression::Snappy => {
                let mut encoder = snap::write::FrameEncoder::new(Vec::with_capacity(input.len() / 2 + 64));
                encoder.write_all(input).map_err(failed)?;
                let out = encoder.into_inner().map_err(|e| failed(e.into_error()))?;
                Ok(out.into())
            }
            Compression::Lz4 => {
                let mut encoder = lz4_flex::frame::FrameEncoder::new(Vec::with_capacity(input.len() / 2 + 64));
                encoder.write_all(input).map_err(failed)?;
                let out = encoder.finish().map_err(|e| EncodeError::Compression(format!("lz4: {e}")))?;
                Ok(out.into())
            }
            Compression::Zstd => {
                Ok(ruzstd::encoding::compress_to_vec(input, ruzstd::encoding::CompressionLevel::Fastest).into())
            }
        }
    }

    /// Decompresses `input`, refusing output larger than `limit` bytes. The output buffer never
    /// grows past `limit` + 1 bytes; zstd frames declaring a window larger than both `limit` and
    /// 8 MiB are refused, as the decoder buffers a whole window before it yields any output.
    pub fn decompress(self, input: &[u8], limit: usize) -> Result<Bytes, DecodeError> {
        let failed = |message: String| DecodeError::new(DecodeErrorKind::Decompression { codec: self.name(), message });
        let mut out = Vec::with_capacity(input.len().saturating_mul(2).min(limit).min(1 << 20));
        let result = match self {
            Compression::None => {
                if input.len() > limit {
                    return Err(DecodeErrorKind::DecompressedTooLarge { limit }.into());
                }
                return Ok(Bytes::copy_from_slice(input));
            }
            Compression::Gzip => read_limited(flate2::read::GzDecoder::new(input), &mut out, limit),
            Compression::Snappy => read_limited(snap::read::FrameDecoder::new(input), &mut out, limit),
            Compression::Lz4 => read_limited(lz4_flex::frame::FrameDecoder::new(input), &mut out, limit),
            Compression::Zstd => {
                // ruzstd holds a whole window of output before it yields any: bound the window
                // by the limit before decoding, or the limit would not bound memory.
                if let Some((window, content_size)) = zstd_frame_sizes(input) {
                    if content_size.is_some_and(|size| size > limit as u64) {
                        return Err(DecodeErrorKind::DecompressedTooLarge { limit }.into());
                    }
                    let max_window = (limit as u64).max(ZSTD_MIN_MAX_WINDOW);
                    if window > max_window {
                        return Err(failed(format!("window of {window} bytes exceeds the maximum of {max_window}")));
                    }
                }
                let mut source = input;
                match ruzstd::decoding::StreamingDecoder::new(&mut source) {
                    Ok(decoder) => read_limited(decoder, &mut out, limit),
                    Err(e) => return Err(failed(e.to_string())),
                }
            }
        };
        match result {
            Ok(()) => Ok(out.into()),
            Err(ReadLimitedError::TooLarge) => Err(DecodeErrorKind::DecompressedTooLarge { limit }.into()),
            Err(ReadLimitedError::Io(e)) => Err(failed(e.to_string())),
        }
    }
}

/// Largest zstd window accepted when the decompression limit is smaller: RFC 8878 recommends
/// that decoders support windows up to 8 MiB.
const ZSTD_MIN_MAX_WINDOW: u64 = 8 * 1024 * 1024;

/// The window size and the content size (if stated) declared by the zstd frame header at the
/// start of `input`, or `None` if there is no complete frame header (the decoder reports that).
fn zstd_frame_sizes(input: &[u8]) -> Option<(u64, Option<u64>)> {
    if input.get(..4)? != [0x28, 0xb5, 0x2f, 0xfd] {
        return None;
    }
    let descriptor = *input.get(4)?;
    let single_segment = descriptor & 0x20 != 0;
    let dictionary_id_len = [0, 1, 2, 4][usize::from(descriptor & 0x03)];
    let content_size_len = match descriptor >> 6 {
        0 => usize::from(single_segment),
        1 => 2,
        2 => 4,
        _ => 8,
    };
    let mut pos = 5;
    let window = if single_segment {
        None
    } else {
        let byte = *input.get(pos)?;
        pos += 1;
        let base = 1u64 << (10 + u32::from(byte >> 3));
        Some(base + base / 8 * u64::from(byte & 0x07))
    };
    pos += dictionary_id_len;
    let raw = input.get(pos..pos + content_size_len)?;
    let value = raw.iter().rev().fold(0u64, |acc, &b| acc << 8 | u64::from(b));
    let content_size = match content_size_len {
        0 => None,
        2 => Some(value + 256),
        _ => Some(value),
    };
    // A single-segment frame's window is its content size.
    Some((window.or(content_size)?, content_size))
}

enum ReadLimitedError {
    TooLarge,
    Io(std::io::Error),
}

/// Most bytes asked of a decompressor at once.
const READ_STEP: usize = 64 * 1024;

fn read_limited(mut reader: impl Read, out: &mut Vec<u8>, limit: usize) -> Result<(), ReadLimitedError> {
    // Read one byte past the limit so "exactly at the limit" and "over" can be told apart.
    // The buffer doubles as it fills but never grows past that (`read_to_end` would double it
    // to up to twice the limit).
    let max = limit.saturating_add(1);
    let mut filled = out.len();
    loop {
        if filled == out.len() {
            if filled >= max {
                break;
            }
            let grow = out.capacity().saturating_sub(filled).max(filled).max(8 * 1024).min(max - filled);
            out.reserve_exact(grow);
            out.resize(filled + grow, 0);
        }
        // Read in bounded steps: a streaming decoder decodes ahead as much as it is asked for.
        let end = out.len().min(filled + READ_STEP);
        match reader.read(&mut out[filled..end]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(ReadLimitedError::Io(e)),
        }
    }
    out.truncate(filled);
    if filled > limit {
        return Err(ReadLimitedError::TooLarge);
    }
    Ok(())
}

impl std::fmt::Display for Compression {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Compression {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "none" => Ok(Compression::None),
            "gzip" => Ok(Compression::Gzip),
            "snappy" => Ok(Compression::Snappy),
            "lz4" => Ok(Compression::Lz4),
            "zstd" => Ok(Compression::Zstd),
            other => Err(format!("unknown compression '{other}' (expected none, gzip, snappy, lz4 or zstd)")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_codec_round_trips() {
        let input: Vec<u8> = (0..10_000u32).flat_map(|i| (i % 251).to_le_bytes()).collect();
        for codec in Compression::ALL {
            let compressed = codec.compress(&input).unwrap();
            let restored = codec.decompress(&compressed, DEFAULT_MAX_DECOMPRESSED).unwrap();
            assert_eq!(restored.as_ref(), input.as_slice(), "{codec}");
        }
    }

    #[test]
    fn compression_bomb_is_refused() {
        let zeros = vec![0u8; 1 << 20];
        for codec in [Compression::Gzip, Compression::Snappy, Compression::Lz4, Compression::Zstd] {
            let compressed = codec.compress(&zeros).unwrap();
            let err = codec.decompress(&compressed, 1000).unwrap_err();
            assert_eq!(err.kind(), &DecodeErrorKind::DecompressedTooLarge { limit: 1000 }, "{codec}");
        }
    }

    #[test]
    fn output_buffer_never_grows_past_the_limit() {
        let zeros = vec![0u8; 1 << 20];
        let compressed = Compression::Gzip.compress(&zeros).unwrap();
        for limit in [0, 1, 1000, 8 * 1024, 100_000, (1 << 20) - 1] {
            let mut out = Vec::new();
            let result = read_limited(flate2::read::GzDecoder::new(&compressed[..]), &mut out, limit);
            assert!(matches!(result, Err(ReadLimitedError::TooLarge)), "limit {limit}");
            assert!(out.capacity() <= limit + 1, "limit {limit}: capacity {}", out.capacity());
        }
        let mut out = Vec::new();
        assert!(read_limited(flate2::read::GzDecoder::new(&compressed[..]), &mut out, 1 << 20).is_ok());
        assert_eq!(out, zeros);
        assert!(out.capacity() <= (1 << 20) + 1);
        // No limit at all must not overflow.
        assert_eq!(Compression::Gzip.decompress(&compressed, usize::MAX).unwrap().len(), 1 << 20);
    }

    /// A zstd frame header (window descriptor byte or single-segment content size) followed by
    /// `blocks` RLE blocks of 128 KiB of zeros (4 bytes each).
    fn zstd_rle(header: &[u8], blocks: usize) -> Vec<u8> {
        let mut frame = vec![0x28, 0xb5, 0x2f, 0xfd];
        frame.extend_from_slice(header);
        for i in 0..blocks {
            let block_header = (128u32 * 1024) << 3 | 1 << 1 | u32::from(i + 1 == blocks);
            frame.extend_from_slice(&block_header.to_le_bytes()[..3]);
            frame.push(0);
        }
        frame
    }

    #[test]
    fn zstd_window_is_bounded_by_the_limit() {
        // 64 MiB window (exponent 16), 25 MiB of zeros in 800 bytes: without the check, ruzstd
        // buffers all of it before the limit is ever looked at.
        let big_window = zstd_rle(&[0x00, 16 << 3], 200);
        assert_eq!(zstd_frame_sizes(&big_window), Some((64 << 20, None)));
        let err = Compression::Zstd.decompress(&big_window, 1 << 20).unwrap_err();
        assert!(matches!(err.kind(), DecodeErrorKind::Decompression { codec: "zstd", .. }), "{err}");
        // Single segment, content size 2^40 (8-byte field): the window is the content size.
        let mut header = vec![0xe0];
        header.extend_from_slice(&(1u64 << 40).to_le_bytes());
        let huge_content = zstd_rle(&header, 200);
        assert_eq!(zstd_frame_sizes(&huge_content), Some((1 << 40, Some(1 << 40))));
        let err = Compression::Zstd.decompress(&huge_content, 1 << 20).unwrap_err();
        assert_eq!(err.kind(), &DecodeErrorKind::DecompressedTooLarge { limit: 1 << 20 });
        // A window within bounds still decodes, and the limit applies as usual.
        let small_window = zstd_rle(&[0x00, 10 << 3], 8); // 1 MiB window, 1 MiB of zeros
        assert_eq!(Compression::Zstd.decompress(&small_window, 1 << 20).unwrap().len(), 1 << 20);
        let err = Compression::Zstd.decompress(&small_window, 1000).unwrap_err();
        assert_eq!(err.kind(), &DecodeErrorKind::DecompressedTooLarge { limit: 1000 });
        // Our own frames are within bounds.
        let ours = Compression::Zstd.compress(&[7; 5000]).unwrap();
        let (window, _) = zstd_frame_sizes(&ours).unwrap();
        assert!(window <= ZSTD_MIN_MAX_WINDOW, "{window}");
        assert_eq!(zstd_frame_sizes(b"\x28\xb5\x2f"), None);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for codec in [Compression::Gzip, Compression::Snappy, Compression::Lz4, Compression::Zstd] {
            assert!(codec.decompress(b"definitely not compressed", 1 << 20).is_err(), "{codec}");
        }
    }
}
