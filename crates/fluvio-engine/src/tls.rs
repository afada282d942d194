//! Transport security. Connections are plain TCP or TLS (rustls with the `ring` provider, no
//! OpenSSL); either way the rest of the engine sees one boxed byte stream.
//!
//! The policies are the official profile's (§7 of the protocol notes):
//!
//! * `Disabled`: plain TCP.
//! * `AnonymousInsecure` (the profile's `anonymous`): TLS whose server certificate is *not*
//!   verified. Handshake signatures are still checked (so the session key belongs to whoever
//!   sent the certificate), but nothing ties that certificate to the cluster.
//! * `Verified`: the server certificate must chain to the profile's `ca_cert` and name the
//!   server name: `domain` for the SC, `<spu-name>.<domain>` for an SPU (exactly what the
//!   official client checks). An optional client certificate and key give mutual TLS.
//!
//! Certificates and keys come from PEM files or PEM text, each as given ([`Pem`]); they are
//! read once, when the client is created, so a bad path or PEM fails `connect` with
//! [`ErrorKind::Config`] instead of every later reconnection.
//!
//! Handshake failures are [`ErrorKind::Tls`] errors carrying a [`TlsFailure`]; the handshake
//! runs inside the connect timeout, bounded by a shorter handshake timeout of its own: a plain
//! Fluvio server reads a ClientHello as the start of a frame (of some 370 MB) and waits for the
//! rest without a word, so silence means [`TlsFailure::ServerNotTls`], long before the connect
//! timeout would call it a (retriable) timeout.

use std::io;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{AlertDescription, CertificateError, DigitallySignedStruct, SignatureScheme};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

#[cfg(doc)]
use fluvio_transport::Pem;
use fluvio_transport::PemError;

use crate::config::ClientTls;
use crate::error::{Error, ErrorKind, Result, TlsFailure};

/// A connected byte stream.
pub(crate) trait Transport: AsyncRead + AsyncWrite + Send + Unpin + 'static {}

impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> Transport for T {}

/// The crypto provider of every TLS config the engine builds. Chosen explicitly rather than
/// through rustls's process-wide default, which is ambiguous (and panics) when another crate
/// in the same program enables rustls's other provider.
fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// How one client opens its connections: built once from the client's [`ClientTls`].
#[derive(Clone)]
pub(crate) struct TlsConnector {
    mode: Mode,
}

#[derive(Clone)]
enum Mode {
    Plain,
    Tls { connector: tokio_rustls::TlsConnector, domain: Option<String> },
}

impl std::fmt::Debug for TlsConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.mode {
            Mode::Plain => f.write_str("TlsConnector(plain)"),
            Mode::Tls { domain: None, .. } => f.write_str("TlsConnector(anonymous, unverified)"),
            Mode::Tls { domain: Some(domain), .. } => write!(f, "TlsConnector(verified, domain {domain})"),
        }
    }
}

impl TlsConnector {
    /// Reads the certificates `policy` names and builds the TLS client configuration.
    /// Unreadable files, bad PEM, a key without a certificate (or the reverse) and an
    /// invalid domain are [`ErrorKind::Config`].
    pub(crate) fn new(policy: &ClientTls) -> Result<Self> {
        let mode = match policy {
            ClientTls::Disabled => Mode::Plain,
            ClientTls::AnonymousInsecure => {
                let provider = provider();
                let config = rustls::ClientConfig::builder_with_provider(provider.clone())
                    .with_safe_default_protocol_versions()
                    .map_err(|e| Error::with_source(ErrorKind::Config, "cannot configure TLS", e))?
                    .dangerous()
                    .with_custom_certificate_verifier(Arc::new(AcceptAnyServerCertificate(provider)))
                    .with_no_client_auth();
                Mode::Tls { connector: tokio_rustls::TlsConnector::from(Arc::new(config)), domain: None }
            }
            ClientTls::Verified(certs) => {
                ServerName::try_from(certs.domain.as_str()).map_err(|e| {
                    Error::with_source(
                        ErrorKind::Config,
                        format!("TLS domain '{}' is not a valid name", certs.domain),
                        e,
                    )
                })?;
                let ca = certs
                    .ca_cert
                    .as_ref()
                    .ok_or_else(|| Error::config("verified TLS needs a CA certificate (`ca_cert`)"))?;
                let mut roots = rustls::RootCertStore::empty();
                for ca in ca.certificates("CA certificate").map_err(config_error)? {
                    roots.add(ca).map_err(|e| Error::with_source(ErrorKind::Config, "unusable CA certificate", e))?;
                }
                let builder = rustls::ClientConfig::builder_with_provider(provider())
                    .with_safe_default_protocol_versions()
                    .map_err(|e| Error::with_source(ErrorKind::Config, "cannot configure TLS", e))?
                    .with_root_certificates(roots);
                let config = match (&certs.cert, &certs.key) {
                    (None, None) => builder.with_no_client_auth(),
                    (Some(cert), Some(key)) => {
                        let chain = cert.certificates("client certificate").map_err(config_error)?;
                        let key = key.private_key("client key").map_err(config_error)?;
                        builder.with_client_auth_cert(chain, key).map_err(|e| {
                            Error::with_source(ErrorKind::Config, "the client certificate and key do not match", e)
                        })?
                    }
                    _ => {
                        return Err(Error::config(
                            "mutual TLS needs both a client certificate (`cert`) and its key (`key`)",
                        ));
                    }
                };
                Mode::Tls {
                    connector: tokio_rustls::TlsConnector::from(Arc::new(config)),
                    domain: Some(certs.domain.clone()),
                }
            }
        };
        Ok(Self { mode })
    }

