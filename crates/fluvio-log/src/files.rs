//! A bounded pool of open segment files, shared by the logs of a process, so that the number of
//! partitions is not bounded by the open-file limit.
//!
//! A segment names its files through [`PooledFile`] handles; a file is opened when it is used
//! and stays open, in the pool, until the pool needs room for another (the least recently used
//! is closed first). Every operation of a log holds the file it works on for its duration, so a
//! file is never closed under a read or a write; the pool may hold a few more files than its
//! capacity while such operations finish.
//!
//! Durability is the same as with every file kept open: a file that was written since it was
//! last fsynced is fsynced before the pool closes it, so a later [`PooledFile::sync`] (which
//! only fsyncs files written since) never misses a write made through a handle closed meanwhile;
//! should that fsync fail, the next `sync` of the file reports the error. A file whose handle is
//! dropped (its segment closed with its log, or deleted) is closed without an fsync, as any file
//! is when its owner closes it.

use std::collections::{BTreeMap, HashMap};
use std::fs::{File, OpenOptions};
use std::io;
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

/// The capacity of [`FilePool::shared`] when [`FilePool::set_capacity`] was never called:
/// enough for hundreds of partitions written at once, well below common open-file limits.
pub const DEFAULT_POOL_CAPACITY: usize = 512;
/// The smallest capacity a pool takes: a log needs a few files open at once (the active
/// segment's log and index, a segment being read).
const MIN_CAPACITY: usize = 4;

/// A bounded set of open files, closed least recently used first. See the module docs.
#[derive(Debug)]
pub struct FilePool {
    capacity: AtomicUsize,
    next_id: AtomicU64,
    inner: Mutex<Pool>,
}

#[derive(Debug, Default)]
struct Pool {
    open: HashMap<u64, Slot>,
    /// Use tick → file id, oldest first.
    by_use: BTreeMap<u64, u64>,
    tick: u64,
}

#[derive(Debug)]
struct Slot {
    file: Arc<OpenFile>,
    tick: u64,
}

impl FilePool {
    /// A pool that keeps at most `capacity` files open (at least 4).
    pub fn new(capacity: usize) -> Arc<Self> {
        Arc::new(Self {
            capacity: AtomicUsize::new(capacity.max(MIN_CAPACITY)),
            next_id: AtomicU64::new(0),
            inner: Mutex::new(Pool::default()),
        })
    }

    /// The pool of the logs opened with [`PartitionLog::open`](crate::PartitionLog::open):
    /// one per process, since the open-file limit is one per process.
    pub fn shared() -> &'static Arc<FilePool> {
        static SHARED: OnceLock<Arc<FilePool>> = OnceLock::new();
        SHARED.get_or_init(|| FilePool::new(DEFAULT_POOL_CAPACITY))
    }

    /// Changes how many files the pool keeps open (at least 4); files beyond it are closed as
    /// the pool is next used.
    pub fn set_capacity(&self, capacity: usize) {
        self.capacity.store(capacity.max(MIN_CAPACITY), Ordering::Relaxed);
    }

    /// How many files the pool keeps open at most.
    pub fn capacity(&self) -> usize {
        self.capacity.load(Ordering::Relaxed)
    }

    /// How many files the pool holds open now.
    pub fn open_files(&self) -> usize {
        self.lock().open.len()
    }

    fn lock(&self) -> MutexGuard<'_, Pool> {
        // The pool's state stays consistent at every await-free step; a panic elsewhere
        // while it was held does not make it unusable.
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The open file `id`, if the pool holds it (marked as just used).
    fn get(&self, id: u64) -> Option<Arc<OpenFile>> {
        let mut pool = self.lock();
        pool.tick += 1;
        let tick = pool.tick;
        let slot = pool.open.get_mut(&id)?;
        let previous = std::mem::replace(&mut slot.tick, tick);
        let file = slot.file.clone();
        pool.by_use.remove(&previous);
        pool.by_use.insert(tick, id);
        Some(file)
    }

    /// Adds an open file, closing the least recently used ones beyond the capacity (outside
    /// the lock: closing may fsync).
    fn insert(&self, id: u64, file: Arc<OpenFile>) {
        let evicted = {
            let mut pool = self.lock();
            pool.tick += 1;
            let tick = pool.tick;
            if let Some(old) = pool.open.insert(id, Slot { file, tick }) {
                pool.by_use.remove(&old.tick);
            }
            pool.by_use.insert(tick, id);
            let capacity = self.capacity();
            let mut evicted = Vec::new();
            while pool.open.len() > capacity {
                let Some((_, oldest)) = pool.by_use.pop_first() else { break };
                evicted.extend(pool.open.remove(&oldest).map(|slot| slot.file));
            }
            evicted
        };
        drop(evicted);
    }

    /// Closes the least recently used half of the files (when the process ran out of file
    /// descriptors, for other files or sockets).
    fn shrink(&self) {
        let evicted: Vec<Arc<OpenFile>> = {
            let mut pool = self.lock();
            let keep = pool.open.len() / 2;
            let mut evicted = Vec::new();
            while pool.open.len() > keep {
                let Some((_, oldest)) = pool.by_use.pop_first() else { break };
                evicted.extend(pool.open.remove(&oldest).map(|slot| slot.file));
            }
            evicted
        };
        drop(evicted);
    }

    fn remove(&self, id: u64) {
        let removed = {
            let mut pool = self.lock();
            let removed = pool.open.remove(&id);
            if let Some(slot) = &removed {
                pool.by_use.remove(&slot.tick);
            }
            removed
        };
        drop(removed);
    }
}

