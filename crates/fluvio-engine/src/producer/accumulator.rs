//! The per-partition batch accumulator.
//!
//! Records are encoded straight into the open batch's records area. A record that would make
//! the open batch exceed `batch_size` seals it and starts a new one; sealing needs room in the
//! queue of sealed batches, which is where producers wait (backpressure). The partition's
//! sender takes sealed batches, or the open batch once its linger expired or a flush asks for
//! it, always in order, so records of one partition are delivered in the order they were sent.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use bytes::{BufMut, Bytes, BytesMut};
use fluvio_wire::record::{BATCH_FILE_HEADER_LEN, RecordRef};
use parking_lot::Mutex;
use tokio::sync::{Notify, watch};

use super::output::{BatchOutcome, ProduceOutput};
use crate::error::{Error, ErrorKind, Result};

/// Bytes a batch takes beyond its records: header plus the record count.
pub(crate) const BATCH_OVERHEAD: usize = BATCH_FILE_HEADER_LEN + 4;
/// Bytes each batch adds to a produce request besides itself: its partition entry (partition
/// index and record set length).
pub(crate) const ENTRY_OVERHEAD: usize = 8;

/// Limits the accumulator enforces.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub batch_size: usize,
    /// Bytes the partition entries of one request may take (the request's own fields are
    /// already subtracted).
    pub max_request_size: usize,
    pub batch_queue_size: usize,
}

/// A batch ready to send.
pub(crate) struct SealedBatch {
    pub seq: u64,
    /// `u32 count ++ records`, uncompressed.
    pub area: Bytes,
    pub count: u32,
    pub first_timestamp: i64,
    pub last_timestamp_delta: i64,
    pub outcome: Arc<BatchOutcome>,
}

impl SealedBatch {
    /// What the batch adds to a request (uncompressed).
    fn size(&self) -> usize {
        ENTRY_OVERHEAD + BATCH_FILE_HEADER_LEN + self.area.len()
    }
}

struct OpenBatch {
    seq: u64,
    area: BytesMut,
    count: u32,
    created: Instant,
    first_timestamp: i64,
    last_timestamp_delta: i64,
    outcome: Arc<BatchOutcome>,
}

impl OpenBatch {
    fn seal(mut self) -> SealedBatch {
        // The count was reserved as the first 4 bytes of the area.
        self.area[..4].copy_from_slice(&self.count.to_be_bytes());
        SealedBatch {
            seq: self.seq,
            area: self.area.freeze(),
            count: self.count,
            first_timestamp: self.first_timestamp,
            last_timestamp_delta: self.last_timestamp_delta,
            outcome: self.outcome,
        }
    }

    fn size(&self) -> usize {
        BATCH_FILE_HEADER_LEN + self.area.len()
    }
}

struct State {
    open: Option<OpenBatch>,
    sealed: VecDeque<SealedBatch>,
    next_seq: u64,
    /// Batches with a lower sequence number are sent without waiting for their linger.
    flush_before: u64,
    closed: bool,
    /// A delivery failure not yet reported by a flush.
    unreported_failure: Option<Error>,
}

impl State {
    /// Seals the open batch (there must be one) and queues it, in the order records were sent.
    fn seal_open(&mut self) {
        let open = self.open.take().expect("an open batch");
        self.sealed.push_back(open.seal());
    }
}

/// Most batches one request takes, hence most batches of a partition that are ever
/// unacknowledged at once (one request per partition is in flight): a leader that
/// deduplicates recognizes a retry of any of them with its original offsets (it remembers the
/// last [`DEDUP_WINDOW`](fluvio_wire::record::DEDUP_WINDOW) batches of each producer in each
/// partition).
pub(crate) const MAX_BATCHES_PER_REQUEST: usize = fluvio_wire::record::DEDUP_WINDOW;

/// What the sender should do next.
pub(crate) enum Take {
    /// Send these batches (one request, in order).
    Ready(Vec<SealedBatch>),
    /// Nothing is due before this instant.
    WaitUntil(Instant),
    /// Nothing to send.
    Idle,
    /// Closed and drained: the sender can stop.
    Finished,
}

