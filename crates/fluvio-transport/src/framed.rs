//! Framed byte streams: the writer both ends of a Fluvio connection share, and the test that
//! tells a TLS record from a Fluvio frame.
//!
//! Only the write side is shared. The two read loops stay with their owners because what they
//! do between frames is what each end is for: the client routes every response to its waiter
//! by correlation id and notices a server that answers with TLS, while the server enforces the
//! limits a client must not (a buffer budget shared by every connection, read and idle
//! timeouts, and the silence a plain Fluvio server keeps on a TLS ClientHello). Both split
//! frames with `fluvio_wire::FrameDecoder`.

use std::collections::VecDeque;
use std::future::Future;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker, ready};

use bytes::Bytes;
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// Slices gathered for one vectored write: well under the kernel's limit of 1,024.
const MAX_SLICES: usize = 64;
/// Bytes copied together for one write on a transport without vectored writes (TLS), so that
/// small frames queued together still go out in one record and one system call.
const COALESCE_BYTES: usize = 64 * 1024;

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
        self.pieces().iter().map(Bytes::len).sum()
    }

    /// True for a frame of no bytes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The frame's buffers, in order.
    fn pieces(&self) -> &[Bytes] {
        match self {
            Frame::Whole(bytes) => std::slice::from_ref(bytes),
            Frame::Pieces(pieces) => pieces,
        }
    }
}

/// The connection's writer is gone: closed by either side, or a write failed. The frame was
/// not sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the connection is closed")]
pub struct WriterClosed;

/// The write half of a connection, shared by every task (or thread) that sends frames on it.
/// Cheap to clone. Frames are written whole and in the order they were sent.
///
/// A frame sent while nothing is waiting to be written goes to the socket at once, from the
/// sender's own thread, as a non-blocking write. No other task is woken for it, and at low
/// rates the wake-ups are most of what a message costs (on a VM, each wake-up of another
/// thread costs about 10 µs of CPU). What the socket does not take at once waits in a queue
/// for the connection's writer task (the future [`FrameWriter::new`] returns), which writes
/// everything queued together (vectored, or copied into one buffer where the transport cannot
/// write vectored) and sleeps again once the queue is empty.
///
/// The writer task ends, and cancels the connection's token, when the token is cancelled, a
/// write fails, or every clone of the writer is dropped (then after writing what was queued);
/// it then shuts the transport down. Frames still queued when the token is cancelled are
/// dropped.
#[derive(Clone)]
pub struct FrameWriter {
    sender: Arc<Sender>,
}

/// What every clone of a [`FrameWriter`] shares; its drop tells the writer task no frame will
/// come.
struct Sender(Arc<Shared>);

impl Drop for Sender {
    fn drop(&mut self) {
        let task = {
            let mut state = self.0.lock();
            state.senders_gone = true;
            state.task.take()
        };
        if let Some(task) = task {
            task.wake();
        }
    }
}

struct Shared {
    state: Mutex<State>,
    closed: CancellationToken,
    /// Signalled when queued frames are written, for senders waiting for room.
    room: Notify,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Nothing panics while holding the lock; if something did, the state is still whole.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

type Transport = Pin<Box<dyn AsyncWrite + Send>>;

struct State {
    /// `None` once the writer task has ended.
    transport: Option<Transport>,
    /// Frames not yet written whole, in order.
    queue: VecDeque<Frame>,
    /// Bytes of the first queued frame already written.
    head_written: usize,
    /// Bytes were written that the transport may still hold (TLS): flush before sleeping.
    unflushed: bool,
    /// The writer task, while it sleeps with nothing to write.
    task: Option<Waker>,
    /// Every clone of the writer is gone.
    senders_gone: bool,
    /// A write failed: nothing more is written.
    failed: bool,
    /// The buffer small frames are copied into on a transport without vectored writes.
    scratch: Vec<u8>,
}

impl State {
    /// Writes `frame` now if nothing waits before it, as far as the socket takes it without
    /// waiting; queues what is left. Returns the writer task to wake, if it must write or end.
    fn send(&mut self, frame: Frame) -> Result<Option<Waker>, WriterClosed> {
        if self.failed || self.transport.is_none() {
            return Err(WriterClosed);
        }
        let idle = self.queue.is_empty() && !self.unflushed;
        self.queue.push_back(frame);
        if !idle {
            return Ok(self.task.take());
        }
        // A waker that does nothing: if the socket is full, the writer task (woken below)
        // polls again with its own and is woken when there is room. Nothing waits for room
        // here: the queue held no frame before this one.
        match self.drain(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(Ok(())) => Ok(None),
            Poll::Ready(Err(_)) => {
                self.failed = true;
                Err(WriterClosed)
            }
            Poll::Pending => Ok(self.task.take()),
        }
    }

