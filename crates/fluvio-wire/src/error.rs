//! Errors of the codec. Decoding never panics: every malformed input ends in a [`DecodeError`].

use std::fmt;

/// What went wrong while decoding.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeErrorKind {
    /// The input ended before the value was complete.
    #[error("unexpected end of input: {needed} bytes needed, {available} available")]
    UnexpectedEof {
        /// Bytes the next field needs.
        needed: usize,
        /// Bytes that were left.
        available: usize,
    },
    /// A bool byte other than 0 or 1.
    #[error("invalid bool byte {0:#04x}")]
    InvalidBool(u8),
    /// A string that is not UTF-8.
    #[error("string is not valid UTF-8")]
    InvalidUtf8,
    /// An enum tag this codec does not know.
    #[error("unknown tag {tag} for {type_name}")]
    UnknownTag {
        /// The enum being decoded.
        type_name: &'static str,
        /// The tag found on the wire.
        tag: i64,
    },
    /// A varint that does not terminate within 10 bytes.
    #[error("varint longer than 10 bytes")]
    VarintOverflow,
    /// A length or count that is negative or larger than the input can hold.
    #[error("length {0} is out of range")]
    InvalidLength(i64),
    /// A structurally invalid value (bad magic byte, inconsistent batch length, ...).
    #[error("{0}")]
    Invalid(&'static str),
    /// Decompressing a record batch produced more than the configured limit.
    #[error("decompressed records exceed the limit of {limit} bytes")]
    DecompressedTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// A compressed records area could not be decompressed.
    #[error("{codec} decompression failed: {message}")]
    Decompression {
        /// Codec name.
        codec: &'static str,
        /// The decompressor's message.
        message: String,
    },
    /// Bytes were left over after a complete message.
    #[error("{0} unexpected trailing bytes")]
    TrailingBytes(usize),
}

/// A decoding failure, with the path of fields that led to it (outermost first).
#[derive(Clone, PartialEq, Eq)]
pub struct DecodeError {
    kind: DecodeErrorKind,
    path: Vec<&'static str>,
}

impl DecodeError {
    /// A new error without field context.
    pub fn new(kind: DecodeErrorKind) -> Self {
        Self { kind, path: Vec::new() }
    }

    /// Shorthand for [`DecodeErrorKind::UnexpectedEof`].
    pub fn eof(needed: usize, available: usize) -> Self {
        Self::new(DecodeErrorKind::UnexpectedEof { needed, available })
    }

    /// Shorthand for [`DecodeErrorKind::Invalid`].
    pub fn invalid(what: &'static str) -> Self {
        Self::new(DecodeErrorKind::Invalid(what))
    }

    /// Shorthand for [`DecodeErrorKind::UnknownTag`].
    pub fn unknown_tag(type_name: &'static str, tag: impl Into<i64>) -> Self {
        Self::new(DecodeErrorKind::UnknownTag { type_name, tag: tag.into() })
    }

    /// The kind of failure.
    pub fn kind(&self) -> &DecodeErrorKind {
        &self.kind
    }

    /// Field path, outermost first, e.g. `["ProduceRequest.topics", "TopicProduceData.name"]`.
    pub fn path(&self) -> &[&'static str] {
        &self.path
    }

    /// Prepends the field in which the error happened (used by the message macros).
    #[doc(hidden)]
    pub fn within(mut self, field: &'static str) -> Self {
        self.path.insert(0, field);
        self
    }

    /// True when the input was merely too short: more bytes could make it decodable.
    pub fn is_incomplete(&self) -> bool {
        matches!(self.kind, DecodeErrorKind::UnexpectedEof { .. })
    }
}

impl From<DecodeErrorKind> for DecodeError {
    fn from(kind: DecodeErrorKind) -> Self {
        Self::new(kind)
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}", self.kind)
        } else {
            write!(f, "{} (in {})", self.kind, self.path.join(" > "))
        }
    }
}

impl fmt::Debug for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DecodeError({self})")
    }
}

impl std::error::Error for DecodeError {}

/// An encoding failure: a value the wire format (or the official decoder) cannot carry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// Strings carry an i16 length on the official decoder: at most 32767 bytes.
    #[error("string of {0} bytes is longer than the 32767 bytes the protocol allows")]
    StringTooLong(usize),
    /// Collections carry an i32 (or u16 for maps) count.
    #[error("collection of {0} elements is larger than the protocol allows")]
    TooManyElements(usize),
    /// A value outside the range the field can carry.
    #[error("{0}")]
    OutOfRange(&'static str),
    /// Compressing a record batch failed.
    #[error("compression failed: {0}")]
    Compression(String),
}
