//! The topic producer.
//!
//! `send` encodes the record into its partition's open batch and returns at once with a
//! [`ProduceOutput`]; one sender task per partition delivers batches, one request at a time,
//! in order. At-least-once delivery retries retriable failures (lost connection, timeout,
//! leader change) with backoff, refreshing the partition's metadata from the SC and
//! re-resolving its leader each time.
//!
//! # Idempotence
//!
//! Unless configured otherwise, every [`TopicProducer`] draws a random producer id, and each
//! of its partitions numbers records from 0 (Kafka-style sequences in the batch header's
//! `producer_id`, `producer_epoch` and `first_sequence`). A batch is numbered and encoded
//! once, the first time its partition's sender sends it, so a retry carries the very bytes of
//! the first attempt and a deduplicating leader answers it with the offset it stored the batch
//! at the first time. A leader that deduplicates (`fluvio-local`) applies Kafka's sequence
//! rules: a batch at or below the producer's last stored sequence is never stored again, and
//! one that does not follow it (a gap: an earlier batch was refused for good, or lost with a
//! leader that acknowledged it alone) is refused as out of order
//! ([`ErrorCode::is_out_of_order_sequence`](fluvio_wire::ErrorCode::is_out_of_order_sequence))
//! with nothing stored. The sender then starts a new producer epoch for the partition,
//! numbers the refused batch and the ones after it from 0 again, and sends them at once.
//!
//! Ordering follows from the sender: a partition has a single sender task, which sends one
//! request and resolves it (success, final failure, or retries of the same batches) before
//! taking the next batches, so two requests of one producer for one partition are never in
//! flight at the same time, and a retried batch cannot be overtaken by a batch sealed after
//! it. A request holds at most 64 batches (`MAX_BATCHES_PER_REQUEST`): no more batches of a
//! partition are ever unacknowledged than the leader remembers with their offsets. The one
//! exception is a request abandoned on a client-side timeout, which the server may still be
//! processing when the retry is sent: the retry carries the same batches, and whichever copy
//! comes second is recognized as a duplicate (or, if the leader changed in between and the
//! first copy never reached the new leader, the retry is the one stored; the old leader, no
//! longer leading, cannot commit its copy).
//!
//! Each batch travels in a partition entry of its own, as the official producer sends them,
//! so each gets its own answer (and, from a deduplicating leader, its own original offset): a
//! retry resends only the batches whose entries failed, in their order. Within one request,
//! the retriable refusals (not the leader, a commit timeout) either hit every later entry too
//! or leave the refused batch appended, so a retried batch does not land after a later one;
//! an out-of-order refusal hits every later entry too (none of them follows either).

mod accumulator;
mod config;
mod output;
mod partitioner;

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use fluvio_transport::framed::Frame;
use fluvio_wire::record::{RawBatch, SendableBatch};
use fluvio_wire::sc::partition::{PartitionResolution, partition_name, split_partition_name};
use fluvio_wire::sc::topic::CompressionAlgorithm;
use fluvio_wire::spu::{ProduceAcks, ProducePieces, ProduceRequest, TopicProduceData};
use parking_lot::RwLock;
use tokio_util::sync::CancellationToken;
use tracing::{debug, warn};

pub use config::{
    Compression, DEFAULT_BATCH_QUEUE_SIZE, DEFAULT_BATCH_SIZE, DEFAULT_LINGER, DEFAULT_MAX_BLOCK,
    DEFAULT_MAX_REQUEST_SIZE, DEFAULT_TIMEOUT, DeliverySemantic, Isolation, MAX_REQUEST_SIZE_LIMIT, ProducerConfig,
    ProducerConfigBuilder, RetryPolicy,
};
pub use output::{ProduceOutput, RecordMetadata};
pub use partitioner::{Partitioner, PartitionerConfig, SiphashRoundRobinPartitioner, SpecificPartitioner, key_hash};

use accumulator::{Limits, PartitionQueue, SealedBatch, Take};

use crate::error::{Error, ErrorKind, Result};
use crate::metrics::Recorder;
use crate::router::ClientInner;
use crate::socket::SPU_VERSION;

/// How long a flush running when the client closes waits for the sender to resolve its
/// batches before it reports [`ErrorKind::Closed`].
const CLOSED_FLUSH_GRACE: std::time::Duration = std::time::Duration::from_secs(1);

