//! Consumer settings.

use std::time::Duration;

use fluvio_wire::spu::Isolation;

use crate::config::MIN_TIMEOUT;
use crate::error::{Error, Result};

/// Default `max_bytes` of a fetch: 1 MiB.
pub const DEFAULT_MAX_BYTES: i32 = 1024 * 1024;
/// Default time a stream keeps trying to resume after losing its partition leader.
pub const DEFAULT_RESUME_TIMEOUT: Duration = Duration::from_secs(60);
/// Default cap of a stream's buffered data: 2 MiB (two default fetches).
pub const DEFAULT_MAX_BUFFERED_BYTES: usize = 2 * 1024 * 1024;
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
    /// Cap of what a stream holds for its reader, in bytes: the records received and not yet
    /// taken (their bytes and their list, 88 bytes a record), and room for the push asked for.
    /// The stream asks the server for more only when a whole fetch fits under the cap, so a
    /// reader that falls behind slows the stream down instead of piling data up. Each fetch
    /// asks for at most a quarter of the cap (`max_bytes` is lowered to it), leaving room for
    /// two fetches and their lists; a single batch larger than the cap is still delivered,
    /// held alone. Records much smaller than earlier ones may take a fetch's list past its
    /// room (the stream then waits until the reader took them). Compressed
    /// records count at their decompressed size, so a fetch of compressed data may take the
    /// stream past the cap by its compression ratio (it then waits until the reader took it).
    pub max_buffered_bytes: usize,
}

impl Default for ConsumerConfig {
    fn default() -> Self {
        Self {
            isolation: Isolation::ReadUncommitted,
            max_bytes: DEFAULT_MAX_BYTES,
            resume_timeout: DEFAULT_RESUME_TIMEOUT,
            max_buffered_bytes: DEFAULT_MAX_BUFFERED_BYTES,
        }
    }
}

impl ConsumerConfig {
    pub(super) fn validate(&self) -> Result<()> {
        Self::check_max_bytes(self.max_bytes)?;
        Self::check_resume_timeout(self.resume_timeout)?;
        Self::check_max_buffered_bytes(self.max_buffered_bytes)
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
}
