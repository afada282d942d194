//! One multiplexed connection to an SC or an SPU.
//!
//! A reader task routes each incoming frame by correlation id: to the waiter of a single
//! request, or to the receiver of a stream (watch, stream fetch), where many frames share one
//! id. Every outgoing frame is written whole by the shared writer `fluvio-local` uses too
//! ([`FrameWriter`]): from the sending task itself when nothing is queued before it, so a
//! request does not cost a wake-up of another task. Stream deliveries never block the
//! reader: the servers flow-control streams (StreamFetch waits for UpdateOffsets; watches are
//! small), so a slow consumer cannot stall other requests on the same socket. The reader is
//! this client's own.
//!
//! When the socket breaks, every pending request fails with a retriable
//! [`ErrorKind::ConnectionClosed`] and every stream ends; the owner of the connection replaces
//! it on next use.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use fluvio_transport::framed::{self, Frame, FrameWriter};
use fluvio_wire::api::{
    ApiVersionsRequest, ApiVersionsResponse, RequestHeader, encode_request_frame, peek_correlation_id,
};
use fluvio_wire::{Decoder, FrameDecoder, Request, Version};
use parking_lot::Mutex;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use tracing::{debug, error, trace, warn};

use crate::config::ClientConfig;
use crate::error::{Error, ErrorKind, Result, TlsFailure};
use crate::tls::{self, TlsConnector};

/// The client version sent in ApiVersions. This engine speaks the 0.50 client protocol; the
/// official SC requires valid semver here.
pub(crate) const CLIENT_PROTOCOL_VERSION: &str = "0.50.1";

/// SC API version this engine speaks.
pub(crate) const SC_VERSION: Version = fluvio_wire::sc::SC_COMMON_VERSION;
/// SPU API version this engine speaks.
pub(crate) const SPU_VERSION: Version = fluvio_wire::spu::SPU_COMMON_VERSION;

/// Which server a connection talks to; decides the versions that must be supported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// The SC (admin and metadata).
    Sc,
    /// An SPU (data).
    Spu,
}

enum Route {
    Once(oneshot::Sender<Result<Bytes>>),
    Stream(mpsc::UnboundedSender<Bytes>),
    /// A response nobody waits for (e.g. to an acknowledgement).
    Ignore,
}

struct Shared {
    writer: FrameWriter,
    routes: Mutex<HashMap<i32, Route>>,
    next_id: AtomicI32,
    closed: CancellationToken,
    client_id: String,
    addr: String,
    /// Why the reader stopped, when it knows better than "connection closed": a TLS alert, or
    /// a TLS record on a plain connection. Set before the pending requests are failed, so the
    /// connect path can report it instead of a bare [`ErrorKind::ConnectionClosed`].
    close_cause: Mutex<Option<Error>>,
    /// Whether the transport is plain TCP, where TLS bytes from the server mean "this server
    /// requires TLS".
    plain: bool,
}

impl Shared {
    fn next_correlation_id(&self) -> i32 {
        loop {
            let id = self.next_id.fetch_add(1, Ordering::Relaxed);
            // Wrap-around would eventually reach ids still used by long-lived streams.
            if !self.routes.lock().contains_key(&id) {
                return id;
            }
        }
    }

    fn send<R: Request>(&self, request: &R, version: Version, route: Route) -> Result<i32> {
        self.send_encoded(R::API_KEY, version, route, |header| {
            let mut frame = BytesMut::new();
            encode_request_frame(header, request, &mut frame)?;
            Ok(Frame::Whole(frame.freeze()))
        })
    }

    /// Sends the frame `encode` makes for the header of this request (its correlation id
    /// fresh); returns that id.
    fn send_encoded(
        &self,
        api_key: u16,
        version: Version,
        route: Route,
        encode: impl FnOnce(&RequestHeader) -> std::result::Result<Frame, fluvio_wire::EncodeError>,
    ) -> Result<i32> {
        if self.closed.is_cancelled() {
            return Err(Error::new(ErrorKind::ConnectionClosed, format!("connection to {} is closed", self.addr)));
        }
        let correlation_id = self.next_correlation_id();
        let header = RequestHeader { api_key, api_version: version, correlation_id, client_id: self.client_id.clone() };
        let frame = encode(&header)?;
        self.routes.lock().insert(correlation_id, route);
        // Checked after registering: the reader marks the connection closed before failing
        // the routes it finds, so a route added after that sweep is caught here.
        if self.closed.is_cancelled() || self.writer.send(frame).is_err() {
            self.routes.lock().remove(&correlation_id);
            return Err(Error::new(ErrorKind::ConnectionClosed, format!("connection to {} is closed", self.addr)));
        }
        Ok(correlation_id)
    }

