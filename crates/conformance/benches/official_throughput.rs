//! Throughput of the official `fluvio` client (0.50.1) against the embedded cluster.
//!
//! `cargo bench -p fluvio-conformance --bench official_throughput`
//!
//! For 100-byte and 5 KiB records: produce N records (default producer settings, keyless,
//! flushed and every acknowledgement awaited), then consume them all from the beginning.
//! Each measurement is repeated; the median is printed with the min–max range. Figures, not
//! assertions: nothing here fails on a slow machine.

use std::time::{Duration, Instant};

use fluvio::consumer::ConsumerConfigExtBuilder;
use fluvio::metadata::topic::TopicSpec;
use fluvio::{Fluvio, FluvioClusterConfig, Offset, RecordKey};
use fluvio_local::{ClusterConfig, LocalCluster};
use futures_util::StreamExt;

const REPEATS: usize = 3;

struct Workload {
    label: &'static str,
    record_size: usize,
    records: usize,
}

const WORKLOADS: [Workload; 2] = [
    Workload { label: "100 B", record_size: 100, records: 300_000 },
    Workload { label: "5 KiB", record_size: 5 * 1024, records: 30_000 },
];

fn median(mut values: Vec<f64>) -> (f64, f64, f64) {
    values.sort_by(|a, b| a.partial_cmp(b).unwrap());
    (values[values.len() / 2], values[0], values[values.len() - 1])
}

async fn produce(fluvio: &Fluvio, topic: &str, workload: &Workload) -> Duration {
    let producer = fluvio.topic_producer(topic).await.expect("producer");
    let value = vec![b'x'; workload.record_size];
    let started = Instant::now();
    let mut outputs = Vec::with_capacity(workload.records);
    for _ in 0..workload.records {
        outputs.push(producer.send(RecordKey::NULL, value.clone()).await.expect("send"));
    }
    producer.flush().await.expect("flush");
    for output in outputs {
        output.wait().await.expect("acknowledged");
    }
    started.elapsed()
}

/// The official consumer's read of the partition: its time, and how many records it delivered
/// (fewer than were produced when pushes are cut inside a batch: it skips the rest of a cut
/// batch, as against a real SPU).
async fn consume(fluvio: &Fluvio, topic: &str, workload: &Workload) -> (Duration, usize) {
    let config = ConsumerConfigExtBuilder::default()
        .topic(topic)
        .partition(0)
        .offset_start(Offset::beginning())
        .disable_continuous(true)
        .build()
        .expect("consumer config");
    let started = Instant::now();
    let mut stream = fluvio.consumer_with_config(config).await.expect("consumer");
    let mut count = 0;
    while let Some(record) = stream.next().await {
        let record = record.expect("record");
        assert_eq!(record.value().len(), workload.record_size);
        count += 1;
    }
    (started.elapsed(), count)
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    runtime.block_on(async {
        let dir = tempfile::tempdir().expect("tempdir");
        let cluster = LocalCluster::start(ClusterConfig::new(dir.path())).await.expect("cluster");
        let fluvio =
            Fluvio::connect_with_config(&FluvioClusterConfig::new(cluster.sc_endpoint())).await.expect("connect");
        let admin = fluvio.admin().await;

        println!("Official fluvio 0.50.1 client against fluvio-local (1 SPU, 1 partition, default producer settings)");
        println!("median of {REPEATS} runs (min-max)\n");
        println!("| record | records | produce records/s | produce MB/s | consume records/s | consume MB/s |");
        println!("|---|---|---|---|---|---|");
        for workload in &WORKLOADS {
            let mut produce_rates = Vec::new();
            let mut consume_rates = Vec::new();
            let mut fewest_delivered = workload.records;
            for run in 0..=REPEATS {
                let topic = format!("bench-{}-{run}", workload.record_size);
                admin.create(topic.clone(), false, TopicSpec::new_computed(1, 1, None)).await.expect("topic");
                let produced = produce(&fluvio, &topic, workload).await;
                let (consumed, delivered) = consume(&fluvio, &topic, workload).await;
                admin.delete::<TopicSpec>(topic).await.expect("delete");
                if run == 0 {
                    continue; // warm-up
                }
                produce_rates.push(workload.records as f64 / produced.as_secs_f64());
                consume_rates.push(delivered as f64 / consumed.as_secs_f64());
                fewest_delivered = fewest_delivered.min(delivered);
            }
            let mb = |rate: f64| rate * workload.record_size as f64 / 1e6;
            let (p, p_min, p_max) = median(produce_rates);
            let (c, c_min, c_max) = median(consume_rates);
            println!(
                "| {} | {} | {:.0} ({:.0}-{:.0}) | {:.1} | {:.0} ({:.0}-{:.0}) | {:.1} |",
                workload.label,
                workload.records,
                p,
                p_min,
                p_max,
                mb(p),
                c,
                c_min,
                c_max,
                mb(c)
            );
            if fewest_delivered < workload.records {
                // Its consume rate counts the records it delivered.
                println!(
                    "(the consumer delivered as few as {fewest_delivered} of {} records: it skips the rest of batches cut at max_bytes)",
                    workload.records
                );
            }
        }
        drop(fluvio);
        cluster.shutdown().await;
    });
}
