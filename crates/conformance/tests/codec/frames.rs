//! Request headers, whole request and response frames (through the official `FluvioCodec`),
//! and ApiVersions.

use std::fmt::Debug;
use std::io::Cursor;

use bytes::{Bytes, BytesMut};
use fluvio_protocol::api::{Request as TheirRequest, RequestHeader as TheirHeader, RequestMessage, ResponseMessage};
use fluvio_protocol::codec::FluvioCodec;
use fluvio_protocol::{Decoder as TheirDecoder, Encoder as TheirEncoder};
use fluvio_wire::api::{
    ApiVersionKey, ApiVersionsRequest, ApiVersionsResponse, Request as OurRequest, RequestHeader, encode_request_frame,
    encode_response_frame, take_correlation_id,
};
use fluvio_wire::{Decoder as OurDecoder, Encoder as OurEncoder, ErrorCode, FrameDecoder};
use tokio_util::codec::{Decoder as _, Encoder as _};

use crate::common::convert::{ToOurs, ToTheirs, ours, theirs};
use crate::common::{assert_same_bytes, check_exact, unhex};

fn header(api_key: u16, api_version: i16, correlation_id: i32) -> RequestHeader {
    RequestHeader { api_key, api_version, correlation_id, client_id: "fluvio".into() }
}

/// Splits one frame off `bytes` with each side's framing decoder; both must agree and use all.
fn split_frame(bytes: &[u8]) -> Bytes {
    let mut theirs = BytesMut::from(bytes);
    let their_payload = FluvioCodec::new().decode(&mut theirs).expect("official framing").expect("a whole frame");
    assert!(theirs.is_empty(), "official framing left bytes");
    let mut ours = BytesMut::from(bytes);
    let our_payload = FrameDecoder::default().decode(&mut ours).expect("our framing").expect("a whole frame");
    assert!(ours.is_empty(), "our framing left bytes");
    assert_eq!(&our_payload[..], &their_payload[..]);
    our_payload
}

/// A whole request frame: our `encode_request_frame` against the official `FluvioCodec`
/// encoding of a `RequestMessage`; then each side decodes the other's frame.
pub fn check_request_frame<O, T>(
    what: &str,
    header: &RequestHeader,
    body: &O,
    to_theirs: impl Fn(&O, i16) -> T,
    to_ours: impl Fn(T, i16) -> O,
) where
    O: OurRequest + PartialEq + Debug,
    T: TheirRequest + TheirDecoder + TheirEncoder,
{
    assert_eq!(O::API_KEY, T::API_KEY, "{what}: API keys");
    assert_eq!(header.api_key, O::API_KEY);
    let version = header.api_version;

    let mut our_frame = BytesMut::new();
    encode_request_frame(header, body, &mut our_frame).expect("our frame");
    let message = RequestMessage::new(header.to_theirs(), to_theirs(body, version));
    let mut their_frame = BytesMut::new();
    // The version given to the codec is the header's; the body goes at the header's api_version.
    FluvioCodec::new().encode((message, 0), &mut their_frame).expect("official frame");
    assert_same_bytes(&our_frame, &their_frame, what);

    // Ours reads theirs.
    let mut payload = split_frame(&their_frame);
    let decoded_header = RequestHeader::decode_from_frame(&mut payload).expect("our header decode");
    assert_eq!(&decoded_header, header);
    assert_eq!(&O::decode_exact(payload, version).expect("our body decode"), body);

    // Theirs reads ours.
    let payload = split_frame(&our_frame);
    let mut src = Cursor::new(&payload[..]);
    let decoded = RequestMessage::<T>::decode_from(&mut src, 0).expect("official request decode");
    assert_eq!(src.position() as usize, payload.len(), "{what}: official decoder left bytes");
    assert_eq!(&decoded.header.clone().to_ours(), header);
    assert_eq!(&to_ours(decoded.request, version), body);
}

/// A whole response frame: correlation id + body at `version`.
pub fn check_response_frame<O, T>(
    what: &str,
    correlation_id: i32,
    body: &O,
    version: i16,
    to_theirs: impl Fn(&O, i16) -> T,
    to_ours: impl Fn(T, i16) -> O,
) where
    O: OurEncoder + OurDecoder + PartialEq + Debug,
    T: TheirDecoder + TheirEncoder,
{
    let mut our_frame = BytesMut::new();
    encode_response_frame(correlation_id, body, version, &mut our_frame).expect("our frame");
    let message = ResponseMessage::new(correlation_id, to_theirs(body, version));
    let mut their_frame = BytesMut::new();
    FluvioCodec::new().encode((message, version), &mut their_frame).expect("official frame");
    assert_same_bytes(&our_frame, &their_frame, what);

    let mut payload = split_frame(&their_frame);
    assert_eq!(take_correlation_id(&mut payload).expect("correlation id"), correlation_id);
    assert_eq!(&O::decode_exact(payload, version).expect("our body decode"), body);

    let payload = split_frame(&our_frame);
    let mut src = Cursor::new(&payload[..]);
    let decoded = ResponseMessage::<T>::decode_from(&mut src, version).expect("official response decode");
    assert_eq!(src.position() as usize, payload.len(), "{what}: official decoder left bytes");
    assert_eq!(decoded.correlation_id, correlation_id);
    assert_eq!(&to_ours(decoded.response, version), body);
}

