//! Natives of `com.infinyon.fluvio.FluvioProfiles`: the profile file, read and edited by
//! `fluvio-profile` so that Java writes exactly the official format and keeps every key it
//! does not know. Java holds the file's text between calls (a `FluvioProfiles` is an
//! immutable value); each native parses that text, reads or makes one edit, and returns the
//! result. No native object outlives a call.

use fluvio_engine::config::{TlsPolicy, TlsSource};
use fluvio_profile::{ProfileError, ProfileFile};
use jni::JNIEnv;
use jni::objects::{JClass, JObject, JObjectArray, JString};
use jni::sys::{jboolean, jbyteArray, jobjectArray, jstring};

use crate::convert::{Packer, string};
use crate::error::{JniError, Result, run};

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

fn new_string(env: &mut JNIEnv, value: &str) -> Result<jstring> {
    Ok(env.new_string(value)?.into_raw())
}

fn default_path(env: &mut JNIEnv) -> Result<jstring> {
    let path = fluvio_profile::default_profile_path()?;
    let path = path.to_str().ok_or_else(|| {
        JniError::from(ProfileError::Invalid { path: path.clone(), message: "the path is not valid UTF-8".into() })
    })?;
    new_string(env, path)
}

fn load(env: &mut JNIEnv, path: &JString, create: jboolean) -> Result<jstring> {
    let path = string(env, path, "path")?;
    let file = if create != 0 { ProfileFile::load_or_new(path)? } else { ProfileFile::load(path)? };
    new_string(env, &file.to_toml())
}

fn names(env: &mut JNIEnv, path: &JString, text: &JString) -> Result<jobjectArray> {
    let names = parse(env, path, text)?.profile_names()?;
    let array = env.new_object_array(names.len() as i32, "java/lang/String", JObject::null())?;
    for (index, name) in names.iter().enumerate() {
        let name = env.new_string(name)?;
        env.set_object_array_element(&array, index as i32, &name)?;
        env.delete_local_ref(name)?;
    }
    Ok(array.into_raw())
}

fn current(env: &mut JNIEnv, path: &JString, text: &JString) -> Result<jstring> {
    match parse(env, path, text)?.current_profile_name() {
        Some(name) => new_string(env, &name),
        None => Ok(std::ptr::null_mut()),
    }
}

/// Profile `name` packed for `FluvioProfiles.unpackProfile`: cluster, endpoint, then the TLS
/// policy (`disabled`, `anonymous`, `verified`), the certificates' source (`file`, `pem` or
/// null), domain, CA certificate, client certificate and client key (each null when absent).
fn profile(env: &mut JNIEnv, path: &JString, text: &JString, name: &JString) -> Result<jbyteArray> {
    let file = parse(env, path, text)?;
    let name = string(env, name, "name")?;
    let profile = file.profile(&name)?;
    let mut packer = Packer::default();
    packer.str(&profile.cluster).str(&profile.endpoint);
    match &profile.tls {
        TlsPolicy::Disabled => {
            packer.str("disabled").opt_str(None);
        }
        TlsPolicy::AnonymousInsecure => {
            packer.str("anonymous").opt_str(None);
        }
        TlsPolicy::Verified(source) => {
            packer.str("verified").str(if matches!(source, TlsSource::Files(_)) { "file" } else { "pem" });
        }
    }
    let certs = match &profile.tls {
        TlsPolicy::Verified(source) => Some(source.certs()),
        _ => None,
    };
    packer
        .opt_str(certs.map(|c| c.domain.as_str()))
        .opt_str(certs.and_then(|c| c.ca_cert.as_deref()))
        .opt_str(certs.and_then(|c| c.cert.as_deref()))
        .opt_str(certs.and_then(|c| c.key.as_deref()));
    packer.into_java(env)
}

fn upsert(
    env: &mut JNIEnv,
    path: &JString,
    text: &JString,
    name: &JString,
    cluster: &JString,
    endpoint: &JString,
    tls: &JObjectArray,
) -> Result<jstring> {
    let mut file = parse(env, path, text)?;
    let name = string(env, name, "name")?;
    let cluster = string(env, cluster, "cluster")?;
    let endpoint = string(env, endpoint, "endpoint")?;
    let tls = crate::tls::profile_policy(env, tls)?;
    file.upsert(&name, &cluster, &endpoint, &tls);
    new_string(env, &file.to_toml())
}

