//! Connection plumbing shared by the SC and SPU servers: an accept loop (plain, or TLS for
//! the public listeners), a frame reader and one shared writer per connection.
//!
//! Every outgoing frame goes through the connection's [`FrameSink`] to its writer (the one the
//! client engine uses too, [`FrameWriter`]), so frames from concurrent streams (watch, stream
//! fetch) are never interleaved. A frame goes to the socket from the task that made it when
//! nothing is queued before it: answering a request or pushing to a stream wakes no other
//! task, hence no other worker thread. The reader is the server's own: see [`framed`] for
//! why. A request that cannot be understood (undecodable header, unknown API key or version,
//! oversized or malformed frame) closes that connection only; other connections are
//! unaffected.
//!
//! A TLS ClientHello on a plain listener is answered as a plain Fluvio server answers it: its
//! first bytes read as the length of a frame of some 370 MB, whose rest the server waits for
//! (it drops what arrives instead of buffering it), so the client sees no answer and no close
//! (its handshake timeout tells it the server is not TLS).
//!
//! Peers cannot make the server hold memory or connections for nothing ([`ConnectionLimits`]):
//! a request whose first bytes arrived must arrive whole within the read timeout; a connection
//! with nothing going on (no request being read or handled, no stream or watch session, no
//! answer pending) is closed after the idle timeout; and the bytes of unfinished requests are
//! bounded per connection (one request, at most the frame limit) and in total (a budget shared
//! by every connection of the cluster: a request larger than [`UNBUDGETED_BYTES`] first
//! reserves its announced size, and its connection reads nothing more until it can).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
use fluvio_transport::framed::{self, Frame, FrameWriter};
use fluvio_wire::api::{RequestHeader, encode_response_frame};
use fluvio_wire::{EncodeError, Encoder, FrameDecoder, FrameError, Version};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::{debug, warn};

use crate::tasks::TaskGroup;
use crate::tls::TlsAcceptor;

/// Frames queued per connection before request handling waits for the socket.
const WRITE_QUEUE_FRAMES: usize = 64;
/// Bytes of an unfinished request a connection may buffer without reserving them from the
/// shared budget: every ordinary request fits.
pub(crate) const UNBUDGETED_BYTES: usize = 64 * 1024;
/// Initial read buffer of a connection.
const INITIAL_BUFFER: usize = 16 * 1024;

/// What a server allows each connection ([`accept_loop`]).
#[derive(Debug, Clone)]
pub(crate) struct ConnectionLimits {
    /// Largest request frame; a larger announced length closes the connection.
    pub max_frame_size: usize,
    /// How long a connection with nothing going on stays open. `None`: forever.
    pub idle_timeout: Option<Duration>,
    /// How long a request may take to arrive once its first byte did. `None`: forever.
    pub read_timeout: Option<Duration>,
    /// The budget for unfinished requests, shared by every connection of the cluster.
    pub buffers: Arc<BufferBudget>,
}

impl ConnectionLimits {
    /// The same limits without an idle timeout (for connections that may legitimately wait
    /// long between requests, such as followers fetching from their leader).
    pub(crate) fn without_idle_timeout(&self) -> Self {
        Self { idle_timeout: None, ..self.clone() }
    }
}

/// Bytes of unfinished requests the connections of a cluster may hold together (beyond
/// [`UNBUDGETED_BYTES`] each).
#[derive(Debug)]
pub(crate) struct BufferBudget {
    bytes: Arc<Semaphore>,
}

impl BufferBudget {
    /// A budget of `bytes`.
    pub(crate) fn new(bytes: usize) -> Self {
        Self { bytes: Arc::new(Semaphore::new(bytes.min(Semaphore::MAX_PERMITS))) }
    }

    /// Reserves `bytes`, waiting until they are free.
    async fn reserve(&self, bytes: usize) -> OwnedSemaphorePermit {
        let bytes = u32::try_from(bytes).unwrap_or(u32::MAX);
        // The semaphore is never closed.
        self.bytes.clone().acquire_many_owned(bytes).await.expect("the budget is never closed")
    }
}

