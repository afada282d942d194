//! The `fluvio-local` command as a child process, for tests that kill it.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// A running `fluvio-local start`; killed when dropped.
pub struct Running {
    pub child: Child,
    /// The SC's address, as the command prints it.
    pub sc: String,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `fluvio-local start --base-dir <base_dir> <extra>` writing its profile to
/// `profile_path`, and waits for its first line (the SC's address).
pub fn start_command(base_dir: &Path, extra: &[&str], profile_path: &Path) -> Running {
    let mut child = Command::new(env!("CARGO_BIN_EXE_fluvio-local"))
        .arg("start")
        .arg("--base-dir")
        .arg(base_dir)
        .args(extra)
        .env("FLV_PROFILE_PATH", profile_path)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn fluvio-local");
    let stdout = child.stdout.take().unwrap();
    let mut first = String::new();
    BufReader::new(stdout).read_line(&mut first).expect("first line");
    let sc =
        first.trim().strip_prefix("SC ").unwrap_or_else(|| panic!("first line is 'SC <addr>': {first:?}")).to_string();
    Running { child, sc }
}

/// Kills the command as `kill -9` would (no shutdown path runs) and waits for it to end.
pub fn kill_9(mut running: Running) {
    running.child.kill().unwrap();
    running.child.wait().unwrap();
}
