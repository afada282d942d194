//! Natives of `com.infinyon.fluvio.NativeLibrary`.

use jni::JNIEnv;
use jni::objects::JClass;
use jni::sys::jlong;

use crate::error::run;

/// `long nativeEcho(long value)`: returns `value` and does nothing else, through the same
/// [`run`] shim as every export. The JMH benchmarks time a bare JNI crossing with it.
/// Package-private on the Java side.
#[unsafe(no_mangle)]
pub extern "system" fn Java_com_infinyon_fluvio_NativeLibrary_nativeEcho<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    value: jlong,
) -> jlong {
    run(&mut env, 0, |_| Ok(value))
}
