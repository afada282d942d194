//! Test-only servers and helpers for the connection tests: fake SC/SPU endpoints that speak
//! just enough of the protocol (ApiVersions) to exercise negotiation and timeouts, free ports,
//! a socket census, and polling.

#![allow(dead_code)]

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::BytesMut;
use fluvio_wire::api::{ApiVersionKey, ApiVersionsResponse, RequestHeader, encode_response_frame};
use fluvio_wire::{ErrorCode, FrameDecoder, sc, spu};
use tokio::io::AsyncReadExt;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// What a fake server does with a connection.
#[derive(Debug, Clone)]
pub enum Behavior {
    /// Accepts and never sends a byte.
    Silent,
    /// Accepts, then closes the connection at once.
    HangUp,
    /// Answers ApiVersions with this response; every other request stays unanswered.
    Versions(ApiVersionsResponse),
}

/// A fake server on 127.0.0.1, stopped when dropped.
pub struct FakeServer {
    addr: SocketAddr,
    accepted: Arc<AtomicUsize>,
    hung_up: Arc<AtomicUsize>,
    requests: Arc<AtomicUsize>,
    task: JoinHandle<()>,
}

impl FakeServer {
    /// Listens on a port chosen by the OS.
    pub async fn start(behavior: Behavior) -> Self {
        Self::start_on(TcpListener::bind("127.0.0.1:0").await.expect("bind"), behavior)
    }

    /// Serves on `listener`.
    pub fn start_on(listener: TcpListener, behavior: Behavior) -> Self {
        let addr = listener.local_addr().expect("local addr");
        let accepted = Arc::new(AtomicUsize::new(0));
        let hung_up = Arc::new(AtomicUsize::new(0));
        let requests = Arc::new(AtomicUsize::new(0));
        let task = tokio::spawn({
            let (accepted, hung_up, requests) = (accepted.clone(), hung_up.clone(), requests.clone());
            async move {
                let mut connections = tokio::task::JoinSet::new();
                loop {
                    let Ok((stream, _)) = listener.accept().await else { return };
                    accepted.fetch_add(1, Ordering::SeqCst);
                    connections.spawn(serve(stream, behavior.clone(), hung_up.clone(), requests.clone()));
                }
            }
        });
        Self { addr, accepted, hung_up, requests, task }
    }

    /// `127.0.0.1:port`.
    pub fn endpoint(&self) -> String {
        self.addr.to_string()
    }

    /// Connections accepted so far.
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }

    /// Connections the client closed so far.
    pub fn hung_up(&self) -> usize {
        self.hung_up.load(Ordering::SeqCst)
    }

    /// Request frames received so far (of any kind).
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(mut stream: TcpStream, behavior: Behavior, hung_up: Arc<AtomicUsize>, requests: Arc<AtomicUsize>) {
    if let Behavior::HangUp = behavior {
        return;
    }
    let decoder = FrameDecoder::default();
    let mut buf = BytesMut::new();
    loop {
        match stream.read_buf(&mut buf).await {
            Ok(0) | Err(_) => {
                hung_up.fetch_add(1, Ordering::SeqCst);
                return;
            }
            Ok(_) => {}
        }
        while let Ok(Some(mut frame)) = decoder.decode(&mut buf) {
            requests.fetch_add(1, Ordering::SeqCst);
            let Ok(header) = RequestHeader::decode_from_frame(&mut frame) else { return };
            if let Behavior::Versions(response) = &behavior
                && header.api_key == fluvio_wire::api::API_VERSIONS_KEY
            {
                let mut out = BytesMut::new();
                encode_response_frame(header.correlation_id, response, header.api_version, &mut out).expect("encode");
                if stream.write_all(&out).await.is_err() {
                    return;
                }
            }
        }
    }
}

fn key(api_key: u16, min_version: i16, max_version: i16) -> ApiVersionKey {
    ApiVersionKey { api_key: api_key as i16, min_version, max_version }
}

/// The SC ranges of the official 0.50 SC (what `fluvio-local` advertises), with `adjust`
/// applied to the list.
pub fn sc_versions(adjust: impl FnOnce(&mut Vec<ApiVersionKey>)) -> ApiVersionsResponse {
    let mut keys = vec![
        key(sc::keys::CREATE, 11, 19),
        key(sc::keys::DELETE, 11, 19),
        key(sc::keys::LIST, 11, 19),
        key(sc::keys::WATCH, 11, 19),
        key(sc::keys::UPDATE, 11, 19),
    ];
    adjust(&mut keys);
    ApiVersionsResponse { error_code: ErrorCode::None, api_keys: keys, platform_version: "0.50.1".into() }
}

/// The SPU ranges of the official 0.50 SPU, with `adjust` applied to the list.
pub fn spu_versions(adjust: impl FnOnce(&mut Vec<ApiVersionKey>)) -> ApiVersionsResponse {
    let mut keys = vec![
        key(spu::keys::PRODUCE, 0, 25),
        key(spu::keys::FETCH_OFFSETS, 0, 25),
        key(spu::keys::STREAM_FETCH, 0, 25),
        key(spu::keys::UPDATE_OFFSETS, 0, 0),
    ];
    adjust(&mut keys);
    ApiVersionsResponse { error_code: ErrorCode::None, api_keys: keys, platform_version: "0.0.0".into() }
}