/// What the pool knows of a file across its openings.
#[derive(Debug, Default)]
struct FileState {
    /// Written since it was last fsynced.
    dirty: AtomicBool,
    /// Its handle was dropped: no fsync when it is closed.
    released: AtomicBool,
    /// An fsync the pool made before closing the file failed: reported by the next `sync`.
    sync_error: Mutex<Option<io::Error>>,
}

/// An open file of the pool. Closing it fsyncs it if it was written since its last fsync, unless
/// its handle was dropped.
#[derive(Debug)]
pub(crate) struct OpenFile {
    file: File,
    state: Arc<FileState>,
}

impl Deref for OpenFile {
    type Target = File;

    fn deref(&self) -> &File {
        &self.file
    }
}

impl Drop for OpenFile {
    fn drop(&mut self) {
        if !self.state.released.load(Ordering::Acquire)
            && self.state.dirty.swap(false, Ordering::AcqRel)
            && let Err(err) = self.file.sync_data()
        {
            self.state.dirty.store(true, Ordering::Release);
            *self.state.sync_error.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(err);
        }
    }
}

/// How a pooled file is opened again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    /// Read and write (a segment's log).
    ReadWrite,
    /// Write only (the active segment's index).
    Write,
}

/// A file of a log, open when used (see the module docs).
pub(crate) struct PooledFile {
    id: u64,
    path: PathBuf,
    access: Access,
    pool: Arc<FilePool>,
    state: Arc<FileState>,
}

impl std::fmt::Debug for PooledFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PooledFile").field("path", &self.path).field("access", &self.access).finish()
    }
}

impl PooledFile {
    /// A handle for the file at `path`, just opened as `file` (which the pool takes).
    /// `dirty`: it may hold writes that were not fsynced (a file found on disk at start may
    /// hold those of a process that crashed).
    pub(crate) fn new(pool: &Arc<FilePool>, path: PathBuf, access: Access, file: File, dirty: bool) -> Self {
        let id = pool.next_id.fetch_add(1, Ordering::Relaxed);
        let state = Arc::new(FileState { dirty: AtomicBool::new(dirty), ..FileState::default() });
        pool.insert(id, Arc::new(OpenFile { file, state: state.clone() }));
        Self { id, path, access, pool: pool.clone(), state }
    }

    /// The file's path.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The open file, opened again if the pool closed it. Hold it for the whole operation.
    pub(crate) fn open(&self) -> io::Result<Arc<OpenFile>> {
        if let Some(file) = self.pool.get(self.id) {
            return Ok(file);
        }
        let file = match self.reopen() {
            Err(err) if matches!(err.raw_os_error(), Some(EMFILE | ENFILE)) => {
                // Out of file descriptors (sockets count too): make room and try once more.
                self.pool.shrink();
                self.reopen()?
            }
            other => other?,
        };
        let file = Arc::new(OpenFile { file, state: self.state.clone() });
        self.pool.insert(self.id, file.clone());
        Ok(file)
    }

    fn reopen(&self) -> io::Result<File> {
        let mut options = OpenOptions::new();
        match self.access {
            Access::ReadWrite => options.read(true).write(true),
            Access::Write => options.write(true),
        };
        options.open(&self.path)
    }

    /// Records a write (or truncation): the next [`sync`](Self::sync) fsyncs the file. Call it
    /// after the write, before releasing the file.
    pub(crate) fn wrote(&self) {
        self.state.dirty.store(true, Ordering::Release);
    }

    /// fsyncs the file's data if it was written since its last fsync; reports a failed fsync
    /// the pool made when it closed the file.
    pub(crate) fn sync(&self) -> io::Result<()> {
        if let Some(err) = self.state.sync_error.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).take() {
            return Err(err);
        }
        if !self.state.dirty.load(Ordering::Acquire) {
            return Ok(());
        }
        let file = self.open()?;
        // Cleared before the fsync: a write that lands meanwhile marks it again.
        self.state.dirty.store(false, Ordering::Release);
        file.sync_data().inspect_err(|_| self.state.dirty.store(true, Ordering::Release))
    }
}

impl Drop for PooledFile {
    fn drop(&mut self) {
        self.state.released.store(true, Ordering::Release);
        self.pool.remove(self.id);
    }
}

/// "Too many open files" for the process.
const EMFILE: i32 = 24;
/// "Too many open files" for the system.
const ENFILE: i32 = 23;

