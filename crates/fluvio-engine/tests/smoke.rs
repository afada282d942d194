mod common;

use common::*;
use fluvio_engine::Offset;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn produce_and_consume() {
    let s = setup(1).await;
    topic(&s.fluvio, "smoke", 2).await;
    let producer = s.fluvio.topic_producer("smoke").await.unwrap();
    let mut outputs = Vec::new();
    for i in 0..1000u32 {
        outputs.push(producer.send(Some(format!("k{}", i % 10).as_bytes()), format!("v{i}").as_bytes()).await.unwrap());
    }
    producer.flush().await.unwrap();
    let mut per_partition = [0i64; 2];
    for output in &outputs {
        let md = output.wait().await.unwrap();
        per_partition[md.partition as usize] += 1;
    }
    assert_eq!(per_partition.iter().sum::<i64>(), 1000);
    for p in 0..2 {
        let mut stream = s.fluvio.partition_consumer("smoke", p).stream(Offset::beginning()).await.unwrap();
        for expected in 0..per_partition[p as usize] {
            let record = stream.next().await.unwrap().unwrap();
            assert_eq!(record.offset, expected);
        }
    }
    s.shutdown().await;
}
