//! A partition replica hosted by an SPU: its log plus the offsets readers wait on.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use fluvio_log::{LogConfig, LogError, PartitionLog, ReadSlice};
use fluvio_wire::error_code::ReplicaKey;
use fluvio_wire::spu::Isolation;
use parking_lot::RwLock;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::control::{ReplicaConfig, ReplicaReport};

/// Offsets of a replica, published to every stream that waits for data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Offsets {
    /// First offset still stored.
    pub log_start: i64,
    /// High watermark: records below it are committed.
    pub hw: i64,
    /// Log end offset: the offset the next record gets.
    pub leo: i64,
}

impl Offsets {
    /// The exclusive end of what a reader with `isolation` may see.
    pub(crate) fn visible_end(&self, isolation: Isolation) -> i64 {
        match isolation {
            Isolation::ReadCommitted => self.hw,
            Isolation::ReadUncommitted => self.leo,
        }
    }
}

/// One partition replica.
pub(crate) struct Replica {
    key: ReplicaKey,
    dir: PathBuf,
    config: ReplicaConfig,
    log: RwLock<PartitionLog>,
    offsets: watch::Sender<Offsets>,
    removed: CancellationToken,
}

impl Replica {
    /// Opens (recovering) or creates the replica's log under `spu_dir`.
    pub(crate) fn open(spu_dir: &Path, key: ReplicaKey, config: ReplicaConfig) -> Result<Arc<Self>, LogError> {
        let dir = replica_dir(spu_dir, &key);
        let log = PartitionLog::open(&dir, log_config(&config))?;
        let leo = log.log_end_offset();
        // A single-replica partition commits on append, so its high watermark is its log end.
        let offsets = Offsets { log_start: log.log_start_offset(), hw: leo, leo };
        Ok(Arc::new(Self {
            key,
            dir,
            config,
            log: RwLock::new(log),
            offsets: watch::Sender::new(offsets),
            removed: CancellationToken::new(),
        }))
    }

    /// Topic and partition.
    pub(crate) fn key(&self) -> &ReplicaKey {
        &self.key
    }

    /// Settings from the topic.
    pub(crate) fn config(&self) -> &ReplicaConfig {
        &self.config
    }

    /// Current offsets.
    pub(crate) fn offsets(&self) -> Offsets {
        *self.offsets.borrow()
    }

    /// A receiver notified whenever the offsets change.
    pub(crate) fn subscribe(&self) -> watch::Receiver<Offsets> {
        self.offsets.subscribe()
    }

    /// Cancelled when the replica is removed (topic deleted).
    pub(crate) fn removed(&self) -> &CancellationToken {
        &self.removed
    }

    /// Appends encoded batches in order. Returns the base offset of the first one.
    pub(crate) fn append(&self, batches: &mut [bytes::BytesMut]) -> Result<i64, LogError> {
        let mut log = self.log.write();
        let mut first_base = None;
        let mut result = Ok(());
        for batch in batches.iter_mut() {
            match log.append(batch) {
                Ok(info) => {
                    first_base.get_or_insert(info.base_offset);
                }
                Err(err) => {
                    result = Err(err);
                    break;
                }
            }
        }
        // Publish whatever was appended, even if a later batch failed.
        let leo = log.log_end_offset();
        let log_start = log.log_start_offset();
        drop(log);
        self.offsets.send_modify(|o| {
            o.leo = leo;
            o.hw = leo;
            o.log_start = log_start;
        });
        result.map(|()| first_base.unwrap_or(leo))
    }

    /// Whole batches from the one containing `offset`, within `max_bytes` (at least one batch),
    /// up to the end `isolation` allows.
    pub(crate) fn read(&self, offset: i64, max_bytes: usize, isolation: Isolation) -> Result<ReadSlice, LogError> {
        let end = self.offsets().visible_end(isolation);
        self.log.read().read(offset, max_bytes, end)
    }

    /// Waits until the high watermark reaches `offset`, or `timeout` passes. Returns whether it did.
    pub(crate) async fn wait_committed(&self, offset: i64, timeout: Duration) -> bool {
        let mut rx = self.subscribe();
        tokio::time::timeout(timeout, rx.wait_for(|o| o.hw >= offset)).await.is_ok_and(|r| r.is_ok())
    }

    /// Deletes segments past retention; returns true if the log start moved.
    pub(crate) fn enforce_retention(&self, now: SystemTime) -> Result<bool, LogError> {
        let mut log = self.log.write();
        let before = log.log_start_offset();
        log.enforce_retention(now)?;
        let after = log.log_start_offset();
        drop(log);
        if after != before {
            self.offsets.send_modify(|o| o.log_start = after);
        }
        Ok(after != before)
    }

    /// Offsets and size for the SC.
    pub(crate) fn report(&self, spu: i32) -> ReplicaReport {
        let size = self.log.read().size_bytes() as i64;
        let offsets = self.offsets();
        ReplicaReport { spu, hw: offsets.hw, leo: offsets.leo, log_start: offsets.log_start, size }
    }

    /// Ends every stream on this replica and deletes its data.
    pub(crate) fn remove(&self) -> std::io::Result<()> {
        self.removed.cancel();
        // Hold the write lock so no append races the deletion.
        let _log = self.log.write();
        match std::fs::remove_dir_all(&self.dir) {
            Err(err) if err.kind() != std::io::ErrorKind::NotFound => Err(err),
            _ => Ok(()),
        }
    }

    /// Flushes the log to disk.
    pub(crate) fn sync(&self) -> Result<(), LogError> {
        self.log.read().sync()
    }
}

/// Directory of a replica's log: `<spu dir>/<topic>-<partition>`.
pub(crate) fn replica_dir(spu_dir: &Path, key: &ReplicaKey) -> PathBuf {
    spu_dir.join(format!("{}-{}", key.topic, key.partition))
}

fn log_config(config: &ReplicaConfig) -> LogConfig {
    LogConfig {
        segment_max_bytes: config.segment_size,
        retention: Some(Duration::from_secs(u64::from(config.retention_secs))),
        max_partition_bytes: Some(config.max_partition_size),
        ..LogConfig::default()
    }
}
