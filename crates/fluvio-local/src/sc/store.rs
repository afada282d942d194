//! The SC's metadata store: topics, partitions and SPUs, with an epoch bumped on every change,
//! a broadcast of changes for watchers, and the specs persisted to disk.
//!
//! Changes are atomic: a [`Transaction`] (and each single change, which is one) is written to
//! disk before anyone sees it. When the write fails (a full disk), nothing changes, in memory
//! or on disk, and no watcher hears of it: a topic whose creation failed is never listed, can
//! be created again, and never reaches the disk. A change is one entry appended to a journal
//! and fdatasynced, so its cost does not grow with the number of objects; the journal is
//! compacted into a snapshot now and then (see [`journal`](super::journal) for the files and
//! what survives which crash).
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use fluvio_wire::sc::{ChangeKind, Metadata, PartitionSpec, Spec, SpuSpec, TopicSpec};
use parking_lot::Mutex;
use tokio::sync::broadcast;

use super::journal::{JournalEntry, MetadataFiles, PartitionReplication, PersistedState, StoreError};

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
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct Objects {
    pub topics: BTreeMap<String, Metadata<TopicSpec>>,
    pub partitions: BTreeMap<String, Metadata<PartitionSpec>>,
    pub spus: BTreeMap<String, Metadata<SpuSpec>>,
    /// Per partition: the SC's replication bookkeeping (not part of any public object).
    pub replication: BTreeMap<String, PartitionReplication>,
}

/// A kind of object the store keeps.
pub(crate) trait Stored: Spec + 'static {
    fn map(objects: &Objects) -> &BTreeMap<String, Metadata<Self>>;
    fn map_mut(objects: &mut Objects) -> &mut BTreeMap<String, Metadata<Self>>;
    fn event(kind: ChangeKind, object: Metadata<Self>) -> StoreEvent;
    fn from_event(event: &StoreEvent) -> Option<(ChangeKind, &Metadata<Self>)>;
    fn journal(entry: &mut JournalEntry) -> &mut BTreeMap<String, Option<Self>>;
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
            fn journal(entry: &mut JournalEntry) -> &mut BTreeMap<String, Option<Self>> {
                &mut entry.$field
            }
        }
    };
}

stored!(TopicSpec, topics, Topic);
stored!(PartitionSpec, partitions, Partition);
stored!(SpuSpec, spus, Spu);

/// The store. All mutations go through it so watchers see every change exactly once.
pub(crate) struct MetadataStore {
    inner: Mutex<Inner>,
    events: broadcast::Sender<EpochEvent>,
    /// The format version of the metadata as it was loaded (0: there was none).
    loaded_version: u32,
    /// Test hook: every write to disk fails with "no space left on device".
    #[cfg(test)]
    pub(crate) fail_writes: Arc<std::sync::atomic::AtomicBool>,
}

/// One change of a [`Transaction`]: applies itself to the staged objects and adds the events
/// watchers must see.
type Change<'a> = Box<dyn FnOnce(&mut Staging<'_>, &mut Vec<StoreEvent>) + 'a>;

/// Changes applied together or not at all ([`MetadataStore::transaction`]).
#[must_use = "a transaction does nothing until committed"]
pub(crate) struct Transaction<'a> {
    store: &'a MetadataStore,
    changes: Vec<Change<'a>>,
}

