//! The SPU-to-SPU replication API spoken on SPUs' private endpoints by `fluvio-local`.
//!
//! This is not part of Fluvio's public protocol (the official SPUs' private API is internal
//! to them and clients never see it); it uses the same framing and request header so that the
//! servers' connection plumbing, limits and robustness tests apply unchanged. Keys live in a
//! range no public API uses.
//!
//! A follower replicates by pulling: it sends [`FollowerFetchRequest`]s carrying its log end
//! offset, which doubles as its acknowledgement of everything below it; the leader answers with
//! whole batches (long-polling when there is nothing new) and its high watermark. Before
//! fetching, a follower that may hold a divergent tail (it led or followed an older leader)
//! asks [`EpochEndOffsetRequest`] where its latest leader epoch ends on the current leader, and
//! truncates there. A follower whose log ends below the leader's log start (retention deleted
//! the records it lacks while it was away) is answered [`ReplicationError::OffsetEvicted`] with
//! the leader's log start, and restarts its log there.

use crate::record::RecordSet;
use crate::{wire_request, wire_struct, wire_unit_enum};

/// Replication API keys.
pub mod keys {
    /// FollowerFetch.
    pub const FOLLOWER_FETCH: u16 = 6001;
    /// EpochEndOffset.
    pub const EPOCH_END_OFFSET: u16 = 6002;
}

wire_unit_enum! {
    /// Outcome of a replication request.
    pub enum ReplicationError: u8 {
        /// Success.
        #[default]
        None = 0,
        /// The receiving SPU does not lead the partition (any more).
        NotLeader = 1,
        /// The requester's leader epoch is older than the leader's: it missed an election and
        /// must wait for its new assignment.
        FencedEpoch = 2,
        /// The requester's leader epoch is newer than the leader's: the leader has not applied
        /// its own assignment yet; retry shortly.
        UnknownEpoch = 3,
        /// The requester is not a replica of the partition.
        UnknownReplica = 4,
        /// The fetch offset is past the leader's log end: the follower must truncate first.
        OffsetOutOfRange = 5,
        /// The leader could not read its log.
        StorageError = 6,
        /// The fetch offset is below the leader's log start offset: retention deleted those
        /// records on the leader. The answer's `log_start_offset` is where the leader's log
        /// starts now; a follower whose log ends below it discards its log and restarts it
        /// empty there (it cannot have anything the leader still holds, and the leader can
        /// never send what it lacks).
        OffsetEvicted = 7,
        /// The leader's stored batch at the fetch offset is damaged (its CRC-32C or header
        /// does not check out): it is not sent.
        CorruptData = 8,
    }
}

wire_struct! {
    /// A follower's pull (key 6001, v0).
    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    pub struct FollowerFetchRequest {
        /// Topic.
        pub topic: String,
        /// Partition.
        pub partition: u32,
        /// SPU id of the follower.
        pub follower: i32,
        /// The leader epoch the follower was assigned.
        pub leader_epoch: i32,
        /// The follower's log end offset: it holds every record below it.
        pub fetch_offset: i64,
        /// The follower's high watermark, for the leader's status report.
        pub follower_hw: i64,
        /// Soft limit of the answer's records (at least one whole batch is sent).
        pub max_bytes: i32,
        /// How long the leader may hold the request when there is nothing new.
        pub max_wait_ms: u32,
    }
}

wire_request!(FollowerFetchRequest: key keys::FOLLOWER_FETCH, versions 0..=0 => FollowerFetchResponse);

wire_struct! {
    /// The leader's answer to a [`FollowerFetchRequest`].
    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    pub struct FollowerFetchResponse {
        /// Outcome; on an error there are no records.
        pub error: ReplicationError,
        /// The leader's epoch.
        pub leader_epoch: i32,
        /// The leader's high watermark.
        pub high_watermark: i64,
        /// The leader's log start offset (also on errors; with
        /// [`ReplicationError::OffsetEvicted`] it is where the follower must restart).
        pub log_start_offset: i64,
        /// The leader's log end offset.
        pub log_end_offset: i64,
        /// Whole batches starting at the fetch offset, verbatim from the leader's log.
        pub records: RecordSet,
    }
}

wire_struct! {
    /// Where does `requested_epoch` end in the leader's log? (key 6002, v0)
    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    pub struct EpochEndOffsetRequest {
        /// Topic.
        pub topic: String,
        /// Partition.
        pub partition: u32,
        /// SPU id of the follower.
        pub follower: i32,
        /// The leader epoch the follower was assigned.
        pub leader_epoch: i32,
        /// The latest epoch in the follower's own history.
        pub requested_epoch: i32,
    }
}

wire_request!(EpochEndOffsetRequest: key keys::EPOCH_END_OFFSET, versions 0..=0 => EpochEndOffsetResponse);

