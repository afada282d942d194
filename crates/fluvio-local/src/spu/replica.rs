//! A partition replica hosted by an SPU: its log, its leader-epoch history, its producers'
//! deduplication state, the offsets readers wait on, and its role in the current leader epoch.
//!
//! As **leader** it appends produced batches (stamping its epoch into each batch header), tracks
//! how far each follower got (a follower's fetch offset is its log end offset, hence an
//! acknowledgement of everything below), keeps the in-sync replica set (ISR) with the SC, and
//! advances the high watermark to the smallest log end offset of the ISR. Under
//! [`ReplicationPolicy::Fluvio`] the ISR is every replica whose copy is intact (followers never
//! leave it for lagging or being down), so the high watermark waits for all of them; under
//! `InSync` followers leave it when they lag, and it advances only while the ISR has at least
//! `min_live_replicas` members. As **follower** it appends the leader's batches
//! verbatim (see `follower.rs`), after truncating any tail that diverged from the leader, and
//! restarts its log empty at the leader's log start when its log ends below it.
//!
//! Every leadership or followership term has a cancellation token: work tied to a term (stream
//! sessions, produce answers waiting for commitment, the follower's fetch loop) ends when the
//! term does, so nothing acts on a role the replica no longer has.

use std::collections::{BTreeSet, HashMap};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::{Bytes, BytesMut};
use fluvio_log::{EpochEnd, EpochHistory, LogConfig, LogError, PartitionLog, ReadSlice};
use fluvio_wire::error_code::ReplicaKey;
use fluvio_wire::record::BatchHeader;
use fluvio_wire::replication::ReplicationError;
use fluvio_wire::spu::Isolation;
use parking_lot::{Mutex, RwLock};
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use super::damage;
use super::producers::{BatchIdentity, ProducerState, Verdict};
use crate::control::{RecoveryLoss, ReplicaAssignment, ReplicaConfig, ReplicaReport};
use crate::policy::ReplicationPolicy;

/// Bytes at the end of the log whose batch headers rebuild the idempotent producers' state
/// when a replica is opened: retries come within seconds of the first attempt, so the batches
/// they repeat lie in the tail.
const PRODUCER_SCAN_BYTES: u64 = 64 << 20;
/// Name of the high-watermark checkpoint file in a replica directory.
const HW_FILE_NAME: &str = "high-watermark";

/// Replication settings shared by an SPU's replicas.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ReplicationSettings {
    /// The hosting SPU.
    pub spu: i32,
    /// In-sync replicas needed for the high watermark to advance (under `InSync`).
    pub min_live_replicas: usize,
    /// What the high watermark waits for, and whether lagging followers leave the ISR.
    pub policy: ReplicationPolicy,
    /// A follower that has not caught up for this long leaves the ISR (under `InSync`).
    pub replica_lag_time: Duration,
    /// How often the SPU tells the SC it is alive.
    pub heartbeat_interval: Duration,
}

/// Offsets of a replica, published to every stream that waits for data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Offsets {
    /// First offset still stored.
    pub log_start: i64,
    /// High watermark: records below it are committed.
    pub hw: i64,
    /// Log end offset: the offset the next record gets.
    pub leo: i64,
}

impl Offsets {
    /// The exclusive end of what a reader with `isolation` may see.
    pub(crate) fn visible_end(&self, isolation: Isolation) -> i64 {
        match isolation {
            Isolation::ReadCommitted => self.hw,
            Isolation::ReadUncommitted => self.leo,
        }
    }
}

/// How far a follower got, as its leader sees it.
#[derive(Debug, Clone, Copy)]
struct FollowerProgress {
    /// Its log end offset; `None` until its first fetch in this term.
    leo: Option<i64>,
    /// Its high watermark (for status reports).
    hw: i64,
    /// When it last held everything the leader had when answering its previous fetch.
    last_caught_up: Instant,
    /// The leader's log end offset when it last answered this follower.
    leo_at_last_answer: i64,
    /// The private connection it fetches on; `None` after that connection closed.
    connection: Option<u64>,
}

/// The leader's state for one epoch.
struct LeaderTerm {
    epoch: i32,
    replicas: Vec<i32>,
    /// In-sync replicas (leader included), as last accepted by the SC.
    isr: BTreeSet<i32>,
    followers: HashMap<i32, FollowerProgress>,
    token: CancellationToken,
    /// Serializes ISR proposals, so each is computed from the result of the previous one.
    isr_changes: Arc<tokio::sync::Mutex<()>>,
}

