//! Idempotent producers: which batches each producer already appended to a replica, so that a
//! batch retried after a lost answer (typically across a leader change) is not stored twice.
//!
//! A producer that wants this writes its producer id (>= 0), epoch and the sequence number of
//! the batch's first record into the batch header (the official client writes -1 and is not
//! deduplicated). The state is rebuilt from the batch headers of the log, so followers, which
//! copy the leader's batches verbatim, hold the same state and can dedupe after an election.

use std::collections::{HashMap, VecDeque};

use fluvio_wire::record::BatchHeader;

/// Batches remembered per producer: a retry re-sends at most the batches of one request.
pub(crate) const BATCHES_PER_PRODUCER: usize = 16;
/// Producers remembered per replica; the least recently active is forgotten first.
pub(crate) const MAX_PRODUCERS: usize = 4096;

/// Identity of a batch for deduplication.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BatchIdentity {
    pub producer_id: i64,
    pub first_sequence: i32,
    pub record_count: i64,
}

impl BatchIdentity {
    /// The identity of a batch, if its producer asked for deduplication.
    pub(crate) fn of(header: &BatchHeader) -> Option<Self> {
        (header.producer_id >= 0 && header.first_sequence >= 0).then(|| Self {
            producer_id: header.producer_id,
            first_sequence: header.first_sequence,
            record_count: header.record_count(),
        })
    }
}

#[derive(Debug, Clone, Copy)]
struct Seen {
    first_sequence: i32,
    record_count: i64,
    base_offset: i64,
}

#[derive(Debug, Default)]
struct Producer {
    batches: VecDeque<Seen>,
    /// Recency stamp for eviction.
    last_used: u64,
}

/// Per-replica producer state.
#[derive(Debug, Default)]
pub(crate) struct ProducerState {
    producers: HashMap<i64, Producer>,
    clock: u64,
}

impl ProducerState {
    /// The base offset at which this batch was already appended, if it was.
    pub(crate) fn find(&self, batch: &BatchIdentity) -> Option<i64> {
        let producer = self.producers.get(&batch.producer_id)?;
        producer
            .batches
            .iter()
            .find(|seen| seen.first_sequence == batch.first_sequence && seen.record_count == batch.record_count)
            .map(|seen| seen.base_offset)
    }

    /// Records that `batch` was appended at `base_offset`.
    pub(crate) fn record(&mut self, batch: BatchIdentity, base_offset: i64) {
        self.clock += 1;
        if !self.producers.contains_key(&batch.producer_id) && self.producers.len() >= MAX_PRODUCERS {
            let oldest = self.producers.iter().min_by_key(|(_, p)| p.last_used).map(|(id, _)| *id);
            if let Some(oldest) = oldest {
                self.producers.remove(&oldest);
            }
        }
        let producer = self.producers.entry(batch.producer_id).or_default();
        producer.last_used = self.clock;
        if producer.batches.len() == BATCHES_PER_PRODUCER {
            producer.batches.pop_front();
        }
        producer.batches.push_back(Seen {
            first_sequence: batch.first_sequence,
            record_count: batch.record_count,
            base_offset,
        });
    }

    /// Forgets batches at or after `offset` (the log was truncated there).
    pub(crate) fn truncate_to(&mut self, offset: i64) {
        for producer in self.producers.values_mut() {
            producer.batches.retain(|seen| seen.base_offset < offset);
        }
        self.producers.retain(|_, p| !p.batches.is_empty());
    }

    /// Records every deduplicable batch of `bytes` (whole batches back to back, with their
    /// real base offsets, as read from the log or appended).
    pub(crate) fn record_all(&mut self, bytes: &[u8]) {
        let mut at = 0;
        while at < bytes.len() {
            let Ok(header) = BatchHeader::parse(&bytes[at..]) else { return };
            let len = header.total_len();
            if len == 0 || at + len > bytes.len() {
                return;
            }
            if let Some(identity) = BatchIdentity::of(&header) {
                self.record(identity, header.base_offset);
            }
            at += len;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(producer_id: i64, first_sequence: i32, record_count: i64) -> BatchIdentity {
        BatchIdentity { producer_id, first_sequence, record_count }
    }

    #[test]
    fn remembered_batches_are_found_and_others_are_not() {
        let mut state = ProducerState::default();
        state.record(id(7, 0, 3), 10);
        state.record(id(7, 3, 2), 13);
        state.record(id(8, 0, 1), 15);
        assert_eq!(state.find(&id(7, 0, 3)), Some(10));
        assert_eq!(state.find(&id(7, 3, 2)), Some(13));
        assert_eq!(state.find(&id(8, 0, 1)), Some(15));
        assert_eq!(state.find(&id(7, 0, 2)), None, "same sequence, other count: a different batch");
        assert_eq!(state.find(&id(7, 5, 1)), None);
        assert_eq!(state.find(&id(9, 0, 3)), None);
    }

    #[test]
    fn memory_is_bounded_per_producer_and_in_producers() {
        let mut state = ProducerState::default();
        for i in 0..(BATCHES_PER_PRODUCER as i32 + 4) {
            state.record(id(1, i, 1), i64::from(i));
        }
        assert_eq!(state.find(&id(1, 0, 1)), None, "the oldest batches are forgotten");
        assert_eq!(state.find(&id(1, 19, 1)), Some(19));
        for producer in 0..(MAX_PRODUCERS as i64 + 10) {
            state.record(id(100 + producer, 0, 1), producer);
        }
        assert!(state.producers.len() <= MAX_PRODUCERS);
        assert_eq!(state.find(&id(1, 19, 1)), None, "the least recently used producer is forgotten");
    }

    #[test]
    fn truncation_forgets_removed_batches() {
        let mut state = ProducerState::default();
        state.record(id(7, 0, 3), 10);
        state.record(id(7, 3, 2), 13);
        state.truncate_to(13);
        assert_eq!(state.find(&id(7, 0, 3)), Some(10));
        assert_eq!(state.find(&id(7, 3, 2)), None);
        state.truncate_to(0);
        assert!(state.producers.is_empty());
    }
}
