//! Partition and topic consumers against the embedded cluster: offsets, continuous streams,
//! one-shot fetches, isolation, small fetch sizes, deleted topics and dropped streams.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::*;
use fluvio_engine::{ConsumerConfig, ErrorKind, Fluvio, Isolation, Offset, ProducerConfig};
use fluvio_local::{ClusterConfig, LocalCluster};

/// Produces `batches` batches of `per_batch` records to a partition, one flush (so one batch)
/// each. Record `n` of the partition has value `n` (counting from `first`).
async fn produce_batches(fluvio: &Fluvio, topic: &str, partition: u32, first: usize, batches: usize, per_batch: usize) {
    let config = ProducerConfig::builder().linger(Duration::from_secs(600)).build().unwrap();
    let producer = fluvio.topic_producer_with_config(topic, config).await.unwrap();
    let mut n = first;
    for _ in 0..batches {
        for _ in 0..per_batch {
            producer.send_to(Some(partition), None, n.to_string().as_bytes()).await.unwrap();
            n += 1;
        }
        producer.flush().await.unwrap();
    }
}

fn numbers(from: usize, to: usize) -> Vec<String> {
    (from..to).map(|n| n.to_string()).collect()
}

/// A stream's first record after opening it at `offset`.
async fn first_at(fluvio: &Fluvio, topic: &str, offset: Offset) -> fluvio_engine::ConsumerRecord {
    let mut stream = fluvio.partition_consumer(topic, 0).stream(offset).await.unwrap();
    next_record(&mut stream).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_start_at_every_kind_of_offset() {
    let s = setup(1).await;
    topic(&s.fluvio, "offsets", 1).await;
    produce_batches(&s.fluvio, "offsets", 0, 0, 3, 10).await;
    let f = &s.fluvio;

    assert_eq!(first_at(f, "offsets", Offset::beginning()).await.offset, 0);
    assert_eq!(first_at(f, "offsets", Offset::absolute(0).unwrap()).await.offset, 0);
    assert_eq!(first_at(f, "offsets", Offset::from_beginning(4)).await.offset, 4);
    assert_eq!(first_at(f, "offsets", Offset::from_end(100)).await.offset, 0);

    // In the middle of a batch: the records before the offset are not delivered.
    let mut stream = f.partition_consumer("offsets", 0).stream(Offset::absolute(13).unwrap()).await.unwrap();
    let records = next_records(&mut stream, 17).await;
    assert_eq!(offsets(&records), (13..30).collect::<Vec<_>>());
    assert_eq!(values(&records), numbers(13, 30));

    let mut from_end = f.partition_consumer("offsets", 0).stream(Offset::from_end(3)).await.unwrap();
    assert_eq!(offsets(&next_records(&mut from_end, 3).await), [27, 28, 29]);
    assert_quiet(&mut from_end, Duration::from_millis(300)).await;

    // At the end (also when asked past it by a relative offset): only new records.
    let mut at_end = f.partition_consumer("offsets", 0).stream(Offset::end()).await.unwrap();
    let mut past_end = f.partition_consumer("offsets", 0).stream(Offset::from_beginning(1000)).await.unwrap();
    let mut at_hw = f.partition_consumer("offsets", 0).stream(Offset::absolute(30).unwrap()).await.unwrap();
    assert_quiet(&mut at_end, Duration::from_millis(300)).await;
    assert_quiet(&mut past_end, Duration::ZERO).await;
    produce_batches(f, "offsets", 0, 30, 1, 1).await;
    for stream in [&mut at_end, &mut past_end, &mut at_hw, &mut from_end] {
        let record = next_record(stream).await;
        assert_eq!((record.offset, &record.value[..]), (30, &b"30"[..]));
    }

    assert_eq!(Offset::absolute(-1).unwrap_err().kind(), ErrorKind::Config);
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_absolute_offset_past_the_end_fails_the_stream() {
    let s = setup(1).await;
    topic(&s.fluvio, "past-end", 1).await;
    produce_batches(&s.fluvio, "past-end", 0, 0, 1, 5).await;
    let mut stream = s.fluvio.partition_consumer("past-end", 0).stream(Offset::absolute(100).unwrap()).await.unwrap();
    let item = tokio::time::timeout(PATIENCE, stream.next()).await.expect("an answer");
    assert_eq!(item.unwrap().unwrap_err().kind(), ErrorKind::OffsetOutOfRange);
    assert!(stream.next().await.is_none());
    assert!(stream.is_finished());

    // A missing partition or topic is reported when the stream opens.
    let consumer = s.fluvio.partition_consumer("past-end", 1);
    assert_eq!(consumer.stream(Offset::beginning()).await.err().unwrap().kind(), ErrorKind::PartitionNotFound);
    let consumer = s.fluvio.partition_consumer("no-such-topic", 0);
    assert_eq!(consumer.stream(Offset::beginning()).await.err().unwrap().kind(), ErrorKind::TopicNotFound);
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_delivers_records_produced_after_it_started() {
    let s = setup(1).await;
    topic(&s.fluvio, "continuous", 1).await;
    let mut stream = s.fluvio.partition_consumer("continuous", 0).stream(Offset::beginning()).await.unwrap();
    assert_quiet(&mut stream, Duration::from_millis(200)).await;
    let producer = s.fluvio.topic_producer("continuous").await.unwrap();
    let mut expected = 0;
    for wave in 0..5 {
        for _ in 0..20 {
            producer.send(None, expected.to_string().as_bytes()).await.unwrap();
            expected += 1;
        }
        // Not flushed: the linger sends them.
        let records = next_records(&mut stream, 20).await;
        assert_eq!(values(&records), numbers(wave * 20, expected), "wave {wave}");
        assert_eq!(offsets(&records), (wave as i64 * 20..expected as i64).collect::<Vec<_>>());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_quiet(&mut stream, Duration::from_millis(300)).await;
    assert!(stream.try_next().is_none());
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetch_returns_whole_batches_up_to_max_bytes() {
    let s = setup(1).await;
    topic(&s.fluvio, "fetch", 1).await;
    produce_batches(&s.fluvio, "fetch", 0, 0, 3, 10).await;
    let consumer = s.fluvio.partition_consumer("fetch", 0);
    let one_batch = ConsumerConfig { max_bytes: 1, ..ConsumerConfig::default() };
    let default = ConsumerConfig::default();

    // At least one whole batch, even when it is larger than max_bytes.
    let records = consumer.fetch(Offset::beginning(), one_batch.clone()).await.unwrap();
    assert_eq!(offsets(&records), (0..10).collect::<Vec<_>>());
    assert_eq!(values(&records), numbers(0, 10));
    // From the middle of a batch: the rest of that batch only.
    let records = consumer.fetch(Offset::absolute(15).unwrap(), one_batch.clone()).await.unwrap();
    assert_eq!(offsets(&records), (15..20).collect::<Vec<_>>());
    // Everything fits in the default 1 MiB.
    assert_eq!(values(&consumer.fetch(Offset::beginning(), default.clone()).await.unwrap()), numbers(0, 30));
    assert_eq!(
        offsets(&consumer.fetch(Offset::absolute(15).unwrap(), default.clone()).await.unwrap()),
        (15..30).collect::<Vec<_>>()
    );
    assert_eq!(
        offsets(&consumer.fetch(Offset::from_end(5), default.clone()).await.unwrap()),
        (25..30).collect::<Vec<_>>()
    );
    assert_eq!(
        offsets(&consumer.fetch(Offset::from_beginning(22), one_batch).await.unwrap()),
        (22..30).collect::<Vec<_>>()
    );
    // A budget of two batches: whole batches only, never a cut one.
    let two_batches = ConsumerConfig { max_bytes: 2 * 150, ..ConsumerConfig::default() };
    let records = consumer.fetch(Offset::beginning(), two_batches).await.unwrap();
    assert!([10, 20].contains(&records.len()), "whole batches: {}", records.len());

    // Nothing at the end; past it, the same error as a stream from there, whatever the
    // isolation.
    let committed = ConsumerConfig { isolation: Isolation::ReadCommitted, ..ConsumerConfig::default() };
    let uncommitted = ConsumerConfig { isolation: Isolation::ReadUncommitted, ..ConsumerConfig::default() };
    for offset in [Offset::end(), Offset::absolute(30).unwrap(), Offset::from_beginning(99)] {
        assert!(consumer.fetch(offset, committed.clone()).await.unwrap().is_empty(), "{offset:?}");
        assert!(consumer.fetch(offset, uncommitted.clone()).await.unwrap().is_empty(), "{offset:?}");
    }
    for config in [committed, uncommitted.clone()] {
        let past_end = consumer.fetch(Offset::absolute(500).unwrap(), config.clone()).await.unwrap_err();
        assert_eq!(past_end.kind(), ErrorKind::OffsetOutOfRange, "{past_end:?}");
        let mut stream = consumer.stream_with_config(Offset::absolute(500).unwrap(), config).await.unwrap();
        let streamed = tokio::time::timeout(PATIENCE, stream.next()).await.expect("an answer").unwrap().unwrap_err();
        assert_eq!(streamed.kind(), past_end.kind(), "fetch and stream agree");
    }
    assert_eq!(values(&consumer.fetch(Offset::beginning(), uncommitted).await.unwrap()), numbers(0, 30));

    // New records become fetchable.
    produce_batches(&s.fluvio, "fetch", 0, 30, 1, 2).await;
    assert_eq!(values(&consumer.fetch(Offset::absolute(30).unwrap(), default.clone()).await.unwrap()), numbers(30, 32));

    // Bad budgets, partitions and topics.
    for max_bytes in [0, -1] {
        let bad = ConsumerConfig { max_bytes, ..ConsumerConfig::default() };
        assert_eq!(consumer.fetch(Offset::beginning(), bad.clone()).await.unwrap_err().kind(), ErrorKind::Config);
        assert_eq!(
            consumer.stream_with_config(Offset::beginning(), bad).await.err().unwrap().kind(),
            ErrorKind::Config
        );
    }
    let missing = s.fluvio.partition_consumer("fetch", 4);
    assert_eq!(
        missing.fetch(Offset::beginning(), default.clone()).await.unwrap_err().kind(),
        ErrorKind::PartitionNotFound
    );
    let missing = s.fluvio.partition_consumer("no-such-topic", 0);
    assert_eq!(missing.fetch(Offset::beginning(), default).await.unwrap_err().kind(), ErrorKind::TopicNotFound);
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fetch_counts_in_the_client_metrics() {
    let s = setup(1).await;
    topic(&s.fluvio, "fetch-metrics", 1).await;
    produce_batches(&s.fluvio, "fetch-metrics", 0, 0, 2, 10).await;
    let consumer = s.fluvio.partition_consumer("fetch-metrics", 0);
    let before = s.fluvio.metrics();

    let records = consumer.fetch(Offset::beginning(), ConsumerConfig::default()).await.unwrap();
    assert_eq!(records.len(), 20);
    let fetched = s.fluvio.metrics();
    assert_eq!(fetched.records_received - before.records_received, 20);
    assert_eq!(fetched.batches_received - before.batches_received, 1, "one fetch, one chunk");
    let value_bytes: u64 = records.iter().map(|r| r.value.len() as u64).sum();
    assert_eq!(fetched.bytes_received - before.bytes_received, value_bytes, "keyless records: their values");
    assert!(fetched.fetch_latency.count > before.fetch_latency.count, "the records carry timestamps");

    // Nothing at the end counts nothing; a failure counts under its code.
    assert!(consumer.fetch(Offset::end(), ConsumerConfig::default()).await.unwrap().is_empty());
    assert_eq!(s.fluvio.metrics().batches_received, fetched.batches_received);
    let failure = consumer.fetch(Offset::absolute(500).unwrap(), ConsumerConfig::default()).await.unwrap_err();
    assert_eq!(failure.kind(), ErrorKind::OffsetOutOfRange);
    let errors = |m: &fluvio_engine::MetricsSnapshot| {
        m.errors.iter().find(|(kind, _)| *kind == ErrorKind::OffsetOutOfRange).map_or(0, |(_, n)| *n)
    };
    assert_eq!(errors(&s.fluvio.metrics()) - errors(&fetched), 1);
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_isolation_levels_deliver() {
    let s = setup(1).await;
    topic(&s.fluvio, "isolation", 1).await;
    assert_eq!(ConsumerConfig::default().isolation, Isolation::ReadUncommitted, "as the official client");
    produce_batches(&s.fluvio, "isolation", 0, 0, 2, 10).await;
    let consumer = s.fluvio.partition_consumer("isolation", 0);
    let mut streams = Vec::new();
    for isolation in [Isolation::ReadCommitted, Isolation::ReadUncommitted] {
        let config = ConsumerConfig { isolation, ..ConsumerConfig::default() };
        streams.push(consumer.stream_with_config(Offset::beginning(), config).await.unwrap());
    }
    for stream in &mut streams {
        assert_eq!(values(&next_records(stream, 20).await), numbers(0, 20));
    }
    // A single-replica partition commits on append: both see new records alike.
    produce_batches(&s.fluvio, "isolation", 0, 20, 1, 5).await;
    for stream in &mut streams {
        assert_eq!(values(&next_records(stream, 5).await), numbers(20, 25));
    }
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_small_max_bytes_still_delivers_every_record_in_order() {
    let s = setup(1).await;
    topic(&s.fluvio, "small-fetches", 1).await;
    let config = ProducerConfig::builder().linger(Duration::from_secs(600)).build().unwrap();
    let producer = s.fluvio.topic_producer_with_config("small-fetches", config).await.unwrap();
    let value = |n: usize| format!("{n:05}-{}", "v".repeat(100));
    for batch in 0..5 {
        for n in batch * 50..(batch + 1) * 50 {
            producer.send(None, value(n).as_bytes()).await.unwrap();
        }
        producer.flush().await.unwrap();
    }
    for max_bytes in [1, 200, 6000] {
        let config = ConsumerConfig { max_bytes, ..ConsumerConfig::default() };
        let mut stream = s
            .fluvio
            .partition_consumer("small-fetches", 0)
            .stream_with_config(Offset::beginning(), config.clone())
            .await
            .unwrap();
        let records = next_records(&mut stream, 250).await;
        assert_eq!(offsets(&records), (0..250).collect::<Vec<_>>(), "max_bytes {max_bytes}");
        assert!(records.iter().enumerate().all(|(n, r)| r.value == value(n).as_bytes()));
        assert_quiet(&mut stream, Duration::from_millis(200)).await;
        // Starting inside a batch with a tiny budget.
        let mut stream = s
            .fluvio
            .partition_consumer("small-fetches", 0)
            .stream_with_config(Offset::absolute(77).unwrap(), config)
            .await
            .unwrap();
        assert_eq!(offsets(&next_records(&mut stream, 173).await), (77..250).collect::<Vec<_>>());
    }
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_topic_consumer_reads_every_partition_in_order() {
    let s = setup(2).await;
    topic(&s.fluvio, "all-partitions", 3).await;
    let producer = s.fluvio.topic_producer("all-partitions").await.unwrap();
    let mut sent: BTreeMap<u32, Vec<String>> = BTreeMap::new();
    for n in 0..600 {
        let key = format!("key-{}", n % 13);
        let value = format!("{key}/{n}");
        let output = producer.send(Some(key.as_bytes()), value.as_bytes()).await.unwrap();
        sent.entry(output.partition()).or_default().push(value);
    }
    producer.flush().await.unwrap();
    assert_eq!(sent.len(), 3, "13 keys cover the 3 partitions");

    let mut stream = s.fluvio.consumer("all-partitions").stream(Offset::beginning()).await.unwrap();
    let mut received: BTreeMap<u32, Vec<fluvio_engine::ConsumerRecord>> = BTreeMap::new();
    for _ in 0..600 {
        let record = tokio::time::timeout(PATIENCE, stream.next()).await.expect("in time").expect("open").unwrap();
        received.entry(record.partition).or_default().push(record);
    }
    for (partition, records) in &received {
        assert_eq!(offsets(records), (0..records.len() as i64).collect::<Vec<_>>(), "partition {partition}");
        assert_eq!(&values(records), &sent[partition], "partition {partition}");
    }
    assert!(stream.try_next().is_none());

    // It keeps going: later records of every partition arrive too.
    for partition in 0..3 {
        producer.send_to(Some(partition), None, format!("late-{partition}").as_bytes()).await.unwrap();
    }
    producer.flush().await.unwrap();
    let mut late = Vec::new();
    for _ in 0..3 {
        let record = tokio::time::timeout(PATIENCE, stream.next()).await.expect("in time").expect("open").unwrap();
        assert_eq!(record.offset, sent[&record.partition].len() as i64);
        late.push(String::from_utf8(record.value.to_vec()).unwrap());
    }
    late.sort();
    assert_eq!(late, ["late-0", "late-1", "late-2"]);

    // From the end: only new records; a missing topic is reported.
    let mut at_end = s.fluvio.consumer("all-partitions").stream(Offset::end()).await.unwrap();
    producer.send_to(Some(1), None, b"newest").await.unwrap();
    let record = tokio::time::timeout(PATIENCE, at_end.next()).await.unwrap().unwrap().unwrap();
    assert_eq!((record.partition, &record.value[..]), (1, &b"newest"[..]));
    assert_eq!(
        s.fluvio.consumer("no-such-topic").stream(Offset::beginning()).await.err().unwrap().kind(),
        ErrorKind::TopicNotFound
    );
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_the_topic_ends_its_streams_with_topic_deleted() {
    let s = setup(1).await;
    topic(&s.fluvio, "doomed", 1).await;
    produce_batches(&s.fluvio, "doomed", 0, 0, 1, 5).await;
    // Streams the leader is serving (they received records).
    let mut stream = s.fluvio.partition_consumer("doomed", 0).stream(Offset::beginning()).await.unwrap();
    assert_eq!(values(&next_records(&mut stream, 5).await), numbers(0, 5));
    let mut topic_stream = s.fluvio.consumer("doomed").stream(Offset::from_end(1)).await.unwrap();
    let record = tokio::time::timeout(PATIENCE, topic_stream.next()).await.unwrap().unwrap().unwrap();
    assert_eq!(record.offset, 4);
    // A stream whose session may not have reached the leader before the deletion.
    let mut just_opened = s.fluvio.partition_consumer("doomed", 0).stream(Offset::end()).await.unwrap();

    s.fluvio.admin().delete_topic("doomed").await.unwrap();
    let item = tokio::time::timeout(PATIENCE, stream.next()).await.expect("the stream learns of the deletion");
    assert_eq!(item.unwrap().unwrap_err().kind(), ErrorKind::TopicDeleted);
    assert!(stream.next().await.is_none(), "the stream ends after the error");
    let item = tokio::time::timeout(PATIENCE, topic_stream.next()).await.expect("the topic stream learns of it");
    assert_eq!(item.unwrap().unwrap_err().kind(), ErrorKind::TopicDeleted);
    assert!(tokio::time::timeout(PATIENCE, topic_stream.next()).await.unwrap().is_none());
    let item = tokio::time::timeout(PATIENCE, just_opened.next()).await.expect("the new stream learns of it");
    assert_eq!(item.unwrap().unwrap_err().kind(), ErrorKind::TopicDeleted);
    assert!(just_opened.next().await.is_none());
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_fails_with_closed_when_its_client_closes() {
    let s = setup(1).await;
    topic(&s.fluvio, "client-closes", 1).await;
    let consumer = s.fluvio.partition_consumer("client-closes", 0);
    let mut stream = consumer.stream(Offset::beginning()).await.unwrap();
    s.fluvio.close().await;
    let item = tokio::time::timeout(PATIENCE, stream.next()).await.expect("the stream learns of the close");
    assert_eq!(item.unwrap().unwrap_err().kind(), ErrorKind::Closed);
    assert!(stream.next().await.is_none());
    assert_eq!(consumer.stream(Offset::beginning()).await.err().unwrap().kind(), ErrorKind::Closed);
    assert_eq!(
        consumer.fetch(Offset::beginning(), ConsumerConfig::default()).await.unwrap_err().kind(),
        ErrorKind::Closed
    );
    s.cluster.shutdown().await;
}

/// A cluster on a runtime of its own, so the test's runtime only runs the client's tasks.
struct SeparateCluster {
    runtime: Option<tokio::runtime::Runtime>,
    cluster: Option<LocalCluster>,
    _dir: tempfile::TempDir,
}

impl SeparateCluster {
    async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let config = ClusterConfig::new(dir.path());
        let cluster = runtime.spawn(LocalCluster::start(config)).await.unwrap().expect("cluster starts");
        Self { runtime: Some(runtime), cluster: Some(cluster), _dir: dir }
    }

    fn cluster(&self) -> &LocalCluster {
        self.cluster.as_ref().unwrap()
    }

    fn server_tasks(&self) -> usize {
        self.runtime.as_ref().unwrap().metrics().num_alive_tasks()
    }

    async fn shutdown(mut self) {
        let cluster = self.cluster.take().unwrap();
        let runtime = self.runtime.take().unwrap();
        runtime.spawn(cluster.shutdown()).await.unwrap();
        runtime.shutdown_background();
    }
}

impl Drop for SeparateCluster {
    fn drop(&mut self) {
        // Also when a test fails: a runtime cannot be dropped inside another one.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// Waits until the current runtime runs at most `limit` tasks; returns the last count.
async fn settle_tasks(limit: usize) -> usize {
    let metrics = tokio::runtime::Handle::current().metrics();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let alive = metrics.num_alive_tasks();
        if alive <= limit || tokio::time::Instant::now() >= deadline {
            return alive;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_a_stream_stops_its_task() {
    let server = SeparateCluster::start().await;
    let fluvio = connect(server.cluster()).await;
    topic(&fluvio, "dropped", 2).await;
    produce_batches(&fluvio, "dropped", 0, 0, 2, 10).await;
    // Open the connections a stream needs, then count the client's tasks.
    for partition in 0..2 {
        let mut warm_up = fluvio.partition_consumer("dropped", partition).stream(Offset::beginning()).await.unwrap();
        if partition == 0 {
            next_record(&mut warm_up).await;
        }
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let baseline = tokio::runtime::Handle::current().metrics().num_alive_tasks();
    let server_baseline = server.server_tasks();

    for i in 0..200u32 {
        let consumer = fluvio.partition_consumer("dropped", i % 2);
        let mut stream = consumer.stream(Offset::beginning()).await.unwrap();
        match i % 4 {
            // Dropped while records are buffered.
            0 => assert_eq!(next_record(&mut stream).await.offset, 0),
            // Closed explicitly.
            2 => stream.close(),
            // Dropped while waiting for data (partition 1 is empty) or right after opening.
            _ => {}
        }
    }
    let left = settle_tasks(baseline).await;
    assert!(left <= baseline, "client tasks: {baseline} before, {left} after dropping 200 streams");
    eprintln!("server tasks: {server_baseline} before, {} after the 200 streams", server.server_tasks());

    // The cluster and the client still serve.
    produce_batches(&fluvio, "dropped", 1, 0, 1, 3).await;
    let mut stream = fluvio.partition_consumer("dropped", 1).stream(Offset::beginning()).await.unwrap();
    assert_eq!(values(&next_records(&mut stream, 3).await), numbers(0, 3));
    let mut stream = fluvio.partition_consumer("dropped", 0).stream(Offset::from_end(1)).await.unwrap();
    assert_eq!(next_record(&mut stream).await.offset, 19);
    drop(stream);
    fluvio.close().await;
    server.shutdown().await;
}

/// Every kind of stream behind one `RecordStream`: batches of what arrived, in partition order,
/// and the end once closed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partition_and_topic_streams_are_read_through_one_record_stream_trait() {
    use fluvio_engine::RecordStream;

    let s = setup(1).await;
    topic(&s.fluvio, "one-trait", 2).await;
    produce_batches(&s.fluvio, "one-trait", 0, 0, 2, 5).await;
    produce_batches(&s.fluvio, "one-trait", 1, 100, 1, 5).await;
    let partition = s.fluvio.partition_consumer("one-trait", 0).stream(Offset::beginning()).await.unwrap();
    let topic_stream = s.fluvio.consumer("one-trait").stream(Offset::beginning()).await.unwrap();
    let mut streams: Vec<(Box<dyn RecordStream>, usize)> =
        vec![(Box::new(partition), 10), (Box::new(topic_stream), 15)];
    for (stream, expected) in &mut streams {
        let mut records = Vec::new();
        while records.len() < *expected {
            let batch = tokio::time::timeout(Duration::from_secs(10), stream.next_batch(4)).await.unwrap();
            let batch = batch.expect("the stream goes on").expect("records");
            assert!(!batch.is_empty() && batch.len() <= 4, "a batch holds 1 to max records: {}", batch.len());
            records.extend(batch);
        }
        assert_eq!(records.len(), *expected);
        let mut by_partition: BTreeMap<u32, Vec<i64>> = BTreeMap::new();
        for record in &records {
            by_partition.entry(record.partition).or_default().push(record.offset);
        }
        for offsets in by_partition.values() {
            assert!(offsets.windows(2).all(|w| w[1] == w[0] + 1), "in order within a partition: {offsets:?}");
        }
        assert!(stream.try_next_batch(4).is_none(), "nothing more arrived");
        assert!(!stream.is_finished());
        stream.close();
        assert!(stream.try_next_batch(4).is_none());
    }
    s.shutdown().await;
}
