//! The public face of a client: [`Fluvio`] connects, and hands out the admin API, producers and
//! consumers. The connections and metadata they share live in the router (`router.rs`).

use std::path::Path;
use std::sync::Arc;

use crate::admin::FluvioAdmin;
use crate::config::ClientConfig;
use crate::consumer::{PartitionConsumer, TopicConsumer};
use crate::error::Result;
use crate::producer::{ProducerConfig, TopicProducer};
use crate::router::ClientInner;

/// A connection to one Fluvio cluster. Cheap to clone; every clone is the same client.
/// Several clients (to the same or different clusters) can live in one process.
///
/// Thread-safe.
#[derive(Clone)]
pub struct Fluvio {
    inner: Arc<ClientInner>,
}

impl std::fmt::Debug for Fluvio {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fluvio").field("endpoint", &self.inner.config.endpoint()).finish()
    }
}

impl Fluvio {
    /// Connects with the current profile of the profile file (`$FLV_PROFILE_PATH`, else
    /// `~/.fluvio/config`).
    pub async fn connect() -> Result<Self> {
        let file = fluvio_profile::ProfileFile::load(fluvio_profile::default_profile_path()?)?;
        Self::connect_with_config(ClientConfig::from_profile(&file.current()?)).await
    }

    /// Connects with profile `name` of the profile file.
    pub async fn connect_with_profile(name: &str) -> Result<Self> {
        let file = fluvio_profile::ProfileFile::load(fluvio_profile::default_profile_path()?)?;
        Self::connect_with_config(ClientConfig::from_profile(&file.profile(name)?)).await
    }

    /// Connects with profile `name` (or the current one) of the profile file at `path`.
    pub async fn connect_with_profile_file(path: &Path, name: Option<&str>) -> Result<Self> {
        let file = fluvio_profile::ProfileFile::load(path)?;
        let profile = match name {
            Some(name) => file.profile(name)?,
            None => file.current()?,
        };
        Self::connect_with_config(ClientConfig::from_profile(&profile)).await
    }

    /// Connects with explicit settings. Fails within the connect timeout when the SC cannot be
    /// reached, refuses the TLS handshake (an [`ErrorKind::Tls`](crate::ErrorKind::Tls) error
    /// whose [`Error::tls_failure`](crate::Error::tls_failure) says why) or speaks incompatible versions. Certificates and keys
    /// are read here, once: unreadable or invalid ones are
    /// [`ErrorKind::Config`](crate::ErrorKind::Config).
    pub async fn connect_with_config(config: ClientConfig) -> Result<Self> {
        Ok(Self { inner: ClientInner::connect(config).await? })
    }

    /// The admin API.
    pub fn admin(&self) -> FluvioAdmin {
        FluvioAdmin::new(self.inner.clone())
    }

    /// A producer for `topic` with default settings.
    pub async fn topic_producer(&self, topic: &str) -> Result<TopicProducer> {
        self.topic_producer_with_config(topic, ProducerConfig::default()).await
    }

    /// A producer for `topic`.
    pub async fn topic_producer_with_config(&self, topic: &str, config: ProducerConfig) -> Result<TopicProducer> {
        TopicProducer::new(self.inner.clone(), topic, config).await
    }

    /// A consumer of one partition.
    pub fn partition_consumer(&self, topic: &str, partition: u32) -> PartitionConsumer {
        PartitionConsumer::new(self.inner.clone(), topic, partition)
    }

    /// A consumer of every partition of a topic.
    pub fn consumer(&self, topic: &str) -> TopicConsumer {
        TopicConsumer::new(self.inner.clone(), topic)
    }

    /// The settings this client connected with.
    pub fn config(&self) -> &ClientConfig {
        &self.inner.config
    }

    /// The platform version the SC reported.
    pub fn platform_version(&self) -> &str {
        &self.inner.platform_version
    }

    /// Closes every connection and stops every background task. Producers and consumers made
    /// from this client fail with [`ErrorKind::Closed`](crate::ErrorKind::Closed) afterwards. Idempotent.
    pub async fn close(&self) {
        self.inner.close().await;
    }

    /// The totals of every producer and stream this client ran (closed ones included).
    pub fn metrics(&self) -> crate::MetricsSnapshot {
        self.inner.metrics.snapshot()
    }

    /// True once [`Fluvio::close`] was called.
    pub fn is_closed(&self) -> bool {
        self.inner.shutdown.is_cancelled()
    }
}