/// Produces records to one topic. Cheap to clone; all clones share the same batches.
/// Dropping the last clone sends what is queued in the background; [`TopicProducer::close`]
/// waits for it.
///
/// Thread-safe.
#[derive(Clone)]
pub struct TopicProducer {
    handle: Arc<Handle>,
}

struct Handle {
    shared: Arc<Shared>,
}

impl Drop for Handle {
    fn drop(&mut self) {
        self.shared.close_queues();
    }
}

/// What the partitioner sees, refreshed when the metadata changes.
struct TopicView {
    epoch: (u64, u64),
    partition_count: u32,
    available: Vec<u32>,
}

struct Shared {
    client: Arc<ClientInner>,
    topic: String,
    config: ProducerConfig,
    compression: Compression,
    partitioner: Arc<dyn Partitioner>,
    view: RwLock<TopicView>,
    queues: RwLock<Vec<Arc<PartitionQueue>>>,
    shutdown: CancellationToken,
    /// Cancelled when a bounded close ran out of time: requests in flight are abandoned too.
    abort: CancellationToken,
    /// This producer's metrics, and its client's.
    metrics: Recorder,
    produced_batches: AtomicU64,
    /// The id written in every batch when the producer is idempotent.
    producer_id: Option<i64>,
    /// The runtime the producer was created on, where its senders run: a send from a thread
    /// outside any runtime (a Java thread) starts a sender without entering one.
    runtime: tokio::runtime::Handle,
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// How many times one delivery may start a new producer epoch after out-of-order refusals
/// before it gives up (a leader that refuses a fresh epoch's first batch is not following the
/// sequence rules).
const MAX_NEW_EPOCHS_PER_DELIVERY: u32 = 3;

/// The idempotence numbering of one partition's batches, owned by its sender: the producer
/// id, the current epoch (0 until a leader refuses a batch as out of order) and the sequence
/// number of the next record.
struct Sequencer {
    producer_id: i64,
    epoch: i16,
    next: i32,
}

impl Sequencer {
    fn new(producer_id: i64) -> Self {
        Self { producer_id, epoch: 0, next: 0 }
    }

    /// The (epoch, first sequence) of the next batch, of `count` records.
    fn number(&mut self, count: u32) -> (i16, i32) {
        let first = self.next;
        self.next = next_sequence(first, count);
        (self.epoch, first)
    }

    /// Starts a new epoch, numbered from 0 again.
    fn new_epoch(&mut self) -> Result<()> {
        self.epoch = self.epoch.checked_add(1).ok_or_else(|| {
            Error::new(ErrorKind::Server, "the partition refused batches out of order more than 32767 times")
        })?;
        self.next = 0;
        Ok(())
    }
}

/// The sequence number after a batch of `count` records starting at `first`: sequences count
/// records and wrap from `i32::MAX` back to 0 (as Kafka's do).
fn next_sequence(first: i32, count: u32) -> i32 {
    ((i64::from(first) + i64::from(count)) % (i64::from(i32::MAX) + 1)) as i32
}

/// A random positive producer id. The standard library's `RandomState` keys SipHash with
/// randomness from the operating system; hashing the time, the process id and a process-wide
/// counter on top keeps ids apart even for producers created in the same instant, or in
/// processes whose random keys were inherited through a fork. Two producers sharing an id
/// would have each other's batches taken for duplicates, so collisions must be negligible:
/// 63 random bits.
fn random_producer_id() -> i64 {
    static CREATED: AtomicU64 = AtomicU64::new(0);
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u128(SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos()));
    hasher.write_u32(std::process::id());
    hasher.write_u64(CREATED.fetch_add(1, Ordering::Relaxed));
    ((hasher.finish() >> 1) as i64).max(1)
}

