//! The SC's metadata on disk: a snapshot of every spec (`metadata.json`) and a journal of the
//! changes made since (`metadata.journal`), so that a change costs one append and one fsync
//! whatever the number of topics, instead of a rewrite of the whole file.
//!
//! **Journal.** A 16-byte header (`FLVMJRN1` and the generation it continues, a big-endian
//! u64), then one entry per committed change: a big-endian u32 payload length, a big-endian
//! CRC-32C of the length bytes and the payload, and the payload (the change as JSON: the new
//! spec of each object it touched, or `null` for a removed one). An entry is written at the
//! end of the file and fdatasynced before the change is visible; a write that fails is cut off
//! again, so a failed change leaves nothing behind.
//!
//! **Snapshot.** `metadata.json` holds every spec, the format `version` of the metadata
//! ([`FORMAT_VERSION`]) and the generation of the journal that continues it (`journal`; 0 in
//! files written before the journal existed, which are read as they are). A journal holds
//! changes of the current version only: a snapshot of an older version (1, written before
//! metadata changes were atomic) is read as it is, and its first change writes the whole state
//! as a snapshot of the current version, which the journal then continues. Once the journal outgrows the snapshot (and [`COMPACT_MIN_BYTES`]), the whole
//! state is written as a new snapshot of the next generation (a temporary file, fsynced,
//! renamed over the old one, the directory fsynced), then an empty journal of that generation
//! replaces the old journal the same way. Compaction is thus amortized: creating N topics
//! costs O(N) in total.
//!
//! **Opening**, after any crash:
//! * a journal of an older generation than the snapshot is one a crash interrupted a
//!   compaction after: the snapshot already holds its changes, and it is ignored (and
//!   replaced at the next write);
//! * the entries are applied in order to the snapshot. The first entry that is incomplete or
//!   fails its CRC ends the journal when no valid entry follows it: a torn tail (an append that
//!   a crash cut short, never acknowledged) is cut off, and logged. A damaged entry followed by
//!   valid ones, a damaged header, or a journal newer than the snapshot is damage from outside:
//!   the store refuses to open ([`StoreError::Damaged`]) rather than forget acknowledged
//!   changes, as it does for a damaged snapshot;
//! * leftover temporary files are removed.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use fluvio_wire::sc::{PartitionSpec, SpuSpec, TopicSpec};
use serde::{Deserialize, Serialize};
use tracing::{info, warn};

/// What the SC must remember about a partition's replication across restarts: the current
/// leader epoch and the in-sync replicas, from which a new leader may be elected without
/// losing a committed record.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct PartitionReplication {
    /// Leader epoch; bumped by every election.
    pub epoch: i32,
    /// In-sync replicas, leader included.
    pub isr: Vec<i32>,
}

/// Why the store could not be loaded or saved.
#[derive(Debug, thiserror::Error)]
pub(crate) enum StoreError {
    #[error("cannot access metadata file {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("metadata file {path} is corrupt: {source}")]
    Corrupt { path: PathBuf, source: serde_json::Error },
    #[error("metadata file {path} is damaged at byte {position}: {reason}")]
    Damaged { path: PathBuf, position: usize, reason: String },
}

/// The snapshot's file name.
pub(crate) const SNAPSHOT_FILE: &str = "metadata.json";
/// The journal's file name.
pub(crate) const JOURNAL_FILE: &str = "metadata.journal";
const JOURNAL_MAGIC: &[u8; 8] = b"FLVMJRN1";
const JOURNAL_HEADER_LEN: usize = 16;
const ENTRY_HEADER_LEN: usize = 8;
/// No change is anywhere near this large; a length beyond it is damage.
const MAX_ENTRY_LEN: usize = 1 << 30;
/// The journal is compacted into a new snapshot once it is larger than the snapshot and than
/// this: small clusters replay at most this much at start.
pub(crate) const COMPACT_MIN_BYTES: u64 = 1 << 20;
/// The format version of the metadata this code writes. Version 2 metadata is written only
/// by atomic changes, so a topic stored without partitions is one waiting for enough SPUs to
/// be placed (`InsufficientResources`); in older metadata it may be a creation a failed write
/// cut short ([`MetadataFiles::loaded_version`]). The snapshot records it; a journal holds only
/// changes of this version (it continues a snapshot of this version, or an empty state), so a
/// snapshot of an older version is replaced by one of this version at its first change.
pub(crate) const FORMAT_VERSION: u32 = 2;

