//! The background task of a partition stream: it streams from the partition's leader, hands
//! the records over, and when the leader or the connection goes away, resumes on the next
//! leader from the offset after the last record it handed over (see the module docs of
//! `consumer` for the rules it follows).

use std::sync::Arc;
use std::time::Duration;

use fluvio_wire::sc::PartitionSpec;
use fluvio_wire::sc::partition::{PartitionResolution, partition_name};
use fluvio_wire::spu::{OffsetUpdate, UpdateOffsetsRequest};
use tokio::sync::mpsc;
use tracing::info;

use super::budget::{Budget, Held};
use super::config::ConsumerConfig;
use super::push::{Decoded, fetch_cut_batch, parse_push, stream_request};
use super::stream::Chunk;
use crate::error::{Error, ErrorKind, Result};
use crate::metrics::Recorder;
use crate::router::ClientInner;
use crate::socket::{Connection, SPU_VERSION};

/// Decoded pushes buffered between the stream task and the application (the budget in bytes
/// is what bounds them; this only bounds their count).
const CHUNKS_BUFFERED: usize = 4;

/// Where a stream task sends what it received.
type ChunkSender = mpsc::Sender<Result<Chunk>>;
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

pub(super) struct StreamTask {
    client: Arc<ClientInner>,
    /// The stream's metrics, and the client's.
    metrics: Recorder,
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
    /// What the stream holds for its reader, capped.
    budget: Budget,
    /// Bytes of record list per byte fetched, as the last push had it: the room a fetch needs
    /// is its size and the list of its records.
    list_ratio: f64,
}

/// What the metadata says about who leads a partition. Offsets and sizes are left out: they
/// change with every write, while this only changes when leadership or availability does.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Leadership {
    spec: PartitionSpec,
    resolution: PartitionResolution,
    status_leader: i32,
}

