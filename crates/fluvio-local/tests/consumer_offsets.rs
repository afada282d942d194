//! Consumer offsets kept by the cluster (the system topic `consumer-offset` and the SPU requests
//! 1006..=1008), over the raw protocol: the semantics of Fluvio's SPU, forwarding between SPUs,
//! deletion with the topic, and survival across restarts and leader failures.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::replicated::{SPU_1, SPU_2, SPU_3, addr, read_batches, setup};
use common::*;
use fluvio_local::{ClusterConfig, LocalCluster, ReplicationPolicy};
use fluvio_wire::consumer_offset::{
    CONSUMER_OFFSET_TOPIC, ConsumerOffset, ConsumerOffsetFilter, DeleteConsumerOffsetRequest,
    FetchConsumerOffsetsRequest, FetchConsumerOffsetsResponse, OFFSET_ENTRY_VERSION, OffsetEntry,
    UpdateConsumerOffsetRequest, UpdateConsumerOffsetResponse,
};
use fluvio_wire::error_code::ReplicaKey;
use fluvio_wire::sc::partition::PartitionResolution;
use fluvio_wire::sc::{
    DeleteRequest, ListFilters, ListRequest, ListResponse, Metadata, PartitionSpec, TopicSpec, WatchParams,
    WatchRequest, WatchResponse,
};
use fluvio_wire::spu::{FetchOffsetPartition, FetchOffsetTopic, FetchOffsetsRequest, Isolation, StreamFetchRequest};
use fluvio_wire::{Decoder, ErrorCode, Request};

/// Partitions the SC lists with `system` set as asked.
async fn partitions(sc: &mut RawClient, system: bool) -> Vec<Metadata<PartitionSpec>> {
    let filters = ListFilters { system, ..Default::default() };
    match sc.call(&ListRequest { label: "Partition".into(), filters }).await {
        ListResponse::Partition(partitions) => partitions,
        other => panic!("unexpected list response {other:?}"),
    }
}

/// Topics the SC lists with `system` set as asked.
async fn topics(sc: &mut RawClient, system: bool) -> Vec<Metadata<TopicSpec>> {
    let filters = ListFilters { system, ..Default::default() };
    match sc.call(&ListRequest { label: "Topic".into(), filters }).await {
        ListResponse::Topic(topics) => topics,
        other => panic!("unexpected list response {other:?}"),
    }
}

/// The partition `consumer-offset-0` once it is online.
async fn offsets_partition(sc: &mut RawClient) -> Metadata<PartitionSpec> {
    offsets_partition_when(sc, "online", |_| true).await
}

