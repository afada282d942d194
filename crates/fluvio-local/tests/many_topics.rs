//! Many one-partition topics under a 1,024 open-file limit (soft and hard, so the cluster cannot
//! raise it): each partition has a log and an index file, so from about 510 topics on a cluster
//! that kept every file open could not create more ("Too many open files"). Every topic is
//! created, written and read back, and recovered by a restart, and the process never holds more
//! files than the limit.
//!
//! 520 topics by default (1,040 segment files, more than the limit; seconds of CI time);
//! `FLUVIO_LOCAL_MANY_TOPICS=10000 cargo test -p fluvio-local --test many_topics` runs the issue's
//! 10,000. The time it takes is not asserted: `examples/cluster_scaling.rs` measures it.
//!
//! The test lowers this process's hard limit, which cannot be undone: it is the only test of
//! this binary.

mod common;

use common::*;
use fluvio_local::{ClusterConfig, LocalCluster};
use fluvio_wire::Compression;
use fluvio_wire::sc::TopicSpec;
use fluvio_wire::spu::Isolation;

/// The open-file limit, soft and hard: a common default.
const LIMIT: u64 = 1024;
/// Topics created unless `FLUVIO_LOCAL_MANY_TOPICS` says otherwise.
const DEFAULT_TOPICS: usize = 520;

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map(|entries| entries.count()).unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_partition_topics_beyond_the_open_file_limit_are_created_written_read_and_restarted() {
    let count = std::env::var("FLUVIO_LOCAL_MANY_TOPICS").ok().and_then(|n| n.parse().ok()).unwrap_or(DEFAULT_TOPICS);
    let limits = libc::rlimit { rlim_cur: LIMIT, rlim_max: LIMIT };
    // SAFETY: a valid rlimit; lowering limits is always allowed.
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limits) }, 0, "{}", std::io::Error::last_os_error());

    let dir = tempfile::tempdir().unwrap();
    let cluster = LocalCluster::start(ClusterConfig::new(dir.path())).await.expect("starts");
    let mut sc = RawClient::connect(cluster.sc_addr()).await;
    let topic = |i: usize| format!("many-{i}");
    for i in 0..count {
        let status = create_topic(&mut sc, &topic(i), TopicSpec::computed(1, 1)).await;
        assert!(status.error_code.is_ok(), "topic {i}: {status:?}");
    }
    assert_eq!(list_topics(&mut sc).await.len(), count);
    assert!(open_fds() <= LIMIT as usize, "{} files open", open_fds());

    // Every partition takes records and serves them (its files are opened on use).
    let mut spu = RawClient::connect(first_spu(&cluster)).await;
    for i in 0..count {
        let value = topic(i);
        let request =
            produce_request(&value, 0, &[batch(&[value.as_bytes()], Compression::None)], Isolation::ReadUncommitted);
        let result = only_result(&spu.call(&request).await).clone();
        assert!(result.error_code.is_ok(), "{value}: {:?}", result.error_code);
        assert_eq!(result.base_offset, 0, "{value}");
    }
    for i in (0..count).step_by((count / 50).max(1)).chain([count - 1]) {
        let push = first_push(first_spu(&cluster), &topic(i), 0, 0).await;
        assert!(push.partition.error_code.is_ok(), "{}: {:?}", topic(i), push.partition.error_code);
        assert_eq!(push.partition.high_watermark, 1, "{}", topic(i));
        let batches = push.partition.records.batches().expect("whole batches");
        let values: Vec<_> =
            batches.iter().flat_map(|b| b.records(1 << 20).expect("records")).map(|r| r.value).collect();
        assert_eq!(values, [topic(i).as_bytes()], "{}", topic(i));
    }
    assert!(open_fds() <= LIMIT as usize, "{} files open", open_fds());
    cluster.shutdown().await;

    // A restart brings every topic back (each partition recovered, under a new leader epoch).
    let cluster = LocalCluster::start(ClusterConfig::new(dir.path())).await.expect("restarts");
    let mut sc = RawClient::connect(cluster.sc_addr()).await;
    assert_eq!(list_topics(&mut sc).await.len(), count);
    for i in [0, count / 2, count - 1] {
        let push = first_push(first_spu(&cluster), &topic(i), 0, 0).await;
        assert_eq!(push.partition.high_watermark, 1, "{}", topic(i));
    }
    assert!(open_fds() <= LIMIT as usize, "{} files open", open_fds());
    cluster.shutdown().await;
}
