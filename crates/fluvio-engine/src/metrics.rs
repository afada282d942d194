//! Counters of what a producer, a stream and a whole client did: atomics updated where the
//! work happens (a relaxed add each), and small latency histograms, read as a
//! [`MetricsSnapshot`].
//!
//! A producer or a stream records into its own [`Metrics`] and into its client's at once
//! ([`Recorder`]), so the client's are the totals of everything it ran, closed producers and
//! streams included.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use crate::error::ErrorKind;

/// Buckets below this many microseconds are exact.
const EXACT: u64 = 16;
/// Sub-buckets per power of two above [`EXACT`]: values are kept within 12.5%.
const SUB_BUCKETS: u64 = 8;
/// Powers of two covered above [`EXACT`] (up to 2^44 µs, about 200 days).
const POWERS: u64 = 40;
const BUCKETS: usize = (EXACT + POWERS * SUB_BUCKETS) as usize;

/// A histogram of durations in microseconds, lock-free; values are kept within 12.5%. Its
/// buckets (2.7 KiB) are allocated by the first value: a producer never fetches, a stream
/// never sends.
pub struct Histogram {
    buckets: OnceLock<Box<[AtomicU64]>>,
    sum: AtomicU64,
    max: AtomicU64,
}

impl Default for Histogram {
    fn default() -> Self {
        Self { buckets: OnceLock::new(), sum: AtomicU64::new(0), max: AtomicU64::new(0) }
    }
}

fn bucket_of(micros: u64) -> usize {
    if micros < EXACT {
        return micros as usize;
    }
    let power = 63 - u64::from(micros.leading_zeros()); // >= 4
    let sub = (micros >> (power - 3)) & (SUB_BUCKETS - 1);
    (EXACT + ((power - 4).min(POWERS - 1)) * SUB_BUCKETS + sub) as usize
}

/// The largest value of a bucket.
fn bucket_top(bucket: usize) -> u64 {
    let bucket = bucket as u64;
    if bucket < EXACT {
        return bucket;
    }
    let power = (bucket - EXACT) / SUB_BUCKETS + 4;
    let sub = (bucket - EXACT) % SUB_BUCKETS;
    ((SUB_BUCKETS + sub + 1) << (power - 3)) - 1
}

impl Histogram {
    /// Records one duration.
    pub fn record(&self, value: Duration) {
        let micros = u64::try_from(value.as_micros()).unwrap_or(u64::MAX);
        let buckets = self.buckets.get_or_init(|| (0..BUCKETS).map(|_| AtomicU64::new(0)).collect());
        buckets[bucket_of(micros)].fetch_add(1, Ordering::Relaxed);
        self.sum.fetch_add(micros, Ordering::Relaxed);
        self.max.fetch_max(micros, Ordering::Relaxed);
    }

    /// What it recorded so far.
    pub fn snapshot(&self) -> LatencySnapshot {
        let Some(buckets) = self.buckets.get() else { return LatencySnapshot::default() };
        let counts: Vec<u64> = buckets.iter().map(|b| b.load(Ordering::Relaxed)).collect();
        let total: u64 = counts.iter().sum();
        let max = self.max.load(Ordering::Relaxed);
        let percentile = |fraction: f64| -> Duration {
            if total == 0 {
                return Duration::ZERO;
            }
            let rank = ((total as f64) * fraction).ceil().max(1.0) as u64;
            let mut seen = 0;
            for (bucket, count) in counts.iter().enumerate() {
                seen += count;
                if seen >= rank {
                    return Duration::from_micros(bucket_top(bucket).min(max));
                }
            }
            Duration::from_micros(max)
        };
        let sum = self.sum.load(Ordering::Relaxed);
        LatencySnapshot {
            count: total,
            mean: Duration::from_micros(sum.checked_div(total).unwrap_or(0)),
            p50: percentile(0.50),
            p90: percentile(0.90),
            p99: percentile(0.99),
            p999: percentile(0.999),
            max: Duration::from_micros(max),
        }
    }
}

/// Percentiles of recorded durations (within 12.5%); all zero when none was recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LatencySnapshot {
    /// How many were recorded.
    pub count: u64,
    /// Their mean.
    pub mean: Duration,
    /// The median.
    pub p50: Duration,
    /// The 90th percentile.
    pub p90: Duration,
    /// The 99th percentile.
    pub p99: Duration,
    /// The 99.9th percentile.
    pub p999: Duration,
    /// The largest.
    pub max: Duration,
}

/// What the metrics count of a chunk of records received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ReceivedChunk {
    /// How many records.
    pub(crate) records: usize,
    /// The bytes of their keys and values.
    pub(crate) bytes: usize,
    /// The newest of their timestamps, when one has a timestamp.
    pub(crate) newest_timestamp: Option<i64>,
}