/// Every spec, as the snapshot holds them. Statuses describe the running cluster and are
/// rebuilt at start.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct PersistedState {
    pub version: u32,
    /// The generation of the journal that continues this snapshot.
    #[serde(default)]
    pub journal: u64,
    pub topics: BTreeMap<String, TopicSpec>,
    pub partitions: BTreeMap<String, PartitionSpec>,
    pub spus: BTreeMap<String, SpuSpec>,
    #[serde(default)]
    pub replication: BTreeMap<String, PartitionReplication>,
}

/// One committed change: the new value of every object it touched, `None` for one removed.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct JournalEntry {
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub topics: BTreeMap<String, Option<TopicSpec>>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub partitions: BTreeMap<String, Option<PartitionSpec>>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub spus: BTreeMap<String, Option<SpuSpec>>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub replication: BTreeMap<String, Option<PartitionReplication>>,
}

impl JournalEntry {
    /// True when the change touched nothing that is stored.
    pub(crate) fn is_empty(&self) -> bool {
        self.topics.is_empty() && self.partitions.is_empty() && self.spus.is_empty() && self.replication.is_empty()
    }

    fn apply_to(self, state: &mut PersistedState) {
        fn apply<V>(changes: BTreeMap<String, Option<V>>, map: &mut BTreeMap<String, V>) {
            for (name, value) in changes {
                match value {
                    Some(value) => map.insert(name, value),
                    None => map.remove(&name),
                };
            }
        }
        apply(self.topics, &mut state.topics);
        apply(self.partitions, &mut state.partitions);
        apply(self.spus, &mut state.spus);
        apply(self.replication, &mut state.replication);
    }
}

/// The open journal: appended to at `len`.
struct Journal {
    file: File,
    len: u64,
}

/// What opening found of the journal.
enum Replayed {
    /// Replayed, and ready for appends.
    Ready(Journal),
    /// None that continues the snapshot (none at all, or a stale one).
    Absent,
    /// Replayed, but its torn tail could not be cut: no append may follow it.
    Unusable,
}

/// The snapshot and journal of one SC, open for writing.
pub(crate) struct MetadataFiles {
    dir: PathBuf,
    /// The generation of the snapshot on disk (and of the journal that continues it).
    generation: u64,
    /// `None` when there is no usable journal (it could not be created, or a failed write
    /// could not be cut off): the next write compacts, which starts a new one.
    journal: Option<Journal>,
    snapshot_len: u64,
    /// The journal is compacted once it is larger than this and than the snapshot.
    compact_min: u64,
    /// A change was made visible although it could not be stored (see
    /// `Transaction::commit_unsaved_ok`): the next write stores the whole state.
    unsaved: bool,
    /// The format version of the metadata as it was opened (0: there was none).
    loaded_version: u32,
    /// The snapshot is of an older format version: the next write replaces it by a snapshot of
    /// [`FORMAT_VERSION`] rather than append changes of this version to it.
    upgrade: bool,
    /// Test hooks: injected failures and crashes.
    #[cfg(test)]
    pub(crate) faults: Faults,
}

/// Where a test may stop a write as a crash would (see [`Faults::crash_at`]).
#[cfg(test)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// Half of a journal entry is written.
    EntryHalfWritten,
    /// A journal entry is written, not yet fdatasynced.
    EntryWritten,
    /// The new snapshot is written and fsynced under its temporary name.
    SnapshotWritten,
    /// The new snapshot replaced the old one.
    SnapshotRenamed,
    /// The new empty journal is written and fsynced under its temporary name.
    JournalWritten,
}

/// Test hooks.
#[cfg(test)]
#[derive(Debug, Default)]
pub(crate) struct Faults {
    /// Every write fails with "no space left on device" before writing anything.
    pub fail_writes: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// A journal append writes half of its entry, then fails with "no space left on device".
    pub fail_half_way: std::sync::atomic::AtomicBool,
    /// Panics at this step, leaving the files as a crash would.
    pub crash_at: parking_lot::Mutex<Option<Step>>,
}

