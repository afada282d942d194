//! The `Encoder`/`Decoder` traits and the primitive encodings of the protocol (§2 of the
//! protocol notes): big-endian integers, u16-length strings, bool-tagged options,
//! u32-count vectors, u16-count maps, durations and zig-zag varints.
//!
//! Decoders read from a [`Bytes`] cursor so record payloads can be sliced without copying.
//! Every read checks the remaining length first, and no count read from the wire is used
//! to reserve memory beyond what the remaining input could possibly hold.

use std::collections::BTreeMap;
use std::time::Duration;

use bytes::{Buf, BufMut, Bytes, BytesMut};

use crate::error::{DecodeError, DecodeErrorKind, EncodeError};

/// A protocol version (the `api_version` of the request header).
pub type Version = i16;

/// A value that can be written to the wire at a given version.
pub trait Encoder {
    /// Appends the encoding of `self` at `version` to `dst`.
    fn encode(&self, dst: &mut BytesMut, version: Version) -> Result<(), EncodeError>;

    /// Encodes into a fresh buffer.
    fn to_bytes(&self, version: Version) -> Result<Bytes, EncodeError> {
        let mut dst = BytesMut::new();
        self.encode(&mut dst, version)?;
        Ok(dst.freeze())
    }
}

/// A value that can be read from the wire at a given version.
pub trait Decoder: Sized {
    /// Reads one value from the front of `src`, advancing it.
    fn decode(src: &mut Bytes, version: Version) -> Result<Self, DecodeError>;

    /// Decodes a value that must span the whole of `src` exactly.
    fn decode_exact(mut src: Bytes, version: Version) -> Result<Self, DecodeError> {
        let value = Self::decode(&mut src, version)?;
        if src.has_remaining() {
            return Err(DecodeErrorKind::TrailingBytes(src.remaining()).into());
        }
        Ok(value)
    }
}

/// Fails unless `src` holds at least `n` more bytes.
#[inline]
pub fn ensure_remaining(src: &Bytes, n: usize) -> Result<(), DecodeError> {
    if src.remaining() < n { Err(DecodeError::eof(n, src.remaining())) } else { Ok(()) }
}

/// Takes the next `n` bytes of `src` as a zero-copy slice.
pub fn take_bytes(src: &mut Bytes, n: usize) -> Result<Bytes, DecodeError> {
    ensure_remaining(src, n)?;
    Ok(src.split_to(n))
}

macro_rules! impl_int {
    ($ty:ty, $get:ident, $put:ident) => {
        impl Encoder for $ty {
            #[inline]
            fn encode(&self, dst: &mut BytesMut, _version: Version) -> Result<(), EncodeError> {
                dst.$put(*self);
                Ok(())
            }
        }
        impl Decoder for $ty {
            #[inline]
            fn decode(src: &mut Bytes, _version: Version) -> Result<Self, DecodeError> {
                ensure_remaining(src, std::mem::size_of::<$ty>())?;
                Ok(src.$get())
            }
        }
    };
}

impl_int!(u8, get_u8, put_u8);
impl_int!(i8, get_i8, put_i8);
impl_int!(u16, get_u16, put_u16);
impl_int!(i16, get_i16, put_i16);
impl_int!(u32, get_u32, put_u32);
impl_int!(i32, get_i32, put_i32);
impl_int!(u64, get_u64, put_u64);
impl_int!(i64, get_i64, put_i64);
impl_int!(f32, get_f32, put_f32);
impl_int!(f64, get_f64, put_f64);

impl Encoder for bool {
    #[inline]
    fn encode(&self, dst: &mut BytesMut, _version: Version) -> Result<(), EncodeError> {
        dst.put_u8(u8::from(*self));
        Ok(())
    }
}

impl Decoder for bool {
    #[inline]
    fn decode(src: &mut Bytes, _version: Version) -> Result<Self, DecodeError> {
        ensure_remaining(src, 1)?;
        match src.get_u8() {
            0 => Ok(false),
            1 => Ok(true),
            other => Err(DecodeErrorKind::InvalidBool(other).into()),
        }
    }
}

/// Longest string the official decoder accepts: it reads the u16 length as an i16.
pub const MAX_STRING_LEN: usize = i16::MAX as usize;

impl Encoder for String {
    fn encode(&self, dst: &mut BytesMut, version: Version) -> Result<(), EncodeError> {
        self.as_str().encode(dst, version)
    }
}

