//! The leader-epoch history of a replica: for every leader epoch under which this replica's
//! log gained records, the offset of the first of them.
//!
//! Replication uses it to find where a replica that missed an election diverges from the new
//! leader (Kafka's KIP-101 and KIP-279 idea): the follower asks the leader where the
//! follower's latest epoch ends in the leader's log, and truncates there. Truncating to the
//! follower's own high watermark instead would be simpler but can lose committed records when
//! two failures follow each other, because a follower's high watermark lags the leader's.
//!
//! The history is a small text file next to the segments (`leader-epochs`), rewritten
//! atomically (temporary file, fsync, rename, directory fsync) on every change. Segment
//! recovery ignores it.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::LogError;

/// Name of the history file inside a partition directory.
pub const EPOCH_FILE_NAME: &str = "leader-epochs";
const HEADER: &str = "fluvio-local leader epochs v1";

/// One epoch and the first offset written under it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EpochStart {
    /// Leader epoch.
    pub epoch: i32,
    /// First offset written under it (the log end offset when the epoch began).
    pub start_offset: i64,
}

/// Where an epoch ends in a log, as answered to a follower.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EpochEnd {
    /// The largest known epoch not after the one asked about; -1 when there is none.
    pub epoch: i32,
    /// The first offset after that epoch (the log end offset for the latest epoch); when
    /// `epoch` is -1, the start of the first known epoch (or the log end if none is known).
    pub end_offset: i64,
}

/// The epoch history of one replica, kept in memory and on disk.
#[derive(Debug)]
pub struct EpochHistory {
    path: PathBuf,
    entries: Vec<EpochStart>,
}

impl EpochHistory {
    /// Loads the history of the partition directory `dir` (empty when the file does not
    /// exist). Entries starting past `log_end_offset` are dropped: they describe records that
    /// recovery cut from the log.
    ///
    /// Errors: I/O, or [`LogError::Corrupt`]-like damage reported as [`LogError::Io`] with
    /// kind `InvalidData` (the file is written atomically, so damage means outside
    /// interference).
    pub fn open(dir: &Path, log_end_offset: i64) -> Result<Self, LogError> {
        let path = dir.join(EPOCH_FILE_NAME);
        let entries = match fs::read_to_string(&path) {
            Ok(text) => parse(&text).map_err(|message| LogError::Io {
                op: "parse",
                path: path.clone(),
                source: std::io::Error::new(std::io::ErrorKind::InvalidData, message),
            })?,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(err) => return Err(LogError::io("read", &path)(err)),
        };
        let mut history = Self { path, entries };
        if history.entries.iter().any(|e| e.start_offset > log_end_offset) {
            history.truncate_to(log_end_offset)?;
        }
        Ok(history)
    }

    /// The entries, oldest first.
    pub fn entries(&self) -> &[EpochStart] {
        &self.entries
    }

    /// The latest epoch, if any.
    pub fn latest(&self) -> Option<EpochStart> {
        self.entries.last().copied()
    }

    /// Records that `epoch` begins at `start_offset` (the current log end offset). Assigning
    /// the latest epoch again does nothing; an epoch older than the latest, or a start offset
    /// before the latest's, is refused as a logic error of the caller
    /// ([`std::io::ErrorKind::InvalidInput`]).
    pub fn assign(&mut self, epoch: i32, start_offset: i64) -> Result<(), LogError> {
        if let Some(latest) = self.latest() {
            if latest.epoch == epoch {
                return Ok(());
            }
            if epoch < latest.epoch || start_offset < latest.start_offset {
                return Err(LogError::Io {
                    op: "assign epoch",
                    path: self.path.clone(),
                    source: std::io::Error::new(
                        std::io::ErrorKind::InvalidInput,
                        format!(
                            "epoch {epoch} at {start_offset} cannot follow epoch {} at {}",
                            latest.epoch, latest.start_offset
                        ),
                    ),
                });
            }
        }
        self.entries.push(EpochStart { epoch, start_offset });
        self.persist()
    }

