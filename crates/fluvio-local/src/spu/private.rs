//! The SPU's private endpoint: serves its followers' FollowerFetch and EpochEndOffset requests
//! (`fluvio_wire::replication`), and the consumer-offset work other SPUs forward to the leader of
//! `consumer-offset` (`fluvio_wire::consumer_offset`, see `consumer_offsets.rs`). A follower uses one connection per replica and sends one
//! request at a time, so a fetch may wait (long-poll) inside the handler. A fetch below the log
//! start is answered `OffsetEvicted` with the log start, where the follower restarts.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use fluvio_log::LogError;
use fluvio_wire::api::{ApiVersionKey, ApiVersionsRequest, ApiVersionsResponse, RequestHeader};
use fluvio_wire::consumer_offset::{ForwardConsumerOffsetRequest, LookupConsumerOffsetRequest, private_keys};
use fluvio_wire::error_code::{ErrorCode, ReplicaKey};
use fluvio_wire::record::RecordSet;
use fluvio_wire::replication::{
    EpochEndOffsetRequest, EpochEndOffsetResponse, FollowerFetchRequest, FollowerFetchResponse, ReplicationError, keys,
};
use fluvio_wire::spu::Isolation;
use fluvio_wire::{Request, api};
use tracing::warn;

use super::SpuState;
use super::consumer_offsets;
use super::replica::Replica;
use crate::net::{self, CloseReason, FrameSink, RequestHandler};

/// Longest long-poll a follower may ask for.
const MAX_FETCH_WAIT: Duration = Duration::from_secs(5);

/// Distinguishes a follower's connections, so a stale close is not mistaken for the current one.
static NEXT_CONNECTION: AtomicU64 = AtomicU64::new(1);

/// One follower connection.
pub(crate) struct PrivateConnection {
    spu: Arc<SpuState>,
    id: u64,
    /// The replica and follower this connection fetched for, to report its close.
    serving: Option<(Arc<Replica>, i32)>,
}

impl PrivateConnection {
    pub(crate) fn new(spu: Arc<SpuState>) -> Self {
        Self { spu, id: NEXT_CONNECTION.fetch_add(1, Ordering::Relaxed), serving: None }
    }

    fn replica(&self, topic: &str, partition: u32) -> Option<Arc<Replica>> {
        self.spu.replicas.read().get(&ReplicaKey::new(topic, partition)).cloned()
    }

    async fn follower_fetch(&mut self, request: FollowerFetchRequest, sink: &FrameSink) -> FollowerFetchResponse {
        let refuse = |error| FollowerFetchResponse { error, ..Default::default() };
        let Some(replica) = self.replica(&request.topic, request.partition) else {
            return refuse(ReplicationError::NotLeader);
        };
        let fetched = replica.on_follower_fetch(
            request.follower,
            request.leader_epoch,
            request.fetch_offset,
            request.follower_hw,
            self.id,
        );
        let (term, reconsider_isr) = match fetched {
            Ok(accepted) => accepted,
            Err(error) => {
                let offsets = replica.offsets();
                return FollowerFetchResponse {
                    error,
                    high_watermark: offsets.hw,
                    log_start_offset: offsets.log_start,
                    log_end_offset: offsets.leo,
                    ..Default::default()
                };
            }
        };
        self.serving = Some((replica.clone(), request.follower));
        if reconsider_isr {
            self.spu.reconsider_isr(&replica);
        }

        // Nothing new (no record, and the follower knows the high watermark, which this very
        // fetch may have moved): hold the request until something changes (records or the high
        // watermark), the term ends, or the wait is over. A follower learns a new high
        // watermark at once, as a Fluvio leader pushes it to its followers: elected, it serves
        // committed records as committed.
        let mut changes = replica.subscribe();
        let now = *changes.borrow_and_update();
        if request.fetch_offset >= now.leo && request.follower_hw >= now.hw {
            let wait = Duration::from_millis(u64::from(request.max_wait_ms)).min(MAX_FETCH_WAIT);
            tokio::select! {
                _ = changes.changed() => {}
                _ = tokio::time::sleep(wait) => {}
                _ = term.cancelled() => return refuse(ReplicationError::NotLeader),
                _ = replica.removed().cancelled() => return refuse(ReplicationError::NotLeader),
                _ = sink.closed() => return refuse(ReplicationError::NotLeader),
            }
        }

        let offsets = replica.offsets();
        let records = if request.fetch_offset < offsets.leo {
            let max_bytes = request.max_bytes.max(1) as usize;
            match replica.read(request.fetch_offset, max_bytes, Isolation::ReadUncommitted) {
                Ok(slice) => slice.bytes,
                // Retention deleted the offset between the check and the read.
                Err(LogError::OffsetEvicted { next_available, .. }) => {
                    return FollowerFetchResponse {
                        error: ReplicationError::OffsetEvicted,
                        high_watermark: offsets.hw,
                        log_start_offset: next_available,
                        log_end_offset: offsets.leo,
                        ..Default::default()
                    };
                }
                Err(LogError::Corrupt { path, position, offset, defect }) => {
                    warn!(
                        replica = %replica.key(),
                        follower = request.follower,
                        file = %path.display(),
                        position,
                        offset,
                        %defect,
                        "a damaged stored batch was not sent to a follower"
                    );
                    return refuse(ReplicationError::CorruptData);
                }
                Err(err) => {
                    warn!(replica = %replica.key(), follower = request.follower, %err, "replication read failed");
                    return refuse(ReplicationError::StorageError);
                }
            }
        } else {
            Bytes::new()
        };
        replica.answered_follower(request.follower, offsets.leo);
        FollowerFetchResponse {
            error: ReplicationError::None,
            leader_epoch: request.leader_epoch,
            high_watermark: offsets.hw,
            log_start_offset: offsets.log_start,
            log_end_offset: offsets.leo,
            records: RecordSet::from_encoded(records),
        }
    }

