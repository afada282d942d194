//! TLS settings from Java: `TlsConfig` (clients and profiles) and `LocalClusterTls` (the
//! embedded cluster), each handed over as a `String[]` whose layout the Java class documents
//! (`toNative()`), so native code never reads Java fields by name.

use fluvio_engine::config::{TlsCerts, TlsPolicy, TlsSource};
use fluvio_engine::{Error, ErrorKind};
use fluvio_local::ServerTls;
use jni::JNIEnv;
use jni::objects::{JObjectArray, JString};

use crate::convert::optional_string;
use crate::error::{JniError, Result};

/// Where one certificate or key comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    File,
    Pem,
}

/// One certificate or key: its value (a path or PEM text) and where it comes from.
#[derive(Debug, Clone)]
struct Item {
    value: String,
    source: Source,
}

impl Item {
    /// The PEM text: the value itself, or the file's contents read with `read_error`.
    fn pem(&self, read_error: impl FnOnce(String) -> JniError) -> Result<String> {
        match self.source {
            Source::Pem => Ok(self.value.clone()),
            Source::File => {
                std::fs::read_to_string(&self.value).map_err(|e| read_error(format!("{}: {e}", self.value)))
            }
        }
    }
}

/// The strings of a Java `String[]` (nulls kept), checking its length.
fn strings(env: &mut JNIEnv, array: &JObjectArray, length: usize, what: &str) -> Result<Vec<Option<String>>> {
    let actual = env.get_array_length(array)? as usize;
    if actual != length {
        return Err(JniError::IllegalArgument(format!("{what}: {actual} settings instead of {length}")));
    }
    let mut values = Vec::with_capacity(length);
    for index in 0..length {
        let element = JString::from(env.get_object_array_element(array, index as i32)?);
        values.push(optional_string(env, &element)?);
        env.delete_local_ref(element)?;
    }
    Ok(values)
}

/// The item at `values[index]` with its source at `values[index + 1]` (`"file"` or `"pem"`).
fn item(values: &[Option<String>], index: usize) -> Result<Option<Item>> {
    let Some(value) = values[index].clone() else { return Ok(None) };
    let source = match values[index + 1].as_deref() {
        Some("file") => Source::File,
        Some("pem") => Source::Pem,
        other => return Err(JniError::IllegalArgument(format!("unknown certificate source {other:?}"))),
    };
    Ok(Some(Item { value, source }))
}

/// Client TLS as `TlsConfig.toNative()` lays it out: policy (`disabled`, `anonymous`,
/// `verified`), domain, then value and source of the CA certificate, the client certificate
/// and the client key.
struct ClientTls {
    policy: String,
    domain: Option<String>,
    ca_cert: Option<Item>,
    cert: Option<Item>,
    key: Option<Item>,
}

const CLIENT_TLS_LENGTH: usize = 8;

fn client_tls(env: &mut JNIEnv, array: &JObjectArray) -> Result<Option<ClientTls>> {
    if array.is_null() {
        return Ok(None);
    }
    let values = strings(env, array, CLIENT_TLS_LENGTH, "TlsConfig")?;
    Ok(Some(ClientTls {
        policy: values[0].clone().unwrap_or_default(),
        domain: values[1].clone(),
        ca_cert: item(&values, 2)?,
        cert: item(&values, 4)?,
        key: item(&values, 6)?,
    }))
}

impl ClientTls {
    /// The policy; `certs` builds the certificate settings of a verified one from the items.
    fn policy(self, certs: impl FnOnce(String, [Option<Item>; 3]) -> Result<TlsSource>) -> Result<TlsPolicy> {
        match self.policy.as_str() {
            "disabled" => Ok(TlsPolicy::Disabled),
            "anonymous" => Ok(TlsPolicy::AnonymousInsecure),
            "verified" => {
                let domain =
                    self.domain.ok_or_else(|| JniError::IllegalArgument("verified TLS needs a domain".into()))?;
                Ok(TlsPolicy::Verified(certs(domain, [self.ca_cert, self.cert, self.key])?))
            }
            other => Err(JniError::IllegalArgument(format!("unknown TLS policy '{other}'"))),
        }
    }
}

