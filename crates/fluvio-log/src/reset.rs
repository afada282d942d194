//! Restarting a partition log empty at a given offset
//! ([`PartitionLog::reset_to`](crate::PartitionLog::reset_to)), so that a crash at any moment
//! leaves either the old log or the new empty one, never a mix.
//!
//! A reset deletes several files and creates others, which no single file system operation
//! does atomically. It is therefore decided by one atomic step, the appearance of a marker
//! file [`RESET_FILE_NAME`] naming the new base offset, and everything after that step is
//! idempotent and redone by recovery if a crash interrupts it:
//!
//! 1. the marker is written as `log-reset.tmp` and fsynced;
//! 2. it is renamed to `log-reset` and the directory is fsynced: **the reset is decided**;
//! 3. every segment file (`{base:020}.log` and `.index`) in the directory is deleted;
//! 4. the empty segment `{offset:020}.log` (with its empty index) is created and the directory
//!    is fsynced, so the new segment is durable before the marker goes;
//! 5. the marker is removed and the directory fsynced, before `reset_to` returns (so before
//!    anything is appended to the new segment).
//!
//! [`PartitionLog::open`](crate::PartitionLog::open) looks for the marker before anything
//! else. Present: it runs steps 3 to 5 again (deleting whatever segment files are left, the new
//! segment included, which is still empty then) and the log opens empty at the marker's
//! offset. Absent: either step 2 never became durable, and then nothing was deleted yet (the
//! deletions only start after the rename is fsynced) so the old log is intact, or step 5
//! completed and the new segment is the whole log. A leftover `log-reset.tmp` (a crash during
//! step 1 or 2) is deleted. Files that are not segments (such as the leader-epoch history)
//! are left alone: their owners reset them themselves.
//!
//! A marker that exists but cannot be parsed is reported as an error rather than guessed
//! around: it is only ever written through a rename, so damage means outside interference.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::LogError;
use crate::files::FilePool;
use crate::segment::{Segment, parse_file_name, remove_file_if_exists, sync_dir};

/// Name of the marker of a reset in progress inside a partition directory.
pub const RESET_FILE_NAME: &str = "log-reset";
const TEMPORARY_NAME: &str = "log-reset.tmp";
const HEADER: &str = "fluvio-log reset v1";

/// Called between the durable steps of a reset. Always `Ok` in production; tests return an
/// error to stop the reset there, which leaves the directory exactly as a crash at that point
/// would (the steps are file operations, nothing is undone on the way out).
pub(crate) type Step<'a> = &'a mut dyn FnMut() -> Result<(), LogError>;

/// The step hook of a reset that runs to the end.
pub(crate) fn no_crash() -> Result<(), LogError> {
    Ok(())
}

fn marker_text(offset: i64) -> String {
    format!("{HEADER}\n{offset}\n")
}

/// Step 1: writes and fsyncs the temporary marker. On error the temporary file is removed
/// (best effort; recovery removes it otherwise) and nothing is decided.
pub(crate) fn stage_marker(dir: &Path, offset: i64) -> Result<(), LogError> {
    let temporary = dir.join(TEMPORARY_NAME);
    let write = || -> io::Result<()> {
        let mut file = File::create(&temporary)?;
        file.write_all(marker_text(offset).as_bytes())?;
        file.sync_all()
    };
    write().map_err(|err| {
        let _ = fs::remove_file(&temporary);
        LogError::io("write", &temporary)(err)
    })
}

/// Step 2, first half: the rename that decides the reset. When it fails, nothing is decided.
pub(crate) fn commit_marker(dir: &Path) -> Result<(), LogError> {
    let path = dir.join(RESET_FILE_NAME);
    fs::rename(dir.join(TEMPORARY_NAME), &path).map_err(LogError::io("rename", &path))
}

/// Steps 2 (second half) to 5: makes the decision durable, deletes every segment, creates the
/// empty segment at `offset`, removes the marker. Idempotent: it can be run again from any
/// point it was interrupted at.
pub(crate) fn complete(dir: &Path, offset: i64, pool: &Arc<FilePool>, step: Step<'_>) -> Result<Segment, LogError> {
    sync_dir(dir)?;
    step()?;
    for path in segment_files(dir)? {
        remove_file_if_exists(&path)?;
        step()?;
    }
    let segment = Segment::create(dir, offset, pool)?;
    step()?;
    sync_dir(dir)?;
    step()?;
    remove_file_if_exists(&dir.join(RESET_FILE_NAME))?;
    step()?;
    sync_dir(dir)?;
    Ok(segment)
}

/// The segment files of `dir` (logs and indexes), oldest first.
fn segment_files(dir: &Path) -> Result<Vec<PathBuf>, LogError> {
    let mut found = Vec::new();
    for entry in fs::read_dir(dir).map_err(LogError::io("list", dir))? {
        let entry = entry.map_err(LogError::io("list", dir))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let base = parse_file_name(name, ".log").or_else(|| parse_file_name(name, ".index"));
        if let Some(base) = base {
            found.push((base, entry.path()));
        }
    }
    found.sort();
    Ok(found.into_iter().map(|(_, path)| path).collect())
}

