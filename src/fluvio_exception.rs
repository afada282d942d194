//! Natives of `com.infinyon.fluvio.FluvioException`: the error codes, TLS failures and cluster
//! failures native code can report, so a test can check that Java's `Code`, `TlsFailure` and
//! `ClusterFailure` enums know every one of them.

use jni::JNIEnv;
use jni::objects::JClass;
use jni::sys::jstring;

use crate::error::{all_cluster_failure_names, all_code_names, all_tls_failure_names, run};

/// `String nativeCodeNames()`: every code, one per line.
#[unsafe(no_mangle)]
pub extern "system" fn Java_com_infinyon_fluvio_FluvioException_nativeCodeNames<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
) -> jstring {
    run(&mut env, std::ptr::null_mut(), |env| Ok(env.new_string(all_code_names().join("\n"))?.into_raw()))
}

/// `String nativeTlsFailureNames()`: every TLS failure, one per line.
#[unsafe(no_mangle)]
pub extern "system" fn Java_com_infinyon_fluvio_FluvioException_nativeTlsFailureNames<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
) -> jstring {
    run(&mut env, std::ptr::null_mut(), |env| Ok(env.new_string(all_tls_failure_names().join("\n"))?.into_raw()))
}

/// `String nativeClusterFailureNames()`: every failure of the embedded cluster, one per line.
#[unsafe(no_mangle)]
pub extern "system" fn Java_com_infinyon_fluvio_FluvioException_nativeClusterFailureNames<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
) -> jstring {
    run(&mut env, std::ptr::null_mut(), |env| Ok(env.new_string(all_cluster_failure_names().join("\n"))?.into_raw()))
}

/// `void nativeTestPanic()`: panics inside native code, for the test that proves a panic
/// reaches Java as `FluvioException(INTERNAL)` and leaves the library usable. Package-private
/// on the Java side.
#[unsafe(no_mangle)]
pub extern "system" fn Java_com_infinyon_fluvio_FluvioException_nativeTestPanic<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
) {
    run(&mut env, (), |_| -> crate::error::Result<()> { panic!("deliberate panic (test hook)") })
}
