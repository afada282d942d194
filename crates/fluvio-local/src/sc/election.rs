//! Leader election and in-sync replica bookkeeping.
//!
//! The SC elects a leader only from the partition's in-sync replicas (ISR). Leaders change
//! their ISR only through the SC ([`Sc::change_isr`]) and count a record as committed only once
//! every ISR member holds it, so an ISR member held every committed record when it was last in
//! sync. It still holds them unless its log lost some since: when an SPU opens a replica, the
//! log's recovery may cut damaged records, and the SPU reports what it cut
//! ([`RecoveryLoss`]); a read may find a stored batch damaged, and the SPU reports that too.
//! Such a replica leaves the ISR at once (unless it is the last member; a leader hands over
//! only if another replica can lead now) and copies the records again from the leader like
//! any lagging follower (dropping the damaged batch first). And the SC waits
//! for a replica's first report in its SPU's current registration (sent once its log is open
//! and recovered) before it may lead. Which replica may lead, and which one is chosen among
//! those, is decided in one place: [`choose_leader`].
//!
//! Under [`ReplicationPolicy::Fluvio`] the ISR never shrinks for lagging or being down (every
//! replica holds every committed record: the high watermark waits for all of them), and a
//! leader whose SPU goes offline may be replaced only by a follower whose log end, in the
//! leader's last report, was less than [`FLUVIO_MAX_LAG`] records behind the leader's
//! ([`LastReport`]), as the official SC's election policy decides; the old leader itself always
//! qualifies when it returns.
//!
//! When no eligible replica is online the partition waits (`LeaderOffline`) until one reports:
//! no "unclean" election of a replica that may lack committed records. When an SPU that led a
//! partition restarts (nobody replaced it: the whole cluster restarts, or no other replica was
//! in sync), the partition waits for an election until every in-sync replica has reported
//! (those offline for up to [`REJOIN_GRACE`]), then elects the log furthest ahead, the
//! restarting leader on ties, so records it
//! had acknowledged alone are kept and a leader whose log came back shorter is not preferred.
//! Every election bumps the leader epoch, which fences the old leader's followers and lets a
//! returning replica find where its log diverged.

use std::collections::HashMap;

use fluvio_wire::error_code::{ErrorCode, ReplicaKey};
use fluvio_wire::sc::Metadata;
use fluvio_wire::sc::partition::{PartitionResolution, PartitionSpec, PartitionStatus, ReplicaStatus};
use fluvio_wire::sc::topic::TopicSpec;
use parking_lot::Mutex;
use tokio::time::{Duration, Instant};
use tracing::{debug, error, info, warn};

use super::Sc;
use crate::control::{RecoveryLoss, ReplicaReport};
use crate::policy::{FLUVIO_MAX_LAG, ReplicationPolicy};

pub(super) use crate::control::NO_LEADER;

/// What a replica last reported, in its SPU's current registration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct ReplicaView {
    /// Its log end offset.
    pub leo: i64,
    /// The latest leader epoch its log holds records of.
    pub last_epoch: i32,
    /// The offset of a damaged batch reads found in its log.
    pub damaged_at: Option<i64>,
    /// Its SPU could not open it: it cannot lead.
    pub failed: bool,
}

/// How long a partition whose leader restarts waits for in-sync replicas that are offline to
/// come back and report before it elects among those that did: a whole-cluster restart brings
/// every SPU back within moments, and then every in-sync log is compared.
const REJOIN_GRACE: Duration = Duration::from_secs(2);

/// What a leader last reported before its SPU went offline: its log end and each follower's
/// as it saw them. It ranks the followers that may replace it ([`choose_leader`]), and under
/// [`ReplicationPolicy::Fluvio`] only a follower less than [`FLUVIO_MAX_LAG`] records behind by
/// this report may (the official SC compares the same figures, from the same kind of periodic
/// report).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct LastReport {
    leader: i32,
    leo: i64,
    followers: HashMap<i32, i64>,
    /// Whether the lag rule applies (under [`ReplicationPolicy::Fluvio`]).
    lag_rule: bool,
}

impl LastReport {
    /// The report in `status`, if `leader` made it (a leader that had not reported since the SC
    /// started, or since it was elected, left none: then any candidate qualifies), with the lag
    /// rule if `lag_rule`.
    fn of(status: &PartitionStatus, leader: i32, lag_rule: bool) -> Option<Self> {
        (status.leader.spu == leader && status.leader.leo >= 0).then(|| Self {
            leader,
            leo: status.leader.leo,
            followers: status.replicas.iter().map(|r| (r.spu, r.leo)).collect(),
            lag_rule,
        })
    }