    /// Where `requested` ends in a log whose end offset is `log_end_offset`.
    pub fn end_of(&self, requested: i32, log_end_offset: i64) -> EpochEnd {
        match self.entries.iter().rposition(|e| e.epoch <= requested) {
            Some(index) => {
                let end_offset = self.entries.get(index + 1).map_or(log_end_offset, |next| next.start_offset);
                EpochEnd { epoch: self.entries[index].epoch, end_offset }
            }
            None => EpochEnd {
                epoch: -1,
                end_offset: self.entries.first().map_or(log_end_offset, |first| first.start_offset),
            },
        }
    }

    /// Forgets epochs that start after `log_end_offset`, after the log was truncated there.
    pub fn truncate_to(&mut self, log_end_offset: i64) -> Result<(), LogError> {
        let before = self.entries.len();
        self.entries.retain(|e| e.start_offset <= log_end_offset);
        if self.entries.len() != before { self.persist() } else { Ok(()) }
    }

    /// Forgets epochs that start below `log_start_offset`, after the log was discarded and
    /// restarted empty there ([`PartitionLog::reset_to`](crate::PartitionLog::reset_to)): they
    /// describe records this replica no longer has, and the epochs of the records it copies
    /// from now on are learnt from their batches again.
    ///
    /// Not for retention: a log whose old segments were deleted still needs the epoch that its
    /// first remaining records belong to, which started below its log start.
    pub fn discard_below(&mut self, log_start_offset: i64) -> Result<(), LogError> {
        let before = self.entries.len();
        self.entries.retain(|e| e.start_offset >= log_start_offset);
        if self.entries.len() != before { self.persist() } else { Ok(()) }
    }

    fn persist(&self) -> Result<(), LogError> {
        let mut text = String::from(HEADER);
        text.push('\n');
        for entry in &self.entries {
            text.push_str(&format!("{} {}\n", entry.epoch, entry.start_offset));
        }
        let temporary = self.path.with_extension("tmp");
        let write = || -> std::io::Result<()> {
            let mut file = fs::File::create(&temporary)?;
            file.write_all(text.as_bytes())?;
            file.sync_all()?;
            fs::rename(&temporary, &self.path)?;
            if let Some(dir) = self.path.parent() {
                fs::File::open(dir)?.sync_all()?;
            }
            Ok(())
        };
        write().map_err(LogError::io("write", &self.path))
    }
}