impl MetadataFiles {
    /// Opens the files in `dir` (created if missing) and returns the state they hold.
    pub(crate) fn open(dir: &Path) -> Result<(Self, PersistedState), StoreError> {
        fs::create_dir_all(dir).map_err(io_error(dir))?;
        let snapshot_path = dir.join(SNAPSHOT_FILE);
        let journal_path = dir.join(JOURNAL_FILE);
        // Writes a crash interrupted before their rename: never read, in the way of nothing.
        for path in [&snapshot_path, &journal_path] {
            let _ = fs::remove_file(temporary_path(path));
        }
        let (mut state, snapshot_len, snapshot_version) = match fs::read(&snapshot_path) {
            Ok(bytes) => {
                let state: PersistedState = serde_json::from_slice(&bytes)
                    .map_err(|source| StoreError::Corrupt { path: snapshot_path.clone(), source })?;
                let version = state.version;
                (state, bytes.len() as u64, Some(version))
            }
            Err(err) if err.kind() == io::ErrorKind::NotFound => (PersistedState::default(), 0, None),
            Err(source) => return Err(StoreError::Io { path: snapshot_path, source }),
        };
        let generation = state.journal;
        let mut files = Self {
            dir: dir.to_path_buf(),
            generation,
            journal: None,
            snapshot_len,
            compact_min: COMPACT_MIN_BYTES,
            unsaved: false,
            loaded_version: 0,
            upgrade: snapshot_version.is_some_and(|version| version < FORMAT_VERSION),
            #[cfg(test)]
            faults: Faults::default(),
        };
        let replayed = files.replay(&mut state)?;
        files.loaded_version = match (snapshot_version, &replayed) {
            (Some(version), _) => version,
            // A journal without a snapshot continues the empty state: its changes are all of
            // this version.
            (None, Replayed::Ready(_) | Replayed::Unusable) => FORMAT_VERSION,
            (None, Replayed::Absent) => 0,
        };
        files.journal = match replayed {
            Replayed::Ready(journal) => Some(journal),
            // Best effort: without a journal the next write compacts, which creates one.
            Replayed::Absent => files.create_journal().ok(),
            // It holds changes the snapshot lacks: kept until a compaction stores them.
            Replayed::Unusable => None,
        };
        Ok((files, state))
    }

    /// The format version of the metadata as it was opened: the snapshot's, else
    /// [`FORMAT_VERSION`] for a journal alone, else 0 (there was none).
    pub(crate) fn loaded_version(&self) -> u32 {
        self.loaded_version
    }

    /// Applies the journal to `state`.
    fn replay(&self, state: &mut PersistedState) -> Result<Replayed, StoreError> {
        let path = self.journal_path();
        let file = match OpenOptions::new().read(true).write(true).open(&path) {
            Ok(file) => file,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(Replayed::Absent),
            Err(source) => return Err(StoreError::Io { path, source }),
        };
        let bytes = fs::read(&path).map_err(io_error(&path))?;
        let damaged = |position: usize, reason: String| StoreError::Damaged { path: path.clone(), position, reason };
        if bytes.len() < JOURNAL_HEADER_LEN || &bytes[..8] != JOURNAL_MAGIC {
            return Err(damaged(0, "not a metadata journal (bad header)".into()));
        }
        let generation = u64::from_be_bytes(bytes[8..16].try_into().expect("8 bytes"));
        if generation < self.generation {
            info!(path = %path.display(), "ignoring a journal the snapshot already holds (a compaction was interrupted)");
            return Ok(Replayed::Absent);
        }
        if generation > self.generation {
            return Err(damaged(
                8,
                format!(
                    "the journal continues snapshot generation {generation} but {} is of generation {}",
                    SNAPSHOT_FILE, self.generation
                ),
            ));
        }
        let mut at = JOURNAL_HEADER_LEN;
        let mut entries = 0usize;
        while at < bytes.len() {
            let Some((payload, next)) = entry_at(&bytes, at) else {
                if (at + 1..bytes.len()).any(|later| entry_at(&bytes, later).is_some()) {
                    return Err(damaged(at, "a damaged entry followed by valid ones".into()));
                }
                break;
            };
            let entry: JournalEntry = serde_json::from_slice(payload)
                .map_err(|err| damaged(at, format!("an entry with a valid checksum does not parse: {err}")))?;
            entry.apply_to(state);
            entries += 1;
            at = next;
        }
        if at < bytes.len() {
            let cut = bytes.len() - at;
            warn!(path = %path.display(), position = at, bytes = cut, "cutting a torn journal tail (a change a crash interrupted, never acknowledged)");
            if let Err(err) = file.set_len(at as u64).and_then(|()| file.sync_data()) {
                warn!(path = %path.display(), %err, "could not cut the torn tail; the next change rewrites the metadata");
                return Ok(Replayed::Unusable);
            }
        }
        if entries > 0 {
            info!(path = %path.display(), entries, "metadata journal replayed");
        }
        Ok(Replayed::Ready(Journal { file, len: at as u64 }))
    }

    /// Stores a committed change: appended to the journal (compacting it when it outgrew the
    /// snapshot), or, when the journal is unusable, an earlier change was left unsaved or the
    /// snapshot is of an older format version, as a new snapshot of `state()`, the whole state
    /// after the change. On error nothing of the change is on disk.
    pub(crate) fn write(
        &mut self,
        entry: &JournalEntry,
        state: impl FnOnce() -> PersistedState,
    ) -> Result<(), StoreError> {
        if self.unsaved || self.upgrade || self.journal.is_none() {
            self.compact(state())?;
            self.unsaved = false;
            return Ok(());
        }
        self.append(entry)?;
        let journal_len = self.journal.as_ref().map_or(0, |j| j.len);
        if journal_len > self.compact_min.max(self.snapshot_len)
            && let Err(err) = self.compact(state())
        {
            // The change is in the journal; compaction is tried again after the next one.
            warn!(%err, "could not compact the metadata journal");
        }
        Ok(())
    }

