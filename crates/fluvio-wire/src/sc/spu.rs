//! SPU objects (§6.3).

use super::Spec;
use crate::{wire_struct, wire_unit_enum};

wire_unit_enum! {
    /// Whether the SPU is managed by an SPU group or registered by hand.
    #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
    pub enum SpuType: u8 {
        /// Managed.
        #[default]
        Managed = 0,
        /// Custom.
        Custom = 1,
    }
}

wire_unit_enum! {
    /// Transport security of an endpoint.
    #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
    pub enum EncryptionType: u8 {
        /// Plain TCP.
        #[default]
        #[cfg_attr(feature = "serde", serde(rename = "PLAINTEXT"))]
        Plaintext = 0,
        /// TLS.
        #[cfg_attr(feature = "serde", serde(rename = "SSL"))]
        Ssl = 1,
    }
}

wire_struct! {
    /// One address of a public endpoint.
    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "camelCase"))]
    pub struct IngressAddr {
        /// Host name (`null` in JSON when absent, as the official CLI prints it).
        #[cfg_attr(feature = "serde", serde(default))]
        pub hostname: Option<String>,
        /// IP address (`null` in JSON when absent).
        #[cfg_attr(feature = "serde", serde(default))]
        pub ip: Option<String>,
    }
}

wire_struct! {
    /// The public (client-facing) endpoint of an SPU.
    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "camelCase", default))]
    pub struct IngressPort {
        /// Port.
        pub port: u16,
        /// Addresses; clients use the first one.
        pub ingress: Vec<IngressAddr>,
        /// Transport security.
        pub encryption: EncryptionType,
    }
}

impl IngressPort {
    /// `host:port` as the official client resolves it (first ingress hostname, else ip).
    pub fn address(&self) -> Option<String> {
        let first = self.ingress.first()?;
        let host = first.hostname.as_ref().or(first.ip.as_ref())?;
        Some(format!("{host}:{}", self.port))
    }
}

wire_struct! {
    /// A host/port endpoint.
    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "camelCase"))]
    pub struct Endpoint {
        /// Port.
        pub port: u16,
        /// Host.
        pub host: String,
        /// Transport security.
        pub encryption: EncryptionType,
    }
}

wire_struct! {
    /// Specification of an SPU.
    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "camelCase"))]
    pub struct SpuSpec {
        /// SPU id (what partition leaders refer to); `spuId` in JSON, as the official CLI prints it.
        #[cfg_attr(feature = "serde", serde(rename = "spuId", alias = "id"))]
        pub id: i32,
        /// Managed or custom.
        #[cfg_attr(feature = "serde", serde(default))]
        pub spu_type: SpuType,
        /// Client-facing endpoint.
        pub public_endpoint: IngressPort,
        /// SPU-to-SPU endpoint.
        pub private_endpoint: Endpoint,
        /// Rack.
        #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "Option::is_none"))]
        pub rack: Option<String>,
        /// Local-network endpoint (used with `use_spu_local_address`).
        #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "Option::is_none"))]
        @[since 1] pub public_endpoint_local: Option<Endpoint>,
    }
}

wire_unit_enum! {
    /// Availability of an SPU.
    #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
    pub enum SpuStatusResolution: u8 {
        /// Serving.
        Online = 0,
        /// Gone.
        Offline = 1,
        /// Starting.
        #[default]
        Init = 2,
    }
}

wire_struct! {
    /// Status of an SPU.
    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "camelCase"))]
    pub struct SpuStatus {
        /// Availability.
        pub resolution: SpuStatusResolution,
    }
}

impl Spec for SpuSpec {
    const LABEL: &'static str = "SPU";
    type Status = SpuStatus;
}
