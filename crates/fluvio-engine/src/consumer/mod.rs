//! Consumers: a continuous stream of one partition or of a whole topic, and one-shot fetches.
//!
//! A stream runs in a background task that receives pushes from the partition leader, decodes
//! them into records, hands them to the application through a small bounded channel, and
//! only then acknowledges, so the server's pace follows the application's. Only whole batches
//! are decoded, and a batch a push ends inside of (a Fluvio SPU cuts pushes at `max_bytes`) is
//! fetched whole when the next push would not bring it whole (see [`MAX_FETCH_BYTES`]): a stream never
//! stalls on a batch larger than its `max_bytes`, and never skips records. When the leader goes
//! away the task resumes on the new leader from the offset after the last record it received,
//! with no gap and no duplicate.
//!
//! Resuming follows the metadata, not the refusing server: an SPU that answered "not the
//! leader" is not asked again until the metadata (the SC's watch, or a List the task sends
//! to catch up with it) names another leader or reports a change in the partition's
//! leadership; only if it stays the named leader, unchanged, is it asked again, after a second
//! or more. A partition without a leader is waited for. Between attempts the task wakes on
//! every metadata change and asks the SC itself at growing intervals, within
//! [`ConsumerConfig::resume_timeout`].

mod offset;
mod push;

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use fluvio_wire::sc::PartitionSpec;
use fluvio_wire::sc::partition::{PartitionResolution, partition_name};
use fluvio_wire::spu::{
    FetchOffsetPartition, FetchOffsetTopic, FetchOffsetsRequest, OffsetUpdate, UpdateOffsetsRequest,
};
use futures_util::Stream;
use tokio::sync::mpsc;
use tracing::debug;

pub use fluvio_wire::spu::Isolation;
pub use offset::Offset;
pub use push::MAX_FETCH_BYTES;

use crate::client::ClientInner;
use crate::error::{Error, ErrorKind, Result};
use crate::socket::{Connection, SPU_VERSION};
use push::{Decoded, decode_push, fetch_cut_batch, stream_request};

/// Default `max_bytes` of a fetch: 1 MiB.
pub const DEFAULT_MAX_BYTES: i32 = 1024 * 1024;
/// Default time a stream keeps trying to resume after losing its partition leader.
pub const DEFAULT_RESUME_TIMEOUT: Duration = Duration::from_secs(60);
/// Decoded pushes buffered between the stream task and the application.
const CHUNKS_BUFFERED: usize = 2;
/// How long a resumed session must have lasted for its failure to start a new outage, with a
/// fresh resume timeout, rather than continue the one it resumed from: a server that accepts
/// streams and drops them at once cannot keep a stream resuming forever.
const SESSION_SETTLED: Duration = Duration::from_secs(1);
/// The first interval between attempts to resume; it doubles up to [`RESUME_DELAY_MAX`].
const RESUME_DELAY_MIN: Duration = Duration::from_millis(50);
/// The longest interval between attempts to resume (and between metadata refreshes then).
const RESUME_DELAY_MAX: Duration = Duration::from_millis(500);
/// How long an SPU that refused a stream as not the leader is left alone while the metadata
/// keeps naming it unchanged; it doubles with each refusal in a row up to
/// [`REFUSED_RETRY_MAX`].
const REFUSED_RETRY_MIN: Duration = Duration::from_secs(1);
/// The longest an SPU that refused a stream is left alone while the metadata keeps naming it.
const REFUSED_RETRY_MAX: Duration = Duration::from_secs(5);

/// Consumer settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConsumerConfig {
    /// Which records are visible: everything the leader stored (`ReadUncommitted`, the
    /// default, as the official client's), or only records every in-sync replica holds
    /// (`ReadCommitted`), which a failover never takes back.
    pub isolation: Isolation,
    /// Size budget of each fetch: the server sends at most this many bytes of records,
    /// cutting a batch if it falls there. A batch that does not fit is fetched whole anyway
    /// (up to [`MAX_FETCH_BYTES`], which also bounds this setting).
    pub max_bytes: i32,
    /// How long a stream keeps trying to resume after losing its partition leader.
    pub resume_timeout: Duration,
}

