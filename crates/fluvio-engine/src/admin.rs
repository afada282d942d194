//! Topics, partitions and SPUs: create, delete, list, get. Every object has a name, a spec and
//! a status, and renders as JSON or YAML. Named consumers' stored offsets: list, delete.

use std::sync::Arc;
use std::time::Duration;

use fluvio_wire::sc::topic::UpdateTopicAction;
use fluvio_wire::sc::{
    CommonCreateRequest, CreateObject, CreateRequest, DeleteRequest, ListFilter, ListFilters, ListRequest,
    ListResponse, Status, UpdateRequest, labels,
};
use serde::Serialize;

pub use fluvio_wire::sc::Metadata;
pub use fluvio_wire::sc::partition::{
    PartitionResolution, PartitionSpec, PartitionStatus, ReplicaStatus, split_partition_name,
};
pub use fluvio_wire::sc::spu::{IngressAddr, IngressPort, SpuSpec, SpuStatus, SpuStatusResolution};
pub use fluvio_wire::sc::topic::{
    CleanupPolicy, CompressionAlgorithm, ReplicaSpec, SegmentBasedPolicy, TopicResolution, TopicSpec, TopicStatus,
    TopicStorageConfig,
};

use crate::consumer::ConsumerConfig;
use crate::error::{Error, ErrorKind, Result};
use crate::router::ClientInner;
use crate::socket::SC_VERSION;
use crate::stored_offsets;

/// A topic: name, spec, status.
pub type TopicMetadata = Metadata<TopicSpec>;
/// A partition (named `<topic>-<index>`): leader and replicas in the spec; resolution, high
/// watermark, log end offset and size in the status.
pub type PartitionMetadata = Metadata<PartitionSpec>;
/// An SPU: id and endpoints in the spec, Online/Offline in the status.
pub type SpuMetadata = Metadata<SpuSpec>;

/// The offset a named consumer has stored in one partition, as the official CLI's
/// `fluvio consumer list` shows it (and renders it with `-O json`: these field names).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct ConsumerOffsetMetadata {
    /// The consumer name.
    pub consumer_id: String,
    /// The topic.
    pub topic: String,
    /// The partition.
    pub partition: u32,
    /// The offset of the last record the consumer consumed (it resumes at the next one).
    pub offset: i64,
    /// When it was last stored, in seconds since the Unix epoch.
    pub modified_time: u64,
}

impl From<fluvio_wire::consumer_offset::ConsumerOffset> for ConsumerOffsetMetadata {
    fn from(stored: fluvio_wire::consumer_offset::ConsumerOffset) -> Self {
        Self {
            consumer_id: stored.consumer_id,
            topic: stored.replica_id.topic,
            partition: stored.replica_id.partition,
            offset: stored.offset,
            modified_time: stored.modified_time,
        }
    }
}

/// The codec a topic requires of its batches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TopicCompression {
    /// Producers choose (the default).
    Any,
    /// Uncompressed only.
    None,
    /// gzip only.
    Gzip,
    /// Snappy only.
    Snappy,
    /// LZ4 only.
    Lz4,
    /// zstd only.
    Zstd,
}

impl From<TopicCompression> for CompressionAlgorithm {
    fn from(value: TopicCompression) -> Self {
        match value {
            TopicCompression::Any => CompressionAlgorithm::Any,
            TopicCompression::None => CompressionAlgorithm::None,
            TopicCompression::Gzip => CompressionAlgorithm::Gzip,
            TopicCompression::Snappy => CompressionAlgorithm::Snappy,
            TopicCompression::Lz4 => CompressionAlgorithm::Lz4,
            TopicCompression::Zstd => CompressionAlgorithm::Zstd,
        }
    }
}

/// Settings of a new topic. Unset options take the cluster's defaults (7 days retention,
/// 1 GiB segments, any compression).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicConfig {
    /// Number of partitions (at least 1).
    pub partitions: u32,
    /// Replicas per partition (at least 1).
    pub replication_factor: u32,
    /// How long records are kept (at least 10 s).
    pub retention: Option<Duration>,
    /// Segment size in bytes (at least 1024).
    pub segment_size: Option<u32>,
    /// Maximum partition size in bytes.
    pub max_partition_size: Option<u64>,
    /// Codec the topic requires.
    pub compression: Option<TopicCompression>,
}

