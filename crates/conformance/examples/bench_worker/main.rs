//! The worker `scripts/bench` drives for a Rust client: one long-lived process, our engine or
//! the official `fluvio` 0.50.1 client, which runs the benchmark's workloads one command at a
//! time against a running cluster. The Java API's worker
//! (`java/src/bench/java/com/infinyon/fluvio/bench/BenchWorker.java`) runs the same workloads
//! and speaks the same protocol. A benchmark tool, not a test: nothing here asserts on speed.
//!
//! ```text
//! bench_worker <engine|official> <sc-endpoint>
//! ```
//!
//! Protocol, one command per line on stdin: a word and `key=value` pairs, e.g.
//! `produce topic=t size=100 api=send window_ms=2000 batch_size=16384 linger_ms=0`. The answer
//! is one line, `ok key=value ...` or `error <message>`, after any `mark <name>` lines: `mark
//! start` and `mark end` bracket a measured window, and the orchestrator reads the processes'
//! CPU times (and memory) when it sees a mark. Commands: `hello`, `produce`, `consume`,
//! `latency`, `streams`, `quit`, and for the engine only (the orchestrator's administration
//! and checks) `create`, `delete`, `fill`, `verify`, `topics`. See `workloads.rs`.

mod clients;
mod payload;
mod protocol;
mod workloads;

use std::io::BufRead;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Result, anyhow};

use clients::{Client, Engine, Official};
use protocol::{Command, Reply, print_error};
use workloads::Worker;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let (Some(client), Some(endpoint)) = (args.next(), args.next()) else {
        eprintln!("usage: bench_worker <engine|official> <sc-endpoint>");
        return ExitCode::from(2);
    };
    let result = runtime().and_then(|runtime| match client.as_str() {
        "engine" => serve(Worker::new(runtime.block_on(Engine::connect(&endpoint))?, runtime.handle().clone())),
        "official" => serve(Worker::new(runtime.block_on(Official::connect(&endpoint))?, runtime.handle().clone())),
        other => Err(anyhow!("unknown client '{other}' (engine or official)")),
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("bench_worker: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// The runtime the JNI library builds, with its threads' names, so that the Java API and the
/// Rust engine run the engine on the same number of I/O threads and the orchestrator can tell
/// those threads apart.
fn runtime() -> Result<tokio::runtime::Runtime> {
    let workers = fluvio_engine::config::io_threads()?;
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .thread_name_fn(|| {
            static NEXT: AtomicUsize = AtomicUsize::new(0);
            format!("fluvio-io-{}", NEXT.fetch_add(1, Ordering::Relaxed))
        })
        .enable_all()
        .build()?)
}

fn serve<C: Client>(worker: Worker<C>) -> Result<()> {
    for line in std::io::stdin().lock().lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let command = match Command::parse(&line) {
            Ok(command) => command,
            Err(err) => {
                print_error(&err);
                continue;
            }
        };
        if command.name == "quit" {
            Reply::default().print();
            break;
        }
        match worker.run(&command) {
            Ok(reply) => reply.print(),
            Err(err) => print_error(&err),
        }
    }
    Ok(())
}
