//! Produce and consume throughput of the engine against a running cluster.
//!
//! ```text
//! cargo run --release -p fluvio-engine --example throughput -- <sc-endpoint> [records] [record-size] [rounds]
//! ```
//!
//! Each round creates a topic, produces `records` keyless records of `record-size` bytes
//! (batch size 16384, linger 10 ms; timed from the first send until every acknowledgement is
//! in), consumes them back from the beginning, and deletes the topic. After one warm-up round,
//! prints one line per measured round: `produce_rps=<n> consume_rps=<n>`.

use std::time::{Duration, Instant};

use fluvio_engine::{ClientConfig, Fluvio, Offset, ProducerConfig, TopicConfig};

fn arg<T: std::str::FromStr>(index: usize, default: T) -> T {
    std::env::args().nth(index).and_then(|a| a.parse().ok()).unwrap_or(default)
}

#[tokio::main]
async fn main() -> fluvio_engine::Result<()> {
    let endpoint = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:9003".into());
    let records: usize = arg(2, 1_000_000);
    let size: usize = arg(3, 100);
    let rounds: usize = arg(4, 3);
    let fluvio = Fluvio::connect_with_config(ClientConfig::new(endpoint)).await?;
    let value = vec![b'x'; size];
    for round in 0..=rounds {
        let topic = format!("engine-throughput-{}-{round}", std::process::id());
        fluvio.admin().create_topic(&topic, &TopicConfig::new(1, 1)).await?;
        let config = ProducerConfig::builder().batch_size(16384).linger(Duration::from_millis(10)).build()?;
        let producer = fluvio.topic_producer_with_config(&topic, config).await?;
        let started = Instant::now();
        let mut outputs = Vec::with_capacity(records);
        for _ in 0..records {
            outputs.push(producer.send(None, &value).await?);
        }
        producer.flush().await?;
        for output in &outputs {
            output.wait().await?;
        }
        let produced = started.elapsed();
        drop(outputs);

        let started = Instant::now();
        let mut stream = fluvio.partition_consumer(&topic, 0).stream(Offset::beginning()).await?;
        for _ in 0..records {
            stream.next().await.expect("stream open")?;
        }
        let consumed = started.elapsed();
        drop(stream);
        fluvio.admin().delete_topic(&topic).await?;
        if round > 0 {
            println!(
                "produce_rps={:.0} consume_rps={:.0}",
                records as f64 / produced.as_secs_f64(),
                records as f64 / consumed.as_secs_f64()
            );
        }
    }
    fluvio.close().await;
    Ok(())
}