impl TopicConfig {
    /// `partitions` partitions with `replication_factor` replicas each.
    pub fn new(partitions: u32, replication_factor: u32) -> Self {
        Self {
            partitions,
            replication_factor,
            retention: None,
            segment_size: None,
            max_partition_size: None,
            compression: None,
        }
    }

    /// The topic spec these settings describe.
    pub fn to_spec(&self) -> Result<TopicSpec> {
        Self::check_partitions(self.partitions)?;
        Self::check_replication_factor(self.replication_factor)?;
        if let Some(retention) = self.retention {
            Self::check_retention(retention)?;
        }
        if let Some(bytes) = self.segment_size {
            Self::check_segment_size(u64::from(bytes))?;
        }
        if let Some(bytes) = self.max_partition_size {
            Self::check_max_partition_size(bytes)?;
        }
        let mut spec = TopicSpec::computed(self.partitions, self.replication_factor);
        if let Some(retention) = self.retention {
            let secs = u32::try_from(retention.as_secs()).unwrap_or(u32::MAX);
            spec.cleanup_policy = Some(CleanupPolicy::Segment(SegmentBasedPolicy { time_in_seconds: secs }));
        }
        if self.segment_size.is_some() || self.max_partition_size.is_some() {
            spec.storage = Some(TopicStorageConfig {
                segment_size: self.segment_size,
                max_partition_size: self.max_partition_size,
            });
        }
        if let Some(compression) = self.compression {
            spec.compression_type = compression.into();
        }
        Ok(spec)
    }
}

// The rules of the settings, each in one place: `to_spec` applies them, front ends (the Java
// builder) as values are set. The cluster may refuse more (say a retention under 10 s).
impl TopicConfig {
    /// [`TopicConfig::partitions`]: at least one.
    pub fn check_partitions(partitions: u32) -> Result<()> {
        if partitions == 0 {
            return Err(Error::config("a topic needs at least one partition"));
        }
        Ok(())
    }

    /// [`TopicConfig::replication_factor`]: at least one.
    pub fn check_replication_factor(replicas: u32) -> Result<()> {
        if replicas == 0 {
            return Err(Error::config("the replication factor must be at least 1"));
        }
        Ok(())
    }

    /// [`TopicConfig::retention`]: more than zero, at most `u32::MAX` seconds.
    pub fn check_retention(retention: Duration) -> Result<()> {
        if retention.is_zero() {
            return Err(Error::config("the retention must be positive"));
        }
        if retention.as_secs() > u64::from(u32::MAX) {
            return Err(Error::config("retention longer than u32::MAX seconds"));
        }
        Ok(())
    }

    /// [`TopicConfig::segment_size`]: 1 to `u32::MAX` bytes.
    pub fn check_segment_size(bytes: u64) -> Result<()> {
        if bytes == 0 || bytes > u64::from(u32::MAX) {
            return Err(Error::config(format!("the segment size must be 1 to {} bytes, not {bytes}", u32::MAX)));
        }
        Ok(())
    }

    /// [`TopicConfig::max_partition_size`]: at least one byte.
    pub fn check_max_partition_size(bytes: u64) -> Result<()> {
        if bytes == 0 {
            return Err(Error::config("the maximum partition size must be positive"));
        }
        Ok(())
    }
}

/// How often a create waiting for its answer checks whether its topic waits for SPUs (the
/// first check comes this long after the request, so that an immediate answer, such as
/// `TopicAlreadyExists` for a topic that exists and waits for SPUs itself, comes first).
const UNPLACED_CHECK_INTERVAL: Duration = Duration::from_millis(200);

/// How often `add_partitions` checks whether the partitions it added are online.
const PARTITIONS_CHECK_INTERVAL: Duration = Duration::from_millis(50);

/// Administrative operations. Cheap to clone.
///
/// Thread-safe.
#[derive(Clone)]
pub struct FluvioAdmin {
    client: Arc<ClientInner>,
}

impl FluvioAdmin {
    pub(crate) fn new(client: Arc<ClientInner>) -> Self {
        Self { client }
    }

    /// Creates a topic; returns once every partition is online.
    ///
    /// A topic whose replication factor exceeds the SPUs online is created all the same, as a
    /// Fluvio SC creates it, with the status `InsufficientResources`: this call then fails at
    /// once with [`ErrorKind::TopicNotProvisioned`] (the SC itself answers only after its
    /// provisioning wait, 90 s on a real cluster). The topic stays, and is placed once enough
    /// SPUs are online; delete it if it is not wanted.
    pub async fn create_topic(&self, name: &str, config: &TopicConfig) -> Result<()> {
        self.create_topic_spec(name, config.to_spec()?, false).await
    }

