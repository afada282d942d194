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

mod budget;
mod commit;
mod compact;
mod config;
mod offset;
mod push;
mod record;
mod resume;
mod stream;

use std::sync::Arc;
use std::time::Duration;

use fluvio_wire::spu::{FetchOffsetPartition, FetchOffsetTopic, FetchOffsetsRequest};
use tracing::debug;

pub use budget::BufferedBytes;
pub use compact::RecordRef;
pub use config::{
    ConsumerConfig, DEFAULT_AUTO_COMMIT_INTERVAL, DEFAULT_MAX_BUFFERED_BYTES, DEFAULT_MAX_BYTES,
    DEFAULT_RESUME_TIMEOUT, MAX_CONSUMER_ID_BYTES, OffsetStrategy,
};
pub use fluvio_wire::spu::Isolation;
pub use offset::Offset;
pub use push::MAX_FETCH_BYTES;
pub use record::ConsumerRecord;
pub use stream::{Flush, NextBatch, PartitionStream, RecordStream, StreamOffsets, TopicStream};

use crate::error::{Error, ErrorKind, Result};
use crate::metrics::Metrics;
use crate::router::ClientInner;
use crate::socket::{Connection, SPU_VERSION};
use crate::stored_offsets;
use commit::{Committer, PartitionOffsets};
use push::{decode_push, fetch_cut_batch, stream_request};
use resume::StreamTask;

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

    /// A continuous stream from `offset`; for a named consumer
    /// ([`ConsumerConfig::consumer_id`]) with an offset stored in this partition, from there
    /// as [`Offset::resolve_after_stored`] says.
    pub async fn stream_with_config(&self, offset: Offset, config: ConsumerConfig) -> Result<PartitionStream> {
        self.stream_counting(offset, config, Arc::default()).await
    }

    /// A continuous stream from `offset`, counting into `metrics` (and the client's).
    async fn stream_counting(
        &self,
        offset: Offset,
        config: ConsumerConfig,
        metrics: Arc<Metrics>,
    ) -> Result<PartitionStream> {
        config.validate()?;
        let stored = match &config.consumer_id {
            Some(consumer_id) => stored_offsets::stored(&self.client, consumer_id, &self.topic, self.partition).await?,
            None => None,
        };
        let start = self.locate(offset, stored).await?;
        let offsets = config.consumer_id.as_deref().map(|consumer_id| {
            let committer = Committer::new(self.client.clone(), &self.topic, self.partition, consumer_id);
            Arc::new(PartitionOffsets::new(config.offset_strategy, committer))
        });
        let auto_commit_interval = config.auto_commit_interval;
        // Each session gets a connection of its own: the protocol cannot cancel a stream, and
        // closing its connection is what ends it on the server, on any server.
        let leader = self.client.partition_leader(&self.topic, self.partition).await?;
        let chosen = resume::leadership(&self.client, &self.topic, self.partition);
        let connection = self.client.dedicated_spu_connection(leader).await?;
        let task = StreamTask::new(self.client.clone(), &self.topic, self.partition, config, start, leader, chosen)
            .counting_into(metrics.clone());
        let (records, budget, handle) = task.spawn(connection);
        Ok(PartitionStream::new(records, &budget, handle, metrics, offsets, auto_commit_interval))
    }

    /// The records available from `offset`: those of the whole batches the server sends
    /// within `max_bytes`, or, when the first batch is larger, that batch fetched whole; none
    /// when nothing is visible there yet. For continuous reading use a stream.
    ///
    /// An offset past the partition's log end fails with [`ErrorKind::OffsetOutOfRange`], as
    /// a stream from it does (and as a Fluvio SPU answers); one below the log start with
    /// [`ErrorKind::OffsetEvicted`]. At the end, or between the high watermark and the log
    /// end under `ReadCommitted`, there is nothing yet: an empty list.
    ///
    /// A named consumer's fetch starts after its stored offset as its streams do; a fetch
    /// stores nothing.
    ///
    /// What a fetch receives, or its failure, counts in the client's metrics
    /// ([`crate::Fluvio::metrics`]).
    pub async fn fetch(&self, offset: Offset, config: ConsumerConfig) -> Result<Vec<ConsumerRecord>> {
        let result = self.fetch_uncounted(offset, config).await;
        match &result {
            Ok(records) if !records.is_empty() => {
                self.client.metrics.records_received(&record::received_chunk(records))
            }
            Ok(_) => {}
            Err(err) => self.client.metrics.error(err.kind()),
        }
        result
    }

    /// [`Self::fetch`], without counting it.
    async fn fetch_uncounted(&self, offset: Offset, config: ConsumerConfig) -> Result<Vec<ConsumerRecord>> {
        config.validate()?;
        let stored = match &config.consumer_id {
            Some(consumer_id) => stored_offsets::stored(&self.client, consumer_id, &self.topic, self.partition).await?,
            None => None,
        };
        let leader = self.client.partition_leader(&self.topic, self.partition).await?;
        // A dedicated connection: a stream session has no cancel message, and closing the
        // connection is how it ends on any server.
        let connection = self.client.dedicated_spu_connection(leader).await?;
        let result = self.fetch_on(&connection, offset, stored, config).await;
        connection.close();
        result
    }

    async fn fetch_on(
        &self,
        connection: &Connection,
        offset: Offset,
        stored: Option<i64>,
        config: ConsumerConfig,
    ) -> Result<Vec<ConsumerRecord>> {
        let (start, end) = fetch_offsets(connection, &self.topic, self.partition).await?;
        let from = match stored {
            Some(stored) => offset.resolve_after_stored(start, end, stored.saturating_add(1)),
            None => offset.resolve(start, end),
        };
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
            return Ok(decoded.records.collect());
        }
        let Some(cut) = decoded.cut else {
            return Err(Error::new(ErrorKind::Protocol, "the SPU pushed no record batch"));
        };
        let wait = self.client.config.request_timeout();
        let whole = fetch_cut_batch(connection, &self.topic, self.partition, from, config.isolation, cut, wait).await?;
        Ok(whole.records.collect())
    }

    /// The resolved start offset (after `stored`, a named consumer's stored offset, if any),
    /// retrying retriable failures (e.g. a leader change) within the request timeout.
    ///
    /// A stored offset at or beyond the high watermark is waited for, within the request
    /// timeout, before it is clamped to it: right after a leader change or a restart the high
    /// watermark can lag behind records already consumed (and committed), and starting at it
    /// would hand them out again. Only a partition that still holds fewer records after that
    /// (they were lost) makes the stream start at its end.
    async fn locate(&self, offset: Offset, stored: Option<i64>) -> Result<i64> {
        let deadline = tokio::time::Instant::now() + self.client.config.request_timeout();
        let mut delay = Duration::from_millis(20);
        // An absolute offset is taken as is: nothing to wait for.
        let next = stored.filter(|_| !matches!(offset, Offset::Absolute(_))).map(|stored| stored.saturating_add(1));
        loop {
            let attempt = async {
                let connection = self.client.leader_connection(&self.topic, self.partition).await?;
                fetch_offsets(&connection, &self.topic, self.partition).await
            };
            let retry = match attempt.await {
                Ok((start, end)) => match next {
                    None => return Ok(offset.resolve(start, end)),
                    Some(next) if next <= end || tokio::time::Instant::now() + delay >= deadline => {
                        return Ok(offset.resolve_after_stored(start, end, next));
                    }
                    Some(next) => {
                        debug!(topic = %self.topic, partition = self.partition, next, end, "the high watermark is behind the stored offset; waiting");
                        None
                    }
                },
                Err(err) if err.is_retriable() && tokio::time::Instant::now() + delay < deadline => Some(err),
                Err(err) => return Err(err),
            };
            if retry.is_some_and(|err| err.kind() == ErrorKind::NotLeader) {
                self.client.refresh_partitions(&self.topic).await;
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_millis(500));
        }
    }

    /// The first stored offset and the high watermark.
    ///
    /// The request is sent on the connection kept to the leader. When that connection turns
    /// out to be closed (the SPU restarted since it was last used), it is asked once more on
    /// a new one: reading offsets changes nothing, so asking twice is safe.
    pub async fn offsets(&self) -> Result<(i64, i64)> {
        let connection = self.client.leader_connection(&self.topic, self.partition).await?;
        match fetch_offsets(&connection, &self.topic, self.partition).await {
            Err(err) if err.kind() == ErrorKind::ConnectionClosed => {
                let connection = self.client.leader_connection(&self.topic, self.partition).await?;
                fetch_offsets(&connection, &self.topic, self.partition).await
            }
            result => result,
        }
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

    /// One stream over every partition, each starting at `offset` (or, for a named consumer,
    /// after its offset stored in that partition, as for a partition's stream); a named
    /// consumer's offsets are committed and stored per partition.
    pub async fn stream_with_config(&self, offset: Offset, config: ConsumerConfig) -> Result<TopicStream> {
        let topic = self.client.topic(&self.topic).await?;
        let count = topic.spec.replicas.partition_count();
        let mut streams = Vec::with_capacity(count as usize);
        let metrics = Arc::new(Metrics::default());
        for partition in 0..count {
            let consumer = PartitionConsumer::new(self.client.clone(), &self.topic, partition);
            streams.push(consumer.stream_counting(offset, config.clone(), metrics.clone()).await?);
        }
        Ok(TopicStream::new(streams, metrics))
    }
}
