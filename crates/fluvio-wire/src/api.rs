//! Request/response pairing, headers, whole-message encoding, and ApiVersions (key 18).

use bytes::{Buf, Bytes, BytesMut};

use crate::codec::{Decoder, Encoder, Version};
use crate::error::{DecodeError, EncodeError};
use crate::error_code::ErrorCode;
use crate::frame::{begin_frame, finish_frame};
use crate::wire_struct;

/// A request body type, with its API key, version range and response type.
pub trait Request: Encoder + Decoder + std::fmt::Debug {
    /// The API key.
    const API_KEY: u16;
    /// Oldest version this codec can encode and decode.
    const MIN_VERSION: Version;
    /// Newest version this codec can encode and decode.
    const MAX_VERSION: Version;
    /// The version a client sends by default.
    const DEFAULT_VERSION: Version = Self::MAX_VERSION;
    /// The response body type.
    type Response: Encoder + Decoder + std::fmt::Debug;
}

/// Implements [`Request`] for a body type: its API key, the versions its codec covers (oldest
/// to newest, both included) and its response type.
///
/// ```
/// # fluvio_wire::wire_struct! {
/// #     #[derive(Debug, Clone, Default, PartialEq)]
/// #     pub struct Ping { pub id: u32 }
/// # }
/// fluvio_wire::wire_request!(Ping: key 9000, versions 0..=1 => Ping);
/// assert_eq!(<Ping as fluvio_wire::Request>::API_KEY, 9000);
/// ```
#[macro_export]
macro_rules! wire_request {
    ($request:ty: key $key:expr, versions $min:tt..=$max:tt => $response:ty) => {
        impl $crate::Request for $request {
            const API_KEY: u16 = $key;
            const MIN_VERSION: $crate::Version = $min;
            const MAX_VERSION: $crate::Version = $max;
            type Response = $response;
        }
    };
}

wire_struct! {
    /// The header that starts every request.
    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    pub struct RequestHeader {
        /// Which API the body belongs to.
        pub api_key: u16,
        /// Version of the body.
        pub api_version: Version,
        /// Echoed by the response.
        pub correlation_id: i32,
        /// Client identifier (the official client sends "fluvio").
        pub client_id: String,
    }
}

impl RequestHeader {
    /// Decodes the header at the front of a request frame, leaving the body in `frame`.
    pub fn decode_from_frame(frame: &mut Bytes) -> Result<Self, DecodeError> {
        // The header is not versioned.
        Self::decode(frame, 0).map_err(|e| e.within("RequestHeader"))
    }
}

/// Encodes a whole request frame (length prefix, header, body at the header's version).
pub fn encode_request_frame<R: Request>(
    header: &RequestHeader,
    body: &R,
    dst: &mut BytesMut,
) -> Result<(), EncodeError> {
    let pos = begin_frame(dst);
    header.encode(dst, 0)?;
    body.encode(dst, header.api_version)?;
    finish_frame(dst, pos);
    Ok(())
}

/// Encodes a whole response frame (length prefix, correlation id, body at `version`).
pub fn encode_response_frame<T: Encoder + ?Sized>(
    correlation_id: i32,
    body: &T,
    version: Version,
    dst: &mut BytesMut,
) -> Result<(), EncodeError> {
    let pos = begin_frame(dst);
    correlation_id.encode(dst, version)?;
    body.encode(dst, version)?;
    finish_frame(dst, pos);
    Ok(())
}

/// Reads the correlation id at the front of a response frame, leaving the body.
pub fn take_correlation_id(frame: &mut Bytes) -> Result<i32, DecodeError> {
    i32::decode(frame, 0).map_err(|e| e.within("ResponseHeader.correlation_id"))
}

/// Peeks the correlation id of a response frame without consuming it.
pub fn peek_correlation_id(frame: &[u8]) -> Option<i32> {
    (frame.len() >= 4).then(|| (&frame[..4]).get_i32())
}

/// API key of ApiVersions, on both SC and SPU.
pub const API_VERSIONS_KEY: u16 = 18;

wire_struct! {
    /// ApiVersions request. The client identity fields exist from v1.
    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    pub struct ApiVersionsRequest {
        /// Client library version; the official SC requires valid semver.
        @[since 1] pub client_version: String,
        /// Operating system, e.g. "linux".
        @[since 1] pub client_os: String,
        /// CPU architecture, e.g. "x86_64".
        @[since 1] pub client_arch: String,
    }
}

wire_request!(ApiVersionsRequest: key API_VERSIONS_KEY, versions 0..=2 => ApiVersionsResponse);

wire_struct! {
    /// The version range a server supports for one API key.
    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
    pub struct ApiVersionKey {
        /// API key.
        pub api_key: i16,
        /// Oldest supported version.
        pub min_version: i16,
        /// Newest supported version.
        pub max_version: i16,
    }
}

wire_struct! {
    /// ApiVersions response: the server's supported ranges and its platform version.
    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    pub struct ApiVersionsResponse {
        /// Always None from the official servers.
        pub error_code: ErrorCode,
        /// Supported ranges.
        pub api_keys: Vec<ApiVersionKey>,
        /// Semver platform version ("0.0.0" on SPUs).
        pub platform_version: String,
    }
}

impl ApiVersionsResponse {
    /// The advertised range for `api_key`.
    pub fn lookup(&self, api_key: u16) -> Option<ApiVersionKey> {
        self.api_keys.iter().copied().find(|k| k.api_key as u16 == api_key)
    }

    /// The version to use for `api_key` given the client's range: the newest both sides
    /// support, or `None` when the ranges do not overlap or the key is not advertised.
    pub fn negotiate(&self, api_key: u16, client_min: Version, client_max: Version) -> Option<Version> {
        let server = self.lookup(api_key)?;
        (server.max_version >= client_min && server.min_version <= client_max)
            .then(|| client_max.min(server.max_version))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        s.split_whitespace().map(|b| u8::from_str_radix(b, 16).unwrap()).collect()
    }

    #[test]
    fn api_versions_request_vector() {
        let header = RequestHeader { api_key: 18, api_version: 2, correlation_id: 1, client_id: "fluvio".into() };
        let body = ApiVersionsRequest {
            client_version: "0.50.2".into(),
            client_os: "linux".into(),
            client_arch: "x86_64".into(),
        };
        let mut dst = BytesMut::new();
        encode_request_frame(&header, &body, &mut dst).unwrap();
        let expected = hex("00 00 00 27 00 12 00 02 00 00 00 01 00 06 66 6c 75 76 69 6f 00 06 30 2e 35 30 2e 32
             00 05 6c 69 6e 75 78 00 06 78 38 36 5f 36 34");
        assert_eq!(&dst[..], expected.as_slice());
    }

    #[test]
    fn api_versions_response_vector_and_negotiation() {
        let bytes = hex("00 00 00 18 00 00 00 01 00 00 00 00 00 01 03 ec 00 0f 00 13 00 06 30 2e 31 38 2e 32");
        let mut frame = Bytes::from(bytes[4..].to_vec());
        assert_eq!(take_correlation_id(&mut frame).unwrap(), 1);
        let response = ApiVersionsResponse::decode_exact(frame, 2).unwrap();
        assert_eq!(response.platform_version, "0.18.2");
        assert_eq!(response.negotiate(1004, 15, 19), Some(19));
        assert_eq!(response.negotiate(1004, 20, 25), None);
        assert_eq!(response.negotiate(1001, 0, 19), None);
        let mut dst = BytesMut::new();
        encode_response_frame(1, &response, 2, &mut dst).unwrap();
        assert_eq!(&dst[..], bytes.as_slice());
    }
}
