//! The consumer-offset requests of an SPU (§4.4), with the semantics of Fluvio's SPU:
//!
//! * UpdateConsumerOffset (1006) names a stream session of its connection: the offset is
//!   stored for that session's consumer id, topic and partition. An unknown session is
//!   `FetchSessionNotFound`, a session opened without a consumer id `Other("stream without
//!   consumer id")`. The SPU that receives it stores the offset, or forwards it to the leader
//!   of `consumer-offset` over the private endpoints, retrying while that partition elects a
//!   leader. The answer waits until the offset is committed.
//! * DeleteConsumerOffset (1007) and FetchConsumerOffsets (1008) are answered by the leader of
//!   `consumer-offset` only (else `PartitionNotLeader`), as the official client sends them
//!   there.
//! * FetchOffsets at exactly v23 may carry a consumer id (an older client's way): the start
//!   offset it answers is then the consumer's stored offset + 1.
//!
//! Forwarded changes go through one queue per SPU, in the order they arrived, so that a later
//! commit of a consumer never lands before an earlier one.

use std::sync::Arc;
use std::time::Duration;

use fluvio_wire::consumer_offset::{
    ForwardConsumerOffsetRequest, ForwardConsumerOffsetResponse, LookupConsumerOffsetRequest,
    LookupConsumerOffsetResponse, OffsetKey, consumer_offset_replica,
};
use fluvio_wire::error_code::{ErrorCode, ReplicaKey};
use fluvio_wire::spu::FetchOffsetsResponse;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::debug;

use super::SpuState;
use super::peer::Peer;

/// How long a consumer-offset change may take, forwarding and commitment included, before it
/// is answered with a timeout.
pub(crate) const CHANGE_DEADLINE: Duration = Duration::from_secs(20);
/// Longest wait for another SPU's answer to one forwarded request.
const PEER_ANSWER_TIMEOUT: Duration = Duration::from_secs(25);
/// Back-off between attempts to reach the leader of `consumer-offset`.
const FIRST_BACKOFF: Duration = Duration::from_millis(20);
const MAX_BACKOFF: Duration = Duration::from_millis(500);

/// The stream session a connection opened: what UpdateConsumerOffset acts on.
#[derive(Debug, Clone)]
pub(crate) struct StreamOwner {
    /// The partition it reads.
    pub replica: ReplicaKey,
    /// The consumer id it was opened with.
    pub consumer_id: Option<String>,
}

/// Work for the SPU's forwarding queue.
pub(crate) enum Job {
    Store { request: ForwardConsumerOffsetRequest, reply: oneshot::Sender<ErrorCode> },
    Lookup { request: LookupConsumerOffsetRequest, reply: oneshot::Sender<Result<Option<i64>, ErrorCode>> },
}

/// The sending end of an SPU's forwarding queue.
pub(crate) type Forwarder = mpsc::UnboundedSender<Job>;

/// A new forwarding queue, to be served by [`forward_loop`].
pub(crate) fn forwarder() -> (Forwarder, mpsc::UnboundedReceiver<Job>) {
    mpsc::unbounded_channel()
}

/// UpdateConsumerOffset for a session owned by `owner`: the error code once the offset is
/// committed (or could not be). Queued at once, so commits keep their order.
pub(crate) fn update(
    spu: &SpuState,
    owner: Option<&StreamOwner>,
    offset: i64,
) -> Result<oneshot::Receiver<ErrorCode>, ErrorCode> {
    let owner = owner.ok_or(ErrorCode::FetchSessionNotFound)?;
    let consumer_id =
        owner.consumer_id.clone().ok_or_else(|| ErrorCode::Other("stream without consumer id".to_string()))?;
    let request = ForwardConsumerOffsetRequest { replica_id: owner.replica.clone(), consumer_id, offset };
    let (reply, answer) = oneshot::channel();
    spu.forwarder.send(Job::Store { request, reply }).map_err(|_| ErrorCode::SpuOffline)?;
    Ok(answer)
}

/// The stored offset of `consumer_id` for `replica`, from wherever `consumer-offset` is led.
pub(crate) async fn lookup(spu: &SpuState, replica: ReplicaKey, consumer_id: String) -> Result<Option<i64>, ErrorCode> {
    let (reply, answer) = oneshot::channel();
    let request = LookupConsumerOffsetRequest { replica_id: replica, consumer_id };
    spu.forwarder.send(Job::Lookup { request, reply }).map_err(|_| ErrorCode::SpuOffline)?;
    answer.await.unwrap_or(Err(ErrorCode::SpuOffline))
}

