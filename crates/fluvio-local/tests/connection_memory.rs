//! Memory held for unfinished requests is bounded by the cluster's buffer budget, however many
//! peers send huge requests and stop half-way. A test binary of its own: it measures the
//! resident memory of the process, which other tests running alongside would disturb.

use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use fluvio_local::{ClusterConfig, LocalCluster};
use tokio::io::AsyncWriteExt;

const MIB: u64 = 1024 * 1024;

/// Resident memory of this process, in bytes.
fn resident_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("Linux /proc");
    let pages: u64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as u64;
    pages * page
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peers_with_huge_unfinished_requests_hold_at_most_the_budget() {
    const PEERS: usize = 8;
    const SENT: usize = 24 * 1024 * 1024;
    let budget = 64 * MIB as usize;
    let dir = tempfile::tempdir().unwrap();
    let cluster = LocalCluster::start(ClusterConfig::new(dir.path()).max_buffered_bytes(budget)).await.unwrap();
    let spu = cluster.spu_addrs()[0].1;
    // What every peer sends: a 64 MiB announcement, then 24 MiB of it (touched now, so that
    // the test's own copy is in the baseline).
    let mut start = BytesMut::with_capacity(4 + SENT);
    start.put_i32((64 * MIB) as i32 - 1);
    start.put_bytes(0xAB, SENT);
    let start: Bytes = start.freeze();
    let baseline = resident_bytes();

    let mut peers = Vec::new();
    for _ in 0..PEERS {
        let start = start.clone();
        peers.push(tokio::spawn(async move {
            let mut stream = tokio::net::TcpStream::connect(spu).await.unwrap();
            // Blocks once the server stops reading; ends with an error when it hangs up.
            let _ = stream.write_all(&start).await;
            std::future::pending::<()>().await;
        }));
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let grown = resident_bytes().saturating_sub(baseline);
    eprintln!("{PEERS} peers sent {} MiB each: the process grew by {} MiB", SENT as u64 / MIB, grown / MIB);
    // Without the budget every peer's bytes are buffered: 8 x 24 MiB. With it, one peer at a
    // time is read; the others wait in their kernel socket buffers.
    assert!(grown < budget as u64 + 32 * MIB, "grew by {} MiB", grown / MIB);
    for peer in peers {
        peer.abort();
    }
    cluster.shutdown().await;
}
