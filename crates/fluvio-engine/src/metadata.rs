//! Caches of the SC's topics, partitions and SPUs, fed by watch streams.
//!
//! Each store becomes *synced* with the first watch message, even an empty one, so a lookup of
//! a missing object answers at once instead of waiting for a change that never comes (the
//! official client's 60-second stall on an empty cluster). When a watch stream ends, the client
//! re-watches; the first message of the new stream is a full snapshot that replaces the store.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use fluvio_wire::sc::{ChangeKind, Metadata, MetadataUpdate, PartitionSpec, Spec, SpuSpec, TopicSpec};
use parking_lot::RwLock;
use tokio::sync::watch;
use tracing::info;

/// One kind of object.
pub(crate) struct Store<S: Spec> {
    state: RwLock<State<S>>,
    epoch: watch::Sender<u64>,
    /// The epoch's value, readable without the watch's lock (the producer reads it for
    /// every record).
    epoch_now: AtomicU64,
}

struct State<S: Spec> {
    synced: bool,
    objects: HashMap<String, Metadata<S>>,
}

/// What the log says when a watched object changes.
pub(crate) trait Logged: Spec + Sized {
    /// Logs the change of an object from `before` (absent: new) to `after`.
    fn log_change(_before: Option<&Metadata<Self>>, _after: &Metadata<Self>) {}
}

impl Logged for TopicSpec {}

impl Logged for SpuSpec {}

impl Logged for PartitionSpec {
    fn log_change(before: Option<&Metadata<Self>>, after: &Metadata<Self>) {
        if let Some(before) = before
            && before.spec.leader != after.spec.leader
        {
            info!(partition = %after.name, from = before.spec.leader, to = after.spec.leader, "partition leader changed");
        }
    }
}

/// Puts `object` into `objects`, logging what changed.
fn put<S: Logged>(objects: &mut HashMap<String, Metadata<S>>, object: Metadata<S>) {
    S::log_change(objects.get(&object.name), &object);
    objects.insert(object.name.clone(), object);
}

impl<S: Logged> Store<S> {
    fn new() -> Self {
        Self {
            state: RwLock::new(State { synced: false, objects: HashMap::new() }),
            epoch: watch::Sender::new(0),
            epoch_now: AtomicU64::new(0),
        }
    }

    /// Applies a watch message. The first message of a stream is a snapshot (as `all`, or as
    /// a delta listing every object) and replaces the store, even when empty; later, a non-empty
    /// `all` is a resynchronization and also replaces it, while two empty lists change nothing.
    pub(crate) fn apply(&self, update: MetadataUpdate<S>, first_of_stream: bool) {
        {
            let mut state = self.state.write();
            if first_of_stream || !update.all.is_empty() {
                let before = std::mem::take(&mut state.objects);
                for object in &update.all {
                    S::log_change(before.get(&object.name), object);
                }
                state.objects = update.all.into_iter().map(|o| (o.name.clone(), o)).collect();
            }
            {
                for change in update.changes {
                    match change.kind {
                        ChangeKind::Update => put(&mut state.objects, change.object),
                        ChangeKind::Delete => {
                            state.objects.remove(&change.object.name);
                        }
                    }
                }
            }
            state.synced = true;
        }
        self.bump_epoch();
    }

    /// Inserts objects learned outside the watch (a direct List answer).
    pub(crate) fn insert(&self, objects: Vec<Metadata<S>>) {
        {
            let mut state = self.state.write();
            for object in objects {
                put(&mut state.objects, object);
            }
        }
        self.bump_epoch();
    }

    /// Inserts objects learned outside the watch, except those that changed since `before`
    /// (a copy of the objects concerned, taken before asking; an object absent from it must
    /// still be absent). A List answer can be older than a watch message that overtook it,
    /// and must not bring back what that message replaced.
    pub(crate) fn insert_unless_changed(&self, objects: Vec<Metadata<S>>, before: &HashMap<String, Metadata<S>>) {
        {
            let mut state = self.state.write();
            for object in objects {
                if state.objects.get(&object.name) == before.get(&object.name) {
                    put(&mut state.objects, object);
                }
            }
        }
        self.bump_epoch();
    }

    /// Every object matching `predicate`, by name.
    pub(crate) fn snapshot(&self, predicate: impl Fn(&Metadata<S>) -> bool) -> HashMap<String, Metadata<S>> {
        self.state.read().objects.values().filter(|o| predicate(o)).map(|o| (o.name.clone(), o.clone())).collect()
    }

