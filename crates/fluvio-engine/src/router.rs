//! The router behind a client: one connection to the SC, one per SPU, the metadata caches the
//! SC's watches keep current, and the lookups that take a topic or a partition to the
//! connection serving it. The facade (`client.rs`), the admin API, producers and consumers all
//! use it; it uses none of them.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use fluvio_wire::sc::partition::{partition_name, split_partition_name};
use fluvio_wire::sc::spu::SpuSpec;
use fluvio_wire::sc::{
    ListFilter, ListFilters, ListRequest, ListResponse, Metadata, MetadataUpdate, TopicSpec, WatchParams, WatchRequest,
    WatchResponse, labels,
};
use tokio_util::sync::CancellationToken;
use tracing::{debug, warn};

use crate::config::ClientConfig;
use crate::error::{Error, ErrorKind, Result};
use crate::metadata::{Logged, MetadataCache, Store};
use crate::socket::{Connection, Role, SC_VERSION};
use crate::tls::TlsConnector;

struct SpuSlot {
    addr: String,
    connection: Arc<Connection>,
}

/// The connection to one SPU, and the attempts to open it.
#[derive(Default)]
struct SpuEntry {
    slot: tokio::sync::Mutex<Option<SpuSlot>>,
    attempts: Attempts,
}

/// Failed attempts to connect to one server. Connecting is serialized per server, so callers
/// queued behind an attempt that fails take its failure as theirs instead of each waiting one
/// more connect timeout: no call waits much longer than the configured connect timeout.
#[derive(Default)]
struct Attempts(parking_lot::Mutex<(u64, Option<(String, Error)>)>);

impl Attempts {
    /// Number of failed attempts so far.
    fn failures(&self) -> u64 {
        self.0.lock().0
    }

    /// The latest failure to reach `addr`, if it happened after `failures` were counted.
    fn failed_since(&self, failures: u64, addr: &str) -> Option<Error> {
        match &*self.0.lock() {
            (count, Some((failed, error))) if *count != failures && failed == addr => Some(error.clone()),
            _ => None,
        }
    }

    fn record(&self, addr: &str, failure: &Error) {
        let mut state = self.0.lock();
        *state = (state.0 + 1, Some((addr.to_string(), failure.clone())));
    }
}

/// State shared by a client and everything made from it.
pub(crate) struct ClientInner {
    pub(crate) config: ClientConfig,
    /// Plain or TLS, with the certificates read once at connect.
    tls: TlsConnector,
    pub(crate) platform_version: String,
    sc: tokio::sync::Mutex<Option<Arc<Connection>>>,
    sc_attempts: Attempts,
    spus: parking_lot::Mutex<HashMap<i32, Arc<SpuEntry>>>,
    pub(crate) metadata: MetadataCache,
    pub(crate) shutdown: CancellationToken,
    /// Set with `shutdown`: checked for every record sent, where the token's own check
    /// would take its lock.
    closed: AtomicBool,
    /// The totals of every producer and stream of this client.
    pub(crate) metrics: Arc<crate::metrics::Metrics>,
}

impl Drop for ClientInner {
    fn drop(&mut self) {
        self.closed.store(true, Ordering::Release);
        self.shutdown.cancel();
    }
}

impl ClientInner {
    /// Connects to the SC and starts watching its metadata. Certificates and keys are read
    /// here, once: unreadable or invalid ones are [`ErrorKind::Config`].
    pub(crate) async fn connect(config: ClientConfig) -> Result<Arc<Self>> {
        config.validate()?;
        let tls = TlsConnector::new(config.tls())?;
        let sc_name = tls.sc_server_name(config.endpoint());
        let shutdown = CancellationToken::new();
        let sc = Connection::connect(config.endpoint(), &config, &tls, Role::Sc, &sc_name, &shutdown).await?;
        let inner = Arc::new(Self {
            platform_version: sc.platform_version().to_string(),
            config,
            tls,
            sc: tokio::sync::Mutex::new(Some(sc)),
            sc_attempts: Attempts::default(),
            spus: parking_lot::Mutex::new(HashMap::new()),
            metadata: MetadataCache::new(),
            shutdown,
            closed: AtomicBool::new(false),
            metrics: Arc::default(),
        });
        let weak = Arc::downgrade(&inner);
        tokio::spawn(watch_loop(
            weak.clone(),
            inner.shutdown.clone(),
            labels::SPU,
            |c| &c.spus,
            |r| match r {
                WatchResponse::Spu(update) => Some(update),
                _ => None,
            },
        ));
        tokio::spawn(watch_loop(
            weak.clone(),
            inner.shutdown.clone(),
            labels::PARTITION,
            |c| &c.partitions,
            |r| match r {
                WatchResponse::Partition(update) => Some(update),
                _ => None,
            },
        ));
        tokio::spawn(watch_loop(
            weak,
            inner.shutdown.clone(),
            labels::TOPIC,
            |c| &c.topics,
            |r| match r {
                WatchResponse::Topic(update) => Some(update),
                _ => None,
            },
        ));
        Ok(inner)
    }