    /// Whether replica `id` may lead: without the lag rule any; with it the leader itself, or a
    /// follower close enough to it.
    fn qualifies(&self, id: i32) -> bool {
        !self.lag_rule
            || id == self.leader
            || self.followers.get(&id).is_some_and(|leo| self.leo - leo < FLUVIO_MAX_LAG)
    }

    /// The log end of follower `id` as the leader saw it; `None` for the leader itself (whose
    /// own report after its restart is what its log holds now) and for replicas it did not
    /// report.
    fn follower_leo(&self, id: i32) -> Option<i64> {
        self.followers.get(&id).copied().filter(|_| id != self.leader)
    }
}

/// A partition waiting for a leader.
#[derive(Debug, Clone)]
struct Waiting {
    /// The replica to elect among equals (the restarting SPU that led the partition).
    prefer: Option<i32>,
    /// Until then, in-sync replicas that are offline are waited for too.
    patient_until: Option<Instant>,
    /// Whether an election attempt is scheduled for `patient_until`.
    recheck: bool,
    /// Under [`ReplicationPolicy::Fluvio`], after the leader's SPU went offline: who may
    /// replace it.
    last_report: Option<LastReport>,
}

impl Waiting {
    fn after_failure(last_report: Option<LastReport>) -> Self {
        Self { prefer: None, patient_until: None, recheck: false, last_report }
    }

    fn for_restart(leader: i32, last_report: Option<LastReport>) -> Self {
        Self { prefer: Some(leader), patient_until: Some(Instant::now() + REJOIN_GRACE), recheck: false, last_report }
    }
}

/// The SC's in-memory election state: the partitions waiting for a leader and what each
/// replica reported. (The ISR and the epochs are in the metadata store, persisted.)
#[derive(Debug, Default)]
pub(super) struct Elections {
    inner: Mutex<ElectionState>,
}

#[derive(Debug, Default)]
struct ElectionState {
    waiting: HashMap<String, Waiting>,
    /// Per partition, per SPU: the replica's latest report since its SPU registered.
    views: HashMap<String, HashMap<i32, ReplicaView>>,
    /// Per partition: records that log recovery removed from replicas, shown in the topic's
    /// status until the replica is in sync again (or, when no replica could supply them
    /// again, until the cluster restarts).
    losses: HashMap<String, Vec<Loss>>,
}

/// Records a replica's log recovery removed.
#[derive(Debug, Clone)]
struct Loss {
    spu: i32,
    /// For the topic's status.
    message: String,
    /// Whether another in-sync replica holds them, so that this one copies them again.
    repairable: bool,
}

impl Elections {
    /// Whether `partition` waits for a leader.
    pub(super) fn is_waiting(&self, partition: &str) -> bool {
        self.inner.lock().waiting.contains_key(partition)
    }

    /// Forgets what SPU `spu` reported: it is gone, or registers again (with logs to recover).
    pub(super) fn forget_spu(&self, spu: i32) {
        for views in self.inner.lock().views.values_mut() {
            views.remove(&spu);
        }
    }

    /// Forgets a partition (its topic was deleted).
    pub(super) fn forget_partition(&self, partition: &str) {
        let mut state = self.inner.lock();
        state.waiting.remove(partition);
        state.views.remove(partition);
        state.losses.remove(partition);
    }

    /// What the topic's status says about records its partitions' replicas lost (empty when
    /// nothing is to be said).
    pub(super) fn loss_report(&self, topic: &str) -> String {
        let state = self.inner.lock();
        let mut partitions: Vec<(&String, &Vec<Loss>)> = state
            .losses
            .iter()
            .filter(|(name, _)| fluvio_wire::sc::partition::split_partition_name(name).is_some_and(|(t, _)| t == topic))
            .collect();
        partitions.sort_by_key(|(name, _)| *name);
        let messages: Vec<&str> =
            partitions.into_iter().flat_map(|(_, losses)| losses.iter().map(|l| l.message.as_str())).collect();
        messages.join("; ")
    }

    /// Whether a replica of `partition` in `isr` other than `spu` may still lead: one that
    /// was not found unopenable (it has reported, or may yet).
    pub(super) fn may_lead_besides(&self, partition: &str, isr: &[i32], spu: i32) -> bool {
        let state = self.inner.lock();
        let views = state.views.get(partition);
        isr.iter().any(|id| *id != spu && views.and_then(|views| views.get(id)).is_none_or(|view| !view.failed))
    }

    /// Whether SPU `spu` reported that it could not open its replica of `partition`.
    fn is_unopenable(&self, partition: &str, spu: i32) -> bool {
        let state = self.inner.lock();
        state.views.get(partition).and_then(|views| views.get(&spu)).is_some_and(|view| view.failed)
    }

