//! Storing a named consumer's offsets: what a stream returned, committed and stored, per
//! partition ([`PartitionOffsets`]), and the request that stores it ([`Committer`]).
//!
//! As the official client: the offset stored is that of the last record returned to the
//! application (a stream resumes at the next one); `commit` marks what was returned so far,
//! `flush` stores the last commit and waits for the cluster's answer (which comes once the
//! offset is a committed record of `consumer-offset`). Fluvio stores an offset only through a
//! stream session opened with the consumer's name on the same connection
//! (UpdateConsumerOffset names the session), so the committer keeps a session of its own on
//! the partition's leader, opened at the offset being stored (a record that exists: the stream
//! returned it), so that the leader's first push names the session at once. It does not depend
//! on the stream's own session (which a leader change replaces, and which a leader announces
//! only with data), so storing works whenever the partition has a leader.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::Duration;

use fluvio_wire::consumer_offset::UpdateConsumerOffsetRequest;
use fluvio_wire::spu::Isolation;

use super::config::OffsetStrategy;
use super::push::{next_push, stream_request};
use crate::error::{Error, ErrorKind, Result};
use crate::router::ClientInner;
use crate::socket::{Connection, SPU_VERSION};
use crate::stored_offsets;

/// `max_bytes` of the committer's session: its pushes are never read.
const COMMIT_SESSION_MAX_BYTES: i32 = 1024;
/// No offset (nothing returned, committed or stored yet).
const NONE: i64 = -1;

/// The offsets of one partition of a named consumer's stream.
///
/// Thread-safe.
pub(crate) struct PartitionOffsets {
    strategy: OffsetStrategy,
    committer: Committer,
    /// The offset of the last record the stream returned.
    returned: AtomicI64,
    /// Set when a binding says itself what was returned ([`PartitionOffsets::returned_explicitly`]):
    /// it buffers the records the stream hands it, and returns them later.
    explicit: AtomicBool,
    /// The offset of the last record committed.
    committed: AtomicI64,
    /// The offset last stored; the lock serializes stores, so they never go backwards.
    stored: tokio::sync::Mutex<i64>,
}

impl PartitionOffsets {
    pub(super) fn new(strategy: OffsetStrategy, committer: Committer) -> Self {
        Self {
            strategy,
            committer,
            returned: AtomicI64::new(NONE),
            explicit: AtomicBool::new(false),
            committed: AtomicI64::new(NONE),
            stored: tokio::sync::Mutex::new(NONE),
        }
    }

    /// The strategy.
    pub(crate) fn strategy(&self) -> OffsetStrategy {
        self.strategy
    }

    /// The partition.
    pub(crate) fn partition(&self) -> u32 {
        self.committer.partition
    }

    /// The stream handed out the record at `offset`: returned, unless a binding says itself.
    pub(super) fn handed_out(&self, offset: i64) {
        if !self.explicit.load(Ordering::Relaxed) {
            self.mark_returned(offset);
        }
    }

    /// From now on, only [`PartitionOffsets::returned_explicitly`] says what was returned.
    pub(crate) fn count_returns_explicitly(&self) {
        self.explicit.store(true, Ordering::Relaxed);
    }

    /// The application got every record up to `offset` (a binding's own count).
    pub(crate) fn returned_explicitly(&self, offset: i64) {
        self.mark_returned(offset);
    }

    /// The record at `offset` was returned (Auto commits it).
    fn mark_returned(&self, offset: i64) {
        self.returned.fetch_max(offset, Ordering::Relaxed);
        if self.strategy == OffsetStrategy::Auto {
            self.committed.fetch_max(offset, Ordering::Relaxed);
        }
    }

    /// Marks every record returned so far as committed.
    pub(crate) fn commit(&self) -> Result<()> {
        self.enabled()?;
        self.committed.fetch_max(self.returned.load(Ordering::Relaxed), Ordering::Relaxed);
        Ok(())
    }

    /// Stores the last commit, unless it already is; returns once the cluster stored it.
    pub(crate) async fn flush(&self) -> Result<()> {
        self.enabled()?;
        let mut stored = self.stored.lock().await;
        let committed = self.committed.load(Ordering::Relaxed);
        if committed <= *stored {
            return Ok(());
        }
        self.committer.store(committed).await?;
        *stored = committed;
        Ok(())
    }

