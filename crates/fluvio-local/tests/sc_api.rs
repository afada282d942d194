//! The SC's admin API and watch streams, over real sockets.

mod common;

use common::*;
use fluvio_local::{ClusterConfig, LocalCluster};
use fluvio_wire::api::ApiVersionsRequest;
use fluvio_wire::error_code::ErrorCode;
use fluvio_wire::sc::partition::PartitionResolution;
use fluvio_wire::sc::spu::SpuStatusResolution;
use fluvio_wire::sc::topic::{
    CleanupPolicy, Deduplication, HomeMirrorConfig, MirrorConfig, PartitionMap, ReplicaSpec, SegmentBasedPolicy,
    TopicResolution, TopicStorageConfig,
};
use fluvio_wire::sc::{
    ChangeKind, CommonCreateRequest, CreateObject, CreateRequest, ListFilter, ListFilters, ListRequest, ListResponse,
    Status, TopicSpec, WatchParams, WatchRequest, WatchResponse,
};
use fluvio_wire::{Decoder, Request};

async fn list(sc: &mut RawClient, label: &str) -> ListResponse {
    sc.call(&ListRequest { label: label.into(), filters: ListFilters::default() }).await
}

#[tokio::test]
async fn api_versions_advertise_the_official_ranges() {
    let (cluster, _dir) = cluster(1).await;
    let mut sc = RawClient::connect(cluster.sc_addr()).await;
    let request =
        ApiVersionsRequest { client_version: "0.50.1".into(), client_os: "linux".into(), client_arch: "x86_64".into() };
    let response = sc.call(&request).await;
    assert!(response.error_code.is_ok());
    assert_eq!(response.negotiate(1004, 15, 19), Some(19), "watch");
    assert_eq!(response.negotiate(1001, 9, 19), Some(19), "create");
    assert_eq!(response.negotiate(1003, 15, 19), Some(19), "list");
    let parts: Vec<u64> = response.platform_version.split('.').map(|p| p.parse().unwrap()).collect();
    assert!(parts.len() == 3 && (parts[0], parts[1]) >= (0, 9), "semver >= 0.9.0: {}", response.platform_version);
    cluster.shutdown().await;
}

#[tokio::test]
async fn create_list_delete_round_trip() {
    let (cluster, _dir) = cluster(1).await;
    let mut sc = RawClient::connect(cluster.sc_addr()).await;
    let status = create_topic(&mut sc, "orders", TopicSpec::computed(3, 1)).await;
    assert_eq!(status.error_code, ErrorCode::None, "{status:?}");

    let ListResponse::Topic(topics) = list(&mut sc, "Topic").await else { panic!("topic list") };
    assert_eq!(topics.len(), 1);
    assert_eq!(topics[0].name, "orders");
    assert_eq!(topics[0].status.resolution, TopicResolution::Provisioned);
    assert_eq!(topics[0].status.replica_map.len(), 3);

    let ListResponse::Partition(partitions) = list(&mut sc, "Partition").await else { panic!("partition list") };
    let names: Vec<&str> = partitions.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["orders-0", "orders-1", "orders-2"]);
    for partition in &partitions {
        assert_eq!(partition.spec.leader, 5001);
        assert_eq!(partition.status.resolution, PartitionResolution::Online);
        assert_eq!(partition.status.leader.spu, 5001);
        assert_eq!(partition.status.leader.hw, 0);
    }

    let ListResponse::Spu(spus) = list(&mut sc, "SPU").await else { panic!("spu list") };
    assert_eq!(spus.len(), 1);
    assert_eq!(spus[0].spec.id, 5001);
    assert_eq!(spus[0].status.resolution, SpuStatusResolution::Online);
    assert_eq!(spus[0].spec.public_endpoint.address().unwrap(), first_spu(&cluster).to_string());

    let filtered: ListResponse = sc
        .call(&ListRequest {
            label: "Topic".into(),
            filters: ListFilters { name_filters: vec![ListFilter { name: "zzz".into() }], ..Default::default() },
        })
        .await;
    assert_eq!(filtered, ListResponse::Topic(vec![]));

    assert_eq!(delete_topic(&mut sc, "orders").await.error_code, ErrorCode::None);
    assert_eq!(list(&mut sc, "Topic").await, ListResponse::Topic(vec![]));
    assert_eq!(list(&mut sc, "Partition").await, ListResponse::Partition(vec![]));
    cluster.shutdown().await;
}

