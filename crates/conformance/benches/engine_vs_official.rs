//! Our engine against the official `fluvio` client (0.50.1), same cluster, same settings.
//!
//! `cargo bench -p fluvio-conformance --bench engine_vs_official`
//!
//! For 100-byte and 5 KiB keyless records, both clients produce N records (batch size 16384,
//! linger 0 ms, no compression; timed from the first send until every acknowledgement is in)
//! and consume them back from the beginning. Runs alternate engine / official, after one
//! warm-up round; the median of the measured rounds is printed with the ratio.

use std::time::{Duration, Instant};

use fluvio::consumer::ConsumerConfigExtBuilder;
use fluvio::metadata::topic::TopicSpec;
use fluvio::{Fluvio, FluvioClusterConfig, RecordKey, TopicProducerConfigBuilder};
use fluvio_engine::{ClientConfig, Offset, ProducerConfig, TopicConfig};
use fluvio_local::{ClusterConfig, LocalCluster};
use futures_util::StreamExt;

const ROUNDS: usize = 3;
const BATCH_SIZE: usize = 16384;
const LINGER: Duration = Duration::ZERO;

struct Workload {
    label: &'static str,
    record_size: usize,
    records: usize,
}

const WORKLOADS: [Workload; 2] = [
    Workload { label: "100 B", record_size: 100, records: 300_000 },
    Workload { label: "5 KiB", record_size: 5 * 1024, records: 30_000 },
];

fn rate(records: usize, elapsed: Duration) -> f64 {
    records as f64 / elapsed.as_secs_f64()
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(|a, b| a.partial_cmp(b).unwrap());
    values[values.len() / 2]
}

async fn engine_produce(client: &fluvio_engine::Fluvio, topic: &str, w: &Workload) -> Duration {
    let config = ProducerConfig::builder().batch_size(BATCH_SIZE).linger(LINGER).build().unwrap();
    let producer = client.topic_producer_with_config(topic, config).await.unwrap();
    let value = vec![b'x'; w.record_size];
    let started = Instant::now();
    let mut outputs = Vec::with_capacity(w.records);
    for _ in 0..w.records {
        outputs.push(producer.send(None, &value).await.unwrap());
    }
    producer.flush().await.unwrap();
    for output in &outputs {
        output.wait().await.unwrap();
    }
    started.elapsed()
}

async fn engine_consume(client: &fluvio_engine::Fluvio, topic: &str, w: &Workload) -> Duration {
    let started = Instant::now();
    let mut stream = client.partition_consumer(topic, 0).stream(Offset::beginning()).await.unwrap();
    for _ in 0..w.records {
        let record = stream.next().await.unwrap().unwrap();
        assert_eq!(record.value.len(), w.record_size);
    }
    started.elapsed()
}

async fn official_produce(client: &Fluvio, topic: &str, w: &Workload) -> Duration {
    let config = TopicProducerConfigBuilder::default().batch_size(BATCH_SIZE).linger(LINGER).build().unwrap();
    let producer = client.topic_producer_with_config(topic, config).await.unwrap();
    let value = vec![b'x'; w.record_size];
    let started = Instant::now();
    let mut outputs = Vec::with_capacity(w.records);
    for _ in 0..w.records {
        outputs.push(producer.send(RecordKey::NULL, value.clone()).await.unwrap());
    }
    producer.flush().await.unwrap();
    for output in outputs {
        output.wait().await.unwrap();
    }
    started.elapsed()
}

/// The official consumer's read of the partition: its time, and how many records it delivered
/// (fewer than were produced when pushes are cut inside a batch: it skips the rest of a cut
/// batch, as against a real SPU).
async fn official_consume(client: &Fluvio, topic: &str, w: &Workload) -> (Duration, usize) {
    let config = ConsumerConfigExtBuilder::default()
        .topic(topic)
        .partition(0)
        .offset_start(fluvio::Offset::beginning())
        .disable_continuous(true)
        .build()
        .unwrap();
    let started = Instant::now();
    let mut stream = client.consumer_with_config(config).await.unwrap();
    let mut count = 0;
    while let Some(record) = stream.next().await {
        assert_eq!(record.unwrap().value().len(), w.record_size);
        count += 1;
    }
    (started.elapsed(), count)
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    runtime.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let cluster = LocalCluster::start(ClusterConfig::new(dir.path())).await.unwrap();
        let engine = fluvio_engine::Fluvio::connect_with_config(ClientConfig::new(cluster.sc_endpoint())).await.unwrap();
        let official = Fluvio::connect_with_config(&FluvioClusterConfig::new(cluster.sc_endpoint())).await.unwrap();
        let admin = engine.admin();

        println!(
            "Engine vs official fluvio 0.50.1 client, fluvio-local (1 SPU, 1 partition), batch {BATCH_SIZE} B, linger {LINGER:?}, no compression"
        );
        println!("records/s, median of {ROUNDS} rounds after a warm-up\n");
        println!("| record | direction | engine | official | ratio |");
        println!("|---|---|---|---|---|");
        for w in &WORKLOADS {
            let mut rates = [Vec::new(), Vec::new(), Vec::new(), Vec::new()];
            let mut official_delivered = w.records;
            for round in 0..=ROUNDS {
                let ours = format!("engine-{}-{round}", w.record_size);
                let theirs = format!("official-{}-{round}", w.record_size);
                admin.create_topic(&ours, &TopicConfig::new(1, 1)).await.unwrap();
                official.admin().await.create(theirs.clone(), false, TopicSpec::new_computed(1, 1, None)).await.unwrap();
                let produced_ours = engine_produce(&engine, &ours, w).await;
                let produced_theirs = official_produce(&official, &theirs, w).await;
                let consumed_ours = engine_consume(&engine, &ours, w).await;
                let (consumed_theirs, delivered) = official_consume(&official, &theirs, w).await;
                admin.delete_topic(&ours).await.unwrap();
                admin.delete_topic(&theirs).await.unwrap();
                if round == 0 {
                    continue;
                }
                rates[0].push(rate(w.records, produced_ours));
                rates[1].push(rate(w.records, produced_theirs));
                rates[2].push(rate(w.records, consumed_ours));
                rates[3].push(rate(delivered, consumed_theirs));
                official_delivered = official_delivered.min(delivered);
            }
            let [po, pt, co, ct] = rates.map(median);
            println!("| {} | produce | {po:.0} | {pt:.0} | {:.2}x |", w.label, po / pt);
            println!("| {} | consume | {co:.0} | {ct:.0} | {:.2}x |", w.label, co / ct);
            if official_delivered < w.records {
                // Its rate counts the records it delivered.
                println!(
                    "(the official consumer delivered as few as {official_delivered} of {} records: it skips the rest of batches cut at max_bytes)",
                    w.records
                );
            }
        }
        engine.close().await;
        drop(official);
        cluster.shutdown().await;
    });
}