/// Appends `len` bytes of `file`, read from `position`, to `out`, without zeroing them first.
///
/// A served read is a fresh buffer of up to `max_bytes` (about 1 MiB), and zeroing it before
/// the read overwrites it was about 6% of the embedded cluster's CPU while it streamed 5 KiB
/// records. The bytes are read into the vector's spare capacity, which counts in its length
/// only once the read filled it; on an error or an early end of file, `out` is left as it was.
pub(crate) fn read_appending(file: &File, out: &mut Vec<u8>, len: usize, position: u64) -> io::Result<()> {
    use std::os::fd::AsRawFd;

    out.reserve(len);
    let spare = &mut out.spare_capacity_mut()[..len];
    let mut filled = 0;
    while filled < len {
        let at = position
            .checked_add(filled as u64)
            .and_then(|at| libc::off_t::try_from(at).ok())
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "read position out of range"))?;
        // SAFETY: the pointer and length describe the unfilled part of `spare`, memory `out`
        // owns and nothing else refers to; pread writes at most that many bytes there, and
        // the bytes count as initialised only after it reported writing them.
        let read = unsafe { libc::pread(file.as_raw_fd(), spare[filled..].as_mut_ptr().cast(), len - filled, at) };
        match read {
            0 => return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "failed to fill whole buffer")),
            n if n > 0 => filled += n as usize,
            _ => {
                let err = io::Error::last_os_error();
                if err.kind() != io::ErrorKind::Interrupted {
                    return Err(err);
                }
            }
        }
    }
    let start = out.len();
    // SAFETY: pread initialised the `len` bytes after the current length, within capacity.
    unsafe { out.set_len(start + len) };
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::FileExt;

    use super::*;

    fn file(dir: &Path, name: &str) -> (PathBuf, File) {
        let path = dir.join(name);
        let file = OpenOptions::new().read(true).write(true).create(true).truncate(true).open(&path).unwrap();
        (path, file)
    }

    #[test]
    fn files_beyond_the_capacity_are_closed_and_reopened_on_use() {
        let dir = tempfile::tempdir().unwrap();
        let pool = FilePool::new(4);
        let handles: Vec<PooledFile> = (0..10)
            .map(|i| {
                let (path, file) = file(dir.path(), &format!("f{i}"));
                file.write_all_at(format!("file {i}").as_bytes(), 0).unwrap();
                PooledFile::new(&pool, path, Access::ReadWrite, file, true)
            })
            .collect();
        assert_eq!(pool.open_files(), 4);
        for (i, handle) in handles.iter().enumerate() {
            let file = handle.open().unwrap();
            let mut buf = vec![0; 6];
            file.read_exact_at(&mut buf, 0).unwrap();
            assert_eq!(buf, format!("file {i}").as_bytes());
            assert!(pool.open_files() <= 4);
        }
        drop(handles);
        assert_eq!(pool.open_files(), 0, "dropped handles close their files");
    }

    #[test]
    fn a_file_in_use_stays_open_while_it_is_held() {
        let dir = tempfile::tempdir().unwrap();
        let pool = FilePool::new(4);
        let (path, f) = file(dir.path(), "held");
        let held = PooledFile::new(&pool, path, Access::ReadWrite, f, false);
        let open = held.open().unwrap();
        let others: Vec<PooledFile> = (0..8)
            .map(|i| {
                let (path, f) = file(dir.path(), &format!("o{i}"));
                PooledFile::new(&pool, path, Access::ReadWrite, f, false)
            })
            .collect();
        // Evicted from the pool, but the operation holding it goes on.
        open.write_all_at(b"still open", 0).unwrap();
        held.wrote();
        drop(open);
        drop(others);
        held.sync().unwrap();
    }

    #[test]
    fn only_written_files_are_fsynced() {
        let dir = tempfile::tempdir().unwrap();
        let pool = FilePool::new(4);
        let (path, f) = file(dir.path(), "clean");
        let clean = PooledFile::new(&pool, path.clone(), Access::ReadWrite, f, false);
        std::fs::remove_file(&path).unwrap();
        pool.shrink();
        assert_eq!(pool.open_files(), 0);
        // Not written: nothing to fsync, so the file is not even opened again.
        clean.sync().unwrap();
        clean.wrote();
        assert_eq!(clean.sync().unwrap_err().kind(), io::ErrorKind::NotFound);
    }

    #[test]
    fn read_appending_adds_the_bytes_after_what_the_vector_holds_or_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let (_, file) = file(dir.path(), "data");
        let data: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
        file.write_all_at(&data, 0).unwrap();
        let mut out = b"kept".to_vec();
        read_appending(&file, &mut out, 65_000, 3_000).unwrap();
        assert_eq!(&out[..4], b"kept");
        assert_eq!(&out[4..], &data[3_000..68_000]);
        // Past the end of the file: an error, and the vector as it was.
        let err = read_appending(&file, &mut out, 3_000, 68_000).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
        assert_eq!(out.len(), 65_004);
        read_appending(&file, &mut out, 0, 70_000).unwrap();
        assert_eq!(out.len(), 65_004);
    }
}