impl<'a> Transaction<'a> {
    /// Inserts or replaces objects (unchanged ones are ignored).
    pub(crate) fn upsert<S: Stored + 'a>(mut self, objects: Vec<Metadata<S>>) -> Self {
        self.changes.push(Box::new(move |staging, events| {
            for object in objects {
                let spec_changed = match S::map(staging.objects).get(&object.name) {
                    Some(existing) if existing == &object => continue,
                    Some(existing) => existing.spec != object.spec,
                    None => true,
                };
                staging.put(object.clone(), spec_changed);
                events.push(S::event(ChangeKind::Update, object));
            }
        }));
        self
    }

    /// Removes objects by name (with the replication bookkeeping of removed partitions).
    pub(crate) fn delete<S: Stored + 'a>(mut self, names: Vec<String>) -> Self {
        self.changes.push(Box::new(move |staging, events| {
            for name in names {
                if let Some(object) = staging.remove::<S>(&name) {
                    if !staging.objects.partitions.contains_key(&name) {
                        staging.set_replication(&name, None);
                    }
                    events.push(S::event(ChangeKind::Delete, object));
                }
            }
        }));
        self
    }

    /// Sets the replication bookkeeping of a partition (which the transaction or the store
    /// must hold by commit time; otherwise the change is dropped).
    pub(crate) fn replication(mut self, partition: String, replication: PartitionReplication) -> Self {
        self.changes.push(Box::new(move |staging, _| {
            if staging.objects.partitions.contains_key(&partition) {
                staging.set_replication(&partition, Some(replication));
            }
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
        let mut events = Vec::new();
        let stored = inner.stage_and_store(keep_unsaved, |staging| {
            for change in self.changes {
                change(staging, &mut events);
            }
        });
        if stored.is_ok() || keep_unsaved {
            for event in events {
                inner.epoch += 1;
                let _ = self.store.events.send(Arc::new((inner.epoch, event)));
            }
        }
        stored
    }
}

/// Restores one object as it was before a change.
type Undo = Box<dyn FnOnce(&mut Objects)>;

/// Changes being applied to the objects in place: what each replaced (to undo them all if
/// they cannot be stored) and what must be written to disk.
struct Staging<'a> {
    objects: &'a mut Objects,
    undo: Vec<Undo>,
    entry: JournalEntry,
}

impl<'a> Staging<'a> {
    fn new(objects: &'a mut Objects) -> Self {
        Self { objects, undo: Vec::new(), entry: JournalEntry::default() }
    }

    /// Inserts or replaces `object`; stored on disk when its spec changed.
    fn put<S: Stored>(&mut self, object: Metadata<S>, spec_changed: bool) {
        if spec_changed {
            S::journal(&mut self.entry).insert(object.name.clone(), Some(object.spec.clone()));
        }
        let name = object.name.clone();
        let previous = S::map_mut(self.objects).insert(object.name.clone(), object);
        self.undo.push(Box::new(move |objects| restore::<S>(objects, name, previous)));
    }

    /// Removes the object `name`, if there is one.
    fn remove<S: Stored>(&mut self, name: &str) -> Option<Metadata<S>> {
        let object = S::map_mut(self.objects).remove(name)?;
        S::journal(&mut self.entry).insert(name.to_string(), None);
        let previous = Some(object.clone());
        let name = name.to_string();
        self.undo.push(Box::new(move |objects| restore::<S>(objects, name, previous)));
        Some(object)
    }

    /// Sets (or with `None` removes) a partition's replication bookkeeping.
    fn set_replication(&mut self, partition: &str, replication: Option<PartitionReplication>) {
        if self.objects.replication.get(partition) == replication.as_ref() {
            return;
        }
        self.entry.replication.insert(partition.to_string(), replication.clone());
        let previous = match replication {
            Some(replication) => self.objects.replication.insert(partition.to_string(), replication),
            None => self.objects.replication.remove(partition),
        };
        let partition = partition.to_string();
        self.undo.push(Box::new(move |objects| match previous {
            Some(previous) => {
                objects.replication.insert(partition, previous);
            }
            None => {
                objects.replication.remove(&partition);
            }
        }));
    }
}

fn restore<S: Stored>(objects: &mut Objects, name: String, previous: Option<Metadata<S>>) {
    match previous {
        Some(previous) => {
            S::map_mut(objects).insert(name, previous);
        }
        None => {
            S::map_mut(objects).remove(&name);
        }
    }
}

/// The specs of `objects`, as the snapshot holds them.
fn persisted(objects: &Objects) -> PersistedState {
    fn specs<S: Spec + Clone>(map: &BTreeMap<String, Metadata<S>>) -> BTreeMap<String, S> {
        map.iter().map(|(name, object)| (name.clone(), object.spec.clone())).collect()
    }
    PersistedState {
        version: 0,
        journal: 0,
        topics: specs(&objects.topics),
        partitions: specs(&objects.partitions),
        spus: specs(&objects.spus),
        replication: objects.replication.clone(),
    }
}

struct Inner {
    epoch: i64,
    objects: Objects,
    files: MetadataFiles,
}

impl Inner {
    /// Applies `stage` to the objects and stores what it changed. When that fails, every change
    /// is undone, unless `keep_unsaved`: then they stay, and the next write stores them.
    fn stage_and_store(&mut self, keep_unsaved: bool, stage: impl FnOnce(&mut Staging<'_>)) -> Result<(), StoreError> {
        let Inner { objects, files, .. } = self;
        let mut staging = Staging::new(objects);
        stage(&mut staging);
        let Staging { entry, undo, .. } = staging;
        if entry.is_empty() {
            return Ok(());
        }
        let stored = files.write(&entry, || persisted(objects));
        if stored.is_err() {
            if keep_unsaved {
                files.mark_unsaved();
            } else {
                for undo in undo.into_iter().rev() {
                    undo(objects);
                }
            }
        }
        stored
    }
}

impl MetadataStore {
    /// Loads the store from the snapshot and journal in `dir` (or starts empty).
    pub(crate) fn open(dir: &Path) -> Result<Self, StoreError> {
        let (files, persisted) = MetadataFiles::open(dir)?;
        let loaded_version = files.loaded_version();
        #[cfg(test)]
        let fail_writes = files.faults.fail_writes.clone();
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
        Ok(Self {
            inner: Mutex::new(Inner { epoch: 1, objects, files }),
            events,
            loaded_version,
            #[cfg(test)]
            fail_writes,
        })
    }

    /// Writes the whole state as a new snapshot and empties the journal, if it holds anything
    /// (at a clean stop: the next start replays nothing).
    pub(crate) fn checkpoint(&self) -> Result<(), StoreError> {
        let mut inner = self.inner.lock();
        let Inner { objects, files, .. } = &mut *inner;
        files.checkpoint(|| persisted(objects))
    }

    /// The format version of the metadata as it was loaded (0: there was none). Metadata older
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
        inner.stage_and_store(false, |staging| staging.set_replication(partition, Some(after.clone())))?;
        Ok(Some(after))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;

    use fluvio_wire::sc::partition::PartitionStatus;
    use fluvio_wire::sc::topic::{CompressionAlgorithm, TopicStatus};

    use super::*;
    use crate::sc::journal::{FORMAT_VERSION, SNAPSHOT_FILE};

    fn topic(name: &str) -> Metadata<TopicSpec> {
        Metadata { name: name.into(), spec: TopicSpec::computed(1, 1), status: TopicStatus::default() }
    }

    fn partition(name: &str) -> Metadata<PartitionSpec> {
        let spec = PartitionSpec { leader: 1, replicas: vec![1], ..Default::default() };
        Metadata { name: name.into(), spec, status: PartitionStatus::default() }
    }

    #[test]
    fn a_transaction_that_cannot_be_stored_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = MetadataStore::open(dir.path()).unwrap();
        store
            .transaction()
            .upsert(vec![topic("t")])
            .upsert(vec![partition("t-0")])
            .replication("t-0".into(), PartitionReplication { epoch: 0, isr: vec![1] })
            .commit()
            .unwrap();
        let before = store.read(Objects::clone);
        let mut events = store.subscribe();

        // Replacements, removals (with the replication bookkeeping they take along) and
        // insertions, all undone when the write fails.
        store.fail_writes.store(true, Ordering::Relaxed);
        let mut grown = topic("t");
        grown.spec = TopicSpec::computed(2, 1);
        let failed = store
            .transaction()
            .upsert(vec![grown])
            .delete::<PartitionSpec>(vec!["t-0".into()])
            .upsert(vec![topic("u"), topic("v")])
            .commit();
        assert!(failed.is_err());
        assert!(store.update_replication("t-0", |r| r.epoch += 1).is_err());
        assert_eq!(store.read(Objects::clone), before);
        assert!(events.try_recv().is_err(), "watchers heard of nothing");

        store.fail_writes.store(false, Ordering::Relaxed);
        drop(store);
        let reopened = MetadataStore::open(dir.path()).unwrap();
        assert_eq!(reopened.read(Objects::clone), before);
    }

    #[test]
    fn a_change_left_unsaved_is_stored_by_the_next_write() {
        let dir = tempfile::tempdir().unwrap();
        let store = MetadataStore::open(dir.path()).unwrap();
        store.fail_writes.store(true, Ordering::Relaxed);
        let spu = Metadata {
            name: "custom-spu-1".into(),
            spec: SpuSpec { id: 1, ..Default::default() },
            status: Default::default(),
        };
        assert!(store.transaction().upsert(vec![spu]).commit_unsaved_ok().is_err());
        assert!(store.get::<SpuSpec>("custom-spu-1").is_some(), "visible anyway");
        store.fail_writes.store(false, Ordering::Relaxed);
        store.upsert(vec![topic("t")]).unwrap();
        drop(store);
        let reopened = MetadataStore::open(dir.path()).unwrap();
        assert!(reopened.get::<SpuSpec>("custom-spu-1").is_some());
        assert!(reopened.get::<TopicSpec>("t").is_some());
    }

    #[test]
    fn a_checkpoint_leaves_everything_in_the_snapshot() {
        let dir = tempfile::tempdir().unwrap();
        let store = MetadataStore::open(dir.path()).unwrap();
        store.transaction().upsert(vec![topic("t")]).upsert(vec![partition("t-0")]).commit().unwrap();
        store.checkpoint().unwrap();
        drop(store);
        let snapshot = std::fs::read_to_string(dir.path().join(SNAPSHOT_FILE)).unwrap();
        assert!(snapshot.contains("\"t-0\""), "{snapshot}");
        let journal = std::fs::metadata(dir.path().join(crate::sc::journal::JOURNAL_FILE)).unwrap();
        assert_eq!(journal.len(), 16, "an empty journal");
        assert!(MetadataStore::open(dir.path()).unwrap().get::<PartitionSpec>("t-0").is_some());
    }

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
        std::fs::write(dir.path().join(SNAPSHOT_FILE), v1).unwrap();
        let store = MetadataStore::open(dir.path()).unwrap();
        assert_eq!(store.loaded_version(), 1);
        assert_eq!(store.get::<TopicSpec>("t").unwrap().spec.compression_type, CompressionAlgorithm::Gzip);
        assert_eq!(store.get::<PartitionSpec>("t-0").unwrap().spec.compression_type, CompressionAlgorithm::Gzip);
        assert_eq!(store.get::<SpuSpec>("custom-spu-5001").unwrap().spec.id, 5001);

        // The next change writes the current version, with the current spellings.
        let topic = store.get::<TopicSpec>("t").unwrap();
        store.upsert(vec![Metadata { spec: TopicSpec { system: true, ..topic.spec }, ..topic }]).unwrap();
        let text = std::fs::read_to_string(dir.path().join(SNAPSHOT_FILE)).unwrap();
        assert!(text.contains("\"spuId\": 5001") && text.contains("\"Gzip\""), "{text}");
        drop(store);
        assert_eq!(MetadataStore::open(dir.path()).unwrap().loaded_version(), FORMAT_VERSION);
    }

    /// A topic stored without partitions (one waiting for SPUs) in the journal alone, as a crash
    /// before any compaction leaves it, is of the current version: not taken for a creation a
    /// failed write cut short (which the SC would remove).
    #[test]
    fn a_waiting_topic_in_the_journal_reads_as_the_current_version() {
        let dir = tempfile::tempdir().unwrap();
        let store = MetadataStore::open(dir.path()).unwrap();
        assert_eq!(store.loaded_version(), 0);
        store.upsert(vec![topic("waiting")]).unwrap();
        drop(store);
        assert!(!dir.path().join(SNAPSHOT_FILE).exists(), "no compaction happened");
        let reopened = MetadataStore::open(dir.path()).unwrap();
        assert_eq!(reopened.loaded_version(), FORMAT_VERSION);
        assert!(reopened.get::<TopicSpec>("waiting").is_some());
    }
}
