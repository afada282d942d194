//! The official `fluvio` client (0.50.1) with fluvio-local's idle timeout made short: its
//! producer, idle past the timeout (its SPU connection cut), still delivers; its consumer,
//! waiting past the timeout for records, is never cut and gets them; its metadata watches keep
//! working (a new topic is usable).

use std::time::Duration;

use fluvio::consumer::ConsumerConfigExtBuilder;
use fluvio::metadata::topic::TopicSpec;
use fluvio::{Fluvio, FluvioClusterConfig, Offset, RecordKey};
use fluvio_local::{ClusterConfig, LocalCluster};
use futures_util::StreamExt;

const IDLE: Duration = Duration::from_millis(500);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_client_works_across_idle_timeouts() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = LocalCluster::start(ClusterConfig::new(dir.path()).idle_timeout(IDLE)).await.unwrap();
    let fluvio = Fluvio::connect_with_config(&FluvioClusterConfig::new(cluster.sc_endpoint())).await.unwrap();
    fluvio.admin().await.create("quiet".to_string(), false, TopicSpec::new_computed(1, 1, None)).await.unwrap();

    let producer = fluvio.topic_producer("quiet").await.unwrap();
    producer.send(RecordKey::NULL, "first").await.unwrap();
    producer.flush().await.unwrap();

    let config = ConsumerConfigExtBuilder::default()
        .topic("quiet".to_string())
        .partition(0)
        .offset_start(Offset::beginning())
        .build()
        .unwrap();
    let mut stream = fluvio.consumer_with_config(config).await.unwrap();
    let first = tokio::time::timeout(Duration::from_secs(10), stream.next()).await.unwrap().unwrap().unwrap();
    assert_eq!(first.value(), b"first");

    // Quiet for several idle timeouts: the producer's connection has nothing going on, the
    // stream waits for records.
    tokio::time::sleep(IDLE * 4).await;
    let mut delivered = false;
    for _ in 0..20 {
        let sent = async {
            let output = producer.send(RecordKey::NULL, "second").await?;
            producer.flush().await?;
            output.wait().await.map_err(anyhow::Error::from)
        };
        if tokio::time::timeout(Duration::from_secs(5), sent).await.is_ok_and(|r| r.is_ok()) {
            delivered = true;
            break;
        }
    }
    assert!(delivered, "the official producer delivers after its connection went idle");
    let second = tokio::time::timeout(Duration::from_secs(10), stream.next()).await.unwrap().unwrap().unwrap();
    assert_eq!(second.value(), b"second", "the waiting stream was not cut");

    // The metadata watches (on the SC connection) still work: a new topic is found.
    fluvio.admin().await.create("later".to_string(), false, TopicSpec::new_computed(1, 1, None)).await.unwrap();
    let later = fluvio.topic_producer("later").await.unwrap();
    later.send(RecordKey::NULL, "x").await.unwrap();
    later.flush().await.unwrap();
    cluster.shutdown().await;
}