/// FetchOffsets v23 with a consumer id: each partition served here starts at the consumer's
/// stored offset + 1, when it has one.
pub(crate) async fn apply_consumer_offsets(spu: &SpuState, response: &mut FetchOffsetsResponse, consumer_id: &str) {
    for topic in &mut response.topics {
        for partition in &mut topic.partitions {
            if !partition.error_code.is_ok() {
                continue;
            }
            let replica = ReplicaKey::new(topic.name.clone(), partition.partition_index);
            match lookup(spu, replica, consumer_id.to_string()).await {
                Ok(Some(offset)) => partition.start_offset = offset + 1,
                Ok(None) => {}
                Err(code) => partition.error_code = code,
            }
        }
    }
}

/// A forwarded change, on the private endpoint: stored if this SPU leads `consumer-offset`.
pub(crate) async fn handle_forwarded(
    spu: &SpuState,
    request: ForwardConsumerOffsetRequest,
) -> ForwardConsumerOffsetResponse {
    let key = OffsetKey { replica_id: request.replica_id, consumer_id: request.consumer_id };
    let error_code = match spu.offsets.update(spu, key, request.offset) {
        Ok(pending) => pending.committed(CHANGE_DEADLINE).await.err().unwrap_or(ErrorCode::None),
        Err(code) => code,
    };
    ForwardConsumerOffsetResponse { error_code }
}

/// A forwarded lookup, on the private endpoint.
pub(crate) fn handle_lookup(spu: &SpuState, request: LookupConsumerOffsetRequest) -> LookupConsumerOffsetResponse {
    let key = OffsetKey { replica_id: request.replica_id, consumer_id: request.consumer_id };
    match spu.offsets.get(spu, &key) {
        Ok(offset) => LookupConsumerOffsetResponse { error_code: ErrorCode::None, offset },
        Err(error_code) => LookupConsumerOffsetResponse { error_code, offset: None },
    }
}

/// Serves the forwarding queue until `shutdown`: each job is done here when this SPU leads
/// `consumer-offset`, else sent to the leader; both are retried (up to [`CHANGE_DEADLINE`])
/// while the leader is unknown, unreachable or not leading yet.
pub(crate) async fn forward_loop(
    spu: Arc<SpuState>,
    mut jobs: mpsc::UnboundedReceiver<Job>,
    shutdown: CancellationToken,
) {
    let mut leader: Option<LeaderConnection> = None;
    loop {
        let job = tokio::select! {
            job = jobs.recv() => job,
            _ = shutdown.cancelled() => return,
        };
        let Some(job) = job else { return };
        let deadline = Instant::now() + CHANGE_DEADLINE;
        match job {
            Job::Store { request, reply } => {
                let outcome = tokio::select! {
                    outcome = store(&spu, &mut leader, request, deadline) => outcome,
                    _ = shutdown.cancelled() => return,
                };
                match outcome {
                    Stored::Answered(code) => {
                        let _ = reply.send(code);
                    }
                    // Appended here: the commitment is awaited aside, so the queue moves on.
                    Stored::Pending(pending) => {
                        spu.tasks.spawn(async move {
                            let left = deadline.saturating_duration_since(Instant::now());
                            let _ = reply.send(pending.committed(left).await.err().unwrap_or(ErrorCode::None));
                        });
                    }
                }
            }
            Job::Lookup { request, reply } => {
                let outcome = tokio::select! {
                    outcome = find(&spu, &mut leader, request, deadline) => outcome,
                    _ = shutdown.cancelled() => return,
                };
                let _ = reply.send(outcome);
            }
        }
    }
}

/// An open connection to the leader of `consumer-offset`.
struct LeaderConnection {
    spu: i32,
    endpoint: (String, u16),
    peer: Peer,
}

enum Stored {
    Answered(ErrorCode),
    Pending(super::offsets::PendingCommit),
}

/// Where `consumer-offset` is led, as far as this SPU knows.
enum Leader {
    Here,
    There(i32, (String, u16)),
    Unknown,
}

fn leader_of_offsets(spu: &SpuState) -> Leader {
    let key = consumer_offset_replica();
    if spu.leader_replica(&key).is_some() {
        return Leader::Here;
    }
    match spu.view.borrow().leader_endpoint(&key) {
        Some((id, _)) if id == spu.id => Leader::Unknown, // assigned here, not applied yet
        Some((id, endpoint)) => Leader::There(id, endpoint),
        None => Leader::Unknown,
    }
}

/// Whether a refusal means "ask again later": the leadership is moving.
fn retryable(code: &ErrorCode) -> bool {
    matches!(code, ErrorCode::PartitionNotLeader | ErrorCode::NotLeaderForPartition | ErrorCode::SpuOffline)
}