/// One partition's queue.
pub(crate) struct PartitionQueue {
    pub(crate) partition: u32,
    limits: Limits,
    state: Mutex<State>,
    /// Wakes the sender.
    pub(crate) wake: Notify,
    /// Wakes producers waiting for queue space.
    pub(crate) space: Notify,
    /// All batches with a sequence number below this value are resolved.
    completed: watch::Sender<u64>,
    /// Whether this partition's sender task was started (once, by the first record).
    pub(crate) sender_started: AtomicBool,
    /// Set by the sender before it looks for work, cleared once it has some: with linger 0 a
    /// record wakes the sender only while this is set, so that a busy sender is not notified
    /// once per record (a write to a cache line the sender's thread also writes).
    sender_looking: AtomicBool,
}

impl PartitionQueue {
    pub(crate) fn new(partition: u32, limits: Limits) -> Self {
        Self {
            partition,
            limits,
            state: Mutex::new(State {
                open: None,
                sealed: VecDeque::new(),
                next_seq: 0,
                flush_before: 0,
                closed: false,
                unreported_failure: None,
            }),
            wake: Notify::new(),
            space: Notify::new(),
            completed: watch::Sender::new(0),
            sender_started: AtomicBool::new(false),
            sender_looking: AtomicBool::new(false),
        }
    }

    /// Adds a record. `Ok(None)` means the queue is full: the caller waits on [`Self::space`]
    /// and tries again.
    pub(crate) fn push(
        &self,
        key: Option<&[u8]>,
        value: &[u8],
        now_ms: i64,
        linger_is_zero: bool,
    ) -> Result<Option<ProduceOutput>> {
        let mut state = self.state.lock();
        if state.closed {
            return Err(Error::closed("the producer"));
        }
        let mut wake = false;
        // Size of the record if it goes into the open batch (or a new one).
        let (offset_delta, timestamp_delta) = match &state.open {
            Some(open) => (i64::from(open.count), (now_ms - open.first_timestamp).max(0)),
            None => (0, 0),
        };
        // Refused before anything else, whatever the open batch and the queue hold.
        let alone = RecordRef::new(key, value, 0, 0).encoded_len();
        if ENTRY_OVERHEAD + BATCH_OVERHEAD + alone > self.limits.max_request_size {
            return Err(Error::new(
                ErrorKind::RecordTooLarge,
                format!(
                    "a record of {alone} bytes does not fit the maximum request size of {} bytes",
                    self.limits.max_request_size
                ),
            ));
        }
        let record_len = RecordRef::new(key, value, offset_delta, timestamp_delta).encoded_len();
        // A batch never outgrows a request, even when batch_size is the larger limit.
        let batch_limit = self.limits.batch_size.min(self.limits.max_request_size.saturating_sub(ENTRY_OVERHEAD));
        let fits = state.open.as_ref().is_some_and(|open| open.size() + record_len <= batch_limit);
        if !fits {
            if state.open.is_some() {
                if state.sealed.len() >= self.limits.batch_queue_size {
                    return Ok(None);
                }
                state.seal_open();
            }
            let seq = state.next_seq;
            state.next_seq += 1;
            let mut area = BytesMut::with_capacity(self.limits.batch_size.min(1 << 20).max(4 + alone));
            area.put_u32(0); // record count, patched when sealed
            state.open = Some(OpenBatch {
                seq,
                area,
                count: 0,
                created: Instant::now(),
                first_timestamp: now_ms,
                last_timestamp_delta: 0,
                outcome: BatchOutcome::new(self.partition),
            });
            // The sender must learn of a new batch to start its linger timer.
            wake = true;
        }
        let open = state.open.as_mut().expect("ensured above");
        let offset_delta = i64::from(open.count);
        let timestamp_delta = (now_ms - open.first_timestamp).max(0);
        RecordRef::new(key, value, offset_delta, timestamp_delta).encode_to(&mut open.area)?;
        open.count += 1;
        open.last_timestamp_delta = timestamp_delta;
        let output = ProduceOutput::new(open.outcome.clone(), open.count - 1);
        drop(state);
        // No wake-up is lost: a sender that found nothing had set `sender_looking` before it
        // took the lock this record was added under, so this load, after that lock, sees it.
        if wake || (linger_is_zero && self.sender_looking.load(Ordering::Relaxed)) {
            self.wake.notify_one();
        }
        Ok(Some(output))
    }