    fn note_loss(&self, partition: &str, loss: Loss) {
        self.inner.lock().losses.entry(partition.to_string()).or_default().push(loss);
    }

    /// Forgets the repairable losses of the replicas in `isr` (in sync again: they hold every
    /// committed record). Returns whether anything was forgotten.
    fn repaired(&self, partition: &str, isr: &[i32]) -> bool {
        let mut state = self.inner.lock();
        let Some(losses) = state.losses.get_mut(partition) else { return false };
        let before = losses.len();
        losses.retain(|loss| !(loss.repairable && isr.contains(&loss.spu)));
        let changed = losses.len() != before;
        if losses.is_empty() {
            state.losses.remove(partition);
        }
        changed
    }
}

/// Who may lead a partition and who is chosen: the one place that decides.
///
/// The **candidates** are the replicas in the ISR the SC keeps whose SPU is online (or, with
/// `offline_too`, offline as well: they are waited for), but `exclude` (the leader that just
/// died) and replicas that could not be opened. Each held every
/// committed record when it was last in sync, and still does unless its log lost some since
/// (then its report took it out of the ISR first). A candidate is **eligible** once it has
/// reported since its SPU registered (its log is open and recovered). While a candidate has not
/// reported yet, nobody is chosen: the caller waits for its report, so that every candidate's
/// log is compared (a whole-cluster restart waits for the logs of all its in-sync replicas).
///
/// With a `last_report` (a leader lost under [`ReplicationPolicy::Fluvio`]), only the replicas
/// that report qualifies are candidates ([`LastReport::qualifies`]); under `InSync` it only
/// ranks them.
///
/// **Chosen**: the candidate whose log is furthest ahead, by (latest leader epoch, log end
/// offset) as last reported: all of them hold every committed record, and the furthest also
/// keeps the most of what was acknowledged before being committed. Ties go to `prefer` (the
/// restarting SPU that led the partition), then to the first in assignment order.
///
/// With a `last_report`, a follower's log end is the larger of its own report and the dead
/// leader's report of it, and epochs are not compared, as the official SC ranks them: every
/// candidate is a follower in the dead leader's term (or that leader, returning), so its log
/// is a prefix of the leader's and its end alone says how much it holds. A follower's own
/// report can be a report interval older than the leader's (each SPU reports on its own
/// clock); taking the larger keeps two followers the leader saw level from being told apart
/// by which of them happened to report last.
#[allow(clippy::too_many_arguments)]
fn choose_leader(
    replicas: &[i32],
    isr: &[i32],
    online: &[i32],
    views: Option<&HashMap<i32, ReplicaView>>,
    prefer: Option<i32>,
    exclude: Option<i32>,
    offline_too: bool,
    last_report: Option<&LastReport>,
) -> Option<i32> {
    let view = |id: i32| views.and_then(|views| views.get(&id)).copied();
    let candidates: Vec<(usize, i32)> = replicas
        .iter()
        .copied()
        .enumerate()
        .filter(|(_, id)| Some(*id) != exclude && (offline_too || online.contains(id)) && isr.contains(id))
        .filter(|(_, id)| view(*id).is_none_or(|view| !view.failed))
        .filter(|(_, id)| last_report.is_none_or(|report| report.qualifies(*id)))
        .collect();
    let mut reported = Vec::with_capacity(candidates.len());
    for (position, id) in candidates {
        reported.push((position, id, view(id)?));
    }
    reported
        .into_iter()
        .max_by_key(|(position, id, view)| {
            let (last_epoch, leo) = match last_report {
                Some(report) => (0, report.follower_leo(*id).map_or(view.leo, |leo| leo.max(view.leo))),
                None => (view.last_epoch, view.leo),
            };
            (last_epoch, leo, prefer == Some(*id), std::cmp::Reverse(*position))
        })
        .map(|(_, id, _)| id)
}

impl Sc {
    /// The SPU of `partition`'s leader, `dead`, went offline (it stopped, crashed, or was fenced
    /// for missed heartbeats): elect an eligible replica, or mark the partition `LeaderOffline`
    /// until one reports. Under [`ReplicationPolicy::Fluvio`] only followers the leader's last
    /// report shows close enough to it are eligible ([`LastReport`]).
    pub(super) fn leader_offline(&self, partition: &Metadata<PartitionSpec>, dead: i32) {
        let lag_rule = self.settings.policy == ReplicationPolicy::Fluvio;
        let last_report = LastReport::of(&partition.status, dead, lag_rule);
        self.lose_leader(partition, dead, Waiting::after_failure(last_report));
    }

