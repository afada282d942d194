//! Batches a server cuts short. A Fluvio SPU sends a consumer a slice of its log cut at the
//! fetch's `max_bytes`, inside a batch if that is where it falls (`fluvio-local` does the
//! same): batches larger than `max_bytes` are fetched whole, every record is delivered once and
//! in order; a batch too large to fetch, or one a server never sends whole, is a typed error,
//! never a stall.

mod common;
mod scripted;

use std::time::Duration;

use common::*;
use fluvio_engine::consumer::MAX_FETCH_BYTES;
use fluvio_engine::{ClientConfig, Compression, ConsumerConfig, ErrorKind, Fluvio, Offset, ProducerConfig};
use scripted::ScriptedCluster;

/// A value of about 1 KiB that compression barely shrinks, numbered `n`.
fn bulky(n: usize) -> Vec<u8> {
    let mut value = format!("{n:07}-").into_bytes();
    let mut state = (n as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    while value.len() < 1100 {
        // xorshift: bytes gzip cannot shrink much.
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        value.push(b'a' + (state % 26) as u8);
    }
    value
}

/// Produces, to partition 0 of `topic`: a ~3.3 MB batch, a small one, and a gzip batch of
/// ~3.3 MB of records (~2.2 MB stored), as a producer with a 4 MiB `batch_size` makes them;
/// returns the record count.
async fn produce_big_batches(fluvio: &Fluvio, topic: &str) -> usize {
    let mut n = 0;
    for (count, compression) in [(3000, Compression::None), (3, Compression::None), (3000, Compression::Gzip)] {
        let config = ProducerConfig::builder()
            .batch_size(4 * 1024 * 1024)
            .max_request_size(4 * 1024 * 1024)
            .linger(Duration::from_secs(600))
            .compression(compression)
            .build()
            .unwrap();
        let producer = fluvio.topic_producer_with_config(topic, config).await.unwrap();
        for _ in 0..count {
            producer.send(None, &bulky(n)).await.unwrap();
            n += 1;
        }
        producer.flush().await.unwrap();
    }
    n
}

/// Every record exactly once, in order, with its value.
fn assert_all(records: &[fluvio_engine::ConsumerRecord], from: usize, to: usize, what: &str) {
    assert_eq!(offsets(records), (from as i64..to as i64).collect::<Vec<_>>(), "{what}");
    assert!(records.iter().all(|r| r.value == bulky(r.offset as usize)), "{what}: values");
}

/// A Fluvio SPU cuts what it sends at the fetch's `max_bytes`, inside a batch if that is where
/// it falls (`fluvio-local` too). Batches larger than `max_bytes` (here ~3.3 MB ones, as a
/// producer with a 4 MiB batch size makes) are fetched whole: streams with the default
/// 1 MiB and with 256 bytes, and one-shot fetches, read every record once, in order, and go
/// on with records produced later. (The official client stops or skips records there.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_larger_than_max_bytes_are_read_whole() {
    let s = setup(1).await;
    topic(&s.fluvio, "big-batches", 1).await;
    let total = produce_big_batches(&s.fluvio, "big-batches").await;
    let stored = stored_batches(s.dir.path(), fluvio_local::FIRST_SPU_ID, "big-batches", 0);
    assert_eq!(stored.len(), 3, "{stored:?}");
    assert!(stored[0].total_len() > 3_000_000 && stored[2].total_len() > 2_000_000, "{stored:?}");
    let consumer = s.fluvio.partition_consumer("big-batches", 0);

    let tiny = ConsumerConfig { max_bytes: 256, ..ConsumerConfig::default() };
    let mut streams = Vec::new();
    for (config, what) in [(ConsumerConfig::default(), "default stream"), (tiny.clone(), "256-byte stream")] {
        let mut stream = consumer.stream_with_config(Offset::beginning(), config.clone()).await.unwrap();
        assert_all(&next_records(&mut stream, total).await, 0, total, what);
        streams.push(stream);
        // From inside a big batch.
        let mut stream = consumer.stream_with_config(Offset::absolute(1234).unwrap(), config).await.unwrap();
        assert_all(&next_records(&mut stream, total - 1234).await, 1234, total, what);
        streams.push(stream);
    }
    // And on with what comes next.
    let more = s.fluvio.topic_producer("big-batches").await.unwrap();
    for n in total..total + 2 {
        more.send(None, &bulky(n)).await.unwrap();
    }
    more.flush().await.unwrap();
    let total = total + 2;
    for stream in &mut streams {
        assert_all(&next_records(stream, 2).await, total - 2, total, "records produced later");
        assert_quiet(stream, Duration::from_millis(200)).await;
    }

    // One-shot fetches: the first batch whole when it is larger than max_bytes.
    let first = consumer.fetch(Offset::beginning(), ConsumerConfig::default()).await.unwrap();
    assert_all(&first, 0, 3000, "default fetch");
    assert_all(
        &consumer.fetch(Offset::absolute(1234).unwrap(), tiny.clone()).await.unwrap(),
        1234,
        3000,
        "fetch inside",
    );
    let mut fetched = Vec::new();
    while fetched.len() < total {
        let records = consumer.fetch(Offset::absolute(fetched.len() as i64).unwrap(), tiny.clone()).await.unwrap();
        assert!(!records.is_empty(), "a 256-byte fetch at {} brings records", fetched.len());
        fetched.extend(records);
    }
    assert_all(&fetched, 0, total, "256-byte fetches");
    s.shutdown().await;
}

