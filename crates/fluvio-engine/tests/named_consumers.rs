//! Named consumers against the embedded cluster: offsets stored in the cluster with the None,
//! Manual and Auto strategies, streams that resume after the stored offset with every kind of
//! start offset, multi-partition streams committing per partition, listing and deleting, and
//! the typed errors.

mod common;

use std::time::Duration;

use common::*;
use fluvio_engine::admin::ConsumerOffsetMetadata;
use fluvio_engine::{ConsumerConfig, ErrorKind, Fluvio, Offset, OffsetStrategy, RecordStream};

fn named(consumer_id: &str, offset_strategy: OffsetStrategy) -> ConsumerConfig {
    ConsumerConfig { consumer_id: Some(consumer_id.into()), offset_strategy, ..ConsumerConfig::default() }
}

async fn produce(fluvio: &Fluvio, topic: &str, partition: u32, count: usize) {
    let producer = fluvio.topic_producer(topic).await.unwrap();
    for n in 0..count {
        producer.send_to(Some(partition), None, n.to_string().as_bytes()).await.unwrap();
    }
    producer.flush().await.unwrap();
}

/// The stored offsets of `consumer_id`: (topic, partition, offset).
async fn stored(fluvio: &Fluvio, consumer_id: &str) -> Vec<(String, u32, i64)> {
    let consumers = fluvio.admin().list_consumers().await.unwrap();
    consumers.into_iter().filter(|c| c.consumer_id == consumer_id).map(|c| (c.topic, c.partition, c.offset)).collect()
}

async fn await_stored(fluvio: &Fluvio, consumer_id: &str, expected: &[(&str, u32, i64)]) {
    let expected: Vec<(String, u32, i64)> = expected.iter().map(|(t, p, o)| (t.to_string(), *p, *o)).collect();
    wait_until(&format!("{consumer_id} stored {expected:?}"), || async {
        stored(fluvio, consumer_id).await == expected
    })
    .await;
}

