//! TLS on the cluster's public listeners (the SC's and every SPU's), with rustls and the
//! `ring` provider.
//!
//! Clients reach the SC with TLS server name `DOMAIN` and SPU `n` with
//! `custom-spu-<n>.DOMAIN` (the official client's rule, see [`ServerTls::domain`]), so one
//! certificate valid for `DOMAIN` and `*.DOMAIN` serves the whole cluster.
//!
//! Each handshake runs in its connection's task, bounded by a timeout, so a slow peer, or a
//! plain-text client waiting for an answer, holds only its own connection, never the accept
//! loop.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

pub use fluvio_transport::Pem;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::server::{ParsedCertificate, WebPkiClientVerifier};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::server::TlsStream;
use tokio_util::sync::CancellationToken;
use tracing::debug;

use crate::ClusterError;

/// Default bound on one TLS handshake.
pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a connection whose handshake failed is kept half-open so that the client reads
/// the server's alert (why it was refused) rather than a connection reset.
const FAILED_HANDSHAKE_LINGER: Duration = Duration::from_secs(1);

/// TLS settings of a cluster's public listeners: the server certificate chain and key, and
/// optionally a CA whose client certificates are accepted (mutual TLS). Each is a [`Pem`]: PEM
/// text (a `String` or `&str` converts to one) or a PEM file, read when the cluster starts.
///
/// ```no_run
/// # fn demo() -> Result<(), fluvio_local::ClusterError> {
/// use fluvio_local::{ClusterConfig, ServerTls};
///
/// let tls = ServerTls::from_files("server.crt", "server.key")?
///     .client_ca_file("ca.crt")?
///     .require_client_cert(true)
///     .domain("fluvio.example.com");
/// let config = ClusterConfig::new("/tmp/fluvio-data").tls(tls);
/// # Ok(()) }
/// ```
///
/// Everything is checked when the cluster starts: unreadable files or PEM, a key that does not match
/// the certificate, `require_client_cert` without a client CA, and (when a domain is set) a
/// certificate that clients would refuse are [`ClusterError::InvalidConfig`].
///
/// `Debug` does not print the key.
#[derive(Clone)]
pub struct ServerTls {
    cert_chain: Pem,
    key: Pem,
    client_ca: Option<Pem>,
    require_client_cert: bool,
    domain: Option<String>,
    handshake_timeout: Duration,
}

impl std::fmt::Debug for ServerTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerTls")
            .field("client_ca", &self.client_ca.is_some())
            .field("require_client_cert", &self.require_client_cert)
            .field("domain", &self.domain)
            .field("handshake_timeout", &self.handshake_timeout)
            .finish_non_exhaustive()
    }
}

impl ServerTls {
    /// Serves `cert_chain` (PEM, leaf first, then any intermediates) with its private key `key`
    /// (PEM: PKCS#8, PKCS#1 or SEC1), each PEM text or a PEM file. No client certificates are
    /// asked for.
    pub fn new(cert_chain: impl Into<Pem>, key: impl Into<Pem>) -> Self {
        Self {
            cert_chain: cert_chain.into(),
            key: key.into(),
            client_ca: None,
            require_client_cert: false,
            domain: None,
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
        }
    }

    /// [`ServerTls::new`] with the chain and key read from PEM files.
    pub fn from_files(cert_chain: impl AsRef<Path>, key: impl AsRef<Path>) -> Result<Self, ClusterError> {
        Ok(Self::new(read(cert_chain.as_ref(), "server certificate")?, read(key.as_ref(), "server key")?))
    }

    /// Asks clients for a certificate signed by `ca` (PEM text or a PEM file) and verifies the
    /// ones they send. Clients without one are still served unless
    /// [`ServerTls::require_client_cert`].
    pub fn client_ca(mut self, ca: impl Into<Pem>) -> Self {
        self.client_ca = Some(ca.into());
        self
    }

    /// [`ServerTls::client_ca`] read from a PEM file.
    pub fn client_ca_file(self, ca: impl AsRef<Path>) -> Result<Self, ClusterError> {
        let ca = read(ca.as_ref(), "client CA certificate")?;
        Ok(self.client_ca(ca))
    }

    /// Refuses clients without a valid certificate from the client CA (mutual TLS). Needs
    /// [`ServerTls::client_ca`].
    pub fn require_client_cert(mut self, required: bool) -> Self {
        self.require_client_cert = required;
        self
    }

    /// The domain clients verify (a profile's `tls.certs.domain`). When set, the cluster
    /// refuses to start with a certificate that is not valid for `domain` (the SC's name) and
    /// for `custom-spu-<id>.domain` (each SPU's name), instead of letting every client fail.
    pub fn domain(mut self, domain: impl Into<String>) -> Self {
        self.domain = Some(domain.into());
        self
    }

    /// Bound on each TLS handshake (default [`DEFAULT_HANDSHAKE_TIMEOUT`]); a peer that takes
    /// longer is disconnected.
    pub fn handshake_timeout(mut self, timeout: Duration) -> Self {
        self.handshake_timeout = timeout;
        self
    }

