//! Natives of `com.infinyon.fluvio.Fluvio`: connecting and closing a client.

use std::path::PathBuf;
use std::time::Duration;

use fluvio_engine::{ClientConfig, Fluvio};
use jni::JNIEnv;
use jni::objects::{JClass, JObjectArray, JString};
use jni::sys::{jboolean, jlong, jstring};

use crate::convert::{optional_string, string};
use crate::error::{JniError, Result, run};
use crate::handle::{borrow, dispose, into_handle};
use crate::runtime::block_on;

/// The native side of a `Fluvio` object.
pub(crate) struct FluvioHandle {
    pub(crate) client: Fluvio,
}

fn millis(value: jlong, what: &str) -> Result<Duration> {
    if value <= 0 {
        return Err(JniError::IllegalArgument(format!("{what} must be positive")));
    }
    Ok(Duration::from_millis(value as u64))
}

/// Timeouts from Java, in milliseconds.
struct Timeouts {
    connect_ms: jlong,
    request_ms: jlong,
    tls_handshake_ms: jlong,
}

fn connect(
    env: &mut JNIEnv,
    endpoint: &JString,
    client_id: &JString,
    timeouts: Timeouts,
    use_spu_local_address: jboolean,
    tls: &JObjectArray,
) -> Result<jlong> {
    let endpoint = string(env, endpoint, "endpoint")?;
    let mut config = ClientConfig::new(endpoint)
        .with_connect_timeout(millis(timeouts.connect_ms, "connect timeout")?)
        .with_request_timeout(millis(timeouts.request_ms, "request timeout")?)
        .with_tls_handshake_timeout(millis(timeouts.tls_handshake_ms, "TLS handshake timeout")?)
        .with_spu_local_address(use_spu_local_address != 0)
        .with_tls(crate::tls::client_policy(env, tls)?);
    if let Some(client_id) = optional_string(env, client_id)? {
        config = config.with_client_id(client_id);
    }
    let client = block_on(Fluvio::connect_with_config(config))??;
    Ok(into_handle(FluvioHandle { client }))
}

fn connect_profile(env: &mut JNIEnv, path: &JString, profile: &JString) -> Result<jlong> {
    let path = optional_string(env, path)?;
    let profile = optional_string(env, profile)?;
    let client = block_on(async move {
        match path {
            Some(path) => Fluvio::connect_with_profile_file(&PathBuf::from(path), profile.as_deref()).await,
            None => match profile {
                Some(name) => Fluvio::connect_with_profile(&name).await,
                None => Fluvio::connect().await,
            },
        }
    })??;
    Ok(into_handle(FluvioHandle { client }))
}

fn close(handle: jlong) -> Result<()> {
    // SAFETY: Java keeps the handle alive for the call.
    let fluvio = unsafe { borrow::<FluvioHandle>(handle)? };
    block_on(fluvio.client.close())
}

fn platform_version(env: &mut JNIEnv, handle: jlong) -> Result<jstring> {
    // SAFETY: Java keeps the handle alive for the call.
    let fluvio = unsafe { borrow::<FluvioHandle>(handle)? };
    Ok(env.new_string(fluvio.client.platform_version())?.into_raw())
}

/// `long nativeConnect(String endpoint, String clientId, long connectTimeoutMs, long requestTimeoutMs,
/// long tlsHandshakeTimeoutMs, boolean useSpuLocalAddress, String[] tls)` (tls: `TlsConfig.toNative()`,
/// null for plain TCP)
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub extern "system" fn Java_com_infinyon_fluvio_Fluvio_nativeConnect<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    endpoint: JString<'local>,
    client_id: JString<'local>,
    connect_timeout_ms: jlong,
    request_timeout_ms: jlong,
    tls_handshake_timeout_ms: jlong,
    use_spu_local_address: jboolean,
    tls: JObjectArray<'local>,
) -> jlong {
    let timeouts = Timeouts {
        connect_ms: connect_timeout_ms,
        request_ms: request_timeout_ms,
        tls_handshake_ms: tls_handshake_timeout_ms,
    };
    run(&mut env, 0, |env| connect(env, &endpoint, &client_id, timeouts, use_spu_local_address, &tls))
}

/// `long nativeConnectProfile(String profileFile, String profileName)` (either may be null)
#[unsafe(no_mangle)]
pub extern "system" fn Java_com_infinyon_fluvio_Fluvio_nativeConnectProfile<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    path: JString<'local>,
    profile: JString<'local>,
) -> jlong {
    run(&mut env, 0, |env| connect_profile(env, &path, &profile))
}

/// `void nativeClose(long handle)`
#[unsafe(no_mangle)]
pub extern "system" fn Java_com_infinyon_fluvio_Fluvio_nativeClose<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
) {
    run(&mut env, (), |_| close(handle))
}

/// `String nativePlatformVersion(long handle)`
#[unsafe(no_mangle)]
pub extern "system" fn Java_com_infinyon_fluvio_Fluvio_nativePlatformVersion<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
) -> jstring {
    run(&mut env, std::ptr::null_mut(), |env| platform_version(env, handle))
}

/// `void nativeDispose(long handle)`
#[unsafe(no_mangle)]
pub extern "system" fn Java_com_infinyon_fluvio_Fluvio_nativeDispose<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
) {
    // SAFETY: Java calls this once, after every other call on the handle returned.
    run(&mut env, (), |_| {
        unsafe { dispose::<FluvioHandle>(handle) };
        Ok(())
    })
}
