//! A follower's replication loop for one term: connect to the leader's private endpoint, cut
//! any tail that diverged from the leader (by leader epoch), then pull batches and append them
//! verbatim until the term ends. When the leader answers that the fetch offset is below its log
//! start (retention deleted what this follower lacks), the follower restarts its log empty at
//! the leader's log start and goes on pulling from there.

use std::sync::Arc;
use std::time::Duration;

use fluvio_wire::replication::{EpochEndOffsetRequest, FollowerFetchRequest, ReplicationError};
use tokio::sync::watch;
use tracing::{debug, warn};

use super::peer::{Peer, PeerError};
use super::replica::{FollowerAppendError, FollowerJob, Replica};

/// Bytes a follower asks for per fetch.
const FETCH_MAX_BYTES: i32 = 1 << 20;
/// How long the leader may hold a fetch with nothing new.
const FETCH_MAX_WAIT_MS: u32 = 500;
/// Longest wait for an answer (a long-poll plus slack).
const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);
/// Back-off between failed sessions.
const FIRST_BACKOFF: Duration = Duration::from_millis(50);
const MAX_BACKOFF: Duration = Duration::from_secs(1);

#[derive(Debug, thiserror::Error)]
enum SessionError {
    #[error(transparent)]
    Leader(#[from] PeerError),
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
    let mut leader = Peer::connect(job.leader_private, spu).await?;
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
            .call(
                &EpochEndOffsetRequest {
                    topic: key.topic.clone(),
                    partition: key.partition,
                    follower: spu,
                    leader_epoch: job.epoch,
                    requested_epoch: requested,
                },
                ANSWER_TIMEOUT,
            )
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
            .call(
                &FollowerFetchRequest {
                    topic: key.topic.clone(),
                    partition: key.partition,
                    follower: spu,
                    leader_epoch: job.epoch,
                    fetch_offset: offsets.leo,
                    follower_hw: offsets.hw,
                    max_bytes: FETCH_MAX_BYTES,
                    max_wait_ms: FETCH_MAX_WAIT_MS,
                },
                ANSWER_TIMEOUT,
            )
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