/// Sets the range advertised for `api_key` (adding it if missing).
pub fn set_range(keys: &mut Vec<ApiVersionKey>, api_key: u16, min_version: i16, max_version: i16) {
    keys.retain(|k| k.api_key as u16 != api_key);
    keys.push(key(api_key, min_version, max_version));
}

/// Removes `api_key` from the advertised ranges.
pub fn remove_key(keys: &mut Vec<ApiVersionKey>, api_key: u16) {
    keys.retain(|k| k.api_key as u16 != api_key);
}

/// A 127.0.0.1 port that was free a moment ago (bound, then released).
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("local addr").port()
}

/// An endpoint where nothing listens: connecting is refused at once.
pub fn closed_endpoint() -> String {
    format!("127.0.0.1:{}", free_port())
}

/// Established TCP connections of this network namespace to 127.0.0.1:`port`: the client
/// ends of the connections to a server listening there.
pub fn established_to(port: u16) -> usize {
    // Addresses are hex, the IPv4 address in network byte order read as a little-endian word.
    let remote = format!("0100007F:{port:04X}");
    let table = std::fs::read_to_string("/proc/net/tcp").expect("/proc/net/tcp is readable");
    table
        .lines()
        .skip(1)
        .filter(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            fields.get(2) == Some(&remote.as_str()) && fields.get(3) == Some(&"01")
        })
        .count()
}

/// Polls `probe` every 50 ms until it returns `Some`, for at most `timeout`.
pub async fn eventually<T, F, Fut>(timeout: Duration, what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(found) = probe().await {
            return found;
        }
        if tokio::time::Instant::now() >= deadline {
            panic!("{what}: not within {timeout:?}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A TCP proxy in front of an SC that can hold back watch messages (every response frame
/// whose correlation id belongs to a Watch request) while letting every other response
/// through, to put a client's metadata cache behind the SC on purpose.
pub struct WatchHoldingProxy {
    addr: SocketAddr,
    holding: Arc<tokio::sync::watch::Sender<bool>>,
    task: JoinHandle<()>,
}

impl WatchHoldingProxy {
    /// Proxies to `upstream`.
    pub async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("local addr");
        let holding = Arc::new(tokio::sync::watch::Sender::new(false));
        let task = tokio::spawn({
            let holding = holding.clone();
            async move {
                let mut connections = tokio::task::JoinSet::new();
                loop {
                    let Ok((client, _)) = listener.accept().await else { return };
                    let Ok(server) = TcpStream::connect(upstream).await else { return };
                    connections.spawn(proxy(client, server, holding.subscribe()));
                }
            }
        });
        Self { addr, holding, task }
    }

    /// `127.0.0.1:port`.
    pub fn endpoint(&self) -> String {
        self.addr.to_string()
    }

    /// Holds back watch messages from now on.
    pub fn hold(&self) {
        self.holding.send_replace(true);
    }

    /// Delivers the held watch messages (in order) and lets later ones through.
    pub fn release(&self) {
        self.holding.send_replace(false);
    }
}

impl Drop for WatchHoldingProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn framed(payload: &[u8]) -> Vec<u8> {
    let mut frame = (payload.len() as i32).to_be_bytes().to_vec();
    frame.extend_from_slice(payload);
    frame
}

async fn proxy(client: TcpStream, server: TcpStream, mut holding: tokio::sync::watch::Receiver<bool>) {
    let watches = Arc::new(parking_lot::Mutex::new(std::collections::HashSet::new()));
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let upstream = {
        let watches = watches.clone();
        async move {
            let decoder = FrameDecoder::default();
            let mut buf = BytesMut::new();
            loop {
                while let Ok(Some(frame)) = decoder.decode(&mut buf) {
                    let mut body = frame.clone();
                    if let Ok(header) = RequestHeader::decode_from_frame(&mut body)
                        && header.api_key == sc::keys::WATCH
                    {
                        watches.lock().insert(header.correlation_id);
                    }
                    if server_write.write_all(&framed(&frame)).await.is_err() {
                        return;
                    }
                }
                match client_read.read_buf(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
            }
        }
    };
    let downstream = async move {
        let decoder = FrameDecoder::default();
        let mut buf = BytesMut::new();
        let mut held: Vec<Vec<u8>> = Vec::new();
        loop {
            while let Ok(Some(frame)) = decoder.decode(&mut buf) {
                let id = fluvio_wire::api::peek_correlation_id(&frame);
                let is_watch = id.is_some_and(|id| watches.lock().contains(&id));
                if is_watch && (*holding.borrow() || !held.is_empty()) {
                    held.push(framed(&frame));
                } else if client_write.write_all(&framed(&frame)).await.is_err() {
                    return;
                }
            }
            if !*holding.borrow() && !held.is_empty() {
                for frame in held.drain(..) {
                    if client_write.write_all(&frame).await.is_err() {
                        return;
                    }
                }
                continue;
            }
            tokio::select! {
                read = server_read.read_buf(&mut buf) => match read {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                },
                changed = holding.changed() => if changed.is_err() { return },
            }
        }
    };
    tokio::select! {
        _ = upstream => {}
        _ = downstream => {}
    }
}
