//! The official `fluvio` client (0.50.1) through the same rounds as the engine's `throughput`
//! example, so `scripts/bench-java` can put the Java API, our engine and the official client in
//! one table against one running cluster.
//!
//! ```text
//! cargo run --release -p fluvio-conformance --example official_client_throughput -- <sc-endpoint> [records] [record-size] [rounds]
//! ```
//!
//! Each round creates a topic, produces `records` keyless records of `record-size` bytes
//! (batch size 16384, linger 10 ms; timed from the first send until every acknowledgement is
//! in), consumes them back from the beginning, and deletes the topic. After one warm-up round,
//! prints one line per measured round: `produce_rps=<n> consume_rps=<n>`. The consumer skips
//! the rest of the batch each push cuts at `max_bytes` (as against a real SPU), so its rate
//! counts the records it delivered, up to the last one (when no more come within a second).

use std::time::{Duration, Instant};

use fluvio::consumer::ConsumerConfigExtBuilder;
use fluvio::metadata::topic::TopicSpec;
use fluvio::{Fluvio, FluvioClusterConfig, RecordKey, TopicProducerConfigBuilder};
use futures_util::StreamExt;

fn arg<T: std::str::FromStr>(index: usize, default: T) -> T {
    std::env::args().nth(index).and_then(|a| a.parse().ok()).unwrap_or(default)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let endpoint = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:9003".into());
    let records: usize = arg(2, 1_000_000);
    let size: usize = arg(3, 100);
    let rounds: usize = arg(4, 3);
    let fluvio = Fluvio::connect_with_config(&FluvioClusterConfig::new(endpoint)).await?;
    let admin = fluvio.admin().await;
    let value = vec![b'x'; size];
    for round in 0..=rounds {
        let topic = format!("official-throughput-{}-{round}", std::process::id());
        admin.create(topic.clone(), false, TopicSpec::new_computed(1, 1, None)).await?;
        let config =
            TopicProducerConfigBuilder::default().batch_size(16384).linger(Duration::from_millis(10)).build()?;
        let producer = fluvio.topic_producer_with_config(&topic, config).await?;
        let started = Instant::now();
        let mut outputs = Vec::with_capacity(records);
        for _ in 0..records {
            outputs.push(producer.send(RecordKey::NULL, value.clone()).await?);
        }
        producer.flush().await?;
        for output in outputs {
            output.wait().await?;
        }
        let produced = started.elapsed();

        let config = ConsumerConfigExtBuilder::default()
            .topic(topic.clone())
            .partition(0)
            .offset_start(fluvio::Offset::beginning())
            .build()?;
        let started = Instant::now();
        let mut stream = fluvio.consumer_with_config(config).await?;
        let mut delivered = 0;
        let mut consumed = Duration::ZERO;
        loop {
            let wait = if delivered == 0 { Duration::from_secs(60) } else { Duration::from_secs(1) };
            let Ok(next) = tokio::time::timeout(wait, stream.next()).await else { break };
            let record = next.ok_or_else(|| anyhow::anyhow!("stream ended early"))??;
            anyhow::ensure!(record.value().len() == size, "unexpected record");
            delivered += 1;
            consumed = started.elapsed();
            if record.offset() + 1 == records as i64 {
                break;
            }
        }
        drop(stream);
        admin.delete::<TopicSpec>(topic).await?;
        if round > 0 {
            println!(
                "produce_rps={:.0} consume_rps={:.0}",
                records as f64 / produced.as_secs_f64(),
                delivered as f64 / consumed.as_secs_f64()
            );
        }
    }
    Ok(())
}
