//! The Fluvio profile file, in the official CLI's TOML format (protocol notes §7).
//!
//! The file lives at `$FLV_PROFILE_PATH`, else `~/.fluvio/config`:
//!
//! ```toml
//! version = "2.0"
//! current_profile = "local"
//!
//! [profile.local]
//! cluster = "local"
//!
//! [cluster.local]
//! endpoint = "127.0.0.1:9003"
//!
//! [cluster.local.tls]
//! tls_policy = "disabled"
//! ```
//!
//! [`ProfileFile`] reads profiles into typed values and edits the document in place, so keys
//! this crate does not know about (CLI metadata, future fields, comments) survive a rewrite.

#![warn(missing_docs)]

use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml_edit::{DocumentMut, Item, Table, value};

/// Environment variable naming the profile file.
pub const PROFILE_PATH_ENV: &str = "FLV_PROFILE_PATH";

/// Format version written into new files.
pub const CONFIG_VERSION: &str = "2.0";

/// Why a profile could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// The profile file does not exist.
    #[error("profile file {0} does not exist")]
    FileNotFound(PathBuf),
    /// The file could not be read or written.
    #[error("cannot access profile file {path}: {source}")]
    Io {
        /// File path.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML or lacks required keys.
    #[error("profile file {path} is invalid: {message}")]
    Invalid {
        /// File path.
        path: PathBuf,
        /// Parser message.
        message: String,
    },
    /// No `current_profile` is set.
    #[error("profile file {0} has no current profile")]
    NoCurrentProfile(PathBuf),
    /// The named profile does not exist.
    #[error("profile '{name}' not found in {path}")]
    ProfileNotFound {
        /// Profile name.
        name: String,
        /// File path.
        path: PathBuf,
    },
    /// The profile names a cluster that does not exist.
    #[error("profile '{profile}' refers to cluster '{cluster}', which is not in {path}")]
    ClusterNotFound {
        /// Profile name.
        profile: String,
        /// Cluster name.
        cluster: String,
        /// File path.
        path: PathBuf,
    },
    /// The home directory could not be determined.
    #[error("cannot locate the profile file: neither FLV_PROFILE_PATH nor HOME is set")]
    NoHome,
}

/// Certificates for verified TLS: PEM text inline, or paths to PEM files, as the profile's
/// `tls_source` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsSource {
    /// PEM text in the profile (`tls_source = "inline"`).
    Inline(TlsCerts),
    /// Paths to PEM files (`tls_source = "files"`).
    Files(TlsCerts),
}

impl TlsSource {
    /// The certificate settings, whatever their source.
    pub fn certs(&self) -> &TlsCerts {
        match self {
            TlsSource::Inline(certs) | TlsSource::Files(certs) => certs,
        }
    }
}

/// The `certs` table of a verified TLS profile. With [`TlsSource::Inline`] the fields hold PEM
/// text; with [`TlsSource::Files`] they hold paths.
///
/// The official client requires all four keys; this crate also reads profiles without `key`
/// and `cert` (no client certificate), which only servers that do not ask for one accept.
/// `Debug` never prints an inline private key.
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
pub struct TlsCerts {
    /// Server name for SNI and verification: the SC's certificate must be valid for `domain`,
    /// each SPU's for `<spu-name>.<domain>` (so a certificate for `domain` and `*.domain`
    /// serves a whole cluster).
    pub domain: String,
    /// Client private key (mutual TLS), PEM (PKCS#8, PKCS#1 or SEC1).
    #[serde(default)]
    pub key: Option<String>,
    /// Client certificate chain (mutual TLS), PEM, leaf first.
    #[serde(default)]
    pub cert: Option<String>,
    /// CA certificate(s) that sign the server certificates, PEM.
    #[serde(default)]
    pub ca_cert: Option<String>,
}

impl TlsCerts {
    /// Settings for `domain` with the CA that signs the servers' certificates and no client
    /// certificate; add one with [`TlsCerts::with_client_cert`].
    pub fn new(domain: impl Into<String>, ca_cert: impl Into<String>) -> Self {
        Self { domain: domain.into(), key: None, cert: None, ca_cert: Some(ca_cert.into()) }
    }

    /// Adds a client certificate chain and its private key (mutual TLS).
    pub fn with_client_cert(mut self, cert: impl Into<String>, key: impl Into<String>) -> Self {
        self.cert = Some(cert.into());
        self.key = Some(key.into());
        self
    }
}