    /// Takes what is due: sealed batches first (up to the request size and
    /// [`MAX_BATCHES_PER_REQUEST`], at least one), else
    /// the open batch once its linger expired, a flush asked for it, or the queue is closing.
    pub(crate) fn take(&self, linger: Duration, now: Instant) -> Take {
        // Before the lock: a record added after this look finds the flag set (see `push`).
        self.sender_looking.store(true, Ordering::Relaxed);
        let taken = self.take_locked(linger, now);
        if let Take::Ready(_) | Take::Finished = taken {
            // Busy (or done) until it looks again: records need not wake it.
            self.sender_looking.store(false, Ordering::Relaxed);
        }
        taken
    }

    fn take_locked(&self, linger: Duration, now: Instant) -> Take {
        let mut state = self.state.lock();
        if state.sealed.is_empty() {
            let due = match &state.open {
                None => None,
                Some(open) => {
                    let deadline = open.created + linger;
                    if state.closed || open.seq < state.flush_before || deadline <= now {
                        Some(())
                    } else {
                        return Take::WaitUntil(deadline);
                    }
                }
            };
            match due {
                Some(()) => state.seal_open(),
                None if state.closed => return Take::Finished,
                None => return Take::Idle,
            }
        }
        let mut batches = Vec::new();
        let mut size = 0;
        while let Some(next) = state.sealed.front() {
            let full = batches.len() == MAX_BATCHES_PER_REQUEST || size + next.size() > self.limits.max_request_size;
            if !batches.is_empty() && full {
                break;
            }
            size += next.size();
            batches.push(state.sealed.pop_front().expect("checked"));
        }
        drop(state);
        self.space.notify_waiters();
        Take::Ready(batches)
    }

    /// Records that every batch up to `seq` (inclusive) is resolved.
    pub(crate) fn mark_completed(&self, seq: u64, failure: Option<Error>) {
        if let Some(failure) = failure {
            let mut state = self.state.lock();
            state.unreported_failure.get_or_insert(failure);
        }
        self.completed.send_modify(|done| *done = (*done).max(seq + 1));
    }

    /// Asks for every batch existing now to be sent without waiting for its linger. Returns
    /// the sequence number the caller must wait for ([`Self::wait_completed`]).
    pub(crate) fn request_flush(&self) -> u64 {
        let target = {
            let mut state = self.state.lock();
            state.flush_before = state.next_seq;
            state.next_seq
        };
        self.wake.notify_one();
        target
    }

    /// Waits until every batch below `target` is resolved; returns the first delivery failure
    /// not reported before.
    pub(crate) async fn wait_completed(&self, target: u64) -> Result<()> {
        let mut completed = self.completed.subscribe();
        let _ = completed.wait_for(|done| *done >= target).await;
        match self.state.lock().unreported_failure.take() {
            Some(failure) => Err(failure),
            None => Ok(()),
        }
    }

    /// Refuses further records; the sender drains what is queued, then finishes.
    pub(crate) fn close(&self) {
        self.state.lock().closed = true;
        self.wake.notify_one();
        self.space.notify_waiters();
    }

