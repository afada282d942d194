//! Java members native code uses (methods, constructors, fields, pinned constants), declared
//! once with [`java!`]: each declaration gives the Rust types, from which the JNI descriptor is
//! computed, and a typed function to call it. Every member is looked up when the library
//! initializes, so a member missing from the Java class, or of another type, stops the library
//! from loading with a message naming it, instead of failing the first call that uses it.

use std::sync::OnceLock;
use std::time::Duration;

use jni::JNIEnv;
use jni::objects::{GlobalRef, JClass, JFieldID, JMethodID, JStaticFieldID, JStaticMethodID, JValueOwned};
use jni::signature::{JavaType, Primitive};

/// What a declared member is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
// Static methods are part of the mechanism (upcalls such as a logger factory), not all in use.
#[allow(dead_code)]
pub(crate) enum MemberKind {
    Method,
    StaticMethod,
    Constructor,
    Field,
    /// A `static final` field whose value must equal the Rust one.
    Constant,
}

/// A value a Java constant must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pinned {
    /// An `int`.
    Int(i32),
    /// A `long`.
    Long(i64),
    /// A `java.time.Duration`.
    Duration(Duration),
}

impl Pinned {
    fn descriptor(&self) -> &'static str {
        match self {
            Pinned::Int(_) => "I",
            Pinned::Long(_) => "J",
            Pinned::Duration(_) => "Ljava/time/Duration;",
        }
    }
}

/// One declared member: what to look up.
pub(crate) struct Declared {
    pub kind: MemberKind,
    pub name: &'static str,
    pub descriptor: String,
    /// The value of a [`MemberKind::Constant`].
    pub pinned: Option<Pinned>,
}

/// A member's id, once looked up.
#[derive(Clone, Copy)]
#[allow(dead_code)]
pub(crate) enum MemberId {
    Method(JMethodID),
    StaticMethod(JStaticMethodID),
    Field(JFieldID),
    StaticField(JStaticFieldID),
}

/// A class and the ids of its declared members, in declaration order.
pub(crate) struct ClassIds {
    pub class: GlobalRef,
    pub members: Vec<Option<MemberId>>,
}

/// Runs `check` in a local frame of its own (every local reference it makes is freed after),
/// returning the problems it found.
pub(crate) fn in_frame(env: &mut JNIEnv, check: impl FnOnce(&mut JNIEnv) -> Vec<String>) -> Vec<String> {
    match env.with_local_frame(64, |env| Ok::<_, jni::errors::Error>(check(env))) {
        Ok(problems) => problems,
        Err(err) => vec![format!("cannot make a local frame: {err}")],
    }
}

/// Looks up `class` and its `declared` members into `slot`; returns what does not match.
pub(crate) fn bind_class(
    env: &mut JNIEnv,
    class: &'static str,
    declared: Vec<Declared>,
    slot: &'static OnceLock<ClassIds>,
) -> Vec<String> {
    in_frame(env, |env| bind_class_in_frame(env, class, declared, slot))
}