    /// Remembers that a change was made visible without being stored: the next write stores
    /// the whole state.
    pub(crate) fn mark_unsaved(&mut self) {
        self.unsaved = true;
    }

    /// Writes `state` as a new snapshot and starts an empty journal, when the journal holds
    /// anything (or something is unsaved). Best effort at a clean stop: restarts replay less.
    /// A snapshot of an older format version that nothing changed stays as it is.
    pub(crate) fn checkpoint(&mut self, state: impl FnOnce() -> PersistedState) -> Result<(), StoreError> {
        let empty = self.journal.as_ref().is_some_and(|j| j.len == JOURNAL_HEADER_LEN as u64);
        if empty && !self.unsaved {
            return Ok(());
        }
        self.compact(state())?;
        self.unsaved = false;
        Ok(())
    }

    /// Appends one entry and fdatasyncs it; a failed write is cut off again.
    fn append(&mut self, entry: &JournalEntry) -> Result<(), StoreError> {
        let path = self.journal_path();
        let payload = serde_json::to_vec(entry).map_err(|source| StoreError::Corrupt { path: path.clone(), source })?;
        let frame = encode_entry(&payload);
        #[cfg(test)]
        let faults = &self.faults;
        let Some(journal) = self.journal.as_mut() else {
            return Err(StoreError::Io { path, source: io::Error::other("no journal") });
        };
        let at = journal.len;
        let written = (|| {
            #[cfg(test)]
            {
                faults.fail()?;
                if faults.fail_half_way.load(std::sync::atomic::Ordering::Relaxed) {
                    journal.file.write_all_at(&frame[..frame.len() / 2], at)?;
                    return Err(io::Error::from_raw_os_error(libc::ENOSPC));
                }
                if faults.crash_at(Step::EntryHalfWritten) {
                    journal.file.write_all_at(&frame[..frame.len() / 2], at)?;
                    panic!("simulated crash");
                }
            }
            journal.file.write_all_at(&frame, at)?;
            #[cfg(test)]
            if faults.crash_at(Step::EntryWritten) {
                panic!("simulated crash");
            }
            journal.file.sync_data()
        })();
        match written {
            Ok(()) => {
                journal.len += frame.len() as u64;
                Ok(())
            }
            Err(source) => {
                // Whatever part of the entry reached the file must never be replayed: cut it.
                // Should even that fail, the journal is dropped and the next write replaces it
                // by a new snapshot (a crash before then would replay a complete entry that was
                // refused: the rare case of a write and a truncation failing together).
                if let Err(err) = journal.file.set_len(at).and_then(|()| journal.file.sync_data()) {
                    warn!(path = %path.display(), %err, "could not cut a failed journal write; the next change rewrites the metadata");
                    self.journal = None;
                }
                Err(StoreError::Io { path, source })
            }
        }
    }

    /// Writes `state` as the snapshot of the next generation, then starts an empty journal of
    /// that generation. Fails (with nothing changed on disk) only when the snapshot cannot be
    /// written; once it is in place, the change it holds is stored, and a failure to start
    /// the new journal only leaves the next write to compact again.
    fn compact(&mut self, mut state: PersistedState) -> Result<(), StoreError> {
        let next = self.generation + 1;
        state.version = FORMAT_VERSION;
        state.journal = next;
        let path = self.dir.join(SNAPSHOT_FILE);
        let json =
            serde_json::to_vec_pretty(&state).map_err(|source| StoreError::Corrupt { path: path.clone(), source })?;
        let temporary = temporary_path(&path);
        let written = self.write_new_file(&temporary, &json).and_then(|()| {
            #[cfg(test)]
            if self.faults.crash_at(Step::SnapshotWritten) {
                panic!("simulated crash");
            }
            fs::rename(&temporary, &path)
        });
        if let Err(source) = written {
            let _ = fs::remove_file(&temporary);
            return Err(StoreError::Io { path, source });
        }
        // The snapshot holds everything: the old journal is stale from here on.
        self.generation = next;
        self.upgrade = false;
        self.snapshot_len = json.len() as u64;
        self.journal = None;
        #[cfg(test)]
        if self.faults.crash_at(Step::SnapshotRenamed) {
            panic!("simulated crash");
        }
        // The new journal may become durable only after the snapshot it continues: should the
        // directory not sync, the next write compacts again rather than risk a journal that
        // continues a snapshot a power loss took back.
        if let Err(err) = sync_dir(&self.dir) {
            warn!(dir = %self.dir.display(), %err, "could not fsync the metadata directory");
            return Ok(());
        }
        match self.create_journal() {
            Ok(journal) => self.journal = Some(journal),
            Err(err) => warn!(%err, "could not start a new metadata journal; the next change rewrites the metadata"),
        }
        Ok(())
    }