#[tokio::test]
async fn topics_are_spread_over_spus() {
    let (cluster, _dir) = cluster(3).await;
    let mut sc = RawClient::connect(cluster.sc_addr()).await;
    assert!(create_topic(&mut sc, "spread", TopicSpec::computed(3, 1)).await.error_code.is_ok());
    let ListResponse::Partition(partitions) = list(&mut sc, "Partition").await else { panic!() };
    let mut leaders: Vec<i32> = partitions.iter().map(|p| p.spec.leader).collect();
    leaders.sort_unstable();
    assert_eq!(leaders, [5001, 5002, 5003]);
    let ListResponse::Spu(spus) = list(&mut sc, "SPU").await else { panic!() };
    assert_eq!(spus.len(), 3);
    cluster.shutdown().await;
}

#[tokio::test]
async fn system_partitions_do_not_count_when_placing_topics() {
    let (cluster, _dir) = cluster(2).await;
    let mut sc = RawClient::connect(cluster.sc_addr()).await;
    // `consumer-offset-0` is led by 5001, the first SPU; a user's first topic goes there too,
    // as in a cluster without it (a JUnit test that spreads two partitions over two SPUs,
    // after failovers moved leaders around, relies on it).
    assert!(create_topic(&mut sc, "first", TopicSpec::computed(1, 1)).await.error_code.is_ok());
    assert!(create_topic(&mut sc, "second", TopicSpec::computed(2, 1)).await.error_code.is_ok());
    let ListResponse::Partition(partitions) = list(&mut sc, "Partition").await else { panic!() };
    let leaders: Vec<(String, i32)> = partitions.iter().map(|p| (p.name.clone(), p.spec.leader)).collect();
    assert!(leaders.contains(&("first-0".to_string(), 5001)), "{leaders:?}");
    assert!(leaders.contains(&("second-0".to_string(), 5002)), "{leaders:?}");
    assert!(leaders.contains(&("second-1".to_string(), 5001)), "{leaders:?}");
    cluster.shutdown().await;
}