impl std::fmt::Debug for TlsCerts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Profiles and client configs get logged; an inline key must not end up in a log.
        let key = self.key.as_deref().map(|k| if k.contains("-----BEGIN") { "<PEM private key>" } else { k });
        f.debug_struct("TlsCerts")
            .field("domain", &self.domain)
            .field("key", &key)
            .field("cert", &self.cert.as_deref().map(abbreviate_pem))
            .field("ca_cert", &self.ca_cert.as_deref().map(abbreviate_pem))
            .finish()
    }
}

/// A path as is; PEM text as a short marker (certificates are public, but long).
fn abbreviate_pem(text: &str) -> &str {
    if text.contains("-----BEGIN") { "<PEM certificate>" } else { text }
}

/// Transport security of a cluster (the profile's `tls_policy`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum TlsPolicy {
    /// Plain TCP (`tls_policy = "disabled"`).
    #[default]
    Disabled,
    /// **Insecure.** TLS that does *not* verify the server (`tls_policy = "anonymous"`): the
    /// traffic is encrypted against passive eavesdropping, but anyone able to intercept the
    /// connection can impersonate the cluster and read or alter everything. No client
    /// certificate is sent. Use only where the official `anonymous` policy is mandated, never
    /// across an untrusted network; prefer [`TlsPolicy::Verified`].
    AnonymousInsecure,
    /// TLS verified against a CA, optionally with a client certificate (mutual TLS)
    /// (`tls_policy = "verified"`).
    Verified(TlsSource),
}

impl TlsPolicy {
    /// The verified TLS domain, if any.
    pub fn domain(&self) -> Option<&str> {
        match self {
            TlsPolicy::Verified(source) => Some(&source.certs().domain),
            _ => None,
        }
    }
}

/// One cluster entry, as a client needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterProfile {
    /// Profile name.
    pub profile: String,
    /// Cluster name.
    pub cluster: String,
    /// SC public address (`host:port`).
    pub endpoint: String,
    /// Connect to SPUs through their local endpoints.
    pub use_spu_local_address: bool,
    /// Transport security.
    pub tls: TlsPolicy,
}

#[derive(Deserialize)]
struct RawFile {
    // Required by the official reader: a file without it is invalid there too.
    #[allow(dead_code)]
    version: String,
    profile: std::collections::BTreeMap<String, RawProfile>,
    cluster: std::collections::BTreeMap<String, RawCluster>,
}

#[derive(Deserialize)]
struct RawProfile {
    cluster: String,
}

#[derive(Deserialize)]
struct RawCluster {
    #[serde(alias = "addr")]
    endpoint: String,
    #[serde(default)]
    use_spu_local_address: bool,
    #[serde(default)]
    tls: Option<RawTls>,
}

#[derive(Deserialize)]
struct RawTls {
    tls_policy: String,
    tls_source: Option<String>,
    certs: Option<TlsCerts>,
}

/// The location of the profile file: `$FLV_PROFILE_PATH`, else `~/.fluvio/config`.
pub fn default_profile_path() -> Result<PathBuf, ProfileError> {
    if let Some(path) = std::env::var_os(PROFILE_PATH_ENV).filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(path));
    }
    let home = std::env::var_os("HOME").filter(|h| !h.is_empty()).ok_or(ProfileError::NoHome)?;
    Ok(PathBuf::from(home).join(".fluvio").join("config"))
}

/// A profile file, loaded for reading and editing.
#[derive(Debug, Clone)]
pub struct ProfileFile {
    path: PathBuf,
    doc: DocumentMut,
}

impl ProfileFile {
    /// Loads the file at `path`.
    pub fn load(path: impl Into<PathBuf>) -> Result<Self, ProfileError> {
        let path = path.into();
        let text = std::fs::read_to_string(&path).map_err(|source| {
            if source.kind() == std::io::ErrorKind::NotFound {
                ProfileError::FileNotFound(path.clone())
            } else {
                ProfileError::Io { path: path.clone(), source }
            }
        })?;
        Self::parse(path, &text)
    }

