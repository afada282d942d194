//! SC public APIs (§5): Create, Delete, List, Watch and Update over a type-erased envelope.
//!
//! Every SC admin request carries a *type label* ("Topic", "Partition", "SPU", ...) and a
//! length-prefixed payload encoded at the request's version. Topic, Partition and SPU payloads
//! are decoded into typed values here; any other label is kept as raw bytes
//! ([`TypeBuffer`]) so a server can answer it cleanly instead of failing to decode.

pub mod mirror;
pub mod partition;
pub mod spu;
pub mod topic;

use std::fmt::Debug;

use bytes::{Bytes, BytesMut};

use crate::codec::{Decoder, Encoder, Version, take_bytes};
use crate::error::{DecodeError, EncodeError};
use crate::error_code::ErrorCode;
use crate::{wire_request, wire_struct, wire_unit_enum};

pub use partition::{PartitionSpec, PartitionStatus};
pub use spu::{SpuSpec, SpuStatus};
pub use topic::{TopicSpec, TopicStatus};

/// SC API keys.
pub mod keys {
    /// Create an object.
    pub const CREATE: u16 = 1001;
    /// Delete an object.
    pub const DELETE: u16 = 1002;
    /// List objects.
    pub const LIST: u16 = 1003;
    /// Watch objects.
    pub const WATCH: u16 = 1004;
    /// Mirroring (not supported here).
    pub const MIRRORING: u16 = 1005;
    /// Update an object.
    pub const UPDATE: u16 = 1006;
}

/// The version of the SC APIs the official 0.50 client sends.
pub const SC_COMMON_VERSION: Version = 19;

/// From this version on, envelopes carry a u32 payload length (older "classic" encodings are
/// not supported by this codec).
pub const DYNAMIC_OBJECT_VERSION: Version = 11;

/// Type labels.
pub mod labels {
    /// Topics.
    pub const TOPIC: &str = "Topic";
    /// Partitions.
    pub const PARTITION: &str = "Partition";
    /// SPUs.
    pub const SPU: &str = "SPU";
    /// Custom SPU registrations.
    pub const CUSTOM_SPU: &str = "CustomSpu";
    /// SPU groups.
    pub const SPU_GROUP: &str = "SpuGroup";
    /// SmartModules.
    pub const SMART_MODULE: &str = "SmartModule";
    /// Table formats.
    pub const TABLE_FORMAT: &str = "TableFormat";
    /// Mirrors.
    pub const MIRROR: &str = "Mirror";
}

/// `skip_serializing_if` helper: the official serde attributes leave such flags out when false.
#[cfg(feature = "serde")]
pub(crate) fn is_false(flag: &bool) -> bool {
    !flag
}

/// `skip_serializing_if` helper: the official serde attributes leave `ignoreRackAssignment`
/// out when it is true.
#[cfg(feature = "serde")]
pub(crate) fn is_true(flag: &bool) -> bool {
    *flag
}

/// `serde(default)` of the partition count and replication factor, as the official types.
#[cfg(feature = "serde")]
pub(crate) fn one() -> u32 {
    1
}

/// An SC object kind: a spec with a status and a type label.
pub trait Spec: Encoder + Decoder + Clone + Debug + Default + PartialEq {
    /// Type label on the wire.
    const LABEL: &'static str;
    /// Status type.
    type Status: Encoder + Decoder + Clone + Debug + Default + PartialEq;
}

/// An object as listed or watched: name, spec and status.
#[derive(Debug, Clone, Default, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Metadata<S: Spec> {
    /// Object name.
    pub name: String,
    /// Desired state.
    pub spec: S,
    /// Observed state.
    pub status: S::Status,
}

impl<S: Spec> Encoder for Metadata<S> {
    fn encode(&self, dst: &mut BytesMut, version: Version) -> Result<(), EncodeError> {
        self.name.encode(dst, version)?;
        self.spec.encode(dst, version)?;
        self.status.encode(dst, version)
    }
}

impl<S: Spec> Decoder for Metadata<S> {
    fn decode(src: &mut Bytes, version: Version) -> Result<Self, DecodeError> {
        Ok(Self {
            name: String::decode(src, version).map_err(|e| e.within("Metadata.name"))?,
            spec: S::decode(src, version).map_err(|e| e.within("Metadata.spec"))?,
            status: S::Status::decode(src, version).map_err(|e| e.within("Metadata.status"))?,
        })
    }
}

