//! The SC's metadata store: topics, partitions and SPUs, with an epoch bumped on every change,
//! a broadcast of changes for watchers, and the specs persisted to disk.
//!
//! Changes are atomic: a [`Transaction`] (and each single change, which is one) is written to
//! disk before anyone sees it. When the write fails (a full disk), nothing changes, in memory
//! or on disk, and no watcher hears of it: a topic whose creation failed is never listed, can
//! be created again, and never reaches the file. The file is replaced by a rename of a fully
//! written and fsynced temporary file, so a crash leaves either the old or the new metadata.

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
#[derive(Debug, Default, Clone)]
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

/// The version of the metadata file this code writes. Version 2 files are written only by
/// atomic changes, so a topic stored without partitions is one waiting for enough SPUs to be
/// placed (`InsufficientResources`); in older files it may be a creation a failed write cut
/// short ([`MetadataStore::loaded_version`]).
const FORMAT_VERSION: u32 = 2;

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
    /// The version of the file as it was loaded (0: no file).
    loaded_version: u32,
    /// Test hook: every write of the file fails with "no space left on device".
    #[cfg(test)]
    pub(crate) fail_writes: std::sync::atomic::AtomicBool,
}

/// One change of a [`Transaction`]: applies itself to the objects, adds the events watchers
/// must see, and tells whether the file must be written.
type Change<'a> = Box<dyn FnOnce(&mut Objects, &mut Vec<StoreEvent>) -> bool + 'a>;

/// Changes applied together or not at all ([`MetadataStore::transaction`]).
#[must_use = "a transaction does nothing until committed"]
pub(crate) struct Transaction<'a> {
    store: &'a MetadataStore,
    changes: Vec<Change<'a>>,
}