    /// Creates a topic from a full spec (`dry_run` only validates). See
    /// [`FluvioAdmin::create_topic`].
    pub async fn create_topic_spec(&self, name: &str, spec: TopicSpec, dry_run: bool) -> Result<()> {
        let request = CreateRequest {
            common: CommonCreateRequest { name: name.to_string(), dry_run, timeout: None },
            object: CreateObject::Topic(spec),
        };
        // The SC answers once the topic is provisioned, which may take longer than a request,
        // and holds up the requests behind it on the same connection meanwhile: the create
        // gets a connection of its own (closed when this returns), while the shared one checks
        // whether the topic waits for SPUs.
        let exclusive = self.client.exclusive_sc().await?;
        let answer = exclusive.request_with_timeout(&request, SC_VERSION, self.provisioning_wait());
        tokio::pin!(answer);
        let mut check_at = tokio::time::Instant::now() + UNPLACED_CHECK_INTERVAL;
        loop {
            tokio::select! {
                status = &mut answer => return check(status?, name),
                _ = tokio::time::sleep_until(check_at), if !dry_run => {
                    check_at += UNPLACED_CHECK_INTERVAL;
                    if self.waits_for_spus(name).await {
                        return Err(Error::new(
                            ErrorKind::TopicNotProvisioned,
                            format!(
                                "topic '{name}' cannot be placed: its replication factor exceeds the SPUs online. \
                                 The cluster keeps it with the status InsufficientResources and places it once \
                                 enough SPUs are online; delete it if it is not wanted"
                            ),
                        ));
                    }
                }
                _ = self.client.shutdown.cancelled() => return Err(Error::closed("the client")),
            }
        }
    }

    /// Whether topic `name` exists and waits for enough SPUs to be placed. A failed lookup
    /// says no: the create's own answer decides then.
    async fn waits_for_spus(&self, name: &str) -> bool {
        self.topic(name).await.is_ok_and(|topic| topic.status.resolution == TopicResolution::InsufficientResources)
    }

    /// Deletes a topic.
    pub async fn delete_topic(&self, name: &str) -> Result<()> {
        let sc = self.client.sc().await?;
        let status = sc.request(&DeleteRequest::Topic { name: name.to_string(), force: false }, SC_VERSION).await?;
        check(status, name)
    }

    /// Adds `count` partitions to a topic; returns once every partition of the topic is online.
    ///
    /// A Fluvio SC answers as soon as it stored the new partition count, before the partitions
    /// exist: this call then waits for them (as long as a create may take); if they are not
    /// online by then, it fails with a retriable [`ErrorKind::Timeout`] (the partitions are
    /// added all the same).
    pub async fn add_partitions(&self, name: &str, count: u32) -> Result<()> {
        if count == 0 {
            return Err(Error::new(ErrorKind::Config, "the number of partitions to add must be at least 1"));
        }
        let sc = self.client.sc().await?;
        let request =
            UpdateRequest::Topic { name: name.to_string(), action: UpdateTopicAction::AddPartition { count } };
        let status = sc.request(&request, SC_VERSION).await?;
        check(status, name)?;
        self.await_partitions_online(name).await
    }

    /// Waits until as many partitions of topic `name` as its spec names are online, for at most
    /// [`FluvioAdmin::provisioning_wait`].
    async fn await_partitions_online(&self, name: &str) -> Result<()> {
        let deadline = tokio::time::Instant::now() + self.provisioning_wait();
        loop {
            let expected = self.topic(name).await?.spec.replicas.partition_count() as usize;
            let partitions = self.list_partitions(Some(name)).await?;
            let online = partitions.iter().filter(|p| p.status.resolution == PartitionResolution::Online).count();
            if online >= expected {
                return Ok(());
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(Error::new(
                    ErrorKind::Timeout,
                    format!(
                        "topic '{name}' has {online} of its {expected} partitions online after {:?}",
                        self.provisioning_wait()
                    ),
                ));
            }
            tokio::select! {
                _ = tokio::time::sleep(PARTITIONS_CHECK_INTERVAL) => {}
                _ = self.client.shutdown.cancelled() => return Err(Error::closed("the client")),
            }
        }
    }

