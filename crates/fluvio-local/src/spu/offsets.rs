//! Consumer offsets, kept by the SPU leading partition 0 of the system topic `consumer-offset`
//! as Fluvio's SPU keeps them: every change is a record of that partition (an
//! [`OffsetEntry`], see `fluvio_wire::consumer_offset`), so the offsets are replicated, and
//! survive restarts and failovers, as committed records do; the leader keeps them in memory,
//! rebuilt from its log whenever a leadership term begins. After every 100 changes it writes a
//! snapshot (a checkpoint followed by every offset), so that rebuilding reads the log backwards
//! from its end only down to the last checkpoint.
//!
//! A change is answered once it is committed, i.e. held by every in-sync replica (Fluvio's SPU
//! answers once its own log has it), so that an offset a client was told is stored survives the
//! loss of the leader.
//!
//! When a partition is deleted (its topic is), its offsets are deleted too, so that a topic
//! created again under the same name starts without them; listings only ever show offsets of
//! partitions that exist.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::BytesMut;
use fluvio_wire::Decoder;
use fluvio_wire::consumer_offset::{
    ConsumerOffset, ConsumerOffsetFilter, OFFSET_ENTRY_VERSION, OffsetEntry, OffsetKey, OffsetValue,
    consumer_offset_replica, entries_batch,
};
use fluvio_wire::error_code::{ErrorCode, ReplicaKey, RequestKind};
use fluvio_wire::record::RecordSet;
use fluvio_wire::spu::Isolation;
use parking_lot::Mutex;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use super::SpuState;
use super::replica::{AppendError, CommitOutcome, Replica};
use crate::storage;
use crate::view::ClusterView;

/// Changes after which the leader writes a snapshot (Fluvio's `DEFAULT_FLUSH_THRESHOLD`: a
/// snapshot once more than this many changes were written since the last one).
const SNAPSHOT_THRESHOLD: usize = 100;
/// Largest decompressed records area read back (the entries are small and uncompressed).
const MAX_DECOMPRESSED: usize = 64 << 20;

/// The consumer offsets of the partition `consumer-offset-0` while this SPU leads it.
#[derive(Default)]
pub(crate) struct OffsetStore {
    loaded: Mutex<Option<Loaded>>,
}

/// The offsets as of one leadership term of `consumer-offset-0`.
struct Loaded {
    replica: Arc<Replica>,
    /// The term they were rebuilt in: when it ends, they are rebuilt again.
    term: CancellationToken,
    offsets: HashMap<OffsetKey, OffsetValue>,
    changes_since_snapshot: usize,
    /// The incarnation of each partition when last seen in the cluster view (see
    /// [`crate::view::PartitionPlace`]): offsets of a partition whose incarnation changed or
    /// that is gone are deleted.
    incarnations: HashMap<ReplicaKey, u64>,
}

/// An append to `consumer-offset` that still has to be committed before it is answered.
pub(crate) struct PendingCommit {
    replica: Arc<Replica>,
    offset: i64,
    term: CancellationToken,
}

impl PendingCommit {
    /// Waits until the change is committed: `NotLeaderForPartition` if the leadership ends
    /// first, `RequestTimedOut` after `timeout`.
    pub(crate) async fn committed(self, timeout: Duration) -> Result<(), ErrorCode> {
        match self.replica.wait_committed(self.offset, timeout, &self.term).await {
            CommitOutcome::Committed => Ok(()),
            CommitOutcome::NotLeader => Err(ErrorCode::NotLeaderForPartition),
            CommitOutcome::TimedOut => {
                Err(ErrorCode::RequestTimedOut { timeout_ms: timeout.as_millis() as u64, kind: RequestKind::Produce })
            }
        }
    }
}

