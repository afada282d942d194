//! SmartModule invocations, as they appear in Produce and StreamFetch requests (§4.6).
//! This project runs no SmartModules; the types exist so such requests decode and can be
//! refused cleanly.

use std::collections::BTreeMap;
use std::time::Duration;

use bytes::{Bytes, BytesMut};

use crate::codec::{ByteVec, Decoder, Encoder, Version};
use crate::error::{DecodeError, EncodeError};
use crate::wire_struct;

/// Where the WASM comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SmartModuleWasm {
    /// A SmartModule registered on the cluster, by name.
    Predefined(String),
    /// Gzipped WASM sent with the request.
    AdHoc(ByteVec),
}

impl Default for SmartModuleWasm {
    fn default() -> Self {
        SmartModuleWasm::Predefined(String::new())
    }
}

impl Encoder for SmartModuleWasm {
    fn encode(&self, dst: &mut BytesMut, version: Version) -> Result<(), EncodeError> {
        match self {
            SmartModuleWasm::Predefined(name) => {
                0u8.encode(dst, version)?;
                name.encode(dst, version)
            }
            SmartModuleWasm::AdHoc(wasm) => {
                1u8.encode(dst, version)?;
                wasm.encode(dst, version)
            }
        }
    }
}

impl Decoder for SmartModuleWasm {
    fn decode(src: &mut Bytes, version: Version) -> Result<Self, DecodeError> {
        match u8::decode(src, version)? {
            0 => Ok(SmartModuleWasm::Predefined(String::decode(src, version)?)),
            1 => Ok(SmartModuleWasm::AdHoc(ByteVec::decode(src, version)?)),
            tag => Err(DecodeError::unknown_tag("SmartModuleWasm", tag)),
        }
    }
}

/// Context of a generic SmartModule.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum SmartModuleContext {
    /// No context.
    #[default]
    None,
    /// Aggregate with an initial accumulator.
    Aggregate {
        /// Initial accumulator.
        accumulator: ByteVec,
    },
    /// Join with a topic.
    Join(String),
    /// Join with a derived stream.
    JoinStream {
        /// Topic.
        topic: String,
        /// Derived stream.
        derivedstream: String,
    },
}

impl Encoder for SmartModuleContext {
    fn encode(&self, dst: &mut BytesMut, version: Version) -> Result<(), EncodeError> {
        match self {
            SmartModuleContext::None => 0u8.encode(dst, version),
            SmartModuleContext::Aggregate { accumulator } => {
                1u8.encode(dst, version)?;
                accumulator.encode(dst, version)
            }
            SmartModuleContext::Join(topic) => {
                2u8.encode(dst, version)?;
                topic.encode(dst, version)
            }
            SmartModuleContext::JoinStream { topic, derivedstream } => {
                3u8.encode(dst, version)?;
                topic.encode(dst, version)?;
                derivedstream.encode(dst, version)
            }
        }
    }
}

impl Decoder for SmartModuleContext {
    fn decode(src: &mut Bytes, version: Version) -> Result<Self, DecodeError> {
        Ok(match u8::decode(src, version)? {
            0 => SmartModuleContext::None,
            1 => SmartModuleContext::Aggregate { accumulator: ByteVec::decode(src, version)? },
            2 => SmartModuleContext::Join(String::decode(src, version)?),
            3 => SmartModuleContext::JoinStream {
                topic: String::decode(src, version)?,
                derivedstream: String::decode(src, version)?,
            },
            tag => return Err(DecodeError::unknown_tag("SmartModuleContext", tag)),
        })
    }
}

/// What kind of SmartModule is invoked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum SmartModuleKind {
    #[default]
    Filter,
    Map,
    ArrayMap,
    Aggregate {
        accumulator: ByteVec,
    },
    FilterMap,
    Join(String),
    JoinStream {
        topic: String,
        derivedstream: String,
    },
    Generic(SmartModuleContext),
}

impl Encoder for SmartModuleKind {
    fn encode(&self, dst: &mut BytesMut, version: Version) -> Result<(), EncodeError> {
        match self {
            SmartModuleKind::Filter => 0u8.encode(dst, version),
            SmartModuleKind::Map => 1u8.encode(dst, version),
            SmartModuleKind::ArrayMap => 2u8.encode(dst, version),
            SmartModuleKind::Aggregate { accumulator } => {
                3u8.encode(dst, version)?;
                accumulator.encode(dst, version)
            }
            SmartModuleKind::FilterMap => 4u8.encode(dst, version),
            SmartModuleKind::Join(topic) => {
                5u8.encode(dst, version)?;
                topic.encode(dst, version)
            }
            SmartModuleKind::JoinStream { topic, derivedstream } => {
                6u8.encode(dst, version)?;
                topic.encode(dst, version)?;
                derivedstream.encode(dst, version)
            }
            SmartModuleKind::Generic(context) => {
                7u8.encode(dst, version)?;
                context.encode(dst, version)
            }
        }
    }
}

impl Decoder for SmartModuleKind {
    fn decode(src: &mut Bytes, version: Version) -> Result<Self, DecodeError> {
        Ok(match u8::decode(src, version)? {
            0 => SmartModuleKind::Filter,
            1 => SmartModuleKind::Map,
            2 => SmartModuleKind::ArrayMap,
            3 => SmartModuleKind::Aggregate { accumulator: ByteVec::decode(src, version)? },
            4 => SmartModuleKind::FilterMap,
            5 => SmartModuleKind::Join(String::decode(src, version)?),
            6 => SmartModuleKind::JoinStream {
                topic: String::decode(src, version)?,
                derivedstream: String::decode(src, version)?,
            },
            7 => SmartModuleKind::Generic(SmartModuleContext::decode(src, version)?),
            tag => return Err(DecodeError::unknown_tag("SmartModuleKind", tag)),
        })
    }
}

wire_struct! {
    /// Look-back window of a SmartModule.
    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    pub struct Lookback {
        /// Number of last records.
        pub last: u64,
        /// Maximum record age.
        @[since 21] pub age: Option<Duration>,
    }
}

wire_struct! {
    /// Parameters passed to a SmartModule.
    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    pub struct SmartModuleParams {
        /// Key/value parameters.
        pub params: BTreeMap<String, String>,
        /// Look-back window.
        @[since 20] pub lookback: Option<Lookback>,
    }
}

wire_struct! {
    /// One SmartModule to apply.
    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    pub struct SmartModuleInvocation {
        /// The module.
        pub wasm: SmartModuleWasm,
        /// Its kind.
        pub kind: SmartModuleKind,
        /// Its parameters.
        pub params: SmartModuleParams,
        /// Display name.
        @[since 25] pub name: Option<String>,
    }
}

wire_struct! {
    /// A derived-stream invocation (StreamFetch v16..=18 only).
    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    pub struct DerivedStreamInvocation {
        /// Stream name.
        pub stream: String,
        /// Parameters.
        pub params: SmartModuleParams,
    }
}
