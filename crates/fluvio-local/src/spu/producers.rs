//! Idempotent producers, with Kafka's sequence rules: per replica, each producer's epoch, the
//! sequence number of the last record stored for it, and its last [`DEDUP_WINDOW`] batches
//! with the offsets they were stored at.
//!
//! A producer that wants this writes its producer id (>= 0), epoch and the sequence number of
//! the batch's first record into the batch header (the official client writes -1 and is not
//! checked). Sequence numbers count the producer's records in the partition from 0 in each
//! epoch, and wrap from `i32::MAX` back to 0. A batch of a known producer is:
//! * its next batch (same epoch, first sequence right after the last stored one; or a newer
//!   epoch starting at 0): stored;
//! * one of its last [`DEDUP_WINDOW`] batches (a retry): not stored again, answered with the
//!   offsets it was stored at;
//! * otherwise entirely at or below its last stored sequence (a retry of an older batch): not
//!   stored again; its offsets are no longer known;
//! * anything else (a gap, a batch overlapping the last stored sequence, an older epoch):
//!   refused as out of order, nothing stored. The producer then starts a new epoch.
//!
//! A producer this replica does not know (new, or forgotten) may start at any sequence.
//!
//! The state is a function of the batch headers in the log: the leader records each batch it
//! appends, followers record the batches they copy (verbatim), and opening a replica rebuilds
//! it from the headers of the log's tail. So a retry that reaches a new leader after a
//! failover, or a leader after its restart, is recognized too.

use std::collections::{HashMap, VecDeque};

use fluvio_wire::record::BatchHeader;

/// Batches remembered per producer, with their offsets: a retry of one of them is answered
/// with its original offsets. The engine (`fluvio-engine`) never has more unacknowledged
/// batches of one partition than this (both take it from the codec).
pub(crate) const DEDUP_WINDOW: usize = fluvio_wire::record::DEDUP_WINDOW;
/// Producers remembered per replica; the least recently active is forgotten first.
pub(crate) const MAX_PRODUCERS: usize = 4096;

/// Sequence numbers go from 0 to `i32::MAX`, then wrap to 0.
const SEQUENCE_SPACE: i64 = i32::MAX as i64 + 1;

/// Identity of an idempotent producer's batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BatchIdentity {
    pub producer_id: i64,
    pub epoch: i16,
    pub first_sequence: i32,
    pub record_count: i64,
}

impl BatchIdentity {
    /// The identity of a batch, if its producer asked for idempotence.
    pub(crate) fn of(header: &BatchHeader) -> Option<Self> {
        (header.producer_id >= 0 && header.first_sequence >= 0 && header.last_offset_delta >= 0).then(|| Self {
            producer_id: header.producer_id,
            epoch: header.producer_epoch,
            first_sequence: header.first_sequence,
            record_count: header.record_count(),
        })
    }

    /// The sequence number of the batch's last record.
    fn last_sequence(&self) -> i32 {
        last_sequence(self.first_sequence, self.record_count)
    }
}

fn wrap(sequence: i64) -> i32 {
    sequence.rem_euclid(SEQUENCE_SPACE) as i32
}

/// The sequence number of the last record of a batch.
fn last_sequence(first_sequence: i32, record_count: i64) -> i32 {
    wrap(i64::from(first_sequence) + record_count - 1)
}

/// The sequence after `sequence` (-1, "nothing yet", is followed by 0).
fn next_sequence(sequence: i32) -> i32 {
    wrap(i64::from(sequence) + 1)
}

/// Whether `sequence` is `last` or comes before it, in a space that wraps: less than half the
/// space behind.
fn at_or_below(sequence: i32, last: i32) -> bool {
    last >= 0 && (i64::from(last) - i64::from(sequence)).rem_euclid(SEQUENCE_SPACE) < SEQUENCE_SPACE / 2
}

/// What to do with a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Store it.
    Append,
    /// It was stored before: at `base_offset` when that is still known; its records are
    /// committed once the high watermark reaches `commit_offset`.
    Duplicate { base_offset: Option<i64>, commit_offset: i64 },
}

#[derive(Debug, Clone, Copy)]
struct StoredBatch {
    epoch: i16,
    first_sequence: i32,
    record_count: i64,
    base_offset: i64,
}

