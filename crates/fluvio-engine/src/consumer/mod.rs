//! Consumers: a continuous stream of one partition or of a whole topic, and one-shot fetches.
//!
//! A stream runs in a background task that receives pushes from the partition leader, decodes
//! them into records, hands them to the application through a small bounded channel, and
//! only then acknowledges, so the server's pace follows the application's. The next offset is
//! computed from the records actually decoded, so a push cut in the middle of a batch never
//! skips records. When the leader goes away the task resumes on the new leader from the offset
//! after the last record it received, with no gap and no duplicate.

mod offset;

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use fluvio_wire::compression::DEFAULT_MAX_DECOMPRESSED;
use fluvio_wire::spu::{
    FetchOffsetPartition, FetchOffsetTopic, FetchOffsetsRequest, OffsetUpdate, StreamFetchRequest, StreamFetchResponse,
    UpdateOffsetsRequest,
};
use futures_util::Stream;
use tokio::sync::mpsc;
use tracing::debug;

pub use fluvio_wire::spu::Isolation;
pub use offset::Offset;

use crate::client::ClientInner;
use crate::error::{Error, ErrorKind, Result};
use crate::socket::{Connection, SPU_VERSION};

/// Default `max_bytes` of a fetch: 1 MiB.
pub const DEFAULT_MAX_BYTES: i32 = 1024 * 1024;
/// Default time a stream keeps trying to resume after losing its partition leader.
pub const DEFAULT_RESUME_TIMEOUT: Duration = Duration::from_secs(60);
/// Largest `max_bytes` a stream grows to when one batch does not fit.
const MAX_GROWN_MAX_BYTES: i32 = 64 * 1024 * 1024;
/// Decoded pushes buffered between the stream task and the application.
const CHUNKS_BUFFERED: usize = 2;

/// Consumer settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConsumerConfig {
    /// Which records are visible: committed only (the default) or everything appended.
    pub isolation: Isolation,
    /// Size budget of each fetch (whole batches only; at least one batch is always sent).
    pub max_bytes: i32,
    /// How long a stream keeps trying to resume after losing its partition leader.
    pub resume_timeout: Duration,
}