/// The connection was closed before a frame could be queued.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("connection closed")]
pub(crate) struct ConnectionClosed;

/// Sends frames on a connection, through its shared writer. Cheap to clone.
#[derive(Clone)]
pub(crate) struct FrameSink {
    writer: FrameWriter,
    closed: CancellationToken,
    /// One reference per clone: every clone beyond the connection's own belongs to work in
    /// progress (a stream or watch session, a produce waiting for commitment), so the
    /// connection is not idle while there is one.
    activity: Arc<()>,
}

impl FrameSink {
    /// Sends a complete frame (length prefix included, in one buffer or in pieces), first
    /// waiting while [`WRITE_QUEUE_FRAMES`] frames wait for the socket.
    async fn send_frame(&self, frame: impl Into<Frame>) -> Result<(), ConnectionClosed> {
        self.writer.send_with_room(frame, WRITE_QUEUE_FRAMES).await.map_err(|_| ConnectionClosed)
    }

    /// Sends a frame this server encoded; if it could not be encoded, closes the connection.
    pub(crate) async fn send_encoded(
        &self,
        encoded: Result<impl Into<Frame>, EncodeError>,
    ) -> Result<(), ConnectionClosed> {
        match encoded {
            Ok(frame) => self.send_frame(frame).await,
            Err(err) => {
                // Only values this server built are encoded here; failing means a bug, so drop
                // the connection rather than send something the client cannot decode.
                warn!(%err, "could not encode a response; closing the connection");
                self.closed.cancel();
                Err(ConnectionClosed)
            }
        }
    }

    /// Encodes and sends a response.
    pub(crate) async fn respond<T: Encoder + ?Sized>(
        &self,
        correlation_id: i32,
        version: Version,
        body: &T,
    ) -> Result<(), ConnectionClosed> {
        let mut frame = BytesMut::new();
        let encoded = encode_response_frame(correlation_id, body, version, &mut frame).map(|()| frame.freeze());
        self.send_encoded(encoded).await
    }

    /// Resolves when the connection is closed (by either side or by server shutdown).
    pub(crate) async fn closed(&self) {
        self.closed.cancelled().await
    }

    /// Whether nothing but the connection's reader holds this sink and no frame waits to be
    /// written.
    fn is_idle(&self) -> bool {
        Arc::strong_count(&self.activity) == 1 && self.writer.queued() == 0
    }
}

/// Why a handler wants the connection closed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CloseReason {
    /// The request body could not be decoded.
    #[error("undecodable request (api key {api_key}, version {api_version}): {message}")]
    BadRequest { api_key: u16, api_version: i16, message: String },
    /// The API key is not served here.
    #[error("unknown api key {0}")]
    UnknownApi(u16),
    /// The version is outside the advertised range.
    #[error("api key {api_key} does not support version {api_version}")]
    UnsupportedVersion { api_key: u16, api_version: i16 },
    /// The peer went away while a response was being queued.
    #[error(transparent)]
    Closed(#[from] ConnectionClosed),
}

/// Serves the requests of one connection, one at a time in arrival order. Long-running work
/// (streams, waits) is spawned by the handler so later requests are not held up.
pub(crate) trait RequestHandler: Send + 'static {
    /// Handles one request whose header is already decoded; `body` holds the rest of the frame.
    fn handle(
        &mut self,
        header: RequestHeader,
        body: Bytes,
        sink: &FrameSink,
    ) -> impl Future<Output = Result<(), CloseReason>> + Send;
}

/// Checks a request version against an advertised range.
pub(crate) fn check_version(header: &RequestHeader, min: Version, max: Version) -> Result<(), CloseReason> {
    if header.api_version < min || header.api_version > max {
        return Err(CloseReason::UnsupportedVersion { api_key: header.api_key, api_version: header.api_version });
    }
    Ok(())
}

