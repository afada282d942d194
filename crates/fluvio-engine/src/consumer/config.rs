//! Consumer settings.

use std::time::Duration;

use fluvio_wire::spu::Isolation;

use crate::config::MIN_TIMEOUT;
use crate::error::{Error, ErrorKind, Result};

/// Default `max_bytes` of a fetch: 1 MiB.
pub const DEFAULT_MAX_BYTES: i32 = 1024 * 1024;
/// Default time a stream keeps trying to resume after losing its partition leader.
pub const DEFAULT_RESUME_TIMEOUT: Duration = Duration::from_secs(60);
/// Default cap of a stream's buffered data: 1.75 MiB. Each fetch then asks for at most
/// 448 KiB (a quarter), and a stream that falls behind holds about the cap: 100 such streams
/// fit a JVM in 250 MiB of RSS. Fetching ahead is not slowed by it: a stream asks for more
/// only while it holds little, under this cap as under a larger one.
pub const DEFAULT_MAX_BUFFERED_BYTES: usize = 1792 * 1024;
/// Default interval between the stores of an [`OffsetStrategy::Auto`] stream: 10 s, as the
/// official client's `offset_flush`.
pub const DEFAULT_AUTO_COMMIT_INTERVAL: Duration = Duration::from_secs(10);
/// Longest consumer name, in bytes of UTF-8.
pub const MAX_CONSUMER_ID_BYTES: usize = 255;

/// How a named consumer's offsets are stored in the cluster (the official client's
/// `OffsetManagementStrategy`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum OffsetStrategy {
    /// Nothing is stored; a named stream still starts from its stored offset, if any.
    #[default]
    None,
    /// `commit` marks what the stream returned so far, `flush` stores it in the cluster.
    Manual,
    /// Every record returned is committed; the offset is stored every
    /// [`ConsumerConfig::auto_commit_interval`] and when the stream closes.
    Auto,
}

/// Consumer settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerConfig {
    /// Which records are visible: everything the leader stored (`ReadUncommitted`, the
    /// default, as the official client's), or only records every in-sync replica holds
    /// (`ReadCommitted`), which a failover never takes back.
    pub isolation: Isolation,
    /// Size budget of each fetch: the server sends at most this many bytes of records,
    /// cutting a batch if it falls there. A batch that does not fit is fetched whole anyway
    /// (up to [`MAX_FETCH_BYTES`](super::MAX_FETCH_BYTES), which also bounds this setting).
    pub max_bytes: i32,
    /// How long a stream keeps trying to resume after losing its partition leader.
    pub resume_timeout: Duration,
    /// Cap of what a stream holds for its reader, in bytes: the records received and not yet
    /// taken (their bytes and their list, 32 bytes a record), and room for the push asked for.
    /// The stream asks the server for more only when a whole fetch fits under the cap, so a
    /// reader that falls behind slows the stream down instead of piling data up. Each fetch
    /// asks for at most a quarter of the cap (`max_bytes` is lowered to it), leaving room for
    /// two fetches and their lists; a single batch larger than the cap is still delivered,
    /// held alone. Records much smaller than earlier ones may take a fetch's list past its
    /// room (the stream then waits until the reader took them). Compressed
    /// records count at their decompressed size, so a fetch of compressed data may take the
    /// stream past the cap by its compression ratio (it then waits until the reader took it).
    pub max_buffered_bytes: usize,
    /// The name of a consumer whose offsets the cluster keeps (the official client's
    /// `offset_consumer`): a stream of a named consumer starts after the offset stored for it
    /// in each partition, when one is (see [`Offset`](super::Offset) for how the start offset
    /// applies then), and stores its offsets as [`ConsumerConfig::offset_strategy`] says.
    pub consumer_id: Option<String>,
    /// How offsets are stored; anything but `None` needs a [`ConsumerConfig::consumer_id`].
    pub offset_strategy: OffsetStrategy,
    /// How often an [`OffsetStrategy::Auto`] stream stores its offsets.
    pub auto_commit_interval: Duration,
}

impl Default for ConsumerConfig {
    fn default() -> Self {
        Self {
            isolation: Isolation::ReadUncommitted,
            max_bytes: DEFAULT_MAX_BYTES,
            resume_timeout: DEFAULT_RESUME_TIMEOUT,
            max_buffered_bytes: DEFAULT_MAX_BUFFERED_BYTES,
            consumer_id: None,
            offset_strategy: OffsetStrategy::None,
            auto_commit_interval: DEFAULT_AUTO_COMMIT_INTERVAL,
        }
    }
}

impl ConsumerConfig {
    pub(super) fn validate(&self) -> Result<()> {
        Self::check_max_bytes(self.max_bytes)?;
        Self::check_resume_timeout(self.resume_timeout)?;
        Self::check_max_buffered_bytes(self.max_buffered_bytes)?;
        Self::check_auto_commit_interval(self.auto_commit_interval)?;
        if let Some(consumer_id) = &self.consumer_id {
            Self::check_consumer_id(consumer_id)?;
        } else if self.offset_strategy != OffsetStrategy::None {
            // As the official client's builder.
            return Err(Error::config(format!(
                "the {:?} offset strategy needs a consumer name (consumer_id)",
                self.offset_strategy
            )));
        }
        Ok(())
    }

