//! Natives of `com.infinyon.fluvio.LocalCluster`: the embedded cluster, run on the library's
//! runtime inside the JVM.

use std::path::PathBuf;

use fluvio_local::{ClusterConfig, LocalCluster};
use jni::JNIEnv;
use jni::objects::{JClass, JString};
use jni::sys::{jint, jlong, jstring};
use parking_lot::Mutex;

use crate::convert::optional_string;
use crate::error::{JniError, Result, run};
use crate::handle::{borrow, dispose, into_handle};
use crate::runtime::block_on;

/// The native side of a `LocalCluster`.
pub(crate) struct ClusterHandle {
    cluster: Mutex<Option<LocalCluster>>,
    endpoint: String,
    /// Deleted with the handle when the cluster was started without a base directory.
    _temporary: Option<tempfile::TempDir>,
}

fn start(env: &mut JNIEnv, base_dir: &JString, spus: jint) -> Result<jlong> {
    let spus = u16::try_from(spus)
        .ok()
        .filter(|s| (1..=64).contains(s))
        .ok_or_else(|| JniError::IllegalArgument(format!("spus must be between 1 and 64, not {spus}")))?;
    let (dir, temporary) = match optional_string(env, base_dir)? {
        Some(dir) => (PathBuf::from(dir), None),
        None => {
            let temporary = tempfile::Builder::new()
                .prefix("fluvio-local-")
                .tempdir()
                .map_err(|e| JniError::Cluster(format!("cannot create a temporary directory: {e}")))?;
            (temporary.path().to_path_buf(), Some(temporary))
        }
    };
    let cluster = block_on(LocalCluster::start(ClusterConfig::new(dir).spus(spus)))??;
    let endpoint = cluster.sc_endpoint();
    Ok(into_handle(ClusterHandle { cluster: Mutex::new(Some(cluster)), endpoint, _temporary: temporary }))
}

fn cluster(handle: jlong) -> Result<&'static ClusterHandle> {
    // SAFETY: Java keeps the handle alive for the call.
    unsafe { borrow::<ClusterHandle>(handle) }
}

fn endpoint(env: &mut JNIEnv, handle: jlong) -> Result<jstring> {
    Ok(env.new_string(&cluster(handle)?.endpoint)?.into_raw())
}

fn shutdown(handle: jlong) -> Result<()> {
    let taken = cluster(handle)?.cluster.lock().take();
    if let Some(cluster) = taken {
        block_on(cluster.shutdown())?;
    }
    Ok(())
}

/// `long nativeStart(String baseDir, int spus)` (baseDir null: a temporary directory)
#[unsafe(no_mangle)]
pub extern "system" fn Java_com_infinyon_fluvio_LocalCluster_nativeStart<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    base_dir: JString<'local>,
    spus: jint,
) -> jlong {
    run(&mut env, 0, |env| start(env, &base_dir, spus))
}

/// `String nativeEndpoint(long handle)`
#[unsafe(no_mangle)]
pub extern "system" fn Java_com_infinyon_fluvio_LocalCluster_nativeEndpoint<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
) -> jstring {
    run(&mut env, std::ptr::null_mut(), |env| endpoint(env, handle))
}

/// `void nativeShutdown(long handle)`
#[unsafe(no_mangle)]
pub extern "system" fn Java_com_infinyon_fluvio_LocalCluster_nativeShutdown<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
) {
    run(&mut env, (), |_| shutdown(handle))
}

/// `void nativeDispose(long handle)`
#[unsafe(no_mangle)]
pub extern "system" fn Java_com_infinyon_fluvio_LocalCluster_nativeDispose<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
) {
    run(&mut env, (), |_| {
        // A cluster still running is stopped before its directory may be deleted.
        shutdown(handle)?;
        // SAFETY: Java calls this once, after every other call on the handle returned.
        unsafe { dispose::<ClusterHandle>(handle) };
        Ok(())
    })
}