#[tokio::test]
async fn validation_answers_with_the_official_error_codes() {
    let (cluster, _dir) = cluster(1).await;
    let mut sc = RawClient::connect(cluster.sc_addr()).await;
    for bad in ["", "-lead", "trail-", "Upper", "under_score", "dot.ted", &"x".repeat(64)] {
        let status = create_topic(&mut sc, bad, TopicSpec::computed(1, 1)).await;
        assert_eq!(status.error_code, ErrorCode::TopicInvalidName, "name {bad:?}");
        assert!(status.error_message.is_some());
    }
    assert!(create_topic(&mut sc, "taken", TopicSpec::computed(1, 1)).await.error_code.is_ok());
    assert_eq!(
        create_topic(&mut sc, "taken", TopicSpec::computed(1, 1)).await.error_code,
        ErrorCode::TopicAlreadyExists
    );

    let mut short_retention = TopicSpec::computed(1, 1);
    short_retention.cleanup_policy = Some(CleanupPolicy::Segment(SegmentBasedPolicy { time_in_seconds: 5 }));
    assert_eq!(create_topic(&mut sc, "r", short_retention).await.error_code, ErrorCode::TopicInvalidConfiguration);
    let mut tiny_segment = TopicSpec::computed(1, 1);
    tiny_segment.storage = Some(TopicStorageConfig { segment_size: Some(100), max_partition_size: None });
    assert_eq!(create_topic(&mut sc, "s", tiny_segment).await.error_code, ErrorCode::TopicInvalidConfiguration);

    assert_eq!(create_topic(&mut sc, "zero", TopicSpec::computed(0, 1)).await.error_code, ErrorCode::TopicError);
    assert_eq!(create_topic(&mut sc, "norep", TopicSpec::computed(1, 0)).await.error_code, ErrorCode::TopicError);
    // Absurd partition counts are refused before anything is allocated.
    for huge in [1025, u32::MAX] {
        let status = create_topic(&mut sc, "huge", TopicSpec::computed(huge, 1)).await;
        assert_eq!(status.error_code, ErrorCode::TopicInvalidConfiguration, "{huge} partitions");
    }
    let mirror = TopicSpec {
        replicas: ReplicaSpec::Mirror(MirrorConfig::Home(HomeMirrorConfig::default())),
        ..Default::default()
    };
    assert_eq!(create_topic(&mut sc, "mirror", mirror).await.error_code, ErrorCode::TopicInvalidReplicaType);
    let unknown_spu = TopicSpec {
        replicas: ReplicaSpec::Assigned(vec![PartitionMap { id: 0, replicas: vec![42], mirror: None }]),
        ..Default::default()
    };
    assert_eq!(create_topic(&mut sc, "assigned", unknown_spu).await.error_code, ErrorCode::TopicError);
    let mut dedup = TopicSpec::computed(1, 1);
    dedup.deduplication = Some(Deduplication::default());
    assert!(matches!(create_topic(&mut sc, "dedup", dedup).await.error_code, ErrorCode::SmartModuleNotFound { .. }));

    // A dry run validates but creates nothing.
    let dry = sc
        .call(&CreateRequest {
            common: CommonCreateRequest { name: "dry".into(), dry_run: true, timeout: None },
            object: CreateObject::Topic(TopicSpec::computed(1, 1)),
        })
        .await;
    assert!(dry.error_code.is_ok());
    // Other kinds are refused cleanly.
    let smartmodule = sc
        .call(&CreateRequest {
            common: CommonCreateRequest { name: "sm".into(), dry_run: false, timeout: None },
            object: CreateObject::Other { label: "SmartModule".into(), spec: bytes::Bytes::new() },
        })
        .await;
    assert!(matches!(smartmodule.error_code, ErrorCode::Other(_)));

    assert_eq!(delete_topic(&mut sc, "missing").await.error_code, ErrorCode::TopicNotFound);
    let ListResponse::Topic(topics) = list(&mut sc, "Topic").await else { panic!() };
    assert_eq!(topics.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(), ["taken"]);
    cluster.shutdown().await;
}

#[tokio::test]
async fn assigned_topics_use_the_given_replicas() {
    let (cluster, _dir) = cluster(2).await;
    let mut sc = RawClient::connect(cluster.sc_addr()).await;
    let spec = TopicSpec {
        replicas: ReplicaSpec::Assigned(vec![
            PartitionMap { id: 0, replicas: vec![5002], mirror: None },
            PartitionMap { id: 1, replicas: vec![5001], mirror: None },
        ]),
        ..Default::default()
    };
    assert!(create_topic(&mut sc, "assigned", spec).await.error_code.is_ok());
    let ListResponse::Partition(partitions) = list(&mut sc, "Partition").await else { panic!() };
    assert_eq!(partitions.iter().map(|p| p.spec.leader).collect::<Vec<_>>(), [5002, 5001]);
    cluster.shutdown().await;
}

async fn next_watch(client: &mut RawClient, id: i32) -> WatchResponse {
    let (got, body) = client.read_frame().await.expect("watch message");
    assert_eq!(got, id);
    WatchResponse::decode_exact(body, WatchRequest::DEFAULT_VERSION).unwrap()
}

