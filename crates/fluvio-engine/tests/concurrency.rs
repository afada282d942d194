//! One producer shared by many tasks: every record delivered exactly once, and each task's
//! records in the order it sent them.

mod common;

use std::sync::Arc;
use std::time::Instant;

use common::*;
use fluvio_engine::producer::key_hash;
use fluvio_engine::{Offset, TopicProducer};

const TASKS: u32 = 8;
const PER_TASK: u32 = 125_000;
const PARTITIONS: u32 = 3;

fn key(task: u32) -> String {
    format!("thread-{task}")
}

/// Value of a record: the task and its sequence number (8 bytes).
fn value(task: u32, seq: u32) -> [u8; 8] {
    let mut value = [0; 8];
    value[..4].copy_from_slice(&task.to_be_bytes());
    value[4..].copy_from_slice(&seq.to_be_bytes());
    value
}

fn parse(value: &[u8]) -> (u32, u32) {
    assert_eq!(value.len(), 8, "an 8-byte value");
    (u32::from_be_bytes(value[..4].try_into().unwrap()), u32::from_be_bytes(value[4..].try_into().unwrap()))
}

/// Sends a task's records in order; returns the offset each one got.
async fn send_all(producer: TopicProducer, task: u32) -> (u32, Vec<i64>) {
    let key = key(task);
    let mut outputs = Vec::with_capacity(PER_TASK as usize);
    for seq in 0..PER_TASK {
        outputs.push(producer.send(Some(key.as_bytes()), &value(task, seq)).await.expect("queued"));
    }
    let mut partition = None;
    let mut offsets = Vec::with_capacity(outputs.len());
    for output in outputs {
        let metadata = output.wait().await.expect("delivered");
        assert_eq!(*partition.get_or_insert(metadata.partition), metadata.partition, "one key, one partition");
        offsets.push(metadata.offset);
    }
    (partition.expect("records sent"), offsets)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_producer_shared_by_eight_tasks_delivers_each_record_once_in_task_order() {
    let s = setup(1).await;
    topic(&s.fluvio, "shared", PARTITIONS).await;
    let mut partitions: Vec<u32> =
        (0..TASKS).map(|t| (key_hash(key(t).as_bytes()) % u64::from(PARTITIONS)) as u32).collect();
    let expected_partition = partitions.clone();
    partitions.sort();
    partitions.dedup();
    assert_eq!(partitions.len(), PARTITIONS as usize, "the keys cover every partition");

    let producer = s.fluvio.topic_producer("shared").await.unwrap();
    let started = Instant::now();
    let tasks: Vec<_> = (0..TASKS).map(|task| tokio::spawn(send_all(producer.clone(), task))).collect();
    let mut sent = Vec::new();
    for (task, handle) in tasks.into_iter().enumerate() {
        let (partition, offsets) = handle.await.unwrap();
        assert_eq!(partition, expected_partition[task], "task {task}: the key's partition");
        // Within a partition, a task's records are stored in the order it sent them.
        assert!(offsets.windows(2).all(|w| w[0] < w[1]), "task {task}: offsets increase");
        sent.push((partition, offsets));
    }
    producer.flush().await.unwrap();
    let produced = started.elapsed();
    let sent = Arc::new(sent);

    // Read every partition back, in parallel.
    let started = Instant::now();
    let readers: Vec<_> = (0..PARTITIONS)
        .map(|partition| {
            let consumer = s.fluvio.partition_consumer("shared", partition);
            let sent = sent.clone();
            tokio::spawn(async move {
                let (start, end) = consumer.offsets().await.unwrap();
                assert_eq!(start, 0);
                let mut stream = consumer.stream(Offset::beginning()).await.unwrap();
                let mut next_seq = vec![0u32; TASKS as usize];
                for offset in 0..end {
                    let record = next_record(&mut stream).await;
                    assert_eq!(record.offset, offset, "partition {partition}: no gap");
                    let (task, seq) = parse(&record.value);
                    let (task_partition, offsets) = &sent[task as usize];
                    assert_eq!(*task_partition, partition, "task {task} record in partition {partition}");
                    assert_eq!(record.key.as_deref(), Some(key(task).as_bytes()));
                    // Exactly once and in the task's order: the next sequence number, every time.
                    assert_eq!(seq, next_seq[task as usize], "task {task} in partition {partition}");
                    assert_eq!(offsets[seq as usize], offset, "the offset its output reported");
                    next_seq[task as usize] += 1;
                }
                assert_quiet(&mut stream, std::time::Duration::from_millis(200)).await;
                (end, next_seq)
            })
        })
        .collect();
    let mut total = 0;
    let mut per_task = vec![0u32; TASKS as usize];
    for reader in readers {
        let (end, next_seq) = reader.await.unwrap();
        total += end;
        for (task, count) in next_seq.into_iter().enumerate() {
            per_task[task] += count;
        }
    }
    assert_eq!(total, i64::from(TASKS * PER_TASK), "no record stored twice");
    assert_eq!(per_task, vec![PER_TASK; TASKS as usize], "every record of every task");
    eprintln!("produced {} records in {produced:?}, consumed them in {:?}", TASKS * PER_TASK, started.elapsed());
    s.shutdown().await;
}
