//! The idempotent producer: each producer's batches carry its random id, epoch 0 and
//! per-partition sequence numbers (as stored by the embedded cluster, and as sent on the wire),
//! a retry re-sends the very same bytes, and `idempotent(false)` writes -1s as the official
//! client does.

mod common;
mod scripted;

use std::collections::BTreeMap;
use std::time::Duration;

use common::*;
use fluvio_engine::producer::{DeliverySemantic, RetryPolicy};
use fluvio_engine::{ClientConfig, ErrorKind, Fluvio, ProducerConfig, TopicProducer};
use fluvio_wire::ErrorCode;
use fluvio_wire::record::{BatchHeader, RawBatch};
use scripted::{FIRST_SPU, ProduceStep, ScriptedCluster};

/// Sends `counts[i]` records to partition `i`, one batch per partition (flushed together).
async fn send_round(producer: &TopicProducer, counts: &[usize], tag: &str) {
    for (partition, count) in counts.iter().enumerate() {
        for n in 0..*count {
            producer.send_to(Some(partition as u32), None, format!("{tag}-{partition}-{n}").as_bytes()).await.unwrap();
        }
    }
    producer.flush().await.unwrap();
}

/// (producer id, epoch, first sequence, record count) of each stored batch.
fn idempotence_fields(headers: &[BatchHeader]) -> Vec<(i64, i16, i32, i64)> {
    headers.iter().map(|h| (h.producer_id, h.producer_epoch, h.first_sequence, h.record_count())).collect()
}