#[tokio::test]
async fn watch_sends_a_snapshot_then_every_change() {
    let (cluster, _dir) = cluster(1).await;
    let mut admin = RawClient::connect(cluster.sc_addr()).await;
    assert!(create_topic(&mut admin, "first", TopicSpec::computed(1, 1)).await.error_code.is_ok());

    let mut watcher = RawClient::connect(cluster.sc_addr()).await;
    let topics_id = watcher.send(&WatchRequest { label: "Topic".into(), params: WatchParams::default() }).await;
    let WatchResponse::Topic(snapshot) = next_watch(&mut watcher, topics_id).await else { panic!() };
    assert!(snapshot.changes.is_empty());
    // Watches carry system topics too (the official client finds `consumer-offset` there).
    let names = |system: bool| {
        snapshot.all.iter().filter(|t| t.spec.system == system).map(|t| t.name.as_str()).collect::<Vec<_>>()
    };
    assert_eq!(names(false), ["first"]);
    assert_eq!(names(true), ["consumer-offset"]);

    assert!(create_topic(&mut admin, "second", TopicSpec::computed(1, 1)).await.error_code.is_ok());
    // Deltas arrive until "second" is seen provisioned.
    let mut saw_update = false;
    while !saw_update {
        let WatchResponse::Topic(delta) = next_watch(&mut watcher, topics_id).await else { panic!() };
        assert!(delta.all.is_empty());
        saw_update = delta.changes.iter().any(|c| {
            c.kind == ChangeKind::Update
                && c.object.name == "second"
                && c.object.status.resolution == TopicResolution::Provisioned
        });
    }
    assert!(delete_topic(&mut admin, "second").await.error_code.is_ok());
    let WatchResponse::Topic(delta) = next_watch(&mut watcher, topics_id).await else { panic!() };
    assert_eq!(delta.changes.len(), 1);
    assert_eq!(delta.changes[0].kind, ChangeKind::Delete);
    assert_eq!(delta.changes[0].object.name, "second");
    cluster.shutdown().await;
}

#[tokio::test]
async fn unknown_kinds_are_answered_with_empty_lists() {
    let (cluster, _dir) = cluster(1).await;
    let mut sc = RawClient::connect(cluster.sc_addr()).await;
    assert_eq!(list(&mut sc, "SmartModule").await, ListResponse::empty("SmartModule"));
    let id = sc.send(&WatchRequest { label: "SpuGroup".into(), params: WatchParams::default() }).await;
    let WatchResponse::Other(envelope) = next_watch(&mut sc, id).await else { panic!() };
    assert_eq!(envelope.label, "SpuGroup");
    // The connection keeps serving.
    let ListResponse::Spu(spus) = list(&mut sc, "SPU").await else { panic!() };
    assert_eq!(spus.len(), 1);
    cluster.shutdown().await;
}

