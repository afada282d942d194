//! A follower's replication loop for one term: connect to the leader's private endpoint, cut
//! any tail that diverged from the leader (by leader epoch), then pull batches and append them
//! verbatim until the term ends. When the leader answers that the fetch offset is below its log
//! start (retention deleted what this follower lacks), the follower restarts its log empty at
//! the leader's log start and goes on pulling from there.

use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use fluvio_wire::api::{RequestHeader, encode_request_frame, take_correlation_id};
use fluvio_wire::replication::{EpochEndOffsetRequest, FollowerFetchRequest, ReplicationError};
use fluvio_wire::{Decoder, FrameDecoder, Request};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tracing::{debug, warn};

use super::replica::{FollowerAppendError, FollowerJob, Replica};

/// Bytes a follower asks for per fetch.
const FETCH_MAX_BYTES: i32 = 1 << 20;
/// How long the leader may hold a fetch with nothing new.
const FETCH_MAX_WAIT_MS: u32 = 500;
/// Connecting to the leader.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// Longest wait for an answer (a long-poll plus slack).
const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);
/// Back-off between failed sessions.
const FIRST_BACKOFF: Duration = Duration::from_millis(50);
const MAX_BACKOFF: Duration = Duration::from_secs(1);

#[derive(Debug, thiserror::Error)]
enum SessionError {
    #[error("connection to the leader failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("the leader's answer could not be read: {0}")]
    Protocol(String),
    #[error("no answer from the leader in time")]
    Timeout,
    #[error("the leader refused: {0:?}")]
    Refused(ReplicationError),
    #[error(transparent)]
    Append(FollowerAppendError),
}

