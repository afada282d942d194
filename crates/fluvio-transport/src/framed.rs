//! Framed byte streams: the writer task both ends of a Fluvio connection run, and the test
//! that tells a TLS record from a Fluvio frame.
//!
//! Only the write side is shared. The two read loops stay with their owners because what they
//! do between frames is what each end is for: the client routes every response to its waiter
//! by correlation id and notices a server that answers with TLS, while the server enforces the
//! limits a client must not (a buffer budget shared by every connection, read and idle
//! timeouts, and the silence a plain Fluvio server keeps on a TLS ClientHello). Both split
//! frames with `fluvio_wire::FrameDecoder`.

use std::future::Future;
use std::io::{self, IoSlice};
use std::pin::Pin;

use bytes::Bytes;
use tokio::io::{AsyncWrite, AsyncWriteExt, BufWriter};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Size of the writer's buffer: frames queued together go out in one flush.
const WRITE_BUFFER: usize = 64 * 1024;

/// One frame to write whole: in one buffer, or in pieces written back to back, so that large
/// runs of bytes owned elsewhere (a producer's records) go out without being copied into a
/// frame first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// The frame in one buffer.
    Whole(Bytes),
    /// The frame's pieces, in order.
    Pieces(Vec<Bytes>),
}

impl From<Bytes> for Frame {
    fn from(bytes: Bytes) -> Self {
        Frame::Whole(bytes)
    }
}

impl From<Vec<Bytes>> for Frame {
    fn from(pieces: Vec<Bytes>) -> Self {
        Frame::Pieces(pieces)
    }
}

impl Frame {
    /// Bytes of the whole frame.
    pub fn len(&self) -> usize {
        match self {
            Frame::Whole(bytes) => bytes.len(),
            Frame::Pieces(pieces) => pieces.iter().map(Bytes::len).sum(),
        }
    }

    /// True for a frame of no bytes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The queue a writer task takes its frames from: unbounded where senders must never wait
/// (the client's requests), bounded where they should (the server's responses).
pub trait FrameQueue: Send {
    /// The next frame, waiting for one; `None` once every sender is gone.
    fn recv(&mut self) -> impl Future<Output = Option<Frame>> + Send;
    /// The next frame if one is queued already.
    fn try_recv(&mut self) -> Option<Frame>;
}

impl<T: Into<Frame> + Send> FrameQueue for mpsc::Receiver<T> {
    fn recv(&mut self) -> impl Future<Output = Option<Frame>> + Send {
        let next = mpsc::Receiver::recv(self);
        async move { next.await.map(Into::into) }
    }

    fn try_recv(&mut self) -> Option<Frame> {
        mpsc::Receiver::try_recv(self).ok().map(Into::into)
    }
}

impl<T: Into<Frame> + Send> FrameQueue for mpsc::UnboundedReceiver<T> {
    fn recv(&mut self) -> impl Future<Output = Option<Frame>> + Send {
        let next = mpsc::UnboundedReceiver::recv(self);
        async move { next.await.map(Into::into) }
    }

