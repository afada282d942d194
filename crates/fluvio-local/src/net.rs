//! Connection plumbing shared by the SC and SPU servers: an accept loop (plain, or TLS for
//! the public listeners), a frame reader and one writer task per connection.
//!
//! Every outgoing frame goes through the connection's [`FrameSink`] to a single writer task,
//! so frames from concurrent streams (watch, stream fetch) are never interleaved. A request
//! that cannot be understood (undecodable header, unknown API key or version, oversized or
//! malformed frame) closes that connection only; other connections are unaffected.
//!
//! A TLS ClientHello on a plain listener is answered as a plain Fluvio server answers it: its
//! first bytes read as the length of a frame of some 370 MB, whose rest the server waits for
//! (it drops what arrives instead of buffering it), so the client sees no answer and no close
//! (its handshake timeout tells it the server is not TLS).

use std::future::Future;
use std::net::SocketAddr;

use bytes::{Buf, Bytes, BytesMut};
use fluvio_wire::api::{RequestHeader, encode_response_frame};
use fluvio_wire::{Encoder, FrameDecoder, FrameError, Version};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufWriter};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::{debug, warn};

use crate::tasks::TaskGroup;
use crate::tls::TlsAcceptor;

/// Frames queued per connection before request handling waits for the socket.
const WRITE_QUEUE_FRAMES: usize = 64;

/// The connection was closed before a frame could be queued.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("connection closed")]
pub(crate) struct ConnectionClosed;

/// Queues frames to a connection's writer task. Cheap to clone.
#[derive(Clone)]
pub(crate) struct FrameSink {
    tx: mpsc::Sender<Bytes>,
    closed: CancellationToken,
}

impl FrameSink {
    /// Queues a complete frame (length prefix included).
    pub(crate) async fn send_frame(&self, frame: Bytes) -> Result<(), ConnectionClosed> {
        tokio::select! {
            sent = self.tx.send(frame) => sent.map_err(|_| ConnectionClosed),
            _ = self.closed.cancelled() => Err(ConnectionClosed),
        }
    }

    /// Encodes and queues a response.
    pub(crate) async fn respond<T: Encoder + ?Sized>(
        &self,
        correlation_id: i32,
        version: Version,
        body: &T,
    ) -> Result<(), ConnectionClosed> {
        let mut frame = BytesMut::new();
        if let Err(err) = encode_response_frame(correlation_id, body, version, &mut frame) {
            // Only values this server built are encoded here; failing means a bug, so drop
            // the connection rather than send something the client cannot decode.
            warn!(%err, "could not encode a response; closing the connection");
            self.closed.cancel();
            return Err(ConnectionClosed);
        }
        self.send_frame(frame.freeze()).await
    }

    /// Resolves when the connection is closed (by either side or by server shutdown).
    pub(crate) async fn closed(&self) {
        self.closed.cancelled().await
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
    max_frame_size: usize,
    make_handler: F,
) where
    H: RequestHandler,
    F: Fn(SocketAddr) -> H + Send + 'static,
{
    accept_loop_with_tls(listener, None, shutdown, tasks, max_frame_size, make_handler).await
}

/// [`accept_loop`], with every connection secured by `tls` when given. The handshake runs in
/// the connection's own task, bounded by the acceptor's timeout, so a slow or plain-text peer
/// never holds up the accept loop; after it, TLS and plain connections are served alike.
pub(crate) async fn accept_loop_with_tls<H, F>(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    shutdown: CancellationToken,
    tasks: TaskGroup,
    max_frame_size: usize,
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
                // Refused only once the group is aborted; the stream is dropped, closing it.
                tasks.spawn(async move {
                    match tls {
                        None => serve_connection(stream, peer, handler, max_frame_size, closed, connection_tasks).await,
                        Some(tls) => {
                            if let Some(stream) = tls.handshake(stream, peer, &closed).await {
                                serve_connection(stream, peer, handler, max_frame_size, closed, connection_tasks).await;
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

/// Reads frames from `stream` and hands them to `handler` until either side closes. The writer
/// task runs in `tasks`, so that aborting the group drops both halves of the socket.
pub(crate) async fn serve_connection<S, H>(
    stream: S,
    peer: SocketAddr,
    mut handler: H,
    max_frame_size: usize,
    closed: CancellationToken,
    tasks: TaskGroup,
) where
    S: AsyncRead + AsyncWrite + Send + 'static,
    H: RequestHandler,
{
    let (mut reader, writer) = tokio::io::split(stream);
    let (tx, rx) = mpsc::channel(WRITE_QUEUE_FRAMES);
    let sink = FrameSink { tx, closed: closed.clone() };
    let (writer_done_tx, writer_done) = tokio::sync::oneshot::channel::<()>();
    let spawned = tasks.spawn({
        let closed = closed.clone();
        async move {
            write_loop(writer, rx, closed).await;
            let _ = writer_done_tx.send(());
        }
    });
    if !spawned {
        return; // the group was aborted: drop the connection
    }
    let decoder = FrameDecoder::new(max_frame_size);
    let mut buf = BytesMut::with_capacity(16 * 1024);
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
                Err(FrameError::TooLarge { len, .. }) if is_tls_handshake(&buf) => {
                    debug!(%peer, "TLS handshake on a plain listener: waiting for the rest of that frame");
                    discarding = len + fluvio_wire::frame::FRAME_PREFIX_LEN;
                    continue 'connection;
                }
                Err(err) => {
                    warn!(%peer, %err, "bad frame; closing the connection");
                    break 'connection;
                }
            };
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
        }
        let read = tokio::select! {
            read = reader.read_buf(&mut buf) => read,
            _ = closed.cancelled() => break,
        };
        match read {
            Ok(0) => {
                if !buf.is_empty() {
                    debug!(%peer, pending = buf.len(), "peer disconnected mid-request");
                }
                break;
            }
            Ok(_) => {}
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

/// Whether `buf` starts with a TLS handshake record (a ClientHello): content type 22, then
/// major version 3.
fn is_tls_handshake(buf: &[u8]) -> bool {
    matches!(buf, [22, 3, minor, ..] if *minor <= 4)
}

async fn write_loop<W: AsyncWrite>(writer: W, mut rx: mpsc::Receiver<Bytes>, closed: CancellationToken) {
    let mut writer = std::pin::pin!(BufWriter::with_capacity(64 * 1024, writer));
    loop {
        let frame = tokio::select! {
            frame = rx.recv() => frame,
            _ = closed.cancelled() => None,
        };
        let Some(frame) = frame else { break };
        if writer.write_all(&frame).await.is_err() {
            break;
        }
        // Coalesce whatever else is already queued into the same flush.
        while let Ok(frame) = rx.try_recv() {
            if writer.write_all(&frame).await.is_err() {
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
