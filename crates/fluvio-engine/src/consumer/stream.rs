//! The streams an application reads: [`PartitionStream`], fed by its background task through a
//! small bounded channel, and [`TopicStream`], which interleaves the partition streams of a
//! topic. Both are [`RecordStream`]s.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use std::sync::Arc;
use std::time::Duration;

use futures_util::{Stream, StreamExt};
use tokio::sync::mpsc;
use tracing::warn;

use super::budget::{Budget, BufferedBytes, Held};
use super::commit::PartitionOffsets;
use super::compact::{CompactRecords, RecordRef};
use super::config::OffsetStrategy;
use super::record::ConsumerRecord;
use crate::error::{Error, ErrorKind, Result};
use crate::metrics::Metrics;

/// The records of one push, handed from a stream's task to its reader with the room they take
/// in the stream's budget (given back once the reader took them all).
pub(super) struct Chunk {
    pub(super) records: CompactRecords,
    pub(super) held: Held,
}

/// What every stream of records offers ([`PartitionStream`], [`TopicStream`]): records in order
/// within each partition, a terminal error returned once before the stream ends, and batches
/// of what already arrived, so that code reading records (a language binding, say) needs one
/// wrapper for every kind of stream. Each stream is also a [`Stream`] of records.
///
/// Not thread-safe: one reader at a time (`&mut self`).
pub trait RecordStream: Stream<Item = Result<ConsumerRecord>> + Send + Unpin {
    /// The next record if one was already received, without waiting.
    fn try_next(&mut self) -> Option<Result<ConsumerRecord>>;

    /// Moves records already received into `batch` until it holds `max`, without waiting and
    /// without going past a terminal error (the next call returns it).
    fn take_received(&mut self, batch: &mut Vec<ConsumerRecord>, max: usize);

    /// Hands records already received to `visit`, borrowed, while it takes them (returns true)
    /// and at most `max` of them, without waiting and without going past a terminal error (the
    /// next call returns it); a record `visit` refuses is the next one returned. Records come
    /// in the order [`take_received`](RecordStream::take_received) would move them, and count
    /// as returned just the same. Nothing is built for them: for a reader that copies records
    /// out, such as a language binding. Returns how many were taken.
    fn take_received_borrowed(&mut self, max: usize, visit: &mut dyn FnMut(RecordRef<'_>) -> bool) -> usize;

    /// True once the stream ended (after a terminal error).
    fn is_finished(&self) -> bool;

    /// Bytes the stream holds for its reader now (received and not yet taken, and room for
    /// the push asked for): never more than
    /// [`ConsumerConfig::max_buffered_bytes`](super::ConsumerConfig::max_buffered_bytes) per
    /// partition, except for a single batch larger than it.
    fn buffered_bytes(&self) -> usize {
        self.buffered_bytes_gauges().iter().map(BufferedBytes::get).sum()
    }

    /// Gauges of what each partition stream holds, readable from any thread (and after the
    /// stream closed).
    fn buffered_bytes_gauges(&self) -> Vec<BufferedBytes>;

    /// Ends the stream; its background work stops. A stream with the `Auto` offset strategy
    /// then stores its last offsets in the background.
    fn close(&mut self);

    /// The stream's metrics: readable while another thread waits for records.
    fn metrics(&self) -> Arc<Metrics>;

    /// The offsets of a named consumer's stream (`None` without a consumer name): a handle
    /// that commits and stores them from any thread or task.
    fn offsets(&self) -> Option<StreamOffsets>;

    /// Marks every record this stream returned so far as committed, in each partition (it is
    /// stored by the next [`flush`](RecordStream::flush), or by the `Auto` strategy).
    /// [`ErrorKind::OffsetManagementDisabled`] without a consumer name or with the `None`
    /// strategy.
    fn commit(&mut self) -> Result<()> {
        offsets_of(self.offsets())?.commit()
    }

    /// Stores the last commit of each partition in the cluster and returns once stored.
    /// [`ErrorKind::OffsetManagementDisabled`] as [`commit`](RecordStream::commit).
    fn flush(&mut self) -> Flush {
        let offsets = self.offsets();
        Box::pin(async move { offsets_of(offsets)?.flush().await })
    }

    /// Every record already received (at most `max`, at least one), waiting for one when none
    /// is; `None` once the stream ended.
    fn next_batch(&mut self, max: usize) -> NextBatch<'_> {
        Box::pin(async move {
            let first = self.next().await?;
            Some(first.map(|first| batch_from(self, first, max)))
        })
    }

    /// Every record already received (at most `max`), without waiting: `None` when nothing
    /// is.
    fn try_next_batch(&mut self, max: usize) -> Option<Result<Vec<ConsumerRecord>>> {
        let first = self.try_next()?;
        Some(first.map(|first| batch_from(self, first, max)))
    }
}

/// What [`RecordStream::flush`] returns: a future of the offsets being stored.
pub type Flush = Pin<Box<dyn Future<Output = Result<()>> + Send>>;

fn offsets_of(offsets: Option<StreamOffsets>) -> Result<StreamOffsets> {
    offsets.ok_or_else(|| {
        Error::new(ErrorKind::OffsetManagementDisabled, "the stream has no consumer name: it stores no offsets")
    })
}

/// The offsets of a named consumer's stream, per partition: [`RecordStream::offsets`]. Cheap to
/// clone.
///
/// Thread-safe.
#[derive(Clone)]
pub struct StreamOffsets {
    partitions: Arc<[Arc<PartitionOffsets>]>,
    strategy: OffsetStrategy,
}

impl StreamOffsets {
    /// The offset strategy of the stream.
    pub fn strategy(&self) -> OffsetStrategy {
        self.strategy
    }

