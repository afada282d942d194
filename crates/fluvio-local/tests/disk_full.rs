//! A full disk, for real: the cluster's data directory is a small tmpfs, filled up with a
//! file. Appends fail with `PartitionFull` and the partition shows `OutOfStorage`; a topic
//! creation fails with nothing left behind; the cluster restarts while the disk is still full;
//! and once space is back, everything serves again by itself.
//!
//! Mounting needs root (or CAP_SYS_ADMIN); where it is not allowed the test says so and
//! passes without running. The same failures are also covered with an injected write error
//! in the crate's unit tests, which run everywhere.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::*;
use fluvio_local::{ClusterConfig, LocalCluster};
use fluvio_wire::ErrorCode;
use fluvio_wire::error_code::ReplicaKey;
use fluvio_wire::sc::TopicSpec;
use fluvio_wire::sc::partition::PartitionResolution;

/// A tmpfs of a few MiB, unmounted when dropped.
struct SmallDisk {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

impl SmallDisk {
    fn mount(mib: u32) -> Option<Self> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("disk");
        std::fs::create_dir(&path).unwrap();
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={mib}m"), "tmpfs"])
            .arg(&path)
            .output()
            .is_ok_and(|output| output.status.success());
        if !mounted {
            eprintln!("skipped: cannot mount a tmpfs here (needs root); the unit tests inject the same failures");
            return None;
        }
        Some(Self { _dir: dir, path })
    }

    /// Fills the file system with a file; returns its path.
    fn fill(&self) -> PathBuf {
        let filler = self.path.join("filler");
        let mut file = std::fs::File::create(&filler).unwrap();
        let chunk = vec![0xAB; 64 * 1024];
        loop {
            if let Err(err) = file.write_all(&chunk) {
                assert_eq!(err.raw_os_error(), Some(28), "ENOSPC: {err}");
                break;
            }
        }
        // Whatever is left is smaller than a page or two: fill it byte by byte.
        while file.write_all(&[0]).is_ok() {}
        filler
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.path).status();
    }
}

/// Partitions of a topic whose metadata takes several pages of the journal.
const LARGE_TOPIC_PARTITIONS: u32 = 64;

async fn start(base: &Path) -> LocalCluster {
    let starting = LocalCluster::start(ClusterConfig::new(base));
    tokio::time::timeout(Duration::from_secs(15), starting).await.expect("the start does not hang").expect("starts")
}

async fn wait_resolution(sc: &mut RawClient, partition: &str, wanted: PartitionResolution) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let partitions = list_partitions(sc).await;
        let current = partitions.iter().find(|p| p.name == partition).map(|p| p.status.resolution);
        if current == Some(wanted) {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "{partition} is {current:?}, not {wanted:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_fails_writes_typed_and_the_cluster_recovers_once_space_is_back() {
    let Some(disk) = SmallDisk::mount(16) else { return };
    let base = disk.path.join("data");
    let big = vec![b'x'; 256 * 1024];

    let cluster = start(&base).await;
    let mut sc = RawClient::connect(cluster.sc_addr()).await;
    assert!(create_topic(&mut sc, "a", TopicSpec::computed(1, 1)).await.error_code.is_ok());
    assert!(produce_values(first_spu(&cluster), "a", 0, &[b"0", b"1", b"2"]).await.error_code.is_ok());

    let filler = disk.fill();
    // An append: a typed "partition full", and the partition shows it.
    let refused = produce_values(first_spu(&cluster), "a", 0, &[&big]).await;
    assert_eq!(refused.error_code, ErrorCode::PartitionFull { replica_key: ReplicaKey::new("a", 0) });
    wait_resolution(&mut sc, "a-0", PartitionResolution::OutOfStorage).await;
    // Still readable.
    let push = first_push(first_spu(&cluster), "a", 0, 0).await;
    assert!(push.partition.error_code.is_ok());
    assert_eq!(push.partition.high_watermark, 3);
    // A topic whose metadata does not fit (a metadata change is appended to a journal: a small
    // one may still fit in the journal's last page) cannot be created, and nothing of it
    // remains.
    let created = create_topic(&mut sc, "b", TopicSpec::computed(LARGE_TOPIC_PARTITIONS, 1)).await;
    assert_eq!(created.error_code, ErrorCode::StorageError, "{created:?}");
    assert!(list_topics(&mut sc).await.iter().all(|t| t.name != "b"), "no phantom topic");
    cluster.shutdown().await;

    // A restart while the disk is still full works; what cannot be stored waits for space.
    let cluster = start(&base).await;
    let mut sc = RawClient::connect(cluster.sc_addr()).await;
    assert!(list_topics(&mut sc).await.iter().all(|t| t.name != "b"));

    // Space comes back: the partition serves again without a restart.
    std::fs::remove_file(&filler).unwrap();
    wait_resolution(&mut sc, "a-0", PartitionResolution::Online).await;
    let appended = produce_values(first_spu(&cluster), "a", 0, &[&big]).await;
    assert!(appended.error_code.is_ok(), "{:?}", appended.error_code);
    assert_eq!(appended.base_offset, 3, "nothing of the refused append was kept");
    assert!(create_topic(&mut sc, "b", TopicSpec::computed(LARGE_TOPIC_PARTITIONS, 1)).await.error_code.is_ok());
    assert!(cluster.unavailable_partitions().is_empty());
    cluster.shutdown().await;

    // And every later restart has everything.
    let cluster = start(&base).await;
    let mut sc = RawClient::connect(cluster.sc_addr()).await;
    let mut names: Vec<String> = list_topics(&mut sc).await.into_iter().map(|t| t.name).collect();
    names.sort();
    assert_eq!(names, ["a", "b"]);
    assert_eq!(first_push(first_spu(&cluster), "a", 0, 0).await.partition.high_watermark, 4);
    cluster.shutdown().await;
}