impl StoredBatch {
    fn is(&self, batch: &BatchIdentity) -> bool {
        self.epoch == batch.epoch
            && self.first_sequence == batch.first_sequence
            && self.record_count == batch.record_count
    }
}

#[derive(Debug)]
struct Producer {
    /// The epoch of its last stored batch.
    epoch: i16,
    /// The sequence number of its last stored record.
    last_sequence: i32,
    /// The offset after its last stored batch.
    end_offset: i64,
    /// Its last stored batches, oldest first; never empty.
    recent: VecDeque<StoredBatch>,
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
    /// What to do with each batch of one produce entry (`None`: a batch without producer id,
    /// always stored), in order, as if the batches marked [`Verdict::Append`] were stored one
    /// after the other. `Err` with the reason when one of them is out of order: then none
    /// may be stored.
    pub(crate) fn check_entry(&self, batches: &[Option<BatchIdentity>]) -> Result<Vec<Verdict>, String> {
        // Producers whose batches earlier in this entry are to be stored: (epoch, last sequence).
        let mut storing: HashMap<i64, (i16, i32)> = HashMap::new();
        let mut verdicts = Vec::with_capacity(batches.len());
        for batch in batches {
            let Some(batch) = batch else {
                verdicts.push(Verdict::Append);
                continue;
            };
            let verdict = match storing.get(&batch.producer_id) {
                Some(&(epoch, last)) if batch.epoch == epoch && batch.first_sequence == next_sequence(last) => {
                    Verdict::Append
                }
                Some(&(epoch, last)) => {
                    return Err(format!(
                        "producer {} epoch {}: sequence {} does not follow {last} in epoch {epoch}",
                        batch.producer_id, batch.epoch, batch.first_sequence
                    ));
                }
                None => self.check(batch)?,
            };
            if verdict == Verdict::Append {
                storing.insert(batch.producer_id, (batch.epoch, batch.last_sequence()));
            }
            verdicts.push(verdict);
        }
        Ok(verdicts)
    }

    fn check(&self, batch: &BatchIdentity) -> Result<Verdict, String> {
        let Some(producer) = self.producers.get(&batch.producer_id) else { return Ok(Verdict::Append) };
        if let Some(stored) = producer.recent.iter().rev().find(|stored| stored.is(batch)) {
            return Ok(Verdict::Duplicate {
                base_offset: Some(stored.base_offset),
                commit_offset: stored.base_offset + stored.record_count,
            });
        }
        let id = batch.producer_id;
        match batch.epoch.cmp(&producer.epoch) {
            std::cmp::Ordering::Greater if batch.first_sequence == 0 => Ok(Verdict::Append),
            std::cmp::Ordering::Greater => Err(format!(
                "producer {id}: its new epoch {} must start at sequence 0, not {}",
                batch.epoch, batch.first_sequence
            )),
            std::cmp::Ordering::Less => {
                Err(format!("producer {id}: epoch {} is older than its current epoch {}", batch.epoch, producer.epoch))
            }
            std::cmp::Ordering::Equal => {
                let expected = next_sequence(producer.last_sequence);
                if batch.first_sequence == expected {
                    Ok(Verdict::Append)
                } else if at_or_below(batch.first_sequence, producer.last_sequence)
                    && at_or_below(batch.last_sequence(), producer.last_sequence)
                {
                    Ok(Verdict::Duplicate { base_offset: None, commit_offset: producer.end_offset })
                } else {
                    Err(format!(
                        "producer {id} epoch {}: expected sequence {expected}, got {}",
                        batch.epoch, batch.first_sequence
                    ))
                }
            }
        }
    }

    /// Records that `batch` was stored at `base_offset` (appended by the leader, copied by a
    /// follower, or found in the log).
    pub(crate) fn record(&mut self, batch: BatchIdentity, base_offset: i64) {
        self.clock += 1;
        if !self.producers.contains_key(&batch.producer_id) && self.producers.len() >= MAX_PRODUCERS {
            let oldest = self.producers.iter().min_by_key(|(_, p)| p.last_used).map(|(id, _)| *id);
            if let Some(oldest) = oldest {
                self.producers.remove(&oldest);
            }
        }
        let stored = StoredBatch {
            epoch: batch.epoch,
            first_sequence: batch.first_sequence,
            record_count: batch.record_count,
            base_offset,
        };
        let producer = self.producers.entry(batch.producer_id).or_insert_with(|| Producer {
            epoch: batch.epoch,
            last_sequence: -1,
            end_offset: base_offset,
            recent: VecDeque::with_capacity(4),
            last_used: 0,
        });
        producer.epoch = batch.epoch;
        producer.last_sequence = batch.last_sequence();
        producer.end_offset = base_offset + batch.record_count;
        producer.last_used = self.clock;
        if producer.recent.len() == DEDUP_WINDOW {
            producer.recent.pop_front();
        }
        producer.recent.push_back(stored);
    }

