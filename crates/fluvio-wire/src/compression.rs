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
            Compression::Zstd => Ok(ruzstd::encoding::compress_to_vec(
                input,
                ruzstd::encoding::CompressionLevel::Fastest,
            )
            .into()),
        }
    }

    /// Decompresses `input`, refusing output larger than `limit` bytes.
    pub fn decompress(self, input: &[u8], limit: usize) -> Result<Bytes, DecodeError> {
        let failed = |message: String| {
            DecodeError::new(DecodeErrorKind::Decompression { codec: self.name(), message })
        };
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

enum ReadLimitedError {
    TooLarge,
    Io(std::io::Error),
}

fn read_limited(reader: impl Read, out: &mut Vec<u8>, limit: usize) -> Result<(), ReadLimitedError> {
    // Read one byte past the limit so "exactly at the limit" and "over" can be told apart.
    let mut limited = reader.take(limit as u64 + 1);
    limited.read_to_end(out).map_err(ReadLimitedError::Io)?;
    if out.len() > limit {
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
    fn garbage_is_an_error_not_a_panic() {
        for codec in [Compression::Gzip, Compression::Snappy, Compression::Lz4, Compression::Zstd] {
            assert!(codec.decompress(b"definitely not compressed", 1 << 20).is_err(), "{codec}");
        }
    }
}
