//! Cost of low-rate traffic: end-to-end latency and CPU per record at a fixed rate, linger 0.
//! Figures only (printed, never asserted).
//!
//! ```text
//! cargo run --release -p fluvio-engine --example low_rate -- <sc-endpoint> [records/s] [seconds] [record-size] [cluster-pid]
//! ```
//!
//! Opens a stream at the end of a new one-partition topic, then produces keyless records of
//! `record-size` bytes (default 100) with linger 0 at `records/s` (default 10,000) for
//! `seconds` (default 10) after a 2-second warm-up, open loop: every millisecond it sends the
//! records due by then, each carrying its scheduled send time, and the consumer measures each
//! record's latency from that time (a stalled sender counts against latency). Prints the
//! latency percentiles and the CPU time of this process (the engine's I/O threads, and the
//! pacing loop) per record and as a share of a core; with `cluster-pid`, the cluster
//! process's too (read from /proc, Linux only).

#[path = "support/args.rs"]
mod args;
#[path = "support/cpu.rs"]
mod cpu;

use std::time::{Duration, Instant};

use args::arg;
use cpu::cpu_seconds;
use fluvio_engine::{ClientConfig, Fluvio, Offset, ProducerConfig, TopicConfig};

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[index]
}

#[tokio::main]
async fn main() -> fluvio_engine::Result<()> {
    let endpoint = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:9003".into());
    let rate: u64 = arg(2, 10_000);
    let seconds: u64 = arg(3, 10);
    let size: usize = arg(4, 100).max(8);
    let cluster_pid: Option<String> = std::env::args().nth(5);
    let fluvio = Fluvio::connect_with_config(ClientConfig::new(endpoint)).await?;
    let topic = format!("low-rate-{}", std::process::id());
    fluvio.admin().create_topic(&topic, &TopicConfig::new(1, 1)).await?;
    let config = ProducerConfig::builder().linger(Duration::ZERO).build()?;
    let producer = fluvio.topic_producer_with_config(&topic, config).await?;
    let mut stream = fluvio.partition_consumer(&topic, 0).stream(Offset::end()).await?;

    let warm_up = Duration::from_secs(2);
    let total = rate * (warm_up.as_secs() + seconds);
    let warm_records = rate * warm_up.as_secs();
    let origin = Instant::now();
    let consumer = tokio::spawn(async move {
        let mut latencies = Vec::with_capacity(total as usize);
        for n in 0..total {
            let record = match stream.next().await {
                Some(Ok(record)) => record,
                other => panic!("the stream failed: {other:?}"),
            };
            let scheduled = u64::from_le_bytes(record.value[..8].try_into().expect("8 bytes"));
            if n >= warm_records {
                latencies.push(origin.elapsed().saturating_sub(Duration::from_nanos(scheduled)));
            }
        }
        latencies
    });
    // CPU of this process and of the cluster over the measured part (after the warm-up).
    let sample = || (Instant::now(), cpu_seconds("self"), cluster_pid.as_deref().and_then(cpu_seconds));
    let mut measured_from = None;

    let mut value = vec![b'x'; size];
    let mut sent = 0u64;
    let mut ticks = tokio::time::interval(Duration::from_millis(1));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut outputs = Vec::new();
    while sent < total {
        ticks.tick().await;
        let due = ((origin.elapsed().as_nanos() as u64).saturating_mul(rate) / 1_000_000_000).min(total);
        if sent >= warm_records && measured_from.is_none() {
            measured_from = Some(sample());
        }
        while sent < due {
            let scheduled = sent * 1_000_000_000 / rate;
            value[..8].copy_from_slice(&scheduled.to_le_bytes());
            outputs.push(producer.send(None, &value).await?);
            sent += 1;
        }
        if outputs.len() > 10_000 {
            for output in outputs.drain(..) {
                output.wait().await?;
            }
        }
    }
    let mut latencies = consumer.await.expect("consumer task");
    let (end, client_end, cluster_end) = sample();
    let (start, client_start, cluster_start) = measured_from.expect("a warm-up shorter than the run");
    let wall = (end - start).as_secs_f64();
    let client = client_end.zip(client_start).map(|(after, before)| after - before);
    let cluster = cluster_end.zip(cluster_start).map(|(after, before)| after - before);
    producer.flush().await?;
    fluvio.admin().delete_topic(&topic).await?;

    latencies.sort();
    let records = latencies.len() as f64;
    println!("rate={rate}/s size={size} linger=0 measured={} records over {wall:.1} s", latencies.len());
    println!(
        "latency_ms p50={:.2} p99={:.2} p99.9={:.2} max={:.2}",
        percentile(&latencies, 0.50).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        percentile(&latencies, 0.999).as_secs_f64() * 1e3,
        latencies.last().copied().unwrap_or_default().as_secs_f64() * 1e3
    );
    if let Some(client) = client {
        println!("client_cpu us_per_record={:.2} cores={:.3}", client * 1e6 / records, client / wall);
    }
    if let Some(cluster) = cluster {
        println!("cluster_cpu us_per_record={:.2} cores={:.3}", cluster * 1e6 / records, cluster / wall);
    }
    Ok(())
}