wire_unit_enum! {
    /// Kind of change in a watch delta.
    pub enum ChangeKind: u8 {
        /// Added or replaced.
        #[default]
        Update = 0,
        /// Removed.
        Delete = 1,
    }
}

/// One change in a watch delta.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Change<S: Spec> {
    /// Update or delete.
    pub kind: ChangeKind,
    /// The object (complete even for deletes).
    pub object: Metadata<S>,
}

impl<S: Spec> Encoder for Change<S> {
    fn encode(&self, dst: &mut BytesMut, version: Version) -> Result<(), EncodeError> {
        self.kind.encode(dst, version)?;
        self.object.encode(dst, version)
    }
}

impl<S: Spec> Decoder for Change<S> {
    fn decode(src: &mut Bytes, version: Version) -> Result<Self, DecodeError> {
        Ok(Self { kind: ChangeKind::decode(src, version)?, object: Metadata::decode(src, version)? })
    }
}

/// One watch message: a full sync (`all` set, `changes` empty) or a delta.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MetadataUpdate<S: Spec> {
    /// Store epoch (informational).
    pub epoch: i64,
    /// Delta.
    pub changes: Vec<Change<S>>,
    /// Full sync.
    pub all: Vec<Metadata<S>>,
}

impl<S: Spec> Encoder for MetadataUpdate<S> {
    fn encode(&self, dst: &mut BytesMut, version: Version) -> Result<(), EncodeError> {
        self.epoch.encode(dst, version)?;
        self.changes.encode(dst, version)?;
        self.all.encode(dst, version)
    }
}

impl<S: Spec> Decoder for MetadataUpdate<S> {
    fn decode(src: &mut Bytes, version: Version) -> Result<Self, DecodeError> {
        Ok(Self {
            epoch: i64::decode(src, version)?,
            changes: Vec::decode(src, version).map_err(|e| e.within("MetadataUpdate.changes"))?,
            all: Vec::decode(src, version).map_err(|e| e.within("MetadataUpdate.all"))?,
        })
    }
}

/// An envelope kept undecoded: a type label and its payload.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TypeBuffer {
    /// Type label.
    pub label: String,
    /// Payload, encoded at the message version.
    pub payload: Bytes,
}

impl Encoder for TypeBuffer {
    fn encode(&self, dst: &mut BytesMut, version: Version) -> Result<(), EncodeError> {
        encode_envelope(&self.label, dst, version, |dst| {
            dst.extend_from_slice(&self.payload);
            Ok(())
        })
    }
}

impl Decoder for TypeBuffer {
    fn decode(src: &mut Bytes, version: Version) -> Result<Self, DecodeError> {
        let label = String::decode(src, version).map_err(|e| e.within("TypeBuffer.label"))?;
        let len = u32::decode(src, version).map_err(|e| e.within("TypeBuffer.len"))?;
        let payload = take_bytes(src, len as usize).map_err(|e| e.within("TypeBuffer.payload"))?;
        Ok(Self { label, payload })
    }
}

fn encode_envelope(
    label: &str,
    dst: &mut BytesMut,
    version: Version,
    payload: impl FnOnce(&mut BytesMut) -> Result<(), EncodeError>,
) -> Result<(), EncodeError> {
    if version < DYNAMIC_OBJECT_VERSION {
        return Err(EncodeError::OutOfRange("SC object envelopes need version 11 or later"));
    }
    label.encode(dst, version)?;
    let len_pos = dst.len();
    0u32.encode(dst, version)?;
    payload(dst)?;
    let len = (dst.len() - len_pos - 4) as u32;
    dst[len_pos..len_pos + 4].copy_from_slice(&len.to_be_bytes());
    Ok(())
}

fn decode_payload<T: Decoder>(envelope: &TypeBuffer, version: Version) -> Result<T, DecodeError> {
    T::decode_exact(envelope.payload.clone(), version)
}

fn check_envelope_version(version: Version) -> Result<(), DecodeError> {
    if version < DYNAMIC_OBJECT_VERSION {
        Err(DecodeError::invalid("SC object envelopes need version 11 or later"))
    } else {
        Ok(())
    }
}

wire_struct! {
    /// Outcome of Create, Delete and Update.
    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    pub struct Status {
        /// Object name.
        pub name: String,
        /// Outcome.
        pub error_code: ErrorCode,
        /// Details.
        pub error_message: Option<String>,
    }
}