/// The follower's state for one epoch.
struct FollowerTerm {
    epoch: i32,
    leader: i32,
    leader_private: Option<SocketAddr>,
    token: CancellationToken,
}

enum Role {
    /// Opened, no assignment applied yet.
    Unassigned,
    Leader(LeaderTerm),
    Follower(FollowerTerm),
}

/// What a follower needs to run its fetch loop for one term.
#[derive(Debug, Clone)]
pub(crate) struct FollowerJob {
    /// The term's epoch.
    pub epoch: i32,
    /// The leader's SPU id.
    pub leader: i32,
    /// The leader's private endpoint.
    pub leader_private: SocketAddr,
    /// Cancelled when the term ends.
    pub token: CancellationToken,
}

/// The result of a leader append.
pub(crate) struct Appended {
    /// Base offset of the first batch (of its earlier copy when it was a retried duplicate;
    /// -1 when that copy's offset is no longer known).
    pub base_offset: i64,
    /// The offset the records are committed at once the high watermark reaches it.
    pub commit_offset: i64,
    /// The leadership term the append happened in.
    pub term: CancellationToken,
}

/// Why a leader append failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum AppendError {
    /// This replica does not lead the partition.
    #[error("not the leader")]
    NotLeader,
    /// A batch of an idempotent producer does not follow the last one stored for it
    /// (why, in words): nothing of the entry was stored.
    #[error("out of order: {0}")]
    OutOfOrderSequence(String),
    /// A batch header could not be read.
    #[error("invalid record batch: {0}")]
    InvalidBatch(String),
    /// The log refused the append.
    #[error(transparent)]
    Log(#[from] LogError),
}

/// How a wait for commitment ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CommitOutcome {
    /// The high watermark reached the offset.
    Committed,
    /// It did not within the timeout.
    TimedOut,
    /// The term ended first (leadership moved, or the replica was removed).
    NotLeader,
}

/// Why a follower append failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum FollowerAppendError {
    /// The replica is no longer a follower in this epoch.
    #[error("the follower term ended")]
    TermEnded,
    /// The leader sent batches that do not continue this log.
    #[error("batch at {got} does not continue the log at {expected}")]
    Discontinuous { expected: i64, got: i64 },
    /// A batch header could not be read.
    #[error("invalid record batch from the leader: {0}")]
    InvalidBatch(String),
    /// The log refused the append.
    #[error(transparent)]
    Log(#[from] LogError),
}

/// One partition replica.
pub(crate) struct Replica {
    key: ReplicaKey,
    dir: PathBuf,
    config: ReplicaConfig,
    settings: ReplicationSettings,
    log: RwLock<PartitionLog>,
    epochs: Mutex<EpochHistory>,
    producers: Mutex<ProducerState>,
    offsets: watch::Sender<Offsets>,
    removed: CancellationToken,
    role: Mutex<Role>,
    checkpointed_hw: Mutex<i64>,
    /// What the recovery of the log removed when it was opened.
    recovery_loss: Option<RecoveryLoss>,
    /// The offset of the lowest damaged batch a read found in this log: it is never served,
    /// and the replica drops it (and what follows) as soon as it follows another replica.
    damaged_at: Mutex<Option<i64>>,
}

impl Replica {
    /// Opens (recovering) or creates the replica's log under `spu_dir`.
    pub(crate) fn open(
        spu_dir: &Path,
        key: ReplicaKey,
        config: ReplicaConfig,
        settings: ReplicationSettings,
    ) -> Result<Arc<Self>, LogError> {
        let dir = replica_dir(spu_dir, &key);
        let checkpointed_hw = read_hw_checkpoint(&dir);
        let log = PartitionLog::open(&dir, log_config(&config))?;
        let recovery_loss = damage::log_recovery(&key, &dir, log.recovery_report(), checkpointed_hw);
        let leo = log.log_end_offset();
        let log_start = log.log_start_offset();
        let epochs = EpochHistory::open(&dir, leo)?;
        let hw = checkpointed_hw.unwrap_or(log_start).clamp(log_start, leo);
        let mut producers = ProducerState::default();
        if let Err(err) = log.visit_tail_headers(PRODUCER_SCAN_BYTES, |header| producers.record_header(header)) {
            warn!(replica = %key, %err, "could not read the log tail: idempotent producers known only up to the damage");
        }
        Ok(Arc::new(Self {
            key,
            dir,
            config,
            settings,
            log: RwLock::new(log),
            epochs: Mutex::new(epochs),
            producers: Mutex::new(producers),
            offsets: watch::Sender::new(Offsets { log_start, hw, leo }),
            removed: CancellationToken::new(),
            role: Mutex::new(Role::Unassigned),
            // What the file holds, so that a high watermark clamped by a cut is saved anew.
            checkpointed_hw: Mutex::new(checkpointed_hw.unwrap_or(-1)),
            recovery_loss,
            damaged_at: Mutex::new(None),
        }))
    }

