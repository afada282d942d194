//! The admin API against the embedded cluster: topics (create with options, errors, delete,
//! add partitions), partitions, SPUs, JSON/YAML rendering, and error kinds of real failures.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::*;
use fluvio_engine::admin::{
    PartitionMetadata, PartitionResolution, ReplicaSpec, SpuMetadata, SpuStatusResolution, TopicCompression,
    TopicMetadata, TopicResolution, to_json, to_yaml,
};
use fluvio_engine::{ErrorKind, Offset, TopicConfig};
use fluvio_wire::sc::topic::CompressionAlgorithm;

fn assert_kind<T>(result: fluvio_engine::Result<T>, kind: ErrorKind) -> fluvio_engine::Error {
    match result {
        Ok(_) => panic!("expected an error of kind {kind:?}, got success"),
        Err(err) => {
            assert_eq!(err.kind(), kind, "{err:?}");
            err
        }
    }
}

async fn wait_for<T, F, Fut>(what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(found) = probe().await {
            return found;
        }
        assert!(tokio::time::Instant::now() < deadline, "{what}: not within 15 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn topic_settings_round_trip() {
    let s = setup(2).await;
    let admin = s.fluvio.admin();

    let mut config = TopicConfig::new(3, 1);
    config.retention = Some(Duration::from_secs(3600));
    config.segment_size = Some(64 * 1024);
    config.max_partition_size = Some(10 * 1024 * 1024);
    config.compression = Some(TopicCompression::Lz4);
    admin.create_topic("configured", &config).await.unwrap();
    admin.create_topic("plain", &TopicConfig::new(1, 1)).await.unwrap();

    let topic = admin.topic("configured").await.unwrap();
    assert_eq!(topic.name, "configured");
    let ReplicaSpec::Computed(param) = &topic.spec.replicas else { panic!("computed: {:?}", topic.spec.replicas) };
    assert_eq!((param.partitions, param.replication_factor), (3, 1));
    assert_eq!(topic.spec.cleanup_policy.as_ref().unwrap().retention_secs(), 3600);
    let storage = topic.spec.storage.as_ref().unwrap();
    assert_eq!(storage.segment_size, Some(64 * 1024));
    assert_eq!(storage.max_partition_size, Some(10 * 1024 * 1024));
    assert_eq!(topic.spec.compression_type, CompressionAlgorithm::Lz4);
    // Create returns once provisioned.
    assert_eq!(topic.status.resolution, TopicResolution::Provisioned);
    assert_eq!(topic.status.replica_map.len(), 3);
    assert_eq!(topic.spec, config.to_spec().unwrap(), "the spec is stored as sent");

    // Unset options stay unset (the cluster's defaults apply).
    let plain = admin.topic("plain").await.unwrap();
    assert_eq!(plain.spec, TopicConfig::new(1, 1).to_spec().unwrap());
    assert!(plain.spec.cleanup_policy.is_none() && plain.spec.storage.is_none());
    assert_eq!(plain.spec.compression_type, CompressionAlgorithm::Any);

    // The list shows the same objects, sorted by name.
    let listed = admin.list_topics().await.unwrap();
    assert_eq!(listed.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(), ["configured", "plain"]);
    assert_eq!(listed[0].spec, topic.spec);

    // Partitions inherit the topic's settings.
    for partition in admin.list_partitions(Some("configured")).await.unwrap() {
        assert_eq!(partition.spec.cleanup_policy, topic.spec.cleanup_policy);
        assert_eq!(partition.spec.storage, topic.spec.storage);
        assert_eq!(partition.spec.compression_type, CompressionAlgorithm::Lz4);
    }

    // Every compression requirement round-trips, and producers follow it.
    for (name, compression, expected) in [
        ("c-any", TopicCompression::Any, CompressionAlgorithm::Any),
        ("c-none", TopicCompression::None, CompressionAlgorithm::None),
        ("c-gzip", TopicCompression::Gzip, CompressionAlgorithm::Gzip),
        ("c-snappy", TopicCompression::Snappy, CompressionAlgorithm::Snappy),
        ("c-lz4", TopicCompression::Lz4, CompressionAlgorithm::Lz4),
        ("c-zstd", TopicCompression::Zstd, CompressionAlgorithm::Zstd),
    ] {
        let mut config = TopicConfig::new(1, 1);
        config.compression = Some(compression);
        admin.create_topic(name, &config).await.unwrap();
        assert_eq!(admin.topic(name).await.unwrap().spec.compression_type, expected, "{name}");
        let producer = s.fluvio.topic_producer(name).await.unwrap();
        let output = producer.send(None, b"compressed as required").await.unwrap();
        producer.flush().await.unwrap();
        assert_eq!(output.wait().await.unwrap().offset, 0, "{name}");
        let mut stream = s.fluvio.partition_consumer(name, 0).stream(Offset::beginning()).await.unwrap();
        assert_eq!(&stream.next().await.unwrap().unwrap().value[..], b"compressed as required", "{name}");
    }
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_errors_have_their_kinds() {
    let s = setup(1).await;
    let admin = s.fluvio.admin();
    topic(&s.fluvio, "exists", 1).await;

    let err = assert_kind(admin.create_topic("exists", &TopicConfig::new(1, 1)).await, ErrorKind::TopicAlreadyExists);
    assert!(!err.is_retriable());
    assert!(err.server_code().is_some());

    for bad in ["Upper", "under_score", "-leading", "trailing-", "dot.ted", &"x".repeat(64)] {
        let err = assert_kind(admin.create_topic(bad, &TopicConfig::new(1, 1)).await, ErrorKind::InvalidTopicName);
        assert!(!err.is_retriable(), "{bad}");
    }

    let mut short_retention = TopicConfig::new(1, 1);
    short_retention.retention = Some(Duration::from_secs(5));
    let mut tiny_segments = TopicConfig::new(1, 1);
    tiny_segments.segment_size = Some(100);
    let mut partition_below_segment = TopicConfig::new(1, 1);
    partition_below_segment.segment_size = Some(1024 * 1024);
    partition_below_segment.max_partition_size = Some(4096);
    for config in [short_retention, tiny_segments, partition_below_segment] {
        let err = assert_kind(admin.create_topic("bad-config", &config).await, ErrorKind::InvalidTopicConfig);
        assert!(!err.is_retriable(), "{config:?}");
    }

    // More replicas than SPUs online: created all the same, as a Fluvio SC does, waiting for
    // SPUs; the call says so at once (the SC holds its own answer for 90 s), and retrying
    // cannot help.
    let err =
        assert_kind(admin.create_topic("replicated", &TopicConfig::new(1, 2)).await, ErrorKind::TopicNotProvisioned);
    assert!(!err.is_retriable());
    assert_eq!(admin.topic("replicated").await.unwrap().status.resolution, TopicResolution::InsufficientResources);
    assert!(admin.list_partitions(Some("replicated")).await.unwrap().is_empty());
    assert_kind(admin.create_topic("replicated", &TopicConfig::new(1, 2)).await, ErrorKind::TopicAlreadyExists);
    admin.delete_topic("replicated").await.unwrap();

    // Refused by the client before any request.
    assert!(!assert_kind(admin.create_topic("zero", &TopicConfig::new(0, 1)).await, ErrorKind::Config).is_retriable());
    assert_kind(admin.create_topic("zero", &TopicConfig::new(1, 0)).await, ErrorKind::Config);

    // A dry run validates without creating.
    admin.create_topic_spec("dry", TopicConfig::new(1, 1).to_spec().unwrap(), true).await.unwrap();
    assert_kind(
        admin.create_topic_spec("exists", TopicConfig::new(1, 1).to_spec().unwrap(), true).await,
        ErrorKind::TopicAlreadyExists,
    );

    // None of the refused topics exists.
    let names: Vec<String> = admin.list_topics().await.unwrap().into_iter().map(|t| t.name).collect();
    assert_eq!(names, ["exists"]);
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_topics() {
    let s = setup(1).await;
    let admin = s.fluvio.admin();
    topic(&s.fluvio, "short-lived", 2).await;
    topic(&s.fluvio, "stays", 1).await;
    let producer = s.fluvio.topic_producer("short-lived").await.unwrap();
    producer.send(None, b"v").await.unwrap();
    producer.flush().await.unwrap();

    admin.delete_topic("short-lived").await.unwrap();
    assert_kind(admin.topic("short-lived").await, ErrorKind::TopicNotFound);
    assert_kind(admin.list_partitions(Some("short-lived")).await, ErrorKind::TopicNotFound);
    let names: Vec<String> = admin.list_topics().await.unwrap().into_iter().map(|t| t.name).collect();
    assert_eq!(names, ["stays"]);
    assert!(admin.list_partitions(None).await.unwrap().iter().all(|p| p.name == "stays-0"));

    let err = assert_kind(admin.delete_topic("short-lived").await, ErrorKind::TopicNotFound);
    assert!(!err.is_retriable());
    assert_kind(admin.delete_topic("never-existed").await, ErrorKind::TopicNotFound);

    // The name can be used again, from offset 0.
    topic(&s.fluvio, "short-lived", 1).await;
    let producer = wait_for("the re-created topic is usable", || async {
        let producer = s.fluvio.topic_producer("short-lived").await.ok()?;
        let output = producer.send(None, b"again").await.ok()?;
        producer.flush().await.ok()?;
        (output.wait().await.ok()?.offset == 0).then_some(producer)
    })
    .await;
    drop(producer);
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partitions_report_leaders_replicas_and_offsets() {
    let s = setup(2).await;
    let admin = s.fluvio.admin();
    topic(&s.fluvio, "measured", 4).await;
    topic(&s.fluvio, "other", 1).await;
    // A topic whose name is also the name of a partition of "measured" ("measured-1").
    topic(&s.fluvio, "measured-1", 1).await;
    let spu_ids: BTreeSet<i32> = s.cluster.spu_addrs().iter().map(|(id, _)| *id).collect();

    // 10, 20, 30 and 40 records in partitions 0 to 3.
    let producer = s.fluvio.topic_producer("measured").await.unwrap();
    for p in 0..4u32 {
        for i in 0..(10 * (p + 1)) {
            producer.send_to(Some(p), None, format!("record {i} of partition {p}").as_bytes()).await.unwrap();
        }
    }
    producer.flush().await.unwrap();

    // The SPUs report offsets to the SC periodically.
    let partitions = wait_for("hw and leo reach the SC", || async {
        let partitions = admin.list_partitions(Some("measured")).await.unwrap();
        partitions
            .iter()
            .enumerate()
            .all(|(p, part)| {
                let n = 10 * (p as i64 + 1);
                part.status.leader.hw == n && part.status.leader.leo == n && part.status.size > 0
            })
            .then_some(partitions)
    })
    .await;
    assert_eq!(partitions.len(), 4);
    let mut leaders = BTreeSet::new();
    for (index, partition) in partitions.iter().enumerate() {
        assert_eq!(partition.name, format!("measured-{index}"));
        assert!(spu_ids.contains(&partition.spec.leader), "{partition:?}");
        assert_eq!(partition.spec.replicas, [partition.spec.leader]);
        assert_eq!(partition.status.resolution, PartitionResolution::Online);
        assert_eq!(partition.status.leader.spu, partition.spec.leader);
        leaders.insert(partition.spec.leader);
    }
    assert_eq!(leaders, spu_ids, "partitions are spread over both SPUs");

    let all = admin.list_partitions(None).await.unwrap();
    let names: Vec<&str> = all.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["measured-0", "measured-1", "measured-2", "measured-3", "measured-1-0", "other-0"]);
    assert_eq!(admin.list_partitions(Some("other")).await.unwrap().len(), 1);
    let nested: Vec<String> =
        admin.list_partitions(Some("measured-1")).await.unwrap().into_iter().map(|p| p.name).collect();
    assert_eq!(nested, ["measured-1-0"]);
    assert_eq!(admin.topic("measured-1").await.unwrap().spec.replicas.partition_count(), 1);
    assert_eq!(admin.topic("measured").await.unwrap().spec.replicas.partition_count(), 4);

    let err = assert_kind(admin.list_partitions(Some("missing")).await, ErrorKind::TopicNotFound);
    assert!(!err.is_retriable());
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spus_are_listed_with_their_endpoints() {
    let s = setup(3).await;
    let spus = s.fluvio.admin().list_spus().await.unwrap();
    let expected = s.cluster.spu_addrs();
    assert_eq!(spus.len(), expected.len());
    for (spu, (id, addr)) in spus.iter().zip(&expected) {
        assert_eq!(spu.spec.id, *id);
        assert!(spu.name.ends_with(&id.to_string()), "{}", spu.name);
        assert_eq!(spu.spec.public_endpoint.address().unwrap(), addr.to_string());
        assert_eq!(spu.spec.public_endpoint.port, addr.port());
        assert_eq!(spu.status.resolution, SpuStatusResolution::Online);
    }
    let names: BTreeSet<&str> = spus.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names.len(), 3, "names are unique");
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partitions_can_be_added() {
    let s = setup(2).await;
    let admin = s.fluvio.admin();
    topic(&s.fluvio, "growing", 1).await;
    let producer = s.fluvio.topic_producer("growing").await.unwrap();
    assert_kind(producer.send_to(Some(2), None, b"too early").await, ErrorKind::PartitionNotFound);

    // The SC answers once it stored the new count, as the official SC does; the call returns
    // once the new partitions are online.
    admin.add_partitions("growing", 2).await.unwrap();
    let topic = admin.topic("growing").await.unwrap();
    assert_eq!(topic.spec.replicas.partition_count(), 3);
    let partitions = admin.list_partitions(Some("growing")).await.unwrap();
    assert!(partitions.iter().all(|p| p.status.resolution == PartitionResolution::Online), "{partitions:?}");
    assert_eq!(partitions.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["growing-0", "growing-1", "growing-2"]);

    // A new producer sees three partitions; the existing one learns of them from the watch.
    let fresh = s.fluvio.topic_producer("growing").await.unwrap();
    let output = fresh.send_to(Some(2), None, b"new partition").await.unwrap();
    fresh.flush().await.unwrap();
    assert_eq!(output.wait().await.unwrap().partition, 2);
    let output = wait_for("the existing producer sees the new partitions", || async {
        producer.send_to(Some(1), None, b"also new").await.ok()
    })
    .await;
    producer.flush().await.unwrap();
    assert_eq!(output.wait().await.unwrap().offset, 0);

    let err = assert_kind(admin.add_partitions("missing", 1).await, ErrorKind::TopicNotFound);
    assert!(!err.is_retriable());
    assert_kind(admin.add_partitions("growing", 0).await, ErrorKind::Config);
    assert_kind(admin.add_partitions("growing", u32::MAX).await, ErrorKind::InvalidTopicConfig);
    s.shutdown().await;
}

/// A topic created while too few SPUs are online waits for them, and is placed and usable once
/// they are back; meanwhile the client's shared SC connection keeps serving.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_topic_waiting_for_spus_is_placed_when_they_return() {
    let s = setup(2).await;
    let admin = s.fluvio.admin();
    s.cluster.stop_spu(5002).await.unwrap();
    let err = assert_kind(admin.create_topic("waiting", &TopicConfig::new(2, 2)).await, ErrorKind::TopicNotProvisioned);
    assert!(!err.is_retriable());
    assert_eq!(admin.list_topics().await.unwrap().len(), 1, "the shared connection serves on");
    s.cluster.start_spu(5002).await.unwrap();
    wait_until("the topic is placed", || async {
        admin.topic("waiting").await.unwrap().status.resolution == TopicResolution::Provisioned
    })
    .await;
    let producer = s.fluvio.topic_producer("waiting").await.unwrap();
    let output = producer.send(None, b"placed").await.unwrap();
    producer.flush().await.unwrap();
    assert_eq!(output.wait().await.unwrap().offset, 0);
    s.shutdown().await;
}

/// Live objects of the embedded cluster print as the official CLI prints them (field names,
/// value spellings, `null`s, field order: the fixtures in `official_output.rs` pin the shapes).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn objects_render_as_the_official_cli_prints_them() {
    let s = setup(2).await;
    let admin = s.fluvio.admin();
    let mut config = TopicConfig::new(2, 1);
    config.retention = Some(Duration::from_secs(7200));
    config.compression = Some(TopicCompression::Gzip);
    admin.create_topic("rendered", &config).await.unwrap();
    topic(&s.fluvio, "second", 1).await;

    let topics = admin.list_topics().await.unwrap();
    let rendered = &topics[0];
    let (first, second) = (rendered.status.replica_map[&0][0], rendered.status.replica_map[&1][0]);
    let expected = format!(
        r#"{{
  "name": "rendered",
  "spec": {{
    "replicas": {{
      "computed": {{
        "partitions": 2,
        "replicationFactor": 1,
        "ignoreRackAssignment": false
      }}
    }},
    "cleanupPolicy": {{
      "segment": {{
        "timeInSeconds": 7200
      }}
    }},
    "compressionType": "Gzip",
    "system": false
  }},
  "status": {{
    "resolution": "Provisioned",
    "replicaMap": {{
      "0": [
        {first}
      ],
      "1": [
        {second}
      ]
    }},
    "mirrorMap": {{}},
    "reason": ""
  }}
}}"#
    );
    assert_eq!(to_json(rendered).unwrap(), expected);
    let yaml = to_yaml(rendered).unwrap();
    assert!(yaml.contains("  replicas: !computed\n    partitions: 2\n"), "{yaml}");
    assert!(yaml.contains("  cleanupPolicy: !segment\n    timeInSeconds: 7200\n"), "{yaml}");
    let list: serde_json::Value = serde_json::from_str(&to_json(&topics).unwrap()).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 2, "a list renders as an array");
    assert_eq!(list[1]["spec"]["compressionType"], "Any");

    let partitions = admin.list_partitions(None).await.unwrap();
    let json: serde_json::Value = serde_json::from_str(&to_json(&partitions).unwrap()).unwrap();
    let names: Vec<&str> = json.as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["rendered-0", "rendered-1", "second-0"]);
    for (rendered, partition) in json.as_array().unwrap().iter().zip(&partitions) {
        let spec = rendered["spec"].as_object().unwrap();
        let keys: Vec<&str> = spec.keys().map(String::as_str).collect();
        let mut want =
            ["leader", "replicas", "cleanupPolicy", "storage", "compressionType", "deduplication", "system", "mirror"];
        want.sort_unstable();
        assert_eq!(keys, want, "every field, null when unset");
        assert_eq!(rendered["spec"]["leader"], partition.spec.leader);
        assert!(rendered["spec"]["mirror"].is_null() && rendered["spec"]["deduplication"].is_null());
        assert_eq!(rendered["status"]["resolution"], "Online");
        assert_eq!(rendered["status"]["lsr"], 0, "replication 1: no follower in sync");
        assert!(rendered["status"]["isBeingDeleted"].is_boolean() && rendered["status"]["baseOffset"].is_i64());
    }

    let spus = admin.list_spus().await.unwrap();
    for (spu, (id, addr)) in spus.iter().zip(s.cluster.spu_addrs()) {
        let expected = format!(
            r#"{{
  "name": "custom-spu-{id}",
  "spec": {{
    "spuId": {id},
    "spuType": "Custom",
    "publicEndpoint": {{
      "port": {port},
      "ingress": [
        {{
          "hostname": "127.0.0.1",
          "ip": null
        }}
      ],
      "encryption": "PLAINTEXT"
    }},
    "privateEndpoint": {{
      "port": {private},
      "host": "127.0.0.1",
      "encryption": "PLAINTEXT"
    }}
  }},
  "status": {{
    "resolution": "Online"
  }}
}}"#,
            port = addr.port(),
            private = spu.spec.private_endpoint.port,
        );
        assert_eq!(to_json(spu).unwrap(), expected);
    }

    let yaml = to_yaml(&topics).unwrap();
    assert!(yaml.contains("name: rendered") && yaml.contains("name: second"), "{yaml}");
    let yaml = to_yaml(&partitions).unwrap();
    assert!(yaml.contains("name: rendered-1") && yaml.contains("name: second-0"), "{yaml}");
    let yaml = to_yaml(&spus).unwrap();
    for spu in &spus {
        assert!(yaml.contains(&format!("name: {}", spu.name)), "{yaml}");
    }
    // The YAML (with the official CLI's tags) reads back to the same objects.
    assert_eq!(serde_norway::from_str::<Vec<TopicMetadata>>(&to_yaml(&topics).unwrap()).unwrap(), topics);
    assert_eq!(serde_norway::from_str::<Vec<PartitionMetadata>>(&to_yaml(&partitions).unwrap()).unwrap(), partitions);
    assert_eq!(serde_norway::from_str::<Vec<SpuMetadata>>(&to_yaml(&spus).unwrap()).unwrap(), spus);
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_client_refuses_admin_calls() {
    let s = setup(1).await;
    let admin = s.fluvio.admin();
    admin.list_topics().await.unwrap();
    s.fluvio.close().await;
    assert!(s.fluvio.is_closed());
    for err in [
        admin.list_topics().await.map(drop).unwrap_err(),
        admin.create_topic("late", &TopicConfig::new(1, 1)).await.unwrap_err(),
        admin.delete_topic("late").await.unwrap_err(),
        s.fluvio.admin().list_spus().await.map(drop).unwrap_err(),
    ] {
        assert_eq!(err.kind(), ErrorKind::Closed, "{err:?}");
        assert!(!err.is_retriable());
    }
    // Closing again is harmless.
    s.fluvio.close().await;
    s.cluster.shutdown().await;
}