    /// How long a create or an added partition may take to come online: the request timeout,
    /// and at least a minute (a cluster places partitions after it answered).
    fn provisioning_wait(&self) -> Duration {
        self.client.config.request_timeout().max(Duration::from_secs(60))
    }

    /// Every (non-system) topic, sorted by name.
    pub async fn list_topics(&self) -> Result<Vec<TopicMetadata>> {
        let ListResponse::Topic(mut topics) = self.list(labels::TOPIC, Vec::new()).await? else {
            return Err(unexpected_kind());
        };
        topics.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(topics)
    }

    /// One topic.
    pub async fn topic(&self, name: &str) -> Result<TopicMetadata> {
        let ListResponse::Topic(topics) = self.list(labels::TOPIC, vec![name.to_string()]).await? else {
            return Err(unexpected_kind());
        };
        topics
            .into_iter()
            .find(|t| t.name == name)
            .ok_or_else(|| Error::new(ErrorKind::TopicNotFound, format!("topic '{name}' not found")))
    }

    /// The partitions of `topic` (or of every topic), sorted by topic and index.
    pub async fn list_partitions(&self, topic: Option<&str>) -> Result<Vec<PartitionMetadata>> {
        let ListResponse::Partition(partitions) = self.list(labels::PARTITION, Vec::new()).await? else {
            return Err(unexpected_kind());
        };
        let mut partitions: Vec<PartitionMetadata> = partitions
            .into_iter()
            .filter(|p| {
                topic.is_none_or(|t| {
                    fluvio_wire::sc::partition::split_partition_name(&p.name).is_some_and(|(name, _)| name == t)
                })
            })
            .collect();
        partitions.sort_by_key(|p| {
            fluvio_wire::sc::partition::split_partition_name(&p.name)
                .map(|(t, i)| (t.to_string(), i))
                .unwrap_or_default()
        });
        if let Some(topic) = topic
            && partitions.is_empty()
        {
            // Distinguish an unknown topic from a topic without partitions yet.
            self.topic(topic).await?;
        }
        Ok(partitions)
    }

    /// Every SPU, sorted by id.
    pub async fn list_spus(&self) -> Result<Vec<SpuMetadata>> {
        let ListResponse::Spu(mut spus) = self.list(labels::SPU, Vec::new()).await? else {
            return Err(unexpected_kind());
        };
        spus.sort_by_key(|s| s.spec.id);
        Ok(spus)
    }

    /// Every named consumer's stored offsets, sorted by consumer, topic and partition.
    pub async fn list_consumers(&self) -> Result<Vec<ConsumerOffsetMetadata>> {
        let mut consumers: Vec<ConsumerOffsetMetadata> =
            stored_offsets::list(&self.client, None).await?.into_iter().map(Into::into).collect();
        consumers.sort();
        Ok(consumers)
    }

    /// Deletes the offsets consumer `consumer_id` stored: in every partition, in every
    /// partition of `topic`, or in one `partition` of it (a partition needs a topic). Returns
    /// what was deleted. [`ErrorKind::ConsumerNotFound`] when the consumer has no offset
    /// stored there (the official CLI prints "no consumers found");
    /// [`ErrorKind::InvalidConsumerName`] for a name no consumer can have.
    pub async fn delete_consumer(
        &self,
        consumer_id: &str,
        topic: Option<&str>,
        partition: Option<u32>,
    ) -> Result<Vec<ConsumerOffsetMetadata>> {
        ConsumerConfig::check_consumer_id(consumer_id)?;
        if partition.is_some() && topic.is_none() {
            return Err(Error::config("deleting a consumer's offset in a partition needs its topic"));
        }
        let matching: Vec<ConsumerOffsetMetadata> = self
            .list_consumers()
            .await?
            .into_iter()
            .filter(|c| {
                c.consumer_id == consumer_id
                    && topic.is_none_or(|t| c.topic == t)
                    && partition.is_none_or(|p| c.partition == p)
            })
            .collect();
        if matching.is_empty() {
            let place = match (topic, partition) {
                (Some(topic), Some(partition)) => format!(" in {topic}-{partition}"),
                (Some(topic), None) => format!(" in topic '{topic}'"),
                _ => String::new(),
            };
            return Err(Error::new(
                ErrorKind::ConsumerNotFound,
                format!("consumer {consumer_id:?} has no offset stored{place}"),
            ));
        }
        for consumer in &matching {
            let replica = fluvio_wire::error_code::ReplicaKey::new(consumer.topic.clone(), consumer.partition);
            stored_offsets::delete(&self.client, consumer_id, &replica).await?;
        }
        Ok(matching)
    }