    /// Topic and partition.
    pub(crate) fn key(&self) -> &ReplicaKey {
        &self.key
    }

    /// Settings from the topic.
    pub(crate) fn config(&self) -> &ReplicaConfig {
        &self.config
    }

    /// Current offsets.
    pub(crate) fn offsets(&self) -> Offsets {
        *self.offsets.borrow()
    }

    /// A receiver notified whenever the offsets change.
    pub(crate) fn subscribe(&self) -> watch::Receiver<Offsets> {
        self.offsets.subscribe()
    }

    /// Cancelled when the replica is removed (topic deleted).
    pub(crate) fn removed(&self) -> &CancellationToken {
        &self.removed
    }

    /// The current leadership term's token, if this replica leads the partition.
    pub(crate) fn leadership(&self) -> Option<CancellationToken> {
        match &*self.role.lock() {
            Role::Leader(term) => Some(term.token.clone()),
            _ => None,
        }
    }

    // -----------------------------------------------------------------------------------
    // Role changes

    /// Applies the SC's assignment. Returns the follower job to start when it starts a new
    /// followership term with a known leader.
    pub(crate) fn apply_assignment(&self, assignment: &ReplicaAssignment) -> Option<FollowerJob> {
        let me = self.settings.spu;
        let mut role = self.role.lock();
        if assignment.leader == me {
            if let Role::Leader(term) = &*role
                && term.epoch == assignment.epoch
            {
                return None;
            }
            end_term(&role);
            let leo = self.offsets().leo;
            if let Err(err) = self.epochs.lock().assign(assignment.epoch, leo) {
                warn!(replica = %self.key, %err, "could not record the leader epoch");
            }
            let now = Instant::now();
            let isr: BTreeSet<i32> = assignment
                .isr
                .iter()
                .copied()
                .filter(|id| assignment.replicas.contains(id))
                .chain(std::iter::once(me))
                .collect();
            // Followers the SC still counts as in sync get a lag period to show up.
            let followers = isr
                .iter()
                .filter(|id| **id != me)
                .map(|id| {
                    let progress = FollowerProgress {
                        leo: None,
                        hw: -1,
                        last_caught_up: now,
                        leo_at_last_answer: leo,
                        connection: None,
                    };
                    (*id, progress)
                })
                .collect();
            let term = LeaderTerm {
                epoch: assignment.epoch,
                replicas: assignment.replicas.clone(),
                isr,
                followers,
                token: CancellationToken::new(),
                isr_changes: Arc::new(tokio::sync::Mutex::new(())),
            };
            debug!(replica = %self.key, epoch = term.epoch, isr = ?term.isr, leo, "leading");
            *role = Role::Leader(term);
            self.recompute_hw(&role);
            None
        } else {
            if let Role::Follower(term) = &*role
                && term.epoch == assignment.epoch
                && term.leader == assignment.leader
                && term.leader_private == assignment.leader_private
            {
                return None;
            }
            end_term(&role);
            let token = CancellationToken::new();
            debug!(replica = %self.key, epoch = assignment.epoch, leader = assignment.leader, "following");
            *role = Role::Follower(FollowerTerm {
                epoch: assignment.epoch,
                leader: assignment.leader,
                leader_private: assignment.leader_private,
                token: token.clone(),
            });
            assignment.leader_private.map(|leader_private| FollowerJob {
                epoch: assignment.epoch,
                leader: assignment.leader,
                leader_private,
                token,
            })
        }
    }

    /// Ends whatever term is running (the SPU is fenced, stopping, or the replica is removed).
    pub(crate) fn end_terms(&self) {
        let mut role = self.role.lock();
        end_term(&role);
        *role = Role::Unassigned;
    }

    // -----------------------------------------------------------------------------------
    // Leader

