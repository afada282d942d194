//! Producers and consumers while a partition leader is stopped, killed and started again:
//! streams resume without gap or duplicate, at-least-once delivers what was queued exactly
//! once and in order, at-most-once fails without retrying, and a full queue blocks `send`
//! for `max_block`.

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::*;
use fluvio_engine::producer::{DeliverySemantic, TrySend};
use fluvio_engine::{ConsumerConfig, ErrorKind, Offset, ProduceOutput, ProducerConfig, TopicProducer};

/// Takes the SPU down, gracefully or as a crash.
async fn take_down(s: &Setup, spu: i32, kill: bool) {
    if kill {
        s.cluster.kill_spu(spu).await.expect("SPU killed");
    } else {
        s.cluster.stop_spu(spu).await.expect("SPU stopped");
    }
    assert!(!s.cluster.is_spu_running(spu));
}

async fn stream_survives_an_outage(kill: bool) {
    let s = setup(1).await;
    topic(&s.fluvio, "resume", 1).await;
    let spu = leader_of(&s.fluvio, "resume", 0).await;
    let producer = s.fluvio.topic_producer("resume").await.unwrap();
    // Ten batches before the outage.
    for batch in 0..10 {
        for n in batch * 10..(batch + 1) * 10 {
            producer.send(None, n.to_string().as_bytes()).await.unwrap();
        }
        producer.flush().await.unwrap();
    }
    // One batch per push, so that part of the records is still on the server when it stops.
    let config = ConsumerConfig { max_bytes: 1, ..ConsumerConfig::default() };
    let mut stream =
        s.fluvio.partition_consumer("resume", 0).stream_with_config(Offset::beginning(), config).await.unwrap();
    let mut received = next_records(&mut stream, 35).await;

    take_down(&s, spu, kill).await;
    // During the outage the producer keeps the records and retries.
    let mut during = Vec::new();
    for n in 100..150 {
        during.push(producer.send(None, n.to_string().as_bytes()).await.unwrap());
    }
    let flusher = tokio::spawn({
        let producer = producer.clone();
        async move { producer.flush().await }
    });
    // What the stream had already received is still delivered.
    while let Some(Ok(record)) = stream.try_next() {
        received.push(record);
    }
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(!flusher.is_finished(), "the records cannot be delivered while the leader is down");
    assert!(during.iter().all(|o| o.try_result().is_none()));

    s.cluster.start_spu(spu).await.expect("SPU starts again");
    tokio::time::timeout(PATIENCE, flusher).await.expect("flushed once the leader is back").unwrap().unwrap();
    for n in 150..200 {
        producer.send(None, n.to_string().as_bytes()).await.unwrap();
    }
    producer.flush().await.unwrap();
    for (i, output) in during.iter().enumerate() {
        assert_eq!(output.wait().await.unwrap().offset, 100 + i as i64);
    }

    let missing = 200 - received.len();
    received.extend(next_records(&mut stream, missing).await);
    assert_eq!(offsets(&received), (0..200).collect::<Vec<_>>(), "no gap, no duplicate");
    assert_eq!(values(&received), (0..200).map(|n| n.to_string()).collect::<Vec<_>>());
    assert_quiet(&mut stream, Duration::from_millis(300)).await;
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_resumes_after_its_leader_is_stopped_and_started() {
    stream_survives_an_outage(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_resumes_after_its_leader_is_killed_and_started() {
    stream_survives_an_outage(true).await;
}

/// Every record sent, per partition in order, and the outputs.
#[derive(Default)]
struct SendLog {
    sent: BTreeMap<u32, Vec<String>>,
    outputs: Vec<ProduceOutput>,
}

impl SendLog {
    async fn send(&mut self, producer: &TopicProducer, partition: Option<u32>, value: String) -> ProduceOutput {
        let output = producer.send_to(partition, None, value.as_bytes()).await.unwrap();
        self.sent.entry(output.partition()).or_default().push(value);
        self.outputs.push(output.clone());
        output
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_least_once_delivers_records_queued_during_an_outage_exactly_once_in_order() {
    let s = setup(2).await;
    topic(&s.fluvio, "queued", 2).await;
    let leaders = [leader_of(&s.fluvio, "queued", 0).await, leader_of(&s.fluvio, "queued", 1).await];
    assert_ne!(leaders[0], leaders[1], "one partition per SPU");
    let config = ProducerConfig::builder().linger(Duration::from_secs(600)).build().unwrap();
    assert!(matches!(config.delivery(), DeliverySemantic::AtLeastOnce(_)), "the default");
    let producer = s.fluvio.topic_producer_with_config("queued", config).await.unwrap();
    let mut log = SendLog::default();
    let mut send = async |partition: Option<u32>, value: String| log.send(&producer, partition, value).await;

    for n in 0..100 {
        send(Some(n % 2), format!("before-{n}")).await;
    }
    producer.flush().await.unwrap();
    // Queued (the linger is long), then the leader of partition 1 goes away.
    for n in 0..100 {
        send(Some(n % 2), format!("queued-{n}")).await;
    }
    s.cluster.stop_spu(leaders[1]).await.unwrap();
    let flusher = tokio::spawn({
        let producer = producer.clone();
        async move { producer.flush().await }
    });
    // Partition 0 keeps flowing.
    let mut stream0 = s.fluvio.partition_consumer("queued", 0).stream(Offset::beginning()).await.unwrap();
    let expected: Vec<String> = ["before", "queued"]
        .into_iter()
        .flat_map(|phase| (0..100).step_by(2).map(move |n| format!("{phase}-{n}")))
        .collect();
    assert_eq!(values(&next_records(&mut stream0, 100).await), expected);

    // Once the client sees partition 1 offline, keyless records avoid it.
    let deadline = Instant::now() + PATIENCE;
    let mut in_a_row = 0;
    let mut probes = 0;
    while in_a_row < 10 {
        assert!(Instant::now() < deadline, "keyless records still go to the offline partition");
        let output = send(None, format!("probe-{probes}")).await;
        probes += 1;
        in_a_row = if output.partition() == 0 { in_a_row + 1 } else { 0 };
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    for n in 0..50 {
        assert_eq!(send(None, format!("keyless-{n}")).await.partition(), 0);
    }
    // Explicitly sent to partition 1: waits with the rest.
    for n in 0..20 {
        send(Some(1), format!("during-{n}")).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!flusher.is_finished(), "partition 1 cannot be delivered while its leader is down");

    s.cluster.start_spu(leaders[1]).await.unwrap();
    tokio::time::timeout(PATIENCE, flusher).await.expect("flushed once the leader is back").unwrap().unwrap();
    producer.flush().await.unwrap();
    let SendLog { sent, outputs } = log;
    for output in &outputs {
        output.try_result().expect("resolved").expect("delivered");
    }
    for partition in 0..2 {
        let records = read_partition(&s.fluvio, "queued", partition).await;
        assert_eq!(values(&records), sent[&partition], "partition {partition}: exactly once, in order");
        let resolved: Vec<i64> = outputs
            .iter()
            .filter(|o| o.partition() == partition)
            .map(|o| o.try_result().unwrap().unwrap().offset)
            .collect();
        assert_eq!(resolved, offsets(&records));
    }
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_most_once_fails_without_retrying_while_the_leader_is_down() {
    let s = setup(1).await;
    topic(&s.fluvio, "at-most-once", 1).await;
    let spu = leader_of(&s.fluvio, "at-most-once", 0).await;
    let config =
        ProducerConfig::builder().delivery(DeliverySemantic::AtMostOnce).linger(Duration::ZERO).build().unwrap();
    let producer = s.fluvio.topic_producer_with_config("at-most-once", config).await.unwrap();
    producer.send(None, b"before").await.unwrap().wait().await.unwrap();
    producer.flush().await.unwrap();
    let delivered = producer.delivered_requests();
    assert_eq!(delivered, 1);

    s.cluster.stop_spu(spu).await.unwrap();
    let started = Instant::now();
    let mut lost = Vec::new();
    for n in 0..5 {
        lost.push(producer.send(None, format!("lost-{n}").as_bytes()).await.unwrap());
    }
    for output in &lost {
        let err = tokio::time::timeout(PATIENCE, output.wait()).await.expect("resolved").unwrap_err();
        assert!(err.is_retriable(), "a retriable kind: {err:?}");
        assert!(matches!(err.kind(), ErrorKind::Connect | ErrorKind::ConnectionClosed), "{err:?}");
    }
    // No retry: it fails at once, not after the retry policy's time.
    assert!(started.elapsed() < Duration::from_secs(5), "failed after {:?}", started.elapsed());
    let err = producer.flush().await.unwrap_err();
    assert!(err.is_retriable(), "{err:?}");
    assert_eq!(producer.delivered_requests(), delivered);

    s.cluster.start_spu(spu).await.unwrap();
    producer.send(None, b"after").await.unwrap().wait().await.unwrap();
    producer.flush().await.unwrap();
    assert_eq!(values(&read_partition(&s.fluvio, "at-most-once", 0).await), ["before", "after"]);
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_queue_blocks_send_for_max_block_then_times_out() {
    let s = setup(1).await;
    topic(&s.fluvio, "full", 1).await;
    let spu = leader_of(&s.fluvio, "full", 0).await;
    let max_block = Duration::from_millis(1500);
    // One record per batch, one sealed batch queued at most, nothing sent by the linger.
    let tight = |max_block| {
        ProducerConfig::builder()
            .batch_size(100)
            .batch_queue_size(1)
            .linger(Duration::from_secs(600))
            .max_block(max_block)
            .build()
            .unwrap()
    };
    let producer = s.fluvio.topic_producer_with_config("full", tight(max_block)).await.unwrap();
    // It works while the leader is up.
    producer.send(None, b"up").await.unwrap();
    producer.flush().await.unwrap();

    s.cluster.kill_spu(spu).await.unwrap();
    let value = |n: usize| format!("{n:03}-{}", "p".repeat(60));
    let mut accepted = vec!["up".to_string()];
    let mut timed_out = None;
    for n in 0..10 {
        let started = Instant::now();
        match producer.send(None, value(n).as_bytes()).await {
            Ok(_) => {
                assert!(started.elapsed() < max_block, "send {n} waited {:?}", started.elapsed());
                accepted.push(value(n));
            }
            Err(err) => {
                assert_eq!(err.kind(), ErrorKind::Timeout, "{err:?}");
                timed_out = Some((n, started.elapsed()));
                break;
            }
        }
    }
    // One batch in flight (retrying), one sealed, one open: the next record waits.
    let (n, waited) = timed_out.expect("a send blocked and timed out");
    assert!((2..=4).contains(&n), "the queue filled after {n} records");
    assert!(waited >= max_block, "gave up after {waited:?}, before max_block");
    assert!(waited < max_block + Duration::from_secs(3), "gave up after {waited:?}");
    let started = Instant::now();
    assert!(matches!(producer.try_send(None, None, b"no room").unwrap(), TrySend::QueueFull(0)));
    assert!(started.elapsed() < Duration::from_millis(500), "try_send does not wait");
    // A record too large for any request is refused at once, full queue or not.
    let started = Instant::now();
    let huge = vec![b'h'; 2 * 1024 * 1024];
    assert_eq!(producer.send(None, &huge).await.unwrap_err().kind(), ErrorKind::RecordTooLarge);
    assert!(started.elapsed() < Duration::from_millis(500), "refused without waiting for room");

    // A send with a long max_block waits for room, and gets it once the leader is back.
    let patient = s.fluvio.topic_producer_with_config("full", tight(Duration::from_secs(60))).await.unwrap();
    let mut patient_accepted = Vec::new();
    let blocked = loop {
        let v = format!("patient-{}", patient_accepted.len());
        match patient.try_send(None, None, v.as_bytes()).unwrap() {
            TrySend::Sent(_) => patient_accepted.push(v),
            TrySend::QueueFull(_) => {
                let producer = patient.clone();
                break tokio::spawn(async move { producer.send(None, v.as_bytes()).await.map(|_| v) });
            }
        }
        assert!(patient_accepted.len() < 10);
        // Let the sender take the first batch.
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(!blocked.is_finished(), "send waits while the queue is full");

    s.cluster.start_spu(spu).await.unwrap();
    let v = tokio::time::timeout(PATIENCE, blocked).await.expect("room once the leader is back").unwrap().unwrap();
    patient_accepted.push(v);
    producer.flush().await.unwrap();
    patient.flush().await.unwrap();

    let records = values(&read_partition(&s.fluvio, "full", 0).await);
    assert_eq!(records.len(), accepted.len() + patient_accepted.len(), "{records:?}");
    let mine: Vec<String> = records.iter().filter(|v| !v.starts_with("patient-")).cloned().collect();
    let theirs: Vec<String> = records.iter().filter(|v| v.starts_with("patient-")).cloned().collect();
    assert_eq!(mine, accepted);
    assert_eq!(theirs, patient_accepted);
    s.shutdown().await;
}

/// With its leader gone, `close_within` gives up after its timeout (a plain `close` would retry
/// for the retry policy's two minutes): what was not acknowledged fails with `Closed`, and the
/// producer's metrics count the retries, the reconnect and the failure.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bounded_close_gives_up_on_a_leader_that_is_gone() {
    let s = setup(1).await;
    topic(&s.fluvio, "bounded-close", 1).await;
    let spu = leader_of(&s.fluvio, "bounded-close", 0).await;
    let producer = s.fluvio.topic_producer("bounded-close").await.unwrap();
    producer.send(None, b"acknowledged").await.unwrap().wait().await.unwrap();
    take_down(&s, spu, true).await;
    let pending = producer.send(None, b"never acknowledged").await.unwrap();
    // Let the sender retry at least once.
    let deadline = Instant::now() + Duration::from_secs(20);
    while producer.metrics().retries == 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let closing = tokio::time::timeout(Duration::from_secs(30), producer.close_within(Duration::from_millis(300)));
    let closed = closing.await.expect("close_within returned within its bound");
    assert_eq!(closed.unwrap_err().kind(), ErrorKind::Closed);
    assert_eq!(pending.wait().await.unwrap_err().kind(), ErrorKind::Closed);
    assert!(producer.send(None, b"after").await.is_err(), "a closed producer refuses records");

    let metrics = producer.metrics();
    assert_eq!((metrics.records_sent, metrics.batches_sent), (1, 1));
    assert!(metrics.retries >= 1, "{metrics:?}");
    assert!(metrics.reconnects >= 1, "{metrics:?}");
    assert_eq!(metrics.errors, vec![(ErrorKind::Closed, 1)]);
    assert_eq!(metrics.in_flight_requests, 0);
    assert_eq!(s.fluvio.metrics().records_sent, 1, "the client's totals include the producer's");
}