/// Counters of one producer, stream or client. Thread-safe; read with [`Metrics::snapshot`].
#[derive(Default)]
pub struct Metrics {
    records_sent: AtomicU64,
    bytes_sent: AtomicU64,
    batches_sent: AtomicU64,
    records_received: AtomicU64,
    bytes_received: AtomicU64,
    batches_received: AtomicU64,
    retries: AtomicU64,
    reconnects: AtomicU64,
    in_flight: AtomicI64,
    errors: [AtomicU64; ErrorKind::ALL.len()],
    send_latency: Histogram,
    fetch_latency: Histogram,
}

impl Metrics {
    /// A chunk of records received: their count, the bytes of their keys and values, one
    /// batch, and the fetch latency from the newest record's timestamp, when it has one.
    pub(crate) fn records_received(&self, chunk: &ReceivedChunk) {
        self.records_received.fetch_add(chunk.records as u64, Ordering::Relaxed);
        self.bytes_received.fetch_add(chunk.bytes as u64, Ordering::Relaxed);
        self.batches_received.fetch_add(1, Ordering::Relaxed);
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).ok();
        if let Some((sent, now)) = chunk.newest_timestamp.zip(now) {
            self.fetch_latency.record(Duration::from_millis(u64::try_from(now.as_millis() as i64 - sent).unwrap_or(0)));
        }
    }

    /// A failure of kind `kind` reported to the application.
    pub(crate) fn error(&self, kind: ErrorKind) {
        if let Some(index) = ErrorKind::ALL.iter().position(|k| *k == kind) {
            self.errors[index].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// What was counted so far.
    pub fn snapshot(&self) -> MetricsSnapshot {
        let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        MetricsSnapshot {
            records_sent: load(&self.records_sent),
            bytes_sent: load(&self.bytes_sent),
            batches_sent: load(&self.batches_sent),
            records_received: load(&self.records_received),
            bytes_received: load(&self.bytes_received),
            batches_received: load(&self.batches_received),
            retries: load(&self.retries),
            reconnects: load(&self.reconnects),
            in_flight_requests: self.in_flight.load(Ordering::Relaxed).max(0) as u64,
            errors: ErrorKind::ALL
                .iter()
                .zip(&self.errors)
                .map(|(kind, count)| (*kind, load(count)))
                .filter(|(_, count)| *count > 0)
                .collect(),
            send_latency: self.send_latency.snapshot(),
            fetch_latency: self.fetch_latency.snapshot(),
        }
    }
}

/// What a producer, a stream or a client did, at one moment.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MetricsSnapshot {
    /// Records acknowledged by the cluster.
    pub records_sent: u64,
    /// Bytes of the record batches acknowledged (as sent: compressed when compression is on).
    pub bytes_sent: u64,
    /// Record batches acknowledged.
    pub batches_sent: u64,
    /// Records received by streams, and (in a client's metrics) by its one-shot fetches
    /// ([`crate::PartitionConsumer::fetch`]).
    pub records_received: u64,
    /// Bytes of the keys and values of the records received.
    pub bytes_received: u64,
    /// Chunks of records received (one per batch the SPU pushed to a stream, one per
    /// non-empty fetch).
    pub batches_received: u64,
    /// Produce requests sent again after a retriable failure.
    pub retries: u64,
    /// Connections made again after one was lost: by a producer retrying after a lost or
    /// failed connection, by a stream resuming (on the same or a new leader).
    pub reconnects: u64,
    /// Produce requests sent and not answered yet.
    pub in_flight_requests: u64,
    /// Failures reported to the application (a batch that failed for good, a stream's
    /// terminal error, a failed fetch), by kind; kinds never seen are absent.
    pub errors: Vec<(ErrorKind, u64)>,
    /// Round trips of produce requests.
    pub send_latency: LatencySnapshot,
    /// From a received record's timestamp (set when it was sent) to its arrival at the
    /// stream, per chunk received: the end-to-end latency while consuming live records, the
    /// records' age when reading history.
    pub fetch_latency: LatencySnapshot,
}

impl MetricsSnapshot {
    /// Bytes per batch sent (0 before any).
    pub fn average_sent_batch_size(&self) -> u64 {
        self.bytes_sent.checked_div(self.batches_sent).unwrap_or(0)
    }

    /// Bytes per chunk received (0 before any).
    pub fn average_received_batch_size(&self) -> u64 {
        self.bytes_received.checked_div(self.batches_received).unwrap_or(0)
    }
}

