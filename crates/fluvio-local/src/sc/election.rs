//! Leader election and in-sync replica bookkeeping.
//!
//! The SC elects a new leader only from the partition's in-sync replicas (ISR). Leaders change
//! their ISR only through the SC ([`Sc::change_isr`]) and count a record as committed only once
//! every ISR member holds it, so any ISR member holds every committed record: electing one
//! loses nothing acknowledged as committed. When no in-sync replica is online the partition is
//! `LeaderOffline` until one returns (no "unclean" election of a replica that may lack
//! committed records). Every election bumps the leader epoch, which fences the old leader's
//! followers and lets a returning replica find where its log diverged.

use fluvio_wire::error_code::{ErrorCode, ReplicaKey};
use fluvio_wire::sc::Metadata;
use fluvio_wire::sc::partition::{PartitionResolution, PartitionSpec, ReplicaStatus};
use tracing::{info, warn};

use super::Sc;

impl Sc {
    /// The leader of `partition`, SPU `dead`, is gone: elect an online in-sync replica, or mark
    /// the partition `LeaderOffline`.
    pub(super) fn leader_lost(&self, partition: &Metadata<PartitionSpec>, dead: i32) {
        let online = self.online_spus();
        let replication = self.store.replication(&partition.name).unwrap_or_default();
        let candidate = partition
            .spec
            .replicas
            .iter()
            .copied()
            .find(|id| *id != dead && replication.isr.contains(id) && online.contains(id));
        match candidate {
            Some(new_leader) => self.elect(partition, new_leader, Some(dead)),
            None => {
                warn!(partition = %partition.name, dead, isr = ?replication.isr, "no in-sync replica online: leader offline");
                self.store.update_status::<PartitionSpec>(&partition.name, |status| {
                    status.resolution = PartitionResolution::LeaderOffline;
                    status.leader = ReplicaStatus { spu: -1, ..status.leader };
                    status.lsr = 0;
                });
            }
        }
    }

    /// SPU `id` (re)registered. For every partition it replicates:
    /// * it led the partition and nobody replaced it (it restarts, or the whole cluster does):
    ///   it leads again, under a new epoch;
    /// * the partition is `LeaderOffline` and this SPU is in sync: it is elected;
    /// * otherwise it follows (its assignment comes with the SPU's synchronization).
    pub(super) fn spu_arrived(&self, id: i32) {
        for partition in self.store.all::<PartitionSpec>() {
            if !partition.spec.replicas.contains(&id) {
                continue;
            }
            let replication = self.store.replication(&partition.name).unwrap_or_default();
            let leads = partition.spec.leader == id;
            let waited_for =
                partition.status.resolution == PartitionResolution::LeaderOffline && replication.isr.contains(&id);
            if leads || waited_for {
                self.elect(&partition, id, None);
            }
        }
    }

    /// Makes `leader` the leader of `partition` under a new epoch, drops `dead` from the ISR,
    /// publishes the change (spec and status, through Watch) and tells the replicas.
    fn elect(&self, partition: &Metadata<PartitionSpec>, leader: i32, dead: Option<i32>) {
        let updated = self.store.update_replication(&partition.name, |replication| {
            replication.epoch += 1;
            if let Some(dead) = dead {
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
        let mut elected = partition.clone();
        elected.spec.leader = leader;
        elected.status.resolution = PartitionResolution::ElectionLeaderFound;
        elected.status.leader = ReplicaStatus { spu: leader, hw: -1, leo: -1 };
        elected.status.replicas.clear();
        elected.status.lsr = replication.isr.len() as u32;
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
                let lsr = replication.isr.len() as u32;
                self.store.update_status::<PartitionSpec>(&name, |status| status.lsr = lsr);
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
