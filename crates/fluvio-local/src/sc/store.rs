//! The SC's metadata store: topics, partitions and SPUs, with an epoch bumped on every change,
//! a broadcast of changes for watchers, and the specs persisted to disk.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use fluvio_wire::sc::{ChangeKind, Metadata, PartitionSpec, Spec, SpuSpec, TopicSpec};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

/// Changes buffered per watcher before it must resynchronize from a snapshot.
const EVENT_BUFFER: usize = 4096;

/// A change with the epoch it produced, as broadcast to watchers.
pub(crate) type EpochEvent = Arc<(i64, StoreEvent)>;

/// One change to the store.
#[derive(Debug, Clone)]
pub(crate) enum StoreEvent {
    /// A topic changed.
    Topic(ChangeKind, Metadata<TopicSpec>),
    /// A partition changed.
    Partition(ChangeKind, Metadata<PartitionSpec>),
    /// An SPU changed.
    Spu(ChangeKind, Metadata<SpuSpec>),
}

/// The objects of every kind.
#[derive(Debug, Default)]
pub(crate) struct Objects {
    pub topics: BTreeMap<String, Metadata<TopicSpec>>,
    pub partitions: BTreeMap<String, Metadata<PartitionSpec>>,
    pub spus: BTreeMap<String, Metadata<SpuSpec>>,
    /// Per partition: the SC's replication bookkeeping (not part of any public object).
    pub replication: BTreeMap<String, PartitionReplication>,
}

/// What the SC must remember about a partition's replication across restarts: the current
/// leader epoch and the in-sync replicas, from which a new leader may be elected without
/// losing a committed record.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct PartitionReplication {
    /// Leader epoch; bumped by every election.
    pub epoch: i32,
    /// In-sync replicas, leader included.
    pub isr: Vec<i32>,
}

/// A kind of object the store keeps.
pub(crate) trait Stored: Spec {
    fn map(objects: &Objects) -> &BTreeMap<String, Metadata<Self>>;
    fn map_mut(objects: &mut Objects) -> &mut BTreeMap<String, Metadata<Self>>;
    fn event(kind: ChangeKind, object: Metadata<Self>) -> StoreEvent;
    fn from_event(event: &StoreEvent) -> Option<(ChangeKind, &Metadata<Self>)>;
}

macro_rules! stored {
    ($spec:ty, $field:ident, $variant:ident) => {
        impl Stored for $spec {
            fn map(objects: &Objects) -> &BTreeMap<String, Metadata<Self>> {
                &objects.$field
            }
            fn map_mut(objects: &mut Objects) -> &mut BTreeMap<String, Metadata<Self>> {
                &mut objects.$field
            }
            fn event(kind: ChangeKind, object: Metadata<Self>) -> StoreEvent {
                StoreEvent::$variant(kind, object)
            }
            fn from_event(event: &StoreEvent) -> Option<(ChangeKind, &Metadata<Self>)> {
                match event {
                    StoreEvent::$variant(kind, object) => Some((*kind, object)),
                    _ => None,
                }
            }
        }
    };
}

stored!(TopicSpec, topics, Topic);
stored!(PartitionSpec, partitions, Partition);
stored!(SpuSpec, spus, Spu);

/// What is kept on disk: specs only. Statuses describe the running cluster and are rebuilt.
#[derive(Debug, Default, Serialize, Deserialize)]
struct PersistedState {
    version: u32,
    topics: BTreeMap<String, TopicSpec>,
    partitions: BTreeMap<String, PartitionSpec>,
    spus: BTreeMap<String, SpuSpec>,
    #[serde(default)]
    replication: BTreeMap<String, PartitionReplication>,
}

/// Why the store could not be loaded or saved.
#[derive(Debug, thiserror::Error)]
pub(crate) enum StoreError {
    #[error("cannot access metadata file {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("metadata file {path} is corrupt: {source}")]
    Corrupt { path: PathBuf, source: serde_json::Error },
}

/// The store. All mutations go through it so watchers see every change exactly once.
pub(crate) struct MetadataStore {
    inner: Mutex<Inner>,
    events: broadcast::Sender<EpochEvent>,
    path: PathBuf,
}

struct Inner {
    epoch: i64,
    objects: Objects,
}

impl MetadataStore {
    /// Loads the store from `dir/metadata.json` (or starts empty).
    pub(crate) fn open(dir: &Path) -> Result<Self, StoreError> {
        let path = dir.join("metadata.json");
        std::fs::create_dir_all(dir).map_err(|source| StoreError::Io { path: path.clone(), source })?;
        let persisted: PersistedState = match std::fs::read(&path) {
            Ok(bytes) => {
                serde_json::from_slice(&bytes).map_err(|source| StoreError::Corrupt { path: path.clone(), source })?
            }
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => PersistedState::default(),
            Err(source) => return Err(StoreError::Io { path, source }),
        };
        let mut objects = Objects::default();
        for (name, spec) in persisted.topics {
            objects.topics.insert(name.clone(), Metadata { name, spec, status: Default::default() });
        }
        for (name, spec) in persisted.partitions {
            objects.partitions.insert(name.clone(), Metadata { name, spec, status: Default::default() });
        }
        for (name, spec) in persisted.spus {
            objects.spus.insert(name.clone(), Metadata { name, spec, status: Default::default() });
        }
        // A partition stored before replication existed: its only replica is in sync.
        for (name, partition) in &objects.partitions {
            let replication = persisted
                .replication
                .get(name)
                .cloned()
                .unwrap_or_else(|| PartitionReplication { epoch: 0, isr: partition.spec.replicas.clone() });
            objects.replication.insert(name.clone(), replication);
        }
        let (events, _) = broadcast::channel(EVENT_BUFFER);
        Ok(Self { inner: Mutex::new(Inner { epoch: 1, objects }), events, path })
    }