impl Default for ConsumerConfig {
    fn default() -> Self {
        Self {
            isolation: Isolation::ReadUncommitted,
            max_bytes: DEFAULT_MAX_BYTES,
            resume_timeout: DEFAULT_RESUME_TIMEOUT,
        }
    }
}

impl ConsumerConfig {
    fn validate(&self) -> Result<()> {
        if self.max_bytes <= 0 {
            return Err(Error::config("max_bytes must be greater than 0"));
        }
        Ok(())
    }
}

/// A consumed record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerRecord {
    /// Partition.
    pub partition: u32,
    /// Offset within the partition.
    pub offset: i64,
    /// Milliseconds since the epoch when the producer created the record, or -1.
    pub timestamp: i64,
    /// Key, if any.
    pub key: Option<Bytes>,
    /// Value.
    pub value: Bytes,
}

/// Reads one partition. Cheap to clone.
///
/// Thread-safe.
#[derive(Clone)]
pub struct PartitionConsumer {
    client: Arc<ClientInner>,
    topic: String,
    partition: u32,
}

impl PartitionConsumer {
    pub(crate) fn new(client: Arc<ClientInner>, topic: &str, partition: u32) -> Self {
        Self { client, topic: topic.to_string(), partition }
    }

    /// The topic.
    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// The partition.
    pub fn partition(&self) -> u32 {
        self.partition
    }

    /// A continuous stream from `offset` with default settings.
    pub async fn stream(&self, offset: Offset) -> Result<PartitionStream> {
        self.stream_with_config(offset, ConsumerConfig::default()).await
    }

    /// A continuous stream from `offset`.
    pub async fn stream_with_config(&self, offset: Offset, config: ConsumerConfig) -> Result<PartitionStream> {
        config.validate()?;
        let start = self.locate(offset).await?;
        // Each session gets a connection of its own: the protocol cannot cancel a stream, and
        // closing its connection is what ends it on the server, on any server.
        let leader = self.client.partition_leader(&self.topic, self.partition).await?;
        let chosen = leadership(&self.client, &self.topic, self.partition);
        let connection = self.client.dedicated_spu_connection(leader).await?;
        let (tx, rx) = mpsc::channel(CHUNKS_BUFFERED);
        let task = StreamTask {
            client: self.client.clone(),
            topic: self.topic.clone(),
            partition: self.partition,
            config,
            next_offset: start,
            leader,
            chosen,
            refused: None,
            outage: None,
        };
        let handle = tokio::spawn(task.run(connection, tx));
        Ok(PartitionStream {
            rx,
            current: Vec::new().into_iter(),
            pending_error: None,
            finished: false,
            task: AbortOnDrop(handle),
        })
    }

    /// The records available from `offset`: those of the whole batches the server sends
    /// within `max_bytes`, or, when the first batch is larger, that batch fetched whole; none
    /// when nothing is visible there yet. For continuous reading use a stream.
    ///
    /// An offset past the partition's log end fails with [`ErrorKind::OffsetOutOfRange`], as
    /// a stream from it does (and as a Fluvio SPU answers); one below the log start with
    /// [`ErrorKind::OffsetEvicted`]. At the end, or between the high watermark and the log
    /// end under `ReadCommitted`, there is nothing yet: an empty list.
    pub async fn fetch(&self, offset: Offset, config: ConsumerConfig) -> Result<Vec<ConsumerRecord>> {
        config.validate()?;
        let leader = self.client.partition_leader(&self.topic, self.partition).await?;
        // A dedicated connection: a stream session has no cancel message, and closing the
        // connection is how it ends on any server.
        let connection = self.client.dedicated_spu_connection(leader).await?;
        let result = self.fetch_on(&connection, offset, config).await;
        connection.close();
        result
    }

