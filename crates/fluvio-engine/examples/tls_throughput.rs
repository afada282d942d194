//! What TLS costs: produce and consume throughput of the engine over plain TCP and over mutual
//! TLS, against two embedded `fluvio-local` clusters started by this program in this process
//! (one plain, one TLS, same settings), with certificates made at start.
//!
//! ```text
//! cargo run --release -p fluvio-engine --example tls_throughput -- [rounds] [small-records] [large-records]
//! ```
//!
//! For each record size (100 B and 5 KiB), one warm-up round and `rounds` measured rounds
//! (default 3), alternating plain and TLS, each create a topic, produce keyless records (batch 16384 B,
//! linger 10 ms; timed from the first send until every acknowledgement is in), consume them
//! back from the beginning and delete the topic. Prints the medians as a Markdown table. A
//! benchmark, not a test: nothing is asserted.

#[path = "support/args.rs"]
mod args;

use std::time::{Duration, Instant};

use args::arg;
use fluvio_engine::{ClientConfig, Fluvio, Offset, ProducerConfig, TopicConfig};
use fluvio_local::{ClusterConfig, LocalCluster, ServerTls};
use fluvio_profile::{TlsCerts, TlsPolicy, TlsSource};
use rcgen::{BasicConstraints, CertificateParams, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair};

const DOMAIN: &str = "fluvio.bench";

/// Server TLS requiring client certificates, and the matching client policy.
fn mutual_tls() -> (ServerTls, TlsPolicy) {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_pem = ca.self_signed(&ca_key).unwrap().pem();
    let issuer = Issuer::new(ca, ca_key);
    let leaf = |names: Vec<String>, usage| {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(names).unwrap();
        params.extended_key_usages = vec![usage];
        (params.signed_by(&key, &issuer).unwrap().pem(), key.serialize_pem())
    };
    let (server_cert, server_key) =
        leaf(vec![DOMAIN.into(), format!("*.{DOMAIN}")], ExtendedKeyUsagePurpose::ServerAuth);
    let (client_cert, client_key) = leaf(vec!["client.fluvio.bench".into()], ExtendedKeyUsagePurpose::ClientAuth);
    let server = ServerTls::new(server_cert, server_key).client_ca(&ca_pem).require_client_cert(true).domain(DOMAIN);
    let client =
        TlsPolicy::Verified(TlsSource::Inline(TlsCerts::new(DOMAIN, ca_pem).with_client_cert(client_cert, client_key)));
    (server, client)
}

/// Records per second of one round: (produce, consume).
async fn round(fluvio: &Fluvio, topic: &str, records: usize, size: usize) -> fluvio_engine::Result<(f64, f64)> {
    let value = vec![b'x'; size];
    fluvio.admin().create_topic(topic, &TopicConfig::new(1, 1)).await?;
    let config = ProducerConfig::builder().batch_size(16384).linger(Duration::from_millis(10)).build()?;
    let producer = fluvio.topic_producer_with_config(topic, config).await?;
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
    drop(producer);

    let started = Instant::now();
    let mut stream = fluvio.partition_consumer(topic, 0).stream(Offset::beginning()).await?;
    for _ in 0..records {
        stream.next().await.expect("stream open")?;
    }
    let consumed = started.elapsed();
    drop(stream);
    fluvio.admin().delete_topic(topic).await?;
    Ok((records as f64 / produced.as_secs_f64(), records as f64 / consumed.as_secs_f64()))
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// An embedded cluster and a client of it.
struct Target {
    cluster: LocalCluster,
    fluvio: Fluvio,
    _dir: tempfile::TempDir,
}

async fn target(server: Option<ServerTls>, client: TlsPolicy) -> fluvio_engine::Result<Target> {
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut config = ClusterConfig::new(dir.path());
    if let Some(server) = server {
        config = config.tls(server);
    }
    let cluster = LocalCluster::start(config).await.expect("cluster starts");
    let fluvio = Fluvio::connect_with_config(ClientConfig::new(cluster.sc_endpoint()).with_tls(client)).await?;
    Ok(Target { cluster, fluvio, _dir: dir })
}

fn thousands(value: f64) -> String {
    let digits = format!("{:.0}", value);
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[tokio::main]
async fn main() -> fluvio_engine::Result<()> {
    let rounds: usize = arg(1, 3);
    let workloads = [(arg(2, 1_000_000), 100), (arg(3, 50_000), 5 * 1024)];
    let (server, client) = mutual_tls();
    let targets = [target(None, TlsPolicy::Disabled).await?, target(Some(server), client).await?];
    // Rounds alternate between the transports, so that load from elsewhere on the machine
    // weighs on both alike.
    let mut rates = vec![vec![(Vec::new(), Vec::new()); targets.len()]; workloads.len()];
    for (index, &(records, size)) in workloads.iter().enumerate() {
        for round_index in 0..=rounds {
            for (which, target) in targets.iter().enumerate() {
                let topic = format!("tls-bench-{index}-{round_index}");
                let (produce, consume) = round(&target.fluvio, &topic, records, size).await?;
                if round_index > 0 {
                    rates[index][which].0.push(produce);
                    rates[index][which].1.push(consume);
                }
            }
        }
    }
    for target in targets {
        target.fluvio.close().await;
        target.cluster.shutdown().await;
    }
    let medians: Vec<Vec<(f64, f64)>> = rates
        .into_iter()
        .map(|per_target| per_target.into_iter().map(|(p, c)| (median(p), median(c))).collect())
        .collect();
    let plain: Vec<(f64, f64)> = medians.iter().map(|m| m[0]).collect();
    let tls: Vec<(f64, f64)> = medians.iter().map(|m| m[1]).collect();

    println!("| record | records | direction | plain (records/s) | mutual TLS (records/s) | TLS / plain | TLS MB/s |");
    println!("|---|---|---|---|---|---|---|");
    for (index, &(records, size)) in workloads.iter().enumerate() {
        let label = if size >= 1024 { format!("{} KiB", size / 1024) } else { format!("{size} B") };
        for (direction, plain_rate, tls_rate) in
            [("produce", plain[index].0, tls[index].0), ("consume", plain[index].1, tls[index].1)]
        {
            println!(
                "| {label} | {} | {direction} | {} | {} | {:.2}× | {:.1} |",
                thousands(records as f64),
                thousands(plain_rate),
                thousands(tls_rate),
                tls_rate / plain_rate,
                tls_rate * size as f64 / 1e6,
            );
        }
    }
    Ok(())
}
