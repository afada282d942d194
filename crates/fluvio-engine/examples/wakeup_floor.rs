//! The floor under low-rate traffic: what the four messages a record costs at linger 0 (produce
//! request, produce response, the stream's push, the stream's acknowledgement) cost this machine
//! when nothing else is done, each received by a thread that was asleep, as the client's and the
//! cluster's are at low rates. Figures only (printed, never asserted).
//!
//! ```text
//! cargo run --release -p fluvio-engine --example wakeup_floor -- [records/s] [seconds]
//! ```
//!
//! Four threads in this process talk over two loopback TCP connections with blocking sockets
//! (no runtime, no epoll, no record work): a producer paced at `records/s` (default 10,000)
//! sends 100 bytes and waits for an 8-byte answer; a "server" thread answers it and pushes the
//! 100 bytes on the second connection; a consumer thread reads each push and acknowledges it
//! with 8 bytes; a fourth thread reads the acknowledgements. Prints the CPU time per record and
//! as a share of a core, over `seconds` (default 5) after a 1-second warm-up: of the whole
//! process, and of the three threads that only receive and answer (the part a client's and a
//! cluster's I/O threads play; the producer's pacing is the application's). A real client and
//! cluster do this and their work besides, so their I/O threads cannot go below it.

#[path = "support/args.rs"]
mod args;
#[path = "support/cpu.rs"]
mod cpu;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use args::arg;
use cpu::cpu_seconds;

/// CPU seconds the calling thread used so far, from /proc (Linux only).
fn thread_cpu_seconds() -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|stat| stat.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(0.0, |nanos| nanos / 1e9)
}

/// A connected pair of loopback sockets, with Nagle off as the client and the cluster have it.
fn pair() -> std::io::Result<(TcpStream, TcpStream)> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let near = TcpStream::connect(listener.local_addr()?)?;
    let (far, _) = listener.accept()?;
    near.set_nodelay(true)?;
    far.set_nodelay(true)?;
    Ok((near, far))
}

/// A thread that runs `step` once per record, `total` times, and returns the CPU time it used
/// on the records after the first `warm_up`.
fn receiver(
    total: u64,
    warm_up: u64,
    mut step: impl FnMut() -> std::io::Result<()> + Send + 'static,
) -> std::thread::JoinHandle<std::io::Result<f64>> {
    std::thread::spawn(move || {
        let mut from = 0.0;
        for n in 0..total {
            if n == warm_up {
                from = thread_cpu_seconds();
            }
            step()?;
        }
        Ok(thread_cpu_seconds() - from)
    })
}

fn main() -> std::io::Result<()> {
    let rate: u64 = arg(1, 10_000);
    let seconds: u64 = arg(2, 5);
    let warm_up = rate;
    let total = warm_up + rate * seconds;
    let (mut producer, mut server_in) = pair()?;
    let (mut server_push, mut consumer) = pair()?;
    let mut acks_in = server_push.try_clone()?;

    let server = receiver(total, warm_up, move || {
        let mut record = [0u8; 100];
        server_in.read_exact(&mut record)?;
        server_in.write_all(&[0u8; 8])?;
        server_push.write_all(&record)
    });
    let stream = receiver(total, warm_up, move || {
        let mut record = [0u8; 100];
        consumer.read_exact(&mut record)?;
        consumer.write_all(&[0u8; 8])
    });
    let acks = receiver(total, warm_up, move || acks_in.read_exact(&mut [0u8; 8]));

    let period = Duration::from_secs_f64(1.0 / rate as f64);
    let start = Instant::now();
    let mut measured_from = None;
    let mut response = [0u8; 8];
    for n in 0..total {
        if n == warm_up {
            measured_from = Some((Instant::now(), cpu_seconds("self")));
        }
        let due = start + period * n as u32;
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        producer.write_all(&[1u8; 100])?;
        producer.read_exact(&mut response)?;
    }
    let mut receivers = 0.0;
    for thread in [server, stream, acks] {
        receivers += thread.join().expect("a thread panicked")?;
    }
    let (from, cpu_from) = measured_from.expect("the warm-up ends before the last record");
    let elapsed = from.elapsed().as_secs_f64();
    let measured = (total - warm_up) as f64;
    match (cpu_from, cpu_seconds("self")) {
        (Some(before), Some(after)) => {
            let cpu = after - before;
            println!("rate={rate}/s records={measured} over {elapsed:.1} s, 4 messages per record");
            println!("process cpu us_per_record={:.2} cores={:.3}", cpu * 1e6 / measured, cpu / elapsed);
            println!(
                "receiving threads (server, stream, acknowledgements) cpu us_per_record={:.2} cores={:.3}",
                receivers * 1e6 / measured,
                receivers / elapsed
            );
        }
        _ => println!("no CPU figures: /proc/self/stat cannot be read here"),
    }
    Ok(())
}