    /// The file whose contents are `text`, to be saved at `path` (which is not read). For
    /// callers that keep the text themselves between edits (the Java binding does).
    pub fn parse(path: impl Into<PathBuf>, text: &str) -> Result<Self, ProfileError> {
        let path = path.into();
        let doc: DocumentMut = text
            .parse()
            .map_err(|e: toml_edit::TomlError| ProfileError::Invalid { path: path.clone(), message: e.to_string() })?;
        let file = Self { path, doc };
        file.raw()?; // refuse files missing required keys up front
        Ok(file)
    }

    /// Loads the file at `path`, or starts an empty one (saved on [`ProfileFile::save`]).
    pub fn load_or_new(path: impl Into<PathBuf>) -> Result<Self, ProfileError> {
        let path = path.into();
        match Self::load(&path) {
            Err(ProfileError::FileNotFound(_)) => Ok(Self::new(path)),
            other => other,
        }
    }

    /// An empty file at `path` (nothing is written until [`ProfileFile::save`]).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        let mut doc = DocumentMut::new();
        doc["version"] = value(CONFIG_VERSION);
        doc["profile"] = Item::Table(Table::new());
        doc["cluster"] = Item::Table(Table::new());
        Self { path: path.into(), doc }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn raw(&self) -> Result<RawFile, ProfileError> {
        toml::from_str(&self.doc.to_string())
            .map_err(|e| ProfileError::Invalid { path: self.path.clone(), message: e.to_string() })
    }

    /// Name of the current profile, if set.
    pub fn current_profile_name(&self) -> Option<String> {
        self.doc.get("current_profile").and_then(|v| v.as_str()).map(str::to_string)
    }

    /// Every profile name, sorted.
    pub fn profile_names(&self) -> Result<Vec<String>, ProfileError> {
        Ok(self.raw()?.profile.into_keys().collect())
    }

    /// The current profile's cluster.
    pub fn current(&self) -> Result<ClusterProfile, ProfileError> {
        let name = self.current_profile_name().ok_or_else(|| ProfileError::NoCurrentProfile(self.path.clone()))?;
        self.profile(&name)
    }

    /// The cluster of profile `name`.
    pub fn profile(&self, name: &str) -> Result<ClusterProfile, ProfileError> {
        let mut raw = self.raw()?;
        let profile = raw
            .profile
            .remove(name)
            .ok_or_else(|| ProfileError::ProfileNotFound { name: name.to_string(), path: self.path.clone() })?;
        let cluster = raw.cluster.remove(&profile.cluster).ok_or_else(|| ProfileError::ClusterNotFound {
            profile: name.to_string(),
            cluster: profile.cluster.clone(),
            path: self.path.clone(),
        })?;
        let tls = match cluster.tls {
            None => TlsPolicy::Disabled,
            Some(tls) => self.tls_policy(tls)?,
        };
        Ok(ClusterProfile {
            profile: name.to_string(),
            cluster: profile.cluster,
            endpoint: cluster.endpoint,
            use_spu_local_address: cluster.use_spu_local_address,
            tls,
        })
    }

    fn tls_policy(&self, tls: RawTls) -> Result<TlsPolicy, ProfileError> {
        let invalid = |message: String| ProfileError::Invalid { path: self.path.clone(), message };
        match tls.tls_policy.as_str() {
            "disabled" | "disable" => Ok(TlsPolicy::Disabled),
            "anonymous" => Ok(TlsPolicy::AnonymousInsecure),
            "verified" | "verify" => {
                let certs = tls.certs.ok_or_else(|| invalid("verified TLS needs a [tls.certs] table".into()))?;
                match tls.tls_source.as_deref() {
                    Some("inline") => Ok(TlsPolicy::Verified(TlsSource::Inline(certs))),
                    Some("files") | Some("file") => Ok(TlsPolicy::Verified(TlsSource::Files(certs))),
                    other => Err(invalid(format!("unknown tls_source {other:?} (expected \"inline\" or \"files\")"))),
                }
            }
            other => Err(invalid(format!("unknown tls_policy '{other}'"))),
        }
    }