    fn close_cause(&self) -> Option<Error> {
        self.close_cause.lock().clone()
    }

    fn fail_all(&self) {
        let routes = std::mem::take(&mut *self.routes.lock());
        for (_, route) in routes {
            if let Route::Once(waiter) = route {
                let _ = waiter.send(Err(Error::new(
                    ErrorKind::ConnectionClosed,
                    format!("connection to {} closed while waiting for a response", self.addr),
                )));
            }
        }
    }
}

/// A multiplexed connection.
pub(crate) struct Connection {
    shared: Arc<Shared>,
    versions: ApiVersionsResponse,
    request_timeout: Duration,
}

impl Connection {
    /// Connects to `addr`, negotiates versions and checks the server supports what `role`
    /// needs. Everything, TLS and negotiation included, happens within the connect timeout.
    /// With TLS, the server's certificate must be valid for `server_name`.
    ///
    /// The connection closes when `lifetime` is cancelled (the client's shutdown), whoever
    /// still holds it: a stream's own connection ends with the client at once, and the server
    /// closing it afterwards is not reported as a connection lost.
    pub(crate) async fn connect(
        addr: &str,
        config: &ClientConfig,
        tls: &TlsConnector,
        role: Role,
        server_name: &str,
        lifetime: &CancellationToken,
    ) -> Result<Arc<Self>> {
        let connect = async {
            let tcp = tokio::net::TcpStream::connect(addr)
                .await
                .map_err(|e| Error::with_source(ErrorKind::Connect, format!("cannot connect to {addr}"), e))?;
            let _ = tcp.set_nodelay(true);
            let transport = tls.wrap(tcp, addr, server_name, config.effective_tls_handshake_timeout()).await?;
            let shared = start(transport, addr, config.client_id(), tls.is_plain(), lifetime);
            // If negotiation fails or the connect times out (this future is dropped), the
            // socket and its tasks must not outlive the attempt.
            let guard = CloseOnDrop(Some(shared.clone()));
            let request = ApiVersionsRequest {
                client_version: CLIENT_PROTOCOL_VERSION.into(),
                client_os: std::env::consts::OS.into(),
                client_arch: std::env::consts::ARCH.into(),
            };
            // A TLS problem the server reports only after the handshake (with TLS 1.3, a refused
            // client certificate) or a TLS server answering a plain client ends the connection
            // here: report why, not just that it closed.
            let versions = request_on(&shared, &request, ApiVersionsRequest::MAX_VERSION, None)
                .await
                .map_err(|err| shared.close_cause().unwrap_or(err))?;
            guard.disarm();
            Ok::<_, Error>((shared, versions))
        };
        let outcome = match tokio::time::timeout(config.connect_timeout(), connect).await {
            Ok(result) => result,
            Err(_) => Err(Error::new(
                ErrorKind::ConnectTimeout,
                format!("connecting to {addr} took longer than {:?}", config.connect_timeout()),
            )),
        };
        let (shared, versions) = match outcome {
            Ok(connected) => connected,
            Err(err) => {
                match err.tls_failure() {
                    Some(failure) => error!(%addr, ?role, ?failure, %err, "TLS refused"),
                    None => debug!(%addr, ?role, %err, "cannot connect"),
                }
                return Err(err);
            }
        };
        let connection = Arc::new(Self { shared, versions, request_timeout: config.request_timeout() });
        if let Err(err) = connection.check_versions(role) {
            connection.close();
            return Err(err);
        }
        // Routine (streams open SPU connections of their own): losing one is the news.
        debug!(%addr, ?role, platform = %connection.versions.platform_version, "connected");
        Ok(connection)
    }