    /// The leader of `partition`, SPU `dead`, can no longer lead it (its replica is damaged or
    /// cannot be opened; its SPU is still online): elect an eligible replica, or mark the
    /// partition `LeaderOffline` until one reports.
    pub(super) fn leader_lost(&self, partition: &Metadata<PartitionSpec>, dead: i32) {
        self.lose_leader(partition, dead, Waiting::after_failure(None));
    }

    fn lose_leader(&self, partition: &Metadata<PartitionSpec>, dead: i32, waiting: Waiting) {
        self.elections.inner.lock().waiting.insert(partition.name.clone(), waiting);
        if !self.try_elect(partition, Some(dead)) {
            let isr = self.store.replication(&partition.name).unwrap_or_default().isr;
            if self.is_stopping() {
                debug!(partition = %partition.name, dead, "leader offline (the cluster is stopping)");
            } else {
                warn!(partition = %partition.name, dead, ?isr, "no eligible replica online: leader offline");
            }
            // As the official SC: only the resolution changes; the status keeps the leader's
            // last report.
            self.store.update_status::<PartitionSpec>(&partition.name, |status| {
                status.resolution = PartitionResolution::LeaderOffline;
            });
        }
    }

    /// SPU `id` (re)registered, with logs about to be opened and recovered: what it reported
    /// before no longer holds, and the partitions it led (nobody replaced it: it restarts, or
    /// the whole cluster does) wait for an election, preferring it among equals. Partitions
    /// already waiting may elect it once it reports.
    pub(super) fn spu_arrived(&self, id: i32) {
        self.elections.forget_spu(id);
        let led: Vec<String> =
            self.store.all::<PartitionSpec>().into_iter().filter(|p| p.spec.leader == id).map(|p| p.name).collect();
        let mut state = self.elections.inner.lock();
        for name in led {
            // A partition whose leader went offline keeps who may replace it.
            let last_report = state.waiting.get(&name).and_then(|waiting| waiting.last_report.clone());
            state.waiting.insert(name, Waiting::for_restart(id, last_report));
        }
    }

    /// A replica's report (each SPU sends one when it opens a replica, then whenever its
    /// offsets change): remembered for elections; the first one of a registration may say
    /// that the log's recovery removed records; a partition waiting for a leader may elect.
    pub(super) fn replica_reported(&self, spu: i32, key: &ReplicaKey, report: &ReplicaReport) {
        let name = key.to_string();
        let Some(partition) = self.store.get::<PartitionSpec>(&name) else { return };
        let view = ReplicaView {
            leo: report.leo,
            last_epoch: report.last_epoch,
            damaged_at: report.damaged_at,
            failed: false,
        };
        let previous = {
            let mut state = self.elections.inner.lock();
            state.views.entry(name.clone()).or_default().insert(spu, view)
        };
        if previous.is_none()
            && let Some(loss) = &report.recovery_loss
        {
            self.replica_lost_records(&partition, spu, loss);
        }
        if let Some(offset) = report.damaged_at
            && previous.and_then(|p| p.damaged_at) != Some(offset)
        {
            let what =
                format!("SPU {spu}'s copy of the batch at offset {offset} of {name} is damaged (found by a read)");
            self.replica_damaged(&partition, spu, &what);
        }
        if self.elections.is_waiting(&name) {
            // The partition as it is now (a loss may have re-elected or changed it).
            if let Some(partition) = self.store.get::<PartitionSpec>(&name) {
                self.try_elect(&partition, None);
            }
        }
    }

    /// SPU `spu` could not open its replica of `partition` (`message` says why): it can lead
    /// nothing and holds nothing it could serve, so it leaves the ISR (unless it is the last
    /// member; a leader in office hands over) and no election waits for its report; a
    /// partition waiting for a leader may elect another replica now.
    pub(super) fn replica_unopenable(&self, partition: &Metadata<PartitionSpec>, spu: i32, message: &str) {
        let name = &partition.name;
        let failed = ReplicaView { leo: -1, last_epoch: -1, damaged_at: None, failed: true };
        let previous = self.elections.inner.lock().views.entry(name.clone()).or_default().insert(spu, failed);
        let isr = self.store.replication(name).unwrap_or_default().isr;
        if previous.is_none_or(|view| !view.failed) && isr.contains(&spu) && isr.len() > 1 {
            warn!(partition = %name, spu, %message, "the replica could not be opened; it leaves the in-sync replicas");
            self.leave_isr(partition, spu);
        }
        if self.elections.is_waiting(name)
            && let Some(partition) = self.store.get::<PartitionSpec>(name)
        {
            self.try_elect(&partition, None);
        }
    }

