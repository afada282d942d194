//! The native library behind the `com.infinyon.fluvio` Java package.
//!
//! One module per Java class with native methods; each declares its natives once with
//! [`contract::natives!`] and every one is a thin shim over a plain Rust function returning a
//! `Result`, run through [`error::run`], which turns errors into typed Java exceptions and panics
//! into `FluvioException(INTERNAL)`, so nothing unwinds into the JVM. The logic lives in
//! `fluvio-engine` and `fluvio-local`. What crosses the boundary is declared once in
//! [`contract`] and checked against the Java classes when the library initializes.

mod consumer_stream;
mod contract;
mod convert;
mod error;
mod fluvio;
mod fluvio_admin;
mod fluvio_exception;
mod fluvio_logging;
mod fluvio_profiles;
mod handle;
mod local_cluster;
mod native_library;
mod partition_consumer;
mod runtime;
mod settings;
mod topic_consumer;
mod topic_producer;

use std::ffi::c_void;

use jni::JavaVM;
use jni::sys::{JNI_ERR, JNI_VERSION_1_8, jint};

/// Registers the JVM. Everything else happens in `NativeLibrary.nativeInit`
/// (`native_library.rs`), called by the loader right after loading, so that what does not match
/// can be reported by name.
///
/// # Safety
/// Called by the JVM when the library is loaded, with a valid `JavaVM` pointer.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn JNI_OnLoad(vm: *mut jni::sys::JavaVM, _reserved: *mut c_void) -> jint {
    // SAFETY: the JVM passes a valid pointer.
    let Ok(vm) = (unsafe { JavaVM::from_raw(vm) }) else { return JNI_ERR };
    runtime::set_vm(vm);
    JNI_VERSION_1_8
}