impl OffsetStore {
    /// Stores `offset` for `key`.
    pub(crate) fn update(&self, spu: &SpuState, key: OffsetKey, offset: i64) -> Result<PendingCommit, ErrorCode> {
        self.with_loaded(spu, |loaded, _| {
            let value = OffsetValue { offset, modified_time: now_secs() };
            let entry = OffsetEntry::updated(&key, &value).map_err(|e| ErrorCode::Other(e.to_string()))?;
            let pending = loaded.append(spu, &[entry])?;
            debug!(consumer = %key.consumer_id, replica = %key.replica_id, offset, "consumer offset stored");
            loaded.offsets.insert(key, value);
            loaded.changed(spu);
            Ok(pending)
        })
    }

    /// Deletes the offset of `key`; deleting one that does not exist succeeds (as on Fluvio).
    pub(crate) fn delete(&self, spu: &SpuState, key: OffsetKey) -> Result<PendingCommit, ErrorCode> {
        self.with_loaded(spu, |loaded, _| {
            let entry = OffsetEntry::deleted(&key).map_err(|e| ErrorCode::Other(e.to_string()))?;
            let pending = loaded.append(spu, &[entry])?;
            debug!(consumer = %key.consumer_id, replica = %key.replica_id, "consumer offset deleted");
            loaded.offsets.remove(&key);
            loaded.changed(spu);
            Ok(pending)
        })
    }

    /// The offsets matching `filter`, of partitions that exist, by consumer, topic and
    /// partition.
    pub(crate) fn list(
        &self,
        spu: &SpuState,
        filter: Option<&ConsumerOffsetFilter>,
    ) -> Result<Vec<ConsumerOffset>, ErrorCode> {
        self.with_loaded(spu, |loaded, view| {
            let mut listed: Vec<ConsumerOffset> = loaded
                .offsets
                .iter()
                .filter(|(key, _)| {
                    filter.is_none_or(|filter| {
                        filter.replica_id.as_ref().is_none_or(|r| *r == key.replica_id)
                            && filter.consumer_id.as_ref().is_none_or(|c| *c == key.consumer_id)
                    })
                })
                .filter(|(key, _)| view.partitions.contains_key(&key.replica_id))
                .map(|(key, value)| ConsumerOffset {
                    consumer_id: key.consumer_id.clone(),
                    replica_id: key.replica_id.clone(),
                    offset: value.offset,
                    modified_time: value.modified_time,
                })
                .collect();
            listed.sort_by(|a, b| (&a.consumer_id, &a.replica_id).cmp(&(&b.consumer_id, &b.replica_id)));
            Ok(listed)
        })
    }

    /// The stored offset of `key`, if any.
    pub(crate) fn get(&self, spu: &SpuState, key: &OffsetKey) -> Result<Option<i64>, ErrorCode> {
        self.with_loaded(spu, |loaded, view| {
            let exists = view.partitions.contains_key(&key.replica_id);
            Ok(loaded.offsets.get(key).filter(|_| exists).map(|value| value.offset))
        })
    }

    /// Deletes the offsets of partitions that were deleted, if this SPU leads
    /// `consumer-offset` (nothing to do otherwise: its next leader does it).
    pub(crate) fn purge_deleted_partitions(&self, spu: &SpuState) {
        if spu.leader_replica(&consumer_offset_replica()).is_none() {
            return;
        }
        if let Err(code) = self.with_loaded(spu, |loaded, view| loaded.purge(spu, view)) {
            debug!(spu = spu.id, ?code, "could not delete the offsets of deleted partitions");
        }
    }