/// The settings with every item from one source: [`TlsSource::Files`] or
/// [`TlsSource::Inline`]; `None` when sources are mixed.
fn uniform(domain: &str, items: &[Option<Item>; 3]) -> Option<TlsSource> {
    let mut sources = items.iter().flatten().map(|item| item.source);
    let first = sources.next().unwrap_or(Source::Pem);
    if sources.any(|source| source != first) {
        return None;
    }
    let value = |item: &Option<Item>| item.as_ref().map(|item| item.value.clone());
    let certs = TlsCerts {
        domain: domain.to_string(),
        ca_cert: value(&items[0]),
        cert: value(&items[1]),
        key: value(&items[2]),
    };
    Some(if first == Source::File { TlsSource::Files(certs) } else { TlsSource::Inline(certs) })
}

/// The client policy of a `FluvioConfig` (null: disabled). Certificates from files and PEM
/// text may be mixed: the files are then read here, and an unreadable one is `CONFIG`, as the
/// engine reports unreadable files when it connects.
pub(crate) fn client_policy(env: &mut JNIEnv, array: &JObjectArray) -> Result<TlsPolicy> {
    let Some(tls) = client_tls(env, array)? else { return Ok(TlsPolicy::Disabled) };
    tls.policy(|domain, items| {
        if let Some(source) = uniform(&domain, &items) {
            return Ok(source);
        }
        let read = |item: &Option<Item>, what: &str| -> Result<Option<String>> {
            item.as_ref()
                .map(|item| {
                    item.pem(|detail| {
                        Error::new(ErrorKind::Config, format!("cannot read the {what} file {detail}")).into()
                    })
                })
                .transpose()
        };
        Ok(TlsSource::Inline(TlsCerts {
            ca_cert: read(&items[0], "CA certificate")?,
            cert: read(&items[1], "client certificate")?,
            key: read(&items[2], "client key")?,
            domain,
        }))
    })
}

/// The policy of a profile (null: disabled). The profile format keeps every certificate of a
/// cluster either as a file or inline: mixed sources are `IllegalArgumentException` (Java
/// refuses them first).
pub(crate) fn profile_policy(env: &mut JNIEnv, array: &JObjectArray) -> Result<TlsPolicy> {
    let Some(tls) = client_tls(env, array)? else { return Ok(TlsPolicy::Disabled) };
    tls.policy(|domain, items| {
        uniform(&domain, &items).ok_or_else(|| {
            JniError::IllegalArgument(
                "a profile keeps its certificates either all as files or all as PEM text, not mixed".into(),
            )
        })
    })
}

/// Server TLS as `LocalClusterTls.toNative()` lays it out: value and source of the server
/// certificate chain, of its key and of the client CA, then the domain and
/// `requireClientCert` (`"true"` or `"false"`). Unreadable files are `LOCAL_CLUSTER`, as is
/// every other setting the cluster refuses when it starts.
pub(crate) fn server_tls(env: &mut JNIEnv, array: &JObjectArray) -> Result<Option<ServerTls>> {
    if array.is_null() {
        return Ok(None);
    }
    let values = strings(env, array, 8, "LocalClusterTls")?;
    let cannot_read =
        |what: &'static str| move |detail: String| JniError::cluster_config(format!("cannot read the {what} {detail}"));
    let cert = item(&values, 0)?
        .ok_or_else(|| JniError::IllegalArgument("a server certificate is required".into()))?
        .pem(cannot_read("server certificate"))?;
    let key = item(&values, 2)?
        .ok_or_else(|| JniError::IllegalArgument("a server key is required".into()))?
        .pem(cannot_read("server key"))?;
    let mut tls = ServerTls::new(cert, key);
    if let Some(ca) = item(&values, 4)? {
        tls = tls.client_ca(ca.pem(cannot_read("client CA certificate"))?);
    }
    if let Some(domain) = values[6].clone() {
        tls = tls.domain(domain);
    }
    Ok(Some(tls.require_client_cert(values[7].as_deref() == Some("true"))))
}
