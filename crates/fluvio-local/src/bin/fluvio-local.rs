//! `fluvio-local`: runs an embedded Fluvio-compatible cluster in the foreground.
//!
//! ```text
//! fluvio-local start --base-dir DIR [--spus N] [--sc-port PORT] [--profile NAME]
//!     [--replication-policy fluvio|in-sync] [--min-live-replicas N] [--spu-timeout-ms MS]
//!     [--replica-lag-time-ms MS]
//!     [--idle-timeout-ms MS] [--read-timeout-ms MS] [--max-frame-size BYTES]
//!     [--max-buffered-bytes BYTES]
//!     [--tls --server-cert FILE --server-key FILE [--domain NAME]
//!      [--ca-cert FILE [--require-client-cert]] [--client-cert FILE --client-key FILE]]
//! ```
//!
//! The first line on stdout is `SC 127.0.0.1:PORT`, printed once the SC accepts connections;
//! one `SPU <id> 127.0.0.1:PORT` line per SPU follows. Logs go to stderr (`RUST_LOG` filters
//! them). SIGINT or SIGTERM stops the cluster cleanly. A directory another cluster runs on is
//! refused ("in use by another cluster").
//!
//! With `--tls`, the SC and every SPU serve TLS on their public ports. Clients reach the SC
//! as `DOMAIN` and SPU `n` as `custom-spu-<n>.DOMAIN` (the official client's rule), so the
//! server certificate needs the subject alternative names `DOMAIN` and `*.DOMAIN`. With
//! `--profile`, the profile written is a verified TLS one (`tls_source = "files"`) naming the
//! domain, the CA and the client certificate and key, which the official profile format
//! requires.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use fluvio_local::{ClusterConfig, LocalCluster, ReplicationPolicy, ServerTls};
use fluvio_profile::{ProfileFile, TlsCerts, TlsPolicy, TlsSource, default_profile_path};

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
        #[arg(long, default_value_t = 1, value_parser = rule(ClusterConfig::check_spus))]
        spus: u16,
        /// SC public port (0 lets the OS choose).
        #[arg(long, default_value_t = 0)]
        sc_port: u16,
        /// Write a profile with this name to the profile file ($FLV_PROFILE_PATH, else
        /// ~/.fluvio/config) and make it current.
        #[arg(long)]
        profile: Option<String>,
        #[command(flatten)]
        replication: ReplicationArgs,
        #[command(flatten)]
        connections: ConnectionArgs,
        #[command(flatten)]
        tls: TlsArgs,
    },
}

/// What the servers allow each client connection.
#[derive(Args, Debug)]
struct ConnectionArgs {
    /// Close a client connection with nothing going on (no request, no stream or watch
    /// session) after this long; 0: never.
    #[arg(long, value_name = "MS", default_value_t = fluvio_local::DEFAULT_IDLE_TIMEOUT.as_millis() as u64)]
    idle_timeout_ms: u64,
    /// Close a connection whose request does not arrive whole within this long after its first
    /// byte; 0: never.
    #[arg(long, value_name = "MS", default_value_t = fluvio_local::DEFAULT_READ_TIMEOUT.as_millis() as u64)]
    read_timeout_ms: u64,
    /// Largest request accepted, in bytes (at least 65536).
    #[arg(long, value_name = "BYTES", default_value_t = fluvio_local::DEFAULT_MAX_FRAME_SIZE)]
    max_frame_size: usize,
    /// Bytes of unfinished requests all connections may buffer together (at least
    /// --max-frame-size).
    #[arg(long, value_name = "BYTES", default_value_t = fluvio_local::DEFAULT_MAX_BUFFERED_BYTES)]
    max_buffered_bytes: usize,
}

impl ConnectionArgs {
    fn apply(&self, config: ClusterConfig) -> ClusterConfig {
        config
            .idle_timeout(std::time::Duration::from_millis(self.idle_timeout_ms))
            .read_timeout(std::time::Duration::from_millis(self.read_timeout_ms))
            .max_frame_size(self.max_frame_size)
            .max_buffered_bytes(self.max_buffered_bytes)
    }
}