    /// Runs `work` on the offsets of the current leadership term, rebuilding them first if the
    /// term is a new one, with the latest cluster view. `PartitionNotLeader` unless this SPU
    /// leads `consumer-offset-0`.
    fn with_loaded<R>(
        &self,
        spu: &SpuState,
        work: impl FnOnce(&mut Loaded, &ClusterView) -> Result<R, ErrorCode>,
    ) -> Result<R, ErrorCode> {
        let key = consumer_offset_replica();
        let replica = spu.leader_replica(&key).ok_or(ErrorCode::PartitionNotLeader)?;
        let term = replica.leadership().ok_or(ErrorCode::PartitionNotLeader)?;
        let mut loaded = self.loaded.lock();
        // Taken under the lock, so that the offsets are never purged against an older view
        // than they were last compared with.
        let view = spu.view.borrow().clone();
        let current = loaded.as_ref().is_some_and(|l| !l.term.is_cancelled() && Arc::ptr_eq(&l.replica, &replica));
        if !current {
            *loaded = None;
            let mut fresh = Loaded::rebuild(replica, term).map_err(|message| {
                warn!(spu = spu.id, %message, "could not read the consumer offsets");
                ErrorCode::Other(format!("the consumer offsets cannot be read: {message}"))
            })?;
            fresh.purge(spu, &view)?;
            *loaded = Some(fresh);
        }
        match loaded.as_mut() {
            Some(loaded) => work(loaded, &view),
            None => Err(ErrorCode::PartitionNotLeader),
        }
    }
}

impl Loaded {
    /// Rebuilds the offsets from the log of `replica` (as leader in `term`): the entries after
    /// the last checkpoint, read backwards from the log end, applied in log order.
    fn rebuild(replica: Arc<Replica>, term: CancellationToken) -> Result<Self, String> {
        let offsets = replica.offsets();
        // Batches from the newest back, each with its entries after its last checkpoint.
        let mut newest_first: Vec<Vec<OffsetEntry>> = Vec::new();
        let mut end = offsets.leo;
        let mut read_batches = 0usize;
        while end > offsets.log_start {
            let slice = replica.read(end - 1, 1, Isolation::ReadUncommitted).map_err(|e| e.to_string())?;
            let batches = RecordSet::from_encoded(slice.bytes).batches().map_err(|e| e.to_string())?;
            let Some(batch) = batches.into_iter().next() else { break };
            if batch.header.base_offset >= end {
                return Err(format!("the batch read at {} does not end before it", end - 1));
            }
            read_batches += 1;
            let entries = decode_entries(&replica, batch.header.base_offset, &batch.records(MAX_DECOMPRESSED));
            match entries.iter().rposition(|entry| *entry == OffsetEntry::Checkpoint) {
                Some(checkpoint) => {
                    newest_first.push(entries[checkpoint + 1..].to_vec());
                    break;
                }
                None => newest_first.push(entries),
            }
            end = batch.header.base_offset;
        }
        let mut map = HashMap::new();
        for entry in newest_first.into_iter().rev().flatten() {
            match entry {
                OffsetEntry::Updated { key, value } => {
                    match (OffsetEntry::decode_key(&key), OffsetEntry::decode_value(&value)) {
                        (Ok(key), Ok(value)) => {
                            map.insert(key, value);
                        }
                        (Err(err), _) | (_, Err(err)) => {
                            warn!(replica = %replica.key(), %err, "skipping an unreadable entry")
                        }
                    }
                }
                OffsetEntry::Deleted { key } => match OffsetEntry::decode_key(&key) {
                    Ok(key) => {
                        map.remove(&key);
                    }
                    Err(err) => warn!(replica = %replica.key(), %err, "skipping an unreadable entry"),
                },
                OffsetEntry::Checkpoint => {}
            }
        }
        debug!(replica = %replica.key(), consumers = map.len(), batches = read_batches, leo = offsets.leo, "consumer offsets loaded");
        Ok(Self { replica, term, offsets: map, changes_since_snapshot: 0, incarnations: HashMap::new() })
    }