fn bind_class_in_frame(
    env: &mut JNIEnv,
    class: &'static str,
    declared: Vec<Declared>,
    slot: &'static OnceLock<ClassIds>,
) -> Vec<String> {
    let mut problems = Vec::new();
    let found = match env.find_class(class) {
        Ok(found) => found,
        Err(err) => {
            problems.push(format!("class {class}: {}", describe(env, err)));
            return problems;
        }
    };
    let mut members = Vec::with_capacity(declared.len());
    let mut constants = Vec::new();
    for member in &declared {
        let id = match member.kind {
            MemberKind::Method => env.get_method_id(&found, member.name, &member.descriptor).map(MemberId::Method),
            MemberKind::Constructor => env.get_method_id(&found, "<init>", &member.descriptor).map(MemberId::Method),
            MemberKind::StaticMethod => {
                env.get_static_method_id(&found, member.name, &member.descriptor).map(MemberId::StaticMethod)
            }
            MemberKind::Field => env.get_field_id(&found, member.name, &member.descriptor).map(MemberId::Field),
            MemberKind::Constant => {
                env.get_static_field_id(&found, member.name, &member.descriptor).map(MemberId::StaticField)
            }
        };
        match id {
            Ok(id) => {
                if let (MemberKind::Constant, Some(pinned)) = (member.kind, member.pinned) {
                    constants.push((member.name, id, pinned));
                }
                members.push(Some(id));
            }
            Err(err) => {
                let what = if member.kind == MemberKind::Constructor { "<init>" } else { member.name };
                problems.push(format!("{class}.{what} {}: {}", member.descriptor, describe(env, err)));
                members.push(None);
            }
        }
    }
    for (name, id, pinned) in constants {
        if let Err(problem) = check_constant(env, &found, name, id, pinned) {
            problems.push(format!("{class}.{name}: {problem}"));
        }
    }
    match env.new_global_ref(&found) {
        Ok(class) => {
            let _ = slot.set(ClassIds { class, members });
        }
        Err(err) => problems.push(format!("class {class}: {}", describe(env, err))),
    }
    let _ = env.delete_local_ref(found);
    problems
}

/// Compares a constant's Java value with the Rust one.
fn check_constant(env: &mut JNIEnv, class: &JClass, name: &str, id: MemberId, pinned: Pinned) -> Result<(), String> {
    let MemberId::StaticField(id) = id else { return Err("not a static field".into()) };
    let java_type = match pinned {
        Pinned::Int(_) => JavaType::Primitive(Primitive::Int),
        Pinned::Long(_) => JavaType::Primitive(Primitive::Long),
        Pinned::Duration(_) => JavaType::Object("java/time/Duration".into()),
    };
    let value = env.get_static_field_unchecked(class, id, java_type).map_err(|e| describe(env, e))?;
    let java = match pinned {
        Pinned::Int(_) => Pinned::Int(value.i().map_err(|e| e.to_string())?),
        Pinned::Long(_) => Pinned::Long(value.j().map_err(|e| e.to_string())?),
        Pinned::Duration(_) => {
            let object = value.l().map_err(|e| e.to_string())?;
            let seconds = env.call_method(&object, "getSeconds", "()J", &[]).and_then(JValueOwned::j);
            let nanos = env.call_method(&object, "getNano", "()I", &[]).and_then(JValueOwned::i);
            let _ = env.delete_local_ref(object);
            let (seconds, nanos) = (seconds.map_err(|e| describe(env, e))?, nanos.map_err(|e| describe(env, e))?);
            let seconds = u64::try_from(seconds).map_err(|_| "a negative duration".to_string())?;
            Pinned::Duration(Duration::new(seconds, nanos as u32))
        }
    };
    if java == pinned {
        Ok(())
    } else {
        Err(format!("{name} is {java:?} in Java but {pinned:?} in the native library"))
    }
}

/// What went wrong in a JNI call, clearing the Java exception it left pending.
pub(crate) fn describe(env: &mut JNIEnv, err: jni::errors::Error) -> String {
    if !matches!(err, jni::errors::Error::JavaException) {
        return err.to_string();
    }
    let Ok(throwable) = env.exception_occurred() else { return err.to_string() };
    let _ = env.exception_clear();
    let text = env
        .call_method(&throwable, "toString", "()Ljava/lang/String;", &[])
        .and_then(JValueOwned::l)
        .and_then(|text| env.get_string(&text.into()).map(String::from));
    text.unwrap_or_else(|_| "a Java exception".to_string())
}

