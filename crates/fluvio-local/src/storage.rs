//! What a storage failure means: a full file system is told apart from other I/O errors, so
//! that clients get "storage full" (and the partition shows `OutOfStorage`) rather than a
//! generic error, and the cluster can tell when space is back.

use std::io;
use std::path::Path;

use fluvio_log::LogError;
use tracing::{debug, info, warn};

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

/// The most segment files kept open, however high the open-file limit.
const MAX_OPEN_SEGMENT_FILES: u64 = 16 * 1024;

/// Raises the process's soft open-file limit to its hard limit where it is lower (logged), and
/// lets the logs keep half of the limit open: the other half stays for connections and
/// everything else. Partition logs open their files on demand in a bounded pool
/// ([`fluvio_log::FilePool`]), so any number of partitions works within any limit; a higher
/// limit only means fewer files closed and opened again.
pub(crate) fn prepare_open_files() {
    let limit = match raise_open_file_limit() {
        Ok(limit) => limit,
        Err(err) => {
            warn!(%err, "could not read or raise the open-file limit");
            return;
        }
    };
    let capacity = (limit / 2).min(MAX_OPEN_SEGMENT_FILES) as usize;
    fluvio_log::FilePool::shared().set_capacity(capacity);
    debug!(open_file_limit = limit, segment_files = capacity, "open files bounded");
}

/// Raises the soft `RLIMIT_NOFILE` to the hard one (at most the kernel's `nr_open` where it
/// is unlimited); returns the soft limit in force afterwards.
fn raise_open_file_limit() -> io::Result<u64> {
    let mut limits = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: `limits` is a valid rlimit for getrlimit to fill.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limits) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let soft = limits.rlim_cur;
    let mut target = limits.rlim_max;
    if target == libc::RLIM_INFINITY {
        // An unlimited hard limit cannot be a soft one: the kernel caps it at `nr_open`.
        target = std::fs::read_to_string("/proc/sys/fs/nr_open")
            .ok()
            .and_then(|text| text.trim().parse().ok())
            .unwrap_or(1 << 20);
    }
    if soft == libc::RLIM_INFINITY || soft >= target {
        return Ok(soft);
    }
    let raised = libc::rlimit { rlim_cur: target, rlim_max: limits.rlim_max };
    // SAFETY: `raised` is a valid rlimit; raising the soft limit up to the hard one is allowed.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } != 0 {
        let err = io::Error::last_os_error();
        warn!(soft, hard = limits.rlim_max, %err, "could not raise the open-file limit");
        return Ok(soft);
    }
    info!(from = soft, to = target, "raised the soft open-file limit to the hard limit");
    Ok(target)
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