    /// Creates or replaces profile `profile` pointing at cluster `cluster` with `endpoint` and
    /// `tls`. The cluster's tables are edited in place: keys this crate does not know (in the
    /// cluster, `tls` and `tls.certs` tables alike) are kept; known TLS keys that `tls` does not
    /// use (such as `certs` when TLS is disabled) are removed.
    pub fn upsert(&mut self, profile: &str, cluster: &str, endpoint: &str, tls: &TlsPolicy) {
        if !self.doc.contains_key("version") {
            self.doc["version"] = value(CONFIG_VERSION);
        }
        let profiles = table_entry(self.doc.as_table_mut(), "profile");
        let profile_table = table_entry(profiles, profile);
        profile_table["cluster"] = value(cluster);

        let clusters = table_entry(self.doc.as_table_mut(), "cluster");
        let cluster_table = table_entry(clusters, cluster);
        if cluster_table.contains_key("addr") && !cluster_table.contains_key("endpoint") {
            // The official reader takes `addr` as an alias: writing both would be a duplicate.
            cluster_table["addr"] = value(endpoint);
        } else {
            cluster_table["endpoint"] = value(endpoint);
        }
        if !cluster_table.contains_key("use_spu_local_address") {
            cluster_table["use_spu_local_address"] = value(false);
        }
        let tls_table = table_entry(cluster_table, "tls");
        match tls {
            TlsPolicy::Disabled | TlsPolicy::AnonymousInsecure => {
                tls_table["tls_policy"] = value(if *tls == TlsPolicy::Disabled { "disabled" } else { "anonymous" });
                tls_table.remove("tls_source");
                tls_table.remove("certs");
            }
            TlsPolicy::Verified(source) => {
                tls_table["tls_policy"] = value("verified");
                tls_table["tls_source"] = value(match source {
                    TlsSource::Inline(_) => "inline",
                    TlsSource::Files(_) => "files",
                });
                let certs = source.certs();
                let certs_table = table_entry(tls_table, "certs");
                certs_table["domain"] = value(certs.domain.as_str());
                for (key, field) in [("key", &certs.key), ("cert", &certs.cert), ("ca_cert", &certs.ca_cert)] {
                    match field {
                        Some(text) => certs_table[key] = value(text.as_str()),
                        None => {
                            certs_table.remove(key);
                        }
                    }
                }
            }
        }
    }

    /// Makes `profile` the current profile.
    pub fn set_current_profile(&mut self, profile: &str) {
        self.doc["current_profile"] = value(profile);
    }

    /// Removes profile `profile` (its cluster entry is kept if other profiles use it).
    pub fn remove_profile(&mut self, profile: &str) -> bool {
        let removed =
            self.doc.get_mut("profile").and_then(Item::as_table_mut).and_then(|t| t.remove(profile)).is_some();
        if self.current_profile_name().as_deref() == Some(profile) {
            self.doc.remove("current_profile");
        }
        removed
    }

    /// Writes the file atomically (temporary file + rename), creating its directory.
    pub fn save(&self) -> Result<(), ProfileError> {
        let io = |source| ProfileError::Io { path: self.path.clone(), source };
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let tmp = self.path.with_extension(format!("tmp.{}", std::process::id()));
        std::fs::write(&tmp, self.doc.to_string()).map_err(io)?;
        std::fs::rename(&tmp, &self.path).map_err(io)
    }

    /// The document as TOML text.
    pub fn to_toml(&self) -> String {
        self.doc.to_string()
    }
}

/// The table under `key`, created if missing. An inline table (`tls = { ... }`) becomes a
/// regular one with the same keys; any other value is replaced.
fn table_entry<'a>(parent: &'a mut Table, key: &str) -> &'a mut Table {
    let item = parent.entry(key).or_insert_with(|| Item::Table(Table::new()));
    if let Some(inline) = item.as_inline_table() {
        *item = Item::Table(inline.clone().into_table());
    } else if !item.is_table() {
        *item = Item::Table(Table::new());
    }
    item.as_table_mut().expect("just ensured a table")
}

#[cfg(test)]
mod tests {
    use super::*;

    const OFFICIAL: &str = r#"version = "2.0"
current_profile = "local"

[profile.local]
cluster = "local"

[profile.cloud]
cluster = "cloud"
topic = "t"

[cluster.local]
endpoint = "127.0.0.1:9003"
use_spu_local_address = false

[cluster.local.tls]
tls_policy = "disabled"

[cluster.local.metadata.installation]
type = "local"

[cluster.cloud]
addr = "cloud.example.com:9003"

[cluster.cloud.tls]
tls_policy = "verified"
tls_source = "files"

[cluster.cloud.tls.certs]
domain = "fluvio.example.com"
key = "/k.pem"
cert = "/c.pem"
ca_cert = "/ca.pem"
"#;

