//! The outcome of each sent record: shared per batch, resolved once the batch is acknowledged
//! (or fails), so there is one completion per batch, not per record.

use std::any::Any;
use std::sync::{Arc, OnceLock};

use parking_lot::Mutex;
use tokio::sync::Notify;

use crate::error::{Error, Result};

/// Where a record was stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RecordMetadata {
    /// Partition.
    pub partition: u32,
    /// Offset within the partition; [`RecordMetadata::UNKNOWN_OFFSET`] (-1) when the leader
    /// recognized a retry of a batch it had stored before but no longer knew at which offset
    /// (as Kafka answers such a duplicate): the record is stored once, at an unknown offset.
    /// This producer never has more unacknowledged batches per partition than `fluvio-local`
    /// remembers, so it happens only after the leader forgot the producer (thousands of other
    /// producers since, or a restart that found the batch beyond the log tail it rereads).
    pub offset: i64,
}

impl RecordMetadata {
    /// The offset of a record stored at an offset the leader no longer knows (a duplicate it
    /// recognized but could not place): the base offset a leader answers then, and the offset
    /// of every record of such a batch.
    pub const UNKNOWN_OFFSET: i64 = -1;
}

type Callback = Box<dyn FnOnce(&Result<i64>) + Send>;

/// The shared outcome of one batch: the base offset it was stored at, or an error.
pub(crate) struct BatchOutcome {
    partition: u32,
    result: OnceLock<Result<i64>>,
    notify: Notify,
    callbacks: Mutex<Vec<Callback>>,
    /// Data a binding keeps per batch (e.g. the future its language waits on): set once, then
    /// read without a lock by every record of the batch.
    attachment: OnceLock<Arc<dyn Any + Send + Sync>>,
    /// Held while an attachment is created, so that only one is.
    attaching: Mutex<()>,
}

impl BatchOutcome {
    pub(crate) fn new(partition: u32) -> Arc<Self> {
        Arc::new(Self {
            partition,
            result: OnceLock::new(),
            notify: Notify::new(),
            callbacks: Mutex::new(Vec::new()),
            attachment: OnceLock::new(),
            attaching: Mutex::new(()),
        })
    }

    /// Resolves the batch (first resolution wins) and runs the registered callbacks.
    pub(crate) fn complete(&self, result: Result<i64>) {
        if self.result.set(result).is_err() {
            return;
        }
        self.notify.notify_waiters();
        let callbacks = std::mem::take(&mut *self.callbacks.lock());
        let result = self.result.get().expect("just set");
        for callback in callbacks {
            callback(result);
        }
    }

    fn metadata(&self, index: u32) -> Option<Result<RecordMetadata>> {
        self.result.get().map(|r| match r {
            Ok(base) if *base < 0 => {
                Ok(RecordMetadata { partition: self.partition, offset: RecordMetadata::UNKNOWN_OFFSET })
            }
            Ok(base) => Ok(RecordMetadata { partition: self.partition, offset: base + i64::from(index) }),
            Err(err) => Err(err.clone()),
        })
    }
}

/// The pending outcome of one sent record.
#[derive(Clone)]
pub struct ProduceOutput {
    batch: Arc<BatchOutcome>,
    index: u32,
}

impl std::fmt::Debug for ProduceOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProduceOutput").field("partition", &self.batch.partition).field("index", &self.index).finish()
    }
}

impl ProduceOutput {
    pub(crate) fn new(batch: Arc<BatchOutcome>, index: u32) -> Self {
        Self { batch, index }
    }

    /// The partition the record was assigned to (known before delivery).
    pub fn partition(&self) -> u32 {
        self.batch.partition
    }

    /// The record's position in its batch: its offset is the batch's base offset plus this.
    pub fn index(&self) -> u32 {
        self.index
    }

    /// Runs `callback` once with the outcome of the record's whole batch (its base offset, or
    /// the error): right away if already known, otherwise on the thread that resolves it.
    /// Bindings use it to complete one future per batch instead of one per record.
    pub fn on_batch_complete(&self, callback: impl FnOnce(&Result<i64>) + Send + 'static) {
        {
            let mut callbacks = self.batch.callbacks.lock();
            if self.batch.result.get().is_none() {
                callbacks.push(Box::new(callback));
                return;
            }
        }
        callback(self.batch.result.get().expect("resolved"));
    }

    /// Lends the value attached to the record's batch to `use_it`, creating it with `init`
    /// for the first record that asks (only one `init` runs per batch). Bindings keep per-batch
    /// state here, such as the future their language waits on. Once attached, the value is
    /// read without a lock or a reference count: the cheap path for a binding that reads it
    /// for every record. Both closures get `context` (a binding's JNI environment, say).
    ///
    /// A batch keeps the first value attached to it; asking for a value of another type gets
    /// one made by `init` for this call alone.
    pub fn with_batch_attachment<C: ?Sized, T, E, R>(
        &self,
        context: &mut C,
        init: impl FnOnce(&mut C) -> std::result::Result<T, E>,
        use_it: impl FnOnce(&mut C, &T) -> std::result::Result<R, E>,
    ) -> std::result::Result<R, E>
    where
        T: Any + Send + Sync,
    {
        let batch = &self.batch;
        let attached = match batch.attachment.get() {
            Some(attached) => attached,
            None => {
                let _creating = batch.attaching.lock();
                match batch.attachment.get() {
                    // Another record of the batch attached it meanwhile.
                    Some(attached) => attached,
                    None => {
                        let created = Arc::new(init(context)?);
                        // Only this call sets it: it holds `attaching`.
                        let _ = batch.attachment.set(created.clone());
                        return use_it(context, &created);
                    }
                }
            }
        };
        match (**attached).downcast_ref::<T>() {
            Some(value) => use_it(context, value),
            None => {
                let own = init(context)?;
                use_it(context, &own)
            }
        }
    }