#[test]
fn request_headers() {
    for header in [
        header(18, 2, 1),
        RequestHeader { api_key: 0, api_version: 25, correlation_id: i32::MAX, client_id: String::new() },
        RequestHeader {
            api_key: 1003,
            api_version: -1,
            correlation_id: i32::MIN,
            client_id: "fluvio_connector-x".into(),
        },
        RequestHeader { api_key: u16::MAX, api_version: i16::MAX, correlation_id: 0, client_id: "ç".repeat(100) },
    ] {
        // The header is not versioned.
        check_exact("RequestHeader", &header, 0, |h, _| theirs(h), |t, _| ours(t));
    }
}

fn api_versions_request() -> ApiVersionsRequest {
    ApiVersionsRequest { client_version: "0.50.1".into(), client_os: "linux".into(), client_arch: "x86_64".into() }
}

#[test]
fn api_versions_request_v0_v1_v2() {
    for version in 0..=2 {
        let request = if version == 0 { ApiVersionsRequest::default() } else { api_versions_request() };
        check_exact("ApiVersionsRequest", &request, version, |r, _| theirs(r), |t, _| ours(t));
        check_request_frame("ApiVersions frame", &header(18, version, 1), &request, |r, _| theirs(r), |t, _| ours(t));
    }
    // At v0 the client identity is not on the wire.
    let decoded =
        crate::common::check("ApiVersionsRequest", &api_versions_request(), 0, |r, _| theirs(r), |t, _| ours(t));
    assert_eq!(decoded, ApiVersionsRequest::default());
}

#[test]
fn api_versions_request_pinned_vector() {
    // §B of the protocol notes (verified there against the official client).
    let request =
        ApiVersionsRequest { client_version: "0.50.2".into(), client_os: "linux".into(), client_arch: "x86_64".into() };
    let mut frame = BytesMut::new();
    encode_request_frame(&header(18, 2, 1), &request, &mut frame).unwrap();
    assert_eq!(
        &frame[..],
        unhex(
            "00 00 00 27 00 12 00 02 00 00 00 01 00 06 66 6c 75 76 69 6f 00 06 30 2e 35 30 2e 32
             00 05 6c 69 6e 75 78 00 06 78 38 36 5f 36 34"
        )
    );
}

fn api_versions_responses() -> Vec<ApiVersionsResponse> {
    let key = |api_key, min_version, max_version| ApiVersionKey { api_key, min_version, max_version };
    vec![
        ApiVersionsResponse { error_code: ErrorCode::None, api_keys: vec![], platform_version: "0.0.0".into() },
        ApiVersionsResponse {
            error_code: ErrorCode::None,
            api_keys: vec![key(1001, 9, 19), key(1002, 1, 19), key(1003, 15, 19), key(1004, 15, 19), key(1006, 1, 19)],
            platform_version: "0.18.2".into(),
        },
        ApiVersionsResponse {
            error_code: ErrorCode::Other("nope".into()),
            api_keys: vec![key(0, 0, 25), key(1003, 0, 25), key(-1, i16::MIN, i16::MAX)],
            platform_version: "1.2.3-rc.1+build.5".into(),
        },
    ]
}

#[test]
fn api_versions_response() {
    for response in api_versions_responses() {
        for version in 0..=2 {
            check_exact("ApiVersionsResponse", &response, version, |r, _| theirs(r), |t, _| ours(t));
            check_response_frame("ApiVersions response frame", 7, &response, version, |r, _| theirs(r), |t, _| ours(t));
        }
    }
}

#[test]
fn api_versions_pinned_response_decodes_on_both_sides() {
    // §B of the protocol notes: Watch 15..19, platform "0.18.2".
    let frame = unhex("00 00 00 18 00 00 00 01 00 00 00 00 00 01 03 ec 00 0f 00 13 00 06 30 2e 31 38 2e 32");
    let payload = split_frame(&frame);
    let ours = ApiVersionsResponse::decode_exact(payload.slice(4..), 2).unwrap();
    let theirs: fluvio_protocol::link::versions::ApiVersionsResponse = crate::common::their_decode(&payload[4..], 2);
    assert_eq!(theirs.to_ours(), ours);
    assert_eq!(ours.negotiate(1004, 15, 19), Some(19));
}

#[test]
fn header_type_is_the_official_one() {
    // The official header has no public constructor taking every field; make sure the
    // conversion sets them all (a wrong default would slip through otherwise).
    let ours = RequestHeader { api_key: 1005, api_version: 0, correlation_id: 42, client_id: "abc".into() };
    let theirs: TheirHeader = ours.to_theirs();
    assert_eq!((theirs.api_key(), theirs.api_version(), theirs.correlation_id()), (1005, 0, 42));
    assert_eq!(theirs.client_id(), "abc");
}
