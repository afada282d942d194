//! Frames: an i32 big-endian length followed by that many payload bytes.
//!
//! The official codec has no size limit; this one has a configurable maximum, and a negative,
//! zero or oversized length is an error before any byte of the payload is buffered.

use crate::error::EncodeError;
use bytes::{Buf, BufMut, Bytes, BytesMut};

/// Default largest frame accepted (64 MiB; the official SPU's largest request is 32 MiB).
pub const DEFAULT_MAX_FRAME_SIZE: usize = 64 * 1024 * 1024;

/// Bytes of the length prefix.
pub const FRAME_PREFIX_LEN: usize = 4;

/// Smallest step by which [`FrameDecoder::decode`] grows a buffer toward an announced frame.
const FRAME_RESERVE_STEP: usize = 32 * 1024;

/// A frame length that cannot be accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// A length below zero.
    #[error("frame length {0} is negative")]
    NegativeLength(i32),
    /// A zero length: no frame of the protocol is empty.
    #[error("frame length is zero")]
    Empty,
    /// A length over the configured maximum.
    #[error("frame of {len} bytes exceeds the maximum of {max} bytes")]
    TooLarge {
        /// Announced length.
        len: usize,
        /// Configured maximum.
        max: usize,
    },
}

/// Splits a byte stream into frames. Holds no buffer itself; callers own the read buffer.
#[derive(Debug, Clone, Copy)]
pub struct FrameDecoder {
    max_frame_size: usize,
}

impl Default for FrameDecoder {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_FRAME_SIZE)
    }
}

impl FrameDecoder {
    /// A decoder refusing frames larger than `max_frame_size`.
    pub fn new(max_frame_size: usize) -> Self {
        Self { max_frame_size }
    }

    /// The configured maximum.
    pub fn max_frame_size(&self) -> usize {
        self.max_frame_size
    }

    /// Reads the length prefix at the front of `buf` without consuming anything.
    /// `Ok(None)` means fewer than 4 bytes are buffered.
    pub fn peek_len(&self, buf: &[u8]) -> Result<Option<usize>, FrameError> {
        if buf.len() < FRAME_PREFIX_LEN {
            return Ok(None);
        }
        let len = i32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]);
        if len < 0 {
            return Err(FrameError::NegativeLength(len));
        }
        if len == 0 {
            return Err(FrameError::Empty);
        }
        let len = len as usize;
        if len > self.max_frame_size {
            return Err(FrameError::TooLarge { len, max: self.max_frame_size });
        }
        Ok(Some(len))
    }

    /// Takes one complete frame payload off the front of `buf`, or returns `Ok(None)` when more
    /// bytes are needed (after reserving room toward the announced frame: at most as much as is
    /// already buffered, or 32 KiB, so the buffer grows with what actually arrives).
    ///
    /// Once half of a large frame arrived, the rest of it goes into a buffer of exactly the
    /// frame's size: the frame returned (which a consumer may keep alive as long as it holds
    /// any record of it) then pins no more memory than its own size, where growing by doubling
    /// would pin up to twice that.
    pub fn decode(&self, buf: &mut BytesMut) -> Result<Option<Bytes>, FrameError> {
        let Some(len) = self.peek_len(buf)? else { return Ok(None) };
        let total = FRAME_PREFIX_LEN + len;
        if buf.len() < total {
            if buf.capacity() < total && buf.len() >= FRAME_RESERVE_STEP && buf.len() * 2 >= total {
                // The peer sent half of what it announced: no more than doubling would allow.
                let mut exact = BytesMut::with_capacity(total);
                exact.extend_from_slice(buf);
                *buf = exact;
                return Ok(None);
            }
            // Grow toward the announced size by at most what is already buffered (or a small
            // step): a peer announcing 64 MiB in 4 bytes must send data to make us allocate it.
            let missing = total - buf.len();
            buf.reserve(missing.min(buf.len().max(FRAME_RESERVE_STEP)));
            return Ok(None);
        }
        buf.advance(FRAME_PREFIX_LEN);
        Ok(Some(buf.split_to(len).freeze()))
    }
}

/// Writes a length prefix placeholder and returns its position; see [`finish_frame`].
pub fn begin_frame(dst: &mut BytesMut) -> usize {
    let pos = dst.len();
    dst.put_i32(0);
    pos
}

/// Patches the length prefix written by [`begin_frame`] at `pos`.
pub fn finish_frame(dst: &mut BytesMut, pos: usize) {
    let len = (dst.len() - pos - FRAME_PREFIX_LEN) as i32;
    dst[pos..pos + FRAME_PREFIX_LEN].copy_from_slice(&len.to_be_bytes());
}

