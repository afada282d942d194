//! Produce (key 0): validate and append each partition entry, answering one result per entry
//! in request order, as the official SPU does.

use std::sync::Arc;

use bytes::BytesMut;
use fluvio_log::LogError;
use fluvio_wire::Compression;
use fluvio_wire::error_code::{ErrorCode, ReplicaKey, RequestKind};
use fluvio_wire::sc::topic::CompressionAlgorithm;
use fluvio_wire::spu::{
    Isolation, PartitionProduceData, PartitionProduceResponse, ProduceRequest, ProduceResponse, TopicProduceResponse,
};
use tokio_util::sync::CancellationToken;
use tracing::warn;

use super::SpuState;
use super::replica::{AppendError, Appended, CommitOutcome, Replica};
use crate::storage;

/// An appended entry whose acknowledgement must wait for the high watermark.
pub(crate) struct CommitWait {
    topic_index: usize,
    partition_index: usize,
    replica: Arc<Replica>,
    offset: i64,
    term: CancellationToken,
}

/// Appends every entry of `request`. Returns the response, plus the entries that still have to
/// be committed before it may be sent (ReadCommitted only).
pub(crate) fn append_request(spu: &SpuState, request: &ProduceRequest) -> (ProduceResponse, Vec<CommitWait>) {
    let mut waits = Vec::new();
    let mut responses = Vec::with_capacity(request.topics.len());
    for (topic_index, topic) in request.topics.iter().enumerate() {
        let mut partitions = Vec::with_capacity(topic.partitions.len());
        for (partition_index, entry) in topic.partitions.iter().enumerate() {
            let (error_code, base_offset) = if !request.smartmodules.is_empty() {
                (ErrorCode::Other("smartmodules are not supported by fluvio-local".into()), 0)
            } else {
                match append_entry(spu, &topic.name, entry) {
                    Ok(Some((replica, appended))) => {
                        if request.isolation.0 == Isolation::ReadCommitted {
                            waits.push(CommitWait {
                                topic_index,
                                partition_index,
                                replica,
                                offset: appended.commit_offset,
                                term: appended.term,
                            });
                        }
                        (ErrorCode::None, appended.base_offset)
                    }
                    Ok(None) => (ErrorCode::None, 0),
                    Err(code) => (code, -1),
                }
            };
            partitions.push(PartitionProduceResponse {
                partition_index: entry.partition_index,
                error_code,
                base_offset,
                log_append_time_ms: 0,
                log_start_offset: 0,
            });
        }
        responses.push(TopicProduceResponse { name: topic.name.clone(), partitions });
    }
    (ProduceResponse { responses, throttle_time_ms: 0 }, waits)
}

/// Waits for every pending entry to be committed, marking the ones that time out or whose
/// leadership ended first (the client then retries on the new leader, which recognizes a
/// batch it already holds).
pub(crate) async fn await_commits(response: &mut ProduceResponse, waits: Vec<CommitWait>, timeout_ms: i32) {
    let timeout = std::time::Duration::from_millis(timeout_ms.max(0) as u64);
    let deadline = tokio::time::Instant::now() + timeout;
    for wait in waits {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let error_code = match wait.replica.wait_committed(wait.offset, left, &wait.term).await {
            CommitOutcome::Committed => continue,
            CommitOutcome::TimedOut => {
                ErrorCode::RequestTimedOut { timeout_ms: timeout_ms.max(0) as u64, kind: RequestKind::Produce }
            }
            CommitOutcome::NotLeader => ErrorCode::NotLeaderForPartition,
        };
        let entry = &mut response.responses[wait.topic_index].partitions[wait.partition_index];
        entry.error_code = error_code;
        entry.base_offset = -1;
    }
}

/// Validates and appends one entry. `Ok(None)` for an entry without records.
fn append_entry(
    spu: &SpuState,
    topic: &str,
    entry: &PartitionProduceData,
) -> Result<Option<(Arc<Replica>, Appended)>, ErrorCode> {
    let key = ReplicaKey::new(topic, entry.partition_index);
    let replica = spu.leader_replica(&key).ok_or_else(|| spu.refusal(&key))?;
    if entry.records.is_empty() {
        return Ok(None);
    }
    let batches = entry.records.batches().map_err(|err| ErrorCode::Other(format!("invalid record batch: {err}")))?;
    let bytes = entry.records.as_bytes();
    let mut encoded = Vec::with_capacity(batches.len());
    let mut position = 0;
    for batch in &batches {
        let len = batch.encoded_len();
        if len > spu.limits.max_batch_bytes || len as u64 > replica.config().segment_size {
            return Err(ErrorCode::MessageTooLarge);
        }
        let codec = batch.compression().map_err(|_| ErrorCode::CompressionError)?;
        if !compression_allowed(replica.config().compression, codec) {
            return Err(ErrorCode::CompressionError);
        }
        if !batch.crc_is_valid() {
            return Err(ErrorCode::Other("record batch CRC-32C does not match its content".into()));
        }
        batch
            .validate(spu.limits.max_decompressed)
            .map_err(|err| ErrorCode::Other(format!("invalid record batch: {err}")))?;
        encoded.push(BytesMut::from(&bytes[position..position + len]));
        position += len;
    }
    match replica.append_as_leader(encoded) {
        Ok(appended) => {
            spu.set_out_of_storage(&key, false);
            Ok(Some((replica, appended)))
        }
        Err(AppendError::NotLeader) => Err(ErrorCode::NotLeaderForPartition),
        Err(AppendError::OutOfOrderSequence(reason)) => Err(ErrorCode::out_of_order_sequence(reason)),
        Err(AppendError::InvalidBatch(message)) => Err(ErrorCode::Other(format!("invalid record batch: {message}"))),
        Err(AppendError::Log(err)) if storage::log_is_full(&err) => {
            // Nothing was stored (the log cuts what a failed write left). Not a generic storage
            // error: the client learns the partition is full, and its status shows it.
            spu.set_out_of_storage(&key, true);
            Err(ErrorCode::PartitionFull { replica_key: key })
        }
        Err(AppendError::Log(err)) => {
            warn!(replica = %key, %err, "append failed");
            Err(match err {
                LogError::BatchTooLarge { .. } => ErrorCode::MessageTooLarge,
                _ => ErrorCode::StorageError,
            })
        }
    }
}

/// Whether a topic with compression type `required` accepts a batch compressed with `codec`.
pub(crate) fn compression_allowed(required: CompressionAlgorithm, codec: Compression) -> bool {
    matches!(
        (required, codec),
        (CompressionAlgorithm::Any, _)
            | (CompressionAlgorithm::None, Compression::None)
            | (CompressionAlgorithm::Gzip, Compression::Gzip)
            | (CompressionAlgorithm::Snappy, Compression::Snappy)
            | (CompressionAlgorithm::Lz4, Compression::Lz4)
            | (CompressionAlgorithm::Zstd, Compression::Zstd)
    )
}