async fn store(
    spu: &SpuState,
    leader: &mut Option<LeaderConnection>,
    request: ForwardConsumerOffsetRequest,
    deadline: Instant,
) -> Stored {
    let mut backoff = FIRST_BACKOFF;
    loop {
        let refusal = match leader_of_offsets(spu) {
            Leader::Here => {
                let key =
                    OffsetKey { replica_id: request.replica_id.clone(), consumer_id: request.consumer_id.clone() };
                match spu.offsets.update(spu, key, request.offset) {
                    Ok(pending) => return Stored::Pending(pending),
                    Err(code) => code,
                }
            }
            Leader::There(id, endpoint) => match call(spu, leader, id, endpoint, &request).await {
                Ok(response) => response.error_code,
                Err(code) => code,
            },
            Leader::Unknown => ErrorCode::PartitionNotLeader,
        };
        if !retryable(&refusal) {
            return Stored::Answered(refusal);
        }
        if !wait_to_retry(spu, &mut backoff, deadline).await {
            return Stored::Answered(refusal);
        }
    }
}

async fn find(
    spu: &SpuState,
    leader: &mut Option<LeaderConnection>,
    request: LookupConsumerOffsetRequest,
    deadline: Instant,
) -> Result<Option<i64>, ErrorCode> {
    let mut backoff = FIRST_BACKOFF;
    loop {
        let refusal = match leader_of_offsets(spu) {
            Leader::Here => return lookup_result(handle_lookup(spu, request)),
            Leader::There(id, endpoint) => match call(spu, leader, id, endpoint, &request).await {
                Ok(response) => match lookup_result(response) {
                    Ok(offset) => return Ok(offset),
                    Err(code) => code,
                },
                Err(code) => code,
            },
            Leader::Unknown => ErrorCode::PartitionNotLeader,
        };
        if !retryable(&refusal) || !wait_to_retry(spu, &mut backoff, deadline).await {
            return Err(refusal);
        }
    }
}

fn lookup_result(response: LookupConsumerOffsetResponse) -> Result<Option<i64>, ErrorCode> {
    if response.error_code.is_ok() { Ok(response.offset) } else { Err(response.error_code) }
}

/// Sends `request` to SPU `id`, reconnecting when the leader moved or the connection failed.
async fn call<R: fluvio_wire::Request>(
    spu: &SpuState,
    leader: &mut Option<LeaderConnection>,
    id: i32,
    endpoint: (String, u16),
    request: &R,
) -> Result<R::Response, ErrorCode> {
    let reusable = leader.as_ref().is_some_and(|c| c.spu == id && c.endpoint == endpoint);
    if !reusable {
        *leader = None;
        let peer = Peer::connect((endpoint.0.as_str(), endpoint.1), spu.id).await.map_err(|err| {
            debug!(spu = spu.id, leader = id, %err, "cannot reach the leader of consumer-offset");
            ErrorCode::SpuOffline
        })?;
        *leader = Some(LeaderConnection { spu: id, endpoint, peer });
    }
    let Some(connection) = leader.as_mut() else { return Err(ErrorCode::SpuOffline) };
    match connection.peer.call(request, PEER_ANSWER_TIMEOUT).await {
        Ok(response) => Ok(response),
        Err(err) => {
            debug!(spu = spu.id, leader = id, %err, "forwarding to the leader of consumer-offset failed");
            *leader = None;
            Err(ErrorCode::SpuOffline)
        }
    }
}

/// Waits before the next attempt (less if the cluster view changes meanwhile); false once
/// `deadline` has passed.
async fn wait_to_retry(spu: &SpuState, backoff: &mut Duration, deadline: Instant) -> bool {
    let now = Instant::now();
    if now >= deadline {
        return false;
    }
    let mut view = spu.view.clone();
    view.mark_unchanged();
    let pause = (*backoff).min(deadline - now);
    tokio::select! {
        _ = tokio::time::sleep(pause) => {}
        _ = view.changed() => {}
    }
    *backoff = (*backoff * 2).min(MAX_BACKOFF);
    Instant::now() < deadline
}

/// Deletes the offsets of deleted partitions whenever the cluster view changes, while this SPU
/// leads `consumer-offset`.
pub(crate) async fn purge_loop(spu: Arc<SpuState>, shutdown: CancellationToken) {
    let mut view = spu.view.clone();
    loop {
        tokio::select! {
            changed = view.changed() => if changed.is_err() { return },
            _ = shutdown.cancelled() => return,
        }
        view.mark_unchanged();
        spu.offsets.purge_deleted_partitions(&spu);
    }
}