impl Status {
    /// Success for `name`.
    pub fn ok(name: impl Into<String>) -> Self {
        Self { name: name.into(), error_code: ErrorCode::None, error_message: None }
    }

    /// Failure for `name`.
    pub fn error(name: impl Into<String>, error_code: ErrorCode, message: impl Into<String>) -> Self {
        Self { name: name.into(), error_code, error_message: Some(message.into()) }
    }
}

wire_struct! {
    /// Fields shared by every Create request.
    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    pub struct CommonCreateRequest {
        /// Object name.
        pub name: String,
        /// Validate only.
        pub dry_run: bool,
        /// Milliseconds to wait (ignored for topics).
        @[since 7] pub timeout: Option<u32>,
    }
}

/// The object a Create request creates.
#[derive(Debug, Clone, PartialEq)]
pub enum CreateObject {
    /// A topic.
    Topic(TopicSpec),
    /// Any other kind, undecoded spec bytes.
    Other {
        /// Type label.
        label: String,
        /// Spec payload (after the common fields).
        spec: Bytes,
    },
}

/// Create request (key 1001).
#[derive(Debug, Clone, PartialEq)]
pub struct CreateRequest {
    /// Name, dry-run and timeout.
    pub common: CommonCreateRequest,
    /// What to create.
    pub object: CreateObject,
}

impl Encoder for CreateRequest {
    fn encode(&self, dst: &mut BytesMut, version: Version) -> Result<(), EncodeError> {
        let label = match &self.object {
            CreateObject::Topic(_) => labels::TOPIC,
            CreateObject::Other { label, .. } => label.as_str(),
        };
        encode_envelope(label, dst, version, |dst| {
            self.common.encode(dst, version)?;
            match &self.object {
                CreateObject::Topic(spec) => spec.encode(dst, version),
                CreateObject::Other { spec, .. } => {
                    dst.extend_from_slice(spec);
                    Ok(())
                }
            }
        })
    }
}

impl Decoder for CreateRequest {
    fn decode(src: &mut Bytes, version: Version) -> Result<Self, DecodeError> {
        check_envelope_version(version)?;
        let envelope = TypeBuffer::decode(src, version)?;
        let mut payload = envelope.payload.clone();
        let common = CommonCreateRequest::decode(&mut payload, version)?;
        let object = if envelope.label == labels::TOPIC {
            CreateObject::Topic(TopicSpec::decode_exact(payload, version).map_err(|e| e.within("CreateRequest.spec"))?)
        } else {
            CreateObject::Other { label: envelope.label, spec: payload }
        };
        Ok(Self { common, object })
    }
}

wire_request!(CreateRequest: key keys::CREATE, versions DYNAMIC_OBJECT_VERSION..=SC_COMMON_VERSION => Status);

/// Delete request (key 1002).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeleteRequest {
    /// Delete a topic.
    Topic {
        /// Topic name.
        name: String,
        /// Allow deleting system topics.
        force: bool,
    },
    /// Any other kind, undecoded.
    Other(TypeBuffer),
}

impl DeleteRequest {
    /// The label of the kind being deleted.
    pub fn label(&self) -> &str {
        match self {
            DeleteRequest::Topic { .. } => labels::TOPIC,
            DeleteRequest::Other(envelope) => &envelope.label,
        }
    }
}

impl Encoder for DeleteRequest {
    fn encode(&self, dst: &mut BytesMut, version: Version) -> Result<(), EncodeError> {
        match self {
            DeleteRequest::Topic { name, force } => encode_envelope(labels::TOPIC, dst, version, |dst| {
                name.encode(dst, version)?;
                if version >= 13 {
                    force.encode(dst, version)?;
                }
                Ok(())
            }),
            DeleteRequest::Other(envelope) => envelope.encode(dst, version),
        }
    }
}

impl Decoder for DeleteRequest {
    fn decode(src: &mut Bytes, version: Version) -> Result<Self, DecodeError> {
        check_envelope_version(version)?;
        let envelope = TypeBuffer::decode(src, version)?;
        if envelope.label != labels::TOPIC {
            return Ok(DeleteRequest::Other(envelope));
        }
        let mut payload = envelope.payload;
        let name = String::decode(&mut payload, version)?;
        let force = if version >= 13 { bool::decode(&mut payload, version)? } else { false };
        Ok(DeleteRequest::Topic { name, force })
    }
}

