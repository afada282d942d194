//! Conversions between our types and the official ones.
//!
//! [`ToTheirs`] builds the official value equal to one of ours; [`ToOurs`] goes the other way.
//! They are plain field-by-field copies. Where an official type keeps a field private without a
//! setter or getter, the field is written or read through the official codec itself (never
//! ours), and the reason is stated next to the code.
//!
//! SC envelopes (`ObjectApi*`) are encoded at a version when they are built, so those
//! conversions are free functions taking the version (see [`sc`]).

pub mod api;
pub mod consumer_offsets;
pub mod errors;
pub mod records;
pub mod sc;
pub mod spu;

use std::time::Duration;

/// Our value → the equal official value.
pub trait ToTheirs {
    /// The official type.
    type Theirs;
    /// Builds the official value.
    fn to_theirs(&self) -> Self::Theirs;
}

/// Official value → the equal value of ours.
pub trait ToOurs {
    /// Our type.
    type Ours;
    /// Builds our value.
    fn to_ours(self) -> Self::Ours;
}

impl<T: ToTheirs> ToTheirs for Vec<T> {
    type Theirs = Vec<T::Theirs>;
    fn to_theirs(&self) -> Self::Theirs {
        self.iter().map(ToTheirs::to_theirs).collect()
    }
}

impl<T: ToTheirs> ToTheirs for Option<T> {
    type Theirs = Option<T::Theirs>;
    fn to_theirs(&self) -> Self::Theirs {
        self.as_ref().map(ToTheirs::to_theirs)
    }
}

impl<T: ToOurs> ToOurs for Vec<T> {
    type Ours = Vec<T::Ours>;
    fn to_ours(self) -> Self::Ours {
        self.into_iter().map(ToOurs::to_ours).collect()
    }
}

impl<T: ToOurs> ToOurs for Option<T> {
    type Ours = Option<T::Ours>;
    fn to_ours(self) -> Self::Ours {
        self.map(ToOurs::to_ours)
    }
}

macro_rules! identity {
    ($($ty:ty),*) => {$(
        impl ToTheirs for $ty {
            type Theirs = $ty;
            fn to_theirs(&self) -> $ty {
                self.clone()
            }
        }
        impl ToOurs for $ty {
            type Ours = $ty;
            fn to_ours(self) -> $ty {
                self
            }
        }
    )*};
}

identity!(String, bool, u8, u16, u32, u64, i8, i16, i32, i64, Duration);

/// Shorthand used in closures: `|v, _| theirs(v)`.
pub fn theirs<T: ToTheirs>(value: &T) -> T::Theirs {
    value.to_theirs()
}

/// Shorthand used in closures: `|v, _| ours(v)`.
pub fn ours<T: ToOurs>(value: T) -> T::Ours {
    value.to_ours()
}