    /// For bindings that buffer the records a stream hands them and return them later: from
    /// now on a record counts as returned (and, with `Auto`, committed) only once
    /// [`StreamOffsets::returned`] says so.
    pub fn count_returns_explicitly(&self) {
        self.partitions.iter().for_each(|p| p.count_returns_explicitly());
    }

    /// The application got every record of `partition` up to `offset` (see
    /// [`StreamOffsets::count_returns_explicitly`]); a partition the stream does not read is
    /// ignored.
    pub fn returned(&self, partition: u32, offset: i64) {
        self.partitions.iter().filter(|p| p.partition() == partition).for_each(|p| p.returned_explicitly(offset));
    }

    /// Marks every record the stream returned so far as committed, in each partition.
    pub fn commit(&self) -> Result<()> {
        self.partitions.iter().try_for_each(|p| p.commit())
    }

    /// Stores the last commit of each partition (those not stored yet, concurrently) and
    /// returns once the cluster stored them all; the first failure otherwise.
    pub async fn flush(&self) -> Result<()> {
        futures_util::future::try_join_all(self.partitions.iter().map(|p| p.flush())).await.map(drop)
    }
}

/// Stores an `Auto` stream's offsets every interval while the stream lives, and once more
/// when it ends (closed or dropped), as the official client does.
struct AutoCommit {
    offsets: Arc<PartitionOffsets>,
    task: AbortOnDrop,
}

impl AutoCommit {
    /// Starts storing `offsets` every `interval` (on the current runtime).
    fn start(offsets: Arc<PartitionOffsets>, interval: Duration) -> Self {
        let periodic = offsets.clone();
        let task = tokio::spawn(async move {
            let mut ticks = tokio::time::interval(interval);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            ticks.tick().await;
            loop {
                ticks.tick().await;
                if let Err(err) = periodic.flush().await {
                    warn!(%err, "storing a consumer offset failed; retrying at the next interval");
                }
            }
        });
        Self { offsets, task: AbortOnDrop(task) }
    }
}

impl Drop for AutoCommit {
    fn drop(&mut self) {
        self.task.0.abort();
        let offsets = self.offsets.clone();
        // Dropped outside the runtime (no handle): the owner stored what it wanted before.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if let Err(err) = offsets.flush().await {
                    warn!(%err, "storing a consumer offset as its stream ended failed");
                }
            });
        }
    }
}

/// `first`, then what else `stream` received, up to `max` records.
fn batch_from<S: RecordStream + ?Sized>(stream: &mut S, first: ConsumerRecord, max: usize) -> Vec<ConsumerRecord> {
    let mut batch = Vec::with_capacity(max.clamp(1, 1024));
    batch.push(first);
    stream.take_received(&mut batch, max);
    batch
}

/// What [`RecordStream::next_batch`] returns: a future of the next batch.
pub type NextBatch<'a> = Pin<Box<dyn Future<Output = Option<Result<Vec<ConsumerRecord>>>> + Send + 'a>>;