impl TopicProducer {
    pub(crate) async fn new(client: Arc<ClientInner>, topic: &str, config: ProducerConfig) -> Result<Self> {
        let metadata = client.topic(topic).await?;
        let compression = resolve_compression(metadata.spec.compression_type, config.compression)?;
        // Just after the topic was created, the partition watch may not have brought every
        // partition online yet; keyless records would skip those. Ask the SC once instead.
        let count = metadata.spec.replicas.partition_count();
        let all_online = (0..count).all(|i| {
            client
                .metadata
                .partitions
                .get(&partition_name(topic, i))
                .is_some_and(|p| p.status.resolution == PartitionResolution::Online)
        });
        if !all_online {
            client.refresh_partitions(topic).await;
        }
        let partitioner = config.partitioner.clone().unwrap_or_else(|| Arc::new(SiphashRoundRobinPartitioner::new()));
        let shared = Arc::new(Shared {
            shutdown: client.shutdown.child_token(),
            abort: CancellationToken::new(),
            metrics: Recorder::new(Arc::default(), client.metrics.clone()),
            client,
            topic: topic.to_string(),
            compression,
            partitioner,
            view: RwLock::new(TopicView { epoch: (u64::MAX, u64::MAX), partition_count: 0, available: Vec::new() }),
            queues: RwLock::new(Vec::new()),
            producer_id: config.idempotent.then(random_producer_id),
            runtime: tokio::runtime::Handle::current(),
            config,
            produced_batches: AtomicU64::new(0),
        });
        shared.refresh_view(metadata.spec.replicas.partition_count());
        Ok(Self { handle: Arc::new(Handle { shared }) })
    }

    /// The topic.
    pub fn topic(&self) -> &str {
        &self.handle.shared.topic
    }

    /// The topic's partition count as last seen in the metadata.
    pub fn partition_count(&self) -> u32 {
        self.handle.shared.refresh_view(0);
        self.handle.shared.view.read().partition_count
    }

    /// The codec batches are sent with.
    pub fn compression(&self) -> Compression {
        self.handle.shared.compression
    }

    /// Sends a record (`key` `None` for no key), waiting up to `max_block` for queue space.
    pub async fn send(&self, key: Option<&[u8]>, value: &[u8]) -> Result<ProduceOutput> {
        self.send_to(None, key, value).await
    }

    /// Sends a record to an explicit partition (`None`: let the partitioner choose).
    pub async fn send_to(&self, partition: Option<u32>, key: Option<&[u8]>, value: &[u8]) -> Result<ProduceOutput> {
        let shared = &self.handle.shared;
        let queue = shared.queue_for(partition, key, value)?;
        let deadline = tokio::time::Instant::now() + shared.config.max_block;
        loop {
            let space = queue.space.notified();
            if let Some(output) = shared.push(&queue, key, value)? {
                return Ok(output);
            }
            if tokio::time::timeout_at(deadline, space).await.is_err() {
                return Err(Error::new(
                    ErrorKind::Timeout,
                    format!(
                        "partition {} of '{}' stayed full for {:?} (max_block)",
                        queue.partition, shared.topic, shared.config.max_block
                    ),
                ));
            }
        }
    }

    /// Sends a record without waiting: `Ok(None)` when the partition's queue is full (call
    /// [`TopicProducer::send_to`] to wait for room). The partition is chosen by
    /// `partition` or by the partitioner. Callable from any thread, inside a runtime or not.
    pub fn try_send(&self, partition: Option<u32>, key: Option<&[u8]>, value: &[u8]) -> Result<TrySend> {
        let shared = &self.handle.shared;
        let queue = shared.queue_for(partition, key, value)?;
        Ok(match shared.push(&queue, key, value)? {
            Some(output) => TrySend::Sent(output),
            None => TrySend::QueueFull(queue.partition),
        })
    }