    fn write(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    #[test]
    fn reads_official_profiles() {
        let (_dir, path) = write(OFFICIAL);
        let file = ProfileFile::load(&path).unwrap();
        assert_eq!(file.profile_names().unwrap(), ["cloud", "local"]);
        let local = file.current().unwrap();
        assert_eq!(local.endpoint, "127.0.0.1:9003");
        assert_eq!(local.tls, TlsPolicy::Disabled);
        let cloud = file.profile("cloud").unwrap();
        assert_eq!(cloud.endpoint, "cloud.example.com:9003");
        let TlsPolicy::Verified(TlsSource::Files(certs)) = cloud.tls else { panic!("verified files expected") };
        assert_eq!(certs.domain, "fluvio.example.com");
        assert_eq!(certs.ca_cert.as_deref(), Some("/ca.pem"));
    }

    #[test]
    fn editing_keeps_unknown_keys() {
        let (_dir, path) = write(OFFICIAL);
        let mut file = ProfileFile::load(&path).unwrap();
        file.upsert("local", "local", "127.0.0.1:9999", &TlsPolicy::Disabled);
        file.upsert("test", "test", "127.0.0.1:1234", &TlsPolicy::AnonymousInsecure);
        file.set_current_profile("test");
        file.save().unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("[cluster.local.metadata.installation]"), "{text}");
        assert!(text.contains("topic = \"t\""), "{text}");
        let reread = ProfileFile::load(&path).unwrap();
        assert_eq!(reread.current().unwrap().endpoint, "127.0.0.1:1234");
        assert_eq!(reread.current().unwrap().tls, TlsPolicy::AnonymousInsecure);
        assert_eq!(reread.profile("local").unwrap().endpoint, "127.0.0.1:9999");
    }

