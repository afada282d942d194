//! Natives of `com.infinyon.fluvio.NativeLibrary`: initializing the library (checking the
//! contract and registering every other native), and what it says about itself for the tests
//! that check both sides agree: the natives it registered, and samples of its packed results.

use jni::JNIEnv;
use jni::objects::{JByteArray, JClass};
use jni::sys::jstring;

use crate::contract::java::{self, PackedLayout};
use crate::contract::{JavaString, Obj, ObjArray, natives};
use crate::convert::{Packer, required_enum, string_array};
use crate::error::{Result, run};

/// `String nativeInit()`: checks the contract against the Java classes and registers the
/// natives; null when the library is usable, else every difference found, one per line. The
/// one native found by its exported name: it registers the others.
#[unsafe(no_mangle)]
pub extern "system" fn Java_com_infinyon_fluvio_NativeLibrary_nativeInit<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
) -> jstring {
    run(&mut env, std::ptr::null_mut(), |env| {
        let problems = crate::init(env);
        if problems.is_empty() { Ok(std::ptr::null_mut()) } else { Ok(env.new_string(problems.join("\n"))?.into_raw()) }
    })
}

/// The sample of a packed layout, made by the same code as the real results.
fn sample<'local>(env: &mut JNIEnv<'local>, layout: &Obj<java::Layout>) -> Result<JByteArray<'local>> {
    let packer: Packer = match required_enum::<java::Layout>(env, layout, "layout")? {
        PackedLayout::Records => crate::convert::sample_records(),
        PackedLayout::Topics => crate::fluvio_admin::sample_topics()?,
        PackedLayout::Partitions => crate::fluvio_admin::sample_partitions()?,
        PackedLayout::Spus => crate::fluvio_admin::sample_spus()?,
        PackedLayout::Profile => crate::fluvio_profiles::sample_profile(),
    };
    packer.into_java(env)
}

natives! {
    class = java::NativeLibrary;

    /// Every registered native, as `class.name descriptor` (`nativeInit` excepted).
    fn nativeRegistered(env) -> ObjArray<'local, JavaString> {
        string_array(env, crate::contract::registered())
    }

    /// A sample of a packed layout.
    fn nativeSample(env, layout: Obj<'local, java::Layout>) -> JByteArray<'local> {
        sample(env, &layout)
    }
}