    async fn fetch_on(
        &self,
        connection: &Connection,
        offset: Offset,
        config: ConsumerConfig,
    ) -> Result<Vec<ConsumerRecord>> {
        let (start, end) = fetch_offsets(connection, &self.topic, self.partition).await?;
        let from = offset.resolve(start, end);
        // At the high watermark nothing is committed yet. Past it only the SPU knows whether
        // the offset exists (below its log end: nothing yet) or not (an error, as a stream
        // from there gets): ask it.
        if from == end && config.isolation == Isolation::ReadCommitted {
            return Ok(Vec::new());
        }
        let request = stream_request(&self.topic, self.partition, from, config.max_bytes, config.isolation);
        let mut pushes = connection.open_stream(&request, SPU_VERSION)?;
        // Beyond the high watermark (uncommitted reads), data may not exist: wait briefly.
        let wait = if from < end { self.client.config.request_timeout() } else { Duration::from_millis(200) };
        let push = match tokio::time::timeout(wait, pushes.next()).await {
            Err(_) if from >= end => return Ok(Vec::new()),
            Err(_) => {
                return Err(Error::new(
                    ErrorKind::Timeout,
                    format!("no data from {}-{} within {wait:?}", self.topic, self.partition),
                ));
            }
            Ok(None) => return Err(Error::new(ErrorKind::ConnectionClosed, "the SPU closed the connection")),
            Ok(Some(push)) => push?,
        };
        if push.partition.error_code.is_error() {
            return Err(Error::from_server(push.partition.error_code, format!("{}-{}", self.topic, self.partition)));
        }
        let decoded = decode_push(&push, self.partition, from)?;
        if decoded.next_offset.is_some() {
            // Whole batches: a batch cut after them is the next fetch's first.
            return Ok(decoded.records);
        }
        let Some(cut) = decoded.cut else {
            return Err(Error::new(ErrorKind::Protocol, "the SPU pushed no record batch"));
        };
        let wait = self.client.config.request_timeout();
        let whole = fetch_cut_batch(connection, &self.topic, self.partition, from, config.isolation, cut, wait).await?;
        Ok(whole.records)
    }

    /// The resolved start offset, retrying retriable failures (e.g. a leader change) within
    /// the request timeout.
    async fn locate(&self, offset: Offset) -> Result<i64> {
        let deadline = tokio::time::Instant::now() + self.client.config.request_timeout();
        let mut delay = Duration::from_millis(20);
        loop {
            let attempt = async {
                let connection = self.client.leader_connection(&self.topic, self.partition).await?;
                let (start, end) = fetch_offsets(&connection, &self.topic, self.partition).await?;
                Ok::<_, Error>(offset.resolve(start, end))
            };
            match attempt.await {
                Ok(found) => return Ok(found),
                Err(err) if err.is_retriable() && tokio::time::Instant::now() + delay < deadline => {
                    if err.kind() == ErrorKind::NotLeader {
                        self.client.refresh_partitions(&self.topic).await;
                    }
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_millis(500));
                }
                Err(err) => return Err(err),
            }
        }
    }

    /// The first stored offset and the high watermark.
    pub async fn offsets(&self) -> Result<(i64, i64)> {
        let connection = self.client.leader_connection(&self.topic, self.partition).await?;
        fetch_offsets(&connection, &self.topic, self.partition).await
    }
}