    /// Sends records in order; returns one output per record.
    pub async fn send_all<'a>(
        &self,
        records: impl IntoIterator<Item = (Option<&'a [u8]>, &'a [u8])>,
    ) -> Result<Vec<ProduceOutput>> {
        let mut outputs = Vec::new();
        for (key, value) in records {
            outputs.push(self.send(key, value).await?);
        }
        Ok(outputs)
    }

    /// Sends everything queued now without waiting for linger, and waits until it is
    /// acknowledged or failed. Fails with the first delivery failure not reported before.
    pub async fn flush(&self) -> Result<()> {
        let shared = &self.handle.shared;
        let queues: Vec<Arc<PartitionQueue>> = shared.queues.read().clone();
        let targets: Vec<(Arc<PartitionQueue>, u64)> = queues
            .into_iter()
            .filter(|q| q.sender_started.load(Ordering::Acquire))
            .map(|q| {
                let target = q.request_flush();
                (q, target)
            })
            .collect();
        let mut first_failure = None;
        for (queue, target) in targets {
            let waited = tokio::select! {
                biased;
                result = queue.wait_completed(target) => result,
                // Once the client is closed the sender resolves every batch at once (failing
                // what is still queued), but a batch whose outputs were just acknowledged is
                // marked completed a moment later: wait briefly for it rather than report a
                // delivered batch as failed.
                _ = shared.shutdown.cancelled() => {
                    match tokio::time::timeout(CLOSED_FLUSH_GRACE, queue.wait_completed(target)).await {
                        Ok(result) => result,
                        Err(_) => Err(Error::closed("the client")),
                    }
                }
            };
            if let Err(err) = waited {
                first_failure.get_or_insert(err);
            }
        }
        first_failure.map_or(Ok(()), Err)
    }

    /// Flushes, then refuses further records. Idempotent.
    pub async fn close(&self) -> Result<()> {
        let result = self.flush().await;
        self.handle.shared.close_queues();
        result
    }

    /// Like [`TopicProducer::close`], waiting at most `timeout` (for a cluster that is gone,
    /// say): then every record not yet acknowledged fails with [`ErrorKind::Closed`] at once,
    /// retries stop and the producer's requests in flight are abandoned (a leader may still
    /// have stored such a batch: its outcome is unknown), and this returns that error.
    pub async fn close_within(&self, timeout: std::time::Duration) -> Result<()> {
        let shared = &self.handle.shared;
        match tokio::time::timeout(timeout, self.flush()).await {
            Ok(result) => {
                shared.close_queues();
                result
            }
            Err(_) => {
                warn!(topic = %shared.topic, ?timeout, "closing the producer timed out: records not yet acknowledged fail as closed");
                shared.abort.cancel();
                shared.shutdown.cancel();
                shared.close_queues();
                Err(Error::closed("the producer"))
            }
        }
    }

    /// What this producer did so far (every clone shares them).
    pub fn metrics(&self) -> crate::MetricsSnapshot {
        self.handle.shared.metrics.own().snapshot()
    }

    /// Number of produce requests delivered so far (diagnostics).
    pub fn delivered_requests(&self) -> u64 {
        self.handle.shared.produced_batches.load(Ordering::Relaxed)
    }

    /// The producer id written in this producer's batches, `None` when it is not idempotent.
    /// Every clone shares it; each [`Fluvio::topic_producer`](crate::Fluvio::topic_producer)
    /// call draws a new one, whose sequences start again at 0.
    pub fn producer_id(&self) -> Option<i64> {
        self.handle.shared.producer_id
    }
}

/// The outcome of [`TopicProducer::try_send`].
#[derive(Debug)]
pub enum TrySend {
    /// The record is queued.
    Sent(ProduceOutput),
    /// The partition's queue is full; nothing was queued.
    QueueFull(u32),
}

/// The codec to use given the topic's requirement and the producer's explicit choice.
fn resolve_compression(topic: CompressionAlgorithm, explicit: Option<Compression>) -> Result<Compression> {
    let required = match topic {
        CompressionAlgorithm::Any => return Ok(explicit.unwrap_or(Compression::None)),
        CompressionAlgorithm::None => Compression::None,
        CompressionAlgorithm::Gzip => Compression::Gzip,
        CompressionAlgorithm::Snappy => Compression::Snappy,
        CompressionAlgorithm::Lz4 => Compression::Lz4,
        CompressionAlgorithm::Zstd => Compression::Zstd,
    };
    match explicit {
        Some(chosen) if chosen != required => Err(Error::config(format!(
            "the topic requires {required} compression but the producer is configured for {chosen}"
        ))),
        _ => Ok(required),
    }
}

impl Shared {
    fn limits(&self) -> Limits {
        let envelope = request_envelope_len(&self.topic, self.client.config.client_id());
        Limits {
            batch_size: self.config.batch_size,
            // Never below what one small record needs, so that a long topic name or client id
            // still lets small records through (the server refuses what is truly too large).
            max_request_size: self.config.max_request_size.saturating_sub(envelope).max(256),
            batch_queue_size: self.config.batch_queue_size,
        }
    }

