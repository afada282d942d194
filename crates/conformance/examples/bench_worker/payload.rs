//! The records' payload, the same in every worker (`BenchWorker.java` too): bytes 0..8 hold
//! the record's sequence number, which must equal its offset in the topic (so a reader can
//! tell a lost, repeated or reordered record), bytes 8..16 the time the latency workloads meant
//! to send it (nanoseconds on the worker's own clock), big-endian; the rest is `x`.

use anyhow::{Result, ensure};

/// The smallest record the workloads use.
pub const MIN_SIZE: usize = 16;
/// Where the intended send time is.
pub const SENT_AT: usize = 8;

pub fn new_value(size: usize) -> Result<Vec<u8>> {
    ensure!(size >= MIN_SIZE, "records of {size} bytes: the payload needs at least {MIN_SIZE}");
    Ok(vec![b'x'; size])
}

pub fn put_u64(value: &mut [u8], at: usize, number: u64) {
    value[at..at + 8].copy_from_slice(&number.to_be_bytes());
}

/// The number at `at`; `u64::MAX` when the value is too short to hold one.
pub fn get_u64(value: &[u8], at: usize) -> u64 {
    value.get(at..at + 8).and_then(|bytes| bytes.try_into().ok()).map_or(u64::MAX, u64::from_be_bytes)
}
