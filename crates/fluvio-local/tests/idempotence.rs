//! Idempotent producers' batches, with Kafka's sequence rules, over real sockets: a producer's
//! next batch is stored, a retry is answered with its original offsets (a whole request of
//! many batches, on the leader, on a new leader after a failover, and after a restart), a
//! retry older than what the leader remembers is still not stored twice, and a batch out of
//! order is refused with a typed error and nothing stored.

mod common;

use common::replicated::*;
use common::*;
use fluvio_wire::record::RawBatch;
use fluvio_wire::sc::partition::PartitionResolution;
use fluvio_wire::spu::{Isolation, PartitionProduceResponse};

/// A batch of `producer_id` in `epoch` whose records have values `record-{from..to}` and
/// sequence numbers from `first_sequence`.
fn sequenced(from: usize, to: usize, producer_id: i64, epoch: i16, first_sequence: i32) -> RawBatch {
    let mut batch = idempotent_batch(from, to, producer_id, first_sequence);
    batch.header.producer_epoch = epoch;
    batch
}

/// `count` consecutive batches of 2 records of producer 7, epoch 0, starting at record `from`.
fn consecutive(from: usize, count: usize) -> Vec<RawBatch> {
    (0..count).map(|i| sequenced(from + 2 * i, from + 2 * i + 2, 7, 0, (from + 2 * i) as i32)).collect()
}

/// Sends `batches` in one request, one partition entry each; returns the entries' answers.
async fn produce_all(
    spu: std::net::SocketAddr,
    topic: &str,
    batches: &[RawBatch],
    isolation: Isolation,
) -> Vec<PartitionProduceResponse> {
    let request = produce_request(topic, 0, batches, isolation);
    let response = RawClient::connect(spu).await.call(&request).await;
    response.responses[0].partitions.clone()
}

fn base_offsets(answers: &[PartitionProduceResponse]) -> Vec<i64> {
    for answer in answers {
        assert!(answer.error_code.is_ok(), "{:?}", answer.error_code);
    }
    answers.iter().map(|a| a.base_offset).collect()
}