/// Aborts a task when dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A continuous stream of one partition's records. Dropping it ends the stream.
///
/// Not thread-safe: one reader at a time (`&mut self`).
pub struct PartitionStream {
    rx: mpsc::Receiver<Result<Chunk>>,
    current: CompactRecords,
    /// The room `current` takes in the budget, given back with its last record.
    current_held: Option<Held>,
    buffered: BufferedBytes,
    /// A terminal error met while draining a batch, returned by the next call.
    pending_error: Option<Error>,
    finished: bool,
    /// A named consumer's offsets in this partition.
    offsets: Option<Arc<PartitionOffsets>>,
    /// Storing them, with the `Auto` strategy (declared before `task`: dropped first).
    auto_commit: Option<AutoCommit>,
    task: AbortOnDrop,
    metrics: Arc<Metrics>,
}

impl PartitionStream {
    /// A stream of the records `rx` receives from the background task `task`, which holds
    /// them within `budget` and counts into `metrics`; `offsets` for a named consumer, stored
    /// every `auto_commit_interval` with the `Auto` strategy.
    pub(super) fn new(
        rx: mpsc::Receiver<Result<Chunk>>,
        budget: &Budget,
        task: tokio::task::JoinHandle<()>,
        metrics: Arc<Metrics>,
        offsets: Option<Arc<PartitionOffsets>>,
        auto_commit_interval: Duration,
    ) -> Self {
        let auto_commit = offsets
            .as_ref()
            .filter(|o| o.strategy() == OffsetStrategy::Auto)
            .map(|o| AutoCommit::start(o.clone(), auto_commit_interval));
        Self {
            rx,
            current: CompactRecords::default(),
            current_held: None,
            buffered: budget.gauge(),
            pending_error: None,
            finished: false,
            offsets,
            auto_commit,
            task: AbortOnDrop(task),
            metrics,
        }
    }

    /// What the stream received so far.
    pub fn metrics(&self) -> crate::MetricsSnapshot {
        self.metrics.snapshot()
    }

    /// The next record of the current chunk, noted as returned; the chunk's room in the
    /// budget is given back with its last record.
    fn take_current(&mut self) -> Option<ConsumerRecord> {
        let record = self.current.next();
        if self.current.is_empty() {
            self.current_held = None;
        }
        let record = record?;
        if let Some(offsets) = &self.offsets {
            offsets.handed_out(record.offset);
        }
        Some(record)
    }

    /// Bytes this stream holds now; see [`RecordStream::buffered_bytes`].
    pub fn buffered_bytes(&self) -> usize {
        self.buffered.get()
    }

    /// A gauge of this stream's buffered bytes that stays readable after it closed (it falls
    /// to zero once its background task ended: a closed stream returns what it held).
    pub fn buffered_bytes_gauge(&self) -> BufferedBytes {
        self.buffered.clone()
    }

    /// The offsets of a named consumer's stream.
    pub fn offsets(&self) -> Option<StreamOffsets> {
        let offsets = self.offsets.clone()?;
        let strategy = offsets.strategy();
        Some(StreamOffsets { partitions: Arc::from([offsets]), strategy })
    }

    /// The next record; `None` only after a terminal error was returned.
    pub async fn next(&mut self) -> Option<Result<ConsumerRecord>> {
        StreamExt::next(self).await
    }

    /// The next record if one is already buffered, without waiting.
    pub fn try_next(&mut self) -> Option<Result<ConsumerRecord>> {
        loop {
            if let Some(record) = self.take_current() {
                return Some(Ok(record));
            }
            if let Some(err) = self.pending_error.take() {
                self.finished = true;
                return Some(Err(err));
            }
            if self.finished {
                return None;
            }
            match self.rx.try_recv() {
                Ok(chunk) => {
                    if let Some(terminal) = self.take_chunk(chunk) {
                        return Some(Err(terminal));
                    }
                }
                Err(mpsc::error::TryRecvError::Empty) => return None,
                Err(mpsc::error::TryRecvError::Disconnected) => self.finished = true,
            }
        }
    }

    fn take_chunk(&mut self, chunk: Result<Chunk>) -> Option<Error> {
        match chunk {
            Ok(chunk) => {
                self.current = chunk.records;
                self.current_held = Some(chunk.held);
                None
            }
            Err(err) => {
                self.finished = true;
                Some(err)
            }
        }
    }

    /// Moves buffered records (not waiting, not crossing into a terminal error) into `batch`.
    fn drain_buffered(&mut self, batch: &mut Vec<ConsumerRecord>, max: usize) {
        while batch.len() < max {
            if let Some(record) = self.take_current() {
                batch.push(record);
                continue;
            }
            if !self.load_received_chunk() {
                return;
            }
        }
    }