/// The partition `consumer-offset-0` once it is online and `ready`.
async fn offsets_partition_when(
    sc: &mut RawClient,
    what: &str,
    ready: impl Fn(&Metadata<PartitionSpec>) -> bool,
) -> Metadata<PartitionSpec> {
    let deadline = Instant::now() + WAIT;
    loop {
        let found = partitions(sc, true).await.into_iter().find(|p| p.name == "consumer-offset-0");
        if let Some(partition) = found.filter(|p| p.status.resolution == PartitionResolution::Online && ready(p)) {
            return partition;
        }
        assert!(Instant::now() < deadline, "consumer-offset-0 is not {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Creates topic `name` (one partition on the 3 SPUs) led by an SPU that does not lead
/// `consumer-offset`, so that commits to it are forwarded. Returns (its leader, the leader of
/// `consumer-offset`).
async fn topic_led_elsewhere(sc: &mut RawClient, name: &str) -> (i32, i32) {
    let offsets_leader = offsets_partition(sc).await.spec.leader;
    let data_leader = [SPU_1, SPU_2, SPU_3].into_iter().find(|id| *id != offsets_leader).unwrap();
    let followers: Vec<i32> = [SPU_1, SPU_2, SPU_3].into_iter().filter(|id| *id != data_leader).collect();
    assigned_topic(sc, name, &[data_leader, followers[0], followers[1]]).await;
    (data_leader, offsets_leader)
}

/// A connection to a partition's leader with a stream opened for a named consumer: what a
/// consumer commits through.
struct Consumer {
    client: RawClient,
    stream_correlation_id: i32,
    session_id: u32,
}

impl Consumer {
    /// Opens a stream of `topic`-0 on `spu` for `consumer_id` (the topic must hold a record:
    /// the first push carries the session id).
    async fn open(spu: SocketAddr, topic: &str, consumer_id: Option<&str>) -> Self {
        let mut client = RawClient::connect(spu).await;
        let request = StreamFetchRequest {
            topic: topic.into(),
            max_bytes: 1 << 20,
            isolation: Isolation::ReadCommitted,
            consumer_id: consumer_id.map(str::to_string),
            ..Default::default()
        };
        let stream_correlation_id = client.send(&request).await;
        let push: fluvio_wire::spu::StreamFetchResponse =
            client.recv(stream_correlation_id, StreamFetchRequest::DEFAULT_VERSION).await;
        assert!(push.partition.error_code.is_ok(), "{:?}", push.partition.error_code);
        Self { client, stream_correlation_id, session_id: push.stream_id }
    }

    async fn commit_session(&mut self, session_id: u32, offset: i64) -> UpdateConsumerOffsetResponse {
        let id = self.client.send(&UpdateConsumerOffsetRequest { offset, session_id }).await;
        loop {
            let (got, body) = self.client.read_frame().await.expect("connection open");
            if got == self.stream_correlation_id {
                continue; // a push of the stream
            }
            assert_eq!(got, id);
            return UpdateConsumerOffsetResponse::decode_exact(body, 25).unwrap();
        }
    }

    async fn commit(&mut self, offset: i64) -> UpdateConsumerOffsetResponse {
        self.commit_session(self.session_id, offset).await
    }
}

async fn list(spu: SocketAddr, filter: Option<ConsumerOffsetFilter>) -> FetchConsumerOffsetsResponse {
    RawClient::connect(spu).await.call(&FetchConsumerOffsetsRequest { filter_opts: filter }).await
}

/// The offsets listed by the leader of `consumer-offset` (retried while it moves).
async fn listed(cluster: &LocalCluster, sc: &mut RawClient) -> Vec<ConsumerOffset> {
    let deadline = Instant::now() + WAIT;
    loop {
        let leader = offsets_partition(sc).await.spec.leader;
        let response = list(addr(cluster, leader), None).await;
        if response.error_code.is_ok() {
            return response.consumers;
        }
        assert!(Instant::now() < deadline, "no leader of consumer-offset answers: {:?}", response.error_code);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn offsets_of(consumers: &[ConsumerOffset]) -> Vec<(String, String, u32, i64)> {
    consumers
        .iter()
        .map(|c| (c.consumer_id.clone(), c.replica_id.topic.clone(), c.replica_id.partition, c.offset))
        .collect()
}

/// Starts a cluster on the directory of one just dropped (crashed): its lock goes with the last
/// of its tasks, in the background.
async fn start_after_crash(config: ClusterConfig) -> LocalCluster {
    let deadline = Instant::now() + WAIT;
    loop {
        match LocalCluster::start(config.clone()).await {
            Ok(cluster) => return cluster,
            Err(fluvio_local::ClusterError::DirectoryInUse { .. }) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(err) => panic!("the cluster does not start again: {err}"),
        }
    }
}

fn now_secs() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

#[tokio::test]
async fn the_system_topic_exists_hidden_from_lists_but_watched() {
    let (cluster, _dir) = cluster(1).await;
    let mut sc = RawClient::connect(cluster.sc_addr()).await;
    assert!(topics(&mut sc, false).await.iter().all(|t| t.name != CONSUMER_OFFSET_TOPIC));
    assert!(partitions(&mut sc, false).await.iter().all(|p| !p.name.starts_with(CONSUMER_OFFSET_TOPIC)));
    let system = topics(&mut sc, true).await;
    let topic = system.iter().find(|t| t.name == CONSUMER_OFFSET_TOPIC).expect("listed as a system topic");
    assert!(topic.spec.system);
    assert_eq!(topic.spec.replicas.partition_count(), 1);
    let storage = topic.spec.storage.unwrap();
    assert_eq!((storage.segment_size, storage.max_partition_size), (Some(512_000_000), Some(2_048_000_000)));
    assert_eq!(topic.spec.cleanup_policy.unwrap().retention_secs(), 7 * 24 * 3600);
    // Clients find its leader through the partition watch.
    let id = sc.send(&WatchRequest { label: "Partition".into(), params: WatchParams::default() }).await;
    let WatchResponse::Partition(update) = sc.recv(id, 19).await else { panic!("a partition watch") };
    let partition = update.all.iter().find(|p| p.name == "consumer-offset-0").expect("watched");
    assert!(partition.spec.system);
    assert_eq!(partition.status.resolution, PartitionResolution::Online);
    // A system topic is deleted with force only.
    let refused = sc.call(&DeleteRequest::Topic { name: CONSUMER_OFFSET_TOPIC.into(), force: false }).await;
    assert!(matches!(refused.error_code, ErrorCode::SystemSpecDeletionAttempt { .. }), "{refused:?}");
}

#[tokio::test]
async fn the_system_topic_is_replicated_on_up_to_three_spus() {
    for (spus, replicas) in [(2, 2), (4, 3)] {
        let (cluster, _dir) = cluster(spus).await;
        let mut sc = RawClient::connect(cluster.sc_addr()).await;
        assert_eq!(offsets_partition(&mut sc).await.spec.replicas.len(), replicas, "{spus} SPUs");
        cluster.shutdown().await;
    }
    // As a Fluvio cluster has it, on request.
    let dir = tempfile::tempdir().unwrap();
    let config = ClusterConfig::new(dir.path()).spus(3).consumer_offset_replication(1);
    let cluster = LocalCluster::start(config).await.unwrap();
    let mut sc = RawClient::connect(cluster.sc_addr()).await;
    assert_eq!(offsets_partition(&mut sc).await.spec.replicas.len(), 1);
}

#[tokio::test]
async fn commits_need_a_stream_session_with_a_consumer_id() {
    let (cluster, _dir) = cluster(1).await;
    let spu = first_spu(&cluster);
    let mut sc = RawClient::connect(cluster.sc_addr()).await;
    assert!(create_topic(&mut sc, "t", TopicSpec::computed(1, 1)).await.error_code.is_ok());
    assert!(produce_values(spu, "t", 0, &[b"a", b"b", b"c"]).await.error_code.is_ok());

    let mut anonymous = Consumer::open(spu, "t", None).await;
    let answer = anonymous.commit(1).await;
    assert_eq!(answer.error_code, ErrorCode::Other("stream without consumer id".into()));
    let answer = anonymous.commit_session(anonymous.session_id + 7, 1).await;
    assert_eq!(answer.error_code, ErrorCode::FetchSessionNotFound);

    let mut named = Consumer::open(spu, "t", Some("billing")).await;
    let answer = named.commit(1).await;
    assert_eq!(answer, UpdateConsumerOffsetResponse { offset: 1, error_code: ErrorCode::None });
    let stored = list(spu, None).await;
    assert!(stored.error_code.is_ok());
    assert_eq!(offsets_of(&stored.consumers), [("billing".to_string(), "t".to_string(), 0, 1)]);
    let age = now_secs().abs_diff(stored.consumers[0].modified_time);
    assert!(age < 60, "modified_time is in seconds since the epoch: {}", stored.consumers[0].modified_time);

    // A later commit replaces it; nothing stops it going backwards (as on Fluvio).
    assert!(named.commit(2).await.error_code.is_ok());
    assert!(named.commit(0).await.error_code.is_ok());
    assert_eq!(offsets_of(&list(spu, None).await.consumers)[0].3, 0);
}

#[tokio::test]
async fn listing_filters_and_deleting() {
    let (cluster, _dir) = cluster(1).await;
    let spu = first_spu(&cluster);
    let mut sc = RawClient::connect(cluster.sc_addr()).await;
    for topic in ["a", "b"] {
        assert!(create_topic(&mut sc, topic, TopicSpec::computed(1, 1)).await.error_code.is_ok());
        assert!(produce_values(spu, topic, 0, &[b"x", b"y"]).await.error_code.is_ok());
    }
    for (topic, consumer, offset) in [("a", "c1", 0), ("a", "c2", 1), ("b", "c1", 1)] {
        assert!(Consumer::open(spu, topic, Some(consumer)).await.commit(offset).await.error_code.is_ok());
    }
    let all = list(spu, None).await;
    assert_eq!(
        offsets_of(&all.consumers),
        [("c1".into(), "a".into(), 0, 0), ("c1".into(), "b".into(), 0, 1), ("c2".into(), "a".into(), 0, 1)]
    );
    // What FetchConsumerOffsets v24+ filters on, alone and together; v23 has no filter.
    let by_consumer = ConsumerOffsetFilter { consumer_id: Some("c1".into()), replica_id: None };
    assert_eq!(list(spu, Some(by_consumer)).await.consumers.len(), 2);
    let by_partition = ConsumerOffsetFilter { consumer_id: None, replica_id: Some(ReplicaKey::new("a", 0)) };
    assert_eq!(list(spu, Some(by_partition)).await.consumers.len(), 2);
    let both = ConsumerOffsetFilter { consumer_id: Some("c2".into()), replica_id: Some(ReplicaKey::new("a", 0)) };
    assert_eq!(offsets_of(&list(spu, Some(both)).await.consumers), [("c2".into(), "a".into(), 0, 1)]);
    let mut client = RawClient::connect(spu).await;
    let id = client.send_at(&FetchConsumerOffsetsRequest { filter_opts: None }, 23).await;
    let v23: FetchConsumerOffsetsResponse = client.recv(id, 23).await;
    assert_eq!(v23.consumers.len(), 3);

    let delete = |consumer: &str, topic: &str| DeleteConsumerOffsetRequest {
        replica_id: ReplicaKey::new(topic, 0),
        consumer_id: consumer.into(),
    };
    assert!(client.call(&delete("c1", "a")).await.error_code.is_ok());
    assert_eq!(list(spu, None).await.consumers.len(), 2);
    // Deleting what does not exist succeeds, as on a Fluvio SPU.
    assert!(client.call(&delete("nobody", "a")).await.error_code.is_ok());
    assert!(client.call(&delete("c1", "no-such-topic")).await.error_code.is_ok());
    assert_eq!(list(spu, None).await.consumers.len(), 2);
}

#[tokio::test]
async fn commits_are_forwarded_to_the_leader_of_consumer_offset() {
    let mut setup = setup(|config| config).await;
    let offsets_leader = offsets_partition(&mut setup.sc).await.spec.leader;
    // A topic led by each SPU: commits arrive at every SPU, most not leading consumer-offset.
    for (name, leader) in [("t1", SPU_1), ("t2", SPU_2), ("t3", SPU_3)] {
        let others: Vec<i32> = [SPU_1, SPU_2, SPU_3].into_iter().filter(|id| *id != leader).collect();
        assigned_topic(&mut setup.sc, name, &[leader, others[0], others[1]]).await;
        let spu = addr(&setup.cluster, leader);
        assert!(produce_values(spu, name, 0, &[b"1", b"2", b"3"]).await.error_code.is_ok());
        let answer = Consumer::open(spu, name, Some("reader")).await.commit(2).await;
        assert!(answer.error_code.is_ok(), "{name}: {answer:?}");
    }
    let stored = list(addr(&setup.cluster, offsets_leader), None).await;
    assert_eq!(
        offsets_of(&stored.consumers),
        [
            ("reader".into(), "t1".into(), 0, 2),
            ("reader".into(), "t2".into(), 0, 2),
            ("reader".into(), "t3".into(), 0, 2)
        ]
    );
    // Fetch and Delete are for the leader of consumer-offset only.
    for id in [SPU_1, SPU_2, SPU_3].into_iter().filter(|id| *id != offsets_leader) {
        let spu = addr(&setup.cluster, id);
        assert_eq!(list(spu, None).await.error_code, ErrorCode::PartitionNotLeader);
        let delete = DeleteConsumerOffsetRequest { replica_id: ReplicaKey::new("t1", 0), consumer_id: "reader".into() };
        assert_eq!(RawClient::connect(spu).await.call(&delete).await.error_code, ErrorCode::PartitionNotLeader);
    }
}

#[tokio::test]
async fn fetch_offsets_v23_with_a_consumer_id_starts_after_its_offset() {
    let mut setup = setup(|config| config).await;
    let (data_leader, _) = topic_led_elsewhere(&mut setup.sc, "t").await;
    let spu = addr(&setup.cluster, data_leader);
    assert!(produce_values(spu, "t", 0, &[b"1", b"2", b"3", b"4"]).await.error_code.is_ok());
    assert!(Consumer::open(spu, "t", Some("old-client")).await.commit(1).await.error_code.is_ok());
    let request = |consumer: Option<&str>| FetchOffsetsRequest {
        topics: vec![FetchOffsetTopic {
            name: "t".into(),
            partitions: vec![FetchOffsetPartition { partition_index: 0 }],
        }],
        consumer_id: consumer.map(str::to_string),
    };
    let mut client = RawClient::connect(spu).await;
    for (consumer, start) in [(Some("old-client"), 2), (Some("unknown"), 0), (None, 0)] {
        let id = client.send_at(&request(consumer), 23).await;
        let response: fluvio_wire::spu::FetchOffsetsResponse = client.recv(id, 23).await;
        let partition = &response.topics[0].partitions[0];
        assert!(partition.error_code.is_ok(), "{partition:?}");
        assert_eq!((partition.start_offset, partition.last_stable_offset), (start, 4), "{consumer:?}");
    }
}

#[tokio::test]
async fn deleting_a_topic_deletes_its_offsets_even_when_created_again() {
    let (cluster, _dir) = cluster(1).await;
    let spu = first_spu(&cluster);
    let mut sc = RawClient::connect(cluster.sc_addr()).await;
    for topic in ["gone", "kept"] {
        assert!(create_topic(&mut sc, topic, TopicSpec::computed(1, 1)).await.error_code.is_ok());
        assert!(produce_values(spu, topic, 0, &[b"1", b"2", b"3"]).await.error_code.is_ok());
        assert!(Consumer::open(spu, topic, Some("c")).await.commit(2).await.error_code.is_ok());
    }
    assert!(delete_topic(&mut sc, "gone").await.error_code.is_ok());
    let deadline = Instant::now() + WAIT;
    while list(spu, None).await.consumers.len() != 1 {
        assert!(Instant::now() < deadline, "the offsets of the deleted topic are still listed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Created again at once (before anything could notice the gap): it starts without offsets.
    assert!(create_topic(&mut sc, "gone", TopicSpec::computed(1, 1)).await.error_code.is_ok());
    assert_eq!(offsets_of(&list(spu, None).await.consumers), [("c".into(), "kept".into(), 0, 2)]);
    // The deletion is stored: still gone after a restart.
    let dir = cluster.base_dir().to_path_buf();
    cluster.shutdown().await;
    let cluster = LocalCluster::start(ClusterConfig::new(&dir)).await.unwrap();
    let mut sc = RawClient::connect(cluster.sc_addr()).await;
    assert_eq!(offsets_of(&listed(&cluster, &mut sc).await), [("c".into(), "kept".into(), 0, 2)]);
}

#[tokio::test]
async fn a_topic_deleted_and_created_again_in_one_go_loses_its_offsets() {
    let (cluster, _dir) = cluster(1).await;
    let spu = first_spu(&cluster);
    let mut sc = RawClient::connect(cluster.sc_addr()).await;
    assert!(create_topic(&mut sc, "again", TopicSpec::computed(1, 1)).await.error_code.is_ok());
    assert!(produce_values(spu, "again", 0, &[b"1", b"2"]).await.error_code.is_ok());
    assert!(Consumer::open(spu, "again", Some("c")).await.commit(1).await.error_code.is_ok());
    // Delete and create back to back on one connection: the SPUs may see only the result.
    let delete = sc.send(&DeleteRequest::Topic { name: "again".into(), force: false }).await;
    let create = sc
        .send(&fluvio_wire::sc::CreateRequest {
            common: fluvio_wire::sc::CommonCreateRequest { name: "again".into(), dry_run: false, timeout: None },
            object: fluvio_wire::sc::CreateObject::Topic(TopicSpec::computed(1, 1)),
        })
        .await;
    let deleted: fluvio_wire::sc::Status = sc.recv(delete, 19).await;
    assert!(deleted.error_code.is_ok());
    let created: fluvio_wire::sc::Status = sc.recv(create, 19).await;
    assert!(created.error_code.is_ok(), "{created:?}");
    let deadline = Instant::now() + WAIT;
    while !list(spu, None).await.consumers.is_empty() {
        assert!(Instant::now() < deadline, "the offset of the earlier topic survived");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Decodes every entry of `consumer-offset-0` on its leader `spu`.
async fn entries(spu: SocketAddr) -> Vec<OffsetEntry> {
    let (_, end) = offsets(&mut RawClient::connect(spu).await, CONSUMER_OFFSET_TOPIC).await;
    let mut entries = Vec::new();
    for batch in read_batches(spu, CONSUMER_OFFSET_TOPIC, Isolation::ReadCommitted, 0, end).await {
        assert_eq!(batch.header.first_timestamp, -1, "no timestamps, as Fluvio writes them");
        for record in batch.records(1 << 24).unwrap() {
            assert!(record.key.is_none());
            entries.push(OffsetEntry::decode_exact(record.value, OFFSET_ENTRY_VERSION).unwrap());
        }
    }
    entries
}

#[tokio::test]
async fn offsets_are_records_of_the_system_topic_with_snapshots_and_survive_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = LocalCluster::start(ClusterConfig::new(dir.path())).await.unwrap();
    let spu = first_spu(&cluster);
    let mut sc = RawClient::connect(cluster.sc_addr()).await;
    assert!(create_topic(&mut sc, "t", TopicSpec::computed(1, 1)).await.error_code.is_ok());
    assert!(produce_values(spu, "t", 0, &[&b"1"[..]; 10]).await.error_code.is_ok());
    // 150 changes by 3 consumers: past one snapshot (after 101 changes).
    let mut consumers = Vec::new();
    for name in ["c0", "c1", "c2"] {
        consumers.push(Consumer::open(spu, "t", Some(name)).await);
    }
    for change in 0..150 {
        let answer = consumers[change % 3].commit((change / 3) as i64 % 10).await;
        assert!(answer.error_code.is_ok(), "{answer:?}");
    }
    let expected = offsets_of(&list(spu, None).await.consumers);
    assert_eq!(expected.len(), 3);
    let stored = entries(spu).await;
    // 150 updates and one snapshot: a checkpoint followed by the three offsets.
    let checkpoint = stored.iter().position(|e| *e == OffsetEntry::Checkpoint).expect("a snapshot");
    assert_eq!(checkpoint, 101);
    assert_eq!(stored.len(), 150 + 1 + 3);
    assert!(matches!(stored[checkpoint + 1], OffsetEntry::Updated { .. }));
    drop(consumers);

    // A crash (nothing flushed) and a clean stop: the offsets come back either way.
    drop(cluster);
    let cluster = start_after_crash(ClusterConfig::new(dir.path())).await;
    let mut sc = RawClient::connect(cluster.sc_addr()).await;
    assert_eq!(offsets_of(&listed(&cluster, &mut sc).await), expected);
    cluster.shutdown().await;
    let cluster = LocalCluster::start(ClusterConfig::new(dir.path())).await.unwrap();
    let mut sc = RawClient::connect(cluster.sc_addr()).await;
    assert_eq!(offsets_of(&listed(&cluster, &mut sc).await), expected);
}

#[tokio::test]
async fn offsets_survive_the_loss_of_the_leader_of_consumer_offset() {
    // Under Fluvio's rules (the default) consumer-offset's high watermark would wait for the
    // killed leader, and no commit would be answered until it returns: IN_SYNC drops it.
    let mut setup = setup(|config| config.replication_policy(ReplicationPolicy::InSync)).await;
    let before = offsets_partition(&mut setup.sc).await;
    assert_eq!(before.spec.replicas.len(), 3);
    // The data partition is led elsewhere, so commits are forwarded and keep working.
    let (data_leader, offsets_leader) = topic_led_elsewhere(&mut setup.sc, "t").await;
    let spu = addr(&setup.cluster, data_leader);
    assert!(produce_values(spu, "t", 0, &[b"1", b"2", b"3", b"4", b"5"]).await.error_code.is_ok());
    let mut consumer = Consumer::open(spu, "t", Some("survivor")).await;
    assert!(consumer.commit(2).await.error_code.is_ok());

    setup.cluster.kill_spu(offsets_leader).await.unwrap();
    let after = offsets_partition(&mut setup.sc).await;
    assert_ne!(after.spec.leader, offsets_leader, "a new leader of consumer-offset");
    assert_eq!(offsets_of(&listed(&setup.cluster, &mut setup.sc).await), [("survivor".into(), "t".into(), 0, 2)]);
    // The same session commits on: forwarded to the new leader.
    assert!(consumer.commit(4).await.error_code.is_ok());
    assert_eq!(offsets_of(&listed(&setup.cluster, &mut setup.sc).await)[0].3, 4);

    // Back, it follows; and it can lead again with everything.
    setup.cluster.start_spu(offsets_leader).await.unwrap();
    let new_leader =
        offsets_partition_when(&mut setup.sc, "in sync on 3 SPUs", |p| p.status.lsr == 2).await.spec.leader;
    setup.cluster.kill_spu(new_leader).await.unwrap();
    assert_eq!(offsets_of(&listed(&setup.cluster, &mut setup.sc).await)[0].3, 4);
}

#[tokio::test]
async fn a_commit_waits_while_consumer_offset_has_no_leader_then_lands() {
    // One replica, as Fluvio has it: while its SPU is down, offsets are unavailable; a commit
    // made meanwhile is held (and retried) until the SPU is back.
    let dir = tempfile::tempdir().unwrap();
    let config = ClusterConfig::new(dir.path()).spus(2).consumer_offset_replication(1);
    let cluster = LocalCluster::start(config).await.unwrap();
    let mut sc = RawClient::connect(cluster.sc_addr()).await;
    let offsets_leader = offsets_partition(&mut sc).await.spec.leader;
    let data_leader = cluster.spu_ids().into_iter().find(|id| *id != offsets_leader).unwrap();
    assigned_topic(&mut sc, "t", &[data_leader]).await;
    let spu = addr(&cluster, data_leader);
    assert!(produce_values(spu, "t", 0, &[b"1", b"2"]).await.error_code.is_ok());
    let mut consumer = Consumer::open(spu, "t", Some("patient")).await;
    cluster.stop_spu(offsets_leader).await.unwrap();
    let restart = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        cluster.start_spu(offsets_leader).await.unwrap();
    };
    let (answer, ()) = tokio::join!(consumer.commit(1), restart);
    assert!(answer.error_code.is_ok(), "{answer:?}");
    assert_eq!(offsets_of(&listed(&cluster, &mut sc).await), [("patient".into(), "t".into(), 0, 1)]);
}

/// SPU id → public address, as the SC lists them.
async fn spu_addresses(sc: &mut RawClient) -> std::collections::HashMap<i32, SocketAddr> {
    common::replicated::spus(sc)
        .await
        .into_iter()
        .map(|spu| (spu.spec.id, spu.spec.public_endpoint.address().unwrap().parse().unwrap()))
        .collect()
}

#[tokio::test]
async fn offsets_survive_kill_9_of_the_cluster_process() {
    let dir = tempfile::tempdir().unwrap();
    let (data, profile) = (dir.path().join("data"), dir.path().join("profile.toml"));
    let running = common::command::start_command(&data, &["--spus", "3"], &profile);
    let mut sc = RawClient::connect(running.sc.as_str()).await;
    let spus = spu_addresses(&mut sc).await;
    let (data_leader, _) = topic_led_elsewhere(&mut sc, "t").await;
    assert!(produce_values(spus[&data_leader], "t", 0, &[b"1", b"2", b"3"]).await.error_code.is_ok());
    assert!(Consumer::open(spus[&data_leader], "t", Some("crash")).await.commit(1).await.error_code.is_ok());
    common::command::kill_9(running);

    let running = common::command::start_command(&data, &["--spus", "3"], &profile);
    let mut sc = RawClient::connect(running.sc.as_str()).await;
    let spus = spu_addresses(&mut sc).await;
    let deadline = Instant::now() + WAIT;
    let stored = loop {
        let leader = offsets_partition(&mut sc).await.spec.leader;
        let response = list(spus[&leader], None).await;
        if response.error_code.is_ok() {
            break response.consumers;
        }
        assert!(Instant::now() < deadline, "{:?}", response.error_code);
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(offsets_of(&stored), [("crash".into(), "t".into(), 0, 1)]);
}
