//! Certificates made at test time with rcgen: a CA, server certificates for the names
//! clients use to reach a `fluvio-local` cluster (`DOMAIN` for the SC, `custom-spu-<id>.DOMAIN`
//! for SPUs, so `DOMAIN` plus `*.DOMAIN`), client certificates, and deliberately wrong ones.
//!
//! Shared by the TLS tests of fluvio-engine, fluvio-local and the conformance crate (included
//! with `#[path]`): nothing here is a fixture on disk, so nothing expires.

#![allow(dead_code)]

use std::path::PathBuf;

use fluvio_local::ServerTls;
use fluvio_profile::{TlsCerts, TlsPolicy, TlsSource};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
};

/// The domain test clusters are reached as.
pub const DOMAIN: &str = "fluvio.test";

/// A certificate and its private key, PEM.
#[derive(Clone)]
pub struct CertKey {
    pub cert: String,
    pub key: String,
}

/// A test certificate authority, with a directory for PEM files.
pub struct Pki {
    pub dir: tempfile::TempDir,
    pub ca_pem: String,
    issuer: Issuer<'static, KeyPair>,
}

impl Pki {
    /// A fresh CA named `name`.
    pub fn new(name: &str) -> Self {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages =
            vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
        let ca_pem = params.self_signed(&key).unwrap().pem();
        Self { dir: tempfile::tempdir().unwrap(), ca_pem, issuer: Issuer::new(params, key) }
    }

    fn leaf(
        &self,
        names: &[&str],
        usage: ExtendedKeyUsagePurpose,
        edit: impl FnOnce(&mut CertificateParams),
    ) -> CertKey {
        let key = KeyPair::generate().unwrap();
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let mut params = CertificateParams::new(names).unwrap();
        params.distinguished_name.push(DnType::CommonName, "fluvio test");
        params.extended_key_usages = vec![usage];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        edit(&mut params);
        let cert = params.signed_by(&key, &self.issuer).unwrap().pem();
        CertKey { cert, key: key.serialize_pem() }
    }

    /// What a cluster needs: valid for `DOMAIN` and `*.DOMAIN`.
    pub fn server(&self) -> CertKey {
        self.server_for(&[DOMAIN, &format!("*.{DOMAIN}")])
    }

    /// A server certificate for exactly `names`.
    pub fn server_for(&self, names: &[&str]) -> CertKey {
        self.leaf(names, ExtendedKeyUsagePurpose::ServerAuth, |_| {})
    }

    /// A server certificate for the right names that expired in 2001.
    pub fn expired_server(&self) -> CertKey {
        self.leaf(&[DOMAIN, &format!("*.{DOMAIN}")], ExtendedKeyUsagePurpose::ServerAuth, |params| {
            params.not_before = rcgen::date_time_ymd(2000, 1, 1);
            params.not_after = rcgen::date_time_ymd(2001, 1, 1);
        })
    }

    /// A client certificate.
    pub fn client(&self) -> CertKey {
        self.leaf(&["client.fluvio.test"], ExtendedKeyUsagePurpose::ClientAuth, |_| {})
    }

    /// Writes `contents` to a file of the PKI's directory.
    pub fn write(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, contents).unwrap();
        path
    }

    /// Server TLS with `server` and no client authentication.
    pub fn server_tls(&self, server: &CertKey) -> ServerTls {
        ServerTls::new(&server.cert, &server.key)
    }

    /// Server TLS with `server` that requires client certificates from this CA.
    pub fn mutual_server_tls(&self, server: &CertKey) -> ServerTls {
        self.server_tls(server).client_ca(&self.ca_pem).require_client_cert(true)
    }

    /// A client policy trusting this CA for `domain`, with PEM text inline.
    pub fn verified_inline(&self, domain: &str, client: Option<&CertKey>) -> TlsPolicy {
        let mut certs = TlsCerts::new(domain, &self.ca_pem);
        if let Some(client) = client {
            certs = certs.with_client_cert(&client.cert, &client.key);
        }
        TlsPolicy::Verified(TlsSource::Inline(certs))
    }

    /// The same with PEM files, as `fluvio-local --profile` writes it.
    pub fn verified_files(&self, domain: &str, client: Option<&CertKey>) -> TlsPolicy {
        let ca = self.write("ca.pem", &self.ca_pem);
        let mut certs = TlsCerts::new(domain, ca.to_str().unwrap());
        if let Some(client) = client {
            let cert = self.write("client.pem", &client.cert);
            let key = self.write("client.key", &client.key);
            certs = certs.with_client_cert(cert.to_str().unwrap(), key.to_str().unwrap());
        }
        TlsPolicy::Verified(TlsSource::Files(certs))
    }
}
