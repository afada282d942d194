//! Certificates and keys, as TLS settings name them: a PEM file or PEM text. Both the client
//! engine (its CA, client certificate and key) and the embedded cluster (its certificate
//! chain, key and client CA) take them this way, and read them here, when they build their
//! TLS configuration.

use std::path::{Path, PathBuf};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// A certificate (chain) or private key in PEM: the path of a PEM file, or the PEM text itself.
/// Files are read when used, not when named.
///
/// `Debug` shows a file's path but never inline text (it may be a private key).
#[derive(Clone, PartialEq, Eq)]
pub enum Pem {
    /// The path of a PEM file.
    File(PathBuf),
    /// PEM text (`-----BEGIN ...`).
    Inline(String),
}

impl std::fmt::Debug for Pem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Pem::File(path) => f.debug_tuple("File").field(path).finish(),
            Pem::Inline(text) => write!(f, "Inline(<{} bytes of PEM>)", text.len()),
        }
    }
}

impl From<String> for Pem {
    /// PEM text.
    fn from(text: String) -> Self {
        Pem::Inline(text)
    }
}

impl From<&str> for Pem {
    /// PEM text.
    fn from(text: &str) -> Self {
        Pem::Inline(text.to_string())
    }
}

impl From<&String> for Pem {
    /// PEM text.
    fn from(text: &String) -> Self {
        Pem::Inline(text.clone())
    }
}

impl From<PathBuf> for Pem {
    /// A PEM file.
    fn from(path: PathBuf) -> Self {
        Pem::File(path)
    }
}

impl From<&Path> for Pem {
    /// A PEM file.
    fn from(path: &Path) -> Self {
        Pem::File(path.to_path_buf())
    }
}

/// A certificate or key that cannot be used: the file cannot be read, or holds no usable PEM.
/// The message names the item and, for a file, its path.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct PemError {
    message: String,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl PemError {
    fn new(message: String, source: Option<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self { message, source }
    }
}

impl Pem {
    /// What the item is, for messages: `the CA certificate file /x/ca.pem` or `the inline CA
    /// certificate`, where `what` is `CA certificate`.
    pub fn describe(&self, what: &str) -> String {
        match self {
            Pem::File(path) => format!("the {what} file {}", path.display()),
            Pem::Inline(_) => format!("the inline {what}"),
        }
    }

    /// The PEM text (a file's contents); `what` names the item in errors.
    pub fn text(&self, what: &str) -> Result<String, PemError> {
        match self {
            Pem::Inline(text) => Ok(text.clone()),
            Pem::File(path) => std::fs::read_to_string(path)
                .map_err(|e| PemError::new(format!("cannot read {}: {e}", self.describe(what)), Some(Box::new(e)))),
        }
    }

    /// The certificates it holds, in order (a chain: leaf first); at least one. `what` names
    /// the item in errors.
    pub fn certificates(&self, what: &str) -> Result<Vec<CertificateDer<'static>>, PemError> {
        let text = self.text(what)?;
        let certs = CertificateDer::pem_slice_iter(text.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| PemError::new(format!("cannot read {}: {e}", self.describe(what)), Some(Box::new(e))))?;
        if certs.is_empty() {
            return Err(PemError::new(format!("{} holds no PEM certificate", self.describe(what)), None));
        }
        Ok(certs)
    }

    /// The private key it holds (PKCS#8, PKCS#1 or SEC1). `what` names the item in errors.
    pub fn private_key(&self, what: &str) -> Result<PrivateKeyDer<'static>, PemError> {
        let text = self.text(what)?;
        PrivateKeyDer::from_pem_slice(text.as_bytes())
            .map_err(|e| PemError::new(format!("cannot read {}: {e}", self.describe(what)), Some(Box::new(e))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn certificate() -> (String, String) {
        let cert = rcgen::generate_simple_self_signed(vec!["pem.test".to_string()]).unwrap();
        (cert.cert.pem(), cert.signing_key.serialize_pem())
    }

    #[test]
    fn files_and_text_give_the_same_certificates_and_keys() {
        let (cert, key) = certificate();
        let dir = tempfile::tempdir().unwrap();
        let cert_file = dir.path().join("cert.pem");
        let key_file = dir.path().join("key.pem");
        std::fs::write(&cert_file, &cert).unwrap();
        std::fs::write(&key_file, &key).unwrap();
        let inline = Pem::from(cert.as_str()).certificates("certificate").unwrap();
        let from_file = Pem::from(cert_file).certificates("certificate").unwrap();
        assert_eq!(inline, from_file);
        assert_eq!(inline.len(), 1);
        let inline_key = Pem::from(key.clone()).private_key("key").unwrap();
        let file_key = Pem::File(key_file).private_key("key").unwrap();
        assert_eq!(inline_key.secret_der(), file_key.secret_der());
    }

    #[test]
    fn unusable_items_are_errors_naming_them() {
        let missing = Pem::File("/no/such/ca.pem".into()).certificates("CA certificate").unwrap_err();
        assert!(missing.to_string().contains("/no/such/ca.pem"), "{missing}");
        let empty = Pem::from("not pem").certificates("CA certificate").unwrap_err();
        assert!(empty.to_string().contains("inline CA certificate"), "{empty}");
        assert!(Pem::from("not pem").private_key("key").is_err());
    }

    #[test]
    fn debug_never_shows_inline_text() {
        let (_, key) = certificate();
        let shown = format!("{:?}", Pem::from(key.clone()));
        assert!(!shown.contains("PRIVATE KEY"), "{shown}");
        assert_eq!(format!("{:?}", Pem::File("/k.pem".into())), "File(\"/k.pem\")");
    }
}
