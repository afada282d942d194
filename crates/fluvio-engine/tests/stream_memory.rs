//! The memory a stream holds for its reader, as the engine accounts for it: capped by
//! `ConsumerConfig::max_buffered_bytes` while the reader falls behind, and given back when the
//! stream closes; a named consumer's stream committing what it returned within its cap.

mod common;

use std::time::Duration;

use common::*;
use fluvio_engine::{
    ConsumerConfig, ErrorKind, Fluvio, Offset, OffsetStrategy, PartitionStream, ProducerConfig, RecordStream,
};

/// Produces `count` records of `size` bytes (record `n` starts with `n` and a space), in
/// batches of up to `batch_size` bytes.
async fn produce(fluvio: &Fluvio, topic: &str, count: usize, size: usize, batch_size: usize) {
    let config = ProducerConfig::builder().batch_size(batch_size).build().unwrap();
    let producer = fluvio.topic_producer_with_config(topic, config).await.unwrap();
    for n in 0..count {
        let mut value = format!("{n} ").into_bytes();
        value.resize(size, b'x');
        producer.send_to(Some(0), None, &value).await.unwrap();
    }
    producer.flush().await.unwrap();
}

/// Reads `count` records slowly (pausing every `pause_every`), checking they come in order
/// from offset 0 without a gap, and returns the most bytes the stream held meanwhile.
async fn read_slowly(stream: &mut PartitionStream, count: usize, pause_every: usize) -> usize {
    let mut peak = stream.buffered_bytes();
    for n in 0..count {
        let record = next_record(stream).await;
        assert_eq!(record.offset, n as i64, "in order, no gap");
        assert!(record.value.starts_with(format!("{n} ").as_bytes()), "record {n} holds its own value");
        peak = peak.max(stream.buffered_bytes());
        if n % pause_every == 0 {
            // A slow reader: the task has all the time it needs to fill the buffer.
            tokio::time::sleep(Duration::from_millis(20)).await;
            peak = peak.max(stream.buffered_bytes());
        }
    }
    peak
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_readers_stream_holds_at_most_its_cap() {
    let s = setup(1).await;
    topic(&s.fluvio, "slow", 1).await;
    // 3 MB of backlog in 20 KB batches.
    produce(&s.fluvio, "slow", 3000, 1000, 20_000).await;
    let consumer = s.fluvio.partition_consumer("slow", 0);

    for cap in [100_000, ConsumerConfig::default().max_buffered_bytes] {
        let config = ConsumerConfig { max_buffered_bytes: cap, ..ConsumerConfig::default() };
        let mut stream = consumer.stream_with_config(Offset::beginning(), config).await.unwrap();
        let peak = read_slowly(&mut stream, 3000, 100).await;
        assert!(peak <= cap, "held {peak} bytes with a cap of {cap}");
        assert!(peak > cap / 2, "the stream fills its buffer ahead of a slow reader: {peak} of {cap}");
    }
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_larger_than_the_cap_is_delivered_alone() {
    let s = setup(1).await;
    topic(&s.fluvio, "big-batch", 1).await;
    // Batches of about 100 KB, a cap of 30 KB.
    produce(&s.fluvio, "big-batch", 300, 1000, 100_000).await;
    let config = ConsumerConfig { max_buffered_bytes: 30_000, ..ConsumerConfig::default() };
    let mut stream =
        s.fluvio.partition_consumer("big-batch", 0).stream_with_config(Offset::beginning(), config).await.unwrap();
    let peak = read_slowly(&mut stream, 300, 50).await;
    // One batch (about 100 KB) and the list of its 100 records (32 bytes each, and a handle
    // on the buffer they lie in).
    assert!(peak <= 101_000 + 100 * 32 + 100, "one batch at a time: {peak}");
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_stream_gives_back_what_it_held() {
    let s = setup(1).await;
    topic(&s.fluvio, "closing", 1).await;
    produce(&s.fluvio, "closing", 2000, 1000, 20_000).await;
    let consumer = s.fluvio.partition_consumer("closing", 0);
    for close in [true, false] {
        let mut stream = consumer.stream(Offset::beginning()).await.unwrap();
        next_record(&mut stream).await;
        let gauge = stream.buffered_bytes_gauge();
        wait_until("the stream buffers its backlog", || {
            let held = gauge.get();
            async move { held > 1_000_000 }
        })
        .await;
        if close {
            stream.close();
        }
        drop(stream);
        wait_until("the closed stream's memory is given back", || {
            let held = gauge.get();
            async move { held == 0 }
        })
        .await;
    }
    s.shutdown().await;
}

/// A named consumer's stream holds its cap and commits what it returned, by `next` and by
/// `next_batch`, on the same stream: the records in its budget are not committed until returned.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_named_streams_commits_and_its_cap_work_together() {
    let s = setup(1).await;
    topic(&s.fluvio, "named-capped", 1).await;
    produce(&s.fluvio, "named-capped", 3000, 1000, 20_000).await;
    let cap = 100_000;
    let config = ConsumerConfig {
        max_buffered_bytes: cap,
        consumer_id: Some("capped".into()),
        offset_strategy: OffsetStrategy::Manual,
        ..ConsumerConfig::default()
    };
    let stored = || async {
        let consumers = s.fluvio.admin().list_consumers().await.unwrap();
        consumers.into_iter().map(|c| (c.consumer_id, c.partition, c.offset)).collect::<Vec<_>>()
    };
    let consumer = s.fluvio.partition_consumer("named-capped", 0);
    let mut stream = consumer.stream_with_config(Offset::beginning(), config.clone()).await.unwrap();
    let peak = read_slowly(&mut stream, 1500, 100).await;
    assert!(peak <= cap, "held {peak} bytes with a cap of {cap}");
    assert!(stream.buffered_bytes() > 0, "records received ahead of the reader");
    stream.commit().unwrap();
    stream.flush().await.unwrap();
    assert_eq!(stored().await, [("capped".to_string(), 0, 1499)], "what was returned, not what was buffered");

    let batch = stream.next_batch(10_000).await.unwrap().unwrap();
    assert_eq!(batch[0].offset, 1500);
    let last = batch.last().unwrap().offset;
    assert!(stream.buffered_bytes() <= cap);
    stream.commit().unwrap();
    stream.flush().await.unwrap();
    assert_eq!(stored().await, [("capped".to_string(), 0, last)], "every record of the batch returned");
    drop(stream);

    let again = ConsumerConfig { offset_strategy: OffsetStrategy::None, ..config };
    let mut stream = consumer.stream_with_config(Offset::beginning(), again).await.unwrap();
    assert_eq!(next_record(&mut stream).await.offset, last + 1, "resumes after the stored offset");
    drop(stream);
    s.shutdown().await;
}

#[test]
fn the_cap_is_checked() {
    assert_eq!(ConsumerConfig::check_max_buffered_bytes(0).unwrap_err().kind(), ErrorKind::Config);
    assert!(ConsumerConfig::check_max_buffered_bytes(1).is_ok());
}