    /// Reads the objects under the lock.
    pub(crate) fn read<R>(&self, f: impl FnOnce(&Objects) -> R) -> R {
        f(&self.inner.lock().objects)
    }

    /// Current epoch.
    pub(crate) fn epoch(&self) -> i64 {
        self.inner.lock().epoch
    }

    /// One object by name.
    pub(crate) fn get<S: Stored>(&self, name: &str) -> Option<Metadata<S>> {
        S::map(&self.inner.lock().objects).get(name).cloned()
    }

    /// Every object of a kind.
    pub(crate) fn all<S: Stored>(&self) -> Vec<Metadata<S>> {
        S::map(&self.inner.lock().objects).values().cloned().collect()
    }

    /// A snapshot of a kind and a receiver of every later change, taken atomically.
    pub(crate) fn snapshot_and_subscribe<S: Stored>(&self) -> (i64, Vec<Metadata<S>>, broadcast::Receiver<EpochEvent>) {
        let inner = self.inner.lock();
        let receiver = self.events.subscribe();
        (inner.epoch, S::map(&inner.objects).values().cloned().collect(), receiver)
    }

    /// Subscribes to changes.
    pub(crate) fn subscribe(&self) -> broadcast::Receiver<EpochEvent> {
        self.events.subscribe()
    }

    /// Inserts or replaces objects; persists when a spec changed. Unchanged objects are ignored.
    pub(crate) fn upsert<S: Stored>(&self, objects: Vec<Metadata<S>>) -> Result<(), StoreError> {
        let mut inner = self.inner.lock();
        let mut spec_changed = false;
        for object in objects {
            let map = S::map_mut(&mut inner.objects);
            match map.get(&object.name) {
                Some(existing) if existing == &object => continue,
                Some(existing) if existing.spec == object.spec => {}
                _ => spec_changed = true,
            }
            map.insert(object.name.clone(), object.clone());
            inner.epoch += 1;
            let _ = self.events.send(Arc::new((inner.epoch, S::event(ChangeKind::Update, object))));
        }
        if spec_changed {
            self.persist(&inner.objects)?;
        }
        Ok(())
    }

    /// Changes an object's status in place (no persistence: statuses are not stored).
    pub(crate) fn update_status<S: Stored>(&self, name: &str, f: impl FnOnce(&mut S::Status)) {
        let mut inner = self.inner.lock();
        let Some(object) = S::map_mut(&mut inner.objects).get_mut(name) else { return };
        let before = object.status.clone();
        f(&mut object.status);
        if object.status == before {
            return;
        }
        let object = object.clone();
        inner.epoch += 1;
        let _ = self.events.send(Arc::new((inner.epoch, S::event(ChangeKind::Update, object))));
    }

    /// The replication bookkeeping of a partition.
    pub(crate) fn replication(&self, partition: &str) -> Option<PartitionReplication> {
        self.inner.lock().objects.replication.get(partition).cloned()
    }

    /// Changes a partition's replication bookkeeping and persists it. Returns the new value,
    /// or `None` when the partition does not exist (nothing is stored then).
    pub(crate) fn update_replication(
        &self,
        partition: &str,
        f: impl FnOnce(&mut PartitionReplication),
    ) -> Result<Option<PartitionReplication>, StoreError> {
        let mut inner = self.inner.lock();
        if !inner.objects.partitions.contains_key(partition) {
            return Ok(None);
        }
        let entry = inner.objects.replication.entry(partition.to_string()).or_default();
        let before = entry.clone();
        f(entry);
        let after = entry.clone();
        if after != before {
            self.persist(&inner.objects)?;
        }
        Ok(Some(after))
    }

    /// Removes objects by name.
    pub(crate) fn delete<S: Stored>(&self, names: &[String]) -> Result<(), StoreError> {
        let mut inner = self.inner.lock();
        let mut removed = false;
        for name in names {
            if let Some(object) = S::map_mut(&mut inner.objects).remove(name) {
                if !inner.objects.partitions.contains_key(name) {
                    inner.objects.replication.remove(name);
                }
                removed = true;
                inner.epoch += 1;
                let _ = self.events.send(Arc::new((inner.epoch, S::event(ChangeKind::Delete, object))));
            }
        }
        if removed {
            self.persist(&inner.objects)?;
        }
        Ok(())
    }

    fn persist(&self, objects: &Objects) -> Result<(), StoreError> {
        let state = PersistedState {
            version: 1,
            topics: objects.topics.iter().map(|(k, v)| (k.clone(), v.spec.clone())).collect(),
            partitions: objects.partitions.iter().map(|(k, v)| (k.clone(), v.spec.clone())).collect(),
            spus: objects.spus.iter().map(|(k, v)| (k.clone(), v.spec.clone())).collect(),
            replication: objects.replication.clone(),
        };
        let io = |source| StoreError::Io { path: self.path.clone(), source };
        let json = serde_json::to_vec_pretty(&state)
            .map_err(|source| StoreError::Corrupt { path: self.path.clone(), source })?;
        // Write then rename, so a crash leaves either the old or the new file, never half of one.
        let tmp = self.path.with_extension("json.tmp");
        std::fs::write(&tmp, json).map_err(io)?;
        std::fs::rename(&tmp, &self.path).map_err(io)
    }
}
