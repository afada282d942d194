//! Consumer settings.

use std::time::Duration;

use fluvio_wire::spu::Isolation;

use crate::config::MIN_TIMEOUT;
use crate::error::{Error, Result};

/// Default `max_bytes` of a fetch: 1 MiB.
pub const DEFAULT_MAX_BYTES: i32 = 1024 * 1024;
/// Default time a stream keeps trying to resume after losing its partition leader.
pub const DEFAULT_RESUME_TIMEOUT: Duration = Duration::from_secs(60);
/// Consumer settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
}

impl Default for ConsumerConfig {
    fn default() -> Self {
        Self {
            isolation: Isolation::ReadUncommitted,
            max_bytes: DEFAULT_MAX_BYTES,
            resume_timeout: DEFAULT_RESUME_TIMEOUT,
        }
    }
}

impl ConsumerConfig {
    pub(super) fn validate(&self) -> Result<()> {
        Self::check_max_bytes(self.max_bytes)?;
        Self::check_resume_timeout(self.resume_timeout)
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

    /// [`ConsumerConfig::resume_timeout`]: at least [`MIN_TIMEOUT`].
    pub fn check_resume_timeout(timeout: Duration) -> Result<()> {
        if timeout < MIN_TIMEOUT {
            return Err(Error::config(format!("the resume timeout must be at least {MIN_TIMEOUT:?}, not {timeout:?}")));
        }
        Ok(())
    }
}
