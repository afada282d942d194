//! The system topic Fluvio's SC creates at start: `consumer-offset`, one partition, where the
//! SPUs keep consumers' offsets (see `spu/offsets.rs`). Like every system topic it is hidden
//! from topic and partition lists unless they ask for system objects, present in watches, and
//! only deleted with force; the SC creates it again if it goes missing.
//!
//! Its settings are those of Fluvio's SC (7 days of retention, 512 MB segments, at most 2 GB),
//! except its replication factor: Fluvio's SC creates it with one replica, so its leader's
//! failure makes every consumer offset unavailable until that SPU returns; here it is
//! replicated like a data topic ([`crate::ClusterConfig::consumer_offset_replication`]).

use std::sync::Arc;
use std::time::Duration;

use fluvio_wire::consumer_offset::CONSUMER_OFFSET_TOPIC;
use fluvio_wire::sc::topic::{
    CleanupPolicy, CompressionAlgorithm, ReplicaSpec, SegmentBasedPolicy, TopicReplicaParam, TopicStorageConfig,
};
use fluvio_wire::sc::{CommonCreateRequest, Status, TopicSpec};
use tokio_util::sync::CancellationToken;
use tracing::{debug, warn};

use super::Sc;

/// Segment size of `consumer-offset` (Fluvio's `OFFSET_TOPIC_SEGMENT_SIZE`).
const SEGMENT_SIZE: u32 = 512_000_000;
/// Maximum partition size of `consumer-offset` (four segments).
const MAX_PARTITION_SIZE: u64 = SEGMENT_SIZE as u64 * 4;
/// Retention of `consumer-offset`: 7 days.
const RETENTION_SECS: u32 = 7 * 24 * 3600;
/// How often the SC checks that the topic exists, at most (Fluvio's SC: after 1 s, then every
/// 16 s, 31 s, ... up to 120 s).
const MAX_CHECK_INTERVAL: Duration = Duration::from_secs(120);
const FIRST_CHECK_INTERVAL: Duration = Duration::from_secs(1);
const CHECK_INTERVAL_STEP: Duration = Duration::from_secs(15);

/// The spec of `consumer-offset` with `replication` replicas.
pub(crate) fn consumer_offset_spec(replication: u32) -> TopicSpec {
    TopicSpec {
        replicas: ReplicaSpec::Computed(TopicReplicaParam {
            partitions: 1,
            replication_factor: replication,
            ignore_rack_assignment: false,
        }),
        cleanup_policy: Some(CleanupPolicy::Segment(SegmentBasedPolicy { time_in_seconds: RETENTION_SECS })),
        storage: Some(TopicStorageConfig {
            segment_size: Some(SEGMENT_SIZE),
            max_partition_size: Some(MAX_PARTITION_SIZE),
        }),
        compression_type: CompressionAlgorithm::Any,
        deduplication: None,
        system: true,
    }
}

impl Sc {
    /// Creates `consumer-offset` unless it exists, with up to `replication` replicas (as many
    /// as there are online SPUs, if fewer), and waits until it is online. `Ok` if it existed.
    pub(crate) async fn ensure_consumer_offset_topic(&self, replication: u32) -> Status {
        if self.store.get::<TopicSpec>(CONSUMER_OFFSET_TOPIC).is_some() {
            return Status::ok(CONSUMER_OFFSET_TOPIC);
        }
        let online = self.online_spus().len() as u32;
        let replication = replication.min(online).max(u32::from(self.settings.min_live_replicas));
        let common = CommonCreateRequest { name: CONSUMER_OFFSET_TOPIC.into(), dry_run: false, timeout: None };
        let status = self.create_topic(&common, consumer_offset_spec(replication)).await;
        if status.error_code.is_ok() {
            debug!(topic = CONSUMER_OFFSET_TOPIC, replication, "system topic created");
        }
        status
    }

    /// Checks now and then that `consumer-offset` exists, creating it again if it does not (it
    /// was deleted with force, or could not be created at start), until `shutdown`.
    pub(crate) fn keep_consumer_offset_topic(self: &Arc<Self>, replication: u32, shutdown: CancellationToken) {
        let sc = Arc::downgrade(self);
        self.tasks.spawn(async move {
            let mut interval = FIRST_CHECK_INTERVAL;
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(interval) => {}
                    _ = shutdown.cancelled() => return,
                }
                interval = (interval + CHECK_INTERVAL_STEP).min(MAX_CHECK_INTERVAL);
                let Some(sc) = sc.upgrade() else { return };
                let status = tokio::select! {
                    status = sc.ensure_consumer_offset_topic(replication) => status,
                    _ = shutdown.cancelled() => return,
                };
                if !status.error_code.is_ok() {
                    warn!(topic = CONSUMER_OFFSET_TOPIC, message = ?status.error_message, "could not create the system topic");
                }
            }
        });
    }
}