wire_request!(DeleteRequest: key keys::DELETE, versions DYNAMIC_OBJECT_VERSION..=SC_COMMON_VERSION => Status);

wire_struct! {
    /// A name filter in a List request (substring match).
    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    pub struct ListFilter {
        /// Substring to match.
        pub name: String,
    }
}

wire_struct! {
    /// The payload of a List request (the same for every label).
    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    pub struct ListFilters {
        /// Empty matches everything; otherwise any filter that is a substring of a name.
        pub name_filters: Vec<ListFilter>,
        /// Summaries only (affects SmartModules).
        @[since 10] pub summary: bool,
        /// List system objects (topics and partitions) instead of regular ones.
        @[since 13] pub system: bool,
    }
}

/// List request (key 1003).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListRequest {
    /// Type label.
    pub label: String,
    /// Filters.
    pub filters: ListFilters,
}

impl Encoder for ListRequest {
    fn encode(&self, dst: &mut BytesMut, version: Version) -> Result<(), EncodeError> {
        encode_envelope(&self.label, dst, version, |dst| self.filters.encode(dst, version))
    }
}

impl Decoder for ListRequest {
    fn decode(src: &mut Bytes, version: Version) -> Result<Self, DecodeError> {
        check_envelope_version(version)?;
        let envelope = TypeBuffer::decode(src, version)?;
        let filters = decode_payload(&envelope, version).map_err(|e| e.within("ListRequest.filters"))?;
        Ok(Self { label: envelope.label, filters })
    }
}

wire_request!(ListRequest: key keys::LIST, versions 15..=SC_COMMON_VERSION => ListResponse);

/// List response: the matching objects, under the request's label.
#[derive(Debug, Clone, PartialEq)]
pub enum ListResponse {
    /// Topics.
    Topic(Vec<Metadata<TopicSpec>>),
    /// Partitions.
    Partition(Vec<Metadata<PartitionSpec>>),
    /// SPUs.
    Spu(Vec<Metadata<SpuSpec>>),
    /// Any other kind, undecoded.
    Other(TypeBuffer),
}

impl ListResponse {
    /// An empty list for `label` (how this server answers kinds it does not manage).
    pub fn empty(label: &str) -> Self {
        ListResponse::Other(TypeBuffer { label: label.to_string(), payload: Bytes::from_static(&[0, 0, 0, 0]) })
    }
}

impl Encoder for ListResponse {
    fn encode(&self, dst: &mut BytesMut, version: Version) -> Result<(), EncodeError> {
        match self {
            ListResponse::Topic(list) => encode_envelope(labels::TOPIC, dst, version, |d| list.encode(d, version)),
            ListResponse::Partition(list) => {
                encode_envelope(labels::PARTITION, dst, version, |d| list.encode(d, version))
            }
            ListResponse::Spu(list) => encode_envelope(labels::SPU, dst, version, |d| list.encode(d, version)),
            ListResponse::Other(envelope) => envelope.encode(dst, version),
        }
    }
}

impl Decoder for ListResponse {
    fn decode(src: &mut Bytes, version: Version) -> Result<Self, DecodeError> {
        check_envelope_version(version)?;
        let envelope = TypeBuffer::decode(src, version)?;
        Ok(match envelope.label.as_str() {
            labels::TOPIC => ListResponse::Topic(decode_payload(&envelope, version)?),
            labels::PARTITION => ListResponse::Partition(decode_payload(&envelope, version)?),
            labels::SPU => ListResponse::Spu(decode_payload(&envelope, version)?),
            _ => ListResponse::Other(envelope),
        })
    }
}

wire_struct! {
    /// The payload of a Watch request (the same for every label).
    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    pub struct WatchParams {
        /// The client always sends 0.
        pub epoch: i64,
        /// Summaries only.
        @[since 10] pub summary: bool,
    }
}

/// Watch request (key 1004): opens a stream of [`WatchResponse`]s.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WatchRequest {
    /// Type label.
    pub label: String,
    /// Parameters.
    pub params: WatchParams,
}

impl Encoder for WatchRequest {
    fn encode(&self, dst: &mut BytesMut, version: Version) -> Result<(), EncodeError> {
        encode_envelope(&self.label, dst, version, |dst| self.params.encode(dst, version))
    }
}

impl Decoder for WatchRequest {
    fn decode(src: &mut Bytes, version: Version) -> Result<Self, DecodeError> {
        check_envelope_version(version)?;
        let envelope = TypeBuffer::decode(src, version)?;
        let params = decode_payload(&envelope, version).map_err(|e| e.within("WatchRequest.params"))?;
        Ok(Self { label: envelope.label, params })
    }
}