/// A parser of a number that `check` (the setting's rule in [`ClusterConfig`]) accepts.
fn rule<T>(
    check: fn(T) -> Result<(), fluvio_local::ClusterError>,
) -> impl Fn(&str) -> Result<T, String> + Clone + Send + Sync + 'static
where
    T: std::str::FromStr + Copy + Send + Sync + 'static,
    T::Err: std::fmt::Display,
{
    move |text: &str| {
        let value = text.parse::<T>().map_err(|e| e.to_string())?;
        check(value).map_err(|e| e.to_string())?;
        Ok(value)
    }
}

/// A parser of milliseconds that `check` (the setting's rule in [`ClusterConfig`]) accepts.
fn millis_rule(
    check: fn(std::time::Duration) -> Result<(), fluvio_local::ClusterError>,
) -> impl Fn(&str) -> Result<u64, String> + Clone + Send + Sync + 'static {
    move |text: &str| {
        let millis = text.parse::<u64>().map_err(|e| e.to_string())?;
        check(std::time::Duration::from_millis(millis)).map_err(|e| e.to_string())?;
        Ok(millis)
    }
}

/// Replication settings of the cluster.
#[derive(Args, Debug)]
struct ReplicationArgs {
    /// When records are committed and who may be elected: `fluvio` (real Fluvio's rules: the
    /// high watermark waits for every replica; a follower is elected only if it is less than 4
    /// records behind the lost leader) or `in-sync` (an in-sync replica set that shrinks after
    /// the lag time; any in-sync replica may be elected).
    #[arg(long, value_name = "POLICY", default_value_t = ReplicationPolicy::Fluvio)]
    replication_policy: ReplicationPolicy,
    /// In-sync replicas a partition needs to commit records (in-sync policy).
    #[arg(long, default_value_t = 1, value_parser = rule(ClusterConfig::check_min_live_replicas))]
    min_live_replicas: u16,
    /// How long the SC waits for a silent SPU's heartbeat before declaring it dead.
    #[arg(long, value_name = "MS", default_value_t = fluvio_local::DEFAULT_SPU_TIMEOUT.as_millis() as u64,
          value_parser = millis_rule(ClusterConfig::check_spu_timeout))]
    spu_timeout_ms: u64,
    /// How long a follower may lag before it leaves the in-sync replicas (in-sync policy).
    #[arg(long, value_name = "MS", default_value_t = fluvio_local::DEFAULT_REPLICA_LAG_TIME.as_millis() as u64,
          value_parser = millis_rule(ClusterConfig::check_replica_lag_time))]
    replica_lag_time_ms: u64,
    /// Replicas of the system topic consumer-offset, where named consumers' offsets are kept
    /// (default: 3, or the number of SPUs if fewer; Fluvio's own SC uses 1). Applies when the
    /// topic is created, on the first start on a data directory.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    consumer_offset_replication: Option<u16>,
}

impl ReplicationArgs {
    fn apply(&self, config: ClusterConfig) -> ClusterConfig {
        let config = match self.consumer_offset_replication {
            Some(replicas) => config.consumer_offset_replication(replicas),
            None => config,
        };
        config
            .replication_policy(self.replication_policy)
            .min_live_replicas(self.min_live_replicas)
            .spu_timeout(std::time::Duration::from_millis(self.spu_timeout_ms))
            .replica_lag_time(std::time::Duration::from_millis(self.replica_lag_time_ms))
    }
}

/// TLS on the public ports of the SC and the SPUs.
#[derive(Args, Debug, Default)]
struct TlsArgs {
    /// Serve TLS on the public ports of the SC and of every SPU.
    #[arg(long, requires_all = ["server_cert", "server_key"])]
    tls: bool,
    /// Server certificate chain (PEM, leaf first), valid for DOMAIN and *.DOMAIN.
    #[arg(long, value_name = "FILE", requires = "tls")]
    server_cert: Option<PathBuf>,
    /// Server private key (PEM).
    #[arg(long, value_name = "FILE", requires = "tls")]
    server_key: Option<PathBuf>,
    /// The TLS domain clients verify: the SC is DOMAIN, SPU n is custom-spu-<n>.DOMAIN. The
    /// cluster refuses to start if the certificate is not valid for these names.
    #[arg(long, value_name = "NAME", requires = "tls")]
    domain: Option<String>,
    /// CA certificate (PEM): client certificates are verified against it, and the profile
    /// written with --profile names it as the CA of the servers' certificates.
    #[arg(long, value_name = "FILE", requires = "tls")]
    ca_cert: Option<PathBuf>,
    /// Refuse clients without a certificate signed by --ca-cert (mutual TLS).
    #[arg(long, requires = "ca_cert")]
    require_client_cert: bool,
    /// Client certificate (PEM) to name in the profile written with --profile.
    #[arg(long, value_name = "FILE", requires_all = ["tls", "client_key"])]
    client_cert: Option<PathBuf>,
    /// Client private key (PEM) to name in the profile written with --profile.
    #[arg(long, value_name = "FILE", requires_all = ["tls", "client_cert"])]
    client_key: Option<PathBuf>,
}

