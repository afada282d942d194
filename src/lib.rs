//! The native library behind the `com.infinyon.fluvio` Java package.
//!
//! One module per Java class with native methods. Every export is a thin shim: it runs a plain
//! Rust function returning a `Result` through [`error::run`], which turns errors into typed
//! Java exceptions and panics into `FluvioException(INTERNAL)`, so nothing unwinds into the
//! JVM. The logic lives in `fluvio-engine` and `fluvio-local`.

mod consumer_stream;
mod convert;
mod error;
mod fluvio;
mod fluvio_admin;
mod fluvio_exception;
mod fluvio_profiles;
mod handle;
mod java;
mod local_cluster;
mod native_library;
mod partition_consumer;
mod runtime;
mod tls;
mod topic_consumer;
mod topic_producer;

use std::ffi::c_void;

use jni::JavaVM;
use jni::sys::{JNI_ERR, JNI_VERSION_1_8, jint};

/// Registers the JVM and looks up the Java classes native code calls back into.
///
/// # Safety
/// Called by the JVM when the library is loaded, with a valid `JavaVM` pointer.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn JNI_OnLoad(vm: *mut jni::sys::JavaVM, _reserved: *mut c_void) -> jint {
    // SAFETY: the JVM passes a valid pointer.
    let Ok(vm) = (unsafe { JavaVM::from_raw(vm) }) else { return JNI_ERR };
    let initialized = vm.get_env().and_then(|mut env| java::init(&mut env));
    if initialized.is_err() {
        return JNI_ERR;
    }
    runtime::set_vm(vm);
    JNI_VERSION_1_8
}
