//! How to reach a cluster: endpoint, transport security, client id and timeouts. Everything
//! comes from here (or from a profile); nothing is read from environment variables.

use std::time::Duration;

pub use fluvio_profile::{TlsCerts, TlsPolicy, TlsSource};
pub use fluvio_transport::Pem;

use crate::error::{Error, Result};

/// Default time to establish a connection (TCP, TLS and version negotiation).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default time to wait for any single response.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Default time a TLS handshake may take before the server is deemed not to speak TLS.
pub const DEFAULT_TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(3);
/// Default client id sent in every request header.
pub const DEFAULT_CLIENT_ID: &str = "fluvio";
/// Shortest timeout any setting of the engine takes.
pub const MIN_TIMEOUT: Duration = Duration::from_millis(1);

/// Transport security of a client: the policies of Fluvio's profiles ([`TlsPolicy`]), with
/// each certificate and key taken from a PEM file or from PEM text, as each is given (a
/// profile keeps all of a cluster's one way or the other; here they may be mixed). Files are
/// read when the client connects.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ClientTls {
    /// Plain TCP.
    #[default]
    Disabled,
    /// **Insecure.** TLS that does *not* verify the server: see [`TlsPolicy::AnonymousInsecure`].
    AnonymousInsecure,
    /// TLS verified against a CA, optionally with a client certificate (mutual TLS).
    Verified(VerifiedTls),
}

/// The settings of verified TLS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedTls {
    /// The name the SC's certificate must carry (and SPU `n`'s as `<spu-name>.<domain>`).
    pub domain: String,
    /// The CA certificate(s) that sign the servers' certificates (required to connect).
    pub ca_cert: Option<Pem>,
    /// The client certificate chain, leaf first (mutual TLS; needs `key`).
    pub cert: Option<Pem>,
    /// The client certificate's private key (PKCS#8, PKCS#1 or SEC1).
    pub key: Option<Pem>,
}

impl From<TlsPolicy> for ClientTls {
    /// A profile's settings: every item a file or every item inline, as its `tls_source` says.
    fn from(policy: TlsPolicy) -> Self {
        match policy {
            TlsPolicy::Disabled => ClientTls::Disabled,
            TlsPolicy::AnonymousInsecure => ClientTls::AnonymousInsecure,
            TlsPolicy::Verified(source) => {
                let files = matches!(source, TlsSource::Files(_));
                let TlsCerts { domain, key, cert, ca_cert } = source.certs().clone();
                let pem = |item: Option<String>| {
                    item.map(|value| if files { Pem::File(value.into()) } else { Pem::Inline(value) })
                };
                ClientTls::Verified(VerifiedTls { domain, ca_cert: pem(ca_cert), cert: pem(cert), key: pem(key) })
            }
        }
    }
}

impl ClientTls {
    /// These settings as a profile keeps them; `None` when verified TLS mixes files and PEM
    /// text, which a profile cannot store.
    pub fn to_profile(&self) -> Option<TlsPolicy> {
        Some(match self {
            ClientTls::Disabled => TlsPolicy::Disabled,
            ClientTls::AnonymousInsecure => TlsPolicy::AnonymousInsecure,
            ClientTls::Verified(verified) => {
                let items = [&verified.ca_cert, &verified.cert, &verified.key];
                let mut kinds = items.iter().copied().flatten().map(|pem| matches!(pem, Pem::File(_)));
                let files = kinds.next().unwrap_or(false);
                if kinds.any(|file| file != files) {
                    return None;
                }
                let value = |item: &Option<Pem>| {
                    item.as_ref().map(|pem| match pem {
                        Pem::File(path) => path.display().to_string(),
                        Pem::Inline(text) => text.clone(),
                    })
                };
                let certs = TlsCerts {
                    domain: verified.domain.clone(),
                    key: value(&verified.key),
                    cert: value(&verified.cert),
                    ca_cert: value(&verified.ca_cert),
                };
                TlsPolicy::Verified(if files { TlsSource::Files(certs) } else { TlsSource::Inline(certs) })
            }
        })
    }
}

/// Connection settings for one cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientConfig {
    endpoint: String,
    tls: ClientTls,
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
            tls: ClientTls::Disabled,
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

    /// Transport security, as a profile's `[cluster.X.tls]` table describes it
    /// ([`TlsPolicy`]) or with certificates from files and PEM text mixed ([`ClientTls`]):
    /// disabled (the default), verified (the server must present a certificate from the
    /// configured CA, valid for `domain` on the SC and for `<spu-name>.<domain>` on SPUs; a
    /// client certificate and key add mutual TLS), or anonymous, which encrypts but verifies
    /// nobody and so protects against nothing but passive eavesdropping. Certificates are read
    /// when connecting.
    pub fn with_tls(mut self, tls: impl Into<ClientTls>) -> Self {
        self.tls = tls.into();
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
    pub fn tls(&self) -> &ClientTls {
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
        Self::check_endpoint(&self.endpoint)?;
        Self::check_timeout("the connect timeout", self.connect_timeout)?;
        Self::check_timeout("the request timeout", self.request_timeout)?;
        Self::check_timeout("the TLS handshake timeout", self.tls_handshake_timeout)?;
        Self::check_client_id(&self.client_id)
    }

    // The rules of the settings, each in one place: `validate` applies them when connecting,
    // front ends (the Java builder) as values are set.

    /// The SC endpoint: `host:port`, a port from 1 to 65535.
    pub fn check_endpoint(endpoint: &str) -> Result<()> {
        let valid = endpoint
            .rsplit_once(':')
            .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok_and(|port| port != 0));
        if valid { Ok(()) } else { Err(Error::config(format!("endpoint '{endpoint}' is not host:port"))) }
    }

    /// A connect, request or TLS handshake timeout (`what`): at least [`MIN_TIMEOUT`].
    pub fn check_timeout(what: &str, timeout: Duration) -> Result<()> {
        if timeout < MIN_TIMEOUT {
            return Err(Error::config(format!("{what} must be at least {MIN_TIMEOUT:?}, not {timeout:?}")));
        }
        Ok(())
    }

    /// The client id: at most [`MAX_STRING_LEN`](fluvio_wire::codec::MAX_STRING_LEN) bytes.
    pub fn check_client_id(client_id: &str) -> Result<()> {
        if client_id.len() > fluvio_wire::codec::MAX_STRING_LEN {
            return Err(Error::config("client id is too long"));
        }
        Ok(())
    }
}

