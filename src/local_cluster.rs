//! Natives of `com.infinyon.fluvio.LocalCluster`: the embedded cluster inside the JVM, and the
//! control of its single SPUs (stop, kill, start) for failover tests. The cluster runs on a
//! runtime of its own (see `fluvio_local`); Java threads only wait for it here, through the
//! library's runtime.

use std::path::PathBuf;
use std::time::Duration;

use fluvio_local::{ClusterConfig, LocalCluster, ReplicationPolicy};
use jni::JNIEnv;
use jni::objects::{JClass, JObjectArray, JString};
use jni::sys::{jboolean, jint, jintArray, jlong, jstring};
use parking_lot::RwLock;

use crate::convert::{optional_string, string};
use crate::error::{JniError, Result, run};
use crate::handle::{borrow, dispose, into_handle};
use crate::runtime::block_on;

/// The native side of a `LocalCluster`.
pub(crate) struct ClusterHandle {
    /// `None` once shut down. SPU operations hold a read lock for their whole length (the
    /// cluster serializes starts, stops and kills itself); shutting down takes the write lock,
    /// so it waits for the operations in progress and never pulls the cluster from under them.
    cluster: RwLock<Option<LocalCluster>>,
    endpoint: String,
    /// Deleted with the handle when the cluster was started without a base directory.
    _temporary: Option<tempfile::TempDir>,
}

/// Settings of `LocalCluster.Builder`, as passed to `nativeStart`.
#[derive(Clone, Copy)]
struct Settings {
    spus: jint,
    min_live: jint,
    spu_timeout_ms: jlong,
    lag_ms: jlong,
    idle_timeout_ms: jlong,
    read_timeout_ms: jlong,
    max_buffered_bytes: jlong,
}

/// Cluster settings from Java, checked (the builder checks them too).
fn cluster_config(dir: PathBuf, settings: &Settings) -> Result<ClusterConfig> {
    let Settings { spus, min_live, spu_timeout_ms, lag_ms, idle_timeout_ms, read_timeout_ms, max_buffered_bytes } =
        *settings;
    let spus = u16::try_from(spus)
        .ok()
        .filter(|s| (1..=64).contains(s))
        .ok_or_else(|| JniError::IllegalArgument(format!("spus must be between 1 and 64, not {spus}")))?;
    let min_live = u16::try_from(min_live).ok().filter(|m| (1..=64).contains(m)).ok_or_else(|| {
        JniError::IllegalArgument(format!("minLiveReplicas must be between 1 and 64, not {min_live}"))
    })?;
    let millis = |value: jlong, name: &str| {
        u64::try_from(value)
            .ok()
            .filter(|ms| *ms >= 1)
            .map(Duration::from_millis)
            .ok_or_else(|| JniError::IllegalArgument(format!("{name} must be positive, not {value} ms")))
    };
    // Zero switches a connection timeout off.
    let off_or_millis = |value: jlong, name: &str| {
        u64::try_from(value)
            .map(Duration::from_millis)
            .map_err(|_| JniError::IllegalArgument(format!("{name} must not be negative, not {value} ms")))
    };
    let max_buffered_bytes = usize::try_from(max_buffered_bytes).map_err(|_| {
        JniError::IllegalArgument(format!("maxBufferedBytes must be positive, not {max_buffered_bytes}"))
    })?;
    Ok(ClusterConfig::new(dir)
        .spus(spus)
        .min_live_replicas(min_live)
        .spu_timeout(millis(spu_timeout_ms, "spuTimeout")?)
        .replica_lag_time(millis(lag_ms, "replicaLagTime")?)
        .idle_timeout(off_or_millis(idle_timeout_ms, "idleTimeout")?)
        .read_timeout(off_or_millis(read_timeout_ms, "readTimeout")?)
        .max_buffered_bytes(max_buffered_bytes))
}

