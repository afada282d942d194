//! How a running `fluvio-local` scales with topics, and what a produce costs it in CPU.
//!
//! ```text
//! # the cluster, in its own process, under a 1,024 open-file limit:
//! (ulimit -n 1024; exec target/release/fluvio-local start --base-dir /tmp/scaling) &
//! cargo run --release -p fluvio-local --example cluster_scaling -- topics <sc-addr> [count]
//! cargo run --release -p fluvio-local --example cluster_scaling -- produce <sc-addr> <spu-addr> <cluster-pid> [records] [record-size]
//! ```
//!
//! `topics` creates `count` (default 3,000) one-partition topics one after the other over one
//! connection, as `fluvio topic create` would, and prints the time per 1,000 and in total;
//! it stops at the first refusal and prints it.
//!
//! `produce` creates a topic (led by the SPU at `spu-addr`: a one-SPU cluster), then sends `records` (default 2,000,000) keyless records of
//! `record-size` bytes (default 100) in batches of about 16 KiB (the client default), four
//! produce requests in flight, and prints the cluster process's CPU time per record (user +
//! system, read from `/proc/<pid>/stat` before and after) and the records per second.
//!
//! The load generator is deliberately cheap (batches are encoded once, before the clock
//! starts), so that the figures are the cluster's.

#[path = "../tests/common/mod.rs"]
mod common;
// The examples' argument helper, shared with the engine's examples (one workspace): the same
// file, not a copy.
#[path = "../../fluvio-engine/examples/support/args.rs"]
mod args;

use std::collections::VecDeque;
use std::time::Instant;

use args::arg;
use bytes::Bytes;
use common::{RawClient, create_topic, produce_request};
use fluvio_wire::Compression;
use fluvio_wire::Request;
use fluvio_wire::record::{RawBatch, Record};
use fluvio_wire::sc::TopicSpec;
use fluvio_wire::spu::{Isolation, ProduceRequest, ProduceResponse};

/// Produce requests kept in flight.
const IN_FLIGHT: usize = 4;
/// Bytes of records per batch, about the client's default batch size.
const BATCH_BYTES: usize = 16 * 1024;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let command = std::env::args().nth(1).unwrap_or_default();
    let sc_addr = std::env::args().nth(2).expect("usage: cluster_scaling topics|produce <sc-addr> ...");
    match command.as_str() {
        "topics" => topics(&sc_addr, arg(3, 3_000)).await,
        "produce" => {
            let spu_addr = std::env::args().nth(3).unwrap_or_default();
            produce(&sc_addr, &spu_addr, arg(4, 0), arg(5, 2_000_000), arg(6, 100)).await
        }
        other => panic!("unknown command {other:?}: topics or produce"),
    }
}

async fn topics(sc_addr: &str, count: usize) {
    let mut sc = RawClient::connect(sc_addr).await;
    let prefix = format!("scaling-{}", std::process::id());
    let started = Instant::now();
    let mut block = Instant::now();
    for i in 0..count {
        let topic_started = Instant::now();
        let status = create_topic(&mut sc, &format!("{prefix}-{i}"), TopicSpec::computed(1, 1)).await;
        if !status.error_code.is_ok() {
            println!(
                "topic {} refused after {:.1} s: {:?} {:?}",
                i + 1,
                started.elapsed().as_secs_f64(),
                status.error_code,
                status.error_message
            );
            return;
        }
        if i == 0 || i + 1 == count {
            println!("topic {}: {:.2} ms", i + 1, topic_started.elapsed().as_secs_f64() * 1e3);
        }
        if (i + 1) % 1000 == 0 {
            let seconds = block.elapsed().as_secs_f64();
            println!("topics {}..{}: {seconds:.2} s ({:.2} ms/topic)", i + 2 - 1000, i + 1, seconds);
            block = Instant::now();
        }
    }
    println!("created {count} one-partition topics in {:.2} s", started.elapsed().as_secs_f64());
}

async fn produce(sc_addr: &str, spu_addr: &str, pid: u32, records: usize, size: usize) {
    assert!(pid > 0, "usage: cluster_scaling produce <sc-addr> <spu-addr> <cluster-pid> [records] [record-size]");
    let mut sc = RawClient::connect(sc_addr).await;
    let topic = format!("produce-cpu-{}", std::process::id());
    let status = create_topic(&mut sc, &topic, TopicSpec::computed(1, 1)).await;
    assert!(status.error_code.is_ok(), "{status:?}");
    let mut spu = RawClient::connect(spu_addr).await;

    let per_batch = (BATCH_BYTES / (size + 8)).max(1);
    let value = Bytes::from(vec![b'x'; size]);
    let batch_records: Vec<Record> =
        (0..per_batch).map(|i| Record::new(None, value.clone(), i as i64, i as i64 / 100)).collect();
    let batch = RawBatch::from_records(&batch_records, Compression::None, common::now_ms()).expect("batch");
    let request: ProduceRequest = produce_request(&topic, 0, &[batch], Isolation::ReadUncommitted);
    let requests = records.div_ceil(per_batch);

    let cpu_before = process_cpu_seconds(pid);
    let started = Instant::now();
    let mut pending = VecDeque::new();
    for _ in 0..requests {
        if pending.len() == IN_FLIGHT {
            answered(&mut spu, pending.pop_front().expect("in flight")).await;
        }
        pending.push_back(spu.send(&request).await);
    }
    while let Some(id) = pending.pop_front() {
        answered(&mut spu, id).await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = process_cpu_seconds(pid) - cpu_before;
    let produced = requests * per_batch;
    println!(
        "produced {produced} records of {size} B in {elapsed:.2} s ({:.0} records/s); cluster CPU {cpu:.2} s = {:.3} µs/record",
        produced as f64 / elapsed,
        cpu * 1e6 / produced as f64
    );
}

async fn answered(spu: &mut RawClient, id: i32) {
    let response: ProduceResponse = spu.recv(id, ProduceRequest::DEFAULT_VERSION).await;
    let result = &response.responses[0].partitions[0];
    assert!(result.error_code.is_ok(), "{:?}", result.error_code);
}

/// User + system CPU time of process `pid`, from `/proc/<pid>/stat`.
fn process_cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("the cluster process runs");
    // The command name (field 2) may hold spaces; the fields after it are space-separated.
    let fields: Vec<&str> = stat.rsplit_once(')').expect("stat format").1.split_whitespace().collect();
    let ticks: f64 = fields[11].parse::<f64>().expect("utime") + fields[12].parse::<f64>().expect("stime");
    // SAFETY: sysconf has no preconditions.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    ticks / per_second
}