    /// Tries again to elect a leader for `partition`, unavailable for a cause that may go
    /// away by itself (a full disk, for the SC's metadata or a replica's files).
    pub(super) fn retry_election(&self, partition: &Metadata<PartitionSpec>) {
        self.elections
            .inner
            .lock()
            .waiting
            .entry(partition.name.clone())
            .or_insert_with(|| Waiting::after_failure(None));
        if self.try_elect(partition, None) {
            return;
        }
        // The last in-sync replica could not be opened: it may open now. It alone holds the
        // committed records, so there is no log to compare it with: it is elected, and opens
        // its log as it takes office (or fails again, and is retried later).
        let isr = self.store.replication(&partition.name).unwrap_or_default().isr;
        if let [only] = isr[..]
            && self.online_spus().contains(&only)
            && self.elections.is_unopenable(&partition.name, only)
        {
            self.elect(partition, only, None);
        }
    }

    /// The recovery of SPU `spu`'s replica of `partition` removed records.
    fn replica_lost_records(&self, partition: &Metadata<PartitionSpec>, spu: i32, loss: &RecoveryLoss) {
        let removed = match loss.to {
            Some(to) => format!("offsets {}..{to}", loss.from),
            None => format!("offsets from {}", loss.from),
        };
        let committed = loss.committed_end.filter(|end| *end > loss.from);
        let what = format!(
            "SPU {spu}'s replica of {} lost {removed}{} to damage found by log recovery ({})",
            partition.name,
            committed.map(|end| format!(" (committed up to {end})")).unwrap_or_default(),
            loss.cause
        );
        self.replica_damaged(partition, spu, &what);
    }

    /// SPU `spu`'s replica of `partition` lacks records it held, or holds a damaged copy of
    /// some (`what` says which): it leaves the ISR (unless it is the last member: then nobody
    /// holds them any more) and copies them again from the leader. A leader in office starts a
    /// new term with the smaller ISR, so that it never proposes the replica back before it has
    /// caught up; when the damaged replica is the leader, another is elected.
    fn replica_damaged(&self, partition: &Metadata<PartitionSpec>, spu: i32, what: &str) {
        let name = &partition.name;
        let isr = self.store.replication(name).unwrap_or_default().isr;
        if !isr.contains(&spu) {
            warn!(partition = %name, spu, "{what}; it was not in sync and copies them from the leader");
            return;
        }
        let (topic, _) = fluvio_wire::sc::partition::split_partition_name(name).unwrap_or((name, 0));
        let online = self.online_spus();
        let leading = !self.elections.is_waiting(name) && partition.spec.leader == spu && online.contains(&spu);
        let replacement = leading && {
            let others: Vec<i32> = isr.iter().copied().filter(|id| *id != spu).collect();
            let state = self.elections.inner.lock();
            let views = state.views.get(name);
            choose_leader(&partition.spec.replicas, &others, &online, views, None, Some(spu), false, None).is_some()
        };
        if isr.len() == 1 || (leading && !replacement) {
            let outcome = if isr.len() == 1 {
                "no other in-sync replica holds them: they are lost"
            } else {
                "no other in-sync replica can lead now: it keeps leading, refusing what is damaged"
            };
            error!(partition = %name, spu, "{what}; {outcome}");
            let message = format!("{what}; {outcome}");
            self.elections.note_loss(name, Loss { spu, message, repairable: false });
            let reason = self.topic_reason(topic);
            self.store.update_status::<TopicSpec>(topic, |status| status.reason = reason);
            return;
        }
        warn!(partition = %name, spu, "{what}; it leaves the in-sync replicas and copies them again");
        let message = format!("{what}; it copies them again from an in-sync replica");
        self.elections.note_loss(name, Loss { spu, message, repairable: true });
        let reason = self.topic_reason(topic);
        self.store.update_status::<TopicSpec>(topic, |status| status.reason = reason);
        self.leave_isr(partition, spu);
    }

    /// Takes `spu` out of `partition`'s ISR. A leader in office (online, not waiting for an
    /// election) must learn the new set: it starts a new term with it, or, when `spu` is that
    /// leader, another replica is elected.
    fn leave_isr(&self, partition: &Metadata<PartitionSpec>, spu: i32) {
        let name = &partition.name;
        let updated = self.store.update_replication(name, |replication| replication.isr.retain(|id| *id != spu));
        let replication = match updated {
            Ok(Some(replication)) => replication,
            Ok(None) => return,
            Err(err) => {
                warn!(partition = %name, %err, "could not store the in-sync replicas");
                return;
            }
        };
        info!(partition = %name, spu, isr = ?replication.isr, "in-sync replicas changed by the SC");
        if self.settings.policy == ReplicationPolicy::InSync {
            let lsr = super::in_sync_followers(&replication.isr, partition.spec.leader);
            self.store.update_status::<PartitionSpec>(name, |status| status.lsr = lsr);
        }
        let in_office = !self.elections.is_waiting(name) && self.online_spus().contains(&partition.spec.leader);
        if in_office && partition.spec.leader == spu {
            self.leader_lost(partition, spu);
        } else if in_office {
            self.elect(partition, partition.spec.leader, None);
        }
    }