/// `ReplicationPolicy.nativeName()`: `fluvio` or `in-sync`.
fn replication_policy(env: &mut JNIEnv, policy: &JString) -> Result<ReplicationPolicy> {
    let name = string(env, policy, "replicationPolicy")?;
    name.parse().map_err(|err: fluvio_local::UnknownPolicy| JniError::IllegalArgument(err.to_string()))
}

fn start(
    env: &mut JNIEnv,
    base_dir: &JString,
    settings: &Settings,
    policy: &JString,
    tls: &JObjectArray,
) -> Result<jlong> {
    // Settings first: a refused one leaves no temporary directory behind.
    let policy = replication_policy(env, policy)?;
    let tls = crate::tls::server_tls(env, tls)?;
    let (dir, temporary) = match optional_string(env, base_dir)? {
        Some(dir) => (PathBuf::from(dir), None),
        None => {
            let temporary = tempfile::Builder::new()
                .prefix("fluvio-local-")
                .tempdir()
                .map_err(|e| JniError::cluster_storage(format!("cannot create a temporary directory: {e}")))?;
            (temporary.path().to_path_buf(), Some(temporary))
        }
    };
    let mut config = cluster_config(dir, settings)?.replication_policy(policy);
    if let Some(tls) = tls {
        config = config.tls(tls);
    }
    let cluster = block_on(LocalCluster::start(config))??;
    let endpoint = cluster.sc_endpoint();
    Ok(into_handle(ClusterHandle { cluster: RwLock::new(Some(cluster)), endpoint, _temporary: temporary }))
}

fn cluster(handle: jlong) -> Result<&'static ClusterHandle> {
    // SAFETY: Java keeps the handle alive for the call.
    unsafe { borrow::<ClusterHandle>(handle) }
}

fn endpoint(env: &mut JNIEnv, handle: jlong) -> Result<jstring> {
    Ok(env.new_string(&cluster(handle)?.endpoint)?.into_raw())
}

/// Runs `f` on the running cluster. A recursive read lock: a waiting shutdown does not block
/// new readers, so a query made while a stop is in progress never waits behind it.
fn with_cluster<R>(handle: jlong, f: impl FnOnce(&LocalCluster) -> Result<R>) -> Result<R> {
    let guard = cluster(handle)?.cluster.read_recursive();
    let running = guard.as_ref().ok_or_else(|| JniError::IllegalState("the LocalCluster is closed".into()))?;
    f(running)
}

/// An SPU id from Java: never negative (Java refuses those first).
fn spu_id(id: jint) -> Result<i32> {
    if id < 0 {
        return Err(JniError::IllegalArgument(format!("an SPU id must not be negative, not {id}")));
    }
    Ok(id)
}

/// `id` if the cluster has an SPU with it, else [`fluvio_local::ClusterError::UnknownSpu`].
fn known_spu(cluster: &LocalCluster, id: jint) -> Result<i32> {
    let id = spu_id(id)?;
    if cluster.spu_ids().contains(&id) { Ok(id) } else { Err(fluvio_local::ClusterError::UnknownSpu(id).into()) }
}

fn stop_spu(handle: jlong, id: jint, kill: bool) -> Result<()> {
    let id = spu_id(id)?;
    with_cluster(handle, |cluster| {
        if kill {
            block_on(cluster.kill_spu(id))??;
        } else {
            block_on(cluster.stop_spu(id))??;
        }
        Ok(())
    })
}

fn start_spu(handle: jlong, id: jint) -> Result<()> {
    let id = spu_id(id)?;
    with_cluster(handle, |cluster| {
        block_on(cluster.start_spu(id))??;
        Ok(())
    })
}

fn spu_ids(env: &mut JNIEnv, handle: jlong) -> Result<jintArray> {
    let ids = with_cluster(handle, |cluster| Ok(cluster.spu_ids()))?;
    let length = i32::try_from(ids.len()).map_err(|_| JniError::IllegalState("too many SPUs".into()))?;
    let array = env.new_int_array(length)?;
    env.set_int_array_region(&array, 0, &ids)?;
    Ok(array.into_raw())
}

