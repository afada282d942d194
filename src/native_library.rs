//! Natives of `com.infinyon.fluvio.NativeLibrary`: initializing the library (checking the
//! contract and registering every other native), and what it says about itself for the tests
//! that check both sides agree: the natives it registered, and samples of its packed results.

use jni::JNIEnv;
use jni::objects::{JByteArray, JClass};
use jni::sys::{jlong, jstring};

use crate::contract::java::{self, PackedLayout};
use crate::contract::{JavaString, NativeClass, Obj, ObjArray, natives};
use crate::convert::{Packer, required_enum, string_array};
use crate::error::{Result, run};

/// The native methods of every Java class, one entry per module of the library: registered by
/// `nativeInit`.
pub(crate) const NATIVE_CLASSES: &[fn() -> NativeClass] = &[
    crate::consumer_stream::natives,
    crate::fluvio::natives,
    crate::fluvio_admin::natives,
    crate::fluvio_exception::natives,
    crate::fluvio_logging::natives,
    crate::fluvio_profiles::natives,
    crate::local_cluster::natives,
    natives,
    crate::partition_consumer::natives,
    crate::settings::natives,
    crate::topic_consumer::natives,
    crate::topic_producer::natives,
];

/// Checks the contract and registers the natives: every difference found.
fn init(env: &mut JNIEnv) -> Vec<String> {
    let codes = crate::error::verify_names(env);
    crate::contract::init(env, NATIVE_CLASSES, codes)
}

/// `String nativeInit()`: checks the contract against the Java classes and registers the
/// natives; null when the library is usable, else every difference found, one per line. The
/// one native found by its exported name: it registers the others.
#[unsafe(no_mangle)]
pub extern "system" fn Java_com_infinyon_fluvio_NativeLibrary_nativeInit<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
) -> jstring {
    run(&mut env, std::ptr::null_mut(), |env| {
        let problems = init(env);
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
        PackedLayout::Metrics => crate::convert::sample_metrics(),
        PackedLayout::Consumers => crate::fluvio_admin::sample_consumers()?,
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

    /// `long nativeEcho(long value)`: returns `value` and does nothing else, through the same
    /// shim as every native. The JMH benchmarks time a bare JNI crossing with it.
    /// Package-private in Java.
    fn nativeEcho(_, value: jlong) -> jlong {
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every native of every class: a descriptor of the JNI grammar, one per name, and a
    /// function behind it (what `ContractTest` then compares with the Java declarations).
    #[test]
    fn every_native_has_one_well_formed_descriptor() {
        let mut seen = std::collections::BTreeSet::new();
        for natives in NATIVE_CLASSES {
            let natives = natives();
            assert!(natives.class.starts_with("com/infinyon/fluvio/"), "{}", natives.class);
            for native in &natives.methods {
                assert!(seen.insert(format!("{}.{}", natives.class, native.name)), "{} declared twice", native.name);
                assert!(native.name.starts_with("native"), "{}", native.name);
                assert!(!native.function.is_null());
                let descriptor = &native.descriptor;
                let (params, ret) = descriptor[1..].split_once(')').expect("(params)return");
                assert!(descriptor.starts_with('('), "{descriptor}");
                for part in [params, ret] {
                    let mut rest = part;
                    while !rest.is_empty() {
                        rest = rest.trim_start_matches('[');
                        rest = match rest.as_bytes()[0] {
                            b'L' => &rest[rest.find(';').expect("L...;") + 1..],
                            b'I' | b'J' | b'Z' | b'B' | b'S' | b'C' | b'F' | b'D' | b'V' => &rest[1..],
                            _ => panic!("bad descriptor {descriptor}"),
                        };
                    }
                }
            }
        }
        assert!(seen.len() > 40, "every class's natives are listed: {}", seen.len());
    }
}