fn set_current(env: &mut JNIEnv, path: &JString, text: &JString, name: &JString) -> Result<jstring> {
    let mut file = parse(env, path, text)?;
    let name = string(env, name, "name")?;
    known(&file, &name)?;
    file.set_current_profile(&name);
    new_string(env, &file.to_toml())
}

fn remove(env: &mut JNIEnv, path: &JString, text: &JString, name: &JString) -> Result<jstring> {
    let mut file = parse(env, path, text)?;
    let name = string(env, name, "name")?;
    known(&file, &name)?;
    file.remove_profile(&name);
    new_string(env, &file.to_toml())
}

fn save(env: &mut JNIEnv, path: &JString, text: &JString) -> Result<()> {
    Ok(parse(env, path, text)?.save()?)
}

/// `String nativeDefaultPath()`: `$FLV_PROFILE_PATH`, else `~/.fluvio/config`
#[unsafe(no_mangle)]
pub extern "system" fn Java_com_infinyon_fluvio_FluvioProfiles_nativeDefaultPath<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
) -> jstring {
    run(&mut env, std::ptr::null_mut(), default_path)
}

/// `String nativeLoad(String path, boolean createIfMissing)`: the file's text, checked
#[unsafe(no_mangle)]
pub extern "system" fn Java_com_infinyon_fluvio_FluvioProfiles_nativeLoad<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    path: JString<'local>,
    create: jboolean,
) -> jstring {
    run(&mut env, std::ptr::null_mut(), |env| load(env, &path, create))
}

/// `String[] nativeNames(String path, String text)`: profile names, sorted
#[unsafe(no_mangle)]
pub extern "system" fn Java_com_infinyon_fluvio_FluvioProfiles_nativeNames<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    path: JString<'local>,
    text: JString<'local>,
) -> jobjectArray {
    run(&mut env, std::ptr::null_mut(), |env| names(env, &path, &text))
}

/// `String nativeCurrent(String path, String text)`: the current profile's name, or null
#[unsafe(no_mangle)]
pub extern "system" fn Java_com_infinyon_fluvio_FluvioProfiles_nativeCurrent<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    path: JString<'local>,
    text: JString<'local>,
) -> jstring {
    run(&mut env, std::ptr::null_mut(), |env| current(env, &path, &text))
}

/// `byte[] nativeProfile(String path, String text, String name)`
#[unsafe(no_mangle)]
pub extern "system" fn Java_com_infinyon_fluvio_FluvioProfiles_nativeProfile<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    path: JString<'local>,
    text: JString<'local>,
    name: JString<'local>,
) -> jbyteArray {
    run(&mut env, std::ptr::null_mut(), |env| profile(env, &path, &text, &name))
}

/// `String nativeUpsert(String path, String text, String name, String cluster, String endpoint,
/// String[] tls)`: the new text
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub extern "system" fn Java_com_infinyon_fluvio_FluvioProfiles_nativeUpsert<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    path: JString<'local>,
    text: JString<'local>,
    name: JString<'local>,
    cluster: JString<'local>,
    endpoint: JString<'local>,
    tls: JObjectArray<'local>,
) -> jstring {
    run(&mut env, std::ptr::null_mut(), |env| upsert(env, &path, &text, &name, &cluster, &endpoint, &tls))
}

/// `String nativeSetCurrent(String path, String text, String name)`: the new text
#[unsafe(no_mangle)]
pub extern "system" fn Java_com_infinyon_fluvio_FluvioProfiles_nativeSetCurrent<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    path: JString<'local>,
    text: JString<'local>,
    name: JString<'local>,
) -> jstring {
    run(&mut env, std::ptr::null_mut(), |env| set_current(env, &path, &text, &name))
}

/// `String nativeRemove(String path, String text, String name)`: the new text
#[unsafe(no_mangle)]
pub extern "system" fn Java_com_infinyon_fluvio_FluvioProfiles_nativeRemove<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    path: JString<'local>,
    text: JString<'local>,
    name: JString<'local>,
) -> jstring {
    run(&mut env, std::ptr::null_mut(), |env| remove(env, &path, &text, &name))
}

/// `void nativeSave(String path, String text)`: writes the file atomically
#[unsafe(no_mangle)]
pub extern "system" fn Java_com_infinyon_fluvio_FluvioProfiles_nativeSave<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    path: JString<'local>,
    text: JString<'local>,
) {
    run(&mut env, (), |env| save(env, &path, &text))
}