    /// Waits until the first watch message arrived. Returns false on timeout.
    pub(crate) async fn wait_synced(&self, timeout: Duration) -> bool {
        if self.state.read().synced {
            return true;
        }
        let mut rx = self.epoch.subscribe();
        let state = &self.state;
        tokio::time::timeout(timeout, async {
            loop {
                if state.read().synced {
                    return;
                }
                if rx.changed().await.is_err() {
                    return;
                }
            }
        })
        .await
        .is_ok()
            && self.state.read().synced
    }

    /// One object.
    pub(crate) fn get(&self, name: &str) -> Option<Metadata<S>> {
        self.state.read().objects.get(name).cloned()
    }

    /// Every object.
    pub(crate) fn values(&self) -> Vec<Metadata<S>> {
        self.state.read().objects.values().cloned().collect()
    }

    /// Finds the first object matching `predicate`.
    pub(crate) fn find(&self, predicate: impl Fn(&Metadata<S>) -> bool) -> Option<Metadata<S>> {
        self.state.read().objects.values().find(|o| predicate(o)).cloned()
    }

    /// A counter bumped on every change.
    pub(crate) fn epoch(&self) -> u64 {
        self.epoch_now.load(Ordering::Acquire)
    }

    /// Counts a change: after it is visible in `state`, for readers of `epoch()` and
    /// subscribers alike.
    fn bump_epoch(&self) {
        self.epoch.send_modify(|e| {
            *e += 1;
            self.epoch_now.store(*e, Ordering::Release);
        });
    }

    /// Notified on every change.
    pub(crate) fn subscribe(&self) -> watch::Receiver<u64> {
        self.epoch.subscribe()
    }
}

/// All three stores.
pub(crate) struct MetadataCache {
    pub(crate) topics: Store<TopicSpec>,
    pub(crate) partitions: Store<PartitionSpec>,
    pub(crate) spus: Store<SpuSpec>,
}

impl MetadataCache {
    pub(crate) fn new() -> Self {
        Self { topics: Store::new(), partitions: Store::new(), spus: Store::new() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fluvio_wire::sc::Change;

    fn topic(name: &str) -> Metadata<TopicSpec> {
        Metadata { name: name.into(), spec: TopicSpec::computed(1, 1), status: Default::default() }
    }

    #[tokio::test]
    async fn snapshot_then_deltas() {
        let store = Store::<TopicSpec>::new();
        assert!(!store.wait_synced(Duration::from_millis(10)).await);
        store.apply(MetadataUpdate { epoch: 1, changes: vec![], all: vec![topic("a"), topic("b")] }, true);
        assert!(store.wait_synced(Duration::from_millis(10)).await);
        assert!(store.get("a").is_some());
        store.apply(
            MetadataUpdate {
                epoch: 2,
                changes: vec![
                    Change { kind: ChangeKind::Delete, object: topic("a") },
                    Change { kind: ChangeKind::Update, object: topic("c") },
                ],
                all: vec![],
            },
            false,
        );
        // An empty delta changes nothing.
        store.apply(MetadataUpdate { epoch: 3, changes: vec![], all: vec![] }, false);
        let mut names: Vec<String> = store.values().into_iter().map(|t| t.name).collect();
        names.sort();
        assert_eq!(names, ["b", "c"]);
        // A new snapshot (after a re-watch) replaces everything.
        store.apply(MetadataUpdate { epoch: 4, changes: vec![], all: vec![topic("z")] }, false);
        assert_eq!(store.values().len(), 1);
    }

    #[test]
    fn a_list_answer_does_not_undo_a_newer_watch_message() {
        let store = Store::<TopicSpec>::new();
        store.apply(MetadataUpdate { epoch: 1, changes: vec![], all: vec![topic("a"), topic("b")] }, true);
        let before = store.snapshot(|_| true);
        // The watch replaces "a" while the List request is in flight.
        let mut newer = topic("a");
        newer.spec = TopicSpec::computed(2, 1);
        store.apply(
            MetadataUpdate {
                epoch: 2,
                changes: vec![Change { kind: ChangeKind::Update, object: newer.clone() }],
                all: vec![],
            },
            false,
        );
        let mut listed_b = topic("b");
        listed_b.spec = TopicSpec::computed(3, 1);
        store.insert_unless_changed(vec![topic("a"), listed_b.clone(), topic("c")], &before);
        assert_eq!(store.get("a"), Some(newer), "the watch's newer version stays");
        assert_eq!(store.get("b"), Some(listed_b), "unchanged objects take the listed version");
        assert_eq!(store.get("c"), Some(topic("c")), "new objects are added");
    }

    #[tokio::test]
    async fn empty_first_message_syncs() {
        let store = Store::<SpuSpec>::new();
        store.apply(MetadataUpdate { epoch: 1, changes: vec![], all: vec![] }, true);
        assert!(store.wait_synced(Duration::from_millis(1)).await);
        assert!(store.get("missing").is_none());
    }
}