/// Decodes a request body that must span the rest of the frame.
pub(crate) fn decode_body<T: fluvio_wire::Decoder>(header: &RequestHeader, body: Bytes) -> Result<T, CloseReason> {
    T::decode_exact(body, header.api_version).map_err(|err| CloseReason::BadRequest {
        api_key: header.api_key,
        api_version: header.api_version,
        message: err.to_string(),
    })
}

/// Accepts plain-text connections until `shutdown` fires, serving each with a handler from
/// `make_handler` in a task of `tasks` (so aborting the group ends every connection too).
pub(crate) async fn accept_loop<H, F>(
    listener: TcpListener,
    shutdown: CancellationToken,
    tasks: TaskGroup,
    limits: ConnectionLimits,
    make_handler: F,
) where
    H: RequestHandler,
    F: Fn(SocketAddr) -> H + Send + 'static,
{
    accept_loop_with_tls(listener, None, shutdown, tasks, limits, make_handler).await
}

/// [`accept_loop`], with every connection secured by `tls` when given. The handshake runs in
/// the connection's own task, bounded by the acceptor's timeout, so a slow or plain-text peer
/// never holds up the accept loop; after it, TLS and plain connections are served alike.
pub(crate) async fn accept_loop_with_tls<H, F>(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    shutdown: CancellationToken,
    tasks: TaskGroup,
    limits: ConnectionLimits,
    make_handler: F,
) where
    H: RequestHandler,
    F: Fn(SocketAddr) -> H + Send + 'static,
{
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = shutdown.cancelled() => return,
        };
        match accepted {
            Ok((stream, peer)) => {
                let _ = stream.set_nodelay(true);
                let handler = make_handler(peer);
                let closed = shutdown.child_token();
                let connection_tasks = tasks.clone();
                let tls = tls.clone();
                let limits = limits.clone();
                // Refused only once the group is aborted; the stream is dropped, closing it.
                tasks.spawn(async move {
                    match tls {
                        None => serve_connection(stream, peer, handler, limits, closed, connection_tasks).await,
                        Some(tls) => {
                            if let Some(stream) = tls.handshake(stream, peer, &closed).await {
                                serve_connection(stream, peer, handler, limits, closed, connection_tasks).await;
                            }
                        }
                    }
                });
            }
            Err(err) => {
                // Typically EMFILE; back off briefly instead of spinning.
                warn!(%err, "accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
    }
}

/// Reads frames from `stream` and hands them to `handler` until either side closes, or the
/// peer breaks a limit of `limits`. The writer task runs in `tasks`, so that aborting the group
/// drops both halves of the socket.
pub(crate) async fn serve_connection<S, H>(
    stream: S,
    peer: SocketAddr,
    mut handler: H,
    limits: ConnectionLimits,
    closed: CancellationToken,
    tasks: TaskGroup,
) where
    S: AsyncRead + AsyncWrite + Send + 'static,
    H: RequestHandler,
{
    let (mut reader, writer) = tokio::io::split(stream);
    let (writer, write_task) = FrameWriter::new(writer, closed.clone());
    let sink = FrameSink { writer, closed: closed.clone(), activity: Arc::new(()) };
    let (writer_done_tx, writer_done) = tokio::sync::oneshot::channel::<()>();
    let spawned = tasks.spawn(async move {
        write_task.await;
        let _ = writer_done_tx.send(());
    });
    if !spawned {
        return; // the group was aborted: drop the connection
    }
    let decoder = FrameDecoder::new(limits.max_frame_size);
    let mut buf = BytesMut::with_capacity(INITIAL_BUFFER);
    let mut reading = ReadState::new(&limits);
    // Bytes of a ClientHello's "frame" still to come, dropped as they arrive.
    let mut discarding = 0usize;

    'connection: loop {
        if discarding > 0 {
            let dropped = buf.len().min(discarding);
            buf.advance(dropped);
            discarding -= dropped;
            if discarding == 0 {
                break; // the whole "frame" arrived: it cannot be a request
            }
        }
        while discarding == 0 {
            let frame = match decoder.decode(&mut buf) {
                Ok(Some(frame)) => frame,
                Ok(None) => break,
                Err(FrameError::TooLarge { len, .. }) if framed::is_tls_handshake_start(&buf) => {
                    debug!(%peer, "TLS handshake on a plain listener: waiting for the rest of that frame");
                    discarding = len + fluvio_wire::frame::FRAME_PREFIX_LEN;
                    continue 'connection;
                }
                Err(err) => {
                    warn!(%peer, %err, "bad frame; closing the connection");
                    break 'connection;
                }
            };
            reading.frame_done(&mut buf);
            let mut body = frame;
            let header = match RequestHeader::decode_from_frame(&mut body) {
                Ok(header) => header,
                Err(err) => {
                    warn!(%peer, %err, "undecodable request header; closing the connection");
                    break 'connection;
                }
            };
            if let Err(reason) = handler.handle(header, body, &sink).await {
                match reason {
                    CloseReason::Closed(_) => debug!(%peer, "peer closed while responding"),
                    other => warn!(%peer, reason = %other, "closing the connection"),
                }
                break 'connection;
            }
            reading.active();
        }
        if discarding == 0 {
            // What is buffered now is the start of the next request, if anything.
            let announced = match decoder.peek_len(&buf) {
                Ok(announced) => announced,
                Err(err) => {
                    warn!(%peer, %err, "bad frame; closing the connection");
                    break;
                }
            };
            match reading.make_room(&mut buf, announced, &closed).await {
                Ok(()) => {}
                Err(stop) => {
                    stop.log(peer, buf.len());
                    break;
                }
            }
        }
        let pending = buf.len();
        let read = tokio::select! {
            // Data that arrived wins over a timer that fired meanwhile (a starved server must
            // not blame its peer).
            biased;
            read = reader.read_buf(&mut buf) => read,
            _ = closed.cancelled() => break,
            stop = reading.expired(pending > 0 || discarding > 0, &sink) => {
                stop.log(peer, pending);
                break;
            }
        };
        match read {
            Ok(0) => {
                if !buf.is_empty() {
                    debug!(%peer, pending = buf.len(), "peer disconnected mid-request");
                }
                break;
            }
            Ok(_) => reading.received(&buf),
            Err(err) => {
                debug!(%peer, %err, "read failed");
                break;
            }
        }
    }
    closed.cancel();
    drop(sink);
    // Resolves when the writer is done, or is dropped (its group was aborted).
    let _ = writer_done.await;
}