    /// Appends the batches of one produce entry as leader, under the idempotent producers'
    /// rules (see `producers.rs`): a batch stored before is skipped and answered with its
    /// original offsets; an entry holding a batch out of its producer's order is refused
    /// whole, with nothing stored.
    pub(crate) fn append_as_leader(&self, mut batches: Vec<BytesMut>) -> Result<Appended, AppendError> {
        let role = self.role.lock();
        let Role::Leader(term) = &*role else { return Err(AppendError::NotLeader) };
        let mut identities = Vec::with_capacity(batches.len());
        for batch in &batches {
            let header = BatchHeader::parse(batch).map_err(|e| AppendError::InvalidBatch(e.to_string()))?;
            identities.push(BatchIdentity::of(&header));
        }
        let mut producers = self.producers.lock();
        let verdicts = producers
            .check_entry(&identities)
            .map_err(|reason| AppendError::OutOfOrderSequence(format!("{reason} in partition {}", self.key)))?;
        let mut log = self.log.write();
        let mut base_offset = None;
        let mut commit_offset = 0;
        let mut result = Ok(());
        for ((batch, identity), verdict) in batches.iter_mut().zip(&identities).zip(verdicts) {
            match verdict {
                Verdict::Duplicate { base_offset: original, commit_offset: committed_at } => {
                    // -1 tells the producer that the batch is stored but its offset unknown.
                    base_offset.get_or_insert(original.unwrap_or(-1));
                    commit_offset = commit_offset.max(committed_at);
                }
                Verdict::Append => {
                    // Not covered by the CRC, like the base offset: followers learn the epochs
                    // from it.
                    batch[12..16].copy_from_slice(&term.epoch.to_be_bytes());
                    match log.append(batch) {
                        Ok(info) => {
                            base_offset.get_or_insert(info.base_offset);
                            commit_offset = commit_offset.max(info.next_offset);
                            if let Some(identity) = identity {
                                producers.record(*identity, info.base_offset);
                            }
                        }
                        Err(err) => {
                            result = Err(err);
                            break;
                        }
                    }
                }
            }
        }
        drop(producers);
        // Publish whatever was appended, even if a later batch failed.
        let leo = log.log_end_offset();
        let log_start = log.log_start_offset();
        drop(log);
        self.offsets.send_modify(|o| {
            o.leo = leo;
            o.log_start = log_start;
        });
        self.recompute_hw(&role);
        result?;
        Ok(Appended { base_offset: base_offset.unwrap_or(leo), commit_offset, term: term.token.clone() })
    }

    /// Waits until the high watermark reaches `offset`, `timeout` passes, or `term` ends.
    pub(crate) async fn wait_committed(
        &self,
        offset: i64,
        timeout: Duration,
        term: &CancellationToken,
    ) -> CommitOutcome {
        let mut rx = self.subscribe();
        tokio::select! {
            reached = tokio::time::timeout(timeout, rx.wait_for(|o| o.hw >= offset)) => match reached {
                Ok(Ok(_)) => CommitOutcome::Committed,
                Ok(Err(_)) => CommitOutcome::NotLeader,
                Err(_) => CommitOutcome::TimedOut,
            },
            _ = term.cancelled() => CommitOutcome::NotLeader,
            _ = self.removed.cancelled() => CommitOutcome::NotLeader,
        }
    }

    /// Where `requested` ends in this log (answered to a follower; see [`EpochHistory::end_of`]).
    pub(crate) fn epoch_end(&self, leader_epoch: i32, requested: i32) -> Result<EpochEnd, ReplicationError> {
        let role = self.role.lock();
        let Role::Leader(term) = &*role else { return Err(ReplicationError::NotLeader) };
        check_epoch(term.epoch, leader_epoch)?;
        Ok(self.epochs.lock().end_of(requested, self.offsets().leo))
    }

    /// Records a follower's fetch (its log end offset and high watermark) on connection
    /// `connection`. Returns the term's token and whether the ISR should be reconsidered.
    pub(crate) fn on_follower_fetch(
        &self,
        follower: i32,
        leader_epoch: i32,
        fetch_offset: i64,
        follower_hw: i64,
        connection: u64,
    ) -> Result<(CancellationToken, bool), ReplicationError> {
        let mut role = self.role.lock();
        let Role::Leader(term) = &mut *role else { return Err(ReplicationError::NotLeader) };
        check_epoch(term.epoch, leader_epoch)?;
        if follower == self.settings.spu || !term.replicas.contains(&follower) {
            return Err(ReplicationError::UnknownReplica);
        }
        let offsets = self.offsets();
        if fetch_offset > offsets.leo || fetch_offset < 0 {
            return Err(ReplicationError::OffsetOutOfRange);
        }
        if fetch_offset < offsets.log_start {
            // Retention deleted what the follower lacks: it must restart at our log start.
            return Err(ReplicationError::OffsetEvicted);
        }
        let now = Instant::now();
        let progress = term.followers.entry(follower).or_insert(FollowerProgress {
            leo: None,
            hw: -1,
            last_caught_up: now,
            leo_at_last_answer: offsets.leo,
            connection: None,
        });
        if fetch_offset >= progress.leo_at_last_answer {
            progress.last_caught_up = now;
        }
        progress.leo = Some(fetch_offset);
        progress.hw = follower_hw;
        progress.connection = Some(connection);
        let token = term.token.clone();
        let reconsider = !term.isr.contains(&follower) && fetch_offset >= offsets.hw;
        self.recompute_hw(&role);
        Ok((token, reconsider))
    }

