//! Topics, partitions and SPUs: create, delete, list, get. Every object has a name, a spec and
//! a status, and renders as JSON or YAML.

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

use crate::error::{Error, ErrorKind, Result};
use crate::router::ClientInner;
use crate::socket::SC_VERSION;

/// A topic: name, spec, status.
pub type TopicMetadata = Metadata<TopicSpec>;
/// A partition (named `<topic>-<index>`): leader and replicas in the spec; resolution, high
/// watermark, log end offset and size in the status.
pub type PartitionMetadata = Metadata<PartitionSpec>;
/// An SPU: id and endpoints in the spec, Online/Offline in the status.
pub type SpuMetadata = Metadata<SpuSpec>;

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
    pub async fn create_topic(&self, name: &str, config: &TopicConfig) -> Result<()> {
        self.create_topic_spec(name, config.to_spec()?, false).await
    }

    /// Creates a topic from a full spec (`dry_run` only validates).
    pub async fn create_topic_spec(&self, name: &str, spec: TopicSpec, dry_run: bool) -> Result<()> {
        let request = CreateRequest {
            common: CommonCreateRequest { name: name.to_string(), dry_run, timeout: None },
            object: CreateObject::Topic(spec),
        };
        let sc = self.client.sc().await?;
        // Creation waits for provisioning on the server, which may take longer than a request.
        let status = sc
            .request_with_timeout(
                &request,
                SC_VERSION,
                self.client.config.request_timeout().max(Duration::from_secs(60)),
            )
            .await?;
        check(status, name)
    }

    /// Deletes a topic.
    pub async fn delete_topic(&self, name: &str) -> Result<()> {
        let sc = self.client.sc().await?;
        let status = sc.request(&DeleteRequest::Topic { name: name.to_string(), force: false }, SC_VERSION).await?;
        check(status, name)
    }

    /// Adds `count` partitions to a topic.
    pub async fn add_partitions(&self, name: &str, count: u32) -> Result<()> {
        if count == 0 {
            return Err(Error::new(ErrorKind::Config, "the number of partitions to add must be at least 1"));
        }
        let sc = self.client.sc().await?;
        let request =
            UpdateRequest::Topic { name: name.to_string(), action: UpdateTopicAction::AddPartition { count } };
        let status = sc.request(&request, SC_VERSION).await?;
        check(status, name)
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

    async fn list(&self, label: &str, names: Vec<String>) -> Result<ListResponse> {
        let sc = self.client.sc().await?;
        let request = ListRequest {
            label: label.to_string(),
            filters: ListFilters {
                name_filters: names.into_iter().map(|name| ListFilter { name }).collect(),
                summary: false,
                system: false,
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

/// Renders any admin object (or list of objects) as pretty JSON.
pub fn to_json<T: Serialize + ?Sized>(value: &T) -> Result<String> {
    serde_json::to_string_pretty(value).map_err(|e| Error::with_source(ErrorKind::Internal, "cannot render JSON", e))
}

/// Renders any admin object (or list of objects) as YAML, with the same structure as
/// [`to_json`]. The value goes through JSON's data model first: a YAML serializer would otherwise
/// write enum variants as YAML tags (`!computed`), which most YAML readers and tools such as
/// `yq` do not map back to the object the JSON shows.
pub fn to_yaml<T: Serialize + ?Sized>(value: &T) -> Result<String> {
    let value =
        serde_json::to_value(value).map_err(|e| Error::with_source(ErrorKind::Internal, "cannot render YAML", e))?;
    serde_norway::to_string(&value).map_err(|e| Error::with_source(ErrorKind::Internal, "cannot render YAML", e))
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
        assert!(yaml.contains("name: t"), "{yaml}");
        assert!(!yaml.contains('!'), "no YAML tags, enums are maps as in JSON: {yaml}");
        let from_yaml: serde_json::Value = serde_norway::from_str(&yaml).unwrap();
        assert_eq!(from_yaml, serde_json::Value::Array(vec![value]), "YAML and JSON carry the same structure");
    }
}