    /// Writes the queue until it is empty and flushed (`Ready(Ok)`), the transport is full
    /// (`Pending`), or a write fails.
    fn drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.advance(0);
        loop {
            let Some(transport) = self.transport.as_mut() else { return Poll::Ready(Ok(())) };
            if self.queue.is_empty() {
                if self.unflushed {
                    ready!(transport.as_mut().poll_flush(cx))?;
                    self.unflushed = false;
                }
                return Poll::Ready(Ok(()));
            }
            let written = ready!(poll_write_frames(
                transport.as_mut(),
                self.queue.iter(),
                self.head_written,
                &mut self.scratch,
                cx
            ))?;
            if written == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.unflushed = true;
            self.advance(written);
        }
    }

    /// Drops the frames the last write completed, given `written` more bytes of the queue's
    /// start (zero drops only frames of no bytes).
    fn advance(&mut self, written: usize) {
        let mut done = self.head_written + written;
        while let Some(frame) = self.queue.front() {
            let len = frame.len();
            if done < len {
                break;
            }
            done -= len;
            self.queue.pop_front();
        }
        self.head_written = done;
    }
}

/// One write of the bytes of `frames`, `skip` bytes in: vectored where the transport can, else
/// the first buffer alone if large, else the first [`COALESCE_BYTES`] copied into `scratch`.
fn poll_write_frames<'a>(
    mut transport: Pin<&mut (dyn AsyncWrite + Send)>,
    frames: impl Iterator<Item = &'a Frame>,
    mut skip: usize,
    scratch: &mut Vec<u8>,
    cx: &mut Context<'_>,
) -> Poll<io::Result<usize>> {
    let mut slices: Vec<IoSlice<'a>> = Vec::with_capacity(8);
    'frames: for frame in frames {
        for piece in frame.pieces() {
            if skip >= piece.len() {
                skip -= piece.len();
                continue;
            }
            slices.push(IoSlice::new(&piece[skip..]));
            skip = 0;
            if slices.len() == MAX_SLICES {
                break 'frames;
            }
        }
    }
    match slices.as_slice() {
        [] => Poll::Ready(Ok(0)),
        [only] => transport.as_mut().poll_write(cx, only),
        _ if transport.is_write_vectored() => transport.as_mut().poll_write_vectored(cx, &slices),
        [first, ..] if first.len() >= COALESCE_BYTES => transport.as_mut().poll_write(cx, first),
        _ => {
            scratch.clear();
            for slice in &slices {
                let take = slice.len().min(COALESCE_BYTES - scratch.len());
                scratch.extend_from_slice(&slice[..take]);
                if scratch.len() == COALESCE_BYTES {
                    break;
                }
            }
            transport.as_mut().poll_write(cx, scratch)
        }
    }
}