/// What recovery finds of a reset: the offset of a decided but unfinished one. A leftover
/// temporary marker (of a reset that was never decided) is deleted and its path returned in
/// the second field.
pub(crate) fn pending(dir: &Path) -> Result<(Option<i64>, Option<PathBuf>), LogError> {
    let temporary = dir.join(TEMPORARY_NAME);
    let leftover = match fs::remove_file(&temporary) {
        Ok(()) => Some(temporary),
        Err(err) if err.kind() == io::ErrorKind::NotFound => None,
        Err(err) => return Err(LogError::io("remove", &temporary)(err)),
    };
    let path = dir.join(RESET_FILE_NAME);
    let text = match fs::read_to_string(&path) {
        Ok(text) => text,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok((None, leftover)),
        Err(err) => return Err(LogError::io("read", &path)(err)),
    };
    let offset = text
        .strip_prefix(HEADER)
        .and_then(|rest| rest.strip_prefix('\n'))
        .and_then(|rest| rest.strip_suffix('\n'))
        .and_then(|number| number.parse::<i64>().ok())
        .filter(|offset| *offset >= 0 && text == marker_text(*offset));
    match offset {
        Some(offset) => Ok((Some(offset), leftover)),
        None => Err(LogError::Io {
            op: "parse",
            path,
            source: io::Error::new(io::ErrorKind::InvalidData, format!("not a log reset marker: {text:?}")),
        }),
    }
}

#[cfg(test)]
mod tests {
    //! Crash safety of `reset_to`, step by step: the reset is stopped after each of its durable
    //! steps in turn (as a crash there would stop it) and the directory is reopened.

    use bytes::{Bytes, BytesMut};
    use fluvio_wire::Compression;
    use fluvio_wire::record::{RawBatch, Record, RecordSet};

    use super::*;
    use crate::{LogConfig, PartitionLog};

    fn config() -> LogConfig {
        LogConfig { segment_max_bytes: 400, index_interval_bytes: 100, retention: None, max_partition_bytes: None }
    }

    fn batch(tag: &str, n: usize) -> Vec<u8> {
        let records: Vec<Record> =
            (0..n).map(|i| Record::new(None, Bytes::from(format!("{tag}-{i}")), i as i64, 0)).collect();
        let raw = RawBatch::from_records(&records, Compression::None, 1_700_000_000_000).unwrap();
        let mut out = BytesMut::new();
        raw.encode_to(&mut out).unwrap();
        out.to_vec()
    }

    /// `(offset, value)` of every record.
    fn contents(log: &PartitionLog) -> Vec<(i64, String)> {
        let end = log.log_end_offset();
        let mut at = log.log_start_offset();
        let mut out = Vec::new();
        while at < end {
            let slice = log.read(at, 1 << 20, end).unwrap();
            for batch in RecordSet::from_encoded(slice.bytes.clone()).batches().unwrap() {
                for record in batch.records(1 << 20).unwrap() {
                    let value = String::from_utf8(record.value.to_vec()).unwrap();
                    out.push((batch.header.base_offset + record.offset_delta, value));
                }
            }
            at = slice.next_offset;
        }
        out
    }

    /// A log of 30 batches of 3 records (offsets 0..90) over several segments.
    fn old_log(dir: &Path) -> (PartitionLog, Vec<(i64, String)>) {
        let mut log = PartitionLog::open(dir, config()).unwrap();
        for b in 0..30 {
            log.append(&mut batch(&format!("old{b}"), 3)).unwrap();
        }
        assert!(log.segment_base_offsets().len() > 3);
        let contents = contents(&log);
        (log, contents)
    }

    /// Runs a reset to `offset` that "crashes" after `steps` steps; returns whether it
    /// finished before that.
    fn reset_crashing_after(log: &mut PartitionLog, offset: i64, steps: usize) -> bool {
        let mut taken = 0;
        let mut step = || {
            if taken == steps {
                return Err(LogError::Io { op: "crash", path: PathBuf::new(), source: io::Error::other("crash") });
            }
            taken += 1;
            Ok(())
        };
        match log.reset_to_with(offset, &mut step) {
            Ok(()) => true,
            Err(LogError::Io { op: "crash", .. }) => false,
            Err(err) => panic!("reset failed: {err}"),
        }
    }

    fn is_segment_file(name: &str) -> bool {
        parse_file_name(name, ".log").or_else(|| parse_file_name(name, ".index")).is_some()
    }

