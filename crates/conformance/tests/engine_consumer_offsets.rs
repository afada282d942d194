//! Named consumers across clients, against one embedded cluster: offsets stored by the official
//! `fluvio` client (crates.io 0.50) are where our engine's streams of the same consumer resume,
//! and the reverse, for one partition and per partition of a topic; each client lists and
//! deletes what the other stored, with the same fields.

mod common;

use std::time::Duration;

use common::official_offsets::*;
use fluvio::consumer::{ConsumerStream, OffsetManagementStrategy};
use fluvio_engine::{ClientConfig, ConsumerConfig, ErrorKind, OffsetStrategy, RecordStream};
use fluvio_local::LocalCluster;
use futures_util::StreamExt;

async fn engine(cluster: &LocalCluster) -> fluvio_engine::Fluvio {
    let config = ClientConfig::new(cluster.sc_endpoint()).with_request_timeout(Duration::from_secs(10));
    fluvio_engine::Fluvio::connect_with_config(config).await.expect("engine connects")
}

fn ours_named(consumer_id: &str, offset_strategy: OffsetStrategy) -> ConsumerConfig {
    ConsumerConfig { consumer_id: Some(consumer_id.into()), offset_strategy, ..ConsumerConfig::default() }
}

/// The next `count` records of an engine stream as (partition, offset).
async fn engine_take<S: RecordStream>(stream: &mut S, count: usize) -> Vec<(u32, i64)> {
    let mut taken = Vec::new();
    for _ in 0..count {
        let record = tokio::time::timeout(Duration::from_secs(30), stream.next())
            .await
            .expect("a record in time")
            .expect("the stream goes on")
            .expect("a record");
        assert_eq!(String::from_utf8_lossy(&record.value), format!("{}:{}", record.partition, record.offset));
        taken.push((record.partition, record.offset));
    }
    taken
}

/// What the engine lists for `consumer_id`: (topic, partition, offset, modified_time).
async fn engine_stored(fluvio: &fluvio_engine::Fluvio, consumer_id: &str) -> Vec<(String, u32, i64, u64)> {
    let listed = fluvio.admin().list_consumers().await.expect("consumers listed");
    listed
        .into_iter()
        .filter(|c| c.consumer_id == consumer_id)
        .map(|c| (c.topic, c.partition, c.offset, c.modified_time))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_streams_resume_where_the_official_client_committed() {
    let Setup { cluster, fluvio: official, dir: _dir } = setup(1, "handoff", 1, 1, 20).await;
    let mut stream = manual(&official, "handoff", fluvio::Offset::beginning(), "svc").await;
    assert_eq!(offsets(&take(&mut stream, 8).await), (0..8).collect::<Vec<_>>());
    stream.offset_commit().await.unwrap();
    stream.offset_flush().await.unwrap();
    drop(stream);

    let ours = engine(&cluster).await;
    // Listed the same by both clients.
    let official_list = official.consumer_offsets().await.unwrap();
    let official_entry = official_list.iter().find(|c| c.consumer_id == "svc").unwrap();
    assert_eq!(
        engine_stored(&ours, "svc").await,
        [("handoff".to_string(), 0, 7, official_entry.modified_time)],
        "the offset of the last record consumed"
    );
    // Our stream of the same consumer starts after it, whatever relative offset it is given.
    let consumer = ours.partition_consumer("handoff", 0);
    for start in [fluvio_engine::Offset::beginning(), fluvio_engine::Offset::end()] {
        let mut resumed = consumer.stream_with_config(start, ours_named("svc", OffsetStrategy::None)).await.unwrap();
        assert_eq!(engine_take(&mut resumed, 1).await, [(0, 8)], "{start:?}");
    }
    // And commits there for the official client to resume from.
    let mut resumed = consumer
        .stream_with_config(fluvio_engine::Offset::beginning(), ours_named("svc", OffsetStrategy::Manual))
        .await
        .unwrap();
    assert_eq!(engine_take(&mut resumed, 4).await, [(0, 8), (0, 9), (0, 10), (0, 11)]);
    resumed.commit().unwrap();
    resumed.flush().await.unwrap();
    drop(resumed);
    assert_eq!(stored(&official, "svc").await, [("handoff".to_string(), 0, 11)]);
    let mut stream = manual(&official, "handoff", fluvio::Offset::beginning(), "svc").await;
    assert_eq!(offsets(&take(&mut stream, 1).await), [12]);
    drop(stream);
    ours.close().await;
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_client_resumes_each_partition_where_our_topic_stream_committed() {
    let Setup { cluster, fluvio: official, dir: _dir } = setup(1, "fanout", 3, 1, 10).await;
    let ours = engine(&cluster).await;
    // Our Auto stream over the whole topic: stored on close, per partition.
    let config =
        ConsumerConfig { auto_commit_interval: Duration::from_secs(3600), ..ours_named("fan", OffsetStrategy::Auto) };
    let mut stream =
        ours.consumer("fanout").stream_with_config(fluvio_engine::Offset::beginning(), config).await.unwrap();
    let read = engine_take(&mut stream, 15).await;
    stream.close();
    let mut last = [-1i64; 3];
    for (partition, offset) in &read {
        last[*partition as usize] = last[*partition as usize].max(*offset);
    }
    let expected: Vec<(String, u32, i64)> =
        (0..3u32).filter(|p| last[*p as usize] >= 0).map(|p| ("fanout".to_string(), p, last[p as usize])).collect();
    let expected_ref: Vec<(&str, u32, i64)> = expected.iter().map(|(t, p, o)| (t.as_str(), *p, *o)).collect();
    await_stored(&official, "fan", &expected_ref).await;

    // The official multi-partition consumer of the same name reads exactly the rest.
    let mut resumed =
        named(&official, "fanout", &[], "fan", OffsetManagementStrategy::None, Duration::from_secs(10)).await;
    let rest = take(&mut resumed, 30 - read.len()).await;
    let mut all: Vec<(u32, i64)> = read.into_iter().chain(rest).collect();
    all.sort();
    assert_eq!(
        all,
        (0..3u32).flat_map(|p| (0..10).map(move |o| (p, o))).collect::<Vec<_>>(),
        "nothing twice, nothing skipped"
    );
    let nothing_more = tokio::time::timeout(Duration::from_millis(300), resumed.next()).await;
    assert!(nothing_more.is_err(), "nothing more after the 30 records");
    drop(resumed);

    // What one client deletes, the other no longer lists. Our stream's first 15 records may
    // all have come from partitions 1 and 2: then partition 0 has nothing stored to delete.
    let deleted = ours.admin().delete_consumer("fan", Some("fanout"), Some(0)).await;
    if last[0] >= 0 {
        assert_eq!(deleted.unwrap().len(), 1);
    } else {
        assert_eq!(deleted.unwrap_err().kind(), ErrorKind::ConsumerNotFound);
    }
    official.delete_consumer_offset("fan", ("fanout".to_string(), 1)).await.unwrap();
    let left: Vec<u32> = engine_stored(&ours, "fan").await.into_iter().map(|(_, p, _, _)| p).collect();
    assert!(left.iter().all(|p| *p == 2), "{left:?}");
    assert_eq!(stored(&official, "fan").await.into_iter().map(|(_, p, _)| p).collect::<Vec<_>>(), left);
    ours.close().await;
    cluster.shutdown().await;
}
