//! Producer settings.

use std::sync::Arc;
use std::time::Duration;

pub use fluvio_wire::Compression;
pub use fluvio_wire::spu::Isolation;

use super::partitioner::Partitioner;
use crate::config::MIN_TIMEOUT;
use crate::error::{Error, Result};

/// Default batch size in bytes.
pub const DEFAULT_BATCH_SIZE: usize = 16 * 1024;
/// Default time a batch waits for more records.
pub const DEFAULT_LINGER: Duration = Duration::from_millis(100);
/// Default largest produce request.
pub const DEFAULT_MAX_REQUEST_SIZE: usize = 1024 * 1024;
/// Largest `max_request_size` accepted: 64 MiB, the largest request frame a Fluvio-compatible
/// server reads (fluvio-local's limit; a larger frame closes the connection, so a request
/// above it could never be delivered).
pub const MAX_REQUEST_SIZE_LIMIT: usize = fluvio_wire::frame::DEFAULT_MAX_FRAME_SIZE;
/// Default number of sealed batches queued per partition before `send` waits.
pub const DEFAULT_BATCH_QUEUE_SIZE: usize = 100;
/// Default time `send` waits for queue space before failing.
pub const DEFAULT_MAX_BLOCK: Duration = Duration::from_secs(60);
/// Default time the server may wait for commitment, and the basis of the client's wait.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// How delivery failures are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts after the first one.
    pub max_retries: u32,
    /// Wait before the first retry; doubles each time.
    pub initial_delay: Duration,
    /// Longest wait between retries.
    pub max_delay: Duration,
    /// Give up after this long, whatever the count.
    pub timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 100,
            initial_delay: Duration::from_millis(50),
            max_delay: Duration::from_secs(1),
            timeout: Duration::from_secs(120),
        }
    }
}

impl RetryPolicy {
    /// [`RetryPolicy::timeout`]: at least [`MIN_TIMEOUT`].
    pub fn check_timeout(timeout: Duration) -> Result<()> {
        if timeout < MIN_TIMEOUT {
            return Err(Error::config(format!("the retry timeout must be at least {MIN_TIMEOUT:?}, not {timeout:?}")));
        }
        Ok(())
    }

    /// The wait before retry number `attempt` (1-based).
    pub fn delay(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1).min(20));
        self.initial_delay.saturating_mul(factor).min(self.max_delay)
    }
}

/// Delivery guarantee.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliverySemantic {
    /// No retry: a record is delivered at most once (a failed request is not repeated).
    AtMostOnce,
    /// Retry retriable failures (connection loss, timeouts, leader changes): a record is
    /// delivered at least once. A retry after a lost response stores it twice unless the
    /// producer is idempotent and the leader deduplicates
    /// ([`ProducerConfigBuilder::idempotent`]).
    AtLeastOnce(RetryPolicy),
}

impl Default for DeliverySemantic {
    fn default() -> Self {
        DeliverySemantic::AtLeastOnce(RetryPolicy::default())
    }
}

/// Producer settings. Build with [`ProducerConfig::builder`].
#[derive(Clone)]
pub struct ProducerConfig {
    pub(crate) batch_size: usize,
    pub(crate) linger: Duration,
    pub(crate) compression: Option<Compression>,
    pub(crate) partitioner: Option<Arc<dyn Partitioner>>,
    pub(crate) max_request_size: usize,
    pub(crate) batch_queue_size: usize,
    pub(crate) max_block: Duration,
    pub(crate) delivery: DeliverySemantic,
    pub(crate) timeout: Duration,
    pub(crate) isolation: Isolation,
    pub(crate) idempotent: bool,
}

impl std::fmt::Debug for ProducerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProducerConfig")
            .field("batch_size", &self.batch_size)
            .field("linger", &self.linger)
            .field("compression", &self.compression)
            .field("custom_partitioner", &self.partitioner.is_some())
            .field("max_request_size", &self.max_request_size)
            .field("batch_queue_size", &self.batch_queue_size)
            .field("max_block", &self.max_block)
            .field("delivery", &self.delivery)
            .field("timeout", &self.timeout)
            .field("isolation", &self.isolation)
            .field("idempotent", &self.idempotent)
            .finish()
    }
}

impl Default for ProducerConfig {
    fn default() -> Self {
        Self {
            batch_size: DEFAULT_BATCH_SIZE,
            linger: DEFAULT_LINGER,
            compression: None,
            partitioner: None,
            max_request_size: DEFAULT_MAX_REQUEST_SIZE,
            batch_queue_size: DEFAULT_BATCH_QUEUE_SIZE,
            max_block: DEFAULT_MAX_BLOCK,
            delivery: DeliverySemantic::default(),
            timeout: DEFAULT_TIMEOUT,
            isolation: Isolation::ReadUncommitted,
            idempotent: true,
        }
    }
}

impl ProducerConfig {
    /// A builder starting from the defaults.
    pub fn builder() -> ProducerConfigBuilder {
        ProducerConfigBuilder { config: ProducerConfig::default() }
    }

    /// Batch size in bytes.
    pub fn batch_size(&self) -> usize {
        self.batch_size
    }

    /// Linger.
    pub fn linger(&self) -> Duration {
        self.linger
    }

    /// Explicit compression, if set.
    pub fn compression(&self) -> Option<Compression> {
        self.compression
    }

    /// Delivery guarantee.
    pub fn delivery(&self) -> DeliverySemantic {
        self.delivery
    }