/// The first record of a stream of `consumer_id` opened at `offset`.
async fn first_of(fluvio: &Fluvio, topic: &str, consumer_id: &str, offset: Offset) -> i64 {
    let config = named(consumer_id, OffsetStrategy::None);
    let mut stream = fluvio.partition_consumer(topic, 0).stream_with_config(offset, config).await.unwrap();
    next_record(&mut stream).await.offset
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manual_commits_are_stored_by_flush_and_streams_resume_after_them() {
    let s = setup(1).await;
    topic(&s.fluvio, "manual", 1).await;
    produce(&s.fluvio, "manual", 0, 20).await;
    let consumer = s.fluvio.partition_consumer("manual", 0);

    let mut stream =
        consumer.stream_with_config(Offset::beginning(), named("svc", OffsetStrategy::Manual)).await.unwrap();
    // Nothing returned yet: committing and flushing store nothing.
    stream.commit().unwrap();
    stream.flush().await.unwrap();
    assert!(stored(&s.fluvio, "svc").await.is_empty());
    assert_eq!(offsets(&next_records(&mut stream, 5).await), [0, 1, 2, 3, 4]);
    // Returned but not committed: flush stores nothing.
    stream.flush().await.unwrap();
    assert!(stored(&s.fluvio, "svc").await.is_empty());
    stream.commit().unwrap();
    // Committed but not flushed: not stored yet.
    assert!(stored(&s.fluvio, "svc").await.is_empty());
    stream.flush().await.unwrap();
    // Flush returns once stored: the offset of the last record returned, as Fluvio keeps it.
    assert_eq!(stored(&s.fluvio, "svc").await, [("manual".to_string(), 0, 4)]);
    // Records buffered but not returned are not committed.
    tokio::time::sleep(Duration::from_millis(100)).await;
    stream.commit().unwrap();
    stream.flush().await.unwrap();
    assert_eq!(stored(&s.fluvio, "svc").await, [("manual".to_string(), 0, 4)]);
    // Another thread or task may commit through the stream's offsets handle.
    let handle = stream.offsets().unwrap();
    assert_eq!(handle.strategy(), OffsetStrategy::Manual);
    assert_eq!(next_record(&mut stream).await.offset, 5);
    tokio::spawn(async move {
        handle.commit().unwrap();
        handle.flush().await.unwrap();
    })
    .await
    .unwrap();
    assert_eq!(stored(&s.fluvio, "svc").await, [("manual".to_string(), 0, 5)]);
    drop(stream);

    // Relative offsets count from the stored offset + 1, an absolute one is taken as is (as
    // the official client resolves them).
    assert_eq!(first_of(&s.fluvio, "manual", "svc", Offset::beginning()).await, 6);
    assert_eq!(first_of(&s.fluvio, "manual", "svc", Offset::end()).await, 6);
    assert_eq!(first_of(&s.fluvio, "manual", "svc", Offset::from_beginning(3)).await, 9);
    assert_eq!(first_of(&s.fluvio, "manual", "svc", Offset::from_end(2)).await, 4);
    assert_eq!(first_of(&s.fluvio, "manual", "svc", Offset::absolute(1).unwrap()).await, 1);
    // A named fetch starts there too.
    let fetched = consumer.fetch(Offset::beginning(), named("svc", OffsetStrategy::None)).await.unwrap();
    assert_eq!(fetched.first().map(|r| r.offset), Some(6));
    // Another name has nothing stored: the configured offset applies.
    assert_eq!(first_of(&s.fluvio, "manual", "other", Offset::beginning()).await, 0);
    assert_eq!(first_of(&s.fluvio, "manual", "other", Offset::from_end(2)).await, 18);
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_without_a_strategy_resume_but_cannot_commit() {
    let s = setup(1).await;
    topic(&s.fluvio, "none", 1).await;
    produce(&s.fluvio, "none", 0, 10).await;
    let consumer = s.fluvio.partition_consumer("none", 0);

    let mut unnamed = consumer.stream(Offset::beginning()).await.unwrap();
    next_record(&mut unnamed).await;
    assert!(unnamed.offsets().is_none());
    assert_eq!(unnamed.commit().unwrap_err().kind(), ErrorKind::OffsetManagementDisabled);
    assert_eq!(unnamed.flush().await.unwrap_err().kind(), ErrorKind::OffsetManagementDisabled);

    let mut manual =
        consumer.stream_with_config(Offset::beginning(), named("svc", OffsetStrategy::Manual)).await.unwrap();
    next_records(&mut manual, 3).await;
    manual.commit().unwrap();
    manual.flush().await.unwrap();

    let mut none = consumer.stream_with_config(Offset::beginning(), named("svc", OffsetStrategy::None)).await.unwrap();
    assert_eq!(next_record(&mut none).await.offset, 3, "a named stream resumes whatever its strategy");
    assert_eq!(none.commit().unwrap_err().kind(), ErrorKind::OffsetManagementDisabled);
    assert_eq!(none.flush().await.unwrap_err().kind(), ErrorKind::OffsetManagementDisabled);
    drop(none);
    assert_eq!(stored(&s.fluvio, "svc").await, [("none".to_string(), 0, 2)]);
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_auto_strategy_stores_every_interval_and_when_the_stream_closes() {
    let s = setup(1).await;
    topic(&s.fluvio, "auto", 1).await;
    produce(&s.fluvio, "auto", 0, 20).await;
    let consumer = s.fluvio.partition_consumer("auto", 0);

    let config =
        ConsumerConfig { auto_commit_interval: Duration::from_millis(100), ..named("a", OffsetStrategy::Auto) };
    let mut stream = consumer.stream_with_config(Offset::beginning(), config).await.unwrap();
    next_records(&mut stream, 10).await;
    // Stored by the interval, without a call.
    await_stored(&s.fluvio, "a", &[("auto", 0, 9)]).await;
    next_records(&mut stream, 2).await;
    await_stored(&s.fluvio, "a", &[("auto", 0, 11)]).await;
    // flush stores at once what was returned.
    next_record(&mut stream).await;
    stream.flush().await.unwrap();
    assert_eq!(stored(&s.fluvio, "a").await, [("auto".to_string(), 0, 12)]);

    // With an interval too long to matter, closing stores the last record returned.
    let config = ConsumerConfig { auto_commit_interval: Duration::from_secs(3600), ..named("b", OffsetStrategy::Auto) };
    let mut stream = consumer.stream_with_config(Offset::beginning(), config.clone()).await.unwrap();
    next_records(&mut stream, 4).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(stored(&s.fluvio, "b").await.is_empty());
    stream.close();
    await_stored(&s.fluvio, "b", &[("auto", 0, 3)]).await;
    // And so does dropping it.
    let mut stream = consumer.stream_with_config(Offset::beginning(), config).await.unwrap();
    assert_eq!(next_record(&mut stream).await.offset, 4);
    next_record(&mut stream).await;
    drop(stream);
    await_stored(&s.fluvio, "b", &[("auto", 0, 5)]).await;
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_topic_stream_commits_and_resumes_each_partition() {
    let s = setup(1).await;
    topic(&s.fluvio, "multi", 3).await;
    for partition in 0..3 {
        produce(&s.fluvio, "multi", partition, 5 + partition as usize).await;
    }
    let consumer = s.fluvio.consumer("multi");
    let mut stream =
        consumer.stream_with_config(Offset::beginning(), named("m", OffsetStrategy::Manual)).await.unwrap();
    let mut seen = Vec::new();
    while seen.len() < 3 + 4 + 5 {
        let record = tokio::time::timeout(PATIENCE, stream.next()).await.unwrap().unwrap().unwrap();
        seen.push((record.partition, record.offset));
    }
    let mut last = [-1i64; 3];
    for (partition, offset) in &seen {
        last[*partition as usize] = last[*partition as usize].max(*offset);
    }
    stream.commit().unwrap();
    stream.flush().await.unwrap();
    let expected: Vec<(String, u32, i64)> =
        (0..3).filter(|p| last[*p as usize] >= 0).map(|p| ("multi".to_string(), p, last[p as usize])).collect();
    assert_eq!(stored(&s.fluvio, "m").await, expected);
    drop(stream);

    // Each partition resumes after its own offset: together, the records not yet read.
    let mut resumed = consumer.stream_with_config(Offset::beginning(), named("m", OffsetStrategy::None)).await.unwrap();
    let total: i64 = (0..3).map(|p| 5 + p - (last[p as usize] + 1)).sum();
    let mut rest = Vec::new();
    for _ in 0..total {
        let record = tokio::time::timeout(PATIENCE, resumed.next()).await.unwrap().unwrap().unwrap();
        rest.push((record.partition, record.offset));
    }
    for (partition, offset) in &rest {
        assert!(*offset > last[*partition as usize], "{partition}-{offset} was committed before");
    }
    rest.extend(seen);
    rest.sort();
    let all: Vec<(u32, i64)> = (0..3u32).flat_map(|p| (0..5 + i64::from(p)).map(move |o| (p, o))).collect();
    assert_eq!(rest, all, "nothing skipped, nothing twice");
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consumers_are_listed_and_deleted() {
    let s = setup(1).await;
    topic(&s.fluvio, "alpha", 2).await;
    topic(&s.fluvio, "beta", 1).await;
    for (topic, partition) in [("alpha", 0), ("alpha", 1), ("beta", 0)] {
        produce(&s.fluvio, topic, partition, 3).await;
        for consumer_id in ["one", "two"] {
            let config = named(consumer_id, OffsetStrategy::Manual);
            let consumer = s.fluvio.partition_consumer(topic, partition);
            let mut stream = consumer.stream_with_config(Offset::beginning(), config).await.unwrap();
            next_records(&mut stream, 1 + partition as usize).await;
            stream.commit().unwrap();
            stream.flush().await.unwrap();
        }
    }
    let admin = s.fluvio.admin();
    let listed = admin.list_consumers().await.unwrap();
    let summary: Vec<(&str, &str, u32, i64)> =
        listed.iter().map(|c| (c.consumer_id.as_str(), c.topic.as_str(), c.partition, c.offset)).collect();
    assert_eq!(
        summary,
        [
            ("one", "alpha", 0, 0),
            ("one", "alpha", 1, 1),
            ("one", "beta", 0, 0),
            ("two", "alpha", 0, 0),
            ("two", "alpha", 1, 1),
            ("two", "beta", 0, 0),
        ]
    );
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    assert!(listed.iter().all(|c| c.modified_time <= now && c.modified_time + 120 > now), "{listed:?}");
    // Rendered as the official CLI's `consumer list -O json`.
    let json: serde_json::Value = serde_json::from_str(&fluvio_engine::admin::to_json(&listed[0]).unwrap()).unwrap();
    let keys: Vec<&str> = json.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["consumer_id", "modified_time", "offset", "partition", "topic"]);
    assert_eq!(json["consumer_id"], "one");

    // One partition, one topic, everything.
    let deleted = admin.delete_consumer("one", Some("alpha"), Some(1)).await.unwrap();
    assert_eq!(deleted.iter().map(|c| (c.topic.as_str(), c.partition)).collect::<Vec<_>>(), [("alpha", 1)]);
    let deleted = admin.delete_consumer("two", Some("alpha"), None).await.unwrap();
    assert_eq!(deleted.len(), 2);
    let deleted: Vec<ConsumerOffsetMetadata> = admin.delete_consumer("one", None, None).await.unwrap();
    assert_eq!(
        deleted.iter().map(|c| (c.topic.as_str(), c.partition)).collect::<Vec<_>>(),
        [("alpha", 0), ("beta", 0)]
    );
    let left = admin.list_consumers().await.unwrap();
    assert_eq!(left.iter().map(|c| (c.consumer_id.as_str(), c.topic.as_str())).collect::<Vec<_>>(), [("two", "beta")]);

    // Typed errors.
    assert_eq!(admin.delete_consumer("one", None, None).await.unwrap_err().kind(), ErrorKind::ConsumerNotFound);
    assert_eq!(admin.delete_consumer("ghost", None, None).await.unwrap_err().kind(), ErrorKind::ConsumerNotFound);
    assert_eq!(
        admin.delete_consumer("two", Some("beta"), Some(7)).await.unwrap_err().kind(),
        ErrorKind::ConsumerNotFound
    );
    assert_eq!(admin.delete_consumer("", None, None).await.unwrap_err().kind(), ErrorKind::InvalidConsumerName);
    assert_eq!(admin.delete_consumer("two", None, Some(0)).await.unwrap_err().kind(), ErrorKind::Config);
    // Deleting a consumer makes its next stream start at the configured offset.
    admin.delete_consumer("two", None, None).await.unwrap();
    assert_eq!(first_of(&s.fluvio, "beta", "two", Offset::beginning()).await, 0);
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_names_and_strategies_without_names_are_refused() {
    let s = setup(1).await;
    topic(&s.fluvio, "bad", 1).await;
    let consumer = s.fluvio.partition_consumer("bad", 0);
    for name in ["", " padded ", "line\nbreak"] {
        let err = consumer.stream_with_config(Offset::beginning(), named(name, OffsetStrategy::Manual)).await;
        assert_eq!(err.err().unwrap().kind(), ErrorKind::InvalidConsumerName, "{name:?}");
        let topic_consumer = s.fluvio.consumer("bad");
        let err = topic_consumer.stream_with_config(Offset::beginning(), named(name, OffsetStrategy::None)).await;
        assert_eq!(err.err().unwrap().kind(), ErrorKind::InvalidConsumerName, "{name:?}");
    }
    for strategy in [OffsetStrategy::Manual, OffsetStrategy::Auto] {
        let config = ConsumerConfig { offset_strategy: strategy, ..ConsumerConfig::default() };
        let err = consumer.stream_with_config(Offset::beginning(), config).await.err().unwrap();
        assert_eq!(err.kind(), ErrorKind::Config);
    }
    s.shutdown().await;
}