    /// Elects the leader [`choose_leader`] picks, if any. Returns whether it elected. While a
    /// restarting partition is still patient with offline in-sync replicas, it tries again
    /// once its patience ends.
    ///
    /// While the whole cluster stops, its SPUs one after the other, nobody is elected: that
    /// would move every leadership to the SPU stopped last. A partition keeps its leader and
    /// waits for it, as after any restart of the whole cluster.
    fn try_elect(&self, partition: &Metadata<PartitionSpec>, dead: Option<i32>) -> bool {
        if self.is_stopping() {
            return false;
        }
        let replication = self.store.replication(&partition.name).unwrap_or_default();
        let online = self.online_spus();
        let (chosen, recheck_at) = {
            let mut state = self.elections.inner.lock();
            let ElectionState { waiting, views, .. } = &mut *state;
            let waiting = waiting.get_mut(&partition.name);
            let prefer = waiting.as_ref().and_then(|w| w.prefer);
            let patient_until = waiting.as_ref().and_then(|w| w.patient_until).filter(|t| *t > Instant::now());
            let last_report = waiting.as_ref().and_then(|w| w.last_report.as_ref());
            let views = views.get(&partition.name);
            let chosen = choose_leader(
                &partition.spec.replicas,
                &replication.isr,
                &online,
                views,
                prefer,
                dead,
                patient_until.is_some(),
                last_report,
            );
            let recheck_at = match (chosen, waiting, patient_until) {
                (None, Some(waiting), Some(at)) if !waiting.recheck => {
                    waiting.recheck = true;
                    Some(at)
                }
                _ => None,
            };
            (chosen, recheck_at)
        };
        if let Some(at) = recheck_at {
            let sc = self.me.clone();
            let name = partition.name.clone();
            // Not in the SC's task group: holding nothing but a weak reference, it never
            // delays a shutdown.
            tokio::spawn(async move {
                tokio::time::sleep_until(at).await;
                if let Some(sc) = sc.upgrade()
                    && sc.elections.is_waiting(&name)
                    && let Some(partition) = sc.store.get::<PartitionSpec>(&name)
                {
                    sc.try_elect(&partition, None);
                }
            });
        }
        match chosen {
            Some(leader) => {
                self.elect(partition, leader, dead);
                true
            }
            None => false,
        }
    }

    /// Makes `leader` the leader of `partition` under a new epoch, drops `dead` from the ISR
    /// (under `InSync`), publishes the change (spec and status, through Watch) and tells the
    /// replicas.
    fn elect(&self, partition: &Metadata<PartitionSpec>, leader: i32, dead: Option<i32>) {
        let policy = self.settings.policy;
        let updated = self.store.update_replication(&partition.name, |replication| {
            replication.epoch += 1;
            // Under `Fluvio` a replica that is down stays in the ISR: the high watermark waits
            // for it, and it may lead again by the lag rule.
            if let Some(dead) = dead.filter(|_| policy == ReplicationPolicy::InSync) {
                replication.isr.retain(|id| *id != dead);
            }
            if !replication.isr.contains(&leader) {
                replication.isr.push(leader);
            }
        });
        let replication = match updated {
            Ok(Some(replication)) => replication,
            Ok(None) => return,
            Err(err) => {
                warn!(partition = %partition.name, %err, "could not store the election; not electing");
                self.partition_unavailable(&partition.name, ErrorCode::StorageError, format!("no leader: {err}"), true);
                return;
            }
        };
        self.elections.inner.lock().waiting.remove(&partition.name);
        let mut elected = partition.clone();
        elected.spec.leader = leader;
        elected.status.resolution = PartitionResolution::ElectionLeaderFound;
        elected.status.leader = ReplicaStatus { spu: leader, hw: -1, leo: -1 };
        elected.status.replicas.clear();
        elected.status.lsr = match self.settings.policy {
            // Counted from the new leader's first report.
            ReplicationPolicy::Fluvio => 0,
            ReplicationPolicy::InSync => super::in_sync_followers(&replication.isr, leader),
        };
        if let Err(err) = self.store.upsert(vec![elected.clone()]) {
            warn!(partition = %partition.name, %err, "could not store the new leader");
            self.partition_unavailable(&partition.name, ErrorCode::StorageError, format!("no leader: {err}"), true);
            return;
        }
        info!(partition = %partition.name, leader, epoch = replication.epoch, isr = ?replication.isr, "leader elected");
        self.notify_replicas(&elected, None);
    }

