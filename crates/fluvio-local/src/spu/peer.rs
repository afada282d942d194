//! A request/response connection from one SPU to another's private endpoint: a follower's to
//! its leader, and an SPU's to the leader of `consumer-offset` when it forwards offsets. One
//! request at a time.

use std::time::Duration;

use bytes::BytesMut;
use fluvio_wire::api::{RequestHeader, encode_request_frame, take_correlation_id};
use fluvio_wire::{Decoder, FrameDecoder, Request};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, ToSocketAddrs};

/// Connecting to another SPU.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// Largest answer accepted.
const MAX_FRAME: usize = 64 << 20;

/// Why a call to another SPU failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PeerError {
    #[error("connection to the SPU failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("the SPU's answer could not be read: {0}")]
    Protocol(String),
    #[error("no answer from the SPU in time")]
    Timeout,
}

/// A connection to another SPU's private endpoint.
pub(crate) struct Peer {
    stream: TcpStream,
    buffer: BytesMut,
    frames: FrameDecoder,
    next_id: i32,
    /// The calling SPU (named in the requests' client id).
    spu: i32,
}

impl Peer {
    /// Connects to `addr` on behalf of SPU `spu`.
    pub(crate) async fn connect(addr: impl ToSocketAddrs, spu: i32) -> Result<Self, PeerError> {
        let stream =
            tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(addr)).await.map_err(|_| PeerError::Timeout)??;
        stream.set_nodelay(true)?;
        Ok(Self { stream, buffer: BytesMut::new(), frames: FrameDecoder::new(MAX_FRAME), next_id: 1, spu })
    }

    /// Sends `request` and waits up to `timeout` for its answer.
    pub(crate) async fn call<R: Request>(&mut self, request: &R, timeout: Duration) -> Result<R::Response, PeerError> {
        let correlation_id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1);
        let header = RequestHeader {
            api_key: R::API_KEY,
            api_version: R::MAX_VERSION,
            correlation_id,
            client_id: format!("spu-{}", self.spu),
        };
        let mut frame = BytesMut::new();
        encode_request_frame(&header, request, &mut frame).map_err(|e| PeerError::Protocol(e.to_string()))?;
        self.stream.write_all(&frame).await?;
        let mut body = tokio::time::timeout(timeout, self.read_frame()).await.map_err(|_| PeerError::Timeout)??;
        let answered = take_correlation_id(&mut body).map_err(|e| PeerError::Protocol(e.to_string()))?;
        if answered != correlation_id {
            return Err(PeerError::Protocol(format!("answer to {answered}, expected {correlation_id}")));
        }
        R::Response::decode_exact(body, R::MAX_VERSION).map_err(|e| PeerError::Protocol(e.to_string()))
    }

    async fn read_frame(&mut self) -> Result<bytes::Bytes, PeerError> {
        loop {
            if let Some(frame) = self.frames.decode(&mut self.buffer).map_err(|e| PeerError::Protocol(e.to_string()))? {
                return Ok(frame);
            }
            if self.stream.read_buf(&mut self.buffer).await? == 0 {
                return Err(PeerError::Io(std::io::ErrorKind::UnexpectedEof.into()));
            }
        }
    }
}