    fn epoch_end_offset(&self, request: &EpochEndOffsetRequest) -> EpochEndOffsetResponse {
        let Some(replica) = self.replica(&request.topic, request.partition) else {
            return EpochEndOffsetResponse { error: ReplicationError::NotLeader, epoch: -1, end_offset: -1 };
        };
        match replica.epoch_end(request.leader_epoch, request.requested_epoch) {
            Ok(end) => {
                EpochEndOffsetResponse { error: ReplicationError::None, epoch: end.epoch, end_offset: end.end_offset }
            }
            Err(error) => EpochEndOffsetResponse { error, epoch: -1, end_offset: -1 },
        }
    }
}

impl Drop for PrivateConnection {
    fn drop(&mut self) {
        if let Some((replica, follower)) = self.serving.take()
            && replica.follower_disconnected(follower, self.id)
        {
            self.spu.reconsider_isr(&replica);
        }
    }
}

fn advertised_versions() -> Vec<ApiVersionKey> {
    vec![
        ApiVersionKey { api_key: keys::FOLLOWER_FETCH as i16, min_version: 0, max_version: 0 },
        ApiVersionKey { api_key: keys::EPOCH_END_OFFSET as i16, min_version: 0, max_version: 0 },
        ApiVersionKey { api_key: private_keys::FORWARD_CONSUMER_OFFSET as i16, min_version: 0, max_version: 0 },
        ApiVersionKey { api_key: private_keys::LOOKUP_CONSUMER_OFFSET as i16, min_version: 0, max_version: 0 },
    ]
}

impl RequestHandler for PrivateConnection {
    async fn handle(&mut self, header: RequestHeader, body: Bytes, sink: &FrameSink) -> Result<(), CloseReason> {
        match header.api_key {
            api::API_VERSIONS_KEY => {
                let _request: ApiVersionsRequest = net::decode_body(&header, body)?;
                let response = ApiVersionsResponse {
                    error_code: ErrorCode::None,
                    api_keys: advertised_versions(),
                    platform_version: "0.0.0".into(),
                };
                sink.respond(header.correlation_id, header.api_version, &response).await?;
            }
            keys::FOLLOWER_FETCH => {
                net::check_version(&header, FollowerFetchRequest::MIN_VERSION, FollowerFetchRequest::MAX_VERSION)?;
                let request: FollowerFetchRequest = net::decode_body(&header, body)?;
                let response = self.follower_fetch(request, sink).await;
                sink.respond(header.correlation_id, header.api_version, &response).await?;
            }
            keys::EPOCH_END_OFFSET => {
                net::check_version(&header, EpochEndOffsetRequest::MIN_VERSION, EpochEndOffsetRequest::MAX_VERSION)?;
                let request: EpochEndOffsetRequest = net::decode_body(&header, body)?;
                let response = self.epoch_end_offset(&request);
                sink.respond(header.correlation_id, header.api_version, &response).await?;
            }
            private_keys::FORWARD_CONSUMER_OFFSET => {
                net::check_version(
                    &header,
                    ForwardConsumerOffsetRequest::MIN_VERSION,
                    ForwardConsumerOffsetRequest::MAX_VERSION,
                )?;
                let request: ForwardConsumerOffsetRequest = net::decode_body(&header, body)?;
                let response = consumer_offsets::handle_forwarded(&self.spu, request).await;
                sink.respond(header.correlation_id, header.api_version, &response).await?;
            }
            private_keys::LOOKUP_CONSUMER_OFFSET => {
                net::check_version(
                    &header,
                    LookupConsumerOffsetRequest::MIN_VERSION,
                    LookupConsumerOffsetRequest::MAX_VERSION,
                )?;
                let request: LookupConsumerOffsetRequest = net::decode_body(&header, body)?;
                let response = consumer_offsets::handle_lookup(&self.spu, request);
                sink.respond(header.correlation_id, header.api_version, &response).await?;
            }
            other => return Err(CloseReason::UnknownApi(other)),
        }
        Ok(())
    }
}