impl Encoder for str {
    fn encode(&self, dst: &mut BytesMut, _version: Version) -> Result<(), EncodeError> {
        if self.len() > MAX_STRING_LEN {
            return Err(EncodeError::StringTooLong(self.len()));
        }
        dst.put_u16(self.len() as u16);
        dst.put_slice(self.as_bytes());
        Ok(())
    }
}

impl Decoder for String {
    fn decode(src: &mut Bytes, _version: Version) -> Result<Self, DecodeError> {
        ensure_remaining(src, 2)?;
        // The official decoder reads the length as i16 and treats <= 0 as empty.
        let len = src.get_i16();
        if len <= 0 {
            return Ok(String::new());
        }
        let raw = take_bytes(src, len as usize)?;
        String::from_utf8(raw.to_vec()).map_err(|_| DecodeErrorKind::InvalidUtf8.into())
    }
}

impl<T: Encoder> Encoder for Option<T> {
    fn encode(&self, dst: &mut BytesMut, version: Version) -> Result<(), EncodeError> {
        match self {
            None => dst.put_u8(0),
            Some(value) => {
                dst.put_u8(1);
                value.encode(dst, version)?;
            }
        }
        Ok(())
    }
}

impl<T: Decoder> Decoder for Option<T> {
    fn decode(src: &mut Bytes, version: Version) -> Result<Self, DecodeError> {
        if bool::decode(src, version)? { Ok(Some(T::decode(src, version)?)) } else { Ok(None) }
    }
}

impl<T: Encoder> Encoder for Box<T> {
    fn encode(&self, dst: &mut BytesMut, version: Version) -> Result<(), EncodeError> {
        (**self).encode(dst, version)
    }
}

impl<T: Decoder> Decoder for Box<T> {
    fn decode(src: &mut Bytes, version: Version) -> Result<Self, DecodeError> {
        T::decode(src, version).map(Box::new)
    }
}

/// Writes a u32 element count.
pub fn encode_count(len: usize, dst: &mut BytesMut) -> Result<(), EncodeError> {
    if len > i32::MAX as usize {
        return Err(EncodeError::TooManyElements(len));
    }
    dst.put_u32(len as u32);
    Ok(())
}

/// Reads a u32 element count the way the official decoder does (as i32, `<= 0` meaning empty),
/// and refuses counts that cannot fit in the remaining input: every element of every
/// collection in the protocol takes at least one byte.
pub fn decode_count(src: &mut Bytes) -> Result<usize, DecodeError> {
    ensure_remaining(src, 4)?;
    let count = src.get_i32();
    if count <= 0 {
        return Ok(0);
    }
    let count = count as usize;
    if count > src.remaining() {
        return Err(DecodeErrorKind::InvalidLength(count as i64).into());
    }
    Ok(count)
}

impl<T: Encoder> Encoder for Vec<T> {
    fn encode(&self, dst: &mut BytesMut, version: Version) -> Result<(), EncodeError> {
        encode_count(self.len(), dst)?;
        for item in self {
            item.encode(dst, version)?;
        }
        Ok(())
    }
}

/// Most bytes a collection reserves up front from a count read on the wire. The count fits the
/// remaining input, but an element can take far more memory than its smallest encoding
/// (hundreds of bytes for one byte of input): beyond this, the collection grows as its elements
/// actually decode.
const MAX_PREALLOC_BYTES: usize = 16 * 1024;

/// The capacity to reserve for `count` elements of `T` announced on the wire.
fn initial_capacity<T>(count: usize) -> usize {
    count.min(MAX_PREALLOC_BYTES / std::mem::size_of::<T>().max(1))
}

impl<T: Decoder> Decoder for Vec<T> {
    fn decode(src: &mut Bytes, version: Version) -> Result<Self, DecodeError> {
        let count = decode_count(src)?;
        let mut items = Vec::with_capacity(initial_capacity::<T>(count));
        for _ in 0..count {
            items.push(T::decode(src, version)?);
        }
        Ok(items)
    }
}

/// `Vec<u8>` on the wire (u32 count + bytes), held as zero-copy [`Bytes`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ByteVec(pub Bytes);

impl Encoder for ByteVec {
    fn encode(&self, dst: &mut BytesMut, _version: Version) -> Result<(), EncodeError> {
        encode_count(self.0.len(), dst)?;
        dst.put_slice(&self.0);
        Ok(())
    }
}