wire_request!(WatchRequest: key keys::WATCH, versions 15..=SC_COMMON_VERSION => WatchResponse);

/// One watch message, under the request's label.
#[derive(Debug, Clone, PartialEq)]
pub enum WatchResponse {
    /// Topics.
    Topic(MetadataUpdate<TopicSpec>),
    /// Partitions.
    Partition(MetadataUpdate<PartitionSpec>),
    /// SPUs.
    Spu(MetadataUpdate<SpuSpec>),
    /// Any other kind, undecoded.
    Other(TypeBuffer),
}

impl WatchResponse {
    /// An empty full sync for `label` (both lists empty).
    pub fn empty(label: &str, epoch: i64) -> Self {
        let mut payload = BytesMut::new();
        payload.extend_from_slice(&epoch.to_be_bytes());
        payload.extend_from_slice(&[0; 8]);
        WatchResponse::Other(TypeBuffer { label: label.to_string(), payload: payload.freeze() })
    }
}

impl Encoder for WatchResponse {
    fn encode(&self, dst: &mut BytesMut, version: Version) -> Result<(), EncodeError> {
        match self {
            WatchResponse::Topic(update) => encode_envelope(labels::TOPIC, dst, version, |d| update.encode(d, version)),
            WatchResponse::Partition(update) => {
                encode_envelope(labels::PARTITION, dst, version, |d| update.encode(d, version))
            }
            WatchResponse::Spu(update) => encode_envelope(labels::SPU, dst, version, |d| update.encode(d, version)),
            WatchResponse::Other(envelope) => envelope.encode(dst, version),
        }
    }
}

impl Decoder for WatchResponse {
    fn decode(src: &mut Bytes, version: Version) -> Result<Self, DecodeError> {
        check_envelope_version(version)?;
        let envelope = TypeBuffer::decode(src, version)?;
        Ok(match envelope.label.as_str() {
            labels::TOPIC => WatchResponse::Topic(decode_payload(&envelope, version)?),
            labels::PARTITION => WatchResponse::Partition(decode_payload(&envelope, version)?),
            labels::SPU => WatchResponse::Spu(decode_payload(&envelope, version)?),
            _ => WatchResponse::Other(envelope),
        })
    }
}

/// Update request (key 1006).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpdateRequest {
    /// Update a topic.
    Topic {
        /// Topic name.
        name: String,
        /// What to do.
        action: topic::UpdateTopicAction,
    },
    /// Any other kind, undecoded.
    Other(TypeBuffer),
}

impl Encoder for UpdateRequest {
    fn encode(&self, dst: &mut BytesMut, version: Version) -> Result<(), EncodeError> {
        match self {
            UpdateRequest::Topic { name, action } => encode_envelope(labels::TOPIC, dst, version, |dst| {
                name.encode(dst, version)?;
                action.encode(dst, version)
            }),
            UpdateRequest::Other(envelope) => envelope.encode(dst, version),
        }
    }
}

impl Decoder for UpdateRequest {
    fn decode(src: &mut Bytes, version: Version) -> Result<Self, DecodeError> {
        check_envelope_version(version)?;
        let envelope = TypeBuffer::decode(src, version)?;
        if envelope.label != labels::TOPIC {
            return Ok(UpdateRequest::Other(envelope));
        }
        let mut payload = envelope.payload;
        let name = String::decode(&mut payload, version)?;
        let action = topic::UpdateTopicAction::decode(&mut payload, version)?;
        Ok(UpdateRequest::Topic { name, action })
    }
}

wire_request!(UpdateRequest: key keys::UPDATE, versions DYNAMIC_OBJECT_VERSION..=SC_COMMON_VERSION => Status);

#[cfg(test)]
mod tests {
    use super::spu::*;
    use super::*;
    use crate::api::{RequestHeader, encode_request_frame};

    fn hex(s: &str) -> Vec<u8> {
        s.split_whitespace()
            .flat_map(|token| {
                if let Some(text) = token.strip_prefix('"') {
                    text.trim_end_matches('"').bytes().collect::<Vec<_>>()
                } else {
                    vec![u8::from_str_radix(token, 16).unwrap()]
                }
            })
            .collect()
    }