    /// Whether batches carry a producer id and sequence numbers (see
    /// [`ProducerConfigBuilder::idempotent`]).
    pub fn is_idempotent(&self) -> bool {
        self.idempotent
    }
}

/// Builds a [`ProducerConfig`].
pub struct ProducerConfigBuilder {
    config: ProducerConfig,
}

impl ProducerConfigBuilder {
    /// Largest batch in bytes (estimated uncompressed size; default 16384).
    pub fn batch_size(mut self, bytes: usize) -> Self {
        self.config.batch_size = bytes;
        self
    }

    /// How long a batch waits for more records before it is sent (default 100 ms; 0 sends
    /// as soon as possible).
    pub fn linger(mut self, linger: Duration) -> Self {
        self.config.linger = linger;
        self
    }

    /// Batch compression (default: none, or the topic's codec when the topic fixes one).
    pub fn compression(mut self, compression: Compression) -> Self {
        self.config.compression = Some(compression);
        self
    }

    /// Chooses partitions (default: SipHash of the key, round robin without key).
    pub fn partitioner(mut self, partitioner: Arc<dyn Partitioner>) -> Self {
        self.config.partitioner = Some(partitioner);
        self
    }

    /// Largest produce request in bytes, the whole request frame included (default 1 MiB, at
    /// most [`MAX_REQUEST_SIZE_LIMIT`]); a record that cannot fit one request on its own is
    /// refused at once with [`ErrorKind::RecordTooLarge`](crate::ErrorKind::RecordTooLarge).
    /// A request also carries at most 64 batches (what a deduplicating leader remembers).
    pub fn max_request_size(mut self, bytes: usize) -> Self {
        self.config.max_request_size = bytes;
        self
    }

    /// Sealed batches queued per partition before `send` waits (default 100).
    pub fn batch_queue_size(mut self, batches: usize) -> Self {
        self.config.batch_queue_size = batches;
        self
    }

    /// How long `send` waits for queue space before failing with a timeout (default 60 s).
    pub fn max_block(mut self, max_block: Duration) -> Self {
        self.config.max_block = max_block;
        self
    }

    /// Delivery guarantee (default at-least-once).
    pub fn delivery(mut self, delivery: DeliverySemantic) -> Self {
        self.config.delivery = delivery;
        self
    }

    /// Time the server may take to commit a request, and the basis of the client's wait
    /// for each response (default 5 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.config.timeout = timeout;
        self
    }

    /// When the server acknowledges: after its own append (ReadUncommitted, the default) or
    /// once the records are committed (ReadCommitted).
    pub fn isolation(mut self, isolation: Isolation) -> Self {
        self.config.isolation = isolation;
        self
    }

    /// Whether each batch carries this producer's id, an epoch and a per-partition sequence
    /// number (default true), so that a leader which already appended a batch recognizes a
    /// retry of it and answers with the original offset instead of storing it twice: with
    /// retries, a lost response or a leader change then costs neither a duplicate nor a
    /// reordering. Servers that do not deduplicate (Fluvio's own SPUs) store the fields and
    /// ignore them. `false` writes -1 in the three header fields, as the official client does.
    pub fn idempotent(mut self, idempotent: bool) -> Self {
        self.config.idempotent = idempotent;
        self
    }

    /// Validates and returns the settings.
    pub fn build(self) -> Result<ProducerConfig> {
        let c = &self.config;
        ProducerConfig::check_batch_size(c.batch_size)?;
        ProducerConfig::check_max_request_size(c.max_request_size)?;
        ProducerConfig::check_batch_queue_size(c.batch_queue_size)?;
        ProducerConfig::check_timeout(c.timeout)?;
        if let DeliverySemantic::AtLeastOnce(policy) = c.delivery {
            RetryPolicy::check_timeout(policy.timeout)?;
        }
        Ok(self.config)
    }
}

// The rules of the settings, each in one place: `ProducerConfigBuilder::build` applies them,
// front ends (the Java builder) as values are set.
impl ProducerConfig {
    /// [`ProducerConfigBuilder::batch_size`]: at least one byte.
    pub fn check_batch_size(bytes: usize) -> Result<()> {
        if bytes == 0 {
            return Err(Error::config("batch_size must be greater than 0"));
        }
        Ok(())
    }

    /// [`ProducerConfigBuilder::max_request_size`]: 64 bytes to [`MAX_REQUEST_SIZE_LIMIT`].
    pub fn check_max_request_size(bytes: usize) -> Result<()> {
        if bytes < 64 {
            return Err(Error::config("max_request_size must be at least 64 bytes"));
        }
        if bytes > MAX_REQUEST_SIZE_LIMIT {
            return Err(Error::config(format!(
                "max_request_size {bytes} is above {MAX_REQUEST_SIZE_LIMIT} bytes, the largest request a server accepts"
            )));
        }
        Ok(())
    }

    /// [`ProducerConfigBuilder::batch_queue_size`]: at least one batch.
    pub fn check_batch_queue_size(batches: usize) -> Result<()> {
        if batches == 0 {
            return Err(Error::config("batch_queue_size must be greater than 0"));
        }
        Ok(())
    }

    /// [`ProducerConfigBuilder::timeout`]: 1 ms to 2^31-1 ms (the wire carries it as an i32).
    pub fn check_timeout(timeout: Duration) -> Result<()> {
        if timeout < MIN_TIMEOUT || timeout.as_millis() > i32::MAX as u128 {
            return Err(Error::config("timeout must be between 1 ms and 2^31-1 ms"));
        }
        Ok(())
    }
}
