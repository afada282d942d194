//! Transport security. Connections are plain TCP or TLS; either way the rest of the engine
//! sees one boxed byte stream.

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use crate::config::TlsPolicy;
use crate::error::{Error, Result};

/// A connected byte stream.
pub(crate) trait Transport: AsyncRead + AsyncWrite + Send + Unpin + 'static {}

impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> Transport for T {}

/// Wraps a TCP connection according to `policy`; `server_name` is what the server's
/// certificate must name.
pub(crate) async fn wrap(tcp: TcpStream, policy: &TlsPolicy, _server_name: &str) -> Result<Box<dyn Transport>> {
    match policy {
        TlsPolicy::Disabled => Ok(Box::new(tcp)),
        TlsPolicy::Anonymous | TlsPolicy::Verified(_) => {
            Err(Error::config("TLS is not supported by this build yet; use a plain-text endpoint"))
        }
    }
}