    fn check_versions(&self, role: Role) -> Result<()> {
        use fluvio_wire::{sc, spu};
        let required: &[(u16, Version, &str)] = match role {
            Role::Sc => &[
                (sc::keys::CREATE, SC_VERSION, "Create"),
                (sc::keys::DELETE, SC_VERSION, "Delete"),
                (sc::keys::LIST, SC_VERSION, "List"),
                (sc::keys::WATCH, SC_VERSION, "Watch"),
            ],
            Role::Spu => &[
                (spu::keys::PRODUCE, SPU_VERSION, "Produce"),
                (spu::keys::FETCH_OFFSETS, SPU_VERSION, "FetchOffsets"),
                (spu::keys::STREAM_FETCH, SPU_VERSION, "StreamFetch"),
                (spu::keys::UPDATE_OFFSETS, 0, "UpdateOffsets"),
            ],
        };
        for (key, version, name) in required {
            if self.versions.negotiate(*key, *version, *version) != Some(*version) {
                let advertised = self
                    .versions
                    .lookup(*key)
                    .map_or("nothing".to_string(), |k| format!("{}..={}", k.min_version, k.max_version));
                return Err(Error::new(
                    ErrorKind::IncompatibleServer,
                    format!(
                        "{} does not support {name} v{version} (it offers {advertised}); this client speaks SC v{SC_VERSION} and SPU v{SPU_VERSION}",
                        self.shared.addr
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The platform version the server reported.
    pub(crate) fn platform_version(&self) -> &str {
        &self.versions.platform_version
    }

    /// True once the socket is closed; the connection must be replaced.
    pub(crate) fn is_closed(&self) -> bool {
        self.shared.closed.is_cancelled()
    }

    /// Closes the socket; pending requests fail, streams end.
    pub(crate) fn close(&self) {
        self.shared.closed.cancel();
    }

    /// Sends a request and waits for its response within the request timeout.
    pub(crate) async fn request<R: Request>(&self, request: &R, version: Version) -> Result<R::Response> {
        request_on(&self.shared, request, version, Some(self.request_timeout)).await
    }

    /// Sends a request and waits for its response within `timeout`.
    pub(crate) async fn request_with_timeout<R: Request>(
        &self,
        request: &R,
        version: Version,
        timeout: Duration,
    ) -> Result<R::Response> {
        request_on(&self.shared, request, version, Some(timeout)).await
    }

    /// Sends a request encoded by `encode` (for the request header it is given) and waits for
    /// its `R::Response` within `timeout`: for a request sent in pieces
    /// ([`fluvio_wire::spu::ProducePieces`]).
    pub(crate) async fn request_encoded_with_timeout<R: Request>(
        &self,
        version: Version,
        timeout: Duration,
        encode: impl FnOnce(&RequestHeader) -> std::result::Result<Frame, fluvio_wire::EncodeError>,
    ) -> Result<R::Response> {
        let (tx, rx) = oneshot::channel();
        let correlation_id = self.shared.send_encoded(R::API_KEY, version, Route::Once(tx), encode)?;
        await_response::<R>(&self.shared, correlation_id, rx, version, Some(timeout)).await
    }

    /// Sends a request whose response is not awaited (its frame is dropped on arrival).
    pub(crate) fn send_and_forget<R: Request>(&self, request: &R, version: Version) -> Result<()> {
        self.shared.send(request, version, Route::Ignore).map(|_| ())
    }

    /// Opens a stream: every response frame carrying this request's correlation id arrives on
    /// the returned receiver, until the receiver is dropped or the connection closes.
    pub(crate) fn open_stream<R: Request>(&self, request: &R, version: Version) -> Result<StreamReceiver<R::Response>> {
        let (tx, rx) = mpsc::unbounded_channel();
        let correlation_id = self.shared.send(request, version, Route::Stream(tx))?;
        Ok(StreamReceiver {
            rx,
            correlation_id,
            version,
            shared: self.shared.clone(),
            _marker: std::marker::PhantomData,
        })
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.shared.closed.cancel();
    }
}

async fn request_on<R: Request>(
    shared: &Arc<Shared>,
    request: &R,
    version: Version,
    timeout: Option<Duration>,
) -> Result<R::Response> {
    let (tx, rx) = oneshot::channel();
    let correlation_id = shared.send(request, version, Route::Once(tx))?;
    await_response::<R>(shared, correlation_id, rx, version, timeout).await
}

/// Waits for the response to the request sent with `correlation_id`, within `timeout`.
async fn await_response<R: Request>(
    shared: &Arc<Shared>,
    correlation_id: i32,
    rx: oneshot::Receiver<Result<Bytes>>,
    version: Version,
    timeout: Option<Duration>,
) -> Result<R::Response> {
    let wait = async {
        rx.await.unwrap_or_else(|_| {
            Err(Error::new(ErrorKind::ConnectionClosed, format!("connection to {} closed", shared.addr)))
        })
    };
    let frame = match timeout {
        Some(timeout) => match tokio::time::timeout(timeout, wait).await {
            Ok(frame) => frame?,
            Err(_) => {
                shared.routes.lock().remove(&correlation_id);
                return Err(Error::new(
                    ErrorKind::Timeout,
                    format!("no response from {} within {timeout:?} (api key {})", shared.addr, R::API_KEY),
                ));
            }
        },
        None => wait.await?,
    };
    R::Response::decode_exact(frame, version)
        .map_err(|e| Error::protocol(format!("undecodable response from {} (api key {})", shared.addr, R::API_KEY), e))
}

/// Frames of one stream, decoded on receipt.
pub(crate) struct StreamReceiver<T> {
    rx: mpsc::UnboundedReceiver<Bytes>,
    correlation_id: i32,
    version: Version,
    shared: Arc<Shared>,
    _marker: std::marker::PhantomData<fn() -> T>,
}

impl<T: Decoder> StreamReceiver<T> {
    /// The next message; `None` once the connection closed.
    pub(crate) async fn next(&mut self) -> Option<Result<T>> {
        let frame = self.rx.recv().await?;
        Some(
            T::decode_exact(frame, self.version)
                .map_err(|e| Error::protocol(format!("undecodable stream message from {}", self.shared.addr), e)),
        )
    }
}

impl<T> Drop for StreamReceiver<T> {
    fn drop(&mut self) {
        self.shared.routes.lock().remove(&self.correlation_id);
    }
}

/// Closes a half-established connection unless disarmed.
struct CloseOnDrop(Option<Arc<Shared>>);

impl CloseOnDrop {
    fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for CloseOnDrop {
    fn drop(&mut self) {
        if let Some(shared) = &self.0 {
            shared.closed.cancel();
        }
    }
}

fn start<T>(transport: T, addr: &str, client_id: &str, plain: bool, lifetime: &CancellationToken) -> Arc<Shared>
where
    T: AsyncRead + AsyncWrite + Send + 'static,
{
    let (reader, writer) = tokio::io::split(transport);
    let closed = lifetime.child_token();
    let (writer, write_task) = FrameWriter::new(writer, closed.clone());
    let shared = Arc::new(Shared {
        writer,
        routes: Mutex::new(HashMap::new()),
        // The official client also starts at 1; ids are only unique per connection.
        next_id: AtomicI32::new(1),
        closed,
        client_id: client_id.to_string(),
        addr: addr.to_string(),
        close_cause: Mutex::new(None),
        plain,
    });
    tokio::spawn(write_task);
    tokio::spawn(read_loop(reader, shared.clone()));
    shared
}

async fn read_loop<R: AsyncRead>(reader: R, shared: Arc<Shared>) {
    let mut reader = std::pin::pin!(reader);
    let decoder = FrameDecoder::default();
    let mut buf = BytesMut::with_capacity(64 * 1024);
    let mut first_bytes_checked = !shared.plain;
    'read: loop {
        if !first_bytes_checked && buf.len() >= 3 {
            first_bytes_checked = true;
            if framed::is_tls_record_start(&buf) {
                let failure = TlsFailure::ServerRequiresTls;
                *shared.close_cause.lock() = Some(Error::tls(
                    failure,
                    format!("{} answered with TLS: {}", shared.addr, failure.describe()),
                    None,
                ));
                break;
            }
        }
        loop {
            match decoder.decode(&mut buf) {
                Ok(Some(frame)) => dispatch(&shared, frame),
                Ok(None) => break,
                Err(err) => {
                    debug!(addr = %shared.addr, %err, "bad frame from server");
                    break 'read;
                }
            }
        }
        let read = tokio::select! {
            read = reader.read_buf(&mut buf) => read,
            _ = shared.closed.cancelled() => break,
        };
        match read {
            Ok(0) => break,
            Err(err) => {
                if let Some(failure) = tls::classify(&err) {
                    *shared.close_cause.lock() = Some(Error::tls(
                        failure,
                        format!("TLS failure on the connection to {}: {}", shared.addr, failure.describe()),
                        Some(Box::new(err)),
                    ));
                }
                break;
            }
            Ok(_) => {}
        }
    }
    if shared.closed.is_cancelled() {
        debug!(addr = %shared.addr, "connection closed");
    } else {
        warn!(addr = %shared.addr, "connection lost");
    }
    shared.closed.cancel();
    shared.fail_all();
}

fn dispatch(shared: &Shared, mut frame: Bytes) {
    let Some(correlation_id) = peek_correlation_id(&frame) else { return };
    bytes::Buf::advance(&mut frame, 4);
    let mut routes = shared.routes.lock();
    match routes.get(&correlation_id) {
        Some(Route::Stream(tx)) => {
            if tx.send(frame).is_err() {
                routes.remove(&correlation_id);
            }
        }
        Some(Route::Once(_)) => {
            if let Some(Route::Once(waiter)) = routes.remove(&correlation_id) {
                let _ = waiter.send(Ok(frame));
            }
        }
        Some(Route::Ignore) => {
            routes.remove(&correlation_id);
        }
        None => trace!(correlation_id, "response for an unknown correlation id dropped"),
    }
}
