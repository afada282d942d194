//! Natives of `com.infinyon.fluvio.Fluvio`: connecting and closing a client.

use std::path::PathBuf;

use fluvio_engine::{ClientConfig, Fluvio};
use jni::JNIEnv;
use jni::objects::{JByteArray, JString};
use jni::sys::jlong;

use crate::contract::{Obj, java, natives};
use crate::convert::{client_tls, duration, optional_string, required, string};
use crate::error::Result;
use crate::handle::{borrow, dispose, into_handle};
use crate::runtime::block_on;

/// The native side of a `Fluvio` object.
pub(crate) struct FluvioHandle {
    pub(crate) client: Fluvio,
}

/// The client settings a `FluvioConfig` describes (the engine checks them when connecting).
fn client_config(env: &mut JNIEnv, config: &Obj<java::FluvioConfig>) -> Result<ClientConfig> {
    crate::convert::in_frame(env, |env| read_client_config(env, config))
}

fn read_client_config(env: &mut JNIEnv, config: &Obj<java::FluvioConfig>) -> Result<ClientConfig> {
    required(config, "config")?;
    let endpoint = java::FluvioConfig::endpoint(env, config)?;
    let tls = java::FluvioConfig::tls(env, config)?;
    let client_id = java::FluvioConfig::client_id(env, config)?;
    let connect_timeout = java::FluvioConfig::connect_timeout(env, config)?;
    let request_timeout = java::FluvioConfig::request_timeout(env, config)?;
    let handshake_timeout = java::FluvioConfig::tls_handshake_timeout(env, config)?;
    let mut client = ClientConfig::new(string(env, &endpoint, "endpoint")?)
        .with_connect_timeout(duration(env, &connect_timeout, "connectTimeout")?)
        .with_request_timeout(duration(env, &request_timeout, "requestTimeout")?)
        .with_tls_handshake_timeout(duration(env, &handshake_timeout, "tlsHandshakeTimeout")?)
        .with_spu_local_address(java::FluvioConfig::use_spu_local_address(env, config)? != 0)
        .with_tls(client_tls(env, &tls)?);
    if let Some(client_id) = optional_string(env, &client_id)? {
        client = client.with_client_id(client_id);
    }
    Ok(client)
}

fn connect(env: &mut JNIEnv, config: &Obj<java::FluvioConfig>) -> Result<jlong> {
    let config = client_config(env, config)?;
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

fn fluvio(handle: jlong) -> Result<&'static FluvioHandle> {
    // SAFETY: Java keeps the handle alive for the call.
    unsafe { borrow::<FluvioHandle>(handle) }
}

natives! {
    class = java::Fluvio;

    fn nativeConnect(env, config: Obj<'local, java::FluvioConfig>) -> jlong {
        connect(env, &config)
    }

    /// Either may be null: the default profile file, its current profile.
    fn nativeConnectProfile(env, path: JString<'local>, profile: JString<'local>) -> jlong {
        connect_profile(env, &path, &profile)
    }

    fn nativeClose(_, handle: jlong) {
        block_on(fluvio(handle)?.client.close())
    }

    /// The client's metrics, packed (layout `METRICS`).
    fn nativeMetrics(env, handle: jlong) -> JByteArray<'local> {
        crate::convert::pack_metrics(&fluvio(handle)?.client.metrics()).into_java(env)
    }

    fn nativePlatformVersion(env, handle: jlong) -> JString<'local> {
        Ok(env.new_string(fluvio(handle)?.client.platform_version())?)
    }

    fn nativeDispose(_, handle: jlong) {
        // SAFETY: Java calls this once, after every other call on the handle returned.
        unsafe { dispose::<FluvioHandle>(handle) };
        Ok(())
    }
}
