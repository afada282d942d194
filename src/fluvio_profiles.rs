//! Natives of `com.infinyon.fluvio.FluvioProfiles`: the profile file, read and edited by
//! `fluvio-profile` so that Java writes exactly the official format and keeps every key it
//! does not know. Java holds the file's text between calls (a `FluvioProfiles` is an
//! immutable value); each native parses that text, reads or makes one edit, and returns the
//! result. No native object outlives a call.

use fluvio_engine::config::{ClientTls, VerifiedTls};
use fluvio_profile::{ClusterProfile, ProfileError, ProfileFile};
use jni::JNIEnv;
use jni::objects::{JByteArray, JString};
use jni::sys::jboolean;

use crate::contract::java::{self, PolicyKind};
use crate::contract::{JavaString, Obj, ObjArray, natives};
use crate::convert::{Packer, client_tls, required, string, string_array};
use crate::error::{JniError, Result};

impl From<ProfileError> for JniError {
    fn from(err: ProfileError) -> Self {
        JniError::Engine(err.into())
    }
}

/// The file `text` holds, to be saved at `path`.
fn parse(env: &mut JNIEnv, path: &JString, text: &JString) -> Result<ProfileFile> {
    let path = string(env, path, "path")?;
    let text = string(env, text, "text")?;
    Ok(ProfileFile::parse(path, &text)?)
}

/// Fails with `PROFILE` unless the file has profile `name`.
fn known(file: &ProfileFile, name: &str) -> Result<()> {
    if file.profile_names()?.iter().any(|known| known == name) {
        Ok(())
    } else {
        Err(ProfileError::ProfileNotFound { name: name.to_string(), path: file.path().to_path_buf() }.into())
    }
}

fn new_string<'local>(env: &mut JNIEnv<'local>, value: &str) -> Result<JString<'local>> {
    Ok(env.new_string(value)?)
}

fn default_path<'local>(env: &mut JNIEnv<'local>) -> Result<JString<'local>> {
    let path = fluvio_profile::default_profile_path()?;
    let path = path.to_str().ok_or_else(|| {
        JniError::from(ProfileError::Invalid { path: path.clone(), message: "the path is not valid UTF-8".into() })
    })?;
    new_string(env, path)
}

fn load<'local>(env: &mut JNIEnv<'local>, path: &JString, create: jboolean) -> Result<JString<'local>> {
    let path = string(env, path, "path")?;
    let file = if create != 0 { ProfileFile::load_or_new(path)? } else { ProfileFile::load(path)? };
    new_string(env, &file.to_toml())
}

fn names<'local>(env: &mut JNIEnv<'local>, path: &JString, text: &JString) -> Result<ObjArray<'local, JavaString>> {
    let names = parse(env, path, text)?.profile_names()?;
    string_array(env, &names)
}

fn current<'local>(env: &mut JNIEnv<'local>, path: &JString, text: &JString) -> Result<JString<'local>> {
    match parse(env, path, text)?.current_profile_name() {
        Some(name) => new_string(env, &name),
        None => Ok(JString::default()),
    }
}

/// Packs a profile (layout `PROFILE`) for `FluvioProfiles.profile`: cluster, endpoint, then
/// the TLS settings as `TlsConfig.unpack` reads them: the policy's name, the domain (or null),
/// and the CA certificate, client certificate and client key, each a `Pem` (null when absent).
fn pack_profile(profile: &ClusterProfile) -> Packer {
    let mut packer = Packer::default();
    packer.str(&profile.cluster).str(&profile.endpoint);
    match ClientTls::from(profile.tls.clone()) {
        ClientTls::Disabled => {
            packer.constant::<java::TlsPolicy>(PolicyKind::Disabled).opt_str(None).pem(None).pem(None).pem(None);
        }
        ClientTls::AnonymousInsecure => {
            packer
                .constant::<java::TlsPolicy>(PolicyKind::AnonymousInsecure)
                .opt_str(None)
                .pem(None)
                .pem(None)
                .pem(None);
        }
        ClientTls::Verified(VerifiedTls { domain, ca_cert, cert, key }) => {
            packer
                .constant::<java::TlsPolicy>(PolicyKind::Verified)
                .str(&domain)
                .pem(ca_cert.as_ref())
                .pem(cert.as_ref())
                .pem(key.as_ref());
        }
    }
    packer
}

/// The sample of layout `PROFILE` that `ContractTest` decodes: a CA file, an inline client
/// certificate, no key.
pub(crate) fn sample_profile() -> Packer {
    use fluvio_engine::config::{TlsCerts, TlsPolicy, TlsSource};
    let certs = TlsCerts { domain: "sample.test".into(), key: None, cert: None, ca_cert: Some("/ca.pem".into()) };
    let mut profile = ClusterProfile {
        profile: "sample".into(),
        cluster: "cluster".into(),
        endpoint: "sample.test:9003".into(),
        tls: TlsPolicy::Verified(TlsSource::Files(certs)),
        use_spu_local_address: false,
    };
    let mut packer = pack_profile(&profile);
    profile.tls = TlsPolicy::AnonymousInsecure;
    let anonymous = pack_profile(&profile);
    packer.append(anonymous);
    packer
}