/// Records into one producer's or stream's metrics and into its client's.
#[derive(Clone)]
pub(crate) struct Recorder {
    own: Arc<Metrics>,
    client: Arc<Metrics>,
}

impl Recorder {
    /// Records into `own` and `client`.
    pub(crate) fn new(own: Arc<Metrics>, client: Arc<Metrics>) -> Self {
        Self { own, client }
    }

    /// The producer's or stream's own metrics.
    pub(crate) fn own(&self) -> &Arc<Metrics> {
        &self.own
    }

    fn each(&self, update: impl Fn(&Metrics)) {
        update(&self.own);
        update(&self.client);
    }

    /// A batch of `records` records, `bytes` long, acknowledged.
    pub(crate) fn batch_sent(&self, records: u64, bytes: u64) {
        self.each(|m| {
            m.records_sent.fetch_add(records, Ordering::Relaxed);
            m.bytes_sent.fetch_add(bytes, Ordering::Relaxed);
            m.batches_sent.fetch_add(1, Ordering::Relaxed);
        });
    }

    /// A chunk of records received (see [`Metrics::records_received`]).
    pub(crate) fn batch_received(&self, chunk: &ReceivedChunk) {
        self.each(|m| m.records_received(chunk));
    }

    /// A produce request sent again.
    pub(crate) fn retry(&self) {
        self.each(|m| {
            m.retries.fetch_add(1, Ordering::Relaxed);
        });
    }

    /// A connection made again after one was lost.
    pub(crate) fn reconnect(&self) {
        self.each(|m| {
            m.reconnects.fetch_add(1, Ordering::Relaxed);
        });
    }

    /// A failure reported to the application.
    pub(crate) fn error(&self, kind: ErrorKind) {
        self.each(|m| m.error(kind));
    }

    /// A produce request sent: in flight until the guard is dropped, which records its round
    /// trip.
    pub(crate) fn request(&self) -> InFlight<'_> {
        self.each(|m| {
            m.in_flight.fetch_add(1, Ordering::Relaxed);
        });
        InFlight { recorder: self, started: std::time::Instant::now() }
    }
}

/// A produce request in flight (see [`Recorder::request`]).
pub(crate) struct InFlight<'a> {
    recorder: &'a Recorder,
    started: std::time::Instant,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        let elapsed = self.started.elapsed();
        self.recorder.each(|m| {
            m.in_flight.fetch_sub(1, Ordering::Relaxed);
            m.send_latency.record(elapsed);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_keep_values_within_an_eighth() {
        for micros in [0u64, 1, 15, 16, 17, 100, 1_000, 12_345, 1_000_000, 3_600_000_000] {
            let top = bucket_top(bucket_of(micros));
            assert!(top >= micros, "{micros}: top {top}");
            assert!(top - micros <= micros / 8 + 1, "{micros}: top {top}");
        }
        assert!(bucket_of(u64::MAX) < BUCKETS);
    }

    #[test]
    fn percentiles_of_recorded_latencies() {
        let histogram = Histogram::default();
        for millis in 1..=100u64 {
            histogram.record(Duration::from_millis(millis));
        }
        let snapshot = histogram.snapshot();
        assert_eq!(snapshot.count, 100);
        assert_eq!(snapshot.max, Duration::from_millis(100));
        let near = |actual: Duration, expected: u64| {
            let actual = actual.as_micros() as f64;
            let expected = (expected * 1000) as f64;
            (actual - expected).abs() <= expected / 8.0
        };
        assert!(near(snapshot.p50, 50), "{snapshot:?}");
        assert!(near(snapshot.p90, 90), "{snapshot:?}");
        assert!(near(snapshot.p99, 99), "{snapshot:?}");
        assert!(near(snapshot.mean, 50), "{snapshot:?}");
        assert_eq!(Histogram::default().snapshot(), LatencySnapshot::default());
    }

    #[test]
    fn a_recorder_counts_into_both_scopes() {
        let own = Arc::new(Metrics::default());
        let client = Arc::new(Metrics::default());
        let recorder = Recorder::new(own.clone(), client.clone());
        recorder.batch_sent(10, 1000);
        recorder.error(ErrorKind::Timeout);
        {
            let _request = recorder.request();
            assert_eq!(own.snapshot().in_flight_requests, 1);
        }
        let snapshot = own.snapshot();
        assert_eq!((snapshot.records_sent, snapshot.batches_sent, snapshot.average_sent_batch_size()), (10, 1, 1000));
        assert_eq!(snapshot.errors, vec![(ErrorKind::Timeout, 1)]);
        assert_eq!(snapshot.in_flight_requests, 0);
        assert_eq!(snapshot.send_latency.count, 1);
        assert_eq!(client.snapshot(), snapshot);
    }
}