    /// The epochs of the topics and partitions the view was computed from.
    fn metadata_epoch(&self) -> (u64, u64) {
        (self.client.metadata.topics.epoch(), self.client.metadata.partitions.epoch())
    }

    /// Recomputes the partition count and online partitions when the metadata changed.
    fn refresh_view(&self, known_count: u32) {
        let metadata = &self.client.metadata;
        let epoch = self.metadata_epoch();
        if self.view.read().epoch == epoch {
            return;
        }
        let count = metadata
            .topics
            .get(&self.topic)
            .map_or(known_count, |t| t.spec.replicas.partition_count())
            .max(known_count);
        let mut available: Vec<u32> = metadata
            .partitions
            .values()
            .into_iter()
            .filter(|p| p.status.resolution == PartitionResolution::Online)
            .filter_map(|p| split_partition_name(&p.name).filter(|(t, _)| *t == self.topic).map(|(_, i)| i))
            .filter(|i| *i < count)
            .collect();
        available.sort_unstable();
        let mut queues = self.queues.write();
        let limits = self.limits();
        while queues.len() < count as usize {
            let partition = queues.len() as u32;
            queues.push(Arc::new(PartitionQueue::new(partition, limits)));
        }
        *self.view.write() = TopicView { epoch, partition_count: count, available };
    }

    fn queue_for(
        self: &Arc<Self>,
        partition: Option<u32>,
        key: Option<&[u8]>,
        value: &[u8],
    ) -> Result<Arc<PartitionQueue>> {
        self.client.ensure_open()?;
        let partition = {
            // One read of the view for the record, unless the metadata changed since.
            let mut view = self.view.read();
            if view.epoch != self.metadata_epoch() {
                drop(view);
                self.refresh_view(0);
                view = self.view.read();
            }
            let chosen = match partition {
                Some(p) => p,
                None => self.partitioner.partition(
                    &PartitionerConfig { partition_count: view.partition_count, available_partitions: &view.available },
                    key,
                    value,
                ),
            };
            if chosen >= view.partition_count {
                return Err(Error::new(
                    ErrorKind::PartitionNotFound,
                    format!(
                        "topic '{}' has {} partitions; partition {chosen} does not exist",
                        self.topic, view.partition_count
                    ),
                ));
            }
            chosen
        };
        let queue = self.queues.read()[partition as usize].clone();
        self.ensure_sender(&queue);
        Ok(queue)
    }

    fn push(&self, queue: &PartitionQueue, key: Option<&[u8]>, value: &[u8]) -> Result<Option<ProduceOutput>> {
        queue.push(key, value, now_ms(), self.config.linger.is_zero())
    }

    /// Starts the partition's sender unless it runs: a load for every record but the first.
    fn ensure_sender(self: &Arc<Self>, queue: &Arc<PartitionQueue>) {
        if queue.sender_started.load(Ordering::Acquire) {
            return;
        }
        if !queue.sender_started.swap(true, Ordering::AcqRel) {
            self.runtime.spawn(run_sender(self.clone(), queue.clone()));
        }
    }

    fn close_queues(&self) {
        for queue in self.queues.read().iter() {
            queue.close();
        }
    }
}

/// Delivers one partition's batches until the queue is closed and drained.
async fn run_sender(shared: Arc<Shared>, queue: Arc<PartitionQueue>) {
    let mut sequencer = shared.producer_id.map(Sequencer::new);
    loop {
        let notified = queue.wake.notified();
        let batches = match queue.take(shared.config.linger, Instant::now()) {
            Take::Ready(batches) => batches,
            Take::WaitUntil(deadline) => {
                tokio::select! {
                    _ = notified => {}
                    _ = tokio::time::sleep_until(deadline.into()) => {}
                    _ = shared.shutdown.cancelled() => {
                        queue.abandon(&Error::closed("the client"));
                        return;
                    }
                }
                continue;
            }
            Take::Idle => {
                tokio::select! {
                    _ = notified => {}
                    _ = shared.shutdown.cancelled() => {
                        queue.abandon(&Error::closed("the client"));
                        return;
                    }
                }
                continue;
            }
            Take::Finished => return,
        };
        let last_seq = batches.last().map_or(0, |b| b.seq);
        let failure = deliver(&shared, queue.partition, batches, sequencer.as_mut()).await;
        queue.mark_completed(last_seq, failure);
    }
}

