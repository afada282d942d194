//! A cluster under a low open-file limit with far more partitions than the limit would allow
//! if every partition kept its files open: topics are created, written, read (by consumers and
//! by followers), and the cluster restarts and recovers them, within the limit.
//!
//! The test changes this process's limits (and lowers the hard one, which cannot be undone): it
//! is the only test of this binary.

mod common;

use common::*;
use fluvio_local::{ClusterConfig, LocalCluster};
use fluvio_wire::sc::TopicSpec;
use fluvio_wire::spu::Isolation;

/// The process's open-file limit, soft and hard.
const LIMIT: u64 = 256;
/// One-partition topics with one replica: each partition has a log and an index file, so
/// together more than twice the limit.
const SINGLE_REPLICA_TOPICS: usize = 260;
/// Topics with two replicas: their followers read from their leaders through the pool too.
const REPLICATED_TOPICS: usize = 16;

fn open_file_limits() -> libc::rlimit {
    let mut limits = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: a valid rlimit to fill.
    assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limits) }, 0);
    limits
}

fn set_open_file_limits(soft: u64, hard: u64) {
    let limits = libc::rlimit { rlim_cur: soft, rlim_max: hard };
    // SAFETY: a valid rlimit; lowering limits is always allowed.
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limits) }, 0, "{}", std::io::Error::last_os_error());
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map(|entries| entries.count()).unwrap_or(0)
}

fn topics() -> impl Iterator<Item = (String, u32)> {
    let single = (0..SINGLE_REPLICA_TOPICS).map(|i| (format!("single-{i}"), 1));
    single.chain((0..REPLICATED_TOPICS).map(|i| (format!("replicated-{i}"), 2)))
}

/// The leader's address of `topic`'s only partition.
async fn leader(cluster: &LocalCluster, sc: &mut RawClient, topic: &str) -> std::net::SocketAddr {
    let partition = format!("{topic}-0");
    let leader = list_partitions(sc).await.into_iter().find(|p| p.name == partition).expect("listed").spec.leader;
    cluster.spu_addrs().into_iter().find(|(id, _)| *id == leader).expect("leader runs").1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_with_many_partitions_works_within_a_low_open_file_limit() {
    // A start raises a soft limit below the hard one to the hard one.
    let hard = open_file_limits().rlim_max;
    if hard == libc::RLIM_INFINITY || hard > LIMIT {
        set_open_file_limits(LIMIT, hard);
        let dir = tempfile::tempdir().unwrap();
        let cluster = LocalCluster::start(ClusterConfig::new(dir.path())).await.expect("starts");
        let raised = open_file_limits();
        assert!(raised.rlim_cur > LIMIT, "{}", raised.rlim_cur);
        assert_eq!(raised.rlim_max, hard);
        cluster.shutdown().await;
    }

    // With a hard limit as low: everything works within it.
    set_open_file_limits(LIMIT, LIMIT);
    let dir = tempfile::tempdir().unwrap();
    let config = || ClusterConfig::new(dir.path()).spus(2);
    let cluster = LocalCluster::start(config()).await.expect("starts");
    let mut sc = RawClient::connect(cluster.sc_addr()).await;
    for (topic, replicas) in topics() {
        let status = create_topic(&mut sc, &topic, TopicSpec::computed(1, replicas)).await;
        assert!(status.error_code.is_ok(), "{topic}: {status:?}");
    }

    // Written twice (acknowledged once every replica has the records) and read back.
    for round in 0..2 {
        let mut leaders = Vec::new();
        for (topic, _) in topics() {
            let spu = leader(&cluster, &mut sc, &topic).await;
            let value = format!("{topic} {round}");
            let request = produce_request(
                &topic,
                0,
                &[batch(&[value.as_bytes()], fluvio_wire::Compression::None)],
                Isolation::ReadCommitted,
            );
            let result = only_result(&RawClient::connect(spu).await.call(&request).await).clone();
            assert!(result.error_code.is_ok(), "{topic}: {:?}", result.error_code);
            assert_eq!(result.base_offset, round);
            leaders.push(spu);
        }
        for ((topic, _), spu) in topics().zip(leaders) {
            let push = first_push(spu, &topic, 0, 0).await;
            assert!(push.partition.error_code.is_ok(), "{topic}: {:?}", push.partition.error_code);
            assert_eq!(push.partition.high_watermark, round + 1, "{topic}");
        }
        assert!(open_fds() <= LIMIT as usize);
    }
    cluster.shutdown().await;

    // Every partition recovers within the limit, with its records.
    let cluster = LocalCluster::start(config()).await.expect("restarts");
    let mut sc = RawClient::connect(cluster.sc_addr()).await;
    assert_eq!(list_topics(&mut sc).await.len(), SINGLE_REPLICA_TOPICS + REPLICATED_TOPICS);
    for (topic, _) in topics() {
        let spu = leader(&cluster, &mut sc, &topic).await;
        let push = first_push(spu, &topic, 0, 0).await;
        assert!(push.partition.error_code.is_ok(), "{topic}: {:?}", push.partition.error_code);
        assert_eq!(push.partition.high_watermark, 2, "{topic}");
    }
    cluster.shutdown().await;
}