fn is_spu_running(handle: jlong, id: jint) -> Result<jboolean> {
    with_cluster(handle, |cluster| Ok(u8::from(cluster.is_spu_running(known_spu(cluster, id)?))))
}

fn spu_endpoint(env: &mut JNIEnv, handle: jlong, id: jint) -> Result<jstring> {
    let addr = with_cluster(handle, |cluster| {
        let id = known_spu(cluster, id)?;
        Ok(cluster.spu_addrs().into_iter().find(|(spu, _)| *spu == id).map(|(_, addr)| addr))
    })?;
    match addr {
        Some(addr) => Ok(env.new_string(addr.to_string())?.into_raw()),
        None => Ok(std::ptr::null_mut()),
    }
}

fn shutdown(handle: jlong) -> Result<()> {
    let taken = cluster(handle)?.cluster.write().take();
    if let Some(cluster) = taken {
        block_on(cluster.shutdown())?;
    }
    Ok(())
}

/// `long nativeStart(String baseDir, int spus, int minLiveReplicas, long spuTimeoutMs,
/// long replicaLagTimeMs, long idleTimeoutMs, long readTimeoutMs, long maxBufferedBytes,
/// String replicationPolicy, String[] tls)` (baseDir null: a temporary directory;
/// replicationPolicy: `ReplicationPolicy.nativeName()`; tls: `LocalClusterTls.toNative()`, null
/// for plain TCP; a timeout of 0 is off)
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub extern "system" fn Java_com_infinyon_fluvio_LocalCluster_nativeStart<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    base_dir: JString<'local>,
    spus: jint,
    min_live: jint,
    spu_timeout_ms: jlong,
    lag_ms: jlong,
    idle_timeout_ms: jlong,
    read_timeout_ms: jlong,
    max_buffered_bytes: jlong,
    replication_policy: JString<'local>,
    tls: JObjectArray<'local>,
) -> jlong {
    let settings =
        Settings { spus, min_live, spu_timeout_ms, lag_ms, idle_timeout_ms, read_timeout_ms, max_buffered_bytes };
    run(&mut env, 0, |env| start(env, &base_dir, &settings, &replication_policy, &tls))
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

/// `void nativeStopSpu(long handle, int id, boolean kill)`
#[unsafe(no_mangle)]
pub extern "system" fn Java_com_infinyon_fluvio_LocalCluster_nativeStopSpu<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    id: jint,
    kill: jboolean,
) {
    run(&mut env, (), |_| stop_spu(handle, id, kill != 0))
}

/// `void nativeStartSpu(long handle, int id)`
#[unsafe(no_mangle)]
pub extern "system" fn Java_com_infinyon_fluvio_LocalCluster_nativeStartSpu<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    id: jint,
) {
    run(&mut env, (), |_| start_spu(handle, id))
}

/// `int[] nativeSpuIds(long handle)`
#[unsafe(no_mangle)]
pub extern "system" fn Java_com_infinyon_fluvio_LocalCluster_nativeSpuIds<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
) -> jintArray {
    run(&mut env, std::ptr::null_mut(), |env| spu_ids(env, handle))
}

/// `boolean nativeIsSpuRunning(long handle, int id)`
#[unsafe(no_mangle)]
pub extern "system" fn Java_com_infinyon_fluvio_LocalCluster_nativeIsSpuRunning<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    id: jint,
) -> jboolean {
    run(&mut env, 0, |_| is_spu_running(handle, id))
}

/// `String nativeSpuEndpoint(long handle, int id)` (null while the SPU is not running)
#[unsafe(no_mangle)]
pub extern "system" fn Java_com_infinyon_fluvio_LocalCluster_nativeSpuEndpoint<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    id: jint,
) -> jstring {
    run(&mut env, std::ptr::null_mut(), |env| spu_endpoint(env, handle, id))
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