    /// Notes the log end offset the leader had when answering `follower`.
    pub(crate) fn answered_follower(&self, follower: i32, leo: i64) {
        if let Role::Leader(term) = &mut *self.role.lock()
            && let Some(progress) = term.followers.get_mut(&follower)
        {
            progress.leo_at_last_answer = leo;
        }
    }

    /// A follower's fetch connection closed. Returns whether the ISR should be reconsidered.
    pub(crate) fn follower_disconnected(&self, follower: i32, connection: u64) -> bool {
        if let Role::Leader(term) = &mut *self.role.lock()
            && let Some(progress) = term.followers.get_mut(&follower)
            && progress.connection == Some(connection)
        {
            progress.connection = None;
            return term.isr.contains(&follower);
        }
        false
    }

    /// The ISR this leader should have now: caught-up followers in; under `InSync`, lagging or
    /// disconnected followers out (under `Fluvio` a member stays, as every replica counts for
    /// the high watermark anyway). `None` when this replica does not lead or nothing would
    /// change.
    fn desired_isr(&self, term: &LeaderTerm) -> Option<BTreeSet<i32>> {
        let now = Instant::now();
        let hw = self.offsets().hw;
        let me = self.settings.spu;
        let mut isr = BTreeSet::from([me]);
        for follower in term.replicas.iter().copied().filter(|id| *id != me) {
            let member = term.isr.contains(&follower);
            if member && self.settings.policy == ReplicationPolicy::Fluvio {
                isr.insert(follower);
                continue;
            }
            let Some(progress) = term.followers.get(&follower) else { continue };
            let keep = if member {
                // A member that never connected in this term keeps its place for the lag time.
                let connected = progress.connection.is_some() || progress.leo.is_none();
                connected && now.duration_since(progress.last_caught_up) <= self.settings.replica_lag_time
            } else {
                progress.connection.is_some() && progress.leo.is_some_and(|leo| leo >= hw)
            };
            if keep {
                isr.insert(follower);
            }
        }
        (isr != term.isr).then_some(isr)
    }

    /// Whether the ISR should change now (for periodic checks).
    pub(crate) fn isr_needs_change(&self) -> bool {
        match &*self.role.lock() {
            Role::Leader(term) => self.desired_isr(term).is_some(),
            _ => false,
        }
    }

