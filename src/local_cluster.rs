//! Natives of `com.infinyon.fluvio.LocalCluster`: the embedded cluster inside the JVM, and the
//! control of its single SPUs (stop, kill, start) for failover tests. The cluster runs on a
//! runtime of its own (see `fluvio_local`); Java threads only wait for it here, through the
//! library's runtime.

use std::path::PathBuf;

use fluvio_local::{ClusterConfig, LocalCluster};
use jni::JNIEnv;
use jni::objects::{JIntArray, JString};
use jni::sys::{jboolean, jint, jlong};
use parking_lot::RwLock;

use crate::contract::{Obj, java, natives};
use crate::convert::{duration, required, required_enum, server_tls, string};
use crate::error::{JniError, Result};
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

/// The cluster a `LocalCluster.Definition` describes (the cluster checks it when it starts).
fn cluster_config(
    env: &mut JNIEnv,
    dir: PathBuf,
    definition: &Obj<java::LocalClusterDefinition>,
) -> Result<ClusterConfig> {
    let small = |value: jint, what: &str| {
        u16::try_from(value).map_err(|_| JniError::IllegalArgument(format!("{what} is out of range: {value}")))
    };
    let spu_timeout = java::LocalClusterDefinition::spu_timeout(env, definition)?;
    let lag = java::LocalClusterDefinition::replica_lag_time(env, definition)?;
    let idle = java::LocalClusterDefinition::idle_timeout(env, definition)?;
    let read = java::LocalClusterDefinition::read_timeout(env, definition)?;
    let buffered = java::LocalClusterDefinition::max_buffered_bytes(env, definition)?;
    let policy = java::LocalClusterDefinition::replication_policy(env, definition)?;
    let policy = required_enum::<java::ReplicationPolicy>(env, &policy, "replicationPolicy")?;
    Ok(ClusterConfig::new(dir)
        .replication_policy(policy)
        .spus(small(java::LocalClusterDefinition::spus(env, definition)?, "spus")?)
        .min_live_replicas(small(java::LocalClusterDefinition::min_live_replicas(env, definition)?, "minLiveReplicas")?)
        .spu_timeout(duration(env, &spu_timeout, "spuTimeout")?)
        .replica_lag_time(duration(env, &lag, "replicaLagTime")?)
        .idle_timeout(duration(env, &idle, "idleTimeout")?)
        .read_timeout(duration(env, &read, "readTimeout")?)
        .max_buffered_bytes(crate::convert::count(buffered, "maxBufferedBytes")?))
}

fn start(env: &mut JNIEnv, definition: &Obj<java::LocalClusterDefinition>) -> Result<jlong> {
    crate::convert::in_frame(env, |env| start_in_frame(env, definition))
}

fn start_in_frame(env: &mut JNIEnv, definition: &Obj<java::LocalClusterDefinition>) -> Result<jlong> {
    required(definition, "definition")?;
    // Settings first: a refused one leaves no temporary directory behind.
    let tls = java::LocalClusterDefinition::tls(env, definition)?;
    let tls = match tls.non_null() {
        Some(tls) => Some(server_tls(env, &tls)?),
        None => None,
    };
    let base_dir = java::LocalClusterDefinition::base_dir(env, definition)?;
    let base_dir = match base_dir.non_null() {
        Some(path) => {
            let path = java::Object::to_string(env, &path)?;
            Some(string(env, &path, "baseDir")?)
        }
        None => None,
    };
    let (dir, temporary) = match base_dir {
        Some(dir) => (PathBuf::from(dir), None),
        None => {
            let temporary = tempfile::Builder::new()
                .prefix("fluvio-local-")
                .tempdir()
                .map_err(|e| JniError::cluster_storage(format!("cannot create a temporary directory: {e}")))?;
            (temporary.path().to_path_buf(), Some(temporary))
        }
    };
    let mut config = cluster_config(env, dir, definition)?;
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

fn endpoint<'local>(env: &mut JNIEnv<'local>, handle: jlong) -> Result<JString<'local>> {
    Ok(env.new_string(&cluster(handle)?.endpoint)?)
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

fn spu_ids<'local>(env: &mut JNIEnv<'local>, handle: jlong) -> Result<JIntArray<'local>> {
    let ids = with_cluster(handle, |cluster| Ok(cluster.spu_ids()))?;
    let length = i32::try_from(ids.len()).map_err(|_| JniError::IllegalState("too many SPUs".into()))?;
    let array = env.new_int_array(length)?;
    env.set_int_array_region(&array, 0, &ids)?;
    Ok(array)
}

fn is_spu_running(handle: jlong, id: jint) -> Result<jboolean> {
    with_cluster(handle, |cluster| Ok(u8::from(cluster.is_spu_running(known_spu(cluster, id)?))))
}

fn spu_endpoint<'local>(env: &mut JNIEnv<'local>, handle: jlong, id: jint) -> Result<JString<'local>> {
    let addr = with_cluster(handle, |cluster| {
        let id = known_spu(cluster, id)?;
        Ok(cluster.spu_addrs().into_iter().find(|(spu, _)| *spu == id).map(|(_, addr)| addr))
    })?;
    match addr {
        Some(addr) => Ok(env.new_string(addr.to_string())?),
        None => Ok(JString::default()),
    }
}

fn shutdown(handle: jlong) -> Result<()> {
    let taken = cluster(handle)?.cluster.write().take();
    if let Some(cluster) = taken {
        block_on(cluster.shutdown())?;
    }
    Ok(())
}

natives! {
    class = java::LocalCluster;

    /// A `Definition` without base directory runs in a temporary one, deleted on dispose.
    fn nativeStart(env, definition: Obj<'local, java::LocalClusterDefinition>) -> jlong {
        start(env, &definition)
    }

    fn nativeEndpoint(env, handle: jlong) -> JString<'local> {
        endpoint(env, handle)
    }

    fn nativeStopSpu(_, handle: jlong, id: jint, kill: jboolean) {
        stop_spu(handle, id, kill != 0)
    }

    fn nativeStartSpu(_, handle: jlong, id: jint) {
        start_spu(handle, id)
    }

    fn nativeSpuIds(env, handle: jlong) -> JIntArray<'local> {
        spu_ids(env, handle)
    }

    fn nativeIsSpuRunning(_, handle: jlong, id: jint) -> jboolean {
        is_spu_running(handle, id)
    }

    /// Null while the SPU is not running.
    fn nativeSpuEndpoint(env, handle: jlong, id: jint) -> JString<'local> {
        spu_endpoint(env, handle, id)
    }

    fn nativeShutdown(_, handle: jlong) {
        shutdown(handle)
    }

    fn nativeDispose(_, handle: jlong) {
        // A cluster still running is stopped before its directory may be deleted.
        shutdown(handle)?;
        // SAFETY: Java calls this once, after every other call on the handle returned.
        unsafe { dispose::<ClusterHandle>(handle) };
        Ok(())
    }
}
