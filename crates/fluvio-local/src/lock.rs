//! The exclusive lock on a cluster's data directory.
//!
//! Two clusters on one directory would both append to the same partition logs and both rewrite
//! the same metadata file, each acknowledging writes the other then overwrites. The lock makes
//! the second one refuse to start instead. It is an OS advisory lock (`flock`) on
//! `<base_dir>/.lock`: the kernel releases it when the holder's process ends, however it ends,
//! so a crashed cluster never leaves a stale lock behind. `flock` locks belong to an open file
//! description, so a second cluster in the same process is refused too.
//!
//! A child process the program spawns shares every open file description from its fork until
//! its `exec` closes the descriptors marked close-on-exec, as ours are. A cluster that stops
//! while another thread of the program is spawning a process therefore keeps its lock for
//! that moment, however short, after its own descriptor is closed. So a lock found held is
//! asked for again for [`TRANSIENT_HOLD`] before the directory is declared in use.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::os::fd::AsRawFd;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::ClusterError;

/// Name of the lock file in the data directory.
pub(crate) const LOCK_FILE_NAME: &str = ".lock";

/// How long a lock found held is asked for again before the directory is declared in use: far
/// longer than a child process takes from its fork to its `exec`, even on a loaded machine.
const TRANSIENT_HOLD: Duration = Duration::from_millis(500);

/// The pause between two attempts.
const RETRY_PAUSE: Duration = Duration::from_millis(10);

/// Holds the lock until dropped. Shared (in an `Arc`) by everything of the cluster that may
/// still touch the directory, so that it is released only once the last of them is gone.
#[derive(Debug)]
pub(crate) struct DirectoryLock {
    _file: File,
}

impl DirectoryLock {
    /// Takes the lock on `base_dir` (which must exist). Blocks for up to [`TRANSIENT_HOLD`]
    /// while it is held.
    ///
    /// Errors: [`ClusterError::DirectoryInUse`] when another cluster holds it,
    /// [`ClusterError::Storage`] when the lock file cannot be opened or locked.
    pub(crate) fn acquire(base_dir: &Path) -> Result<Self, ClusterError> {
        let deadline = Instant::now() + TRANSIENT_HOLD;
        loop {
            match Self::try_acquire(base_dir) {
                Err(ClusterError::DirectoryInUse { .. }) if Instant::now() < deadline => {
                    std::thread::sleep(RETRY_PAUSE)
                }
                result => return result,
            }
        }
    }

    /// Takes the lock on `base_dir` without waiting.
    fn try_acquire(base_dir: &Path) -> Result<Self, ClusterError> {
        let path = base_dir.join(LOCK_FILE_NAME);
        let storage =
            |what: &str, err: std::io::Error| ClusterError::Storage(format!("{what} {}: {err}", path.display()));
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|err| storage("cannot open the lock file", err))?;
        // SAFETY: flock on a descriptor this function owns; no memory is passed.
        let locked = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if locked != 0 {
            let err = std::io::Error::last_os_error();
            if err.raw_os_error() == Some(libc::EWOULDBLOCK) {
                return Err(ClusterError::DirectoryInUse {
                    path: base_dir.to_path_buf(),
                    holder: read_holder(&mut file),
                });
            }
            return Err(storage("cannot lock", err));
        }
        // For the message a refused cluster prints. Best effort: on a full disk the lock holds
        // without it.
        let _ = file.set_len(0).and_then(|()| file.write_all(std::process::id().to_string().as_bytes()));
        Ok(Self { _file: file })
    }
}

/// The process id the holder wrote into the lock file, if readable.
fn read_holder(file: &mut File) -> Option<u32> {
    let mut text = String::new();
    file.rewind().ok()?;
    file.read_to_string(&mut text).ok()?;
    text.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_is_refused_until_the_first_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let first = DirectoryLock::acquire(dir.path()).unwrap();
        match DirectoryLock::acquire(dir.path()) {
            Err(ClusterError::DirectoryInUse { path, holder }) => {
                assert_eq!(path, dir.path());
                assert_eq!(holder, Some(std::process::id()));
            }
            other => panic!("expected DirectoryInUse, got {other:?}"),
        }
        drop(first);
        assert!(dir.path().join(LOCK_FILE_NAME).exists(), "the file stays; only the lock goes");
        DirectoryLock::acquire(dir.path()).expect("free again once released");
    }

    /// What a child process between its fork and its `exec` does: it holds the lock a moment
    /// longer than the cluster that took it.
    #[test]
    fn a_lock_held_for_a_moment_longer_is_waited_for() {
        let dir = tempfile::tempdir().unwrap();
        let first = DirectoryLock::acquire(dir.path()).unwrap();
        let held_by_child = first._file.try_clone().unwrap();
        drop(first);
        let released = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            drop(held_by_child);
        });
        DirectoryLock::acquire(dir.path()).expect("taken once the moment is over");
        released.join().unwrap();
    }
}