    #[test]
    fn a_crash_at_any_step_leaves_the_old_log_or_the_new_empty_one() {
        for offset in [500, 40, 0] {
            let mut outcomes = Vec::new();
            for steps in 0.. {
                let dir = tempfile::tempdir().unwrap();
                let (mut log, old) = old_log(dir.path());
                fs::write(dir.path().join("leader-epochs"), "not ours").unwrap();
                let old_bounds = (log.log_start_offset(), log.log_end_offset());
                let finished = reset_crashing_after(&mut log, offset, steps);
                drop(log);

                let mut log = PartitionLog::open(dir.path(), config()).unwrap();
                let bounds = (log.log_start_offset(), log.log_end_offset());
                let report = log.recovery_report().clone();
                if bounds == old_bounds && contents(&log) == old {
                    outcomes.push("old");
                    assert_eq!(report.completed_reset, None, "steps {steps}");
                } else {
                    assert_eq!(bounds, (offset, offset), "offset {offset}, steps {steps}: neither old nor new");
                    assert_eq!(log.segment_base_offsets(), [offset]);
                    assert!(contents(&log).is_empty());
                    outcomes.push("new");
                }
                // Nothing of the reset is left behind, other files are untouched, and a second
                // open finds a clean directory.
                let mut names: Vec<String> =
                    fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
                names.retain(|name| !is_segment_file(name));
                assert_eq!(names, ["leader-epochs"], "steps {steps}");
                assert_eq!(fs::read_to_string(dir.path().join("leader-epochs")).unwrap(), "not ours");
                let expected_after = if outcomes.last() == Some(&"new") { offset } else { old_bounds.1 };
                let info = log.append(&mut batch("after", 2)).unwrap();
                assert_eq!(info.base_offset, expected_after);
                drop(log);
                let reopened = PartitionLog::open(dir.path(), config()).unwrap();
                assert!(reopened.recovery_report().is_clean(), "steps {steps}: {:?}", reopened.recovery_report());
                assert_eq!(reopened.log_end_offset(), expected_after + 2);
                if finished {
                    assert!(report.is_clean(), "a finished reset leaves nothing to repair: {report:?}");
                    break;
                }
            }
            // Old until the marker is renamed, new from then on: exactly one switch.
            let switch = outcomes.iter().position(|o| *o == "new").expect("the finished reset is new");
            assert!(outcomes[switch..].iter().all(|o| *o == "new"), "{outcomes:?}");
            assert!(switch >= 1, "the reset is decided by the rename, after the first step: {outcomes:?}");
            // Every file deletion is a step, so there are more steps than segments.
            assert!(outcomes.len() > 8, "{outcomes:?}");
        }
    }

    #[test]
    fn a_crash_before_the_rename_leaves_only_a_temporary_file_that_recovery_removes() {
        let dir = tempfile::tempdir().unwrap();
        let (mut log, old) = old_log(dir.path());
        assert!(!reset_crashing_after(&mut log, 500, 0));
        drop(log);
        assert!(dir.path().join(TEMPORARY_NAME).exists());
        assert!(!dir.path().join(RESET_FILE_NAME).exists());
        let log = PartitionLog::open(dir.path(), config()).unwrap();
        assert_eq!(log.recovery_report().removed_files, [dir.path().join(TEMPORARY_NAME)]);
        assert_eq!(log.recovery_report().completed_reset, None);
        assert_eq!(contents(&log), old);
    }

    #[test]
    fn an_interrupted_reset_refuses_use_until_it_is_redone() {
        let dir = tempfile::tempdir().unwrap();
        let (mut log, _) = old_log(dir.path());
        // Decided, two files deleted, then "an I/O error".
        assert!(!reset_crashing_after(&mut log, 500, 3));
        let refused = |result: Result<(), LogError>| matches!(result, Err(LogError::ResetIncomplete { offset: 500 }));
        assert!(refused(log.append(&mut batch("x", 1)).map(drop)));
        assert!(refused(log.read(0, 100, 10).map(drop)));
        assert!(refused(log.truncate_to(0)));
        assert!(refused(log.enforce_retention(std::time::SystemTime::now()).map(drop)));
        // Redoing it (even to another offset) finishes it.
        log.reset_to(700).unwrap();
        assert_eq!((log.log_start_offset(), log.log_end_offset()), (700, 700));
        assert_eq!(log.append(&mut batch("x", 1)).unwrap().base_offset, 700);
        drop(log);
        let log = PartitionLog::open(dir.path(), config()).unwrap();
        assert!(log.recovery_report().is_clean());
        assert_eq!(contents(&log), [(700, "x-0".to_string())]);
    }

    #[test]
    fn a_damaged_marker_is_an_error_not_a_guess() {
        for damaged in ["", "fluvio-log reset v1\n", "fluvio-log reset v1\n-5\n", "fluvio-log reset v1\n12\nx", "12\n"]
        {
            let dir = tempfile::tempdir().unwrap();
            let (log, _) = old_log(dir.path());
            drop(log);
            fs::write(dir.path().join(RESET_FILE_NAME), damaged).unwrap();
            let err = PartitionLog::open(dir.path(), config()).unwrap_err();
            assert!(matches!(err, LogError::Io { op: "parse", .. }), "{damaged:?}: {err}");
        }
    }
}