impl TlsArgs {
    /// The server settings, if TLS is on.
    fn server_tls(&self) -> Result<Option<ServerTls>, String> {
        let (Some(cert), Some(key)) = (&self.server_cert, &self.server_key) else { return Ok(None) };
        let mut tls = ServerTls::from_files(cert, key).map_err(|e| e.to_string())?;
        if let Some(ca) = &self.ca_cert {
            tls = tls.client_ca_file(ca).map_err(|e| e.to_string())?;
        }
        if let Some(domain) = &self.domain {
            tls = tls.domain(domain);
        }
        Ok(Some(tls.require_client_cert(self.require_client_cert)))
    }

    /// What the profile says about TLS. A verified profile in the official format names a
    /// domain, a CA and a client certificate and key (the official reader refuses the whole
    /// file otherwise), so each is required; paths are made absolute.
    fn profile_policy(&self) -> Result<TlsPolicy, String> {
        if !self.tls {
            return Ok(TlsPolicy::Disabled);
        }
        let missing =
            |flag: &str| format!("with --tls, a profile needs {flag} (the official profile format requires it)");
        let domain = self.domain.clone().ok_or_else(|| missing("--domain"))?;
        let ca = self.ca_cert.as_deref().ok_or_else(|| missing("--ca-cert"))?;
        let cert = self.client_cert.as_deref().ok_or_else(|| missing("--client-cert and --client-key"))?;
        let key = self.client_key.as_deref().ok_or_else(|| missing("--client-cert and --client-key"))?;
        let certs = TlsCerts::new(domain, absolute(ca)?).with_client_cert(absolute(cert)?, absolute(key)?);
        Ok(TlsPolicy::Verified(TlsSource::Files(certs)))
    }
}

fn absolute(path: &Path) -> Result<String, String> {
    let absolute = std::fs::canonicalize(path).map_err(|e| format!("cannot use {}: {e}", path.display()))?;
    absolute.into_os_string().into_string().map_err(|path| format!("{} is not valid UTF-8", path.display()))
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
        Command::Start { base_dir, spus, sc_port, profile, replication, connections, tls } => {
            let config = replication.apply(ClusterConfig::new(base_dir).spus(spus).sc_port(sc_port));
            let config = connections.apply(config);
            runtime.block_on(start(config, profile, tls))
        }
    }
}

async fn start(mut config: ClusterConfig, profile: Option<String>, tls: TlsArgs) -> ExitCode {
    // Handlers go in before anything is printed: a supervisor may signal as soon as it reads
    // the first line, and an unhandled SIGTERM would kill the process without a clean stop.
    let signals = match Signals::register() {
        Ok(signals) => signals,
        Err(err) => {
            eprintln!("error: cannot handle signals: {err}");
            return ExitCode::FAILURE;
        }
    };
    // Settings are checked before anything starts, so a bad flag leaves nothing behind.
    let profile = match profile.map(|name| tls.profile_policy().map(|policy| (name, policy))).transpose() {
        Ok(profile) => profile,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::FAILURE;
        }
    };
    match tls.server_tls() {
        Ok(Some(server_tls)) => config = config.tls(server_tls),
        Ok(None) => {}
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::FAILURE;
        }
    }
    let cluster = match LocalCluster::start(config).await {
        Ok(cluster) => cluster,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(Err((name, err))) =
        profile.map(|(name, policy)| write_profile(&name, &cluster.sc_endpoint(), &policy).map_err(|e| (name, e)))
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

fn write_profile(name: &str, endpoint: &str, tls: &TlsPolicy) -> Result<(), fluvio_profile::ProfileError> {
    let mut file = ProfileFile::load_or_new(default_profile_path()?)?;
    file.upsert(name, name, endpoint, tls);
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
