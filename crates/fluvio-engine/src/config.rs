//! How to reach a cluster: endpoint, transport security, client id and timeouts. Everything
//! comes from here (or from a profile); nothing is read from environment variables.

use std::time::Duration;

pub use fluvio_profile::{TlsCerts, TlsPolicy, TlsSource};

use crate::error::{Error, Result};

/// Default time to establish a connection (TCP, TLS and version negotiation).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default time to wait for any single response.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Default time a TLS handshake may take before the server is deemed not to speak TLS.
pub const DEFAULT_TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(3);
/// Default client id sent in every request header.
pub const DEFAULT_CLIENT_ID: &str = "fluvio";

/// Connection settings for one cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientConfig {
    endpoint: String,
    tls: TlsPolicy,
    client_id: String,
    connect_timeout: Duration,
    request_timeout: Duration,
    tls_handshake_timeout: Duration,
    use_spu_local_address: bool,
}

impl ClientConfig {
    /// Settings for the SC at `endpoint` (`host:port`), plain TCP, default timeouts.
    pub fn new(endpoint: impl Into<String>) -> Self {
        Self {
            endpoint: endpoint.into(),
            tls: TlsPolicy::Disabled,
            client_id: DEFAULT_CLIENT_ID.to_string(),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            tls_handshake_timeout: DEFAULT_TLS_HANDSHAKE_TIMEOUT,
            use_spu_local_address: false,
        }
    }

    /// Settings from a profile entry.
    pub fn from_profile(profile: &fluvio_profile::ClusterProfile) -> Self {
        Self::new(profile.endpoint.clone())
            .with_tls(profile.tls.clone())
            .with_spu_local_address(profile.use_spu_local_address)
    }

    /// Transport security, as a profile's `[cluster.X.tls]` table describes it:
    /// [`TlsPolicy::Disabled`] (the default), [`TlsPolicy::Verified`] (the server must present
    /// a certificate from the configured CA, valid for `domain` on the SC and for
    /// `<spu-name>.<domain>` on SPUs; a client certificate and key add mutual TLS), or
    /// [`TlsPolicy::AnonymousInsecure`], which encrypts but verifies nobody and so protects
    /// against nothing but passive eavesdropping. Certificates are read when connecting.
    pub fn with_tls(mut self, tls: TlsPolicy) -> Self {
        self.tls = tls;
        self
    }

    /// Client id sent in request headers.
    pub fn with_client_id(mut self, client_id: impl Into<String>) -> Self {
        self.client_id = client_id.into();
        self
    }

    /// Time to establish a connection.
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Time to wait for a response.
    pub fn with_request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// How long a TLS handshake may go unanswered (default
    /// [`DEFAULT_TLS_HANDSHAKE_TIMEOUT`], 3 s). A plain Fluvio server reads a ClientHello as
    /// the start of a frame and waits for the rest without a word, so a handshake that gets no
    /// answer in time fails as [`ErrorKind::Tls`](crate::ErrorKind::Tls) with
    /// [`TlsFailure::ServerNotTls`](crate::TlsFailure::ServerNotTls), not retriable, rather
    /// than as a retriable connect timeout. It is always well inside the connect timeout: at
    /// most half of it is used.
    pub fn with_tls_handshake_timeout(mut self, timeout: Duration) -> Self {
        self.tls_handshake_timeout = timeout;
        self
    }

    /// Reach SPUs through their local endpoints (as advertised by the SC).
    pub fn with_spu_local_address(mut self, enabled: bool) -> Self {
        self.use_spu_local_address = enabled;
        self
    }

    /// The SC endpoint.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Transport security.
    pub fn tls(&self) -> &TlsPolicy {
        &self.tls
    }

    /// Client id.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// Connect timeout.
    pub fn connect_timeout(&self) -> Duration {
        self.connect_timeout
    }

    /// Request timeout.
    pub fn request_timeout(&self) -> Duration {
        self.request_timeout
    }

    /// TLS handshake timeout, as set.
    pub fn tls_handshake_timeout(&self) -> Duration {
        self.tls_handshake_timeout
    }

    /// The time a TLS handshake is given: the handshake timeout, at most half the connect
    /// timeout.
    pub(crate) fn effective_tls_handshake_timeout(&self) -> Duration {
        self.tls_handshake_timeout.min(self.connect_timeout / 2)
    }

    /// Whether SPU local endpoints are used.
    pub fn use_spu_local_address(&self) -> bool {
        self.use_spu_local_address
    }

    /// Checks the settings before any connection is attempted.
    pub fn validate(&self) -> Result<()> {
        let (host, port) = self
            .endpoint
            .rsplit_once(':')
            .ok_or_else(|| Error::config(format!("endpoint '{}' is not host:port", self.endpoint)))?;
        if host.is_empty() || port.parse::<u16>().is_err() {
            return Err(Error::config(format!("endpoint '{}' is not host:port", self.endpoint)));
        }
        if self.connect_timeout.is_zero() || self.request_timeout.is_zero() || self.tls_handshake_timeout.is_zero() {
            return Err(Error::config("timeouts must be greater than zero"));
        }
        if self.client_id.len() > fluvio_wire::codec::MAX_STRING_LEN {
            return Err(Error::config("client id is too long"));
        }
        Ok(())
    }
}
