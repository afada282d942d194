//! The Rust types that stand for Java types at the boundary, each with its JNI descriptor, so
//! that a native method's descriptor, or a bound Java member's, is computed from the Rust types
//! of its declaration and can never disagree with the function behind it.

use std::marker::PhantomData;
use std::ops::Deref;

use jni::objects::{JByteArray, JIntArray, JLongArray, JObject, JObjectArray, JString, JValueOwned};
use jni::signature::{Primitive, ReturnType};
use jni::sys::{jboolean, jint, jlong, jvalue};

/// A Java class the contract names; declared with [`java!`](super::java).
pub(crate) trait JavaClass: 'static {
    /// The class's binary name with slashes, e.g. `com/infinyon/fluvio/Fluvio`.
    const NAME: &'static str;
}

/// A Rust type that stands for a Java type at the boundary.
pub(crate) trait JniType {
    /// The JNI type descriptor, e.g. `J` or `Ljava/lang/String;`.
    fn descriptor() -> String;
}

/// What a native method returns when it threw instead (the JVM ignores it).
pub(crate) trait JniResult: JniType {
    /// The placeholder value.
    fn on_error() -> Self;
}

/// A reference to an object of Java class `C`: an argument or result of a native method or of a
/// bound Java member. The same layout as a JNI object reference.
#[repr(transparent)]
pub(crate) struct Obj<'local, C> {
    object: JObject<'local>,
    class: PhantomData<fn() -> C>,
}

impl<'local, C> Obj<'local, C> {
    /// An object known to be a `C`.
    pub(crate) fn from_object(object: JObject<'local>) -> Self {
        Self { object, class: PhantomData }
    }

    /// The null reference.
    pub(crate) fn null() -> Self {
        Self::from_object(JObject::null())
    }

    /// The untyped reference.
    pub(crate) fn into_object(self) -> JObject<'local> {
        self.object
    }

    /// The reference, or `None` when null.
    pub(crate) fn non_null(self) -> Option<Self> {
        if self.object.is_null() { None } else { Some(self) }
    }
}

impl<'local, C> Deref for Obj<'local, C> {
    type Target = JObject<'local>;

    fn deref(&self) -> &JObject<'local> {
        &self.object
    }
}

impl<'local, C> AsRef<JObject<'local>> for Obj<'local, C> {
    fn as_ref(&self) -> &JObject<'local> {
        &self.object
    }
}

/// A Java array of `C` objects (e.g. `String[]`).
#[repr(transparent)]
pub(crate) struct ObjArray<'local, C> {
    array: JObjectArray<'local>,
    class: PhantomData<fn() -> C>,
}

impl<'local, C> ObjArray<'local, C> {
    /// An array known to hold `C`s.
    pub(crate) fn from_array(array: JObjectArray<'local>) -> Self {
        Self { array, class: PhantomData }
    }
}

/// `java.lang.String`, as an element type of [`ObjArray`].
pub(crate) struct JavaString;

impl JavaClass for JavaString {
    const NAME: &'static str = "java/lang/String";
}

macro_rules! primitive {
    ($($ty:ty => $descriptor:literal, $primitive:ident, $field:ident;)*) => {
        $(
            impl JniType for $ty {
                fn descriptor() -> String {
                    $descriptor.to_string()
                }
            }

            impl JniResult for $ty {
                fn on_error() -> Self {
                    Default::default()
                }
            }

            impl JavaArg for $ty {
                fn to_jvalue(&self) -> jvalue {
                    jvalue { $field: *self }
                }
            }

            impl<'local> JavaReturn<'local> for $ty {
                const RETURN: ReturnType = ReturnType::Primitive(Primitive::$primitive);

                fn from_value(value: JValueOwned<'local>) -> jni::errors::Result<Self> {
                    value.$field().map(Into::into)
                }
            }
        )*
    };
}

primitive! {
    jint => "I", Int, i;
    jlong => "J", Long, j;
    jboolean => "Z", Boolean, z;
}

impl JniType for () {
    fn descriptor() -> String {
        "V".to_string()
    }
}

impl JniResult for () {
    fn on_error() -> Self {}
}