    /// Replaces the journal file by an empty one of the current generation.
    fn create_journal(&self) -> Result<Journal, StoreError> {
        let path = self.journal_path();
        let temporary = temporary_path(&path);
        let mut header = Vec::with_capacity(JOURNAL_HEADER_LEN);
        header.extend_from_slice(JOURNAL_MAGIC);
        header.extend_from_slice(&self.generation.to_be_bytes());
        let created = self
            .write_new_file(&temporary, &header)
            .and_then(|()| {
                #[cfg(test)]
                if self.faults.crash_at(Step::JournalWritten) {
                    panic!("simulated crash");
                }
                fs::rename(&temporary, &path)
            })
            .and_then(|()| sync_dir(&self.dir))
            .and_then(|()| OpenOptions::new().read(true).write(true).open(&path));
        match created {
            Ok(file) => Ok(Journal { file, len: JOURNAL_HEADER_LEN as u64 }),
            Err(source) => {
                let _ = fs::remove_file(&temporary);
                Err(StoreError::Io { path, source })
            }
        }
    }

    /// Creates (or truncates) `path` with `bytes`, fsynced.
    fn write_new_file(&self, path: &Path, bytes: &[u8]) -> io::Result<()> {
        #[cfg(test)]
        self.faults.fail()?;
        let file = File::create(path)?;
        file.write_all_at(bytes, 0)?;
        file.sync_all()
    }

    fn journal_path(&self) -> PathBuf {
        self.dir.join(JOURNAL_FILE)
    }
}

#[cfg(test)]
impl Faults {
    fn fail(&self) -> io::Result<()> {
        if self.fail_writes.load(std::sync::atomic::Ordering::Relaxed) {
            return Err(io::Error::from_raw_os_error(libc::ENOSPC));
        }
        Ok(())
    }

    fn crash_at(&self, step: Step) -> bool {
        *self.crash_at.lock() == Some(step)
    }
}

/// The frame of an entry: length, CRC-32C of length and payload, payload.
fn encode_entry(payload: &[u8]) -> Vec<u8> {
    let len = (payload.len() as u32).to_be_bytes();
    let crc = crc32c::crc32c_append(crc32c::crc32c(&len), payload);
    let mut frame = Vec::with_capacity(ENTRY_HEADER_LEN + payload.len());
    frame.extend_from_slice(&len);
    frame.extend_from_slice(&crc.to_be_bytes());
    frame.extend_from_slice(payload);
    frame
}

/// The payload of the valid entry starting at `at`, and where the next one starts; `None` if
/// the bytes there are not a whole entry with a matching CRC.
fn entry_at(bytes: &[u8], at: usize) -> Option<(&[u8], usize)> {
    let header = bytes.get(at..at.checked_add(ENTRY_HEADER_LEN)?)?;
    let len = u32::from_be_bytes(header[..4].try_into().ok()?) as usize;
    let crc = u32::from_be_bytes(header[4..].try_into().ok()?);
    if len == 0 || len > MAX_ENTRY_LEN {
        return None;
    }
    let end = at + ENTRY_HEADER_LEN + len;
    let payload = bytes.get(at + ENTRY_HEADER_LEN..end)?;
    (crc32c::crc32c_append(crc32c::crc32c(&header[..4]), payload) == crc).then_some((payload, end))
}

/// Where a file is written before it is renamed into place.
fn temporary_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".tmp");
    path.with_file_name(name)
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> StoreError + '_ {
    move |source| StoreError::Io { path: path.to_path_buf(), source }
}

#[cfg(test)]
mod tests {
    use std::panic::{AssertUnwindSafe, catch_unwind};
    use std::sync::atomic::Ordering;

    use fluvio_wire::sc::TopicSpec;

    use super::*;

    /// What a change to topic `name` stores: the topic (or its removal).
    fn topic_change(name: &str, partitions: Option<u32>) -> JournalEntry {
        let mut entry = JournalEntry::default();
        entry.topics.insert(name.to_string(), partitions.map(|p| TopicSpec::computed(p, 1)));
        entry
    }

