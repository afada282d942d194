//! The one declared contract between the Java package `com.infinyon.fluvio` and this library.
//!
//! Everything that crosses the boundary is declared once, in Rust, with Rust types from which
//! the JNI descriptors are computed, and is checked against the Java classes when the library
//! initializes (`NativeLibrary.load()` calls `nativeInit`, which returns what differs; Java
//! then refuses to use the library and names it):
//!
//! * native methods: each Java class module declares its `private static native` methods with
//!   [`natives!`]; they are registered with `RegisterNatives`, which fails for a method Java does
//!   not declare with that descriptor. `ContractTest` checks the other way: every native Java
//!   declares is registered;
//! * Java members native code calls or reads (accessors of config objects, constructors,
//!   callbacks, fields): [`java!`](bind::java) in [`java`], looked up when initializing;
//! * enums, by constant name: [`java_enums!`](enums::java_enums) in [`java`], both sets of names
//!   compared when initializing;
//! * constants Java repeats (defaults, limits): `const` lines in [`java`], values compared when
//!   initializing;
//! * results packed into one `byte[]` (records, admin listings, profiles): their layout is
//!   pinned by samples that Java decodes in `ContractTest`.
//!
//! Arguments cross as the Java objects themselves (a `TopicProducerConfig`, an `Offset`), read
//! through the declared accessors: never as positional arrays.

pub(crate) mod batches;
pub(crate) mod bind;
pub(crate) mod enums;
pub(crate) mod java;
pub(crate) mod levels;
pub(crate) mod natives;
pub(crate) mod types;

use std::sync::OnceLock;

use jni::JNIEnv;

pub(crate) use enums::{JavaEnum, verify_names};
pub(crate) use natives::{NativeClass, natives};
pub(crate) use types::{JavaString, Obj, ObjArray};

/// Every native method registered, as `class.name descriptor`, once initialized.
static REGISTERED: OnceLock<Vec<String>> = OnceLock::new();

/// Checks the contract against the Java classes and registers the natives of `classes`.
/// Returns every difference found (empty when the library is usable). Idempotent once it
/// succeeded.
pub(crate) fn init(env: &mut JNIEnv, classes: &[fn() -> NativeClass], also: Vec<String>) -> Vec<String> {
    if REGISTERED.get().is_some() {
        return Vec::new();
    }
    let mut problems = java::bind_all(env);
    problems.extend(java::verify_enums(env));
    problems.extend(also);
    let mut registered = Vec::new();
    for natives in classes {
        let natives = natives();
        problems.extend(bind::in_frame(env, |env| register(env, &natives, &mut registered)));
    }
    if problems.is_empty() {
        let _ = REGISTERED.set(registered);
    }
    problems
}

/// Registers the natives of one class, adding each to `registered`; returns the failures.
fn register(env: &mut JNIEnv, natives: &NativeClass, registered: &mut Vec<String>) -> Vec<String> {
    let mut problems = Vec::new();
    let class = match env.find_class(natives.class) {
        Ok(class) => class,
        Err(err) => return vec![format!("class {}: {}", natives.class, bind::describe(env, err))],
    };
    for native in &natives.methods {
        let method = jni::NativeMethod {
            name: native.name.into(),
            sig: native.descriptor.as_str().into(),
            fn_ptr: native.function,
        };
        // Sound: `function` is an `extern "system"` function whose parameters and return
        // type are the ones `descriptor` was computed from (see `natives!`).
        match env.register_native_methods(&class, &[method]) {
            Ok(()) => registered.push(format!("{}.{} {}", natives.class, native.name, native.descriptor)),
            Err(err) => problems.push(format!(
                "native {}.{} {}: {}",
                natives.class,
                native.name,
                native.descriptor,
                bind::describe(env, err)
            )),
        }
    }
    problems
}

/// Every native method registered, as `class.name descriptor`.
pub(crate) fn registered() -> &'static [String] {
    REGISTERED.get().map_or(&[], Vec::as_slice)
}