    /// Builds the acceptor, checking every setting.
    pub(crate) fn acceptor(&self, spu_ids: impl IntoIterator<Item = i32>) -> Result<TlsAcceptor, ClusterError> {
        let invalid = |message: String| ClusterError::InvalidConfig(message);
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let chain = self.cert_chain.certificates("server certificate").map_err(unusable)?;
        let key = self.key.private_key("server key").map_err(unusable)?;
        if let Some(domain) = &self.domain {
            let names = std::iter::once(domain.clone())
                .chain(spu_ids.into_iter().map(|id| format!("{}.{domain}", crate::names::spu_name(id))));
            check_names(&chain[0], names)?;
        }
        let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| invalid(format!("cannot configure TLS: {e}")))?;
        let builder = match (&self.client_ca, self.require_client_cert) {
            (None, true) => {
                return Err(invalid("requiring client certificates needs a CA to verify them with".into()));
            }
            (None, false) => builder.with_no_client_auth(),
            (Some(ca), required) => {
                let mut roots = rustls::RootCertStore::empty();
                for ca in ca.certificates("client CA certificate").map_err(unusable)? {
                    roots.add(ca).map_err(|e| invalid(format!("unusable client CA certificate: {e}")))?;
                }
                let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider);
                let verifier = if required { verifier } else { verifier.allow_unauthenticated() };
                let verifier =
                    verifier.build().map_err(|e| invalid(format!("cannot verify client certificates: {e}")))?;
                builder.with_client_cert_verifier(verifier)
            }
        };
        let config = builder
            .with_single_cert(chain, key)
            .map_err(|e| invalid(format!("the server certificate and key are unusable together: {e}")))?;
        Ok(TlsAcceptor {
            inner: tokio_rustls::TlsAcceptor::from(Arc::new(config)),
            handshake_timeout: self.handshake_timeout,
        })
    }
}

/// Checks that `leaf` is valid for every name (as a client would check it, dates aside).
fn check_names(leaf: &CertificateDer<'_>, names: impl Iterator<Item = String>) -> Result<(), ClusterError> {
    let parsed = ParsedCertificate::try_from(leaf)
        .map_err(|e| ClusterError::InvalidConfig(format!("cannot parse the server certificate: {e}")))?;
    for name in names {
        let server_name = ServerName::try_from(name.as_str())
            .map_err(|e| ClusterError::InvalidConfig(format!("'{name}' is not a valid TLS server name: {e}")))?;
        rustls::client::verify_server_name(&parsed, &server_name).map_err(|_| {
            ClusterError::InvalidConfig(format!(
                "the server certificate is not valid for '{name}': clients reach the SC as DOMAIN and each SPU \
                 as custom-spu-<id>.DOMAIN, so it needs subject alternative names DOMAIN and *.DOMAIN"
            ))
        })?;
    }
    Ok(())
}

/// A certificate or key the cluster cannot use.
fn unusable(err: fluvio_transport::PemError) -> ClusterError {
    ClusterError::InvalidConfig(err.to_string())
}

fn read(path: &Path, what: &str) -> Result<String, ClusterError> {
    std::fs::read_to_string(path)
        .map_err(|e| ClusterError::InvalidConfig(format!("cannot read the {what} {}: {e}", path.display())))
}

/// Completes TLS handshakes for one listener.
#[derive(Clone)]
pub(crate) struct TlsAcceptor {
    inner: tokio_rustls::TlsAcceptor,
    handshake_timeout: Duration,
}

impl std::fmt::Debug for TlsAcceptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsAcceptor").field("handshake_timeout", &self.handshake_timeout).finish_non_exhaustive()
    }
}

impl TlsAcceptor {
    /// Runs the server side of the handshake within the handshake timeout. `None` when it
    /// failed, timed out or `closed` fired; the peer is then disconnected.
    pub(crate) async fn handshake(
        &self,
        tcp: TcpStream,
        peer: std::net::SocketAddr,
        closed: &CancellationToken,
    ) -> Option<TlsStream<TcpStream>> {
        let handshake = tokio::time::timeout(self.handshake_timeout, self.inner.accept(tcp).into_fallible());
        let outcome = tokio::select! {
            outcome = handshake => outcome,
            _ = closed.cancelled() => return None,
        };
        match outcome {
            Ok(Ok(stream)) => Some(stream),
            Ok(Err((err, tcp))) => {
                debug!(%peer, %err, "TLS handshake failed");
                tokio::select! {
                    _ = linger(tcp) => {}
                    _ = closed.cancelled() => {}
                }
                None
            }
            Err(_) => {
                debug!(%peer, timeout = ?self.handshake_timeout, "TLS handshake timed out");
                None
            }
        }
    }
}

/// Closes a connection whose handshake failed without resetting it. rustls has already
/// written its alert; dropping a socket with unread input (say the client's first request,
/// sent right after its side of a TLS 1.3 handshake) would make the kernel send a reset, and
/// the client would lose the alert with it. So: end our side, then read and discard what the
/// peer still sends, briefly.
async fn linger(mut tcp: TcpStream) {
    let _ = tcp.shutdown().await;
    let mut sink = [0u8; 4096];
    let drain = async {
        while let Ok(read) = tcp.read(&mut sink).await {
            if read == 0 {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(FAILED_HANDSHAKE_LINGER, drain).await;
}
