//! What every SPU knows of the whole cluster, as Fluvio's SC tells its SPUs: every partition
//! and its leader, and the SPUs' private endpoints. The SC publishes it ([`publish`]); SPUs use
//! it to find the leader of `consumer-offset` (to forward a client's offset commit to it) and to
//! know which partitions exist (offsets of deleted partitions are deleted).

use std::collections::HashMap;
use std::sync::Arc;

use fluvio_wire::error_code::ReplicaKey;
use fluvio_wire::sc::partition::split_partition_name;
use fluvio_wire::sc::{ChangeKind, Metadata, PartitionSpec, SpuSpec};
use tokio::sync::{broadcast, watch};
use tokio_util::sync::CancellationToken;

use crate::sc::store::{MetadataStore, StoreEvent};

/// A partition as the SPUs see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PartitionPlace {
    /// The leader's SPU id (the SC's choice; the SPU may be offline).
    pub leader: i32,
    /// Distinguishes a partition from an earlier one of the same name that was deleted: a
    /// topic deleted and created again gets new numbers.
    pub incarnation: u64,
}

/// The cluster as the SPUs see it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ClusterView {
    /// Every partition of every topic.
    pub partitions: HashMap<ReplicaKey, PartitionPlace>,
    /// Each SPU's private endpoint (host, port), where other SPUs reach it.
    pub private_endpoints: HashMap<i32, (String, u16)>,
}

impl ClusterView {
    /// The private endpoint of the leader of `key`, with the leader's id.
    pub(crate) fn leader_endpoint(&self, key: &ReplicaKey) -> Option<(i32, (String, u16))> {
        let leader = self.partitions.get(key)?.leader;
        Some((leader, self.private_endpoints.get(&leader)?.clone()))
    }
}

/// What an SPU holds: the latest view.
pub(crate) type ViewReceiver = watch::Receiver<Arc<ClusterView>>;

/// A view publisher starting from `store`'s current content.
pub(crate) fn channel(store: &MetadataStore) -> watch::Sender<Arc<ClusterView>> {
    let mut builder = Builder::default();
    builder.reset(store);
    watch::Sender::new(Arc::new(builder.view))
}

/// Keeps `view` current with `store` until `shutdown`.
pub(crate) async fn publish(
    store: &MetadataStore,
    view: &watch::Sender<Arc<ClusterView>>,
    shutdown: CancellationToken,
) {
    let mut builder = Builder::default();
    loop {
        // Subscribed before reading, so no change falls in between (applying one twice is
        // harmless).
        let mut events = store.subscribe();
        builder.reset(store);
        view.send_if_modified(|current| builder.publish_into(current));
        loop {
            let event = tokio::select! {
                event = events.recv() => event,
                _ = shutdown.cancelled() => return,
            };
            match event {
                Ok(event) => {
                    if builder.apply(&event.1) {
                        view.send_if_modified(|current| builder.publish_into(current));
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => break, // start over from a snapshot
                Err(broadcast::error::RecvError::Closed) => return,
            }
        }
    }
}

#[derive(Default)]
struct Builder {
    view: ClusterView,
    next_incarnation: u64,
}

impl Builder {
    /// Rebuilds from the store's content, keeping the incarnation of partitions still there.
    fn reset(&mut self, store: &MetadataStore) {
        let (partitions, spus) = store.read(|objects| {
            (
                objects.partitions.values().cloned().collect::<Vec<_>>(),
                objects.spus.values().cloned().collect::<Vec<_>>(),
            )
        });
        let previous = std::mem::take(&mut self.view.partitions);
        for partition in partitions {
            if let Some(key) = partition_key(&partition) {
                let incarnation = match previous.get(&key) {
                    Some(place) => place.incarnation,
                    None => self.new_incarnation(),
                };
                self.view.partitions.insert(key, PartitionPlace { leader: partition.spec.leader, incarnation });
            }
        }
        self.view.private_endpoints = spus.iter().map(|spu| (spu.spec.id, private_endpoint(spu))).collect();
    }

    fn new_incarnation(&mut self) -> u64 {
        self.next_incarnation += 1;
        self.next_incarnation
    }

    /// Applies one change; true if the view changed.
    fn apply(&mut self, event: &StoreEvent) -> bool {
        match event {
            StoreEvent::Partition(kind, partition) => {
                let Some(key) = partition_key(partition) else { return false };
                match kind {
                    ChangeKind::Update => match self.view.partitions.get_mut(&key) {
                        Some(place) if place.leader == partition.spec.leader => false,
                        Some(place) => {
                            place.leader = partition.spec.leader;
                            true
                        }
                        None => {
                            let incarnation = self.new_incarnation();
                            self.view
                                .partitions
                                .insert(key, PartitionPlace { leader: partition.spec.leader, incarnation });
                            true
                        }
                    },
                    ChangeKind::Delete => self.view.partitions.remove(&key).is_some(),
                }
            }
            StoreEvent::Spu(kind, spu) => match kind {
                ChangeKind::Update => {
                    let endpoint = private_endpoint(spu);
                    self.view.private_endpoints.insert(spu.spec.id, endpoint.clone()) != Some(endpoint)
                }
                ChangeKind::Delete => self.view.private_endpoints.remove(&spu.spec.id).is_some(),
            },
            StoreEvent::Topic(..) => false,
        }
    }

    /// Replaces `current` with the view if it differs.
    fn publish_into(&self, current: &mut Arc<ClusterView>) -> bool {
        if **current == self.view {
            return false;
        }
        *current = Arc::new(self.view.clone());
        true
    }
}

fn partition_key(partition: &Metadata<PartitionSpec>) -> Option<ReplicaKey> {
    split_partition_name(&partition.name).map(|(topic, index)| ReplicaKey::new(topic, index))
}

fn private_endpoint(spu: &Metadata<SpuSpec>) -> (String, u16) {
    (spu.spec.private_endpoint.host.clone(), spu.spec.private_endpoint.port)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn partition(name: &str, leader: i32) -> Metadata<PartitionSpec> {
        Metadata { name: name.into(), spec: PartitionSpec { leader, ..Default::default() }, status: Default::default() }
    }

    #[test]
    fn a_partition_created_again_is_a_new_incarnation() {
        let mut builder = Builder::default();
        assert!(builder.apply(&StoreEvent::Partition(ChangeKind::Update, partition("t-0", 5001))));
        let first = builder.view.partitions[&ReplicaKey::new("t", 0)];
        assert!(!builder.apply(&StoreEvent::Partition(ChangeKind::Update, partition("t-0", 5001))));
        assert!(builder.apply(&StoreEvent::Partition(ChangeKind::Update, partition("t-0", 5002))));
        assert_eq!(builder.view.partitions[&ReplicaKey::new("t", 0)].incarnation, first.incarnation);
        assert!(builder.apply(&StoreEvent::Partition(ChangeKind::Delete, partition("t-0", 5002))));
        assert!(builder.apply(&StoreEvent::Partition(ChangeKind::Update, partition("t-0", 5001))));
        assert_ne!(builder.view.partitions[&ReplicaKey::new("t", 0)].incarnation, first.incarnation);
    }
}
