//! A stored batch damaged on the server's disk: a stream delivers every record before it, then
//! fails with `CorruptData` (not retriable), never with the damaged records.

mod common;

use std::time::Duration;

use common::*;
use fluvio_engine::{ConsumerConfig, ErrorKind, Offset, ProducerConfig};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_stored_batch_ends_the_stream_with_corrupt_data() {
    let s = setup(1).await;
    topic(&s.fluvio, "bitrot", 1).await;
    let producer = s
        .fluvio
        .topic_producer_with_config(
            "bitrot",
            ProducerConfig::builder().linger(Duration::from_secs(600)).build().unwrap(),
        )
        .await
        .unwrap();
    for batch in 0..3 {
        for n in 0..10 {
            producer.send(None, format!("{batch}-{n}").as_bytes()).await.unwrap();
        }
        producer.flush().await.unwrap();
    }
    // One byte of the second batch's records flips on disk.
    let spu = leader_of(&s.fluvio, "bitrot", 0).await;
    let headers = stored_batches(s.dir.path(), spu, "bitrot", 0);
    let second = headers[0].total_len();
    let segment = s.dir.path().join(format!("spu-{spu}")).join("bitrot-0").join(format!("{:020}.log", 0));
    let mut bytes = std::fs::read(&segment).unwrap();
    bytes[second + fluvio_wire::record::BATCH_FILE_HEADER_LEN + 10] ^= 0x40;
    std::fs::write(&segment, bytes).unwrap();

    let config = ConsumerConfig { isolation: fluvio_engine::Isolation::ReadUncommitted, ..ConsumerConfig::default() };
    let mut stream =
        s.fluvio.partition_consumer("bitrot", 0).stream_with_config(Offset::beginning(), config).await.unwrap();
    let before = next_records(&mut stream, 10).await;
    assert_eq!(values(&before), (0..10).map(|n| format!("0-{n}")).collect::<Vec<_>>());
    let err = match tokio::time::timeout(PATIENCE, stream.next()).await {
        Ok(Some(Err(err))) => err,
        other => panic!("expected the stream to fail, got {other:?}"),
    };
    assert_eq!(err.kind(), ErrorKind::CorruptData, "{err:?}");
    assert!(!err.is_retriable());
    // Past the damaged batch, the rest is served.
    let mut after = s.fluvio.partition_consumer("bitrot", 0).stream(Offset::absolute(20).unwrap()).await.unwrap();
    assert_eq!(values(&next_records(&mut after, 10).await), (0..10).map(|n| format!("2-{n}")).collect::<Vec<_>>());
    s.shutdown().await;
}