impl Default for ConsumerConfig {
    fn default() -> Self {
        Self {
            isolation: Isolation::ReadCommitted,
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
        let connection = self.client.dedicated_leader_connection(&self.topic, self.partition).await?;
        let (tx, rx) = mpsc::channel(CHUNKS_BUFFERED);
        let task = StreamTask {
            client: self.client.clone(),
            topic: self.topic.clone(),
            partition: self.partition,
            config,
            next_offset: start,
            max_bytes: config.max_bytes,
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

    /// The records available from `offset`, up to `max_bytes` (whole batches), or none when
    /// nothing is visible there yet. One request; for continuous reading use a stream.
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
        if from >= end && config.isolation == Isolation::ReadCommitted {
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
        Ok(decode_push(&push, self.partition, from)?.records)
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

fn stream_request(
    topic: &str,
    partition: u32,
    offset: i64,
    max_bytes: i32,
    isolation: Isolation,
) -> StreamFetchRequest {
    StreamFetchRequest {
        topic: topic.to_string(),
        partition,
        fetch_offset: offset,
        max_bytes,
        isolation,
        ..StreamFetchRequest::default()
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

/// Records decoded from one push, and where to continue.
struct Decoded {
    records: Vec<ConsumerRecord>,
    /// The offset after the last record decoded (whole batches and the whole records of a
    /// cut batch), or `None` when nothing decoded.
    next_offset: Option<i64>,
    /// A cut batch whose first record did not arrive whole, and its full size.
    stalled_batch_size: Option<usize>,
}

fn decode_push(push: &StreamFetchResponse, partition: u32, from: i64) -> Result<Decoded> {
    let parsed = push.partition.records.parse();
    let mut records = Vec::new();
    let mut next_offset = None;
    let mut add = |header: &fluvio_wire::record::BatchHeader, record: fluvio_wire::Record| {
        let offset = header.base_offset + record.offset_delta;
        next_offset = Some(next_offset.map_or(offset + 1, |n: i64| n.max(offset + 1)));
        if offset >= from {
            records.push(ConsumerRecord {
                partition,
                offset,
                timestamp: header.record_timestamp(record.timestamp_delta),
                key: record.key,
                value: record.value,
            });
        }
    };
    for batch in &parsed.batches {
        let decoded = batch
            .records(DEFAULT_MAX_DECOMPRESSED)
            .map_err(|e| Error::protocol(format!("undecodable batch at offset {}", batch.header.base_offset), e))?;
        for record in decoded {
            add(&batch.header, record);
        }
    }
    let mut stalled_batch_size = None;
    if let Some(partial) = &parsed.partial {
        let complete = partial.complete_records();
        if complete.is_empty() && parsed.batches.is_empty() {
            stalled_batch_size = Some(partial.header.total_len());
        }
        for record in complete {
            add(&partial.header, record);
        }
    }
    Ok(Decoded { records, next_offset, stalled_batch_size })
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
    max_bytes: i32,
}

/// Why a session ended.
enum SessionEnd {
    /// The application dropped the stream, or the client closed.
    Stop,
    /// The leader or the connection went away: resume elsewhere.
    Resume(Error),
    /// The session must be reopened right away (e.g. with a larger `max_bytes`).
    Reopen,
    /// A terminal error, already delivered to the application.
    Failed,
}

impl StreamTask {
    async fn run(mut self, mut connection: Arc<Connection>, tx: mpsc::Sender<Result<Vec<ConsumerRecord>>>) {
        loop {
            match self.session(&connection, &tx).await {
                SessionEnd::Stop | SessionEnd::Failed => return,
                // A new connection, so the abandoned session ends on the server.
                SessionEnd::Reopen => {
                    match self.client.dedicated_leader_connection(&self.topic, self.partition).await {
                        Ok(new_connection) => connection = new_connection,
                        Err(reason) => match self.reconnect(&tx, reason).await {
                            Some(new_connection) => connection = new_connection,
                            None => return,
                        },
                    }
                }
                SessionEnd::Resume(reason) => {
                    debug!(topic = %self.topic, partition = self.partition, %reason, offset = self.next_offset, "resuming stream");
                    match self.reconnect(&tx, reason).await {
                        Some(new_connection) => connection = new_connection,
                        None => return,
                    }
                }
            }
        }
    }

    async fn session(&mut self, connection: &Connection, tx: &mpsc::Sender<Result<Vec<ConsumerRecord>>>) -> SessionEnd {
        let request =
            stream_request(&self.topic, self.partition, self.next_offset, self.max_bytes, self.config.isolation);
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
                let err =
                    Error::from_server(push.partition.error_code.clone(), format!("{}-{}", self.topic, self.partition));
                if err.is_retriable() {
                    return SessionEnd::Resume(err);
                }
                let _ = tx.send(Err(err)).await;
                return SessionEnd::Failed;
            }
            let decoded = match decode_push(&push, self.partition, self.next_offset) {
                Ok(decoded) => decoded,
                Err(err) => {
                    let _ = tx.send(Err(err)).await;
                    return SessionEnd::Failed;
                }
            };
            if let Some(size) = decoded.stalled_batch_size {
                // A server that cuts batches sent only part of one too large for max_bytes:
                // ask again with room for the whole batch.
                self.max_bytes = i32::try_from(size)
                    .unwrap_or(i32::MAX)
                    .max(self.max_bytes.saturating_mul(2))
                    .min(MAX_GROWN_MAX_BYTES);
                return SessionEnd::Reopen;
            }
            if let Some(next) = decoded.next_offset {
                self.next_offset = self.next_offset.max(next);
            }
            if !decoded.records.is_empty() && tx.send(Ok(decoded.records)).await.is_err() {
                return SessionEnd::Stop;
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

    /// Finds the partition's leader again, within the resume timeout.
    async fn reconnect(
        &self,
        tx: &mpsc::Sender<Result<Vec<ConsumerRecord>>>,
        mut reason: Error,
    ) -> Option<Arc<Connection>> {
        let deadline = tokio::time::Instant::now() + self.config.resume_timeout;
        let mut delay = Duration::from_millis(50);
        loop {
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
            tokio::select! {
                _ = tokio::time::sleep(delay) => {}
                _ = tx.closed() => return None,
            }
            delay = (delay * 2).min(Duration::from_millis(500));
            self.client.refresh_partitions(&self.topic).await;
            match self.client.dedicated_leader_connection(&self.topic, self.partition).await {
                Ok(connection) => return Some(connection),
                Err(err) if err.is_retriable() || err.kind() == ErrorKind::Server => reason = err,
                Err(err) if err.kind() == ErrorKind::TopicNotFound => {
                    // The topic existed when the stream opened: it was deleted meanwhile (e.g.
                    // before the leader saw this session, which it then refused).
                    let err = Error::new(
                        ErrorKind::TopicDeleted,
                        format!("{}-{} was deleted while streaming: {err}", self.topic, self.partition),
                    );
                    let _ = tx.send(Err(err)).await;
                    return None;
                }
                Err(err) => {
                    let _ = tx.send(Err(err)).await;
                    return None;
                }
            }
        }
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
