//! Named consumers' offsets as the cluster keeps them (Fluvio 0.50): per consumer name, topic
//! and partition, the offset of the last record the consumer consumed, held by the leader of
//! partition 0 of the system topic `consumer-offset`. Listing and deleting go to that leader
//! (as the official client's `consumer_offsets` and `delete_consumer_offset`); storing goes
//! through a stream session of the data partition's leader (`consumer::commit`).
//!
//! Shared by the admin (list, delete) and the consumers (where a named stream starts).

use std::future::Future;
use std::time::Duration;

use fluvio_wire::ErrorCode;
use fluvio_wire::consumer_offset::{
    CONSUMER_OFFSET_TOPIC, ConsumerOffset, ConsumerOffsetFilter, DeleteConsumerOffsetRequest,
    FetchConsumerOffsetsRequest,
};
use fluvio_wire::error_code::ReplicaKey;

use crate::error::{Error, ErrorKind, Result};
use crate::router::ClientInner;
use crate::socket::{Connection, SPU_VERSION};

/// The stored offsets matching `filter` (every one when `None`), as the leader of
/// `consumer-offset` lists them.
pub(crate) async fn list(client: &ClientInner, filter: Option<ConsumerOffsetFilter>) -> Result<Vec<ConsumerOffset>> {
    let request = FetchConsumerOffsetsRequest { filter_opts: filter };
    on_offsets_leader(client, |connection| {
        let request = request.clone();
        async move {
            let response = connection.request(&request, SPU_VERSION).await?;
            check(response.error_code)?;
            Ok(response.consumers)
        }
    })
    .await
}

/// The offset stored for `consumer_id` in `topic`-`partition`, if any.
pub(crate) async fn stored(
    client: &ClientInner,
    consumer_id: &str,
    topic: &str,
    partition: u32,
) -> Result<Option<i64>> {
    let replica_id = ReplicaKey::new(topic, partition);
    let filter = ConsumerOffsetFilter { replica_id: Some(replica_id.clone()), consumer_id: Some(consumer_id.into()) };
    let found = list(client, Some(filter)).await?;
    Ok(found.into_iter().find(|c| c.consumer_id == consumer_id && c.replica_id == replica_id).map(|c| c.offset))
}

/// Deletes the offset stored for `consumer_id` in `replica` (succeeds when there is none, as
/// on Fluvio).
pub(crate) async fn delete(client: &ClientInner, consumer_id: &str, replica: &ReplicaKey) -> Result<()> {
    let request = DeleteConsumerOffsetRequest { replica_id: replica.clone(), consumer_id: consumer_id.to_string() };
    on_offsets_leader(client, |connection| {
        let request = request.clone();
        async move {
            let response = connection.request(&request, SPU_VERSION).await?;
            check(response.error_code)
        }
    })
    .await
}

fn check(code: ErrorCode) -> Result<()> {
    if code.is_error() {
        return Err(Error::from_server(code, CONSUMER_OFFSET_TOPIC));
    }
    Ok(())
}

/// Runs `call` on the leader of `consumer-offset`, again while it fails retriably (the
/// partition electing a leader, an SPU going away) within the request timeout.
async fn on_offsets_leader<T, F, Fut>(client: &ClientInner, call: F) -> Result<T>
where
    F: Fn(std::sync::Arc<Connection>) -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let deadline = tokio::time::Instant::now() + client.config.request_timeout();
    let mut delay = Duration::from_millis(20);
    loop {
        let attempt = async { call(client.leader_connection(CONSUMER_OFFSET_TOPIC, 0).await?).await };
        match attempt.await {
            Ok(value) => return Ok(value),
            Err(err) if retriable(&err) && tokio::time::Instant::now() + delay < deadline => {
                if err.kind() == ErrorKind::NotLeader {
                    client.refresh_partitions(CONSUMER_OFFSET_TOPIC).await;
                }
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_millis(500));
            }
            Err(err) => return Err(err),
        }
    }
}

/// Whether a failure of a consumer-offset request may pass on its own: the engine's retriable
/// errors, and an SPU that does not lead `consumer-offset` yet.
pub(crate) fn retriable(err: &Error) -> bool {
    err.is_retriable()
        || matches!(err.server_code(), Some(ErrorCode::FetchSessionNotFound | ErrorCode::PartitionNotLeader))
}