    /// Makes the next chunk already received the current one; false when there is none. A
    /// terminal error received instead is kept for the next call: records already taken go
    /// out first.
    fn load_received_chunk(&mut self) -> bool {
        match self.rx.try_recv() {
            Ok(Ok(chunk)) => {
                self.current = chunk.records;
                self.current_held = Some(chunk.held);
                true
            }
            Ok(Err(err)) => {
                self.pending_error = Some(err);
                false
            }
            Err(_) => false,
        }
    }

    /// Hands buffered records to `visit`, borrowed; see [`RecordStream::take_received_borrowed`].
    fn visit_buffered(&mut self, max: usize, visit: &mut dyn FnMut(RecordRef<'_>) -> bool) -> usize {
        let mut taken = 0;
        while taken < max {
            if !self.current.is_empty() {
                let before = self.current.len();
                let last = self.current.take_borrowed(max - taken, visit);
                taken += before - self.current.len();
                if let (Some(offset), Some(offsets)) = (last, &self.offsets) {
                    offsets.handed_out(offset);
                }
                if !self.current.is_empty() {
                    // Refused, or `max` reached.
                    break;
                }
                // The chunk's room in the budget goes back with its last record.
                self.current_held = None;
                continue;
            }
            if self.pending_error.is_some() || !self.load_received_chunk() {
                break;
            }
        }
        taken
    }

    /// True once the stream ended (after a terminal error).
    pub fn is_finished(&self) -> bool {
        self.finished && self.current.is_empty()
    }

    /// Ends the stream; the background task stops. With the `Auto` strategy, the last
    /// offset returned is then stored in the background.
    pub fn close(&mut self) {
        self.auto_commit = None;
        self.finished = true;
        self.current = CompactRecords::default();
        self.current_held = None;
        self.task.0.abort();
        self.rx.close();
    }
}

impl Stream for PartitionStream {
    type Item = Result<ConsumerRecord>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            if let Some(record) = self.take_current() {
                return Poll::Ready(Some(Ok(record)));
            }
            if let Some(err) = self.pending_error.take() {
                self.finished = true;
                return Poll::Ready(Some(Err(err)));
            }
            if self.finished {
                return Poll::Ready(None);
            }
            match self.rx.poll_recv(cx) {
                Poll::Ready(Some(chunk)) => {
                    if let Some(terminal) = self.take_chunk(chunk) {
                        return Poll::Ready(Some(Err(terminal)));
                    }
                }
                Poll::Ready(None) => self.finished = true,
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

/// Records of every partition of a topic, interleaved; each partition stays in order.
///
/// Not thread-safe: one reader at a time (`&mut self`).
pub struct TopicStream {
    streams: Vec<PartitionStream>,
    next: usize,
    metrics: Arc<Metrics>,
}

impl TopicStream {
    /// The streams of every partition, read in turn, all counting into `metrics`.
    pub(super) fn new(streams: Vec<PartitionStream>, metrics: Arc<Metrics>) -> Self {
        Self { streams, next: 0, metrics }
    }

    /// What the stream received so far, from every partition.
    pub fn metrics(&self) -> crate::MetricsSnapshot {
        self.metrics.snapshot()
    }

    /// The next record from any partition.
    pub async fn next(&mut self) -> Option<Result<ConsumerRecord>> {
        futures_util::StreamExt::next(self).await
    }

    /// A record already buffered from any partition, without waiting.
    pub fn try_next(&mut self) -> Option<Result<ConsumerRecord>> {
        let count = self.streams.len();
        for step in 0..count {
            let index = (self.next + step) % count;
            if let Some(item) = self.streams[index].try_next() {
                self.next = (index + 1) % count;
                return Some(item);
            }
        }
        None
    }

    fn drain_buffered(&mut self, batch: &mut Vec<ConsumerRecord>, max: usize) {
        let count = self.streams.len();
        let mut idle = 0;
        // Take from the partitions in turn, so none is starved, until all are drained.
        while batch.len() < max && idle < count {
            let index = self.next;
            self.next = (self.next + 1) % count;
            let stream = &mut self.streams[index];
            match stream.take_current() {
                Some(record) => {
                    batch.push(record);
                    idle = 0;
                }
                None => {
                    let before = batch.len();
                    stream.drain_buffered(batch, (before + 1).min(max));
                    if batch.len() == before {
                        idle += 1;
                    } else {
                        idle = 0;
                    }
                }
            }
        }
    }

    /// Hands buffered records to `visit`, borrowed, one partition after the other as
    /// [`TopicStream::drain_buffered`] takes them.
    fn visit_buffered(&mut self, max: usize, visit: &mut dyn FnMut(RecordRef<'_>) -> bool) -> usize {
        let count = self.streams.len();
        let mut idle = 0;
        let mut taken = 0;
        while taken < max && idle < count {
            let index = self.next;
            let mut refused = false;
            let took = self.streams[index].visit_buffered(1, &mut |record| {
                refused = !visit(record);
                !refused
            });
            if refused {
                // That partition's record is the next one returned.
                break;
            }
            self.next = (index + 1) % count;
            if took == 0 {
                idle += 1;
            } else {
                taken += took;
                idle = 0;
            }
        }
        taken
    }

    /// The offsets of a named consumer's stream, every partition's.
    pub fn offsets(&self) -> Option<StreamOffsets> {
        let partitions: Vec<_> = self.streams.iter().filter_map(|s| s.offsets.clone()).collect();
        let strategy = partitions.first()?.strategy();
        Some(StreamOffsets { partitions: partitions.into(), strategy })
    }

    /// True once every partition stream ended.
    pub fn is_finished(&self) -> bool {
        self.streams.iter().all(PartitionStream::is_finished)
    }

    /// Bytes the partition streams hold now, together.
    pub fn buffered_bytes(&self) -> usize {
        self.streams.iter().map(PartitionStream::buffered_bytes).sum()
    }

    /// Ends every partition stream.
    pub fn close(&mut self) {
        for stream in &mut self.streams {
            stream.close();
        }
    }
}

impl Stream for TopicStream {
    type Item = Result<ConsumerRecord>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let count = self.streams.len();
        let mut finished = 0;
        for step in 0..count {
            let index = (self.next + step) % count;
            match Pin::new(&mut self.streams[index]).poll_next(cx) {
                Poll::Ready(Some(item)) => {
                    // Start with the next partition next time, so none is starved.
                    self.next = (index + 1) % count;
                    return Poll::Ready(Some(item));
                }
                Poll::Ready(None) => finished += 1,
                Poll::Pending => {}
            }
        }
        if finished == count { Poll::Ready(None) } else { Poll::Pending }
    }
}

impl RecordStream for PartitionStream {
    fn try_next(&mut self) -> Option<Result<ConsumerRecord>> {
        PartitionStream::try_next(self)
    }

    fn take_received(&mut self, batch: &mut Vec<ConsumerRecord>, max: usize) {
        self.drain_buffered(batch, max);
    }

    fn take_received_borrowed(&mut self, max: usize, visit: &mut dyn FnMut(RecordRef<'_>) -> bool) -> usize {
        self.visit_buffered(max, visit)
    }

    fn is_finished(&self) -> bool {
        PartitionStream::is_finished(self)
    }

    fn buffered_bytes_gauges(&self) -> Vec<BufferedBytes> {
        vec![self.buffered.clone()]
    }

    fn close(&mut self) {
        PartitionStream::close(self);
    }

    fn metrics(&self) -> Arc<Metrics> {
        self.metrics.clone()
    }

    fn offsets(&self) -> Option<StreamOffsets> {
        PartitionStream::offsets(self)
    }
}

impl RecordStream for TopicStream {
    fn try_next(&mut self) -> Option<Result<ConsumerRecord>> {
        TopicStream::try_next(self)
    }

    fn take_received(&mut self, batch: &mut Vec<ConsumerRecord>, max: usize) {
        self.drain_buffered(batch, max);
    }

    fn take_received_borrowed(&mut self, max: usize, visit: &mut dyn FnMut(RecordRef<'_>) -> bool) -> usize {
        self.visit_buffered(max, visit)
    }

    fn is_finished(&self) -> bool {
        TopicStream::is_finished(self)
    }

    fn buffered_bytes_gauges(&self) -> Vec<BufferedBytes> {
        self.streams.iter().map(PartitionStream::buffered_bytes_gauge).collect()
    }

    fn close(&mut self) {
        TopicStream::close(self);
    }

    fn metrics(&self) -> Arc<Metrics> {
        self.metrics.clone()
    }

    fn offsets(&self) -> Option<StreamOffsets> {
        TopicStream::offsets(self)
    }
}