    pub(crate) fn ensure_open(&self) -> Result<()> {
        if self.closed.load(Ordering::Acquire) { Err(Error::closed("the client")) } else { Ok(()) }
    }

    /// Closes every connection and stops the watches. Idempotent.
    pub(crate) async fn close(&self) {
        self.closed.store(true, Ordering::Release);
        // Every connection this client opened is a child of `shutdown` (see `open`): this
        // closes them all, the shared ones below included; what is left is to let go of them.
        self.shutdown.cancel();
        self.sc.lock().await.take();
        self.spus.lock().clear();
    }

    /// Opens a connection to `addr` for `role`, closed when the client closes.
    async fn open(&self, addr: &str, role: Role, server_name: &str) -> Result<Arc<Connection>> {
        Connection::connect(addr, &self.config, &self.tls, role, server_name, &self.shutdown).await
    }

    /// The SC connection, replaced if it broke.
    pub(crate) async fn sc(&self) -> Result<Arc<Connection>> {
        self.ensure_open()?;
        let failures_before = self.sc_attempts.failures();
        let mut guard = self.sc.lock().await;
        if let Some(connection) = guard.as_ref().filter(|c| !c.is_closed()) {
            return Ok(connection.clone());
        }
        let addr = self.config.endpoint();
        if let Some(failure) = self.sc_attempts.failed_since(failures_before, addr) {
            return Err(failure);
        }
        let connection = self
            .open(addr, Role::Sc, &self.tls.sc_server_name(addr))
            .await
            .inspect_err(|err| self.sc_attempts.record(addr, err))?;
        self.ensure_open()?;
        *guard = Some(connection.clone());
        Ok(connection)
    }

    /// A new SC connection for one caller (closed when dropped), for a request the SC may hold
    /// for long: an SC answers each connection's requests in turn, so a Create waiting for
    /// provisioning would hold up every request behind it on the shared connection.
    pub(crate) async fn exclusive_sc(&self) -> Result<Arc<Connection>> {
        self.ensure_open()?;
        let addr = self.config.endpoint();
        self.open(addr, Role::Sc, &self.tls.sc_server_name(addr)).await
    }

    /// The connection to SPU `id`, opened or replaced as needed (also when the SPU's
    /// endpoint changed).
    pub(crate) async fn spu(&self, id: i32) -> Result<Arc<Connection>> {
        self.ensure_open()?;
        let spu = self.spu_metadata(id).await?;
        let addr = self.spu_address(&spu)?;
        let entry = self.spus.lock().entry(id).or_default().clone();
        let failures_before = entry.attempts.failures();
        let mut guard = entry.slot.lock().await;
        if let Some(existing) = guard.as_ref() {
            if existing.addr == addr && !existing.connection.is_closed() {
                return Ok(existing.connection.clone());
            }
            existing.connection.close();
        }
        if let Some(failure) = entry.attempts.failed_since(failures_before, &addr) {
            return Err(failure);
        }
        let server_name = self.tls.spu_server_name(&spu.name, &addr);
        let connection =
            self.open(&addr, Role::Spu, &server_name).await.inspect_err(|err| entry.attempts.record(&addr, err))?;
        self.ensure_open()?;
        *guard = Some(SpuSlot { addr, connection: connection.clone() });
        Ok(connection)
    }

    /// A fresh SPU connection not shared with anything else (closed when dropped).
    pub(crate) async fn dedicated_spu_connection(&self, id: i32) -> Result<Arc<Connection>> {
        self.ensure_open()?;
        let spu = self.spu_metadata(id).await?;
        let addr = self.spu_address(&spu)?;
        let server_name = self.tls.spu_server_name(&spu.name, &addr);
        self.open(&addr, Role::Spu, &server_name).await
    }

