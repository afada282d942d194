//! Property tests: random values of our main structures, checked with the same three
//! properties as the hand-written cases (identical bytes, each side decodes the other's).
//! Case counts are kept moderate so the suite stays fast in debug builds.

use proptest::prelude::*;

use crate::common::convert::sc as conv;
use crate::common::convert::{ours, theirs};
use crate::common::{check, check_exact};
use crate::records::check_batch;
use crate::strategies::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn error_codes(code in error_code()) {
        check_exact("ErrorCode", &code, 0, |c, _| theirs(c), |t, _| ours(t));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Batches built from the same records on both sides (the official producer path, with the
    /// official compressors) are identical, except zstd, where each side decodes the other's.
    #[test]
    fn batches_from_records(
        records in records(16),
        compression in prop_oneof![identical_codec(), Just(fluvio_wire::Compression::Zstd)],
        first_timestamp in first_timestamp(),
    ) {
        check_batch(&records, compression, first_timestamp);
    }

    /// Record sets of several batches with random headers (offsets, schema ids, any codec).
    #[test]
    fn record_sets(set in record_set()) {
        check_exact("RecordSet", &set, 25, |s, _| theirs(s), |t, _| ours(t));
    }

    #[test]
    fn produce_requests(request in produce_request()) {
        check_exact("ProduceRequest", &request, 25, |r, _| theirs(r), |t, _| ours(t));
        // An older layout (SmartModule invocations lose name and look-back): decoders agree.
        check("ProduceRequest", &request, 7, |r, _| theirs(r), |t, _| ours(t));
    }

    #[test]
    fn produce_responses(response in produce_response()) {
        check_exact("ProduceResponse", &response, 25, |r, _| theirs(r), |t, _| ours(t));
        check("ProduceResponse", &response, 1, |r, _| theirs(r), |t, _| ours(t));
    }

    #[test]
    fn stream_fetch_responses(response in stream_fetch_response()) {
        check_exact("StreamFetchResponse", &response, 25, |r, _| theirs(r), |t, _| ours(t));
        check("StreamFetchResponse", &response, 10, |r, _| theirs(r), |t, _| ours(t));
    }

    #[test]
    fn list_responses(response in list_response()) {
        check_exact("ListResponse", &response, 19, conv::list_response_to_theirs, conv::list_response_to_ours);
        check("ListResponse", &response, 13, conv::list_response_to_theirs, conv::list_response_to_ours);
    }

    #[test]
    fn watch_responses(response in watch_response()) {
        check_exact("WatchResponse", &response, 19, conv::watch_response_to_theirs, conv::watch_response_to_ours);
        check("WatchResponse", &response, 14, conv::watch_response_to_theirs, conv::watch_response_to_ours);
    }

    #[test]
    fn create_topic_requests(spec in topic_spec(), name in text(), dry_run in any::<bool>(), timeout in proptest::option::of(any::<u32>())) {
        let request = fluvio_wire::sc::CreateRequest {
            common: fluvio_wire::sc::CommonCreateRequest { name, dry_run, timeout },
            object: fluvio_wire::sc::CreateObject::Topic(spec),
        };
        check_exact("CreateRequest", &request, 19, conv::create_to_theirs, conv::create_to_ours);
        check("CreateRequest", &request, 11, conv::create_to_theirs, conv::create_to_ours);
    }
}