    /// Whether connections are plain TCP.
    pub(crate) fn is_plain(&self) -> bool {
        matches!(self.mode, Mode::Plain)
    }

    /// The name the SC's certificate must carry: the verified domain, else the endpoint's host
    /// (used for SNI only, since anonymous TLS verifies nothing).
    pub(crate) fn sc_server_name(&self, endpoint: &str) -> String {
        match &self.mode {
            Mode::Tls { domain: Some(domain), .. } => domain.clone(),
            _ => host_of(endpoint).to_string(),
        }
    }

    /// The name SPU `spu_name` (at `addr`) must carry: `<spu-name>.<domain>` as the official
    /// client expects, else the address's host.
    pub(crate) fn spu_server_name(&self, spu_name: &str, addr: &str) -> String {
        match &self.mode {
            Mode::Tls { domain: Some(domain), .. } => format!("{spu_name}.{domain}"),
            _ => host_of(addr).to_string(),
        }
    }

    /// Wraps a TCP connection: as is when plain, else after a TLS handshake expecting
    /// `server_name`, which gets `handshake_timeout` to complete (the caller bounds the whole
    /// connection attempt).
    pub(crate) async fn wrap(
        &self,
        tcp: TcpStream,
        addr: &str,
        server_name: &str,
        handshake_timeout: std::time::Duration,
    ) -> Result<Box<dyn Transport>> {
        let Mode::Tls { connector, .. } = &self.mode else { return Ok(Box::new(tcp)) };
        let name = ServerName::try_from(server_name.to_string()).map_err(|e| {
            Error::with_source(ErrorKind::Config, format!("'{server_name}' is not a valid TLS server name"), e)
        })?;
        let Ok(handshake) = tokio::time::timeout(handshake_timeout, connector.connect(name, tcp)).await else {
            let failure = TlsFailure::ServerNotTls;
            return Err(Error::tls(
                failure,
                format!(
                    "no answer from {addr} to the TLS handshake within {handshake_timeout:?}: {} (a plain Fluvio server waits silently), or it is not responding",
                    failure.describe()
                ),
                None,
            ));
        };
        match handshake {
            Ok(stream) => Ok(Box::new(stream)),
            Err(err) => {
                // A peer that closes mid-handshake (as a plain Fluvio server does on reading a
                // ClientHello: its length prefix is an oversized frame) is an unexpected EOF.
                let failure = classify(&err).unwrap_or(match err.kind() {
                    io::ErrorKind::UnexpectedEof | io::ErrorKind::ConnectionReset => TlsFailure::ServerNotTls,
                    _ => TlsFailure::Handshake,
                });
                Err(Error::tls(
                    failure,
                    format!("TLS handshake with {addr} (server name '{server_name}') failed: {}", failure.describe()),
                    Some(Box::new(err)),
                ))
            }
        }
    }
}

