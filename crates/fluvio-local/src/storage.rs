//! What a storage failure means: a full file system is told apart from other I/O errors, so
//! that clients get "storage full" (and the partition shows `OutOfStorage`) rather than a
//! generic error, and the cluster can tell when space is back.

use std::io;
use std::path::Path;

use fluvio_log::LogError;

/// Whether `err` means the file system is full, or the user's quota on it is used up.
pub(crate) fn is_storage_full(err: &io::Error) -> bool {
    matches!(err.kind(), io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded)
        || matches!(err.raw_os_error(), Some(code) if code == libc::ENOSPC || code == libc::EDQUOT)
}

/// Whether a log operation failed because the file system is full.
pub(crate) fn log_is_full(err: &LogError) -> bool {
    matches!(err, LogError::Io { source, .. } if is_storage_full(source))
}

/// Bytes an unprivileged writer may still use on the file system holding `path`.
pub(crate) fn available_bytes(path: &Path) -> io::Result<u64> {
    use std::os::unix::ffi::OsStrExt;
    let path = std::ffi::CString::new(path.as_os_str().as_bytes()).map_err(io::Error::other)?;
    let mut stats = std::mem::MaybeUninit::<libc::statvfs>::uninit();
    // SAFETY: `path` is a valid NUL-terminated string and `stats` a properly sized buffer that
    // statvfs fills on success.
    let result = unsafe { libc::statvfs(path.as_ptr(), stats.as_mut_ptr()) };
    if result != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: statvfs succeeded, so it initialized `stats`.
    let stats = unsafe { stats.assume_init() };
    #[allow(clippy::unnecessary_cast)] // the field types differ between platforms
    Ok(stats.f_bavail as u64 * stats.f_frsize as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_is_told_apart_from_other_errors() {
        assert!(is_storage_full(&io::Error::from_raw_os_error(libc::ENOSPC)));
        assert!(is_storage_full(&io::Error::from_raw_os_error(libc::EDQUOT)));
        assert!(!is_storage_full(&io::Error::from_raw_os_error(libc::EIO)));
        assert!(!is_storage_full(&io::Error::other("no")));
        let dir = tempfile::tempdir().unwrap();
        assert!(available_bytes(dir.path()).unwrap() > 0);
    }
}