    /// Records the batch whose header this is, if it is an idempotent producer's.
    pub(crate) fn record_header(&mut self, header: &BatchHeader) {
        if let Some(identity) = BatchIdentity::of(header) {
            self.record(identity, header.base_offset);
        }
    }

    /// Forgets the batches at or after `offset` (the log was truncated there): a producer
    /// goes back to its last batch below `offset`, and is forgotten when none of its
    /// remembered batches is left.
    pub(crate) fn truncate_to(&mut self, offset: i64) {
        self.producers.retain(|_, producer| {
            let before = producer.recent.len();
            producer.recent.retain(|stored| stored.base_offset < offset);
            if producer.recent.len() == before {
                return true;
            }
            let Some(last) = producer.recent.back().copied() else { return false };
            producer.epoch = last.epoch;
            producer.last_sequence = last_sequence(last.first_sequence, last.record_count);
            producer.end_offset = last.base_offset + last.record_count;
            true
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(producer_id: i64, epoch: i16, first_sequence: i32, record_count: i64) -> BatchIdentity {
        BatchIdentity { producer_id, epoch, first_sequence, record_count }
    }

    fn one(state: &ProducerState, batch: BatchIdentity) -> Result<Verdict, String> {
        state.check_entry(&[Some(batch)]).map(|v| v[0])
    }

    const APPEND: Result<Verdict, String> = Ok(Verdict::Append);

    fn known(base_offset: i64, count: i64) -> Result<Verdict, String> {
        Ok(Verdict::Duplicate { base_offset: Some(base_offset), commit_offset: base_offset + count })
    }

    #[test]
    fn next_batches_are_stored_and_retries_get_their_offsets() {
        let mut state = ProducerState::default();
        assert_eq!(one(&state, id(7, 0, 0, 3)), APPEND, "a new producer");
        state.record(id(7, 0, 0, 3), 10);
        assert_eq!(one(&state, id(7, 0, 3, 2)), APPEND);
        state.record(id(7, 0, 3, 2), 13);
        assert_eq!(one(&state, id(7, 0, 0, 3)), known(10, 3));
        assert_eq!(one(&state, id(7, 0, 3, 2)), known(13, 2));
        assert_eq!(one(&state, id(7, 0, 5, 1)), APPEND);
        assert_eq!(one(&state, id(8, 0, 40, 1)), APPEND, "an unknown producer starts anywhere");
    }

    #[test]
    fn anything_at_or_below_the_last_sequence_is_a_duplicate_even_when_forgotten() {
        let mut state = ProducerState::default();
        let total = DEDUP_WINDOW as i32 + 10;
        for i in 0..total {
            state.record(id(1, 0, i * 2, 2), i64::from(i) * 2);
        }
        let end = i64::from(total) * 2;
        // Remembered: the original offsets.
        assert_eq!(one(&state, id(1, 0, (total - 1) * 2, 2)), known(end - 2, 2));
        // Older than the window: not stored again, offsets unknown.
        let unknown = Ok(Verdict::Duplicate { base_offset: None, commit_offset: end });
        assert_eq!(one(&state, id(1, 0, 0, 2)), unknown);
        assert_eq!(one(&state, id(1, 0, 1, 3)), unknown, "batches cut differently are still below");
    }

    #[test]
    fn gaps_overlaps_and_old_epochs_are_out_of_order() {
        let mut state = ProducerState::default();
        state.record(id(7, 2, 0, 3), 0);
        state.record(id(7, 2, 3, 3), 3);
        for refused in [id(7, 2, 7, 1), id(7, 2, 4, 3), id(7, 2, 5, 2), id(7, 1, 6, 1), id(7, 3, 6, 1)] {
            assert!(one(&state, refused).is_err(), "{refused:?}");
        }
        assert_eq!(one(&state, id(7, 3, 0, 5)), APPEND, "a new epoch starts at 0");
        assert_eq!(one(&state, id(7, 2, 6, 1)), APPEND);
        // A retry of an old epoch's remembered batch is still recognized.
        state.record(id(7, 3, 0, 5), 6);
        assert_eq!(one(&state, id(7, 2, 3, 3)), known(3, 3));
        assert!(one(&state, id(7, 2, 6, 1)).is_err(), "the old epoch is over");
    }

    #[test]
    fn sequences_wrap_after_i32_max() {
        let mut state = ProducerState::default();
        state.record(id(5, 0, i32::MAX - 1, 2), 100);
        assert_eq!(one(&state, id(5, 0, 0, 4)), APPEND);
        state.record(id(5, 0, 0, 4), 102);
        state.record(id(5, 0, 4, 1), 106);
        let unknown = Ok(Verdict::Duplicate { base_offset: None, commit_offset: 107 });
        let mut forgetful = ProducerState::default();
        forgetful.record(id(5, 0, 4, 1), 106);
        assert_eq!(one(&forgetful, id(5, 0, i32::MAX - 1, 2)), unknown, "below, across the wrap");
        assert_eq!(one(&state, id(5, 0, i32::MAX - 1, 2)), known(100, 2));
        assert!(one(&state, id(5, 0, 6, 1)).is_err());
        // A batch spanning the wrap.
        let mut state = ProducerState::default();
        state.record(id(6, 0, i32::MAX - 2, 1), 0);
        assert_eq!(one(&state, id(6, 0, i32::MAX - 1, 5)), APPEND);
        state.record(id(6, 0, i32::MAX - 1, 5), 1);
        assert_eq!(one(&state, id(6, 0, 3, 1)), APPEND);
    }

    #[test]
    fn an_entry_of_several_batches_is_checked_as_a_whole() {
        let mut state = ProducerState::default();
        state.record(id(1, 0, 0, 2), 0);
        let verdicts = state
            .check_entry(&[
                Some(id(1, 0, 0, 2)),
                Some(id(1, 0, 2, 1)),
                None,
                Some(id(1, 0, 3, 4)),
                Some(id(2, 0, 9, 1)),
            ])
            .unwrap();
        assert_eq!(
            verdicts,
            [known(0, 2).unwrap(), Verdict::Append, Verdict::Append, Verdict::Append, Verdict::Append]
        );
        assert!(state.check_entry(&[Some(id(1, 0, 2, 1)), Some(id(1, 0, 4, 1))]).is_err(), "a gap inside");
        assert!(state.check_entry(&[Some(id(1, 0, 2, 1)), Some(id(1, 0, 0, 2))]).is_err(), "a retry after new");
    }

    #[test]
    fn memory_is_bounded_per_producer_and_in_producers() {
        let mut state = ProducerState::default();
        for i in 0..(DEDUP_WINDOW as i32 + 4) {
            state.record(id(1, 0, i, 1), i64::from(i));
        }
        assert_eq!(state.producers[&1].recent.len(), DEDUP_WINDOW);
        for producer in 0..(MAX_PRODUCERS as i64 + 10) {
            state.record(id(100 + producer, 0, 0, 1), producer);
        }
        assert!(state.producers.len() <= MAX_PRODUCERS);
        assert!(!state.producers.contains_key(&1), "the least recently used producer is forgotten");
        assert_eq!(one(&state, id(1, 0, 0, 1)), APPEND);
    }

    #[test]
    fn truncation_goes_back_to_the_last_batch_kept() {
        let mut state = ProducerState::default();
        state.record(id(7, 0, 0, 3), 10);
        state.record(id(7, 0, 3, 2), 13);
        state.record(id(7, 1, 0, 2), 15);
        state.record(id(8, 0, 0, 1), 17);
        state.truncate_to(15);
        assert_eq!(one(&state, id(7, 0, 3, 2)), known(13, 2));
        assert_eq!(one(&state, id(7, 0, 5, 1)), APPEND, "epoch 1 is gone with its batch");
        assert_eq!(one(&state, id(7, 1, 0, 2)), APPEND);
        assert_eq!(one(&state, id(8, 0, 5, 1)), APPEND, "producer 8 is forgotten");
        state.truncate_to(0);
        assert!(state.producers.is_empty());
    }
}
