//! Java classes, methods and fields native code uses, looked up once when the library loads
//! (on the loading thread, whose class loader sees the library's classes) and kept as global
//! references, so threads attached later never need `FindClass`.

use std::sync::OnceLock;

use jni::JNIEnv;
use jni::objects::{GlobalRef, JClass, JFieldID, JMethodID};

/// Cached classes and member ids.
pub(crate) struct JavaCache {
    /// `com.infinyon.fluvio.FluvioException`.
    pub fluvio_exception_class: GlobalRef,
    /// `com.infinyon.fluvio.BatchFuture`.
    pub batch_future_class: GlobalRef,
    /// `BatchFuture()`.
    pub batch_future_ctor: JMethodID,
    /// `BatchFuture.complete(int partition, long baseOffset)`.
    pub batch_future_complete: JMethodID,
    /// `BatchFuture.fail(String code, String message, boolean retriable, String tlsFailure)`.
    pub batch_future_fail: JMethodID,
    /// `ProduceOutput.batch` (a `BatchFuture`).
    pub produce_output_batch: JFieldID,
}

static CACHE: OnceLock<JavaCache> = OnceLock::new();

/// Looks everything up; called from `JNI_OnLoad`.
pub(crate) fn init(env: &mut JNIEnv) -> jni::errors::Result<()> {
    if CACHE.get().is_some() {
        return Ok(());
    }
    let exception = env.find_class("com/infinyon/fluvio/FluvioException")?;
    let batch_future = env.find_class("com/infinyon/fluvio/BatchFuture")?;
    let produce_output = env.find_class("com/infinyon/fluvio/ProduceOutput")?;
    let cache = JavaCache {
        batch_future_ctor: env.get_method_id(&batch_future, "<init>", "()V")?,
        batch_future_complete: env.get_method_id(&batch_future, "complete", "(IJ)V")?,
        batch_future_fail: env.get_method_id(
            &batch_future,
            "fail",
            "(Ljava/lang/String;Ljava/lang/String;ZLjava/lang/String;)V",
        )?,
        produce_output_batch: env.get_field_id(&produce_output, "batch", "Lcom/infinyon/fluvio/BatchFuture;")?,
        fluvio_exception_class: env.new_global_ref(exception)?,
        batch_future_class: env.new_global_ref(batch_future)?,
    };
    let _ = CACHE.set(cache);
    Ok(())
}

/// The cache (the library must be loaded).
pub(crate) fn cache() -> jni::errors::Result<&'static JavaCache> {
    CACHE.get().ok_or(jni::errors::Error::NullPtr("the Fluvio native library was not initialized"))
}

/// A cached class as a `JClass`.
pub(crate) fn class(global: &GlobalRef) -> &JClass<'static> {
    <&JClass>::from(global.as_obj())
}