/// The ids of a bound class; an error before the library initialized.
pub(crate) fn ids(slot: &'static OnceLock<ClassIds>) -> jni::errors::Result<&'static ClassIds> {
    slot.get().ok_or(jni::errors::Error::NullPtr("the Fluvio native library is not initialized"))
}

/// Member `index` of `ids`.
pub(crate) fn member(ids: &ClassIds, index: usize) -> jni::errors::Result<MemberId> {
    ids.members.get(index).copied().flatten().ok_or(jni::errors::Error::NullPtr("a Java member was not found"))
}

/// The class of `ids` as a `JClass`.
pub(crate) fn class(ids: &ClassIds) -> &JClass<'static> {
    <&JClass>::from(ids.class.as_obj())
}

/// Declares Java classes and the members native code uses. Within a class:
///
/// * `fn rust_name = javaName(arg: Type, ...) -> Type;`: an instance method, called as
///   `Class::rust_name(env, &object, args...)`;
/// * `static fn rust_name = javaName(...) -> Type;`: a static method, `Class::rust_name(env, args...)`;
/// * `new rust_name(arg: Type, ...);`: a constructor, `Class::rust_name(env, args...)`;
/// * `set rust_name = javaName: Type;`: a field of an object type that native code sets,
///   `Class::rust_name(env, &object, &value)`;
/// * `const JAVA_NAME = int(value) | long(value) | duration(value);`: a `static final` whose
///   value must equal the Rust one.
///
/// Types are the boundary types of [`super::types`] (`jint`, `JString<'local>`,
/// `Obj<'local, Class>`, ...), with `'local` the lifetime of the call's references.
macro_rules! java {
    ($(
        $(#[doc = $doc:literal])*
        class $class:ident = $path:literal { $($members:tt)* }
    )*) => {
        $(
            $(#[doc = $doc])*
            pub(crate) struct $class;

            impl $crate::contract::types::JavaClass for $class {
                const NAME: &'static str = $path;
            }

            impl $class {
                fn __ids() -> &'static ::std::sync::OnceLock<$crate::contract::bind::ClassIds> {
                    static IDS: ::std::sync::OnceLock<$crate::contract::bind::ClassIds> =
                        ::std::sync::OnceLock::new();
                    &IDS
                }

                #[allow(unused_mut)]
                fn __declared() -> Vec<$crate::contract::bind::Declared> {
                    let mut declared = Vec::new();
                    $crate::contract::bind::java!(@declare declared; $($members)*);
                    declared
                }
            }

            $crate::contract::bind::java!(@members $class; (0usize); $($members)*);
        )*

        /// Looks up every declared class and member; returns what does not match.
        pub(crate) fn bind_all(env: &mut ::jni::JNIEnv) -> Vec<String> {
            let mut problems = Vec::new();
            $(
                problems.extend($crate::contract::bind::bind_class(env, $path, $class::__declared(), $class::__ids()));
            )*
            problems
        }
    };

    // The declarations, in order.
    (@declare $list:ident;) => {};
    (@declare $list:ident; fn $rust:ident = $java:ident ($($arg:ident : $ty:ty),* $(,)?) -> $ret:ty; $($rest:tt)*) => {
        $list.push($crate::contract::bind::Declared {
            kind: $crate::contract::bind::MemberKind::Method,
            name: stringify!($java),
            descriptor: { #[allow(clippy::extra_unused_lifetimes)] fn descriptor<'local>() -> String { $crate::contract::bind::java!(@descriptor ($($ty),*) $ret) } descriptor() },
            pinned: None,
        });
        $crate::contract::bind::java!(@declare $list; $($rest)*);
    };
    (@declare $list:ident; static fn $rust:ident = $java:ident ($($arg:ident : $ty:ty),* $(,)?) -> $ret:ty; $($rest:tt)*) => {
        $list.push($crate::contract::bind::Declared {
            kind: $crate::contract::bind::MemberKind::StaticMethod,
            name: stringify!($java),
            descriptor: { #[allow(clippy::extra_unused_lifetimes)] fn descriptor<'local>() -> String { $crate::contract::bind::java!(@descriptor ($($ty),*) $ret) } descriptor() },
            pinned: None,
        });
        $crate::contract::bind::java!(@declare $list; $($rest)*);
    };
    (@declare $list:ident; new $rust:ident ($($arg:ident : $ty:ty),* $(,)?); $($rest:tt)*) => {
        $list.push($crate::contract::bind::Declared {
            kind: $crate::contract::bind::MemberKind::Constructor,
            name: "<init>",
            descriptor: { #[allow(clippy::extra_unused_lifetimes)] fn descriptor<'local>() -> String { $crate::contract::bind::java!(@descriptor ($($ty),*) ()) } descriptor() },
            pinned: None,
        });
        $crate::contract::bind::java!(@declare $list; $($rest)*);
    };
    (@declare $list:ident; set $rust:ident = $java:ident : $ty:ty; $($rest:tt)*) => {
        $list.push($crate::contract::bind::Declared {
            kind: $crate::contract::bind::MemberKind::Field,
            name: stringify!($java),
            descriptor: { #[allow(clippy::extra_unused_lifetimes)] fn descriptor<'local>() -> String { <$ty as $crate::contract::types::JniType>::descriptor() } descriptor() },
            pinned: None,
        });
        $crate::contract::bind::java!(@declare $list; $($rest)*);
    };
    (@declare $list:ident; const $java:ident = $kind:ident($value:expr); $($rest:tt)*) => {
        let pinned = $crate::contract::bind::java!(@pinned $kind($value));
        $list.push($crate::contract::bind::Declared {
            kind: $crate::contract::bind::MemberKind::Constant,
            name: stringify!($java),
            descriptor: pinned.descriptor_string(),
            pinned: Some(pinned),
        });
        $crate::contract::bind::java!(@declare $list; $($rest)*);
    };

    (@pinned int($value:expr)) => { $crate::contract::bind::Pinned::Int($value) };
    (@pinned long($value:expr)) => { $crate::contract::bind::Pinned::Long($value) };
    (@pinned duration($value:expr)) => { $crate::contract::bind::Pinned::Duration($value) };

    (@descriptor ($($ty:ty),*) $ret:ty) => {{
        let mut descriptor = String::from("(");
        $(descriptor.push_str(&<$ty as $crate::contract::types::JniType>::descriptor());)*
        descriptor.push(')');
        descriptor.push_str(&<$ret as $crate::contract::types::JniType>::descriptor());
        descriptor
    }};

    // The typed functions, each knowing its member's index.
    (@members $class:ident; ($index:expr);) => {};
    (@members $class:ident; ($index:expr); fn $rust:ident = $java:ident ($($arg:ident : $ty:ty),* $(,)?) -> $ret:ty; $($rest:tt)*) => {
        impl $class {
            #[doc = concat!("Calls `", stringify!($java), "` on `this`.")]
            #[allow(dead_code)]
            pub(crate) fn $rust<'local>(
                env: &mut ::jni::JNIEnv<'local>,
                this: &::jni::objects::JObject<'_>,
                $($arg: $ty),*
            ) -> ::jni::errors::Result<$ret> {
                let ids = $crate::contract::bind::ids(Self::__ids())?;
                let $crate::contract::bind::MemberId::Method(id) = $crate::contract::bind::member(ids, $index)? else {
                    return Err(::jni::errors::Error::NullPtr("not a method"));
                };
                let args = [$($crate::contract::types::JavaArg::to_jvalue(&$arg)),*];
                // SAFETY: `id` was looked up on this class with the descriptor computed from these
                // argument and return types.
                let value = unsafe {
                    env.call_method_unchecked(this, id, <$ret as $crate::contract::types::JavaReturn>::RETURN, &args)
                }?;
                <$ret as $crate::contract::types::JavaReturn>::from_value(value)
            }
        }
        $crate::contract::bind::java!(@members $class; ($index + 1); $($rest)*);
    };
    (@members $class:ident; ($index:expr); static fn $rust:ident = $java:ident ($($arg:ident : $ty:ty),* $(,)?) -> $ret:ty; $($rest:tt)*) => {
        impl $class {
            #[doc = concat!("Calls the static `", stringify!($java), "`.")]
            #[allow(dead_code)]
            pub(crate) fn $rust<'local>(env: &mut ::jni::JNIEnv<'local>, $($arg: $ty),*) -> ::jni::errors::Result<$ret> {
                let ids = $crate::contract::bind::ids(Self::__ids())?;
                let $crate::contract::bind::MemberId::StaticMethod(id) = $crate::contract::bind::member(ids, $index)? else {
                    return Err(::jni::errors::Error::NullPtr("not a static method"));
                };
                let args = [$($crate::contract::types::JavaArg::to_jvalue(&$arg)),*];
                // SAFETY: `id` was looked up on this class with the descriptor computed from these
                // argument and return types.
                let value = unsafe {
                    env.call_static_method_unchecked(
                        $crate::contract::bind::class(ids),
                        id,
                        <$ret as $crate::contract::types::JavaReturn>::RETURN,
                        &args,
                    )
                }?;
                <$ret as $crate::contract::types::JavaReturn>::from_value(value)
            }
        }
        $crate::contract::bind::java!(@members $class; ($index + 1); $($rest)*);
    };
    (@members $class:ident; ($index:expr); new $rust:ident ($($arg:ident : $ty:ty),* $(,)?); $($rest:tt)*) => {
        impl $class {
            /// A new instance.
            #[allow(dead_code)]
            pub(crate) fn $rust<'local>(
                env: &mut ::jni::JNIEnv<'local>,
                $($arg: $ty),*
            ) -> ::jni::errors::Result<$crate::contract::types::Obj<'local, $class>> {
                let ids = $crate::contract::bind::ids(Self::__ids())?;
                let $crate::contract::bind::MemberId::Method(id) = $crate::contract::bind::member(ids, $index)? else {
                    return Err(::jni::errors::Error::NullPtr("not a constructor"));
                };
                let args = [$($crate::contract::types::JavaArg::to_jvalue(&$arg)),*];
                // SAFETY: `id` is the constructor looked up with the descriptor computed from these
                // argument types.
                let object = unsafe { env.new_object_unchecked($crate::contract::bind::class(ids), id, &args) }?;
                Ok($crate::contract::types::Obj::from_object(object))
            }
        }
        $crate::contract::bind::java!(@members $class; ($index + 1); $($rest)*);
    };
    (@members $class:ident; ($index:expr); set $rust:ident = $java:ident : $ty:ty; $($rest:tt)*) => {
        impl $class {
            #[doc = concat!("Sets `", stringify!($java), "` of `this`.")]
            #[allow(dead_code)]
            pub(crate) fn $rust<'local>(
                env: &mut ::jni::JNIEnv<'local>,
                this: &::jni::objects::JObject<'_>,
                value: &::jni::objects::JObject<'_>,
            ) -> ::jni::errors::Result<()> {
                let ids = $crate::contract::bind::ids(Self::__ids())?;
                let $crate::contract::bind::MemberId::Field(id) = $crate::contract::bind::member(ids, $index)? else {
                    return Err(::jni::errors::Error::NullPtr("not a field"));
                };
                env.set_field_unchecked(this, id, ::jni::objects::JValue::Object(value))
            }
        }
        $crate::contract::bind::java!(@members $class; ($index + 1); $($rest)*);
    };
    (@members $class:ident; ($index:expr); const $java:ident = $kind:ident($value:expr); $($rest:tt)*) => {
        $crate::contract::bind::java!(@members $class; ($index + 1); $($rest)*);
    };
}

pub(crate) use java;

impl Pinned {
    /// The JNI descriptor of the constant's type.
    pub(crate) fn descriptor_string(&self) -> String {
        self.descriptor().to_string()
    }
}
