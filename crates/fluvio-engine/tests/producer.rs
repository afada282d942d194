//! The topic producer against the embedded cluster: outputs, batching, linger, compression,
//! partitioning, size limits, timestamps, flush and close.

mod common;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use fluvio_engine::admin::TopicCompression;
use fluvio_engine::producer::{
    DEFAULT_BATCH_SIZE, DEFAULT_LINGER, DEFAULT_MAX_REQUEST_SIZE, Partitioner, PartitionerConfig, TrySend,
};
use fluvio_engine::{Compression, ConsumerConfig, ErrorKind, Fluvio, Offset, ProducerConfig, TopicConfig};
use fluvio_local::FIRST_SPU_ID;

/// A producer config that never sends on its own: only size or a flush seals a batch.
fn lingering() -> fluvio_engine::producer::ProducerConfigBuilder {
    ProducerConfig::builder().linger(Duration::from_secs(600))
}

/// Records per batch, as a consumer sees the partition: a fetch with `max_bytes` 1 returns
/// exactly one whole batch.
async fn batch_lengths(fluvio: &Fluvio, topic: &str, partition: u32) -> Vec<usize> {
    let consumer = fluvio.partition_consumer(topic, partition);
    let (_, end) = consumer.offsets().await.unwrap();
    let config = ConsumerConfig { max_bytes: 1, ..ConsumerConfig::default() };
    let mut lengths = Vec::new();
    let mut offset = 0;
    while offset < end {
        let records = consumer.fetch(Offset::absolute(offset).unwrap(), config.clone()).await.unwrap();
        assert!(!records.is_empty(), "a fetch below the end returns at least one batch");
        assert_eq!(records[0].offset, offset);
        offset += records.len() as i64;
        lengths.push(records.len());
    }
    lengths
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outputs_resolve_to_partition_and_offset() {
    let s = setup(1).await;
    topic(&s.fluvio, "outputs", 1).await;
    let producer = s.fluvio.topic_producer("outputs").await.unwrap();
    assert_eq!(producer.topic(), "outputs");

    // A clone is the same producer: records of both end up in the same batches.
    let clone = producer.clone();
    let mut outputs = Vec::new();
    for i in 0..10 {
        let which = if i % 2 == 0 { &producer } else { &clone };
        let output = which.send(Some(b"k"), format!("v{i}").as_bytes()).await.unwrap();
        assert_eq!(output.partition(), 0, "the partition is known before delivery");
        outputs.push(output);
    }
    let batch = vec![(None, &b"all-0"[..]), (Some(&b"x"[..]), &b"all-1"[..]), (None, &b"all-2"[..])];
    outputs.extend(producer.send_all(batch).await.unwrap());
    let (callback_tx, callback_rx) = tokio::sync::oneshot::channel();
    outputs[12].on_complete(move |result| {
        let _ = callback_tx.send(result);
    });
    let TrySend::Sent(last) = producer.try_send(None, None, b"last").unwrap() else { panic!("queue is not full") };
    outputs.push(last);
    clone.flush().await.unwrap();

    for (i, output) in outputs.iter().enumerate() {
        let metadata = output.try_result().expect("resolved by the flush").unwrap();
        assert_eq!((metadata.partition, metadata.offset), (0, i as i64));
        assert_eq!(output.wait().await.unwrap(), metadata);
    }
    assert_eq!(callback_rx.await.unwrap().unwrap().offset, 12);
    let records = read_partition(&s.fluvio, "outputs", 0).await;
    let expected: Vec<String> =
        (0..10).map(|i| format!("v{i}")).chain(["all-0", "all-1", "all-2", "last"].map(String::from)).collect();
    assert_eq!(values(&records), expected);
    assert_eq!(records[13].key, None);
    assert_eq!(records[11].key.as_deref(), Some(&b"x"[..]));
    s.shutdown().await;
}

/// `try_send` needs no runtime: a thread of its own (as a Java thread calling through JNI)
/// starts the partition's sender on the producer's runtime, and the records are delivered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn try_send_works_from_a_thread_outside_any_runtime() {
    let s = setup(1).await;
    topic(&s.fluvio, "plain-thread", 2).await;
    let config = ProducerConfig::builder().linger(Duration::ZERO).build().unwrap();
    let producer = s.fluvio.topic_producer_with_config("plain-thread", config).await.unwrap();
    let sending = producer.clone();
    let outputs = std::thread::spawn(move || {
        assert!(tokio::runtime::Handle::try_current().is_err(), "the thread is outside any runtime");
        (0..2u32)
            .map(|partition| match sending.try_send(Some(partition), None, format!("p{partition}").as_bytes()) {
                Ok(TrySend::Sent(output)) => output,
                other => panic!("queued at once: {other:?}"),
            })
            .collect::<Vec<_>>()
    })
    .join()
    .unwrap();
    for (partition, output) in outputs.iter().enumerate() {
        let metadata = tokio::time::timeout(Duration::from_secs(10), output.wait()).await.unwrap().unwrap();
        assert_eq!((metadata.partition, metadata.offset), (partition as u32, 0));
    }
    for partition in 0..2u32 {
        assert_eq!(values(&read_partition(&s.fluvio, "plain-thread", partition).await), [format!("p{partition}")]);
    }
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_defaults_are_the_documented_ones() {
    let config = ProducerConfig::default();
    assert_eq!(config.batch_size(), 16384);
    assert_eq!(DEFAULT_BATCH_SIZE, 16384);
    assert_eq!(config.linger(), Duration::from_millis(100));
    assert_eq!(DEFAULT_LINGER, Duration::from_millis(100));
    assert_eq!(config.compression(), None);
    let built = ProducerConfig::builder().build().unwrap();
    assert_eq!((built.batch_size(), built.linger()), (16384, Duration::from_millis(100)));
    for bad in [
        ProducerConfig::builder().batch_size(0).build(),
        ProducerConfig::builder().batch_queue_size(0).build(),
        ProducerConfig::builder().max_request_size(10).build(),
        ProducerConfig::builder().timeout(Duration::ZERO).build(),
    ] {
        assert_eq!(bad.unwrap_err().kind(), ErrorKind::Config);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_batch_size_packs_records_into_batches_of_at_most_16384_bytes() {
    let s = setup(1).await;
    topic(&s.fluvio, "batch-default", 1).await;
    let producer = s.fluvio.topic_producer_with_config("batch-default", lingering().build().unwrap()).await.unwrap();
    let value = [b'x'; 100];
    for _ in 0..1000 {
        producer.send(None, &value).await.unwrap();
    }
    producer.flush().await.unwrap();

    // Every record is about 105 bytes, so about 155 fit in 16384 bytes.
    let lengths = batch_lengths(&s.fluvio, "batch-default", 0).await;
    assert_eq!(lengths.iter().sum::<usize>(), 1000);
    assert!((6..=8).contains(&lengths.len()), "1000 records of ~105 bytes in 16 KiB batches: {lengths:?}");
    let stored = stored_batches(s.dir.path(), FIRST_SPU_ID, "batch-default", 0);
    assert_eq!(stored.len(), lengths.len());
    for (i, header) in stored.iter().enumerate() {
        assert!(header.total_len() <= 16384, "batch {i} is {} bytes", header.total_len());
        if i + 1 < stored.len() {
            // Sealed only because the next record did not fit.
            assert!(header.total_len() > 16384 - 120, "batch {i} is only {} bytes", header.total_len());
        }
        assert_eq!(header.record_count() as usize, lengths[i]);
    }
    assert!(producer.delivered_requests() <= stored.len() as u64);
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_linger_gathers_small_records_into_few_batches() {
    let s = setup(1).await;
    topic(&s.fluvio, "batch-linger", 2).await;
    // All in one batch: nothing seals it but the flush.
    let producer = s.fluvio.topic_producer_with_config("batch-linger", lingering().build().unwrap()).await.unwrap();
    for i in 0..100 {
        producer.send_to(Some(0), None, format!("r{i}").as_bytes()).await.unwrap();
    }
    assert_eq!(producer.delivered_requests(), 0, "nothing is sent before the linger or a flush");
    producer.flush().await.unwrap();
    assert_eq!(producer.delivered_requests(), 1);
    assert_eq!(batch_lengths(&s.fluvio, "batch-linger", 0).await, [100]);

    // A small batch size splits the same records into batches of at most that size.
    let config = lingering().batch_size(1024).build().unwrap();
    let small = s.fluvio.topic_producer_with_config("batch-linger", config).await.unwrap();
    for i in 0..100 {
        small.send_to(Some(1), None, format!("r{i:03}-{}", "y".repeat(40)).as_bytes()).await.unwrap();
    }
    small.flush().await.unwrap();
    let stored = stored_batches(s.dir.path(), FIRST_SPU_ID, "batch-linger", 1);
    assert!((6..=10).contains(&stored.len()), "100 records of ~55 bytes in 1 KiB batches: {} batches", stored.len());
    assert!(stored.iter().all(|h| h.total_len() <= 1024));
    assert_eq!(stored.iter().map(|h| h.record_count()).sum::<i64>(), 100);
    let records = read_partition(&s.fluvio, "batch-linger", 1).await;
    assert_eq!(values(&records), (0..100).map(|i| format!("r{i:03}-{}", "y".repeat(40))).collect::<Vec<_>>());
    s.shutdown().await;
}

/// How long records sent without a flush take to reach a consumer: the fastest of `trips`.
async fn fastest_trip(fluvio: &Fluvio, topic: &str, config: ProducerConfig, trips: usize) -> Duration {
    let producer = fluvio.topic_producer_with_config(topic, config).await.unwrap();
    let mut stream = fluvio.partition_consumer(topic, 0).stream(Offset::end()).await.unwrap();
    let mut fastest = Duration::MAX;
    for i in 0..trips {
        let value = format!("trip-{i}");
        let started = Instant::now();
        producer.send(None, value.as_bytes()).await.unwrap();
        let record = next_record(&mut stream).await;
        fastest = fastest.min(started.elapsed());
        assert_eq!(record.value, value.as_bytes());
    }
    fastest
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unflushed_records_arrive_after_the_linger() {
    let s = setup(1).await;
    topic(&s.fluvio, "linger", 1).await;
    let default = fastest_trip(&s.fluvio, "linger", ProducerConfig::default(), 3).await;
    assert!(default >= Duration::from_millis(100), "sent before the default linger: {default:?}");
    assert!(default < Duration::from_secs(2), "the default linger is 100 ms: {default:?}");

    let long = fastest_trip(
        &s.fluvio,
        "linger",
        ProducerConfig::builder().linger(Duration::from_millis(700)).build().unwrap(),
        1,
    )
    .await;
    assert!(long >= Duration::from_millis(700), "sent before its linger: {long:?}");
    assert!(long < Duration::from_secs(5), "{long:?}");

    let zero =
        fastest_trip(&s.fluvio, "linger", ProducerConfig::builder().linger(Duration::ZERO).build().unwrap(), 10).await;
    assert!(zero < Duration::from_millis(100), "linger 0 sends at once: {zero:?}");
    s.shutdown().await;
}

fn compressible(i: usize) -> String {
    format!("record-{i:05}-{}", "compressible ".repeat(8))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_codec_round_trips() {
    let s = setup(1).await;
    for codec in Compression::ALL {
        let name = format!("codec-{codec}");
        topic(&s.fluvio, &name, 1).await;
        let config = ProducerConfig::builder().compression(codec).build().unwrap();
        assert_eq!(config.compression(), Some(codec));
        let producer = s.fluvio.topic_producer_with_config(&name, config).await.unwrap();
        assert_eq!(producer.compression(), codec);
        for i in 0..300 {
            producer.send(Some(format!("key-{i}").as_bytes()), compressible(i).as_bytes()).await.unwrap();
        }
        producer.flush().await.unwrap();

        let records = read_partition(&s.fluvio, &name, 0).await;
        assert_eq!(values(&records), (0..300).map(compressible).collect::<Vec<_>>(), "{codec}");
        for (i, record) in records.iter().enumerate() {
            assert_eq!(record.key.as_deref(), Some(format!("key-{i}").as_bytes()));
            assert_eq!(record.offset, i as i64);
        }
        let stored = stored_batches(s.dir.path(), FIRST_SPU_ID, &name, 0);
        assert!(!stored.is_empty());
        assert!(stored.iter().all(|h| h.compression() == Some(codec)), "{codec}: {stored:?}");
        if codec != Compression::None {
            let size: usize = stored.iter().map(|h| h.total_len()).sum();
            assert!(size < 300 * compressible(0).len() / 2, "{codec} batches are compressed: {size} bytes");
        }
    }
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_topic_with_a_fixed_codec_sets_the_producer_codec() {
    let s = setup(1).await;
    let fixed = [
        (TopicCompression::None, Compression::None),
        (TopicCompression::Gzip, Compression::Gzip),
        (TopicCompression::Snappy, Compression::Snappy),
        (TopicCompression::Lz4, Compression::Lz4),
        (TopicCompression::Zstd, Compression::Zstd),
    ];
    for (topic_codec, codec) in fixed {
        let name = format!("fixed-{codec}");
        let mut config = TopicConfig::new(1, 1);
        config.compression = Some(topic_codec);
        s.fluvio.admin().create_topic(&name, &config).await.unwrap();

        let producer = s.fluvio.topic_producer(&name).await.unwrap();
        assert_eq!(producer.compression(), codec, "no explicit codec: the topic's");
        let explicit = ProducerConfig::builder().compression(codec).build().unwrap();
        assert_eq!(s.fluvio.topic_producer_with_config(&name, explicit).await.unwrap().compression(), codec);
        for other in Compression::ALL.into_iter().filter(|c| *c != codec) {
            let conflicting = ProducerConfig::builder().compression(other).build().unwrap();
            let err = s.fluvio.topic_producer_with_config(&name, conflicting).await.err().unwrap();
            assert_eq!(err.kind(), ErrorKind::Config, "{other} on a {codec} topic");
        }

        for i in 0..50 {
            producer.send(None, compressible(i).as_bytes()).await.unwrap();
        }
        producer.flush().await.unwrap();
        let records = read_partition(&s.fluvio, &name, 0).await;
        assert_eq!(values(&records), (0..50).map(compressible).collect::<Vec<_>>());
        let stored = stored_batches(s.dir.path(), FIRST_SPU_ID, &name, 0);
        assert!(!stored.is_empty() && stored.iter().all(|h| h.compression() == Some(codec)), "{codec}: {stored:?}");
    }
    // A topic accepting any codec: uncompressed unless chosen.
    topic(&s.fluvio, "fixed-any", 1).await;
    assert_eq!(s.fluvio.topic_producer("fixed-any").await.unwrap().compression(), Compression::None);
    s.shutdown().await;
}

/// Official client partitions of keys for 3, 5 and 7 partitions (the vectors of the
/// partitioner's unit test).
const KEY_VECTORS: [(&str, [u32; 3]); 5] =
    [("a", [1, 2, 2]), ("key1", [1, 0, 6]), ("hello", [2, 4, 2]), ("", [2, 4, 3]), ("user-42", [0, 4, 6])];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyed_records_go_to_the_official_clients_partition() {
    let s = setup(2).await;
    for (column, partitions) in [3u32, 5, 7].into_iter().enumerate() {
        let name = format!("keys-{partitions}");
        topic(&s.fluvio, &name, partitions).await;
        let producer = s.fluvio.topic_producer(&name).await.unwrap();
        let mut expected: BTreeMap<u32, Vec<String>> = BTreeMap::new();
        for round in 0..3 {
            for (key, want) in KEY_VECTORS {
                let value = format!("{key}/{round}");
                let output = producer.send(Some(key.as_bytes()), value.as_bytes()).await.unwrap();
                assert_eq!(output.partition(), want[column], "key {key:?} with {partitions} partitions");
                expected.entry(want[column]).or_default().push(value);
            }
        }
        producer.flush().await.unwrap();
        for partition in 0..partitions {
            let records = read_partition(&s.fluvio, &name, partition).await;
            assert_eq!(values(&records), expected.remove(&partition).unwrap_or_default(), "{name}-{partition}");
        }
    }
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyless_records_round_robin_over_the_partitions() {
    let s = setup(1).await;
    topic(&s.fluvio, "round-robin", 3).await;
    let producer = s.fluvio.topic_producer("round-robin").await.unwrap();
    let mut assigned = Vec::new();
    for i in 0..300 {
        assigned.push(producer.send(None, format!("{i}").as_bytes()).await.unwrap().partition());
    }
    producer.flush().await.unwrap();
    // Strict rotation.
    for pair in assigned.windows(2) {
        assert_eq!(pair[1], (pair[0] + 1) % 3, "{assigned:?}");
    }
    for partition in 0..3 {
        let records = read_partition(&s.fluvio, "round-robin", partition).await;
        assert_eq!(records.len(), 100, "partition {partition}");
        let want: Vec<String> = (0..300).filter(|i| assigned[*i] == partition).map(|i| format!("{i}")).collect();
        assert_eq!(values(&records), want);
    }
    s.shutdown().await;
}

/// Sends each record to `value[0] % count` and remembers what it was told.
#[derive(Default)]
struct FirstByte {
    seen: Mutex<Vec<(u32, Vec<u32>)>>,
}

impl Partitioner for FirstByte {
    fn partition(&self, config: &PartitionerConfig<'_>, _key: Option<&[u8]>, value: &[u8]) -> u32 {
        self.seen.lock().unwrap().push((config.partition_count, config.available_partitions.to_vec()));
        u32::from(value[0]) % config.partition_count
    }
}

/// Always answers the same partition, even a wrong one.
struct Fixed(u32);

impl Partitioner for Fixed {
    fn partition(&self, _config: &PartitionerConfig<'_>, _key: Option<&[u8]>, _value: &[u8]) -> u32 {
        self.0
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_custom_partitioner_is_honored() {
    let s = setup(1).await;
    topic(&s.fluvio, "custom", 3).await;
    let partitioner = Arc::new(FirstByte::default());
    let config = ProducerConfig::builder().partitioner(partitioner.clone()).build().unwrap();
    let producer = s.fluvio.topic_producer_with_config("custom", config).await.unwrap();
    // Keys that SipHash would spread differently.
    for i in 0..30u8 {
        let output = producer.send(Some(b"same-key"), &[i, b'!']).await.unwrap();
        assert_eq!(output.partition(), u32::from(i) % 3);
    }
    producer.flush().await.unwrap();
    for partition in 0..3u32 {
        let records = read_partition(&s.fluvio, "custom", partition).await;
        let firsts: Vec<u8> = records.iter().map(|r| r.value[0]).collect();
        assert_eq!(firsts, (0..30u8).filter(|i| u32::from(*i) % 3 == partition).collect::<Vec<_>>());
    }
    // Once the partitions' metadata is known (it is, after reading them), all three are online.
    producer.send(None, &[99]).await.unwrap();
    let seen = partitioner.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 31);
    assert!(seen.iter().all(|(count, online)| *count == 3 && online.iter().all(|p| *p < 3)));
    assert_eq!(seen.last().unwrap().1, [0, 1, 2]);

    // A partitioner answering a partition that does not exist.
    let config = ProducerConfig::builder().partitioner(Arc::new(Fixed(3))).build().unwrap();
    let wrong = s.fluvio.topic_producer_with_config("custom", config).await.unwrap();
    assert_eq!(wrong.send(None, b"x").await.unwrap_err().kind(), ErrorKind::PartitionNotFound);
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_explicit_partition_is_used_and_checked() {
    let s = setup(1).await;
    topic(&s.fluvio, "explicit", 3).await;
    let producer = s.fluvio.topic_producer("explicit").await.unwrap();
    // "a" hashes to partition 1 of 3.
    let output = producer.send_to(Some(2), Some(b"a"), b"to-2").await.unwrap();
    assert_eq!(output.partition(), 2);
    let TrySend::Sent(output) = producer.try_send(Some(0), Some(b"a"), b"to-0").unwrap() else { panic!("queued") };
    assert_eq!(output.partition(), 0);
    assert_eq!(producer.send_to(None, Some(b"a"), b"to-1").await.unwrap().partition(), 1);

    assert_eq!(producer.send_to(Some(3), None, b"x").await.unwrap_err().kind(), ErrorKind::PartitionNotFound);
    assert_eq!(producer.send_to(Some(u32::MAX), None, b"x").await.unwrap_err().kind(), ErrorKind::PartitionNotFound);
    assert_eq!(producer.try_send(Some(9), None, b"x").unwrap_err().kind(), ErrorKind::PartitionNotFound);
    producer.flush().await.unwrap();
    for (partition, want) in [(0, "to-0"), (1, "to-1"), (2, "to-2")] {
        assert_eq!(values(&read_partition(&s.fluvio, "explicit", partition).await), [want]);
    }
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_larger_than_max_request_size_is_refused_at_once() {
    let s = setup(1).await;
    topic(&s.fluvio, "too-large", 1).await;
    let config = lingering().max_request_size(1024).build().unwrap();
    let producer = s.fluvio.topic_producer_with_config("too-large", config).await.unwrap();
    let big = vec![b'b'; 2000];

    // Alone, and with an open batch that has room for it under the batch size.
    let started = Instant::now();
    assert_eq!(producer.send(None, &big).await.unwrap_err().kind(), ErrorKind::RecordTooLarge);
    producer.send(None, b"small-0").await.unwrap();
    assert_eq!(producer.send(None, &big).await.unwrap_err().kind(), ErrorKind::RecordTooLarge);
    assert_eq!(producer.try_send(None, None, &big).unwrap_err().kind(), ErrorKind::RecordTooLarge);
    assert!(started.elapsed() < Duration::from_secs(2), "refused without waiting: {:?}", started.elapsed());
    // Just under the limit (the request's own fields included) is fine.
    producer.send(None, &[b's'; 850]).await.unwrap();
    producer.send(None, b"small-1").await.unwrap();
    // Two records that fit the batch size together but not a request: two batches.
    producer.send(None, &[b'6'; 600]).await.unwrap();
    producer.send(None, &[b'6'; 600]).await.unwrap();
    producer.flush().await.unwrap();
    let records = read_partition(&s.fluvio, "too-large", 0).await;
    assert_eq!(records.iter().map(|r| r.value.len()).collect::<Vec<_>>(), [7, 850, 7, 600, 600]);
    // Nothing sent exceeded the request size.
    let stored = stored_batches(s.dir.path(), FIRST_SPU_ID, "too-large", 0);
    assert!(stored.iter().all(|h| h.total_len() <= 1024), "{stored:?}");

    // The default limit is 1 MiB.
    assert_eq!(DEFAULT_MAX_REQUEST_SIZE, 1024 * 1024);
    let default = s.fluvio.topic_producer("too-large").await.unwrap();
    let huge = vec![b'h'; 1024 * 1024 + 1];
    assert_eq!(default.send(None, &huge).await.unwrap_err().kind(), ErrorKind::RecordTooLarge);
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_request_size_is_bounded_by_the_servers_frame_limit() {
    use fluvio_engine::producer::{DeliverySemantic, MAX_REQUEST_SIZE_LIMIT, RetryPolicy};
    use fluvio_wire::record::{BATCH_FILE_HEADER_LEN, RecordRef};

    assert_eq!(MAX_REQUEST_SIZE_LIMIT, 64 * 1024 * 1024);
    let above = ProducerConfig::builder().max_request_size(MAX_REQUEST_SIZE_LIMIT + 1).build();
    assert_eq!(above.unwrap_err().kind(), ErrorKind::Config);

    let s = setup(1).await;
    topic(&s.fluvio, "frame-limit", 1).await;
    let retries =
        DeliverySemantic::AtLeastOnce(RetryPolicy { timeout: Duration::from_secs(5), ..RetryPolicy::default() });
    let config = ProducerConfig::builder()
        .max_request_size(MAX_REQUEST_SIZE_LIMIT)
        .linger(Duration::ZERO)
        .delivery(retries)
        .build()
        .unwrap();
    let producer = s.fluvio.topic_producer_with_config("frame-limit", config).await.unwrap();
    // A record whose batch alone is exactly the limit: with the request around it, the frame
    // would exceed what the server reads. Refused at once, never sent and retried.
    let mut len = MAX_REQUEST_SIZE_LIMIT - BATCH_FILE_HEADER_LEN - 4;
    while BATCH_FILE_HEADER_LEN + 4 + RecordRef::new(None, &vec![0; len], 0, 0).encoded_len() > MAX_REQUEST_SIZE_LIMIT {
        len -= 1;
    }
    let value = vec![b'f'; len];
    let refused = producer.send(None, &value).await.map(drop).unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::RecordTooLarge, "{refused:?}");
    assert!(!refused.is_retriable());
    // What fits the frame reaches the server, which refuses batches over its own 32 MiB limit
    // (an SPU's max_request_size) with the same kind.
    let over_batch_limit = producer.send(None, &vec![b'g'; 33 * 1024 * 1024]).await.unwrap().wait().await;
    assert_eq!(over_batch_limit.unwrap_err().kind(), ErrorKind::RecordTooLarge);
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_carry_the_time_they_were_created() {
    let s = setup(1).await;
    topic(&s.fluvio, "timestamps", 1).await;
    // One long-lingering batch: timestamps still differ per record.
    let producer = s.fluvio.topic_producer_with_config("timestamps", lingering().build().unwrap()).await.unwrap();
    let mut windows = Vec::new();
    for i in 0..20 {
        if i % 5 == 0 {
            tokio::time::sleep(Duration::from_millis(30)).await;
        }
        let before = now_ms();
        producer.send(None, format!("{i}").as_bytes()).await.unwrap();
        windows.push((before, now_ms()));
    }
    // Records sent later, in a later batch.
    tokio::time::sleep(Duration::from_millis(30)).await;
    producer.flush().await.unwrap();
    let before = now_ms();
    producer.send(None, b"20").await.unwrap();
    windows.push((before, now_ms()));
    producer.flush().await.unwrap();

    let records = read_partition(&s.fluvio, "timestamps", 0).await;
    assert_eq!(records.len(), 21);
    for (record, (before, after)) in records.iter().zip(&windows) {
        assert!(
            (*before..=*after).contains(&record.timestamp),
            "record {} stamped {} outside [{before}, {after}]",
            record.offset,
            record.timestamp
        );
    }
    for pair in records.windows(2) {
        assert!(pair[1].timestamp >= pair[0].timestamp, "{} then {}", pair[0].timestamp, pair[1].timestamp);
    }
    // The pauses show: the records are not all stamped with the batch's time.
    assert!(records[5].timestamp - records[4].timestamp >= 25);
    assert!(records[20].timestamp - records[19].timestamp >= 25);
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flush_returns_an_unreported_delivery_failure_once() {
    let s = setup(1).await;
    // Batches larger than a segment are refused by the SPU (not retriable).
    let mut config = TopicConfig::new(1, 1);
    config.segment_size = Some(1024);
    s.fluvio.admin().create_topic("refusing", &config).await.unwrap();
    let producer = s.fluvio.topic_producer("refusing").await.unwrap();

    let ok = producer.send(None, b"fits").await.unwrap();
    producer.flush().await.unwrap();
    assert_eq!(ok.wait().await.unwrap().offset, 0);

    let refused = producer.send(None, &[b'r'; 2000]).await.unwrap();
    let err = producer.flush().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RecordTooLarge);
    assert!(!err.is_retriable());
    assert_eq!(refused.wait().await.unwrap_err().kind(), ErrorKind::RecordTooLarge);
    // Reported once.
    producer.flush().await.unwrap();

    // A failure noticed by nobody's flush is reported by the next one, even after successes.
    let refused = producer.send(None, &[b'r'; 2000]).await.unwrap();
    assert_eq!(refused.wait().await.unwrap_err().kind(), ErrorKind::RecordTooLarge);
    let later = producer.send(None, b"later").await.unwrap();
    assert_eq!(later.wait().await.unwrap().offset, 1);
    assert_eq!(producer.flush().await.unwrap_err().kind(), ErrorKind::RecordTooLarge);
    producer.flush().await.unwrap();

    // close() flushes and reports too.
    producer.send(None, &[b'r'; 2000]).await.unwrap();
    assert_eq!(producer.close().await.unwrap_err().kind(), ErrorKind::RecordTooLarge);
    assert_eq!(values(&read_partition(&s.fluvio, "refusing", 0).await), ["fits", "later"]);
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_flushes_then_refuses_records() {
    let s = setup(1).await;
    topic(&s.fluvio, "closing", 2).await;
    let producer = s.fluvio.topic_producer_with_config("closing", lingering().build().unwrap()).await.unwrap();
    let clone = producer.clone();
    let mut outputs = Vec::new();
    for i in 0..20 {
        outputs.push(producer.send(None, format!("{i}").as_bytes()).await.unwrap());
    }
    producer.close().await.unwrap();
    for output in &outputs {
        assert!(output.try_result().expect("delivered by close").is_ok());
    }
    assert_eq!(producer.send(None, b"late").await.unwrap_err().kind(), ErrorKind::Closed);
    assert_eq!(clone.send(Some(b"k"), b"late").await.unwrap_err().kind(), ErrorKind::Closed);
    assert_eq!(producer.send_to(Some(1), None, b"late").await.unwrap_err().kind(), ErrorKind::Closed);
    assert_eq!(producer.try_send(None, None, b"late").unwrap_err().kind(), ErrorKind::Closed);
    assert_eq!(producer.send_all([(None, &b"late"[..])]).await.unwrap_err().kind(), ErrorKind::Closed);
    producer.close().await.unwrap();
    producer.flush().await.unwrap();
    let total =
        read_partition(&s.fluvio, "closing", 0).await.len() + read_partition(&s.fluvio, "closing", 1).await.len();
    assert_eq!(total, 20);

    // Another producer of the same topic is not affected.
    let other = s.fluvio.topic_producer("closing").await.unwrap();
    other.send(None, b"other").await.unwrap().wait().await.unwrap();
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_producer_is_closed_with_its_client() {
    let s = setup(1).await;
    topic(&s.fluvio, "client-closed", 1).await;
    let producer = s.fluvio.topic_producer_with_config("client-closed", lingering().build().unwrap()).await.unwrap();
    let pending = producer.send(None, b"queued").await.unwrap();
    s.fluvio.close().await;
    assert!(s.fluvio.is_closed());

    let outcome = tokio::time::timeout(PATIENCE, pending.wait()).await.expect("resolved when the client closes");
    assert_eq!(outcome.unwrap_err().kind(), ErrorKind::Closed);
    assert_eq!(producer.send(None, b"x").await.unwrap_err().kind(), ErrorKind::Closed);
    assert_eq!(producer.try_send(None, None, b"x").unwrap_err().kind(), ErrorKind::Closed);
    assert_eq!(producer.flush().await.unwrap_err().kind(), ErrorKind::Closed);
    assert_eq!(s.fluvio.topic_producer("client-closed").await.err().unwrap().kind(), ErrorKind::Closed);
    s.cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_topic_is_reported() {
    let s = setup(1).await;
    assert_eq!(s.fluvio.topic_producer("no-such-topic").await.err().unwrap().kind(), ErrorKind::TopicNotFound);
    s.shutdown().await;
}
