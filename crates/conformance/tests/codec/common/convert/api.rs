//! Request headers and ApiVersions.

use std::io::Cursor;

use fluvio_protocol::api::RequestHeader as TheirHeader;
use fluvio_protocol::link::versions as tv;
use fluvio_protocol::{Decoder as _, Encoder as _};
use fluvio_wire::api::{ApiVersionKey, ApiVersionsRequest, ApiVersionsResponse, RequestHeader};

use super::{ToOurs, ToTheirs};

impl ToTheirs for RequestHeader {
    type Theirs = TheirHeader;
    fn to_theirs(&self) -> TheirHeader {
        let mut header = TheirHeader::new_with_client(self.api_key, self.client_id.clone());
        header.set_api_version(self.api_version).set_correlation_id(self.correlation_id);
        header
    }
}

impl ToOurs for TheirHeader {
    type Ours = RequestHeader;
    fn to_ours(self) -> RequestHeader {
        RequestHeader {
            api_key: self.api_key(),
            api_version: self.api_version(),
            correlation_id: self.correlation_id(),
            client_id: self.client_id().clone(),
        }
    }
}

impl ToTheirs for ApiVersionsRequest {
    type Theirs = tv::ApiVersionsRequest;
    fn to_theirs(&self) -> Self::Theirs {
        tv::ApiVersionsRequest {
            client_version: self.client_version.clone(),
            client_os: self.client_os.clone(),
            client_arch: self.client_arch.clone(),
        }
    }
}

impl ToOurs for tv::ApiVersionsRequest {
    type Ours = ApiVersionsRequest;
    fn to_ours(self) -> ApiVersionsRequest {
        ApiVersionsRequest {
            client_version: self.client_version,
            client_os: self.client_os,
            client_arch: self.client_arch,
        }
    }
}

impl ToTheirs for ApiVersionKey {
    type Theirs = tv::ApiVersionKey;
    fn to_theirs(&self) -> Self::Theirs {
        tv::ApiVersionKey { api_key: self.api_key, min_version: self.min_version, max_version: self.max_version }
    }
}

impl ToOurs for tv::ApiVersionKey {
    type Ours = ApiVersionKey;
    fn to_ours(self) -> ApiVersionKey {
        ApiVersionKey { api_key: self.api_key, min_version: self.min_version, max_version: self.max_version }
    }
}

impl ToTheirs for ApiVersionsResponse {
    type Theirs = tv::ApiVersionsResponse;
    fn to_theirs(&self) -> Self::Theirs {
        // PlatformVersion can only be built from a `semver::Version` or by the official decoder
        // (which requires semver); use the decoder so the string is kept verbatim.
        let text = fluvio_protocol::Encoder::as_bytes(&self.platform_version, 0).expect("encode string");
        let platform_version =
            tv::PlatformVersion::decode_from(&mut Cursor::new(text), 0).expect("platform_version must be semver");
        tv::ApiVersionsResponse {
            error_code: self.error_code.to_theirs(),
            api_keys: self.api_keys.to_theirs(),
            platform_version,
        }
    }
}

impl ToOurs for tv::ApiVersionsResponse {
    type Ours = ApiVersionsResponse;
    fn to_ours(self) -> ApiVersionsResponse {
        // The string inside PlatformVersion is private: read it back through its encoding.
        let bytes = self.platform_version.as_bytes(0).expect("encode platform version");
        let platform_version = String::decode_from(&mut Cursor::new(bytes), 0).expect("decode string");
        ApiVersionsResponse {
            error_code: self.error_code.to_ours(),
            api_keys: self.api_keys.to_ours(),
            platform_version,
        }
    }
}