    /// Fails everything still queued (the client is gone).
    pub(crate) fn abandon(&self, error: &Error) {
        let mut state = self.state.lock();
        state.closed = true;
        let mut last_seq = None;
        if let Some(open) = state.open.take() {
            last_seq = Some(open.seq);
            open.outcome.complete(Err(error.clone()));
        }
        for batch in state.sealed.drain(..) {
            last_seq = Some(last_seq.unwrap_or(0).max(batch.seq));
            batch.outcome.complete(Err(error.clone()));
        }
        drop(state);
        if let Some(seq) = last_seq {
            self.mark_completed(seq, Some(error.clone()));
        }
        self.space.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fluvio_wire::Compression;
    use fluvio_wire::record::RawBatch;

    fn queue(batch_size: usize, queue_size: usize) -> PartitionQueue {
        PartitionQueue::new(3, Limits { batch_size, max_request_size: 4096, batch_queue_size: queue_size })
    }

    fn ready(take: Take) -> Vec<SealedBatch> {
        match take {
            Take::Ready(batches) => batches,
            _ => panic!("expected batches"),
        }
    }

    fn decode(batch: &SealedBatch) -> Vec<(Option<Vec<u8>>, Vec<u8>, i64)> {
        let raw = RawBatch::from_records_area(
            batch.area.clone(),
            batch.count as usize,
            batch.last_timestamp_delta,
            Compression::None,
            batch.first_timestamp,
        )
        .unwrap();
        raw.records(1 << 20)
            .unwrap()
            .into_iter()
            .map(|r| (r.key.map(|k| k.to_vec()), r.value.to_vec(), r.timestamp_delta))
            .collect()
    }

    #[test]
    fn records_fill_batches_up_to_the_batch_size() {
        let record_len = RecordRef::new(Some(&[0]), &[0; 5], 0, 0).encoded_len();
        assert_eq!(record_len, 14);
        let q = queue(BATCH_OVERHEAD + 3 * record_len, 10);
        for i in 0..7u8 {
            q.push(Some(&[i]), &[i; 5], 1000 + i64::from(i), false).unwrap().unwrap();
        }
        // Three records per batch; the 7th waits in an open batch.
        let batches = ready(q.take(Duration::from_secs(60), Instant::now()));
        assert_eq!(batches.iter().map(|b| b.count).collect::<Vec<_>>(), [3, 3]);
        assert_eq!(batches[0].first_timestamp, 1000);
        let records = decode(&batches[1]);
        assert_eq!(records[0], (Some(vec![3]), vec![3; 5], 0));
        assert_eq!(records[2], (Some(vec![5]), vec![5; 5], 2));
        // The open batch waits for its linger, unless flushed.
        assert!(matches!(q.take(Duration::from_secs(60), Instant::now()), Take::WaitUntil(_)));
        let target = q.request_flush();
        let last = ready(q.take(Duration::from_secs(60), Instant::now()));
        assert_eq!(last.len(), 1);
        assert_eq!(last[0].count, 1);
        assert_eq!(target, 3);
        assert!(matches!(q.take(Duration::from_secs(60), Instant::now()), Take::Idle));
    }

    /// Whether a wake-up is pending for the sender (consumes it).
    fn woken(q: &PartitionQueue) -> bool {
        use futures_util::FutureExt;
        q.wake.notified().now_or_never().is_some()
    }

    #[test]
    fn with_linger_0_a_busy_sender_is_woken_per_batch_and_a_looking_one_by_any_record() {
        let q = queue(1024, 10);
        q.push(None, b"first", 0, true).unwrap().unwrap();
        assert!(woken(&q), "a new batch wakes the sender");
        assert_eq!(ready(q.take(Duration::ZERO, Instant::now())).len(), 1);
        // Busy with that batch: the next record opens a batch (one wake-up), the ones after it
        // join that batch without waking anyone.
        q.push(None, b"second", 0, true).unwrap().unwrap();
        assert!(woken(&q));
        for _ in 0..5 {
            q.push(None, b"more", 0, true).unwrap().unwrap();
            assert!(!woken(&q), "a busy sender is not woken per record");
        }
        assert_eq!(ready(q.take(Duration::ZERO, Instant::now()))[0].count, 6);
        // Looking and finding nothing: the next record wakes it.
        assert!(matches!(q.take(Duration::ZERO, Instant::now()), Take::Idle));
        q.push(None, b"late", 0, true).unwrap().unwrap();
        assert!(woken(&q));
        // A sender still looking (between its take and its wait) is woken by a record that
        // joins an open batch too.
        q.sender_looking.store(true, Ordering::Relaxed);
        q.push(None, b"joins", 0, true).unwrap().unwrap();
        assert!(woken(&q));
    }

    #[test]
    fn a_full_queue_refuses_until_the_sender_takes() {
        let q = queue(BATCH_OVERHEAD + 10, 2);
        for _ in 0..3 {
            assert!(q.push(None, b"abcdefgh", 0, false).unwrap().is_some());
        }
        // Two sealed + one open: sealing the open one needs room.
        assert!(q.push(None, b"abcdefgh", 0, false).unwrap().is_none());
        // Each record exceeds the batch size, so each sealed batch holds one.
        let taken = ready(q.take(Duration::ZERO, Instant::now()));
        assert_eq!(taken.iter().map(|b| b.count).collect::<Vec<_>>(), [1, 1]);
        assert!(q.push(None, b"abcdefgh", 0, false).unwrap().is_some());
    }

    #[test]
    fn oversized_records_are_refused() {
        let q = queue(100, 2);
        let err = q.push(None, &[0; 5000], 0, false).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::RecordTooLarge);
        // A record bigger than the batch size but within the request size goes alone.
        q.push(None, &[1; 200], 0, false).unwrap().unwrap();
        q.push(None, &[2; 10], 0, false).unwrap().unwrap();
        let batches = ready(q.take(Duration::ZERO, Instant::now()));
        assert_eq!(batches[0].count, 1);
    }