async fn stored_headers(s: &Setup, topic: &str, partition: u32) -> Vec<BatchHeader> {
    let spu = leader_of(&s.fluvio, topic, partition).await;
    stored_batches(s.dir.path(), spu, topic, partition)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stored_batches_carry_the_producer_id_epoch_0_and_per_partition_sequences() {
    let s = setup(2).await;
    topic(&s.fluvio, "idempotent", 2).await;
    let lingering = || ProducerConfig::builder().linger(Duration::from_secs(600)).build().unwrap();
    let config = lingering();
    assert!(config.is_idempotent(), "the default");
    let producer = s.fluvio.topic_producer_with_config("idempotent", config).await.unwrap();
    let id = producer.producer_id().expect("an idempotent producer has an id");
    assert!(id > 0);
    for round in 0..3 {
        send_round(&producer, &[round + 1, round + 2], "first").await;
    }
    // A clone is the same producer: same id, the sequences go on.
    send_round(&producer.clone(), &[1, 1], "clone").await;
    // Another producer has an id of its own and numbers from 0 again.
    let other = s.fluvio.topic_producer_with_config("idempotent", lingering()).await.unwrap();
    let other_id = other.producer_id().unwrap();
    assert_ne!(other_id, id);
    send_round(&other, &[2, 3], "other").await;

    let expected = BTreeMap::from([
        (0, vec![(id, 0, 0, 1), (id, 0, 1, 2), (id, 0, 3, 3), (id, 0, 6, 1), (other_id, 0, 0, 2)]),
        (1, vec![(id, 0, 0, 2), (id, 0, 2, 3), (id, 0, 5, 4), (id, 0, 9, 1), (other_id, 0, 0, 3)]),
    ]);
    for (partition, expected) in expected {
        let headers = stored_headers(&s, "idempotent", partition).await;
        assert_eq!(idempotence_fields(&headers), expected, "partition {partition}");
    }
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_producer_that_is_not_idempotent_writes_minus_one_like_the_official_client() {
    let s = setup(1).await;
    topic(&s.fluvio, "plain", 1).await;
    let config = ProducerConfig::builder().idempotent(false).linger(Duration::from_secs(600)).build().unwrap();
    assert!(!config.is_idempotent());
    let producer = s.fluvio.topic_producer_with_config("plain", config).await.unwrap();
    assert_eq!(producer.producer_id(), None);
    for round in 0..3 {
        send_round(&producer, &[round + 1], "plain").await;
    }
    let headers = stored_headers(&s, "plain", 0).await;
    assert_eq!(idempotence_fields(&headers), [(-1, -1, -1, 1), (-1, -1, -1, 2), (-1, -1, -1, 3)]);
    s.shutdown().await;
}

async fn connect(cluster: &ScriptedCluster) -> Fluvio {
    let config = ClientConfig::new(cluster.sc_endpoint())
        .with_connect_timeout(Duration::from_secs(2))
        .with_request_timeout(Duration::from_secs(5));
    Fluvio::connect_with_config(config).await.expect("client connects")
}

fn quick_retries() -> DeliverySemantic {
    DeliverySemantic::AtLeastOnce(RetryPolicy {
        max_retries: 100,
        initial_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(200),
        timeout: PATIENCE,
    })
}

/// The batch of each partition entry of each produce request the scripted cluster saw.
fn sent_batches(cluster: &ScriptedCluster) -> Vec<Vec<RawBatch>> {
    cluster
        .produces()
        .iter()
        .map(|seen| seen.entries().iter().map(|(_, records)| one_batch(records)).collect())
        .collect()
}

fn one_batch(records: &fluvio_wire::RecordSet) -> RawBatch {
    let batches = records.batches().expect("batches decode");
    assert_eq!(batches.len(), 1, "one batch per partition entry");
    batches.into_iter().next().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_re_sends_the_identical_batch_and_it_is_stored_once() {
    for lost in [ProduceStep::DropAfterAppend, ProduceStep::DropBeforeAppend] {
        let cluster = ScriptedCluster::start("retried", 1, 1).await;
        let fluvio = connect(&cluster).await;
        let config =
            ProducerConfig::builder().linger(Duration::from_secs(600)).delivery(quick_retries()).build().unwrap();
        let producer = fluvio.topic_producer_with_config("retried", config).await.unwrap();
        let id = producer.producer_id().unwrap();
        cluster.script_produce(FIRST_SPU, [lost.clone()]);

        let outputs = producer.send_all([(None, &b"a"[..]), (None, &b"b"[..])]).await.unwrap();
        producer.flush().await.unwrap();
        let first = outputs[0].wait().await.unwrap().offset;
        let after = producer.send(None, b"after").await.unwrap();
        producer.flush().await.unwrap();
        let after = after.wait().await.unwrap().offset;

        let seen = cluster.produces();
        assert!(seen.len() >= 3, "{lost:?}: {} requests", seen.len());
        // The first attempt and its retry carry the same bytes: same sequence, same CRC.
        let (attempt, retry) = (&seen[0].entries()[0].1, &seen[1].entries()[0].1);
        assert_eq!(attempt.as_bytes(), retry.as_bytes(), "{lost:?}");
        let batches = sent_batches(&cluster);
        let header = batches[0][0].header;
        assert_eq!((header.producer_id, header.producer_epoch, header.first_sequence), (id, 0, 0), "{lost:?}");
        assert!(batches[0][0].crc_is_valid());
        let last = batches.last().unwrap()[0].header;
        assert_eq!(last.first_sequence, header.first_sequence + header.record_count() as i32, "{lost:?}");

        let stored = cluster.stored(0);
        let counts: Vec<i64> = stored.iter().map(|b| b.header.record_count()).collect();
        assert_eq!(counts, [2, 1], "{lost:?}: stored once");
        assert_eq!((first, after), (0, 2), "{lost:?}");
        fluvio.close().await;
    }
}

// On one thread, so that the partition's sender cannot take a batch before the records of
// the next one are queued.
#[tokio::test]
async fn each_batch_travels_in_its_own_entry_with_consecutive_sequences() {
    let cluster = ScriptedCluster::start("entries", 2, 1).await;
    let fluvio = connect(&cluster).await;
    // Room for two records per batch; the batches wait for the flush.
    let config = ProducerConfig::builder().batch_size(90).linger(Duration::from_secs(600)).build().unwrap();
    let producer = fluvio.topic_producer_with_config("entries", config).await.unwrap();
    let id = producer.producer_id().unwrap();
    for n in 0..5 {
        producer.send_to(Some(0), None, format!("zero-{n}").as_bytes()).await.unwrap();
    }
    for n in 0..3 {
        producer.send_to(Some(1), None, format!("one-{n}").as_bytes()).await.unwrap();
    }
    producer.flush().await.unwrap();

    let mut per_partition: BTreeMap<u32, Vec<(usize, i32, i64)>> = BTreeMap::new();
    for (request, seen) in cluster.produces().iter().enumerate() {
        for (partition, records) in seen.entries() {
            let batch = one_batch(&records);
            assert_eq!((batch.header.producer_id, batch.header.producer_epoch), (id, 0));
            per_partition.entry(partition).or_default().push((
                request,
                batch.header.first_sequence,
                batch.header.record_count(),
            ));
        }
    }
    let sequences =
        |p: u32| -> Vec<(i32, i64)> { per_partition[&p].iter().map(|(_, seq, count)| (*seq, *count)).collect() };
    assert_eq!(sequences(0), [(0, 2), (2, 2), (4, 1)]);
    assert_eq!(sequences(1), [(0, 2), (2, 1)]);
    // Sealed batches queued behind each other go out together, one entry each.
    let requests: Vec<usize> = per_partition[&0].iter().map(|(request, _, _)| *request).collect();
    assert_eq!(requests[0], requests[1], "the two full batches share a request: {requests:?}");
    fluvio.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_refused_for_good_leaves_a_gap_in_the_sequence() {
    let cluster = ScriptedCluster::start("gap", 1, 1).await;
    let fluvio = connect(&cluster).await;
    let config = ProducerConfig::builder().linger(Duration::from_secs(600)).delivery(quick_retries()).build().unwrap();
    let producer = fluvio.topic_producer_with_config("gap", config).await.unwrap();
    cluster.script_produce(FIRST_SPU, [ProduceStep::Refuse(ErrorCode::StorageError)]);
    let refused = producer.send_all([(None, &b"x"[..]), (None, &b"y"[..])]).await.unwrap();
    let err = producer.flush().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Storage, "{err:?}");
    assert_eq!(refused[0].wait().await.unwrap_err().kind(), ErrorKind::Storage);
    let stored = producer.send(None, b"z").await.unwrap();
    producer.flush().await.unwrap();
    assert_eq!(stored.wait().await.unwrap().offset, 0);

    let batches = sent_batches(&cluster);
    assert_eq!(batches.len(), 2, "a refusal for good is not retried");
    let refused_header = batches[0][0].header;
    let next = batches[1][0].header;
    assert_eq!(next.first_sequence, refused_header.first_sequence + refused_header.record_count() as i32);
    assert_eq!(cluster.stored(0)[0].header.first_sequence, next.first_sequence);
    fluvio.close().await;
}

/// A batch the leader refused for good leaves a gap in the producer's sequence numbers, so the
/// leader (fluvio-local, with Kafka's sequence rules) refuses the next batch as out of order;
/// the producer starts a new epoch, numbers it from 0 again, and it is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_batch_refused_for_good_the_next_is_stored_in_a_new_epoch() {
    let s = setup(1).await;
    topic(&s.fluvio, "refused", 1).await;
    // The client lets a 33 MiB record through; the server refuses batches over 32 MiB (a
    // Fluvio SPU's limit).
    let config = ProducerConfig::builder()
        .max_request_size(40 << 20)
        .batch_size(40 << 20)
        .linger(Duration::from_secs(600))
        .build()
        .unwrap();
    let producer = s.fluvio.topic_producer_with_config("refused", config).await.unwrap();
    let id = producer.producer_id().unwrap();
    send_round(&producer, &[2], "before").await;
    let too_large = producer.send(None, &vec![b'x'; 33 << 20]).await.unwrap();
    assert_eq!(producer.flush().await.unwrap_err().kind(), ErrorKind::RecordTooLarge);
    assert_eq!(too_large.wait().await.unwrap_err().kind(), ErrorKind::RecordTooLarge);
    let after = producer.send_all([(None, &b"a"[..]), (None, &b"b"[..])]).await.unwrap();
    producer.flush().await.expect("stored after the gap");
    assert_eq!(after[1].wait().await.unwrap().offset, 3);
    send_round(&producer, &[1], "later").await;
    let headers = stored_headers(&s, "refused", 0).await;
    assert_eq!(idempotence_fields(&headers), [(id, 0, 0, 2), (id, 1, 0, 2), (id, 1, 2, 1)]);
    s.shutdown().await;
}