    /// The `max_bytes` each fetch of a stream asks for: the setting, within a quarter of the
    /// buffer cap (room for two fetches and the lists of their records) and
    /// [`MAX_FETCH_BYTES`](super::MAX_FETCH_BYTES).
    pub(super) fn fetch_bytes(&self) -> i32 {
        let quarter = i32::try_from(self.max_buffered_bytes / 4).unwrap_or(i32::MAX).max(1);
        self.max_bytes.min(quarter).min(super::MAX_FETCH_BYTES)
    }

    // The rules of the settings, each in one place: streams and fetches apply them, front
    // ends (the Java builder) as values are set.

    /// [`ConsumerConfig::max_bytes`]: at least one byte.
    pub fn check_max_bytes(max_bytes: i32) -> Result<()> {
        if max_bytes <= 0 {
            return Err(Error::config("max_bytes must be greater than 0"));
        }
        Ok(())
    }

    /// [`ConsumerConfig::max_buffered_bytes`]: at least one byte.
    pub fn check_max_buffered_bytes(max_buffered_bytes: usize) -> Result<()> {
        if max_buffered_bytes == 0 {
            return Err(Error::config("max_buffered_bytes must be greater than 0"));
        }
        Ok(())
    }

    /// [`ConsumerConfig::resume_timeout`]: at least [`MIN_TIMEOUT`].
    pub fn check_resume_timeout(timeout: Duration) -> Result<()> {
        if timeout < MIN_TIMEOUT {
            return Err(Error::config(format!("the resume timeout must be at least {MIN_TIMEOUT:?}, not {timeout:?}")));
        }
        Ok(())
    }

    /// [`ConsumerConfig::auto_commit_interval`]: at least [`MIN_TIMEOUT`].
    pub fn check_auto_commit_interval(interval: Duration) -> Result<()> {
        if interval < MIN_TIMEOUT {
            return Err(Error::config(format!(
                "the auto-commit interval must be at least {MIN_TIMEOUT:?}, not {interval:?}"
            )));
        }
        Ok(())
    }

    /// A consumer name ([`ConsumerConfig::consumer_id`]): 1 to [`MAX_CONSUMER_ID_BYTES`] bytes,
    /// no control characters, no leading or trailing white space; else
    /// [`ErrorKind::InvalidConsumerName`]. Fluvio 0.50 itself takes any string; these rules
    /// refuse what can only be a mistake (an empty or blank name, one that differs from
    /// another only by invisible characters) or cannot be shown in the CLI's `consumer list`.
    pub fn check_consumer_id(consumer_id: &str) -> Result<()> {
        let problem = if consumer_id.is_empty() {
            Some("is empty".to_string())
        } else if consumer_id.len() > MAX_CONSUMER_ID_BYTES {
            Some(format!("has {} bytes, more than {MAX_CONSUMER_ID_BYTES}", consumer_id.len()))
        } else if consumer_id.chars().any(char::is_control) {
            Some("holds a control character".to_string())
        } else if consumer_id.trim() != consumer_id {
            Some("starts or ends with white space".to_string())
        } else {
            None
        };
        match problem {
            Some(problem) => {
                Err(Error::new(ErrorKind::InvalidConsumerName, format!("the consumer name {consumer_id:?} {problem}")))
            }
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consumer_names_follow_their_rules() {
        for good in ["c", "my-service", "Service 1", "ünïcode", &"x".repeat(MAX_CONSUMER_ID_BYTES)] {
            assert!(ConsumerConfig::check_consumer_id(good).is_ok(), "{good:?}");
        }
        for bad in ["", " ", " lead", "trail ", "tab\there", "line\n", &"x".repeat(MAX_CONSUMER_ID_BYTES + 1)] {
            let err = ConsumerConfig::check_consumer_id(bad).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidConsumerName, "{bad:?}");
        }
    }

    #[test]
    fn a_strategy_needs_a_name() {
        let manual = ConsumerConfig { offset_strategy: OffsetStrategy::Manual, ..ConsumerConfig::default() };
        assert_eq!(manual.validate().unwrap_err().kind(), ErrorKind::Config);
        let named = ConsumerConfig { consumer_id: Some("c".into()), ..manual };
        assert!(named.validate().is_ok());
        let blank = ConsumerConfig { consumer_id: Some(String::new()), ..ConsumerConfig::default() };
        assert_eq!(blank.validate().unwrap_err().kind(), ErrorKind::InvalidConsumerName);
        let never = ConsumerConfig { auto_commit_interval: Duration::ZERO, ..ConsumerConfig::default() };
        assert_eq!(never.validate().unwrap_err().kind(), ErrorKind::Config);
    }
}