/// What a TLS-level I/O error means, if it is one (it wraps a rustls error): the handshake's
/// own errors, and alerts the server sends after the client thinks the handshake is over
/// (with TLS 1.3, a server that refuses the client certificate says so only then).
pub(crate) fn classify(err: &io::Error) -> Option<TlsFailure> {
    if let Some(tls) = err.get_ref().and_then(|e| e.downcast_ref::<rustls::Error>()) {
        return Some(match tls {
            rustls::Error::InvalidCertificate(cert) => match cert {
                CertificateError::UnknownIssuer => TlsFailure::UnknownIssuer,
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                    TlsFailure::NameMismatch
                }
                CertificateError::Expired | CertificateError::ExpiredContext { .. } => TlsFailure::Expired,
                CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => TlsFailure::NotYetValid,
                _ => TlsFailure::BadCertificate,
            },
            rustls::Error::AlertReceived(alert) => match alert {
                AlertDescription::CertificateRequired => TlsFailure::ClientCertificateRequired,
                AlertDescription::BadCertificate
                | AlertDescription::UnsupportedCertificate
                | AlertDescription::CertificateRevoked
                | AlertDescription::CertificateExpired
                | AlertDescription::CertificateUnknown
                | AlertDescription::UnknownCA
                | AlertDescription::AccessDenied => TlsFailure::ClientCertificateRejected,
                _ => TlsFailure::Handshake,
            },
            rustls::Error::InvalidMessage(_) | rustls::Error::InappropriateMessage { .. } => TlsFailure::ServerNotTls,
            _ => TlsFailure::Handshake,
        });
    }
    None
}

/// The host part of `host:port` (brackets of an IPv6 literal removed).
fn host_of(addr: &str) -> &str {
    let host = addr.rsplit_once(':').map_or(addr, |(host, _)| host);
    host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host)
}

/// An unusable certificate or key: a configuration error.
fn config_error(err: PemError) -> Error {
    Error::with_source(ErrorKind::Config, err.to_string(), err)
}

/// The verifier of [`ClientTls::AnonymousInsecure`]: every certificate is accepted, whoever
/// presents it. Handshake signatures are still verified with the provider's algorithms.
#[derive(Debug)]
struct AcceptAnyServerCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyServerCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Pem, VerifiedTls};

    /// A self-signed CA certificate, PEM.
    fn ca_pem() -> String {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.self_signed(&key).unwrap().pem()
    }

    #[test]
    fn server_names_follow_the_official_client() {
        let verified = TlsConnector::new(&ClientTls::Verified(VerifiedTls {
            domain: "fluvio.test".into(),
            key: None,
            cert: None,
            ca_cert: Some(Pem::Inline(ca_pem())),
        }))
        .unwrap();
        assert_eq!(verified.sc_server_name("127.0.0.1:9003"), "fluvio.test");
        assert_eq!(verified.spu_server_name("custom-spu-5001", "127.0.0.1:9010"), "custom-spu-5001.fluvio.test");
        let anonymous = TlsConnector::new(&ClientTls::AnonymousInsecure).unwrap();
        assert_eq!(anonymous.sc_server_name("localhost:9003"), "localhost");
        assert_eq!(anonymous.spu_server_name("s", "[::1]:9010"), "::1");
        assert!(TlsConnector::new(&ClientTls::Disabled).unwrap().is_plain());
    }

    #[test]
    fn bad_settings_are_config_errors() {
        let verified = |certs: VerifiedTls| TlsConnector::new(&ClientTls::Verified(certs)).unwrap_err();
        let settings = |ca_cert: Option<Pem>| VerifiedTls { domain: "d.test".into(), ca_cert, cert: None, key: None };
        let ca = Pem::Inline(ca_pem());
        assert_eq!(verified(settings(None)).kind(), ErrorKind::Config);
        assert_eq!(verified(settings(Some(Pem::from("not pem")))).kind(), ErrorKind::Config);
        let half = VerifiedTls { cert: Some(ca.clone()), ..settings(Some(ca.clone())) };
        assert_eq!(verified(half).kind(), ErrorKind::Config);
        let bad_domain = VerifiedTls { domain: "not a name".into(), ..settings(Some(ca.clone())) };
        assert_eq!(verified(bad_domain).kind(), ErrorKind::Config);
        let missing = verified(settings(Some(Pem::File("/nonexistent/ca.pem".into()))));
        assert_eq!(missing.kind(), ErrorKind::Config);
        assert!(missing.to_string().contains("/nonexistent/ca.pem"), "{missing}");
        // Mixed sources: a readable inline CA with a client certificate file that is missing.
        let mixed = VerifiedTls {
            cert: Some(Pem::File("/nonexistent/client.pem".into())),
            key: Some(Pem::Inline(ca_pem())),
            ..settings(Some(ca))
        };
        let missing_cert = verified(mixed);
        assert_eq!(missing_cert.kind(), ErrorKind::Config);
        assert!(missing_cert.to_string().contains("/nonexistent/client.pem"), "{missing_cert}");
    }
}