/// Why a connection was closed for breaking a limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LimitReached {
    /// Nothing went on for the idle timeout.
    Idle(Duration),
    /// A request did not arrive whole within the read timeout (the wait for buffer budget
    /// included).
    ReadTimeout(Duration),
    /// The connection was closed while waiting for buffer budget.
    Closed,
}

impl LimitReached {
    fn log(self, peer: SocketAddr, pending: usize) {
        match self {
            LimitReached::Idle(timeout) => debug!(%peer, ?timeout, "idle connection closed"),
            LimitReached::ReadTimeout(timeout) => {
                warn!(%peer, ?timeout, pending, "a request did not arrive within the read timeout; closing the connection")
            }
            LimitReached::Closed => {}
        }
    }
}

/// The timing and memory accounting of one connection's reads.
struct ReadState {
    idle_timeout: Option<Duration>,
    read_timeout: Option<Duration>,
    budget: Arc<BufferBudget>,
    /// Budget reserved for the request being read.
    reserved: Option<OwnedSemaphorePermit>,
    /// When the first byte of the request being read arrived.
    started: Option<Instant>,
    /// When something last happened on the connection.
    last_activity: Instant,
}

impl ReadState {
    fn new(limits: &ConnectionLimits) -> Self {
        Self {
            idle_timeout: limits.idle_timeout,
            read_timeout: limits.read_timeout,
            budget: limits.buffers.clone(),
            reserved: None,
            started: None,
            last_activity: Instant::now(),
        }
    }

