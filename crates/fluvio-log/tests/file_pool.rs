//! Many logs sharing a pool of open files far smaller than their segments: appends, reads
//! (from several threads at once), rolls, truncation, retention, resets, syncs and recovery all
//! work on files the pool closed and opens again, and the process never holds more files open
//! than the pool allows. (One test in this binary: it counts the process's open files.)

mod common;

use std::time::SystemTime;

use common::*;
use fluvio_log::{FilePool, LogConfig, PartitionLog};

const LOGS: usize = 40;
const CAPACITY: usize = 6;

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map(|entries| entries.count()).unwrap_or(0)
}

#[test]
fn many_logs_work_within_a_small_pool_of_open_files() {
    let dir = tempfile::tempdir().unwrap();
    let pool = FilePool::new(CAPACITY);
    let baseline = open_fds();
    let mut peak = baseline;
    // Small segments: every log rolls several times.
    let cfg = config(2_000);
    let open =
        |i: usize| PartitionLog::open_in_pool(&dir.path().join(format!("p{i}")), cfg.clone(), pool.clone()).unwrap();
    let mut logs: Vec<PartitionLog> = (0..LOGS).map(open).collect();
    let mut expected: Vec<Vec<(i64, String)>> = vec![Vec::new(); LOGS];
    for round in 0..8 {
        for (i, log) in logs.iter_mut().enumerate() {
            expected[i].extend(append_batches(log, &format!("r{round}l{i}-"), 2, 3, 100));
            peak = peak.max(open_fds());
        }
    }
    assert!(logs.iter().all(|log| log.segment_base_offsets().len() > 3));

    // Readers of half the logs race appends to the other half: files are closed under neither.
    let (read_half, write_half) = logs.split_at_mut(LOGS / 2);
    let (read_expected, write_expected) = expected.split_at_mut(LOGS / 2);
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| {
                for _ in 0..3 {
                    for (log, expected) in read_half.iter().zip(read_expected.iter()) {
                        assert_eq!(&read_all(log), expected);
                    }
                }
            });
        }
        for (i, (log, expected)) in write_half.iter_mut().zip(write_expected.iter_mut()).enumerate() {
            expected.extend(append_batches(log, &format!("w{i}-"), 3, 2, 150));
        }
    });
    peak = peak.max(open_fds());

    // Truncation, retention and a reset of logs whose files the pool closed long ago.
    logs[0].truncate_to(6).unwrap();
    expected[0].truncate(6);
    logs[1].set_config(LogConfig { max_partition_bytes: Some(3_000), ..cfg.clone() });
    let retained = logs[1].enforce_retention(SystemTime::now()).unwrap();
    assert!(!retained.removed.is_empty());
    expected[1].retain(|(offset, _)| *offset >= retained.log_start_offset);
    logs[2].reset_to(1_000).unwrap();
    expected[2] = append_batches(&mut logs[2], "after-reset-", 1, 2, 10);
    assert_eq!(expected[2][0].0, 1_000);
    for log in &logs {
        log.sync().unwrap();
    }
    peak = peak.max(open_fds());
    drop(logs);
    assert_eq!(pool.open_files(), 0, "closing the logs closes their files");

    // Recovered under the same bound: everything is there, nothing needed repair.
    let logs: Vec<PartitionLog> = (0..LOGS).map(open).collect();
    for (i, (log, expected)) in logs.iter().zip(&expected).enumerate() {
        assert!(log.recovery_report().is_clean(), "log {i}: {:?}", log.recovery_report());
        assert_eq!(&read_all(log), expected, "log {i}");
        peak = peak.max(open_fds());
    }
    assert!(pool.open_files() <= CAPACITY);
    // A file an operation still holds may outlive its eviction by that operation.
    assert!(peak <= baseline + CAPACITY + 2, "{peak} files open at the peak, {baseline} before");
}