    fn try_recv(&mut self) -> Option<Frame> {
        mpsc::UnboundedReceiver::try_recv(self).ok().map(Into::into)
    }
}

/// Writes every frame of `queue` whole, in order, to `writer`, until the queue ends, a write
/// fails or `closed` fires; then cancels `closed` (so the reader stops too) and shuts the
/// writer down. Frames already queued when one is written join it in the same flush.
pub async fn write_frames<W: AsyncWrite, Q: FrameQueue>(writer: W, mut queue: Q, closed: CancellationToken) {
    let mut writer = std::pin::pin!(BufWriter::with_capacity(WRITE_BUFFER, writer));
    loop {
        let frame = tokio::select! {
            frame = queue.recv() => frame,
            _ = closed.cancelled() => None,
        };
        let Some(frame) = frame else { break };
        if write_frame(&mut writer, &frame).await.is_err() {
            break;
        }
        // Coalesce whatever else is already queued into the same flush.
        while let Some(frame) = queue.try_recv() {
            if write_frame(&mut writer, &frame).await.is_err() {
                closed.cancel();
                return;
            }
        }
        if writer.flush().await.is_err() {
            break;
        }
    }
    closed.cancel();
    let _ = writer.shutdown().await;
}

/// Writes one frame; its pieces in as few system calls as the writer allows (vectored).
async fn write_frame<W: AsyncWrite>(writer: &mut Pin<&mut BufWriter<W>>, frame: &Frame) -> io::Result<()> {
    let pieces = match frame {
        Frame::Whole(bytes) => return writer.write_all(bytes).await,
        Frame::Pieces(pieces) => pieces,
    };
    let mut slices: Vec<IoSlice<'_>> = pieces.iter().map(|piece| IoSlice::new(piece)).collect();
    let mut rest = &mut slices[..];
    let mut remaining = frame.len();
    while remaining > 0 {
        let written = writer.write_vectored(rest).await?;
        if written == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        remaining -= written;
        IoSlice::advance_slices(&mut rest, written);
    }
    Ok(())
}

/// Whether `bytes` begin a TLS record: content type alert (21) or handshake (22), then major
/// version 3. A Fluvio frame cannot start so: its length would exceed 350 MB.
pub fn is_tls_record_start(bytes: &[u8]) -> bool {
    matches!(bytes, [21 | 22, 3, minor, ..] if *minor <= 4)
}

/// Whether `bytes` begin a TLS handshake record (such as a ClientHello): content type 22, then
/// major version 3.
pub fn is_tls_handshake_start(bytes: &[u8]) -> bool {
    matches!(bytes, [22, 3, minor, ..] if *minor <= 4)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    #[test]
    fn tls_records_are_told_from_frames() {
        assert!(is_tls_record_start(&[0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x46]));
        assert!(is_tls_record_start(&[0x16, 0x03, 0x01]));
        assert!(!is_tls_record_start(&[0x00, 0x00, 0x00, 0x18]));
        assert!(!is_tls_record_start(&[0x15, 0x03]));
        assert!(is_tls_handshake_start(&[0x16, 0x03, 0x01, 0x02]));
        assert!(!is_tls_handshake_start(&[0x15, 0x03, 0x03]));
    }

    #[tokio::test]
    async fn frames_are_written_whole_and_in_order_from_either_queue() {
        let (client, mut server) = tokio::io::duplex(1024);
        let (tx, rx) = mpsc::unbounded_channel();
        let closed = CancellationToken::new();
        for frame in [&b"one"[..], b"two", b"three"] {
            tx.send(Bytes::from_static(frame)).unwrap();
        }
        drop(tx);
        write_frames(client, rx, closed.clone()).await;
        assert!(closed.is_cancelled(), "the end of the queue closes the connection");
        let mut written = Vec::new();
        server.read_to_end(&mut written).await.unwrap();
        assert_eq!(written, b"onetwothree");

        let (client, mut server) = tokio::io::duplex(1024);
        let (tx, rx) = mpsc::channel(2);
        let closed = CancellationToken::new();
        let writer = tokio::spawn(write_frames(client, rx, closed.clone()));
        tx.send(Bytes::from_static(b"a")).await.unwrap();
        let mut first = [0u8; 1];
        server.read_exact(&mut first).await.unwrap();
        assert_eq!(&first, b"a", "a frame is flushed without waiting for more");
        closed.cancel();
        writer.await.unwrap();
        let mut rest = Vec::new();
        server.read_to_end(&mut rest).await.unwrap();
        assert!(rest.is_empty(), "closing ends the stream");
    }

    #[tokio::test]
    async fn pieces_are_written_back_to_back_whatever_the_writes_take() {
        // A small pipe: the vectored writes are cut anywhere, within and between pieces.
        let (client, mut server) = tokio::io::duplex(1000);
        let (tx, rx) = mpsc::unbounded_channel::<Frame>();
        let closed = CancellationToken::new();
        let big: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let pieces = vec![
            Bytes::from_static(b"head"),
            Bytes::from(big.clone()),
            Bytes::new(),
            Bytes::from_static(b"mid"),
            Bytes::from(big[..70_000].to_vec()),
            Bytes::from_static(b"tail"),
        ];
        let expected: Vec<u8> = [&b"before"[..], &pieces.concat(), b"after"].concat();
        tx.send(Frame::from(Bytes::from_static(b"before"))).unwrap();
        tx.send(Frame::from(pieces)).unwrap();
        tx.send(Frame::from(Bytes::from_static(b"after"))).unwrap();
        drop(tx);
        let writer = tokio::spawn(write_frames(client, rx, closed.clone()));
        let mut written = Vec::new();
        server.read_to_end(&mut written).await.unwrap();
        writer.await.unwrap();
        assert_eq!(written.len(), expected.len());
        assert!(written == expected, "the bytes arrive in order, whole");
    }

    #[tokio::test]
    async fn a_failed_write_closes_the_connection() {
        let (client, server) = tokio::io::duplex(16);
        drop(server);
        let (tx, rx) = mpsc::unbounded_channel();
        let closed = CancellationToken::new();
        tx.send(Bytes::from(vec![0u8; 128 * 1024])).unwrap();
        write_frames(client, rx, closed.clone()).await;
        assert!(closed.is_cancelled());
    }
}