impl<'local> JavaReturn<'local> for () {
    const RETURN: ReturnType = ReturnType::Primitive(Primitive::Void);

    fn from_value(value: JValueOwned<'local>) -> jni::errors::Result<Self> {
        value.v()
    }
}

/// Object types: their descriptor, the null placeholder, and conversions from a returned
/// object.
macro_rules! object {
    ($($ty:ident $(<$class:ident>)? => $descriptor:expr;)*) => {
        $(
            impl<'local $(, $class: JavaClass)?> JniType for $ty<'local $(, $class)?> {
                fn descriptor() -> String {
                    $descriptor
                }
            }

            impl<'local $(, $class: JavaClass)?> JniResult for $ty<'local $(, $class)?> {
                fn on_error() -> Self {
                    Self::from_null()
                }
            }

            impl<'local $(, $class: JavaClass)?> JavaReturn<'local> for $ty<'local $(, $class)?> {
                const RETURN: ReturnType = ReturnType::Object;

                fn from_value(value: JValueOwned<'local>) -> jni::errors::Result<Self> {
                    Ok(Self::from_returned(value.l()?))
                }
            }
        )*
    };
}

/// Making a typed reference from an untyped one.
trait FromObject<'local> {
    fn from_returned(object: JObject<'local>) -> Self;
    fn from_null() -> Self;
}

impl<'local> FromObject<'local> for JString<'local> {
    fn from_returned(object: JObject<'local>) -> Self {
        JString::from(object)
    }
    fn from_null() -> Self {
        JString::default()
    }
}

impl<'local> FromObject<'local> for JByteArray<'local> {
    fn from_returned(object: JObject<'local>) -> Self {
        JByteArray::from(object)
    }
    fn from_null() -> Self {
        JByteArray::default()
    }
}

impl<'local> FromObject<'local> for JIntArray<'local> {
    fn from_returned(object: JObject<'local>) -> Self {
        JIntArray::from(object)
    }
    fn from_null() -> Self {
        JIntArray::default()
    }
}

impl<'local> FromObject<'local> for JLongArray<'local> {
    fn from_returned(object: JObject<'local>) -> Self {
        JLongArray::from(object)
    }
    fn from_null() -> Self {
        JLongArray::default()
    }
}

impl<'local, C> FromObject<'local> for Obj<'local, C> {
    fn from_returned(object: JObject<'local>) -> Self {
        Obj::from_object(object)
    }
    fn from_null() -> Self {
        Obj::null()
    }
}

impl<'local, C> FromObject<'local> for ObjArray<'local, C> {
    fn from_returned(object: JObject<'local>) -> Self {
        ObjArray::from_array(JObjectArray::from(object))
    }
    fn from_null() -> Self {
        ObjArray::from_array(JObjectArray::default())
    }
}

object! {
    JString => "Ljava/lang/String;".to_string();
    JByteArray => "[B".to_string();
    JIntArray => "[I".to_string();
    JLongArray => "[J".to_string();
    Obj<C> => format!("L{};", C::NAME);
    ObjArray<C> => format!("[L{};", C::NAME);
}

/// An argument passed to a bound Java method or constructor.
pub(crate) trait JavaArg: JniType {
    /// The raw JNI value.
    fn to_jvalue(&self) -> jvalue;
}

impl<T: JavaArg> JavaArg for &T {
    fn to_jvalue(&self) -> jvalue {
        (**self).to_jvalue()
    }
}

impl<T: JniType> JniType for &T {
    fn descriptor() -> String {
        T::descriptor()
    }
}

impl JavaArg for JString<'_> {
    fn to_jvalue(&self) -> jvalue {
        jvalue { l: self.as_raw() }
    }
}

impl<C: JavaClass> JavaArg for Obj<'_, C> {
    fn to_jvalue(&self) -> jvalue {
        jvalue { l: self.object.as_raw() }
    }
}

/// What a bound Java method returns.
pub(crate) trait JavaReturn<'local>: JniType + Sized {
    /// How JNI is told to return it.
    const RETURN: ReturnType;
    /// The value from what the call returned.
    fn from_value(value: JValueOwned<'local>) -> jni::errors::Result<Self>;
}