    fn spu_address(&self, spu: &Metadata<SpuSpec>) -> Result<String> {
        if self.config.use_spu_local_address()
            && let Some(local) = &spu.spec.public_endpoint_local
        {
            return Ok(format!("{}:{}", local.host, local.port));
        }
        spu.spec
            .public_endpoint
            .address()
            .ok_or_else(|| Error::new(ErrorKind::Protocol, format!("SPU {} advertises no public address", spu.spec.id)))
    }

    async fn spu_metadata(&self, id: i32) -> Result<Metadata<SpuSpec>> {
        self.wait_synced(&self.metadata.spus, "SPU").await?;
        if let Some(spu) = self.metadata.spus.find(|s| s.spec.id == id) {
            return Ok(spu);
        }
        // Just registered SPUs may not have reached the watch yet.
        self.wait_for(&self.metadata.spus, |store| store.find(|s| s.spec.id == id))
            .await
            .ok_or_else(|| Error::new(ErrorKind::Server, format!("SPU {id} is not known to the SC")))
    }

    async fn wait_synced<S: Logged>(&self, store: &Store<S>, what: &str) -> Result<()> {
        if store.wait_synced(self.config.request_timeout()).await {
            Ok(())
        } else {
            Err(Error::new(
                ErrorKind::Timeout,
                format!("no {what} metadata from the SC within {:?}", self.config.request_timeout()),
            ))
        }
    }

    /// Waits (up to the request timeout) until `probe` finds something in `store`.
    async fn wait_for<S: Logged, T>(&self, store: &Store<S>, probe: impl Fn(&Store<S>) -> Option<T>) -> Option<T> {
        let mut changes = store.subscribe();
        let deadline = tokio::time::Instant::now() + self.config.request_timeout();
        loop {
            if let Some(found) = probe(store) {
                return Some(found);
            }
            match tokio::time::timeout_at(deadline, changes.changed()).await {
                Ok(Ok(())) => continue,
                _ => return probe(store),
            }
        }
    }

    /// A topic's metadata. A topic missing from the cache is looked up directly on the SC
    /// before being reported missing, so a watch that lags behind a just-created topic cannot
    /// cause a false "not found".
    pub(crate) async fn topic(&self, name: &str) -> Result<Metadata<TopicSpec>> {
        self.ensure_open()?;
        self.wait_synced(&self.metadata.topics, "topic").await?;
        if let Some(topic) = self.metadata.topics.get(name) {
            return Ok(topic);
        }
        let sc = self.sc().await?;
        let request = ListRequest {
            label: labels::TOPIC.into(),
            filters: ListFilters {
                name_filters: vec![ListFilter { name: name.into() }],
                summary: false,
                system: false,
            },
        };
        let ListResponse::Topic(topics) = sc.request(&request, SC_VERSION).await? else {
            return Err(Error::new(ErrorKind::Protocol, "the SC answered a topic list with another kind"));
        };
        match topics.into_iter().find(|t| t.name == name) {
            Some(topic) => {
                self.metadata.topics.insert(vec![topic.clone()]);
                Ok(topic)
            }
            None => Err(Error::new(ErrorKind::TopicNotFound, format!("topic '{name}' not found"))),
        }
    }

    /// The leader SPU id of a partition. A partition without a leader (during an election)
    /// is a retriable [`ErrorKind::NotLeader`], not a wait for an SPU that does not exist.
    pub(crate) async fn partition_leader(&self, topic: &str, partition: u32) -> Result<i32> {
        self.wait_synced(&self.metadata.partitions, "partition").await?;
        let name = partition_name(topic, partition);
        if let Some(found) = self.metadata.partitions.get(&name) {
            return leader_of(&name, found.spec.leader);
        }
        let topic_metadata = self.topic(topic).await?;
        let count = topic_metadata.spec.replicas.partition_count();
        if partition >= count {
            return Err(Error::new(
                ErrorKind::PartitionNotFound,
                format!("topic '{topic}' has {count} partitions; partition {partition} does not exist"),
            ));
        }
        let found = self.wait_for(&self.metadata.partitions, |store| store.get(&name)).await.ok_or_else(|| {
            Error::new(ErrorKind::Timeout, format!("partition {name} did not appear within the request timeout"))
        })?;
        leader_of(&name, found.spec.leader)
    }

