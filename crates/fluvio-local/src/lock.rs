//! The exclusive lock on a cluster's data directory.
//!
//! Two clusters on one directory would both append to the same partition logs and both rewrite
//! the same metadata file, each acknowledging writes the other then overwrites. The lock makes
//! the second one refuse to start instead. It is an OS advisory lock (`flock`) on
//! `<base_dir>/.lock`: the kernel releases it when the holder's process ends, however it ends,
//! so a crashed cluster never leaves a stale lock behind. `flock` locks belong to an open file
//! description, so a second cluster in the same process is refused too.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::os::fd::AsRawFd;
use std::path::Path;

use crate::ClusterError;

/// Name of the lock file in the data directory.
pub(crate) const LOCK_FILE_NAME: &str = ".lock";

/// Holds the lock until dropped. Shared (in an `Arc`) by everything of the cluster that may
/// still touch the directory, so that it is released only once the last of them is gone.
#[derive(Debug)]
pub(crate) struct DirectoryLock {
    _file: File,
}

impl DirectoryLock {
    /// Takes the lock on `base_dir` (which must exist) without waiting.
    ///
    /// Errors: [`ClusterError::DirectoryInUse`] when another cluster holds it,
    /// [`ClusterError::Storage`] when the lock file cannot be opened or locked.
    pub(crate) fn acquire(base_dir: &Path) -> Result<Self, ClusterError> {
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
}