/// Sends `batches` to the partition leader, retrying per the delivery semantic, and resolves
/// every batch. Returns the first failure, if any. `sequencer` numbers the batches of an
/// idempotent producer.
async fn deliver(
    shared: &Shared,
    partition: u32,
    batches: Vec<SealedBatch>,
    mut sequencer: Option<&mut Sequencer>,
) -> Option<Error> {
    // Encoded once: every attempt sends these very bytes (same sequence, same CRC), which is
    // what lets a deduplicating leader recognize a batch it already appended. Only a batch
    // refused as out of order is numbered and encoded anew.
    let budget = shared.limits().max_request_size;
    let numbered = |batch: &SealedBatch, sequencer: &mut Option<&mut Sequencer>| {
        let identity = sequencer.as_deref_mut().map(|s| (s.producer_id, s.number(batch.count)));
        encode_batch(shared, batch, identity, budget)
    };
    let first_sequence = sequencer.as_deref().map(|s| s.next);
    let mut encoded = Vec::with_capacity(batches.len());
    for batch in &batches {
        match numbered(batch, &mut sequencer) {
            Ok(bytes) => encoded.push(bytes),
            Err(err) => {
                // Nothing was sent: the numbers taken go back, so that the next batch follows
                // the last one the leader stored (no gap, hence no out-of-order refusal).
                if let (Some(sequencer), Some(next)) = (sequencer.as_deref_mut(), first_sequence) {
                    sequencer.next = next;
                }
                batches.iter().for_each(|_| shared.metrics.error(err.kind()));
                output::fail_all(batches.iter().map(|b| &b.outcome), &err);
                return Some(err);
            }
        }
    }
    // Indexes of the batches still to deliver, in order.
    let mut pending: Vec<usize> = (0..batches.len()).collect();
    let mut first_failure: Option<Error> = None;
    let started = Instant::now();
    let mut attempt = 0u32;
    let mut new_epochs = 0u32;
    loop {
        let request: Vec<&SendableBatch> = pending.iter().map(|&i| &encoded[i]).collect();
        let sent = tokio::select! {
            biased;
            _ = shared.abort.cancelled() => Err(Error::closed("the producer")),
            sent = send_once(shared, partition, &request) => sent,
        };
        let err = match sent {
            Ok(results) => {
                let mut retry = Vec::new();
                let mut retry_reason = None;
                let mut out_of_order = None;
                let mut delivered = false;
                for (&index, result) in pending.iter().zip(results) {
                    match result {
                        Ok(base_offset) => {
                            shared.metrics.batch_sent(u64::from(batches[index].count), encoded[index].len() as u64);
                            batches[index].outcome.complete(Ok(base_offset));
                            delivered = true;
                        }
                        Err(err) if is_out_of_order(&err) && sequencer.is_some() => {
                            out_of_order.get_or_insert((retry.len(), err));
                            retry.push(index);
                        }
                        Err(err) if err.is_retriable() => {
                            retry.push(index);
                            retry_reason.get_or_insert(err);
                        }
                        Err(err) => {
                            warn!(topic = %shared.topic, partition, %err, "batch refused");
                            shared.metrics.error(err.kind());
                            batches[index].outcome.complete(Err(err.clone()));
                            first_failure.get_or_insert(err);
                        }
                    }
                }
                if delivered {
                    shared.produced_batches.fetch_add(1, Ordering::Relaxed);
                }
                pending = retry;
                match (out_of_order, retry_reason) {
                    (None, None) => return first_failure,
                    (Some((from, reason)), _) => {
                        // Nothing of the refused batch, nor of any batch after it, was stored:
                        // number them anew in a new epoch and send them at once.
                        let renumbered = match sequencer.as_deref_mut() {
                            Some(sequencer) if new_epochs < MAX_NEW_EPOCHS_PER_DELIVERY => {
                                sequencer.new_epoch().and_then(|()| {
                                    pending[from..].iter().try_for_each(|&index| {
                                        encoded[index] = numbered(&batches[index], &mut Some(&mut *sequencer))?;
                                        Ok(())
                                    })
                                })
                            }
                            _ => Err(reason),
                        };
                        match renumbered {
                            Ok(()) => {
                                new_epochs += 1;
                                debug!(topic = %shared.topic, partition, "refused out of order: sending again in a new epoch");
                                continue;
                            }
                            Err(err) => {
                                warn!(topic = %shared.topic, partition, %err, "delivery failed");
                                pending.iter().for_each(|_| shared.metrics.error(err.kind()));
                                output::fail_all(pending.iter().map(|&i| &batches[i].outcome), &err);
                                return Some(first_failure.unwrap_or(err));
                            }
                        }
                    }
                    (None, Some(reason)) => reason,
                }
            }
            Err(err) => err,
        };
        let retry = match shared.config.delivery {
            DeliverySemantic::AtLeastOnce(policy) => {
                err.is_retriable()
                    && attempt < policy.max_retries
                    && started.elapsed() < policy.timeout
                    && !shared.shutdown.is_cancelled()
                    && started.elapsed() + policy.delay(attempt + 1) < policy.timeout
            }
            DeliverySemantic::AtMostOnce => false,
        };
        if !retry {
            warn!(topic = %shared.topic, partition, %err, "delivery failed");
            pending.iter().for_each(|_| shared.metrics.error(err.kind()));
            output::fail_all(pending.iter().map(|&i| &batches[i].outcome), &err);
            return Some(first_failure.unwrap_or(err));
        }
        attempt += 1;
        let DeliverySemantic::AtLeastOnce(policy) = shared.config.delivery else { unreachable!() };
        warn!(topic = %shared.topic, partition, attempt, %err, "retrying delivery");
        shared.metrics.retry();
        if matches!(err.kind(), ErrorKind::Connect | ErrorKind::ConnectTimeout | ErrorKind::ConnectionClosed) {
            shared.metrics.reconnect();
        }
        // Whatever went wrong (a refusal, a lost connection, an offline leader), the leader
        // may have moved and the watch may not tell yet: ask the SC before the next attempt.
        shared.client.refresh_partitions(&shared.topic).await;
        tokio::select! {
            _ = tokio::time::sleep(policy.delay(attempt)) => {}
            _ = shared.shutdown.cancelled() => {}
        }
    }
}