    /// Proposes the desired ISR to the SC through `propose` and applies it once accepted.
    pub(crate) async fn update_isr<F, Fut>(&self, propose: F)
    where
        F: FnOnce(i32, Vec<i32>) -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let lock = match &*self.role.lock() {
            Role::Leader(term) => term.isr_changes.clone(),
            _ => return,
        };
        let _serialized = lock.lock().await;
        let (epoch, proposal) = {
            let role = self.role.lock();
            let Role::Leader(term) = &*role else { return };
            let Some(proposal) = self.desired_isr(term) else { return };
            (term.epoch, proposal)
        };
        let accepted = propose(epoch, proposal.iter().copied().collect()).await;
        let mut role = self.role.lock();
        let Role::Leader(term) = &mut *role else { return };
        if !accepted || term.epoch != epoch {
            return;
        }
        info!(replica = %self.key, epoch, from = ?term.isr, to = ?proposal, "in-sync replicas changed");
        term.isr = proposal;
        self.recompute_hw(&role);
    }

    /// Advances the high watermark to the smallest log end offset of the ISR: under `Fluvio`
    /// the ISR is every replica (followers never leave it for lagging or being down, only when
    /// the SC finds their copy damaged or unopenable), and a member that has not fetched in
    /// this term holds it back; under `InSync` it moves only while the ISR has at least
    /// `min_live_replicas` members. Never moves it backwards.
    fn recompute_hw(&self, role: &Role) {
        let Role::Leader(term) = role else { return };
        if self.settings.policy == ReplicationPolicy::InSync && term.isr.len() < self.settings.min_live_replicas {
            return;
        }
        let offsets = self.offsets();
        let mut candidate = offsets.leo;
        for member in term.isr.iter().filter(|id| **id != self.settings.spu) {
            match term.followers.get(member).and_then(|p| p.leo) {
                Some(leo) => candidate = candidate.min(leo),
                None => return,
            }
        }
        if candidate > offsets.hw {
            self.offsets.send_modify(|o| o.hw = candidate);
        }
    }

    // -----------------------------------------------------------------------------------
    // Follower

    /// Whether this replica still follows in `epoch`.
    pub(crate) fn follows_in(&self, epoch: i32) -> bool {
        matches!(&*self.role.lock(), Role::Follower(term) if term.epoch == epoch)
    }

    /// The latest epoch of this replica's history, and where it ends here.
    pub(crate) fn latest_epoch(&self) -> Option<i32> {
        self.epochs.lock().latest().map(|e| e.epoch)
    }

    /// Where `epoch` ends in this replica's own log.
    pub(crate) fn own_epoch_end(&self, epoch: i32) -> EpochEnd {
        self.epochs.lock().end_of(epoch, self.offsets().leo)
    }

    /// Removes everything from `offset` on (a divergent tail), as a follower in `epoch`. An
    /// offset inside a batch truncates from that batch's start (fetching again is harmless).
    pub(crate) fn truncate_as_follower(&self, epoch: i32, offset: i64) -> Result<(), FollowerAppendError> {
        let role = self.role.lock();
        if !matches!(&*role, Role::Follower(term) if term.epoch == epoch) {
            return Err(FollowerAppendError::TermEnded);
        }
        let mut log = self.log.write();
        let offset = offset.clamp(log.log_start_offset(), log.log_end_offset());
        if offset == log.log_end_offset() {
            return Ok(());
        }
        let target = match log.truncate_to(offset) {
            Ok(()) => offset,
            Err(LogError::NotABatchBoundary { batch_base_offset, .. }) => {
                log.truncate_to(batch_base_offset)?;
                batch_base_offset
            }
            Err(err) => return Err(err.into()),
        };
        let leo = log.log_end_offset();
        drop(log);
        self.epochs.lock().truncate_to(leo)?;
        self.producers.lock().truncate_to(target);
        {
            let mut damaged_at = self.damaged_at.lock();
            if damaged_at.is_some_and(|at| at >= target) {
                *damaged_at = None;
            }
        }
        warn!(replica = %self.key, epoch, offset = target, "truncated a divergent tail");
        self.offsets.send_modify(|o| {
            o.leo = leo;
            o.hw = o.hw.min(leo);
        });
        Ok(())
    }

    /// Discards this follower's whole log and restarts it empty at `leader_log_start`, as a
    /// follower in `epoch`, when its log ends below that offset: the leader's retention deleted
    /// every record this replica lacks, so the leader can never send them, and every record
    /// this replica holds lies below the leader's log start, so nothing the leader still has
    /// is lost here. (Kafka's follower does the same on OFFSET_OUT_OF_RANGE.) Returns whether
    /// the log was reset; a log that reaches `leader_log_start` is left alone.
    ///
    /// The epoch history is emptied first (every entry starts at or below this log's end,
    /// hence below `leader_log_start`), then the log is reset, then the offsets and the
    /// high-watermark checkpoint follow. A crash between the first two steps leaves the old
    /// log with no epochs, a state the next session repairs by itself: it truncates to its log
    /// start (it has no epoch to keep records for), fetches, and is answered
    /// `OffsetEvicted` again. The other order could leave epochs describing records that are
    /// gone. The producers' deduplication state is kept: it only names batches at offsets
    /// below the new start, which stay true facts about the partition.
    pub(crate) fn reset_as_follower(&self, epoch: i32, leader_log_start: i64) -> Result<bool, FollowerAppendError> {
        let role = self.role.lock();
        if !matches!(&*role, Role::Follower(term) if term.epoch == epoch) {
            return Err(FollowerAppendError::TermEnded);
        }
        let mut log = self.log.write();
        let (old_start, old_end) = (log.log_start_offset(), log.log_end_offset());
        if log.pending_reset().is_none() && leader_log_start <= old_end {
            return Ok(false);
        }
        self.epochs.lock().discard_below(leader_log_start)?;
        log.reset_to(leader_log_start)?;
        drop(log);
        self.offsets.send_modify(|o| {
            o.log_start = leader_log_start;
            o.leo = leader_log_start;
            o.hw = leader_log_start;
        });
        drop(role);
        self.checkpoint_hw();
        warn!(
            replica = %self.key,
            epoch,
            discarded_from = old_start,
            discarded_to = old_end,
            restarted_at = leader_log_start,
            "the leader's log starts after this log's end: restarted the log there"
        );
        Ok(true)
    }

    /// The offset of a log reset that failed half-way (an I/O error), which the follower must
    /// redo before anything else: the log refuses every other operation meanwhile.
    pub(crate) fn interrupted_reset(&self) -> Option<i64> {
        self.log.read().pending_reset()
    }

    /// Appends the leader's batches verbatim (they must start at this log's end), as a
    /// follower in `epoch`, then takes the leader's high watermark (capped at the log end).
    pub(crate) fn append_as_follower(
        &self,
        epoch: i32,
        records: &Bytes,
        leader_hw: i64,
    ) -> Result<(), FollowerAppendError> {
        let role = self.role.lock();
        if !matches!(&*role, Role::Follower(term) if term.epoch == epoch) {
            return Err(FollowerAppendError::TermEnded);
        }
        let mut log = self.log.write();
        let mut epochs = self.epochs.lock();
        let mut producers = self.producers.lock();
        let mut at = 0;
        let mut result = Ok(());
        while at < records.len() {
            let header = match BatchHeader::parse(&records[at..]) {
                Ok(header) if header.total_len() <= records.len() - at => header,
                Ok(_) => {
                    result = Err(FollowerAppendError::InvalidBatch("truncated batch".into()));
                    break;
                }
                Err(err) => {
                    result = Err(FollowerAppendError::InvalidBatch(err.to_string()));
                    break;
                }
            };
            let leo = log.log_end_offset();
            if header.base_offset != leo {
                result = Err(FollowerAppendError::Discontinuous { expected: leo, got: header.base_offset });
                break;
            }
            let mut batch = BytesMut::from(&records[at..at + header.total_len()]);
            if let Err(err) = log.append(&mut batch) {
                result = Err(err.into());
                break;
            }
            if header.partition_leader_epoch >= 0
                && epochs.latest().is_none_or(|latest| header.partition_leader_epoch > latest.epoch)
                && let Err(err) = epochs.assign(header.partition_leader_epoch, header.base_offset)
            {
                result = Err(err.into());
                break;
            }
            if let Some(identity) = BatchIdentity::of(&header) {
                producers.record(identity, header.base_offset);
            }
            at += header.total_len();
        }
        drop((producers, epochs));
        let leo = log.log_end_offset();
        let log_start = log.log_start_offset();
        drop(log);
        self.offsets.send_modify(|o| {
            o.leo = leo;
            o.log_start = log_start;
            o.hw = o.hw.max(leader_hw.min(leo));
        });
        result
    }

    // -----------------------------------------------------------------------------------
    // Reads, maintenance, reports

    /// Whole batches from the one containing `offset`, within `max_bytes` (at least one batch),
    /// up to the end `isolation` allows.
    /// A batch found damaged is remembered ([`Self::damaged_at`]) and reported to the SC.
    pub(crate) fn read(&self, offset: i64, max_bytes: usize, isolation: Isolation) -> Result<ReadSlice, LogError> {
        let end = self.offsets().visible_end(isolation);
        self.noting_damage(self.log.read().read(offset, max_bytes, end))
    }

    /// What a consumer's fetch gets: the stored bytes from the batch containing `offset`, cut
    /// at `max_bytes` (possibly inside a batch), within that batch's segment and up to `end`,
    /// the visible end the reader's isolation allows, taken from [`Self::offsets`] by the
    /// caller (see [`fluvio_log::PartitionLog::read_range`]). A batch found damaged is
    /// remembered and reported, as by [`Self::read`].
    pub(crate) fn read_range(&self, offset: i64, max_bytes: usize, end: i64) -> Result<ReadSlice, LogError> {
        self.noting_damage(self.log.read().read_range(offset, max_bytes, end))
    }

    /// Remembers the damaged batch a read found ([`Self::damaged_at`] keeps the lowest).
    fn noting_damage(&self, read: Result<ReadSlice, LogError>) -> Result<ReadSlice, LogError> {
        if let Err(LogError::Corrupt { offset, .. }) = &read {
            let mut damaged_at = self.damaged_at.lock();
            if damaged_at.is_none_or(|known| *offset < known) {
                *damaged_at = Some(*offset);
            }
        }
        read
    }

    /// The offset of the lowest damaged batch reads found in this log, if any.
    pub(crate) fn damaged_at(&self) -> Option<i64> {
        *self.damaged_at.lock()
    }

    /// Deletes segments past retention, only below the high watermark (an in-sync follower may
    /// still lack uncommitted records, and must be able to fetch them); returns true if the log
    /// start moved.
    pub(crate) fn enforce_retention(&self, now: SystemTime) -> Result<bool, LogError> {
        let hw = self.offsets().hw;
        let mut log = self.log.write();
        let before = log.log_start_offset();
        log.enforce_retention_below(now, hw)?;
        let after = log.log_start_offset();
        drop(log);
        if after != before {
            self.offsets.send_modify(|o| {
                o.log_start = after;
                o.hw = o.hw.max(after);
            });
        }
        Ok(after != before)
    }

    /// Offsets, role and followers' progress for the SC.
    pub(crate) fn report(&self) -> ReplicaReport {
        let size = self.log.read().size_bytes() as i64;
        let offsets = self.offsets();
        let role = self.role.lock();
        let (epoch, leader, followers, isr) = match &*role {
            Role::Leader(term) => {
                let followers = term
                    .replicas
                    .iter()
                    .filter(|id| **id != self.settings.spu)
                    .map(|id| {
                        let progress = term.followers.get(id);
                        (*id, progress.map_or(-1, |p| p.hw), progress.and_then(|p| p.leo).unwrap_or(-1))
                    })
                    .collect();
                (term.epoch, true, followers, term.isr.iter().copied().collect())
            }
            Role::Follower(term) => (term.epoch, false, Vec::new(), Vec::new()),
            Role::Unassigned => (-1, false, Vec::new(), Vec::new()),
        };
        ReplicaReport {
            spu: self.settings.spu,
            epoch,
            leader,
            hw: offsets.hw,
            leo: offsets.leo,
            log_start: offsets.log_start,
            size,
            followers,
            isr,
            last_epoch: self.latest_epoch().unwrap_or(-1),
            recovery_loss: self.recovery_loss.clone(),
            damaged_at: self.damaged_at(),
            out_of_storage: false,
        }
    }

    /// Saves the high watermark if it moved, so that a restarted leader does not start from
    /// zero. Not fsynced: a stale checkpoint only delays commitment after a crash.
    pub(crate) fn checkpoint_hw(&self) {
        let hw = self.offsets().hw;
        let mut saved = self.checkpointed_hw.lock();
        if *saved == hw {
            return;
        }
        let path = self.dir.join(HW_FILE_NAME);
        let temporary = path.with_extension("tmp");
        let written = std::fs::write(&temporary, hw.to_string()).and_then(|()| std::fs::rename(&temporary, &path));
        match written {
            Ok(()) => *saved = hw,
            Err(err) if !self.removed.is_cancelled() => {
                warn!(replica = %self.key, %err, "could not save the high watermark")
            }
            Err(_) => {}
        }
    }

    /// Ends every stream and term on this replica and deletes its data.
    pub(crate) fn remove(&self) -> std::io::Result<()> {
        self.removed.cancel();
        self.end_terms();
        // Hold the write lock so no append races the deletion.
        let _log = self.log.write();
        match std::fs::remove_dir_all(&self.dir) {
            Err(err) if err.kind() != std::io::ErrorKind::NotFound => Err(err),
            _ => Ok(()),
        }
    }

    /// Flushes the log to disk.
    pub(crate) fn sync(&self) -> Result<(), LogError> {
        self.checkpoint_hw();
        self.log.read().sync()
    }
}