/// The environment variable that sets how many threads a runtime dedicated to Fluvio I/O
/// runs ([`io_threads`]): the JNI library's runtime honours it.
pub const IO_THREADS_VARIABLE: &str = "FLUVIO_IO_THREADS";
/// Most threads [`IO_THREADS_VARIABLE`] may ask for.
pub const MAX_IO_THREADS: usize = 64;

/// How many threads a runtime dedicated to Fluvio I/O should run on this machine:
/// [`IO_THREADS_VARIABLE`] when it is set, else half the cores, from 1 to 4.
///
/// Those threads only move bytes and decode; the application's threads (a stream's reader, a
/// sender's caller) do the rest. More threads than that share of the cores only hand tasks
/// back and forth: on 2 cores, one I/O thread instead of two both raised throughput (Java
/// producing 5 KiB records: 149 k/s instead of 109 k/s) and lowered the CPU cost of low-rate
/// traffic (10k records/s: 0.47 instead of 0.59 of a core), measured with `scripts/bench`.
///
/// A setting that is not a number from 1 to [`MAX_IO_THREADS`] is a [`crate::ErrorKind::Config`]
/// error naming the variable.
pub fn io_threads() -> Result<usize> {
    let setting = match std::env::var(IO_THREADS_VARIABLE) {
        Ok(text) => Some(text),
        Err(std::env::VarError::NotPresent) => None,
        Err(std::env::VarError::NotUnicode(text)) => Some(text.to_string_lossy().into_owned()),
    };
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    io_threads_for(setting.as_deref(), cores)
}

/// [`io_threads`] for a machine of `cores` cores and the variable's value `setting`.
fn io_threads_for(setting: Option<&str>, cores: usize) -> Result<usize> {
    let Some(text) = setting else { return Ok((cores / 2).clamp(1, 4)) };
    text.trim().parse::<usize>().ok().filter(|threads| (1..=MAX_IO_THREADS).contains(threads)).ok_or_else(|| {
        Error::config(format!(
            "{IO_THREADS_VARIABLE} must be a number of threads from 1 to {MAX_IO_THREADS}, not '{text}'"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_setting_has_one_rule_that_validate_applies() {
        for endpoint in ["nohost", "host:99999", "host:0", "host:-1", "host:", ":9003", "host:abc", "", "127.0.0.1"] {
            assert!(ClientConfig::check_endpoint(endpoint).is_err(), "{endpoint}");
            assert!(ClientConfig::new(endpoint).validate().is_err(), "{endpoint}");
        }
        assert!(ClientConfig::check_endpoint("[::1]:9003").is_ok());
        assert!(ClientConfig::check_timeout("t", MIN_TIMEOUT).is_ok());
        assert!(ClientConfig::check_timeout("t", Duration::from_micros(999)).is_err());
        let short = ClientConfig::new("h:1").with_request_timeout(Duration::from_nanos(1));
        assert_eq!(short.validate().unwrap_err().kind(), crate::ErrorKind::Config);
        assert!(ClientConfig::check_client_id(&"x".repeat(fluvio_wire::codec::MAX_STRING_LEN + 1)).is_err());
    }

    #[test]
    fn io_threads_default_to_half_the_cores_from_one_to_four() {
        for (cores, threads) in [(1, 1), (2, 1), (4, 2), (7, 3), (64, 4)] {
            assert_eq!(io_threads_for(None, cores).unwrap(), threads, "{cores} cores");
        }
    }

    #[test]
    fn the_io_threads_setting_wins_when_it_is_a_number_from_1_to_64() {
        assert_eq!(io_threads_for(Some("3"), 2).unwrap(), 3);
        assert_eq!(io_threads_for(Some(" 1 "), 16).unwrap(), 1);
        assert_eq!(io_threads_for(Some("64"), 2).unwrap(), 64);
        for bad in ["0", "65", "-1", "two", ""] {
            let err = io_threads_for(Some(bad), 2).unwrap_err();
            assert_eq!(err.kind(), crate::ErrorKind::Config, "{bad}");
            assert!(err.to_string().contains(IO_THREADS_VARIABLE), "{bad}: {err}");
        }
    }
}