    #[test]
    fn typed_errors() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope");
        assert!(matches!(ProfileFile::load(&missing), Err(ProfileError::FileNotFound(_))));
        let (_d, path) = write("version = \"2.0\"\n[profile.a]\ncluster = \"x\"\n[cluster]\n");
        let file = ProfileFile::load(&path).unwrap();
        assert!(matches!(file.current(), Err(ProfileError::NoCurrentProfile(_))));
        assert!(matches!(file.profile("b"), Err(ProfileError::ProfileNotFound { .. })));
        assert!(matches!(file.profile("a"), Err(ProfileError::ClusterNotFound { .. })));
        let (_d2, bad) = write("this is not toml [");
        assert!(matches!(ProfileFile::load(&bad), Err(ProfileError::Invalid { .. })));
        let (_d3, no_version) = write("[profile]\n[cluster]\n");
        assert!(matches!(ProfileFile::load(&no_version), Err(ProfileError::Invalid { .. })));
    }

    #[test]
    fn parsing_text_equals_loading_the_file() {
        let (_dir, path) = write(OFFICIAL);
        let parsed = ProfileFile::parse(&path, OFFICIAL).unwrap();
        assert_eq!(parsed.to_toml(), ProfileFile::load(&path).unwrap().to_toml());
        assert_eq!(parsed.path(), path);
        assert!(matches!(ProfileFile::parse(&path, "[profile]\n"), Err(ProfileError::Invalid { .. })));
    }

    #[test]
    fn new_file_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("config");
        let mut file = ProfileFile::load_or_new(&path).unwrap();
        file.upsert("local", "local", "127.0.0.1:9003", &TlsPolicy::Disabled);
        file.set_current_profile("local");
        file.save().unwrap();
        let reread = ProfileFile::load(&path).unwrap();
        assert_eq!(reread.current().unwrap().endpoint, "127.0.0.1:9003");
    }

    const PEM_CERT: &str =
        "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n'quoted' \"double\" \\ back\n-----END CERTIFICATE-----\n";
    const PEM_KEY: &str = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49\n-----END PRIVATE KEY-----\n";

    #[test]
    fn tls_settings_round_trip_inline_and_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        let inline = TlsPolicy::Verified(TlsSource::Inline(
            TlsCerts::new("fluvio.test", PEM_CERT).with_client_cert(PEM_CERT, PEM_KEY),
        ));
        let files = TlsPolicy::Verified(TlsSource::Files(TlsCerts::new("files.test", "/etc/ca.pem")));
        let mut file = ProfileFile::new(&path);
        file.upsert("inline", "inline", "127.0.0.1:1", &inline);
        file.upsert("files", "files", "127.0.0.1:2", &files);
        file.upsert("anon", "anon", "127.0.0.1:3", &TlsPolicy::AnonymousInsecure);
        file.save().unwrap();

        let reread = ProfileFile::load(&path).unwrap();
        assert_eq!(reread.profile("inline").unwrap().tls, inline, "{}", reread.to_toml());
        assert_eq!(reread.profile("files").unwrap().tls, files);
        assert_eq!(reread.profile("anon").unwrap().tls, TlsPolicy::AnonymousInsecure);
        assert_eq!(reread.profile("inline").unwrap().tls.domain(), Some("fluvio.test"));
        // The official reader's keys and values.
        let text = reread.to_toml();
        assert!(text.contains("tls_policy = \"verified\""), "{text}");
        assert!(text.contains("tls_source = \"inline\""), "{text}");
        assert!(text.contains("tls_source = \"files\""), "{text}");
        assert!(text.contains("tls_policy = \"anonymous\""), "{text}");
    }

    #[test]
    fn tls_edits_keep_unknown_keys_and_drop_stale_ones() {
        let (_dir, path) =
            write(&format!("{OFFICIAL}future_key = 1\n[cluster.cloud.tls.certs.extra]\nnote = \"kept\"\n"));
        let mut file = ProfileFile::load(&path).unwrap();
        // `tls.certs` gains an unknown key through the table above; `tls` itself gets one here.
        let text = file.to_toml().replace("tls_source = \"files\"", "tls_source = \"files\"\nvendor_option = true");
        std::fs::write(&path, text).unwrap();
        file = ProfileFile::load(&path).unwrap();

        let verified = TlsPolicy::Verified(TlsSource::Files(TlsCerts::new("new.example.com", "/new-ca.pem")));
        file.upsert("cloud", "cloud", "cloud.example.com:9003", &verified);
        file.save().unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("vendor_option = true"), "{text}");
        assert!(text.contains("note = \"kept\""), "{text}");
        assert!(text.contains("[cluster.local.metadata.installation]"), "{text}");
        assert!(!text.contains("/k.pem"), "client key dropped: the new settings have none\n{text}");
        assert!(!text.contains("endpoint = \"cloud"), "the cluster keeps its `addr` key\n{text}");
        let reread = ProfileFile::load(&path).unwrap();
        assert_eq!(reread.profile("cloud").unwrap().tls, verified);
        assert_eq!(reread.profile("cloud").unwrap().endpoint, "cloud.example.com:9003");

        file.upsert("cloud", "cloud", "cloud.example.com:9003", &TlsPolicy::Disabled);
        let text = file.to_toml();
        assert!(text.contains("vendor_option = true"), "{text}");
        assert!(!text.contains("tls_source"), "{text}");
        assert!(!text.contains("new-ca"), "{text}");
        let on_disk = ProfileFile::load(&path).unwrap().profile("cloud").unwrap().tls;
        assert_eq!(on_disk, verified, "the file changes only when saved");
    }

    #[test]
    fn inline_tls_tables_are_read_and_edited() {
        let (_dir, path) = write(
            "version = \"2.0\"\n[profile.p]\ncluster = \"c\"\n[cluster.c]\nendpoint = \"h:1\"\ntls = { tls_policy = \"anonymous\", extra = 1 }\n",
        );
        let mut file = ProfileFile::load(&path).unwrap();
        assert_eq!(file.profile("p").unwrap().tls, TlsPolicy::AnonymousInsecure);
        file.upsert("p", "c", "h:1", &TlsPolicy::Disabled);
        let text = file.to_toml();
        assert!(text.contains("extra = 1"), "{text}");
        assert_eq!(toml::from_str::<RawFile>(&text).unwrap().cluster["c"].tls.as_ref().unwrap().tls_policy, "disabled");
    }

    #[test]
    fn debug_output_hides_inline_private_keys() {
        let certs = TlsCerts::new("d", PEM_CERT).with_client_cert(PEM_CERT, PEM_KEY);
        let shown = format!("{:?}", TlsPolicy::Verified(TlsSource::Inline(certs)));
        assert!(!shown.contains("MIGHAgEA"), "{shown}");
        assert!(shown.contains("<PEM private key>"), "{shown}");
        let files = format!("{:?}", TlsCerts::new("d", "/ca.pem").with_client_cert("/c.pem", "/k.pem"));
        assert!(files.contains("/k.pem") && files.contains("/ca.pem"), "{files}");
    }
}