/// As on a real cluster: a topic whose replication factor exceeds the online SPUs is created,
/// `InsufficientResources`, and its Create is answered only after the provisioning wait
/// (`TopicNotProvisioned`, in the official words), holding up later requests on the same
/// connection but no other connection; it can be deleted, it survives a restart, and it is
/// placed once enough SPUs are online.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_topic_that_cannot_be_placed_is_created_and_waits_for_spus() {
    const WAIT: std::time::Duration = std::time::Duration::from_millis(1500);
    let dir = tempfile::tempdir().unwrap();
    let config = || ClusterConfig::new(dir.path()).spus(2).provisioning_timeout(WAIT);
    let cluster = LocalCluster::start(config()).await.unwrap();
    let mut sc = RawClient::connect(cluster.sc_addr()).await;
    let mut other = RawClient::connect(cluster.sc_addr()).await;
    let create = |name: &str, replication| CreateRequest {
        common: CommonCreateRequest { name: name.into(), dry_run: false, timeout: None },
        object: CreateObject::Topic(TopicSpec::computed(2, replication)),
    };
    let started = std::time::Instant::now();
    let create_id = sc.send(&create("wide", 3)).await;
    let list_id = sc.send(&ListRequest { label: "Topic".into(), filters: ListFilters::default() }).await;

    // Another connection sees the topic at once, waiting for SPUs.
    let wide = loop {
        let ListResponse::Topic(topics) = list(&mut other, "Topic").await else { panic!() };
        if let Some(topic) = topics.into_iter().find(|t| t.name == "wide") {
            break topic;
        }
        assert!(started.elapsed() < WAIT, "the topic was not created at once");
    };
    assert_eq!(wide.status.resolution, TopicResolution::InsufficientResources);
    assert_eq!(wide.status.reason, "", "no reason, as the official SC leaves it");
    assert!(wide.status.replica_map.is_empty());
    let ListResponse::Partition(partitions) = list(&mut other, "Partition").await else { panic!() };
    assert!(partitions.is_empty(), "no partition before it is placed");

    // The creating connection: the Create's answer after the wait, then the List behind it.
    let (first, body) = sc.read_frame().await.unwrap();
    assert_eq!(first, create_id, "answered in order");
    assert!(started.elapsed() >= WAIT, "answered after {:?}", started.elapsed());
    let status = Status::decode_exact(body, CreateRequest::DEFAULT_VERSION).unwrap();
    assert_eq!(status.error_code, ErrorCode::TopicNotProvisioned);
    assert_eq!(status.error_message.as_deref(), Some("only 0 out of 2 provisioned"));
    let (second, _) = sc.read_frame().await.unwrap();
    assert_eq!(second, list_id);

    // Deleting it works; creating it again too. It can grow while it waits (its partitions are
    // created together once it is placed), and it is kept across a restart.
    assert!(delete_topic(&mut sc, "wide").await.error_code.is_ok());
    assert_eq!(
        create_topic(&mut sc, "wide", TopicSpec::computed(2, 3)).await.error_code,
        ErrorCode::TopicNotProvisioned
    );
    let grow = sc
        .call(&fluvio_wire::sc::UpdateRequest::Topic {
            name: "wide".into(),
            action: fluvio_wire::sc::topic::UpdateTopicAction::AddPartition { count: 1 },
        })
        .await;
    assert!(grow.error_code.is_ok(), "{grow:?}");
    assert!(create_topic(&mut sc, "narrow", TopicSpec::computed(1, 2)).await.error_code.is_ok());
    drop((sc, other));
    cluster.shutdown().await;
    let cluster = LocalCluster::start(config()).await.expect("a waiting topic does not hold up a start");
    let mut sc = RawClient::connect(cluster.sc_addr()).await;
    let ListResponse::Topic(topics) = list(&mut sc, "Topic").await else { panic!() };
    let resolutions: Vec<(String, TopicResolution)> =
        topics.into_iter().map(|t| (t.name, t.status.resolution)).collect();
    assert!(resolutions.contains(&("wide".into(), TopicResolution::InsufficientResources)), "{resolutions:?}");
    cluster.shutdown().await;

    // With a third SPU, the waiting topic is placed, and a Create waiting for it succeeds.
    let cluster = LocalCluster::start(config().spus(3)).await.unwrap();
    let mut sc = RawClient::connect(cluster.sc_addr()).await;
    let ListResponse::Topic(topics) = list(&mut sc, "Topic").await else { panic!() };
    let wide = topics.into_iter().find(|t| t.name == "wide").unwrap();
    assert_eq!(wide.status.resolution, TopicResolution::Provisioned);
    assert_eq!(wide.status.replica_map.len(), 3, "2 partitions, and 1 added while it waited");
    let ListResponse::Partition(partitions) = list(&mut sc, "Partition").await else { panic!() };
    assert_eq!(partitions.iter().filter(|p| p.name.starts_with("wide-")).count(), 3);

    cluster.stop_spu(5003).await.unwrap();
    let create_id = sc.send(&create("later", 3)).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    cluster.start_spu(5003).await.unwrap();
    let (id, body) = sc.read_frame().await.unwrap();
    assert_eq!(id, create_id);
    let status = Status::decode_exact(body, CreateRequest::DEFAULT_VERSION).unwrap();
    assert!(status.error_code.is_ok(), "placed once the SPU is back: {status:?}");
    cluster.shutdown().await;
}