    /// Bytes arrived.
    fn received(&mut self, buf: &BytesMut) {
        self.last_activity = Instant::now();
        if !buf.is_empty() && self.started.is_none() {
            self.started = Some(self.last_activity);
        }
    }

    /// A request was handled.
    fn active(&mut self) {
        self.last_activity = Instant::now();
    }

    /// A request was taken off the front of `buf`: its budget goes back, and a buffer grown
    /// for it is replaced by a small one (the request's own bytes are freed once handled).
    fn frame_done(&mut self, buf: &mut BytesMut) {
        self.reserved = None;
        self.started = (!buf.is_empty()).then(Instant::now);
        if buf.capacity() > 2 * UNBUDGETED_BYTES && buf.len() <= UNBUDGETED_BYTES {
            let mut small = BytesMut::with_capacity(INITIAL_BUFFER.max(buf.len()));
            small.extend_from_slice(buf);
            *buf = small;
        }
    }

    /// Before reading more of a request that announced `announced` bytes: reserves the budget
    /// a large one needs (waiting until it is free, within the read timeout), and makes room for
    /// it in `buf` at once, so that the buffer never grows past what was reserved.
    async fn make_room(
        &mut self,
        buf: &mut BytesMut,
        announced: Option<usize>,
        closed: &CancellationToken,
    ) -> Result<(), LimitReached> {
        let Some(len) = announced else { return Ok(()) };
        let whole = fluvio_wire::frame::FRAME_PREFIX_LEN + len;
        if whole <= UNBUDGETED_BYTES || self.reserved.is_some() {
            return Ok(());
        }
        let reserve = self.budget.reserve(whole - UNBUDGETED_BYTES);
        let permit = match self.deadline() {
            Some(deadline) => tokio::select! {
                permit = tokio::time::timeout_at(deadline, reserve) => {
                    permit.map_err(|_| LimitReached::ReadTimeout(self.read_timeout.unwrap_or_default()))?
                }
                _ = closed.cancelled() => return Err(LimitReached::Closed),
            },
            None => tokio::select! {
                permit = reserve => permit,
                _ = closed.cancelled() => return Err(LimitReached::Closed),
            },
        };
        self.reserved = Some(permit);
        buf.reserve(whole - buf.len());
        Ok(())
    }

    /// When the request being read must be complete.
    fn deadline(&self) -> Option<Instant> {
        Some(self.started? + self.read_timeout?)
    }

    /// Resolves when the connection breaks a limit: the request being read is late, or nothing
    /// went on for the idle timeout. Never resolves when neither applies.
    async fn expired(&mut self, request_started: bool, sink: &FrameSink) -> LimitReached {
        if request_started {
            match self.deadline() {
                Some(deadline) => {
                    tokio::time::sleep_until(deadline).await;
                    return LimitReached::ReadTimeout(self.read_timeout.unwrap_or_default());
                }
                None => std::future::pending().await,
            }
        }
        let Some(idle_timeout) = self.idle_timeout else { return std::future::pending().await };
        // Work in progress (a stream, a watch, an answer pending) counts as activity; it is
        // looked at a few times per timeout.
        let check = (idle_timeout / 4).max(Duration::from_millis(10));
        loop {
            if !sink.is_idle() {
                self.last_activity = Instant::now();
            }
            let deadline = self.last_activity + idle_timeout;
            let now = Instant::now();
            if deadline <= now {
                return LimitReached::Idle(idle_timeout);
            }
            tokio::time::sleep_until(deadline.min(now + check)).await;
        }
    }
}