    /// Applies and stores a change, as the store does: `state` is the state in memory.
    fn change(files: &mut MetadataFiles, state: &mut PersistedState, entry: JournalEntry) -> Result<(), StoreError> {
        let mut next = state.clone();
        entry.clone().apply_to(&mut next);
        files.write(&entry, || next.clone())?;
        *state = next;
        Ok(())
    }

    fn reopen(dir: &Path) -> PersistedState {
        let (_, state) = MetadataFiles::open(dir).expect("opens");
        state
    }

    /// The state without the file bookkeeping, for comparisons.
    fn specs(mut state: PersistedState) -> PersistedState {
        state.version = 0;
        state.journal = 0;
        state
    }

    fn journal_len(dir: &Path) -> u64 {
        fs::metadata(dir.join(JOURNAL_FILE)).unwrap().len()
    }

    /// Runs `f`, which panics at the crash point set in `files`; the files stay as they are.
    fn crash(files: MetadataFiles, step: Step, f: impl FnOnce(MetadataFiles)) {
        *files.faults.crash_at.lock() = Some(step);
        let crashed = catch_unwind(AssertUnwindSafe(|| f(files)));
        assert!(crashed.is_err(), "the write reached {step:?}");
    }

    #[test]
    fn changes_are_appended_and_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let (mut files, mut state) = MetadataFiles::open(dir.path()).unwrap();
        for i in 0..5 {
            change(&mut files, &mut state, topic_change(&format!("t{i}"), Some(1))).unwrap();
        }
        change(&mut files, &mut state, topic_change("t2", None)).unwrap();
        assert!(!dir.path().join(SNAPSHOT_FILE).exists(), "no snapshot rewritten for small changes");
        let reopened = reopen(dir.path());
        assert_eq!(specs(reopened.clone()), specs(state));
        assert_eq!(reopened.topics.keys().collect::<Vec<_>>(), ["t0", "t1", "t3", "t4"]);
    }

    #[test]
    fn a_torn_tail_is_cut_and_the_journal_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let (mut files, mut state) = MetadataFiles::open(dir.path()).unwrap();
        change(&mut files, &mut state, topic_change("kept", Some(1))).unwrap();
        let len = journal_len(dir.path());
        crash(files, Step::EntryHalfWritten, |mut files| {
            let _ = files.write(&topic_change("torn", Some(1)), PersistedState::default);
        });
        assert!(journal_len(dir.path()) > len, "half an entry is in the file");

        let (mut files, mut reopened) = MetadataFiles::open(dir.path()).unwrap();
        assert_eq!(specs(reopened.clone()), specs(state.clone()), "the torn change is not there");
        assert_eq!(journal_len(dir.path()), len, "the torn tail was cut");
        change(&mut files, &mut reopened, topic_change("later", Some(1))).unwrap();
        drop(files);
        assert_eq!(reopen(dir.path()).topics.keys().collect::<Vec<_>>(), ["kept", "later"]);
    }

    #[test]
    fn garbage_after_the_last_entry_is_a_torn_tail() {
        let dir = tempfile::tempdir().unwrap();
        let (mut files, mut state) = MetadataFiles::open(dir.path()).unwrap();
        change(&mut files, &mut state, topic_change("kept", Some(1))).unwrap();
        drop(files);
        let len = journal_len(dir.path());
        // What a power loss can leave after an append: the file grew, its bytes did not arrive.
        let file = OpenOptions::new().append(true).open(dir.path().join(JOURNAL_FILE)).unwrap();
        file.write_all_at(&[0; 700], len).unwrap();
        assert_eq!(specs(reopen(dir.path())), specs(state));
        assert_eq!(journal_len(dir.path()), len);
    }

    #[test]
    fn an_entry_written_but_not_synced_before_a_crash_may_be_kept() {
        // Never acknowledged (its change was not visible yet), but whole: a crash of the process
        // keeps it, as it would an acknowledged one; either outcome is consistent.
        let dir = tempfile::tempdir().unwrap();
        let (files, _) = MetadataFiles::open(dir.path()).unwrap();
        crash(files, Step::EntryWritten, |mut files| {
            let _ = files.write(&topic_change("whole", Some(1)), PersistedState::default);
        });
        assert!(reopen(dir.path()).topics.contains_key("whole"));
    }

    #[test]
    fn damage_before_valid_entries_refuses_to_open() {
        let dir = tempfile::tempdir().unwrap();
        let (mut files, mut state) = MetadataFiles::open(dir.path()).unwrap();
        for name in ["a", "b", "c"] {
            change(&mut files, &mut state, topic_change(name, Some(1))).unwrap();
        }
        drop(files);
        let path = dir.path().join(JOURNAL_FILE);
        let mut bytes = fs::read(&path).unwrap();
        let damaged_at = JOURNAL_HEADER_LEN + ENTRY_HEADER_LEN + 3;
        bytes[damaged_at] ^= 0x20;
        fs::write(&path, &bytes).unwrap();
        match MetadataFiles::open(dir.path()) {
            Err(StoreError::Damaged { position, .. }) => assert_eq!(position, JOURNAL_HEADER_LEN),
            Err(other) => panic!("{other}"),
            Ok(_) => panic!("a damaged journal must not be read as a shorter one"),
        }
        assert_eq!(fs::read(&path).unwrap(), bytes, "nothing was cut");
    }

    #[test]
    fn a_failed_append_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let (mut files, mut state) = MetadataFiles::open(dir.path()).unwrap();
        change(&mut files, &mut state, topic_change("kept", Some(1))).unwrap();
        let len = journal_len(dir.path());
        // Half of the entry reaches the file, then the disk is full.
        files.faults.fail_half_way.store(true, Ordering::Relaxed);
        assert!(change(&mut files, &mut state, topic_change("failed", Some(1))).is_err());
        assert_eq!(journal_len(dir.path()), len, "the half-written entry was cut");
        files.faults.fail_half_way.store(false, Ordering::Relaxed);
        files.faults.fail_writes.store(true, Ordering::Relaxed);
        assert!(change(&mut files, &mut state, topic_change("failed", Some(1))).is_err());
        assert_eq!(journal_len(dir.path()), len);
        files.faults.fail_writes.store(false, Ordering::Relaxed);
        change(&mut files, &mut state, topic_change("later", Some(1))).unwrap();
        drop(files);
        assert_eq!(reopen(dir.path()).topics.keys().collect::<Vec<_>>(), ["kept", "later"]);
    }

    #[test]
    fn the_journal_is_compacted_once_it_outgrows_the_snapshot() {
        let dir = tempfile::tempdir().unwrap();
        let (mut files, mut state) = MetadataFiles::open(dir.path()).unwrap();
        files.compact_min = 4096;
        let mut generations = vec![files.generation];
        for i in 0..400 {
            change(&mut files, &mut state, topic_change(&format!("topic-{i:04}"), Some(1))).unwrap();
            if generations.last() != Some(&files.generation) {
                generations.push(files.generation);
            }
            assert!(journal_len(dir.path()) <= files.compact_min.max(files.snapshot_len) + 200);
        }
        // Each compaction waits for the journal to outgrow the last snapshot: about one per
        // doubling of the state, so the bytes written stay proportional to the changes.
        assert!((3..=8).contains(&(generations.len() - 1)), "{generations:?}");
        drop(files);
        let reopened = reopen(dir.path());
        assert_eq!(reopened.topics.len(), 400);
        assert_eq!(specs(reopened), specs(state));
    }

    #[test]
    fn a_crash_at_any_step_of_a_compaction_loses_nothing() {
        for step in [Step::SnapshotWritten, Step::SnapshotRenamed, Step::JournalWritten] {
            let dir = tempfile::tempdir().unwrap();
            let (mut files, mut state) = MetadataFiles::open(dir.path()).unwrap();
            // A snapshot and a journal after it, then a compaction that a crash interrupts.
            change(&mut files, &mut state, topic_change("before", Some(1))).unwrap();
            files.checkpoint(|| state.clone()).unwrap();
            for name in ["a", "b"] {
                change(&mut files, &mut state, topic_change(name, Some(2))).unwrap();
            }
            crash(files, step, |mut files| {
                let _ = files.checkpoint(|| state.clone());
            });

            let (mut files, mut reopened) = MetadataFiles::open(dir.path()).unwrap();
            assert_eq!(specs(reopened.clone()), specs(state.clone()), "{step:?}");
            for name in [SNAPSHOT_FILE, JOURNAL_FILE] {
                assert!(!temporary_path(&dir.path().join(name)).exists(), "{step:?}: leftover {name}.tmp");
            }
            // And the files go on from there.
            change(&mut files, &mut reopened, topic_change("after", Some(1))).unwrap();
            drop(files);
            let names: Vec<String> = reopen(dir.path()).topics.into_keys().collect();
            assert_eq!(names, ["a", "after", "b", "before"], "{step:?}");
        }
    }

    #[test]
    fn a_journal_newer_than_its_snapshot_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (mut files, mut state) = MetadataFiles::open(dir.path()).unwrap();
        change(&mut files, &mut state, topic_change("a", Some(1))).unwrap();
        let old_snapshot = serde_json::to_vec(&PersistedState { version: 1, ..PersistedState::default() }).unwrap();
        files.checkpoint(|| state.clone()).unwrap();
        drop(files);
        // An older snapshot put back by hand, say from a backup: the journal continues another.
        fs::write(dir.path().join(SNAPSHOT_FILE), old_snapshot).unwrap();
        assert!(matches!(MetadataFiles::open(dir.path()), Err(StoreError::Damaged { .. })));
    }

    #[test]
    fn a_snapshot_from_before_the_journal_is_read_and_continued() {
        let dir = tempfile::tempdir().unwrap();
        // What versions without a journal wrote at format version 2: no `journal` field.
        let old = r#"{
          "version": 2,
          "topics": {"old": {"replicas": {"computed": {"partitions": 1, "replicationFactor": 1}}}},
          "partitions": {},
          "spus": {}
        }"#;
        fs::write(dir.path().join(SNAPSHOT_FILE), old).unwrap();
        let (mut files, mut state) = MetadataFiles::open(dir.path()).unwrap();
        assert_eq!((state.journal, files.loaded_version()), (0, FORMAT_VERSION));
        assert!(state.topics.contains_key("old"));
        change(&mut files, &mut state, topic_change("new", Some(1))).unwrap();
        assert_eq!(fs::read_to_string(dir.path().join(SNAPSHOT_FILE)).unwrap(), old, "the old file is kept as is");
        drop(files);
        assert_eq!(reopen(dir.path()).topics.keys().collect::<Vec<_>>(), ["new", "old"]);
        let (mut files, state) = MetadataFiles::open(dir.path()).unwrap();
        assert_eq!(files.loaded_version(), FORMAT_VERSION);
        files.checkpoint(|| state.clone()).unwrap();
        let snapshot: PersistedState =
            serde_json::from_slice(&fs::read(dir.path().join(SNAPSHOT_FILE)).unwrap()).unwrap();
        assert_eq!((snapshot.version, snapshot.journal), (FORMAT_VERSION, 1));
        assert_eq!(snapshot.topics.keys().collect::<Vec<_>>(), ["new", "old"]);
    }

    /// A version 1 snapshot (a topic in it may lack partitions because a write failed) is never
    /// continued by changes of the current version: its first change writes the whole state as a
    /// snapshot of the current version. Until then it stays as it is, a clean stop included.
    #[test]
    fn a_version_1_snapshot_is_replaced_at_its_first_change() {
        let dir = tempfile::tempdir().unwrap();
        let old = r#"{
          "version": 1,
          "topics": {"half-made": {"replicas": {"computed": {"partitions": 1, "replicationFactor": 1}}}},
          "partitions": {},
          "spus": {}
        }"#;
        fs::write(dir.path().join(SNAPSHOT_FILE), old).unwrap();
        let (mut files, mut state) = MetadataFiles::open(dir.path()).unwrap();
        assert_eq!(files.loaded_version(), 1);
        files.checkpoint(|| state.clone()).unwrap();
        assert_eq!(
            fs::read_to_string(dir.path().join(SNAPSHOT_FILE)).unwrap(),
            old,
            "nothing changed, nothing written"
        );
        drop(files);

        let (mut files, _) = MetadataFiles::open(dir.path()).unwrap();
        assert_eq!(files.loaded_version(), 1);
        change(&mut files, &mut state, topic_change("half-made", None)).unwrap();
        let snapshot: PersistedState =
            serde_json::from_slice(&fs::read(dir.path().join(SNAPSHOT_FILE)).unwrap()).unwrap();
        assert_eq!(snapshot.version, FORMAT_VERSION);
        assert!(snapshot.topics.is_empty());
        // Later changes go to the journal that continues the new snapshot.
        change(&mut files, &mut state, topic_change("waiting", Some(1))).unwrap();
        assert!(journal_len(dir.path()) > JOURNAL_HEADER_LEN as u64);
        drop(files);
        let (files, reopened) = MetadataFiles::open(dir.path()).unwrap();
        assert_eq!(files.loaded_version(), FORMAT_VERSION);
        assert_eq!(reopened.topics.keys().collect::<Vec<_>>(), ["waiting"]);
    }

    /// Changes in a journal with no snapshot (a new directory, stopped before any compaction)
    /// are all of the current version; an empty directory has none.
    #[test]
    fn a_journal_alone_is_of_the_current_version() {
        let dir = tempfile::tempdir().unwrap();
        let (mut files, mut state) = MetadataFiles::open(dir.path()).unwrap();
        assert_eq!(files.loaded_version(), 0);
        change(&mut files, &mut state, topic_change("t", Some(1))).unwrap();
        drop(files);
        assert!(!dir.path().join(SNAPSHOT_FILE).exists());
        let (files, _) = MetadataFiles::open(dir.path()).unwrap();
        assert_eq!(files.loaded_version(), FORMAT_VERSION);
    }
}
