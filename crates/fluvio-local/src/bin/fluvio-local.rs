//! `fluvio-local`: runs an embedded Fluvio-compatible cluster in the foreground.
//!
//! ```text
//! fluvio-local start --base-dir DIR [--spus N] [--sc-port PORT] [--profile NAME]
//! ```
//!
//! The first line on stdout is `SC 127.0.0.1:PORT`, printed once the SC accepts connections;
//! one `SPU <id> 127.0.0.1:PORT` line per SPU follows. Logs go to stderr (`RUST_LOG` filters
//! them). SIGINT or SIGTERM stops the cluster cleanly.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use fluvio_local::{ClusterConfig, LocalCluster};
use fluvio_profile::{ProfileFile, TlsPolicy, default_profile_path};

#[derive(Parser)]
#[command(name = "fluvio-local", version, about = "An embedded Fluvio-compatible cluster for development and tests")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start a cluster and run until interrupted.
    Start {
        /// Directory holding the cluster's metadata and logs (created if missing).
        #[arg(long)]
        base_dir: PathBuf,
        /// Number of SPUs.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..))]
        spus: u16,
        /// SC public port (0 lets the OS choose).
        #[arg(long, default_value_t = 0)]
        sc_port: u16,
        /// Write a profile with this name to the profile file ($FLV_PROFILE_PATH, else
        /// ~/.fluvio/config) and make it current.
        #[arg(long)]
        profile: Option<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().thread_name("fluvio-local").build() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match cli.command {
        Command::Start { base_dir, spus, sc_port, profile } => {
            runtime.block_on(start(base_dir, spus, sc_port, profile))
        }
    }
}

async fn start(base_dir: PathBuf, spus: u16, sc_port: u16, profile: Option<String>) -> ExitCode {
    // Handlers go in before anything is printed: a supervisor may signal as soon as it reads
    // the first line, and an unhandled SIGTERM would kill the process without a clean stop.
    let signals = match Signals::register() {
        Ok(signals) => signals,
        Err(err) => {
            eprintln!("error: cannot handle signals: {err}");
            return ExitCode::FAILURE;
        }
    };
    let config = ClusterConfig::new(base_dir).spus(spus).sc_port(sc_port);
    let cluster = match LocalCluster::start(config).await {
        Ok(cluster) => cluster,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(Err((name, err))) =
        profile.map(|name| write_profile(&name, &cluster.sc_endpoint()).map_err(|e| (name, e)))
    {
        eprintln!("error: cannot write profile '{name}': {err}");
        cluster.shutdown().await;
        return ExitCode::FAILURE;
    }
    {
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(stdout, "SC {}", cluster.sc_addr());
        for (id, addr) in cluster.spu_addrs() {
            let _ = writeln!(stdout, "SPU {id} {addr}");
        }
        let _ = stdout.flush();
    }
    signals.wait().await;
    eprintln!("stopping");
    cluster.shutdown().await;
    ExitCode::SUCCESS
}

fn write_profile(name: &str, endpoint: &str) -> Result<(), fluvio_profile::ProfileError> {
    let mut file = ProfileFile::load_or_new(default_profile_path()?)?;
    file.upsert(name, name, endpoint, &TlsPolicy::Disabled);
    file.set_current_profile(name);
    file.save()
}

/// SIGINT and SIGTERM, registered up front.
struct Signals {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
}

impl Signals {
    fn register() -> std::io::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Self { interrupt: signal(SignalKind::interrupt())?, terminate: signal(SignalKind::terminate())? })
    }

    async fn wait(mut self) {
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
    }
}