    /// A leader's proposal to change the ISR of `key` in `epoch`. Accepted (and persisted) only
    /// from the current leader in the current epoch, for a set that holds the leader and only
    /// replicas of the partition.
    pub(super) fn change_isr(&self, spu: i32, key: &ReplicaKey, epoch: i32, isr: Vec<i32>) -> bool {
        let name = key.to_string();
        let Some(partition) = self.store.get::<PartitionSpec>(&name) else { return false };
        let valid = partition.spec.leader == spu
            && isr.contains(&spu)
            && isr.iter().all(|id| partition.spec.replicas.contains(id))
            && self.online_spus().contains(&spu);
        if !valid {
            return false;
        }
        let updated = self.store.update_replication(&name, |replication| {
            if replication.epoch == epoch {
                replication.isr = isr.clone();
            }
        });
        match updated {
            Ok(Some(replication)) if replication.epoch == epoch => {
                if self.settings.policy == ReplicationPolicy::InSync {
                    let lsr = super::in_sync_followers(&replication.isr, spu);
                    self.store.update_status::<PartitionSpec>(&name, |status| status.lsr = lsr);
                }
                if self.elections.repaired(&name, &replication.isr) {
                    let reason = self.topic_reason(&key.topic);
                    self.store.update_status::<TopicSpec>(&key.topic, |status| status.reason = reason);
                }
                true
            }
            Ok(_) => false,
            Err(err) => {
                warn!(partition = %name, %err, "could not store the in-sync replicas");
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn views(entries: &[(i32, i32, i64)]) -> HashMap<i32, ReplicaView> {
        entries
            .iter()
            .map(|(id, last_epoch, leo)| {
                (*id, ReplicaView { leo: *leo, last_epoch: *last_epoch, damaged_at: None, failed: false })
            })
            .collect()
    }

    const REPLICAS: [i32; 3] = [1, 2, 3];
    const ALL: [i32; 3] = [1, 2, 3];

    #[test]
    fn only_online_in_sync_replicas_are_candidates() {
        let all = views(&[(1, 4, 100), (2, 4, 100), (3, 4, 100)]);
        assert_eq!(choose_leader(&REPLICAS, &ALL, &ALL, Some(&all), None, None, false, None), Some(1));
        assert_eq!(
            choose_leader(&REPLICAS, &[2, 3], &ALL, Some(&all), None, None, false, None),
            Some(2),
            "not in sync"
        );
        assert_eq!(choose_leader(&REPLICAS, &ALL, &[3], Some(&all), None, None, false, None), Some(3), "offline");
        assert_eq!(
            choose_leader(&REPLICAS, &ALL, &ALL, Some(&all), None, Some(1), false, None),
            Some(2),
            "the dead leader"
        );
        assert_eq!(choose_leader(&REPLICAS, &ALL, &[], Some(&all), None, None, false, None), None);
        let mut failed = all.clone();
        failed.get_mut(&1).unwrap().failed = true;
        assert_eq!(
            choose_leader(&REPLICAS, &ALL, &ALL, Some(&failed), None, None, false, None),
            Some(2),
            "could not open"
        );
    }

    #[test]
    fn every_candidate_must_have_reported() {
        let some = views(&[(2, 4, 100), (3, 4, 100)]);
        assert_eq!(
            choose_leader(&REPLICAS, &ALL, &ALL, Some(&some), None, None, false, None),
            None,
            "1 is still opening"
        );
        assert_eq!(
            choose_leader(&REPLICAS, &ALL, &[2, 3], Some(&some), None, None, false, None),
            Some(2),
            "1 is offline"
        );
        assert_eq!(
            choose_leader(&REPLICAS, &[2, 3], &ALL, Some(&some), None, None, false, None),
            Some(2),
            "1 is not in sync"
        );
        assert_eq!(choose_leader(&REPLICAS, &ALL, &ALL, None, None, None, false, None), None);
        assert_eq!(
            choose_leader(&REPLICAS, &ALL, &[2, 3], Some(&some), None, None, true, None),
            None,
            "1 is waited for"
        );
    }

    #[test]
    fn the_log_furthest_ahead_wins_by_epoch_then_end_offset() {
        let ahead = views(&[(1, 4, 100), (2, 5, 90), (3, 5, 95)]);
        assert_eq!(choose_leader(&REPLICAS, &ALL, &ALL, Some(&ahead), None, None, false, None), Some(3));
        // The restarting leader whose log lost a tail that another replica still holds.
        assert_eq!(choose_leader(&REPLICAS, &ALL, &ALL, Some(&ahead), Some(2), None, false, None), Some(3));
        let tied = views(&[(1, 4, 100), (2, 5, 95), (3, 5, 95)]);
        assert_eq!(
            choose_leader(&[3, 1, 2], &ALL, &ALL, Some(&tied), None, None, false, None),
            Some(3),
            "assignment order"
        );
        assert_eq!(
            choose_leader(&REPLICAS, &ALL, &ALL, Some(&tied), Some(3), None, false, None),
            Some(3),
            "the preferred"
        );
    }

    #[test]
    fn after_a_leader_went_offline_only_followers_close_to_it_qualify_under_fluvio() {
        let report = LastReport { leader: 1, leo: 100, followers: HashMap::from([(2, 97), (3, 96)]), lag_rule: true };
        let all = views(&[(2, 4, 97), (3, 4, 96)]);
        let choose =
            |online: &[i32]| choose_leader(&REPLICAS, &ALL, online, Some(&all), None, Some(1), false, Some(&report));
        assert_eq!(choose(&[2, 3]), Some(2), "3 records behind: eligible");
        assert_eq!(choose(&[3]), None, "4 records behind: not eligible");
        // The old leader itself always qualifies when it returns.
        let back = views(&[(1, 4, 100), (3, 4, 96)]);
        assert_eq!(choose_leader(&REPLICAS, &ALL, &[1, 3], Some(&back), Some(1), None, false, Some(&report)), Some(1));
        // A follower the leader never reported (-1) is behind by its whole log.
        let unknown = LastReport { leader: 1, leo: 100, followers: HashMap::from([(2, -1)]), lag_rule: true };
        assert_eq!(choose_leader(&REPLICAS, &ALL, &[2], Some(&all), None, Some(1), false, Some(&unknown)), None);
    }

    #[test]
    fn followers_the_lost_leader_saw_level_go_by_assignment_order_whatever_they_last_reported() {
        for lag_rule in [true, false] {
            let report = |followers: [(i32, i64); 2]| LastReport {
                leader: 1,
                leo: 20,
                followers: HashMap::from(followers),
                lag_rule,
            };
            // 2's own last report predates the records the leader saw it fetch; 3's does not.
            let stale = views(&[(2, -1, 0), (3, 1, 20)]);
            let choose = |report: &LastReport, views: &HashMap<i32, ReplicaView>| {
                choose_leader(&REPLICAS, &ALL, &[2, 3], Some(views), None, Some(1), false, Some(report))
            };
            assert_eq!(choose(&report([(2, 20), (3, 20)]), &stale), Some(2), "lag rule {lag_rule}");
            // The closest by the leader's report wins, and a follower's own later report counts.
            let apart = report([(2, 18), (3, 19)]);
            assert_eq!(choose(&apart, &stale), Some(3), "lag rule {lag_rule}");
            let caught_up = views(&[(2, 1, 20), (3, 1, 19)]);
            assert_eq!(choose(&apart, &caught_up), Some(2), "lag rule {lag_rule}");
        }
    }

    #[test]
    fn without_the_lag_rule_the_last_report_restricts_nobody() {
        let report = LastReport { leader: 1, leo: 100, followers: HashMap::from([(2, 50)]), lag_rule: false };
        let all = views(&[(2, 4, 50), (3, 4, 40)]);
        assert_eq!(choose_leader(&REPLICAS, &ALL, &[2, 3], Some(&all), None, Some(1), false, Some(&report)), Some(2));
        assert_eq!(choose_leader(&REPLICAS, &ALL, &[3], Some(&all), None, Some(1), false, Some(&report)), Some(3));
    }

    #[test]
    fn the_last_report_is_the_leaders_own() {
        let status = PartitionStatus {
            leader: ReplicaStatus { spu: 1, hw: 90, leo: 100 },
            replicas: vec![ReplicaStatus { spu: 2, hw: 90, leo: 99 }, ReplicaStatus { spu: 3, hw: 90, leo: 90 }],
            ..Default::default()
        };
        let report = LastReport::of(&status, 1, true).expect("1 reported");
        assert!(report.qualifies(1) && report.qualifies(2) && !report.qualifies(3));
        assert_eq!(LastReport::of(&status, 2, true), None, "2 did not make it");
        let elected = PartitionStatus { leader: ReplicaStatus { spu: 2, hw: -1, leo: -1 }, ..status };
        assert_eq!(LastReport::of(&elected, 2, true), None, "elected, not reported yet: no restriction");
    }
}
