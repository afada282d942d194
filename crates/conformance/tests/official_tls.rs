//! The official `fluvio` client (crates.io 0.50.1, its default rustls build) against our
//! cluster serving mutual TLS, through verified profiles written by our profile code, with
//! certificate paths and with inline PEM: admin, produce and consume on a topic spread over
//! two SPUs (each verified as `<spu-name>.<domain>`), and our engine reading back over TLS
//! what the official client wrote. Its own test binary: it sets FLV_PROFILE_PATH.

// The certificate helpers of the engine's TLS tests (made at test time with rcgen).
#[path = "../../fluvio-engine/tests/pki/mod.rs"]
mod pki;

use std::time::Duration;

use fluvio::consumer::ConsumerConfigExtBuilder;
use fluvio::metadata::topic::TopicSpec;
use fluvio::{Fluvio, Offset, RecordKey};
use fluvio_local::{ClusterConfig, LocalCluster};
use fluvio_profile::ProfileFile;
use futures_util::StreamExt;
use pki::{DOMAIN, Pki};

const PER_PARTITION: usize = 100;

async fn consume(fluvio: &Fluvio, topic: &str, partition: u32) -> Vec<String> {
    let config = ConsumerConfigExtBuilder::default()
        .topic(topic)
        .partition(partition)
        .offset_start(Offset::beginning())
        .disable_continuous(true)
        .build()
        .expect("consumer config");
    let mut stream = fluvio.consumer_with_config(config).await.expect("consumer");
    let mut values = Vec::new();
    while let Some(record) = tokio::time::timeout(Duration::from_secs(30), stream.next()).await.expect("record in time")
    {
        values.push(String::from_utf8(record.expect("no stream error").value().to_vec()).unwrap());
    }
    values
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn official_client_speaks_mutual_tls_with_our_cluster() {
    let pki = Pki::new("test CA");
    let client = pki.client();
    let cluster = LocalCluster::start(
        ClusterConfig::new(pki.dir.path().join("data"))
            .spus(2)
            .tls(pki.mutual_server_tls(&pki.server()).domain(DOMAIN)),
    )
    .await
    .expect("cluster starts");

    let path = pki.dir.path().join("config");
    let mut file = ProfileFile::load_or_new(&path).unwrap();
    // The official reader requires domain, key, cert and ca_cert for verified TLS.
    file.upsert("files", "files", &cluster.sc_endpoint(), &pki.verified_files(DOMAIN, Some(&client)));
    file.upsert("inline", "inline", &cluster.sc_endpoint(), &pki.verified_inline(DOMAIN, Some(&client)));
    file.set_current_profile("files");
    file.save().unwrap();
    // SAFETY: this binary has a single test, so no other thread reads the environment.
    unsafe { std::env::set_var("FLV_PROFILE_PATH", &path) };

    let fluvio = Fluvio::connect().await.expect("official client connects with the verified files profile");
    let admin = fluvio.admin().await;
    admin.create("secure".to_string(), false, TopicSpec::new_computed(2, 1, None)).await.expect("topic created");
    let producer = fluvio.topic_producer("secure").await.expect("producer");
    for i in 0..PER_PARTITION * 2 {
        producer.send(RecordKey::NULL, format!("record-{i}")).await.expect("sent");
    }
    producer.flush().await.expect("flushed over TLS to both SPUs");
    let mut official = Vec::new();
    for partition in 0..2 {
        let values = consume(&fluvio, "secure", partition).await;
        assert!(!values.is_empty(), "round robin reaches partition {partition}");
        official.push(values);
    }
    assert_eq!(official.iter().map(Vec::len).sum::<usize>(), PER_PARTITION * 2);

    // The inline profile works for the official client too.
    let inline = Fluvio::connect_with_profile("inline").await.expect("official client connects with inline PEM");
    let topics = inline.admin().await.all::<TopicSpec>().await.unwrap();
    assert_eq!(topics.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(), ["secure"]);

    // Our engine, through the same profile file, reads what the official client wrote.
    let engine =
        fluvio_engine::Fluvio::connect_with_profile_file(&path, Some("inline")).await.expect("engine connects");
    for (partition, expected) in official.iter().enumerate() {
        let consumer = engine.partition_consumer("secure", partition as u32);
        let mut stream = consumer.stream(fluvio_engine::Offset::beginning()).await.unwrap();
        let mut values = Vec::new();
        while values.len() < expected.len() {
            let record = tokio::time::timeout(Duration::from_secs(30), stream.next()).await.unwrap().unwrap().unwrap();
            values.push(String::from_utf8(record.value.to_vec()).unwrap());
        }
        assert_eq!(&values, expected);
    }
    engine.close().await;
    cluster.shutdown().await;
}