fn parse(text: &str) -> Result<Vec<EpochStart>, String> {
    let mut lines = text.lines();
    if lines.next() != Some(HEADER) {
        return Err("not a leader-epoch file".into());
    }
    let mut entries: Vec<EpochStart> = Vec::new();
    for line in lines.filter(|l| !l.trim().is_empty()) {
        let mut fields = line.split_whitespace();
        let epoch = fields.next().and_then(|f| f.parse().ok());
        let start_offset = fields.next().and_then(|f| f.parse().ok());
        let (Some(epoch), Some(start_offset), None) = (epoch, start_offset, fields.next()) else {
            return Err(format!("bad line {line:?}"));
        };
        if entries.last().is_some_and(|l: &EpochStart| l.epoch >= epoch || l.start_offset > start_offset) {
            return Err(format!("epochs out of order at {line:?}"));
        }
        entries.push(EpochStart { epoch, start_offset });
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups_follow_the_history() {
        let dir = tempfile::tempdir().unwrap();
        let mut history = EpochHistory::open(dir.path(), 0).unwrap();
        assert_eq!(history.end_of(3, 0), EpochEnd { epoch: -1, end_offset: 0 });
        history.assign(1, 0).unwrap();
        history.assign(1, 5).unwrap(); // same epoch again: no change
        history.assign(3, 10).unwrap();
        history.assign(4, 25).unwrap();
        assert_eq!(history.end_of(1, 40), EpochEnd { epoch: 1, end_offset: 10 });
        assert_eq!(history.end_of(2, 40), EpochEnd { epoch: 1, end_offset: 10 });
        assert_eq!(history.end_of(3, 40), EpochEnd { epoch: 3, end_offset: 25 });
        assert_eq!(history.end_of(4, 40), EpochEnd { epoch: 4, end_offset: 40 });
        assert_eq!(history.end_of(9, 40), EpochEnd { epoch: 4, end_offset: 40 });
        assert_eq!(history.end_of(0, 40), EpochEnd { epoch: -1, end_offset: 0 });
        assert!(history.assign(2, 30).is_err(), "epochs only move forward");
        assert!(history.assign(5, 20).is_err(), "start offsets only move forward");
    }

    #[test]
    fn the_history_survives_reopening_and_follows_truncation() {
        let dir = tempfile::tempdir().unwrap();
        let mut history = EpochHistory::open(dir.path(), 0).unwrap();
        history.assign(0, 0).unwrap();
        history.assign(2, 7).unwrap();
        history.assign(5, 12).unwrap();
        let reopened = EpochHistory::open(dir.path(), 12).unwrap();
        assert_eq!(reopened.entries(), history.entries());

        // Recovery cut the log at 9: epoch 5 (from 12) never happened as far as the log knows.
        let cut = EpochHistory::open(dir.path(), 9).unwrap();
        assert_eq!(
            cut.entries(),
            &[EpochStart { epoch: 0, start_offset: 0 }, EpochStart { epoch: 2, start_offset: 7 }]
        );
        let again = EpochHistory::open(dir.path(), 100).unwrap();
        assert_eq!(again.entries(), cut.entries(), "the cut was persisted");

        let mut truncated = again;
        truncated.truncate_to(7).unwrap();
        assert_eq!(truncated.latest(), Some(EpochStart { epoch: 2, start_offset: 7 }), "an empty epoch stays");
        truncated.truncate_to(3).unwrap();
        assert_eq!(truncated.latest(), Some(EpochStart { epoch: 0, start_offset: 0 }));
    }

    #[test]
    fn epochs_below_a_new_log_start_are_discarded() {
        let dir = tempfile::tempdir().unwrap();
        let mut history = EpochHistory::open(dir.path(), 0).unwrap();
        history.assign(0, 0).unwrap();
        history.assign(2, 7).unwrap();
        history.assign(5, 12).unwrap();
        history.discard_below(7).unwrap();
        let kept = [EpochStart { epoch: 2, start_offset: 7 }, EpochStart { epoch: 5, start_offset: 12 }];
        assert_eq!(history.entries(), kept);
        history.discard_below(100).unwrap();
        assert!(history.entries().is_empty());
        assert_eq!(history.end_of(5, 100), EpochEnd { epoch: -1, end_offset: 100 });
        let reopened = EpochHistory::open(dir.path(), 100).unwrap();
        assert!(reopened.entries().is_empty(), "persisted");
        // Epochs are learnt again from there, even older ones than those forgotten.
        let mut history = reopened;
        history.assign(1, 100).unwrap();
        assert_eq!(history.latest(), Some(EpochStart { epoch: 1, start_offset: 100 }));
    }

    #[test]
    fn a_damaged_file_is_an_error_not_a_guess() {
        let dir = tempfile::tempdir().unwrap();
        for damaged in ["garbage", "fluvio-local leader epochs v1\n1 x\n", "fluvio-local leader epochs v1\n3 0\n2 5\n"]
        {
            fs::write(dir.path().join(EPOCH_FILE_NAME), damaged).unwrap();
            let err = EpochHistory::open(dir.path(), 10).unwrap_err();
            assert!(matches!(err, LogError::Io { op: "parse", .. }), "{damaged:?}: {err}");
        }
    }
}