/// The partition's leadership as the client's metadata has it now.
pub(super) fn leadership(client: &ClientInner, topic: &str, partition: u32) -> Option<Leadership> {
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

impl Outage {
    /// An outage starting now, given up after `resume_timeout`.
    fn starting_now(resume_timeout: Duration) -> Self {
        let now = tokio::time::Instant::now();
        Outage { deadline: now + resume_timeout, next_attempt: now, delay: RESUME_DELAY_MIN }
    }
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
    /// A task that streams `topic`-`partition` from `start`, on `leader`, chosen when the
    /// metadata said `chosen` about the partition's leadership.
    pub(super) fn new(
        client: Arc<ClientInner>,
        topic: &str,
        partition: u32,
        config: ConsumerConfig,
        start: i64,
        leader: i32,
        chosen: Option<Leadership>,
    ) -> Self {
        let budget = Budget::new(config.max_buffered_bytes);
        Self {
            metrics: Recorder::new(Arc::default(), client.metrics.clone()),
            client,
            topic: topic.to_string(),
            partition,
            config,
            next_offset: start,
            leader,
            chosen,
            refused: None,
            outage: None,
            budget,
            list_ratio: 1.0,
        }
    }

    /// Counts into `metrics` (and the client's).
    pub(super) fn counting_into(mut self, metrics: Arc<crate::metrics::Metrics>) -> Self {
        self.metrics = Recorder::new(metrics, self.client.metrics.clone());
        self
    }

    /// Runs the task on `connection` (to the leader): the records arrive on the receiver.
    pub(super) fn spawn(
        self,
        connection: Arc<Connection>,
    ) -> (mpsc::Receiver<Result<Chunk>>, Budget, tokio::task::JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(CHUNKS_BUFFERED);
        let budget = self.budget.clone();
        (rx, budget, tokio::spawn(self.run(connection, tx)))
    }

    /// Room for a fetch of `bytes` in the budget (with the list of its records), once the
    /// reader took enough; `None` when the application dropped the stream meanwhile.
    async fn reserve(&self, bytes: usize, tx: &ChunkSender) -> Option<Held> {
        tokio::select! {
            held = self.budget.reserve(self.room_for(bytes)) => Some(held),
            _ = tx.closed() => None,
        }
    }

    /// Room for a fetch of `bytes` (with the list of its records) if it is there now.
    fn try_reserve(&self, bytes: usize) -> Option<Held> {
        self.budget.try_reserve(self.room_for(bytes))
    }

    /// What a fetch of `bytes` takes once decoded: its bytes, and the list of its records
    /// at the ratio the stream's last push had.
    fn room_for(&self, bytes: usize) -> usize {
        bytes.saturating_add((bytes as f64 * self.list_ratio) as usize)
    }

    async fn run(mut self, mut connection: Arc<Connection>, tx: ChunkSender) {
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
            info!(topic = %self.topic, partition = self.partition, spu = self.leader, %reason, offset = self.next_offset, "resuming stream");
            if self.outage.is_none() || opened.elapsed() >= SESSION_SETTLED {
                self.outage = Some(Outage::starting_now(self.config.resume_timeout));
            }
            drop(connection);
            match self.reconnect(&tx, reason).await {
                Some(new_connection) => {
                    self.metrics.reconnect();
                    connection = new_connection;
                }
                None => return,
            }
        }
    }

    async fn session(&mut self, connection: &Connection, tx: &ChunkSender) -> SessionEnd {
        let fetch_bytes = self.config.fetch_bytes();
        // Room for each push is reserved before it is asked for (here, then before each
        // acknowledgement): a reader that falls behind holds the stream back.
        let Some(reserved) = self.reserve(fetch_bytes as usize, tx).await else { return SessionEnd::Stop };
        let request = stream_request(&self.topic, self.partition, self.next_offset, fetch_bytes, self.config.isolation);
        let mut pushes = match connection.open_stream(&request, SPU_VERSION) {
            Ok(pushes) => pushes,
            Err(err) => return SessionEnd::Resume(err),
        };
        let mut reserved = reserved;
        loop {
            let push = tokio::select! {
                push = pushes.next() => push,
                _ = tx.closed() => return SessionEnd::Stop,
                _ = self.client.shutdown.cancelled() => {
                    self.fail(tx, Error::closed("the client")).await;
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
                self.fail(tx, err).await;
                return SessionEnd::Failed;
            }
            // The leader serves this stream: whatever failed before is over.
            self.outage = None;
            self.refused = None;
            let batches = match parse_push(&push, self.next_offset) {
                Ok(batches) if batches.next_offset.is_none() && batches.cut().is_none() => {
                    Err(Error::new(ErrorKind::Protocol, "the SPU pushed no record batch"))
                }
                batches => batches,
            };
            let batches = match batches {
                Ok(batches) => batches,
                Err(err) => {
                    self.fail(tx, err).await;
                    return SessionEnd::Failed;
                }
            };
            let cut = batches.cut_to_fetch(fetch_bytes);
            // Acknowledged before its records are decoded and handed over when there is room
            // for the next push already: the server then reads and sends it meanwhile, rather
            // than wait for this push's decoding and for the reader's wake-up.
            let mut acknowledged = None;
            if cut.is_none()
                && let Some(next) = batches.next_offset
                && let Some(room) = self.try_reserve(fetch_bytes as usize)
            {
                if let Err(err) = acknowledge(connection, self.next_offset.max(next), push.stream_id) {
                    return SessionEnd::Resume(err);
                }
                acknowledged = Some(room);
            }
            let decoded = match batches.decode(self.partition) {
                Ok(decoded) => decoded,
                Err(err) => {
                    self.fail(tx, err).await;
                    return SessionEnd::Failed;
                }
            };
            if let Some(end) = self.hand_over(decoded, reserved, tx).await {
                return end;
            }
            if let Some(cut) = cut {
                // The next push would not bring this batch whole: fetch it now.
                // Its size is known: room for it alone (its list is added once decoded).
                let size = cut.total_len.unwrap_or(fluvio_wire::record::BATCH_FILE_HEADER_LEN);
                let room = tokio::select! {
                    room = self.budget.reserve(size) => room,
                    _ = tx.closed() => return SessionEnd::Stop,
                };
                let whole = match self.fetch_cut_batch(cut).await {
                    Ok(whole) => whole,
                    Err(err) if err.is_retriable() => return SessionEnd::Resume(err),
                    Err(err) => {
                        self.fail(tx, err).await;
                        return SessionEnd::Failed;
                    }
                };
                if let Some(end) = self.hand_over(whole, room, tx).await {
                    return end;
                }
            }
            reserved = match acknowledged {
                Some(room) => room,
                None => {
                    // Only now, with the records handed over and room for more, ask for more.
                    let Some(room) = self.reserve(fetch_bytes as usize, tx).await else {
                        return SessionEnd::Stop;
                    };
                    if let Err(err) = acknowledge(connection, self.next_offset, push.stream_id) {
                        return SessionEnd::Resume(err);
                    }
                    room
                }
            };
        }
    }

    /// Hands the records of whole batches to the application and moves past them; `Some`
    /// when the application is gone.
    /// `held` is the room their buffer takes, given back once the reader took them all.
    async fn hand_over(&mut self, decoded: Decoded, mut held: Held, tx: &ChunkSender) -> Option<SessionEnd> {
        // The records are slices of the push's buffer: that buffer is what is held.
        held.resize(decoded.buffer_len);
        if decoded.buffer_len > decoded.list_len {
            self.list_ratio = decoded.list_len as f64 / (decoded.buffer_len - decoded.list_len) as f64;
        }
        if let Some(next) = decoded.next_offset {
            self.next_offset = self.next_offset.max(next);
        }
        if decoded.records.is_empty() {
            return None;
        }
        self.metrics.batch_received(&decoded.records.received());
        if tx.send(Ok(Chunk { records: decoded.records, held })).await.is_err() {
            return Some(SessionEnd::Stop);
        }
        None
    }

    /// Reports a terminal error to the application.
    async fn fail(&self, tx: &ChunkSender, err: Error) {
        self.metrics.error(err.kind());
        let _ = tx.send(Err(err)).await;
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
    async fn reconnect(&mut self, tx: &ChunkSender, mut reason: Error) -> Option<Arc<Connection>> {
        let mut changes = self.client.metadata.partitions.subscribe();
        changes.borrow_and_update();
        // The leader the last connection attempt failed on.
        let mut failed_on: Option<i32> = None;
        let mut first = true;
        loop {
            // `run` starts (or continues) the outage before reconnecting.
            let outage = self.outage.get_or_insert_with(|| Outage::starting_now(self.config.resume_timeout));
            let (deadline, next_attempt) = (outage.deadline, outage.next_attempt);
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
                self.fail(tx, Error::closed("the client")).await;
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
                self.fail(tx, err).await;
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
    async fn fail_resume(&self, tx: &ChunkSender, err: Error) {
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
        self.fail(tx, err).await;
    }
}
/// Acknowledges a session's push: the server sends the next one from `next_offset` (at once
/// when it is below what it served, when new records come otherwise).
fn acknowledge(connection: &Connection, next_offset: i64, stream_id: u32) -> Result<()> {
    let ack = UpdateOffsetsRequest { offsets: vec![OffsetUpdate { offset: next_offset, session_id: stream_id }] };
    connection.send_and_forget(&ack, 0)
}