    #[test]
    fn a_record_too_large_for_a_request_is_refused_even_with_room_in_the_batch() {
        // batch_size above max_request_size: the request size bounds the batches.
        let q = PartitionQueue::new(0, Limits { batch_size: 16384, max_request_size: 1024, batch_queue_size: 1 });
        q.push(None, b"small", 0, false).unwrap().unwrap();
        assert_eq!(q.push(None, &[0; 2000], 0, false).unwrap_err().kind(), ErrorKind::RecordTooLarge);
        q.push(None, &[1; 600], 0, false).unwrap().unwrap();
        q.push(None, &[2; 600], 0, false).unwrap().unwrap();
        // Refused at once even when the queue is full.
        assert_eq!(q.push(None, &[0; 2000], 0, false).unwrap_err().kind(), ErrorKind::RecordTooLarge);
        let batches = ready(q.take(Duration::ZERO, Instant::now()));
        assert_eq!(batches.iter().map(|b| b.count).collect::<Vec<_>>(), [2]);
        assert!(batches.iter().all(|b| b.size() <= 1024));
    }

    #[test]
    fn closing_drains_then_finishes() {
        let q = queue(1000, 2);
        q.push(None, b"x", 0, false).unwrap().unwrap();
        q.close();
        assert!(q.push(None, b"y", 0, false).is_err());
        assert_eq!(ready(q.take(Duration::from_secs(60), Instant::now())).len(), 1);
        assert!(matches!(q.take(Duration::from_secs(60), Instant::now()), Take::Finished));
    }

    #[test]
    fn a_request_takes_at_most_max_batches_per_request() {
        let q = PartitionQueue::new(0, Limits { batch_size: 1, max_request_size: 1 << 20, batch_queue_size: 1000 });
        for _ in 0..MAX_BATCHES_PER_REQUEST + 10 {
            q.push(None, b"x", 0, false).unwrap().unwrap();
        }
        q.request_flush();
        assert_eq!(ready(q.take(Duration::ZERO, Instant::now())).len(), MAX_BATCHES_PER_REQUEST);
        let mut rest = 0;
        while let Take::Ready(batches) = q.take(Duration::ZERO, Instant::now()) {
            rest += batches.len();
        }
        assert_eq!(rest, 10);
    }

    #[tokio::test]
    async fn flush_reports_an_unreported_failure_once() {
        let q = queue(1000, 2);
        let output = q.push(None, b"x", 0, false).unwrap().unwrap();
        let target = q.request_flush();
        let batches = ready(q.take(Duration::from_secs(60), Instant::now()));
        let failure = Error::new(ErrorKind::Timeout, "down");
        batches[0].outcome.complete(Err(failure.clone()));
        q.mark_completed(batches[0].seq, Some(failure));
        assert_eq!(q.wait_completed(target).await.unwrap_err().kind(), ErrorKind::Timeout);
        assert!(q.wait_completed(target).await.is_ok());
        assert_eq!(output.try_result().unwrap().unwrap_err().kind(), ErrorKind::Timeout);
    }
}
