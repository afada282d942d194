//! Native methods, declared once in Rust and registered with `RegisterNatives` when the
//! library initializes: [`natives!`] makes each Java class module's shims and the table that
//! registers them, with every descriptor computed from the Rust parameter types.

use std::ffi::c_void;

/// One native method: its Java name, its descriptor, and the function behind it.
pub(crate) struct Native {
    /// The Java method's name.
    pub name: &'static str,
    /// Its JNI descriptor, from the Rust types of the function.
    pub descriptor: String,
    /// The `extern "system"` function.
    pub function: *mut c_void,
}

/// The native methods of one Java class.
pub(crate) struct NativeClass {
    /// The class (`com/infinyon/fluvio/...`).
    pub class: &'static str,
    /// Its natives.
    pub methods: Vec<Native>,
}

/// Declares the `private static native` methods of one Java class: each becomes an
/// `extern "system"` shim that runs its body through [`crate::error::run`] (errors become typed
/// Java exceptions, panics `FluvioException(INTERNAL)`), and a `natives()` function lists them
/// for registration. A body is a block evaluating to `crate::error::Result<R>`; its first
/// parameter names the `&mut JNIEnv` (or `_`).
///
/// ```ignore
/// natives! {
///     class = classes::TopicProducer;
///     /// `void nativeFlush(long handle)`
///     fn nativeFlush(_, handle: jlong) { flush(handle) }
/// }
/// ```
macro_rules! natives {
    (
        class = $class:ty;
        $(
            $(#[doc = $doc:literal])*
            fn $name:ident($env:pat_param $(, $arg:ident : $ty:ty)* $(,)?) $(-> $ret:ty)? $body:block
        )*
    ) => {
        /// This module's native methods, for registration.
        pub(crate) fn natives() -> $crate::contract::natives::NativeClass {
            $crate::contract::natives::NativeClass {
                class: <$class as $crate::contract::types::JavaClass>::NAME,
                methods: vec![$(
                    {
                        // `'local` names the lifetime the parameter types are written with.
                        #[allow(clippy::extra_unused_lifetimes)]
                        fn descriptor<'local>() -> String {
                            let mut descriptor = String::from("(");
                            $(descriptor.push_str(&<$ty as $crate::contract::types::JniType>::descriptor());)*
                            descriptor.push(')');
                            descriptor.push_str(
                                &<$crate::contract::natives::natives!(@ret $($ret)?) as $crate::contract::types::JniType>::descriptor(),
                            );
                            descriptor
                        }
                        $crate::contract::natives::Native {
                            name: stringify!($name),
                            descriptor: descriptor(),
                            function: $name as *mut ::std::ffi::c_void,
                        }
                    }
                ),*],
            }
        }

        $(
            $(#[doc = $doc])*
            #[allow(non_snake_case)]
            extern "system" fn $name<'local>(
                mut env: ::jni::JNIEnv<'local>,
                _class: ::jni::objects::JClass<'local>,
                $($arg: $ty),*
            ) -> $crate::contract::natives::natives!(@ret $($ret)?) {
                $crate::error::run(
                    &mut env,
                    <$crate::contract::natives::natives!(@ret $($ret)?) as $crate::contract::types::JniResult>::on_error(),
                    |$env| $body,
                )
            }
        )*
    };
    (@ret) => { () };
    (@ret $ret:ty) => { $ret };
}

pub(crate) use natives;