    /// Asks the SC for the current partitions of `topic` and updates the cache, for when a
    /// leader just changed and the watch has not caught up. Failures are ignored: the watch
    /// remains the source of truth.
    pub(crate) async fn refresh_partitions(&self, topic: &str) {
        let Ok(sc) = self.sc().await else { return };
        let of_topic = |name: &str| split_partition_name(name).is_some_and(|(t, _)| t == topic);
        let before = self.metadata.partitions.snapshot(|p| of_topic(&p.name));
        // The system topic's partitions are listed only when asked for.
        let system = topic == fluvio_wire::consumer_offset::CONSUMER_OFFSET_TOPIC;
        let request =
            ListRequest { label: labels::PARTITION.into(), filters: ListFilters { system, ..ListFilters::default() } };
        if let Ok(ListResponse::Partition(partitions)) = sc.request(&request, SC_VERSION).await {
            let mine: Vec<_> = partitions.into_iter().filter(|p| of_topic(&p.name)).collect();
            self.metadata.partitions.insert_unless_changed(mine, &before);
        }
    }

    /// The connection to a partition's current leader.
    pub(crate) async fn leader_connection(&self, topic: &str, partition: u32) -> Result<Arc<Connection>> {
        let leader = self.partition_leader(topic, partition).await?;
        self.spu(leader).await
    }
}

/// A partition's leader as its spec names it: SPU ids are never negative, so a negative one
/// means that no leader is assigned.
fn leader_of(name: &str, leader: i32) -> Result<i32> {
    if leader < 0 {
        return Err(Error::new(ErrorKind::NotLeader, format!("partition {name} has no leader")));
    }
    Ok(leader)
}

/// Keeps one store in sync with the SC, re-watching whenever the stream ends.
async fn watch_loop<S: Logged>(
    client: Weak<ClientInner>,
    shutdown: CancellationToken,
    label: &'static str,
    store: fn(&MetadataCache) -> &Store<S>,
    extract: fn(WatchResponse) -> Option<MetadataUpdate<S>>,
) {
    let mut delay = Duration::from_millis(50);
    loop {
        let Some(inner) = client.upgrade() else { return };
        let connection = tokio::select! {
            connection = inner.sc() => connection,
            _ = shutdown.cancelled() => return,
        };
        drop(inner);
        let request = WatchRequest { label: label.into(), params: WatchParams { epoch: 0, summary: false } };
        let stream = connection.and_then(|c| c.open_stream(&request, SC_VERSION));
        match stream {
            Ok(mut stream) => {
                let mut first = true;
                loop {
                    let message = tokio::select! {
                        message = stream.next() => message,
                        _ = shutdown.cancelled() => return,
                    };
                    match message {
                        None => break,
                        Some(Err(err)) => {
                            warn!(label, %err, "bad watch message; watching again");
                            break;
                        }
                        Some(Ok(response)) => {
                            let Some(update) = extract(response) else { continue };
                            let Some(inner) = client.upgrade() else { return };
                            store(&inner.metadata).apply(update, first);
                            first = false;
                            delay = Duration::from_millis(50);
                        }
                    }
                }
                debug!(label, "watch stream ended; watching again");
            }
            Err(err) => debug!(label, %err, "cannot watch; retrying"),
        }
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = shutdown.cancelled() => return,
        }
        delay = (delay * 2).min(Duration::from_secs(2));
    }
}

#[cfg(test)]
mod tests {
    use fluvio_local::{ClusterConfig, LocalCluster};

    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn closing_the_client_closes_at_once_the_connections_others_still_hold() {
        let dir = tempfile::tempdir().unwrap();
        let cluster = LocalCluster::start(ClusterConfig::new(dir.path()).spus(1)).await.unwrap();
        let client = ClientInner::connect(ClientConfig::new(cluster.sc_endpoint())).await.unwrap();
        let spu = cluster.spu_addrs()[0].0;
        // What a stream session and a long admin request hold: connections of their own,
        // outside the client's shared ones.
        let dedicated = client.dedicated_spu_connection(spu).await.unwrap();
        let exclusive = client.exclusive_sc().await.unwrap();
        let shared = client.spu(spu).await.unwrap();
        assert!(!dedicated.is_closed() && !exclusive.is_closed() && !shared.is_closed());

        client.close().await;
        // Closed when close() returns, not whenever their holders let go: a server that
        // closes them afterwards (a test's cluster shutting down) is not a connection lost.
        assert!(dedicated.is_closed(), "the stream's connection");
        assert!(exclusive.is_closed(), "the exclusive SC connection");
        assert!(shared.is_closed(), "the shared SPU connection");
        cluster.shutdown().await;
    }
}