/// The first error of a stream opened at the beginning of partition 0, and of a fetch there.
async fn stream_and_fetch_errors(
    fluvio: &Fluvio,
    config: ConsumerConfig,
) -> (fluvio_engine::Error, fluvio_engine::Error) {
    let consumer = fluvio.partition_consumer("cut", 0);
    let mut stream = consumer.stream_with_config(Offset::beginning(), config.clone()).await.unwrap();
    let streamed = match tokio::time::timeout(PATIENCE, stream.next()).await {
        Ok(Some(Err(err))) => err,
        other => panic!("expected an error, got {other:?}"),
    };
    assert!(stream.next().await.is_none(), "the error ends the stream");
    let fetched = consumer.fetch(Offset::beginning(), config).await.unwrap_err();
    (streamed, fetched)
}

async fn scripted_client(cluster: &ScriptedCluster) -> Fluvio {
    let config = ClientConfig::new(cluster.sc_endpoint())
        .with_connect_timeout(Duration::from_secs(2))
        .with_request_timeout(Duration::from_secs(5));
    Fluvio::connect_with_config(config).await.expect("client connects")
}

/// A cut batch that declares more than a fetch can take is `RecordTooLarge`, at once, for a
/// stream and a fetch alike; nothing is asked of the server for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_batch_larger_than_the_ceiling_is_record_too_large() {
    let cluster = ScriptedCluster::start("cut", 1, 1).await;
    cluster.append_records(0, 2);
    cluster.append_cut_batch(0, 3, 200, MAX_FETCH_BYTES as usize + 1);
    let fluvio = scripted_client(&cluster).await;
    let config = ConsumerConfig { max_bytes: 1024, ..ConsumerConfig::default() };
    // The records before it are delivered.
    let mut stream =
        fluvio.partition_consumer("cut", 0).stream_with_config(Offset::beginning(), config.clone()).await.unwrap();
    for offset in 0..2 {
        assert_eq!(stream.next().await.unwrap().unwrap().offset, offset);
    }
    let err = stream.next().await.unwrap().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RecordTooLarge, "{err:?}");
    assert!(!err.is_retriable());
    let fetches_before = cluster.stream_fetch_count(scripted::FIRST_SPU);
    let err = fluvio.partition_consumer("cut", 0).fetch(Offset::absolute(2).unwrap(), config).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RecordTooLarge, "{err:?}");
    assert_eq!(cluster.stream_fetch_count(scripted::FIRST_SPU), fetches_before + 1, "only the fetch itself");
    fluvio.close().await;
}

/// A server that never sends a batch whole, even when asked for exactly its declared size,
/// gets `Protocol` after a few attempts, for a stream and a fetch alike: never a stall.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_a_server_never_sends_whole_is_a_protocol_error() {
    let cluster = ScriptedCluster::start("cut", 1, 1).await;
    cluster.append_cut_batch(0, 5, 300, 5000);
    let fluvio = scripted_client(&cluster).await;
    for max_bytes in [256, 1 << 20] {
        let config = ConsumerConfig { max_bytes, ..ConsumerConfig::default() };
        let (streamed, fetched) = stream_and_fetch_errors(&fluvio, config).await;
        assert_eq!(streamed.kind(), ErrorKind::Protocol, "{streamed:?}");
        assert_eq!(fetched.kind(), ErrorKind::Protocol, "{fetched:?}");
    }
    // Each asked for the declared size after the first cut push.
    let asked: Vec<i32> = cluster.stream_fetches().iter().map(|(_, r)| r.max_bytes).collect();
    assert!(asked.iter().filter(|m| **m == 5000).count() >= 4, "{asked:?}");
    fluvio.close().await;
}