    /// Waits for the record's batch to be acknowledged.
    pub async fn wait(&self) -> Result<RecordMetadata> {
        loop {
            let notified = self.batch.notify.notified();
            if let Some(result) = self.batch.metadata(self.index) {
                return result;
            }
            notified.await;
        }
    }

    /// The outcome, if already known.
    pub fn try_result(&self) -> Option<Result<RecordMetadata>> {
        self.batch.metadata(self.index)
    }

    /// Runs `callback` once the outcome is known: right away if it already is, otherwise on
    /// the thread that resolves the batch (keep it short).
    pub fn on_complete(&self, callback: impl FnOnce(Result<RecordMetadata>) + Send + 'static) {
        let partition = self.batch.partition;
        let index = self.index;
        let wrapped: Callback = Box::new(move |result: &Result<i64>| {
            callback(match result {
                Ok(base) => Ok(RecordMetadata { partition, offset: base + i64::from(index) }),
                Err(err) => Err(err.clone()),
            })
        });
        {
            let mut callbacks = self.batch.callbacks.lock();
            if self.batch.result.get().is_none() {
                callbacks.push(wrapped);
                return;
            }
        }
        let result = self.batch.result.get().expect("resolved");
        wrapped(result);
    }
}

/// Fails every listed batch with `error`.
pub(crate) fn fail_all<'a>(batches: impl IntoIterator<Item = &'a Arc<BatchOutcome>>, error: &Error) {
    for batch in batches {
        batch.complete(Err(error.clone()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    #[tokio::test]
    async fn outputs_resolve_from_their_batch() {
        let batch = BatchOutcome::new(2);
        let first = ProduceOutput::new(batch.clone(), 0);
        let third = ProduceOutput::new(batch.clone(), 2);
        assert!(first.try_result().is_none());
        let (tx, rx) = tokio::sync::oneshot::channel();
        third.on_complete(move |r| {
            let _ = tx.send(r);
        });
        let waiter = tokio::spawn({
            let first = first.clone();
            async move { first.wait().await }
        });
        batch.complete(Ok(40));
        assert_eq!(waiter.await.unwrap().unwrap(), RecordMetadata { partition: 2, offset: 40 });
        assert_eq!(rx.await.unwrap().unwrap().offset, 42);
        // A late callback runs at once; a second resolution is ignored.
        batch.complete(Err(Error::new(ErrorKind::Timeout, "late")));
        let (tx, rx) = tokio::sync::oneshot::channel();
        first.on_complete(move |r| {
            let _ = tx.send(r);
        });
        assert_eq!(rx.await.unwrap().unwrap().offset, 40);
    }

    #[test]
    fn a_batch_has_one_attachment_whichever_way_it_is_asked_for() {
        let batch = BatchOutcome::new(0);
        let first = ProduceOutput::new(batch.clone(), 0);
        let second = ProduceOutput::new(batch.clone(), 1);
        let other = ProduceOutput::new(BatchOutcome::new(0), 0);
        // The context counts the values created.
        let mut created = 0;
        let init = |name: &'static str| {
            move |created: &mut i32| {
                *created += 1;
                Ok::<_, ()>(name.to_string())
            }
        };
        let lent = first.with_batch_attachment(&mut created, init("a"), |_, a: &String| Ok(a.clone()));
        assert_eq!(lent.unwrap(), "a");
        // The second record of the batch gets the same value, without a second `init`.
        let shared = second.with_batch_attachment(&mut created, init("b"), |_, a: &String| Ok(a.clone()));
        assert_eq!(shared.unwrap(), "a");
        // Another batch has its own.
        let own = other.with_batch_attachment(&mut created, init("d"), |_, a: &String| Ok(a.clone()));
        assert_eq!(own.unwrap(), "d");
        assert_eq!(created, 2);
        // A failing `init` leaves nothing attached, and the next record tries again.
        let fresh = ProduceOutput::new(BatchOutcome::new(0), 0);
        let refused = fresh.with_batch_attachment(&mut (), |_| Err::<String, _>("refused"), |_, a| Ok(a.len()));
        assert_eq!(refused, Err("refused"));
        let retried = fresh.with_batch_attachment(&mut (), |_| Ok::<_, &str>("e".to_string()), |_, a| Ok(a.clone()));
        assert_eq!(retried.unwrap(), "e");
        // A value of another type is made for the call, and the batch keeps its own.
        let number = fresh.with_batch_attachment(&mut (), |_| Ok::<_, &str>(7u8), |_, n| Ok(*n));
        assert_eq!(number, Ok(7));
        let kept = fresh.with_batch_attachment(&mut (), |_| Ok::<_, &str>(String::new()), |_, a| Ok(a.clone()));
        assert_eq!(kept.unwrap(), "e");
    }
}
