//! The SC's public API: ApiVersions, Create, Delete, List, Watch and Update.

use std::sync::Arc;

use bytes::Bytes;
use fluvio_wire::api::{self, ApiVersionKey, ApiVersionsRequest, ApiVersionsResponse, RequestHeader};
use fluvio_wire::error_code::ErrorCode;
use fluvio_wire::sc::{
    Change, CreateObject, CreateRequest, DeleteRequest, ListRequest, ListResponse, MetadataUpdate, PartitionSpec,
    SpuSpec, Status, TopicSpec, UpdateRequest, WatchRequest, WatchResponse, keys, labels,
};
use fluvio_wire::{Decoder, Request, Version};
use tokio::sync::broadcast::error::RecvError;

use super::Sc;
use super::store::Stored;
use crate::net::{self, CloseReason, FrameSink, RequestHandler};

/// Platform version reported to clients (the official client requires semver >= 0.9.0).
pub(crate) const PLATFORM_VERSION: &str = "0.18.2";

/// One client connection to the SC.
pub(crate) struct ScConnection {
    sc: Arc<Sc>,
}

impl ScConnection {
    pub(crate) fn new(sc: Arc<Sc>) -> Self {
        Self { sc }
    }
}

/// The version ranges this SC serves. The official SC also accepts versions below 11 for some
/// APIs; those use an older envelope that no current client sends, so they are not offered.
fn advertised_versions() -> Vec<ApiVersionKey> {
    let range = |key: u16, min: Version, max: Version| ApiVersionKey {
        api_key: key as i16,
        min_version: min,
        max_version: max,
    };
    vec![
        range(keys::CREATE, CreateRequest::MIN_VERSION, CreateRequest::MAX_VERSION),
        range(keys::DELETE, DeleteRequest::MIN_VERSION, DeleteRequest::MAX_VERSION),
        range(keys::LIST, ListRequest::MIN_VERSION, ListRequest::MAX_VERSION),
        range(keys::WATCH, WatchRequest::MIN_VERSION, WatchRequest::MAX_VERSION),
        range(keys::UPDATE, UpdateRequest::MIN_VERSION, UpdateRequest::MAX_VERSION),
    ]
}

fn unsupported_kind(label: &str) -> String {
    match label {
        labels::CUSTOM_SPU | labels::SPU_GROUP | labels::SMART_MODULE | labels::TABLE_FORMAT | labels::MIRROR => {
            format!("{label} objects are not supported by fluvio-local")
        }
        _ => "unknown admin object type".to_string(),
    }
}

impl RequestHandler for ScConnection {
    async fn handle(&mut self, header: RequestHeader, body: Bytes, sink: &FrameSink) -> Result<(), CloseReason> {
        let (correlation_id, version) = (header.correlation_id, header.api_version);
        match header.api_key {
            api::API_VERSIONS_KEY => {
                // A version outside 0..=2 (-1 included) closes the connection, as every other
                // unsupported version does; the official SC refuses such requests too (its
                // required semver client_version exists from version 1 on). Lenient about the
                // client_version itself: the official SC refuses non-semver values.
                net::check_version(&header, ApiVersionsRequest::MIN_VERSION, ApiVersionsRequest::MAX_VERSION)?;
                let _request: ApiVersionsRequest = net::decode_body(&header, body)?;
                let response = ApiVersionsResponse {
                    error_code: ErrorCode::None,
                    api_keys: advertised_versions(),
                    platform_version: PLATFORM_VERSION.into(),
                };
                sink.respond(correlation_id, version, &response).await?;
            }
            keys::CREATE => {
                net::check_version(&header, CreateRequest::MIN_VERSION, CreateRequest::MAX_VERSION)?;
                let request: CreateRequest = net::decode_body(&header, body)?;
                // Answered in turn, as the official SC answers each connection's requests: a
                // creation waiting for provisioning holds up the requests behind it (watches
                // already open keep streaming).
                let created = async {
                    match request.object {
                        CreateObject::Topic(spec) => self.sc.create_topic(&request.common, spec).await,
                        CreateObject::Other { label, .. } => Status::error(
                            request.common.name,
                            ErrorCode::Other(unsupported_kind(&label)),
                            unsupported_kind(&label),
                        ),
                    }
                };
                let status = tokio::select! {
                    status = created => status,
                    _ = sink.closed() => return Ok(()),
                };
                sink.respond(correlation_id, version, &status).await?;
            }
            keys::DELETE => {
                net::check_version(&header, DeleteRequest::MIN_VERSION, DeleteRequest::MAX_VERSION)?;
                let request: DeleteRequest = net::decode_body(&header, body)?;
                let status = match request {
                    DeleteRequest::Topic { name, force } => self.sc.delete_topic(&name, force),
                    DeleteRequest::Other(envelope) => {
                        let name = String::decode(&mut envelope.payload.clone(), version).unwrap_or_default();
                        let message = unsupported_kind(&envelope.label);
                        Status::error(name, ErrorCode::Other(message.clone()), message)
                    }
                };
                sink.respond(correlation_id, version, &status).await?;
            }
            keys::LIST => {
                net::check_version(&header, ListRequest::MIN_VERSION, ListRequest::MAX_VERSION)?;
                let request: ListRequest = net::decode_body(&header, body)?;
                let response = self.list(&request);
                sink.respond(correlation_id, version, &response).await?;
            }
            keys::WATCH => {
                net::check_version(&header, WatchRequest::MIN_VERSION, WatchRequest::MAX_VERSION)?;
                let request: WatchRequest = net::decode_body(&header, body)?;
                let sc = self.sc.clone();
                let sink = sink.clone();
                match request.label.as_str() {
                    labels::TOPIC => {
                        self.sc.tasks.spawn(watch::<TopicSpec>(sc, sink, correlation_id, version, WatchResponse::Topic))
                    }
                    labels::PARTITION => self.sc.tasks.spawn(watch::<PartitionSpec>(
                        sc,
                        sink,
                        correlation_id,
                        version,
                        WatchResponse::Partition,
                    )),
                    labels::SPU => {
                        self.sc.tasks.spawn(watch::<SpuSpec>(sc, sink, correlation_id, version, WatchResponse::Spu))
                    }
                    // Kinds this cluster has none of: one empty full sync, then nothing.
                    other => {
                        let empty = WatchResponse::empty(other, sc.store().epoch());
                        sink.respond(correlation_id, version, &empty).await?;
                        return Ok(());
                    }
                };
            }
            keys::UPDATE => {
                net::check_version(&header, UpdateRequest::MIN_VERSION, UpdateRequest::MAX_VERSION)?;
                let request: UpdateRequest = net::decode_body(&header, body)?;
                let updated = async {
                    match request {
                        UpdateRequest::Topic { name, action } => self.sc.update_topic(&name, action).await,
                        UpdateRequest::Other(envelope) => {
                            let message = unsupported_kind(&envelope.label);
                            Status::error("", ErrorCode::Other(message.clone()), message)
                        }
                    }
                };
                let status = tokio::select! {
                    status = updated => status,
                    _ = sink.closed() => return Ok(()),
                };
                sink.respond(correlation_id, version, &status).await?;
            }
            other => return Err(CloseReason::UnknownApi(other)),
        }
        Ok(())
    }
}

