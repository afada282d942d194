//! Enums cross the boundary by constant name, never by ordinal: [`java_enums!`] declares, for
//! each Java enum, the Rust value of every constant. When the library initializes, each
//! declared set of names is compared with the Java enum's `values()`, both ways, so a constant
//! added, removed or renamed on one side alone stops the library from loading (a reordering is
//! harmless).

use jni::JNIEnv;
use jni::objects::{JObject, JObjectArray, JString, JValueOwned};

use super::bind::describe;
use super::types::JavaClass;

/// A Java enum and the Rust value of each of its constants.
pub(crate) trait JavaEnum: JavaClass {
    /// The Rust type.
    type Rust: Copy;
    /// Every constant's name.
    const NAMES: &'static [&'static str];
    /// The value of constant `name`.
    fn to_rust(name: &str) -> Option<Self::Rust>;
    /// The constant of `value`.
    fn name(value: Self::Rust) -> &'static str;
}

/// The Rust value of the Java enum constant `object`; `None` for null.
pub(crate) fn from_java<E: JavaEnum>(env: &mut JNIEnv, object: &JObject) -> Result<Option<E::Rust>, EnumError> {
    if object.is_null() {
        return Ok(None);
    }
    let name = JString::from(env.call_method(object, "name", "()Ljava/lang/String;", &[]).and_then(JValueOwned::l)?);
    let text: String = env.get_string(&name)?.into();
    env.delete_local_ref(name)?;
    let name = text;
    E::to_rust(&name).map(Some).ok_or(EnumError::Unknown { class: E::NAME, name })
}

/// A Java enum constant that cannot be read.
#[derive(Debug)]
pub(crate) enum EnumError {
    /// A JNI failure (a Java exception may be pending).
    Jni(jni::errors::Error),
    /// A constant the native library does not know (impossible once initialized).
    Unknown { class: &'static str, name: String },
}

impl From<jni::errors::Error> for EnumError {
    fn from(err: jni::errors::Error) -> Self {
        EnumError::Jni(err)
    }
}

/// Compares the constants of `E`'s Java enum with its declared names.
pub(crate) fn verify<E: JavaEnum>(env: &mut JNIEnv) -> Vec<String> {
    verify_names(env, E::NAME, E::NAMES)
}

/// Compares the constants of the Java enum `class` with `names`, both ways.
pub(crate) fn verify_names(env: &mut JNIEnv, class: &str, names: &[&str]) -> Vec<String> {
    super::bind::in_frame(env, |env| compare_names(env, class, names))
}

fn compare_names(env: &mut JNIEnv, class: &str, names: &[&str]) -> Vec<String> {
    match java_names(env, class) {
        Ok(java) => {
            let mut problems = Vec::new();
            let missing: Vec<_> = names.iter().filter(|name| !java.iter().any(|j| j == *name)).collect();
            let unknown: Vec<_> = java.iter().filter(|name| !names.contains(&name.as_str())).collect();
            if !missing.is_empty() {
                problems.push(format!("enum {class}: the native library knows {missing:?}, Java does not"));
            }
            if !unknown.is_empty() {
                problems.push(format!("enum {class}: Java has {unknown:?}, the native library does not"));
            }
            problems
        }
        Err(err) => vec![format!("enum {class}: {}", describe(env, err))],
    }
}

/// The names of the constants of the Java enum `class`.
fn java_names(env: &mut JNIEnv, class: &str) -> jni::errors::Result<Vec<String>> {
    let found = env.find_class(class)?;
    let values = env.call_static_method(&found, "values", format!("()[L{class};"), &[]).and_then(JValueOwned::l)?;
    let values = JObjectArray::from(values);
    let count = env.get_array_length(&values)?;
    let mut names = Vec::with_capacity(count as usize);
    for index in 0..count {
        let constant = env.get_object_array_element(&values, index)?;
        let name =
            JString::from(env.call_method(&constant, "name", "()Ljava/lang/String;", &[]).and_then(JValueOwned::l)?);
        names.push(env.get_string(&name)?.into());
        env.delete_local_ref(name)?;
        env.delete_local_ref(constant)?;
    }
    Ok(names)
}

/// The constants of `E` that do not map to a Rust value and back to themselves (two names
/// sharing one value, say).
#[cfg(test)]
pub(crate) fn round_trip<E: JavaEnum>() -> Vec<String> {
    E::NAMES
        .iter()
        .filter(|name| E::to_rust(name).map(E::name) != Some(**name))
        .map(|name| format!("enum {}: {name} does not map to a value of its own", E::NAME))
        .collect()
}

/// Declares Java enums and the Rust value of each constant:
///
/// ```ignore
/// java_enums! {
///     /// `com.infinyon.fluvio.Compression`
///     enum Compression = "com/infinyon/fluvio/Compression" for fluvio_engine::Compression {
///         NONE => fluvio_engine::Compression::None,
///         GZIP => fluvio_engine::Compression::Gzip,
///     }
/// }
/// ```
///
/// The Rust side of the mapping is an exhaustive `match`, so a variant added in Rust without a
/// Java name does not compile; `verify_enums` checks the Java side when the library initializes.
macro_rules! java_enums {
    ($(
        $(#[doc = $doc:literal])*
        enum $class:ident = $path:literal for $rust:ty { $($java:ident => $value:path),* $(,)? }
    )*) => {
        $(
            $(#[doc = $doc])*
            pub(crate) struct $class;

            impl $crate::contract::types::JavaClass for $class {
                const NAME: &'static str = $path;
            }

            impl $crate::contract::enums::JavaEnum for $class {
                type Rust = $rust;
                const NAMES: &'static [&'static str] = &[$(stringify!($java)),*];

                fn to_rust(name: &str) -> Option<$rust> {
                    match name {
                        $(stringify!($java) => Some($value),)*
                        _ => None,
                    }
                }

                fn name(value: $rust) -> &'static str {
                    match value {
                        $($value => stringify!($java),)*
                    }
                }
            }
        )*

        /// Compares every declared enum with its Java class; returns what does not match.
        pub(crate) fn verify_enums(env: &mut ::jni::JNIEnv) -> Vec<String> {
            let mut problems = Vec::new();
            $(problems.extend($crate::contract::enums::verify::<$class>(env));)*
            problems
        }

        /// Every declared constant that does not map to a Rust value of its own and back.
        #[cfg(test)]
        pub(crate) fn enum_round_trips() -> Vec<String> {
            let mut problems = Vec::new();
            $(problems.extend($crate::contract::enums::round_trip::<$class>());)*
            problems
        }
    };
}

pub(crate) use java_enums;