/// Bytes of a produce request to `topic` besides its partition entries: the frame's length
/// prefix and request header, and the request's fixed fields.
fn request_envelope_len(topic: &str, client_id: &str) -> usize {
    let header = fluvio_wire::api::RequestHeader {
        api_key: <ProduceRequest as fluvio_wire::Request>::API_KEY,
        api_version: SPU_VERSION,
        correlation_id: 0,
        client_id: client_id.to_string(),
    };
    let request = ProduceRequest {
        transactional_id: None,
        isolation: ProduceAcks(Isolation::ReadCommitted),
        timeout_ms: 0,
        topics: vec![TopicProduceData { name: topic.to_string(), partitions: Vec::new() }],
        smartmodules: Vec::new(),
    };
    let mut frame = bytes::BytesMut::new();
    match fluvio_wire::api::encode_request_frame(&header, &request, &mut frame) {
        Ok(()) => frame.len(),
        // Only a name too long for the protocol fails; the request will fail the same way.
        Err(_) => 0,
    }
}

/// Whether the leader refused a batch because it does not follow the producer's last stored
/// batch (nothing of it was stored).
fn is_out_of_order(err: &Error) -> bool {
    err.server_code().is_some_and(fluvio_wire::ErrorCode::is_out_of_order_sequence)
}

/// One batch, encoded with `identity` (producer id, and the epoch and first sequence number
/// the batch gets) when the producer is idempotent, -1s otherwise (as the official client
/// writes). A batch that compression made too large for a request on its own is refused
/// here, before it is sent: the server would close the connection on it.
/// `budget` is what the partition entries of one request may take.
fn encode_batch(
    shared: &Shared,
    batch: &SealedBatch,
    identity: Option<(i64, (i16, i32))>,
    budget: usize,
) -> Result<SendableBatch> {
    let mut raw = RawBatch::from_records_area(
        batch.area.clone(),
        batch.count as usize,
        batch.last_timestamp_delta,
        shared.compression,
        batch.first_timestamp,
    )?;
    if let Some((producer_id, (epoch, first_sequence))) = identity {
        raw.header.producer_id = producer_id;
        raw.header.producer_epoch = epoch;
        raw.header.first_sequence = first_sequence;
    }
    let batch = SendableBatch::new(&raw)?;
    if accumulator::ENTRY_OVERHEAD + batch.len() > budget {
        return Err(Error::new(
            ErrorKind::RecordTooLarge,
            format!(
                "a compressed batch of {} bytes does not fit the maximum request size of {} bytes",
                batch.len(),
                shared.config.max_request_size
            ),
        ));
    }
    Ok(batch)
}