impl Decoder for ByteVec {
    fn decode(src: &mut Bytes, _version: Version) -> Result<Self, DecodeError> {
        let len = decode_count(src)?;
        take_bytes(src, len).map(ByteVec)
    }
}

impl<K: Encoder + Ord, V: Encoder> Encoder for BTreeMap<K, V> {
    fn encode(&self, dst: &mut BytesMut, version: Version) -> Result<(), EncodeError> {
        if self.len() > u16::MAX as usize {
            return Err(EncodeError::TooManyElements(self.len()));
        }
        dst.put_u16(self.len() as u16);
        for (key, value) in self {
            key.encode(dst, version)?;
            value.encode(dst, version)?;
        }
        Ok(())
    }
}

impl<K: Decoder + Ord, V: Decoder> Decoder for BTreeMap<K, V> {
    fn decode(src: &mut Bytes, version: Version) -> Result<Self, DecodeError> {
        let count = u16::decode(src, version)?;
        let mut map = BTreeMap::new();
        for _ in 0..count {
            let key = K::decode(src, version)?;
            let value = V::decode(src, version)?;
            map.insert(key, value);
        }
        Ok(map)
    }
}

impl Encoder for Duration {
    fn encode(&self, dst: &mut BytesMut, _version: Version) -> Result<(), EncodeError> {
        dst.put_u64(self.as_secs());
        dst.put_u32(self.subsec_nanos());
        Ok(())
    }
}

impl Decoder for Duration {
    fn decode(src: &mut Bytes, version: Version) -> Result<Self, DecodeError> {
        let secs = u64::decode(src, version)?;
        let nanos = u32::decode(src, version)?;
        if nanos >= 1_000_000_000 {
            return Err(DecodeError::invalid("duration nanoseconds out of range"));
        }
        Ok(Duration::new(secs, nanos))
    }
}

impl Encoder for () {
    fn encode(&self, _dst: &mut BytesMut, _version: Version) -> Result<(), EncodeError> {
        Ok(())
    }
}