wire_struct! {
    /// The leader's answer to an [`EpochEndOffsetRequest`].
    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    pub struct EpochEndOffsetResponse {
        /// Outcome.
        pub error: ReplicationError,
        /// The largest epoch in the leader's history that is not after the requested one
        /// (-1 when the leader has none).
        pub epoch: i32,
        /// The first offset after `epoch` in the leader's log (its log end offset when `epoch`
        /// is its current epoch).
        pub end_offset: i64,
    }
}

#[cfg(test)]
mod tests {
    use bytes::{Bytes, BytesMut};

    use super::*;
    use crate::Decoder;
    use crate::api::{Request, RequestHeader, encode_request_frame, encode_response_frame};

    fn round_trip_request<R: Request + PartialEq + Clone>(request: &R) {
        let header =
            RequestHeader { api_key: R::API_KEY, api_version: 0, correlation_id: 7, client_id: "spu-5002".into() };
        let mut frame = BytesMut::new();
        encode_request_frame(&header, request, &mut frame).unwrap();
        let mut body = Bytes::from(frame.split_off(4));
        let decoded_header = RequestHeader::decode_from_frame(&mut body).unwrap();
        assert_eq!(decoded_header, header);
        assert_eq!(&R::decode_exact(body, 0).unwrap(), request);
    }

    #[test]
    fn requests_round_trip() {
        round_trip_request(&FollowerFetchRequest {
            topic: "t".into(),
            partition: 3,
            follower: 5002,
            leader_epoch: 4,
            fetch_offset: 100,
            follower_hw: 90,
            max_bytes: 1 << 20,
            max_wait_ms: 500,
        });
        round_trip_request(&EpochEndOffsetRequest {
            topic: "t".into(),
            partition: 0,
            follower: 5003,
            leader_epoch: 2,
            requested_epoch: 1,
        });
    }

    #[test]
    fn responses_round_trip() {
        let response = FollowerFetchResponse {
            error: ReplicationError::None,
            leader_epoch: 2,
            high_watermark: 10,
            log_start_offset: 0,
            log_end_offset: 12,
            records: RecordSet::default(),
        };
        let mut frame = BytesMut::new();
        encode_response_frame(9, &response, 0, &mut frame).unwrap();
        let mut body = Bytes::from(frame.split_off(4));
        assert_eq!(crate::api::take_correlation_id(&mut body).unwrap(), 9);
        assert_eq!(FollowerFetchResponse::decode_exact(body, 0).unwrap(), response);

        let evicted = FollowerFetchResponse {
            error: ReplicationError::OffsetEvicted,
            leader_epoch: 0,
            high_watermark: 200,
            log_start_offset: 120,
            log_end_offset: 200,
            records: RecordSet::default(),
        };
        let mut frame = BytesMut::new();
        encode_response_frame(3, &evicted, 0, &mut frame).unwrap();
        let mut body = Bytes::from(frame.split_off(4));
        crate::api::take_correlation_id(&mut body).unwrap();
        assert_eq!(FollowerFetchResponse::decode_exact(body, 0).unwrap(), evicted);

        let response = EpochEndOffsetResponse { error: ReplicationError::FencedEpoch, epoch: -1, end_offset: 0 };
        let mut frame = BytesMut::new();
        encode_response_frame(1, &response, 0, &mut frame).unwrap();
        let mut body = Bytes::from(frame.split_off(4));
        crate::api::take_correlation_id(&mut body).unwrap();
        assert_eq!(EpochEndOffsetResponse::decode_exact(body, 0).unwrap(), response);
    }

    #[test]
    fn unknown_error_tags_are_refused() {
        let bytes = Bytes::from_static(&[42]);
        assert!(ReplicationError::decode_exact(bytes, 0).is_err());
        assert!(ReplicationError::decode_exact(Bytes::from_static(&[9]), 0).is_err(), "the first unused tag");
    }

    #[test]
    fn error_tags_are_stable() {
        // Both sides of a replication link may run different builds during an upgrade.
        let tags: Vec<(ReplicationError, u8)> = vec![
            (ReplicationError::None, 0),
            (ReplicationError::NotLeader, 1),
            (ReplicationError::FencedEpoch, 2),
            (ReplicationError::UnknownEpoch, 3),
            (ReplicationError::UnknownReplica, 4),
            (ReplicationError::OffsetOutOfRange, 5),
            (ReplicationError::StorageError, 6),
            (ReplicationError::OffsetEvicted, 7),
            (ReplicationError::CorruptData, 8),
        ];
        for (error, tag) in tags {
            assert_eq!(error.tag(), tag);
            assert_eq!(ReplicationError::decode_exact(Bytes::copy_from_slice(&[tag]), 0).unwrap(), error);
        }
    }
}