impl FrameWriter {
    /// A writer for `transport`, and the writer task to spawn for it. The task ends when
    /// `closed` is cancelled, a write fails (it then cancels `closed`, so the reader stops too)
    /// or every clone of the writer is dropped.
    pub fn new<W>(transport: W, closed: CancellationToken) -> (Self, impl Future<Output = ()> + Send + 'static)
    where
        W: AsyncWrite + Send + 'static,
    {
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                transport: Some(Box::pin(transport)),
                queue: VecDeque::new(),
                head_written: 0,
                unflushed: false,
                task: None,
                senders_gone: false,
                failed: false,
                scratch: Vec::new(),
            }),
            closed,
            room: Notify::new(),
        });
        let writer = FrameWriter { sender: Arc::new(Sender(shared.clone())) };
        (writer, run(shared))
    }

    /// Sends `frame`, never waiting: written now if nothing is queued before it and the socket
    /// takes it, queued for the writer task otherwise (without bound: for senders that must
    /// not wait, such as a client's requests).
    pub fn send(&self, frame: impl Into<Frame>) -> Result<(), WriterClosed> {
        let shared = &self.sender.0;
        let task = {
            let mut state = shared.lock();
            if shared.closed.is_cancelled() {
                return Err(WriterClosed);
            }
            state.send(frame.into())
        };
        wake_for(shared, task)
    }

    /// Sends `frame` as [`send`](Self::send) does, first waiting until fewer than `max_queued`
    /// frames wait to be written (for senders that should slow down with the socket, such as a
    /// server's answers).
    pub async fn send_with_room(&self, frame: impl Into<Frame>, max_queued: usize) -> Result<(), WriterClosed> {
        let shared = &self.sender.0;
        let mut frame = Some(frame.into());
        loop {
            let room = shared.room.notified();
            let mut room = std::pin::pin!(room);
            // Registered before looking, so a write completing in between is not missed.
            room.as_mut().enable();
            let task = {
                let mut state = shared.lock();
                if shared.closed.is_cancelled() {
                    return Err(WriterClosed);
                }
                if state.queue.len() < max_queued.max(1) {
                    Some(state.send(frame.take().expect("a frame is sent once")))
                } else {
                    None
                }
            };
            if let Some(task) = task {
                return wake_for(shared, task);
            }
            tokio::select! {
                _ = room => {}
                _ = shared.closed.cancelled() => return Err(WriterClosed),
            }
        }
    }

    /// Frames waiting to be written (not counting what went out directly).
    pub fn queued(&self) -> usize {
        self.sender.0.lock().queue.len()
    }
}

/// Wakes the writer task if `sent` says so; a failed write also cancels the connection.
fn wake_for(shared: &Shared, sent: Result<Option<Waker>, WriterClosed>) -> Result<(), WriterClosed> {
    match sent {
        Ok(task) => {
            if let Some(task) = task {
                task.wake();
            }
            Ok(())
        }
        Err(closed) => {
            shared.closed.cancel();
            Err(closed)
        }
    }
}

/// The writer task: writes what is queued until the connection closes, a write fails or the
/// senders are gone; then cancels the connection and shuts the transport down.
async fn run(shared: Arc<Shared>) {
    let writing = std::future::poll_fn(|cx| poll_queue(&shared, cx));
    tokio::select! {
        _ = writing => {}
        _ = shared.closed.cancelled() => {}
    }
    shared.closed.cancel();
    let transport = {
        let mut state = shared.lock();
        state.queue.clear();
        state.transport.take()
    };
    shared.room.notify_waiters();
    if let Some(mut transport) = transport {
        let _ = transport.shutdown().await;
    }
}