async fn fetch_offsets(connection: &Connection, topic: &str, partition: u32) -> Result<(i64, i64)> {
    let request = FetchOffsetsRequest {
        topics: vec![FetchOffsetTopic {
            name: topic.to_string(),
            partitions: vec![FetchOffsetPartition { partition_index: partition }],
        }],
        consumer_id: None,
    };
    let response = connection.request(&request, SPU_VERSION).await?;
    let entry = response
        .topics
        .into_iter()
        .flat_map(|t| t.partitions)
        .find(|p| p.partition_index == partition)
        .ok_or_else(|| Error::new(ErrorKind::Protocol, "FetchOffsets response without the partition"))?;
    if entry.error_code.is_error() {
        return Err(Error::from_server(entry.error_code, format!("{topic}-{partition}")));
    }
    Ok((entry.start_offset, entry.last_stable_offset))
}

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
    rx: mpsc::Receiver<Result<Vec<ConsumerRecord>>>,
    current: std::vec::IntoIter<ConsumerRecord>,
    /// A terminal error met while draining a batch, returned by the next call.
    pending_error: Option<Error>,
    finished: bool,
    task: AbortOnDrop,
}

impl PartitionStream {
    /// The next record; `None` only after a terminal error was returned.
    pub async fn next(&mut self) -> Option<Result<ConsumerRecord>> {
        loop {
            if let Some(record) = self.current.next() {
                return Some(Ok(record));
            }
            if let Some(err) = self.pending_error.take() {
                self.finished = true;
                return Some(Err(err));
            }
            if self.finished {
                return None;
            }
            match self.rx.recv().await {
                Some(chunk) => {
                    if let Some(terminal) = self.take_chunk(chunk) {
                        return Some(Err(terminal));
                    }
                }
                None => self.finished = true,
            }
        }
    }

