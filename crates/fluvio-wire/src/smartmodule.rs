//! SmartModule invocations, as they appear in Produce and StreamFetch requests (§4.6).
//! This project runs no SmartModules; the types exist so such requests decode and can be
//! refused cleanly.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::codec::ByteVec;
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

crate::wire_enum_codec! {
    SmartModuleWasm: u8 {
        0 => Predefined(name),
        1 => AdHoc(wasm),
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

crate::wire_enum_codec! {
    SmartModuleContext: u8 {
        0 => None,
        1 => Aggregate { accumulator },
        2 => Join(topic),
        3 => JoinStream { topic, derivedstream },
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

crate::wire_enum_codec! {
    SmartModuleKind: u8 {
        0 => Filter,
        1 => Map,
        2 => ArrayMap,
        3 => Aggregate { accumulator },
        4 => FilterMap,
        5 => Join(topic),
        6 => JoinStream { topic, derivedstream },
        7 => Generic(context),
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