/// The partition's high watermark (its log end once everything is committed).
async fn high_watermark(spu: std::net::SocketAddr, topic: &str) -> i64 {
    fetch_offsets(spu, topic).await.1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_out_of_order_is_refused_with_a_typed_error_and_nothing_is_stored() {
    let mut s = setup(|c| c.spus(1)).await;
    assigned_topic(&mut s.sc, "order", &[SPU_1]).await;
    let spu = addr(&s.cluster, SPU_1);
    let stored = |from, to, epoch, sequence| sequenced(from, to, 42, epoch, sequence);
    assert_eq!(produce(spu, "order", &stored(0, 3, 0, 0), Isolation::ReadCommitted).await.base_offset, 0);
    for (refused, why) in [
        (stored(3, 5, 0, 5), "a gap"),
        (stored(3, 5, 0, 2), "overlapping the last stored record"),
        (stored(3, 5, 1, 3), "a new epoch that does not start at 0"),
    ] {
        let answer = produce(spu, "order", &refused, Isolation::ReadCommitted).await;
        assert!(answer.error_code.is_out_of_order_sequence(), "{why}: {:?}", answer.error_code);
        assert_eq!(answer.base_offset, -1, "{why}");
    }
    assert_eq!(high_watermark(spu, "order").await, 3, "nothing stored");
    assert_eq!(produce(spu, "order", &stored(3, 5, 0, 3), Isolation::ReadCommitted).await.base_offset, 3);
    // A producer that restarts its numbering in a new epoch goes on; its old epoch is over.
    assert_eq!(produce(spu, "order", &stored(5, 6, 1, 0), Isolation::ReadCommitted).await.base_offset, 5);
    let stale = produce(spu, "order", &stored(6, 7, 0, 5), Isolation::ReadCommitted).await;
    assert!(stale.error_code.is_out_of_order_sequence(), "{:?}", stale.error_code);
    // An entry of several batches with a gap inside is refused whole.
    let mut request = produce_request("order", 0, &[], Isolation::ReadCommitted);
    request.topics[0].partitions.push(fluvio_wire::spu::PartitionProduceData {
        partition_index: 0,
        records: fluvio_wire::RecordSet::from_batches([&stored(6, 7, 1, 1), &stored(7, 8, 1, 3)]).unwrap(),
    });
    let answer = RawClient::connect(spu).await.call(&request).await;
    assert!(only_result(&answer).error_code.is_out_of_order_sequence());
    let records = read(spu, "order", Isolation::ReadCommitted, 6).await;
    assert_eq!(values(&records), expected(0, 6));
    assert_eq!(high_watermark(spu, "order").await, 6);
    s.cluster.shutdown().await;
}

/// A request of as many batches as the engine ever sends at once (64), each in its own entry,
/// retried whole after its answer was lost: on the leader, on the follower that becomes
/// leader, and on that leader after a restart, every batch is recognized and answered with
/// its original offset. Beyond what the leader remembers, a retry is still not stored twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_request_of_many_batches_is_recognized_whole_across_failover_and_restart() {
    let mut s = setup(|c| c).await;
    assigned_topic(&mut s.sc, "many", &[SPU_1, SPU_2, SPU_3]).await;
    let request = consecutive(0, 64);
    let originals: Vec<i64> = (0..64).map(|i| 2 * i).collect();
    let committed = Isolation::ReadCommitted;
    assert_eq!(base_offsets(&produce_all(addr(&s.cluster, SPU_1), "many", &request, committed).await), originals);
    assert_eq!(base_offsets(&produce_all(addr(&s.cluster, SPU_1), "many", &request, committed).await), originals);
    wait_replicated(&mut s.sc, "many-0", 3, 128).await;

    s.cluster.kill_spu(SPU_1).await.unwrap();
    let leader = wait_partition(&mut s.sc, "many-0", "a new leader", |p| {
        p.spec.leader != SPU_1 && p.status.resolution == PartitionResolution::Online
    })
    .await
    .spec
    .leader;
    let new_leader = addr(&s.cluster, leader);
    assert_eq!(base_offsets(&produce_all(new_leader, "many", &request, committed).await), originals);
    assert_eq!(high_watermark(new_leader, "many").await, 128, "nothing stored twice");

    // The new leader restarts alone (the others down): it rebuilds what it knows from its log.
    // (Its in-sync set may still name a replica that is down: acknowledgement by the leader.)
    let stored = Isolation::ReadUncommitted;
    let others: Vec<i32> = [SPU_2, SPU_3].into_iter().filter(|id| *id != leader).collect();
    for id in others.iter().chain([&leader]) {
        s.cluster.stop_spu(*id).await.unwrap();
    }
    s.cluster.start_spu(leader).await.unwrap();
    let restarted = addr(&s.cluster, leader);
    assert_eq!(base_offsets(&produce_all(restarted, "many", &request, stored).await), originals);
    let next = produce_all(restarted, "many", &consecutive(128, 70), stored).await;
    let next_originals: Vec<i64> = (0..70).map(|i| 128 + 2 * i).collect();
    assert_eq!(base_offsets(&next), next_originals);
    // 70 batches, 64 remembered: the 6 oldest are recognized as stored, at unknown offsets.
    let again = base_offsets(&produce_all(restarted, "many", &consecutive(128, 70), stored).await);
    assert_eq!(again[..6], [-1; 6]);
    assert_eq!(again[6..], next_originals[6..]);
    assert_eq!(base_offsets(&produce_all(restarted, "many", &request, stored).await), vec![-1; 64], "older still");
    let records = read(restarted, "many", stored, 268).await;
    assert_eq!(values(&records), expected(0, 268), "each record once, in order");
    let more = produce(restarted, "many", &idempotent_batch(268, 269, 7, 268), stored).await;
    assert_eq!(more.base_offset, 268, "nothing was stored twice before");
    s.cluster.shutdown().await;
}