impl ScConnection {
    fn list(&self, request: &ListRequest) -> ListResponse {
        let filters = &request.filters;
        let name_matches = |name: &str| {
            filters.name_filters.is_empty() || filters.name_filters.iter().any(|f| name.contains(f.name.as_str()))
        };
        let store = self.sc.store();
        match request.label.as_str() {
            labels::TOPIC => ListResponse::Topic(
                store
                    .all::<TopicSpec>()
                    .into_iter()
                    .filter(|t| t.spec.system == filters.system && name_matches(&t.name))
                    .collect(),
            ),
            // As the official SC: partition lists ignore name filters.
            labels::PARTITION => ListResponse::Partition(
                store.all::<PartitionSpec>().into_iter().filter(|p| p.spec.system == filters.system).collect(),
            ),
            labels::SPU => {
                ListResponse::Spu(store.all::<SpuSpec>().into_iter().filter(|s| name_matches(&s.name)).collect())
            }
            other => ListResponse::empty(other),
        }
    }
}

/// Streams a full sync of kind `S`, then every change, until the connection closes. Changes
/// already queued are sent together in one delta; a watcher that fell too far behind gets a
/// new full sync, which replaces its cache.
async fn watch<S: Stored>(
    sc: Arc<Sc>,
    sink: FrameSink,
    correlation_id: i32,
    version: Version,
    wrap: fn(MetadataUpdate<S>) -> WatchResponse,
) {
    'resync: loop {
        let (epoch, all, mut events) = sc.store().snapshot_and_subscribe::<S>();
        let full_sync = wrap(MetadataUpdate { epoch, changes: Vec::new(), all });
        if sink.respond(correlation_id, version, &full_sync).await.is_err() {
            return;
        }
        loop {
            let first = tokio::select! {
                event = events.recv() => event,
                _ = sink.closed() => return,
            };
            let mut changes = Vec::new();
            let mut epoch = 0;
            let mut next = first;
            loop {
                match next {
                    Ok(event) => {
                        let (event_epoch, event) = &*event;
                        if let Some((kind, object)) = S::from_event(event) {
                            changes.push(Change { kind, object: object.clone() });
                            epoch = *event_epoch;
                        }
                    }
                    Err(RecvError::Lagged(_)) => continue 'resync,
                    Err(RecvError::Closed) => return,
                }
                match events.try_recv() {
                    Ok(event) => next = Ok(event),
                    Err(tokio::sync::broadcast::error::TryRecvError::Lagged(n)) => next = Err(RecvError::Lagged(n)),
                    Err(_) => break,
                }
            }
            if !changes.is_empty() {
                let delta = wrap(MetadataUpdate { epoch, changes, all: Vec::new() });
                if sink.respond(correlation_id, version, &delta).await.is_err() {
                    return;
                }
            }
        }
    }
}