/// Patches the length prefix written by [`begin_frame`] at `pos` for a frame sent in pieces:
/// what `dst` holds after the prefix, then `following` bytes written after it.
pub(crate) fn finish_frame_in_pieces(dst: &mut BytesMut, pos: usize, following: usize) -> Result<(), EncodeError> {
    let len = i32::try_from(dst.len() - pos - FRAME_PREFIX_LEN + following)
        .map_err(|_| EncodeError::OutOfRange("frame longer than 2^31-1 bytes"))?;
    dst[pos..pos + FRAME_PREFIX_LEN].copy_from_slice(&len.to_be_bytes());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_frames_and_waits_for_more() {
        let decoder = FrameDecoder::new(16);
        let mut buf = BytesMut::from(&[0, 0, 0, 3, 1, 2][..]);
        assert_eq!(decoder.decode(&mut buf).unwrap(), None);
        buf.put_slice(&[3, 0, 0, 0, 1, 9]);
        assert_eq!(decoder.decode(&mut buf).unwrap().unwrap().as_ref(), &[1, 2, 3]);
        assert_eq!(decoder.decode(&mut buf).unwrap().unwrap().as_ref(), &[9]);
        assert!(buf.is_empty());
    }

    #[test]
    fn refuses_bad_lengths_without_buffering() {
        let decoder = FrameDecoder::new(16);
        let mut negative = BytesMut::from(&[0xff, 0xff, 0xff, 0xfe][..]);
        assert_eq!(decoder.decode(&mut negative), Err(FrameError::NegativeLength(-2)));
        let mut huge = BytesMut::from(&[0x7f, 0xff, 0xff, 0xff][..]);
        assert_eq!(decoder.decode(&mut huge), Err(FrameError::TooLarge { len: i32::MAX as usize, max: 16 }));
        assert!(huge.capacity() < 1024, "no allocation for a refused frame");
        let mut empty = BytesMut::from(&[0, 0, 0, 0][..]);
        assert_eq!(decoder.decode(&mut empty), Err(FrameError::Empty));
    }

    #[test]
    fn announced_length_is_reserved_gradually() {
        let announced = (DEFAULT_MAX_FRAME_SIZE - 1) as u32;
        let mut buf = BytesMut::from(&announced.to_be_bytes()[..]);
        assert_eq!(FrameDecoder::default().decode(&mut buf), Ok(None));
        assert!(buf.capacity() < 64 * 1024, "reserved {} bytes for 4 bytes of input", buf.capacity());
        // Feeding a frame still yields it, the buffer growing with what arrives.
        let decoder = FrameDecoder::new(4 << 20);
        let announced = (4 << 20) - 1;
        let mut buf = BytesMut::new();
        buf.put_u32(announced as u32);
        let mut sent = 0;
        while sent < announced {
            assert_eq!(decoder.decode(&mut buf), Ok(None));
            assert!(buf.capacity() <= 4 * buf.len() + 64 * 1024, "{} for {}", buf.capacity(), buf.len());
            let chunk = (announced - sent).min(64 * 1024);
            buf.put_bytes(7, chunk);
            sent += chunk;
        }
        assert_eq!(decoder.decode(&mut buf).unwrap().unwrap().len(), announced);
        assert!(buf.is_empty());
    }

    #[test]
    fn the_second_half_of_a_large_frame_goes_into_a_buffer_of_its_exact_size() {
        let decoder = FrameDecoder::new(4 << 20);
        let total = (1 << 20) + 100;
        let mut buf = BytesMut::with_capacity(64 * 1024);
        buf.put_u32((total - FRAME_PREFIX_LEN) as u32);
        let mut exact_from = None;
        while buf.len() < total {
            assert_eq!(decoder.decode(&mut buf), Ok(None));
            if buf.len() * 2 >= total {
                exact_from.get_or_insert(buf.len());
                assert_eq!(buf.capacity(), total, "exactly the frame, from half of it on");
            }
            // Like a socket read: only into the room the decoder made.
            let room = (buf.capacity() - buf.len()).clamp(1, 64 * 1024);
            buf.put_bytes(7, room.min(total - buf.len()));
        }
        assert!(exact_from.is_some());
        assert_eq!(buf.capacity(), total);
        assert_eq!(decoder.decode(&mut buf).unwrap().unwrap().len(), total - FRAME_PREFIX_LEN);
    }
}