    /// The partitions of the system topics (`consumer-offset`), as the official CLI's
    /// `fluvio partition list --system`, sorted by name.
    pub async fn list_system_partitions(&self) -> Result<Vec<PartitionMetadata>> {
        let ListResponse::Partition(mut partitions) = self.list_with(labels::PARTITION, Vec::new(), true).await? else {
            return Err(unexpected_kind());
        };
        partitions.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(partitions)
    }

    async fn list(&self, label: &str, names: Vec<String>) -> Result<ListResponse> {
        self.list_with(label, names, false).await
    }

    async fn list_with(&self, label: &str, names: Vec<String>, system: bool) -> Result<ListResponse> {
        let sc = self.client.sc().await?;
        let request = ListRequest {
            label: label.to_string(),
            filters: ListFilters {
                name_filters: names.into_iter().map(|name| ListFilter { name }).collect(),
                summary: false,
                system,
            },
        };
        sc.request(&request, SC_VERSION).await
    }
}

fn check(status: Status, name: &str) -> Result<()> {
    if status.error_code.is_ok() {
        return Ok(());
    }
    match status.error_message {
        Some(message) if !message.is_empty() => Err(Error::from_server_message(status.error_code, message)),
        _ => Err(Error::from_server(status.error_code, format!("'{name}'"))),
    }
}

fn unexpected_kind() -> Error {
    Error::new(ErrorKind::Protocol, "the SC answered a list with objects of another kind")
}

/// Renders any admin object (or list of objects) as pretty JSON, as the official CLI prints it
/// with `-O json` (the same field names, value spellings and field order).
pub fn to_json<T: Serialize + ?Sized>(value: &T) -> Result<String> {
    serde_json::to_string_pretty(value).map_err(|e| Error::with_source(ErrorKind::Internal, "cannot render JSON", e))
}

/// Renders any admin object (or list of objects) as YAML, as the official CLI prints it with
/// `-O yaml` (serde_yaml 0.9; written here with serde_norway, its maintained fork, same output): enum variants that carry a value are YAML tags, e.g.
/// `replicas: !computed` followed by the partition count and replication factor, and
/// `cleanupPolicy: !segment`. Standard YAML readers keep the tag's value; `yq` and similar
/// tools print the tags back.
pub fn to_yaml<T: Serialize + ?Sized>(value: &T) -> Result<String> {
    serde_norway::to_string(value).map_err(|e| Error::with_source(ErrorKind::Internal, "cannot render YAML", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_config_builds_the_spec() {
        let mut config = TopicConfig::new(3, 1);
        config.retention = Some(Duration::from_secs(3600));
        config.segment_size = Some(4096);
        config.compression = Some(TopicCompression::Lz4);
        let spec = config.to_spec().unwrap();
        assert_eq!(spec.replicas.partition_count(), 3);
        assert_eq!(spec.cleanup_policy.unwrap().retention_secs(), 3600);
        assert_eq!(spec.storage.unwrap().segment_size, Some(4096));
        assert_eq!(spec.compression_type, CompressionAlgorithm::Lz4);
        assert_eq!(TopicConfig::new(0, 1).to_spec().unwrap_err().kind(), ErrorKind::Config);
    }

    #[test]
    fn objects_render_as_json_and_yaml() {
        let topic = TopicMetadata { name: "t".into(), spec: TopicSpec::computed(2, 1), status: TopicStatus::default() };
        let json = to_json(&topic).unwrap();
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(value["name"], "t");
        assert_eq!(value["spec"]["replicas"]["computed"]["partitions"], 2);
        let yaml = to_yaml(&vec![&topic]).unwrap();
        assert!(yaml.contains("- name: t"), "{yaml}");
        assert!(
            yaml.contains("replicas: !computed"),
            "enum variants are YAML tags, as the official CLI prints them: {yaml}"
        );
        let from_yaml: Vec<TopicMetadata> = serde_norway::from_str(&yaml).unwrap();
        assert_eq!(from_yaml, vec![topic], "the YAML reads back");
    }
}