/// Replicates until `job`'s term ends or the replica is removed. While `paused` holds true
/// (a test hook simulating a slow follower) no fetch is sent.
pub(crate) async fn run(replica: Arc<Replica>, spu: i32, job: FollowerJob, mut paused: watch::Receiver<bool>) {
    let mut backoff = FIRST_BACKOFF;
    loop {
        let outcome = tokio::select! {
            outcome = session(&replica, spu, &job, &mut paused) => outcome,
            _ = job.token.cancelled() => return,
            _ = replica.removed().cancelled() => return,
        };
        match outcome {
            Ok(()) => return,
            Err(SessionError::Append(FollowerAppendError::TermEnded)) => return,
            Err(SessionError::Refused(ReplicationError::CorruptData)) => {
                warn!(
                    replica = %replica.key(),
                    leader = job.leader,
                    epoch = job.epoch,
                    leo = replica.offsets().leo,
                    "the leader's copy of the next batch is damaged; this replica cannot copy past it"
                );
            }
            Err(err) => {
                debug!(replica = %replica.key(), leader = job.leader, epoch = job.epoch, %err, "replication session ended");
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(backoff) => {}
            _ = job.token.cancelled() => return,
            _ = replica.removed().cancelled() => return,
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// One connection's worth of replication. Returns `Ok` only when the term ended.
async fn session(
    replica: &Replica,
    spu: i32,
    job: &FollowerJob,
    paused: &mut watch::Receiver<bool>,
) -> Result<(), SessionError> {
    let stream = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(job.leader_private))
        .await
        .map_err(|_| SessionError::Timeout)??;
    stream.set_nodelay(true)?;
    let mut leader = Peer { stream, buffer: BytesMut::new(), frames: FrameDecoder::new(64 << 20), next_id: 1, spu };
    let key = replica.key().clone();

    // A reset that an I/O error interrupted in an earlier session: the log refuses everything
    // else until it is done.
    if let Some(offset) = replica.interrupted_reset() {
        replica.reset_as_follower(job.epoch, offset).map_err(SessionError::Append)?;
    }

    // A damaged batch found by a read while this replica led: drop it and what follows, and
    // copy them again from the leader.
    if let Some(offset) = replica.damaged_at() {
        warn!(replica = %key, leader = job.leader, offset, "dropping the damaged batch and what follows to copy them again");
        replica.truncate_as_follower(job.epoch, offset).map_err(SessionError::Append)?;
    }

    // Cut what diverged: ask where our latest epoch ends on the leader.
    loop {
        let requested = replica.latest_epoch().unwrap_or(-1);
        let answer = leader
            .call(&EpochEndOffsetRequest {
                topic: key.topic.clone(),
                partition: key.partition,
                follower: spu,
                leader_epoch: job.epoch,
                requested_epoch: requested,
            })
            .await?;
        match answer.error {
            ReplicationError::None => {}
            ReplicationError::UnknownEpoch => {
                tokio::time::sleep(FIRST_BACKOFF).await;
                continue;
            }
            other => return Err(SessionError::Refused(other)),
        }
        let mut cut = answer.end_offset;
        if answer.epoch < requested {
            // The leader never saw our later epochs: our records from them are not on the
            // leader. Keep at most what we hold of the epoch the leader knows.
            cut = cut.min(replica.own_epoch_end(answer.epoch).end_offset);
        }
        if cut < replica.offsets().leo {
            replica.truncate_as_follower(job.epoch, cut).map_err(SessionError::Append)?;
        }
        break;
    }
    debug!(replica = %key, leader = job.leader, epoch = job.epoch, leo = replica.offsets().leo, "replicating");

    loop {
        if paused.wait_for(|paused| !paused).await.is_err() {
            return Ok(()); // the SPU is going away
        }
        let offsets = replica.offsets();
        let answer = leader
            .call(&FollowerFetchRequest {
                topic: key.topic.clone(),
                partition: key.partition,
                follower: spu,
                leader_epoch: job.epoch,
                fetch_offset: offsets.leo,
                follower_hw: offsets.hw,
                max_bytes: FETCH_MAX_BYTES,
                max_wait_ms: FETCH_MAX_WAIT_MS,
            })
            .await?;
        match answer.error {
            ReplicationError::None => replica
                .append_as_follower(job.epoch, answer.records.as_bytes(), answer.high_watermark)
                .map_err(SessionError::Append)?,
            ReplicationError::UnknownEpoch => tokio::time::sleep(FIRST_BACKOFF).await,
            ReplicationError::OffsetEvicted => {
                // Everything we hold is below the leader's log start and everything we lack
                // is gone from the leader: start over where its log starts.
                let restarted =
                    replica.reset_as_follower(job.epoch, answer.log_start_offset).map_err(SessionError::Append)?;
                if !restarted {
                    // Not below after all (the answer is inconsistent): do not spin on it.
                    return Err(SessionError::Refused(ReplicationError::OffsetEvicted));
                }
            }
            other => return Err(SessionError::Refused(other)),
        }
        if !replica.follows_in(job.epoch) {
            return Ok(());
        }
    }
}

/// A request/response connection to the leader's private endpoint.
struct Peer {
    stream: TcpStream,
    buffer: BytesMut,
    frames: FrameDecoder,
    next_id: i32,
    spu: i32,
}

impl Peer {
    async fn call<R: Request>(&mut self, request: &R) -> Result<R::Response, SessionError> {
        let correlation_id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1);
        let header = RequestHeader {
            api_key: R::API_KEY,
            api_version: R::MAX_VERSION,
            correlation_id,
            client_id: format!("spu-{}", self.spu),
        };
        let mut frame = BytesMut::new();
        encode_request_frame(&header, request, &mut frame).map_err(|e| SessionError::Protocol(e.to_string()))?;
        self.stream.write_all(&frame).await?;
        let mut body =
            tokio::time::timeout(ANSWER_TIMEOUT, self.read_frame()).await.map_err(|_| SessionError::Timeout)??;
        let answered = take_correlation_id(&mut body).map_err(|e| SessionError::Protocol(e.to_string()))?;
        if answered != correlation_id {
            return Err(SessionError::Protocol(format!("answer to {answered}, expected {correlation_id}")));
        }
        R::Response::decode_exact(body, R::MAX_VERSION).map_err(|e| SessionError::Protocol(e.to_string()))
    }

    async fn read_frame(&mut self) -> Result<bytes::Bytes, SessionError> {
        loop {
            if let Some(frame) =
                self.frames.decode(&mut self.buffer).map_err(|e| SessionError::Protocol(e.to_string()))?
            {
                return Ok(frame);
            }
            if self.stream.read_buf(&mut self.buffer).await? == 0 {
                return Err(SessionError::Io(std::io::ErrorKind::UnexpectedEof.into()));
            }
        }
    }
}