    /// The next record if one is already buffered, without waiting.
    pub fn try_next(&mut self) -> Option<Result<ConsumerRecord>> {
        loop {
            if let Some(record) = self.current.next() {
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

    fn take_chunk(&mut self, chunk: Result<Vec<ConsumerRecord>>) -> Option<Error> {
        match chunk {
            Ok(records) => {
                self.current = records.into_iter();
                None
            }
            Err(err) => {
                self.finished = true;
                Some(err)
            }
        }
    }

    /// Every record already received (at most `max`), waiting for the next push when none
    /// is; `None` only after a terminal error was returned.
    pub async fn next_batch(&mut self, max: usize) -> Option<Result<Vec<ConsumerRecord>>> {
        match self.next().await? {
            Ok(first) => {
                let mut batch = vec![first];
                self.drain_buffered(&mut batch, max);
                Some(Ok(batch))
            }
            Err(err) => Some(Err(err)),
        }
    }

    /// Every record already received (at most `max`), without waiting: `None` when nothing
    /// is buffered.
    pub fn try_next_batch(&mut self, max: usize) -> Option<Result<Vec<ConsumerRecord>>> {
        match self.try_next()? {
            Ok(first) => {
                let mut batch = vec![first];
                self.drain_buffered(&mut batch, max);
                Some(Ok(batch))
            }
            Err(err) => Some(Err(err)),
        }
    }

    /// Moves buffered records (not waiting, not crossing into a terminal error) into `batch`.
    fn drain_buffered(&mut self, batch: &mut Vec<ConsumerRecord>, max: usize) {
        while batch.len() < max {
            if let Some(record) = self.current.next() {
                batch.push(record);
                continue;
            }
            match self.rx.try_recv() {
                Ok(Ok(records)) => self.current = records.into_iter(),
                Ok(Err(err)) => {
                    // Keep the error for the next call; records already taken go out first.
                    self.pending_error = Some(err);
                    return;
                }
                Err(_) => return,
            }
        }
    }

    /// True once the stream ended (after a terminal error).
    pub fn is_finished(&self) -> bool {
        self.finished && self.current.len() == 0
    }

    /// Ends the stream; the background task stops.
    pub fn close(&mut self) {
        self.finished = true;
        self.current = Vec::new().into_iter();
        self.task.0.abort();
        self.rx.close();
    }
}

impl Stream for PartitionStream {
    type Item = Result<ConsumerRecord>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            if let Some(record) = self.current.next() {
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

struct StreamTask {
    client: Arc<ClientInner>,
    topic: String,
    partition: u32,
    config: ConsumerConfig,
    /// The offset after the last record handed to the application channel.
    next_offset: i64,
    /// The SPU serving the current session.
    leader: i32,
    /// What the metadata said about the partition's leadership when that SPU was chosen.
    chosen: Option<Leadership>,
    /// The last refusal as "not the leader" since the stream last received data: asking the
    /// same SPU again before the metadata says anything new about the partition's leadership
    /// would most likely be refused again.
    refused: Option<Refusal>,
    /// The outage in progress, if any.
    outage: Option<Outage>,
}

/// What the metadata says about who leads a partition. Offsets and sizes are left out: they
/// change with every write, while this only changes when leadership or availability does.
#[derive(Debug, Clone, PartialEq)]
struct Leadership {
    spec: PartitionSpec,
    resolution: PartitionResolution,
    status_leader: i32,
}

/// The partition's leadership as the client's metadata has it now.
fn leadership(client: &ClientInner, topic: &str, partition: u32) -> Option<Leadership> {
    client.metadata.partitions.get(&partition_name(topic, partition)).map(|p| Leadership {
        spec: p.spec,
        resolution: p.status.resolution,
        status_leader: p.status.leader.spu,
    })
}

/// An SPU that refused the stream, and what the metadata said when it was chosen. It is
/// asked again as soon as the metadata says something new about the partition's leadership
/// (the SC saw it change: e.g. the SPU restarted and took the partition back). While the
/// metadata keeps naming it unchanged, it is asked again only after [`Refusal::wait`]
/// (growing with each refusal): a restarted cluster comes back with the same metadata, and
/// its SPUs refuse streams until they have reopened their partitions.
#[derive(Debug)]
struct Refusal {
    spu: i32,
    seen: Option<Leadership>,
    at: tokio::time::Instant,
    wait: Duration,
}

/// The time since the stream last worked, as far as resuming is concerned.
struct Outage {
    /// When resuming gives up.
    deadline: tokio::time::Instant,
    /// When the next attempt that does not wait for a metadata change may start.
    next_attempt: tokio::time::Instant,
    /// The interval after that one.
    delay: Duration,
}

/// Why a session ended.
enum SessionEnd {
    /// The application dropped the stream, or the client closed.
    Stop,
    /// The leader or the connection went away: resume elsewhere.
    Resume(Error),
    /// A terminal error, already delivered to the application.
    Failed,
}

impl StreamTask {
    async fn run(mut self, mut connection: Arc<Connection>, tx: mpsc::Sender<Result<Vec<ConsumerRecord>>>) {
        loop {
            let opened = tokio::time::Instant::now();
            let reason = match self.session(&connection, &tx).await {
                SessionEnd::Stop | SessionEnd::Failed => return,
                SessionEnd::Resume(reason) => {
                    if reason.kind() == ErrorKind::NotLeader {
                        let wait = match &self.refused {
                            Some(last) if last.spu == self.leader => (last.wait * 2).min(REFUSED_RETRY_MAX),
                            _ => REFUSED_RETRY_MIN,
                        };
                        let at = tokio::time::Instant::now();
                        self.refused = Some(Refusal { spu: self.leader, seen: self.chosen.clone(), at, wait });
                    }
                    reason
                }
            };
            debug!(topic = %self.topic, partition = self.partition, spu = self.leader, %reason, offset = self.next_offset, "resuming stream");
            let now = tokio::time::Instant::now();
            if self.outage.is_none() || now - opened >= SESSION_SETTLED {
                self.outage = Some(Outage {
                    deadline: now + self.config.resume_timeout,
                    next_attempt: now,
                    delay: RESUME_DELAY_MIN,
                });
            }
            drop(connection);
            match self.reconnect(&tx, reason).await {
                Some(new_connection) => connection = new_connection,
                None => return,
            }
        }
    }

    async fn session(&mut self, connection: &Connection, tx: &mpsc::Sender<Result<Vec<ConsumerRecord>>>) -> SessionEnd {
        let request =
            stream_request(&self.topic, self.partition, self.next_offset, self.config.max_bytes, self.config.isolation);
        let mut pushes = match connection.open_stream(&request, SPU_VERSION) {
            Ok(pushes) => pushes,
            Err(err) => return SessionEnd::Resume(err),
        };
        loop {
            let push = tokio::select! {
                push = pushes.next() => push,
                _ = tx.closed() => return SessionEnd::Stop,
                _ = self.client.shutdown.cancelled() => {
                    let _ = tx.send(Err(Error::closed("the client"))).await;
                    return SessionEnd::Stop;
                }
            };
            let push = match push {
                None => {
                    return SessionEnd::Resume(Error::new(
                        ErrorKind::ConnectionClosed,
                        "the leader's connection closed",
                    ));
                }
                Some(Err(err)) => return SessionEnd::Resume(err),
                Some(Ok(push)) => push,
            };
            if push.partition.error_code.is_error() {
                // NotLeaderForPartition and PartitionNotLeader (the partition moved) are
                // retriable, as are SpuOffline and the pending-initialization codes.
                let err =
                    Error::from_server(push.partition.error_code.clone(), format!("{}-{}", self.topic, self.partition));
                if err.is_retriable() {
                    return SessionEnd::Resume(err);
                }
                let _ = tx.send(Err(err)).await;
                return SessionEnd::Failed;
            }
            // The leader serves this stream: whatever failed before is over.
            self.outage = None;
            self.refused = None;
            let decoded = match decode_push(&push, self.partition, self.next_offset) {
                Ok(decoded) if decoded.next_offset.is_none() && decoded.cut.is_none() => {
                    Err(Error::new(ErrorKind::Protocol, "the SPU pushed no record batch"))
                }
                decoded => decoded,
            };
            let decoded = match decoded {
                Ok(decoded) => decoded,
                Err(err) => {
                    let _ = tx.send(Err(err)).await;
                    return SessionEnd::Failed;
                }
            };
            let cut = decoded.cut_to_fetch(self.config.max_bytes);
            if let Some(end) = self.hand_over(decoded, tx).await {
                return end;
            }
            if let Some(cut) = cut {
                // The next push would not bring this batch whole: fetch it now.
                let whole = match self.fetch_cut_batch(cut).await {
                    Ok(whole) => whole,
                    Err(err) if err.is_retriable() => return SessionEnd::Resume(err),
                    Err(err) => {
                        let _ = tx.send(Err(err)).await;
                        return SessionEnd::Failed;
                    }
                };
                if let Some(end) = self.hand_over(whole, tx).await {
                    return end;
                }
            }
            // Only now, with the records handed over, ask for more.
            let ack = UpdateOffsetsRequest {
                offsets: vec![OffsetUpdate { offset: self.next_offset, session_id: push.stream_id }],
            };
            if let Err(err) = connection.send_and_forget(&ack, 0) {
                return SessionEnd::Resume(err);
            }
        }
    }

    /// Hands the records of whole batches to the application and moves past them; `Some`
    /// when the application is gone.
    async fn hand_over(
        &mut self,
        decoded: Decoded,
        tx: &mpsc::Sender<Result<Vec<ConsumerRecord>>>,
    ) -> Option<SessionEnd> {
        if let Some(next) = decoded.next_offset {
            self.next_offset = self.next_offset.max(next);
        }
        if !decoded.records.is_empty() && tx.send(Ok(decoded.records)).await.is_err() {
            return Some(SessionEnd::Stop);
        }
        None
    }

    /// Fetches whole the batch holding the next offset, which a push cut short, on a
    /// connection of its own to the same leader (the extra session ends when it closes, and
    /// this session's flow control is untouched).
    async fn fetch_cut_batch(&self, cut: fluvio_wire::record::CutBatch) -> Result<Decoded> {
        let connection = self.client.dedicated_spu_connection(self.leader).await?;
        let whole = fetch_cut_batch(
            &connection,
            &self.topic,
            self.partition,
            self.next_offset,
            self.config.isolation,
            cut,
            self.client.config.request_timeout(),
        )
        .await;
        connection.close();
        whole
    }

    /// Connects to the partition's leader again, within the outage's deadline (`self.outage`
    /// is set). Attempts start when the metadata names a leader not tried yet (the watch
    /// wakes the task) or at growing intervals, each preceded by a metadata refresh from the
    /// SC; the SPU that refused the stream is skipped as [`Refusal`] describes.
    async fn reconnect(
        &mut self,
        tx: &mpsc::Sender<Result<Vec<ConsumerRecord>>>,
        mut reason: Error,
    ) -> Option<Arc<Connection>> {
        let mut changes = self.client.metadata.partitions.subscribe();
        changes.borrow_and_update();
        // The leader the last connection attempt failed on.
        let mut failed_on: Option<i32> = None;
        let mut first = true;
        loop {
            let (deadline, next_attempt) = {
                let outage = self.outage.as_ref().expect("an outage is in progress");
                (outage.deadline, outage.next_attempt)
            };
            let timed = if first && tokio::time::Instant::now() >= next_attempt {
                true
            } else {
                tokio::select! {
                    _ = tokio::time::sleep_until(next_attempt.min(deadline)) => true,
                    changed = changes.changed() => {
                        if changed.is_err() {
                            // The client is gone; the checks below end the task.
                            tokio::time::sleep_until(next_attempt.min(deadline)).await;
                        }
                        false
                    }
                    _ = tx.closed() => return None,
                    _ = self.client.shutdown.cancelled() => false,
                }
            };
            first = false;
            if tx.is_closed() {
                return None;
            }
            if self.client.shutdown.is_cancelled() {
                // The connection may have closed before the session saw the shutdown: the
                // stream still ends with an error, never silently.
                let _ = tx.send(Err(Error::closed("the client"))).await;
                return None;
            }
            if tokio::time::Instant::now() >= deadline {
                let err = Error::new(
                    reason.kind(),
                    format!(
                        "could not resume {}-{} at offset {} within {:?}: {reason}",
                        self.topic, self.partition, self.next_offset, self.config.resume_timeout
                    ),
                );
                let _ = tx.send(Err(err)).await;
                return None;
            }
            if timed {
                if let Some(outage) = self.outage.as_mut() {
                    outage.next_attempt = tokio::time::Instant::now() + outage.delay;
                    outage.delay = (outage.delay * 2).min(RESUME_DELAY_MAX);
                }
                // The watch may lag behind a leader change the SC already knows.
                self.client.refresh_partitions(&self.topic).await;
                changes.borrow_and_update();
            }
            let now_seen = leadership(&self.client, &self.topic, self.partition);
            if self.refused.as_ref().is_some_and(|r| r.seen != now_seen) {
                // The metadata moved on since the refusal (even if it comes back to the same
                // leader, say after an election without another replica): ask again.
                self.refused = None;
            }
            let leader = match self.client.partition_leader(&self.topic, self.partition).await {
                Ok(leader) => leader,
                Err(err) if err.is_retriable() || err.kind() == ErrorKind::Server => {
                    reason = err;
                    continue;
                }
                Err(err) => {
                    self.fail_resume(tx, err).await;
                    return None;
                }
            };
            // The cache may have changed while the leader was looked up.
            let now_seen = leadership(&self.client, &self.topic, self.partition);
            let refused = self
                .refused
                .as_ref()
                .is_some_and(|r| r.spu == leader && r.seen == now_seen && tokio::time::Instant::now() < r.at + r.wait);
            if refused || (!timed && failed_on == Some(leader)) {
                continue;
            }
            match self.client.dedicated_spu_connection(leader).await {
                Ok(connection) => {
                    self.leader = leader;
                    self.chosen = now_seen;
                    return Some(connection);
                }
                Err(err) if err.is_retriable() || err.kind() == ErrorKind::Server => {
                    failed_on = Some(leader);
                    reason = err;
                }
                Err(err) => {
                    self.fail_resume(tx, err).await;
                    return None;
                }
            }
        }
    }

    /// Ends the stream with a failure that retrying cannot cure.
    async fn fail_resume(&self, tx: &mpsc::Sender<Result<Vec<ConsumerRecord>>>, err: Error) {
        let err = if err.kind() == ErrorKind::TopicNotFound {
            // The topic existed when the stream opened: it was deleted meanwhile (e.g. before
            // the leader saw this session, which it then refused).
            Error::new(
                ErrorKind::TopicDeleted,
                format!("{}-{} was deleted while streaming: {err}", self.topic, self.partition),
            )
        } else {
            err
        };
        let _ = tx.send(Err(err)).await;
    }
}

/// Reads every partition of a topic. Cheap to clone.
///
/// Thread-safe.
#[derive(Clone)]
pub struct TopicConsumer {
    client: Arc<ClientInner>,
    topic: String,
}

impl TopicConsumer {
    pub(crate) fn new(client: Arc<ClientInner>, topic: &str) -> Self {
        Self { client, topic: topic.to_string() }
    }

    /// The topic.
    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// One stream over every partition, each starting at `offset`.
    pub async fn stream(&self, offset: Offset) -> Result<TopicStream> {
        self.stream_with_config(offset, ConsumerConfig::default()).await
    }

    /// One stream over every partition, each starting at `offset`.
    pub async fn stream_with_config(&self, offset: Offset, config: ConsumerConfig) -> Result<TopicStream> {
        let topic = self.client.topic(&self.topic).await?;
        let count = topic.spec.replicas.partition_count();
        let mut streams = Vec::with_capacity(count as usize);
        for partition in 0..count {
            let consumer = PartitionConsumer::new(self.client.clone(), &self.topic, partition);
            streams.push(consumer.stream_with_config(offset, config).await?);
        }
        Ok(TopicStream { streams, next: 0 })
    }
}

/// Records of every partition of a topic, interleaved; each partition stays in order.
///
/// Not thread-safe: one reader at a time (`&mut self`).
pub struct TopicStream {
    streams: Vec<PartitionStream>,
    next: usize,
}

impl TopicStream {
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

    /// Records already received from any partition (at most `max`), waiting for one when
    /// none is; `None` once every partition stream ended.
    pub async fn next_batch(&mut self, max: usize) -> Option<Result<Vec<ConsumerRecord>>> {
        match self.next().await? {
            Ok(first) => {
                let mut batch = vec![first];
                self.drain_buffered(&mut batch, max);
                Some(Ok(batch))
            }
            Err(err) => Some(Err(err)),
        }
    }

    /// Records already received from any partition (at most `max`), without waiting.
    pub fn try_next_batch(&mut self, max: usize) -> Option<Result<Vec<ConsumerRecord>>> {
        match self.try_next()? {
            Ok(first) => {
                let mut batch = vec![first];
                self.drain_buffered(&mut batch, max);
                Some(Ok(batch))
            }
            Err(err) => Some(Err(err)),
        }
    }

    fn drain_buffered(&mut self, batch: &mut Vec<ConsumerRecord>, max: usize) {
        let count = self.streams.len();
        let mut idle = 0;
        // Take from the partitions in turn, so none is starved, until all are drained.
        while batch.len() < max && idle < count {
            let index = self.next;
            self.next = (self.next + 1) % count;
            let stream = &mut self.streams[index];
            match stream.current.next() {
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