/// Sends one request with a partition entry per batch, so that the leader answers (and
/// deduplicates) each batch on its own; returns the outcome of each entry (its base offset,
/// or the error the server reported for it). The batches' records go out as they are, not
/// copied into the request.
async fn send_once(shared: &Shared, partition: u32, batches: &[&SendableBatch]) -> Result<Vec<Result<i64>>> {
    let entries = batches.len();
    let connection = shared.client.leader_connection(&shared.topic, partition).await?;
    // The server may hold a ReadCommitted request for up to the producer timeout.
    let wait = shared.client.config.request_timeout() + shared.config.timeout;
    let request = ProducePieces {
        isolation: ProduceAcks(shared.config.isolation),
        timeout_ms: shared.config.timeout.as_millis().min(i32::MAX as u128) as i32,
        topic: &shared.topic,
        partition,
        batches,
    };
    let in_flight = shared.metrics.request();
    let response = connection
        .request_encoded_with_timeout::<ProduceRequest>(SPU_VERSION, wait, |header| {
            request.encode_frame(header).map(Frame::Pieces)
        })
        .await;
    drop(in_flight);
    let response = response?;
    // The server answers entries by position, in request order.
    let answers = response.responses.into_iter().next().map(|topic| topic.partitions).unwrap_or_default();
    if answers.len() != entries {
        return Err(Error::new(
            ErrorKind::Protocol,
            format!("a produce response answered {} partition entries of {entries}", answers.len()),
        ));
    }
    Ok(answers
        .into_iter()
        .map(|entry| {
            if entry.error_code.is_ok() {
                Ok(entry.base_offset)
            } else {
                Err(Error::from_server(entry.error_code, format!("{}-{partition}", shared.topic)))
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_sequence_wraps_to_zero_after_i32_max() {
        assert_eq!(next_sequence(0, 5), 5);
        assert_eq!(next_sequence(i32::MAX - 5, 5), i32::MAX);
        assert_eq!(next_sequence(i32::MAX, 1), 0);
        assert_eq!(next_sequence(i32::MAX - 1, 3), 1);
        assert_eq!(next_sequence(i32::MAX, u32::MAX), next_sequence(0, u32::MAX) - 1);
    }

    #[test]
    fn a_sequencer_numbers_records_and_restarts_at_zero_in_a_new_epoch() {
        let mut sequencer = Sequencer::new(9);
        assert_eq!(sequencer.number(3), (0, 0));
        assert_eq!(sequencer.number(2), (0, 3));
        sequencer.new_epoch().unwrap();
        assert_eq!(sequencer.number(4), (1, 0));
        assert_eq!(sequencer.number(1), (1, 4));
        sequencer.next = i32::MAX;
        assert_eq!(sequencer.number(2), (1, i32::MAX));
        assert_eq!(sequencer.number(1), (1, 1));
        sequencer.epoch = i16::MAX;
        assert_eq!(sequencer.new_epoch().unwrap_err().kind(), ErrorKind::Server);
    }

    #[test]
    fn compression_follows_the_topic() {
        assert_eq!(resolve_compression(CompressionAlgorithm::Any, None).unwrap(), Compression::None);
        assert_eq!(resolve_compression(CompressionAlgorithm::Any, Some(Compression::Lz4)).unwrap(), Compression::Lz4);
        assert_eq!(resolve_compression(CompressionAlgorithm::Gzip, None).unwrap(), Compression::Gzip);
        assert_eq!(
            resolve_compression(CompressionAlgorithm::Gzip, Some(Compression::Gzip)).unwrap(),
            Compression::Gzip
        );
        assert_eq!(
            resolve_compression(CompressionAlgorithm::Gzip, Some(Compression::Snappy)).unwrap_err().kind(),
            ErrorKind::Config
        );
    }
}