fn end_term(role: &Role) {
    match role {
        Role::Leader(term) => term.token.cancel(),
        Role::Follower(term) => term.token.cancel(),
        Role::Unassigned => {}
    }
}

fn check_epoch(mine: i32, theirs: i32) -> Result<(), ReplicationError> {
    match theirs.cmp(&mine) {
        std::cmp::Ordering::Less => Err(ReplicationError::FencedEpoch),
        std::cmp::Ordering::Greater => Err(ReplicationError::UnknownEpoch),
        std::cmp::Ordering::Equal => Ok(()),
    }
}

fn read_hw_checkpoint(dir: &Path) -> Option<i64> {
    std::fs::read_to_string(dir.join(HW_FILE_NAME)).ok()?.trim().parse().ok()
}

/// Directory of a replica's log: `<spu dir>/<topic>-<partition>`.
pub(crate) fn replica_dir(spu_dir: &Path, key: &ReplicaKey) -> PathBuf {
    spu_dir.join(format!("{}-{}", key.topic, key.partition))
}

fn log_config(config: &ReplicaConfig) -> LogConfig {
    LogConfig {
        segment_max_bytes: config.segment_size,
        retention: Some(Duration::from_secs(u64::from(config.retention_secs))),
        max_partition_bytes: Some(config.max_partition_size),
        ..LogConfig::default()
    }
}