/// Writes the queue until it is empty and flushed (then sleeps until a sender wakes it) or
/// the socket is full (then sleeps until it has room). Ready when the task should end.
fn poll_queue(shared: &Shared, cx: &mut Context<'_>) -> Poll<()> {
    let mut state = shared.lock();
    if state.failed {
        return Poll::Ready(());
    }
    let queued = state.queue.len();
    let drained = state.drain(cx);
    if state.queue.len() < queued {
        // Senders waiting for room look again.
        shared.room.notify_waiters();
    }
    match drained {
        Poll::Pending => Poll::Pending,
        Poll::Ready(Err(_)) => {
            state.failed = true;
            Poll::Ready(())
        }
        Poll::Ready(Ok(())) if state.senders_gone || state.transport.is_none() => Poll::Ready(()),
        Poll::Ready(Ok(())) => {
            if !state.task.as_ref().is_some_and(|task| task.will_wake(cx.waker())) {
                state.task = Some(cx.waker().clone());
            }
            Poll::Pending
        }
    }
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

    /// A writer for `transport`, its connection's token, and its running writer task.
    fn spawn_writer<W: AsyncWrite + Send + 'static>(
        transport: W,
    ) -> (FrameWriter, CancellationToken, tokio::task::JoinHandle<()>) {
        let closed = CancellationToken::new();
        let (writer, task) = FrameWriter::new(transport, closed.clone());
        (writer, closed, tokio::spawn(task))
    }

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
    async fn frames_are_written_whole_and_in_order_and_the_last_writer_ends_the_task() {
        let (client, mut server) = tokio::io::duplex(1024);
        let (writer, closed, task) = spawn_writer(client);
        for frame in [&b"one"[..], b"two", b"three"] {
            writer.send(Bytes::from_static(frame)).unwrap();
        }
        drop(writer);
        task.await.unwrap();
        assert!(closed.is_cancelled(), "the end of the writer closes the connection");
        let mut written = Vec::new();
        server.read_to_end(&mut written).await.unwrap();
        assert_eq!(written, b"onetwothree");
    }

    #[tokio::test]
    async fn a_frame_sent_while_nothing_is_queued_goes_out_without_the_task() {
        let (client, mut server) = tokio::io::duplex(1024);
        let closed = CancellationToken::new();
        // The task is never run: only the direct write can deliver the frame.
        let (writer, _task) = FrameWriter::new(client, closed.clone());
        writer.send(Bytes::from_static(b"direct")).unwrap();
        assert_eq!(writer.queued(), 0);
        let mut received = [0u8; 6];
        server.read_exact(&mut received).await.unwrap();
        assert_eq!(&received, b"direct");
    }

    #[tokio::test]
    async fn cancelling_the_connection_ends_the_task_and_refuses_frames() {
        let (client, mut server) = tokio::io::duplex(1024);
        let (writer, closed, task) = spawn_writer(client);
        writer.send(Bytes::from_static(b"a")).unwrap();
        let mut first = [0u8; 1];
        server.read_exact(&mut first).await.unwrap();
        assert_eq!(&first, b"a", "a frame is written without waiting for more");
        closed.cancel();
        task.await.unwrap();
        assert_eq!(writer.send(Bytes::from_static(b"b")), Err(WriterClosed));
        let mut rest = Vec::new();
        server.read_to_end(&mut rest).await.unwrap();
        assert!(rest.is_empty(), "closing ends the stream");
    }

    #[tokio::test]
    async fn pieces_are_written_back_to_back_whatever_the_writes_take() {
        // A small pipe: the writes are cut anywhere, within and between pieces, and what the
        // first (direct) write leaves is finished by the task, before the frames sent after it.
        let (client, mut server) = tokio::io::duplex(1000);
        let closed = CancellationToken::new();
        let (writer, task) = FrameWriter::new(client, closed.clone());
        let big: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let pieces = vec![
            Bytes::from_static(b"head"),
            Bytes::from(big.clone()),
            Bytes::new(),
            Bytes::from_static(b"mid"),
            Bytes::from(big[..70_000].to_vec()),
            Bytes::from_static(b"tail"),
        ];
        let expected: Vec<u8> = [&b"before"[..], &pieces.concat(), b"after", b""].concat();
        writer.send(Bytes::from_static(b"before")).unwrap();
        writer.send(pieces).unwrap();
        assert!(writer.queued() > 0, "the pipe cannot take 270 KB at once");
        writer.send(Bytes::from_static(b"after")).unwrap();
        writer.send(Bytes::new()).unwrap();
        drop(writer);
        let task = tokio::spawn(task);
        let mut written = Vec::new();
        server.read_to_end(&mut written).await.unwrap();
        task.await.unwrap();
        assert_eq!(written.len(), expected.len());
        assert!(written == expected, "the bytes arrive in order, whole");
    }

    #[tokio::test]
    async fn a_bounded_sender_waits_for_room() {
        let (client, mut server) = tokio::io::duplex(64);
        let (writer, closed, task) = spawn_writer(client);
        writer.send(Bytes::from(vec![1u8; 1000])).unwrap();
        assert_eq!(writer.queued(), 1, "the rest of the first frame waits for the reader");
        let waiting = writer.send_with_room(Bytes::from(vec![2u8; 10]), 1);
        let mut waiting = std::pin::pin!(waiting);
        let early = tokio::time::timeout(std::time::Duration::from_millis(50), waiting.as_mut()).await;
        assert!(early.is_err(), "no room while a frame is queued");
        let mut received = vec![0u8; 1010];
        let (sent, read) = tokio::join!(waiting, server.read_exact(&mut received));
        sent.unwrap();
        read.unwrap();
        assert!(received[..1000].iter().all(|&b| b == 1) && received[1000..].iter().all(|&b| b == 2));
        closed.cancel();
        task.await.unwrap();
        assert_eq!(writer.send_with_room(Bytes::from_static(b"x"), 1).await, Err(WriterClosed));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_senders_on_tcp_never_interleave_frames() {
        // Vectored writes over a real socket, from several tasks, with the reader late so
        // that frames queue up behind partial writes.
        const SENDERS: u8 = 4;
        const FRAMES: u32 = 2_000;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (client, accepted) = tokio::join!(tokio::net::TcpStream::connect(addr), listener.accept());
        let (mut server, _) = accepted.unwrap();
        let (writer, _closed, task) = spawn_writer(client.unwrap());
        let mut senders = Vec::new();
        for sender in 0..SENDERS {
            let writer = writer.clone();
            senders.push(tokio::spawn(async move {
                for seq in 0..FRAMES {
                    // Frame: sender, sequence number, then `len` bytes of the sender's id.
                    let len = 1 + (seq as usize * 7919) % 3000;
                    let mut head = vec![sender];
                    head.extend_from_slice(&seq.to_be_bytes());
                    head.extend_from_slice(&(len as u32).to_be_bytes());
                    let frame = Frame::Pieces(vec![Bytes::from(head), Bytes::from(vec![sender; len])]);
                    writer.send_with_room(frame, 16).await.unwrap();
                }
            }));
        }
        drop(writer);
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        let mut received = Vec::new();
        server.read_to_end(&mut received).await.unwrap();
        for sender in senders {
            sender.await.unwrap();
        }
        task.await.unwrap();
        let mut next = [0u32; SENDERS as usize];
        let mut rest = &received[..];
        while !rest.is_empty() {
            let sender = rest[0];
            let seq = u32::from_be_bytes(rest[1..5].try_into().unwrap());
            let len = u32::from_be_bytes(rest[5..9].try_into().unwrap()) as usize;
            assert_eq!(seq, next[sender as usize], "sender {sender}'s frames arrive in order");
            assert!(rest[9..9 + len].iter().all(|&b| b == sender), "frame {sender}:{seq} arrives whole");
            next[sender as usize] += 1;
            rest = &rest[9 + len..];
        }
        assert_eq!(next, [FRAMES; SENDERS as usize]);
    }

    #[tokio::test]
    async fn a_failed_write_closes_the_connection() {
        let (client, server) = tokio::io::duplex(16);
        drop(server);
        let (writer, closed, task) = spawn_writer(client);
        assert_eq!(writer.send(Bytes::from(vec![0u8; 128 * 1024])), Err(WriterClosed));
        assert!(closed.is_cancelled());
        task.await.unwrap();
        assert_eq!(writer.send(Bytes::from_static(b"x")), Err(WriterClosed));
    }
}