impl Decoder for () {
    fn decode(_src: &mut Bytes, _version: Version) -> Result<Self, DecodeError> {
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Varints (zig-zag + LEB128), used only inside records.

/// Number of bytes `value` takes as a zig-zag varint.
#[inline]
pub fn varint_len(value: i64) -> usize {
    let mut zz = ((value << 1) ^ (value >> 63)) as u64;
    let mut len = 1;
    while zz >= 0x80 {
        zz >>= 7;
        len += 1;
    }
    len
}

/// Writes `value` as a zig-zag varint. Correct over the full i64 range; within the i32 range
/// (the only range the official encoder handles) the bytes are identical to the official ones.
#[inline]
pub fn put_varint(dst: &mut BytesMut, value: i64) {
    let mut zz = ((value << 1) ^ (value >> 63)) as u64;
    while zz >= 0x80 {
        dst.put_u8((zz as u8) | 0x80);
        zz >>= 7;
    }
    dst.put_u8(zz as u8);
}

/// Reads a zig-zag varint of at most 10 bytes (from `Bytes`, or from a plain slice where no
/// shared buffer is needed).
#[inline]
pub fn get_varint(src: &mut impl Buf) -> Result<i64, DecodeError> {
    let mut zz: u64 = 0;
    for index in 0..10 {
        if !src.has_remaining() {
            return Err(DecodeError::eof(1, 0));
        }
        let byte = src.get_u8();
        zz |= u64::from(byte & 0x7f) << (7 * index);
        if byte & 0x80 == 0 {
            return Ok(((zz >> 1) as i64) ^ -((zz & 1) as i64));
        }
    }
    Err(DecodeErrorKind::VarintOverflow.into())
}

/// Reads a varint that must be a non-negative length no larger than the remaining input.
pub fn get_varint_len(src: &mut impl Buf) -> Result<usize, DecodeError> {
    let len = get_varint(src)?;
    if len < 0 || len as u64 > src.remaining() as u64 {
        return Err(DecodeErrorKind::InvalidLength(len).into());
    }
    Ok(len as usize)
}

// ---------------------------------------------------------------------------------------------
// Message macros.

/// Evaluates a version gate written as `since N`, `since N until M`, `until M` or nothing.
#[doc(hidden)]
#[macro_export]
macro_rules! __wire_gate {
    ($v:ident) => {
        true
    };
    ($v:ident, since $min:literal) => {
        $v >= $min
    };
    ($v:ident, until $max:literal) => {
        $v <= $max
    };
    ($v:ident, since $min:literal until $max:literal) => {
        ($min..=$max).contains(&$v)
    };
}

/// Declares a struct whose wire form is its fields in order, each optionally gated to a range
/// of versions with `@[since N]`, `@[until M]` or `@[since N until M]`. A field outside its
/// range is neither written nor read, and decodes as its `Default`.
///
/// ```
/// fluvio_wire::wire_struct! {
///     /// Example.
///     #[derive(Debug, Clone, Default, PartialEq)]
///     pub struct Example {
///         pub name: String,
///         @[since 3] pub added_later: Option<u32>,
///     }
/// }
/// ```
#[macro_export]
macro_rules! wire_struct {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $(
                $(#[$fmeta:meta])*
                $(@[$($gate:tt)+])?
                $fvis:vis $field:ident : $ty:ty
            ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        $vis struct $name {
            $( $(#[$fmeta])* $fvis $field : $ty, )*
        }

        impl $crate::Encoder for $name {
            #[allow(unused_variables)]
            fn encode(
                &self,
                dst: &mut $crate::bytes::BytesMut,
                version: $crate::Version,
            ) -> ::std::result::Result<(), $crate::EncodeError> {
                $(
                    if $crate::__wire_gate!(version $(, $($gate)+)?) {
                        $crate::Encoder::encode(&self.$field, dst, version)?;
                    }
                )*
                Ok(())
            }
        }

        impl $crate::Decoder for $name {
            #[allow(unused_variables)]
            fn decode(
                src: &mut $crate::bytes::Bytes,
                version: $crate::Version,
            ) -> ::std::result::Result<Self, $crate::DecodeError> {
                Ok(Self {
                    $(
                        $field: if $crate::__wire_gate!(version $(, $($gate)+)?) {
                            <$ty as $crate::Decoder>::decode(src, version).map_err(|e| {
                                e.within(concat!(stringify!($name), ".", stringify!($field)))
                            })?
                        } else {
                            ::std::default::Default::default()
                        },
                    )*
                })
            }
        }
    };
}

/// Declares a field-less enum carried as an integer tag (`u8` unless stated), with a default.
///
/// ```
/// fluvio_wire::wire_unit_enum! {
///     /// Example.
///     pub enum Color: u8 {
///         #[default]
///         Red = 0,
///         Blue = 1,
///     }
/// }
/// ```
#[macro_export]
macro_rules! wire_unit_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident : $repr:ty {
            $( $(#[$vmeta:meta])* $variant:ident = $tag:literal ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr($repr)]
        $vis enum $name {
            $( $(#[$vmeta])* $variant = $tag, )*
        }

        impl $name {
            /// The wire tag of this variant.
            pub fn tag(self) -> $repr {
                self as $repr
            }

            /// The variant for a wire tag, if any.
            pub fn from_tag(tag: $repr) -> ::std::option::Option<Self> {
                match tag {
                    $( $tag => Some(Self::$variant), )*
                    _ => None,
                }
            }
        }

        impl $crate::Encoder for $name {
            fn encode(
                &self,
                dst: &mut $crate::bytes::BytesMut,
                version: $crate::Version,
            ) -> ::std::result::Result<(), $crate::EncodeError> {
                $crate::Encoder::encode(&(*self as $repr), dst, version)
            }
        }

        impl $crate::Decoder for $name {
            fn decode(
                src: &mut $crate::bytes::Bytes,
                version: $crate::Version,
            ) -> ::std::result::Result<Self, $crate::DecodeError> {
                let tag = <$repr as $crate::Decoder>::decode(src, version)?;
                Self::from_tag(tag)
                    .ok_or_else(|| $crate::DecodeError::unknown_tag(stringify!($name), tag))
            }
        }
    };
}

/// Implements [`Encoder`] and [`Decoder`] for an enum whose variants carry data: on the wire, a
/// tag of type `$repr`, then the variant's fields in declaration order. Each line maps a tag to
/// a variant, naming its fields as its declaration does (`(a, b)` for a tuple variant,
/// `{ a, b }` for a struct variant, nothing for a unit variant); the `match` on `self` is
/// exhaustive, so a variant without a tag does not compile. The enum itself, with its
/// attributes (serde's included), stays as declared.
///
/// ```
/// #[derive(Debug, PartialEq)]
/// pub enum Shape {
///     Point,
///     Circle(u32),
///     Rect { w: u16, h: u16 },
/// }
/// fluvio_wire::wire_enum_codec! {
///     Shape: u8 {
///         0 => Point,
///         1 => Circle(radius),
///         2 => Rect { w, h },
///     }
/// }
/// # use fluvio_wire::{Decoder, Encoder};
/// let bytes = Shape::Rect { w: 1, h: 2 }.to_bytes(0).unwrap();
/// assert_eq!(bytes.as_ref(), &[2, 0, 1, 0, 2]);
/// assert_eq!(Shape::decode_exact(bytes, 0).unwrap(), Shape::Rect { w: 1, h: 2 });
/// ```
#[macro_export]
macro_rules! wire_enum_codec {
    (
        $name:ident : $repr:ty {
            $( $tag:literal => $variant:ident $( ( $($tuple:ident),* $(,)? ) )? $( { $($field:ident),* $(,)? } )? ),*
            $(,)?
        }
    ) => {
        impl $name {
            /// The wire tag of this value's variant.
            #[allow(unused_variables)]
            pub fn wire_tag(&self) -> $repr {
                match self {
                    $( Self::$variant $( ( $($tuple),* ) )? $( { $($field),* } )? => $tag, )*
                }
            }
        }

        impl $crate::Encoder for $name {
            fn encode(
                &self,
                dst: &mut $crate::bytes::BytesMut,
                version: $crate::Version,
            ) -> ::std::result::Result<(), $crate::EncodeError> {
                match self {
                    $(
                        Self::$variant $( ( $($tuple),* ) )? $( { $($field),* } )? => {
                            $crate::Encoder::encode(&($tag as $repr), dst, version)?;
                            $($( $crate::Encoder::encode($tuple, dst, version)?; )*)?
                            $($( $crate::Encoder::encode($field, dst, version)?; )*)?
                            Ok(())
                        }
                    )*
                }
            }
        }

        impl $crate::Decoder for $name {
            fn decode(
                src: &mut $crate::bytes::Bytes,
                version: $crate::Version,
            ) -> ::std::result::Result<Self, $crate::DecodeError> {
                match <$repr as $crate::Decoder>::decode(src, version)? {
                    $(
                        $tag => Ok(Self::$variant
                            $( ( $( $crate::__wire_field!(src, version, $tuple) ),* ) )?
                            $( { $( $field: $crate::Decoder::decode(src, version)? ),* } )?
                        ),
                    )*
                    tag => Err($crate::DecodeError::unknown_tag(stringify!($name), tag)),
                }
            }
        }
    };
}

/// One decoded field of a tuple variant (`$_name` only drives the repetition).
#[doc(hidden)]
#[macro_export]
macro_rules! __wire_field {
    ($src:ident, $version:ident, $_name:ident) => {
        $crate::Decoder::decode($src, $version)?
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc<T: Encoder>(value: &T) -> Vec<u8> {
        value.to_bytes(0).unwrap().to_vec()
    }

    #[test]
    fn varint_vectors_match_the_protocol_notes() {
        let cases: &[(i64, &[u8])] = &[
            (0, &[0x00]),
            (1, &[0x02]),
            (-1, &[0x01]),
            (63, &[0x7e]),
            (-64, &[0x7f]),
            (64, &[0x80, 0x01]),
            (300, &[0xd8, 0x04]),
            (-300, &[0xd7, 0x04]),
            (2147483647, &[0xfe, 0xff, 0xff, 0xff, 0x0f]),
        ];
        for (value, bytes) in cases {
            let mut dst = BytesMut::new();
            put_varint(&mut dst, *value);
            assert_eq!(&dst[..], *bytes, "encoding {value}");
            assert_eq!(varint_len(*value), bytes.len());
            let mut src = Bytes::copy_from_slice(bytes);
            assert_eq!(get_varint(&mut src).unwrap(), *value);
        }
    }

    #[test]
    fn varint_round_trips_full_i64_range() {
        for value in [i64::MIN, i64::MAX, 1 << 31, -(1 << 31) - 1, 1 << 40] {
            let mut dst = BytesMut::new();
            put_varint(&mut dst, value);
            assert_eq!(dst.len(), varint_len(value));
            assert_eq!(get_varint(&mut dst.freeze()).unwrap(), value);
        }
    }

    #[test]
    fn overlong_varint_is_an_error() {
        let mut src = Bytes::from_static(&[0xff; 11]);
        assert_eq!(get_varint(&mut src).unwrap_err().kind(), &DecodeErrorKind::VarintOverflow);
    }

    #[test]
    fn strings_and_options() {
        assert_eq!(enc(&"wo".to_string()), [0, 2, b'w', b'o']);
        assert_eq!(enc(&None::<String>), [0]);
        assert_eq!(enc(&Some("wo".to_string())), [1, 0, 2, b'w', b'o']);
        assert_eq!(enc(&vec!["test".to_string()]), [0, 0, 0, 1, 0, 4, b't', b'e', b's', b't']);
    }

    #[test]
    fn too_long_string_is_refused() {
        let long = "x".repeat(MAX_STRING_LEN + 1);
        assert_eq!(long.to_bytes(0).unwrap_err(), EncodeError::StringTooLong(MAX_STRING_LEN + 1));
    }

    #[test]
    fn bad_bool_is_an_error() {
        let mut src = Bytes::from_static(&[2]);
        assert_eq!(bool::decode(&mut src, 0).unwrap_err().kind(), &DecodeErrorKind::InvalidBool(2));
    }

    #[test]
    fn huge_vec_count_does_not_allocate() {
        // Claims 2^31-1 elements with 2 bytes of input: refused before any allocation.
        let mut src = Bytes::from_static(&[0x7f, 0xff, 0xff, 0xff, 0, 0]);
        let err = Vec::<u64>::decode(&mut src, 0).unwrap_err();
        assert_eq!(err.kind(), &DecodeErrorKind::InvalidLength(i32::MAX as i64));
    }

    #[test]
    fn vec_count_that_fits_the_input_does_not_reserve_count_large_elements() {
        // 1000 elements claimed with 1000 bytes left passes the count check, but reserving
        // 1000 × 1 KiB up front would turn each input byte into a KiB of memory.
        #[derive(Debug)]
        struct Big([u8; 1024]);
        impl Decoder for Big {
            fn decode(src: &mut Bytes, version: Version) -> Result<Self, DecodeError> {
                u8::decode(src, version).map(|b| Big([b; 1024]))
            }
        }
        assert_eq!(initial_capacity::<Big>(1000), 16);
        assert_eq!(initial_capacity::<u8>(1000), 1000);
        assert_eq!(initial_capacity::<u64>(1 << 20), 2048);
        assert_eq!(initial_capacity::<()>(5), 5);
        // Elements past the reservation still decode.
        let mut input = BytesMut::new();
        input.put_u32(1000);
        input.put_slice(&[7; 1000]);
        let items = Vec::<Big>::decode(&mut input.freeze(), 0).unwrap();
        assert_eq!(items.len(), 1000);
        assert!(items.iter().all(|b| b.0[1023] == 7));
    }

    #[test]
    fn negative_lengths_decode_as_empty_like_the_official_decoder() {
        let mut src = Bytes::from_static(&[0xff, 0xff]);
        assert_eq!(String::decode(&mut src, 0).unwrap(), "");
        let mut src = Bytes::from_static(&[0xff, 0xff, 0xff, 0xff]);
        assert!(Vec::<u8>::decode(&mut src, 0).unwrap().is_empty());
    }

    wire_struct! {
        #[derive(Debug, Default, PartialEq)]
        struct Gated {
            a: u8,
            @[since 3] b: u8,
            @[until 2] c: u8,
            @[since 2 until 4] d: u8,
        }
    }

    #[test]
    fn version_gates() {
        let value = Gated { a: 1, b: 2, c: 3, d: 4 };
        assert_eq!(value.to_bytes(1).unwrap().as_ref(), &[1, 3]);
        assert_eq!(value.to_bytes(2).unwrap().as_ref(), &[1, 3, 4]);
        assert_eq!(value.to_bytes(3).unwrap().as_ref(), &[1, 2, 4]);
        assert_eq!(value.to_bytes(5).unwrap().as_ref(), &[1, 2]);
        let decoded = Gated::decode_exact(Bytes::from_static(&[1, 2, 4]), 3).unwrap();
        assert_eq!(decoded, Gated { a: 1, b: 2, c: 0, d: 4 });
    }

    #[test]
    fn error_path_names_the_field() {
        let err = Gated::decode_exact(Bytes::from_static(&[1]), 3).unwrap_err();
        assert_eq!(err.path(), ["Gated.b"]);
        assert!(err.is_incomplete());
    }
}