    #[test]
    fn create_topic_vector() {
        let request = CreateRequest {
            common: CommonCreateRequest { name: "t".into(), dry_run: false, timeout: None },
            object: CreateObject::Topic(TopicSpec::computed(1, 1)),
        };
        let header = RequestHeader { api_key: 1001, api_version: 19, correlation_id: 9, client_id: "fluvio".into() };
        let mut dst = BytesMut::new();
        encode_request_frame(&header, &request, &mut dst).unwrap();
        let expected = hex(r#"00 00 00 2f 03 e9 00 13 00 00 00 09 00 06 "fluvio"
               00 05 "Topic" 00 00 00 14 00 01 74 00 00 01 00 00 00 01 00 00 00 01 00 00 00 04 00 00"#);
        assert_eq!(&dst[..], expected.as_slice());
        let mut frame = dst.freeze().slice(4..);
        RequestHeader::decode_from_frame(&mut frame).unwrap();
        assert_eq!(CreateRequest::decode_exact(frame, 19).unwrap(), request);
    }

    #[test]
    fn status_vectors() {
        assert_eq!(Status::ok("t").to_bytes(19).unwrap().as_ref(), hex("00 01 74 00 00 00").as_slice());
        let err = Status::error("t", ErrorCode::TopicAlreadyExists, "Topic 't' already exists");
        let mut expected = hex("00 01 74 07 d2 01 00 18");
        expected.extend_from_slice(b"Topic 't' already exists");
        assert_eq!(err.to_bytes(19).unwrap().as_ref(), expected.as_slice());
    }

    #[test]
    fn delete_list_watch_request_vectors() {
        let delete = DeleteRequest::Topic { name: "t".into(), force: false };
        assert_eq!(delete.to_bytes(19).unwrap().as_ref(), hex(r#"00 05 "Topic" 00 00 00 04 00 01 74 00"#).as_slice());
        let list = ListRequest {
            label: "Topic".into(),
            filters: ListFilters { name_filters: vec![ListFilter { name: "t".into() }], summary: false, system: false },
        };
        assert_eq!(
            list.to_bytes(19).unwrap().as_ref(),
            hex(r#"00 05 "Topic" 00 00 00 09 00 00 00 01 00 01 74 00 00"#).as_slice()
        );
        let watch = WatchRequest { label: "SPU".into(), params: WatchParams::default() };
        assert_eq!(
            watch.to_bytes(19).unwrap().as_ref(),
            hex(r#"00 03 "SPU" 00 00 00 09 00 00 00 00 00 00 00 00 00"#).as_slice()
        );
    }

    #[test]
    fn spu_watch_full_sync_vector() {
        let spu = Metadata {
            name: "custom-spu-5001".to_string(),
            spec: SpuSpec {
                id: 5001,
                spu_type: SpuType::Managed,
                public_endpoint: IngressPort {
                    port: 9010,
                    ingress: vec![IngressAddr { hostname: Some("localhost".into()), ip: None }],
                    encryption: EncryptionType::Plaintext,
                },
                private_endpoint: Endpoint {
                    port: 9011,
                    host: "localhost".into(),
                    encryption: EncryptionType::Plaintext,
                },
                rack: None,
                public_endpoint_local: None,
            },
            status: SpuStatus { resolution: SpuStatusResolution::Online },
        };
        let update = WatchResponse::Spu(MetadataUpdate { epoch: 1, changes: vec![], all: vec![spu] });
        let bytes = update.to_bytes(19).unwrap();
        let expected = hex(r#"00 03 "SPU" 00 00 00 4b 00 00 00 00 00 00 00 01 00 00 00 00 00 00 00 01
               00 0f "custom-spu-5001" 00 00 13 89 00 23 32 00 00 00 01 01 00 09 "localhost" 00 00
               23 33 00 09 "localhost" 00 00 00 00"#);
        assert_eq!(bytes.as_ref(), expected.as_slice());
        assert_eq!(WatchResponse::decode_exact(bytes, 19).unwrap(), update);
    }

    #[test]
    fn unknown_labels_stay_undecoded() {
        let list = ListResponse::empty("SmartModule");
        let bytes = list.to_bytes(19).unwrap();
        assert_eq!(ListResponse::decode_exact(bytes, 19).unwrap(), list);
        let watch = WatchResponse::empty("SpuGroup", 3);
        assert_eq!(WatchResponse::decode_exact(watch.to_bytes(19).unwrap(), 19).unwrap(), watch);
    }
}