impl<'a> Transaction<'a> {
    /// Inserts or replaces objects (unchanged ones are ignored).
    pub(crate) fn upsert<S: Stored + 'a>(mut self, objects: Vec<Metadata<S>>) -> Self {
        self.changes.push(Box::new(move |all, events| {
            let mut spec_changed = false;
            for object in objects {
                let map = S::map_mut(all);
                match map.get(&object.name) {
                    Some(existing) if existing == &object => continue,
                    Some(existing) if existing.spec == object.spec => {}
                    _ => spec_changed = true,
                }
                map.insert(object.name.clone(), object.clone());
                events.push(S::event(ChangeKind::Update, object));
            }
            spec_changed
        }));
        self
    }

    /// Removes objects by name (with the replication bookkeeping of removed partitions).
    pub(crate) fn delete<S: Stored + 'a>(mut self, names: Vec<String>) -> Self {
        self.changes.push(Box::new(move |all, events| {
            let mut removed = false;
            for name in names {
                if let Some(object) = S::map_mut(all).remove(&name) {
                    if !all.partitions.contains_key(&name) {
                        all.replication.remove(&name);
                    }
                    removed = true;
                    events.push(S::event(ChangeKind::Delete, object));
                }
            }
            removed
        }));
        self
    }

    /// Sets the replication bookkeeping of a partition (which the transaction or the store
    /// must hold by commit time; otherwise the change is dropped).
    pub(crate) fn replication(mut self, partition: String, replication: PartitionReplication) -> Self {
        self.changes.push(Box::new(move |all, _| {
            if !all.partitions.contains_key(&partition) || all.replication.get(&partition) == Some(&replication) {
                return false;
            }
            all.replication.insert(partition, replication);
            true
        }));
        self
    }

    /// Writes the result to disk, then makes it visible. On error nothing changed.
    pub(crate) fn commit(self) -> Result<(), StoreError> {
        self.apply(false)
    }

    /// Makes the result visible even if writing it fails (the error is returned, for a
    /// warning): for facts of the running cluster that are rebuilt on every start, such as
    /// an SPU's endpoints, so that a full disk never keeps the cluster from starting. The next
    /// successful write stores them too.
    pub(crate) fn commit_unsaved_ok(self) -> Result<(), StoreError> {
        self.apply(true)
    }

    fn apply(self, keep_unsaved: bool) -> Result<(), StoreError> {
        let mut inner = self.store.inner.lock();
        let mut next = inner.objects.clone();
        let mut events = Vec::new();
        let mut write = false;
        for change in self.changes {
            write |= change(&mut next, &mut events);
        }
        let saved = if write { self.store.persist(&next) } else { Ok(()) };
        if saved.is_err() && !keep_unsaved {
            return saved;
        }
        inner.objects = next;
        for event in events {
            inner.epoch += 1;
            let _ = self.store.events.send(Arc::new((inner.epoch, event)));
        }
        saved
    }
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
        let loaded_version = persisted.version;
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
        // A write interrupted by a crash or a full disk: never read, and in the way of nothing.
        let _ = std::fs::remove_file(temporary_path(&path));
        Ok(Self {
            inner: Mutex::new(Inner { epoch: 1, objects }),
            events,
            path,
            loaded_version,
            #[cfg(test)]
            fail_writes: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// The version of the metadata file when it was loaded (0: there was none). Files older
    /// than version 2 may hold topics a failed write left without partitions.
    pub(crate) fn loaded_version(&self) -> u32 {
        self.loaded_version
    }

    /// A set of changes to apply together ([`Transaction::commit`]).
    pub(crate) fn transaction(&self) -> Transaction<'_> {
        Transaction { store: self, changes: Vec::new() }
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
    /// On error nothing changed.
    pub(crate) fn upsert<S: Stored>(&self, objects: Vec<Metadata<S>>) -> Result<(), StoreError> {
        self.transaction().upsert(objects).commit()
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
    /// or `None` when the partition does not exist (nothing is stored then). On error nothing
    /// changed.
    pub(crate) fn update_replication(
        &self,
        partition: &str,
        f: impl FnOnce(&mut PartitionReplication),
    ) -> Result<Option<PartitionReplication>, StoreError> {
        let mut inner = self.inner.lock();
        if !inner.objects.partitions.contains_key(partition) {
            return Ok(None);
        }
        let before = inner.objects.replication.get(partition).cloned().unwrap_or_default();
        let mut after = before.clone();
        f(&mut after);
        if after != before {
            let mut next = inner.objects.clone();
            next.replication.insert(partition.to_string(), after.clone());
            self.persist(&next)?;
            inner.objects = next;
        }
        Ok(Some(after))
    }

    /// Writes `objects` to the file: a temporary file, fsynced, renamed over the file, and the
    /// directory fsynced. On error the file is unchanged and the temporary file removed.
    fn persist(&self, objects: &Objects) -> Result<(), StoreError> {
        let state = PersistedState {
            version: FORMAT_VERSION,
            topics: objects.topics.iter().map(|(k, v)| (k.clone(), v.spec.clone())).collect(),
            partitions: objects.partitions.iter().map(|(k, v)| (k.clone(), v.spec.clone())).collect(),
            spus: objects.spus.iter().map(|(k, v)| (k.clone(), v.spec.clone())).collect(),
            replication: objects.replication.clone(),
        };
        let json = serde_json::to_vec_pretty(&state)
            .map_err(|source| StoreError::Corrupt { path: self.path.clone(), source })?;
        let temporary = temporary_path(&self.path);
        let written = self.write_file(&temporary, &json).and_then(|()| std::fs::rename(&temporary, &self.path));
        if let Err(source) = written {
            let _ = std::fs::remove_file(&temporary);
            return Err(StoreError::Io { path: self.path.clone(), source });
        }
        // The rename is durable once the directory is; failing that only risks the old file
        // after a power loss, which is still a consistent state.
        if let Some(dir) = self.path.parent() {
            let _ = std::fs::File::open(dir).and_then(|dir| dir.sync_all());
        }
        Ok(())
    }

    fn write_file(&self, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
        #[cfg(test)]
        if self.fail_writes.load(std::sync::atomic::Ordering::Relaxed) {
            return Err(std::io::Error::from_raw_os_error(libc::ENOSPC));
        }
        let mut file = std::fs::File::create(path)?;
        std::io::Write::write_all(&mut file, bytes)?;
        file.sync_all()
    }
}

/// Where the file is written before it is renamed into place.
fn temporary_path(path: &Path) -> PathBuf {
    path.with_extension("json.tmp")
}

#[cfg(test)]
mod tests {
    use fluvio_wire::sc::topic::CompressionAlgorithm;

    use super::*;

    /// A metadata file written before the objects took the official CLI's JSON spellings (SPU
    /// `id`, lower-case compression) reads as before.
    #[test]
    fn a_version_1_file_reads_as_before() {
        let dir = tempfile::tempdir().unwrap();
        let v1 = r#"{
          "version": 1,
          "topics": {"t": {"replicas": {"computed": {"partitions": 1, "replicationFactor": 1}}, "compressionType": "gzip"}},
          "partitions": {"t-0": {"leader": 5001, "replicas": [5001], "compressionType": "gzip"}},
          "spus": {"custom-spu-5001": {"id": 5001, "spuType": "Custom",
            "publicEndpoint": {"port": 1, "ingress": [{"hostname": "127.0.0.1"}], "encryption": "PLAINTEXT"},
            "privateEndpoint": {"port": 2, "host": "127.0.0.1", "encryption": "PLAINTEXT"}}}
        }"#;
        std::fs::write(dir.path().join("metadata.json"), v1).unwrap();
        let store = MetadataStore::open(dir.path()).unwrap();
        assert_eq!(store.loaded_version(), 1);
        assert_eq!(store.get::<TopicSpec>("t").unwrap().spec.compression_type, CompressionAlgorithm::Gzip);
        assert_eq!(store.get::<PartitionSpec>("t-0").unwrap().spec.compression_type, CompressionAlgorithm::Gzip);
        assert_eq!(store.get::<SpuSpec>("custom-spu-5001").unwrap().spec.id, 5001);

        // The next change writes the current version, with the current spellings.
        let topic = store.get::<TopicSpec>("t").unwrap();
        store.upsert(vec![Metadata { spec: TopicSpec { system: true, ..topic.spec }, ..topic }]).unwrap();
        let text = std::fs::read_to_string(dir.path().join("metadata.json")).unwrap();
        assert!(text.contains("\"spuId\": 5001") && text.contains("\"Gzip\""), "{text}");
        assert_eq!(MetadataStore::open(dir.path()).unwrap().loaded_version(), FORMAT_VERSION);
    }
}