    /// Appends `entries` as one batch; returns what to wait on for its commitment.
    fn append(&self, spu: &SpuState, entries: &[OffsetEntry]) -> Result<PendingCommit, ErrorCode> {
        let batch = entries_batch(entries).map_err(|e| ErrorCode::Other(e.to_string()))?;
        let mut bytes = BytesMut::with_capacity(batch.encoded_len());
        batch.encode_to(&mut bytes).map_err(|e| ErrorCode::Other(e.to_string()))?;
        let key = self.replica.key().clone();
        match self.replica.append_as_leader(vec![bytes]) {
            Ok(appended) => {
                spu.set_out_of_storage(&key, false);
                Ok(PendingCommit { replica: self.replica.clone(), offset: appended.commit_offset, term: appended.term })
            }
            Err(AppendError::NotLeader) => Err(ErrorCode::PartitionNotLeader),
            Err(AppendError::Log(err)) if storage::log_is_full(&err) => {
                spu.set_out_of_storage(&key, true);
                Err(ErrorCode::PartitionFull { replica_key: key })
            }
            Err(err) => {
                warn!(replica = %key, %err, "could not store a consumer offset");
                Err(ErrorCode::StorageError)
            }
        }
    }

    /// Counts a change, and writes a snapshot once there were enough. A snapshot that cannot
    /// be written is only a warning: the change itself is stored.
    fn changed(&mut self, spu: &SpuState) {
        self.changes_since_snapshot += 1;
        if self.changes_since_snapshot <= SNAPSHOT_THRESHOLD {
            return;
        }
        let snapshot: Result<Vec<OffsetEntry>, _> = std::iter::once(Ok(OffsetEntry::Checkpoint))
            .chain(self.offsets.iter().map(|(key, value)| OffsetEntry::updated(key, value)))
            .collect();
        let written =
            snapshot.map_err(|e| ErrorCode::Other(e.to_string())).and_then(|entries| self.append(spu, &entries));
        match written {
            Ok(_) => self.changes_since_snapshot = 0,
            Err(code) => {
                warn!(replica = %self.replica.key(), ?code, "could not write a snapshot of the consumer offsets")
            }
        }
    }

    /// Deletes the offsets of partitions gone from `view`, or created again since last seen.
    fn purge(&mut self, spu: &SpuState, view: &ClusterView) -> Result<(), ErrorCode> {
        let gone: Vec<OffsetKey> = self
            .offsets
            .keys()
            .filter(|key| match (view.partitions.get(&key.replica_id), self.incarnations.get(&key.replica_id)) {
                (None, _) => true,
                (Some(place), Some(seen)) => place.incarnation != *seen,
                (Some(_), None) => false,
            })
            .cloned()
            .collect();
        if !gone.is_empty() {
            let entries: Vec<OffsetEntry> = gone
                .iter()
                .map(OffsetEntry::deleted)
                .collect::<Result<_, _>>()
                .map_err(|e| ErrorCode::Other(e.to_string()))?;
            // On failure the incarnations stay as they were, so the next attempt finds the
            // same offsets to delete.
            self.append(spu, &entries)?;
            for key in &gone {
                info!(consumer = %key.consumer_id, replica = %key.replica_id, "consumer offset of a deleted partition deleted");
                self.offsets.remove(key);
            }
            self.changed(spu);
        }
        self.incarnations = view.partitions.iter().map(|(key, place)| (key.clone(), place.incarnation)).collect();
        Ok(())
    }
}

/// The entries of a batch's records, skipping (with a warning) what is not an entry: only
/// SPUs write this topic, but any client may produce to it.
fn decode_entries(
    replica: &Replica,
    base_offset: i64,
    records: &Result<Vec<fluvio_wire::Record>, fluvio_wire::DecodeError>,
) -> Vec<OffsetEntry> {
    let records = match records {
        Ok(records) => records,
        Err(err) => {
            warn!(replica = %replica.key(), base_offset, %err, "skipping an unreadable batch of consumer offsets");
            return Vec::new();
        }
    };
    records
        .iter()
        .filter_map(|record| match OffsetEntry::decode_exact(record.value.clone(), OFFSET_ENTRY_VERSION) {
            Ok(entry) => Some(entry),
            Err(err) => {
                warn!(replica = %replica.key(), base_offset, %err, "skipping a record that is not a consumer offset entry");
                None
            }
        })
        .collect()
}

fn now_secs() -> u64 {
    SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_secs())
}