fn profile<'local>(
    env: &mut JNIEnv<'local>,
    path: &JString,
    text: &JString,
    name: &JString,
) -> Result<JByteArray<'local>> {
    let file = parse(env, path, text)?;
    let name = string(env, name, "name")?;
    pack_profile(&file.profile(&name)?).into_java(env)
}

/// A `FluvioProfile`: name, cluster, endpoint and TLS settings as a profile keeps them.
fn read_profile(
    env: &mut JNIEnv,
    profile: &Obj<java::FluvioProfile>,
) -> Result<(String, String, String, fluvio_engine::config::TlsPolicy)> {
    required(profile, "profile")?;
    let name = java::FluvioProfile::name(env, profile)?;
    let cluster = java::FluvioProfile::cluster(env, profile)?;
    let endpoint = java::FluvioProfile::endpoint(env, profile)?;
    let tls = java::FluvioProfile::tls(env, profile)?;
    let (name, cluster) = (string(env, &name, "name")?, string(env, &cluster, "cluster")?);
    let endpoint = string(env, &endpoint, "endpoint")?;
    let tls = client_tls(env, &tls)?.to_profile().ok_or_else(|| {
        JniError::IllegalArgument(
            "a profile keeps its certificates either all as files or all as PEM text, not mixed".into(),
        )
    })?;
    Ok((name, cluster, endpoint, tls))
}

fn upsert<'local>(
    env: &mut JNIEnv<'local>,
    path: &JString,
    text: &JString,
    profile: &Obj<java::FluvioProfile>,
) -> Result<JString<'local>> {
    let mut file = parse(env, path, text)?;
    let (name, cluster, endpoint, tls) = crate::convert::in_frame(env, |env| read_profile(env, profile))?;
    file.upsert(&name, &cluster, &endpoint, &tls);
    new_string(env, &file.to_toml())
}

fn set_current<'local>(
    env: &mut JNIEnv<'local>,
    path: &JString,
    text: &JString,
    name: &JString,
) -> Result<JString<'local>> {
    let mut file = parse(env, path, text)?;
    let name = string(env, name, "name")?;
    known(&file, &name)?;
    file.set_current_profile(&name);
    new_string(env, &file.to_toml())
}

fn remove<'local>(env: &mut JNIEnv<'local>, path: &JString, text: &JString, name: &JString) -> Result<JString<'local>> {
    let mut file = parse(env, path, text)?;
    let name = string(env, name, "name")?;
    known(&file, &name)?;
    file.remove_profile(&name);
    new_string(env, &file.to_toml())
}

fn save(env: &mut JNIEnv, path: &JString, text: &JString) -> Result<()> {
    Ok(parse(env, path, text)?.save()?)
}

natives! {
    class = java::FluvioProfiles;

    /// `$FLV_PROFILE_PATH`, else `~/.fluvio/config`.
    fn nativeDefaultPath(env) -> JString<'local> {
        default_path(env)
    }

    /// The file's text, checked.
    fn nativeLoad(env, path: JString<'local>, create_if_missing: jboolean) -> JString<'local> {
        load(env, &path, create_if_missing)
    }

    /// Profile names, sorted.
    fn nativeNames(env, path: JString<'local>, text: JString<'local>) -> ObjArray<'local, JavaString> {
        names(env, &path, &text)
    }

    /// The current profile's name, or null.
    fn nativeCurrent(env, path: JString<'local>, text: JString<'local>) -> JString<'local> {
        current(env, &path, &text)
    }

    /// Profile `name`, packed (layout `PROFILE`).
    fn nativeProfile(env, path: JString<'local>, text: JString<'local>, name: JString<'local>) -> JByteArray<'local> {
        profile(env, &path, &text, &name)
    }

    /// The new text.
    fn nativeUpsert(env, path: JString<'local>, text: JString<'local>, profile: Obj<'local, java::FluvioProfile>) -> JString<'local> {
        upsert(env, &path, &text, &profile)
    }

    /// The new text.
    fn nativeSetCurrent(env, path: JString<'local>, text: JString<'local>, name: JString<'local>) -> JString<'local> {
        set_current(env, &path, &text, &name)
    }

    /// The new text.
    fn nativeRemove(env, path: JString<'local>, text: JString<'local>, name: JString<'local>) -> JString<'local> {
        remove(env, &path, &text, &name)
    }

    /// Writes the file atomically.
    fn nativeSave(env, path: JString<'local>, text: JString<'local>) {
        save(env, &path, &text)
    }
}
