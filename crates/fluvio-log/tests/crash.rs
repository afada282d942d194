//! The durability model: what `append` acknowledged survives the process being SIGKILLed.
//!
//! The test re-runs its own binary as a child that appends as fast as it can and prints each
//! acknowledged log end offset; the parent kills it with SIGKILL (`Child::kill` on Unix)
//! mid-stream and reopens the log.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};

use common::*;
use fluvio_log::PartitionLog;

const CHILD_ENV: &str = "FLUVIO_LOG_CRASH_CHILD_DIR";
const TEST_NAME: &str = "acknowledged_appends_survive_sigkill";

struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn child_main(dir: &str) {
    let mut log = PartitionLog::open(std::path::Path::new(dir), config(16 * 1024)).unwrap();
    let mut out = std::io::stdout().lock();
    // Bounded so that an orphaned child cannot run forever.
    for n in 0..200_000usize {
        let mut bytes = batch(&format!("c{n}"), 1 + n % 4, n % 200);
        let info = log.append(&mut bytes).unwrap();
        writeln!(out, "ack {}", info.next_offset).unwrap();
        out.flush().unwrap();
    }
}

#[test]
fn acknowledged_appends_survive_sigkill() {
    if let Ok(dir) = std::env::var(CHILD_ENV) {
        child_main(&dir);
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for round in 0..3 {
        let child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", TEST_NAME, "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut child = KillOnDrop(child);
        let stdout = child.0.stdout.take().unwrap();
        let mut acked = None;
        let mut acks = 0;
        for line in BufReader::new(stdout).lines() {
            let line = line.unwrap();
            if let Some(n) = line.strip_prefix("ack ") {
                acked = Some(n.parse::<i64>().unwrap());
                acks += 1;
                if acks == 2000 + round * 1500 {
                    break;
                }
            }
        }
        child.0.kill().unwrap();
        child.0.wait().unwrap();
        let acked = acked.expect("child acknowledged appends");

        let log = PartitionLog::open(dir.path(), config(16 * 1024)).unwrap();
        assert!(log.log_end_offset() >= acked, "round {round}: LEO {} < acknowledged {acked}", log.log_end_offset());
        assert!(log.segment_base_offsets().len() > 1);
        // Every record is there, in order, with the value its batch was given.
        let all = read_all(&log);
        assert_eq!(all.len() as i64, log.log_end_offset());
        for (i, (offset, value)) in all.iter().enumerate() {
            assert_eq!(*offset, i as i64);
            assert!(value.starts_with('c'), "{value}");
        }
    }
}
