//! A group of tasks that can be waited for (a graceful stop) or aborted all at once (a
//! simulated crash).
//!
//! `TaskTracker` alone can wait but not abort, and a `JoinSet` alone can abort but cannot be
//! shared by the tasks that spawn more tasks (accept loops, connections, stream sessions). The
//! group combines them: every task runs in a shared `JoinSet` (so one call aborts all of them)
//! and is tracked by a `TaskTracker` (so the owner can wait until every aborted future has
//! actually been dropped, which is what releases sockets and open logs).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use tokio::task::{JoinHandle, JoinSet};
use tokio_util::task::TaskTracker;
use tracing::warn;

/// A cloneable handle to a group of tasks.
#[derive(Clone)]
pub(crate) struct TaskGroup {
    tracker: TaskTracker,
    /// `None` once the group is aborted: later spawns are refused, so a task that was being
    /// polled while the group was aborted cannot leave a survivor behind.
    set: Arc<Mutex<Option<JoinSet<()>>>>,
}

impl TaskGroup {
    /// An empty group.
    pub(crate) fn new() -> Self {
        Self { tracker: TaskTracker::new(), set: Arc::new(Mutex::new(Some(JoinSet::new()))) }
    }

    /// Spawns `task` in the group on the current runtime. Returns false, dropping `task`
    /// without polling it, if the group was aborted.
    pub(crate) fn spawn<F>(&self, task: F) -> bool
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let mut set = self.set.lock();
        let Some(set) = set.as_mut() else { return false };
        // Finished tasks stay in the set until joined; reap them here so a long-running group
        // (one task per connection or per acknowledged produce) does not grow without bound.
        while let Some(finished) = set.try_join_next() {
            match finished {
                Err(err) if err.is_panic() => warn!(%err, "a server task panicked"),
                _ => {}
            }
        }
        set.spawn(self.tracker.track_future(task));
        true
    }

    /// Runs blocking work (opening a log) on the blocking pool, tracked by the group. Blocking
    /// work cannot be aborted, so [`TaskGroup::wait`] waits for it even after an abort. `None`
    /// if the group was aborted.
    pub(crate) fn spawn_blocking<F, T>(&self, work: F) -> Option<JoinHandle<T>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        // Checked under the lock so an abort cannot slip in between the check and the spawn.
        let set = self.set.lock();
        set.as_ref()?;
        Some(self.tracker.spawn_blocking(work))
    }

    /// Aborts every task of the group and refuses new ones. Aborted futures are dropped by the
    /// runtime shortly after; [`TaskGroup::wait`] tells when that has happened.
    pub(crate) fn abort(&self) {
        let set = self.set.lock().take();
        // Dropping a JoinSet aborts its tasks; done outside the lock so nothing that runs while
        // the set is dropped can contend on it.
        drop(set);
    }

    /// Waits until every task of the group has ended (finished, or aborted and dropped).
    pub(crate) async fn wait(&self) {
        self.tracker.close();
        self.tracker.wait().await;
    }

    /// Waits up to `grace` for every task to end, then aborts the rest and waits for them to be
    /// dropped. Returns true if everything ended within `grace`.
    pub(crate) async fn wait_or_abort(&self, grace: Duration) -> bool {
        if tokio::time::timeout(grace, self.wait()).await.is_ok() {
            return true;
        }
        self.abort();
        self.wait().await;
        false
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// Counts live instances, to see when futures are dropped.
    struct Live(Arc<AtomicUsize>);

    impl Live {
        fn new(count: &Arc<AtomicUsize>) -> Self {
            count.fetch_add(1, Ordering::SeqCst);
            Self(count.clone())
        }
    }

    impl Drop for Live {
        fn drop(&mut self) {
            self.0.fetch_sub(1, Ordering::SeqCst);
        }
    }

    #[tokio::test]
    async fn abort_drops_every_task_including_nested_ones() {
        let group = TaskGroup::new();
        let live = Arc::new(AtomicUsize::new(0));
        for _ in 0..3 {
            let nested = group.clone();
            let guard = Live::new(&live);
            let nested_guard = Live::new(&live);
            assert!(group.spawn(async move {
                let _guard = guard;
                nested.spawn(async move {
                    let _guard = nested_guard;
                    std::future::pending::<()>().await;
                });
                std::future::pending::<()>().await;
            }));
        }
        tokio::task::yield_now().await;
        assert_eq!(live.load(Ordering::SeqCst), 6);

        group.abort();
        group.wait().await;
        assert_eq!(live.load(Ordering::SeqCst), 0, "every future is dropped once wait returns");

        let guard = Live::new(&live);
        assert!(!group.spawn(async move { drop(guard) }), "an aborted group refuses new tasks");
        assert_eq!(live.load(Ordering::SeqCst), 0, "a refused task is dropped at once");
        assert!(group.spawn_blocking(|| ()).is_none());
    }

    #[tokio::test]
    async fn wait_or_abort_aborts_what_outlives_the_grace_period() {
        let group = TaskGroup::new();
        let live = Arc::new(AtomicUsize::new(0));
        let quick = Live::new(&live);
        let stuck = Live::new(&live);
        group.spawn(async move { drop(quick) });
        group.spawn(async move {
            let _guard = stuck;
            std::future::pending::<()>().await;
        });
        assert!(!group.wait_or_abort(Duration::from_millis(50)).await);
        assert_eq!(live.load(Ordering::SeqCst), 0);

        let finishes = TaskGroup::new();
        finishes.spawn(async {});
        assert!(finishes.wait_or_abort(Duration::from_secs(5)).await);
    }

    #[tokio::test]
    async fn finished_tasks_are_reaped() {
        let group = TaskGroup::new();
        for _ in 0..100 {
            group.spawn(async {});
            tokio::task::yield_now().await;
        }
        let held = group.set.lock().as_ref().map_or(0, JoinSet::len);
        assert!(held < 100, "finished tasks are joined on later spawns ({held} held)");
    }
}
