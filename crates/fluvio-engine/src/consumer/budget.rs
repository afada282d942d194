//! The byte budget of one stream's buffered data: what its background task received and the
//! application has not taken yet, plus room reserved for the push it asked for. The task
//! reserves room before it asks the server for more (opening a session, acknowledging a push,
//! fetching a cut batch whole) and waits while the room is not there, so a stream whose reader
//! falls behind holds at most [`ConsumerConfig::max_buffered_bytes`](super::ConsumerConfig)
//! bytes. Room is given back when the records of a push have all been taken, and by dropping
//! (a closed stream returns everything it held).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::Notify;

struct Inner {
    used: AtomicUsize,
    cap: usize,
    /// Wakes the task waiting for room (there is at most one: the stream's task).
    freed: Notify,
}

/// A stream's budget, shared by its task (which reserves) and its reader (which frees).
#[derive(Clone)]
pub(super) struct Budget(Arc<Inner>);

impl Budget {
    /// A budget of `cap` bytes.
    pub(super) fn new(cap: usize) -> Self {
        Self(Arc::new(Inner { used: AtomicUsize::new(0), cap, freed: Notify::new() }))
    }

    /// Holds `bytes` once they fit under the cap; something larger than the cap waits until
    /// nothing else is held and is then held alone. Cancel-safe: nothing is held until it
    /// returns.
    pub(super) async fn reserve(&self, bytes: usize) -> Held {
        loop {
            if let Some(held) = self.try_reserve(bytes) {
                return held;
            }
            self.0.freed.notified().await;
        }
    }

    /// Holds `bytes` if they fit under the cap now (as [`Self::reserve`] would at once).
    pub(super) fn try_reserve(&self, bytes: usize) -> Option<Held> {
        // Only the stream's task adds; readers only subtract, so room seen here stays.
        let used = self.0.used.load(Ordering::Acquire);
        (used == 0 || used.saturating_add(bytes) <= self.0.cap).then(|| self.hold(bytes))
    }

    /// Holds `bytes` at once, cap or not (for what already arrived).
    pub(super) fn hold(&self, bytes: usize) -> Held {
        self.0.used.fetch_add(bytes, Ordering::AcqRel);
        Held { budget: self.0.clone(), bytes }
    }

    /// What others may read of it.
    pub(super) fn gauge(&self) -> BufferedBytes {
        BufferedBytes(self.0.clone())
    }
}

/// Bytes held in a stream's budget, given back when dropped.
pub(super) struct Held {
    budget: Arc<Inner>,
    bytes: usize,
}

impl Held {
    /// Holds `bytes` instead (a reservation becomes what actually arrived).
    pub(super) fn resize(&mut self, bytes: usize) {
        if bytes > self.bytes {
            self.budget.used.fetch_add(bytes - self.bytes, Ordering::AcqRel);
        } else if bytes < self.bytes {
            self.budget.used.fetch_sub(self.bytes - bytes, Ordering::AcqRel);
            self.budget.freed.notify_one();
        }
        self.bytes = bytes;
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        if self.bytes > 0 {
            self.budget.used.fetch_sub(self.bytes, Ordering::AcqRel);
            self.budget.freed.notify_one();
        }
    }
}

/// How many bytes a stream holds: the records it received that the application has not taken
/// yet, and room reserved for the push it asked for. Stays readable after the stream closed
/// (it then falls to zero once the stream's task ended).
///
/// Thread-safe; cheap to clone.
#[derive(Clone)]
pub struct BufferedBytes(Arc<Inner>);

impl BufferedBytes {
    /// The bytes held now.
    pub fn get(&self) -> usize {
        self.0.used.load(Ordering::Acquire)
    }

    /// The stream's cap ([`ConsumerConfig::max_buffered_bytes`](super::ConsumerConfig)).
    pub fn cap(&self) -> usize {
        self.0.cap
    }
}

impl std::fmt::Debug for BufferedBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BufferedBytes({} of {})", self.get(), self.cap())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn reservations_wait_for_room_and_come_back_when_dropped() {
        let budget = Budget::new(100);
        let gauge = budget.gauge();
        let mut first = budget.reserve(60).await;
        first.resize(50);
        assert_eq!(gauge.get(), 50);
        let waiting = tokio::spawn({
            let budget = budget.clone();
            async move { budget.reserve(60).await }
        });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished(), "60 more do not fit beside 50");
        drop(first);
        let second = waiting.await.unwrap();
        assert_eq!(gauge.get(), 60);
        drop(second);
        // Larger than the cap: held alone once nothing else is.
        let big = budget.reserve(500).await;
        assert_eq!(gauge.get(), 500);
        drop(big);
        assert_eq!(gauge.get(), 0);
    }

    #[test]
    fn a_try_holds_only_what_fits_now() {
        let budget = Budget::new(100);
        let gauge = budget.gauge();
        let first = budget.try_reserve(60).expect("room");
        assert!(budget.try_reserve(60).is_none(), "60 more do not fit beside 60");
        assert_eq!(gauge.get(), 60, "a failed try holds nothing");
        let second = budget.try_reserve(40).expect("exactly the rest");
        drop((first, second));
        // Larger than the cap: held alone, as reserve does.
        assert!(budget.try_reserve(500).is_some());
        assert_eq!(gauge.get(), 0);
    }
}
