//! Server storage failures reach the application typed and at once: a damaged partition is
//! `Storage`, a full disk `StorageFull`, neither retried for minutes, and the partition's status
//! shows a full disk while it lasts.

mod common;

use std::time::{Duration, Instant};

use common::*;
use fluvio_engine::admin::PartitionResolution;
use fluvio_engine::producer::{DeliverySemantic, RetryPolicy};
use fluvio_engine::{ErrorKind, Fluvio, Offset, ProducerConfig, TopicConfig};
use fluvio_local::{ClusterConfig, FIRST_SPU_ID, LocalCluster};

/// At-least-once with a retry budget far longer than the test: a storage error must not use it.
fn patient_producer() -> ProducerConfig {
    let retries =
        DeliverySemantic::AtLeastOnce(RetryPolicy { timeout: Duration::from_secs(600), ..Default::default() });
    ProducerConfig::builder().linger(Duration::ZERO).delivery(retries).build().unwrap()
}

async fn send_error(fluvio: &Fluvio, topic: &str, key: &[u8]) -> fluvio_engine::Error {
    let producer = fluvio.topic_producer_with_config(topic, patient_producer()).await.unwrap();
    let output = producer.send(Some(key), b"value").await.unwrap();
    let outcome = tokio::time::timeout(PATIENCE, output.wait()).await.expect("an answer, not retries for minutes");
    outcome.map(drop).unwrap_err()
}

async fn partition_resolution(fluvio: &Fluvio, topic: &str) -> PartitionResolution {
    fluvio.admin().list_partitions(Some(topic)).await.unwrap()[0].status.resolution
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_partition_is_a_storage_error_for_producers_and_consumers() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = LocalCluster::start(ClusterConfig::new(dir.path())).await.unwrap();
    let fluvio = connect(&cluster).await;
    fluvio.admin().create_topic("damaged", &TopicConfig::new(1, 1)).await.unwrap();
    fluvio.admin().create_topic("intact", &TopicConfig::new(1, 1)).await.unwrap();
    fluvio.close().await;
    cluster.shutdown().await;
    let epochs = dir.path().join(format!("spu-{FIRST_SPU_ID}")).join("damaged-0").join("leader-epochs");
    std::fs::write(epochs, b"\x00\x01garbage, not a leader epoch list").unwrap();

    let cluster = LocalCluster::start(ClusterConfig::new(dir.path())).await.expect("one partition never stops a start");
    let fluvio = connect(&cluster).await;
    let err = send_error(&fluvio, "damaged", b"k").await;
    assert_eq!(err.kind(), ErrorKind::Storage, "{err:?}");
    assert!(!err.is_retriable());
    let mut stream = fluvio.partition_consumer("damaged", 0).stream(Offset::beginning()).await;
    let streamed = match &mut stream {
        Err(err) => err.clone(),
        Ok(stream) => tokio::time::timeout(PATIENCE, stream.next()).await.unwrap().unwrap().unwrap_err(),
    };
    assert_eq!(streamed.kind(), ErrorKind::Storage, "{streamed:?}");
    assert_eq!(partition_resolution(&fluvio, "damaged").await, PartitionResolution::LeaderOffline);
    // The rest of the cluster serves.
    let producer = fluvio.topic_producer("intact").await.unwrap();
    producer.send(None, b"fine").await.unwrap().wait().await.unwrap();
    fluvio.close().await;
    cluster.shutdown().await;
}

/// A tmpfs of `mib` MiB on a fresh directory, unmounted when dropped; `None` (after saying
/// so) where this process may not mount (not root).
struct Tmpfs(tempfile::TempDir);

impl Tmpfs {
    fn mount(mib: u32) -> Option<Self> {
        let dir = tempfile::tempdir().unwrap();
        let status = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={mib}m"), "tmpfs"])
            .arg(dir.path())
            .output();
        if !status.is_ok_and(|output| output.status.success()) {
            eprintln!("skipped: mounting a tmpfs needs root; fluvio-local's unit tests inject the same failure");
            return None;
        }
        Some(Self(dir))
    }

    /// Writes a file until the file system is full.
    fn fill(&self) -> std::path::PathBuf {
        use std::io::Write;
        let path = self.0.path().join("filler");
        let mut file = std::fs::File::create(&path).unwrap();
        while file.write_all(&[7; 4096]).is_ok() {}
        while file.write_all(&[7]).is_ok() {}
        path
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg("-l").arg(self.0.path()).status();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_is_storage_full_at_once_and_shows_in_the_partition_status() {
    let Some(disk) = Tmpfs::mount(16) else { return };
    let cluster = LocalCluster::start(ClusterConfig::new(disk.0.path().join("data"))).await.unwrap();
    let fluvio = connect(&cluster).await;
    fluvio.admin().create_topic("full", &TopicConfig::new(1, 1)).await.unwrap();
    let filler = disk.fill();

    let started = Instant::now();
    let producer = fluvio.topic_producer_with_config("full", patient_producer()).await.unwrap();
    let output = producer.send(None, &vec![b'x'; 256 * 1024]).await.unwrap();
    let err = tokio::time::timeout(PATIENCE, output.wait()).await.unwrap().map(drop).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::StorageFull, "{err:?}");
    assert!(!err.is_retriable());
    eprintln!("storage full reported after {:?}", started.elapsed());
    let deadline = Instant::now() + PATIENCE;
    while partition_resolution(&fluvio, "full").await != PartitionResolution::OutOfStorage {
        assert!(Instant::now() < deadline, "the status never showed the full disk");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Creating a topic whose metadata does not fit (64 partitions: more than the last page of
    // the cluster's metadata journal may still hold) fails typed, and leaves nothing behind.
    let created = fluvio.admin().create_topic("more", &TopicConfig::new(64, 1)).await.unwrap_err();
    assert_eq!(created.kind(), ErrorKind::Storage, "{created:?}");
    assert!(fluvio.admin().list_topics().await.unwrap().iter().all(|t| t.name != "more"));

    // Space is back: the status clears by itself and writes succeed.
    std::fs::remove_file(filler).unwrap();
    let deadline = Instant::now() + PATIENCE;
    while partition_resolution(&fluvio, "full").await != PartitionResolution::Online {
        assert!(Instant::now() < deadline, "the status never cleared");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    producer.send(None, b"stored").await.unwrap().wait().await.unwrap();
    fluvio.admin().create_topic("more", &TopicConfig::new(64, 1)).await.unwrap();
    fluvio.close().await;
    cluster.shutdown().await;
}