    fn enabled(&self) -> Result<()> {
        if self.strategy == OffsetStrategy::None {
            return Err(Error::new(
                ErrorKind::OffsetManagementDisabled,
                format!("the stream of consumer {:?} has the None offset strategy", self.committer.consumer_id),
            ));
        }
        Ok(())
    }
}

/// Stores offsets of one partition for one consumer name.
pub(crate) struct Committer {
    client: Arc<ClientInner>,
    topic: String,
    partition: u32,
    consumer_id: String,
    session: tokio::sync::Mutex<Option<CommitSession>>,
}

/// A stream session opened with the consumer's name, used only to store offsets.
struct CommitSession {
    connection: Arc<Connection>,
    stream_id: u32,
}

impl Drop for CommitSession {
    fn drop(&mut self) {
        // Closing the connection ends the session on the server.
        self.connection.close();
    }
}

impl Committer {
    pub(super) fn new(client: Arc<ClientInner>, topic: &str, partition: u32, consumer_id: &str) -> Self {
        Self {
            client,
            topic: topic.to_string(),
            partition,
            consumer_id: consumer_id.to_string(),
            session: tokio::sync::Mutex::new(None),
        }
    }

    /// Stores `offset` (the last record consumed), retrying while the partition or
    /// `consumer-offset` changes leader, within the request timeout.
    async fn store(&self, offset: i64) -> Result<()> {
        let deadline = tokio::time::Instant::now() + self.client.config.request_timeout();
        let mut delay = Duration::from_millis(20);
        let mut session = self.session.lock().await;
        loop {
            let attempt = async {
                if session.as_ref().is_none_or(|s| s.connection.is_closed()) {
                    *session = Some(self.open(offset).await?);
                }
                let Some(open) = session.as_ref() else { return Err(Error::closed("the commit session")) };
                let request = UpdateConsumerOffsetRequest { offset, session_id: open.stream_id };
                let response = open.connection.request(&request, SPU_VERSION).await?;
                if response.error_code.is_error() {
                    return Err(Error::from_server(response.error_code, format!("{}-{}", self.topic, self.partition)));
                }
                Ok(())
            };
            match attempt.await {
                Ok(()) => return Ok(()),
                Err(err) if stored_offsets::retriable(&err) && tokio::time::Instant::now() + delay < deadline => {
                    *session = None;
                    if err.kind() == ErrorKind::NotLeader {
                        self.client.refresh_partitions(&self.topic).await;
                    }
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_millis(500));
                }
                Err(err) => {
                    *session = None;
                    return Err(err);
                }
            }
        }
    }

    /// Opens a session with the consumer's name on the partition's leader, at `offset`, and
    /// waits for its first push, which names it.
    async fn open(&self, offset: i64) -> Result<CommitSession> {
        let leader = self.client.partition_leader(&self.topic, self.partition).await?;
        let connection = self.client.dedicated_spu_connection(leader).await?;
        let mut request =
            stream_request(&self.topic, self.partition, offset, COMMIT_SESSION_MAX_BYTES, Isolation::ReadUncommitted);
        request.consumer_id = Some(self.consumer_id.clone());
        let mut session = CommitSession { connection, stream_id: 0 };
        let mut pushes = session.connection.open_stream(&request, SPU_VERSION)?;
        let wait = self.client.config.request_timeout();
        let push =
            next_push(&mut pushes, wait, || format!("no answer from the leader of {}-{}", self.topic, self.partition))
                .await?;
        // A refusal (not the leader) comes with no session; any other answer names one, even
        // an error about the data (the session still stores offsets).
        if push.stream_id == 0 {
            let code = push.partition.error_code;
            return Err(if code.is_error() {
                Error::from_server(code, format!("{}-{}", self.topic, self.partition))
            } else {
                Error::new(ErrorKind::Protocol, "the SPU opened a stream without an id")
            });
        }
        session.stream_id = push.stream_id;
        Ok(session)
    }
}
